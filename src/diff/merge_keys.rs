//! How each list in a Kubernetes object merges: replaced whole (atomic), merged as a set of
//! scalars, or merged element by element on merge keys.
//!
//! Kubernetes declares this per field: `patchStrategy`/`patchMergeKey` struct tags for strategic
//! merge patch, and `+listType`/`+listMapKey` markers for server-side apply, both published in the
//! OpenAPI documents as `x-kubernetes-patch-strategy`, `x-kubernetes-patch-merge-key`,
//! `x-kubernetes-list-type` and `x-kubernetes-list-map-keys`. [`MergeKeys::builtin`] carries the
//! table for the core workload kinds so a diff works with no cluster; [`MergeKeys::add_openapi`]
//! reads the real declarations (including those of CRDs) from an OpenAPI v2 or v3 document the
//! caller fetched. Anything not declared is atomic, as in both patch formats.
//!
//! A list is named by its field path from the object root with list indices left out:
//! `spec.template.spec.containers.env` is every container's `env`.

use std::collections::HashMap;

use serde_json::Value;

use super::Error;

/// Group, version and kind of an object; `version` may be empty in a lookup table to mean "any".
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Gvk {
    /// API group, empty for the core group.
    pub group: String,
    /// API version (`v1`).
    pub version: String,
    /// Kind (`Deployment`).
    pub kind: String,
}

impl Gvk {
    /// Builds a Gvk from parts.
    pub fn new(group: &str, version: &str, kind: &str) -> Gvk {
        Gvk {
            group: group.to_string(),
            version: version.to_string(),
            kind: kind.to_string(),
        }
    }

    /// Splits an `apiVersion` (`apps/v1`, `v1`) and pairs it with `kind`.
    pub fn from_api_version(api_version: &str, kind: &str) -> Gvk {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        Gvk::new(group, version, kind)
    }

    /// The Gvk of a JSON object (`apiVersion` and `kind`; empty strings when absent).
    pub fn of(obj: &Value) -> Gvk {
        let s = |k: &str| obj.get(k).and_then(Value::as_str).unwrap_or("");
        Gvk::from_api_version(s("apiVersion"), s("kind"))
    }

    fn any_version(&self) -> Gvk {
        Gvk {
            group: self.group.clone(),
            version: String::new(),
            kind: self.kind.clone(),
        }
    }
}

/// How one list merges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListType {
    /// Replaced whole when it differs (`+listType=atomic`, or nothing declared).
    Atomic,
    /// A set of scalars: ours are added and removed, others' stay (`+listType=set`).
    Set,
    /// A list of maps merged element by element, elements identified by these fields.
    Map(Vec<String>),
}

/// The merge strategy of every list, looked up by object kind and field path.
#[derive(Debug, Clone, Default)]
pub struct MergeKeys {
    /// Exact and any-version entries: Gvk → dotted path → list type.
    by_gvk: HashMap<Gvk, HashMap<String, ListType>>,
    /// Entries for every kind (ObjectMeta lists), by dotted path.
    all_kinds: HashMap<String, ListType>,
}

/// Where each built-in kind keeps its `PodSpec` (`k8s:api/*/types.go`, the `Template` fields).
const POD_SPEC_AT: &[(&str, &str, &str)] = &[
    ("", "Pod", "spec"),
    ("", "PodTemplate", "template.spec"),
    ("", "ReplicationController", "spec.template.spec"),
    ("apps", "Deployment", "spec.template.spec"),
    ("apps", "ReplicaSet", "spec.template.spec"),
    ("apps", "StatefulSet", "spec.template.spec"),
    ("apps", "DaemonSet", "spec.template.spec"),
    ("batch", "Job", "spec.template.spec"),
    ("batch", "CronJob", "spec.jobTemplate.spec.template.spec"),
];

/// Lists in `core/v1 PodSpec` and their markers (`k8s:api/core/v1/types.go`). The merge key is the
/// `patchMergeKey`, which is what client-side apply uses; where `+listMapKey` names more fields
/// (ports: `containerPort` + `protocol`) the extra ones are server defaults that a rendered
/// manifest usually omits, so matching on them would split one port into two.
const POD_SPEC_LISTS: &[(&str, &[&str])] = &[
    // +patchMergeKey=name +patchStrategy=merge +listType=map +listMapKey=name
    ("containers", &["name"]),
    ("initContainers", &["name"]),
    ("ephemeralContainers", &["name"]),
    // +patchMergeKey=name +patchStrategy=merge,retainKeys +listType=map +listMapKey=name
    ("volumes", &["name"]),
    ("resourceClaims", &["name"]),
    // +patchMergeKey=name +patchStrategy=merge +listType=map +listMapKey=name
    ("imagePullSecrets", &["name"]),
    ("schedulingGates", &["name"]),
    // +patchMergeKey=ip +patchStrategy=merge +listType=map +listMapKey=ip
    ("hostAliases", &["ip"]),
    // +patchMergeKey=topologyKey +patchStrategy=merge +listType=map
    // +listMapKey=topologyKey +listMapKey=whenUnsatisfiable
    ("topologySpreadConstraints", &["topologyKey"]),
    // tolerations and readinessGates are +listType=atomic: left to the default.
];

