//! The read-only release verbs (`history`, `status`, `list`, `get`) end to end: records are seeded
//! through the release `Store` on the real control plane, then read back by the real binary with
//! `--kubeconfig` and `-n`, checking the tables, the JSON shapes (helm's field names), the
//! not-found error with its namespace hint, and `list -A`.
//!
//! Each test works in namespaces of its own, so tests run in parallel on the one control plane.

use std::{
    process::{Command, Output},
    sync::Arc,
};

use crate::support::k8s::{Kit, TestNamespace};
use kubectl_chart::{
    action::Context,
    cluster::{Cluster, ConnectOptions, KubeCluster},
    release::{BeginOptions, ChartRef, Hook, ManualClock, Operation, Store, Timestamp},
};
use serde_json::{json, Value};

/// Tue Nov 14 22:13:20 2023 UTC; each seeded step advances the clock by a minute.
const T0: i64 = 1_700_000_000;

const MANIFEST: &str =
    "---\n# Source: demo/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo";

/// A store writing into `ns` with a manual clock, as the verbs' own runs would.
async fn store_in(kit: &Kit, ns: &str, clock: Arc<ManualClock>) -> Store {
    let opts = ConnectOptions {
        kubeconfig: Some(kit.kubeconfig.clone()),
        namespace: Some(ns.to_string()),
        ..ConnectOptions::default()
    };
    let cluster: Arc<dyn Cluster> = Arc::new(KubeCluster::connect(&opts).await.expect("connect"));
    let mut ctx = Context::with_cluster(cluster, Some(ns.to_string()));
    ctx.clock = clock;
    ctx.store(None)
}

fn begin(name: &str, op: Operation, version: &str, tag: &str) -> BeginOptions {
    BeginOptions {
        name: name.to_string(),
        operation: op,
        chart: ChartRef {
            name: "demo".into(),
            version: version.into(),
            app_version: "2.0".into(),
            origin: None,
        },
        values: json!({"image": {"tag": tag}}),
        computed_values: json!({"image": {"tag": tag, "repository": "nginx"}, "replicas": 1}),
        manifest: MANIFEST.to_string(),
        hooks: vec![Hook {
            name: "demo-test".into(),
            kind: "Pod".into(),
            path: "demo/templates/tests/test.yaml".into(),
            manifest: "apiVersion: v1\nkind: Pod".into(),
            events: vec!["test".into()],
            ..Hook::default()
        }],
        notes: format!("Thank you for installing {name}.\n"),
        description: String::new(),
    }
}

/// One step of a release's life: the operation, and the error it failed with (if it did).
type Step<'a> = (Operation, Option<&'a str>);

