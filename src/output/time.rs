//! Release timestamps in the three Go layouts Helm prints them with: `time.ANSIC` in tables,
//! RFC 3339 in JSON/YAML (`time.Time.MarshalJSON`), and `time.Time.String()` in `list`.
//!
//! Always in UTC: Helm prints local time, but records hold whole UTC seconds and output that
//! does not depend on the machine's zone is easier to compare and to test.

use crate::release::Timestamp;

const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: i64,
    minute: i64,
    second: i64,
    weekday: usize,
}

fn civil(t: Timestamp) -> Civil {
    let days = t.0.div_euclid(86_400);
    let secs = t.0.rem_euclid(86_400);
    let (year, month, day) = gotemplate::civil::civil_from_days(days);
    Civil {
        year,
        month,
        day,
        hour: secs / 3600,
        minute: secs / 60 % 60,
        second: secs % 60,
        // 1970-01-01 was a Thursday.
        weekday: days.rem_euclid(7) as usize,
    }
}

/// Go's `time.ANSIC` layout, `Mon Jan _2 15:04:05 2006` (day padded with a space).
pub fn ansic(t: Timestamp) -> String {
    let c = civil(t);
    format!(
        "{} {} {:>2} {:02}:{:02}:{:02} {}",
        WEEKDAYS[c.weekday],
        MONTHS[c.month as usize - 1],
        c.day,
        c.hour,
        c.minute,
        c.second,
        c.year
    )
}

/// What `time.Time.MarshalJSON` writes for a UTC time with no fraction: `2006-01-02T15:04:05Z`.
pub fn rfc3339(t: Timestamp) -> String {
    t.utc()
}

/// `time.Time.String()` of a UTC time: `2006-01-02 15:04:05 +0000 UTC`.
pub fn go_string(t: Timestamp) -> String {
    let c = civil(t);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} +0000 UTC",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_layouts() {
        // Expected strings are Go's: time.Unix(s, 0).UTC().Format(time.ANSIC), .MarshalJSON(),
        // .String().
        let cases = [
            (
                "epoch",
                0,
                "Thu Jan  1 00:00:00 1970",
                "1970-01-01T00:00:00Z",
                "1970-01-01 00:00:00 +0000 UTC",
            ),
            // helm's history help example date, Mon Oct 3 2016
            (
                "padded day",
                1_475_489_713,
                "Mon Oct  3 10:15:13 2016",
                "2016-10-03T10:15:13Z",
                "2016-10-03 10:15:13 +0000 UTC",
            ),
            (
                "leap day",
                1_709_208_000,
                "Thu Feb 29 12:00:00 2024",
                "2024-02-29T12:00:00Z",
                "2024-02-29 12:00:00 +0000 UTC",
            ),
            (
                "year end",
                1_735_689_599,
                "Tue Dec 31 23:59:59 2024",
                "2024-12-31T23:59:59Z",
                "2024-12-31 23:59:59 +0000 UTC",
            ),
            (
                "before epoch",
                -1,
                "Wed Dec 31 23:59:59 1969",
                "1969-12-31T23:59:59Z",
                "1969-12-31 23:59:59 +0000 UTC",
            ),
        ];
        for (name, secs, a, r, s) in cases {
            let t = Timestamp(secs);
            assert_eq!(ansic(t), a, "{name}");
            assert_eq!(rfc3339(t), r, "{name}");
            assert_eq!(go_string(t), s, "{name}");
        }
    }
}
