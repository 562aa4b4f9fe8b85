//! The whole release lifecycle through the real binary against the real control plane (with the
//! fake kubelet): install, upgrade, diff, a failing upgrade rolled back by `--atomic`, rollback,
//! recovery after `kill -9` mid-upgrade (where Helm 3 and 4 stay stuck in "another operation is in
//! progress"), uninstall. One binary, one control plane, a namespace per test.

#[path = "support/apply_util.rs"]
mod apply_util;
mod support;

use std::{
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

use kubectl_chart::cluster::{Cluster, Gvk};
use serde_json::Value;
use support::k8s::{Kit, TestNamespace};

use support::cli::bin;

struct Env<'a> {
    kit: &'a Kit,
    ns: String,
}

impl Env<'_> {
    fn cmd(&self, args: &[&str]) -> Command {
        support::cli::command(&self.kit.kubeconfig, &self.ns, "4", args)
    }
    fn run(&self, args: &[&str]) -> Output {
        support::cli::run(self.cmd(args))
    }
    fn ok(&self, args: &[&str]) -> String {
        support::cli::succeeded(args, &self.run(args))
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
    fn history(&self) -> Vec<(u64, String, String)> {
        let out = self.ok(&["history", "demo", "-o", "json"]);
        let v: Value = serde_json::from_str(&out).expect("history json");
        v.as_array()
            .expect("array")
            .iter()
            .map(|r| {
                (
                    r["revision"].as_u64().expect("revision"),
                    r["status"].as_str().expect("status").to_string(),
                    r["description"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
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
    apply_util::kit_with_kubelet()
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
