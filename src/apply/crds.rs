//! The chart's `crds/` directory: what to do with each CRD under `--crds skip|create|update`.
//!
//! Helm (`create`, the default) creates the CRDs the cluster lacks on install and never touches
//! them again, a documented limitation (users copy CRDs into `templates/` and lose them, and their
//! custom resources, on uninstall). `update` also brings existing CRDs up to the chart's: it sends
//! the chart's `spec` (a JSON patch guarded by `resourceVersion`), first, and waits for
//! `Established`. It refuses, before anything is written, a change the cluster's objects cannot
//! survive: dropping a version still in `status.storedVersions` (objects may be stored in it; the
//! API server refuses it too, but only once other writes may have happened), or no longer serving
//! a version custom resources still exist in (found by listing them in that version, cluster-wide).
//! CRDs are never deleted.
//!
//! [`classify`] is pure (live CRD and chart CRD in, change or refusal out); [`plan_crds`] does the
//! reads. Start with [`plan_crds`].

use std::collections::BTreeSet;
use std::str::FromStr;

use serde_json::{json, Map, Value};

use crate::cluster::{self, Cluster, Gvk};
use crate::diff::{Action, Change, ObjectRef};

use super::executor::{CRD_GROUP, CRD_KIND};

/// `--crds`: what an install or upgrade does with the chart's `crds/`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CrdPolicy {
    /// Leave them alone (Helm's `--skip-crds`).
    Skip,
    /// Create the missing ones on install, as Helm does.
    #[default]
    Create,
    /// Create the missing ones and update changed ones, on install and upgrade.
    Update,
}

impl FromStr for CrdPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "skip" => Ok(CrdPolicy::Skip),
            "create" => Ok(CrdPolicy::Create),
            "update" => Ok(CrdPolicy::Update),
            other => Err(format!("--crds {other:?}: expected skip, create or update")),
        }
    }
}

/// Why a CRD cannot be updated.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CrdError {
    /// The update would drop a version objects may be stored in.
    #[error(
        "CustomResourceDefinition {crd}: the chart drops version {version}, which is still in status.storedVersions (migrate the stored objects and remove it from status.storedVersions first)"
    )]
    StoredVersionDropped {
        /// CRD name.
        crd: String,
        /// The version.
        version: String,
    },
    /// The update would stop serving a version custom resources exist in.
    #[error(
        "CustomResourceDefinition {crd}: the chart stops serving version {version}, which {count} custom resource(s) still use ({example})"
    )]
    ServedVersionInUse {
        /// CRD name.
        crd: String,
        /// The version.
        version: String,
        /// How many objects were listed in it.
        count: usize,
        /// One of them, as `Kind ns/name`.
        example: String,
    },
    /// A `crds/` document is not a usable CRD.
    #[error("crds/: {0}")]
    Invalid(String),
    /// Reading the cluster failed.
    #[error("{what}: {source}")]
    Read {
        /// What was being read.
        what: String,
        /// The cluster's error.
        source: cluster::Error,
    },
}

/// What to send for the chart's `crds/`.
#[derive(Debug, Clone, Default)]
pub struct CrdPlan {
    /// CRDs the cluster lacks, to create as the chart has them.
    pub create: Vec<Value>,
    /// Changed CRDs: patches of their `spec` (before the rest of the release, then `Established`).
    pub update: Vec<Change>,
}

/// A CRD update decided by [`classify`], before the custom-resource check.
#[derive(Debug, Clone)]
pub struct CrdUpdate {
    /// The change to send.
    pub change: Change,
    /// Versions served now and not after the update: custom resources in them block it.
    pub unserved: Vec<String>,
}

/// Reads the live CRD of every `crds/` document and decides what to send under `policy`.
/// `installing` is true for a release's first revision (the only time `create` sends anything).
pub async fn plan_crds(
    cluster: &dyn Cluster,
    docs: &[Value],
    policy: CrdPolicy,
    installing: bool,
) -> Result<CrdPlan, CrdError> {
    let mut out = CrdPlan::default();
    if policy == CrdPolicy::Skip || (policy == CrdPolicy::Create && !installing) {
        return Ok(out);
    }
    for doc in docs {
        let gvk = Gvk::of(doc).map_err(|e| CrdError::Invalid(e.to_string()))?;
        let name = str_at(doc, "/metadata/name").to_string();
        let live = match cluster.get(&gvk, None, &name).await {
            Ok(live) => live,
            Err(e) if e.is_not_found() => {
                out.create.push(doc.clone());
                continue;
            }
            Err(source) => {
                return Err(CrdError::Read {
                    what: format!("reading CustomResourceDefinition {name}"),
                    source,
                })
            }
        };
        if policy != CrdPolicy::Update {
            continue;
        }
        let Some(update) = classify(&live, doc)? else {
            continue;
        };
        for version in &update.unserved {
            in_use_check(cluster, &live, version).await?;
        }
        out.update.push(update.change);
    }
    Ok(out)
}

