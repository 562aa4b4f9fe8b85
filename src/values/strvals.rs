//! The `--set` family's little language (Helm's `pkg/strvals`): `a.b=c`, `a[0].b=c`, `a={x,y}`,
//! backslash escapes, and the per-flag value readers.
//!
//! Each flag differs only in how a value's text becomes a value: `--set` infers bool/null/int64,
//! `--set-string` keeps strings, `--set-file` reads the named file, `--set-json` decodes one JSON
//! value, and `--set-literal` takes the rest of the argument verbatim (no escapes, no lists). The
//! parser writes into an existing map, so later flags see (and may fail on) earlier ones' shapes;
//! Helm's failures there are Go panics it recovers as `unable to parse key: ...`, and those texts are
//! reproduced because users see them.

use gotemplate::gofmt::quote as go_quote;
use std::{cell::RefCell, collections::BTreeMap, rc::Rc};

use gotemplate::{Map, Value};

/// Helm's cap on a list index in `a[N]=...`.
pub const MAX_INDEX: i64 = 65536;
/// Helm's cap on `a.b.c...` nesting depth.
pub const MAX_NESTED_NAME_LEVEL: usize = 30;

/// How a value's text is turned into a value.
pub enum Reader<'a> {
    /// `--set` (`false`) and `--set-string` (`true`).
    Typed { strings: bool },
    /// `--set-file`: the text names a file whose content becomes the (string) value.
    File(&'a dyn Fn(&str) -> Result<Value, String>),
    /// `--set-json`: the value is one JSON document.
    Json,
}

/// Parses `--set`-style `s` into `dest` (Helm's `ParseInto`/`ParseIntoString`/`ParseIntoFile`/`ParseJSON`).
pub fn parse_into(s: &str, dest: &Map, reader: Reader<'_>) -> Result<(), String> {
    let mut p = Parser {
        src: s,
        pos: 0,
        reader,
        literal: false,
    };
    p.parse(dest)
}

/// Parses `--set-literal` text into `dest` (Helm's `ParseLiteralInto`).
pub fn parse_literal_into(s: &str, dest: &Map) -> Result<(), String> {
    let mut p = Parser {
        src: s,
        pos: 0,
        reader: Reader::Typed { strings: true },
        literal: true,
    };
    p.parse(dest)
}

/// Parses `s` as `--set` into a fresh map (Helm's `Parse`).
pub fn parse(s: &str) -> Result<Value, String> {
    let m = Value::new_map();
    let map = m.as_map().cloned().unwrap_or_default();
    parse_into(s, &map, Reader::Typed { strings: false })?;
    Ok(m)
}

/// Go's `io.EOF` is a control-flow signal in Helm's parser, distinct from real errors.
enum PErr {
    Eof,
    Msg(String),
}

type PResult<T> = Result<T, PErr>;

fn msg(s: impl Into<String>) -> PErr {
    PErr::Msg(s.into())
}

struct Parser<'s, 'r> {
    src: &'s str,
    pos: usize,
    reader: Reader<'r>,
    literal: bool,
}

impl Parser<'_, '_> {
    fn parse(&mut self, data: &Map) -> Result<(), String> {
        loop {
            match self.key(data, 0) {
                Ok(()) => continue,
                Err(PErr::Eof) => return Ok(()),
                Err(PErr::Msg(m)) => return Err(m),
            }
        }
    }

