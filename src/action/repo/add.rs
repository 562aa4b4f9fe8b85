//! `repo add NAME URL`: check the index can be fetched and read, then record the repository in
//! `repositories.yaml` under Helm's lock and cache its index.

use super::{client_for, fetch_index, write_cache};
use crate::repo::{Entry, HelmPaths, RepoFile};

/// Options of `repo add`.
#[derive(Debug, Clone, Default)]
pub struct RepoAddOptions {
    /// The entry to add (name, URL, credentials, TLS files).
    pub entry: Entry,
    /// Replace an existing entry of the same name with a different configuration.
    pub force_update: bool,
}

/// Adds the repository; returns the line to print and the index's warnings.
pub async fn repo_add(paths: &HelmPaths, opts: &RepoAddOptions) -> anyhow::Result<(String, Vec<String>)> {
    let e = &opts.entry;
    if e.name.contains('/') {
        anyhow::bail!(
            "repository name ({}) contains '/', please specify a different name without '/'",
            e.name
        );
    }
    let _lock = RepoFile::lock(&paths.repository_config)?;
    let mut file = RepoFile::load(&paths.repository_config)?;
    if !opts.force_update {
        if let Some(existing) = file.get(&e.name) {
            if existing != e {
                anyhow::bail!(
                    "repository name ({}) already exists, please specify a different name",
                    e.name
                );
            }
            return Ok((
                format!(
                    "{:?} already exists with the same configuration, skipping",
                    e.name
                ),
                Vec::new(),
            ));
        }
    }
    let client = client_for(e)?;
    let fetched = fetch_index(&client, e).await.map_err(|err| {
        anyhow::anyhow!(
            "looks like {:?} is not a valid chart repository or cannot be reached: {err:#}",
            e.url
        )
    })?;
    write_cache(paths, &e.name, &fetched)?;
    file.update(e.clone());
    file.write(&paths.repository_config)?;
    Ok((
        format!("{:?} has been added to your repositories", e.name),
        fetched.index.warnings,
    ))
}
