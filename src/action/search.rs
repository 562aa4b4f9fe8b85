//! `search repo [KEYWORD]`: search the cached indexes of the configured repositories.

use crate::repo::{self, HelmPaths, Index, RepoFile, SearchHit};

/// Options of `search repo`.
#[derive(Debug, Clone, Default)]
pub struct SearchRepoOptions {
    /// Words joined by spaces; empty lists every chart.
    pub keyword: String,
    /// The keyword is a regular expression.
    pub regexp: bool,
    /// Every matching version, not only the newest.
    pub versions: bool,
    /// A version constraint.
    pub version: String,
    /// Admit prereleases (when `version` is empty).
    pub devel: bool,
}

/// The hits, and warnings for repositories whose cache is missing or corrupt.
pub fn search_repo(
    paths: &HelmPaths,
    opts: &SearchRepoOptions,
) -> anyhow::Result<(Vec<SearchHit>, Vec<String>)> {
    let file = RepoFile::load(&paths.repository_config).unwrap_or_default();
    if file.repositories.is_empty() {
        anyhow::bail!("no repositories configured");
    }
    let mut warnings = Vec::new();
    let mut repos: Vec<(String, Index)> = Vec::new();
    for e in &file.repositories {
        let path = paths.index_file(&e.name);
        let loaded = std::fs::read(&path)
            .map_err(|err| format!("open {}: {err}", path.display()))
            .and_then(|data| Index::parse(&data, &path.display().to_string()).map_err(|err| err.to_string()));
        match loaded {
            Ok(mut index) => {
                warnings.append(&mut index.warnings);
                repos.push((e.name.clone(), index));
            }
            Err(err) => {
                warnings.push(format!(
                    "Repo {:?} is corrupt or missing. Try 'helm repo update'.",
                    e.name
                ));
                warnings.push(err);
            }
        }
    }
    // Helm's default constraints: stable only, or everything with --devel.
    let version = match repo::devel_constraint(&opts.version, opts.devel) {
        v if v.is_empty() => ">0.0.0".to_string(),
        v => v,
    };
    let hits = repo::search(&repos, &opts.keyword, opts.regexp, &version, opts.versions)
        .map_err(anyhow::Error::msg)?;
    Ok((hits, warnings))
}
