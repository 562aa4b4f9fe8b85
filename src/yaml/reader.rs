//! Which bytes Helm's YAML reader (go-yaml's) refuses before parsing: malformed UTF-8 and the
//! characters YAML does not allow in a stream. One scanner for input files (here) and for
//! rendered manifests (`render::not_text`, which adds where).
//!
//! A chart's `Chart.yaml`, `values.yaml` and lock files, and every `-f` values file, go through
//! that reader in Helm, so a file with a stray Latin-1 byte is an error there, not a value with a
//! replacement character in it. The problems are go-yaml's own words, after the prefix
//! `sigs.k8s.io/yaml` gives every error.

/// The error Helm reports for `data`, if its reader refuses it.
///
/// Files starting with a UTF-16 byte order mark are left alone: go-yaml decodes those as UTF-16,
/// which the parsers after this do not.
pub fn reader_error(data: &[u8]) -> Option<String> {
    if data.starts_with(&[0xFF, 0xFE]) || data.starts_with(&[0xFE, 0xFF]) {
        return None;
    }
    let (_, _, problem) = first_refusal(data)?;
    Some(format!("error converting YAML to JSON: yaml: {problem}"))
}

/// go-yaml's `yaml_parser_update_buffer` over one document: (offset, length, message) of the
/// first sequence it refuses. Valid UTF-8 of YAML's printable set (nearly every file) is
/// recognised with the standard library's vectorised check first.
pub fn first_refusal(doc: &[u8]) -> Option<(usize, usize, &'static str)> {
    // Plain ASCII first: a byte test the compiler vectorises, where `chars()` decodes one by one.
    if all_bytes(doc, |b| matches!(b, 0x20..=0x7E | b'\t' | b'\n' | b'\r'))
        || std::str::from_utf8(doc).is_ok_and(|t| t.chars().all(printable))
    {
        return None;
    }
    let mut i = 0;
    while i < doc.len() {
        let lead = doc[i];
        let width = match lead {
            _ if lead & 0x80 == 0 => 1,
            _ if lead & 0xE0 == 0xC0 => 2,
            _ if lead & 0xF0 == 0xE0 => 3,
            _ if lead & 0xF8 == 0xF0 => 4,
            _ => return Some((i, 1, "invalid leading UTF-8 octet")),
        };
        if i + width > doc.len() {
            return Some((i, doc.len() - i, "incomplete UTF-8 octet sequence"));
        }
        let mut value = u32::from(match width {
            1 => lead & 0x7F,
            2 => lead & 0x1F,
            3 => lead & 0x0F,
            _ => lead & 0x07,
        });
        for k in 1..width {
            let b = doc[i + k];
            if b & 0xC0 != 0x80 {
                return Some((i, k + 1, "invalid trailing UTF-8 octet"));
            }
            value = (value << 6) | u32::from(b & 0x3F);
        }
        let shortest = match width {
            1 => true,
            2 => value >= 0x80,
            3 => value >= 0x800,
            _ => value >= 0x10000,
        };
        if !shortest {
            return Some((i, width, "invalid length of a UTF-8 sequence"));
        }
        if (0xD800..=0xDFFF).contains(&value) || value > 0x10FFFF {
            return Some((i, width, "invalid Unicode character"));
        }
        // YAML's printable set (go-yaml checks it as it decodes).
        if !char::from_u32(value).is_some_and(printable) {
            return Some((i, width, "control characters are not allowed"));
        }
        i += width;
    }
    None
}

/// Whether every byte passes `ok`: in chunks with no short cut inside, which vectorises (a plain
/// `all` stops at each byte to ask).
pub(crate) fn all_bytes(data: &[u8], ok: impl Fn(u8) -> bool + Copy) -> bool {
    data.chunks(64)
        .all(|c| c.iter().fold(true, |all, &b| all & ok(b)))
}

/// YAML's printable set, as go-yaml checks it (tab, line breaks, NEL and the BOM included).
/// A character go-yaml's reader accepts in a stream (YAML's printable set, NEL and BOM included).
pub(crate) fn printable(c: char) -> bool {
    matches!(c as u32,
        0x09 | 0x0A | 0x0D | 0x20..=0x7E | 0x85 | 0xA0..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF)
}

/// `text` with every NEL (U+0085) a line feed, as go-yaml reads it: libyaml (YAML 1.1) takes NEL
/// for a line break wherever it meets one (ending a plain scalar, a comment or a line of a
/// block scalar, folded in a quoted one) and hands it on as `\n`, while the YAML 1.2 parser
/// behind ours takes it for text. A CR before a NEL is a break of its own there (only CR LF is
/// one), so it becomes a line feed too rather than pairing with the NEL's.
///
/// LS and PS (U+2028/9) are line breaks to libyaml as well but are kept in the text they break,
/// so no rewriting of the input can give its results; they are left as text (see the tests).
pub(crate) fn libyaml_breaks(text: &str) -> std::borrow::Cow<'_, str> {
    const NEL: &str = "\u{85}";
    // NEL's UTF-8 form starts with 0xC2, which nearly every file lacks.
    if memchr::memchr(0xC2, text.as_bytes()).is_none() || !text.contains(NEL) {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(text.replace("\r\u{85}", "\n\n").replace(NEL, "\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_errors_like_helm() {
        // Each checked against helm v3.17.2 (`helm template -f FILE`).
        let cases: &[(&str, &[u8], Option<&str>)] = &[
            ("plain", b"a: 1\n", None),
            ("utf-8 text", "a: \"h\u{e9}llo \u{1f600}\"\n".as_bytes(), None),
            ("bom", b"\xEF\xBB\xBFa: 1\n", None),
            ("tab and crlf", b"a:\t1\r\n", None),
            (
                "latin-1 byte",
                b"a: \"\xff\xfe\"\n",
                Some("invalid leading UTF-8 octet"),
            ),
            (
                "bad trailing byte",
                b"a: 1\nb: \xc3\x28\n",
                Some("invalid trailing UTF-8 octet"),
            ),
            (
                "surrogate",
                b"a: \"\xed\xa0\x80\"\n",
                Some("invalid Unicode character"),
            ),
            (
                "overlong",
                b"a: \"\xc0\x80\"\n",
                Some("invalid length of a UTF-8 sequence"),
            ),
            (
                "cut short",
                b"a: \"\xe2\x82",
                Some("incomplete UTF-8 octet sequence"),
            ),
            (
                "control character",
                b"a: \"\x01\"\n",
                Some("control characters are not allowed"),
            ),
            (
                "noncharacter",
                b"a: 1\n\xef\xbf\xbe\n",
                Some("control characters are not allowed"),
            ),
            (
                "control before bad byte",
                b"\x01\xff",
                Some("control characters are not allowed"),
            ),
            ("utf-16 left to the parser", b"\xff\xfea\x00", None),
        ];
        for (name, data, want) in cases {
            let got = reader_error(data);
            let want = want.map(|p| format!("error converting YAML to JSON: yaml: {p}"));
            assert_eq!(got, want, "{name}");
        }
    }
}
