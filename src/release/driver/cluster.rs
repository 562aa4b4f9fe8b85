//! [`ConfigMapApi`] over the cluster layer: the release store's few ConfigMap and Secret calls,
//! sent through [`Cluster`] like every other request (same retries, timeouts and user agent).
//!
//! Conditional update is one JSON patch that sets `metadata.resourceVersion` and replaces labels,
//! annotations and data whole: the API server checks the version like a PUT precondition and
//! answers 409 Conflict when the object moved on.

use std::{collections::BTreeMap, sync::Arc};

use async_trait::async_trait;
use base64::Engine as _;
use serde_json::{json, Value};

use super::{configmap::ConfigMap, ConfigMapApi, DriverError, Observed};
use crate::cluster::{Cluster, DeleteOptions, Error as ClusterError, Gvk, Patch, WatchEvent, WriteOptions};

/// The field manager our writes are recorded under.
const FIELD_MANAGER: &str = "kubectl-chart";

/// ConfigMaps and Secrets of one namespace, through a [`Cluster`].
pub struct ClusterConfigMaps {
    cluster: Arc<dyn Cluster>,
    namespace: String,
}

impl ClusterConfigMaps {
    /// Release records of `namespace`.
    pub fn new(cluster: Arc<dyn Cluster>, namespace: impl Into<String>) -> Self {
        ClusterConfigMaps {
            cluster,
            namespace: namespace.into(),
        }
    }
}

fn cm_gvk() -> Gvk {
    Gvk::new("v1", "ConfigMap")
}

fn secret_gvk() -> Gvk {
    Gvk::new("v1", "Secret")
}

fn map_err(object: &str, e: ClusterError) -> DriverError {
    if e.is_not_found() {
        DriverError::NotFound(object.to_string())
    } else if e.is_already_exists() {
        DriverError::AlreadyExists(object.to_string())
    } else if e.is_conflict() {
        DriverError::Conflict(object.to_string())
    } else {
        DriverError::Other {
            object: object.to_string(),
            message: e.to_string(),
        }
    }
}

fn strings(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

fn from_object(v: &Value) -> ConfigMap {
    let meta = v.get("metadata");
    ConfigMap {
        name: meta
            .and_then(|m| m.get("name"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        labels: strings(meta.and_then(|m| m.get("labels"))),
        annotations: strings(meta.and_then(|m| m.get("annotations"))),
        data: strings(v.get("data")),
        resource_version: meta
            .and_then(|m| m.get("resourceVersion"))
            .and_then(Value::as_str)
            .map(str::to_string),
    }
}

fn to_object(cm: &ConfigMap, namespace: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": cm.name,
            "namespace": namespace,
            "labels": cm.labels,
            "annotations": cm.annotations,
        },
        "data": cm.data,
    })
}

fn write_opts() -> WriteOptions {
    WriteOptions {
        field_manager: Some(FIELD_MANAGER.to_string()),
        ..Default::default()
    }
}

#[async_trait]
impl ConfigMapApi for ClusterConfigMaps {
    fn namespace(&self) -> &str {
        &self.namespace
    }

    async fn get(&self, name: &str) -> Result<Option<ConfigMap>, DriverError> {
        match self.cluster.get(&cm_gvk(), Some(&self.namespace), name).await {
            Ok(v) => Ok(Some(from_object(&v))),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(map_err(name, e)),
        }
    }

    async fn list(&self, label_selector: &str) -> Result<Vec<ConfigMap>, DriverError> {
        let list = self
            .cluster
            .list(&cm_gvk(), Some(&self.namespace), Some(label_selector))
            .await
            .map_err(|e| map_err(label_selector, e))?;
        Ok(list.items.iter().map(from_object).collect())
    }

    async fn list_metadata(&self, label_selector: &str) -> Result<Vec<ConfigMap>, DriverError> {
        let list = self
            .cluster
            .list_metadata(&cm_gvk(), Some(&self.namespace), Some(label_selector))
            .await
            .map_err(|e| map_err(label_selector, e))?;
        Ok(list.items.iter().map(from_object).collect())
    }

    async fn list_metadata_since(
        &self,
        label_selector: &str,
        resource_version: &str,
    ) -> Result<Vec<ConfigMap>, DriverError> {
        let list = self
            .cluster
            .list_since(
                &cm_gvk(),
                Some(&self.namespace),
                Some(label_selector),
                resource_version,
                true,
            )
            .await
            .map_err(|e| map_err(label_selector, e))?;
        Ok(list.items.iter().map(from_object).collect())
    }

    async fn create(&self, cm: &ConfigMap) -> Result<ConfigMap, DriverError> {
        let v = self
            .cluster
            .create(&to_object(cm, &self.namespace), &write_opts())
            .await
            .map_err(|e| map_err(&cm.name, e))?;
        Ok(from_object(&v))
    }

