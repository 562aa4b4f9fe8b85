//! `install`, `upgrade` and `apply` (= `upgrade --install`): render, plan against the cluster,
//! record a pending revision, run hooks, apply, wait, and record the outcome.
//!
//! Order of events, and why:
//! 1. everything is rendered, parsed and planned before the first write (a bad chart or values
//!    file never leaves anything behind);
//! 2. the pending revision is recorded under the release lock before any object changes, so a
//!    run killed at any later point is visible in history and recovered by the next run;
//! 3. on install the chart's `crds/` that the cluster lacks (as Helm, before any hook; with
//!    `--crds update` also the changed ones, on upgrade too, waited for until `Established`), then
//!    pre-hooks, objects (in install order, declared `depends-on` levels one after another, prune
//!    last), wait, post-hooks;
//! 4. the revision is marked deployed, or failed — and with `--atomic`, the previous revision is
//!    re-applied as a new revision, as Helm does.
//!
//! An upgrade whose plan changes nothing and that runs no hook and waits for nothing skips 2-4:
//! there is nothing a crash could leave half done, so its revision is recorded by one create of
//! the final record, with no lock ([`release::Store::record_unchanged`] says why that is safe).
//! A no-op upgrade thus writes exactly one object, where the locked path writes six (lock
//! create, renew and delete; record create and update).

use std::{
    collections::{BTreeMap, BTreeSet},
    path::PathBuf,
    time::Duration,
};

use anyhow::{bail, Context as _};
use serde_json::Value;

use super::{
    base::{Base, LiveReads, ParsedManifest},
    capabilities::{crd_docs, PendingCapabilities},
    plan::plan_with_intents,
    render::{render_release, RenderRequest},
    saved_plan::SavedPlanUse,
    transaction::{Kind, Opened, Transaction, Work},
    Context,
};
use crate::{
    apply::{self, ApplyOptions, Ownership, WaitOptions},
    cluster::ClusterLookup,
    diff::{ObjectRef, Plan},
    release::{self, BeginOptions, ChartRef, Operation, Release, Status},
    render::ReleaseInfo,
    values::ValuesOptions,
};

/// Which verb is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `install`: the release must not exist.
    Install,
    /// `upgrade`: the release must exist.
    Upgrade,
    /// `apply` / `upgrade --install`: either.
    Apply,
}

/// `--dry-run` variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DryRun {
    /// Render and plan only; no request that writes.
    Client,
    /// Also send every write with the server's `dryRun=All`.
    Server,
}

