//! Turning a chart directory or archive into a [`Chart`]: Helm's `pkg/chart/loader`.
//!
//! Both sources first become a flat list of `(relative name, bytes)`; [`load_files`] then sorts
//! them into metadata, values, schema, templates, subcharts and plain files exactly as Helm's
//! `LoadFiles` does, because that split decides what `.Files` and the renderer see. A directory walk
//! follows symlinks, visits entries in byte order and applies `.helmignore`.

use std::{
    collections::BTreeMap,
    fs,
    io::Read,
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, AtomicUsize, Ordering},
};

use super::{
    archive, helmignore,
    limits::{self, Budget, Source},
    metadata::Metadata,
    Body, Chart, Error, File, Template,
};
use gotemplate::Value;

/// A file read from a chart source, named relative to the chart root with `/` separators.
#[derive(Debug, Clone)]
pub struct BufferedFile {
    pub name: String,
    pub data: Vec<u8>,
}

/// Loads a chart directory (Helm's `LoadDir`), logging Helm's line for each symlink it follows.
pub fn load_dir(dir: &Path) -> Result<Chart, Error> {
    load_dir_reporting(dir, &mut |w| tracing::warn!("{w}"))
}

/// [`load_dir`], passing each line Helm prints to stderr while loading (one per symlink followed,
/// since a link can pull files from anywhere into the chart) to `warn`.
pub fn load_dir_reporting(dir: &Path, warn: &mut dyn FnMut(String)) -> Result<Chart, Error> {
    let mut budget = Budget::new();
    let files = read_dir_within(dir, warn, &mut budget, Defer::Allowed)?;
    let pending = files
        .into_iter()
        .map(|(name, data)| Pending {
            full: name,
            start: 0,
            data,
        })
        .collect();
    load_files_within(pending, &mut budget).map(with_parent_paths)
}

/// The files of a chart directory as Helm's `LoadDir` collects them: `.helmignore` applied,
/// byte order, BOMs stripped, within the directory limits. Packaging writes exactly these.
pub fn read_dir_files(dir: &Path) -> Result<Vec<BufferedFile>, Error> {
    let files = read_dir_within(
        dir,
        &mut |w| tracing::warn!("{w}"),
        &mut Budget::new(),
        Defer::Never,
    )?;
    files
        .into_iter()
        .map(|(name, data)| {
            Ok(BufferedFile {
                name,
                data: data.into_vec()?,
            })
        })
        .collect()
}

/// Whether reading a file's body may wait until it is asked for (see [`super::body`]).
#[derive(Clone, Copy, PartialEq)]
enum Defer {
    /// Loading a chart to render it: bodies loading does not need may wait.
    Allowed,
    /// Packaging: every body is written out, so all are read.
    Never,
}

/// A file loading does not need whose body is this big or bigger is read on first use: most
/// big files are `crds/` (already deferred at any size) or data a template may never ask for,
/// while small ones are cheaper to read on the loader's two threads than one by one later.
const DEFER_MIN_SIZE: u64 = 64 << 10;

/// At most this many bodies wait, each holding its file open: a chart of thousands of CRDs must
/// not run the process out of file descriptors (often 1,024); the rest are read at load.
const MAX_DEFERRED: usize = 256;

/// What a file of a chart is to the loader, from its name in the chart tree (Helm's
/// `LoadFiles` split, applied through nested subchart directories).
fn needed_to_load(mut name: &str) -> Need {
    // A file of a subchart directory is what its name under that subchart says; one right under
    // `charts/` is an archive to unpack (or a stray file, an error either way).
    while let Some(rest) = name.strip_prefix("charts/") {
        if rest.ends_with(".prov") {
            // Signatures stay with the parent's files.
            break;
        }
        match rest.split_once('/') {
            Some((_, inner)) => name = inner,
            None => return Need::Body,
        }
    }
    match name {
        "Chart.yaml" | "Chart.lock" | "values.yaml" | "values.schema.json" | "requirements.yaml"
        | "requirements.lock" => Need::Body,
        _ if name.starts_with("templates/") => Need::Body,
        _ if name.starts_with("crds/") => Need::Crd,
        _ => Need::Other,
    }
}

