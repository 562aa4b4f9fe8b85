//! Declared ordering: the `config.kubernetes.io/depends-on` annotation (kpt / cli-utils format),
//! resolved against the objects of one release into dependency levels.
//!
//! The annotation lists objects, comma-separated, as `<group>/namespaces/<namespace>/<kind>/<name>`
//! (namespaced) or `<group>/<kind>/<name>` (cluster-scoped); the core group is empty, so a
//! ConfigMap is `/namespaces/ns/ConfigMap/name`. Versions are not part of a reference, as in
//! cli-utils: an object is the same whatever version it is sent as.
//!
//! [`dependency_levels`] gives each object a level: 0 for one that depends on nothing, else one more
//! than the highest level among its dependencies. The apply stage writes level by level (kind order
//! inside a level) and waits for the dependencies of the next level to be ready, as kpt's apply
//! groups do. Objects without the annotation all stay at level 0, so a chart that does not use it
//! keeps Helm's kind order exactly.
//!
//! Everything here is pure: a reference to an object that is not in the release, a malformed
//! reference and a cycle are errors that name the objects, found before anything is written.
//! HIP-0025 (Helm's draft for the same) has not settled its annotation names; only this one is read.

use std::collections::BTreeSet;
use std::fmt;

/// The annotation naming the objects one depends on.
pub const DEPENDS_ON_ANNOTATION: &str = "config.kubernetes.io/depends-on";

/// One object of the release, as ordering sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Node<'a> {
    /// API group, empty for the core group.
    pub group: &'a str,
    /// Kind.
    pub kind: &'a str,
    /// Namespace, empty for cluster-scoped objects.
    pub namespace: &'a str,
    /// `metadata.name`.
    pub name: &'a str,
    /// The value of [`DEPENDS_ON_ANNOTATION`], if the object has it.
    pub depends_on: Option<&'a str>,
}

impl fmt::Display for Node<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{} {}", self.kind, self.name)
        } else {
            write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// One parsed entry of the annotation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Reference {
    /// API group, empty for the core group.
    pub group: String,
    /// Kind.
    pub kind: String,
    /// Namespace; `None` for the cluster-scoped form.
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
}

impl fmt::Display for Reference {
    /// The annotation's own spelling, so a message shows what the user wrote.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{}/namespaces/{ns}/{}/{}", self.group, self.kind, self.name),
            None => write!(f, "{}/{}/{}", self.group, self.kind, self.name),
        }
    }
}

impl Reference {
    fn matches(&self, n: &Node<'_>) -> bool {
        self.group == n.group
            && self.kind == n.kind
            && self.name == n.name
            && self.namespace.as_deref().unwrap_or("") == n.namespace
    }
}

/// Why the declared order cannot be followed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// An entry of the annotation is not in either form.
    #[error(
        "{object}: annotation {DEPENDS_ON_ANNOTATION}: {entry:?} is not <group>/namespaces/<namespace>/<kind>/<name> or <group>/<kind>/<name>"
    )]
    Malformed {
        /// The annotated object, as `Kind ns/name`.
        object: String,
        /// The entry as written.
        entry: String,
    },
    /// A reference names no object of the release.
    #[error(
        "{object}: annotation {DEPENDS_ON_ANNOTATION}: {reference} is not an object of this release{hint}"
    )]
    Missing {
        /// The annotated object, as `Kind ns/name`.
        object: String,
        /// The reference, as written (boxed: it would make every `Result` of this error large).
        reference: Box<Reference>,
        /// A hint when the reference only got the scope wrong.
        hint: String,
    },
    /// The dependencies form a cycle.
    #[error("annotation {DEPENDS_ON_ANNOTATION} forms a cycle: {}", .cycle.join(" -> "))]
    Cycle {
        /// The objects of the cycle in dependency order, the first repeated at the end.
        cycle: Vec<String>,
    },
}

