//! Sprig's dictionary functions (`dict.go`), including `merge`/`mergeOverwrite` with the exact
//! rules of `dario.cat/mergo` v1.0.1, which Sprig calls.
//!
//! Maps are shared references ([`Value::Map`]), so `set`, `unset` and `merge` change the map every
//! holder sees, as in Go. Go iterates maps in random order; `keys` and `values` return each map's
//! entries in sorted key order, one of the orders Go can produce (charts that care sort anyway).
//!
//! mergo's rules, as they apply to `map[string]interface{}` (for each key of the source):
//! - a nil source value is skipped by `merge` and written by `mergeOverwrite`;
//! - map into map merges recursively, in place, also a `map[string]string` from `split` (into
//!   which reflect refuses to write a `map[string]interface{}`'s element: an error);
//! - otherwise `merge` writes only where the destination is missing or *empty* (so an explicit
//!   `false`, `0` or `""` in the destination is replaced), `mergeOverwrite` always writes — even
//!   an empty source value;
//! - a source list replaces a destination list only under the same rules (lists are not merged).

use super::{at_least, convert, fixed, map_arg, str_arg};
use crate::{FuncMap, FuncResult, Map, Value};
use std::collections::BTreeMap;

pub(crate) fn register(m: &mut FuncMap) {
    m.insert_simple("dict", dict);
    m.insert_simple("get", get);
    m.insert_simple("set", set);
    m.insert_simple("unset", unset);
    m.insert_simple("hasKey", has_key);
    m.insert_simple("pluck", pluck);
    m.insert_simple("keys", keys);
    m.insert_simple("values", values);
    m.insert_simple("pick", |a| pick_omit("pick", a, true));
    m.insert_simple("omit", |a| pick_omit("omit", a, false));
    m.insert_simple("merge", |a| merge("merge", a, false));
    m.insert_simple("mustMerge", |a| merge("mustMerge", a, false));
    m.insert_simple("mergeOverwrite", |a| merge("mergeOverwrite", a, true));
    m.insert_simple("mustMergeOverwrite", |a| merge("mustMergeOverwrite", a, true));
    m.insert_simple("deepCopy", |a| deep_copy("deepCopy", a));
    m.insert_simple("mustDeepCopy", |a| deep_copy("mustDeepCopy", a));
    m.insert_simple("dig", dig);
}

/// `dict K1 V1 K2 V2 ...`: keys are stringified (`strval`); a trailing key gets `""`.
fn dict(a: &[Value]) -> FuncResult {
    let mut m = BTreeMap::new();
    for pair in a.chunks(2) {
        let v = pair.get(1).cloned().unwrap_or_else(|| Value::str(""));
        m.insert(convert::to_string(&pair[0]), v);
    }
    Ok(Value::map_from(m))
}

/// `get MAP KEY`: the value, or `""` when the key is absent.
fn get(a: &[Value]) -> FuncResult {
    let [d, k] = fixed("get", a)?;
    let (d, k) = (map_arg(d)?, str_arg(k)?);
    Ok(d.and_then(|m| m.borrow().get(k).cloned())
        .unwrap_or_else(|| Value::str("")))
}

/// `set MAP KEY VALUE`: stores in place and returns the same map.
fn set(a: &[Value]) -> FuncResult {
    let [d, k, v] = fixed("set", a)?;
    let (m, k) = (map_arg(d)?, str_arg(k)?);
    let m = m.ok_or("assignment to entry in nil map")?;
    m.borrow_mut().insert(k.to_string(), v.clone());
    // Returned as Sprig's `map[string]interface{}` (a `chartutil.Values` argument is converted).
    Ok(Value::Map(m.clone()))
}

fn unset(a: &[Value]) -> FuncResult {
    let [d, k] = fixed("unset", a)?;
    let (m, k) = (map_arg(d)?, str_arg(k)?);
    match m {
        Some(m) => {
            m.borrow_mut().remove(k);
            Ok(Value::Map(m.clone()))
        }
        None => Ok(Value::new_map()),
    }
}

fn has_key(a: &[Value]) -> FuncResult {
    let [d, k] = fixed("hasKey", a)?;
    let (m, k) = (map_arg(d)?, str_arg(k)?);
    Ok(Value::Bool(m.is_some_and(|m| m.borrow().contains_key(k))))
}

/// The maps of a `...map[string]interface{}` parameter (nil maps are skipped: they are empty).
fn maps(a: &[Value]) -> Result<Vec<Map>, String> {
    let mut out = Vec::new();
    for v in a {
        if let Some(m) = map_arg(v)? {
            out.push(m.clone());
        }
    }
    Ok(out)
}

