//! Sprig's date functions and the Go `time.Time` value they pass around.
//!
//! Templates see `now`, `date`, `toDate`... results as Go `time.Time`: printing one gives Go's
//! `Time.String()` (`2019-06-13 20:39:39 +0000 UTC`), `toJson` gives RFC 3339. Formatting and
//! parsing use Go's reference-time layouts (`2006-01-02T15:04:05Z07:00`), implemented here from
//! the `time` package's documented rules, because charts write Go layouts.
//!
//! Time zones: only `UTC` is known. `Local` is UTC (what Go uses on a machine without a local
//! zone, as in containers); other IANA names fall back to UTC exactly as Sprig does when
//! `time.LoadLocation` fails, which differs from Go only where a zone database is installed.
//!
//! Sprig's argument rules are kept: `date` takes a `time.Time` or an integer (unix seconds) and
//! uses the current time for anything else, float64 included; `duration` takes a string or
//! integer number of seconds and treats anything else as 0. The value model has one integer
//! type, so Go's `int` and `int64` are not told apart.

use super::{arity, str_arg};
use crate::civil::{civil_from_days, days_from_civil};
use std::{
    rc::Rc,
    sync::OnceLock,
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use crate::{FuncMap, FuncResult, Object, Value};

/// Registers the date functions under Sprig's names.
pub fn register(m: &mut FuncMap) {
    m.insert_simple("now", now);
    m.insert_simple("date", date);
    m.insert_simple("dateInZone", date_in_zone);
    m.insert_simple("date_in_zone", date_in_zone);
    m.insert_simple("htmlDate", html_date);
    m.insert_simple("htmlDateInZone", html_date_in_zone);
    m.insert_simple("dateModify", date_modify);
    m.insert_simple("date_modify", date_modify);
    m.insert_simple("mustDateModify", must_date_modify);
    m.insert_simple("must_date_modify", must_date_modify);
    m.insert_simple("ago", ago);
    m.insert_simple("duration", duration);
    m.insert_simple("durationRound", duration_round);
    m.insert_simple("toDate", to_date);
    m.insert_simple("mustToDate", must_to_date);
    m.insert_simple("unixEpoch", unix_epoch);
}

const NANOS_PER_SEC: i64 = 1_000_000_000;
/// Seconds from 0001-01-01 (Go's zero time) to the unix epoch.
const ZERO_TIME_UNIX: i64 = -62_135_596_800;

/// An instant with a zone, like Go's `time.Time`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Time {
    /// Seconds since the unix epoch.
    pub unix: i64,
    /// Nanoseconds within the second, 0..1e9.
    pub nanos: u32,
    /// Zone abbreviation (`UTC`, `MST`); empty for an unnamed fixed offset.
    pub zone: String,
    /// Seconds east of UTC.
    pub offset: i32,
    /// Go's monotonic clock reading (nanoseconds since process start), printed as `m=+…`.
    pub mono: Option<i64>,
}

/// Wall-clock fields of a [`Time`] in its zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    weekday: u32,
    yday: u32,
}

const LONG_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const LONG_DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(m: u32, y: i64) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn process_start() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

impl Time {
    /// The current time in Local (= UTC), with a monotonic reading like Go's `time.Now()`.
    pub fn now() -> Time {
        let start = process_start();
        let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        let mono = i64::try_from(start.elapsed().as_nanos()).unwrap_or(i64::MAX);
        Time {
            unix: d.as_secs() as i64,
            nanos: d.subsec_nanos(),
            zone: "UTC".into(),
            offset: 0,
            mono: Some(mono),
        }
    }

    /// `time.Unix(secs, 0)` in Local (= UTC).
    pub fn from_unix(secs: i64) -> Time {
        Time {
            unix: secs,
            nanos: 0,
            zone: "UTC".into(),
            offset: 0,
            mono: None,
        }
    }

    /// Go's zero `time.Time{}` (0001-01-01 00:00:00 UTC).
    pub fn zero() -> Time {
        Time::from_unix(ZERO_TIME_UNIX)
    }

    fn civil(&self) -> Civil {
        let local = self.unix + i64::from(self.offset);
        let days = local.div_euclid(86_400);
        let secs = local.rem_euclid(86_400) as u32;
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            hour: secs / 3600,
            minute: secs / 60 % 60,
            second: secs % 60,
            weekday: (days + 4).rem_euclid(7) as u32,
            yday: (days - days_from_civil(year, 1, 1) + 1) as u32,
        }
    }

    /// `t.In(UTC)`: same instant, UTC zone, monotonic reading dropped (as Go does).
    fn in_utc(&self) -> Time {
        Time {
            zone: "UTC".into(),
            offset: 0,
            mono: None,
            ..self.clone()
        }
    }

    /// Nanoseconds since the unix epoch (saturating outside i64 range, which Go's `Sub` does too).
    fn unix_nanos(&self) -> i128 {
        i128::from(self.unix) * i128::from(NANOS_PER_SEC) + i128::from(self.nanos)
    }

    /// `t.Add(d)`.
    pub fn add(&self, d: i64) -> Time {
        let total = self.unix_nanos() + i128::from(d);
        let unix = total.div_euclid(i128::from(NANOS_PER_SEC)) as i64;
        let nanos = total.rem_euclid(i128::from(NANOS_PER_SEC)) as u32;
        Time {
            unix,
            nanos,
            mono: self.mono.map(|m| m.saturating_add(d)),
            ..self.clone()
        }
    }

    /// `time.Since(t)` as a Go `Duration` (nanoseconds, saturating).
    fn since(&self) -> i64 {
        let now = Time::now();
        let diff = match (now.mono, self.mono) {
            (Some(a), Some(b)) => i128::from(a) - i128::from(b),
            _ => now.unix_nanos() - self.unix_nanos(),
        };
        diff.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }

    /// `t.Format(layout)` with Go's reference-time layout.
    pub fn format(&self, layout: &str) -> String {
        format_time(self, layout)
    }

    /// Go's `Time.String()`.
    pub fn go_string(&self) -> String {
        let mut s = self.format("2006-01-02 15:04:05.999999999 -0700 MST");
        if let Some(m) = self.mono {
            let sign = if m < 0 { '-' } else { '+' };
            let a = m.unsigned_abs();
            s.push_str(&format!(
                " m={sign}{}.{:09}",
                a / 1_000_000_000,
                a % 1_000_000_000
            ));
        }
        s
    }
}

