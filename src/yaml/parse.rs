//! YAML decoding the way Helm does it: go-yaml v2 (YAML 1.1) into `interface{}`, then
//! `sigs.k8s.io/yaml`'s conversion to JSON-compatible data.
//!
//! The event parser is `granit-parser` (shipped inside `serde-saphyr`); composing nodes and resolving
//! plain scalars is done here because Helm's results depend on go-yaml v2's exact resolver: `yes`, `on`
//! and `y` are booleans, `010` is octal, `0x1F` hex, `1_000` an int, timestamps stay strings, and
//! `<<` merges override earlier keys. Aliases are expanded while decoding with go-yaml's own
//! alias-ratio limit, so a "billion laughs" document fails quickly instead of exhausting memory.

use std::{borrow::Cow, collections::HashMap, rc::Rc};

use serde_saphyr::granit_parser::{Event, Marker, Options, Parser, ScalarStyle, ScanError, StructureStyle};

use super::Error;
use gotemplate::Value;

const TAG_PREFIX: &str = "tag:yaml.org,2002:";
const STR_TAG: &str = "tag:yaml.org,2002:str";
const BOOL_TAG: &str = "tag:yaml.org,2002:bool";
const INT_TAG: &str = "tag:yaml.org,2002:int";
const FLOAT_TAG: &str = "tag:yaml.org,2002:float";
const NULL_TAG: &str = "tag:yaml.org,2002:null";
const TIMESTAMP_TAG: &str = "tag:yaml.org,2002:timestamp";
const BINARY_TAG: &str = "tag:yaml.org,2002:binary";

/// Helm's values decoding: the document must be a mapping (or empty); numbers become floats.
pub fn parse_values(text: &str, file: &str) -> Result<Value, Error> {
    if let Some(v) = super::values_scan::parse_values(text) {
        return Ok(v);
    }
    parse_values_after_scan(text, file)
}

/// A values file's bytes as Helm reads them: go-yaml's reader check
/// ([`super::reader::reader_error`]), then [`parse_values`]. The error is the text Helm prints
/// after its own prefix.
///
/// The line scanner checks every character itself, so a file it reads needs no separate reader
/// pass (which walks the text a character at a time).
pub fn read_values(data: &[u8], file: &str) -> Result<Value, String> {
    let text = std::str::from_utf8(data).ok();
    if let Some(v) = text.and_then(super::values_scan::parse_values) {
        return Ok(v);
    }
    if let Some(e) = super::reader::reader_error(data) {
        return Err(e);
    }
    let text = text.map_or_else(|| String::from_utf8_lossy(data), Cow::Borrowed);
    parse_values_after_scan(&text, file).map_err(|e| e.to_string())
}

/// [`parse_values`] past the line scanner: most other values files are plain maps, lists and
/// scalars too, built straight from the parser's events. Aliases, merge keys, duplicate keys and
/// every error take the general path.
fn parse_values_after_scan(text: &str, file: &str) -> Result<Value, Error> {
    if let Some(v) = super::direct::parse_values(text) {
        return Ok(v);
    }
    parse_values_general(text, file)
}

/// [`parse_values`] through go-yaml's two stages (nodes, then `interface{}` data): exact for every
/// document, including its errors.
pub(super) fn parse_values_general(text: &str, file: &str) -> Result<Value, Error> {
    let root = first_document(text, file)?;
    match root {
        Y::Null => Ok(Value::new_map()),
        Y::Map(_) => Ok(to_value(root)?),
        // sigs.k8s.io/yaml's words, naming no line (and so no file: the caller names it).
        other => Err(Error::new(
            "",
            None,
            format!(
                "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                other.json_kind()
            ),
        )),
    }
}

/// Like [`parse_values`] but any top-level type is accepted (`fromYaml`, `fromJson`).
pub fn parse_any(text: &str, file: &str) -> Result<Value, Error> {
    let root = first_document(text, file)?;
    to_value(root)
}

/// Every document of a stream as JSON data; integers stay integers, keys keep document order.
/// An empty document (between two `---`) yields `null`.
pub fn parse_documents(text: &str, file: &str) -> Result<Vec<serde_json::Value>, Error> {
    let docs = compose(text, file, false)?;
    docs.iter()
        .map(|doc| {
            let mut d = Decoder::default();
            let y = d
                .decode(doc)
                .map_err(|m| Error::new(file, Some((doc.line, doc.col)), m))?;
            // sigs.k8s.io/yaml's conversion errors name no line.
            to_json_value(y).map_err(conversion_error)
        })
        .collect()
}

fn first_document(text: &str, file: &str) -> Result<Y, Error> {
    let docs = compose(text, file, true)?;
    let Some(doc) = docs.first() else {
        return Ok(Y::Null);
    };
    let mut d = Decoder::default();
    d.decode(doc)
        .map_err(|m| Error::new(file, Some((doc.line, doc.col)), m))
}

// ---------------------------------------------------------------------------------------------
// Composition: events to a node tree (anchors shared through `Rc`).

#[derive(Debug)]
pub(crate) struct Node {
    kind: Kind,
    line: usize,
    col: usize,
}

#[derive(Debug)]
enum Kind {
    Scalar {
        value: String,
        style: ScalarStyle,
        tag: Option<String>,
    },
    Seq(Vec<Rc<Node>>),
    Map(Vec<(Rc<Node>, Rc<Node>)>),
    Alias(Rc<Node>),
}

enum Frame {
    Seq {
        items: Vec<Rc<Node>>,
        anchor: usize,
        line: usize,
        col: usize,
    },
    Map {
        pairs: Vec<(Rc<Node>, Rc<Node>)>,
        key: Option<Rc<Node>>,
        anchor: usize,
        line: usize,
        col: usize,
        flow: bool,
    },
}

