//! `values.schema.json` validation for a chart and its enabled subcharts, with Helm v3.17's report.
//!
//! Helm 3.17 validates with `xeipuuv/gojsonschema` v1.2.0 and prints each violation as
//! `- FIELD: DESCRIPTION`, FIELD being the dotted path (`image.tag`, `(root)` for the top). What
//! gets reported depends on how that library walks a schema, not only on which keywords fail, so
//! the walk here follows its rules (checked case by case against helm v3.17.2):
//!
//! - A type mismatch ends the checks of that schema for that value: `null` against
//!   `{"type": "string", "enum": [...]}` is one type error, not also an enum error.
//! - Per value, keywords run in a fixed order: the combinators (`anyOf`, `oneOf`, `allOf`, `not`,
//!   `dependencies`, `if`), then the kind's own keywords (numbers: `multipleOf`, maxima, minima,
//!   `format`; arrays: `items`, sizes, `uniqueItems`, `contains`; objects: property counts,
//!   `required`, additional and pattern properties, `propertyNames`; strings: lengths, `pattern`,
//!   `format`), then `const` and `enum`, and for objects the properties last.
//! - A failed `anyOf`/`oneOf`/`contains` adds the errors of the alternative that came closest
//!   (by gojsonschema's score); `allOf`, `then` and `else` add the errors of their schemas.
//! - `$ref` replaces the schema it sits in (sibling keywords are ignored). Without `$schema` every
//!   keyword of drafts 4, 6 and 7 applies (gojsonschema's hybrid mode).
//! - Numbers in messages print as Go prints a `big.Float` (`1e+06`); `enum` and `const` values as
//!   Go's `encoding/json` writes them (`"\u003c"`). A known `format` fails on a number.
//! - Where Go iterates a map (properties, additional properties) the order is random in Helm;
//!   here keys are visited in sorted order.
//!
//! Remote `$ref`s (`http://...`, other files) are refused with an error naming the URI: rendering
//! must not depend on the network (Helm would fetch them).

use std::{cell::RefCell, collections::HashMap};

use regex::Regex;
use serde_json::Value as Json;

use super::Error;
use crate::{chart::Chart, gotemplate::Value};

/// Validates `values` (the top chart's coalesced values) against the chart's schema and, with
/// their own part of the values, against every subchart's. All violations are reported at once.
pub fn validate_schema(chart: &Chart, values: &Value) -> Result<(), Error> {
    let report = validate_tree(chart, values);
    if report.is_empty() {
        Ok(())
    } else {
        Err(Error::new(format!(
            "values don't meet the specifications of the schema(s) in the following chart(s):\n{report}"
        )))
    }
}

fn validate_tree(chart: &Chart, values: &Value) -> String {
    let mut out = String::new();
    if let Some((_, schema)) = &chart.schema {
        if let Err(e) = validate_single(schema, values) {
            out.push_str(&format!("{}:\n{e}", chart.name()));
        }
    }
    for sub in &chart.dependencies {
        let sub_values = values
            .as_map()
            .and_then(|m| m.borrow().get(sub.name()).cloned())
            .filter(|v| matches!(v, Value::Map(_)))
            .unwrap_or_else(Value::new_map);
        out.push_str(&validate_tree(sub, &sub_values));
    }
    out
}

/// Validates one values tree. The error is either one `- FIELD: DESCRIPTION` line per violation,
/// or, for a schema gojsonschema cannot load, its message alone (without a line break, as Helm
/// prints it).
pub fn validate_single(schema: &Json, values: &Value) -> Result<(), String> {
    let draft = Draft::of(schema);
    check_schema(schema, draft)?;
    let instance = match values {
        Value::Nil => Json::Object(serde_json::Map::new()),
        v => helm_json(v),
    };
    let walker = Walker {
        root: schema,
        draft,
        regexes: RefCell::new(HashMap::new()),
    };
    let mut result = Outcome::default();
    walker.validate(schema, &instance, &mut Vec::new(), &mut result);
    if result.errors.is_empty() {
        return Ok(());
    }
    Err(result
        .errors
        .iter()
        .map(|(field, desc)| format!("- {field}: {desc}\n"))
        .collect())
}