// ---------------------------------------------------------------------------------------------
// Layout elements

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Std {
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

fn starts_lower(s: &[u8]) -> bool {
    s.first().is_some_and(u8::is_ascii_lowercase)
}

/// Splits `layout` at its first layout element: (literal prefix, element, rest). Mirrors the
/// element table of Go's `time` package, including its precedence rules (`Jan` not followed by
/// a lowercase letter, `_2006` being a literal `_` then the year, `.000` not followed by a digit).
fn next_std(layout: &str) -> (&str, Option<Std>, &str) {
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

fn pad(out: &mut String, v: i64, width: usize) {
    if v < 0 {
        out.push('-');
    }
    out.push_str(&format!("{:0width$}", v.unsigned_abs()));
}

/// Appends `.` + `digits` digits of `nanos`; with `trim`, trailing zeros go and an all-zero
/// fraction disappears entirely (`.999` layouts).
fn push_frac(out: &mut String, nanos: u32, digits: usize, sep: u8, trim: bool) {
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

fn format_time(t: &Time, layout: &str) -> String {
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
            Std::Iso8601TZ
            | Std::Iso8601SecondsTZ
            | Std::Iso8601ShortTZ
            | Std::Iso8601ColonTZ
            | Std::Iso8601ColonSecondsTZ
                if t.offset == 0 =>
            {
                out.push('Z')
            }
            Std::Iso8601TZ
            | Std::Iso8601SecondsTZ
            | Std::Iso8601ShortTZ
            | Std::Iso8601ColonTZ
            | Std::Iso8601ColonSecondsTZ
            | Std::NumTZ
            | Std::NumSecondsTZ
            | Std::NumShortTZ
            | Std::NumColonTZ
            | Std::NumColonSecondsTZ => {
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

// ---------------------------------------------------------------------------------------------
// Parsing (`time.ParseInLocation(layout, value, time.Local)`)

/// Go's `strconv.Quote` for the ASCII-ish texts in parse errors.
fn quote(s: &str) -> String {
    format!("{s:?}")
}

struct ParseFail {
    layout_elem: String,
    value_elem: String,
    message: String,
}

fn bad(layout_elem: &str, value_elem: &str) -> ParseFail {
    ParseFail {
        layout_elem: layout_elem.into(),
        value_elem: value_elem.into(),
        message: String::new(),
    }
}

fn msg(m: String) -> ParseFail {
    ParseFail {
        layout_elem: String::new(),
        value_elem: String::new(),
        message: m,
    }
}

fn is_digit(s: &str, i: usize) -> bool {
    s.as_bytes().get(i).is_some_and(u8::is_ascii_digit)
}

/// One or two digits (exactly two if `fixed`).
fn getnum(s: &str, fixed: bool) -> Option<(i64, &str)> {
    if !is_digit(s, 0) {
        return None;
    }
    let b = s.as_bytes();
    if !is_digit(s, 1) {
        if fixed {
            return None;
        }
        return Some((i64::from(b[0] - b'0'), &s[1..]));
    }
    Some((i64::from(b[0] - b'0') * 10 + i64::from(b[1] - b'0'), &s[2..]))
}

/// One to three digits (exactly three if `fixed`).
fn getnum3(s: &str, fixed: bool) -> Option<(i64, &str)> {
    let n = s.bytes().take(3).take_while(u8::is_ascii_digit).count();
    if n == 0 || (fixed && n != 3) {
        return None;
    }
    Some((s[..n].parse().ok()?, &s[n..]))
}

/// Literal layout text must match the value; a space matches any run of spaces.
fn skip<'a>(mut value: &'a str, mut prefix: &str) -> Option<&'a str> {
    while let Some(p) = prefix.bytes().next() {
        if p == b' ' {
            if value.as_bytes().first().is_some_and(|&c| c != b' ') {
                return None;
            }
            prefix = prefix.trim_start_matches(' ');
            value = value.trim_start_matches(' ');
            continue;
        }
        if value.as_bytes().first() != Some(&p) {
            return None;
        }
        prefix = &prefix[1..];
        value = &value[1..];
    }
    Some(value)
}

fn lookup_name<'a>(names: impl Iterator<Item = &'a str>, value: &str) -> Option<(usize, usize)> {
    for (i, n) in names.enumerate() {
        if value.len() >= n.len() && value.as_bytes()[..n.len()].eq_ignore_ascii_case(n.as_bytes()) {
            return Some((i, n.len()));
        }
    }
    None
}

/// `.123` → nanoseconds (more than nine digits are cut).
fn parse_nanos(value: &str, nbytes: usize) -> Option<i64> {
    if !matches!(value.as_bytes().first(), Some(b'.' | b',')) {
        return None;
    }
    let n = nbytes.min(10);
    let mut ns: i64 = value.get(1..n)?.parse().ok()?;
    for _ in n..10 {
        ns *= 10;
    }
    Some(ns)
}

fn parse_signed_offset(value: &str) -> usize {
    if !matches!(value.as_bytes().first(), Some(b'+' | b'-')) {
        return 0;
    }
    let digits = value[1..].bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return 0;
    }
    match value[1..1 + digits].parse::<u64>() {
        Ok(x) if x <= 23 => 1 + digits,
        _ => 0,
    }
}

/// Length of a zone abbreviation at the start of `value` (`MST`, `CEST`, `GMT+3`, `-07`).
fn parse_time_zone(value: &str) -> Option<usize> {
    if value.len() < 3 {
        return None;
    }
    if value.starts_with("ChST") || value.starts_with("MeST") {
        return Some(4);
    }
    if let Some(rest) = value.strip_prefix("GMT") {
        return Some(3 + parse_signed_offset(rest));
    }
    if value.starts_with(['+', '-']) {
        let n = parse_signed_offset(value);
        return (n > 0).then_some(n);
    }
    let b = value.as_bytes();
    let upper = b.iter().take(6).take_while(|c| c.is_ascii_uppercase()).count();
    match upper {
        5 if b[4] == b'T' => Some(5),
        4 if b[3] == b'T' || value.starts_with("WITA") => Some(4),
        3 => Some(3),
        _ => None,
    }
}

/// `time.ParseInLocation(layout, value, time.Local)` with Local = UTC.
pub fn parse_time(layout: &str, value: &str) -> Result<Time, String> {
    let full_value = value;
    let fail = |f: ParseFail| {
        if f.message.is_empty() {
            format!(
                "parsing time {} as {}: cannot parse {} as {}",
                quote(full_value),
                quote(layout),
                quote(&f.value_elem),
                quote(&f.layout_elem)
            )
        } else {
            format!("parsing time {}{}", quote(full_value), f.message)
        }
    };
    parse_inner(layout, value).map_err(fail)
}

fn parse_inner(layout_all: &str, mut value: &str) -> Result<Time, ParseFail> {
    let (mut year, mut month, mut day, mut yday) = (0i64, -1i64, -1i64, -1i64);
    let (mut hour, mut min, mut sec, mut nsec) = (0i64, 0i64, 0i64, 0i64);
    let (mut pm_set, mut am_set) = (false, false);
    let mut utc = false;
    let mut zone_offset: Option<i64> = None;
    let mut zone_name = String::new();
    let mut layout = layout_all;
    loop {
        let (prefix, std, suffix) = next_std(layout);
        let std_str = &layout[prefix.len()..layout.len() - suffix.len()];
        value = skip(value, prefix).ok_or_else(|| bad(prefix, value))?;
        let Some(std) = std else {
            if !value.is_empty() {
                return Err(msg(format!(": extra text: {}", quote(value))));
            }
            break;
        };
        layout = suffix;
        let hold = value;
        let mut range_err: Option<&str> = None;
        let ok: Option<()> = (|| {
            match std {
                Std::Year => {
                    let n: i64 = value
                        .get(..2)?
                        .parse()
                        .ok()
                        .filter(|_| value.as_bytes()[..2].iter().all(u8::is_ascii_digit))?;
                    value = &value[2..];
                    year = if n >= 69 { n + 1900 } else { n + 2000 };
                }
                Std::LongYear => {
                    if value.len() < 4 || !is_digit(value, 0) {
                        return None;
                    }
                    let p = value.get(..4)?;
                    if !p.bytes().all(|c| c.is_ascii_digit()) {
                        return None;
                    }
                    year = p.parse().ok()?;
                    value = &value[4..];
                }
                Std::Month | Std::LongMonth => {
                    let (i, n) = if std == Std::Month {
                        lookup_name(LONG_MONTHS.iter().map(|m| &m[..3]), value)?
                    } else {
                        lookup_name(LONG_MONTHS.iter().copied(), value)?
                    };
                    month = i as i64 + 1;
                    value = &value[n..];
                }
                Std::NumMonth | Std::ZeroMonth => {
                    let (n, rest) = getnum(value, std == Std::ZeroMonth)?;
                    month = n;
                    value = rest;
                    if !(1..=12).contains(&month) {
                        range_err = Some("month");
                    }
                }
                Std::WeekDay | Std::LongWeekDay => {
                    let (_, n) = if std == Std::WeekDay {
                        lookup_name(LONG_DAYS.iter().map(|d| &d[..3]), value)?
                    } else {
                        lookup_name(LONG_DAYS.iter().copied(), value)?
                    };
                    value = &value[n..];
                }
                Std::Day | Std::UnderDay | Std::ZeroDay => {
                    if std == Std::UnderDay {
                        value = value.strip_prefix(' ').unwrap_or(value);
                    }
                    let (n, rest) = getnum(value, std == Std::ZeroDay)?;
                    day = n;
                    value = rest;
                }
                Std::UnderYearDay | Std::ZeroYearDay => {
                    if std == Std::UnderYearDay {
                        for _ in 0..2 {
                            value = value.strip_prefix(' ').unwrap_or(value);
                        }
                    }
                    let (n, rest) = getnum3(value, std == Std::ZeroYearDay)?;
                    yday = n;
                    value = rest;
                    if !(1..=366).contains(&yday) {
                        range_err = Some("day-of-year");
                    }
                }
                Std::Hour => {
                    let (n, rest) = getnum(value, false)?;
                    hour = n;
                    value = rest;
                    if hour >= 24 {
                        range_err = Some("hour");
                    }
                }
                Std::Hour12 | Std::ZeroHour12 => {
                    let (n, rest) = getnum(value, std == Std::ZeroHour12)?;
                    hour = n;
                    value = rest;
                    if hour > 12 {
                        range_err = Some("hour");
                    }
                }
                Std::Minute | Std::ZeroMinute => {
                    let (n, rest) = getnum(value, std == Std::ZeroMinute)?;
                    min = n;
                    value = rest;
                    if min >= 60 {
                        range_err = Some("minute");
                    }
                }
                Std::Second | Std::ZeroSecond => {
                    let (n, rest) = getnum(value, std == Std::ZeroSecond)?;
                    sec = n;
                    value = rest;
                    if sec >= 60 {
                        range_err = Some("second");
                        return Some(());
                    }
                    // A fraction in the value but not in the layout is accepted after seconds.
                    if value.len() >= 2 && matches!(value.as_bytes()[0], b'.' | b',') && is_digit(value, 1) {
                        let (_, next, _) = next_std(layout);
                        if !matches!(next, Some(Std::Frac0(..) | Std::Frac9(..))) {
                            let mut n = 2;
                            while is_digit(value, n) {
                                n += 1;
                            }
                            nsec = parse_nanos(value, n)?;
                            value = &value[n..];
                        }
                    }
                }
                Std::PM | Std::Pm => {
                    let p = value.get(..2)?;
                    let (pm, am) = if std == Std::PM {
                        ("PM", "AM")
                    } else {
                        ("pm", "am")
                    };
                    if p == pm {
                        pm_set = true;
                    } else if p == am {
                        am_set = true;
                    } else {
                        return None;
                    }
                    value = &value[2..];
                }
                Std::Iso8601TZ
                | Std::Iso8601SecondsTZ
                | Std::Iso8601ShortTZ
                | Std::Iso8601ColonTZ
                | Std::Iso8601ColonSecondsTZ
                    if value.starts_with('Z') =>
                {
                    value = &value[1..];
                    utc = true;
                }
                Std::Iso8601TZ
                | Std::Iso8601SecondsTZ
                | Std::Iso8601ShortTZ
                | Std::Iso8601ColonTZ
                | Std::Iso8601ColonSecondsTZ
                | Std::NumTZ
                | Std::NumSecondsTZ
                | Std::NumShortTZ
                | Std::NumColonTZ
                | Std::NumColonSecondsTZ => {
                    let b = value.as_bytes();
                    let (sign, h, m, s, used) = match std {
                        Std::Iso8601ColonTZ | Std::NumColonTZ => {
                            if b.len() < 6 || b[3] != b':' {
                                return None;
                            }
                            (b[0], &value[1..3], &value[4..6], "00", 6)
                        }
                        Std::NumShortTZ | Std::Iso8601ShortTZ => {
                            if b.len() < 3 {
                                return None;
                            }
                            (b[0], value.get(1..3)?, "00", "00", 3)
                        }
                        Std::Iso8601ColonSecondsTZ | Std::NumColonSecondsTZ => {
                            if b.len() < 9 || b[3] != b':' || b[6] != b':' {
                                return None;
                            }
                            (b[0], &value[1..3], &value[4..6], &value[7..9], 9)
                        }
                        Std::Iso8601SecondsTZ | Std::NumSecondsTZ => {
                            if b.len() < 7 {
                                return None;
                            }
                            (b[0], value.get(1..3)?, value.get(3..5)?, value.get(5..7)?, 7)
                        }
                        _ => {
                            if b.len() < 5 {
                                return None;
                            }
                            (b[0], value.get(1..3)?, value.get(3..5)?, "00", 5)
                        }
                    };
                    let hr = getnum(h, true)?.0;
                    let mm = getnum(m, true)?.0;
                    let ss = getnum(s, true)?.0;
                    if hr > 24 {
                        range_err = Some("time zone offset hour");
                    }
                    if mm > 60 {
                        range_err = Some("time zone offset minute");
                    }
                    if ss > 60 {
                        range_err = Some("time zone offset second");
                    }
                    let off = (hr * 60 + mm) * 60 + ss;
                    zone_offset = Some(match sign {
                        b'+' => off,
                        b'-' => -off,
                        _ => return None,
                    });
                    value = &value[used..];
                }
                Std::TZ => {
                    if let Some(rest) = value.strip_prefix("UTC") {
                        utc = true;
                        value = rest;
                    } else {
                        let n = parse_time_zone(value)?;
                        zone_name = value[..n].to_string();
                        value = &value[n..];
                    }
                }
                Std::Frac0(n, _) => {
                    let ndigit = 1 + n;
                    if value.len() < ndigit {
                        return None;
                    }
                    nsec = parse_nanos(value, ndigit)?;
                    value = &value[ndigit..];
                }
                Std::Frac9(..) => {
                    let b = value.as_bytes();
                    if b.len() < 2 || !matches!(b[0], b'.' | b',') || !b[1].is_ascii_digit() {
                        return Some(());
                    }
                    let mut i = 0;
                    while is_digit(value, i + 1) {
                        i += 1;
                    }
                    nsec = parse_nanos(value, 1 + i)?;
                    value = &value[1 + i..];
                }
            }
            Some(())
        })();
        if let Some(r) = range_err {
            return Err(msg(format!(": {r} out of range")));
        }
        if ok.is_none() {
            return Err(bad(std_str, hold));
        }
    }
    if pm_set && hour < 12 {
        hour += 12;
    } else if am_set && hour == 12 {
        hour = 0;
    }
    if yday >= 0 {
        let (mut m, mut d) = (0i64, yday);
        if yday > 365 && !is_leap(year) {
            return Err(msg(": day-of-year out of range".into()));
        }
        for mm in 1..=12u32 {
            let dim = i64::from(days_in_month(mm, year));
            if d <= dim {
                m = i64::from(mm);
                break;
            }
            d -= dim;
        }
        if month >= 0 && month != m {
            return Err(msg(": day-of-year does not match month".into()));
        }
        if day >= 0 && day != d {
            return Err(msg(": day-of-year does not match day".into()));
        }
        month = m;
        day = d;
    } else {
        if month < 0 {
            month = 1;
        }
        if day < 0 {
            day = 1;
        }
    }
    if day < 1 || day > i64::from(days_in_month(month as u32, year)) {
        return Err(msg(": day out of range".into()));
    }
    let wall = days_from_civil(year, month as u32, day as u32) * 86_400 + hour * 3600 + min * 60 + sec;
    let mk = |unix: i64, zone: &str, offset: i64| Time {
        unix,
        nanos: nsec as u32,
        zone: zone.to_string(),
        offset: offset as i32,
        mono: None,
    };
    if utc {
        return Ok(mk(wall, "UTC", 0));
    }
    if let Some(off) = zone_offset {
        // Local (UTC) is used when the offset and name agree with it; else an ad-hoc fixed zone.
        if off == 0 && (zone_name.is_empty() || zone_name == "UTC") {
            return Ok(mk(wall, "UTC", 0));
        }
        return Ok(mk(wall - off, &zone_name, off));
    }
    if !zone_name.is_empty() {
        // An unknown abbreviation gets offset 0 (or GMT±h) without moving the wall clock back,
        // exactly as Go does.
        let offset = zone_name
            .strip_prefix("GMT")
            .filter(|r| !r.is_empty())
            .and_then(|r| r.parse::<i64>().ok())
            .map_or(0, |h| h * 3600);
        return Ok(mk(wall, &zone_name, offset));
    }
    Ok(mk(wall, "UTC", 0))
}

// ---------------------------------------------------------------------------------------------
// Durations

/// Go's `Duration.String()`: `1h2m3.5s`, `1.5ms`, `0s`.
pub fn format_duration(d: i64) -> String {
    let neg = d < 0;
    let mut u = d.unsigned_abs();
    let mut out = String::new();
    // Fraction of `v / 10^prec` without trailing zeros; returns the integer part.
    let frac = |v: u64, prec: u32| -> (String, u64) {
        let p = 10u64.pow(prec);
        let f = v % p;
        if f == 0 {
            return (String::new(), v / p);
        }
        let digits = format!("{f:0width$}", width = prec as usize);
        (format!(".{}", digits.trim_end_matches('0')), v / p)
    };
    if u < 1_000_000_000 {
        let (prec, unit) = match u {
            0 => return "0s".into(),
            1..=999 => (0, "ns"),
            1000..=999_999 => (3, "µs"),
            _ => (6, "ms"),
        };
        let (f, int) = frac(u, prec);
        out.push_str(&format!("{int}{f}{unit}"));
    } else {
        let (f, secs) = frac(u, 9);
        u = secs;
        let s = format!("{}{f}s", u % 60);
        u /= 60;
        if u > 0 {
            let m = u % 60;
            u /= 60;
            if u > 0 {
                out.push_str(&format!("{u}h"));
            }
            out.push_str(&format!("{m}m"));
        }
        out.push_str(&s);
    }
    if neg {
        out.insert(0, '-');
    }
    out
}

/// Go's `time.ParseDuration`: `1h30m`, `-1.5s`, `300ms`, `2µs`.
pub fn parse_duration(orig: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {}", quote(orig));
    let mut s = orig;
    let mut neg = false;
    if let Some(c) = s.chars().next() {
        if c == '-' || c == '+' {
            neg = c == '-';
            s = &s[1..];
        }
    }
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    const LIMIT: u64 = 1 << 63;
    while !s.is_empty() {
        let b = s.as_bytes();
        if !(b[0] == b'.' || b[0].is_ascii_digit()) {
            return Err(invalid());
        }
        let n_int = b.iter().take_while(|c| c.is_ascii_digit()).count();
        let mut v: u64 = 0;
        for &c in &b[..n_int] {
            v = v
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(c - b'0')))
                .filter(|&v| v <= LIMIT)
                .ok_or_else(invalid)?;
        }
        s = &s[n_int..];
        let (mut f, mut scale, mut post) = (0u64, 1f64, false);
        if let Some(rest) = s.strip_prefix('.') {
            s = rest;
            let n_frac = s.bytes().take_while(u8::is_ascii_digit).count();
            let mut overflow = false;
            for c in s[..n_frac].bytes() {
                if overflow {
                    continue;
                }
                match f.checked_mul(10).and_then(|x| x.checked_add(u64::from(c - b'0'))) {
                    Some(x) if x <= LIMIT => {
                        f = x;
                        scale *= 10.0;
                    }
                    _ => overflow = true,
                }
            }
            post = n_frac > 0;
            s = &s[n_frac..];
        }
        if n_int == 0 && !post {
            return Err(invalid());
        }
        let n_unit = s
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        if n_unit == 0 {
            return Err(format!("time: missing unit in duration {}", quote(orig)));
        }
        let u = &s[..n_unit];
        s = &s[n_unit..];
        let unit: u64 = match u {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    quote(u),
                    quote(orig)
                ))
            }
        };
        if v > LIMIT / unit {
            return Err(invalid());
        }
        v *= unit;
        if f > 0 {
            v += (f as f64 * (unit as f64 / scale)) as u64;
            if v > LIMIT {
                return Err(invalid());
            }
        }
        total = total.checked_add(v).filter(|&t| t <= LIMIT).ok_or_else(invalid)?;
    }
    if neg {
        return Ok((total as i64).wrapping_neg());
    }
    i64::try_from(total).map_err(|_| invalid())
}