/// Nesting go-yaml v2 accepts; one more level is its error `exceeded max depth of 10000`.
const MAX_DEPTH: usize = 10_000;

fn scan_error(file: &str, e: &ScanError) -> Error {
    let m = e.marker();
    let info = e.info();
    // The parser's word for its nesting limit; Helm's users see go-yaml's.
    let info = if info == "recursion limit exceeded" {
        format!("exceeded max depth of {MAX_DEPTH}")
    } else {
        info.to_string()
    };
    Error::new(file, Some((m.line(), m.col() + 1)), info)
}

/// Composes the documents of `text` (only the first one when `first_only`, as go-yaml's
/// `Unmarshal` reads only that and never looks at the rest).
fn compose(text: &str, file: &str, first_only: bool) -> Result<Vec<Rc<Node>>, Error> {
    let mut opts = Options::default();
    // libyaml (and so go-yaml) adds no line feed to a block scalar ending the input.
    opts.block_scalar_eof_without_line_feed = true;
    opts.emit_anchor_events = true;
    // go-yaml v2 allows 10,000 nested collections (its max_flow_level and max_indents), so
    // Helm reads values that deep; the parser's defaults stop at 256.
    opts.flow_nesting_limit = MAX_DEPTH;
    opts.block_nesting_limit = MAX_DEPTH;
    // go-yaml reads NEL as a line break; the parser, as text.
    let text = super::reader::libyaml_breaks(text);
    let parser = Parser::new_from_str_with_options(&text, opts);
    let mut docs = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Rc<Node>> = HashMap::new();
    let mut names: HashMap<usize, String> = HashMap::new();
    let mut root: Option<Rc<Node>> = None;
    for ev in parser {
        let (event, span) = ev.map_err(|e| scan_error(file, &e))?;
        let (line, col) = (span.start.line(), span.start.col() + 1);
        let done: Option<(Rc<Node>, usize)> = match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentStart(..) => None,
            Event::DocumentEnd => {
                docs.push(root.take().unwrap_or_else(|| {
                    Rc::new(Node {
                        kind: Kind::Scalar {
                            value: String::new(),
                            style: ScalarStyle::Plain,
                            tag: None,
                        },
                        line,
                        col,
                    })
                }));
                anchors.clear();
                if first_only {
                    break;
                }
                None
            }
            Event::Anchor(id, name) => {
                if let Some(e) = bad_anchor_name(&name, line, col, file) {
                    return Err(e);
                }
                names.insert(id, name.into_owned());
                None
            }
            Event::Alias(id) => match anchors.get(&id) {
                Some(target) => Some((
                    Rc::new(Node {
                        kind: Kind::Alias(target.clone()),
                        line,
                        col,
                    }),
                    0,
                )),
                None => {
                    let name = names.get(&id).cloned().unwrap_or_default();
                    return Err(Error::new(
                        file,
                        Some((line, col)),
                        format!("anchor '{name}' value contains itself"),
                    ));
                }
            },
            Event::UnresolvedAlias(name) => {
                if let Some(e) = bad_anchor_name(&name, line, col, file) {
                    return Err(e);
                }
                return Err(Error::new(
                    file,
                    Some((line, col)),
                    format!("unknown anchor '{name}' referenced"),
                ));
            }
            Event::Scalar(value, style, anchor, tag) => {
                if let Some(Frame::Map { key: None, flow, .. }) = stack.last() {
                    // The parser's empty scalars are `~` with an empty span.
                    let empty = span.start.index() == span.end.index();
                    if empty && style == ScalarStyle::Plain && anchor == 0 && tag.is_none() {
                        if let Some(e) = missing_key(&text, span.start, *flow, file) {
                            return Err(e);
                        }
                    }
                }
                let tag = tag.map(|t| format!("{}{}", t.handle(), t.suffix()));
                Some((
                    Rc::new(Node {
                        kind: Kind::Scalar {
                            value: value.into_owned(),
                            style,
                            tag,
                        },
                        line,
                        col,
                    }),
                    anchor,
                ))
            }
            Event::SequenceStart(_, anchor, _) => {
                stack.push(Frame::Seq {
                    items: Vec::new(),
                    anchor,
                    line,
                    col,
                });
                None
            }
            Event::MappingStart(style, anchor, _) => {
                stack.push(Frame::Map {
                    pairs: Vec::new(),
                    key: None,
                    anchor,
                    line,
                    col,
                    flow: style == StructureStyle::Flow,
                });
                None
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Frame::Seq {
                    items,
                    anchor,
                    line,
                    col,
                }) => Some((
                    Rc::new(Node {
                        kind: Kind::Seq(items),
                        line,
                        col,
                    }),
                    anchor,
                )),
                Some(Frame::Map {
                    pairs,
                    anchor,
                    line,
                    col,
                    ..
                }) => Some((
                    Rc::new(Node {
                        kind: Kind::Map(pairs),
                        line,
                        col,
                    }),
                    anchor,
                )),
                None => return Err(Error::new(file, Some((line, col)), "unbalanced collection end")),
            },
            #[allow(unreachable_patterns)]
            _ => None,
        };
        if let Some((node, anchor)) = done {
            if anchor != 0 {
                anchors.insert(anchor, node.clone());
            }
            match stack.last_mut() {
                Some(Frame::Seq { items, .. }) => items.push(node),
                Some(Frame::Map { pairs, key, .. }) => match key.take() {
                    Some(k) => pairs.push((k, node)),
                    None => *key = Some(node),
                },
                None => root = Some(node),
            }
        }
    }
    Ok(docs)
}

// ---------------------------------------------------------------------------------------------
// Decoding: go-yaml v2's `Unmarshal` into `interface{}`.

