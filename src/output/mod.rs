//! Printers: how results reach the user as a table, JSON or YAML, written to any `Write` so tests
//! can capture them, and the colour policy (`NO_COLOR`).
//!
//! The encodings follow Helm's `pkg/cli/output`: JSON is Go's `json.Encoder` (one compact line,
//! HTML-escaped, then a newline), YAML is `sigs.k8s.io/yaml.Marshal` (map keys sorted), and a
//! table is gosuri/uitable's (see [`Table`]). Entry points: [`OutputFormat`] for `-o`, [`Table`],
//! [`write_json`]/[`write_yaml`], and the release printers in [`release`]. This module decides
//! no content: what goes into a row or an object is the printer's caller's data, untouched.

pub mod progress;
pub mod release;
pub mod repo;
mod table;
pub mod time;
pub mod wait;

use std::io::{self, Write};

pub use table::Table;

/// `-o/--output`: Helm's three formats (`pkg/cli/output.Format`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OutputFormat {
    /// Human-readable, the default.
    #[default]
    Table,
    /// One line of JSON.
    Json,
    /// YAML.
    Yaml,
}

impl OutputFormat {
    /// Every format, in the order help lists them.
    pub const ALL: [OutputFormat; 3] = [OutputFormat::Table, OutputFormat::Json, OutputFormat::Yaml];

    /// The flag value.
    pub fn as_str(self) -> &'static str {
        match self {
            OutputFormat::Table => "table",
            OutputFormat::Json => "json",
            OutputFormat::Yaml => "yaml",
        }
    }
}

impl std::fmt::Display for OutputFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for OutputFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<OutputFormat, String> {
        OutputFormat::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            // Helm's ErrInvalidFormatType text, plus what would have been accepted.
            .ok_or_else(|| format!("invalid format type {s:?}: use table, json or yaml"))
    }
}

/// Writes `v` as Go's `json.NewEncoder(out).Encode(v)` does: compact, with `<`, `>`, `&`,
/// U+2028 and U+2029 escaped, and a final newline. Object keys keep the order they have in `v`
/// (struct field order in Go); callers sort map data first with [`sort_keys`].
pub fn write_json(out: &mut dyn Write, v: &serde_json::Value) -> io::Result<()> {
    let mut text = go_json(v);
    text.push('\n');
    out.write_all(text.as_bytes())
}

/// `v` as Go's `json.Marshal` text (without the encoder's newline).
pub fn go_json(v: &serde_json::Value) -> String {
    gotemplate::gostr::json_html_escape(&v.to_string())
}

/// Writes `v` as `sigs.k8s.io/yaml.Marshal` does (JSON read back by go-yaml v2, so every map's
/// keys come out sorted), ending in a newline.
pub fn write_yaml(out: &mut dyn Write, v: &serde_json::Value) -> io::Result<()> {
    let mut text = crate::yaml::json_to_yaml(&sort_keys(v));
    text.push('\n');
    out.write_all(text.as_bytes())
}

/// `v` with every object's keys in byte order, as Go marshals maps.
pub fn sort_keys(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => {
            let mut pairs: Vec<(&String, &serde_json::Value)> = m.iter().collect();
            pairs.sort_by(|a, b| a.0.cmp(b.0));
            serde_json::Value::Object(
                pairs
                    .into_iter()
                    .map(|(k, x)| (k.clone(), sort_keys(x)))
                    .collect(),
            )
        }
        serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(sort_keys).collect()),
        other => other.clone(),
    }
}

/// Whether to colour output on a stream: only on a terminal, and never when `NO_COLOR` is set to
/// a non-empty value (<https://no-color.org>).
pub fn color_enabled(stream_is_terminal: bool) -> bool {
    color_policy(std::env::var_os("NO_COLOR").as_deref(), stream_is_terminal)
}

fn color_policy(no_color: Option<&std::ffi::OsStr>, stream_is_terminal: bool) -> bool {
    let suppressed = no_color.is_some_and(|v| !v.is_empty());
    stream_is_terminal && !suppressed
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn formats_parse_as_helms() {
        for (name, input, want) in [
            ("table", "table", Some(OutputFormat::Table)),
            ("json", "json", Some(OutputFormat::Json)),
            ("yaml", "yaml", Some(OutputFormat::Yaml)),
            ("case matters", "JSON", None),
            ("unknown", "wide", None),
        ] {
            assert_eq!(input.parse::<OutputFormat>().ok(), want, "{name}");
        }
    }

    #[test]
    fn json_is_go_encoder_output() {
        // encoding/json: compact, HTMLEscape'd, Encode appends "\n".
        let cases = [
            (
                "struct order kept",
                json!({"revision": 1, "chart": "a-1.0"}),
                "{\"revision\":1,\"chart\":\"a-1.0\"}\n",
            ),
            (
                "html escaped",
                json!(["<a>&b"]),
                "[\"\\u003ca\\u003e\\u0026b\"]\n",
            ),
            (
                "line separators",
                json!("x\u{2028}y\u{2029}"),
                "\"x\\u2028y\\u2029\"\n",
            ),
            ("empty list", json!([]), "[]\n"),
            ("null", json!(null), "null\n"),
        ];
        for (name, v, want) in cases {
            let mut out = Vec::new();
            write_json(&mut out, &v).expect(name);
            assert_eq!(String::from_utf8(out).expect(name), want, "{name}");
        }
    }

    #[test]
    fn yaml_is_sigs_yaml_marshal_output() {
        // sigs.k8s.io/yaml.Marshal: sorted keys, trailing newline; nil map → "null", empty slice → "[]".
        let cases = [
            (
                "sorted keys",
                json!({"b": 1, "a": {"d": true, "c": "x"}}),
                "a:\n  c: x\n  d: true\nb: 1\n",
            ),
            (
                "list of objects",
                json!([{"revision": 1, "app_version": "1.0"}]),
                "- app_version: \"1.0\"\n  revision: 1\n",
            ),
            ("null", json!(null), "null\n"),
            ("empty list", json!([]), "[]\n"),
            ("empty map", json!({}), "{}\n"),
        ];
        for (name, v, want) in cases {
            let mut out = Vec::new();
            write_yaml(&mut out, &v).expect(name);
            assert_eq!(String::from_utf8(out).expect(name), want, "{name}");
        }
    }

    #[test]
    fn no_color_policy() {
        use std::ffi::OsStr;
        let cases = [
            ("terminal, unset", None, true, true),
            ("pipe, unset", None, false, false),
            ("terminal, set", Some("1"), true, false),
            ("terminal, set to anything", Some("false"), true, false),
            // no-color.org: only a non-empty value disables colour.
            ("terminal, empty", Some(""), true, true),
        ];
        for (name, env, tty, want) in cases {
            assert_eq!(color_policy(env.map(OsStr::new), tty), want, "{name}");
        }
    }
}
