//! Reliability of the release lifecycle through the real binary against the real control plane
//! (with the fake kubelet): a release whose record is bigger than one object (issue 5), two runs
//! racing for one release, Secret values never reaching a ConfigMap or a read-only command, and
//! faults injected by a proxy in front of the API server while an upgrade writes. One control
//! plane, a namespace per test (per case for the fault matrix), `-n` and `--kubeconfig` on every
//! command, and a short lock TTL so a run left holding the lock is recovered in seconds.

use std::{
    io::Read,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    time::Duration,
};

use crate::support::{
    faultproxy::{Fault, FaultProxy, Rule},
    k8s::{Kit, TestNamespace},
};
use base64::{engine::general_purpose::STANDARD, Engine};
use kubectl_chart::cluster::{Cluster, Gvk};
use rand::RngCore;
use serde_json::Value;

/// Lease duration for every run: a run that dies holding the lock blocks the next for 4 s (the
/// next run watches the lease that long for a renewal; a live holder renews every second).
const LOCK_TTL: &str = "4";

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "kc-reliability-{tag}-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// Writes a chart: `Chart.yaml` for `name`, then each `(path, text)`.
fn write_chart(dir: &Path, name: &str, files: &[(&str, String)]) -> PathBuf {
    let root = dir.join(name);
    std::fs::create_dir_all(root.join("templates")).expect("chart dir");
    std::fs::write(
        root.join("Chart.yaml"),
        format!("apiVersion: v2\nname: {name}\nversion: 0.1.0\n"),
    )
    .expect("Chart.yaml");
    for (path, text) in files {
        std::fs::write(root.join(path), text).expect("chart file");
    }
    root
}

/// `n` random bytes as base64: incompressible text that survives YAML as a plain scalar.
fn random_b64(n: usize) -> String {
    let mut raw = vec![0u8; n];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    STANDARD.encode(raw)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs of the binary in one namespace through one kubeconfig.
struct Env {
    ns: String,
    kubeconfig: PathBuf,
}

impl Env {
    fn new(kit: &Kit, ns: &str) -> Env {
        Env {
            ns: ns.to_string(),
            kubeconfig: kit.kubeconfig.clone(),
        }
    }

    /// The same namespace through another kubeconfig (the fault proxy's).
    fn via(&self, kubeconfig: PathBuf) -> Env {
        Env {
            ns: self.ns.clone(),
            kubeconfig,
        }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        self.cmd_skewed(None, args)
    }

    /// [`Env::cmd`] under libfaketime with this clock offset (`+10m`): the process, and only it,
    /// sees another wall clock. The library is preloaded into the binary itself (not run
    /// through the `faketime` wrapper, which stays the parent), so a kill reaches the run.
    fn cmd_skewed(&self, skew: Option<&str>, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_kubectl-chart"));
        if let Some(offset) = skew {
            let lib = libfaketime().expect("libfaketime");
            c.env("LD_PRELOAD", lib).env("FAKETIME", offset);
        }
        c.current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(args)
            .arg("-n")
            .arg(&self.ns)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .env_remove("KUBECONFIG")
            .env("KUBECTL_CHART_LOCK_TTL", LOCK_TTL);
        c
    }

    /// Starts a run in the background, its output captured.
    fn spawn(&self, args: &[&str]) -> std::process::Child {
        self.cmd(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn kubectl-chart")
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run kubectl-chart")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}\n{}",
            text(&out.stderr),
            text(&out.stdout)
        );
        text(&out.stdout)
    }

    /// `(revision, status, description)` oldest first.
    fn history(&self, release: &str) -> Vec<crate::support::cli::HistoryRow> {
        crate::support::cli::history_rows(&self.ok(&["history", release, "-o", "json"]))
    }
}

async fn get(cluster: &dyn Cluster, kind: (&str, &str), ns: &str, name: &str) -> Option<Value> {
    cluster.get(&Gvk::new(kind.0, kind.1), Some(ns), name).await.ok()
}

async fn configmaps(cluster: &dyn Cluster, ns: &str, selector: Option<&str>) -> Vec<Value> {
    cluster
        .list(&Gvk::new("v1", "ConfigMap"), Some(ns), selector)
        .await
        .expect("list configmaps")
        .items
}

// ---- a record bigger than one object ------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_of_2_mib_installs_upgrades_and_rolls_back() {
    let Some(kit) = crate::support::k8s::kit() else {
        return;
    };
    let admin = kit.admin().await;
    let ns = TestNamespace::new(admin.clone(), "kc-big").await;
    let env = Env::new(kit, &ns.name);
    let dir = temp_dir("big");
    // Four ConfigMaps of ~560 KiB random text each (one object may hold 1 MiB): a 2.2 MiB
    // manifest that gzip cannot shrink below the 1 MiB a record object holds.
    let blobs: Vec<String> = (0..4).map(|_| random_b64(420 * 1024)).collect();
    let mut files = vec![(
        "templates/marker.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: marker\ndata:\n  rev: {{ .Values.rev | quote }}\n"
            .to_string(),
    )];
    let names: Vec<String> = (0..blobs.len())
        .map(|i| format!("templates/blob{i}.yaml"))
        .collect();
    for (i, b) in blobs.iter().enumerate() {
        files.push((
            names[i].as_str(),
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: blob{i}\ndata:\n  blob: {b}\n"),
        ));
    }
    files.push(("values.yaml", "rev: \"1\"\n".to_string()));
    let chart = write_chart(&dir, "big", &files);
    let chart = chart.to_str().expect("utf-8 path");

    env.ok(&["install", "big", chart, "--timeout", "60s"]);
    env.ok(&["upgrade", "big", chart, "--set", "rev=2", "--timeout", "60s"]);
    let marker = |v: Option<Value>| v.expect("marker exists")["data"]["rev"].clone();
    assert_eq!(
        marker(get(&*admin, ("v1", "ConfigMap"), &ns.name, "marker").await),
        "2"
    );

    // Each revision's record is split: the record object plus parts, none over 1 MiB, and the
    // parts are invisible to history (two revisions, not more).
    let parts = configmaps(&*admin, &ns.name, Some("owner=kubectl-chart,part-of-version")).await;
    assert!(
        parts.len() >= 2,
        "each revision needs at least one part: {}",
        parts.len()
    );
    for cm in configmaps(&*admin, &ns.name, Some("owner=kubectl-chart")).await {
        let size = serde_json::to_string(&cm["data"]).map(|s| s.len()).unwrap_or(0);
        assert!(
            size < 1024 * 1024,
            "{} holds {size} bytes",
            cm["metadata"]["name"]
        );
    }
    let h = env.history("big");
    let statuses: Vec<&str> = h.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(statuses, ["superseded", "deployed"], "{h:?}");

    // The manifest reads back whole (reassembled and checksummed).
    let manifest = env.ok(&["get", "manifest", "big", "--revision", "1"]);
    assert!(
        manifest.len() > 2 * 1024 * 1024,
        "manifest of {} bytes",
        manifest.len()
    );
    for b in &blobs {
        assert!(
            manifest.contains(b.as_str()),
            "a blob is missing from the manifest"
        );
    }

    env.ok(&["rollback", "big", "1", "--timeout", "60s"]);
    assert_eq!(
        marker(get(&*admin, ("v1", "ConfigMap"), &ns.name, "marker").await),
        "1"
    );
    let h = env.history("big");
    let statuses: Vec<&str> = h.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(statuses, ["superseded", "superseded", "deployed"], "{h:?}");
    let blob0 = get(&*admin, ("v1", "ConfigMap"), &ns.name, "blob0")
        .await
        .expect("blob0");
    assert_eq!(blob0["data"]["blob"].as_str(), Some(blobs[0].as_str()));

    // Uninstall removes the records and every part.
    env.ok(&["uninstall", "big", "--timeout", "60s"]);
    let left = configmaps(&*admin, &ns.name, Some("owner=kubectl-chart")).await;
    let left: Vec<&Value> = left.iter().map(|c| &c["metadata"]["name"]).collect();
    assert!(left.is_empty(), "left after uninstall: {left:?}");
    let _ = std::fs::remove_dir_all(dir);
}

