//! Where each dependency comes from and which version it gets (Helm's `resolveRepoNames`,
//! `ensureMissingRepos` and `resolver.Resolve`), with the indexes it needs, fetched once.
//!
//! A repository named in `Chart.yaml` is a configured one (by `@name`, `alias:name` or its URL),
//! or any other `http(s)://` URL, which is used directly under Helm's generated cache name
//! (`helm-manager-<sha256 of the URL>`), so `--skip-refresh` finds it later as Helm would.
//! Versions are picked from the index bytes by [`crate::repo::find_version`], which reads one
//! chart's block instead of decoding the whole index.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use anyhow::Context as _;

use super::{DependencyOptions, Loaded};
use crate::{
    chart::{
        is_compatible_range,
        lock::{Lock, Locked},
        Dependency,
    },
    repo::{self, ChartVersion, Entry, FindError, HelmPaths, RepoFile, SelectError},
};

/// Helm's prefix for the cache names of repositories that were not added.
const MANAGER_KEY_PREFIX: &str = "helm-manager-";

/// Where one dependency comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Source {
    /// No repository: the chart is already in `charts/<name>`.
    Local,
    /// `file://…`: a chart directory, packed on the fly.
    File(PathBuf),
    /// `oci://…`: a registry repository (the chart is `<url>/<name>`).
    Oci(String),
    /// A chart repository, by its entry name in [`Repositories`].
    Repo(String),
}

/// A dependency with its version decided.
#[derive(Debug, Clone)]
pub(super) struct Planned {
    /// What goes into the lock.
    pub locked: Locked,
    /// Where to fetch it from.
    pub source: Source,
    /// For a repository chart: the index entry (its URLs and digest).
    pub entry: Option<ChartVersion>,
}

/// The repositories a chart's dependencies use, and their indexes.
pub(super) struct Repositories {
    paths: HelmPaths,
    configured: RepoFile,
    /// Entry name → entry (configured, or generated for a bare URL).
    entries: BTreeMap<String, Entry>,
    /// Entry name → index bytes.
    indexes: BTreeMap<String, bytes::Bytes>,
    /// Indexes downloaded by this run, to be cached with the rest of the writes.
    refreshed: BTreeSet<String>,
}

