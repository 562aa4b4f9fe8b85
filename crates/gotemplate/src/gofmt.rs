//! Go's `fmt` verbs over [`Value`]: what `print`, `printf`, `println` and `{{ . }}` produce.
//!
//! Output is compared byte for byte with Helm, so this follows Go's rules exactly where charts
//! can see them: `%v` of floats is `strconv.FormatFloat(f, 'g', -1, 64)` (`1e+06`), maps print
//! sorted as `map[k:v]`, wrong verbs print `%!d(string=x)`, missing and extra operands print
//! `%!s(MISSING)` and `%!(EXTRA int=1)`. Also home of Go's string quoting (`strconv.Quote`),
//! which the template lexer and parser need too.

use super::{Map, Value};

/// `fmt.Sprint(args...)`: operands joined, with a space between two operands when neither is a string.
pub fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 && !is_string(a) && !is_string(&args[i - 1]) {
            out.push(' ');
        }
        write_v(&mut out, a);
    }
    out
}

/// `fmt.Sprintln(args...)`: operands always space-separated, plus a newline.
pub fn sprintln(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        write_v(&mut out, a);
    }
    out.push('\n');
    out
}

/// [`sprint`] (or [`sprintln`]) as the Go string it makes: a string operand that is not UTF-8
/// keeps its bytes (`print (b64dec "/w==")` is the byte 0xff, as Go's `fmt` writes it), also
/// inside a list or map operand.
pub fn sprint_value(args: &[Value], ln: bool) -> Value {
    if !args.iter().any(has_bad_bytes) {
        return Value::from(if ln { sprintln(args) } else { sprint(args) });
    }
    let fl = Flags {
        raw: true,
        ..Flags::default()
    };
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 && (ln || (!is_string(a) && !is_string(&args[i - 1]))) {
            out.push(' ');
        }
        print_arg(&mut out, a, 'v', &fl);
    }
    if ln {
        out.push('\n');
    }
    from_raw_text(&out)
}

/// `fmt.Sprintf` as the Go string it makes: a string operand (or format) that is not UTF-8 keeps
/// its bytes under `%s` and `%v` (`printf "%s" (b64dec "/w==")` is the byte 0xff, as in Go),
/// where [`sprintf`] gives text with U+FFFD.
pub fn sprintf_value(format: &Value, args: &[Value]) -> Value {
    if !has_bad_bytes(format) && !args.iter().any(has_bad_bytes) {
        return Value::from(sprintf(format.as_str().unwrap_or_default(), args));
    }
    let format = match format {
        Value::BStr(b) => raw_text(b),
        f => f.as_str().unwrap_or_default().to_string(),
    };
    from_raw_text(&sprintf_with(&format, args, true))
}

// A Go string is bytes; our formatter builds a Rust `String`. To carry a byte that is not UTF-8
// through it, the `*_value` functions format such a byte as one char of the last private-use
// plane (U+10FF00 + byte), which also counts as one rune for width and precision as the byte
// does in Go, then turn those chars back into bytes. Only operands holding such bytes take this
// path, so text that happens to contain these private-use chars is otherwise untouched.
const RAW_BASE: u32 = 0x10_FF00;

/// Whether `v` holds a Go string that is not UTF-8, at any depth `fmt` prints.
pub(crate) fn has_bad_bytes(v: &Value) -> bool {
    match v {
        Value::BStr(_) => true,
        Value::Bytes(b) => std::str::from_utf8(b).is_err(),
        Value::List(l) => l.iter().any(has_bad_bytes),
        Value::Map(m) => m.borrow().values().any(has_bad_bytes),
        Value::Object(o) => {
            o.as_list().is_some_and(|l| l.iter().any(has_bad_bytes))
                || o.as_map().is_some_and(|m| m.borrow().values().any(has_bad_bytes))
        }
        _ => false,
    }
}

/// The bytes as text, each byte that is not UTF-8 as its private-use stand-in.
pub(crate) fn raw_text(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        out.extend(
            chunk
                .invalid()
                .iter()
                .filter_map(|b| char::from_u32(RAW_BASE + u32::from(*b))),
        );
    }
    out
}

/// Whether `c` is the [`raw_text`] stand-in of a byte.
pub(crate) fn is_raw_stand_in(c: char) -> bool {
    (RAW_BASE..=RAW_BASE + 0xFF).contains(&u32::from(c))
}

/// The Go string [`raw_text`]-formatted text stands for.
pub(crate) fn from_raw_text(text: &str) -> Value {
    let mut bytes = Vec::with_capacity(text.len());
    let mut buf = [0u8; 4];
    for c in text.chars() {
        match u32::from(c).checked_sub(RAW_BASE) {
            Some(b) if b <= 0xFF => bytes.push(b as u8),
            _ => bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes()),
        }
    }
    Value::from_go_bytes(bytes)
}

/// `%v` of `v` with each byte that is not UTF-8 as its [`raw_text`] stand-in, in strings at any
/// depth (what Sprig's `fmt.Sprintf("%v", v)` keeps; [`from_raw_text`] gives the Go string back).
pub(crate) fn raw_v(v: &Value) -> String {
    let fl = Flags {
        raw: true,
        ..Flags::default()
    };
    let mut out = String::new();
    print_arg(&mut out, v, 'v', &fl);
    out
}

/// Whether `fmt` sees a Go string (its operands get no space between them in `Sprint`).
fn is_string(v: &Value) -> bool {
    matches!(v, Value::Str(_) | Value::BStr(_))
}

/// `fmt.Sprint(v)` of one value (`%v`): `[a b]` for lists, `map[k:v]` for maps, `<nil>` for nil,
/// floats as `strconv.FormatFloat(f, 'g', -1, 64)` (`1e+06`).
pub fn format_v(v: &Value) -> String {
    match v {
        Value::Str(s) => s.to_string(),
        _ => {
            let mut out = String::new();
            write_v(&mut out, v);
            out
        }
    }
}

/// Appends `%v` of `v` to `out` (no intermediate strings for scalars).
pub fn write_v(out: &mut String, v: &Value) {
    use std::fmt::Write as _;
    match v {
        Value::Nil => out.push_str("<nil>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) | Value::Int64(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Uint64(u) => {
            let _ = write!(out, "{u}");
        }
        Value::Float(f) => out.push_str(&format_float_g(*f)),
        Value::Str(s) => out.push_str(s),
        // Template output is text we hold as UTF-8: each invalid byte becomes U+FFFD here.
        Value::BStr(b) => out.push_str(b.text()),
        Value::Bytes(b) => {
            out.push('[');
            for (i, x) in b.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                let _ = write!(out, "{x}");
            }
            out.push(']');
        }
        Value::List(l) => {
            out.push('[');
            for (i, x) in l.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_v(out, x);
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push_str("map[");
            for (i, (k, x)) in m.borrow().iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                write_v(out, x);
            }
            out.push(']');
        }
        Value::Object(o) => out.push_str(&o.go_string()),
    }
}

/// `strconv.FormatFloat(f, 'g', -1, 64)`: shortest digits that round-trip; the `%e` form (`1e+06`,
/// `1.5e-07`) when the decimal exponent is < -4 or >= 6, else plain (`100000`, `0.0001`).
pub fn format_float_g(f: f64) -> String {
    // Fast path for the common integral values (YAML numbers are all float64 in Helm): below 1e6
    // the shortest %g form is just the integer digits.
    if f.fract() == 0.0 && f.abs() < 1e6 {
        if f == 0.0 && f.is_sign_negative() {
            return "-0".into();
        }
        return (f as i64).to_string();
    }
    format_float(f, b'g', -1)
}

