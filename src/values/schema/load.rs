//! What gojsonschema checks when it loads a schema (its message replaces Helm's list of
//! violations), and local `$ref` resolution.

use std::{cell::RefCell, collections::HashMap};

use regex::Regex;
use serde_json::Value as Json;

use super::{gotext::go_json, Draft};

/// The types a schema allows, from `type` (a name or a list), in the order written.
pub(super) fn types_of(schema: &Json) -> Vec<&str> {
    match schema.get("type") {
        Some(Json::String(t)) => vec![t.as_str()],
        Some(Json::Array(ts)) => ts.iter().filter_map(Json::as_str).collect(),
        _ => Vec::new(),
    }
}

const VALID_TYPES: &[&str] = &[
    "array", "boolean", "integer", "number", "null", "object", "string",
];

/// gojsonschema's load-time checks, so a schema it refuses is refused here with its message
/// (Helm prints that message instead of a list of violations). Returns the schema's patterns
/// compiled, which checking them needed anyway, so the walk never compiles one again.
pub(super) fn check_schema(schema: &Json, draft: Draft) -> Result<Patterns, String> {
    let patterns = RefCell::new(HashMap::new());
    check_node(schema, schema, draft, &patterns)?;
    Ok(patterns.into_inner())
}

/// A schema's `pattern`s and `patternProperties` keys, compiled (`None`: not a valid regex).
pub(super) type Patterns = HashMap<String, Option<Regex>>;

/// Whether `pattern` compiles, remembering it compiled.
fn compiles(patterns: &RefCell<Patterns>, pattern: &str) -> bool {
    patterns
        .borrow_mut()
        .entry(pattern.to_string())
        .or_insert_with(|| Regex::new(pattern).ok())
        .is_some()
}

fn check_node(root: &Json, node: &Json, draft: Draft, patterns: &RefCell<Patterns>) -> Result<(), String> {
    let m = match node {
        Json::Bool(_) if draft >= Draft::Draft6 => return Ok(()),
        Json::Object(m) => m,
        _ => return Err("Expected: valid schema, given: Invalid JSON".into()),
    };
    let sub = |v: &Json| check_node(root, v, draft, patterns);
    if let Some(Json::Object(defs)) = m.get("definitions") {
        defs.values().try_for_each(sub)?;
    }
    if let Some(Json::String(r)) = m.get("$ref") {
        // The rest of a node with `$ref` is never read.
        return resolve_ref(root, r).map(|_| ());
    }
    for t in types_of(node) {
        if !VALID_TYPES.contains(&t) {
            return Err(format!(
                "has a primitive type that is NOT VALID -- given: /{t}/ Expected valid values are:[array boolean integer number null object string]"
            ));
        }
    }
    if let Some(Json::Object(props)) = m.get("properties") {
        props.values().try_for_each(sub)?;
    }
    if let Some(ap @ (Json::Object(_) | Json::Bool(false))) = m.get("additionalProperties") {
        if ap.is_object() {
            sub(ap)?;
        }
    }
    if let Some(Json::Object(pp)) = m.get("patternProperties") {
        for (pattern, s) in pp {
            if !compiles(patterns, pattern) {
                return Err(format!("Invalid regex pattern '{pattern}'"));
            }
            sub(s)?;
        }
    }
    for key in [
        "propertyNames",
        "additionalItems",
        "contains",
        "not",
        "if",
        "then",
        "else",
    ] {
        if let Some(s @ (Json::Object(_) | Json::Bool(_))) = m.get(key) {
            if !(key == "additionalItems" && s.is_boolean()) {
                sub(s)?;
            }
        }
    }
    if let Some(Json::Object(deps)) = m.get("dependencies") {
        deps.values().filter(|d| !d.is_array()).try_for_each(sub)?;
    }
    match m.get("items") {
        Some(Json::Array(items)) => items.iter().try_for_each(sub)?,
        Some(s) => sub(s)?,
        None => {}
    }
    if let Some(n) = m.get("multipleOf").and_then(Json::as_f64) {
        if n <= 0.0 {
            return Err("multipleOf must be strictly greater than 0".into());
        }
    }
    if draft == Draft::Draft4 {
        for key in ["exclusiveMinimum", "exclusiveMaximum"] {
            if m.get(key).is_some_and(|v| !v.is_boolean()) {
                return Err(format!("Invalid type. Expected: boolean, given: {key}"));
            }
        }
    }
    for (lo, hi) in [
        ("minLength", "maxLength"),
        ("minProperties", "maxProperties"),
        ("minItems", "maxItems"),
    ] {
        for key in [lo, hi] {
            if m.get(key).and_then(Json::as_f64).is_some_and(|n| n < 0.0) {
                return Err(format!("{key} must be greater than or equal to 0"));
            }
        }
        // gojsonschema compares the two for strings and objects only.
        let (l, h) = (m.get(lo).and_then(Json::as_f64), m.get(hi).and_then(Json::as_f64));
        if lo != "minItems" && l.zip(h).is_some_and(|(l, h)| l > h) {
            return Err(format!("{lo} cannot be greater than {hi}"));
        }
    }
    if let Some(Json::String(p)) = m.get("pattern") {
        if !compiles(patterns, p) {
            return Err("pattern must be a valid regex".into());
        }
    }
    match m.get("required") {
        None | Some(Json::Array(_)) => {}
        Some(_) => return Err("required must be of an array".into()),
    }
    if let Some(Json::Array(items)) = m.get("enum") {
        let mut seen = Vec::new();
        for item in items {
            let text = go_json(item);
            if seen.contains(&text) {
                return Err("enum items must be unique".into());
            }
            seen.push(text);
        }
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(Json::Array(list)) = m.get(key) {
            list.iter().try_for_each(sub)?;
        }
    }
    Ok(())
}

/// The schema a local `$ref` (`#`, `#/definitions/x`) points at; anything else is refused.
pub(super) fn resolve_ref<'a>(root: &'a Json, reference: &str) -> Result<&'a Json, String> {
    let Some(pointer) = reference.strip_prefix('#') else {
        return Err(format!(
            "remote $ref {reference} is not supported (schemas are never fetched over the network)"
        ));
    };
    let mut cur = root;
    for raw in pointer.split('/').skip(1) {
        let part = percent_decode(raw).replace("~1", "/").replace("~0", "~");
        cur = match cur {
            Json::Object(m) => m
                .get(&part)
                .ok_or_else(|| format!("Object has no key '{part}'"))?,
            Json::Array(a) => part
                .parse::<usize>()
                .ok()
                .and_then(|i| a.get(i))
                .ok_or_else(|| format!("Out of bound array[0,{}] index '{part}'", a.len()))?,
            _ => return Err(format!("Invalid token reference '{part}'")),
        };
    }
    Ok(cur)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
