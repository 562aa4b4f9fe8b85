//! Helm's release storage in a cluster: the Secrets `sh.helm.release.v1.<name>.v<N>` (type
//! `helm.sh/release.v1`, Helm's default driver) and the ConfigMaps of its `configmap` driver,
//! both labelled `owner=helm,name=<name>,version=<N>,status=<status>`. Read, re-marked and written
//! through the [`Cluster`] trait like every other request.
//!
//! Reads decode every record before anything acts on them, and a record that does not decode
//! (bad base64, bad gzip, bad JSON, a missing field) is an error naming its object, so a caller
//! that reads first and writes after writes nothing on bad input.

use std::{collections::BTreeMap, sync::Arc};

use base64::Engine as _;
use serde_json::{json, Value};

use super::{
    codec,
    convert::{self, FieldError},
};
use crate::{
    cluster::{Cluster, Error as ClusterError, Gvk, ObjectList, Patch, WriteOptions},
    release::{Release, Status},
};

/// Helm's Secret type for release records (`pkg/storage/driver/secrets.go`).
pub const SECRET_TYPE: &str = "helm.sh/release.v1";

/// The `owner` label value of Helm's records.
pub const HELM_LABEL_OWNER: &str = "helm";

/// Helm's object name of a revision (`makeKey`).
pub fn helm_key(name: &str, revision: u32) -> String {
    format!("sh.helm.release.v1.{name}.v{revision}")
}

/// Which of Helm's drivers a record is stored with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `HELM_DRIVER=secret` (the default).
    Secret,
    /// `HELM_DRIVER=configmap`.
    ConfigMap,
}

impl Kind {
    fn gvk(self) -> Gvk {
        match self {
            Kind::Secret => Gvk::new("v1", "Secret"),
            Kind::ConfigMap => Gvk::new("v1", "ConfigMap"),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Kind::Secret => "Secret",
            Kind::ConfigMap => "ConfigMap",
        }
    }
}

/// Errors of Helm's storage.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A record does not decode.
    #[error("Helm release {kind} {namespace}/{object}: {cause}")]
    Corrupt {
        /// Secret or ConfigMap.
        kind: &'static str,
        /// Namespace.
        namespace: String,
        /// Object name.
        object: String,
        /// What is wrong with it.
        cause: String,
    },
    /// A request failed.
    #[error("{op} Helm release {what}: {cause}")]
    Cluster {
        /// What we were doing.
        op: &'static str,
        /// Which objects.
        what: String,
        /// The server's answer.
        cause: ClusterError,
    },
}

/// Result of Helm's storage.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One Helm record, decoded.
#[derive(Debug, Clone)]
pub struct HelmRecord {
    /// Secret or ConfigMap.
    pub kind: Kind,
    /// Namespace of the object.
    pub namespace: String,
    /// Object name.
    pub object: String,
    /// `metadata.resourceVersion`, for conditional rewrites.
    pub resource_version: Option<String>,
    /// The body as Helm wrote it.
    pub body: Value,
    /// The body read as our record.
    pub release: Release,
}

impl HelmRecord {
    /// `Secret mig/sh.helm.release.v1.pod.v1`, for messages.
    pub fn describe(&self) -> String {
        format!("{} {}/{}", self.kind.as_str(), self.namespace, self.object)
    }
}

