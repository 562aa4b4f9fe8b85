//! Sprig's default-value functions (`defaults.go`): `default`, `empty`, `coalesce`, `all`, `any`,
//! `ternary`.
//!
//! All of them rest on Sprig's `empty`: zero numbers, `false`, empty strings, slices and maps, and
//! nil are empty; structs (our objects) never are. Note that `default` therefore replaces an
//! explicit `false` or `0` from values — charts depend on that.

use super::{at_least, bool_arg, fixed};
use crate::{FuncMap, FuncResult, Value};

pub(crate) fn register(m: &mut FuncMap) {
    m.insert_simple("default", dfault);
    m.insert_simple("empty", |a| {
        let [v] = fixed("empty", a)?;
        Ok(Value::Bool(empty(v)))
    });
    m.insert_simple("coalesce", |a| {
        Ok(a.iter().find(|v| !empty(v)).cloned().unwrap_or_default())
    });
    m.insert_simple("all", |a| Ok(Value::Bool(a.iter().all(|v| !empty(v)))));
    m.insert_simple("any", |a| Ok(Value::Bool(a.iter().any(|v| !empty(v)))));
    m.insert_simple("ternary", |a| {
        let [t, f, cond] = fixed("ternary", a)?;
        Ok(if bool_arg(cond)? { t.clone() } else { f.clone() })
    });
}

/// Sprig's `empty`: the zero value of its type (objects are structs or pointers to them: never).
pub(crate) fn empty(v: &Value) -> bool {
    match v {
        Value::Nil => true,
        Value::Bool(b) => !b,
        Value::Int(i) | Value::Int64(i) => *i == 0,
        Value::Uint64(u) => *u == 0,
        Value::Float(f) => *f == 0.0,
        Value::Str(s) => s.is_empty(),
        Value::Bytes(b) => b.is_empty(),
        Value::BStr(b) => b.is_empty(),
        Value::List(l) => l.is_empty(),
        Value::Map(m) => m.borrow().is_empty(),
        Value::Object(o) => {
            o.as_map().is_some_and(|m| m.borrow().is_empty())
                || o.as_list().is_some_and(|l| l.is_empty())
                || o.go_len() == Some(0)
        }
    }
}

/// `default DEFAULT [GIVEN]`: GIVEN unless it is missing or empty.
fn dfault(a: &[Value]) -> FuncResult {
    at_least("default", a, 1)?;
    match a.get(1) {
        Some(given) if !empty(given) => Ok(given.clone()),
        _ => Ok(a[0].clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sprig::test_support::call;

    #[test]
    fn defaults() {
        // Expectations from sprig's defaults_test.go.
        let s = Value::str;
        let cases: Vec<(&str, &str, Vec<Value>, Value)> = vec![
            ("default nil", "default", vec![s("foo"), Value::Nil], s("foo")),
            ("default missing", "default", vec![s("foo")], s("foo")),
            ("default empty string", "default", vec![s("foo"), s("")], s("foo")),
            (
                "default false",
                "default",
                vec![s("foo"), Value::Bool(false)],
                s("foo"),
            ),
            ("default zero", "default", vec![s("foo"), Value::Int(0)], s("foo")),
            (
                "default zero float",
                "default",
                vec![s("foo"), Value::Float(0.0)],
                s("foo"),
            ),
            (
                "default empty list",
                "default",
                vec![s("foo"), Value::list(vec![])],
                s("foo"),
            ),
            (
                "default empty map",
                "default",
                vec![s("foo"), Value::new_map()],
                s("foo"),
            ),
            ("default given", "default", vec![s("foo"), s("bar")], s("bar")),
            (
                "default given 1",
                "default",
                vec![s("foo"), Value::Int(1)],
                Value::Int(1),
            ),
            ("empty nil", "empty", vec![Value::Nil], Value::Bool(true)),
            ("empty string", "empty", vec![s("x")], Value::Bool(false)),
            (
                "coalesce",
                "coalesce",
                vec![Value::Nil, s(""), Value::Int(0), s("x"), s("y")],
                s("x"),
            ),
            ("coalesce none", "coalesce", vec![Value::Nil, s("")], Value::Nil),
            ("all", "all", vec![s("a"), Value::Int(1)], Value::Bool(true)),
            ("all with empty", "all", vec![s("a"), s("")], Value::Bool(false)),
            ("all none", "all", vec![], Value::Bool(true)),
            ("any", "any", vec![s(""), Value::Int(1)], Value::Bool(true)),
            ("any none", "any", vec![], Value::Bool(false)),
            (
                "ternary true",
                "ternary",
                vec![s("a"), s("b"), Value::Bool(true)],
                s("a"),
            ),
            (
                "ternary false",
                "ternary",
                vec![s("a"), s("b"), Value::Bool(false)],
                s("b"),
            ),
        ];
        for (case, name, args, want) in cases {
            assert_eq!(call(name, args), Ok(want), "case {case}");
        }
        assert_eq!(
            call("ternary", vec![s("a"), s("b"), s("true")]),
            Err("wrong type for value; expected bool; got string".to_string())
        );
    }
}
