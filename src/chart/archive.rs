//! Reading a chart from a gzipped tarball (`.tgz`), with Helm's path safety checks.
//!
//! Archives hold one top directory (`mychart/...`); its name is dropped so names are relative to
//! the chart root. Absolute paths, `..` escapes and drive-letter names are refused because a chart
//! archive is untrusted input. `.helmignore` is not applied to archives (Helm applies it when
//! packaging).

use std::io::Read;

use super::loader::BufferedFile;

const UTF8_BOM: &[u8] = &[0xEF, 0xBB, 0xBF];

/// The most an archive may expand to, all files together. Helm 3.17.3 introduced the same
/// limits (100 MiB, 5 MiB per file) against decompression bombs; we take its numbers so a chart
/// either tool accepts loads in both, and a chart from the network cannot fill memory.
pub const MAX_DECOMPRESSED_CHART: u64 = 100 << 20;
/// The most one file of an archive may expand to.
pub const MAX_DECOMPRESSED_FILE: u64 = 5 << 20;

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

/// Helm's `LoadArchiveFiles`: every regular file of the archive, named relative to the chart root.
pub fn load_archive_files(data: &[u8]) -> Result<Vec<BufferedFile>, String> {
    let gz = flate2::read::GzDecoder::new(data);
    let mut archive = tar::Archive::new(gz);
    let entries = archive.entries().map_err(|e| e.to_string())?;
    let mut files = Vec::new();
    let mut remaining = MAX_DECOMPRESSED_CHART;
    for entry in entries {
        let mut entry = entry.map_err(|e| e.to_string())?;
        let kind = entry.header().entry_type();
        let raw_name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if kind.is_dir() || matches!(kind, tar::EntryType::XGlobalHeader | tar::EntryType::XHeader) {
            continue;
        }
        let delimiter = if raw_name.contains('\\') { '\\' } else { '/' };
        let parts: Vec<&str> = raw_name.split(delimiter).collect();
        let rest = parts[1..].join("/");
        if rest.starts_with('/') {
            return Err("chart illegally contains absolute paths".into());
        }
        let n = crate::gotemplate::gostr::path_clean(&rest);
        if n == "." {
            return Err(format!(
                "chart illegally contains content outside the base directory: {}",
                crate::gotemplate::gofmt::quote(&raw_name)
            ));
        }
        if n.starts_with("..") {
            return Err("chart illegally references parent directory".into());
        }
        let b = n.as_bytes();
        if b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'/' {
            return Err("chart contains illegally named files".into());
        }
        if parts[0] == "Chart.yaml" {
            return Err("chart yaml not in base directory".into());
        }
        // The header's size is checked first, then the read itself is bounded, since a hostile
        // archive's headers need not tell the truth.
        let size = entry.header().size().map_err(|e| e.to_string())?;
        if size > MAX_DECOMPRESSED_FILE {
            return Err(format!(
                "decompressed chart file {} is larger than the maximum file size {MAX_DECOMPRESSED_FILE}",
                crate::gotemplate::gofmt::quote(&raw_name)
            ));
        }
        if size > remaining {
            return Err(format!(
                "decompressed chart is larger than the maximum file size {MAX_DECOMPRESSED_CHART}"
            ));
        }
        // Sized from the (already bounded) header: growing from empty copied big files (CRDs)
        // several times over.
        let mut buf = Vec::with_capacity(size.min(remaining) as usize);
        (&mut entry)
            .take(remaining.min(MAX_DECOMPRESSED_FILE) + 1)
            .read_to_end(&mut buf)
            .map_err(|e| e.to_string())?;
        if buf.len() as u64 > MAX_DECOMPRESSED_FILE || buf.len() as u64 > remaining {
            return Err(format!(
                "decompressed chart is larger than the maximum file size {MAX_DECOMPRESSED_CHART}"
            ));
        }
        remaining -= buf.len() as u64;
        let mut data = buf;
        if data.starts_with(UTF8_BOM) {
            data.drain(..UTF8_BOM.len());
        }
        files.push(BufferedFile { name: n, data });
    }
    if files.is_empty() {
        return Err("no files in chart archive".into());
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let big = vec![b'a'; (MAX_DECOMPRESSED_FILE + 1) as usize];
        let err = load_archive_files(&tgz(&[("c/Chart.yaml", b"x"), ("c/big.txt", &big)])).unwrap_err();
        assert_eq!(
            err,
            format!("decompressed chart file \"c/big.txt\" is larger than the maximum file size {MAX_DECOMPRESSED_FILE}")
        );
        // 21 files of 5 MiB: each allowed, together over 100 MiB (compresses to ~100 KiB).
        let chunk = vec![b'a'; MAX_DECOMPRESSED_FILE as usize];
        let names: Vec<String> = (0..21).map(|i| format!("c/f{i}")).collect();
        let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &chunk[..])).collect();
        let err = load_archive_files(&tgz(&entries)).unwrap_err();
        assert_eq!(
            err,
            format!("decompressed chart is larger than the maximum file size {MAX_DECOMPRESSED_CHART}")
        );
    }

    #[test]
    fn bom_trimmed() {
        let files = load_archive_files(&tgz(&[("c/values.yaml", b"\xEF\xBB\xBFa: 1")])).unwrap();
        assert_eq!(files[0].data, b"a: 1");
    }
}