/// Inputs of `install`/`upgrade`/`apply`.
#[derive(Clone)]
pub struct UpgradeOptions {
    /// Release name.
    pub release: String,
    /// Chart directory or archive.
    pub chart: PathBuf,
    /// Where the chart was fetched from, recorded with the revision.
    pub chart_origin: Option<crate::release::ChartOrigin>,
    /// Values flags.
    pub values: ValuesOptions,
    /// `--patch`, `--set-image`, `--post-renderer`: applied before the plan; the revision
    /// records the patched manifest.
    pub patches: super::PatchOptions,
    /// Verb.
    pub mode: Mode,
    /// `--dry-run`.
    pub dry_run: Option<DryRun>,
    /// `--wait`: wait for the applied objects (strategy `watcher` or `legacy`).
    pub wait: bool,
    /// `--wait-for-jobs`.
    pub wait_for_jobs: bool,
    /// `--wait=STRATEGY` rules and `--logs`.
    pub wait_style: apply::WaitStyle,
    /// `--timeout`.
    pub timeout: Duration,
    /// `--atomic`: on failure roll back to the previous revision (implies `--wait`).
    pub atomic: bool,
    /// `--create-namespace`.
    pub create_namespace: bool,
    /// `--description`.
    pub description: Option<String>,
    /// `--reuse-values`: start from the last revision's user values.
    pub reuse_values: bool,
    /// `--reset-then-reuse-values`: chart defaults, then the last user values, then the flags.
    pub reset_then_reuse_values: bool,
    /// `--reset-values`: chart defaults and the flags only, even when the flags set no value
    /// (without it, an upgrade given no values reuses the last ones, as Helm's does).
    pub reset_values: bool,
    /// `--skip-schema-validation`.
    pub skip_schema_validation: bool,
    /// `--force`: recreate objects whose immutable fields change.
    pub force: bool,
    /// `--server-side`: server-side apply instead of our JSON patches.
    pub server_side: bool,
    /// `--adopt`: take over existing objects that belong to no release.
    pub adopt: bool,
    /// `--take-ownership`: take over existing objects that belong to no release or to another
    /// one, as Helm does (the CLI lists them).
    pub take_ownership: bool,
    /// `--no-hooks`.
    pub no_hooks: bool,
    /// `--kube-version` for `.Capabilities` (default: the cluster's).
    pub kube_version: Option<String>,
    /// Where apply, wait and hook progress goes (the CLI prints it on stderr).
    pub progress: std::sync::Arc<dyn apply::Progress>,
    /// `--force-unlock`: break the release lock of a run known to be gone, without watching it
    /// for a whole lease duration (refused if it is renewed meanwhile); its pending revision is
    /// then recovered as interrupted.
    pub force_unlock: bool,
    /// `--crds`: what to do with the chart's `crds/`.
    pub crds: apply::CrdPolicy,
    /// `diff --out` (plan, then stop) or `apply --plan` (render with the saved values, refuse a
    /// plan that differs): see [`super::saved_plan`].
    pub saved_plan: Option<SavedPlanUse>,
}

impl UpgradeOptions {
    /// `mode` of `chart` as `release` with every flag at Helm's default: no dry run, no wait,
    /// `--timeout 5m0s`, values from the chart and the flags only, CRDs created on install,
    /// progress dropped. Callers set what they need with struct update syntax.
    pub fn new(release: impl Into<String>, chart: PathBuf, mode: Mode) -> UpgradeOptions {
        UpgradeOptions {
            release: release.into(),
            chart,
            chart_origin: None,
            values: ValuesOptions::default(),
            patches: Default::default(),
            mode,
            dry_run: None,
            wait: false,
            wait_for_jobs: false,
            wait_style: apply::WaitStyle::default(),
            timeout: Duration::from_secs(300),
            atomic: false,
            create_namespace: false,
            description: None,
            reuse_values: false,
            reset_then_reuse_values: false,
            reset_values: false,
            skip_schema_validation: false,
            force: false,
            server_side: false,
            adopt: false,
            take_ownership: false,
            no_hooks: false,
            kube_version: None,
            progress: std::sync::Arc::new(apply::NoProgress),
            force_unlock: false,
            crds: apply::CrdPolicy::default(),
            saved_plan: None,
        }
    }
}

/// What an install or upgrade did.
#[derive(Debug)]
pub struct UpgradeResult {
    /// The recorded revision (for a dry run: the revision that would be recorded).
    pub release: Release,
    /// The plan that was (or would be) executed.
    pub plan: Plan,
}

/// The newest deployed revision of a release Helm holds (`last` came from Helm's storage when we
/// have no record of it); `None` when we have records or Helm has no deployed revision.
async fn helm_deployed(ctx: &Context, last: Option<&release::RecordMeta>) -> anyhow::Result<Option<Release>> {
    if last.is_none_or(|m| m.owner != release::helm::HELM_OWNER) {
        return Ok(None);
    }
    let history =
        super::takeover::helm_history(ctx, &last.map(|m| m.name.clone()).unwrap_or_default()).await?;
    Ok(history.into_iter().rev().find(|r| r.status == Status::Deployed))
}

