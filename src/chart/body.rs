//! A chart file's contents ([`Body`]): read while the chart loads, or on first use.
//!
//! Helm reads every byte of a chart when it loads it. Most of the bytes of a big chart are in
//! `crds/` (which `template` prints only with `--include-crds`) and in large files no template
//! may ask for, so the directory loader defers those: it opens and sizes them as Helm would read
//! them, so a missing or unreadable file, a file over the limits or a bad name still fails at
//! load with Helm's text, and keeps the open file to read it the first time its body is asked
//! for (from the descriptor: what was checked is what is read).
//!
//! A body read at load is the buffer it was read into ([`Bytes`]): cloning it (a chart's `crds`
//! list, aliased subcharts, `.Files`) shares it, and nothing copies it into a second allocation.

use std::{cell::OnceCell, fmt, fs, io::Read, rc::Rc};

use bytes::Bytes;

use super::Error;

const UTF8_BOM: &[u8] = &[0xEF, 0xBB, 0xBF];

/// The contents of one chart file; clones share them.
#[derive(Clone)]
pub struct Body(Repr);

#[derive(Clone)]
enum Repr {
    Read(Bytes),
    Deferred(Rc<Deferred>),
}

/// A file opened and sized at load, read on first use.
struct Deferred {
    /// The file's name in the chart, for the error.
    name: String,
    file: fs::File,
    /// The size the limits were checked against: what is read, at most.
    size: u64,
    read: OnceCell<Result<Bytes, Error>>,
}

impl Body {
    /// A body read from `file` (already open, `size` bytes, checked against the limits) the
    /// first time it is asked for; `name` names it in the error when that read fails.
    pub(crate) fn deferred(name: String, file: fs::File, size: u64) -> Body {
        Body(Repr::Deferred(Rc::new(Deferred {
            name,
            file,
            size,
            read: OnceCell::new(),
        })))
    }

    /// The contents, read now if they were deferred. Fails only when a deferred read fails
    /// after the file was opened (an I/O error of the disk or file system).
    pub fn bytes(&self) -> Result<&[u8], Error> {
        match &self.0 {
            Repr::Read(b) => Ok(b),
            Repr::Deferred(d) => d.get().map(|b| &b[..]),
        }
    }

    /// The contents as an owned buffer: the very one they were read into when nothing else
    /// shares it (a template's text moves into its `String`), a copy otherwise.
    pub fn into_vec(self) -> Result<Vec<u8>, Error> {
        match self.0 {
            Repr::Read(b) => Ok(Vec::from(b)),
            Repr::Deferred(d) => d.get().map(|b| b.to_vec()),
        }
    }

    /// [`Body::bytes`] for callers that cannot fail (`.Files.AsConfig`, printing a value): empty
    /// when the read fails. The error stays with the body ([`Body::read_error`]), and the
    /// renderer reports it once rendering is done.
    pub fn bytes_or_empty(&self) -> &[u8] {
        self.bytes().unwrap_or_default()
    }

    /// The error of a deferred read that was tried and failed.
    pub fn read_error(&self) -> Option<&Error> {
        match &self.0 {
            Repr::Read(_) => None,
            Repr::Deferred(d) => d.read.get().and_then(|r| r.as_ref().err()),
        }
    }

    /// Whether the body is still unread (deferred and not asked for yet).
    pub fn is_deferred(&self) -> bool {
        matches!(&self.0, Repr::Deferred(d) if d.read.get().is_none())
    }
}

impl Deferred {
    fn get(&self) -> Result<&Bytes, Error> {
        let read = self.read.get_or_init(|| {
            let mut data = Vec::with_capacity(self.size as usize);
            // Bounded, as at load: the file may have grown since it was sized.
            (&self.file)
                .take(self.size)
                .read_to_end(&mut data)
                .map_err(|e| Error::new(format!("error reading {}: {e}", self.name)))?;
            Ok(without_bom(data))
        });
        read.as_ref().map_err(Clone::clone)
    }
}

