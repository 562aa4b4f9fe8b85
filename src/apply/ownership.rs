//! Release ownership metadata: what marks an object as belonging to one release, and the check that
//! stops one release from silently taking over objects of another (or objects nobody manages).
//!
//! The keys are Helm's own (`helm3:pkg/action/validate.go`), so objects installed by Helm and by
//! kubectl-chart recognise each other: a Helm release can be upgraded by us and the other way round.
//!
//! Our adoption rule: an object that names another release (by either annotation) is taken only
//! with `--take-ownership` (as Helm 3.17 does); an object with no or incomplete ownership metadata
//! with `--adopt` or `--take-ownership`. Every object taken over is listed by [`takeovers`], so the
//! plan says which release loses it (Helm says nothing).

use serde_json::{Map, Value};

/// Label that says a Helm-compatible tool manages the object.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// The value of [`MANAGED_BY_LABEL`] (Helm's; kept so Helm users recognise our objects).
pub const MANAGED_BY_HELM: &str = "Helm";
/// Annotation naming the release that owns the object.
pub const RELEASE_NAME_ANNOTATION: &str = "meta.helm.sh/release-name";
/// Annotation naming the namespace of the release that owns the object.
pub const RELEASE_NAMESPACE_ANNOTATION: &str = "meta.helm.sh/release-namespace";

/// An existing object this release may not take over as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OwnershipError {
    /// The object's annotations name another release; never adopted.
    #[error(
        "{object} exists and cannot be imported into the current release: it belongs to release \"{release}\" in namespace \"{namespace}\""
    )]
    OwnedByOther {
        /// The object, as `Kind "name" in namespace "ns"` (Helm's `resourceString`).
        object: String,
        /// The owning release.
        release: String,
        /// The owning release's namespace.
        namespace: String,
    },
    /// The object carries no (or incomplete) ownership metadata; adopted only when asked to.
    #[error(
        "{object} exists and cannot be imported into the current release: invalid ownership metadata; {}; pass adopt (--take-ownership) to take it over",
        .problems.join("; ")
    )]
    Unowned {
        /// The object, as `Kind "name" in namespace "ns"`.
        object: String,
        /// What is missing or wrong, in Helm's words.
        problems: Vec<String>,
    },
}

/// Adds the ownership label and annotations to a rendered object, replacing any values the chart
/// set for those three keys. Apply it to DESIRED objects before diffing, so the plan carries them.
pub fn stamp_ownership(object: &mut Value, release: &str, namespace: &str) {
    let Some(obj) = object.as_object_mut() else {
        return;
    };
    let meta = map_at(obj, "metadata");
    map_at(meta, "labels").insert(MANAGED_BY_LABEL.into(), MANAGED_BY_HELM.into());
    let ann = map_at(meta, "annotations");
    ann.insert(RELEASE_NAME_ANNOTATION.into(), release.into());
    ann.insert(RELEASE_NAMESPACE_ANNOTATION.into(), namespace.into());
}

/// The map under `key`, created (or replacing a non-map, such as `labels: null`) when needed.
fn map_at<'a>(obj: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let slot = obj.entry(key).or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    match slot {
        Value::Object(m) => m,
        _ => unreachable!("just made an object"),
    }
}

