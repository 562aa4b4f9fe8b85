//! Go's predefined template functions (`text/template/funcs.go`): `and`, `or`, `not`, `len`,
//! `index`, `slice`, `print*`, the comparisons, the escapers and `call`, with Go's argument-count
//! rules and error texts (`incompatible types for comparison`, `index out of range: 3`...).
//!
//! `and`/`or` short-circuit, so the executor evaluates them itself; everything else is a plain
//! function of evaluated arguments here.

use super::{gofmt, Value};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Builtin {
    And,
    Or,
    Not,
    Len,
    Index,
    Slice,
    Print,
    Printf,
    Println,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Html,
    Js,
    Urlquery,
    Call,
}

impl Builtin {
    pub fn from_name(name: &str) -> Option<Builtin> {
        Some(match name {
            "and" => Builtin::And,
            "or" => Builtin::Or,
            "not" => Builtin::Not,
            "len" => Builtin::Len,
            "index" => Builtin::Index,
            "slice" => Builtin::Slice,
            "print" => Builtin::Print,
            "printf" => Builtin::Printf,
            "println" => Builtin::Println,
            "eq" => Builtin::Eq,
            "ne" => Builtin::Ne,
            "lt" => Builtin::Lt,
            "le" => Builtin::Le,
            "gt" => Builtin::Gt,
            "ge" => Builtin::Ge,
            "html" => Builtin::Html,
            "js" => Builtin::Js,
            "urlquery" => Builtin::Urlquery,
            "call" => Builtin::Call,
            _ => return None,
        })
    }

    /// Go signature shape: (number of fixed parameters, variadic?).
    pub fn arity(self) -> (usize, bool) {
        match self {
            Builtin::And | Builtin::Or | Builtin::Index | Builtin::Slice | Builtin::Printf | Builtin::Eq => {
                (1, true)
            }
            Builtin::Call => (1, true),
            Builtin::Not | Builtin::Len => (1, false),
            Builtin::Ne | Builtin::Lt | Builtin::Le | Builtin::Gt | Builtin::Ge => (2, false),
            Builtin::Print | Builtin::Println | Builtin::Html | Builtin::Js | Builtin::Urlquery => (0, true),
        }
    }

    /// Calls the function on evaluated arguments (arity already checked; `and`/`or` and the
    /// `printf` format type are handled by the executor).
    pub fn call(self, args: &[Value]) -> Result<Value, String> {
        match self {
            Builtin::And => Ok(args
                .iter()
                .find(|a| !a.truthy())
                .or(args.last())
                .cloned()
                .unwrap_or_default()),
            Builtin::Or => Ok(args
                .iter()
                .find(|a| a.truthy())
                .or(args.last())
                .cloned()
                .unwrap_or_default()),
            Builtin::Not => Ok(Value::Bool(!args[0].truthy())),
            Builtin::Len => length(&args[0]),
            Builtin::Index => index(&args[0], &args[1..]),
            Builtin::Slice => slice(&args[0], &args[1..]),
            Builtin::Print
            | Builtin::Printf
            | Builtin::Println
            | Builtin::Html
            | Builtin::Js
            | Builtin::Urlquery
                if args.iter().any(Value::has_cycle) =>
            {
                Err(CYCLE.into())
            }
            Builtin::Print => Ok(gofmt::sprint_value(args, false)),
            Builtin::Printf => Ok(gofmt::sprintf_value(&args[0], &args[1..])),
            Builtin::Println => Ok(gofmt::sprint_value(args, true)),
            Builtin::Eq => eq(&args[0], &args[1..]).map(Value::Bool),
            Builtin::Ne => eq(&args[0], &args[1..2]).map(|b| Value::Bool(!b)),
            Builtin::Lt => lt(&args[0], &args[1]).map(Value::Bool),
            Builtin::Le => le(&args[0], &args[1]).map(Value::Bool),
            Builtin::Gt => le(&args[0], &args[1]).map(|b| Value::Bool(!b)),
            Builtin::Ge => lt(&args[0], &args[1]).map(|b| Value::Bool(!b)),
            // The three escapers keep bytes that are not UTF-8 as Go's do: `html` and `js` copy
            // them (Go sees a printable U+FFFD and writes the byte), `urlquery` escapes each byte.
            Builtin::Html | Builtin::Js if args.iter().any(gofmt::has_bad_bytes) => {
                let text = gofmt::raw_text(eval_go_string(args).go_str_bytes().unwrap_or_default());
                let escaped = match self {
                    Builtin::Html => html_escape(&text),
                    _ => js_escape(&text, true),
                };
                Ok(gofmt::from_raw_text(&escaped))
            }
            Builtin::Html => Ok(Value::from(html_escape(&eval_args(args)))),
            Builtin::Js => Ok(Value::from(js_escape(&eval_args(args), false))),
            Builtin::Urlquery if args.iter().any(gofmt::has_bad_bytes) => Ok(Value::from(
                crate::gostr::query_escape_bytes(eval_go_string(args).go_str_bytes().unwrap_or_default()),
            )),
            Builtin::Urlquery => Ok(Value::from(crate::gostr::query_escape(&eval_args(args)))),
            Builtin::Call => match &args[0] {
                Value::Nil => Err("call of nil".into()),
                v => Err(format!("non-function of type {}", v.type_name())),
            },
        }
    }
}

