//! A fast path for [`super::scan_head`]: validates the plain block-style YAML that charts render
//! (mappings, `- ` lists, plain and quoted one-line scalars, `|`/`>` block scalars, comments, empty
//! `[]`/`{}` and simple one-line flow lists) line by line, and reads the head on the way.
//!
//! Why: the general event parser runs at ~35 MB/s and was half of `template`'s time on large charts
//! (argo-cd renders 1.9 MB). This scanner does one pass over bytes. It is deliberately conservative:
//! it answers only when every line is of a form it fully understands and the structure is
//! unambiguous, and returns `None` otherwise (anchors, tags, multi-line flow or quoted scalars,
//! continuation lines, tabs in indentation, anything odd), and the caller falls back to the full
//! parser. So it can only disagree with the full parser by accepting invalid YAML, which the
//! differential tests below guard against on real chart output and on mutated documents.

use std::borrow::Cow;

use super::DocHead;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Map,
    Seq,
}

struct Level<'a> {
    indent: usize,
    kind: Kind,
    /// The map key (or None for a list item / the root) under which this level sits.
    parent_key: Option<&'a str>,
}

/// What the previous line left open.
enum Pending<'a> {
    None,
    /// `key:` or `-` with nothing after it: a nested block may follow. `indent` is the indent of the
    /// line that opened it; `key` is the map key (None for a list item).
    Nested {
        indent: usize,
        key: Option<&'a str>,
        in_map: bool,
    },
    /// A block scalar (`|`, `>`) whose parent line is at `parent`; `block` is its content indent
    /// once the first non-empty line fixed it.
    Block {
        parent: usize,
        block: Option<usize>,
    },
    /// A plain scalar whose node sits at `parent`: deeper lines continue it (folded into one
    /// string). `head` when it is a head field, whose value a continuation would change.
    Plain {
        parent: usize,
        head: bool,
    },
    /// A closed value (quoted, flow, or plain ended by a comment) at `parent`: a deeper line
    /// after it is an error, left to the full parser.
    Done {
        parent: usize,
    },
    /// A quoted scalar (`quote` is `'` or `"`) at `parent` still open at the end of its line:
    /// deeper lines continue it until the closing quote (long CRD descriptions).
    Quoted {
        parent: usize,
        quote: u8,
    },
}

