//! Sprig's arithmetic and number conversions (`numeric.go` and the inline functions of
//! `functions.go`).
//!
//! Integer math converts every operand with `cast.ToInt64` (strings parse, floats truncate, bad
//! input is 0) and returns int64 with Go's wrapping overflow. The `*f` functions go through
//! `shopspring/decimal`: each operand becomes the exact decimal of its shortest representation,
//! so `addf 1.1 2.2` is `3.3`, not `3.3000000000000003`; division keeps 16 decimal places.

use super::{at_least, convert, fixed, int_arg, str_arg};
use crate::{gofmt, FuncMap, FuncResult, Value};

pub(crate) fn register(m: &mut FuncMap) {
    m.insert_simple("add1", |a| {
        let [x] = fixed("add1", a)?;
        Ok(Value::Int64(convert::to_int64(x).wrapping_add(1)))
    });
    m.insert_simple("add", |a| {
        Ok(Value::Int64(
            a.iter()
                .fold(0i64, |acc, x| acc.wrapping_add(convert::to_int64(x))),
        ))
    });
    m.insert_simple("sub", |a| int_op("sub", a, |x, y| Ok(x.wrapping_sub(y))));
    m.insert_simple("div", |a| {
        int_op("div", a, |x, y| checked_div(x, y, i64::wrapping_div))
    });
    m.insert_simple("mod", |a| {
        int_op("mod", a, |x, y| checked_div(x, y, i64::wrapping_rem))
    });
    m.insert_simple("mul", |a| {
        at_least("mul", a, 1)?;
        Ok(Value::Int64(
            a.iter()
                .fold(1i64, |acc, x| acc.wrapping_mul(convert::to_int64(x))),
        ))
    });
    m.insert_simple("max", |a| int_fold("max", a, i64::max));
    m.insert_simple("biggest", |a| int_fold("biggest", a, i64::max));
    m.insert_simple("min", |a| int_fold("min", a, i64::min));
    m.insert_simple("maxf", |a| float_fold("maxf", a, go_max));
    m.insert_simple("minf", |a| float_fold("minf", a, go_min));
    m.insert_simple("add1f", |a| {
        let [x] = fixed("add1f", a)?;
        decimal_op(x, &[Value::Int(1)], Op::Add)
    });
    m.insert_simple("addf", |a| decimal_op(&Value::Float(0.0), a, Op::Add));
    m.insert_simple("subf", |a| {
        at_least("subf", a, 1)?;
        decimal_op(&a[0], &a[1..], Op::Sub)
    });
    m.insert_simple("mulf", |a| {
        at_least("mulf", a, 1)?;
        decimal_op(&a[0], &a[1..], Op::Mul)
    });
    m.insert_simple("divf", |a| {
        at_least("divf", a, 1)?;
        decimal_op(&a[0], &a[1..], Op::Div)
    });
    m.insert_simple("floor", |a| {
        let [x] = fixed("floor", a)?;
        Ok(Value::Float(convert::to_float64(x).floor()))
    });
    m.insert_simple("ceil", |a| {
        let [x] = fixed("ceil", a)?;
        Ok(Value::Float(convert::to_float64(x).ceil()))
    });
    m.insert_simple("round", round);
    m.insert_simple("int", |a| {
        let [x] = fixed("int", a)?;
        Ok(Value::Int(convert::to_int64(x)))
    });
    m.insert_simple("int64", |a| {
        let [x] = fixed("int64", a)?;
        Ok(Value::Int64(convert::to_int64(x)))
    });
    m.insert_simple("float64", |a| {
        let [x] = fixed("float64", a)?;
        Ok(Value::Float(convert::to_float64(x)))
    });
    m.insert_simple("atoi", |a| {
        let [x] = fixed("atoi", a)?;
        Ok(Value::Int(atoi(str_arg(x)?)))
    });
    m.insert_simple("randInt", |a| {
        let [lo, hi] = fixed("randInt", a)?;
        let (lo, hi) = (int_arg(lo)?, int_arg(hi)?);
        let span = hi.wrapping_sub(lo);
        if span <= 0 {
            return Err("invalid argument to Intn".to_string());
        }
        Ok(Value::Int(
            lo + (super::strings::random_u64() % span as u64) as i64,
        ))
    });
    m.insert_simple("toDecimal", |a| {
        let [x] = fixed("toDecimal", a)?;
        Ok(Value::Int64(parse_octal(&gofmt::format_v(x)).unwrap_or(0)))
    });
}

