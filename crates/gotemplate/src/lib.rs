//! Go's `text/template` and the Sprig v3 function library in Rust, byte for byte.
//!
//! The engine kubectl-chart renders Helm charts with, as a crate of its own: it knows nothing of
//! Helm, Kubernetes or the network, and the compiler holds it to that (it cannot name the plugin's
//! modules). What it implements, and which Go it follows:
//!
//! - **`text/template`** of Go 1.23 (the Go helm v3.17.2 is built with): lexer, parser and
//!   executor over [`Value`], with Go's semantics exactly (actions, pipelines, variables and
//!   reassignment, `range` over maps in key order, `break`/`continue`,
//!   `define`/`template`/`block`, whitespace trimming, the builtin functions, `<no value>` for
//!   missing keys) and Go's error messages with their positions. Entry point: [`Templates`] —
//!   parse named templates into one set, then execute one by name. Functions are registered
//!   through a [`FuncMap`]; one that must execute templates (Helm's `include`, `tpl`) gets a
//!   [`Call`] handle.
//! - **[`sprig`]**: Sprig v3.3.0's functions (`sprig.TxtFuncMap()` without `env` and `expandenv`,
//!   as Helm 3.17 offers them), quirks included.
//! - **The Go standard library the two need, in one place**: [`gofmt`] (`fmt`'s verbs,
//!   `strconv.Quote`, `strconv.FormatFloat`), [`gostr`] (`path.Clean`, `url.QueryEscape`,
//!   `encoding/json` strings), [`json`] (`encoding/json`'s `Marshal` of values: Go's escaping and
//!   float forms, which serde_json does not give), [`semver`] (Masterminds/semver v3 versions and
//!   constraints) and [`civil`] (calendar arithmetic for dates).
//!
//! What differs from Go: values are dynamic ([`Value`]: nil, bool, the integer and float kinds,
//! strings, maps with string keys, lists, and opaque [`Object`]s), not reflected Go types, so a
//! function declares its Go parameter types in a [`Signature`] when it wants Go's argument checks;
//! there are no methods on data except through [`Object`]; templates print UTF-8 (invalid bytes
//! read as U+FFFD, see [`Templates::execute_bytes`] for the raw bytes); and output is capped (1
//! GiB a template, [`json::MAX_TEXT`] a function) where Go would try to allocate.
//!
//! ```
//! use std::{collections::BTreeMap, rc::Rc};
//!
//! use gotemplate::{sprig, Templates, Value};
//!
//! let mut set = Templates::new(Rc::new(sprig::funcs()));
//! set.parse("hello", r#"{{ range $i, $n := .names }}{{ if $i }}, {{ end }}{{ $n | upper | quote }}{{ end }}"#)
//!     .unwrap();
//! let data = Value::map_from(BTreeMap::from([(
//!     "names".to_string(),
//!     Value::list(vec![Value::from("web"), Value::from("db")]),
//! )]));
//! assert_eq!(set.execute("hello", &data).unwrap(), r#""WEB", "DB""#);
//!
//! // Errors are Go's, with the template's name, line and column.
//! set.parse("bad", "{{ .names | nope }}").unwrap_err();
//! ```

mod ast;
pub(crate) mod builtins;
pub mod civil;
mod exec;
pub mod gofmt;
pub mod gostr;
pub mod json;
pub mod json_syntax;
mod lex;
mod number;
mod parse;
pub mod semver;
pub mod sprig;
mod value;

pub use value::{Map, Object, TypedList, TypedMap, Value};

use std::{collections::HashMap, fmt, rc::Rc};

use ast::{is_empty_tree, Tmpl};
use exec::Layer;

/// A template's source text, shared by its trees (text between actions is sliced from it at
/// execution). An `Rc<String>` rather than `Rc<str>`: a chart's file read into a `String`
/// becomes one without copying, where `Rc<str>` copies every byte (argo-cd's templates are
/// 2.2 MB, and that copy was 9% of `template`'s main thread with its page faults).
pub type Source = Rc<String>;

/// What a template function returns: a value or an error message (Go's `error`), which the executor
/// reports as `error calling NAME: MESSAGE` at the call's position.
pub type FuncResult = Result<Value, String>;

