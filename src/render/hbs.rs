//! Handlebars as a second, logic-less template language: a template under `templates/` named
//! `*.hbs` (e.g. `deployment.yaml.hbs`) is rendered with handlebars in strict mode; every other
//! template keeps Go-template semantics, so existing charts render exactly as before.
//!
//! - Context: the same scope Go templates get — `Values`, `Release`, `Chart`, `Capabilities`,
//!   `Files` (path → text), `Template` — with the same values (coalescing already done).
//! - Partials: `templates/_NAME.hbs` is the partial `NAME` (`{{> NAME}}`, or `include "NAME" ctx`
//!   to get its text for piping into `nindent`).
//! - Helpers call the very functions Go templates use (`toYaml`, `indent`, `nindent`, `quote`,
//!   `default`, `required`, `b64enc`, `sha256sum`, `eq`, `ne`, `and`, `or`, `not`,
//!   `semverCompare`), so both languages format values identically.
//! - A missing value is an error (strict mode), also as a helper's argument, except as the last
//!   argument of `default` and `required`, which exist to handle it (and `#if`/`#unless`, which
//!   test for it). Every error is one line naming the template (or partial) file, line and column,
//!   like the Go-template errors.

use std::{collections::BTreeMap, rc::Rc, sync::Arc};

use handlebars::{
    Context, Handlebars, Helper, HelperResult, JsonRender, Output, RenderContext, RenderError,
    RenderErrorReason,
};
use serde_json::Value as Json;

use super::Error;
use gotemplate::{Func, FuncMap, Source, Value};

/// Go-template functions offered as handlebars helpers, by the same names.
const HELPERS: &[&str] = &[
    "toYaml",
    "indent",
    "nindent",
    "quote",
    "default",
    "required",
    "b64enc",
    "sha256sum",
    "eq",
    "ne",
    "and",
    "or",
    "not",
    "semverCompare",
];

/// Whether `name` (a template path) is a handlebars template.
pub fn is_hbs(name: &str) -> bool {
    name.ends_with(".hbs")
}

/// The output name of a handlebars template: the path without `.hbs`.
pub fn output_name(name: &str) -> &str {
    name.strip_suffix(".hbs").unwrap_or(name)
}

/// The partial name of `templates/_NAME.hbs`, if `name` is one.
fn partial_name(name: &str) -> Option<&str> {
    let base = name.rsplit('/').next()?;
    base.strip_prefix('_')?.strip_suffix(".hbs")
}

/// Refuses an `indent`/`nindent` whose text would be over [`gotemplate::json::MAX_TEXT`] (the bound of
/// `toYaml`), before anything is made: a helper's text is copied three times on its way out (a
/// JSON value, its text, the output), so `{{nindent 1000000000 "x"}}` took 5.7 GB. Its length is
/// known from the arguments; the other helpers make text near the size of what they are given.
fn check_size(helper: &str, args: &[Value]) -> Result<(), String> {
    let lead = match helper {
        "indent" => "",
        "nindent" => "\n",
        _ => return Ok(()),
    };
    let count = match args.first() {
        Some(Value::Int(n) | Value::Int64(n)) => *n,
        // Go converts a float64 count to int (the helper gets JSON numbers).
        Some(Value::Float(f)) => *f as i64,
        _ => return Ok(()),
    };
    let (Ok(count), Some(text)) = (u64::try_from(count), args.get(1).and_then(Value::as_str)) else {
        return Ok(());
    };
    match gotemplate::sprig::indented_len(count, text.as_bytes(), lead) {
        Some(len) if len <= gotemplate::json::MAX_TEXT as u64 => Ok(()),
        _ => Err(gotemplate::json::TooLong {
            limit: gotemplate::json::MAX_TEXT,
        }
        .to_string()),
    }
}

/// Helpers whose last argument may be missing: handling a missing value is what they are for.
const TAKES_MISSING: &[&str] = &["default", "required"];