/// Lists in `core/v1 Container` (and `EphemeralContainer`, which shares the fields).
const CONTAINER_LISTS: &[(&str, &[&str])] = &[
    // +patchMergeKey=name +patchStrategy=merge +listType=map +listMapKey=name
    ("env", &["name"]),
    // +patchMergeKey=containerPort +patchStrategy=merge +listType=map
    // +listMapKey=containerPort +listMapKey=protocol
    ("ports", &["containerPort"]),
    // +patchMergeKey=mountPath +patchStrategy=merge +listType=map +listMapKey=mountPath
    ("volumeMounts", &["mountPath"]),
    // +patchMergeKey=devicePath +patchStrategy=merge +listType=map +listMapKey=devicePath
    ("volumeDevices", &["devicePath"]),
    // command, args, envFrom and resizePolicy are +listType=atomic.
];

/// Lists elsewhere in built-in kinds: (group, kind, path, keys).
const OTHER_LISTS: &[(&str, &str, &str, &[&str])] = &[
    // core/v1 ServiceSpec.Ports: +patchMergeKey=port +patchStrategy=merge +listType=map
    // +listMapKey=port +listMapKey=protocol
    ("", "Service", "spec.ports", &["port"]),
];

/// `metadata` lists every kind has (`meta/v1 ObjectMeta`).
const META_LISTS: &[(&str, Option<&str>)] = &[
    // Finalizers: +patchStrategy=merge +listType=set
    ("metadata.finalizers", None),
    // OwnerReferences: +patchMergeKey=uid +patchStrategy=merge +listType=map +listMapKey=uid
    ("metadata.ownerReferences", Some("uid")),
];

const CONTAINER_FIELDS: &[&str] = &["containers", "initContainers", "ephemeralContainers"];

fn keys(names: &[&str]) -> ListType {
    ListType::Map(names.iter().map(|s| s.to_string()).collect())
}

impl MergeKeys {
    /// No declarations at all: every list is atomic. Mostly for tests.
    pub fn empty() -> MergeKeys {
        MergeKeys::default()
    }

    /// The built-in table for core kinds (see the consts in this file for their sources).
    pub fn builtin() -> MergeKeys {
        let mut mk = MergeKeys::default();
        for (path, key) in META_LISTS {
            let lt = match key {
                Some(k) => keys(&[k]),
                None => ListType::Set,
            };
            mk.all_kinds.insert(path.to_string(), lt);
        }
        for (group, kind, at) in POD_SPEC_AT {
            let gvk = Gvk::new(group, "", kind);
            for (field, k) in POD_SPEC_LISTS {
                mk.insert(&gvk, &format!("{at}.{field}"), keys(k));
            }
            for cf in CONTAINER_FIELDS {
                for (field, k) in CONTAINER_LISTS {
                    mk.insert(&gvk, &format!("{at}.{cf}.{field}"), keys(k));
                }
            }
        }
        for (group, kind, path, k) in OTHER_LISTS {
            mk.insert(&Gvk::new(group, "", kind), path, keys(k));
        }
        mk
    }

    /// Declares how the list at `path` (dotted, indices left out, `*` for any map key) of `gvk`
    /// merges; an empty `gvk.version` applies to every version. Later calls win.
    pub fn insert(&mut self, gvk: &Gvk, path: &str, list: ListType) {
        self.by_gvk
            .entry(gvk.clone())
            .or_default()
            .insert(path.to_string(), list);
    }

    /// How the list at `path` (field names from the root, no indices) of `gvk` merges: the exact
    /// version's entry, else the any-version entry, else the all-kinds entry, else atomic.
    pub fn lookup(&self, gvk: &Gvk, path: &[&str]) -> ListType {
        let dotted = path.join(".");
        for g in [gvk.clone(), gvk.any_version()] {
            if let Some(table) = self.by_gvk.get(&g) {
                if let Some(lt) = table.get(&dotted) {
                    return lt.clone();
                }
                // Map keys (labels, data keys) cannot be known in advance: `*` stands for one.
                if let Some(lt) = table
                    .iter()
                    .find(|(p, _)| wildcard_match(p, path))
                    .map(|(_, lt)| lt)
                {
                    return lt.clone();
                }
            }
        }
        self.all_kinds.get(&dotted).cloned().unwrap_or(ListType::Atomic)
    }

