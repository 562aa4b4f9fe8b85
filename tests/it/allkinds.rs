//! The release lifecycle with hooks and waiting, through the real binary against the real control
//! plane (with the fake kubelet), on `fixtures/charts/allkinds`: hooks of every event with weights
//! and delete policies, a CRD in `crds/` with a custom resource of it in `templates/` and another
//! as a pre-install hook, a Deployment, a StatefulSet with its headless Service, a DaemonSet, a
//! PVC, a Service and a plain Job. Two tests, two namespaces, one release each: both install the
//! same `crds/`, which must work whichever comes first (Helm skips a CRD that exists).
//!
//! Hooks run no containers here, so they cannot leave marks of their own. What proves their order
//! is the API server's own journal: every test lists Jobs to get a `resourceVersion`, runs a
//! command, then replays the Job watch from that version (`watch=1&resourceVersion=RV`), which
//! returns every ADDED/MODIFIED/DELETED event since, in the order the server stored them.

use crate::support;

use std::{
    collections::BTreeSet,
    process::{Command, Output},
    sync::Arc,
};

use crate::support::k8s::{Kit, TestNamespace};
use kubectl_chart::cluster::{Cluster, DeleteOptions, Gvk, WriteOptions};
use serde_json::{json, Value};

const CHART: &str = "fixtures/charts/allkinds";
const RELEASE: &str = "allkinds";
const KUBECTL: &str = "/usr/bin/kubectl";

struct Env<'a> {
    kit: &'a Kit,
    ns: String,
    admin: Arc<dyn Cluster>,
}

