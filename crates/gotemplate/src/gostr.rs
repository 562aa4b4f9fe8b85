//! Go standard-library string behaviours that several stages must reproduce byte for byte:
//! `path.Clean` and `encoding/json`'s string escaping (`strconv.Quote` lives next door in
//! [`super::gofmt`], as `%q` is one of fmt's verbs).
//!
//! Why here: gotemplate is the lowest layer of the crate (it imports nothing above it and knows
//! nothing of Helm), so chart/, yaml/, values/, sprig/ and repo/ can all use these helpers
//! without any of them climbing a layer or importing a sibling.

/// Go's `path.Clean`: the shortest equivalent path, with `.` elements dropped, `..` resolved
/// against the element before it (and dropped at the root), and runs of slashes folded; `""`
/// becomes `"."`.
pub fn path_clean(p: &str) -> String {
    let rooted = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|s| *s != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            s => out.push(s),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// Appends `s` as `encoding/json` writes a string: quoted, with `"`, `\` and control characters
/// escaped (short forms where Go has them), U+2028 and U+2029 always escaped, and `<`, `>` and
/// `&` escaped when `escape_html` (Go's default, off for `SetEscapeHTML(false)`).
pub fn json_string_into(out: &mut String, s: &str, escape_html: bool) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' if escape_html => push_u00(out, c, HEX),
            c if (c as u32) < 0x20 => push_u00(out, c, HEX),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `\u00XX` for a character below U+0100, written without going through `format!`: this runs
/// for every escaped character of every `toJson` call.
fn push_u00(out: &mut String, c: char, hex: &[u8; 16]) {
    out.push_str("\\u00");
    out.push(hex[(c as usize) >> 4] as char);
    out.push(hex[(c as usize) & 0xF] as char);
}

/// `encoding/json`'s `HTMLEscape` of compact JSON text (as serde_json writes it): `<`, `>`, `&`,
/// U+2028 and U+2029 escaped. These can only occur inside JSON strings, so replacing them in the
/// whole text is the same as escaping them string by string, which is what `json.Marshal` does.
pub fn json_html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// [`json_string_into`] as a new string.
pub fn json_string(s: &str, escape_html: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    json_string_into(&mut out, s, escape_html);
    out
}

/// Where template source that is not UTF-8 keeps its bad bytes: byte `b` (0x80..=0xFF) stands as
/// the private-use character U+F700+b. Go parses a template as bytes, where our lexer and parser
/// read `str`; a `tpl` text holding such bytes (`"/w==" | b64dec`) is parsed in this escaped
/// form, so the lexer sees one character where Go sees U+FFFD, and text nodes and raw strings
/// give the original bytes back ([`unescape_bad_bytes`]) as Go's do.
const BAD_BYTE_BASE: u32 = 0xF700;

/// `bytes` as text, each byte that is not part of valid UTF-8 escaped as [`BAD_BYTE_BASE`]+b.
pub fn escape_bad_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for &b in chunk.invalid() {
            out.push(char::from_u32(BAD_BYTE_BASE + u32::from(b)).unwrap_or('\u{FFFD}'));
        }
    }
    out
}

/// The escaped character's original byte, if `c` is one of [`escape_bad_bytes`]'s.
pub fn bad_byte(c: char) -> Option<u8> {
    let c = c as u32;
    (BAD_BYTE_BASE + 0x80..=BAD_BYTE_BASE + 0xFF)
        .contains(&c)
        .then(|| (c - BAD_BYTE_BASE) as u8)
}

/// Undoes [`escape_bad_bytes`] on a piece of escaped text.
pub fn unescape_bad_bytes(text: &str) -> std::borrow::Cow<'_, [u8]> {
    if !text.chars().any(|c| bad_byte(c).is_some()) {
        return std::borrow::Cow::Borrowed(text.as_bytes());
    }
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        match bad_byte(c) {
            Some(b) => out.push(b),
            None => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A string literal's bytes from escaped source: its escaped bad bytes become the original bytes
/// (`raw`, as Go's raw strings keep them) or U+FFFD (as Go's `Unquote` reads them in a quoted
/// string); bytes its escapes made (`"\xa9"`) stay as they are.
pub fn unescape_literal(bytes: &[u8], raw: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match bad_byte(c) {
                Some(b) if raw => out.push(b),
                Some(_) => out.extend_from_slice("\u{FFFD}".as_bytes()),
                None => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
            }
        }
        out.extend_from_slice(chunk.invalid());
    }
    out
}

/// Escaped text as Go's rune-wise readers see it: each bad byte is U+FFFD.
pub fn bad_bytes_as_replacement(text: &str) -> String {
    text.chars()
        .map(|c| if bad_byte(c).is_some() { '\u{FFFD}' } else { c })
        .collect()
}

/// Go's `strings.TrimSpace` on a Go string's bytes: leading and trailing white space (Go's
/// `unicode.IsSpace`, the same set as Rust's `char::is_whitespace`) removed. Bytes that are not
/// UTF-8 read as U+FFFD, which is not space, so trimming stops at them as it does in Go.
pub fn trim_space_bytes(b: &[u8]) -> &[u8] {
    let mut start = 0;
    for chunk in b.utf8_chunks() {
        let kept = chunk.valid().trim_start();
        start += chunk.valid().len() - kept.len();
        if !kept.is_empty() || !chunk.invalid().is_empty() {
            break;
        }
    }
    let rest = &b[start..];
    // Only the last chunk can end in trailing space: any other ends in a bad byte.
    let trailing = match rest.utf8_chunks().last() {
        Some(last) if last.invalid().is_empty() => last.valid().len() - last.valid().trim_end().len(),
        _ => 0,
    };
    &rest[..rest.len() - trailing]
}