/// Decodes one Helm storage object (as the API server returns it) into a record.
pub fn decode_object(kind: Kind, object: &Value) -> Result<HelmRecord> {
    let meta = object.get("metadata");
    let text = |field: &str| {
        meta.and_then(|m| m.get(field))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let (namespace, name) = (text("namespace"), text("name"));
    let corrupt = |cause: String| Error::Corrupt {
        kind: kind.as_str(),
        namespace: namespace.clone(),
        object: name.clone(),
        cause,
    };
    let data = object
        .pointer("/data/release")
        .and_then(Value::as_str)
        .ok_or_else(|| corrupt("no data.release".to_string()))?;
    // A Secret's data is base64 on the wire, over Helm's own base64.
    let helm_text = match kind {
        Kind::Secret => base64::engine::general_purpose::STANDARD
            .decode(data)
            .map_err(|e| corrupt(format!("data.release is not base64: {e}")))?,
        Kind::ConfigMap => data.as_bytes().to_vec(),
    };
    let body = codec::decode(&helm_text).map_err(|e| corrupt(format!("data.release: {e}")))?;
    let release = convert::to_release(&body, &namespace)
        .map_err(|FieldError { field, reason }| corrupt(format!("release field {field}: {reason}")))?;
    let labelled = object
        .pointer("/metadata/labels/version")
        .and_then(Value::as_str)
        .and_then(|v| v.parse::<u32>().ok());
    if labelled.is_some_and(|v| v != release.revision) {
        return Err(corrupt(format!(
            "label version={} but the release inside is revision {}",
            labelled.unwrap_or_default(),
            release.revision
        )));
    }
    Ok(HelmRecord {
        kind,
        namespace,
        object: name,
        resource_version: meta
            .and_then(|m| m.get("resourceVersion"))
            .and_then(Value::as_str)
            .map(str::to_string),
        body,
        release,
    })
}

/// Helm's records of one namespace (or, for [`HelmStorage::list_newest`], of every namespace).
pub struct HelmStorage {
    cluster: Arc<dyn Cluster>,
    namespace: String,
}

impl HelmStorage {
    /// Helm's records in `namespace`.
    pub fn new(cluster: Arc<dyn Cluster>, namespace: impl Into<String>) -> HelmStorage {
        HelmStorage {
            cluster,
            namespace: namespace.into(),
        }
    }

    /// Every revision of `name` Helm stored, in Secrets and ConfigMaps, oldest first; all
    /// decoded (the first record that does not decode is the error). Empty when Helm has none.
    pub async fn history(&self, name: &str) -> Result<Vec<HelmRecord>> {
        self.history_after(name, 0).await
    }

    /// [`HelmStorage::history`] of the revisions after `after` only (by their `version` label;
    /// older records are not even decoded).
    pub async fn history_after(&self, name: &str, after: u32) -> Result<Vec<HelmRecord>> {
        let selector = format!("owner={HELM_LABEL_OWNER},name={name}");
        if after > 0 && !self.any_after(&selector, after).await? {
            return Ok(Vec::new());
        }
        let mut out = self.decoded(Some(&self.namespace), &selector, after).await?;
        out.sort_by_key(|r| r.release.revision);
        Ok(out)
    }

    /// The newest Helm revision of every release in the namespace (every namespace with
    /// `all_namespaces`), decoded.
    pub async fn list_newest(&self, all_namespaces: bool) -> Result<Vec<HelmRecord>> {
        // Metadata first (Helm keeps up to ten records of up to 1 MiB per release), then one GET
        // per release, of its newest record.
        let ns = (!all_namespaces).then_some(self.namespace.as_str());
        let selector = format!("owner={HELM_LABEL_OWNER}");
        let mut newest: BTreeMap<(String, String), (u32, Kind, String)> = BTreeMap::new();
        for kind in [Kind::Secret, Kind::ConfigMap] {
            let list = self.list_records(kind, ns, &selector, true).await?;
            for item in &list.items {
                let label = |k: &str| {
                    item.pointer(&format!("/metadata/labels/{k}"))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                };
                let text = |k: &str| {
                    item.pointer(&format!("/metadata/{k}"))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string()
                };
                let (name, object) = (label("name").to_string(), text("name"));
                let Ok(version) = label("version").parse::<u32>() else {
                    continue;
                };
                if object != helm_key(&name, version) {
                    continue;
                }
                let key = (text("namespace"), name);
                if newest.get(&key).is_none_or(|(v, _, _)| *v < version) {
                    newest.insert(key, (version, kind, object));
                }
            }
        }
        let mut out = Vec::with_capacity(newest.len());
        for ((namespace, _), (_, kind, object)) in newest {
            let item = match self.cluster.get(&kind.gvk(), Some(&namespace), &object).await {
                Ok(item) => item,
                // Deleted since the list (an uninstall): not a release any more.
                Err(e) if e.is_not_found() => continue,
                Err(cause) => {
                    return Err(Error::Cluster {
                        op: "reading",
                        what: format!("{} {namespace}/{object}", kind.as_str()),
                        cause,
                    })
                }
            };
            if kind == Kind::Secret && item.get("type").and_then(Value::as_str) != Some(SECRET_TYPE) {
                continue;
            }
            // Helm's own List logs a record it cannot decode and goes on: one broken release
            // must not hide every other one from `list`. (Reads of one release still fail on it.)
            match decode_object(kind, &item) {
                Ok(record) => out.push(record),
                Err(e) => tracing::warn!("skipping a Helm release record in namespace {namespace}: {e}"),
            }
        }
        Ok(out)
    }

    /// One LIST of the `kind` objects of `selector` in `namespace` (every namespace with `None`):
    /// whole objects, or with `metadata_only` their metadata alone.
    async fn list_records(
        &self,
        kind: Kind,
        namespace: Option<&str>,
        selector: &str,
        metadata_only: bool,
    ) -> Result<ObjectList> {
        let gvk = kind.gvk();
        let listed = if metadata_only {
            self.cluster.list_metadata(&gvk, namespace, Some(selector)).await
        } else {
            self.cluster.list(&gvk, namespace, Some(selector)).await
        };
        listed.map_err(|cause| Error::Cluster {
            op: "listing",
            what: format!("{}s ({selector})", kind.as_str()),
            cause,
        })
    }

    /// Whether any object of `selector` is labelled with a version after `after`: a metadata
    /// LIST, so the bodies of the revisions already taken over stay on the server (the common
    /// case: every write of a taken-over release asks, and Helm wrote nothing since).
    async fn any_after(&self, selector: &str, after: u32) -> Result<bool> {
        for kind in [Kind::Secret, Kind::ConfigMap] {
            let list = self
                .list_records(kind, Some(&self.namespace), selector, true)
                .await?;
            let newer = list.items.iter().any(|item| {
                item.pointer("/metadata/labels/version")
                    .and_then(Value::as_str)
                    .and_then(|v| v.parse::<u32>().ok())
                    .is_none_or(|v| v > after)
            });
            if newer {
                return Ok(true);
            }
        }
        Ok(false)
    }

    async fn decoded(&self, namespace: Option<&str>, selector: &str, after: u32) -> Result<Vec<HelmRecord>> {
        let mut out = Vec::new();
        for kind in [Kind::Secret, Kind::ConfigMap] {
            let list = self.list_records(kind, namespace, selector, false).await?;
            for item in &list.items {
                // Helm's Secret driver only reads its own type; anything else with its labels is
                // not a record.
                if kind == Kind::Secret && item.get("type").and_then(Value::as_str) != Some(SECRET_TYPE) {
                    continue;
                }
                let labelled = item
                    .pointer("/metadata/labels/version")
                    .and_then(Value::as_str)
                    .and_then(|v| v.parse::<u32>().ok());
                if after > 0 && labelled.is_some_and(|v| v <= after) {
                    continue;
                }
                let rec = decode_object(kind, item)?;
                if rec.release.revision > after {
                    out.push(rec);
                }
            }
        }
        Ok(out)
    }

    /// Deletes every record of `name` (Secrets and ConfigMaps), as `helm uninstall` does; by
    /// metadata, so records that do not decode go too. Returns how many were deleted.
    pub async fn delete_all(&self, name: &str) -> Result<usize> {
        let selector = format!("owner={HELM_LABEL_OWNER},name={name}");
        let mut n = 0;
        for kind in [Kind::Secret, Kind::ConfigMap] {
            let list = self
                .cluster
                .list_metadata(&kind.gvk(), Some(&self.namespace), Some(&selector))
                .await
                .map_err(|cause| Error::Cluster {
                    op: "listing",
                    what: format!("{}s ({selector})", kind.as_str()),
                    cause,
                })?;
            for item in &list.items {
                let object = item
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                // Only Helm's record names: a user's object with Helm's labels is not ours to delete.
                if !object.starts_with(&format!("sh.helm.release.v1.{name}.v")) {
                    continue;
                }
                match self
                    .cluster
                    .delete(&kind.gvk(), Some(&self.namespace), object, &Default::default())
                    .await
                {
                    Ok(_) => n += 1,
                    Err(e) if e.is_not_found() => {}
                    Err(cause) => {
                        return Err(Error::Cluster {
                            op: "deleting",
                            what: format!("{} {}/{object}", kind.as_str(), self.namespace),
                            cause,
                        })
                    }
                }
            }
        }
        Ok(n)
    }

    /// Rewrites a record with a new status and description (Helm's `Update`: labels `status`
    /// and `modifiedAt` follow), on condition that nobody changed it since it was read.
    pub async fn remark(&self, rec: &HelmRecord, status: Status, description: &str, now: i64) -> Result<()> {
        let mut body = rec.body.clone();
        body["info"]["status"] = json!(status.as_str());
        body["info"]["description"] = json!(description);
        let text = codec::encode(&body);
        let patch = json!({
            "metadata": {
                "resourceVersion": rec.resource_version,
                "labels": {"status": status.as_str(), "modifiedAt": now.to_string()},
            },
            "data": {"release": wire(rec.kind, &text)},
        });
        self.cluster
            .patch(
                &rec.kind.gvk(),
                Some(&rec.namespace),
                &rec.object,
                &Patch::Merge(patch),
                &write_opts(),
            )
            .await
            .map_err(|cause| Error::Cluster {
                op: "updating",
                what: rec.describe(),
                cause,
            })?;
        Ok(())
    }

    /// Writes `rel` as Helm's Secret for its revision: created, or replaced when Helm has it
    /// already (as a Secret or a ConfigMap, whichever holds it).
    pub async fn write(&self, rel: &Release, existing: Option<&HelmRecord>, now: i64) -> Result<()> {
        let body = convert::from_release(rel);
        let text = codec::encode(&body);
        let key = helm_key(&rel.name, rel.revision);
        let kind = existing.map_or(Kind::Secret, |e| e.kind);
        let mut labels = BTreeMap::from([
            ("name".to_string(), rel.name.clone()),
            ("owner".to_string(), HELM_LABEL_OWNER.to_string()),
            ("status".to_string(), rel.status.as_str().to_string()),
            ("version".to_string(), rel.revision.to_string()),
        ]);
        let (op, result) = match existing {
            Some(e) => {
                labels.insert("modifiedAt".into(), now.to_string());
                let patch = json!({
                    "metadata": {"resourceVersion": e.resource_version, "labels": labels},
                    "data": {"release": wire(kind, &text)},
                });
                let r = self
                    .cluster
                    .patch(
                        &kind.gvk(),
                        Some(&self.namespace),
                        &key,
                        &Patch::Merge(patch),
                        &write_opts(),
                    )
                    .await;
                ("updating", r)
            }
            None => {
                labels.insert("createdAt".into(), now.to_string());
                let obj = json!({
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "type": SECRET_TYPE,
                    "metadata": {"name": key, "namespace": self.namespace, "labels": labels},
                    "data": {"release": wire(Kind::Secret, &text)},
                });
                ("creating", self.cluster.create(&obj, &write_opts()).await)
            }
        };
        result.map_err(|cause| Error::Cluster {
            op,
            what: format!("{} {}/{key}", kind.as_str(), self.namespace),
            cause,
        })?;
        Ok(())
    }
}

/// The `data.release` value as the API takes it: Secret data is base64 of the bytes.
fn wire(kind: Kind, helm_text: &str) -> String {
    match kind {
        Kind::Secret => base64::engine::general_purpose::STANDARD.encode(helm_text),
        Kind::ConfigMap => helm_text.to_string(),
    }
}

fn write_opts() -> WriteOptions {
    WriteOptions {
        field_manager: Some(crate::release::OWNER.to_string()),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::FakeCluster;

    fn body(rev: u32, status: &str) -> Value {
        json!({
            "name": "pod",
            "info": {"first_deployed": "2026-12-06T13:52:23Z", "last_deployed": "2026-12-06T13:52:23Z",
                     "description": "Install complete", "status": status},
            "chart": {"metadata": {"name": "demo", "version": "0.3.1"}, "values": {"a": 1}},
            "config": {"b": 2},
            "manifest": "---\nkind: ConfigMap\n",
            "version": rev,
            "namespace": "mig"
        })
    }

    fn secret(rev: u32, data: &str) -> Value {
        json!({
            "apiVersion": "v1", "kind": "Secret", "type": SECRET_TYPE,
            "metadata": {"name": helm_key("pod", rev), "namespace": "mig",
                         "labels": {"owner": "helm", "name": "pod", "version": rev.to_string(), "status": "deployed"}},
            "data": {"release": data},
        })
    }

    fn good(rev: u32, status: &str) -> String {
        wire(Kind::Secret, &codec::encode(&body(rev, status)))
    }

    async fn fake(objects: Vec<Value>) -> Arc<FakeCluster> {
        let fake = Arc::new(FakeCluster::new("mig"));
        for o in objects {
            fake.create(&o, &WriteOptions::default()).await.unwrap();
        }
        fake
    }

    #[tokio::test]
    async fn reads_secrets_and_configmaps_oldest_first() {
        let cm = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": helm_key("pod", 2), "namespace": "mig",
                         "labels": {"owner": "helm", "name": "pod", "version": "2", "status": "deployed"}},
            "data": {"release": codec::encode(&body(2, "deployed"))},
        });
        let other = json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": "lookalike", "namespace": "mig", "labels": {"owner": "helm", "name": "pod"}},
            "data": {"release": "eA=="}});
        let fake = fake(vec![cm, secret(1, &good(1, "superseded")), other]).await;
        let h = HelmStorage::new(fake, "mig").history("pod").await.unwrap();
        let got: Vec<(u32, Kind, Status)> = h
            .iter()
            .map(|r| (r.release.revision, r.kind, r.release.status))
            .collect();
        assert_eq!(
            got,
            [
                (1, Kind::Secret, Status::Superseded),
                (2, Kind::ConfigMap, Status::Deployed)
            ],
            "an Opaque Secret with Helm's labels is not a record"
        );
    }

    #[tokio::test]
    async fn corrupt_records_are_errors_naming_the_secret() {
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let cases = [
            (
                "secret data not base64",
                "%%%".to_string(),
                "data.release is not base64",
            ),
            (
                "helm text not base64",
                b64(b"%%%"),
                "data.release: release data is not base64",
            ),
            (
                "bad gzip",
                b64(b64(&[0x1f, 0x8b, 0x08, 0, 1]).as_bytes()).to_string(),
                "not valid gzip",
            ),
            (
                "bad json",
                b64(b64(b"{nope").as_bytes()),
                "not a Helm release (JSON)",
            ),
            (
                "missing field",
                wire(
                    Kind::Secret,
                    &codec::encode(&json!({"name": "pod", "version": 1})),
                ),
                "release field info: missing",
            ),
            (
                "label disagrees",
                good(7, "deployed"),
                "label version=1 but the release inside is revision 7",
            ),
        ];
        for (name, data, want) in cases {
            let fake = fake(vec![secret(1, &data)]).await;
            let err = HelmStorage::new(fake, "mig")
                .history("pod")
                .await
                .expect_err(name)
                .to_string();
            assert!(
                err.starts_with("Helm release Secret mig/sh.helm.release.v1.pod.v1: "),
                "{name}: {err}"
            );
            assert!(err.contains(want), "{name}: {err}");
        }
    }

    #[tokio::test]
    async fn remark_and_write_round_trip() {
        let fake = fake(vec![secret(1, &good(1, "deployed"))]).await;
        let helm = HelmStorage::new(fake.clone(), "mig");
        let rec = helm.history("pod").await.unwrap().remove(0);
        helm.remark(&rec, Status::Superseded, "taken over", 100)
            .await
            .unwrap();
        let again = helm.history("pod").await.unwrap().remove(0);
        assert_eq!(again.release.status, Status::Superseded);
        assert_eq!(again.release.description, "taken over");
        assert_eq!(
            again.body["chart"], rec.body["chart"],
            "the rest of Helm's body is kept"
        );
        // A stale resourceVersion is refused: the rewrite is conditional.
        assert!(helm.remark(&rec, Status::Superseded, "x", 100).await.is_err());

        let mut next = again.release.clone();
        next.revision = 2;
        next.status = Status::Deployed;
        helm.write(&next, None, 200).await.unwrap();
        helm.write(&again.release, Some(&again), 200).await.unwrap();
        let h = helm.history("pod").await.unwrap();
        assert_eq!(h.len(), 2);
        assert_eq!(h[1].release.revision, 2);
        assert_eq!(h[1].release.values, next.values);
        let labels = fake
            .get(&Gvk::new("v1", "Secret"), Some("mig"), &helm_key("pod", 2))
            .await
            .unwrap()["metadata"]["labels"]
            .clone();
        assert_eq!(labels["status"], "deployed");
        assert_eq!(labels["createdAt"], "200");
    }

    #[tokio::test]
    async fn list_newest_per_release() {
        let fake = fake(vec![secret(1, &good(1, "superseded")), {
            let mut s = secret(2, &good(2, "deployed"));
            s["metadata"]["name"] = json!(helm_key("pod", 2));
            s
        }])
        .await;
        let got = HelmStorage::new(fake, "mig").list_newest(false).await.unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].release.revision, 2);
    }

    /// As Helm's List: a release whose newest record does not decode is skipped (with a
    /// warning), and the others are still listed (a broken release elsewhere in the cluster
    /// must not make `list -A` fail).
    #[tokio::test]
    async fn list_newest_skips_a_record_that_does_not_decode() {
        let mut broken = secret(1, "%%%");
        broken["metadata"]["name"] = json!(helm_key("broken", 1));
        broken["metadata"]["labels"]["name"] = json!("broken");
        let fake = fake(vec![secret(1, &good(1, "deployed")), broken]).await;
        let got = HelmStorage::new(fake, "mig").list_newest(false).await.unwrap();
        let names: Vec<String> = got.iter().map(|r| r.release.meta().name).collect();
        assert_eq!(names, ["pod"]);
    }

    #[tokio::test]
    async fn delete_all_removes_only_helm_records_of_the_release() {
        let mut corrupt = secret(2, "%%%");
        corrupt["metadata"]["name"] = json!(helm_key("pod", 2));
        let lookalike = json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": "mine", "namespace": "mig", "labels": {"owner": "helm", "name": "pod"}}});
        let fake = fake(vec![secret(1, &good(1, "superseded")), corrupt, lookalike]).await;
        let helm = HelmStorage::new(fake.clone(), "mig");
        assert_eq!(
            helm.delete_all("pod").await.unwrap(),
            2,
            "even a record that does not decode"
        );
        assert!(fake
            .get(&Gvk::new("v1", "Secret"), Some("mig"), "mine")
            .await
            .is_ok());
        assert_eq!(helm.delete_all("pod").await.unwrap(), 0);
    }
}