impl Env<'_> {
    fn run(&self, args: &[&str]) -> Output {
        crate::support::cli::run(support::cli::command(&self.kit.kubeconfig, &self.ns, "4", args))
    }

    fn ok(&self, args: &[&str]) -> String {
        crate::support::cli::succeeded(args, &self.run(args))
    }

    /// Runs a command that must fail; returns its stderr.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(1), "{args:?} should fail:\n{err}");
        err
    }

    /// `(revision, status, description)` of every revision, oldest first.
    fn history(&self) -> Vec<crate::support::cli::HistoryRow> {
        crate::support::cli::history_rows(&self.ok(&["history", RELEASE, "-o", "json"]))
    }

    async fn get(&self, api_version: &str, kind: &str, name: &str) -> Option<Value> {
        let got = self
            .admin
            .get(&Gvk::new(api_version, kind), Some(&self.ns), name)
            .await;
        match got {
            Ok(v) => Some(v),
            Err(e) if e.is_not_found() => None,
            Err(e) => panic!("getting {kind} {name}: {e}"),
        }
    }

    async fn must_get(&self, api_version: &str, kind: &str, name: &str) -> Value {
        self.get(api_version, kind, name)
            .await
            .unwrap_or_else(|| panic!("{kind} {name} is missing"))
    }

    async fn names(&self, api_version: &str, kind: &str, selector: Option<&str>) -> BTreeSet<String> {
        let list = self
            .admin
            .list(&Gvk::new(api_version, kind), Some(&self.ns), selector)
            .await
            .unwrap_or_else(|e| panic!("listing {kind}: {e}"));
        list.items
            .iter()
            .map(|o| o["metadata"]["name"].as_str().unwrap_or("").to_string())
            .collect()
    }

    /// Where the Job journal stands now.
    async fn job_version(&self) -> String {
        let list = self
            .admin
            .list(&Gvk::new("batch/v1", "Job"), Some(&self.ns), None)
            .await
            .expect("list jobs");
        list.metadata["resourceVersion"]
            .as_str()
            .expect("list resourceVersion")
            .to_string()
    }

    /// Every Job event since `version`, in the order the server stored them.
    fn job_events(&self, version: &str) -> Journal {
        let path = format!(
            "/apis/batch/v1/namespaces/{}/jobs?watch=1&resourceVersion={version}&timeoutSeconds=1",
            self.ns
        );
        let out = Command::new(KUBECTL)
            .arg("--kubeconfig")
            .arg(&self.kit.kubeconfig)
            .args(["get", "--raw", &path])
            .output()
            .expect("run kubectl");
        assert!(
            out.status.success(),
            "replaying the Job watch: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let mut events = Vec::new();
        for v in serde_json::Deserializer::from_str(&text).into_iter::<Value>() {
            let v = v.expect("watch event");
            let kind = v["type"].as_str().unwrap_or("").to_string();
            // An ERROR event (410 Gone: the version left the watch cache) would hide events.
            assert!(
                ["ADDED", "MODIFIED", "DELETED"].contains(&kind.as_str()),
                "watch replay: {v}"
            );
            let job = &v["object"];
            let complete = job["status"]["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| c["type"] == "Complete" && c["status"] == "True");
            events.push(JobEvent {
                kind,
                name: job["metadata"]["name"].as_str().unwrap_or("").to_string(),
                uid: job["metadata"]["uid"].as_str().unwrap_or("").to_string(),
                complete,
            });
        }
        Journal(events)
    }
}

#[derive(Debug)]
struct JobEvent {
    kind: String,
    name: String,
    uid: String,
    complete: bool,
}

/// The Job events of one command.
#[derive(Debug)]
struct Journal(Vec<JobEvent>);

impl Journal {
    /// Names of the Jobs created, in creation order.
    fn created(&self) -> Vec<&str> {
        self.0
            .iter()
            .filter(|e| e.kind == "ADDED")
            .map(|e| e.name.as_str())
            .collect()
    }

    /// Position of the first event of `kind` for Job `name`.
    fn at(&self, kind: &str, name: &str) -> usize {
        self.0
            .iter()
            .position(|e| e.kind == kind && e.name == name)
            .unwrap_or_else(|| panic!("no {kind} event for Job {name}: {self:#?}"))
    }

    /// Position of the first event that shows Job `name` Complete.
    fn completed(&self, name: &str) -> usize {
        self.0
            .iter()
            .position(|e| e.complete && e.name == name)
            .unwrap_or_else(|| panic!("Job {name} never completed: {self:#?}"))
    }

    fn uid_added(&self, name: &str) -> &str {
        &self.0[self.at("ADDED", name)].uid
    }

    fn deleted(&self, name: &str) -> bool {
        self.0.iter().any(|e| e.kind == "DELETED" && e.name == name)
    }
}

fn job(short: &str) -> String {
    format!("{RELEASE}-{short}")
}

/// A PersistentVolume bound ahead to the chart's claim (the kit has no provisioner, and the real PV
/// controller only binds a claim to a volume that exists), deleted when dropped.
struct Volume {
    name: String,
    cluster: Arc<dyn Cluster>,
}

impl Volume {
    async fn new(cluster: Arc<dyn Cluster>, ns: &str) -> Self {
        let name = format!("kc-{ns}");
        let pv = json!({
            "apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": name},
            "spec": {
                "capacity": {"storage": "1Gi"},
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": "allkinds-manual",
                "persistentVolumeReclaimPolicy": "Retain",
                "hostPath": {"path": format!("/tmp/{name}")},
                // Only this test's claim may take it: other namespaces render the same claim.
                "claimRef": {"namespace": ns, "name": format!("{RELEASE}-data")},
            },
        });
        cluster
            .create(&pv, &WriteOptions::default())
            .await
            .expect("create PersistentVolume");
        Volume { name, cluster }
    }
}

impl Drop for Volume {
    fn drop(&mut self) {
        let (cluster, name) = (self.cluster.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
            if let Ok(rt) = rt {
                let gvk = Gvk::new("v1", "PersistentVolume");
                let _ = rt.block_on(cluster.delete(&gvk, None, &name, &DeleteOptions::default()));
            }
        })
        .join();
    }
}

