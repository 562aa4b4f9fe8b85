//! Discovery answers, read without I/O: which REST resource serves a kind (from an `APIResourceList`),
//! which lists in a kind's schema are sets or maps (from an OpenAPI v3 group-version document), and
//! what the server serves as a whole, for `.Capabilities` ([`ServerCapabilities`], from `/version`
//! and aggregated or per-group-version discovery).
//!
//! `kube.rs` fetches the documents and caches the results per run; everything here is pure so it can
//! be tested on captured server answers.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde_json::Value;

use super::{ApiResourceInfo, Gvk};

/// How the schema says a list field merges (the OpenAPI extensions the API server publishes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListInfo {
    /// `x-kubernetes-list-type`: `atomic`, `set` or `map`.
    pub list_type: Option<String>,
    /// `x-kubernetes-list-map-keys`: the keys identifying an item of a `map` list.
    pub map_keys: Vec<String>,
    /// `x-kubernetes-patch-merge-key`: the strategic-merge-patch key.
    pub patch_merge_key: Option<String>,
    /// `x-kubernetes-patch-strategy`: `merge`, `replace`, `retainKeys`, ...
    pub patch_strategy: Option<String>,
}

/// Finds the resource for `gvk` in an `APIResourceList` (`GET /api/v1`, `/apis/GROUP/VERSION`).
/// Subresources (`pods/status`) are skipped: they share the kind of their parent.
pub(crate) fn find_resource(list: &Value, gvk: &Gvk) -> Option<ApiResourceInfo> {
    let resources = list.get("resources")?.as_array()?;
    resources.iter().find_map(|r| {
        let name = r.get("name")?.as_str()?;
        if name.contains('/') || r.get("kind")?.as_str()? != gvk.kind {
            return None;
        }
        let verbs = r
            .get("verbs")
            .and_then(Value::as_array)
            .map(|v| v.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default();
        Some(ApiResourceInfo {
            gvk: gvk.clone(),
            plural: name.to_string(),
            namespaced: r.get("namespaced").and_then(Value::as_bool).unwrap_or(false),
            verbs,
        })
    })
}

/// Built-in kinds whose resource every Kubernetes release Helm 3.17 supports serves, with full
/// verbs, as `(apiVersion, kind, plural, namespaced)`: what `GET /api/v1` or
/// `/apis/GROUP/VERSION` would say about them, known without asking. Only group-versions that
/// went GA by 1.23 and are still served are here; anything else (custom resources, beta or
/// removed versions, aggregated APIs) is discovered as before. A server that stopped serving
/// one of these answers 404 to the request itself, which callers already read as "not there".
const BUILTIN: &[(&str, &str, &str, bool)] = &[
    ("v1", "ConfigMap", "configmaps", true),
    ("v1", "Endpoints", "endpoints", true),
    ("v1", "Event", "events", true),
    ("v1", "LimitRange", "limitranges", true),
    ("v1", "Namespace", "namespaces", false),
    ("v1", "PersistentVolume", "persistentvolumes", false),
    ("v1", "PersistentVolumeClaim", "persistentvolumeclaims", true),
    ("v1", "Pod", "pods", true),
    ("v1", "ReplicationController", "replicationcontrollers", true),
    ("v1", "ResourceQuota", "resourcequotas", true),
    ("v1", "Secret", "secrets", true),
    ("v1", "Service", "services", true),
    ("v1", "ServiceAccount", "serviceaccounts", true),
    ("apps/v1", "DaemonSet", "daemonsets", true),
    ("apps/v1", "Deployment", "deployments", true),
    ("apps/v1", "ReplicaSet", "replicasets", true),
    ("apps/v1", "StatefulSet", "statefulsets", true),
    ("batch/v1", "CronJob", "cronjobs", true),
    ("batch/v1", "Job", "jobs", true),
    (
        "autoscaling/v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        true,
    ),
    ("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", true),
    ("networking.k8s.io/v1", "Ingress", "ingresses", true),
    ("networking.k8s.io/v1", "IngressClass", "ingressclasses", false),
    ("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", true),
    (
        "rbac.authorization.k8s.io/v1",
        "ClusterRole",
        "clusterroles",
        false,
    ),
    (
        "rbac.authorization.k8s.io/v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        false,
    ),
    ("rbac.authorization.k8s.io/v1", "Role", "roles", true),
    (
        "rbac.authorization.k8s.io/v1",
        "RoleBinding",
        "rolebindings",
        true,
    ),
    ("storage.k8s.io/v1", "StorageClass", "storageclasses", false),
    ("scheduling.k8s.io/v1", "PriorityClass", "priorityclasses", false),
    (
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        false,
    ),
    (
        "admissionregistration.k8s.io/v1",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        false,
    ),
    (
        "admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        false,
    ),
];

/// The verbs of every [`BUILTIN`] resource.
const FULL_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// Every [`BUILTIN`] resource (tests compare them with a real server's discovery).
pub fn builtin_resources() -> Vec<ApiResourceInfo> {
    BUILTIN
        .iter()
        .filter_map(|(v, k, _, _)| builtin(&Gvk::new(v, k)))
        .collect()
}

/// `gvk`'s resource if it is one of the [`BUILTIN`] kinds, `None` for anything to discover.
pub(crate) fn builtin(gvk: &Gvk) -> Option<ApiResourceInfo> {
    let api_version = gvk.api_version();
    BUILTIN
        .iter()
        .find(|(v, k, _, _)| *v == api_version && *k == gvk.kind)
        .map(|(_, _, plural, namespaced)| ApiResourceInfo {
            gvk: gvk.clone(),
            plural: (*plural).to_string(),
            namespaced: *namespaced,
            verbs: FULL_VERBS.iter().map(|v| (*v).to_string()).collect(),
        })
}

/// The discovery path of a group-version: `/api/v1` for the core group, `/apis/GROUP/VERSION` else.
pub(crate) fn group_version_path(gvk: &Gvk) -> String {
    gv_path(&gvk.api_version())
}

/// [`group_version_path`] of a group-version string (`v1`, `apps/v1`).
pub(crate) fn gv_path(group_version: &str) -> String {
    if group_version.contains('/') {
        format!("/apis/{group_version}")
    } else {
        format!("/api/{group_version}")
    }
}

/// What discovery found on a server, in the shape client-go's `ServerGroupsAndResources` returns
/// it (what Helm's `GetVersionSet` reads).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Discovered {
    /// Every group-version the server lists (`v1`, `apps/v1`), in its order.
    pub group_versions: Vec<String>,
    /// The `APIResourceList` of each group-version that answered, keyed by group-version, in the
    /// shape `GET /apis/GROUP/VERSION` has (subresources as `deployments/scale` entries).
    pub resources: BTreeMap<String, Value>,
    /// Group-versions whose resources could not be read, and why. Helm tolerates these (an
    /// APIService whose backend is down must not stop every install): their kinds are simply
    /// missing from `.Capabilities.APIVersions`.
    pub failed: BTreeMap<String, String>,
}

