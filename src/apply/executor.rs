//! [`execute`]: writes a [`Plan`] to the cluster in ordered waves.
//!
//! Order (why): CRDs go first, and the run waits until one is `Established` when something after it
//! needs its kind: a custom resource sent earlier fails with "no matches for kind". So a CRD waits
//! when a later object of the plan is of a kind it defines, or when it comes from `crds/`
//! ([`ApplyOptions::create_only`]: Helm installs those first and waits 60 s, since the hooks and
//! templates that follow in other calls may use them). A CRD in `templates/` that nothing in the
//! plan instantiates is not waited for, as Helm does not wait there either (argo-cd's three cost
//! ~5 s otherwise); a hook that is one of its resources waits when it is created
//! ([`run_hooks`](super::run_hooks) asks [`wait_for_crd_of`]). Then one wave per kind in Helm's `InstallOrder` (namespaces before
//! what lives in them, config before the workloads that mount it), unknown kinds last by name. Prunes
//! come after every create and patch, in Helm's `UninstallOrder`, so nothing the new revision still
//! uses disappears before its replacement exists.
//!
//! Inside a wave requests run concurrently up to [`ApplyOptions::concurrency`]; a wave ends when all
//! its requests have answered, and a failed wave stops the run (with every error of that wave).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cluster::{self, Cluster, DeleteOptions, Gvk, Patch, Propagation, WriteOptions};
use crate::diff::{Action, Change, ObjectRef, Plan};
use crate::manifest::{INSTALL_ORDER, UNINSTALL_ORDER};

use super::order::DeclaredOrder;
use super::progress::{silent, Event, Progress};
use super::wait::{wait, WaitOptions, WaitTarget};
use super::{check_ownership, describe, run_bounded, Error, OwnershipError, Task, FIELD_MANAGER};

pub(super) const CRD_KIND: &str = "CustomResourceDefinition";
pub(super) const CRD_GROUP: &str = "apiextensions.k8s.io";

/// Which release the applied objects belong to, for the ownership check before any write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ownership {
    /// Release name.
    pub release: String,
    /// Release namespace.
    pub namespace: String,
    /// Which existing objects that are not this release's may be taken over.
    pub adopt: Adopt,
}

/// Which existing objects a release may take over (see [`check_ownership`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adopt {
    /// None: an object with no or another owner stops the run before any write.
    Never,
    /// Objects with no (or incomplete) ownership metadata (`--adopt`).
    Unowned,
    /// Also objects of another release, as Helm's `--take-ownership` (the CLI lists each one).
    Any,
}

/// Options of [`execute`].
#[derive(Clone)]
pub struct ApplyOptions {
    /// Field manager of every write; [`FIELD_MANAGER`] by default.
    pub field_manager: String,
    /// Server-side dry run of every write: the server validates and defaults, nothing is stored.
    pub dry_run: bool,
    /// When an update fails because it changes an immutable field (422 "field is immutable"),
    /// delete the object, wait until it is gone, and create it again.
    pub force: bool,
    /// Send creates and updates as server-side apply (`Patch::Apply`, forcing conflicts) of the
    /// intent object instead of create / JSON patch.
    pub server_side: bool,
    /// Most requests in flight at once inside a wave (at least 1).
    pub concurrency: usize,
    /// When set, existing objects the plan patches or deletes must belong to this release.
    pub ownership: Option<Ownership>,
    /// How the dependents of deleted objects go (uninstall's `--cascade`; background, as Helm,
    /// by default).
    pub propagation: Propagation,
    /// The rendered objects (after [`stamp_ownership`](super::stamp_ownership)) by identity. Server-side
    /// apply sends them, and a forced re-create creates them; for objects missing here the plan's
    /// predicted object, without server-owned fields, is used instead, which also claims fields that
    /// the server or other managers set.
    pub intents: BTreeMap<ObjectRef, Value>,
    /// The chart's `crds/`, to create only when absent, as Helm installs them: a create that finds
    /// one already there (another run created it since the plan was made) leaves it as it is
    /// ([`Outcome::Unchanged`]), and they are always created, never server-side applied, so an
    /// existing one is never overwritten. A patch of one (`--crds update`) is sent as planned, a
    /// JSON patch guarded by its `resourceVersion`. Either way they are waited for (`Established`).
    pub create_only: BTreeSet<ObjectRef>,
    /// Bound on each internal wait: CRDs becoming established, a forced delete completing.
    pub timeout: Duration,
    /// Poll interval of those internal waits.
    pub poll_interval: Duration,
    /// Where progress events go.
    pub progress: Arc<dyn Progress>,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            field_manager: FIELD_MANAGER.to_string(),
            dry_run: false,
            force: false,
            server_side: false,
            concurrency: 16,
            ownership: None,
            propagation: Propagation::Background,
            intents: BTreeMap::new(),
            create_only: BTreeSet::new(),
            // Helm waits 60 s for CRDs to be established (`helm3:pkg/action/install.go`).
            timeout: Duration::from_secs(60),
            poll_interval: Duration::from_millis(250),
            progress: silent(),
        }
    }
}

// By hand, not derived: `intents` holds whole objects (hundreds in a large release), which a
// debug print shows only as a count.
impl std::fmt::Debug for ApplyOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApplyOptions")
            .field("field_manager", &self.field_manager)
            .field("dry_run", &self.dry_run)
            .field("force", &self.force)
            .field("server_side", &self.server_side)
            .field("concurrency", &self.concurrency)
            .field("ownership", &self.ownership)
            .field("propagation", &self.propagation)
            .field("intents", &self.intents.len())
            .field("create_only", &self.create_only)
            .field("timeout", &self.timeout)
            .field("poll_interval", &self.poll_interval)
            .field("progress", &self.progress)
            .finish()
    }
}

/// What was done to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Created.
    Created,
    /// Updated in place (JSON patch, or server-side apply).
    Patched,
    /// Deleted and created again because an immutable field changed (`force`).
    Replaced,
    /// Pruned.
    Deleted,
    /// Pruned, but it was already gone.
    AlreadyGone,
    /// Up to date; no request sent.
    Unchanged,
    /// Left the chart but is annotated `helm.sh/resource-policy: keep`; no request sent.
    Kept,
    /// Dry run only: its kind comes from a CRD this plan creates, so the server cannot check it yet.
    SkippedDryRun,
}

impl Outcome {
    /// Lowercase name for output.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Patched => "patched",
            Outcome::Replaced => "replaced",
            Outcome::Deleted => "deleted",
            Outcome::AlreadyGone => "already gone",
            Outcome::Unchanged => "unchanged",
            Outcome::Kept => "kept",
            Outcome::SkippedDryRun => "skipped (dry run)",
        }
    }
}

/// One object's result.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectResult {
    /// Which object.
    pub id: ObjectRef,
    /// Its kind with version (as the plan named it).
    pub gvk: Gvk,
    /// What was done.
    pub outcome: Outcome,
    /// The object as the server answered the last write (`None` without a write, or for deletes).
    pub object: Option<Value>,
}

/// What [`execute`] did, object by object, in the order the requests were made.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApplyReport {
    /// Whether every write was a server-side dry run.
    pub dry_run: bool,
    /// One entry per object of the plan that was handled so far.
    pub objects: Vec<ObjectResult>,
}