/// Helm's `urlutil.Equal`, for the URLs repositories are written with: equal up to trailing
/// slashes.
fn url_equal(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

/// Helm's `resolver.GetLocalPath`: `file://` paths are relative to the chart directory.
pub(super) fn local_path(repository: &str, chart_dir: &Path) -> anyhow::Result<PathBuf> {
    let p = repository.trim_start_matches("file://");
    let path = if p.starts_with('/') {
        PathBuf::from(p)
    } else {
        chart_dir.join(p)
    };
    if !path.exists() {
        anyhow::bail!("directory {} not found", path.display());
    }
    Ok(path)
}

impl Repositories {
    /// Reads `repositories.yaml` (a missing file is an empty one).
    pub fn load() -> anyhow::Result<Repositories> {
        let paths = HelmPaths::from_env();
        let configured = RepoFile::load(&paths.repository_config)?;
        Ok(Repositories {
            paths,
            configured,
            entries: BTreeMap::new(),
            indexes: BTreeMap::new(),
            refreshed: BTreeSet::new(),
        })
    }

    /// The entry a source names.
    pub fn entry(&self, name: &str) -> &Entry {
        &self.entries[name]
    }

    /// Decides each requested dependency's source; `@name` and `alias:name` repositories are
    /// replaced by the repository's URL, as Helm does before it hashes the dependencies.
    pub fn classify(
        &mut self,
        requested: &mut [Dependency],
        chart_dir: &Path,
    ) -> anyhow::Result<Vec<Source>> {
        let mut sources = Vec::with_capacity(requested.len());
        let mut missing = Vec::new();
        for d in requested.iter_mut() {
            match self.source_of(&d.repository, chart_dir)? {
                Some((source, url)) => {
                    if let Some(url) = url {
                        d.repository = url;
                    }
                    sources.push(source);
                }
                None => {
                    missing.push(d.repository.clone());
                    sources.push(Source::Local);
                }
            }
        }
        if !missing.is_empty() {
            let mut message = format!(
                "no repository definition for {}. Please add them via 'kubectl chart repo add'",
                missing.join(", ")
            );
            if missing
                .iter()
                .any(|r| !r.contains("//") && !r.starts_with('@') && !r.starts_with("alias:"))
            {
                message.push_str(
                    "\nNote that repositories must be URLs or aliases. For example, to refer to the \"example\"\n\
                     repository, use \"https://charts.example.com/\" or \"@example\" instead of\n\
                     \"example\". Don't forget to add the repo, too ('kubectl chart repo add').",
                );
            }
            anyhow::bail!(message);
        }
        Ok(sources)
    }

    /// The sources of a lock's entries (their repositories are already URLs).
    pub fn classify_locked(&mut self, locked: &[Locked], chart_dir: &Path) -> anyhow::Result<Vec<Source>> {
        locked
            .iter()
            .map(|l| {
                self.source_of(&l.repository, chart_dir)?
                    .map(|(s, _)| s)
                    .ok_or_else(|| anyhow::anyhow!("no repository definition for {}", l.repository))
            })
            .collect()
    }

    /// One repository string's source, and the URL it stands for when it was an alias. `None`
    /// when it names no repository at all.
    fn source_of(
        &mut self,
        repository: &str,
        chart_dir: &Path,
    ) -> anyhow::Result<Option<(Source, Option<String>)>> {
        if repository.is_empty() {
            return Ok(Some((Source::Local, None)));
        }
        if repository.starts_with("file://") {
            return Ok(Some((Source::File(local_path(repository, chart_dir)?), None)));
        }
        if repository.starts_with("oci://") {
            return Ok(Some((Source::Oci(repository.to_string()), None)));
        }
        let alias = repository
            .strip_prefix('@')
            .or_else(|| repository.strip_prefix("alias:"));
        let found = self.configured.repositories.iter().find(|e| match alias {
            Some(a) => e.name == a,
            None => url_equal(&e.url, repository),
        });
        if let Some(e) = found {
            self.entries.insert(e.name.clone(), e.clone());
            let url = alias.map(|_| e.url.clone());
            return Ok(Some((Source::Repo(e.name.clone()), url)));
        }
        if alias.is_some() || !(repository.starts_with("https://") || repository.starts_with("http://")) {
            return Ok(None);
        }
        let name = format!(
            "{MANAGER_KEY_PREFIX}{}",
            crate::net::sha256_hex(repository.as_bytes())
        );
        self.entries.insert(
            name.clone(),
            Entry {
                name: name.clone(),
                url: repository.to_string(),
                ..Entry::default()
            },
        );
        Ok(Some((Source::Repo(name), None)))
    }

    /// Loads the index of every repository in `sources`: downloaded (all at once) unless
    /// `--skip-refresh`, else read from Helm's cache.
    pub fn fetch_indexes(
        &mut self,
        sources: &[Source],
        opts: &DependencyOptions,
        messages: &mut Vec<String>,
    ) -> anyhow::Result<()> {
        let names: BTreeSet<String> = sources
            .iter()
            .filter_map(|s| match s {
                Source::Repo(n) if !self.indexes.contains_key(n) => Some(n.clone()),
                _ => None,
            })
            .collect();
        if names.is_empty() {
            return Ok(());
        }
        if opts.skip_refresh {
            for name in names {
                let path = self.paths.index_file(&name);
                let data = std::fs::read(&path).map_err(|e| {
                    anyhow::anyhow!(
                        "no cached repository for {name} found. (try 'kubectl chart repo update'): {}: {e}",
                        path.display()
                    )
                })?;
                self.indexes.insert(name, data.into());
            }
            return Ok(());
        }
        messages.push("Hang tight while we grab the latest from your chart repositories...".into());
        let mut jobs = Vec::new();
        for name in &names {
            let mut entry = self.entries[name].clone();
            if name.starts_with(MANAGER_KEY_PREFIX) {
                // A repository that was not added gets the command's connection flags.
                let text =
                    |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
                entry.ca_file = text(&opts.source.tls.ca_file);
                entry.cert_file = text(&opts.source.tls.cert_file);
                entry.key_file = text(&opts.source.tls.key_file);
                entry.insecure_skip_tls_verify = opts.source.tls.insecure_skip_tls_verify;
                entry.username = opts.source.username.clone().unwrap_or_default();
                entry.password = opts.source.password.clone().unwrap_or_default();
                self.entries.insert(name.clone(), entry.clone());
            }
            let client = crate::action::repo::client_for(&entry)?;
            jobs.push(async move {
                let url = repo::resolve_url(&entry.url, "index.yaml");
                let got =
                    crate::action::repo::get(&client, &entry, &url, repo::index::MAX_INDEX_BYTES as u64)
                        .await;
                (entry, got)
            });
        }
        let results = crate::action::locate::block_on(futures::future::join_all(jobs))?;
        for (entry, got) in results {
            let resp = got.map_err(|e| {
                anyhow::anyhow!(
                    "looks like {:?} is not a valid chart repository or cannot be reached: {e:#}",
                    entry.url
                )
            })?;
            let shown = if entry.name.starts_with(MANAGER_KEY_PREFIX) {
                &entry.url
            } else {
                &entry.name
            };
            messages.push(format!(
                "...Successfully got an update from the {shown:?} chart repository"
            ));
            self.refreshed.insert(entry.name.clone());
            self.indexes.insert(entry.name, resp.body);
        }
        messages.push("Update Complete. ⎈Happy Helming!⎈".into());
        Ok(())
    }

    /// Finds `name` matching `wanted` in a repository's index.
    pub fn find(
        &self,
        repo_name: &str,
        chart: &str,
        wanted: &str,
        repository: &str,
    ) -> anyhow::Result<Option<ChartVersion>> {
        let data = &self.indexes[repo_name];
        let source = self.paths.index_file(repo_name).display().to_string();
        let mut warnings = Vec::new();
        match repo::find_version(data, chart, wanted, &source, &mut warnings) {
            Ok(cv) if cv.urls.is_empty() => Ok(None),
            Ok(cv) => Ok(Some(cv)),
            Err(FindError::Select(SelectError::NoName)) => {
                anyhow::bail!("{chart} chart not found in repo {repository}")
            }
            Err(FindError::Select(SelectError::BadConstraint(e))) => {
                anyhow::bail!("dependency {chart:?} has an invalid version/constraint format: {e}")
            }
            Err(FindError::Select(_)) => Ok(None),
            Err(FindError::Index(e)) => Err(anyhow::Error::new(e).context(format!(
                "no cached repository for {repo_name} found. (try 'kubectl chart repo update')"
            ))),
        }
    }

    /// Writes the indexes this run downloaded into Helm's repository cache (as `repo update`
    /// would), so a later `--skip-refresh` sees them.
    pub fn write_cache(&self) -> anyhow::Result<()> {
        for name in &self.refreshed {
            let path = self.paths.index_file(name);
            repo::write_atomic(&path, &self.indexes[name], 0o644)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        Ok(())
    }
}

/// Helm's `resolver.Resolve`: one version for each requested dependency.
pub(super) fn resolve(
    loaded: &Loaded,
    sources: &[Source],
    repos: &Repositories,
    opts: &DependencyOptions,
) -> anyhow::Result<Vec<Planned>> {
    let mut planned = Vec::with_capacity(sources.len());
    let mut missing = Vec::new();
    for (d, source) in loaded.requested.iter().zip(sources) {
        gotemplate::semver::Constraints::parse(&d.version).map_err(|e| {
            anyhow::anyhow!(
                "dependency {:?} has an invalid version/constraint format: {e}",
                d.name
            )
        })?;
        let mut locked = Locked {
            name: d.name.clone(),
            repository: d.repository.clone(),
            version: d.version.clone(),
        };
        let mut entry = None;
        let found = match source {
            Source::Local => {
                local_path(&format!("charts/{}", d.name), &loaded.dir)?;
                true
            }
            Source::File(path) => {
                let chart = crate::chart::loader::load_dir(path)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                locked.version = chart.metadata.version.clone();
                is_compatible_range(&d.version, &chart.metadata.version)
            }
            Source::Oci(url) => match oci_version(url, d, opts)? {
                Some(v) => {
                    locked.version = v;
                    true
                }
                None => false,
            },
            Source::Repo(name) => match repos.find(name, &d.name, &d.version, &d.repository)? {
                Some(cv) => {
                    locked.version = cv.metadata.version.clone();
                    entry = Some(cv);
                    true
                }
                None => false,
            },
        };
        if !found {
            missing.push(format!(
                "{:?} (repository {:?}, version {:?})",
                d.name, d.repository, d.version
            ));
        }
        planned.push(Planned {
            locked,
            source: source.clone(),
            entry,
        });
    }
    if !missing.is_empty() {
        anyhow::bail!(
            "can't get a valid version for {} subchart(s): {}. Make sure a matching chart version exists in the repo, or change the version constraint in Chart.yaml",
            missing.len(),
            missing.join(", ")
        );
    }
    Ok(planned)
}

/// An OCI dependency's version: an exact version is taken as the tag; a range is matched
/// against the repository's tags, newest first.
fn oci_version(url: &str, d: &Dependency, opts: &DependencyOptions) -> anyhow::Result<Option<String>> {
    if gotemplate::semver::parse_version(&d.version).is_ok() {
        return Ok(Some(d.version.clone()));
    }
    let reference = format!("{}/{}", url.trim_end_matches('/'), d.name);
    let r = crate::registry::Reference::parse(&reference).map_err(anyhow::Error::msg)?;
    let client = crate::action::locate::registry_client(&opts.source)?;
    let tags = crate::action::locate::block_on(client.tags(&r))?
        .with_context(|| format!("could not retrieve list of tags for repository {url}"))?;
    let constraint = gotemplate::semver::Constraints::parse(&d.version).map_err(anyhow::Error::msg)?;
    Ok(crate::registry::resolve::semver_tags(&tags)
        .into_iter()
        .find(|t| gotemplate::semver::parse_version(t).is_ok_and(|v| constraint.matches(&v))))
}

/// `build`: the plan is the lock, each repository chart looked up by its exact version.
pub(super) fn from_lock(
    lock: &Lock,
    sources: &[Source],
    repos: &Repositories,
) -> anyhow::Result<Vec<Planned>> {
    lock.dependencies
        .iter()
        .zip(sources)
        .map(|(l, source)| {
            let entry = match source {
                Source::Repo(name) => Some(
                    repos
                        .find(name, &l.name, &l.version, &l.repository)?
                        .ok_or_else(|| {
                            anyhow::anyhow!(
                                "chart {} version {} (locked in the lock file) not found in {}",
                                l.name,
                                l.version,
                                l.repository
                            )
                        })?,
                ),
                _ => None,
            };
            Ok(Planned {
                locked: l.clone(),
                source: source.clone(),
                entry,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_equal_ignores_trailing_slashes() {
        let cases = [
            ("https://h/charts", "https://h/charts/", true),
            ("https://h/charts", "https://h/charts", true),
            ("https://h/charts", "https://h/other", false),
        ];
        for (a, b, want) in cases {
            assert_eq!(url_equal(a, b), want, "{a} {b}");
        }
    }

    #[test]
    fn sources_by_repository_string() {
        let dir = std::env::temp_dir().join(format!("kc-dep-src-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        let mut repos = Repositories {
            paths: HelmPaths::resolve(|_| None),
            configured: RepoFile::parse(
                "apiVersion: \"\"\ngenerated: \"0001-01-01T00:00:00Z\"\nrepositories:\n- name: stable\n  url: https://h/stable\n",
                "repositories.yaml",
            )
            .unwrap(),
            entries: BTreeMap::new(),
            indexes: BTreeMap::new(),
            refreshed: BTreeSet::new(),
        };
        let unmanaged = format!("helm-manager-{}", crate::net::sha256_hex(b"https://other/charts"));
        type Case = (&'static str, Option<(Source, Option<String>)>);
        let cases: Vec<Case> = vec![
            ("", Some((Source::Local, None))),
            ("file://sub", Some((Source::File(dir.join("sub")), None))),
            (
                "oci://r/charts",
                Some((Source::Oci("oci://r/charts".into()), None)),
            ),
            (
                "@stable",
                Some((Source::Repo("stable".into()), Some("https://h/stable".into()))),
            ),
            (
                "alias:stable",
                Some((Source::Repo("stable".into()), Some("https://h/stable".into()))),
            ),
            ("https://h/stable/", Some((Source::Repo("stable".into()), None))),
            ("https://other/charts", Some((Source::Repo(unmanaged), None))),
            ("@nope", None),
            ("stable", None),
        ];
        for (repository, want) in cases {
            assert_eq!(repos.source_of(repository, &dir).unwrap(), want, "{repository:?}");
        }
        assert!(repos.source_of("file://missing", &dir).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
