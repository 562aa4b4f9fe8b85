//! Release semantics over a [`Driver`]: history, the next revision, status transitions,
//! pruning, uninstall, and recovery of runs that died (Helm's `pkg/storage/storage.go` plus the
//! record writes scattered through `pkg/action`).
//!
//! A write operation is three calls: [`Store::begin`] (take the release's lease, recover
//! abandoned records, prune, create revision N+1 as `pending-*`), then the caller's work with
//! [`Store::renew`] every [`Pending::renew_every_secs`], then [`Store::mark_deployed`] or
//! [`Store::mark_failed`] (which also give the lease back). Every record write is conditional
//! (create-only, or update at the version read), so a run that lost its lease, or a second run
//! that bypassed it, gets an error instead of corrupting history.
//!
//! A body too big for one object (Kubernetes' 1 MiB) is split ([`crate::release`]'s `parts`):
//! the parts are written first, under indices no earlier write of the revision used, then the
//! record itself, whose create or conditional update stays the one commit point. A reader thus
//! never finds a record whose parts were not written; a run that dies between the two leaves
//! only unreferenced parts, which the next successful write of that revision, or the deletion
//! of the release, removes. Replaced parts are deleted after the commit.
//!
//! An upgrade or rollback whose plan changes no object and runs no hook has nothing to protect
//! from a crash, so [`Store::record_unchanged`] writes it as one create of the final `deployed`
//! record, with no lease and no pending record (see there for why that stays safe).
//!
//! `superseded` is derived when records are read, not written: a record stored `deployed` with
//! a newer record stored `deployed` reads as `superseded`, dated when that newer one was
//! deployed (which is exactly what the patch that used to mark it wrote, so records written
//! either way read the same). That saves a write per upgrade, and a crash between "deployed" and
//! "superseded" can no longer leave two deployed revisions. Uninstall, the one operation that
//! takes `deployed` away from the newest record, rewrites no older record either: a record that
//! was `deployed` when its uninstall began stays marked as superseding
//! ([`RecordMeta::supersedes`]) while `uninstalling` and once `uninstalled`, dated as it was, so
//! the records it superseded read exactly as before (as Helm's, where they were written
//! `superseded`). A record that was `failed` gets no mark, so the deployed revision below it
//! keeps reading `deployed`, as in Helm. Only when the marked record stops superseding (the
//! uninstall ends `failed`, by its own failure or a later run's recovery of one that died) are
//! the records it superseded first written `superseded` ([`Store::settle_superseded`]).
//!
//! Differences from Helm, on purpose: a pending record never blocks forever (see
//! [`crate::release::lock`]); every deployed revision but the newest reads as superseded (Helm
//! marks that only on rollback), so history never shows two deployed revisions; records hold
//! computed values and no chart files; a failed rollback does not mark the previous revision
//! superseded.

use std::sync::{Arc, Mutex};

use super::{
    codec::{self, CodecError, DataKey},
    driver::part_key,
    driver::{gone, Driver, DriverError, Stored},
    lock::{self, Claim, Held, Lease, LockError, DEFAULT_TTL_SECS},
    parts::{self, Manifest},
    record::{record_key, validate_name, ChartRef, Clock, Hook, Operation, RecordMeta, Release, Status},
};

/// Helm's default `--history-max`.
pub const DEFAULT_HISTORY_MAX: usize = 10;

/// The largest body kept in one object: Kubernetes caps a ConfigMap's data at 1 MiB
/// (`MaxSecretSize`, also used for ConfigMaps); the rest is headroom for labels and annotations.
/// A bigger body is split into slices of at most this size (the record's slice also carries the
/// parts manifest, one short line).
pub const MAX_BODY_BYTES: usize = 1024 * 1024 - 16 * 1024;

/// The most slices one record may be split into (about 250 MiB): past that something is wrong
/// with the chart, and thousands of objects would not help.
pub const MAX_SLICES: usize = 256;

/// Slice size: room for the manifest line on the record's slice.
const SLICE_BYTES: usize = MAX_BODY_BYTES - 256;

/// Errors of the release store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The release name would make invalid object names or labels.
    #[error("{0}")]
    InvalidName(String),
    /// No record of the release.
    #[error("release {0:?} not found")]
    NotFound(String),
    /// No such revision.
    #[error("release {name:?} has no revision {revision}")]
    RevisionNotFound {
        /// Release name.
        name: String,
        /// Revision asked for.
        revision: u32,
    },
    /// Another run recorded the revision this run meant to record, without holding the lease
    /// (an unchanged upgrade, [`Store::record_unchanged`]).
    #[error(
        "another operation (by run {holder}) recorded revision {revision} of release {name:?} \
         while this run was in progress; nothing was changed, run it again"
    )]
    Raced {
        /// Release name.
        name: String,
        /// The revision the other run recorded.
        revision: u32,
        /// Run id of the other run, as its record names it.
        holder: String,
    },
    /// Another live run holds the release's lease: it renewed it while this run watched.
    #[error(
        "another operation ({}) is in progress on release {:?}: it renewed its lock while this \
         run watched (--wait-for-lock DURATION waits for it)",
        .lease.describe(), .lease.release
    )]
    InProgress {
        /// The holder's lease.
        lease: Lease,
    },
    /// `--force-unlock` found the lease being renewed and left it alone.
    #[error("{0}")]
    LockRenewed(LockError),
    /// This run's lease was taken over: it must stop writing.
    #[error("{0}; this run was too slow to renew it and stopped")]
    LockLost(LockError),
    /// The revision this run meant to create exists already.
    #[error(
        "release {name:?} revision {revision} was created by another run at the same time; \
         nothing was changed"
    )]
    RevisionExists {
        /// Release name.
        name: String,
        /// Revision.
        revision: u32,
    },
    /// A record changed between this run's read and write.
    #[error("release record {0} was changed by another run; nothing was changed")]
    Conflict(String),
    /// Uninstall of a release whose last revision is uninstalled already.
    #[error("release {0:?} is already uninstalled")]
    AlreadyUninstalled(String),
    /// Records exist but the key that decrypts them does not.
    #[error(
        "release records in namespace {0:?} are encrypted, but Secret kubectl-chart-key is \
         missing (deleted?), so they cannot be read"
    )]
    KeyMissing(String),
    /// A body could not be encoded or decoded.
    #[error("release record {object}: {cause}")]
    Codec {
        /// Object name.
        object: String,
        /// Cause. Part of the message and deliberately not `Error::source()`: printing the
        /// chain (`{:#}`, as the CLI does) would otherwise repeat it.
        cause: CodecError,
    },
    /// The encoded record is too big even split into [`MAX_SLICES`] objects.
    #[error(
        "release record {object} would be {bytes} bytes encoded, more than the {MAX_SLICES} \
         objects of {MAX_BODY_BYTES} bytes a record may be split into"
    )]
    TooLarge {
        /// Object name.
        object: String,
        /// Encoded size.
        bytes: usize,
    },
    /// A record split into parts cannot be put back together: a part is missing, or the
    /// reassembled body does not match the record's checksum.
    #[error("release record {object} is damaged: {reason}")]
    Damaged {
        /// Object name of the record.
        object: String,
        /// What is wrong.
        reason: String,
    },
    /// Storage failed.
    #[error("{op} release storage: {cause}")]
    Driver {
        /// What the store was doing.
        op: &'static str,
        /// Cause (in the message, not `Error::source()`, as for [`Error::Codec`]).
        cause: DriverError,
    },
}

/// Result of the store.
pub type Result<T, E = Error> = std::result::Result<T, E>;

fn driver_err(op: &'static str) -> impl FnOnce(DriverError) -> Error {
    move |cause| Error::Driver { op, cause }
}