/// Returns the head when the document is entirely in the subset this scanner validates.
pub(crate) fn fast_head(text: &str) -> Option<DocHead> {
    // Control characters, C1 controls, BOMs and non-characters are errors or oddities in YAML:
    // leave them to the full parser (this also declines a few harmless characters, e.g. `©`).
    if has_odd_bytes(text.as_bytes()) {
        return None;
    }
    let mut head = DocHead::default();
    let mut stack: Vec<Level<'_>> = Vec::new();
    let mut pending = Pending::None;
    for line in lines(text) {
        let indent = leading_spaces(line.as_bytes());
        let rest = &line[indent..];
        if let Pending::Quoted { parent, quote } = pending {
            // Inside quotes `#` and `- ` are text; only the closing quote matters. Lines must stay
            // deeper than the key (blank lines fold).
            if rest.is_empty() {
                continue;
            }
            if indent <= parent {
                return None;
            }
            if let Some(end) = quote_close(rest, quote)? {
                trailing_ok(&rest[end..])?;
                pending = Pending::Done { parent };
            }
            continue;
        }
        if let Pending::Block { parent, block } = &mut pending {
            if rest.is_empty() {
                // An all-space line before the content indent is known must not be deeper than it
                // will be; rather than track that, leave such documents to the full parser.
                if block.is_none() && indent > *parent + 1 {
                    return None;
                }
                continue;
            }
            match *block {
                None if indent > *parent => {
                    *block = Some(indent);
                    continue;
                }
                Some(b) if indent >= b => continue,
                _ => pending = Pending::None,
            }
        }
        if rest.is_empty() {
            continue;
        }
        if rest.starts_with('#') {
            // A comment ends a plain scalar: what follows may not continue it.
            if let Pending::Plain { parent, .. } = pending {
                pending = Pending::Done { parent };
            }
            continue;
        }
        if rest.starts_with('\t') || (indent == 0 && (rest.starts_with("---") || rest.starts_with("..."))) {
            return None;
        }
        match pending {
            Pending::Plain { parent, head } if indent > parent => {
                // A continuation line of a multi-line plain scalar (long CRD descriptions): only
                // plain words, nothing YAML could read as structure or a comment.
                if head || !plain_continuation(rest) {
                    return None;
                }
                continue;
            }
            Pending::Done { parent } if indent > parent => return None,
            Pending::Plain { .. } | Pending::Done { .. } => pending = Pending::None,
            _ => {}
        }
        let is_item = rest == "-" || rest.starts_with("- ");
        if let Pending::Nested { indent: at, key, .. } = pending {
            if indent > at && !is_item && split_key(rest).is_none() {
                // The value on its own line, deeper than its key or dash (`toYaml | nindent` of an
                // empty map gives `key:\n  {}`). Block scalars here are left to the full parser.
                if rest.starts_with(['|', '>']) {
                    return None;
                }
                let (after, scalar) = value(rest, at)?;
                let head = match key {
                    Some(key) => record(&stack, key, scalar, &mut head)?,
                    None => false,
                };
                pending = match after {
                    Pending::Plain { parent, .. } => Pending::Plain { parent, head },
                    other => other,
                };
                continue;
            }
        }
        // Close deeper levels; a list at the same indent as its parent's keys ends at the next key.
        while stack
            .last()
            .is_some_and(|l| l.indent > indent || (l.indent == indent && l.kind == Kind::Seq && !is_item))
        {
            stack.pop();
        }
        let opened = std::mem::replace(&mut pending, Pending::None);
        let kind = if is_item { Kind::Seq } else { Kind::Map };
        match opened {
            Pending::Nested {
                indent: at,
                key,
                in_map,
            } if indent > at || (in_map && is_item && indent == at) => {
                stack.push(Level {
                    indent,
                    kind,
                    parent_key: key,
                });
            }
            _ => match stack.last() {
                Some(top) if top.indent == indent && top.kind == kind => {}
                None if indent == 0 && kind == Kind::Map => stack.push(Level {
                    indent,
                    kind,
                    parent_key: None,
                }),
                _ => return None,
            },
        }
        pending = if is_item {
            item(rest, indent, &mut stack)?
        } else {
            entry(rest, indent, &mut stack, &mut head)?
        };
    }
    // A quote still open at the end of the document is an error.
    if matches!(pending, Pending::Quoted { .. }) {
        return None;
    }
    Some(head)
}

/// Whether `text` holds a byte the scanner leaves to the full parser: a control character other
/// than tab and newline, DEL, or the lead byte of C1 controls/NEL (0xC2) or of BOMs and
/// non-characters (0xEF). Checked for the whole document at once, in 64-byte blocks without early
/// exit so that the compiler vectorises it: byte by byte per line it was a fifth of the scanner's
/// time on argo-cd's 1.4 MB CRD.
fn has_odd_bytes(text: &[u8]) -> bool {
    let odd = |b: u8| (b < 0x20 && b != b'\t' && b != b'\n') | (b == 0x7f) | (b == 0xc2) | (b == 0xef);
    let mut blocks = text.chunks_exact(64);
    for block in &mut blocks {
        if block.iter().fold(false, |any, &b| any | odd(b)) {
            return true;
        }
    }
    blocks.remainder().iter().any(|&b| odd(b))
}

/// The number of spaces a line starts with, eight at a time (CRD schemas nest 40 deep, and the
/// byte loop was a tenth of the scanner's time).
fn leading_spaces(line: &[u8]) -> usize {
    const SPACES: u64 = u64::from_ne_bytes([b' '; 8]);
    let mut n = 0;
    while let Some(word) = line.get(n..n + 8) {
        if word != SPACES.to_ne_bytes() {
            break;
        }
        n += 8;
    }
    n + line[n..].iter().take_while(|&&b| b == b' ').count()
}

