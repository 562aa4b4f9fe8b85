//! Sprig's network and URL functions: `getHostByName`, `urlParse`, `urlJoin` (`network.go`,
//! `url.go`), with Go's `net/url` parsing and formatting rules.
//!
//! `getHostByName` always returns `""`: Helm replaces Sprig's version with that unless DNS
//! lookups are enabled (`--enable-dns`), and rendering here never does network I/O.

use super::{fixed, map_arg, str_arg};
use crate::gofmt::quote as go_quote;
use crate::{FuncMap, FuncResult, Value};
use std::collections::BTreeMap;

pub(crate) fn register(m: &mut FuncMap) {
    m.insert_simple("getHostByName", |a| {
        let [name] = fixed("getHostByName", a)?;
        str_arg(name)?;
        Ok(Value::str(""))
    });
    m.insert_simple("urlParse", url_parse);
    m.insert_simple("urlJoin", url_join);
}

/// A URL's username and optional password, unescaped.
type UserInfo = (String, Option<String>);

/// The parts of a Go `url.URL` that Sprig reads or writes.
#[derive(Default, Debug)]
struct Url {
    scheme: String,
    opaque: String,
    /// Username and optional password, unescaped.
    user: Option<UserInfo>,
    host: String,
    path: String,
    raw_query: String,
    fragment: String,
    force_query: bool,
    omit_host: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Path,
    Host,
    UserPassword,
    Fragment,
}

/// Go's `shouldEscape`.
fn should_escape(c: u8, mode: Mode) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    if mode == Mode::Host
        && matches!(
            c,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'['
                | b']'
                | b'<'
                | b'>'
                | b'"'
        )
    {
        return false;
    }
    match c {
        b'-' | b'_' | b'.' | b'~' => return false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => {
            return match mode {
                Mode::UserPassword => matches!(c, b'@' | b'/' | b'?' | b':'),
                Mode::Path => c == b'?',
                Mode::Fragment => false,
                Mode::Host => true,
            };
        }
        _ => {}
    }
    if mode == Mode::Fragment && matches!(c, b'!' | b'(' | b')' | b'*') {
        return false;
    }
    true
}

/// Go's `escape` (percent-encoding with upper-case hex).
fn escape(s: &str, mode: Mode) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if should_escape(b, mode) {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(char::from(b));
        }
    }
    out
}

/// Go's `unescape`, with its errors.
fn unescape(s: &str, mode: Mode) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = |c: u8| char::from(c).to_digit(16);
                let digits = if i + 2 < b.len() {
                    hex(b[i + 1]).zip(hex(b[i + 2]))
                } else {
                    None
                };
                let Some((h, l)) = digits else {
                    let end = (i + 3).min(b.len());
                    return Err(format!(
                        "invalid URL escape {}",
                        go_quote(&String::from_utf8_lossy(&b[i..end]))
                    ));
                };
                if mode == Mode::Host && h < 8 && &b[i..i + 3] != b"%25" {
                    return Err(format!(
                        "invalid URL escape {}",
                        go_quote(&String::from_utf8_lossy(&b[i..i + 3]))
                    ));
                }
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            c => {
                if mode == Mode::Host && c < 0x80 && should_escape(c, mode) {
                    return Err(format!(
                        "invalid character {} in host name",
                        go_quote(&char::from(c).to_string())
                    ));
                }
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// `validOptionalPort`: empty, or `:` followed by digits only.
fn valid_port(p: &str) -> bool {
    p.is_empty()
        || p.strip_prefix(':')
            .is_some_and(|d| d.bytes().all(|c| c.is_ascii_digit()))
}

fn parse_host(host: &str) -> Result<String, String> {
    if host.starts_with('[') {
        let Some(i) = host.rfind(']') else {
            return Err("missing ']' in host".to_string());
        };
        let port = &host[i + 1..];
        if !valid_port(port) {
            return Err(format!("invalid port {} after host", go_quote(port)));
        }
    } else if let Some(i) = host.rfind(':') {
        let port = &host[i..];
        if !valid_port(port) {
            return Err(format!("invalid port {} after host", go_quote(port)));
        }
    }
    unescape(host, Mode::Host)
}

fn parse_authority(auth: &str) -> Result<(Option<UserInfo>, String), String> {
    let Some(at) = auth.rfind('@') else {
        return Ok((None, parse_host(auth)?));
    };
    let host = parse_host(&auth[at + 1..])?;
    let info = &auth[..at];
    let valid = info
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || b"-._:~!$&'()*+,;=%@".contains(&c));
    if !valid {
        return Err("net/url: invalid userinfo".to_string());
    }
    let user = match info.split_once(':') {
        Some((u, p)) => (
            unescape(u, Mode::UserPassword)?,
            Some(unescape(p, Mode::UserPassword)?),
        ),
        None => (unescape(info, Mode::UserPassword)?, None),
    };
    Ok((Some(user), host))
}