/// What [`Store::begin`] writes into the new revision.
#[derive(Debug, Clone)]
pub struct BeginOptions {
    /// Release name.
    pub name: String,
    /// Install, upgrade or rollback (uninstall has [`Store::begin_uninstall`]).
    pub operation: Operation,
    /// The chart.
    pub chart: ChartRef,
    /// User-supplied values.
    pub values: serde_json::Value,
    /// Values as templates saw them.
    pub computed_values: serde_json::Value,
    /// Rendered non-hook documents.
    pub manifest: String,
    /// Hook documents.
    pub hooks: Vec<Hook>,
    /// Rendered NOTES.txt.
    pub notes: String,
    /// Description while pending; empty for Helm's ("Initial install underway",
    /// "Preparing upgrade", "Rollback in progress").
    pub description: String,
}

impl BeginOptions {
    /// A revision of release `name` opened by `operation` that records nothing more: no chart,
    /// null values, no manifest, hooks, notes or description. Callers (tests, mostly) fill in
    /// what they need with `..BeginOptions::new(name, operation)`.
    pub fn new(name: impl Into<String>, operation: Operation) -> BeginOptions {
        BeginOptions {
            name: name.into(),
            operation,
            chart: ChartRef::default(),
            values: serde_json::Value::Null,
            computed_values: serde_json::Value::Null,
            manifest: String::new(),
            hooks: Vec::new(),
            notes: String::new(),
            description: String::new(),
        }
    }
}

/// What the end of an uninstall does with the namespace's data key.
enum KeyPlan<'a> {
    /// Another release has records: the key stays.
    Keep,
    /// No other release had records as of this version: the key goes before the lock.
    RetireBeforeLock(&'a str),
    /// After the records and the lock, the key goes if no release has records.
    Cleanup,
}

/// A revision this run opened and holds the lease for. Finish it with [`Store::mark_deployed`],
/// [`Store::mark_failed`] or [`Store::finish_uninstall`]; dropping it leaves the record pending
/// until the lease expires and the next run recovers it.
#[derive(Debug)]
pub struct Pending {
    release: Release,
    stored: Stored,
    held: Mutex<Held>,
    recovered: Vec<u32>,
    pruned: Vec<u32>,
    /// Whether records older than this one existed when it was opened (an uninstall deletes
    /// them first, with one request less when there are none).
    older_records: bool,
}

impl Pending {
    /// The record as written.
    pub fn release(&self) -> &Release {
        &self.release
    }

    /// Revisions found abandoned by dead runs and marked failed by this `begin`.
    pub fn recovered(&self) -> &[u32] {
        &self.recovered
    }

    /// Revisions deleted by `--history-max` pruning.
    pub fn pruned(&self) -> &[u32] {
        &self.pruned
    }

    /// The dead run's lease this run took over, if it took one over.
    pub fn took_over(&self) -> Option<Lease> {
        self.held().took_over
    }

    /// The storage version of the record as written (`None` for storage without versions):
    /// later reads may ask for a state no older than it.
    pub fn written_at(&self) -> Option<&str> {
        self.stored.version.as_deref()
    }

    /// How often to call [`Store::renew`] while working.
    pub fn renew_every_secs(&self) -> i64 {
        self.held().renew_every_secs()
    }

    /// The lease duration: after this long without a renewal other runs take the lock over.
    pub fn lease_secs(&self) -> i64 {
        self.held().lease.ttl_secs
    }

    fn held(&self) -> Held {
        self.held.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// What [`Store::record_unchanged`] did.
#[derive(Debug)]
pub enum Unchanged {
    /// The revision is recorded as deployed.
    Recorded(Release),
    /// A record is pending (a dead run's, or a live one's): only the locked path may recover
    /// it. The options come back for [`Store::begin`].
    NeedsLock(BeginOptions),
}

/// The release records of one namespace.
pub struct Store {
    driver: Arc<dyn Driver>,
    clock: Arc<dyn Clock>,
    run_id: String,
    history_max: usize,
    lock_ttl_secs: i64,
    /// How long a run waits for a live holder's lease (`--wait-for-lock`); zero: not at all.
    lock_wait: std::time::Duration,
    /// Written into leases, so a blocked run can say where the holder runs; read when the first
    /// lease is written, so read-only verbs never read it.
    host: std::sync::OnceLock<String>,
    /// A lease [`Store::await_lock`] saw unrenewed for its whole duration, shared by the stores
    /// of one run ([`Store::with_dead_leases`]).
    dead_seen: DeadLeases,
}

/// What one run learnt while it waited for a release's lock: the lease it saw unrenewed for a
/// whole lease duration, as `(release, version)`. A verb waits for the lock with one [`Store`]
/// before it reads anything and opens its revision with another; both must share this, or the
/// second watches the dead lease again and the run waits two lease durations instead of one.
#[derive(Debug, Clone, Default)]
pub struct DeadLeases(Arc<Mutex<Option<(String, String)>>>);

impl DeadLeases {
    fn set(&self, seen: Option<(String, String)>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = seen;
    }

    /// The version of `release`'s lease seen dead, forgotten once taken.
    fn take(&self, release: &str) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .filter(|(r, _)| r == release)
            .map(|(_, version)| version)
    }
}

impl Store {
    /// A store over `driver`, writing as run `run_id` ([`lock::new_run_id`]), with Helm's default
    /// history limit and [`DEFAULT_TTL_SECS`] leases.
    pub fn new(driver: Arc<dyn Driver>, clock: Arc<dyn Clock>, run_id: impl Into<String>) -> Store {
        Store {
            driver,
            clock,
            run_id: run_id.into(),
            history_max: DEFAULT_HISTORY_MAX,
            lock_ttl_secs: DEFAULT_TTL_SECS,
            lock_wait: std::time::Duration::ZERO,
            host: std::sync::OnceLock::new(),
            dead_seen: DeadLeases::default(),
        }
    }

    /// Shares what [`Store::await_lock`] saw with the other stores of the same run.
    pub fn with_dead_leases(mut self, seen: DeadLeases) -> Store {
        self.dead_seen = seen;
        self
    }

    /// `--wait-for-lock`: how long to wait for a live holder before giving up.
    pub fn with_lock_wait(mut self, wait: std::time::Duration) -> Store {
        self.lock_wait = wait;
        self
    }

    /// `--history-max`: revisions kept per release, counting the new one; 0 = unlimited.
    pub fn with_history_max(mut self, max: usize) -> Store {
        self.history_max = max;
        self
    }

    /// Lease time to live in seconds.
    pub fn with_lock_ttl(mut self, secs: i64) -> Store {
        self.lock_ttl_secs = secs.max(1);
        self
    }

    /// This run's id.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// The namespace of the records.
    pub fn namespace(&self) -> &str {
        self.driver.namespace()
    }

    // ---- reads -------------------------------------------------------------------------------

    /// Metadata of every revision of `name`, oldest first; needs no key. Empty if none.
    pub async fn history_meta(&self, name: &str) -> Result<Vec<RecordMeta>> {
        Ok(self
            .history_without_bodies(name)
            .await?
            .into_iter()
            .map(|s| s.meta)
            .collect())
    }

    /// Metadata of the newest revision of every release in the namespace, by name; needs no key
    /// (what `list` prints).
    pub async fn list(&self) -> Result<Vec<RecordMeta>> {
        let mut all = self
            .driver
            .query_meta(None, None)
            .await
            .map_err(driver_err("listing"))?;
        all.sort_by(|a, b| (&a.meta.name, b.meta.revision).cmp(&(&b.meta.name, a.meta.revision)));
        all.dedup_by(|b, a| a.meta.name == b.meta.name);
        Ok(all.into_iter().map(|s| s.meta).collect())
    }

    /// Every revision of `name`, oldest first, with what a history table shows (status, dates,
    /// chart, description) but without the heavy fields: `values`, `computed_values`, `manifest`,
    /// `hooks` and `notes` are empty. Records are decoded one at a time and those fields skipped
    /// while decoding, so memory stays at one record's body however long the history.
    pub async fn history_summaries(&self, name: &str) -> Result<Vec<Release>> {
        self.decoded_history::<codec::Summary>(name).await
    }

