//! Stages 4 and 5: split rendered files into documents, tell hooks from plain manifests, and put
//! them in Helm's install order.
//!
//! This follows helm v3.17 `pkg/releaseutil` exactly, because `helm template` output (and so every
//! byte-for-byte comparison) is made of it: files in path order, documents split on Helm's `---`
//! rule and trimmed, a stable sort by kind rank ([`INSTALL_ORDER`]), unknown kinds last in name order.
//!
//! Entry point: [`sort_manifests`]. Declared ordering (the `config.kubernetes.io/depends-on`
//! annotation, resolved into levels the apply stage follows) is [`dependency_levels`].

mod depends;
mod hook;
mod order;
pub mod patch;

pub use depends::{
    dependency_levels, parse_depends_on, Error as DependsError, Levels, Node, Reference,
    DEPENDS_ON_ANNOTATION,
};
pub use hook::HookEvent;
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
    /// go-yaml's message, as Helm prints it (`error converting YAML to JSON: yaml: line 2: …`).
    pub message: String,
}

/// The hook annotation.
pub const HOOK_ANNOTATION: &str = "helm.sh/hook";
/// The hook weight annotation.
pub const HOOK_WEIGHT_ANNOTATION: &str = "helm.sh/hook-weight";
/// The hook delete policy annotation.
pub const HOOK_DELETE_ANNOTATION: &str = "helm.sh/hook-delete-policy";

/// Helm's separator, `(?:^|\s*\n)---\s*` in Go's RE2, where `\s` is ASCII whitespace; spelled out
/// as a class here, because the `regex` crate's `\s` is Unicode (also matching U+00A0 and friends)
/// and compiling its tables costs more than the whole split on most charts.
const SEPARATOR_PATTERN: &str = r"(?:^|[\t\n\f\r ]*\n)---[\t\n\f\r ]*";
static SEPARATOR: LazyLock<Regex> = LazyLock::new(|| Regex::new(SEPARATOR_PATTERN).expect("static regex"));

/// Helm's `SplitManifests`: documents of one file, trimmed, empty ones dropped.
pub fn split_documents(text: &str) -> Vec<&str> {
    SEPARATOR
        .split(text.trim())
        .filter(|d| !d.is_empty())
        .map(str::trim)
        .collect()
}

/// [`split_documents`] of bytes that need not be UTF-8: a post-renderer's output, which Helm's
/// `template --show-only` splits as a Go string (trimmed with Go's `strings.TrimSpace`).
pub fn split_document_bytes(text: &[u8]) -> Vec<&[u8]> {
    static SEPARATOR_BYTES: LazyLock<regex::bytes::Regex> =
        LazyLock::new(|| regex::bytes::Regex::new(SEPARATOR_PATTERN).expect("static regex"));
    let trim = gotemplate::gostr::trim_space_bytes;
    SEPARATOR_BYTES
        .split(trim(text))
        .filter(|d| !d.is_empty())
        .map(trim)
        .collect()
}

/// Splits every rendered file, separates hooks, and orders both by kind for install.
/// Partials and empty files are skipped. Returns (hooks, manifests).
///
/// Every document is checked to be valid YAML (reading only its head), on all cores: on large charts
/// this is as much work as rendering.
pub fn sort_manifests(files: &BTreeMap<String, String>) -> Result<(Vec<Hook>, Vec<Manifest>), Error> {
    let docs: Vec<(&str, &str)> = files
        .iter()
        .filter(|(path, content)| is_manifest_file(path, content))
        .flat_map(|(path, content)| {
            split_documents(content)
                .into_iter()
                .map(move |d| (path.as_str(), d))
        })
        .collect();
    let heads = scan_heads(&docs)?;
    let manifests = docs
        .into_iter()
        .zip(heads)
        .map(|((path, doc), head)| Manifest {
            path: path.to_string(),
            content: doc.to_string(),
            head,
        })
        .collect();
    Ok(classify(manifests))
}

/// Whether a rendered file contributes documents (partials and blank files do not).
fn is_manifest_file(path: &str, content: &str) -> bool {
    !path.rsplit('/').next().is_some_and(|b| b.starts_with('_')) && !content.trim().is_empty()
}

