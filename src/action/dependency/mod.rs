//! The `dependency` verbs: `list`, `update` and `build` (Helm's `pkg/downloader` manager).
//!
//! `update` resolves each `Chart.yaml` dependency to one version, fetches every archive into
//! memory, and only then writes `charts/` (through a temporary folder, renamed file by file) and
//! `Chart.lock`. `build` installs exactly what the lock says, after checking that the lock still
//! belongs to `Chart.yaml` (Helm's digest). Where Helm differs from us on purpose:
//!
//! - an `https://` dependency needs no `repo add`, for `build` as for `update` (helm#8036);
//! - only the repositories the chart uses are refreshed, each index is downloaded once and
//!   scanned for the one chart's block rather than decoded whole (helm#9865);
//! - every archive from a repository is checked against the index's `digest` (Helm 3 does not
//!   check), and OCI blobs against their manifest, so a changed upstream archive is refused.
//!
//! Start with [`update`]: classify sources, fetch indexes, resolve, fetch archives, then write.

mod list;
mod resolve;
mod write;

use std::path::{Path, PathBuf};

use anyhow::Context as _;

pub use list::{dependency_list, DependencyListOptions};

use super::locate::ChartSourceOptions;
use crate::chart::{
    lock::{hash_req, hash_v2_req, Lock, Locked},
    Dependency,
};

/// What `dependency update` and `dependency build` take.
#[derive(Debug, Clone, Default)]
pub struct DependencyOptions {
    /// The chart directory.
    pub chart: PathBuf,
    /// Registry and repository connection flags (`--plain-http`, `--ca-file`, credentials).
    pub source: ChartSourceOptions,
    /// `--skip-refresh`: use the cached indexes of the repositories.
    pub skip_refresh: bool,
}

/// What happened, in Helm's words, for the command to print.
#[derive(Debug, Clone, Default)]
pub struct DependencyResult {
    /// Progress lines (`Saving 2 charts`, `Downloading x from repo y`, …).
    pub messages: Vec<String>,
    /// The archives written to `charts/`.
    pub written: Vec<PathBuf>,
}

/// The loaded chart a verb works on: its dependencies as Helm loads them, and its lock.
struct Loaded {
    dir: PathBuf,
    api_v1: bool,
    requested: Vec<Dependency>,
    lock: Option<Lock>,
}

impl Loaded {
    fn lock_file_name(&self) -> &'static str {
        if self.api_v1 {
            "requirements.lock"
        } else {
            "Chart.lock"
        }
    }
}

