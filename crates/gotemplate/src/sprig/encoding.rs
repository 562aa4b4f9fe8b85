//! Sprig's encoding functions: base64/base32 (`b64enc`, `b64dec`, `b32enc`, `b32dec`) and the JSON
//! functions Helm does not replace (`mustToJson`, `toPrettyJson`, `toRawJson`, their `must`
//! forms, `mustFromJson`).
//!
//! Decoding errors are *returned as the string* (`illegal base64 data at input byte 4`), as Sprig
//! does, so the decoders follow Go's `encoding/base64`/`base32` to report the same offsets (Go
//! skips `\r` and `\n` in the input). JSON output follows Go's `encoding/json`: sorted keys,
//! `<`, `>`, `&` escaped as `\u003c`... (except `toRawJson`), floats as `1e+21`/`1e-7`
//! outside [1e-6, 1e21), `[]byte` as base64.

use super::{fixed, str_arg};
use crate::{FuncMap, FuncResult, Value};
use base64::Engine as _;

pub(crate) fn register(m: &mut FuncMap) {
    m.insert_simple("b64enc", |a| {
        let [s] = fixed("b64enc", a)?;
        Ok(Value::str(
            base64::engine::general_purpose::STANDARD.encode(go_str_arg(s)?),
        ))
    });
    m.insert_simple("b64dec", |a| {
        let [s] = fixed("b64dec", a)?;
        Ok(decoded_or_error(b64_decode(str_arg(s)?), "base64"))
    });
    m.insert_simple("b32enc", |a| {
        let [s] = fixed("b32enc", a)?;
        Ok(Value::str(b32_encode(go_str_arg(s)?)))
    });
    m.insert_simple("b32dec", |a| {
        let [s] = fixed("b32dec", a)?;
        Ok(decoded_or_error(b32_decode(str_arg(s)?), "base32"))
    });
    m.insert_simple("mustToJson", |a| {
        let [v] = fixed("mustToJson", a)?;
        to_json(v, None, true).map(Value::str)
    });
    m.insert_simple("toPrettyJson", |a| {
        let [v] = fixed("toPrettyJson", a)?;
        crate::json::to_json_checked(v, true, Some("  "))
            .map(Value::str)
            .map_err(|e| e.to_string())
    });
    m.insert_simple("mustToPrettyJson", |a| {
        let [v] = fixed("mustToPrettyJson", a)?;
        to_json(v, Some("  "), true).map(Value::str)
    });
    m.insert_simple("toRawJson", |a| {
        let [v] = fixed("toRawJson", a)?;
        to_json(v, None, false).map(Value::str)
    });
    m.insert_simple("mustToRawJson", |a| {
        let [v] = fixed("mustToRawJson", a)?;
        to_json(v, None, false).map(Value::str)
    });
    m.insert_simple("mustFromJson", |a| {
        let [s] = fixed("mustFromJson", a)?;
        from_json(str_arg(s)?)
    });
}

/// Sprig returns a decoding error's text in place of the data, and the data as a Go string: the
/// bytes as they are, UTF-8 or not (`"/w==" | b64dec | b64enc` is `/w==` again).
fn decoded_or_error(r: Result<Vec<u8>, usize>, kind: &str) -> Value {
    match r {
        Ok(b) => Value::from_go_bytes(b),
        Err(at) => Value::str(format!("illegal {kind} data at input byte {at}")),
    }
}