/// A function callable from templates.
#[derive(Clone)]
pub enum Func {
    /// A plain function of its arguments.
    Simple(fn(&[Value]) -> FuncResult),
    /// A function that needs the executing template set (`include`, `tpl`) or captured state.
    #[allow(clippy::type_complexity)]
    Ctx(Rc<dyn Fn(&mut Call<'_>, &[Value]) -> FuncResult>),
}

/// A Go parameter type of a template function, as far as the executor checks arguments against
/// it before the call (Go's `evalArg` for constants, `validateType` for values).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum GoType {
    /// `string`
    String,
    /// `int`
    Int,
    /// `int64`
    Int64,
    /// `float64`
    Float64,
    /// `bool`
    Bool,
    /// `map[string]interface{}` (a named map type such as `chartutil.Values` is assignable)
    Map,
    /// `[]interface{}`
    List,
    /// `interface{}`: anything
    Any,
    /// Another type, named as Go prints it (`time.Time`, `uint32`, `sprig.certificate`): it
    /// cannot be nil, constants are refused as Go refuses them (an integer constant fits
    /// `uint32`), and a value fits when its [`Value::type_name`] is the same name.
    Other(&'static str),
}

impl GoType {
    /// The name Go's messages use.
    pub fn name(self) -> &'static str {
        match self {
            GoType::String => "string",
            GoType::Int => "int",
            GoType::Int64 => "int64",
            GoType::Float64 => "float64",
            GoType::Bool => "bool",
            GoType::Map => "map[string]interface {}",
            GoType::List => "[]interface {}",
            GoType::Any => "interface {}",
            GoType::Other(name) => name,
        }
    }

    /// Whether Go's zero value of the type is nil (a `nil` argument is then accepted).
    pub(crate) fn can_be_nil(self) -> bool {
        matches!(self, GoType::Map | GoType::List | GoType::Any)
    }
}

/// A template function's Go parameters; with `variadic`, the last is the element type of a
/// `...T` parameter. A function with a signature has its argument count and types checked by the
/// executor, with Go's messages and positions, before it is called.
#[derive(Clone, Copy, Debug)]
pub struct Signature {
    /// Parameter types in order.
    pub params: &'static [GoType],
    /// The last parameter is `...T`.
    pub variadic: bool,
}

impl Signature {
    /// The type of argument `i` (variadic arguments share the last one).
    pub(crate) fn param(&self, i: usize) -> GoType {
        let last = self.params.len().saturating_sub(1);
        self.params
            .get(if self.variadic { i.min(last) } else { i })
            .copied()
            .unwrap_or(GoType::Any)
    }
}

/// Named functions available to templates (Go's `template.FuncMap`).
#[derive(Clone, Default)]
pub struct FuncMap {
    funcs: HashMap<String, Func>,
    signatures: HashMap<String, Signature>,
}

impl FuncMap {
    /// An empty map (the builtins `and`, `or`, `len`, `printf`... are always present).
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds or replaces a plain function.
    pub fn insert_simple(&mut self, name: &str, f: fn(&[Value]) -> FuncResult) {
        self.funcs.insert(name.to_string(), Func::Simple(f));
    }
    /// Adds or replaces a function that gets a [`Call`] handle.
    pub fn insert_ctx(&mut self, name: &str, f: impl Fn(&mut Call<'_>, &[Value]) -> FuncResult + 'static) {
        self.funcs.insert(name.to_string(), Func::Ctx(Rc::new(f)));
    }
    /// Looks a function up.
    pub fn get(&self, name: &str) -> Option<&Func> {
        self.funcs.get(name)
    }
    /// Removes a function (Helm drops Sprig's `env` and `expandenv`).
    pub fn remove(&mut self, name: &str) {
        self.funcs.remove(name);
        self.signatures.remove(name);
    }
    /// Declares the Go parameters of function `name` (see [`Signature`]).
    pub fn set_signature(&mut self, name: &str, params: &'static [GoType], variadic: bool) {
        self.signatures
            .insert(name.to_string(), Signature { params, variadic });
    }
    /// The declared parameters of function `name`.
    pub(crate) fn signature(&self, name: &str) -> Option<Signature> {
        self.signatures.get(name).copied()
    }
}

/// A template error with Go's exact text (`template: NAME:LINE: ...` for parse errors,
/// `template: NAME:LINE:COL: executing "NAME" at <...>: ...` for execution errors).
#[derive(Clone, Debug)]
pub struct Error {
    template: String,
    line: Option<usize>,
    col: Option<usize>,
    message: String,
    full: String,
}

impl Error {
    pub(crate) fn parse(parse_name: &str, line: usize, msg: String) -> Error {
        let full = format!("template: {parse_name}:{line}: {msg}");
        Error {
            template: parse_name.to_string(),
            line: Some(line),
            col: None,
            message: msg,
            full,
        }
    }

    pub(crate) fn exec(
        parse_name: &str,
        line: usize,
        col: usize,
        name: &str,
        ctx: &str,
        msg: String,
    ) -> Error {
        let message = format!("executing {} at <{ctx}>: {msg}", gofmt::quote(name));
        let full = format!("template: {parse_name}:{line}:{col}: {message}");
        Error {
            template: parse_name.to_string(),
            line: Some(line),
            col: Some(col),
            message,
            full,
        }
    }

    pub(crate) fn exec_plain(name: &str, msg: String) -> Error {
        let full = format!("template: {name}: {msg}");
        Error {
            template: name.to_string(),
            line: None,
            col: None,
            message: msg,
            full,
        }
    }

    fn other(template: &str, full: String) -> Error {
        Error {
            template: template.to_string(),
            line: None,
            col: None,
            message: full.clone(),
            full,
        }
    }

    /// The template named in the location (Go's `ParseName`: the file a define came from).
    pub fn template(&self) -> &str {
        &self.template
    }
    /// 1-based line of the location.
    pub fn line(&self) -> Option<usize> {
        self.line
    }
    /// Byte column of the location (0-based, as Go prints it); execution errors only.
    pub fn col(&self) -> Option<usize> {
        self.col
    }
    /// The text after the location (`unexpected "}" in operand`, `executing "x" at <.a>: ...`).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full)
    }
}

impl std::error::Error for Error {}

/// A set of named templates sharing one function map (Go's `*template.Template` and its
/// associated templates).
pub struct Templates {
    funcs: Rc<FuncMap>,
    map: HashMap<String, Rc<Tmpl>>,
    missing_error: bool,
    root_name: String,
    max_output: usize,
}

/// Adds parsed trees to a set with Go's `AddParseTree` rule: an empty (whitespace-only) tree
/// does not replace an existing one. `parent` is consulted for the existing definition.
fn associate(map: &mut HashMap<String, Rc<Tmpl>>, parent: Option<&Layer<'_>>, trees: Vec<Rc<Tmpl>>) {
    for t in trees {
        let exists = map
            .get(&t.name)
            .or_else(|| parent.and_then(|p| p.lookup(&t.name)));
        if exists.is_some() && is_empty_tree(&t.text, &t.root) {
            continue;
        }
        map.insert(t.name.clone(), t);
    }
}

impl Templates {
    /// An empty set using `funcs` (plus Go's builtins).
    pub fn new(funcs: Rc<FuncMap>) -> Self {
        Templates {
            funcs,
            map: HashMap::new(),
            missing_error: false,
            root_name: "gotpl".into(),
            max_output: exec::MAX_OUTPUT,
        }
    }

    /// Go's `Option("missingkey=error")`: a missing map key is an error instead of `<no value>`.
    pub fn set_missing_key_error(&mut self, on: bool) {
        self.missing_error = on;
    }

    /// Name of the set's root template, used in `no template "x" associated with template "ROOT"`
    /// (default `gotpl`, the name Helm gives its root).
    pub fn set_root_name(&mut self, name: &str) {
        self.root_name = name.to_string();
    }

