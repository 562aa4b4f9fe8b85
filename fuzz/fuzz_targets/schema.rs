//! values.schema.json validation on an arbitrary schema and arbitrary values.
//!
//! Input: `SCHEMA_JSON \0 VALUES_YAML`. Any result is fine, an error included; a panic is a bug.
#![no_main]

use kubectl_chart::{values::schema::validate_single, yaml};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (schema, vals) = text.split_once('\0').unwrap_or((text, ""));
    let Ok(schema) = serde_json::from_str::<serde_json::Value>(schema) else {
        return;
    };
    let Ok(vals) = yaml::parse_values(vals, "values.yaml") else {
        return;
    };
    let _ = validate_single(&schema, &vals);
});
