//! Differential tests against the real control plane: kubectl and helm are the oracles.
//!
//! 1. kubectl: for each scenario in [`scenarios`] (a pair of manifests, revision A and B, and
//!    optional hand edits between them), `kubectl apply -f` A then B into one namespace and
//!    `kubectl-chart apply` of a one-template chart holding A then B into another, then compare
//!    the live objects outside the fields the server, kubectl or our release bookkeeping own. Once
//!    client-side (kubectl's three-way strategic merge against our three-way JSON patch) and once
//!    server-side (`kubectl apply --server-side` against `kubectl-chart apply --server-side`).
//! 2. Predicted vs real: before B, our plan (the library's `action::diff`, which is what
//!    `kubectl-chart diff` prints; `-o json` carries the patch but not the predicted object) is
//!    checked against the API server: each patch is sent as a dry run and the server's answer must
//!    contain everything the prediction says, value for value. What the server adds on top (defaults
//!    of a new container, say) is printed, not failed: prediction is client-side by design.
//! 3. helm: podinfo and keda from the corpus, installed, upgraded and rolled back with helm 3.17.2
//!    and with kubectl-chart; the sets of objects and their content must match once namespaces and
//!    release bookkeeping are normalised. keda brings cluster-scoped objects (CRDs in templates,
//!    ClusterRoles, an APIService, a webhook), so the two tools take turns rather than share.
//!
//! 4. Unchanged means unchanged (issue 10): argo-cd freshly installed has no diff and a no-op
//!    upgrade writes no object (server defaults inside atomic lists, `rules: null`), and its
//!    uninstall deletes without reading each object first; requests seen by a recording proxy.
//!
//! One control plane (with the fake kubelet) for the binary; every scenario gets namespaces of its
//! own and scenarios run a few at a time.

use crate::support;

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    process::Command,
    sync::{Arc, Mutex, RwLock},
};

use crate::support::k8s::Kit;
use kubectl_chart::{
    action::{self, Context, DiffOptions},
    apply::{self, ApplyOptions},
    cluster::{Cluster, ConnectOptions, KubeCluster},
    diff::{Action, ViewOptions},
};
use serde_json::{json, Value};

const KUBECTL: &str = "/usr/bin/kubectl";
const CORPUS: &str = "../shared/corpus/charts";
/// Field manager of hand edits made between A and B: someone who is neither kubectl apply nor us.
const HAND: &str = "oracle-hand";

/// The keda test installs an APIService whose backend never answers, which makes aggregated
/// discovery incomplete for everyone; the kubectl scenarios hold this for reading so they never
/// run while it exists.
static CLUSTER_WIDE: RwLock<()> = RwLock::new(());

// ---------------------------------------------------------------------------------------------
// Processes

fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("running {cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{:?} failed ({}): {}{}",
            cmd,
            out.status,
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        ))
    }
}

fn must(cmd: &mut Command) -> String {
    run(cmd).unwrap_or_else(|e| panic!("{e}"))
}

fn kubectl(kit: &Kit) -> Command {
    let mut c = Command::new(KUBECTL);
    c.arg("--kubeconfig")
        .arg(&kit.kubeconfig)
        .env_remove("KUBECONFIG");
    c
}

fn ours(kit: &Kit, ns: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kubectl-chart"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("-n")
        .arg(ns)
        .arg("--kubeconfig")
        .arg(&kit.kubeconfig)
        .env_remove("KUBECONFIG")
        .env("KUBECTL_CHART_LOCK_TTL", "10");
    c
}

/// A namespace made and dropped with kubectl, so scenario threads need no async runtime for it.
struct Ns<'a> {
    kit: &'a Kit,
    name: String,
}

impl<'a> Ns<'a> {
    fn new(kit: &'a Kit, prefix: &str) -> Self {
        let name = format!("{prefix}-{:06x}", rand::random::<u32>() & 0xff_ffff);
        must(kubectl(kit).args(["create", "namespace", &name]));
        Ns { kit, name }
    }
}

impl Drop for Ns<'_> {
    fn drop(&mut self) {
        let _ = kubectl(self.kit)
            .args(["delete", "namespace", &self.name, "--wait=false"])
            .output();
    }
}

fn temp_dir(what: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "kc-oracle-{}-{what}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A chart whose one template is `manifest`, verbatim.
fn chart_of(manifest: &str, root: &Path, rev: &str) -> PathBuf {
    let dir = root.join(format!("chart-{rev}"));
    std::fs::create_dir_all(dir.join("templates")).expect("chart dir");
    std::fs::write(
        dir.join("Chart.yaml"),
        "apiVersion: v2\nname: oracle\nversion: 0.1.0\n",
    )
    .expect("Chart.yaml");
    std::fs::write(dir.join("templates/all.yaml"), manifest).expect("all.yaml");
    dir
}

// ---------------------------------------------------------------------------------------------
// Normalising live objects

/// Annotations and labels that record who applied what (kubectl's last-applied record, Helm's
/// release metadata) or that controllers write; they differ between the tools by construction.
const BOOKKEEPING_ANNOTATIONS: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    "meta.helm.sh/release-name",
    "meta.helm.sh/release-namespace",
    "deployment.kubernetes.io/revision",
];
const BOOKKEEPING_LABELS: &[&str] = &["app.kubernetes.io/managed-by"];

