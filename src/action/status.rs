//! `status`: the state of a release's newest (or a given) revision.

use super::{get::get, Context, GetOptions};
use crate::release::Release;

/// Which release and revision.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusOptions {
    /// Release name.
    pub release: String,
    /// `--revision`; `None` is the newest revision, whatever its status.
    pub revision: Option<u32>,
}

/// The revision `status` shows. Resources in the cluster are not read (no `--show-resources`).
pub async fn status(ctx: &Context, opts: &StatusOptions) -> anyhow::Result<Release> {
    get(
        ctx,
        &GetOptions {
            release: opts.release.clone(),
            revision: opts.revision,
        },
    )
    .await
}
