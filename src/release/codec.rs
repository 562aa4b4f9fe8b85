//! Turning a [`Release`] into the text stored in a record's `data.release`, and back.
//!
//! The encoding is Helm's (`storage/driver/util.go`: JSON, then gzip — at the default level, where
//! Helm uses best — then standard base64) with one step added: between gzip and base64 the bytes are sealed with
//! AES-256-GCM under the namespace's data key. The rule is simple on purpose: **the whole body is
//! encrypted, always**. Deciding which parts of a record are sensitive (Secret documents, values
//! that feed them, hook output, failure messages quoting a manifest) is guesswork, and a wrong guess
//! leaks a password into a ConfigMap that any namespace reader can see. Only the metadata the
//! record's labels and annotations carry (name, revision, status, chart, timestamps, run id) stays
//! readable, so `list` and `history` tables need no key.
//!
//! Envelope, before base64: `"KCR" 0x01 | key id (4 bytes) | nonce (12 bytes) | ciphertext+tag`.
//! The key id (the first 4 bytes of SHA-256 of the key) lets a wrong key be reported as such
//! instead of as corruption. The associated data is `<namespace>/<object name>`, so a body copied
//! onto another revision, release or namespace fails authentication instead of being believed.

use std::io::{Read, Write};

use aes_gcm::{
    aead::{Aead, KeyInit, Payload},
    Aes256Gcm, Nonce,
};
use base64::{engine::general_purpose::STANDARD, Engine};
use flate2::{read::GzDecoder, write::GzEncoder, Compression};
use rand::{rngs::OsRng, RngCore};
use sha2::{Digest, Sha256};

use serde::{de::DeserializeOwned, Deserialize};

use super::record::{ChartRef, Release, Status, Timestamp};

const MAGIC: &[u8; 4] = b"KCR\x01";
const KEY_ID_LEN: usize = 4;
const NONCE_LEN: usize = 12;
const HEADER_LEN: usize = MAGIC.len() + KEY_ID_LEN + NONCE_LEN;

/// A 256-bit data key. One per namespace, kept in the Secret [`KEY_SECRET`].
#[derive(Clone, PartialEq, Eq)]
pub struct DataKey([u8; 32]);

/// The Secret that holds a namespace's data key.
pub const KEY_SECRET: &str = "kubectl-chart-key";
/// The key of the data key inside [`KEY_SECRET`] (raw 32 bytes).
pub const KEY_SECRET_FIELD: &str = "key";

impl DataKey {
    /// A fresh random key from the operating system's generator.
    pub fn generate() -> DataKey {
        let mut k = [0u8; 32];
        OsRng.fill_bytes(&mut k);
        DataKey(k)
    }

    /// A key from the bytes stored in [`KEY_SECRET`].
    pub fn from_bytes(bytes: &[u8]) -> Result<DataKey, CodecError> {
        let k: [u8; 32] = bytes
            .try_into()
            .map_err(|_| CodecError::BadKey { len: bytes.len() })?;
        Ok(DataKey(k))
    }

    /// The raw key, for storing it in [`KEY_SECRET`].
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// A short public fingerprint (8 hex digits) that names the key in messages and envelopes.
    pub fn id(&self) -> String {
        hex(&self.id_bytes())
    }

    fn id_bytes(&self) -> [u8; KEY_ID_LEN] {
        let d = Sha256::digest(self.0);
        [d[0], d[1], d[2], d[3]]
    }
}