/// `text.split('\n')` with the memchr crate's SIMD search for the newlines (the standard
/// library's search was an eighth of the scanner's time).
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    memchr::memchr_iter(b'\n', text.as_bytes())
        .map(Some)
        .chain(std::iter::once(None))
        .map(move |end| {
            let line = &text[start..end.unwrap_or(text.len())];
            start = end.map_or(text.len(), |e| e + 1);
            line
        })
}

/// A `- ...` line at `indent`: a scalar item, an empty item opening a nested block, or a compact
/// mapping starting on the same line.
fn item<'a>(rest: &'a str, indent: usize, stack: &mut Vec<Level<'a>>) -> Option<Pending<'a>> {
    let after = &rest[1..];
    let spaces = leading_spaces(after.as_bytes());
    let content = &after[spaces..];
    if content.starts_with('\t') {
        return None;
    }
    if content.is_empty() || content.starts_with('#') {
        return Some(Pending::Nested {
            indent,
            key: None,
            in_map: false,
        });
    }
    if content.starts_with("- ") || content == "-" {
        return None;
    }
    let col = indent + 1 + spaces;
    if split_key(content).is_some() {
        stack.push(Level {
            indent: col,
            kind: Kind::Map,
            parent_key: None,
        });
        let mut ignored = DocHead::default();
        return entry(content, col, stack, &mut ignored);
    }
    value(content, indent).map(|(p, _)| p)
}

/// A `key: value` line at `indent`.
fn entry<'a>(
    rest: &'a str,
    indent: usize,
    stack: &mut [Level<'a>],
    head: &mut DocHead,
) -> Option<Pending<'a>> {
    let (key, after) = split_key(rest)?;
    if super::parse::key_may_not_convert(key) {
        return None;
    }
    let spaces = leading_spaces(after.as_bytes());
    let v = &after[spaces..];
    if v.starts_with('\t') {
        return None;
    }
    if v.is_empty() || v.starts_with('#') {
        if !v.is_empty() && spaces == 0 {
            return None;
        }
        return Some(Pending::Nested {
            indent,
            key: Some(key),
            in_map: true,
        });
    }
    if spaces == 0 {
        return None;
    }
    let (pending, scalar) = value(v, indent)?;
    let is_head = record(stack, key, scalar, head)?;
    Some(match pending {
        Pending::Plain { parent, .. } => Pending::Plain {
            parent,
            head: is_head,
        },
        other => other,
    })
}

/// Splits `key: rest` / `key:`; None when the line is not a simple mapping entry.
fn split_key(s: &str) -> Option<(&str, &str)> {
    let b = s.as_bytes();
    match b.first()? {
        b'"' | b'\'' => {
            let end = quoted_end(s)?;
            let after = &s[end..];
            let after = after.strip_prefix(':')?;
            let key = &s[1..end - 1];
            if key.contains('\\') || key.contains("''") {
                return None;
            }
            (after.is_empty() || after.starts_with(' ')).then_some((key, after))
        }
        c if is_indicator(*c) => None,
        _ => {
            for i in memchr::memchr3_iter(b':', b'#', b'\t', b) {
                match b[i] {
                    b':' if i + 1 == b.len() || b[i + 1] == b' ' => {
                        let key = s[..i].trim_end();
                        if key.len() != i {
                            return None;
                        }
                        return Some((key, &s[i + 1..]));
                    }
                    b'#' if i > 0 && b[i - 1] == b' ' => return None,
                    b'\t' => return None,
                    _ => {}
                }
            }
            None
        }
    }
}

fn is_indicator(c: u8) -> bool {
    matches!(
        c,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'%'
            | b'@'
            | b'`'
    )
}

/// A value as the head would hold it.
enum Scalar<'a> {
    /// A string scalar, with its text.
    Str(Cow<'a, str>),
    /// A plain scalar that YAML 1.1 may read as null, a bool or a number.
    Unsure,
    /// A collection or block scalar (never a head field in practice).
    Other,
}