    /// Every revision of `name`, oldest first. Empty if none. Holds every body decoded at once:
    /// prefer [`Store::history_summaries`] or [`Store::history_meta`] with [`Store::get`].
    pub async fn history(&self, name: &str) -> Result<Vec<Release>> {
        self.decoded_history::<Release>(name).await
    }

    /// Every revision of `name`, oldest first, each decoded as `T` (the whole release or its
    /// summary), one at a time, with its status derived.
    async fn decoded_history<T>(&self, name: &str) -> Result<Vec<Release>>
    where
        T: serde::de::DeserializeOwned + Into<Release>,
    {
        let stored = self.stored_history(name).await?;
        if stored.is_empty() {
            return Ok(Vec::new());
        }
        let key = self.read_key().await?;
        let mut out = Vec::with_capacity(stored.len());
        for s in &stored {
            let decoded: T = self.load_as(s, &key).await?;
            out.push(derived(s, decoded.into()));
        }
        Ok(out)
    }

    /// One revision's record as stored (status not yet derived), or [`Error::RevisionNotFound`].
    async fn stored(&self, name: &str, revision: u32) -> Result<Stored> {
        self.driver
            .get(name, revision)
            .await
            .map_err(driver_err("reading"))?
            .ok_or_else(|| Error::RevisionNotFound {
                name: name.to_string(),
                revision,
            })
    }

    /// One revision.
    pub async fn get(&self, name: &str, revision: u32) -> Result<Release> {
        let mut s = self.stored(name, revision).await?;
        if s.meta.status == Status::Deployed {
            // Superseded is derived (see the module doc): by a newer deployed record or one
            // marked as superseding, so from the history's metadata.
            let history = self.history_without_bodies(name).await?;
            if let Some(d) = history.iter().find(|d| d.meta.revision == revision) {
                s.meta.status = d.meta.status;
                s.meta.last_deployed = d.meta.last_deployed;
            }
        }
        let key = self.read_key().await?;
        self.load(&s, &key).await
    }

    /// One revision whose metadata came from [`Store::history_meta`], status already derived
    /// from the whole history: [`Store::get`] without its LIST of every deployed record (bodies
    /// included) to derive it again.
    pub async fn get_listed(&self, meta: &RecordMeta) -> Result<Release> {
        let mut s = self.stored(&meta.name, meta.revision).await?;
        s.meta.status = meta.status;
        s.meta.last_deployed = meta.last_deployed;
        let key = self.read_key().await?;
        self.load(&s, &key).await
    }

    /// The newest revision, whatever its status (Helm's `Last`).
    pub async fn last(&self, name: &str) -> Result<Option<Release>> {
        let Some(s) = self.newest(name).await? else {
            return Ok(None);
        };
        Ok(Some(self.read(&s).await?))
    }

    /// The newest record of `name` as stored, status derived, body still sealed: [`Store::last`]
    /// without decoding, so a caller can act on the metadata while [`Store::read`] runs.
    ///
    /// Reads the history's metadata, then the newest record alone: a list of whole records
    /// carries every revision's body (argo-cd: ten revisions, 1.5 MB), of which one is read.
    pub async fn newest(&self, name: &str) -> Result<Option<Stored>> {
        Ok(self.newest_with_history(name).await?.1)
    }

    /// [`Store::newest`], with the metadata of every revision (oldest first) that its first
    /// read returned: for callers that need both, one LIST less.
    pub async fn newest_with_history(&self, name: &str) -> Result<(Vec<RecordMeta>, Option<Stored>)> {
        // A record pruned between the two reads (another run's history limit) sends us back to
        // the list; should that keep happening, one list of whole records answers atomically.
        for _ in 0..2 {
            let history: Vec<RecordMeta> = self
                .history_without_bodies(name)
                .await?
                .into_iter()
                .map(|s| s.meta)
                .collect();
            let Some(meta) = history.last() else {
                return Ok((history, None));
            };
            let found = self
                .driver
                .get(name, meta.revision)
                .await
                .map_err(driver_err("reading"))?;
            if let Some(mut s) = found {
                // Status as derived from the whole history (superseded, see the module doc).
                s.meta.status = meta.status;
                s.meta.last_deployed = meta.last_deployed;
                return Ok((history, Some(s)));
            }
        }
        let stored = self.stored_history(name).await?;
        let history = stored.iter().map(|s| s.meta.clone()).collect();
        Ok((history, stored.into_iter().last()))
    }

    /// Decodes a record returned by [`Store::newest`] (reads the namespace's key).
    pub async fn read(&self, s: &Stored) -> Result<Release> {
        self.load(s, &self.read_key().await?).await
    }

    /// Rewrites `stored` (the newest record, as [`Store::newest`] read it) as `rel`, which differs
    /// only in its hooks' last runs: `test` records its results as Helm does. No lock is taken:
    /// the write is conditional on the version read, so a run that wrote the record meanwhile
    /// makes this fail with [`Error::Conflict`] rather than lose its write.
    pub async fn record_hook_runs(&self, stored: &Stored, rel: &Release) -> Result<()> {
        let key = self.write_key().await?;
        self.rewrite(stored, rel, &key).await.map(|_| ())
    }

    /// Rewrites the newest record of `name` naming `owner` as its writer, the rest unchanged;
    /// conditional on the version read ([`Error::Conflict`] when a run wrote it meanwhile).
    /// `export-helm` marks so that Helm holds the history too.
    pub async fn set_newest_owner(&self, name: &str, owner: &str) -> Result<Release> {
        let s = self
            .newest(name)
            .await?
            .ok_or_else(|| Error::NotFound(name.to_string()))?;
        let key = self.write_key().await?;
        let rel = Release {
            owner: owner.to_string(),
            ..self.load(&s, &key).await?
        };
        self.rewrite(&s, &rel, &key).await?;
        Ok(rel)
    }

    /// The newest deployed revision (Helm's `Deployed`).
    pub async fn last_deployed(&self, name: &str) -> Result<Option<Release>> {
        // The whole history, not only the records stored `deployed`: a newer record marked as
        // superseding (an uninstalled one) makes them superseded (see the module doc). Its
        // metadata only, then the one record: the bodies of every revision can be megabytes.
        let history = self.history_without_bodies(name).await?;
        let Some(d) = history.iter().rev().find(|s| s.meta.status == Status::Deployed) else {
            return Ok(None);
        };
        let s = self.stored(name, d.meta.revision).await?;
        Ok(Some(self.load(&s, &self.read_key().await?).await?))
    }

    /// Who holds the lease of `name`, live or expired.
    pub async fn lock_holder(&self, name: &str) -> Result<Option<Lease>> {
        let l = self
            .driver
            .get_lock(name)
            .await
            .map_err(driver_err("reading the lock of"))?;
        Ok(l.map(|v| v.value))
    }

    /// `--force-unlock`: delete the lease of a holder that does not renew it (watched for two
    /// of its renewal intervals); returns it. [`Error::LockRenewed`] for a live holder.
    pub async fn force_unlock(&self, name: &str) -> Result<Option<Lease>> {
        lock::force_release(&*self.driver, name)
            .await
            .map_err(|e| self.lock_error(e))
    }

    /// Where a verb begins, before it reads or computes anything: wait until the release's lock
    /// is free or its holder is seen dead (by watching, see [`crate::release::lock`]), so what
    /// the run then plans against is what the last run left. A dead holder's lease is returned
    /// and remembered, and the run's [`Store::begin`] takes it over without watching again. A
    /// live holder is [`Error::InProgress`], at once or after [`Store::with_lock_wait`].
    pub async fn await_lock(&self, name: &str) -> Result<Option<Lease>> {
        let dead = lock::await_free(&*self.driver, name, &self.run_id, self.lock_wait)
            .await
            .map_err(|e| self.lock_error(e))?;
        self.dead_seen
            .set(dead.as_ref().map(|d| (name.to_string(), d.version.clone())));
        Ok(dead.map(|d| d.value))
    }

    // ---- writes ------------------------------------------------------------------------------

