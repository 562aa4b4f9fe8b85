//! Helm's own template functions, on top of Sprig: `include`, `tpl`, `required`, `fail`, the YAML/JSON/
//! TOML converters and `lookup`.
//!
//! Error texts follow Helm's, because users grep for them: a `required` or `fail` message is wrapped
//! in [`WARN_START`]/[`WARN_END`] so that the render error can show just the message with its position
//! (`execution error at (chart/templates/x.yaml:3:4): message`), as Helm's `cleanupExecError` does.

use std::{cell::RefCell, collections::HashMap, rc::Rc};

use crate::yaml;
use gotemplate::{Call, FuncMap, FuncResult, GoType, Value};

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
    let mut m = gotemplate::sprig::funcs();
    m.remove("env");
    m.remove("expandenv");
    // Go's failures give "" (or toToml's message) as in Helm; text over gotemplate::json::MAX_TEXT, which Go
    // would try to allocate, is an error.
    fn text(r: Result<String, gotemplate::json::TooLong>) -> FuncResult {
        r.map(Value::str).map_err(|e| e.to_string())
    }
    m.insert_simple("toYaml", |a| text(yaml::to_yaml_checked(arg0(a))));
    m.insert_simple("toYamlPretty", |a| text(yaml::to_yaml_pretty_checked(arg0(a))));
    m.insert_simple("toJson", |a| {
        text(gotemplate::json::to_json_checked(arg0(a), true, None))
    });
    m.insert_simple("toToml", |a| match a {
        // BurntSushi's encoder asks reflect for the type of nil, which panics.
        [Value::Nil] => Err("reflect: call of reflect.Value.Type on zero Value".to_string()),
        _ => text(yaml::to_toml_checked(arg0(a))),
    });
    m.insert_simple("fromYaml", |a| from_yaml(a, "fromYaml", false));
    m.insert_simple("fromJson", |a| Ok(from_json(&string_arg(a, "fromJson")?, false)));
    m.insert_simple("fromYamlArray", |a| from_yaml(a, "fromYamlArray", true));
    m.insert_simple("fromJsonArray", |a| {
        Ok(from_json(&string_arg(a, "fromJsonArray")?, true))
    });
    m.insert_simple("fromToml", |a| Ok(from_toml(&string_arg(a, "fromToml")?)));
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
    for (name, params) in HELM_SIGNATURES {
        m.set_signature(name, params, false);
    }
    m
}

/// The Go parameters of Helm's own template functions (helm v3.17 `pkg/engine/funcs.go`), checked
/// by the executor before the call as Go checks them.
const HELM_SIGNATURES: &[(&str, &[GoType])] = {
    use GoType::{Any, String};
    &[
        ("include", &[String, Any]),
        ("tpl", &[String, Any]),
        ("required", &[String, Any]),
        ("lookup", &[String, String, String, String]),
        ("toYaml", &[Any]),
        ("toYamlPretty", &[Any]),
        ("toJson", &[Any]),
        ("toToml", &[Any]),
        ("fromYaml", &[String]),
        ("fromYamlArray", &[String]),
        ("fromJson", &[String]),
        ("fromJsonArray", &[String]),
        ("fromToml", &[String]),
    ]
};

fn arg0(a: &[Value]) -> &Value {
    a.first().unwrap_or(&Value::Nil)
}

fn string_arg(a: &[Value], func: &str) -> Result<String, String> {
    match a {
        [Value::Str(s)] => Ok(s.to_string()),
        // A Go string that is not UTF-8 (`b64dec`): the text its readers see.
        [Value::BStr(b)] => Ok(b.text().to_string()),
        [other] => Err(format!(
            "wrong type for value; expected string; got {}",
            other.type_name()
        )),
        _ => Err(format!("wrong number of args for {func}: want 1 got {}", a.len())),
    }
}

/// What `fromYaml` and friends give: a map (or list) whose parse error is stored in it, never a
/// failed render, exactly as Helm does (`{"Error": msg}` for maps, `[msg]` for lists).
fn with_error(msg: String, array: bool) -> Value {
    if array {
        Value::list(vec![Value::str(msg)])
    } else {
        Value::map_from([("Error".to_string(), Value::str(msg))].into())
    }
}

