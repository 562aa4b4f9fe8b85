//! `time.ParseInLocation(layout, value, time.Local)` with Go's error messages.

use super::*;

/// Go's `strconv.Quote` for the ASCII-ish texts in parse errors.
pub(super) fn quote(s: &str) -> String {
    format!("{s:?}")
}

pub(super) struct ParseFail {
    layout_elem: String,
    value_elem: String,
    message: String,
}

pub(super) fn bad(layout_elem: &str, value_elem: &str) -> ParseFail {
    ParseFail {
        layout_elem: layout_elem.into(),
        value_elem: value_elem.into(),
        message: String::new(),
    }
}

pub(super) fn msg(m: String) -> ParseFail {
    ParseFail {
        layout_elem: String::new(),
        value_elem: String::new(),
        message: m,
    }
}

pub(super) fn is_digit(s: &str, i: usize) -> bool {
    s.as_bytes().get(i).is_some_and(u8::is_ascii_digit)
}

/// One or two digits (exactly two if `fixed`).
pub(super) fn getnum(s: &str, fixed: bool) -> Option<(i64, &str)> {
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
pub(super) fn getnum3(s: &str, fixed: bool) -> Option<(i64, &str)> {
    let n = s.bytes().take(3).take_while(u8::is_ascii_digit).count();
    if n == 0 || (fixed && n != 3) {
        return None;
    }
    Some((s[..n].parse().ok()?, &s[n..]))
}

/// Literal layout text must match the value; a space matches any run of spaces.
pub(super) fn skip<'a>(mut value: &'a str, mut prefix: &str) -> Option<&'a str> {
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

pub(super) fn lookup_name<'a>(names: impl Iterator<Item = &'a str>, value: &str) -> Option<(usize, usize)> {
    for (i, n) in names.enumerate() {
        if value.len() >= n.len() && value.as_bytes()[..n.len()].eq_ignore_ascii_case(n.as_bytes()) {
            return Some((i, n.len()));
        }
    }
    None
}

/// `.123` → nanoseconds (more than nine digits are cut).
pub(super) fn parse_nanos(value: &str, nbytes: usize) -> Option<i64> {
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

pub(super) fn parse_signed_offset(value: &str) -> usize {
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
pub(super) fn parse_time_zone(value: &str) -> Option<usize> {
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

pub(super) fn parse_inner(layout_all: &str, mut value: &str) -> Result<Time, ParseFail> {
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
                iso_zone!() if value.starts_with('Z') => {
                    value = &value[1..];
                    utc = true;
                }
                num_zone!() => {
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
