//! The per-release lock that keeps two runs apart and lets a dead run's work be recovered.
//!
//! Helm's only lock is the record itself: while the last revision is `pending-*`, every other
//! upgrade stops with "another operation (install/upgrade/rollback) is in progress". A run killed
//! with SIGKILL (OOM-killed CI runner, lost node) never clears it, and the release stays stuck
//! until someone rolls back or deletes the record by hand (helm/helm#4558 and its many
//! duplicates). We keep the protection and drop the trap with a **lease**:
//!
//! * Every run that writes to a release first holds its lease, a ConfigMap
//!   `kubectl-chart.<release>.lock` naming the holder's run id, host, operation and start, and
//!   its lease duration `ttl_secs` (default [`DEFAULT_TTL_SECS`]). Taking it is a create (only
//!   one run can win) or, for a dead holder's lease, an update conditioned on the version seen
//!   (only one run can take it over).
//! * A live run renews the lease every [`Held::renew_every_secs`] (a quarter of the duration):
//!   each renewal is a write, so the object's `resourceVersion` moves on.
//! * **Liveness is observed, never computed from timestamps** (as client-go's leader election
//!   does): a run that finds the lease held watches it for the holder's lease duration, timed by
//!   its own monotonic clock. A write in that window means the holder is alive: the run stops
//!   at once naming it ([`LockError::Busy`]), or with a wait ([`acquire`]'s `wait`) keeps
//!   watching until it is released. No write means the holder is gone, and the run takes the
//!   lease over. The `renewed_at` a holder writes is its own clock's reading and only informs
//!   people: two machines whose clocks disagree by minutes decide exactly as two that agree.
//! * If a renewal finds the lease taken over, the run has lost the release and must stop; its
//!   later record writes are conditional too, so even a run that does not notice cannot
//!   overwrite what the new holder wrote.
//! * **The recovery rule:** a run that holds the lease knows no other run is live on the
//!   release. So any record it finds in `pending-*` or `uninstalling` was left by a run that
//!   died and is marked `failed` with the description "interrupted: ...". A record with no lock
//!   at all (the lock object deleted by hand, or written by another tool) is treated the same
//!   way. After a `kill -9` the next plain run thus proceeds one lease duration later.
//! * `--force-unlock` ([`force_release`]) deletes the lease without the full wait, but only
//!   after watching two renewal intervals without a write: it refuses to break a lease that is
//!   visibly being renewed.
//!
//! The lease is not a secret and is stored as plain JSON.

use std::time::Duration;

use rand::{rngs::OsRng, RngCore};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::{
    driver::{Driver, DriverError, Observed, Versioned},
    record::{Operation, Timestamp, OWNER},
};

/// Default lease duration in seconds: a run killed with SIGKILL blocks the next one for this
/// long. The holder renews four times in it, so a renewal may be slow or lost once or twice
/// before observers decide it is gone.
pub const DEFAULT_TTL_SECS: i64 = 10;

/// The longest an observer watches one lease, whatever duration the lease asks for: a lease
/// written with a huge duration (by mistake, or an old version's) must not block forever.
const MAX_WATCH_SECS: i64 = 120;

/// How many times [`acquire`] re-reads the lock after losing a create or update race before
/// reporting the lock busy.
const ACQUIRE_ATTEMPTS: usize = 3;

/// The lock object's name: `kubectl-chart.<release>.lock`. It cannot clash with a record, whose
/// names end in `.v<digits>`.
pub fn lock_key(name: &str) -> String {
    format!("{OWNER}.{name}.lock")
}

/// A fresh run id: the process id and 64 random bits, unique enough to tell runs apart and
/// short enough to print.
pub fn new_run_id() -> String {
    format!("{}-{:016x}", std::process::id(), OsRng.next_u64())
}

/// This machine's name, recorded in leases so a blocked user knows where the holder runs.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

