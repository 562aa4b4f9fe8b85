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

use std::io::Read;

use crate::chart::Chart;
use gotemplate::{Map, Value};

pub use schema::validate_schema;

/// A values error, messages in Helm's wording: the chart stage's one-message error, since a
/// bad value and a bad chart file are reported alike (and a chart error passes through as is).
pub use crate::chart::Error;

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
        let current = crate::yaml::read_values(&data, path)
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

/// The most a values file read from a pipe or a device may hold. A regular file's size is known
/// before it is read; a stream's is not, and `/dev/zero` never ends.
pub const MAX_STREAM_SIZE: u64 = 100 << 20;

/// Reads a values file (`-f`, `--set-file`), `-` being standard input; errors read like Go's
/// `open NAME: ...`.
///
/// Helm reads whatever the name opens, so a named pipe nobody writes to blocks it forever. Here a
/// named pipe or a socket is refused before it is opened. Pipes the shell hands over as
/// `/dev/fd/N` (`-f <(command)`) already have their writer and are read, as are devices, both
/// up to [`MAX_STREAM_SIZE`].
fn read_file(path: &str) -> Result<Vec<u8>, String> {
    use std::os::unix::fs::FileTypeExt;
    if path.trim() == "-" {
        return read_stream(std::io::stdin(), "stdin");
    }
    let io_error = |op: &str, e: std::io::Error| format!("{op} {path}: {}", crate::chart::io_text(&e));
    let kind = std::fs::metadata(path)
        .map_err(|e| io_error("open", e))?
        .file_type();
    let refused = if kind.is_socket() {
        Some("a socket")
    } else if kind.is_fifo() && !is_open_descriptor(path) {
        Some("a named pipe")
    } else {
        None
    };
    if let Some(what) = refused {
        return Err(format!(
            "{path} is {what}, not a regular file: reading it could wait forever for a writer (use - to read standard input)"
        ));
    }
    if kind.is_file() || kind.is_dir() {
        return std::fs::read(path).map_err(|e| io_error("read", e));
    }
    let file = std::fs::File::open(path).map_err(|e| io_error("open", e))?;
    read_stream(file, path)
}

/// Whether `path` names a descriptor this process already holds, as the shell's process
/// substitution passes a pipe: its writer is running, so reading it ends.
fn is_open_descriptor(path: &str) -> bool {
    let under_proc_fd = path.strip_prefix("/proc/").is_some_and(|rest| {
        let (pid, tail) = rest.split_once('/').unwrap_or((rest, ""));
        (pid == "self" || pid == "thread-self" || pid.bytes().all(|b| b.is_ascii_digit()))
            && tail.starts_with("fd/")
    });
    path.starts_with("/dev/fd/") || path == "/dev/stdin" || under_proc_fd
}

/// Reads a pipe or device to its end, refusing more than [`MAX_STREAM_SIZE`].
fn read_stream(from: impl Read, name: &str) -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    from.take(MAX_STREAM_SIZE + 1)
        .read_to_end(&mut buf)
        .map_err(|e| format!("read {name}: {e}"))?;
    if buf.len() as u64 > MAX_STREAM_SIZE {
        return Err(format!(
            "read {name}: values input is larger than the maximum size {MAX_STREAM_SIZE}"
        ));
    }
    Ok(buf)
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
///
/// Helm's warnings (a deprecated chart, a condition that is not a bool, an `import-values` path
/// that is not a table) go to the log; [`resolve_reporting`] hands them to the caller instead.
pub fn resolve(chart: Chart, user: Value) -> Result<(Chart, Value), Error> {
    resolve_reporting(chart, user, &mut |w| tracing::warn!("{w}"))
}