/// Whether the last deployed revision's user values are the base of this run's, as Helm's
/// `reuseValues` decides: `--reset-values` never; `--reuse-values` and `--reset-then-reuse-values`
/// always; otherwise an upgrade that sets no value at all. (Helm also reuses when the flags name
/// only files that hold no value; we decide before reading them, since `-f -` can be read once.)
fn reuses_values(opts: &UpgradeOptions, is_upgrade: bool) -> bool {
    let v = &opts.values;
    let no_values = v.value_files.is_empty()
        && v.set.is_empty()
        && v.set_string.is_empty()
        && v.set_file.is_empty()
        && v.set_json.is_empty()
        && v.set_literal.is_empty();
    !opts.reset_values && (opts.reuse_values || opts.reset_then_reuse_values || (is_upgrade && no_values))
}

/// Runs install, upgrade or apply.
pub async fn upgrade(ctx: &Context, opts: &UpgradeOptions) -> anyhow::Result<UpgradeResult> {
    let started = std::time::Instant::now();
    release::validate_name(&opts.release).map_err(anyhow::Error::msg)?;
    let store = ctx.store(None);
    // `.Capabilities` from the server (Helm reads them even for a client dry run), read while
    // the last revision is fetched and the chart loads.
    let discovery = PendingCapabilities::start(ctx.cluster.clone()).await;
    // The lock before anything of the release is read: a live run's stops this one before it
    // computes anything, and after a dead run's everything below (the base, the live objects)
    // is read as that run left it. (After discovery started, whose answer resolves the lock's
    // kind too.)
    if opts.force_unlock {
        if let Some(lease) = store.force_unlock(&opts.release).await? {
            tracing::warn!("broke the lock of run {} ({})", lease.holder, lease.describe());
        }
    }
    store.await_lock(&opts.release).await?;
    // The last revision is read, decoded, parsed and its live objects fetched in the background
    // while the chart renders; its metadata is here at once.
    let base = Base::start(ctx, &opts.release).await?;
    let last = base.meta().cloned();
    let live_release = last.as_ref().filter(|r| r.status != Status::Uninstalled);
    match (opts.mode, live_release) {
        (Mode::Install, Some(r)) => bail!(
            "cannot re-use a name that is still in use: release {} exists in namespace {} (revision {}, {})",
            r.name,
            ctx.namespace,
            r.revision,
            r.status.as_str()
        ),
        (Mode::Upgrade, None) => bail!(
            "release {} not found in namespace {}; use `kubectl chart apply` or `upgrade --install` to install it",
            opts.release,
            ctx.namespace
        ),
        _ => {}
    }
    let is_upgrade = live_release.is_some();
    let revision = last.as_ref().map_or(1, |r| r.revision + 1);
    // `--reuse-values` renders with the last deployed revision's user values, so the base must be
    // read before rendering; otherwise it is read while the chart renders.
    let reuse = reuses_values(opts, is_upgrade);
    let (mut base, mut loaded) = if reuse {
        (None, base.finish().await?)
    } else {
        (Some(base), None)
    };
    // The newest deployed revision is almost always the newest revision: only when it is not
    // are the records read again (and a second one decrypted, for its values).
    let (last_deployed_rev, last_deployed_values) = match &last {
        Some(r) if r.status == Status::Deployed => (
            Some(r.revision),
            loaded.as_ref().map(|l| l.release.values.clone()),
        ),
        // A base from Helm's storage (not yet taken over): its deployed revision is Helm's.
        _ if reuse => match helm_deployed(ctx, last.as_ref()).await? {
            Some(r) => (Some(r.revision), Some(r.values)),
            None => match store.last_deployed(&opts.release).await? {
                Some(r) => (Some(r.revision), Some(r.values)),
                None => (None, None),
            },
        },
        _ => match helm_deployed(ctx, last.as_ref()).await? {
            Some(r) => (Some(r.revision), None),
            None => {
                let history = store.history_meta(&opts.release).await?;
                let deployed = history.iter().rev().find(|m| m.status == Status::Deployed);
                (deployed.map(|m| m.revision), None)
            }
        },
    };

    // 1. Render and plan; nothing is written before this has fully succeeded.
    let mut req = RenderRequest::new(
        opts.chart.clone(),
        opts.values.clone(),
        ReleaseInfo {
            name: opts.release.clone(),
            namespace: ctx.namespace.clone(),
            revision: i64::from(revision),
            is_upgrade,
        },
    );
    req.discovery = Some(
        discovery
            .with_kube_version(opts.kube_version.clone())
            .with_chart_crds(!is_upgrade && opts.crds != apply::CrdPolicy::Skip && opts.dry_run.is_none()),
    );
    if opts.dry_run != Some(DryRun::Client) {
        req.lookup = std::rc::Rc::new(ClusterLookup::new(
            ctx.cluster.clone(),
            tokio::runtime::Handle::current(),
        ));
    }
    if reuse {
        req.base_values = last_deployed_values;
    }
    if let Some(values) = SavedPlanUse::values(opts.saved_plan.as_ref()) {
        req.base_values = Some(values);
        req.base_values_exact = true;
    }
    req.patches = opts.patches.clone();
    req.skip_schema_validation = opts.skip_schema_validation;
    let rendered = render_release(&req)?;
    let manifest_text = rendered.manifest_text();
    if let Some(b) = base.take() {
        loaded = b.finish().await?;
    }
    // The base of the three-way merge is what was last *applied*, even by a failed revision:
    // its objects exist (some of them) and must be pruned when the chart stops rendering them.
    let (original, live) = match loaded {
        Some(l) => (Some(l.manifest), l.live),
        None => (None, LiveReads::none()),
    };
    let mut desired =
        ParsedManifest::parse(&manifest_text, "rendered manifest", original.as_ref())?.into_objects();
    let original = original.map(ParsedManifest::into_objects).unwrap_or_default();
    // Helm installs `crds/` before anything else, as they are (no release metadata), skips those
    // that exist, and never upgrades or deletes them; `--crds update` also updates changed ones
    // (refusals come here, from reads only) and `--crds skip` leaves them alone.
    let crd_plan =
        apply::plan_crds(&*ctx.cluster, &crd_docs(&rendered.chart)?, opts.crds, !is_upgrade).await?;
    let crds = crd_plan.create;
    desired.splice(0..0, crds.iter().cloned());
    let live = live.wait().await?;
    tracing::debug!(elapsed = ?started.elapsed(), "rendered");
    let (mut plan, mut intents) =
        plan_with_intents(ctx, &opts.release, &ctx.namespace, desired, original, live).await?;
    let mut crd_refs = unstamp_crds(&mut plan, &mut intents, &crds)?;
    crd_refs.extend(crd_plan.update.iter().map(|c| c.id.clone()));
    plan.changes.splice(0..0, crd_plan.update);
    tracing::debug!(elapsed = ?started.elapsed(), "planned");
    // A bad `config.kubernetes.io/depends-on` stops the run here too, before anything is recorded.
    apply::DeclaredOrder::of(&plan, &BTreeSet::new())?;
    // Objects we would take from someone else stop the run here, before anything is recorded.
    apply::check_plan_ownership(
        &plan,
        &apply_options(ctx, opts, false, BTreeMap::new(), &crd_refs),
    )?;
    let chart_ref = ChartRef {
        name: rendered.chart.metadata.name.clone(),
        version: rendered.chart.metadata.version.clone(),
        app_version: rendered.chart.metadata.app_version.clone(),
        origin: opts.chart_origin.clone(),
    };
    let begin = BeginOptions {
        name: opts.release.clone(),
        operation: if is_upgrade {
            Operation::Upgrade
        } else {
            Operation::Install
        },
        chart: chart_ref,
        values: rendered.user_values.to_json(),
        computed_values: rendered.values.to_json(),
        manifest: manifest_text,
        hooks: rendered.hooks.iter().map(release::Hook::from).collect(),
        notes: rendered.notes.clone().unwrap_or_default(),
        description: String::new(),
    };
    let hooks = rendered.hooks.clone();
    drop(rendered);
    let description = opts.description.clone().unwrap_or_else(|| {
        if is_upgrade {
            "Upgrade complete".into()
        } else {
            "Install complete".into()
        }
    });

    if let Some(SavedPlanUse::Verify(saved)) = &opts.saved_plan {
        super::saved_plan::verify(saved, last.as_ref().map(|m| m.revision), &begin, &plan)?;
    }
    if opts.dry_run == Some(DryRun::Client) || SavedPlanUse::stops_after_plan(opts.saved_plan.as_ref()) {
        return Ok(UpgradeResult {
            release: preview(&begin, &ctx.namespace, revision),
            plan,
        });
    }
    if opts.create_namespace && opts.dry_run.is_none() {
        ensure_namespace(ctx).await?;
    }

    // 2. Record the pending revision (takes the release lock; recovers abandoned runs).
    if opts.dry_run == Some(DryRun::Server) {
        let report = apply::execute(
            &*ctx.cluster,
            &plan,
            &apply_options(ctx, opts, true, intents.clone(), &crd_refs),
        )
        .await;
        report.context("server-side dry run")?;
        return Ok(UpgradeResult {
            release: preview(&begin, &ctx.namespace, revision),
            plan,
        });
    }
    // A release Helm installed becomes ours now that everything is planned (the plan's base was
    // Helm's last revision); with --force-unlock a revision Helm left pending is recovered.
    // Base::start already looked in Helm's storage: `last` is Helm's when Helm has revisions we
    // lack, so a release that is ours pays no second look.
    if last
        .as_ref()
        .is_some_and(|m| m.owner == release::helm::HELM_OWNER)
    {
        super::takeover::take_over(ctx, &opts.release, opts.force_unlock).await?;
    }
    let kind = if is_upgrade { Kind::Upgrade } else { Kind::Install };
    let txn = Transaction::new(ctx, kind)
        .hooks(hooks, opts.no_hooks)
        .wait(opts.wait || opts.atomic)
        .timeout(opts.timeout)
        .logs(opts.wait_style.log_lines)
        .progress(opts.progress.clone())
        .description(description);
    // Only an upgrade may be recorded in one write: an install always creates its first record
    // under the lock, and --force-unlock asks for the recovery that only `begin` runs.
    let unchanged_as = (is_upgrade && !opts.force_unlock).then_some(revision);
    let open = match txn.open(begin, &plan, unchanged_as).await? {
        Opened::Recorded(release) => {
            tracing::debug!(elapsed = ?started.elapsed(), "unchanged revision recorded");
            return Ok(UpgradeResult { release, plan });
        }
        Opened::Pending(open) => open,
    };
    tracing::debug!(elapsed = ?started.elapsed(), "pending revision recorded");

    // 3. Hooks, objects, wait, hooks — with the lock renewed while we work.
    let work = Writes {
        ctx,
        opts,
        plan: &plan,
        apply: apply_options(ctx, opts, false, intents, &crd_refs),
        crds: &crd_refs,
    };
    let outcome = open.run(&work).await;
    tracing::debug!(elapsed = ?started.elapsed(), "applied");
    match outcome {
        Ok(release) => Ok(UpgradeResult {
            release: release.context("the upgrade recorded no revision")?,
            plan,
        }),
        Err(e) if opts.atomic => Err(undo(ctx, opts, e, is_upgrade, last_deployed_rev).await),
        Err(e) => Err(e),
    }
}