/// Decimal digits (no leading/trailing zeros) and decimal point position of |f|:
/// value = 0.d1d2d3... × 10^dp. `prec` < 0 gives the shortest round-trip digits, otherwise
/// exactly `prec` significant digits (correctly rounded).
fn decimal_digits(f: f64, prec: i32) -> (Vec<u8>, i32) {
    let a = f.abs();
    if a == 0.0 {
        return (Vec::new(), 0);
    }
    let s = if prec < 0 {
        format!("{a:e}")
    } else {
        format!("{:.*e}", (prec.clamp(1, MAX_SIGNIFICANT_DIGITS) - 1) as usize, a)
    };
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut digits: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
    while digits.len() > 1 && digits.last() == Some(&b'0') {
        digits.pop();
    }
    if digits == [b'0'] {
        return (Vec::new(), 0);
    }
    (digits, exp + 1)
}

fn fmt_e(out: &mut String, digits: &[u8], dp: i32, prec: i32, e: u8) {
    out.push(if digits.is_empty() { '0' } else { digits[0] as char });
    if prec > 0 {
        out.push('.');
        let mut i = 1;
        let m = digits.len().min(prec as usize + 1);
        while i < m {
            out.push(digits[i] as char);
            i += 1;
        }
        while i <= prec as usize {
            out.push('0');
            i += 1;
        }
    }
    out.push(e as char);
    let exp = if digits.is_empty() { 0 } else { dp - 1 };
    out.push(if exp < 0 { '-' } else { '+' });
    let exp = exp.unsigned_abs();
    if exp < 10 {
        out.push('0');
    }
    out.push_str(&exp.to_string());
}

fn fmt_f(out: &mut String, digits: &[u8], dp: i32, prec: i32) {
    if dp > 0 {
        let m = (dp as usize).min(digits.len());
        for &d in &digits[..m] {
            out.push(d as char);
        }
        for _ in m..dp as usize {
            out.push('0');
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 1..=prec {
            let j = dp + i - 1;
            let c = if j >= 0 && (j as usize) < digits.len() {
                digits[j as usize]
            } else {
                b'0'
            };
            out.push(c as char);
        }
    }
}

/// `strconv.FormatFloat(f, fmt, prec, 64)` for fmt in `e E f g G` (and `F` as `f`).
pub fn format_float(f: f64, fmt: u8, prec: i32) -> String {
    format_float_with(f, fmt, prec, decimal_digits)
}

/// `strconv.FormatFloat(f, 'g', -1, 32)`: the shortest digits that read back as the same float32
/// (sigs.k8s.io/yaml writes float map keys so; Chart.yaml's versions read through it).
pub fn format_float32_g(f: f64) -> String {
    format_float_with(f64::from(f as f32), b'g', -1, |f, _| {
        let a = (f as f32).abs();
        if a == 0.0 {
            return (Vec::new(), 0);
        }
        // Rust's `{:e}` of an f32 prints the shortest digits that round-trip as f32.
        let s = format!("{a:e}");
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let digits = mant.bytes().filter(u8::is_ascii_digit).collect();
        (digits, exp.parse::<i32>().unwrap_or(0) + 1)
    })
}

/// [`format_float`] with the decimal digits of `|f|` from `digits` (see [`decimal_digits`]).
fn format_float_with(f: f64, fmt: u8, prec: i32, digits: fn(f64, i32) -> (Vec<u8>, i32)) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    let mut out = String::new();
    if f.is_sign_negative() {
        out.push('-');
    }
    match fmt {
        b'f' | b'F' => {
            if prec < 0 {
                let (d, dp) = digits(f, -1);
                fmt_f(&mut out, &d, dp, (d.len() as i32 - dp).max(0));
            } else {
                // A double has at most 1074 fractional digits; past them every digit is 0 (and
                // Rust's formatter refuses precisions over 65535, which Go allows up to 1e6).
                let p = (prec as usize).min(MAX_FRACTION_DIGITS);
                out.push_str(&format!("{:.*}", p, f.abs()));
                out.extend(std::iter::repeat_n('0', prec as usize - p));
            }
        }
        b'x' | b'X' => format_hex_float(&mut out, f.abs(), prec, fmt),
        b'b' => {
            let bits = f.abs().to_bits();
            let (mut exp, mut mant) = ((bits >> 52) as i64, bits & ((1 << 52) - 1));
            if exp == 0 {
                exp = 1;
            } else {
                mant |= 1 << 52;
            }
            exp -= 1023 + 52;
            out.push_str(&format!("{mant}p{}{}", if exp >= 0 { "+" } else { "" }, exp));
        }
        b'e' | b'E' => {
            let (d, dp) = if prec < 0 {
                digits(f, -1)
            } else {
                digits(f, prec + 1)
            };
            let p = if prec < 0 { d.len() as i32 - 1 } else { prec };
            fmt_e(&mut out, &d, dp, p.max(0), fmt);
        }
        _ => {
            let shortest = prec < 0;
            let mut prec = prec;
            if prec == 0 {
                prec = 1;
            }
            let (d, dp) = digits(f, if shortest { -1 } else { prec });
            let nd = d.len() as i32;
            let mut eprec = prec;
            if shortest {
                eprec = 6;
                prec = nd;
            } else if eprec > nd && nd >= dp {
                eprec = nd;
            }
            let exp = dp - 1;
            let e = if fmt == b'G' { b'E' } else { b'e' };
            if !d.is_empty() && (exp < -4 || exp >= eprec) {
                let p = prec.min(nd);
                fmt_e(&mut out, &d, dp, (p - 1).max(0), e);
            } else {
                let p = if prec > dp { nd } else { prec };
                fmt_f(&mut out, &d, dp, (p - dp).max(0));
            }
        }
    }
    out
}

/// Fractional digits past which a double's decimal expansion is all zeros (2^-1074 has 1074).
const MAX_FRACTION_DIGITS: usize = 1100;

/// Significant digits past which a double's decimal expansion is all zeros (at most 767).
const MAX_SIGNIFICANT_DIGITS: i32 = 800;

/// `strconv.FormatFloat(f, 'x', prec, 64)` of a non-negative finite `f`: `0x1.8p+00`, the
/// fraction in hex (shortest when `prec` < 0, else rounded to `prec` digits), the binary
/// exponent with at least two digits.
fn format_hex_float(out: &mut String, f: f64, prec: i32, fmt: u8) {
    use std::fmt::Write as _;
    let bits = f.to_bits();
    let (mut exp, mut mant) = ((bits >> 52) as i64, bits & ((1 << 52) - 1));
    if exp == 0 {
        exp = 1;
    } else {
        mant |= 1 << 52;
    }
    exp -= 1023;
    if mant == 0 {
        exp = 0;
    }
    // The leading 1 (if any) at bit 60, leaving 15 hex digits of fraction below it.
    mant <<= 8;
    while mant != 0 && mant & (1 << 60) == 0 {
        mant <<= 1;
        exp -= 1;
    }
    if (0..15).contains(&prec) {
        let shift = prec as u32 * 4;
        let extra = (mant << shift) & ((1 << 60) - 1);
        mant >>= 60 - shift;
        if extra | (mant & 1) > 1 << 59 {
            mant += 1;
        }
        mant <<= 60 - shift;
        if mant & (1 << 61) != 0 {
            mant >>= 1;
            exp += 1;
        }
    }
    let upper = fmt == b'X';
    out.push_str(if upper { "0X" } else { "0x" });
    out.push(if (mant >> 60) & 1 == 1 { '1' } else { '0' });
    mant <<= 4;
    let digit = |m: u64| {
        let d = ((m >> 60) & 15) as u32;
        let c = char::from_digit(d, 16).unwrap_or('0');
        if upper {
            c.to_ascii_uppercase()
        } else {
            c
        }
    };
    if prec < 0 && mant != 0 {
        out.push('.');
        while mant != 0 {
            out.push(digit(mant));
            mant <<= 4;
        }
    } else if prec > 0 {
        out.push('.');
        for _ in 0..prec {
            out.push(digit(mant));
            mant <<= 4;
        }
    }
    out.push(if upper { 'P' } else { 'p' });
    out.push(if exp < 0 { '-' } else { '+' });
    let _ = write!(out, "{:02}", exp.unsigned_abs());
}

