//! Turning a chart directory or archive into a [`Chart`]: Helm's `pkg/chart/loader`.
//!
//! Both sources first become a flat list of `(relative name, bytes)`; [`load_files`] then sorts
//! them into metadata, values, schema, templates, subcharts and plain files exactly as Helm's
//! `LoadFiles` does, because that split decides what `.Files` and the renderer see. A directory walk
//! follows symlinks, visits entries in byte order and applies `.helmignore`.

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
    sync::atomic::{AtomicUsize, Ordering},
};

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
    load_files(read_dir_files(dir)?)
}

/// The files of a chart directory as Helm's `LoadDir` collects them: `.helmignore` applied,
/// byte order, BOMs stripped. Packaging writes exactly these.
pub fn read_dir_files(dir: &Path) -> Result<Vec<BufferedFile>, Error> {
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
    let mut found = Vec::new();
    let walked = walk(dir, "", &rules, &mut found, 0);
    // Every file the walk found comes before the place where it stopped, so a read error of one
    // of them is what a walk that reads as it goes would have met first.
    let files = read_all(found)?;
    walked?;
    Ok(files)
}

/// A file the walk kept, to be read.
struct Found {
    name: String,
    path: PathBuf,
}

/// Symlinked directories could loop; Go would recurse until the OS refuses the path.
const MAX_DEPTH: usize = 64;

fn walk(
    dir: &Path,
    rel: &str,
    rules: &helmignore::Rules,
    out: &mut Vec<Found>,
    depth: usize,
) -> Result<(), Error> {
    if depth > MAX_DEPTH {
        return Err(Error::new(format!(
            "{}: too many levels of symbolic links",
            dir.display()
        )));
    }
    let read = fs::read_dir(dir).map_err(|e| Error::new(format!("{}: {e}", dir.display())))?;
    let mut entries: Vec<(std::ffi::OsString, fs::DirEntry)> =
        read.filter_map(Result::ok).map(|e| (e.file_name(), e)).collect();
    // Go sorts names as byte strings.
    entries.sort_by(|(a, _), (b, _)| a.as_encoded_bytes().cmp(b.as_encoded_bytes()));
    for (name, entry) in entries {
        let path = entry.path();
        let name = name.to_string_lossy();
        let n = if rel.is_empty() {
            name.to_string()
        } else {
            format!("{rel}/{name}")
        };
        // Following symlinks: the target decides whether this is a directory. Other entries' type
        // comes with the directory listing, which saves a stat per file (hundreds on big charts).
        let symlink_error =
            |e: std::io::Error| Error::new(format!("error evaluating symlink {}: {e}", path.display()));
        let mut kind = entry.file_type().map_err(symlink_error)?;
        if kind.is_symlink() {
            kind = fs::metadata(&path).map_err(symlink_error)?.file_type();
        }
        if kind.is_dir() {
            if rules.ignore(&n, true) {
                continue;
            }
            walk(&path, &n, rules, out, depth + 1)?;
            continue;
        }
        if rules.ignore(&n, false) {
            continue;
        }
        if !kind.is_file() {
            return Err(Error::new(format!(
                "cannot load irregular file {} as it has file mode type bits set",
                path.display()
            )));
        }
        out.push(Found { name: n, path });
    }
    Ok(())
}

/// Below this many files a second thread costs more than it saves.
const PARALLEL_READ_MIN: usize = 32;