/// Go's `json: cannot unmarshal KIND into Go value of type T` for a document of the wrong shape;
/// `None` when it fits (null fits both: it leaves the empty result alone).
fn shape_error(v: &Value, array: bool) -> Option<String> {
    let want = if array {
        "[]interface {}"
    } else {
        "map[string]interface {}"
    };
    match v {
        Value::Nil | Value::List(_) if array => None,
        Value::Nil | Value::Map(_) if !array => None,
        other => Some(format!(
            "json: cannot unmarshal {} into Go value of type {want}",
            json_kind(other)
        )),
    }
}

/// `fromYaml`/`fromYamlArray`: sigs.k8s.io/yaml converts the YAML to JSON and decodes that, so a
/// shape error is worded by both layers.
fn from_yaml(a: &[Value], func: &str, array: bool) -> Result<Value, String> {
    let text = string_arg(a, func)?;
    // Helm's YAML reader refuses bytes that are not UTF-8 before parsing, as for a manifest.
    if let Some(msg) = a
        .first()
        .and_then(Value::go_str_bytes)
        .and_then(yaml::reader::reader_error)
    {
        return Ok(with_error(msg, array));
    }
    Ok(parse_yaml(&text, array))
}

/// [`from_yaml`] of text.
fn parse_yaml(text: &str, array: bool) -> Value {
    match yaml::parse_any(text, "") {
        Ok(v) => match shape_error(&v, array) {
            Some(e) => with_error(
                format!("error unmarshaling JSON: while decoding JSON: {e}"),
                array,
            ),
            None if matches!(v, Value::Nil) => empty(array),
            None => v,
        },
        // sigs.k8s.io/yaml's wording around go-yaml's, translated from our parser's (`yaml::go_error`).
        Err(e) => with_error(yaml::go_error(text, &e), array),
    }
}

/// `fromJson`/`fromJsonArray`: Go's `json.Unmarshal` (numbers as float64). The text is read once:
/// serde_json accepts only what Go's scanner accepts, so Go's scanner runs only on text serde_json
/// refuses, to word the error as Go does.
fn from_json(text: &str, array: bool) -> Value {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(j) => {
            let v = Value::from_json(&j, false);
            match shape_error(&v, array) {
                Some(e) => with_error(e, array),
                None if matches!(v, Value::Nil) => empty(array),
                None => v,
            }
        }
        // serde_json also refuses a few texts Go's scanner accepts (lone UTF-16 surrogates, which
        // Go would decode with replacement characters): those keep serde_json's words.
        Err(e) => match gotemplate::json_syntax::check(text.as_bytes()) {
            Err(go) => with_error(go, array),
            Ok(()) => with_error(e.to_string(), array),
        },
    }
}

/// `fromToml`: BurntSushi/toml's decoding into `map[string]interface{}` (integers int64,
/// datetimes `time.Time`); an error leaves only `Error` in the map. The error names the line as
/// BurntSushi does (`toml: line N: ...`), but the description is the toml crate's own.
fn from_toml(text: &str) -> Value {
    match text.parse::<toml::Table>() {
        Ok(table) => toml_value(toml::Value::Table(table)),
        Err(e) => {
            let line = e
                .span()
                .map_or(0, |s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            let msg = e.message().trim_end().to_string();
            with_error(format!("toml: line {line}: {msg}"), false)
        }
    }
}

fn toml_value(v: toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::str(s),
        // BurntSushi/toml decodes integers into interface{} as int64.
        toml::Value::Integer(i) => Value::Int64(i),
        toml::Value::Float(f) => Value::Float(f),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => toml_time(&d),
        toml::Value::Array(a) => Value::list(a.into_iter().map(toml_value).collect()),
        toml::Value::Table(t) => Value::map_from(t.into_iter().map(|(k, v)| (k, toml_value(v))).collect()),
    }
}

