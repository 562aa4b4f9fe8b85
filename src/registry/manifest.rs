//! What a Helm chart looks like in a registry (Helm v3.17 `pkg/registry/constants.go`,
//! `client.go` Push/Pull): an OCI image manifest whose config blob is the chart's `Chart.yaml`
//! as JSON and whose one layer is the `.tgz`, annotated with the chart's name, version and more.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::chart::Metadata;

/// The OCI image manifest media type.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// Helm's config blob.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.cncf.helm.config.v1+json";
/// Helm's chart layer.
pub const CHART_LAYER_MEDIA_TYPE: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
/// Helm's provenance layer.
pub const PROV_LAYER_MEDIA_TYPE: &str = "application/vnd.cncf.helm.chart.provenance.v1.prov";
/// The chart layer type of Helm before 3.7, still accepted (with a warning) on pull.
pub const LEGACY_CHART_LAYER_MEDIA_TYPE: &str = "application/tar+gzip";

/// A content descriptor (field order as Go's `ocispec.Descriptor` marshals).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Descriptor {
    #[serde(rename = "mediaType")]
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// An image manifest (field order as Go's `ocispec.Manifest` marshals).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    #[serde(rename = "mediaType", default, skip_serializing_if = "String::is_empty")]
    pub media_type: String,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Manifest {
    /// The chart layer: Helm's media type, else the legacy one (`true` when legacy, which Helm
    /// warns about).
    pub fn chart_layer(&self) -> Option<(&Descriptor, bool)> {
        self.layers
            .iter()
            .find(|l| l.media_type == CHART_LAYER_MEDIA_TYPE)
            .map(|l| (l, false))
            .or_else(|| {
                self.layers
                    .iter()
                    .find(|l| l.media_type == LEGACY_CHART_LAYER_MEDIA_TYPE)
                    .map(|l| (l, true))
            })
    }

    /// Checks what Helm's pull checks, with its wording.
    pub fn check_chart(&self) -> Result<(&Descriptor, bool), String> {
        if self.config.media_type != CONFIG_MEDIA_TYPE {
            return Err(format!(
                "could not load config with mediatype {CONFIG_MEDIA_TYPE}"
            ));
        }
        self.chart_layer().ok_or_else(|| {
            format!("manifest does not contain a layer with mediatype {CHART_LAYER_MEDIA_TYPE}")
        })
    }
}

/// JSON as Go's `encoding/json` writes it: compact, `<`, `>`, `&`, U+2028 and U+2029 escaped.
pub fn go_json<T: Serialize>(v: &T) -> Vec<u8> {
    let text = serde_json::to_string(v).expect("serializing plain data cannot fail");
    gotemplate::gostr::json_html_escape(&text).into_bytes()
}

/// The config blob Helm pushes: `json.Marshal(chart.Metadata)`.
pub fn config_blob(meta: &Metadata) -> Vec<u8> {
    go_json(&meta.to_json())
}

/// The OCI keys Helm sets itself and a chart's own annotations may not override.
const IMMUTABLE: [&str; 3] = [
    "org.opencontainers.image.title",
    "org.opencontainers.image.version",
    "org.opencontainers.image.created",
];

