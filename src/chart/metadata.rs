//! `Chart.yaml` (Helm's `chart.Metadata`), decoded as Helm decodes it.
//!
//! Helm reads `Chart.yaml` with `sigs.k8s.io/yaml`: YAML is converted to JSON and unmarshalled
//! into a Go struct, and scalars bound for string fields are stringified on the way. So
//! `appVersion: 1.10` becomes `"1.1"` (a float printed with `%g` at float32 precision) and
//! `version: 2` becomes `"2"`; charts render `.Chart.AppVersion`, so this quirk shows in output.
//! Keys match field names case-insensitively and unknown keys are ignored, as `encoding/json` does.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::dependencies::{json_kind, Dependency};

/// A chart maintainer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Maintainer {
    pub name: String,
    pub email: String,
    pub url: String,
}

/// The contents of `Chart.yaml` (v1 and v2 fields).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metadata {
    pub name: String,
    pub home: String,
    pub sources: Vec<String>,
    pub version: String,
    pub description: String,
    pub keywords: Vec<String>,
    pub maintainers: Vec<Maintainer>,
    pub icon: String,
    pub api_version: String,
    /// v1 top-level `condition` (unused by Helm 3 but kept in `.Chart`).
    pub condition: String,
    /// v1 top-level `tags` (a string).
    pub tags: String,
    pub app_version: String,
    pub deprecated: bool,
    pub annotations: BTreeMap<String, String>,
    pub kube_version: String,
    pub dependencies: Vec<Dependency>,
    /// `application`, `library` or empty.
    pub chart_type: String,
}

impl Metadata {
    /// Overlays the fields present in a decoded YAML document (Go's `yaml.Unmarshal` into an
    /// existing struct: `requirements.yaml` overlays `Chart.yaml` this way).
    pub fn apply(&mut self, doc: &Json) -> Result<(), String> {
        match doc {
            Json::Null => return Ok(()),
            Json::Object(_) => {}
            other => {
                return Err(format!(
                    "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type chart.Metadata",
                    json_kind(other)
                ))
            }
        }
        for_each_field(doc, |key, v| {
            let f = |n: &str| format!("Metadata.{n}");
            match key {
                "name" => self.name = field_string(v, &f("name"))?,
                "home" => self.home = field_string(v, &f("home"))?,
                "sources" => self.sources = field_string_list(v, &f("sources"))?,
                "version" => self.version = field_string(v, &f("version"))?,
                "description" => self.description = field_string(v, &f("description"))?,
                "keywords" => self.keywords = field_string_list(v, &f("keywords"))?,
                "maintainers" => self.maintainers = maintainers(v)?,
                "icon" => self.icon = field_string(v, &f("icon"))?,
                "apiversion" => self.api_version = field_string(v, &f("apiVersion"))?,
                "condition" => self.condition = field_string(v, &f("condition"))?,
                "tags" => self.tags = field_string(v, &f("tags"))?,
                "appversion" => self.app_version = field_string(v, &f("appVersion"))?,
                "deprecated" => self.deprecated = field_bool(v, &f("deprecated"))?,
                "annotations" => self.annotations = annotations(v)?,
                "kubeversion" => self.kube_version = field_string(v, &f("kubeVersion"))?,
                "dependencies" => {
                    self.dependencies = match v {
                        Json::Null => Vec::new(),
                        Json::Array(items) => {
                            items.iter().map(Dependency::from_json).collect::<Result<Vec<_>, _>>()?
                        }
                        other => {
                            return Err(format!(
                                "json: cannot unmarshal {} into Go struct field Metadata.dependencies of type []*chart.Dependency",
                                json_kind(other)
                            ))
                        }
                    }
                }
                "type" => self.chart_type = field_string(v, &f("type"))?,
                _ => {}
            }
            Ok(())
        })
        .map_err(|e| {
            if e.starts_with("json:") {
                format!("error unmarshaling JSON: while decoding JSON: {e}")
            } else {
                e
            }
        })
    }

