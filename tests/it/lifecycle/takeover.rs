//! Issue 18: releases Helm 3 and Helm 4 installed, read, taken over on the first write, rolled
//! back to Helm's revisions, uninstalled, and handed back with `export-helm` — against the real
//! control plane and the reference helm binaries. Each test has its own namespace.

use std::{collections::BTreeMap, path::PathBuf, sync::Arc};

use kubectl_chart::cluster::{Cluster, Gvk};
use serde_json::Value;

use super::{helm, helm_with_driver, object_writes, setup, Env, DEMO};
use crate::support;
use crate::support::{
    cli::{history_rows, HistoryRow},
    k8s::{Kit, TestNamespace},
};

/// What Helm's records say once we hold the history (`action::takeover::TAKEN_OVER`).
const TAKEN_OVER: &str = "Superseded: taken over by kubectl chart";

/// The release's objects (rendered from the demo chart as release `pod`).
const OBJECTS: [(&str, &str, &str); 4] = [
    ("v1", "Secret", "pod-demo"),
    ("v1", "ConfigMap", "pod-demo-files"),
    ("v1", "Service", "pod-demo"),
    ("apps/v1", "Deployment", "pod-demo"),
];

async fn uids(admin: &dyn Cluster, ns: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (api, kind, name) in OBJECTS {
        let o = admin
            .get(&Gvk::new(api, kind), Some(ns), name)
            .await
            .unwrap_or_else(|e| panic!("{kind} {name}: {e}"));
        out.insert(
            format!("{kind}/{name}"),
            o["metadata"]["uid"].as_str().unwrap_or("").to_string(),
        );
    }
    out
}

async fn replicas(admin: &dyn Cluster, ns: &str) -> i64 {
    let d = admin
        .get(&Gvk::new("apps/v1", "Deployment"), Some(ns), "pod-demo")
        .await
        .expect("deployment");
    d["spec"]["replicas"].as_i64().expect("replicas")
}

fn statuses(rows: &[HistoryRow]) -> Vec<(u64, &str)> {
    rows.iter().map(|(r, s, _)| (*r, s.as_str())).collect()
}

impl Env<'_> {
    fn pod_history(&self) -> Vec<HistoryRow> {
        history_rows(&self.ok(&["history", "pod", "-o", "json"]))
    }
}

/// What each test here starts from: the kit, helm `major`, an admin client, a namespace of its
/// own (named from `prefix`) and our CLI in it; `None` (the test is skipped, saying why) without
/// the kit or that helm.
async fn helm_case(
    major: u8,
    prefix: &str,
) -> Option<(
    &'static Kit,
    PathBuf,
    Arc<dyn Cluster>,
    TestNamespace,
    Env<'static>,
)> {
    let kit = setup()?;
    let helm = support::helm::find(major)?;
    let admin = kit.admin().await;
    let ns = TestNamespace::new(admin.clone(), prefix).await;
    let env = Env {
        kit,
        ns: ns.name.clone(),
    };
    Some((kit, helm, admin, ns, env))
}

/// Helm's `install pod` of the demo chart (without its cache subchart), then one
/// `upgrade --reuse-values` to each of `replicas`: revisions 1, 2, …, each waited for.
fn helm_install_then_upgrade(h: impl Fn(&[&str]) -> String, replicas: &[u32]) {
    h(&["install", "pod", DEMO, "--set", "cache.enabled=false", "--wait"]);
    for n in replicas {
        helm_upgrade(&h, *n);
    }
}