/// Validates a value after `key: ` or `- `. Returns what it leaves open and the scalar it holds.
fn value(v: &str, indent: usize) -> Option<(Pending<'static>, Scalar<'_>)> {
    let b = v.as_bytes();
    match b[0] {
        b'|' | b'>' => {
            let mut rest = &v[1..];
            if rest.starts_with(['-', '+']) {
                rest = &rest[1..];
            }
            let trimmed = rest.trim_start_matches(' ');
            if !(trimmed.is_empty() || (trimmed.starts_with('#') && trimmed.len() < rest.len())) {
                return None;
            }
            Some((
                Pending::Block {
                    parent: indent,
                    block: None,
                },
                Scalar::Other,
            ))
        }
        b'"' | b'\'' => {
            let Some(end) = quoted_end(v) else {
                // Open at the end of the line: continued below. Never a head field (Other).
                quote_close(&v[1..], b[0])?;
                return Some((
                    Pending::Quoted {
                        parent: indent,
                        quote: b[0],
                    },
                    Scalar::Other,
                ));
            };
            trailing_ok(&v[end..])?;
            let inner = &v[1..end - 1];
            let text = if b[0] == b'\'' {
                if inner.contains("''") {
                    Cow::Owned(inner.replace("''", "'"))
                } else {
                    Cow::Borrowed(inner)
                }
            } else if inner.contains('\\') {
                Cow::Owned(unescape(inner)?)
            } else {
                Cow::Borrowed(inner)
            };
            Some((Pending::Done { parent: indent }, Scalar::Str(text)))
        }
        b'[' | b'{' => {
            let end = flow_end(v)?;
            trailing_ok(&v[end..])?;
            Some((Pending::Done { parent: indent }, Scalar::Other))
        }
        c if is_indicator(c) && !(c == b'-' && b.get(1).is_some_and(|&n| n != b' ')) => None,
        _ => {
            // A plain scalar on one line: `: ` would start a nested mapping (an error in this
            // position), ` #` starts a comment. Tabs are separators in places; not worth the rules.
            if memchr::memchr(b'\t', b).is_some() {
                return None;
            }
            let mut end = v.len();
            for i in memchr::memchr2_iter(b':', b'#', b) {
                match b[i] {
                    b':' if b.get(i + 1) == Some(&b' ') => return None,
                    b'#' if i > 0 && b[i - 1] == b' ' => {
                        end = i - 1;
                        break;
                    }
                    _ => {}
                }
            }
            if end == v.len() && v.ends_with(':') {
                return None;
            }
            let text = v[..end].trim_end();
            let scalar = if resolves_non_string(text) {
                Scalar::Unsure
            } else {
                Scalar::Str(Cow::Borrowed(text))
            };
            let after = if end == v.len() {
                Pending::Plain {
                    parent: indent,
                    head: false,
                }
            } else {
                Pending::Done { parent: indent }
            };
            Some((after, scalar))
        }
    }
}

/// Only spaces, or spaces and a comment, may follow a closed scalar.
fn trailing_ok(s: &str) -> Option<()> {
    let t = s.trim_start_matches(' ');
    (t.is_empty() || (t.starts_with('#') && t.len() < s.len())).then_some(())
}

/// The byte just after the closing quote of a one-line quoted scalar starting at `s[0]`.
fn quoted_end(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let q = b[0];
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'\\' if q == b'"' => i += 2,
            c if c == q => {
                if q == b'\'' && b.get(i + 1) == Some(&b'\'') {
                    i += 2;
                    continue;
                }
                return Some(i + 1);
            }
            _ => i += 1,
        }
    }
    None
}

/// Where a continuation line of a quoted scalar closes it: `Some(Some(i))` with `i` just after the
/// closing quote, `Some(None)` when it stays open, `None` for what this scanner does not vouch for
/// (escapes in double quotes, tabs).
fn quote_close(line: &str, quote: u8) -> Option<Option<usize>> {
    let b = line.as_bytes();
    if b.contains(&b'\t') || (quote == b'"' && b.contains(&b'\\')) {
        return None;
    }
    let mut i = 0;
    while i < b.len() {
        if b[i] == quote {
            if quote == b'\'' && b.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return Some(Some(i + 1));
        }
        i += 1;
    }
    Some(None)
}