fn length(v: &Value) -> Result<Value, String> {
    let n = match v {
        Value::Str(s) => s.len(),
        Value::Bytes(b) => b.len(),
        Value::BStr(b) => b.len(),
        Value::List(l) => l.len(),
        Value::Map(m) => m.borrow().len(),
        Value::Nil => return Err("reflect: call of reflect.Value.Type on zero Value".into()),
        // Named map/slice types (`.Files`, `APIVersions`) have the length of what they wrap.
        // A nil one (a struct's unset slice) has length 0, though it marshals as `null`.
        Value::Object(o) if matches!(o.kind_name(), "map" | "slice") => {
            match (o.as_list(), o.as_map(), o.go_len()) {
                (Some(l), _, _) => l.len(),
                (_, Some(m), _) => m.borrow().len(),
                (_, _, Some(n)) => n,
                _ => match o.to_plain() {
                    Some(plain) if !matches!(plain, Value::Nil) => return length(&plain),
                    _ => 0,
                },
            }
        }
        Value::Object(o) => return Err(format!("len of type {}", o.type_name())),
        other => return Err(format!("len of type {}", other.type_name())),
    };
    Ok(Value::Int(n as i64))
}

/// Go's `indexArg`: an integer index within `0..=cap`.
fn index_arg(i: &Value, cap: usize) -> Result<usize, String> {
    let x = match i {
        Value::Int(x) | Value::Int64(x) => *x,
        // Go converts an unsigned index to int64 (a huge one wraps negative, out of range).
        Value::Uint64(x) => *x as i64,
        Value::Nil => return Err("cannot index slice/array with nil".into()),
        other => {
            return Err(format!(
                "cannot index slice/array with type {}",
                other.type_name()
            ))
        }
    };
    if x < 0 || x as u64 > cap as u64 {
        return Err(format!("index out of range: {x}"));
    }
    Ok(x as usize)
}

fn index(item: &Value, indexes: &[Value]) -> Result<Value, String> {
    if matches!(item, Value::Nil) {
        return Err("index of untyped nil".into());
    }
    let mut cur = item.clone();
    for i in indexes {
        // A named map type (`chartutil.Values`) indexes like its map.
        if let Some(m) = map_object(&cur) {
            cur = Value::Map(m);
        }
        // A typed slice (`[]int`) indexes like a list, a slice type holding its elements
        // otherwise (`chartutil.VersionSet`) like the list it marshals as.
        if let Value::Object(o) = &cur {
            if let Some(l) = o.as_list() {
                cur = Value::List(l.clone());
            } else if o.kind_name() == "slice" && o.go_len().is_some() {
                cur = o.to_plain().unwrap_or_default();
            }
        }
        cur = match &cur {
            // A map type holding its entries otherwise (`.Files`): one entry, not a copy of all.
            Value::Object(o) if o.kind_name() == "map" && o.go_len().is_some() => match i {
                Value::Str(k) => o.map_index(k).unwrap_or_default(),
                Value::Nil => return Err("value is nil; should be of type string".into()),
                other => return Err(format!("value has type {}; should be string", other.type_name())),
            },
            Value::List(l) => {
                let x = index_arg(i, l.len())?;
                l.get(x)
                    .cloned()
                    .ok_or_else(|| "reflect: slice index out of range".to_string())?
            }
            Value::Bytes(b) => {
                let x = index_arg(i, b.len())?;
                Value::Int(
                    *b.get(x)
                        .ok_or_else(|| "reflect: slice index out of range".to_string())?
                        as i64,
                )
            }
            Value::Str(_) | Value::BStr(_) => {
                let s = cur.go_str_bytes().unwrap_or_default();
                let x = index_arg(i, s.len())?;
                Value::Int(
                    *s.get(x)
                        .ok_or_else(|| "reflect: string index out of range".to_string())?
                        as i64,
                )
            }
            Value::Map(m) => match i {
                Value::Str(k) => m.borrow().get(&**k).cloned().unwrap_or_default(),
                Value::Nil => return Err("value is nil; should be of type string".into()),
                other => return Err(format!("value has type {}; should be string", other.type_name())),
            },
            Value::Nil => return Err("index of nil pointer".into()),
            other => return Err(format!("can't index item of type {}", other.type_name())),
        };
    }
    Ok(cur)
}

