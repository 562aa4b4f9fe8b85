//! Go's `encoding/json` output for template values: `toJson`, `toPrettyJson`, `toRawJson`.
//!
//! serde_json differs from Go in ways that show up in rendered manifests: Go escapes `<`, `>` and
//! `&` as `\u003c`... (unless HTML escaping is off), escapes U+2028/U+2029, writes floats as
//! `1e+21`/`1e-7` with its own thresholds, and base64-encodes `[]byte`. So the text is built here.

use std::fmt;

use crate::{gofmt::format_float, gostr::json_string_into, Value};

/// Most bytes one function's text may be (256 MiB): the JSON marshaller here, and the callers'
/// own encoders (`toYaml`, `toToml`), stop there. Go has no bound: `toPrettyJson` of a value
/// nested 60,000 deep is 3.6 GB of indentation, and a process that cannot have it aborts. No
/// manifest comes near (the API server takes ~1.5 MB an object); a quarter of a template's output
/// cap (1 GiB) keeps the memory a runaway call holds, with the doubling of its growing buffer,
/// under that cap.
pub const MAX_TEXT: usize = 1 << 28;

/// The text of a value would be longer than its limit ([`MAX_TEXT`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooLong {
    /// The limit, in bytes.
    pub limit: usize,
}

impl fmt::Display for TooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.limit == MAX_TEXT {
            write!(
                f,
                "the text would be over 256 MiB, the limit on one function's output"
            )
        } else {
            write!(f, "the text would be over {} bytes", self.limit)
        }
    }
}

impl std::error::Error for TooLong {}

/// Depth past which encoding/json starts looking for cycles (`startDetectingCyclesAfter`);
/// deeper values that are not cyclic marshal fine, as in Go.
pub const CYCLE_CHECK_DEPTH: usize = 1000;

/// How Go's `encoding/json` writes a float64 (`None` for NaN and infinities, which it refuses).
pub fn json_float(f: f64) -> Option<String> {
    if !f.is_finite() {
        return None;
    }
    let a = f.abs();
    if a != 0.0 && !(1e-6..1e21).contains(&a) {
        let s = format_float(f, b'e', -1);
        // encoding/json shortens "e-07" to "e-7".
        Some(match s.split_once("e-0") {
            Some((m, d)) if d.len() == 1 => format!("{m}e-{d}"),
            _ => s,
        })
    } else {
        Some(format_float(f, b'f', -1))
    }
}

/// Why a value has no JSON text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MarshalError {
    /// `encoding/json`'s own error (`json: unsupported value: NaN`, a cycle): the non-`must`
    /// functions turn it into `""` as Sprig does.
    Go(String),
    /// Over [`MAX_TEXT`]: always an error, where Go would try to allocate it.
    TooLong(TooLong),
}

impl fmt::Display for MarshalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MarshalError::Go(msg) => f.write_str(msg),
            MarshalError::TooLong(e) => e.fmt(f),
        }
    }
}

/// Helm's `toJson` (`json.Marshal`); `""` when marshalling fails (NaN or infinite floats) or the
/// text would be over [`MAX_TEXT`] (see [`to_json_checked`]).
pub fn to_json(v: &Value) -> String {
    marshal(v, true, None).unwrap_or_default()
}

/// The template functions that swallow Go's errors (`toJson`, `toPrettyJson`): `""` for those,
/// but text over [`MAX_TEXT`] is an error.
pub fn to_json_checked(v: &Value, escape_html: bool, indent: Option<&str>) -> Result<String, TooLong> {
    match marshal_within(v, escape_html, indent, MAX_TEXT) {
        Ok(s) => Ok(s),
        Err(MarshalError::Go(_)) => Ok(String::new()),
        Err(MarshalError::TooLong(e)) => Err(e),
    }
}

/// Sprig's `toPrettyJson` (`json.MarshalIndent(v, "", "  ")`); `""` on failure.
pub fn to_pretty_json(v: &Value) -> String {
    marshal(v, true, Some("  ")).unwrap_or_default()
}

/// Sprig's `toRawJson` (no HTML escaping); `""` on failure (see [`to_raw_json_checked`]).
pub fn to_raw_json(v: &Value) -> String {
    to_raw_json_checked(v).unwrap_or_default()
}

/// Sprig's `mustToRawJson`: the error is Go's message (`json: unsupported value: NaN`).
pub fn to_raw_json_checked(v: &Value) -> Result<String, String> {
    marshal(v, false, None)
}

/// `json.Marshal` with or without HTML escaping, optionally indented like `MarshalIndent`; the
/// error is Go's message or the [`MAX_TEXT`] one (the `must` functions return either).
pub fn marshal(v: &Value, escape_html: bool, indent: Option<&str>) -> Result<String, String> {
    marshal_within(v, escape_html, indent, MAX_TEXT).map_err(|e| e.to_string())
}

/// [`marshal`] with its errors told apart and the length limit given.
pub fn marshal_within(
    v: &Value,
    escape_html: bool,
    indent: Option<&str>,
    limit: usize,
) -> Result<String, MarshalError> {
    let mut out = String::new();
    let mut w = Writer {
        out: &mut out,
        escape_html,
        indent,
        limit,
    };
    w.value(v, 0)?;
    if w.out.len() > limit {
        return Err(MarshalError::TooLong(TooLong { limit }));
    }
    Ok(out)
}

struct Writer<'a> {
    out: &'a mut String,
    escape_html: bool,
    indent: Option<&'a str>,
    /// Most bytes to write, checked at each value: the overshoot is one scalar and one
    /// indentation at most, both bounded by the input.
    limit: usize,
}