/// The end of a one-line flow collection holding only plain words and quoted scalars, not nested.
fn flow_end(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let close = if b[0] == b'[' { b']' } else { b'}' };
    if close == b'}' {
        // Only `{}`: flow mappings have too many rules to vouch for here.
        return (b.get(1) == Some(&b'}')).then_some(2);
    }
    let mut i = 1;
    let mut expect_item = true;
    loop {
        while b.get(i) == Some(&b' ') {
            i += 1;
        }
        match *b.get(i)? {
            c if c == close => return Some(i + 1),
            b',' if !expect_item => {
                expect_item = true;
                i += 1;
            }
            b'"' | b'\'' if expect_item => {
                let end = quoted_end(&s[i..])?;
                if s[i..i + end].contains('\\') {
                    unescape(&s[i + 1..i + end - 1])?;
                }
                i += end;
                expect_item = false;
            }
            c if expect_item && !is_indicator(c) => {
                while let Some(&c) = b.get(i) {
                    if matches!(c, b',' | b']' | b'[' | b'{' | b'}' | b'#' | b':' | b'\t') {
                        break;
                    }
                    i += 1;
                }
                if matches!(b.get(i), Some(b'[' | b'{' | b'}' | b'#' | b':' | b'\t')) {
                    return None;
                }
                expect_item = false;
            }
            _ => return None,
        }
    }
}

/// Double-quoted escapes we vouch for; anything else goes to the full parser.
fn unescape(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next()? {
            '"' => '"',
            '\\' => '\\',
            '/' => '/',
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            '0' => '\0',
            ' ' => ' ',
            _ => return None,
        });
    }
    Some(out)
}

/// Plain scalars YAML 1.1 reads as something other than a string (so the head would not hold them).
fn resolves_non_string(s: &str) -> bool {
    if s.is_empty() {
        return true;
    }
    let lower = s.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "~" | "null"
            | "true"
            | "false"
            | "yes"
            | "no"
            | "on"
            | "off"
            | "y"
            | "n"
            | ".inf"
            | "-.inf"
            | "+.inf"
            | ".nan"
    ) {
        return true;
    }
    matches!(s.as_bytes()[0], b'0'..=b'9' | b'+' | b'-' | b'.')
}

