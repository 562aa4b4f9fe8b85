//! Sprig's reflection functions (`reflect.go`): Go type and kind names of values.
//!
//! Names come from [`Value::type_name`] and [`Value::kind_name`]; since [`Value::Int`] stands for
//! both Go `int` and `int64`, `typeOf (add 1 2)` says `int` where Go says `int64`.

use super::{fixed, str_arg};
use crate::{FuncMap, FuncResult, Value};

pub(crate) fn register(m: &mut FuncMap) {
    m.insert_simple("typeOf", |a| {
        let [v] = fixed("typeOf", a)?;
        Ok(Value::str(v.type_name()))
    });
    m.insert_simple("typeIs", |a| {
        let [t, v] = fixed("typeIs", a)?;
        Ok(Value::Bool(str_arg(t)? == v.type_name()))
    });
    m.insert_simple("typeIsLike", |a| {
        let [t, v] = fixed("typeIsLike", a)?;
        let (t, name) = (str_arg(t)?, v.type_name());
        Ok(Value::Bool(t == name || name.strip_prefix('*') == Some(t)))
    });
    m.insert_simple("kindOf", |a| {
        let [v] = fixed("kindOf", a)?;
        Ok(Value::str(v.kind_name()))
    });
    m.insert_simple("kindIs", |a| {
        let [k, v] = fixed("kindIs", a)?;
        Ok(Value::Bool(str_arg(k)? == v.kind_name()))
    });
    m.insert_simple("deepEqual", deep_equal);
}

/// `reflect.DeepEqual`: same types and equal contents (int 1 and float64 1 differ).
fn deep_equal(a: &[Value]) -> FuncResult {
    let [x, y] = fixed("deepEqual", a)?;
    Ok(Value::Bool(x == y))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sprig::test_support::call;

    #[test]
    fn reflection() {
        // Expectations from sprig's reflect_test.go and Go's %T / reflect.Kind names.
        let s = Value::str;
        let t = Value::Bool(true);
        let f = Value::Bool(false);
        let cases: Vec<(&str, &str, Vec<Value>, Value)> = vec![
            ("typeOf string", "typeOf", vec![s("x")], s("string")),
            ("typeOf int", "typeOf", vec![Value::Int(1)], s("int")),
            ("typeOf int64", "typeOf", vec![Value::Int64(1)], s("int64")),
            ("kindOf int64", "kindOf", vec![Value::Int64(1)], s("int64")),
            ("typeOf float", "typeOf", vec![Value::Float(1.5)], s("float64")),
            (
                "typeOf list",
                "typeOf",
                vec![Value::list(vec![])],
                s("[]interface {}"),
            ),
            (
                "typeOf map",
                "typeOf",
                vec![Value::new_map()],
                s("map[string]interface {}"),
            ),
            ("typeOf nil", "typeOf", vec![Value::Nil], s("<nil>")),
            ("typeIs", "typeIs", vec![s("string"), s("x")], t.clone()),
            ("typeIs no", "typeIs", vec![s("int"), s("x")], f.clone()),
            ("typeIsLike", "typeIsLike", vec![s("string"), s("x")], t.clone()),
            ("kindOf list", "kindOf", vec![Value::list(vec![])], s("slice")),
            ("kindOf map", "kindOf", vec![Value::new_map()], s("map")),
            ("kindOf nil", "kindOf", vec![Value::Nil], s("invalid")),
            ("kindIs", "kindIs", vec![s("int"), Value::Int(1)], t.clone()),
            (
                "kindIs float",
                "kindIs",
                vec![s("int"), Value::Float(1.0)],
                f.clone(),
            ),
            (
                "deepEqual lists",
                "deepEqual",
                vec![Value::list(vec![Value::Int(1)]), Value::list(vec![Value::Int(1)])],
                t.clone(),
            ),
            (
                "deepEqual int float",
                "deepEqual",
                vec![Value::Int(1), Value::Float(1.0)],
                f.clone(),
            ),
        ];
        for (case, name, args, want) in cases {
            assert_eq!(call(name, args), Ok(want), "case {case}");
        }
    }
}