impl ApplyReport {
    /// Objects that exist after the apply and belong to it (created, patched, replaced or
    /// unchanged): what `--wait` waits for, as Helm waits for the whole new revision.
    pub fn wait_targets(&self) -> Vec<WaitTarget> {
        self.objects
            .iter()
            .filter(|o| {
                matches!(
                    o.outcome,
                    Outcome::Created | Outcome::Patched | Outcome::Replaced | Outcome::Unchanged
                )
            })
            .map(|o| WaitTarget::new(o.gvk.clone(), non_empty(&o.id.namespace), &o.id.name))
            .collect()
    }

    /// The result for `id`, if it was handled.
    pub fn get(&self, id: &ObjectRef) -> Option<&ObjectResult> {
        self.objects.iter().find(|o| &o.id == id)
    }
}

/// A failed write.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{operation} {}: {error}", describe(.id))]
pub struct ObjectFailure {
    /// Which object.
    pub id: ObjectRef,
    /// What was being done: `creating`, `patching`, `applying`, `deleting`, `re-creating`.
    pub operation: &'static str,
    /// The cluster's error.
    pub error: cluster::Error,
}

impl ObjectFailure {
    /// Whether the server refused the write because it changes an immutable field (what
    /// [`ApplyOptions::force`] re-creates objects for).
    pub fn is_immutable(&self) -> bool {
        is_immutable(&self.error)
    }
}

fn non_empty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

/// Writes `plan` to `cluster` in Helm's order (see the module docs) and reports what was done.
///
/// Before any write, the ownership of every object to patch or delete is checked when
/// [`ApplyOptions::ownership`] is set. A failed wave stops the run with [`Error::Apply`], which
/// carries every error of that wave and the report of what was done.
pub async fn execute(cluster: &dyn Cluster, plan: &Plan, opts: &ApplyOptions) -> Result<ApplyReport, Error> {
    check_plan_ownership(plan, opts)?;
    let order = DeclaredOrder::of(plan, &opts.create_only)?;
    let mut report = ApplyReport {
        dry_run: opts.dry_run,
        objects: Vec::new(),
    };
    let mut writes: Vec<&Change> = Vec::new();
    let mut deletes: Vec<&Change> = Vec::new();
    for change in &plan.changes {
        match change.action {
            Action::Create | Action::Patch(_) => writes.push(change),
            Action::Delete => deletes.push(change),
            Action::Noop | Action::Keep => {
                let outcome = if change.action == Action::Keep {
                    Outcome::Kept
                } else {
                    Outcome::Unchanged
                };
                report.objects.push(ObjectResult {
                    id: change.id.clone(),
                    gvk: gvk_of(change),
                    outcome,
                    object: None,
                });
                opts.progress.event(&Event::Object {
                    id: change.id.clone(),
                    outcome,
                });
            }
        }
    }

    // Kinds served by CRDs this plan creates: in a dry run the server cannot know them yet.
    let new_kinds: BTreeSet<(String, String)> = plan
        .changes
        .iter()
        .filter(|c| is_crd(&c.id) && c.action == Action::Create)
        .filter_map(|c| c.predicted.as_ref().and_then(crd_served_kind))
        .collect();

    // Kinds the plan writes after its CRDs: only a CRD serving one of them must be established
    // before the run goes on.
    let used_kinds: BTreeSet<(&str, &str)> = writes
        .iter()
        .filter(|c| !is_crd(&c.id))
        .map(|c| (c.id.group.as_str(), c.id.kind.as_str()))
        .collect();
    let must_wait = |c: &Change| {
        opts.create_only.contains(&c.id)
            || c.predicted
                .as_ref()
                .and_then(crd_served_kind)
                .is_some_and(|(g, k)| used_kinds.contains(&(g.as_str(), k.as_str())))
    };

    // Declared dependencies split the writes into levels; without any there is one level and the
    // waves are exactly Helm's.
    for level in 0..=order.max_level() {
        let at_level: Vec<&Change> = writes
            .iter()
            .copied()
            .filter(|c| order.level_of(&c.id) == level)
            .collect();
        if at_level.is_empty() {
            continue;
        }
        if level > 0 && !opts.dry_run {
            if let Err(source) = wait_for_dependencies(cluster, plan, &order, &at_level, opts).await {
                return Err(Error::DependencyNotReady {
                    source: Box::new(source),
                    report,
                });
            }
        }
        execute_level(cluster, opts, &at_level, &new_kinds, &must_wait, &mut report).await?;
    }
    for wave in waves(&deletes, uninstall_rank) {
        let kind = wave[0].id.kind.clone();
        run_wave(cluster, opts, &kind, true, &wave, &mut report).await?;
    }
    Ok(report)
}

/// Waits until every object that `dependents` declare a dependency on is ready (Jobs complete:
/// a Job depended on is something to run first, such as a migration). Objects written by an
/// earlier call ([`ApplyOptions::create_only`], the `crds/`) were waited for there.
async fn wait_for_dependencies(
    cluster: &dyn Cluster,
    plan: &Plan,
    order: &DeclaredOrder,
    dependents: &[&Change],
    opts: &ApplyOptions,
) -> Result<(), super::WaitError> {
    let needed: BTreeSet<&ObjectRef> = dependents
        .iter()
        .filter_map(|c| order.depends_on.get(&c.id))
        .flatten()
        .collect();
    let targets: Vec<WaitTarget> = plan
        .changes
        .iter()
        .filter(|c| needed.contains(&c.id))
        .map(|c| WaitTarget::new(gvk_of(c), non_empty(&c.id.namespace), &c.id.name))
        .collect();
    if targets.is_empty() {
        return Ok(());
    }
    opts.progress.event(&Event::Dependencies {
        objects: targets.len(),
    });
    let wait_opts = WaitOptions {
        wait_for_jobs: true,
        ..WaitOptions::within(opts.timeout, opts.poll_interval, &opts.progress)
    };
    wait(cluster, &targets, &wait_opts).await
}

/// The creates and patches of one dependency level, in waves by kind.
async fn execute_level(
    cluster: &dyn Cluster,
    opts: &ApplyOptions,
    writes: &[&Change],
    new_kinds: &BTreeSet<(String, String)>,
    must_wait: &dyn Fn(&Change) -> bool,
    report: &mut ApplyReport,
) -> Result<(), Error> {
    for wave in waves(writes, install_rank) {
        let kind = wave[0].id.kind.clone();
        let crd_wave = is_crd(&wave[0].id);
        let (to_send, skipped): (Vec<&Change>, Vec<&Change>) = wave
            .into_iter()
            .partition(|c| !(opts.dry_run && new_kinds.contains(&(c.id.group.clone(), c.id.kind.clone()))));
        for c in skipped {
            record(report, opts, c, Outcome::SkippedDryRun, None);
        }
        let started = std::time::Instant::now();
        run_wave(cluster, opts, &kind, false, &to_send, report).await?;
        tracing::debug!(kind = %kind, objects = to_send.len(), elapsed = ?started.elapsed(), "wave applied");
        if crd_wave && !opts.dry_run && to_send.iter().any(|c| must_wait(c)) {
            let targets: Vec<WaitTarget> = to_send
                .iter()
                .filter(|c| must_wait(c))
                .map(|c| WaitTarget::new(gvk_of(c), None, &c.id.name))
                .collect();
            let wait_opts = WaitOptions::within(opts.timeout, opts.poll_interval, &opts.progress);
            let mut waited = wait(cluster, &targets, &wait_opts).await;
            tracing::debug!(crds = targets.len(), elapsed = ?started.elapsed(), "CRDs established");
            if waited.is_ok() {
                let crds: Vec<Value> = to_send
                    .iter()
                    .filter(|c| must_wait(c))
                    .filter_map(|c| intent(c, opts))
                    .collect();
                waited = wait_until_served(cluster, &crds, opts.timeout).await;
            }
            if let Err(source) = waited {
                return Err(Error::CrdNotEstablished {
                    source: Box::new(source),
                    report: std::mem::take(report),
                });
            }
        }
    }
    Ok(())
}