/// Drops server-owned fields (and, with `bookkeeping`, the tools' own records and
/// `metadata.namespace`), then empty label/annotation maps.
fn clean(mut obj: Value, bookkeeping: bool) -> Value {
    let Some(map) = obj.as_object_mut() else {
        return obj;
    };
    map.remove("status");
    if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in [
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "managedFields",
            "generation",
            "selfLink",
        ] {
            meta.remove(k);
        }
        if bookkeeping {
            meta.remove("namespace");
            for (field, keys) in [
                ("annotations", BOOKKEEPING_ANNOTATIONS),
                ("labels", BOOKKEEPING_LABELS),
            ] {
                let empty = match meta.get_mut(field).and_then(Value::as_object_mut) {
                    Some(m) => {
                        for k in keys {
                            m.remove(*k);
                        }
                        m.is_empty()
                    }
                    None => false,
                };
                if empty {
                    meta.remove(field);
                }
            }
        }
    }
    // Allocated per object by the server.
    if map.get("kind").and_then(Value::as_str) == Some("Service") {
        if let Some(spec) = map.get_mut("spec").and_then(Value::as_object_mut) {
            spec.remove("clusterIP");
            spec.remove("clusterIPs");
        }
    }
    obj
}

/// Replaces every occurrence of each `from` in strings and map keys.
fn replace_all(v: &Value, subs: &[(String, String)]) -> Value {
    let s = |t: &str| {
        let mut t = t.to_string();
        for (from, to) in subs {
            t = t.replace(from.as_str(), to);
        }
        t
    };
    match v {
        Value::String(t) => Value::String(s(t)),
        Value::Array(a) => Value::Array(a.iter().map(|x| replace_all(x, subs)).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, x)| (s(k), replace_all(x, subs))).collect()),
        other => other.clone(),
    }
}

/// Paths where `a` and `b` differ (at most a handful, for the failure message).
fn differences(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    if out.len() > 12 {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let p = format!("{path}/{k}");
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => differences(u, v, &p, out),
                    (Some(u), None) => out.push(format!("{p}: only left: {u}")),
                    (None, Some(v)) => out.push(format!("{p}: only right: {v}")),
                    (None, None) => {}
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                differences(u, v, &format!("{path}/{i}"), out);
            }
        }
        _ if a == b => {}
        _ => out.push(format!("{path}: {a} != {b}")),
    }
}

/// Checks that every field of `predicted` is in `real` with the same value (lists position by
/// position, same length); fields only in `real` go to `extra`.
fn contained(predicted: &Value, real: &Value, path: &str, wrong: &mut Vec<String>, extra: &mut Vec<String>) {
    match (predicted, real) {
        (Value::Object(p), Value::Object(r)) => {
            for (k, pv) in p {
                let sub = format!("{path}/{k}");
                match r.get(k) {
                    Some(rv) => contained(pv, rv, &sub, wrong, extra),
                    None => wrong.push(format!("{sub}: predicted {pv}, the server has nothing")),
                }
            }
            for (k, rv) in r {
                if !p.contains_key(k) {
                    extra.push(format!("{path}/{k}: {rv}"));
                }
            }
        }
        (Value::Array(p), Value::Array(r)) if p.len() == r.len() => {
            for (i, (pv, rv)) in p.iter().zip(r).enumerate() {
                contained(pv, rv, &format!("{path}/{i}"), wrong, extra);
            }
        }
        _ if predicted == real => {}
        _ => wrong.push(format!("{path}: predicted {predicted}, the server says {real}")),
    }
}

// ---------------------------------------------------------------------------------------------
// The kubectl scenarios

/// Revision A of every scenario starts from this, edited by textual replacements. `#END-APP`
/// marks the end of the app container, `#END-POD` the end of the pod spec.
const BASE: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
    tier: front
spec:
  replicas: 1
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: app
        image: nginx:1.25
        args: ["--a", "--b"]
        env:
        - name: A
          value: "1"
        - name: B
          value: "2"
        ports:
        - containerPort: 80
          name: http
        #END-APP
      #END-POD
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
data:
  a: "1"
  b: "2"
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - name: http
    port: 80
    targetPort: http
"#;

const SIDECAR: &str = "      - name: sidecar\n        image: busybox:1.36\n";