/// See [`needed_to_load`].
#[derive(Debug, Clone, Copy, PartialEq)]
enum Need {
    /// Loading reads it: metadata, values, schema, locks, templates, subchart archives.
    Body,
    /// Under `crds/`: installed or printed by some verbs, never by the rest.
    Crd,
    /// Only `.Files` holds it.
    Other,
}

fn read_dir_within(
    dir: &Path,
    warn: &mut dyn FnMut(String),
    budget: &mut Budget,
    defer: Defer,
) -> Result<Vec<(String, Body)>, Error> {
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
    let mut walk = Walk {
        rules: &rules,
        // Helm names links by their absolute, cleaned path (`filepath.Abs`).
        top: std::path::absolute(dir)
            .map(|p| gotemplate::gostr::path_clean(&p.to_string_lossy()))
            .unwrap_or_else(|_| dir.display().to_string()),
        found: Vec::new(),
        ancestors: Vec::new(),
        budget,
        warn,
    };
    let walked = walk.dir(dir, "");
    let Walk {
        found, budget, top, ..
    } = walk;
    // Every file the walk found comes before the place where it stopped, so a read error of one
    // of them is what a walk that reads as it goes would have met first.
    let files = read_all(found, budget, &top, defer)?;
    walked?;
    Ok(files)
}

/// A file the walk kept, to be read.
struct Found {
    name: String,
    path: PathBuf,
}

/// The state of one directory walk.
struct Walk<'a> {
    rules: &'a helmignore::Rules,
    /// The chart directory as Helm names it in messages.
    top: String,
    found: Vec<Found>,
    /// Device and inode of each directory from the top to where the walk is: a link back to one
    /// of them is a loop. Go has no such check and recurses until the path is too long.
    ancestors: Vec<(u64, u64)>,
    budget: &'a mut Budget,
    warn: &'a mut dyn FnMut(String),
}

impl Walk<'_> {
    fn dir(&mut self, dir: &Path, rel: &str) -> Result<(), Error> {
        use std::os::unix::fs::MetadataExt;
        let meta = fs::metadata(dir).map_err(|e| Error::new(format!("{}: {e}", dir.display())))?;
        self.ancestors.push((meta.dev(), meta.ino()));
        let result = self.entries(dir, rel);
        self.ancestors.pop();
        result
    }

    fn entries(&mut self, dir: &Path, rel: &str) -> Result<(), Error> {
        use std::os::unix::fs::MetadataExt;
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
            // Following symlinks: the target decides whether this is a directory. Other entries'
            // type comes with the directory listing, which saves a stat per file (hundreds on
            // big charts).
            let symlink_error =
                |e: std::io::Error| Error::new(format!("error evaluating symlink {}: {e}", path.display()));
            let mut kind = entry.file_type().map_err(symlink_error)?;
            if kind.is_symlink() {
                let resolved = fs::canonicalize(&path).map_err(symlink_error)?;
                let meta = fs::metadata(&resolved).map_err(symlink_error)?;
                (self.warn)(format!(
                    "walk.go:75: found symbolic link in path: {}/{n} resolves to {}. Contents of linked file included and used",
                    self.top,
                    resolved.display()
                ));
                if meta.is_dir() && self.ancestors.contains(&(meta.dev(), meta.ino())) {
                    return Err(Error::new(format!(
                        "symbolic link loop: {}/{n} resolves to {}, a directory that contains it",
                        self.top,
                        resolved.display()
                    )));
                }
                kind = meta.file_type();
            }
            if kind.is_dir() {
                if self.rules.ignore(&n, true) {
                    continue;
                }
                self.dir(&path, &n)?;
                continue;
            }
            if self.rules.ignore(&n, false) {
                continue;
            }
            if !kind.is_file() {
                return Err(Error::new(format!(
                    "cannot load irregular file {} as it has file mode type bits set",
                    path.display()
                )));
            }
            self.budget.take_file()?;
            self.found.push(Found { name: n, path });
        }
        Ok(())
    }
}

/// Below this many files a second thread costs more than it saves.
const PARALLEL_READ_MIN: usize = 32;

/// A file's body as the reader threads hand it over.
enum Fetched {
    Bytes(Vec<u8>),
    /// Opened and sized, to be read on first use.
    Open(fs::File, u64),
}