/// A value as go-yaml v2 decodes it into `interface{}` (maps keep their keys' types).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Y {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Y>),
    Map(Vec<(Y, Y)>),
}

impl Y {
    /// The name `encoding/json` uses for this value in "cannot unmarshal X into ..." errors.
    fn json_kind(&self) -> &'static str {
        match self {
            Y::Null => "null",
            Y::Bool(_) => "bool",
            Y::Int(_) | Y::Uint(_) | Y::Float(_) => "number",
            Y::Str(_) => "string",
            Y::Seq(_) => "array",
            Y::Map(_) => "object",
        }
    }

    /// A hashable identity for map keys (Go map key equality: same dynamic type and value).
    fn key_id(&self) -> Option<String> {
        Some(match self {
            Y::Null => "n".to_string(),
            Y::Bool(b) => format!("b{b}"),
            Y::Int(i) => format!("i{i}"),
            Y::Uint(u) => format!("u{u}"),
            Y::Float(f) if f.is_nan() => return None,
            Y::Float(f) => format!("f{}", if *f == 0.0 { 0 } else { f.to_bits() }),
            Y::Str(s) => format!("s{s}"),
            Y::Seq(_) | Y::Map(_) => return None,
        })
    }
}

/// A map under construction: setting an existing key replaces its value in place, as Go's
/// `SetMapIndex` does.
#[derive(Default)]
struct MapBuilder {
    pairs: Vec<(Y, Y)>,
    index: HashMap<String, usize>,
}

impl MapBuilder {
    fn set(&mut self, k: Y, v: Y) {
        match k.key_id() {
            Some(id) => match self.index.get(&id) {
                Some(&i) => self.pairs[i].1 = v,
                None => {
                    self.index.insert(id, self.pairs.len());
                    self.pairs.push((k, v));
                }
            },
            None => self.pairs.push((k, v)),
        }
    }
}

#[derive(Default)]
struct Decoder {
    decode_count: usize,
    alias_count: usize,
    alias_depth: usize,
}

/// go-yaml v2's `allowedAliasRatio`: small documents may come 99% from alias expansion, large ones
/// only 10%.
fn allowed_alias_ratio(decode_count: usize) -> f64 {
    const LOW: usize = 400_000;
    const HIGH: usize = 4_000_000;
    if decode_count <= LOW {
        0.99
    } else if decode_count >= HIGH {
        0.10
    } else {
        0.99 - 0.89 * ((decode_count - LOW) as f64 / (HIGH - LOW) as f64)
    }
}

fn at(n: &Node, msg: impl std::fmt::Display) -> String {
    format!("line {}: {msg}", n.line)
}

impl Decoder {
    fn decode(&mut self, n: &Node) -> Result<Y, String> {
        self.decode_count += 1;
        if self.alias_depth > 0 {
            self.alias_count += 1;
        }
        if self.alias_count > 100
            && self.decode_count > 1000
            && self.alias_count as f64 / self.decode_count as f64 > allowed_alias_ratio(self.decode_count)
        {
            return Err("document contains excessive aliasing".to_string());
        }
        match &n.kind {
            Kind::Alias(target) => {
                self.alias_depth += 1;
                let r = self.decode(target);
                self.alias_depth -= 1;
                r
            }
            Kind::Scalar { value, style, tag } => {
                decode_scalar(value, *style, tag.as_deref()).map_err(|m| at(n, m))
            }
            Kind::Seq(items) => Ok(Y::Seq(
                items.iter().map(|i| self.decode(i)).collect::<Result<_, _>>()?,
            )),
            Kind::Map(_) => {
                let mut m = MapBuilder::default();
                self.mapping(n, &mut m)?;
                Ok(Y::Map(m.pairs))
            }
        }
    }

    fn mapping(&mut self, n: &Node, out: &mut MapBuilder) -> Result<(), String> {
        let Kind::Map(pairs) = &n.kind else { return Ok(()) };
        for (k, v) in pairs {
            if is_merge(k) {
                self.merge(v, out)?;
                continue;
            }
            let key = self.decode(k)?;
            if matches!(key, Y::Map(_) | Y::Seq(_)) {
                return Err(at(k, format!("invalid map key: {}", go_syntax(&key))));
            }
            let val = self.decode(v)?;
            out.set(key, val);
        }
        Ok(())
    }

    /// Merges `<<: value` into `out`; merged keys replace keys set before the merge (go-yaml v2).
    fn merge(&mut self, v: &Node, out: &mut MapBuilder) -> Result<(), String> {
        const WANT_MAP: &str = "map merge requires map or sequence of maps as the value";
        let target = |n: &Node| -> Option<bool> {
            match &n.kind {
                Kind::Map(_) => Some(true),
                Kind::Alias(t) => Some(matches!(t.kind, Kind::Map(_))),
                _ => None,
            }
        };
        match &v.kind {
            Kind::Map(_) | Kind::Alias(_) => {
                if target(v) != Some(true) {
                    return Err(at(v, WANT_MAP));
                }
                self.merge_one(v, out)
            }
            Kind::Seq(items) => {
                // Earlier maps take precedence, so merge them last.
                for item in items.iter().rev() {
                    if target(item) != Some(true) {
                        return Err(at(item, WANT_MAP));
                    }
                    self.merge_one(item, out)?;
                }
                Ok(())
            }
            Kind::Scalar { .. } => Err(at(v, WANT_MAP)),
        }
    }

    fn merge_one(&mut self, n: &Node, out: &mut MapBuilder) -> Result<(), String> {
        self.decode_count += 1;
        if self.alias_depth > 0 {
            self.alias_count += 1;
        }
        match &n.kind {
            Kind::Alias(t) => {
                self.alias_depth += 1;
                let r = self.merge_one(t, out);
                self.alias_depth -= 1;
                r
            }
            _ => self.mapping(n, out),
        }
    }
}