/// A `string` parameter read as Go's bytes, so a string that is not UTF-8 encodes as it is.
fn go_str_arg(v: &Value) -> Result<&[u8], String> {
    v.go_str_bytes().ok_or_else(|| super::type_err("string", v))
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// `base64.StdEncoding.DecodeString`; `Err` holds Go's `CorruptInputError` offset.
pub(crate) fn b64_decode(s: &str) -> Result<Vec<u8>, usize> {
    let src = s.as_bytes();
    let val = |c: u8| B64.iter().position(|x| *x == c).map(|p| p as u32);
    let is_nl = |c: u8| c == b'\n' || c == b'\r';
    let mut out = Vec::with_capacity(src.len() * 3 / 4);
    let mut si = 0;
    loop {
        let mut quantum = [0u32; 4];
        let mut j = 0;
        let mut end = false;
        while j < 4 {
            if si == src.len() {
                if j == 0 {
                    return Ok(out);
                }
                return Err(si - j);
            }
            let c = src[si];
            si += 1;
            if let Some(v) = val(c) {
                quantum[j] = v;
                j += 1;
                continue;
            }
            if is_nl(c) {
                continue;
            }
            if c != b'=' {
                return Err(si - 1);
            }
            // Padding: only after two or three symbols, and only padding may follow.
            match j {
                0 | 1 => return Err(si - 1),
                2 => {
                    while si < src.len() && is_nl(src[si]) {
                        si += 1;
                    }
                    if si == src.len() {
                        return Err(src.len());
                    }
                    if src[si] != b'=' {
                        return Err(si - 1);
                    }
                    si += 1;
                }
                _ => {}
            }
            while si < src.len() && is_nl(src[si]) {
                si += 1;
            }
            if si < src.len() {
                return Err(si);
            }
            end = true;
            break;
        }
        let n = (quantum[0] << 18) | (quantum[1] << 12) | (quantum[2] << 6) | quantum[3];
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..j.saturating_sub(1).min(3)]);
        if end {
            return Ok(out);
        }
    }
}

