//! `repo update [NAME…]`: fetch every (or each named) repository's index again, concurrently,
//! reporting each as Helm does; a failed one keeps its old cache.

use super::{client_for, fetch_index, write_cache};
use crate::repo::{HelmPaths, RepoFile};

/// Options of `repo update`.
#[derive(Debug, Clone, Default)]
pub struct RepoUpdateOptions {
    /// Only these repositories (all when empty).
    pub names: Vec<String>,
    /// Fail the command when any repository fails.
    pub fail_on_repo_update_fail: bool,
}

/// One repository's result.
#[derive(Debug)]
pub struct UpdateOutcome {
    /// The repository.
    pub name: String,
    /// Its URL.
    pub url: String,
    /// The failure, if it failed.
    pub error: Option<String>,
    /// Skipped-entry warnings from its index.
    pub warnings: Vec<String>,
}

/// Updates the caches; outcomes in `repositories.yaml` order. Errors are Helm's: no
/// repositories, an unknown name, or (with `fail_on_repo_update_fail`) any failure.
pub async fn repo_update(paths: &HelmPaths, opts: &RepoUpdateOptions) -> anyhow::Result<Vec<UpdateOutcome>> {
    let file = RepoFile::load(&paths.repository_config)?;
    if file.repositories.is_empty() {
        anyhow::bail!("no repositories found. You must add one before updating");
    }
    for n in &opts.names {
        if file.get(n).is_none() {
            anyhow::bail!("no repositories found matching '{n}'.  Nothing will be updated");
        }
    }
    let chosen: Vec<_> = file
        .repositories
        .iter()
        .filter(|e| opts.names.is_empty() || opts.names.contains(&e.name))
        .cloned()
        .collect();
    let tasks = chosen.into_iter().map(|e| async move {
        let result = async {
            let client = client_for(&e)?;
            let fetched = fetch_index(&client, &e).await?;
            write_cache(paths, &e.name, &fetched)?;
            anyhow::Ok(fetched.index.warnings)
        }
        .await;
        let (error, warnings) = match result {
            Ok(w) => (None, w),
            Err(err) => (Some(format!("{err:#}")), Vec::new()),
        };
        UpdateOutcome {
            name: e.name,
            url: e.url,
            error,
            warnings,
        }
    });
    let outcomes = futures::future::join_all(tasks).await;
    if opts.fail_on_repo_update_fail {
        let failed: Vec<&str> = outcomes
            .iter()
            .filter(|o| o.error.is_some())
            .map(|o| o.url.as_str())
            .collect();
        if !failed.is_empty() {
            anyhow::bail!(
                "Failed to update the following repositories: [{}]",
                failed.join(" ")
            );
        }
    }
    Ok(outcomes)
}
