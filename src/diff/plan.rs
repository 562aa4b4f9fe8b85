//! Pairs the three copies of every object and decides what happens to each: create, patch, delete
//! (prune), keep or nothing.
//!
//! Pruning follows Helm 3 (`helm3:pkg/kube/client.go` `Update`): an object in the last applied
//! revision that the new render no longer has is deleted, unless it carries
//! `helm.sh/resource-policy: keep`. Helm reads that annotation from the object it just fetched from
//! the cluster; we honour it on either the live object or the last applied one, so a keep added by
//! hand and a keep removed from the chart in the same upgrade both keep the object.

use std::{collections::HashMap, fmt};

use base64::Engine as _;
use json_patch::{jsonptr::PointerBuf, Patch};
use serde_json::Value;

use super::{
    strip_server_fields,
    three_way::{predict, strip_nulls, three_way_patch},
    Error, MergeKeys, KEEP_POLICY, RESOURCE_POLICY_ANNOTATION,
};

/// Identity of an object in a cluster: group, kind, namespace (empty when cluster-scoped) and name.
/// Versions are left out on purpose: `apps/v1` and `apps/v1beta2` name the same object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectRef {
    /// API group, empty for the core group.
    pub group: String,
    /// Kind.
    pub kind: String,
    /// Namespace; empty for cluster-scoped objects.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
}

impl ObjectRef {
    /// Builds a ref from parts.
    pub fn new(group: &str, kind: &str, namespace: &str, name: &str) -> ObjectRef {
        ObjectRef {
            group: group.to_string(),
            kind: kind.to_string(),
            namespace: namespace.to_string(),
            name: name.to_string(),
        }
    }

    /// Reads the identity of an object. A missing `metadata.namespace` becomes `default_ns`; pass
    /// `None` for cluster-scoped kinds (only discovery knows which kinds those are).
    pub fn of(obj: &Value, default_ns: Option<&str>) -> Result<ObjectRef, Error> {
        let str_at = |p: &str| obj.pointer(p).and_then(Value::as_str);
        let api_version = str_at("/apiVersion").ok_or(Error::MissingField { field: "apiVersion" })?;
        let kind = str_at("/kind").ok_or(Error::MissingField { field: "kind" })?;
        let name = str_at("/metadata/name").ok_or(Error::MissingField {
            field: "metadata.name",
        })?;
        let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
        let ns = match str_at("/metadata/namespace") {
            Some(ns) if !ns.is_empty() => ns,
            _ => default_ns.unwrap_or(""),
        };
        Ok(ObjectRef::new(group, kind, ns, name))
    }
}

/// helm-diff's object key: `default, web, Deployment (apps)`; the core group shows as `v1`, as
/// helm-diff prints the apiVersion minus its version (`hdiff:manifest/parse.go`).
impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let api = if self.group.is_empty() { "v1" } else { &self.group };
        write!(f, "{}, {}, {} ({})", self.namespace, self.name, self.kind, api)
    }
}

#[derive(Debug, Clone)]
struct Entry {
    id: ObjectRef,
    original: Option<Value>,
    desired: Option<Value>,
    live: Option<Value>,
}

/// The objects to plan over, each with up to three copies. Plan order is the order in which
/// objects were first added, so add DESIRED objects first, in install order.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    entries: Vec<Entry>,
    index: HashMap<ObjectRef, usize>,
}

impl Inputs {
    /// No objects yet.
    pub fn new() -> Inputs {
        Inputs::default()
    }

    fn slot(&mut self, id: ObjectRef) -> &mut Entry {
        let i = match self.index.get(&id) {
            Some(&i) => i,
            None => {
                self.entries.push(Entry {
                    id: id.clone(),
                    original: None,
                    desired: None,
                    live: None,
                });
                self.index.insert(id, self.entries.len() - 1);
                self.entries.len() - 1
            }
        };
        &mut self.entries[i]
    }

    fn put(&mut self, id: ObjectRef, obj: Value, role: &'static str) -> Result<(), Error> {
        let shown = id.to_string();
        let e = self.slot(id);
        let field = match role {
            "original" => &mut e.original,
            "desired" => &mut e.desired,
            _ => &mut e.live,
        };
        if field.is_some() {
            return Err(Error::Duplicate { id: shown, role });
        }
        *field = Some(obj);
        Ok(())
    }

    /// Adds what the last successful revision applied for `id`.
    pub fn original(&mut self, id: ObjectRef, obj: Value) -> Result<(), Error> {
        self.put(id, obj, "original")
    }

    /// Adds the newly rendered object for `id`.
    pub fn desired(&mut self, id: ObjectRef, obj: Value) -> Result<(), Error> {
        self.put(id, obj, "desired")
    }

