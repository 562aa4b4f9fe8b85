//! Fetching every planned dependency into memory, then writing `charts/` and the lock
//! (Helm's `downloadAll` and `safeMoveDeps`).
//!
//! Archives keep Helm's file names: the last path segment of a repository chart's URL,
//! `<name>-<version>.tgz` for OCI and `file://` charts. They are written into a temporary
//! folder beside `charts/` and renamed in one by one; archives in `charts/` that no dependency
//! wrote any more are deleted, except charts that a dependency without repository names.

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
};

use anyhow::Context as _;

use super::{
    resolve::{Planned, Repositories, Source},
    DependencyOptions, Loaded,
};
use crate::chart::{is_compatible_range, loader, package};

/// How many archives are downloaded at once.
const PARALLEL_DOWNLOADS: usize = 4;

/// A download, described with plain data so it can run on its own thread.
struct Job {
    /// Its place in the fetched list.
    slot: usize,
    /// The URL or reference, for messages.
    what: String,
    kind: JobKind,
    file_name: String,
}

enum JobKind {
    Oci(String),
    Repo {
        // Boxed: a repository entry (URL, credentials, TLS files) is most of a job's size.
        entry: Box<crate::repo::Entry>,
        name: String,
        version: String,
        urls: Vec<String>,
        digest: String,
    },
}

impl Job {
    /// Downloads and verifies the archive; returns it with the notices to print.
    fn run(&self, source: &crate::action::ChartSourceOptions) -> anyhow::Result<(Vec<u8>, Vec<String>)> {
        let located = match &self.kind {
            JobKind::Oci(reference) => crate::action::locate::locate_oci(
                reference,
                &crate::action::ChartSourceOptions {
                    version: String::new(),
                    devel: false,
                    ..source.clone()
                },
            )?,
            JobKind::Repo {
                entry,
                name,
                version,
                urls,
                digest,
            } => {
                let cv = crate::repo::ChartVersion {
                    metadata: crate::chart::Metadata {
                        name: name.clone(),
                        version: version.clone(),
                        ..Default::default()
                    },
                    urls: urls.clone(),
                    created: String::new(),
                    digest: digest.clone(),
                    removed: false,
                };
                crate::action::repo::download(entry, cv, source, Vec::new())?
            }
        };
        Ok((located.archive.unwrap_or_default(), located.notices))
    }
}

/// One archive, fetched and verified, waiting to be written.
#[derive(Default)]
pub(super) struct Fetched {
    file_name: String,
    data: Vec<u8>,
}

/// Fetches every dependency (nothing is written to the chart).
pub(super) fn fetch_all(
    loaded: &Loaded,
    plan: &[Planned],
    repos: &Repositories,
    opts: &DependencyOptions,
    messages: &mut Vec<String>,
) -> anyhow::Result<Vec<Fetched>> {
    messages.push(format!("Saving {} charts", plan.len()));
    let mut fetched = Vec::new();
    let mut jobs: Vec<Job> = Vec::new();
    let mut urls = BTreeSet::new();
    for p in plan {
        let l = &p.locked;
        match &p.source {
            Source::Local => {
                messages.push(format!(
                    "Dependency {} did not declare a repository. Assuming it exists in the charts directory",
                    l.name
                ));
                let path = loaded.dir.join("charts").join(&l.name);
                let chart = loader::load_dir(&path)
                    .map_err(|e| anyhow::anyhow!("unable to load chart '{}': {e}", path.display()))?;
                if !is_compatible_range(&l.version, &chart.metadata.version) {
                    anyhow::bail!(
                        "dependency {} at version {} does not satisfy the constraint {}",
                        l.name,
                        chart.metadata.version,
                        l.version
                    );
                }
            }
            Source::File(path) => {
                let files =
                    loader::read_dir_files(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                let archive = package::save(files, &package::SaveOptions::default())
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                if !is_compatible_range(&l.version, &archive.metadata.version) {
                    anyhow::bail!("can't get a valid version for dependency {}", l.name);
                }
                fetched.push(Fetched {
                    file_name: archive.file_name,
                    data: archive.data,
                });
            }
            Source::Oci(url) => {
                let reference = format!("{}/{}:{}", url.trim_end_matches('/'), l.name, l.version);
                messages.push(format!("Downloading {} from repo {}", l.name, l.repository));
                jobs.push(Job {
                    slot: fetched.len(),
                    what: reference.clone(),
                    kind: JobKind::Oci(reference),
                    file_name: format!("{}-{}.tgz", l.name, l.version),
                });
                fetched.push(Fetched::default());
            }
            Source::Repo(name) => {
                let cv = p
                    .entry
                    .as_ref()
                    .expect("repository charts are planned with their entry");
                let first = cv.urls.first().cloned().unwrap_or_default();
                let url = crate::repo::resolve_url(&repos.entry(name).url, &first);
                if !urls.insert(url.clone()) {
                    messages.push(format!(
                        "Already downloaded {} from repo {}",
                        l.name, l.repository
                    ));
                    continue;
                }
                messages.push(format!("Downloading {} from repo {}", l.name, l.repository));
                let file_name = if url.starts_with("oci://") {
                    format!("{}-{}.tgz", l.name, l.version)
                } else {
                    url_file_name(&url)
                };
                jobs.push(Job {
                    slot: fetched.len(),
                    what: url,
                    kind: JobKind::Repo {
                        entry: Box::new(repos.entry(name).clone()),
                        name: cv.metadata.name.clone(),
                        version: cv.metadata.version.clone(),
                        urls: cv.urls.clone(),
                        digest: cv.digest.clone(),
                    },
                    file_name,
                });
                fetched.push(Fetched::default());
            }
        }
    }
    // Downloads run a few at a time (they wait on the network, not the CPU); results keep the
    // dependencies' order, and the first failure in that order is the error.
    for batch in jobs.chunks(PARALLEL_DOWNLOADS) {
        let results: Vec<anyhow::Result<(Vec<u8>, Vec<String>)>> = std::thread::scope(|scope| {
            let handles: Vec<_> = batch
                .iter()
                .map(|job| scope.spawn(|| job.run(&opts.source)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(anyhow::anyhow!("a download thread panicked")))
                })
                .collect()
        });
        for (job, result) in batch.iter().zip(results) {
            let (data, notices) = result.with_context(|| format!("could not download {}", job.what))?;
            messages.extend(notices);
            fetched[job.slot] = Fetched {
                file_name: job.file_name.clone(),
                data,
            };
        }
    }
    Ok(fetched)
}