/// Partial name → its file (`templates/_labels.hbs`), to name files in errors.
type PartialFiles = Arc<BTreeMap<String, String>>;

/// Renders handlebars templates of one chart.
pub struct HbsChart {
    registry: Handlebars<'static>,
    partial_files: PartialFiles,
}

/// The error when a helper argument names a value that does not exist (strict mode only checks
/// values printed directly, not those passed to helpers).
fn check_params(h: &Helper<'_>, helper: &str) -> Result<(), RenderError> {
    let params = h.params();
    let exempt = TAKES_MISSING.contains(&helper);
    for (i, p) in params.iter().enumerate() {
        if p.is_value_missing() && !(exempt && i + 1 == params.len()) {
            return Err(RenderErrorReason::MissingVariable(p.relative_path().cloned()).into());
        }
    }
    Ok(())
}

impl HbsChart {
    /// A registry with `partials` (full template path, text) registered, and the helpers.
    pub fn new(partials: &[(String, Source)], funcs: Rc<FuncMap>) -> Result<Self, Error> {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        registry.register_escape_fn(handlebars::no_escape);
        let mut files = BTreeMap::new();
        for (path, text) in partials {
            let name = partial_name(path).unwrap_or(path);
            files.insert(name.to_string(), path.clone());
            registry
                .register_partial(name, &**text)
                .map_err(|e| Error::Template(format!("handlebars: {}", describe_template_error(path, &e))))?;
        }
        check_partial_cycles(partials)?;
        let partial_files: PartialFiles = Arc::new(files);
        for name in HELPERS {
            // Handlebars helpers must be Send + Sync: only plain functions qualify, which all of
            // these are.
            let Some(Func::Simple(func)) = funcs.get(name).cloned() else {
                continue;
            };
            let helper_name = name.to_string();
            registry.register_helper(
                name,
                Box::new(
                    move |h: &Helper<'_>,
                          _: &Handlebars<'_>,
                          _: &Context,
                          _: &mut RenderContext<'_, '_>,
                          out: &mut dyn Output|
                          -> HelperResult {
                        check_params(h, &helper_name)?;
                        let args: Vec<Value> = h
                            .params()
                            .iter()
                            .map(|p| Value::from_json(p.value(), true))
                            .collect();
                        match check_size(&helper_name, &args).and_then(|()| func(&args)) {
                            Ok(v) => out.write(&json_text(&v.to_json()))?,
                            Err(msg) => {
                                let msg = msg.replace(super::WARN_START, "").replace(super::WARN_END, "");
                                return Err(RenderErrorReason::Other(format!(
                                    "error calling {helper_name}: {msg}"
                                ))
                                .into());
                            }
                        }
                        Ok(())
                    },
                ),
            );
        }
        let files = partial_files.clone();
        registry.register_helper(
            "include",
            Box::new(
                move |h: &Helper<'_>,
                      r: &Handlebars<'_>,
                      ctx: &Context,
                      _: &mut RenderContext<'_, '_>,
                      out: &mut dyn Output|
                      -> HelperResult {
                    check_params(h, "include")?;
                    let name = h
                        .param(0)
                        .and_then(|p| p.value().as_str())
                        .ok_or_else(|| RenderErrorReason::Other("include needs a partial name".into()))?;
                    let data = h
                        .param(1)
                        .map_or_else(|| ctx.data().clone(), |p| p.value().clone());
                    let text = r
                        .render_template(&format!("{{{{> {name}}}}}"), &data)
                        .map_err(|e| {
                            let inner = describe_render_error(None, &e, &files);
                            RenderErrorReason::Other(format!("error calling include: {inner}"))
                        })?;
                    // A partial file ends with a line break; as text to pipe into `nindent` it
                    // should not (Go charts get the same with `{{- define }}` trimming).
                    out.write(text.trim_end_matches('\n'))?;
                    Ok(())
                },
            ),
        );
        Ok(HbsChart {
            registry,
            partial_files,
        })
    }

