//! The fastest path for `values.yaml`: a line scanner for the block-style YAML values files are
//! written in, building the final [`Value`] as it goes.
//!
//! Why: the event parser ([`super::direct`]) tokenises every byte through a general YAML state
//! machine; on the 210 KB values file of the `conditional` benchmark that was a third of the
//! chart's load. Values files are nearly always maps, `- ` lists and one-line scalars, which a
//! scanner reads a line at a time: the indentation gives the structure, and each line is a key,
//! an item, or both (`- name: x`).
//!
//! What it reads: block maps and lists (compact `- a: 1` and `- - a` forms, lists at their key's
//! indentation), plain, single- and double-quoted one-line scalars, `|`/`>` block scalars with
//! their chomping and indentation indicators, comments, blank lines, CRLF line ends, a leading
//! `---`, and empty `[]`/`{}`. Scalars and keys resolve exactly as on the other paths
//! ([`scalar_value`], [`decode_scalar`], [`key_string`]).
//!
//! It answers `None` on anything else, and the caller takes the event parser, then the general
//! path, which gives Helm's result or error: anchors, aliases, tags, merge keys, duplicate keys,
//! flow collections with content, multi-line plain or quoted scalars, tabs, control or line-break
//! characters, a BOM, later documents and directives, complex or very long keys, and any
//! indentation it cannot place. So it can differ from the general path only by declining; the
//! tests below hold it to that on every YAML file of the fixtures, the corpus and the benchmark
//! charts, and on thousands of mutations of them.

use std::{borrow::Cow, collections::BTreeMap};

use serde_saphyr::granit_parser::ScalarStyle;

use super::{
    direct::{plain_is_text, scalar_value},
    parse::{decode_scalar, key_string, Y},
};
use gotemplate::Value;

/// Nesting past this is left to the other paths (go-yaml's depth limit, and their own stacks).
const MAX_DEPTH: usize = 100;

/// Keys this long are left to the other paths: libyaml allows a simple key 1,024 characters.
const MAX_KEY: usize = 1000;

/// One line of the file, without its line break.
#[derive(Clone, Copy)]
struct Line<'a> {
    raw: &'a str,
    /// Where the line's node starts: its leading spaces, or for the first line of a compact
    /// collection (`- a: 1`), the column after the dash.
    indent: usize,
    /// A line break ends it (false for a last line without one).
    broken: bool,
}

impl<'a> Line<'a> {
    fn text(&self) -> &'a str {
        &self.raw[self.indent..]
    }

    /// Blank or a comment: no node on it (outside block scalars).
    fn is_void(&self) -> bool {
        let t = self.text();
        t.is_empty() || t.starts_with('#')
    }
}

/// The first document of `text` as Helm's values, or `None` when another path must say (see the
/// module doc).
pub(super) fn parse_values(text: &str) -> Option<Value> {
    if !plain_chars(text) {
        return None;
    }
    let mut s = Scanner {
        lines: split_lines(text)?,
        at: 0,
        depth: 0,
    };
    let Some(first) = s.peek() else {
        return Some(Value::new_map());
    };
    let root = s.map(first.indent)?;
    match s.peek() {
        // A line left over sits left of the root's indentation, or is not a key.
        Some(_) => None,
        None => Some(root),
    }
}

/// Every character is one the scanner takes as text: printable ASCII, or printable beyond it
/// (go-yaml's reader set) but not a line break YAML knows (NEL, LS, PS) or a BOM. Tabs and other
/// controls are declined; `\r` is checked per line.
fn plain_chars(text: &str) -> bool {
    // Nearly every file is plain ASCII.
    super::reader::all_bytes(text.as_bytes(), |b| matches!(b, 0x20..=0x7E | b'\n' | b'\r'))
        || text.chars().all(|c| {
            matches!(c, '\n' | '\r' | ' '..='~')
                || (c as u32 > 0x7F
                    && super::reader::printable(c)
                    && !matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{FEFF}'))
        })
}

/// The lines of `text`; `None` for a lone `\r` or a document marker other than a leading `---`.
fn split_lines(text: &str) -> Option<Vec<Line<'_>>> {
    let mut lines = Vec::with_capacity(text.len() / 24 + 1);
    let mut start = 0;
    let mut content_seen = false;
    while start < text.len() {
        let (end, next, broken) = match memchr::memchr(b'\n', &text.as_bytes()[start..]) {
            Some(i) => (start + i, start + i + 1, true),
            None => (text.len(), text.len(), false),
        };
        let mut raw = &text[start..end];
        if broken {
            raw = raw.strip_suffix('\r').unwrap_or(raw);
        }
        if raw.contains('\r') {
            return None;
        }
        let mut line = Line {
            raw,
            indent: raw.len() - raw.trim_start_matches(' ').len(),
            broken,
        };
        if raw.starts_with("---") || raw.starts_with("...") {
            // Only one `---` before the first node (a comment may follow it) starts the
            // document we read; anything else there ends it or starts another.
            if content_seen || !raw.starts_with("---") || !ends_clean(&raw[3..]) {
                return None;
            }
            content_seen = true;
            line.indent = raw.len();
        }
        content_seen |= !line.is_void();
        lines.push(line);
        start = next;
    }
    Some(lines)
}

