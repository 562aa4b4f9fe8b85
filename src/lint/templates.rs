//! Rules on a chart's templates (Helm's `rules.Templates`, after rendering): allowed file
//! extensions, no `crd-install` hooks or `.Release.Time`, and for each rendered `.yaml` file: no
//! indented first line, YAML that decodes to Kubernetes objects, valid object names, no API
//! deprecated at the target version, selectors on workloads, no resource policy inside a List.
//!
//! Rendering happens before (in `action::lint`, through the same pipeline as `template`); this
//! module only looks at sources and rendered text.

use crate::chart::dependencies::json_kind;
use std::{collections::BTreeMap, sync::LazyLock};

use regex::Regex;
use serde_json::Value as Json;

use super::{go_ext, Linter, Severity};

static CRD_HOOK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#""?helm\.sh/hook"?:\s+crd-install"#).expect("static regex"));
static RELEASE_TIME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\.Release\.Time").expect("static regex"));

/// What the template rules need about the chart: its name, its own templates (name and source)
/// and what rendering produced, by full path (`chart/templates/x.yaml`).
pub struct Rendered<'a> {
    pub chart_name: &'a str,
    pub templates: Vec<(&'a str, &'a str)>,
    pub files: &'a BTreeMap<String, String>,
    /// (major, minor) deprecations are checked against.
    pub kube_version: (u32, u32),
    /// With `--openapi`/`--validate`: the schema every object is also checked against (beyond
    /// Helm; each problem is an error, as the API server would refuse the object).
    pub openapi: Option<&'a super::openapi::Schemas>,
}

/// Runs the per-template rules, in Helm's order; a file whose YAML does not decode stops them.
pub fn check(linter: &mut Linter, r: &Rendered<'_>) {
    for (name, source) in &r.templates {
        // Our handlebars templates (`x.yaml.hbs`) are checked as the file they render to.
        let output = name.strip_suffix(".hbs").unwrap_or(name);
        linter.run(Severity::Error, name, allowed_extension(name));
        linter.run(
            Severity::Warning,
            name,
            if CRD_HOOK.is_match(source) {
                Err("manifest is a crd-install hook. This hook is no longer supported in v3 and all CRDs should also exist the crds/ directory at the top level of the chart".into())
            } else {
                Ok(())
            },
        );
        linter.run(
            Severity::Error,
            name,
            if RELEASE_TIME.is_match(source) {
                Err(".Release.Time has been removed in v3, please replace with the `now` function in your templates".into())
            } else {
                Ok(())
            },
        );
        if go_ext(output) != ".yaml" {
            continue;
        }
        let Some(content) = r.files.get(&format!("{}/{output}", r.chart_name)) else {
            continue;
        };
        if content.trim().is_empty() {
            continue;
        }
        linter.run(Severity::Warning, name, top_indent(content));
        for doc in split_yaml_stream(content) {
            let (head, value) = match decode_head(doc) {
                Ok(h) => h,
                Err(e) => {
                    linter.run(Severity::Error, name, Err(format!("unable to parse YAML: {e}")));
                    return;
                }
            };
            let Some(head) = head else { continue };
            if let Some(problems) = r.openapi.and_then(|s| s.validate(&value)) {
                for p in problems {
                    linter.run(
                        Severity::Error,
                        name,
                        Err(format!(
                            "{} {}: {p}",
                            head.kind,
                            gotemplate::gofmt::quote(&head.name)
                        )),
                    );
                }
            }
            linter.run(
                Severity::Warning,
                name,
                super::names::check(&head.kind, &head.name),
            );
            linter.run(
                Severity::Warning,
                name,
                super::deprecations::check(&head.api_version, &head.kind, r.kube_version),
            );
            linter.run(Severity::Error, name, match_selector(&head, content));
            linter.run(Severity::Error, name, list_annotations(&head, content));
        }
    }
}

