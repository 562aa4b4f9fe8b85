//! The declared order of a [`Plan`]: its objects' `config.kubernetes.io/depends-on` annotations
//! resolved by [`manifest::dependency_levels`](crate::manifest::dependency_levels) into levels,
//! keyed by object. [`execute`](super::execute) writes one level after another; `diff` shows them.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::diff::{Action, Change, ObjectRef, Plan};
use crate::manifest::{dependency_levels, DependsError, Node, DEPENDS_ON_ANNOTATION};

/// Where each object of a plan goes in the declared order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeclaredOrder {
    /// Level of every object that has one (see [`crate::manifest::Levels`]); absent means 0.
    pub level: BTreeMap<ObjectRef, usize>,
    /// What each object depends on, for objects that declare dependencies.
    pub depends_on: BTreeMap<ObjectRef, Vec<ObjectRef>>,
}

impl DeclaredOrder {
    /// Resolves the annotations of every object the plan keeps in the release (creates, patches,
    /// unchanged objects). `done_before` are objects written by an earlier call (the `crds/` the
    /// upgrade sends before its hooks): they may be depended on, and count as ready.
    pub fn of(plan: &Plan, done_before: &BTreeSet<ObjectRef>) -> Result<DeclaredOrder, DependsError> {
        let kept: Vec<&Change> = plan
            .changes
            .iter()
            .filter(|c| matches!(c.action, Action::Create | Action::Patch(_) | Action::Noop))
            .collect();
        let in_plan: BTreeSet<&ObjectRef> = kept.iter().map(|c| &c.id).collect();
        let mut ids: Vec<&ObjectRef> = kept.iter().map(|c| &c.id).collect();
        let mut nodes: Vec<Node<'_>> = kept.iter().map(|c| node(&c.id, annotation(c))).collect();
        for id in done_before.iter().filter(|id| !in_plan.contains(id)) {
            ids.push(id);
            nodes.push(node(id, None));
        }
        let levels = dependency_levels(&nodes)?;
        let mut out = DeclaredOrder::default();
        if !levels.is_ordered() {
            return Ok(out);
        }
        for (i, id) in ids.iter().enumerate() {
            if levels.level[i] > 0 {
                out.level.insert((*id).clone(), levels.level[i]);
                out.depends_on.insert(
                    (*id).clone(),
                    levels.dependencies[i].iter().map(|d| ids[*d].clone()).collect(),
                );
            }
        }
        Ok(out)
    }

    /// The level of `id` (0 for objects that depend on nothing).
    pub fn level_of(&self, id: &ObjectRef) -> usize {
        self.level.get(id).copied().unwrap_or(0)
    }

    /// The highest level.
    pub fn max_level(&self) -> usize {
        self.level.values().copied().max().unwrap_or(0)
    }

    /// Whether any object declares a dependency.
    pub fn is_ordered(&self) -> bool {
        !self.level.is_empty()
    }
}

fn node<'a>(id: &'a ObjectRef, depends_on: Option<&'a str>) -> Node<'a> {
    Node {
        group: &id.group,
        kind: &id.kind,
        namespace: &id.namespace,
        name: &id.name,
        depends_on,
    }
}

/// The annotation as the object will be after the plan (the prediction; the live object when the
/// plan leaves it as it is).
fn annotation(c: &Change) -> Option<&str> {
    c.predicted
        .as_ref()
        .or(c.live.as_ref())?
        .pointer("/metadata/annotations")?
        .get(DEPENDS_ON_ANNOTATION)
        .and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn change(kind: &str, name: &str, depends_on: Option<&str>, action: Action) -> Change {
        let mut obj =
            json!({"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "namespace": "ns"}});
        if let Some(d) = depends_on {
            obj["metadata"]["annotations"] = json!({ DEPENDS_ON_ANNOTATION: d });
        }
        let (live, predicted) = match action {
            Action::Create => (None, Some(obj.clone())),
            Action::Noop | Action::Keep | Action::Delete => (Some(obj.clone()), None),
            Action::Patch(_) => (Some(obj.clone()), Some(obj.clone())),
        };
        Change {
            id: ObjectRef::new("", kind, "ns", name),
            api_version: "v1".into(),
            action,
            live,
            predicted,
            drift: Vec::new(),
        }
    }

    #[test]
    fn levels_by_object() {
        let id = |kind: &str, name: &str| ObjectRef::new("", kind, "ns", name);
        let crd = ObjectRef::new(
            "apiextensions.k8s.io",
            "CustomResourceDefinition",
            "",
            "w.example.com",
        );
        type Case = (
            &'static str,
            Vec<Change>,
            BTreeSet<ObjectRef>,
            Result<Vec<(ObjectRef, usize)>, &'static str>,
        );
        let cases: Vec<Case> = vec![
            (
                "no annotation: no order",
                vec![change("ConfigMap", "a", None, Action::Create)],
                BTreeSet::new(),
                Ok(vec![]),
            ),
            (
                "an unchanged dependency counts, its dependent gets level 1",
                vec![
                    change("ConfigMap", "a", Some("/namespaces/ns/Secret/s"), Action::Create),
                    change("Secret", "s", None, Action::Noop),
                ],
                BTreeSet::new(),
                Ok(vec![(id("ConfigMap", "a"), 1)]),
            ),
            (
                "an object being pruned is not in the release",
                vec![
                    change("ConfigMap", "a", Some("/namespaces/ns/Secret/s"), Action::Create),
                    change("Secret", "s", None, Action::Delete),
                ],
                BTreeSet::new(),
                Err("/namespaces/ns/Secret/s is not an object of this release"),
            ),
            (
                "a CRD sent earlier from crds/",
                vec![change(
                    "ConfigMap",
                    "a",
                    Some("apiextensions.k8s.io/CustomResourceDefinition/w.example.com"),
                    Action::Create,
                )],
                BTreeSet::from([crd.clone()]),
                Ok(vec![(id("ConfigMap", "a"), 1)]),
            ),
        ];
        for (name, changes, before, want) in cases {
            let got = DeclaredOrder::of(&Plan { changes }, &before);
            match want {
                Ok(want) => {
                    let got = got.unwrap_or_else(|e| panic!("{name}: {e}"));
                    assert_eq!(got.level.into_iter().collect::<Vec<_>>(), want, "{name}");
                }
                Err(want) => {
                    let err = got.expect_err(name).to_string();
                    assert!(err.contains(want), "{name}: {err}");
                }
            }
        }
    }
}