/// What may follow a complete node on its line: nothing, or spaces and a comment.
fn ends_clean(after: &str) -> bool {
    let rest = after.trim_start_matches(' ');
    rest.is_empty() || (rest.starts_with('#') && rest.len() < after.len())
}

/// `-` alone or followed by a space: a list item.
fn is_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

/// A map key as written.
enum RawKey<'a> {
    Plain(&'a str),
    Quoted(Cow<'a, str>),
}

/// A `key: value` line: its key and what follows the `:` (leading spaces removed). `None` when the
/// line is not one (a scalar, an item) or its key is not one the scanner reads.
fn split_key(text: &str) -> Option<(RawKey<'_>, &str)> {
    let b = text.as_bytes();
    let (key, after) = match *b.first()? {
        b'"' => {
            let (k, after) = double_quoted(text)?;
            (RawKey::Quoted(k), after)
        }
        b'\'' => {
            let (k, after) = single_quoted(text)?;
            (RawKey::Quoted(k), after)
        }
        first => {
            if starts_special(first, b.get(1).copied()) {
                return None;
            }
            let mut i = 0;
            loop {
                let c = *b.get(i)?;
                if c == b':' && matches!(b.get(i + 1), None | Some(b' ')) {
                    break;
                }
                if c == b'#' && b[i - 1] == b' ' {
                    return None;
                }
                i += 1;
            }
            let key = &text[..i];
            // `a : b` (spaces before the colon) and long keys are left to the other paths.
            if key.ends_with(' ') || key.len() > MAX_KEY {
                return None;
            }
            (RawKey::Plain(key), &text[i..])
        }
    };
    let rest = after.strip_prefix(':')?;
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    Some((key, rest.trim_start_matches(' ')))
}

/// A plain scalar cannot start with this byte (YAML's indicators; `-`, `?` and `:` only before a
/// space or the line end), or the scanner leaves such starts (`?x`, `:x`) to the other paths.
fn starts_special(first: u8, second: Option<u8>) -> bool {
    match first {
        b'-' => matches!(second, None | Some(b' ')),
        b'?' | b':' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\''
        | b'"' | b'%' | b'@' | b'`' => true,
        _ => false,
    }
}

/// A double-quoted scalar closed on its line (`text` starts at the quote): its value and what
/// follows the closing quote.
fn double_quoted(text: &str) -> Option<(Cow<'_, str>, &str)> {
    let b = text.as_bytes();
    let mut out: Option<String> = None;
    let mut from = 1;
    loop {
        let at = from + memchr::memchr2(b'"', b'\\', &b[from..])?;
        if b[at] == b'"' {
            return Some(closed(text, out, from, at));
        }
        let s = out.get_or_insert_with(String::new);
        s.push_str(&text[from..at]);
        let esc = *b.get(at + 1)?;
        let mut next = at + 2;
        let c = match esc {
            b'0' => '\0',
            b'a' => '\x07',
            b'b' => '\x08',
            b't' => '\t',
            b'n' => '\n',
            b'v' => '\x0B',
            b'f' => '\x0C',
            b'r' => '\r',
            b'e' => '\x1B',
            b' ' => ' ',
            b'"' => '"',
            b'\\' => '\\',
            b'x' | b'u' | b'U' => {
                let width = match esc {
                    b'x' => 2,
                    b'u' => 4,
                    _ => 8,
                };
                let hex = text.get(next..next + width)?;
                if !hex.bytes().all(|h| h.is_ascii_hexdigit()) {
                    return None;
                }
                next += width;
                char::from_u32(u32::from_str_radix(hex, 16).ok()?)?
            }
            // Line-end escapes, `\N`, `\_`, `\L`, `\P`, `\/` and errors: the other paths.
            _ => return None,
        };
        s.push(c);
        from = next;
    }
}

/// A single-quoted scalar closed on its line: its value (`''` is a quote) and what follows.
fn single_quoted(text: &str) -> Option<(Cow<'_, str>, &str)> {
    let b = text.as_bytes();
    let mut out: Option<String> = None;
    let mut from = 1;
    loop {
        let at = from + memchr::memchr(b'\'', &b[from..])?;
        if b.get(at + 1) == Some(&b'\'') {
            let s = out.get_or_insert_with(String::new);
            s.push_str(&text[from..=at]);
            from = at + 2;
            continue;
        }
        return Some(closed(text, out, from, at));
    }
}

/// A quoted scalar closed at `at`: its value (the text, or what its escapes made of it, `out`,
/// plus the text since `from`) and what follows the quote.
fn closed(text: &str, out: Option<String>, from: usize, at: usize) -> (Cow<'_, str>, &str) {
    let value = match out {
        None => Cow::Borrowed(&text[1..at]),
        Some(mut s) => {
            s.push_str(&text[from..at]);
            Cow::Owned(s)
        }
    };
    (value, &text[at + 1..])
}

/// A key as Helm's values hold it (go-yaml's typed key, then `sigs.k8s.io/yaml`'s string).
fn key_value(key: RawKey<'_>) -> Option<String> {
    match key {
        RawKey::Quoted(k) => Some(k.into_owned()),
        // A merge key: the other paths merge.
        RawKey::Plain("<<") => None,
        RawKey::Plain(k) if plain_is_text(k) => Some(k.to_string()),
        RawKey::Plain(k) => match decode_scalar(k, ScalarStyle::Plain, None).ok()? {
            Y::Str(s) => Some(s),
            // Null and uint64 keys are conversion errors, worded by the general path.
            Y::Null | Y::Uint(_) => None,
            other => key_string(&other).ok(),
        },
    }
}

struct Scanner<'a> {
    lines: Vec<Line<'a>>,
    /// The next line to read.
    at: usize,
    depth: usize,
}