    /// Reads list declarations from an OpenAPI document (v3 `components.schemas` or v2
    /// `definitions`): every schema carrying `x-kubernetes-group-version-kind` is walked through
    /// `$ref`s, and each array property with a declaration is recorded for that exact Gvk. A
    /// `patchMergeKey` wins over `list-map-keys` for the reason given on [`POD_SPEC_LISTS`].
    /// Returns how many lists were recorded.
    pub fn add_openapi(&mut self, doc: &Value) -> Result<usize, Error> {
        let schemas = doc
            .pointer("/components/schemas")
            .or_else(|| doc.get("definitions"))
            .and_then(Value::as_object)
            .ok_or_else(|| Error::OpenApi("no components.schemas or definitions".into()))?;
        let mut count = 0;
        for schema in schemas.values() {
            let Some(gvks) = schema
                .get("x-kubernetes-group-version-kind")
                .and_then(Value::as_array)
            else {
                continue;
            };
            let mut found = Vec::new();
            let mut walker = Walker {
                doc,
                stack: Vec::new(),
                found: &mut found,
            };
            walker.walk(schema, &mut Vec::new());
            for g in gvks {
                let s = |k: &str| g.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                let gvk = Gvk {
                    group: s("group"),
                    version: s("version"),
                    kind: s("kind"),
                };
                for (path, lt) in &found {
                    self.insert(&gvk, path, lt.clone());
                    count += 1;
                }
            }
        }
        Ok(count)
    }
}

fn wildcard_match(pattern: &str, path: &[&str]) -> bool {
    if !pattern.contains('*') {
        return false;
    }
    let parts: Vec<&str> = pattern.split('.').collect();
    parts.len() == path.len() && parts.iter().zip(path).all(|(p, s)| *p == "*" || p == s)
}

/// Depth bound for schema walks; real Kubernetes schemas nest far less than this, and recursive
/// ones (JSONSchemaProps) are cut by the `$ref` stack first.
const MAX_SCHEMA_DEPTH: usize = 40;

struct Walker<'a, 'f> {
    doc: &'a Value,
    stack: Vec<&'a str>,
    found: &'f mut Vec<(String, ListType)>,
}

impl<'a> Walker<'a, '_> {
    /// Follows `$ref` (directly or through a one-element `allOf`, as v3 documents wrap them).
    fn deref(&mut self, schema: &'a Value) -> Option<(&'a Value, Option<&'a str>)> {
        let r = schema.get("$ref").and_then(Value::as_str).or_else(|| {
            let all = schema.get("allOf")?.as_array()?;
            all.iter().find_map(|s| s.get("$ref").and_then(Value::as_str))
        });
        match r {
            Some(r) => {
                if self.stack.contains(&r) {
                    return None;
                }
                let target = self.doc.pointer(r.strip_prefix('#')?)?;
                Some((target, Some(r)))
            }
            None => Some((schema, None)),
        }
    }

    fn walk(&mut self, schema: &'a Value, path: &mut Vec<String>) {
        if path.len() > MAX_SCHEMA_DEPTH {
            return;
        }
        let Some((target, r)) = self.deref(schema) else {
            return;
        };
        if let Some(r) = r {
            self.stack.push(r);
        }
        if let Some(lt) = list_type(schema).or_else(|| list_type(target)) {
            self.found.push((path.join("."), lt));
        }
        if let Some(props) = target.get("properties").and_then(Value::as_object) {
            for (name, sub) in props {
                path.push(name.clone());
                self.walk(sub, path);
                path.pop();
            }
        }
        if let Some(items) = target.get("items") {
            self.walk(items, path);
        }
        if let Some(extra) = target.get("additionalProperties").filter(|v| v.is_object()) {
            path.push("*".into());
            self.walk(extra, path);
            path.pop();
        }
        if r.is_some() {
            self.stack.pop();
        }
    }
}

