//! Go's texts for the values in gojsonschema's messages (`big.Float` and `encoding/json`), its
//! exact `multipleOf`, and its v1.2.0 format checks.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value as Json;

use super::walk::sorted;
use gotemplate::gostr::json_string;

/// A number as Go prints a `big.Float` with `%v`: the shortest digits, in exponent form when the
/// exponent is below -4 or at least 6 (`1e+06`, `1.5e-05`).
pub(super) fn go_float(f: f64) -> String {
    if f == 0.0 {
        return "0".into();
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..6).contains(&exp) {
        return format!("{f}");
    }
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.abs())
}

/// A value as Go's `encoding/json` writes it after a round trip through `interface{}`: numbers
/// as float64 (`1.0` is `1`, exponents from 1e21), `<`, `>`, `&` escaped, keys sorted.
pub(super) fn go_json(v: &Json) -> String {
    match v {
        Json::Null => "null".into(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => {
            let f = n.as_f64().unwrap_or(0.0);
            let abs = f.abs();
            if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
                let sci = format!("{f:e}");
                match sci.split_once("e") {
                    Some((m, e)) if !e.starts_with('-') => format!("{m}e+{e}"),
                    _ => sci,
                }
            } else {
                format!("{f}")
            }
        }
        Json::String(s) => json_string(s, true),
        Json::Array(items) => format!("[{}]", items.iter().map(go_json).collect::<Vec<_>>().join(",")),
        Json::Object(m) => format!(
            "{{{}}}",
            sorted(m)
                .into_iter()
                .map(|(k, v)| format!("{}:{}", json_string(k, true), go_json(v)))
                .collect::<Vec<_>>()
                .join(",")
        ),
    }
}

/// `x` is a whole multiple of `d`, computed on the decimal digits (as Go's `big.Rat` does), so
/// that 0.9 is a multiple of 0.3.
pub(super) fn is_multiple(x: &Json, d: &Json) -> bool {
    let (Some(x), Some(d)) = (decimal(x), decimal(d)) else {
        return true;
    };
    let e = x.1.min(d.1);
    let scale = |(m, exp): (i128, i32)| {
        10i128
            .checked_pow((exp - e) as u32)
            .and_then(|p| m.checked_mul(p))
    };
    match (scale(x), scale(d)) {
        (Some(a), Some(b)) if b != 0 => a % b == 0,
        _ => true,
    }
}

/// A JSON number as `mantissa × 10^exponent`, from its shortest decimal digits.
fn decimal(v: &Json) -> Option<(i128, i32)> {
    let f = v.as_f64()?;
    let sci = format!("{f:e}");
    let (m, e) = sci.split_once('e')?;
    let e: i32 = e.parse().ok()?;
    let (int, frac) = m.split_once('.').unwrap_or((m, ""));
    let digits: i128 = format!("{int}{frac}").parse().ok()?;
    Some((digits, e - frac.len() as i32))
}

/// gojsonschema v1.2.0's format checks. Unknown formats pass; a known format fails on anything
/// but a string (that version's checkers only accept strings).
pub(super) fn format_ok(format: &str, v: &Json) -> bool {
    if !STANDARD_FORMATS.contains(&format) && !OWN_FORMATS.contains(&format) {
        return true;
    }
    let Json::String(s) = v else { return false };
    let standard = |format: &str| {
        STANDARD
            .iter()
            .find(|(name, _)| *name == format)
            .and_then(|(_, validator)| validator.as_ref())
            .is_none_or(|validator| validator.is_valid(v))
    };
    match format {
        "time" => GO_TIME.is_match(s),
        // Go's layouts want an upper-case `T` and `Z`.
        "date-time" => {
            !s.contains(['t', 'z']) && (standard("date-time") || standard("date") || GO_TIME.is_match(s))
        }
        // v1.2.0's pattern is lower-case only.
        "uuid" => UUID.is_match(s),
        // Go's `url.Parse` takes nearly anything (spaces included) but bad `%` escapes and control
        // characters; gojsonschema also refuses a backslash.
        "uri-reference" | "iri-reference" => {
            !s.contains('\\') && !s.chars().any(|c| c.is_ascii_control()) && URL_ESCAPES.is_match(s)
        }
        other => standard(other),
    }
}

/// The formats of gojsonschema v1.2.0 that the jsonschema crate checks for us (through
/// [`STANDARD`]).
const STANDARD_FORMATS: &[&str] = &[
    "date",
    "date-time",
    "hostname",
    "email",
    "idn-email",
    "ipv4",
    "ipv6",
    "uri",
    "iri",
    "uri-template",
    "regex",
    "json-pointer",
    "relative-json-pointer",
];

/// Its formats checked here instead, where Go's checks differ from the crate's (`date-time` is
/// both: the crate's check plus Go's layouts).
const OWN_FORMATS: &[&str] = &["time", "uuid", "uri-reference", "iri-reference"];

/// The jsonschema crate's check of each of [`STANDARD_FORMATS`], built once (`None`: it could
/// not build one, and the format then passes).
static STANDARD: LazyLock<Vec<(&'static str, Option<jsonschema::Validator>)>> = LazyLock::new(|| {
    STANDARD_FORMATS
        .iter()
        .copied()
        .map(|format| {
            let schema = serde_json::json!({ "format": format });
            let validator = jsonschema::options()
                .should_validate_formats(true)
                .build(&schema)
                .ok();
            (format, validator)
        })
        .collect()
});

