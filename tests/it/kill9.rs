//! `kill -9` of the binary at random points of upgrade, install, rollback and uninstall, then a
//! plain rerun (issues 10 and 20): the rerun must converge and the release history must stay
//! intact, wherever the kill landed.
//!
//! One sweep driver serves every verb: a timed unkilled run of the same command (its `-v 4` log
//! dates the steps and every write request), kill delays drawn from it (half uniformly over
//! [0, 1.2 × the run], half at one of its writes ± 25 ms, since waits are most of a run's wall
//! time), SIGKILL, a look at the cluster right after (the phase the kill hit: before the lock,
//! locked, recorded, in a pre or post hook, applying k/N, waiting, deployed with the lock not
//! released, exited), then the same command once more, plainly: no flag, the default lease, no
//! retry. When the dead run's lock was there, the rerun must say it took it over from that run
//! (it watches the lease for one lease duration, sees no renewal, takes it) and name the
//! revision it marked interrupted. History must then be intact (no gap, one `deployed`, no
//! `pending-*`, older revisions unchanged, the killed one `failed`/"interrupted" or
//! `superseded`) and no ConfigMap may hold a Secret value, even decoded. How long the reruns
//! took is printed, not asserted (the machine is shared). Seeds are printed; `KC_KILL_SEED=N`
//! replays the same draws (where a delay lands still depends on the machine's speed).
//!
//! The upgrade sweep: one release of a generated chart (40 ConfigMaps, 10 Deployments and a
//! Secret, every object driven by the values, so each upgrade changes all of them and rolls
//! every Deployment) upgraded 20 times with `--wait`; after each rerun the live objects equal
//! the chart rendered for the rerun's values and are rolled out, and objects the dead run
//! already wrote are not written again.
//!
//! The install/rollback/uninstall sweep: a small chart with pre and post hook Jobs, 20 kills per
//! verb (`KC_KILL_VERB_RUNS`), each with or without `--wait`, the three verbs in parallel, each
//! in its own namespace; install and rollback end deployed with the killed run's values,
//! uninstall leaves nothing (objects, records, lock, key Secret).

