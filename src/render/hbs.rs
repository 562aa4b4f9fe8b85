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
//! - A missing value is an error (strict mode), and every error names the template, line and
//!   column, like the Go-template errors.

use std::{collections::BTreeMap, rc::Rc};

use handlebars::{
    Context, Handlebars, Helper, HelperResult, JsonRender, Output, RenderContext, RenderError,
    RenderErrorReason,
};
use serde_json::Value as Json;

use super::Error;
use crate::gotemplate::{Func, FuncMap, Source, Value};

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

/// Renders handlebars templates of one chart.
pub struct HbsChart {
    registry: Handlebars<'static>,
}

impl HbsChart {
    /// A registry with `partials` (full template path, text) registered, and the helpers.
    pub fn new(partials: &[(String, Source)], funcs: Rc<FuncMap>) -> Result<Self, Error> {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        registry.register_escape_fn(handlebars::no_escape);
        for (path, text) in partials {
            let name = partial_name(path).unwrap_or(path);
            registry
                .register_partial(name, &**text)
                .map_err(|e| template_error(path, &e.to_string(), None))?;
        }
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
                        let args: Vec<Value> = h
                            .params()
                            .iter()
                            .map(|p| Value::from_json(p.value(), true))
                            .collect();
                        match func(&args) {
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
        registry.register_helper(
            "include",
            Box::new(
                |h: &Helper<'_>,
                 r: &Handlebars<'_>,
                 ctx: &Context,
                 _: &mut RenderContext<'_, '_>,
                 out: &mut dyn Output|
                 -> HelperResult {
                    let name = h
                        .param(0)
                        .and_then(|p| p.value().as_str())
                        .ok_or_else(|| RenderErrorReason::Other("include needs a partial name".into()))?;
                    let data = h
                        .param(1)
                        .map_or_else(|| ctx.data().clone(), |p| p.value().clone());
                    let text = r
                        .render_template(&format!("{{{{> {name}}}}}"), &data)
                        .map_err(|e| RenderErrorReason::Other(format!("error calling include: {e}")))?;
                    // A partial file ends with a line break; as text to pipe into `nindent` it
                    // should not (Go charts get the same with `{{- define }}` trimming).
                    out.write(text.trim_end_matches('\n'))?;
                    Ok(())
                },
            ),
        );
        Ok(HbsChart { registry })
    }

    /// Renders one template with its chart's scope.
    pub fn render(&self, path: &str, text: &str, scope: &Value) -> Result<String, Error> {
        let context = to_context(scope);
        self.registry
            .render_template(text, &context)
            .map_err(|e: RenderError| {
                template_error(path, &e.reason().to_string(), e.line_no.zip(e.column_no))
            })
    }
}

fn template_error(path: &str, message: &str, at: Option<(usize, usize)>) -> Error {
    let location = match at {
        Some((line, col)) => format!("{path}:{line}:{col}"),
        None => path.to_string(),
    };
    Error::Template(format!("handlebars: {location}: {message}"))
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
                let map: BTreeMap<String, Json> =
                    fields.iter().map(|(k, v)| (k.clone(), to_context(v))).collect();
                Json::Object(map.into_iter().collect())
            }
        }
        // Values hold Go float64s; integral ones print without a fraction, as Go prints them.
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => Json::from(*f as i64),
        other => other.to_json(),
    }
}