fn int_op(name: &str, a: &[Value], f: impl Fn(i64, i64) -> Result<i64, String>) -> FuncResult {
    let [x, y] = fixed(name, a)?;
    f(convert::to_int64(x), convert::to_int64(y)).map(Value::Int64)
}

fn checked_div(x: i64, y: i64, f: fn(i64, i64) -> i64) -> Result<i64, String> {
    if y == 0 {
        return Err("runtime error: integer divide by zero".to_string());
    }
    Ok(f(x, y))
}

fn int_fold(name: &str, a: &[Value], f: fn(i64, i64) -> i64) -> FuncResult {
    at_least(name, a, 1)?;
    Ok(Value::Int64(
        a[1..]
            .iter()
            .fold(convert::to_int64(&a[0]), |acc, x| f(acc, convert::to_int64(x))),
    ))
}

fn float_fold(name: &str, a: &[Value], f: fn(f64, f64) -> f64) -> FuncResult {
    at_least(name, a, 1)?;
    Ok(Value::Float(
        a[1..].iter().fold(convert::to_float64(&a[0]), |acc, x| {
            f(acc, convert::to_float64(x))
        }),
    ))
}

/// `math.Max`: +Inf wins, then NaN; +0 beats -0.
fn go_max(x: f64, y: f64) -> f64 {
    if x == f64::INFINITY || y == f64::INFINITY {
        f64::INFINITY
    } else if x.is_nan() || y.is_nan() {
        f64::NAN
    } else if x == 0.0 && y == 0.0 {
        if x.is_sign_negative() {
            y
        } else {
            x
        }
    } else if x > y {
        x
    } else {
        y
    }
}

/// `math.Min`: -Inf wins, then NaN; -0 beats +0.
fn go_min(x: f64, y: f64) -> f64 {
    if x == f64::NEG_INFINITY || y == f64::NEG_INFINITY {
        f64::NEG_INFINITY
    } else if x.is_nan() || y.is_nan() {
        f64::NAN
    } else if x == 0.0 && y == 0.0 {
        if x.is_sign_negative() {
            x
        } else {
            y
        }
    } else if x < y {
        x
    } else {
        y
    }
}

/// `round VALUE PLACES [ROUND_ON]`: Sprig's rounding, which looks at the signed fraction, so
/// negative numbers round down unless their fraction is ≥ ROUND_ON (default .5) — i.e. always.
fn round(a: &[Value]) -> FuncResult {
    at_least("round", a, 2)?;
    let val = convert::to_float64(&a[0]);
    let places = int_arg(&a[1])? as f64;
    let round_on = match a.get(2) {
        Some(Value::Float(f)) => *f,
        // Go converts an integer constant written in the template to the float64 parameter.
        Some(Value::Int(i)) => *i as f64,
        Some(other) => return Err(super::type_err("float64", other)),
        None => 0.5,
    };
    let pow = 10f64.powf(places);
    let digit = pow * val;
    let frac = digit - digit.trunc();
    let r = if frac >= round_on {
        digit.ceil()
    } else {
        digit.floor()
    };
    Ok(Value::Float(r / pow))
}

/// `strconv.Atoi`: base 10, no prefixes or underscores; 0 on bad syntax, clamped on overflow
/// (Sprig ignores the error and keeps the value).
fn atoi(s: &str) -> i64 {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    match s.parse::<i64>() {
        Ok(v) => v,
        Err(_) if s.starts_with('-') => i64::MIN,
        Err(_) => i64::MAX,
    }
}

/// `strconv.ParseInt(s, 8, 64)` (Sprig's `toDecimal` of a Unix mode like `"0755"`).
fn parse_octal(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return None;
    }
    i64::from_str_radix(s, 8).ok()
}

#[derive(Clone, Copy)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

/// A decimal `coef × 10^exp`, as `shopspring/decimal` holds it.
#[derive(Clone, Copy, Debug)]
struct Dec {
    coef: i128,
    exp: i32,
}

impl Dec {
    /// `decimal.NewFromFloat`: the shortest decimal that round-trips to `f`.
    fn from_f64(f: f64) -> Result<Dec, String> {
        if !f.is_finite() {
            let shown = if f.is_nan() {
                "NaN"
            } else if f > 0.0 {
                "+Inf"
            } else {
                "-Inf"
            };
            return Err(format!("Cannot create a Decimal from {shown}"));
        }
        let text = format!("{f:e}");
        let (mant, exp) = text.split_once('e').unwrap_or((&text, "0"));
        let exp: i32 = exp.parse().map_err(|_| format!("bad float {text}"))?;
        let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
        let coef: i128 = format!("{int}{frac}")
            .parse()
            .map_err(|_| format!("bad float {text}"))?;
        Ok(Dec {
            coef,
            exp: exp - frac.len() as i32,
        })
    }

