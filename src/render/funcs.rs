//! Helm's own template functions, on top of Sprig: `include`, `tpl`, `required`, `fail`, the YAML/JSON/
//! TOML converters and `lookup`.
//!
//! Error texts follow Helm's, because users grep for them: a `required` or `fail` message is wrapped
//! in [`WARN_START`]/[`WARN_END`] so that the render error can show just the message with its position
//! (`execution error at (chart/templates/x.yaml:3:4): message`), as Helm's `cleanupExecError` does.

use std::{cell::RefCell, collections::HashMap, rc::Rc};

use crate::{
    gotemplate::{Call, FuncMap, FuncResult, Value},
    yaml,
};

/// Marks the start of a user-facing message inside a Go error chain.
pub const WARN_START: &str = "HELM_ERR_START";
/// Marks its end.
pub const WARN_END: &str = "HELM_ERR_END";

/// The name of Helm's root template (`template.New("gotpl")`), under which `tpl` parses its text.
pub(crate) const ROOT_TEMPLATE: &str = "gotpl";

/// How many times one name may be on the `include` stack at once (Helm's `recursionMaxNums`).
const MAX_INCLUDE_NESTING: usize = 1000;

/// Answers `lookup` calls; without a cluster every lookup is an empty map, as in `helm template`.
pub trait Lookup {
    /// `lookup apiVersion kind namespace name`: one object, a list (`{"items": [...]}`) when `name`
    /// is empty, or an empty map when nothing is found.
    fn lookup(&self, api_version: &str, kind: &str, namespace: &str, name: &str) -> Result<Value, String>;
}

/// The offline `lookup`: always an empty map.
#[derive(Debug, Default)]
pub struct NoCluster;

impl Lookup for NoCluster {
    fn lookup(&self, _: &str, _: &str, _: &str, _: &str) -> Result<Value, String> {
        Ok(Value::new_map())
    }
}

/// Every function a chart template can call: Sprig plus Helm's.
pub fn helm_funcs(lookup: Rc<dyn Lookup>) -> FuncMap {
    let mut m = crate::sprig::funcs();
    m.remove("env");
    m.remove("expandenv");
    m.insert_simple("toYaml", |a| Ok(Value::str(yaml::to_yaml(arg0(a)))));
    m.insert_simple("toYamlPretty", |a| Ok(Value::str(yaml::to_yaml_pretty(arg0(a)))));
    m.insert_simple("toJson", |a| Ok(Value::str(yaml::to_json(arg0(a)))));
    m.insert_simple("toToml", |a| Ok(Value::str(yaml::to_toml(arg0(a)))));
    m.insert_simple("fromYaml", |a| Ok(from_doc(&string_arg(a, "fromYaml")?, false)));
    m.insert_simple("fromJson", |a| Ok(from_doc(&string_arg(a, "fromJson")?, false)));
    m.insert_simple("fromYamlArray", |a| {
        Ok(from_doc(&string_arg(a, "fromYamlArray")?, true))
    });
    m.insert_simple("fromJsonArray", |a| {
        Ok(from_doc(&string_arg(a, "fromJsonArray")?, true))
    });
    // copystructure keeps a `chartutil.Values` a `chartutil.Values`; Sprig's copy knows only maps.
    m.insert_simple("deepCopy", |a| deep_copy("deepCopy", a));
    m.insert_simple("mustDeepCopy", |a| deep_copy("mustDeepCopy", a));
    m.insert_simple("required", required);
    m.insert_simple("fail", |a| {
        Err(format!("{WARN_START}{}{WARN_END}", string_arg(a, "fail")?))
    });
    // DNS lookups are off in Helm unless --enable-dns; we never resolve names while rendering.
    m.insert_simple("getHostByName", |_| Ok(Value::str("")));
    m.insert_ctx("lookup", move |_, a| {
        let s = |i: usize| a.get(i).and_then(Value::as_str).unwrap_or("").to_string();
        if a.len() != 4 {
            return Err(format!("wrong number of args for lookup: want 4 got {}", a.len()));
        }
        lookup.lookup(&s(0), &s(1), &s(2), &s(3))
    });
    let nesting: Rc<RefCell<HashMap<String, usize>>> = Rc::default();
    m.insert_ctx("include", move |call, a| include(call, a, &nesting));
    m.insert_ctx("tpl", tpl);
    m
}

fn arg0(a: &[Value]) -> &Value {
    a.first().unwrap_or(&Value::Nil)
}