// ---- two runs at once ------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_applies_at_once_one_proceeds_the_other_names_the_holder() {
    let Some(kit) = crate::support::k8s::kit() else {
        return;
    };
    let admin = kit.admin().await;
    let ns = TestNamespace::new(admin.clone(), "kc-race").await;
    let env = Env::new(kit, &ns.name);
    let dir = temp_dir("race");
    // A pre-install/pre-upgrade hook Job (~1 s on the fake kubelet) and --wait keep the winner
    // holding the lock well past the moment the loser asks for it.
    let chart = write_chart(
        &dir,
        "slow",
        &[
            ("templates/deployment.yaml", deployment_template()),
            (
                "templates/hook.yaml",
                "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: slow-hook\n  annotations:\n    \
                 helm.sh/hook: pre-install,pre-upgrade\n    helm.sh/hook-delete-policy: before-hook-creation\n\
                 spec:\n  backoffLimit: 0\n  template:\n    spec:\n      restartPolicy: Never\n      \
                 containers:\n      - name: hook\n        image: busybox\n"
                    .to_string(),
            ),
            ("values.yaml", "replicas: 1\ntag: \"1.25\"\n".to_string()),
        ],
    );
    let chart = chart.to_str().expect("utf-8 path");
    let args = ["apply", "slow", chart, "--wait", "--timeout", "60s"];
    let a = env.spawn(&args);
    let b = env.spawn(&args);
    let (pa, pb) = (a.id(), b.id());
    let (oa, ob) = (a.wait_with_output().expect("a"), b.wait_with_output().expect("b"));
    let (winner, loser, winner_pid) = match (oa.status.success(), ob.status.success()) {
        (true, false) => (&oa, &ob, pa),
        (false, true) => (&ob, &oa, pb),
        _ => panic!(
            "exactly one run must proceed:\nA {}: {}\nB {}: {}",
            oa.status,
            text(&oa.stderr),
            ob.status,
            text(&ob.stderr)
        ),
    };
    assert!(
        text(&winner.stdout).contains("STATUS: deployed"),
        "{}",
        text(&winner.stdout)
    );
    assert_eq!(loser.status.code(), Some(1), "{}", text(&loser.stderr));
    let err = text(&loser.stderr);
    assert!(
        err.contains("in progress") && err.contains(&format!("by run {winner_pid}-")),
        "the error names the lock holder (pid {winner_pid}): {err}"
    );
    let h = env.history("slow");
    assert_eq!(h.len(), 1, "only the winner recorded a revision: {h:?}");
    assert_eq!(h[0].1, "deployed", "{h:?}");
    // The last uninstall in the namespace leaves nothing of ours (issue 20): no record, no
    // lock, no key Secret, as Helm leaves nothing.
    env.ok(&["uninstall", "slow"]);
    let (ours, key) = ours_left(&*admin, &ns.name).await;
    assert!(ours.is_empty(), "left behind: {ours:?}");
    assert!(!key, "the key Secret is left behind");
    let _ = std::fs::remove_dir_all(dir);
}

