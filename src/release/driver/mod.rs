//! Where release records and locks are kept: the [`Driver`] trait and its two implementations.
//!
//! As in Helm (`pkg/storage/driver/driver.go`), the store's semantics (revisions, transitions,
//! pruning, recovery) sit above a small storage interface, so tests run on `MemoryDriver` (built for tests only) and
//! the cluster uses [`ConfigMapDriver`]. Unlike Helm's, this interface is *conditional*: `create`
//! fails when the object exists and `update`/`delete` take the version they expect to replace, so
//! two runs racing on one release cannot silently overwrite each other.
//!
//! A driver handles one namespace and stores record bodies as opaque text: encryption happens in
//! [`crate::release::codec`], above the driver, so no driver ever sees a plaintext record.

mod cluster;
mod configmap;
// The test doubles: built for unit tests, and for integration tests through the `testing`
// feature, never into the binary.
#[cfg(any(test, feature = "testing"))]
pub(crate) mod fake_configmaps;
#[cfg(any(test, feature = "testing"))]
mod memory;

pub use cluster::ClusterConfigMaps;
pub use configmap::{keys, ConfigMap, ConfigMapApi, ConfigMapDriver};
#[cfg(any(test, feature = "testing"))]
use fake_configmaps::YieldOnce;
#[cfg(any(test, feature = "testing"))]
pub use {fake_configmaps::FakeConfigMapApi, memory::MemoryDriver};

use async_trait::async_trait;

pub use crate::cluster::Observed;

/// How often the default watches read the object again.
const POLL_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

use super::{
    codec::DataKey,
    lock::Lease,
    record::{RecordMeta, Status},
};

/// A record as a driver keeps it: readable metadata, the encrypted body, and the storage
/// version (a Kubernetes `resourceVersion`) that conditional writes compare against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// Metadata kept in labels and annotations.
    pub meta: RecordMeta,
    /// The encoded body ([`crate::release::codec::encode`]).
    pub body: String,
    /// Storage version; `None` before the record is created.
    pub version: Option<String>,
}

/// A value and the storage version it was read at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned<T> {
    /// The value.
    pub value: T,
    /// Storage version (`resourceVersion`).
    pub version: String,
}

/// A delete whose object is already gone did what it was asked: [`DriverError::NotFound`] is
/// success, any other error stays.
pub(crate) fn gone(deleted: Result<(), DriverError>) -> Result<(), DriverError> {
    match deleted {
        Err(DriverError::NotFound(_)) => Ok(()),
        other => other,
    }
}

/// What went wrong in storage. The first three are the outcomes the store reacts to; anything
/// else is passed through as text from the layer below.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DriverError {
    /// The object does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// A create found the object already there.
    #[error("{0} already exists")]
    AlreadyExists(String),
    /// An update or delete found another version than the one it read.
    #[error("{0} was changed by another writer")]
    Conflict(String),
    /// Any other failure (network, permissions, validation), with the object it concerned.
    #[error("{object}: {message}")]
    Other {
        /// Object name.
        object: String,
        /// The error from the layer below.
        message: String,
    },
}

/// Storage for the records and locks of the releases in one namespace.
///
/// Every method is one round trip to storage. Implementations must honour the preconditions:
/// they are what makes concurrent runs safe.
#[async_trait]
pub trait Driver: Send + Sync {
    /// The namespace this driver stores into.
    fn namespace(&self) -> &str;

    /// The namespace's data key. With `create`, make one (once, racing creators agree on the
    /// first) when there is none; without, `Ok(None)` when there is none.
    async fn data_key(&self, create: bool) -> Result<Option<DataKey>, DriverError>;

    /// The namespace's data key read from storage now, not from a cache (`Ok(None)`: there is
    /// none): a run checks that the key it encrypted a new record with is still the key.
    async fn fresh_data_key(&self) -> Result<Option<DataKey>, DriverError> {
        self.data_key(false).await
    }

    /// Delete the namespace's data key: the last uninstall's cleanup. Runs that wrote records
    /// meanwhile are protected by the caller re-listing records afterwards and
    /// [`Driver::restore_data_key`] if any appeared, and by writers checking the key after each
    /// record create ([`Driver::fresh_data_key`]). The default keeps the key.
    async fn delete_data_key(&self) -> Result<(), DriverError> {
        Ok(())
    }