/// Go's `Duration.Round(m)`: to the nearest multiple, halfway values away from zero.
fn round_duration(d: i64, m: i64) -> i64 {
    let r = d % m;
    if d < 0 {
        let r = -r;
        if r + r < m {
            d + r
        } else {
            d.checked_sub(m - r).unwrap_or(i64::MIN)
        }
    } else if r + r < m {
        d - r
    } else {
        d.checked_add(m - r).unwrap_or(i64::MAX)
    }
}

// ---------------------------------------------------------------------------------------------
// Template values

/// A `time.Time` seen from templates.
pub struct TimeValue(pub Time);

/// Hidden member carrying the instant across `Rc<dyn Object>`; templates cannot name it (a NUL
/// is never part of an identifier).
const HIDDEN: &str = "\0time.Time";

impl TimeValue {
    /// Wraps a time as a template value.
    pub fn wrap(t: Time) -> Value {
        Value::Object(Rc::new(TimeValue(t)))
    }
}

/// The `time.Time` inside a value, if it is one.
pub fn time_of(v: &Value) -> Option<Time> {
    let Value::Object(o) = v else { return None };
    if o.type_name() != "time.Time" {
        return None;
    }
    let Some(Value::List(parts)) = o.field(HIDDEN) else {
        return None;
    };
    let int = |i: usize| match parts.get(i) {
        Some(Value::Int(n)) => Some(*n),
        _ => None,
    };
    Some(Time {
        unix: int(0)?,
        nanos: u32::try_from(int(1)?).ok()?,
        zone: parts.get(2)?.as_str()?.to_string(),
        offset: i32::try_from(int(3)?).ok()?,
        mono: int(4),
    })
}