fn is_merge(n: &Node) -> bool {
    matches!(&n.kind, Kind::Scalar { value, style, tag }
        if value == "<<" && ((tag.is_none() && *style == ScalarStyle::Plain)
            || tag.as_deref() == Some("tag:yaml.org,2002:merge")))
}

pub(super) fn decode_scalar(value: &str, style: ScalarStyle, tag: Option<&str>) -> Result<Y, String> {
    if tag.is_none() && style != ScalarStyle::Plain {
        return Ok(Y::Str(value.to_string()));
    }
    let tag = tag.unwrap_or("");
    let (rtag, y) = resolve(tag, value)?;
    if rtag == BINARY_TAG {
        use base64::Engine as _;
        let data = base64::engine::general_purpose::STANDARD
            .decode(value.split_whitespace().collect::<String>())
            .map_err(|e| format!("!!binary value contains invalid base64 data: {e}"))?;
        return Ok(Y::Str(String::from_utf8_lossy(&data).into_owned()));
    }
    Ok(y)
}

fn short_tag(tag: &str) -> String {
    match tag.strip_prefix(TAG_PREFIX) {
        Some(rest) => format!("!!{rest}"),
        None => tag.to_string(),
    }
}

/// go-yaml v2's `resolve`: the tag and value a scalar has under an (optional) explicit tag.
/// Timestamps resolve to their text (go-yaml keeps them as strings for `interface{}`).
pub(crate) fn resolve(tag: &str, input: &str) -> Result<(&'static str, Y), String> {
    let resolvable = matches!(
        tag,
        "" | STR_TAG | BOOL_TAG | INT_TAG | FLOAT_TAG | NULL_TAG | TIMESTAMP_TAG
    );
    if !resolvable {
        return Ok((
            if tag == BINARY_TAG { BINARY_TAG } else { "" },
            Y::Str(input.to_string()),
        ));
    }
    let (rtag, y) = resolve_implicit(tag, input);
    if tag.is_empty() || tag == rtag || tag == STR_TAG {
        return Ok((rtag, y));
    }
    if tag == FLOAT_TAG && rtag == INT_TAG {
        if let Y::Int(i) = y {
            return Ok((FLOAT_TAG, Y::Float(i as f64)));
        }
    }
    Err(format!(
        "cannot decode {} `{input}` as a {}",
        short_tag(rtag),
        short_tag(tag)
    ))
}

fn resolve_implicit(tag: &str, input: &str) -> (&'static str, Y) {
    let hint = match input.as_bytes().first() {
        None => b'N',
        Some(b'+' | b'-') => b'S',
        Some(b'0'..=b'9') => b'D',
        Some(b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~') => b'M',
        Some(b'.') => b'.',
        Some(_) => 0,
    };
    if hint == 0 || tag == STR_TAG {
        return (STR_TAG, Y::Str(input.to_string()));
    }
    match input {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return (BOOL_TAG, Y::Bool(true))
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return (BOOL_TAG, Y::Bool(false))
        }
        "" | "~" | "null" | "Null" | "NULL" => return (NULL_TAG, Y::Null),
        ".nan" | ".NaN" | ".NAN" => return (FLOAT_TAG, Y::Float(f64::NAN)),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return (FLOAT_TAG, Y::Float(f64::INFINITY))
        }
        "-.inf" | "-.Inf" | "-.INF" => return (FLOAT_TAG, Y::Float(f64::NEG_INFINITY)),
        _ => {}
    }
    match hint {
        b'.' => {
            if let Some(f) = parse_yaml_float(input) {
                return (FLOAT_TAG, Y::Float(f));
            }
        }
        b'D' | b'S' => {
            if (tag.is_empty() || tag == TIMESTAMP_TAG) && is_timestamp(input) {
                return (TIMESTAMP_TAG, Y::Str(input.to_string()));
            }
            let plain: String = input.chars().filter(|&c| c != '_').collect();
            if let Some(i) = go_parse_int(&plain) {
                return (INT_TAG, Y::Int(i));
            }
            if let Some(u) = go_parse_uint(&plain) {
                return (INT_TAG, Y::Uint(u));
            }
            if let Some(f) = parse_yaml_float(&plain) {
                return (FLOAT_TAG, Y::Float(f));
            }
            if let Some(bits) = plain.strip_prefix("0b") {
                if let Ok(i) = i64::from_str_radix(bits, 2) {
                    return (INT_TAG, Y::Int(i));
                }
                if let Ok(u) = u64::from_str_radix(bits, 2) {
                    if !bits.starts_with('+') {
                        return (INT_TAG, Y::Uint(u));
                    }
                }
            } else if let Some(bits) = plain.strip_prefix("-0b") {
                if let Ok(i) = i64::from_str_radix(&format!("-{bits}"), 2) {
                    return (INT_TAG, Y::Int(i));
                }
            }
        }
        _ => {}
    }
    (STR_TAG, Y::Str(input.to_string()))
}

