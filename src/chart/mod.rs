//! Stage 1 of the pipeline: loading a chart (directory or `.tgz`) into memory, as Helm v3.17 does.
//!
//! [`load`] reads `Chart.yaml` (plus a v1 chart's `requirements.yaml`), `values.yaml`,
//! `values.schema.json`, templates, plain files and, recursively, the subcharts under `charts/`.
//! Nothing here looks at values: which subcharts are enabled, aliases and imports are decided by
//! [`crate::values::resolve`].

pub mod archive;
pub mod body;
pub mod dependencies;
pub mod helmignore;
pub mod limits;
pub mod loader;
pub mod lock;
pub mod metadata;
pub mod package;
pub mod source;

use std::{fmt, path::Path};

pub use body::Body;
pub use dependencies::{is_compatible_range, Dependency};
pub use metadata::{Maintainer, Metadata};
pub use source::ChartRef;

use gotemplate::Value;

/// A file of a chart, named relative to the chart root with `/` separators.
#[derive(Debug, Clone, PartialEq)]
pub struct File {
    pub name: String,
    /// Shared, not owned: a chart's files (MBs of `crds/` and dashboards on big charts) are
    /// listed again in `crds`, cloned with their chart when a dependency is aliased or kept, and
    /// handed to `.Files`; each of those was a full copy. Big bodies loading does not need are
    /// read on first use ([`Body`]).
    pub data: Body,
}

/// A file under `templates/`, its text ready to be shared with the template engine.
#[derive(Debug, Clone)]
pub struct Template {
    pub name: String,
    /// The file as UTF-8 (invalid sequences replaced, as Go's strings would print them).
    pub text: gotemplate::Source,
}

/// A loaded chart.
#[derive(Debug, Clone)]
pub struct Chart {
    /// `Chart.yaml` (with `requirements.yaml` folded in for v1 charts).
    pub metadata: Metadata,
    /// `templates/**`, names like `templates/deployment.yaml`, in walk (byte) order.
    pub templates: Vec<Template>,
    /// What `.Files` holds: every file that is not `Chart.yaml`, `values.yaml`,
    /// `values.schema.json`, `Chart.lock`, a template or part of a subchart (v1 charts also keep
    /// `requirements.yaml`/`requirements.lock`; `charts/*.prov` stay too). Includes `crds/`.
    pub files: Vec<File>,
    /// `values.yaml` (an empty map when absent). Numbers are floats, as Helm decodes them.
    pub values: Value,
    /// `values.schema.json`: its file name and parsed content, or why it is not JSON. Helm reads
    /// the file only to validate values against it, so a schema that is not JSON fails the
    /// validation (and `--skip-schema-validation` renders the chart), not the load.
    pub schema: Option<(String, Result<serde_json::Value, String>)>,
    /// Subcharts from `charts/` (directories and `.tgz`), sorted by their entry name under `charts/`.
    pub dependencies: Vec<Chart>,
    /// `crds/` files with a manifest extension (`.yaml`, `.yml`, `.json`); also present in `files`.
    pub crds: Vec<File>,
    /// For charts with a `requirements.yaml`: the dependencies it declared (already folded into
    /// `metadata.dependencies`).
    pub requirements: Option<Vec<Dependency>>,
    /// The full path of the parent chart (`top/charts/sub`), empty for the top chart. Recomputed
    /// after aliasing by [`crate::values::resolve`].
    pub parent_path: String,
}

/// A chart or values error: one message, in Helm's wording where Helm has one, naming the file
/// (and line, where the parser knows it). `values::Error` is this type.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    /// The whole message, as printed.
    pub message: String,
}