impl<'a> Scanner<'a> {
    /// The next line holding a node (blank and comment lines skipped), not consumed.
    fn peek(&mut self) -> Option<Line<'a>> {
        while let Some(l) = self.lines.get(self.at) {
            if !l.is_void() {
                return Some(*l);
            }
            self.at += 1;
        }
        None
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// A block map whose keys sit at column `m`, starting at the next line.
    fn map(&mut self, m: usize) -> Option<Value> {
        self.enter()?;
        let mut entries = BTreeMap::new();
        while let Some(line) = self.peek() {
            if line.indent < m {
                break;
            }
            // Deeper: a continuation line or an error. At `m` an item is an error too.
            if line.indent > m || is_item(line.text()) {
                return None;
            }
            let (key, rest) = split_key(line.text())?;
            let key = key_value(key)?;
            self.at += 1;
            let value = self.value(rest, m, true)?;
            if entries.insert(key, value).is_some() {
                // Duplicate keys: which one wins depends on go-yaml's typed keys.
                return None;
            }
        }
        self.depth -= 1;
        Some(Value::map_from(entries))
    }

    /// A block list whose dashes sit at column `n`, starting at the next line.
    fn seq(&mut self, n: usize) -> Option<Value> {
        self.enter()?;
        let mut items = Vec::new();
        while let Some(line) = self.peek() {
            let text = line.text();
            if line.indent != n || !is_item(text) {
                if line.indent > n {
                    return None;
                }
                // Left of the list, or a key after a list at its key's indentation: the
                // caller's.
                break;
            }
            let rest = text[1..].trim_start_matches(' ');
            if !rest.is_empty() && !rest.starts_with('#') && (is_item(rest) || split_key(rest).is_some()) {
                // A compact list or map: the rest of the line is its first line, at its column.
                let col = n + (text.len() - rest.len());
                self.lines[self.at].indent = col;
                items.push(if is_item(rest) {
                    self.seq(col)?
                } else {
                    self.map(col)?
                });
                continue;
            }
            self.at += 1;
            items.push(self.value(rest, n, false)?);
        }
        self.depth -= 1;
        Some(Value::list(items))
    }