/// `url.QueryEscape`.
pub fn query_escape(s: &str) -> String {
    query_escape_bytes(s.as_bytes())
}

/// [`query_escape`] of a Go string's bytes, UTF-8 or not (each escapes on its own, as in Go).
pub fn query_escape_bytes(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_clean_table() {
        // Go's path.Clean examples, plus the edges: empty, all slashes, `..` past the start.
        let cases = [
            ("a/c", "a/c"),
            ("a//c", "a/c"),
            ("a/c/.", "a/c"),
            ("a/c/b/..", "a/c"),
            ("/../a/c", "/a/c"),
            ("/../a/b/../././/c", "/a/c"),
            ("", "."),
            ("../x", "../x"),
            ("a/../..", ".."),
            ("a/./b/../c//d/", "a/c/d"),
            ("../../a/..", "../.."),
            ("//", "/"),
        ];
        for (input, want) in cases {
            assert_eq!(path_clean(input), want, "{input:?}");
        }
    }

    #[test]
    fn trim_space_bytes_table() {
        // What Go's strings.TrimSpace returns; 0xE9 alone is not UTF-8 and stops the trim.
        let cases: [(&str, &[u8], &[u8]); 7] = [
            ("empty", b"", b""),
            ("all space", b" \t\n\r\x0b\x0c ", b""),
            ("unicode spaces", "\u{a0}\u{3000}x\u{85}\u{2029}".as_bytes(), b"x"),
            ("bad bytes kept at the edges", b"\xe9 a \xe9", b"\xe9 a \xe9"),
            ("space around bad bytes", b" \n\xe9a\xe9\n ", b"\xe9a\xe9"),
            ("truncated sequence at the end", b" a\xc3", b"a\xc3"),
            ("space between bad bytes", b"\xff \xfe", b"\xff \xfe"),
        ];
        for (name, input, want) in cases {
            assert_eq!(trim_space_bytes(input), want, "{name}");
        }
    }

    #[test]
    fn json_string_table() {
        // What Go's json.Marshal (html) and an encoder with SetEscapeHTML(false) print.
        let cases = [
            ("plain", "x", true, r#""x""#),
            ("quote and backslash", r#"a"b\c"#, true, r#""a\"b\\c""#),
            ("short escapes", "\n\r\t\u{8}\u{c}", true, r#""\n\r\t\b\f""#),
            ("other control", "\u{1}\u{1f}", true, r#""\u0001\u001f""#),
            ("html escaped", "<a>&", true, r#""\u003ca\u003e\u0026""#),
            ("html kept", "<a>&", false, r#""<a>&""#),
            ("line separators", "\u{2028}\u{2029}", false, r#""\u2028\u2029""#),
            ("delete and non-ascii kept", "\u{7f}é", true, "\"\u{7f}é\""),
        ];
        for (name, input, html, want) in cases {
            assert_eq!(json_string(input, html), want, "{name}");
            if html {
                // Escaping serde_json's string afterwards gives the same text.
                let plain = serde_json::to_string(input).unwrap();
                assert_eq!(json_html_escape(&plain), want, "{name}: HTMLEscape");
            }
        }
    }

    /// Template source that is not UTF-8 round-trips through its escaped form, and its string
    /// literals read as Go reads them: raw strings keep bad bytes, quoted ones see U+FFFD.
    #[test]
    fn bad_bytes_escape_table() {
        type Case = (&'static str, &'static [u8], &'static [u8], &'static [u8]);
        let cases: &[Case] = &[
            // (name, source bytes, raw literal bytes, quoted literal bytes)
            (
                "valid text is unchanged",
                "a\u{2713}b".as_bytes(),
                "a\u{2713}b".as_bytes(),
                "a\u{2713}b".as_bytes(),
            ),
            ("one bad byte", b"a\xffb", b"a\xffb", "a\u{FFFD}b".as_bytes()),
            (
                "a cut character",
                b"\xe2\x9c",
                b"\xe2\x9c",
                "\u{FFFD}\u{FFFD}".as_bytes(),
            ),
            (
                "every high byte",
                b"\x80\xc0\xfe",
                b"\x80\xc0\xfe",
                "\u{FFFD}\u{FFFD}\u{FFFD}".as_bytes(),
            ),
        ];
        for (name, source, raw, quoted) in cases {
            let escaped = escape_bad_bytes(source);
            assert_eq!(&*unescape_bad_bytes(&escaped), *source, "{name}: round trip");
            assert_eq!(unescape_literal(escaped.as_bytes(), true), *raw, "{name}: raw");
            assert_eq!(
                unescape_literal(escaped.as_bytes(), false),
                *quoted,
                "{name}: quoted"
            );
        }
        // Bytes an escape made (`"\xa9"`) are not escaped source and stay as they are.
        assert_eq!(unescape_literal(b"\xa9", false), b"\xa9");
    }
}
