//! Reading a chart from a gzipped tarball (`.tgz`), with Helm's path safety checks.
//!
//! Archives hold one top directory (`mychart/...`); its name is dropped so names are relative to
//! the chart root. Absolute paths, `..` escapes and drive-letter names are refused because a chart
//! archive is untrusted input. `.helmignore` is not applied to archives (Helm applies it when
//! packaging).

use std::io::Read;

use super::{
    limits::{Budget, Source, MAX_FILE_SIZE},
    loader::BufferedFile,
    Error,
};

const UTF8_BOM: &[u8] = &[0xEF, 0xBB, 0xBF];

/// Helm drops a UTF-8 byte order mark at the start of every chart file it loads.
pub(super) fn strip_bom(data: &mut Vec<u8>) {
    if data.starts_with(UTF8_BOM) {
        data.drain(..UTF8_BOM.len());
    }
}

/// Whether the bytes start with the gzip signature Helm checks for (`\x1f\x8b\x08`).
pub fn is_gzip(data: &[u8]) -> bool {
    data.starts_with(&[0x1F, 0x8B, 0x08])
}

/// Helm's `ensureArchive`: an actionable error when a file given as a chart is not an archive.
pub fn ensure_archive(name: &str, data: &[u8]) -> Result<(), String> {
    if is_gzip(data) {
        return Ok(());
    }
    if name.ends_with(".yml") || name.ends_with(".yaml") {
        return Err(format!(
            "file '{name}' seems to be a YAML file, but expected a gzipped archive"
        ));
    }
    let head = &data[..data.len().min(512)];
    let content_type = if std::str::from_utf8(head).is_ok() && !head.contains(&0) {
        "text/plain; charset=utf-8"
    } else {
        "application/octet-stream"
    };
    Err(format!(
        "file '{name}' does not appear to be a gzipped archive; got '{content_type}'"
    ))
}

/// Helm's `LoadArchiveFiles`: every regular file of the archive, named relative to the chart root,
/// within the limits of [`super::limits`].
pub fn load_archive_files(data: &[u8]) -> Result<Vec<BufferedFile>, String> {
    load_archive_files_within(data, &mut Budget::new()).map_err(|e| e.message)
}

/// [`load_archive_files`], counting what the archive holds against a chart tree's `budget`.
pub(crate) fn load_archive_files_within(
    data: &[u8],
    budget: &mut Budget,
) -> Result<Vec<BufferedFile>, Error> {
    let gz = flate2::read::GzDecoder::new(data);
    let mut archive = tar::Archive::new(gz);
    let entries = archive.entries().map_err(corrupt)?;
    let mut files = Vec::new();
    for entry in entries {
        let mut entry = entry.map_err(corrupt)?;
        let kind = entry.header().entry_type();
        let raw_name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if kind.is_dir() || matches!(kind, tar::EntryType::XGlobalHeader | tar::EntryType::XHeader) {
            continue;
        }
        let delimiter = if raw_name.contains('\\') { '\\' } else { '/' };
        // Everything after the top directory, `/`-separated (cut, not split and joined: names
        // can hold thousands of levels of nested subcharts).
        let (top, rest) = raw_name.split_once(delimiter).unwrap_or((&raw_name, ""));
        let rest = rest.replace(delimiter, "/");
        if rest.starts_with('/') {
            return Err(Error::new("chart illegally contains absolute paths"));
        }
        let n = gotemplate::gostr::path_clean(&rest);
        if n == "." {
            return Err(Error::new(format!(
                "chart illegally contains content outside the base directory: {}",
                gotemplate::gofmt::quote(&raw_name)
            )));
        }
        if n.starts_with("..") {
            return Err(Error::new("chart illegally references parent directory"));
        }
        let b = n.as_bytes();
        if b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'/' {
            return Err(Error::new("chart contains illegally named files"));
        }
        if top == "Chart.yaml" {
            return Err(Error::new("chart yaml not in base directory"));
        }
        budget.take_file()?;
        budget.take_bytes(raw_name.len() as u64)?;
        // The entry reads exactly the size its header gives, so the limits are checked before
        // anything is read, and the buffer is sized once: growing from empty copied big files
        // (CRDs) several times over.
        let size = entry.size();
        Budget::check_file_size(&raw_name, size, Source::Archive)?;
        budget.take_bytes(size)?;
        let mut buf = Vec::with_capacity(size as usize);
        (&mut entry)
            .take(MAX_FILE_SIZE)
            .read_to_end(&mut buf)
            .map_err(|e| {
                let detail = gotemplate::gofmt::quote(&e.to_string());
                Error::new(format!(
                    "reading {}: {detail}",
                    gotemplate::gofmt::quote(&raw_name)
                ))
            })?;
        let mut data = buf;
        strip_bom(&mut data);
        files.push(BufferedFile { name: n, data });
    }
    if files.is_empty() {
        return Err(Error::new("no files in chart archive"));
    }
    Ok(files)
}

