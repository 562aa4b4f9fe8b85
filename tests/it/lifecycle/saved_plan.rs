//! Issue 22 (third part), saved plans on the real control plane: `diff --out` writes the plan and
//! nothing else; `apply --plan` leaves objects and history as a normal `apply` of the same chart
//! and values does; a plan whose object was edited through the API since (as `kubectl edit`
//! does) is refused, naming the object, and changes nothing.

use std::path::{Path, PathBuf};

use kubectl_chart::cluster::{Cluster, Gvk, Patch, WriteOptions};
use serde_json::{json, Value};

use super::{setup, Env};
use crate::support::k8s::TestNamespace;

/// A chart of a ConfigMap, a Secret and a pre-install/pre-upgrade hook, written for this test.
fn write_chart(dir: &Path) {
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    let files = [
        ("Chart.yaml", "apiVersion: v2\nname: plan\nversion: 0.1.0\nappVersion: \"1.0\"\n"),
        ("values.yaml", "greeting: hi\npassword: s3cr3t\n"),
        (
            "templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-greeting\ndata:\n  greeting: {{ .Values.greeting | quote }}\n",
        ),
        (
            "templates/secret.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}-secret\nstringData:\n  password: {{ .Values.password | quote }}\n",
        ),
        (
            "templates/hook.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-hook\n  annotations:\n    helm.sh/hook: pre-install,pre-upgrade\n    helm.sh/hook-delete-policy: before-hook-creation\ndata:\n  revision: {{ .Release.Revision | quote }}\n",
        ),
    ];
    for (path, text) in files {
        std::fs::write(dir.join(path), text).unwrap();
    }
}

/// A scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What a ConfigMap or Secret holds, and its ownership metadata, without what the server sets
/// and the release name (the two releases compared have different names).
async fn object(admin: &dyn Cluster, ns: &str, kind: &str, name: &str) -> Value {
    let o = admin
        .get(&Gvk::new("v1", kind), Some(ns), name)
        .await
        .unwrap_or_else(|e| panic!("{kind} {name}: {e}"));
    json!({
        "data": o["data"],
        "labels": o["metadata"]["labels"],
        "annotations": o["metadata"]["annotations"],
    })
}

impl Env<'_> {
    /// `(revision, status, chart, app version, description)` of each revision of `release`.
    fn rows(&self, release: &str) -> Vec<(u64, String, String, String, String)> {
        let out = self.ok(&["history", release, "-o", "json"]);
        let v: Value = serde_json::from_str(&out).expect("history json");
        v.as_array()
            .expect("array")
            .iter()
            .map(|r| {
                let s = |k: &str| r[k].as_str().unwrap_or("").to_string();
                (
                    r["revision"].as_u64().unwrap(),
                    s("status"),
                    s("chart"),
                    s("app_version"),
                    s("description"),
                )
            })
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_plan_applies_like_apply_and_refuses_a_concurrent_edit() {
    let Some(kit) = setup() else { return };
    let admin = kit.admin().await;
    let ns = TestNamespace::new(admin.clone(), "kc-plan").await;
    let env = Env {
        kit,
        ns: ns.name.clone(),
    };
    let dir = Scratch(std::env::temp_dir().join(format!("kc-plan-kit-{}", ns.name)));
    let chart = dir.0.join("chart");
    write_chart(&chart);
    let chart = chart.to_str().unwrap();
    let plan = dir.0.join("web.plan");
    let plan = plan.to_str().unwrap();

    // diff --out shows the plan and saves it, owner-only, and writes nothing to the cluster.
    let out = env.ok(&[
        "diff",
        "web",
        chart,
        "--set",
        "greeting=hello",
        // An integer (from --set) in the values: the check renders with it as an integer again.
        "--set",
        "count=3",
        "-o",
        "summary",
        "--out",
        plan,
    ]);
    assert!(out.contains("ConfigMap (v1) to be added"), "{out}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(plan).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the plan holds the values");
    }
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(plan).unwrap()).unwrap();
    assert_eq!(
        (saved["kind"].as_str(), saved["baseRevision"].as_u64()),
        (Some("SavedPlan"), None)
    );
    assert!(!env.run(&["status", "web"]).status.success(), "no release yet");

    // apply --plan leaves what a normal apply of the same chart and values leaves.
    let out = env.ok(&["apply", "web", "--plan", plan]);
    assert!(
        out.contains("STATUS: deployed") && out.contains("REVISION: 1"),
        "{out}"
    );
    env.ok(&[
        "apply",
        "twin",
        chart,
        "--set",
        "greeting=hello",
        "--set",
        "count=3",
    ]);
    for (kind, suffix) in [
        ("ConfigMap", "greeting"),
        ("Secret", "secret"),
        ("ConfigMap", "hook"),
    ] {
        let planned = object(&*admin, &ns.name, kind, &format!("web-{suffix}")).await;
        let applied = object(&*admin, &ns.name, kind, &format!("twin-{suffix}")).await;
        let twin = serde_json::to_string(&applied).unwrap().replace("twin", "web");
        assert_eq!(
            planned,
            serde_json::from_str::<Value>(&twin).unwrap(),
            "{kind} {suffix}"
        );
    }
    assert_eq!(env.rows("web"), env.rows("twin"));
    assert_eq!(
        env.ok(&["get", "values", "web", "-o", "json"]),
        env.ok(&["get", "values", "twin", "-o", "json"])
    );

    // An upgrade is planned, then the ConfigMap is edited through the API before it is applied.
    env.ok(&["diff", "web", chart, "--set", "greeting=bye", "--out", plan]);
    let cm = Gvk::new("v1", "ConfigMap");
    let edit = Patch::Merge(json!({"data": {"greeting": "edited"}}));
    admin
        .patch(
            &cm,
            Some(&ns.name),
            "web-greeting",
            &edit,
            &WriteOptions::default(),
        )
        .await
        .expect("concurrent edit");
    let refused = env.run(&["apply", "web", "--plan", plan]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "applied a stale plan");
    assert!(
        stderr.contains("live objects changed since the plan was made")
            && stderr.contains(&format!("ConfigMap {}/web-greeting", ns.name)),
        "{stderr}"
    );
    assert_eq!(env.rows("web").len(), 1, "no revision recorded");
    let live = object(&*admin, &ns.name, "ConfigMap", "web-greeting").await;
    assert_eq!(live["data"]["greeting"], "edited", "nothing written");

    // A new plan sees the edit and reverts it, as the three-way diff does; applied, it records
    // revision 2 as an upgrade.
    env.ok(&["diff", "web", chart, "--set", "greeting=bye", "--out", plan]);
    let out = env.ok(&["apply", "web", "--plan", plan]);
    assert!(out.contains("REVISION: 2"), "{out}");
    let live = object(&*admin, &ns.name, "ConfigMap", "web-greeting").await;
    assert_eq!(live["data"]["greeting"], "bye");
    let statuses: Vec<(u64, String)> = env.rows("web").into_iter().map(|r| (r.0, r.1)).collect();
    assert_eq!(statuses, vec![(1, "superseded".into()), (2, "deployed".into())]);
    let hook = object(&*admin, &ns.name, "ConfigMap", "web-hook").await;
    assert_eq!(hook["data"]["revision"], "2", "the pre-upgrade hook ran");
}