/// Go's `unicode.IsPrint` approximation: graphic characters and the ASCII space.
pub(crate) fn is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    let u = c as u32;
    // Unassigned, private-use, surrogates, format characters Go treats as non-printable.
    !(matches!(u, 0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x180E | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB | 0xE000..=0xF8FF | 0xF0000..=0x10FFFF)
        || (0xFFFE..=0xFFFF).contains(&(u & 0xFFFF)))
}

fn quote_with(s: &str, q: char, ascii_only: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push(q);
    for c in s.chars() {
        quote_char_into(&mut out, c, q, ascii_only);
    }
    out.push(q);
    out
}

fn quote_char_into(out: &mut String, c: char, q: char, ascii_only: bool) {
    use std::fmt::Write as _;
    if c == q || c == '\\' {
        out.push('\\');
        out.push(c);
        return;
    }
    if ascii_only {
        if (c as u32) < 0x80 && is_print(c) {
            out.push(c);
            return;
        }
    } else if is_print(c) {
        out.push(c);
        return;
    }
    match c {
        '\x07' => out.push_str("\\a"),
        '\x08' => out.push_str("\\b"),
        '\x0c' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\x0b' => out.push_str("\\v"),
        c if (c as u32) < 0x20 || c as u32 == 0x7f => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if (c as u32) < 0x10000 => {
            let _ = write!(out, "\\u{:04x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\U{:08x}", c as u32);
        }
    }
}

/// `strconv.Quote`.
pub fn quote(s: &str) -> String {
    quote_with(s, '"', false)
}

/// `strconv.QuoteRune`: `c` as a Go character literal (what `%q` prints for a rune).
pub fn quote_rune(c: char) -> String {
    quote_rune_with(c, false)
}

/// `strconv.QuoteRune`, or `QuoteRuneToASCII` when `ascii_only` (`%+q`).
fn quote_rune_with(c: char, ascii_only: bool) -> String {
    let mut s = String::from('\'');
    quote_char_into(&mut s, c, '\'', ascii_only);
    s.push('\'');
    s
}

/// `strconv.Unquote` for `"..."` and `` `...` `` literals; `None` is Go's `invalid syntax`. A
/// `\xff` or `\377` escape that leaves bytes which are not UTF-8 gives U+FFFD for each here;
/// [`unquote_bytes`] keeps them, as a Go string does.
pub fn unquote(q: &str) -> Option<String> {
    unquote_bytes(q).map(|b| match String::from_utf8(b) {
        Ok(s) => s,
        Err(e) => Value::go_lossy(e.as_bytes()),
    })
}

/// [`unquote`] as Go's bytes.
pub fn unquote_bytes(q: &str) -> Option<Vec<u8>> {
    if q.len() < 2 {
        return None;
    }
    let (first, last) = (q.as_bytes()[0], q.as_bytes()[q.len() - 1]);
    let inner = &q[1..q.len() - 1];
    if first == b'`' && last == b'`' {
        if inner.contains('`') {
            return None;
        }
        return Some(inner.replace('\r', "").into_bytes());
    }
    if first != b'"' || last != b'"' {
        return None;
    }
    let mut out = Vec::with_capacity(inner.len());
    let mut rest = inner;
    while !rest.is_empty() {
        let c = rest.chars().next()?;
        if c == '"' || c == '\n' {
            return None;
        }
        if c != '\\' {
            out.extend_from_slice(&rest.as_bytes()[..c.len_utf8()]);
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let (ch, used) = unescape(rest, b'"')?;
        match ch {
            Esc::Char(c) => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
            // `\xff`: a byte of a Go string, UTF-8 or not.
            Esc::Byte(b) => out.push(b),
        }
        rest = &rest[used..];
    }
    Some(out)
}

enum Esc {
    Char(char),
    Byte(u8),
}

/// One backslash escape at the start of `s`; returns the value and bytes consumed.
fn unescape(s: &str, quote: u8) -> Option<(Esc, usize)> {
    let b = s.as_bytes();
    if b.len() < 2 {
        return None;
    }
    let hex = |n: usize| -> Option<u32> {
        let h = s.get(2..2 + n)?;
        u32::from_str_radix(h, 16)
            .ok()
            .filter(|_| h.bytes().all(|c| c.is_ascii_hexdigit()))
    };
    Some(match b[1] {
        b'a' => (Esc::Char('\x07'), 2),
        b'b' => (Esc::Char('\x08'), 2),
        b'f' => (Esc::Char('\x0c'), 2),
        b'n' => (Esc::Char('\n'), 2),
        b'r' => (Esc::Char('\r'), 2),
        b't' => (Esc::Char('\t'), 2),
        b'v' => (Esc::Char('\x0b'), 2),
        b'\\' => (Esc::Char('\\'), 2),
        b'\'' | b'"' if b[1] == quote => (Esc::Char(b[1] as char), 2),
        b'x' => (Esc::Byte(hex(2)? as u8), 4),
        b'u' => (Esc::Char(char::from_u32(hex(4)?)?), 6),
        b'U' => (Esc::Char(char::from_u32(hex(8)?)?), 10),
        b'0'..=b'7' => {
            let o = s.get(1..4)?;
            if !o.bytes().all(|c| (b'0'..=b'7').contains(&c)) {
                return None;
            }
            let v = u32::from_str_radix(o, 8).ok()?;
            if v > 255 {
                return None;
            }
            (Esc::Byte(v as u8), 4)
        }
        _ => return None,
    })
}

/// `strconv.UnquoteChar(s, '\'')`: the first character of `s` (a char literal after its opening
/// quote), as its value and the bytes it took; `None` is Go's `invalid syntax`.
pub(crate) fn unquote_char(s: &str) -> Option<(u32, usize)> {
    let c = s.chars().next()?;
    if c == '\'' {
        return None;
    }
    if c != '\\' {
        return Some((c as u32, c.len_utf8()));
    }
    let (e, used) = unescape(s, b'\'')?;
    Some(match e {
        Esc::Char(c) => (c as u32, used),
        Esc::Byte(b) => (u32::from(b), used),
    })
}

/// Formatting flags of one verb.
#[derive(Default, Clone, Copy)]
struct Flags {
    minus: bool,
    plus: bool,
    /// `%+v`: Go moves `+` here for `v`, where it names struct fields instead of signing numbers.
    plus_v: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    wid: Option<usize>,
    prec: Option<usize>,
    /// Strings that are not UTF-8 print as [`raw_text`] (for [`sprintf_value`]), not with U+FFFD.
    raw: bool,
    /// Printing an element of a slice, map or struct (Go's `depth > 0`), where a pointer is no
    /// longer followed.
    nested: bool,
}

impl Flags {
    /// The flags for an element of the value being printed.
    fn nested(&self) -> Flags {
        Flags {
            nested: true,
            ..*self
        }
    }

    /// Go's `fmt.pad`: width counts runes; zero padding only on the left.
    fn pad(&self, out: &mut String, s: &str) {
        let Some(w) = self.wid else {
            out.push_str(s);
            return;
        };
        let n = s.chars().count();
        if n >= w {
            out.push_str(s);
            return;
        }
        let fill = if self.zero && !self.minus { '0' } else { ' ' };
        if self.minus {
            out.push_str(s);
            out.extend(std::iter::repeat_n(' ', w - n));
        } else {
            out.extend(std::iter::repeat_n(fill, w - n));
            out.push_str(s);
        }
    }
}

/// `fmt.Sprintf(format, args...)` with Go's verbs, flags, width and precision, and Go's
/// `%!v(MISSING)` / `%!(EXTRA ...)` / `%!d(string=x)` error forms.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    sprintf_with(format, args, false)
}

