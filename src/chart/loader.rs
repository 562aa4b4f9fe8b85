//! Turning a chart directory or archive into a [`Chart`]: Helm's `pkg/chart/loader`.
//!
//! Both sources first become a flat list of `(relative name, bytes)`; [`load_files`] then sorts
//! them into metadata, values, schema, templates, subcharts and plain files exactly as Helm's
//! `LoadFiles` does, because that split decides what `.Files` and the renderer see. A directory walk
//! follows symlinks, visits entries in byte order and applies `.helmignore`.

use std::{collections::BTreeMap, fs, path::Path};

use super::{archive, helmignore, metadata::Metadata, Chart, Error, File, Template};
use crate::gotemplate::Value;

const UTF8_BOM: &[u8] = &[0xEF, 0xBB, 0xBF];

/// A file read from a chart source, named relative to the chart root with `/` separators.
#[derive(Debug, Clone)]
pub struct BufferedFile {
    pub name: String,
    pub data: Vec<u8>,
}

/// Loads a chart directory (Helm's `LoadDir`).
pub fn load_dir(dir: &Path) -> Result<Chart, Error> {
    let ignore_path = dir.join(helmignore::HELM_IGNORE);
    let mut rules = if ignore_path.is_file() {
        let text =
            fs::read(&ignore_path).map_err(|e| Error::new(format!("{}: {e}", ignore_path.display())))?;
        helmignore::Rules::parse(&String::from_utf8_lossy(&text))
            .map_err(|e| Error::new(format!("{}: {e}", ignore_path.display())))?
    } else {
        helmignore::Rules::default()
    };
    rules.add_defaults();
    let mut files = Vec::new();
    walk(dir, "", &rules, &mut files, 0)?;
    load_files(files)
}

/// Symlinked directories could loop; Go would recurse until the OS refuses the path.
const MAX_DEPTH: usize = 64;

fn walk(
    dir: &Path,
    rel: &str,
    rules: &helmignore::Rules,
    out: &mut Vec<BufferedFile>,
    depth: usize,
) -> Result<(), Error> {
    if depth > MAX_DEPTH {
        return Err(Error::new(format!(
            "{}: too many levels of symbolic links",
            dir.display()
        )));
    }
    let read = fs::read_dir(dir).map_err(|e| Error::new(format!("{}: {e}", dir.display())))?;
    let mut names: Vec<std::ffi::OsString> = read.filter_map(|e| e.ok().map(|e| e.file_name())).collect();
    // Go sorts names as byte strings.
    names.sort_by(|a, b| a.as_encoded_bytes().cmp(b.as_encoded_bytes()));
    for name in names {
        let path = dir.join(&name);
        let name = name.to_string_lossy();
        let n = if rel.is_empty() {
            name.to_string()
        } else {
            format!("{rel}/{name}")
        };
        // Following symlinks: the target decides whether this is a directory.
        let meta = fs::metadata(&path)
            .map_err(|e| Error::new(format!("error evaluating symlink {}: {e}", path.display())))?;
        if meta.is_dir() {
            if rules.ignore(&n, true) {
                continue;
            }
            walk(&path, &n, rules, out, depth + 1)?;
            continue;
        }
        if rules.ignore(&n, false) {
            continue;
        }
        if !meta.is_file() {
            return Err(Error::new(format!(
                "cannot load irregular file {} as it has file mode type bits set",
                path.display()
            )));
        }
        let data = fs::read(&path).map_err(|e| Error::new(format!("error reading {n}: {e}")))?;
        let data = data.strip_prefix(UTF8_BOM).map(<[u8]>::to_vec).unwrap_or(data);
        out.push(BufferedFile { name: n, data });
    }
    Ok(())
}

/// Loads a chart archive file (Helm's `LoadFile`).
pub fn load_archive_path(path: &Path) -> Result<Chart, Error> {
    let name = path.display().to_string();
    let data = fs::read(path).map_err(|e| Error::new(format!("file '{name}' cannot be read: {e}")))?;
    archive::ensure_archive(&name, &data).map_err(Error::new)?;
    load_archive(&data)
}

/// Loads a chart from gzipped tar bytes (Helm's `LoadArchive`).
pub fn load_archive(data: &[u8]) -> Result<Chart, Error> {
    let files = archive::load_archive_files(data).map_err(Error::new)?;
    load_files(files)
}

