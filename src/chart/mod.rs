//! Stage 1 of the pipeline: loading a chart (directory or `.tgz`) into memory, as Helm v3.17 does.
//!
//! [`load`] reads `Chart.yaml` (plus a v1 chart's `requirements.yaml`), `values.yaml`,
//! `values.schema.json`, templates, plain files and, recursively, the subcharts under `charts/`.
//! Nothing here looks at values: which subcharts are enabled, aliases and imports are decided by
//! [`crate::values::resolve`].

pub mod archive;
pub mod dependencies;
pub mod helmignore;
pub mod loader;
pub mod metadata;

use std::{fmt, path::Path};

pub use dependencies::{is_compatible_range, Dependency};
pub use metadata::{Maintainer, Metadata};

use crate::gotemplate::Value;

/// A file of a chart, named relative to the chart root with `/` separators.
#[derive(Debug, Clone, PartialEq)]
pub struct File {
    pub name: String,
    pub data: Vec<u8>,
}

/// A loaded chart.
#[derive(Debug, Clone)]
pub struct Chart {
    /// `Chart.yaml` (with `requirements.yaml` folded in for v1 charts).
    pub metadata: Metadata,
    /// `templates/**`, names like `templates/deployment.yaml`, in walk (byte) order.
    pub templates: Vec<File>,
    /// What `.Files` holds: every file that is not `Chart.yaml`, `values.yaml`,
    /// `values.schema.json`, `Chart.lock`, a template or part of a subchart (v1 charts also keep
    /// `requirements.yaml`/`requirements.lock`; `charts/*.prov` stay too). Includes `crds/`.
    pub files: Vec<File>,
    /// `values.yaml` (an empty map when absent). Numbers are floats, as Helm decodes them.
    pub values: Value,
    /// `values.schema.json`: its file name and parsed content.
    pub schema: Option<(String, serde_json::Value)>,
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

/// A chart loading error; the message names the file (and line, where the parser knows it).
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

/// Loads a chart from a directory or a `.tgz`/`.tar.gz` archive (Helm's `loader.Load`).
pub fn load(path: &Path) -> Result<Chart, Error> {
    let meta = std::fs::metadata(path).map_err(|e| Error::new(format!("stat {}: {}", path.display(), io_text(&e))))?;
    if meta.is_dir() {
        loader::load_dir(path)
    } else {
        loader::load_archive_path(path)
    }
}

/// Go's wording for the common I/O errors (`no such file or directory`).
fn io_text(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
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

    /// Sets every subchart's `parent_path` from this chart's position in the tree.
    pub fn set_parent_paths(&mut self) {
        let me = self.full_path();
        for d in &mut self.dependencies {
            d.parent_path = me.clone();
            d.set_parent_paths();
        }
    }
}
