//! Which objects a patch entry applies to: kustomize's selector (anchored regular expressions
//! on group, version, kind, name and namespace) and a Kubernetes label selector.

use regex::Regex;
use serde_json::Value;

use super::{json_kind, str_at, Error};

/// Which objects an entry applies to; every field set must match.
#[derive(Debug, Clone, Default)]
pub(super) struct Target {
    group: Option<Regex>,
    version: Option<Regex>,
    kind: Option<Regex>,
    name: Option<Regex>,
    namespace: Option<Regex>,
    labels: Vec<Requirement>,
    /// The target as written, for messages.
    pub(super) shown: String,
}

/// One requirement of a label selector (`k8s.io/apimachinery/pkg/labels` syntax).
#[derive(Debug, Clone, PartialEq)]
enum Requirement {
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

pub(super) fn parse_target(t: &Value, err: &dyn Fn(&str, String) -> Error) -> Result<Target, Error> {
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
    pub(super) fn matches(&self, obj: &Value, namespace: &str) -> bool {
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
