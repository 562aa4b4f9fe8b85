//! What the sprig test modules share: calling a function by name as templates would find it, and
//! short builders for arguments.

use crate::{Func, FuncResult, Value};

/// Calls Sprig function `name` from the full map [`super::funcs`] gives templates.
pub(crate) fn call(name: &str, args: Vec<Value>) -> FuncResult {
    match super::funcs().get(name) {
        Some(Func::Simple(f)) => f(&args),
        _ => panic!("no plain function {name}"),
    }
}

/// A Go `string`.
pub(crate) fn s(x: &str) -> Value {
    Value::str(x)
}

/// A Go `int`.
pub(crate) fn i(x: i64) -> Value {
    Value::Int(x)
}

/// A Go `int64`: what most of Sprig's integer functions return.
pub(crate) fn i64(x: i64) -> Value {
    Value::Int64(x)
}

/// A Go `float64`.
pub(crate) fn f(x: f64) -> Value {
    Value::Float(x)
}

/// The string a call returned; panics on anything else.
pub(crate) fn text(v: FuncResult) -> String {
    match v {
        Ok(Value::Str(s)) => s.to_string(),
        other => panic!("not a string: {other:?}"),
    }
}