/// Parses the annotation's value; empty entries (a trailing comma) are skipped.
pub fn parse_depends_on(value: &str) -> Result<Vec<Reference>, String> {
    let mut out = Vec::new();
    for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let parts: Vec<&str> = entry.split('/').collect();
        let r = match parts.as_slice() {
            [group, kind, name] => Reference {
                group: group.to_string(),
                kind: kind.to_string(),
                namespace: None,
                name: name.to_string(),
            },
            [group, "namespaces", ns, kind, name] => Reference {
                group: group.to_string(),
                kind: kind.to_string(),
                namespace: Some(ns.to_string()),
                name: name.to_string(),
            },
            _ => return Err(entry.to_string()),
        };
        // A kind, a name and (when given) a namespace are never empty; the group may be (core).
        if r.kind.is_empty() || r.name.is_empty() || r.namespace.as_deref() == Some("") {
            return Err(entry.to_string());
        }
        out.push(r);
    }
    Ok(out)
}

/// The resolved order of a release's objects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Levels {
    /// For each node (by index), the indexes of the nodes it depends on, ascending.
    pub dependencies: Vec<Vec<usize>>,
    /// For each node, its level: 0 without dependencies, else 1 + the highest level among them.
    pub level: Vec<usize>,
}

impl Levels {
    /// Whether any object declares a dependency.
    pub fn is_ordered(&self) -> bool {
        self.level.iter().any(|l| *l > 0)
    }

    /// The highest level (0 for an empty release).
    pub fn max_level(&self) -> usize {
        self.level.iter().copied().max().unwrap_or(0)
    }
}