impl std::fmt::Debug for DataKey {
    // Never print key material, not even in test failures.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DataKey({})", self.id())
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Why a record body could not be encoded or decoded.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// The release did not serialize (a non-finite float in the values, for example).
    #[error("encoding release record as JSON: {0}")]
    Serialize(#[source] serde_json::Error),
    /// gzip failed.
    #[error("compressing release record: {0}")]
    Compress(#[source] std::io::Error),
    /// AES-GCM refused to seal (only for absurd sizes).
    #[error("encrypting release record failed")]
    Encrypt,
    /// `data.release` is not base64.
    #[error("release record body is not base64: {0}")]
    Base64(#[source] base64::DecodeError),
    /// `data.release` is not our envelope (a Helm record, or written by a newer version).
    #[error("release record body is not a kubectl-chart v1 encrypted record")]
    Format,
    /// The body was sealed with another key than the one the namespace holds now.
    #[error(
        "release record was encrypted with data key {record_key} but Secret kubectl-chart-key \
         holds key {namespace_key}; was the Secret deleted or replaced?"
    )]
    WrongKey {
        /// Id of the key in the envelope.
        record_key: String,
        /// Id of the namespace key.
        namespace_key: String,
    },
    /// Right key, but the ciphertext or its binding (namespace, object name) does not match.
    #[error(
        "release record failed authentication: it was modified, or copied from another release, \
         revision or namespace"
    )]
    Tampered,
    /// gunzip failed after a successful decryption.
    #[error("decompressing release record: {0}")]
    Decompress(#[source] std::io::Error),
    /// The JSON inside is not a release.
    #[error("decoding release record JSON: {0}")]
    Deserialize(#[source] serde_json::Error),
    /// The key Secret holds something that is not a 32-byte key.
    #[error("Secret kubectl-chart-key field \"key\" holds {len} bytes, want 32")]
    BadKey {
        /// Length found.
        len: usize,
    },
}

/// The associated data that binds a body to where it is stored.
pub fn binding(namespace: &str, object_name: &str) -> String {
    format!("{namespace}/{object_name}")
}

/// Encode a release for `data.release`: JSON, gzip, AES-256-GCM bound to `binding`, base64.
pub fn encode(rel: &Release, key: &DataKey, binding: &str) -> Result<String, CodecError> {
    // JSON whole, then compressed in one call: serde_json writes a string's escapes piece by
    // piece, and each small write into the compressor has a fixed cost. Gzip's default level,
    // not Helm's best: on argo-cd's record (1.9 MB of JSON) best is 4.5x slower for 4% fewer bytes.
    let json = serde_json::to_vec(rel).map_err(CodecError::Serialize)?;
    let mut gz = GzEncoder::new(Vec::with_capacity(json.len() / 8), Compression::default());
    gz.write_all(&json).map_err(CodecError::Compress)?;
    drop(json);
    let compressed = gz.finish().map_err(CodecError::Compress)?;

    let mut nonce = [0u8; NONCE_LEN];
    OsRng.fill_bytes(&mut nonce);
    let cipher = Aes256Gcm::new(key.as_bytes().into());
    let sealed = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &compressed,
                aad: binding.as_bytes(),
            },
        )
        .map_err(|_| CodecError::Encrypt)?;

    let mut out = Vec::with_capacity(HEADER_LEN + sealed.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&key.id_bytes());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Ok(STANDARD.encode(out))
}

/// Decode what [`encode`] produced, checking the key and the binding.
pub fn decode(body: &str, key: &DataKey, binding: &str) -> Result<Release, CodecError> {
    decode_as(body, key, binding)
}

/// What a history table shows of a record: [`decode_as`] into this skips the manifest, values,
/// hooks and notes while decoding instead of allocating them.
#[derive(Debug, Deserialize)]
pub struct Summary {
    name: String,
    namespace: String,
    revision: u32,
    status: Status,
    chart: ChartRef,
    #[serde(default)]
    description: String,
    first_deployed: Timestamp,
    last_deployed: Timestamp,
    #[serde(default)]
    deleted: Option<Timestamp>,
    owner: String,
}

/// A release with the summary's fields and every heavy one empty.
impl From<Summary> for Release {
    fn from(s: Summary) -> Release {
        Release {
            name: s.name,
            namespace: s.namespace,
            revision: s.revision,
            status: s.status,
            chart: s.chart,
            values: serde_json::Value::Null,
            computed_values: serde_json::Value::Null,
            manifest: String::new(),
            hooks: Vec::new(),
            notes: String::new(),
            description: s.description,
            first_deployed: s.first_deployed,
            last_deployed: s.last_deployed,
            deleted: s.deleted,
            owner: s.owner,
        }
    }
}