    /// Helm's `Metadata.Validate`: sanitizes strings and checks required fields, the version, the
    /// type and dependency names/aliases. Messages carry Helm's `validation: ` prefix.
    pub fn validate(&mut self) -> Result<(), String> {
        for s in [
            &mut self.name,
            &mut self.description,
            &mut self.home,
            &mut self.icon,
            &mut self.condition,
            &mut self.tags,
            &mut self.app_version,
            &mut self.kube_version,
        ] {
            *s = sanitize(s);
        }
        for s in self.sources.iter_mut().chain(self.keywords.iter_mut()) {
            *s = sanitize(s);
        }
        let quote = gotemplate::gofmt::quote;
        if self.api_version.is_empty() {
            return Err("validation: chart.metadata.apiVersion is required".into());
        }
        if self.name.is_empty() {
            return Err("validation: chart.metadata.name is required".into());
        }
        if self.name.contains('/') || self.name == "." || self.name == ".." {
            return Err(format!(
                "validation: chart.metadata.name {} is invalid",
                quote(&self.name)
            ));
        }
        if self.version.is_empty() {
            return Err("validation: chart.metadata.version is required".into());
        }
        if gotemplate::semver::parse_version(&self.version).is_err() {
            return Err(format!(
                "validation: chart.metadata.version {} is invalid",
                quote(&self.version)
            ));
        }
        if !matches!(self.chart_type.as_str(), "" | "application" | "library") {
            return Err("validation: chart.metadata.type must be application or library".into());
        }
        for m in &mut self.maintainers {
            m.name = sanitize(&m.name);
            m.email = sanitize(&m.email);
            m.url = sanitize(&m.url);
        }
        let mut seen = std::collections::HashSet::new();
        for d in &mut self.dependencies {
            d.validate()?;
            let key = if d.alias.is_empty() {
                d.name.clone()
            } else {
                d.alias.clone()
            };
            if !seen.insert(key.clone()) {
                return Err(format!(
                    "validation: more than one dependency with name or alias {}",
                    quote(&key)
                ));
            }
        }
        Ok(())
    }

    /// The struct as Go's `encoding/json` marshals it (field names and `omitempty` as Helm's tags),
    /// which is what `toYaml .Chart` / `toJson .Chart` print.
    pub fn to_json(&self) -> Json {
        let mut m = serde_json::Map::new();
        let mut s = |k: &str, v: &str| {
            if !v.is_empty() {
                m.insert(k.into(), Json::String(v.into()));
            }
        };
        s("name", &self.name);
        s("home", &self.home);
        let mut m = m;
        if !self.sources.is_empty() {
            m.insert("sources".into(), self.sources.clone().into());
        }
        if !self.version.is_empty() {
            m.insert("version".into(), self.version.clone().into());
        }
        if !self.description.is_empty() {
            m.insert("description".into(), self.description.clone().into());
        }
        if !self.keywords.is_empty() {
            m.insert("keywords".into(), self.keywords.clone().into());
        }
        if !self.maintainers.is_empty() {
            let list = self
                .maintainers
                .iter()
                .map(|x| {
                    let mut o = serde_json::Map::new();
                    for (k, v) in [("name", &x.name), ("email", &x.email), ("url", &x.url)] {
                        if !v.is_empty() {
                            o.insert(k.into(), v.clone().into());
                        }
                    }
                    Json::Object(o)
                })
                .collect();
            m.insert("maintainers".into(), Json::Array(list));
        }
        for (k, v) in [
            ("icon", &self.icon),
            ("apiVersion", &self.api_version),
            ("condition", &self.condition),
            ("tags", &self.tags),
            ("appVersion", &self.app_version),
        ] {
            if !v.is_empty() {
                m.insert(k.into(), v.clone().into());
            }
        }
        if self.deprecated {
            m.insert("deprecated".into(), true.into());
        }
        if !self.annotations.is_empty() {
            m.insert(
                "annotations".into(),
                Json::Object(
                    self.annotations
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone().into()))
                        .collect(),
                ),
            );
        }
        if !self.kube_version.is_empty() {
            m.insert("kubeVersion".into(), self.kube_version.clone().into());
        }
        if !self.dependencies.is_empty() {
            let list = self
                .dependencies
                .iter()
                .map(|d| {
                    let mut o = serde_json::Map::new();
                    o.insert("name".into(), d.name.clone().into());
                    if !d.version.is_empty() {
                        o.insert("version".into(), d.version.clone().into());
                    }
                    o.insert("repository".into(), d.repository.clone().into());
                    if !d.condition.is_empty() {
                        o.insert("condition".into(), d.condition.clone().into());
                    }
                    if !d.tags.is_empty() {
                        o.insert("tags".into(), d.tags.clone().into());
                    }
                    if d.enabled {
                        o.insert("enabled".into(), true.into());
                    }
                    if !d.import_values.is_empty() {
                        o.insert(
                            "import-values".into(),
                            Json::Array(d.import_values.iter().map(|v| v.to_json()).collect()),
                        );
                    }
                    if !d.alias.is_empty() {
                        o.insert("alias".into(), d.alias.clone().into());
                    }
                    Json::Object(o)
                })
                .collect();
            m.insert("dependencies".into(), Json::Array(list));
        }
        if !self.chart_type.is_empty() {
            m.insert("type".into(), self.chart_type.clone().into());
        }
        Json::Object(m)
    }
}

/// Calls `f` with each key (lowercased, as `encoding/json` matches fields case-insensitively)
/// and value of a JSON object, in document order.
pub(crate) fn for_each_field(
    v: &Json,
    mut f: impl FnMut(&str, &Json) -> Result<(), String>,
) -> Result<(), String> {
    if let Json::Object(o) = v {
        for (k, val) in o {
            f(&k.to_ascii_lowercase(), val)?;
        }
    }
    Ok(())
}