/// Helm's `loadChartDir`: only unpacked charts have dependencies to manage.
fn load(dir: &Path) -> anyhow::Result<Loaded> {
    let meta = std::fs::metadata(dir).with_context(|| format!("could not find {}", dir.display()))?;
    if !meta.is_dir() {
        anyhow::bail!("only unpacked charts can be updated");
    }
    let chart = crate::chart::loader::load_dir(dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    let api_v1 = chart.metadata.api_version == "v1";
    let lock_name = if api_v1 { "requirements.lock" } else { "Chart.lock" };
    let lock_path = dir.join(lock_name);
    let lock = match std::fs::read_to_string(&lock_path) {
        Ok(text) => Some(Lock::parse(&text, &lock_path.display().to_string()).map_err(anyhow::Error::msg)?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(anyhow::Error::new(e).context(format!("reading {}", lock_path.display()))),
    };
    Ok(Loaded {
        dir: dir.to_path_buf(),
        api_v1,
        requested: chart.metadata.dependencies,
        lock,
    })
}

/// `dependency update`: resolve, fetch, then write `charts/` and the lock.
pub fn update(opts: &DependencyOptions) -> anyhow::Result<DependencyResult> {
    let mut loaded = load(&opts.chart)?;
    let mut result = DependencyResult::default();
    if loaded.requested.is_empty() {
        return Ok(result);
    }
    let mut repos = resolve::Repositories::load()?;
    let sources = repos.classify(&mut loaded.requested, &loaded.dir)?;
    repos.fetch_indexes(&sources, opts, &mut result.messages)?;
    let plan = resolve::resolve(&loaded, &sources, &repos, opts)?;
    let fetched = write::fetch_all(&loaded, &plan, &repos, opts, &mut result.messages)?;
    let locked: Vec<Locked> = plan.iter().map(|p| p.locked.clone()).collect();
    let lock = Lock {
        generated: generated_now(),
        digest: hash_req(&loaded.requested, &locked),
        dependencies: locked,
    };
    // Helm keeps a lock whose digest did not change (its `generated` stays as it was).
    let lock_text = match &loaded.lock {
        Some(old) if old.digest == lock.digest => None,
        _ => Some(lock.to_yaml()),
    };
    result.written = write::install(
        &loaded,
        &plan,
        fetched,
        lock_text.as_deref(),
        &repos,
        &mut result.messages,
    )?;
    Ok(result)
}

/// `dependency build`: install exactly what the lock says (no lock: `update`).
pub fn build(opts: &DependencyOptions) -> anyhow::Result<DependencyResult> {
    let mut loaded = load(&opts.chart)?;
    let Some(lock) = loaded.lock.clone() else {
        return update(opts);
    };
    let mut result = DependencyResult::default();
    // A v1 chart's lock may come from Helm 2, whose digest is of requirements.yaml as written
    // (before aliases are resolved); Helm 3 accepts it (helm#7233).
    let v2_sum = loaded.api_v1.then(|| hash_v2_req(&loaded.requested));
    let mut repos = resolve::Repositories::load()?;
    // Classifying replaces `@name` repositories by their URLs, as Helm does before hashing.
    repos.classify(&mut loaded.requested, &loaded.dir)?;
    if hash_req(&loaded.requested, &lock.dependencies) != lock.digest && v2_sum.as_ref() != Some(&lock.digest)
    {
        let (lock_name, deps_name) = if loaded.api_v1 {
            ("requirements.lock", "requirements.yaml")
        } else {
            ("Chart.lock", "Chart.yaml")
        };
        anyhow::bail!(
            "the lock file ({lock_name}) is out of sync with the dependencies file ({deps_name}). Please update the dependencies"
        );
    }
    let locked_sources = repos.classify_locked(&lock.dependencies, &loaded.dir)?;
    repos.fetch_indexes(&locked_sources, opts, &mut result.messages)?;
    let plan = resolve::from_lock(&lock, &locked_sources, &repos)?;
    let fetched = write::fetch_all(&loaded, &plan, &repos, opts, &mut result.messages)?;
    result.written = write::install(&loaded, &plan, fetched, None, &repos, &mut result.messages)?;
    Ok(result)
}

/// Go's `time.Now()` as `encoding/json` writes it (RFC 3339 with nanoseconds, trailing zeros
/// dropped), in UTC.
fn generated_now() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    rfc3339_nano(now.as_secs() as i64, now.subsec_nanos())
}

fn rfc3339_nano(secs: i64, nanos: u32) -> String {
    let base = crate::output::time::rfc3339(crate::release::Timestamp(secs));
    if nanos == 0 {
        return base;
    }
    let frac = format!("{nanos:09}");
    let frac = frac.trim_end_matches('0');
    format!("{}.{frac}Z", base.trim_end_matches('Z'))
}

#[cfg(test)]
mod tests {
    #[test]
    fn generated_time_is_gos_rfc3339_nano() {
        let cases = [
            (0, 0, "1970-01-01T00:00:00Z"),
            (1_796_997_072, 582_576_011, "2026-12-11T13:51:12.582576011Z"),
            (1_796_997_072, 500_000_000, "2026-12-11T13:51:12.5Z"),
        ];
        for (s, n, want) in cases {
            assert_eq!(super::rfc3339_nano(s, n), want, "{s}.{n}");
        }
    }
}
