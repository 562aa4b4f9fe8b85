//! Rendered files that are not UTF-8: what Helm's YAML reader says about them.
//!
//! Go strings are bytes, so a template printing `b64dec` or `.Files.Get` output writes bytes that
//! need not be UTF-8. Helm renders them as they are and then fails when it reads the file's
//! documents as YAML (`releaseutil.SortManifests`): go-yaml's reader decodes each trimmed document
//! before parsing it and stops at the first sequence that is not UTF-8, or at a character YAML
//! does not allow, with no line in the message:
//! `YAML parse error on chart/templates/x.yaml: error converting YAML to JSON: yaml: invalid
//! leading UTF-8 octet`. Our rendered files are text, so such a file is refused here with Helm's
//! words, to which we add the line and the bytes.
//!
//! Entry point: [`reader_problem`].

use std::sync::LazyLock;

use regex::bytes::Regex;

/// Where and why go-yaml's reader refuses a rendered file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Problem {
    /// go-yaml's words (`invalid leading UTF-8 octet`).
    pub message: &'static str,
    /// 1-based line in the rendered file.
    pub line: usize,
    /// The offending bytes, as `0xff` or `0xc3 0x28`.
    pub bytes: String,
}

/// Helm's document separator, the rule `manifest::split_documents` follows, here over bytes.
static SEPARATOR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|[\t\n\f\r ]*\n)---[\t\n\f\r ]*").expect("static regex"));

/// The first problem go-yaml's reader finds in the documents of `file`, read in order; `None` when
/// every document decodes (then the file is UTF-8 and has no character YAML refuses... as far as
/// the reader goes: the parser may still object).
pub(crate) fn reader_problem(file: &[u8]) -> Option<Problem> {
    let mut start = 0;
    let mut docs = Vec::new();
    for m in SEPARATOR.find_iter(file) {
        docs.push(start..m.start());
        start = m.end();
    }
    docs.push(start..file.len());
    docs.into_iter().find_map(|r| {
        // Helm trims each document (strings.TrimSpace); only the end matters to the reader, which
        // calls a sequence cut by the end of its input incomplete.
        let doc = &file[r.clone()];
        let end = doc.len()
            - doc
                .iter()
                .rev()
                .take_while(|b| b.is_ascii_whitespace() || **b == 0x0b)
                .count();
        let (at, len, message) = crate::yaml::reader::first_refusal(&doc[..end])?;
        let offset = r.start + at;
        Some(Problem {
            message,
            line: 1 + file[..offset].iter().filter(|&&b| b == b'\n').count(),
            bytes: file[offset..offset + len]
                .iter()
                .map(|b| format!("{b:#04x}"))
                .collect::<Vec<_>>()
                .join(" "),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each case's message is what helm v3.17.2 printed for `a: x{{ "<base64>" | b64dec }}y` (or
    /// the document shown), checked by hand; the suites check the common ones against helm.
    #[test]
    fn problems_as_go_yaml_reads_them() {
        type Case = (
            &'static str,
            &'static [u8],
            Option<(&'static str, usize, &'static str)>,
        );
        let cases: &[Case] = &[
            ("utf-8 text", "a: é\n".as_bytes(), None),
            (
                "lone 0xff",
                b"a: x\xffy",
                Some(("invalid leading UTF-8 octet", 1, "0xff")),
            ),
            (
                "0xf8 leads nothing",
                b"a: \xf8",
                Some(("invalid leading UTF-8 octet", 1, "0xf8")),
            ),
            (
                "bad trailing byte",
                b"a: x\xc3(y",
                Some(("invalid trailing UTF-8 octet", 1, "0xc3 0x28")),
            ),
            (
                "cut before a letter",
                b"a: x\xc3y",
                Some(("invalid trailing UTF-8 octet", 1, "0xc3 0x79")),
            ),
            (
                "cut by the end",
                b"a: x\xc3",
                Some(("incomplete UTF-8 octet sequence", 1, "0xc3")),
            ),
            (
                "cut by trimmed whitespace",
                b"a: x\xc3 \n\n",
                Some(("incomplete UTF-8 octet sequence", 1, "0xc3")),
            ),
            (
                "cut by the next document",
                b"a: 1\nb: x\xe2\x82\n---\nc: 1",
                Some(("incomplete UTF-8 octet sequence", 2, "0xe2 0x82")),
            ),
            (
                "overlong",
                b"a: x\xc0\x80y",
                Some(("invalid length of a UTF-8 sequence", 1, "0xc0 0x80")),
            ),
            (
                "surrogate",
                b"a: \xed\xa0\x80",
                Some(("invalid Unicode character", 1, "0xed 0xa0 0x80")),
            ),
            (
                "past U+10FFFF",
                b"a: \xf4\x90\x80\x80",
                Some(("invalid Unicode character", 1, "0xf4 0x90 0x80 0x80")),
            ),
            (
                "control character first",
                b"a: \x01\nb: \xff",
                Some(("control characters are not allowed", 1, "0x01")),
            ),
            (
                "second document",
                b"a: 1\n---\nb: \xff",
                Some(("invalid leading UTF-8 octet", 3, "0xff")),
            ),
            (
                "in a comment",
                b"# \xff\na: 1",
                Some(("invalid leading UTF-8 octet", 1, "0xff")),
            ),
        ];
        for (name, file, want) in cases {
            let got = reader_problem(file).map(|p| (p.message, p.line, p.bytes));
            let want = want.map(|(m, l, b)| (m, l, b.to_string()));
            assert_eq!(got, want, "{name}");
        }
    }
}
