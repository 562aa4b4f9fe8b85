//! Apply, wait and hooks against the real control plane with the kit's fake kubelet: Deployments
//! become available, images containing `fail` never do, hook Jobs complete. One binary on purpose:
//! it starts one control plane (~9 s, ~500 MB); each test works in a namespace of its own.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::support::k8s::TestNamespace;
use kubectl_chart::apply::{
    self, run_hooks, wait, ApplyOptions, HookEvent, HookOptions, HookPhase, Outcome, Ownership, WaitError,
    WaitOptions, WaitTarget,
};
use kubectl_chart::cluster::{DeleteOptions, Gvk};
use kubectl_chart::diff::{plan, Action, Inputs, MergeKeys, ObjectRef, Plan};
use kubectl_chart::manifest::sort_manifests;
use serde_json::{json, Value};

fn deployment(ns: &str, name: &str, image: &str, app: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": name, "namespace": ns},
           "spec": {"replicas": 2, "selector": {"matchLabels": {"app": app}},
                    "template": {"metadata": {"labels": {"app": app}},
                                 "spec": {"containers": [{"name": "main", "image": image}]}}}})
}

/// A plan that creates (or, with `original`/`live`, updates) `desired`, as the action layer builds it.
fn plan_of(desired: Vec<Value>, original: Vec<Value>, live: Vec<Value>) -> Plan {
    let id = |o: &Value| {
        let cluster_scoped = o["kind"] == "CustomResourceDefinition";
        ObjectRef::of(o, if cluster_scoped { None } else { Some("default") }).expect("id")
    };
    let mut inputs = Inputs::new();
    for o in desired {
        inputs.desired(id(&o), o).expect("desired");
    }
    for o in original {
        inputs.original(id(&o), o).expect("original");
    }
    for o in live {
        inputs.live(id(&o), o).expect("live");
    }
    plan(inputs, &MergeKeys::builtin()).expect("plan")
}

