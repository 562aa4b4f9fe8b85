//! The three-way patch: what to send so LIVE ends up holding DESIRED, without touching what others
//! wrote and while removing what we stopped declaring.
//!
//! The semantics are those of kubectl's `CreateThreeWayMergePatch` (anchors §3.1), rebuilt for RFC
//! 6902 operations rather than a strategic merge patch:
//! - a field in DESIRED whose LIVE value differs (or is missing) is set; so live drift on fields we
//!   declare is reverted, and reported when ORIGINAL shows we had declared the same field before;
//! - a field in ORIGINAL that DESIRED no longer has is removed from LIVE;
//! - every other LIVE field (status, defaults, other writers) is left alone;
//! - `null` in DESIRED means "remove this field", as in a merge patch;
//! - lists merge by [`MergeKeys`]: atomic lists are replaced whole, sets gain and lose only our
//!   scalars, and keyed lists merge element by element (others' elements keep their places, ours
//!   follow DESIRED's order, like SMP's `$setElementOrder`).
//!
//! The patch starts with a `test` of `metadata.resourceVersion`, so it fails cleanly when someone
//! wrote the object after we read it: list operations address elements by index, which is only
//! safe on the exact version the patch was computed from.

use std::collections::HashSet;

use json_patch::{
    jsonptr::{PointerBuf, Token},
    AddOperation, MoveOperation, Patch, PatchOperation, RemoveOperation, ReplaceOperation, TestOperation,
};
use serde_json::{Map, Value};

use super::{merge_keys::ListType, Gvk, MergeKeys};

/// A computed patch and the drift it reverts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ThreeWay {
    /// The operations; empty when LIVE already matches. When not empty and LIVE has a
    /// `resourceVersion`, the first is a `test` of it.
    pub patch: Patch,
    /// Places where LIVE differs from ORIGINAL on a field both ORIGINAL and DESIRED declare.
    pub drift: Vec<PointerBuf>,
}

/// Computes the patch that takes `live` to `desired`, using `original` (what we applied last,
/// `None` on first contact) to tell our fields from others'. Lists are merged as `keys` declares
/// for the Gvk of `desired`.
pub fn three_way_patch(
    original: Option<&Value>,
    desired: &Value,
    live: &Value,
    keys: &MergeKeys,
) -> ThreeWay {
    let gvk = Gvk::of(desired);
    let mut w = Walk {
        keys,
        gvk: &gvk,
        ops: Vec::new(),
        drift: Vec::new(),
    };
    w.value(
        &PointerBuf::root(),
        &mut Vec::new(),
        original.filter(|o| !o.is_null()),
        desired,
        live,
    );
    let mut ops = w.ops;
    if !ops.is_empty() {
        if let Some(rv) = live.pointer("/metadata/resourceVersion") {
            let path = PointerBuf::from_tokens(["metadata", "resourceVersion"]);
            ops.insert(
                0,
                PatchOperation::Test(TestOperation {
                    path,
                    value: rv.clone(),
                }),
            );
        }
    }
    ThreeWay {
        patch: Patch(ops),
        drift: w.drift,
    }
}

/// Applies `patch` to a copy of `live`: the object the server should hold afterwards.
pub fn predict(live: &Value, patch: &Patch) -> Result<Value, json_patch::PatchError> {
    let mut out = live.clone();
    json_patch::patch(&mut out, patch)?;
    Ok(out)
}

struct Walk<'a> {
    keys: &'a MergeKeys,
    gvk: &'a Gvk,
    ops: Vec<PatchOperation>,
    drift: Vec<PointerBuf>,
}

fn child(ptr: &PointerBuf, token: impl Into<Token<'static>>) -> PointerBuf {
    let mut p = ptr.clone();
    p.push_back(token);
    p
}