/// A TOML datetime as Go's `time.Time`. Local datetimes, dates and times are in Go's local zone,
/// which is UTC where Helm runs without TZ; a time alone is on Go's zero date (year 0).
fn toml_time(d: &toml::value::Datetime) -> Value {
    let date = d.date.map_or_else(
        || "0000-01-01".to_string(),
        |x| format!("{:04}-{:02}-{:02}", x.year, x.month, x.day),
    );
    let time = d.time.map_or_else(
        || "00:00:00".to_string(),
        |t| {
            let frac = t.nanosecond.map_or(String::new(), |n| format!(".{n:09}"));
            format!("{:02}:{:02}:{:02}{frac}", t.hour, t.minute, t.second.unwrap_or(0))
        },
    );
    // BurntSushi/toml gives local kinds fixed zones of offset 0 named after the kind.
    let local_zone = match (d.date, d.time, d.offset) {
        (_, _, Some(_)) => None,
        (Some(_), Some(_), None) => Some("datetime-local"),
        (Some(_), None, None) => Some("date-local"),
        (None, _, None) => Some("time-local"),
    };
    let offset = match d.offset {
        Some(toml::value::Offset::Custom { minutes }) => {
            let sign = if minutes < 0 { '-' } else { '+' };
            format!("{sign}{:02}:{:02}", minutes.abs() / 60, minutes.abs() % 60)
        }
        _ => "Z".to_string(),
    };
    let text = format!("{date}T{time}{offset}");
    match gotemplate::sprig::parse_time("2006-01-02T15:04:05.999999999Z07:00", &text) {
        Ok(mut t) => {
            if let Some(zone) = local_zone {
                t.zone = zone.to_string();
            }
            gotemplate::sprig::TimeValue::wrap(t)
        }
        Err(_) => Value::str(d.to_string()),
    }
}

fn empty(array: bool) -> Value {
    if array {
        Value::list(vec![])
    } else {
        Value::new_map()
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "bool",
        Value::Int(_) | Value::Int64(_) | Value::Uint64(_) | Value::Float(_) => "number",
        Value::Str(_) => "string",
        Value::List(_) => "array",
        _ => "object",
    }
}

fn deep_copy(name: &str, a: &[Value]) -> FuncResult {
    match a {
        [Value::Object(o)] if o.type_name() == "chartutil.Values" => {
            let plain = o.to_plain().unwrap_or_default();
            if plain.has_cycle() {
                return gotemplate::sprig::deep_copy(name, &[plain]);
            }
            Ok(super::Values::value(&plain.deep_copy()))
        }
        _ => gotemplate::sprig::deep_copy(name, a),
    }
}

/// Helm's lint mode: a missing `required` value or a `fail` is reported on stderr (`[INFO] ...`,
/// the line Helm logs) and renders as an empty string, so the rest of the chart still gets linted.
pub fn lint_mode(m: &mut FuncMap) {
    m.insert_simple("required", |a| match required(a) {
        Err(e) if e.starts_with(WARN_START) => {
            let msg = gotemplate::sprig::convert::to_string(&a[0]);
            eprintln!("[INFO] Missing required value: {msg}");
            Ok(Value::str(""))
        }
        other => other,
    });
    m.insert_simple("fail", |a| {
        let msg = string_arg(a, "fail")?;
        eprintln!("[INFO] Fail: {msg}");
        Ok(Value::str(""))
    });
}

fn required(a: &[Value]) -> FuncResult {
    let [warn, val] = a else {
        return Err(format!(
            "wrong number of args for required: want 2 got {}",
            a.len()
        ));
    };
    let msg = gotemplate::sprig::convert::to_string(warn);
    match val {
        Value::Nil => Err(format!("{WARN_START}{msg}{WARN_END}")),
        Value::Str(s) if s.is_empty() => Err(format!("{WARN_START}{msg}{WARN_END}")),
        v => Ok(v.clone()),
    }
}

fn include(call: &mut Call<'_>, a: &[Value], nesting: &RefCell<HashMap<String, usize>>) -> FuncResult {
    let (name, data) = match a {
        [Value::Str(n), d] => (&**n, d),
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
        // Looked up before inserting: the name is copied once per helper, not once per call.
        match n.get_mut(name) {
            Some(count) if *count > MAX_INCLUDE_NESTING => {
                return Err(format!(
                    "rendering template has a nested reference name: {name}: unable to execute template"
                ));
            }
            Some(count) => *count += 1,
            None => {
                n.insert(name.to_string(), 1);
            }
        }
    }
    let out = call.execute_template(name, data);
    if let Some(c) = nesting.borrow_mut().get_mut(name) {
        *c -= 1;
    }
    // Go's output is bytes: a template printing `b64dec` output returns them as they are.
    out.map(Value::from_go_bytes)
}