/// The buffer itself, without the UTF-8 byte order mark Helm drops from the start of every
/// chart file: a view past the mark, so no bytes move.
fn without_bom(data: Vec<u8>) -> Bytes {
    let b = Bytes::from(data);
    match b.starts_with(UTF8_BOM) {
        true => b.slice(UTF8_BOM.len()..),
        false => b,
    }
}

/// A body read at load: the buffer itself (the loader has dropped its byte order mark).
impl From<Vec<u8>> for Body {
    fn from(data: Vec<u8>) -> Body {
        Body(Repr::Read(Bytes::from(data)))
    }
}

impl From<&[u8]> for Body {
    fn from(data: &[u8]) -> Body {
        Body::from(data.to_vec())
    }
}

impl PartialEq for Body {
    /// Equal contents; a body whose read failed equals none.
    fn eq(&self, other: &Body) -> bool {
        matches!((self.bytes(), other.bytes()), (Ok(a), Ok(b)) if a == b)
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Read(b) => write!(f, "Body({} bytes)", b.len()),
            Repr::Deferred(d) => write!(f, "Body(deferred, {} bytes)", d.size),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deferred body of `content`, written to a fresh file and opened.
    fn deferred(name: &str, content: &[u8], size: u64) -> (Body, std::path::PathBuf) {
        let path = std::env::temp_dir().join(format!("kc-body-{}-{name}", std::process::id()));
        fs::write(&path, content).unwrap();
        let file = fs::File::open(&path).unwrap();
        (Body::deferred(format!("crds/{name}"), file, size), path)
    }

    #[test]
    fn bodies_read_at_load_and_deferred_give_the_same_bytes() {
        let cases: &[(&str, &[u8], &[u8])] = &[
            (
                "plain",
                b"kind: CustomResourceDefinition\n",
                b"kind: CustomResourceDefinition\n",
            ),
            ("bom dropped", b"\xEF\xBB\xBFa: 1\n", b"a: 1\n"),
            ("only the first bom", b"\xEF\xBB\xBF\xEF\xBB\xBF", b"\xEF\xBB\xBF"),
            ("only a bom", b"\xEF\xBB\xBF", b""),
            ("empty", b"", b""),
            ("not utf-8", b"\xff\xfe\x00", b"\xff\xfe\x00"),
        ];
        for (name, content, want) in cases {
            // What the loader reads at load: the file with its mark dropped.
            let mut at_load = content.to_vec();
            crate::chart::archive::strip_bom(&mut at_load);
            let eager = Body::from(at_load);
            assert_eq!(eager.bytes().unwrap(), *want, "{name}: read at load");
            let (lazy, path) = deferred(&name.replace(' ', "-"), content, content.len() as u64);
            assert!(lazy.is_deferred(), "{name}");
            assert_eq!(lazy.bytes().unwrap(), *want, "{name}: deferred");
            assert!(!lazy.is_deferred(), "{name}: read once");
            assert_eq!(lazy, eager, "{name}");
            let _ = fs::remove_file(path);
        }
    }

    #[test]
    fn a_deferred_body_reads_no_more_than_was_sized() {
        // The file grew after it was sized and checked against the limits.
        let (body, path) = deferred("grown", b"0123456789", 4);
        assert_eq!(body.bytes().unwrap(), b"0123");
        let _ = fs::remove_file(path);
    }

    #[test]
    fn a_failed_deferred_read_is_kept_and_named() {
        // A directory opens, but reading it fails (EISDIR): the nearest a test gets to a disk
        // error after a successful open.
        let dir = std::env::temp_dir().join(format!("kc-body-{}-dir", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let body = Body::deferred("crds/broken.yaml".into(), fs::File::open(&dir).unwrap(), 10);
        let err = body.bytes().unwrap_err();
        assert!(
            err.message.starts_with("error reading crds/broken.yaml: "),
            "{}",
            err.message
        );
        assert_eq!(body.bytes_or_empty(), b"");
        assert_eq!(body.read_error(), Some(&err));
        assert_ne!(body.clone(), body, "a failed body equals none, itself included");
        let _ = fs::remove_dir_all(dir);
    }
}
