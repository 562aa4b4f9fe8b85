//! Number literals as Go's `text/template/parse` reads them (`newNumber` in node.go) and as its
//! executor types them (`idealConstant` in exec.go).
//!
//! A literal can be an int, a uint, a float and a complex at once (`1.0` is all of the first
//! three; `'a'` too): the parser records every reading that succeeds, with Go's `strconv` rules
//! (base prefixes `0x`/`0o`/`0b`, a leading `0` for octal, `_` only between digits, hex floats
//! such as `0x1p60`), and rejects what Go rejects with Go's messages (`integer overflow: "…"`,
//! `illegal number syntax: "…"`, `malformed character constant: …`). Execution then picks one
//! type from the syntax: complex if it is complex, float64 if written with `.`/`e`/`p` (and not a
//! hex int or a char), else int.
//!
//! Complex numbers have no [`Value`] variant of their own (no Helm value holds one); they are a
//! small [`Object`] of Go type `complex128` that prints as Go does, `(1+2i)`, and that `eq`
//! compares by value.

use std::rc::Rc;

use super::{gofmt, Object, Value};

/// How the lexer classified the literal.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lexed {
    /// `'a'`
    Char,
    /// `1+2i`: a real part, a sign and an imaginary part with no spaces.
    Complex,
    /// Any other number token (`1`, `-0x1F`, `1.5e3`, `2i`).
    Number,
}

/// Every reading of one literal that succeeded (Go's `NumberNode`).
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Number {
    pub int: Option<i64>,
    pub uint: Option<u64>,
    pub float: Option<f64>,
    pub complex: Option<(f64, f64)>,
}

/// Reads a literal the way Go's `newNumber` does; the error is the parse error text.
pub(crate) fn parse(text: &str, lexed: Lexed) -> Result<Number, String> {
    let mut n = Number::default();
    match lexed {
        Lexed::Char => {
            let (c, used) = gofmt::unquote_char(&text[1..]).ok_or_else(|| "invalid syntax".to_string())?;
            if &text[1 + used..] != "'" {
                return Err(format!("malformed character constant: {text}"));
            }
            let c = i64::from(c);
            n.int = Some(c);
            n.uint = Some(c as u64);
            // "odd but those are the rules" (node.go): a char is a float too.
            n.float = Some(c as f64);
            return Ok(n);
        }
        Lexed::Complex => {
            n.complex = Some(scan_complex(text)?);
            n.simplify_complex();
            return Ok(n);
        }
        Lexed::Number => {}
    }
    // An imaginary literal is complex only (unless it is zero, see simplify_complex).
    if let Some(im) = text.strip_suffix('i').and_then(parse_float) {
        n.complex = Some((0.0, im));
        n.simplify_complex();
        return Ok(n);
    }
    n.uint = parse_uint(text);
    n.int = parse_int(text);
    if n.int == Some(0) {
        // -0 parses as an int but not as a uint.
        n.uint = Some(0);
    }
    if let Some(i) = n.int {
        n.float = Some(i as f64);
    } else if let Some(u) = n.uint {
        n.float = Some(u as f64);
    } else if let Some(f) = parse_float(text) {
        // Float syntax is required: digits alone that parse only as a float are too big an int.
        if !text.contains(['.', 'e', 'E', 'p', 'P']) {
            return Err(format!("integer overflow: {}", gofmt::quote(text)));
        }
        n.float = Some(f);
        if let Some(i) = exact_i64(f) {
            n.int = Some(i);
        }
        if let Some(u) = exact_u64(f) {
            n.uint = Some(u);
        }
    }
    if n.int.is_none() && n.uint.is_none() && n.float.is_none() {
        return Err(format!("illegal number syntax: {}", gofmt::quote(text)));
    }
    Ok(n)
}

impl Number {
    /// A complex with a zero imaginary part is also a float (and an int if integral).
    fn simplify_complex(&mut self) {
        let Some((re, im)) = self.complex else { return };
        if im == 0.0 {
            self.float = Some(re);
            self.int = exact_i64(re);
            self.uint = exact_u64(re);
        }
    }

