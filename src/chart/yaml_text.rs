//! Which bytes Helm's YAML reader (go-yaml's) refuses before parsing: malformed UTF-8 and the
//! characters YAML does not allow in a stream.
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
    let problem = first_problem(data)?;
    Some(format!("error converting YAML to JSON: yaml: {problem}"))
}

fn first_problem(data: &[u8]) -> Option<&'static str> {
    // The fast path: valid UTF-8 only needs the character check.
    let text = match std::str::from_utf8(data) {
        Ok(text) => text,
        Err(e) => {
            let (good, bad) = data.split_at(e.valid_up_to());
            // A character before the bad sequence is met first.
            let before = std::str::from_utf8(good).expect("valid up to here");
            return before
                .chars()
                .find(|c| !allowed(*c))
                .map(|_| CONTROL)
                .or_else(|| Some(utf8_problem(bad)));
        }
    };
    text.chars().find(|c| !allowed(*c)).map(|_| CONTROL)
}

const CONTROL: &str = "control characters are not allowed";

/// YAML's printable set, as go-yaml checks it (tab, line breaks, NEL and the BOM included).
fn allowed(c: char) -> bool {
    matches!(c as u32,
        0x09 | 0x0A | 0x0D | 0x20..=0x7E | 0x85 | 0xA0..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF)
}

/// go-yaml's complaint about the invalid sequence at the start of `bad`, checked in its order:
/// the leading byte, the input ending early, each trailing byte, an overlong form, then the value.
fn utf8_problem(bad: &[u8]) -> &'static str {
    let lead = bad[0];
    let (width, mut value) = match lead {
        _ if lead & 0x80 == 0 => (1, u32::from(lead)),
        _ if lead & 0xE0 == 0xC0 => (2, u32::from(lead & 0x1F)),
        _ if lead & 0xF0 == 0xE0 => (3, u32::from(lead & 0x0F)),
        _ if lead & 0xF8 == 0xF0 => (4, u32::from(lead & 0x07)),
        _ => return "invalid leading UTF-8 octet",
    };
    if bad.len() < width {
        return "incomplete UTF-8 octet sequence";
    }
    for &b in &bad[1..width] {
        if b & 0xC0 != 0x80 {
            return "invalid trailing UTF-8 octet";
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
        return "invalid length of a UTF-8 sequence";
    }
    if (0xD800..=0xDFFF).contains(&value) || value > 0x10FFFF {
        return "invalid Unicode character";
    }
    // Rust and go-yaml agree on everything else; nothing else makes `from_utf8` fail.
    "invalid leading UTF-8 octet"
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
