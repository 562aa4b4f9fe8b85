//! The whole release lifecycle through the real binary against the real control plane (with the
//! fake kubelet): install, upgrade, diff, a failing upgrade rolled back by `--atomic`, rollback,
//! recovery after `kill -9` mid-upgrade (where Helm 3 and 4 stay stuck in "another operation is in
//! progress"), uninstall. One binary, one control plane, a namespace per test.

use crate::support;

/// Issue 22: declared ordering and CRD upgrades.
mod crds_order;
/// Issue 21: Helm's flags (`--take-ownership`, `--reset-values`, `-o`, `--ignore-not-found`).
mod flags;
/// Issue 21: `test` against `helm test`.
mod helmtest;
/// Issue 21: what a deploy waits for, and why it fails.
mod observe;
/// Issue 22: post-renderers and built-in patches.
mod patches;
/// Issue 22: saved plans (`diff --out`, `apply --plan`).
mod saved_plan;
/// Issue 18: releases Helm installed.
mod takeover;

use std::{
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

use crate::support::k8s::{Kit, TestNamespace};
use kubectl_chart::cluster::{Cluster, Gvk};
use serde_json::Value;

use crate::support::cli::bin;

struct Env<'a> {
    kit: &'a Kit,
    ns: String,
}

impl Env<'_> {
    fn cmd(&self, args: &[&str]) -> Command {
        crate::support::cli::command(&self.kit.kubeconfig, &self.ns, "4", args)
    }
    fn run(&self, args: &[&str]) -> Output {
        crate::support::cli::run(self.cmd(args))
    }
    fn ok(&self, args: &[&str]) -> String {
        crate::support::cli::succeeded(args, &self.run(args))
    }
    /// Installs the demo chart without its cache subchart (whose PVC never binds on the kit).
    fn install_demo(&self) {
        self.ok(&[
            "install",
            "demo",
            DEMO,
            "--set",
            "cache.enabled=false",
            "--wait",
            "--timeout",
            "60s",
        ]);
    }
    fn history(&self) -> Vec<crate::support::cli::HistoryRow> {
        crate::support::cli::history_rows(&self.ok(&["history", "demo", "-o", "json"]))
    }
}

const DEMO: &str = "fixtures/charts/demo";

async fn deployment(cluster: &dyn Cluster, ns: &str) -> Option<Value> {
    cluster
        .get(&Gvk::new("apps/v1", "Deployment"), Some(ns), "demo")
        .await
        .ok()
}

