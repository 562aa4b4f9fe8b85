//! Issue 21: what a deploy is waiting for and why it fails — through the real binary and the
//! watch-based waiter against the real control plane with the fake kubelet (crash-looping pods,
//! no container logs), plus Warning events created through the API for what the kit cannot
//! produce.

use std::process::Stdio;
use std::time::{Duration, Instant};

use kubectl_chart::apply::{self, Rules, WaitError, WaitOptions, WaitTarget};
use kubectl_chart::cluster::{Cluster, Gvk, Patch, WriteOptions};
use serde_json::{json, Value};

use super::{setup, Env, DEMO};
use crate::support::k8s::TestNamespace;

/// The pods of `release`'s Deployment running `image`, once one exists.
async fn pod_with_image(admin: &dyn Cluster, ns: &str, image: &str, within: Duration) -> Option<String> {
    let until = Instant::now() + within;
    while Instant::now() < until {
        let pods = admin
            .list(&Gvk::new("v1", "Pod"), Some(ns), None)
            .await
            .expect("pods");
        let found = pods.items.iter().find(|p| {
            p.pointer("/spec/containers/0/image").and_then(Value::as_str) == Some(image)
                && p.pointer("/status/containerStatuses").is_some()
        });
        if let Some(p) = found {
            return p
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .map(str::to_string);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    None
}

/// A Warning event about a pod, as a kubelet that pulls images would send.
fn pull_warning(ns: &str, pod: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Event",
        "metadata": {"name": format!("{pod}.pull"), "namespace": ns},
        "involvedObject": {"kind": "Pod", "name": pod, "namespace": ns, "apiVersion": "v1"},
        "type": "Warning", "reason": "Failed", "count": 3,
        "message": "Failed to pull image \"example/fail:1\": rpc error: code = NotFound",
        "source": {"component": "kubelet"}})
}

/// An upgrade to a crashing image with `--wait --timeout 15s` ends with the pod, its
/// container, the reason, the restart count and the event messages, not just "not ready"; the
/// events also show while waiting, and the kit's missing logs are reported, not fatal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_upgrade_says_why() {
    let Some(kit) = setup() else { return };
    let admin = kit.admin().await;
    let ns = TestNamespace::new(admin.clone(), "kc-observe").await;
    let env = Env {
        kit,
        ns: ns.name.clone(),
    };
    env.install_demo();
    let child = env
        .cmd(&[
            "upgrade",
            "demo",
            DEMO,
            "--set",
            "cache.enabled=false",
            "--set",
            "image.repository=example/fail",
            "--set",
            "image.tag=1",
            "--wait",
            "--timeout",
            "15s",
            "-o",
            "json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let pod = pod_with_image(&*admin, &ns.name, "example/fail:1", Duration::from_secs(10))
        .await
        .expect("a crashing pod");
    admin
        .create(&pull_warning(&ns.name, &pod), &WriteOptions::default())
        .await
        .expect("event");
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .expect("join")
        .expect("upgrade");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    let first = format!(
        "timed out after 15s waiting for 1 of 4 objects to be ready: Deployment {}/demo (",
        ns.name
    );
    for part in [
        first.as_str(),
        &format!("Pod {pod}: Running"),
        "container web: waiting: CrashLoopBackOff",
        "not ready, restarts ",
        "last terminated Error (exit code 1)",
        "Warning Failed (x3): Failed to pull image \"example/fail:1\": rpc error: code = NotFound",
        "(logs unavailable: ",
        // Told while waiting, as a plain line (stderr is not a terminal here).
        &format!("warning: Pod/{pod}: Failed (x3): Failed to pull image"),
    ] {
        assert!(stderr.contains(part), "{part:?} not in\n{stderr}");
    }
    // The same report as JSON on stdout, for CI.
    let report: Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert!(
        report["error"].as_str().is_some_and(|e| e.starts_with(&first)),
        "{report}"
    );
    let failing = report["objects"][0]["pods"]
        .as_array()
        .and_then(|pods| pods.iter().find(|p| p["name"] == pod.as_str()))
        .unwrap_or_else(|| panic!("{pod} not in {report}"));
    let web = &failing["containers"][0];
    assert_eq!(web["name"], "web", "{report}");
    assert!(
        web["state"]
            .as_str()
            .is_some_and(|s| s.starts_with("waiting: CrashLoopBackOff")),
        "{report}"
    );
    assert!(web["restarts"].as_i64().is_some_and(|n| n > 0), "{report}");
    assert_eq!(web["last_termination"], "Error (exit code 1)", "{report}");
    assert!(web["log"]["unavailable"].is_string(), "{report}");
    assert_eq!(failing["warnings"][0]["reason"], "Failed", "{report}");
}

/// A custom resource is judged by its `Ready` condition with the watcher rules (its message is
/// the reason it is not ready) and becomes ready the moment the condition turns True; Helm 3's
/// rules let it pass at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_resource_ready_condition() {
    let Some(kit) = setup() else { return };
    let admin = kit.admin().await;
    let ns = TestNamespace::new(admin.clone(), "kc-observe-cr").await;
    let suffix = ns.name.replace('-', "");
    let group = format!("{suffix}.example.com");
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("databases.{group}")},
        "spec": {"group": group, "scope": "Namespaced",
            "names": {"plural": "databases", "singular": "database", "kind": "Database"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}});
    admin.create(&crd, &WriteOptions::default()).await.expect("crd");
    let crd_target = WaitTarget::new(
        Gvk::new("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
        None,
        &format!("databases.{group}"),
    );
    apply::wait(
        &*admin,
        std::slice::from_ref(&crd_target),
        &WaitOptions {
            timeout: Duration::from_secs(30),
            ..Default::default()
        },
    )
    .await
    .expect("crd established");
    let api_version = format!("{group}/v1");
    let db = json!({"apiVersion": api_version, "kind": "Database",
        "metadata": {"name": "db", "namespace": ns.name},
        "status": {"conditions": [{"type": "Ready", "status": "False", "reason": "DiskFull",
            "message": "volume pvc-1 is full"}]}});
    // Without a discovery refresh the new kind may be unknown for a moment.
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        match admin.create(&db, &WriteOptions::default()).await {
            Ok(_) => break,
            Err(e) if Instant::now() < until => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            Err(e) => panic!("database: {e}"),
        }
    }
    let target = WaitTarget::new(Gvk::new(&api_version, "Database"), Some(&ns.name), "db");
    let short = WaitOptions {
        timeout: Duration::from_secs(2),
        ..Default::default()
    };
    let err = apply::wait(&*admin, std::slice::from_ref(&target), &short)
        .await
        .expect_err("not ready");
    assert!(matches!(err, WaitError::Timeout { .. }), "{err}");
    assert!(
        err.to_string().contains(&format!(
            "Database {}/db (Ready is False: DiskFull: volume pvc-1 is full)",
            ns.name
        )),
        "{err}"
    );
    let legacy = WaitOptions {
        rules: Rules::Legacy,
        ..short.clone()
    };
    apply::wait(&*admin, std::slice::from_ref(&target), &legacy)
        .await
        .expect("legacy: ready at once");

    // The condition turns True while we wait: the watch sees it.
    let flip = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        admin
            .patch(
                &Gvk::new(&api_version, "Database"),
                Some(&ns.name),
                "db",
                &Patch::Merge(json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}})),
                &WriteOptions::default(),
            )
            .await
            .expect("patch")
    };
    let long = WaitOptions {
        timeout: Duration::from_secs(30),
        ..Default::default()
    };
    let targets = [target];
    let (waited, _) = tokio::join!(apply::wait(&*admin, &targets, &long), flip);
    waited.expect("ready once the condition is True");
    let _ = admin
        .delete(&crd_target.gvk, None, &crd_target.name, &Default::default())
        .await;
}

