//! Issue 22: post-renderers and built-in patches on the real control plane. The post-renderer
//! installs exactly what helm 3.17.2 installs with the same script; `--patch` and `--set-image`
//! land in the cluster, are recorded with the revision (so the next three-way diff and a rollback
//! know them), and a bad patch or post-renderer stops the run before anything is written.

use kubectl_chart::cluster::{Cluster, Gvk};
use serde_json::Value;

use super::{helm, helm3, setup, Env, DEMO};
use crate::support::k8s::TestNamespace;

/// The objects the demo chart renders (without its cache subchart) as release `pr`.
const OBJECTS: [(&str, &str, &str); 4] = [
    ("v1", "Secret", "pr-demo"),
    ("v1", "ConfigMap", "pr-demo-files"),
    ("v1", "Service", "pr-demo"),
    ("apps/v1", "Deployment", "pr-demo"),
];

fn script(name: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/patches/post-renderer")
        .join(name)
        .display()
        .to_string()
}

/// An object as the chart and the post-renderer made it: what the server or the namespace
/// decide (uids, times, versions, status, allocated cluster IPs, the namespace's name where the
/// chart prints it) left out.
fn normalized(o: Value, ns: &str) -> Value {
    let text = serde_json::to_string(&o).expect("json").replace(ns, "NS");
    let mut o: Value = serde_json::from_str(&text).expect("json");
    let meta = o["metadata"].as_object_mut().expect("metadata");
    for k in [
        "uid",
        "resourceVersion",
        "creationTimestamp",
        "managedFields",
        "generation",
        "namespace",
    ] {
        meta.remove(k);
    }
    if let Some(a) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
        a.remove("meta.helm.sh/release-namespace");
        a.remove("deployment.kubernetes.io/revision");
    }
    let o_map = o.as_object_mut().expect("object");
    o_map.remove("status");
    if let Some(spec) = o_map.get_mut("spec").and_then(Value::as_object_mut) {
        spec.remove("clusterIP");
        spec.remove("clusterIPs");
    }
    o
}

async fn get(admin: &dyn Cluster, ns: &str, api: &str, kind: &str, name: &str) -> Value {
    admin
        .get(&Gvk::new(api, kind), Some(ns), name)
        .await
        .unwrap_or_else(|e| panic!("{kind} {ns}/{name}: {e}"))
}

/// Issue 22: the same post-renderer script, run by helm and by us, installs the same objects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_22_post_renderer_installs_what_helm_installs() {
    let Some(kit) = setup() else { return };
    let Some(helm_bin) = helm3() else { return };
    let admin = kit.admin().await;
    let ours = TestNamespace::new(admin.clone(), "kc-postr").await;
    let theirs = TestNamespace::new(admin.clone(), "kc-postr-helm").await;
    let env = Env {
        kit,
        ns: ours.name.clone(),
    };
    let annotate = script("annotate.sh");
    let args = [
        "install",
        "pr",
        DEMO,
        "--set",
        "cache.enabled=false",
        "--post-renderer",
        &annotate,
        "--post-renderer-args",
        "1",
        "--wait",
        "--timeout",
        "60s",
    ];
    env.ok(&args);
    helm(&helm_bin, kit, &theirs.name, &args);
    for (api, kind, name) in OBJECTS {
        let a = normalized(get(&*admin, &ours.name, api, kind, name).await, &ours.name);
        let b = normalized(get(&*admin, &theirs.name, api, kind, name).await, &theirs.name);
        assert_eq!(a, b, "{kind} {name}: ours (left) and helm's (right) differ");
        assert_eq!(
            a["metadata"]["annotations"]["post-rendered"], "true",
            "{kind} {name} went through the post-renderer"
        );
    }
    let d = get(&*admin, &ours.name, "apps/v1", "Deployment", "pr-demo").await;
    assert_eq!(d["spec"]["replicas"], 1, "the renderer's argument reached it");
    // The recorded manifest is the post-renderer's output, as Helm records it.
    let ours_manifest = env.ok(&["get", "manifest", "pr"]);
    let helm_manifest = helm(&helm_bin, kit, &theirs.name, &["get", "manifest", "pr"]);
    assert_eq!(
        ours_manifest.replace(&ours.name, "NS"),
        helm_manifest.replace(&theirs.name, "NS")
    );
}

