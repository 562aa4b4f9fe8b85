//! `toToml`: BurntSushi/toml v1.4.0's encoder (what Helm's `toToml` calls), written out by hand.
//!
//! Its layout is specific: in every table the plain keys come first, then sub-tables, each group
//! sorted; nested table headers and their keys are indented two spaces per level; nil map values are
//! skipped; arrays whose elements are all maps become `[[arrays.of.tables]]`; floats always carry a
//! decimal point. Helm returns the error text instead of the document when encoding fails.

use gotemplate::json::{TooLong, MAX_TEXT};
use gotemplate::Value;

const INDENT: &str = "  ";

/// Helm's `toToml`: the TOML document, or the encoder's error message (also when the text would
/// be over [`MAX_TEXT`]; see [`to_toml_checked`]).
pub fn to_toml(v: &Value) -> String {
    match to_toml_checked(v) {
        Ok(text) => text,
        Err(e) => e.to_string(),
    }
}

/// [`to_toml`], with text over [`MAX_TEXT`] an error: every nested table header repeats the
/// whole key path, so a value nested 60,000 deep would be gigabytes of headers.
pub fn to_toml_checked(v: &Value) -> Result<String, TooLong> {
    to_toml_within(v, MAX_TEXT)
}

pub(super) fn to_toml_within(v: &Value, limit: usize) -> Result<String, TooLong> {
    let mut e = Encoder {
        out: String::new(),
        limit,
    };
    match e.encode(None, v) {
        Ok(()) if e.out.len() > limit => Err(TooLong { limit }),
        Ok(()) => Ok(e.out),
        Err(ERR_TOO_LONG) => Err(TooLong { limit }),
        Err(msg) => Ok(msg.to_string()),
    }
}

/// Marks the encoder stopping at its limit; never shown (the caller makes a [`TooLong`]).
const ERR_TOO_LONG: &str = "too long";

const ERR_NIL_ELEMENT: &str = "toml: cannot encode array with nil element";
const ERR_NO_KEY: &str = "toml: top-level values must be Go maps or structs";

#[derive(PartialEq)]
enum TomlType {
    Nil,
    Table,
    ArrayOfTables,
    Other,
}

/// The plain form of a struct-like object (`{}` when it has none).
fn plain(v: &Value) -> Value {
    match v {
        Value::Object(o) => o.to_plain().map_or_else(Value::new_map, |p| plain(&p)),
        other => other.clone(),
    }
}

fn toml_type(v: &Value) -> Result<TomlType, &'static str> {
    Ok(match plain(v) {
        Value::Nil => TomlType::Nil,
        Value::Map(_) => TomlType::Table,
        Value::List(l) if !l.is_empty() => {
            let mut all_tables = true;
            for x in l.iter() {
                match toml_type(x)? {
                    TomlType::Nil => return Err(ERR_NIL_ELEMENT),
                    TomlType::Table => {}
                    _ => all_tables = false,
                }
            }
            if all_tables {
                TomlType::ArrayOfTables
            } else {
                TomlType::Other
            }
        }
        _ => TomlType::Other,
    })
}

fn is_bare(k: &str) -> bool {
    k.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn key_piece(k: &str) -> String {
    if k.is_empty() {
        "\"\"".to_string()
    } else if is_bare(k) {
        k.to_string()
    } else {
        quote(k)
    }
}

/// A key path, innermost key first, each link in the frame of the call that added it: a value
/// nested n deep holds n keys, where a copied path per level held n²/2 (gigabytes at 20,000).
#[derive(Clone, Copy)]
struct Key<'a> {
    name: &'a str,
    parent: Path<'a>,
    len: usize,
}

/// The path of a value: `None` for the document itself.
type Path<'a> = Option<&'a Key<'a>>;

fn path_len(key: Path<'_>) -> usize {
    key.map_or(0, |k| k.len)
}

/// Writes the dotted path: written in place, one allocation, since every nested table header
/// repeats the whole path.
fn write_key_path(out: &mut String, key: Path<'_>) {
    let mut names = Vec::with_capacity(path_len(key));
    let mut at = key;
    while let Some(k) = at {
        names.push(k.name);
        at = k.parent;
    }
    for (i, name) in names.into_iter().rev().enumerate() {
        if i > 0 {
            out.push('.');
        }
        if !name.is_empty() && is_bare(name) {
            out.push_str(name);
        } else {
            out.push_str(&key_piece(name));
        }
    }
}

fn indent_for(key: Path<'_>) -> String {
    INDENT.repeat(path_len(key).saturating_sub(1))
}

struct Encoder {
    out: String,
    /// Most bytes to write, checked at each value encoded.
    limit: usize,
}

impl Encoder {
    fn newline(&mut self) {
        if !self.out.is_empty() {
            self.out.push('\n');
        }
    }

