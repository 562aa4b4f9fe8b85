//! Stage 3: render a loaded chart with its resolved values, exactly as Helm's engine does.
//!
//! What Helm does, and so we do (helm v3.17 `pkg/engine/engine.go`):
//! - every template of the chart and of its enabled subcharts goes into ONE template set, named by its
//!   full path (`parent/charts/sub/templates/x.yaml`), parsed deepest paths first and, at equal depth,
//!   in reverse name order — so when two charts `define` the same name, the shallower (parent) wins;
//! - each chart's templates see their own scope: `.Values` is the chart's part of the values tree,
//!   `.Chart` its metadata, `.Files` its files; `.Release` and `.Capabilities` are shared;
//! - each scope (`.`, `$`), its `.Values` and `.Template` are `chartutil.Values` ([`Values`]): maps with
//!   Helm's methods (`.Values.YAML`, `.Values.Table "a.b"`...);
//! - `tpl` parses its text as a new template named like the set's root (`gotpl`) in a copy of the
//!   set, so its `define`s are its own and the caller's are never replaced;
//! - partials (`_*`) are parsed but not rendered; library charts contribute only partials;
//! - `<no value>` is removed from every output.
//!
//! Entry point: [`render`]. What it does not do: split or sort documents (that is `manifest`).

mod files;
mod funcs;
mod hbs;
mod not_text;
mod scope;
mod values;

pub use files::Files;
pub use funcs::{helm_funcs, Lookup, NoCluster, WARN_END, WARN_START};
pub use scope::{chart_value, Capabilities, ReleaseInfo, Struct, HELM_COMPAT_VERSION};
pub use values::Values;

use std::{collections::BTreeMap, rc::Rc};

use crate::chart::Chart;
use gotemplate::{Source, Templates, Value};

/// How to render.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// What `.Release` says.
    pub release: Option<ReleaseInfo>,
    /// What `.Capabilities` says.
    pub capabilities: Capabilities,
    /// Missing map keys are errors (Helm's `--strict` lint mode).
    pub strict: bool,
    /// Helm's lint mode (`helm lint`): `required` and `fail` log and render nothing instead of
    /// failing, and the chart's `kubeVersion` is not enforced, so that lint can go on to check
    /// everything else a chart renders.
    pub lint: bool,
    /// The process exits right after it uses the result (the binary's `template`): the parsed
    /// templates and every chart's scope are left to the OS instead of freed. Freeing those
    /// millions of small allocations one by one was a tenth of `template`'s time on large charts
    /// (perf: `drop_in_place` of AST nodes and values, `mi_free`). Anything that renders more
    /// than once in a process (tests, lint, benches) must leave it off: each render leaks.
    pub then_exit: bool,
}

/// The output of rendering: every non-partial template's text by full path.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    /// Rendered text by template path, e.g. `podinfo/templates/deployment.yaml` (NOTES.txt excluded).
    pub files: BTreeMap<String, String>,
    /// The top chart's rendered `NOTES.txt`, if it has one.
    pub notes: Option<String>,
}

/// A render failure, worded as Helm words it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A template does not parse.
    #[error("parse error at ({location}): {message}")]
    Parse {
        /// `chart/templates/x.yaml:LINE`
        location: String,
        /// What is wrong.
        message: String,
    },
    /// `required` or `fail` stopped the render.
    #[error("execution error at ({location}): {message}")]
    Execution {
        /// `chart/templates/x.yaml:LINE:COL`
        location: String,
        /// The chart author's message.
        message: String,
    },
    /// Any other execution error, in Go's words (`template: x.yaml:3:4: executing ...`).
    #[error("{0}")]
    Template(String),
    /// A rendered manifest is not UTF-8 text (a template printed `b64dec` or `.Files.Get` output
    /// as it is), so Helm's YAML reader refuses it; worded as Helm words it (go-yaml's reader
    /// gives no line; `line` and `bytes` say where, for callers).
    #[error("YAML parse error on {path}: error converting YAML to JSON: yaml: {message}")]
    NotText {
        /// `chart/templates/x.yaml`
        path: String,
        /// go-yaml's reason (`invalid leading UTF-8 octet`).
        message: &'static str,
        /// Line in the rendered file.
        line: usize,
        /// The offending bytes (`0xff`).
        bytes: String,
    },
    /// A chart file the loader deferred could not be read when a template asked for it where no
    /// error can be returned (`.Files.AsConfig`, printing the files); the render fails anyway.
    #[error("{0}")]
    ReadFile(String),
    /// The chart's `kubeVersion` does not admit the target cluster.
    #[error("chart requires kubeVersion: {required} which is incompatible with Kubernetes {actual}")]
    KubeVersion {
        /// The chart's constraint.
        required: String,
        /// The target version.
        actual: String,
    },
}