impl Error {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Error {
        Error {
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// Loads a chart from a directory or a `.tgz`/`.tar.gz` archive (Helm's `loader.Load`), within
/// the limits of [`limits`]. Helm's stderr lines (a symlink followed) go to the log.
pub fn load(path: &Path) -> Result<Chart, Error> {
    load_reporting(path, &mut |w| tracing::warn!("{w}"))
}

/// [`load`], passing each line Helm prints to stderr while loading to `warn`.
pub fn load_reporting(path: &Path, warn: &mut dyn FnMut(String)) -> Result<Chart, Error> {
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::new(format!("stat {}: {}", path.display(), io_text(&e))))?;
    if meta.is_dir() {
        loader::load_dir_reporting(path, warn)
    } else {
        loader::load_archive_path(path)
    }
}

/// `values.schema.json` as gojsonschema reads it (a `json.Decoder`): the first JSON value, what
/// follows it unread; its error in Go's words (`EOF` for no value, `unexpected EOF` for a cut one).
fn schema_json(data: &[u8]) -> Result<serde_json::Value, String> {
    let first = serde_json::Deserializer::from_slice(data)
        .into_iter::<serde_json::Value>()
        .next();
    match first {
        Some(Ok(v)) => Ok(v),
        None => Err("EOF".to_string()),
        Some(Err(e)) => Err(match gotemplate::json_syntax::check(data) {
            Err(m) if m == "unexpected end of JSON input" => "unexpected EOF".to_string(),
            Err(m) => m,
            Ok(()) => e.to_string(),
        }),
    }
}

/// An io error in Go's words (`no such file or directory`), as Helm's messages carry them: Go's
/// syscall error texts are lower case and carry no "(os error N)".
pub(crate) fn io_text(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "is a directory".into(),
        std::io::ErrorKind::NotADirectory => "not a directory".into(),
        _ => e.to_string(),
    }
}

impl Chart {
    pub(crate) fn empty() -> Chart {
        Chart {
            metadata: Metadata::default(),
            templates: Vec::new(),
            files: Vec::new(),
            values: Value::new_map(),
            schema: None,
            dependencies: Vec::new(),
            crds: Vec::new(),
            requirements: None,
            parent_path: String::new(),
        }
    }

    /// The chart's name (an alias, once [`crate::values::resolve`] applied it).
    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    /// Whether `type: library` (such charts render no manifests).
    pub fn is_library(&self) -> bool {
        self.metadata.chart_type == "library"
    }

    /// Helm's `ChartFullPath`: `top/charts/sub/charts/subsub`, used in template names.
    pub fn full_path(&self) -> String {
        if self.parent_path.is_empty() {
            self.name().to_string()
        } else {
            format!("{}/charts/{}", self.parent_path, self.name())
        }
    }

    /// Helm's `checkIfInstallable`: only application charts (`type` empty or `application`) are
    /// installed or templated; a library chart only lends its partials to other charts.
    pub fn check_installable(&self) -> Result<(), Error> {
        match self.metadata.chart_type.as_str() {
            "" | "application" => Ok(()),
            other => Err(Error::new(format!("{other} charts are not installable"))),
        }
    }

    /// Helm's `action.CheckDependencies` with the hint `helm install`/`template` wraps it in: every
    /// dependency `Chart.yaml` lists needs a chart of that name under `charts/` (versions are
    /// checked later, and a mismatch only disables the subchart, as in Helm).
    pub fn check_dependencies_present(&self) -> Result<(), Error> {
        let missing: Vec<&str> = self
            .metadata
            .dependencies
            .iter()
            .filter(|req| !self.dependencies.iter().any(|d| d.name() == req.name))
            .map(|req| req.name.as_str())
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(Error::new(format!(
            "An error occurred while checking for chart dependencies. You may need to run `helm dependency build` to fetch missing dependencies: found in Chart.yaml, but missing in charts/ directory: {}",
            missing.join(", ")
        )))
    }

    /// The first failed read of a deferred body ([`Body`]) in the chart tree, if any.
    pub fn read_error(&self) -> Option<&Error> {
        let mine = self.files.iter().find_map(|f| f.data.read_error());
        mine.or_else(|| self.dependencies.iter().find_map(Chart::read_error))
    }

