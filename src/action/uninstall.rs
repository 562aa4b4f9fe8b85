//! `uninstall RELEASE`: delete what the release created (hooks first and last, `keep` policy
//! honoured, reverse install order) and close its history.

use std::time::Duration;

use anyhow::Context as _;

use super::{
    plan::{parse_manifest_docs, plan_against_cluster},
    rollback::recorded_hooks,
    upgrade::with_renewal,
    Context,
};
use crate::{
    apply::{self, ApplyOptions, HookOptions, Ownership},
    release::Release,
};

/// Inputs of `uninstall`.
#[derive(Debug, Clone)]
pub struct UninstallOptions {
    /// Release name.
    pub release: String,
    /// `--keep-history`: keep the records (status `uninstalled`) so `rollback` can bring it back.
    pub keep_history: bool,
    /// `--no-hooks`.
    pub no_hooks: bool,
    /// `--wait`: wait until the objects are gone.
    pub wait: bool,
    /// `--timeout`.
    pub timeout: Duration,
    /// `--description`.
    pub description: Option<String>,
}

/// Uninstalls; returns the last record when history is kept.
pub async fn uninstall(ctx: &Context, opts: &UninstallOptions) -> anyhow::Result<Option<Release>> {
    let store = ctx.store(None);
    let pending = store.begin_uninstall(&opts.release).await?;
    let last = pending.release().clone();
    let objects = parse_manifest_docs(&last.manifest, "recorded manifest")?;
    let plan = plan_against_cluster(ctx, &opts.release, &ctx.namespace, Vec::new(), objects).await?;
    let hooks = recorded_hooks(&last);
    let work = async {
        let hook_opts = HookOptions {
            timeout: opts.timeout,
            ..Default::default()
        };
        if !opts.no_hooks {
            apply::run_hooks(&*ctx.cluster, &hooks, "pre-delete", &hook_opts)
                .await
                .context("pre-delete hooks")?;
        }
        let apply_opts = ApplyOptions {
            ownership: Some(Ownership {
                release: opts.release.clone(),
                namespace: ctx.namespace.clone(),
                adopt: false,
            }),
            timeout: opts.timeout,
            ..Default::default()
        };
        apply::execute(&*ctx.cluster, &plan, &apply_opts).await?;
        if opts.wait {
            super::plan::wait_deleted(ctx, &plan, opts.timeout).await?;
        }
        if !opts.no_hooks {
            apply::run_hooks(&*ctx.cluster, &hooks, "post-delete", &hook_opts)
                .await
                .context("post-delete hooks")?;
        }
        anyhow::Ok(())
    };
    match with_renewal(&store, &pending, work).await {
        Ok(()) => Ok(store.finish_uninstall(pending, opts.keep_history).await?),
        Err(e) => {
            let desc = format!("uninstall failed: {e:#}");
            if let Err(rec) = store.mark_failed(pending, &desc).await {
                tracing::warn!("could not record the failure: {rec}");
            }
            Err(e)
        }
    }
}
