//! SHA-256 digests in the two spellings every layer writes: bare lowercase hex (Helm's
//! provenance and index files, record checksums) and `sha256:<hex>` (OCI content digests,
//! `Chart.lock`'s digest, the download cache's keys). A leaf module, so that the lowest
//! layers (`chart/`) can use it without reaching up into `net/` or `cache`.

use sha2::{Digest as _, Sha256};

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Lowercase hex sha256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// `sha256:<hex>` of `data`, as OCI and `Chart.lock` write a digest.
pub fn sha256(data: &[u8]) -> String {
    format!("sha256:{}", sha256_hex(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known answers (the empty input's and "abc"'s are FIPS 180-2's test vectors).
    #[test]
    fn digests() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
        let cases: [(&[u8], &str); 2] = [
            (
                b"",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ),
            (
                b"abc",
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            ),
        ];
        for (data, want) in cases {
            assert_eq!(sha256_hex(data), want);
            assert_eq!(sha256(data), format!("sha256:{want}"));
        }
    }
}