/// The last uninstall in a namespace deletes the key Secret; an install of another release
/// racing it must never be left with records the key no longer decrypts. First the worst case,
/// made certain by the fault proxy holding the key's DELETE back: the whole install (its
/// record, and its own check of the key after it) lands after the uninstall's look for other
/// releases and before the key goes, so only the uninstall's look after the delete can put
/// the key back. Then rounds that start the install a little later each against the
/// uninstall's end, so its record lands before, between or after those deletes. Fails if a
/// record is left without its key (`status` cannot read it) or if anything of ours is left
/// once both releases are gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_uninstall_racing_an_install_never_strands_its_records() {
    let Some(kit) = crate::support::k8s::kit() else {
        return;
    };
    let admin = kit.admin().await;
    let ns = TestNamespace::new(admin.clone(), "kc-keyrace").await;
    let env = Env::new(kit, &ns.name);
    let dir = temp_dir("keyrace");
    let chart = write_chart(
        &dir,
        "one",
        &[(
            "templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  k: v\n"
                .to_string(),
        )],
    );
    let chart = chart.to_str().expect("utf-8 path");
    let check = |ctx: &str, b: &str| {
        // Reads and decrypts b's record: the key it was written with is the namespace's.
        let status = env.run(&["status", b]);
        assert!(
            status.status.success(),
            "{ctx}: b's record cannot be read: {}",
            text(&status.stderr)
        );
        env.ok(&["uninstall", b]);
    };

    // The worst case: the key's DELETE held back 3 s by the proxy.
    let proxy = FaultProxy::start(kit);
    proxy.add_rule(Rule::new(
        "DELETE",
        &format!("/namespaces/{}/secrets/kubectl-chart-key", ns.name),
        &[1],
        Fault::Latency(Duration::from_secs(3)),
    ));
    env.ok(&["install", "a", chart]);
    let uninstall = env
        .via(proxy.kubeconfig(&dir, &ns.name))
        .spawn(&["uninstall", "a"]);
    // Its records gone (the lock stays until after the key): the key's DELETE is on its way.
    let records = "owner=kubectl-chart,name=a,version";
    let started = std::time::Instant::now();
    while !configmaps(&*admin, &ns.name, Some(records)).await.is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "a's records never went"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    env.ok(&["install", "b", chart]);
    let out = uninstall.wait_with_output().expect("the uninstall");
    assert!(out.status.success(), "held back: {}", text(&out.stderr));
    assert!(
        proxy.log().iter().any(|r| r.fault.is_some()),
        "the key's DELETE was not held back: {:?}",
        proxy.log()
    );
    check("held back", "b");

    // Staggers (ms) of the install against the uninstall's start; a run takes 0.1-0.4 s here.
    for (round, delay) in [0u64, 40, 80, 120, 160, 200].into_iter().enumerate() {
        env.ok(&["install", "a", chart]);
        let b = format!("b{round}");
        let uninstall = env.spawn(&["uninstall", "a"]);
        std::thread::sleep(Duration::from_millis(delay));
        let install = env.run(&["install", &b, chart]);
        let uninstall = uninstall.wait_with_output().expect("the uninstall");
        let ctx = format!("round {round} (install {delay} ms after the uninstall)");
        assert!(uninstall.status.success(), "{ctx}: {}", text(&uninstall.stderr));
        assert!(install.status.success(), "{ctx}: {}", text(&install.stderr));
        check(&ctx, &b);
        let (ours, key) = ours_left(&*admin, &ns.name).await;
        assert!(ours.is_empty() && !key, "{ctx}: left behind: {ours:?}, key {key}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

// ---- Secret values stay secret ---------------------------------------------------------------

/// Whether `needle` is in `hay` as text, or in its base64 decoding, or in the gunzip of that.
fn leaks(hay: &str, needle: &str) -> bool {
    if hay.contains(needle) {
        return true;
    }
    let Ok(raw) = STANDARD.decode(hay.trim()) else {
        return false;
    };
    if raw.windows(needle.len()).any(|w| w == needle.as_bytes()) {
        return true;
    }
    let mut unzipped = Vec::new();
    if raw.starts_with(&[0x1f, 0x8b])
        && flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut unzipped)
            .is_ok()
    {
        return unzipped.windows(needle.len()).any(|w| w == needle.as_bytes());
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_values_never_reach_a_configmap_or_read_commands() {
    let Some(kit) = crate::support::k8s::kit() else {
        return;
    };
    let admin = kit.admin().await;
    let ns = TestNamespace::new(admin.clone(), "kc-secret").await;
    let env = Env::new(kit, &ns.name);
    let dir = temp_dir("secret");
    let template = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\ntype: Opaque\nstringData:\n  \
                    password: {{ .Values.password | quote }}\ndata:\n  token: {{ .Values.token | b64enc }}\n\
                    ---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\ndata:\n  greeting: \
                    {{ .Values.greeting | quote }}\n";
    // Two chart versions with different secrets (chart defaults, so `get values`, which prints
    // only user-supplied values, has no reason to show them; a user who passes a password with
    // --set sees it in `get values`, as with Helm).
    let mut secrets = Vec::new();
    let mut charts = Vec::new();
    for v in ["v1", "v2"] {
        let (pw, tok) = (
            format!("pw-{}", random_b64(12).replace(['+', '/', '='], "x")),
            format!("tok-{}", random_b64(12).replace(['+', '/', '='], "x")),
        );
        let d = dir.join(v);
        let chart = write_chart(
            &d,
            "vault",
            &[
                ("templates/all.yaml", template.to_string()),
                (
                    "values.yaml",
                    format!("password: {pw}\ntoken: {tok}\ngreeting: hi\n"),
                ),
            ],
        );
        secrets.push(pw);
        secrets.push(tok);
        charts.push(chart.to_str().expect("utf-8 path").to_string());
    }
    env.ok(&["install", "vault", &charts[0], "--set", "greeting=one"]);
    env.ok(&["upgrade", "vault", &charts[1], "--set", "greeting=two"]);
    env.ok(&["rollback", "vault", "1"]);
    let live = get(&*admin, ("v1", "Secret"), &ns.name, "creds")
        .await
        .expect("secret");
    assert_eq!(
        live["data"]["password"]
            .as_str()
            .map(|s| STANDARD.decode(s).unwrap_or_default()),
        Some(secrets[0].as_bytes().to_vec()),
        "rolled back to the first password"
    );

    let mut needles: Vec<String> = secrets.clone();
    needles.extend(secrets.iter().map(|s| STANDARD.encode(s)));
    for cm in configmaps(&*admin, &ns.name, None).await {
        let name = cm["metadata"]["name"].as_str().unwrap_or("?").to_string();
        let mut texts: Vec<String> = Vec::new();
        for field in [
            &cm["data"],
            &cm["metadata"]["labels"],
            &cm["metadata"]["annotations"],
        ] {
            if let Some(m) = field.as_object() {
                for (k, v) in m {
                    texts.push(k.clone());
                    texts.push(v.as_str().unwrap_or("").to_string());
                }
            }
        }
        for t in &texts {
            for n in &needles {
                assert!(!leaks(t, n), "ConfigMap {name} holds {n:?}");
            }
        }
    }

    let reads: [&[&str]; 5] = [
        &["history", "vault"],
        &["history", "vault", "-o", "json"],
        &["status", "vault"],
        &["get", "values", "vault"],
        &["get", "values", "vault", "--revision", "2"],
    ];
    for args in reads {
        let out = env.ok(args);
        for n in &needles {
            assert!(!out.contains(n.as_str()), "{args:?} prints {n:?}:\n{out}");
        }
    }
    // `get manifest` prints the manifest as rendered, Secret included, exactly as
    // `helm get manifest` does: it is the command for reading what was applied, and reading it
    // needs the namespace's key Secret (RBAC on Secrets), not just ConfigMap access.
    let manifest = env.ok(&["get", "manifest", "vault"]);
    assert!(manifest.contains("kind: Secret"), "{manifest}");
    assert!(
        manifest.contains(&secrets[0]),
        "stringData printed as rendered: {manifest}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

// ---- faults while an upgrade writes ----------------------------------------------------------

/// A chart `name` of one Deployment, `web`, with `replicas: 1` and `tag: "1.25"`.
fn write_deployment_chart(dir: &Path, name: &str) -> PathBuf {
    write_chart(
        dir,
        name,
        &[
            ("templates/deployment.yaml", deployment_template()),
            ("values.yaml", "replicas: 1\ntag: \"1.25\"\n".to_string()),
        ],
    )
}

fn deployment_template() -> String {
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels:\n    app: web\nspec:\n  \
     replicas: {{ .Values.replicas }}\n  selector:\n    matchLabels:\n      app: web\n  template:\n    \
     metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n      - name: web\n        \
     image: nginx:{{ .Values.tag }}\n"
        .to_string()
}

/// Where a fault is injected during the upgrade.
#[derive(Debug, Clone, Copy)]
// Every point is a write, and the names say which one: dropping the shared suffix would not.
#[allow(clippy::enum_variant_names)]
enum Point {
    /// The create of the release lock: the upgrade's first ConfigMap POST.
    LockCreate,
    /// The first write to a chart object (the Deployment, the only object that changes).
    FirstObjectPatch,
    /// The create of the release record `kubectl-chart.web.v2`: the upgrade's second
    /// ConfigMap POST, after the lock's.
    RecordCreate,
}

fn rule(point: Point, ns: &str, fault: Fault) -> Rule {
    match point {
        Point::FirstObjectPatch => Rule::new(
            "PATCH",
            &format!("/apis/apps/v1/namespaces/{ns}/deployments/web(\\?|$)"),
            &[1],
            fault,
        ),
        Point::LockCreate => Rule::new(
            "POST",
            &format!("/api/v1/namespaces/{ns}/configmaps(\\?|$)"),
            &[1],
            fault,
        ),
        Point::RecordCreate => Rule::new(
            "POST",
            &format!("/api/v1/namespaces/{ns}/configmaps(\\?|$)"),
            &[2],
            fault,
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_during_an_upgrade_leave_a_history_the_next_run_recovers() {
    let Some(kit) = crate::support::k8s::kit() else {
        return;
    };
    let admin = kit.admin().await;
    let dir = temp_dir("faults");
    let chart = write_deployment_chart(&dir, "web");
    let chart = chart.to_str().expect("utf-8 path");
    let upgrade = ["upgrade", "web", chart, "--set", "replicas=3,tag=1.27"];
    let faults = [
        ("500", Fault::Status(500)),
        ("429", Fault::TooManyRequests { retry_after_secs: 1 }),
        ("409", Fault::Status(409)),
        ("drop before", Fault::DropBefore),
        ("drop after write", Fault::DropAfter),
    ];
    let proxy = FaultProxy::start(kit);
    let mut report = Vec::new();
    let mut cases: Vec<(Point, &str, Fault)> = Vec::new();
    for point in [Point::FirstObjectPatch, Point::RecordCreate] {
        cases.extend(faults.iter().map(|(n, f)| (point, *n, f.clone())));
    }
    // Issue 20: the connection cut right after the lock's create reached the server leaves a
    // lock nobody renews; the next plain run must see that and take it over.
    cases.push((Point::LockCreate, "drop after write", Fault::DropAfter));
    {
        for (point, fname, fault) in &cases {
            let (point, fault) = (*point, fault);
            let case = format!("{fname} at {point:?}");
            let ns = TestNamespace::new(admin.clone(), "kc-fault").await;
            let env = Env::new(kit, &ns.name);
            env.ok(&["install", "web", chart]);
            proxy.clear_rules();
            proxy.add_rule(rule(point, &ns.name, fault.clone()));
            let faulty = env.via(proxy.kubeconfig(&dir, &ns.name));
            let before = proxy.log().len();
            let out = faulty.run(&upgrade);
            let fired = proxy.log()[before..].iter().any(|r| r.fault.is_some());
            proxy.clear_rules();
            assert!(
                fired,
                "{case}: the fault never fired: {:?}",
                &proxy.log()[before..]
            );
            let err = text(&out.stderr);
            if out.status.success() {
                report.push(format!("{case}: succeeded"));
            } else {
                assert_eq!(out.status.code(), Some(1), "{case}: {err}");
                assert!(
                    err.lines().any(|l| l.starts_with("Error: ")) && !err.contains("panicked"),
                    "{case}: a clear error: {err}"
                );
                let line = err.lines().find(|l| l.starts_with("Error: ")).unwrap_or("");
                report.push(format!("{case}: {line}"));
            }

            // History: revision 1 intact, nothing lost, numbered without gaps.
            let h = env.history("web");
            let revs: Vec<u64> = h.iter().map(|r| r.0).collect();
            assert_eq!(revs, (1..=h.len() as u64).collect::<Vec<_>>(), "{case}: {h:?}");
            assert!(
                matches!(h[0].1.as_str(), "deployed" | "superseded"),
                "{case}: {h:?}"
            );

            // Re-running the same command, once and plainly, converges: a lock left behind is
            // watched, seen unrenewed and taken over.
            let left_locked = get(&*admin, ("v1", "ConfigMap"), &ns.name, "kubectl-chart.web.lock")
                .await
                .is_some();
            let again = env.run(&upgrade);
            assert!(
                again.status.success(),
                "{case}: re-run failed: {}",
                text(&again.stderr)
            );
            if left_locked {
                assert!(
                    text(&again.stderr).contains("took over the lock of release \"web\""),
                    "{case}: {}",
                    text(&again.stderr)
                );
            }
            if matches!(point, Point::LockCreate) {
                assert!(left_locked, "{case}: the cut create left no lock behind");
            }
            let h = env.history("web");
            assert_eq!(h.last().map(|r| r.1.as_str()), Some("deployed"), "{case}: {h:?}");
            assert!(
                h.iter().all(|r| !r.1.starts_with("pending")),
                "{case}: a pending revision survived the re-run: {h:?}"
            );
            assert_eq!(h.iter().filter(|r| r.1 == "deployed").count(), 1, "{case}: {h:?}");
            let dep = get(&*admin, ("apps/v1", "Deployment"), &ns.name, "web")
                .await
                .expect("deployment");
            assert_eq!(dep["spec"]["replicas"], 3, "{case}");
            assert_eq!(
                dep["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.27",
                "{case}"
            );
        }
    }
    eprintln!("fault outcomes:\n  {}", report.join("\n  "));
    let _ = std::fs::remove_dir_all(dir);
}

/// Issue 20: the connection cut right after the lock's create reached the server, on an
/// install (a first release: no record yet) and on an uninstall. The cut run fails, naming the
/// failure, and leaves a lock nobody renews; one plain rerun of the same command watches it for
/// one lease duration, takes it over and converges: the install ends deployed with no pending
/// revision, the uninstall leaves nothing (no object, record, lock or key Secret).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_after_the_lock_create_of_an_install_or_uninstall_then_a_plain_rerun_converges() {
    let Some(kit) = crate::support::k8s::kit() else {
        return;
    };
    let admin = kit.admin().await;
    let dir = temp_dir("lockcut");
    let chart = write_deployment_chart(&dir, "web");
    let chart = chart.to_str().expect("utf-8 path");
    let proxy = FaultProxy::start(kit);
    let install = ["install", "web", chart, "--set", "replicas=2"];
    let uninstall = ["uninstall", "web"];
    let cases: [(&str, &[&str]); 2] = [("install", &install), ("uninstall", &uninstall)];
    for (case, args) in cases {
        let ns = TestNamespace::new(admin.clone(), "kc-lockcut").await;
        let env = Env::new(kit, &ns.name);
        if case == "uninstall" {
            env.ok(&install);
        }
        proxy.clear_rules();
        proxy.add_rule(rule(Point::LockCreate, &ns.name, Fault::DropAfter));
        let faulty = env.via(proxy.kubeconfig(&dir, &ns.name));
        let before = proxy.log().len();
        let out = faulty.run(args);
        let fired = proxy.log()[before..].iter().any(|r| r.fault.is_some());
        proxy.clear_rules();
        assert!(
            fired,
            "{case}: the fault never fired: {:?}",
            &proxy.log()[before..]
        );
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{case}: the cut run: {err}");
        assert!(
            err.lines().any(|l| l.starts_with("Error: ")) && !err.contains("panicked"),
            "{case}: a clear error: {err}"
        );
        let lease = get(&*admin, ("v1", "ConfigMap"), &ns.name, "kubectl-chart.web.lock").await;
        assert!(lease.is_some(), "{case}: the cut create left no lock behind");
        // Nothing was recorded or changed past the lock.
        let records = configmaps(&*admin, &ns.name, Some("owner=kubectl-chart,name=web,version")).await;
        let pending = records
            .iter()
            .filter(|cm| {
                cm["metadata"]["labels"]["status"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("pending"))
            })
            .count();
        assert_eq!(
            pending, 0,
            "{case}: a pending record before the rerun: {records:?}"
        );

        let started = std::time::Instant::now();
        let again = env.run(args);
        let again_err = text(&again.stderr);
        eprintln!(
            "lock cut: {case}: the cut run said {:?}; the plain rerun converged in {:?}",
            err.lines().find(|l| l.starts_with("Error: ")).unwrap_or(""),
            started.elapsed()
        );
        assert!(
            again.status.success(),
            "{case}: the plain rerun failed: {again_err}"
        );
        assert!(
            again_err.contains("took over the lock of release \"web\""),
            "{case}: {again_err}"
        );
        if case == "install" {
            let h = env.history("web");
            assert!(
                h.iter().all(|r| !r.1.starts_with("pending")),
                "{case}: a pending revision survived the rerun: {h:?}"
            );
            assert_eq!(h.last().map(|r| r.1.as_str()), Some("deployed"), "{case}: {h:?}");
            assert_eq!(h.len(), 1, "{case}: the cut run recorded nothing: {h:?}");
            let dep = get(&*admin, ("apps/v1", "Deployment"), &ns.name, "web")
                .await
                .expect("deployment");
            assert_eq!(dep["spec"]["replicas"], 2, "{case}");
            assert!(
                get(&*admin, ("v1", "ConfigMap"), &ns.name, "kubectl-chart.web.lock")
                    .await
                    .is_none(),
                "{case}: the lock is left behind"
            );
        } else {
            let (ours, key) = ours_left(&*admin, &ns.name).await;
            assert!(ours.is_empty(), "{case}: left behind: {ours:?}");
            assert!(!key, "{case}: the key Secret is left behind");
            assert!(
                get(&*admin, ("apps/v1", "Deployment"), &ns.name, "web")
                    .await
                    .is_none(),
                "{case}: the Deployment is left behind"
            );
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

// ---- clocks that disagree (issue 20) ---------------------------------------------------------

/// libfaketime's preload library, where Debian's `faketime` package puts it.
fn libfaketime() -> Option<PathBuf> {
    let lib = Path::new("faketime/libfaketime.so.1");
    let mut dirs = vec![PathBuf::from("/usr/lib"), PathBuf::from("/usr/local/lib")];
    if let Ok(entries) = std::fs::read_dir("/usr/lib") {
        dirs.extend(entries.flatten().map(|e| e.path()));
    }
    dirs.into_iter().map(|d| d.join(lib)).find(|p| p.is_file())
}

/// Whether libfaketime is installed (`.ci/run` installs the `faketime` package); a missing one
/// fails the test where the cluster tests are required, as a missing kit does.
fn have_faketime() -> bool {
    let found = libfaketime().is_some();
    if !found && std::env::var_os("KC_REQUIRE_K8S").is_some() {
        panic!("faketime is required (apt-get install faketime)");
    }
    if !found {
        eprintln!("skipping: faketime is not installed");
    }
    found
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The lease in the lock object, once it exists.
async fn wait_for_lease(admin: &dyn Cluster, ns: &str, release: &str) -> Value {
    let started = std::time::Instant::now();
    loop {
        let lock = get(
            admin,
            ("v1", "ConfigMap"),
            ns,
            &format!("kubectl-chart.{release}.lock"),
        )
        .await;
        if let Some(lease) = lock.and_then(|cm| cm["data"]["lease"].as_str().map(str::to_string)) {
            return serde_json::from_str(&lease).expect("lease json");
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the holder never took the lock"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What of ours is left in `ns`: our ConfigMaps (records, lock), and whether the key Secret is.
async fn ours_left(admin: &dyn Cluster, ns: &str) -> (Vec<Value>, bool) {
    let ours = configmaps(admin, ns, None)
        .await
        .into_iter()
        .filter(|cm| {
            cm["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("kubectl-chart"))
        })
        .collect();
    let key = get(admin, ("v1", "Secret"), ns, "kubectl-chart-key")
        .await
        .is_some();
    (ours, key)
}

/// Waits until revision `revision` of `release` is recorded (its ConfigMap exists).
async fn wait_for_record(admin: &dyn Cluster, ns: &str, release: &str, revision: u32) {
    let started = std::time::Instant::now();
    let name = format!("kubectl-chart.{release}.v{revision}");
    while get(admin, ("v1", "ConfigMap"), ns, &name).await.is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "revision {revision} of {release} was never recorded"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skewed_clocks_never_let_a_live_holder_be_overtaken_nor_a_dead_one_block() {
    let Some(kit) = crate::support::k8s::kit() else {
        return;
    };
    if !have_faketime() {
        return;
    }
    let admin = kit.admin().await;
    let dir = temp_dir("skew");
    let chart = write_deployment_chart(&dir, "skew");
    let chart = chart.to_str().expect("utf-8 path");
    let holder_args = [
        "upgrade",
        "skew",
        chart,
        "--wait",
        "--timeout",
        "15s",
        // An image the fake kubelet never makes ready: the holder works (and renews its lock)
        // for the whole 15 s --wait, then fails its revision on the timeout, alive throughout.
        "--set",
        "tag=fail",
    ];
    // (case, the holder's clock offset, the other runs' offset, whether the holder is killed)
    let cases: [(&str, Option<&str>, Option<&str>, bool); 3] = [
        ("live holder 10 min fast", Some("+10m"), None, false),
        ("live holder 10 min slow", None, Some("+10m"), false),
        ("dead holder 10 min fast", Some("+10m"), None, true),
    ];
    for (case, holder_skew, other_skew, kill) in cases {
        let ns = TestNamespace::new(admin.clone(), "kc-skew").await;
        let env = Env::new(kit, &ns.name);
        env.ok(&["install", "skew", chart]);
        let mut holder = env
            .cmd_skewed(holder_skew, &holder_args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the holder");
        let lease = wait_for_lease(&*admin, &ns.name, "skew").await;
        let run_id = lease["holder"].as_str().expect("holder").to_string();
        // The offset really reached the holder: its lease is stamped by its own clock.
        let stamped = lease["acquired_at"].as_i64().expect("acquired_at") - unix_now();
        let want = if holder_skew.is_some() { 600 } else { 0 };
        assert!(
            (stamped - want).abs() < 30,
            "{case}: the holder's clock is {stamped} s off, want {want}"
        );

        if kill {
            // Killed once its pending revision is recorded (the lease comes first, before the
            // chart is even rendered), so there is an interrupted revision to recover.
            wait_for_record(&*admin, &ns.name, "skew", 2).await;
            holder.kill().expect("kill -9");
            let _ = holder.wait();
            let started = std::time::Instant::now();
            let out = env
                .cmd_skewed(other_skew, &["upgrade", "skew", chart, "--set", "tag=1.26"])
                .output()
                .expect("rerun");
            let err = text(&out.stderr);
            assert!(out.status.success(), "{case}: plain rerun failed: {err}");
            // One lease duration (4 s here) of watching, then the upgrade: printed, not asserted.
            eprintln!(
                "skew: {case}: the plain rerun converged in {:?}",
                started.elapsed()
            );
            assert!(
                err.contains("took over the lock") && err.contains(&run_id),
                "{case}: {err}"
            );
            let h = env.history("skew");
            assert_eq!(h[1].1, "failed", "{case}: {h:?}");
            assert!(h[1].2.contains("interrupted"), "{case}: {h:?}");
            assert_eq!(h[2].1, "deployed", "{case}: {h:?}");
            continue;
        }

        // A plain run stops at once, naming the live holder, and writes nothing.
        let out = env
            .cmd_skewed(other_skew, &["upgrade", "skew", chart, "--set", "tag=1.26"])
            .output()
            .expect("second run");
        let err = text(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{case}: a second run overtook a live holder: {err}"
        );
        assert!(
            err.contains("in progress")
                && err.contains(&format!("by run {run_id} on host "))
                && err.contains("--wait-for-lock"),
            "{case}: {err}"
        );
        // --wait-for-lock waits for the holder, then goes ahead.
        let waiter = env
            .cmd_skewed(
                other_skew,
                &[
                    "upgrade",
                    "skew",
                    chart,
                    "--set",
                    "tag=1.28",
                    "--wait-for-lock",
                    "90s",
                ],
            )
            .output()
            .expect("waiting run");
        let holder_out = holder.wait_with_output().expect("holder");
        let holder_err = text(&holder_out.stderr);
        assert_eq!(holder_out.status.code(), Some(1), "{case}: {holder_err}");
        assert!(
            holder_err.contains("timed out") || holder_err.contains("timeout"),
            "{case}: the live holder should fail on its own --timeout only: {holder_err}"
        );
        assert!(!holder_err.contains("lost the lock"), "{case}: {holder_err}");
        let werr = text(&waiter.stderr);
        assert!(waiter.status.success(), "{case}: the waiting run failed: {werr}");
        assert!(
            werr.contains("waiting for the lock") && werr.contains(&run_id),
            "{case}: {werr}"
        );
        assert!(
            !werr.contains("took over"),
            "{case}: the waiter took the lock from a live holder: {werr}"
        );
        let h = env.history("skew");
        let statuses: Vec<&str> = h.iter().map(|r| r.1.as_str()).collect();
        assert_eq!(statuses, ["superseded", "failed", "deployed"], "{case}: {h:?}");
        assert!(h.iter().all(|r| !r.2.contains("interrupted")), "{case}: {h:?}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

// ---- connection failures are named (issue 20) ------------------------------------------------

/// A kubeconfig like the kit's with `edit` applied to its text.
fn edited_kubeconfig(kit: &Kit, dir: &Path, name: &str, edit: impl Fn(&str) -> Option<String>) -> PathBuf {
    let text = std::fs::read_to_string(&kit.kubeconfig).expect("kit kubeconfig");
    let out: Vec<String> = text.lines().filter_map(edit).collect();
    let path = dir.join(name);
    std::fs::write(&path, out.join("\n") + "\n").expect("kubeconfig");
    path
}

/// A CA the kit's server certificate was not signed by, base64 as kubeconfigs hold it.
fn other_ca(dir: &Path) -> String {
    let (key, crt) = (dir.join("other-ca.key"), dir.join("other-ca.crt"));
    let ok = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ])
        .args(["-subj", "/CN=other-ca", "-days", "1", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&crt)
        .stderr(Stdio::null())
        .status()
        .expect("openssl")
        .success();
    assert!(ok, "openssl made no CA");
    STANDARD.encode(std::fs::read(crt).expect("CA"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_failures_name_the_server_the_context_and_the_cause() {
    let Some(kit) = crate::support::k8s::kit() else {
        return;
    };
    let admin = kit.admin().await;
    let ns = TestNamespace::new(admin.clone(), "kc-conn").await;
    let dir = temp_dir("conn");
    let server = std::fs::read_to_string(&kit.kubeconfig)
        .expect("kubeconfig")
        .lines()
        .find_map(|l| l.trim().strip_prefix("server: https://").map(str::to_string))
        .expect("server line");
    let ca = other_ca(&dir);
    let dead = edited_kubeconfig(kit, &dir, "dead", |l| {
        Some(if l.trim_start().starts_with("server:") {
            "    server: https://127.0.0.1:9".into()
        } else {
            l.into()
        })
    });
    let untrusted = edited_kubeconfig(kit, &dir, "untrusted", |l| {
        Some(if l.trim_start().starts_with("certificate-authority-data:") {
            format!("    certificate-authority-data: {ca}")
        } else {
            l.into()
        })
    });
    let bad_token = edited_kubeconfig(kit, &dir, "token", |l| match l.trim_start() {
        t if t.starts_with("client-certificate-data:") => Some("    token: expired-or-revoked".into()),
        t if t.starts_with("client-key-data:") => None,
        _ => Some(l.into()),
    });
    // (case, kubeconfig, extra flags, what the one error line must say)
    let cases: [(&str, &PathBuf, &[&str], Vec<String>); 4] = [
        (
            "dead server",
            &dead,
            &[],
            vec!["the connection to the server 127.0.0.1:9 (context kit) was refused - did you specify the right host or port?".into()],
        ),
        (
            "server certificate from an unknown CA",
            &untrusted,
            &[],
            vec![format!("the server {server} (context kit)"), "x509: certificate signed by unknown authority".into()],
        ),
        (
            "rejected token",
            &bad_token,
            &[],
            vec!["you must be logged in to the server (Unauthorized)".into()],
        ),
        (
            "forbidden",
            &kit.kubeconfig,
            &["--as", "nobody"],
            vec![format!(
                "User \"nobody\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"{}\"",
                ns.name
            )],
        ),
    ];
    for (case, kubeconfig, extra, want) in cases {
        let env = Env::new(kit, &ns.name).via(kubeconfig.clone());
        let mut args = vec!["history", "web"];
        args.extend_from_slice(extra);
        let started = std::time::Instant::now();
        let out = env.run(&args);
        let err = text(&out.stderr);
        eprintln!("conn: {case}: {:?}: {}", started.elapsed(), err.trim());
        assert_eq!(out.status.code(), Some(1), "{case}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{case}: one line: {err}");
        for w in &want {
            assert!(err.contains(w.as_str()), "{case}: want {w:?} in {err}");
        }
        for wrapper in ["ServiceError", "client error (", "tcp connect error"] {
            assert!(
                !err.contains(wrapper),
                "{case}: client wrapper text {wrapper:?} in {err}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}