fn string_arg(a: &[Value], func: &str) -> Result<String, String> {
    match a {
        [Value::Str(s)] => Ok(s.to_string()),
        [other] => Err(format!(
            "wrong type for value; expected string; got {}",
            other.type_name()
        )),
        _ => Err(format!("wrong number of args for {func}: want 1 got {}", a.len())),
    }
}

/// `fromYaml` and friends never fail the render: a parse error goes into the result, as Helm does
/// (`{"Error": msg}` for maps, `[msg]` for arrays).
fn from_doc(text: &str, array: bool) -> Value {
    match yaml::parse_any(text, "") {
        Ok(v @ Value::List(_)) if array => v,
        Ok(v @ Value::Map(_)) if !array => v,
        Ok(Value::Nil) if array => Value::list(vec![]),
        Ok(Value::Nil) => Value::new_map(),
        Ok(other) => {
            let want = if array {
                "[]interface {}"
            } else {
                "map[string]interface {}"
            };
            let msg = format!(
                "error unmarshaling JSON: json: cannot unmarshal {} into Go value of type {want}",
                json_kind(&other)
            );
            if array {
                Value::list(vec![Value::str(msg)])
            } else {
                Value::map_from([("Error".to_string(), Value::str(msg))].into())
            }
        }
        Err(e) => {
            let msg = e.message.clone();
            if array {
                Value::list(vec![Value::str(msg)])
            } else {
                Value::map_from([("Error".to_string(), Value::str(msg))].into())
            }
        }
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "bool",
        Value::Int(_) | Value::Float(_) => "number",
        Value::Str(_) => "string",
        Value::List(_) => "array",
        _ => "object",
    }
}

fn deep_copy(name: &str, a: &[Value]) -> FuncResult {
    match a {
        [Value::Object(o)] if o.type_name() == "chartutil.Values" => {
            let plain = o.to_plain().unwrap_or_default();
            Ok(super::Values::value(&plain.deep_copy()))
        }
        _ => crate::sprig::deep_copy(name, a),
    }
}

fn required(a: &[Value]) -> FuncResult {
    let [warn, val] = a else {
        return Err(format!(
            "wrong number of args for required: want 2 got {}",
            a.len()
        ));
    };
    let msg = crate::sprig::convert::to_string(warn);
    match val {
        Value::Nil => Err(format!("{WARN_START}{msg}{WARN_END}")),
        Value::Str(s) if s.is_empty() => Err(format!("{WARN_START}{msg}{WARN_END}")),
        v => Ok(v.clone()),
    }
}

fn include(call: &mut Call<'_>, a: &[Value], nesting: &RefCell<HashMap<String, usize>>) -> FuncResult {
    let (name, data) = match a {
        [Value::Str(n), d] => (n.to_string(), d),
        [other, _] => {
            return Err(format!(
                "wrong type for value; expected string; got {}",
                other.type_name()
            ))
        }
        _ => {
            return Err(format!(
                "wrong number of args for include: want 2 got {}",
                a.len()
            ))
        }
    };
    {
        let mut n = nesting.borrow_mut();
        let count = n.entry(name.clone()).or_insert(0);
        if *count > MAX_INCLUDE_NESTING {
            return Err(format!(
                "rendering template has a nested reference name: {name}: unable to execute template"
            ));
        }
        *count += 1;
    }
    let out = call.execute_template(&name, data);
    if let Some(c) = nesting.borrow_mut().get_mut(&name) {
        *c -= 1;
    }
    out.map(Value::str)
}

fn tpl(call: &mut Call<'_>, a: &[Value]) -> FuncResult {
    let (text, data) = match a {
        [Value::Str(t), d] => (t.to_string(), d),
        [other, _] => {
            return Err(format!(
                "wrong type for value; expected string; got {}",
                other.type_name()
            ))
        }
        _ => return Err(format!("wrong number of args for tpl: want 2 got {}", a.len())),
    };
    // Helm parses the text as a new template named like the set's root (`gotpl`), never like the
    // caller: naming it after the caller would replace the caller's own `define` while the text
    // runs, so a `define` that calls `tpl` whose text includes that same define recursed forever.
    let out = call.execute_text(ROOT_TEMPLATE, &text, data).map_err(|e| {
        if e.contains(" executing ") || e.contains(WARN_START) {
            format!("error during tpl function execution for {text:?}: {e}")
        } else {
            format!("cannot parse template {text:?}: {e}")
        }
    })?;
    Ok(Value::str(super::strip_no_value(out)))
}