    /// Sets every subchart's `parent_path` from this chart's position in the tree.
    pub fn set_parent_paths(&mut self) {
        let me = self.full_path();
        for d in &mut self.dependencies {
            d.parent_path = me.clone();
            d.set_parent_paths();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/charts")
            .join(name)
    }

    fn names(files: &[File]) -> Vec<&str> {
        files.iter().map(|f| f.name.as_str()).collect()
    }

    fn template_names(templates: &[Template]) -> Vec<&str> {
        templates.iter().map(|t| t.name.as_str()).collect()
    }

    #[test]
    fn schema_json_errors_are_gojsonschemas() {
        // helm v3.17.2's validation errors for each values.schema.json (gojsonschema reads the
        // first value with a json.Decoder).
        let cases: &[(&str, Result<&str, &str>)] = &[
            (
                "{bad",
                Err("invalid character 'b' looking for beginning of object key string"),
            ),
            ("{", Err("unexpected EOF")),
            ("", Err("EOF")),
            ("  \n", Err("EOF")),
            (
                "[1,]",
                Err("invalid character ']' looking for beginning of value"),
            ),
            ("{\"a\":1} x", Ok("{\"a\":1}")),
        ];
        for (text, want) in cases {
            let got = schema_json(text.as_bytes()).map(|v| v.to_string());
            assert_eq!(got.as_deref().map_err(String::as_str), *want, "{text:?}");
        }
    }

    #[test]
    fn load_deps_fixture() {
        let c = load(&fixture("deps")).unwrap();
        assert_eq!(c.name(), "deps");
        // `appVersion: 1.10` is a float in YAML; Helm stringifies it as "1.1".
        assert_eq!(c.metadata.app_version, "1.1");
        assert_eq!(template_names(&c.templates), ["templates/cm.yaml"]);
        assert!(
            c.files.is_empty(),
            "values.yaml and Chart.yaml are not .Files: {:?}",
            names(&c.files)
        );
        let deps: Vec<&str> = c.dependencies.iter().map(Chart::name).collect();
        assert_eq!(deps, ["sub-a", "sub-b"]);
        assert_eq!(c.dependencies[1].full_path(), "deps/charts/sub-b");
        assert_eq!(
            template_names(&c.dependencies[1].templates),
            ["templates/svc.yaml"]
        );
        assert_eq!(c.metadata.dependencies.len(), 3);
        assert_eq!(c.metadata.dependencies[1].alias, "another");
        assert!(!c.is_library());
    }

    #[test]
    fn load_v1_with_requirements() {
        let c = load(&fixture("v1chart")).unwrap();
        assert_eq!(c.metadata.api_version, "v1");
        assert_eq!(c.metadata.dependencies.len(), 1);
        assert_eq!(c.metadata.dependencies[0].condition, "legacy.enabled");
        assert_eq!(c.requirements.as_ref().map(Vec::len), Some(1));
        // v1 charts keep requirements.yaml in .Files.
        assert_eq!(names(&c.files), ["requirements.yaml"]);
    }

    #[test]
    fn top_chart_checks() {
        let with = |chart_type: &str, declared: &[&str], present: &[&str]| {
            let mut c = Chart::empty();
            c.metadata.chart_type = chart_type.into();
            c.metadata.dependencies = declared
                .iter()
                .map(|n| Dependency {
                    name: n.to_string(),
                    ..Default::default()
                })
                .collect();
            c.dependencies = present
                .iter()
                .map(|n| {
                    let mut d = Chart::empty();
                    d.metadata.name = n.to_string();
                    d
                })
                .collect();
            c
        };
        type Case = (
            &'static str,
            Chart,
            Result<(), &'static str>,
            Result<(), &'static str>,
        );
        let cases: &[Case] = &[
            ("application", with("application", &[], &[]), Ok(()), Ok(())),
            ("untyped", with("", &[], &[]), Ok(()), Ok(())),
            ("library", with("library", &[], &[]), Err("library charts are not installable"), Ok(())),
            ("all present", with("", &["a", "b"], &["b", "a", "extra"]), Ok(()), Ok(())),
            (
                "two missing, in Chart.yaml order",
                with("", &["b", "a", "c"], &["a"]),
                Ok(()),
                Err("An error occurred while checking for chart dependencies. You may need to run `helm dependency build` to fetch missing dependencies: found in Chart.yaml, but missing in charts/ directory: b, c"),
            ),
        ];
        for (name, chart, installable, present) in cases {
            let got = chart.check_installable().map_err(|e| e.message);
            assert_eq!(got, installable.map_err(String::from), "{name}: installable");
            let got = chart.check_dependencies_present().map_err(|e| e.message);
            assert_eq!(got, present.map_err(String::from), "{name}: dependencies");
        }
    }

    #[test]
    fn load_library() {
        let c = load(&fixture("library")).unwrap();
        assert!(c.is_library());
    }

    #[test]
    fn helmignore_applied() {
        let c = load(&fixture("ignored")).unwrap();
        assert_eq!(template_names(&c.templates), ["templates/a.yaml"]);
        // Helm keeps `.helmignore` itself in `.Files` unless it ignores itself.
        assert_eq!(
            names(&c.files),
            [".helmignore", "crds/README.md", "crds/crd.yaml", "keep.txt"]
        );
        assert_eq!(names(&c.crds), ["crds/crd.yaml"]);
    }

    #[test]
    fn load_errors_table() {
        let dir = std::env::temp_dir().join(format!("kc-chart-test-{}", std::process::id()));
        type Case = (
            &'static str,
            &'static [(&'static str, &'static str)],
            &'static str,
        );
        let cases: &[Case] = &[
            (
                "no chart yaml",
                &[("values.yaml", "a: 1\n")],
                "Chart.yaml file is missing",
            ),
            (
                "no version",
                &[("Chart.yaml", "apiVersion: v2\nname: x\n")],
                "validation: chart.metadata.version is required",
            ),
            (
                "bad type",
                &[(
                    "Chart.yaml",
                    "apiVersion: v2\nname: x\nversion: 1.0.0\ntype: app\n",
                )],
                "validation: chart.metadata.type must be application or library",
            ),
            (
                "bad alias",
                &[(
                    "Chart.yaml",
                    "apiVersion: v2\nname: x\nversion: 1.0.0\ndependencies:\n- name: a\n  alias: a.b\n",
                )],
                "validation: dependency \"a\" has disallowed characters in the alias",
            ),
            (
                "stray file in charts",
                &[
                    ("Chart.yaml", "apiVersion: v2\nname: x\nversion: 1.0.0\n"),
                    ("charts/README.md", "hi"),
                ],
                "error unpacking subchart README.md in x: Chart.yaml file is missing",
            ),
        ];
        for (i, (name, files, want)) in cases.iter().enumerate() {
            let root = dir.join(i.to_string());
            for (p, text) in *files {
                let path = root.join(p);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, text).unwrap();
            }
            let got = load(&root).map(|_| ()).map_err(|e| e.message);
            assert_eq!(got, Err(want.to_string()), "{name}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn load_archive_file_and_not_archive() {
        let c = load(&fixture("deps/charts/sub-b-0.2.0.tgz")).unwrap();
        assert_eq!(c.name(), "sub-b");
        let err = load(&fixture("deps/values.yaml")).unwrap_err();
        assert!(
            err.message
                .ends_with("seems to be a YAML file, but expected a gzipped archive"),
            "{err}"
        );
    }

    #[test]
    fn load_corpus_charts() {
        let Some(paths) = crate::testing::corpus_charts() else {
            return;
        };
        for p in paths {
            let c = load(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            assert!(!c.name().is_empty(), "{}", p.display());
            assert!(!c.templates.is_empty() || c.is_library(), "{}", p.display());
        }
    }
}