/// Issue 22: patches land in the cluster, the revision records them (diff and rollback know them),
/// and a bad patch or post-renderer writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_22_patches_are_recorded_and_bad_ones_write_nothing() {
    let Some(kit) = setup() else { return };
    let admin = kit.admin().await;
    let ns = TestNamespace::new(admin.clone(), "kc-patch").await;
    let env = Env {
        kit,
        ns: ns.name.clone(),
    };
    let base = ["--set", "cache.enabled=false"];
    let patches = [
        "--patch",
        "fixtures/patches/kit.yaml",
        "--set-image",
        "nginx=nginx:1.27",
    ];
    let with = |verb: &'static str, extra: &[&'static str]| -> Vec<&'static str> {
        let mut v = vec![verb, "pr", DEMO];
        v.extend_from_slice(&base);
        if verb != "diff" {
            v.extend(["--timeout", "60s"]);
        }
        v.extend_from_slice(extra);
        v
    };
    let deployment = || get(&*admin, &ns.name, "apps/v1", "Deployment", "pr-demo");
    let shape = |d: &Value| {
        let c = &d["spec"]["template"]["spec"]["containers"][0];
        let level = c["env"]
            .as_array()
            .and_then(|e| e.iter().find(|v| v["name"] == "LOG_LEVEL"))
            .map(|v| v["value"].clone());
        (
            d["spec"]["replicas"].clone(),
            c["image"].clone(),
            level,
            d["metadata"]["labels"]["team"].clone(),
        )
    };
    let patched = (
        Value::from(3),
        Value::from("nginx:1.27"),
        Some(Value::from("debug")),
        Value::from("payments"),
    );
    let plain = (
        Value::from(2),
        Value::from("nginx:1.25.3"),
        Some(Value::from("info")),
        Value::Null,
    );

    env.ok(&with("install", &patches));
    assert_eq!(shape(&deployment().await), patched, "installed patched");
    let manifest = env.ok(&["get", "manifest", "pr"]);
    assert!(
        manifest.contains("team: payments") && manifest.contains("image: nginx:1.27"),
        "the revision records the patched manifest:\n{manifest}"
    );

    // The same patches: nothing to change. Without them the diff shows them going away.
    let mut same = with("diff", &patches);
    same.extend(["--detailed-exitcode", "-o", "summary"]);
    let out = env.run(&same);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let diff = env.run(&with("diff", &["--color", "never"]));
    let text = String::from_utf8_lossy(&diff.stdout);
    let line = |sign: char, want: &str| {
        text.lines()
            .any(|l| l.strip_prefix(sign).is_some_and(|rest| rest.trim() == want))
    };
    assert!(
        line('-', "replicas: 3")
            && line('+', "replicas: 2")
            && line('-', "team: payments")
            && line('-', "image: nginx:1.27")
            && line('+', "image: nginx:1.25.3"),
        "the diff shows the patches removed:\n{text}"
    );

    // Bad patches and post-renderers: clear errors, no revision, no change.
    let hang = script("hang.sh");
    let fail = script("fail.sh");
    let bad_yaml = script("bad-yaml.sh");
    let latin1 = script("latin1.sh");
    let bad: Vec<(&str, Vec<&str>, &str)> = vec![
        (
            "target matches nothing",
            vec!["--patch", "fixtures/patches/no-match.yaml"],
            "entry 0: target {kind=Deployment, name=web-demo} matches no rendered object",
        ),
        (
            "post-renderer fails",
            vec!["--post-renderer", &fail],
            "exit status 3",
        ),
        (
            "post-renderer prints invalid YAML",
            vec!["--post-renderer", &bad_yaml],
            "printed invalid YAML",
        ),
        // Helm fails too, before writing (`yaml: invalid trailing UTF-8 octet`).
        (
            "post-renderer prints bytes that are not UTF-8",
            vec!["--post-renderer", &latin1],
            "printed bytes that are not UTF-8 (document 1, line 6 of its output)",
        ),
        (
            "post-renderer hangs",
            vec!["--post-renderer", &hang, "--post-renderer-timeout", "2s"],
            "did not finish within 2s",
        ),
    ];
    for (name, extra, want) in bad {
        let mut args = vec!["upgrade", "pr", DEMO];
        args.extend_from_slice(&base);
        args.extend(extra);
        let out = env.run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(want), "{name}: {err}");
    }
    let history = env.ok(&["history", "pr", "-o", "json"]);
    let revisions: Value = serde_json::from_str(&history).expect("history json");
    assert_eq!(
        revisions.as_array().map(Vec::len),
        Some(1),
        "no revision from a bad run"
    );
    assert_eq!(
        shape(&deployment().await),
        patched,
        "nothing changed by a bad run"
    );

    // Upgrading without the patches takes them out; a rollback re-applies the recorded,
    // patched manifest of revision 1.
    env.ok(&with("upgrade", &[]));
    assert_eq!(shape(&deployment().await), plain, "upgraded without patches");
    let mut rollback = vec!["rollback", "pr", "1"];
    rollback.extend(["--timeout", "60s"]);
    env.ok(&rollback);
    assert_eq!(
        shape(&deployment().await),
        patched,
        "rolled back to the patched revision"
    );
}