/// The content of a lock: who holds it, for what, since when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// Release name.
    pub release: String,
    /// Run id of the holder.
    pub holder: String,
    /// Host the holder runs on (empty in leases written before it was recorded).
    #[serde(default)]
    pub host: String,
    /// What the holder is doing.
    pub operation: Operation,
    /// When the holder first took it, by the holder's clock.
    pub acquired_at: Timestamp,
    /// When the holder last renewed it, by the holder's clock (for people, never compared).
    pub renewed_at: Timestamp,
    /// Lease duration: observers that see no renewal for this many seconds take it over.
    pub ttl_secs: i64,
}

impl Lease {
    /// How long an observer watches for a renewal before deciding the holder is gone.
    pub fn window(&self) -> Duration {
        Duration::from_secs(self.ttl_secs.clamp(1, MAX_WATCH_SECS) as u64)
    }

    /// How often its holder renews it.
    pub fn renew_every(&self) -> Duration {
        Duration::from_secs((self.ttl_secs / 4).max(1) as u64)
    }

    /// "upgrade by run 123-ab on host ci-7, started 2026-12-06T13:51:11Z": who and what, for
    /// messages.
    pub fn describe(&self) -> String {
        let host = if self.host.is_empty() {
            String::new()
        } else {
            format!(" on host {}", self.host)
        };
        format!(
            "{} by run {}{host}, started {} by its clock",
            self.operation,
            self.holder,
            self.acquired_at.utc()
        )
    }
}

/// Who asks for a lease: the run and what it is about to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// Run id ([`new_run_id`]).
    pub holder: String,
    /// [`host_name`].
    pub host: String,
    /// The operation.
    pub operation: Operation,
    /// Lease duration to write.
    pub ttl_secs: i64,
    /// This run's clock, written for people to read.
    pub now: Timestamp,
}

impl Claim {
    fn lease(&self, release: &str) -> Lease {
        Lease {
            release: release.to_string(),
            holder: self.holder.clone(),
            host: self.host.clone(),
            operation: self.operation,
            acquired_at: self.now,
            renewed_at: self.now,
            ttl_secs: self.ttl_secs,
        }
    }
}

/// A lease this run holds, with the version needed to renew or release it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// The lease as last written.
    pub lease: Lease,
    /// Its storage version.
    pub version: String,
    /// The dead holder's lease this run took over, if any.
    pub took_over: Option<Lease>,
    /// When this run last learnt that its lease write landed (the answer to the create or the
    /// renewal), on this process's monotonic clock.
    pub written: Instant,
}

impl Held {
    /// How often to call [`renew`]: a quarter of the lease duration.
    pub fn renew_every_secs(&self) -> i64 {
        self.lease.renew_every().as_secs() as i64
    }

    /// Whether the lease was written less than one renewal interval ago, so nobody can have
    /// taken it over yet and a renewal as fencing would prove nothing new: taking a lease over
    /// takes watching it unchanged for its whole window, or for two renewal intervals and a
    /// second with `--force-unlock`, counted from a moment after the write landed, while this
    /// run counts from when it learnt so (later). Writes sent now thus land before anyone else
    /// can hold the lock, unless they are held up longer than a renewal interval on the way,
    /// which is the same exposure as writes sent just after a renewal.
    pub fn fresh(&self) -> bool {
        self.written.elapsed() < self.lease.renew_every()
    }
}

/// Why the lock could not be taken or kept.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another run holds the lease and renewed it while this run watched.
    #[error("release {:?} is locked by a live run: {}", .0.release, .0.describe())]
    Busy(Lease),
    /// `--force-unlock` of a lease that was renewed while this run watched.
    #[error(
        "refusing to break the lock of release {:?}: it was renewed while this run watched, so its \
         holder is alive ({})",
        .0.release, .0.describe()
    )]
    Renewed(Lease),
    /// Our lease was taken over (or deleted).
    #[error("lost the lock on release {release:?}{}", holder_suffix(.holder))]
    Lost {
        /// Release name.
        release: String,
        /// The new holder, if there is one.
        holder: Option<String>,
    },
    /// Storage failed.
    #[error(transparent)]
    Driver(#[from] DriverError),
}

