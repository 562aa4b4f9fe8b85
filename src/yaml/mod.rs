//! Helm-compatible YAML, JSON and TOML: reading values files and emitting `toYaml`/`toJson`/`toToml`.
//!
//! Helm never uses a YAML library directly: values go through `sigs.k8s.io/yaml` (go-yaml v2 decoding,
//! then a JSON round trip) and `toYaml` goes the other way (JSON, then go-yaml v2's emitter). The quirks
//! of that path (YAML 1.1 booleans, every number a float64, keys sorted "naturally", `"on"` quoted,
//! long lines folded at 80 columns) are visible in rendered manifests, so this module reproduces the
//! path itself instead of using a general-purpose YAML serializer.
//!
//! - [`parse`]: events from `granit-parser` (re-exported by `serde-saphyr`) composed into nodes and
//!   resolved with go-yaml v2's rules.
//! - [`emit`]: go-yaml v2's emitter (`toYaml`), and go-yaml v3's for `toYamlPretty`.
//! - [`json`]: Go's `encoding/json` output (`toJson`, `toPrettyJson`, `toRawJson`).
//! - [`toml`]: BurntSushi/toml's encoder (`toToml`).

use std::fmt;

mod direct;
pub mod emit;
mod fast;
pub mod head;
pub mod json;
pub mod parse;
pub mod reader;
pub mod toml;

pub use emit::{json_to_yaml, to_yaml, to_yaml_pretty};
pub use head::{scan_head, DocHead};
pub use json::{to_json, to_pretty_json, to_raw_json};
pub use parse::{parse_any, parse_documents, parse_values};
pub use toml::to_toml;

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