/// Reads the files the walk found, in walk order, on two threads when there are many: on big
/// charts (MBs of `crds/` and dashboards) reading is most of loading, and nothing else runs yet.
/// The first failing file in walk order is the error, as when reading one by one. Each file's
/// size is checked before it is read, so a huge file costs nothing. With `defer`, the bodies
/// loading does not need (`crds/`, big plain files) are opened and sized only, so a file that
/// cannot be opened or is too big fails here as in Helm, and read on first use.
fn read_all(
    found: Vec<Found>,
    budget: &mut Budget,
    top: &str,
    defer: Defer,
) -> Result<Vec<(String, Body)>, Error> {
    // Shared by both threads: what the chart may still hold, and how many bodies may wait.
    let left = AtomicU64::new(budget.bytes_left());
    let may_wait = AtomicUsize::new(MAX_DEFERRED);
    let read = |f: &Found| -> Result<Fetched, Error> {
        // Go's `*PathError` wording, as Helm's `os.ReadFile` of `<chart dir>/<name>` gives it.
        let io_error = |op: &str, e: std::io::Error| {
            Error::new(format!(
                "error reading {}: {op} {top}/{}: {}",
                f.name,
                f.name,
                super::io_text(&e)
            ))
        };
        let mut file = fs::File::open(&f.path).map_err(|e| io_error("open", e))?;
        let size = file.metadata().map_err(|e| io_error("stat", e))?.len();
        Budget::check_file_size(&f.name, size, Source::Directory)?;
        let claimed = size + f.name.len() as u64;
        left.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |l| l.checked_sub(claimed))
            .map_err(|_| limits::chart_too_big())?;
        let waits = defer == Defer::Allowed
            && match needed_to_load(&f.name) {
                Need::Body => false,
                Need::Crd => true,
                Need::Other => size >= DEFER_MIN_SIZE,
            }
            && may_wait
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok();
        if waits {
            return Ok(Fetched::Open(file, size));
        }
        let mut data = Vec::with_capacity(size as usize);
        // Bounded too: the file may have grown since its size was read.
        (&mut file)
            .take(size)
            .read_to_end(&mut data)
            .map_err(|e| io_error("read", e))?;
        super::archive::strip_bom(&mut data);
        Ok(Fetched::Bytes(data))
    };
    let mut results: Vec<Option<Result<Fetched, Error>>> = Vec::with_capacity(found.len());
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
    let files = found
        .into_iter()
        .zip(results)
        .map(|(f, r)| {
            let data = match r.expect("every file was read")? {
                Fetched::Bytes(data) => Body::from(data),
                Fetched::Open(file, size) => Body::deferred(f.name.clone(), file, size),
            };
            Ok((f.name, data))
        })
        .collect::<Result<Vec<_>, Error>>()?;
    budget.take_bytes(budget.bytes_left() - left.into_inner())?;
    Ok(files)
}

/// Loads a chart archive file (Helm's `LoadFile`).
///
/// The file must be a regular one no bigger than [`limits::MAX_CHART_SIZE`] (what a chart may
/// unpack to, and what downloads are held to): reading a named pipe could wait forever, and a
/// bigger archive could never load, so neither is read.
pub fn load_archive_path(path: &Path) -> Result<Chart, Error> {
    let name = path.display().to_string();
    let unreadable = |e: std::io::Error| Error::new(format!("file '{name}' cannot be read: {e}"));
    // Checked before opening: opening a named pipe already waits for a writer.
    let meta = fs::metadata(path).map_err(unreadable)?;
    if !meta.is_file() {
        return Err(Error::new(format!(
            "file '{name}' is not a regular file, so it cannot be a chart archive"
        )));
    }
    if meta.len() > limits::MAX_CHART_SIZE {
        return Err(Error::new(format!(
            "file '{name}' is larger than the maximum chart archive size {}",
            limits::MAX_CHART_SIZE
        )));
    }
    let mut file = fs::File::open(path).map_err(unreadable)?;
    let mut data = Vec::with_capacity(meta.len() as usize);
    (&mut file)
        .take(limits::MAX_CHART_SIZE)
        .read_to_end(&mut data)
        .map_err(unreadable)?;
    archive::ensure_archive(&name, &data).map_err(Error::new)?;
    load_archive(&data)
}

/// Loads a chart from gzipped tar bytes (Helm's `LoadArchive`). Every chart from a repository or
/// a registry comes through here, within the same limits as a local one.
pub fn load_archive(data: &[u8]) -> Result<Chart, Error> {
    load_archive_within(data, &mut Budget::new()).map(with_parent_paths)
}