    /// The value execution gives the literal (Go's `idealConstant`, as it types arguments of
    /// `interface{}` parameters, which every builtin and Helm function has); `Err` is an
    /// execution error (`1e100` is fine as a float, `0x8000000000000000` overflows int).
    pub fn value(&self, text: &str) -> Result<Value, String> {
        if let Some((re, im)) = self.complex {
            return Ok(complex(re, im));
        }
        let hex_int = text.len() > 2
            && text.starts_with('0')
            && matches!(text.as_bytes()[1], b'x' | b'X')
            && !text.contains(['p', 'P']);
        let rune = text.starts_with('\'');
        if let Some(f) = self.float {
            if !hex_int && !rune && text.contains(['.', 'e', 'E', 'p', 'P']) {
                return Ok(Value::Float(f));
            }
        }
        if let Some(i) = self.int {
            return Ok(Value::Int(i));
        }
        Err(format!("{text} overflows int"))
    }
}

/// 2^63, exactly.
const TWO_63: f64 = 9_223_372_036_854_775_808.0;

/// `f` as an int64 when Go's `float64(int64(f)) == f` holds.
fn exact_i64(f: f64) -> Option<i64> {
    // i64::MIN is exactly representable; 2^63 is not an int64.
    (f.fract() == 0.0 && (-TWO_63..TWO_63).contains(&f)).then_some(f as i64)
}

/// `f` as a uint64 when Go's `float64(uint64(f)) == f` holds.
fn exact_u64(f: f64) -> Option<u64> {
    (f.fract() == 0.0 && (0.0..2.0 * TWO_63).contains(&f)).then_some(f as u64)
}

/// `fmt.Sscan` of a complex128 from a complex token (`1+2i`, `-1.5e3-0x1p4i`): a float, a sign,
/// a float and `i`. Its errors are Sscan's (the parts' are `strconv.ParseFloat`'s).
fn scan_complex(text: &str) -> Result<(f64, f64), String> {
    const SYNTAX: &str = "syntax error scanning complex number";
    let real_len = float_token_len(text);
    let (real, rest) = text.split_at(real_len);
    if !rest.starts_with(['+', '-']) {
        return Err(SYNTAX.into());
    }
    // The sign is Sscan's; the token after it may carry a sign of its own.
    let imag_len = 1 + float_token_len(&rest[1..]);
    let (imag, tail) = rest.split_at(imag_len);
    if !tail.starts_with('i') {
        return Err(SYNTAX.into());
    }
    let part = |s: &str| {
        parse_float(s)
            .ok_or_else(|| format!("strconv.ParseFloat: parsing {}: invalid syntax", gofmt::quote(s)))
    };
    Ok((part(real)?, part(imag)?))
}

/// Length of the float token `fmt`'s scanner (`floatToken`) takes from the start of `s`: an
/// optional sign, `0x` (the only base prefix it knows), digits, point, exponent. Like Go's, it
/// consumes the first letters of `NaN`/`Inf` even when the word does not follow (`1+i` leaves
/// `i` as the imaginary token, and Sscan then finds no `i` after it).
fn float_token_len(s: &str) -> usize {
    let b = s.as_bytes();
    let mut i = 0;
    let accept = |i: &mut usize, set: &[u8]| {
        if *i < b.len() && set.contains(&b[*i]) {
            *i += 1;
            true
        } else {
            false
        }
    };
    if accept(&mut i, b"nN") && accept(&mut i, b"aA") && accept(&mut i, b"nN") {
        return i;
    }
    accept(&mut i, b"+-");
    if accept(&mut i, b"iI") && accept(&mut i, b"nN") && accept(&mut i, b"fF") {
        return i;
    }
    let mut digits: &[u8] = b"0123456789_";
    let mut exp: &[u8] = b"eEpP";
    if accept(&mut i, b"0") && accept(&mut i, b"xX") {
        digits = b"0123456789abcdefABCDEF_";
        exp = b"pP";
    }
    while accept(&mut i, digits) {}
    if accept(&mut i, b".") {
        while accept(&mut i, digits) {}
    }
    if accept(&mut i, exp) {
        accept(&mut i, b"+-");
        while accept(&mut i, b"0123456789_") {}
    }
    i
}

/// Go's `underscoreOK`: `_` may only separate digits, or follow a base prefix. Sprig's number
/// conversions use it too, as `strconv` applies the same rule there.
pub(crate) fn underscore_ok(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s).as_bytes();
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if s.len() >= 2 && s[0] == b'0' && matches!(s[1].to_ascii_lowercase(), b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = s[1].eq_ignore_ascii_case(&b'x');
    }
    for &c in &s[i..] {
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
    }
    saw != b'_'
}

