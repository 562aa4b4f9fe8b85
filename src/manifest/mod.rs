//! Stages 4 and 5: split rendered files into documents, tell hooks from plain manifests, and put
//! them in Helm's install order.
//!
//! This follows helm v3.17 `pkg/releaseutil` exactly, because `helm template` output (and so every
//! byte-for-byte comparison) is made of it: files in path order, documents split on Helm's `---`
//! rule and trimmed, a stable sort by kind rank ([`INSTALL_ORDER`]), unknown kinds last in name order.
//!
//! Entry point: [`sort_manifests`].

mod order;

pub use order::{INSTALL_ORDER, UNINSTALL_ORDER};

use std::{collections::BTreeMap, sync::LazyLock};

use regex::Regex;

/// The parts of a document Helm looks at before sending it anywhere.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Head {
    /// `apiVersion`
    pub api_version: String,
    /// `kind`
    pub kind: String,
    /// `metadata.name`
    pub name: String,
    /// `metadata.annotations` (string values only, as Helm decodes them)
    pub annotations: BTreeMap<String, String>,
}

/// A rendered document that is not a hook.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// Template path it came from (`chart/templates/x.yaml`).
    pub path: String,
    /// The document text, trimmed.
    pub content: String,
    /// Its head.
    pub head: Head,
    /// The parsed document.
    pub doc: serde_json::Value,
}

/// A document annotated with `helm.sh/hook`.
#[derive(Debug, Clone)]
pub struct Hook {
    /// The manifest itself.
    pub manifest: Manifest,
    /// Hook events (`pre-install`, ...), lowercased.
    pub events: Vec<String>,
    /// `helm.sh/hook-weight` (0 when absent or not an integer).
    pub weight: i64,
    /// `helm.sh/hook-delete-policy` entries.
    pub delete_policies: Vec<String>,
}

/// A rendered document that is not valid YAML.
#[derive(Debug, thiserror::Error)]
#[error("YAML parse error on {path}: {message}")]
pub struct Error {
    /// Template path.
    pub path: String,
    /// The parser's message with line and column within the document.
    pub message: String,
}

/// The hook annotation.
pub const HOOK_ANNOTATION: &str = "helm.sh/hook";
/// The hook weight annotation.
pub const HOOK_WEIGHT_ANNOTATION: &str = "helm.sh/hook-weight";
/// The hook delete policy annotation.
pub const HOOK_DELETE_ANNOTATION: &str = "helm.sh/hook-delete-policy";

/// Hook events Helm knows; a document naming any other is skipped, as Helm does.
const HOOK_EVENTS: &[&str] = &[
    "pre-install",
    "post-install",
    "pre-delete",
    "post-delete",
    "pre-upgrade",
    "post-upgrade",
    "pre-rollback",
    "post-rollback",
    "test",
    "test-success",
];

static SEPARATOR: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?:^|\s*\n)---\s*").expect("static regex"));

/// Helm's `SplitManifests`: documents of one file, trimmed, empty ones dropped.
pub fn split_documents(text: &str) -> Vec<&str> {
    SEPARATOR
        .split(text.trim())
        .filter(|d| !d.is_empty())
        .map(str::trim)
        .collect()
}

/// Splits every rendered file, separates hooks, and orders both by kind for install.
/// Partials and empty files are skipped. Returns (hooks, manifests).
pub fn sort_manifests(files: &BTreeMap<String, String>) -> Result<(Vec<Hook>, Vec<Manifest>), Error> {
    let mut hooks = Vec::new();
    let mut generic = Vec::new();
    for (path, content) in files {
        if path.rsplit('/').next().is_some_and(|b| b.starts_with('_')) || content.trim().is_empty() {
            continue;
        }
        for doc_text in split_documents(content) {
            let doc = parse_one(doc_text, path)?;
            let head = head_of(&doc);
            let manifest = Manifest {
                path: path.clone(),
                content: doc_text.to_string(),
                head,
                doc,
            };
            let Some(hook_types) = manifest.head.annotations.get(HOOK_ANNOTATION).cloned() else {
                generic.push(manifest);
                continue;
            };
            let events: Vec<String> = hook_types.split(',').map(|h| h.trim().to_lowercase()).collect();
            if events.iter().any(|e| !HOOK_EVENTS.contains(&e.as_str())) {
                tracing::info!("skipping unknown hook: {hook_types:?}");
                continue;
            }
            let weight = manifest
                .head
                .annotations
                .get(HOOK_WEIGHT_ANNOTATION)
                .and_then(|w| w.parse::<i64>().ok())
                .unwrap_or(0);
            let delete_policies = manifest
                .head
                .annotations
                .get(HOOK_DELETE_ANNOTATION)
                .map(|p| p.split(',').map(|x| x.trim().to_lowercase()).collect())
                .unwrap_or_default();
            hooks.push(Hook {
                manifest,
                events,
                weight,
                delete_policies,
            });
        }
    }
    generic.sort_by(|a, b| order::compare_kinds(&a.head.kind, &b.head.kind, INSTALL_ORDER));
    hooks.sort_by(|a, b| order::compare_kinds(&a.manifest.head.kind, &b.manifest.head.kind, INSTALL_ORDER));
    Ok((hooks, generic))
}

fn parse_one(text: &str, path: &str) -> Result<serde_json::Value, Error> {
    let mut docs = crate::yaml::parse_documents(text, path).map_err(|e| Error {
        path: path.to_string(),
        message: e.to_string(),
    })?;
    Ok(if docs.is_empty() {
        serde_json::Value::Null
    } else {
        docs.swap_remove(0)
    })
}

fn head_of(doc: &serde_json::Value) -> Head {
    let s = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).unwrap_or("").to_string();
    let meta = doc.get("metadata");
    let annotations = meta
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.as_object())
        .map(|a| {
            a.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    Head {
        api_version: s(doc.get("apiVersion")),
        kind: s(doc.get("kind")),
        name: s(meta.and_then(|m| m.get("name"))),
        annotations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_like_helm() {
        let cases: &[(&str, &str, &[&str])] = &[
            ("single", "a: 1\n", &["a: 1"]),
            ("leading separator", "---\na: 1\n---\nb: 2", &["a: 1", "b: 2"]),
            ("empty docs dropped", "---\na: 1\n---\n", &["a: 1"]),
            // After a separator eats its newline, a second `---` right after it is no longer at a
            // line start for the regex, so Helm keeps it in the next document (checked with
            // helm 3.17.2); so do we.
            (
                "adjacent separators",
                "a: 1\n---\n---\nb: 2\n---\n\n---\nc: 3",
                &["a: 1", "---\nb: 2", "---\nc: 3"],
            ),
            ("comment-only doc kept", "# c\n---\na: 1", &["# c", "a: 1"]),
            (
                "separator with trailing text stays split",
                "a: 1\n--- \nb: 2",
                &["a: 1", "b: 2"],
            ),
        ];
        for (name, input, want) in cases {
            assert_eq!(split_documents(input), *want, "{name}");
        }
    }
}
