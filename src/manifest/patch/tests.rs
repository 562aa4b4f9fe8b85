//! Tests of built-in patches: each patch kind on small documents, target matching, and the
//! errors a bad patch file or flag gets.

use super::*;

/// Merge keys of the pod template lists the tests use (the real table is `diff::MergeKeys`).
struct PodLists;

impl ListMerges for PodLists {
    fn list_merge(&self, _: &str, _: &str, path: &[&str]) -> ListMerge {
        match path.join(".").as_str() {
            "spec.template.spec.containers" | "spec.template.spec.initContainers" => {
                ListMerge::Keys(vec!["name".into()])
            }
            "spec.template.spec.containers.env" => ListMerge::Keys(vec!["name".into()]),
            "spec.template.spec.containers.ports" => ListMerge::Keys(vec!["containerPort".into()]),
            "metadata.finalizers" => ListMerge::Set,
            _ => ListMerge::Replace,
        }
    }
}

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    tier: front
spec:
  replicas: 1
  template:
    spec:
      containers:
        - name: web
          image: nginx:1.25
          args: [a, b]
          env:
            - {name: A, value: '1'}
            - {name: B, value: '2'}
          ports:
            - {containerPort: 80}
        - name: sidecar
          image: registry.local:5000/tools/proxy@sha256:abc
      initContainers:
        - name: init
          image: busybox
";

const SERVICE: &str = "apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: other
spec:
  ports:
    - port: 80
";

fn docs() -> Vec<Manifest> {
    [
        ("c/templates/deploy.yaml", DEPLOYMENT),
        ("c/templates/svc.yaml", SERVICE),
    ]
    .into_iter()
    .map(|(path, text)| Manifest {
        path: path.to_string(),
        content: text.trim().to_string(),
        head: Default::default(),
    })
    .collect()
}

fn object(m: &Manifest) -> Value {
    crate::yaml::parse_documents(&m.content, &m.path)
        .unwrap()
        .remove(0)
}

fn run(patch_file: &str, images: &[&str]) -> Result<Vec<Manifest>, Error> {
    let images: Vec<String> = images.iter().map(|s| s.to_string()).collect();
    let set = PatchSet::load(&[("p.yaml".to_string(), patch_file.to_string())], &images)?;
    let mut d = docs();
    set.apply(&mut d, "default", &PodLists)?;
    Ok(d)
}

