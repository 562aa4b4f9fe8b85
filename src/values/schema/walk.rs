//! The walk over a schema and a value, in gojsonschema's order, with its score (see the module
//! above for the rules it follows).

use std::{cell::RefCell, collections::HashMap};

use regex::Regex;
use serde_json::Value as Json;

use super::{
    field_of,
    gotext::{format_ok, go_float, go_json, is_multiple},
    load::{resolve_ref, types_of},
    Draft, Outcome,
};

pub(super) struct Walker<'s> {
    pub(super) root: &'s Json,
    pub(super) draft: Draft,
    /// Compiled patterns, seeded with every one the schema check compiled; one it did not reach
    /// (behind a `$ref` into a part of the document that is not a schema keyword) is compiled
    /// here, once.
    pub(super) regexes: RefCell<HashMap<String, Option<Regex>>>,
}

impl Walker<'_> {
    /// A fresh result for `schema` against `node` at `path` (an alternative being tried).
    fn sub(&self, schema: &Json, node: &Json, path: &mut Vec<String>) -> Outcome {
        let mut out = Outcome::default();
        self.validate(schema, node, path, &mut out);
        out
    }

    /// `schema` against `node` at `path`, at `path + key`.
    fn sub_at(&self, schema: &Json, node: &Json, path: &mut Vec<String>, key: &str) -> Outcome {
        path.push(key.to_string());
        let out = self.sub(schema, node, path);
        path.pop();
        out
    }

    fn matches(&self, pattern: &str, text: &str) -> bool {
        let mut cache = self.regexes.borrow_mut();
        let re = cache
            .entry(pattern.to_string())
            .or_insert_with(|| Regex::new(pattern).ok());
        re.as_ref().is_some_and(|re| re.is_match(text))
    }

    pub(super) fn validate(&self, schema: &Json, node: &Json, path: &mut Vec<String>, out: &mut Outcome) {
        let m = match schema {
            Json::Bool(true) => return,
            Json::Bool(false) => return out.add(path, "False always fails validation".into()),
            Json::Object(m) => m,
            _ => return,
        };
        if let Some(Json::String(r)) = m.get("$ref") {
            if let Ok(target) = resolve_ref(self.root, r) {
                self.validate(target, node, path, out);
            }
            return;
        }
        let types = types_of(schema);
        let given = type_of(node);
        let type_ok =
            types.is_empty() || types.contains(&given) || (given == "integer" && types.contains(&"number"));
        if !type_ok {
            let expected = if types.len() == 1 {
                types[0].to_string()
            } else {
                format!("[{}]", types.join(","))
            };
            return out.add(
                path,
                format!("Invalid type. Expected: {expected}, given: {given}"),
            );
        }
        self.combinators(m, node, path, out);
        match node {
            Json::Number(_) => {
                self.number(m, node, path, out);
                self.common(m, node, path, out);
            }
            Json::Array(items) => {
                self.array(m, items, path, out);
                self.common(m, node, path, out);
            }
            Json::Object(obj) => {
                self.object(m, obj, path, out);
                self.common(m, node, path, out);
                if let Some(Json::Object(props)) = m.get("properties") {
                    for (key, sub) in sorted(props) {
                        if let Some(v) = obj.get(key) {
                            path.push(key.clone());
                            self.validate(sub, v, path, out);
                            path.pop();
                        }
                    }
                }
            }
            Json::String(s) => {
                self.common(m, node, path, out);
                self.string(m, s, path, out);
            }
            Json::Bool(_) | Json::Null => self.common(m, node, path, out),
        }
        out.score += 1;
    }

    fn combinators(
        &self,
        m: &serde_json::Map<String, Json>,
        node: &Json,
        path: &mut Vec<String>,
        out: &mut Outcome,
    ) {
        if let Some(alts) = non_empty_array(m, "anyOf") {
            if let Err(closest) = first_valid(alts.iter().map(|alt| self.sub(alt, node, path))) {
                fail_with(out, path, "Must validate at least one schema (anyOf)", closest);
            }
        }
        if let Some(alts) = non_empty_array(m, "oneOf") {
            let mut best: Option<Outcome> = None;
            let mut valid = 0;
            for alt in alts {
                let r = self.sub(alt, node, path);
                if r.valid() {
                    valid += 1;
                } else if valid == 0 && best.as_ref().is_none_or(|b| r.score > b.score) {
                    best = Some(r);
                }
            }
            if valid != 1 {
                // The closest failure is shown only when none was valid, as gojsonschema does.
                let closest = if valid == 0 { best } else { None };
                fail_with(
                    out,
                    path,
                    "Must validate one and only one schema (oneOf)",
                    closest,
                );
            }
        }
        if let Some(all) = non_empty_array(m, "allOf") {
            let mut valid = 0;
            for s in all {
                let r = self.sub(s, node, path);
                if r.valid() {
                    valid += 1;
                }
                out.merge(r);
            }
            if valid != all.len() {
                out.add(path, "Must validate all the schemas (allOf)".into());
            }
        }
        if let Some(not) = m.get("not") {
            if self.sub(not, node, path).valid() {
                out.add(path, "Must not validate the schema (not)".into());
            }
        }
        if let (Some(Json::Object(deps)), Json::Object(obj)) = (m.get("dependencies"), node) {
            for key in sorted_keys(obj) {
                match deps.get(key) {
                    Some(Json::Array(needed)) => {
                        for n in needed.iter().filter_map(Json::as_str) {
                            if !obj.contains_key(n) {
                                out.add(path, format!("Has a dependency on {n}"));
                            }
                        }
                    }
                    Some(s @ (Json::Object(_) | Json::Bool(_))) => self.validate(s, node, path, out),
                    _ => {}
                }
            }
        }
        if self.draft >= Draft::Draft7 {
            if let Some(cond) = m.get("if") {
                let holds = self.sub(cond, node, path).valid();
                let (branch, word) = if holds { ("then", "then") } else { ("else", "else") };
                if let Some(s) = m.get(branch) {
                    let r = self.sub(s, node, path);
                    if !r.valid() {
                        let verdict = if holds { "was valid" } else { "was not valid" };
                        out.add(path, format!("Must validate \"{word}\" as \"if\" {verdict}"));
                        out.merge(r);
                    }
                }
            }
        }
        out.score += 1;
    }

    /// `const` and `enum`, compared as Go's JSON text (numbers through float64).
    fn common(&self, m: &serde_json::Map<String, Json>, node: &Json, path: &mut [String], out: &mut Outcome) {
        let field = field_of(path);
        let text = go_json(node);
        if self.draft >= Draft::Draft6 {
            if let Some(c) = m.get("const") {
                let want = go_json(c);
                if text != want {
                    out.add(path, format!("{field} does not match: {want}"));
                }
            }
        }
        if let Some(Json::Array(options)) = m
            .get("enum")
            .filter(|e| e.as_array().is_some_and(|e| !e.is_empty()))
        {
            let options: Vec<String> = options.iter().map(go_json).collect();
            if !options.contains(&text) {
                out.add(
                    path,
                    format!("{field} must be one of the following: {}", options.join(", ")),
                );
            }
        }
        out.score += 1;
    }

    fn array(
        &self,
        m: &serde_json::Map<String, Json>,
        items: &[Json],
        path: &mut Vec<String>,
        out: &mut Outcome,
    ) {
        match m.get("items") {
            Some(Json::Array(tuple)) if !tuple.is_empty() => {
                for (i, (s, v)) in tuple.iter().zip(items).enumerate() {
                    let r = self.sub_at(s, v, path, &i.to_string());
                    out.merge(r);
                }
                if tuple.len() < items.len() {
                    match m.get("additionalItems") {
                        Some(Json::Bool(false)) => {
                            out.add(path, "No additional items allowed on array".into())
                        }
                        Some(s @ Json::Object(_)) => {
                            for (i, v) in items.iter().enumerate().skip(tuple.len()) {
                                let r = self.sub_at(s, v, path, &i.to_string());
                                out.merge(r);
                            }
                        }
                        _ => {}
                    }
                }
            }
            Some(s @ (Json::Object(_) | Json::Bool(_))) => {
                for (i, v) in items.iter().enumerate() {
                    let r = self.sub_at(s, v, path, &i.to_string());
                    out.merge(r);
                }
            }
            _ => {}
        }
        if let Some(n) = m.get("minItems").and_then(Json::as_f64) {
            if (items.len() as f64) < n {
                out.add(path, format!("Array must have at least {} items", int_text(n)));
            }
        }
        if let Some(n) = m.get("maxItems").and_then(Json::as_f64) {
            if (items.len() as f64) > n {
                out.add(path, format!("Array must have at most {} items", int_text(n)));
            }
        }
        if m.get("uniqueItems") == Some(&Json::Bool(true)) {
            // Each repeat is reported against the latest earlier occurrence.
            let mut last: HashMap<String, usize> = HashMap::new();
            for (j, v) in items.iter().enumerate() {
                let text = go_json(v);
                if let Some(i) = last.get(&text) {
                    out.add(path, format!("array items[{i},{j}] must be unique"));
                }
                last.insert(text, j);
            }
        }
        if self.draft >= Draft::Draft6 {
            if let Some(s) = m.get("contains") {
                let tries = items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| self.sub_at(s, v, path, &i.to_string()));
                if let Err(closest) = first_valid(tries) {
                    fail_with(out, path, "At least one of the items must match", closest);
                }
            }
        }
        out.score += 1;
    }

    fn object(
        &self,
        m: &serde_json::Map<String, Json>,
        obj: &serde_json::Map<String, Json>,
        path: &mut Vec<String>,
        out: &mut Outcome,
    ) {
        if let Some(n) = m.get("minProperties").and_then(Json::as_f64) {
            if (obj.len() as f64) < n {
                out.add(path, format!("Must have at least {} properties", int_text(n)));
            }
        }
        if let Some(n) = m.get("maxProperties").and_then(Json::as_f64) {
            if (obj.len() as f64) > n {
                out.add(path, format!("Must have at most {} properties", int_text(n)));
            }
        }
        if let Some(Json::Array(required)) = m.get("required") {
            for r in required.iter().filter_map(Json::as_str) {
                if obj.contains_key(r) {
                    out.score += 1;
                } else {
                    out.add(path, format!("{r} is required"));
                }
            }
        }
        let props = m.get("properties").and_then(Json::as_object);
        for key in sorted_keys(obj) {
            let value = &obj[key];
            let described = props.is_some_and(|p| p.contains_key(key));
            let mut by_pattern = false;
            if let Some(Json::Object(patterns)) = m.get("patternProperties") {
                for (pattern, s) in sorted(patterns) {
                    if self.matches(pattern, key) {
                        by_pattern = true;
                        let r = self.sub_at(s, value, path, key);
                        out.merge(r);
                    }
                }
                if by_pattern {
                    out.score += 1;
                }
            }
            if described || by_pattern {
                continue;
            }
            match m.get("additionalProperties") {
                Some(Json::Bool(false)) => out.add(path, format!("Additional property {key} is not allowed")),
                Some(s @ Json::Object(_)) => {
                    let r = self.sub_at(s, value, path, key);
                    out.merge(r);
                }
                _ => {}
            }
        }
        if self.draft >= Draft::Draft6 {
            if let Some(s) = m.get("propertyNames") {
                for key in sorted_keys(obj) {
                    let r = self.sub(s, &Json::String(key.clone()), path);
                    if !r.valid() {
                        out.add(path, format!("Property name of \"{key}\" does not match"));
                        out.merge(r);
                    }
                }
            }
        }
        out.score += 1;
    }

    fn string(&self, m: &serde_json::Map<String, Json>, s: &str, path: &mut [String], out: &mut Outcome) {
        let len = s.chars().count() as f64;
        if let Some(n) = m.get("minLength").and_then(Json::as_f64) {
            if len < n {
                out.add(
                    path,
                    format!("String length must be greater than or equal to {}", int_text(n)),
                );
            }
        }
        if let Some(n) = m.get("maxLength").and_then(Json::as_f64) {
            if len > n {
                out.add(
                    path,
                    format!("String length must be less than or equal to {}", int_text(n)),
                );
            }
        }
        if let Some(Json::String(p)) = m.get("pattern") {
            if !self.matches(p, s) {
                out.add(path, format!("Does not match pattern '{p}'"));
            }
        }
        if let Some(Json::String(f)) = m.get("format") {
            if !format_ok(f, &Json::String(s.to_string())) {
                out.add(path, format!("Does not match format '{f}'"));
            }
        }
        out.score += 1;
    }

    fn number(&self, m: &serde_json::Map<String, Json>, node: &Json, path: &mut [String], out: &mut Outcome) {
        let Some(x) = node.as_f64() else { return };
        let limit = |key: &str| m.get(key).and_then(Json::as_f64);
        if let Some(d) = limit("multipleOf") {
            if !is_multiple(node, &m["multipleOf"]) {
                out.add(path, format!("Must be a multiple of {}", go_float(d)));
            }
        }
        // Draft 4's boolean `exclusiveMaximum: true` turns `maximum` into an exclusive bound.
        let exclusive = |key: &str| {
            m.get(key) == Some(&Json::Bool(true)) && matches!(self.draft, Draft::Draft4 | Draft::Hybrid)
        };
        let (max, max_excl) = match (limit("maximum"), exclusive("exclusiveMaximum")) {
            (Some(v), true) => (None, Some(v)),
            (v, _) => (
                v,
                limit("exclusiveMaximum").filter(|_| self.draft != Draft::Draft4),
            ),
        };
        let (min, min_excl) = match (limit("minimum"), exclusive("exclusiveMinimum")) {
            (Some(v), true) => (None, Some(v)),
            (v, _) => (
                v,
                limit("exclusiveMinimum").filter(|_| self.draft != Draft::Draft4),
            ),
        };
        if let Some(v) = max.filter(|&v| x > v) {
            out.add(path, format!("Must be less than or equal to {}", go_float(v)));
        }
        if let Some(v) = max_excl.filter(|&v| x >= v) {
            out.add(path, format!("Must be less than {}", go_float(v)));
        }
        if let Some(v) = min.filter(|&v| x < v) {
            out.add(path, format!("Must be greater than or equal to {}", go_float(v)));
        }
        if let Some(v) = min_excl.filter(|&v| x <= v) {
            out.add(path, format!("Must be greater than {}", go_float(v)));
        }
        if let Some(Json::String(f)) = m.get("format") {
            if !format_ok(f, node) {
                out.add(path, format!("Does not match format '{f}'"));
            }
        }
        out.score += 1;
    }
}

