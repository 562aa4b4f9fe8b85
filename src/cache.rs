//! The content-addressed download cache: blobs stored under their sha256, verified before they
//! are written and again whenever they are read, so a second use of the same chart needs no
//! download and a corrupted or edited entry is never trusted.
//!
//! Writes go to a temporary file in the same directory and are renamed into place, so a crash or
//! a concurrent writer never leaves a half-written entry under a digest name.

use std::{
    io::Write as _,
    path::{Path, PathBuf},
};

/// A cache failure; the message names the file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The digest is not `sha256:` and 64 lowercase hex digits.
    #[error("invalid digest {0:?}: expected sha256:<64 hex digits>")]
    Digest(String),
    /// Content does not hash to the digest it is stored or announced under.
    #[error("digest mismatch: expected {expected}, got {actual}")]
    Mismatch { expected: String, actual: String },
    /// The file system refused.
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

/// A cache rooted at a directory (see [`crate::helmpath::content_cache`]).
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

/// The lowercase hex of a `sha256:<hex>` digest, validated.
pub fn digest_hex(digest: &str) -> Result<&str, Error> {
    match digest.strip_prefix("sha256:") {
        Some(h)
            if h.len() == 64
                && h.bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) =>
        {
            Ok(h)
        }
        _ => Err(Error::Digest(digest.to_string())),
    }
}

pub use crate::digest::sha256 as digest_of;

/// Checks that `data` has `digest`.
pub fn verify(digest: &str, data: &[u8]) -> Result<(), Error> {
    digest_hex(digest)?;
    let actual = digest_of(data);
    if actual != digest {
        return Err(Error::Mismatch {
            expected: digest.to_string(),
            actual,
        });
    }
    Ok(())
}

impl Cache {
    /// A cache in `root` (created on the first write).
    pub fn new(root: impl Into<PathBuf>) -> Cache {
        Cache { root: root.into() }
    }

    /// Where the blob with this digest lives.
    pub fn path(&self, digest: &str) -> Result<PathBuf, Error> {
        Ok(self.root.join("sha256").join(digest_hex(digest)?))
    }

    /// The blob, if cached and intact. An entry whose bytes no longer match its name is removed
    /// and reported as a miss, so the caller downloads it again.
    pub fn get(&self, digest: &str) -> Result<Option<Vec<u8>>, Error> {
        let path = self.path(digest)?;
        let data = match std::fs::read(&path) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(Error::Io { path, source }),
        };
        if verify(digest, &data).is_err() {
            tracing::warn!(path = %path.display(), "cache entry corrupted; removed");
            let _ = std::fs::remove_file(&path);
            return Ok(None);
        }
        Ok(Some(data))
    }

    /// Stores `data` under `digest` after checking it hashes to it; returns the entry's path.
    pub fn put(&self, digest: &str, data: &[u8]) -> Result<PathBuf, Error> {
        verify(digest, data)?;
        let path = self.path(digest)?;
        let dir = path.parent().expect("cache paths have a parent");
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| Error::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        // Unique per call, not only per process: `dependency update` stores downloads from
        // several threads, and two of them may carry the same bytes.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = dir.join(format!(".tmp-{}-{n}-{}", std::process::id(), &digest[7..19]));
        let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(data).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
        drop(f);
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_table() {
        let good = digest_of(b"x");
        let cases = [
            (good.as_str(), true),
            ("sha256:abc", false),
            (
                "sha512:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881",
                false,
            ),
            (
                "sha256:2D711642B726B04401627CA9FBAC32F5C8530FB1903CC4DB02258717921A4881",
                false,
            ),
            (
                "sha256:../../../../../../../../../../../../../../../../../etc/passwd",
                false,
            ),
        ];
        for (d, ok) in cases {
            assert_eq!(digest_hex(d).is_ok(), ok, "{d}");
        }
    }

    #[test]
    fn put_get_verify_and_heal() {
        let dir = std::env::temp_dir().join(format!("kc-cache-test-{}", std::process::id()));
        let cache = Cache::new(&dir);
        let d = digest_of(b"chart");
        assert!(cache.get(&d).unwrap().is_none(), "empty cache misses");
        assert!(
            matches!(cache.put(&d, b"other"), Err(Error::Mismatch { .. })),
            "wrong content is refused"
        );
        assert!(!cache.path(&d).unwrap().exists(), "and nothing is written");
        cache.put(&d, b"chart").unwrap();
        assert_eq!(cache.get(&d).unwrap().as_deref(), Some(&b"chart"[..]));
        std::fs::write(cache.path(&d).unwrap(), b"tampered").unwrap();
        assert!(cache.get(&d).unwrap().is_none(), "a tampered entry is a miss");
        assert!(!cache.path(&d).unwrap().exists(), "and is removed");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
