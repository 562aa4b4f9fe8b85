//! Go-style conversions shared by the Sprig functions (`spf13/cast` and Sprig's own `strval`).

use crate::gotemplate::{gofmt, underscore_ok, Value};

/// `cast.ToInt64`: ints as is, floats truncated, bools 1/0, strings parsed with base prefixes
/// (`strconv.ParseInt(s, 0, 0)`: `0x1f`, `0o17`, `017`, `0b1`) after cast drops a zero fraction
/// (`"12.0"` → 12), anything else (or a bad string) 0.
pub fn to_int64(v: &Value) -> i64 {
    match v {
        Value::Int(i) | Value::Int64(i) => *i,
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
/// underscores between digits (Go literal syntax); `None` on syntax or range errors.
pub fn parse_go_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return None;
    }
    let lower = body.to_ascii_lowercase();
    let lb = lower.as_bytes();
    let (radix, digits) = if lb[0] == b'0' && lb.len() >= 3 && matches!(lb[1], b'x' | b'o' | b'b') {
        (
            match lb[1] {
                b'x' => 16,
                b'o' => 8,
                _ => 2,
            },
            &lower[2..],
        )
    } else if lb[0] == b'0' && lb.len() > 1 {
        (8, &lower[1..])
    } else {
        (10, &lower[..])
    };
    if digits.contains('_') && !underscore_ok(s) {
        return None;
    }
    let digits = digits.replace('_', "");
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let mag = u128::from_str_radix(&digits, radix)
        .ok()
        .filter(|m| *m <= 1 << 64)?;
    let val = if neg { -(mag as i128) } else { mag as i128 };
    i64::try_from(val).ok()
}

/// `strconv.ParseFloat(s, 64)`: decimal or hex (`0x1p-2`) literals with Go's underscores,
/// `inf`/`infinity` (signed) and `nan`, case-insensitive; `None` on syntax errors and on overflow.
pub fn parse_go_float(s: &str) -> Option<f64> {
    let lower = s.to_ascii_lowercase();
    let (neg, body) = match lower.as_bytes().first() {
        Some(b'-') => (true, &lower[1..]),
        Some(b'+') => (false, &lower[1..]),
        _ => (false, &lower[..]),
    };
    let sign = if neg { -1.0 } else { 1.0 };
    if body == "inf" || body == "infinity" {
        return Some(sign * f64::INFINITY);
    }
    if lower == "nan" {
        return Some(f64::NAN);
    }
    if body.contains('_') && !underscore_ok(&lower) {
        return None;
    }
    let body = body.replace('_', "");
    let val = if let Some(hex) = body.strip_prefix("0x") {
        parse_hex_float(hex)?
    } else {
        if body.is_empty()
            || !body
                .bytes()
                .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'+' | b'-'))
        {
            return None;
        }
        body.parse::<f64>().ok()?
    };
    if val.is_infinite() {
        return None;
    }
    Some(sign * val)
}

/// The part of a hex float literal after `0x`: hex mantissa with optional point, `p` exponent.
fn parse_hex_float(s: &str) -> Option<f64> {
    let (mant, exp) = s.split_once('p')?;
    let exp: i32 = exp.parse().ok()?;
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut v = 0f64;
    for c in int.chars().chain(frac.chars()) {
        v = v * 16.0 + f64::from(c.to_digit(16)?);
    }
    Some(v * 2f64.powi(exp - 4 * frac.len() as i32))
}

/// `cast.ToFloat64`: numbers as floats, bools 1/0, strings parsed ([`parse_go_float`]), else 0.
pub fn to_float64(v: &Value) -> f64 {
    match v {
        Value::Int(i) | Value::Int64(i) => *i as f64,
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