/// Sets the parent paths once the whole tree is loaded: done at every level, it cost time cubic
/// in the depth.
fn with_parent_paths(mut chart: Chart) -> Chart {
    chart.set_parent_paths();
    chart
}

fn load_archive_within(data: &[u8], budget: &mut Budget) -> Result<Chart, Error> {
    let files = archive::load_archive_files_within(data, budget)?;
    load_files_within(files.into_iter().map(Pending::from).collect(), budget)
}

/// Builds a chart from its files (Helm's `LoadFiles`).
pub fn load_files(files: Vec<BufferedFile>) -> Result<Chart, Error> {
    load_files_within(files.into_iter().map(Pending::from).collect(), &mut Budget::new())
        .map(with_parent_paths)
}

/// A file on its way into a (sub)chart, its name relative to that chart being `full[start..]`.
/// Subcharts nested in one archive only move `start`: copying the shortened names at each level
/// cost time cubic in the depth (minutes for a chart nesting 2,300 subcharts).
struct Pending {
    full: String,
    start: usize,
    data: Body,
}

impl Pending {
    fn name(&self) -> &str {
        &self.full[self.start..]
    }

    /// The same file, its name without its first `n` bytes.
    fn skip(mut self, n: usize) -> Pending {
        self.start += n;
        self
    }

    /// The file's name in its chart, and its body.
    fn into_parts(self) -> (String, Body) {
        let name = if self.start == 0 {
            self.full
        } else {
            self.full[self.start..].to_string()
        };
        (name, self.data)
    }
}

impl From<BufferedFile> for Pending {
    fn from(f: BufferedFile) -> Pending {
        Pending {
            full: f.name,
            start: 0,
            data: Body::from(f.data),
        }
    }
}

/// [`load_files`], counting subchart archives' contents against the chart tree's `budget`.
fn load_files_within(files: Vec<Pending>, budget: &mut Budget) -> Result<Chart, Error> {
    let mut metadata: Option<Metadata> = None;
    for f in &files {
        if f.name() == "Chart.yaml" {
            let md = metadata.get_or_insert_with(Metadata::default);
            let doc = parse_yaml_doc(f.data.bytes()?, "Chart.yaml")?;
            md.apply(&doc)
                .map_err(|e| Error::new(format!("cannot load Chart.yaml: {e}")))?;
            if md.api_version.is_empty() {
                md.api_version = "v1".into();
            }
        }
    }

    let mut chart = Chart::empty();
    let mut subcharts: BTreeMap<String, Vec<Pending>> = BTreeMap::new();
    for f in files {
        if let Some(rest) = f.name().strip_prefix("charts/") {
            // Signatures of subchart archives stay with the parent's files.
            if !rest.ends_with(".prov") {
                let cname = rest.split('/').next().unwrap_or_default().to_string();
                subcharts.entry(cname).or_default().push(f.skip("charts/".len()));
                continue;
            }
        }
        let (name, data) = f.into_parts();
        match name.as_str() {
            "Chart.yaml" => {}
            "Chart.lock" => check_lock(data.bytes()?, "Chart.lock")?,
            "values.yaml" => {
                let v = crate::yaml::read_values(data.bytes()?, "values.yaml")
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
                let schema = super::schema_json(data.bytes()?);
                chart.schema = Some((name, schema));
            }
            "requirements.yaml" => {
                let md = metadata.get_or_insert_with(Metadata::default);
                let doc = parse_yaml_doc(data.bytes()?, "requirements.yaml")?;
                md.apply(&doc)
                    .map_err(|e| Error::new(format!("cannot load requirements.yaml: {e}")))?;
                chart.requirements = Some(md.dependencies.clone());
                if md.api_version == "v1" {
                    chart.files.push(File { name, data });
                }
            }
            "requirements.lock" => {
                check_lock(data.bytes()?, "requirements.lock")?;
                if metadata.as_ref().is_some_and(|m| m.api_version == "v1") {
                    chart.files.push(File { name, data });
                }
            }
            _ if name.starts_with("templates/") => {
                // Moved, not copied: most files are valid UTF-8, and validating is all it costs.
                let text = String::from_utf8(data.into_vec()?)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
                chart.templates.push(Template {
                    name,
                    text: std::rc::Rc::new(text),
                })
            }
            _ => chart.files.push(File { name, data }),
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
            if first.name() != n {
                return Err(Error::new(format!(
                    "error unpacking subchart tar in {parent}: expected {n}, got {}",
                    first.name()
                )));
            }
            load_archive_within(first.data.bytes()?, budget).map_err(wrap)?
        } else {
            // A file right under `charts/` is not part of any subchart directory.
            let inner: Vec<Pending> = files
                .into_iter()
                .filter(|f| f.name().len() > n.len())
                .map(|f| f.skip(n.len() + 1))
                .collect();
            load_files_within(inner, budget).map_err(wrap)?
        };
        chart.dependencies.push(sub);
    }
    Ok(chart)
}

