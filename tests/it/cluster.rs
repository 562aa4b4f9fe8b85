//! The cluster layer against a real control plane (the shared kit): discovery, reads and writes,
//! conflicts, kubeconfig resolution, impersonation, exec plugins, retries through a fault proxy, and
//! Helm's `lookup`. One binary on purpose: each test binary starts its own control plane (~9 s,
//! ~500 MB). Each test works in a namespace of its own.

use crate::support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::faultproxy::{Fault, FaultProxy, Rule};
use crate::support::k8s::{Kit, TestNamespace};
use base64::Engine;
use kubectl_chart::cluster::{
    Cluster, ClusterLookup, ConnectOptions, DeleteOptions, Error, Gvk, KubeCluster, Patch, Propagation,
    RetryPolicy, WriteOptions,
};
use kubectl_chart::render::Lookup;
use serde_json::{json, Value};

fn cm_gvk() -> Gvk {
    Gvk::new("v1", "ConfigMap")
}

fn configmap(ns: &str, name: &str, data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": name, "namespace": ns, "labels": {"app": "kc-test"}}, "data": data})
}

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "kc-cluster-{tag}-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn b64_file(path: &std::path::Path) -> String {
    base64::engine::general_purpose::STANDARD.encode(std::fs::read(path).expect("read pem"))
}

async fn connect(opts: &ConnectOptions) -> Arc<dyn Cluster> {
    Arc::new(KubeCluster::connect(opts).await.expect("connect"))
}

