//! Objects checked against the Kubernetes OpenAPI schema — what users wish `helm lint` checked:
//! a field the API server does not know, a value of the wrong type, a required field left out.
//! Helm never looks; the API server rejects such objects at install time (or, for unknown fields,
//! silently drops them), so catching them at lint time saves a failed or surprising release.
//!
//! The schema is either shipped in the binary ([`Schemas::shipped`]: Kubernetes 1.32, the kit's
//! version, extracted from a real API server's `/openapi/v3` by `openapi/gen-schema.py`, stripped
//! to what is checked and gzipped: 16 kB) or read from the target cluster with `--validate`
//! ([`Schemas::from_documents`]), which also covers its CRDs and its exact version.
//!
//! What is checked, and why only this: types (`string`, `integer`, `number`, `boolean`,
//! `object`, `array`, and the int-or-string / quantity alternatives), required fields, and
//! unknown fields where the schema lists an object's properties without allowing others. These
//! are what the API server's decoding and strict field validation reject. Formats, enums,
//! patterns and cross-field rules are left to the server's own validation, which needs defaulting
//! and knowledge we do not have offline. `null` is accepted everywhere (it means "unset"). Kinds
//! the schema does not know (custom resources offline) are skipped.

use std::collections::HashMap;

use serde_json::Value as Json;

/// The shipped schema: `openapi/k8s-1.32.json.gz`, `{"kubernetes": "1.32", "schemas": {...}}`.
const SHIPPED: &[u8] = include_bytes!("openapi/k8s-1.32.json.gz");

/// How deep a schema may nest before we stop (recursive types such as JSONSchemaProps).
const MAX_DEPTH: usize = 64;

/// A set of OpenAPI v3 component schemas, indexed by the kinds they describe.
#[derive(Debug, Default)]
pub struct Schemas {
    /// The Kubernetes version the schemas come from (`1.32`), for messages.
    pub kubernetes: String,
    schemas: HashMap<String, Json>,
    /// (apiVersion, kind) → schema name.
    kinds: HashMap<(String, String), String>,
}

impl Schemas {
    /// The Kubernetes 1.32 schema shipped in the binary.
    pub fn shipped() -> Result<Schemas, String> {
        use std::io::Read as _;
        let mut text = Vec::new();
        flate2::read::GzDecoder::new(SHIPPED)
            .read_to_end(&mut text)
            .map_err(|e| format!("reading the shipped OpenAPI schema: {e}"))?;
        let mut doc: Json =
            serde_json::from_slice(&text).map_err(|e| format!("reading the shipped OpenAPI schema: {e}"))?;
        let kubernetes = doc["kubernetes"].as_str().unwrap_or_default().to_string();
        // Taken out of the document, not cloned: it is most of it.
        let schemas = match doc.get_mut("schemas").map(Json::take) {
            Some(Json::Object(map)) => map.into_iter().collect(),
            _ => HashMap::new(),
        };
        Ok(Schemas::index(kubernetes, schemas))
    }

    /// Schemas from OpenAPI v3 group-version documents as an API server serves them
    /// (`/openapi/v3/apis/apps/v1`, …): their `components.schemas` merged.
    pub fn from_documents(kubernetes: &str, docs: &[Json]) -> Schemas {
        let mut schemas = HashMap::new();
        for doc in docs {
            if let Some(map) = doc.pointer("/components/schemas").and_then(Json::as_object) {
                for (name, s) in map {
                    schemas.insert(name.clone(), s.clone());
                }
            }
        }
        Schemas::index(kubernetes.to_string(), schemas)
    }

    fn index(kubernetes: String, schemas: HashMap<String, Json>) -> Schemas {
        let mut kinds = HashMap::new();
        for (name, s) in &schemas {
            for gvk in s
                .get("x-kubernetes-group-version-kind")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
            {
                let field = |k: &str| gvk.get(k).and_then(Json::as_str).unwrap_or_default();
                let api_version = match field("group") {
                    "" => field("version").to_string(),
                    g => format!("{g}/{}", field("version")),
                };
                kinds.insert((api_version, field("kind").to_string()), name.clone());
            }
        }
        Schemas {
            kubernetes,
            schemas,
            kinds,
        }
    }

    /// Whether the schema describes `api_version`/`kind`.
    pub fn knows(&self, api_version: &str, kind: &str) -> bool {
        self.kinds
            .contains_key(&(api_version.to_string(), kind.to_string()))
    }