/// Reads the files the walk found, in walk order, on two threads when there are many: on big
/// charts (MBs of `crds/` and dashboards) reading is most of loading, and nothing else runs yet.
/// The first failing file in walk order is the error, as when reading one by one.
fn read_all(found: Vec<Found>) -> Result<Vec<BufferedFile>, Error> {
    let read = |f: &Found| -> Result<Vec<u8>, Error> {
        let mut data = fs::read(&f.path).map_err(|e| Error::new(format!("error reading {}: {e}", f.name)))?;
        if data.starts_with(UTF8_BOM) {
            data.drain(..UTF8_BOM.len());
        }
        Ok(data)
    };
    let mut results: Vec<Option<Result<Vec<u8>, Error>>> = Vec::with_capacity(found.len());
    results.resize_with(found.len(), || None);
    if found.len() < PARALLEL_READ_MIN {
        for (slot, f) in results.iter_mut().zip(&found) {
            *slot = Some(read(f));
        }
    } else {
        // Each thread takes the next unread file, so one big file does not hold up the rest.
        let next = AtomicUsize::new(0);
        let work = || {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(f) = found.get(i) else { break };
                done.push((i, read(f)));
            }
            done
        };
        let (mine, theirs) = std::thread::scope(|s| {
            let helper = s.spawn(work);
            let mine = work();
            (mine, helper.join().expect("chart file reader panicked"))
        });
        for (i, r) in mine.into_iter().chain(theirs) {
            results[i] = Some(r);
        }
    }
    found
        .into_iter()
        .zip(results)
        .map(|(f, r)| {
            let data = r.expect("every file was read")?;
            Ok(BufferedFile { name: f.name, data })
        })
        .collect()
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
                        data: f.data.into(),
                    });
                }
            }
            "requirements.lock" => {
                check_yaml(&f.data, "requirements.lock")?;
                if metadata.as_ref().is_some_and(|m| m.api_version == "v1") {
                    chart.files.push(File {
                        name: f.name,
                        data: f.data.into(),
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
                        data: f.data.into(),
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
                data: f.data.into(),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory under the system temp dir, unique to this test process and `name`.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("kc-loader-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn put(root: &Path, rel: &str, data: &[u8]) {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, data).unwrap();
    }

    /// A chart with more files than `PARALLEL_READ_MIN`, so the two-thread reader runs.
    fn many_files(root: &Path) {
        put(
            root,
            "Chart.yaml",
            b"apiVersion: v2\nname: many\nversion: 1.0.0\n",
        );
        for i in 0..PARALLEL_READ_MIN * 2 {
            put(
                root,
                &format!("files/f{i:03}.txt"),
                format!("file {i}\n").as_bytes(),
            );
        }
        put(root, "files/bom.txt", b"\xEF\xBB\xBFwith bom\n");
    }

    #[test]
    fn many_files_come_back_in_walk_order_with_their_own_contents() {
        let root = scratch("order");
        many_files(&root);
        let chart = load_dir(&root).unwrap();
        let names: Vec<&str> = chart.files.iter().map(|f| f.name.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted, "walk order is byte order");
        assert_eq!(names.len(), PARALLEL_READ_MIN * 2 + 1);
        for f in &chart.files {
            let want = match f.name.strip_prefix("files/f") {
                Some(rest) => format!(
                    "file {}\n",
                    rest.trim_end_matches(".txt").parse::<usize>().unwrap()
                ),
                None => "with bom\n".to_string(),
            };
            assert_eq!(&*f.data, want.as_bytes(), "{}", f.name);
        }
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn walk_errors_after_many_files_are_reported() {
        use std::os::unix::fs::symlink;
        type Setup = fn(&Path);
        let cases: &[(&str, Setup, &str)] = &[
            (
                "broken symlink",
                |root| symlink(root.join("nowhere"), root.join("files/zz-link")).unwrap(),
                "error evaluating symlink",
            ),
            (
                "socket",
                |root| {
                    std::os::unix::net::UnixListener::bind(root.join("files/zz.sock")).unwrap();
                },
                "cannot load irregular file",
            ),
        ];
        for (name, setup, want) in cases {
            let root = scratch(&name.replace(' ', "-"));
            many_files(&root);
            setup(&root);
            let err = load_dir(&root).map(|_| ()).unwrap_err();
            assert!(err.message.contains(want), "{name}: {}", err.message);
            let _ = fs::remove_dir_all(&root);
        }
    }

    #[test]
    fn symlinked_directories_are_followed() {
        let root = scratch("dirlink");
        many_files(&root);
        let elsewhere = scratch("dirlink-target");
        put(&elsewhere, "inner.txt", b"inner\n");
        std::os::unix::fs::symlink(&elsewhere, root.join("linked")).unwrap();
        let chart = load_dir(&root).unwrap();
        let inner = chart.files.iter().find(|f| f.name == "linked/inner.txt");
        assert_eq!(inner.map(|f| &*f.data), Some(&b"inner\n"[..]));
        let _ = fs::remove_dir_all(&root);
        let _ = fs::remove_dir_all(&elsewhere);
    }
}