/// The built-in kinds the cluster layer maps without a discovery request must be exactly what
/// the server's discovery says of them (plural, scope): a wrong entry would send requests to a
/// path that does not exist. Read with kubectl, so the answer does not come from the table.
#[test]
fn builtin_kinds_match_the_servers_discovery() {
    let kit = require_kit!();
    let mut docs: std::collections::BTreeMap<String, Value> = Default::default();
    for info in kubectl_chart::cluster::builtin_resources() {
        let gv = info.gvk.api_version();
        let doc = docs.entry(gv.clone()).or_insert_with(|| {
            let path = if gv.contains('/') {
                format!("/apis/{gv}")
            } else {
                format!("/api/{gv}")
            };
            let out = std::process::Command::new("kubectl")
                .args(["get", "--raw", &path])
                .env("KUBECONFIG", &kit.kubeconfig)
                .output()
                .expect("kubectl");
            assert!(
                out.status.success(),
                "{path}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            serde_json::from_slice(&out.stdout).expect("discovery JSON")
        });
        let served = doc["resources"].as_array().into_iter().flatten().find(|r| {
            r["kind"] == info.gvk.kind.as_str() && !r["name"].as_str().unwrap_or("/").contains('/')
        });
        let Some(served) = served else {
            panic!("{gv} {} is not served", info.gvk.kind);
        };
        assert_eq!(
            (served["name"].as_str(), served["namespaced"].as_bool()),
            (Some(info.plural.as_str()), Some(info.namespaced)),
            "{gv} {}",
            info.gvk.kind
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_of_builtins_and_a_crd_created_at_runtime() {
    let kit = require_kit!();
    let c = kit.admin().await;
    let ns = TestNamespace::new(c.clone(), "disc").await;

    let cases = [
        ("core namespaced", "v1", "ConfigMap", "configmaps", true),
        ("core cluster scoped", "v1", "Namespace", "namespaces", false),
        ("grouped", "apps/v1", "Deployment", "deployments", true),
    ];
    for (name, av, kind, plural, namespaced) in cases {
        let info = c.resolve(&Gvk::new(av, kind)).await.expect(name);
        assert_eq!(
            (info.plural.as_str(), info.namespaced),
            (plural, namespaced),
            "{name}"
        );
        assert!(
            info.verbs.iter().any(|v| v == "patch"),
            "{name}: verbs {:?}",
            info.verbs
        );
    }
    let keys = c
        .list_info(&Gvk::new("apps/v1", "Deployment"))
        .await
        .expect("openapi")
        .expect("deployment schema");
    let containers = &keys["spec.template.spec.containers"];
    assert_eq!(containers.map_keys, ["name"]);
    assert_eq!(containers.patch_merge_key.as_deref(), Some("name"));
    assert_eq!(
        keys["spec.template.spec.containers[].ports"].map_keys,
        ["containerPort", "protocol"]
    );

    // A kind that does not exist yet, then its CRD: discovery must refresh instead of caching the miss.
    let group = format!("kc{:06x}.example.com", rand::random::<u32>() & 0xff_ffff);
    let widget = Gvk::new(&format!("{group}/v1"), "Widget");
    let err = c.resolve(&widget).await.expect_err("no CRD yet");
    assert_eq!(
        err.to_string(),
        format!("no matches for kind \"Widget\" in version \"{group}/v1\"")
    );
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("widgets.{group}")},
        "spec": {"group": group, "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "object",
                    "properties": {"ports": {"type": "array", "x-kubernetes-list-type": "map",
                        "x-kubernetes-list-map-keys": ["name"],
                        "items": {"type": "object", "required": ["name"],
                            "properties": {"name": {"type": "string"}}}}}}}}}}]}});
    c.create(&crd, &WriteOptions::default())
        .await
        .expect("create CRD");
    let deadline = Instant::now() + Duration::from_secs(20);
    let info = loop {
        match c.resolve(&widget).await {
            Ok(info) => break info,
            Err(e) if Instant::now() < deadline => {
                assert!(matches!(e, Error::UnknownKind(_)), "unexpected {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("CRD never served: {e}"),
        }
    };
    assert_eq!((info.plural.as_str(), info.namespaced), ("widgets", true));
    let w = json!({"apiVersion": format!("{group}/v1"), "kind": "Widget",
        "metadata": {"name": "w1", "namespace": ns.name}, "spec": {"ports": [{"name": "http"}]}});
    let made = c
        .create(&w, &WriteOptions::default())
        .await
        .expect("create widget");
    assert_eq!(made["spec"]["ports"][0]["name"], "http");
    let crd_gvk = Gvk::new("apiextensions.k8s.io/v1", "CustomResourceDefinition");
    c.delete(
        &crd_gvk,
        None,
        &format!("widgets.{group}"),
        &DeleteOptions::default(),
    )
    .await
    .expect("delete CRD");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_list_create_patch_delete_and_dry_run() {
    let kit = require_kit!();
    let c = kit.admin().await;
    let ns = TestNamespace::new(c.clone(), "crud").await;
    let n = Some(ns.name.as_str());
    let w = WriteOptions::default();
    let dry = WriteOptions {
        dry_run: true,
        ..WriteOptions::default()
    };

    let planned = c
        .create(&configmap(&ns.name, "a", json!({"k": "1"})), &dry)
        .await
        .expect("dry-run create");
    assert_eq!(planned["data"]["k"], "1");
    let e = c
        .get(&cm_gvk(), n, "a")
        .await
        .expect_err("dry run stored nothing");
    assert!(e.is_not_found(), "{e}");
    assert_eq!(
        e.to_string(),
        r#"Error from server (NotFound): configmaps "a" not found"#
    );

    c.create(&configmap(&ns.name, "a", json!({"k": "1"})), &w)
        .await
        .expect("create a");
    c.create(&configmap(&ns.name, "b", json!({"k": "2"})), &w)
        .await
        .expect("create b");
    let e = c
        .create(&configmap(&ns.name, "a", json!({})), &w)
        .await
        .expect_err("duplicate");
    assert!(e.is_already_exists(), "{e}");
    assert_eq!(
        e.to_string(),
        r#"Error from server (AlreadyExists): configmaps "a" already exists"#
    );

    let list = c.list(&cm_gvk(), n, Some("app=kc-test")).await.expect("list");
    let names: Vec<&str> = list
        .items
        .iter()
        .filter_map(|i| i["metadata"]["name"].as_str())
        .collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(
        (list.kind.as_str(), list.items[0]["kind"].as_str()),
        ("ConfigMapList", Some("ConfigMap"))
    );
    // Metadata only: same objects, labels kept, data left on the server.
    let meta = c
        .list_metadata(&cm_gvk(), n, Some("app=kc-test"))
        .await
        .expect("list metadata");
    assert_eq!(meta.items.len(), 2);
    for (item, full) in meta.items.iter().zip(&list.items) {
        assert_eq!(item["metadata"]["name"], full["metadata"]["name"]);
        assert_eq!(item["metadata"]["labels"], full["metadata"]["labels"]);
        assert_eq!(
            (item["apiVersion"].as_str(), item["kind"].as_str()),
            (Some("v1"), Some("ConfigMap"))
        );
        assert!(full.get("data").is_some() && item.get("data").is_none(), "{item}");
    }
    assert_eq!(meta.kind, "ConfigMapList");
    assert!(c
        .list(&cm_gvk(), n, Some("app=other"))
        .await
        .expect("empty list")
        .items
        .is_empty());

    let cases = [
        (
            "json patch",
            Patch::Json(json!([{"op": "replace", "path": "/data/k", "value": "j"}])),
            "j",
        ),
        ("merge patch", Patch::Merge(json!({"data": {"k": "m"}})), "m"),
        (
            "strategic merge patch",
            Patch::Strategic(json!({"data": {"k": "s"}})),
            "s",
        ),
    ];
    for (name, patch, want) in cases {
        let out = c.patch(&cm_gvk(), n, "a", &patch, &w).await.expect(name);
        assert_eq!(out["data"]["k"], want, "{name}");
    }
    let intent = configmap(&ns.name, "a", json!({"k": "applied"}));
    let ssa = WriteOptions {
        field_manager: Some("kubectl-chart".into()),
        force: true,
        dry_run: false,
    };
    let out = c
        .patch(&cm_gvk(), n, "a", &Patch::Apply(intent.clone()), &ssa)
        .await
        .expect("server-side apply");
    assert_eq!(out["data"]["k"], "applied");
    let managers: Vec<&str> = out["metadata"]["managedFields"]
        .as_array()
        .expect("managedFields")
        .iter()
        .filter_map(|m| m["manager"].as_str())
        .collect();
    assert!(managers.contains(&"kubectl-chart"), "{managers:?}");
    // Apply creates a missing object too.
    let fresh = configmap(&ns.name, "c", json!({"k": "new"}));
    c.patch(&cm_gvk(), n, "c", &Patch::Apply(fresh), &ssa)
        .await
        .expect("apply creates");

    let dry_ssa = WriteOptions {
        dry_run: true,
        ..ssa.clone()
    };
    let planned = c
        .patch(
            &cm_gvk(),
            n,
            "a",
            &Patch::Apply(configmap(&ns.name, "a", json!({"k": "dry"}))),
            &dry_ssa,
        )
        .await
        .expect("dry-run apply");
    assert_eq!(planned["data"]["k"], "dry");
    let dry_merge = c
        .patch(
            &cm_gvk(),
            n,
            "a",
            &Patch::Merge(json!({"data": {"k": "dry2"}})),
            &dry,
        )
        .await
        .expect("dry merge");
    assert_eq!(dry_merge["data"]["k"], "dry2");
    assert_eq!(
        c.get(&cm_gvk(), n, "a").await.expect("get")["data"]["k"],
        "applied",
        "dry runs changed nothing"
    );

    let dry_delete = DeleteOptions {
        dry_run: true,
        ..DeleteOptions::default()
    };
    c.delete(&cm_gvk(), n, "b", &dry_delete)
        .await
        .expect("dry-run delete");
    c.get(&cm_gvk(), n, "b").await.expect("still there");
    let fg = DeleteOptions {
        propagation: Some(Propagation::Foreground),
        ..DeleteOptions::default()
    };
    c.delete(&cm_gvk(), n, "b", &fg).await.expect("delete");
    let deadline = Instant::now() + Duration::from_secs(10);
    while c.get(&cm_gvk(), n, "b").await.is_ok() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(c.get(&cm_gvk(), n, "b").await.expect_err("gone").is_not_found());
    let e = c
        .delete(&cm_gvk(), n, "b", &DeleteOptions::default())
        .await
        .expect_err("delete twice");
    assert!(e.is_not_found(), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_resource_version_is_a_conflict() {
    let kit = require_kit!();
    let c = kit.admin().await;
    let ns = TestNamespace::new(c.clone(), "conflict").await;
    let n = Some(ns.name.as_str());
    let w = WriteOptions::default();
    let made = c
        .create(&configmap(&ns.name, "x", json!({"k": "1"})), &w)
        .await
        .expect("create");
    let rv = made["metadata"]["resourceVersion"]
        .as_str()
        .expect("rv")
        .to_string();
    c.patch(&cm_gvk(), n, "x", &Patch::Merge(json!({"data": {"k": "2"}})), &w)
        .await
        .expect("moves rv on");

    let stale = Patch::Merge(json!({"metadata": {"resourceVersion": rv}, "data": {"k": "3"}}));
    let e = c
        .patch(&cm_gvk(), n, "x", &stale, &w)
        .await
        .expect_err("stale merge patch");
    assert!(e.is_conflict(), "{e}");
    assert_eq!(
        e.to_string(),
        "Error from server (Conflict): Operation cannot be fulfilled on configmaps \"x\": the object has been modified; please apply your changes to the latest version and try again"
    );
    let test_op = Patch::Json(
        json!([{"op": "test", "path": "/metadata/resourceVersion", "value": rv},
                                     {"op": "replace", "path": "/data/k", "value": "4"}]),
    );
    let e = c
        .patch(&cm_gvk(), n, "x", &test_op, &w)
        .await
        .expect_err("failed test op");
    assert_eq!(
        e.code(),
        Some(422),
        "the API server reports a failed test op as Invalid: {e}"
    );
    let stale_delete = DeleteOptions {
        resource_version: Some(rv),
        ..DeleteOptions::default()
    };
    let e = c
        .delete(&cm_gvk(), n, "x", &stale_delete)
        .await
        .expect_err("stale precondition");
    assert!(e.is_conflict(), "{e}");
}

/// A kubeconfig file with the kit's cluster and admin user under the given names.
fn kubeconfig_text(kit: &Kit, current: &str, contexts: &[(&str, &str, &str, &str)]) -> String {
    let mut s = format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: {current}\nclusters:\n- name: kit\n  cluster:\n    server: {}\n    certificate-authority-data: {}\n\
         - name: nowhere\n  cluster:\n    server: https://127.0.0.1:1\n\
         users:\n- name: admin\n  user:\n    client-certificate-data: {}\n    client-key-data: {}\n- name: nobody\n  user: {{}}\ncontexts:\n",
        kit.server,
        b64_file(&kit.ca),
        b64_file(&kit.cert),
        b64_file(&kit.key)
    );
    for (name, cluster, user, ns) in contexts {
        s.push_str(&format!(
            "- name: {name}\n  context:\n    cluster: {cluster}\n    user: {user}\n    namespace: {ns}\n"
        ));
    }
    s
}

/// The client speaks HTTP/2 to the API server: requests sent at once share one TLS connection,
/// where over HTTP/1.1 each request in flight needs one of its own (16 here, the concurrency
/// limit). A TCP relay in front of the API server counts the connections it accepts. The first
/// request goes alone, as a run's first request does: a burst on no connection at all may open
/// several before the first one's ALPN answer says they can share.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_share_one_http2_connection() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let kit = require_kit!();
    let upstream = kit.server.trim_start_matches("https://").to_string();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the relay");
    let relay = format!("https://{}", listener.local_addr().expect("relay address"));
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    let relaying = tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let upstream = upstream.clone();
            tokio::spawn(async move {
                if let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            });
        }
    });
    let dir = temp_dir("http2");
    let path = dir.join("config");
    // The kit's certificate names 127.0.0.1, whatever the port, so TLS verifies through the relay.
    let text = kubeconfig_text(kit, "kit", &[("kit", "kit", "admin", "default")]);
    std::fs::write(&path, text.replace(&kit.server, &relay)).expect("write kubeconfig");
    let c = connect(&ConnectOptions {
        kubeconfig: Some(path),
        ..ConnectOptions::default()
    })
    .await;
    c.list(&cm_gvk(), Some("default"), None)
        .await
        .expect("first list");
    let gvk = cm_gvk();
    let lists = (0..32).map(|_| c.list(&gvk, Some("kube-system"), None));
    for (i, r) in futures::future::join_all(lists).await.into_iter().enumerate() {
        r.unwrap_or_else(|e| panic!("list {i}: {e}"));
    }
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "TCP connections to the API server"
    );
    relaying.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubeconfig_files_contexts_and_namespaces() {
    let kit = require_kit!();
    let admin = kit.admin().await;
    let ns = TestNamespace::new(admin.clone(), "kcfg").await;
    admin
        .create(&configmap(&ns.name, "probe", json!({})), &WriteOptions::default())
        .await
        .expect("probe");
    let dir = temp_dir("kubeconfig");
    let a = dir.join("a.yaml");
    let b = dir.join("b.yaml");
    std::fs::write(
        &a,
        kubeconfig_text(
            kit,
            "ctx-a",
            &[
                ("ctx-a", "kit", "admin", &ns.name),
                ("shared", "kit", "admin", "from-a"),
            ],
        ),
    )
    .expect("write a");
    std::fs::write(
        &b,
        kubeconfig_text(
            kit,
            "ctx-b",
            &[
                ("ctx-b", "kit", "admin", "ns-b"),
                ("shared", "kit", "admin", "from-b"),
                ("broken", "nowhere", "nobody", "ns-c"),
            ],
        ),
    )
    .expect("write b");
    let joined = std::env::join_paths([&a, &dir.join("missing.yaml"), &b]).expect("join");

    let env = |o: ConnectOptions| ConnectOptions {
        kubeconfig_env: Some(joined.clone()),
        ..o
    };
    let cases: Vec<(&str, ConnectOptions, &str)> = vec![
        (
            "first file's current-context",
            env(ConnectOptions::default()),
            ns.name.as_str(),
        ),
        (
            "context from the second file",
            env(ConnectOptions {
                context: Some("ctx-b".into()),
                ..Default::default()
            }),
            "ns-b",
        ),
        (
            "first file wins a shared name",
            env(ConnectOptions {
                context: Some("shared".into()),
                ..Default::default()
            }),
            "from-a",
        ),
        (
            "--namespace overrides",
            env(ConnectOptions {
                namespace: Some("flag".into()),
                ..Default::default()
            }),
            "flag",
        ),
        (
            "--kubeconfig ignores KUBECONFIG",
            env(ConnectOptions {
                kubeconfig: Some(b.clone()),
                ..Default::default()
            }),
            "ns-b",
        ),
    ];
    for (name, opts, want_ns) in cases {
        let c = KubeCluster::connect(&opts).await.expect(name);
        assert_eq!(c.default_namespace(), want_ns, "{name}");
    }
    // The default namespace is where namespace-less requests go.
    let c = connect(&env(ConnectOptions::default())).await;
    c.get(&cm_gvk(), None, "probe")
        .await
        .expect("probe in the context's namespace");

    // `broken` points at a dead cluster with no user; --cluster and --user repair it.
    let broken = env(ConnectOptions {
        context: Some("broken".into()),
        ..Default::default()
    });
    let e = connect(&broken)
        .await
        .list(&cm_gvk(), Some(&ns.name), None)
        .await
        .expect_err("dead cluster");
    assert!(matches!(e, Error::Connect(_)), "{e}");
    let repaired = ConnectOptions {
        cluster: Some("kit".into()),
        user: Some("admin".into()),
        ..broken
    };
    let c = connect(&repaired).await;
    assert_eq!(c.default_namespace(), "ns-c");
    c.get(&cm_gvk(), Some(&ns.name), "probe")
        .await
        .expect("repaired context works");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn impersonation_is_forbidden_then_allowed_by_rbac() {
    let kit = require_kit!();
    let admin = kit.admin().await;
    let ns = TestNamespace::new(admin.clone(), "imp").await;
    let w = WriteOptions::default();
    let jane = connect(&ConnectOptions {
        impersonate: Some("jane".into()),
        ..kit.options()
    })
    .await;
    let e = jane
        .list(&cm_gvk(), Some(&ns.name), None)
        .await
        .expect_err("jane has no rights");
    assert_eq!(e.code(), Some(403));
    assert_eq!(
        e.to_string(),
        format!("Error from server (Forbidden): configmaps is forbidden: User \"jane\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"{}\"", ns.name)
    );
    let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "cm-reader", "namespace": ns.name},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]});
    admin.create(&role, &w).await.expect("role");
    for (binding, subject) in [
        ("jane", json!({"kind": "User", "name": "jane"})),
        ("readers", json!({"kind": "Group", "name": "readers"})),
    ] {
        let rb = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": binding, "namespace": ns.name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "cm-reader"},
            "subjects": [subject]});
        admin.create(&rb, &w).await.expect("rolebinding");
    }
    jane.list(&cm_gvk(), Some(&ns.name), None)
        .await
        .expect("jane may list now");
    let e = jane
        .create(&configmap(&ns.name, "nope", json!({})), &w)
        .await
        .expect_err("but not create");
    assert_eq!(e.code(), Some(403));
    let bob = ConnectOptions {
        impersonate: Some("bob".into()),
        impersonate_groups: vec!["readers".into()],
        ..kit.options()
    };
    connect(&bob)
        .await
        .list(&cm_gvk(), Some(&ns.name), None)
        .await
        .expect("bob reads through --as-group");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_plugin_credentials_are_fetched_once() {
    let kit = require_kit!();
    let dir = temp_dir("exec");
    let cred = json!({"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
        "status": {"clientCertificateData": std::fs::read_to_string(&kit.cert).expect("cert"),
                   "clientKeyData": std::fs::read_to_string(&kit.key).expect("key")}});
    std::fs::write(dir.join("cred.json"), cred.to_string()).expect("cred");
    let counter = dir.join("runs");
    let script = dir.join("plugin.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$KUBERNETES_EXEC_INFO\" >> '{}'\ncat '{}'\n",
            counter.display(),
            dir.join("cred.json").display()
        ),
    )
    .expect("script");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let config = format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: exec\nclusters:\n- name: kit\n  cluster:\n    server: {}\n    certificate-authority-data: {}\n\
         users:\n- name: plugin\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: ./plugin.sh\n      interactiveMode: Never\n\
         contexts:\n- name: exec\n  context:\n    cluster: kit\n    user: plugin\n",
        kit.server,
        b64_file(&kit.ca)
    );
    let path = dir.join("config");
    std::fs::write(&path, config).expect("kubeconfig");
    let c = connect(&ConnectOptions {
        kubeconfig: Some(path),
        ..Default::default()
    })
    .await;
    c.list(&Gvk::new("v1", "Namespace"), None, None)
        .await
        .expect("authenticated by the plugin's certificate");
    c.get(&Gvk::new("v1", "Namespace"), None, "default")
        .await
        .expect("second request");
    let runs = std::fs::read_to_string(&counter).expect("plugin ran");
    assert_eq!(runs.lines().count(), 1, "plugin runs once per connection: {runs}");
    assert!(
        runs.contains("\"kind\":\"ExecCredential\""),
        "KUBERNETES_EXEC_INFO was passed: {runs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_through_the_fault_proxy() {
    let kit = require_kit!();
    let admin = kit.admin().await;
    let ns = TestNamespace::new(admin.clone(), "faults").await;
    let n = Some(ns.name.as_str());
    let w = WriteOptions::default();
    admin
        .create(&configmap(&ns.name, "r", json!({"k": "1"})), &w)
        .await
        .expect("seed");
    let proxy = FaultProxy::start(kit);
    let dir = temp_dir("proxy");
    let fast = RetryPolicy {
        max_retries: 3,
        base_delay: Duration::from_millis(50),
        max_delay: Duration::from_secs(2),
    };
    let opts = ConnectOptions {
        kubeconfig: Some(proxy.kubeconfig(&dir, &ns.name)),
        retry: fast,
        request_timeout: Some(Duration::from_secs(1)),
        ..Default::default()
    };
    let c = connect(&opts).await;
    c.get(&cm_gvk(), n, "r")
        .await
        .expect("through the proxy, no faults"); // warms discovery
    let item = "/configmaps/r";

    // Idempotent requests: each fault costs exactly one extra attempt, then the call succeeds.
    let cases = [
        ("500", Fault::Status(500)),
        ("503", Fault::Status(503)),
        ("dropped before forwarding", Fault::DropBefore),
        (
            "latency past the timeout",
            Fault::Latency(Duration::from_millis(1500)),
        ),
        ("dropped after the server answered", Fault::DropAfter),
    ];
    for (name, fault) in cases {
        proxy.clear_rules();
        proxy.add_rule(Rule::new("GET", "/configmaps/r(\\?|$)", &[1], fault));
        let before = proxy.count("GET", item);
        c.get(&cm_gvk(), n, "r").await.expect(name);
        tokio::time::sleep(Duration::from_millis(600)).await; // a timed-out request is logged when it ends
        assert_eq!(proxy.count("GET", item) - before, 2, "{name}: {:?}", proxy.log());
    }

    // 429 honours Retry-After (1 s) instead of the 50 ms backoff.
    proxy.clear_rules();
    proxy.add_rule(Rule::new(
        "GET",
        "/configmaps\\?",
        &[1],
        Fault::TooManyRequests { retry_after_secs: 1 },
    ));
    let t = Instant::now();
    c.list(&cm_gvk(), n, None).await.expect("list after 429");
    assert!(t.elapsed() >= Duration::from_secs(1), "waited {:?}", t.elapsed());

    // DELETE is idempotent too.
    proxy.clear_rules();
    proxy.add_rule(Rule::new(
        "DELETE",
        "/configmaps/gone(\\?|$)",
        &[1],
        Fault::Status(503),
    ));
    admin
        .create(&configmap(&ns.name, "gone", json!({})), &w)
        .await
        .expect("seed gone");
    c.delete(&cm_gvk(), n, "gone", &DeleteOptions::default())
        .await
        .expect("delete after 503");
    assert_eq!(
        proxy.count("DELETE", "/configmaps/gone"),
        2,
        "{:?}",
        proxy
            .log()
            .iter()
            .filter(|r| r.method == "DELETE")
            .collect::<Vec<_>>()
    );

    // Writes are never retried: the first answer, whatever it is, reaches the caller.
    proxy.clear_rules();
    proxy.add_rule(Rule::new("POST", "/configmaps", &[1], Fault::DropAfter));
    let e = c
        .create(&configmap(&ns.name, "lost", json!({})), &w)
        .await
        .expect_err("answer lost");
    assert!(matches!(e, Error::Connect(_)), "{e}");
    assert_eq!(proxy.count("POST", "/configmaps"), 1, "create not retried");
    admin
        .get(&cm_gvk(), n, "lost")
        .await
        .expect("the server did apply the lost create");

    proxy.clear_rules();
    proxy.add_rule(Rule::new("POST", "/configmaps", &[1], Fault::Status(500)));
    let e = c
        .create(&configmap(&ns.name, "five", json!({})), &w)
        .await
        .expect_err("500 on create");
    assert_eq!(e.code(), Some(500));
    assert_eq!(
        proxy.count("POST", "/configmaps"),
        2,
        "one more POST, not retried"
    );

    proxy.clear_rules();
    proxy.add_rule(Rule::new(
        "PATCH",
        "/configmaps/r(\\?|$)",
        &[1],
        Fault::Status(409),
    ));
    let e = c
        .patch(&cm_gvk(), n, "r", &Patch::Merge(json!({"data": {"k": "2"}})), &w)
        .await
        .expect_err("409");
    assert!(e.is_conflict(), "{e}");
    assert_eq!(proxy.count("PATCH", "/configmaps/r"), 1, "patch not retried");

    // Every request carries our user agent and was recorded with its status.
    let log = proxy.log();
    assert!(log.iter().any(|r| r.status == Some(200)));
    let agent = concat!("kubectl-chart/", env!("CARGO_PKG_VERSION"));
    assert!(
        log.iter().all(|r| r.user_agent.as_deref() == Some(agent)),
        "{log:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helm_lookup_against_the_server() {
    let kit = require_kit!();
    let c = kit.admin().await;
    let ns = TestNamespace::new(c.clone(), "lookup").await;
    c.create(
        &configmap(&ns.name, "cfg", json!({"k": "v"})),
        &WriteOptions::default(),
    )
    .await
    .expect("seed");
    let lookup = ClusterLookup::new(c.clone(), tokio::runtime::Handle::current());
    let one = lookup
        .lookup("v1", "ConfigMap", &ns.name, "cfg")
        .expect("one")
        .to_json();
    assert_eq!(
        (one["kind"].as_str(), one["data"]["k"].as_str()),
        (Some("ConfigMap"), Some("v"))
    );
    let list = lookup
        .lookup("v1", "ConfigMap", &ns.name, "")
        .expect("list")
        .to_json();
    assert_eq!(list["kind"], "ConfigMapList");
    let names: Vec<&str> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["metadata"]["name"].as_str())
        .collect();
    assert!(names.contains(&"cfg"), "{names:?}"); // kube-root-ca.crt shows up too, when the controller is quick
    assert_eq!(list["items"][0]["kind"], "ConfigMap");
    assert_eq!(
        lookup
            .lookup("v1", "ConfigMap", &ns.name, "missing")
            .expect("missing")
            .to_json(),
        json!({})
    );
    let e = lookup.lookup("v1", "Nonesuch", "", "").expect_err("unknown kind");
    assert!(
        e.starts_with("unable to get apiresource from unstructured: /v1, Kind=Nonesuch"),
        "{e}"
    );
}