    /// Open revision N+1 of `opts.name` as `pending-install|upgrade|rollback`.
    pub async fn begin(&self, opts: BeginOptions) -> Result<Pending> {
        validate_name(&opts.name).map_err(Error::InvalidName)?;
        if opts.operation == Operation::Uninstall {
            return Err(Error::InvalidName(
                "internal: uninstall goes through begin_uninstall".to_string(),
            ));
        }
        let key = self.write_key().await?;
        let held = self.acquire(&opts.name, opts.operation).await?;
        let out = self.begin_locked(opts, &key).await;
        self.release_on_error(out, held).await
    }

    async fn begin_locked(&self, opts: BeginOptions, key: &DataKey) -> Result<PendingParts> {
        let now = self.clock.now();
        let (recovered, read) = self.recover(&opts.name, key).await?;
        let history = match read {
            Some(mut h) => {
                derive_superseded(&mut h);
                h
            }
            None => self.stored_history(&opts.name).await?,
        };
        let revision = history.last().map_or(1, |s| s.meta.revision + 1);
        let first_deployed = match (opts.operation, history.first()) {
            (Operation::Install, _) | (_, None) => now,
            (_, Some(first)) => first.meta.first_deployed,
        };
        let pruned = self.prune(&opts.name, &history).await?;
        let description = if opts.description.is_empty() {
            match opts.operation {
                Operation::Install => "Initial install underway",
                Operation::Upgrade => "Preparing upgrade",
                _ => "Rollback in progress",
            }
            .to_string()
        } else {
            opts.description
        };
        let release = Release {
            name: opts.name,
            namespace: self.namespace().to_string(),
            revision,
            status: opts.operation.pending_status(),
            chart: opts.chart,
            values: opts.values,
            computed_values: opts.computed_values,
            manifest: opts.manifest,
            hooks: opts.hooks,
            notes: opts.notes,
            description,
            first_deployed,
            last_deployed: now,
            deleted: None,
            owner: self.run_id.clone(),
        };
        let stored = self.commit(None, &release, key).await?;
        Ok(PendingParts {
            older_records: !history.is_empty(),
            release,
            stored,
            recovered,
            pruned,
        })
    }

    /// Record an upgrade or rollback that changes no object and runs no hook as revision
    /// `revision`, `deployed`, in one write: the create of its final record.
    ///
    /// The lease and the pending record exist so that a run killed while it changes objects is
    /// visible and recovered, and so two runs never change objects at once. A run that changes
    /// nothing needs neither, as long as it cannot slip a revision into history around another
    /// run:
    /// * a live lease of another run means that run may be changing objects: stop, naming it
    ///   (read only; an expired lease of a dead run whose record is not pending is harmless);
    /// * a pending record needs recovery, which only a lease holder may do:
    ///   [`Unchanged::NeedsLock`] sends the caller down the locked path;
    /// * the create itself is the mutual exclusion: it fails if the revision exists, so of two
    ///   runs recording the same revision (this one, or a locked one, whose `begin` creates it
    ///   too, before it writes any object) exactly one wins; a locked run that reads the
    ///   history after this create records the next revision, and its plan still holds, since
    ///   this run changed no object;
    /// * `revision` is what the caller read and planned against; a newer record means the plan
    ///   is stale: stop;
    /// * an uninstall that took the lease after this run's check may have read the history
    ///   before the create, and would leave the new record `deployed` over deleted objects, so
    ///   the lease is read again after the create and, if an uninstall holds it, the record is
    ///   deleted again (an uninstall that read it after the create handles it like any other).
    ///
    /// A kill at any point leaves either nothing or the finished record. `--history-max`
    /// pruning then deletes the oldest revisions, as [`Store::begin`] does.
    pub async fn record_unchanged(
        &self,
        opts: BeginOptions,
        description: &str,
        revision: u32,
    ) -> Result<Unchanged> {
        validate_name(&opts.name).map_err(Error::InvalidName)?;
        if !matches!(opts.operation, Operation::Upgrade | Operation::Rollback) {
            return Ok(Unchanged::NeedsLock(opts));
        }
        let key = self.write_key().await?;
        // Metadata is all this path reads (pruning reads the one or two records it deletes).
        let history = self.history_without_bodies(&opts.name).await?;
        let Some(last) = history.last() else {
            return Ok(Unchanged::NeedsLock(opts));
        };
        if last.meta.status == Status::Uninstalled || history.iter().any(|s| s.meta.status.is_pending()) {
            return Ok(Unchanged::NeedsLock(opts));
        }
        if last.meta.revision + 1 != revision {
            return Err(Error::Raced {
                name: opts.name,
                revision: last.meta.revision,
                holder: last.meta.owner.clone(),
            });
        }
        let now = self.clock.now();
        // Whether its holder is alive takes watching, which the locked path does.
        if self.lease_of_another(&opts.name).await?.is_some() {
            return Ok(Unchanged::NeedsLock(opts));
        }
        let first_deployed = history.first().map_or(now, |s| s.meta.first_deployed);
        let rel = Release {
            name: opts.name,
            namespace: self.namespace().to_string(),
            revision,
            status: Status::Deployed,
            chart: opts.chart,
            values: opts.values,
            computed_values: opts.computed_values,
            manifest: opts.manifest,
            hooks: opts.hooks,
            notes: opts.notes,
            description: description.to_string(),
            first_deployed,
            last_deployed: now,
            deleted: None,
            owner: self.run_id.clone(),
        };
        let stored = match self.commit(None, &rel, &key).await {
            Ok(s) => s,
            Err(Error::RevisionExists { name, revision }) => {
                if let Some(lease) = self.lease_of_another(&name).await? {
                    return Err(self.lock_error(LockError::Busy(lease)));
                }
                let holder = match self.driver.get(&name, revision).await {
                    Ok(Some(s)) => s.meta.owner,
                    _ => "unknown".to_string(),
                };
                return Err(Error::Raced {
                    name,
                    revision,
                    holder,
                });
            }
            Err(e) => return Err(e),
        };
        if let Some(lease) = self.lease_of_another(&rel.name).await? {
            if lease.operation == Operation::Uninstall {
                self.delete_record(&stored).await?;
                return Err(self.lock_error(LockError::Busy(lease)));
            }
        }
        self.prune(&rel.name, &history).await?;
        Ok(Unchanged::Recorded(rel))
    }

    /// The lease of `name` if another run holds it, alive or not: telling which takes
    /// watching, and the lockless path never waits.
    async fn lease_of_another(&self, name: &str) -> Result<Option<Lease>> {
        Ok(self.lock_holder(name).await?.filter(|l| l.holder != self.run_id))
    }

    /// Delete a record this run wrote, and its parts.
    async fn delete_record(&self, s: &Stored) -> Result<()> {
        let (name, r) = (&s.meta.name, s.meta.revision);
        match self.driver.delete(name, r).await {
            Ok(()) | Err(DriverError::NotFound(_)) => {}
            Err(e) => return Err(driver_err("deleting")(e)),
        }
        if let Ok(Some((m, _))) = parts::parse_head(&s.body) {
            self.delete_parts(name, r, m.part_indices().collect()).await;
        }
        Ok(())
    }

    /// Extend this run's lease; [`Error::LockLost`] means stop now.
    pub async fn renew(&self, p: &Pending) -> Result<()> {
        let mut held = p.held();
        lock::renew(&*self.driver, &mut held, self.clock.now())
            .await
            .map_err(|e| self.lock_error(e))?;
        *p.held.lock().unwrap_or_else(|e| e.into_inner()) = held;
        Ok(())
    }

    /// The revision worked: it becomes `deployed`, every other deployed revision `superseded`.
    pub async fn mark_deployed(&self, p: Pending, description: &str) -> Result<Release> {
        let out = self.mark_deployed_locked(&p, description).await;
        self.finish(out, p.held()).await
    }

