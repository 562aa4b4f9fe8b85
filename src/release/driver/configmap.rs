//! The cluster [`Driver`]: one ConfigMap per revision, one for the lock, and the namespace data
//! key in a Secret, all through the narrow [`ConfigMapApi`] that the cluster layer implements.
//!
//! Layout (compare Helm's `storage/driver/cfgmaps.go`):
//!
//! * record `kubectl-chart.<release>.v<N>`: labels `owner=kubectl-chart`, `name`, `version`,
//!   `status` (so `history` and `list` filter on the server, as Helm's do); annotations
//!   `kubectl-chart.io/{chart,chart-version,app-version,first-deployed,last-deployed,run}` (chart
//!   versions such as `1.0.0+build` are not valid label values); `data.release` = the encrypted
//!   body from [`crate::release::codec`].
//! * lock `kubectl-chart.<release>.lock`: labels `owner`, `name`, and no `version` label, which is
//!   how record queries (`...,version`) leave it out; `data.lease` = the lease JSON.
//! * key Secret [`KEY_SECRET`] with `data.key` = 32 raw bytes, created on first write.
//! * part `kubectl-chart.<release>.v<N>.part<K>` of a record too big for one object (see
//!   [`crate::release::Store`]): labels `owner`, `name`, `part-of-version=<N>`, `part=<K>`, and no
//!   `version` label, so record queries leave parts out as they leave out the lock;
//!   `data.part` = one slice of the encrypted body. (`part-of=<record name>` would be the obvious
//!   label, but a record name can pass the 63 characters a label value may have.)

use std::{collections::BTreeMap, sync::Mutex};

use async_trait::async_trait;

use super::{part_key, Driver, DriverError, Observed, Stored, Versioned};
use crate::release::{
    codec::{DataKey, KEY_SECRET, KEY_SECRET_FIELD},
    lock::{lock_key, Lease},
    record::{record_key, ChartRef, RecordMeta, Status, Timestamp, OWNER},
};

/// The parts of a ConfigMap the release store reads and writes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigMap {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.labels`.
    pub labels: BTreeMap<String, String>,
    /// `metadata.annotations`.
    pub annotations: BTreeMap<String, String>,
    /// `data`.
    pub data: BTreeMap<String, String>,
    /// `metadata.resourceVersion`: set on everything returned by the API; on an update, the
    /// version the write is conditional on.
    pub resource_version: Option<String>,
}

/// ConfigMap and Secret access in one namespace: the only cluster calls the release store makes.
/// The cluster layer implements it; `FakeConfigMapApi` (tests only) is an in-memory one.
///
/// Errors map Kubernetes statuses: 404 → [`DriverError::NotFound`], 409 AlreadyExists on create
/// → [`DriverError::AlreadyExists`], 409 Conflict on update/delete precondition →
/// [`DriverError::Conflict`], anything else → [`DriverError::Other`].
#[async_trait]
pub trait ConfigMapApi: Send + Sync {
    /// The namespace every call works in.
    fn namespace(&self) -> &str;

    /// GET a ConfigMap; `Ok(None)` on 404.
    async fn get(&self, name: &str) -> Result<Option<ConfigMap>, DriverError>;

    /// LIST ConfigMaps with a label selector in Kubernetes syntax (`a=b,c`: equality and
    /// existence terms only).
    async fn list(&self, label_selector: &str) -> Result<Vec<ConfigMap>, DriverError>;

    /// [`ConfigMapApi::list`] without `data`: names, labels, annotations and versions only.
    async fn list_metadata(&self, label_selector: &str) -> Result<Vec<ConfigMap>, DriverError>;

    /// [`ConfigMapApi::list_metadata`] of a state no older than `resource_version`, which the
    /// server may answer from its cache (see [`crate::cluster::Cluster::list_since`]).
    /// The default is the plain list, never older.
    async fn list_metadata_since(
        &self,
        label_selector: &str,
        resource_version: &str,
    ) -> Result<Vec<ConfigMap>, DriverError> {
        let _ = resource_version;
        self.list_metadata(label_selector).await
    }

    /// CREATE; `resource_version` is ignored. Returns the object as stored.
    async fn create(&self, cm: &ConfigMap) -> Result<ConfigMap, DriverError>;

    /// UPDATE (PUT) with `metadata.resourceVersion = cm.resource_version`, so the server
    /// rejects it with a Conflict when the object changed since it was read.
    async fn update(&self, cm: &ConfigMap) -> Result<ConfigMap, DriverError>;