/// go-yaml's `yamlStyleFloat` regexp (`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)
/// followed by `strconv.ParseFloat`, which rejects out-of-range values.
fn parse_yaml_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let st = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - st
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return None;
        }
    } else {
        if digits(&mut i) == 0 {
            return None;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    let f: f64 = s.parse().ok()?;
    f.is_finite().then_some(f)
}

/// Splits Go's base-0 integer syntax: sign, radix (`0x`, `0o`, `0b`, leading `0` = octal), digits.
fn go_int_parts(s: &str) -> Option<(bool, u32, &str)> {
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = rest.get(..2).map(|p| p.to_ascii_lowercase());
    let (radix, digits) = match lower.as_deref() {
        Some("0x") => (16, &rest[2..]),
        Some("0o") => (8, &rest[2..]),
        Some("0b") => (2, &rest[2..]),
        _ if rest.len() > 1 && rest.starts_with('0') => (8, &rest[1..]),
        _ => (10, rest),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    Some((neg, radix, digits))
}

/// `strconv.ParseInt(s, 0, 64)`.
pub(crate) fn go_parse_int(s: &str) -> Option<i64> {
    let (neg, radix, digits) = go_int_parts(s)?;
    let u = u128::from_str_radix(digits, radix).ok()?;
    if neg {
        (u <= 1u128 << 63).then(|| (u as i128).wrapping_neg() as i64)
    } else {
        i64::try_from(u).ok()
    }
}

/// `strconv.ParseUint(s, 0, 64)` (no sign allowed).
fn go_parse_uint(s: &str) -> Option<u64> {
    if s.starts_with(['+', '-']) {
        return None;
    }
    let (_, radix, digits) = go_int_parts(s)?;
    u64::from_str_radix(digits, radix).ok()
}

/// go-yaml's `parseTimestamp`: `time.Parse` with the layouts `2006-1-2T15:4:5.999999999Z07:00`
/// (also lower-case `t`), `2006-1-2 15:4:5.999999999` and `2006-1-2`.
pub(crate) fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let num = |i: &mut usize, min: usize, max: usize| -> Option<u32> {
        let st = *i;
        while *i < b.len() && *i - st < max && b[*i].is_ascii_digit() {
            *i += 1;
        }
        if *i - st < min {
            return None;
        }
        s[st..*i].parse().ok()
    };
    let expect = |i: &mut usize, c: u8| -> Option<()> { (b.get(*i) == Some(&c)).then(|| *i += 1) };
    let mut parse = || -> Option<()> {
        let year = num(&mut i, 4, 4)?;
        expect(&mut i, b'-')?;
        let month = num(&mut i, 1, 2)?;
        expect(&mut i, b'-')?;
        let day = num(&mut i, 1, 2)?;
        if !(1..=12).contains(&month) || day < 1 || day > days_in(month, year) {
            return None;
        }
        if i == b.len() {
            return Some(());
        }
        let zoned = match b[i] {
            b'T' | b't' => true,
            b' ' => false,
            _ => return None,
        };
        i += 1;
        let h = num(&mut i, 1, 2)?;
        expect(&mut i, b':')?;
        let m = num(&mut i, 1, 2)?;
        expect(&mut i, b':')?;
        let sec = num(&mut i, 1, 2)?;
        if h > 23 || m > 59 || sec > 59 {
            return None;
        }
        if matches!(b.get(i), Some(b'.' | b',')) && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
            i += 1;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
        }
        if zoned {
            match b.get(i) {
                Some(b'Z') => i += 1,
                Some(b'+' | b'-') => {
                    i += 1;
                    let zh = num(&mut i, 2, 2)?;
                    expect(&mut i, b':')?;
                    let zm = num(&mut i, 2, 2)?;
                    if zh > 24 || zm > 59 {
                        return None;
                    }
                }
                _ => return None,
            }
        }
        (i == b.len()).then_some(())
    };
    parse().is_some()
}

fn days_in(month: u32, year: u32) -> u32 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// ---------------------------------------------------------------------------------------------
// sigs.k8s.io/yaml: keys to strings, then JSON.

/// `sigs.k8s.io/yaml`'s key conversion; null and uint64 keys are errors there too.
pub(super) fn key_string(k: &Y) -> Result<String, String> {
    Ok(match k {
        Y::Str(s) => s.clone(),
        Y::Int(i) => i.to_string(),
        Y::Float(f) => match gotemplate::gofmt::format_float32_g(*f).as_str() {
            "+Inf" => ".inf".to_string(),
            "-Inf" => "-.inf".to_string(),
            "NaN" => ".nan".to_string(),
            s => s.to_string(),
        },
        Y::Bool(b) => b.to_string(),
        // sigs.k8s.io/yaml formats the key's type with `%s`, which a nil type fails.
        Y::Null => return Err("unsupported map key of type: %!s(<nil>), key: <nil>".to_string()),
        Y::Uint(u) => return Err(format!("unsupported map key of type: uint64, key: 0x{u:x}")),
        Y::Seq(_) | Y::Map(_) => return Err(format!("invalid map key: {}", go_syntax(k))),
    })
}

/// Whether a plain scalar map key may be one [`key_string`] refuses or a missing key (empty,
/// null, or digits that may overflow an int64), or is a merge key (`<<`, whose value must be a
/// map or a list of maps), so that a fast reader leaves it to the decoder.
pub(super) fn key_may_not_convert(plain: &str) -> bool {
    matches!(plain, "" | "~" | "null" | "Null" | "NULL" | "<<")
        || (plain.len() >= 18 && plain.starts_with(|c: char| c.is_ascii_digit() || c == '+'))
}

/// [`key_string`] of a key in a map, whose error names the key's value too, as sigs.k8s.io/yaml's
/// does (`…, value: "c"`).
fn map_key(k: &Y, v: &Y) -> Result<String, String> {
    key_string(k).map_err(|e| match k {
        Y::Null | Y::Uint(_) => format!("{e}, value: {}", go_syntax(v)),
        _ => e,
    })
}