/// Checks that `live` (an object in the cluster) belongs to `release` in `namespace`.
///
/// Errors: [`OwnershipError::OwnedByOther`] when an annotation names another release or namespace;
/// [`OwnershipError::Unowned`] when the label or an annotation is missing or the label has another
/// value (the caller decides whether to adopt).
pub fn check_ownership(live: &Value, release: &str, namespace: &str) -> Result<(), OwnershipError> {
    let label = |k: &str| {
        live.pointer("/metadata/labels")
            .and_then(|m| m.get(k))
            .and_then(Value::as_str)
    };
    let ann = |k: &str| {
        live.pointer("/metadata/annotations")
            .and_then(|m| m.get(k))
            .and_then(Value::as_str)
    };
    let object = resource_string(live);
    let (owner, owner_ns) = (ann(RELEASE_NAME_ANNOTATION), ann(RELEASE_NAMESPACE_ANNOTATION));
    if owner.is_some_and(|o| o != release) || owner_ns.is_some_and(|n| n != namespace) {
        return Err(OwnershipError::OwnedByOther {
            object,
            release: owner.unwrap_or(release).to_string(),
            namespace: owner_ns.unwrap_or(namespace).to_string(),
        });
    }
    let mut problems = Vec::new();
    // Messages as Helm's `requireValue` words them.
    let mut require = |what: &str, key: &str, got: Option<&str>, want: &str| match got {
        None => problems.push(format!(
            "{what} validation error: missing key {key:?}: must be set to {want:?}"
        )),
        Some(v) if v != want => problems.push(format!(
            "{what} validation error: key {key:?} must equal {want:?}: current value is {v:?}"
        )),
        Some(_) => {}
    };
    require(
        "label",
        MANAGED_BY_LABEL,
        label(MANAGED_BY_LABEL),
        MANAGED_BY_HELM,
    );
    require("annotation", RELEASE_NAME_ANNOTATION, owner, release);
    require("annotation", RELEASE_NAMESPACE_ANNOTATION, owner_ns, namespace);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(OwnershipError::Unowned { object, problems })
    }
}

/// The objects `plan` takes over from another release or from nobody, one line each, e.g.
/// `ConfigMap "web" in namespace "prod" (from release "old" in namespace "prod")`. Only patches
/// count: a create has nothing to take, and a prune of another release's object is refused.
pub fn takeovers(plan: &crate::diff::Plan, release: &str, namespace: &str) -> Vec<String> {
    plan.changes
        .iter()
        .filter(|c| matches!(c.action, crate::diff::Action::Patch(_)))
        .filter_map(|c| match check_ownership(c.live.as_ref()?, release, namespace) {
            Ok(()) => None,
            Err(OwnershipError::OwnedByOther {
                object,
                release,
                namespace,
            }) => Some(format!(
                "{object} (from release {release:?} in namespace {namespace:?})"
            )),
            Err(OwnershipError::Unowned { object, .. }) => Some(format!("{object} (it had no owner)")),
        })
        .collect()
}

