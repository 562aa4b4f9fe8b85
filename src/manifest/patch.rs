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

use regex::Regex;
use serde_json::{Map, Value};

use super::Manifest;

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
        /// The patch file.
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
        /// The patch file.
        file: String,
        /// 0-based entry index.
        index: usize,
        /// The target, as written.
        target: String,
    },
    /// An entry does not apply to an object it targets.
    #[error("patch file {file}: entry {index}: patching {object}: {message}")]
    Apply {
        /// The patch file.
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

/// Which objects an entry applies to; every field set must match.
#[derive(Debug, Clone, Default)]
struct Target {
    group: Option<Regex>,
    version: Option<Regex>,
    kind: Option<Regex>,
    name: Option<Regex>,
    namespace: Option<Regex>,
    labels: Vec<Requirement>,
    /// The target as written, for messages.
    shown: String,
}

/// One requirement of a label selector (`k8s.io/apimachinery/pkg/labels` syntax).
#[derive(Debug, Clone, PartialEq)]
enum Requirement {
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
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

/// One `--set-image`: containers using image `name` get the new parts that are set.
#[derive(Debug, Clone, PartialEq)]
struct ImageSet {
    arg: String,
    name: String,
    new_name: Option<String>,
    new_tag: Option<String>,
    digest: Option<String>,
}

/// Every `--patch` entry and `--set-image`, in the order they apply: entries file by file, then
/// images.
#[derive(Debug, Clone, Default)]
pub struct PatchSet {
    entries: Vec<Entry>,
    images: Vec<ImageSet>,
}

/// Kinds whose pod template `--set-image` edits, and where its `PodSpec` is
/// (`k8s:api/*/types.go`, the `Template` fields).
const POD_SPEC_AT: &[(&str, &str, &[&str])] = &[
    ("", "Pod", &["spec"]),
    ("", "PodTemplate", &["template", "spec"]),
    ("", "ReplicationController", &["spec", "template", "spec"]),
    ("apps", "Deployment", &["spec", "template", "spec"]),
    ("apps", "ReplicaSet", &["spec", "template", "spec"]),
    ("apps", "StatefulSet", &["spec", "template", "spec"]),
    ("apps", "DaemonSet", &["spec", "template", "spec"]),
    ("batch", "Job", &["spec", "template", "spec"]),
    (
        "batch",
        "CronJob",
        &["spec", "jobTemplate", "spec", "template", "spec"],
    ),
];

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
    let mut entries = Vec::new();
    let mut index = 0;
    for doc in docs {
        match doc {
            Value::Null => {}
            Value::Array(items) => {
                for item in items {
                    entries.push(parse_entry(file, index, &item)?);
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

fn parse_target(t: &Value, err: &dyn Fn(&str, String) -> Error) -> Result<Target, Error> {
    let Value::Object(map) = t else {
        return Err(err("target", format!("expected a map, found {}", json_kind(t))));
    };
    let mut target = Target::default();
    let mut shown = Vec::new();
    for (k, v) in map {
        let field = format!("target.{k}");
        let Some(s) = v.as_str() else {
            return Err(err(&field, format!("expected a string, found {}", json_kind(v))));
        };
        shown.push(format!("{k}={s}"));
        if k == "labelSelector" {
            target.labels = parse_selector(s).map_err(|m| err(&field, m))?;
            continue;
        }
        let slot = match k.as_str() {
            "group" => &mut target.group,
            "version" => &mut target.version,
            "kind" => &mut target.kind,
            "name" => &mut target.name,
            "namespace" => &mut target.namespace,
            _ => {
                return Err(err(
                    &field,
                    "unknown field (expected group, version, kind, name, namespace, labelSelector)".into(),
                ))
            }
        };
        // Anchored, as kustomize's selector regexes are.
        let re = Regex::new(&format!("^(?:{s})$"))
            .map_err(|e| err(&field, format!("invalid regular expression: {e}")))?;
        *slot = Some(re);
    }
    if shown.is_empty() {
        return Err(err("target", "empty: name at least a kind or a name".into()));
    }
    target.shown = format!("{{{}}}", shown.join(", "));
    Ok(target)
}

impl Target {
    fn matches(&self, obj: &Value, namespace: &str) -> bool {
        let (group, version) = str_at(obj, &["apiVersion"])
            .rsplit_once('/')
            .unwrap_or(("", str_at(obj, &["apiVersion"])));
        let ns = match str_at(obj, &["metadata", "namespace"]) {
            "" => namespace,
            ns => ns,
        };
        let checks = [
            (&self.group, group),
            (&self.version, version),
            (&self.kind, str_at(obj, &["kind"])),
            (&self.name, str_at(obj, &["metadata", "name"])),
            (&self.namespace, ns),
        ];
        if str_at(obj, &["kind"]).is_empty() {
            return false;
        }
        if !checks
            .iter()
            .all(|(re, s)| re.as_ref().is_none_or(|re| re.is_match(s)))
        {
            return false;
        }
        let labels = obj.pointer("/metadata/labels").and_then(Value::as_object);
        let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.labels.iter().all(|r| match r {
            Requirement::In(k, vs) => label(k).is_some_and(|v| vs.iter().any(|x| x == v)),
            Requirement::NotIn(k, vs) => label(k).is_none_or(|v| !vs.iter().any(|x| x == v)),
            Requirement::Exists(k) => label(k).is_some(),
            Requirement::NotExists(k) => label(k).is_none(),
        })
    }
}

/// A label selector string: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`,
/// comma-separated.
fn parse_selector(s: &str) -> Result<Vec<Requirement>, String> {
    let mut out = Vec::new();
    // Commas inside `( … )` belong to a set, not to the requirement list.
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    for part in parts {
        let p = part.trim();
        if p.is_empty() {
            return Err(format!("empty requirement in label selector {s:?}"));
        }
        let key_ok =
            |k: &str| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c));
        let req = if let Some(k) = p.strip_prefix('!') {
            Requirement::NotExists(k.trim().to_string())
        } else if let Some((k, v)) = p.split_once("!=") {
            Requirement::NotIn(k.trim().to_string(), vec![v.trim().to_string()])
        } else if let Some((k, v)) = p.split_once("==").or_else(|| p.split_once('=')) {
            Requirement::In(k.trim().to_string(), vec![v.trim().to_string()])
        } else if let Some((k, rest)) = split_set(p, " notin ") {
            Requirement::NotIn(k, rest)
        } else if let Some((k, rest)) = split_set(p, " in ") {
            Requirement::In(k, rest)
        } else {
            Requirement::Exists(p.to_string())
        };
        let key = match &req {
            Requirement::In(k, _)
            | Requirement::NotIn(k, _)
            | Requirement::Exists(k)
            | Requirement::NotExists(k) => k,
        };
        if !key_ok(key) {
            return Err(format!("invalid label key {key:?} in label selector {s:?}"));
        }
        out.push(req);
    }
    Ok(out)
}

fn split_set(p: &str, op: &str) -> Option<(String, Vec<String>)> {
    let (k, rest) = p.split_once(op)?;
    let inner = rest.trim().strip_prefix('(')?.strip_suffix(')')?;
    Some((
        k.trim().to_string(),
        inner.split(',').map(|v| v.trim().to_string()).collect(),
    ))
}

/// Rejects directive values the merge would otherwise misread.
fn check_directives(v: &Value) -> Result<(), String> {
    match v {
        Value::Object(m) => {
            if let Some(d) = m.get("$patch") {
                if !matches!(d.as_str(), Some("replace" | "delete" | "merge")) {
                    return Err(format!("$patch must be replace, delete or merge, found {d}"));
                }
            }
            if let Some(r) = m.get("$retainKeys") {
                if !r.as_array().is_some_and(|a| a.iter().all(Value::is_string)) {
                    return Err("$retainKeys must be a list of field names".into());
                }
            }
            m.values().try_for_each(check_directives)
        }
        Value::Array(a) => a.iter().try_for_each(check_directives),
        _ => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------------
// Strategic merge.

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const SET_ORDER_PREFIX: &str = "$setElementOrder/";
const DELETE_PRIMITIVE_PREFIX: &str = "$deleteFromPrimitiveList/";

struct Smp<'a> {
    api_version: &'a str,
    kind: &'a str,
    merges: &'a dyn ListMerges,
    /// Field names from the root to the value being merged (list indices left out).
    path: Vec<String>,
}

impl Smp<'_> {
    /// Merges `patch` into `original`; `None` means the value is deleted.
    fn merge_value(&mut self, original: Option<Value>, patch: &Value) -> Result<Option<Value>, String> {
        match patch {
            Value::Null => Ok(None),
            Value::Object(p) => {
                match p.get(DIRECTIVE).and_then(Value::as_str) {
                    Some("delete") => return Ok(None),
                    Some("replace") => {
                        let mut clean = p.clone();
                        clean.remove(DIRECTIVE);
                        return Ok(Some(Value::Object(strip_directives(clean))));
                    }
                    _ => {}
                }
                let base = match original {
                    Some(Value::Object(o)) => o,
                    // A map over anything else replaces it.
                    _ => Map::new(),
                };
                Ok(Some(Value::Object(self.merge_map(base, p)?)))
            }
            Value::Array(p) => {
                let lt = {
                    let path: Vec<&str> = self.path.iter().map(String::as_str).collect();
                    self.merges.list_merge(self.api_version, self.kind, &path)
                };
                let base = match original {
                    Some(Value::Array(o)) => o,
                    _ => Vec::new(),
                };
                Ok(Some(Value::Array(self.merge_list(base, p, &lt)?)))
            }
            scalar => Ok(Some(scalar.clone())),
        }
    }

    fn merge_map(
        &mut self,
        mut base: Map<String, Value>,
        p: &Map<String, Value>,
    ) -> Result<Map<String, Value>, String> {
        let mut retain: Option<Vec<String>> = None;
        for (k, v) in p {
            if k == DIRECTIVE || k.starts_with(SET_ORDER_PREFIX) {
                continue;
            }
            if k == RETAIN_KEYS {
                retain = v
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_str).map(String::from).collect());
                continue;
            }
            if let Some(field) = k.strip_prefix(DELETE_PRIMITIVE_PREFIX) {
                let drop = v.as_array().cloned().unwrap_or_default();
                if let Some(Value::Array(list)) = base.get_mut(field) {
                    list.retain(|x| !drop.contains(x));
                }
                continue;
            }
            self.path.push(k.clone());
            let merged = self.merge_value(base.remove(k), v);
            self.path.pop();
            if let Some(v) = merged? {
                base.insert(k.clone(), v);
            }
        }
        if let Some(keep) = retain {
            base.retain(|k, _| keep.contains(k));
        }
        Ok(base)
    }

    fn merge_list(
        &mut self,
        mut base: Vec<Value>,
        p: &[Value],
        lt: &ListMerge,
    ) -> Result<Vec<Value>, String> {
        // `$patch: replace` as an element: the rest of the patch list is the new list.
        let replace = p
            .iter()
            .any(|e| e.get(DIRECTIVE).and_then(Value::as_str) == Some("replace"));
        if replace {
            return Ok(p
                .iter()
                .filter(|e| e.get(DIRECTIVE).is_none())
                .map(|e| match e {
                    Value::Object(m) => Value::Object(strip_directives(m.clone())),
                    other => other.clone(),
                })
                .collect());
        }
        match lt {
            ListMerge::Replace => Ok(p
                .iter()
                .map(|e| match e {
                    Value::Object(m) => Value::Object(strip_directives(m.clone())),
                    other => other.clone(),
                })
                .collect()),
            ListMerge::Set => {
                for v in p {
                    if !base.contains(v) {
                        base.push(v.clone());
                    }
                }
                Ok(base)
            }
            ListMerge::Keys(keys) => {
                for elem in p {
                    let Value::Object(pm) = elem else {
                        return Err(format!(
                            "list {} merges on {}: every patch element must be a map",
                            self.path.join("."),
                            keys.join(",")
                        ));
                    };
                    let wanted: Vec<(&String, &Value)> =
                        keys.iter().filter_map(|k| pm.get(k).map(|v| (k, v))).collect();
                    if wanted.is_empty() {
                        return Err(format!(
                            "list {} merges on {}: a patch element lacks the merge key",
                            self.path.join("."),
                            keys.join(",")
                        ));
                    }
                    let at = base
                        .iter()
                        .position(|b| wanted.iter().all(|(k, v)| b.get(*k) == Some(*v)));
                    let delete = pm.get(DIRECTIVE).and_then(Value::as_str) == Some("delete");
                    match (at, delete) {
                        (Some(i), true) => {
                            base.remove(i);
                        }
                        (None, true) => {}
                        (Some(i), false) => {
                            let old = base[i].clone();
                            match self.merge_value(Some(old), elem)? {
                                Some(v) => base[i] = v,
                                None => {
                                    base.remove(i);
                                }
                            }
                        }
                        (None, false) => {
                            if let Some(v) = self.merge_value(None, elem)? {
                                base.push(v);
                            }
                        }
                    }
                }
                Ok(base)
            }
        }
    }
}

/// A map of a patch used as a value (added, or replacing): its directives removed, nested too.
fn strip_directives(m: Map<String, Value>) -> Map<String, Value> {
    m.into_iter()
        .filter(|(k, _)| {
            k != DIRECTIVE
                && k != RETAIN_KEYS
                && !k.starts_with(SET_ORDER_PREFIX)
                && !k.starts_with(DELETE_PRIMITIVE_PREFIX)
        })
        .map(|(k, v)| {
            let v = match v {
                Value::Object(inner) => Value::Object(strip_directives(inner)),
                Value::Array(a) => Value::Array(
                    a.into_iter()
                        .map(|e| match e {
                            Value::Object(inner) => Value::Object(strip_directives(inner)),
                            other => other,
                        })
                        .collect(),
                ),
                other => other,
            };
            (k, v)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// --set-image.

/// Splits an image reference into (name, tag, digest): the tag follows the last `:` after the
/// last `/` (a registry port is not a tag), the digest follows `@`.
fn split_image(image: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    let slash = rest.rfind('/').map_or(0, |i| i + 1);
    match rest[slash..].rfind(':') {
        Some(c) => (&rest[..slash + c], Some(&rest[slash + c + 1..]), digest),
        None => (rest, None, digest),
    }
}

fn parse_image(arg: &str) -> Result<ImageSet, Error> {
    let err = |message: &str| Error::Image {
        arg: arg.to_string(),
        message: message.to_string(),
    };
    // `NAME=REF`, or kustomize's shorthand `NAME:TAG` / `NAME@DIGEST` (keep the name).
    let (name, new) = match arg.split_once('=') {
        Some((n, r)) => (n.to_string(), r),
        None => {
            let (n, tag, digest) = split_image(arg);
            if tag.is_none() && digest.is_none() {
                return Err(err(
                    "expected NAME=NEWNAME[:TAG][@DIGEST], NAME:TAG or NAME@DIGEST",
                ));
            }
            (n.to_string(), &arg[n.len()..])
        }
    };
    if name.is_empty() {
        return Err(err("the image name to replace is empty"));
    }
    if name.contains('@') || split_image(&name).1.is_some() {
        return Err(err(
            "the image to replace is matched by name: leave its tag and digest out",
        ));
    }
    if new.is_empty() {
        return Err(err("the new reference is empty"));
    }
    let (new_name, tag, digest) = split_image(new);
    let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
    if tag == Some("") || digest == Some("") {
        return Err(err("empty tag or digest"));
    }
    if let Some(d) = digest {
        if !d.contains(':') {
            return Err(err("a digest is ALGORITHM:HEX, e.g. sha256:…"));
        }
    }
    Ok(ImageSet {
        arg: arg.to_string(),
        name,
        new_name: some(new_name),
        new_tag: tag.map(String::from),
        digest: digest.map(String::from),
    })
}

impl ImageSet {
    /// Rewrites matching images of `obj`'s pod template; whether any matched.
    fn apply(&self, obj: &mut Value) -> bool {
        let (group, _) = str_at(obj, &["apiVersion"]).rsplit_once('/').unwrap_or(("", ""));
        let kind = str_at(obj, &["kind"]).to_string();
        let group = group.to_string();
        let Some((_, _, at)) = POD_SPEC_AT.iter().find(|(g, k, _)| *g == group && *k == kind) else {
            return false;
        };
        let mut spec = &mut *obj;
        for p in *at {
            match spec.get_mut(*p) {
                Some(next) => spec = next,
                None => return false,
            }
        }
        let mut hit = false;
        for field in ["initContainers", "containers"] {
            let Some(Value::Array(list)) = spec.get_mut(field) else {
                continue;
            };
            for c in list {
                let Some(image) = c.get("image").and_then(Value::as_str) else {
                    continue;
                };
                if let Some(next) = self.rewrite(image) {
                    c["image"] = Value::String(next);
                    hit = true;
                }
            }
        }
        hit
    }

    /// The new reference for `image`, if its name matches.
    fn rewrite(&self, image: &str) -> Option<String> {
        let (name, tag, digest) = split_image(image);
        if name != self.name {
            return None;
        }
        let mut out = self.new_name.clone().unwrap_or_else(|| name.to_string());
        // A new digest pins the image (any tag goes); a new tag replaces tag and digest; a new
        // name alone keeps both.
        if let Some(d) = &self.digest {
            out.push('@');
            out.push_str(d);
        } else if let Some(t) = &self.new_tag {
            out.push(':');
            out.push_str(t);
        } else {
            if let Some(t) = tag {
                out.push(':');
                out.push_str(t);
            }
            if let Some(d) = digest {
                out.push('@');
                out.push_str(d);
            }
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests;
