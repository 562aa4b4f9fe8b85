//! `values.yaml` rules (Helm's `rules.ValuesWithOverrides`): the file exists (a recommendation),
//! parses, and — with the user's `-f`/`--set` values over it — meets `values.schema.json`.
//! Only the chart's own schema is checked here; subchart schemas are checked with the rendered
//! values by the template rule, as in Helm.

use super::{Linter, Severity};
use crate::values::coalesce;
use gotemplate::Value;

const FILE: &str = "values.yaml";

/// Runs the values rules. `data` is `values.yaml` (None when it does not exist, an error in Go's
/// words when it cannot be read), `schema` the
/// bytes of `values.schema.json` (None or empty when there is none), `overrides` the user's values;
/// `warn` gets Helm's coalescing warnings (a table over a scalar, …).
pub fn check(
    linter: &mut Linter,
    data: Option<Result<&[u8], String>>,
    schema: Option<&[u8]>,
    overrides: &Value,
    warn: &mut dyn FnMut(String),
) {
    let Some(data) = data else {
        linter.run(Severity::Info, FILE, Err("file does not exist".into()));
        return;
    };
    let result = data
        .map_err(|e| format!("unable to parse YAML: {e}"))
        .and_then(|d| validate(d, schema, overrides, warn));
    linter.run(Severity::Error, FILE, result);
}

fn validate(
    data: &[u8],
    schema: Option<&[u8]>,
    overrides: &Value,
    warn: &mut dyn FnMut(String),
) -> Result<(), String> {
    let text = String::from_utf8_lossy(data);
    let values = crate::yaml::parse_values(&text, "")
        .map_err(|e| format!("unable to parse YAML: {}", crate::yaml::go_error(&text, &e)))?;
    // The user's values win over the file's, as they will when the chart is installed.
    let merged = match overrides.deep_copy() {
        Value::Map(m) => m,
        _ => Value::new_map().as_map().cloned().unwrap_or_default(),
    };
    if let Value::Map(file) = &values {
        coalesce::coalesce_tables(&merged, file, "", false, warn);
    }
    // Helm coalesces (and warns) before it looks for a schema.
    let Some(schema) = schema.filter(|s| !s.is_empty()) else {
        return Ok(());
    };
    let schema: serde_json::Value = serde_json::from_slice(schema).map_err(|e| e.to_string())?;
    crate::values::schema::validate_single(&schema, &Value::Map(merged))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lint(values: Option<&str>, schema: Option<&str>, set: &[&str]) -> Vec<String> {
        let overrides = crate::values::merge_user_values(&crate::values::ValuesOptions {
            set: set.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        })
        .unwrap();
        let mut l = Linter::default();
        check(
            &mut l,
            values.map(|v| Ok(v.as_bytes())),
            schema.map(str::as_bytes),
            &overrides,
            &mut |_| {},
        );
        l.messages.iter().map(|m| m.to_string()).collect()
    }

    #[test]
    fn values_rules_report_helms_messages() {
        let schema = r#"{"type":"object","properties":{"replicas":{"type":"integer"}}}"#;
        type Case = (
            &'static str,
            Option<&'static str>,
            Option<&'static str>,
            &'static [&'static str],
            &'static [&'static str],
        );
        let cases: &[Case] = &[
            (
                "no file",
                None,
                Some(schema),
                &[],
                &["[INFO] values.yaml: file does not exist"],
            ),
            ("no schema", Some("replicas: x\n"), None, &[], &[]),
            ("empty schema", Some("replicas: x\n"), Some(""), &[], &[]),
            ("valid", Some("replicas: 1\n"), Some(schema), &[], &[]),
            (
                "violation",
                Some("replicas: x\n"),
                Some(schema),
                &[],
                &["[ERROR] values.yaml: - replicas: Invalid type. Expected: integer, given: string\n"],
            ),
            (
                "override fixes it",
                Some("replicas: x\n"),
                Some(schema),
                &["replicas=2"],
                &[],
            ),
            (
                "override breaks it",
                Some("replicas: 1\n"),
                Some(schema),
                &["replicas=two"],
                &["[ERROR] values.yaml: - replicas: Invalid type. Expected: integer, given: string\n"],
            ),
        ];
        for (name, values, schema, set, want) in cases {
            assert_eq!(lint(*values, *schema, set), *want, "{name}");
        }
    }

    #[test]
    fn unreadable_values_are_an_error() {
        let mut l = Linter::default();
        check(
            &mut l,
            Some(Err("read /c/values.yaml: is a directory".into())),
            None,
            &Value::new_map(),
            &mut |_| {},
        );
        assert_eq!(
            l.messages[0].to_string(),
            "[ERROR] values.yaml: unable to parse YAML: read /c/values.yaml: is a directory"
        );
    }

    #[test]
    fn unparsable_values_are_an_error() {
        let got = lint(Some("a: [1\n"), None, &[]);
        assert_eq!(got.len(), 1);
        assert!(
            got[0].starts_with("[ERROR] values.yaml: unable to parse YAML: "),
            "{got:?}"
        );
    }
}