    /// The value after `key:` or `-` (`rest`, the line's text after it), in the collection at
    /// column `owner`; a map's value may be a list at the map's own column (`in_map`).
    fn value(&mut self, rest: &'a str, owner: usize, in_map: bool) -> Option<Value> {
        let b = rest.as_bytes();
        let Some(&first) = b.first() else {
            return self.nested(owner, in_map);
        };
        match first {
            b'#' => self.nested(owner, in_map),
            b'"' | b'\'' => {
                let (s, after) = if first == b'"' {
                    double_quoted(rest)?
                } else {
                    single_quoted(rest)?
                };
                ends_clean(after).then(|| Value::str(s))
            }
            b'|' | b'>' => self.block_scalar(rest, owner),
            b'[' | b'{' => {
                // Only the empty collections `toYaml` and people write for "none".
                let (v, close) = if first == b'[' {
                    (Value::list(Vec::new()), "[]")
                } else {
                    (Value::new_map(), "{}")
                };
                let after = rest.strip_prefix(close)?;
                ends_clean(after).then_some(v)
            }
            _ => {
                if starts_special(first, b.get(1).copied()) {
                    return None;
                }
                // A plain scalar ends at a comment; `: ` or a final `:` inside it is an error.
                let end = memchr::memmem::find(b, b" #").unwrap_or(b.len());
                let value = rest[..end].trim_end_matches(' ');
                if value.ends_with(':') || memchr::memmem::find(value.as_bytes(), b": ").is_some() {
                    return None;
                }
                scalar_value(value, ScalarStyle::Plain, None)
            }
        }
    }

    /// The value of a `key:` or `-` with nothing after it: a collection on the next lines, or null.
    fn nested(&mut self, owner: usize, in_map: bool) -> Option<Value> {
        let Some(line) = self.peek() else {
            return Some(Value::Nil);
        };
        let item = is_item(line.text());
        if line.indent > owner || (in_map && item && line.indent == owner) {
            // A scalar on the next line is left to the other paths (the map declines it).
            return if item {
                self.seq(line.indent)
            } else {
                self.map(line.indent)
            };
        }
        Some(Value::Nil)
    }

    /// A `|` or `>` block scalar (`header` from the indicator on) whose content starts at the
    /// next line, in the collection at column `owner`, read as libyaml reads it.
    fn block_scalar(&mut self, header: &str, owner: usize) -> Option<Value> {
        #[derive(PartialEq)]
        enum Chomp {
            Strip,
            Clip,
            Keep,
        }
        let literal = header.starts_with('|');
        let mut chomp = None;
        let mut increment = None;
        let mut rest = &header[1..];
        while let Some(&c) = rest.as_bytes().first() {
            match c {
                b'+' | b'-' if chomp.is_none() => {
                    chomp = Some(if c == b'+' { Chomp::Keep } else { Chomp::Strip })
                }
                b'1'..=b'9' if increment.is_none() => increment = Some(usize::from(c - b'0')),
                _ => break,
            }
            rest = &rest[1..];
        }
        if !ends_clean(rest) {
            return None;
        }
        let chomp = chomp.unwrap_or(Chomp::Clip);
        let lines = &self.lines[self.at..];
        let blank = |l: &Line<'_>| l.indent == l.raw.len();
        let indent = match increment {
            Some(d) => owner + d,
            None => {
                let first = lines.iter().find(|l| !blank(l)).map_or(0, |l| l.indent);
                first.max(owner + 1)
            }
        };
        let mut out = String::new();
        let mut leading_break = false;
        let mut leading_blank = false;
        let mut trailing_breaks = 0;
        let mut i = 0;
        loop {
            // Line breaks up to the next content line. A blank line longer than the
            // indentation holds spaces as content: left to the other paths.
            while let Some(l) = lines.get(i).filter(|l| blank(l)) {
                if l.raw.len() > indent {
                    return None;
                }
                trailing_breaks += usize::from(l.broken);
                i += 1;
            }
            let Some(l) = lines.get(i).filter(|l| l.indent >= indent) else {
                break;
            };
            let content = &l.raw[indent..];
            let trailing_blank = content.starts_with(' ');
            // Folding: a single break between two lines that are not more indented is a space;
            // with blank lines between them the first break is dropped.
            if !literal && leading_break && !leading_blank && !trailing_blank {
                if trailing_breaks == 0 {
                    out.push(' ');
                }
            } else if leading_break {
                out.push('\n');
            }
            out.extend(std::iter::repeat_n('\n', trailing_breaks));
            trailing_breaks = 0;
            leading_blank = trailing_blank;
            out.push_str(content);
            leading_break = l.broken;
            i += 1;
        }
        if chomp != Chomp::Strip && leading_break {
            out.push('\n');
        }
        if chomp == Chomp::Keep {
            out.extend(std::iter::repeat_n('\n', trailing_breaks));
        }
        self.at += i;
        Some(Value::str(out))
    }
}

#[cfg(test)]
mod tests;
