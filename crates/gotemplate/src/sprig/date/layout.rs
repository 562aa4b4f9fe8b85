//! Go's reference-time layouts (`2006-01-02T15:04:05Z07:00`): the layout elements and
//! `Time.Format`.

use super::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Std {
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    PM,
    Pm,
    TZ,
    Iso8601TZ,
    Iso8601SecondsTZ,
    Iso8601ShortTZ,
    Iso8601ColonTZ,
    Iso8601ColonSecondsTZ,
    NumTZ,
    NumSecondsTZ,
    NumShortTZ,
    NumColonTZ,
    NumColonSecondsTZ,
    /// `.000` (fixed digits) with its separator (`.` or `,`).
    Frac0(usize, u8),
    /// `.999` (trailing zeros trimmed).
    Frac9(usize, u8),
}

/// The pattern of the ISO 8601 zones (`Z07:00` and kin): `Z` for UTC, else a numeric offset.
macro_rules! iso_zone {
    () => {
        Std::Iso8601TZ
            | Std::Iso8601SecondsTZ
            | Std::Iso8601ShortTZ
            | Std::Iso8601ColonTZ
            | Std::Iso8601ColonSecondsTZ
    };
}

/// The pattern of the zones written and read as a numeric offset (`-0700` and kin, ISO 8601's
/// included).
macro_rules! num_zone {
    () => {
        iso_zone!()
            | Std::NumTZ
            | Std::NumSecondsTZ
            | Std::NumShortTZ
            | Std::NumColonTZ
            | Std::NumColonSecondsTZ
    };
}

pub(super) use {iso_zone, num_zone};

pub(super) fn starts_lower(s: &[u8]) -> bool {
    s.first().is_some_and(u8::is_ascii_lowercase)
}

/// Splits `layout` at its first layout element: (literal prefix, element, rest). Mirrors the
/// element table of Go's `time` package, including its precedence rules (`Jan` not followed by
/// a lowercase letter, `_2006` being a literal `_` then the year, `.000` not followed by a digit).
pub(super) fn next_std(layout: &str) -> (&str, Option<Std>, &str) {
    let b = layout.as_bytes();
    let has = |i: usize, s: &str| layout.get(i..i + s.len()) == Some(s);
    for i in 0..b.len() {
        let found: Option<(Std, usize)> = match b[i] {
            b'J' if has(i, "Jan") => {
                if has(i, "January") {
                    Some((Std::LongMonth, 7))
                } else if !starts_lower(&b[i + 3..]) {
                    Some((Std::Month, 3))
                } else {
                    None
                }
            }
            b'M' if has(i, "Mon") => {
                if has(i, "Monday") {
                    Some((Std::LongWeekDay, 6))
                } else if !starts_lower(&b[i + 3..]) {
                    Some((Std::WeekDay, 3))
                } else {
                    None
                }
            }
            b'M' if has(i, "MST") => Some((Std::TZ, 3)),
            b'0' if i + 1 < b.len() && (b'1'..=b'6').contains(&b[i + 1]) => {
                let std = [
                    Std::ZeroMonth,
                    Std::ZeroDay,
                    Std::ZeroHour12,
                    Std::ZeroMinute,
                    Std::ZeroSecond,
                    Std::Year,
                ][usize::from(b[i + 1] - b'1')];
                Some((std, 2))
            }
            b'0' if has(i, "002") => Some((Std::ZeroYearDay, 3)),
            b'1' if has(i, "15") => Some((Std::Hour, 2)),
            b'1' => Some((Std::NumMonth, 1)),
            b'2' if has(i, "2006") => Some((Std::LongYear, 4)),
            b'2' => Some((Std::Day, 1)),
            b'_' if has(i, "_2") => {
                if has(i + 1, "2006") {
                    return (&layout[..i + 1], Some(Std::LongYear), &layout[i + 5..]);
                }
                Some((Std::UnderDay, 2))
            }
            b'_' if has(i, "__2") => Some((Std::UnderYearDay, 3)),
            b'3' => Some((Std::Hour12, 1)),
            b'4' => Some((Std::Minute, 1)),
            b'5' => Some((Std::Second, 1)),
            b'P' if has(i, "PM") => Some((Std::PM, 2)),
            b'p' if has(i, "pm") => Some((Std::Pm, 2)),
            b'-' => [
                ("-070000", Std::NumSecondsTZ),
                ("-07:00:00", Std::NumColonSecondsTZ),
                ("-0700", Std::NumTZ),
                ("-07:00", Std::NumColonTZ),
                ("-07", Std::NumShortTZ),
            ]
            .into_iter()
            .find(|(s, _)| has(i, s))
            .map(|(s, std)| (std, s.len())),
            b'Z' => [
                ("Z070000", Std::Iso8601SecondsTZ),
                ("Z07:00:00", Std::Iso8601ColonSecondsTZ),
                ("Z0700", Std::Iso8601TZ),
                ("Z07:00", Std::Iso8601ColonTZ),
                ("Z07", Std::Iso8601ShortTZ),
            ]
            .into_iter()
            .find(|(s, _)| has(i, s))
            .map(|(s, std)| (std, s.len())),
            c @ (b'.' | b',') if i + 1 < b.len() && (b[i + 1] == b'0' || b[i + 1] == b'9') => {
                let ch = b[i + 1];
                let mut j = i + 1;
                while j < b.len() && b[j] == ch {
                    j += 1;
                }
                if j < b.len() && b[j].is_ascii_digit() {
                    None
                } else if ch == b'0' {
                    Some((Std::Frac0(j - i - 1, c), j - i))
                } else {
                    Some((Std::Frac9(j - i - 1, c), j - i))
                }
            }
            _ => None,
        };
        if let Some((std, len)) = found {
            return (&layout[..i], Some(std), &layout[i + len..]);
        }
    }
    (layout, None, "")
}