impl Walk<'_> {
    fn add(&mut self, path: PointerBuf, value: &Value) {
        self.ops.push(PatchOperation::Add(AddOperation {
            path,
            value: strip_nulls(value),
        }));
    }

    fn remove(&mut self, path: PointerBuf) {
        self.ops.push(PatchOperation::Remove(RemoveOperation { path }));
    }

    /// Merges one value that exists in both DESIRED and LIVE.
    fn value(&mut self, ptr: &PointerBuf, schema: &mut Vec<String>, o: Option<&Value>, d: &Value, l: &Value) {
        match (d, l) {
            (Value::Object(dm), Value::Object(lm)) => {
                self.map(ptr, schema, o.and_then(Value::as_object), dm, lm)
            }
            (Value::Array(da), Value::Array(la)) => {
                let segs: Vec<&str> = schema.iter().map(String::as_str).collect();
                match self.keys.lookup(self.gvk, &segs) {
                    ListType::Atomic => self.leaf(ptr, o, d, l),
                    ListType::Set => self.set(ptr, o.and_then(Value::as_array), da, la),
                    ListType::Map(keys) => {
                        if !self.keyed(ptr, schema, &keys, o.and_then(Value::as_array), da, la) {
                            self.leaf(ptr, o, d, l)
                        }
                    }
                }
            }
            _ => self.leaf(ptr, o, d, l),
        }
    }

    /// A value replaced whole when it differs. "Differs" allows for the server: LIVE may hold
    /// fields DESIRED does not set inside a list replaced whole (`protocol: TCP` defaulted into
    /// a NetworkPolicy's `ingress[].ports[]`), so replacing it again would be a no-op the server
    /// re-defaults on every run; see [`covers`].
    fn leaf(&mut self, ptr: &PointerBuf, o: Option<&Value>, d: &Value, l: &Value) {
        if covers(o, d, l) {
            return;
        }
        if o.is_some_and(|o| !covers(None, o, l)) {
            self.drift.push(ptr.clone());
        }
        if ptr.is_root() {
            // Only reachable when an object is not a map; nothing sensible to patch.
            return;
        }
        self.ops.push(PatchOperation::Replace(ReplaceOperation {
            path: ptr.clone(),
            value: strip_nulls(d),
        }));
    }

    fn map(
        &mut self,
        ptr: &PointerBuf,
        schema: &mut Vec<String>,
        o: Option<&Map<String, Value>>,
        d: &Map<String, Value>,
        l: &Map<String, Value>,
    ) {
        for (k, dv) in d {
            let path = child(ptr, k.clone());
            let ov = o.and_then(|o| o.get(k)).filter(|v| !v.is_null());
            // A null on the live side is as absent as a missing key: the API server returns
            // `rules: null` for a Role created with an empty `rules:`.
            match (dv, l.get(k).filter(|v| !v.is_null())) {
                (Value::Null, Some(_)) => self.remove(path),
                (Value::Null, None) => {}
                (_, None) => {
                    if ov.is_some() {
                        self.drift.push(path.clone());
                    }
                    self.add(path, dv);
                }
                (_, Some(lv)) => {
                    schema.push(k.clone());
                    self.value(&path, schema, ov, dv, lv);
                    schema.pop();
                }
            }
        }
        for (k, ov) in o.into_iter().flatten() {
            if !ov.is_null() && !d.contains_key(k) && l.get(k).is_some_and(|v| !v.is_null()) {
                self.remove(child(ptr, k.clone()));
            }
        }
    }

    /// A list of scalars merged as a set: ours added at the end, dropped ones removed.
    fn set(&mut self, ptr: &PointerBuf, o: Option<&Vec<Value>>, d: &[Value], l: &[Value]) {
        let contains = |list: &[Value], v: &Value| list.iter().any(|x| json_eq(x, v));
        let dropped: Vec<usize> = (0..l.len())
            .filter(|&i| o.is_some_and(|o| contains(o, &l[i])) && !contains(d, &l[i]))
            .collect();
        for &i in dropped.iter().rev() {
            self.remove(child(ptr, i));
        }
        let mut len = l.len() - dropped.len();
        let mut added: Vec<&Value> = Vec::new();
        for v in d {
            if v.is_null() || contains(l, v) || added.iter().any(|a| json_eq(a, v)) {
                continue;
            }
            if o.is_some_and(|o| contains(o, v)) {
                self.drift.push(ptr.clone());
            }
            self.add(child(ptr, len), v);
            added.push(v);
            len += 1;
        }
    }

    /// A list of maps merged on `keys`. Returns false (and emits nothing) when an element lacks
    /// its keys or two share them: such a list cannot be merged and is treated as atomic.
    fn keyed(
        &mut self,
        ptr: &PointerBuf,
        schema: &mut Vec<String>,
        keys: &[String],
        o: Option<&Vec<Value>>,
        d: &[Value],
        l: &[Value],
    ) -> bool {
        let Some(d_ids) = ids(d, keys) else { return false };
        let Some(l_ids) = ids(l, keys) else { return false };
        // A malformed ORIGINAL only loses us the removals and the drift report.
        let o_ids = o.and_then(|o| ids(o, keys)).unwrap_or_default();
        let o_elem = |id: &Vec<Value>| {
            o_ids
                .iter()
                .position(|x| x == id)
                .and_then(|i| o.and_then(|o| o.get(i)))
        };
        let d_pos = |id: &Vec<Value>| d_ids.iter().position(|x| x == id);

        // 1. Remove our dropped elements (highest index first, so lower ones keep their index).
        let dropped: HashSet<usize> = (0..l.len())
            .filter(|&i| o_ids.contains(&l_ids[i]) && d_pos(&l_ids[i]).is_none())
            .collect();
        let mut dropped_sorted: Vec<usize> = dropped.iter().copied().collect();
        dropped_sorted.sort_unstable();
        for &i in dropped_sorted.iter().rev() {
            self.remove(child(ptr, i));
        }
        let current: Vec<usize> = (0..l.len()).filter(|i| !dropped.contains(i)).collect();

        // 2. Our elements take the slots ours hold now, in DESIRED's order; others' stay put.
        let slots: Vec<usize> = (0..current.len())
            .filter(|&p| d_pos(&l_ids[current[p]]).is_some())
            .collect();
        let mut ours: Vec<usize> = slots.iter().map(|&p| current[p]).collect();
        ours.sort_by_key(|&li| d_pos(&l_ids[li]));
        let mut target = current.clone();
        for (&p, &li) in slots.iter().zip(&ours) {
            target[p] = li;
        }
        let mut work = current;
        for i in 0..target.len() {
            if work[i] != target[i] {
                let Some(j) = work.iter().position(|&x| x == target[i]) else {
                    continue;
                };
                self.ops.push(PatchOperation::Move(MoveOperation {
                    from: child(ptr, j),
                    path: child(ptr, i),
                }));
                let v = work.remove(j);
                work.insert(i, v);
            }
        }

        // 3. New elements go after their predecessor in DESIRED, or before the first of ours.
        enum Slot {
            Live(usize),
            New(usize),
        }
        let mut fin: Vec<Slot> = target.into_iter().map(Slot::Live).collect();
        for (di, id) in d_ids.iter().enumerate() {
            if l_ids.contains(id) {
                continue;
            }
            let is_ours = |s: &Slot, k: usize| match s {
                Slot::Live(li) => d_pos(&l_ids[*li]) == Some(k),
                Slot::New(n) => *n == k,
            };
            let at = match (0..di).rev().find_map(|k| fin.iter().position(|s| is_ours(s, k))) {
                Some(p) => p + 1,
                None => fin
                    .iter()
                    .position(|s| matches!(s, Slot::Live(li) if d_pos(&l_ids[*li]).is_some()))
                    .unwrap_or(fin.len()),
            };
            fin.insert(at, Slot::New(di));
        }
        for (idx, slot) in fin.iter().enumerate() {
            if let Slot::New(di) = slot {
                if o_elem(&d_ids[*di]).is_some() {
                    self.drift.push(child(ptr, idx));
                }
                self.add(child(ptr, idx), &d[*di]);
            }
        }

        // 4. Merge each of our surviving elements in place.
        for (idx, slot) in fin.iter().enumerate() {
            if let Slot::Live(li) = slot {
                if let Some(di) = d_pos(&l_ids[*li]) {
                    let oe = o_elem(&l_ids[*li]);
                    self.value(&child(ptr, idx), schema, oe, &d[di], &l[*li]);
                }
            }
        }
        true
    }
}