#[test]
fn the_kit_stops_with_this_process() {
    let kit = require_kit!();
    // The kit's watchdog runs `stop` when the owner pid exits; it must name this test process.
    let watchdog = format!("kit-watchdog {}", std::process::id());
    let procs = kit.processes();
    assert!(
        procs.iter().any(|p| p.contains(&watchdog)),
        "no watchdog for this process among {procs:#?}"
    );
    assert!(procs.iter().any(|p| p.contains("kube-apiserver")), "{procs:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_in_flight_are_bounded() {
    let kit = require_kit!();
    let admin = kit.admin().await;
    let ns = TestNamespace::new(admin.clone(), "bound").await;
    admin
        .create(&configmap(&ns.name, "r", json!({})), &WriteOptions::default())
        .await
        .expect("seed");
    let proxy = FaultProxy::start(kit);
    let dir = temp_dir("bound");
    let opts = ConnectOptions {
        kubeconfig: Some(proxy.kubeconfig(&dir, &ns.name)),
        max_concurrency: 2,
        ..Default::default()
    };
    let c = connect(&opts).await;
    c.get(&cm_gvk(), None, "r").await.expect("warm discovery");
    proxy.add_rule(Rule::new(
        "GET",
        "/configmaps/r(\\?|$)",
        &[],
        Fault::Latency(Duration::from_millis(300)),
    ));
    let t = Instant::now();
    let gvk = cm_gvk();
    let gets = (0..6).map(|_| c.get(&gvk, None, "r"));
    for r in futures_join_all(gets).await {
        r.expect("slow get");
    }
    // Six 300 ms requests, two at a time: three waves at least.
    assert!(
        t.elapsed() >= Duration::from_millis(900),
        "took {:?}",
        t.elapsed()
    );
}

/// Runs futures concurrently on this task (a tiny `join_all`, to avoid a dependency for one test).
async fn futures_join_all<F: std::future::Future>(futs: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in futs {
        set.push(Box::pin(f));
    }
    let mut out: Vec<Option<F::Output>> = (0..set.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in set.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}

/// `lint --validate` checks objects against the cluster's own OpenAPI schema, read through
/// `Cluster::openapi_v3_documents`: built-in kinds and the cluster's CRDs (which the schema shipped
/// for `--openapi` cannot know).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lint_validate_reads_the_clusters_openapi_schema() {
    let Some(kit) = support::k8s::kit() else { return };
    let c = kit.admin().await;
    let group = format!("lint{}.kc-test.io", rand::random::<u32>());
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("gadgets.{group}")},
        "spec": {"group": group, "scope": "Namespaced",
            "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget", "listKind": "GadgetList"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "object",
                    "properties": {"size": {"type": "integer"}}}}}}}]}});
    c.create(&crd, &WriteOptions::default())
        .await
        .expect("create CRD");
    // The server publishes a new CRD's schema a moment after creating it: wait until it does.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        // Other tests of this binary create and delete CRDs meanwhile: a group-version listed in
        // the index may be gone (or half-published) by the time its document is fetched.
        let docs = match c.openapi_v3_documents().await {
            Ok(docs) => docs,
            Err(e) => {
                assert!(Instant::now() < deadline, "openapi documents: {e:?}");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        let schemas = kubectl_chart::lint::openapi::Schemas::from_documents("", &docs);
        if schemas.knows(&format!("{group}/v1"), "Gadget") {
            assert!(
                schemas.knows("apps/v1", "Deployment"),
                "built-in kinds are there too"
            );
            break;
        }
        assert!(Instant::now() < deadline, "the CRD's schema was never published");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    let chart = temp_dir("lint-validate");
    let files = [
        (
            "Chart.yaml",
            "apiVersion: v2\nname: gadgets\nversion: 0.1.0\nicon: https://example.com/i.png\n".to_string(),
        ),
        (
            "templates/gadget.yaml",
            format!("apiVersion: {group}/v1\nkind: Gadget\nmetadata:\n  name: g\nspec:\n  size: big\n"),
        ),
        (
            "templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: 1\n".to_string(),
        ),
    ];
    for (name, text) in &files {
        let p = chart.join(name);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }
    let lint = |flag: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-chart"))
            .arg("lint")
            .arg(&chart)
            .args([flag, "--kubeconfig"])
            .arg(&kit.kubeconfig)
            .output()
            .expect("run lint");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let cm = r#"[ERROR] templates/cm.yaml: ConfigMap "c": data.a: expected string, got integer"#;
    let gadget = r#"[ERROR] templates/gadget.yaml: Gadget "g": spec.size: expected integer, got string"#;
    let (code, out) = lint("--validate");
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains(cm) && out.contains(gadget), "{out}");
    // Offline, the custom resource is unknown and left alone.
    let (code, out) = lint("--openapi");
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains(cm) && !out.contains("Gadget"), "{out}");

    let crd_gvk = Gvk::new("apiextensions.k8s.io/v1", "CustomResourceDefinition");
    c.delete(
        &crd_gvk,
        None,
        &format!("gadgets.{group}"),
        &DeleteOptions::default(),
    )
    .await
    .expect("delete CRD");
    let _ = std::fs::remove_dir_all(&chart);
}