/// Builds a chart from its files (Helm's `LoadFiles`).
pub fn load_files(files: Vec<BufferedFile>) -> Result<Chart, Error> {
    let mut metadata: Option<Metadata> = None;
    for f in &files {
        if f.name == "Chart.yaml" {
            let md = metadata.get_or_insert_with(Metadata::default);
            let doc = parse_yaml_doc(&f.data, "Chart.yaml")?;
            md.apply(&doc)
                .map_err(|e| Error::new(format!("cannot load Chart.yaml: {e}")))?;
            if md.api_version.is_empty() {
                md.api_version = "v1".into();
            }
        }
    }

    let mut chart = Chart::empty();
    let mut subcharts: BTreeMap<String, Vec<BufferedFile>> = BTreeMap::new();
    for f in files {
        let name = f.name.as_str();
        match name {
            "Chart.yaml" => {}
            "Chart.lock" => check_yaml(&f.data, "Chart.lock")?,
            "values.yaml" => {
                let text = String::from_utf8_lossy(&f.data);
                let v = crate::yaml::parse_values(&text, "values.yaml")
                    .map_err(|e| Error::new(format!("cannot load values.yaml: {e}")))?;
                chart.values = match v {
                    Value::Nil => Value::new_map(),
                    Value::Map(_) => v,
                    other => {
                        return Err(Error::new(format!(
                            "cannot load values.yaml: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                            go_json_kind(&other)
                        )))
                    }
                };
            }
            "values.schema.json" => {
                let schema: serde_json::Value = serde_json::from_slice(&f.data).map_err(|e| {
                    Error::new(format!("cannot load values.schema.json: line {}: {e}", e.line()))
                })?;
                chart.schema = Some((f.name.clone(), schema));
            }
            "requirements.yaml" => {
                let md = metadata.get_or_insert_with(Metadata::default);
                let doc = parse_yaml_doc(&f.data, "requirements.yaml")?;
                md.apply(&doc)
                    .map_err(|e| Error::new(format!("cannot load requirements.yaml: {e}")))?;
                chart.requirements = Some(md.dependencies.clone());
                if md.api_version == "v1" {
                    chart.files.push(File {
                        name: f.name,
                        data: f.data,
                    });
                }
            }
            "requirements.lock" => {
                check_yaml(&f.data, "requirements.lock")?;
                if metadata.as_ref().is_some_and(|m| m.api_version == "v1") {
                    chart.files.push(File {
                        name: f.name,
                        data: f.data,
                    });
                }
            }
            _ if name.starts_with("templates/") => chart.templates.push(Template {
                name: f.name,
                // Moved, not copied: most files are valid UTF-8, and validating is all it costs.
                text: std::rc::Rc::new(
                    String::from_utf8(f.data)
                        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
                ),
            }),
            _ if name.starts_with("charts/") => {
                if name.ends_with(".prov") {
                    chart.files.push(File {
                        name: f.name,
                        data: f.data,
                    });
                    continue;
                }
                let fname = name["charts/".len()..].to_string();
                let cname = fname.split('/').next().unwrap_or_default().to_string();
                subcharts.entry(cname).or_default().push(BufferedFile {
                    name: fname,
                    data: f.data,
                });
            }
            _ => chart.files.push(File {
                name: f.name,
                data: f.data,
            }),
        }
    }

    let Some(mut md) = metadata else {
        return Err(Error::new("Chart.yaml file is missing"));
    };
    md.validate().map_err(Error::new)?;
    chart.metadata = md;
    chart.crds = chart
        .files
        .iter()
        .filter(|f| f.name.starts_with("crds/") && has_manifest_extension(&f.name))
        .cloned()
        .collect();

    // Helm iterates a Go map here (random order); sorting by directory name keeps output stable.
    for (n, files) in subcharts {
        if n.starts_with('_') || n.starts_with('.') {
            continue;
        }
        let parent = chart.name().to_string();
        let wrap = |e: Error| Error::new(format!("error unpacking subchart {n} in {parent}: {}", e.message));
        let sub = if n.ends_with(".tgz") {
            let first = &files[0];
            if first.name != n {
                return Err(Error::new(format!(
                    "error unpacking subchart tar in {parent}: expected {n}, got {}",
                    first.name
                )));
            }
            load_archive(&first.data).map_err(wrap)?
        } else {
            let inner: Vec<BufferedFile> = files
                .into_iter()
                .filter_map(|f| {
                    let (_, rest) = f.name.split_once('/')?;
                    Some(BufferedFile {
                        name: rest.to_string(),
                        data: f.data,
                    })
                })
                .collect();
            load_files(inner).map_err(wrap)?
        };
        chart.dependencies.push(sub);
    }
    chart.set_parent_paths();
    Ok(chart)
}

fn parse_yaml_doc(data: &[u8], file: &str) -> Result<serde_json::Value, Error> {
    let text = String::from_utf8_lossy(data);
    // Integers must stay integers here: a string field gets `1` from `1`, but `1.1` from `1.10`.
    let docs = crate::yaml::parse_documents(&text, file)
        .map_err(|e| Error::new(format!("cannot load {file}: {e}")))?;
    Ok(docs.into_iter().next().unwrap_or(serde_json::Value::Null))
}

fn check_yaml(data: &[u8], file: &str) -> Result<(), Error> {
    parse_yaml_doc(data, file).map(|_| ())
}

fn go_json_kind(v: &Value) -> &'static str {
    match v {
        Value::Nil => "null",
        Value::Bool(_) => "bool",
        Value::Int(_) | Value::Int64(_) | Value::Float(_) => "number",
        Value::Str(_) | Value::BStr(_) | Value::Bytes(_) => "string",
        Value::List(_) => "array",
        Value::Map(_) | Value::Object(_) => "object",
    }
}

/// Helm's `hasManifestExtension`: `.yaml`, `.yml` or `.json`, case-insensitively.
fn has_manifest_extension(name: &str) -> bool {
    let base = name.rsplit('/').next().unwrap_or(name);
    match base.rfind('.') {
        Some(i) => {
            let ext = &base[i..];
            [".yaml", ".yml", ".json"]
                .iter()
                .any(|e| ext.eq_ignore_ascii_case(e))
        }
        None => false,
    }
}
