//! `values.schema.json` validation for a chart and its enabled subcharts, with Helm v3.17's report.
//!
//! Helm 3.17 validates with `xeipuuv/gojsonschema` and prints each violation as
//! `- FIELD: DESCRIPTION`, FIELD being the dotted path (`image.tag`, `(root)` for the top). The
//! checks here run on the `jsonschema` crate and its error kinds are reworded into gojsonschema's
//! English messages, so CI logs read the same.
//!
//! Remote `$ref`s (`http://...`) are refused with an error naming the URI: rendering must not
//! depend on the network (Helm would fetch them). Schemas without `$schema` are read as draft 7,
//! the newest draft gojsonschema knows.

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

struct RefuseRemote;

impl jsonschema::Retrieve for RefuseRemote {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Json, Box<dyn std::error::Error + Send + Sync>> {
        Err(format!(
            "remote $ref {} is not supported (schemas are never fetched over the network)",
            uri.as_str()
        )
        .into())
    }
}

/// Validates one values tree; the error text is one `- FIELD: DESCRIPTION` line per violation.
pub fn validate_single(schema: &Json, values: &Value) -> Result<(), String> {
    let mut opts = jsonschema::options().with_retriever(RefuseRemote);
    if schema.get("$schema").is_none() {
        opts = opts.with_draft(jsonschema::Draft::Draft7);
    }
    let validator = opts.build(schema).map_err(|e| e.to_string())?;
    let instance = match values {
        Value::Nil => Json::Object(serde_json::Map::new()),
        v => helm_json(v),
    };
    let mut out = String::new();
    for err in validator.iter_errors(&instance) {
        for line in describe(&err) {
            out.push_str(&format!("- {line}\n"));
        }
    }
    if out.is_empty() {
        Ok(())
    } else {
        Err(out)
    }
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

/// gojsonschema's field name for a JSON pointer: `/a/0/b` → `a.0.b`, the root → `(root)`.
fn field_of(pointer: &str) -> String {
    if pointer.is_empty() {
        return "(root)".into();
    }
    pointer
        .trim_start_matches('/')
        .split('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect::<Vec<_>>()
        .join(".")
}

/// gojsonschema's type name for an instance value.
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

fn number_text(v: &Json) -> String {
    match v {
        Json::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(f)) if f.fract() == 0.0 && f.abs() < 1e21 => format!("{}", f as i128),
            (None, Some(f)) => f.to_string(),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

/// One violation in gojsonschema's words (`FIELD: DESCRIPTION`); some kinds yield several lines.
fn describe(err: &jsonschema::ValidationError<'_>) -> Vec<String> {
    use jsonschema::error::{TypeKind, ValidationErrorKind as K};
    let field = field_of(err.instance_path().as_str());
    let line = |d: String| vec![format!("{field}: {d}")];
    match err.kind() {
        K::Type { kind } => {
            let expected = match kind {
                TypeKind::Single(t) => t.to_string(),
                TypeKind::Multiple(set) => {
                    let names: Vec<String> = set.iter().map(|t| t.to_string()).collect();
                    format!("[{}]", names.join(","))
                }
            };
            line(format!(
                "Invalid type. Expected: {expected}, given: {}",
                type_of(err.instance())
            ))
        }
        K::Required { property } => {
            let p = property
                .as_str()
                .map_or_else(|| property.to_string(), str::to_string);
            line(format!("{p} is required"))
        }
        K::AdditionalProperties { unexpected } => unexpected
            .iter()
            .map(|p| format!("{field}: Additional property {p} is not allowed"))
            .collect(),
        K::Enum { options } => {
            let allowed = match options.as_ref() {
                Json::Array(items) => items.iter().map(Json::to_string).collect::<Vec<_>>().join(", "),
                other => other.to_string(),
            };
            line(format!("{field} must be one of the following: {allowed}"))
        }
        K::Constant { expected_value } => line(format!("{field} does not match: {expected_value}")),
        K::Minimum { limit } => line(format!("Must be greater than or equal to {}", number_text(limit))),
        K::Maximum { limit } => line(format!("Must be less than or equal to {}", number_text(limit))),
        K::ExclusiveMinimum { limit } => line(format!("Must be greater than {}", number_text(limit))),
        K::ExclusiveMaximum { limit } => line(format!("Must be less than {}", number_text(limit))),
        K::MultipleOf { multiple_of } => line(format!(
            "Must be a multiple of {}",
            number_text(&Json::from(*multiple_of))
        )),
        K::MinLength { limit } => line(format!("String length must be greater than or equal to {limit}")),
        K::MaxLength { limit } => line(format!("String length must be less than or equal to {limit}")),
        K::Pattern { pattern } => line(format!("Does not match pattern '{pattern}'")),
        K::Format { format } => line(format!("Does not match format '{format}'")),
        K::MinItems { limit } => line(format!("Array must have at least {limit} items")),
        K::MaxItems { limit } => line(format!("Array must have at most {limit} items")),
        K::UniqueItems => {
            let (i, j) = first_duplicate(err.instance()).unwrap_or((0, 1));
            line(format!("array items[{i},{j}] must be unique"))
        }
        K::MinProperties { limit } => line(format!("Must have at least {limit} properties")),
        K::MaxProperties { limit } => line(format!("Must have at most {limit} properties")),
        K::AnyOf { .. } => line("Must validate at least one schema (anyOf)".into()),
        K::OneOfNotValid { .. } | K::OneOfMultipleValid { .. } => {
            line("Must validate one and only one schema (oneOf)".into())
        }
        K::Not { .. } => line("Must not validate the schema (not)".into()),
        K::FalseSchema => line("False always fails validation".into()),
        K::Contains => line("At least one of the items must match".into()),
        K::AdditionalItems { .. } => line("No additional items allowed on array".into()),
        _ => line(err.to_string()),
    }
}

fn first_duplicate(v: &Json) -> Option<(usize, usize)> {
    let items = v.as_array()?;
    for j in 1..items.len() {
        for i in 0..j {
            if items[i] == items[j] {
                return Some((i, j));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(j: Json) -> Value {
        Value::from_json(&j, false)
    }

    #[test]
    fn single_schema_table() {
        let schema = serde_json::json!({
            "type": "object",
            "required": ["image"],
            "additionalProperties": false,
            "properties": {
                "image": {"type": "object", "properties": {
                    "tag": {"type": "string"},
                    "pullPolicy": {"enum": ["Always", "IfNotPresent"]}
                }},
                "replicas": {"type": "integer", "minimum": 1},
                "name": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 5}
            }
        });
        let cases: &[(&str, Json, Result<(), &str>)] = &[
            ("valid", serde_json::json!({"image": {"tag": "v1"}, "replicas": 2.0}), Ok(())),
            ("missing required", serde_json::json!({}), Err("- (root): image is required\n")),
            (
                "wrong type",
                serde_json::json!({"image": {"tag": 1.0}}),
                Err("- image.tag: Invalid type. Expected: string, given: integer\n"),
            ),
            (
                "float for integer",
                serde_json::json!({"image": {}, "replicas": 1.5}),
                Err("- replicas: Invalid type. Expected: integer, given: number\n"),
            ),
            (
                "additional property",
                serde_json::json!({"image": {}, "foo": true}),
                Err("- (root): Additional property foo is not allowed\n"),
            ),
            (
                "enum",
                serde_json::json!({"image": {"pullPolicy": "Sometimes"}}),
                Err("- image.pullPolicy: image.pullPolicy must be one of the following: \"Always\", \"IfNotPresent\"\n"),
            ),
            ("minimum", serde_json::json!({"image": {}, "replicas": 0.0}), Err("- replicas: Must be greater than or equal to 1\n")),
            ("pattern", serde_json::json!({"image": {}, "name": "A"}), Err("- name: Does not match pattern '^[a-z]+$'\n")),
        ];
        for (name, v, want) in cases {
            let got = validate_single(&schema, &vals(v.clone()));
            assert_eq!(got, want.map_err(String::from), "{name}");
        }
    }

    #[test]
    fn remote_ref_refused() {
        let schema = serde_json::json!({"$ref": "https://example.com/schema.json"});
        let err = validate_single(&schema, &Value::new_map()).unwrap_err();
        assert!(err.contains("https://example.com/schema.json"), "{err}");
    }
}