#[test]
fn patches_change_the_targeted_object() {
    // (name, patch file, JSON pointer into the Deployment, wanted value there)
    let cases: &[(&str, &str, &str, Value)] = &[
        (
            "6902 replace",
            "- target: {kind: Deployment, name: web}\n  patch:\n    - {op: replace, path: /spec/replicas, value: 3}",
            "/spec/replicas",
            serde_json::json!(3),
        ),
        (
            "6902 add with escaped key",
            "- target: {kind: Deployment}\n  patch:\n    - {op: add, path: /metadata/labels/app.kubernetes.io~1part, value: x}",
            "/metadata/labels/app.kubernetes.io~1part",
            serde_json::json!("x"),
        ),
        (
            "6902 append to a list",
            "- target: {kind: Deployment}\n  patch:\n    - {op: add, path: /spec/template/spec/containers/0/args/-, value: c}",
            "/spec/template/spec/containers/0/args",
            serde_json::json!(["a", "b", "c"]),
        ),
        (
            "6902 given as a YAML string",
            "- target: {kind: Deployment}\n  patch: |-\n    - op: remove\n      path: /metadata/labels",
            "/metadata/labels",
            Value::Null,
        ),
        (
            "smp merges containers by name and keeps the others",
            "- target: {kind: Deployment}\n  patch:\n    spec: {template: {spec: {containers: [{name: web, resources: {limits: {cpu: 500m}}}]}}}",
            "/spec/template/spec/containers",
            serde_json::json!([
                {"name": "web", "image": "nginx:1.25", "args": ["a", "b"],
                 "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                 "ports": [{"containerPort": 80}], "resources": {"limits": {"cpu": "500m"}}},
                {"name": "sidecar", "image": "registry.local:5000/tools/proxy@sha256:abc"}
            ]),
        ),
        (
            "smp merges env by name, appends new names",
            "- target: {kind: Deployment}\n  patch:\n    spec: {template: {spec: {containers: [{name: web, env: [{name: B, value: '3'}, {name: C, value: '4'}]}]}}}",
            "/spec/template/spec/containers/0/env",
            serde_json::json!([{"name": "A", "value": "1"}, {"name": "B", "value": "3"}, {"name": "C", "value": "4"}]),
        ),
        (
            "smp replaces an atomic list",
            "- target: {kind: Deployment}\n  patch:\n    spec: {template: {spec: {containers: [{name: web, args: [z]}]}}}",
            "/spec/template/spec/containers/0/args",
            serde_json::json!(["z"]),
        ),
        (
            "smp $patch: delete removes a list element",
            "- target: {kind: Deployment}\n  patch:\n    spec: {template: {spec: {containers: [{name: sidecar, $patch: delete}]}}}",
            "/spec/template/spec/containers/1",
            Value::Null,
        ),
        (
            "smp $patch: replace as a list element replaces the list",
            "- target: {kind: Deployment}\n  patch:\n    spec: {template: {spec: {containers: [{name: web, env: [{$patch: replace}, {name: Z, value: '9'}]}]}}}",
            "/spec/template/spec/containers/0/env",
            serde_json::json!([{"name": "Z", "value": "9"}]),
        ),
        (
            "smp $patch: replace on a map replaces the map",
            "- target: {kind: Deployment}\n  patch:\n    metadata: {labels: {$patch: replace, only: this}}",
            "/metadata/labels",
            serde_json::json!({"only": "this"}),
        ),
        (
            "smp null deletes a key",
            "- target: {kind: Deployment}\n  patch:\n    spec: {replicas: null}",
            "/spec/replicas",
            Value::Null,
        ),
        (
            "smp $retainKeys drops keys not listed",
            "- target: {kind: Deployment}\n  patch:\n    metadata: {$retainKeys: [name], annotations: {a: b}}",
            "/metadata",
            serde_json::json!({"name": "web"}),
        ),
        (
            "smp $deleteFromPrimitiveList removes scalars",
            "- target: {kind: Deployment}\n  patch:\n    spec: {template: {spec: {containers: [{name: web, $deleteFromPrimitiveList/args: [a]}]}}}",
            "/spec/template/spec/containers/0/args",
            serde_json::json!(["b"]),
        ),
        (
            "smp merges a set list",
            "- target: {kind: Deployment}\n  patch:\n    metadata: {finalizers: [x]}\n- target: {kind: Deployment}\n  patch:\n    metadata: {finalizers: [x, z]}",
            "/metadata/finalizers",
            serde_json::json!(["x", "z"]),
        ),
        (
            "label selector and version select",
            "- target: {version: v1, labelSelector: 'tier in (front,back),!canary'}\n  patch:\n    - {op: replace, path: /spec/replicas, value: 5}",
            "/spec/replicas",
            serde_json::json!(5),
        ),
        (
            "name is an anchored regex",
            "- target: {kind: Deploy.*, name: 'w.b'}\n  patch:\n    - {op: replace, path: /spec/replicas, value: 7}",
            "/spec/replicas",
            serde_json::json!(7),
        ),
        (
            "set-image alone",
            "",
            "/spec/template/spec/containers/0/image",
            serde_json::json!("nginx:1.27"),
        ),
    ];
    for (name, file, pointer, want) in cases {
        let images: &[&str] = if file.is_empty() {
            &["nginx=nginx:1.27"]
        } else {
            &[]
        };
        let out = run(file, images).unwrap_or_else(|e| panic!("{name}: {e}"));
        let got = object(&out[0]).pointer(pointer).cloned().unwrap_or(Value::Null);
        assert_eq!(got, *want, "{name}");
        // The Service was not targeted: its text is untouched, byte for byte.
        assert_eq!(out[1].content, SERVICE.trim(), "{name}: untouched document");
        // The head follows the patched text.
        assert_eq!(out[0].head.kind, "Deployment", "{name}: head");
    }
}

#[test]
fn namespace_defaults_to_the_release_namespace() {
    let patch = |ns: &str| {
        format!("- target: {{kind: Service, namespace: {ns}}}\n  patch:\n    - {{op: add, path: /spec/type, value: NodePort}}")
    };
    assert!(run(&patch("other"), &[]).is_ok(), "explicit namespace");
    let mut d = docs();
    d.remove(1);
    let set = PatchSet::load(
        &[(
            "p.yaml".into(),
            "- target: {kind: Deployment, namespace: default}\n  patch: {spec: {paused: true}}".into(),
        )],
        &[],
    )
    .unwrap();
    set.apply(&mut d, "default", &PodLists).unwrap();
    assert_eq!(object(&d[0]).pointer("/spec/paused"), Some(&Value::Bool(true)));
    let err = run(&patch("default"), &[]).unwrap_err().to_string();
    assert_eq!(
        err,
        "patch file p.yaml:1: entry 0: target {kind=Service, namespace=default} matches no rendered object"
    );
}

#[test]
fn smp_delete_of_a_whole_object_drops_its_document() {
    let out = run("- target: {kind: Service}\n  patch: {$patch: delete}", &[]).unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].path, "c/templates/deploy.yaml");
}

