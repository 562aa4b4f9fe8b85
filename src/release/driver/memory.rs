//! An in-memory [`Driver`], for tests of the store and of the actions above it (Helm's
//! `driver.NewMemory()` plays the same part in `actionConfigFixture`).
//!
//! It keeps the same conditional-write rules as the ConfigMap driver, so tests that race two
//! runs mean something. Cloning shares the storage: two stores over clones are two runs on one
//! cluster. [`MemoryDriver::interleaved`] makes every call yield once first, so that
//! `tokio::join!` of two runs interleaves their storage calls instead of running one to the end.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, MutexGuard},
};

use async_trait::async_trait;

use super::{part_key, Driver, DriverError, Stored, Versioned, YieldOnce};
use crate::release::{
    codec::DataKey,
    lock::{lock_key, Lease},
    record::{record_key, Status},
};

#[derive(Debug, Default)]
struct State {
    records: BTreeMap<(String, u32), Stored>,
    parts: BTreeMap<(String, u32, u32), String>,
    locks: BTreeMap<String, Versioned<Lease>>,
    key: Option<DataKey>,
    next_version: u64,
}

impl State {
    fn bump(&mut self) -> String {
        self.next_version += 1;
        self.next_version.to_string()
    }
}

/// In-memory storage for one namespace.
#[derive(Debug, Clone)]
pub struct MemoryDriver {
    namespace: String,
    state: Arc<Mutex<State>>,
    interleave: bool,
}

impl MemoryDriver {
    /// Empty storage for `namespace`.
    pub fn new(namespace: &str) -> MemoryDriver {
        MemoryDriver {
            namespace: namespace.to_string(),
            state: Arc::default(),
            interleave: false,
        }
    }

    /// The same storage, yielding to other tasks before each call.
    pub fn interleaved(mut self) -> MemoryDriver {
        self.interleave = true;
        self
    }

    /// Every record body and record part currently stored, for tests that inspect what would
    /// reach the cluster.
    pub fn bodies(&self) -> Vec<String> {
        let st = self.lock();
        let records = st.records.values().map(|s| s.body.clone());
        records.chain(st.parts.values().cloned()).collect()
    }

