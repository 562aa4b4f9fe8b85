//! Go's `time.Time` as Sprig's functions use it: an instant with a zone offset, its calendar
//! fields, arithmetic and printing (`Time.String()`).

use super::*;

pub(super) const NANOS_PER_SEC: i64 = 1_000_000_000;
/// Seconds from 0001-01-01 (Go's zero time) to the unix epoch.
pub(super) const ZERO_TIME_UNIX: i64 = -62_135_596_800;

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
pub(super) struct Civil {
    pub(super) year: i64,
    pub(super) month: u32,
    pub(super) day: u32,
    pub(super) hour: u32,
    pub(super) minute: u32,
    pub(super) second: u32,
    pub(super) weekday: u32,
    pub(super) yday: u32,
}

pub(super) const LONG_MONTHS: [&str; 12] = [
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
pub(super) const LONG_DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

pub(super) fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

pub(super) fn days_in_month(m: u32, y: i64) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

pub(super) fn process_start() -> Instant {
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

    pub(super) fn civil(&self) -> Civil {
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
    pub(super) fn in_utc(&self) -> Time {
        Time {
            zone: "UTC".into(),
            offset: 0,
            mono: None,
            ..self.clone()
        }
    }

    /// Nanoseconds since the unix epoch (saturating outside i64 range, which Go's `Sub` does too).
    pub(super) fn unix_nanos(&self) -> i128 {
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
    pub(super) fn since(&self) -> i64 {
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