    fn read_rune(&mut self) -> Option<char> {
        let c = self.src[self.pos..].chars().next()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn unread_rune(&mut self, c: char) {
        self.pos -= c.len_utf8();
    }

    /// Reads up to (and consuming) a stop rune; `None` as the stop means end of input. Outside
    /// literal mode a backslash takes the next rune verbatim.
    fn runes_until(&mut self, stop: &[char]) -> (String, Option<char>) {
        let mut v = String::new();
        loop {
            let Some(r) = self.read_rune() else {
                return (v, None);
            };
            if stop.contains(&r) {
                return (v, Some(r));
            }
            if r == '\\' && !self.literal {
                let Some(next) = self.read_rune() else {
                    return (v, None);
                };
                v.push(next);
            } else {
                v.push(r);
            }
        }
    }

    fn key(&mut self, data: &Map, mut level: usize) -> PResult<()> {
        let stop: &[char] = if self.literal {
            &['=', '[', '.']
        } else {
            &['=', '[', ',', '.']
        };
        let (k, last) = self.runes_until(stop);
        match last {
            None => {
                if k.is_empty() {
                    Err(PErr::Eof)
                } else {
                    Err(msg(format!("key {} has no value", go_quote(&k))))
                }
            }
            Some('[') => {
                let i = self.key_index()?;
                let existing = data.borrow().get(&k).cloned();
                let list = match existing {
                    None => Vec::new(),
                    Some(Value::List(l)) => l.as_ref().clone(),
                    Some(other) => return Err(conversion_panic(&other, "[]interface {}")),
                };
                let (list, res) = self.list_item(list, i, level);
                set(data, &k, list.map_or(Value::Nil, Value::list));
                res
            }
            Some('=') => self.key_value(data, &k),
            Some(',') => {
                set(data, &k, Value::str(""));
                Err(msg(format!(
                    "key {} has no value (cannot end with ,)",
                    go_quote(&k)
                )))
            }
            Some(_) => {
                // '.': a nested map
                level += 1;
                if level > MAX_NESTED_NAME_LEVEL {
                    return Err(msg(format!(
                        "value name nested level is greater than maximum supported nested level of {MAX_NESTED_NAME_LEVEL}"
                    )));
                }
                let existing = data.borrow().get(&k).cloned();
                let inner: Map = match existing {
                    None => Rc::new(RefCell::new(BTreeMap::new())),
                    Some(Value::Map(m)) => m,
                    Some(other) => return Err(conversion_panic(&other, "map[string]interface {}")),
                };
                let e = self.key(&inner, level);
                let empty = inner.borrow().is_empty();
                if e.is_ok() && empty {
                    return Err(msg(format!("key map {} has no value", go_quote(&k))));
                }
                if !empty {
                    set(data, &k, Value::Map(inner));
                }
                e
            }
        }
    }

    /// The `key=` case: reads the value according to the reader and stores it.
    fn key_value(&mut self, data: &Map, k: &str) -> PResult<()> {
        if self.literal {
            let (v, _) = self.runes_until(&[]);
            set(data, k, Value::str(v));
            return Ok(());
        }
        if matches!(self.reader, Reader::Json) {
            if self.empty_val() {
                set(data, k, Value::Nil);
                return Ok(());
            }
            let v = self.json_value()?;
            set(data, k, v);
            self.empty_val();
            return Ok(());
        }
        match self.val_list() {
            Ok(vl) => {
                set(data, k, Value::list(vl));
                Ok(())
            }
            Err(ListErr::Eof) => {
                set(data, k, Value::str(""));
                Err(PErr::Eof)
            }
            Err(ListErr::NotList) => {
                let rs = self.val();
                let (v, e) = match self.read_value(&rs) {
                    Ok(v) => (v, Ok(())),
                    Err(e) => (Value::Nil, Err(e)),
                };
                set(data, k, v);
                e
            }
            Err(ListErr::Other(e)) => Err(e),
        }
    }

    fn key_index(&mut self) -> PResult<i64> {
        let (v, last) = self.runes_until(&[']']);
        if last.is_none() {
            return Err(msg("error parsing index: EOF"));
        }
        go_atoi(&v).map_err(|e| msg(format!("error parsing index: {e}")))
    }

    /// Sets element `i` of `list` from what follows `[i]`. Returns the list to store (`None` stores
    /// nil, as Helm does on an unexpected token) and the outcome.
    fn list_item(&mut self, mut list: Vec<Value>, i: i64, level: usize) -> (Option<Vec<Value>>, PResult<()>) {
        if i < 0 {
            return (Some(list), Err(msg(format!("negative {i} index not allowed"))));
        }
        let (k, last) = self.runes_until(&['[', '.', '=']);
        if !k.is_empty() {
            return (
                Some(list),
                Err(msg(format!(
                    "unexpected data at end of array index: {}",
                    go_quote_runes(&k)
                ))),
            );
        }
        match last {
            None => (Some(list), Err(PErr::Eof)),
            Some('=') => {
                if self.literal {
                    let (v, _) = self.runes_until(&[]);
                    return set_index(list, i, Value::str(v));
                }
                if matches!(self.reader, Reader::Json) {
                    if self.empty_val() {
                        return set_index(list, i, Value::Nil);
                    }
                    let v = match self.json_value() {
                        Ok(v) => v,
                        Err(e) => return (Some(list), Err(e)),
                    };
                    let (list, res) = set_index(list, i, v);
                    if res.is_err() {
                        return (list, res);
                    }
                    self.empty_val();
                    return (list, Ok(()));
                }
                match self.val_list() {
                    Ok(vl) => set_index(list, i, Value::list(vl)),
                    Err(ListErr::Eof) => set_index(list, i, Value::str("")),
                    Err(ListErr::NotList) => {
                        let rs = self.val();
                        match self.read_value(&rs) {
                            Ok(v) => set_index(list, i, v),
                            Err(e) => (Some(list), Err(e)),
                        }
                    }
                    Err(ListErr::Other(e)) => (Some(list), Err(e)),
                }
            }
            Some('[') => {
                let next_i = match self.key_index() {
                    Ok(n) => n,
                    Err(e) => return (Some(list), Err(e)),
                };
                let current = match list.get(i as usize) {
                    None | Some(Value::Nil) => Vec::new(),
                    Some(Value::List(l)) => l.as_ref().clone(),
                    Some(other) => {
                        let e = conversion_panic(other, "[]interface {}");
                        return (Some(list), Err(e));
                    }
                };
                // `a[0][0]...` nests one call per index: Helm takes ~22,400 of them on Go's
                // growing stack, so ours grows onto the heap.
                let (inner, res) =
                    stacker::maybe_grow(64 * 1024, 1 << 20, || self.list_item(current, next_i, level));
                if res.is_err() {
                    return (Some(list), res);
                }
                set_index(list, i, inner.map_or(Value::Nil, Value::list))
            }
            Some('.') => {
                let mut inner: Map = Rc::new(RefCell::new(BTreeMap::new()));
                if let Some(slot) = list.get_mut(i as usize) {
                    match slot {
                        Value::Map(m) => inner = m.clone(),
                        _ => *slot = Value::Map(inner.clone()),
                    }
                }
                if let Err(e) = self.key(&inner, level) {
                    return (Some(list), Err(e));
                }
                set_index(list, i, Value::Map(inner))
            }
            Some(other) => (
                None,
                Err(msg(format!("parse error: unexpected token {}", other as u32))),
            ),
        }
    }

    /// Skips spaces; true at end of input or a `,` (an empty `--set-json` value).
    fn empty_val(&mut self) -> bool {
        loop {
            let Some(r) = self.read_rune() else { return true };
            if r == ',' {
                return true;
            }
            if !r.is_whitespace() {
                self.unread_rune(r);
                return false;
            }
        }
    }

    /// Decodes one JSON value at the cursor, as Go's `json.Decoder` does (numbers become float64).
    fn json_value(&mut self) -> PResult<Value> {
        let rest = &self.src[self.pos..];
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<serde_json::Value>();
        match stream.next() {
            Some(Ok(v)) => {
                self.pos += stream.byte_offset();
                Ok(Value::from_json(&v, false))
            }
            Some(Err(e)) => Err(msg(e.to_string())),
            None => Err(msg("EOF")),
        }
    }

    /// A plain value: everything up to the next unescaped `,`.
    fn val(&mut self) -> String {
        self.runes_until(&[',']).0
    }

    fn val_list(&mut self) -> Result<Vec<Value>, ListErr> {
        let Some(r) = self.read_rune() else {
            return Err(ListErr::Eof);
        };
        if r != '{' {
            self.unread_rune(r);
            return Err(ListErr::NotList);
        }
        let mut list = Vec::new();
        loop {
            let (rs, last) = self.runes_until(&[',', '}']);
            match last {
                None => return Err(ListErr::Other(msg("list must terminate with '}'"))),
                Some('}') => {
                    if let Some(r) = self.read_rune() {
                        if r != ',' {
                            self.unread_rune(r);
                        }
                    }
                    let v = self.read_value(&rs).map_err(ListErr::Other)?;
                    list.push(v);
                    return Ok(list);
                }
                Some(_) => {
                    let v = self.read_value(&rs).map_err(ListErr::Other)?;
                    list.push(v);
                }
            }
        }
    }

    fn read_value(&self, rs: &str) -> PResult<Value> {
        match &self.reader {
            Reader::Typed { strings } => Ok(typed_val(rs, *strings)),
            Reader::File(read) => read(rs).map_err(PErr::Msg),
            Reader::Json => Ok(typed_val(rs, false)),
        }
    }
}

enum ListErr {
    Eof,
    NotList,
    Other(PErr),
}

fn set(data: &Map, key: &str, val: Value) {
    if !key.is_empty() {
        data.borrow_mut().insert(key.to_string(), val);
    }
}

fn set_index(mut list: Vec<Value>, index: i64, val: Value) -> (Option<Vec<Value>>, PResult<()>) {
    if index < 0 {
        return (
            Some(list),
            Err(msg(format!("negative {index} index not allowed"))),
        );
    }
    if index > MAX_INDEX {
        return (
            Some(list),
            Err(msg(format!(
                "index of {index} is greater than maximum supported index of {MAX_INDEX}"
            ))),
        );
    }
    let index = index as usize;
    if list.len() <= index {
        list.resize(index + 1, Value::Nil);
    }
    list[index] = val;
    (Some(list), Ok(()))
}

/// The message Go prints when Helm's parser asserts a value to a type it does not have.
fn conversion_panic(v: &Value, want: &str) -> PErr {
    let have = match v {
        Value::Nil => "nil",
        other => other.type_name(),
    };
    msg(format!(
        "unable to parse key: interface conversion: interface {{}} is {have}, not {want}"
    ))
}

/// Helm's `typedVal`: `--set` infers bools, null and int64 (case-insensitively for the words);
/// numbers with a leading zero stay strings so that `0123` keeps its digits.
pub fn typed_val(val: &str, strings: bool) -> Value {
    if strings {
        return Value::str(val);
    }
    if val.eq_ignore_ascii_case("true") {
        return Value::Bool(true);
    }
    if val.eq_ignore_ascii_case("false") {
        return Value::Bool(false);
    }
    if val.eq_ignore_ascii_case("null") {
        return Value::Nil;
    }
    if val == "0" {
        return Value::Int64(0);
    }
    if !val.is_empty() && !val.starts_with('0') {
        if let Ok(i) = go_atoi(val) {
            return Value::Int64(i);
        }
    }
    Value::str(val)
}

/// Go's `strconv.Atoi` on a 64-bit platform, with its error texts.
fn go_atoi(s: &str) -> Result<i64, String> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("strconv.Atoi: parsing {}: invalid syntax", go_quote(s)));
    }
    s.parse::<i64>()
        .map_err(|_| format!("strconv.Atoi: parsing {}: value out of range", go_quote(s)))
}

