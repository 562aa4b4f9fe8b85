//! `rollback RELEASE [REVISION]`: re-apply a stored revision as a new revision.
//!
//! Only two records are decrypted, the current one (the base of the plan) and the target:
//! history is read as metadata, so memory does not grow with `--history-max`. A rollback whose
//! plan changes nothing and runs no hook is recorded in one write, as an unchanged upgrade is
//! ([`crate::release::Store::record_unchanged`]).

use std::time::Duration;

use anyhow::{bail, Context as _};

use super::{
    base::{ParsedManifest, Prefetched},
    plan::plan_with_intents,
    upgrade::with_renewal,
    Context,
};
use crate::{
    apply::{self, ApplyOptions, HookOptions, Ownership, WaitOptions},
    manifest,
    release::{BeginOptions, Operation, RecordMeta, Release, Status, Unchanged},
};

/// Inputs of `rollback`.
#[derive(Debug, Clone)]
pub struct RollbackOptions {
    /// Release name.
    pub release: String,
    /// Revision to go back to; default: the one before the current.
    pub revision: Option<u32>,
    /// `--wait`.
    pub wait: bool,
    /// `--wait-for-jobs`: with `--wait`, also wait for Jobs to complete.
    pub wait_for_jobs: bool,
    /// `--timeout`.
    pub timeout: Duration,
    /// `--force`.
    pub force: bool,
    /// `--no-hooks`.
    pub no_hooks: bool,
    /// `--description`.
    pub description: Option<String>,
    /// `--dry-run`: plan only.
    pub dry_run: bool,
}

/// Hooks as recorded, back in the form the hook runner takes.
pub(crate) fn recorded_hooks(rel: &Release) -> Vec<manifest::Hook> {
    rel.hooks
        .iter()
        .map(|h| {
            let head = crate::yaml::scan_head(&h.manifest, &h.path).unwrap_or_default();
            manifest::Hook {
                manifest: manifest::Manifest {
                    path: h.path.clone(),
                    content: h.manifest.clone(),
                    head: manifest::Head {
                        api_version: head.api_version,
                        kind: head.kind,
                        name: head.name,
                        annotations: head.annotations,
                    },
                },
                events: h.events.clone(),
                weight: h.weight,
                delete_policies: h.delete_policies.clone(),
            }
        })
        .collect()
}

/// Rolls back; returns the new revision.
pub async fn rollback(ctx: &Context, opts: &RollbackOptions) -> anyhow::Result<Release> {
    if !opts.dry_run {
        // A release Helm installed: its history becomes ours, so its revisions are targets.
        super::takeover::take_over(ctx, &opts.release, false).await?;
    }
    let store = ctx.store(None);
    // Before anything is read: see `upgrade`.
    store.await_lock(&opts.release).await?;
    let history = store.history_meta(&opts.release).await?;
    let Some(current) = history.last() else {
        bail!(
            "release {} not found in namespace {}",
            opts.release,
            ctx.namespace
        );
    };
    let target_rev = match opts.revision {
        Some(0) | None => {
            if current.revision <= 1 {
                bail!(
                    "release {} has no revision before {} to roll back to",
                    opts.release,
                    current.revision
                );
            }
            current.revision - 1
        }
        Some(r) => r,
    };
    if !history.iter().any(|r| r.revision == target_rev) {
        bail!(
            "release {}: revision {target_rev} not found (history: {})",
            opts.release,
            revisions(&history)
        );
    }
    let current_rev = current.revision;
    let target = store.get(&opts.release, target_rev).await?;
    let desired = ParsedManifest::parse(&target.manifest, "recorded manifest", None)?;
    // The base is what was applied last (the current revision, whatever its status); the
    // documents both revisions share are parsed once.
    let original = if current.status == Status::Uninstalled {
        Vec::new()
    } else if current_rev == target_rev {
        desired.objects()
    } else {
        let cur = store.get(&opts.release, current_rev).await?;
        ParsedManifest::parse(&cur.manifest, "recorded manifest", Some(&desired))?.into_objects()
    };
    drop(history);
    let desired = desired.into_objects();
    let (plan, intents) = plan_with_intents(
        ctx,
        &opts.release,
        &ctx.namespace,
        desired,
        original,
        Prefetched::new(),
    )
    .await?;
    let hooks = recorded_hooks(&target);
    if opts.dry_run {
        let mut preview = target;
        preview.revision = current_rev + 1;
        preview.status = Status::PendingRollback;
        preview.description = format!("Dry run: rollback to {target_rev}");
        return Ok(preview);
    }
    let begin = BeginOptions {
        name: opts.release.clone(),
        operation: Operation::Rollback,
        chart: target.chart,
        values: target.values,
        computed_values: target.computed_values,
        manifest: target.manifest,
        hooks: target.hooks,
        notes: target.notes,
        description: String::new(),
    };
    let description = opts
        .description
        .clone()
        .unwrap_or_else(|| format!("Rollback to {target_rev}"));
    let runs_hooks = !opts.no_hooks
        && hooks.iter().any(|h| {
            h.events
                .iter()
                .any(|e| e == "pre-rollback" || e == "post-rollback")
        });
    let begin = if !plan.has_changes() && !runs_hooks && !opts.wait {
        match store
            .record_unchanged(begin, &description, current_rev + 1)
            .await?
        {
            Unchanged::Recorded(r) => return Ok(r),
            Unchanged::NeedsLock(b) => b,
        }
    } else {
        begin
    };
    let pending = store.begin(begin).await?;
    let work = async {
        let hook_opts = HookOptions {
            timeout: opts.timeout,
            ..Default::default()
        };
        if !opts.no_hooks {
            apply::run_hooks(&*ctx.cluster, &hooks, "pre-rollback", &hook_opts)
                .await
                .context("pre-rollback hooks")?;
        }
        let apply_opts = ApplyOptions {
            intents: intents.clone(),
            force: opts.force,
            ownership: Some(Ownership {
                release: opts.release.clone(),
                namespace: ctx.namespace.clone(),
                adopt: apply::Adopt::Never,
            }),
            timeout: opts.timeout,
            ..Default::default()
        };
        apply::execute(&*ctx.cluster, &plan, &apply_opts).await?;
        if opts.wait {
            let targets = super::plan::wait_targets(&plan);
            apply::wait(
                &*ctx.cluster,
                &targets,
                &WaitOptions {
                    timeout: opts.timeout,
                    wait_for_jobs: opts.wait_for_jobs,
                    ..Default::default()
                },
            )
            .await?;
        }
        if !opts.no_hooks {
            apply::run_hooks(&*ctx.cluster, &hooks, "post-rollback", &hook_opts)
                .await
                .context("post-rollback hooks")?;
        }
        anyhow::Ok(())
    };
    match with_renewal(&store, &pending, work).await {
        Ok(()) => Ok(store.mark_deployed(pending, &description).await?),
        Err(e) => {
            if let Err(rec) = store
                .mark_failed(pending, &format!("Rollback to {target_rev} failed: {e:#}"))
                .await
            {
                tracing::warn!("could not record the failure: {rec}");
            }
            Err(e)
        }
    }
}

fn revisions(history: &[RecordMeta]) -> String {
    history
        .iter()
        .map(|r| r.revision.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