impl Object for TimeValue {
    fn type_name(&self) -> &str {
        "time.Time"
    }

    fn kind_name(&self) -> &str {
        "struct"
    }

    fn field(&self, name: &str) -> Option<Value> {
        let t = &self.0;
        let c = t.civil();
        Some(match name {
            HIDDEN => Value::list(vec![
                Value::Int(t.unix),
                Value::Int(i64::from(t.nanos)),
                Value::str(t.zone.as_str()),
                Value::Int(i64::from(t.offset)),
                t.mono.map_or(Value::Nil, Value::Int),
            ]),
            "Year" => Value::Int(c.year),
            // time.Month and time.Weekday print as names.
            "Month" => Value::str(LONG_MONTHS[c.month as usize - 1]),
            "Weekday" => Value::str(LONG_DAYS[c.weekday as usize]),
            "Day" => Value::Int(i64::from(c.day)),
            "Hour" => Value::Int(i64::from(c.hour)),
            "Minute" => Value::Int(i64::from(c.minute)),
            "Second" => Value::Int(i64::from(c.second)),
            "Nanosecond" => Value::Int(i64::from(t.nanos)),
            "YearDay" => Value::Int(i64::from(c.yday)),
            "Unix" => Value::Int64(t.unix),
            "UnixMilli" => Value::Int64(t.unix.saturating_mul(1000) + i64::from(t.nanos / 1_000_000)),
            "UnixMicro" => Value::Int64(t.unix.saturating_mul(1_000_000) + i64::from(t.nanos / 1000)),
            "UnixNano" => Value::Int64(t.unix.saturating_mul(NANOS_PER_SEC) + i64::from(t.nanos)),
            "IsZero" => Value::Bool(t.unix == ZERO_TIME_UNIX && t.nanos == 0),
            "UTC" | "Local" => TimeValue::wrap(t.in_utc()),
            "String" => Value::str(t.go_string()),
            _ => return None,
        })
    }