/// `--atomic` after a failed run (whose revision is recorded failed): the last deployed revision
/// is rolled back to, as a new revision; a failed install (no deployed revision) has what it
/// created removed, its history kept. Returns the run's error, saying what the undo did.
async fn undo(
    ctx: &Context,
    opts: &UpgradeOptions,
    e: anyhow::Error,
    is_upgrade: bool,
    last_deployed: Option<u32>,
) -> anyhow::Error {
    if let Some(prev) = last_deployed {
        let rb = super::rollback::RollbackOptions {
            release: opts.release.clone(),
            revision: Some(prev),
            wait: true,
            wait_for_jobs: opts.wait_for_jobs,
            wait_style: opts.wait_style,
            timeout: opts.timeout,
            force: opts.force,
            no_hooks: opts.no_hooks,
            description: Some(format!("Rollback to {} after failed {}", prev, verb(is_upgrade))),
            dry_run: false,
        };
        return match Box::pin(super::rollback::rollback(ctx, &rb)).await {
            Ok(r) => e.context(format!(
                "{} failed and was rolled back to revision {} (now revision {})",
                verb(is_upgrade),
                prev,
                r.revision
            )),
            Err(rb_err) => e.context(format!("rollback after failure also failed: {rb_err:#}")),
        };
    }
    // A failed atomic install removes what it created, as Helm does.
    let un = super::uninstall::UninstallOptions {
        release: opts.release.clone(),
        keep_history: true,
        no_hooks: true,
        wait: false,
        timeout: opts.timeout,
        description: Some("Rolled back failed install".into()),
        cascade: crate::cluster::Propagation::Background,
    };
    match Box::pin(super::uninstall::uninstall(ctx, &un)).await {
        Ok(_) => e.context("install failed and its objects were removed"),
        Err(un_err) => e.context(format!("cleanup after failed install also failed: {un_err:#}")),
    }
}