    /// Every problem with `obj` (one line each, `path: what`), or `None` when its kind is not in
    /// the schema.
    pub fn validate(&self, obj: &Json) -> Option<Vec<String>> {
        let api_version = obj.get("apiVersion").and_then(Json::as_str)?;
        let kind = obj.get("kind").and_then(Json::as_str)?;
        let name = self.kinds.get(&(api_version.to_string(), kind.to_string()))?;
        let mut problems = Vec::new();
        self.check(&self.schemas[name], obj, "", &mut problems, 0);
        Some(problems)
    }

    /// The schema a `$ref` names (`#/components/schemas/X` from a server, `X` once shipped).
    fn resolve(&self, reference: &str) -> Option<&Json> {
        self.schemas
            .get(reference.rsplit('/').next().unwrap_or(reference))
    }

    fn check(&self, schema: &Json, value: &Json, path: &str, out: &mut Vec<String>, depth: usize) {
        if value.is_null() || depth > MAX_DEPTH {
            return;
        }
        if let Some(r) = schema.get("$ref").and_then(Json::as_str) {
            if let Some(target) = self.resolve(r) {
                self.check(target, value, path, out, depth + 1);
            }
        }
        for part in schema.get("allOf").and_then(Json::as_array).into_iter().flatten() {
            self.check(part, value, path, out, depth + 1);
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(alternatives) = schema.get(key).and_then(Json::as_array) {
                let fits = alternatives.iter().any(|alt| {
                    let mut scratch = Vec::new();
                    self.check(alt, value, path, &mut scratch, depth + 1);
                    scratch.is_empty()
                });
                if !fits {
                    let types: Vec<&str> = alternatives
                        .iter()
                        .filter_map(|a| a.get("type").and_then(Json::as_str))
                        .collect();
                    out.push(format!(
                        "{}expected {}, got {}",
                        at(path),
                        types.join(" or "),
                        json_type(value)
                    ));
                }
            }
        }
        if schema.get("x-kubernetes-int-or-string").and_then(Json::as_bool) == Some(true) {
            if !(is_integer(value) || value.is_string()) {
                out.push(format!(
                    "{}expected integer or string, got {}",
                    at(path),
                    json_type(value)
                ));
            }
            return;
        }
        let Some(ty) = schema.get("type").and_then(Json::as_str) else {
            return;
        };
        let fits = match ty {
            "string" => value.is_string(),
            "integer" => is_integer(value),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            _ => true,
        };
        if !fits {
            out.push(format!("{}expected {ty}, got {}", at(path), json_type(value)));
            return;
        }
        match value {
            Json::Array(items) => {
                if let Some(item) = schema.get("items") {
                    for (i, v) in items.iter().enumerate() {
                        self.check(item, v, &format!("{path}[{i}]"), out, depth + 1);
                    }
                }
            }
            Json::Object(fields) => self.check_object(schema, fields, path, out, depth),
            _ => {}
        }
    }

    fn check_object(
        &self,
        schema: &Json,
        fields: &serde_json::Map<String, Json>,
        path: &str,
        out: &mut Vec<String>,
        depth: usize,
    ) {
        for r in schema
            .get("required")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(r) = r.as_str() {
                if fields.get(r).is_none_or(Json::is_null) {
                    out.push(format!("{}missing required field {r:?}", at(path)));
                }
            }
        }
        let properties = schema.get("properties").and_then(Json::as_object);
        let additional = schema.get("additionalProperties");
        let preserve = schema
            .get("x-kubernetes-preserve-unknown-fields")
            .and_then(Json::as_bool)
            == Some(true);
        for (k, v) in fields {
            let child = join(path, k);
            if let Some(s) = properties.and_then(|p| p.get(k)) {
                self.check(s, v, &child, out, depth + 1);
            } else if let Some(s) = additional.filter(|a| a.is_object()) {
                self.check(s, v, &child, out, depth + 1);
            } else if properties.is_some() && additional.is_none() && !preserve {
                // A free-form object (no properties listed) takes anything; a listed one does not.
                out.push(format!("unknown field {child:?}"));
            }
        }
    }
}

fn at(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("{path}: ")
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn is_integer(v: &Json) -> bool {
    match v {
        Json::Number(n) => n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0),
        _ => false,
    }
}

