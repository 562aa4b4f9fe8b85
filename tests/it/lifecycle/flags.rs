//! Issue 21: Helm's flags on the real control plane — `--take-ownership` takes another release's
//! object and says so, an upgrade given no values reuses the last ones unless `--reset-values`,
//! `-o json`, `uninstall --dry-run`, `--ignore-not-found` and `--cascade`.

use kubectl_chart::cluster::{Cluster, Gvk};
use serde_json::Value;

use super::{setup, Env};
use crate::support::k8s::TestNamespace;

/// A chart whose one ConfigMap has a fixed name, so two releases of it claim the same object.
fn write_chart(dir: &std::path::Path) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir.join("templates")).expect("mkdir");
    std::fs::write(
        dir.join("Chart.yaml"),
        "apiVersion: v2\nname: flags\nversion: 0.1.0\n",
    )
    .expect("write");
    std::fs::write(dir.join("values.yaml"), "v: default\n").expect("write");
    std::fs::write(
        dir.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\ndata:\n  v: {{ .Values.v | quote }}\n",
    )
    .expect("write");
}

async fn shared(admin: &dyn Cluster, ns: &str) -> Value {
    admin
        .get(&Gvk::new("v1", "ConfigMap"), Some(ns), "shared")
        .await
        .expect("ConfigMap shared")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn take_ownership_reset_values_output_and_ignore_not_found() {
    let Some(kit) = setup() else { return };
    let admin = kit.admin().await;
    let ns = TestNamespace::new(admin.clone(), "kc-flags").await;
    let env = Env {
        kit,
        ns: ns.name.clone(),
    };
    let dir = std::env::temp_dir().join(format!("kc-flags-{}", std::process::id()));
    write_chart(&dir);
    let chart = dir.to_string_lossy().into_owned();

    env.ok(&["install", "a", &chart, "--set", "v=from-a"]);
    // Another release's object is refused without --take-ownership (and even with --adopt) ...
    for extra in [&[][..], &["--adopt"][..]] {
        let o = env.run(&[&["install", "b", &chart][..], extra].concat());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "install b {extra:?} took a's object");
        assert!(err.contains("it belongs to release \"a\""), "{extra:?}: {err}");
    }
    // ... and taken with it, as Helm does, the output naming the release that lost it.
    let out = env.ok(&["install", "b", &chart, "--take-ownership", "--set", "v=from-b"]);
    let want = format!(
        "TAKEN OVER: ConfigMap \"shared\" in namespace \"{0}\" (from release \"a\" in namespace \"{0}\")",
        ns.name
    );
    assert!(out.contains(&want), "install --take-ownership output:\n{out}");
    let cm = shared(&*admin, &ns.name).await;
    assert_eq!(cm["metadata"]["annotations"]["meta.helm.sh/release-name"], "b");
    assert_eq!(cm["data"]["v"], "from-b");

    // Helm's rule: an upgrade that sets no value reuses the last revision's; --reset-values does not.
    env.ok(&["upgrade", "b", &chart]);
    assert_eq!(shared(&*admin, &ns.name).await["data"]["v"], "from-b", "reused");
    let out = env.ok(&["upgrade", "b", &chart, "--reset-values", "-o", "json"]);
    let rel: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("-o json: {e}\n{out}"));
    assert_eq!(rel["name"], "b", "{out}");
    assert_eq!(rel["version"], 3, "{out}");
    assert_eq!(shared(&*admin, &ns.name).await["data"]["v"], "default", "reset");

    // --dry-run reads the release and deletes nothing.
    let out = env.ok(&["uninstall", "b", "--dry-run"]);
    assert_eq!(out, "release \"b\" uninstalled\n");
    assert_eq!(
        env.ok(&["history", "b", "-o", "json"])
            .matches("\"revision\"")
            .count(),
        3
    );
    assert_eq!(
        shared(&*admin, &ns.name).await["metadata"]["annotations"]["meta.helm.sh/release-name"],
        "b"
    );
    assert!(
        !env.run(&["uninstall", "nosuch", "--dry-run"]).status.success(),
        "dry run of a missing release"
    );

    let out = env.ok(&["uninstall", "nosuch", "--ignore-not-found"]);
    assert_eq!(out, "release \"nosuch\" uninstalled\n");
    let o = env.run(&["uninstall", "nosuch"]);
    assert!(
        !o.status.success(),
        "uninstall of a missing release without --ignore-not-found"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `uninstall --cascade=orphan` leaves a Deployment's ReplicaSet behind (the garbage collector
/// would delete it with the default `background`); a bad policy is refused before anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uninstall_cascade_orphan_keeps_dependents() {
    let Some(kit) = setup() else { return };
    let admin = kit.admin().await;
    let ns = TestNamespace::new(admin.clone(), "kc-cascade").await;
    let env = Env {
        kit,
        ns: ns.name.clone(),
    };
    env.install_demo();
    let rs = Gvk::new("apps/v1", "ReplicaSet");
    let before = admin
        .list(&rs, Some(&ns.name), None)
        .await
        .expect("list")
        .items
        .len();
    assert!(before > 0, "the demo Deployment has a ReplicaSet");
    let o = env.run(&["uninstall", "demo", "--cascade", "sideways"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("invalid cascade value (sideways)"), "{err}");
    env.ok(&[
        "uninstall",
        "demo",
        "--cascade",
        "orphan",
        "--wait",
        "--timeout",
        "60s",
    ]);
    let gvk = Gvk::new("apps/v1", "Deployment");
    assert!(
        admin.get(&gvk, Some(&ns.name), "demo").await.is_err(),
        "the Deployment is gone"
    );
    let after = admin.list(&rs, Some(&ns.name), None).await.expect("list");
    assert_eq!(after.items.len(), before, "orphaned ReplicaSets stay");
    for r in &after.items {
        assert!(
            r["metadata"]["ownerReferences"]
                .as_array()
                .is_none_or(|o| o.is_empty()),
            "orphaned: {}",
            r["metadata"]
        );
    }
}