/// The declaration on one array schema, if any.
fn list_type(schema: &Value) -> Option<ListType> {
    if schema.get("type").and_then(Value::as_str) != Some("array") {
        return None;
    }
    let strategy = schema
        .get("x-kubernetes-patch-strategy")
        .and_then(Value::as_str)
        .unwrap_or("");
    let merge = strategy.split(',').any(|s| s == "merge");
    if merge {
        if let Some(k) = schema.get("x-kubernetes-patch-merge-key").and_then(Value::as_str) {
            return Some(ListType::Map(vec![k.to_string()]));
        }
    }
    match schema.get("x-kubernetes-list-type").and_then(Value::as_str) {
        Some("map") => {
            let keys: Vec<String> = schema
                .get("x-kubernetes-list-map-keys")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|k| k.as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            if keys.is_empty() {
                None
            } else {
                Some(ListType::Map(keys))
            }
        }
        Some("set") => Some(ListType::Set),
        Some("atomic") => Some(ListType::Atomic),
        _ if merge => Some(ListType::Set),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builtin_lookups() {
        let mk = MergeKeys::builtin();
        let deploy = Gvk::new("apps", "v1", "Deployment");
        let cron = Gvk::new("batch", "v1", "CronJob");
        let svc = Gvk::new("", "v1", "Service");
        let cm = Gvk::new("", "v1", "ConfigMap");
        let cases: &[(&str, &Gvk, &str, ListType)] = &[
            (
                "containers",
                &deploy,
                "spec.template.spec.containers",
                keys(&["name"]),
            ),
            (
                "env",
                &deploy,
                "spec.template.spec.initContainers.env",
                keys(&["name"]),
            ),
            (
                "mounts",
                &deploy,
                "spec.template.spec.containers.volumeMounts",
                keys(&["mountPath"]),
            ),
            (
                "container ports",
                &deploy,
                "spec.template.spec.containers.ports",
                keys(&["containerPort"]),
            ),
            (
                "tolerations atomic",
                &deploy,
                "spec.template.spec.tolerations",
                ListType::Atomic,
            ),
            (
                "args atomic",
                &deploy,
                "spec.template.spec.containers.args",
                ListType::Atomic,
            ),
            (
                "cronjob",
                &cron,
                "spec.jobTemplate.spec.template.spec.volumes",
                keys(&["name"]),
            ),
            ("service ports", &svc, "spec.ports", keys(&["port"])),
            ("finalizers any kind", &cm, "metadata.finalizers", ListType::Set),
            ("owner refs", &cm, "metadata.ownerReferences", keys(&["uid"])),
            ("unknown", &cm, "data.x", ListType::Atomic),
        ];
        for (name, gvk, path, want) in cases {
            let p: Vec<&str> = path.split('.').collect();
            assert_eq!(&mk.lookup(gvk, &p), want, "case {name}");
        }
    }

    #[test]
    fn openapi_v3_declarations() {
        // Shaped like /openapi/v3/apis/example.com/v1 for a CRD and a built-in.
        let doc = json!({"components": {"schemas": {
            "com.example.v1.Widget": {
                "type": "object",
                "x-kubernetes-group-version-kind": [{"group": "example.com", "version": "v1", "kind": "Widget"}],
                "properties": {
                    "spec": {"allOf": [{"$ref": "#/components/schemas/com.example.v1.WidgetSpec"}]}
                }
            },
            "com.example.v1.WidgetSpec": {
                "type": "object",
                "properties": {
                    "parts": {"type": "array", "items": {"type": "object"},
                              "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["id", "kind"]},
                    "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
                    "steps": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "atomic"},
                    "env": {"type": "array", "x-kubernetes-patch-strategy": "merge",
                            "x-kubernetes-patch-merge-key": "name",
                            "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name", "x"]},
                    "byName": {"type": "object", "additionalProperties": {
                        "type": "object", "properties": {"items": {"type": "array", "x-kubernetes-list-type": "set"}}}},
                    "self": {"$ref": "#/components/schemas/com.example.v1.WidgetSpec"}
                }
            }
        }}});
        let mut mk = MergeKeys::empty();
        assert_eq!(mk.add_openapi(&doc).unwrap(), 5);
        let gvk = Gvk::new("example.com", "v1", "Widget");
        let cases: &[(&str, &str, ListType)] = &[
            ("list-map-keys", "spec.parts", keys(&["id", "kind"])),
            ("set", "spec.tags", ListType::Set),
            ("atomic", "spec.steps", ListType::Atomic),
            ("patch merge key wins", "spec.env", keys(&["name"])),
            (
                "additionalProperties",
                "spec.byName.anything.items",
                ListType::Set,
            ),
            ("recursion cut", "spec.self.parts", ListType::Atomic),
        ];
        for (name, path, want) in cases {
            let p: Vec<&str> = path.split('.').collect();
            assert_eq!(&mk.lookup(&gvk, &p), want, "case {name}");
        }
        let other = Gvk::new("example.com", "v2", "Widget");
        assert_eq!(
            mk.lookup(&other, &["spec", "tags"]),
            ListType::Atomic,
            "other version"
        );
    }

    #[test]
    fn openapi_overrides_builtin() {
        let mut mk = MergeKeys::builtin();
        let gvk = Gvk::new("apps", "v1", "Deployment");
        mk.insert(&gvk, "spec.template.spec.containers", ListType::Atomic);
        let p = ["spec", "template", "spec", "containers"];
        assert_eq!(mk.lookup(&gvk, &p), ListType::Atomic);
        assert_eq!(
            mk.lookup(&Gvk::new("apps", "v2", "Deployment"), &p),
            keys(&["name"])
        );
    }
}