fn b32_encode(src: &[u8]) -> String {
    let mut out = String::with_capacity(src.len().div_ceil(5) * 8);
    for chunk in src.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let n = buf.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        let symbols = match chunk.len() {
            1 => 2,
            2 => 4,
            3 => 5,
            4 => 7,
            _ => 8,
        };
        for k in 0..8 {
            if k < symbols {
                out.push(char::from(B32[((n >> (35 - 5 * k)) & 31) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `base32.StdEncoding.DecodeString` (newlines removed first, offsets count without them).
fn b32_decode(s: &str) -> Result<Vec<u8>, usize> {
    let src: Vec<u8> = s.bytes().filter(|c| *c != b'\n' && *c != b'\r').collect();
    let olen = src.len();
    let val = |c: u8| B32.iter().position(|x| *x == c).map(|p| p as u64);
    let mut out = Vec::new();
    let mut rest: &[u8] = &src;
    let mut end = false;
    while !rest.is_empty() && !end {
        let mut quantum = [0u64; 8];
        let mut dlen = 8;
        let mut j = 0;
        while j < 8 {
            let Some((&c, tail)) = rest.split_first() else {
                return Err(olen - rest.len() - j);
            };
            rest = tail;
            if c == b'=' && j >= 2 && rest.len() < 8 {
                if rest.len() + j < 7 {
                    return Err(olen);
                }
                for k in 0..7 - j {
                    if rest.len() > k && rest[k] != b'=' {
                        return Err(olen - rest.len() + k - 1);
                    }
                }
                dlen = j;
                end = true;
                if matches!(dlen, 1 | 3 | 6) {
                    return Err(olen - rest.len() - 1);
                }
                break;
            }
            match val(c) {
                Some(v) => quantum[j] = v,
                None => return Err(olen - rest.len() - 1),
            }
            j += 1;
        }
        let n = quantum.iter().fold(0u64, |acc, v| (acc << 5) | v);
        let bytes: Vec<u8> = (0..5).map(|k| (n >> (32 - 8 * k)) as u8).collect();
        let keep = match dlen {
            8 => 5,
            7 => 4,
            5 => 3,
            4 => 2,
            2 => 1,
            _ => 0,
        };
        out.extend_from_slice(&bytes[..keep]);
    }
    Ok(out)
}

// ---- JSON -------------------------------------------------------------------------------------

/// `json.Marshal` (no indent) or `json.MarshalIndent(v, "", indent)`; `html` escapes `<>&`. The
/// one Go JSON encoder is `yaml::json`; this only orders its arguments as Sprig's callers do.
pub(crate) fn to_json(v: &Value, indent: Option<&str>, html: bool) -> Result<String, String> {
    crate::json::marshal(v, html, indent)
}

/// `json.Unmarshal` into `interface{}`: numbers become float64.
fn from_json(s: &str) -> FuncResult {
    match serde_json::from_str::<serde_json::Value>(s) {
        Ok(j) => Ok(Value::from_json(&j, false)),
        // Go's words for the first byte its scanner refuses; serde_json's for the rare text only
        // it refuses (a lone UTF-16 surrogate).
        Err(e) => Err(crate::json_syntax::check(s.as_bytes())
            .err()
            .unwrap_or_else(|| e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sprig::test_support::{call, s};

    #[test]
    fn encodings() {
        // Expectations from sprig's strings_test.go (TestBase64EncodeDecode, TestBase32...) and
        // Go's encoding/base64, base32 tests.
        let cases: Vec<(&str, &str, Vec<Value>, &str)> = vec![
            ("b64enc", "b64enc", vec![s("Hello World")], "SGVsbG8gV29ybGQ="),
            ("b64dec", "b64dec", vec![s("SGVsbG8gV29ybGQ=")], "Hello World"),
            ("b64dec newlines", "b64dec", vec![s("SGVs\nbG8=")], "Hello"),
            (
                "b64dec bad char",
                "b64dec",
                vec![s("SGV!")],
                "illegal base64 data at input byte 3",
            ),
            (
                "b64dec short",
                "b64dec",
                vec![s("SGVsbG8")],
                "illegal base64 data at input byte 4",
            ),
            (
                "b64dec trailing",
                "b64dec",
                vec![s("SGU=x")],
                "illegal base64 data at input byte 4",
            ),
            (
                "b32enc",
                "b32enc",
                vec![s("Hello World")],
                "JBSWY3DPEBLW64TMMQ======",
            ),
            (
                "b32dec",
                "b32dec",
                vec![s("JBSWY3DPEBLW64TMMQ======")],
                "Hello World",
            ),
            ("b32enc foob", "b32enc", vec![s("foob")], "MZXW6YQ="),
            (
                "b32dec bad",
                "b32dec",
                vec![s("MZXW6YQ!")],
                "illegal base32 data at input byte 7",
            ),
        ];
        for (case, name, args, want) in cases {
            assert_eq!(call(name, args), Ok(s(want)), "case {case}");
        }
    }

    #[test]
    fn json() {
        let m = Value::map_from(
            [
                (
                    "b".to_string(),
                    Value::list(vec![Value::Int(1), Value::Float(1.5)]),
                ),
                ("a".to_string(), s("<x&y>")),
                ("c".to_string(), Value::new_map()),
            ]
            .into_iter()
            .collect(),
        );
        // Go's encoding/json output for the same map[string]interface{}.
        let cases: Vec<(&str, &str, Vec<Value>, &str)> = vec![
            (
                "mustToJson",
                "mustToJson",
                vec![m.clone()],
                r#"{"a":"\u003cx\u0026y\u003e","b":[1,1.5],"c":{}}"#,
            ),
            (
                "toRawJson",
                "toRawJson",
                vec![m.clone()],
                r#"{"a":"<x&y>","b":[1,1.5],"c":{}}"#,
            ),
            (
                "toPrettyJson",
                "toPrettyJson",
                vec![m.clone()],
                "{\n  \"a\": \"\\u003cx\\u0026y\\u003e\",\n  \"b\": [\n    1,\n    1.5\n  ],\n  \"c\": {}\n}",
            ),
            (
                "floats",
                "mustToJson",
                vec![Value::list(vec![
                    Value::Float(1e21),
                    Value::Float(1e-7),
                    Value::Float(100000.0),
                    Value::Float(0.000001),
                ])],
                "[1e+21,1e-7,100000,0.000001]",
            ),
            ("nil", "mustToJson", vec![Value::Nil], "null"),
        ];
        for (case, name, args, want) in cases {
            assert_eq!(call(name, args), Ok(s(want)), "case {case}");
        }
        assert_eq!(
            call("mustFromJson", vec![s(r#"{"a":[1,"x",null,true]}"#)]),
            Ok(Value::map_from(
                [(
                    "a".to_string(),
                    Value::list(vec![Value::Float(1.0), s("x"), Value::Nil, Value::Bool(true)])
                )]
                .into_iter()
                .collect()
            ))
        );
        assert_eq!(
            call("mustFromJson", vec![s("{")]),
            Err("unexpected end of JSON input".into())
        );
        assert_eq!(call("toPrettyJson", vec![Value::Float(f64::NAN)]), Ok(s("")));
    }
}