    /// Parses `text` as template `name` and adds it and every `{{define}}`/`{{block}}` in it to
    /// the set; a later parse of an existing name replaces it, unless the new body is empty.
    pub fn parse(&mut self, name: &str, text: &str) -> Result<(), Error> {
        self.parse_shared(name, Rc::new(text.to_string()))
    }

    /// [`Self::parse`] for a source the caller already shares: the trees keep it (text between
    /// actions is sliced from it at execution) instead of a copy.
    pub fn parse_shared(&mut self, name: &str, text: Source) -> Result<(), Error> {
        let trees = parse::parse(name, text, &self.funcs)?;
        associate(&mut self.map, None, trees);
        Ok(())
    }

    /// Lowers the output limit ([`exec::MAX_OUTPUT`]) so tests can reach it cheaply.
    #[cfg(test)]
    pub(crate) fn set_max_output(&mut self, bytes: usize) {
        self.max_output = bytes;
    }

    /// Whether a template of that name is defined.
    pub fn has(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    /// Executes template `name` with `data` as dot and `$`; text that is not UTF-8 (a
    /// `b64dec` result printed as is) reads with U+FFFD, see [`Templates::execute_bytes`].
    pub fn execute(&self, name: &str, data: &Value) -> Result<String, Error> {
        let out = self.execute_bytes(name, data)?;
        Ok(String::from_utf8(out).unwrap_or_else(|e| Value::go_lossy(e.as_bytes())))
    }

    /// Executes template `name` with `data` as dot and `$`, returning the bytes Go would write:
    /// Go strings are bytes, so the output need not be UTF-8.
    pub fn execute_bytes(&self, name: &str, data: &Value) -> Result<Vec<u8>, Error> {
        let layer = Layer {
            map: &self.map,
            parent: None,
            funcs: &self.funcs,
            missing_error: self.missing_error,
            root_name: &self.root_name,
            max_output: self.max_output,
        };
        let Some(t) = self.map.get(name) else {
            return Err(Error::other(name, no_template(name, &self.root_name)));
        };
        // A file's output is usually about as long as its source: sizing for that up front saves
        // the regrowth copies (and fresh pages) of large templates.
        let mut out = Vec::with_capacity(t.text.len());
        exec::run(&layer, t, data, 0, &mut out)?;
        Ok(out)
    }
}

fn no_template(name: &str, root: &str) -> String {
    format!(
        "template: no template {} associated with template {}",
        gofmt::quote(name),
        gofmt::quote(root)
    )
}

/// What a [`Func::Ctx`] function gets: access to the executing template set.
pub struct Call<'a> {
    layer: &'a Layer<'a>,
    name: &'a str,
    depth: usize,
}

impl Call<'_> {
    /// Name of the template currently executing.
    pub fn template_name(&self) -> &str {
        self.name
    }

    /// Executes a named template of the current set with `data` (Helm's `include`); counts
    /// towards the caller's nesting depth. The output is bytes (Go's, not necessarily UTF-8);
    /// the error is the full Go error text.
    pub fn execute_template(&mut self, name: &str, data: &Value) -> Result<Vec<u8>, String> {
        let Some(t) = self.layer.lookup(name) else {
            return Err(no_template(name, self.layer.root_name));
        };
        self.check_depth(name)?;
        let mut out = Vec::with_capacity(t.out_hint);
        exec::grow(|| exec::run(self.layer, t, data, self.depth + 1, &mut out)).map_err(|e| e.to_string())?;
        Ok(out)
    }

    /// Parses `text` as template `name` in a copy of the current set (its defines are visible
    /// to this call only) and executes it with `data` (Helm's `tpl`). The output is bytes, as
    /// for [`Call::execute_template`].
    pub fn execute_text(&mut self, name: &str, text: &str, data: &Value) -> Result<Vec<u8>, String> {
        self.execute_source(name, Rc::new(text.to_string()), false, data)
    }

    /// [`Self::execute_text`] for text that is a Go string's bytes, UTF-8 or not (`tpl` on
    /// `b64dec` output): bad bytes are written back as they were where Go writes them (text,
    /// raw strings).
    pub fn execute_go_bytes(&mut self, name: &str, bytes: &[u8], data: &Value) -> Result<Vec<u8>, String> {
        // Text without a `{{` parses to one text node, which writes the text as it is: nothing
        // to parse or run (Helm's `tpl` is handed many plain values). The depth check stays
        // first, so such a call fails where the general path fails.
        if memchr::memmem::find(bytes, b"{{").is_none() {
            self.check_depth(name)?;
            return Ok(bytes.to_vec());
        }
        match std::str::from_utf8(bytes) {
            Ok(text) => self.execute_text(name, text, data),
            Err(_) => self.execute_source(name, Rc::new(gostr::escape_bad_bytes(bytes)), true, data),
        }
    }

    fn execute_source(
        &mut self,
        name: &str,
        text: Source,
        escaped: bool,
        data: &Value,
    ) -> Result<Vec<u8>, String> {
        self.check_depth(name)?;
        let trees = parse::parse_source(name, text, self.layer.funcs, escaped).map_err(|e| e.to_string())?;
        let top = trees.iter().find(|t| t.name == name).cloned();
        let mut map = HashMap::new();
        associate(&mut map, Some(self.layer), trees);
        let layer = Layer {
            map: &map,
            parent: Some(self.layer),
            funcs: self.layer.funcs,
            missing_error: self.layer.missing_error,
            root_name: self.layer.root_name,
            max_output: self.layer.max_output,
        };
        let mut out = Vec::with_capacity(top.as_ref().map_or(0, |t| t.out_hint));
        if let Some(t) = top {
            exec::grow(|| exec::run(&layer, &t, data, self.depth + 1, &mut out))
                .map_err(|e| e.to_string())?;
        }
        Ok(out)
    }

    /// Whether one more level of template calls may start (Go's `maxExecDepth`).
    fn check_depth(&self, name: &str) -> Result<(), String> {
        if self.depth + 1 >= exec::MAX_EXEC_DEPTH {
            return Err(format!(
                "template: {name}: exceeded maximum template depth ({})",
                exec::MAX_EXEC_DEPTH
            ));
        }
        Ok(())
    }