struct Renderable {
    text: Source,
    scope: Value,
    base_path: String,
}

/// Renders `chart` (already reduced to its enabled dependencies) with `values` (already coalesced).
pub fn render(
    chart: &Chart,
    values: &Value,
    opts: &RenderOptions,
    lookup: Rc<dyn Lookup>,
) -> Result<Rendered, Error> {
    let mut files = BTreeMap::new();
    let notes = render_each(chart, values, opts, lookup, |name, text| {
        files.insert(name, text);
    })?;
    Ok(Rendered { files, notes })
}

/// Like [`render`], but hands each rendered file to `sink` as soon as it is done (in Helm's
/// render order, not sorted), so the caller can overlap its own work (document parsing) with the
/// rendering of the next files. Returns the top chart's notes.
pub fn render_each(
    chart: &Chart,
    values: &Value,
    opts: &RenderOptions,
    lookup: Rc<dyn Lookup>,
    mut sink: impl FnMut(String, String),
) -> Result<Option<String>, Error> {
    let required = chart.metadata.kube_version.as_str();
    if !required.is_empty() && !opts.lint {
        let actual = &opts.capabilities.kube_version;
        if !crate::chart::is_compatible_range(required, actual) {
            return Err(Error::KubeVersion {
                required: required.to_string(),
                actual: actual.clone(),
            });
        }
    }
    let release = opts.release.clone().unwrap_or_else(|| ReleaseInfo {
        name: "release-name".into(),
        namespace: "default".into(),
        revision: 1,
        is_upgrade: false,
    });
    let shared = (release.to_value(), opts.capabilities.to_value());
    let mut tpls = BTreeMap::new();
    collect(chart, None, values, &shared, &mut tpls);

    // Parse order: more '/' first; equal depth in reverse byte order (Helm's sort.Reverse(byPathLen)).
    let mut names: Vec<&String> = tpls.keys().filter(|n| !hbs::is_hbs(n)).collect();
    names.sort_by(|a, b| {
        let (ca, cb) = (a.matches('/').count(), b.matches('/').count());
        cb.cmp(&ca).then_with(|| b.cmp(a))
    });

    let mut funcs = helm_funcs(lookup);
    if opts.lint {
        funcs::lint_mode(&mut funcs);
    }
    let funcs = Rc::new(funcs);
    let mut set = Templates::new(funcs.clone());
    set.set_missing_key_error(opts.strict);
    set.set_root_name(funcs::ROOT_TEMPLATE);
    for name in &names {
        set.parse_shared(name, tpls[*name].text.clone())
            .map_err(|e| parse_error(name, &e))?;
    }

    let mut notes = None;
    let mut not_text = None;
    let notes_name = format!("{}/templates/NOTES.txt", chart.name());
    for name in names {
        if name.rsplit('/').next().is_some_and(|base| base.starts_with('_')) {
            continue;
        }
        let r = &tpls[name];
        if let Some(m) = r.scope.as_map() {
            let template = BTreeMap::from([
                ("Name".to_string(), Value::str(name.as_str())),
                ("BasePath".to_string(), Value::str(r.base_path.as_str())),
            ]);
            // `.Template` is a `chartutil.Values` in Helm too.
            m.borrow_mut()
                .insert("Template".to_string(), Values::value(&Value::map_from(template)));
        }
        // Helm's renderable holds the scope as a `chartutil.Values` (`typeOf .`, `$`, and what
        // `include`/`tpl` pass on), while `.Subcharts` lists the same maps as plain maps.
        let out = set
            .execute_bytes(name, &Values::value(&r.scope))
            .map_err(|e| exec_error(&e))?;
        let text = match String::from_utf8(out) {
            Ok(text) => strip_no_value(text),
            // Helm fails on such a manifest only after rendering every file (a later render error
            // wins), and shows notes as they are.
            Err(e) => {
                let bytes = strip_no_value_bytes(e.into_bytes());
                if !name.ends_with("NOTES.txt") && not_text.is_none() {
                    not_text = not_text::reader_problem(&bytes).map(|p| Error::NotText {
                        path: name.clone(),
                        message: p.message,
                        line: p.line,
                        bytes: p.bytes,
                    });
                }
                Value::go_lossy(&bytes)
            }
        };
        if name.ends_with("NOTES.txt") {
            // Only the top chart's notes are shown (Helm's --render-subchart-notes is off by default).
            if *name == notes_name {
                notes = Some(text);
            }
            continue;
        }
        sink(name.clone(), text);
    }
    render_handlebars(&tpls, &funcs, &mut sink)?;
    if let Some(e) = chart.read_error() {
        return Err(Error::ReadFile(e.message.clone()));
    }
    if opts.then_exit {
        std::mem::forget(set);
        std::mem::forget(tpls);
    }
    match not_text {
        Some(e) => Err(e),
        None => Ok(notes),
    }
}