    fn to_f64(self) -> f64 {
        format!("{}e{}", self.coef, self.exp).parse().unwrap_or(f64::NAN)
    }

    fn pow10(n: i32) -> Option<i128> {
        10i128.checked_pow(u32::try_from(n).ok()?)
    }

    /// Both operands scaled to the smaller exponent.
    fn align(self, o: Dec) -> Option<(i128, i128, i32)> {
        let exp = self.exp.min(o.exp);
        let a = self.coef.checked_mul(Self::pow10(self.exp - exp)?)?;
        let b = o.coef.checked_mul(Self::pow10(o.exp - exp)?)?;
        Some((a, b, exp))
    }

    /// One operation; `None` when i128 is not wide enough (the caller then falls back to f64).
    fn apply(self, op: Op, o: Dec) -> Option<Dec> {
        match op {
            Op::Add => self.align(o).and_then(|(a, b, exp)| {
                Some(Dec {
                    coef: a.checked_add(b)?,
                    exp,
                })
            }),
            Op::Sub => self.align(o).and_then(|(a, b, exp)| {
                Some(Dec {
                    coef: a.checked_sub(b)?,
                    exp,
                })
            }),
            Op::Mul => Some(Dec {
                coef: self.coef.checked_mul(o.coef)?,
                exp: self.exp.checked_add(o.exp)?,
            }),
            Op::Div => {
                // Quotient to 16 decimal places, half away from zero (`DivRound(d2, 16)`).
                let k = self.exp - o.exp + 16;
                let (num, den) = if k >= 0 {
                    (self.coef.checked_mul(Self::pow10(k)?)?, o.coef)
                } else {
                    (self.coef, o.coef.checked_mul(Self::pow10(-k)?)?)
                };
                let (q, r) = (num / den, num % den);
                let away = r.checked_abs()?.checked_mul(2)? >= den.checked_abs()?;
                let q = if away {
                    q + if (num < 0) != (den < 0) { -1 } else { 1 }
                } else {
                    q
                };
                Some(Dec { coef: q, exp: -16 })
            }
        }
    }
}

fn float_apply(op: Op, x: f64, y: f64) -> f64 {
    match op {
        Op::Add => x + y,
        Op::Sub => x - y,
        Op::Mul => x * y,
        Op::Div => x / y,
    }
}