/// `url.Parse`, error text without the `parse "URL": ` wrapper.
fn parse_inner(raw: &str) -> Result<Url, String> {
    if raw.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err("net/url: invalid control character in URL".to_string());
    }
    let mut u = Url::default();
    if raw == "*" {
        u.path = "*".to_string();
        return Ok(u);
    }
    let mut rest = raw;
    for (i, c) in raw.char_indices() {
        if c.is_ascii_alphabetic() {
            continue;
        }
        if c.is_ascii_digit() || matches!(c, '+' | '-' | '.') {
            if i == 0 {
                break;
            }
            continue;
        }
        if c == ':' {
            if i == 0 {
                return Err("missing protocol scheme".to_string());
            }
            u.scheme = raw[..i].to_ascii_lowercase();
            rest = &raw[i + 1..];
        }
        break;
    }
    let rest_owned;
    if rest.ends_with('?') && rest.matches('?').count() == 1 {
        u.force_query = true;
        rest = &rest[..rest.len() - 1];
    } else if let Some((r, q)) = rest.split_once('?') {
        u.raw_query = q.to_string();
        rest_owned = r.to_string();
        rest = &rest_owned;
    }
    if !rest.starts_with('/') {
        if !u.scheme.is_empty() {
            u.opaque = rest.to_string();
            return Ok(u);
        }
        if rest.split('/').next().is_some_and(|seg| seg.contains(':')) {
            return Err("first path segment in URL cannot contain colon".to_string());
        }
    }
    let mut path = rest;
    if (!u.scheme.is_empty() || !rest.starts_with("///")) && rest.starts_with("//") {
        let auth_and_path = &rest[2..];
        let (auth, p) = match auth_and_path.find('/') {
            Some(i) => (&auth_and_path[..i], &auth_and_path[i..]),
            None => (auth_and_path, ""),
        };
        (u.user, u.host) = parse_authority(auth)?;
        path = p;
    } else if !u.scheme.is_empty() && rest.starts_with('/') {
        u.omit_host = true;
    }
    u.path = unescape(path, Mode::Path)?;
    Ok(u)
}

/// `url.Parse`: the fragment is split off first and unescaped on its own.
fn parse(raw: &str) -> Result<Url, String> {
    let (body, frag) = raw.split_once('#').unwrap_or((raw, ""));
    let mut u = parse_inner(body).map_err(|e| format!("parse {}: {e}", go_quote(body)))?;
    u.fragment = unescape(frag, Mode::Fragment).map_err(|e| format!("parse {}: {e}", go_quote(raw)))?;
    Ok(u)
}

/// `URL.Hostname`: the host without port and IPv6 brackets.
fn hostname(host: &str) -> String {
    let mut h = host;
    if let Some(i) = h.rfind(':') {
        if valid_port(&h[i..]) {
            h = &h[..i];
        }
    }
    if h.starts_with('[') && h.ends_with(']') && h.len() >= 2 {
        h = &h[1..h.len() - 1];
    }
    h.to_string()
}

fn userinfo_string(user: &UserInfo) -> String {
    let mut s = escape(&user.0, Mode::UserPassword);
    if let Some(p) = &user.1 {
        s.push(':');
        s.push_str(&escape(p, Mode::UserPassword));
    }
    s
}

/// `URL.String`.
fn url_string(u: &Url) -> String {
    let mut out = String::new();
    if !u.scheme.is_empty() {
        out.push_str(&u.scheme);
        out.push(':');
    }
    if !u.opaque.is_empty() {
        out.push_str(&u.opaque);
    } else {
        // Go omits the empty authority of `scheme:/path` URLs (OmitHost).
        let has_authority = !u.host.is_empty() || u.user.is_some();
        if has_authority || (!u.scheme.is_empty() && !u.omit_host) {
            if !u.host.is_empty() || !u.path.is_empty() || u.user.is_some() {
                out.push_str("//");
            }
            if let Some(user) = &u.user {
                out.push_str(&userinfo_string(user));
                out.push('@');
            }
            out.push_str(&escape(&u.host, Mode::Host));
        }
        let path = escape(&u.path, Mode::Path);
        if !path.is_empty() && !path.starts_with('/') && !u.host.is_empty() {
            out.push('/');
        }
        if out.is_empty() && path.split('/').next().is_some_and(|seg| seg.contains(':')) {
            out.push_str("./");
        }
        out.push_str(&path);
    }
    if u.force_query || !u.raw_query.is_empty() {
        out.push('?');
        out.push_str(&u.raw_query);
    }
    if !u.fragment.is_empty() {
        out.push('#');
        out.push_str(&escape(&u.fragment, Mode::Fragment));
    }
    out
}

