//! Built-in patches (`--patch FILE`, `--set-image NAME=REF`): change rendered documents of a
//! third-party chart without forking it and without a post-renderer executable.
//!
//! A patch file is a YAML list of kustomize-style entries:
//!
//! ```yaml
//! - target: {kind: Deployment, name: web}          # also group, version, namespace, labelSelector
//!   patch:                                         # a list: RFC 6902 operations
//!     - {op: replace, path: /spec/replicas, value: 3}
//! - target: {kind: Deployment, name: web}
//!   patch:                                         # a map: a strategic-merge patch
//!     spec: {template: {spec: {containers: [{name: web, resources: {limits: {cpu: 500m}}}]}}}
//! ```
//!
//! Target fields are anchored regular expressions, as in kustomize (a plain name matches itself).
//! An object without `metadata.namespace` is in the release namespace. Every entry must match at
//! least one document: a target that matches nothing is an error naming it, so a typo cannot
//! silently skip a patch. Strategic merge follows `k8s.io/apimachinery` `strategicpatch`: maps
//! merge, `null` deletes a key, lists merge on the merge keys the caller supplies ([`ListMerges`],
//! which `diff::MergeKeys` implements for built-in kinds), other lists are replaced; the directives
//! `$patch: replace|delete|merge` (on maps, list elements and whole objects) and `$retainKeys` are
//! supported, `$setElementOrder/…` is accepted and ignored, `$deleteFromPrimitiveList/…` removes
//! scalars from a list.
//!
//! `--set-image` follows kustomize's `images:` transformer: containers and initContainers whose
//! image *name* (the reference without tag and digest) equals NAME get a new name, tag or digest.
//!
//! Only documents that a patch changes are re-encoded (as `toYaml` would print them); every other
//! document keeps its bytes. Entry points: [`PatchSet::load`], [`PatchSet::apply`].

use serde_json::{Map, Value};

use super::Manifest;

mod image;
mod strategic;
mod target;

use image::{parse_image, ImageSet};
use strategic::{check_directives, Smp};
use target::{parse_target, Target};

/// How a list in an object merges under a strategic-merge patch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListMerge {
    /// The patch's list replaces the object's.
    Replace,
    /// A set of scalars: the patch's values are added.
    Set,
    /// Maps merged element by element on these keys.
    Keys(Vec<String>),
}

/// Where merge keys come from: a field path from the object root (list indices left out) of a
/// kind to how that list merges.
pub trait ListMerges {
    /// How the list at `path` of an object of `api_version`/`kind` merges.
    fn list_merge(&self, api_version: &str, kind: &str, path: &[&str]) -> ListMerge;
}

/// No merge keys known: every list is replaced (what a JSON merge patch does).
pub struct NoListMerges;

impl ListMerges for NoListMerges {
    fn list_merge(&self, _: &str, _: &str, _: &[&str]) -> ListMerge {
        ListMerge::Replace
    }
}

