//! Go-style conversions shared by the Sprig functions (`spf13/cast` and Sprig's own `strval`).

use crate::{
    gofmt,
    number::{parse_float, parse_int},
    Value,
};

/// `cast.ToInt64`: ints as is, floats truncated, bools 1/0, strings parsed with base prefixes
/// (`strconv.ParseInt(s, 0, 0)`: `0x1f`, `0o17`, `017`, `0b1`) after cast drops a zero fraction
/// (`"12.0"` → 12), anything else (or a bad string) 0.
pub fn to_int64(v: &Value) -> i64 {
    match v {
        Value::Int(i) | Value::Int64(i) => *i,
        // cast converts with Go's int64(u), which wraps.
        Value::Uint64(u) => *u as i64,
        Value::Float(f) => float_to_int(*f),
        Value::Bool(b) => i64::from(*b),
        Value::Str(s) => parse_go_int(trim_zero_decimal(s)).unwrap_or(0),
        _ => 0,
    }
}

/// Go's `int64(f)` on amd64: truncation; NaN and out-of-range values give the "integer
/// indefinite" value `math.MinInt64` (Rust's `as` would saturate instead).
pub fn float_to_int(f: f64) -> i64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if f.is_nan() || !(-TWO_63..TWO_63).contains(&f) {
        i64::MIN
    } else {
        f as i64
    }
}

/// cast's `trimZeroDecimal`: `"12.00"` → `"12"`; anything else unchanged (`"12."` too).
fn trim_zero_decimal(s: &str) -> &str {
    let b = s.as_bytes();
    let mut seen_zero = false;
    for i in (0..b.len()).rev() {
        match b[i] {
            b'.' if seen_zero => return &s[..i],
            b'.' => {}
            b'0' => seen_zero = true,
            _ => return s,
        }
    }
    s
}

/// `strconv.ParseInt(s, 0, 64)`: optional sign, base prefix (`0x`, `0o`, `0b`, leading `0` = octal),
/// underscores between digits (Go literal syntax); `None` on syntax or range errors. The template
/// lexer's number parsing, which follows the same `strconv` rules.
pub fn parse_go_int(s: &str) -> Option<i64> {
    parse_int(s)
}

/// `strconv.ParseFloat(s, 64)`: decimal or hex (`0x1p-2`) literals with Go's underscores,
/// `inf`/`infinity` (signed) and `nan`, case-insensitive; `None` on syntax errors and on overflow.
/// The words are the only text templates cannot write as a literal; the rest is the template
/// lexer's parser (hex floats rounded to nearest even, as Go's `atofHex`).
pub fn parse_go_float(s: &str) -> Option<f64> {
    let (sign, body) = match s.as_bytes().first() {
        Some(b'-') => (-1.0, &s[1..]),
        Some(b'+') => (1.0, &s[1..]),
        _ => (1.0, s),
    };
    if body.eq_ignore_ascii_case("inf") || body.eq_ignore_ascii_case("infinity") {
        return Some(sign * f64::INFINITY);
    }
    if s.eq_ignore_ascii_case("nan") {
        return Some(f64::NAN);
    }
    parse_float(s)
}

/// `cast.ToFloat64`: numbers as floats, bools 1/0, strings parsed ([`parse_go_float`]), else 0.
pub fn to_float64(v: &Value) -> f64 {
    match v {
        Value::Int(i) | Value::Int64(i) => *i as f64,
        Value::Uint64(u) => *u as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Str(s) => parse_go_float(s).unwrap_or(0.0),
        _ => 0.0,
    }
}

/// Sprig's `strval`: strings as is, `[]byte` as text, everything else (nil included, `<nil>`) as
/// `fmt.Sprintf("%v", v)`.
pub fn to_string(v: &Value) -> String {
    match v {
        Value::Str(s) => s.to_string(),
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        other => gofmt::format_v(other),
    }
}