/// Waits until discovery serves every version the CRDs declare as served. `Established` is set
/// once, when a CRD is first created: an update that adds a version leaves it `True` while the
/// API server is still publishing the new version, and a custom resource sent in that window fails
/// with "no matches for kind".
async fn wait_until_served(
    cluster: &dyn Cluster,
    crds: &[Value],
    timeout: Duration,
) -> Result<(), super::WaitError> {
    let deadline = Instant::now() + timeout;
    for crd in crds {
        let Some((group, kind)) = crd_served_kind(crd) else {
            continue;
        };
        let served = crd
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|v| v.get("served").and_then(Value::as_bool).unwrap_or(false))
            .filter_map(|v| v.get("name").and_then(Value::as_str));
        for version in served {
            let gvk = Gvk::new(&format!("{group}/{version}"), &kind);
            while let Err(e) = cluster.resolve(&gvk).await {
                if Instant::now() >= deadline {
                    return Err(super::WaitError::Timeout {
                        timeout,
                        total: 1,
                        pending: vec![(
                            format!("CustomResourceDefinition {kind}.{group}"),
                            format!("version {version} not served yet: {e}"),
                        )],
                        diagnosis: Default::default(),
                    });
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    Ok(())
}

/// Checks, before any write, that every existing object the plan patches or deletes belongs to
/// the release in `opts.ownership` (callers run it before recording a revision, so a refused
/// adoption leaves no trace; [`execute`] runs it again).
pub fn check_plan_ownership(plan: &Plan, opts: &ApplyOptions) -> Result<(), Error> {
    let Some(own) = &opts.ownership else {
        return Ok(());
    };
    let mut errors = Vec::new();
    for change in &plan.changes {
        let Some(live) = &change.live else { continue };
        // `crds/` carry no release metadata (Helm never adds it), and belong to no release.
        if opts.create_only.contains(&change.id) {
            continue;
        }
        let result = match change.action {
            Action::Patch(_) => check_ownership(live, &own.release, &own.namespace),
            // Pruning an object someone else's release took over would break that release; an
            // unowned one was ours (it is in our last revision), so it may go.
            Action::Delete => match check_ownership(live, &own.release, &own.namespace) {
                Err(OwnershipError::Unowned { .. }) => Ok(()),
                other => other,
            },
            _ => Ok(()),
        };
        match result {
            // Only objects the chart renders are taken; one of another release that left our
            // chart (a delete) is never pruned, even with `Adopt::Any`.
            Err(OwnershipError::Unowned { .. }) if own.adopt != Adopt::Never => {}
            Err(OwnershipError::OwnedByOther { .. })
                if own.adopt == Adopt::Any && matches!(change.action, Action::Patch(_)) => {}
            Err(e) => errors.push(e),
            Ok(()) => {}
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Ownership(errors))
    }
}

fn record(
    report: &mut ApplyReport,
    opts: &ApplyOptions,
    c: &Change,
    outcome: Outcome,
    object: Option<Value>,
) {
    opts.progress.event(&Event::Object {
        id: c.id.clone(),
        outcome,
    });
    report.objects.push(ObjectResult {
        id: c.id.clone(),
        gvk: gvk_of(c),
        outcome,
        object,
    });
}

async fn run_wave(
    cluster: &dyn Cluster,
    opts: &ApplyOptions,
    kind: &str,
    deleting: bool,
    changes: &[&Change],
    report: &mut ApplyReport,
) -> Result<(), Error> {
    if changes.is_empty() {
        return Ok(());
    }
    opts.progress.event(&Event::Wave {
        kind: kind.to_string(),
        objects: changes.len(),
        deleting,
    });
    let tasks: Vec<Task<'_, Written>> = changes
        .iter()
        .map(|c| Box::pin(apply_one(cluster, c, opts)) as Task<'_, _>)
        .collect();
    let mut failures = Vec::new();
    for (c, result) in changes.iter().zip(run_bounded(opts.concurrency, tasks).await) {
        match result {
            Ok((outcome, object)) => record(report, opts, c, outcome, object),
            Err(f) => failures.push(f),
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(Error::Apply {
            failures,
            report: std::mem::take(report),
        })
    }
}

/// Groups changes into waves of equal rank, ordered by rank, keeping plan order inside a wave.
fn waves<'a>(changes: &[&'a Change], rank: fn(&ObjectRef) -> (usize, String)) -> Vec<Vec<&'a Change>> {
    let mut by_rank: BTreeMap<(usize, String), Vec<&'a Change>> = BTreeMap::new();
    for c in changes {
        by_rank.entry(rank(&c.id)).or_default().push(c);
    }
    by_rank.into_values().collect()
}

/// CRDs first (wave 0), then Helm's install order, unknown kinds after it by name.
fn install_rank(id: &ObjectRef) -> (usize, String) {
    if is_crd(id) {
        return (0, String::new());
    }
    kind_rank(&id.kind, INSTALL_ORDER, 1)
}

fn uninstall_rank(id: &ObjectRef) -> (usize, String) {
    kind_rank(&id.kind, UNINSTALL_ORDER, 0)
}

fn kind_rank(kind: &str, order: &[&str], offset: usize) -> (usize, String) {
    match order.iter().position(|k| *k == kind) {
        Some(i) => (i + offset, String::new()),
        None => (order.len() + offset, kind.to_string()),
    }
}

fn is_crd(id: &ObjectRef) -> bool {
    id.kind == CRD_KIND && id.group == CRD_GROUP
}

/// Waits until the CRD that defines `gvk`'s kind is `Established`, for a custom resource about to
/// be created whose kind discovery does not serve yet (a hook of a CRD this run just created).
/// Returns false, without waiting, when no CRD defines the kind.
pub(crate) async fn wait_for_crd_of(
    cluster: &dyn Cluster,
    gvk: &Gvk,
    opts: &WaitOptions,
) -> Result<bool, super::WaitError> {
    let crd_gvk = Gvk::new(&format!("{CRD_GROUP}/v1"), CRD_KIND);
    let Ok(crds) = cluster.list(&crd_gvk, None, None).await else {
        return Ok(false);
    };
    let Some(name) = crds
        .items
        .iter()
        .find(|crd| crd_served_kind(crd).is_some_and(|(g, k)| g == gvk.group && k == gvk.kind))
        .and_then(|crd| crd.pointer("/metadata/name").and_then(Value::as_str))
    else {
        return Ok(false);
    };
    wait(cluster, &[WaitTarget::new(crd_gvk.clone(), None, name)], opts).await?;
    Ok(true)
}

/// `(spec.group, spec.names.kind)` of a CRD object.
fn crd_served_kind(crd: &Value) -> Option<(String, String)> {
    let group = crd.pointer("/spec/group")?.as_str()?;
    let kind = crd.pointer("/spec/names/kind")?.as_str()?;
    Some((group.to_string(), kind.to_string()))
}

fn gvk_of(c: &Change) -> Gvk {
    Gvk::new(&c.api_version, &c.id.kind)
}

fn write_options(opts: &ApplyOptions) -> WriteOptions {
    WriteOptions {
        field_manager: Some(opts.field_manager.clone()),
        // Server-side apply takes fields from other managers, as Helm 4's `--force-conflicts`:
        // the chart is the source of truth for what it declares.
        force: opts.server_side,
        dry_run: opts.dry_run,
    }
}

/// What to send for `c` as a whole object: the caller's intent, else the plan's prediction without
/// the fields the server owns.
fn intent(c: &Change, opts: &ApplyOptions) -> Option<Value> {
    if let Some(v) = opts.intents.get(&c.id) {
        return Some(with_namespace(v.clone(), &c.id.namespace));
    }
    let mut obj = c.predicted.clone()?;
    crate::diff::strip_server_fields(&mut obj, true);
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("deletionTimestamp");
        meta.remove("deletionGracePeriodSeconds");
    }
    Some(with_namespace(obj, &c.id.namespace))
}

fn with_namespace(mut obj: Value, namespace: &str) -> Value {
    if !namespace.is_empty() {
        if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.entry("namespace")
                .or_insert_with(|| Value::String(namespace.to_string()));
        }
    }
    obj
}