/// [`sprintf`]; with `raw`, bytes that are not UTF-8 print as [`raw_text`].
fn sprintf_with(format: &str, args: &[Value], raw: bool) -> String {
    let mut out = String::with_capacity(format.len() + 16);
    let b = format.as_bytes();
    let end = b.len();
    let mut i = 0;
    let mut argn = 0usize;
    let mut reordered = false;
    while i < end {
        let lasti = i;
        while i < end && b[i] != b'%' {
            i += 1;
        }
        if i > lasti {
            out.push_str(&format[lasti..i]);
        }
        if i >= end {
            break;
        }
        i += 1;
        let mut fl = Flags {
            raw,
            ..Flags::default()
        };
        while i < end {
            match b[i] {
                b'#' => fl.sharp = true,
                b'0' => fl.zero = !fl.minus,
                b'+' => fl.plus = true,
                b'-' => {
                    fl.minus = true;
                    fl.zero = false;
                }
                b' ' => fl.space = true,
                _ => break,
            }
            i += 1;
        }
        let mut good_argnum = true;
        // Go's argNumber: `[n]` selects operand n (1-based); a malformed or out-of-range index
        // makes the verb print %!v(BADINDEX).
        let arg_number = |i: &mut usize, argn: &mut usize, reordered: &mut bool, good: &mut bool| -> bool {
            if *i >= end || b[*i] != b'[' {
                return false;
            }
            *reordered = true;
            let (index, wid, ok) = parse_arg_number(&b[*i..]);
            *i += wid;
            match index {
                Some(n) if ok && n < args.len() => {
                    *argn = n;
                    true
                }
                _ => {
                    *good = false;
                    ok
                }
            }
        };
        let mut after_index = arg_number(&mut i, &mut argn, &mut reordered, &mut good_argnum);
        // width
        if i < end && b[i] == b'*' {
            i += 1;
            let (n, ok) = int_from_arg(args, &mut argn);
            if ok {
                if n < 0 {
                    fl.minus = true;
                    fl.zero = false;
                }
                fl.wid = Some(n.unsigned_abs() as usize);
            } else {
                out.push_str("%!(BADWIDTH)");
            }
            after_index = false;
        } else {
            let (n, present, next) = parse_num(b, i);
            i = next;
            if present {
                fl.wid = Some(n);
                if after_index {
                    good_argnum = false;
                }
            }
        }
        // precision
        if i + 1 < end && b[i] == b'.' {
            i += 1;
            if after_index {
                good_argnum = false;
            }
            after_index = arg_number(&mut i, &mut argn, &mut reordered, &mut good_argnum);
            if i < end && b[i] == b'*' {
                i += 1;
                let (n, ok) = int_from_arg(args, &mut argn);
                // A negative precision is refused like a bad one (and means none).
                fl.prec = (ok && n >= 0).then_some(n as usize);
                if fl.prec.is_none() {
                    out.push_str("%!(BADPREC)");
                }
                after_index = false;
            } else {
                let (n, _, next) = parse_num(b, i);
                i = next;
                fl.prec = Some(n);
            }
        }
        if !after_index {
            arg_number(&mut i, &mut argn, &mut reordered, &mut good_argnum);
        }
        if i >= end {
            out.push_str("%!(NOVERB)");
            break;
        }
        let verb = format[i..].chars().next().unwrap_or('%');
        i += verb.len_utf8();
        if verb == '%' {
            out.push('%');
            continue;
        }
        if !good_argnum {
            out.push_str("%!");
            out.push(verb);
            out.push_str("(BADINDEX)");
            continue;
        }
        let Some(arg) = args.get(argn) else {
            out.push_str("%!");
            out.push(verb);
            out.push_str("(MISSING)");
            continue;
        };
        argn += 1;
        if verb == 'v' {
            if fl.sharp {
                fl.sharp = false;
                let s = go_syntax(arg);
                fl.pad(&mut out, &s);
                continue;
            }
            fl.plus_v = fl.plus;
            fl.plus = false;
        }
        print_arg(&mut out, arg, verb, &fl);
    }
    if !reordered && argn < args.len() {
        out.push_str("%!(EXTRA ");
        for (k, a) in args[argn..].iter().enumerate() {
            if k > 0 {
                out.push_str(", ");
            }
            if matches!(a, Value::Nil) {
                out.push_str("<nil>");
            } else {
                out.push_str(a.type_name());
                out.push('=');
                print_arg(&mut out, a, 'v', &Flags::default());
            }
        }
        out.push(')');
    }
    out
}

/// Go's `tooLarge`: widths and precisions are limited to a million.
fn too_large(n: i64) -> bool {
    !(-1_000_000..=1_000_000).contains(&n)
}

/// Go's `parsenum` from `b[i..]`: the number, whether there was one, and where it ends; a
/// number that grows past a million consumes the rest of the format (which then has no verb).
fn parse_num(b: &[u8], mut i: usize) -> (usize, bool, usize) {
    let mut n: i64 = 0;
    let mut present = false;
    while i < b.len() && b[i].is_ascii_digit() {
        if too_large(n) {
            return (0, false, b.len());
        }
        n = n * 10 + i64::from(b[i] - b'0');
        present = true;
        i += 1;
    }
    (n as usize, present, i)
}

/// Go's `parseArgNumber` of `[n]...`: the 0-based index, the bytes taken and whether the
/// bracket was well formed.
fn parse_arg_number(b: &[u8]) -> (Option<usize>, usize, bool) {
    if b.len() < 3 {
        return (None, 1, false);
    }
    match b.iter().position(|&c| c == b']') {
        Some(close) => {
            let (n, ok, next) = parse_num(&b[..close], 1);
            if !ok || next != close {
                return (None, close + 1, false);
            }
            (n.checked_sub(1), close + 1, true)
        }
        None => (None, 1, false),
    }
}

/// Go's `intFromArg` for `*` widths and precisions: the operand if it is an int within a
/// million (the operand is consumed either way).
fn int_from_arg(args: &[Value], argn: &mut usize) -> (i64, bool) {
    let Some(v) = args.get(*argn) else {
        return (0, false);
    };
    *argn += 1;
    match v {
        Value::Int(n) | Value::Int64(n) if !too_large(*n) => (*n, true),
        Value::Uint64(n) if i64::try_from(*n).is_ok_and(|n| !too_large(n)) => (*n as i64, true),
        _ => (0, false),
    }
}

fn bad_verb(out: &mut String, v: &Value, verb: char) {
    out.push_str("%!");
    out.push(verb);
    out.push('(');
    if matches!(v, Value::Nil) {
        out.push_str("<nil>");
    } else {
        out.push_str(v.type_name());
        out.push('=');
        print_arg(out, v, 'v', &Flags::default());
    }
    out.push(')');
}