/// The media type of aggregated discovery (`GET /api`, `GET /apis` answering every group's
/// resources at once; GA in Kubernetes 1.30), with plain JSON last so an older server answers the
/// legacy `APIVersions`/`APIGroupList` instead. The same list client-go 0.32 sends.
pub(crate) const AGGREGATED_ACCEPT: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,\
application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";

/// Whether an answer to `GET /api` or `GET /apis` is aggregated discovery.
pub(crate) fn is_aggregated(doc: &Value) -> bool {
    doc.get("kind").and_then(Value::as_str) == Some("APIGroupDiscoveryList")
}

/// Reads aggregated discovery documents (the answers of `GET /api` and `GET /apis`) as client-go
/// does: a version marked `Stale` (its aggregated APIService did not answer) is a failed
/// group-version and is left out of the group list too; a resource or subresource without a
/// `responseKind` is skipped.
pub(crate) fn from_aggregated(docs: &[&Value]) -> Discovered {
    let mut out = Discovered::default();
    for doc in docs {
        let groups = doc.get("items").and_then(Value::as_array).into_iter().flatten();
        for group in groups {
            let name = group
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("");
            let versions = group
                .get("versions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten();
            for v in versions {
                let version = v.get("version").and_then(Value::as_str).unwrap_or("");
                let gv = if name.is_empty() {
                    version.to_string()
                } else {
                    format!("{name}/{version}")
                };
                if v.get("freshness").and_then(Value::as_str) == Some("Stale") {
                    out.failed
                        .insert(gv, "the server reports this group-version as stale".into());
                    continue;
                }
                let resources = v.get("resources").and_then(Value::as_array).into_iter().flatten();
                let list: Vec<Value> = resources.flat_map(aggregated_resource).collect();
                out.resources.insert(
                    gv.clone(),
                    serde_json::json!({"kind": "APIResourceList", "apiVersion": "v1",
                        "groupVersion": gv, "resources": list}),
                );
                out.group_versions.push(gv);
            }
        }
    }
    out
}

/// One aggregated `APIResourceDiscovery` as legacy `APIResource` entries: the resource itself,
/// then one `RESOURCE/SUBRESOURCE` entry per subresource.
fn aggregated_resource(r: &Value) -> Vec<Value> {
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let name = s(r, "resource");
    let namespaced = r.get("scope").and_then(Value::as_str) == Some("Namespaced");
    let verbs = r
        .get("verbs")
        .cloned()
        .unwrap_or_else(|| Value::Array(Vec::new()));
    let mut out = Vec::new();
    if let Some(kind) = r.get("responseKind").filter(|k| k.is_object()) {
        out.push(
            serde_json::json!({"name": name, "singularName": s(r, "singularResource"),
            "namespaced": namespaced, "group": s(kind, "group"), "version": s(kind, "version"),
            "kind": s(kind, "kind"), "verbs": verbs}),
        );
    }
    let subresources = r
        .get("subresources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    for sub in subresources {
        let Some(kind) = sub.get("responseKind").filter(|k| k.is_object()) else {
            continue;
        };
        out.push(
            serde_json::json!({"name": format!("{name}/{}", s(sub, "subresource")),
            "singularName": "", "namespaced": namespaced, "group": s(kind, "group"),
            "version": s(kind, "version"), "kind": s(kind, "kind"),
            "verbs": sub.get("verbs").cloned().unwrap_or_else(|| Value::Array(Vec::new()))}),
        );
    }
    out
}

/// The group-versions of legacy discovery: `GET /api` (`APIVersions`, the core group) and
/// `GET /apis` (`APIGroupList`), in the server's order.
pub(crate) fn legacy_group_versions(api: &Value, apis: &Value) -> Vec<String> {
    let core = api
        .get("versions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    let groups = apis.get("groups").and_then(Value::as_array).into_iter().flatten();
    let grouped = groups
        .flat_map(|g| g.get("versions").and_then(Value::as_array).into_iter().flatten())
        .filter_map(|v| v.get("groupVersion"));
    core.chain(grouped)
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

/// The server's version and everything it serves: what Helm's `getCapabilities` puts in
/// `.Capabilities` when it renders against a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerCapabilities {
    /// `gitVersion` of `GET /version`, as the server prints it (`v1.32.13`, `v1.30.4-eks-a737599`).
    pub git_version: String,
    /// `major` of `GET /version` (`1`).
    pub major: String,
    /// `minor` of `GET /version` (`32`; some providers say `32+`).
    pub minor: String,
    /// Every served group-version (`apps/v1`) and group-version/kind (`apps/v1/Deployment`),
    /// sorted, each once (Helm's `GetVersionSet`; its order is a Go map's, so any order is Helm's).
    pub api_versions: Vec<String>,
    /// Group-versions whose discovery failed and were left out (see [`Discovered::failed`]).
    pub failed: BTreeMap<String, String>,
}

impl ServerCapabilities {
    /// Builds the capabilities from the `GET /version` answer and discovery, as Helm's
    /// `GetVersionSet` does: every listed group-version, then `GROUP/VERSION/Kind` for every
    /// resource and subresource of each answered group-version (so `apps/v1/Scale`, the kind of
    /// `deployments/scale`, is there too).
    pub fn new(version: &Value, discovered: &Discovered) -> Self {
        let s = |k: &str| version.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let mut set: BTreeSet<String> = discovered.group_versions.iter().cloned().collect();
        for (gv, list) in &discovered.resources {
            let resources = list
                .get("resources")
                .and_then(Value::as_array)
                .into_iter()
                .flatten();
            for kind in resources.filter_map(|r| r.get("kind").and_then(Value::as_str)) {
                // Go's `path.Join`: an empty kind adds nothing.
                set.insert(if kind.is_empty() {
                    gv.clone()
                } else {
                    format!("{gv}/{kind}")
                });
            }
        }
        ServerCapabilities {
            git_version: s("gitVersion"),
            major: s("major"),
            minor: s("minor"),
            api_versions: set.into_iter().collect(),
            failed: discovered.failed.clone(),
        }
    }
}

/// The key of a group-version in the `/openapi/v3` index (`api/v1`, `apis/apps/v1`).
pub(crate) fn openapi_index_key(gvk: &Gvk) -> String {
    group_version_path(gvk).trim_start_matches('/').to_string()
}

/// Walks the schema of `gvk` in an OpenAPI v3 group-version document and returns every list field
/// carrying list-type annotations, keyed by path: object fields joined by `.`, list items as `[]`,
/// map values (`additionalProperties`) as `*` — e.g. `spec.template.spec.containers` and
/// `spec.template.spec.containers[].ports`. `None` when no schema names this kind.
pub fn list_map_keys_from_openapi(doc: &Value, gvk: &Gvk) -> Option<BTreeMap<String, ListInfo>> {
    let schemas = doc.pointer("/components/schemas")?.as_object()?;
    let root = schemas.values().find(|s| schema_has_gvk(s, gvk))?;
    let mut out = BTreeMap::new();
    let mut stack = HashSet::new();
    walk(root, schemas, "", &mut stack, &mut out, 0);
    Some(out)
}

fn schema_has_gvk(schema: &Value, gvk: &Gvk) -> bool {
    let Some(list) = schema
        .get("x-kubernetes-group-version-kind")
        .and_then(Value::as_array)
    else {
        return false;
    };
    list.iter().any(|g| {
        let f = |k: &str| g.get(k).and_then(Value::as_str).unwrap_or("");
        f("group") == gvk.group && f("version") == gvk.version && f("kind") == gvk.kind
    })
}

/// Deep enough for any real object; CRD schemas (JSONSchemaProps) are recursive, so stop somewhere.
const MAX_DEPTH: usize = 40;

fn walk(
    node: &Value,
    schemas: &serde_json::Map<String, Value>,
    path: &str,
    stack: &mut HashSet<String>,
    out: &mut BTreeMap<String, ListInfo>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    // A field's schema is inline, a `$ref`, or an `allOf: [{$ref}]` wrapper carrying defaults.
    let refs: Vec<&str> = node
        .get("$ref")
        .and_then(Value::as_str)
        .into_iter()
        .chain(
            node.get("allOf")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|a| a.get("$ref").and_then(Value::as_str)),
        )
        .collect();
    for r in refs {
        let name = r.trim_start_matches("#/components/schemas/");
        if stack.contains(name) {
            continue; // a recursive type: its fields were already listed higher up
        }
        if let Some(target) = schemas.get(name) {
            stack.insert(name.to_string());
            walk(target, schemas, path, stack, out, depth + 1);
            stack.remove(name);
        }
    }
    if let Some(props) = node.get("properties").and_then(Value::as_object) {
        for (k, v) in props {
            let p = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            walk(v, schemas, &p, stack, out, depth + 1);
        }
    }
    if let Some(items) = node.get("items") {
        let info = list_info(node);
        if info != ListInfo::default() {
            out.insert(path.to_string(), info);
        }
        walk(items, schemas, &format!("{path}[]"), stack, out, depth + 1);
    }
    if let Some(ap) = node.get("additionalProperties").filter(|v| v.is_object()) {
        let p = if path.is_empty() {
            "*".to_string()
        } else {
            format!("{path}.*")
        };
        walk(ap, schemas, &p, stack, out, depth + 1);
    }
}

fn list_info(node: &Value) -> ListInfo {
    let s = |k: &str| node.get(k).and_then(Value::as_str).map(str::to_string);
    ListInfo {
        list_type: s("x-kubernetes-list-type"),
        map_keys: node
            .get("x-kubernetes-list-map-keys")
            .and_then(Value::as_array)
            .map(|v| v.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default(),
        patch_merge_key: s("x-kubernetes-patch-merge-key"),
        patch_strategy: s("x-kubernetes-patch-strategy"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_resources_and_skips_subresources() {
        // Shape of `GET /api/v1` from kube-apiserver v1.32 (trimmed).
        let list = json!({"kind":"APIResourceList","groupVersion":"v1","resources":[
            {"name":"pods","singularName":"pod","namespaced":true,"kind":"Pod","verbs":["create","get"]},
            {"name":"pods/status","singularName":"","namespaced":true,"kind":"Pod","verbs":["get","patch"]},
            {"name":"namespaces","singularName":"namespace","namespaced":false,"kind":"Namespace","verbs":["get"]}
        ]});
        let cases = [
            ("namespaced", "Pod", Some(("pods", true))),
            ("cluster scoped", "Namespace", Some(("namespaces", false))),
            ("unknown", "Widget", None),
        ];
        for (name, kind, want) in cases {
            let got = find_resource(&list, &Gvk::new("v1", kind));
            assert_eq!(
                got.as_ref().map(|r| (r.plural.as_str(), r.namespaced)),
                want,
                "{name}"
            );
        }
    }

    /// `GET /api` and `GET /apis` with the aggregated media type, as kube-apiserver v1.32 answers
    /// (trimmed), plus a stale aggregated group and entries without a `responseKind`.
    fn aggregated_docs() -> (Value, Value) {
        let api = json!({"kind":"APIGroupDiscoveryList","apiVersion":"apidiscovery.k8s.io/v2","items":[
            {"metadata":{"creationTimestamp":null},"versions":[{"version":"v1","resources":[
                {"resource":"configmaps","responseKind":{"group":"","version":"","kind":"ConfigMap"},
                 "scope":"Namespaced","singularResource":"configmap","verbs":["get","list"]},
                {"resource":"pods","responseKind":{"group":"","version":"","kind":"Pod"},
                 "scope":"Namespaced","singularResource":"pod","verbs":["get"],"subresources":[
                    {"subresource":"eviction","responseKind":{"group":"policy","version":"v1","kind":"Eviction"},"verbs":["create"]},
                    {"subresource":"status","responseKind":{"group":"","version":"","kind":"Pod"},"verbs":["get"]},
                    {"subresource":"nokind","verbs":["get"]}]},
                {"resource":"nokinds","scope":"Cluster","verbs":["get"]}],"freshness":"Current"}]}]});
        let apis = json!({"kind":"APIGroupDiscoveryList","apiVersion":"apidiscovery.k8s.io/v2","items":[
            {"metadata":{"name":"apps"},"versions":[{"version":"v1","resources":[
                {"resource":"deployments","responseKind":{"group":"","version":"","kind":"Deployment"},
                 "scope":"Namespaced","singularResource":"deployment","verbs":["get","patch"],"subresources":[
                    {"subresource":"scale","responseKind":{"group":"autoscaling","version":"v1","kind":"Scale"},"verbs":["get"]}]}],
                "freshness":"Current"}]},
            {"metadata":{"name":"autoscaling"},"versions":[{"version":"v2","resources":[]},{"version":"v1","resources":[]}]},
            {"metadata":{"name":"metrics.k8s.io"},"versions":[{"version":"v1beta1","resources":[],"freshness":"Stale"}]}
        ]});
        (api, apis)
    }

    #[test]
    fn aggregated_discovery_reads_like_client_go() {
        let (api, apis) = aggregated_docs();
        assert!(is_aggregated(&api) && is_aggregated(&apis));
        assert!(!is_aggregated(&json!({"kind":"APIGroupList","groups":[]})));
        let d = from_aggregated(&[&api, &apis]);
        assert_eq!(
            d.group_versions,
            ["v1", "apps/v1", "autoscaling/v2", "autoscaling/v1"]
        );
        assert_eq!(d.failed.keys().collect::<Vec<_>>(), ["metrics.k8s.io/v1beta1"]);
        // The converted lists serve `resolve` as a legacy answer would.
        let cases = [
            ("core namespaced", "v1", "ConfigMap", Some(("configmaps", true))),
            ("grouped", "apps/v1", "Deployment", Some(("deployments", true))),
            ("only a subresource kind", "apps/v1", "Scale", None),
        ];
        for (name, gv, kind, want) in cases {
            let got = find_resource(&d.resources[gv], &Gvk::new(gv, kind));
            assert_eq!(
                got.as_ref().map(|r| (r.plural.as_str(), r.namespaced)),
                want,
                "{name}"
            );
        }
        let names: Vec<&str> = d.resources["v1"]["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            ["configmaps", "pods", "pods/eviction", "pods/status"],
            "entries without a kind are skipped"
        );
    }

    #[test]
    fn version_set_has_group_versions_and_kinds_like_helm() {
        let (api, apis) = aggregated_docs();
        let d = from_aggregated(&[&api, &apis]);
        let version =
            json!({"major":"1","minor":"32+","gitVersion":"v1.32.13-eks-1","platform":"linux/amd64"});
        let caps = ServerCapabilities::new(&version, &d);
        assert_eq!(
            (
                caps.git_version.as_str(),
                caps.major.as_str(),
                caps.minor.as_str()
            ),
            ("v1.32.13-eks-1", "1", "32+")
        );
        // Subresource kinds count under their parent's group-version (`v1/Eviction`, `apps/v1/Scale`),
        // as Helm's `path.Join(GroupVersion, Kind)` makes them; a stale group-version is absent.
        assert_eq!(
            caps.api_versions,
            [
                "apps/v1",
                "apps/v1/Deployment",
                "apps/v1/Scale",
                "autoscaling/v1",
                "autoscaling/v2",
                "v1",
                "v1/ConfigMap",
                "v1/Eviction",
                "v1/Pod",
            ]
        );
    }

    #[test]
    fn legacy_group_lists() {
        // `GET /api` (`APIVersions`) and `GET /apis` (`APIGroupList`) from a server without
        // aggregated discovery.
        let api = json!({"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[]});
        let apis = json!({"kind":"APIGroupList","apiVersion":"v1","groups":[
            {"name":"apps","versions":[{"groupVersion":"apps/v1","version":"v1"}],
             "preferredVersion":{"groupVersion":"apps/v1","version":"v1"}},
            {"name":"batch","versions":[{"groupVersion":"batch/v1","version":"v1"},
                {"groupVersion":"batch/v1beta1","version":"v1beta1"}]}]});
        let cases: [(&str, &Value, &Value, &[&str]); 3] = [
            (
                "both",
                &api,
                &apis,
                &["v1", "apps/v1", "batch/v1", "batch/v1beta1"],
            ),
            ("core only", &api, &Value::Null, &["v1"]),
            (
                "groups only",
                &Value::Null,
                &apis,
                &["apps/v1", "batch/v1", "batch/v1beta1"],
            ),
        ];
        for (name, api, apis, want) in cases {
            assert_eq!(legacy_group_versions(api, apis), want, "{name}");
        }
        let paths = [("v1", "/api/v1"), ("apps/v1", "/apis/apps/v1")];
        for (gv, want) in paths {
            assert_eq!(gv_path(gv), want);
        }
    }

    #[test]
    fn walks_refs_lists_and_recursion() {
        // The layout of `/openapi/v3/apis/apps/v1` (trimmed): allOf-wrapped refs, annotated arrays.
        let doc = json!({"components":{"schemas":{
            "apps.Deployment":{"x-kubernetes-group-version-kind":[{"group":"apps","version":"v1","kind":"Deployment"}],
                "properties":{"spec":{"allOf":[{"$ref":"#/components/schemas/apps.Spec"}]}}},
            "apps.Spec":{"properties":{"template":{"$ref":"#/components/schemas/core.PodSpec"}}},
            "core.PodSpec":{"properties":{"containers":{"type":"array",
                "items":{"allOf":[{"$ref":"#/components/schemas/core.Container"}]},
                "x-kubernetes-list-map-keys":["name"],"x-kubernetes-list-type":"map",
                "x-kubernetes-patch-merge-key":"name","x-kubernetes-patch-strategy":"merge"}}},
            "core.Container":{"properties":{
                "ports":{"type":"array","items":{"$ref":"#/components/schemas/core.Port"},
                    "x-kubernetes-list-map-keys":["containerPort","protocol"],"x-kubernetes-list-type":"map"},
                "args":{"type":"array","items":{"type":"string"},"x-kubernetes-list-type":"atomic"},
                "self":{"$ref":"#/components/schemas/core.Container"}}},
            "core.Port":{"properties":{"containerPort":{"type":"integer"}}}
        }}});
        let got = list_map_keys_from_openapi(&doc, &Gvk::new("apps/v1", "Deployment")).expect("schema found");
        let keys: Vec<&str> = got.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "spec.template.containers",
                "spec.template.containers[].args",
                "spec.template.containers[].ports"
            ]
        );
        let c = &got["spec.template.containers"];
        assert_eq!(c.map_keys, ["name"]);
        assert_eq!(c.patch_merge_key.as_deref(), Some("name"));
        assert_eq!(
            got["spec.template.containers[].ports"].map_keys,
            ["containerPort", "protocol"]
        );
        assert!(list_map_keys_from_openapi(&doc, &Gvk::new("apps/v1", "StatefulSet")).is_none());
    }
}