fn setup() -> Option<&'static Kit> {
    crate::support::k8s::kit()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_upgrade_atomic_rollback_uninstall() {
    let Some(kit) = setup() else { return };
    let admin = kit.admin().await;
    let ns = TestNamespace::new(admin.clone(), "kc-life").await;
    let env = Env {
        kit,
        ns: ns.name.clone(),
    };
    let base = ["--set", "cache.enabled=false", "--timeout", "60s"];

    // First-install diff shows additions and exits 2 with --detailed-exitcode.
    let out = env.run(&[
        "diff",
        "demo",
        DEMO,
        "--set",
        "cache.enabled=false",
        "--detailed-exitcode",
        "-o",
        "summary",
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Deployment (apps) to be added"));

    // The full diff masks the Secret: neither the password nor its base64 form is printed.
    let out = env.ok(&[
        "diff",
        "demo",
        DEMO,
        "--set",
        "cache.enabled=false",
        "--color",
        "never",
    ]);
    assert!(out.contains("password: (changed)"), "{out}");
    assert!(
        !out.contains("s3cr3t") && !out.contains("czNjcjN0"),
        "secret leaked in diff:\n{out}"
    );
    let out = env.ok(&[
        "diff",
        "demo",
        DEMO,
        "--set",
        "cache.enabled=false",
        "--show-secrets",
    ]);
    assert!(out.contains("czNjcjN0"), "--show-secrets shows the value");

    let mut args = vec!["install", "demo", DEMO, "--wait"];
    args.extend(base);
    let out = env.ok(&args);
    assert!(out.contains("STATUS: deployed"), "{out}");
    let dep = deployment(&*admin, &ns.name).await.expect("deployment exists");
    assert_eq!(dep["spec"]["replicas"], 2);
    assert_eq!(
        dep["metadata"]["annotations"]["meta.helm.sh/release-name"],
        "demo"
    );
    assert_eq!(dep["metadata"]["labels"]["app.kubernetes.io/managed-by"], "Helm");

    // Nothing changed: diff is empty and exits 0.
    let out = env.run(&[
        "diff",
        "demo",
        DEMO,
        "--set",
        "cache.enabled=false",
        "--detailed-exitcode",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // A second install of the same name is refused.
    let out = env.run(&["install", "demo", DEMO, "--set", "cache.enabled=false"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot re-use a name"));

    // Upgrade changes replicas; an unrelated field set by someone else survives.
    admin
        .patch(
            &Gvk::new("apps/v1", "Deployment"),
            Some(&ns.name),
            "demo",
            &kubectl_chart::cluster::Patch::Merge(
                serde_json::json!({"metadata": {"annotations": {"team/owner": "ops"}}}),
            ),
            &Default::default(),
        )
        .await
        .expect("foreign annotation");
    let mut args = vec!["upgrade", "demo", DEMO, "--wait", "--set", "replicaCount=3"];
    args.extend(base);
    env.ok(&args);
    let dep = deployment(&*admin, &ns.name).await.expect("deployment");
    assert_eq!(dep["spec"]["replicas"], 3);
    assert_eq!(
        dep["metadata"]["annotations"]["team/owner"], "ops",
        "foreign field kept"
    );

    // A broken image never gets ready: --atomic marks the revision failed and rolls back.
    let mut args = vec![
        "upgrade",
        "demo",
        DEMO,
        "--atomic",
        "--set",
        "image.repository=example/fail",
        "--set",
        "replicaCount=3",
    ];
    args.extend(["--set", "cache.enabled=false", "--timeout", "8s"]);
    let out = env.run(&args);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("rolled back"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let h = env.history();
    let statuses: Vec<&str> = h.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(
        statuses,
        ["superseded", "superseded", "failed", "deployed"],
        "{h:?}"
    );
    let dep = deployment(&*admin, &ns.name).await.expect("deployment");
    let image = dep["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap_or("");
    assert!(image.starts_with("nginx:"), "image restored: {image}");

    // Explicit rollback to revision 1.
    let out = env.ok(&["rollback", "demo", "1", "--wait", "--timeout", "60s"]);
    assert!(out.contains("revision 5"), "{out}");
    assert_eq!(
        deployment(&*admin, &ns.name).await.expect("deployment")["spec"]["replicas"],
        2
    );

    // Uninstall removes everything the release created and its history.
    env.ok(&["uninstall", "demo", "--wait", "--timeout", "60s"]);
    assert!(deployment(&*admin, &ns.name).await.is_none());
    let left = admin
        .list(
            &Gvk::new("v1", "ConfigMap"),
            Some(&ns.name),
            Some("owner=kubectl-chart"),
        )
        .await
        .expect("list records");
    assert!(
        left.items.is_empty(),
        "release records left: {}",
        left.items.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_upgrade_does_not_leave_the_release_stuck() {
    let Some(kit) = setup() else { return };
    let admin = kit.admin().await;
    let ns = TestNamespace::new(admin.clone(), "kc-kill").await;
    let env = Env {
        kit,
        ns: ns.name.clone(),
    };
    env.install_demo();

    // An upgrade that waits forever on a broken image, killed while it waits.
    let mut child = env
        .cmd(&[
            "upgrade",
            "demo",
            DEMO,
            "--wait",
            "--timeout",
            "300s",
            "--set",
            "cache.enabled=false",
            "--set",
            "image.repository=example/fail",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn upgrade");
    let started = Instant::now();
    loop {
        let h = env.history();
        if h.iter().any(|r| r.1 == "pending-upgrade") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "upgrade never became pending: {h:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(1));
    child.kill().expect("kill -9");
    let _ = child.wait();

    // Right away the release is locked by the dead run: a clear message, not a corrupted history.
    let out = env.run(&["upgrade", "demo", DEMO, "--set", "cache.enabled=false"]);
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("in progress") || err.contains("lock"), "{err}");
        // The user knows that run is gone: --force-unlock takes over at once (without it, the
        // next run after the lock TTL would).
        env.ok(&[
            "upgrade",
            "demo",
            DEMO,
            "--set",
            "cache.enabled=false",
            "--wait",
            "--timeout",
            "60s",
            "--force-unlock",
        ]);
    }
    let h = env.history();
    assert_eq!(h.len(), 3, "{h:?}");
    assert_eq!(h[1].1, "failed", "the killed revision is marked failed: {h:?}");
    assert!(h[1].2.contains("interrupted"), "{h:?}");
    assert_eq!(h[2].1, "deployed", "{h:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn template_validate_reads_the_cluster_and_reports_every_problem() {
    let Some(kit) = setup() else { return };
    let admin = kit.admin().await;
    let ns = TestNamespace::new(admin.clone(), "kc-validate").await;
    let env = Env {
        kit,
        ns: ns.name.clone(),
    };
    let dir = std::env::temp_dir().join(format!("kc-validate-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("templates")).expect("chart dir");
    std::fs::write(
        dir.join("Chart.yaml"),
        "apiVersion: v2\nname: vc\nversion: 0.1.0\n",
    )
    .expect("Chart.yaml");
    let good = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  \
                kube: {{ .Capabilities.KubeVersion.Version | quote }}\n  \
                ns: {{ dig \"metadata\" \"name\" \"\" (lookup \"v1\" \"Namespace\" \"\" \"kube-system\") | quote }}\n";
    std::fs::write(dir.join("templates/good.yaml"), good).expect("good");
    let chart = dir.to_string_lossy().into_owned();

    // Offline: Helm's defaults (v1.32.0, empty lookup). Validated: the live server's answers.
    let offline = env.ok(&["template", "vc", &chart]);
    assert!(
        offline.contains("kube: \"v1.32.0\"") && offline.contains("ns: \"\""),
        "{offline}"
    );
    let live = env.ok(&["template", "vc", &chart, "--validate"]);
    assert!(
        live.contains("kube: \"v1.32.") && live.contains("ns: \"kube-system\""),
        "{live}"
    );

    let bad = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n---\n\
               apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: cr\n  namespace: oops\n";
    std::fs::write(dir.join("templates/bad.yaml"), bad).expect("bad");
    let out = env.run(&["template", "vc", &chart, "--validate"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("does not serve example.com/v1 Widget"), "{err}");
    assert!(
        err.contains("ClusterRole is cluster-scoped but sets namespace oops"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Requests that change objects other than our own release records, lock and key.
fn object_writes(log: &[support::faultproxy::Record]) -> Vec<String> {
    log.iter()
        .filter(|r| matches!(r.method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE"))
        .filter(|r| {
            let path = r.path.split('?').next().unwrap_or("");
            !path.contains("/configmaps/kubectl-chart.") && !path.ends_with("/configmaps")
        })
        .filter(|r| !r.path.contains("/secrets/kubectl-chart-key"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unchanged_objects_get_no_request_and_changed_ones_one_patch() {
    let Some(kit) = setup() else { return };
    let admin = kit.admin().await;
    let ns = TestNamespace::new(admin.clone(), "kc-writes").await;
    let env = Env {
        kit,
        ns: ns.name.clone(),
    };
    env.install_demo();

    // The same upgrade again, through a recording proxy: no object is written, only the record.
    let proxy = support::faultproxy::FaultProxy::start(kit);
    let dir = std::env::temp_dir().join(format!("kc-writes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let kubeconfig = proxy.kubeconfig(&dir, &ns.name);
    let via_proxy = |args: &[&str]| {
        let mut c = bin();
        c.args(args)
            .arg("-n")
            .arg(&ns.name)
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .env_remove("KUBECONFIG")
            .output()
            .expect("run")
    };
    let out = via_proxy(&[
        "upgrade",
        "demo",
        DEMO,
        "--set",
        "cache.enabled=false",
        "--no-hooks",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let log = proxy.log();
    assert_eq!(
        object_writes(&log),
        Vec::<String>::new(),
        "no-op upgrade wrote objects"
    );
    // Discovery is read once, for `.Capabilities` and for resolving kinds alike (issue 16): the
    // version and the two aggregated documents, and no group-version list on top.
    let discovery: Vec<&str> = log
        .iter()
        .filter(|r| r.method == "GET")
        .map(|r| r.path.split('?').next().unwrap_or(""))
        .filter(|p| {
            let segments: Vec<&str> = p.trim_start_matches('/').split('/').collect();
            matches!(
                segments.as_slice(),
                ["version"] | ["api"] | ["apis"] | ["api", _] | ["apis", _, _]
            )
        })
        .collect();
    let mut sorted = discovery.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        ["/api", "/apis", "/version"],
        "discovery requests: {discovery:?}"
    );
    // And nothing else: no lock, no pending record, no patch of the previous record. The one
    // write is the create of the new revision's final record.
    let all_writes: Vec<String> = log
        .iter()
        .filter(|r| matches!(r.method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE"))
        .map(|r| format!("{} {}", r.method, r.path.split('?').next().unwrap_or("")))
        .collect();
    assert_eq!(
        all_writes.len(),
        1,
        "a no-op upgrade makes exactly one write: {all_writes:?}"
    );
    assert!(
        all_writes[0].starts_with("POST ") && all_writes[0].ends_with("/configmaps"),
        "the one write creates the new revision's record: {all_writes:?}"
    );
    let h = env.history();
    let statuses: Vec<&str> = h.iter().map(|(_, s, _)| s.as_str()).collect();
    assert_eq!(statuses, ["superseded", "deployed"], "{h:?}");
    assert_eq!(h[1].2, "Upgrade complete", "{h:?}");
    let status = env.ok(&["status", "demo", "--revision", "1", "-o", "json"]);
    let status: Value = serde_json::from_str(&status).expect("status json");
    assert_eq!(
        status.pointer("/info/status").and_then(Value::as_str),
        Some("superseded"),
        "{status}"
    );

    // One value changed: exactly one PATCH, to the one object it affects.
    let before = proxy.log().len();
    let out = via_proxy(&[
        "upgrade",
        "demo",
        DEMO,
        "--set",
        "cache.enabled=false",
        "--no-hooks",
        "--set",
        "replicaCount=4",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let writes = object_writes(&proxy.log()[before..]);
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert!(
        writes[0].starts_with("PATCH ")
            && writes[0]
                .split('?')
                .next()
                .unwrap_or("")
                .ends_with("/deployments/demo"),
        "{writes:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 7: handlebars output goes through diff and apply like any other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handlebars_templates_apply_and_diff_like_any_other() {
    let Some(kit) = setup() else { return };
    let admin = kit.admin().await;
    let ns = TestNamespace::new(admin.clone(), "kc-hbs").await;
    let env = Env {
        kit,
        ns: ns.name.clone(),
    };
    let chart = "fixtures/charts/mixed";
    let out = env.run(&["diff", "web", chart, "--detailed-exitcode", "-o", "summary"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    env.ok(&["install", "web", chart, "--wait", "--timeout", "60s"]);
    let dep = admin
        .get(&Gvk::new("apps/v1", "Deployment"), Some(&ns.name), "web-mixed")
        .await
        .expect("handlebars Deployment applied");
    assert_eq!(dep["spec"]["replicas"], 2);
    assert_eq!(dep["metadata"]["labels"]["app.kubernetes.io/instance"], "web");
    let out = env.run(&["diff", "web", chart, "--detailed-exitcode"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = env.run(&[
        "diff",
        "web",
        chart,
        "--set",
        "replicaCount=3",
        "--detailed-exitcode",
        "-o",
        "summary",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("web-mixed, Deployment (apps) to be changed"));
}

// ---------------------------------------------------------------------------------------------
// Issue 16: `.Capabilities` from the live cluster

/// helm 3.17.2 to compare with: `$KC_HELM3`, else what `../shared/tools/get-helm` provides; `None`
/// (after saying why) unless `KC_REQUIRE_HELM=1`.
fn helm3() -> Option<std::path::PathBuf> {
    let missing = |why: String| {
        if std::env::var("KC_REQUIRE_HELM").as_deref() == Ok("1") {
            panic!("{why}, and KC_REQUIRE_HELM=1 forbids skipping");
        }
        eprintln!("skipped the helm comparison: {why}");
        None
    };
    if let Some(p) = std::env::var_os("KC_HELM3") {
        return Some(p.into());
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = root.join("../shared/tools/get-helm");
    match Command::new(&script)
        .args(["3", "target/reference"])
        .current_dir(root)
        .output()
    {
        Ok(out) if out.status.success() => {
            let path = String::from_utf8_lossy(&out.stdout);
            Some(root.join(path.lines().last().unwrap_or("").trim()))
        }
        Ok(out) => missing(format!("get-helm: {}", String::from_utf8_lossy(&out.stderr))),
        Err(e) => missing(format!("running {}: {e}", script.display())),
    }
}

/// Runs helm against the kit in `ns`, with its caches in a temp dir; returns stdout.
fn helm(bin: &std::path::Path, kit: &Kit, ns: &str, args: &[&str]) -> String {
    helm_with_driver(bin, kit, ns, "secret", args)
}

/// [`helm`] with Helm's storage `driver` (`HELM_DRIVER`: `secret`, Helm's default, or `configmap`).
fn helm_with_driver(bin: &std::path::Path, kit: &Kit, ns: &str, driver: &str, args: &[&str]) -> String {
    let home = std::env::temp_dir().join("kc-caps-helm");
    let mut c = Command::new(bin);
    c.args(args)
        .args(["-n", ns, "--kubeconfig"])
        .arg(&kit.kubeconfig)
        .env_remove("KUBECONFIG")
        .env("HELM_DRIVER", driver)
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_DATA_HOME", home.join("data"));
    let out = c.output().expect("run helm");
    assert!(
        out.status.success(),
        "helm {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A namespaced CRD `PLURAL.GROUP` serving `v1` with any content.
fn crd(group: &str, plural: &str, kind: &str) -> Value {
    serde_json::json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{plural}.{group}")},
        "spec": {"group": group, "scope": "Namespaced",
            "names": {"plural": plural, "singular": kind.to_lowercase(), "kind": kind},
            "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema":
                {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}})
}

/// Creates a CRD and waits until the server serves its kind.
async fn create_crd(admin: &dyn Cluster, group: &str, plural: &str, kind: &str) {
    admin
        .create(&crd(group, plural, kind), &Default::default())
        .await
        .expect("create CRD");
    let gvk = Gvk::new(&format!("{group}/v1"), kind);
    let deadline = Instant::now() + Duration::from_secs(30);
    while admin.resolve(&gvk).await.is_err() {
        assert!(Instant::now() < deadline, "{kind} never served");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The capability-reading chart: every way charts commonly ask, in one ConfigMap, and a Widget
/// that exists only when the cluster serves its kind. `crds/` brings the Sprocket kind.
fn write_caps_chart(dir: &std::path::Path, group: &str) {
    std::fs::create_dir_all(dir.join("templates")).expect("chart dir");
    std::fs::create_dir_all(dir.join("crds")).expect("crds dir");
    std::fs::write(
        dir.join("Chart.yaml"),
        "apiVersion: v2\nname: caps\nversion: 0.1.0\n",
    )
    .expect("Chart.yaml");
    std::fs::write(dir.join("values.yaml"), format!("group: {group}\n")).expect("values.yaml");
    let sprocket = serde_json::to_string(&crd(group, "sprockets", "Sprocket")).expect("json");
    std::fs::write(dir.join("crds/sprocket.json"), sprocket).expect("crd");
    let template = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: caps
data:
  version: {{ .Capabilities.KubeVersion.Version | quote }}
  gitVersion: {{ .Capabilities.KubeVersion.GitVersion | quote }}
  majorMinor: "{{ .Capabilities.KubeVersion.Major }}.{{ .Capabilities.KubeVersion.Minor }}"
  patchGate: {{ semverCompare ">=1.32.5-0" .Capabilities.KubeVersion.Version | quote }}
  policyV1: {{ .Capabilities.APIVersions.Has "policy/v1" | quote }}
  policyV1beta1: {{ .Capabilities.APIVersions.Has "policy/v1beta1" | quote }}
  scale: {{ .Capabilities.APIVersions.Has "apps/v1/Scale" | quote }}
  widget: {{ .Capabilities.APIVersions.Has (printf "%s/v1/Widget" .Values.group) | quote }}
  gadget: {{ .Capabilities.APIVersions.Has (printf "%s/v1/Gadget" .Values.group) | quote }}
  sprocket: {{ .Capabilities.APIVersions.Has (printf "%s/v1/Sprocket" .Values.group) | quote }}
  broken: {{ .Capabilities.APIVersions.Has (printf "broken-%s/v1beta1" .Values.group) | quote }}
  apiVersions: {{ .Capabilities.APIVersions | toJson | quote }}
{{- if .Capabilities.APIVersions.Has (printf "%s/v1/Widget" .Values.group) }}
---
apiVersion: {{ .Values.group }}/v1
kind: Widget
metadata:
  name: w
spec:
  size: 3
{{- end }}
"#;
    std::fs::write(dir.join("templates/caps.yaml"), template).expect("template");
}

/// The ConfigMap's data with `apiVersions` sorted (Helm's order is a Go map's, so random) and
/// without other tests' `*.example.com` groups, which may come and go between two runs.
fn caps_data(cm: &Value, group: &str) -> Value {
    let mut data = cm["data"].clone();
    let list: Vec<String> = serde_json::from_str(data["apiVersions"].as_str().expect("apiVersions"))
        .expect("apiVersions is JSON");
    let mut list: Vec<String> = list
        .into_iter()
        .filter(|v| !v.contains(".example.com/") || v.contains(&format!("{group}/")))
        .collect();
    list.sort();
    data["apiVersions"] = serde_json::json!(list);
    data
}

/// The ConfigMap of a `template` output.
fn rendered_caps(text: &str, group: &str) -> Value {
    let docs = kubectl_chart::yaml::parse_documents(text, "template output").expect("yaml");
    let cm = docs
        .iter()
        .find(|d| d["kind"] == "ConfigMap")
        .unwrap_or_else(|| panic!("no ConfigMap in\n{text}"));
    caps_data(cm, group)
}

async fn stored_caps(admin: &dyn Cluster, ns: &str, group: &str) -> Value {
    let cm = admin
        .get(&Gvk::new("v1", "ConfigMap"), Some(ns), "caps")
        .await
        .expect("caps ConfigMap");
    caps_data(&cm, group)
}

async fn widget(admin: &dyn Cluster, ns: &str, group: &str) -> Option<Value> {
    let gvk = Gvk::new(&format!("{group}/v1"), "Widget");
    admin.get(&gvk, Some(ns), "w").await.ok()
}

/// Issue 16: install, upgrade, diff and `template --validate` render with the server's version
/// and API versions, CRDs created at run time included, and store what `helm install` and
/// `helm upgrade` store for the same chart on the same cluster; `template` stays offline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_16_capabilities_come_from_the_live_cluster() {
    let Some(kit) = setup() else { return };
    let Some(helm_bin) = helm3() else { return };
    let admin = kit.admin().await;
    let ours_ns = TestNamespace::new(admin.clone(), "kc-caps").await;
    let helm_ns = TestNamespace::new(admin.clone(), "kc-caps-helm").await;
    let env = Env {
        kit,
        ns: ours_ns.name.clone(),
    };
    // A group of our own: CRDs are cluster-wide and other tests share the control plane.
    let group = format!("kc{:06x}.example.com", rand::random::<u32>() & 0xff_ffff);
    let dir = std::env::temp_dir().join(format!("kc-caps-{}-{group}", std::process::id()));
    write_caps_chart(&dir, &group);
    let chart = dir.to_string_lossy().into_owned();
    let server = admin
        .server_version()
        .await
        .expect("version")
        .expect("gitVersion");
    create_crd(&*admin, &group, "widgets", "Widget").await;
    // An APIService whose backend does not exist (a metrics-server gone wrong): discovery marks
    // it stale, and Helm goes on without it rather than fail every install.
    let broken = format!("broken-{group}");
    let apiservice = serde_json::json!({"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
        "metadata": {"name": format!("v1beta1.{broken}")},
        "spec": {"group": broken, "version": "v1beta1", "groupPriorityMinimum": 100, "versionPriority": 100,
            "insecureSkipTLSVerify": true, "service": {"namespace": "default", "name": "nothing-here", "port": 443}}});
    admin
        .create(&apiservice, &Default::default())
        .await
        .expect("create APIService");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let caps = admin.capabilities().await.expect("discovery");
        if caps.failed.contains_key(&format!("{broken}/v1beta1")) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the APIService never went stale: {caps:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // template --validate: the server's answers; as in Helm, --kube-version and --api-versions
    // are ignored there. Nothing is installed, so the chart's own CRD is not served yet.
    let flags = ["--kube-version", "1.20.0", "--api-versions", "foo/v1"];
    let mut args = vec!["template", "caps", &chart, "--validate"];
    args.extend(flags);
    let ours = rendered_caps(&env.ok(&args), &group);
    let theirs = rendered_caps(&helm(&helm_bin, kit, &helm_ns.name, &args), &group);
    assert_eq!(ours, theirs, "template --validate: ours vs helm");
    assert_eq!(ours["version"], server.as_str());
    assert_eq!(ours["gitVersion"], server.as_str());
    assert_eq!(ours["widget"], "true");
    assert_eq!(ours["sprocket"], "false");
    assert_eq!(
        ours["policyV1beta1"], "false",
        "not served by 1.32, though in Helm's offline list"
    );
    assert_eq!(ours["broken"], "false", "a stale group-version is left out");

    // Without --validate: offline, Helm's defaults plus the flags; a kubeconfig that does not
    // exist proves no connection is made.
    let mut c = bin();
    c.args([
        "template",
        "caps",
        &chart,
        "--kubeconfig",
        "/nonexistent/kubeconfig",
    ])
    .args(flags)
    .env_remove("KUBECONFIG");
    let offline = rendered_caps(
        &support::cli::succeeded(&["template"], &c.output().expect("run")),
        &group,
    );
    assert_eq!(
        (offline["version"].as_str(), offline["widget"].as_str()),
        (Some("v1.20.0"), Some("false"))
    );
    assert!(offline["apiVersions"]
        .as_array()
        .expect("list")
        .contains(&Value::from("foo/v1")));

    // diff before the first install renders what install will: the chart's CRD counts as served.
    let diff = env.ok(&["diff", "caps", &chart, "--color", "never"]);
    assert!(
        diff.contains("widget: \"true\"") && diff.contains("sprocket: \"true\""),
        "{diff}"
    );

    // install: ours first (so the Sprocket CRD is ours to create, before rendering), then helm's.
    env.ok(&["install", "caps", &chart]);
    helm(&helm_bin, kit, &helm_ns.name, &["install", "caps", &chart]);
    let ours = stored_caps(&*admin, &ours_ns.name, &group).await;
    let theirs = stored_caps(&*admin, &helm_ns.name, &group).await;
    assert_eq!(ours, theirs, "install: ours vs helm");
    assert_eq!(
        (
            ours["widget"].as_str(),
            ours["sprocket"].as_str(),
            ours["gadget"].as_str()
        ),
        (Some("true"), Some("true"), Some("false"))
    );
    let (w_ours, w_theirs) = (
        widget(&*admin, &ours_ns.name, &group).await,
        widget(&*admin, &helm_ns.name, &group).await,
    );
    assert_eq!(
        w_ours.expect("our Widget")["spec"],
        w_theirs.expect("helm's Widget")["spec"]
    );

    // A CRD created between two runs: diff and upgrade see it.
    create_crd(&*admin, &group, "gadgets", "Gadget").await;
    let diff = env.ok(&["diff", "caps", &chart, "--color", "never"]);
    assert!(diff.contains("gadget: \"true\""), "{diff}");
    env.ok(&["upgrade", "caps", &chart]);
    helm(&helm_bin, kit, &helm_ns.name, &["upgrade", "caps", &chart]);
    let ours = stored_caps(&*admin, &ours_ns.name, &group).await;
    assert_eq!(
        ours,
        stored_caps(&*admin, &helm_ns.name, &group).await,
        "upgrade: ours vs helm"
    );
    assert_eq!(ours["gadget"], "true");

    let apiservice_gvk = Gvk::new("apiregistration.k8s.io/v1", "APIService");
    let _ = admin
        .delete(
            &apiservice_gvk,
            None,
            &format!("v1beta1.{broken}"),
            &Default::default(),
        )
        .await;
    let crd_gvk = Gvk::new("apiextensions.k8s.io/v1", "CustomResourceDefinition");
    for plural in ["widgets", "gadgets", "sprockets"] {
        let _ = admin
            .delete(&crd_gvk, None, &format!("{plural}.{group}"), &Default::default())
            .await;
    }
    let _ = std::fs::remove_dir_all(&dir);
}