pub(super) fn sorted(m: &serde_json::Map<String, Json>) -> Vec<(&String, &Json)> {
    let mut v: Vec<_> = m.iter().collect();
    v.sort_by(|a, b| a.0.cmp(b.0));
    v
}

fn sorted_keys(m: &serde_json::Map<String, Json>) -> Vec<&String> {
    let mut v: Vec<_> = m.keys().collect();
    v.sort();
    v
}

/// gojsonschema's type name for an instance value (an integral number is an `integer`).
pub(super) fn type_of(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(n) => {
            if n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0) {
                "integer"
            } else {
                "number"
            }
        }
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

fn int_text(n: f64) -> String {
    format!("{}", n as i64)
}

/// `m[key]` when it is a non-empty array: gojsonschema ignores an empty `anyOf`/`oneOf`/`allOf`.
fn non_empty_array<'a>(m: &'a serde_json::Map<String, Json>, key: &str) -> Option<&'a Vec<Json>> {
    m.get(key).and_then(Json::as_array).filter(|a| !a.is_empty())
}

/// `Ok` as soon as one of `tries` is valid (the rest are not evaluated, as gojsonschema stops
/// there); otherwise the closest failure: the highest score, the first among equals.
fn first_valid(tries: impl Iterator<Item = Outcome>) -> Result<(), Option<Outcome>> {
    let mut best: Option<Outcome> = None;
    for r in tries {
        if r.valid() {
            return Ok(());
        }
        if best.as_ref().is_none_or(|b| r.score > b.score) {
            best = Some(r);
        }
    }
    Err(best)
}

/// Reports `description` at `path`, followed by the errors of the closest failed alternative.
fn fail_with(out: &mut Outcome, path: &[String], description: &str, closest: Option<Outcome>) {
    out.add(path, description.into());
    if let Some(b) = closest {
        out.merge(b);
    }
}
