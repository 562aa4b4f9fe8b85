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
//!
//! Chapters: [`time`] (the `time.Time` value and its calendar), [`layout`] (reference-time
//! layouts, `Format`), [`parse`] (`ParseInLocation`), [`duration`] (`time.Duration`), [`value`]
//! (a time as templates see it); the functions themselves are below, with their tests. The
//! chapters share this module's imports (`use super::*`).

use super::{arity, str_arg};
use crate::civil::{civil_from_days, days_from_civil};
use std::{
    rc::Rc,
    sync::OnceLock,
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use crate::{FuncMap, FuncResult, Object, Value};

mod duration;
mod layout;
mod parse;
mod time;
mod value;

use self::{duration::*, layout::*, parse::*, time::*};
pub use self::{
    duration::{format_duration, parse_duration},
    parse::parse_time,
    time::Time,
    value::{time_of, TimeValue},
};

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