/// Refuses when custom resources of `live` can be listed in `version` (cluster-wide).
async fn in_use_check(cluster: &dyn Cluster, live: &Value, version: &str) -> Result<(), CrdError> {
    let crd = str_at(live, "/metadata/name");
    let gvk = Gvk::new(
        &format!("{}/{version}", str_at(live, "/spec/group")),
        str_at(live, "/spec/names/kind"),
    );
    let list = cluster
        .list(&gvk, None, None)
        .await
        .map_err(|source| CrdError::Read {
            what: format!(
                "listing {} in version {version} of CustomResourceDefinition {crd}",
                gvk.kind
            ),
            source,
        })?;
    match list.items.first() {
        None => Ok(()),
        Some(first) => Err(CrdError::ServedVersionInUse {
            crd: crd.to_string(),
            version: version.to_string(),
            count: list.items.len(),
            example: super::describe_parts(
                &gvk.kind,
                str_at(first, "/metadata/namespace"),
                str_at(first, "/metadata/name"),
            ),
        }),
    }
}

/// Compares the chart's CRD with the live one: `None` when the live spec already has everything
/// the chart's has (the server adds defaults, so equality would never hold), else the update,
/// or a refusal when it drops a stored version.
pub fn classify(live: &Value, desired: &Value) -> Result<Option<CrdUpdate>, CrdError> {
    let name = str_at(live, "/metadata/name").to_string();
    let want = desired
        .get("spec")
        .and_then(Value::as_object)
        .ok_or_else(|| CrdError::Invalid(format!("CustomResourceDefinition {name} has no spec")))?;
    let have = live.get("spec").cloned().unwrap_or_else(|| json!({}));
    let want = Value::Object(want.clone());
    if contains(&have, &want) {
        return Ok(None);
    }
    let versions = |spec: &Value, served_only: bool| -> BTreeSet<String> {
        spec.get("versions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|v| !served_only || v.get("served").and_then(Value::as_bool) == Some(true))
            .map(|v| str_at(v, "/name").to_string())
            .collect()
    };
    let kept = versions(&want, false);
    let stored = live
        .pointer("/status/storedVersions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str);
    for version in stored {
        if !kept.contains(version) {
            return Err(CrdError::StoredVersionDropped {
                crd: name,
                version: version.to_string(),
            });
        }
    }
    let served_after = versions(&want, true);
    let unserved = versions(&have, true)
        .into_iter()
        .filter(|v| !served_after.contains(v))
        .collect();
    let spec = merged(&have, &want);
    let mut predicted = live.clone();
    predicted["spec"] = spec.clone();
    // Guarded by the version read, so a CRD changed since is not overwritten unseen.
    let ops = json!([
        {"op": "test", "path": "/metadata/resourceVersion", "value": live.pointer("/metadata/resourceVersion")},
        {"op": "replace", "path": "/spec", "value": spec},
    ]);
    let patch = serde_json::from_value(ops).map_err(|e| CrdError::Invalid(e.to_string()))?;
    Ok(Some(CrdUpdate {
        change: Change {
            id: ObjectRef::new(CRD_GROUP, CRD_KIND, "", &name),
            api_version: str_at(desired, "/apiVersion").to_string(),
            action: Action::Patch(patch),
            live: Some(live.clone()),
            predicted: Some(predicted),
            drift: Vec::new(),
        },
        unserved,
    }))
}

/// Whether every field of `want` is in `have` with the same value (lists element by element,
/// of equal length), so fields only the server sets do not count as changes.
fn contains(have: &Value, want: &Value) -> bool {
    match (have, want) {
        (Value::Object(h), Value::Object(w)) => w
            .iter()
            .all(|(k, wv)| h.get(k).is_some_and(|hv| contains(hv, wv))),
        (Value::Array(h), Value::Array(w)) => {
            h.len() == w.len() && h.iter().zip(w).all(|(a, b)| contains(a, b))
        }
        _ => have == want,
    }
}

/// The chart's spec over the live one: maps merged (server defaults the chart does not name stay,
/// so the diff shows only the chart's change), lists taken from the chart.
fn merged(have: &Value, want: &Value) -> Value {
    match (have, want) {
        (Value::Object(h), Value::Object(w)) => {
            let mut out: Map<String, Value> = h.clone();
            for (k, wv) in w {
                let v = match h.get(k) {
                    Some(hv) => merged(hv, wv),
                    None => wv.clone(),
                };
                out.insert(k.clone(), v);
            }
            Value::Object(out)
        }
        _ => want.clone(),
    }
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::FakeCluster;

    fn crd(versions: Value, stored: &[&str]) -> Value {
        json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com", "resourceVersion": "7"},
            "spec": {"group": "example.com", "scope": "Namespaced",
                "names": {"kind": "Widget", "plural": "widgets"}, "versions": versions},
            "status": {"storedVersions": stored},
        })
    }

    fn v(name: &str, served: bool, storage: bool) -> Value {
        json!({"name": name, "served": served, "storage": storage,
            "schema": {"openAPIV3Schema": {"type": "object"}}})
    }

    #[test]
    fn classify_decides_and_refuses() {
        let mut defaulted = crd(json!([v("v1", true, true)]), &["v1"]);
        defaulted["spec"]["conversion"] = json!({"strategy": "None"});
        defaulted["spec"]["names"]["listKind"] = json!("WidgetList");
        type Case = (
            &'static str,
            Value,
            Value,
            Result<Option<Vec<&'static str>>, &'static str>,
        );
        let cases: Vec<Case> = vec![
            (
                "same spec plus server defaults: nothing to do",
                defaulted.clone(),
                crd(json!([v("v1", true, true)]), &[]),
                Ok(None),
            ),
            (
                "a version added",
                defaulted.clone(),
                crd(json!([v("v1", true, false), v("v2", true, true)]), &[]),
                Ok(Some(vec![])),
            ),
            (
                "a served version no longer served: its custom resources are checked",
                crd(json!([v("v1", true, false), v("v2", true, true)]), &["v2"]),
                crd(json!([v("v1", false, false), v("v2", true, true)]), &[]),
                Ok(Some(vec!["v1"])),
            ),
            (
                "a stored version dropped",
                crd(json!([v("v1", true, false), v("v2", true, true)]), &["v1", "v2"]),
                crd(json!([v("v2", true, true)]), &[]),
                Err("CustomResourceDefinition widgets.example.com: the chart drops version v1, which is still in status.storedVersions"),
            ),
        ];
        for (name, live, desired, want) in cases {
            let got = classify(&live, &desired);
            match want {
                Ok(None) => assert!(matches!(got, Ok(None)), "{name}: {got:?}"),
                Ok(Some(unserved)) => {
                    let u = got.unwrap_or_else(|e| panic!("{name}: {e}")).expect(name);
                    assert_eq!(u.unserved, unserved, "{name}");
                    let p = u.change.predicted.as_ref().expect("predicted");
                    assert_eq!(p["spec"]["versions"], desired["spec"]["versions"], "{name}");
                    assert_eq!(
                        p["spec"].get("conversion"),
                        live["spec"].get("conversion"),
                        "{name}: server defaults stay"
                    );
                    // Applying the patch to the live object gives the prediction.
                    let Action::Patch(patch) = &u.change.action else {
                        panic!("{name}: not a patch")
                    };
                    let mut patched = live.clone();
                    json_patch::patch(&mut patched, patch).expect("patch applies");
                    assert_eq!(&patched, p, "{name}");
                }
                Err(want) => {
                    let err = got.expect_err(name).to_string();
                    assert!(err.contains(want), "{name}: {err}");
                }
            }
        }
    }

    #[test]
    fn plan_crds_by_policy_and_usage() {
        let old = crd(json!([v("v1", true, true)]), &["v1"]);
        let new_version = crd(json!([v("v1", true, true), v("v2", true, false)]), &[]);
        let unserve_v1 = crd(json!([v("v1", false, false), v("v2", true, true)]), &[]);
        let mut absent = new_version.clone();
        absent["metadata"]["name"] = json!("gadgets.example.com");
        // (name, policy, installing, chart CRDs, a widget exists, want created, want updated, error)
        type Case = (
            &'static str,
            CrdPolicy,
            bool,
            Vec<Value>,
            bool,
            usize,
            usize,
            Option<&'static str>,
        );
        let cases: Vec<Case> = vec![
            (
                "skip",
                CrdPolicy::Skip,
                true,
                vec![absent.clone()],
                false,
                0,
                0,
                None,
            ),
            (
                "create on install",
                CrdPolicy::Create,
                true,
                vec![absent.clone(), new_version.clone()],
                false,
                1,
                0,
                None,
            ),
            (
                "create on upgrade",
                CrdPolicy::Create,
                false,
                vec![absent.clone()],
                false,
                0,
                0,
                None,
            ),
            (
                "update",
                CrdPolicy::Update,
                false,
                vec![absent.clone(), new_version.clone()],
                false,
                1,
                1,
                None,
            ),
            (
                "unserving an unused version",
                CrdPolicy::Update,
                false,
                vec![unserve_v1.clone()],
                false,
                0,
                1,
                None,
            ),
            (
                "unserving a used version",
                CrdPolicy::Update,
                false,
                vec![unserve_v1.clone()],
                true,
                0,
                0,
                Some(
                    "the chart stops serving version v1, which 1 custom resource(s) still use (Widget ns/w)",
                ),
            ),
        ];
        for (name, policy, installing, docs, widget, created, updated, err) in cases {
            let fake = FakeCluster::new("default");
            fake.add_kind("example.com/v1", "Widget", "widgets", true);
            fake.insert(old.clone()).expect("live CRD");
            if widget {
                fake.insert(json!({"apiVersion": "example.com/v1", "kind": "Widget",
                    "metadata": {"name": "w", "namespace": "ns"}}))
                    .expect("widget");
            }
            let got = tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("runtime")
                .block_on(plan_crds(&fake, &docs, policy, installing));
            match err {
                None => {
                    let p = got.unwrap_or_else(|e| panic!("{name}: {e}"));
                    assert_eq!((p.create.len(), p.update.len()), (created, updated), "{name}");
                }
                Some(want) => {
                    let e = got.expect_err(name).to_string();
                    assert!(e.contains(want), "{name}: {e}");
                }
            }
        }
    }
}
