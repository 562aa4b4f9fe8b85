//! `repo remove NAME…`: drop repositories from `repositories.yaml` and their cache files.

use std::fs;

use crate::repo::{HelmPaths, RepoFile};

/// Options of `repo remove`.
#[derive(Debug, Clone, Default)]
pub struct RepoRemoveOptions {
    /// The repositories to remove.
    pub names: Vec<String>,
}

/// Removes each repository in turn (Helm writes the file after each one, so an unknown name
/// after a known one keeps the first removal); returns the lines to print.
pub fn repo_remove(paths: &HelmPaths, opts: &RepoRemoveOptions) -> anyhow::Result<Vec<String>> {
    let _lock = RepoFile::lock(&paths.repository_config)?;
    let mut file = RepoFile::load(&paths.repository_config)?;
    if file.repositories.is_empty() {
        anyhow::bail!("no repositories configured");
    }
    let mut lines = Vec::new();
    for name in &opts.names {
        if !file.remove(name) {
            if !lines.is_empty() {
                // Report what was done before failing, as Helm has printed it by then.
                let done = lines.join("\n");
                anyhow::bail!("{done}\nno repo named {name:?} found");
            }
            anyhow::bail!("no repo named {name:?} found");
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
    Ok(lines)
}