/// Values as Helm hands them to the validator (through YAML and back): integral floats are integers.
fn helm_json(v: &Value) -> Json {
    match v {
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 => Json::from(*f as i64),
        Value::List(l) => Json::Array(l.iter().map(helm_json).collect()),
        Value::Map(m) => Json::Object(
            m.borrow()
                .iter()
                .map(|(k, v)| (k.clone(), helm_json(v)))
                .collect(),
        ),
        other => other.to_json(),
    }
}

/// The keyword set in force: a draft named by `$schema`, or gojsonschema's hybrid of all three.
#[derive(Clone, Copy, PartialEq, PartialOrd)]
enum Draft {
    Draft4,
    Draft6,
    Draft7,
    Hybrid,
}

impl Draft {
    fn of(schema: &Json) -> Draft {
        let Some(url) = schema.get("$schema").and_then(Json::as_str) else {
            return Draft::Hybrid;
        };
        match url.trim_end_matches('#') {
            "http://json-schema.org/draft-04/schema" => Draft::Draft4,
            "http://json-schema.org/draft-06/schema" => Draft::Draft6,
            "http://json-schema.org/draft-07/schema" => Draft::Draft7,
            _ => Draft::Hybrid,
        }
    }
}

/// The types a schema allows, from `type` (a name or a list), in the order written.
fn types_of(schema: &Json) -> Vec<&str> {
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
/// (Helm prints that message instead of a list of violations).
fn check_schema(schema: &Json, draft: Draft) -> Result<(), String> {
    check_node(schema, schema, draft)
}

fn check_node(root: &Json, node: &Json, draft: Draft) -> Result<(), String> {
    let m = match node {
        Json::Bool(_) if draft >= Draft::Draft6 => return Ok(()),
        Json::Object(m) => m,
        _ => return Err("Expected: valid schema, given: Invalid JSON".into()),
    };
    let sub = |v: &Json| check_node(root, v, draft);
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
            if Regex::new(pattern).is_err() {
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
        if Regex::new(p).is_err() {
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
fn resolve_ref<'a>(root: &'a Json, reference: &str) -> Result<&'a Json, String> {
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

/// Errors found so far and gojsonschema's score: +1 for each group of checks passed, -2 for each
/// error. The score picks the closest alternative of a failed `anyOf`/`oneOf`/`contains`.
#[derive(Default)]
struct Outcome {
    errors: Vec<(String, String)>,
    score: i64,
}

impl Outcome {
    fn add(&mut self, path: &[String], description: String) {
        self.errors.push((field_of(path), description));
        self.score -= 2;
    }

    fn merge(&mut self, other: Outcome) {
        self.errors.extend(other.errors);
        self.score += other.score;
    }

    fn valid(&self) -> bool {
        self.errors.is_empty()
    }
}

/// gojsonschema's field name: the path joined with `.`, `(root)` for the top.
fn field_of(path: &[String]) -> String {
    if path.is_empty() {
        "(root)".into()
    } else {
        path.join(".")
    }
}

struct Walker<'s> {
    root: &'s Json,
    draft: Draft,
    regexes: RefCell<HashMap<String, Option<Regex>>>,
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

    fn validate(&self, schema: &Json, node: &Json, path: &mut Vec<String>, out: &mut Outcome) {
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
        if let Some(Json::Array(alts)) = m
            .get("anyOf")
            .filter(|a| a.as_array().is_some_and(|a| !a.is_empty()))
        {
            let mut best: Option<Outcome> = None;
            let mut ok = false;
            for alt in alts {
                let r = self.sub(alt, node, path);
                if r.valid() {
                    ok = true;
                    break;
                }
                if best.as_ref().is_none_or(|b| r.score > b.score) {
                    best = Some(r);
                }
            }
            if !ok {
                out.add(path, "Must validate at least one schema (anyOf)".into());
                if let Some(b) = best {
                    out.merge(b);
                }
            }
        }
        if let Some(Json::Array(alts)) = m
            .get("oneOf")
            .filter(|a| a.as_array().is_some_and(|a| !a.is_empty()))
        {
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
                out.add(path, "Must validate one and only one schema (oneOf)".into());
                if valid == 0 {
                    if let Some(b) = best {
                        out.merge(b);
                    }
                }
            }
        }
        if let Some(Json::Array(all)) = m
            .get("allOf")
            .filter(|a| a.as_array().is_some_and(|a| !a.is_empty()))
        {
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
    fn common(
        &self,
        m: &serde_json::Map<String, Json>,
        node: &Json,
        path: &mut Vec<String>,
        out: &mut Outcome,
    ) {
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
                let mut best: Option<Outcome> = None;
                let mut ok = false;
                for (i, v) in items.iter().enumerate() {
                    let r = self.sub_at(s, v, path, &i.to_string());
                    if r.valid() {
                        ok = true;
                        break;
                    }
                    if best.as_ref().is_none_or(|b| r.score > b.score) {
                        best = Some(r);
                    }
                }
                if !ok {
                    out.add(path, "At least one of the items must match".into());
                    if let Some(b) = best {
                        out.merge(b);
                    }
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

    fn string(&self, m: &serde_json::Map<String, Json>, s: &str, path: &mut Vec<String>, out: &mut Outcome) {
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

    fn number(
        &self,
        m: &serde_json::Map<String, Json>,
        node: &Json,
        path: &mut Vec<String>,
        out: &mut Outcome,
    ) {
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

fn sorted(m: &serde_json::Map<String, Json>) -> Vec<(&String, &Json)> {
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
fn type_of(v: &Json) -> &'static str {
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

/// A number as Go prints a `big.Float` with `%v`: the shortest digits, in exponent form when the
/// exponent is below -4 or at least 6 (`1e+06`, `1.5e-05`).
fn go_float(f: f64) -> String {
    if f == 0.0 {
        return "0".into();
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..6).contains(&exp) {
        return format!("{f}");
    }
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.abs())
}

/// A value as Go's `encoding/json` writes it after a round trip through `interface{}`: numbers
/// as float64 (`1.0` is `1`, exponents from 1e21), `<`, `>`, `&` escaped, keys sorted.
fn go_json(v: &Json) -> String {
    match v {
        Json::Null => "null".into(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => {
            let f = n.as_f64().unwrap_or(0.0);
            let abs = f.abs();
            if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
                let sci = format!("{f:e}");
                match sci.split_once("e") {
                    Some((m, e)) if !e.starts_with('-') => format!("{m}e+{e}"),
                    _ => sci,
                }
            } else {
                format!("{f}")
            }
        }
        Json::String(s) => go_json_string(s),
        Json::Array(items) => format!("[{}]", items.iter().map(go_json).collect::<Vec<_>>().join(",")),
        Json::Object(m) => format!(
            "{{{}}}",
            sorted(m)
                .into_iter()
                .map(|(k, v)| format!("{}:{}", go_json_string(k), go_json(v)))
                .collect::<Vec<_>>()
                .join(",")
        ),
    }
}

fn go_json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `x` is a whole multiple of `d`, computed on the decimal digits (as Go's `big.Rat` does), so
/// that 0.9 is a multiple of 0.3.
fn is_multiple(x: &Json, d: &Json) -> bool {
    let (Some(x), Some(d)) = (decimal(x), decimal(d)) else {
        return true;
    };
    let e = x.1.min(d.1);
    let scale = |(m, exp): (i128, i32)| {
        10i128
            .checked_pow((exp - e) as u32)
            .and_then(|p| m.checked_mul(p))
    };
    match (scale(x), scale(d)) {
        (Some(a), Some(b)) if b != 0 => a % b == 0,
        _ => true,
    }
}

/// A JSON number as `mantissa × 10^exponent`, from its shortest decimal digits.
fn decimal(v: &Json) -> Option<(i128, i32)> {
    let f = v.as_f64()?;
    let sci = format!("{f:e}");
    let (m, e) = sci.split_once('e')?;
    let e: i32 = e.parse().ok()?;
    let (int, frac) = m.split_once('.').unwrap_or((m, ""));
    let digits: i128 = format!("{int}{frac}").parse().ok()?;
    Some((digits, e - frac.len() as i32))
}

/// gojsonschema v1.2.0's format checks. Unknown formats pass; a known format fails on anything
/// but a string (that version's checkers only accept strings).
fn format_ok(format: &str, v: &Json) -> bool {
    const KNOWN: &[&str] = &[
        "date",
        "time",
        "date-time",
        "hostname",
        "email",
        "idn-email",
        "ipv4",
        "ipv6",
        "uri",
        "uri-reference",
        "iri",
        "iri-reference",
        "uri-template",
        "uuid",
        "regex",
        "json-pointer",
        "relative-json-pointer",
    ];
    if !KNOWN.contains(&format) {
        return true;
    }
    let Json::String(s) = v else { return false };
    let standard = |format: &str| {
        let schema = serde_json::json!({ "format": format });
        jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .map_or(true, |validator| validator.is_valid(v))
    };
    // Go's `time.Parse` layouts: `time` is `15:04:05` with an optional zone (and, as Go allows
    // when parsing, fractions of a second); `date-time` also takes a bare date or time.
    let go_time = || {
        Regex::new(r"^([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)?$")
            .is_ok_and(|re| re.is_match(s))
    };
    match format {
        "time" => go_time(),
        "date-time" => standard("date-time") || standard("date") || go_time(),
        other => standard(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (case, schema, values.yaml, Helm's order is random (map iteration), report). Every report is
    /// helm v3.17.2's stderr for a chart `c` with that schema and values, without the header line
    /// and `c:` line that [`validate_schema`] adds.
    #[rustfmt::skip]
    const CASES: &[(&str, &str, &str, bool, Result<(), &str>)] = &[
        ("null vs string enum", r##"{"properties": {"a": {"type": "string", "enum": ["x", "y"]}}}"##, "a: null\n", false, Err("- a: Invalid type. Expected: string, given: null\n")),
        ("wrong enum", r##"{"properties": {"a": {"type": "string", "enum": ["x", "y", 1, {"k": "<v>"}, null, 1.5]}}}"##, "a: z\n", false, Err("- a: a must be one of the following: \"x\", \"y\", 1, {\"k\":\"\\u003cv\\u003e\"}, null, 1.5\n")),
        ("const", r##"{"properties": {"a": {"const": {"b": [1, "x"]}}}}"##, "a: 2\n", false, Err("- a: a does not match: {\"b\":[1,\"x\"]}\n")),
        ("required order", r##"{"required": ["z", "a", "m"]}"##, "q: 1\n", false, Err("- (root): z is required\n- (root): a is required\n- (root): m is required\n")),
        ("min max", r##"{"properties": {"a": {"minimum": 1000000}, "b": {"maximum": 1e-05}, "c": {"exclusiveMinimum": 5}, "d": {"exclusiveMaximum": 2.5}, "e": {"multipleOf": 0.3}, "f": {"minimum": 3, "exclusiveMinimum": true}}}"##, "a: 5\nb: 7\nc: 5\nd: 3\ne: 1\nf: 2\n", true, Err("- c: Must be greater than 5\n- d: Must be less than 2.5\n- e: Must be a multiple of 0.3\n- f: Must be greater than 3\n- a: Must be greater than or equal to 1e+06\n- b: Must be less than or equal to 1e-05\n")),
        ("lengths", r##"{"properties": {"a": {"minLength": 3, "maxLength": 1, "pattern": "^x+$", "format": "email"}}}"##, "a: ab\n", false, Err("minLength cannot be greater than maxLength")),
        ("format on number", r##"{"properties": {"a": {"format": "date"}, "b": {"format": "int32"}, "c": {"type": "string", "format": "date-time"}, "d": {"format": "ipv4"}, "e": {"format": "uri"}, "f": {"format": "hostname"}}}"##, "a: 5\nb: 6\nc: 2020-01-01\nd: 1.2.3\ne: foo\nf: a_b\n", true, Err("- d: Does not match format 'ipv4'\n- e: Does not match format 'uri'\n- f: Does not match format 'hostname'\n- a: Does not match format 'date'\n")),
        ("items", r##"{"properties": {"a": {"type": "array", "items": {"type": "string"}, "minItems": 5, "maxItems": 1, "uniqueItems": true}}}"##, "a: [1, 1, x, 1]\n", false, Err("- a.0: Invalid type. Expected: string, given: integer\n- a.1: Invalid type. Expected: string, given: integer\n- a.3: Invalid type. Expected: string, given: integer\n- a: Array must have at least 5 items\n- a: Array must have at most 1 items\n- a: array items[0,1] must be unique\n- a: array items[1,3] must be unique\n")),
        ("tuple items", r##"{"properties": {"a": {"items": [{"type": "string"}, {"type": "integer"}], "additionalItems": false}, "b": {"items": [{"type": "string"}], "additionalItems": {"type": "boolean"}}}}"##, "a: [1, x, 3]\nb: [x, 1, true, 2]\n", false, Err("- a.0: Invalid type. Expected: string, given: integer\n- a.1: Invalid type. Expected: integer, given: string\n- a: No additional items allowed on array\n- b.1: Invalid type. Expected: boolean, given: integer\n- b.3: Invalid type. Expected: boolean, given: integer\n")),
        ("additional properties", r##"{"properties": {"a": {}}, "additionalProperties": false}"##, "z: 1\nb: 2\na: 3\n", true, Err("- (root): Additional property z is not allowed\n- (root): Additional property b is not allowed\n")),
        ("additional schema", r##"{"properties": {"a": {}}, "additionalProperties": {"type": "string"}}"##, "z: 1\nb: 2\na: 3\n", true, Err("- b: Invalid type. Expected: string, given: integer\n- z: Invalid type. Expected: string, given: integer\n")),
        ("pattern properties", r##"{"patternProperties": {"^x": {"type": "string"}}, "additionalProperties": false}"##, "xa: 1\nb: 2\n", false, Err("- (root): Additional property b is not allowed\n- xa: Invalid type. Expected: string, given: integer\n")),
        ("anyOf best", r##"{"properties": {"a": {"anyOf": [{"type": "string"}, {"type": "object", "required": ["p", "q"], "properties": {"r": {"type": "integer"}}}]}}}"##, "a: {p: 1, r: x}\n", false, Err("- a: Must validate at least one schema (anyOf)\n- a: q is required\n- a.r: Invalid type. Expected: integer, given: string\n")),
        ("oneOf none", r##"{"properties": {"a": {"oneOf": [{"type": "string"}, {"type": "integer", "minimum": 10}]}}}"##, "a: 5\n", false, Err("- a: Must validate one and only one schema (oneOf)\n- a: Must be greater than or equal to 10\n")),
        ("oneOf two", r##"{"properties": {"a": {"oneOf": [{"type": "integer"}, {"minimum": 1}]}}}"##, "a: 5\n", false, Err("- a: Must validate one and only one schema (oneOf)\n")),
        ("allOf", r##"{"properties": {"a": {"allOf": [{"type": "integer"}, {"minimum": 10}, {"maximum": 1}]}}}"##, "a: 5\n", false, Err("- a: Must be greater than or equal to 10\n- a: Must be less than or equal to 1\n- a: Must validate all the schemas (allOf)\n")),
        ("not", r##"{"properties": {"a": {"not": {"type": "integer"}}}}"##, "a: 5\n", false, Err("- a: Must not validate the schema (not)\n")),
        ("dependencies", r##"{"dependencies": {"a": ["b", "c"], "d": {"required": ["e"]}}}"##, "a: 1\nd: 2\n", false, Err("- (root): Has a dependency on b\n- (root): Has a dependency on c\n- (root): e is required\n")),
        ("if then else", r##"{"properties": {"a": {"if": {"type": "integer"}, "then": {"minimum": 10}, "else": {"type": "boolean"}}, "b": {"if": {"type": "integer"}, "then": {"minimum": 10}, "else": {"type": "boolean"}}}}"##, "a: 5\nb: x\n", true, Err("- a: Must validate \"then\" as \"if\" was valid\n- a: Must be greater than or equal to 10\n- b: Must validate \"else\" as \"if\" was not valid\n- b: Invalid type. Expected: boolean, given: string\n")),
        ("type list", r##"{"properties": {"a": {"type": ["string", "null"]}, "b": {"type": ["integer", "boolean"]}}}"##, "a: 1\nb: 1.5\n", false, Err("- a: Invalid type. Expected: [string,null], given: integer\n- b: Invalid type. Expected: [integer,boolean], given: number\n")),
        ("false schema", r##"{"properties": {"a": false}}"##, "a: 1\n", false, Err("- a: False always fails validation\n")),
        ("ref", r##"{"definitions": {"p": {"type": "integer", "minimum": 3}}, "properties": {"a": {"$ref": "#/definitions/p", "type": "string"}}}"##, "a: 1\n", false, Err("- a: Must be greater than or equal to 3\n")),
        ("contains", r##"{"properties": {"a": {"contains": {"type": "string", "minLength": 3}}}}"##, "a: [1, ab]\n", false, Err("- a: At least one of the items must match\n- a.1: String length must be greater than or equal to 3\n")),
        ("propertyNames", r##"{"properties": {"a": {"propertyNames": {"maxLength": 2}}}}"##, "a: {abc: 1, de: 2}\n", false, Err("- a: Property name of \"abc\" does not match\n- a: String length must be less than or equal to 2\n")),
        ("min max properties", r##"{"properties": {"a": {"minProperties": 3}, "b": {"maxProperties": 1}}}"##, "a: {x: 1}\nb: {x: 1, y: 2}\n", false, Err("- a: Must have at least 3 properties\n- b: Must have at most 1 properties\n")),
        ("nested fields", r##"{"properties": {"a": {"properties": {"b.c": {"type": "array", "items": {"properties": {"d": {"type": "string"}}}}}}}}"##, "a: {b.c: [{d: 1}, {d: x}, {d: 2}]}\n", false, Err("- a.b.c.0.d: Invalid type. Expected: string, given: integer\n- a.b.c.2.d: Invalid type. Expected: string, given: integer\n")),
        ("root type", r##"{"type": "array"}"##, "a: 1\n", false, Err("- (root): Invalid type. Expected: array, given: object\n")),
        ("integer from float", r##"{"properties": {"a": {"type": "integer"}, "b": {"type": "integer"}, "c": {"type": "number"}}}"##, "a: 1.0\nb: 1.5\nc: 2\n", false, Err("- b: Invalid type. Expected: integer, given: number\n")),
        ("enum number", r##"{"properties": {"a": {"enum": [1.0, 2]}, "b": {"enum": [1.0, 2]}}}"##, "a: 1\nb: 3\n", false, Err("- b: b must be one of the following: 1, 2\n")),
        ("big numbers", r##"{"properties": {"a": {"maximum": 1e+21}, "b": {"minimum": 123456789}, "c": {"maximum": -0.5}, "d": {"minimum": 1e-07}}}"##, "a: 1e22\nb: 1\nc: 1\nd: 0\n", true, Err("- b: Must be greater than or equal to 1.23456789e+08\n- c: Must be less than or equal to -0.5\n- d: Must be greater than or equal to 1e-07\n- a: Must be less than or equal to 1e+21\n")),
        ("draft4 exclusive", r##"{"$schema": "http://json-schema.org/draft-04/schema#", "properties": {"a": {"maximum": 3, "exclusiveMaximum": true}}}"##, "a: 3\n", false, Err("- a: Must be less than 3\n")),
        ("string escapes", r##"{"properties": {"a": {"enum": ["a<b", "c&d", "\u00e9", "\u2028"]}, "b": {"const": "x\"y"}}}"##, "a: 1\nb: 2\n", false, Err("- a: a must be one of the following: \"a\\u003cb\", \"c\\u0026d\", \"é\", \"\\u2028\"\n- b: b does not match: \"x\\\"y\"\n")),
        ("unique objects", r##"{"properties": {"a": {"uniqueItems": true}}}"##, "a: [{x: 1}, {x: 1.0}, 2, 2.0, 2]\n", false, Err("- a: array items[0,1] must be unique\n- a: array items[2,3] must be unique\n- a: array items[3,4] must be unique\n")),
        ("bad type", r##"{"properties": {"a": {"type": "strng"}}}"##, "a: 1\n", false, Err("has a primitive type that is NOT VALID -- given: /strng/ Expected valid values are:[array boolean integer number null object string]")),
        ("bad pattern", r##"{"properties": {"a": {"pattern": "(x"}}}"##, "a: 1\n", false, Err("pattern must be a valid regex")),
        ("bad pattern props", r##"{"patternProperties": {"(x": {}}}"##, "a: 1\n", false, Err("Invalid regex pattern '(x'")),
        ("min gt max items", r##"{"properties": {"a": {"minItems": 3, "maxItems": 1}}}"##, "a: 1\n", false, Ok(())),
        ("min gt max props", r##"{"properties": {"a": {"minProperties": 3, "maxProperties": 1}}}"##, "a: 1\n", false, Err("minProperties cannot be greater than maxProperties")),
        ("negative minLength", r##"{"properties": {"a": {"minLength": -1}}}"##, "a: 1\n", false, Err("minLength must be greater than or equal to 0")),
        ("multipleOf zero", r##"{"properties": {"a": {"multipleOf": 0}}}"##, "a: 1\n", false, Err("multipleOf must be strictly greater than 0")),
        ("ref missing", r##"{"properties": {"a": {"$ref": "#/definitions/nope"}}}"##, "a: 1\n", false, Err("Object has no key 'definitions'")),
        ("enum dup", r##"{"properties": {"a": {"enum": [1, 1]}}}"##, "a: 1\n", false, Err("enum items must be unique")),
        ("required not array", r##"{"required": "a"}"##, "a: 1\n", false, Err("required must be of an array")),
        ("bool root", r##"true"##, "a: 1\n", false, Ok(())),
        ("https schema url", r##"{"$schema": "https://json-schema.org/draft-07/schema#", "properties": {"a": {"type": "string"}}}"##, "a: 1\n", false, Err("- a: Invalid type. Expected: string, given: integer\n")),
        ("draft4 bool exclusive number", r##"{"$schema": "http://json-schema.org/draft-04/schema#", "properties": {"a": {"exclusiveMinimum": 3}}}"##, "a: 1\n", false, Err("Invalid type. Expected: boolean, given: exclusiveMinimum")),
        ("draft4 false schema", r##"{"$schema": "http://json-schema.org/draft-04/schema#", "properties": {"a": false}}"##, "a: 1\n", false, Err("Expected: valid schema, given: Invalid JSON")),
        ("draft6 const", r##"{"$schema": "http://json-schema.org/draft-06/schema#", "properties": {"a": {"const": 2, "if": {"type": "integer"}, "then": {"minimum": 5}}}}"##, "a: 1\n", false, Err("- a: a does not match: 2\n")),
        ("draft4 const", r##"{"$schema": "http://json-schema.org/draft-04/schema#", "properties": {"a": {"const": 2}}}"##, "a: 1\n", false, Ok(())),
        ("null values whole", r##"{"type": "object", "required": ["a"]}"##, "", false, Err("- (root): a is required\n")),
        ("multipleOf on decimal digits", r##"{"properties": {"a": {"multipleOf": 0.3}}}"##, "a: 0.9\n", false, Ok(())),
    ];

    #[test]
    fn reports_match_gojsonschema() {
        for (name, schema, values, unordered, want) in CASES {
            let schema: Json = serde_json::from_str(schema).expect(name);
            let values = crate::yaml::parse_values(values, "values.yaml").expect(name);
            let got = validate_single(&schema, &values);
            let lines = |s: &str| {
                let mut l: Vec<String> = s.lines().map(String::from).collect();
                l.sort();
                l
            };
            match (&got, want) {
                (Err(g), Err(w)) if *unordered => assert_eq!(lines(g), lines(w), "{name}"),
                _ => assert_eq!(got, want.map_err(String::from), "{name}"),
            }
        }
    }

    #[test]
    fn remote_ref_refused() {
        let schema = serde_json::json!({"properties": {"a": {"$ref": "https://example.com/schema.json"}}});
        let err = validate_single(&schema, &Value::new_map()).unwrap_err();
        assert!(err.contains("https://example.com/schema.json"), "{err}");
    }

    #[test]
    fn go_number_texts() {
        let cases: &[(f64, &str, &str)] = &[
            (1.0, "1", "1"),
            (2.5, "2.5", "2.5"),
            (100000.0, "100000", "100000"),
            (1e6, "1e+06", "1000000"),
            (0.0001, "0.0001", "0.0001"),
            (1e-5, "1e-05", "0.00001"),
            (1e-7, "1e-07", "1e-7"),
            (1e21, "1e+21", "1e+21"),
            (-0.5, "-0.5", "-0.5"),
            (123456789.0, "1.23456789e+08", "123456789"),
        ];
        for (f, big_float, json) in cases {
            assert_eq!(go_float(*f), *big_float, "big.Float {f}");
            assert_eq!(go_json(&serde_json::json!(f)), *json, "json {f}");
        }
    }
}
