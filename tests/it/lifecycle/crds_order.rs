//! Issue 22: declared ordering (`config.kubernetes.io/depends-on`) and CRD upgrades (`--crds`),
//! against the real control plane. The order in which the API server received our writes is read
//! from its audit log (the kit runs with `--audit`), not from our own output.

use std::path::Path;

use serde_json::Value;

use super::{setup, Env};
use crate::support::k8s::TestNamespace;

const DEPENDS_ON: &str = "fixtures/charts/depends-on";

/// One request of the audit log, as far as these tests look at it.
#[derive(Debug, Clone)]
pub(super) struct Audited {
    pub(super) verb: String,
    pub(super) resource: String,
    pub(super) name: String,
    /// When the server received the request and when it answered (RFC 3339 with fixed
    /// microseconds, so they compare as strings).
    received: String,
    answered: String,
}

/// The requests our binary made in namespace `ns` (`""` for cluster-scoped objects), in the order
/// the server answered them.
pub(super) fn audited(kit_dir: &Path, ns: &str) -> Vec<Audited> {
    let text = std::fs::read_to_string(kit_dir.join("audit.log")).expect("the kit runs with --audit");
    let s = |v: &Value, p: &str| v.pointer(p).and_then(Value::as_str).unwrap_or("").to_string();
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| s(e, "/objectRef/namespace") == ns && s(e, "/userAgent").starts_with("kubectl-chart"))
        .map(|e| Audited {
            verb: s(&e, "/verb"),
            resource: s(&e, "/objectRef/resource"),
            name: s(&e, "/objectRef/name"),
            received: s(&e, "/requestReceivedTimestamp"),
            answered: s(&e, "/stageTimestamp"),
        })
        .collect()
}

fn find<'a>(log: &'a [Audited], verb: &str, resource: &str, name: &str) -> &'a Audited {
    log.iter()
        .find(|a| a.verb == verb && a.resource == resource && a.name == name)
        .unwrap_or_else(|| panic!("no {verb} of {resource}/{name} in the audit log: {log:#?}"))
}

/// A chain of three (Deployment `db` <- ConfigMap `settings` <- Service `front`) and an independent
/// ConfigMap: each link is sent only after the server answered its dependency's write and the
/// dependency was read back ready; the independent object goes in the first wave; a cycle is
/// refused before anything is recorded or written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn depends_on_chain_is_applied_in_declared_order() {
    let Some(kit) = setup() else { return };
    let admin = kit.admin().await;
    let ns = TestNamespace::new(admin.clone(), "kc-order").await;
    let env = Env {
        kit,
        ns: ns.name.clone(),
    };
    // diff shows the order the install will follow.
    let out = env.ok(&["diff", "ord", DEPENDS_ON, "-o", "summary"]);
    let order: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("Order ("))
        .skip(1)
        .collect();
    assert_eq!(
        order,
        [
            format!("  1. ConfigMap {0}/settings, after Deployment {0}/db", ns.name),
            format!("  2. Service {0}/front, after ConfigMap {0}/settings", ns.name),
        ],
        "{out}"
    );
    env.ok(&["install", "ord", DEPENDS_ON, "--timeout", "60s"]);
    let log = audited(&kit.dir, &ns.name);
    let db = find(&log, "create", "deployments", "db");
    let settings = find(&log, "create", "configmaps", "settings");
    let front = find(&log, "create", "services", "front");
    let alone = find(&log, "create", "configmaps", "alone");
    // Kind order alone would send both ConfigMaps first and the Deployment after the Service.
    assert!(
        db.answered < settings.received,
        "settings before db was created: {log:#?}"
    );
    assert!(
        settings.answered < front.received,
        "front before settings: {log:#?}"
    );
    assert!(
        alone.answered < settings.received,
        "the independent object waits for nothing"
    );
    // Readiness of db was checked (a read of it: the waiter lists and watches Deployments) after
    // its create and before its dependent.
    assert!(
        log.iter()
            .any(|a| ["get", "list", "watch"].contains(&a.verb.as_str())
                && a.resource == "deployments"
                && (a.name == "db" || a.name.is_empty())
                && a.received > db.answered
                && a.received < settings.received),
        "db was not read back before settings was sent: {log:#?}"
    );

    // A cycle names its objects and writes nothing: no revision, no object request.
    let before = audited(&kit.dir, &ns.name).len();
    let out = env.run(&["upgrade", "ord", DEPENDS_ON, "--set", "cycle=true"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("forms a cycle: "), "{stderr}");
    for object in ["Deployment", "Service", "ConfigMap"]
        .iter()
        .zip(["db", "front", "settings"])
    {
        let named = format!("{} {}/{}", object.0, ns.name, object.1);
        assert!(stderr.contains(&named), "{named} not named: {stderr}");
    }
    let writes: Vec<Audited> = audited(&kit.dir, &ns.name)[before..]
        .iter()
        .filter(|a| !matches!(a.verb.as_str(), "get" | "list" | "watch"))
        .cloned()
        .collect();
    assert!(writes.is_empty(), "a refused order wrote: {writes:#?}");
    let history: Value = serde_json::from_str(&env.ok(&["history", "ord", "-o", "json"])).expect("json");
    assert_eq!(
        history.as_array().map(Vec::len),
        Some(1),
        "no revision recorded: {history}"
    );
}

