//! A document's head (`apiVersion`, `kind`, `metadata.name`/`namespace`/`annotations`) read straight
//! from the parser's events, without building the document.
//!
//! `helm template` parses every rendered document only to sort it and to reject invalid YAML. Building
//! the whole tree for that was half of our render time on large charts; walking the events validates
//! the syntax just the same and keeps only the few scalars the sort needs. Documents using anchors,
//! aliases or tags take the full decoder, so their head is resolved exactly as Helm resolves it.

use std::collections::BTreeMap;

use serde_saphyr::granit_parser::{Event, Options, Parser, ScalarStyle};

use super::{parse::parse_documents, Error};

/// The head of one YAML document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocHead {
    /// `apiVersion`, empty when absent.
    pub api_version: String,
    /// `kind`, empty when absent.
    pub kind: String,
    /// `metadata.name`, empty when absent.
    pub name: String,
    /// `metadata.namespace`, empty when absent.
    pub namespace: String,
    /// `metadata.annotations` with string values.
    pub annotations: BTreeMap<String, String>,
}

enum Frame {
    /// A mapping, with the scalar key awaiting its value (None while a key is expected).
    Map {
        key: Option<String>,
    },
    Seq,
}

/// Validates the first document of `text` and returns its head.
pub fn scan_head(text: &str, file: &str) -> Result<DocHead, Error> {
    if let Some(head) = super::fast::fast_head(text) {
        return Ok(head);
    }
    let mut opts = Options::default();
    opts.block_scalar_eof_without_line_feed = true;
    opts.emit_anchor_events = true;
    let mut head = DocHead::default();
    let mut stack: Vec<Frame> = Vec::new();
    // Path of map keys from the root to the current container (None for unnamed keys and seqs).
    let mut path: Vec<Option<String>> = Vec::new();
    // go-yaml reads NEL as a line break; the parser, as text.
    let broken = super::reader::libyaml_breaks(text);
    for ev in Parser::new_from_str_with_options(&broken, opts) {
        let (event, span) = ev.map_err(|e| {
            let m = e.marker();
            Error::new(file, Some((m.line(), m.col() + 1)), e.info())
        })?;
        match event {
            Event::StreamStart | Event::DocumentStart(..) => {}
            Event::DocumentEnd | Event::StreamEnd => break,
            Event::Anchor(..) | Event::Alias(_) | Event::UnresolvedAlias(_) => {
                return full_head(text, file);
            }
            Event::Scalar(value, style, _, tag) => {
                if tag.is_some() {
                    return full_head(text, file);
                }
                match stack.last_mut() {
                    Some(Frame::Map { key }) => match key.take() {
                        // A null or uint64 key fails Helm's JSON conversion, and an empty one may
                        // be a missing key: the full decoder words those errors.
                        None if style == ScalarStyle::Plain && super::parse::key_may_not_convert(&value) => {
                            return full_head(text, file)
                        }
                        None => *key = Some(value.into_owned()),
                        Some(k) => record(&mut head, &path, &k, &value),
                    },
                    Some(Frame::Seq) => {}
                    // A scalar document: only the full decoder knows null from a string here.
                    None => return full_head(text, file),
                }
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let is_map = matches!(event, Event::MappingStart(..));
                if stack.is_empty() && !is_map {
                    return full_head(text, file);
                }
                let segment = match stack.last_mut() {
                    Some(Frame::Map { key }) => match key.take() {
                        // A container used as a key: Helm's JSON conversion rejects it; let the
                        // full decoder say so.
                        None => return full_head(text, file),
                        Some(k) => Some(k),
                    },
                    _ => None,
                };
                if !stack.is_empty() {
                    path.push(segment);
                }
                stack.push(if is_map {
                    Frame::Map { key: None }
                } else {
                    Frame::Seq
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
                path.pop();
            }
            _ => {
                let _ = span;
            }
        }
    }
    Ok(head)
}

fn record(head: &mut DocHead, path: &[Option<String>], key: &str, value: &str) {
    match (path, key) {
        ([], "apiVersion") => head.api_version = value.to_string(),
        ([], "kind") => head.kind = value.to_string(),
        ([Some(m)], "name") if m == "metadata" => head.name = value.to_string(),
        ([Some(m)], "namespace") if m == "metadata" => head.namespace = value.to_string(),
        ([Some(m), Some(a)], k) if m == "metadata" && a == "annotations" => {
            head.annotations.insert(k.to_string(), value.to_string());
        }
        _ => {}
    }
}

/// The full decoder's answer, for the fast path's differential tests.
#[cfg(test)]
pub(crate) fn full_head_for_tests(text: &str) -> Result<DocHead, Error> {
    full_head(text, "t")
}

/// The slow path: decode the document fully and read the head from it.
fn full_head(text: &str, file: &str) -> Result<DocHead, Error> {
    let docs = parse_documents(text, file)?;
    let Some(doc) = docs.first() else {
        return Ok(DocHead::default());
    };
    // Helm decodes every document into a struct: a scalar or list document is an error there.
    let kind = match doc {
        serde_json::Value::Object(_) | serde_json::Value::Null => None,
        serde_json::Value::String(_) => Some("string"),
        serde_json::Value::Array(_) => Some("array"),
        serde_json::Value::Bool(_) => Some("bool"),
        serde_json::Value::Number(_) => Some("number"),
    };
    if let Some(kind) = kind {
        return Err(Error::new(
            file,
            None,
            format!(
                "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {kind} into Go value of \
                 type releaseutil.SimpleHead"
            ),
        ));
    }
    let s = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).unwrap_or("").to_string();
    let meta = doc.get("metadata");
    Ok(DocHead {
        api_version: s(doc.get("apiVersion")),
        kind: s(doc.get("kind")),
        name: s(meta.and_then(|m| m.get("name"))),
        namespace: s(meta.and_then(|m| m.get("namespace"))),
        annotations: meta
            .and_then(|m| m.get("annotations"))
            .and_then(|a| a.as_object())
            .map(|a| {
                a.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_match_the_full_decoder() {
        let cases = [
            ("plain", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: ns\n  annotations:\n    a: b\n"),
            ("nested names ignored", "kind: Pod\nspec:\n  containers:\n  - name: c\n    namespace: no\nmetadata:\n  name: p\n"),
            ("flow style", "{apiVersion: v1, kind: Secret, metadata: {name: s, annotations: {\"helm.sh/hook\": pre-install}}}"),
            ("quoted values", "kind: 'Job'\nmetadata:\n  name: \"j\"\n  annotations:\n    \"helm.sh/hook-weight\": \"-5\"\n"),
            ("anchors use full path", "kind: &k Job\nmetadata:\n  name: *k\n"),
            ("null document", "~\n"),
            ("comment only", "# nothing here\n"),
        ];
        for (name, text) in cases {
            assert_eq!(
                scan_head(text, "t").expect(name),
                full_head(text, "t").expect(name),
                "{name}"
            );
        }
        assert_eq!(scan_head(cases[0].1, "t").unwrap().namespace, "ns");
        assert_eq!(scan_head(cases[1].1, "t").unwrap().namespace, "");
    }

    #[test]
    fn invalid_yaml_is_an_error_with_position() {
        let e = scan_head("a: 1\nb: [1\n", "f.yaml").expect_err("unclosed flow");
        assert_eq!(e.file, "f.yaml");
        assert!(e.line.is_some(), "{e}");
        let e = scan_head("? [a, b]\n: c\nkind: X\n", "f.yaml").expect_err("complex key");
        assert!(e.message.contains("invalid map key"), "{e}");
        // A merge key whose value is not a map, on both fast readers (block, then flow); helm
        // v3.17.2: "map merge requires map or sequence of maps as the value". The fuzzer found it.
        for text in [
            "kind: X
a:
  <<: 1
",
            "{kind: X, a: {<<: 1}}",
        ] {
            let e = scan_head(text, "f.yaml").expect_err(text);
            assert!(e.message.contains("map merge requires map"), "{text}: {e}");
        }
    }
}