/// A damaged archive's error. The tar reader's messages quote header fields, which are the
/// archive's raw bytes: escaped, so a hostile header cannot write terminal escapes to stderr.
fn corrupt(e: std::io::Error) -> Error {
    let detail = gotemplate::gofmt::quote(&e.to_string());
    Error::new(format!("archive/tar: invalid tar header: {detail}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::limits::{MAX_CHART_SIZE, MAX_FILES};

    fn tgz(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::default(),
        ));
        for (name, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_entry_type(tar::EntryType::Regular);
            // `append_data` would refuse `..`; write the raw name like a hostile archive could.
            let bytes = name.as_bytes();
            h.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
            h.set_cksum();
            builder.append(&h, *data).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn archive_safety_table() {
        let cases: &[(&str, &str, Result<&str, &str>)] = &[
            ("plain", "c/Chart.yaml", Ok("Chart.yaml")),
            ("nested", "c/templates/a.yaml", Ok("templates/a.yaml")),
            (
                "parent escape",
                "c/../../etc/passwd",
                Err("chart illegally references parent directory"),
            ),
            (
                "file at top",
                "Chart.yaml",
                Err("chart illegally contains content outside the base directory: \"Chart.yaml\""),
            ),
            (
                "chart yaml as top dir",
                "Chart.yaml/x",
                Err("chart yaml not in base directory"),
            ),
            (
                "drive letter",
                "c/c:/x",
                Err("chart contains illegally named files"),
            ),
            (
                "windows separators",
                "c\\templates\\a.yaml",
                Ok("templates/a.yaml"),
            ),
        ];
        for (name, path, want) in cases {
            let got = load_archive_files(&tgz(&[(path, b"x")])).map(|f| f[0].name.clone());
            assert_eq!(got, want.map(String::from).map_err(String::from), "{name}");
        }
    }

    #[test]
    fn decompression_limits() {
        let big = vec![b'a'; (MAX_FILE_SIZE + 1) as usize];
        let err = load_archive_files(&tgz(&[("c/Chart.yaml", b"x"), ("c/big.txt", &big)])).unwrap_err();
        assert_eq!(
            err,
            format!(
                "decompressed chart file \"c/big.txt\" is larger than the maximum file size {MAX_FILE_SIZE}"
            )
        );
        // 21 files of 5 MiB: each allowed, together over 100 MiB (compresses to ~100 KiB).
        let chunk = vec![b'a'; MAX_FILE_SIZE as usize];
        let names: Vec<String> = (0..21).map(|i| format!("c/f{i}")).collect();
        let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &chunk[..])).collect();
        let err = load_archive_files(&tgz(&entries)).unwrap_err();
        assert_eq!(
            err,
            format!("decompressed chart is larger than the maximum size {MAX_CHART_SIZE}")
        );
    }

    #[test]
    fn too_many_files() {
        let names: Vec<String> = (0..=MAX_FILES).map(|i| format!("c/f{i}")).collect();
        let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
        let err = load_archive_files(&tgz(&entries)).unwrap_err();
        assert_eq!(
            err,
            format!("chart has more than the maximum of {MAX_FILES} files")
        );
    }

    #[test]
    fn corrupt_header_is_escaped() {
        // A size field holding a terminal escape instead of octal digits, with a valid checksum.
        let mut h = tar::Header::new_old();
        h.as_old_mut().name[..12].copy_from_slice(b"c/Chart.yaml");
        h.as_old_mut().size.copy_from_slice(b"\x1b[31mEVIL\x1b[0");
        h.set_cksum();
        let mut raw = h.as_bytes().to_vec();
        raw.extend_from_slice(&[0; 1024]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, &raw).unwrap();
        let err = load_archive_files(&gz.finish().unwrap()).unwrap_err();
        assert!(!err.contains('\x1b'), "{err}");
        assert!(err.starts_with("archive/tar: invalid tar header: \""), "{err}");
        assert!(err.contains("\\x1b[31mEVIL"), "{err}");
    }

    #[test]
    fn links_and_devices_are_never_followed() {
        // As in Helm, an entry that is not a regular file keeps its name and has no content:
        // the link target is never read, whatever it names.
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::default(),
        ));
        let kinds = [
            ("c/link.txt", tar::EntryType::Symlink),
            ("c/hard.txt", tar::EntryType::Link),
            ("c/dev", tar::EntryType::Char),
            ("c/fifo", tar::EntryType::Fifo),
        ];
        for (name, kind) in kinds {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(kind);
            h.set_size(0);
            h.set_mode(0o644);
            if kind.is_symlink() || kind.is_hard_link() {
                h.set_link_name("/etc/hostname").unwrap();
            }
            builder.append_data(&mut h, name, &[][..]).unwrap();
        }
        let data = builder.into_inner().unwrap().finish().unwrap();
        let files = load_archive_files(&data).unwrap();
        let got: Vec<(&str, usize)> = files.iter().map(|f| (f.name.as_str(), f.data.len())).collect();
        assert_eq!(got, [("link.txt", 0), ("hard.txt", 0), ("dev", 0), ("fifo", 0)]);
    }

    #[test]
    fn bom_trimmed() {
        let files = load_archive_files(&tgz(&[("c/values.yaml", b"\xEF\xBB\xBFa: 1")])).unwrap();
        assert_eq!(files[0].data, b"a: 1");
    }
}
