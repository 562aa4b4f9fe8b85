//! Helm's release body encoding (`pkg/storage/driver/util.go`): JSON, gzip'd, base64'd.
//!
//! The body is kept as a JSON value, not a typed struct, so that a record we only re-mark (the
//! last word on take-over) goes back with every field Helm wrote, including the chart's
//! templates and fields of Helm versions newer than this code. [`super::convert`] reads the
//! fields we use out of it.
//!
//! Decoding follows Helm: base64 (standard alphabet), then gunzip only when the gzip magic is
//! there (Helm 2-era records were stored uncompressed), then JSON. Each step's failure is its own
//! error, so a corrupt record says which layer is broken.

use std::io::{Read, Write};

use base64::Engine as _;
use serde_json::Value;

/// Gzip's magic bytes and deflate method, what Helm checks before inflating.
const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];

/// What is wrong with one encoded Helm release body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// Not base64.
    #[error("release data is not base64: {0}")]
    Base64(String),
    /// Claims to be gzip but does not inflate.
    #[error("release data is not valid gzip: {0}")]
    Gzip(String),
    /// Not a JSON object.
    #[error("release data is not a Helm release (JSON): {0}")]
    Json(String),
}

/// Decodes a Helm release body (the text Helm stores under `release`) into its JSON object.
pub fn decode(text: &[u8]) -> Result<Value, BodyError> {
    let text: Vec<u8> = text
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(&text)
        .map_err(|e| BodyError::Base64(e.to_string()))?;
    let json = if raw.starts_with(&GZIP_MAGIC) {
        let mut out = Vec::with_capacity(raw.len() * 4);
        flate2::read::GzDecoder::new(raw.as_slice())
            .read_to_end(&mut out)
            .map_err(|e| BodyError::Gzip(e.to_string()))?;
        out
    } else {
        raw
    };
    let v: Value = serde_json::from_slice(&json).map_err(|e| BodyError::Json(e.to_string()))?;
    if !v.is_object() {
        return Err(BodyError::Json("not a JSON object".to_string()));
    }
    Ok(v)
}

/// Encodes a release JSON object as Helm does: JSON, gzip at best compression, base64.
pub fn encode(release: &Value) -> String {
    // Writing JSON into a Vec and gzip into a Vec cannot fail.
    let json = serde_json::to_vec(release).unwrap_or_default();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let _ = gz.write_all(&json);
    let packed = gz.finish().unwrap_or_default();
    base64::engine::general_purpose::STANDARD.encode(packed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(bytes).unwrap();
        gz.finish().unwrap()
    }

    #[test]
    fn decodes_good_and_names_the_broken_layer() {
        let body = br#"{"name":"pod","version":1}"#;
        let mut truncated = gzip(body);
        truncated.truncate(truncated.len() - 6);
        let cases: Vec<(&str, String, Result<Value, &str>)> = vec![
            (
                "gzip'd, as Helm writes",
                b64(&gzip(body)),
                Ok(json!({"name": "pod", "version": 1})),
            ),
            (
                "plain JSON, as old Helm wrote",
                b64(body),
                Ok(json!({"name": "pod", "version": 1})),
            ),
            (
                "wrapped lines",
                {
                    let s = b64(&gzip(body));
                    format!("{}\n{}", &s[..10], &s[10..])
                },
                Ok(json!({"name": "pod", "version": 1})),
            ),
            ("bad base64", "not base64!".to_string(), Err("not base64")),
            ("truncated gzip", b64(&truncated), Err("not valid gzip")),
            (
                "gzip of garbage",
                b64(&gzip(b"{not json")),
                Err("not a Helm release"),
            ),
            (
                "JSON but not an object",
                b64(&gzip(b"[1,2]")),
                Err("not a JSON object"),
            ),
            ("empty", String::new(), Err("not a Helm release")),
        ];
        for (name, input, want) in cases {
            let got = decode(input.as_bytes());
            match (got, want) {
                (Ok(v), Ok(w)) => assert_eq!(v, w, "{name}"),
                (Err(e), Err(w)) => assert!(e.to_string().contains(w), "{name}: {e}"),
                (got, want) => panic!("{name}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn encode_round_trips_and_is_gzip() {
        let v = json!({"name": "pod", "info": {"status": "deployed"}, "version": 3, "z": [1, "a"]});
        let text = encode(&v);
        let raw = base64::engine::general_purpose::STANDARD.decode(&text).unwrap();
        assert!(raw.starts_with(&GZIP_MAGIC), "Helm's readers expect gzip");
        assert_eq!(decode(text.as_bytes()).unwrap(), v);
    }
}
