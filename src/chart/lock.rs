//! `Chart.lock` (and a v1 chart's `requirements.lock`): Helm's `chart.Lock`, read and written
//! byte for byte as Helm writes it, and the `digest` that ties a lock to its `Chart.yaml`.
//!
//! Helm writes the lock with `sigs.k8s.io/yaml`: the struct goes through `encoding/json` and comes
//! out as YAML with sorted keys, so a lock is `dependencies` (each `name`, `repository` and
//! `version`), then `digest`, then `generated` (quoted, since it reads as a timestamp). The digest
//! is `sha256:` and the hex sha256 of `json.Marshal([2][]*Dependency{requested, locked})`: Go's
//! field order and `omitempty` rules, and its HTML escaping of `<`, `>` and `&` (a constraint
//! such as `>=1.0.0` is hashed as `\u003e=1.0.0`), which [`hash_req`] reproduces.
//!
//! Nothing here reads the network or the clock: the caller passes the `generated` time.

use serde_json::Value as Json;

use super::Dependency;
use gotemplate::gostr::json_string_into;

/// One locked dependency: the concrete version a `Chart.yaml` entry resolved to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Locked {
    /// The chart name (not the alias).
    pub name: String,
    /// The repository as resolved (`@name` aliases become the repository's URL).
    pub repository: String,
    /// The exact version.
    pub version: String,
}

/// A lock file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lock {
    /// When it was generated, as Go's `time.Time` marshals (RFC 3339 with nanoseconds).
    pub generated: String,
    /// `sha256:…` of the requested and locked dependencies ([`hash_req`]).
    pub digest: String,
    /// The locked dependencies, in `Chart.yaml` order.
    pub dependencies: Vec<Locked>,
}

impl Lock {
    /// Parses a lock file; `file` names it in errors. Unknown keys are ignored, as Helm ignores
    /// them.
    pub fn parse(text: &str, file: &str) -> Result<Lock, String> {
        let docs = crate::yaml::parse_documents(text, file).map_err(|e| e.to_string())?;
        let mut lock = Lock::default();
        let Some(doc) = docs.into_iter().next() else {
            return Ok(lock);
        };
        let map = match doc {
            Json::Object(m) => m,
            Json::Null => return Ok(lock),
            other => {
                return Err(format!(
                "{file}: error unmarshaling JSON: json: cannot unmarshal {} into Go value of type chart.Lock",
                super::dependencies::json_kind(&other)
            ))
            }
        };
        let text_field = |v: &Json, field: &str| -> Result<String, String> {
            match v {
                Json::String(s) => Ok(s.clone()),
                Json::Null => Ok(String::new()),
                other => Err(format!(
                    "{file}: field {field}: expected a string, found {}",
                    super::dependencies::json_kind(other)
                )),
            }
        };
        for (k, v) in &map {
            match k.as_str() {
                "generated" => lock.generated = text_field(v, "generated")?,
                "digest" => lock.digest = text_field(v, "digest")?,
                "dependencies" => {
                    let items = match v {
                        Json::Array(items) => items.as_slice(),
                        Json::Null => &[],
                        other => {
                            return Err(format!(
                                "{file}: field dependencies: expected a list, found {}",
                                super::dependencies::json_kind(other)
                            ))
                        }
                    };
                    for (i, item) in items.iter().enumerate() {
                        let Json::Object(m) = item else {
                            return Err(format!("{file}: dependencies[{i}]: expected a mapping"));
                        };
                        let get = |f: &str| {
                            m.get(f)
                                .map(|v| text_field(v, &format!("dependencies[{i}].{f}")))
                                .unwrap_or(Ok(String::new()))
                        };
                        lock.dependencies.push(Locked {
                            name: get("name")?,
                            repository: get("repository")?,
                            version: get("version")?,
                        });
                    }
                }
                _ => {}
            }
        }
        Ok(lock)
    }

    /// The file as Helm writes it (`yaml.Marshal(lock)`), ending in a newline.
    pub fn to_yaml(&self) -> String {
        let deps: Vec<Json> = self
            .dependencies
            .iter()
            .map(|d| {
                let mut m = serde_json::Map::new();
                m.insert("name".into(), d.name.clone().into());
                m.insert("repository".into(), d.repository.clone().into());
                if !d.version.is_empty() {
                    m.insert("version".into(), d.version.clone().into());
                }
                Json::Object(m)
            })
            .collect();
        let mut m = serde_json::Map::new();
        m.insert("generated".into(), self.generated.clone().into());
        m.insert("digest".into(), self.digest.clone().into());
        // A nil slice marshals as null; Helm never writes a lock without dependencies.
        m.insert("dependencies".into(), Json::Array(deps));
        let mut out = crate::yaml::json_to_yaml(&Json::Object(m));
        out.push('\n');
        out
    }
}

/// Helm's `resolver.HashReq`: the digest of the requested dependencies (as loaded from
/// `Chart.yaml`, `@alias` repositories already replaced by URLs) and the locked ones.
pub fn hash_req(requested: &[Dependency], locked: &[Locked]) -> String {
    let mut out = String::from("[[");
    for (i, d) in requested.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        dependency_json(&mut out, d);
    }
    out.push_str("],[");
    for (i, l) in locked.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        dependency_json(
            &mut out,
            &Dependency {
                name: l.name.clone(),
                version: l.version.clone(),
                repository: l.repository.clone(),
                ..Dependency::default()
            },
        );
    }
    out.push_str("]]");
    crate::digest::sha256(out.as_bytes())
}