/// `strconv.ParseUint(s, 0, 64)`.
pub(crate) fn parse_uint(s: &str) -> Option<u64> {
    if s.is_empty() || s.contains('_') && !underscore_ok(s) {
        return None;
    }
    let b = s.as_bytes();
    let (radix, digits) =
        if b[0] == b'0' && b.len() >= 3 && matches!(b[1].to_ascii_lowercase(), b'b' | b'o' | b'x') {
            let r = match b[1].to_ascii_lowercase() {
                b'b' => 2,
                b'o' => 8,
                _ => 16,
            };
            (r, &s[2..])
        } else if b[0] == b'0' {
            (8, &s[1..])
        } else {
            (10, s)
        };
    let mut n: u64 = 0;
    for c in digits.bytes() {
        if c == b'_' {
            continue;
        }
        let d = (c as char).to_digit(radix)?;
        n = n.checked_mul(u64::from(radix))?.checked_add(u64::from(d))?;
    }
    Some(n)
}

/// `strconv.ParseInt(s, 0, 64)`.
pub(crate) fn parse_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    // Underscores are checked on the whole literal, sign included, as Go does.
    if body.contains('_') && !underscore_ok(s) {
        return None;
    }
    let mag = parse_uint(body)?;
    if neg {
        (mag <= 1 << 63).then(|| (mag as i64).wrapping_neg())
    } else {
        i64::try_from(mag).ok()
    }
}

/// `strconv.ParseFloat(s, 64)` where it succeeds with a finite value: decimal and hexadecimal
/// (`0x1.8p3`, which needs its `p` exponent) forms, `_` between digits.
pub(crate) fn parse_float(s: &str) -> Option<f64> {
    if s.contains('_') && !underscore_ok(s) {
        return None;
    }
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let body = body.replace('_', "");
    let mag = if let Some(hex) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        parse_hex_float(hex)?
    } else {
        // Rust's grammar is Go's decimal one, except for the words (inf, nan) Go spells
        // differently; the lexer never produces a token starting with a letter.
        if !body.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
            return None;
        }
        body.parse::<f64>().ok()?
    };
    mag.is_finite().then_some(if neg { -mag } else { mag })
}

/// The magnitude of a hex float after its `0x`: hex digits with an optional point, then a
/// mandatory `p` exponent; rounded to nearest even, as Go's `atofHex` does.
fn parse_hex_float(s: &str) -> Option<f64> {
    let p = s.find(['p', 'P'])?;
    let (mant, exp) = (&s[..p], &s[p + 1..]);
    let exp: i64 = {
        let (neg, d) = match exp.as_bytes().first()? {
            b'-' => (true, &exp[1..]),
            b'+' => (false, &exp[1..]),
            _ => (false, exp),
        };
        if d.is_empty() || !d.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        // Saturate: anything this large is an overflow or an underflow either way.
        let v = d.parse::<i64>().unwrap_or(100_000).min(100_000);
        if neg {
            -v
        } else {
            v
        }
    };
    let mut m: u64 = 0;
    let mut e2: i64 = exp;
    let mut sticky = false;
    let mut seen_point = false;
    let mut ndigits = 0;
    for c in mant.bytes() {
        if c == b'.' {
            if seen_point {
                return None;
            }
            seen_point = true;
            continue;
        }
        let d = u64::from((c as char).to_digit(16)?);
        ndigits += 1;
        if m >> 60 == 0 {
            m = m << 4 | d;
            if seen_point {
                e2 -= 4;
            }
        } else {
            // No room left: later digits only decide rounding.
            sticky |= d != 0;
            if !seen_point {
                e2 += 4;
            }
        }
    }
    if ndigits == 0 {
        return None;
    }
    if m == 0 {
        return Some(0.0);
    }
    // value = m * 2^e2 with the top bit of m at bit 63.
    let lz = i64::from(m.leading_zeros());
    let m = m << lz;
    let e2 = e2 - lz;
    let top = e2 + 63; // exponent of the leading bit
    if top > 1023 {
        return Some(f64::INFINITY);
    }
    // Rounds m / 2^shift to nearest, ties to even (sticky: nonzero digits beyond m).
    let round = |m: u64, shift: u32, sticky: bool| -> u64 {
        let m = u128::from(m);
        let kept = m >> shift;
        let rest = m & ((1u128 << shift) - 1);
        let half = 1u128 << (shift - 1);
        let up = rest > half || (rest == half && (sticky || kept & 1 == 1));
        (kept + u128::from(up)) as u64
    };
    if top >= -1022 {
        let mut kept = round(m, 11, sticky);
        let mut top = top;
        if kept == 1 << 53 {
            kept >>= 1;
            top += 1;
        }
        if top > 1023 {
            return Some(f64::INFINITY);
        }
        let bits = ((top + 1023) as u64) << 52 | (kept & ((1 << 52) - 1));
        return Some(f64::from_bits(bits));
    }
    // Subnormal: the value in units of 2^-1074 is m * 2^(e2 + 1074).
    let shift = -(e2 + 1074);
    if shift > 64 {
        return Some(0.0);
    }
    Some(f64::from_bits(round(m, shift as u32, sticky)))
}