/// Helm's extensions, plus `.hbs` (our handlebars templates, which Helm cannot render at all).
fn allowed_extension(name: &str) -> Result<(), String> {
    let ext = go_ext(name);
    if [".yaml", ".yml", ".tpl", ".txt", ".hbs"].contains(&ext) {
        return Ok(());
    }
    Err(format!(
        "file extension '{ext}' not valid. Valid extensions are .yaml, .yml, .tpl, or .txt"
    ))
}

fn top_indent(content: &str) -> Result<(), String> {
    for line in content.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            return Err(format!(
                "document starts with an illegal indent: {}, which may cause parsing problems",
                gotemplate::gofmt::quote(line)
            ));
        }
        return Ok(());
    }
    Ok(())
}

/// The documents of a YAML stream as Kubernetes' YAML reader cuts them: at lines starting with
/// `---` followed by nothing but blanks or a comment.
fn split_yaml_stream(content: &str) -> Vec<&str> {
    let mut docs = Vec::new();
    let mut start = 0;
    let mut pos = 0;
    for line in content.split_inclusive('\n') {
        if let Some(rest) = line.strip_prefix("---") {
            let rest = rest.trim();
            if rest.is_empty() || rest.starts_with('#') {
                docs.push(&content[start..pos]);
                start = pos + line.len();
            }
        }
        pos += line.len();
    }
    docs.push(&content[start..]);
    docs
}

/// The fields Helm decodes from each document (its `K8sYamlStruct`).
#[derive(Debug, Default, PartialEq)]
struct Head {
    api_version: String,
    kind: String,
    name: String,
}

/// Decodes a document the way Helm does (YAML to JSON, then into a struct with string fields
/// matched case-insensitively), with the document itself; `None` for an empty document. Errors
/// carry Go's wording.
fn decode_head(doc: &str) -> Result<(Option<Head>, Json), String> {
    let value = crate::yaml::parse_documents(doc, "")
        .map_err(|e| crate::yaml::go_error(doc, &e))?
        .into_iter()
        .next()
        .unwrap_or(Json::Null);
    let unmarshal = |msg: String| format!("error unmarshaling JSON: while decoding JSON: {msg}");
    let obj = match &value {
        Json::Null => return Ok((None, value)),
        Json::Object(m) => m,
        other => {
            return Err(unmarshal(format!(
                "json: cannot unmarshal {} into Go value of type rules.K8sYamlStruct",
                json_kind(other)
            )))
        }
    };
    let mut head = Head::default();
    // sigs.k8s.io/yaml decodes with the struct as a guide: a number or a bool bound for a string
    // field becomes its text (`name: 5` is the name "5"), as in `Chart.yaml`.
    let string_field =
        |v: &Json, field: &str| crate::chart::metadata::field_string(v, field).map_err(unmarshal);
    for (k, v) in obj {
        match k.to_ascii_lowercase().as_str() {
            "apiversion" => head.api_version = string_field(v, "K8sYamlStruct.apiVersion")?,
            "kind" => head.kind = string_field(v, "K8sYamlStruct.Kind")?,
            "metadata" => match v {
                Json::Null => {}
                Json::Object(m) => {
                    for (k, v) in m {
                        match k.to_ascii_lowercase().as_str() {
                            "name" => head.name = string_field(v, "K8sYamlStruct.Metadata.Name")?,
                            "namespace" => {
                                string_field(v, "K8sYamlStruct.Metadata.Namespace")?;
                            }
                            _ => {}
                        }
                    }
                }
                other => {
                    return Err(unmarshal(format!(
                        "json: cannot unmarshal {} into Go struct field K8sYamlStruct.Metadata of type rules.k8sYamlMetadata",
                        json_kind(other)
                    )))
                }
            },
            _ => {}
        }
    }
    Ok((Some(head), value))
}

