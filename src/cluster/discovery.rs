//! Discovery answers, read without I/O: which REST resource serves a kind (from an `APIResourceList`),
//! and which lists in a kind's schema are sets or maps (from an OpenAPI v3 group-version document).
//!
//! `kube.rs` fetches the documents and caches the results per run; everything here is pure so it can
//! be tested on captured server answers.

use std::collections::{BTreeMap, HashSet};

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

/// The discovery path of a group-version: `/api/v1` for the core group, `/apis/GROUP/VERSION` else.
pub(crate) fn group_version_path(gvk: &Gvk) -> String {
    if gvk.group.is_empty() {
        format!("/api/{}", gvk.version)
    } else {
        format!("/apis/{}/{}", gvk.group, gvk.version)
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