/// What the oracle and we should end up with.
#[derive(Clone, Copy)]
enum Expect {
    /// The same live objects.
    Same,
    /// We deliberately differ; the reason, and a check of our behaviour given (kubectl's
    /// objects, ours), each keyed by `Kind/name` and `None` when absent.
    Differs(&'static str, fn(&Objects, &Objects)),
}

type Objects = BTreeMap<String, Option<Value>>;

struct Scenario {
    name: &'static str,
    /// Replacements on [`BASE`] giving A, and then on A giving B.
    a: &'static [(&'static str, &'static str)],
    b: &'static [(&'static str, &'static str)],
    /// `kubectl` argument lists run (with `-n NS --field-manager` added) between A and B.
    between: &'static [&'static [&'static str]],
    expect: Expect,
}

fn edit(text: &str, edits: &[(&str, &str)], scenario: &str) -> String {
    let mut out = text.to_string();
    for (from, to) in edits {
        assert!(
            out.contains(from),
            "scenario {scenario}: {from:?} not in the manifest"
        );
        out = out.replacen(from, to, 1);
    }
    out
}

const WITH_SIDECAR: &[(&str, &str)] = &[(
    "      #END-POD",
    "      - name: sidecar\n        image: busybox:1.36\n      #END-POD",
)];

fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "scalar-change",
            a: &[],
            b: &[("replicas: 1", "replicas: 3"), ("nginx:1.25", "nginx:1.26")],
            between: &[],
            expect: Expect::Same,
        },
        Scenario {
            name: "map-key-removed",
            a: &[],
            b: &[("  b: \"2\"\n", "")],
            between: &[],
            expect: Expect::Same,
        },
        Scenario {
            name: "container-added",
            a: &[],
            b: WITH_SIDECAR,
            between: &[],
            expect: Expect::Same,
        },
        Scenario {
            name: "container-removed",
            a: WITH_SIDECAR,
            b: &[(SIDECAR, "")],
            between: &[],
            expect: Expect::Same,
        },
        Scenario {
            name: "containers-reordered",
            a: WITH_SIDECAR,
            b: &[
                (SIDECAR, ""),
                (
                    "      containers:\n",
                    "      containers:\n      - name: sidecar\n        image: busybox:1.36\n",
                ),
            ],
            between: &[],
            expect: Expect::Same,
        },
        Scenario {
            name: "env-var-removed",
            a: &[],
            b: &[("        - name: B\n          value: \"2\"\n", "")],
            between: &[],
            expect: Expect::Same,
        },
        Scenario {
            name: "service-port-changed",
            a: &[],
            b: &[("    port: 80\n", "    port: 8080\n")],
            between: &[],
            expect: Expect::Same,
        },
        Scenario {
            name: "container-port-changed",
            a: &[],
            b: &[("containerPort: 80\n", "containerPort: 8080\n")],
            between: &[],
            expect: Expect::Same,
        },
        Scenario {
            name: "volume-and-mount-added",
            a: &[],
            b: &[
                (
                    "        #END-APP",
                    "        volumeMounts:\n        - name: data\n          mountPath: /data\n        #END-APP",
                ),
                (
                    "      #END-POD",
                    "      volumes:\n      - name: data\n        emptyDir: {}\n      #END-POD",
                ),
            ],
            between: &[],
            expect: Expect::Same,
        },
        Scenario {
            name: "atomic-list-changed",
            a: &[],
            b: &[(r#"args: ["--a", "--b"]"#, r#"args: ["--b", "--c"]"#)],
            between: &[],
            expect: Expect::Same,
        },
        Scenario {
            name: "other-manager-field-kept",
            a: &[],
            b: &[("nginx:1.25", "nginx:1.26")],
            between: &[
                &["patch", "deployment", "web", "--type=strategic", "-p", r#"{"spec":{"minReadySeconds":5}}"#],
                &[
                    "patch",
                    "deployment",
                    "web",
                    "--type=strategic",
                    "-p",
                    r#"{"spec":{"template":{"spec":{"containers":[{"name":"app","env":[{"name":"HAND","value":"x"}]}]}}}}"#,
                ],
                &["patch", "configmap", "web-config", "--type=merge", "-p", r#"{"data":{"hand":"x"}}"#],
            ],
            expect: Expect::Same,
        },
        Scenario {
            name: "drift-reverted",
            a: &[],
            b: &[("replicas: 1", "replicas: 2")],
            between: &[
                &[
                    "patch",
                    "deployment",
                    "web",
                    "--type=strategic",
                    "-p",
                    r#"{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:hand"}]}}}}"#,
                ],
                &["patch", "configmap", "web-config", "--type=merge", "-p", r#"{"data":{"a":"hand"}}"#],
            ],
            expect: Expect::Same,
        },
        Scenario {
            name: "hand-annotation-kept",
            a: &[],
            b: &[("nginx:1.25", "nginx:1.26")],
            between: &[&["annotate", "deployment", "web", "team/owner=ops"]],
            expect: Expect::Same,
        },
        Scenario {
            name: "label-removed-by-chart",
            a: &[],
            b: &[("    tier: front\n", "")],
            between: &[],
            expect: Expect::Same,
        },
        Scenario {
            name: "object-removed-from-chart",
            a: &[],
            b: &[(
                "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\ndata:\n  a: \"1\"\n  b: \"2\"\n",
                "",
            )],
            between: &[],
            // `kubectl apply -f` without `--prune` never deletes what left the file; a release
            // owns its objects and prunes them, as `helm upgrade` does.
            expect: Expect::Differs(
                "a release prunes objects that left the chart; kubectl apply -f (no --prune) keeps them",
                |kubectl, ours| {
                    assert!(kubectl["ConfigMap/web-config"].is_some(), "kubectl keeps the ConfigMap");
                    assert!(ours["ConfigMap/web-config"].is_none(), "we prune the ConfigMap");
                },
            ),
        },
    ]
}

/// Kind, name and explicit namespace (empty when the manifest sets none) of every object.
type Id = (String, String, String);

fn ids_of(manifest: &str) -> Vec<Id> {
    let field = |d: &Value, p: &str| {
        d.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    action::parse_manifest_docs(manifest, "manifest")
        .expect("manifest")
        .iter()
        .map(|d| {
            (
                field(d, "/kind"),
                field(d, "/metadata/name"),
                field(d, "/metadata/namespace"),
            )
        })
        .collect()
}

/// Each object by `Kind/name` (`Kind/namespace/name` when its manifest names another namespace),
/// cleaned, or `None` when absent. kubectl ignores `-n` for cluster-scoped kinds.
fn live_objects(kit: &Kit, ns: &str, ids: &[Id]) -> Objects {
    ids.iter()
        .map(|(kind, name, explicit)| {
            let (key, ns) = if explicit.is_empty() || explicit == ns {
                (format!("{kind}/{name}"), ns)
            } else {
                (format!("{kind}/{explicit}/{name}"), explicit.as_str())
            };
            let got =
                run(kubectl(kit).args(["get", kind, name, "-n", ns, "-o", "json", "--ignore-not-found"]));
            let text = got.unwrap_or_else(|e| panic!("{e}"));
            let obj = (!text.trim().is_empty())
                .then(|| clean(serde_json::from_str(&text).expect("kubectl get json"), true));
            (key, obj)
        })
        .collect()
}

/// What one scenario found, for the summary table.
struct Finding {
    scenario: &'static str,
    mode: &'static str,
    result: String,
    failure: Option<String>,
}

/// Applies A, the hand edits and B with kubectl into one namespace and with us into another, then
/// compares; also checks our predictions for B against server dry runs.
fn run_scenario(kit: &Kit, s: &Scenario, server_side: bool) -> Finding {
    let mode = if server_side { "server-side" } else { "client-side" };
    let a = edit(BASE, s.a, s.name);
    let b = edit(&a, s.b, s.name);
    let root = temp_dir(s.name);
    std::fs::write(root.join("a.yaml"), &a).expect("a.yaml");
    std::fs::write(root.join("b.yaml"), &b).expect("b.yaml");
    let (chart_a, chart_b) = (chart_of(&a, &root, "a"), chart_of(&b, &root, "b"));
    let tag = if server_side { "ss" } else { "cs" };
    let x = Ns::new(kit, &format!("or-{tag}-k"));
    let y = Ns::new(kit, &format!("or-{tag}-c"));

    let kubectl_apply = |file: &str| {
        let mut c = kubectl(kit);
        c.args(["apply", "-n", &x.name, "-f"]).arg(root.join(file));
        if server_side {
            // We force conflicts (as Helm 4 does: the chart is the source of truth for what it
            // declares), so the oracle must too, or a hand edit of our field is a conflict.
            c.args([
                "--server-side",
                "--field-manager=oracle-kubectl",
                "--force-conflicts",
            ]);
        }
        must(&mut c);
    };
    let ours_apply = |chart: &Path| {
        let mut c = ours(kit, &y.name);
        c.arg("apply").arg("rel").arg(chart);
        if server_side {
            c.arg("--server-side");
        }
        must(&mut c);
    };

    kubectl_apply("a.yaml");
    ours_apply(&chart_a);
    for args in s.between {
        for ns in [&x.name, &y.name] {
            must(
                kubectl(kit)
                    .args(*args)
                    .args(["-n", ns, &format!("--field-manager={HAND}")]),
            );
        }
    }

    let prediction = check_prediction(kit, &y.name, &chart_b, server_side);

    kubectl_apply("b.yaml");
    ours_apply(&chart_b);

    let mut ids = ids_of(&a);
    for id in ids_of(&b) {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    let theirs = live_objects(kit, &x.name, &ids);
    let mine = live_objects(kit, &y.name, &ids);
    let _ = std::fs::remove_dir_all(&root);

    let mut failure = None;
    let result = match s.expect {
        Expect::Same => {
            let mut diffs = Vec::new();
            for (id, t) in &theirs {
                let m = &mine[id];
                let (t, m) = (t.clone().unwrap_or(Value::Null), m.clone().unwrap_or(Value::Null));
                let mut d = Vec::new();
                differences(&t, &m, id, &mut d);
                diffs.extend(d);
            }
            if !diffs.is_empty() {
                failure = Some(format!(
                    "kubectl (left) and ours (right) differ:\n  {}",
                    diffs.join("\n  ")
                ));
            }
            "same".to_string()
        }
        Expect::Differs(why, check) => {
            if let Err(p) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&theirs, &mine))) {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failure = Some(format!("deliberate difference not as expected: {msg}"));
            }
            format!("deliberately different: {why}")
        }
    };
    let failure = match (failure, prediction) {
        (f, Ok(note)) => {
            if !note.is_empty() {
                eprintln!(
                    "[{} {mode}] server defaults not in the prediction:\n  {note}",
                    s.name
                );
            }
            f
        }
        (None, Err(p)) => Some(p),
        (Some(f), Err(p)) => Some(format!("{f}\n{p}")),
    };
    Finding {
        scenario: s.name,
        mode,
        result,
        failure,
    }
}

/// Plans B against namespace `ns` exactly as `kubectl-chart diff` does, checks that the CLI's
/// `-o json` patches are the plan's, then sends each change as a server dry run (the JSON patch,
/// or with `server_side` the apply body the executor would send) and checks the server's answer
/// holds the predicted object. Returns the server-added fields (defaults) as a note.
fn check_prediction(kit: &Kit, ns: &str, chart: &Path, server_side: bool) -> Result<String, String> {
    let cli = must(
        ours(kit, ns)
            .arg("diff")
            .arg("rel")
            .arg(chart)
            .args(["-o", "json"]),
    );
    let cli: Value = serde_json::from_str(&cli).map_err(|e| format!("diff -o json: {e}"))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let cluster: Arc<dyn Cluster> = Arc::new(
            KubeCluster::connect(&ConnectOptions {
                kubeconfig: Some(kit.kubeconfig.clone()),
                ..ConnectOptions::default()
            })
            .await
            .map_err(|e| e.to_string())?,
        );
        let ctx = Context::with_cluster(cluster.clone(), Some(ns.to_string()));
        let opts = DiffOptions {
            release: "rel".into(),
            chart: Some(chart.to_path_buf()),
            values: Default::default(),
            patches: Default::default(),
            revision: None,
            kube_version: None,
            // As `diff -o json` runs it (the default, Helm's: crds/ created on install only).
            crds: Default::default(),
            view: ViewOptions::default(),
        };
        let plan = action::diff(&ctx, &opts)
            .await
            .map_err(|e| format!("{e:#}"))?
            .plan;
        let mut problems = Vec::new();
        let mut notes = Vec::new();
        // The executor itself, as a server dry run: the exact requests `apply` would send.
        let apply_opts = ApplyOptions {
            dry_run: true,
            server_side,
            ..ApplyOptions::default()
        };
        let report = match apply::execute(&*cluster, &plan, &apply_opts).await {
            Ok(r) => r,
            Err(e) => return Err(format!("dry-run apply of the plan failed: {e}")),
        };
        for (i, c) in plan.changes.iter().enumerate() {
            let shown = &cli[i];
            if shown["action"] != c.action.name() || shown["object"]["name"] != c.id.name.as_str() {
                problems.push(format!(
                    "diff -o json entry {i} is {shown}, the plan has {} {}",
                    c.action.name(),
                    c.id
                ));
                continue;
            }
            let Action::Patch(patch) = &c.action else { continue };
            // The leading `test` of resourceVersion may differ: controllers write status between
            // the CLI's run and ours.
            let ops = |v: Value| v.as_array().map(|a| a[1..].to_vec()).unwrap_or_default();
            if ops(shown["patch"].clone()) != ops(serde_json::to_value(patch).unwrap_or_default()) {
                problems.push(format!(
                    "{}: diff -o json shows another patch than the plan's",
                    c.id
                ));
            }
            let real = report
                .objects
                .iter()
                .find(|o| o.id == c.id)
                .and_then(|o| o.object.clone());
            let Some(real) = real else {
                problems.push(format!("{}: the dry run returned no object", c.id));
                continue;
            };
            let predicted = clean(c.predicted.clone().unwrap_or_default(), false);
            let (mut wrong, mut extra) = (Vec::new(), Vec::new());
            contained(
                &predicted,
                &clean(real, false),
                &c.id.to_string(),
                &mut wrong,
                &mut extra,
            );
            problems.extend(wrong);
            notes.extend(extra);
        }
        if problems.is_empty() {
            Ok(notes.join("\n  "))
        } else {
            Err(format!(
                "prediction differs from the server's dry run:\n  {}",
                problems.join("\n  ")
            ))
        }
    })
}

fn kubectl_oracle(server_side: bool) {
    let Some(kit) = crate::support::k8s::kit() else {
        return;
    };
    let _shared = CLUSTER_WIDE.read().unwrap_or_else(|p| p.into_inner());
    let scenarios = scenarios();
    let findings: Mutex<Vec<Finding>> = Mutex::new(Vec::new());
    let next = Mutex::new(0usize);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| loop {
                let i = {
                    let mut n = next.lock().unwrap_or_else(|p| p.into_inner());
                    *n += 1;
                    *n - 1
                };
                let Some(s) = scenarios.get(i) else { break };
                let f = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    run_scenario(kit, s, server_side)
                }))
                .unwrap_or_else(|p| Finding {
                    scenario: s.name,
                    mode: if server_side { "server-side" } else { "client-side" },
                    result: "error".into(),
                    failure: Some(
                        p.downcast_ref::<String>()
                            .cloned()
                            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_default(),
                    ),
                });
                findings.lock().unwrap_or_else(|p| p.into_inner()).push(f);
            });
        }
    });
    let mut findings = findings.into_inner().unwrap_or_else(|p| p.into_inner());
    findings.sort_by_key(|f| scenarios.iter().position(|s| s.name == f.scenario));
    let mut failed = Vec::new();
    for f in &findings {
        let status = if f.failure.is_some() { "FAIL" } else { "ok" };
        eprintln!("{:<28} {:<12} {:<5} {}", f.scenario, f.mode, status, f.result);
        if let Some(why) = &f.failure {
            failed.push(format!("{} ({}): {why}", f.scenario, f.mode));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

#[test]
fn kubectl_oracle_client_side() {
    kubectl_oracle(false);
}

#[test]
fn kubectl_oracle_server_side() {
    kubectl_oracle(true);
}

// ---------------------------------------------------------------------------------------------
// The helm oracle

/// helm 3.17.2, or `None` (after saying why) unless `KC_REQUIRE_HELM=1`.
fn helm_binary() -> Option<PathBuf> {
    crate::support::helm::find(3)
}

/// One of the two tools driving a release through install, upgrade and rollback: the same
/// commands, but for how the release is first installed.
trait Driver {
    /// Runs the tool with `args` on the test's namespace; its standard output.
    fn cmd(&self, args: &[&str]) -> String;
    /// The verb of the first install.
    fn install_verb(&self) -> &'static str {
        "install"
    }

    fn install(&self, chart: &Path) {
        self.cmd(&[self.install_verb(), "rel", &chart.to_string_lossy()]);
    }
    fn upgrade(&self, chart: &Path, set: &str) {
        self.cmd(&["upgrade", "rel", &chart.to_string_lossy(), "--set", set]);
    }
    fn rollback(&self) {
        self.cmd(&["rollback", "rel", "1"]);
    }
    fn manifest(&self) -> String {
        self.cmd(&["get", "manifest", "rel"])
    }
    fn uninstall(&self) {
        self.cmd(&["uninstall", "rel", "--wait", "--timeout", "60s"]);
    }
}

struct Helm<'a> {
    bin: &'a Path,
    kit: &'a Kit,
    ns: &'a str,
}