/// Go's `%#v` of a value go-yaml v2 decoded into `interface{}` (as its errors print keys and
/// values): maps are `map[interface {}]interface {}`, with their keys sorted as `fmt` sorts
/// them (by value within a type; Go orders different key types by an address of the type, so
/// the order among them here is only a fixed one).
pub(crate) fn go_syntax(y: &Y) -> String {
    use gotemplate::gofmt;
    // A nil held in an element of `[]interface {}` or `map[interface {}]interface {}`.
    let elem = |y: &Y| match y {
        Y::Null => "interface {}(nil)".to_string(),
        y => go_syntax(y),
    };
    match y {
        Y::Null => "<nil>".to_string(),
        Y::Bool(b) => b.to_string(),
        Y::Int(i) => i.to_string(),
        Y::Uint(u) => format!("0x{u:x}"),
        Y::Float(f) => gofmt::format_float_g(*f),
        Y::Str(s) => gofmt::quote(s),
        Y::Seq(items) => {
            let items: Vec<String> = items.iter().map(elem).collect();
            format!("[]interface {{}}{{{}}}", items.join(", "))
        }
        Y::Map(pairs) => {
            let rank = |y: &Y| match y {
                Y::Null => 0,
                Y::Bool(_) => 1,
                Y::Int(_) => 2,
                Y::Uint(_) => 3,
                Y::Float(_) => 4,
                Y::Str(_) => 5,
                Y::Seq(_) | Y::Map(_) => 6,
            };
            let mut sorted: Vec<&(Y, Y)> = pairs.iter().collect();
            sorted.sort_by(|(a, _), (b, _)| {
                rank(a).cmp(&rank(b)).then_with(|| match (a, b) {
                    (Y::Bool(x), Y::Bool(y)) => x.cmp(y),
                    (Y::Int(x), Y::Int(y)) => x.cmp(y),
                    (Y::Uint(x), Y::Uint(y)) => x.cmp(y),
                    (Y::Float(x), Y::Float(y)) => x.total_cmp(y),
                    (Y::Str(x), Y::Str(y)) => x.cmp(y),
                    _ => std::cmp::Ordering::Equal,
                })
            });
            let items: Vec<String> = sorted
                .iter()
                .map(|(k, v)| format!("{}:{}", elem(k), elem(v)))
                .collect();
            format!("map[interface {{}}]interface {{}}{{{}}}", items.join(", "))
        }
    }
}

/// libyaml's anchor and alias names are ASCII letters, digits, `_` and `-` (YAML 1.2, which the
/// parser follows, allows more): its scanner error for a name with anything else.
fn bad_anchor_name(name: &str, line: usize, col: usize, file: &str) -> Option<Error> {
    (!is_libyaml_anchor_name(name)).then(|| {
        Error::new(
            file,
            Some((line, col)),
            "while scanning an anchor or alias, did not find expected alphabetic or numeric character",
        )
    })
}

/// Whether libyaml's scanner reads all of `name` as an anchor or alias name.
pub(super) fn is_libyaml_anchor_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// libyaml wants a key before every `:` of a mapping except right after an explicit `?`, where
/// the parser (YAML 1.2, which allows it) reads an empty key. For the empty key at `at`, go-yaml's
/// error when it stands for a missing key: in a block mapping "did not find expected key", in a
/// flow one "did not find expected node content" (libyaml's words, as [`scan_error`] gives them).
fn missing_key(text: &str, at: Marker, flow: bool, file: &str) -> Option<Error> {
    let offset = at.byte_offset().or_else(|| {
        let line_start: usize = text
            .split_inclusive('\n')
            .take(at.line().saturating_sub(1))
            .map(str::len)
            .sum();
        let col: usize = text[line_start..]
            .chars()
            .take(at.col())
            .map(char::len_utf8)
            .sum();
        Some(line_start + col)
    })?;
    let (before, after) = (text.get(..offset)?, text.get(offset..)?);
    if !after.starts_with(':') || before.trim_end().ends_with('?') {
        return None;
    }
    let message = if flow {
        "while parsing a node, did not find expected node content"
    } else {
        "while parsing a block mapping, did not find expected key"
    };
    Some(Error::new(file, Some((at.line(), at.col() + 1)), message))
}

/// sigs.k8s.io/yaml's conversion errors name no line, and so no file either: the caller names
/// it (`cannot load values.yaml: error converting YAML to JSON: …`, as Helm prints).
fn conversion_error(m: String) -> Error {
    Error::new("", None, format!("error converting YAML to JSON: {m}"))
}

/// The JSON round trip of Helm's values: every number becomes a float64.
fn to_value(y: Y) -> Result<Value, Error> {
    Ok(match y {
        Y::Null => Value::Nil,
        Y::Bool(b) => Value::Bool(b),
        Y::Int(i) => Value::Float(i as f64),
        Y::Uint(u) => Value::Float(u as f64),
        Y::Float(f) if !f.is_finite() => {
            return Err(conversion_error(format!(
                "json: unsupported value: {}",
                go_nonfinite(f)
            )))
        }
        Y::Float(f) => Value::Float(f),
        Y::Str(s) => Value::str(s),
        Y::Seq(items) => Value::list(items.into_iter().map(to_value).collect::<Result<_, _>>()?),
        Y::Map(pairs) => {
            let mut m = std::collections::BTreeMap::new();
            for (k, v) in pairs {
                let k = map_key(&k, &v).map_err(conversion_error)?;
                m.insert(k, to_value(v)?);
            }
            Value::map_from(m)
        }
    })
}

fn go_nonfinite(f: f64) -> &'static str {
    if f.is_nan() {
        "NaN"
    } else if f > 0.0 {
        "+Inf"
    } else {
        "-Inf"
    }
}

