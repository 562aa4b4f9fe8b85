//! `toYaml`: go-yaml v2's emitter, reached the way Helm reaches it (`sigs.k8s.io/yaml.Marshal`).
//!
//! Helm marshals to JSON first and then reads that JSON back with go-yaml v2, so a float64 holding
//! `1000000` comes out as the int `1000000` while `1.5e-07` stays a float (`1.5e-07`), every map key
//! is a string, and `[]byte` is base64. The emitter part follows libyaml's state machine (as ported
//! to Go) closely, because its column bookkeeping decides where long scalars are folded (best width
//! 80), when a string is single- or double-quoted, and which block-scalar indicators (`|`, `|-`,
//! `|+`, `|2-`) appear. `toYamlPretty` uses go-yaml v3 directly (no JSON round trip).
//!
//! The emitter walks the caller's data itself (template values, JSON, `.Files` bodies) through
//! [`Node`], with the JSON round trip's effects applied on the way, and reads scalars as `&str`
//! without copying them: `toYaml` and `AsConfig` carry whole files (issue 16).

use std::borrow::Cow;

use super::parse::{resolve, Y};
use gotemplate::gofmt::format_float_g;
use gotemplate::json::{json_float, TooLong, CYCLE_CHECK_DEPTH, MAX_TEXT};
use gotemplate::Value;

/// Helm's `toYaml`: the YAML text without its final newline; `""` when Go's marshalling fails
/// (NaN or infinite floats, cycles, nesting go-yaml v2 does not read back) and when the text
/// would be over [`MAX_TEXT`] (see [`to_yaml_checked`]).
pub fn to_yaml(v: &Value) -> String {
    to_yaml_checked(v).unwrap_or_default()
}

/// [`to_yaml`], with text over [`MAX_TEXT`] an error (the template function's).
pub fn to_yaml_checked(v: &Value) -> Result<String, TooLong> {
    to_yaml_within(v, MAX_TEXT)
}

pub(super) fn to_yaml_within(v: &Value, limit: usize) -> Result<String, TooLong> {
    emit_value(v, Flavor::V2, limit)
}

/// Helm's `toYamlPretty` (go-yaml v3 encoder, indent 2, on the value itself); `""` on failure
/// as [`to_yaml`].
pub fn to_yaml_pretty(v: &Value) -> String {
    to_yaml_pretty_checked(v).unwrap_or_default()
}

/// [`to_yaml_pretty`], with text over [`MAX_TEXT`] an error.
pub fn to_yaml_pretty_checked(v: &Value) -> Result<String, TooLong> {
    to_yaml_pretty_within(v, MAX_TEXT)
}

pub(super) fn to_yaml_pretty_within(v: &Value, limit: usize) -> Result<String, TooLong> {
    emit_value(v, Flavor::V3, limit)
}

/// A value's text in `flavor`; `""` where Go's marshalling fails. Go fails before it writes
/// anything, so a value that is both too long and unmarshallable gives `""`, not [`TooLong`]: past
/// the limit the emitter stops writing, and [`unsupported`] walks what it skipped.
fn emit_value(v: &Value, flavor: Flavor, limit: usize) -> Result<String, TooLong> {
    match emit(v, flavor, limit, flavor == Flavor::V2) {
        Ok(text) => Ok(trim_newline(text)),
        Err(Stop::Unsupported) => Ok(String::new()),
        Err(Stop::TooLong) if unsupported(v, flavor, 0) => Ok(String::new()),
        Err(Stop::TooLong) => Err(TooLong { limit }),
    }
}

/// Emits JSON data as YAML with the same rules as [`to_yaml`] (including the trailing newline
/// removal).
pub fn json_to_yaml(v: &serde_json::Value) -> String {
    // JSON data we hold already in memory: its text is within a small factor of it.
    emit(v, Flavor::V2, usize::MAX, false)
        .map(trim_newline)
        .unwrap_or_default()
}

/// [`to_yaml`] of a map of strings (`.Files.AsConfig`/`AsSecrets`), keys unique, without making
/// template values of the (often large) bodies first.
pub(crate) fn str_map_to_yaml<'a>(entries: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let pairs: Vec<(&str, &str)> = entries.into_iter().collect();
    let mut e = Emitter::new(Flavor::V2, MAX_TEXT, true);
    let at = At {
        mapping: false,
        depth: 0,
    };
    if e.map(pairs, at).is_err() {
        return String::new();
    }
    e.finish().map(trim_newline).unwrap_or_default()
}

fn trim_newline(mut s: String) -> String {
    if s.ends_with('\n') {
        s.pop();
    }
    s
}

// ---------------------------------------------------------------------------------------------
// What the emitter walks: each kind of data writes itself with the emitter's building blocks.

/// What `json.Marshal` fails on: non-finite floats, and cycles (reported by depth).
pub(crate) struct Unsupported;

/// Why emitting stopped early.
enum Stop {
    Unsupported,
    TooLong,
}

impl From<Unsupported> for Stop {
    fn from(_: Unsupported) -> Stop {
        Stop::Unsupported
    }
}

/// Where a node sits: as a mapping's value (`mapping`), and how deep.
#[derive(Clone, Copy)]
struct At {
    mapping: bool,
    depth: usize,
}

impl At {
    fn child(self, mapping: bool) -> At {
        At {
            mapping,
            depth: self.depth + 1,
        }
    }
}

/// Data the emitter can write: as Go sees it after marshalling (for [`Flavor::V2`], after the
/// JSON round trip).
trait Node {
    fn emit(&self, e: &mut Emitter, at: At) -> Result<(), Unsupported>;
}

/// Deepest nesting of collections go-yaml v2 reads (`max_flow_level`, "exceeded max depth of
/// 10000"): `sigs.k8s.io/yaml` reads the JSON text back with it, so Helm's `toYaml` of a deeper
/// value fails and gives `""` (helm v3.17.2: 10,000 nested maps print, 10,001 print nothing).
const MAX_DEPTH_V2: usize = 10_000;

