//! `history`: the revisions of one release, as Helm's `helm history` lists them.

use anyhow::Context as _;

use super::{get::not_found, Context};
use crate::release::{self, Release};

/// Helm's default `--max`.
pub const DEFAULT_HISTORY_LIST_MAX: usize = 256;

/// Which release, and how much of its history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryOptions {
    /// Release name.
    pub release: String,
    /// `--max`: the newest this many revisions (0 gives none, as in Helm).
    pub max: usize,
}

impl Default for HistoryOptions {
    fn default() -> Self {
        HistoryOptions {
            release: String::new(),
            max: DEFAULT_HISTORY_LIST_MAX,
        }
    }
}

/// The newest `max` revisions, oldest first. A release with no records is an error, as in Helm.
pub async fn history(ctx: &Context, opts: &HistoryOptions) -> anyhow::Result<Vec<Release>> {
    let name = opts.release.as_str();
    release::validate_name(name).map_err(anyhow::Error::msg)?;
    let mut revisions = ctx.store(None).history(name).await.with_context(|| {
        format!(
            "reading the history of release {name} in namespace {}",
            ctx.namespace
        )
    })?;
    if revisions.is_empty() {
        return Err(not_found(ctx, name).await);
    }
    let skip = revisions.len().saturating_sub(opts.max);
    revisions.drain(..skip);
    Ok(revisions)
}