#[test]
fn bad_patch_files_name_file_entry_and_field() {
    let cases: &[(&str, &str, &str)] = &[
        ("not a list", "target: x", "patch file p.yaml: expected a list of entries (- target: …, patch: …), found a map"),
        ("not YAML", "- [", "patch file p.yaml: "),
        ("entry not a map", "- 3", "patch file p.yaml:1: entry 0: field (entry): expected a map with target and patch, found a number"),
        ("unknown field", "- {target: {kind: A}, patch: {}, options: {}}", "patch file p.yaml:1: entry 0: field options: unknown field (expected target and patch)"),
        ("missing target", "- {patch: {}}", "patch file p.yaml:1: entry 0: field target: missing"),
        ("missing patch", "- {target: {kind: A}}", "patch file p.yaml:1: entry 0: field patch: missing"),
        ("unknown target field", "- {target: {kinds: A}, patch: {}}", "patch file p.yaml:1: entry 0: field target.kinds: unknown field"),
        ("empty target", "- {target: {}, patch: {}}", "patch file p.yaml:1: entry 0: field target: empty"),
        ("target value not a string", "- {target: {kind: [A]}, patch: {}}", "patch file p.yaml:1: entry 0: field target.kind: expected a string, found a list"),
        ("bad regex", "- {target: {name: '('}, patch: {}}", "patch file p.yaml:1: entry 0: field target.name: invalid regular expression"),
        ("bad selector", "- {target: {labelSelector: 'a b'}, patch: {}}", "patch file p.yaml:1: entry 0: field target.labelSelector: invalid label key"),
        ("bad op", "- {target: {kind: A}, patch: [{op: frob, path: /a}]}", "patch file p.yaml:1: entry 0: field patch: not a list of RFC 6902 operations"),
        ("patch a scalar", "- {target: {kind: A}, patch: 3}", "patch file p.yaml:1: entry 0: field patch: expected a list of RFC 6902 operations or a strategic-merge patch map, found a number"),
        ("bad directive", "- {target: {kind: A}, patch: {$patch: drop}}", "patch file p.yaml:1: entry 0: field patch: $patch must be replace, delete or merge"),
        ("flow style: no line", "[{target: {kind: A}}]", "patch file p.yaml: entry 0: field patch: missing"),
        ("second entry counted", "- {target: {kind: A}, patch: {}}\n- {target: {kind: A}}", "patch file p.yaml:2: entry 1: field patch: missing"),
    ];
    for (name, file, want) in cases {
        let err = PatchSet::load(&[("p.yaml".into(), file.to_string())], &[])
            .map(|_| ())
            .expect_err(name)
            .to_string();
        assert!(err.starts_with(want), "{name}: {err}");
    }
}

#[test]
fn patches_that_do_not_apply_name_the_object() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "6902 test fails",
            "- target: {kind: Deployment}\n  patch: [{op: test, path: /spec/replicas, value: 9}]",
            "patch file p.yaml:1: entry 0: patching Deployment default/web: ",
        ),
        (
            "6902 path missing",
            "- target: {kind: Deployment}\n  patch: [{op: replace, path: /spec/nope/x, value: 1}]",
            "patch file p.yaml:1: entry 0: patching Deployment default/web: ",
        ),
        (
            "smp element without merge key",
            "- target: {kind: Deployment}\n  patch: {spec: {template: {spec: {containers: [{image: x}]}}}}",
            "patch file p.yaml:1: entry 0: patching Deployment default/web: list spec.template.spec.containers merges on name: a patch element lacks the merge key",
        ),
        (
            "no match",
            "- target: {kind: StatefulSet, name: db}\n  patch: {spec: {replicas: 2}}",
            "patch file p.yaml:1: entry 0: target {kind=StatefulSet, name=db} matches no rendered object",
        ),
    ];
    for (name, file, want) in cases {
        let err = run(file, &[]).map(|_| ()).expect_err(name).to_string();
        assert!(err.starts_with(want), "{name}: {err}");
    }
}