    /// Current nesting depth of template calls.
    pub fn depth(&self) -> usize {
        self.depth
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    struct Files;
    impl Object for Files {
        fn type_name(&self) -> &str {
            "engine.files"
        }
        fn field(&self, _name: &str) -> Option<Value> {
            None
        }
        fn method(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
            match name {
                "Get" => Some(Ok(Value::from(format!(
                    "content of {}",
                    gofmt::format_v(&args[0])
                )))),
                _ => None,
            }
        }
        fn go_string(&self) -> String {
            "files".into()
        }
    }

    fn funcs() -> Rc<FuncMap> {
        let mut f = FuncMap::new();
        f.insert_simple("upper", |a| {
            Ok(Value::from(gofmt::format_v(&a[0]).to_uppercase()))
        });
        f.insert_simple("fail", |_| Err("boom".into()));
        f.insert_simple("list", |a| Ok(Value::list(a.to_vec())));
        f.insert_ctx("include", |c, a| {
            let name = a[0].as_str().unwrap_or_default().to_string();
            c.execute_template(&name, a.get(1).unwrap_or(&Value::Nil))
                .map(Value::from_go_bytes)
        });
        f.insert_ctx("tpl", |c, a| {
            let text = a[0].as_str().unwrap_or_default().to_string();
            let name = c.template_name().to_string();
            c.execute_text(&name, &text, a.get(1).unwrap_or(&Value::Nil))
                .map(Value::from_go_bytes)
        });
        Rc::new(f)
    }

    fn data() -> Value {
        let j = serde_json::json!({
            "Values": {"a": {"b": "deep"}, "n": 3, "f": 1.5, "s": "str", "l": [1, 2, 3, 4], "nul": null,
                        "m": {"z": 1, "y": 2}, "empty": [], "t": true, "nils": [null]},
            "b": 2, "a": 1
        });
        let v = Value::from_json(&j, true);
        if let Value::Map(m) = &v {
            m.borrow_mut()
                .insert("Files".into(), Value::Object(Rc::new(Files)));
        }
        v
    }

    /// A declared signature makes the executor check arguments before the call, as Go's
    /// `evalCall` does from a function's type; without one, the function checks them itself.
    #[test]
    fn declared_signatures_check_arguments_as_go_does() {
        let mut f = FuncMap::new();
        f.insert_simple("up", |a| {
            Ok(Value::from(a[0].as_str().unwrap_or_default().to_uppercase()))
        });
        f.set_signature("up", &[GoType::String], false);
        f.insert_simple("rep", |a| Ok(a[1].clone()));
        f.set_signature("rep", &[GoType::Int, GoType::String], false);
        f.insert_simple("keys", |_| Ok(Value::Nil));
        f.set_signature("keys", &[GoType::Map, GoType::String], true);
        f.insert_simple("loose", |a| Ok(Value::from(a.len() as i64)));
        let f = Rc::new(f);
        let cases = [
            (
                "fits",
                "{{ up \"a\" }} {{ rep 2 \"b\" }} {{ \"c\" | up }}",
                "A b C",
            ),
            (
                "count",
                "{{ up }}",
                "t:1:3: executing \"t\" at <up>: wrong number of args for up: want 1 got 0",
            ),
            (
                "count with final",
                "{{ 1 | rep 2 \"b\" }}",
                "at <rep>: wrong number of args for rep: want 2 got 3",
            ),
            (
                "variadic count",
                "{{ keys }}",
                "at <keys>: wrong number of args for keys: want at least 1 got 0",
            ),
            (
                "constant",
                "{{ up 3 }}",
                "t:1:6: executing \"t\" at <3>: expected string; found 3",
            ),
            (
                "integer constant",
                "{{ rep \"x\" \"b\" }}",
                "at <\"x\">: expected integer; found \"x\"",
            ),
            (
                "map constant",
                "{{ keys 3 }}",
                "at <3>: can't handle 3 for arg of type map[string]interface {}",
            ),
            (
                "nil constant",
                "{{ up nil }}",
                "at <nil>: cannot assign nil to string",
            ),
            ("nil constant for a map", "{{ keys nil \"k\" }}", "<no value>"),
            (
                "value",
                "{{ up .Values.n }}",
                "at <.Values.n>: wrong type for value; expected string; got int",
            ),
            (
                "missing key",
                "{{ up .Values.zz }}",
                "at <.Values.zz>: wrong type for value; expected string; got interface {}",
            ),
            (
                "pipeline nil",
                "{{ up (index .Values \"zz\") }}",
                "invalid value; expected string",
            ),
            (
                "variadic element",
                "{{ keys .Values.a 3 }}",
                "at <3>: expected string; found 3",
            ),
            (
                "piped value",
                "{{ 3 | up }}",
                "at <up>: wrong type for value; expected string; got int",
            ),
            ("undeclared", "{{ loose 1 nil \"x\" }}", "3"),
        ];
        for (name, text, want) in cases {
            let mut t = Templates::new(f.clone());
            t.parse("t", text).expect(name);
            let got = t.execute("t", &data()).unwrap_or_else(|e| e.to_string());
            assert!(
                got == want || (!want.is_empty() && got.contains(want)),
                "{name}: {got}"
            );
        }
    }

    fn render(text: &str) -> Result<String, String> {
        let mut t = Templates::new(funcs());
        t.parse("t", text).map_err(|e| e.to_string())?;
        t.execute("t", &data()).map_err(|e| e.to_string())
    }

    #[test]
    fn outputs() {
        let cases: &[(&str, &str, &str)] = &[
            ("float exponent", "{{ 1000000.0 }}", "1e+06"),
            ("printf pad", r#"{{ printf "%05.1f" 3.14159 }}"#, "003.1"),
            ("int", "{{ 42 }}", "42"),
            ("char const", "{{ 'a' }}", "97"),
            ("hex", "{{ 0x1F }}", "31"),
            ("exp float", "{{ 1e3 }}", "1000"),
            ("underscore", "{{ 1_000 }}", "1000"),
            ("octal", "{{ 017 }}", "15"),
            ("string escapes", r#"{{ "a\tb\u00e9" }}"#, "a\tbé"),
            ("raw string", "{{ `a\\n` }}", "a\\n"),
            ("bool nil print", "{{ true }} {{ .nothing }}", "true <no value>"),
            ("range map order", "{{ range $k, $v := .Values.m }}{{ $k }}={{ $v }};{{ end }}", "y=2;z=1;"),
            ("range list", "{{ range .Values.l }}{{ . }},{{ end }}", "1,2,3,4,"),
            ("range index", "{{ range $i, $e := .Values.l }}{{ $i }}{{ end }}", "0123"),
            ("range assign", "{{ $i := 0 }}{{ $x := 9 }}{{ range $i = .Values.l }}{{ end }}{{ $i }}/{{ $x }}", "4/9"),
            (
                "range assign key value",
                "{{ $k := 0 }}{{ $v := 0 }}{{ range $k, $v = .Values.m }}{{ end }}{{ $k }}={{ $v }}",
                "z=1",
            ),
            ("range assign empty keeps value", "{{ $i := 0 }}{{ range $i = .Values.empty }}{{ end }}{{ $i }}", "[]"),
            ("hex float", "{{ 0x1p60 }}", "1.152921504606847e+18"),
            ("complex", "{{ print 1i }} {{ 1+2i }} {{ eq 1+2i 1+2i }} {{ if 0i }}t{{ else }}f{{ end }}", "(0+1i) (1+2i) true f"),
            ("printf hex float", r#"{{ printf "%x %X %.1x %b" 1.5 -3.0 1.0 1.0 }}"#, "0x1.8p+00 -0X1.8P+01 0x1.0p+00 4503599627370496p-52"),
            ("range else", "{{ range .Values.empty }}x{{ else }}empty{{ end }}", "empty"),
            ("range nil else", "{{ range .nothing }}x{{ else }}none{{ end }}", "none"),
            (
                "break continue",
                "{{ range $i, $v := .Values.l }}{{ if eq $i 1 }}{{ continue }}{{ end }}{{ if eq $i 3 }}{{ break }}{{ end }}{{ $v }}{{ end }}",
                "13",
            ),
            ("trim markers", "a  {{- 1 -}}  \n b", "a1b"),
            ("trim newline", "x\n{{- /* c */ -}}\ny", "xy"),
            ("comment", "a{{/* c */}}b", "ab"),
            ("assign in if", "{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}", "2"),
            ("decl scoped", "{{ $x := 1 }}{{ if true }}{{ $x := 2 }}{{ $x }}{{ end }}{{ $x }}", "21"),
            ("dollar", "{{ with .Values.a }}{{ $.b }}{{ .b }}{{ end }}", "2deep"),
            ("if else if", "{{ if .nothing }}a{{ else if .Values.t }}b{{ else }}c{{ end }}", "b"),
            ("else with", "{{ with .nothing }}a{{ else with .Values.s }}{{ . }}{{ end }}", "str"),
            ("with else", "{{ with .nothing }}a{{ else }}b{{ end }}", "b"),
            ("missing key", "{{ .Values.zzz }}|{{ .Values.a.zzz }}", "<no value>|<no value>"),
            ("nil value prints no value", "{{ .Values.nul }}", "<no value>"),
            ("pipe var invalid nil", "{{ $x := .missing }}{{ $x.foo }}", "<no value>"),
            ("and or", r#"{{ or 0 "" "x" }} {{ and 1 0 2 }} {{ and 1 2 }} {{ or 0 "" }}"#, "x 0 2 "),
            ("and short circuit", "{{ and false (fail) }}{{ or true (fail) }}", "falsetrue"),
            ("not", "{{ not 0 }} {{ not .Values.l }}", "true false"),
            ("eq multi", "{{ eq 1 2 1 }} {{ eq .Values.s \"str\" }} {{ ne 1 2 }}", "true true true"),
            ("eq nil", "{{ eq .nothing .nothing }} {{ eq .Values.s .nothing }}", "true false"),
            ("lt", r#"{{ lt 1 2 }} {{ le 2 2 }} {{ gt "b" "a" }} {{ ge 1.5 2.5 }}"#, "true true true false"),
            ("len", r#"{{ len "abc" }} {{ len .Values.l }} {{ len .Values.m }}"#, "3 4 2"),
            ("index", r#"{{ index .Values.l 1 }} {{ index .Values.m "y" }} {{ index . "Values" "a" "b" }} {{ index .Values.m "q" }}"#, "2 2 deep <no value>"),
            ("slice", "{{ slice .Values.l 1 3 }} {{ slice \"hello\" 1 }}", "[2 3] ello"),
            ("print", r#"{{ print 1 2 "a" "b" 3 }}"#, "1 2ab3"),
            ("println", r#"{{ println 1 "a" }}"#, "1 a\n"),
            ("pipeline last arg", r#"{{ "a" | printf "%s-%s" "b" }}"#, "b-a"),
            ("pipeline chain", r#"{{ .Values.s | upper | printf "<%s>" }}"#, "<STR>"),
            ("paren field", "{{ (index .Values \"a\").b }}", "deep"),
            ("method args", r#"{{ .Files.Get "x.txt" }}"#, "content of x.txt"),
            ("method pipe arg", r#"{{ "y" | .Files.Get }}"#, "content of y"),
            ("html", r#"{{ html "<a href='x'>&</a>" }}"#, "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;"),
            ("js", r#"{{ js "a'b\"<=>\n" }}"#, "a\\'b\\\"\\u003C\\u003D\\u003E\\u000A"),
            ("urlquery", r#"{{ urlquery "a b&c/é" }}"#, "a+b%26c%2F%C3%A9"),
            ("html nil", "{{ html .nothing }}", "&lt;no value&gt;"),
            ("print nil", "{{ print .nothing }}", "<nil>"),
            ("printf float d", r#"{{ printf "%d" .Values.f }}"#, "%!d(float64=1.5)"),
            ("print map", "{{ .Values.m }}", "map[y:2 z:1]"),
            ("print list", "{{ list 1 \"a\" 2.5 .nothing }}", "[1 a 2.5 <nil>]"),
            ("float value", "{{ .Values.f }}", "1.5"),
            ("define and template", r#"{{ define "x" }}[{{ . }}]{{ end }}{{ template "x" 5 }}"#, "[5]"),
            ("template no pipe", r#"{{ define "x" }}[{{ . }}]{{ end }}{{ template "x" }}"#, "[<no value>]"),
            ("block default", r#"{{ block "b" .Values.s }}<{{ . }}>{{ end }}"#, "<str>"),
            ("include", r#"{{ define "x" }}{{ .b }}{{ end }}{{ include "x" .Values.a | upper }}"#, "DEEP"),
            ("tpl", r#"{{ tpl "{{ .s }}-{{ define \"q\" }}Q{{ end }}{{ template \"q\" }}" .Values }}"#, "str-Q"),
            ("variable field", "{{ $v := .Values }}{{ $v.a.b }}", "deep"),
            ("nested define vars", r#"{{ define "x" }}{{ $ }}{{ end }}{{ $y := 1 }}{{ template "x" "in" }}"#, "in"),
        ];
        for (name, text, want) in cases {
            let got = render(text).unwrap_or_else(|e| format!("ERROR: {e}"));
            assert_eq!(&got, want, "case {name}: {text}");
        }
    }

    #[test]
    fn exec_errors() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "nil pointer",
                "{{ .Values.nul.y }}",
                r#"template: t:1:10: executing "t" at <.Values.nul.y>: nil pointer evaluating interface {}.y"#,
            ),
            (
                "nil pointer missing",
                "{{ .Values.x.y }}",
                r#"template: t:1:10: executing "t" at <.Values.x.y>: nil pointer evaluating interface {}.y"#,
            ),
            (
                "field of string in map",
                "{{ .Values.s.x }}",
                r#"template: t:1:10: executing "t" at <.Values.s.x>: can't evaluate field x in type interface {}"#,
            ),
            (
                "field of string dot",
                "{{ with .Values.s }}{{ .x }}{{ end }}",
                r#"template: t:1:23: executing "t" at <.x>: can't evaluate field x in type string"#,
            ),
            (
                "range nil elem",
                "{{ range .Values.nils }}{{ .a }}{{ end }}",
                r#"template: t:1:27: executing "t" at <.a>: nil pointer evaluating interface {}.a"#,
            ),
            (
                "func error",
                "{{ fail \"x\" }}",
                r#"template: t:1:3: executing "t" at <fail "x">: error calling fail: boom"#,
            ),
            (
                "wrong args",
                "{{ not 1 2 }}",
                r#"template: t:1:3: executing "t" at <not>: wrong number of args for not: want 1 got 2"#,
            ),
            (
                "incompatible eq",
                "{{ eq 1 1.0 }}",
                r#"template: t:1:3: executing "t" at <eq 1 1.0>: error calling eq: incompatible types for comparison"#,
            ),
            (
                "index out of range",
                "{{ index .Values.l 5 }}",
                r#"template: t:1:3: executing "t" at <index .Values.l 5>: error calling index: index out of range: 5"#,
            ),
            (
                "template not defined",
                "{{ template \"nope\" }}",
                r#"template: t:1:12: executing "t" at <{{template "nope"}}>: template "nope" not defined"#,
            ),
            (
                "map with args",
                "{{ .Values.m 1 }}",
                r#"template: t:1:10: executing "t" at <.Values.m>: m is not a method but has arguments"#,
            ),
            (
                "line and col",
                "a\nbc {{ .Values.nul.y }}",
                r#"template: t:2:13: executing "t" at <.Values.nul.y>: nil pointer evaluating interface {}.y"#,
            ),
            (
                "include error wrapped",
                r#"{{ define "x" }}{{ fail }}{{ end }}{{ include "x" . }}"#,
                r#"template: t:1:38: executing "t" at <include "x" .>: error calling include: template: t:1:19: executing "x" at <fail>: error calling fail: boom"#,
            ),
            (
                "range int",
                "{{ range 3 }}{{ . }}{{ end }}",
                r#"template: t:1:9: executing "t" at <3>: range can't iterate over 3"#,
            ),
            (
                "lt complex",
                "{{ lt 1i 2i }}",
                r#"template: t:1:3: executing "t" at <lt 1i 2i>: error calling lt: invalid type for comparison"#,
            ),
            (
                "printf non string format",
                "{{ printf 3 }}",
                r#"template: t:1:10: executing "t" at <3>: expected string; found 3"#,
            ),
        ];
        for (name, text, want) in cases {
            let got = render(text).err().unwrap_or_else(|| "no error".into());
            assert_eq!(&got, want, "case {name}: {text}");
        }
    }

    #[test]
    fn parse_errors() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "unexpected brace",
                "{{ .x } }",
                r#"template: t:1: unexpected "}" in operand"#,
            ),
            (
                "undefined function",
                "{{ foo }}",
                r#"template: t:1: function "foo" not defined"#,
            ),
            ("unexpected eof", "{{ if true }}", "template: t:1: unexpected EOF"),
            ("stray end", "a\n{{ end }}", "template: t:2: unexpected {{end}}"),
            (
                "undefined var",
                "{{ $x }}",
                r#"template: t:1: undefined variable "$x""#,
            ),
            (
                "var scope ends",
                "{{ if true }}{{ $x := 1 }}{{ end }}{{ $x }}",
                r#"template: t:1: undefined variable "$x""#,
            ),
            (
                "too many decls",
                "{{ range $a, $b, $c := . }}{{ end }}",
                "template: t:1: too many declarations in range",
            ),
            (
                "unclosed action",
                "a\nb\n{{ .x ",
                "template: t:3: unclosed action",
            ),
            (
                "unclosed multiline",
                "{{ .x\n\n",
                "template: t:3: unclosed action started at t:1",
            ),
            (
                "break outside",
                "{{ break }}",
                "template: t:1: {{break}} outside {{range}}",
            ),
            (
                "missing value",
                "{{ if }}{{ end }}",
                "template: t:1: missing value for if",
            ),
            (
                "bad number",
                "{{ 3k }}",
                r#"template: t:1: bad number syntax: "3k""#,
            ),
            ("unclosed comment", "{{/* x }}", "template: t:1: unclosed comment"),
            (
                "non executable",
                "{{ 1 | 2 }}",
                "template: t:1: non executable command in pipeline stage 2",
            ),
            (
                "dup define",
                r#"{{ define "a" }}x{{ end }}{{ define "a" }}y{{ end }}"#,
                r#"template: t:1: template: multiple definition of template "a""#,
            ),
            (
                "else in define",
                r#"{{ define "a" }}x{{ else }}y{{ end }}"#,
                "template: t:1: unexpected {{else}} in define clause",
            ),
            (
                "unterminated string",
                "{{ \"abc }}",
                "template: t:1: unterminated quoted string",
            ),
            (
                "bad complex",
                "{{ 1-2 }}",
                r#"template: t:1: bad number syntax: "1-2""#,
            ),
            (
                "define name",
                "{{ define x }}{{ end }}",
                r#"template: t:1: unexpected "x" in define clause"#,
            ),
            (
                "bad character",
                "{{ .a#b }}",
                "template: t:1: bad character U+0023 '#'",
            ),
            (
                "unexpected keyword",
                "{{ if else }}{{ end }}",
                "template: t:1: unexpected <else> in if",
            ),
            (
                "range only vars",
                "{{ range $a, 1 }}{{ end }}",
                "template: t:1: range can only initialize variables",
            ),
            (
                "integer overflow",
                "{{ 99999999999999999999 }}",
                r#"template: t:1: integer overflow: "99999999999999999999""#,
            ),
        ];
        for (name, text, want) in cases {
            let mut t = Templates::new(funcs());
            let got = t
                .parse("t", text)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_else(|| "no error".into());
            assert_eq!(&got, want, "case {name}: {text}");
        }
    }

    /// Text without `{{` runs to itself without being parsed (`Call::execute_go_bytes`'s
    /// shortcut), byte for byte, invalid UTF-8 included; text with one still runs.
    #[test]
    fn text_without_actions_runs_to_itself() {
        let mut f = FuncMap::new();
        f.insert_ctx("run", |c, a| {
            let text = a[0].go_str_bytes().unwrap_or_default().to_vec();
            c.execute_go_bytes("gotpl", &text, &a[1])
                .map(Value::from_go_bytes)
        });
        let cases: &[(&[u8], &[u8])] = &[
            (b"", b""),
            (b"plain text", b"plain text"),
            (b"braces { } }} {", b"braces { } }} {"),
            (
                b"<no value> stays for Helm to strip",
                b"<no value> stays for Helm to strip",
            ),
            (b"bad \xff byte", b"bad \xff byte"),
            (b"\xff{{ .n }}", b"\xff3"),
            (b"\xfe\xff", b"\xfe\xff"),
            (b"runs {{ .n }} {{- \"x\" }}", b"runs 3x"),
        ];
        for (text, want) in cases {
            let mut t = Templates::new(Rc::new(f.clone()));
            t.parse("main", "{{ run .text . }}")
                .unwrap_or_else(|e| panic!("{e}"));
            let data = Value::map_from(BTreeMap::from([
                ("text".to_string(), Value::from_go_bytes(text.to_vec())),
                ("n".to_string(), Value::Int(3)),
            ]));
            let got = t.execute_bytes("main", &data).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(got, *want, "{}", String::from_utf8_lossy(text));
        }
    }

    #[test]
    fn missing_key_error() {
        let mut t = Templates::new(funcs());
        t.set_missing_key_error(true);
        t.parse("t", "{{ .Values.zzz }}")
            .unwrap_or_else(|e| panic!("{e}"));
        let err = t.execute("t", &data()).err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(r#"template: t:1:10: executing "t" at <.Values.zzz>: map has no entry for key "zzz""#)
        );
    }

    #[test]
    fn define_override_order() {
        let mut t = Templates::new(funcs());
        let steps: &[(&str, &str, &str)] = &[
            ("a", r#"{{ define "x" }}one{{ end }}"#, "one"),
            ("b", r#"{{ define "x" }}two{{ end }}"#, "two"),
            ("c", r#"{{ define "x" }}  {{ end }}"#, "two"),
            ("main", r#"{{ template "x" }}"#, "two"),
        ];
        for (name, text, want) in steps {
            t.parse(name, text).unwrap_or_else(|e| panic!("{e}"));
            t.parse("main", r#"{{ template "x" }}"#)
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                t.execute("main", &Value::Nil).ok().as_deref(),
                Some(*want),
                "after {name}"
            );
        }
        assert!(t.has("x") && t.has("a") && !t.has("zz"));
        let err = t.execute("zz", &Value::Nil).err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(r#"template: no template "zz" associated with template "gotpl""#)
        );
    }

    #[test]
    fn error_accessors() {
        let err = render("{{ .Values.nul.y }}").err();
        assert!(err.is_some());
        let mut t = Templates::new(funcs());
        t.parse("t", "\n{{ .Values.nul.y }}")
            .unwrap_or_else(|e| panic!("{e}"));
        let e = t
            .execute("t", &data())
            .err()
            .unwrap_or_else(|| panic!("no error"));
        assert_eq!((e.template(), e.line(), e.col()), ("t", Some(2), Some(10)));
        assert_eq!(
            e.message(),
            r#"executing "t" at <.Values.nul.y>: nil pointer evaluating interface {}.y"#
        );
    }

    /// Go allows 100,000 nested `template` calls: runaway recursion ends in Go's depth error,
    /// and deep but finite recursion renders, through `template` and `include` alike, on a
    /// 2 MiB thread (the test harness's default) in a debug build.
    #[test]
    fn deep_recursion() {
        let h = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(|| {
                let runaway = render(r#"{{ define "r" }}{{ template "r" . }}{{ end }}{{ template "r" . }}"#);
                // Each level drops one character of dot: 5000 levels deep.
                let deep = |call: &str| {
                    let text = format!(
                        r#"{{{{ define "r" }}}}{{{{ if . }}}}x{{{{ {call} "r" (slice . 1) }}}}{{{{ end }}}}{{{{ end }}}}{{{{ {call} "r" . }}}}"#
                    );
                    let mut t = Templates::new(funcs());
                    t.parse("t", &text).map_err(|e| e.to_string())?;
                    t.execute("t", &Value::from("y".repeat(5000))).map_err(|e| e.to_string())
                };
                (runaway, deep("template"), deep("include"))
            })
            .unwrap_or_else(|e| panic!("{e}"));
        let (runaway, template, include) = h.join().unwrap_or_else(|_| panic!("recursion crashed"));
        let runaway = runaway.err().unwrap_or_default();
        assert!(
            runaway.contains("exceeded maximum template depth (100000)"),
            "{runaway}"
        );
        assert_eq!(template.map(|s| s.len()), Ok(5000), "template");
        assert_eq!(include.map(|s| s.len()), Ok(5000), "include");
    }

    /// Issue 20: ~7,700 nested `{{if}}`/`{{range}}`/`{{with}}` (or ~16,500 `{{else if}}`)
    /// overflowed the stack in the parser, the executor or the tree's drop, where Go renders
    /// them. 20,000 levels each, on a 2 MiB thread in a debug build.
    #[test]
    fn deep_control_nesting() {
        const N: usize = 20_000;
        let cases: Vec<(&str, String, String)> = vec![
            (
                "if",
                format!("{}x{}", "{{if 1}}".repeat(N), "{{end}}".repeat(N)),
                "x".into(),
            ),
            (
                "with",
                format!("{}{{{{.}}}}{}", "{{with 2}}".repeat(N), "{{end}}".repeat(N)),
                "2".into(),
            ),
            (
                "range",
                format!(
                    "{}{{{{$i}}}}{}",
                    "{{range $i := list 3}}".repeat(N),
                    "{{end}}".repeat(N)
                ),
                "3".into(),
            ),
            (
                "else if",
                format!(
                    "{{{{if 0}}}}{}{{{{else}}}}y{{{{end}}}}",
                    "{{else if 0}}".repeat(N)
                ),
                "y".into(),
            ),
            (
                "else with",
                format!(
                    "{{{{with 0}}}}{}{{{{else}}}}z{{{{end}}}}",
                    "{{else with 0}}".repeat(N)
                ),
                "z".into(),
            ),
            (
                "block",
                format!(
                    "{}b{}",
                    (0..N)
                        .map(|i| format!("{{{{block \"b{i}\" .}}}}"))
                        .collect::<String>(),
                    "{{end}}".repeat(N)
                ),
                "b".into(),
            ),
        ];
        let h = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                cases
                    .into_iter()
                    .map(|(name, text, want)| (name, render(&text), want))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_else(|e| panic!("{e}"));
        for (name, got, want) in h.join().unwrap_or_else(|_| panic!("deep nesting crashed")) {
            assert_eq!(got.as_deref(), Ok(want.as_str()), "{name}");
        }
    }

    /// Issue 20: a file of 100,000 `{{define}}`s took 14.7 s (Helm 0.37 s): each define looked
    /// its name up by a scan of the ones before it. Every define is kept, a repeated name
    /// still follows Go's rule.
    #[test]
    fn many_defines() {
        let text: String = (0..100_000)
            .map(|i| format!("{{{{define \"d{i}\"}}}}{i}{{{{end}}}}"))
            .chain([r#"{{template "d0"}}{{template "d99999"}}"#.to_string()])
            .collect();
        assert_eq!(render(&text).as_deref(), Ok("099999"));
        let dup = r#"{{define "a"}}1{{end}}{{define "b"}}{{end}}{{define "a"}}2{{end}}"#;
        assert_eq!(
            render(dup).err().as_deref(),
            Some(r#"template: t:1: template: multiple definition of template "a""#)
        );
    }

    /// Issue 20 (limits): a runaway loop's output stops at the limit with an error naming it
    /// and the action, instead of growing until the allocator aborts; text and action output
    /// both count, and output at the limit is fine.
    #[test]
    fn output_limit() {
        let cases = [
            ("text", "{{range .Values.l}}abcdefghij{{end}}", 25, Err("template: t:1:15: executing \"t\" at <.Values.l>: template output is over the limit of 25 bytes")),
            ("action", "{{range .Values.l}}{{.}}{{.}}{{.}}{{end}}", 5, Err("template: t:1:31: executing \"t\" at <.>: template output is over the limit of 5 bytes")),
            ("at limit", "{{range .Values.l}}abcdefghij{{end}}", 40, Ok("abcdefghij".repeat(4))),
        ];
        for (name, text, limit, want) in cases {
            let mut t = Templates::new(funcs());
            t.set_max_output(limit);
            t.parse("t", text).unwrap_or_else(|e| panic!("{name}: {e}"));
            let got = t.execute("t", &data()).map_err(|e| e.to_string());
            assert_eq!(got, want.map_err(String::from), "{name}");
        }
    }

    #[test]
    fn map_mutation_during_range() {
        let mut f = FuncMap::new();
        f.insert_simple("set", |a| {
            if let (Value::Map(m), Some(k)) = (&a[0], a[1].as_str()) {
                m.borrow_mut().insert(k.to_string(), a[2].clone());
            }
            Ok(a[0].clone())
        });
        let mut t = Templates::new(Rc::new(f));
        t.parse(
            "t",
            r#"{{ range $k, $v := . }}{{ $_ := set $ "new" 1 }}{{ $k }}{{ end }}{{ len . }}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let m: BTreeMap<String, Value> = [("a".to_string(), Value::Int(1))].into_iter().collect();
        assert_eq!(t.execute("t", &Value::map_from(m)).ok().as_deref(), Some("a2"));
    }
}