fn mismatch(v: &Json, field: &str, go_type: &str) -> String {
    format!(
        "json: cannot unmarshal {} into Go struct field {field} of type {go_type}",
        json_kind(v)
    )
}

/// A string field: scalars are stringified as `sigs.k8s.io/yaml` does; null leaves it empty.
pub(crate) fn field_string(v: &Json, field: &str) -> Result<String, String> {
    scalar_string(v).ok_or_else(|| mismatch(v, field, "string"))
}

fn scalar_string(v: &Json) -> Option<String> {
    match v {
        Json::Null => Some(String::new()),
        Json::String(s) => Some(s.clone()),
        Json::Bool(b) => Some(b.to_string()),
        Json::Number(n) => Some(if let Some(i) = n.as_i64() {
            i.to_string()
        } else if let Some(u) = n.as_u64() {
            u.to_string()
        } else {
            gotemplate::gofmt::format_float32_g(n.as_f64().unwrap_or(0.0))
        }),
        Json::Array(_) | Json::Object(_) => None,
    }
}

pub(crate) fn field_string_list(v: &Json, field: &str) -> Result<Vec<String>, String> {
    match v {
        Json::Null => Ok(Vec::new()),
        Json::Array(items) => items.iter().map(|i| field_string(i, field)).collect(),
        other => Err(mismatch(other, field, "[]string")),
    }
}

pub(crate) fn field_bool(v: &Json, field: &str) -> Result<bool, String> {
    match v {
        Json::Null => Ok(false),
        Json::Bool(b) => Ok(*b),
        other => Err(mismatch(other, field, "bool")),
    }
}

fn maintainers(v: &Json) -> Result<Vec<Maintainer>, String> {
    let items = match v {
        Json::Null => return Ok(Vec::new()),
        Json::Array(items) => items,
        other => return Err(mismatch(other, "Metadata.maintainers", "[]*chart.Maintainer")),
    };
    let mut out = Vec::new();
    for item in items {
        match item {
            Json::Null => return Err("validation: maintainers must not contain empty or null nodes".into()),
            Json::Object(_) => {}
            other => return Err(mismatch(other, "Metadata.maintainers", "chart.Maintainer")),
        }
        let mut m = Maintainer::default();
        for_each_field(item, |k, val| {
            match k {
                "name" => m.name = field_string(val, "Maintainer.name")?,
                "email" => m.email = field_string(val, "Maintainer.email")?,
                "url" => m.url = field_string(val, "Maintainer.url")?,
                _ => {}
            }
            Ok(())
        })?;
        out.push(m);
    }
    Ok(out)
}

fn annotations(v: &Json) -> Result<BTreeMap<String, String>, String> {
    match v {
        Json::Null => Ok(BTreeMap::new()),
        Json::Object(o) => o
            .iter()
            .map(|(k, val)| Ok((k.clone(), field_string(val, "Metadata.annotations")?)))
            .collect(),
        other => Err(mismatch(other, "Metadata.annotations", "map[string]string")),
    }
}

/// Helm's `sanitizeString`: whitespace becomes a space, other non-printable characters are dropped.
pub(crate) fn sanitize(s: &str) -> String {
    s.chars()
        .filter_map(|c| {
            if c.is_whitespace() {
                Some(' ')
            } else if c.is_control()
                || matches!(c, '\u{200b}'..='\u{200f}' | '\u{feff}' | '\u{2028}'..='\u{202e}')
            {
                None
            } else {
                Some(c)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_table() {
        type Case = (
            &'static str,
            serde_json::Value,
            Result<(&'static str, &'static str), &'static str>,
        );
        let cases: &[Case] = &[
            ("strings", serde_json::json!({"name": "a", "version": "1.2.3", "appVersion": "v2"}), Ok(("1.2.3", "v2"))),
            ("numbers stringified", serde_json::json!({"version": 1, "appVersion": 1.10}), Ok(("1", "1.1"))),
            ("case-insensitive keys", serde_json::json!({"Version": "0.1.0", "APPVERSION": "x"}), Ok(("0.1.0", "x"))),
            (
                "list into string",
                serde_json::json!({"version": [1]}),
                Err("error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go struct field Metadata.version of type string"),
            ),
            (
                "string into bool",
                serde_json::json!({"deprecated": "yes"}),
                Err("error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field Metadata.deprecated of type bool"),
            ),
        ];
        for (name, doc, want) in cases {
            let mut m = Metadata::default();
            let got = m
                .apply(doc)
                .map(|()| (m.version.as_str(), m.app_version.as_str()));
            assert_eq!(got, want.map_err(String::from), "{name}");
        }
    }
}