/// `--wait` follows the objects through list + watch, not a GET loop per object: in the kit's
/// audit log, an install of the demo chart (a Deployment of 2 pods, a hook Job, a Service, ...)
/// with `--wait` reads each object by name at most twice (the plan's read and one retry at
/// most), and watches. A 500 ms poll per object, as before, read the Deployment about once per
/// half second of waiting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_watches_instead_of_polling_each_object() {
    let Some(kit) = setup() else { return };
    let admin = kit.admin().await;
    let ns = TestNamespace::new(admin.clone(), "kc-observe-req").await;
    let env = Env {
        kit,
        ns: ns.name.clone(),
    };
    env.ok(&[
        "install",
        "rel",
        DEMO,
        "--set",
        "cache.enabled=false",
        "--wait",
        "--timeout",
        "60s",
    ]);
    let log = super::crds_order::audited(&kit.dir, &ns.name);
    let mut gets: std::collections::BTreeMap<(String, String), usize> = Default::default();
    // The release's own storage (its lock is renewed every 2 s) is not what a wait reads.
    let release_objects = log
        .iter()
        .filter(|a| a.verb == "get" && !a.name.is_empty() && !a.name.starts_with("kubectl-chart"));
    for a in release_objects {
        *gets.entry((a.resource.clone(), a.name.clone())).or_default() += 1;
    }
    let polled: Vec<_> = gets.iter().filter(|(_, n)| **n > 2).collect();
    assert!(
        polled.is_empty(),
        "objects read by name more than twice: {polled:?}"
    );
    assert!(
        log.iter()
            .any(|a| a.verb == "watch" && a.resource == "deployments"),
        "no watch of Deployments: {:?}",
        log.iter()
            .map(|a| format!("{} {} {}", a.verb, a.resource, a.name))
            .collect::<Vec<_>>()
    );
    let d = admin
        .get(&Gvk::new("apps/v1", "Deployment"), Some(&ns.name), "rel-demo")
        .await
        .expect("deployment");
    assert_eq!(d["status"]["readyReplicas"], 2, "waited until ready");
}