/// Renders the `*.hbs` templates (see [`hbs`]), each chart with its own partials.
fn render_handlebars(
    tpls: &BTreeMap<String, Renderable>,
    funcs: &Rc<gotemplate::FuncMap>,
    sink: &mut impl FnMut(String, String),
) -> Result<(), Error> {
    let mut charts: BTreeMap<&str, hbs::HbsChart> = BTreeMap::new();
    for (name, r) in tpls.iter().filter(|(n, _)| hbs::is_hbs(n)) {
        if name.rsplit('/').next().is_some_and(|base| base.starts_with('_')) {
            continue;
        }
        let chart = match charts.entry(r.base_path.as_str()) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => {
                let prefix = format!("{}/", r.base_path);
                let partials: Vec<(String, Source)> = tpls
                    .iter()
                    .filter(|(n, _)| hbs::is_hbs(n) && n.starts_with(&prefix))
                    .filter(|(n, _)| n.rsplit('/').next().is_some_and(|b| b.starts_with('_')))
                    .map(|(n, t)| (n.clone(), t.text.clone()))
                    .collect();
                e.insert(hbs::HbsChart::new(&partials, funcs.clone())?)
            }
        };
        let out_name = hbs::output_name(name);
        if let Some(m) = r.scope.as_map() {
            let template = BTreeMap::from([
                ("Name".to_string(), Value::str(out_name)),
                ("BasePath".to_string(), Value::str(r.base_path.as_str())),
            ]);
            // `.Template` is a `chartutil.Values` in Helm too.
            m.borrow_mut()
                .insert("Template".to_string(), Values::value(&Value::map_from(template)));
        }
        let text = chart.render(name, &r.text, &r.scope)?;
        sink(out_name.to_string(), text);
    }
    Ok(())
}

