//! The per-release lock that keeps two runs apart and lets a dead run's work be recovered.
//!
//! Helm's only lock is the record itself: while the last revision is `pending-*`, every other
//! upgrade stops with "another operation (install/upgrade/rollback) is in progress". A run killed
//! with SIGKILL (OOM-killed CI runner, lost node) never clears it, and the release stays stuck
//! until someone rolls back or deletes the record by hand (helm/helm#4558 and its many
//! duplicates). We keep the protection and drop the trap with a **lease**:
//!
//! * Every run that writes to a release first holds its lease, a ConfigMap
//!   `kubectl-chart.<release>.lock` with the holder's run id, the operation and
//!   `renewed_at + ttl` (default [`DEFAULT_TTL_SECS`]). Taking it is a create (only one run can
//!   win) or, for an expired lease, an update conditioned on the version just read (only one run
//!   can take it over).
//! * A live run renews the lease well within the TTL (every [`Held::renew_every_secs`]). If a
//!   renewal finds the lease taken over, the run has lost the release and must stop; its later
//!   record writes are conditional too, so even a run that does not notice cannot overwrite what
//!   the new holder wrote.
//! * **The recovery rule:** a run that holds the lease knows no other run is live on the
//!   release. So any record it finds in `pending-*` or `uninstalling` was left by a run that
//!   died (its lease expired or was force-released) and is marked `failed` with the description
//!   "interrupted: ...". A record with no lock at all (the lock object deleted by hand, or written
//!   by another tool) is treated the same way. The next run therefore proceeds as after any
//!   failed upgrade, at most one TTL after the crash, with no manual step.
//! * A lease that is still live blocks other runs with a message naming the holder, the
//!   operation and when the lease expires. `force` (an explicit `--force-unlock`) deletes it for
//!   users who know the holder is gone and do not want to wait for the TTL.
//!
//! The lease is not a secret and is stored as plain JSON.

use rand::{rngs::OsRng, RngCore};
use serde::{Deserialize, Serialize};

use super::{
    driver::{Driver, DriverError, Versioned},
    record::{Operation, Timestamp, OWNER},
};

/// Default lease time to live. Long enough that a renewal every 20 s survives a slow API server,
/// short enough that a crashed run blocks the next one for at most a minute.
pub const DEFAULT_TTL_SECS: i64 = 60;

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

/// The content of a lock: who holds it, for what, until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// Release name.
    pub release: String,
    /// Run id of the holder.
    pub holder: String,
    /// What the holder is doing.
    pub operation: Operation,
    /// When the holder first took it.
    pub acquired_at: Timestamp,
    /// When the holder last renewed it.
    pub renewed_at: Timestamp,
    /// Seconds after `renewed_at` at which the lease expires.
    pub ttl_secs: i64,
}

impl Lease {
    /// The instant the lease expires unless renewed.
    pub fn expires_at(&self) -> Timestamp {
        self.renewed_at.plus_secs(self.ttl_secs)
    }

    /// Whether the lease no longer protects its holder at `now`.
    pub fn is_expired(&self, now: Timestamp) -> bool {
        now >= self.expires_at()
    }
}

/// A lease this run holds, with the version needed to renew or release it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// The lease as last written.
    pub lease: Lease,
    /// Its storage version.
    pub version: String,
    /// The expired lease this run took over, if any (the run that died).
    pub took_over: Option<Lease>,
}

impl Held {
    /// How often to call [`renew`]: a third of the TTL, so two renewals may fail before the
    /// lease expires.
    pub fn renew_every_secs(&self) -> i64 {
        (self.lease.ttl_secs / 3).max(1)
    }
}

/// Why the lock could not be taken or kept.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another live run holds the lease.
    #[error("release {:?} is locked by run {} ({})", .0.release, .0.holder, .0.operation)]
    Busy(Lease),
    /// Our lease was taken over (or deleted) after it expired.
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

