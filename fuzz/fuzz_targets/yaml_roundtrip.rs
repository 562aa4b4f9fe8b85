//! The YAML decoder and the `toYaml`/`toJson` emitters on arbitrary text: whatever decodes as
//! values must emit YAML that decodes to the same values, and JSON that is valid JSON.
#![no_main]

use gotemplate::{json, Value};
use kubectl_chart::yaml;
use libfuzzer_sys::fuzz_target;

/// NaN never equals itself, so trees holding one cannot be compared after the round trip.
fn has_nan(v: &Value) -> bool {
    match v {
        Value::Float(f) => f.is_nan(),
        Value::List(l) => l.iter().any(has_nan),
        Value::Map(m) => m.borrow().values().any(has_nan),
        _ => false,
    }
}

/// Nesting of a value; serde_json, our JSON checker, stops at 128 levels.
fn depth(v: &Value) -> usize {
    match v {
        Value::List(l) => 1 + l.iter().map(depth).max().unwrap_or(0),
        Value::Map(m) => 1 + m.borrow().values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = yaml::parse_documents(text, "f.yaml");
    let _ = yaml::parse_any(text, "f.yaml");
    let Ok(v) = yaml::parse_values(text, "values.yaml") else {
        return;
    };
    // `toYaml` trims the line feed go-yaml ends with, as Helm does; without it a literal block
    // ending the output reads back one line break short (in Helm too), so it is put back here.
    let emitted = yaml::to_yaml(&v) + "\n";
    let back = yaml::parse_values(&emitted, "emitted.yaml")
        .unwrap_or_else(|e| panic!("toYaml output does not decode: {e}\n{emitted}"));
    if !has_nan(&v) {
        assert!(back == v, "round trip changed the values:\n{emitted}");
    }
    let json = json::to_json(&v);
    if depth(&v) < 120 {
        serde_json::from_str::<serde_json::Value>(&json)
            .unwrap_or_else(|e| panic!("toJson output is not JSON: {e}\n{json}"));
    }
    let _ = yaml::to_yaml_pretty(&v);
    let _ = json::to_pretty_json(&v);
});