fn verb(is_upgrade: bool) -> &'static str {
    if is_upgrade {
        "upgrade"
    } else {
        "install"
    }
}

/// The revision a dry run would record.
fn preview(b: &BeginOptions, namespace: &str, revision: u32) -> Release {
    Release {
        name: b.name.clone(),
        namespace: namespace.to_string(),
        revision,
        status: if b.operation == Operation::Upgrade {
            Status::PendingUpgrade
        } else {
            Status::PendingInstall
        },
        chart: b.chart.clone(),
        values: b.values.clone(),
        computed_values: b.computed_values.clone(),
        manifest: b.manifest.clone(),
        hooks: b.hooks.clone(),
        notes: b.notes.clone(),
        description: "Dry run complete".into(),
        first_deployed: crate::release::Timestamp(0),
        last_deployed: crate::release::Timestamp(0),
        deleted: None,
        owner: String::new(),
    }
}

/// The writes of an install or upgrade: `crds/` (before the pre-hooks: those created, and with
/// `--crds update` those patched), then the rest of the plan, then the wait for what it wrote.
struct Writes<'w> {
    ctx: &'w Context,
    opts: &'w UpgradeOptions,
    plan: &'w Plan,
    apply: ApplyOptions,
    crds: &'w BTreeSet<ObjectRef>,
}