/// The map of a Go named map type, if `v` is one.
fn map_object(v: &Value) -> Option<crate::Map> {
    match v {
        Value::Object(o) => o.as_map().cloned(),
        _ => None,
    }
}

fn slice(item: &Value, indexes: &[Value]) -> Result<Value, String> {
    if matches!(item, Value::Nil) {
        return Err("slice of untyped nil".into());
    }
    if indexes.len() > 3 {
        return Err(format!("too many slice indexes: {}", indexes.len()));
    }
    // A typed slice (`[]int`) slices like a list and keeps its type, as a Go slice expression does.
    if let Value::Object(o) = item {
        if let Some(l) = o.as_list() {
            return match slice(&Value::List(l.clone()), indexes)? {
                Value::List(part) => Ok(Value::typed_list(o.type_name(), part.to_vec())),
                other => Ok(other),
            };
        }
    }
    let len = match item {
        Value::Str(_) | Value::BStr(_) => {
            if indexes.len() == 3 {
                return Err("cannot 3-index slice a string".into());
            }
            item.go_str_bytes().map_or(0, <[u8]>::len)
        }
        Value::List(l) => l.len(),
        Value::Bytes(b) => b.len(),
        other => return Err(format!("can't slice item of type {}", other.type_name())),
    };
    let mut idx = [0, len, len];
    for (k, i) in indexes.iter().enumerate() {
        idx[k] = index_arg(i, len)?;
    }
    if idx[0] > idx[1] {
        return Err(format!("invalid slice index: {} > {}", idx[0], idx[1]));
    }
    if indexes.len() == 3 && idx[1] > idx[2] {
        return Err(format!("invalid slice index: {} > {}", idx[1], idx[2]));
    }
    let (a, b) = (idx[0], idx[1]);
    Ok(match item {
        Value::Str(s) => match s.get(a..b) {
            Some(sub) => Value::str(sub),
            // Cut inside a character: Go keeps the bytes.
            None => Value::from_go_slice(&s.as_bytes()[a..b]),
        },
        Value::BStr(bs) => Value::from_go_slice(&bs[a..b]),
        Value::List(l) => Value::list(l[a..b].to_vec()),
        Value::Bytes(bs) => Value::Bytes(bs[a..b].into()),
        _ => Value::Nil,
    })
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Kind {
    Bool,
    Int,
    Float,
    Complex,
    Str,
    Other,
}

fn basic_kind(v: &Value) -> Kind {
    match v {
        Value::Bool(_) => Kind::Bool,
        // Go's eq and lt compare the int and uint kinds with each other by value.
        Value::Int(_) | Value::Int64(_) | Value::Uint64(_) => Kind::Int,
        Value::Float(_) => Kind::Float,
        Value::Str(_) | Value::BStr(_) => Kind::Str,
        Value::Object(o) if o.as_complex().is_some() => Kind::Complex,
        _ => Kind::Other,
    }
}

/// The error for printing a value that holds itself (`set $d "a" $d`): Go recurses until its
/// stack limit and the process dies.
pub(crate) const CYCLE: &str = "cannot print a value that holds itself (a map set into itself: a cycle)";

/// Go's error for an `eq` operand whose type has no `==` (maps, slices); Go formats the operand
/// with %s, so numbers inside print as %!s(float64=1).
fn non_comparable(b: &Value) -> String {
    format!(
        "non-comparable type {}: {}",
        gofmt::sprintf("%s", std::slice::from_ref(b)),
        b.type_name()
    )
}

/// Go's `eq` on two values that are neither numbers, strings nor bools (nil, maps, slices,
/// structs, pointers), in Go's order: kinds that differ (unless one is nil) are an error, then a
/// nil equals only a nil, then a type without `==` is an error (`.Files`, `.Chart`), then Go's
/// `==` (pointers by identity, structs field by field).
fn eq_other_kinds(a: &Value, b: &Value) -> Result<bool, String> {
    let (ka, kb) = (a.kind_name(), b.kind_name());
    if ka != kb && ka != "invalid" && kb != "invalid" {
        return Err(format!(
            "non-comparable types {}: {}, {}: {}",
            gofmt::sprintf("%s", std::slice::from_ref(a)),
            a.type_name(),
            b.type_name(),
            gofmt::format_v(b)
        ));
    }
    if a.go_is_nil() || b.go_is_nil() {
        return Ok(a.go_is_nil() == b.go_is_nil());
    }
    if !b.go_comparable() {
        if b.has_cycle() {
            return Err(format!("non-comparable type {}, {CYCLE}", b.type_name()));
        }
        return Err(non_comparable(b));
    }
    Ok(a.go_identical(b))
}

/// Go's `eq`: true if `a` equals any of `bs`.
pub(crate) fn eq(a: &Value, bs: &[Value]) -> Result<bool, String> {
    if bs.is_empty() {
        return Err("missing argument for comparison".into());
    }
    let k1 = basic_kind(a);
    for b in bs {
        let k2 = basic_kind(b);
        let truth = if k1 != k2 {
            if !matches!(a, Value::Nil) && !matches!(b, Value::Nil) {
                return Err("incompatible types for comparison".into());
            }
            false
        } else {
            match (a, b) {
                (Value::Bool(x), Value::Bool(y)) => x == y,
                // int and int64 share Go's intKind, so they compare by value.
                (Value::Int(x) | Value::Int64(x), Value::Int(y) | Value::Int64(y)) => x == y,
                (Value::Uint64(_), _) | (_, Value::Uint64(_)) if k1 == Kind::Int => {
                    a.as_wide_int() == b.as_wide_int()
                }
                (Value::Float(x), Value::Float(y)) => x == y,
                (Value::Str(x), Value::Str(y)) => x == y,
                // Go compares strings by their bytes, valid UTF-8 or not.
                (Value::Str(_) | Value::BStr(_), Value::Str(_) | Value::BStr(_)) => {
                    a.go_str_bytes() == b.go_str_bytes()
                }
                (Value::Object(x), Value::Object(y))
                    if x.as_complex().is_some() && y.as_complex().is_some() =>
                {
                    x.as_complex() == y.as_complex()
                }
                _ => eq_other_kinds(a, b)?,
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

fn lt(a: &Value, b: &Value) -> Result<bool, String> {
    let (k1, k2) = (basic_kind(a), basic_kind(b));
    if k1 == Kind::Other || k2 == Kind::Other {
        return Err("invalid type for comparison".into());
    }
    if k1 != k2 {
        return Err("incompatible types for comparison".into());
    }
    // Same kind, but one that has no order.
    if matches!(k1, Kind::Bool | Kind::Complex) {
        return Err("invalid type for comparison".into());
    }
    Ok(match (a, b) {
        (Value::Int(x) | Value::Int64(x), Value::Int(y) | Value::Int64(y)) => x < y,
        (Value::Uint64(_), _) | (_, Value::Uint64(_)) if k1 == Kind::Int => a.as_wide_int() < b.as_wide_int(),
        (Value::Float(x), Value::Float(y)) => x < y,
        (Value::Str(x), Value::Str(y)) => x < y,
        (Value::Str(_) | Value::BStr(_), Value::Str(_) | Value::BStr(_)) => {
            a.go_str_bytes() < b.go_str_bytes()
        }
        _ => return Err("invalid type for comparison".into()),
    })
}

fn le(a: &Value, b: &Value) -> Result<bool, String> {
    if lt(a, b)? {
        return Ok(true);
    }
    eq(a, std::slice::from_ref(b))
}

/// Go's `evalArgs` for the escapers: a lone string as is, otherwise `fmt.Sprint`.
fn eval_args(args: &[Value]) -> String {
    if let [Value::Str(s)] = args {
        return s.to_string();
    }
    gofmt::sprint(&printable(args))
}

/// [`eval_args`] as the Go string it is, bytes that are not UTF-8 and all.
fn eval_go_string(args: &[Value]) -> Value {
    match args {
        [v @ Value::BStr(_)] => v.clone(),
        _ => gofmt::sprint_value(&printable(args), false),
    }
}

/// Go passes each operand through printableValue first, which turns nil into "<no value>".
fn printable(args: &[Value]) -> Vec<Value> {
    args.iter()
        .map(|a| match a {
            Value::Nil => Value::str("<no value>"),
            _ => a.clone(),
        })
        .collect()
}

/// `template.HTMLEscapeString`.
pub(crate) fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\'' => out.push_str("&#39;"),
            '"' => out.push_str("&#34;"),
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// `template.JSEscapeString`; with `raw`, `s` holds the private-use stand-ins of bytes that are
/// not UTF-8 (`gofmt::raw_text`), which are copied: Go reads such a byte as U+FFFD, a printable
/// rune, and writes the byte as it is.
pub(crate) fn js_escape(s: &str, raw: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c if raw && gofmt::is_raw_stand_in(c) => out.push(c),
            c if (c as u32) >= 0x80 && !gofmt::is_print(c) => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}