    fn method(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        let t = &self.0;
        let one = || -> Result<&Value, String> {
            match args {
                [a] => Ok(a),
                _ => Err(format!(
                    "wrong number of args for {name}: want 1 got {}",
                    args.len()
                )),
            }
        };
        let result = match name {
            "Format" => one().and_then(|a| match a {
                Value::Str(l) => Ok(Value::str(t.format(l))),
                other => Err(format!(
                    "wrong type for value; expected string; got {}",
                    other.type_name()
                )),
            }),
            "Add" => one().and_then(|a| match a {
                Value::Int(d) => Ok(TimeValue::wrap(t.add(*d))),
                other => Err(format!(
                    "wrong type for value; expected time.Duration; got {}",
                    other.type_name()
                )),
            }),
            "Before" | "After" | "Equal" => one().and_then(|a| {
                let o = time_of(a).ok_or_else(|| {
                    format!("wrong type for value; expected time.Time; got {}", a.type_name())
                })?;
                let ord = t.unix_nanos().cmp(&o.unix_nanos());
                Ok(Value::Bool(match name {
                    "Before" => ord.is_lt(),
                    "After" => ord.is_gt(),
                    _ => ord.is_eq(),
                }))
            }),
            _ => return self.field(name).map(Ok),
        };
        Some(result)
    }

