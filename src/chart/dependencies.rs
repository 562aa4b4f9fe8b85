//! A dependency entry of `Chart.yaml` (or a v1 chart's `requirements.yaml`), Helm's
//! `chart.Dependency`, and the version-range check that ties an entry to a subchart in `charts/`.

use serde_json::Value as Json;

use super::metadata::{field_bool, field_string, field_string_list, for_each_field};
use gotemplate::Value;

/// One `dependencies:` entry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dependency {
    /// The dependency chart's name (as in its `Chart.yaml`); after alias processing, the alias.
    pub name: String,
    /// A version or semver range.
    pub version: String,
    pub repository: String,
    /// Comma-separated values paths; the first that holds a bool decides.
    pub condition: String,
    pub tags: Vec<String>,
    /// Whether the subchart is rendered (computed from conditions and tags).
    pub enabled: bool,
    /// `import-values` items, as written: strings (`exports.<name>`) or `{child, parent}` maps.
    pub import_values: Vec<Value>,
    pub alias: String,
}

impl Dependency {
    /// Decodes one entry the way `sigs.k8s.io/yaml` + `encoding/json` would; `at` is the Go-style
    /// field path used in messages.
    pub(crate) fn from_json(v: &Json) -> Result<Dependency, String> {
        let mut d = Dependency::default();
        let Json::Object(_) = v else {
            return Err(format!(
                "json: cannot unmarshal {} into Go struct field Metadata.dependencies of type chart.Dependency",
                json_kind(v)
            ));
        };
        for_each_field(v, |key, val| {
            let f = |n: &str| format!("Dependency.{n}");
            match key {
                "name" => d.name = field_string(val, &f("name"))?,
                "version" => d.version = field_string(val, &f("version"))?,
                "repository" => d.repository = field_string(val, &f("repository"))?,
                "condition" => d.condition = field_string(val, &f("condition"))?,
                "tags" => d.tags = field_string_list(val, &f("tags"))?,
                "enabled" => d.enabled = field_bool(val, &f("enabled"))?,
                "alias" => d.alias = field_string(val, &f("alias"))?,
                "import-values" => {
                    d.import_values = match val {
                        Json::Null => Vec::new(),
                        Json::Array(items) => items.iter().map(|i| Value::from_json(i, false)).collect(),
                        other => {
                            return Err(format!(
                                "json: cannot unmarshal {} into Go struct field Dependency.import-values of type []interface {{}}",
                                json_kind(other)
                            ))
                        }
                    }
                }
                _ => {}
            }
            Ok(())
        })?;
        Ok(d)
    }

    /// Helm's `Dependency.Validate`: sanitizes strings and checks the alias characters.
    pub(crate) fn validate(&mut self) -> Result<(), String> {
        use super::metadata::sanitize;
        self.name = sanitize(&self.name);
        self.version = sanitize(&self.version);
        self.repository = sanitize(&self.repository);
        self.condition = sanitize(&self.condition);
        for t in &mut self.tags {
            *t = sanitize(t);
        }
        let alias_ok = self
            .alias
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !self.alias.is_empty() && !alias_ok {
            return Err(format!(
                "validation: dependency {} has disallowed characters in the alias",
                gotemplate::gofmt::quote(&self.name)
            ));
        }
        Ok(())
    }
}

/// Helm's `chartutil.IsCompatibleRange`: false when either side does not parse.
pub fn is_compatible_range(constraint: &str, version: &str) -> bool {
    let Ok(v) = gotemplate::semver::parse_version(version) else {
        return false;
    };
    let Ok(c) = gotemplate::semver::Constraints::parse(constraint) else {
        return false;
    };
    c.matches(&v)
}

/// `encoding/json`'s name for a JSON value's kind in unmarshal errors.
pub(crate) fn json_kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "bool",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}