/// [`decode`] into any view of the record's JSON ([`Release`], [`Summary`]). The JSON is
/// decompressed as it is parsed, never held whole.
pub fn decode_as<T: DeserializeOwned>(body: &str, key: &DataKey, binding: &str) -> Result<T, CodecError> {
    let raw = STANDARD.decode(body.trim()).map_err(CodecError::Base64)?;
    if raw.len() < HEADER_LEN || &raw[..MAGIC.len()] != MAGIC {
        return Err(CodecError::Format);
    }
    let key_id = &raw[MAGIC.len()..MAGIC.len() + KEY_ID_LEN];
    if key_id != key.id_bytes() {
        return Err(CodecError::WrongKey {
            record_key: hex(key_id),
            namespace_key: key.id(),
        });
    }
    let nonce = &raw[MAGIC.len() + KEY_ID_LEN..HEADER_LEN];
    let cipher = Aes256Gcm::new(key.as_bytes().into());
    let compressed = cipher
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: &raw[HEADER_LEN..],
                aad: binding.as_bytes(),
            },
        )
        .map_err(|_| CodecError::Tampered)?;
    drop(raw);
    // Inflated whole, then parsed from the slice: serde_json reads a slice several times faster
    // than a reader (strings are scanned in bulk instead of byte by byte), and the inflated JSON
    // is a few megabytes at most, freed before this returns.
    let mut json = Vec::with_capacity(compressed.len().saturating_mul(8));
    GzDecoder::new(compressed.as_slice())
        .read_to_end(&mut json)
        .map_err(CodecError::Decompress)?;
    drop(compressed);
    serde_json::from_slice(&json).map_err(CodecError::Deserialize)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::release::record::{ChartRef, Hook, Status, Timestamp};

    pub(crate) fn sample(name: &str, revision: u32) -> Release {
        Release {
            name: name.to_string(),
            namespace: "prod".to_string(),
            revision,
            status: Status::Deployed,
            chart: ChartRef {
                name: "web".into(),
                version: "1.2.3".into(),
                app_version: "2.0".into(),
                origin: None,
            },
            values: serde_json::json!({"password": "hunter2-user-value"}),
            computed_values: serde_json::json!({"password": "hunter2-user-value", "replicas": 2}),
            manifest: "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  pw: \
                       s3cr3t-in-manifest\n"
                .to_string(),
            hooks: vec![Hook {
                name: "migrate".into(),
                kind: "Job".into(),
                path: "web/templates/job.yaml".into(),
                manifest: "kind: Job".into(),
                events: vec!["pre-upgrade".into()],
                weight: -5,
                delete_policies: vec!["before-hook-creation".into()],
                last_run: None,
            }],
            notes: "thanks".into(),
            description: "Upgrade complete".into(),
            first_deployed: Timestamp(1_000),
            last_deployed: Timestamp(2_000),
            deleted: None,
            owner: "run-1".into(),
        }
    }

    #[test]
    fn round_trip() {
        let key = DataKey::generate();
        let cases = [
            ("full record", sample("web", 3)),
            (
                "empty values",
                Release {
                    values: serde_json::json!({}),
                    ..sample("a", 1)
                },
            ),
            (
                "unicode manifest",
                Release {
                    manifest: "name: \u{e9}t\u{e9} \u{1f600}\n".into(),
                    ..sample("b", 9)
                },
            ),
        ];
        for (case, rel) in cases {
            let b = binding("prod", &rel.key());
            let body = encode(&rel, &key, &b).unwrap_or_else(|e| panic!("{case}: {e}"));
            let back = decode(&body, &key, &b).unwrap_or_else(|e| panic!("{case}: {e}"));
            assert_eq!(back, rel, "{case}");
        }
    }

    #[test]
    fn fresh_nonce_every_encode() {
        let key = DataKey::generate();
        let rel = sample("web", 1);
        let b = binding("prod", &rel.key());
        assert_ne!(encode(&rel, &key, &b).unwrap(), encode(&rel, &key, &b).unwrap());
    }

    #[test]
    fn decode_failures_are_named() {
        let key = DataKey::generate();
        let other = DataKey::generate();
        let rel = sample("web", 2);
        let b = binding("prod", &rel.key());
        let body = encode(&rel, &key, &b).unwrap();
        let mut flipped = STANDARD.decode(&body).unwrap();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        let flipped = STANDARD.encode(flipped);
        // A Helm v3 body: base64(gzip(json)) starts with the gzip magic, not ours.
        let helm_body = STANDARD.encode([
            0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ]);
        let cases: [(&str, &str, &DataKey, String, &str); 6] = [
            (
                "wrong key",
                &body,
                &other,
                b.clone(),
                "was encrypted with data key",
            ),
            (
                "other revision",
                &body,
                &key,
                binding("prod", "kubectl-chart.web.v3"),
                "copied from another",
            ),
            (
                "other namespace",
                &body,
                &key,
                binding("dev", &rel.key()),
                "copied from another",
            ),
            ("bit flip", &flipped, &key, b.clone(), "modified"),
            (
                "helm record",
                &helm_body,
                &key,
                b.clone(),
                "not a kubectl-chart v1 encrypted record",
            ),
            ("not base64", "!!!", &key, b.clone(), "not base64"),
        ];
        for (case, body, k, bind, want) in cases {
            let err = decode(body, k, &bind).expect_err(case).to_string();
            assert!(err.contains(want), "{case}: {err}");
        }
        let err = decode(&body, &other, &b).unwrap_err().to_string();
        assert!(
            err.contains(&key.id()) && err.contains(&other.id()),
            "wrong key names both ids: {err}"
        );
    }

    #[test]
    fn body_hides_everything() {
        let key = DataKey::generate();
        let rel = sample("web", 1);
        let body = encode(&rel, &key, &binding("prod", &rel.key())).unwrap();
        for secret in [
            "s3cr3t-in-manifest",
            "hunter2-user-value",
            "Upgrade complete",
            "Secret",
        ] {
            assert!(!contains_in_any_form(&body, secret), "{secret} leaked");
        }
    }

    /// Whether `needle` shows in `hay` as plain text, as base64 (at any of the three alignments)
    /// or inside a base64 decode of `hay`.
    pub(crate) fn contains_in_any_form(hay: &str, needle: &str) -> bool {
        if hay.contains(needle) {
            return true;
        }
        for skip in 0..3 {
            let padded = format!("{}{}", &"xx"[..skip], needle);
            let enc = STANDARD.encode(padded.as_bytes());
            // Drop the 4-character groups that also encode the prefix or what follows.
            let start = if skip > 0 { 4 } else { 0 };
            let core = &enc[start.min(enc.len())..enc.len().saturating_sub(4)];
            if core.len() >= 4 && hay.contains(core) {
                return true;
            }
        }
        if let Ok(raw) = STANDARD.decode(hay.trim()) {
            if raw.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                return true;
            }
        }
        false
    }

    #[test]
    fn leak_detector_detects() {
        let s = "hunter2-user-value";
        let cases = [
            ("plain", format!("abc {s} def")),
            ("base64", STANDARD.encode(format!("k: {s}\n"))),
            ("base64 offset 1", STANDARD.encode(format!("k:{s}"))),
            ("base64 offset 2", STANDARD.encode(format!("ke:{s}"))),
            ("double base64", STANDARD.encode(STANDARD.encode(format!("x{s}")))),
        ];
        for (case, hay) in cases {
            let found = contains_in_any_form(&hay, s)
                || STANDARD
                    .decode(&hay)
                    .ok()
                    .and_then(|r| String::from_utf8(r).ok())
                    .is_some_and(|inner| contains_in_any_form(&inner, s));
            assert!(found, "{case}: {hay}");
        }
        assert!(!contains_in_any_form("nothing here", s));
    }

    #[test]
    fn key_from_bytes() {
        let k = DataKey::generate();
        assert_eq!(DataKey::from_bytes(k.as_bytes()).unwrap(), k);
        let err = DataKey::from_bytes(&[1, 2, 3]).unwrap_err().to_string();
        assert_eq!(
            err,
            "Secret kubectl-chart-key field \"key\" holds 3 bytes, want 32"
        );
        assert!(!format!("{k:?}").contains(&format!("{:?}", k.as_bytes())));
    }
}