impl Writes<'_> {
    /// The plan's changes of `crds/` objects (`true`) or of the others (`false`).
    fn part(&self, crds: bool) -> Plan {
        let changes = self.plan.changes.iter();
        Plan {
            changes: changes
                .filter(|c| self.crds.contains(&c.id) == crds)
                .cloned()
                .collect(),
        }
    }
}

impl Work for Writes<'_> {
    async fn before_hooks(&self) -> anyhow::Result<()> {
        if self.opts.server_side {
            // Fields Helm 4 applied would otherwise stay alive when the chart drops them.
            super::takeover::adopt_helm_field_manager(self.ctx, self.plan).await?;
        }
        apply::execute(&*self.ctx.cluster, &self.part(true), &self.apply)
            .await
            .map_err(|e| force_hint(e, self.opts.force))?;
        Ok(())
    }

    async fn execute(&self) -> anyhow::Result<()> {
        apply::execute(&*self.ctx.cluster, &self.part(false), &self.apply)
            .await
            .map_err(|e| force_hint(e, self.opts.force))?;
        Ok(())
    }

    async fn wait(&self) -> anyhow::Result<()> {
        let targets = apply::WaitTarget::from_plan(self.plan);
        let wait = WaitOptions {
            progress: self.opts.progress.clone(),
            ..self
                .opts
                .wait_style
                .options(self.opts.timeout, self.opts.wait_for_jobs)
        };
        apply::wait(&*self.ctx.cluster, &targets, &wait).await?;
        Ok(())
    }
}