/// Whether Go fails to marshal `v` at `depth` (the checks [`Node::emit`] makes on the way).
fn unsupported(v: &Value, flavor: Flavor, depth: usize) -> bool {
    let v2 = flavor == Flavor::V2;
    if (depth == CYCLE_CHECK_DEPTH + 1 && v.has_cycle())
        || (v2 && depth >= MAX_DEPTH_V2 && matches!(v, Value::List(_) | Value::Map(_)))
    {
        return true;
    }
    match v {
        Value::Float(f) => v2 && json_float(*f).is_none(),
        Value::Str(s) => v2 && json_read_back(s).is_err(),
        Value::BStr(b) => v2 && json_read_back(b.text()).is_err(),
        Value::List(l) => l.iter().any(|x| unsupported(x, flavor, depth + 1)),
        Value::Map(m) => m.borrow().iter().any(|(k, x)| {
            (v2 && (json_read_back(k).is_err() || k.contains('\u{85}'))) || unsupported(x, flavor, depth + 1)
        }),
        Value::Object(o) => o
            .to_plain()
            .is_some_and(|p| unsupported(&p, flavor, if v2 { depth } else { depth + 1 })),
        _ => false,
    }
}

impl Node for Value {
    fn emit(&self, e: &mut Emitter, at: At) -> Result<(), Unsupported> {
        let v2 = e.flavor == Flavor::V2;
        // Checked once, at the first level past the threshold: a walk that would never end passes
        // through that level inside the cycle.
        if at.depth == CYCLE_CHECK_DEPTH + 1 && self.has_cycle() {
            return Err(Unsupported);
        }
        // A collection at `depth` is flow level `depth + 1` of the JSON text go-yaml reads.
        if v2 && at.depth >= MAX_DEPTH_V2 && matches!(self, Value::List(_) | Value::Map(_)) {
            return Err(Unsupported);
        }
        match self {
            Value::Nil => e.plain("null"),
            Value::Bool(b) => e.plain(if *b { "true" } else { "false" }),
            Value::Int(i) | Value::Int64(i) => e.plain(&i.to_string()),
            Value::Uint64(u) => e.plain(&u.to_string()),
            // go-yaml v2 reads the JSON number back: an integral float is an int.
            Value::Float(f) if v2 => e.number(&json_float(*f).ok_or(Unsupported)?)?,
            Value::Float(f) => e.float(*f),
            Value::Str(s) => e.string(s, false)?,
            // Through encoding/json (v2) each invalid byte is U+FFFD; go-yaml v3 would tag this
            // `!!binary`, not modelled.
            Value::BStr(b) => e.string(b.text(), false)?,
            Value::Bytes(b) if v2 => {
                use base64::Engine as _;
                e.string(&base64::engine::general_purpose::STANDARD.encode(b), false)?
            }
            // go-yaml v3 marshals []byte as a sequence of ints.
            Value::Bytes(b) => {
                let ints: Vec<Value> = b.iter().map(|&x| Value::Int(x.into())).collect();
                return e.seq(&ints, at);
            }
            Value::List(l) => return e.seq(l, at),
            Value::Map(m) => {
                let m = m.borrow();
                return e.map(m.iter().map(|(k, x)| (k.as_str(), x)).collect(), at);
            }
            // The plain form stands in for the object: the same level after the JSON round trip.
            Value::Object(o) => match o.to_plain() {
                Some(p) => {
                    let at = if v2 { at } else { at.child(at.mapping) };
                    return e.node(&p, at);
                }
                None => e.empty_flow("{", "}"),
            },
        }
        Ok(())
    }
}

impl Node for serde_json::Value {
    fn emit(&self, e: &mut Emitter, at: At) -> Result<(), Unsupported> {
        use serde_json::Value as J;
        match self {
            J::Null => e.plain("null"),
            J::Bool(b) => e.plain(if *b { "true" } else { "false" }),
            J::Number(n) => {
                if let Some(i) = n.as_i64() {
                    e.plain(&i.to_string())
                } else if let Some(u) = n.as_u64() {
                    e.plain(&u.to_string())
                } else {
                    e.number(&n.as_f64().and_then(json_float).ok_or(Unsupported)?)?
                }
            }
            J::String(s) => e.string(s, false)?,
            J::Array(a) => return e.seq(a, at),
            J::Object(o) => return e.map(o.iter().map(|(k, x)| (k.as_str(), x)).collect(), at),
        }
        Ok(())
    }
}

impl Node for str {
    fn emit(&self, e: &mut Emitter, _: At) -> Result<(), Unsupported> {
        e.string(self, false)
    }
}

/// Whether `s` has a character go-yaml's reader refuses ("control characters are not allowed")
/// that `encoding/json` writes as it is: DEL, the C1 controls but NEL, U+FFFE and U+FFFF (it
/// escapes those below U+0020). Helm's `toYaml` of such a string fails and gives `""`.
fn unreadable_in_json(s: &str) -> bool {
    // Every such character is DEL or starts with byte 0xC2 or 0xEF in UTF-8: a vectorised
    // search for those bytes clears almost every string (whole files pass through here).
    memchr::memchr3(0x7F, 0xC2, 0xEF, s.as_bytes()).is_some()
        && s.chars().any(|c| c >= ' ' && !super::reader::printable(c))
}

/// A string as go-yaml v2 reads it back from `encoding/json`'s text, or [`Unsupported`] where it
/// fails. JSON escapes every line break but NEL (U+0085), which go-yaml reads as a line break
/// inside the double-quoted scalar, and folds: a run of spaces and NELs becomes one space for
/// one NEL, else a line feed for each NEL past the first (helm v3.17.2: `"a \u0085 b"` gives
/// `a b`); `---` or `...` and a blank right after a NEL is a document marker, and fails.
fn json_read_back(s: &str) -> Result<Cow<'_, str>, Unsupported> {
    const NEL: char = '\u{85}';
    // Both NEL and the unreadable characters start with one of these bytes (see
    // [`unreadable_in_json`]): a string without any is read back as it is, after one scan.
    if memchr::memchr3(0x7F, 0xC2, 0xEF, s.as_bytes()).is_none() {
        return Ok(Cow::Borrowed(s));
    }
    if unreadable_in_json(s) {
        return Err(Unsupported);
    }
    if !s.contains(NEL) {
        return Ok(Cow::Borrowed(s));
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while !rest.is_empty() {
        let blank = |c: char| c == ' ' || c == NEL;
        let text_end = rest.find(blank).unwrap_or(rest.len());
        out.push_str(&rest[..text_end]);
        rest = &rest[text_end..];
        let run_end = rest.find(|c| !blank(c)).unwrap_or(rest.len());
        let (run, after) = rest.split_at(run_end);
        match run.matches(NEL).count() {
            0 => out.push_str(run),
            breaks => {
                let marker = after.starts_with("---") || after.starts_with("...");
                if run.ends_with(NEL) && marker && after[3..].starts_with(blank) {
                    return Err(Unsupported);
                }
                if breaks == 1 {
                    out.push(' ');
                } else {
                    out.extend(std::iter::repeat_n('\n', breaks - 1));
                }
            }
        }
        rest = after;
    }
    Ok(Cow::Owned(out))
}