/// A bad patch file, `--set-image` flag, or a patch that does not apply.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file cannot be read or is not YAML.
    #[error("patch file {file}: {message}")]
    File {
        /// The patch file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// One entry is malformed.
    #[error("patch file {file}: entry {index}: field {field}: {message}")]
    Entry {
        /// The patch file, with the entry's line when known (`p.yaml:12`).
        file: String,
        /// 0-based entry index.
        index: usize,
        /// The field, dotted (`target.kind`).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// An entry's target matches no rendered document.
    #[error("patch file {file}: entry {index}: target {target} matches no rendered object")]
    NoMatch {
        /// The patch file, with the entry's line when known.
        file: String,
        /// 0-based entry index.
        index: usize,
        /// The target, as written.
        target: String,
    },
    /// An entry does not apply to an object it targets.
    #[error("patch file {file}: entry {index}: patching {object}: {message}")]
    Apply {
        /// The patch file, with the entry's line when known.
        file: String,
        /// 0-based entry index.
        index: usize,
        /// `Kind namespace/name`.
        object: String,
        /// What failed.
        message: String,
    },
    /// A malformed `--set-image`.
    #[error("--set-image {arg:?}: {message}")]
    Image {
        /// The flag's value.
        arg: String,
        /// What is wrong.
        message: String,
    },
    /// A `--set-image` that matches no container.
    #[error("--set-image {arg:?}: no container or initContainer of a rendered object uses image {name:?}")]
    ImageNoMatch {
        /// The flag's value.
        arg: String,
        /// The image name looked for.
        name: String,
    },
    /// A rendered document could not be read for patching.
    #[error("patching {path}: {message}")]
    Document {
        /// Template path.
        path: String,
        /// The parser's message.
        message: String,
    },
}

/// What an entry does.
#[derive(Debug, Clone)]
enum Body {
    /// RFC 6902 operations.
    Json6902(json_patch::Patch),
    /// A strategic-merge patch.
    Strategic(Value),
}

#[derive(Debug, Clone)]
struct Entry {
    file: String,
    index: usize,
    target: Target,
    body: Body,
}

/// Every `--patch` entry and `--set-image`, in the order they apply: entries file by file, then
/// images.
#[derive(Debug, Clone, Default)]
pub struct PatchSet {
    entries: Vec<Entry>,
    images: Vec<ImageSet>,
}

impl PatchSet {
    /// Reads patch files (`name` is how messages call the file, `text` its contents) and
    /// `--set-image` flags. Every problem of the files is found here, before anything renders.
    pub fn load(files: &[(String, String)], images: &[String]) -> Result<PatchSet, Error> {
        let mut set = PatchSet::default();
        for (file, text) in files {
            set.entries.extend(parse_file(file, text)?);
        }
        for arg in images {
            set.images.push(parse_image(arg)?);
        }
        Ok(set)
    }

    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.images.is_empty()
    }

    /// Applies every entry, then every image, to `docs` (in place; an object a patch deletes
    /// with `$patch: delete` is removed). `namespace` is the release namespace, the namespace of
    /// objects that set none.
    pub fn apply(
        &self,
        docs: &mut Vec<Manifest>,
        namespace: &str,
        merges: &dyn ListMerges,
    ) -> Result<(), Error> {
        if self.is_empty() {
            return Ok(());
        }
        // Decoded once; `None` marks a document deleted by a patch.
        let mut values: Vec<Option<Value>> = Vec::with_capacity(docs.len());
        for m in docs.iter() {
            values.push(Some(decode(m)?));
        }
        let mut changed = vec![false; docs.len()];
        for entry in &self.entries {
            let mut matched = false;
            for (i, slot) in values.iter_mut().enumerate() {
                let Some(obj) = slot.as_mut() else { continue };
                if !entry.target.matches(obj, namespace) {
                    continue;
                }
                matched = true;
                let fail = |message: String| Error::Apply {
                    file: entry.file.clone(),
                    index: entry.index,
                    object: describe(obj, namespace),
                    message,
                };
                match &entry.body {
                    Body::Json6902(ops) => {
                        let mut next = obj.clone();
                        json_patch::patch(&mut next, ops).map_err(|e| fail(e.to_string()))?;
                        *obj = next;
                    }
                    Body::Strategic(p) => {
                        let api_version = str_at(obj, &["apiVersion"]).to_string();
                        let kind = str_at(obj, &["kind"]).to_string();
                        let mut ctx = Smp {
                            api_version: &api_version,
                            kind: &kind,
                            merges,
                            path: Vec::new(),
                        };
                        match ctx.merge_value(Some(obj.clone()), p).map_err(fail)? {
                            Some(next) => *obj = next,
                            None => *slot = None,
                        }
                    }
                }
                changed[i] = true;
            }
            if !matched {
                return Err(Error::NoMatch {
                    file: entry.file.clone(),
                    index: entry.index,
                    target: entry.target.shown.clone(),
                });
            }
        }
        for image in &self.images {
            let mut matched = false;
            for (i, obj) in values.iter_mut().enumerate() {
                let Some(obj) = obj.as_mut() else { continue };
                if image.apply(obj) {
                    matched = true;
                    changed[i] = true;
                }
            }
            if !matched {
                return Err(Error::ImageNoMatch {
                    arg: image.arg.clone(),
                    name: image.name.clone(),
                });
            }
        }
        let old = std::mem::take(docs);
        for ((mut m, value), changed) in old.into_iter().zip(values).zip(changed) {
            let Some(value) = value else { continue };
            if changed {
                m.content = crate::yaml::json_to_yaml(&value);
                let h = crate::yaml::scan_head(&m.content, &m.path).map_err(|e| Error::Document {
                    path: m.path.clone(),
                    message: e.to_string(),
                })?;
                m.head = super::Head {
                    api_version: h.api_version,
                    kind: h.kind,
                    name: h.name,
                    annotations: h.annotations,
                };
            }
            docs.push(m);
        }
        Ok(())
    }
}