    /// Renders one template with its chart's scope.
    pub fn render(&self, path: &str, text: &str, scope: &Value) -> Result<String, Error> {
        let context = to_context(scope);
        self.registry
            .render_template(text, &context)
            .map_err(|e: RenderError| {
                Error::Template(format!(
                    "handlebars: {}",
                    describe_render_error(Some(path), &e, &self.partial_files)
                ))
            })
    }
}

/// Refuses partials that include each other (`_a.hbs` has `{{> b}}`, `_b.hbs` has `{{> a}}`,
/// or the same through `include`): handlebars refuses only a partial naming itself and
/// overflows the stack on a longer loop. Logic-less templates have no condition that could end
/// such a loop, so a cycle in the references is always an error, named with its files.
fn check_partial_cycles(partials: &[(String, Source)]) -> Result<(), Error> {
    use std::collections::HashMap;
    // `{{> name}}`, `{{~> name}}`, `{{#> name}}` and `include "name"` (the Go-template-style
    // helper); names made at render time (`{{> (lookup ...)}}`) are not seen here.
    static PARTIAL_REF: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"\{\{~?#?>\s*([^\s}~()]+)|\binclude\s+"([^"]+)""#).expect("static regex")
    });
    let re = &*PARTIAL_REF;
    let mut refs: HashMap<&str, (Vec<String>, &str)> = HashMap::new();
    for (path, text) in partials {
        let name = partial_name(path).unwrap_or(path);
        let names = re
            .captures_iter(text)
            .filter_map(|c| c.get(1).or(c.get(2)).map(|m| m.as_str().to_string()))
            .collect();
        refs.insert(name, (names, path));
    }
    // Depth-first with an explicit stack: 0 unvisited, 1 on the path, 2 done.
    let mut state: HashMap<&str, u8> = HashMap::new();
    let mut names: Vec<&str> = refs.keys().copied().collect();
    names.sort_unstable();
    for start in names {
        if state.contains_key(start) {
            continue;
        }
        let mut path: Vec<(&str, usize)> = vec![(start, 0)];
        state.insert(start, 1);
        while let Some(&mut (node, ref mut next)) = path.last_mut() {
            let targets = refs.get(node).map(|(t, _)| t.as_slice()).unwrap_or_default();
            let Some(target) = targets.get(*next) else {
                state.insert(node, 2);
                path.pop();
                continue;
            };
            *next += 1;
            let Some((target, _)) = refs.get_key_value(target.as_str()) else {
                continue;
            };
            match state.get(target) {
                Some(1) => {
                    let from = path.iter().position(|(n, _)| n == target).unwrap_or(0);
                    let chain: Vec<&str> = path[from..].iter().map(|(n, _)| *n).chain([*target]).collect();
                    let file = refs.get(target).map_or("", |(_, f)| f);
                    return Err(Error::Template(format!(
                        "handlebars: {file}: partials include each other: {}",
                        chain.join(" → ")
                    )));
                }
                Some(_) => {}
                None => {
                    state.insert(target, 1);
                    path.push((target, 0));
                }
            }
        }
    }
    Ok(())
}

/// `FILE:LINE:COL: MESSAGE` on one line. `path` names the template being rendered (`None` for
/// the text `include` renders, whose positions mean nothing to the user); an error raised inside
/// a partial names the partial's file instead (handlebars records the partial's name; the
/// template rendered from text it calls "Unnamed").
fn describe_render_error(path: Option<&str>, e: &RenderError, partials: &BTreeMap<String, String>) -> String {
    let file_of = |name: Option<&String>| name.and_then(|n| partials.get(n)).map(String::as_str).or(path);
    if let RenderErrorReason::TemplateError(te) = e.reason() {
        return match file_of(te.name()) {
            Some(file) => describe_template_error(file, te),
            None => describe_template_error("", te),
        };
    }
    let message = describe_reason(e.reason());
    match (file_of(e.template_name.as_ref()), e.line_no, e.column_no) {
        (Some(file), Some(line), Some(col)) => format!("{file}:{line}:{col}: {message}"),
        (Some(file), _, _) => format!("{file}: {message}"),
        (None, _, _) => message,
    }
}

