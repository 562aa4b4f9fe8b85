//! `repo list`: the configured repositories, as Helm lists them.

use crate::repo::{Entry, HelmPaths, RepoFile};

/// Options of `repo list`.
#[derive(Debug, Clone, Default)]
pub struct RepoListOptions {
    /// A table was asked for (an empty list is then an error, as in Helm).
    pub table: bool,
}

/// The repositories in file order. A missing or unreadable file is an empty list, as Helm's
/// `repo list` ignores the load error.
pub fn repo_list(paths: &HelmPaths, opts: &RepoListOptions) -> anyhow::Result<Vec<Entry>> {
    let repos = RepoFile::load(&paths.repository_config)
        .map(|f| f.repositories)
        .unwrap_or_default();
    if repos.is_empty() && opts.table {
        anyhow::bail!("no repositories to show");
    }
    Ok(repos)
}