/// [`resolve`], first making the checks `helm template`/`install` make on the top chart (a library
/// chart is refused; every dependency of `Chart.yaml` must be under `charts/`), and passing each
/// warning Helm would print to `warn`, as Helm's stderr line (without the newline), in Helm's order.
pub fn resolve_reporting(
    mut chart: Chart,
    user: Value,
    warn: &mut dyn FnMut(String),
) -> Result<(Chart, Value), Error> {
    chart.check_installable()?;
    if chart.metadata.deprecated {
        warn("WARNING: This chart is deprecated".into());
    }
    chart.check_dependencies_present()?;
    let user: Map = match user {
        Value::Map(m) => m,
        Value::Nil => Value::new_map().as_map().cloned().unwrap_or_default(),
        _ => return Err(Error::new("user values must be a map")),
    };
    coalesce::process_enabled(&mut chart, &user, "", warn)?;
    coalesce::process_import_values(&mut chart, warn)?;
    chart.set_parent_paths();
    let vals = coalesce::coalesce_values(&chart, Some(&user), false, warn)?;
    Ok((chart, Value::Map(vals)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn fixture(name: &str) -> Chart {
        crate::chart::load(
            &Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/charts")
                .join(name),
        )
        .unwrap()
    }

    fn json(v: &Value) -> serde_json::Value {
        v.to_json()
    }

    fn set(args: &[&str]) -> Value {
        merge_user_values(&ValuesOptions {
            set: args.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        })
        .unwrap()
    }

    fn dep_names(c: &Chart) -> Vec<&str> {
        c.dependencies.iter().map(Chart::name).collect()
    }

    #[test]
    fn resolve_defaults() {
        let (chart, vals) = resolve(fixture("deps"), Value::new_map()).unwrap();
        // tags.backend=false disables sub-b; another.enabled=false disables the alias.
        assert_eq!(dep_names(&chart), ["sub-a"]);
        let want = serde_json::json!({
            "another": {"enabled": false},
            "exported": true,
            "global": {"region": "eu", "shared": {"a": 1.0}},
            "imported": {"extra": true, "level": "parent"},
            "replicas": 2.0,
            "sub-a": {
                "color": "blue",
                "config": {"extra": true, "level": "child"},
                "enabled": true,
                "exports": {"data": {"exported": true}},
                "global": {"region": "eu", "shared": {"a": 1.0, "b": 2.0}},
                "size": 3.0
            },
            "tags": {"backend": false}
        });
        assert_eq!(json(&vals), want);
        // YAML numbers stay floats.
        let replicas = vals.as_map().unwrap().borrow().get("replicas").cloned();
        assert_eq!(replicas, Some(Value::Float(2.0)));
    }

    #[test]
    fn resolve_enable_alias_and_tags() {
        let user = set(&["another.enabled=true,tags.backend=true,sub-a.size=5"]);
        let (chart, vals) = resolve(fixture("deps"), user).unwrap();
        assert_eq!(dep_names(&chart), ["sub-a", "another", "sub-b"]);
        assert_eq!(chart.dependencies[1].full_path(), "deps/charts/another");
        let v = json(&vals);
        assert_eq!(v["another"]["color"], "red");
        assert_eq!(v["another"]["global"]["region"], "eu");
        assert_eq!(
            v["sub-b"],
            serde_json::json!({"port": 80.0, "global": {"region": "eu", "shared": {"a": 1.0}}})
        );
        // --set integers are int64.
        let size = vals.as_map().unwrap().borrow()["sub-a"]
            .as_map()
            .unwrap()
            .borrow()["size"]
            .clone();
        assert_eq!(size, Value::Int64(5));
    }

    #[test]
    fn resolve_null_deletes_table() {
        let cases: &[(&str, &str, &[&str])] = &[
            ("top-level default", "replicas=null", &["replicas"]),
            ("subchart default", "sub-a.color=null", &["sub-a", "color"]),
        ];
        for (name, arg, path) in cases {
            let (_, vals) = resolve(fixture("deps"), set(&[arg])).unwrap();
            let mut cur = json(&vals);
            for p in &path[..path.len() - 1] {
                cur = cur[*p].clone();
            }
            assert!(cur.get(path[path.len() - 1]).is_none(), "{name}: {cur}");
        }
    }

    #[test]
    fn resolve_v1_requirements_condition() {
        let (chart, _) = resolve(fixture("v1chart"), Value::new_map()).unwrap();
        assert!(chart.dependencies.is_empty());
        let (chart, vals) = resolve(fixture("v1chart"), set(&["legacy.enabled=true"])).unwrap();
        assert_eq!(dep_names(&chart), ["legacy"]);
        assert_eq!(
            json(&vals)["legacy"],
            serde_json::json!({"enabled": true, "global": {}})
        );
    }

    #[test]
    fn schema_violation_reported() {
        let (chart, vals) = resolve(fixture("schema"), Value::new_map()).unwrap();
        let err = validate_schema(&chart, &vals).unwrap_err();
        assert_eq!(
            err.message,
            "values don't meet the specifications of the schema(s) in the following chart(s):\nschema:\n- replicas: Invalid type. Expected: integer, given: string\n"
        );
        let (chart, vals) = resolve(fixture("schema"), set(&["replicas=3"])).unwrap();
        assert_eq!(validate_schema(&chart, &vals), Ok(()));
    }

    #[test]
    fn merge_user_values_order() {
        let dir = std::env::temp_dir().join(format!("kc-values-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f1 = dir.join("a.yaml");
        let f2 = dir.join("b.yaml");
        let content = dir.join("content.txt");
        std::fs::write(&f1, "a:\n  x: 1\n  p: 2\nlist: [1, 2]\n").unwrap();
        std::fs::write(&f2, "a:\n  p: 3\nlist: [9]\n").unwrap();
        std::fs::write(&content, "hello\n").unwrap();
        let opts = ValuesOptions {
            value_files: vec![f1.display().to_string(), f2.display().to_string()],
            set_json: vec![r#"j={"k":[1,2]}"#.into()],
            set: vec!["a.x=10,s=007".into()],
            set_string: vec!["b=true".into()],
            set_file: vec![format!("f={}", content.display())],
            set_literal: vec!["l=a,b\\c".into()],
        };
        let v = merge_user_values(&opts).unwrap();
        let want = serde_json::json!({
            "a": {"x": 10, "p": 3.0},
            "b": "true",
            "f": "hello\n",
            "j": {"k": [1.0, 2.0]},
            "l": "a,b\\c",
            "list": [9.0],
            "s": "007"
        });
        assert_eq!(json(&v), want);
        let bad = ValuesOptions {
            set: vec!["a.b".into()],
            ..Default::default()
        };
        assert_eq!(
            merge_user_values(&bad).unwrap_err().message,
            "failed parsing --set data: key \"b\" has no value"
        );
        let bad = ValuesOptions {
            set_json: vec!["a={".into()],
            ..Default::default()
        };
        assert_eq!(
            merge_user_values(&bad).unwrap_err().message,
            "failed parsing --set-json data a={"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn values_inputs_that_could_hang_or_blow_up() {
        let dir = std::env::temp_dir().join(format!("kc-values-inputs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success(), "mkfifo");
        let socket = dir.join("sock");
        let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        let latin1 = dir.join("latin1.yaml");
        std::fs::write(&latin1, b"a: \"\xff\"\n").unwrap();
        let (fifo, socket, latin1) = (
            fifo.display().to_string(),
            socket.display().to_string(),
            latin1.display().to_string(),
        );
        let files = |f: &str| ValuesOptions {
            value_files: vec![f.to_string()],
            ..Default::default()
        };
        let set_file = |f: &str| ValuesOptions {
            set_file: vec![format!("k={f}")],
            ..Default::default()
        };
        let cases: Vec<(&str, ValuesOptions, Result<&str, String>)> = vec![
            (
                "named pipe with no writer",
                files(&fifo),
                Err(format!("{fifo} is a named pipe, not a regular file: reading it could wait forever for a writer (use - to read standard input)")),
            ),
            (
                "named pipe for --set-file",
                set_file(&fifo),
                Err(format!("failed parsing --set-file data: {fifo} is a named pipe, not a regular file: reading it could wait forever for a writer (use - to read standard input)")),
            ),
            (
                "socket",
                files(&socket),
                Err(format!("{socket} is a socket, not a regular file: reading it could wait forever for a writer (use - to read standard input)")),
            ),
            ("empty device", files("/dev/null"), Ok("{}")),
            (
                "endless device",
                files("/dev/zero"),
                Err(format!("read /dev/zero: values input is larger than the maximum size {MAX_STREAM_SIZE}")),
            ),
            (
                "invalid UTF-8, refused as Helm does",
                files(&latin1),
                Err(format!("failed to parse {latin1}: error converting YAML to JSON: yaml: invalid leading UTF-8 octet")),
            ),
            // Helm takes --set-file content as a string, whatever its bytes.
            ("invalid UTF-8 in --set-file", set_file(&latin1), Ok("{\"k\":\"a: \\\"\u{fffd}\\\"\\n\"}")),
        ];
        for (name, opts, want) in cases {
            let got = merge_user_values(&opts)
                .map(|v| json(&v).to_string())
                .map_err(|e| e.message);
            assert_eq!(got, want.map(String::from), "{name}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn resolve_corpus_charts() {
        let Some(paths) = crate::testing::corpus_charts() else {
            return;
        };
        for p in paths {
            let chart = crate::chart::load(&p).unwrap();
            let name = chart.name().to_string();
            let (chart, vals) = resolve(chart, Value::new_map()).unwrap_or_else(|e| panic!("{name}: {e}"));
            validate_schema(&chart, &vals).unwrap_or_else(|e| panic!("{name}: {e}"));
            if name == "argo-cd" {
                // redis-ha is behind `redis-ha.enabled: false`.
                assert!(
                    !dep_names(&chart).contains(&"redis-ha"),
                    "{:?}",
                    dep_names(&chart)
                );
            }
            for d in &chart.dependencies {
                assert!(
                    matches!(vals.as_map().unwrap().borrow().get(d.name()), Some(Value::Map(_))),
                    "{name}/{}",
                    d.name()
                );
            }
        }
    }
}