    /// Put a deleted key back with the same material (a no-op if a key exists).
    async fn restore_data_key(&self, key: &DataKey) -> Result<(), DriverError> {
        let _ = key;
        Ok(())
    }

    /// One revision of a release, `Ok(None)` when it does not exist.
    async fn get(&self, name: &str, revision: u32) -> Result<Option<Stored>, DriverError>;

    /// Records filtered by release name and status (each `None` = any), in no particular order.
    async fn query(&self, name: Option<&str>, status: Option<Status>) -> Result<Vec<Stored>, DriverError>;

    /// [`Driver::query`] without the bodies (each `body` empty): metadata and versions only, for
    /// callers that read one body at most ([`Driver::get`]). The default reads whole records.
    async fn query_meta(
        &self,
        name: Option<&str>,
        status: Option<Status>,
    ) -> Result<Vec<Stored>, DriverError> {
        let mut all = self.query(name, status).await?;
        for s in &mut all {
            s.body = String::new();
        }
        Ok(all)
    }

    /// Create a record; [`DriverError::AlreadyExists`] if that revision exists. Returns it with
    /// its new version.
    async fn create(&self, rec: &Stored) -> Result<Stored, DriverError>;

    /// Replace a record if its storage version is still `rec.version`, else
    /// [`DriverError::Conflict`]. Returns it with its new version.
    async fn update(&self, rec: &Stored) -> Result<Stored, DriverError>;

    /// Delete a revision; [`DriverError::NotFound`] if it is gone.
    async fn delete(&self, name: &str, revision: u32) -> Result<(), DriverError>;

    /// Delete every record of `name` but revision `newest` (their parts and the lock stay),
    /// in one request where the storage allows. The default deletes them one by one.
    async fn delete_older(&self, name: &str, newest: u32) -> Result<(), DriverError> {
        for s in self.query_meta(Some(name), None).await? {
            if s.meta.revision == newest {
                continue;
            }
            gone(self.delete(name, s.meta.revision).await)?;
        }
        Ok(())
    }

    /// Delete whatever is left of `name`: its records, every part (referenced or left behind
    /// by a run that died) and its lock, whoever holds it, in one request where the storage
    /// allows, in no promised order. The default deletes records, then parts, then the lock.
    async fn delete_release(&self, name: &str) -> Result<(), DriverError> {
        for s in self.query_meta(Some(name), None).await? {
            gone(self.delete(name, s.meta.revision).await)?;
        }
        self.delete_parts_and_lock(name).await
    }

    /// Delete everything of `name` but record `newest` (older records, every part, the lock
    /// unless `keep_lock`), in one request where the storage allows, in no promised order: the
    /// first of the two steps of the last uninstall of a release whose newest record has no
    /// parts. The default deletes older records, then parts, then the lock.
    async fn delete_all_but(&self, name: &str, newest: u32, keep_lock: bool) -> Result<(), DriverError> {
        self.delete_older(name, newest).await?;
        self.delete_parts(name).await?;
        if keep_lock {
            return Ok(());
        }
        gone(self.delete_lock(name, None).await)
    }

    /// Every part of `name` (referenced or left behind) and its lock, one by one: the tail of
    /// the default of [`Driver::delete_release`].
    async fn delete_parts_and_lock(&self, name: &str) -> Result<(), DriverError> {
        self.delete_parts(name).await?;
        gone(self.delete_lock(name, None).await)
    }

    /// Every part of `name` (referenced or left behind), one by one.
    async fn delete_parts(&self, name: &str) -> Result<(), DriverError> {
        for (revision, index) in self.list_parts(name, None).await? {
            gone(self.delete_part(name, revision, index).await)?;
        }
        Ok(())
    }

    /// After this run deleted the data key and then the lock of `name`, in that order: whether
    /// any release's record exists once the lock is gone, read from what storage says was
    /// written since `since` (a version this run's own write returned before both deletes,
    /// when no other release had records) up to the lock's delete, which came after the key's.
    /// `Ok(None)`: storage cannot tell (it has no such log, no longer keeps `since`, or the
    /// lock's delete was not seen soon); the caller then lists records at the newest state.
    /// The default cannot tell.
    async fn records_after_lock_gone(&self, name: &str, since: &str) -> Result<Option<bool>, DriverError> {
        let _ = (name, since);
        Ok(None)
    }