/// Helm's `resolver.HashV2Req`: the digest Helm 2 wrote into a v1 chart's `requirements.lock`
/// (`json.Marshal` of `{"dependencies": requested}`), which Helm 3 still accepts there.
pub fn hash_v2_req(requested: &[Dependency]) -> String {
    let mut out = String::from("{\"dependencies\":[");
    for (i, d) in requested.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        dependency_json(&mut out, d);
    }
    out.push_str("]}");
    crate::digest::sha256(out.as_bytes())
}

/// `json.Marshal` of one `chart.Dependency`: the struct's field order and `omitempty` tags.
fn dependency_json(out: &mut String, d: &Dependency) {
    let field = |out: &mut String, name: &str| {
        if !out.ends_with('{') {
            out.push(',');
        }
        json_string_into(out, name, true);
        out.push(':');
    };
    out.push('{');
    field(out, "name");
    json_string_into(out, &d.name, true);
    if !d.version.is_empty() {
        field(out, "version");
        json_string_into(out, &d.version, true);
    }
    field(out, "repository");
    json_string_into(out, &d.repository, true);
    if !d.condition.is_empty() {
        field(out, "condition");
        json_string_into(out, &d.condition, true);
    }
    if !d.tags.is_empty() {
        field(out, "tags");
        out.push('[');
        for (i, t) in d.tags.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            json_string_into(out, t, true);
        }
        out.push(']');
    }
    if d.enabled {
        field(out, "enabled");
        out.push_str("true");
    }
    if !d.import_values.is_empty() {
        field(out, "import-values");
        out.push('[');
        for (i, v) in d.import_values.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            // Values decoded from YAML hold no NaN or infinities, the only values Go refuses.
            out.push_str(&gotemplate::json::marshal(v, true, None).unwrap_or_else(|_| "null".into()));
        }
        out.push(']');
    }
    if !d.alias.is_empty() {
        field(out, "alias");
        json_string_into(out, &d.alias, true);
    }
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use gotemplate::Value;

    fn dep(name: &str, version: &str, repository: &str) -> Dependency {
        Dependency {
            name: name.into(),
            version: version.into(),
            repository: repository.into(),
            ..Dependency::default()
        }
    }

    fn locked(name: &str, version: &str, repository: &str) -> Locked {
        Locked {
            name: name.into(),
            repository: repository.into(),
            version: version.into(),
        }
    }

    /// Digests written by helm v3.17.2 (`dependency update`) for these Chart.yaml entries; each
    /// exercises one rule of Go's encoding.
    #[test]
    fn hash_req_matches_helm() {
        let mut aliased = dep("common", "^2.0.0", "file://../common");
        aliased.alias = "base".into();
        aliased.condition = "base.enabled".into();
        aliased.tags = vec!["front".into()];
        let child = Value::map_from(
            [("child", "data"), ("parent", "x")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), Value::str(v)))
                .collect(),
        );
        aliased.import_values = vec![child, Value::str("exports.y")];
        let cases: Vec<(&str, Vec<Dependency>, Vec<Locked>, &str)> = vec![
            (
                "html escaping of a range",
                vec![dep("a", ">=1.0.0 <2.0.0", "file://../a")],
                vec![locked("a", "1.2.0", "file://../a")],
                "sha256:f5f0306c518166672a6caa1f8da1c438adebc415a4e9de3656c38ebeb25f535b",
            ),
            (
                "alias, condition, tags and import-values",
                vec![aliased],
                vec![locked("common", "2.3.0", "file://../common")],
                "sha256:b55f7c0ade00336b80a3b56e479857ad295f8dd10a920084512452885b366d78",
            ),
        ];
        for (name, req, lock, want) in cases {
            assert_eq!(hash_req(&req, &lock), want, "{name}");
        }
    }

    /// Helm 2's digest of a requirements.yaml, computed independently (python's hashlib over
    /// the Go JSON text `{"dependencies":[{"name":"a","version":"\u003e=1.0.0 \u003c2.0.0",…}]}`).
    #[test]
    fn hash_v2_req_is_helm_2s() {
        assert_eq!(
            hash_v2_req(&[dep("a", ">=1.0.0 <2.0.0", "file://../a")]),
            "sha256:44100e89e5f8565a4fd6d5903ba0854891798707c7fcd32cc57fc88d4c28a604"
        );
    }

    #[test]
    fn lock_round_trips_helms_layout() {
        let text = "dependencies:\n- name: a\n  repository: https://example.test/charts\n  version: 1.2.0\n- name: b\n  repository: file://../b\n  version: 0.1.0\ndigest: sha256:abc\ngenerated: \"2026-12-06T13:51:12.123456789Z\"\n";
        let lock = Lock::parse(text, "Chart.lock").unwrap();
        assert_eq!(lock.dependencies.len(), 2);
        assert_eq!(lock.dependencies[1], locked("b", "0.1.0", "file://../b"));
        assert_eq!(lock.generated, "2026-12-06T13:51:12.123456789Z");
        assert_eq!(lock.to_yaml(), text);
    }

    #[test]
    fn lock_parse_errors_name_the_file_and_field() {
        let cases = [
            ("not a mapping", "- a\n", "Chart.lock"),
            ("digest not a string", "digest: [1]\n", "digest"),
            ("item not a mapping", "dependencies:\n- x\n", "dependencies[0]"),
        ];
        for (name, text, want) in cases {
            let err = Lock::parse(text, "Chart.lock").unwrap_err();
            assert!(err.contains(want), "{name}: {err}");
        }
    }
}
