//! `package`: a chart directory becomes `<name>-<version>.tgz` (Helm's `action.Package`), written
//! reproducibly by [`crate::chart::package`] so the same chart always gives the same digest.
//!
//! Order: `--dependency-update` first (it writes `charts/` and `Chart.lock`, as Helm does), then
//! load and check (version is semver, every dependency present in `charts/`), then pack in
//! memory, and only then write the archive, through a temporary name.

use std::path::PathBuf;

use super::dependency::{self, DependencyOptions};
use crate::chart::{loader, package};

/// What `package` takes.
#[derive(Debug, Clone, Default)]
pub struct PackageOptions {
    /// The chart directory.
    pub chart: PathBuf,
    /// `-d/--destination`.
    pub destination: PathBuf,
    /// `--version`.
    pub version: Option<String>,
    /// `--app-version`.
    pub app_version: Option<String>,
    /// `--dependency-update`, with the connection flags it uses.
    pub dependency_update: Option<DependencyOptions>,
}

/// What was written, and what the dependency update printed.
#[derive(Debug, Clone)]
pub struct PackageResult {
    /// The archive.
    pub path: PathBuf,
    /// Its digest (`sha256:…`).
    pub digest: String,
    /// Progress lines of `--dependency-update`.
    pub messages: Vec<String>,
}

/// The modification time every entry gets: `SOURCE_DATE_EPOCH` (the reproducible-builds
/// convention) when set, else the epoch.
fn entry_mtime() -> u64 {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Packs a chart directory.
pub fn package(opts: &PackageOptions) -> anyhow::Result<PackageResult> {
    let mut messages = Vec::new();
    if let Some(dep) = &opts.dependency_update {
        let r = dependency::update(&DependencyOptions {
            chart: opts.chart.clone(),
            ..dep.clone()
        })?;
        messages = r.messages;
    }
    let meta =
        std::fs::metadata(&opts.chart).map_err(|e| anyhow::anyhow!("{}: {e}", opts.chart.display()))?;
    if !meta.is_dir() {
        anyhow::bail!("{}: not a chart directory", opts.chart.display());
    }
    let files =
        loader::read_dir_files(&opts.chart).map_err(|e| anyhow::anyhow!("{}: {e}", opts.chart.display()))?;
    // Helm's checks before saving: the version (after --version) is semver and every listed
    // dependency is in charts/.
    let chart =
        loader::load_files(files.clone()).map_err(|e| anyhow::anyhow!("{}: {e}", opts.chart.display()))?;
    let version = opts
        .version
        .clone()
        .filter(|v| !v.is_empty())
        .unwrap_or(chart.metadata.version.clone());
    gotemplate::semver::parse_version(&version).map_err(|e| anyhow::anyhow!("{e}"))?;
    chart
        .check_dependencies_present()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let archive = package::save(
        files,
        &package::SaveOptions {
            version: opts.version.clone(),
            app_version: opts.app_version.clone(),
            mtime: entry_mtime(),
        },
    )
    .map_err(|e| anyhow::anyhow!("failed to save: {e}"))?;
    // Helm reports `-d .` as the absolute working directory.
    let dest = if opts.destination == std::path::Path::new(".") {
        std::env::current_dir()?
    } else {
        opts.destination.clone()
    };
    let path = dest.join(&archive.file_name);
    super::pull::write_atomic(&path, &archive.data)?;
    Ok(PackageResult {
        digest: crate::cache::digest_of(&archive.data),
        path,
        messages,
    })
}