/// The last segment of a URL's path (Helm saves a download under `filepath.Base(u.Path)`).
fn url_file_name(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let path = path.split_once("://").map_or(path, |(_, rest)| rest);
    let path = path.split_once('/').map_or("", |(_, p)| p);
    gotemplate::gostr::path_clean(&format!("/{path}"))
        .rsplit('/')
        .next()
        .filter(|n| !n.is_empty())
        .unwrap_or("chart.tgz")
        .to_string()
}

/// Writes the archives into `charts/`, drops outdated ones, caches refreshed indexes and
/// writes the lock (when given). Returns the archives written.
pub(super) fn install(
    loaded: &Loaded,
    plan: &[Planned],
    fetched: Vec<Fetched>,
    lock_text: Option<&str>,
    repos: &Repositories,
    messages: &mut Vec<String>,
) -> anyhow::Result<Vec<PathBuf>> {
    let dest = loaded.dir.join("charts");
    match std::fs::metadata(&dest) {
        Ok(m) if !m.is_dir() => anyhow::bail!("{:?} is not a directory", dest.display().to_string()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(&dest).with_context(|| format!("creating {}", dest.display()))?
        }
        Err(e) => {
            return Err(anyhow::Error::new(e)
                .context(format!("unable to retrieve file info for '{}'", dest.display())))
        }
    }
    repos.write_cache()?;
    let tmp = loaded.dir.join(format!("tmpcharts-{}", std::process::id()));
    let result = stage_and_move(&tmp, &dest, &fetched);
    let _ = std::fs::remove_dir_all(&tmp);
    let written = result?;

    messages.push("Deleting outdated charts".into());
    let keep: BTreeSet<&str> = fetched.iter().map(|f| f.file_name.as_str()).collect();
    let local: BTreeSet<&str> = plan
        .iter()
        .filter(|p| p.source == Source::Local)
        .map(|p| p.locked.name.as_str())
        .collect();
    let mut entries: Vec<_> = std::fs::read_dir(&dest)
        .with_context(|| format!("reading {}", dest.display()))?
        .filter_map(Result::ok)
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        if e.file_type().is_ok_and(|t| t.is_dir()) || keep.contains(name.as_str()) {
            continue;
        }
        let path = e.path();
        match loader::load_archive_path(&path) {
            Err(err) => messages.push(format!(
                "Could not verify {} for deletion: {err} (Skipping)",
                path.display()
            )),
            Ok(chart) if local.contains(chart.name()) => {}
            Ok(_) => {
                if let Err(err) = std::fs::remove_file(&path) {
                    messages.push(format!("Could not delete {}: {err} (Skipping)", path.display()));
                }
            }
        }
    }
    if let Some(text) = lock_text {
        let path = loaded.dir.join(loaded.lock_file_name());
        crate::action::pull::write_atomic(&path, text.as_bytes())?;
    }
    Ok(written)
}

/// Writes every archive into `tmp`, then renames each into `dest`.
fn stage_and_move(tmp: &Path, dest: &Path, fetched: &[Fetched]) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(tmp).with_context(|| format!("creating {}", tmp.display()))?;
    for f in fetched {
        let path = tmp.join(&f.file_name);
        std::fs::write(&path, &f.data).with_context(|| format!("writing {}", path.display()))?;
    }
    let mut written = Vec::new();
    for f in fetched {
        let to = dest.join(&f.file_name);
        std::fs::rename(tmp.join(&f.file_name), &to)
            .with_context(|| format!("moving into {}", to.display()))?;
        written.push(to);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    #[test]
    fn url_file_name_is_the_paths_last_segment() {
        let cases = [
            ("https://h/charts/a-1.0.0.tgz", "a-1.0.0.tgz"),
            ("https://h/dl/a-1.0.0.tgz?token=x", "a-1.0.0.tgz"),
            ("https://h/charts/download/a/1.0.0", "1.0.0"),
            ("http://127.0.0.1:8080/a.tgz", "a.tgz"),
        ];
        for (url, want) in cases {
            assert_eq!(super::url_file_name(url), want, "{url}");
        }
    }
}