async fn seed(store: &Store, clock: &ManualClock, name: &str, steps: &[Step<'_>]) {
    for (i, (op, failure)) in steps.iter().enumerate() {
        clock.advance(60);
        let p = store
            .begin(begin(name, *op, &format!("1.{i}.0"), &format!("v{i}")))
            .await
            .expect("begin");
        clock.advance(1);
        match failure {
            None => {
                let desc = if *op == Operation::Install {
                    "Install complete"
                } else {
                    "Upgrade complete"
                };
                store.mark_deployed(p, desc).await.expect("deployed");
            }
            Some(e) => {
                store.mark_failed(p, e).await.expect("failed");
            }
        }
    }
}

async fn uninstall_keeping_history(store: &Store, name: &str) {
    let p = store.begin_uninstall(name).await.expect("begin uninstall");
    store.finish_uninstall(p, true).await.expect("finish uninstall");
}

fn run(kit: &Kit, ns: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubectl-chart"))
        .arg("--kubeconfig")
        .arg(&kit.kubeconfig)
        .args(["-n", ns])
        .args(args)
        .env_remove("KUBECONFIG")
        .env("NO_COLOR", "1")
        .output()
        .expect("run binary")
}

/// Stdout of a run that must succeed.
fn ok(kit: &Kit, ns: &str, args: &[&str]) -> String {
    let out = run(kit, ns, args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

fn ok_json(kit: &Kit, ns: &str, args: &[&str]) -> Value {
    let text = ok(kit, ns, args);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {text}"))
}

/// Stderr of a run that must fail.
fn fails(kit: &Kit, ns: &str, args: &[&str]) -> String {
    let out = run(kit, ns, args);
    assert!(
        !out.status.success(),
        "{args:?} should fail, printed {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_status_and_get_read_seeded_records() {
    let kit = require_kit!();
    let ns = TestNamespace::new(kit.admin().await, "rr-read").await;
    let clock = Arc::new(ManualClock::new(Timestamp(T0)));
    let store = store_in(kit, &ns.name, clock.clone()).await;
    seed(
        &store,
        &clock,
        "web",
        &[
            (Operation::Install, None),
            (Operation::Upgrade, None),
            (Operation::Upgrade, Some("upgrade failed: <timeout> & more")),
        ],
    )
    .await;
    let n = ns.name.as_str();

    // history -o json: helm's releaseInfo fields, oldest first; the failure text JSON-escaped as Go does.
    let h = ok_json(kit, n, &["history", "web", "-o", "json"]);
    let want = json!([
        {"revision": 1, "updated": "2023-11-14T22:15:22Z", "status": "superseded", "chart": "demo-1.0.0",
         "app_version": "2.0", "description": "Install complete"},
        {"revision": 2, "updated": "2023-11-14T22:15:22Z", "status": "deployed", "chart": "demo-1.1.0",
         "app_version": "2.0", "description": "Upgrade complete"},
        {"revision": 3, "updated": "2023-11-14T22:16:23Z", "status": "failed", "chart": "demo-1.2.0",
         "app_version": "2.0", "description": "upgrade failed: <timeout> & more"},
    ]);
    assert_eq!(h, want, "history json");
    let raw = ok(kit, n, &["history", "web", "-o", "json"]);
    assert!(
        raw.contains("\\u003ctimeout\\u003e \\u0026 more"),
        "go html escaping: {raw}"
    );

    // The table: helm's header, tab-separated padded columns; --max keeps the newest.
    let table = ok(kit, n, &["history", "web", "--max", "2"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    let header: Vec<&str> = lines[0].split('\t').map(str::trim_end).collect();
    assert_eq!(
        header,
        [
            "REVISION",
            "UPDATED",
            "STATUS",
            "CHART",
            "APP VERSION",
            "DESCRIPTION"
        ]
    );
    let row: Vec<&str> = lines[1].split('\t').map(str::trim_end).collect();
    assert_eq!(
        row,
        [
            "2",
            "Tue Nov 14 22:15:22 2023",
            "deployed",
            "demo-1.1.0",
            "2.0",
            "Upgrade complete"
        ]
    );
    assert!(
        lines[2].starts_with("3       \t"),
        "column padded to REVISION: {:?}",
        lines[2]
    );
    let yaml = ok(kit, n, &["hist", "web", "--max", "1", "-o", "yaml"]);
    assert!(
        yaml.starts_with("- app_version: \"2.0\"\n  chart: demo-1.2.0\n"),
        "{yaml}"
    );

    // status: newest revision whatever its status, as helm's statusPrinter. The chart has a test
    // hook that never ran, so (as in helm) no TEST SUITE line at all, not even "None".
    let status = ok(kit, n, &["status", "web"]);
    assert_eq!(
        status,
        format!(
            "NAME: web\nLAST DEPLOYED: Tue Nov 14 22:16:23 2023\nNAMESPACE: {n}\nSTATUS: failed\nREVISION: 3\n\
             NOTES:\nThank you for installing web.\n"
        ),
        "status table"
    );
    let desc = ok(kit, n, &["status", "web", "--show-desc"]);
    assert!(
        desc.contains("DESCRIPTION: upgrade failed: <timeout> & more\n"),
        "{desc}"
    );
    let s2 = ok_json(kit, n, &["status", "web", "--revision", "2", "-o", "json"]);
    assert_eq!(s2["name"], "web");
    assert_eq!(s2["namespace"], n);
    assert_eq!(s2["version"], 2);
    assert_eq!(s2["info"]["status"], "deployed");
    assert_eq!(s2["info"]["description"], "Upgrade complete");
    assert_eq!(s2["info"]["first_deployed"], "2023-11-14T22:14:20Z");
    assert_eq!(s2["info"]["deleted"], "");
    assert_eq!(s2["config"], json!({"image": {"tag": "v1"}}));
    assert_eq!(s2["manifest"], MANIFEST);
    assert_eq!(s2["hooks"][0]["events"], json!(["test"]));

    // get: each part of one revision.
    assert_eq!(ok(kit, n, &["get", "manifest", "web"]), format!("{MANIFEST}\n"));
    assert_eq!(
        ok(kit, n, &["get", "values", "web", "--revision", "1"]),
        "USER-SUPPLIED VALUES:\nimage:\n  tag: v0\n"
    );
    assert_eq!(
        ok_json(kit, n, &["get", "values", "web", "--all", "-o", "json"]),
        json!({"image": {"repository": "nginx", "tag": "v2"}, "replicas": 1})
    );
    assert_eq!(
        ok(kit, n, &["get", "values", "web", "-a", "-o", "yaml"]),
        "image:\n  repository: nginx\n  tag: v2\nreplicas: 1\n"
    );
    assert_eq!(
        ok(kit, n, &["get", "notes", "web"]),
        "NOTES:\nThank you for installing web.\n\n"
    );
    assert_eq!(
        ok(kit, n, &["get", "hooks", "web"]),
        "---\n# Source: demo/templates/tests/test.yaml\napiVersion: v1\nkind: Pod\n"
    );
    let all = ok(kit, n, &["get", "all", "web", "--revision", "2"]);
    for part in [
        "REVISION: 2\nCHART: demo\nVERSION: 1.1.0\nAPP_VERSION: 2.0\n",
        "USER-SUPPLIED VALUES:\nimage:\n  tag: v1\n\nCOMPUTED VALUES:\n",
        "HOOKS:\n---\n# Source: demo/templates/tests/test.yaml\n",
        &format!("MANIFEST:\n{MANIFEST}\nNOTES:\n"),
    ] {
        assert!(all.contains(part), "get all lacks {part:?}:\n{all}");
    }

    let e = fails(kit, n, &["status", "web", "--revision", "9"]);
    assert!(
        e.contains(&format!("release web has no revision 9 in namespace {n}")),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_filters_by_status_name_and_namespace() {
    let kit = require_kit!();
    let admin = kit.admin().await;
    let a = TestNamespace::new(admin.clone(), "rr-list-a").await;
    let b = TestNamespace::new(admin, "rr-list-b").await;
    let clock = Arc::new(ManualClock::new(Timestamp(T0)));
    let sa = store_in(kit, &a.name, clock.clone()).await;
    let sb = store_in(kit, &b.name, clock.clone()).await;
    seed(
        &sa,
        &clock,
        "web",
        &[
            (Operation::Install, None),
            (Operation::Upgrade, None),
            (Operation::Upgrade, Some("boom")),
        ],
    )
    .await;
    seed(&sa, &clock, "db", &[(Operation::Install, None)]).await;
    seed(&sa, &clock, "old", &[(Operation::Install, None)]).await;
    uninstall_keeping_history(&sa, "old").await;
    seed(
        &sb,
        &clock,
        "api",
        &[(Operation::Install, None), (Operation::Upgrade, None)],
    )
    .await;
    let (na, nb) = (a.name.as_str(), b.name.as_str());

    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .expect("array")
            .iter()
            .map(|r| {
                format!(
                    "{}/{}:{}",
                    r["namespace"].as_str().unwrap_or(""),
                    r["name"].as_str().unwrap_or(""),
                    r["status"].as_str().unwrap_or("")
                )
            })
            .collect()
    };
    let cases: [(&str, &[&str], Vec<String>); 7] = [
        (
            "default: deployed and failed, by name",
            &[],
            vec![format!("{na}/db:deployed"), format!("{na}/web:failed")],
        ),
        (
            "--all",
            &["--all"],
            vec![
                format!("{na}/db:deployed"),
                format!("{na}/old:uninstalled"),
                format!("{na}/web:failed"),
            ],
        ),
        (
            "--uninstalled",
            &["--uninstalled"],
            vec![format!("{na}/old:uninstalled")],
        ),
        // Helm lists every superseded revision when --superseded is the only state.
        (
            "--superseded alone",
            &["--superseded"],
            vec![format!("{na}/web:superseded")],
        ),
        ("--filter", &["--filter", "^w"], vec![format!("{na}/web:failed")]),
        (
            "by date, reversed",
            &["-d", "-r"],
            vec![format!("{na}/db:deployed"), format!("{na}/web:failed")],
        ),
        (
            "--max and --offset",
            &["--all", "--max", "1", "--offset", "1"],
            vec![format!("{na}/old:uninstalled")],
        ),
    ];
    for (name, flags, want) in cases {
        let mut args = vec!["list", "-o", "json"];
        args.extend_from_slice(flags);
        assert_eq!(names(&ok_json(kit, na, &args)), want, "{name}");
    }

    // JSON fields as helm list -o json, revision a string.
    let v = ok_json(kit, nb, &["ls", "-o", "json"]);
    assert_eq!(
        v,
        json!([{"name": "api", "namespace": nb, "revision": "2", "updated": "2023-11-14 22:20:27 +0000 UTC", "status": "deployed", "chart": "demo-1.1.0", "app_version": "2.0"}])
    );

    // -A: every namespace; other tests' namespaces may show up too, so look at ours only.
    let all = ok_json(kit, na, &["list", "-A", "-o", "json"]);
    let ours: Vec<String> = names(&all)
        .into_iter()
        .filter(|s| s.starts_with(&format!("{na}/")) || s.starts_with(&format!("{nb}/")))
        .collect();
    assert_eq!(
        ours,
        [
            format!("{nb}/api:deployed"),
            format!("{na}/db:deployed"),
            format!("{na}/web:failed")
        ],
        "-A sorted by name"
    );

    // Table: helm's header and alignment; -q prints names only.
    let table = ok(kit, nb, &["list"]);
    let lines: Vec<&str> = table.lines().collect();
    let header: Vec<&str> = lines[0].split('\t').map(str::trim_end).collect();
    assert_eq!(
        header,
        [
            "NAME",
            "NAMESPACE",
            "REVISION",
            "UPDATED",
            "STATUS",
            "CHART",
            "APP VERSION"
        ]
    );
    let row: Vec<&str> = lines[1].split('\t').map(str::trim_end).collect();
    assert_eq!(
        row,
        [
            "api",
            nb,
            "2",
            "2023-11-14 22:20:27 +0000 UTC",
            "deployed",
            "demo-1.1.0",
            "2.0"
        ]
    );
    assert_eq!(lines[1].split('\t').next(), Some("api "), "padded to NAME");
    assert_eq!(ok(kit, na, &["list", "-q"]), "db\nweb\n");

    let e = fails(kit, na, &["list", "--filter", "("]);
    assert!(e.contains("invalid --filter \"(\""), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_found_names_the_namespace_and_hints_at_another() {
    let kit = require_kit!();
    let admin = kit.admin().await;
    let here = TestNamespace::new(admin.clone(), "rr-nf-here").await;
    let there = TestNamespace::new(admin, "rr-nf-there").await;
    let clock = Arc::new(ManualClock::new(Timestamp(T0)));
    let st = store_in(kit, &there.name, clock.clone()).await;
    // A unique name, so no other test's namespace holds a release of that name.
    let name = format!("hint-{}", &there.name[there.name.len() - 6..]);
    seed(&st, &clock, &name, &[(Operation::Install, None)]).await;
    let (h, t) = (here.name.as_str(), there.name.as_str());

    for verb in [
        &["status"][..],
        &["history"],
        &["get", "manifest"],
        &["get", "values"],
    ] {
        let mut args = verb.to_vec();
        args.push(&name);
        let e = fails(kit, h, &args);
        assert!(
            e.contains(&format!(
                "release {name} not found in namespace {h}; did you mean -n {t}?"
            )),
            "{verb:?}: {e}"
        );
    }
    let e = fails(kit, h, &["status", "nope-never-installed"]);
    assert!(
        e.contains(&format!(
            "release nope-never-installed not found in namespace {h}\n"
        )),
        "{e}"
    );
    // And the hint is right: the other namespace has it.
    assert!(ok(kit, t, &["status", &name]).contains("STATUS: deployed\n"));
}