fn print_arg(out: &mut String, v: &Value, verb: char, fl: &Flags) {
    if verb == 'T' {
        fl.pad(out, v.type_name());
        return;
    }
    match v {
        Value::Nil => match verb {
            'v' => fl.pad(out, "<nil>"),
            _ => bad_verb(out, v, verb),
        },
        Value::Bool(b) => match verb {
            't' | 'v' => fl.pad(out, if *b { "true" } else { "false" }),
            _ => bad_verb(out, v, verb),
        },
        Value::Int(i) | Value::Int64(i) => fmt_int(out, i128::from(*i), verb, fl, v),
        Value::Uint64(u) => fmt_int(out, i128::from(*u), verb, fl, v),
        Value::Float(f) => match verb {
            'v' => fmt_float(out, *f, b'g', fl.prec.map_or(-1, |p| p as i32), fl),
            'g' | 'G' => fmt_float(out, *f, verb as u8, fl.prec.map_or(-1, |p| p as i32), fl),
            'b' | 'x' | 'X' => fmt_float(out, *f, verb as u8, fl.prec.map_or(-1, |p| p as i32), fl),
            'e' | 'E' | 'f' | 'F' => fmt_float(out, *f, verb as u8, fl.prec.map_or(6, |p| p as i32), fl),
            _ => bad_verb(out, v, verb),
        },
        Value::Str(s) => fmt_str(out, s.as_bytes(), verb, fl, v),
        Value::BStr(b) => fmt_str(out, b, verb, fl, v),
        Value::Bytes(bs) => match verb {
            's' | 'q' | 'x' | 'X' => fmt_str(out, bs, verb, fl, v),
            _ => {
                out.push('[');
                for (k, x) in bs.iter().enumerate() {
                    if k > 0 {
                        out.push(' ');
                    }
                    print_arg(out, &Value::Int(*x as i64), verb, fl);
                }
                out.push(']');
            }
        },
        Value::List(l) => {
            let inner = fl.nested();
            out.push('[');
            for (k, x) in l.iter().enumerate() {
                if k > 0 {
                    out.push(' ');
                }
                print_arg(out, x, verb, &inner);
            }
            out.push(']');
        }
        Value::Map(m) => {
            let inner = fl.nested();
            out.push_str("map[");
            for (k, (key, x)) in m.borrow().iter().enumerate() {
                if k > 0 {
                    out.push(' ');
                }
                print_arg(out, &Value::str(key.as_str()), verb, &inner);
                out.push(':');
                print_arg(out, x, verb, &inner);
            }
            out.push(']');
        }
        // A typed slice (`[]int`) prints element by element with the verb, as a list does.
        Value::Object(o) if o.as_list().is_some() && verb != 'T' => {
            let l = o.as_list().cloned().unwrap_or_default();
            print_arg(out, &Value::List(l), verb, fl);
        }
        // A typed or named map (`split`'s `map[string]string`, `chartutil.Values`) likewise: each
        // element with the verb (`%s` of a float in it is `%!s(float64=1)`).
        Value::Object(o) if o.kind_name() == "map" && o.as_map().is_some() => {
            let m = o.as_map().cloned().unwrap_or_default();
            print_arg(out, &Value::Map(m), verb, fl);
        }
        Value::Object(o) if o.as_complex().is_some() => {
            let (re, im) = o.as_complex().unwrap_or_default();
            fmt_complex(out, re, im, verb, fl, v);
        }
        // A map type that holds its entries otherwise (Helm's `.Files`, path to `[]byte`): the
        // map it marshals as, element by element with the verb (`%s` prints each body as text).
        Value::Object(o) if o.kind_name() == "map" && verb != 'T' && o.to_plain().is_some() => {
            print_arg(out, &o.to_plain().unwrap_or_default(), verb, fl);
        }
        // A struct prints field by field, each with the verb (`%q` quotes each, `%+v` names
        // them), as Go's `printValue` does; a pointer to one at the top as `&{...}`.
        Value::Object(o)
            if matches!(o.kind_name(), "struct" | "ptr") && !o.fields().is_empty() && verb != 'T' =>
        {
            if o.kind_name() == "ptr" {
                // Inside another value Go prints a pointer's address for the integer verbs
                // and `%v` (which no output can match: ours prints what it points to), and
                // reports other verbs as bad, showing the pointer followed once.
                if fl.nested && !matches!(verb, 'v' | 'p' | 'b' | 'o' | 'd' | 'x' | 'X') {
                    return bad_verb(out, v, verb);
                }
                out.push('&');
            }
            let inner = fl.nested();
            out.push('{');
            for (k, (name, x)) in o.fields().iter().enumerate() {
                if k > 0 {
                    out.push(' ');
                }
                if fl.plus_v {
                    out.push_str(name);
                    out.push(':');
                }
                print_arg(out, x, verb, &inner);
            }
            out.push('}');
        }
        Value::Object(o) => match verb {
            'v' | 's' => fl.pad(out, &o.go_string()),
            'q' => fl.pad(out, &quote(&o.go_string())),
            _ => bad_verb(out, v, verb),
        },
    }
}

/// Go's `fmtComplex`: `(re+imi)`, each part formatted as a float with the verb's flags and
/// width, the imaginary part always signed.
fn fmt_complex(out: &mut String, re: f64, im: f64, verb: char, fl: &Flags, v: &Value) {
    let (fverb, prec) = match verb {
        'v' => (b'g', -1),
        'b' | 'g' | 'G' | 'x' | 'X' => (verb as u8, -1),
        'f' | 'F' | 'e' | 'E' => (verb as u8, 6),
        _ => return bad_verb(out, v, verb),
    };
    let prec = fl.prec.map_or(prec, |p| p as i32);
    out.push('(');
    fmt_float(out, re, fverb, prec, fl);
    let mut signed = *fl;
    signed.plus = true;
    fmt_float(out, im, fverb, prec, &signed);
    out.push_str("i)");
}

/// Go's `fmtInteger` for every integer kind (`uint64` needs the width of an i128).
fn fmt_int(out: &mut String, i: i128, verb: char, fl: &Flags, v: &Value) {
    let (base, upper) = match verb {
        'v' | 'd' => (10, false),
        'b' => (2, false),
        'o' | 'O' => (8, false),
        'x' => (16, false),
        'X' => (16, true),
        'c' => {
            let c = char::from_u32(i as u32)
                .filter(|_| (0..=0x10FFFF).contains(&i))
                .unwrap_or('\u{FFFD}');
            fl.pad(out, c.encode_utf8(&mut [0; 4]));
            return;
        }
        'q' => {
            let c = char::from_u32(i as u32)
                .filter(|_| (0..=0x10FFFF).contains(&i))
                .unwrap_or('\u{FFFD}');
            fl.pad(out, &quote_rune_with(c, fl.plus));
            return;
        }
        'U' => {
            let mut s = format!("U+{:04X}", i);
            if fl.sharp {
                if let Some(c) = char::from_u32(i as u32).filter(|c| is_print(*c)) {
                    s.push_str(&format!(" '{c}'"));
                }
            }
            fl.pad(out, &s);
            return;
        }
        _ => return bad_verb(out, v, verb),
    };
    let neg = i < 0;
    let u = i.unsigned_abs();
    let mut digits = match (base, upper) {
        (10, _) => u.to_string(),
        (2, _) => format!("{u:b}"),
        (8, _) => format!("{u:o}"),
        (_, false) => format!("{u:x}"),
        (_, true) => format!("{u:X}"),
    };
    let mut prec: Option<usize> = None;
    if let Some(p) = fl.prec {
        if p == 0 && u == 0 {
            let mut f2 = *fl;
            f2.zero = false;
            f2.pad(out, "");
            return;
        }
        prec = Some(p);
    } else if fl.zero && fl.wid.is_some() && !fl.minus {
        let mut p = fl.wid.unwrap_or(0);
        if neg || fl.plus || fl.space {
            p = p.saturating_sub(1);
        }
        prec = Some(p);
    }
    if let Some(p) = prec {
        if digits.len() < p {
            digits = "0".repeat(p - digits.len()) + &digits;
        }
    }
    let mut s = String::new();
    if neg {
        s.push('-');
    } else if fl.plus {
        s.push('+');
    } else if fl.space {
        s.push(' ');
    }
    if fl.sharp {
        match base {
            2 => s.push_str("0b"),
            8 if !digits.starts_with('0') => s.push('0'),
            16 => s.push_str(if upper { "0X" } else { "0x" }),
            _ => {}
        }
    }
    if verb == 'O' {
        s.push_str("0o");
    }
    s.push_str(&digits);
    let mut f2 = *fl;
    f2.zero = false;
    f2.pad(out, &s);
}