    async fn mark_deployed_locked(&self, p: &Pending, description: &str) -> Result<Release> {
        // Fencing: a run whose lease was taken over must not mark anything deployed.
        self.renew(p).await?;
        let key = self.write_key().await?;
        let now = self.clock.now();
        let rel = Release {
            status: Status::Deployed,
            description: description.to_string(),
            last_deployed: now,
            ..p.release.clone()
        };
        // The older deployed revision is not rewritten: it reads as superseded from now on
        // (see the module doc), dated `now`, as the patch that used to mark it was.
        self.rewrite(&p.stored, &rel, &key).await?;
        Ok(rel)
    }

    /// The revision failed: it becomes `failed` with `description` (the error).
    pub async fn mark_failed(&self, p: Pending, description: &str) -> Result<Release> {
        let held = p.held();
        let out = async {
            let key = self.write_key().await?;
            if p.stored.meta.supersedes {
                // `failed` supersedes nothing: what the uninstalling record superseded is
                // written so first (see the module doc).
                let history = self.stored_history_raw(&p.release.name).await?;
                self.settle_superseded(&history, &key).await?;
            }
            let rel = Release {
                status: Status::Failed,
                description: description.to_string(),
                last_deployed: self.clock.now(),
                ..p.release.clone()
            };
            self.rewrite(&p.stored, &rel, &key).await?;
            Ok(rel)
        }
        .await;
        self.finish(out, held).await
    }

    /// Start uninstalling: the newest revision becomes `uninstalling`. Older revisions are not
    /// rewritten: a newest revision that was `deployed` keeps superseding them
    /// ([`RecordMeta::supersedes`], set by the write), so history reads the same after a kill
    /// at any point.
    pub async fn begin_uninstall(&self, name: &str) -> Result<Pending> {
        self.begin_uninstall_unless(name, |_| false)
            .await?
            .ok_or_else(|| Error::NotFound(name.to_string()))
    }

    /// [`Store::begin_uninstall`], unless `first` says, of the history as read under the lock
    /// (metadata, oldest first, empty when there is none), that something must come first (a
    /// take-over from Helm): then the lock is given back and `None` returned, nothing written
    /// but the recovery of records dead runs left pending. One history read serves both.
    pub async fn begin_uninstall_unless(
        &self,
        name: &str,
        first: impl FnOnce(&[RecordMeta]) -> bool,
    ) -> Result<Option<Pending>> {
        validate_name(name).map_err(Error::InvalidName)?;
        let key = self.write_key().await?;
        let held = self.acquire(name, Operation::Uninstall).await?;
        let out = async {
            let (recovered, read) = self.recover(name, &key).await?;
            let mut history = match read {
                Some(h) => h,
                None => self.stored_history_raw(name).await?,
            };
            let metas: Vec<RecordMeta> = history.iter().map(|s| s.meta.clone()).collect();
            if first(&metas) {
                return Ok(None);
            }
            // The newest record is never superseded (none is newer): its status as stored,
            // which decides whether the `uninstalling` record supersedes (see `commit`).
            let last = history.pop().ok_or_else(|| Error::NotFound(name.to_string()))?;
            if last.meta.status == Status::Uninstalled {
                return Err(Error::AlreadyUninstalled(name.to_string()));
            }
            let rel = Release {
                status: Status::Uninstalling,
                // Helm's text (pkg/action/uninstall.go)
                description: "Deletion in progress (or silently failed)".to_string(),
                owner: self.run_id.clone(),
                ..self.load(&last, &key).await?
            };
            let stored = self.rewrite(&last, &rel, &key).await?;
            Ok(Some(PendingParts {
                release: rel,
                stored,
                recovered,
                pruned: Vec::new(),
                older_records: !history.is_empty(),
            }))
        }
        .await;
        let out = match out {
            Ok(Some(parts)) => Ok(parts),
            Ok(None) => {
                // Nothing of the uninstall written: the lock goes back, as after an error.
                let _ = lock::release(&*self.driver, held).await;
                return Ok(None);
            }
            Err(e) => Err(e),
        };
        if let Err(Error::NotFound(_)) = out {
            // An uninstall killed while the server deleted the release's objects can leave
            // parts behind (and, killed after, the key): the rerun, finding no record, finishes
            // that work. Still under the lock, which goes with the rest.
            if let Err(e) = self.driver.delete_release(name).await {
                tracing::warn!("could not delete what is left of release {name:?}: {e}");
            }
        }
        let out = self.release_on_error(out, held).await;
        if let Err(Error::NotFound(_)) = out {
            self.cleanup_key(name, None).await;
        }
        out.map(Some)
    }

    /// Finish uninstalling: with `keep_history` the revision becomes `uninstalled` (returned),
    /// otherwise every revision is deleted.
    pub async fn finish_uninstall(&self, p: Pending, keep_history: bool) -> Result<Option<Release>> {
        if keep_history {
            let out = async {
                self.renew(&p).await?;
                let key = self.write_key().await?;
                let now = self.clock.now();
                let rel = Release {
                    status: Status::Uninstalled,
                    description: "Uninstallation complete".to_string(),
                    deleted: Some(now),
                    ..p.release.clone()
                };
                self.rewrite(&p.stored, &rel, &key).await?;
                Ok(Some(rel))
            }
            .await;
            return self.finish(out, p.held()).await;
        }
        let since = p.stored.version.as_deref();
        let name = p.release.name.as_str();
        // Whether other releases have records decides, before anything goes, whether the key
        // goes too, and so when the lock does: with the key, the lock goes last (see
        // `retire_key_then_lock`); without, it goes with the older records. The look may read
        // a state as old as the `uninstalling` write, and ignores this release's own records:
        // whatever it misses was written after that write, and the look after the key's
        // delete is what guards those. A release whose newest record has parts, or storage
        // without versions, keeps the order of before: records, lock, then the key.
        let no_parts = matches!(parts::parse_head(&p.stored.body), Ok(None));
        let key_plan = match since {
            Some(v) if no_parts => match self.driver.others_have_records(name, Some(v)).await {
                Ok(false) => KeyPlan::RetireBeforeLock(v),
                Ok(true) => KeyPlan::Keep,
                Err(e) => {
                    tracing::warn!("could not delete the namespace's data key: {e}");
                    KeyPlan::Keep
                }
            },
            _ => KeyPlan::Cleanup,
        };
        let lock_last = matches!(key_plan, KeyPlan::RetireBeforeLock(_));
        let out = self.delete_release(&p, lock_last).await;
        if out.is_err() {
            // The lock may still be ours: give it back (its expiry would repair that too).
            let _ = lock::release(&*self.driver, p.held()).await;
        }
        out?;
        match key_plan {
            KeyPlan::RetireBeforeLock(v) => self.retire_key_then_lock(&p, v).await?,
            KeyPlan::Cleanup => self.cleanup_key(name, since).await,
            KeyPlan::Keep => {}
        }
        Ok(None)
    }