    async fn enter(&self) -> MutexGuard<'_, State> {
        if self.interleave {
            YieldOnce::new().await;
        }
        self.lock()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic in another test thread must not poison every later call.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl Driver for MemoryDriver {
    fn namespace(&self) -> &str {
        &self.namespace
    }

    async fn data_key(&self, create: bool) -> Result<Option<DataKey>, DriverError> {
        let mut st = self.enter().await;
        // As the ConfigMap driver: never a new key while records exist (their key is coming back).
        if st.key.is_none() && create && st.records.is_empty() {
            st.key = Some(DataKey::generate());
        }
        Ok(st.key.clone())
    }

    async fn delete_data_key(&self) -> Result<(), DriverError> {
        self.enter().await.key = None;
        Ok(())
    }

    async fn restore_data_key(&self, key: &DataKey) -> Result<(), DriverError> {
        let mut st = self.enter().await;
        if st.key.is_none() {
            st.key = Some(key.clone());
        }
        Ok(())
    }

    async fn get(&self, name: &str, revision: u32) -> Result<Option<Stored>, DriverError> {
        let st = self.enter().await;
        Ok(st.records.get(&(name.to_string(), revision)).cloned())
    }

    async fn query(&self, name: Option<&str>, status: Option<Status>) -> Result<Vec<Stored>, DriverError> {
        let st = self.enter().await;
        Ok(st
            .records
            .values()
            .filter(|s| name.is_none_or(|n| s.meta.name == n))
            .filter(|s| status.is_none_or(|x| s.meta.status == x))
            .cloned()
            .collect())
    }

    async fn create(&self, rec: &Stored) -> Result<Stored, DriverError> {
        let mut st = self.enter().await;
        let k = (rec.meta.name.clone(), rec.meta.revision);
        if st.records.contains_key(&k) {
            return Err(DriverError::AlreadyExists(record_key(&k.0, k.1)));
        }
        let out = Stored {
            version: Some(st.bump()),
            ..rec.clone()
        };
        st.records.insert(k, out.clone());
        Ok(out)
    }

    async fn update(&self, rec: &Stored) -> Result<Stored, DriverError> {
        let mut st = self.enter().await;
        let k = (rec.meta.name.clone(), rec.meta.revision);
        let object = record_key(&k.0, k.1);
        match st.records.get(&k) {
            None => return Err(DriverError::NotFound(object)),
            Some(cur) if cur.version != rec.version => return Err(DriverError::Conflict(object)),
            Some(_) => {}
        }
        let out = Stored {
            version: Some(st.bump()),
            ..rec.clone()
        };
        st.records.insert(k, out.clone());
        Ok(out)
    }

    async fn delete(&self, name: &str, revision: u32) -> Result<(), DriverError> {
        let mut st = self.enter().await;
        match st.records.remove(&(name.to_string(), revision)) {
            Some(_) => Ok(()),
            None => Err(DriverError::NotFound(record_key(name, revision))),
        }
    }

    async fn get_lock(&self, name: &str) -> Result<Option<Versioned<Lease>>, DriverError> {
        Ok(self.enter().await.locks.get(name).cloned())
    }

    async fn create_lock(&self, lease: &Lease) -> Result<Versioned<Lease>, DriverError> {
        let mut st = self.enter().await;
        if st.locks.contains_key(&lease.release) {
            return Err(DriverError::AlreadyExists(lock_key(&lease.release)));
        }
        let v = Versioned {
            value: lease.clone(),
            version: st.bump(),
        };
        st.locks.insert(lease.release.clone(), v.clone());
        Ok(v)
    }

    async fn update_lock(&self, lease: &Lease, version: &str) -> Result<Versioned<Lease>, DriverError> {
        let mut st = self.enter().await;
        let object = lock_key(&lease.release);
        match st.locks.get(&lease.release) {
            None => return Err(DriverError::NotFound(object)),
            Some(cur) if cur.version != version => return Err(DriverError::Conflict(object)),
            Some(_) => {}
        }
        let v = Versioned {
            value: lease.clone(),
            version: st.bump(),
        };
        st.locks.insert(lease.release.clone(), v.clone());
        Ok(v)
    }

    async fn delete_lock(&self, name: &str, version: Option<&str>) -> Result<(), DriverError> {
        let mut st = self.enter().await;
        match st.locks.get(name) {
            None => Err(DriverError::NotFound(lock_key(name))),
            Some(cur) if version.is_some_and(|v| v != cur.version) => {
                Err(DriverError::Conflict(lock_key(name)))
            }
            Some(_) => {
                st.locks.remove(name);
                Ok(())
            }
        }
    }

    async fn create_part(
        &self,
        name: &str,
        revision: u32,
        index: u32,
        text: &str,
    ) -> Result<(), DriverError> {
        let mut st = self.enter().await;
        let k = (name.to_string(), revision, index);
        if st.parts.contains_key(&k) {
            return Err(DriverError::AlreadyExists(part_key(name, revision, index)));
        }
        st.parts.insert(k, text.to_string());
        Ok(())
    }

    async fn get_part(&self, name: &str, revision: u32, index: u32) -> Result<Option<String>, DriverError> {
        let st = self.enter().await;
        Ok(st.parts.get(&(name.to_string(), revision, index)).cloned())
    }

    async fn list_parts(&self, name: &str, revision: Option<u32>) -> Result<Vec<(u32, u32)>, DriverError> {
        let st = self.enter().await;
        Ok(st
            .parts
            .keys()
            .filter(|(n, r, _)| n == name && revision.is_none_or(|x| x == *r))
            .map(|(_, r, k)| (*r, *k))
            .collect())
    }

    async fn delete_part(&self, name: &str, revision: u32, index: u32) -> Result<(), DriverError> {
        let mut st = self.enter().await;
        match st.parts.remove(&(name.to_string(), revision, index)) {
            Some(_) => Ok(()),
            None => Err(DriverError::NotFound(part_key(name, revision, index))),
        }
    }
}