/// Helm's `upgrade pod --reuse-values --set replicaCount=N --wait`.
fn helm_upgrade(h: impl Fn(&[&str]) -> String, replicas: u32) {
    let set = format!("replicaCount={replicas}");
    h(&["upgrade", "pod", DEMO, "--reuse-values", "--set", &set, "--wait"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helm3_release_is_read_taken_over_rolled_back_and_handed_back() {
    let Some((kit, helm3, admin, ns, env)) = helm_case(3, "kc-helm3").await else {
        return;
    };
    let h = |args: &[&str]| helm(&helm3, kit, &ns.name, args);
    // Installed and upgraded twice by Helm 3: a hook (pre-install/pre-upgrade Job) and a Secret.
    helm_install_then_upgrade(h, &[3, 4]);
    let before = uids(&*admin, &ns.name).await;

    // Read side: Helm's history, statuses and descriptions, before anything is taken over.
    let helm_rows = history_rows(&h(&["history", "pod", "-o", "json"]));
    assert_eq!(env.pod_history(), helm_rows, "history reads Helm's records");
    assert_eq!(
        statuses(&helm_rows),
        [(1, "superseded"), (2, "superseded"), (3, "deployed")]
    );
    let listed: Value = serde_json::from_str(&env.ok(&["list", "-A", "-o", "json"])).expect("list json");
    let ours = listed
        .as_array()
        .expect("array")
        .iter()
        .find(|r| r["namespace"] == ns.name.as_str())
        .unwrap_or_else(|| panic!("list -A shows Helm's release: {listed}"));
    assert_eq!(
        (ours["name"].as_str(), ours["revision"].as_str()),
        (Some("pod"), Some("3"))
    );
    assert_eq!(ours["storage"], "helm", "marked as Helm's until taken over");
    let values = env.ok(&["get", "values", "pod", "-o", "json"]);
    assert_eq!(
        serde_json::from_str::<Value>(&values).expect("values"),
        serde_json::json!({"cache": {"enabled": false}, "replicaCount": 4})
    );
    // diff: Helm's last deployed manifest is the original side; the same values change nothing.
    let out = env.run(&[
        "diff",
        "pod",
        DEMO,
        "--set",
        "cache.enabled=false",
        "--set",
        "replicaCount=4",
        "--detailed-exitcode",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = env.run(&[
        "diff",
        "pod",
        DEMO,
        "--set",
        "cache.enabled=false",
        "--detailed-exitcode",
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "replicaCount back to the chart's 2 is a change"
    );
    let out = env.run(&["diff", "pod", "--revision", "1", "--detailed-exitcode"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "diff of a rollback to Helm's revision 1: {out:?}"
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("+   replicas: 2"),
        "{out:?}"
    );

    // A corrupt record of another release stops its take-over with nothing written.
    h(&[
        "install",
        "broken",
        DEMO,
        "--set",
        "cache.enabled=false",
        "--set",
        "nameOverride=b",
    ]);
    let key = "sh.helm.release.v1.broken.v1";
    let secrets = Gvk::new("v1", "Secret");
    admin
        .patch(
            &secrets,
            Some(&ns.name),
            key,
            &kubectl_chart::cluster::Patch::Merge(
                serde_json::json!({"data": {"release": "bm90IGJhc2U2NCE="}}),
            ),
            &Default::default(),
        )
        .await
        .expect("corrupt the record");
    let out = env.run(&[
        "upgrade",
        "broken",
        DEMO,
        "--set",
        "cache.enabled=false",
        "--set",
        "nameOverride=b",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains(&format!("Secret {}/{key}", ns.name)), "{err}");
    assert!(err.contains("not base64"), "{err}");
    let records = admin
        .list(
            &Gvk::new("v1", "ConfigMap"),
            Some(&ns.name),
            Some("owner=kubectl-chart,version"),
        )
        .await
        .expect("list");
    assert!(records.items.is_empty(), "no record of ours was written");

    // The first write takes over: said on stderr, recorded, no write to unchanged objects.
    let proxy = support::faultproxy::FaultProxy::start(kit);
    let dir = std::env::temp_dir().join(format!("kc-takeover-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let kubeconfig = proxy.kubeconfig(&dir, &ns.name);
    let mut c = support::cli::bin();
    c.args([
        "upgrade",
        "pod",
        DEMO,
        "--reuse-values",
        "--no-hooks",
        "-n",
        &ns.name,
        "--kubeconfig",
    ])
    .arg(&kubeconfig)
    .env_remove("KUBECONFIG");
    let out = c.output().expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("taken over from Helm (3 revisions"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = proxy.log();
    // Besides Helm's record, the one other write is the namespace's first record key (a POST to
    // the Secret collection): no object of the release.
    let writes: Vec<String> = object_writes(&log)
        .into_iter()
        .filter(|w| !w.contains("/secrets/sh.helm.release.v1.pod.v"))
        .filter(|w| !(w.starts_with("POST ") && w.split('?').next().unwrap_or("").ends_with("/secrets")))
        .collect();
    assert_eq!(writes, Vec::<String>::new(), "unchanged objects got no write");
    let helm_writes: Vec<String> = object_writes(&log)
        .into_iter()
        .filter(|w| w.contains("/secrets/sh.helm.release.v1.pod.v"))
        .collect();
    assert_eq!(helm_writes.len(), 1, "one last word to Helm: {helm_writes:?}");
    assert!(
        helm_writes[0].contains("sh.helm.release.v1.pod.v3"),
        "{helm_writes:?}"
    );
    let ours = env.pod_history();
    assert_eq!(
        statuses(&ours),
        [
            (1, "superseded"),
            (2, "superseded"),
            (3, "superseded"),
            (4, "deployed")
        ],
        "the next revision is Helm's last + 1"
    );
    assert_eq!(
        &ours[..3].iter().map(|r| &r.2).collect::<Vec<_>>(),
        &helm_rows.iter().map(|r| &r.2).collect::<Vec<_>>()
    );
    assert_eq!(
        replicas(&*admin, &ns.name).await,
        4,
        "--reuse-values reused Helm's values"
    );
    let helm_now = history_rows(&h(&["history", "pod", "-o", "json"]));
    assert_eq!(helm_now[2].1, "superseded");
    assert!(helm_now[2].2.starts_with(TAKEN_OVER), "{helm_now:?}");
    // Imported Secret data is in our encrypted records only, never in a ConfigMap in plain text.
    let cms = admin
        .list(
            &Gvk::new("v1", "ConfigMap"),
            Some(&ns.name),
            Some("owner=kubectl-chart"),
        )
        .await
        .expect("list");
    let all = serde_json::to_string(&cms.items).expect("json");
    assert!(
        !all.contains("czNjcjN0") && !all.contains("s3cr3t"),
        "the demo password leaked"
    );

    // Rollback to each Helm revision: its manifest and values, the same objects.
    for (target, want) in [(1u64, 2i64), (2, 3), (3, 4)] {
        env.ok(&["rollback", "pod", &target.to_string(), "--wait"]);
        assert_eq!(replicas(&*admin, &ns.name).await, want, "rollback to {target}");
        let v: Value =
            serde_json::from_str(&env.ok(&["get", "values", "pod", "-o", "json"])).expect("values");
        assert_eq!(
            v,
            serde_json::from_str::<Value>(&h(&[
                "get",
                "values",
                "pod",
                "--revision",
                &target.to_string(),
                "-o",
                "json"
            ]))
            .unwrap()
        );
    }
    assert_eq!(uids(&*admin, &ns.name).await, before, "nothing was recreated");

    // The way back: Helm carries on from our last revision.
    env.ok(&["export-helm", "pod"]);
    let ours = env.pod_history();
    let helm_rows = history_rows(&h(&["history", "pod", "-o", "json"]));
    assert_eq!(helm_rows, ours, "helm history agrees with ours");
    helm_upgrade(h, 5);
    assert_eq!(replicas(&*admin, &ns.name).await, 5);
    h(&["rollback", "pod", "4", "--wait"]);
    assert_eq!(
        replicas(&*admin, &ns.name).await,
        4,
        "helm rolled back to our revision 4"
    );
    let helm_rows = history_rows(&h(&["history", "pod", "-o", "json"]));
    assert_eq!(helm_rows.len(), ours.len() + 2);
    assert_eq!(
        env.pod_history(),
        helm_rows,
        "we read what Helm wrote after the hand-back"
    );
    assert_eq!(uids(&*admin, &ns.name).await, before, "nothing was recreated");

    // And uninstall (taking over Helm's two new revisions first) removes the objects.
    env.ok(&["uninstall", "pod"]);
    for (api, kind, name) in OBJECTS {
        let gone = admin.get(&Gvk::new(api, kind), Some(&ns.name), name).await;
        assert!(gone.is_err_and(|e| e.is_not_found()), "{kind} {name} was left");
    }
    // Helm's records went too, as `helm uninstall` removes them: the name is free for helm again.
    let left = admin
        .list(&secrets, Some(&ns.name), Some("owner=helm,name=pod"))
        .await
        .expect("list");
    assert!(left.items.is_empty(), "{} Helm records left", left.items.len());
    h(&["install", "pod", DEMO, "--set", "cache.enabled=false", "--wait"]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A chart whose Helm record is close to the 1 MiB object limit: Helm stores the chart's files
/// and the manifest (each holding the same 330 kB of incompressible text), we store the manifest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helm_record_near_the_size_limit_is_taken_over_and_handed_back() {
    let Some((kit, helm3, admin, ns, env)) = helm_case(3, "kc-helmbig").await else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("kc-helmbig-{}", std::process::id()));
    let chart = dir.join("big");
    std::fs::create_dir_all(chart.join("templates")).expect("mkdir");
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: big\nversion: 1.0.0\n",
    )
    .expect("write");
    std::fs::write(chart.join("values.yaml"), "size: 1\n").expect("write");
    // No key is a bare `n`: YAML 1.1 (Helm's and ours) reads it as false.
    std::fs::write(
        chart.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  count: {{ .Values.size | quote }}\n  blob: {{ .Files.Get \"blob.txt\" | quote }}\n",
    )
    .expect("write");
    // Incompressible: a xorshift stream as base64-like text, so gzip cannot shrink it away.
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let blob: String = (0..330_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            alphabet[(x % 64) as usize] as char
        })
        .collect();
    std::fs::write(chart.join("blob.txt"), &blob).expect("write");
    let chart = chart.to_str().expect("utf-8 path");
    let h = |args: &[&str]| helm(&helm3, kit, &ns.name, args);
    h(&["install", "big", chart]);
    let rec = admin
        .get(
            &Gvk::new("v1", "Secret"),
            Some(&ns.name),
            "sh.helm.release.v1.big.v1",
        )
        .await
        .expect("helm record");
    let size = rec["data"]["release"].as_str().expect("data").len() * 3 / 4;
    assert!(size > 700_000, "the Helm record is near the limit: {size} bytes");

    env.ok(&["upgrade", "big", chart, "--set", "size=2"]);
    env.ok(&["rollback", "big", "1"]);
    let cm = admin
        .get(&Gvk::new("v1", "ConfigMap"), Some(&ns.name), "big")
        .await
        .expect("configmap");
    assert_eq!(
        (
            cm["data"]["count"].as_str(),
            cm["data"]["blob"].as_str().map(str::len)
        ),
        (Some("1"), Some(blob.len()))
    );
    env.ok(&["export-helm", "big"]);
    assert_eq!(
        history_rows(&h(&["history", "big", "-o", "json"])),
        history_rows(&env.ok(&["history", "big", "-o", "json"]))
    );
    h(&["upgrade", "big", chart, "--set", "size=4"]);
    h(&["rollback", "big", "2"]);
    let cm = admin
        .get(&Gvk::new("v1", "ConfigMap"), Some(&ns.name), "big")
        .await
        .expect("configmap");
    assert_eq!(
        cm["data"]["count"].as_str(),
        Some("2"),
        "helm rolled back to our revision 2"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helm4_server_side_release_is_taken_over_without_conflicts_or_stale_fields() {
    let Some((kit, helm4, admin, ns, env)) = helm_case(4, "kc-helm4").await else {
        return;
    };
    let h = |args: &[&str]| helm(&helm4, kit, &ns.name, args);
    // Helm 4 applies server-side (field manager `helm`) by default.
    helm_install_then_upgrade(h, &[3]);
    let d = admin
        .get(&Gvk::new("apps/v1", "Deployment"), Some(&ns.name), "pod-demo")
        .await
        .expect("deployment");
    assert!(
        d["metadata"]["managedFields"]
            .as_array()
            .expect("managedFields")
            .iter()
            .any(|m| m["manager"] == "helm" && m["operation"] == "Apply"),
        "helm 4 applied server-side: {}",
        d["metadata"]["managedFields"]
    );
    let before = uids(&*admin, &ns.name).await;
    assert_eq!(
        statuses(&env.pod_history()),
        [(1, "superseded"), (2, "deployed")],
        "Helm 4's records read"
    );

    // Our upgrade changes a field Helm's manager owns and drops one it set: no conflict, and
    // the dropped field is gone, in both apply modes.
    for (mode, extra, drop_key) in [
        ("three-way patch", None, "podAnnotations=null"),
        ("server-side", Some("--server-side"), "env.LOG_LEVEL=null"),
    ] {
        let mut args = vec![
            "upgrade",
            "pod",
            DEMO,
            "--reuse-values",
            "--set",
            "replicaCount=5",
            "--set",
            drop_key,
        ];
        args.extend(extra);
        env.ok(&args);
        let d = admin
            .get(&Gvk::new("apps/v1", "Deployment"), Some(&ns.name), "pod-demo")
            .await
            .expect("deployment");
        assert_eq!(d["spec"]["replicas"], 5, "{mode}");
        let pod = &d["spec"]["template"];
        assert!(
            pod["metadata"]["annotations"]
                .get("prometheus.io/scrape")
                .is_none(),
            "{mode}: removed annotation kept alive: {}",
            pod["metadata"]["annotations"]
        );
        if extra.is_some() {
            let env_names: Vec<&str> = pod["spec"]["containers"][0]["env"]
                .as_array()
                .expect("env")
                .iter()
                .filter_map(|e| e["name"].as_str())
                .collect();
            assert!(
                !env_names.contains(&"LOG_LEVEL"),
                "{mode}: removed env kept alive: {env_names:?}"
            );
        }
    }
    let ours = env.pod_history();
    assert_eq!(statuses(&ours).last(), Some(&(4, "deployed")), "{ours:?}");
    // Rollback to Helm 4's first revision, then back to Helm.
    env.ok(&["rollback", "pod", "1", "--wait"]);
    assert_eq!(replicas(&*admin, &ns.name).await, 2);
    assert_eq!(uids(&*admin, &ns.name).await, before, "nothing was recreated");
    env.ok(&["export-helm", "pod"]);
    assert_eq!(
        history_rows(&h(&["history", "pod", "-o", "json"])),
        env.pod_history()
    );
    helm_upgrade(h, 2);
    h(&["rollback", "pod", "2", "--wait"]);
    assert_eq!(replicas(&*admin, &ns.name).await, 3);
}

/// Helm's ConfigMap storage (`HELM_DRIVER=configmap`) is read and taken over the same way, and
/// its last word lands in the ConfigMap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helm_configmap_storage_is_taken_over() {
    let Some((kit, helm3, admin, ns, env)) = helm_case(3, "kc-helmcm").await else {
        return;
    };
    let h = |args: &[&str]| helm_with_driver(&helm3, kit, &ns.name, "configmap", args);
    helm_install_then_upgrade(h, &[3]);
    assert_eq!(
        env.pod_history(),
        history_rows(&h(&["history", "pod", "-o", "json"]))
    );
    env.ok(&["rollback", "pod", "1", "--wait"]);
    assert_eq!(replicas(&*admin, &ns.name).await, 2);
    assert_eq!(
        statuses(&env.pod_history()),
        [(1, "superseded"), (2, "superseded"), (3, "deployed")]
    );
    let helm_rows = history_rows(&h(&["history", "pod", "-o", "json"]));
    assert_eq!(helm_rows[1].1, "superseded");
    assert!(helm_rows[1].2.starts_with(TAKEN_OVER), "{helm_rows:?}");
}