/// Go's `time.Parse` layouts: `time` is `15:04:05` with an optional zone (and, as Go allows when
/// parsing, fractions of a second); `date-time` also takes a bare date or time.
static GO_TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)?$")
        .expect("static regex")
});

/// gojsonschema v1.2.0's uuid pattern.
static UUID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new("^[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}$").expect("static regex")
});

/// Text whose every `%` starts a valid escape.
static URL_ESCAPES: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("^([^%]|%[0-9A-Fa-f]{2})*$").expect("static regex"));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_number_texts() {
        let cases: &[(f64, &str, &str)] = &[
            (1.0, "1", "1"),
            (2.5, "2.5", "2.5"),
            (100000.0, "100000", "100000"),
            (1e6, "1e+06", "1000000"),
            (0.0001, "0.0001", "0.0001"),
            (1e-5, "1e-05", "0.00001"),
            (1e-7, "1e-07", "1e-7"),
            (1e21, "1e+21", "1e+21"),
            (-0.5, "-0.5", "-0.5"),
            (123456789.0, "1.23456789e+08", "123456789"),
        ];
        for (f, big_float, json) in cases {
            assert_eq!(go_float(*f), *big_float, "big.Float {f}");
            assert_eq!(go_json(&serde_json::json!(f)), *json, "json {f}");
        }
    }

    #[test]
    fn formats_match_go_checkers() {
        // (format, string, valid): helm v3.17.2's verdict for `{"format": FORMAT}` on each.
        #[rustfmt::skip]
        let cases: &[(&str, &str, bool)] = &[
            ("email", "a@b.c", true),
            ("email", "a@b", true),
            ("email", "John <j@x.org>", true),
            ("email", "bad", false),
            ("email", "a@@b.c", false),
            ("hostname", "a_b", false),
            ("hostname", "a.b", true),
            ("hostname", "-ab", false),
            ("hostname", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false),
            ("hostname", "ex.com.", false),
            ("hostname", "a..b", false),
            ("hostname", "1.2.3.4", true),
            ("ipv4", "1.2.3.4", true),
            ("ipv4", "1.2.3", false),
            ("ipv4", "01.2.3.4", false),
            ("ipv4", "256.1.1.1", false),
            ("ipv4", "::1", false),
            ("ipv6", "::1", true),
            ("ipv6", "1.2.3.4", false),
            ("ipv6", "fe80::1%eth0", false),
            ("ipv6", "::ffff:1.2.3.4", true),
            ("uri", "foo", false),
            ("uri", "http://x", true),
            ("uri", "x:y", true),
            ("uri", "/rel", false),
            ("uri", "http://exa mple.com", false),
            ("uri", "mailto:a@b", true),
            ("uri-reference", "foo", true),
            ("uri-reference", "/rel", true),
            ("uri-reference", "http://x", true),
            ("uri-reference", "%zz", false),
            ("uri-reference", "a b", true),
            ("date", "2020-01-01", true),
            ("date", "2020-13-01", false),
            ("date", "2020-02-30", false),
            ("date", "20200101", false),
            ("time", "10:00:00", true),
            ("time", "10:00:00Z", true),
            ("time", "10:00:00+01:00", true),
            ("time", "25:00:00", false),
            ("time", "10:00", false),
            ("time", "10:00:00.5", true),
            ("date-time", "2020-01-01T10:00:00Z", true),
            ("date-time", "2020-01-01", true),
            ("date-time", "10:00:00", true),
            ("date-time", "2020-01-01T10:00:00", false),
            ("date-time", "2020-01-01 10:00:00Z", false),
            ("date-time", "2020-01-01t10:00:00z", false),
            ("uuid", "123e4567-e89b-12d3-a456-426614174000", true),
            ("uuid", "123E4567-E89B-12D3-A456-426614174000", false),
            ("uuid", "123e4567e89b12d3a456426614174000", false),
            ("regex", "a+", true),
            ("regex", "(", false),
            ("regex", "\\p{L}", true),
            ("regex", "(?<n>a)", true),
            ("regex", "a{2,1}", false),
            ("json-pointer", "", true),
            ("json-pointer", "/a", true),
            ("json-pointer", "a", false),
            ("json-pointer", "/a~2", false),
            ("relative-json-pointer", "0", true),
            ("relative-json-pointer", "1/a", true),
            ("relative-json-pointer", "0#", true),
            ("relative-json-pointer", "-1", false),
            ("relative-json-pointer", "a", false),
            ("uri-template", "http://x/{a}", true),
            ("uri-template", "{", false),
            ("uri-template", "x", true),
        ];
        for (format, s, want) in cases {
            assert_eq!(
                format_ok(format, &Json::String(s.to_string())),
                *want,
                "{format} {s:?}"
            );
        }
        assert!(
            !format_ok("date", &serde_json::json!(5)),
            "a known format fails on a number"
        );
        assert!(
            format_ok("int32", &serde_json::json!(5)),
            "an unknown format passes"
        );
        // The known formats are the two tables, each checked one way: all refuse a number.
        for format in STANDARD_FORMATS.iter().chain(OWN_FORMATS) {
            assert!(!format_ok(format, &serde_json::json!(5)), "{format} is known");
        }
        assert!(
            OWN_FORMATS.iter().all(|f| !STANDARD_FORMATS.contains(f)),
            "no format in both tables"
        );
    }
}