/// Helm's `generateOCIAnnotations`: description, title, version, url, created, source and
/// authors from `Chart.yaml` (blank values left out), then the chart's own annotations.
pub fn annotations(meta: &Metadata, created: &str) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    let mut add = |k: &str, v: &str| {
        if !v.trim().is_empty() {
            m.insert(format!("org.opencontainers.image.{k}"), v.to_string());
        }
    };
    add("description", &meta.description);
    add("title", &meta.name);
    add("version", &meta.version);
    add("url", &meta.home);
    add("created", created);
    if let Some(s) = meta.sources.first() {
        add("source", s);
    }
    if !meta.maintainers.is_empty() {
        let authors: Vec<String> = meta
            .maintainers
            .iter()
            .map(|x| {
                let mut s = x.name.clone();
                if !x.email.is_empty() {
                    s.push_str(&format!(" ({})", x.email));
                }
                s
            })
            .collect();
        add("authors", &authors.join(", "));
    }
    for (k, v) in &meta.annotations {
        if !IMMUTABLE.contains(&k.as_str()) {
            m.insert(k.clone(), v.clone());
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::Maintainer;

    #[test]
    fn annotations_like_helm() {
        let meta = Metadata {
            name: "web".into(),
            version: "1.2.3".into(),
            description: "A <web> app".into(),
            home: " ".into(),
            sources: vec!["https://src.example/a".into(), "https://src.example/b".into()],
            maintainers: vec![
                Maintainer {
                    name: "Ann".into(),
                    email: "ann@example.org".into(),
                    url: String::new(),
                },
                Maintainer {
                    name: "Bo".into(),
                    email: String::new(),
                    url: String::new(),
                },
            ],
            annotations: [
                ("org.opencontainers.image.title".to_string(), "spoof".to_string()),
                (
                    "org.opencontainers.image.description".to_string(),
                    "mine".to_string(),
                ),
                ("category".to_string(), "db".to_string()),
            ]
            .into(),
            ..Default::default()
        };
        let got = annotations(&meta, "2024-01-01T00:00:00Z");
        let want: BTreeMap<String, String> = [
            ("category", "db"),
            ("org.opencontainers.image.authors", "Ann (ann@example.org), Bo"),
            ("org.opencontainers.image.created", "2024-01-01T00:00:00Z"),
            // Not one of the three protected keys, so the chart's annotation wins, as in Helm.
            ("org.opencontainers.image.description", "mine"),
            ("org.opencontainers.image.source", "https://src.example/a"),
            ("org.opencontainers.image.title", "web"),
            ("org.opencontainers.image.version", "1.2.3"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(got, want);
        assert_eq!(
            String::from_utf8(config_blob(&meta))
                .unwrap()
                .split(',')
                .next()
                .unwrap(),
            r#"{"name":"web""#
        );
        assert!(String::from_utf8(config_blob(&meta))
            .unwrap()
            .contains(r#""A \u003cweb\u003e app""#));
    }

    #[test]
    fn chart_layer_checks() {
        let d = |t: &str| Descriptor {
            media_type: t.into(),
            digest: "sha256:00".into(),
            size: 1,
            annotations: BTreeMap::new(),
        };
        let m = |config: &str, layers: &[&str]| Manifest {
            schema_version: 2,
            media_type: MANIFEST_MEDIA_TYPE.into(),
            config: d(config),
            layers: layers.iter().map(|t| d(t)).collect(),
            annotations: BTreeMap::new(),
        };
        let cases = [
            (
                "helm",
                m(
                    CONFIG_MEDIA_TYPE,
                    &[CHART_LAYER_MEDIA_TYPE, PROV_LAYER_MEDIA_TYPE],
                ),
                Ok(false),
            ),
            (
                "legacy",
                m(CONFIG_MEDIA_TYPE, &[LEGACY_CHART_LAYER_MEDIA_TYPE]),
                Ok(true),
            ),
            (
                "an image",
                m("application/vnd.oci.image.config.v1+json", &["x"]),
                Err("could not load config"),
            ),
            (
                "no chart layer",
                m(CONFIG_MEDIA_TYPE, &[PROV_LAYER_MEDIA_TYPE]),
                Err("manifest does not contain a layer"),
            ),
        ];
        for (name, manifest, want) in cases {
            match (manifest.check_chart(), want) {
                (Ok((_, legacy)), Ok(w)) => assert_eq!(legacy, w, "{name}"),
                (Err(e), Err(w)) => assert!(e.starts_with(w), "{name}: {e}"),
                (got, w) => panic!("{name}: {got:?} vs {w:?}"),
            }
        }
    }
}
