//! The one skeleton every write of a release runs through: `install`, `upgrade`, `apply`,
//! `rollback` and `uninstall` differ only in what they plan, write and wait for.
//!
//! A [`Transaction`] is built from the verb's [`Kind`] and options, then
//! 1. opened: [`Transaction::open`] takes the release lock and records the pending revision
//!    (or, for a run with nothing a crash could leave half done, records the final revision in
//!    one write, [`release::Store::record_unchanged`]); [`Transaction::open_uninstall`] marks the
//!    newest revision `uninstalling`;
//! 2. run: [`Open::run`] renews the lock while the pre-hooks, the verb's [`Work`] (its writes,
//!    then its wait) and the post-hooks run, in that order;
//! 3. finished: the revision is marked deployed (uninstall: the records are closed or deleted),
//!    or failed with the reason, and the lock given back.
//!
//! A verb thus reads (see `upgrade.rs`, `rollback.rs`, `uninstall.rs`):
//!
//! ```text
//! let txn = Transaction::new(ctx, Kind::Upgrade).hooks(hooks, no_hooks).wait(wait)
//!     .timeout(timeout).description(description);
//! match txn.open(begin_options, &plan, unchanged_as).await? {
//!     Opened::Recorded(release) => release,                     // nothing to do: one write
//!     Opened::Pending(open) => open.run(&work).await?,          // work: impl Work
//! }
//! ```
//!
//! A verb that writes one plan as it is uses [`PlanWork`]; one with more steps implements
//! [`Work`] (install's `crds/` go before its pre-hooks).
//!
//! `--atomic` (install and upgrade only) is the caller's: after a failure it runs the rollback
//! or uninstall verb, each a transaction of its own. This module calls no verb, so the verbs
//! depend on it and never on each other through it.

use std::{sync::Arc, time::Duration};

use anyhow::Context as _;

use super::Context;
use crate::{
    apply::{self, ApplyOptions, HookEvent, HookOptions, Progress, WaitOptions, WaitTarget},
    diff::Plan,
    manifest,
    release::{self, BeginOptions, Release, Unchanged},
};

/// Which write a transaction records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// First revision of a release (or the first after an uninstall that kept history).
    Install,
    /// A new revision of a deployed release.
    Upgrade,
    /// A stored revision re-applied as a new one.
    Rollback {
        /// The revision rolled back to.
        to: u32,
    },
    /// The release's objects deleted and its history closed.
    Uninstall {
        /// `--keep-history`: the records stay, marked `uninstalled`.
        keep_history: bool,
        /// Whether Helm's storage may hold records of the release (see
        /// [`super::takeover::helm_may_hold`]), to delete with ours.
        helm_records: bool,
    },
}

impl Kind {
    /// The hooks that run before and after the work.
    pub(crate) fn events(self) -> (HookEvent, HookEvent) {
        match self {
            Kind::Install => (HookEvent::PreInstall, HookEvent::PostInstall),
            Kind::Upgrade => (HookEvent::PreUpgrade, HookEvent::PostUpgrade),
            Kind::Rollback { .. } => (HookEvent::PreRollback, HookEvent::PostRollback),
            Kind::Uninstall { .. } => (HookEvent::PreDelete, HookEvent::PostDelete),
        }
    }

    /// The description a failed revision is recorded with.
    fn failure(self, e: &anyhow::Error) -> String {
        match self {
            Kind::Install => format!("install: {e:#}"),
            Kind::Upgrade => format!("upgrade: {e:#}"),
            Kind::Rollback { to } => format!("Rollback to {to} failed: {e:#}"),
            Kind::Uninstall { .. } => format!("uninstall failed: {e:#}"),
        }
    }
}

/// What differs between the verbs once the revision is open: their writes and their wait.
/// Each step runs at most once, in the order declared here, inside the transaction's renewal.
pub(crate) trait Work {
    /// Writes that must precede the pre-hooks: an install's `crds/`, which a hook may be one of
    /// the resources of (Helm installs them before any hook too).
    async fn before_hooks(&self) -> anyhow::Result<()> {
        Ok(())
    }

    /// The plan's writes.
    async fn execute(&self) -> anyhow::Result<()>;

    /// Waits for what [`Work::execute`] wrote; called only when the transaction waits.
    async fn wait(&self) -> anyhow::Result<()>;
}

/// The [`Work`] of a verb that writes one plan as it is and waits for `wait_for`: rollback
/// (until ready) and uninstall (until gone).
pub(crate) struct PlanWork<'w> {
    pub(crate) ctx: &'w Context,
    pub(crate) plan: &'w Plan,
    pub(crate) apply: ApplyOptions,
    pub(crate) wait_for: Vec<WaitTarget>,
    pub(crate) wait: WaitOptions,
}

