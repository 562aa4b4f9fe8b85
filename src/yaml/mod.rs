//! Helm-compatible YAML, JSON and TOML: reading values files and emitting `toYaml`/`toJson`/`toToml`.
//!
//! Helm never uses a YAML library directly: values go through `sigs.k8s.io/yaml` (go-yaml v2 decoding,
//! then a JSON round trip) and `toYaml` goes the other way (JSON, then go-yaml v2's emitter). The quirks
//! of that path (YAML 1.1 booleans, every number a float64, keys sorted "naturally", `"on"` quoted,
//! long lines folded at 80 columns) are visible in rendered manifests, so this module reproduces the
//! path itself instead of using a general-purpose YAML serializer.
//!
//! - [`parse`]: events from `granit-parser` (re-exported by `serde-saphyr`) composed into nodes and
//!   resolved with go-yaml v2's rules. Values files first try two faster paths that decline what
//!   they cannot read exactly: a line scanner for block-style YAML (`values_scan`), then values
//!   straight from the parser's events (`direct`).
//! - [`emit`]: go-yaml v2's emitter (`toYaml`), and go-yaml v3's for `toYamlPretty`.
//! - JSON (`toJson`, ...) is Go's `encoding/json`, not YAML: it lives in [`gotemplate::json`].
//! - [`toml`]: BurntSushi/toml's encoder (`toToml`).

use std::fmt;

mod direct;
pub mod emit;
mod fast;
mod go_error;
pub mod head;
pub mod parse;
pub mod reader;
pub mod toml;
mod values_scan;

pub use emit::{json_to_yaml, to_yaml, to_yaml_checked, to_yaml_pretty, to_yaml_pretty_checked};
pub use go_error::go_error;
pub use head::{scan_head, DocHead};
pub use parse::{parse_any, parse_documents, parse_values, read_values};
pub use toml::{to_toml, to_toml_checked};

/// A YAML/JSON decoding error with its position (1-based line and column) when one is known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// The file being read (for messages only; may be empty).
    pub file: String,
    /// 1-based line of the problem.
    pub line: Option<usize>,
    /// 1-based column of the problem.
    pub col: Option<usize>,
    /// What went wrong.
    pub message: String,
}

impl Error {
    pub(crate) fn new(file: &str, pos: Option<(usize, usize)>, message: impl Into<String>) -> Error {
        Error {
            file: file.to_string(),
            line: pos.map(|p| p.0),
            col: pos.map(|p| p.1),
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut prefix = self.file.clone();
        for n in [self.line, self.col].into_iter().flatten() {
            if !prefix.is_empty() {
                prefix.push(':');
            }
            prefix.push_str(&n.to_string());
        }
        if prefix.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{prefix}: {}", self.message)
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;
    use gotemplate::{
        json::{self, TooLong},
        Value,
    };

    /// Runs `f` on a 1 GiB stack, as the binary renders (`src/main.rs`): building, walking and
    /// dropping values thousands deep recurses.
    fn on_big_stack(f: impl FnOnce() + Send + 'static) {
        std::thread::Builder::new()
            .stack_size(1 << 30)
            .spawn(f)
            .unwrap_or_else(|e| panic!("{e}"))
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e));
    }

    /// `{"a": {"a": ... {}}}`, `depth` maps deep.
    fn nested(depth: usize) -> Value {
        let mut v = Value::new_map();
        for _ in 1..depth {
            let m = Value::new_map();
            m.as_map().unwrap().borrow_mut().insert("a".to_string(), v);
            v = m;
        }
        v
    }

    /// Issue 20: `toPrettyJson`/`toYamlPretty`/`toToml` of a value nested 60,000 deep wrote 3.6 GB
    /// and aborted. Indented text grows with the square of the depth, so 3,000 levels make ~9 MB
    /// against a 1 MiB limit here (the real one, `MAX_TEXT`, is the same check with a larger
    /// number); at 400 levels every writer stays under it and gives the same text as unbounded.
    #[test]
    fn text_past_its_limit_is_an_error() {
        type Writer = fn(&Value, usize) -> Result<String, TooLong>;
        const CASES: &[(&str, Writer)] = &[
            ("toYaml", emit::to_yaml_within),
            ("toYamlPretty", emit::to_yaml_pretty_within),
            ("toToml", toml::to_toml_within),
            ("toPrettyJson", |v, limit| {
                match json::marshal_within(v, true, Some("  "), limit) {
                    Err(json::MarshalError::TooLong(e)) => Err(e),
                    other => Ok(other.expect("marshals")),
                }
            }),
        ];
        on_big_stack(|| {
            let limit = 1 << 20;
            let (deep, shallow) = (nested(3000), nested(400));
            for (name, write) in CASES {
                assert_eq!(write(&deep, limit), Err(TooLong { limit }), "{name}: 3,000 deep");
                let text = write(&shallow, limit).unwrap_or_else(|e| panic!("{name}: 400 deep: {e}"));
                assert!(text.len() > 100_000, "{name}: 400 deep is indented text");
                assert_eq!(
                    write(&shallow, usize::MAX),
                    Ok(text),
                    "{name}: same text unbounded"
                );
            }
        });
    }

    /// Helm's `toYaml` reads its JSON back with go-yaml v2, which stops at 10,000 nested
    /// collections: helm v3.17.2 prints nothing for 10,001 (and `toJson` of it, which has no such
    /// step, still prints). The text stays bounded before the emitter starts.
    #[test]
    fn to_yaml_of_more_than_ten_thousand_levels_is_empty() {
        on_big_stack(|| {
            let v = nested(10_001);
            let cases: &[(&str, Value)] = &[
                ("10,001 maps", v.clone()),
                ("10,000 maps in a list", Value::list(vec![nested(10_000)])),
            ];
            for (name, v) in cases {
                assert_eq!(to_yaml_checked(v), Ok(String::new()), "{name}");
            }
            assert_eq!(
                json::to_json(&v).len(),
                10_001 * 6 - 4,
                "toJson has no such limit"
            );
        });
    }
}
