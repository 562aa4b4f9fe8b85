//! The syntax check Go's `encoding/json` runs before decoding, with its error texts.
//!
//! Sprig's `mustFromJson` returns `json.Unmarshal`'s error and Helm's `fromJson` and
//! `fromJsonArray` store it in their result, so a chart can print it: the texts are part of the
//! output. Go checks the whole input first and
//! names the first offending byte and what it was looking for (`invalid character '}' looking
//! for beginning of object key string`), or says `unexpected end of JSON input`. This is that
//! check, written from the grammar and Go's documented messages; decoding is serde_json's.

use crate::gofmt;

/// What the checker expects next.
#[derive(Clone, Copy, PartialEq)]
enum Want {
    /// A value (`looking for beginning of value`).
    Value,
    /// A value or `]` right after `[`.
    ValueOrClose,
    /// A key string (`looking for beginning of object key string`).
    Key,
    /// A key string or `}` right after `{`.
    KeyOrClose,
}

/// Where a finished value sits, deciding what may follow it.
#[derive(Clone, Copy, PartialEq)]
enum Frame {
    /// Inside `{`, after a key.
    ObjectKey,
    /// Inside `{`, after a value.
    ObjectValue,
    /// Inside `[`.
    Array,
}

fn invalid(c: u8, context: &str) -> String {
    // Go's quoteChar: strconv.Quote of the byte as a rune, in single quotes.
    let q = match c {
        b'\'' => r"'\''".to_string(),
        b'"' => "'\"'".to_string(),
        _ => {
            let s = gofmt::quote(&char::from(c).to_string());
            format!("'{}'", &s[1..s.len() - 1])
        }
    };
    format!("invalid character {q} {context}")
}

const EOF: &str = "unexpected end of JSON input";

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

/// Checks `input` as Go's `json.Valid` does; `Err` is Go's message for the first error.
pub fn check(input: &[u8]) -> Result<(), String> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    let mut want = Some(Want::Value);
    loop {
        // Skip whitespace, then act on the next byte.
        while i < input.len() && is_space(input[i]) {
            i += 1;
        }
        let Some(&c) = input.get(i) else {
            return if want.is_none() && stack.is_empty() {
                Ok(())
            } else {
                Err(EOF.to_string())
            };
        };
        match want {
            Some(w) => {
                if matches!(w, Want::KeyOrClose) && c == b'}' {
                    stack.pop();
                    i += 1;
                    want = None;
                    continue;
                }
                if matches!(w, Want::ValueOrClose) && c == b']' {
                    stack.pop();
                    i += 1;
                    want = None;
                    continue;
                }
                if matches!(w, Want::Key | Want::KeyOrClose) {
                    if c != b'"' {
                        return Err(invalid(c, "looking for beginning of object key string"));
                    }
                    i = string(input, i + 1)?;
                    // The key is done: what follows is read in the ObjectKey frame.
                    want = None;
                    continue;
                }
                i = value_start(input, i, &mut stack, &mut want)?;
            }
            None => match stack.last().copied() {
                None => return Err(invalid(c, "after top-level value")),
                Some(Frame::ObjectKey) => {
                    if c != b':' {
                        return Err(invalid(c, "after object key"));
                    }
                    if let Some(top) = stack.last_mut() {
                        *top = Frame::ObjectValue;
                    }
                    i += 1;
                    want = Some(Want::Value);
                }
                Some(Frame::ObjectValue) => match c {
                    b',' => {
                        if let Some(top) = stack.last_mut() {
                            *top = Frame::ObjectKey;
                        }
                        i += 1;
                        want = Some(Want::Key);
                    }
                    b'}' => {
                        stack.pop();
                        i += 1;
                    }
                    _ => return Err(invalid(c, "after object key:value pair")),
                },
                Some(Frame::Array) => match c {
                    b',' => {
                        i += 1;
                        want = Some(Want::Value);
                    }
                    b']' => {
                        stack.pop();
                        i += 1;
                    }
                    _ => return Err(invalid(c, "after array element")),
                },
            },
        }
    }
}

/// Starts a value at `input[i]`; scalars are read whole. Returns the index after what it read.
fn value_start(
    input: &[u8],
    i: usize,
    stack: &mut Vec<Frame>,
    want: &mut Option<Want>,
) -> Result<usize, String> {
    let c = input[i];
    match c {
        b'{' => {
            stack.push(Frame::ObjectKey);
            *want = Some(Want::KeyOrClose);
            Ok(i + 1)
        }
        b'[' => {
            stack.push(Frame::Array);
            *want = Some(Want::ValueOrClose);
            Ok(i + 1)
        }
        b'"' => {
            *want = None;
            string(input, i + 1)
        }
        b'-' | b'0'..=b'9' => {
            *want = None;
            number(input, i)
        }
        b't' | b'f' | b'n' => {
            *want = None;
            let word: &[u8] = match c {
                b't' => b"true",
                b'f' => b"false",
                _ => b"null",
            };
            let name = std::str::from_utf8(word).unwrap_or_default();
            for (k, &expect) in word.iter().enumerate().skip(1) {
                match input.get(i + k) {
                    None => return Err(EOF.to_string()),
                    Some(&got) if got != expect => {
                        return Err(invalid(
                            got,
                            &format!("in literal {name} (expecting '{}')", char::from(expect)),
                        ))
                    }
                    Some(_) => {}
                }
            }
            Ok(i + word.len())
        }
        _ => Err(invalid(c, "looking for beginning of value")),
    }
}