fn parse_yaml_doc(data: &[u8], file: &str) -> Result<serde_json::Value, Error> {
    if let Some(e) = crate::yaml::reader::reader_error(data) {
        return Err(Error::new(format!("cannot load {file}: {e}")));
    }
    let text = String::from_utf8_lossy(data);
    // Integers must stay integers here: a string field gets `1` from `1`, but `1.1` from `1.10`.
    let docs = crate::yaml::parse_documents(&text, file)
        .map_err(|e| Error::new(format!("cannot load {file}: {e}")))?;
    Ok(docs.into_iter().next().unwrap_or(serde_json::Value::Null))
}

/// Helm decodes `Chart.lock` (and `requirements.lock`) into its `chart.Lock` while it loads the
/// chart, so a lock file of the wrong shape fails the load with encoding/json's error: the first
/// mismatch in the keys' sorted order (sigs.k8s.io/yaml hands json a map). The entries of
/// `dependencies` and the `generated` time are not checked here.
fn check_lock(data: &[u8], file: &str) -> Result<(), Error> {
    use super::dependencies::json_kind;
    use serde_json::Value as Json;
    let mismatch = |what: String| {
        Error::new(format!(
            "cannot load {file}: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {what}"
        ))
    };
    let map = match parse_yaml_doc(data, file)? {
        Json::Object(map) => map,
        Json::Null => return Ok(()),
        other => {
            return Err(mismatch(format!(
                "{} into Go value of type chart.Lock",
                json_kind(&other)
            )))
        }
    };
    let mut fields: Vec<(&String, &Json)> = map.iter().collect();
    fields.sort_by_key(|(k, _)| *k);
    for (key, v) in fields {
        // encoding/json matches field names without regard to case.
        let key = key.to_ascii_lowercase();
        let wanted = match (key.as_str(), v) {
            // sigs.k8s.io/yaml hands a string field any scalar as a string.
            (_, Json::Null)
            | ("dependencies", Json::Array(_))
            | ("digest", Json::String(_) | Json::Number(_) | Json::Bool(_)) => continue,
            ("dependencies", _) => "[]*chart.Dependency",
            ("digest", _) => "string",
            _ => continue,
        };
        return Err(mismatch(format!(
            "{} into Go struct field Lock.{key} of type {wanted}",
            json_kind(v)
        )));
    }
    Ok(())
}

