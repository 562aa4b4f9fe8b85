//! Strategic merge (`k8s.io/apimachinery` `strategicpatch`) over JSON values: maps merge,
//! `null` deletes, lists merge as [`ListMerges`] says; the directives `$patch`, `$retainKeys`,
//! `$deleteFromPrimitiveList/…` and `$setElementOrder/…` (ignored).

use serde_json::{Map, Value};

use super::{ListMerge, ListMerges};

/// Rejects directive values the merge would otherwise misread.
pub(super) fn check_directives(v: &Value) -> Result<(), String> {
    match v {
        Value::Object(m) => {
            if let Some(d) = m.get("$patch") {
                if !matches!(d.as_str(), Some("replace" | "delete" | "merge")) {
                    return Err(format!("$patch must be replace, delete or merge, found {d}"));
                }
            }
            if let Some(r) = m.get("$retainKeys") {
                if !r.as_array().is_some_and(|a| a.iter().all(Value::is_string)) {
                    return Err("$retainKeys must be a list of field names".into());
                }
            }
            m.values().try_for_each(check_directives)
        }
        Value::Array(a) => a.iter().try_for_each(check_directives),
        _ => Ok(()),
    }
}

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const SET_ORDER_PREFIX: &str = "$setElementOrder/";
const DELETE_PRIMITIVE_PREFIX: &str = "$deleteFromPrimitiveList/";

pub(super) struct Smp<'a> {
    pub(super) api_version: &'a str,
    pub(super) kind: &'a str,
    pub(super) merges: &'a dyn ListMerges,
    /// Field names from the root to the value being merged (list indices left out).
    pub(super) path: Vec<String>,
}

impl Smp<'_> {
    /// Merges `patch` into `original`; `None` means the value is deleted.
    pub(super) fn merge_value(
        &mut self,
        original: Option<Value>,
        patch: &Value,
    ) -> Result<Option<Value>, String> {
        match patch {
            Value::Null => Ok(None),
            Value::Object(p) => {
                match p.get(DIRECTIVE).and_then(Value::as_str) {
                    Some("delete") => return Ok(None),
                    Some("replace") => {
                        let mut clean = p.clone();
                        clean.remove(DIRECTIVE);
                        return Ok(Some(Value::Object(strip_directives(clean))));
                    }
                    _ => {}
                }
                let base = match original {
                    Some(Value::Object(o)) => o,
                    // A map over anything else replaces it.
                    _ => Map::new(),
                };
                Ok(Some(Value::Object(self.merge_map(base, p)?)))
            }
            Value::Array(p) => {
                let lt = {
                    let path: Vec<&str> = self.path.iter().map(String::as_str).collect();
                    self.merges.list_merge(self.api_version, self.kind, &path)
                };
                let base = match original {
                    Some(Value::Array(o)) => o,
                    _ => Vec::new(),
                };
                Ok(Some(Value::Array(self.merge_list(base, p, &lt)?)))
            }
            scalar => Ok(Some(scalar.clone())),
        }
    }

    fn merge_map(
        &mut self,
        mut base: Map<String, Value>,
        p: &Map<String, Value>,
    ) -> Result<Map<String, Value>, String> {
        let mut retain: Option<Vec<String>> = None;
        for (k, v) in p {
            if k == DIRECTIVE || k.starts_with(SET_ORDER_PREFIX) {
                continue;
            }
            if k == RETAIN_KEYS {
                retain = v
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_str).map(String::from).collect());
                continue;
            }
            if let Some(field) = k.strip_prefix(DELETE_PRIMITIVE_PREFIX) {
                let drop = v.as_array().cloned().unwrap_or_default();
                if let Some(Value::Array(list)) = base.get_mut(field) {
                    list.retain(|x| !drop.contains(x));
                }
                continue;
            }
            self.path.push(k.clone());
            let merged = self.merge_value(base.remove(k), v);
            self.path.pop();
            if let Some(v) = merged? {
                base.insert(k.clone(), v);
            }
        }
        if let Some(keep) = retain {
            base.retain(|k, _| keep.contains(k));
        }
        Ok(base)
    }

    fn merge_list(
        &mut self,
        mut base: Vec<Value>,
        p: &[Value],
        lt: &ListMerge,
    ) -> Result<Vec<Value>, String> {
        // `$patch: replace` as an element: the rest of the patch list is the new list.
        let replace = p
            .iter()
            .any(|e| e.get(DIRECTIVE).and_then(Value::as_str) == Some("replace"));
        if replace {
            return Ok(p
                .iter()
                .filter(|e| e.get(DIRECTIVE).is_none())
                .map(|e| match e {
                    Value::Object(m) => Value::Object(strip_directives(m.clone())),
                    other => other.clone(),
                })
                .collect());
        }
        match lt {
            ListMerge::Replace => Ok(p
                .iter()
                .map(|e| match e {
                    Value::Object(m) => Value::Object(strip_directives(m.clone())),
                    other => other.clone(),
                })
                .collect()),
            ListMerge::Set => {
                for v in p {
                    if !base.contains(v) {
                        base.push(v.clone());
                    }
                }
                Ok(base)
            }
            ListMerge::Keys(keys) => {
                for elem in p {
                    let Value::Object(pm) = elem else {
                        return Err(format!(
                            "list {} merges on {}: every patch element must be a map",
                            self.path.join("."),
                            keys.join(",")
                        ));
                    };
                    let wanted: Vec<(&String, &Value)> =
                        keys.iter().filter_map(|k| pm.get(k).map(|v| (k, v))).collect();
                    if wanted.is_empty() {
                        return Err(format!(
                            "list {} merges on {}: a patch element lacks the merge key",
                            self.path.join("."),
                            keys.join(",")
                        ));
                    }
                    let at = base
                        .iter()
                        .position(|b| wanted.iter().all(|(k, v)| b.get(*k) == Some(*v)));
                    let delete = pm.get(DIRECTIVE).and_then(Value::as_str) == Some("delete");
                    match (at, delete) {
                        (Some(i), true) => {
                            base.remove(i);
                        }
                        (None, true) => {}
                        (Some(i), false) => {
                            let old = base[i].clone();
                            match self.merge_value(Some(old), elem)? {
                                Some(v) => base[i] = v,
                                None => {
                                    base.remove(i);
                                }
                            }
                        }
                        (None, false) => {
                            if let Some(v) = self.merge_value(None, elem)? {
                                base.push(v);
                            }
                        }
                    }
                }
                Ok(base)
            }
        }
    }
}

/// A map of a patch used as a value (added, or replacing): its directives removed, nested too.
fn strip_directives(m: Map<String, Value>) -> Map<String, Value> {
    m.into_iter()
        .filter(|(k, _)| {
            k != DIRECTIVE
                && k != RETAIN_KEYS
                && !k.starts_with(SET_ORDER_PREFIX)
                && !k.starts_with(DELETE_PRIMITIVE_PREFIX)
        })
        .map(|(k, v)| {
            let v = match v {
                Value::Object(inner) => Value::Object(strip_directives(inner)),
                Value::Array(a) => Value::Array(
                    a.into_iter()
                        .map(|e| match e {
                            Value::Object(inner) => Value::Object(strip_directives(inner)),
                            other => other,
                        })
                        .collect(),
                ),
                other => other,
            };
            (k, v)
        })
        .collect()
}