fn to_json_value(y: Y) -> Result<serde_json::Value, String> {
    Ok(match y {
        Y::Null => serde_json::Value::Null,
        Y::Bool(b) => serde_json::Value::Bool(b),
        Y::Int(i) => i.into(),
        Y::Uint(u) => u.into(),
        Y::Float(f) => serde_json::Number::from_f64(f)
            .map(serde_json::Value::Number)
            .ok_or_else(|| format!("json: unsupported value: {}", go_nonfinite(f)))?,
        Y::Str(s) => serde_json::Value::String(s),
        Y::Seq(items) => {
            serde_json::Value::Array(items.into_iter().map(to_json_value).collect::<Result<_, _>>()?)
        }
        Y::Map(pairs) => {
            let mut m = serde_json::Map::new();
            for (k, v) in pairs {
                m.insert(map_key(&k, &v)?, to_json_value(v)?);
            }
            serde_json::Value::Object(m)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(v: &Value, k: &str) -> Value {
        v.as_map()
            .and_then(|m| m.borrow().get(k).cloned())
            .unwrap_or(Value::Str("<missing>".into()))
    }

    #[test]
    fn values_scalars() {
        // go-yaml v2 resolve.go, then the JSON round trip (numbers -> float64).
        let cases: &[(&str, &str, Value)] = &[
            ("yes", "v: yes", Value::Bool(true)),
            ("on", "v: on", Value::Bool(true)),
            ("y", "v: y", Value::Bool(true)),
            ("off", "v: Off", Value::Bool(false)),
            ("quoted yes", "v: \"yes\"", Value::str("yes")),
            ("octal", "v: 010", Value::Float(8.0)),
            ("invalid octal is float", "v: 08", Value::Float(8.0)),
            ("hex", "v: 0x1F", Value::Float(31.0)),
            ("underscores", "v: 1_000", Value::Float(1000.0)),
            (
                "big int rounds",
                "v: 12345678901234567",
                Value::Float(12345678901234568.0),
            ),
            (
                "timestamp stays string",
                "v: 2024-01-01",
                Value::str("2024-01-01"),
            ),
            ("float", "v: 1.5", Value::Float(1.5)),
            ("exp float", "v: 1e3", Value::Float(1000.0)),
            ("null", "v: ~", Value::Nil),
            ("empty", "v:", Value::Nil),
            ("str tag", "v: !!str 123", Value::str("123")),
            ("float tag on int", "v: !!float 1", Value::Float(1.0)),
            ("literal keeps text", "v: |\n  a\n  b", Value::str("a\nb")),
            ("binary", "v: !!binary aGk=", Value::str("hi")),
        ];
        for (name, text, want) in cases {
            let v = parse_values(text, "values.yaml").unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(get(&v, "v"), *want, "{name}");
        }
    }

    #[test]
    fn values_keys() {
        let cases: &[(&str, &str, &str)] = &[
            ("bool key", "yes: 1", "true"),
            ("int key", "1: 1", "1"),
            ("float key", "1.5: 1", "1.5"),
            ("float key via float32 format", "0.1: 1", "0.1"),
            ("on key", "on: 1", "true"),
        ];
        for (name, text, key) in cases {
            let v = parse_values(text, "f").unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(get(&v, key), Value::Float(1.0), "{name}");
        }
        assert!(
            parse_values("~: 1", "f").is_err(),
            "null keys are unsupported by sigs.k8s.io/yaml"
        );
    }

    #[test]
    fn merge_keys() {
        let text = "base: &b {a: 1, b: 2}\nx:\n  b: 3\n  <<: *b\n  c: 4\nw:\n  <<: [{a: 5}, {a: 6, d: 7}]\n";
        let v = parse_values(text, "f").unwrap();
        let x = get(&v, "x");
        // go-yaml v2 applies a merge where it appears: it overrides the earlier `b: 3`.
        assert_eq!(get(&x, "a"), Value::Float(1.0));
        assert_eq!(get(&x, "b"), Value::Float(2.0));
        assert_eq!(get(&x, "c"), Value::Float(4.0));
        let y = get(&v, "w");
        assert_eq!(
            get(&y, "a"),
            Value::Float(5.0),
            "earlier maps in a merge list win"
        );
        assert_eq!(get(&y, "d"), Value::Float(7.0));
    }

    #[test]
    fn values_documents() {
        assert_eq!(parse_values("", "f").unwrap(), Value::new_map(), "empty document");
        assert_eq!(parse_values("# only a comment\n", "f").unwrap(), Value::new_map());
        let e = parse_values("- a\n", "f").unwrap_err();
        assert!(
            e.message
                .contains("cannot unmarshal array into Go value of type map[string]interface {}"),
            "{e}"
        );
        assert_eq!(
            parse_values("a: 1\n---\nb: 2\n", "f").unwrap(),
            parse_values("a: 1", "f").unwrap(),
            "first doc only"
        );
        // A conversion error names no line, and so no file: the caller names the file, as
        // Helm's `cannot load values.yaml: error converting YAML to JSON: …` does.
        assert_eq!(
            parse_values("v: .inf", "f").unwrap_err().to_string(),
            "error converting YAML to JSON: json: unsupported value: +Inf"
        );
    }

    #[test]
    fn syntax_error_position() {
        let e = parse_values("a: 1\nb: [1, 2\nc: 3\n", "values.yaml").unwrap_err();
        assert_eq!(e.file, "values.yaml");
        assert!(e.line.is_some() && e.col.is_some(), "{e:?}");
        let e = parse_values("a: 1\n  b: 2\n", "values.yaml").unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
        assert!(e.to_string().starts_with("values.yaml:2:"), "{e}");
    }

    #[test]
    fn billion_laughs_rejected() {
        let mut text =
            String::from("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
        for w in names.windows(2) {
            let refs = vec![format!("*{}", w[0]); 9].join(",");
            text.push_str(&format!("{}: &{} [{refs}]\n", w[1], w[1]));
        }
        let e = parse_values(&text, "bomb.yaml").unwrap_err();
        assert!(e.message.contains("excessive aliasing"), "{e}");
        // Small documents with a few aliases are fine.
        assert!(parse_values("a: &a [1]\nb: *a\nc: *a\n", "f").is_ok());
    }

    /// go-yaml (YAML 1.1) reads NEL as a line break everywhere, the parser under ours (YAML 1.2)
    /// as text. Each `want` is what helm v3.17.2 gave for the values file (`toJson .Values`); the
    /// fuzzer found the first (a comment ended by a NEL).
    #[test]
    fn nel_is_a_line_break_as_in_go_yaml() {
        let table = [
            ("comment", "# c\u{85}a: 1\n", r#"{"a":1}"#),
            ("plain", "a: x\u{85}b: y\n", r#"{"a":"x","b":true}"#),
            ("plain folded", "a: x\u{85} y\n", r#"{"a":"x y"}"#),
            ("double-quoted", "a: \"x\u{85}y\"\n", r#"{"a":"x y"}"#),
            ("single-quoted, two", "a: 'x\u{85}\u{85}y'\n", r#"{"a":"x\ny"}"#),
            ("literal", "a: |\n  x\u{85}  y\n", r#"{"a":"x\ny\n"}"#),
            ("folded", "a: >\n  x\u{85}  y\n", r#"{"a":"x y\n"}"#),
            ("NEL then LF", "a: |\n  x\u{85}\n  y\n", r#"{"a":"x\n\ny\n"}"#),
            (
                "CR then NEL: two breaks",
                "a: x\r\u{85}b: y\n",
                r#"{"a":"x","b":true}"#,
            ),
        ];
        for (name, text, want) in table {
            for (path, v) in [
                ("parse_values", parse_values(text, "v.yaml")),
                ("general", parse_values_general(text, "v.yaml")),
            ] {
                let v = v.unwrap_or_else(|e| panic!("{name} ({path}): {e}"));
                assert_eq!(gotemplate::json::to_json(&v), want, "{name} ({path})");
            }
            let doc = &parse_documents(text, "m.yaml").unwrap()[0];
            assert_eq!(doc.to_string(), want, "{name} (manifest)");
        }
        // Helm: a string document, not a map.
        assert!(parse_values("k\u{85}: v\n", "v.yaml").is_err());
    }

    #[test]
    fn any_and_documents() {
        assert_eq!(
            parse_any("[1, two]", "f").unwrap(),
            Value::list(vec![Value::Float(1.0), Value::str("two")])
        );
        assert_eq!(
            parse_any("{\"a\": [true]}", "f")
                .unwrap()
                .as_map()
                .map(|m| m.borrow().len()),
            Some(1)
        );
        let docs = parse_documents("a: 1\nb: 1.5\n---\n- x\n---\n", "f").unwrap();
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[0], serde_json::json!({"a": 1, "b": 1.5}), "ints stay ints");
        assert_eq!(docs[1], serde_json::json!(["x"]));
        let keys: Vec<_> = parse_documents("z: 1\na: 2\n", "f").unwrap()[0]
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        assert_eq!(keys, ["z", "a"], "document order");
    }

    #[test]
    fn resolver_table() {
        let cases: &[(&str, &str)] = &[
            ("123", INT_TAG),
            ("-0b101", INT_TAG),
            ("0o17", INT_TAG),
            ("+1", INT_TAG),
            (".5", FLOAT_TAG),
            ("1e400", STR_TAG),
            ("2001-12-14t21:59:43.10Z", TIMESTAMP_TAG),
            ("2001-12-14 21:59:43.10", TIMESTAMP_TAG),
            ("2001-02-30", STR_TAG),
            ("NULL", NULL_TAG),
            ("<<", STR_TAG),
            ("yes", BOOL_TAG),
            ("0x", STR_TAG),
        ];
        for (s, tag) in cases {
            assert_eq!(resolve("", s).map(|r| r.0), Ok(*tag), "{s}");
        }
    }

    /// Issue 20 (limits): values may nest 10,000 levels, as go-yaml v2 (and so Helm) allows,
    /// in flow and block style; one level more is go-yaml's error, at its place. Parsed on a
    /// thread with the binary's stack (`main.rs`), as decoding and freeing recurse.
    #[test]
    fn nesting_depth_like_go_yaml() {
        let flow = |n: usize| format!("a: {}{}\n", "[".repeat(n), "]".repeat(n));
        let block = |n: usize| {
            let mut s: String = (0..n).map(|i| format!("{}a:\n", "  ".repeat(i))).collect();
            s.push_str(&format!("{}b: 1\n", "  ".repeat(n)));
            s
        };
        let cases = [
            ("flow 9999", flow(9999), Ok(())),
            (
                "flow 10001",
                flow(10_001),
                Err("values.yaml:1:10004: exceeded max depth of 10000"),
            ),
            ("block 9998", block(9998), Ok(())),
            ("block 10010", block(10_010), Err("exceeded max depth of 10000")),
        ];
        let h = std::thread::Builder::new()
            .stack_size(1 << 30)
            .spawn(move || {
                cases
                    .into_iter()
                    .map(|(name, text, want)| {
                        (
                            name,
                            parse_values(&text, "values.yaml")
                                .map(|_| ())
                                .map_err(|e| e.to_string()),
                            want,
                        )
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap_or_else(|e| panic!("{e}"));
        for (name, got, want) in h.join().unwrap_or_else(|_| panic!("deep YAML crashed")) {
            match (want, got) {
                (Ok(()), Ok(())) => {}
                (Err(w), Err(g)) => assert!(g.contains(w), "{name}: {g}"),
                (w, g) => panic!("{name}: want {w:?}, got {g:?}"),
            }
        }
    }
}