use std::{
    collections::BTreeMap,
    fs::File,
    io::{BufRead, BufReader, Read},
    path::PathBuf,
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

use crate::support::k8s::{Kit, TestNamespace};
use base64::{engine::general_purpose::STANDARD, Engine};
use kubectl_chart::cluster::{Cluster, Gvk};
use rand::{rngs::StdRng, Rng, SeedableRng};
use serde_json::Value;

const RELEASE: &str = "k9";
const RUNS: usize = 20;
const CONFIGMAPS: usize = 40;
const DEPLOYMENTS: usize = 10;
/// ConfigMaps, Deployments and the Secret.
const OBJECTS: usize = CONFIGMAPS + DEPLOYMENTS + 1;
/// The default lease duration (seconds), passed explicitly so the test states it: a rerun
/// watches a dead run's lease this long before taking it over.
const LOCK_TTL: &str = "10";

// ---- the chart -------------------------------------------------------------------------------

const VALUES_YAML: &str = "token: init
payload: alpha
replicas: 1
image: nginx:1.25
brokenIndex: -1
secretValue: changeme
";

const CONFIGMAPS_YAML: &str = r#"{{- range $i := until 40 }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm-{{ $i }}
data:
  token: {{ $.Values.token | quote }}
  index: {{ $i | quote }}
  payload: {{ printf "%s-%d" $.Values.payload $i | quote }}
{{- end }}
"#;

const DEPLOYMENTS_YAML: &str = r#"{{- range $i := until 10 }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-{{ $i }}
spec:
  replicas: {{ $.Values.replicas }}
  revisionHistoryLimit: 2
  selector:
    matchLabels:
      app: web-{{ $i }}
  template:
    metadata:
      labels:
        app: web-{{ $i }}
      annotations:
        kill9/token: {{ $.Values.token | quote }}
    spec:
      containers:
        - name: web
          image: {{ if eq $i (int $.Values.brokenIndex) }}example/fail:{{ $.Values.token }}{{ else }}{{ $.Values.image }}{{ end }}
          env:
            - name: TOKEN
              value: {{ $.Values.token | quote }}
            - name: PASSWORD
              valueFrom:
                secretKeyRef:
                  name: creds
                  key: password
{{- end }}
"#;

const SECRET_YAML: &str = r#"apiVersion: v1
kind: Secret
metadata:
  name: creds
type: Opaque
data:
  password: {{ .Values.secretValue | b64enc | quote }}
"#;

fn write_chart() -> PathBuf {
    let root = std::env::temp_dir().join(format!(
        "kc-kill9-{}-{:08x}/chart",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(root.join("templates")).expect("chart dir");
    let files = [
        ("Chart.yaml", "apiVersion: v2\nname: kill9\nversion: 0.1.0\n"),
        ("values.yaml", VALUES_YAML),
        ("templates/configmaps.yaml", CONFIGMAPS_YAML),
        ("templates/deployments.yaml", DEPLOYMENTS_YAML),
        ("templates/secret.yaml", SECRET_YAML),
    ];
    for (path, text) in files {
        std::fs::write(root.join(path), text).expect("chart file");
    }
    root
}

/// One value set. `broken` puts an image containing `fail` into one Deployment, whose rollout
/// then never completes: a killed run with it is rerun with the same values minus the breakage
/// (the user fixed the image), since the same values could only time out again.
#[derive(Debug, Clone)]
struct Values {
    set: &'static str,
    token: String,
    payload: &'static str,
    replicas: u32,
    image: &'static str,
    broken: bool,
    secret: String,
}

impl Values {
    fn args(&self) -> Vec<String> {
        let mut a = Vec::new();
        let mut set = |flag: &str, kv: String| {
            a.push(flag.to_string());
            a.push(kv);
        };
        set("--set-string", format!("token={}", self.token));
        set("--set-string", format!("payload={}", self.payload));
        set("--set", format!("replicas={}", self.replicas));
        set("--set-string", format!("image={}", self.image));
        set(
            "--set",
            format!("brokenIndex={}", if self.broken { 3 } else { -1 }),
        );
        set("--set-string", format!("secretValue={}", self.secret));
        a
    }
    fn fixed(&self) -> Values {
        Values {
            broken: false,
            ..self.clone()
        }
    }
}

/// The three good value sets and the broken one, drawn by the seeded generator.
fn draw_values(rng: &mut StdRng, token: String) -> Values {
    let secret = format!("pw-{:016x}", rng.gen::<u64>());
    let (set, payload, replicas, image, broken) = match rng.gen_range(0..10) {
        0..=2 => ("A", "alpha", 1, "nginx:1.25", false),
        3..=5 => ("B", "beta", 2, "nginx:1.27", false),
        6..=7 => ("C", "gamma", 1, "busybox:1.36", false),
        _ => ("F", "alpha", 1, "nginx:1.25", true),
    };
    Values {
        set,
        token,
        payload,
        replicas,
        image,
        broken,
        secret,
    }
}

// ---- running the binary ----------------------------------------------------------------------

struct Env<'a> {
    kit: &'a Kit,
    ns: String,
    chart: PathBuf,
}

impl Env<'_> {
    fn cmd(&self, args: &[&str]) -> Command {
        crate::support::cli::command(&self.kit.kubeconfig, &self.ns, LOCK_TTL, args)
    }
    fn run(&self, args: &[&str]) -> Output {
        crate::support::cli::run(self.cmd(args))
    }
    fn ok(&self, args: &[&str]) -> String {
        crate::support::cli::succeeded(args, &self.run(args))
    }
    /// `upgrade RELEASE CHART --wait` with `values` and `extra` flags; unlimited history so
    /// every revision stays checkable.
    fn upgrade(&self, values: &Values, extra: &[&str]) -> Command {
        let chart = self.chart.to_string_lossy().into_owned();
        let mut args: Vec<String> = ["upgrade", RELEASE, &chart, "--wait", "--timeout", "60s"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        args.extend(["--history-max".to_string(), "0".to_string()]);
        args.extend(values.args());
        args.extend(extra.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        self.cmd(&refs)
    }
    /// What the chart renders for `values`, one JSON value per document.
    fn render(&self, values: &Values) -> Vec<Value> {
        let chart = self.chart.to_string_lossy().into_owned();
        let mut args = vec!["template".to_string(), RELEASE.to_string(), chart];
        args.extend(values.args());
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        parse_docs(&self.ok(&refs), "template")
    }
    fn manifest(&self, revision: u32) -> Vec<Value> {
        let rev = revision.to_string();
        let out = self.ok(&["get", "manifest", RELEASE, "--revision", &rev]);
        parse_docs(&out, &format!("get manifest --revision {rev}"))
    }
    /// `history -o json`, which decrypts every revision's record: each must still be readable.
    fn history(&self) -> (Vec<Rev>, String) {
        self.history_of(RELEASE)
    }
    /// [`Env::history`] of another release.
    fn history_of(&self, release: &str) -> (Vec<Rev>, String) {
        let out = self.ok(&["history", release, "-o", "json"]);
        let v: Value = serde_json::from_str(&out).expect("history json");
        let revs = v
            .as_array()
            .expect("history array")
            .iter()
            .map(|r| Rev {
                revision: r["revision"].as_u64().expect("revision") as u32,
                status: r["status"].as_str().expect("status").to_string(),
                description: r["description"].as_str().unwrap_or("").to_string(),
            })
            .collect();
        (revs, out)
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Rev {
    revision: u32,
    status: String,
    description: String,
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn parse_docs(text: &str, what: &str) -> Vec<Value> {
    let mut docs: Vec<Value> = kubectl_chart::yaml::parse_documents(text, what)
        .unwrap_or_else(|e| panic!("{what}: {e}"))
        .into_iter()
        .filter(|d| !d.is_null())
        .collect();
    docs.sort_by_key(key_of);
    docs
}

fn key_of(obj: &Value) -> (String, String) {
    (
        obj["kind"].as_str().unwrap_or("").to_string(),
        obj["metadata"]["name"].as_str().unwrap_or("").to_string(),
    )
}

/// Runs `cmd` to its end, and notes when (since `started`) its stderr said it took a lock over:
/// the time the dead run's lock cost, apart from the upgrade's own work and wait.
fn run_timing_takeover(mut cmd: Command, started: Instant) -> (Output, Option<Duration>) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the rerun");
    let mut stdout = child.stdout.take().expect("stdout");
    let out_reader = std::thread::spawn(move || {
        let mut b = Vec::new();
        stdout.read_to_end(&mut b).expect("read stdout");
        b
    });
    let mut err = Vec::new();
    let mut took_over = None;
    for line in BufReader::new(child.stderr.take().expect("stderr")).split(b'\n') {
        let line = line.expect("read stderr");
        if took_over.is_none() && text(&line).contains("took over the lock") {
            took_over = Some(started.elapsed());
        }
        err.extend_from_slice(&line);
        err.push(b'\n');
    }
    let status = child.wait().expect("wait for the rerun");
    let stdout = out_reader.join().expect("stdout reader");
    (
        Output {
            status,
            stdout,
            stderr: err,
        },
        took_over,
    )
}

// ---- the sweep driver, shared by every verb ------------------------------------------------------

/// One unkilled run of a verb, dated from its `-v 4` log: the debug log's steps (`rendered`,
/// `planned`, `pending revision recorded`), the first hook and readiness lines, and every write
/// request it sent (lock renewals aside: they come every 2 s whatever the run is doing).
struct Timeline {
    steps: Vec<(String, Duration)>,
    writes: Vec<Duration>,
    exit: Duration,
}

impl Timeline {
    fn describe(&self) -> String {
        let mut parts: Vec<String> = self
            .steps
            .iter()
            .map(|(step, t)| format!("{step} {} ms", t.as_millis()))
            .collect();
        if let (Some(first), Some(last)) = (self.writes.first(), self.writes.last()) {
            parts.push(format!(
                "{} writes from {} to {} ms",
                self.writes.len(),
                first.as_millis(),
                last.as_millis()
            ));
        }
        parts.push(format!("exit {} ms", self.exit.as_millis()));
        parts.join(", ")
    }
}

/// Runs `cmd` (which must carry `-v 4`) to its end and dates what it did; see [`Timeline`].
fn timed_run(mut cmd: Command, what: &str) -> Timeline {
    const STEPS: [&str; 3] = ["rendered", "planned", "pending revision recorded"];
    let started = Instant::now();
    let mut child = cmd
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the timed run");
    let stderr = child.stderr.take().expect("stderr");
    let (mut steps, mut writes) = (Vec::new(), Vec::new());
    let mut log = String::new();
    let note = |steps: &mut Vec<(String, Duration)>, step: &str, at| {
        if !steps.iter().any(|(s, _)| s == step) {
            steps.push((step.to_string(), at));
        }
    };
    for line in BufReader::new(stderr).lines() {
        let line = line.expect("read stderr");
        let at = started.elapsed();
        if line.contains("kubectl_chart::action::") {
            if let Some(step) = STEPS.iter().find(|s| line.contains(&format!(" {s} "))) {
                note(&mut steps, step, at);
            }
        } else if line.contains("http.method=") && line.ends_with("requesting") {
            let write = ["POST", "PATCH", "PUT", "DELETE"]
                .iter()
                .any(|m| line.contains(&format!("http.method={m} ")));
            let renewal = line.contains("http.method=PATCH") && line.contains(".lock?");
            if write && !renewal {
                writes.push(at);
            }
        } else if line.starts_with("hook ") {
            note(&mut steps, "first hook", at);
        } else if line.starts_with("waiting:") || line.starts_with("ready:") {
            note(&mut steps, "first readiness line", at);
        }
        log.push_str(&line);
        log.push('\n');
    }
    let status = child.wait().expect("wait");
    assert!(status.success(), "unkilled {what}: {status}\n{log}");
    assert!(!writes.is_empty(), "unkilled {what} wrote nothing:\n{log}");
    steps.sort_by_key(|(_, t)| *t);
    Timeline {
        steps,
        writes,
        exit: started.elapsed(),
    }
}

/// When to kill one run, drawn from a timeline of the same command.
struct Draw {
    delay: Duration,
    /// Drawn at one of the timeline's writes rather than over the whole run.
    at_write: bool,
}

/// Half the kills are drawn uniformly over [0, 1.2 × the unkilled run] (so some land after it
/// would have exited); the other half at one of its writes, picked uniformly, ± 25 ms: waits
/// (rollouts, hook Jobs, lock takeovers) are most of a run's wall time, so the whole range alone
/// would seldom kill while the lock, the records and the objects are written. Where a delay
/// lands in the killed run still depends on the machine; the phase it hit is read from the
/// cluster afterwards.
fn draw_delay(rng: &mut StdRng, timeline: &Timeline) -> Draw {
    if rng.gen_bool(0.5) {
        let at = timeline.writes[rng.gen_range(0..timeline.writes.len())];
        let jitter: i64 = rng.gen_range(-25..=25);
        let ms = (at.as_millis() as i64 + jitter).max(0) as u64;
        Draw {
            delay: Duration::from_millis(ms),
            at_write: true,
        }
    } else {
        Draw {
            delay: timeline.exit.mul_f64(rng.gen_range(0.0..1.2)),
            at_write: false,
        }
    }
}

/// Starts `cmd` with its stderr in `log`, sends SIGKILL after `delay` unless it exited first,
/// and reaps it; returns whether it had exited by itself, and how it ended.
fn kill_after(mut cmd: Command, delay: Duration, log: &std::path::Path) -> (bool, std::process::ExitStatus) {
    let log = File::create(log).expect("log file");
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .expect("spawn the run to kill");
    std::thread::sleep(delay);
    let exited = child.try_wait().expect("try_wait").is_some();
    if !exited {
        child.kill().expect("kill -9");
    }
    let status = child.wait().expect("wait for the killed run");
    // A request the dead process had fully sent may still be in the server's hands.
    std::thread::sleep(Duration::from_millis(150));
    (exited, status)
}

/// What a sweep measured, printed at its end.
#[derive(Default)]
struct Figures {
    /// Phase bucket → kills that landed in it.
    phases: BTreeMap<String, usize>,
    kills: usize,
    at_writes: usize,
    /// Reruns that met the dead run's lock (and took it over).
    lock_held: usize,
    reruns: Vec<Duration>,
    /// When (since the rerun started) a rerun said it took the lock over.
    takeovers: Vec<Duration>,
}

impl Figures {
    fn note(&mut self, bucket: &str, draw: &Draw, rerun: Duration, took_over_at: Option<Duration>) {
        *self.phases.entry(bucket.to_string()).or_default() += 1;
        self.kills += 1;
        self.at_writes += usize::from(draw.at_write);
        self.reruns.push(rerun);
        if let Some(t) = took_over_at {
            self.lock_held += 1;
            self.takeovers.push(t);
        }
    }

    fn summary(&self) -> String {
        fn spread(ts: &[Duration]) -> String {
            let mut ts = ts.to_vec();
            ts.sort();
            match (ts.first(), ts.last()) {
                (Some(min), Some(max)) => format!(
                    "{}/{}/{} ms",
                    min.as_millis(),
                    ts[ts.len() / 2].as_millis(),
                    max.as_millis()
                ),
                _ => "-".to_string(),
            }
        }
        format!(
            "{} kills ({} drawn at a write); phases {:?}; plain reruns took {} (min/median/max); \
             {} met the dead run's lock and took it over after {}",
            self.kills,
            self.at_writes,
            self.phases,
            spread(&self.reruns),
            self.lock_held,
            spread(&self.takeovers)
        )
    }
}

/// The rerun took over the dead run's lock (if `holder` left one), naming it, and names each
/// revision the dead run left pending as interrupted.
fn assert_took_over(stderr: &str, holder: Option<&str>, pending: &[u32], release: &str, ctx: &str) {
    if let Some(holder) = holder {
        // Nothing else touches the dead run's lock object, so the rerun found it, watched it
        // unrenewed and took it over, and says from whom.
        assert!(
            stderr.contains("took over the lock of release") && stderr.contains(holder),
            "{ctx}: the rerun does not say it took the lock over from {holder}: {stderr}"
        );
    }
    for rev in pending {
        assert!(
            stderr.contains(&format!(
                "revision {rev} of release \"{release}\" was interrupted"
            )),
            "{ctx}: the rerun does not say revision {rev} was interrupted: {stderr}"
        );
    }
}

/// History after a rerun against `seen` before it: revisions without a gap up to the newest
/// (the oldest may have been pruned by `--history-max`), none `pending-*`, exactly one
/// `deployed` (the newest), one or two new revisions (the rerun's, and the killed run's if it
/// was recorded: then `failed`/"interrupted", or `superseded` if it had been marked deployed),
/// and every older revision still there as it was (a `deployed` one now `superseded`). Returns
/// how many revisions the killed run left.
fn assert_history_intact(seen: &[Rev], h: &[Rev], ctx: &str) -> u32 {
    let revs: Vec<u32> = h.iter().map(|r| r.revision).collect();
    let first = revs.first().copied().unwrap_or(1);
    let want: Vec<u32> = (first..first + revs.len() as u32).collect();
    assert_eq!(revs, want, "{ctx}: revisions with a gap: {h:?}");
    let before = seen.last().map_or(0, |r| r.revision);
    let after = revs.last().copied().unwrap_or(0);
    assert!(
        after == before + 1 || after == before + 2,
        "{ctx}: newest revision {before} before, {after} after; want one for the rerun and at most one for the killed run: {h:?}"
    );
    for r in h {
        assert!(
            !r.status.starts_with("pending"),
            "{ctx}: revision {} left {}: {h:?}",
            r.revision,
            r.status
        );
    }
    let deployed: Vec<u32> = h
        .iter()
        .filter(|r| r.status == "deployed")
        .map(|r| r.revision)
        .collect();
    assert_eq!(
        deployed,
        vec![after],
        "{ctx}: exactly one deployed, the rerun's: {h:?}"
    );
    let by_revision = |rev: u32| h.iter().find(|r| r.revision == rev);
    for old in seen.iter().filter(|r| r.revision >= first) {
        let now = by_revision(old.revision).expect("in range");
        if old.status == "deployed" {
            assert_eq!(
                now.status, "superseded",
                "{ctx}: revision {} was deployed: {h:?}",
                old.revision
            );
        } else {
            assert_eq!(
                now, old,
                "{ctx}: revision {} changed after the run: {h:?}",
                old.revision
            );
        }
    }
    if after == before + 2 {
        let k = by_revision(before + 1).expect("the killed run's revision");
        assert!(
            k.status == "superseded" || (k.status == "failed" && k.description.contains("interrupted")),
            "{ctx}: the killed revision {} is neither superseded nor failed as interrupted: {h:?}",
            k.revision
        );
    }
    after - before - 1
}

// ---- the cluster at the instant of the kill --------------------------------------------------

/// What a killed run left behind, read with an admin client right after SIGKILL (nothing moves
/// any more but the controllers).
#[derive(Debug)]
struct Snapshot {
    /// revision → `status` label, from the record ConfigMaps' labels (readable without the key).
    records: BTreeMap<u32, String>,
    /// Holder of the release lock, if the lock object exists.
    lock: Option<String>,
    /// Objects already carrying the killed run's values.
    updated: usize,
    /// Deployments whose rollout to the killed run's template has completed.
    rolled_out: usize,
}

async fn snapshot(admin: &dyn Cluster, ns: &str, values: &Values) -> Snapshot {
    let cms = list(admin, ("v1", "ConfigMap"), ns).await;
    let mut records = BTreeMap::new();
    let mut lock = None;
    let mut updated = 0;
    for cm in &cms {
        let labels = &cm["metadata"]["labels"];
        let name = cm["metadata"]["name"].as_str().unwrap_or("");
        if labels["owner"] == "kubectl-chart" && labels["name"] == RELEASE {
            if let Some(v) = labels["version"].as_str().and_then(|v| v.parse::<u32>().ok()) {
                records.insert(v, labels["status"].as_str().unwrap_or("?").to_string());
            }
        }
        if name == format!("kubectl-chart.{RELEASE}.lock") {
            let lease: Value =
                serde_json::from_str(cm["data"]["lease"].as_str().unwrap_or("{}")).unwrap_or_default();
            lock = Some(lease["holder"].as_str().unwrap_or("?").to_string());
        }
        if name.starts_with("cm-") && cm["data"]["token"] == values.token.as_str() {
            updated += 1;
        }
    }
    let mut rolled_out = 0;
    for d in list(admin, ("apps/v1", "Deployment"), ns).await {
        if d["spec"]["template"]["metadata"]["annotations"]["kill9/token"] != values.token.as_str() {
            continue;
        }
        updated += 1;
        if rolled_out_now(&d) {
            rolled_out += 1;
        }
    }
    let secret = admin
        .get(&Gvk::new("v1", "Secret"), Some(ns), "creds")
        .await
        .expect("secret creds");
    if secret["data"]["password"] == STANDARD.encode(&values.secret).as_str() {
        updated += 1;
    }
    Snapshot {
        records,
        lock,
        updated,
        rolled_out,
    }
}

fn rolled_out_now(d: &Value) -> bool {
    let want = d["spec"]["replicas"].as_u64().unwrap_or(1);
    d["status"]["observedGeneration"].as_i64() >= d["metadata"]["generation"].as_i64()
        && d["status"]["updatedReplicas"].as_u64() == Some(want)
        && d["status"]["availableReplicas"].as_u64() == Some(want)
}

async fn list(admin: &dyn Cluster, kind: (&str, &str), ns: &str) -> Vec<Value> {
    admin
        .list(&Gvk::new(kind.0, kind.1), Some(ns), None)
        .await
        .unwrap_or_else(|e| panic!("list {}: {e}", kind.1))
        .items
}

/// Where in the upgrade the kill landed, from what it left behind. `before` is the newest
/// revision before the run.
fn phase(s: &Snapshot, before: u32, exited: bool) -> (String, &'static str) {
    // Only the new revision's label tells the phase: older records keep their stored
    // `deployed` label, `superseded` being derived when history is read (no write marks it), so
    // there is no "marked deployed, previous not yet superseded" step to land in.
    let new: Vec<&String> = s.records.range(before + 1..).map(|(_, st)| st).collect();
    if exited {
        return ("exited before the kill".into(), "exited");
    }
    match new.first().map(|st| st.as_str()) {
        None if s.lock.is_none() => ("no lock yet (render/plan)".into(), "before-lock"),
        None => ("locked, no record yet".into(), "locked"),
        Some("pending-upgrade") if s.updated == 0 => ("recorded, nothing applied".into(), "recorded"),
        Some("pending-upgrade") if s.updated < OBJECTS => {
            (format!("applying {}/{OBJECTS}", s.updated), "applying")
        }
        Some("pending-upgrade") => (
            format!("waiting, {}/{DEPLOYMENTS} rolled out", s.rolled_out),
            "waiting",
        ),
        Some("deployed") if s.lock.is_some() => ("deployed, lock not yet released".into(), "unlocking"),
        Some("deployed") => ("finished, not yet exited".into(), "finished"),
        Some(other) => (format!("record {other}"), "other"),
    }
}

// ---- checks ----------------------------------------------------------------------------------

/// Whether `live` has every field of `want` with the same value (lists: same length, element by
/// element), so fields the server defaults are allowed. The error names the first difference.
fn contains(live: &Value, want: &Value, path: &str) -> Result<(), String> {
    match (live, want) {
        (Value::Object(l), Value::Object(w)) => {
            for (k, wv) in w {
                let p = format!("{path}.{k}");
                match l.get(k) {
                    Some(lv) => contains(lv, wv, &p)?,
                    None => return Err(format!("{p}: missing, want {wv}")),
                }
            }
            Ok(())
        }
        (Value::Array(l), Value::Array(w)) if l.len() == w.len() => l
            .iter()
            .zip(w)
            .enumerate()
            .try_for_each(|(i, (lv, wv))| contains(lv, wv, &format!("{path}[{i}]"))),
        _ if live == want => Ok(()),
        _ => Err(format!("{path}: live {live}, want {want}")),
    }
}

/// Every rendered object is live with the rendered `data`/`spec`, and every Deployment has
/// rolled out to it.
async fn assert_live_matches(admin: &dyn Cluster, ns: &str, rendered: &[Value], ctx: &str) {
    let mut live: BTreeMap<(String, String), Value> = BTreeMap::new();
    for kind in [("v1", "ConfigMap"), ("apps/v1", "Deployment"), ("v1", "Secret")] {
        for o in list(admin, kind, ns).await {
            live.insert((kind.1.to_string(), key_of(&o).1), o);
        }
    }
    assert_eq!(rendered.len(), OBJECTS, "{ctx}: rendered objects");
    for want in rendered {
        let k = key_of(want);
        let got = live
            .get(&k)
            .unwrap_or_else(|| panic!("{ctx}: {k:?} rendered but not in the cluster"));
        for field in ["data", "spec"] {
            if want.get(field).is_some() {
                contains(&got[field], &want[field], &format!("{}/{}.{field}", k.0, k.1))
                    .unwrap_or_else(|e| panic!("{ctx}: live object differs from the render: {e}"));
            }
        }
        if k.0 == "Deployment" {
            // `--wait` is Helm's check (the newest ReplicaSet's ready pods); the Deployment's
            // own status, checked here, is written by its controller a moment later.
            let mut got = got.clone();
            let until = Instant::now() + Duration::from_secs(15);
            while !rolled_out_now(&got) && Instant::now() < until {
                tokio::time::sleep(Duration::from_millis(200)).await;
                got = admin
                    .get(&Gvk::new("apps/v1", "Deployment"), Some(ns), &k.1)
                    .await
                    .expect("deployment");
            }
            assert!(
                rolled_out_now(&got),
                "{ctx}: {} not rolled out: {}",
                k.1,
                got["status"]
            );
        }
    }
}

/// Whether `needle` is in `hay` as text, in its base64 decoding, or in the gunzip of that.
fn leaks(hay: &str, needle: &str) -> bool {
    let has = |b: &[u8]| b.windows(needle.len()).any(|w| w == needle.as_bytes());
    if hay.contains(needle) {
        return true;
    }
    let Ok(raw) = STANDARD.decode(hay.trim()) else {
        return false;
    };
    if has(&raw) {
        return true;
    }
    let mut unzipped = Vec::new();
    raw.starts_with(&[0x1f, 0x8b])
        && flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut unzipped)
            .is_ok()
        && has(&unzipped)
}

/// No ConfigMap in the namespace (records, parts, the lock, the chart's own) holds any Secret
/// value used so far, as text or as its base64, in `data` or `binaryData`, decoded or not.
async fn assert_no_secret_in_configmaps(admin: &dyn Cluster, ns: &str, secrets: &[String], ctx: &str) {
    for cm in list(admin, ("v1", "ConfigMap"), ns).await {
        let name = cm["metadata"]["name"].as_str().unwrap_or("?").to_string();
        for field in ["data", "binaryData"] {
            let Some(map) = cm[field].as_object() else {
                continue;
            };
            for (k, v) in map {
                let hay = v.as_str().unwrap_or("");
                for s in secrets {
                    for needle in [s.clone(), STANDARD.encode(s)] {
                        assert!(
                            !leaks(hay, &needle),
                            "{ctx}: Secret value {s:?} found in ConfigMap {name} {field}.{k}"
                        );
                    }
                }
            }
        }
    }
}

fn assert_no_secret_in(out: &str, secrets: &[String], what: &str) {
    for s in secrets {
        assert!(
            !out.contains(s.as_str()) && !out.contains(&STANDARD.encode(s)),
            "{what} prints Secret value {s:?}"
        );
    }
}

// ---- the test --------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_random_points_of_an_upgrade_then_a_rerun_converges_with_history_intact() {
    let Some(kit) = crate::support::k8s::kit() else {
        return;
    };
    let seed = seed("kill9");
    let mut rng = StdRng::seed_from_u64(seed);
    let admin = kit.admin().await;
    let ns = TestNamespace::new(admin.clone(), "kc-kill9").await;
    let chart = write_chart();
    let env = Env {
        kit,
        ns: ns.name.clone(),
        chart: chart.clone(),
    };
    let logs = chart.parent().expect("temp dir").to_path_buf();
    let mut secrets: Vec<String> = Vec::new();

    let initial = draw_values(&mut rng, "install".into());
    secrets.push(initial.secret.clone());
    let chart_arg = chart.to_string_lossy().into_owned();
    let mut install: Vec<String> = ["install", RELEASE, &chart_arg, "--wait", "--timeout", "60s"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    install.extend(initial.fixed().args());
    env.ok(&install.iter().map(String::as_str).collect::<Vec<_>>());

    // One upgrade nobody kills sets the scale of the kill delays; its debug log (`-v 4`) dates
    // the steps and the writes.
    let measure = Values {
        token: "measure".into(),
        ..draw_values(&mut rng, String::new()).fixed()
    };
    secrets.push(measure.secret.clone());
    let timeline = timed_run(env.upgrade(&measure, &["-v", "4"]), "upgrade");
    let full = timeline.exit;
    assert_live_matches(&*admin, &ns.name, &env.render(&measure), "unkilled upgrade").await;
    eprintln!(
        "kill9: one unkilled upgrade of {OBJECTS} objects: {}",
        timeline.describe()
    );

    let (mut seen, _) = env.history();
    assert_eq!(
        seen.iter().map(|r| r.revision).collect::<Vec<_>>(),
        vec![1, 2],
        "{seen:?}"
    );
    let mut figures = Figures::default();
    let mut recorded_kills = 0;
    let mut rewrites_saved = 0;

    for run in 1..=RUNS {
        let killed_values = draw_values(&mut rng, format!("run-{run:02}"));
        let rerun_values = killed_values.fixed();
        secrets.push(killed_values.secret.clone());
        let before = seen.last().expect("history").revision;
        let draw = draw_delay(&mut rng, &timeline);
        let fraction = draw.delay.as_secs_f64() / full.as_secs_f64();
        let ctx = format!(
            "seed {seed}, run {run} (set {}, kill at {fraction:.2}×)",
            killed_values.set
        );

        // The killed run.
        let log_path = logs.join(format!("run-{run:02}.log"));
        let (exited, status) = kill_after(env.upgrade(&killed_values, &[]), draw.delay, &log_path);
        let snap = snapshot(&*admin, &ns.name, &killed_values).await;
        let (detail, bucket) = phase(&snap, before, exited);
        let killed_log = std::fs::read_to_string(&log_path).unwrap_or_default();
        assert_no_secret_in(&killed_log, &secrets, &format!("{ctx}: the killed run"));

        // The rerun: plain, once.
        let started = Instant::now();
        let (out, took_over_at) = run_timing_takeover(env.upgrade(&rerun_values, &[]), started);
        let waited = started.elapsed();
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(
            out.status.success(),
            "{ctx}: plain rerun failed after the kill in phase {detail}: {stderr}\nkilled run's log:\n{killed_log}"
        );
        let pending: Vec<u32> = snap
            .records
            .iter()
            .filter(|(_, st)| st.starts_with("pending"))
            .map(|(rev, _)| *rev)
            .collect();
        assert_took_over(&stderr, snap.lock.as_deref(), &pending, RELEASE, &ctx);
        figures.note(bucket, &draw, waited, took_over_at);
        // Resume, not redo (issue 20, item 2): the rerun plans against what is live, so the
        // objects the dead run already wrote with these values get no second write. Only the
        // broken set's rerun differs from the killed run, in one Deployment's image.
        let changes = stdout
            .lines()
            .find_map(|l| l.strip_prefix("CHANGES: "))
            .unwrap_or_else(|| panic!("{ctx}: no CHANGES line: {stdout}"));
        let written: usize = changes
            .split(", ")
            .filter(|p| p.ends_with(" created") || p.ends_with(" changed"))
            .map(|p| {
                p.split(' ')
                    .next()
                    .and_then(|n| n.parse::<usize>().ok())
                    .unwrap_or(0)
            })
            .sum();
        let may_write = OBJECTS - snap.updated + usize::from(killed_values.broken);
        assert!(
            written <= may_write,
            "{ctx}: the rerun wrote {written} objects, but only {may_write} were not already as the dead run left them ({changes})"
        );
        rewrites_saved += OBJECTS - written;
        assert_no_secret_in(
            &format!("{stdout}{stderr}"),
            &secrets,
            &format!("{ctx}: the rerun"),
        );

        // Converged: the live objects are what the chart renders for the rerun's values.
        let rendered = env.render(&rerun_values);
        assert_live_matches(&*admin, &ns.name, &rendered, &ctx).await;

        // History intact.
        let (h, history_out) = env.history();
        assert_no_secret_in(&history_out, &secrets, &format!("{ctx}: history -o json"));
        let killed_revisions = assert_history_intact(&seen, &h, &ctx);
        // Unlimited history here: nothing pruned, every revision since the install is kept.
        assert_eq!(h[0].revision, 1, "{ctx}: {h:?}");
        let after = h.len() as u32;
        assert_eq!(
            h[after as usize - 1].description,
            "Upgrade complete",
            "{ctx}: {h:?}"
        );
        // Every revision the killed run left at the kill is still there.
        for rev in snap.records.keys() {
            assert!(
                *rev <= after,
                "{ctx}: revision {rev} seen at the kill is gone: {h:?}"
            );
        }
        if killed_revisions == 1 {
            recorded_kills += 1;
            let k = &h[before as usize];
            if snap.records.get(&(before + 1)).map(String::as_str) == Some("deployed") {
                assert_eq!(k.status, "superseded", "{ctx}: {h:?}");
            } else {
                assert_eq!(k.status, "failed", "{ctx}: the killed revision: {h:?}");
            }
            // The killed revision's record holds the killed run's render.
            assert_eq!(
                env.manifest(before + 1),
                env.render(&killed_values),
                "{ctx}: manifest of killed revision {}",
                before + 1
            );
        } else {
            assert!(
                !snap.records.contains_key(&(before + 1)),
                "{ctx}: killed run's revision {} recorded at the kill is lost: {h:?}",
                before + 1
            );
        }
        assert_eq!(
            env.manifest(after),
            rendered,
            "{ctx}: manifest of revision {after}"
        );
        assert_no_secret_in_configmaps(&*admin, &ns.name, &secrets, &ctx).await;

        eprintln!(
            "kill9: run {run:02} set {} kill at {:>5} ms ({fraction:.2}×, {}) {exit:<9} phase {detail:<42} lock {:<4} plain rerun in {} ms -> revisions {}..{after}{}",
            killed_values.set,
            draw.delay.as_millis(),
            if draw.at_write { "at a write" } else { "whole" },
            if snap.lock.is_some() { "held" } else { "free" },
            waited.as_millis(),
            before + 1,
            if killed_revisions == 1 {
                format!(" (killed revision {} {})", before + 1, h[before as usize].status)
            } else {
                String::new()
            },
            exit = match status.code() {
                Some(c) => format!("exited {c}"),
                None => "killed".to_string(),
            },
        );
        seen = h;
    }

    // Finally every revision is still readable one by one.
    for r in &seen {
        let docs = env.manifest(r.revision);
        assert_eq!(
            docs.len(),
            OBJECTS,
            "seed {seed}: revision {} manifest",
            r.revision
        );
    }
    eprintln!(
        "kill9: seed {seed}: upgrade: {}; one unkilled upgrade {} ms; {recorded_kills} killed runs left a revision; \
         the reruns left {rewrites_saved} objects the dead runs had written unwritten; {} revisions, all readable",
        figures.summary(),
        full.as_millis(),
        seen.len()
    );
    let _ = std::fs::remove_dir_all(&logs);
    drop(ns);
}

/// The sweep's seed: `KC_KILL_SEED` to replay one, else a random one; printed either way.
fn seed(what: &str) -> u64 {
    let seed: u64 = match std::env::var("KC_KILL_SEED") {
        Ok(s) => s.trim().parse().expect("KC_KILL_SEED is a u64"),
        Err(_) => rand::random(),
    };
    eprintln!("{what}: seed {seed} (replay with KC_KILL_SEED={seed})");
    seed
}

// ---- install, rollback and uninstall -------------------------------------------------------------

/// Kills per verb in [`kill_9_of_install_rollback_and_uninstall_then_a_plain_rerun_converges`]
/// (`KC_KILL_VERB_RUNS` overrides it).
const VERB_RUNS: usize = 20;
/// The hooked chart's objects: five ConfigMaps, a Deployment and a Secret.
const VERB_OBJECTS: usize = 7;

/// A small chart whose every verb runs a pre and a post hook Job (~1–2 s each on the fake
/// kubelet), so kills land in hooks as well as in writes and waits. Every name starts with the
/// release's, so many releases share a namespace; `token` marks each object with the values it
/// was written with, and the Secret holds `secret`, which must never reach a ConfigMap.
fn write_hooked_chart() -> PathBuf {
    let root = std::env::temp_dir().join(format!(
        "kc-kill9-verbs-{}-{:08x}/chart",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(root.join("templates")).expect("chart dir");
    let hook = |when: &str, events: &str| {
        format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {{{{ .Release.Name }}}}-{when}-{{{{ .Release.Revision }}}}\n  \
             annotations:\n    helm.sh/hook: {events}\n    \
             helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded\nspec:\n  backoffLimit: 0\n  template:\n    \
             spec:\n      restartPolicy: Never\n      containers:\n      - name: hook\n        image: busybox\n"
        )
    };
    let files = [
        ("Chart.yaml", "apiVersion: v2\nname: verbs\nversion: 0.1.0\n".to_string()),
        ("values.yaml", "token: a\nsecret: changeme\n".to_string()),
        (
            "templates/configmaps.yaml",
            "{{- range $i := until 5 }}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ $.Release.Name }}-v-{{ $i }}\n\
             data:\n  token: {{ $.Values.token | quote }}\n{{- end }}\n"
                .to_string(),
        ),
        (
            "templates/deployment.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}-web\nspec:\n  replicas: 1\n  selector:\n    \
             matchLabels:\n      app: {{ .Release.Name }}-web\n  template:\n    metadata:\n      labels:\n        app: {{ .Release.Name }}-web\n      \
             annotations:\n        token: {{ .Values.token | quote }}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.25\n"
                .to_string(),
        ),
        (
            "templates/secret.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}-creds\n  annotations:\n    \
             token: {{ .Values.token | quote }}\ntype: Opaque\ndata:\n  password: {{ .Values.secret | b64enc | quote }}\n"
                .to_string(),
        ),
        (
            "templates/pre-hook.yaml",
            hook("pre", "pre-install,pre-upgrade,pre-rollback,pre-delete"),
        ),
        (
            "templates/post-hook.yaml",
            hook("post", "post-install,post-upgrade,post-rollback,post-delete"),
        ),
    ];
    for (path, text) in files {
        std::fs::write(root.join(path), text).expect("chart file");
    }
    root
}

/// A verb swept by [`sweep_verb`].
#[derive(Debug, Clone, Copy, PartialEq)]
enum Verb {
    /// `apply` of a release not installed yet (a new release name for each kill).
    Install,
    /// `rollback RELEASE N`, alternating between the two revisions set up first.
    Rollback,
    /// `uninstall RELEASE` of a release installed just before.
    Uninstall,
}

/// The cluster right after a kill, for the hooked chart's release.
#[derive(Debug)]
struct VerbSnapshot {
    /// revision → `status` label of the record ConfigMaps.
    records: BTreeMap<u32, String>,
    /// Holder of the release lock, if the lock object exists.
    lock: Option<String>,
    /// The killed run's hook Jobs that exist (`pre`, `post`): those of its revision only, as
    /// a Job a run killed earlier left behind keeps its own revision's name.
    hooks: Vec<&'static str>,
    /// The release's objects carrying the killed run's token (for uninstall: already gone).
    done: usize,
}

async fn verb_snapshot(
    admin: &dyn Cluster,
    ns: &str,
    release: &str,
    verb: Verb,
    token: &str,
    revision: u32,
) -> VerbSnapshot {
    let mut records = BTreeMap::new();
    let mut lock = None;
    let mut done = 0;
    for cm in list(admin, ("v1", "ConfigMap"), ns).await {
        let labels = &cm["metadata"]["labels"];
        let name = cm["metadata"]["name"].as_str().unwrap_or("");
        if labels["owner"] == "kubectl-chart" && labels["name"] == release {
            if let Some(v) = labels["version"].as_str().and_then(|v| v.parse::<u32>().ok()) {
                records.insert(v, labels["status"].as_str().unwrap_or("?").to_string());
            }
        }
        if name == format!("kubectl-chart.{release}.lock") {
            let lease: Value =
                serde_json::from_str(cm["data"]["lease"].as_str().unwrap_or("{}")).unwrap_or_default();
            lock = Some(lease["holder"].as_str().unwrap_or("?").to_string());
        }
    }
    let mut present = 0;
    let prefix = format!("{release}-");
    let ours = |o: &Value| {
        o["metadata"]["name"]
            .as_str()
            .is_some_and(|n| n.starts_with(&prefix))
    };
    for cm in list(admin, ("v1", "ConfigMap"), ns)
        .await
        .iter()
        .filter(|o| ours(o))
    {
        present += 1;
        done += usize::from(cm["data"]["token"] == token);
    }
    for kind in [("apps/v1", "Deployment"), ("v1", "Secret")] {
        for o in list(admin, kind, ns).await.iter().filter(|o| ours(o)) {
            present += 1;
            let t = if kind.1 == "Deployment" {
                &o["spec"]["template"]["metadata"]["annotations"]["token"]
            } else {
                &o["metadata"]["annotations"]["token"]
            };
            done += usize::from(t == token);
        }
    }
    if verb == Verb::Uninstall {
        done = VERB_OBJECTS - present;
    }
    let mut hooks = Vec::new();
    for job in list(admin, ("batch/v1", "Job"), ns).await {
        let name = job["metadata"]["name"].as_str().unwrap_or("");
        for when in ["pre", "post"] {
            if name == format!("{release}-{when}-{revision}") && !hooks.contains(&when) {
                hooks.push(when);
            }
        }
    }
    VerbSnapshot {
        records,
        lock,
        hooks,
        done,
    }
}

/// Where in `verb` the kill landed, from what it left behind (`before`: the newest revision
/// before the run): a description and a bucket for the summary.
fn verb_phase(s: &VerbSnapshot, verb: Verb, before: u32, exited: bool) -> (String, String) {
    if exited {
        return ("exited before the kill".into(), "exited".into());
    }
    let hook = |bucket: &str| match s.hooks.as_slice() {
        [] => bucket.to_string(),
        hooks => format!("{} hook", hooks.join("+")),
    };
    let progress = format!("{}/{VERB_OBJECTS}", s.done);
    let (detail, bucket) = if verb == Verb::Uninstall {
        let newest = s.records.values().next_back().map(String::as_str);
        match newest {
            Some("uninstalling") if s.done == 0 => (
                format!("uninstalling, nothing deleted ({progress})"),
                hook("marked"),
            ),
            Some("uninstalling") if s.done < VERB_OBJECTS => {
                (format!("deleting {progress}"), hook("deleting"))
            }
            Some("uninstalling") => (format!("objects deleted {progress}"), hook("deleted")),
            Some(_) if s.lock.is_none() => ("no lock yet".into(), "before-lock".into()),
            Some(_) => ("locked, not yet marked".into(), "locked".into()),
            None if s.lock.is_some() => ("records deleted, lock not released".into(), "unlocking".into()),
            None => ("everything deleted, not yet exited".into(), "finished".into()),
        }
    } else {
        let new = s.records.range(before + 1..).next().map(|(_, st)| st.as_str());
        match new {
            None if s.lock.is_none() => ("no lock yet (render/plan)".into(), "before-lock".into()),
            None => ("locked, no record yet".into(), "locked".into()),
            Some(st) if st.starts_with("pending") && s.done == 0 => (
                format!("recorded, nothing applied ({progress})"),
                hook("recorded"),
            ),
            Some(st) if st.starts_with("pending") && s.done < VERB_OBJECTS => {
                (format!("applying {progress}"), hook("applying"))
            }
            Some(st) if st.starts_with("pending") => (format!("applied {progress}"), hook("applied")),
            Some("deployed") if s.lock.is_some() => {
                ("deployed, lock not released".into(), "unlocking".into())
            }
            Some("deployed") => ("finished, not yet exited".into(), "finished".into()),
            Some(other) => (format!("record {other}"), format!("record {other}")),
        }
    };
    (detail, bucket)
}

/// Every object of the release in the namespace, and our records, lock and key: what an
/// uninstall must leave none of.
async fn leftovers(admin: &dyn Cluster, ns: &str, release: &str) -> Vec<String> {
    let prefix = format!("{release}-");
    let mut left = Vec::new();
    for kind in [
        ("v1", "ConfigMap"),
        ("v1", "Secret"),
        ("apps/v1", "Deployment"),
        ("batch/v1", "Job"),
    ] {
        for o in list(admin, kind, ns).await {
            let name = o["metadata"]["name"].as_str().unwrap_or("").to_string();
            if name.starts_with(&prefix) || name.starts_with("kubectl-chart") {
                left.push(format!("{} {name}", kind.1));
            }
        }
    }
    left
}

/// One verb's sweep in its own namespace: one timed unkilled run with and one without
/// `--wait`, then `runs` kills, each followed by the same command once more, plainly, and the
/// checks: it converges (the release deployed with the killed run's values, or nothing left
/// after uninstall: no object, record, lock or key Secret), history intact (for uninstall: gone),
/// the lock taken over (after one lease duration) when the dead run left it, and no Secret
/// value in any ConfigMap.
async fn sweep_verb(kit: &'static Kit, verb: Verb, runs: usize, seed: u64) -> Figures {
    let mut rng = StdRng::seed_from_u64(seed ^ verb as u64);
    let admin = kit.admin().await;
    let ns = TestNamespace::new(admin.clone(), "kc-kill9v").await;
    let chart = write_hooked_chart();
    let logs = chart.parent().expect("temp dir").to_path_buf();
    let env = Env {
        kit,
        ns: ns.name.clone(),
        chart: chart.clone(),
    };
    let c = chart.to_string_lossy().into_owned();
    let mut secrets: Vec<String> = Vec::new();
    let secret = |rng: &mut StdRng, secrets: &mut Vec<String>| {
        let s = format!("pw-{:016x}", rng.gen::<u64>());
        secrets.push(s.clone());
        s
    };
    let values = |token: &str, secret: &str| format!("token={token},secret={secret}");
    let with_wait = |mut args: Vec<String>, wait: bool| {
        if wait {
            args.extend(["--wait", "--timeout", "60s"].map(String::from));
        }
        args
    };
    let cmd = |args: &[String]| env.cmd(&args.iter().map(String::as_str).collect::<Vec<_>>());
    // Rollback: two revisions to go back and forth between, with their tokens.
    let tokens = ["a", "b"];
    if verb == Verb::Rollback {
        for t in tokens {
            let set = values(t, &secret(&mut rng, &mut secrets));
            env.ok(&["apply", RELEASE, &c, "--set-string", &set]);
        }
    }
    let mut deployed_token = "b";
    // The command of one run: `(release, args, the token it leaves the objects with)`.
    let command = |run: &str, wait: bool, secret: &str, deployed: &str| -> (String, Vec<String>, String) {
        match verb {
            Verb::Install => {
                let release = format!("{RELEASE}-{run}");
                let set = values(&format!("tok-{run}"), secret);
                let args = vec![
                    "apply".into(),
                    release.clone(),
                    c.clone(),
                    "--set-string".into(),
                    set,
                ];
                (release, with_wait(args, wait), format!("tok-{run}"))
            }
            Verb::Rollback => {
                let (target, token) = if deployed == "a" { ("2", "b") } else { ("1", "a") };
                // Unlimited history: the two targets are never pruned.
                let args = ["rollback", RELEASE, target, "--history-max", "0"]
                    .map(String::from)
                    .to_vec();
                (RELEASE.into(), with_wait(args, wait), token.into())
            }
            Verb::Uninstall => {
                let set = values(&format!("tok-{run}"), secret);
                env.ok(&["apply", RELEASE, &c, "--set-string", &set]);
                let args = vec!["uninstall".into(), RELEASE.into()];
                (RELEASE.into(), with_wait(args, wait), String::new())
            }
        }
    };

    let mut timelines = Vec::new();
    for wait in [false, true] {
        let pw = secret(&mut rng, &mut secrets);
        let (_, mut args, token) = command(if wait { "tw" } else { "tn" }, wait, &pw, deployed_token);
        args.extend(["-v", "4"].map(String::from));
        let timeline = timed_run(cmd(&args), &format!("{verb:?}"));
        eprintln!(
            "kill9 {verb:?}: one unkilled run (wait {wait}): {}",
            timeline.describe()
        );
        if verb == Verb::Rollback {
            deployed_token = if token == "a" { "a" } else { "b" };
        }
        timelines.push(timeline);
    }

    let mut figures = Figures::default();
    for run in 0..runs {
        let wait = rng.gen_bool(0.5);
        let name = format!("{run:02}");
        let pw = secret(&mut rng, &mut secrets);
        let (release, args, token) = command(&name, wait, &pw, deployed_token);
        let draw = draw_delay(&mut rng, &timelines[usize::from(wait)]);
        let ctx = format!(
            "seed {seed}: {verb:?} run {name} (wait {wait}) killed at {} ms{}",
            draw.delay.as_millis(),
            if draw.at_write { " (at a write)" } else { "" }
        );
        let seen = if verb == Verb::Install {
            Vec::new()
        } else {
            env.history_of(&release).0
        };
        let before = seen.last().map_or(0, |r| r.revision);
        let log_path = logs.join(format!("{verb:?}-{name}.log"));
        let (exited, _) = kill_after(cmd(&args), draw.delay, &log_path);
        if exited {
            // This run ended before its kill: runs are that short now (the unkilled run that set
            // the scale may have met a busier machine), so later whole-run draws scale from it.
            let t = &mut timelines[usize::from(wait)];
            t.exit = t.exit.min(draw.delay);
        }
        // The revision the killed run's hooks were rendered for (their names carry it): an
        // install's is the one it makes, an uninstall's the newest, and a rollback runs the
        // hooks recorded with its target (revision 1 has token a, 2 has b).
        let revision = match verb {
            Verb::Install => before + 1,
            Verb::Rollback if token == "a" => 1,
            Verb::Rollback => 2,
            Verb::Uninstall => before,
        };
        let snap = verb_snapshot(&*admin, &ns.name, &release, verb, &token, revision).await;
        let (detail, bucket) = verb_phase(&snap, verb, before, exited);
        let killed_log = std::fs::read_to_string(&log_path).unwrap_or_default();

        let started = Instant::now();
        let (out, took_over_at) = run_timing_takeover(cmd(&args), started);
        let waited = started.elapsed();
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        let ctx = format!("{ctx}, phase {detail}");
        // An uninstall killed after it deleted the records finds nothing to uninstall.
        let gone = verb == Verb::Uninstall && snap.records.is_empty() && stderr.contains("not found");
        assert!(
            out.status.success() || gone,
            "{ctx}: the plain rerun failed: {stderr}\nkilled run's log:\n{killed_log}"
        );
        let pending: Vec<u32> = snap
            .records
            .iter()
            .filter(|(_, st)| st.starts_with("pending") || *st == "uninstalling")
            .map(|(rev, _)| *rev)
            .collect();
        assert_took_over(&stderr, snap.lock.as_deref(), &pending, &release, &ctx);
        assert_no_secret_in(&format!("{stdout}{stderr}{killed_log}"), &secrets, &ctx);
        figures.note(&bucket, &draw, waited, took_over_at);

        if verb == Verb::Uninstall {
            let left = leftovers(&*admin, &ns.name, &release).await;
            assert!(left.is_empty(), "{ctx}: the plain rerun left {left:?}");
        } else {
            let (h, history_out) = env.history_of(&release);
            assert_no_secret_in(&history_out, &secrets, &ctx);
            assert_history_intact(&seen, &h, &ctx);
            let snap = verb_snapshot(&*admin, &ns.name, &release, verb, &token, 0).await;
            assert_eq!(
                snap.done, VERB_OBJECTS,
                "{ctx}: not every object carries the rerun's values: {snap:?}"
            );
            assert!(snap.lock.is_none(), "{ctx}: the lock is left behind");
            deployed_token = if token == "a" { "a" } else { "b" };
        }
        assert_no_secret_in_configmaps(&*admin, &ns.name, &secrets, &ctx).await;
        eprintln!(
            "kill9 {verb:?}: run {name} wait {wait:<5} kill at {:>5} ms ({}) phase {detail:<40} lock {:<4} plain rerun {} in {} ms",
            draw.delay.as_millis(),
            if draw.at_write { "at a write" } else { "whole" },
            if snap.lock.is_some() { "held" } else { "free" },
            if out.status.success() { "succeeded" } else { "found nothing left" },
            waited.as_millis()
        );
    }
    let _ = std::fs::remove_dir_all(&logs);
    drop(ns);
    figures
}

/// Issue 20: kill -9 at random points of install (`apply` of a new release), rollback and
/// uninstall, with and without `--wait`, with pre and post hook Jobs, then the same command
/// once more, plainly (no flag, the default lease): it converges every time, with history
/// intact, and the uninstall leaves nothing. The three verbs run at once, each in its own
/// namespace and thread (most of a sweep is waiting: for a dead run's lease, for hooks), so the
/// test takes as long as its slowest verb. The seed is printed; `KC_KILL_SEED=N` replays the
/// draws.
#[test]
fn kill_9_of_install_rollback_and_uninstall_then_a_plain_rerun_converges() {
    let Some(kit) = crate::support::k8s::kit() else {
        return;
    };
    let seed = seed("kill9 verbs");
    let runs: usize = std::env::var("KC_KILL_VERB_RUNS")
        .ok()
        .map(|n| n.trim().parse().expect("KC_KILL_VERB_RUNS is a number"))
        .unwrap_or(VERB_RUNS);
    let started = Instant::now();
    let sweeps: Vec<_> = [Verb::Install, Verb::Rollback, Verb::Uninstall]
        .into_iter()
        .map(|verb| {
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .enable_all()
                    .build()
                    .expect("runtime");
                (verb, rt.block_on(sweep_verb(kit, verb, runs, seed)))
            })
        })
        .collect();
    // Every sweep runs to its end before a failure is reported, so one verb's bug does not
    // hide another's.
    let mut failure = None;
    for sweep in sweeps {
        match sweep.join() {
            Ok((verb, figures)) => eprintln!("kill9 verbs: seed {seed}: {verb:?}: {}", figures.summary()),
            Err(panic) => failure = failure.or(Some(panic)),
        }
    }
    if let Some(panic) = failure {
        std::panic::resume_unwind(panic);
    }
    eprintln!(
        "kill9 verbs: seed {seed}: all three sweeps in {} s",
        started.elapsed().as_secs()
    );
}

// ---- the checks themselves can fail ------------------------------------------------------------

#[test]
fn contains_names_the_first_difference() {
    let live = serde_json::json!({"spec": {"replicas": 2, "template": {"spec": {"containers": [
        {"name": "web", "image": "nginx:1.25", "imagePullPolicy": "IfNotPresent"}]}}}});
    let same = serde_json::json!({"spec": {"replicas": 2, "template": {"spec": {"containers": [
        {"name": "web", "image": "nginx:1.25"}]}}}});
    assert_eq!(contains(&live, &same, "d"), Ok(()));
    let cases = [
        (
            serde_json::json!({"spec": {"replicas": 1}}),
            "d.spec.replicas: live 2, want 1",
        ),
        (
            serde_json::json!({"spec": {"paused": true}}),
            "d.spec.paused: missing, want true",
        ),
        (
            serde_json::json!({"spec": {"template": {"spec": {"containers": [
                {"name": "web", "image": "nginx:1.27"}]}}}}),
            "d.spec.template.spec.containers[0].image: live \"nginx:1.25\", want \"nginx:1.27\"",
        ),
    ];
    for (want, err) in cases {
        assert_eq!(contains(&live, &want, "d"), Err(err.to_string()));
    }
    let two = serde_json::json!({"spec": {"template": {"spec": {"containers": [{}, {}]}}}});
    assert!(
        contains(&live, &two, "d").is_err(),
        "a list of another length differs"
    );
}

#[test]
fn leaks_sees_through_base64_and_gzip() {
    use std::io::Write;
    let secret = "pw-0123456789abcdef";
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(format!("{{\"password\":\"{secret}\"}}").as_bytes())
        .expect("gzip");
    let hidden = STANDARD.encode(gz.finish().expect("gzip"));
    assert!(leaks(&hidden, secret));
    assert!(leaks(&STANDARD.encode(secret), secret));
    assert!(leaks(&format!("x {secret} y"), secret));
    assert!(!leaks(&hidden, "pw-fedcba9876543210"));
}