/// Go's `complex128`, as a template value.
pub(crate) struct Complex {
    pub re: f64,
    pub im: f64,
}

/// A complex value.
pub(crate) fn complex(re: f64, im: f64) -> Value {
    Value::Object(Rc::new(Complex { re, im }))
}

impl Object for Complex {
    fn type_name(&self) -> &str {
        "complex128"
    }
    fn kind_name(&self) -> &str {
        "complex128"
    }
    fn field(&self, _name: &str) -> Option<Value> {
        None
    }
    fn go_string(&self) -> String {
        format_complex(self.re, self.im, b'g', -1)
    }
    fn as_complex(&self) -> Option<(f64, f64)> {
        Some((self.re, self.im))
    }
}

/// Go's `fmtC`: `(re+imi)`, both parts in `verb` at `prec`, the imaginary part always signed.
pub(crate) fn format_complex(re: f64, im: f64, verb: u8, prec: i32) -> String {
    let mut s = String::from("(");
    s.push_str(&gofmt::format_float(re, verb, prec));
    let i = gofmt::format_float(im, verb, prec);
    if !i.starts_with(['-', '+']) {
        s.push('+');
    }
    s.push_str(&i);
    s.push_str("i)");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What execution gives each literal, printed with `%v` (or the error). Expectations are
    /// Go 1.23's: parse_test.go `numberTests` and `helm template` output.
    #[test]
    fn literals() {
        let cases: &[(&str, Lexed, &str)] = &[
            ("0", Lexed::Number, "0"),
            ("-0", Lexed::Number, "0"),
            ("73", Lexed::Number, "73"),
            ("7_3", Lexed::Number, "73"),
            ("0b10_010_01", Lexed::Number, "73"),
            ("0B10_010_01", Lexed::Number, "73"),
            ("073", Lexed::Number, "59"),
            ("0o73", Lexed::Number, "59"),
            ("0O73", Lexed::Number, "59"),
            ("0x73", Lexed::Number, "115"),
            ("0X73", Lexed::Number, "115"),
            ("0x7_3", Lexed::Number, "115"),
            ("-73", Lexed::Number, "-73"),
            ("+73", Lexed::Number, "73"),
            ("100", Lexed::Number, "100"),
            ("1e9", Lexed::Number, "1e+09"),
            ("-1e9", Lexed::Number, "-1e+09"),
            ("-1.2", Lexed::Number, "-1.2"),
            ("1e19", Lexed::Number, "1e+19"),
            ("1e1_9", Lexed::Number, "1e+19"),
            ("1E19", Lexed::Number, "1e+19"),
            ("-1e19", Lexed::Number, "-1e+19"),
            ("0x_1p4", Lexed::Number, "16"),
            ("0X_1P4", Lexed::Number, "16"),
            ("0x_1p-4", Lexed::Number, "0.0625"),
            ("4i", Lexed::Number, "(0+4i)"),
            ("-1.2+4.2i", Lexed::Complex, "(-1.2+4.2i)"),
            ("073i", Lexed::Number, "(0+73i)"),
            ("0i", Lexed::Number, "(0+0i)"),
            ("-1.2+0i", Lexed::Complex, "(-1.2+0i)"),
            ("-12+0i", Lexed::Complex, "(-12+0i)"),
            ("13+0i", Lexed::Complex, "(13+0i)"),
            ("0x1p60", Lexed::Number, "1.152921504606847e+18"),
            ("0x1.8p0", Lexed::Number, "1.5"),
            ("0x1.fffffffffffff8p0", Lexed::Number, "2"),
            ("0x1p-1074", Lexed::Number, "5e-324"),
            ("0x1p-1075", Lexed::Number, "0"),
            ("0x1.8p-1074", Lexed::Number, "1e-323"),
            ("0x1E", Lexed::Number, "30"),
            ("-0x1E", Lexed::Number, "-30"),
            ("'a'", Lexed::Char, "97"),
            ("'\\n'", Lexed::Char, "10"),
            ("'\\\\'", Lexed::Char, "92"),
            ("'\\''", Lexed::Char, "39"),
            ("'\\xFF'", Lexed::Char, "255"),
            ("'\\377'", Lexed::Char, "255"),
            ("'パ'", Lexed::Char, "12497"),
            ("'\\U000c134b'", Lexed::Char, "791371"),
            (
                "18446744073709551615",
                Lexed::Number,
                "E18446744073709551615 overflows int",
            ),
            (
                "9223372036854775808",
                Lexed::Number,
                "E9223372036854775808 overflows int",
            ),
            ("-9223372036854775808", Lexed::Number, "-9223372036854775808"),
            ("1e400", Lexed::Number, "Eillegal number syntax: \"1e400\""),
            (
                "99999999999999999999",
                Lexed::Number,
                "Einteger overflow: \"99999999999999999999\"",
            ),
            ("08", Lexed::Number, "Einteger overflow: \"08\""),
            ("0x", Lexed::Number, "Eillegal number syntax: \"0x\""),
            ("0x1.8", Lexed::Number, "Eillegal number syntax: \"0x1.8\""),
            ("0b1.1", Lexed::Number, "Eillegal number syntax: \"0b1.1\""),
            ("1__0", Lexed::Number, "Eillegal number syntax: \"1__0\""),
            ("_1", Lexed::Number, "Eillegal number syntax: \"_1\""),
            ("1_", Lexed::Number, "Eillegal number syntax: \"1_\""),
            ("1_.5", Lexed::Number, "Eillegal number syntax: \"1_.5\""),
            ("+", Lexed::Number, "Eillegal number syntax: \"+\""),
            ("0x1i", Lexed::Number, "Eillegal number syntax: \"0x1i\""),
            ("''", Lexed::Char, "Einvalid syntax"),
            ("'ab'", Lexed::Char, "Emalformed character constant: 'ab'"),
            ("'\\z'", Lexed::Char, "Einvalid syntax"),
            ("'\\\"'", Lexed::Char, "Einvalid syntax"),
            ("1i+2i", Lexed::Complex, "Esyntax error scanning complex number"),
            (
                "0x1+2i",
                Lexed::Complex,
                "Estrconv.ParseFloat: parsing \"0x1\": invalid syntax",
            ),
            ("1+i", Lexed::Complex, "Esyntax error scanning complex number"),
            ("0b1+2i", Lexed::Complex, "Esyntax error scanning complex number"),
            ("0x1p1+0x1p2i", Lexed::Complex, "(2+4i)"),
            ("1e+5-2e-1i", Lexed::Complex, "(100000-0.2i)"),
        ];
        for (text, lexed, want) in cases {
            let got = match parse(text, *lexed).and_then(|n| n.value(text)) {
                Ok(v) => gofmt::format_v(&v),
                Err(e) => format!("E{e}"),
            };
            assert_eq!(&got, want, "literal {text}");
        }
    }

    /// The readings Go records for a literal (numberTests' isInt/isUint/isFloat/isComplex).
    #[test]
    fn readings() {
        // (literal, lexed as, int, uint, float, complex)
        type Case = (
            &'static str,
            Lexed,
            Option<i64>,
            Option<u64>,
            Option<f64>,
            Option<(f64, f64)>,
        );
        let cases: &[Case] = &[
            ("-73", Lexed::Number, Some(-73), None, Some(-73.0), None),
            (
                "1e9",
                Lexed::Number,
                Some(1_000_000_000),
                Some(1_000_000_000),
                Some(1e9),
                None,
            ),
            ("-1e19", Lexed::Number, None, None, Some(-1e19), None),
            (
                "1e19",
                Lexed::Number,
                None,
                Some(10_000_000_000_000_000_000),
                Some(1e19),
                None,
            ),
            ("-1.2", Lexed::Number, None, None, Some(-1.2), None),
            ("0i", Lexed::Number, Some(0), Some(0), Some(0.0), Some((0.0, 0.0))),
            (
                "-12+0i",
                Lexed::Complex,
                Some(-12),
                None,
                Some(-12.0),
                Some((-12.0, 0.0)),
            ),
            ("'a'", Lexed::Char, Some(97), Some(97), Some(97.0), None),
        ];
        for (text, lexed, int, uint, float, cplx) in cases {
            let n = parse(text, *lexed).unwrap_or_else(|e| panic!("{text}: {e}"));
            let want = Number {
                int: *int,
                uint: *uint,
                float: *float,
                complex: *cplx,
            };
            assert_eq!(n, want, "readings of {text}");
        }
    }
}