/// Sprig's `execDecimalOp`: folds the operands with `op` in decimal arithmetic.
fn decimal_op(first: &Value, rest: &[Value], op: Op) -> FuncResult {
    let mut acc: Result<Dec, f64> = Ok(Dec::from_f64(convert::to_float64(first))?);
    for x in rest {
        let d = Dec::from_f64(convert::to_float64(x))?;
        if matches!(op, Op::Div) && d.coef == 0 {
            return Err("decimal division by 0".to_string());
        }
        acc = match acc {
            Ok(a) => a
                .apply(op, d)
                .ok_or_else(|| float_apply(op, a.to_f64(), d.to_f64())),
            Err(f) => Err(float_apply(op, f, d.to_f64())),
        };
    }
    Ok(Value::Float(match acc {
        Ok(d) => d.to_f64(),
        Err(f) => f,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sprig::test_support::{call, f, i, i64, s};

    #[test]
    fn math_functions() {
        // Expectations from sprig's numeric_test.go and cast's conversion rules.
        let cases: Vec<(&str, &str, Vec<Value>, Value)> = vec![
            ("add1", "add1", vec![i(3)], i64(4)),
            ("add", "add", vec![i(1), i(2), i(3)], i64(6)),
            ("add float truncates", "add", vec![f(1.9), i(1)], i64(2)),
            ("add string", "add", vec![s("2"), s("0x10")], i64(18)),
            ("sub", "sub", vec![i(14), i(3)], i64(11)),
            ("div", "div", vec![i(5), i(4)], i64(1)),
            ("mod", "mod", vec![i(10), i(4)], i64(2)),
            ("mul", "mul", vec![i(1), s("2"), i(3), s("4")], i64(24)),
            ("max", "max", vec![i(1), i(5), i(3)], i64(5)),
            ("biggest", "biggest", vec![i(1), i(5)], i64(5)),
            ("min", "min", vec![i(1), i(-5), i(3)], i64(-5)),
            ("maxf", "maxf", vec![f(1.5), i(2), f(2.5)], f(2.5)),
            ("minf", "minf", vec![f(1.5), i(2)], f(1.5)),
            ("add1f", "add1f", vec![f(3.4)], f(4.4)),
            ("addf", "addf", vec![f(1.5), f(2.2), i(3)], f(6.7)),
            ("addf exact decimal", "addf", vec![f(1.1), f(2.2)], f(3.3)),
            ("subf", "subf", vec![f(4.5), i(1), i(3)], f(0.5)),
            ("mulf", "mulf", vec![s("2.4"), i(10), s("4"), f(1.2)], f(115.2)),
            ("divf", "divf", vec![i(5), i(4), i(2)], f(0.625)),
            ("divf third", "divf", vec![i(1), i(3)], f(0.3333333333333333)),
            ("floor", "floor", vec![f(123.9999)], f(123.0)),
            ("floor string", "floor", vec![s("123.01")], f(123.0)),
            ("ceil", "ceil", vec![f(123.01)], f(124.0)),
            ("round", "round", vec![f(123.5555), i(3)], f(123.556)),
            ("round string", "round", vec![s("123.55555"), i(3)], f(123.556)),
            ("round up", "round", vec![f(123.500001), i(0)], f(124.0)),
            ("round down", "round", vec![f(123.49999999), i(0)], f(123.0)),
            (
                "round custom",
                "round",
                vec![f(123.2329999), i(2), f(0.3)],
                f(123.23),
            ),
            (
                "round custom up",
                "round",
                vec![f(123.233), i(2), f(0.3)],
                f(123.24),
            ),
            ("int string junk", "int", vec![s("12abc")], i(0)),
            ("int zero fraction", "int", vec![s("12.00")], i(12)),
            ("int fraction", "int", vec![s("12.5")], i(0)),
            ("int float", "int", vec![f(12.9)], i(12)),
            ("int octal", "int", vec![s("010")], i(8)),
            ("int underscore", "int", vec![s("1_000")], i(1000)),
            ("int bool", "int", vec![Value::Bool(true)], i(1)),
            ("int nil", "int", vec![Value::Nil], i(0)),
            ("int64", "int64", vec![s("-42")], i64(-42)),
            ("float64", "float64", vec![s("1.5")], f(1.5)),
            ("float64 spaces", "float64", vec![s(" 1.5")], f(0.0)),
            ("float64 junk", "float64", vec![s("abc")], f(0.0)),
            ("atoi", "atoi", vec![s("42")], i(42)),
            ("atoi junk", "atoi", vec![s("4x")], i(0)),
            ("atoi hex", "atoi", vec![s("0x10")], i(0)),
            ("toDecimal", "toDecimal", vec![s("777")], i64(511)),
            ("toDecimal int", "toDecimal", vec![i(755)], i64(493)),
            ("toDecimal bad", "toDecimal", vec![s("8")], i64(0)),
        ];
        for (case, name, args, want) in cases {
            assert_eq!(call(name, args), Ok(want), "case {case}");
        }
    }

    #[test]
    fn rand_int_in_range() {
        for _ in 0..50 {
            let Ok(Value::Int(n)) = call("randInt", vec![i(-2), i(3)]) else {
                panic!("not an int")
            };
            assert!((-2..3).contains(&n), "randInt gave {n}");
        }
    }

    #[test]
    fn math_errors() {
        let cases: Vec<(&str, &str, Vec<Value>, &str)> = vec![
            (
                "div zero",
                "div",
                vec![i(1), i(0)],
                "runtime error: integer divide by zero",
            ),
            (
                "mod zero",
                "mod",
                vec![i(1), s("x")],
                "runtime error: integer divide by zero",
            ),
            ("divf zero", "divf", vec![i(1), i(0)], "decimal division by 0"),
            (
                "atoi int",
                "atoi",
                vec![i(1)],
                "wrong type for value; expected string; got int",
            ),
            (
                "sub arity",
                "sub",
                vec![i(1)],
                "wrong number of args for sub: want 2 got 1",
            ),
            (
                "randInt empty range",
                "randInt",
                vec![i(3), i(3)],
                "invalid argument to Intn",
            ),
        ];
        for (case, name, args, want) in cases {
            assert_eq!(call(name, args), Err(want.to_string()), "case {case}");
        }
    }
}