/// Workloads need a selector; Helm looks for the words anywhere in the rendered file.
fn match_selector(head: &Head, content: &str) -> Result<(), String> {
    if matches!(
        head.kind.as_str(),
        "Deployment" | "ReplicaSet" | "DaemonSet" | "StatefulSet"
    ) && !(content.contains("matchLabels") || content.contains("matchExpressions"))
    {
        return Err(format!(
            "a {} must contain matchLabels or matchExpressions, and {} does not",
            head.kind,
            gotemplate::gofmt::quote(&head.name)
        ));
    }
    Ok(())
}

/// `helm.sh/resource-policy` on an item of a `List` is ignored by Helm: say so. Helm reads the
/// first document of the file for this.
fn list_annotations(head: &Head, content: &str) -> Result<(), String> {
    if head.kind != "List" {
        return Ok(());
    }
    let first = crate::yaml::parse_documents(content, "")
        .map_err(|e| format!("unable to parse YAML: {}", crate::yaml::go_error(content, &e)))?
        .into_iter()
        .next()
        .unwrap_or(Json::Null);
    let items = first
        .get("items")
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default();
    let has_policy = items.iter().any(|i| {
        i.get("metadata")
            .and_then(|m| m.get("annotations"))
            .and_then(Json::as_object)
            .is_some_and(|a| a.contains_key("helm.sh/resource-policy"))
    });
    if has_policy {
        return Err("Annotation 'helm.sh/resource-policy' within List objects are ignored".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lint(templates: &[(&str, &str, Option<&str>)], kube: (u32, u32)) -> Vec<String> {
        let files: BTreeMap<String, String> = templates
            .iter()
            .filter_map(|(n, _, out)| {
                out.map(|o| (format!("c/{}", n.trim_end_matches(".hbs")), o.to_string()))
            })
            .collect();
        let r = Rendered {
            chart_name: "c",
            templates: templates.iter().map(|(n, s, _)| (*n, *s)).collect(),
            files: &files,
            kube_version: kube,
            openapi: None,
        };
        let mut l = Linter::default();
        check(&mut l, &r);
        l.messages.iter().map(|m| m.to_string()).collect()
    }

    const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n";

    #[test]
    fn template_rules_report_helms_messages() {
        let deploy = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec: {}\n";
        let ingress = "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n  name: web\n";
        let list = "apiVersion: v1\nkind: List\nitems:\n- metadata:\n    annotations:\n      helm.sh/resource-policy: keep\n";
        type Case = (
            &'static str,
            Vec<(&'static str, &'static str, Option<&'static str>)>,
            &'static [&'static str],
        );
        let cases: &[Case] = &[
            ("clean", vec![("templates/cm.yaml", "x", Some(CM)), ("templates/_h.tpl", "", None)], &[]),
            (
                "extension",
                vec![("templates/cm.json", "x", Some(CM))],
                &["[ERROR] templates/cm.json: file extension '.json' not valid. Valid extensions are .yaml, .yml, .tpl, or .txt"],
            ),
            (
                "source checks",
                vec![("templates/a.yaml", "helm.sh/hook: crd-install {{ .Release.Time }}", Some(CM))],
                &[
                    "[WARNING] templates/a.yaml: manifest is a crd-install hook. This hook is no longer supported in v3 and all CRDs should also exist the crds/ directory at the top level of the chart",
                    "[ERROR] templates/a.yaml: .Release.Time has been removed in v3, please replace with the `now` function in your templates",
                ],
            ),
            (
                "indent",
                vec![("templates/a.yaml", "", Some("\n  kind: ConfigMap\n"))],
                &[
                    "[WARNING] templates/a.yaml: document starts with an illegal indent: \"  kind: ConfigMap\", which may cause parsing problems",
                    "[WARNING] templates/a.yaml: object name does not conform to Kubernetes naming requirements: \"\": metadata.name: Invalid value: \"\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
                ],
            ),
            (
                "selector",
                vec![("templates/d.yaml", "", Some(deploy))],
                &["[ERROR] templates/d.yaml: a Deployment must contain matchLabels or matchExpressions, and \"web\" does not"],
            ),
            (
                "deprecated",
                vec![("templates/i.yaml", "", Some(ingress))],
                &["[WARNING] templates/i.yaml: extensions/v1beta1 Ingress is deprecated in v1.14+, unavailable in v1.22+; use networking.k8s.io/v1 Ingress"],
            ),
            (
                "list policy",
                vec![("templates/l.yaml", "", Some(list))],
                &[
                    "[WARNING] templates/l.yaml: object name does not conform to Kubernetes naming requirements: \"\": metadata.name: Invalid value: \"\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
                    "[ERROR] templates/l.yaml: Annotation 'helm.sh/resource-policy' within List objects are ignored",
                ],
            ),
            (
                "not an object stops the rules",
                vec![("templates/a.yaml", "", Some("just text")), ("templates/b.json", "", None)],
                &["[ERROR] templates/a.yaml: unable to parse YAML: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go value of type rules.K8sYamlStruct"],
            ),
            ("yml and txt are not decoded", vec![("templates/a.yml", "", Some("x")), ("templates/NOTES.txt", "", Some("x"))], &[]),
            ("handlebars output is checked", vec![("templates/cm.yaml.hbs", "", Some(CM))], &[]),
        ];
        for (name, templates, want) in cases {
            assert_eq!(lint(templates, (1, 20)), *want, "{name}");
        }
    }

    #[test]
    fn openapi_problems_are_errors_named_by_object() {
        let schemas = crate::lint::openapi::Schemas::shipped().unwrap();
        let bad = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - port: \"80\"\n    protocl: TCP\n";
        let unknown =
            "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  anything: 1\n";
        let files = BTreeMap::from([
            ("c/templates/svc.yaml".to_string(), bad.to_string()),
            ("c/templates/cr.yaml".to_string(), unknown.to_string()),
        ]);
        let r = Rendered {
            chart_name: "c",
            templates: vec![("templates/cr.yaml", ""), ("templates/svc.yaml", "")],
            files: &files,
            kube_version: (1, 32),
            openapi: Some(&schemas),
        };
        let mut l = Linter::default();
        check(&mut l, &r);
        let got: Vec<String> = l.messages.iter().map(|m| m.to_string()).collect();
        assert_eq!(
            got,
            [
                "[ERROR] templates/svc.yaml: Service \"web\": spec.ports[0].port: expected integer, got string",
                "[ERROR] templates/svc.yaml: Service \"web\": unknown field \"spec.ports[0].protocl\"",
            ]
        );
    }

    #[test]
    fn stream_splits_like_kubernetes_yaml_reader() {
        let cases: &[(&str, &[&str])] = &[
            ("a: 1\n", &["a: 1\n"]),
            ("a: 1\n---\nb: 2\n", &["a: 1\n", "b: 2\n"]),
            ("a: 1\n--- # c\nb: 2\n", &["a: 1\n", "b: 2\n"]),
            ("a: 1\n--- b\n", &["a: 1\n--- b\n"]),
            ("---\na: 1", &["", "a: 1"]),
        ];
        for (text, want) in cases {
            assert_eq!(split_yaml_stream(text), *want, "{text:?}");
        }
    }

    #[test]
    fn heads_decode_like_helms_struct() {
        let head = |doc: &str| decode_head(doc).map(|(h, _)| h);
        assert_eq!(head("# only a comment\n"), Ok(None));
        assert_eq!(
            head("APIVERSION: v1\nKind: Pod\nmetadata:\n  Name: p\n"),
            Ok(Some(Head {
                api_version: "v1".into(),
                kind: "Pod".into(),
                name: "p".into()
            }))
        );
        assert_eq!(
            head("kind: 3\nmetadata: {name: true}\n"),
            Ok(Some(Head {
                api_version: String::new(),
                kind: "3".into(),
                name: "true".into()
            }))
        );
        assert_eq!(
            head("kind: [3]\n").unwrap_err(),
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go struct field K8sYamlStruct.Kind of type string"
        );
    }
}