    fn encode(&mut self, key: Path<'_>, v: &Value) -> Result<(), &'static str> {
        if self.out.len() > self.limit {
            return Err(ERR_TOO_LONG);
        }
        let v = plain(v);
        match &v {
            Value::Nil => Ok(()),
            Value::Map(_) => self.table(key, &v),
            Value::List(_) if toml_type(&v)? == TomlType::ArrayOfTables => self.array_of_tables(key, &v),
            _ => self.key_value(key, &v, false),
        }
    }

    fn key_value(&mut self, key: Path<'_>, v: &Value, inline: bool) -> Result<(), &'static str> {
        if let Some(last) = key {
            self.out.push_str(&indent_for(key));
            self.out.push_str(&key_piece(last.name));
            self.out.push_str(" = ");
        }
        self.element(v)?;
        if key.is_some() && !inline {
            self.newline();
        }
        Ok(())
    }

    fn element(&mut self, v: &Value) -> Result<(), &'static str> {
        match plain(v) {
            // A nil in an inline position: the Go encoder has no case for it either.
            Value::Nil => return Err("toml: cannot encode a nil value"),
            Value::Bool(b) => self.out.push_str(if b { "true" } else { "false" }),
            Value::Int(i) | Value::Int64(i) => self.out.push_str(&i.to_string()),
            Value::Uint64(u) => self.out.push_str(&u.to_string()),
            Value::Float(f) => {
                if f.is_nan() {
                    self.out
                        .push_str(if f.is_sign_negative() { "-nan" } else { "nan" });
                } else if f.is_infinite() {
                    self.out.push_str(if f < 0.0 { "-inf" } else { "inf" });
                } else {
                    let s = gotemplate::gofmt::format_float(f, b'f', -1);
                    self.out.push_str(&s);
                    if !s.contains('.') {
                        self.out.push_str(".0");
                    }
                }
            }
            Value::Str(s) => self.out.push_str(&quote(&s)),
            // The text we write is UTF-8: each invalid byte becomes U+FFFD.
            Value::BStr(b) => self.out.push_str(&quote(b.text())),
            Value::Bytes(b) => {
                let items: Vec<String> = b.iter().map(u8::to_string).collect();
                self.out.push('[');
                self.out.push_str(&items.join(", "));
                self.out.push(']');
            }
            Value::List(l) => {
                self.out.push('[');
                for (i, x) in l.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    self.element(x)?;
                }
                self.out.push(']');
            }
            m @ Value::Map(_) => self.map(None, &m, true)?,
            Value::Object(_) => self.out.push_str("{}"),
        }
        Ok(())
    }

    fn table(&mut self, key: Path<'_>, v: &Value) -> Result<(), &'static str> {
        if path_len(key) == 1 {
            self.newline();
        }
        if key.is_some() {
            self.out.push_str(&indent_for(key));
            self.out.push('[');
            write_key_path(&mut self.out, key);
            self.out.push(']');
            self.newline();
        }
        self.map(key, v, false)
    }

    fn array_of_tables(&mut self, key: Path<'_>, v: &Value) -> Result<(), &'static str> {
        if key.is_none() {
            return Err(ERR_NO_KEY);
        }
        let Value::List(l) = v else { return Ok(()) };
        for item in l.iter() {
            let item = plain(item);
            if matches!(item, Value::Nil) {
                continue;
            }
            self.newline();
            self.out.push_str(&indent_for(key));
            self.out.push_str("[[");
            write_key_path(&mut self.out, key);
            self.out.push_str("]]");
            self.newline();
            self.map(key, &item, false)?;
        }
        Ok(())
    }

    fn map(&mut self, key: Path<'_>, v: &Value, inline: bool) -> Result<(), &'static str> {
        let Value::Map(m) = v else { return Ok(()) };
        let m = m.borrow();
        let mut direct = Vec::new();
        let mut sub = Vec::new();
        for (k, x) in m.iter() {
            match toml_type(x)? {
                TomlType::Table | TomlType::ArrayOfTables => sub.push((k, x)),
                _ => direct.push((k, x)),
            }
        }
        if inline {
            self.out.push('{');
        }
        let trail = !sub.is_empty();
        for (group, trail_comma) in [(direct, trail), (sub, false)] {
            let n = group.len();
            for (i, (k, x)) in group.into_iter().enumerate() {
                if matches!(plain(x), Value::Nil) {
                    continue;
                }
                if inline {
                    let alone = Key {
                        name: k,
                        parent: None,
                        len: 1,
                    };
                    self.key_value(Some(&alone), x, true)?;
                    if trail_comma || i != n - 1 {
                        self.out.push_str(", ");
                    }
                } else {
                    let path = Key {
                        name: k,
                        parent: key,
                        len: path_len(key) + 1,
                    };
                    self.encode(Some(&path), x)?;
                }
            }
        }
        if inline {
            self.out.push('}');
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_cases() {
        // Layout of BurntSushi/toml v1.4.0's encoder (encode.go: eMap, eTable, eArrayOfTables).
        let cases: &[(&str, Value, &str)] = &[
            (
                "scalars",
                Value::map_of([
                    ("a", Value::Int(1)),
                    ("b", Value::Float(2.0)),
                    ("c", Value::str("x\"y")),
                ]),
                "a = 1\nb = 2.0\nc = \"x\\\"y\"\n",
            ),
            (
                "tables after keys, indented",
                Value::map_of([
                    (
                        "t",
                        Value::map_of([("u", Value::map_of([("k", Value::Bool(true))]))]),
                    ),
                    ("z", Value::Int(1)),
                ]),
                "z = 1\n\n[t]\n  [t.u]\n    k = true\n",
            ),
            (
                "array of tables",
                Value::map_of([(
                    "arr",
                    Value::list(vec![
                        Value::map_of([("n", Value::Int(1))]),
                        Value::map_of([("n", Value::Int(2))]),
                    ]),
                )]),
                "[[arr]]\n  n = 1\n\n[[arr]]\n  n = 2\n",
            ),
            (
                "quoted key and nil skipped",
                Value::map_of([("a.b", Value::Int(1)), ("n", Value::Nil)]),
                "\"a.b\" = 1\n",
            ),
            (
                "inline array",
                Value::map_of([("l", Value::list(vec![Value::Int(1), Value::str("a")]))]),
                "l = [1, \"a\"]\n",
            ),
            (
                "top-level list",
                Value::list(vec![Value::new_map()]),
                "toml: top-level values must be Go maps or structs",
            ),
        ];
        for (name, v, want) in cases {
            assert_eq!(to_toml(v), *want, "{name}");
        }
    }
}