fn apply_options(
    ctx: &Context,
    opts: &UpgradeOptions,
    dry_run: bool,
    intents: BTreeMap<ObjectRef, Value>,
    crds: &BTreeSet<ObjectRef>,
) -> ApplyOptions {
    ApplyOptions {
        intents,
        create_only: crds.clone(),
        progress: opts.progress.clone(),
        dry_run,
        force: opts.force,
        server_side: opts.server_side,
        ownership: Some(Ownership {
            release: opts.release.clone(),
            namespace: ctx.namespace.clone(),
            adopt: if opts.take_ownership {
                apply::Adopt::Any
            } else if opts.adopt {
                apply::Adopt::Unowned
            } else {
                apply::Adopt::Never
            },
        }),
        timeout: opts.timeout,
        ..Default::default()
    }
}

/// Says what to do when a write failed only because it changes an immutable field.
fn force_hint(e: apply::Error, force: bool) -> anyhow::Error {
    let immutable = matches!(&e, apply::Error::Apply { failures, .. }
        if failures.iter().any(apply::ObjectFailure::is_immutable));
    if immutable && !force {
        anyhow::Error::new(e)
            .context("an immutable field changed (--force deletes and re-creates the object)")
    } else {
        e.into()
    }
}

/// Puts the `crds/` objects back as the chart has them (planning stamped them with release
/// metadata, which Helm never adds to `crds/`), and returns their identities.
fn unstamp_crds(
    plan: &mut Plan,
    intents: &mut BTreeMap<ObjectRef, Value>,
    crds: &[Value],
) -> anyhow::Result<BTreeSet<ObjectRef>> {
    let mut refs = BTreeSet::new();
    for doc in crds {
        let id = ObjectRef::of(doc, None)?;
        for change in plan.changes.iter_mut().filter(|c| c.id == id) {
            change.predicted = Some(doc.clone());
        }
        intents.insert(id.clone(), doc.clone());
        refs.insert(id);
    }
    Ok(refs)
}

/// `--create-namespace`: create the release namespace unless it exists.
async fn ensure_namespace(ctx: &Context) -> anyhow::Result<()> {
    let gvk = crate::cluster::Gvk::new("v1", "Namespace");
    match ctx.cluster.get(&gvk, None, &ctx.namespace).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_not_found() => {
            let ns = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ctx.namespace}});
            match ctx.cluster.create(&ns, &Default::default()).await {
                Ok(_) => Ok(()),
                Err(e) if e.is_already_exists() => Ok(()),
                Err(e) => Err(e).context("creating the release namespace"),
            }
        }
        Err(e) => Err(e).context("checking the release namespace"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plain `new` is Helm's `upgrade --install` with no flags: a real (not dry) run that
    /// neither waits nor reuses values, with Helm's 5m0s timeout and CRDs created on install.
    #[test]
    fn new_is_helms_defaults() {
        let o = UpgradeOptions::new("web", PathBuf::from("chart"), Mode::Upgrade);
        assert_eq!(
            (o.release.as_str(), o.chart.to_str(), o.mode),
            ("web", Some("chart"), Mode::Upgrade)
        );
        assert_eq!(o.dry_run, None);
        assert_eq!(o.timeout, Duration::from_secs(300));
        assert_eq!(o.crds, apply::CrdPolicy::Create);
        let flags = [
            o.wait,
            o.wait_for_jobs,
            o.atomic,
            o.create_namespace,
            o.reuse_values,
            o.reset_then_reuse_values,
            o.reset_values,
            o.skip_schema_validation,
            o.force,
            o.server_side,
            o.adopt,
            o.take_ownership,
            o.no_hooks,
            o.force_unlock,
        ];
        assert_eq!(flags, [false; 14]);
        assert!(o.values.value_files.is_empty() && o.values.set.is_empty() && o.patches.is_empty());
        assert!(o.chart_origin.is_none() && o.kube_version.is_none() && o.saved_plan.is_none());
    }
}
