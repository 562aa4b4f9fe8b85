//! `repo remove NAME…`: drop repositories from `repositories.yaml` and their cache files.

use std::fs;

use crate::repo::{HelmPaths, RepoFile};

/// Options of `repo remove`.
#[derive(Debug, Clone, Default)]
pub struct RepoRemoveOptions {
    /// The repositories to remove.
    pub names: Vec<String>,
}

/// What `repo remove` did: the lines to print, and the error that stopped it, if any. Helm
/// removes (and writes the file) name by name, so an unknown name after a known one keeps the
/// first removal and its line.
#[derive(Debug)]
pub struct RemoveOutcome {
    /// `"name" has been removed from your repositories`, one per removed repository.
    pub lines: Vec<String>,
    /// Why it stopped early.
    pub error: Option<anyhow::Error>,
}

/// Removes each repository in turn.
pub fn repo_remove(paths: &HelmPaths, opts: &RepoRemoveOptions) -> anyhow::Result<RemoveOutcome> {
    let _lock = RepoFile::lock(&paths.repository_config)?;
    let mut file = RepoFile::load(&paths.repository_config)?;
    if file.repositories.is_empty() {
        anyhow::bail!("no repositories configured");
    }
    let mut lines = Vec::new();
    for name in &opts.names {
        if !file.remove(name) {
            return Ok(RemoveOutcome {
                lines,
                error: Some(anyhow::anyhow!("no repo named {name:?} found")),
            });
        }
        file.write(&paths.repository_config)?;
        for cached in [paths.charts_file(name), paths.index_file(name)] {
            match fs::remove_file(&cached) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    anyhow::bail!("can't remove index file {}: {e}", cached.display())
                }
                _ => {}
            }
        }
        lines.push(format!("{name:?} has been removed from your repositories"));
    }
    Ok(RemoveOutcome { lines, error: None })
}