    /// Whether a release other than `name` has records in the namespace. With `since` (a
    /// version this run's own write returned), storage may answer from a state no older than
    /// that write (a cache) rather than the newest: only a release deleting the data key asks,
    /// and it looks again after the delete ([`Driver::records_after_lock_gone`], else at the
    /// newest state).
    async fn others_have_records(&self, name: &str, since: Option<&str>) -> Result<bool, DriverError> {
        let _ = since;
        let all = self.query_meta(None, None).await?;
        Ok(all.iter().any(|s| s.meta.name != name))
    }

    /// The lock of a release, `Ok(None)` when nobody holds or held it.
    async fn get_lock(&self, name: &str) -> Result<Option<Versioned<Lease>>, DriverError>;

    /// Take a free lock; [`DriverError::AlreadyExists`] if a lock object exists.
    async fn create_lock(&self, lease: &Lease) -> Result<Versioned<Lease>, DriverError>;

    /// Replace the lock if it is still at `version`, else [`DriverError::Conflict`]
    /// ([`DriverError::NotFound`] if it was deleted).
    async fn update_lock(&self, lease: &Lease, version: &str) -> Result<Versioned<Lease>, DriverError>;

    /// Delete the lock if it is still at `version` (`None`: whatever its version).
    async fn delete_lock(&self, name: &str, version: Option<&str>) -> Result<(), DriverError>;

    /// Watch the lock, last seen at `version`, for at most `within`: [`Observed::Changed`] as
    /// soon as it is written (renewed, taken over), [`Observed::Deleted`] when it is released,
    /// [`Observed::Unchanged`] when `within` passed with neither. This is how a run tells a live
    /// holder from a dead one without comparing clocks (see [`crate::release::lock`]). The
    /// default polls [`Driver::get_lock`].
    async fn watch_lock(
        &self,
        name: &str,
        version: &str,
        within: std::time::Duration,
    ) -> Result<Observed, DriverError> {
        crate::cluster::poll_observed(version, within, POLL_EVERY, || async {
            Ok(self.get_lock(name).await?.map(|cur| cur.version))
        })
        .await
    }

    // Record parts: the pieces of a body too big for one object (see
    // `crate::release::Store`, which splits and reassembles them). A part is written once and
    // never updated; a rewrite of a big record creates parts under fresh indices. The defaults
    // describe a storage without parts, so drivers written before parts existed keep compiling
    // and simply cannot hold records over [`crate::release::MAX_BODY_BYTES`].

    /// Create part `index` of a revision; [`DriverError::AlreadyExists`] if it exists.
    async fn create_part(
        &self,
        name: &str,
        revision: u32,
        index: u32,
        text: &str,
    ) -> Result<(), DriverError> {
        let _ = (revision, index, text);
        Err(DriverError::Other {
            object: name.to_string(),
            message: "this release storage cannot keep records split into parts".to_string(),
        })
    }

    /// The text of part `index` of a revision, `Ok(None)` when it does not exist.
    async fn get_part(&self, name: &str, revision: u32, index: u32) -> Result<Option<String>, DriverError> {
        let _ = (name, revision, index);
        Ok(None)
    }

    /// `(revision, index)` of every stored part of `name` (of one revision when given), in no
    /// particular order, whether or not a record refers to it.
    async fn list_parts(&self, name: &str, revision: Option<u32>) -> Result<Vec<(u32, u32)>, DriverError> {
        let _ = (name, revision);
        Ok(Vec::new())
    }

    /// Delete part `index` of a revision; [`DriverError::NotFound`] if it is gone.
    async fn delete_part(&self, name: &str, revision: u32, index: u32) -> Result<(), DriverError> {
        let _ = index;
        Err(DriverError::NotFound(crate::release::record::record_key(
            name, revision,
        )))
    }
}

/// The object name of a record part: `kubectl-chart.<release>.v<N>.part<K>`. It cannot clash
/// with a record (names end in `.v<digits>`) or a lock (`.lock`).
pub fn part_key(name: &str, revision: u32, index: u32) -> String {
    format!(
        "{}.part{index}",
        crate::release::record::record_key(name, revision)
    )
}
