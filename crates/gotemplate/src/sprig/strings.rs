//! Sprig's string functions (`strings.go` plus the `goutils` and `xstrings` helpers it wraps).
//!
//! Go strings are byte strings: `trunc`, `substr`, `abbrev`, `wrap`, `initials` and `nospace`
//! index bytes, not characters, and `initials`/`nospace` even re-encode single bytes as Latin-1
//! runes. Those quirks are kept, and so are bytes that are not UTF-8: the byte-wise functions
//! work on the Go string's bytes, the others that pass such bytes through read them with
//! [`GoText`], and only those that read runes (`upper`, `title`, `camelcase`, the words
//! `snakecase` and `kebabcase` lower) see U+FFFD, as Go's do. Case mapping follows Go's `unicode` simple (one rune to one rune) mappings,
//! not Rust's full ones (`ß` stays `ß` in `upper`).

use super::{convert, fixed, int_arg, str_arg, GoText};
use crate::{gofmt, FuncMap, FuncResult, Value};
use std::collections::BTreeMap;

pub(crate) fn register(m: &mut FuncMap) {
    m.insert_simple("hello", |a| fixed::<0>("hello", a).map(|_| Value::str("Hello!")));
    m.insert_simple("abbrev", abbrev);
    m.insert_simple("abbrevboth", abbrevboth);
    m.insert_simple("trunc", trunc);
    m.insert_simple("trim", |a| keep_bytes("trim", a, |s| s.trim().to_string()));
    m.insert_simple("upper", |a| {
        map_str("upper", a, |s| s.chars().map(go_upper).collect())
    });
    m.insert_simple("lower", |a| {
        map_str("lower", a, |s| s.chars().map(go_lower).collect())
    });
    m.insert_simple("title", |a| map_str("title", a, title));
    m.insert_simple("untitle", |a| map_str("untitle", a, untitle));
    m.insert_simple("substr", substr);
    m.insert_simple("repeat", repeat);
    m.insert_simple("trimall", |a| {
        two_str("trimall", a, |cut, s| go_trim(s, cut).to_string())
    });
    m.insert_simple("trimAll", |a| {
        two_str("trimAll", a, |cut, s| go_trim(s, cut).to_string())
    });
    m.insert_simple("trimSuffix", |a| {
        two_str("trimSuffix", a, |suf, s| {
            s.strip_suffix(suf).unwrap_or(s).to_string()
        })
    });
    m.insert_simple("trimPrefix", |a| {
        two_str("trimPrefix", a, |pre, s| {
            s.strip_prefix(pre).unwrap_or(s).to_string()
        })
    });
    m.insert_simple("nospace", |a| byte_wise("nospace", a, nospace));
    m.insert_simple("initials", |a| byte_wise("initials", a, initials));
    m.insert_simple("swapcase", |a| map_str("swapcase", a, swapcase));
    m.insert_simple("shuffle", |a| map_str("shuffle", a, shuffle));
    m.insert_simple("snakecase", |a| {
        keep_bytes("snakecase", a, |s| lower_words(s, '_'))
    });
    m.insert_simple("kebabcase", |a| {
        keep_bytes("kebabcase", a, |s| lower_words(s, '-'))
    });
    m.insert_simple("camelcase", |a| map_str("camelcase", a, pascal_case));
    m.insert_simple("wrap", wrap);
    m.insert_simple("wrapWith", wrap_with);
    m.insert_simple("contains", |a| {
        two_str_bool("contains", a, |sub, s| s.contains(sub))
    });
    m.insert_simple("hasPrefix", |a| {
        two_str_bool("hasPrefix", a, |p, s| s.starts_with(p))
    });
    m.insert_simple("hasSuffix", |a| {
        two_str_bool("hasSuffix", a, |p, s| s.ends_with(p))
    });
    m.insert_simple("quote", quote);
    m.insert_simple("squote", squote);
    m.insert_simple("cat", cat);
    m.insert_simple("indent", indent);
    m.insert_simple("nindent", nindent);
    m.insert_simple("replace", replace);
    m.insert_simple("plural", plural);
    m.insert_simple("toString", |a| {
        let [v] = fixed("toString", a)?;
        Ok(match v {
            // A string is returned as it is, bytes and all.
            Value::Str(_) | Value::BStr(_) => v.clone(),
            _ => {
                let text = GoText::of(a);
                text.value(text.strval(v))
            }
        })
    });
    m.insert_simple("join", join);
    m.insert_simple("split", split);
    m.insert_simple("splitList", split_list);
    m.insert_simple("splitn", splitn);
    m.insert_simple("toStrings", |a| {
        let [v] = fixed("toStrings", a)?;
        let text = GoText::of(a);
        Ok(text.str_list(strslice(&text, v)))
    });
    m.insert_simple("sortAlpha", sort_alpha);
    m.insert_simple("fail", |a| {
        let [msg] = fixed("fail", a)?;
        Err(str_arg(msg)?.to_string())
    });
}

/// A `func(string) string`.
fn map_str(name: &str, a: &[Value], f: impl Fn(&str) -> String) -> FuncResult {
    let [s] = fixed(name, a)?;
    Ok(Value::str(f(str_arg(s)?)))
}

/// A `func(string) string` that passes bytes that are not UTF-8 through (see [`GoText`]).
fn keep_bytes(name: &str, a: &[Value], f: impl Fn(&str) -> String) -> FuncResult {
    let [s] = fixed(name, a)?;
    let text = GoText::of(a);
    Ok(text.value(f(&text.arg(s)?)))
}

/// A `func(string) string` that works byte by byte (goutils'), on the Go string's own bytes.
fn byte_wise(name: &str, a: &[Value], f: impl Fn(&[u8]) -> Value) -> FuncResult {
    let [s] = fixed(name, a)?;
    str_arg(s)?;
    Ok(f(s.go_str_bytes().unwrap_or_default()))
}

/// A `func(string, string) string` that passes bytes that are not UTF-8 through.
fn two_str(name: &str, a: &[Value], f: impl Fn(&str, &str) -> String) -> FuncResult {
    let [x, y] = fixed(name, a)?;
    let text = GoText::of(a);
    Ok(text.value(f(&text.arg(x)?, &text.arg(y)?)))
}

/// A `func(string, string) bool`.
fn two_str_bool(name: &str, a: &[Value], f: impl Fn(&str, &str) -> bool) -> FuncResult {
    let [x, y] = fixed(name, a)?;
    Ok(Value::Bool(f(str_arg(x)?, str_arg(y)?)))
}

// ---- Go's unicode case mapping -------------------------------------------------------------