fn holder_suffix(h: &Option<String>) -> String {
    h.as_ref().map(|h| format!(" to run {h}")).unwrap_or_default()
}

/// What watching another run's lease for its window showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    /// It was renewed (or taken by a third run): someone live holds it.
    Alive,
    /// Nothing was written for the whole window: its holder is gone.
    Dead,
    /// It was deleted: the holder finished.
    Released,
}

/// The liveness decision: watch `cur` for its lease duration, by this process's clock alone.
pub async fn observe(driver: &dyn Driver, cur: &Versioned<Lease>) -> Result<Liveness, LockError> {
    let seen = driver
        .watch_lock(&cur.value.release, &cur.version, cur.value.window())
        .await?;
    Ok(match seen {
        Observed::Changed => Liveness::Alive,
        Observed::Unchanged => Liveness::Dead,
        Observed::Deleted => Liveness::Released,
    })
}

/// Who holds the lease now that it was seen written: the same run renewing, or a third run that
/// took it over meanwhile (the one to name).
async fn current_holder(driver: &dyn Driver, seen: Versioned<Lease>) -> Result<Lease, LockError> {
    Ok(driver
        .get_lock(&seen.value.release)
        .await?
        .map_or(seen.value, |c| c.value))
}

/// Says once that the run waits, and whether the wait is over.
struct Waiting {
    until: Instant,
    said: bool,
}

impl Waiting {
    fn new(wait: Duration) -> Waiting {
        Waiting {
            until: Instant::now() + wait,
            said: false,
        }
    }

    /// After a live holder was seen: `Ok` to keep watching, `Err(Busy)` when the wait is over.
    fn on_alive(&mut self, lease: &Lease) -> Result<(), LockError> {
        if Instant::now() >= self.until {
            return Err(LockError::Busy(lease.clone()));
        }
        if !self.said {
            self.said = true;
            tracing::warn!(
                "waiting for the lock of release {:?}, held by a live run: {}",
                lease.release,
                lease.describe()
            );
        }
        Ok(())
    }
}

/// Before a run computes anything, wait until the lease of `release` is free or its holder is
/// seen dead: `Ok(None)` free (or already this run's), `Ok(Some(lease))` held by a dead run (hand
/// it to [`acquire`] as `dead` to take it over without watching again). A live holder is
/// [`LockError::Busy`] at once, or after `wait` if it still holds the lease then.
pub async fn await_free(
    driver: &dyn Driver,
    release: &str,
    holder: &str,
    wait: Duration,
) -> Result<Option<Versioned<Lease>>, LockError> {
    let mut waiting = Waiting::new(wait);
    loop {
        let Some(cur) = driver.get_lock(release).await? else {
            return Ok(None);
        };
        if cur.value.holder == holder {
            return Ok(None);
        }
        match observe(driver, &cur).await? {
            Liveness::Dead => return Ok(Some(cur)),
            Liveness::Released => continue,
            Liveness::Alive => waiting.on_alive(&current_holder(driver, cur).await?)?,
        }
    }
}