fn fmt_float(out: &mut String, f: f64, verb: u8, prec: i32, fl: &Flags) {
    let mut num = format_float(f, verb, prec);
    if !num.starts_with(['-', '+']) {
        num.insert(0, '+');
    }
    if fl.space && num.starts_with('+') && !fl.plus {
        num.replace_range(0..1, " ");
    }
    let body = &num[1..];
    if body.starts_with('I') || body.starts_with('N') {
        let mut f2 = *fl;
        f2.zero = false;
        if body.starts_with('N') && !fl.space && !fl.plus {
            f2.pad(out, body);
        } else {
            f2.pad(out, &num);
        }
        return;
    }
    if fl.plus || !num.starts_with('+') {
        if fl.zero && !fl.minus {
            if let Some(w) = fl.wid {
                if w > num.len() {
                    out.push_str(&num[..1]);
                    out.extend(std::iter::repeat_n('0', w - num.len()));
                    out.push_str(&num[1..]);
                    return;
                }
            }
        }
        fl.pad(out, &num);
        return;
    }
    fl.pad(out, &num[1..]);
}

fn fmt_str(out: &mut String, bytes: &[u8], verb: char, fl: &Flags, v: &Value) {
    use std::fmt::Write as _;
    let s = match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        // 'q' and 'x' read the bytes themselves.
        Err(_) if fl.raw => raw_text(bytes).into(),
        Err(_) => String::from_utf8_lossy(bytes),
    };
    match verb {
        'v' | 's' => {
            let t: std::borrow::Cow<'_, str> = match fl.prec {
                Some(p) => s.chars().take(p).collect::<String>().into(),
                None => s.clone(),
            };
            fl.pad(out, &t);
        }
        // strconv.Quote escapes each byte that is not UTF-8 as `\xNN` (only a Go string that is
        // not valid UTF-8 has such bytes; precision and `#` are not modelled for it).
        'q' if std::str::from_utf8(bytes).is_err() => {
            let mut q = String::from("\"");
            for chunk in bytes.utf8_chunks() {
                let valid = quote_with(chunk.valid(), '"', fl.plus);
                q.push_str(&valid[1..valid.len() - 1]);
                for byte in chunk.invalid() {
                    let _ = write!(q, "\\x{byte:02x}");
                }
            }
            q.push('"');
            fl.pad(out, &q);
        }
        'q' => {
            let t: String = match fl.prec {
                Some(p) => s.chars().take(p).collect(),
                None => s.to_string(),
            };
            let q = if fl.sharp
                && !t.contains('`')
                && t.chars().all(|c| c == '\t' || (is_print(c) && c != '\u{FEFF}'))
            {
                format!("`{t}`")
            } else {
                quote_with(&t, '"', fl.plus)
            };
            fl.pad(out, &q);
        }
        'x' | 'X' => {
            let n = fl.prec.map_or(bytes.len(), |p| p.min(bytes.len()));
            let mut h = String::new();
            for (k, byte) in bytes[..n].iter().enumerate() {
                if fl.space && k > 0 {
                    h.push(' ');
                }
                if fl.sharp && (fl.space || k == 0) {
                    h.push_str(if verb == 'x' { "0x" } else { "0X" });
                }
                if verb == 'x' {
                    let _ = write!(h, "{byte:02x}");
                } else {
                    let _ = write!(h, "{byte:02X}");
                }
            }
            fl.pad(out, &h);
        }
        // Go prints the operand of a bad verb with %v: its raw bytes for `printf`'s result.
        _ if fl.raw && matches!(v, Value::BStr(_)) => {
            out.push_str("%!");
            out.push(verb);
            out.push_str("(string=");
            out.push_str(&s);
            out.push(')');
        }
        _ => bad_verb(out, v, verb),
    }
}

/// `%#v`: Go-syntax representation.
fn go_syntax(v: &Value) -> String {
    match v {
        Value::Nil => "<nil>".into(),
        Value::Str(s) => quote(s),
        // Go's `%#v` of a float64 is its `%v` (`1`, not `1.0`), as helm prints.
        Value::Float(f) => format_float_g(*f),
        // Go's %#v prints unsigned integers in hex.
        Value::Uint64(u) => format!("0x{u:x}"),
        Value::Bytes(b) => bytes_literal("[]byte", b),
        Value::List(l) => format!("[]interface {{}}{{{}}}", go_syntax_items(l)),
        Value::Map(m) => format!("map[string]interface {{}}{{{}}}", go_syntax_entries(m)),
        // A typed nil (a chart's unset `keywords`, `[]string`; `annotations`,
        // `map[string]string`) prints as a conversion of nil.
        Value::Object(o)
            if (o.as_list().is_some() || o.as_map().is_some())
                && matches!(o.to_plain(), Some(Value::Nil)) =>
        {
            format!("{}(nil)", o.type_name())
        }
        Value::Object(o) if o.as_list().is_some() => {
            let items = o.as_list().map(|l| go_syntax_items(l)).unwrap_or_default();
            format!("{}{{{items}}}", o.type_name())
        }
        // A map of a concrete value type (`split`'s `map[string]string`) or a named map type
        // (Helm's `chartutil.Values`), under its own name.
        Value::Object(o) if o.as_map().is_some() && o.kind_name() == "map" => {
            let items = o.as_map().map(go_syntax_entries).unwrap_or_default();
            format!("{}{{{items}}}", o.type_name())
        }
        // A slice or map type that holds its elements otherwise (`chartutil.VersionSet`,
        // `engine.files`): the slice or map it marshals as, under its own type.
        Value::Object(o) if matches!(o.kind_name(), "slice" | "map") => match o.to_plain() {
            Some(Value::List(l)) => format!("{}{{{}}}", o.type_name(), go_syntax_items(&l)),
            Some(Value::Map(m)) => format!("{}{{{}}}", o.type_name(), go_syntax_entries(&m)),
            _ => format_v(v),
        },
        // A struct as a composite literal of its type, each field named; a pointer to one as
        // `&T{…}` (as at the top: nested pointers print their address in Go, which no output
        // can match).
        Value::Object(o) if matches!(o.kind_name(), "struct" | "ptr") && !o.fields().is_empty() => {
            let (amp, name) = match o.type_name().strip_prefix('*') {
                Some(name) if o.kind_name() == "ptr" => ("&", name),
                _ => ("", o.type_name()),
            };
            let fields: Vec<String> = o
                .fields()
                .iter()
                .map(|(k, x)| format!("{k}:{}", go_syntax_nested(x)))
                .collect();
            format!("{amp}{name}{{{}}}", fields.join(", "))
        }
        other => format_v(other),
    }
}