/// `urlParse URL`: a dict of scheme, host, hostname, path, query, opaque, fragment, userinfo.
fn url_parse(a: &[Value]) -> FuncResult {
    let [s] = fixed("urlParse", a)?;
    let u = parse(str_arg(s)?).map_err(|e| format!("unable to parse url: {e}"))?;
    let mut d = BTreeMap::new();
    d.insert("scheme".to_string(), Value::str(u.scheme.as_str()));
    d.insert("host".to_string(), Value::str(u.host.as_str()));
    d.insert("hostname".to_string(), Value::str(hostname(&u.host)));
    d.insert("path".to_string(), Value::str(u.path.as_str()));
    d.insert("query".to_string(), Value::str(u.raw_query.as_str()));
    d.insert("opaque".to_string(), Value::str(u.opaque.as_str()));
    d.insert("fragment".to_string(), Value::str(u.fragment.as_str()));
    d.insert(
        "userinfo".to_string(),
        Value::str(u.user.as_ref().map(userinfo_string).unwrap_or_default()),
    );
    Ok(Value::map_from(d))
}

/// `urlJoin DICT`: the URL string built from urlParse-style parts.
fn url_join(a: &[Value]) -> FuncResult {
    let [d] = fixed("urlJoin", a)?;
    let m = map_arg(d)?.map(|m| m.borrow().clone()).unwrap_or_default();
    let get = |k: &str| -> Result<String, String> {
        match m.get(k) {
            None => Ok(String::new()),
            Some(Value::Str(s)) => Ok(s.to_string()),
            Some(Value::Nil) => Err(super::NIL_DEREF.to_string()),
            Some(v) => Err(format!(
                "unable to parse {k} key, must be of type string, but {} found",
                v.kind_name()
            )),
        }
    };
    let mut u = Url {
        scheme: get("scheme")?,
        host: get("host")?,
        path: get("path")?,
        raw_query: get("query")?,
        opaque: get("opaque")?,
        fragment: get("fragment")?,
        ..Url::default()
    };
    let info = get("userinfo")?;
    if !info.is_empty() {
        let tmp = parse(&format!("proto://{info}@host"))
            .map_err(|e| format!("unable to parse userinfo in dict: {e}"))?;
        u.user = tmp.user;
    }
    Ok(Value::str(url_string(&u)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sprig::test_support::{call, s};

    fn dict(pairs: &[(&str, &str)]) -> Value {
        Value::map_from(pairs.iter().map(|(k, v)| (k.to_string(), s(v))).collect())
    }

    #[test]
    fn url_functions() {
        // Expectations from sprig's url_test.go.
        let parsed = call("urlParse", vec![s("proto://auth@host:80/path?query#fragment")]);
        assert_eq!(
            parsed,
            Ok(dict(&[
                ("fragment", "fragment"),
                ("host", "host:80"),
                ("hostname", "host"),
                ("opaque", ""),
                ("path", "/path"),
                ("query", "query"),
                ("scheme", "proto"),
                ("userinfo", "auth"),
            ]))
        );
        let cases: Vec<(&str, Value, &str)> = vec![
            (
                "full",
                dict(&[
                    ("fragment", "fragment"),
                    ("host", "host:80"),
                    ("path", "/path"),
                    ("query", "query"),
                    ("scheme", "proto"),
                ]),
                "proto://host:80/path?query#fragment",
            ),
            (
                "user",
                dict(&[
                    ("host", "host:80"),
                    ("path", "/path"),
                    ("scheme", "proto"),
                    ("userinfo", "ASDJKJSD"),
                ]),
                "proto://ASDJKJSD@host:80/path",
            ),
            (
                "opaque",
                dict(&[("scheme", "mailto"), ("opaque", "user@example.com")]),
                "mailto:user@example.com",
            ),
            (
                "escaped path",
                dict(&[("scheme", "http"), ("host", "h"), ("path", "/a b")]),
                "http://h/a%20b",
            ),
        ];
        for (case, d, want) in cases {
            assert_eq!(call("urlJoin", vec![d]), Ok(s(want)), "case {case}");
        }
        assert_eq!(call("getHostByName", vec![s("example.com")]), Ok(s("")));
        assert_eq!(
            call("urlParse", vec![s("http://[::1")]),
            Err("unable to parse url: parse \"http://[::1\": missing ']' in host".to_string())
        );
        assert_eq!(
            call("urlParse", vec![s(":foo")]),
            Err("unable to parse url: parse \":foo\": missing protocol scheme".to_string())
        );
    }
}