    fn go_string(&self) -> String {
        self.0.go_string()
    }

    fn to_plain(&self) -> Option<Value> {
        // MarshalJSON: RFC 3339 with nanoseconds.
        Some(Value::str(self.0.format("2006-01-02T15:04:05.999999999Z07:00")))
    }
}

// ---------------------------------------------------------------------------------------------
// Functions

fn time_arg(args: &[Value], i: usize) -> Result<Time, String> {
    time_of(&args[i]).ok_or_else(|| {
        format!(
            "wrong type for value; expected time.Time; got {}",
            args[i].type_name()
        )
    })
}

/// Sprig's loose date argument: a time, or unix seconds; anything else is "now".
fn loose_time(v: &Value) -> Time {
    match v {
        Value::Int(secs) | Value::Int64(secs) => Time::from_unix(*secs),
        other => time_of(other).unwrap_or_else(Time::now),
    }
}

/// `time.LoadLocation(zone)` where only UTC exists; unknown zones fall back to UTC like Sprig.
fn in_zone(t: &Time, _zone: &str) -> Time {
    t.in_utc()
}

fn now(args: &[Value]) -> FuncResult {
    arity("now", args, 0)?;
    Ok(TimeValue::wrap(Time::now()))
}

fn date(args: &[Value]) -> FuncResult {
    arity("date", args, 2)?;
    let layout = str_arg(&args[0])?;
    Ok(Value::str(in_zone(&loose_time(&args[1]), "Local").format(layout)))
}

fn date_in_zone(args: &[Value]) -> FuncResult {
    arity("dateInZone", args, 3)?;
    let layout = str_arg(&args[0])?;
    let zone = str_arg(&args[2])?;
    Ok(Value::str(in_zone(&loose_time(&args[1]), zone).format(layout)))
}

fn html_date(args: &[Value]) -> FuncResult {
    arity("htmlDate", args, 1)?;
    Ok(Value::str(
        in_zone(&loose_time(&args[0]), "Local").format("2006-01-02"),
    ))
}

fn html_date_in_zone(args: &[Value]) -> FuncResult {
    arity("htmlDateInZone", args, 2)?;
    let zone = str_arg(&args[1])?;
    Ok(Value::str(
        in_zone(&loose_time(&args[0]), zone).format("2006-01-02"),
    ))
}

fn date_modify(args: &[Value]) -> FuncResult {
    arity("dateModify", args, 2)?;
    let d = str_arg(&args[0])?;
    let t = time_arg(args, 1)?;
    Ok(TimeValue::wrap(match parse_duration(d) {
        Ok(d) => t.add(d),
        Err(_) => t,
    }))
}

fn must_date_modify(args: &[Value]) -> FuncResult {
    arity("mustDateModify", args, 2)?;
    let d = parse_duration(str_arg(&args[0])?)?;
    Ok(TimeValue::wrap(time_arg(args, 1)?.add(d)))
}

fn ago(args: &[Value]) -> FuncResult {
    arity("ago", args, 1)?;
    let t = loose_time(&args[0]);
    Ok(Value::str(format_duration(round_duration(
        t.since(),
        NANOS_PER_SEC,
    ))))
}

fn duration(args: &[Value]) -> FuncResult {
    arity("duration", args, 1)?;
    let n = match &args[0] {
        Value::Str(s) => s.parse::<i64>().unwrap_or(0),
        // Sprig's type switch names int64 only: a template's `int` (`duration 95`) is 0s.
        Value::Int64(n) => *n,
        _ => 0,
    };
    // Go's Duration multiplication wraps on overflow.
    Ok(Value::str(format_duration(n.wrapping_mul(NANOS_PER_SEC))))
}

fn duration_round(args: &[Value]) -> FuncResult {
    arity("durationRound", args, 1)?;
    let d = match &args[0] {
        Value::Str(s) => parse_duration(s).unwrap_or(0),
        // As in `duration`, only int64 counts; a plain `int` is a zero duration.
        Value::Int64(n) => *n,
        other => time_of(other).map_or(0, |t| t.since()),
    };
    let u = d.unsigned_abs();
    const SECOND: u64 = 1_000_000_000;
    const MINUTE: u64 = 60 * SECOND;
    const HOUR: u64 = 60 * MINUTE;
    const DAY: u64 = 24 * HOUR;
    const MONTH: u64 = 30 * DAY;
    const YEAR: u64 = 365 * DAY;
    let text = match u {
        _ if u > YEAR => format!("{}y", u / YEAR),
        _ if u > MONTH => format!("{}mo", u / MONTH),
        _ if u > DAY => format!("{}d", u / DAY),
        _ if u > HOUR => format!("{}h", u / HOUR),
        _ if u > MINUTE => format!("{}m", u / MINUTE),
        _ if u > SECOND => format!("{}s", u / SECOND),
        _ => "0s".to_string(),
    };
    Ok(Value::str(text))
}

