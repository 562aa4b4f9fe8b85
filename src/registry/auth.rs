//! Registry authentication, the pure half: reading a `WWW-Authenticate` challenge, building the
//! token request it asks for, and reading the token answer. The client (`client.rs`) sends them.
//!
//! Distribution's token flow: a request without a token gets 401 and
//! `WWW-Authenticate: Bearer realm="https://auth/token",service="registry",scope="repository:x:pull"`;
//! the client GETs `realm?service=…&scope=…` (with basic credentials when it has some) and retries
//! with `Authorization: Bearer <token>`. Registries with htpasswd answer `Basic realm=…` instead.

/// A parsed `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// Send basic credentials.
    Basic,
    /// Get a token from `realm` for `service` and `scope`.
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
}

/// Parses the first challenge of a `WWW-Authenticate` header (registries send one).
pub fn parse_challenge(header: &str) -> Result<Challenge, String> {
    let header = header.trim();
    let (scheme, params) = header.split_once(' ').unwrap_or((header, ""));
    let params = parse_params(params);
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    match scheme.to_ascii_lowercase().as_str() {
        "basic" => Ok(Challenge::Basic),
        "bearer" => Ok(Challenge::Bearer {
            realm: get("realm").ok_or_else(|| format!("bearer challenge without a realm: {header:?}"))?,
            service: get("service"),
            scope: get("scope"),
        }),
        _ => Err(format!(
            "unsupported authentication scheme in challenge {header:?}"
        )),
    }
}

/// `key=value` and `key="quoted, value"` pairs separated by commas (RFC 9110 auth-params).
fn parse_params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i] == b' ' || b[i] == b',') {
            i += 1;
        }
        let key_start = i;
        while i < b.len() && b[i] != b'=' && b[i] != b',' {
            i += 1;
        }
        let key = s[key_start..i].trim().to_ascii_lowercase();
        if i >= b.len() || b[i] != b'=' {
            continue;
        }
        i += 1;
        let mut value = String::new();
        if i < b.len() && b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' && i + 1 < b.len() {
                    i += 1;
                }
                let ch = s[i..].chars().next().unwrap_or(' ');
                value.push(ch);
                i += ch.len_utf8();
            }
            i += 1;
        } else {
            let start = i;
            while i < b.len() && b[i] != b',' {
                i += 1;
            }
            value = s[start..i].trim().to_string();
        }
        if !key.is_empty() {
            out.push((key, value));
        }
    }
    out
}

/// The token endpoint URL for a bearer challenge; `scope` overrides the challenge's (a push
/// needs `pull,push` where the challenge of a read named only `pull`).
pub fn token_url(realm: &str, service: Option<&str>, scope: Option<&str>) -> String {
    let mut url = realm.to_string();
    let mut sep = if url.contains('?') { '&' } else { '?' };
    for (k, v) in [("service", service), ("scope", scope)] {
        if let Some(v) = v {
            url.push(sep);
            url.push_str(k);
            url.push('=');
            url.push_str(&gotemplate::gostr::query_escape(v));
            sep = '&';
        }
    }
    url
}

/// The token from a token endpoint's JSON answer (`token`, or OAuth2's `access_token`).
pub fn parse_token(body: &[u8]) -> Result<String, String> {
    #[derive(serde::Deserialize)]
    struct Answer {
        #[serde(default)]
        token: String,
        #[serde(default)]
        access_token: String,
    }
    let a: Answer = serde_json::from_slice(body).map_err(|e| format!("token answer is not JSON: {e}"))?;
    let t = if a.token.is_empty() {
        a.access_token
    } else {
        a.token
    };
    if t.is_empty() {
        return Err("token answer has no token".into());
    }
    Ok(t)
}

/// The scope a repository operation needs.
pub fn scope(repository: &str, push: bool) -> String {
    format!(
        "repository:{repository}:{}",
        if push { "pull,push" } else { "pull" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_table() {
        let bearer = |realm: &str, service: Option<&str>, scope: Option<&str>| {
            Ok(Challenge::Bearer {
                realm: realm.into(),
                service: service.map(Into::into),
                scope: scope.map(Into::into),
            })
        };
        let cases = [
            ("basic", r#"Basic realm="Registry Realm""#, Ok(Challenge::Basic)),
            (
                "bearer full",
                r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#,
                bearer(
                    "https://auth.example/token",
                    Some("registry.example"),
                    Some("repository:a/b:pull,push"),
                ),
            ),
            (
                "bearer unquoted, spaces",
                "bearer realm=https://a/t, service=s",
                bearer("https://a/t", Some("s"), None),
            ),
            (
                "escaped quote",
                r#"Bearer realm="https://a/t\"x""#,
                bearer("https://a/t\"x", None, None),
            ),
            ("no realm", "Bearer service=s", Err(())),
            ("unknown scheme", "Negotiate abc", Err(())),
        ];
        for (name, header, want) in cases {
            let got = parse_challenge(header).map_err(|_| ());
            assert_eq!(got, want.map_err(|_: ()| ()), "{name}");
        }
    }

    #[test]
    fn token_url_and_answer() {
        assert_eq!(
            token_url("https://a/token", Some("reg"), Some("repository:x/y:pull,push")),
            "https://a/token?service=reg&scope=repository%3Ax%2Fy%3Apull%2Cpush"
        );
        assert_eq!(
            token_url("https://a/t?x=1", None, Some("s")),
            "https://a/t?x=1&scope=s"
        );
        assert_eq!(parse_token(br#"{"token":"t1"}"#).unwrap(), "t1");
        assert_eq!(parse_token(br#"{"access_token":"t2"}"#).unwrap(), "t2");
        assert!(parse_token(br#"{}"#).is_err());
        assert!(parse_token(b"<html>").is_err());
    }
}