impl Work for PlanWork<'_> {
    async fn execute(&self) -> anyhow::Result<()> {
        apply::execute(&*self.ctx.cluster, self.plan, &self.apply).await?;
        Ok(())
    }

    async fn wait(&self) -> anyhow::Result<()> {
        apply::wait(&*self.ctx.cluster, &self.wait_for, &self.wait).await?;
        Ok(())
    }
}

/// A write of one release, before its revision is opened.
pub(crate) struct Transaction<'a> {
    ctx: &'a Context,
    store: release::Store,
    kind: Kind,
    hooks: Vec<manifest::Hook>,
    no_hooks: bool,
    wait: bool,
    hook_options: HookOptions,
    description: String,
}

impl<'a> Transaction<'a> {
    /// A transaction of `kind` in the context's namespace; no hooks and no wait until set.
    pub(crate) fn new(ctx: &'a Context, kind: Kind) -> Transaction<'a> {
        Transaction {
            ctx,
            store: ctx.store(None),
            kind,
            hooks: Vec::new(),
            no_hooks: false,
            wait: false,
            hook_options: HookOptions::default(),
            description: String::new(),
        }
    }

    /// The hooks the revision carries (`no_hooks`: `--no-hooks`, none of them runs).
    pub(crate) fn hooks(mut self, hooks: Vec<manifest::Hook>, no_hooks: bool) -> Self {
        self.hooks = hooks;
        self.no_hooks = no_hooks;
        self
    }

    /// Whether [`Work::wait`] runs (`--wait`, or implied by `--atomic`).
    pub(crate) fn wait(mut self, wait: bool) -> Self {
        self.wait = wait;
        self
    }

    /// `--timeout`, the bound of each hook (Helm passes it to each).
    pub(crate) fn timeout(mut self, timeout: Duration) -> Self {
        self.hook_options.timeout = timeout;
        self
    }

    /// `--logs`: log lines of each failed container in a failed hook's report (the readiness
    /// rules of `--wait=STRATEGY` are the [`Work`]'s, in its [`WaitOptions`]).
    pub(crate) fn logs(mut self, log_lines: u32) -> Self {
        self.hook_options.log_lines = log_lines;
        self
    }

    /// Where hook progress goes (default: nowhere).
    pub(crate) fn progress(mut self, progress: Arc<dyn Progress>) -> Self {
        self.hook_options.progress = progress;
        self
    }

    /// The description of the deployed revision.
    pub(crate) fn description(mut self, description: String) -> Self {
        self.description = description;
        self
    }

    /// Whether a hook of this transaction's events would run.
    pub(crate) fn runs_hooks(&self) -> bool {
        let (pre, post) = self.kind.events();
        !self.no_hooks && self.hooks.iter().any(|h| pre.selects(h) || post.selects(h))
    }

    /// Whether nothing of the run could be left half done: no object to write, no hook to run,
    /// nothing to wait for (a wait can fail, and a failure must be recorded as such).
    pub(crate) fn changes_nothing(&self, plan: &Plan) -> bool {
        !plan.has_changes() && !self.runs_hooks() && !self.wait
    }

    /// Opens revision `begin` as pending, under the release lock. With `unchanged_as`, a run
    /// that [changes nothing](Self::changes_nothing) records that revision deployed in one write
    /// instead, and is over.
    pub(crate) async fn open(
        self,
        begin: BeginOptions,
        plan: &Plan,
        unchanged_as: Option<u32>,
    ) -> anyhow::Result<Opened<'a>> {
        let begin = match unchanged_as {
            Some(revision) if self.changes_nothing(plan) => {
                match self
                    .store
                    .record_unchanged(begin, &self.description, revision)
                    .await?
                {
                    Unchanged::Recorded(release) => return Ok(Opened::Recorded(release)),
                    Unchanged::NeedsLock(begin) => begin,
                }
            }
            _ => begin,
        };
        let pending = self.store.begin(begin).await?;
        Ok(Opened::Pending(Open { txn: self, pending }))
    }

    /// Opens the uninstall of `release`: takes the lock and marks its newest revision
    /// `uninstalling`; the recorded revision is then [`Open::release`].
    pub(crate) async fn open_uninstall(self, release: &str) -> anyhow::Result<Open<'a>> {
        let pending = self.store.begin_uninstall(release).await?;
        Ok(Open { txn: self, pending })
    }

    /// [`Transaction::open_uninstall`], unless the history read under the lock says Helm's
    /// storage may hold revisions of the release ([`super::takeover::helm_may_hold`]): then
    /// nothing is written, the lock is given back and `None` returned, for the caller to take
    /// the release over first. A release that never was Helm's thus costs one history read.
    pub(crate) async fn open_uninstall_of_ours(self, release: &str) -> anyhow::Result<Option<Open<'a>>> {
        let helms = |h: &[release::RecordMeta]| {
            super::takeover::helm_may_hold(h.iter().map(|m| (m.revision, m.owner.as_str())))
        };
        let pending = self.store.begin_uninstall_unless(release, helms).await?;
        Ok(pending.map(|pending| Open { txn: self, pending }))
    }
}