/// The object of a rendered document (an empty map for a comment-only one, which no target
/// matches).
fn decode(m: &Manifest) -> Result<Value, Error> {
    let mut text = String::with_capacity(m.content.len() + 1);
    text.push_str(&m.content);
    text.push('\n');
    let docs = crate::yaml::parse_documents(&text, &m.path).map_err(|e| Error::Document {
        path: m.path.clone(),
        message: e.to_string(),
    })?;
    Ok(docs
        .into_iter()
        .find(Value::is_object)
        .unwrap_or_else(|| Value::Object(Map::new())))
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = v;
    for p in path {
        match cur.get(p) {
            Some(next) => cur = next,
            None => return "",
        }
    }
    cur.as_str().unwrap_or("")
}

/// `Kind namespace/name` for messages.
fn describe(obj: &Value, namespace: &str) -> String {
    let ns = match str_at(obj, &["metadata", "namespace"]) {
        "" => namespace,
        ns => ns,
    };
    format!(
        "{} {ns}/{}",
        str_at(obj, &["kind"]),
        str_at(obj, &["metadata", "name"])
    )
}

// ---------------------------------------------------------------------------------------------
// Patch files.

fn parse_file(file: &str, text: &str) -> Result<Vec<Entry>, Error> {
    let file_err = |message: String| Error::File {
        file: file.to_string(),
        message,
    };
    let docs = crate::yaml::parse_documents(text, file).map_err(|e| file_err(e.to_string()))?;
    let count: usize = docs.iter().filter_map(Value::as_array).map(Vec::len).sum();
    let lines = entry_lines(text, count);
    let mut entries = Vec::new();
    let mut index = 0;
    for doc in docs {
        match doc {
            Value::Null => {}
            Value::Array(items) => {
                for item in items {
                    // Messages name the entry's line where it is known: `p.yaml:12`.
                    let at = match &lines {
                        Some(l) => format!("{file}:{}", l[index]),
                        None => file.to_string(),
                    };
                    entries.push(parse_entry(&at, index, &item)?);
                    index += 1;
                }
            }
            other => {
                return Err(file_err(format!(
                    "expected a list of entries (- target: …, patch: …), found {}",
                    json_kind(&other)
                )))
            }
        }
    }
    Ok(entries)
}

/// The 1-based line of each entry of a block-style list (`- ` at column 0), when there is one
/// such line per entry; `None` otherwise (flow style, nested lists), and messages name no line.
fn entry_lines(text: &str, count: usize) -> Option<Vec<usize>> {
    let lines: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| *l == "-" || l.starts_with("- "))
        .map(|(i, _)| i + 1)
        .collect();
    (lines.len() == count).then_some(lines)
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

fn parse_entry(file: &str, index: usize, item: &Value) -> Result<Entry, Error> {
    let err = |field: &str, message: String| Error::Entry {
        file: file.to_string(),
        index,
        field: field.to_string(),
        message,
    };
    let Value::Object(map) = item else {
        return Err(err(
            "(entry)",
            format!("expected a map with target and patch, found {}", json_kind(item)),
        ));
    };
    if let Some(k) = map.keys().find(|k| !["target", "patch"].contains(&k.as_str())) {
        return Err(err(k, "unknown field (expected target and patch)".into()));
    }
    let target = match map.get("target") {
        Some(t) => parse_target(t, &err)?,
        None => return Err(err("target", "missing".into())),
    };
    let patch = match map.get("patch") {
        // kustomize also takes the patch as a YAML string.
        Some(Value::String(s)) => {
            let what = format!("{file}: entry {index}: patch");
            crate::yaml::parse_documents(s, &what)
                .map_err(|e| err("patch", format!("not YAML: {e}")))?
                .into_iter()
                .find(|v| !v.is_null())
                .ok_or_else(|| err("patch", "empty".into()))?
        }
        Some(v) => v.clone(),
        None => return Err(err("patch", "missing".into())),
    };
    let body = match patch {
        Value::Array(_) => {
            let ops: json_patch::Patch = serde_json::from_value(patch)
                .map_err(|e| err("patch", format!("not a list of RFC 6902 operations: {e}")))?;
            Body::Json6902(ops)
        }
        Value::Object(_) => {
            check_directives(&patch).map_err(|m| err("patch", m))?;
            Body::Strategic(patch)
        }
        other => {
            return Err(err(
                "patch",
                format!(
                    "expected a list of RFC 6902 operations or a strategic-merge patch map, found {}",
                    json_kind(&other)
                ),
            ))
        }
    };
    Ok(Entry {
        file: file.to_string(),
        index,
        target,
        body,
    })
}

#[cfg(test)]
mod tests;