/// `%#v` of a value held in an `interface{}` slot (an element of `[]interface {}` or of
/// `map[string]interface {}`): nil there is a typed conversion, `interface {}(nil)`.
fn go_syntax_elem(v: &Value) -> String {
    match v {
        Value::Nil => "interface {}(nil)".into(),
        v => go_syntax_nested(v),
    }
}

/// `%#v` of a value inside another: Go names a nested `[]byte` by its reflected type,
/// `[]uint8` (only a top-level argument is `[]byte`).
fn go_syntax_nested(v: &Value) -> String {
    match v {
        Value::Bytes(b) => bytes_literal("[]uint8", b),
        v => go_syntax(v),
    }
}

/// `%#v` of a byte slice named `type_name`: each byte in hex.
fn bytes_literal(type_name: &str, b: &[u8]) -> String {
    let items: Vec<String> = b.iter().map(|x| format!("0x{x:x}")).collect();
    format!("{type_name}{{{}}}", items.join(", "))
}

fn go_syntax_items(l: &[Value]) -> String {
    l.iter().map(go_syntax_elem).collect::<Vec<_>>().join(", ")
}

fn go_syntax_entries(m: &Map) -> String {
    m.borrow()
        .iter()
        .map(|(k, x)| format!("{}:{}", quote(k), go_syntax_elem(x)))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float32_g_table() {
        // strconv.FormatFloat(f, 'g', -1, 32) in Go 1.23: the float32 nearest f, shortest digits.
        let cases: &[(f64, &str)] = &[
            (1.10, "1.1"),
            (1.0, "1"),
            (0.1, "0.1"),
            (2.5, "2.5"),
            (100000.0, "100000"),
            (1e6, "1e+06"),
            (1.5e-7, "1.5e-07"),
            (0.0001, "0.0001"),
            (1.2345678e7, "1.2345678e+07"),
            (-3.25, "-3.25"),
            (0.0, "0"),
            (-0.0, "-0"),
            (1e300, "+Inf"),
            (-1e300, "-Inf"),
            (f64::NAN, "NaN"),
            (16777217.0, "1.6777216e+07"),
        ];
        for (f, want) in cases {
            assert_eq!(format_float32_g(*f), *want, "{f}");
        }
    }

    #[test]
    fn quote_and_quote_rune() {
        // strconv.Quote / QuoteRune: short escapes where Go has them (\a, \v), \x for other
        // ASCII controls, \u for non-printable runes (U+180E is a format character in Go),
        // printable non-ASCII as is.
        let cases = [
            ("plain", "ab", "\"ab\"", "'a'"),
            ("bell", "\u{7}", r#""\a""#, r"'\a'"),
            ("vertical tab", "\u{b}", r#""\v""#, r"'\v'"),
            ("delete", "\u{7f}", r#""\x7f""#, r"'\x7f'"),
            ("quotes", "'", "\"'\"", r"'\''"),
            (
                "mongolian vowel separator",
                "\u{180e}",
                r#""\u180e""#,
                r"'\u180e'",
            ),
            ("accented", "é", "\"é\"", "'é'"),
        ];
        for (name, input, quoted, rune) in cases {
            assert_eq!(quote(input), quoted, "{name}");
            assert_eq!(quote_rune(input.chars().next().unwrap()), rune, "{name}");
        }
    }

    #[test]
    fn floats_g() {
        let cases: &[(&str, f64, &str)] = &[
            ("million", 1000000.0, "1e+06"),
            ("100k", 100000.0, "100000"),
            ("small", 0.0001, "0.0001"),
            ("smaller", 0.00001, "1e-05"),
            ("frac", 0.3, "0.3"),
            ("int", 3.0, "3"),
            ("neg", -2.5, "-2.5"),
            ("zero", 0.0, "0"),
            ("neg zero", -0.0, "-0"),
            ("below million", 999999.0, "999999"),
            ("neg int", -42.0, "-42"),
            ("big", 1.5e300, "1.5e+300"),
            ("7digits", 1234567.0, "1.234567e+06"),
            ("tiny", 1.5e-7, "1.5e-07"),
            ("inf", f64::INFINITY, "+Inf"),
            ("nan", f64::NAN, "NaN"),
            ("third", 1.0 / 3.0, "0.3333333333333333"),
        ];
        for (name, f, want) in cases {
            assert_eq!(format_float_g(*f), *want, "case {name}");
        }
    }

    /// A Go string that is not UTF-8 prints by its bytes; int64 prints like int but types apart.
    #[test]
    fn byte_strings_and_int64() {
        let bstr = |b: &[u8]| Value::from_go_bytes(b.to_vec());
        let cases: Vec<(&str, Value, &str)> = vec![
            ("%q", bstr(b"\xff"), r#""\xff""#),
            ("%q", bstr(b"a\xff\n\xc3"), r#""a\xff\n\xc3""#),
            ("%+q", bstr(b"\xc3\xa9\xff"), r#""\u00e9\xff""#),
            ("%x", bstr(b"\xff\x00"), "ff00"),
            ("%s|", bstr(b"a\xff"), "a\u{FFFD}|"),
            ("%T", bstr(b"\xff"), "string"),
            ("%T", Value::Int64(1), "int64"),
            ("%05d", Value::Int64(-42), "-0042"),
            ("%v", Value::Int64(i64::MIN), "-9223372036854775808"),
        ];
        for (format, arg, want) in cases {
            assert_eq!(
                sprintf(format, std::slice::from_ref(&arg)),
                want,
                "{format} {arg:?}"
            );
        }
    }

    /// Go takes precisions up to a million; Rust's formatter panics past 65535.
    #[test]
    fn huge_precision() {
        let cases: &[(&str, Value, usize, &str)] = &[
            ("%.70000f", Value::Float(1.5), 70_002, "1.5000"),
            ("%.70000e", Value::Float(1.5), 70_006, "1.5000"),
            ("%.70000g", Value::Float(1.5), 3, "1.5"),
            ("%.70000d", Value::Int(7), 70_000, "0000"),
            ("%.70000s", Value::str("abc"), 3, "abc"),
        ];
        for (format, arg, len, head) in cases {
            let got = sprintf(format, std::slice::from_ref(arg));
            assert_eq!(got.len(), *len, "{format}");
            assert!(got.starts_with(head), "{format}: {}", &got[..10.min(got.len())]);
        }
    }

    #[test]
    fn printf() {
        let s = |x: &str| Value::str(x);
        let cases: Vec<(&str, &str, Vec<Value>, &str)> = vec![
            ("pad float", "%05.1f", vec![Value::Float(1.23456)], "001.2"),
            ("neg pad float", "%06.2f", vec![Value::Float(-1.23456)], "-01.23"),
            ("d", "%d", vec![Value::Int(42)], "42"),
            ("d of float", "%d", vec![Value::Float(2.0)], "%!d(float64=2)"),
            ("s of int", "%s", vec![Value::Int(3)], "%!s(int=3)"),
            ("s of nil", "%s", vec![Value::Nil], "%!s(<nil>)"),
            ("v of nil", "%v", vec![Value::Nil], "<nil>"),
            ("missing", "%s and %s", vec![s("a")], "a and %!s(MISSING)"),
            (
                "extra",
                "%s",
                vec![s("a"), Value::Int(1), s("b")],
                "a%!(EXTRA int=1, string=b)",
            ),
            ("q", "%q", vec![s("a\"b\n")], "\"a\\\"b\\n\""),
            ("width", "[%5s|%-5s]", vec![s("ab"), s("cd")], "[   ab|cd   ]"),
            ("zero int", "%05d", vec![Value::Int(-42)], "-0042"),
            (
                "hex",
                "%x %X %#x",
                vec![Value::Int(255), Value::Int(255), Value::Int(255)],
                "ff FF 0xff",
            ),
            ("hex str", "%x", vec![s("hi")], "6869"),
            ("percent", "100%%", vec![], "100%"),
            ("e", "%e", vec![Value::Float(1234.5678)], "1.234568e+03"),
            ("g prec", "%.3g", vec![Value::Float(1234.5678)], "1.23e+03"),
            (
                "list",
                "%v",
                vec![Value::list(vec![Value::Int(1), s("a")])],
                "[1 a]",
            ),
            (
                "list d",
                "%d",
                vec![Value::list(vec![Value::Int(1), s("a")])],
                "[1 %!d(string=a)]",
            ),
            ("T", "%T %T", vec![Value::Int(1), s("x")], "int string"),
            ("c", "%c", vec![Value::Int(65)], "A"),
            ("t", "%t", vec![Value::Bool(true)], "true"),
            ("star width", "%*d", vec![Value::Int(4), Value::Int(7)], "   7"),
            ("index", "%[2]s %[1]s", vec![s("a"), s("b")], "b a"),
            ("noverb", "abc%", vec![], "abc%!(NOVERB)"),
            // Expectations below from Go 1.23's fmt_test.go and `helm template`.
            (
                "index past operands",
                "%[3]d",
                vec![Value::Int(1)],
                "%!d(BADINDEX)",
            ),
            ("index zero", "%[0]d", vec![Value::Int(1)], "%!d(BADINDEX)"),
            ("index unclosed", "%[1d", vec![Value::Int(1)], "%!d(BADINDEX)"),
            ("index signed", "%[+1]d", vec![Value::Int(1)], "%!d(BADINDEX)"),
            ("index then width", "%[1]2d", vec![Value::Int(1)], "%!d(BADINDEX)"),
            (
                "index reorders",
                "%[2]d %[1]d",
                vec![Value::Int(1), Value::Int(2)],
                "2 1",
            ),
            (
                "width over a million",
                "%100000000d",
                vec![Value::Int(1)],
                "%!(NOVERB)%!(EXTRA int=1)",
            ),
            (
                "precision over a million",
                "%.100000000d",
                vec![Value::Int(1)],
                "%!(NOVERB)%!(EXTRA int=1)",
            ),
            (
                "star width too large",
                "%*d",
                vec![Value::Int(10_000_000), Value::Int(1)],
                "%!(BADWIDTH)1",
            ),
            (
                "star precision too large",
                "%.*d",
                vec![Value::Int(10_000_000), Value::Int(1)],
                "%!(BADPREC)1",
            ),
            (
                "star precision negative",
                "%.*d",
                vec![Value::Int(-1), Value::Int(7)],
                "%!(BADPREC)7",
            ),
            ("dot at end is the verb", "%.", vec![Value::Int(1)], "%!.(int=1)"),
            ("hex float", "%x", vec![Value::Float(1.5)], "0x1.8p+00"),
            ("hex float zero", "%x", vec![Value::Float(0.0)], "0x0p+00"),
            (
                "hex float precision",
                "%.3X",
                vec![Value::Float(-1.0 / 3.0)],
                "-0X1.555P-02",
            ),
            ("hex float rounds up", "%.0x", vec![Value::Float(1.99)], "0x1p+01"),
            (
                "binary float",
                "%b",
                vec![Value::Float(-0.5)],
                "-4503599627370496p-53",
            ),
            ("int as float verb", "%x", vec![Value::Int(255)], "ff"),
            ("plus", "%+d", vec![Value::Int(5)], "+5"),
            ("prec str", "%.2s", vec![s("abcdef")], "ab"),
            ("v float", "%v", vec![Value::Float(1e21)], "1e+21"),
        ];
        for (name, f, args, want) in cases {
            assert_eq!(sprintf(f, &args), want, "case {name}");
        }
    }

    #[test]
    fn sprint_rules() {
        let cases: Vec<(&str, Vec<Value>, &str)> = vec![
            ("ints spaced", vec![Value::Int(1), Value::Int(2)], "1 2"),
            ("strings joined", vec![Value::str("a"), Value::str("b")], "ab"),
            (
                "mixed",
                vec![Value::str("a"), Value::Int(1), Value::Int(2), Value::str("b")],
                "a1 2b",
            ),
            ("nil", vec![Value::Nil, Value::Nil], "<nil> <nil>"),
        ];
        for (name, args, want) in cases {
            assert_eq!(sprint(&args), want, "case {name}");
        }
        assert_eq!(sprintln(&[Value::str("a"), Value::str("b")]), "a b\n");
    }

    #[test]
    fn maps_sorted() {
        let m = Value::new_map();
        if let Value::Map(mm) = &m {
            mm.borrow_mut().insert("b".into(), Value::Int(2));
            mm.borrow_mut().insert("a".into(), Value::Float(1.5));
        }
        assert_eq!(format_v(&m), "map[a:1.5 b:2]");
    }

    /// `fmt.Sprintf` and `fmt.Sprint` results as Go's bytes; expectations from helm v3.17.2
    /// (`printf ... | b64enc`, also in fixtures/suites/go-bytes.yaml).
    #[test]
    fn formatted_bytes_stay_bytes() {
        let ff = || Value::from_go_bytes(vec![0xff]);
        let pua = Value::str("\u{10FFFF}\u{10FF41}");
        let cases: Vec<(&str, Value, Vec<Value>, &[u8])> = vec![
            ("%s", Value::str("%s"), vec![ff()], b"\xff"),
            (
                "%v in a list",
                Value::str("%v"),
                vec![Value::list(vec![ff()])],
                b"[\xff]",
            ),
            ("width", Value::str("%3s|"), vec![ff()], b"  \xff|"),
            (
                "precision",
                Value::str("%.1s"),
                vec![Value::from_go_bytes(vec![0xff, b'a'])],
                b"\xff",
            ),
            ("bad verb", Value::str("%d"), vec![ff()], b"%!d(string=\xff)"),
            ("%x reads bytes", Value::str("%x"), vec![ff()], b"ff"),
            ("%q reads bytes", Value::str("%q"), vec![ff()], b"\"\\xff\""),
            ("format", ff(), vec![], b"\xff"),
            // No operand holds bad bytes: private-use chars are text, left as they are.
            (
                "private use",
                Value::str("%s"),
                vec![pua.clone()],
                "\u{10FFFF}\u{10FF41}".as_bytes(),
            ),
            (
                "utf-8 beside bytes",
                Value::str("%s%s"),
                vec![Value::str("é"), ff()],
                b"\xc3\xa9\xff",
            ),
        ];
        for (case, format, args, want) in cases {
            let got = sprintf_value(&format, &args);
            assert_eq!(got, Value::from_go_bytes(want.to_vec()), "case {case}");
        }
        let got = sprint_value(&[Value::list(vec![ff()]), Value::Int(1)], true);
        assert_eq!(got, Value::from_go_bytes(b"[\xff] 1\n".to_vec()));
    }
}