/// `Kind "name" in namespace "ns"`, or `Kind "name"` for cluster-scoped objects (Helm's
/// `resourceString`).
fn resource_string(obj: &Value) -> String {
    let s = |p: &str| obj.pointer(p).and_then(Value::as_str).unwrap_or("");
    let (kind, name, ns) = (s("/kind"), s("/metadata/name"), s("/metadata/namespace"));
    if ns.is_empty() {
        format!("{kind} {name:?}")
    } else {
        format!("{kind} {name:?} in namespace {ns:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cm(labels: Value, annotations: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "web", "namespace": "prod", "labels": labels, "annotations": annotations}})
    }

    #[test]
    fn stamp_adds_helm_keys() {
        let cases = [
            ("bare", json!({"kind": "ConfigMap", "metadata": {"name": "a"}})),
            ("no metadata", json!({"kind": "ConfigMap"})),
            (
                "null labels",
                json!({"kind": "ConfigMap", "metadata": {"labels": null}}),
            ),
            (
                "chart sets another manager",
                json!({"kind": "ConfigMap", "metadata": {"labels": {"app.kubernetes.io/managed-by": "Tiller", "x": "1"}}}),
            ),
        ];
        for (name, mut obj) in cases {
            stamp_ownership(&mut obj, "rel", "prod");
            assert_eq!(obj["metadata"]["labels"][MANAGED_BY_LABEL], "Helm", "{name}");
            assert_eq!(
                obj["metadata"]["annotations"][RELEASE_NAME_ANNOTATION], "rel",
                "{name}"
            );
            assert_eq!(
                obj["metadata"]["annotations"][RELEASE_NAMESPACE_ANNOTATION], "prod",
                "{name}"
            );
            assert_eq!(check_ownership(&obj, "rel", "prod"), Ok(()), "{name}");
        }
    }

    #[test]
    fn takeovers_name_the_losing_release() {
        use crate::diff::{Action, Change, ObjectRef, Plan};
        let change = |name: &str, live: Option<Value>, action: Action| Change {
            id: ObjectRef::new("", "ConfigMap", "prod", name),
            api_version: "v1".into(),
            action,
            live,
            predicted: None,
            drift: Vec::new(),
        };
        let patch = || Action::Patch(json_patch::Patch(Vec::new()));
        let mut theirs = cm(json!({}), json!({}));
        stamp_ownership(&mut theirs, "old", "prod");
        let mut ours = cm(json!({}), json!({}));
        stamp_ownership(&mut ours, "rel", "prod");
        let plan = Plan {
            changes: vec![
                change("theirs", Some(theirs.clone()), patch()),
                change("nobody", Some(cm(json!({}), json!({}))), patch()),
                change("ours", Some(ours), patch()),
                change("new", None, Action::Create),
                // A prune is never a takeover, whoever owns the object.
                change("pruned", Some(theirs), Action::Delete),
            ],
        };
        assert_eq!(
            takeovers(&plan, "rel", "prod"),
            vec![
                r#"ConfigMap "web" in namespace "prod" (from release "old" in namespace "prod")"#.to_string(),
                r#"ConfigMap "web" in namespace "prod" (it had no owner)"#.to_string(),
            ]
        );
    }

    #[test]
    fn ownership_rules() {
        let owned = |rel: &str, ns: &str| {
            cm(
                json!({MANAGED_BY_LABEL: "Helm"}),
                json!({RELEASE_NAME_ANNOTATION: rel, RELEASE_NAMESPACE_ANNOTATION: ns}),
            )
        };
        // Unowned messages follow helm v3.17.2 `checkOwnership`/`requireValue` wording.
        let cases: Vec<(&str, Value, Result<(), String>)> = vec![
            ("ours", owned("rel", "prod"), Ok(())),
            (
                "other release",
                owned("other", "prod"),
                Err(r#"ConfigMap "web" in namespace "prod" exists and cannot be imported into the current release: it belongs to release "other" in namespace "prod""#.into()),
            ),
            (
                "same name other namespace",
                owned("rel", "staging"),
                Err(r#"ConfigMap "web" in namespace "prod" exists and cannot be imported into the current release: it belongs to release "rel" in namespace "staging""#.into()),
            ),
            (
                "unowned",
                cm(json!({}), json!({})),
                Err(concat!(
                    r#"ConfigMap "web" in namespace "prod" exists and cannot be imported into the current release: invalid ownership metadata; "#,
                    r#"label validation error: missing key "app.kubernetes.io/managed-by": must be set to "Helm"; "#,
                    r#"annotation validation error: missing key "meta.helm.sh/release-name": must be set to "rel"; "#,
                    r#"annotation validation error: missing key "meta.helm.sh/release-namespace": must be set to "prod"; "#,
                    "pass adopt (--take-ownership) to take it over"
                ).into()),
            ),
            (
                "annotated but managed by kapp",
                cm(
                    json!({MANAGED_BY_LABEL: "kapp"}),
                    json!({RELEASE_NAME_ANNOTATION: "rel", RELEASE_NAMESPACE_ANNOTATION: "prod"}),
                ),
                Err(concat!(
                    r#"ConfigMap "web" in namespace "prod" exists and cannot be imported into the current release: invalid ownership metadata; "#,
                    r#"label validation error: key "app.kubernetes.io/managed-by" must equal "Helm": current value is "kapp"; "#,
                    "pass adopt (--take-ownership) to take it over"
                ).into()),
            ),
        ];
        for (name, live, want) in cases {
            let got = check_ownership(&live, "rel", "prod").map_err(|e| e.to_string());
            assert_eq!(got, want, "{name}");
        }
    }
}