    /// The end of the last uninstall in a namespace, once every record of `p`'s release is
    /// gone and no other release had records as of `since` (the `uninstalling` write): the
    /// data key goes, then the lock (at the version this run holds), then storage's log of
    /// writes from `since` up to the lock's delete says whether a record appeared meanwhile,
    /// and if one did the key is put back.
    ///
    /// Why the lock goes last: the look after the key's delete must see every record created
    /// before that delete (a writer whose record came after it finds the key gone when it
    /// checks, and puts it back itself). A list without a version waits for the API server's
    /// cache of ConfigMaps to catch up with the newest write of any kind (up to ~100 ms), and
    /// a list "not older than" the key's delete waits as long: that cache learns of a Secret's
    /// revision only from etcd's progress notifications. The lock's delete is a ConfigMap
    /// write after the key's, which the watch of ConfigMaps carries at once: every record
    /// written before it is in the log before it. The delete is conditional on the version
    /// this run holds, so the delete the log shows is this one (a lock deleted or replaced by
    /// anyone else fails it, and the look is a list instead).
    ///
    /// A kill before the lock's delete leaves the lock (and, before the key's, the key): the
    /// rerun takes the lock over after one lease, finds no record, and deletes both.
    async fn retire_key_then_lock(&self, p: &Pending, since: &str) -> Result<()> {
        let name = p.release.name.as_str();
        let key = self
            .driver
            .data_key(false)
            .await
            .map_err(driver_err("reading the data key of"))?;
        let key_gone = match &key {
            Some(_) => match self.driver.delete_data_key().await {
                Ok(()) => true,
                Err(e) => {
                    tracing::warn!("could not delete the namespace's data key: {e}");
                    false
                }
            },
            None => false,
        };
        let held = p.held();
        let unlocked = self.driver.delete_lock(name, Some(&held.version)).await;
        let deleted_it = unlocked.is_ok();
        // Gone already, or changed by a run that took it over: not this run's to report, as
        // `lock::release` says.
        let unlocked = match unlocked {
            Err(DriverError::NotFound(_) | DriverError::Conflict(_)) => Ok(()),
            other => other,
        };
        let (Some(key), true) = (key, key_gone) else {
            return unlocked.map_err(driver_err("deleting"));
        };
        let seen = match deleted_it {
            true => self.driver.records_after_lock_gone(name, since).await,
            false => Ok(None),
        };
        let records = match seen {
            Ok(Some(found)) => Ok(found),
            // The log could not say: the newest state, as a list without a version reads it.
            Ok(None) | Err(_) => self.driver.query_meta(None, None).await.map(|v| !v.is_empty()),
        };
        match records {
            Ok(false) => tracing::debug!("deleted the data key: no release is left in the namespace"),
            Ok(true) | Err(_) => {
                // A record appeared (or nothing could say none did): it needs the key.
                if let Err(e) = self.driver.restore_data_key(&key).await {
                    tracing::warn!("could not restore the namespace's data key: {e}");
                }
            }
        }
        unlocked.map_err(driver_err("deleting"))
    }

    /// Deletes every record of `p`'s release, their parts and the lock (unless `keep_lock`: the
    /// caller deletes it later), in two requests at most:
    /// the older records first, then the rest with the newest record. Until the newest goes it
    /// supersedes whatever older ones a kill left ([`RecordMeta::supersedes`]), so history never
    /// reads one of them deployed; whatever a kill leaves of the second, the rerun deletes
    /// (records and lock through the usual takeover, parts when it finds no record).
    async fn delete_release(&self, p: &Pending, keep_lock: bool) -> Result<()> {
        // Fencing: a run whose lease was taken over must not delete anything. A lease written
        // less than a renewal interval ago cannot have been (see `Held::fresh`); an older one
        // is renewed first. Either way nobody else can hold the lock while the deletes land, so
        // the lock goes with the records, unconditionally.
        if !p.held().fresh() {
            self.renew(p).await?;
        }
        let (name, newest) = (&p.release.name, p.release.revision);
        if matches!(parts::parse_head(&p.stored.body), Ok(None)) {
            // The newest record has no parts (as nearly always): everything else goes in one
            // request, then the record by name. A list by label, which a collection delete
            // is, waits for the API server's cache to catch up with the writes of the
            // controllers busy with the deleted objects (up to ~100 ms); a delete by name
            // does not. Once the lock is gone another run may take the release (it finds the
            // `uninstalling` record), as it may while the one request below deletes both.
            // (Its list cannot be read from the cache by version, as other lists here are:
            // kube-apiserver 1.32 takes a collection delete's `resourceVersion` as every
            // item's delete precondition too, and answers 409 for the lock.)
            self.driver
                .delete_all_but(name, newest, keep_lock)
                .await
                .map_err(driver_err("deleting"))?;
            return gone(self.driver.delete(name, newest).await).map_err(driver_err("deleting"));
        }
        if p.older_records {
            self.driver
                .delete_older(name, newest)
                .await
                .map_err(driver_err("deleting"))?;
        }
        self.driver
            .delete_release(name)
            .await
            .map_err(driver_err("deleting"))
    }

    // ---- helpers -----------------------------------------------------------------------------

    /// The records of `name`, oldest first, statuses as read ([`derive_superseded`]).
    async fn stored_history(&self, name: &str) -> Result<Vec<Stored>> {
        let mut h = self.stored_history_raw(name).await?;
        derive_superseded(&mut h);
        Ok(h)
    }

    /// [`Store::stored_history`] without the bodies (each `body` empty).
    async fn history_without_bodies(&self, name: &str) -> Result<Vec<Stored>> {
        let found = self.driver.query_meta(Some(name), None).await;
        let mut h = oldest_first(found)?;
        derive_superseded(&mut h);
        Ok(h)
    }

    /// The records of `name`, oldest first, statuses as stored.
    async fn stored_history_raw(&self, name: &str) -> Result<Vec<Stored>> {
        oldest_first(self.driver.query(Some(name), None).await)
    }

    async fn read_key(&self) -> Result<DataKey> {
        self.driver
            .data_key(false)
            .await
            .map_err(driver_err("reading the data key of"))?
            .ok_or_else(|| Error::KeyMissing(self.namespace().to_string()))
    }

    async fn write_key(&self) -> Result<DataKey> {
        self.driver
            .data_key(true)
            .await
            .map_err(driver_err("creating the data key of"))?
            .ok_or_else(|| Error::KeyMissing(self.namespace().to_string()))
    }

    fn binding(&self, name: &str, revision: u32) -> String {
        codec::binding(self.namespace(), &record_key(name, revision))
    }

    fn encode(&self, rel: &Release, key: &DataKey) -> Result<String> {
        let object = rel.key();
        codec::encode(rel, key, &self.binding(&rel.name, rel.revision))
            .map_err(|cause| Error::Codec { object, cause })
    }

    /// Replace `old` with `rel`, conditional on `old`'s version.
    async fn rewrite(&self, old: &Stored, rel: &Release, key: &DataKey) -> Result<Stored> {
        self.commit(Some(old), rel, key).await
    }

    /// Write `rel`: create it (`old` = `None`) or replace `old` at its version. A body too big
    /// for one object has its parts written first; the create or update is the commit point.
    async fn commit(&self, old: Option<&Stored>, rel: &Release, key: &DataKey) -> Result<Stored> {
        let body = self.encode(rel, key)?;
        let (body, written, stale) = self.write_parts(rel, body).await?;
        let mut meta = rel.meta();
        // An uninstall's record supersedes what the deployed revision it replaces superseded,
        // and goes on doing so once uninstalled (see the module doc).
        meta.supersedes = matches!(rel.status, Status::Uninstalling | Status::Uninstalled)
            && old.is_some_and(|o| o.meta.status == Status::Deployed || o.meta.supersedes);
        let rec = Stored {
            meta,
            body,
            version: old.and_then(|o| o.version.clone()),
        };
        let out = match old {
            None => self.driver.create(&rec).await.map_err(|e| match e {
                DriverError::AlreadyExists(_) => Error::RevisionExists {
                    name: rel.name.clone(),
                    revision: rel.revision,
                },
                e => driver_err("writing")(e),
            }),
            Some(_) => self.driver.update(&rec).await.map_err(|e| match e {
                DriverError::Conflict(_) | DriverError::NotFound(_) => Error::Conflict(rel.key()),
                e => driver_err("writing")(e),
            }),
        };
        let mut drop_parts = match &out {
            Ok(_) => stale,
            Err(_) => written,
        };
        if out.is_ok() {
            if let Some(Ok(Some((m, _)))) = old.map(|o| parts::parse_head(&o.body)) {
                drop_parts.extend(m.part_indices());
            }
        }
        drop_parts.sort_unstable();
        drop_parts.dedup();
        self.delete_parts(&rel.name, rel.revision, drop_parts).await;
        match (old, out) {
            (None, Ok(created)) => self.check_key(created, rel, key).await,
            (_, out) => out,
        }
    }