fn pluck(a: &[Value]) -> FuncResult {
    at_least("pluck", a, 1)?;
    let k = str_arg(&a[0])?;
    let found = maps(&a[1..])?
        .iter()
        .filter_map(|m| m.borrow().get(k).cloned())
        .collect();
    Ok(Value::list(found))
}

fn keys(a: &[Value]) -> FuncResult {
    let ks = maps(a)?
        .iter()
        .flat_map(|m| m.borrow().keys().cloned().collect::<Vec<_>>())
        .collect::<Vec<_>>();
    Ok(super::str_list(ks))
}

fn values(a: &[Value]) -> FuncResult {
    let [d] = fixed("values", a)?;
    Ok(Value::list(
        map_arg(d)?
            .map(|m| m.borrow().values().cloned().collect())
            .unwrap_or_default(),
    ))
}

/// `pick MAP KEYS...` keeps the listed keys, `omit MAP KEYS...` drops them; both return a new map.
fn pick_omit(name: &str, a: &[Value], keep: bool) -> FuncResult {
    at_least(name, a, 1)?;
    let m = map_arg(&a[0])?;
    let listed: Vec<&str> = a[1..].iter().map(str_arg).collect::<Result<_, _>>()?;
    let out = m
        .map(|m| {
            m.borrow()
                .iter()
                .filter(|(k, _)| listed.contains(&k.as_str()) == keep)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    Ok(Value::map_from(out))
}

/// mergo's `isEmptyValue` with dereferencing: what `merge` may overwrite.
fn mergo_empty(v: &Value) -> bool {
    super::defaults::empty(v)
}

/// A map as mergo reflects on it: any value of map kind (`split`'s `map[string]string`, a nested
/// `chartutil.Values`), and whether its elements are Go `string`s.
fn mergo_map(v: &Value) -> Option<(&Map, bool)> {
    match v {
        Value::Map(m) => Some((m, false)),
        Value::Object(o) if o.kind_name() == "map" => {
            o.as_map().map(|m| (m, o.type_name() == "map[string]string"))
        }
        _ => None,
    }
}

/// One mergo `deepMerge` of map `src` into map `dst` (see the module doc for the rules).
/// `strings` says which of the two hold Go `string`s (dst, src): reflect refuses to write an
/// `interface{}` element of the source into a `map[string]string`, and the merge fails there.
fn merge_into(dst: &Map, src: &Map, overwrite: bool, strings: (bool, bool)) -> Result<(), String> {
    if std::rc::Rc::ptr_eq(dst, src) {
        return Ok(());
    }
    let write = |k: String, v: Value| {
        if strings.0 && !strings.1 {
            return Err(
                "reflect.Value.SetMapIndex: value of type interface {} is not assignable to type string"
                    .to_string(),
            );
        }
        dst.borrow_mut().insert(k, v);
        Ok(())
    };
    let entries: Vec<(String, Value)> = src.borrow().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    for (k, sv) in entries {
        let dv = dst.borrow().get(&k).cloned();
        let both_maps = match (mergo_map(&sv), dv.as_ref().and_then(mergo_map)) {
            (Some((sm, s_str)), Some((dm, d_str))) => {
                merge_into(dm, sm, overwrite, (d_str, s_str))?;
                true
            }
            _ => false,
        };
        match &sv {
            Value::Nil => {
                if overwrite {
                    write(k, Value::Nil)?;
                }
                continue;
            }
            Value::List(_) | Value::Bytes(_) => {
                // mergo tests emptiness of the *maps* here, not of the elements.
                let replace = overwrite || dst.borrow().is_empty();
                let kept = match &dv {
                    None | Some(Value::Nil) => match &sv {
                        Value::Bytes(_) => Value::Bytes(Vec::new().into()),
                        _ => Value::list(Vec::new()),
                    },
                    Some(d) => d.clone(),
                };
                write(k.clone(), if replace { sv.clone() } else { kept })?;
            }
            _ => {}
        }
        if let Some(d) = &dv {
            if !mergo_empty(d) {
                let src_list = matches!(sv, Value::List(_) | Value::Bytes(_));
                if src_list || both_maps {
                    continue;
                }
            }
        }
        if overwrite || dv.as_ref().is_none_or(mergo_empty) {
            write(k, sv)?;
        }
    }
    Ok(())
}

/// `merge DST SRC...` / `mergeOverwrite DST SRC...`: merges into DST in place and returns it (a
/// new map when DST is nil).
fn merge(name: &str, a: &[Value], overwrite: bool) -> FuncResult {
    at_least(name, a, 1)?;
    let dst = match map_arg(&a[0])? {
        Some(m) => m.clone(),
        None => match Value::new_map() {
            Value::Map(m) => m,
            _ => unreachable!("new_map returns a map"),
        },
    };
    for src in maps(&a[1..])? {
        merge_into(&dst, &src, overwrite, (false, false))?;
    }
    Ok(Value::Map(dst))
}

/// `deepCopy`/`mustDeepCopy` (Helm's engine wraps it for its `chartutil.Values`).
pub fn deep_copy(name: &str, a: &[Value]) -> FuncResult {
    let [v] = fixed(name, a)?;
    if matches!(v, Value::Nil) {
        // copystructure asks reflect for the type of the nil value and panics.
        return Err("reflect: call of reflect.Value.Type on zero Value".to_string());
    }
    // copystructure recurses forever on a cycle and Helm crashes: refuse it instead.
    if v.has_cycle() {
        return Err("cannot copy a value that holds itself (a map set into itself: a cycle)".to_string());
    }
    Ok(v.deep_copy())
}

/// Go's text for a failed type assertion `x.(T)` on an `interface{}`.
fn assert_err(v: &Value, want: &str) -> String {
    let got = match v {
        Value::Nil => "nil",
        other => other.type_name(),
    };
    format!("interface conversion: interface {{}} is {got}, not {want}")
}

/// `dig K1 K2 ... DEFAULT MAP`: walks nested maps; DEFAULT when a key is missing.
fn dig(a: &[Value]) -> FuncResult {
    if a.len() < 3 {
        return Err("dig needs at least three arguments".to_string());
    }
    const MAP_T: &str = "map[string]interface {}";
    let mut cur = match &a[a.len() - 1] {
        Value::Map(m) => m.clone(),
        other => return Err(assert_err(other, MAP_T)),
    };
    let default = &a[a.len() - 2];
    let ks = &a[..a.len() - 2];
    let keys: Vec<&str> = ks
        .iter()
        .map(|k| k.as_str().ok_or_else(|| assert_err(k, "string")))
        .collect::<Result<_, _>>()?;
    for (i, k) in keys.iter().enumerate() {
        let step = cur.borrow().get(*k).cloned();
        let Some(step) = step else {
            return Ok(default.clone());
        };
        if i == keys.len() - 1 {
            return Ok(step);
        }
        cur = match step {
            Value::Map(m) => m,
            other => return Err(assert_err(&other, MAP_T)),
        };
    }
    Ok(default.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sprig::test_support::{call, i, s};

    fn d(pairs: Vec<(&str, Value)>) -> Value {
        Value::map_from(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    #[test]
    fn dict_functions() {
        // Expectations from sprig's dict_test.go.
        let ab = || d(vec![("a", i(1)), ("b", i(2))]);
        let cases: Vec<(&str, &str, Vec<Value>, Value)> = vec![
            (
                "dict",
                "dict",
                vec![s("a"), i(1), i(2), s("b")],
                d(vec![("a", i(1)), ("2", s("b"))]),
            ),
            (
                "dict odd",
                "dict",
                vec![s("a"), i(1), s("b")],
                d(vec![("a", i(1)), ("b", s(""))]),
            ),
            ("get", "get", vec![ab(), s("a")], i(1)),
            ("get missing", "get", vec![ab(), s("z")], s("")),
            ("get nil map", "get", vec![Value::Nil, s("z")], s("")),
            ("hasKey", "hasKey", vec![ab(), s("a")], Value::Bool(true)),
            ("hasKey no", "hasKey", vec![ab(), s("z")], Value::Bool(false)),
            (
                "pluck",
                "pluck",
                vec![s("a"), ab(), d(vec![]), d(vec![("a", i(3))])],
                Value::list(vec![i(1), i(3)]),
            ),
            (
                "keys",
                "keys",
                vec![ab()],
                Value::typed_list("[]string", vec![s("a"), s("b")]),
            ),
            ("values", "values", vec![ab()], Value::list(vec![i(1), i(2)])),
            ("pick", "pick", vec![ab(), s("a"), s("z")], d(vec![("a", i(1))])),
            ("omit", "omit", vec![ab(), s("a")], d(vec![("b", i(2))])),
            ("unset", "unset", vec![ab(), s("a")], d(vec![("b", i(2))])),
            (
                "set",
                "set",
                vec![ab(), s("c"), i(3)],
                d(vec![("a", i(1)), ("b", i(2)), ("c", i(3))]),
            ),
            ("deepCopy", "deepCopy", vec![ab()], ab()),
            (
                "dig",
                "dig",
                vec![s("a"), s("b"), s("dflt"), d(vec![("a", d(vec![("b", i(1))]))])],
                i(1),
            ),
            (
                "dig missing",
                "dig",
                vec![s("a"), s("x"), s("dflt"), d(vec![("a", d(vec![]))])],
                s("dflt"),
            ),
        ];
        for (case, name, args, want) in cases {
            assert_eq!(call(name, args), Ok(want), "case {case}");
        }
    }

    #[test]
    fn set_mutates_in_place() {
        let m = d(vec![]);
        call("set", vec![m.clone(), s("k"), i(1)]).unwrap();
        assert_eq!(m, d(vec![("k", i(1))]));
        assert_eq!(
            call("set", vec![Value::Nil, s("k"), i(1)]),
            Err("assignment to entry in nil map".into())
        );
    }

    #[test]
    fn merge_rules() {
        // mergo v1.0.1 behaviour, as exercised by sprig's TestMerge/TestMergeOverwrite.
        let dst = || {
            d(vec![
                ("a", s("one")),
                ("b", i(2)),
                ("c", d(vec![("x", i(1)), ("empty", s(""))])),
                ("f", Value::Bool(false)),
                ("l", Value::list(vec![i(1)])),
            ])
        };
        let src = || {
            d(vec![
                ("a", s("two")),
                ("b", Value::Nil),
                ("c", d(vec![("x", i(9)), ("y", i(2)), ("empty", s("filled"))])),
                ("f", Value::Bool(true)),
                ("l", Value::list(vec![i(2)])),
                ("n", s("new")),
                ("z", s("")),
            ])
        };
        let merged = d(vec![
            ("a", s("one")),
            ("b", i(2)),
            ("c", d(vec![("x", i(1)), ("y", i(2)), ("empty", s("filled"))])),
            ("f", Value::Bool(true)),
            ("l", Value::list(vec![i(1)])),
            ("n", s("new")),
            ("z", s("")),
        ]);
        let target = dst();
        assert_eq!(
            call("merge", vec![target.clone(), src()]),
            Ok(merged.clone()),
            "merge result"
        );
        assert_eq!(target, merged, "merge mutates dst");
        let overwritten = d(vec![
            ("a", s("two")),
            ("b", Value::Nil),
            ("c", d(vec![("x", i(9)), ("y", i(2)), ("empty", s("filled"))])),
            ("f", Value::Bool(true)),
            ("l", Value::list(vec![i(2)])),
            ("n", s("new")),
            ("z", s("")),
        ]);
        assert_eq!(
            call("mergeOverwrite", vec![dst(), src()]),
            Ok(overwritten),
            "mergeOverwrite"
        );
        let empty_wins = call(
            "mergeOverwrite",
            vec![d(vec![("a", s("x"))]), d(vec![("a", s(""))])],
        );
        assert_eq!(empty_wins, Ok(d(vec![("a", s(""))])), "overwrite with empty");
        assert_eq!(
            call("merge", vec![Value::Nil, d(vec![("a", i(1))])]),
            Ok(d(vec![("a", i(1))])),
            "nil dst"
        );
    }

    #[test]
    fn dict_errors() {
        let cases: Vec<(&str, &str, Vec<Value>, &str)> = vec![
            (
                "dig short",
                "dig",
                vec![s("a"), d(vec![])],
                "dig needs at least three arguments",
            ),
            (
                "dig not map",
                "dig",
                vec![s("a"), s("x"), s("m")],
                "interface conversion: interface {} is string, not map[string]interface {}",
            ),
            (
                "dig through scalar",
                "dig",
                vec![s("a"), s("b"), s("x"), d(vec![("a", i(1))])],
                "interface conversion: interface {} is int, not map[string]interface {}",
            ),
            (
                "get string",
                "get",
                vec![s("x"), s("a")],
                "wrong type for value; expected map[string]interface {}; got string",
            ),
            (
                "deepCopy nil",
                "deepCopy",
                vec![Value::Nil],
                "reflect: call of reflect.Value.Type on zero Value",
            ),
        ];
        for (case, name, args, want) in cases {
            assert_eq!(call(name, args), Err(want.to_string()), "case {case}");
        }
    }
}