impl Writer<'_> {
    fn newline(&mut self, depth: usize) {
        if let Some(ind) = self.indent {
            self.out.push('\n');
            for _ in 0..depth {
                self.out.push_str(ind);
            }
        }
    }

    fn value(&mut self, v: &Value, depth: usize) -> Result<(), MarshalError> {
        if self.out.len() > self.limit {
            return Err(MarshalError::TooLong(TooLong { limit: self.limit }));
        }
        // encoding/json looks for cycles only past 1000 levels; a deeper value that is not
        // cyclic marshals, as in Go. Checked once, at the first level past it: a walk that
        // would never end passes through that level inside the cycle.
        if depth == CYCLE_CHECK_DEPTH + 1 && v.has_cycle() {
            return Err(MarshalError::Go(
                "json: unsupported value: encountered a cycle".to_string(),
            ));
        }
        match v {
            Value::Nil => self.out.push_str("null"),
            Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) | Value::Int64(i) => self.out.push_str(&i.to_string()),
            Value::Uint64(u) => self.out.push_str(&u.to_string()),
            Value::Float(f) => match json_float(*f) {
                Some(s) => self.out.push_str(&s),
                None => {
                    let name = if f.is_nan() {
                        "NaN"
                    } else if *f > 0.0 {
                        "+Inf"
                    } else {
                        "-Inf"
                    };
                    return Err(MarshalError::Go(format!("json: unsupported value: {name}")));
                }
            },
            Value::Str(s) => self.string(s),
            // encoding/json writes each invalid byte as U+FFFD.
            Value::BStr(b) => {
                self.out.push('"');
                for chunk in b.utf8_chunks() {
                    let start = self.out.len();
                    self.string(chunk.valid());
                    // Keep the escaped text, not the quotes around it.
                    self.out.pop();
                    self.out.remove(start);
                    // Written escaped, so it differs from a U+FFFD that was in the text.
                    self.out.extend(chunk.invalid().iter().map(|_| "\\ufffd"));
                }
                self.out.push('"');
            }
            Value::Bytes(b) => {
                use base64::Engine as _;
                self.string(&base64::engine::general_purpose::STANDARD.encode(b));
            }
            Value::List(l) => {
                if l.is_empty() {
                    self.out.push_str("[]");
                    return Ok(());
                }
                self.out.push('[');
                for (i, x) in l.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.newline(depth + 1);
                    self.value(x, depth + 1)?;
                }
                self.newline(depth);
                self.out.push(']');
            }
            // BTreeMap order is byte order, which is how encoding/json sorts map keys.
            Value::Map(m) => self.fields(m.borrow().iter().map(|(k, v)| (k.as_str(), v)), depth)?,
            Value::Object(o) => match (o.json_fields(), o.to_plain()) {
                (Some(fields), _) => self.fields(fields.iter().map(|(k, v)| (k.as_str(), v)), depth)?,
                (None, Some(p)) => self.value(&p, depth)?,
                (None, None) => self.out.push_str("{}"),
            },
        }
        Ok(())
    }

    /// An object's members in the order given.
    fn fields<'v>(
        &mut self,
        fields: impl ExactSizeIterator<Item = (&'v str, &'v Value)>,
        depth: usize,
    ) -> Result<(), MarshalError> {
        if fields.len() == 0 {
            self.out.push_str("{}");
            return Ok(());
        }
        self.out.push('{');
        for (i, (k, x)) in fields.enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.newline(depth + 1);
            self.string(k);
            self.out.push(':');
            if self.indent.is_some() {
                self.out.push(' ');
            }
            self.value(x, depth + 1)?;
        }
        self.newline(depth);
        self.out.push('}');
        Ok(())
    }

    fn string(&mut self, s: &str) {
        json_string_into(self.out, s, self.escape_html);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_json_cases() {
        // Go encoding/json: sorted keys, HTML escaping, Go float format, base64 bytes.
        let cases: &[(&str, Value, &str)] = &[
            ("html escaped", Value::str("<a&b>"), r#""\u003ca\u0026b\u003e""#),
            ("control", Value::str("a\u{1}\n"), r#""a\u0001\n""#),
            ("line separator", Value::str("\u{2028}"), r#""\u2028""#),
            ("float int", Value::Float(3.0), "3"),
            ("float exp", Value::Float(1e21), "1e+21"),
            ("float small", Value::Float(1e-7), "1e-7"),
            (
                "sorted",
                Value::map_of([("b", Value::Int(1)), ("a", Value::Nil)]),
                r#"{"a":null,"b":1}"#,
            ),
            ("bytes", Value::Bytes(b"hi".to_vec().into()), r#""aGk=""#),
            ("nan fails", Value::Float(f64::NAN), ""),
            ("empty list", Value::list(vec![]), "[]"),
        ];
        for (name, v, want) in cases {
            assert_eq!(to_json(v), *want, "{name}");
        }
    }

    #[test]
    fn pretty_and_raw() {
        let v = Value::map_of([
            ("a", Value::list(vec![Value::Int(1), Value::str("<")])),
            ("b", Value::new_map()),
        ]);
        assert_eq!(
            to_pretty_json(&v),
            "{\n  \"a\": [\n    1,\n    \"\\u003c\"\n  ],\n  \"b\": {}\n}"
        );
        assert_eq!(to_raw_json(&v), r#"{"a":[1,"<"],"b":{}}"#);
    }
}