    /// After a create: the key the record was encrypted with must still be the namespace's.
    /// The last uninstall in a namespace deletes the key when it finds no records; a record
    /// created just after its look is either seen by its second look (which puts the same key
    /// back) or checked here, and re-encrypted under whatever key exists now. Once a record
    /// exists, no uninstall deletes the key, so checking creates is enough.
    async fn check_key(&self, created: Stored, rel: &Release, used: &DataKey) -> Result<Stored> {
        let now = match self.driver.fresh_data_key().await {
            Ok(Some(k)) => k,
            // Deleted by an uninstall that did not see this record: put back the key the
            // record needs (if another appeared meanwhile, that one wins and is used below).
            Ok(None) => {
                self.driver
                    .restore_data_key(used)
                    .await
                    .map_err(driver_err("restoring the data key of"))?;
                self.read_key().await?
            }
            Err(e) => return Err(driver_err("reading the data key of")(e)),
        };
        if now == *used {
            return Ok(created);
        }
        Box::pin(self.rewrite(&created, rel, &now)).await
    }

    /// After the last release of the namespace is gone (records of `name` deleted, lock given
    /// back): delete the data key, so an uninstall leaves nothing behind, as Helm's does. Never
    /// while another release has records (they need it); records that appear while it deletes
    /// (a run writing at that moment) get the same key back at once. The first look may read
    /// a state as old as `since`, this run's last record write (served from the API server's
    /// cache, not after waiting for it): whatever it misses was written concurrently, and the
    /// second look, at the newest state after the delete, is what guards those.
    async fn retire_key_if_unused(&self, name: &str, since: Option<&str>) -> Result<bool> {
        let records = |found: std::result::Result<Vec<Stored>, DriverError>| {
            found.map(|v| !v.is_empty()).map_err(driver_err("reading"))
        };
        let others = self.driver.others_have_records(name, since).await;
        if others.map_err(driver_err("reading"))? {
            return Ok(false);
        }
        let Some(key) = self
            .driver
            .data_key(false)
            .await
            .map_err(driver_err("reading the data key of"))?
        else {
            return Ok(false);
        };
        self.driver
            .delete_data_key()
            .await
            .map_err(driver_err("deleting the data key of"))?;
        if records(self.driver.query_meta(None, None).await)? {
            self.driver
                .restore_data_key(&key)
                .await
                .map_err(driver_err("restoring the data key of"))?;
            return Ok(false);
        }
        Ok(true)
    }

    /// [`Store::retire_key_if_unused`] after an uninstall that succeeded: a failure only leaves
    /// the key behind, so it is reported, not raised.
    async fn cleanup_key(&self, name: &str, since: Option<&str>) {
        match self.retire_key_if_unused(name, since).await {
            Ok(true) => tracing::debug!("deleted the data key: no release is left in the namespace"),
            Ok(false) => {}
            Err(e) => tracing::warn!("could not delete the namespace's data key: {e}"),
        }
    }

    /// For a body over [`MAX_BODY_BYTES`]: create its parts under indices above every part of
    /// the revision that exists now, and return the record's body (manifest and first slice),
    /// the parts written, and the parts that existed (stale once the record is committed).
    async fn write_parts(&self, rel: &Release, body: String) -> Result<(String, Vec<u32>, Vec<u32>)> {
        if body.len() <= MAX_BODY_BYTES {
            return Ok((body, Vec::new(), Vec::new()));
        }
        let (name, revision) = (rel.name.as_str(), rel.revision);
        let slices = parts::split(&body, SLICE_BYTES);
        if slices.len() > MAX_SLICES {
            return Err(Error::TooLarge {
                object: rel.key(),
                bytes: body.len(),
            });
        }
        let stale: Vec<u32> = self
            .driver
            .list_parts(name, Some(revision))
            .await
            .map_err(driver_err("reading"))?
            .into_iter()
            .map(|(_, k)| k)
            .collect();
        let m = Manifest {
            slices: slices.len() as u32,
            first: stale.iter().max().map_or(1, |k| k + 1),
            sha256: parts::sha256_hex(&body),
        };
        let mut written = Vec::new();
        for (k, text) in m.part_indices().zip(&slices[1..]) {
            if let Err(e) = self.driver.create_part(name, revision, k, text).await {
                self.delete_parts(name, revision, written).await;
                return Err(match e {
                    // Another writer picked the same fresh index: it is writing this revision.
                    DriverError::AlreadyExists(_) => Error::Conflict(rel.key()),
                    e => driver_err("writing")(e),
                });
            }
            written.push(k);
        }
        Ok((parts::head_body(&m, slices[0]), written, stale))
    }

    /// Best-effort removal of parts nothing refers to: one left behind is inert, and is removed
    /// with the release at the latest.
    async fn delete_parts(&self, name: &str, revision: u32, indices: Vec<u32>) {
        for k in indices {
            match self.driver.delete_part(name, revision, k).await {
                Ok(()) | Err(DriverError::NotFound(_)) => {}
                Err(e) => tracing::warn!("could not delete {}: {e}", part_key(name, revision, k)),
            }
        }
    }

    /// A record's whole encoded body: itself, or its slices put back together and checked.
    async fn full_body(&self, s: &Stored) -> Result<String> {
        let (name, revision) = (&s.meta.name, s.meta.revision);
        let damaged = |reason: String| Error::Damaged {
            object: record_key(name, revision),
            reason,
        };
        let (m, first) = match parts::parse_head(&s.body) {
            Ok(None) => return Ok(s.body.clone()),
            Ok(Some(head)) => head,
            Err(reason) => return Err(damaged(reason)),
        };
        let mut body = String::with_capacity(first.len() * m.slices as usize);
        body.push_str(first);
        for k in m.part_indices() {
            match self
                .driver
                .get_part(name, revision, k)
                .await
                .map_err(driver_err("reading"))?
            {
                Some(text) => body.push_str(&text),
                None => {
                    return Err(damaged(format!(
                        "its part {} is missing ({} of {} slices)",
                        part_key(name, revision, k),
                        k - m.first + 2,
                        m.slices
                    )))
                }
            }
        }
        let got = parts::sha256_hex(&body);
        if got != m.sha256 {
            return Err(damaged(format!(
                "its {} slices put together have sha256 {got}, but the record says {}; a part \
                 was modified or replaced",
                m.slices, m.sha256
            )));
        }
        Ok(body)
    }

    /// Read and decrypt one record, reassembling it first if it was split; its status as read.
    async fn load(&self, s: &Stored, key: &DataKey) -> Result<Release> {
        Ok(derived(s, self.load_as(s, key).await?))
    }

    /// Read and decrypt one record into `T` (the whole [`Release`], or a [`codec::Summary`] that
    /// skips the heavy fields while decoding).
    async fn load_as<T: serde::de::DeserializeOwned>(&self, s: &Stored, key: &DataKey) -> Result<T> {
        let body = self.full_body(s).await?;
        let b = self.binding(&s.meta.name, s.meta.revision);
        let decoded = match codec::decode_as(&body, key, &b) {
            // The key this process cached can be stale: the last uninstall in the namespace
            // deleted the Secret and another run created a new one for the records it wrote
            // since. The record names the key it was sealed with: read the namespace's key again,
            // once, before calling it an error (a key replaced by hand stays one).
            Err(codec::CodecError::WrongKey { .. }) => match self
                .driver
                .fresh_data_key()
                .await
                .map_err(driver_err("reading the data key of"))?
            {
                Some(fresh) if fresh != *key => codec::decode_as(&body, &fresh, &b),
                _ => codec::decode_as(&body, key, &b),
            },
            other => other,
        };
        decoded.map_err(|cause| Error::Codec {
            object: record_key(&s.meta.name, s.meta.revision),
            cause,
        })
    }

    async fn acquire(&self, name: &str, op: Operation) -> Result<Held> {
        let claim = Claim {
            holder: self.run_id.clone(),
            host: self.host.get_or_init(lock::host_name).clone(),
            operation: op,
            ttl_secs: self.lock_ttl_secs,
            now: self.clock.now(),
        };
        let dead = self.dead_seen.take(name);
        let held = lock::acquire(&*self.driver, name, &claim, self.lock_wait, dead.as_deref())
            .await
            .map_err(|e| self.lock_error(e))?;
        if let Some(dead) = &held.took_over {
            tracing::warn!(
                "took over the lock of release {name:?} from a run that stopped renewing it ({})",
                dead.describe()
            );
        }
        Ok(held)
    }