/// `unicode.ToUpper`: the simple mapping; runes whose upper case is several runes stay.
pub(crate) fn go_upper(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_uppercase();
    }
    let mut it = c.to_uppercase();
    match (it.next(), it.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// `unicode.ToLower`: the simple mapping (`İ` becomes `i`, as in Go's tables).
pub(crate) fn go_lower(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    if c == '\u{130}' {
        return 'i';
    }
    let mut it = c.to_lowercase();
    match (it.next(), it.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// `unicode.ToTitle`: upper case except for the Latin digraphs, which have a title form, and
/// Georgian Mkhedruli, whose title form is itself.
fn go_title(c: char) -> char {
    match c as u32 {
        0x1C4..=0x1C6 => '\u{1C5}',
        0x1C7..=0x1C9 => '\u{1C8}',
        0x1CA..=0x1CC => '\u{1CB}',
        0x1F1..=0x1F3 => '\u{1F2}',
        0x10D0..=0x10FA | 0x10FD..=0x10FF => c,
        _ => go_upper(c),
    }
}

/// `unicode.IsTitle` (category Lt).
fn is_title(c: char) -> bool {
    matches!(c as u32, 0x1C5 | 0x1C8 | 0x1CB | 0x1F2 | 0x1F88..=0x1F8F | 0x1F98..=0x1F9F
        | 0x1FA8..=0x1FAF | 0x1FBC | 0x1FCC | 0x1FFC)
}

/// `unicode.IsSpace` of a single byte read as a rune (goutils iterates bytes).
fn byte_is_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ' | 0x85 | 0xA0)
}

/// `unicode.IsPunct` (category P): exact for ASCII and Latin-1, common blocks beyond.
fn is_punct(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_punctuation() && !matches!(c, '$' | '+' | '<' | '=' | '>' | '^' | '`' | '|' | '~');
    }
    matches!(c as u32, 0xA1 | 0xA7 | 0xAB | 0xB6 | 0xB7 | 0xBB | 0xBF | 0x37E | 0x387
        | 0x55A..=0x55F | 0x589 | 0x58A | 0x5BE | 0x5C0 | 0x5C3 | 0x5C6 | 0x5F3 | 0x5F4
        | 0x609 | 0x60A | 0x60C | 0x60D | 0x61B | 0x61D..=0x61F | 0x66A..=0x66D | 0x6D4
        | 0x2010..=0x2027 | 0x2030..=0x2043 | 0x2045..=0x2051 | 0x2053..=0x205E
        | 0x207D | 0x207E | 0x208D | 0x208E | 0x2308..=0x230B | 0x2329 | 0x232A
        | 0x2768..=0x2775 | 0x27C5 | 0x27C6 | 0x27E6..=0x27EF | 0x2983..=0x2998
        | 0x29D8..=0x29DB | 0x29FC | 0x29FD | 0x2E00..=0x2E2E | 0x2E30..=0x2E4F
        | 0x3001..=0x3003 | 0x3008..=0x3011 | 0x3014..=0x301F | 0x3030 | 0x303D | 0x30A0 | 0x30FB
        | 0xFE10..=0xFE19 | 0xFE30..=0xFE52 | 0xFE54..=0xFE61 | 0xFE63 | 0xFE68 | 0xFE6A | 0xFE6B
        | 0xFF01..=0xFF03 | 0xFF05..=0xFF0A | 0xFF0C..=0xFF0F | 0xFF1A | 0xFF1B | 0xFF1F | 0xFF20
        | 0xFF3B..=0xFF3D | 0xFF3F | 0xFF5B | 0xFF5D | 0xFF5F..=0xFF65)
}

// ---- simple transformations ---------------------------------------------------------------

/// `strings.Title`: upper-cases (title-cases) every rune that follows a separator; ASCII
/// letters, digits and `_` and any Unicode letter or digit are not separators.
fn title(s: &str) -> String {
    let is_sep = |c: char| {
        if c.is_ascii() {
            !(c.is_ascii_alphanumeric() || c == '_')
        } else if c.is_alphabetic() || c.is_numeric() {
            false
        } else {
            c.is_whitespace()
        }
    };
    let mut prev = ' ';
    s.chars()
        .map(|c| {
            let out = if is_sep(prev) { go_title(c) } else { c };
            prev = c;
            out
        })
        .collect()
}

/// goutils `Uncapitalize`: lower-cases the first rune of each whitespace-separated word.
fn untitle(s: &str) -> String {
    let mut next = true;
    s.chars()
        .map(|c| {
            if c.is_whitespace() {
                next = true;
                c
            } else if next {
                next = false;
                go_lower(c)
            } else {
                c
            }
        })
        .collect()
}

/// goutils `SwapCase`: upper and title case become lower; lower case becomes title case at the
/// start of a word and upper case elsewhere.
fn swapcase(s: &str) -> String {
    let mut word_start = true;
    s.chars()
        .map(|c| {
            if c.is_uppercase() || is_title(c) {
                word_start = false;
                go_lower(c)
            } else if c.is_lowercase() {
                let out = if word_start { go_title(c) } else { go_upper(c) };
                word_start = false;
                out
            } else {
                word_start = c.is_whitespace();
                c
            }
        })
        .collect()
}

/// goutils `DeleteWhiteSpace`, byte by byte: when anything is removed, every kept byte is
/// written back as the rune of the same number (so non-ASCII text turns into Latin-1 mojibake,
/// exactly as in Helm).
fn nospace(s: &[u8]) -> Value {
    if !s.iter().any(|b| byte_is_space(*b)) {
        return Value::from_go_slice(s);
    }
    Value::from(
        s.iter()
            .filter(|b| !byte_is_space(**b))
            .map(|b| char::from(*b))
            .collect::<String>(),
    )
}

/// goutils `Initials`, byte by byte: the first byte of each whitespace-separated word, as a rune.
fn initials(s: &[u8]) -> Value {
    let mut gap = true;
    let mut out = String::new();
    for &b in s {
        if byte_is_space(b) {
            gap = true;
        } else if gap {
            out.push(char::from(b));
            gap = false;
        }
    }
    Value::from(out)
}

/// A small xorshift generator for `shuffle` (Go seeds math/rand randomly too).
pub(crate) fn random_u64() -> u64 {
    use std::cell::Cell;
    thread_local!(static STATE: Cell<u64> = const { Cell::new(0) });
    STATE.with(|st| {
        let mut x = st.get();
        if x == 0 {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0x9E37_79B9, |d| d.as_nanos() as u64);
            x = nanos ^ (std::process::id() as u64).rotate_left(32) | 1;
        }
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        st.set(x);
        x
    })
}

