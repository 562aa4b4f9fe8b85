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
    transaction::{recorded_hooks, Kind, Opened, PlanWork, Transaction},
    Context,
};
use crate::{
    apply::{self, ApplyOptions, Ownership},
    release::{BeginOptions, Operation, RecordMeta, Release, Status},
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
    /// `--wait=STRATEGY` rules and `--logs`.
    pub wait_style: apply::WaitStyle,
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
    let hooks = recorded_hooks(&target.hooks);
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
    let txn = Transaction::new(ctx, Kind::Rollback { to: target_rev })
        .hooks(hooks, opts.no_hooks)
        .wait(opts.wait)
        .timeout(opts.timeout)
        .logs(opts.wait_style.log_lines)
        .description(description);
    let open = match txn.open(begin, &plan, Some(current_rev + 1)).await? {
        Opened::Recorded(release) => return Ok(release),
        Opened::Pending(open) => open,
    };
    let work = PlanWork {
        ctx,
        plan: &plan,
        apply: ApplyOptions {
            intents,
            force: opts.force,
            ownership: Some(Ownership {
                release: opts.release.clone(),
                namespace: ctx.namespace.clone(),
                adopt: apply::Adopt::Never,
            }),
            timeout: opts.timeout,
            ..Default::default()
        },
        // Helm waits for the whole revision rolled back to, not only what changed.
        wait_for: apply::WaitTarget::from_plan(&plan),
        wait: opts.wait_style.options(opts.timeout, opts.wait_for_jobs),
    };
    open.run(&work)
        .await?
        .context("the rollback recorded no revision")
}

fn revisions(history: &[RecordMeta]) -> String {
    history
        .iter()
        .map(|r| r.revision.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