fn to_date(args: &[Value]) -> FuncResult {
    arity("toDate", args, 2)?;
    let (layout, text) = (str_arg(&args[0])?, str_arg(&args[1])?);
    Ok(TimeValue::wrap(
        parse_time(layout, text).unwrap_or_else(|_| Time::zero()),
    ))
}

fn must_to_date(args: &[Value]) -> FuncResult {
    arity("mustToDate", args, 2)?;
    let (layout, text) = (str_arg(&args[0])?, str_arg(&args[1])?);
    Ok(TimeValue::wrap(parse_time(layout, text)?))
}

fn unix_epoch(args: &[Value]) -> FuncResult {
    arity("unixEpoch", args, 1)?;
    Ok(Value::str(time_arg(args, 0)?.unix.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sprig::test_support::s;

    /// 2019-06-13 20:39:39 UTC, the instant Sprig's date tests use (unix 1560458379).
    const SPRIG_INSTANT: i64 = 1_560_458_379;

    fn tv(t: Time) -> Value {
        TimeValue::wrap(t)
    }

    #[test]
    fn format_layouts() {
        // 2009-11-10 23:04:05.123456789 UTC (a Tuesday), the Go playground's instant.
        let t = Time {
            unix: 1_257_894_245,
            nanos: 123_456_789,
            zone: "UTC".into(),
            offset: 0,
            mono: None,
        };
        let cases = [
            ("rfc3339", "2006-01-02T15:04:05Z07:00", "2009-11-10T23:04:05Z"),
            (
                "rfc3339nano",
                "2006-01-02T15:04:05.999999999Z07:00",
                "2009-11-10T23:04:05.123456789Z",
            ),
            ("ansic", "Mon Jan _2 15:04:05 2006", "Tue Nov 10 23:04:05 2009"),
            (
                "rfc1123",
                "Mon, 02 Jan 2006 15:04:05 MST",
                "Tue, 10 Nov 2009 23:04:05 UTC",
            ),
            (
                "rfc1123z",
                "Mon, 02 Jan 2006 15:04:05 -0700",
                "Tue, 10 Nov 2009 23:04:05 +0000",
            ),
            ("kitchen", "3:04PM", "11:04PM"),
            ("long_names", "Monday January 2", "Tuesday November 10"),
            ("stamp_millis", "Jan _2 15:04:05.000", "Nov 10 23:04:05.123"),
            ("frac9_trim", "05.99", "05.12"),
            ("comma_frac", "05,000000", "05,123456"),
            ("short_year", "06", "09"),
            ("year_day", "002 __2", "314 314"),
            ("num_month_day", "1/2", "11/10"),
            ("lower_pm", "3pm", "11pm"),
            ("literal_underscore_year", "_2006", "_2009"),
            ("not_a_month", "Janet", "Janet"),
            // ".000" followed by a digit is literal text, and "01" is then the month.
            ("digits_after_frac", "15.0001", "23.0011"),
            ("html_date", "2006-01-02", "2009-11-10"),
        ];
        for (name, layout, want) in cases {
            assert_eq!(t.format(layout), want, "{name}");
        }
    }

    #[test]
    fn format_offsets_and_string() {
        // 2019-06-13 13:39:39 MST (-0700), same instant as Sprig's tests.
        let t = Time {
            unix: SPRIG_INSTANT,
            nanos: 0,
            zone: "MST".into(),
            offset: -7 * 3600,
            mono: None,
        };
        let cases = [
            ("num_tz", "15:04 -0700", "13:39 -0700"),
            ("colon_tz", "-07:00", "-07:00"),
            ("iso_colon", "Z07:00", "-07:00"),
            ("short_tz", "-07", "-07"),
            ("seconds_tz", "-07:00:00", "-07:00:00"),
            (
                "string",
                "2006-01-02 15:04:05.999999999 -0700 MST",
                "2019-06-13 13:39:39 -0700 MST",
            ),
        ];
        for (name, layout, want) in cases {
            assert_eq!(t.format(layout), want, "{name}");
        }
        let unnamed = Time {
            zone: String::new(),
            ..t.clone()
        };
        assert_eq!(unnamed.format("MST"), "-0700", "unnamed zone prints its offset");
        assert_eq!(
            Time::zero().go_string(),
            "0001-01-01 00:00:00 +0000 UTC",
            "zero time"
        );
        let mono = Time {
            mono: Some(12_345_678),
            ..Time::from_unix(SPRIG_INSTANT)
        };
        assert_eq!(
            mono.go_string(),
            "2019-06-13 20:39:39 +0000 UTC m=+0.012345678",
            "monotonic suffix"
        );
    }

    #[test]
    fn sprig_date_functions() {
        let t = tv(Time::from_unix(SPRIG_INSTANT));
        let cases: Vec<(&str, FuncResult, Value)> = vec![
            // From sprig date_test.go.
            ("html_date", html_date(std::slice::from_ref(&t)), s("2019-06-13")),
            (
                "date_in_zone",
                date_in_zone(&[s("02 Jan 06 15:04 -0700"), t.clone(), s("UTC")]),
                s("13 Jun 19 20:39 +0000"),
            ),
            (
                "date_in_zone_int",
                date_in_zone(&[s("02 Jan 06 15:04 -0700"), Value::Int(SPRIG_INSTANT), s("UTC")]),
                s("13 Jun 19 20:39 +0000"),
            ),
            (
                "date_in_bad_zone",
                date_in_zone(&[s("02 Jan 06 15:04 -0700"), t.clone(), s("foobar")]),
                s("13 Jun 19 20:39 +0000"),
            ),
            (
                "unix_epoch",
                unix_epoch(std::slice::from_ref(&t)),
                s("1560458379"),
            ),
            (
                "to_date_then_date",
                date(&[
                    s("02/01/2006"),
                    to_date(&[s("2006-01-02"), s("2017-12-31")]).unwrap(),
                ]),
                s("31/12/2017"),
            ),
            ("duration_61", duration(&[s("61")]), s("1m1s")),
            ("duration_hour", duration(&[s("3600")]), s("1h0m0s")),
            ("duration_days", duration(&[s("93784")]), s("26h3m4s")),
            ("duration_float_is_zero", duration(&[Value::Float(61.0)]), s("0s")),
            ("duration_round_2h", duration_round(&[s("2h5s")]), s("2h")),
            ("duration_round_1d", duration_round(&[s("24h5s")]), s("1d")),
            ("duration_round_3mo", duration_round(&[s("2400h5s")]), s("3mo")),
            (
                "ago_future",
                ago(&[tv(Time::now().add(5 * NANOS_PER_SEC + NANOS_PER_SEC / 10))]),
                s("-5s"),
            ),
        ];
        for (name, got, want) in cases {
            assert_eq!(got, Ok(want), "{name}");
        }
    }

    #[test]
    fn date_modify_and_errors() {
        // Sprig: date_modify "24h" gives "2019-06-14 20:39:39 +0000 GMT" for a GMT-parsed time.
        let gmt = parse_time("02 Jan 06 15:04:05 MST", "13 Jun 19 20:39:39 GMT").expect("parse");
        assert_eq!(gmt.go_string(), "2019-06-13 20:39:39 +0000 GMT", "parsed GMT");
        let Ok(modified) = date_modify(&[s("24h"), tv(gmt.clone())]) else {
            panic!("date_modify")
        };
        assert_eq!(
            time_of(&modified).map(|t| t.go_string()),
            Some("2019-06-14 20:39:39 +0000 GMT".into())
        );
        let Ok(same) = date_modify(&[s("1f"), tv(gmt.clone())]) else {
            panic!("date_modify bad")
        };
        assert_eq!(time_of(&same), Some(gmt.clone()), "bad duration leaves the time");
        assert_eq!(
            must_date_modify(&[s("1f"), tv(gmt)]).err(),
            Some("time: unknown unit \"f\" in duration \"1f\"".to_string())
        );
        assert!(to_date(&[s("2006-01-02"), s("bogus")]).is_ok_and(|v| time_of(&v) == Some(Time::zero())));
        assert_eq!(
            must_to_date(&[s("2006-01-02"), s("2017-13-01")]).err(),
            Some("parsing time \"2017-13-01\": month out of range".to_string())
        );
        assert_eq!(
            must_to_date(&[s("2006-01-02"), s("2017-x")]).err(),
            Some("parsing time \"2017-x\" as \"2006-01-02\": cannot parse \"x\" as \"01\"".to_string())
        );
    }

    #[test]
    fn parse_layouts() {
        let cases = [
            (
                "rfc3339_z",
                "2006-01-02T15:04:05Z07:00",
                "2019-06-13T20:39:39Z",
                "2019-06-13 20:39:39 +0000 UTC",
            ),
            (
                "rfc3339_offset",
                "2006-01-02T15:04:05Z07:00",
                "2019-06-13T13:39:39-07:00",
                "2019-06-13 13:39:39 -0700 -0700",
            ),
            (
                "implicit_frac",
                "2006-01-02 15:04:05",
                "2019-06-13 20:39:39.5",
                "2019-06-13 20:39:39.5 +0000 UTC",
            ),
            ("kitchen", "3:04PM", "8:39PM", "0000-01-01 20:39:00 +0000 UTC"),
            (
                "month_name",
                "Jan 2 2006",
                "jun 13 2019",
                "2019-06-13 00:00:00 +0000 UTC",
            ),
            (
                "gmt_plus",
                "2006-01-02 MST",
                "2019-06-13 GMT+3",
                "2019-06-13 03:00:00 +0300 GMT+3",
            ),
        ];
        for (name, layout, value, want) in cases {
            assert_eq!(
                parse_time(layout, value).map(|t| t.go_string()),
                Ok(want.to_string()),
                "{name}"
            );
        }
    }

    #[test]
    fn durations() {
        let fmt_cases = [
            ("zero", 0, "0s"),
            ("ns", 1, "1ns"),
            ("us", 1_100, "1.1µs"),
            ("ms", 2_200_000, "2.2ms"),
            ("s", 3_300_000_000, "3.3s"),
            ("m", 4 * 60 * NANOS_PER_SEC + 5 * NANOS_PER_SEC, "4m5s"),
            (
                "h",
                5 * 3600 * NANOS_PER_SEC + 6 * 60 * NANOS_PER_SEC + 7_001_000_000,
                "5h6m7.001s",
            ),
            ("neg", -NANOS_PER_SEC, "-1s"),
            ("min", i64::MIN, "-2562047h47m16.854775808s"),
            ("max", i64::MAX, "2562047h47m16.854775807s"),
        ];
        for (name, d, want) in fmt_cases {
            assert_eq!(format_duration(d), want, "{name}");
        }
        let parse_cases = [
            ("zero", "0", Ok(0)),
            ("plus", "+5s", Ok(5 * NANOS_PER_SEC)),
            ("frac", "1.5h", Ok(5400 * NANOS_PER_SEC)),
            ("mixed", "1h2m3s4ms5us6ns", Ok(3_723_004_005_006)),
            ("neg", "-.5m", Ok(-30 * NANOS_PER_SEC)),
            ("micro_sign", "3µs", Ok(3000)),
            ("empty", "", Err("time: invalid duration \"\"")),
            ("no_unit", "3", Err("time: missing unit in duration \"3\"")),
            ("dot", ".s", Err("time: invalid duration \".s\"")),
        ];
        for (name, text, want) in parse_cases {
            assert_eq!(parse_duration(text), want.map_err(str::to_string), "{name}");
        }
        assert_eq!(
            round_duration(1_500_000_000, NANOS_PER_SEC),
            2 * NANOS_PER_SEC,
            "round half away"
        );
        assert_eq!(
            round_duration(-1_500_000_000, NANOS_PER_SEC),
            -2 * NANOS_PER_SEC,
            "round negative"
        );
    }

    #[test]
    fn time_object_members() {
        let t = tv(Time::from_unix(SPRIG_INSTANT));
        let Value::Object(o) = &t else { panic!("object") };
        assert_eq!(o.type_name(), "time.Time");
        assert_eq!(o.to_plain(), Some(s("2019-06-13T20:39:39Z")), "json form");
        assert_eq!(o.field("Year"), Some(Value::Int(2019)));
        assert_eq!(o.field("Month"), Some(s("June")));
        assert_eq!(o.method("Format", &[s("Mon")]), Some(Ok(s("Thu"))));
        let now = now(&[]).expect("now");
        assert!(
            time_of(&now).is_some_and(|n| n.unix > SPRIG_INSTANT && n.mono.is_some()),
            "now"
        );
    }
}