/// The merge-key tuple of every element, or `None` when one is not a map, has none of the keys,
/// or repeats another's tuple.
pub(super) fn ids(list: &[Value], keys: &[String]) -> Option<Vec<Vec<Value>>> {
    let mut out: Vec<Vec<Value>> = Vec::with_capacity(list.len());
    for e in list {
        let m = e.as_object()?;
        let id: Vec<Value> = keys
            .iter()
            .map(|k| normalize_num(m.get(k).unwrap_or(&Value::Null)))
            .collect();
        if id.iter().all(Value::is_null) || out.contains(&id) {
            return None;
        }
        out.push(id);
    }
    Some(out)
}

/// Whether LIVE already holds DESIRED where DESIRED is replaced whole: maps match when LIVE has
/// every non-null field of DESIRED with a covering value, lacks every field ORIGINAL set there and
/// DESIRED dropped, and otherwise may hold more (what the server defaulted); lists match element by
/// element at equal length; scalars by [`json_eq`]. A null in DESIRED means absent, as does a null
/// in LIVE. So a field the chart sets that was changed or removed by hand still differs, and so
/// does a field we stopped setting; only a field nobody declared is taken as the server's.
pub(crate) fn covers(o: Option<&Value>, d: &Value, l: &Value) -> bool {
    match (d, l) {
        (Value::Object(dm), Value::Object(lm)) => {
            let om = o.and_then(Value::as_object);
            let present = |k: &str| lm.get(k).is_some_and(|v| !v.is_null());
            dm.iter().all(|(k, dv)| match (dv, lm.get(k)) {
                (Value::Null, _) => !present(k),
                (_, Some(lv)) => covers(om.and_then(|om| om.get(k)), dv, lv),
                (_, None) => false,
            }) && om
                .into_iter()
                .flatten()
                .all(|(k, ov)| ov.is_null() || dm.get(k).is_some_and(|dv| !dv.is_null()) || !present(k))
        }
        (Value::Array(da), Value::Array(la)) => {
            let oa = o.and_then(Value::as_array);
            da.len() == la.len()
                && da
                    .iter()
                    .zip(la)
                    .enumerate()
                    .all(|(i, (dv, lv))| covers(oa.and_then(|oa| oa.get(i)), dv, lv))
        }
        _ => json_eq(d, l),
    }
}