fn json_type(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problems(obj: Json) -> Option<Vec<String>> {
        Schemas::shipped().unwrap().validate(&obj)
    }

    fn deployment(spec: Json) -> Json {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": spec})
    }

    fn pod_template(container: Json) -> Json {
        json!({"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [container]}}})
    }

    #[test]
    fn shipped_schema_is_kubernetes_1_32() {
        let s = Schemas::shipped().unwrap();
        assert_eq!(s.kubernetes, "1.32");
        for (gv, kind) in [
            ("v1", "ConfigMap"),
            ("apps/v1", "Deployment"),
            ("networking.k8s.io/v1", "Ingress"),
        ] {
            assert!(s.knows(gv, kind), "{gv} {kind}");
        }
        assert!(
            !s.knows("extensions/v1beta1", "Ingress"),
            "removed long before 1.32"
        );
    }

    #[test]
    fn objects_are_checked_for_types_required_and_unknown_fields() {
        let ok = json!({"name": "web", "image": "nginx", "ports": [{"containerPort": 80}], "resources": {"limits": {"cpu": "1", "memory": 512}}});
        let cases: Vec<(&str, Json, Option<Vec<&str>>)> = vec![
            ("valid", deployment(pod_template(ok)), Some(vec![])),
            (
                "wrong types",
                deployment(
                    json!({"replicas": "3", "paused": "yes", "selector": {"matchLabels": {"a": "b"}}, "template": {"spec": {"containers": [{"name": "web", "image": 1.5}]}}}),
                ),
                Some(vec![
                    "spec.paused: expected boolean, got string",
                    "spec.replicas: expected integer, got string",
                    "spec.template.spec.containers[0].image: expected string, got number",
                ]),
            ),
            (
                "missing required fields",
                deployment(
                    json!({"template": {"spec": {"containers": [{"image": "x", "ports": [{"name": "http"}]}]}}}),
                ),
                Some(vec![
                    "spec: missing required field \"selector\"",
                    "spec.template.spec.containers[0]: missing required field \"name\"",
                    "spec.template.spec.containers[0].ports[0]: missing required field \"containerPort\"",
                ]),
            ),
            (
                "unknown fields",
                deployment(
                    json!({"selector": {"matchLabels": {"a": "b"}}, "replica": 2, "template": {"spec": {"containers": [{"name": "a", "imagePullPolicy": "Always", "imagePolicy": "x"}]}}}),
                ),
                Some(vec![
                    "unknown field \"spec.replica\"",
                    "unknown field \"spec.template.spec.containers[0].imagePolicy\"",
                ]),
            ),
            (
                "int-or-string and quantities",
                json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"ports": [{"port": 80, "targetPort": "http"}, {"port": 81, "targetPort": true}]}}),
                Some(vec![
                    "spec.ports[1].targetPort: expected integer or string, got boolean",
                ]),
            ),
            (
                "free-form maps and nulls",
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "labels": {"a": "b"}, "annotations": null}, "data": {"k": "v"}}),
                Some(vec![]),
            ),
            (
                "label values are strings",
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"labels": {"a": 1}}}),
                Some(vec!["metadata.labels.a: expected string, got integer"]),
            ),
            (
                "custom resources are skipped",
                json!({"apiVersion": "example.com/v1", "kind": "Widget", "spec": {"x": 1}}),
                None,
            ),
        ];
        for (name, obj, want) in cases {
            let mut got = problems(obj);
            if let Some(g) = got.as_mut() {
                g.sort();
            }
            let want = want.map(|w| {
                let mut w: Vec<String> = w.into_iter().map(String::from).collect();
                w.sort();
                w
            });
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn server_documents_with_full_references_work_too() {
        let doc = json!({"components": {"schemas": {
            "a.Thing": {"type": "object", "x-kubernetes-group-version-kind": [{"group": "ex.io", "version": "v1", "kind": "Thing"}],
                        "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"}, "spec": {"allOf": [{"$ref": "#/components/schemas/a.Spec"}]}}},
            "a.Spec": {"type": "object", "required": ["size"], "properties": {"size": {"type": "integer"}}}
        }}});
        let s = Schemas::from_documents("1.32", &[doc]);
        assert_eq!(
            s.validate(&json!({"apiVersion": "ex.io/v1", "kind": "Thing", "spec": {"size": "big"}})),
            Some(vec!["spec.size: expected integer, got string".to_string()])
        );
        assert_eq!(
            s.validate(&json!({"apiVersion": "ex.io/v1", "kind": "Thing", "spec": {}})),
            Some(vec!["spec: missing required field \"size\"".to_string()])
        );
    }
}