    async fn update(&self, cm: &ConfigMap) -> Result<ConfigMap, DriverError> {
        // One JSON patch, no read first: `add` on an existing member replaces it, so labels,
        // annotations and data become exactly the new version's (a merge patch only adds keys,
        // and removing the dropped ones needed a GET of the current object: one request more
        // per record or lease write). The resourceVersion left in the patched object is the
        // precondition: a stale one is a 409 Conflict, as for a PUT.
        let ops = json!([
            {"op": "replace", "path": "/metadata/resourceVersion", "value": cm.resource_version},
            {"op": "add", "path": "/metadata/labels", "value": cm.labels},
            {"op": "add", "path": "/metadata/annotations", "value": cm.annotations},
            {"op": "add", "path": "/data", "value": cm.data},
        ]);
        let v = self
            .cluster
            .patch(
                &cm_gvk(),
                Some(&self.namespace),
                &cm.name,
                &Patch::Json(ops),
                &write_opts(),
            )
            .await
            .map_err(|e| map_err(&cm.name, e))?;
        Ok(from_object(&v))
    }

    async fn delete_collection(&self, label_selector: &str) -> Result<(), DriverError> {
        self.cluster
            .delete_collection(
                &cm_gvk(),
                &self.namespace,
                label_selector,
                &DeleteOptions::default(),
            )
            .await
            .map_err(|e| map_err(&format!("configmaps ({label_selector})"), e))
    }