/// Whether the server refused an update because it changes an immutable field.
fn is_immutable(e: &cluster::Error) -> bool {
    matches!(e, cluster::Error::Api { code: 422, message, .. } if message.contains("immutable"))
}

/// One object's write: what was done and the server's answer.
type Written = Result<(Outcome, Option<Value>), ObjectFailure>;

async fn apply_one(cluster: &dyn Cluster, c: &Change, opts: &ApplyOptions) -> Written {
    let gvk = gvk_of(c);
    let ns = non_empty(&c.id.namespace);
    let name = c.id.name.as_str();
    let fail = |operation: &'static str, error: cluster::Error| ObjectFailure {
        id: c.id.clone(),
        operation,
        error,
    };
    let wopts = write_options(opts);
    let (operation, outcome, result) = match &c.action {
        Action::Delete => {
            let dopts = DeleteOptions {
                propagation: Some(opts.propagation),
                dry_run: opts.dry_run,
                resource_version: None,
            };
            return match cluster.delete(&gvk, ns, name, &dopts).await {
                Ok(_) => Ok((Outcome::Deleted, None)),
                Err(e) if e.is_not_found() => Ok((Outcome::AlreadyGone, None)),
                Err(e) => Err(fail("deleting", e)),
            };
        }
        Action::Noop => return Ok((Outcome::Unchanged, None)),
        Action::Keep => return Ok((Outcome::Kept, None)),
        Action::Create | Action::Patch(_) if opts.server_side && !opts.create_only.contains(&c.id) => {
            let body = intent(c, opts).ok_or_else(|| fail("applying", no_object()))?;
            let outcome = if c.action == Action::Create {
                Outcome::Created
            } else {
                Outcome::Patched
            };
            let r = cluster.patch(&gvk, ns, name, &Patch::Apply(body), &wopts).await;
            ("applying", outcome, r)
        }
        Action::Create => {
            let body = c
                .predicted
                .clone()
                .map(|o| with_namespace(o, &c.id.namespace))
                .ok_or_else(|| fail("creating", no_object()))?;
            ("creating", Outcome::Created, cluster.create(&body, &wopts).await)
        }
        Action::Patch(p) => {
            let ops = serde_json::to_value(p).map_err(|e| {
                fail(
                    "patching",
                    cluster::Error::Invalid(format!("encoding patch: {e}")),
                )
            })?;
            let mut r = cluster
                .patch(&gvk, ns, name, &Patch::Json(ops.clone()), &wopts)
                .await;
            // A Deployment mid-rollout has its status written many times a second, so the
            // version can move again between the re-read and the retargeted write: retarget
            // a few times, each time only if the object still changed where the patch does not
            // reach.
            for _ in 0..RETARGET_ATTEMPTS {
                let Err(e) = &r else { break };
                let Some(retargeted) = retarget_stale_patch(cluster, c, &ops, e).await else {
                    break;
                };
                r = cluster
                    .patch(&gvk, ns, name, &Patch::Json(retargeted), &wopts)
                    .await;
            }
            ("patching", Outcome::Patched, r)
        }
    };
    match result {
        Ok(obj) => Ok((outcome, Some(obj))),
        Err(e) if e.is_already_exists() && opts.create_only.contains(&c.id) => Ok((Outcome::Unchanged, None)),
        Err(e) if opts.force && is_immutable(&e) => recreate(cluster, c, opts, e.to_string()).await,
        Err(e) => Err(fail(operation, e)),
    }
}

/// How many times [`retarget_stale_patch`] may aim one write at a newer version.
const RETARGET_ATTEMPTS: usize = 5;

/// After a JSON patch failed with 422 (which is how the API server reports a failed `test` op),
/// the same operations aimed at the object's new `resourceVersion`, when the object changed only
/// where the patch does not reach: controllers write `status` (a Deployment's, on every rollout
/// step) and annotations of their own (`deployment.kubernetes.io/revision`), and that alone bumps
/// the version between our read and our write. See [`untouched_by`] for what counts.
async fn retarget_stale_patch(
    cluster: &dyn Cluster,
    c: &Change,
    ops: &Value,
    err: &cluster::Error,
) -> Option<Value> {
    if err.code() != Some(422) {
        return None;
    }
    let tested = ops.get(0).filter(|op| {
        op.get("op").and_then(Value::as_str) == Some("test")
            && op.get("path").and_then(Value::as_str) == Some("/metadata/resourceVersion")
    })?;
    let planned = c.live.as_ref()?;
    let now = cluster
        .get(&gvk_of(c), non_empty(&c.id.namespace), &c.id.name)
        .await
        .ok()?;
    let version = now.pointer("/metadata/resourceVersion")?.clone();
    if Some(&version) == tested.get("value") {
        return None;
    }
    let unpatched = |obj: &Value| {
        let mut obj = obj.clone();
        if let Some(map) = obj.as_object_mut() {
            map.remove("status");
            if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.remove("resourceVersion");
                meta.remove("managedFields");
            }
        }
        obj
    };
    if !untouched_by(&unpatched(planned), &unpatched(&now), ops) {
        return None;
    }
    let mut ops = ops.clone();
    ops[0]["value"] = version;
    Some(ops)
}

/// Whether `ops` still mean the same on `now` as on `planned`: every difference between the two
/// lies under object keys only (a changed list would shift the index-based operations) and is
/// disjoint from every operation's path (neither is a prefix of the other: an `add` of a whole
/// map would replace a key a controller added to it).
fn untouched_by(planned: &Value, now: &Value, ops: &Value) -> bool {
    fn differences(a: &Value, b: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) -> bool {
        match (a, b) {
            _ if a == b => true,
            (Value::Object(x), Value::Object(y)) => {
                for k in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                    at.push(k.clone());
                    let same = match (x.get(k), y.get(k)) {
                        (Some(l), Some(r)) => differences(l, r, at, out),
                        _ => {
                            out.push(at.clone());
                            true
                        }
                    };
                    at.pop();
                    if !same {
                        return false;
                    }
                }
                true
            }
            (Value::Array(_), _) | (_, Value::Array(_)) => false,
            _ => {
                out.push(at.clone());
                true
            }
        }
    }
    let mut changed = Vec::new();
    if !differences(planned, now, &mut Vec::new(), &mut changed) {
        return false;
    }
    let Some(ops) = ops.as_array() else {
        return false;
    };
    let paths: Vec<Vec<String>> = ops
        .iter()
        .filter(|op| op.get("op").and_then(Value::as_str) != Some("test"))
        .flat_map(|op| ["path", "from"].map(|k| op.get(k).and_then(Value::as_str)))
        .flatten()
        .map(|p| {
            p.split('/')
                .skip(1)
                .map(|t| t.replace("~1", "/").replace("~0", "~"))
                .collect()
        })
        .collect();
    changed
        .iter()
        .all(|d| paths.iter().all(|p| !d.starts_with(p) && !p.starts_with(d)))
}