/// One rendered file's documents with their heads, checked to be valid YAML: the unit of work
/// a caller can run while the next file renders. Empty for partials and blank files.
pub fn scan_file(path: &str, content: &str) -> Result<Vec<Manifest>, Error> {
    if !is_manifest_file(path, content) {
        return Ok(Vec::new());
    }
    split_documents(content)
        .into_iter()
        .map(|doc| {
            let h = crate::yaml::scan_head(doc, path).map_err(|e| Error {
                path: path.to_string(),
                message: crate::yaml::go_error(doc, &e),
            })?;
            let head = Head {
                api_version: h.api_version,
                kind: h.kind,
                name: h.name,
                annotations: h.annotations,
            };
            Ok(Manifest {
                path: path.to_string(),
                content: doc.to_string(),
                head,
            })
        })
        .collect()
}

/// Files scanned with [`scan_file`], by path, into (hooks, manifests) in install order — the same
/// result as [`sort_manifests`] on the files.
pub fn sort_scanned(files: BTreeMap<String, Vec<Manifest>>) -> (Vec<Hook>, Vec<Manifest>) {
    classify(files.into_values().flatten().collect())
}

/// Documents in file path order (as [`sort_scanned`] flattens them, after patches changed or
/// dropped some) into (hooks, manifests) in install order.
pub fn sort_documents(documents: Vec<Manifest>) -> (Vec<Hook>, Vec<Manifest>) {
    classify(documents)
}

/// Helm's install order of two kinds (a stable sort with it keeps same-kind documents in order).
pub fn compare_install_order(a: &str, b: &str) -> std::cmp::Ordering {
    order::compare_kinds(a, b, INSTALL_ORDER)
}

/// Separates hooks (dropping unknown hook events, as Helm does) and sorts both by kind.
fn classify(documents: Vec<Manifest>) -> (Vec<Hook>, Vec<Manifest>) {
    let mut hooks = Vec::new();
    let mut generic = Vec::new();
    for manifest in documents {
        let Some(hook_types) = manifest.head.annotations.get(HOOK_ANNOTATION).cloned() else {
            generic.push(manifest);
            continue;
        };
        let events: Vec<String> = hook_types.split(',').map(|h| h.trim().to_lowercase()).collect();
        // A document naming any event Helm does not know is skipped, as Helm does.
        if events.iter().any(|e| HookEvent::parse(e).is_none()) {
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
    generic.sort_by(|a, b| order::compare_kinds(&a.head.kind, &b.head.kind, INSTALL_ORDER));
    hooks.sort_by(|a, b| order::compare_kinds(&a.manifest.head.kind, &b.manifest.head.kind, INSTALL_ORDER));
    (hooks, generic)
}

/// Heads of all documents, in order, scanned in parallel chunks; the first error in document
/// order wins, so the message does not depend on scheduling.
fn scan_heads(docs: &[(&str, &str)]) -> Result<Vec<Head>, Error> {
    let scan = |(path, text): &(&str, &str)| -> Result<Head, Error> {
        let h = crate::yaml::scan_head(text, path).map_err(|e| Error {
            path: path.to_string(),
            message: crate::yaml::go_error(text, &e),
        })?;
        Ok(Head {
            api_version: h.api_version,
            kind: h.kind,
            name: h.name,
            annotations: h.annotations,
        })
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    let total: usize = docs.iter().map(|d| d.1.len()).sum();
    if threads == 1 || total < 256 * 1024 {
        return docs.iter().map(scan).collect();
    }
    // Chunks of about equal bytes: a few huge CRDs would otherwise land on one thread.
    let mut chunks: Vec<&[(&str, &str)]> = Vec::with_capacity(threads);
    let (mut start, mut acc) = (0, 0);
    for (i, d) in docs.iter().enumerate() {
        acc += d.1.len();
        if acc >= total.div_ceil(threads) && chunks.len() + 1 < threads {
            chunks.push(&docs[start..=i]);
            (start, acc) = (i + 1, 0);
        }
    }
    chunks.push(&docs[start..]);
    std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|c| s.spawn(move || c.iter().map(scan).collect::<Vec<_>>()))
            .collect();
        let mut out = Vec::with_capacity(docs.len());
        for h in handles {
            for r in h.join().expect("scan thread panicked") {
                out.push(r?);
            }
        }
        Ok(out)
    })
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
            let bytes: Vec<&[u8]> = want.iter().map(|d| d.as_bytes()).collect();
            assert_eq!(split_document_bytes(input.as_bytes()), bytes, "{name} as bytes");
        }
    }

    #[test]
    fn split_bytes_that_are_not_utf8() {
        // A post-renderer's Latin-1 output: the bad bytes stay in their documents, verbatim.
        let input: &[u8] = b"\n---\nname: caf\xe9\n---\n\xff\n";
        let want: &[&[u8]] = &[b"name: caf\xe9", b"\xff"];
        assert_eq!(split_document_bytes(input), want);
    }
}