const CRD_CHARTS: &str = "fixtures/charts/crd-upgrade";

async fn widget_crd(admin: &dyn kubectl_chart::cluster::Cluster) -> Value {
    admin
        .get(
            &kubectl_chart::cluster::Gvk::new("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
            None,
            "widgets.crdorder.example.com",
        )
        .await
        .expect("the CRD")
}

fn served(crd: &Value) -> Vec<String> {
    crd["spec"]["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .filter(|v| v["served"] == true)
        .map(|v| v["name"].as_str().unwrap_or("").to_string())
        .collect()
}

/// `--crds update`: a CRD gains a version (sent first, so the chart's custom resource can already
/// use it); `diff` shows it; the default (`create`) leaves it alone; dropping a stored version or
/// unserving a version a custom resource is listed in is refused before anything is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crds_update_adds_versions_and_refuses_unsafe_changes() {
    let Some(kit) = setup() else { return };
    let admin = kit.admin().await;
    let ns = TestNamespace::new(admin.clone(), "kc-crds").await;
    let env = Env {
        kit,
        ns: ns.name.clone(),
    };
    let chart = |v: &str| format!("{CRD_CHARTS}/{v}");
    env.ok(&["install", "wid", &chart("v1"), "--timeout", "60s"]);
    assert_eq!(served(&widget_crd(&*admin).await), ["v1"]);

    // Helm's behaviour stays the default: nothing to show for crds/ on an upgrade.
    let out = env.ok(&["diff", "wid", &chart("v2"), "--color", "never"]);
    assert!(!out.contains("CustomResourceDefinition"), "{out}");
    let out = env.ok(&[
        "diff",
        "wid",
        &chart("v2"),
        "--crds",
        "update",
        "--color",
        "never",
    ]);
    assert!(
        out.contains(
            "widgets.crdorder.example.com, CustomResourceDefinition (apiextensions.k8s.io) has changed"
        ),
        "{out}"
    );
    let added: Vec<&str> = out.lines().filter(|l| l.starts_with('+')).collect();
    assert!(
        added.iter().any(|l| l.contains("name: v2")),
        "the new version is shown: {out}"
    );

    env.ok(&[
        "upgrade",
        "wid",
        &chart("v2"),
        "--crds",
        "update",
        "--timeout",
        "60s",
    ]);
    let crd = widget_crd(&*admin).await;
    assert_eq!(served(&crd), ["v1", "v2"]);
    let w = admin
        .get(
            &kubectl_chart::cluster::Gvk::new("crdorder.example.com/v2", "Widget"),
            Some(&ns.name),
            "w1",
        )
        .await
        .expect("the widget, read as v2");
    assert_eq!(w["spec"]["size"], 4);
    // The API server got the CRD update, and answered it, before the widget's write.
    let crd_patch = find(
        &audited(&kit.dir, ""),
        "patch",
        "customresourcedefinitions",
        "widgets.crdorder.example.com",
    )
    .clone();
    let log = audited(&kit.dir, &ns.name);
    let widget_write = log
        .iter()
        .rfind(|a| a.resource == "widgets" && a.name == "w1" && matches!(a.verb.as_str(), "patch" | "update"))
        .unwrap_or_else(|| panic!("no write of the widget: {log:#?}"));
    assert!(
        crd_patch.answered < widget_write.received,
        "{crd_patch:?} {widget_write:?}"
    );

    for (dir, want) in [
        (
            "unserve-v1",
            "CustomResourceDefinition widgets.crdorder.example.com: the chart stops serving version v1, which 1 custom resource(s) still use",
        ),
        (
            "drop-v1",
            "CustomResourceDefinition widgets.crdorder.example.com: the chart drops version v1, which is still in status.storedVersions",
        ),
    ] {
        let out = env.run(&["upgrade", "wid", &chart(dir), "--crds", "update", "--timeout", "60s"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{dir}: {stderr}");
        assert!(stderr.contains(want), "{dir}: {stderr}");
        let after = widget_crd(&*admin).await;
        assert_eq!(
            after["metadata"]["resourceVersion"], crd["metadata"]["resourceVersion"],
            "{dir}: the CRD was written"
        );
        let history: Value = serde_json::from_str(&env.ok(&["history", "wid", "-o", "json"])).expect("json");
        assert_eq!(history.as_array().map(Vec::len), Some(2), "{dir}: a revision was recorded");
    }
}