/// Go's `%q` of a `[]rune`: each rune as a Go character literal, space-separated in brackets.
fn go_quote_runes(s: &str) -> String {
    let runes: Vec<String> = s.chars().map(gotemplate::gofmt::quote_rune).collect();
    format!("[{}]", runes.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &str, reader: Reader<'_>) -> Result<serde_json::Value, String> {
        let m = Value::new_map();
        parse_into(input, m.as_map().unwrap(), reader)?;
        Ok(to_json_typed(&m))
    }

    /// JSON with ints and floats told apart (floats get a trailing marker) so tables check types.
    fn to_json_typed(v: &Value) -> serde_json::Value {
        match v {
            Value::Float(f) => serde_json::json!(format!("float:{f}")),
            Value::List(l) => serde_json::Value::Array(l.iter().map(to_json_typed).collect()),
            Value::Map(m) => serde_json::Value::Object(
                m.borrow()
                    .iter()
                    .map(|(k, v)| (k.clone(), to_json_typed(v)))
                    .collect(),
            ),
            other => other.to_json(),
        }
    }

    // Cases from helm v3.17.2 pkg/strvals/parser_test.go (TestParseSet, TestParseInto,
    // TestParseSetNestedLevels, TestParseJSON, TestParseLiteral...), expected values as there.
    #[test]
    fn parse_set_table() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            (
                "name1=null,f=false,t=true",
                "set: null/bools",
                Some(r#"{"name1":null,"f":false,"t":true}"#),
            ),
            ("name1=value1", "set: simple", Some(r#"{"name1":"value1"}"#)),
            (
                "name1=value1,name2=value2",
                "set: two",
                Some(r#"{"name1":"value1","name2":"value2"}"#),
            ),
            (
                "name1=value1,name2=value2,",
                "set: trailing comma",
                Some(r#"{"name1":"value1","name2":"value2"}"#),
            ),
            (
                "name1=,name2=value2",
                "set: empty value",
                Some(r#"{"name1":"","name2":"value2"}"#),
            ),
            (
                "leading_zeros=00009",
                "set: leading zeros",
                Some(r#"{"leading_zeros":"00009"}"#),
            ),
            ("zero_int=0", "set: zero", Some(r#"{"zero_int":0}"#)),
            (
                "long_int=1234567890",
                "set: long",
                Some(r#"{"long_int":1234567890}"#),
            ),
            ("boolean=true", "set: bool", Some(r#"{"boolean":true}"#)),
            ("is_null=null", "set: null", Some(r#"{"is_null":null}"#)),
            ("zero=0", "set: zero 2", Some(r#"{"zero":0}"#)),
            ("name1,name2=", "set: key without value", None),
            ("name1,name2=value2", "set: key without value 2", None),
            ("name1,name2=value2\\", "set: trailing escape", None),
            ("name1,name2", "set: only keys", None),
            (
                "name1=one\\,two,name2=three\\,four",
                "set: escaped commas",
                Some(r#"{"name1":"one,two","name2":"three,four"}"#),
            ),
            (
                "name1=one\\=two,name2=three\\=four",
                "set: escaped equals",
                Some(r#"{"name1":"one=two","name2":"three=four"}"#),
            ),
            (
                "name1=one two three,name2=three two one",
                "set: spaces",
                Some(r#"{"name1":"one two three","name2":"three two one"}"#),
            ),
            (
                "outer.inner=value",
                "set: nested",
                Some(r#"{"outer":{"inner":"value"}}"#),
            ),
            (
                "outer.middle.inner=value",
                "set: nested 2",
                Some(r#"{"outer":{"middle":{"inner":"value"}}}"#),
            ),
            (
                "outer.inner1=value,outer.inner2=value2",
                "set: siblings",
                Some(r#"{"outer":{"inner1":"value","inner2":"value2"}}"#),
            ),
            (
                "outer.inner1=value,outer.middle.inner=value",
                "set: mixed depth",
                Some(r#"{"outer":{"inner1":"value","middle":{"inner":"value"}}}"#),
            ),
            ("name1.name2", "set: dotted no value", None),
            ("name1.name2,name1.name3", "set: dotted no value 2", None),
            ("name1.=name2", "set: empty nested key", None),
            ("name1.,name2", "set: empty nested key 2", None),
            (
                "name1={value1,value2}",
                "set: list",
                Some(r#"{"name1":["value1","value2"]}"#),
            ),
            (
                "name1={value1,value2},name2={value1,value2}",
                "set: two lists",
                Some(r#"{"name1":["value1","value2"],"name2":["value1","value2"]}"#),
            ),
            (
                "name1={1021,902}",
                "set: int list",
                Some(r#"{"name1":[1021,902]}"#),
            ),
            (
                "name1.name2={value1,value2}",
                "set: nested list",
                Some(r#"{"name1":{"name2":["value1","value2"]}}"#),
            ),
            ("name1={1021,902", "set: unterminated list", None),
            ("list[0]=foo", "set: index", Some(r#"{"list":["foo"]}"#)),
            (
                "list[0].foo=bar",
                "set: index then key",
                Some(r#"{"list":[{"foo":"bar"}]}"#),
            ),
            (
                "list[0].foo=bar,list[0].hello=world",
                "set: index keys",
                Some(r#"{"list":[{"foo":"bar","hello":"world"}]}"#),
            ),
            (
                "list[0].foo=bar,list[-30].hello=world",
                "set: negative index",
                None,
            ),
            (
                "list[0]=foo,list[1]=bar",
                "set: two indexes",
                Some(r#"{"list":["foo","bar"]}"#),
            ),
            (
                "list[0]=foo,list[1]=bar,",
                "set: two indexes trailing comma",
                Some(r#"{"list":["foo","bar"]}"#),
            ),
            (
                "list[0]=foo,list[3]=bar",
                "set: sparse",
                Some(r#"{"list":["foo",null,null,"bar"]}"#),
            ),
            ("list[0]=foo,list[-20]=bar", "set: negative index 2", None),
            ("illegal[0]name.foo=bar", "set: data after index", None),
            ("noval[0]", "set: index without value", Some(r#"{"noval":[]}"#)),
            ("noval[0]=", "set: index empty value", Some(r#"{"noval":[""]}"#)),
            ("nested[0][0]=1", "set: nested index", Some(r#"{"nested":[[1]]}"#)),
            (
                "nested[1][1]=1",
                "set: nested sparse",
                Some(r#"{"nested":[null,[null,1]]}"#),
            ),
            (
                "name1.name2[0].foo=bar,name1.name2[1].foo=bar",
                "set: list of maps in map",
                Some(r#"{"name1":{"name2":[{"foo":"bar"},{"foo":"bar"}]}}"#),
            ),
            (
                "name1.name2[1].foo=bar,name1.name2[0].foo=bar",
                "set: list of maps reversed",
                Some(r#"{"name1":{"name2":[{"foo":"bar"},{"foo":"bar"}]}}"#),
            ),
            (
                "name1.name2[1].foo=bar",
                "set: list of maps sparse",
                Some(r#"{"name1":{"name2":[null,{"foo":"bar"}]}}"#),
            ),
            ("]={}].", "set: garbage", None),
            ("a[65537]=1", "set: index over max", None),
            ("a[65536]=1", "set: index at max", Some("max")),
            (
                "key=\\u0041",
                "set: backslash escapes a rune only",
                Some(r#"{"key":"u0041"}"#),
            ),
            (
                "a=TRUE,b=Null,c=-5,d=+7,e=1.5,f=9223372036854775808",
                "set: inference",
                Some(r#"{"a":true,"b":null,"c":-5,"d":7,"e":"1.5","f":"9223372036854775808"}"#),
            ),
        ];
        for (input, name, want) in cases {
            let got = run(input, Reader::Typed { strings: false });
            match (want, got) {
                (None, Ok(v)) => panic!("{name}: expected an error, got {v}"),
                (None, Err(_)) => {}
                (Some("max"), Ok(v)) => assert_eq!(v["a"].as_array().map(Vec::len), Some(65537), "{name}"),
                (Some(w), Ok(v)) => {
                    let w: serde_json::Value = serde_json::from_str(w).unwrap();
                    assert_eq!(v, w, "{name}");
                }
                (Some(_), Err(e)) => panic!("{name}: unexpected error {e}"),
            }
        }
    }

    /// Issue 20: `--set` with ~22,400 nested list indexes overflowed the stack; Helm takes them.
    /// On a thread with the binary's stack (`main.rs`): freeing the nested lists recurses.
    #[test]
    fn deeply_nested_indexes() {
        const N: usize = 30_000;
        let h = std::thread::Builder::new()
            .stack_size(1 << 30)
            .spawn(|| {
                let v = parse(&format!("a{}=1", "[0]".repeat(N))).map_err(|e| e.to_string())?;
                let mut cur = v.as_map().and_then(|m| m.borrow().get("a").cloned());
                let mut depth = 0;
                while let Some(Value::List(l)) = cur {
                    depth += 1;
                    cur = l.first().cloned();
                }
                // Values hold `Rc`s: only their description leaves the thread.
                Ok::<_, String>((depth, format!("{cur:?}")))
            })
            .unwrap_or_else(|e| panic!("{e}"));
        let (depth, leaf) = h
            .join()
            .unwrap_or_else(|_| panic!("nested indexes crashed"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(depth, N);
        assert_eq!(leaf, format!("{:?}", Some(Value::Int64(1))));
    }

    #[test]
    fn parse_set_errors_table() {
        let cases: &[(&str, &str, &str)] = &[
            ("name1,name2=", "no value", r#"key "name1" has no value (cannot end with ,)"#),
            ("name1.name2", "nested no value", r#"key "name2" has no value"#),
            ("name1.=name2", "empty nested", r#"key map "name1" has no value"#),
            ("list[-30].hello=world", "negative", "negative -30 index not allowed"),
            ("illegal[0]name.foo=bar", "after index", "unexpected data at end of array index: ['n' 'a' 'm' 'e']"),
            ("a[65537]=1", "max", "index of 65537 is greater than maximum supported index of 65536"),
            ("name1={1021,902", "unterminated", "list must terminate with '}'"),
            ("a[x]=1", "bad index", r#"error parsing index: strconv.Atoi: parsing "x": invalid syntax"#),
            ("a=1,a.b=2", "scalar then map",
                "unable to parse key: interface conversion: interface {} is int64, not map[string]interface {}"),
            (
                "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.a1.a2.a3.a4.a5.a6=1",
                "nesting",
                "value name nested level is greater than maximum supported nested level of 30",
            ),
        ];
        for (input, name, want) in cases {
            let got = run(input, Reader::Typed { strings: false });
            assert_eq!(got.err().as_deref(), Some(*want), "{name}");
        }
    }

    #[test]
    fn parse_set_string_table() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "long_int_string=1234567890",
                "string: long int",
                r#"{"long_int_string":"1234567890"}"#,
            ),
            ("boolean=true", "string: bool", r#"{"boolean":"true"}"#),
            ("is_null=null", "string: null", r#"{"is_null":"null"}"#),
            ("zero=0", "string: zero", r#"{"zero":"0"}"#),
            ("name1={1021,902}", "string: list", r#"{"name1":["1021","902"]}"#),
        ];
        for (input, name, want) in cases {
            let got = run(input, Reader::Typed { strings: true }).unwrap();
            assert_eq!(
                got,
                serde_json::from_str::<serde_json::Value>(want).unwrap(),
                "{name}"
            );
        }
    }

    #[test]
    fn parse_json_table() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("outer.inner1=\"1\",outer.inner3={\"aa\":\"1\",\"bb\":2,\"cc\":[1,2,3]},outer.inner4=[{\"aa\":\"1\",\"bb\":2}]",
                "json: mixed",
                Some(r#"{"outer":{"inner1":"1","inner3":{"aa":"1","bb":"float:2","cc":["float:1","float:2","float:3"]},"inner4":[{"aa":"1","bb":"float:2"}]}}"#)),
            ("outer.inner1=null,outer.inner2=", "json: nulls", Some(r#"{"outer":{"inner1":null,"inner2":null}}"#)),
            ("outer.inner1={\"aa\":\"1\",\"bb\":2", "json: unterminated", None),
            ("a[1]=true", "json: index", Some(r#"{"a":[null,true]}"#)),
        ];
        for (input, name, want) in cases {
            let got = run(input, Reader::Json);
            match (want, got) {
                (None, Err(_)) => {}
                (Some(w), Ok(v)) => {
                    assert_eq!(v, serde_json::from_str::<serde_json::Value>(w).unwrap(), "{name}")
                }
                (w, g) => panic!("{name}: want {w:?}, got {g:?}"),
            }
        }
    }

    #[test]
    fn parse_literal_table() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("name", "literal: no value", None),
            (
                "long_int_string=1234567890",
                "literal: number",
                Some(r#"{"long_int_string":"1234567890"}"#),
            ),
            ("boolean=true", "literal: bool", Some(r#"{"boolean":"true"}"#)),
            (
                "name=value1,value2",
                "literal: commas kept",
                Some(r#"{"name":"value1,value2"}"#),
            ),
            (
                "name={value1,value2}",
                "literal: braces kept",
                Some(r#"{"name":"{value1,value2}"}"#),
            ),
            (
                "name=value1\\,value2",
                "literal: backslash kept",
                Some(r#"{"name":"value1\\,value2"}"#),
            ),
            (
                "name=\"value\"",
                "literal: quotes kept",
                Some(r#"{"name":"\"value\""}"#),
            ),
            (
                "outer.inner=value",
                "literal: nested",
                Some(r#"{"outer":{"inner":"value"}}"#),
            ),
            (
                "list[0].foo=bar",
                "literal: index",
                Some(r#"{"list":[{"foo":"bar"}]}"#),
            ),
            (
                "nested[1][1]=1",
                "literal: nested index",
                Some(r#"{"nested":[null,[null,"1"]]}"#),
            ),
            ("a=b=c", "literal: equals kept", Some(r#"{"a":"b=c"}"#)),
        ];
        for (input, name, want) in cases {
            let m = Value::new_map();
            let got = parse_literal_into(input, m.as_map().unwrap()).map(|()| m.to_json());
            match (want, got) {
                (None, Err(_)) => {}
                (Some(w), Ok(v)) => {
                    assert_eq!(v, serde_json::from_str::<serde_json::Value>(w).unwrap(), "{name}")
                }
                (w, g) => panic!("{name}: want {w:?}, got {g:?}"),
            }
        }
    }

    #[test]
    fn parse_into_existing_table() {
        // TestParseInto: later --set values merge into what is there.
        let m = Value::new_map();
        let map = m.as_map().unwrap();
        parse_into(
            "outer.inner1=value1,outer.inner3[0]=value3",
            map,
            Reader::Typed { strings: false },
        )
        .unwrap();
        parse_into(
            "outer.inner2=value2,outer.inner3[1]=value4",
            map,
            Reader::Typed { strings: false },
        )
        .unwrap();
        let want = serde_json::json!({"outer": {"inner1": "value1", "inner2": "value2", "inner3": ["value3", "value4"]}});
        assert_eq!(m.to_json(), want);
    }

    #[test]
    fn parse_file_reader() {
        let read = |p: &str| -> Result<Value, String> { Ok(Value::str(format!("content of {p}"))) };
        let got = run("a.b=path/x.txt,c=y", Reader::File(&read)).unwrap();
        assert_eq!(
            got,
            serde_json::json!({"a": {"b": "content of path/x.txt"}, "c": "content of y"})
        );
    }
}