/// A JSON number as go-yaml v2 reads it back: int, uint64 or float64.
fn number_y(text: &str) -> Y {
    match resolve("", text) {
        Ok((_, y @ (Y::Int(_) | Y::Uint(_) | Y::Float(_)))) => y,
        _ => Y::Str(text.to_string()),
    }
}

/// Whether go-yaml's resolver reads `s` as a string (so it may be written plain). Only text
/// starting with a sign, digit, dot or one of `yYnNtTfFoO~` can be anything else, and of those
/// starting with a letter or `~` only the five-letter-or-shorter booleans and nulls are: the rest
/// are decided without the resolver, which copies the text.
fn resolves_to_str(s: &str) -> bool {
    match s.as_bytes().first() {
        None => false,
        Some(b'+' | b'-' | b'0'..=b'9' | b'.') => {
            matches!(resolve("", s), Ok((t, _)) if t.ends_with(":str"))
        }
        Some(b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~') if s.len() <= 5 => {
            matches!(resolve("", s), Ok((t, _)) if t.ends_with(":str"))
        }
        Some(_) => true,
    }
}

// ---------------------------------------------------------------------------------------------
// Key order: go-yaml's keyList.Less.

fn is_letter(c: char) -> bool {
    c.is_alphabetic()
}

fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || (!c.is_ascii() && c.is_numeric())
}

/// go-yaml's `keyList.Less` for two string keys: runs of digits compare as numbers, letters sort
/// before anything else.
pub(crate) fn key_less(a: &str, b: &str) -> bool {
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let mut i = 0;
    while i < ar.len() && i < br.len() {
        if ar[i] == br[i] {
            i += 1;
            continue;
        }
        let al = is_letter(ar[i]);
        let bl = is_letter(br[i]);
        if al && bl {
            return ar[i] < br[i];
        }
        if al || bl {
            return bl;
        }
        let (mut an, mut bn) = (0i64, 0i64);
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && is_digit(ar[j - 1]) {
                j -= 1;
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let digit_val = |c: char| {
            c.to_digit(10)
                .map_or((c as i64).wrapping_sub('0' as i64), i64::from)
        };
        let mut ai = i;
        while ai < ar.len() && is_digit(ar[ai]) {
            an = an.wrapping_mul(10).wrapping_add(digit_val(ar[ai]));
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && is_digit(br[bi]) {
            bn = bn.wrapping_mul(10).wrapping_add(digit_val(br[bi]));
            bi += 1;
        }
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return ar[i] < br[i];
    }
    ar.len() < br.len()
}

/// Pairs in go-yaml's key order. Keys of ASCII without digits (nearly all keys of manifests)
/// compare character by character, letters after everything else, which is a total order, so
/// the standard library's stable sort gives what [`sort_pairs`] gives, without its allocations,
/// and in linear time on maps already in that order (`BTreeMap`s of letters-only keys).
fn sort_keys<'a, T: ?Sized>(mut pairs: Vec<(&'a str, &'a T)>) -> Vec<(&'a str, &'a T)> {
    let simple = |k: &str| k.bytes().all(|b| b.is_ascii() && !b.is_ascii_digit());
    if pairs.iter().all(|(k, _)| simple(k)) {
        let rank = |b: u8| (b.is_ascii_alphabetic(), b);
        pairs.sort_by(|a, b| a.0.bytes().map(rank).cmp(b.0.bytes().map(rank)));
        pairs
    } else {
        sort_pairs(pairs, &key_less)
    }
}

/// A stable merge sort by a "less" function (which need not be a total order, so the standard
/// library's sort, which may panic on inconsistent orders, is avoided).
fn sort_pairs<'a, T: ?Sized>(
    mut v: Vec<(&'a str, &'a T)>,
    less: &dyn Fn(&str, &str) -> bool,
) -> Vec<(&'a str, &'a T)> {
    if v.len() <= 1 {
        return v;
    }
    let right = v.split_off(v.len() / 2);
    let left = sort_pairs(v, less);
    let right = sort_pairs(right, less);
    let mut out = Vec::with_capacity(left.len() + right.len());
    let (mut l, mut r) = (left.into_iter().peekable(), right.into_iter().peekable());
    while let (Some(a), Some(b)) = (l.peek(), r.peek()) {
        if less(b.0, a.0) {
            out.extend(r.next());
        } else {
            out.extend(l.next());
        }
    }
    out.extend(l);
    out.extend(r);
    out
}

// ---------------------------------------------------------------------------------------------
// The emitter.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavor {
    V2,
    V3,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

