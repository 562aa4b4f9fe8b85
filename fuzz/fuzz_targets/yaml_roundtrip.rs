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

/// Whether a string of `v` (key or value) holds a character Helm's `toYaml` does not keep:
/// DEL, a C1 control (NEL is folded into a space or line feed, the others make `toYaml` print
/// nothing), U+FFFE or U+FFFF (see `yaml::emit`'s `unreadable_in_json` and `json_read_back`;
/// checked against helm v3.17.2). Such values do not come back from their `toYaml`, in Helm too.
/// Nor do LS and PS (U+2028/9) in a block scalar, which go-yaml reads as line breaks (ending the
/// block when the next line is not indented) and our parser as text (`yaml::reader`'s
/// `libyaml_breaks` says why they are left): `toYaml` itself prints what Helm prints. Nor does a
/// key `<<` that was no merge key (quoted or tagged): go-yaml writes it plain, a merge key then.
fn has_unkept_char(v: &Value) -> bool {
    let odd = |s: &str| {
        s.chars()
            .any(|c| matches!(c, '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{fffe}' | '\u{ffff}'))
    };
    match v {
        Value::Str(s) => odd(s),
        Value::List(l) => l.iter().any(has_unkept_char),
        Value::Map(m) => m.borrow().iter().any(|(k, v)| odd(k) || &**k == "<<" || has_unkept_char(v)),
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
    // Such values may not even read back (an LS in a block scalar), in Helm too.
    if !has_unkept_char(&v) {
        let back = yaml::parse_values(&emitted, "emitted.yaml")
            .unwrap_or_else(|e| panic!("toYaml output does not decode: {e}\n{emitted}"));
        if !has_nan(&v) {
            assert!(back == v, "round trip changed the values:\n{emitted}");
        }
    }
    let json = json::to_json(&v);
    if depth(&v) < 120 {
        serde_json::from_str::<serde_json::Value>(&json)
            .unwrap_or_else(|e| panic!("toJson output is not JSON: {e}\n{json}"));
    }
    let _ = yaml::to_yaml_pretty(&v);
    let _ = json::to_pretty_json(&v);
});