fn tpl(call: &mut Call<'_>, a: &[Value]) -> FuncResult {
    let (text, data) = match a {
        // A Go string that is not UTF-8 keeps its bytes in text nodes and raw strings, as in Go.
        [t @ (Value::Str(_) | Value::BStr(_)), d] => (t, d),
        [other, _] => {
            return Err(format!(
                "wrong type for value; expected string; got {}",
                other.type_name()
            ))
        }
        _ => return Err(format!("wrong number of args for tpl: want 2 got {}", a.len())),
    };
    // Helm does not bound tpl's nesting: text that runs itself recurses until Go's stack limit
    // kills the process (ours took minutes, re-parsing at each of 100,000 levels). Bounded like
    // `include`, with an error saying so.
    let depth = TPL_DEPTH.with(|d| d.get());
    if depth >= MAX_TPL_NESTING {
        return Err(format!(
            "tpl nested more than {MAX_TPL_NESTING} deep (does its text run tpl on itself?)"
        ));
    }
    TPL_DEPTH.with(|d| d.set(depth + 1));
    let out = tpl_run(call, text, data);
    TPL_DEPTH.with(|d| d.set(depth));
    out
}

/// How many `tpl` calls may be active at once (see [`tpl`]); as many as `include` allows.
const MAX_TPL_NESTING: usize = MAX_INCLUDE_NESTING;