/// xstrings `Shuffle`: a Fisher–Yates shuffle of the runes.
fn shuffle(s: &str) -> String {
    let mut runes: Vec<char> = s.chars().collect();
    for i in (1..runes.len()).rev() {
        let j = (random_u64() % (i as u64 + 1)) as usize;
        runes.swap(i, j);
    }
    runes.into_iter().collect()
}

/// `strings.Trim(s, cutset)`: strips runes of `cutset` from both ends.
fn go_trim<'a>(s: &'a str, cutset: &str) -> &'a str {
    if cutset.is_empty() {
        return s;
    }
    s.trim_matches(|c| cutset.contains(c))
}

// ---- xstrings case conversions ------------------------------------------------------------

fn is_connector(c: char) -> bool {
    c == '-' || c == '_' || c.is_whitespace()
}

/// xstrings' `isAlphabet`: a letter that is not a CJK ideograph.
fn is_alphabet(c: char) -> bool {
    c.is_alphabetic() && !matches!(c as u32, 0x4E00..=0x9FCC | 0x3400..=0x4D85 | 0x20000..=0x2B81D)
}

/// xstrings `ToPascalCase` (Sprig's `camelcase`): connectors (`-`, `_`, spaces) are removed and
/// the rune after them upper-cased; leading and doubled connectors stay; an all-caps word is
/// lowered after its first rune (`GOLANG_IS_GREAT` → `GolangIsGreat`).
fn pascal_case(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    // Leading connectors are copied as they are.
    while let Some(&c) = chars.peek() {
        if !is_connector(c) {
            break;
        }
        out.push(c);
        chars.next();
    }
    let Some(first) = chars.next() else { return out };
    let mut upper_run = first.is_uppercase();
    let mut held = go_upper(first);
    for c in chars {
        let prev = held;
        let mut cur = c;
        if is_connector(cur) && is_connector(prev) {
            out.push(prev);
            held = cur;
            continue;
        }
        if is_connector(prev) {
            upper_run = cur.is_uppercase();
            cur = go_upper(cur);
        } else {
            if upper_run {
                if cur.is_uppercase() {
                    cur = go_lower(cur);
                } else {
                    upper_run = false;
                }
            }
            out.push(prev);
        }
        held = cur;
    }
    out.push(held);
    out
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Word {
    Invalid,
    Number,
    Upper,
    Alpha,
    Connector,
    Punct,
    Other,
}

/// Go decodes U+FFFD as `utf8.RuneError`, which xstrings skips as invalid input.
const RUNE_ERROR: char = '\u{FFFD}';

/// Whether Go decodes `c` as `utf8.RuneError`: U+FFFD itself, or the stand-in of a byte that is
/// not UTF-8 (see [`GoText`]).
fn is_rune_error(c: char) -> bool {
    c == RUNE_ERROR || gofmt::is_raw_stand_in(c)
}

/// The next valid rune at the start of `s` and the bytes it took (skipped invalid runes
/// included); `prev` again if only invalid runes are left.
fn next_valid(s: &str, prev: char) -> (char, usize) {
    let mut size = 0;
    for c in s.chars() {
        size += c.len_utf8();
        if !is_rune_error(c) {
            return (c, size);
        }
    }
    (prev, size)
}

/// Splits the next word off `s` by xstrings' rules: runs of connectors, of punctuation, of
/// digits, of lower-case letters, an upper-case letter with the lower-case letters after it, or
/// a run of capitals (leaving the last one for the next word when lower case follows, so
/// `HTTPServer` gives `HTTP` + `Server`). Returns the kind and the byte length.
fn next_word(s: &str) -> (Word, usize) {
    if s.is_empty() {
        return (Word::Invalid, 0);
    }
    let (r, size) = next_valid(s, RUNE_ERROR);
    if r == RUNE_ERROR {
        return (Word::Invalid, size);
    }
    let mut off = size;
    // Extends the word while `keep` holds for the next valid rune; returns the rune it stopped on.
    let extend = |off: &mut usize, last: char, keep: &dyn Fn(char, usize) -> bool| -> char {
        let mut last = last;
        while *off < s.len() {
            let (c, sz) = next_valid(&s[*off..], last);
            last = c;
            if !keep(c, sz) {
                break;
            }
            *off += sz;
        }
        last
    };
    let kind = if is_connector(r) {
        extend(&mut off, r, &|c, _| is_connector(c));
        Word::Connector
    } else if is_punct(r) {
        extend(&mut off, r, &|c, _| is_punct(c));
        Word::Punct
    } else if r.is_uppercase() {
        if off < s.len() {
            let (c, sz) = next_valid(&s[off..], r);
            if c.is_uppercase() {
                let mut last_size = sz;
                off += sz;
                let mut stop = c;
                while off < s.len() {
                    let (c2, sz2) = next_valid(&s[off..], stop);
                    stop = c2;
                    if !c2.is_uppercase() {
                        break;
                    }
                    last_size = sz2;
                    off += sz2;
                }
                if off < s.len() && is_alphabet(stop) {
                    off -= last_size;
                }
            } else if is_alphabet(c) {
                off += sz;
                extend(&mut off, c, &|c, _| is_alphabet(c) && !c.is_uppercase());
            }
        }
        Word::Upper
    } else if is_alphabet(r) {
        extend(&mut off, r, &|c, _| is_alphabet(c) && !c.is_uppercase());
        Word::Alpha
    } else if r.is_numeric() {
        extend(&mut off, r, &|c, _| c.is_numeric());
        Word::Number
    } else {
        extend(&mut off, r, &|c, sz| {
            !(sz == 0 || is_connector(c) || is_alphabet(c) || c.is_numeric() || is_punct(c))
        });
        Word::Other
    };
    (kind, off)
}

/// Writes a word lower-cased (capital runs and connectors only; other words are copied, bytes
/// that are not UTF-8 and all, while a lowered word has them as U+FFFD, the rune Go decoded).
fn push_lower(out: &mut String, kind: Word, word: &str, connector: char) {
    if kind != Word::Upper && kind != Word::Connector {
        out.push_str(word);
        return;
    }
    for c in word.chars() {
        if is_rune_error(c) {
            out.push(RUNE_ERROR);
        } else if is_connector(c) {
            out.push(connector);
        } else if c.is_uppercase() {
            out.push(go_lower(c));
        } else {
            out.push(c);
        }
    }
}

/// xstrings `ToSnakeCase`/`ToKebabCase`: words joined by `connector`, capitals lowered, digits
/// kept with the word they follow unless lower case follows them (`HTTP2xx` → `http_2xx`).
fn lower_words(s: &str, connector: char) -> String {
    let mut out = String::new();
    let mut rest = s;
    let take = |rest: &mut &str| -> (Word, String) {
        let (k, n) = next_word(rest);
        let w = rest[..n].to_string();
        *rest = &rest[n..];
        (k, w)
    };
    let (mut kind, mut word) = take(&mut rest);
    let sep_ok = |k: Word| k != Word::Invalid && k != Word::Punct && k != Word::Connector;
    while !rest.is_empty() {
        if kind != Word::Connector {
            push_lower(&mut out, kind, &word, connector);
        }
        let (prev, last) = (kind, std::mem::take(&mut word));
        (kind, word) = take(&mut rest);
        match prev {
            Word::Number => {
                while kind == Word::Alpha || kind == Word::Number {
                    push_lower(&mut out, kind, &word, connector);
                    (kind, word) = take(&mut rest);
                }
                if sep_ok(kind) {
                    out.push(connector);
                }
            }
            Word::Connector => push_lower(&mut out, prev, &last, connector),
            Word::Punct => {}
            _ => {
                if kind != Word::Number {
                    if kind != Word::Connector && kind != Word::Punct {
                        out.push(connector);
                    }
                    continue;
                }
                if rest.is_empty() {
                    continue;
                }
                let digits = std::mem::take(&mut word);
                (kind, word) = take(&mut rest);
                if kind != Word::Alpha {
                    // A number right after a word belongs to it (`Bld4Floor` → `bld4_floor`).
                    push_lower(&mut out, Word::Number, &digits, connector);
                    if kind != Word::Connector && kind != Word::Punct {
                        out.push(connector);
                    }
                    continue;
                }
                out.push(connector);
                push_lower(&mut out, Word::Number, &digits, connector);
                while kind == Word::Alpha || kind == Word::Number {
                    push_lower(&mut out, kind, &word, connector);
                    (kind, word) = take(&mut rest);
                }
                if sep_ok(kind) {
                    out.push(connector);
                }
            }
        }
    }
    push_lower(&mut out, kind, &word, connector);
    out
}

// ---- functions with int parameters ----------------------------------------------------------

/// goutils `AbbreviateFull` (byte-based); `None` for its "illegal argument" errors.
fn abbreviate_full(b: &[u8], offset: i64, width: i64) -> Option<Vec<u8>> {
    let len = b.len() as i64;
    if b.is_empty() {
        return Some(Vec::new());
    }
    if width < 4 {
        return None;
    }
    if len <= width {
        return Some(b.to_vec());
    }
    let mut offset = offset.min(len);
    if len - offset < width - 3 {
        offset = len - (width - 3);
    }
    if offset <= 4 {
        return Some([&b[..(width - 3) as usize], b"..."].concat());
    }
    if width < 7 {
        return None;
    }
    if offset + width - 3 < len {
        let tail = abbreviate_full(&b[offset as usize..], 0, width - 3).unwrap_or_default();
        return Some([b"...", &tail[..]].concat());
    }
    Some([b"...", &b[(len - (width - 3)) as usize..]].concat())
}

fn abbrev(a: &[Value]) -> FuncResult {
    let [w, s] = fixed("abbrev", a)?;
    let (w, _) = (int_arg(w)?, str_arg(s)?);
    if w < 4 {
        return Ok(s.clone());
    }
    let b = s.go_str_bytes().unwrap_or_default();
    Ok(Value::from_go_bytes(abbreviate_full(b, 0, w).unwrap_or_default()))
}

fn abbrevboth(a: &[Value]) -> FuncResult {
    let [l, r, s] = fixed("abbrevboth", a)?;
    let (l, r, _) = (int_arg(l)?, int_arg(r)?, str_arg(s)?);
    if r < 4 || (l > 0 && r < 7) {
        return Ok(s.clone());
    }
    let b = s.go_str_bytes().unwrap_or_default();
    Ok(Value::from_go_bytes(abbreviate_full(b, l, r).unwrap_or_default()))
}

fn trunc(a: &[Value]) -> FuncResult {
    let [c, s] = fixed("trunc", a)?;
    let (c, _) = (int_arg(c)?, str_arg(s)?);
    let b = s.go_str_bytes().unwrap_or_default();
    let len = b.len() as i64;
    // Go slices the bytes: a cut inside a character keeps its first bytes (a byte string).
    Ok(if c < 0 && len + c > 0 {
        Value::from_go_slice(&b[(len + c) as usize..])
    } else if c >= 0 && len > c {
        Value::from_go_slice(&b[..c as usize])
    } else {
        s.clone()
    })
}

/// `substring(start, end, s)`, with Go's slice-bounds panics as errors.
fn substr(a: &[Value]) -> FuncResult {
    let [start, end, s] = fixed("substr", a)?;
    let (start, end, _) = (int_arg(start)?, int_arg(end)?, str_arg(s)?);
    let b = s.go_str_bytes().unwrap_or_default();
    let len = b.len() as i64;
    let oob = |what: String| format!("runtime error: slice bounds out of range {what}");
    let out = if start < 0 {
        if end < 0 {
            return Err(oob(format!("[:{end}]")));
        }
        if end > len {
            return Err(oob(format!("[:{end}] with length {len}")));
        }
        &b[..end as usize]
    } else if end < 0 || end > len {
        if start > len {
            return Err(oob(format!("[{start}:{len}]")));
        }
        &b[start as usize..]
    } else {
        if start > end {
            return Err(oob(format!("[{start}:{end}]")));
        }
        &b[start as usize..end as usize]
    };
    // Go slices the bytes: a cut inside a character keeps them (a byte string).
    Ok(Value::from_go_bytes(out.to_vec()))
}

/// `strings.Repeat`, with its panics.
fn go_repeat(s: &str, count: i64) -> Result<String, String> {
    if count < 0 {
        return Err("strings: negative Repeat count".to_string());
    }
    match (s.len() as u64).checked_mul(count as u64) {
        Some(n) if n <= (1 << 31) => Ok(s.repeat(count as usize)),
        _ => Err("strings: Repeat output length overflow".to_string()),
    }
}

fn repeat(a: &[Value]) -> FuncResult {
    let [c, s] = fixed("repeat", a)?;
    let text = GoText::of(a);
    Ok(text.value(go_repeat(&text.arg(s)?, int_arg(c)?)?))
}

/// Longest text `indent`/`nindent` make: the bound `repeat` has (2^31 bytes).
const MAX_INDENTED: u64 = 1 << 31;

/// The length of `indent n s` (after `lead`): the pad before every line; `None` past `u64`.
pub fn indented_len(n: u64, s: &[u8], lead: &str) -> Option<u64> {
    let lines = bytecount::count(s, b'\n') as u64 + 1;
    n.checked_mul(lines)?.checked_add((s.len() + lead.len()) as u64)
}

/// Sprig's `indent` (`pad + strings.Replace(s, "\n", "\n"+pad, -1)`) after `lead`, written once
/// at its final size. Go allocates whatever the count asks for (`indent 1000000000` of a
/// 100-line text is 100 GB) until the process dies; past [`MAX_INDENTED`] this is an error.
fn do_indent(name: &str, a: &[Value], lead: &str) -> FuncResult {
    let [n, s] = fixed(name, a)?;
    let (n, _) = (int_arg(n)?, str_arg(s)?);
    // The pad goes after each newline byte, so the Go string's own bytes are indented.
    let s = s.go_str_bytes().unwrap_or_default();
    let Ok(n) = u64::try_from(n) else {
        return Err("strings: negative Repeat count".to_string());
    };
    let len = indented_len(n, s, lead)
        .filter(|&l| l <= MAX_INDENTED)
        .ok_or_else(|| {
            format!("{name}: the text would be over {MAX_INDENTED} bytes, the limit of indent and repeat")
        })?;
    // Bytes, so later pads copy the first one from the buffer itself: no second copy of a pad
    // that may be a gigabyte.
    let (n, start) = (n as usize, lead.len());
    let mut out: Vec<u8> = Vec::with_capacity(len as usize);
    out.extend_from_slice(lead.as_bytes());
    out.resize(start + n, b' ');
    // Lines found with memchr: `nindent` of `toYaml` output is much of a large chart's work.
    let mut from = 0;
    for at in memchr::memchr_iter(b'\n', s) {
        out.extend_from_slice(&s[from..=at]);
        out.extend_from_within(start..start + n);
        from = at + 1;
    }
    out.extend_from_slice(&s[from..]);
    Ok(Value::from_go_bytes(out))
}

fn indent(a: &[Value]) -> FuncResult {
    do_indent("indent", a, "")
}

fn nindent(a: &[Value]) -> FuncResult {
    do_indent("nindent", a, "\n")
}

fn replace(a: &[Value]) -> FuncResult {
    let [old, new, src] = fixed("replace", a)?;
    let text = GoText::of(a);
    Ok(text.value(text.arg(src)?.replace(&*text.arg(old)?, &text.arg(new)?)))
}

fn plural(a: &[Value]) -> FuncResult {
    let [one, many, n] = fixed("plural", a)?;
    let (_, _, n) = (str_arg(one)?, str_arg(many)?, int_arg(n)?);
    Ok(if n == 1 { one } else { many }.clone())
}

/// goutils `WrapCustom` (byte-based): breaks at the last space within `width`; leading spaces
/// of a new line are dropped; long words are cut only when `long_words` is set.
fn wrap_custom(b: &[u8], width: i64, newline: &[u8], long_words: bool) -> Value {
    if b.is_empty() {
        return Value::str("");
    }
    let nl = if newline.is_empty() { b"\n" } else { newline };
    let width = width.max(1) as usize;
    let mut off = 0;
    let mut out: Vec<u8> = Vec::new();
    while b.len() - off > width {
        if b[off] == b' ' {
            off += 1;
            continue;
        }
        let window = &b[off..width + off + 1];
        if let Some(sp) = window.iter().rposition(|c| *c == b' ') {
            out.extend_from_slice(&b[off..off + sp]);
            out.extend_from_slice(nl);
            off += sp + 1;
        } else if long_words {
            out.extend_from_slice(&b[off..off + width]);
            out.extend_from_slice(nl);
            off += width;
        } else {
            let end = off + width;
            match b[end..].iter().position(|c| *c == b' ') {
                None => {
                    out.extend_from_slice(&b[off..]);
                    off = b.len();
                }
                Some(i) => {
                    out.extend_from_slice(&b[off..end + i]);
                    out.extend_from_slice(nl);
                    off = end + i + 1;
                }
            }
        }
    }
    out.extend_from_slice(&b[off..]);
    Value::from_go_bytes(out)
}

fn wrap(a: &[Value]) -> FuncResult {
    let [w, s] = fixed("wrap", a)?;
    let (w, _) = (int_arg(w)?, str_arg(s)?);
    Ok(wrap_custom(s.go_str_bytes().unwrap_or_default(), w, b"", false))
}

fn wrap_with(a: &[Value]) -> FuncResult {
    let [w, sep, s] = fixed("wrapWith", a)?;
    let (_, _, w) = (str_arg(s)?, str_arg(sep)?, int_arg(w)?);
    let bytes = |v: &Value| v.go_str_bytes().unwrap_or_default().to_vec();
    Ok(wrap_custom(&bytes(s), w, &bytes(sep), true))
}

// ---- variadic formatting ------------------------------------------------------------------

fn quote(a: &[Value]) -> FuncResult {
    let parts: Vec<String> = a
        .iter()
        .filter(|v| !matches!(v, Value::Nil))
        .map(|v| match v {
            // strconv.Quote escapes the bytes that are not UTF-8 as `\xNN`.
            Value::BStr(_) => gofmt::sprintf("%q", std::slice::from_ref(v)),
            _ => gofmt::quote(&convert::to_string(v)),
        })
        .collect();
    Ok(Value::str(parts.join(" ")))
}

fn squote(a: &[Value]) -> FuncResult {
    let text = GoText::of(a);
    let parts: Vec<String> = a
        .iter()
        .filter(|v| !matches!(v, Value::Nil))
        .map(|v| format!("'{}'", text.fmt_v(v)))
        .collect();
    Ok(text.value(parts.join(" ")))
}

fn cat(a: &[Value]) -> FuncResult {
    let text = GoText::of(a);
    let parts: Vec<_> = a
        .iter()
        .filter(|v| !matches!(v, Value::Nil))
        .map(|v| text.fmt_v(v))
        .collect();
    Ok(text.value(parts.join(" ")))
}

// ---- splitting and joining ----------------------------------------------------------------

/// Sprig's `strslice`: a slice's non-nil elements as strings, nil as no strings, anything else
/// as one string.
/// Read through `text`: the strings are stand-in text when it reads raw.
pub(crate) fn strslice(text: &GoText, v: &Value) -> Vec<String> {
    match v {
        Value::List(l) => l
            .iter()
            .filter(|x| !matches!(x, Value::Nil))
            .map(|x| text.strval(x).into_owned())
            .collect(),
        Value::Bytes(b) => b.iter().map(|x| x.to_string()).collect(),
        // Any other slice type (`[]int` from `until`, `.Capabilities.APIVersions`): Sprig
        // reflects on it and takes its elements, as for a list.
        Value::Object(o) if o.kind_name() == "slice" => match o.to_plain() {
            Some(plain @ Value::List(_)) => strslice(text, &plain),
            _ => Vec::new(),
        },
        Value::Nil => Vec::new(),
        other => vec![text.strval(other).into_owned()],
    }
}

/// `strings.SplitN` (n < 0: all parts; n == 0: none); an empty separator splits into runes.
pub(crate) fn go_split(s: &str, sep: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    if sep.is_empty() {
        let runes: Vec<char> = s.chars().collect();
        let limit = if n < 0 || n as usize > runes.len() {
            runes.len()
        } else {
            n as usize
        };
        let mut out: Vec<String> = runes
            .iter()
            .take(limit.saturating_sub(1))
            .map(|c| c.to_string())
            .collect();
        if limit > 0 {
            out.push(runes[limit - 1..].iter().collect());
        }
        return out;
    }
    if n < 0 {
        s.split(sep).map(str::to_string).collect()
    } else {
        s.splitn(n as usize, sep).map(str::to_string).collect()
    }
}

fn parts_map(text: &GoText, parts: Vec<String>) -> Value {
    let m: BTreeMap<String, Value> = parts
        .into_iter()
        .enumerate()
        .map(|(i, p)| (format!("_{i}"), text.value(p)))
        .collect();
    // Go's `split`/`splitn` return a map[string]string.
    Value::typed_map("map[string]string", m)
}

fn join(a: &[Value]) -> FuncResult {
    let [sep, v] = fixed("join", a)?;
    let text = GoText::of(a);
    let sep = text.arg(sep)?;
    Ok(text.value(strslice(&text, v).join(&sep)))
}

fn split(a: &[Value]) -> FuncResult {
    let [sep, s] = fixed("split", a)?;
    let text = GoText::of(a);
    Ok(parts_map(&text, go_split(&text.arg(s)?, &text.arg(sep)?, -1)))
}

fn split_list(a: &[Value]) -> FuncResult {
    let [sep, s] = fixed("splitList", a)?;
    let text = GoText::of(a);
    Ok(text.str_list(go_split(&text.arg(s)?, &text.arg(sep)?, -1)))
}

fn splitn(a: &[Value]) -> FuncResult {
    let [sep, n, s] = fixed("splitn", a)?;
    let text = GoText::of(a);
    Ok(parts_map(
        &text,
        go_split(&text.arg(s)?, &text.arg(sep)?, int_arg(n)?),
    ))
}

/// `sortAlpha`: a slice's elements as sorted strings (byte order); a non-slice becomes one string.
fn sort_alpha(a: &[Value]) -> FuncResult {
    let [v] = fixed("sortAlpha", a)?;
    let text = GoText::of(a);
    let mut items = match v {
        Value::List(_) | Value::Bytes(_) => strslice(&text, v),
        // A named slice type (`.Capabilities.APIVersions`) sorts as the slice it is.
        Value::Object(o) if o.kind_name() == "slice" => strslice(&text, &o.to_plain().unwrap_or_default()),
        other => vec![text.strval(other).into_owned()],
    };
    // Go sorts by bytes; a stand-in (U+10FFxx) sorts after all text as its byte (>= 0x80)
    // sorts after ASCII, but not after other non-ASCII text: sort the Go strings themselves.
    let mut values: Vec<Value> = items.drain(..).map(|s| text.value(s)).collect();
    values.sort_by(|x, y| x.go_str_bytes().cmp(&y.go_str_bytes()));
    Ok(Value::typed_list("[]string", values))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sprig::test_support::{call, i, s};

    #[test]
    fn string_functions() {
        // Expected values from sprig's strings_test.go and the goutils/xstrings tests.
        let cases: Vec<(&str, &str, Vec<Value>, &str)> = vec![
            ("trim", "trim", vec![s("  5.00   ")], "5.00"),
            ("upper", "upper", vec![s("hello")], "HELLO"),
            ("upper keeps sharp s", "upper", vec![s("straße")], "STRAßE"),
            ("lower", "lower", vec![s("HELLO")], "hello"),
            ("title", "title", vec![s("hello world")], "Hello World"),
            (
                "title punctuation",
                "title",
                vec![s("her royal highness-x o'neil")],
                "Her Royal Highness-X O'Neil",
            ),
            ("untitle", "untitle", vec![s("Hello World")], "hello world"),
            ("substr", "substr", vec![i(1), i(3), s("fooo")], "oo"),
            ("substr neg start", "substr", vec![i(-1), i(2), s("abc")], "ab"),
            ("substr big end", "substr", vec![i(1), i(10), s("abc")], "bc"),
            ("repeat", "repeat", vec![i(3), s("ab")], "ababab"),
            ("trimAll", "trimAll", vec![s("$"), s("$5.00$")], "5.00"),
            ("trimall", "trimall", vec![s("$"), s("$5.00")], "5.00"),
            ("trimSuffix", "trimSuffix", vec![s("-"), s("5-")], "5"),
            ("trimPrefix", "trimPrefix", vec![s("-"), s("-5")], "5"),
            ("nospace", "nospace", vec![s(" h e l l o ")], "hello"),
            ("nospace latin1 quirk", "nospace", vec![s("é x")], "Ã©x"),
            ("initials", "initials", vec![s("first last")], "fl"),
            (
                "swapcase",
                "swapcase",
                vec![s("The Quick brown Fox")],
                "tHE qUICK BROWN fOX",
            ),
            ("snakecase", "snakecase", vec![s("FirstName")], "first_name"),
            (
                "snakecase abbrev",
                "snakecase",
                vec![s("HTTPServer")],
                "http_server",
            ),
            ("snakecase NoHTTPS", "snakecase", vec![s("NoHTTPS")], "no_https"),
            ("snakecase GO_PATH", "snakecase", vec![s("GO_PATH")], "go_path"),
            ("snakecase space", "snakecase", vec![s("GO PATH")], "go_path"),
            ("snakecase http2xx", "snakecase", vec![s("http2xx")], "http_2xx"),
            (
                "snakecase HTTP20xOK",
                "snakecase",
                vec![s("HTTP20xOK")],
                "http_20x_ok",
            ),
            (
                "snakecase Duration2m3s",
                "snakecase",
                vec![s("Duration2m3s")],
                "duration_2m3s",
            ),
            (
                "snakecase Bld4Floor3rd",
                "snakecase",
                vec![s("Bld4Floor3rd")],
                "bld4_floor_3rd",
            ),
            ("kebabcase", "kebabcase", vec![s("FirstName")], "first-name"),
            (
                "kebabcase HTTPServer",
                "kebabcase",
                vec![s("HTTPServer")],
                "http-server",
            ),
            ("camelcase", "camelcase", vec![s("http_server")], "HttpServer"),
            (
                "camelcase complex",
                "camelcase",
                vec![s("_complex__case_")],
                "_Complex_Case_",
            ),
            (
                "camelcase spaces",
                "camelcase",
                vec![s("some words")],
                "SomeWords",
            ),
            (
                "camelcase caps",
                "camelcase",
                vec![s("GOLANG_IS_GREAT")],
                "GolangIsGreat",
            ),
            ("camelcase one rune", "camelcase", vec![s("a")], "A"),
            ("wrap", "wrap", vec![i(5), s("Hello World")], "Hello\nWorld"),
            (
                "wrapWith",
                "wrapWith",
                vec![i(5), s("\t"), s("Hello World")],
                "Hello\tWorld",
            ),
            (
                "wrapWith long",
                "wrapWith",
                vec![i(3), s("-"), s("abcdefg")],
                "abc-def-g",
            ),
            ("abbrev", "abbrev", vec![i(5), s("hello world")], "he..."),
            (
                "abbrev short",
                "abbrev",
                vec![i(3), s("hello world")],
                "hello world",
            ),
            (
                "abbrevboth",
                "abbrevboth",
                vec![i(5), i(10), s("1234 5678 9123")],
                "...5678...",
            ),
            ("trunc", "trunc", vec![i(5), s("Hello World")], "Hello"),
            ("trunc negative", "trunc", vec![i(-5), s("Hello World")], "World"),
            ("trunc long", "trunc", vec![i(50), s("Hello")], "Hello"),
            ("trunc negative long", "trunc", vec![i(-50), s("Hello")], "Hello"),
            (
                "quote",
                "quote",
                vec![s("a"), Value::Nil, s("b\"c")],
                "\"a\" \"b\\\"c\"",
            ),
            ("quote newline", "quote", vec![s("a\nb\u{1}")], "\"a\\nb\\x01\""),
            ("quote nbsp", "quote", vec![s("a\u{a0}é")], "\"a\\u00a0é\""),
            ("quote int", "quote", vec![i(1)], "\"1\""),
            ("squote", "squote", vec![s("a"), Value::Nil, s("b")], "'a' 'b'"),
            ("cat", "cat", vec![s("a"), Value::Nil, s("b")], "a b"),
            ("indent", "indent", vec![i(2), s("a\n\nb")], "  a\n  \n  b"),
            ("nindent", "nindent", vec![i(2), s("a\nb")], "\n  a\n  b"),
            ("indent zero", "indent", vec![i(0), s("a\nb")], "a\nb"),
            ("indent empty", "indent", vec![i(2), s("")], "  "),
            ("indent trailing newline", "indent", vec![i(1), s("a\n")], " a\n "),
            ("nindent empty", "nindent", vec![i(1), s("")], "\n "),
            ("replace", "replace", vec![s(" "), s("-"), s("a b c")], "a-b-c"),
            (
                "replace empty old",
                "replace",
                vec![s(""), s("-"), s("ab")],
                "-a-b-",
            ),
            ("plural one", "plural", vec![s("one"), s("many"), i(1)], "one"),
            ("plural many", "plural", vec![s("one"), s("many"), i(2)], "many"),
            ("contains", "contains", vec![s("cat"), s("fair cat")], "true"),
            ("hasPrefix", "hasPrefix", vec![s("cat"), s("cat fair")], "true"),
            ("hasSuffix", "hasSuffix", vec![s("cat"), s("fair cat")], "true"),
            ("toString", "toString", vec![s("x")], "x"),
            (
                "toString bytes",
                "toString",
                vec![Value::Bytes(b"hi".to_vec().into())],
                "hi",
            ),
            (
                "join",
                "join",
                vec![s("-"), Value::list(vec![s("a"), Value::Nil, s("b")])],
                "a-b",
            ),
            ("join string", "join", vec![s("-"), s("abc")], "abc"),
            ("hello", "hello", vec![], "Hello!"),
        ];
        for (case, name, args, want) in cases {
            let got = match call(name, args) {
                Ok(Value::Str(v)) => v.to_string(),
                Ok(Value::Bool(b)) => b.to_string(),
                other => format!("{other:?}"),
            };
            assert_eq!(got, want, "case {case}");
        }
    }

    #[test]
    fn split_functions() {
        // split and splitn return Go's map[string]string.
        let m = |pairs: &[(&str, &str)]| {
            Value::typed_map(
                "map[string]string",
                pairs.iter().map(|(k, v)| (k.to_string(), s(v))).collect(),
            )
        };
        // splitList, toStrings and sortAlpha return Go's []string.
        let strs = |items: Vec<Value>| Value::typed_list("[]string", items);
        let cases: Vec<(&str, &str, Vec<Value>, Value)> = vec![
            (
                "split",
                "split",
                vec![s("$"), s("a$b$c")],
                m(&[("_0", "a"), ("_1", "b"), ("_2", "c")]),
            ),
            (
                "splitn",
                "splitn",
                vec![s("$"), i(2), s("a$b$c")],
                m(&[("_0", "a"), ("_1", "b$c")]),
            ),
            ("splitn zero", "splitn", vec![s("$"), i(0), s("a$b")], m(&[])),
            (
                "splitList",
                "splitList",
                vec![s("$"), s("a$b")],
                strs(vec![s("a"), s("b")]),
            ),
            (
                "splitList empty sep",
                "splitList",
                vec![s(""), s("ab")],
                strs(vec![s("a"), s("b")]),
            ),
            (
                "splitList empty",
                "splitList",
                vec![s(","), s("")],
                strs(vec![s("")]),
            ),
            (
                "toStrings",
                "toStrings",
                vec![Value::list(vec![i(1), Value::Nil, s("b")])],
                strs(vec![s("1"), s("b")]),
            ),
            ("toStrings nil", "toStrings", vec![Value::Nil], strs(vec![])),
            (
                "sortAlpha",
                "sortAlpha",
                vec![strs(vec![s("b"), s("a"), s("C")])],
                strs(vec![s("C"), s("a"), s("b")]),
            ),
            ("sortAlpha string", "sortAlpha", vec![s("x")], strs(vec![s("x")])),
        ];
        for (case, name, args, want) in cases {
            assert_eq!(call(name, args), Ok(want), "case {case}");
        }
    }

    #[test]
    fn string_errors() {
        // Go's runtime panics and text/template's argument checks, as Helm reports them.
        let cases: Vec<(&str, &str, Vec<Value>, &str)> = vec![
            (
                "substr end past length",
                "substr",
                vec![i(-1), i(5), s("abc")],
                "runtime error: slice bounds out of range [:5] with length 3",
            ),
            (
                "substr start past end",
                "substr",
                vec![i(3), i(2), s("abcd")],
                "runtime error: slice bounds out of range [3:2]",
            ),
            (
                "indent negative",
                "indent",
                vec![i(-1), s("a")],
                "strings: negative Repeat count",
            ),
            // Issue 20: `nindent 1000000000` in a .hbs template took 5.7 GB; the size is known
            // before anything is allocated.
            (
                "nindent a billion before three lines",
                "nindent",
                vec![i(1_000_000_000), s("a\nb\nc")],
                "nindent: the text would be over 2147483648 bytes, the limit of indent and repeat",
            ),
            (
                "indent count overflowing",
                "indent",
                vec![i(i64::MAX), s("a\nb")],
                "indent: the text would be over 2147483648 bytes, the limit of indent and repeat",
            ),
            (
                "repeat negative",
                "repeat",
                vec![i(-1), s("a")],
                "strings: negative Repeat count",
            ),
            (
                "upper int",
                "upper",
                vec![i(1)],
                "wrong type for value; expected string; got int",
            ),
            (
                "upper nil",
                "upper",
                vec![Value::Nil],
                "invalid value; expected string",
            ),
            (
                "trunc float",
                "trunc",
                vec![Value::Float(5.0), s("a")],
                "wrong type for value; expected int; got float64",
            ),
            (
                "upper arity",
                "upper",
                vec![],
                "wrong number of args for upper: want 1 got 0",
            ),
            ("fail", "fail", vec![s("boom")], "boom"),
        ];
        for (case, name, args, want) in cases {
            assert_eq!(call(name, args), Err(want.to_string()), "case {case}");
        }
    }

    #[test]
    fn snake_and_kebab_case_table() {
        // xstrings' own TestToSnakeCaseAndToKebabCase table (kebab: `_` replaced by `-`).
        let cases = [
            ("HTTPServer", "http_server"),
            ("_camelCase", "_camel_case"),
            ("NoHTTPS", "no_https"),
            ("Wi_thF", "wi_th_f"),
            ("_AnotherTES_TCaseP", "_another_tes_t_case_p"),
            ("ALL", "all"),
            ("_HELLO_WORLD_", "_hello_world_"),
            ("HELLO_WORLD", "hello_world"),
            ("HELLO____WORLD", "hello____world"),
            ("TW", "tw"),
            ("_C", "_c"),
            ("http2xx", "http_2xx"),
            ("HTTP2XX", "http2_xx"),
            ("HTTP20xOK", "http_20x_ok"),
            ("HTTP20xStatus", "http_20x_status"),
            ("HTTP-20xStatus", "http_20x_status"),
            ("a", "a"),
            ("Duration2m3s", "duration_2m3s"),
            ("Bld4Floor3rd", "bld4_floor_3rd"),
            (" _-_ ", "_____"),
            ("a1b2c3d", "a_1b2c3d"),
            ("A//B%%2c", "a//b%%2c"),
            ("HTTP状态码404/502Error", "http_状态码404/502_error"),
            ("中文(字符)", "中文(字符)"),
            ("混合ABCWords与123数字456", "混合_abc_words_与123_数字456"),
            ("  sentence case  ", "__sentence_case__"),
            (
                " Mixed-hyphen case _and SENTENCE_case and UPPER-case",
                "_mixed_hyphen_case__and_sentence_case_and_upper_case",
            ),
            (
                "FROM CamelCase to snake/kebab-case",
                "from_camel_case_to_snake/kebab_case",
            ),
            ("", ""),
            (
                "Abc\u{FFFD}E\u{FFFD}f\u{FFFD}d\u{FFFD}2\u{FFFD}00z\u{FFFD}ZZ\u{FFFD}ZZ",
                "abc_\u{FFFD}e\u{FFFD}f\u{FFFD}d_\u{FFFD}2\u{FFFD}00z_\u{FFFD}zz\u{FFFD}zz",
            ),
            (
                "\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}",
                "\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}",
            ),
            ("abc_123_def", "abc_123_def"),
        ];
        for (input, want) in cases {
            assert_eq!(lower_words(input, '_'), want, "snake {input:?}");
            assert_eq!(lower_words(input, '-'), want.replace('_', "-"), "kebab {input:?}");
        }
    }

    #[test]
    fn pascal_case_table() {
        // xstrings v1.5.0's TestToPascalCase table (Sprig's `camelcase`).
        let cases = [
            ("http_server", "HttpServer"),
            ("_camel_case", "_CamelCase"),
            ("no_https", "NoHttps"),
            ("_complex__case_", "_Complex_Case_"),
            (" complex -case ", " Complex Case "),
            ("all", "All"),
            ("GOLANG_IS_GREAT", "GolangIsGreat"),
            ("GOLANG", "Golang"),
            ("a", "A"),
            ("好", "好"),
            (
                "FROM CamelCase to snake/kebab-case",
                "FromCamelCaseToSnake/kebabCase",
            ),
            ("", ""),
            ("some words", "SomeWords"),
            ("hello-world", "HelloWorld"),
            ("HELLO", "Hello"),
            ("helloWORLD", "HelloWORLD"),
            ("some_1_thing", "Some1Thing"),
            ("1_abc", "1Abc"),
            ("abc_1", "Abc1"),
            ("v1_2v", "V12v"),
            ("a__b", "A_B"),
            ("a  b", "A B"),
            ("1_2", "12"),
            ("_a_B_", "_AB_"),
            ("中文_测试", "中文测试"),
        ];
        for (input, want) in cases {
            assert_eq!(pascal_case(input), want, "camelcase {input:?}");
        }
    }

    #[test]
    fn shuffle_keeps_runes() {
        let got = shuffle("abcdéf");
        let mut a: Vec<char> = got.chars().collect();
        a.sort();
        assert_eq!(a.into_iter().collect::<String>(), "abcdfé");
    }
}