    /// DELETE, with a `preconditions.resourceVersion` when `resource_version` is given.
    async fn delete(&self, name: &str, resource_version: Option<&str>) -> Result<(), DriverError>;

    /// DELETE every ConfigMap whose labels match `label_selector` (`k=v`, `k!=v`, `k` terms),
    /// in one request; the server deletes them in no promised order. The default lists them
    /// and deletes each.
    async fn delete_collection(&self, label_selector: &str) -> Result<(), DriverError> {
        for cm in self.list_metadata(label_selector).await? {
            match self.delete(&cm.name, None).await {
                Ok(()) | Err(DriverError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// GET a Secret's decoded `data`; `Ok(None)` on 404.
    async fn get_secret(&self, name: &str) -> Result<Option<BTreeMap<String, Vec<u8>>>, DriverError>;

    /// CREATE an Opaque Secret; [`DriverError::AlreadyExists`] if it exists.
    async fn create_secret(
        &self,
        name: &str,
        labels: &BTreeMap<String, String>,
        data: &BTreeMap<String, Vec<u8>>,
    ) -> Result<(), DriverError>;

    /// DELETE a Secret; [`DriverError::NotFound`] if it is gone. The default cannot.
    async fn delete_secret(&self, name: &str) -> Result<(), DriverError> {
        Err(DriverError::Other {
            object: name.to_string(),
            message: "this storage cannot delete Secrets".to_string(),
        })
    }

    /// The ConfigMaps written (created, changed or deleted) after `version`, in the order
    /// storage wrote them, up to the delete of `name`: each with its labels as last written
    /// (no `data`) and whether the write deleted it. `Ok(None)` when storage cannot say: it
    /// keeps no log of writes (the default), no longer keeps `version`, or `name`'s delete did
    /// not come within `within`.
    async fn writes_until_deleted(
        &self,
        version: &str,
        name: &str,
        within: std::time::Duration,
    ) -> Result<Option<Vec<(ConfigMap, bool)>>, DriverError> {
        let _ = (version, name, within);
        Ok(None)
    }

    /// Watch a ConfigMap last seen at `version` for at most `within` (see
    /// [`crate::cluster::Cluster::wait_for_change`]). The default polls [`ConfigMapApi::get`].
    async fn wait_for_change(
        &self,
        name: &str,
        version: &str,
        within: std::time::Duration,
    ) -> Result<Observed, DriverError> {
        crate::cluster::poll_observed(version, within, super::POLL_EVERY, || async {
            // A ConfigMap without a resourceVersion counts as changed, as it never matches.
            Ok(self
                .get(name)
                .await?
                .map(|cm| cm.resource_version.unwrap_or_default()))
        })
        .await
    }
}

/// Annotation keys of a record (policy as data, one place).
pub mod keys {
    /// Chart name.
    pub const CHART: &str = "kubectl-chart.io/chart";
    /// Chart version.
    pub const CHART_VERSION: &str = "kubectl-chart.io/chart-version";
    /// Chart appVersion.
    pub const APP_VERSION: &str = "kubectl-chart.io/app-version";
    /// Unix seconds when revision 1 was written.
    pub const FIRST_DEPLOYED: &str = "kubectl-chart.io/first-deployed";
    /// Unix seconds when this revision last changed.
    pub const LAST_DEPLOYED: &str = "kubectl-chart.io/last-deployed";
    /// Run id of the writer.
    pub const RUN: &str = "kubectl-chart.io/run";
    /// `"true"` on an uninstalling or uninstalled record that supersedes older ones
    /// ([`crate::release::RecordMeta::supersedes`]); absent otherwise.
    pub const SUPERSEDES: &str = "kubectl-chart.io/supersedes";
    /// `data` key of a record's body.
    pub const BODY: &str = "release";
    /// `data` key of a lock's lease.
    pub const LEASE: &str = "lease";
    /// `data` key of a record part's text.
    pub const PART: &str = "part";
    /// Label of a record part: the revision it belongs to.
    pub const PART_OF_VERSION: &str = "part-of-version";
    /// Label of a record part: its index.
    pub const PART_INDEX: &str = "part";
    /// Label of a lock (value `"true"`), so a collection delete can leave it out (`!lock`).
    pub const LOCK: &str = "lock";
}

/// How long the last uninstall of a namespace waits to see its own delete of the lock in the
/// log of writes ([`Driver::records_after_lock_gone`]); the API server's watch sends it within
/// milliseconds, so this is only a bound on a server that does not.
const LOCK_GONE_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);

/// How many times (every 100 ms) a run that finds records but no key waits for it to come back.
const KEY_RESTORE_POLLS: usize = 30;

/// A [`Driver`] over any [`ConfigMapApi`].
pub struct ConfigMapDriver<A> {
    api: A,
    // The key never changes once read, and every write needs it: one GET per process.
    key: Mutex<Option<DataKey>>,
}

impl<A: ConfigMapApi> ConfigMapDriver<A> {
    /// A driver for the namespace of `api`.
    pub fn new(api: A) -> ConfigMapDriver<A> {
        ConfigMapDriver {
            api,
            key: Mutex::new(None),
        }
    }

    /// The API it talks through.
    pub fn api(&self) -> &A {
        &self.api
    }

    fn cached_key(&self) -> Option<DataKey> {
        self.key.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn cache_key(&self, k: &DataKey) {
        *self.key.lock().unwrap_or_else(|p| p.into_inner()) = Some(k.clone());
    }

    async fn read_key(&self) -> Result<Option<DataKey>, DriverError> {
        let Some(data) = self.api.get_secret(KEY_SECRET).await? else {
            return Ok(None);
        };
        let bytes = data.get(KEY_SECRET_FIELD).ok_or_else(|| DriverError::Other {
            object: format!("Secret {KEY_SECRET}"),
            message: format!("no data field {KEY_SECRET_FIELD:?}"),
        })?;
        DataKey::from_bytes(bytes)
            .map(Some)
            .map_err(|e| DriverError::Other {
                object: format!("Secret {KEY_SECRET}"),
                message: e.to_string(),
            })
    }
}

fn selector(terms: &[(&str, Option<&str>)]) -> String {
    terms
        .iter()
        .map(|(k, v)| match v {
            Some(v) => format!("{k}={v}"),
            None => (*k).to_string(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The label selector of records, by release name and status (each `None` = any).
fn record_selector(name: Option<&str>, status: Option<Status>) -> String {
    let mut terms = vec![("owner", Some(OWNER))];
    if let Some(n) = name {
        terms.push(("name", Some(n)));
    }
    if let Some(s) = status {
        terms.push(("status", Some(s.as_str())));
    }
    terms.push(("version", None));
    selector(&terms)
}

fn to_configmap(rec: &Stored) -> ConfigMap {
    let m = &rec.meta;
    let labels = BTreeMap::from([
        ("owner".to_string(), OWNER.to_string()),
        ("name".to_string(), m.name.clone()),
        ("version".to_string(), m.revision.to_string()),
        ("status".to_string(), m.status.as_str().to_string()),
    ]);
    let mut annotations = BTreeMap::from([
        (keys::CHART.to_string(), m.chart.name.clone()),
        (keys::CHART_VERSION.to_string(), m.chart.version.clone()),
        (keys::FIRST_DEPLOYED.to_string(), m.first_deployed.to_string()),
        (keys::LAST_DEPLOYED.to_string(), m.last_deployed.to_string()),
        (keys::RUN.to_string(), m.owner.clone()),
    ]);
    if !m.chart.app_version.is_empty() {
        annotations.insert(keys::APP_VERSION.to_string(), m.chart.app_version.clone());
    }
    if m.supersedes {
        annotations.insert(keys::SUPERSEDES.to_string(), "true".to_string());
    }
    ConfigMap {
        name: record_key(&m.name, m.revision),
        labels,
        annotations,
        data: BTreeMap::from([(keys::BODY.to_string(), rec.body.clone())]),
        resource_version: rec.version.clone(),
    }
}

fn from_configmap(cm: ConfigMap) -> Result<Stored, DriverError> {
    let bad = |what: &str| DriverError::Other {
        object: cm.name.clone(),
        message: format!("not a kubectl-chart release record: {what}"),
    };
    let label = |k: &str| cm.labels.get(k).ok_or_else(|| bad(&format!("no label {k:?}")));
    let ann = |k: &str| cm.annotations.get(k).cloned().unwrap_or_default();
    let time = |k: &str| Timestamp(ann(k).parse().unwrap_or(0));
    let name = label("name")?.clone();
    let revision: u32 = label("version")?
        .parse()
        .map_err(|_| bad("label \"version\" is not a number"))?;
    let status = Status::parse(label("status")?).ok_or_else(|| bad("unknown status label"))?;
    let body = cm
        .data
        .get(keys::BODY)
        .cloned()
        .ok_or_else(|| bad("no data.release"))?;
    Ok(Stored {
        meta: RecordMeta {
            name,
            revision,
            status,
            chart: ChartRef {
                name: ann(keys::CHART),
                version: ann(keys::CHART_VERSION),
                app_version: ann(keys::APP_VERSION),
                origin: None,
            },
            first_deployed: time(keys::FIRST_DEPLOYED),
            last_deployed: time(keys::LAST_DEPLOYED),
            owner: ann(keys::RUN),
            supersedes: ann(keys::SUPERSEDES) == "true",
        },
        body,
        version: cm.resource_version,
    })
}

fn lock_configmap(lease: &Lease, version: Option<&str>) -> Result<ConfigMap, DriverError> {
    let name = lock_key(&lease.release);
    let json = serde_json::to_string(lease).map_err(|e| DriverError::Other {
        object: name.clone(),
        message: format!("encoding lease: {e}"),
    })?;
    Ok(ConfigMap {
        labels: BTreeMap::from([
            ("owner".to_string(), OWNER.to_string()),
            ("name".to_string(), lease.release.clone()),
            (keys::LOCK.to_string(), "true".to_string()),
        ]),
        annotations: BTreeMap::new(),
        data: BTreeMap::from([(keys::LEASE.to_string(), json)]),
        resource_version: version.map(str::to_string),
        name,
    })
}

fn lease_from(cm: ConfigMap) -> Result<Versioned<Lease>, DriverError> {
    let bad = |m: String| DriverError::Other {
        object: cm.name.clone(),
        message: m,
    };
    let json = cm
        .data
        .get(keys::LEASE)
        .ok_or_else(|| bad("no data.lease".to_string()))?;
    let value = serde_json::from_str(json).map_err(|e| bad(format!("decoding lease: {e}")))?;
    let version = cm
        .resource_version
        .clone()
        .ok_or_else(|| bad("no resourceVersion".to_string()))?;
    Ok(Versioned { value, version })
}

fn part_configmap(name: &str, revision: u32, index: u32, text: &str) -> ConfigMap {
    ConfigMap {
        name: part_key(name, revision, index),
        labels: BTreeMap::from([
            ("owner".to_string(), OWNER.to_string()),
            ("name".to_string(), name.to_string()),
            (keys::PART_OF_VERSION.to_string(), revision.to_string()),
            (keys::PART_INDEX.to_string(), index.to_string()),
        ]),
        annotations: BTreeMap::new(),
        data: BTreeMap::from([(keys::PART.to_string(), text.to_string())]),
        resource_version: None,
    }
}

fn stored_version(cm: &ConfigMap) -> Result<String, DriverError> {
    cm.resource_version.clone().ok_or_else(|| DriverError::Other {
        object: cm.name.clone(),
        message: "the API returned no resourceVersion".to_string(),
    })
}

#[async_trait]
impl<A: ConfigMapApi> Driver for ConfigMapDriver<A> {
    fn namespace(&self) -> &str {
        self.api.namespace()
    }

    async fn data_key(&self, create: bool) -> Result<Option<DataKey>, DriverError> {
        if let Some(k) = self.cached_key() {
            return Ok(Some(k));
        }
        if let Some(k) = self.read_key().await? {
            self.cache_key(&k);
            return Ok(Some(k));
        }
        if !create {
            return Ok(None);
        }
        // Records without a key: the last uninstall in the namespace deleted it a moment ago
        // and, seeing records appear, is putting it back (see `Driver::delete_data_key`). A new
        // key would leave those records unreadable, so wait for the old one.
        if !self.query_meta(None, None).await?.is_empty() {
            for _ in 0..KEY_RESTORE_POLLS {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                if let Some(k) = self.read_key().await? {
                    self.cache_key(&k);
                    return Ok(Some(k));
                }
            }
            return Err(DriverError::NotFound(format!(
                "Secret {KEY_SECRET} (release records exist in namespace {:?} but their key does not)",
                self.api.namespace()
            )));
        }
        let k = DataKey::generate();
        let labels = BTreeMap::from([("owner".to_string(), OWNER.to_string())]);
        let data = BTreeMap::from([(KEY_SECRET_FIELD.to_string(), k.as_bytes().to_vec())]);
        match self.api.create_secret(KEY_SECRET, &labels, &data).await {
            Ok(()) => {
                self.cache_key(&k);
                Ok(Some(k))
            }
            // Another run created it first: theirs is the namespace's key.
            Err(DriverError::AlreadyExists(_)) => {
                let k = self
                    .read_key()
                    .await?
                    .ok_or_else(|| DriverError::NotFound(format!("Secret {KEY_SECRET}")))?;
                self.cache_key(&k);
                Ok(Some(k))
            }
            Err(e) => Err(e),
        }
    }

    async fn get(&self, name: &str, revision: u32) -> Result<Option<Stored>, DriverError> {
        match self.api.get(&record_key(name, revision)).await? {
            Some(cm) => from_configmap(cm).map(Some),
            None => Ok(None),
        }
    }

    async fn query(&self, name: Option<&str>, status: Option<Status>) -> Result<Vec<Stored>, DriverError> {
        let items = self.api.list(&record_selector(name, status)).await?;
        items.into_iter().map(from_configmap).collect()
    }

    async fn query_meta(
        &self,
        name: Option<&str>,
        status: Option<Status>,
    ) -> Result<Vec<Stored>, DriverError> {
        let items = self.api.list_metadata(&record_selector(name, status)).await?;
        items
            .into_iter()
            .map(|mut cm| {
                // Only the labels and annotations are read; the body stays on the server.
                cm.data.insert(keys::BODY.to_string(), String::new());
                from_configmap(cm)
            })
            .collect()
    }

    async fn create(&self, rec: &Stored) -> Result<Stored, DriverError> {
        let cm = self.api.create(&to_configmap(rec)).await?;
        Ok(Stored {
            version: Some(stored_version(&cm)?),
            ..rec.clone()
        })
    }

    async fn update(&self, rec: &Stored) -> Result<Stored, DriverError> {
        let cm = to_configmap(rec);
        if cm.resource_version.is_none() {
            // An unconditional update is exactly what this driver exists to prevent.
            return Err(DriverError::Conflict(cm.name));
        }
        let cm = self.api.update(&cm).await?;
        Ok(Stored {
            version: Some(stored_version(&cm)?),
            ..rec.clone()
        })
    }

    async fn delete(&self, name: &str, revision: u32) -> Result<(), DriverError> {
        self.api.delete(&record_key(name, revision), None).await
    }

    async fn delete_older(&self, name: &str, newest: u32) -> Result<(), DriverError> {
        let older = format!("{},version!={newest}", record_selector(Some(name), None));
        self.api.delete_collection(&older).await
    }

    async fn delete_all_but(&self, name: &str, newest: u32, keep_lock: bool) -> Result<(), DriverError> {
        // Kubernetes' `version!=N` also matches what has no `version` label: parts and the lock.
        // The lock this run holds carries the `lock` label (every lock write sets it), so
        // `!lock` leaves it out.
        let rest = selector(&[("owner", Some(OWNER)), ("name", Some(name))]);
        let keep = if keep_lock { ",!lock" } else { "" };
        self.api
            .delete_collection(&format!("{rest},version!={newest}{keep}"))
            .await
    }

    async fn records_after_lock_gone(&self, name: &str, since: &str) -> Result<Option<bool>, DriverError> {
        let Some(writes) = self
            .api
            .writes_until_deleted(since, &lock_key(name), LOCK_GONE_WITHIN)
            .await?
        else {
            return Ok(None);
        };
        // A record is there once the lock is gone when its last write in the log was not its
        // delete. One the log does not name was not written since `since`: as the caller's
        // look at that state found no record of another release, it is this release's own,
        // deleted before the key (whose delete would be in the log).
        let mut present: BTreeMap<&str, bool> = BTreeMap::new();
        for (cm, deleted) in &writes {
            let record =
                cm.labels.get("owner").is_some_and(|o| o == OWNER) && cm.labels.contains_key("version");
            if record {
                present.insert(&cm.name, !deleted);
            }
        }
        Ok(Some(present.values().any(|&p| p)))
    }

    async fn others_have_records(&self, name: &str, since: Option<&str>) -> Result<bool, DriverError> {
        let all = record_selector(None, None);
        let found = match since {
            Some(v) => self.api.list_metadata_since(&all, v).await?,
            None => self.api.list_metadata(&all).await?,
        };
        Ok(found
            .iter()
            .any(|cm| cm.labels.get("name").is_none_or(|n| n != name)))
    }

    async fn delete_release(&self, name: &str) -> Result<(), DriverError> {
        // Records, parts and the lock all carry these two labels, and nothing else does.
        self.api
            .delete_collection(&selector(&[("owner", Some(OWNER)), ("name", Some(name))]))
            .await
    }

    async fn get_lock(&self, name: &str) -> Result<Option<Versioned<Lease>>, DriverError> {
        match self.api.get(&lock_key(name)).await? {
            Some(cm) => lease_from(cm).map(Some),
            None => Ok(None),
        }
    }

    async fn create_lock(&self, lease: &Lease) -> Result<Versioned<Lease>, DriverError> {
        let cm = self.api.create(&lock_configmap(lease, None)?).await?;
        Ok(Versioned {
            value: lease.clone(),
            version: stored_version(&cm)?,
        })
    }

    async fn update_lock(&self, lease: &Lease, version: &str) -> Result<Versioned<Lease>, DriverError> {
        let cm = self.api.update(&lock_configmap(lease, Some(version))?).await?;
        Ok(Versioned {
            value: lease.clone(),
            version: stored_version(&cm)?,
        })
    }

    async fn delete_lock(&self, name: &str, version: Option<&str>) -> Result<(), DriverError> {
        self.api.delete(&lock_key(name), version).await
    }

    async fn fresh_data_key(&self) -> Result<Option<DataKey>, DriverError> {
        let k = self.read_key().await?;
        *self.key.lock().unwrap_or_else(|p| p.into_inner()) = k.clone();
        Ok(k)
    }

    async fn delete_data_key(&self) -> Result<(), DriverError> {
        *self.key.lock().unwrap_or_else(|p| p.into_inner()) = None;
        super::gone(self.api.delete_secret(KEY_SECRET).await)
    }

    async fn restore_data_key(&self, key: &DataKey) -> Result<(), DriverError> {
        let labels = BTreeMap::from([("owner".to_string(), OWNER.to_string())]);
        let data = BTreeMap::from([(KEY_SECRET_FIELD.to_string(), key.as_bytes().to_vec())]);
        match self.api.create_secret(KEY_SECRET, &labels, &data).await {
            Ok(()) | Err(DriverError::AlreadyExists(_)) => {
                self.fresh_data_key().await?;
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    async fn watch_lock(
        &self,
        name: &str,
        version: &str,
        within: std::time::Duration,
    ) -> Result<Observed, DriverError> {
        self.api.wait_for_change(&lock_key(name), version, within).await
    }

    async fn create_part(
        &self,
        name: &str,
        revision: u32,
        index: u32,
        text: &str,
    ) -> Result<(), DriverError> {
        self.api
            .create(&part_configmap(name, revision, index, text))
            .await
            .map(drop)
    }

    async fn get_part(&self, name: &str, revision: u32, index: u32) -> Result<Option<String>, DriverError> {
        let object = part_key(name, revision, index);
        let Some(cm) = self.api.get(&object).await? else {
            return Ok(None);
        };
        match cm.data.get(keys::PART) {
            Some(t) => Ok(Some(t.clone())),
            None => Err(DriverError::Other {
                object,
                message: "not a kubectl-chart record part: no data.part".to_string(),
            }),
        }
    }

    async fn list_parts(&self, name: &str, revision: Option<u32>) -> Result<Vec<(u32, u32)>, DriverError> {
        let rev = revision.map(|r| r.to_string());
        let terms = [
            ("owner", Some(OWNER)),
            ("name", Some(name)),
            (keys::PART_OF_VERSION, rev.as_deref()),
        ];
        let items = self.api.list(&selector(&terms)).await?;
        Ok(items
            .iter()
            .filter_map(|cm| {
                let num = |k: &str| cm.labels.get(k)?.parse::<u32>().ok();
                Some((num(keys::PART_OF_VERSION)?, num(keys::PART_INDEX)?))
            })
            .collect())
    }

    async fn delete_part(&self, name: &str, revision: u32, index: u32) -> Result<(), DriverError> {
        self.api.delete(&part_key(name, revision, index), None).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::driver::fake_configmaps::{matches_selector, FakeConfigMapApi};

    fn rec(name: &str, revision: u32, status: Status) -> Stored {
        Stored {
            meta: RecordMeta {
                name: name.to_string(),
                revision,
                status,
                chart: ChartRef {
                    name: "web".into(),
                    version: "1.0.0+build.1".into(),
                    app_version: String::new(),
                    origin: None,
                },
                first_deployed: Timestamp(10),
                last_deployed: Timestamp(20),
                owner: "run-1".into(),
                supersedes: false,
            },
            body: "BODY".into(),
            version: None,
        }
    }

    #[tokio::test]
    async fn record_layout() {
        let api = FakeConfigMapApi::new("prod");
        let d = ConfigMapDriver::new(api.clone());
        d.create(&rec("web", 3, Status::PendingUpgrade)).await.unwrap();
        let cm = api
            .configmaps()
            .remove("kubectl-chart.web.v3")
            .expect("record object");
        let labels: Vec<_> = cm.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(
            labels,
            [
                "name=web",
                "owner=kubectl-chart",
                "status=pending-upgrade",
                "version=3"
            ]
        );
        assert_eq!(
            cm.annotations.get(keys::CHART_VERSION).map(String::as_str),
            Some("1.0.0+build.1")
        );
        assert!(!cm.annotations.contains_key(keys::APP_VERSION));
        assert_eq!(cm.data.keys().collect::<Vec<_>>(), ["release"]);
        // and it reads back to the same record
        let back = d.get("web", 3).await.unwrap().unwrap();
        assert_eq!(
            Stored {
                version: None,
                ..back
            },
            rec("web", 3, Status::PendingUpgrade)
        );
    }

    /// (case, name filter, status filter, records wanted, LIST call made)
    type QueryCase<'a> = (
        &'a str,
        Option<&'a str>,
        Option<Status>,
        &'a [(&'a str, u32)],
        &'a str,
    );

    #[tokio::test]
    async fn queries_filter_on_the_server_and_skip_the_lock() {
        let api = FakeConfigMapApi::new("prod");
        let d = ConfigMapDriver::new(api.clone());
        for (name, rev, st) in [
            ("web", 1, Status::Superseded),
            ("web", 2, Status::Deployed),
            ("db", 1, Status::Deployed),
        ] {
            d.create(&rec(name, rev, st)).await.unwrap();
        }
        let lease = Lease {
            release: "web".into(),
            holder: "x".into(),
            host: "h".into(),
            operation: crate::release::record::Operation::Upgrade,
            acquired_at: Timestamp(0),
            renewed_at: Timestamp(0),
            ttl_secs: 60,
        };
        d.create_lock(&lease).await.unwrap();
        let cases: [QueryCase; 3] = [
            (
                "all",
                None,
                None,
                &[("db", 1), ("web", 1), ("web", 2)],
                "list owner=kubectl-chart,version",
            ),
            (
                "by name",
                Some("web"),
                None,
                &[("web", 1), ("web", 2)],
                "list owner=kubectl-chart,name=web,version",
            ),
            (
                "by name and status",
                Some("web"),
                Some(Status::Deployed),
                &[("web", 2)],
                "list owner=kubectl-chart,name=web,status=deployed,version",
            ),
        ];
        for (case, name, status, want, call) in cases {
            let mut got: Vec<_> = d
                .query(name, status)
                .await
                .unwrap()
                .into_iter()
                .map(|s| (s.meta.name, s.meta.revision))
                .collect();
            got.sort();
            let want: Vec<_> = want.iter().map(|(n, r)| (n.to_string(), *r)).collect();
            assert_eq!(got, want, "{case}");
            assert_eq!(api.calls().last().map(String::as_str), Some(call), "{case}");
        }
    }

    #[tokio::test]
    async fn conditional_writes() {
        let api = FakeConfigMapApi::new("prod");
        let d = ConfigMapDriver::new(api.clone());
        let created = d.create(&rec("web", 1, Status::PendingInstall)).await.unwrap();
        let err = d
            .create(&rec("web", 1, Status::PendingInstall))
            .await
            .unwrap_err();
        assert!(
            matches!(err, DriverError::AlreadyExists(_)),
            "create twice: {err}"
        );

        let mut a = created.clone();
        a.meta.status = Status::Deployed;
        let a2 = d.update(&a).await.unwrap();
        assert_ne!(a2.version, created.version);
        // a second writer still holding the old version loses
        let mut b = created.clone();
        b.meta.status = Status::Failed;
        let err = d.update(&b).await.unwrap_err();
        assert!(matches!(err, DriverError::Conflict(_)), "stale update: {err}");
        // an update without any version is refused outright
        let err = d.update(&Stored { version: None, ..b }).await.unwrap_err();
        assert!(
            matches!(err, DriverError::Conflict(_)),
            "unconditional update: {err}"
        );
        assert_eq!(
            d.get("web", 1).await.unwrap().unwrap().meta.status,
            Status::Deployed
        );
    }

    #[tokio::test]
    async fn data_key_is_created_once_and_cached() {
        let api = FakeConfigMapApi::new("prod");
        let d1 = ConfigMapDriver::new(api.clone());
        assert_eq!(d1.data_key(false).await.unwrap(), None, "read does not create");
        assert!(api.secrets().is_empty());
        let k1 = d1.data_key(true).await.unwrap().unwrap();
        let stored = api.secrets().remove(KEY_SECRET).unwrap();
        assert_eq!(
            stored.get(KEY_SECRET_FIELD).map(Vec::as_slice),
            Some(&k1.as_bytes()[..])
        );
        // another process reads the same key
        let d2 = ConfigMapDriver::new(api.clone());
        assert_eq!(d2.data_key(true).await.unwrap(), Some(k1.clone()));
        let before = api.calls().len();
        assert_eq!(d2.data_key(false).await.unwrap(), Some(k1));
        assert_eq!(api.calls().len(), before, "cached key needs no call");
    }

    #[tokio::test]
    async fn racing_key_creation_agrees() {
        let api = FakeConfigMapApi::new("prod").interleaved();
        let (d1, d2) = (
            ConfigMapDriver::new(api.clone()),
            ConfigMapDriver::new(api.clone()),
        );
        let (k1, k2) = tokio::join!(d1.data_key(true), d2.data_key(true));
        assert_eq!(k1.unwrap(), k2.unwrap());
    }

    #[test]
    fn selectors() {
        let l = BTreeMap::from([
            ("owner".to_string(), "kubectl-chart".to_string()),
            ("version".to_string(), "1".to_string()),
        ]);
        let cases = [
            ("equality", "owner=kubectl-chart", true),
            ("existence", "owner=kubectl-chart,version", true),
            ("missing key", "owner=kubectl-chart,status", false),
            ("wrong value", "owner=helm", false),
            ("not equal", "owner=kubectl-chart,version!=2", true),
            ("not equal, same value", "version!=1", false),
            ("not equal, no such label", "status!=deployed", true),
        ];
        for (case, sel, want) in cases {
            assert_eq!(matches_selector(&l, sel), want, "{case}");
        }
    }

    /// The last uninstall's two steps: everything of the release but its newest record (older
    /// records, every part, the lock, nothing of another release) in one request, then the
    /// newest; and the first look for other releases' records, which ignores the release's own
    /// and may be served as of a version.
    #[tokio::test]
    async fn delete_all_but_the_newest_and_other_releases_records() {
        let api = FakeConfigMapApi::new("prod");
        let d = ConfigMapDriver::new(api.clone());
        for (name, rev) in [("web", 1), ("web", 2), ("web", 3), ("db", 1)] {
            d.create(&rec(name, rev, Status::Superseded)).await.unwrap();
        }
        d.create_part("web", 2, 1, "old part").await.unwrap();
        d.create_part("web", 3, 1, "stray part").await.unwrap();
        let lease = |release: &str| Lease {
            release: release.into(),
            holder: "x".into(),
            host: "h".into(),
            operation: crate::release::record::Operation::Uninstall,
            acquired_at: Timestamp(0),
            renewed_at: Timestamp(0),
            ttl_secs: 60,
        };
        d.create_lock(&lease("web")).await.unwrap();
        d.create_lock(&lease("db")).await.unwrap();
        let before = api.calls().len();
        d.delete_all_but("web", 3, false).await.unwrap();
        assert_eq!(
            api.calls()[before..],
            ["deletecollection owner=kubectl-chart,name=web,version!=3"],
            "one request"
        );
        let left: Vec<String> = api.configmaps().into_keys().collect();
        assert_eq!(
            left,
            [
                "kubectl-chart.db.lock",
                "kubectl-chart.db.v1",
                "kubectl-chart.web.v3"
            ]
        );
        // (case, release asking, since, answer)
        let cases: &[(&str, &str, Option<&str>, bool)] = &[
            ("db's records are another's", "web", None, true),
            ("as of a version", "web", Some("7"), true),
            ("web's records are another's for db", "db", Some("7"), true),
        ];
        for &(case, name, since, want) in cases {
            assert_eq!(d.others_have_records(name, since).await.unwrap(), want, "{case}");
        }
        d.delete("db", 1).await.unwrap();
        assert!(
            !d.others_have_records("web", Some("7")).await.unwrap(),
            "only web's own record (and db's lock, not a record) are left"
        );
    }
}