thread_local! {
    /// Active `tpl` calls on this thread.
    static TPL_DEPTH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn tpl_run(call: &mut Call<'_>, text: &Value, data: &Value) -> FuncResult {
    let bytes = text.go_str_bytes().unwrap_or_default();
    // Helm's messages quote the text with Go's %q (bad bytes as \xff).
    let quoted = || gotemplate::gofmt::sprintf("%q", std::slice::from_ref(text));
    // Helm parses the text as a new template named like the set's root (`gotpl`), never like the
    // caller: naming it after the caller would replace the caller's own `define` while the text
    // runs, so a `define` that calls `tpl` whose text includes that same define recursed forever.
    let out = call.execute_go_bytes(ROOT_TEMPLATE, bytes, data).map_err(|e| {
        if e.contains(" executing ") || e.contains(WARN_START) {
            format!("error during tpl function execution for {}: {e}", quoted())
        } else {
            format!("cannot parse template {}: {e}", quoted())
        }
    })?;
    Ok(Value::from_go_bytes(super::strip_no_value_bytes(out)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 16 (1a) and Helm's tpl errors: the text runs as template `gotpl`, so a define
    /// calling tpl on text that includes the same define is not replaced by that text.
    #[test]
    fn tpl_runs_as_the_root_template() {
        use gotemplate::Templates;
        let cases = [
            (
                r#"x: {{ include "render" (dict "text" "{{ include \"render\" (dict \"text\" \"inner\" \"ctx\" $) }}" "ctx" $) }}"#,
                Ok("x: inner"),
            ),
            (
                r#"{{ tpl "{{ define \"d\" }}in{{ end }}{{ include \"d\" . }}" . }}"#,
                Ok("in"),
            ),
            (
                r#"{{ tpl "{{ .x" . }}"#,
                Err(
                    r#"error calling tpl: cannot parse template "{{ .x": template: gotpl:1: unclosed action"#,
                ),
            ),
            (
                r#"{{ tpl "{{ .a.b.c }}" . }}"#,
                Err(
                    r#"error calling tpl: error during tpl function execution for "{{ .a.b.c }}": template: gotpl:1:5: executing "gotpl" at <.a.b.c>: nil pointer evaluating interface {}.b"#,
                ),
            ),
        ];
        for (text, want) in cases {
            let mut set = Templates::new(Rc::new(helm_funcs(Rc::new(NoCluster))));
            set.set_root_name(ROOT_TEMPLATE);
            set.parse(
                "_h.tpl",
                r#"{{- define "render" -}}{{ tpl .text .ctx }}{{- end }}"#,
            )
            .unwrap_or_else(|e| panic!("{e}"));
            set.parse("t", text).unwrap_or_else(|e| panic!("{e}"));
            let got = set.execute("t", &Value::new_map()).map_err(|e| e.to_string());
            match (want, got) {
                (Ok(w), Ok(g)) => assert_eq!(g, w, "{text}"),
                (Err(w), Err(g)) => assert!(g.contains(w), "{text}: {g}"),
                (w, g) => panic!("{text}: want {w:?}, got {g:?}"),
            }
        }
    }

    fn show(v: &Value) -> String {
        gotemplate::gofmt::format_v(v)
    }

    /// Each expected text is what helm v3.17.2 prints for `{{ fromToml ... }}` (or its `.Error`).
    #[test]
    fn from_toml_like_helm() {
        let cases = [
            ("hello = \"world\"", "map[hello:world]"),
            ("", "map[]"),
            ("[t]\nk = 1\n[[t.a]]\nx = 1.5", "map[t:map[a:[map[x:1.5]] k:1]]"),
            ("d = 1979-05-27", "map[d:1979-05-27 00:00:00 +0000 date-local]"),
            (
                "o = 1979-05-27T00:32:00-07:00",
                "map[o:1979-05-27 00:32:00 -0700 -0700]",
            ),
            (
                "l = 1979-05-27T07:32:00",
                "map[l:1979-05-27 07:32:00 +0000 datetime-local]",
            ),
            ("z = 1979-05-27T07:32:00Z", "map[z:1979-05-27 07:32:00 +0000 UTC]"),
        ];
        for (text, want) in cases {
            assert_eq!(show(&from_toml(text)), want, "{text:?}");
        }
        // Lines are counted as BurntSushi counts them only where the two parsers stop at the
        // same place (it reports a missing value on the line after it).
        let errors = [
            ("a = 1\nb = \nc = 3", "toml: line "),
            ("a = 1\na = 2", "toml: line 2: "),
        ];
        for (text, prefix) in errors {
            let v = from_toml(text);
            let m = v.as_map().map(|m| m.borrow().clone()).unwrap_or_default();
            let err = m
                .get("Error")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            assert_eq!(m.len(), 1, "{text:?}: only Error");
            assert!(err.starts_with(prefix), "{text:?}: {err}");
        }
    }

    /// Issue 20 (limits): tpl text that runs tpl on itself ends at 1000 levels with an error
    /// (it ran for minutes; Helm crashes), while tpl inside tpl a few levels deep still works.
    #[test]
    fn tpl_nesting_is_bounded() {
        let cases = [
            (
                r#"{{ $t := "{{ tpl $.t $ }}" }}{{ tpl $t (dict "t" $t) }}"#,
                Err("tpl nested more than 1000 deep"),
            ),
            (r#"{{ tpl "{{ tpl \"{{ tpl \\\"x\\\" . }}\" . }}" . }}"#, Ok("x")),
        ];
        for (text, want) in cases {
            let got = std::thread::Builder::new()
                .stack_size(1 << 30)
                .spawn(move || {
                    let mut set = gotemplate::Templates::new(Rc::new(helm_funcs(Rc::new(NoCluster))));
                    set.parse("t", text).map_err(|e| e.to_string())?;
                    set.execute("t", &Value::new_map()).map_err(|e| e.to_string())
                })
                .map(|h| h.join());
            let got = match got {
                Ok(Ok(r)) => r,
                _ => panic!("{text}: crashed"),
            };
            match (want, got) {
                (Ok(w), Ok(g)) => assert_eq!(g, w, "{text}"),
                (Err(w), Err(g)) => assert!(g.contains(w), "{text}: {:.300}", g),
                (w, g) => panic!("{text}: want {w:?}, got {g:.300?}"),
            }
        }
    }

    /// Issue 20: values nested 60,000 deep built in a template (Helm renders them) crashed
    /// print, eq, deepCopy, toJson and toPrettyJson, and were refused by toJson/toYaml as
    /// "cycles" past 1000 levels; a map set into itself (Helm crashes) must give an error. Run
    /// on a thread with the binary's stack (`main.rs`): freeing such a value recurses.
    #[test]
    fn deep_and_cyclic_values() {
        const N: usize = 60_000;
        let build = |n: usize| {
            format!(r#"{{{{$d := dict}}}}{{{{range until {n}}}}}{{{{$d = dict "a" $d}}}}{{{{end}}}}"#)
        };
        let printed = format!("{}map[]{}", "map[a:".repeat(N), "]".repeat(N));
        let json = format!("{}{{}}{}", r#"{"a":"#.repeat(N), "}".repeat(N));
        // Indentation makes pretty JSON quadratic in the depth: 3,000 levels (past encoding/json's
        // 1000-level cycle check) keep it to 9 MB.
        const P: usize = 3_000;
        let mut pretty = String::new();
        for i in 0..P {
            pretty.push_str(&format!("{{\n{}\"a\": ", "  ".repeat(i + 1)));
        }
        pretty.push_str("{}");
        for i in (0..P).rev() {
            pretty.push_str(&format!("\n{}}}", "  ".repeat(i)));
        }
        let cyclic = r#"{{$d := dict}}{{$_ := set $d "a" $d}}"#;
        let cases: Vec<(&str, String, Result<String, &str>)> = vec![
            (
                "print",
                format!("{}{{{{print $d}}}}", build(N)),
                Ok(printed.clone()),
            ),
            (
                "deepCopy",
                format!("{}{{{{deepCopy $d}}}}", build(N)),
                Ok(printed.clone()),
            ),
            ("toJson", format!("{}{{{{toJson $d}}}}", build(N)), Ok(json)),
            (
                "toPrettyJson",
                format!("{}{{{{toPrettyJson $d}}}}", build(P)),
                Ok(pretty),
            ),
            (
                "eq",
                format!("{}{{{{eq $d $d}}}}", build(N)),
                Err("error calling eq: non-comparable type map[a:map[a:"),
            ),
            // Line i is 2i spaces, `a:` and a line feed; the last adds ` {}`; toYaml trims the
            // final line feed.
            (
                "toYaml 2000",
                format!("{}{{{{toYaml $d | len}}}}", build(2000)),
                Ok((2000 * 1999 + 2000 * 3 + 3 - 1).to_string()),
            ),
            (
                "cyclic print",
                format!("{cyclic}{{{{print $d}}}}"),
                Err("error calling print: cannot print a value that holds itself"),
            ),
            (
                "cyclic output",
                format!("{cyclic}{{{{$d}}}}"),
                Err("cannot print a value that holds itself"),
            ),
            (
                "cyclic printf",
                format!("{cyclic}{{{{printf \"%v\" $d}}}}"),
                Err("error calling printf: cannot print a value that holds itself"),
            ),
            (
                "cyclic deepCopy",
                format!("{cyclic}{{{{deepCopy $d}}}}"),
                Err("error calling deepCopy: cannot copy a value that holds itself"),
            ),
            (
                "cyclic eq",
                format!("{cyclic}{{{{eq $d $d}}}}"),
                Err("error calling eq: non-comparable type map[string]interface {}, cannot print"),
            ),
            (
                "cyclic toJson",
                format!("{cyclic}{{{{toJson $d}}}}"),
                Ok(String::new()),
            ),
            (
                "cyclic toYaml",
                format!("{cyclic}{{{{toYaml $d}}}}"),
                Ok(String::new()),
            ),
            (
                "shared not cyclic",
                r#"{{$s := dict "x" 1}}{{$d := dict "a" $s "b" (list $s $s)}}{{print $d}}"#.into(),
                Ok("map[a:map[x:1] b:[map[x:1] map[x:1]]]".into()),
            ),
        ];
        let h = std::thread::Builder::new()
            .stack_size(1 << 30)
            .spawn(move || {
                let mut out = Vec::new();
                for (name, text, want) in cases {
                    let mut set = gotemplate::Templates::new(Rc::new(helm_funcs(Rc::new(NoCluster))));
                    set.parse("t", &text).unwrap_or_else(|e| panic!("{name}: {e}"));
                    let got = set.execute("t", &Value::new_map()).map_err(|e| e.to_string());
                    out.push((name, got, want));
                }
                out
            })
            .unwrap_or_else(|e| panic!("{e}"));
        for (name, got, want) in h.join().unwrap_or_else(|_| panic!("deep values crashed")) {
            match (want, got) {
                (Ok(w), Ok(g)) => assert!(g == w, "{name}: {} bytes, want {}: {:.200}", g.len(), w.len(), g),
                (Err(w), Err(g)) => assert!(g.contains(w), "{name}: {g:.300}"),
                (w, g) => panic!("{name}: want {w:.200?}, got {g:.200?}"),
            }
        }
    }
}