    async fn delete(&self, name: &str, resource_version: Option<&str>) -> Result<(), DriverError> {
        let opts = DeleteOptions {
            resource_version: resource_version.map(str::to_string),
            ..Default::default()
        };
        match self
            .cluster
            .delete(&cm_gvk(), Some(&self.namespace), name, &opts)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => Err(map_err(name, e)),
        }
    }

    async fn wait_for_change(
        &self,
        name: &str,
        version: &str,
        within: std::time::Duration,
    ) -> Result<Observed, DriverError> {
        self.cluster
            .wait_for_change(&cm_gvk(), Some(&self.namespace), name, version, within)
            .await
            .map_err(|e| map_err(name, e))
    }

    async fn writes_until_deleted(
        &self,
        version: &str,
        name: &str,
        within: std::time::Duration,
    ) -> Result<Option<Vec<(ConfigMap, bool)>>, DriverError> {
        use futures::StreamExt as _;
        // A watch from `version` replays every write since, from the API server's cache, in
        // etcd's order. Anything short of the delete (the version no longer kept, an error,
        // the stream ending first) is "cannot say": the caller then lists.
        let Ok(mut events) = self
            .cluster
            .watch(&cm_gvk(), Some(&self.namespace), version, within)
            .await
        else {
            return Ok(None);
        };
        let mut writes = Vec::new();
        while let Some(event) = events.next().await {
            let (object, deleted) = match event {
                Ok(WatchEvent::Added(o) | WatchEvent::Modified(o)) => (o, false),
                Ok(WatchEvent::Deleted(o)) => (o, true),
                Ok(WatchEvent::Bookmark(_)) => continue,
                Ok(WatchEvent::Expired) | Err(_) => return Ok(None),
            };
            let mut cm = from_object(&object);
            // Labels say what it is; bodies of records are not kept.
            cm.data.clear();
            if deleted && cm.name == name {
                return Ok(Some(writes));
            }
            writes.push((cm, deleted));
        }
        Ok(None)
    }

    async fn delete_secret(&self, name: &str) -> Result<(), DriverError> {
        match self
            .cluster
            .delete(
                &secret_gvk(),
                Some(&self.namespace),
                name,
                &DeleteOptions::default(),
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => Err(map_err(name, e)),
        }
    }

    async fn get_secret(&self, name: &str) -> Result<Option<BTreeMap<String, Vec<u8>>>, DriverError> {
        let v = match self.cluster.get(&secret_gvk(), Some(&self.namespace), name).await {
            Ok(v) => v,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(map_err(name, e)),
        };
        let mut out = BTreeMap::new();
        for (k, b64) in strings(v.get("data")) {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|e| DriverError::Other {
                    object: name.to_string(),
                    message: format!("data.{k} is not base64: {e}"),
                })?;
            out.insert(k, bytes);
        }
        Ok(Some(out))
    }

    async fn create_secret(
        &self,
        name: &str,
        labels: &BTreeMap<String, String>,
        data: &BTreeMap<String, Vec<u8>>,
    ) -> Result<(), DriverError> {
        let data: BTreeMap<&String, String> = data
            .iter()
            .map(|(k, v)| (k, base64::engine::general_purpose::STANDARD.encode(v)))
            .collect();
        let obj = json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": { "name": name, "namespace": self.namespace, "labels": labels },
            "data": data,
        });
        self.cluster
            .create(&obj, &write_opts())
            .await
            .map_err(|e| map_err(name, e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::cluster::{FakeCluster, Method};

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// An update is one PATCH (no GET of the current object first), leaves exactly the new
    /// keys, and is refused when the object moved on since it was read.
    #[tokio::test]
    async fn update_is_one_conditional_patch_that_replaces_every_key() {
        let fake = Arc::new(FakeCluster::new("prod"));
        let api = ClusterConfigMaps::new(fake.clone(), "prod");
        let created = api
            .create(&ConfigMap {
                name: "r".into(),
                labels: map(&[("owner", "kubectl-chart"), ("status", "pending-install")]),
                annotations: map(&[("gone", "x"), ("kept", "1")]),
                data: map(&[("release", "a"), ("old", "b")]),
                resource_version: None,
            })
            .await
            .expect("create");
        let calls_before = fake.calls().len();
        let next = ConfigMap {
            labels: map(&[("owner", "kubectl-chart"), ("status", "deployed")]),
            annotations: map(&[("kept", "2")]),
            data: map(&[("release", "c")]),
            ..created.clone()
        };
        let updated = api.update(&next).await.expect("update");
        let methods: Vec<Method> = fake.calls()[calls_before..].iter().map(|c| c.method).collect();
        assert_eq!(methods, [Method::Patch], "one request, no read");
        for (what, got, want) in [
            ("labels", &updated.labels, &next.labels),
            ("annotations", &updated.annotations, &next.annotations),
            ("data", &updated.data, &next.data),
        ] {
            assert_eq!(got, want, "{what}: dropped keys removed, others replaced");
        }
        assert_ne!(updated.resource_version, created.resource_version);
        // `next` still carries the version of the create: stale now.
        match api.update(&next).await {
            Err(DriverError::Conflict(name)) => assert_eq!(name, "r"),
            other => panic!("a stale version must conflict, got {other:?}"),
        }
        let gone = ConfigMap {
            name: "missing".into(),
            ..updated
        };
        assert!(matches!(api.update(&gone).await, Err(DriverError::NotFound(_))));
    }

    /// The last uninstall's look after deleting the key, from the log of writes between its
    /// `uninstalling` write and its lock's delete: a record any release wrote before the lock
    /// went (and did not delete) needs the key; nothing else does. Fails if a record written
    /// in that window could be missed, or if the look answers without seeing the lock go.
    #[tokio::test(start_paused = true)]
    async fn the_last_uninstall_sees_every_record_written_before_its_lock_went() {
        use super::super::{configmap::ConfigMapDriver, Driver};
        let labels =
            |name: &str, extra: (&str, &str)| map(&[("owner", "kubectl-chart"), ("name", name), extra]);
        let cm = |name: &str, labels: BTreeMap<String, String>| ConfigMap {
            name: name.into(),
            labels,
            annotations: BTreeMap::new(),
            data: map(&[("release", "body")]),
            resource_version: None,
        };
        #[derive(Clone, Copy)]
        enum Step {
            Create(&'static str, &'static str, (&'static str, &'static str)),
            Delete(&'static str),
            DeleteLock,
        }
        use Step::*;
        const DB_RECORD: Step = Create("kubectl-chart.db.v1", "db", ("version", "1"));
        let cases: &[(&str, &[Step], Option<bool>)] = &[
            ("nothing written", &[DeleteLock], Some(false)),
            ("another release's record", &[DB_RECORD, DeleteLock], Some(true)),
            (
                "a record written and deleted again",
                &[DB_RECORD, Delete("kubectl-chart.db.v1"), DeleteLock],
                Some(false),
            ),
            (
                "another release's lock alone needs no key",
                &[
                    Create("kubectl-chart.db.lock", "db", ("lock", "true")),
                    DeleteLock,
                ],
                Some(false),
            ),
            (
                "this release's own record, deleted before",
                &[Delete("kubectl-chart.web.v1"), DeleteLock],
                Some(false),
            ),
            // Its writer checks the key after its create and puts it back itself.
            (
                "a record after the lock went",
                &[DeleteLock, DB_RECORD],
                Some(false),
            ),
            ("the lock's delete never seen", &[DB_RECORD], None),
        ];
        for &(case, steps, want) in cases {
            let fake = Arc::new(FakeCluster::new("prod"));
            let api = ClusterConfigMaps::new(fake.clone(), "prod");
            let driver = ConfigMapDriver::new(ClusterConfigMaps::new(fake.clone(), "prod"));
            api.create(&cm("kubectl-chart.web.v1", labels("web", ("version", "1"))))
                .await
                .expect("record");
            let lock = api
                .create(&cm("kubectl-chart.web.lock", labels("web", ("lock", "true"))))
                .await
                .expect("lock");
            let since = lock.resource_version.expect("version");
            for step in steps {
                match *step {
                    Create(name, release, extra) => {
                        api.create(&cm(name, labels(release, extra))).await.expect(case);
                    }
                    Delete(name) => api.delete(name, None).await.expect(case),
                    DeleteLock => api.delete("kubectl-chart.web.lock", None).await.expect(case),
                }
            }
            let got = driver.records_after_lock_gone("web", &since).await.expect(case);
            assert_eq!(got, want, "{case}");
        }
        // A version the log no longer keeps (here: one it cannot read): cannot say.
        let fake = Arc::new(FakeCluster::new("prod"));
        let driver = ConfigMapDriver::new(ClusterConfigMaps::new(fake, "prod"));
        let got = driver.records_after_lock_gone("web", "not-a-version").await;
        assert_eq!(got.expect("no error"), None, "an unknown version");
    }
}