impl Driver for Helm<'_> {
    fn cmd(&self, args: &[&str]) -> String {
        let mut c = Command::new(self.bin);
        c.args(args)
            .args(["-n", self.ns, "--kubeconfig"])
            .arg(&self.kit.kubeconfig)
            .env_remove("KUBECONFIG")
            .env(
                "HELM_CACHE_HOME",
                std::env::temp_dir().join("kc-oracle-helm/cache"),
            )
            .env(
                "HELM_CONFIG_HOME",
                std::env::temp_dir().join("kc-oracle-helm/config"),
            )
            .env("HELM_DATA_HOME", std::env::temp_dir().join("kc-oracle-helm/data"));
        must(&mut c)
    }
}

struct Ours<'a> {
    kit: &'a Kit,
    ns: &'a str,
}

impl Driver for Ours<'_> {
    fn cmd(&self, args: &[&str]) -> String {
        must(ours(self.kit, self.ns).args(args))
    }
    // `apply` installs as `install` does (and would upgrade): the verb a pipeline runs.
    fn install_verb(&self) -> &'static str {
        "apply"
    }
}

/// The live objects of each stage (install, upgrade, rollback, uninstall), keyed by `Kind/name` with the
/// namespace replaced by `NS`; objects a stage no longer has (but an earlier one did) are `None`.
type Stages = Vec<(&'static str, Objects)>;

fn drive(kit: &Kit, d: &dyn Driver, ns: &str, chart: &Path, set: &str) -> Stages {
    let subs = [(ns.to_string(), "NS".to_string())];
    let mut ids: Vec<Id> = Vec::new();
    let mut stages = Vec::new();
    let mut snap = |stage: &'static str, manifest: String| {
        for id in ids_of(&manifest) {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        let objs = live_objects(kit, ns, &ids)
            .into_iter()
            .map(|(k, v)| {
                let key = replace_all(&json!(k), &subs)
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                (key, v.map(|v| mask_checksums(replace_all(&v, &subs))))
            })
            .collect();
        stages.push((stage, objs));
    };
    d.install(chart);
    snap("install", d.manifest());
    d.upgrade(chart, set);
    snap("upgrade", d.manifest());
    d.rollback();
    snap("rollback", d.manifest());
    d.uninstall();
    // What uninstall leaves (`helm.sh/resource-policy: keep`, like argo-cd's CRDs) must match
    // too; then it goes, so the other tool can install the same cluster-scoped names.
    snap("uninstall", String::new());
    for (kind, name, explicit) in &ids {
        let ns = if explicit.is_empty() {
            ns
        } else {
            explicit.as_str()
        };
        must(kubectl(kit).args([
            "delete",
            kind,
            name,
            "-n",
            ns,
            "--ignore-not-found",
            "--wait=true",
        ]));
    }
    stages
}

/// `checksum/*` annotations (argo-cd's pod templates) hash rendered objects that embed the
/// namespace, so they differ between namespaces by construction and cannot be normalised; the
/// rendering itself is checked byte for byte by the conformance tests.
fn mask_checksums(mut v: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    if k.starts_with("checksum/") && x.is_string() {
                        *x = json!("<checksum>");
                    } else {
                        walk(x);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v
}

fn compare_stages(chart: &str, helm: &Stages, mine: &Stages) -> Vec<String> {
    let mut out = Vec::new();
    for ((stage, h), (_, m)) in helm.iter().zip(mine) {
        let hk: BTreeSet<&String> = h.keys().collect();
        let mk: BTreeSet<&String> = m.keys().collect();
        if hk != mk {
            out.push(format!(
                "{chart} {stage}: objects differ: helm only {:?}, ours only {:?}",
                hk.difference(&mk).collect::<Vec<_>>(),
                mk.difference(&hk).collect::<Vec<_>>()
            ));
        }
        for (id, hv) in h {
            let Some(mv) = m.get(id) else { continue };
            let mut d = Vec::new();
            differences(
                hv.as_ref().unwrap_or(&Value::Null),
                mv.as_ref().unwrap_or(&Value::Null),
                id,
                &mut d,
            );
            out.extend(
                d.into_iter()
                    .map(|d| format!("{chart} {stage}: helm (left) vs ours (right): {d}")),
            );
        }
        let absent: Vec<&String> = h.iter().filter(|(_, v)| v.is_none()).map(|(k, _)| k).collect();
        eprintln!(
            "{chart:<10} {stage:<9} {} objects, absent in both: {absent:?}",
            h.len()
        );
    }
    out
}

/// helm first, then ours (charts with cluster-scoped objects cannot be installed twice at once),
/// each into a namespace of its own, then the stages compared.
fn helm_oracle(chart: &str, set: &str, deployment: &str, replicas: [i64; 3]) {
    let Some(kit) = crate::support::k8s::kit() else {
        return;
    };
    let Some(helm_bin) = helm_binary() else { return };
    let chart_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(CORPUS).join(chart);
    let x = Ns::new(kit, "or-helm");
    let y = Ns::new(kit, "or-ours");
    let theirs = drive(
        kit,
        &Helm {
            bin: &helm_bin,
            kit,
            ns: &x.name,
        },
        &x.name,
        &chart_dir,
        set,
    );
    let mine = drive(kit, &Ours { kit, ns: &y.name }, &y.name, &chart_dir, set);
    // The oracle could agree with us on nothing happening; make sure the upgrade and the
    // rollback did what they say, on both sides.
    for (who, stages) in [("helm", &theirs), ("ours", &mine)] {
        let got: Vec<Option<i64>> = stages
            .iter()
            .take(3)
            .map(|(_, objs)| {
                objs.get(&format!("Deployment/{deployment}"))
                    .and_then(|o| o.as_ref())
                    .and_then(|o| o.pointer("/spec/replicas"))
                    .and_then(Value::as_i64)
            })
            .collect();
        assert_eq!(
            got,
            replicas.map(Some),
            "{chart}: {who}'s replicas of {deployment} per stage"
        );
    }
    let diffs = compare_stages(chart, &theirs, &mine);
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

#[test]
fn helm_oracle_podinfo() {
    let _shared = CLUSTER_WIDE.read().unwrap_or_else(|p| p.into_inner());
    helm_oracle("podinfo", "replicaCount=3", "rel-podinfo", [1, 3, 1]);
}

#[test]
fn helm_oracle_keda() {
    // CRDs, ClusterRoles and an APIService with no backend: nothing else may run meanwhile.
    let _alone = CLUSTER_WIDE.write().unwrap_or_else(|p| p.into_inner());
    helm_oracle("keda", "operator.replicaCount=2", "keda-operator", [1, 2, 1]);
}

#[test]
fn helm_oracle_argo_cd() {
    // CRDs in templates, like keda, and a pre-install hook-free but large chart (59 objects).
    let _alone = CLUSTER_WIDE.write().unwrap_or_else(|p| p.into_inner());
    helm_oracle("argo-cd", "server.replicas=2", "rel-argocd-server", [1, 2, 1]);
}

// ---------------------------------------------------------------------------------------------
// Unchanged means unchanged

/// Object writes in a proxy log: everything but our release records, lock and key.
fn object_writes(log: &[support::faultproxy::Record]) -> Vec<String> {
    log.iter()
        .filter(|r| matches!(r.method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE"))
        .filter(|r| !is_bookkeeping(&r.path))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

fn is_bookkeeping(path: &str) -> bool {
    let path = path.split('?').next().unwrap_or("");
    path.contains("/configmaps/kubectl-chart.")
        || path.ends_with("/configmaps")
        || path.contains("/secrets/kubectl-chart-key")
}

/// Deletes the CRDs a test release left behind (`keep` policy), so the next install of the same
/// chart in another namespace does not meet objects of a release that is gone.
struct KeptCrds<'a> {
    kit: &'a Kit,
    namespace: String,
}

impl Drop for KeptCrds<'_> {
    fn drop(&mut self) {
        let Ok(out) = run(kubectl(self.kit).args(["get", "crd", "-o", "json"])) else {
            return;
        };
        let list: Value = serde_json::from_str(&out).unwrap_or_default();
        for crd in list["items"].as_array().into_iter().flatten() {
            if crd.pointer("/metadata/annotations/meta.helm.sh~1release-namespace")
                == Some(&json!(self.namespace))
            {
                let name = crd["metadata"]["name"].as_str().unwrap_or_default();
                let _ = kubectl(self.kit)
                    .args(["delete", "crd", name, "--wait=true"])
                    .output();
            }
        }
    }
}

/// Issue 10: on a freshly installed argo-cd, `diff` reported "4 to change" (server-defaulted
/// `protocol: TCP` inside NetworkPolicies' atomic `ingress`, and a Role's `rules: null`) and every
/// upgrade patched those objects; uninstall read each object with a GET before deleting it.
#[test]
fn argo_cd_installed_is_unchanged_and_uninstalls_without_reads() {
    // Cluster-scoped objects (CRDs, ClusterRoles) of release `rel`: nothing else may run meanwhile.
    let _alone = CLUSTER_WIDE.write().unwrap_or_else(|p| p.into_inner());
    let Some(kit) = crate::support::k8s::kit() else {
        return;
    };
    let chart = Path::new(env!("CARGO_MANIFEST_DIR")).join(CORPUS).join("argo-cd");
    if !chart.join("Chart.yaml").is_file() {
        if std::env::var("KC_REQUIRE_K8S").as_deref() == Ok("1") {
            panic!("no argo-cd chart at {}", chart.display());
        }
        eprintln!("skipped: no argo-cd chart at {}", chart.display());
        return;
    }
    let chart = chart.to_string_lossy().into_owned();
    let ns = Ns::new(kit, "or-noop");
    let _crds = KeptCrds {
        kit,
        namespace: ns.name.clone(),
    };
    let proxy = support::faultproxy::FaultProxy::start(kit);
    let dir = temp_dir("noop");
    let kubeconfig = proxy.kubeconfig(&dir, &ns.name);
    let via_proxy = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_kubectl-chart"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(args)
            .arg("-n")
            .arg(&ns.name)
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .env_remove("KUBECONFIG")
            .env("KUBECTL_CHART_LOCK_TTL", "10")
            .output()
            .expect("run kubectl-chart")
    };
    let text = |out: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };

    let out = via_proxy(&["install", "rel", &chart]);
    assert!(out.status.success(), "install: {}", text(&out));

    let out = via_proxy(&["diff", "rel", &chart, "--detailed-exitcode", "--color", "never"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "diff of the release just installed: {}",
        text(&out)
    );

    let before = proxy.log().len();
    // Hooks run on every upgrade by design, as with Helm (argo-cd's pre-upgrade redis-secret-init
    // Job and its RBAC are re-created each time); what must not be written is the release itself.
    let out = via_proxy(&["upgrade", "rel", &chart, "--no-hooks"]);
    assert!(out.status.success(), "no-op upgrade: {}", text(&out));
    let log = proxy.log();
    assert_eq!(
        object_writes(&log[before..]),
        Vec::<String>::new(),
        "a no-op upgrade wrote objects"
    );

    let before = proxy.log().len();
    let out = via_proxy(&["uninstall", "rel"]);
    assert!(out.status.success(), "uninstall: {}", text(&out));
    let log = proxy.log();
    let log = &log[before..];
    let path_of = |r: &support::faultproxy::Record| r.path.split('?').next().unwrap_or("").to_string();
    let deleted: BTreeSet<String> = log
        .iter()
        .filter(|r| r.method == "DELETE" && !is_bookkeeping(&r.path))
        .map(path_of)
        .collect();
    let read_first: Vec<&String> = log
        .iter()
        .filter(|r| r.method == "GET")
        .map(path_of)
        .filter_map(|p| deleted.get(&p))
        .collect();
    let gets = log.iter().filter(|r| r.method == "GET").count();
    eprintln!(
        "argo-cd uninstall: {} deletes, {gets} GETs (lists and discovery included), {} requests",
        deleted.len(),
        log.len()
    );
    assert!(deleted.len() > 40, "argo-cd's objects were deleted: {deleted:?}");
    // A kind with a single object may be read by name (a GET is one request as a LIST is);
    // two reads of one kind mean objects are read one by one.
    let mut reads_per_kind: BTreeMap<&str, usize> = BTreeMap::new();
    for p in &read_first {
        *reads_per_kind
            .entry(p.rsplit_once('/').map_or("", |(c, _)| c))
            .or_default() += 1;
    }
    assert!(
        reads_per_kind.values().all(|&n| n == 1),
        "objects read one by one before deleting: {read_first:?}"
    );
    let left: Value = serde_json::from_str(&must(kubectl(kit).args([
        "get",
        // What the chart creates, not what controllers derive from it (ReplicaSets, Pods go by GC).
        "deployments,statefulsets,services,serviceaccounts,configmaps,secrets,roles,rolebindings,networkpolicies",
        "-n",
        &ns.name,
        "-l",
        "app.kubernetes.io/instance=rel",
        "-o",
        "json",
    ])))
    .expect("kubectl json");
    // Hook objects stay, as with Helm: they are not part of the release.
    let left: Vec<String> = left["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|o| o.pointer("/metadata/annotations/helm.sh~1hook").is_none())
        .map(|o| format!("{}/{}", o["kind"], o["metadata"]["name"]))
        .collect();
    assert_eq!(left, Vec::<String>::new(), "uninstall left objects behind");
    let _ = std::fs::remove_dir_all(&dir);
}