    /// Adds the object the cluster holds for `id`.
    pub fn live(&mut self, id: ObjectRef, obj: Value) -> Result<(), Error> {
        self.put(id, obj, "live")
    }

    /// Every object named so far, in plan order (what the caller must fetch from the cluster).
    pub fn refs(&self) -> impl Iterator<Item = &ObjectRef> {
        self.entries.iter().map(|e| &e.id)
    }
}

/// What happens to one object.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// It is desired and not in the cluster; [`Change::predicted`] is the object to create.
    Create,
    /// It differs; send this patch (`application/json-patch+json`).
    Patch(Patch),
    /// It left the chart: prune it.
    Delete,
    /// It left the chart but is annotated `helm.sh/resource-policy: keep`.
    Keep,
    /// Nothing to do.
    Noop,
}

impl Action {
    /// The lowercase name used in machine-readable output.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Patch(_) => "patch",
            Action::Delete => "delete",
            Action::Keep => "keep",
            Action::Noop => "noop",
        }
    }
}

/// The decision for one object, with what is needed to show it.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Which object.
    pub id: ObjectRef,
    /// Its `apiVersion` (from DESIRED, else LIVE, else ORIGINAL).
    pub api_version: String,
    /// What to do.
    pub action: Action,
    /// The cluster's copy, as given.
    pub live: Option<Value>,
    /// The object as it should be afterwards: LIVE with the patch applied, or the object to
    /// create; `None` for delete, keep and no-op (nothing changes: it is [`Change::live`], not
    /// copied, since a copy of every unchanged object doubled the memory of a large diff).
    pub predicted: Option<Value>,
    /// Where LIVE drifted from what we applied on fields we still declare (JSON Pointers into
    /// LIVE; the root pointer when the whole object was deleted by hand). The patch reverts these.
    pub drift: Vec<PointerBuf>,
}

/// Counts of each action in a plan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Objects to create.
    pub create: usize,
    /// Objects to patch.
    pub patch: usize,
    /// Objects to delete.
    pub delete: usize,
    /// Objects kept despite leaving the chart.
    pub keep: usize,
    /// Objects already up to date.
    pub noop: usize,
}

/// One [`Change`] per object, in [`Inputs`] order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// The changes.
    pub changes: Vec<Change>,
}

impl Plan {
    /// How many changes of each kind.
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for ch in &self.changes {
            match ch.action {
                Action::Create => c.create += 1,
                Action::Patch(_) => c.patch += 1,
                Action::Delete => c.delete += 1,
                Action::Keep => c.keep += 1,
                Action::Noop => c.noop += 1,
            }
        }
        c
    }

    /// Whether applying the plan would write anything.
    pub fn has_changes(&self) -> bool {
        self.changes
            .iter()
            .any(|c| matches!(c.action, Action::Create | Action::Patch(_) | Action::Delete))
    }
}

/// Decides what happens to every object in `inputs`, merging lists as `keys` declares.
///
/// Fails only when a computed patch does not apply to the live object it came from, which would be
/// a bug here, reported rather than hidden.
///
/// ```
/// use kubectl_chart::diff::{plan, Action, Inputs, MergeKeys, ObjectRef};
/// use serde_json::json;
///
/// let id = ObjectRef::new("", "ConfigMap", "default", "web");
/// let mut inputs = Inputs::new();
/// inputs.desired(id.clone(), json!({"apiVersion": "v1", "kind": "ConfigMap",
///     "metadata": {"name": "web"}, "data": {"a": "2"}})).unwrap();
/// inputs.live(id, json!({"apiVersion": "v1", "kind": "ConfigMap",
///     "metadata": {"name": "web", "resourceVersion": "7"}, "data": {"a": "1"}})).unwrap();
/// let plan = plan(inputs, &MergeKeys::builtin()).unwrap();
/// let Action::Patch(patch) = &plan.changes[0].action else { panic!() };
/// assert_eq!(serde_json::to_value(patch).unwrap(), json!([
///     {"op": "test", "path": "/metadata/resourceVersion", "value": "7"},
///     {"op": "replace", "path": "/data/a", "value": "2"},
/// ]));
/// ```
pub fn plan(inputs: Inputs, keys: &MergeKeys) -> Result<Plan, Error> {
    let mut changes = Vec::with_capacity(inputs.entries.len());
    for e in inputs.entries {
        let api_version = [&e.desired, &e.live, &e.original]
            .into_iter()
            .flatten()
            .find_map(|o| o.get("apiVersion").and_then(Value::as_str))
            .unwrap_or("")
            .to_string();
        let original = e.original.map(normalize);
        let desired = e.desired.map(normalize);
        let (action, predicted, drift) = match (&desired, &e.live) {
            (Some(d), None) => {
                let drift = if original.is_some() {
                    vec![PointerBuf::root()]
                } else {
                    Vec::new()
                };
                (Action::Create, Some(strip_nulls(d)), drift)
            }
            (Some(d), Some(l)) => {
                let tw = three_way_patch(original.as_ref(), d, l, keys);
                if tw.patch.is_empty() {
                    (Action::Noop, None, tw.drift)
                } else {
                    let p = predict(l, &tw.patch).map_err(|err| Error::Predict {
                        id: e.id.to_string(),
                        message: err.to_string(),
                    })?;
                    (Action::Patch(tw.patch), Some(p), tw.drift)
                }
            }
            (None, Some(l)) if original.is_some() => {
                if has_keep(original.as_ref()) || has_keep(Some(l)) {
                    (Action::Keep, None, Vec::new())
                } else {
                    (Action::Delete, None, Vec::new())
                }
            }
            // Gone already, or never ours.
            (None, _) => (Action::Noop, None, Vec::new()),
        };
        changes.push(Change {
            id: e.id,
            api_version,
            action,
            live: e.live,
            predicted,
            drift,
        });
    }
    Ok(Plan { changes })
}