/// Walks the chart tree, building each chart's scope and registering its templates
/// (Helm's `recAllTpls`). Returns the chart's scope, which its parent lists under `.Subcharts`.
fn collect(
    chart: &Chart,
    parent_path: Option<&str>,
    values: &Value,
    shared: &(Value, Value),
    out: &mut BTreeMap<String, Renderable>,
) -> Value {
    let full_path = match parent_path {
        None => chart.name().to_string(),
        Some(p) => format!("{p}/charts/{}", chart.name()),
    };
    let files = Files::new(chart.files.iter().map(|f| (f.name.as_str(), f.data.clone())));
    let subcharts = Value::new_map();
    let scope = BTreeMap::from([
        (
            "Chart".to_string(),
            chart_value(&chart.metadata, parent_path.is_none()),
        ),
        ("Files".to_string(), files.into_value()),
        ("Release".to_string(), shared.0.clone()),
        ("Capabilities".to_string(), shared.1.clone()),
        // Each chart's `.Values` is a `chartutil.Values` (the subchart's over its part of the tree).
        ("Values".to_string(), Values::value(values)),
        ("Subcharts".to_string(), subcharts.clone()),
    ]);
    let scope = Value::map_from(scope);
    for dep in &chart.dependencies {
        // A subchart sees `.Values.<name>` of its parent, or an empty map when that is not a map.
        let sub_values = values
            .as_map()
            .and_then(|m| m.borrow().get(dep.name()).cloned())
            .filter(|v| matches!(v, Value::Map(_)))
            .unwrap_or_else(Value::new_map);
        let sub_scope = collect(dep, Some(&full_path), &sub_values, shared, out);
        if let Some(m) = subcharts.as_map() {
            m.borrow_mut().insert(dep.name().to_string(), sub_scope);
        }
    }
    let library = chart.is_library();
    for t in &chart.templates {
        let base = t.name.rsplit('/').next().unwrap_or(&t.name);
        if library && !base.starts_with('_') {
            continue;
        }
        out.insert(
            format!("{full_path}/{}", t.name),
            Renderable {
                text: t.text.clone(),
                scope: scope.clone(),
                base_path: format!("{full_path}/templates"),
            },
        );
    }
    scope
}

/// Removes Go's `<no value>` markers (Helm strips them from every output). Most outputs have none,
/// so look with a SIMD search first and keep the string when there is nothing to do.
pub(crate) fn strip_no_value(text: String) -> String {
    if memchr::memmem::find(text.as_bytes(), NO_VALUE.as_bytes()).is_none() {
        return text;
    }
    text.replace(NO_VALUE, "")
}

/// [`strip_no_value`] over output that need not be UTF-8 (Helm's `strings.ReplaceAll` works on
/// bytes).
pub(crate) fn strip_no_value_bytes(out: Vec<u8>) -> Vec<u8> {
    let finder = memchr::memmem::Finder::new(NO_VALUE);
    if finder.find(&out).is_none() {
        return out;
    }
    let mut kept = Vec::with_capacity(out.len());
    let mut last = 0;
    for at in finder.find_iter(&out) {
        kept.extend_from_slice(&out[last..at]);
        last = at + NO_VALUE.len();
    }
    kept.extend_from_slice(&out[last..]);
    kept
}

/// What Go prints for a missing value, which Helm strips from every output.
const NO_VALUE: &str = "<no value>";

fn parse_error(name: &str, e: &gotemplate::Error) -> Error {
    let location = match e.line() {
        Some(line) => format!("{}:{line}", e.template()),
        None => name.to_string(),
    };
    // Helm keeps only the last of the `: `-separated parts (`cleanupParseError`), so
    // `illegal number syntax: "1e400"` reads `"1e400"`.
    let message = e.message();
    Error::Parse {
        location,
        message: message.rsplit(": ").next().unwrap_or(message).to_string(),
    }
}

fn exec_error(e: &gotemplate::Error) -> Error {
    let text = e.to_string();
    if let (Some(start), Some(end)) = (text.find(WARN_START), text.rfind(WARN_END)) {
        if start < end {
            let location = match (e.line(), e.col()) {
                (Some(l), Some(c)) => format!("{}:{l}:{c}", e.template()),
                (Some(l), None) => format!("{}:{l}", e.template()),
                _ => e.template().to_string(),
            };
            let message = text[start + WARN_START.len()..end].to_string();
            return Error::Execution { location, message };
        }
    }
    Error::Template(text)
}