    fn lock_error(&self, e: LockError) -> Error {
        match e {
            LockError::Busy(lease) => Error::InProgress { lease },
            LockError::Driver(cause) => Error::Driver { op: "locking", cause },
            renewed @ LockError::Renewed(_) => Error::LockRenewed(renewed),
            lost @ LockError::Lost { .. } => Error::LockLost(lost),
        }
    }

    /// The recovery rule of [`crate::release::lock`]: holding the lease, any pending record
    /// belongs to a dead run. Returns the revisions recovered and, when there were none, the
    /// history it read (statuses as stored), so the caller need not read it again: the lease
    /// holder is the only run that rewrites records (a lockless run only adds one, and the
    /// create of the caller's revision fails if it did).
    async fn recover(&self, name: &str, key: &DataKey) -> Result<(Vec<u32>, Option<Vec<Stored>>)> {
        let history = self.stored_history_raw(name).await?;
        if !history.iter().any(|s| s.meta.status.is_pending()) {
            return Ok((Vec::new(), Some(history)));
        }
        // A dead uninstall's record stops superseding once marked failed (see the module doc).
        self.settle_superseded(&history, key).await?;
        let mut recovered = Vec::new();
        for s in history {
            if !s.meta.status.is_pending() {
                continue;
            }
            let old = self.load(&s, key).await?;
            let rel = Release {
                status: Status::Failed,
                description: format!(
                    "interrupted: run {} stopped during {} before finishing; a later run took over its lock",
                    old.owner, old.status
                ),
                last_deployed: self.clock.now(),
                ..old
            };
            self.rewrite(&s, &rel, key).await?;
            tracing::warn!(
                "revision {} of release {name:?} was interrupted during {} (run {}): marked failed; \
                 this run plans against what is live now, so objects it already wrote are not \
                 written again",
                s.meta.revision,
                old_status_word(s.meta.status),
                rel.owner
            );
            recovered.push(s.meta.revision);
        }
        Ok((recovered, None))
    }

    /// Before the records of `history` (statuses as stored, oldest first) marked as superseding
    /// are rewritten as `failed`, which supersedes nothing: every record stored `deployed` that
    /// reads superseded is written so, dated as it reads, so history reads the same afterwards.
    /// Oldest first: a kill part-way leaves each older record written with its date while the
    /// newer ones still supersede as before. Writes nothing when no record is marked.
    async fn settle_superseded(&self, history: &[Stored], key: &DataKey) -> Result<()> {
        if !history.iter().any(|s| s.meta.supersedes) {
            return Ok(());
        }
        let mut read = history.to_vec();
        let changed = derive_superseded(&mut read);
        for s in read.iter().filter(|s| changed.contains(&s.meta.revision)) {
            let rel = self.load(s, key).await?;
            self.rewrite(s, &rel, key).await?;
        }
        Ok(())
    }

    /// Helm's `removeLeastRecent(name, max-1)`: delete the oldest revisions until, with the one
    /// about to be created, at most `history_max` remain, never the newest deployed one.
    async fn prune(&self, name: &str, history: &[Stored]) -> Result<Vec<u32>> {
        if self.history_max == 0 || history.len() < self.history_max {
            return Ok(Vec::new());
        }
        let keep = history
            .iter()
            .filter(|s| s.meta.status == Status::Deployed)
            .map(|s| s.meta.revision)
            .max();
        let excess = history.len() + 1 - self.history_max;
        let victims: Vec<u32> = history
            .iter()
            .map(|s| s.meta.revision)
            .filter(|r| Some(*r) != keep)
            .take(excess)
            .collect();
        for s in history.iter().filter(|s| victims.contains(&s.meta.revision)) {
            let r = s.meta.revision;
            // A history read without bodies: the victim's own says whether it has parts.
            let body = if s.body.is_empty() {
                match self.driver.get(name, r).await {
                    Ok(Some(full)) => std::borrow::Cow::Owned(full.body),
                    Ok(None) => continue,
                    Err(e) => return Err(driver_err("pruning")(e)),
                }
            } else {
                std::borrow::Cow::Borrowed(&s.body)
            };
            match self.driver.delete(name, r).await {
                Ok(()) | Err(DriverError::NotFound(_)) => {}
                Err(e) => return Err(driver_err("pruning")(e)),
            }
            // The record first, its parts after: a reader never finds a record without parts.
            if let Ok(Some((m, _))) = parts::parse_head(&body) {
                self.delete_parts(name, r, m.part_indices().collect()).await;
            }
        }
        Ok(victims)
    }

    async fn release_on_error(&self, out: Result<PendingParts>, held: Held) -> Result<Pending> {
        match out {
            Ok(parts) => Ok(parts.into_pending(held)),
            Err(e) => {
                // The error that stopped us matters more than a failure to unlock, which the
                // lease's expiry repairs anyway.
                let _ = lock::release(&*self.driver, held).await;
                Err(e)
            }
        }
    }

    async fn finish<T>(&self, out: Result<T>, held: Held) -> Result<T> {
        let unlocked = lock::release(&*self.driver, held).await;
        let v = out?;
        unlocked.map_err(|e| self.lock_error(e))?;
        Ok(v)
    }
}

/// The operation a pending status stands for, for messages.
fn old_status_word(status: Status) -> &'static str {
    match status {
        Status::PendingInstall => "install",
        Status::PendingUpgrade => "upgrade",
        Status::PendingRollback => "rollback",
        Status::Uninstalling => "uninstall",
        _ => status.as_str(),
    }
}

/// A driver's answer to a query of one release, sorted by revision.
fn oldest_first(found: std::result::Result<Vec<Stored>, DriverError>) -> Result<Vec<Stored>> {
    let mut h = found.map_err(driver_err("reading"))?;
    h.sort_by_key(|s| s.meta.revision);
    Ok(h)
}

/// Derives `superseded` (see the module doc) in `history`, sorted oldest first: every record
/// stored `deployed` below a newer record stored `deployed` or marked as superseding
/// ([`RecordMeta::supersedes`]) reads `superseded`, dated when the nearest such newer record
/// was deployed. Returns the revisions it changed.
fn derive_superseded(history: &mut [Stored]) -> Vec<u32> {
    let mut changed = Vec::new();
    // When the nearest newer superseding record was deployed.
    let mut next_deployed = None;
    for s in history.iter_mut().rev() {
        if s.meta.supersedes {
            next_deployed = Some(s.meta.last_deployed);
            continue;
        }
        if s.meta.status != Status::Deployed {
            continue;
        }
        let own = s.meta.last_deployed;
        if let Some(at) = next_deployed {
            s.meta.status = Status::Superseded;
            s.meta.last_deployed = at;
            changed.push(s.meta.revision);
        }
        next_deployed = Some(own);
    }
    changed
}

/// A decoded body with the status its record reads as: a body still says `deployed` where
/// [`derive_superseded`] made its metadata `superseded`.
fn derived(s: &Stored, mut rel: Release) -> Release {
    if s.meta.status == Status::Superseded && rel.status == Status::Deployed {
        rel.status = Status::Superseded;
        rel.last_deployed = s.meta.last_deployed;
    }
    rel
}

struct PendingParts {
    release: Release,
    stored: Stored,
    recovered: Vec<u32>,
    pruned: Vec<u32>,
    older_records: bool,
}

impl PendingParts {
    fn into_pending(self, held: Held) -> Pending {
        Pending {
            release: self.release,
            stored: self.stored,
            held: Mutex::new(held),
            recovered: self.recovered,
            pruned: self.pruned,
            older_records: self.older_records,
        }
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod parts_tests;

#[cfg(test)]
mod unchanged_tests;

mod import;