/// Resolves every node's annotation against `nodes` (every reference must name one of them) and
/// computes their levels.
pub fn dependency_levels(nodes: &[Node<'_>]) -> Result<Levels, Error> {
    let mut dependencies = Vec::with_capacity(nodes.len());
    for n in nodes {
        let refs = match n.depends_on {
            Some(v) => parse_depends_on(v).map_err(|entry| Error::Malformed {
                object: n.to_string(),
                entry,
            })?,
            None => Vec::new(),
        };
        let mut deps = BTreeSet::new();
        for r in refs {
            match nodes.iter().position(|m| r.matches(m)) {
                Some(i) => {
                    deps.insert(i);
                }
                None => {
                    return Err(Error::Missing {
                        object: n.to_string(),
                        hint: scope_hint(&r, nodes),
                        reference: Box::new(r),
                    })
                }
            }
        }
        dependencies.push(deps.into_iter().collect::<Vec<_>>());
    }
    let level = levels(&dependencies).map_err(|cycle| Error::Cycle {
        cycle: cycle.iter().map(|i| nodes[*i].to_string()).collect(),
    })?;
    Ok(Levels { dependencies, level })
}

/// When the reference would match with the other scope, says how to write it.
fn scope_hint(r: &Reference, nodes: &[Node<'_>]) -> String {
    let other = nodes
        .iter()
        .find(|m| m.group == r.group && m.kind == r.kind && m.name == r.name);
    match (other, &r.namespace) {
        (Some(m), None) if !m.namespace.is_empty() => format!(
            " (it is namespaced: write {}/namespaces/{}/{}/{})",
            r.group, m.namespace, r.kind, r.name
        ),
        (Some(m), Some(_)) if m.namespace.is_empty() => {
            format!(" (it is cluster-scoped: write {}/{}/{})", r.group, r.kind, r.name)
        }
        (Some(m), Some(_)) => format!(" (the release has it in namespace {})", m.namespace),
        _ => String::new(),
    }
}

/// Kahn's algorithm over `deps`; on a cycle, returns one cycle (first node repeated at the end).
fn levels(deps: &[Vec<usize>]) -> Result<Vec<usize>, Vec<usize>> {
    let n = deps.len();
    let mut level: Vec<Option<usize>> = vec![None; n];
    let mut remaining = n;
    loop {
        let mut progressed = false;
        for i in 0..n {
            if level[i].is_some() {
                continue;
            }
            let resolved: Option<Vec<usize>> = deps[i].iter().map(|d| level[*d]).collect();
            if let Some(ls) = resolved {
                level[i] = Some(ls.into_iter().max().map_or(0, |m| m + 1));
                remaining -= 1;
                progressed = true;
            }
        }
        if remaining == 0 {
            return Ok(level.into_iter().flatten().collect());
        }
        if !progressed {
            break;
        }
    }
    // Every unresolved node has an unresolved dependency, so following those from any of them
    // must come back to a node already seen: that loop is a cycle.
    let start = (0..n).find(|i| level[*i].is_none()).expect("an unresolved node");
    let mut path = vec![start];
    loop {
        let last = *path.last().expect("non-empty path");
        let next = *deps[last]
            .iter()
            .find(|d| level[**d].is_none())
            .expect("an unresolved dependency");
        if let Some(at) = path.iter().position(|p| *p == next) {
            let mut cycle = path[at..].to_vec();
            cycle.push(next);
            return Err(cycle);
        }
        path.push(next);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node<'a>(kind: &'a str, ns: &'a str, name: &'a str, depends_on: Option<&'a str>) -> Node<'a> {
        let group = match kind {
            "Deployment" | "StatefulSet" => "apps",
            "Widget" => "example.com",
            "ClusterRole" => "rbac.authorization.k8s.io",
            _ => "",
        };
        Node {
            group,
            kind,
            namespace: ns,
            name,
            depends_on,
        }
    }

    #[test]
    fn parses_both_forms() {
        type Case = (
            &'static str,
            &'static str,
            Result<Vec<(&'static str, &'static str, Option<&'static str>, &'static str)>, &'static str>,
        );
        let cases: &[Case] = &[
            (
                "namespaced core",
                "/namespaces/ns/ConfigMap/cfg",
                Ok(vec![("", "ConfigMap", Some("ns"), "cfg")]),
            ),
            (
                "cluster-scoped with group",
                "rbac.authorization.k8s.io/ClusterRole/admin",
                Ok(vec![("rbac.authorization.k8s.io", "ClusterRole", None, "admin")]),
            ),
            (
                "two, spaces and a trailing comma",
                " apps/namespaces/a/Deployment/db ,/Namespace/a, ",
                Ok(vec![
                    ("apps", "Deployment", Some("a"), "db"),
                    ("", "Namespace", None, "a"),
                ]),
            ),
            ("empty", "", Ok(vec![])),
            (
                "four parts",
                "apps/ns/Deployment/db",
                Err("apps/ns/Deployment/db"),
            ),
            ("name only", "db", Err("db")),
            ("empty kind", "apps//db", Err("apps//db")),
            (
                "empty namespace",
                "/namespaces//ConfigMap/c",
                Err("/namespaces//ConfigMap/c"),
            ),
            (
                "not namespaces",
                "/nmspaces/a/ConfigMap/c",
                Err("/nmspaces/a/ConfigMap/c"),
            ),
        ];
        for (name, input, want) in cases {
            let got = parse_depends_on(input);
            let want = want.clone().map(|v| {
                v.into_iter()
                    .map(|(g, k, ns, n)| Reference {
                        group: g.into(),
                        kind: k.into(),
                        namespace: ns.map(Into::into),
                        name: n.into(),
                    })
                    .collect::<Vec<_>>()
            });
            assert_eq!(got, want.map_err(ToString::to_string), "{name}");
            // What a reference prints is what parses back to it.
            for r in got.unwrap_or_default() {
                assert_eq!(parse_depends_on(&r.to_string()), Ok(vec![r.clone()]), "{name}");
            }
        }
    }

    #[test]
    fn levels_follow_declared_dependencies() {
        let cases: Vec<(&str, Vec<Node<'_>>, Vec<usize>)> = vec![
            (
                "no annotations: all level 0",
                vec![node("ConfigMap", "a", "x", None), node("Deployment", "a", "web", None)],
                vec![0, 0],
            ),
            (
                "chain of three and one independent",
                vec![
                    node("ConfigMap", "a", "third", Some("/namespaces/a/Secret/second")),
                    node("Secret", "a", "second", Some("apps/namespaces/a/Deployment/first")),
                    node("Deployment", "a", "first", None),
                    node("ConfigMap", "a", "alone", None),
                ],
                vec![2, 1, 0, 0],
            ),
            (
                "diamond takes the longest path",
                vec![
                    node("ConfigMap", "a", "top", None),
                    node("ConfigMap", "a", "left", Some("/namespaces/a/ConfigMap/top")),
                    node(
                        "ConfigMap",
                        "a",
                        "right",
                        Some("/namespaces/a/ConfigMap/left"),
                    ),
                    node(
                        "ConfigMap",
                        "a",
                        "bottom",
                        Some("/namespaces/a/ConfigMap/left,/namespaces/a/ConfigMap/right,/namespaces/a/ConfigMap/top"),
                    ),
                ],
                vec![0, 1, 2, 3],
            ),
            (
                "cluster-scoped dependency, duplicate reference",
                vec![
                    node("Namespace", "", "a", None),
                    node("ConfigMap", "a", "x", Some("/Namespace/a,/Namespace/a")),
                ],
                vec![0, 1],
            ),
        ];
        for (name, nodes, want) in cases {
            let got = dependency_levels(&nodes).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(got.level, want, "{name}");
            assert_eq!(got.is_ordered(), want.iter().any(|l| *l > 0), "{name}");
        }
    }

    #[test]
    fn bad_orders_are_errors_naming_the_objects() {
        let cases: Vec<(&str, Vec<Node<'_>>, &str)> = vec![
            (
                "missing object",
                vec![node("ConfigMap", "a", "x", Some("/namespaces/a/Secret/nope"))],
                "ConfigMap a/x: annotation config.kubernetes.io/depends-on: /namespaces/a/Secret/nope is not an object of this release",
            ),
            (
                "namespaced object named as cluster-scoped",
                vec![
                    node("ConfigMap", "a", "x", Some("/Secret/s")),
                    node("Secret", "a", "s", None),
                ],
                "/Secret/s is not an object of this release (it is namespaced: write /namespaces/a/Secret/s)",
            ),
            (
                "wrong namespace",
                vec![
                    node("ConfigMap", "a", "x", Some("/namespaces/b/Secret/s")),
                    node("Secret", "a", "s", None),
                ],
                "(the release has it in namespace a)",
            ),
            (
                "wrong group",
                vec![
                    node("ConfigMap", "a", "x", Some("extensions/namespaces/a/Deployment/d")),
                    node("Deployment", "a", "d", None),
                ],
                "extensions/namespaces/a/Deployment/d is not an object of this release",
            ),
            (
                "malformed",
                vec![node("ConfigMap", "a", "x", Some("Secret/s"))],
                "ConfigMap a/x: annotation config.kubernetes.io/depends-on: \"Secret/s\" is not <group>/namespaces/<namespace>/<kind>/<name> or <group>/<kind>/<name>",
            ),
            (
                "self",
                vec![node("ConfigMap", "a", "x", Some("/namespaces/a/ConfigMap/x"))],
                "forms a cycle: ConfigMap a/x -> ConfigMap a/x",
            ),
            (
                "cycle of three behind a dependent",
                vec![
                    node("ConfigMap", "a", "outside", Some("/namespaces/a/ConfigMap/p")),
                    node("ConfigMap", "a", "p", Some("/namespaces/a/ConfigMap/q")),
                    node("ConfigMap", "a", "q", Some("/namespaces/a/ConfigMap/r")),
                    node("ConfigMap", "a", "r", Some("/namespaces/a/ConfigMap/p")),
                    node("ConfigMap", "a", "fine", None),
                ],
                "forms a cycle: ConfigMap a/p -> ConfigMap a/q -> ConfigMap a/r -> ConfigMap a/p",
            ),
        ];
        for (name, nodes, want) in cases {
            let err = dependency_levels(&nodes).expect_err(name).to_string();
            assert!(err.contains(want), "{name}: {err}");
        }
    }
}
