//! Pull and push: a reference and Helm's flags in, a verified chart archive out (or up).

use super::{
    client::{parse_manifest, Client, Error, MAX_CHART_ARCHIVE},
    manifest::{self, Descriptor, Manifest},
    resolve::{self, Target},
    Reference,
};
use crate::cache::{self, Cache};

/// A pulled chart, verified, not yet written anywhere but the content cache.
#[derive(Debug, Clone)]
pub struct Pulled {
    /// What was pulled: the reference with the tag that was picked (or the digest).
    pub reference: Reference,
    /// The manifest digest (`Digest:` in Helm's output).
    pub manifest_digest: String,
    /// The chart archive.
    pub chart: Vec<u8>,
    /// Its digest.
    pub chart_digest: String,
    /// The layer had the pre-3.7 media type (Helm warns).
    pub legacy_media_type: bool,
    /// Requests avoided: the manifest and chart came from the cache.
    pub from_cache: bool,
}

/// Resolves `raw` with `--version`/`--devel` by Helm's rules and downloads the chart, each blob
/// verified; blobs already in `cache` are read from it (re-verified), and new ones are added to
/// it only once everything has been fetched and checked.
pub async fn pull(
    client: &Client,
    cache: Option<&Cache>,
    raw: &str,
    version: &str,
    devel: bool,
) -> Result<Pulled, Error> {
    let invalid = |reason: String| Error::Invalid {
        what: raw.to_string(),
        reason,
    };
    let r = Reference::parse(raw).map_err(|e| Error::Invalid {
        what: "reference".into(),
        reason: e,
    })?;
    let target = resolve::target(r.tag.as_deref(), r.digest.as_deref(), version, devel).map_err(invalid)?;
    let (reference, manifest_ref) = match target {
        Target::Digest(d) => (r.clone(), d),
        Target::Tag(t) => (r.with_tag(&t), t.replace('+', "_")),
        Target::Constraint(c) => {
            let tags = client.tags(&r).await?;
            let sorted = resolve::semver_tags(&tags);
            let picked = resolve::pick(&sorted, &c, raw).map_err(invalid)?;
            (r.with_tag(&picked), picked.replace('+', "_"))
        }
    };
    // A digest names immutable content: a cached manifest answers without any request. A tag
    // may move, so it is always asked (one small request; blobs still come from the cache).
    let cached_manifest = match (&reference.digest, cache) {
        (Some(d), Some(c)) => c.get(d).map_err(|e| invalid(e.to_string()))?,
        _ => None,
    };
    let manifest_cached = cached_manifest.is_some();
    let (m, manifest_digest, manifest_bytes): (Manifest, String, Vec<u8>) = match cached_manifest {
        Some(bytes) => (
            parse_manifest(&reference.to_string(), &bytes)?,
            reference.digest.clone().expect("cached by digest"),
            bytes,
        ),
        None => {
            let f = client.manifest(&reference, &manifest_ref).await?;
            (f.manifest, f.digest, f.bytes)
        }
    };
    let (layer, legacy) = m.check_chart().map_err(|reason| Error::Invalid {
        what: reference.to_string(),
        reason,
    })?;
    let layer: Descriptor = layer.clone();
    cache::digest_hex(&layer.digest).map_err(|e| invalid(e.to_string()))?;
    let cached_chart = match cache {
        Some(c) => c.get(&layer.digest).map_err(|e| invalid(e.to_string()))?,
        None => None,
    };
    let from_cache = cached_chart.is_some();
    let chart = match cached_chart {
        Some(c) => c,
        None => client.blob(&reference, &layer, MAX_CHART_ARCHIVE).await?,
    };
    // Only what was downloaded is written: a cache hit was verified by `get` already.
    if let Some(c) = cache {
        let fetched = [
            (!manifest_cached).then_some((&manifest_digest, &manifest_bytes)),
            (!from_cache).then_some((&layer.digest, &chart)),
        ];
        for (d, bytes) in fetched.into_iter().flatten() {
            c.put(d, bytes).map_err(|e| invalid(format!("caching: {e}")))?;
        }
    }
    Ok(Pulled {
        reference,
        manifest_digest,
        chart,
        chart_digest: layer.digest,
        legacy_media_type: legacy,
        from_cache,
    })
}

/// A pushed chart.
#[derive(Debug, Clone)]
pub struct Pushed {
    /// `host/path/name:version` (with `+` stored as `_`).
    pub reference: Reference,
    /// The manifest digest.
    pub manifest_digest: String,
}

/// Pushes a chart archive to `remote` (`oci://host/path`) as `…/<name>:<version>`, with Helm's
/// media types, config blob and annotations; `created` is the RFC 3339 creation time.
pub async fn push(client: &Client, chart: &[u8], remote: &str, created: &str) -> Result<Pushed, Error> {
    let invalid = |what: &str, reason: String| Error::Invalid {
        what: what.to_string(),
        reason,
    };
    let Some(rest) = remote.strip_prefix("oci://") else {
        return Err(invalid(
            remote,
            "scheme prefix missing from remote (e.g. \"oci://\")".into(),
        ));
    };
    let loaded = crate::chart::loader::load_archive(chart).map_err(|e| invalid("chart", e.to_string()))?;
    let meta = &loaded.metadata;
    let raw = format!("{}/{}:{}", rest.trim_end_matches('/'), meta.name, meta.version);
    let reference = Reference::parse(&raw).map_err(|e| invalid("reference", e))?;
    let tag = reference.tag.clone().expect("built with a tag");
    let config = manifest::config_blob(meta);
    let layer = Descriptor {
        media_type: manifest::CHART_LAYER_MEDIA_TYPE.into(),
        digest: cache::digest_of(chart),
        size: chart.len() as u64,
        annotations: Default::default(),
    };
    let config_desc = Descriptor {
        media_type: manifest::CONFIG_MEDIA_TYPE.into(),
        digest: cache::digest_of(&config),
        size: config.len() as u64,
        annotations: Default::default(),
    };
    let m = Manifest {
        schema_version: 2,
        // Helm 3.17 (oras-go v1) leaves the manifest's own mediaType out; so do we, so the two
        // push the same bytes for the same chart and creation time.
        media_type: String::new(),
        config: config_desc.clone(),
        layers: vec![layer.clone()],
        annotations: manifest::annotations(meta, created),
    };
    let manifest_bytes = manifest::go_json(&m);
    client.push_blob(&reference, chart, &layer.digest).await?;
    client.push_blob(&reference, &config, &config_desc.digest).await?;
    let manifest_digest = client.push_manifest(&reference, &tag, &manifest_bytes).await?;
    Ok(Pushed {
        reference,
        manifest_digest,
    })
}