fn fast_wait(timeout_secs: u64) -> WaitOptions {
    WaitOptions {
        timeout: Duration::from_secs(timeout_secs),
        poll_interval: Duration::from_millis(250),
        ..WaitOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployment_becomes_ready_and_wait_returns() {
    let kit = require_kit!();
    let c = kit.admin().await;
    let ns = TestNamespace::new(c.clone(), "apply-ready").await;
    let mut dep = deployment(&ns.name, "web", "nginx", "web");
    let mut svc = json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web", "namespace": ns.name},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}});
    for o in [&mut dep, &mut svc] {
        apply::stamp_ownership(o, "rel", &ns.name);
    }
    let plan = plan_of(vec![dep, svc], vec![], vec![]);
    let opts = ApplyOptions {
        ownership: Some(Ownership {
            release: "rel".into(),
            namespace: ns.name.clone(),
            adopt: apply::Adopt::Never,
        }),
        ..ApplyOptions::default()
    };
    let report = apply::execute(&*c, &plan, &opts).await.expect("apply");
    let done: Vec<(&str, Outcome)> = report
        .objects
        .iter()
        .map(|o| (o.id.kind.as_str(), o.outcome))
        .collect();
    assert_eq!(
        done,
        [("Service", Outcome::Created), ("Deployment", Outcome::Created)]
    );
    let live = c
        .get(&Gvk::new("apps/v1", "Deployment"), Some(&ns.name), "web")
        .await
        .expect("get");
    assert_eq!(live["metadata"]["labels"]["app.kubernetes.io/managed-by"], "Helm");
    assert!(
        live["metadata"]["managedFields"]
            .as_array()
            .is_some_and(|m| m.iter().any(|f| f["manager"] == "kubectl-chart")),
        "field manager recorded"
    );

    let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = events.clone();
    let opts = WaitOptions {
        progress: std::sync::Arc::new(move |e: &apply::Event| {
            sink.lock().expect("lock").push(format!("{e:?}"))
        }),
        ..fast_wait(60)
    };
    wait(&*c, &report.wait_targets(), &opts).await.expect("ready");
    let events = events.lock().expect("lock");
    assert!(
        events
            .iter()
            .any(|e| e.contains("Ready") && e.contains("Deployment")),
        "{events:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_image_times_out_with_a_clear_error() {
    let kit = require_kit!();
    let c = kit.admin().await;
    let ns = TestNamespace::new(c.clone(), "apply-fail").await;
    let plan = plan_of(
        vec![deployment(&ns.name, "bad", "example/fail", "bad")],
        vec![],
        vec![],
    );
    apply::execute(&*c, &plan, &ApplyOptions::default())
        .await
        .expect("apply");
    let targets = WaitTarget::from_plan(&plan);
    let err = wait(&*c, &targets, &fast_wait(5)).await.expect_err("never ready");
    assert!(matches!(err, WaitError::Timeout { .. }), "{err:?}");
    let msg = err.to_string();
    let first = msg.lines().next().unwrap_or("");
    let want = format!(
        "timed out after 5s waiting for 1 of 1 objects to be ready: Deployment {}/bad (0 of 2 replicas ready)",
        ns.name
    );
    assert_eq!(first, want, "{msg}");
    // The report below names the crash-looping pods and their container (the kit's kubelet
    // crash-loops images containing `fail`); the kit has no logs, which must not fail the report.
    for part in [
        "Pod bad-",
        "container main: waiting: CrashLoopBackOff",
        "not ready, restarts",
    ] {
        assert!(msg.contains(part), "{part:?} not in\n{msg}");
    }
    // Helm 3's rules give Helm 3's reason.
    let legacy = WaitOptions {
        rules: apply::Rules::Legacy,
        ..fast_wait(2)
    };
    let err = wait(&*c, &targets, &legacy).await.expect_err("never ready");
    assert!(
        err.to_string().starts_with(&format!(
            "timed out after 2s waiting for 1 of 1 objects to be ready: Deployment {}/bad (0 out of 2 expected pods are ready)",
            ns.name
        )),
        "{err}"
    );
}

fn hook_files(ns: &str, name: &str, image: &str, policy: &str) -> BTreeMap<String, String> {
    let doc = format!(
        r#"apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
  namespace: {ns}
  annotations:
    "helm.sh/hook": post-install
    "helm.sh/hook-delete-policy": {policy}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: {image}
"#
    );
    BTreeMap::from([(format!("chart/templates/{name}.yaml"), doc)])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hook_job_runs_and_hook_succeeded_deletes_it() {
    let kit = require_kit!();
    let c = kit.admin().await;
    let ns = TestNamespace::new(c.clone(), "apply-hook").await;
    let opts = HookOptions {
        timeout: Duration::from_secs(60),
        namespace: ns.name.clone(),
        ..HookOptions::default()
    };
    let job = Gvk::new("batch/v1", "Job");

    let (hooks, _) =
        sort_manifests(&hook_files(&ns.name, "migrate", "busybox", "hook-succeeded")).expect("split");
    let runs = run_hooks(&*c, &hooks, HookEvent::PostInstall, &opts)
        .await
        .expect("hook");
    assert_eq!(runs.len(), 1);
    assert_eq!((runs[0].phase, runs[0].deleted), (HookPhase::Succeeded, true));
    let gone = c.get(&job, Some(&ns.name), "migrate").await.expect_err("deleted");
    assert!(gone.is_not_found(), "{gone}");
    assert!(run_hooks(&*c, &hooks, HookEvent::PreInstall, &opts)
        .await
        .expect("other event")
        .is_empty());

    let (hooks, _) =
        sort_manifests(&hook_files(&ns.name, "broken", "example/fail", "hook-failed")).expect("split");
    let err = run_hooks(&*c, &hooks, HookEvent::PostInstall, &opts)
        .await
        .expect_err("fails");
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!(
            "post-install hook Job {}/broken (chart/templates/broken.yaml) failed: job failed: BackoffLimitExceeded",
            ns.name
        )),
        "{msg}"
    );
    let gone = c
        .get(&job, Some(&ns.name), "broken")
        .await
        .expect_err("hook-failed deleted it");
    assert!(gone.is_not_found(), "{gone}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crd_and_custom_resource_in_one_plan() {
    let kit = require_kit!();
    let c = kit.admin().await;
    let ns = TestNamespace::new(c.clone(), "apply-crd").await;
    // CRDs are cluster-scoped: a group per test keeps reruns apart.
    let group = format!("{}.example.com", ns.name);
    let crd_name = format!("widgets.{group}");
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": crd_name},
        "spec": {"group": group, "scope": "Namespaced",
                 "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
                 "versions": [{"name": "v1", "served": true, "storage": true,
                               "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                                   "spec": {"type": "object", "properties": {"size": {"type": "integer"}}}}}}}]}});
    let widget = json!({"apiVersion": format!("{group}/v1"), "kind": "Widget",
        "metadata": {"name": "w1", "namespace": ns.name}, "spec": {"size": 3}});
    // The custom resource comes first in the plan; the CRD must still go out (and settle) first.
    let plan = plan_of(vec![widget, crd], vec![], vec![]);
    let report = apply::execute(&*c, &plan, &ApplyOptions::default())
        .await
        .expect("apply");
    let order: Vec<&str> = report.objects.iter().map(|o| o.id.kind.as_str()).collect();
    assert_eq!(order, ["CustomResourceDefinition", "Widget"]);
    let got = c
        .get(&Gvk::new(&format!("{group}/v1"), "Widget"), Some(&ns.name), "w1")
        .await
        .expect("widget stored");
    assert_eq!(got["spec"]["size"], 3);
    let crd_gvk = Gvk::new("apiextensions.k8s.io/v1", "CustomResourceDefinition");
    let _ = c
        .delete(&crd_gvk, None, &crd_name, &DeleteOptions::default())
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn selector_change_is_immutable_unless_forced() {
    let kit = require_kit!();
    let c = kit.admin().await;
    let ns = TestNamespace::new(c.clone(), "apply-force").await;
    let gvk = Gvk::new("apps/v1", "Deployment");
    let v1 = deployment(&ns.name, "web", "nginx", "web-v1");
    let install = plan_of(vec![v1.clone()], vec![], vec![]);
    apply::execute(&*c, &install, &ApplyOptions::default())
        .await
        .expect("install");
    // Until the rollout settles the controller keeps writing status, and the plan's patch (which
    // tests resourceVersion) would be stale before it is sent.
    wait(&*c, &WaitTarget::from_plan(&install), &fast_wait(60))
        .await
        .expect("ready");
    let live = c.get(&gvk, Some(&ns.name), "web").await.expect("live");
    let v2 = deployment(&ns.name, "web", "nginx", "web-v2");
    let upgrade = plan_of(vec![v2], vec![v1], vec![live.clone()]);
    assert!(matches!(upgrade.changes[0].action, Action::Patch(_)));

    let err = apply::execute(&*c, &upgrade, &ApplyOptions::default())
        .await
        .expect_err("selector is immutable");
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!(
            "patching Deployment {}/web: Error from server (Invalid)",
            ns.name
        )),
        "{msg}"
    );
    assert!(msg.contains("field is immutable"), "{msg}");

    let forced = ApplyOptions {
        force: true,
        ..ApplyOptions::default()
    };
    let report = apply::execute(&*c, &upgrade, &forced).await.expect("forced");
    assert_eq!(report.objects[0].outcome, Outcome::Replaced);
    let now = c.get(&gvk, Some(&ns.name), "web").await.expect("recreated");
    assert_eq!(now["spec"]["selector"]["matchLabels"]["app"], "web-v2");
    assert_ne!(now["metadata"]["uid"], live["metadata"]["uid"], "a new object");
    wait(&*c, &report.wait_targets(), &fast_wait(60))
        .await
        .expect("ready after re-create");
}