/// Integral floats as integers, so `80` and `80.0` name the same port.
fn normalize_num(v: &Value) -> Value {
    match v.as_f64() {
        Some(f) if v.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15 => Value::from(f as i64),
        _ => v.clone(),
    }
}

/// Equality that treats `1` and `1.0` alike (YAML and the API server disagree on which to write).
pub(crate) fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if x.is_f64() || y.is_f64() {
                x.as_f64() == y.as_f64()
            } else {
                x == y
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// A copy without `null` map values: a `null` in a manifest means "absent", which is what the API
/// server stores for it.
pub fn strip_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), strip_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_nulls).collect()),
        _ => v.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Wraps fields into a Deployment-like object so builtin merge keys apply.
    fn obj(spec: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": spec})
    }

    fn with_rv(mut v: Value) -> Value {
        v["metadata"]["resourceVersion"] = json!("42");
        v
    }

    /// A NetworkPolicy whose `spec.ingress` (atomic: no merge key) holds one rule with these ports.
    fn netpol(ports: Value) -> Value {
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "np"},
               "spec": {"ingress": [{"from": [{"namespaceSelector": {}}], "ports": ports}]}})
    }

    fn role(rules: Option<Value>) -> Value {
        let mut r =
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "r"}});
        if let Some(rules) = rules {
            r["rules"] = rules;
        }
        r
    }

    fn pod(containers: Value) -> Value {
        obj(json!({"template": {"spec": {"containers": containers}}}))
    }

    struct Case {
        name: &'static str,
        original: Option<Value>,
        desired: Value,
        live: Value,
        /// LIVE after the patch, `resourceVersion` added by the harness.
        want: Value,
        drift: &'static [&'static str],
    }

    fn cases() -> Vec<Case> {
        vec![
            Case {
                name: "scalar changed",
                original: Some(obj(json!({"replicas": 1}))),
                desired: obj(json!({"replicas": 2})),
                live: obj(json!({"replicas": 1})),
                want: obj(json!({"replicas": 2})),
                drift: &[],
            },
            Case {
                name: "nested map keeps foreign sibling",
                original: Some(obj(json!({"s": {"x": 1, "y": 1}}))),
                desired: obj(json!({"s": {"x": 2, "y": 1}})),
                live: obj(json!({"s": {"x": 1, "y": 1, "z": 9}})),
                want: obj(json!({"s": {"x": 2, "y": 1, "z": 9}})),
                drift: &[],
            },
            Case {
                name: "atomic list replaced whole",
                original: Some(pod(json!([{"name": "a", "args": ["x"]}]))),
                desired: pod(json!([{"name": "a", "args": ["x", "y"]}])),
                live: pod(json!([{"name": "a", "args": ["x"]}])),
                want: pod(json!([{"name": "a", "args": ["x", "y"]}])),
                drift: &[],
            },
            Case {
                name: "keyed list keeps sidecar and server defaults",
                original: Some(pod(json!([{"name": "app", "image": "v1"}]))),
                desired: pod(json!([{"name": "app", "image": "v2"}])),
                live: pod(json!([
                    {"name": "app", "image": "v1", "imagePullPolicy": "IfNotPresent"},
                    {"name": "istio-proxy", "image": "proxy"}
                ])),
                want: pod(json!([
                    {"name": "app", "image": "v2", "imagePullPolicy": "IfNotPresent"},
                    {"name": "istio-proxy", "image": "proxy"}
                ])),
                drift: &[],
            },
            Case {
                name: "keyed list reorder",
                original: Some(pod(json!([{"name": "a"}, {"name": "b"}]))),
                desired: pod(json!([{"name": "b"}, {"name": "a"}])),
                live: pod(json!([{"name": "a", "d": 1}, {"name": "side"}, {"name": "b", "d": 2}])),
                want: pod(json!([{"name": "b", "d": 2}, {"name": "side"}, {"name": "a", "d": 1}])),
                drift: &[],
            },
            Case {
                name: "keyed list insert in the middle and at the front",
                original: Some(pod(json!([{"name": "a"}, {"name": "b"}]))),
                desired: pod(json!([{"name": "f"}, {"name": "a"}, {"name": "x"}, {"name": "b"}])),
                live: pod(json!([{"name": "side"}, {"name": "a"}, {"name": "b"}])),
                want: pod(
                    json!([{"name": "side"}, {"name": "f"}, {"name": "a"}, {"name": "x"}, {"name": "b"}]),
                ),
                drift: &[],
            },
            Case {
                name: "keyed list remove ours only",
                original: Some(pod(json!([{"name": "a"}, {"name": "b"}]))),
                desired: pod(json!([{"name": "a"}])),
                live: pod(json!([{"name": "a"}, {"name": "b"}, {"name": "side"}])),
                want: pod(json!([{"name": "a"}, {"name": "side"}])),
                drift: &[],
            },
            Case {
                name: "env merged inside a container",
                original: Some(pod(
                    json!([{"name": "a", "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "1"}]}]),
                )),
                desired: pod(json!([{"name": "a", "env": [{"name": "X", "value": "2"}]}])),
                live: pod(json!([{"name": "a", "env": [
                    {"name": "X", "value": "1"}, {"name": "Y", "value": "1"}, {"name": "INJECTED", "value": "z"}]}])),
                want: pod(
                    json!([{"name": "a", "env": [{"name": "X", "value": "2"}, {"name": "INJECTED", "value": "z"}]}]),
                ),
                drift: &[],
            },
            Case {
                name: "duplicate merge keys fall back to atomic",
                original: None,
                desired: pod(
                    json!([{"name": "a", "env": [{"name": "X", "value": "1"}, {"name": "X", "value": "2"}]}]),
                ),
                live: pod(json!([{"name": "a", "env": [{"name": "X", "value": "1"}, {"name": "Z"}]}])),
                want: pod(
                    json!([{"name": "a", "env": [{"name": "X", "value": "1"}, {"name": "X", "value": "2"}]}]),
                ),
                drift: &[],
            },
            Case {
                name: "removed owned field, foreign field stays",
                original: Some(obj(json!({"a": 1, "b": 1}))),
                desired: obj(json!({"a": 1})),
                live: obj(json!({"a": 1, "b": 1, "c": 1})),
                want: obj(json!({"a": 1, "c": 1})),
                drift: &[],
            },
            Case {
                name: "first contact removes nothing",
                original: None,
                desired: obj(json!({"a": 1})),
                live: obj(json!({"a": 1, "b": 1})),
                want: obj(json!({"a": 1, "b": 1})),
                drift: &[],
            },
            Case {
                name: "drift on owned scalar is reverted",
                original: Some(obj(json!({"replicas": 3}))),
                desired: obj(json!({"replicas": 3})),
                live: obj(json!({"replicas": 5})),
                want: obj(json!({"replicas": 3})),
                drift: &["/spec/replicas"],
            },
            Case {
                name: "owned field deleted by hand is restored",
                original: Some(obj(json!({"paused": false}))),
                desired: obj(json!({"paused": false})),
                live: obj(json!({})),
                want: obj(json!({"paused": false})),
                drift: &["/spec/paused"],
            },
            Case {
                name: "owned container deleted by hand is restored",
                original: Some(pod(json!([{"name": "a"}, {"name": "b"}]))),
                desired: pod(json!([{"name": "a"}, {"name": "b"}])),
                live: pod(json!([{"name": "a"}])),
                want: pod(json!([{"name": "a"}, {"name": "b"}])),
                drift: &["/spec/template/spec/containers/1"],
            },
            Case {
                name: "null in desired removes",
                original: None,
                desired: obj(json!({"a": null, "b": null, "m": {"x": null, "y": 1}})),
                live: obj(json!({"a": 1})),
                want: obj(json!({"m": {"y": 1}})),
                drift: &[],
            },
            Case {
                name: "integral float equals int",
                original: None,
                desired: obj(json!({"replicas": 2.0})),
                live: obj(json!({"replicas": 2})),
                want: obj(json!({"replicas": 2})),
                drift: &[],
            },
            Case {
                name: "finalizers merge as a set",
                original: Some(
                    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "finalizers": ["ours/x"]}}),
                ),
                desired: json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "finalizers": ["ours/y"]}}),
                live: json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "finalizers": ["ours/x", "theirs"]}}),
                want: json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "finalizers": ["theirs", "ours/y"]}}),
                drift: &[],
            },
            Case {
                name: "service ports keyed by port",
                original: Some(
                    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                    "spec": {"ports": [{"port": 80, "targetPort": 8080}]}}),
                ),
                desired: json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                    "spec": {"ports": [{"port": 80, "targetPort": 9090}]}}),
                live: json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                    "spec": {"ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP", "nodePort": 30080}]}}),
                want: json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                    "spec": {"ports": [{"port": 80, "targetPort": 9090, "protocol": "TCP", "nodePort": 30080}]}}),
                drift: &[],
            },
            // issue 10: argo-cd's NetworkPolicies patched on every upgrade.
            Case {
                name: "server default inside an atomic list is no change",
                original: Some(netpol(json!([{"port": "metrics"}]))),
                desired: netpol(json!([{"port": "metrics"}])),
                live: netpol(json!([{"port": "metrics", "protocol": "TCP"}])),
                want: netpol(json!([{"port": "metrics", "protocol": "TCP"}])),
                drift: &[],
            },
            Case {
                name: "server default inside an atomic list on first contact",
                original: None,
                desired: netpol(json!([{"port": "metrics"}])),
                live: netpol(json!([{"port": "metrics", "protocol": "TCP"}])),
                want: netpol(json!([{"port": "metrics", "protocol": "TCP"}])),
                drift: &[],
            },
            Case {
                name: "field changed by hand inside an atomic list is reverted",
                original: Some(netpol(json!([{"port": "metrics"}]))),
                desired: netpol(json!([{"port": "metrics"}])),
                live: netpol(json!([{"port": "other", "protocol": "TCP"}])),
                want: netpol(json!([{"port": "metrics"}])),
                drift: &["/spec/ingress"],
            },
            Case {
                name: "field removed by hand inside an atomic list is restored",
                original: Some(netpol(json!([{"port": "metrics", "protocol": "UDP"}]))),
                desired: netpol(json!([{"port": "metrics", "protocol": "UDP"}])),
                live: netpol(json!([{"port": "metrics"}])),
                want: netpol(json!([{"port": "metrics", "protocol": "UDP"}])),
                drift: &["/spec/ingress"],
            },
            Case {
                name: "element added by hand to an atomic list is removed",
                original: Some(netpol(json!([{"port": "metrics"}]))),
                desired: netpol(json!([{"port": "metrics"}])),
                live: netpol(json!([{"port": "metrics", "protocol": "TCP"}, {"port": "x"}])),
                want: netpol(json!([{"port": "metrics"}])),
                drift: &["/spec/ingress"],
            },
            Case {
                name: "field we stopped setting inside an atomic list is removed",
                original: Some(netpol(json!([{"port": "metrics", "protocol": "UDP"}]))),
                desired: netpol(json!([{"port": "metrics"}])),
                live: netpol(json!([{"port": "metrics", "protocol": "UDP"}])),
                want: netpol(json!([{"port": "metrics"}])),
                drift: &[],
            },
            Case {
                name: "chart change inside an atomic list is no drift",
                original: Some(netpol(json!([{"port": "metrics"}]))),
                desired: netpol(json!([{"port": "http"}])),
                live: netpol(json!([{"port": "metrics", "protocol": "TCP"}])),
                want: netpol(json!([{"port": "http"}])),
                drift: &[],
            },
            // issue 10: argo-cd's repo-server Role renders `rules:` empty; the server returns null.
            Case {
                name: "null in desired and null on live is no change",
                original: Some(role(Some(Value::Null))),
                desired: role(Some(Value::Null)),
                live: role(Some(Value::Null)),
                want: role(Some(Value::Null)),
                drift: &[],
            },
            Case {
                name: "null in desired and absent on live is no change",
                original: None,
                desired: role(Some(Value::Null)),
                live: role(None),
                want: role(None),
                drift: &[],
            },
            Case {
                name: "field dropped from the chart and null on live is no change",
                original: Some(role(Some(json!([{"verbs": ["get"]}])))),
                desired: role(None),
                live: role(Some(Value::Null)),
                want: role(Some(Value::Null)),
                drift: &[],
            },
            Case {
                name: "null inside an atomic list element means absent",
                original: None,
                desired: netpol(json!([{"port": "metrics", "endPort": null}])),
                live: netpol(json!([{"port": "metrics", "protocol": "TCP"}])),
                want: netpol(json!([{"port": "metrics", "protocol": "TCP"}])),
                drift: &[],
            },
        ]
    }

    #[test]
    fn table() {
        let keys = MergeKeys::builtin();
        for c in cases() {
            let live = with_rv(c.live.clone());
            let tw = three_way_patch(c.original.as_ref(), &c.desired, &live, &keys);
            let got = predict(&live, &tw.patch).unwrap_or_else(|e| panic!("case {}: {e}", c.name));
            assert_eq!(
                got,
                with_rv(c.want.clone()),
                "case {}: patch {}",
                c.name,
                tw.patch
            );
            let drift: Vec<&str> = tw.drift.iter().map(|p| p.as_str()).collect();
            assert_eq!(drift, c.drift, "case {}", c.name);
            if got == live {
                assert!(
                    tw.patch.is_empty(),
                    "case {}: no-op must send nothing, got {}",
                    c.name,
                    tw.patch
                );
            } else {
                assert!(
                    matches!(&tw.patch[0], PatchOperation::Test(t) if t.path.as_str() == "/metadata/resourceVersion"
                        && t.value == json!("42")),
                    "case {}: first op must test the resourceVersion",
                    c.name
                );
            }
        }
    }

    #[test]
    fn pointer_escaping() {
        let meta = |ann: Value| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "annotations": ann}});
        let original = meta(json!({"helm.sh/hook": "pre-install"}));
        let desired = meta(json!({"a~b": "1"}));
        let live = meta(json!({"helm.sh/hook": "pre-install"}));
        let tw = three_way_patch(Some(&original), &desired, &live, &MergeKeys::builtin());
        // RFC 6901 §3: `~` is written `~0` and `/` is written `~1`.
        assert_eq!(
            serde_json::to_value(&tw.patch).unwrap(),
            json!([
                {"op": "add", "path": "/metadata/annotations/a~0b", "value": "1"},
                {"op": "remove", "path": "/metadata/annotations/helm.sh~1hook"},
            ])
        );
        assert_eq!(predict(&live, &tw.patch).unwrap(), desired);
    }

    #[test]
    fn concurrent_change_fails_the_test_op() {
        let live = with_rv(obj(json!({"replicas": 1})));
        let tw = three_way_patch(None, &obj(json!({"replicas": 2})), &live, &MergeKeys::builtin());
        let mut moved_on = live.clone();
        moved_on["metadata"]["resourceVersion"] = json!("43");
        let err = predict(&moved_on, &tw.patch).unwrap_err();
        assert!(
            matches!(err.kind, json_patch::PatchErrorKind::TestFailed),
            "{err}"
        );
    }
}