/// A parse error on one line: handlebars's own text spans several lines (a source excerpt, the
/// template called "Unnamed") and lists every token the grammar expected.
fn describe_template_error(file: &str, te: &handlebars::TemplateError) -> String {
    use handlebars::TemplateErrorReason as T;
    let message = match te.reason() {
        T::InvalidSyntax(_) => "invalid handlebars syntax".to_string(),
        other => other.to_string(),
    };
    match te.pos() {
        _ if file.is_empty() => message,
        Some((line, col)) => format!("{file}:{line}:{col}: {message}"),
        None => format!("{file}: {message}"),
    }
}

/// A render error's reason in words, without Rust debug text.
fn describe_reason(reason: &RenderErrorReason) -> String {
    match reason {
        RenderErrorReason::MissingVariable(Some(path)) => format!("missing value {path}"),
        RenderErrorReason::MissingVariable(None) => "missing value".into(),
        RenderErrorReason::PartialNotFound(name) => format!("partial {name:?} not found"),
        RenderErrorReason::HelperNotFound(name) => format!("helper {name:?} not found"),
        RenderErrorReason::TemplateNotFound(name) => format!("template {name:?} not found"),
        RenderErrorReason::NestedError(e) => e.to_string(),
        other => other.to_string(),
    }
}

/// What a helper's result prints as: strings raw, everything else as JSON text.
fn json_text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        other => other.render(),
    }
}