pub(super) fn pad(out: &mut String, v: i64, width: usize) {
    if v < 0 {
        out.push('-');
    }
    out.push_str(&format!("{:0width$}", v.unsigned_abs()));
}

/// Appends `.` + `digits` digits of `nanos`; with `trim`, trailing zeros go and an all-zero
/// fraction disappears entirely (`.999` layouts).
pub(super) fn push_frac(out: &mut String, nanos: u32, digits: usize, sep: u8, trim: bool) {
    let all = format!("{nanos:09}");
    let mut frac = &all[..digits.min(9)];
    if trim {
        frac = frac.trim_end_matches('0');
        if frac.is_empty() {
            return;
        }
    }
    out.push(char::from(sep));
    out.push_str(frac);
}

pub(super) fn format_time(t: &Time, layout: &str) -> String {
    let c = t.civil();
    let mut out = String::new();
    let mut rest = layout;
    loop {
        let (prefix, std, suffix) = next_std(rest);
        out.push_str(prefix);
        let Some(std) = std else { break };
        rest = suffix;
        match std {
            Std::Year => pad(&mut out, c.year.rem_euclid(100), 2),
            Std::LongYear => pad(&mut out, c.year, 4),
            Std::Month => out.push_str(&LONG_MONTHS[c.month as usize - 1][..3]),
            Std::LongMonth => out.push_str(LONG_MONTHS[c.month as usize - 1]),
            Std::NumMonth => pad(&mut out, i64::from(c.month), 1),
            Std::ZeroMonth => pad(&mut out, i64::from(c.month), 2),
            Std::WeekDay => out.push_str(&LONG_DAYS[c.weekday as usize][..3]),
            Std::LongWeekDay => out.push_str(LONG_DAYS[c.weekday as usize]),
            Std::Day => pad(&mut out, i64::from(c.day), 1),
            Std::UnderDay => {
                if c.day < 10 {
                    out.push(' ');
                }
                pad(&mut out, i64::from(c.day), 1);
            }
            Std::ZeroDay => pad(&mut out, i64::from(c.day), 2),
            Std::UnderYearDay => out.push_str(&format!("{:>3}", c.yday)),
            Std::ZeroYearDay => pad(&mut out, i64::from(c.yday), 3),
            Std::Hour => pad(&mut out, i64::from(c.hour), 2),
            Std::Hour12 | Std::ZeroHour12 => {
                let h = match c.hour % 12 {
                    0 => 12,
                    h => h,
                };
                pad(&mut out, i64::from(h), if std == Std::Hour12 { 1 } else { 2 });
            }
            Std::Minute => pad(&mut out, i64::from(c.minute), 1),
            Std::ZeroMinute => pad(&mut out, i64::from(c.minute), 2),
            Std::Second => pad(&mut out, i64::from(c.second), 1),
            Std::ZeroSecond => pad(&mut out, i64::from(c.second), 2),
            Std::PM => out.push_str(if c.hour >= 12 { "PM" } else { "AM" }),
            Std::Pm => out.push_str(if c.hour >= 12 { "pm" } else { "am" }),
            iso_zone!() if t.offset == 0 => out.push('Z'),
            num_zone!() => {
                let colon = matches!(
                    std,
                    Std::Iso8601ColonTZ
                        | Std::NumColonTZ
                        | Std::Iso8601ColonSecondsTZ
                        | Std::NumColonSecondsTZ
                );
                let abs = t.offset.unsigned_abs();
                out.push(if t.offset < 0 { '-' } else { '+' });
                out.push_str(&format!("{:02}", abs / 3600));
                if colon {
                    out.push(':');
                }
                if !matches!(std, Std::NumShortTZ | Std::Iso8601ShortTZ) {
                    out.push_str(&format!("{:02}", abs / 60 % 60));
                }
                if matches!(
                    std,
                    Std::Iso8601SecondsTZ
                        | Std::NumSecondsTZ
                        | Std::Iso8601ColonSecondsTZ
                        | Std::NumColonSecondsTZ
                ) {
                    if colon {
                        out.push(':');
                    }
                    out.push_str(&format!("{:02}", abs % 60));
                }
            }
            Std::TZ => {
                if t.zone.is_empty() {
                    let mins = t.offset / 60;
                    out.push(if mins < 0 { '-' } else { '+' });
                    let m = mins.unsigned_abs();
                    out.push_str(&format!("{:02}{:02}", m / 60, m % 60));
                } else {
                    out.push_str(&t.zone);
                }
            }
            Std::Frac0(n, sep) => push_frac(&mut out, t.nanos, n, sep, false),
            Std::Frac9(n, sep) => push_frac(&mut out, t.nanos, n, sep, true),
        }
    }
    out
}