/// Stores a head field when `key` sits at one of the paths the head holds; declines (None) when such
/// a field is a plain scalar whose type only the full resolver can tell.
fn record(stack: &[Level<'_>], key: &str, value: Scalar<'_>, head: &mut DocHead) -> Option<bool> {
    let Some((root, below)) = stack.split_first() else {
        return Some(false);
    };
    if root.kind != Kind::Map || root.indent != 0 || below.iter().any(|l| l.kind == Kind::Seq) {
        return Some(false);
    }
    let slot: Option<&mut String> = match (below, key) {
        ([], "apiVersion") => Some(&mut head.api_version),
        ([], "kind") => Some(&mut head.kind),
        ([m], "name") if m.parent_key == Some("metadata") => Some(&mut head.name),
        ([m], "namespace") if m.parent_key == Some("metadata") => Some(&mut head.namespace),
        ([m, a], k) if m.parent_key == Some("metadata") && a.parent_key == Some("annotations") => {
            Some(head.annotations.entry(k.to_string()).or_default())
        }
        _ => None,
    };
    match (slot, value) {
        (None, _) => Some(false),
        (Some(slot), Scalar::Str(s)) => {
            *slot = s.into_owned();
            Some(true)
        }
        // Collections and block scalars in head fields are unusual: let the full decoder say.
        (Some(_), Scalar::Unsure | Scalar::Other) => None,
    }
}

/// A continuation line of a multi-line plain scalar that this scanner vouches for: no tabs, no
/// leading indicator, nothing that would start a mapping or a comment.
fn plain_continuation(rest: &str) -> bool {
    let b = rest.as_bytes();
    // Indicators and quotes mean something only at a scalar's start: on a continuation line they
    // are text — except what would read as a new list item, key or comment.
    !matches!(
        b,
        [b'#', ..] | [b'-' | b'?' | b':'] | [b'-' | b'?' | b':', b' ', ..]
    ) && !rest.contains('\t')
        && !rest.contains(": ")
        && !rest.contains(" #")
        && !rest.ends_with(':')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::head::full_head_for_tests as full_head;

    fn agree(name: &str, text: &str) {
        if let Some(fast) = fast_head(text) {
            match full_head(text) {
                Ok(full) => assert_eq!(fast, full, "{name}: heads differ for\n{text}"),
                Err(e) => panic!("{name}: fast path accepted invalid YAML ({e}):\n{text}"),
            }
        }
    }

    #[test]
    fn typical_manifests_take_the_fast_path_and_agree() {
        let cases = [
            ("deployment", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: prod\n  labels:\n    app: web\n  annotations:\n    checksum/config: abc\n    \"helm.sh/hook\": pre-install\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: \"nginx:1.2\"\n        args: [\"--a\", '--b', c]\n        env:\n          - name: X\n            value: '1'\n      volumes: []\n"),
            ("block scalar", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm # trailing comment\ndata:\n  a.conf: |\n    line 1\n\n      indented\n  b: >-\n    folded\n  c: x\n"),
            ("comment only", "# Source: nothing\n"),
            ("multi-line plain", "kind: CustomResourceDefinition\nspec:\n  description: one two\n    `--dry-run` [x] *y &z !a |b >c %d @e\n    three, four (e.g.\n    \"2m\", '1h')\n\n    five.\n  next: x\n"),
            ("multi-line quoted", "kind: X\nspec:\n  d: 'it''s\n    # not a comment\n\n    - nor an item'\n  e: \"one\n    two\" # c\n  f: g\n"),
            ("value on its own line", "kind: Deployment\nspec:\n  resources:\n    {}\n  args:\n    []\n  x:\n    plain\n    more\n"),
            ("list under key at same indent", "kind: Role\nrules:\n- apiGroups:\n  - \"\"\n  resources: [pods]\n  verbs:\n  - get\nmetadata:\n  name: r\n"),
        ];
        for (name, text) in cases {
            assert!(
                fast_head(text).is_some(),
                "{name}: expected the fast path to answer"
            );
            agree(name, text);
        }
    }

    #[test]
    fn line_and_byte_helpers_match_their_plain_forms() {
        let texts = [
            "",
            "\n",
            "a",
            "a\n",
            "\n\nb\nc\n\n",
            "no newline at all, but long enough",
        ];
        for t in texts {
            assert_eq!(
                lines(t).collect::<Vec<_>>(),
                t.split('\n').collect::<Vec<_>>(),
                "{t:?}"
            );
        }
        let plain = |b: &[u8]| {
            b.iter()
                .any(|&b| (b < 0x20 && b != b'\t' && b != b'\n') || b == 0x7f || b == 0xc2 || b == 0xef)
        };
        // Each odd byte (and each allowed one) at every position of a text longer than one block,
        // so both the blocks and the remainder are checked.
        let base = vec![b'a'; 150];
        for byte in [
            0x00, 0x09, 0x0a, 0x0d, 0x1f, 0x20, 0x7e, 0x7f, 0xc2, 0xc3, 0xef, 0xff,
        ] {
            for at in [0, 1, 63, 64, 127, 128, 149] {
                let mut t = base.clone();
                t[at] = byte;
                assert_eq!(has_odd_bytes(&t), plain(&t), "byte {byte:#x} at {at}");
            }
        }
        assert!(!has_odd_bytes(&base));
        for n in 0..20 {
            let line = format!("{}x  y", " ".repeat(n));
            assert_eq!(leading_spaces(line.as_bytes()), n, "{line:?}");
            assert_eq!(leading_spaces(" ".repeat(n).as_bytes()), n);
        }
    }

    #[test]
    fn odd_documents_fall_back() {
        let cases = [
            ("anchor", "a: &x 1\nb: *x\n"),
            ("tag", "a: !!str 1\n"),
            ("multi-line quoted head field", "kind: \"Job\n  x\"\n"),
            ("multi-line double quoted with escape", "a: \"one\\n\n  two\"\n"),
            ("quoted continuation not deeper", "a:\n  b: 'one\n  two'\n"),
            ("mapping in value", "a: b: c\n"),
            ("tab indent", "a:\n\tb: c\n"),
            ("flow map", "a: {b: c}\n"),
            ("bad dedent", "a:\n    b: 1\n  c: 2\n"),
            ("continued head field", "kind: Job\nmetadata:\n  name: a\n    b\n"),
            ("continued after comment", "a: one # c\n  two\n"),
            ("key after own-line value", "a:\n  {}\n  b: c\n"),
            ("block scalar on own line", "a:\n  |\n  x\n"),
        ];
        for (name, text) in cases {
            assert!(fast_head(text).is_none(), "{name}: fast path should decline");
        }
    }

    /// Every rendered document of the corpus' reference output: the fast path either declines or
    /// agrees with the full parser.
    #[test]
    fn corpus_documents_agree_with_the_full_parser() {
        let corpus = std::env::var("KUBECTL_CHART_CORPUS").unwrap_or_else(|_| "../shared/corpus".into());
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(corpus)
            .join("golden");
        let Ok(charts) = std::fs::read_dir(&dir) else {
            eprintln!("skipped: no corpus at {}", dir.display());
            return;
        };
        let (mut fast, mut total) = (0, 0);
        for chart in charts.flatten() {
            let Ok(text) = std::fs::read_to_string(chart.path().join("default.helm3.yaml")) else {
                continue;
            };
            for doc in crate::manifest::split_documents(&text) {
                total += 1;
                fast += usize::from(fast_head(doc).is_some());
                agree(&chart.file_name().to_string_lossy(), doc);
            }
        }
        assert!(
            fast * 10 >= total * 8,
            "fast path answered only {fast} of {total} documents"
        );
    }

    /// Mutated documents (a byte deleted, or a YAML-significant byte inserted, at every position of
    /// small manifests): whenever the fast path answers, the full parser must accept the document
    /// and find the same head.
    #[test]
    fn mutations_never_make_the_fast_path_accept_invalid_yaml() {
        let seeds = [
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  annotations:\n    a: \"b\\\"c\"\ndata:\n  k: |\n    v1\n    v2\n  l: x\nlist:\n- a\n- b: c\n  d: [e, 'f']\n",
            "kind: X\nspec:\n  items:\n    - name: a\n      value: '1'\n    -   name: b\n  empty: {}\n",
            "kind: X\nspec:\n  d: 'a\n    b''c\n\n    d'\n  e: \"f\n    g\"\n  h: i\n",
            "kind: X\nspec:\n  d: a duration (e.g.\n    \"2m\", '1h')\n  e: f\n",
            "kind: X\nspec:\n  d: a `x\n    --dry-run` [y] {z}\n    *a &b !c |d >e %f @g ,h ]i }j\n  e: f\n",
            "kind: X\nmetadata:\n  name: n\nspec:\n  d: one two\n    three\n\n    four\n  e:\n    {}\n  f:\n  - a\n    b\n  g:\n    'q'\n",
        ];
        let inserts = [
            ":", " ", "-", "#", "\"", "'", "|", "[", "]", "\t", "\n", "  ", "- ", ": ",
        ];
        for seed in seeds {
            for pos in 0..seed.len() {
                if !seed.is_char_boundary(pos) {
                    continue;
                }
                let mut deleted = seed.to_string();
                deleted.remove(pos);
                agree("delete", &deleted);
                for ins in inserts {
                    let mut s = seed.to_string();
                    s.insert_str(pos, ins);
                    agree("insert", &s);
                }
            }
        }
    }
}