fn condition(obj: &Value, kind: &str) -> Option<String> {
    obj["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind)
        .and_then(|c| c["status"].as_str().map(str::to_string))
}

/// Every kind of the chart exists and is ready by its own status, read right after `--wait`.
async fn assert_all_ready(env: &Env<'_>, volume: &str) {
    let web = env.must_get("apps/v1", "Deployment", &job("web")).await;
    assert_eq!(
        web["status"]["availableReplicas"], web["spec"]["replicas"],
        "Deployment available: {}",
        web["status"]
    );
    assert_eq!(web["status"]["updatedReplicas"], web["spec"]["replicas"]);
    let store = env.must_get("apps/v1", "StatefulSet", &job("store")).await;
    assert_eq!(
        store["status"]["readyReplicas"], 1,
        "StatefulSet: {}",
        store["status"]
    );
    let agent = env.must_get("apps/v1", "DaemonSet", &job("agent")).await;
    let desired = agent["status"]["desiredNumberScheduled"].as_i64().unwrap_or(0);
    assert!(desired >= 1, "DaemonSet scheduled nowhere: {}", agent["status"]);
    assert_eq!(
        agent["status"]["numberReady"].as_i64(),
        Some(desired),
        "DaemonSet: {}",
        agent["status"]
    );
    let pvc = env.must_get("v1", "PersistentVolumeClaim", &job("data")).await;
    assert_eq!(pvc["status"]["phase"], "Bound", "PVC: {}", pvc["status"]);
    assert_eq!(pvc["spec"]["volumeName"], volume);
    let svc = env.must_get("v1", "Service", &job("web")).await;
    assert!(
        svc["spec"]["clusterIP"]
            .as_str()
            .is_some_and(|ip| ip.contains('.')),
        "Service has a cluster IP: {}",
        svc["spec"]
    );
    let headless = env.must_get("v1", "Service", &job("store")).await;
    assert_eq!(headless["spec"]["clusterIP"], "None");
    let widget = env
        .must_get("allkinds.example.com/v1", "Widget", &job("widget"))
        .await;
    assert_eq!(widget["spec"]["size"], 3);
    assert_eq!(
        widget["metadata"]["annotations"]["meta.helm.sh/release-name"],
        RELEASE
    );
    let crd = env
        .admin
        .get(
            &Gvk::new("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
            None,
            "widgets.allkinds.example.com",
        )
        .await
        .expect("CRD");
    assert_eq!(condition(&crd, "Established").as_deref(), Some("True"));
    // Helm creates crds/ as the chart has them: no release owns a CRD, so every release of the
    // chart (here: both tests, in two namespaces) can install it or find it there.
    assert!(
        crd["metadata"]["annotations"]["meta.helm.sh/release-name"].is_null(),
        "crds/ carry no release metadata: {}",
        crd["metadata"]
    );
    env.must_get("batch/v1", "Job", &job("task")).await;
}

/// install --wait with hooks in weight order, an upgrade, a failing `--atomic` upgrade rolled back,
/// and an uninstall whose delete hooks run around the deletion and that leaves nothing behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hooks_wait_atomic_rollback_and_uninstall() {
    let Some(kit) = crate::support::k8s::kit() else {
        return;
    };
    let admin = kit.admin().await;
    let ns = TestNamespace::new(admin.clone(), "kc-allkinds").await;
    let volume = Volume::new(admin.clone(), &ns.name).await;
    let env = Env {
        kit,
        ns: ns.name.clone(),
        admin: admin.clone(),
    };

    // Install: pre-install hooks by weight (zeta -10 before alpha 10, although alpha comes first
    // by name and by file), each one complete before the next starts; then the release objects;
    // then, after the wait, the post-install hook.
    let since = env.job_version().await;
    let out = env.ok(&["install", RELEASE, CHART, "--wait", "--timeout", "60s"]);
    assert!(out.contains("STATUS: deployed"), "{out}");
    assert_all_ready(&env, &volume.name).await;
    let j = env.job_events(&since);
    let (zeta, alpha, task, post) = (
        job("pre-install-zeta"),
        job("pre-install-alpha"),
        job("task"),
        job("post-install"),
    );
    assert_eq!(j.created(), [&zeta, &alpha, &task, &post], "{j:#?}");
    assert!(j.completed(&zeta) < j.at("ADDED", &alpha), "{j:#?}");
    assert!(j.completed(&alpha) < j.at("ADDED", &task), "{j:#?}");
    // hook-succeeded deletes zeta once every pre-install hook succeeded, before the release
    // objects go out; before-hook-creation (alpha, and post-install by default) keeps them.
    assert!(j.completed(&alpha) < j.at("DELETED", &zeta), "{j:#?}");
    assert!(j.at("DELETED", &zeta) < j.at("ADDED", &task), "{j:#?}");
    assert!(!j.deleted(&alpha) && !j.deleted(&post), "{j:#?}");
    assert!(j.completed(&post) > j.at("ADDED", &post));
    // The pre-install hook Widget (a resource of the crds/ CRD, created before any hook) ran
    // and was deleted on success; the release's own Widget stays.
    let widgets = env.names("allkinds.example.com/v1", "Widget", None).await;
    assert_eq!(widgets, BTreeSet::from([job("widget")]), "Widgets after install");
    let jobs = env.names("batch/v1", "Job", None).await;
    assert_eq!(
        jobs,
        BTreeSet::from([alpha.clone(), task.clone(), post.clone()]),
        "Jobs after install"
    );

    // An upgrade: pre-upgrade (kept), nothing else re-created, post-upgrade (deleted on success).
    let since = env.job_version().await;
    env.ok(&[
        "upgrade",
        RELEASE,
        CHART,
        "--wait",
        "--timeout",
        "60s",
        "--set",
        "web.replicas=3",
    ]);
    let j = env.job_events(&since);
    let (pre_up, post_up) = (job("pre-upgrade"), job("post-upgrade"));
    assert_eq!(j.created(), [&pre_up, &post_up], "{j:#?}");
    assert!(j.completed(&pre_up) < j.at("ADDED", &post_up), "{j:#?}");
    assert!(j.completed(&post_up) < j.at("DELETED", &post_up), "{j:#?}");
    assert!(!j.deleted(&pre_up), "{j:#?}");
    let first_pre_up = j.uid_added(&pre_up).to_string();
    let good = env.must_get("apps/v1", "Deployment", &job("web")).await;
    assert_eq!(good["spec"]["replicas"], 3);

    // A broken image never gets ready: the wait times out, --atomic rolls back to revision 2.
    let since = env.job_version().await;
    let err = env.fails(&[
        "upgrade",
        RELEASE,
        CHART,
        "--atomic",
        "--timeout",
        "8s",
        "--set",
        "web.replicas=3",
        "--set",
        "web.image=example/fail:1",
    ]);
    assert!(err.contains("rolled back to revision 2"), "{err}");
    assert!(
        err.contains("timed out") && err.contains(&format!("Deployment {}/{}", env.ns, job("web"))),
        "the error names what was not ready: {err}"
    );
    let j = env.job_events(&since);
    // before-hook-creation: the kept pre-upgrade Job is deleted before its successor is created.
    assert!(j.at("DELETED", &pre_up) < j.at("ADDED", &pre_up), "{j:#?}");
    assert_eq!(j.0[j.at("DELETED", &pre_up)].uid, first_pre_up);
    assert_ne!(j.uid_added(&pre_up), first_pre_up, "a new pre-upgrade Job");
    // The failed upgrade never reached its post-upgrade hooks.
    assert_eq!(j.created(), [&pre_up], "{j:#?}");
    let h = env.history();
    let statuses: Vec<(u64, &str)> = h.iter().map(|r| (r.0, r.1.as_str())).collect();
    assert_eq!(
        statuses,
        [
            (1, "superseded"),
            (2, "superseded"),
            (3, "failed"),
            (4, "deployed")
        ],
        "{h:#?}"
    );
    assert!(h[2].2.contains("timed out"), "{h:#?}");
    assert!(h[3].2.contains("Rollback to 2"), "{h:#?}");
    // The live Deployment is back to revision 2's spec, field for field.
    let back = env.must_get("apps/v1", "Deployment", &job("web")).await;
    assert_eq!(back["spec"], good["spec"]);

    // Uninstall: pre-delete runs (and completes) before the release objects are deleted,
    // post-delete after; both are hook-succeeded, so both are gone afterwards.
    let since = env.job_version().await;
    env.ok(&["uninstall", RELEASE, "--wait", "--timeout", "60s"]);
    let j = env.job_events(&since);
    let (pre_del, post_del) = (job("pre-delete"), job("post-delete"));
    assert_eq!(j.created(), [&pre_del, &post_del], "{j:#?}");
    assert!(j.completed(&pre_del) < j.at("DELETED", &task), "{j:#?}");
    assert!(j.at("DELETED", &task) < j.at("ADDED", &post_del), "{j:#?}");
    assert!(j.completed(&post_del) < j.at("DELETED", &post_del), "{j:#?}");
    assert!(j.deleted(&pre_del), "{j:#?}");

    // Nothing of the release is left. Hook Jobs without hook-succeeded stay, as with Helm: hooks
    // are not part of the release manifest, so uninstall never deletes them (only their policy).
    for (api_version, kind) in [
        ("apps/v1", "Deployment"),
        ("apps/v1", "StatefulSet"),
        ("apps/v1", "DaemonSet"),
        ("v1", "Service"),
        ("v1", "PersistentVolumeClaim"),
        ("allkinds.example.com/v1", "Widget"),
    ] {
        let left = env.names(api_version, kind, None).await;
        assert!(left.is_empty(), "{kind} left after uninstall: {left:?}");
    }
    let jobs = env.names("batch/v1", "Job", None).await;
    assert_eq!(
        jobs,
        BTreeSet::from([alpha, post, pre_up]),
        "Jobs after uninstall"
    );
    let records = env.names("v1", "ConfigMap", Some("owner=kubectl-chart")).await;
    assert!(records.is_empty(), "release records left: {records:?}");
    // The CRD stays: Helm never deletes crds/, because deleting a CRD deletes every custom
    // resource of it in the whole cluster, including those of other releases and users.
    let crd = admin
        .get(
            &Gvk::new("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
            None,
            "widgets.allkinds.example.com",
        )
        .await;
    assert!(crd.is_ok(), "the CRD was deleted: {crd:?}");
}

/// `--force` re-creates objects whose immutable fields change (a Deployment's selector, a Job's pod
/// template); without it the same upgrade fails naming the object and the field.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn force_recreates_objects_whose_immutable_fields_change() {
    let Some(kit) = crate::support::k8s::kit() else {
        return;
    };
    let admin = kit.admin().await;
    let ns = TestNamespace::new(admin.clone(), "kc-allforce").await;
    let _volume = Volume::new(admin.clone(), &ns.name).await;
    let env = Env {
        kit,
        ns: ns.name.clone(),
        admin: admin.clone(),
    };
    // Hooks are covered by the other test; here they would only add time.
    let base = ["--no-hooks", "--timeout", "60s"];
    let with = |extra: &[&'static str]| -> Vec<&str> {
        let mut args = vec!["upgrade", RELEASE, CHART];
        args.extend(base);
        args.extend(extra);
        args
    };
    let mut install = vec!["install", RELEASE, CHART, "--wait"];
    install.extend(base);
    env.ok(&install);
    let web = env.must_get("apps/v1", "Deployment", &job("web")).await;
    let task = env.must_get("batch/v1", "Job", &job("task")).await;

    let cases: [(&[&str], &str, &str); 2] = [
        (&["--set", "web.track=canary"], "Deployment", "spec.selector"),
        (&["--set", "task.message=again"], "Job", "spec.template"),
    ];
    for (set, kind, field) in cases {
        let err = env.fails(&with(set));
        let name = match kind {
            "Deployment" => job("web"),
            _ => job("task"),
        };
        let object = format!("{kind} {}/{name}", env.ns);
        assert!(err.contains(&object), "the error names {object}: {err}");
        assert!(
            err.contains(field) && err.contains("field is immutable"),
            "the error names {field}: {err}"
        );
        assert!(err.contains("--force"), "the error says what would do it: {err}");
    }
    let uid = |v: &Value| v["metadata"]["uid"].as_str().unwrap_or("").to_string();
    let still = env.must_get("apps/v1", "Deployment", &job("web")).await;
    assert_eq!(uid(&still), uid(&web), "a refused upgrade leaves the object");
    assert_eq!(still["spec"]["selector"], web["spec"]["selector"]);

    env.ok(&with(&[
        "--force",
        "--wait",
        "--set",
        "web.track=canary",
        "--set",
        "task.message=again",
    ]));
    let web2 = env.must_get("apps/v1", "Deployment", &job("web")).await;
    assert_ne!(uid(&web2), uid(&web), "the Deployment was re-created");
    assert_eq!(web2["spec"]["selector"]["matchLabels"]["track"], "canary");
    assert_eq!(web2["status"]["availableReplicas"], 2, "{}", web2["status"]);
    let task2 = env.must_get("batch/v1", "Job", &job("task")).await;
    assert_ne!(uid(&task2), uid(&task), "the Job was re-created");
    let command = &task2["spec"]["template"]["spec"]["containers"][0]["command"];
    assert_eq!(command[2], "echo again", "{command}");
    let statuses: Vec<String> = env.history().into_iter().map(|r| r.1).collect();
    assert_eq!(statuses, ["superseded", "failed", "failed", "deployed"]);
}
