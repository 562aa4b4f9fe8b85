//! Stage 6, pure: from three copies of every object (what we applied last, what the chart renders
//! now, what the cluster holds) to a [`Plan`] of changes, each with the RFC 6902 patch that apply
//! will send, and views of that plan for people and machines.
//!
//! The three-way rule is the one kubectl's client-side apply and Helm 3 follow (see
//! `shared/notes/anchors.md` §3): fields we declare are set, fields we used to declare and dropped
//! are removed, and everything else on the live object (status, server defaults, fields written by
//! controllers or other tools) is left alone. Unlike Helm 3 it also holds for custom resources, and
//! it emits a JSON patch (not a strategic merge patch) so the same algorithm serves every kind; lists
//! of maps are merged by their Kubernetes merge keys ([`MergeKeys`]).
//!
//! Nothing here talks to a cluster, reads a clock or touches files: the caller fetches live objects
//! and OpenAPI documents and passes them in, and gets strings back. Start with [`plan`], then
//! [`render`].

mod mask;
mod merge_keys;
mod plan;
#[cfg(test)]
mod property_tests;
mod three_way;
mod view;

pub use mask::{mask_patch, mask_secret_pair, SECRET_MASK};
pub use merge_keys::{Gvk, ListType, MergeKeys};
pub use plan::{plan, Action, Change, Inputs, ObjectRef, Plan};
pub use three_way::{predict, strip_nulls, three_way_patch, ThreeWay};
pub use view::{render, render_order, Color, OrderStep, OutputKind, ViewOptions};

/// Annotation that keeps an object when it leaves the chart (Helm's `resource-policy`,
/// `helm3:pkg/kube/resource_policy.go`).
pub const RESOURCE_POLICY_ANNOTATION: &str = "helm.sh/resource-policy";

/// The value of [`RESOURCE_POLICY_ANNOTATION`] that means "never prune".
pub const KEEP_POLICY: &str = "keep";

/// kubectl's client-side apply record; we never write it, and a diff must not show it.
pub const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// `metadata` fields the API server owns. They are never patched and never shown: a rendered
/// manifest has no business setting them (`creationTimestamp: null` is common in generated YAML),
/// and on a live object they change on every write (`k8s:apimachinery/pkg/apis/meta/v1/types.go`
/// marks them read-only).
pub const SERVER_MANAGED_METADATA: &[&str] = &[
    "managedFields",
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "generation",
    "selfLink",
];

/// Top-level fields written only by the server or controllers. `status` is a subresource on every
/// built-in kind with one, so a PATCH to the main resource ignores it anyway.
pub const SERVER_MANAGED_TOP_LEVEL: &[&str] = &["status"];

/// Errors of the diff stage.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An object lacks something that identifies it.
    #[error("object has no {field}")]
    MissingField {
        /// The dotted path of the missing field (`metadata.name`).
        field: &'static str,
    },
    /// The same object was given twice in one role.
    #[error("{id} appears twice in the {role} objects")]
    Duplicate {
        /// The object, as the diff header prints it.
        id: String,
        /// `original`, `desired` or `live`.
        role: &'static str,
    },
    /// A computed patch did not apply to the object it was computed from; a bug in this module.
    #[error("predicting {id}: {message}")]
    Predict {
        /// The object, as the diff header prints it.
        id: String,
        /// What `json_patch` reported.
        message: String,
    },
    /// An OpenAPI document had an unexpected shape.
    #[error("reading openapi document: {0}")]
    OpenApi(String),
}

/// Removes [`SERVER_MANAGED_METADATA`] and [`SERVER_MANAGED_TOP_LEVEL`] fields from an object, and
/// with `drop_last_applied` also [`LAST_APPLIED_ANNOTATION`] (dropping `annotations` if it empties).
pub(crate) fn strip_server_fields(obj: &mut serde_json::Value, drop_last_applied: bool) {
    let Some(map) = obj.as_object_mut() else {
        return;
    };
    for k in SERVER_MANAGED_TOP_LEVEL {
        map.remove(*k);
    }
    let Some(meta) = map.get_mut("metadata").and_then(|m| m.as_object_mut()) else {
        return;
    };
    for k in SERVER_MANAGED_METADATA {
        meta.remove(*k);
    }
    if drop_last_applied {
        let empty = match meta.get_mut("annotations").and_then(|a| a.as_object_mut()) {
            // Only an annotations map that held nothing but the record goes, so `{}` written by
            // the chart still shows.
            Some(ann) => ann.remove(LAST_APPLIED_ANNOTATION).is_some() && ann.is_empty(),
            None => false,
        };
        if empty {
            meta.remove("annotations");
        }
    }
}