struct Analysis {
    multiline: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

/// Where the first line break of `s` is (its length if none): `\n`, `\r`, or one of the
/// non-ASCII breaks, whose UTF-8 forms start with 0xC2 (NEL) or 0xE2 (U+2028/9); searched with
/// memchr rather than a char at a time, as literal blocks carry whole files.
fn line_end(s: &str) -> usize {
    let b = s.as_bytes();
    let ascii_break = memchr::memchr2(b'\n', b'\r', b).unwrap_or(b.len());
    // Only the bytes before the first ASCII break are searched: linear in the line's length.
    let mut from = 0;
    while let Some(k) = memchr::memchr2(0xC2, 0xE2, &b[from..ascii_break]) {
        let at = from + k;
        if s[at..].chars().next().is_some_and(is_break) {
            return at;
        }
        from = at + 1;
    }
    ascii_break
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// libyaml's `is_printable` (which, as written, rejects everything outside the BMP).
fn is_printable(c: char) -> bool {
    matches!(c as u32, 0x0A | 0x20..=0x7E | 0xA0..=0xD7FF | 0xE000..=0xFFFD) && c != '\u{FEFF}'
}

/// A byte that, past the first character, [`analyze`] only notes as "neither space nor break":
/// printable ASCII other than space, `:` (an indicator before a space) and `#` (a comment after
/// one).
fn is_plain_ascii(b: u8) -> bool {
    matches!(b, 0x21..=0x7E) && b != b':' && b != b'#'
}

fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis {
            multiline: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let mut block_indicators = false;
    let (mut line_breaks, mut special) = (false, false);
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut previous_space, mut previous_break) = (false, false);
    if s.starts_with("---") || s.starts_with("...") {
        block_indicators = true;
    }
    let mut preceded_by_ws = true;
    let b = s.as_bytes();
    let n = b.len();
    // By byte offset: a space or tab after a character is the next byte, as neither is part of a
    // longer UTF-8 sequence.
    let mut i = 0;
    while i < n {
        // A run of printable ASCII other than space, `:` and `#` changes nothing but the flags
        // below, so it is skipped a byte at a time without decoding (file bodies through
        // `toYaml`/`AsConfig` are hundreds of KB of such runs).
        if i > 0 && is_plain_ascii(b[i]) {
            i += b[i..].iter().position(|&c| !is_plain_ascii(c)).unwrap_or(n - i);
            (previous_space, previous_break, preceded_by_ws) = (false, false, false);
            continue;
        }
        // ASCII (spaces, line feeds, `:` between the plain runs) needs no decoding.
        let c = match b[i] {
            a @ 0..=0x7F => char::from(a),
            _ => s[i..].chars().next().expect("i is a char boundary below n"),
        };
        let end = i + c.len_utf8();
        let followed_by_ws = end >= n || matches!(b[end], b' ' | b'\t');
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"' | '%' | '@'
                | '`' => block_indicators = true,
                '?' | ':' | '-' if followed_by_ws => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_ws => block_indicators = true,
                '#' if preceded_by_ws => block_indicators = true,
                _ => {}
            }
        }
        if !is_printable(c) {
            special = true;
        }
        if c == ' ' {
            leading_space |= i == 0;
            trailing_space |= end == n;
            break_space |= previous_break;
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            line_breaks = true;
            leading_break |= i == 0;
            trailing_break |= end == n;
            space_break |= previous_space;
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_ws = matches!(c, ' ' | '\t') || is_break(c);
        i = end;
    }
    let mut a = Analysis {
        multiline: line_breaks,
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
        a.block_allowed = false;
    }
    if line_breaks || block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

/// go-yaml's `isBase60Float`: `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`.
fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    if !b.get(i).is_some_and(u8::is_ascii_digit) {
        return false;
    }
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while b.get(i) == Some(&b':') {
        i += 1;
        let st = i;
        while i < b.len() && b[i].is_ascii_digit() && i - st < 2 {
            i += 1;
        }
        match i - st {
            1 => {}
            2 if b[st] <= b'5' => {}
            2 => {
                // "[0-5]?[0-9]" with a first digit over 5 can only match one digit.
                i = st + 1;
            }
            _ => return false,
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

/// go-yaml v3's `isOldBool`: YAML 1.1 booleans v3 still quotes for older readers.
fn is_old_bool(s: &str) -> bool {
    matches!(
        s,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "on"
            | "On"
            | "ON"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "off"
            | "Off"
            | "OFF"
    )
}

struct Emitter {
    flavor: Flavor,
    out: String,
    column: usize,
    indent: isize,
    indents: Vec<isize>,
    whitespace: bool,
    indention: bool,
    best_indent: isize,
    best_width: usize,
    /// Most bytes to write; past it every node is skipped and [`emit`] fails.
    limit: usize,
    /// Strings reach go-yaml as JSON text (Helm's `toYaml`), where some characters fail.
    json_text: bool,
}

/// The YAML text of `root`, or [`Stop::TooLong`] once it passes `limit` (checked at each node: the
/// overshoot is at most one scalar and one indentation, both bounded by the input).
fn emit<T: Node + ?Sized>(root: &T, flavor: Flavor, limit: usize, json_text: bool) -> Result<String, Stop> {
    let mut e = Emitter::new(flavor, limit, json_text);
    let at = At {
        mapping: false,
        depth: 0,
    };
    e.node(root, at)?;
    e.finish()
}

impl Emitter {
    fn new(flavor: Flavor, limit: usize, json_text: bool) -> Emitter {
        Emitter {
            limit,
            json_text,
            flavor,
            out: String::new(),
            column: 0,
            indent: -1,
            indents: Vec::new(),
            whitespace: true,
            indention: true,
            best_indent: 2,
            best_width: 80,
        }
    }

    /// The text, once the root node is written.
    fn finish(mut self) -> Result<String, Stop> {
        if self.out.len() > self.limit {
            return Err(Stop::TooLong);
        }
        // Document end (implicit).
        self.write_indent();
        Ok(self.out)
    }

    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    /// Writes `s[*from..to]`, `chars` characters long, and moves `from` to `to`: scalars are
    /// written in runs of characters that need nothing done, not a character at a time.
    fn flush(&mut self, s: &str, from: &mut usize, to: usize, chars: &mut usize) {
        self.out.push_str(&s[*from..to]);
        self.column += *chars;
        *chars = 0;
        *from = to;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    fn write_break(&mut self, c: char) {
        if c == '\n' {
            self.put_break();
        } else {
            self.out.push(c);
            self.column = 0;
        }
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { self.best_indent } else { 0 };
        } else if !indentless {
            self.indent += self.best_indent;
        }
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    fn write_indent(&mut self) {
        let indent = self.indent.max(0) as usize;
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        if self.column < indent {
            self.out.extend(std::iter::repeat_n(' ', indent - self.column));
            self.column = indent;
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn write_indicator(&mut self, ind: &str, need_ws: bool, is_ws: bool, is_indention: bool) {
        if need_ws && !self.whitespace {
            self.put(' ');
        }
        self.out.push_str(ind);
        self.column += ind.chars().count();
        self.whitespace = is_ws;
        self.indention = self.indention && is_indention;
    }

    fn node<T: Node + ?Sized>(&mut self, n: &T, at: At) -> Result<(), Unsupported> {
        if self.out.len() > self.limit {
            return Ok(());
        }
        n.emit(self, at)
    }

    fn seq<T: Node>(&mut self, items: &[T], at: At) -> Result<(), Unsupported> {
        if items.is_empty() {
            self.empty_flow("[", "]");
            return Ok(());
        }
        let indentless = self.flavor == Flavor::V2 && at.mapping && !self.indention;
        self.increase_indent(false, indentless);
        for item in items {
            self.write_indent();
            self.write_indicator("-", true, false, true);
            self.node(item, at.child(false))?;
        }
        self.pop_indent();
        Ok(())
    }

    /// A mapping with string keys (the only keys after the JSON round trip), in go-yaml's order.
    fn map<T: Node + ?Sized>(&mut self, pairs: Vec<(&str, &T)>, at: At) -> Result<(), Unsupported> {
        if pairs.is_empty() {
            self.empty_flow("{", "}");
            return Ok(());
        }
        // A NEL in a key leaves go-yaml's simple key on another line than its `:`.
        if self.json_text && pairs.iter().any(|(k, _)| k.contains('\u{85}')) {
            return Err(Unsupported);
        }
        self.increase_indent(false, false);
        for (k, v) in sort_keys(pairs) {
            self.write_indent();
            let simple = !k.chars().any(is_break) && k.len() <= 128;
            if simple {
                self.string(k, true)?;
                self.write_indicator(":", false, false, false);
            } else {
                self.write_indicator("?", true, false, true);
                self.string(k, false)?;
                self.write_indent();
                self.write_indicator(":", true, false, true);
            }
            self.node(v, at.child(true))?;
        }
        self.pop_indent();
        Ok(())
    }

    fn empty_flow(&mut self, open: &str, close: &str) {
        self.write_indicator(open, true, true, false);
        self.write_indicator(close, false, false, false);
    }

    /// A null, bool or integer: plain text that never needs quoting.
    fn plain(&mut self, text: &str) {
        self.scalar(text, Style::Plain, false);
    }

    fn float(&mut self, f: f64) {
        let s = format_float_g(f);
        let s = match s.as_str() {
            "+Inf" => ".inf",
            "-Inf" => "-.inf",
            "NaN" => ".nan",
            s => s,
        };
        self.plain(s);
    }

    /// A JSON number's text as go-yaml v2 reads it back and writes it.
    fn number(&mut self, text: &str) -> Result<(), Unsupported> {
        match number_y(text) {
            Y::Int(i) => self.plain(&i.to_string()),
            Y::Uint(u) => self.plain(&u.to_string()),
            Y::Float(f) => self.float(f),
            _ => return self.string(text, false),
        }
        Ok(())
    }

    /// A string, in the style go-yaml's encoder asks for (the emitter may still change it).
    fn string(&mut self, s: &str, simple_key: bool) -> Result<(), Unsupported> {
        let s = if self.json_text {
            json_read_back(s)?
        } else {
            Cow::Borrowed(s)
        };
        let s = s.as_ref();
        // go-yaml v3 no longer reads yes/on as booleans but still quotes them.
        let can_plain =
            resolves_to_str(s) && !is_base60_float(s) && !(self.flavor == Flavor::V3 && is_old_bool(s));
        let style = if s.contains('\n') {
            Style::Literal
        } else if can_plain {
            Style::Plain
        } else {
            Style::Double
        };
        self.scalar(s, style, simple_key);
        Ok(())
    }

    fn scalar(&mut self, text: &str, requested: Style, simple_key: bool) {
        let a = analyze(text);
        let mut style = requested;
        if simple_key && a.multiline {
            style = Style::Double;
        }
        if style == Style::Plain && (!a.block_plain_allowed || (text.is_empty() && simple_key)) {
            style = Style::Single;
        }
        if style == Style::Single && !a.single_quoted_allowed {
            style = Style::Double;
        }
        if style == Style::Literal && (!a.block_allowed || simple_key) {
            style = Style::Double;
        }
        self.increase_indent(true, false);
        let allow_breaks = !simple_key;
        match style {
            Style::Plain => self.write_plain(text, allow_breaks),
            Style::Single => self.write_single(text, allow_breaks),
            Style::Double => self.write_double(text, allow_breaks),
            Style::Literal => self.write_literal(text),
        }
        self.pop_indent();
    }

    fn write_plain(&mut self, s: &str, allow_breaks: bool) {
        if !self.whitespace {
            self.put(' ');
        }
        self.write_quotable(s, allow_breaks, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_single(&mut self, s: &str, allow_breaks: bool) {
        self.write_indicator("'", true, false, false);
        self.write_quotable(s, allow_breaks, true);
        self.write_indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    /// The text of a plain or single-quoted scalar (`single`: `'` doubled, and no fold at the
    /// first or last character): folded at a space past the best width, line breaks doubled.
    fn write_quotable(&mut self, s: &str, allow_breaks: bool, single: bool) {
        let (mut spaces, mut breaks) = (false, false);
        let (mut from, mut chars) = (0, 0);
        let mut it = s.char_indices().peekable();
        while let Some((i, c)) = it.next() {
            if c == ' ' {
                self.flush(s, &mut from, i, &mut chars);
                let next = it.peek().map(|&(_, c)| c);
                let inner = !single || (i > 0 && next.is_some());
                if allow_breaks && !spaces && self.column > self.best_width && inner && next != Some(' ') {
                    self.write_indent();
                } else {
                    self.put(c);
                }
                from = i + 1;
                spaces = true;
            } else if is_break(c) {
                self.flush(s, &mut from, i, &mut chars);
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                from = i + c.len_utf8();
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                if single && c == '\'' {
                    self.flush(s, &mut from, i, &mut chars);
                    self.put('\'');
                }
                chars += 1;
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.flush(s, &mut from, s.len(), &mut chars);
    }

    fn write_double(&mut self, s: &str, allow_breaks: bool) {
        self.write_indicator("\"", true, false, false);
        // libyaml's is_bom() looks at the start of the value, not at the current character.
        let bom = s.starts_with('\u{FEFF}');
        let mut spaces = false;
        let (mut from, mut chars) = (0, 0);
        let mut it = s.char_indices().peekable();
        while let Some((i, c)) = it.next() {
            if bom || !is_printable(c) || is_break(c) || c == '"' || c == '\\' {
                self.flush(s, &mut from, i, &mut chars);
                from = i + c.len_utf8();
                self.put('\\');
                let esc = match c {
                    '\0' => Some('0'),
                    '\u{7}' => Some('a'),
                    '\u{8}' => Some('b'),
                    '\t' => Some('t'),
                    '\n' => Some('n'),
                    '\u{b}' => Some('v'),
                    '\u{c}' => Some('f'),
                    '\r' => Some('r'),
                    '\u{1b}' => Some('e'),
                    '"' => Some('"'),
                    '\\' => Some('\\'),
                    '\u{85}' => Some('N'),
                    '\u{a0}' => Some('_'),
                    '\u{2028}' => Some('L'),
                    '\u{2029}' => Some('P'),
                    _ => None,
                };
                match esc {
                    Some(e) => self.put(e),
                    None => {
                        let u = c as u32;
                        let s = if u <= 0xFF {
                            format!("x{u:02X}")
                        } else if u <= 0xFFFF {
                            format!("u{u:04X}")
                        } else {
                            format!("U{u:08X}")
                        };
                        self.out.push_str(&s);
                        self.column += s.len();
                    }
                }
                spaces = false;
            } else if c == ' ' {
                self.flush(s, &mut from, i, &mut chars);
                from = i + 1;
                let next = it.peek().map(|&(_, c)| c);
                if allow_breaks && !spaces && self.column > self.best_width && i > 0 && next.is_some() {
                    self.write_indent();
                    if next == Some(' ') {
                        self.put('\\');
                    }
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                chars += 1;
                spaces = false;
            }
        }
        self.flush(s, &mut from, s.len(), &mut chars);
        self.write_indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_literal(&mut self, s: &str) {
        self.write_indicator("|", true, false, false);
        if s.starts_with(|c| c == ' ' || is_break(c)) {
            let hint = self.best_indent.to_string();
            self.write_indicator(&hint, false, false, false);
        }
        let mut back = s.chars().rev();
        let chomp = match (back.next(), back.next()) {
            (None, _) => Some("-"),
            (Some(last), _) if !is_break(last) => Some("-"),
            (Some(_), None) => Some("+"),
            (Some(_), Some(prev)) if is_break(prev) => Some("+"),
            _ => None,
        };
        if let Some(ch) = chomp {
            self.write_indicator(ch, false, false, false);
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        let mut rest = s;
        while let Some(c) = rest.chars().next() {
            if is_break(c) {
                self.write_break(c);
                self.indention = true;
                breaks = true;
                rest = &rest[c.len_utf8()..];
            } else {
                if breaks {
                    self.write_indent();
                }
                // A whole line at once: literal blocks carry the biggest strings (files through
                // `toYaml` and `AsConfig`).
                let end = line_end(rest);
                let line = &rest[..end];
                self.out.push_str(line);
                self.column += line.chars().count();
                self.indention = false;
                breaks = false;
                rest = &rest[end..];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        // Expected texts follow go-yaml v2's resolver (resolve.go) and emitter (emitterc.go).
        let cases: &[(&str, &str, &str)] = &[
            ("yes", "yes", "v: \"yes\""),
            ("on", "on", "v: \"on\""),
            ("y", "y", "v: \"y\""),
            ("float text", "1.0", "v: \"1.0\""),
            ("int text", "123", "v: \"123\""),
            ("octal text", "0755", "v: \"0755\""),
            ("date", "2024-01-01", "v: \"2024-01-01\""),
            ("invalid date stays plain", "2024-13-01", "v: 2024-13-01"),
            ("null", "null", "v: \"null\""),
            ("tilde", "~", "v: \"~\""),
            ("empty", "", "v: \"\""),
            ("base60", "1:20", "v: \"1:20\""),
            ("colon space", "a: b", "v: 'a: b'"),
            ("alias star", "*x", "v: '*x'"),
            ("tab", "\tx", "v: \"\\tx\""),
            ("leading space", " x", "v: ' x'"),
            ("plain with colon", "a:b", "v: a:b"),
            ("single quote inside", "'q", "v: '''q'"),
            ("emoji escaped", "\u{1F600}", "v: \"\\U0001F600\""),
            ("plain url", "http://x/y", "v: http://x/y"),
            ("dash alone", "-", "v: '-'"),
            ("hash after space", "a #b", "v: 'a #b'"),
        ];
        for (name, s, want) in cases {
            assert_eq!(to_yaml(&Value::map_of([("v", Value::str(*s))])), *want, "{name}");
        }
    }

    /// The scalar writers' edge cases, each under its own key (where a long line folds depends on
    /// the key's width). Expected texts are what helm v3.17.2 printed for `toYaml` of a map of
    /// these strings, one template per key: quoting for indicators, YAML 1.1 scalars, non-printable
    /// and non-ASCII characters, folding at 80 columns in each style, block scalars.
    #[test]
    fn scalars_like_helm() {
        let cases: &[(&str, &str, &str)] = &[
                ("lead_dash", "- x", "lead_dash: '- x'"),
                ("lead_q", "? x", "lead_q: '? x'"),
                ("lead_colon", ": x", "lead_colon: ': x'"),
                ("dash_word", "-x", "dash_word: -x"),
                ("colon_inside", "a: b", "colon_inside: 'a: b'"),
                ("hash_inside", "a #b", "hash_inside: 'a #b'"),
                ("hash_glued", "a#b", "hash_glued: a#b"),
                ("yes", "yes", "\"yes\": \"yes\""),
                ("tilde", "~", "tilde: \"~\""),
                ("hex", "0x1F", "hex: \"0x1F\""),
                ("exp", "1e3", "exp: \"1e3\""),
                ("inf", ".inf", "inf: \".inf\""),
                ("ctrl", "a\u{1}b", "ctrl: \"a\\x01b\""),
                ("nbsp", "a\u{a0}b", "nbsp: a\u{a0}b"),
                ("accent", "caf\u{e9}", "accent: caf\u{e9}"),
                ("astral", "a\u{1f600}", "astral: \"a\\U0001F600\""),
                ("trailing_space", "abc ", "trailing_space: 'abc '"),
                ("trailing_space_multi", "a\nb \n", "trailing_space_multi: \"a\\nb \\n\""),
                ("multi", "line one\nline two\n", "multi: |\n  line one\n  line two"),
                ("long_plain", "word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word", "long_plain: word word word word word word word word word word word word word word\n  word word word word word word word word word word word word word word word word\n  word word word word word word word word word word"),
                ("long_single", "x: word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word", "long_single: 'x: word word word word word word word word word word word word word\n  word word word word word word word word word word word word word word word word\n  word word word word word word word word word word word'"),
                ("long_double", "\tword word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word", "long_double: \"\\tword word word word word word word word word word word word word word\n  word word word word word word word word word word word word word word word word\n  word word word word word word word word word word\""),
                ("long_double_spaces", "\tword  word  word  word  word  word  word  word  word  word  word  word  word  word  word  word  word  word  word  word  word  word  word  word  word  word  word  word  word  word  word  word  word  word  word  word  word  word  word  word", "long_double_spaces: \"\\tword  word  word  word  word  word  word  word  word  word\n  \\ word  word  word  word  word  word  word  word  word  word  word  word  word  word\n  \\ word  word  word  word  word  word  word  word  word  word  word  word  word  word\n  \\ word  word\""),
                ("quote_fold", "'it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's it's", "quote_fold: '''it''s it''s it''s it''s it''s it''s it''s it''s it''s it''s it''s it''s\n  it''s it''s it''s it''s it''s it''s it''s it''s it''s it''s it''s it''s it''s it''s\n  it''s it''s it''s it''s'"),
                ("accent_fold", "caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9}", "accent_fold: caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9}\n  caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9} caf\u{e9}"),
                ("cr", "a\rb", "cr: \"a\\rb\""),
                ("lead_break", "\nabc", "lead_break: |2-\n\n  abc"),
        ];
        for (key, s, want) in cases {
            assert_eq!(to_yaml(&Value::map_of([(*key, Value::str(*s))])), *want, "{key}");
        }
    }

    /// `line_end` finds what a char-by-char search for a break finds, ASCII or not.
    #[test]
    fn line_end_is_the_first_break() {
        for s in [
            "",
            "abc",
            "a\nb",
            "a\rb",
            "a\u{85}b",
            "a\u{2028}b\nc",
            "\u{a9}\u{a9}\n",
            "\u{e2}\u{2029}",
            "caf\u{e9}\u{2026}x\u{2029}",
            "\u{a0}\u{85}",
            "x\u{2030}\r",
        ] {
            assert_eq!(line_end(s), s.find(is_break).unwrap_or(s.len()), "{s:?}");
        }
    }

    /// Keys of ASCII without digits take the sort without allocations: non-letters first, then by
    /// byte (helm v3.17.2's order for these keys).
    #[test]
    fn simple_keys_in_go_order() {
        let keys = ["x.y", "ab", "A", "a b", "_a", "x-y", "Ab", "a/b"];
        let m = Value::map_of(keys.iter().map(|k| (*k, Value::Int(0))));
        assert_eq!(
            to_yaml(&m),
            "_a: 0\nA: 0\nAb: 0\na b: 0\na/b: 0\nab: 0\nx-y: 0\nx.y: 0"
        );
    }

    /// Helm's `toYaml` reads `encoding/json`'s text back with go-yaml, which refuses DEL, C1
    /// controls and U+FFFE/U+FFFF written raw, and folds a raw NEL as a line break inside the
    /// quoted scalar. Expected texts are helm v3.17.2's (`""`: the template printed nothing).
    #[test]
    fn json_text_read_back_like_helm() {
        let cases: &[(&str, Value, &str)] = &[
            ("DEL", Value::str("a\u{7f}b"), ""),
            ("C1 control", Value::str("a\u{9f}b"), ""),
            ("U+FFFE", Value::str("a\u{fffe}b"), ""),
            ("NEL", Value::str("a\u{85}b"), "k: a b"),
            ("NEL among spaces", Value::str("a \u{85}  b"), "k: a b"),
            ("two NELs", Value::str("a\u{85}\u{85}b"), "k: |-\n  a\n  b"),
            (
                "three NELs, spaces",
                Value::str("a\u{85} \u{85}\u{85} b"),
                "k: |-\n  a\n\n  b",
            ),
            ("leading NEL", Value::str("\u{85}a"), "k: ' a'"),
            ("trailing NEL", Value::str("a\u{85}"), "k: 'a '"),
            ("document marker", Value::str("a\u{85}--- b"), ""),
            ("document end marker", Value::str("a\u{85}... b"), ""),
            ("dashes, no blank", Value::str("a\u{85}---b"), "k: a ---b"),
            ("NEL in a key", Value::map_of([("a\u{85}b", Value::Int(1))]), ""),
            ("DEL in a key", Value::map_of([("a\u{7f}b", Value::Int(1))]), ""),
        ];
        for (name, v, want) in cases {
            assert_eq!(to_yaml(&Value::map_of([("k", v.clone())])), *want, "{name}");
        }
        assert_eq!(
            to_yaml_pretty(&Value::str("a\u{7f}b")),
            "\"a\\x7Fb\"",
            "no JSON in toYamlPretty"
        );
        let del = [("del.txt", "a\u{7f}b"), ("ok.txt", "ok")];
        assert_eq!(str_map_to_yaml(del), "", "AsConfig of a file with DEL");
        assert_eq!(str_map_to_yaml([("ok.txt", "ok")]), "ok.txt: ok");
    }

    #[test]
    fn key_order() {
        let cases: &[(&str, &[&str], &str)] = &[
            ("numeric runs", &["a10", "a9", "a1"], "a1: 0\na9: 0\na10: 0"),
            (
                "non-letters before letters",
                &["B", "a", "_x", "1"],
                "_x: 0\n\"1\": 0\nB: 0\na: 0",
            ),
            ("upper before lower", &["b", "B"], "B: 0\nb: 0"),
            ("shorter first", &["ab", "a"], "a: 0\nab: 0"),
        ];
        for (name, keys, want) in cases {
            let m = Value::map_of(keys.iter().map(|k| (*k, Value::Int(0))));
            assert_eq!(to_yaml(&m), *want, "{name}");
        }
    }

    #[test]
    fn block_scalars() {
        let cases: &[(&str, &str, &str)] = &[
            ("clip", "a\nb\n", "v: |\n  a\n  b"),
            ("strip", "a\nb", "v: |-\n  a\n  b"),
            ("keep (one newline trimmed by toYaml)", "a\n\n", "v: |+\n  a\n"),
            ("leading space hint", " a\nb", "v: |2-\n   a\n  b"),
            ("trailing space forces quotes", "a \nb", "v: \"a \\nb\""),
            ("empty line inside", "a\n\nb", "v: |-\n  a\n\n  b"),
        ];
        for (name, s, want) in cases {
            assert_eq!(to_yaml(&Value::map_of([("v", Value::str(*s))])), *want, "{name}");
        }
        assert_eq!(
            to_yaml(&Value::str("a\nb")),
            "|-\n  a\n  b",
            "root literal is indented"
        );
    }

    /// `toYaml` drops the one line feed go-yaml ends its output with (Helm's `strings.TrimSuffix`),
    /// so a literal block closing the output loses its final line break when read back on its own:
    /// helm v3.17.2 turns `"59:43\n"` into `"59:43"` through `fromYaml (toYaml .)`. With that line
    /// feed restored, as a template line ending gives it, every value comes back unchanged. This was
    /// the `yaml_roundtrip` fuzz find (seed `fuzz/seeds/yaml_roundtrip/trailing-newline`).
    #[test]
    fn round_trip_needs_the_trimmed_line_feed() {
        let cases: &[(&str, &str, &str)] = &[
            ("clip, looks base 60", "k: \"59:43\\n\"\n", "59:43"),
            ("clip", "k: \"a\\n\"\n", "a"),
            ("keep", "k: \"x\\n\\n\"\n", "x\n"),
            ("strip", "k: \"a\\nb\"\n", "a\nb"),
            ("not last", "k: \"a\\n\"\nz: 1\n", "a\n"),
        ];
        for (name, text, alone) in cases {
            let v = crate::yaml::parse_values(text, "values.yaml").unwrap();
            let emitted = to_yaml(&v);
            let back = crate::yaml::parse_values(&format!("{emitted}\n"), "e.yaml").unwrap();
            assert!(back == v, "{name}: {emitted:?} read back as {back:?}");
            let bare = crate::yaml::parse_values(&emitted, "e.yaml").unwrap();
            let k = bare.as_map().unwrap().borrow().get("k").cloned().unwrap();
            assert!(k == Value::str(*alone), "{name}: without the line feed: {k:?}");
        }
    }

    #[test]
    fn folding_matches_keda_golden() {
        // From keda's golden CRD (spec.versions[].schema...), emitted by go-yaml v2 at width 80.
        let text = "Kind of the resource being referred to. Defaults to TriggerAuthentication.";
        let v = Value::map_of([("description", Value::str(text))]);
        let mut nested = v;
        for k in ["j", "i", "h", "g", "f", "e", "d", "c", "b", "a"] {
            nested = Value::map_of([(k, nested)]);
        }
        let out = to_yaml(&nested);
        assert!(
            out.ends_with(
                "                    description: Kind of the resource being referred to. Defaults\n                      to TriggerAuthentication."
            ),
            "{out}"
        );
    }

    #[test]
    fn numbers() {
        let cases: &[(&str, Value, &str)] = &[
            ("integral float becomes int", Value::Float(1_000_000.0), "1000000"),
            ("fraction", Value::Float(1.5), "1.5"),
            ("small float", Value::Float(1e-7), "1e-07"),
            ("large float", Value::Float(1e21), "1e+21"),
            (
                "big non-integral uses %g",
                Value::Float(123456789.5),
                "1.234567895e+08",
            ),
            (
                "beyond int64 still int",
                Value::Float(1e19),
                "10000000000000000000",
            ),
            ("beyond uint64 float", Value::Float(1e20), "1e+20"),
            ("int", Value::Int(-3), "-3"),
            ("bool", Value::Bool(true), "true"),
            ("nil", Value::Nil, "null"),
            ("nan fails", Value::Float(f64::NAN), ""),
        ];
        for (name, v, want) in cases {
            assert_eq!(to_yaml(v), *want, "{name}");
        }
    }

    #[test]
    fn collections() {
        let item = Value::map_of([("a", Value::Int(1)), ("b", Value::Int(2))]);
        let cases: &[(&str, Value, &str)] = &[
            ("list of maps", Value::list(vec![item.clone()]), "- a: 1\n  b: 2"),
            (
                "list under key",
                Value::map_of([("k", Value::list(vec![Value::str("a")]))]),
                "k:\n- a",
            ),
            (
                "nested list",
                Value::list(vec![Value::list(vec![Value::Int(1), Value::Int(2)])]),
                "- - 1\n  - 2",
            ),
            ("empty list", Value::map_of([("k", Value::list(vec![]))]), "k: []"),
            ("empty map", Value::map_of([("k", Value::new_map())]), "k: {}"),
            ("root empty map", Value::new_map(), "{}"),
            ("bytes are base64", Value::Bytes(b"hi".to_vec().into()), "aGk="),
            ("map in map", Value::map_of([("x", item)]), "x:\n  a: 1\n  b: 2"),
        ];
        for (name, v, want) in cases {
            assert_eq!(to_yaml(v), *want, "{name}");
        }
    }

    #[test]
    fn pretty_indents_sequences() {
        let v = Value::map_of([
            ("k", Value::list(vec![Value::str("a")])),
            ("f", Value::Float(1e6)),
        ]);
        assert_eq!(to_yaml_pretty(&v), "f: 1e+06\nk:\n  - a");
    }

    #[test]
    fn go_float_formats() {
        let cases: &[(f64, &str, &str)] = &[
            (1e6, "1e+06", "1000000"),
            (100000.0, "100000", "100000"),
            (0.0001, "0.0001", "0.0001"),
            (0.00001, "1e-05", "0.00001"),
            (1e-7, "1e-07", "1e-7"),
            (1e21, "1e+21", "1e+21"),
            (-2.5, "-2.5", "-2.5"),
        ];
        for (f, g, json) in cases {
            assert_eq!(format_float_g(*f), *g, "g {f}");
            assert_eq!(json_float(*f).as_deref(), Some(*json), "json {f}");
        }
    }
}
