//! Issue 21: `kubectl chart test` against `helm test` on the real control plane (fake kubelet: a
//! pod whose image names `fail` fails, others succeed). Same release installed by each tool in
//! its own namespace; the same test runs must give the same phases, the same exit status and
//! leave the same test pods behind (delete policies).

use std::{collections::BTreeMap, process::Output};

use kubectl_chart::cluster::{Cluster, Gvk};

use super::{helm3, setup, Env};
use crate::support::k8s::{Kit, TestNamespace};

/// Two test pods: `pass` (weight 0, deleted once every test passed) and `fail` (weight 1, kept).
fn write_chart(dir: &std::path::Path) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir.join("templates/tests")).expect("mkdir");
    std::fs::write(
        dir.join("Chart.yaml"),
        "apiVersion: v2\nname: tested\nversion: 0.1.0\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n",
    )
    .expect("write");
    let pod = |name: &str, weight: i32, image: &str, policy: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  annotations:\n    \"helm.sh/hook\": test\n    \
             \"helm.sh/hook-weight\": \"{weight}\"\n{policy}spec:\n  restartPolicy: Never\n  containers:\n  \
             - name: t\n    image: {image}\n"
        )
    };
    let succeeded = "    \"helm.sh/hook-delete-policy\": before-hook-creation,hook-succeeded\n";
    std::fs::write(
        dir.join("templates/tests/pass.yaml"),
        pod("pass", 0, "busybox", succeeded),
    )
    .expect("write");
    std::fs::write(
        dir.join("templates/tests/fail.yaml"),
        pod("fail", 1, "example/fail", ""),
    )
    .expect("write");
}

/// `TEST SUITE:` name → `Phase:` of a status table.
fn phases(stdout: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut name = None;
    for l in stdout.lines() {
        if let Some(n) = l.strip_prefix("TEST SUITE:") {
            name = Some(n.trim().to_string());
        } else if let Some(p) = l.strip_prefix("Phase:") {
            out.insert(
                name.take().expect("Phase: after TEST SUITE:"),
                p.trim().to_string(),
            );
        }
    }
    out
}

async fn pods(admin: &dyn Cluster, ns: &str) -> Vec<String> {
    let list = admin
        .list(&Gvk::new("v1", "Pod"), Some(ns), None)
        .await
        .expect("list pods");
    let mut names: Vec<String> = list
        .items
        .iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .filter_map(|p| p["metadata"]["name"].as_str().map(str::to_string))
        .collect();
    names.sort();
    names
}

fn helm_run(bin: &std::path::Path, kit: &Kit, ns: &str, args: &[&str]) -> Output {
    let home = std::env::temp_dir().join("kc-helmtest-helm");
    std::process::Command::new(bin)
        .args(args)
        .args(["-n", ns, "--kubeconfig"])
        .arg(&kit.kubeconfig)
        .env_remove("KUBECONFIG")
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_DATA_HOME", home.join("data"))
        .output()
        .expect("run helm")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_runs_test_hooks_like_helm_test() {
    let Some(kit) = setup() else { return };
    let Some(helm_bin) = helm3() else { return };
    let admin = kit.admin().await;
    let ours_ns = TestNamespace::new(admin.clone(), "kc-test").await;
    let helm_ns = TestNamespace::new(admin.clone(), "kc-test-helm").await;
    let env = Env {
        kit,
        ns: ours_ns.name.clone(),
    };
    let dir = std::env::temp_dir().join(format!("kc-helmtest-{}", std::process::id()));
    write_chart(&dir);
    let chart = dir.to_string_lossy().into_owned();
    env.ok(&["install", "rel", &chart]);
    let o = helm_run(&helm_bin, kit, &helm_ns.name, &["install", "rel", &chart]);
    assert!(
        o.status.success(),
        "helm install: {}",
        String::from_utf8_lossy(&o.stderr)
    );

    // (case, test flags): all tests (one fails), then only the passing one, then all but it.
    let cases: &[(&str, &[&str])] = &[
        ("all", &[]),
        ("only pass", &["--filter", "name=pass"]),
        ("all but pass", &["--filter", "!name=pass"]),
    ];
    for (case, flags) in cases {
        let ours = env.run(&[&["test", "rel", "--timeout", "60s"][..], flags].concat());
        let theirs = helm_run(
            &helm_bin,
            kit,
            &helm_ns.name,
            &[&["test", "rel", "--timeout", "60s"][..], flags].concat(),
        );
        let (ours_out, theirs_out) = (
            String::from_utf8_lossy(&ours.stdout),
            String::from_utf8_lossy(&theirs.stdout),
        );
        assert_eq!(
            ours.status.code(),
            theirs.status.code(),
            "{case}: exit status\nours:\n{ours_out}{}\nhelm:\n{theirs_out}{}",
            String::from_utf8_lossy(&ours.stderr),
            String::from_utf8_lossy(&theirs.stderr)
        );
        assert!(
            !phases(&theirs_out).is_empty(),
            "{case}: helm reported no test:\n{theirs_out}"
        );
        assert_eq!(
            phases(&ours_out),
            phases(&theirs_out),
            "{case}: phases\nours:\n{ours_out}\nhelm:\n{theirs_out}"
        );
        assert_eq!(
            pods(&*admin, &ours_ns.name).await,
            pods(&*admin, &helm_ns.name).await,
            "{case}: test pods left behind"
        );
    }

    // The kit's fake kubelet keeps no logs: Helm fails on them, we report each one and carry on,
    // the exit status still the tests' own.
    let o = env.run(&["test", "rel", "--filter", "name=pass", "--logs"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "--logs: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("POD LOGS: pass\n"), "{out}");
    assert!(out.contains("(logs unavailable: "), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}