/// The scope as handlebars data: Go structs become maps of their Go field names (so
/// `Chart.Name` and `Capabilities.KubeVersion.Version` read as in Go templates), `.Files`
/// becomes a map of path to text.
fn to_context(v: &Value) -> Json {
    match v {
        Value::Map(m) => Json::Object(
            m.borrow()
                .iter()
                .map(|(k, v)| (k.clone(), to_context(v)))
                .collect(),
        ),
        Value::List(l) => Json::Array(l.iter().map(to_context).collect()),
        Value::Bytes(b) => Json::String(String::from_utf8_lossy(b).into_owned()),
        Value::Object(o) => {
            let fields = o.fields();
            if fields.is_empty() {
                o.to_plain()
                    .map_or(Json::Object(Default::default()), |p| to_context(&p))
            } else {
                let mut map: BTreeMap<String, Json> = BTreeMap::new();
                for (k, v) in &fields {
                    let value = to_context(v);
                    // An embedded struct's fields read as the embedding one's (`Chart.Name`).
                    if let (true, Json::Object(promoted)) = (o.is_embedded(k), &value) {
                        for (pk, pv) in promoted {
                            map.entry(pk.clone()).or_insert_with(|| pv.clone());
                        }
                    }
                    map.insert(k.clone(), value);
                }
                Json::Object(map.into_iter().collect())
            }
        }
        // Values hold Go float64s; integral ones print without a fraction, as Go prints them.
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => Json::from(*f as i64),
        other => other.to_json(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "c/templates/cm.yaml.hbs";

    /// Renders `text` as `c/templates/cm.yaml.hbs` with the partial `templates/_labels.hbs`.
    fn render(text: &str, partial: &str) -> Result<String, String> {
        let funcs = Rc::new(super::super::helm_funcs(Rc::new(super::super::NoCluster)));
        let partials = [(
            "c/templates/_labels.hbs".to_string(),
            Rc::new(partial.to_string()),
        )];
        let chart = HbsChart::new(&partials, funcs).map_err(|e| e.to_string())?;
        let scope = Value::from_json(
            &serde_json::json!({"Values": {"name": "web", "empty": ""}}),
            false,
        );
        chart.render(FILE, text, &scope).map_err(|e| e.to_string())
    }

    /// `.Chart` embeds its metadata (`struct { chart.Metadata; IsRoot bool }`): handlebars sees
    /// the promoted fields at the top, as Go's selectors do, and the embedded struct by name.
    #[test]
    fn embedded_chart_metadata_reads_flat() {
        let meta = crate::chart::Metadata {
            name: "web".into(),
            version: "1.0.0".into(),
            ..Default::default()
        };
        let ctx = to_context(&super::super::chart_value(&meta, true));
        let cases = [
            ("/Name", Json::from("web")),
            ("/Version", Json::from("1.0.0")),
            ("/IsRoot", Json::from(true)),
            ("/Metadata/Name", Json::from("web")),
        ];
        for (pointer, want) in cases {
            assert_eq!(ctx.pointer(pointer), Some(&want), "{pointer}");
        }
        assert_eq!(
            ctx.pointer("/Metadata/IsRoot"),
            None,
            "IsRoot is not the metadata's"
        );
    }

    /// Issue 20: handlebars partials including each other overflowed the stack. A loop of
    /// references, through `{{> }}` or `include`, is refused when the chart's partials are
    /// registered, naming a file and the loop; shared (not looping) partials are fine.
    #[test]
    fn partials_including_each_other() {
        let funcs = Rc::new(super::super::helm_funcs(Rc::new(super::super::NoCluster)));
        type Case = (
            &'static str,
            &'static [(&'static str, &'static str)],
            Result<(), &'static str>,
        );
        let cases: [Case; 5] = [
            (
                "pair",
                &[("_a.hbs", "{{> b}}"), ("_b.hbs", "x{{~> a}}")],
                Err("handlebars: c/templates/_a.hbs: partials include each other: a → b → a"),
            ),
            (
                "self",
                &[("_a.hbs", "{{#if x}}{{> a}}{{/if}}")],
                Err("partials include each other: a → a"),
            ),
            (
                "include",
                &[
                    ("_a.hbs", "{{> b}}"),
                    ("_b.hbs", "{{> c}}"),
                    ("_c.hbs", "{{nindent 2 (include \"a\" this)}}"),
                ],
                Err("partials include each other: a → b → c → a"),
            ),
            (
                "shared",
                &[
                    ("_a.hbs", "{{> c}}{{> b}}"),
                    ("_b.hbs", "{{> c}}"),
                    ("_c.hbs", "c"),
                ],
                Ok(()),
            ),
            ("unknown", &[("_a.hbs", "{{> nope}}")], Ok(())),
        ];
        for (name, files, want) in cases {
            let partials: Vec<(String, Source)> = files
                .iter()
                .map(|(f, t)| (format!("c/templates/{f}"), Rc::new(t.to_string())))
                .collect();
            let got = HbsChart::new(&partials, funcs.clone())
                .map(|_| ())
                .map_err(|e| e.to_string());
            match (want, got) {
                (Ok(()), Ok(())) => {}
                (Err(w), Err(g)) => assert!(g.contains(w), "{name}: {g}"),
                (w, g) => panic!("{name}: want {w:?}, got {g:?}"),
            }
        }
    }

    #[test]
    fn values_and_helpers() {
        let cases: &[(&str, &str, &str)] = &[
            ("plain value", "a: {{Values.name}}", "a: web"),
            ("helper", "a: {{quote Values.name}}", "a: \"web\""),
            (
                "default takes a missing value",
                "a: {{default \"d\" Values.nope}}",
                "a: d",
            ),
            (
                "if tests for a missing value",
                "a: {{#if Values.nope}}x{{else}}y{{/if}}",
                "a: y",
            ),
            ("include", "a: {{include \"labels\" this}}", "a: app: web"),
        ];
        for (name, text, want) in cases {
            assert_eq!(
                render(text, "app: {{Values.name}}\n").as_deref(),
                Ok(*want),
                "{name}"
            );
        }
    }

    #[test]
    fn errors_are_one_line_naming_file_line_column() {
        let good = "app: {{Values.name}}\n";
        let cases: &[(&str, &str, &str, &str)] = &[
            (
                "missing value printed",
                "a: 1\nb: {{Values.nope}}\n",
                good,
                "c/templates/cm.yaml.hbs:2:4: missing value Values.nope",
            ),
            (
                "missing value passed to a helper",
                "a: 1\nb: {{nindent 4 Values.nope}}\n",
                good,
                "c/templates/cm.yaml.hbs:2:4: missing value Values.nope",
            ),
            (
                "missing value in a subexpression",
                "a: {{quote (toYaml Values.a.b)}}\n",
                good,
                "c/templates/cm.yaml.hbs:1:4: missing value Values.a.b",
            ),
            (
                "missing default itself",
                "a: {{default Values.nope \"x\"}}\n",
                good,
                "c/templates/cm.yaml.hbs:1:4: missing value Values.nope",
            ),
            (
                "required fails with its message",
                "a: {{required \"name2 is required\" Values.name2}}\n",
                good,
                "c/templates/cm.yaml.hbs:1:4: error calling required: name2 is required",
            ),
            // Issue 20: this took 5.7 GB; refused from its arguments before anything is made.
            (
                "nindent a billion",
                "a: 1\nb: {{nindent 1000000000 \"x\"}}\n",
                good,
                "c/templates/cm.yaml.hbs:2:4: error calling nindent: the text would be over 256 MiB, \
                 the limit on one function's output",
            ),
            (
                "indent in a partial",
                "a: {{> labels}}\n",
                "{{indent 300000000 \"x\"}}",
                "c/templates/_labels.hbs:1:1: error calling indent: the text would be over 256 MiB, \
                 the limit on one function's output",
            ),
            (
                "unknown helper",
                "a: {{nohelper 1}}\n",
                good,
                "c/templates/cm.yaml.hbs:1:4: helper \"nohelper\" not found",
            ),
            (
                "unknown partial",
                "a: {{> nope}}\n",
                good,
                "c/templates/cm.yaml.hbs:1:4: partial \"nope\" not found",
            ),
            (
                "include of an unknown partial",
                "a: {{include \"nope\" this}}\n",
                good,
                "c/templates/cm.yaml.hbs:1:4: error calling include: partial \"nope\" not found",
            ),
            (
                "missing value inside a partial",
                "a:\n  {{> labels}}\n",
                "app: {{Values.name}}\nx: {{Values.nope}}\n",
                "c/templates/_labels.hbs:2:4: missing value Values.nope",
            ),
            (
                "missing value inside an included partial",
                "a: {{include \"labels\" this}}\n",
                "app: {{Values.name}}\nx: {{Values.nope}}\n",
                "c/templates/cm.yaml.hbs:1:4: error calling include: c/templates/_labels.hbs:2:4: missing value Values.nope",
            ),
            (
                "mismatched block",
                "a: {{#if Values.name}}\n{{/each}}\n",
                good,
                "c/templates/cm.yaml.hbs:2:1: helper \"if\" was opened, but \"each\" is closing",
            ),
            ("bad syntax", "a: {{#if}}\n", good, "c/templates/cm.yaml.hbs:2:1: invalid handlebars syntax"),
            ("bad syntax in a partial", "a: 1\n", "x: {{#if}}\n", "c/templates/_labels.hbs:2:1: invalid handlebars syntax"),
        ];
        for (name, text, partial, want) in cases {
            let got = render(text, partial).expect_err(name);
            assert_eq!(got, format!("handlebars: {want}"), "{name}");
            assert!(!got.contains('\n'), "{name}: several lines: {got}");
        }
    }
}