/// Take the lease of `release` for `claim`: create it when free, renew it when the claimant
/// already has it, take it over when its holder is seen dead (watched for the lease's window,
/// or `dead`: the version [`await_free`] already saw unrenewed for a whole window). A live
/// holder is [`LockError::Busy`] at once, or after `wait` if it still holds the lease then.
pub async fn acquire(
    driver: &dyn Driver,
    release: &str,
    claim: &Claim,
    wait: Duration,
    dead: Option<&str>,
) -> Result<Held, LockError> {
    let fresh = claim.lease(release);
    let mut waiting = Waiting::new(wait);
    let mut races = 0;
    let mut last_seen = None;
    // Most runs find the lock free: create first, and read the lease only when one exists (a
    // GET less per write; `dead` says one exists).
    if dead.is_none() {
        match driver.create_lock(&fresh).await {
            Ok(v) => return Ok(held(v, None)),
            Err(DriverError::AlreadyExists(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    while races < ACQUIRE_ATTEMPTS {
        let cur = match driver.get_lock(release).await? {
            None => match driver.create_lock(&fresh).await {
                Ok(v) => return Ok(held(v, None)),
                Err(DriverError::AlreadyExists(_)) => {
                    races += 1;
                    continue;
                }
                Err(e) => return Err(e.into()),
            },
            Some(cur) => cur,
        };
        let mine = cur.value.holder == claim.holder;
        if !mine && dead != Some(cur.version.as_str()) {
            match observe(driver, &cur).await? {
                Liveness::Dead => {}
                Liveness::Released => continue,
                Liveness::Alive => {
                    waiting.on_alive(&current_holder(driver, cur).await?)?;
                    continue;
                }
            }
        }
        let next = if mine {
            Lease {
                operation: claim.operation,
                renewed_at: claim.now,
                ttl_secs: claim.ttl_secs,
                ..cur.value.clone()
            }
        } else {
            fresh.clone()
        };
        match driver.update_lock(&next, &cur.version).await {
            Ok(v) => return Ok(held(v, (!mine).then_some(cur.value))),
            // Someone renewed, took or released it since: look again.
            Err(DriverError::Conflict(_)) | Err(DriverError::NotFound(_)) => {
                races += 1;
                last_seen = Some(cur.value);
            }
            Err(e) => return Err(e.into()),
        }
    }
    // Lost every race: someone else is actively taking it, so report what we last saw.
    match driver.get_lock(release).await? {
        Some(cur) => Err(LockError::Busy(cur.value)),
        None => Err(LockError::Busy(last_seen.unwrap_or(fresh))),
    }
}

fn held(v: Versioned<Lease>, took_over: Option<Lease>) -> Held {
    Held {
        lease: v.value,
        version: v.version,
        took_over,
        written: Instant::now(),
    }
}

/// Renew the lease (a write, which is what observers watch for; `renewed_at` is only for
/// people). [`LockError::Lost`] when it is no longer ours: the run must stop writing.
pub async fn renew(driver: &dyn Driver, held: &mut Held, now: Timestamp) -> Result<(), LockError> {
    let next = Lease {
        renewed_at: now,
        ..held.lease.clone()
    };
    match driver.update_lock(&next, &held.version).await {
        Ok(v) => {
            held.lease = v.value;
            held.version = v.version;
            held.written = Instant::now();
            Ok(())
        }
        Err(DriverError::Conflict(_)) | Err(DriverError::NotFound(_)) => {
            let holder = driver
                .get_lock(&held.lease.release)
                .await?
                .map(|c| c.value.holder);
            Err(LockError::Lost {
                release: held.lease.release.clone(),
                holder,
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// Give the lease back. A lease already taken over or deleted is left alone: it is not ours.
pub async fn release(driver: &dyn Driver, held: Held) -> Result<(), LockError> {
    match driver.delete_lock(&held.lease.release, Some(&held.version)).await {
        Ok(()) | Err(DriverError::Conflict(_)) | Err(DriverError::NotFound(_)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// `--force-unlock`: delete the lock of a holder known to be gone, without waiting its whole
/// lease duration. It still watches two of the holder's renewal intervals first, and refuses
/// ([`LockError::Renewed`]) if the lease was renewed meanwhile: a live holder would go on
/// writing next to the run that broke its lock. Returns the lease it deleted.
pub async fn force_release(driver: &dyn Driver, release: &str) -> Result<Option<Lease>, LockError> {
    let Some(cur) = driver.get_lock(release).await? else {
        return Ok(None);
    };
    let watch = (cur.value.renew_every() * 2 + Duration::from_secs(1)).min(cur.value.window());
    match driver.watch_lock(release, &cur.version, watch).await? {
        Observed::Changed => return Err(LockError::Renewed(cur.value)),
        Observed::Deleted => return Ok(None),
        Observed::Unchanged => {}
    }
    match driver.delete_lock(release, Some(&cur.version)).await {
        Ok(()) => Ok(Some(cur.value)),
        Err(DriverError::NotFound(_)) => Ok(None),
        Err(DriverError::Conflict(_)) => Err(LockError::Renewed(cur.value)),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests;
