//! Stage 2 of the pipeline: the values a chart renders with, computed as `helm template` does.
//!
//! 1. [`merge_user_values`]: `-f` files and the `--set*` flags, in Helm's order (`MergeValues` in
//!    `pkg/cli/values/options.go`).
//! 2. [`resolve`]: dependency processing (conditions, tags, aliases, `import-values`) and
//!    coalescing user values over chart defaults, subchart defaults and globals.
//! 3. [`validate_schema`]: `values.schema.json` of the chart and every enabled subchart.
//!
//! Numbers from YAML or JSON are floats, `--set` integers are int64: templates see the difference
//! (`1` vs `1.0` formatting, `kindOf`), so the types are kept as Helm has them.

pub mod coalesce;
pub mod schema;
pub mod strvals;

use std::{fmt, io::Read};

use crate::{
    chart::Chart,
    gotemplate::{Map, Value},
};

pub use schema::validate_schema;

/// A values error; messages follow Helm's wording.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    pub message: String,
}

impl Error {
    pub fn new(message: impl Into<String>) -> Error {
        Error { message: message.into() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// The values flags of `helm template`/`install`/`upgrade`.
#[derive(Debug, Clone, Default)]
pub struct ValuesOptions {
    /// `-f/--values` files; `-` reads standard input.
    pub value_files: Vec<String>,
    /// `--set`
    pub set: Vec<String>,
    /// `--set-string`
    pub set_string: Vec<String>,
    /// `--set-file`
    pub set_file: Vec<String>,
    /// `--set-json`
    pub set_json: Vec<String>,
    /// `--set-literal`
    pub set_literal: Vec<String>,
}

/// Helm's `Options.MergeValues`: value files merged in order (maps deeply, later files win), then
/// `--set-json`, `--set`, `--set-string`, `--set-file`, `--set-literal` parsed into the result.
/// Remote (`http://`) value files are not supported: the name is read as a local path.
pub fn merge_user_values(opts: &ValuesOptions) -> Result<Value, Error> {
    let mut base = Value::new_map();
    for path in &opts.value_files {
        let data = read_file(path).map_err(Error::new)?;
        let text = String::from_utf8_lossy(&data);
        let current = crate::yaml::parse_values(&text, path)
            .map_err(|e| Error::new(format!("failed to parse {path}: {e}")))?;
        let current = match current {
            Value::Nil => Value::new_map(),
            m @ Value::Map(_) => m,
            _ => {
                return Err(Error::new(format!(
                    "failed to parse {path}: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go value of type map[string]interface {{}}"
                )))
            }
        };
        base = merge_maps(&base, &current);
    }
    let map: Map = base.as_map().cloned().unwrap_or_default();
    for v in &opts.set_json {
        strvals::parse_into(v, &map, strvals::Reader::Json)
            .map_err(|_| Error::new(format!("failed parsing --set-json data {v}")))?;
    }
    for v in &opts.set {
        strvals::parse_into(v, &map, strvals::Reader::Typed { strings: false })
            .map_err(|e| Error::new(format!("failed parsing --set data: {e}")))?;
    }
    for v in &opts.set_string {
        strvals::parse_into(v, &map, strvals::Reader::Typed { strings: true })
            .map_err(|e| Error::new(format!("failed parsing --set-string data: {e}")))?;
    }
    let read_value = |p: &str| -> Result<Value, String> {
        read_file(p).map(|d| Value::str(String::from_utf8_lossy(&d).into_owned()))
    };
    for v in &opts.set_file {
        strvals::parse_into(v, &map, strvals::Reader::File(&read_value))
            .map_err(|e| Error::new(format!("failed parsing --set-file data: {e}")))?;
    }
    for v in &opts.set_literal {
        strvals::parse_literal_into(v, &map)
            .map_err(|e| Error::new(format!("failed parsing --set-literal data: {e}")))?;
    }
    Ok(base)
}

/// Reads a values file, `-` being standard input; errors read like Go's `open NAME: ...`.
fn read_file(path: &str) -> Result<Vec<u8>, String> {
    if path.trim() == "-" {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf).map_err(|e| format!("read stdin: {e}"))?;
        return Ok(buf);
    }
    std::fs::read(path).map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => e.to_string(),
        };
        format!("open {path}: {why}")
    })
}

/// Helm's `mergeMaps` for value files: a new top-level map; nested maps merged into new maps;
/// anything else from `b` replaces.
pub fn merge_maps(a: &Value, b: &Value) -> Value {
    let mut out = a.as_map().map(|m| m.borrow().clone()).unwrap_or_default();
    if let Some(bm) = b.as_map() {
        for (k, v) in bm.borrow().iter() {
            if let (Value::Map(_), Some(existing @ Value::Map(_))) = (v, out.get(k)) {
                let merged = merge_maps(existing, v);
                out.insert(k.clone(), merged);
                continue;
            }
            out.insert(k.clone(), v.clone());
        }
    }
    Value::map_from(out)
}

/// Helm's `ProcessDependenciesWithMerge` followed by `CoalesceValues`: drops disabled subcharts,
/// applies aliases and `import-values`, then coalesces `user` over the chart's defaults (subchart
/// defaults under their names, `global` copied into every subchart, user `null` deleting a default).
/// Returns the chart with only enabled dependencies and the top chart's values tree.
pub fn resolve(mut chart: Chart, user: Value) -> Result<(Chart, Value), Error> {
    let user: Map = match user {
        Value::Map(m) => m,
        Value::Nil => Value::new_map().as_map().cloned().unwrap_or_default(),
        _ => return Err(Error::new("user values must be a map")),
    };
    coalesce::process_enabled(&mut chart, &user, "")?;
    coalesce::process_import_values(&mut chart)?;
    chart.set_parent_paths();
    let vals = coalesce::coalesce_values(&chart, Some(&user), false)?;
    Ok((chart, Value::Map(vals)))
}
