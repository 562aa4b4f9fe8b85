//! [`ConfigMapApi`] over the cluster layer: the release store's few ConfigMap and Secret calls,
//! sent through [`Cluster`] like every other request (same retries, timeouts and user agent).
//!
//! Conditional update uses a JSON merge patch carrying `metadata.resourceVersion`: the API server
//! checks it like a PUT precondition and answers 409 Conflict when the object moved on.

use std::{collections::BTreeMap, sync::Arc};

use async_trait::async_trait;
use base64::Engine as _;
use serde_json::{json, Value};

use super::{configmap::ConfigMap, ConfigMapApi, DriverError, Observed};
use crate::cluster::{Cluster, DeleteOptions, Error as ClusterError, Gvk, Patch, WriteOptions};

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

    async fn create(&self, cm: &ConfigMap) -> Result<ConfigMap, DriverError> {
        let v = self
            .cluster
            .create(&to_object(cm, &self.namespace), &write_opts())
            .await
            .map_err(|e| map_err(&cm.name, e))?;
        Ok(from_object(&v))
    }

    async fn update(&self, cm: &ConfigMap) -> Result<ConfigMap, DriverError> {
        let mut body = to_object(cm, &self.namespace);
        body["metadata"]["resourceVersion"] = json!(cm.resource_version);
        // A merge patch only adds keys: remove the ones the new version no longer has.
        if let Some(current) = ConfigMapApi::get(self, &cm.name).await? {
            for (field, old, new) in [
                ("labels", &current.labels, &cm.labels),
                ("annotations", &current.annotations, &cm.annotations),
            ] {
                for k in old.keys().filter(|k| !new.contains_key(*k)) {
                    body["metadata"][field][k] = Value::Null;
                }
            }
            for k in current.data.keys().filter(|k| !cm.data.contains_key(*k)) {
                body["data"][k] = Value::Null;
            }
        }
        let v = self
            .cluster
            .patch(
                &cm_gvk(),
                Some(&self.namespace),
                &cm.name,
                &Patch::Merge(body),
                &write_opts(),
            )
            .await
            .map_err(|e| map_err(&cm.name, e))?;
        Ok(from_object(&v))
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