/// Take the lease of `release` for `holder`: create it when free, renew it when `holder`
/// already has it, take it over when expired; [`LockError::Busy`] when someone else holds a live
/// lease.
pub async fn acquire(
    driver: &dyn Driver,
    release: &str,
    holder: &str,
    operation: Operation,
    ttl_secs: i64,
    now: Timestamp,
) -> Result<Held, LockError> {
    let fresh = Lease {
        release: release.to_string(),
        holder: holder.to_string(),
        operation,
        acquired_at: now,
        renewed_at: now,
        ttl_secs,
    };
    let mut last_seen = None;
    for _ in 0..ACQUIRE_ATTEMPTS {
        match driver.get_lock(release).await? {
            None => match driver.create_lock(&fresh).await {
                Ok(v) => return Ok(held(v, None)),
                Err(DriverError::AlreadyExists(_)) => continue,
                Err(e) => return Err(e.into()),
            },
            Some(cur) => {
                let mine = cur.value.holder == holder;
                if !mine && !cur.value.is_expired(now) {
                    return Err(LockError::Busy(cur.value));
                }
                let next = if mine {
                    Lease {
                        operation,
                        renewed_at: now,
                        ttl_secs,
                        ..cur.value.clone()
                    }
                } else {
                    fresh.clone()
                };
                match driver.update_lock(&next, &cur.version).await {
                    Ok(v) => return Ok(held(v, (!mine).then_some(cur.value))),
                    Err(DriverError::Conflict(_)) | Err(DriverError::NotFound(_)) => {
                        last_seen = Some(cur.value);
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
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
    }
}

/// Extend the lease to `now + ttl`. [`LockError::Lost`] when it is no longer ours: the run must
/// stop writing.
pub async fn renew(driver: &dyn Driver, held: &mut Held, now: Timestamp) -> Result<(), LockError> {
    let next = Lease {
        renewed_at: now,
        ..held.lease.clone()
    };
    match driver.update_lock(&next, &held.version).await {
        Ok(v) => {
            held.lease = v.value;
            held.version = v.version;
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

/// Delete the lock whoever holds it (`--force-unlock`). Returns the lease that was there.
pub async fn force_release(driver: &dyn Driver, release: &str) -> Result<Option<Lease>, LockError> {
    let Some(cur) = driver.get_lock(release).await? else {
        return Ok(None);
    };
    match driver.delete_lock(release, Some(&cur.version)).await {
        Ok(()) | Err(DriverError::NotFound(_)) => Ok(Some(cur.value)),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::driver::MemoryDriver;

    /// (case, existing lease (holder, renewed_at, ttl), now, Ok(took over?) or Err(busy holder))
    type AcquireCase = (
        &'static str,
        Option<(&'static str, i64, i64)>,
        i64,
        Result<bool, &'static str>,
    );

    #[tokio::test]
    async fn acquire_cases() {
        // (case, existing lease: (holder, renewed_at, ttl), now, want: Ok(took_over?) or Busy)
        let cases: [AcquireCase; 5] = [
            ("free", None, 100, Ok(false)),
            ("own live lease is renewed", Some(("me", 90, 60)), 100, Ok(false)),
            (
                "other live lease blocks",
                Some(("other", 90, 60)),
                100,
                Err("other"),
            ),
            (
                "other lease at expiry is taken",
                Some(("other", 40, 60)),
                100,
                Ok(true),
            ),
            (
                "other long-expired lease is taken",
                Some(("other", 0, 60)),
                1000,
                Ok(true),
            ),
        ];
        for (case, existing, now, want) in cases {
            let d = MemoryDriver::new("ns");
            if let Some((holder, at, ttl)) = existing {
                acquire(&d, "web", holder, Operation::Upgrade, ttl, Timestamp(at))
                    .await
                    .unwrap();
            }
            let got = acquire(&d, "web", "me", Operation::Install, 60, Timestamp(now)).await;
            match (got, want) {
                (Ok(h), Ok(took)) => {
                    assert_eq!(h.lease.holder, "me", "{case}");
                    assert_eq!(h.lease.operation, Operation::Install, "{case}");
                    assert_eq!(h.lease.expires_at(), Timestamp(now + 60), "{case}");
                    assert_eq!(h.took_over.is_some(), took, "{case}");
                    let stored = d.get_lock("web").await.unwrap().unwrap();
                    assert_eq!(stored.value, h.lease, "{case}");
                }
                (Err(LockError::Busy(l)), Err(holder)) => assert_eq!(l.holder, holder, "{case}"),
                (got, want) => panic!("{case}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[tokio::test]
    async fn renew_detects_takeover() {
        let d = MemoryDriver::new("ns");
        let mut a = acquire(&d, "web", "a", Operation::Upgrade, 60, Timestamp(0))
            .await
            .unwrap();
        renew(&d, &mut a, Timestamp(30)).await.unwrap();
        assert_eq!(a.lease.expires_at(), Timestamp(90));
        // a stalls past its TTL; b takes over
        let b = acquire(&d, "web", "b", Operation::Upgrade, 60, Timestamp(95))
            .await
            .unwrap();
        assert_eq!(b.took_over.as_ref().map(|l| l.holder.as_str()), Some("a"));
        let err = renew(&d, &mut a, Timestamp(96)).await.unwrap_err();
        assert_eq!(err.to_string(), "lost the lock on release \"web\" to run b");
        // a's release must not free b's lock
        release(&d, a).await.unwrap();
        assert_eq!(d.get_lock("web").await.unwrap().unwrap().value.holder, "b");
        release(&d, b).await.unwrap();
        assert!(d.get_lock("web").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn racing_acquires_one_wins() {
        let d = MemoryDriver::new("ns").interleaved();
        let (a, b) = tokio::join!(
            acquire(&d, "web", "a", Operation::Upgrade, 60, Timestamp(0)),
            acquire(&d, "web", "b", Operation::Upgrade, 60, Timestamp(0)),
        );
        let wins = [a.is_ok(), b.is_ok()];
        assert_eq!(wins.iter().filter(|w| **w).count(), 1, "{a:?} {b:?}");
        let loser = if a.is_ok() { b } else { a };
        assert!(matches!(loser, Err(LockError::Busy(_))), "{loser:?}");
    }

    #[tokio::test]
    async fn force_release_removes_any_holder() {
        let d = MemoryDriver::new("ns");
        acquire(&d, "web", "a", Operation::Upgrade, 60, Timestamp(0))
            .await
            .unwrap();
        let gone = force_release(&d, "web").await.unwrap();
        assert_eq!(gone.map(|l| l.holder), Some("a".to_string()));
        assert!(force_release(&d, "web").await.unwrap().is_none());
    }

    #[test]
    fn names() {
        assert_eq!(lock_key("web"), "kubectl-chart.web.lock");
        let (a, b) = (new_run_id(), new_run_id());
        assert_ne!(a, b);
        assert!(a.starts_with(&format!("{}-", std::process::id())), "{a}");
    }
}
