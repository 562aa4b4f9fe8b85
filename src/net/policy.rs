//! The pure decisions of the HTTP edge, kept apart from I/O so they are unit-tested: which
//! responses are retried and after how long, where a redirect goes, and whether credentials may
//! follow it.

use std::time::Duration;

/// The longest wait a `Retry-After` header may ask for; a server asking more is answered with the
/// error it sent rather than a hang.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// What to do with a response status on attempt `attempt` (0-based) of `max_retries`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Hand the response to the caller.
    Done,
    /// Send the request again after this long.
    Retry(Duration),
}

/// Exponential backoff for 5xx answers and broken connections: 250 ms, 500 ms, 1 s, … capped at 8 s.
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(250u64.saturating_mul(1 << attempt.min(5))).min(Duration::from_secs(8))
}

/// Whether (and when) to retry. 429 waits for `Retry-After` (seconds or an HTTP date is not
/// parsed: Go registries send seconds; without one the backoff applies); 502/503/504 and 500
/// back off. Requests whose method is not safe to repeat (`POST`) are retried only on 429 and
/// 503, which say the request was not processed.
pub fn next(status: u16, method: &str, retry_after: Option<&str>, attempt: u32, max_retries: u32) -> Next {
    if attempt >= max_retries {
        return Next::Done;
    }
    let repeatable = method != "POST" && method != "PATCH";
    match status {
        429 => match retry_after.and_then(parse_retry_after) {
            Some(d) if d > MAX_RETRY_AFTER => Next::Done,
            Some(d) => Next::Retry(d),
            None => Next::Retry(backoff(attempt)),
        },
        503 => Next::Retry(
            retry_after
                .and_then(parse_retry_after)
                .filter(|d| *d <= MAX_RETRY_AFTER)
                .unwrap_or_else(|| backoff(attempt)),
        ),
        500 | 502 | 504 if repeatable => Next::Retry(backoff(attempt)),
        _ => Next::Done,
    }
}

/// `Retry-After` as delay-seconds (RFC 9110 §10.2.3); an HTTP date yields `None`.
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// Resolves a `Location` header against the URL that answered with it. Absolute URLs stand,
/// `//host/x` keeps the scheme, `/x` keeps scheme and authority, anything else is relative to
/// the directory of the current path.
pub fn resolve_location(base: &http::Uri, location: &str) -> Option<http::Uri> {
    let scheme = base.scheme_str()?;
    let authority = base.authority()?.as_str();
    let text = if location.starts_with("http://") || location.starts_with("https://") {
        location.to_string()
    } else if let Some(rest) = location.strip_prefix("//") {
        format!("{scheme}://{rest}")
    } else if location.starts_with('/') {
        format!("{scheme}://{authority}{location}")
    } else {
        let path = base.path();
        let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
        format!("{scheme}://{authority}{dir}{location}")
    };
    text.parse().ok()
}

/// The authority credentials are bound to: host and port, the default port made explicit so
/// `host` and `host:443` are the same origin, and scheme changes (https → http) count as another
/// origin.
pub fn origin(uri: &http::Uri) -> String {
    let scheme = uri.scheme_str().unwrap_or("");
    let host = uri.host().unwrap_or("").to_ascii_lowercase();
    let port = uri.port_u16().unwrap_or(if scheme == "http" { 80 } else { 443 });
    format!("{scheme}://{host}:{port}")
}

/// `host[:port]` as users type it for logins and as credential stores key it.
pub fn host_key(uri: &http::Uri) -> String {
    uri.authority()
        .map(|a| a.as_str().to_ascii_lowercase())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_table() {
        let s = Duration::from_secs;
        type Case = (&'static str, u16, &'static str, Option<&'static str>, u32, Next);
        let cases: &[Case] = &[
            ("ok is done", 200, "GET", None, 0, Next::Done),
            ("404 is done", 404, "GET", None, 0, Next::Done),
            ("429 honours seconds", 429, "GET", Some("3"), 0, Next::Retry(s(3))),
            ("429 too long gives up", 429, "GET", Some("3600"), 0, Next::Done),
            (
                "429 date falls back to backoff",
                429,
                "GET",
                Some("Wed, 21 Oct 2015 07:28:00 GMT"),
                1,
                Next::Retry(Duration::from_millis(500)),
            ),
            ("503 backs off", 503, "GET", None, 2, Next::Retry(s(1))),
            (
                "500 on GET retried",
                500,
                "GET",
                None,
                0,
                Next::Retry(Duration::from_millis(250)),
            ),
            ("500 on POST not retried", 500, "POST", None, 0, Next::Done),
            (
                "503 on POST retried",
                503,
                "POST",
                None,
                0,
                Next::Retry(Duration::from_millis(250)),
            ),
            ("attempts exhausted", 503, "GET", None, 3, Next::Done),
        ];
        for (name, status, method, ra, attempt, want) in cases {
            assert_eq!(next(*status, method, *ra, *attempt, 3), *want, "{name}");
        }
        assert_eq!(backoff(30), s(8), "backoff is capped");
    }

    #[test]
    fn location_table() {
        let base: http::Uri = "https://reg.example:5000/v2/a/blobs/sha256:1".parse().unwrap();
        let cases = [
            (
                "absolute",
                "http://cdn.example/x?sig=1",
                "http://cdn.example/x?sig=1",
            ),
            ("scheme relative", "//cdn.example/x", "https://cdn.example/x"),
            ("host relative", "/v2/b", "https://reg.example:5000/v2/b"),
            (
                "path relative",
                "other",
                "https://reg.example:5000/v2/a/blobs/other",
            ),
        ];
        for (name, loc, want) in cases {
            assert_eq!(resolve_location(&base, loc).unwrap().to_string(), want, "{name}");
        }
    }

    #[test]
    fn origin_table() {
        let o = |s: &str| origin(&s.parse().unwrap());
        assert_eq!(
            o("https://Reg.example/x"),
            o("https://reg.example:443/y"),
            "default port"
        );
        assert_ne!(
            o("https://reg.example/x"),
            o("http://reg.example/x"),
            "scheme downgrade"
        );
        assert_ne!(
            o("https://reg.example/x"),
            o("https://cdn.example/x"),
            "other host"
        );
        assert_ne!(
            o("https://reg.example:5000/x"),
            o("https://reg.example/x"),
            "other port"
        );
    }
}