#[test]
fn set_image_rewrites_like_kustomize_images() {
    // (flag, image in the chart, wanted image; None: not matched)
    let cases: &[(&str, &str, Option<&str>)] = &[
        ("nginx=nginx:1.27", "nginx:1.25", Some("nginx:1.27")),
        (
            "nginx=mirror.local/nginx",
            "nginx:1.25",
            Some("mirror.local/nginx:1.25"),
        ),
        ("nginx=:1.27", "nginx:1.25", Some("nginx:1.27")),
        ("nginx:1.27", "nginx:1.25", Some("nginx:1.27")),
        ("nginx=nginx@sha256:f00", "nginx:1.25", Some("nginx@sha256:f00")),
        (
            "nginx@sha256:f00",
            "nginx:1.25@sha256:abc",
            Some("nginx@sha256:f00"),
        ),
        ("nginx=:1.27", "nginx:1.25@sha256:abc", Some("nginx:1.27")),
        ("nginx=other", "nginx", Some("other")),
        ("nginx=other", "nginx-extra:1", None),
        ("nginx=other", "library/nginx:1", None),
        (
            "registry.local:5000/tools/proxy=registry.local:5000/tools/proxy:2",
            "registry.local:5000/tools/proxy@sha256:abc",
            Some("registry.local:5000/tools/proxy:2"),
        ),
        ("registry.local=x:1", "registry.local:5000/tools/proxy", None),
    ];
    for (flag, image, want) in cases {
        let set = parse_image(flag).unwrap_or_else(|e| panic!("{flag}: {e}"));
        assert_eq!(set.rewrite(image).as_deref(), *want, "{flag} on {image}");
    }
}

#[test]
fn set_image_reaches_every_pod_template() {
    let cron = Manifest {
        path: "c/templates/cron.yaml".into(),
        content: "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          initContainers: [{name: i, image: busybox}]\n          containers: [{name: m, image: 'busybox:1.36'}]".into(),
        head: Default::default(),
    };
    let mut d = docs();
    d.push(cron);
    let set = PatchSet::load(&[], &["busybox=busybox:1.37".into()]).unwrap();
    set.apply(&mut d, "default", &NoListMerges).unwrap();
    let dep = object(&d[0]);
    assert_eq!(
        dep.pointer("/spec/template/spec/initContainers/0/image").unwrap(),
        "busybox:1.37"
    );
    assert_eq!(
        dep.pointer("/spec/template/spec/containers/0/image").unwrap(),
        "nginx:1.25"
    );
    let cron = object(&d[2]);
    let spec = "/spec/jobTemplate/spec/template/spec";
    assert_eq!(
        cron.pointer(&format!("{spec}/initContainers/0/image")).unwrap(),
        "busybox:1.37"
    );
    assert_eq!(
        cron.pointer(&format!("{spec}/containers/0/image")).unwrap(),
        "busybox:1.37"
    );
    assert_eq!(d[1].content, SERVICE.trim(), "the Service is untouched");
}

#[test]
fn bad_set_image_flags() {
    let cases: &[(&str, &str)] = &[
        ("nginx", "--set-image \"nginx\": expected NAME=NEWNAME[:TAG][@DIGEST], NAME:TAG or NAME@DIGEST"),
        ("=x:1", "--set-image \"=x:1\": the image name to replace is empty"),
        ("nginx:1=x", "--set-image \"nginx:1=x\": the image to replace is matched by name: leave its tag and digest out"),
        ("nginx=", "--set-image \"nginx=\": the new reference is empty"),
        ("nginx=x:", "--set-image \"nginx=x:\": empty tag or digest"),
        ("nginx=x@f00", "--set-image \"nginx=x@f00\": a digest is ALGORITHM:HEX, e.g. sha256:…"),
    ];
    for (flag, want) in cases {
        let err = PatchSet::load(&[], &[flag.to_string()])
            .map(|_| ())
            .expect_err(flag)
            .to_string();
        assert_eq!(err, *want, "{flag}");
    }
    let err = run("", &["postgres=postgres:17"])
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "--set-image \"postgres=postgres:17\": no container or initContainer of a rendered object uses image \"postgres\""
    );
}