/// What [`Transaction::open`] did.
// One per run, matched at once and never stored: boxing the large variant would buy nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Opened<'a> {
    /// The run changes nothing: its revision is recorded, and there is nothing more to do.
    Recorded(Release),
    /// The pending revision is recorded and the lock held: [`Open::run`] the work.
    Pending(Open<'a>),
}

/// A transaction whose pending revision is recorded and whose lock is held.
pub(crate) struct Open<'a> {
    txn: Transaction<'a>,
    pending: release::Pending,
}

impl<'a> Open<'a> {
    /// The pending revision (for an uninstall: the revision being uninstalled).
    pub(crate) fn release(&self) -> &Release {
        self.pending.release()
    }

    /// The storage version of the pending revision's record as written ([`Open::release`]).
    pub(crate) fn written_at(&self) -> Option<&str> {
        self.pending.written_at()
    }

    /// Sets the hooks once the revision is open (an uninstall reads them from it).
    pub(crate) fn hooks(mut self, hooks: Vec<manifest::Hook>, no_hooks: bool) -> Self {
        self.txn = self.txn.hooks(hooks, no_hooks);
        self
    }

    /// Runs pre-hooks, `work` and post-hooks while renewing the lock, then records the outcome:
    /// the deployed revision, or for an uninstall the last record when history is kept (`None`
    /// when the records were deleted). On failure the revision is marked failed with the reason
    /// and the error returned.
    pub(crate) async fn run(self, work: &impl Work) -> anyhow::Result<Option<Release>> {
        let Open { txn, pending } = self;
        let outcome = with_renewal(&txn.store, &pending, steps(&txn, work)).await;
        if let Err(e) = outcome {
            if let Err(record) = txn.store.mark_failed(pending, &txn.kind.failure(&e)).await {
                tracing::warn!("could not record the failure: {record}");
            }
            return Err(e);
        }
        match txn.kind {
            Kind::Uninstall {
                keep_history,
                helm_records,
            } => {
                let name = pending.release().name.clone();
                let last = txn.store.finish_uninstall(pending, keep_history).await?;
                // As `helm uninstall` would: Helm's records go too, or a later `helm install`
                // of the name finds a release "still in use". A release that never was Helm's
                // has none: no look.
                if !keep_history && helm_records {
                    super::takeover::forget_helm_records(txn.ctx, &name).await?;
                }
                Ok(last)
            }
            _ => Ok(Some(txn.store.mark_deployed(pending, &txn.description).await?)),
        }
    }
}

/// Pre-hooks, the work, its wait, post-hooks.
async fn steps(txn: &Transaction<'_>, work: &impl Work) -> anyhow::Result<()> {
    let (pre, post) = txn.kind.events();
    work.before_hooks().await?;
    run_hooks(txn, pre).await?;
    work.execute().await?;
    if txn.wait {
        work.wait().await?;
    }
    run_hooks(txn, post).await
}

async fn run_hooks(txn: &Transaction<'_>, event: HookEvent) -> anyhow::Result<()> {
    if txn.no_hooks {
        return Ok(());
    }
    apply::run_hooks(&*txn.ctx.cluster, &txn.hooks, event, &txn.hook_options)
        .await
        .with_context(|| format!("{event} hooks"))?;
    Ok(())
}

/// Runs `work` while renewing the release lock, so a long wait never lets another run take over.
/// A renewal that fails is retried at the next tick; the run stops when the lock was taken over,
/// or when no renewal got through for a whole lease duration (others may take it by then).
async fn with_renewal<T>(
    store: &release::Store,
    pending: &release::Pending,
    work: impl std::future::Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    let every = Duration::from_secs(pending.renew_every_secs().max(1) as u64);
    let lease = Duration::from_secs(pending.lease_secs().max(1) as u64);
    tokio::pin!(work);
    let mut tick = tokio::time::interval(every);
    tick.tick().await;
    let mut renewed = tokio::time::Instant::now();
    loop {
        tokio::select! {
            out = &mut work => return out,
            _ = tick.tick() => match store.renew(pending).await {
                Ok(()) => renewed = tokio::time::Instant::now(),
                Err(e @ release::Error::LockLost(_)) => return Err(e).context("renewing the release lock"),
                Err(e) if renewed.elapsed() >= lease => return Err(e).context("renewing the release lock"),
                Err(e) => tracing::warn!("could not renew the release lock, retrying: {e}"),
            }
        }
    }
}

/// Hooks as recorded, back in the form the hook runner takes.
pub(crate) fn recorded_hooks(hooks: &[release::Hook]) -> Vec<manifest::Hook> {
    hooks
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

#[cfg(test)]
mod tests;