fn no_object() -> cluster::Error {
    cluster::Error::Invalid("the plan has no object to write".to_string())
}

/// Deletes the object, waits until the server no longer has it, and creates it again.
async fn recreate(cluster: &dyn Cluster, c: &Change, opts: &ApplyOptions, reason: String) -> Written {
    let gvk = gvk_of(c);
    let ns = non_empty(&c.id.namespace);
    let fail = |error: cluster::Error| ObjectFailure {
        id: c.id.clone(),
        operation: "re-creating",
        error,
    };
    opts.progress.event(&Event::Recreating {
        id: c.id.clone(),
        reason,
    });
    let body = intent(c, opts).ok_or_else(|| fail(no_object()))?;
    let dopts = DeleteOptions {
        propagation: Some(Propagation::Background),
        dry_run: opts.dry_run,
        resource_version: None,
    };
    match cluster.delete(&gvk, ns, &c.id.name, &dopts).await {
        Ok(_) => {}
        Err(e) if e.is_not_found() => {}
        Err(e) => return Err(fail(e)),
    }
    if opts.dry_run {
        // The object still exists, so a dry-run create would only say AlreadyExists.
        return Ok((Outcome::Replaced, None));
    }
    let deadline = Instant::now() + opts.timeout;
    loop {
        match cluster.get(&gvk, ns, &c.id.name).await {
            Err(e) if e.is_not_found() => break,
            Err(e) => return Err(fail(e)),
            Ok(_) if Instant::now() >= deadline => {
                return Err(fail(cluster::Error::Invalid(format!(
                    "still present {:?} after deleting it",
                    opts.timeout
                ))));
            }
            Ok(_) => tokio::time::sleep(opts.poll_interval).await,
        }
    }
    let wopts = write_options(opts);
    let created = if opts.server_side {
        cluster
            .patch(&gvk, ns, &c.id.name, &Patch::Apply(body), &wopts)
            .await
    } else {
        cluster.create(&body, &wopts).await
    };
    created.map(|o| (Outcome::Replaced, Some(o))).map_err(fail)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap as Map;
    use std::sync::Mutex;

    use async_trait::async_trait;
    use serde_json::json;

    use super::*;
    use crate::cluster::{ApiResourceInfo, FakeCluster, ListInfo, Method, ObjectList};

    /// A stale patch is retargeted only when what changed since the plan cannot alter what the
    /// operations do.
    #[test]
    fn untouched_by_accepts_only_changes_the_patch_cannot_reach() {
        let planned = json!({"metadata": {"annotations": {"a": "1"}, "labels": {"x": "y"}},
            "spec": {"replicas": 2, "containers": [{"name": "c", "image": "i:1"}]}});
        let ops = json!([
            {"op": "test", "path": "/metadata/resourceVersion", "value": "5"},
            {"op": "replace", "path": "/spec/replicas", "value": 3},
            {"op": "replace", "path": "/spec/containers/0/image", "value": "i:2"},
        ]);
        // (case, the live object now, retarget allowed)
        let cases = [
            ("unchanged", planned.clone(), true),
            (
                "a controller's annotation added",
                json!({"metadata": {"annotations": {"a": "1", "deployment.kubernetes.io/revision": "4"},
                    "labels": {"x": "y"}}, "spec": planned["spec"]}),
                true,
            ),
            (
                "a field the patch replaces changed",
                json!({"metadata": planned["metadata"], "spec": {"replicas": 7, "containers": planned["spec"]["containers"]}}),
                false,
            ),
            (
                "a list changed (indexes may have shifted)",
                json!({"metadata": planned["metadata"], "spec": {"replicas": 2,
                    "containers": [{"name": "side", "image": "s"}, {"name": "c", "image": "i:1"}]}}),
                false,
            ),
            (
                "a label removed",
                json!({"metadata": {"annotations": {"a": "1"}}, "spec": planned["spec"]}),
                true,
            ),
        ];
        for (case, now, want) in cases {
            assert_eq!(untouched_by(&planned, &now, &ops), want, "{case}");
        }
        // An add of a whole map would drop a key a controller added to it.
        let add_map = json!([{"op": "add", "path": "/metadata/annotations", "value": {"b": "2"}}]);
        let now = json!({"metadata": {"annotations": {"a": "1", "c": "3"}, "labels": {"x": "y"}}, "spec": planned["spec"]});
        assert!(!untouched_by(&planned, &now, &add_map), "whole-map add");
        // Keys with `/` are compared unescaped.
        let rm =
            json!([{"op": "remove", "path": "/metadata/annotations/deployment.kubernetes.io~1revision"}]);
        let now = json!({"metadata": {"annotations": {"a": "1", "deployment.kubernetes.io/revision": "5"},
            "labels": {"x": "y"}}, "spec": planned["spec"]});
        assert!(!untouched_by(&planned, &now, &rm), "escaped key");
    }

    /// A [`FakeCluster`] whose writes take a little while and are logged with their start and end,
    /// so tests can see concurrency and wave boundaries.
    struct Slow {
        inner: FakeCluster,
        delay: Duration,
        log: Mutex<Vec<String>>,
        in_flight: Mutex<(usize, usize)>,
    }

    impl Slow {
        fn new(inner: FakeCluster, delay_ms: u64) -> Self {
            Slow {
                inner,
                delay: Duration::from_millis(delay_ms),
                log: Mutex::default(),
                in_flight: Mutex::default(),
            }
        }

        async fn around<T>(&self, what: String, f: impl std::future::Future<Output = T>) -> T {
            {
                let mut n = self.in_flight.lock().expect("lock");
                n.0 += 1;
                n.1 = n.1.max(n.0);
                self.log.lock().expect("lock").push(format!("start {what}"));
            }
            tokio::time::sleep(self.delay).await;
            let out = f.await;
            self.in_flight.lock().expect("lock").0 -= 1;
            self.log.lock().expect("lock").push(format!("end {what}"));
            out
        }

        fn max_in_flight(&self) -> usize {
            self.in_flight.lock().expect("lock").1
        }
    }

    fn patch_kind(p: &Patch) -> &'static str {
        match p {
            Patch::Json(_) => "json",
            Patch::Merge(_) => "merge",
            Patch::Strategic(_) => "strategic",
            Patch::Apply(_) => "apply",
        }
    }

    #[async_trait]
    impl Cluster for Slow {
        fn default_namespace(&self) -> &str {
            self.inner.default_namespace()
        }
        async fn resolve(&self, gvk: &Gvk) -> cluster::Result<ApiResourceInfo> {
            self.inner.resolve(gvk).await
        }
        async fn list_info(&self, gvk: &Gvk) -> cluster::Result<Option<Map<String, ListInfo>>> {
            self.inner.list_info(gvk).await
        }
        async fn get(&self, gvk: &Gvk, ns: Option<&str>, name: &str) -> cluster::Result<Value> {
            self.inner.get(gvk, ns, name).await
        }
        async fn list(&self, gvk: &Gvk, ns: Option<&str>, sel: Option<&str>) -> cluster::Result<ObjectList> {
            self.inner.list(gvk, ns, sel).await
        }
        async fn create(&self, object: &Value, opts: &WriteOptions) -> cluster::Result<Value> {
            let what = format!(
                "create {} {}",
                object["kind"].as_str().unwrap_or(""),
                object["metadata"]["name"].as_str().unwrap_or("")
            );
            self.around(what, self.inner.create(object, opts)).await
        }
        async fn patch(
            &self,
            gvk: &Gvk,
            ns: Option<&str>,
            name: &str,
            patch: &Patch,
            opts: &WriteOptions,
        ) -> cluster::Result<Value> {
            let what = format!("patch-{} {} {name}", patch_kind(patch), gvk.kind);
            self.around(what, self.inner.patch(gvk, ns, name, patch, opts))
                .await
        }
        async fn delete(
            &self,
            gvk: &Gvk,
            ns: Option<&str>,
            name: &str,
            opts: &DeleteOptions,
        ) -> cluster::Result<Value> {
            self.around(
                format!("delete {} {name}", gvk.kind),
                self.inner.delete(gvk, ns, name, opts),
            )
            .await
        }
    }

    fn block<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    fn obj(api_version: &str, kind: &str, name: &str) -> Value {
        json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": name}})
    }

    fn change(object: Value, action: Action, live: Option<Value>) -> Change {
        let api_version = object["apiVersion"].as_str().unwrap_or("").to_string();
        let cluster_scoped =
            ["Namespace", "CustomResourceDefinition"].contains(&object["kind"].as_str().unwrap_or(""));
        let id = ObjectRef::of(&object, (!cluster_scoped).then_some("default")).expect("id");
        let predicted = match action {
            Action::Delete => None,
            _ => Some(object),
        };
        Change {
            id,
            api_version,
            action,
            live,
            predicted,
            drift: Vec::new(),
        }
    }

    fn create(api_version: &str, kind: &str, name: &str) -> Change {
        change(obj(api_version, kind, name), Action::Create, None)
    }

    fn delete(api_version: &str, kind: &str, name: &str) -> Change {
        let live = obj(api_version, kind, name);
        change(live.clone(), Action::Delete, Some(live))
    }

    fn json_patch(ops: Value) -> Action {
        Action::Patch(serde_json::from_value(ops).expect("patch"))
    }

    fn crd() -> Value {
        json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
               "metadata": {"name": "widgets.example.com"},
               "spec": {"group": "example.com", "names": {"kind": "Widget", "plural": "widgets"}},
               // The fake has no controller; the created object carries the condition itself.
               "status": {"conditions": [{"type": "Established", "status": "True"}]}})
    }

    fn writes(log: &[String]) -> Vec<String> {
        log.iter()
            .filter_map(|l| l.strip_prefix("start ").map(str::to_string))
            .collect()
    }

    /// A stale patch is retargeted again when the object moved once more between the re-read
    /// and the retargeted write (a Deployment mid-rollout: `rollback` right after an `upgrade`
    /// failed with 422 when only one retarget was tried).
    #[test]
    fn a_stale_patch_is_retargeted_more_than_once() {
        block(async {
            let fake = FakeCluster::new("default");
            let planned = json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "cfg", "namespace": "default"}, "data": {"a": "1"}});
            let live = fake.insert(planned.clone()).expect("insert");
            let stale = live["metadata"]["resourceVersion"].clone();
            // A controller's write the patch does not reach: the plan's version is now stale.
            fake.patch(
                &Gvk::new("v1", "ConfigMap"),
                Some("default"),
                "cfg",
                &Patch::Merge(json!({"metadata": {"annotations": {"controller": "1"}}})),
                &WriteOptions::default(),
            )
            .await
            .expect("a controller's write");
            // The first write fails its test (stale), and so does the first retargeted one, as if
            // the version moved again in between (injected 422s, consumed in order).
            for _ in 0..2 {
                fake.inject(
                    Method::Patch,
                    Some("cfg"),
                    cluster::Error::Api {
                        code: 422,
                        reason: "Invalid".into(),
                        message: "the server rejected our request".into(),
                        retry_after: None,
                    },
                );
            }
            let ops = json!([
                {"op": "test", "path": "/metadata/resourceVersion", "value": stale},
                {"op": "replace", "path": "/data/a", "value": "2"}
            ]);
            let mut want = planned.clone();
            want["data"]["a"] = json!("2");
            let plan = Plan {
                changes: vec![change(want, json_patch(ops), Some(live))],
            };
            execute(&fake, &plan, &ApplyOptions::default())
                .await
                .expect("patched after two retargets");
            let now = fake
                .get(&Gvk::new("v1", "ConfigMap"), Some("default"), "cfg")
                .await
                .expect("get");
            assert_eq!(now["data"]["a"], "2");
            assert_eq!(now["metadata"]["annotations"]["controller"], "1");
        });
    }

    #[test]
    fn waves_follow_install_order_with_crds_first() {
        block(async {
            let fake = FakeCluster::new("default");
            fake.add_kind("example.com/v1", "Widget", "widgets", true);
            let c = Slow::new(fake, 0);
            // Plan order is deliberately scrambled; expected order is helm's InstallOrder.
            let plan = Plan {
                changes: vec![
                    create("example.com/v1", "Widget", "w"),
                    create("apps/v1", "Deployment", "web"),
                    create("v1", "Service", "web"),
                    change(crd(), Action::Create, None),
                    create("v1", "ConfigMap", "cfg"),
                    create("v1", "Namespace", "ns1"),
                    create("v1", "ServiceAccount", "sa"),
                ],
            };
            let report = execute(&c, &plan, &ApplyOptions::default()).await.expect("apply");
            assert_eq!(
                writes(&c.log.lock().expect("lock")),
                [
                    "create CustomResourceDefinition widgets.example.com",
                    "create Namespace ns1",
                    "create ServiceAccount sa",
                    "create ConfigMap cfg",
                    "create Service web",
                    "create Deployment web",
                    "create Widget w",
                ]
            );
            assert!(report.objects.iter().all(|o| o.outcome == Outcome::Created));
            // The CRD was checked for Established before the Widget went out.
            let calls = c.inner.calls();
            let get_crd = calls
                .iter()
                .position(|k| k.method == Method::List && k.gvk.kind == "CustomResourceDefinition");
            let create_widget = calls
                .iter()
                .position(|k| k.method == Method::Create && k.gvk.kind == "Widget");
            assert!(get_crd.expect("crd checked") < create_widget.expect("widget created"));
        });
    }

    /// A CRD the fake never marks established (it has no controller), so any wait for it times out.
    fn pending_crd() -> Value {
        let mut c = crd();
        c.as_object_mut().expect("map").remove("status");
        c
    }

    fn short_wait() -> ApplyOptions {
        ApplyOptions {
            timeout: Duration::from_millis(200),
            poll_interval: Duration::from_millis(10),
            ..ApplyOptions::default()
        }
    }

    fn depends(mut c: Change, on: &str) -> Change {
        if let Some(p) = c.predicted.as_mut() {
            p["metadata"]["annotations"] = json!({ crate::manifest::DEPENDS_ON_ANNOTATION: on });
        }
        c
    }

    /// Issue 22: a chain of three declared with `depends-on` and independent objects: the
    /// independent ones keep Helm's kind waves, the chain goes one level at a time.
    #[test]
    fn declared_dependencies_are_written_level_by_level() {
        block(async {
            let c = Slow::new(FakeCluster::new("default"), 0);
            let plan = Plan {
                changes: vec![
                    depends(
                        create("v1", "ConfigMap", "third"),
                        "/namespaces/default/Secret/second",
                    ),
                    create("v1", "Service", "alone"),
                    depends(
                        create("v1", "Secret", "second"),
                        "/namespaces/default/ConfigMap/first",
                    ),
                    create("v1", "ConfigMap", "first"),
                ],
            };
            execute(&c, &plan, &short_wait()).await.expect("apply");
            assert_eq!(
                writes(&c.log.lock().expect("lock")),
                [
                    "create ConfigMap first",
                    "create Service alone",
                    "create Secret second",
                    "create ConfigMap third",
                ]
            );
        });
    }

    #[test]
    fn dependents_wait_for_readiness_and_bad_orders_write_nothing() {
        let cases: Vec<(&str, Vec<Change>, &str)> = vec![
            (
                "a Job depended on must complete first",
                vec![
                    // As the API server defaults it: one completion, none yet.
                    change(
                        json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate"},
                            "spec": {"completions": 1}}),
                        Action::Create,
                        None,
                    ),
                    depends(create("v1", "ConfigMap", "app"), "batch/namespaces/default/Job/migrate"),
                ],
                "waiting for dependencies (config.kubernetes.io/depends-on): ",
            ),
            (
                "cycle",
                vec![
                    depends(create("v1", "ConfigMap", "a"), "/namespaces/default/ConfigMap/b"),
                    depends(create("v1", "ConfigMap", "b"), "/namespaces/default/ConfigMap/a"),
                ],
                "forms a cycle: ConfigMap default/a -> ConfigMap default/b -> ConfigMap default/a",
            ),
            (
                "missing",
                vec![depends(create("v1", "ConfigMap", "a"), "/namespaces/default/ConfigMap/nope")],
                "ConfigMap default/a: annotation config.kubernetes.io/depends-on: /namespaces/default/ConfigMap/nope is not an object of this release",
            ),
        ];
        for (name, changes, want) in cases {
            block(async {
                let c = FakeCluster::new("default");
                let err = execute(&c, &Plan { changes }, &short_wait())
                    .await
                    .expect_err(name)
                    .to_string();
                assert!(err.contains(want), "{name}: {err}");
                let created: Vec<String> = c
                    .calls()
                    .into_iter()
                    .filter(|k| k.method == Method::Create)
                    .map(|k| k.gvk.kind)
                    .collect();
                let want_created: &[&str] = if name.starts_with("a Job") { &["Job"] } else { &[] };
                assert_eq!(created, want_created, "{name}: the dependent is never sent");
            });
        }
    }

    /// Issue 10: argo-cd's three CRDs in `templates/` cost ~5 s of waiting although the chart
    /// creates none of their resources; Helm goes on at once.
    #[test]
    fn crd_nothing_uses_is_not_waited_for() {
        block(async {
            let c = FakeCluster::new("default");
            let plan = Plan {
                changes: vec![
                    change(pending_crd(), Action::Create, None),
                    create("v1", "ConfigMap", "cfg"),
                ],
            };
            let report = execute(&c, &plan, &short_wait())
                .await
                .expect("no wait, no timeout");
            assert!(report.objects.iter().all(|o| o.outcome == Outcome::Created));
            let crd_reads: Vec<_> = c
                .calls()
                .into_iter()
                .filter(|k| k.method == Method::Get && k.gvk.kind == CRD_KIND)
                .collect();
            assert!(crd_reads.is_empty(), "{crd_reads:?}");
        });
    }

    #[test]
    fn crd_is_waited_for_when_the_plan_uses_its_kind_or_it_comes_from_crds_dir() {
        let widget_in_plan = Plan {
            changes: vec![
                change(pending_crd(), Action::Create, None),
                create("example.com/v1", "Widget", "w"),
            ],
        };
        let crd_alone = Plan {
            changes: vec![change(pending_crd(), Action::Create, None)],
        };
        let mut from_crds_dir = short_wait();
        from_crds_dir.create_only = crd_alone.changes.iter().map(|c| c.id.clone()).collect();
        for (name, plan, opts) in [
            ("custom resource in the plan", widget_in_plan, short_wait()),
            ("crds/ before hooks", crd_alone, from_crds_dir),
        ] {
            block(async {
                let c = FakeCluster::new("default");
                let err = execute(&c, &plan, &opts).await.expect_err(name);
                assert!(matches!(err, Error::CrdNotEstablished { .. }), "{name}: {err}");
                assert!(
                    !c.calls()
                        .iter()
                        .any(|k| k.method == Method::Create && k.gvk.kind == "Widget"),
                    "{name}: no custom resource before its CRD is established"
                );
            });
        }
    }

    #[test]
    fn create_only_objects_that_exist_are_left_alone() {
        for server_side in [false, true] {
            block(async {
                let c = FakeCluster::new("default");
                let mut theirs = crd();
                theirs["spec"]["names"]["singular"] = json!("theirs");
                let live = c.insert(theirs).expect("created by someone else since the plan");
                let plan = Plan {
                    changes: vec![change(crd(), Action::Create, None)],
                };
                let id = plan.changes[0].id.clone();
                let refused = execute(&c, &plan, &ApplyOptions::default()).await;
                assert!(refused.is_err(), "an ordinary create fails on an existing object");
                let opts = ApplyOptions {
                    create_only: BTreeSet::from([id]),
                    server_side,
                    ..ApplyOptions::default()
                };
                let report = execute(&c, &plan, &opts).await.expect("create only");
                assert_eq!(report.objects[0].outcome, Outcome::Unchanged);
                assert_eq!(c.objects(), [live], "server_side {server_side}: not overwritten");
            });
        }
    }

    #[test]
    fn noop_and_keep_send_nothing() {
        block(async {
            let c = FakeCluster::new("default");
            let live = obj("v1", "ConfigMap", "a");
            let plan = Plan {
                changes: vec![
                    change(live.clone(), Action::Noop, Some(live.clone())),
                    change(
                        obj("v1", "Secret", "s"),
                        Action::Keep,
                        Some(obj("v1", "Secret", "s")),
                    ),
                ],
            };
            let report = execute(&c, &plan, &ApplyOptions::default()).await.expect("apply");
            assert!(c.calls().is_empty(), "requests: {:?}", c.calls());
            let outcomes: Vec<Outcome> = report.objects.iter().map(|o| o.outcome).collect();
            assert_eq!(outcomes, [Outcome::Unchanged, Outcome::Kept]);
        });
    }

    #[test]
    fn concurrency_is_bounded_and_waves_do_not_overlap() {
        let cases = [
            ("one at a time", 1, 1),
            ("three", 3, 3),
            ("more than objects", 50, 8),
        ];
        for (name, limit, want) in cases {
            block(async {
                let c = Slow::new(FakeCluster::new("default"), 15);
                let mut changes: Vec<Change> = (0..8)
                    .map(|i| create("v1", "ConfigMap", &format!("c{i}")))
                    .collect();
                changes.push(create("apps/v1", "Deployment", "web"));
                let opts = ApplyOptions {
                    concurrency: limit,
                    ..ApplyOptions::default()
                };
                execute(&c, &Plan { changes }, &opts).await.expect(name);
                assert_eq!(c.max_in_flight(), want, "{name}");
                let log = c.log.lock().expect("lock").clone();
                let last_cm_end = log.iter().rposition(|l| l.starts_with("end create ConfigMap"));
                let dep_start = log.iter().position(|l| l == "start create Deployment web");
                assert!(last_cm_end < dep_start, "{name}: waves overlap: {log:?}");
            });
        }
    }

    #[test]
    fn prunes_come_last_in_uninstall_order() {
        block(async {
            let fake = FakeCluster::new("default");
            for (av, kind, name) in [
                ("v1", "ConfigMap", "old"),
                ("apps/v1", "Deployment", "old"),
                ("v1", "Service", "old"),
            ] {
                fake.insert(json!({"apiVersion": av, "kind": kind, "metadata": {"name": name, "namespace": "default"}}))
                    .expect("insert");
            }
            let c = Slow::new(fake, 0);
            let plan = Plan {
                changes: vec![
                    delete("v1", "ConfigMap", "old"),
                    delete("apps/v1", "Deployment", "old"),
                    create("v1", "ConfigMap", "new"),
                    delete("v1", "Service", "old"),
                    delete("v1", "Secret", "gone"),
                ],
            };
            let report = execute(&c, &plan, &ApplyOptions::default()).await.expect("apply");
            assert_eq!(
                writes(&c.log.lock().expect("lock")),
                [
                    "create ConfigMap new",
                    "delete Service old",
                    "delete Deployment old",
                    "delete ConfigMap old",
                    "delete Secret gone",
                ]
            );
            let gone = report
                .objects
                .iter()
                .find(|o| o.id.name == "gone")
                .expect("secret");
            assert_eq!(gone.outcome, Outcome::AlreadyGone);
        });
    }

    fn immutable() -> cluster::Error {
        cluster::Error::Api {
            code: 422,
            reason: "Invalid".into(),
            // As kube-apiserver v1.32 words it for a Deployment selector change.
            message: r#"Deployment.apps "web" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web2"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"#.into(),
            retry_after: None,
        }
    }

    #[test]
    fn force_recreates_on_immutable_field() {
        for force in [false, true] {
            block(async {
                let fake = FakeCluster::new("default");
                let live = fake
                    .insert(json!({"apiVersion": "apps/v1", "kind": "Deployment",
                        "metadata": {"name": "web", "namespace": "default"},
                        "spec": {"selector": {"matchLabels": {"app": "web"}}}, "status": {"replicas": 1}}))
                    .expect("insert");
                fake.inject(Method::Patch, Some("web"), immutable());
                let c = Slow::new(fake, 0);
                let mut ch = change(
                    live.clone(),
                    json_patch(
                        json!([{"op": "replace", "path": "/spec/selector/matchLabels/app", "value": "web2"}]),
                    ),
                    Some(live.clone()),
                );
                let mut predicted = live.clone();
                predicted["spec"]["selector"]["matchLabels"]["app"] = json!("web2");
                ch.predicted = Some(predicted);
                let opts = ApplyOptions {
                    force,
                    poll_interval: Duration::from_millis(1),
                    ..ApplyOptions::default()
                };
                let result = execute(&c, &Plan { changes: vec![ch] }, &opts).await;
                let log = writes(&c.log.lock().expect("lock"));
                if !force {
                    let refused = result.expect_err("immutable without force");
                    let err = refused.to_string();
                    assert!(
                        err.starts_with("patching Deployment default/web: Error from server (Invalid)"),
                        "{err}"
                    );
                    assert!(err.contains("field is immutable"), "{err}");
                    let Error::Apply { failures, .. } = &refused else {
                        panic!("not an apply error");
                    };
                    assert!(failures[0].is_immutable());
                    assert_eq!(log, ["patch-json Deployment web"]);
                    return;
                }
                let report = result.expect("force");
                assert_eq!(
                    log,
                    [
                        "patch-json Deployment web",
                        "delete Deployment web",
                        "create Deployment web"
                    ]
                );
                assert_eq!(report.objects[0].outcome, Outcome::Replaced);
                let now = c
                    .inner
                    .get(&Gvk::new("apps/v1", "Deployment"), None, "web")
                    .await
                    .expect("get");
                assert_eq!(now["spec"]["selector"]["matchLabels"]["app"], "web2");
                assert!(
                    now.get("status").is_none(),
                    "server-owned fields are not sent back"
                );
                assert_ne!(now["metadata"]["uid"], live["metadata"]["uid"], "a new object");
            });
        }
    }

    #[test]
    fn ownership_is_checked_before_any_write() {
        let owned_by = |rel: Option<&str>| {
            let mut o = obj("v1", "ConfigMap", "a");
            o["metadata"]["namespace"] = json!("default");
            if let Some(rel) = rel {
                crate::apply::stamp_ownership(&mut o, rel, "default");
            }
            o
        };
        let cases: Vec<(&str, Value, Adopt, Option<&str>)> = vec![
            ("ours", owned_by(Some("rel")), Adopt::Never, None),
            (
                "other release with adopt",
                owned_by(Some("other")),
                Adopt::Unowned,
                Some("it belongs to release \"other\""),
            ),
            (
                "unowned without adopt",
                owned_by(None),
                Adopt::Never,
                Some("invalid ownership metadata"),
            ),
            ("unowned with adopt", owned_by(None), Adopt::Unowned, None),
            // Helm's --take-ownership: another release's object is taken.
            (
                "other release with take-ownership",
                owned_by(Some("other")),
                Adopt::Any,
                None,
            ),
            ("unowned with take-ownership", owned_by(None), Adopt::Any, None),
        ];
        for (name, live, adopt, want_err) in cases {
            block(async {
                let c = FakeCluster::new("default");
                c.insert(live.clone()).expect("insert");
                let ch = change(
                    live.clone(),
                    json_patch(json!([{"op": "add", "path": "/data", "value": {"k": "v"}}])),
                    Some(live.clone()),
                );
                let opts = ApplyOptions {
                    ownership: Some(Ownership {
                        release: "rel".into(),
                        namespace: "default".into(),
                        adopt,
                    }),
                    ..ApplyOptions::default()
                };
                let result = execute(&c, &Plan { changes: vec![ch] }, &opts).await;
                match want_err {
                    None => {
                        result.expect(name);
                    }
                    Some(want) => {
                        let err = result.expect_err(name);
                        assert!(matches!(err, Error::Ownership(_)), "{name}: {err:?}");
                        assert!(err.to_string().contains(want), "{name}: {err}");
                        assert!(c.calls().is_empty(), "{name}: nothing may be written");
                    }
                }
            });
        }
    }

    #[test]
    fn dry_run_and_server_side() {
        block(async {
            let fake = FakeCluster::new("default");
            fake.add_kind("example.com/v1", "Widget", "widgets", true);
            let live = fake
                .insert(json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "a", "namespace": "default"}, "data": {"k": "1"}}))
                .expect("insert");
            let c = Slow::new(fake, 0);
            let mut patched = change(
                live.clone(),
                json_patch(json!([{"op": "replace", "path": "/data/k", "value": "2"}])),
                Some(live.clone()),
            );
            patched.predicted = Some(json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "a", "namespace": "default", "resourceVersion": "1"}, "data": {"k": "2"}}));
            let plan = Plan {
                changes: vec![
                    change(crd(), Action::Create, None),
                    create("example.com/v1", "Widget", "w"),
                    patched,
                ],
            };
            let opts = ApplyOptions {
                dry_run: true,
                server_side: true,
                ..ApplyOptions::default()
            };
            let report = execute(&c, &plan, &opts).await.expect("dry run");
            assert!(c.inner.calls().iter().all(|k| k.dry_run), "{:?}", c.inner.calls());
            assert_eq!(
                writes(&c.log.lock().expect("lock")),
                [
                    "patch-apply CustomResourceDefinition widgets.example.com",
                    "patch-apply ConfigMap a"
                ]
            );
            let w = report
                .objects
                .iter()
                .find(|o| o.id.kind == "Widget")
                .expect("widget");
            assert_eq!(w.outcome, Outcome::SkippedDryRun);
            assert_eq!(c.inner.objects(), [live], "a dry run stores nothing");
        });
    }
}