fn has_keep(obj: Option<&Value>) -> bool {
    let Some(obj) = obj else { return false };
    let path = format!(
        "/metadata/annotations/{}",
        RESOURCE_POLICY_ANNOTATION.replace('/', "~1")
    );
    obj.pointer(&path)
        .and_then(Value::as_str)
        .is_some_and(|v| v.trim() == KEEP_POLICY)
}

/// Brings a rendered object into the shape the server stores: no server-owned fields, and for a
/// Secret, `stringData` folded into `data` (the API server does this on write and never returns
/// `stringData`, so leaving it would show a change on every run; helm-diff does the same).
fn normalize(mut obj: Value) -> Value {
    strip_server_fields(&mut obj, false);
    let is_secret = obj.get("kind").and_then(Value::as_str) == Some("Secret")
        && obj.get("apiVersion").and_then(Value::as_str) == Some("v1");
    if let (true, Some(map)) = (is_secret, obj.as_object_mut()) {
        if let Some(Value::Object(sd)) = map.remove("stringData") {
            let data = map
                .entry("data")
                .or_insert_with(|| Value::Object(Default::default()));
            if !data.is_object() {
                *data = Value::Object(Default::default());
            }
            if let Some(data) = data.as_object_mut() {
                for (k, v) in sd {
                    let text = match &v {
                        Value::String(s) => s.clone(),
                        Value::Null => continue,
                        other => other.to_string(),
                    };
                    let b64 = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
                    data.insert(k, Value::String(b64));
                }
            }
        }
    }
    obj
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cm(name: &str, data: Value, ann: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": name, "namespace": "default", "annotations": ann}, "data": data})
    }

    fn live(mut v: Value) -> Value {
        v["metadata"]["resourceVersion"] = json!("5");
        v
    }

    #[test]
    fn object_ref_of() {
        // name, object, default namespace, display or error
        type Case = (
            &'static str,
            Value,
            Option<&'static str>,
            Result<&'static str, &'static str>,
        );
        let cases: &[Case] = &[
            (
                "namespaced default",
                json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}}),
                Some("prod"),
                Ok("prod, web, Deployment (apps)"),
            ),
            (
                "explicit namespace wins",
                json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "a"}}),
                Some("prod"),
                Ok("a, s, Service (v1)"),
            ),
            (
                "cluster scoped",
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "r"}}),
                None,
                Ok(", r, ClusterRole (rbac.authorization.k8s.io)"),
            ),
            (
                "no name",
                json!({"apiVersion": "v1", "kind": "Service", "metadata": {}}),
                None,
                Err("object has no metadata.name"),
            ),
        ];
        for (name, obj, ns, want) in cases {
            let got = ObjectRef::of(obj, *ns)
                .map(|r| r.to_string())
                .map_err(|e| e.to_string());
            assert_eq!(got.as_deref().map_err(String::as_str), *want, "case {name}");
        }
    }

    #[test]
    fn actions() {
        let id = ObjectRef::new("", "ConfigMap", "default", "c");
        let keep = json!({"helm.sh/resource-policy": "keep"});
        let none = json!({});
        let a = cm("c", json!({"k": "a"}), none.clone());
        let b = cm("c", json!({"k": "b"}), none.clone());
        type Triple = (Option<Value>, Option<Value>, Option<Value>);
        let cases: Vec<(&str, Triple, &str, usize)> = vec![
            ("first install", (None, Some(a.clone()), None), "create", 0),
            (
                "recreate deleted by hand",
                (Some(a.clone()), Some(a.clone()), None),
                "create",
                1,
            ),
            (
                "change",
                (Some(a.clone()), Some(b.clone()), Some(live(a.clone()))),
                "patch",
                0,
            ),
            (
                "adopt existing",
                (None, Some(b.clone()), Some(live(a.clone()))),
                "patch",
                0,
            ),
            (
                "unchanged",
                (Some(a.clone()), Some(a.clone()), Some(live(a.clone()))),
                "noop",
                0,
            ),
            (
                "drift reverted",
                (Some(a.clone()), Some(a.clone()), Some(live(b.clone()))),
                "patch",
                1,
            ),
            (
                "prune",
                (Some(a.clone()), None, Some(live(a.clone()))),
                "delete",
                0,
            ),
            ("prune already gone", (Some(a.clone()), None, None), "noop", 0),
            (
                "keep in original",
                (
                    Some(cm("c", json!({}), keep.clone())),
                    None,
                    Some(live(a.clone())),
                ),
                "keep",
                0,
            ),
            (
                "keep on live",
                (
                    Some(a.clone()),
                    None,
                    Some(live(cm("c", json!({}), keep.clone()))),
                ),
                "keep",
                0,
            ),
        ];
        for (name, (o, d, l), want, drift) in cases {
            let mut inputs = Inputs::new();
            if let Some(d) = d {
                inputs.desired(id.clone(), d).unwrap();
            }
            if let Some(o) = o {
                inputs.original(id.clone(), o).unwrap();
            }
            if let Some(l) = l {
                inputs.live(id.clone(), l).unwrap();
            }
            let p = plan(inputs, &MergeKeys::builtin()).unwrap();
            assert_eq!(p.changes.len(), 1, "case {name}");
            assert_eq!(p.changes[0].action.name(), want, "case {name}");
            assert_eq!(
                p.changes[0].drift.len(),
                drift,
                "case {name}: drift {:?}",
                p.changes[0].drift
            );
        }
    }

    #[test]
    fn duplicate_desired_is_an_error() {
        let id = ObjectRef::new("", "ConfigMap", "default", "c");
        let mut inputs = Inputs::new();
        inputs.desired(id.clone(), json!({})).unwrap();
        let err = inputs.desired(id, json!({})).unwrap_err().to_string();
        assert_eq!(
            err,
            "default, c, ConfigMap (v1) appears twice in the desired objects"
        );
    }

    #[test]
    fn order_follows_first_sighting() {
        let mut inputs = Inputs::new();
        for n in ["b", "a"] {
            inputs
                .desired(
                    ObjectRef::new("", "ConfigMap", "default", n),
                    cm(n, json!({}), json!({})),
                )
                .unwrap();
        }
        inputs
            .original(
                ObjectRef::new("", "ConfigMap", "default", "z"),
                cm("z", json!({}), json!({})),
            )
            .unwrap();
        inputs
            .original(
                ObjectRef::new("", "ConfigMap", "default", "a"),
                cm("a", json!({}), json!({})),
            )
            .unwrap();
        let names: Vec<&str> = inputs.refs().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["b", "a", "z"]);
    }

    #[test]
    fn secret_string_data_folds_into_data() {
        let id = ObjectRef::new("", "Secret", "default", "s");
        let mut inputs = Inputs::new();
        // "aGk=" is base64 of "hi"; the server returns only data.
        let d = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"p": "hi"}});
        let l = json!({"apiVersion": "v1", "kind": "Secret",
                       "metadata": {"name": "s", "resourceVersion": "1"}, "data": {"p": "aGk="}, "type": "Opaque"});
        inputs.desired(id.clone(), d).unwrap();
        inputs.live(id, l).unwrap();
        let p = plan(inputs, &MergeKeys::builtin()).unwrap();
        assert_eq!(p.changes[0].action, Action::Noop);
    }

    #[test]
    fn creation_timestamp_null_is_not_a_change() {
        let id = ObjectRef::new("", "ConfigMap", "default", "c");
        let mut d = cm("c", json!({"k": "a"}), json!({}));
        d["metadata"]["creationTimestamp"] = Value::Null;
        let mut l = live(cm("c", json!({"k": "a"}), json!({})));
        l["metadata"]["creationTimestamp"] = json!("2024-01-01T00:00:00Z");
        let mut inputs = Inputs::new();
        inputs.desired(id.clone(), d).unwrap();
        inputs.live(id, l).unwrap();
        let p = plan(inputs, &MergeKeys::builtin()).unwrap();
        assert_eq!(p.changes[0].action, Action::Noop);
    }
}