/// Reads a string body after its opening quote; returns the index after the closing quote.
fn string(input: &[u8], mut i: usize) -> Result<usize, String> {
    loop {
        let Some(&c) = input.get(i) else {
            return Err(EOF.to_string());
        };
        match c {
            b'"' => return Ok(i + 1),
            b'\\' => {
                let Some(&e) = input.get(i + 1) else {
                    return Err(EOF.to_string());
                };
                match e {
                    b'b' | b'f' | b'n' | b'r' | b't' | b'\\' | b'/' | b'"' => i += 2,
                    b'u' => {
                        for k in 0..4 {
                            match input.get(i + 2 + k) {
                                None => return Err(EOF.to_string()),
                                Some(h) if h.is_ascii_hexdigit() => {}
                                Some(&h) => return Err(invalid(h, "in \\u hexadecimal character escape")),
                            }
                        }
                        i += 6;
                    }
                    _ => return Err(invalid(e, "in string escape code")),
                }
            }
            c if c < 0x20 => return Err(invalid(c, "in string literal")),
            _ => i += 1,
        }
    }
}

/// Reads a number; returns the index after it (the byte there is checked by the caller's state).
fn number(input: &[u8], mut i: usize) -> Result<usize, String> {
    let digits = |i: &mut usize| {
        while input.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
    };
    if input[i] == b'-' {
        i += 1;
    }
    match input.get(i) {
        None => return Err(EOF.to_string()),
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => digits(&mut i),
        Some(&c) => return Err(invalid(c, "in numeric literal")),
    }
    if input.get(i) == Some(&b'.') {
        i += 1;
        match input.get(i) {
            None => return Err(EOF.to_string()),
            Some(c) if c.is_ascii_digit() => digits(&mut i),
            Some(&c) => return Err(invalid(c, "after decimal point in numeric literal")),
        }
    }
    if matches!(input.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(input.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        match input.get(i) {
            None => return Err(EOF.to_string()),
            Some(c) if c.is_ascii_digit() => digits(&mut i),
            Some(&c) => return Err(invalid(c, "in exponent of numeric literal")),
        }
    }
    Ok(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected texts are Go 1.23's `json.Unmarshal` errors for the same inputs.
    #[test]
    fn go_messages() {
        let cases: &[(&str, Result<(), &str>)] = &[
            (r#"{"a": [1, 2.5e3, -0, true, false, null, "x\u00e9\n"]}"#, Ok(())),
            (" [ ] ", Ok(())),
            ("", Err("unexpected end of JSON input")),
            ("{", Err("unexpected end of JSON input")),
            (
                r#"{"a": 1,}"#,
                Err("invalid character '}' looking for beginning of object key string"),
            ),
            (
                "{a: 1}",
                Err("invalid character 'a' looking for beginning of object key string"),
            ),
            ("{} x", Err("invalid character 'x' after top-level value")),
            (r#"{"a" 1}"#, Err("invalid character '1' after object key")),
            (
                r#"{"a": 1 "b": 2}"#,
                Err("invalid character '\"' after object key:value pair"),
            ),
            ("[1 2]", Err("invalid character '2' after array element")),
            (
                "[1,]",
                Err("invalid character ']' looking for beginning of value"),
            ),
            (r#""\x""#, Err("invalid character 'x' in string escape code")),
            (
                r#""\u12g4""#,
                Err("invalid character 'g' in \\u hexadecimal character escape"),
            ),
            ("\"a\nb\"", Err("invalid character '\\n' in string literal")),
            ("-a", Err("invalid character 'a' in numeric literal")),
            (
                "1.x",
                Err("invalid character 'x' after decimal point in numeric literal"),
            ),
            ("1e+", Err("unexpected end of JSON input")),
            ("1ex", Err("invalid character 'x' in exponent of numeric literal")),
            ("01", Err("invalid character '1' after top-level value")),
            ("tru", Err("unexpected end of JSON input")),
            (
                "nul1",
                Err("invalid character '1' in literal null (expecting 'l')"),
            ),
            (
                "'a'",
                Err(r"invalid character '\'' looking for beginning of value"),
            ),
        ];
        for (input, want) in cases {
            let got = check(input.as_bytes());
            assert_eq!(
                got.as_ref().map_err(String::as_str),
                want.as_ref().map_err(|e| *e),
                "{input:?}"
            );
        }
    }
}