fn go_json_kind(v: &Value) -> &'static str {
    match v {
        Value::Nil => "null",
        Value::Bool(_) => "bool",
        Value::Int(_) | Value::Int64(_) | Value::Uint64(_) | Value::Float(_) => "number",
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
            assert_eq!(f.data.bytes().unwrap(), want.as_bytes(), "{}", f.name);
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
    fn bodies_loading_does_not_need_wait_until_asked_for() {
        let root = scratch("deferred");
        put(&root, "Chart.yaml", CHART_YAML);
        put(&root, "values.yaml", b"a: 1\n");
        put(&root, "templates/cm.yaml", b"kind: ConfigMap\n");
        put(
            &root,
            "crds/small.yaml",
            b"\xEF\xBB\xBFkind: CustomResourceDefinition\n",
        );
        let big = vec![b'x'; DEFER_MIN_SIZE as usize];
        put(&root, "files/big.txt", &big);
        put(&root, "files/small.txt", b"small\n");
        put(&root, "charts/sub/Chart.yaml", CHART_YAML);
        put(
            &root,
            "charts/sub/crds/sub.yaml",
            b"kind: CustomResourceDefinition\n",
        );
        let chart = load_dir(&root).unwrap();
        // (name, deferred, contents once read)
        let want: &[(&str, bool, &[u8])] = &[
            ("crds/small.yaml", true, b"kind: CustomResourceDefinition\n"),
            ("files/big.txt", true, &big),
            ("files/small.txt", false, b"small\n"),
        ];
        assert_eq!(names(&chart.files), want.iter().map(|w| w.0).collect::<Vec<_>>());
        for (f, (name, deferred, body)) in chart.files.iter().zip(want) {
            assert_eq!(f.data.is_deferred(), *deferred, "{name}");
            assert_eq!(f.data.bytes().unwrap(), *body, "{name}");
        }
        // `crds` shares the bodies of `files`: read through one, read for both.
        assert_eq!(names(&chart.crds), ["crds/small.yaml"]);
        assert!(!chart.crds[0].data.is_deferred());
        let sub = &chart.dependencies[0];
        assert!(sub.crds[0].data.is_deferred(), "a subchart's crds/ wait too");
        assert_eq!(chart.read_error(), None);
        // Packaging reads every body.
        let packed = read_dir_files(&root).unwrap();
        let big_packed = packed.iter().find(|f| f.name == "files/big.txt").unwrap();
        assert_eq!(big_packed.data, big);
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn files_loading_needs_are_told_apart_through_subcharts() {
        let cases = [
            ("Chart.yaml", Need::Body),
            ("values.schema.json", Need::Body),
            ("templates/a.yaml", Need::Body),
            ("crds/a.yaml", Need::Crd),
            ("files/crds/a.yaml", Need::Other),
            ("charts/sub.tgz", Need::Body),
            ("charts/sub-1.0.0.tgz.prov", Need::Other),
            ("charts/sub/values.yaml", Need::Body),
            ("charts/sub/crds/a.yaml", Need::Crd),
            ("charts/sub/charts/inner/templates/x.yaml", Need::Body),
            ("charts/sub/charts/inner.tgz", Need::Body),
            ("charts/sub/README.md", Need::Other),
        ];
        for (name, want) in cases {
            assert_eq!(needed_to_load(name), want, "{name}");
        }
    }

    #[test]
    fn an_unreadable_file_fails_at_load_as_in_helm() {
        use std::os::unix::fs::PermissionsExt;
        let root = scratch("unreadable");
        put(&root, "Chart.yaml", CHART_YAML);
        put(&root, "crds/a.yaml", b"kind: CustomResourceDefinition\n");
        let crd = root.join("crds/a.yaml");
        fs::set_permissions(&crd, fs::Permissions::from_mode(0o000)).unwrap();
        let got = load_dir(&root).map(|c| c.files[0].data.bytes().map(<[u8]>::to_vec));
        // Root reads any file (so does Helm run as root); anyone else gets Helm's error, at load
        // although the body would only be read on first use.
        match fs::File::open(&crd) {
            Ok(_) => assert_eq!(got, Ok(Ok(b"kind: CustomResourceDefinition\n".to_vec()))),
            Err(_) => assert_eq!(
                got.map_err(|e| e.message),
                Err(format!(
                    "error reading crds/a.yaml: open {}/crds/a.yaml: permission denied",
                    std::path::absolute(&root).unwrap().display()
                ))
            ),
        }
        let _ = fs::remove_dir_all(&root);
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
        assert_eq!(inner.map(|f| f.data.bytes().unwrap()), Some(&b"inner\n"[..]));
        let _ = fs::remove_dir_all(&root);
        let _ = fs::remove_dir_all(&elsewhere);
    }

    fn names(files: &[File]) -> Vec<&str> {
        files.iter().map(|f| f.name.as_str()).collect()
    }

    const CHART_YAML: &[u8] = b"apiVersion: v2\nname: c\nversion: 1.0.0\n";

    /// A gzipped tar of `entries`, under the top directory `c/`.
    fn tgz(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        for (name, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            builder.append_data(&mut h, format!("c/{name}"), *data).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn symlink_loop_is_an_error_naming_the_link() {
        let root = scratch("loop");
        put(&root, "Chart.yaml", CHART_YAML);
        fs::create_dir_all(root.join("d/e")).unwrap();
        std::os::unix::fs::symlink("../..", root.join("d/e/up")).unwrap();
        let err = load_dir(&root).map(|_| ()).unwrap_err();
        let top = std::path::absolute(&root).unwrap();
        assert_eq!(
            err.message,
            format!(
                "symbolic link loop: {}/d/e/up resolves to {}, a directory that contains it",
                top.display(),
                fs::canonicalize(&root).unwrap().display()
            )
        );
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn deep_directories_load() {
        // Deeper than the 64 levels a depth cap once refused as a symlink loop.
        let root = scratch("deep");
        put(&root, "Chart.yaml", CHART_YAML);
        let deep = "d/".repeat(100) + "f.txt";
        put(&root, &deep, b"deep\n");
        let chart = load_dir(&root).unwrap();
        assert_eq!(names(&chart.files), [deep.as_str()]);
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn every_symlink_followed_is_reported_as_helm_does() {
        let root = scratch("links");
        let outside = scratch("links-outside");
        put(&root, "Chart.yaml", CHART_YAML);
        put(&root, "files/in.txt", b"in\n");
        put(&outside, "out.txt", b"out\n");
        std::os::unix::fs::symlink(outside.join("out.txt"), root.join("out.txt")).unwrap();
        std::os::unix::fs::symlink("files/in.txt", root.join("in.txt")).unwrap();
        let mut lines = Vec::new();
        let chart = load_dir_reporting(&root, &mut |w| lines.push(w)).unwrap();
        assert_eq!(names(&chart.files), ["files/in.txt", "in.txt", "out.txt"]);
        let top = std::path::absolute(&root).unwrap();
        let real = |p: &Path| fs::canonicalize(p).unwrap();
        assert_eq!(
            lines,
            [
                format!(
                    "walk.go:75: found symbolic link in path: {}/in.txt resolves to {}. Contents of linked file included and used",
                    top.display(),
                    real(&root.join("files/in.txt")).display()
                ),
                format!(
                    "walk.go:75: found symbolic link in path: {}/out.txt resolves to {}. Contents of linked file included and used",
                    top.display(),
                    real(&outside.join("out.txt")).display()
                ),
            ]
        );
        let _ = fs::remove_dir_all(&root);
        let _ = fs::remove_dir_all(&outside);
    }

    #[test]
    fn directory_limits() {
        use crate::chart::limits::{MAX_FILES, MAX_FILE_SIZE};
        type Setup = fn(&Path);
        let cases: &[(&str, Setup, String)] = &[
            (
                "file over the size limit, sparse so the test writes nothing",
                |root| {
                    fs::create_dir_all(root.join("files")).unwrap();
                    let f = fs::File::create(root.join("files/big.bin")).unwrap();
                    f.set_len(MAX_FILE_SIZE + 1).unwrap();
                },
                format!("chart file \"files/big.bin\" is larger than the maximum file size {MAX_FILE_SIZE}"),
            ),
            (
                "links doubling at each level: 2^15 paths to one file",
                |root| {
                    for level in 0..15 {
                        let dir = root.join(format!("l{level}"));
                        fs::create_dir_all(&dir).unwrap();
                        for link in ["a", "b"] {
                            let target = format!("../l{}", level + 1);
                            std::os::unix::fs::symlink(target, dir.join(link)).unwrap();
                        }
                    }
                    put(root, "l15/f.txt", b"x");
                },
                format!("chart has more than the maximum of {MAX_FILES} files"),
            ),
        ];
        for (name, setup, want) in cases {
            let root = scratch(&name.split(',').next().unwrap().replace(' ', "-"));
            put(&root, "Chart.yaml", CHART_YAML);
            setup(&root);
            let err = load_dir_reporting(&root, &mut |_| {}).map(|_| ()).unwrap_err();
            assert_eq!(&err.message, want, "{name}");
            let _ = fs::remove_dir_all(&root);
        }
    }

    #[test]
    fn nested_archives_share_one_budget() {
        use crate::chart::limits::MAX_FILE_SIZE;
        // Each archive alone is within Helm's per-archive limit; together they are not, and
        // without a shared budget archives nested in archives would multiply it.
        let chunk = vec![0u8; MAX_FILE_SIZE as usize];
        let names: Vec<String> = (0..19).map(|i| format!("files/f{i}")).collect();
        let mut entries: Vec<(&str, &[u8])> = vec![("Chart.yaml", CHART_YAML)];
        entries.extend(names.iter().map(|n| (n.as_str(), &chunk[..])));
        let sub = tgz(&entries);
        let top = tgz(&[
            ("Chart.yaml", CHART_YAML),
            ("files/big", &chunk),
            ("files/big2", &chunk),
            ("charts/sub.tgz", &sub),
        ]);
        assert!(
            archive::load_archive_files(&sub).is_ok(),
            "the subchart alone loads"
        );
        let err = load_archive(&top).map(|_| ()).unwrap_err();
        assert_eq!(
            err.message,
            "error unpacking subchart sub.tgz in c: decompressed chart is larger than the maximum size 104857600"
        );
    }

    #[test]
    fn thousands_of_nested_subcharts_load() {
        // Helm renders a chart nesting 2,300 subcharts in one archive. Names hold all the
        // levels, so each level only moves where its names start; the stack is the binary's
        // (main.rs), here a thread's of the same size.
        const LEVELS: usize = 2300;
        let mut names = Vec::new();
        let mut prefix = String::new();
        for _ in 0..LEVELS {
            names.push(format!("{prefix}Chart.yaml"));
            prefix.push_str("charts/c/");
        }
        let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), CHART_YAML)).collect();
        let data = tgz(&entries);
        let depth = std::thread::Builder::new()
            .stack_size(1 << 30)
            .spawn(move || {
                let chart = load_archive(&data).unwrap();
                let mut depth = 1;
                let mut c = &chart;
                while let Some(d) = c.dependencies.first() {
                    depth += 1;
                    c = d;
                }
                (depth, c.full_path().len())
            })
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(depth, (LEVELS, "c/charts/".len() * (LEVELS - 1) + 1));
    }

    #[test]
    fn archive_files_that_could_hang_or_never_load() {
        let dir = scratch("archive-files");
        let fifo = dir.join("chart.tgz");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success(), "mkfifo");
        let big = dir.join("big.tgz");
        fs::File::create(&big)
            .unwrap()
            .set_len(limits::MAX_CHART_SIZE + 1)
            .unwrap();
        let cases = [
            (
                &fifo,
                format!(
                    "file '{}' is not a regular file, so it cannot be a chart archive",
                    fifo.display()
                ),
            ),
            (
                &big,
                format!(
                    "file '{}' is larger than the maximum chart archive size 104857600",
                    big.display()
                ),
            ),
        ];
        for (path, want) in cases {
            let got = crate::chart::load(path).map(|_| ()).map_err(|e| e.message);
            assert_eq!(got, Err(want), "{}", path.display());
        }
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn lock_files_of_the_wrong_shape_fail_the_load_as_in_helm() {
        const PREFIX: &str = "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal";
        // (case, file, contents, helm v3.17.2's error after "cannot load FILE: PREFIX ", or None)
        let cases: &[(&str, &str, &str, Option<&str>)] = &[
            (
                "a string",
                "Chart.lock",
                "lock\n",
                Some("string into Go value of type chart.Lock"),
            ),
            (
                "a list",
                "requirements.lock",
                "- a\n",
                Some("array into Go value of type chart.Lock"),
            ),
            ("empty", "Chart.lock", "", None),
            ("null", "Chart.lock", "~\n", None),
            (
                "a number as the digest is a string",
                "Chart.lock",
                "digest: 1\n",
                None,
            ),
            (
                "a list as the digest",
                "Chart.lock",
                "digest: [1]\n",
                Some("array into Go struct field Lock.digest of type string"),
            ),
            (
                "keys in sorted order, matched without case",
                "Chart.lock",
                "Digest: [1]\nDEPENDENCIES: 1\n",
                Some("number into Go struct field Lock.dependencies of type []*chart.Dependency"),
            ),
            ("well formed", "Chart.lock", "digest: x\ndependencies: []\n", None),
        ];
        for (name, file, text, want) in cases {
            let files = vec![
                BufferedFile {
                    name: "Chart.yaml".into(),
                    data: b"apiVersion: v2\nname: c\nversion: 1.0.0\n".to_vec(),
                },
                BufferedFile {
                    name: file.to_string(),
                    data: text.as_bytes().to_vec(),
                },
            ];
            let got = load_files(files).err().map(|e| e.to_string());
            let want = want.map(|w| format!("cannot load {file}: {PREFIX} {w}"));
            assert_eq!(got, want, "{name}");
        }
    }
}
