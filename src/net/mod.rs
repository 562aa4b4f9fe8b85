//! The HTTP edge: the only module that sends HTTP requests (as `cluster/` is the only one that
//! talks to Kubernetes). Registries (`crate::registry`) and chart repositories build requests and
//! read answers through [`Client`]; everything they decide stays pure and unit-tested.
//!
//! What every request gets here, so callers cannot forget it:
//! - Helm's connection flags ([`TlsOptions`]: `--ca-file`, `--cert-file`, `--key-file`,
//!   `--insecure-skip-tls-verify`; plain HTTP is the caller's choice of URL scheme);
//! - a timeout on each attempt (connect, headers and body together);
//! - 429 honoured through `Retry-After`, 5xx retried with exponential backoff ([`policy`]);
//! - redirects followed by hand, so an `Authorization` header never reaches another origin
//!   (a registry's blob redirect to object storage gets no credentials);
//! - credentials only to their host: [`Request::auth`] is bound to the request's origin, and the
//!   [`Credentials`] hook is asked per host;
//! - a size limit on every body, read as a stream and hashed (sha256) while it arrives.
//!
//! Start with [`Client::new`] and [`Client::send`].

pub mod multiplexed;
pub mod policy;
mod tls;

use std::{path::PathBuf, sync::Arc, time::Duration};

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::{
    client::legacy::{connect::HttpConnector, Client as HyperClient},
    rt::TokioExecutor,
};
use sha2::{Digest, Sha256};

pub use crate::digest::{hex, sha256_hex};

/// TLS settings, Helm's flags of the same names.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// `--ca-file`: extra PEM roots, added to the system's.
    pub ca_file: Option<PathBuf>,
    /// `--cert-file`: a PEM client certificate chain.
    pub cert_file: Option<PathBuf>,
    /// `--key-file`: its PEM private key.
    pub key_file: Option<PathBuf>,
    /// `--insecure-skip-tls-verify`: accept any server certificate.
    pub insecure_skip_tls_verify: bool,
}

/// How the client behaves; [`ClientOptions::default`] is what the verbs use.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// TLS settings.
    pub tls: TlsOptions,
    /// The limit for one attempt (connect, headers, body).
    pub timeout: Duration,
    /// How often a 429/5xx answer or a broken connection is retried.
    pub max_retries: u32,
    /// Redirects followed before giving up (Go's http.Client stops after 10).
    pub max_redirects: u32,
    /// `User-Agent` sent with every request.
    pub user_agent: String,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            tls: TlsOptions::default(),
            timeout: Duration::from_secs(120),
            max_retries: 3,
            max_redirects: 10,
            user_agent: format!("kubectl-chart/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// Credentials for one request.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// HTTP basic authentication.
    Basic { username: String, password: String },
    /// A bearer token (OCI registry tokens, identity tokens).
    Bearer(String),
}

impl std::fmt::Debug for Auth {
    // Never print secrets, even in debug logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::Basic { username, .. } => write!(f, "Basic({username}:***)"),
            Auth::Bearer(_) => f.write_str("Bearer(***)"),
        }
    }
}

impl Auth {
    /// The `Authorization` header value.
    pub fn header_value(&self) -> String {
        use base64::Engine as _;
        match self {
            Auth::Basic { username, password } => format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
            ),
            Auth::Bearer(t) => format!("Bearer {t}"),
        }
    }
}

/// Where credentials for a host come from (a registry login, a repository's `--username`).
/// Asked with `host[:port]` as the user typed it at login (lowercase).
pub trait Credentials: Send + Sync {
    /// The credentials for `host`, if any are stored.
    fn lookup(&self, host: &str) -> Option<Auth>;
}

/// No stored credentials.
pub struct NoCredentials;

impl Credentials for NoCredentials {
    fn lookup(&self, _: &str) -> Option<Auth> {
        None
    }
}

/// One request. Its body is kept whole so it can be sent again on a retry or redirect.
#[derive(Debug, Clone)]
pub struct Request {
    /// The HTTP method.
    pub method: Method,
    /// An absolute `http://` or `https://` URL.
    pub url: String,
    /// Extra headers.
    pub headers: HeaderMap,
    /// The body (empty for GET/HEAD).
    pub body: Bytes,
    /// Credentials for the URL's origin only; dropped when a redirect leaves it. When `None`,
    /// the client's [`Credentials`] hook is asked for each origin the request reaches.
    pub auth: Option<Auth>,
    /// The largest body accepted; a longer answer is an error, not a truncation.
    pub limit: u64,
}

impl Request {
    /// A GET of `url` with a 16 MiB body limit.
    pub fn get(url: impl Into<String>) -> Request {
        Request {
            method: Method::GET,
            url: url.into(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            auth: None,
            limit: 16 << 20,
        }
    }

    /// The same with another method.
    pub fn with_method(mut self, method: Method) -> Request {
        self.method = method;
        self
    }

    /// Adds a header (values that are not valid header text are a caller bug and dropped).
    pub fn header(mut self, name: header::HeaderName, value: &str) -> Request {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.append(name, v);
        }
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Bytes>) -> Request {
        self.body = body.into();
        self
    }

    /// Sets credentials for the URL's origin.
    pub fn auth(mut self, auth: Option<Auth>) -> Request {
        self.auth = auth;
        self
    }

    /// Sets the body size limit.
    pub fn limit(mut self, limit: u64) -> Request {
        self.limit = limit;
        self
    }
}

/// An answer, its body read whole (within the request's limit).
#[derive(Debug)]
pub struct Response {
    /// The final status (after redirects and retries).
    pub status: StatusCode,
    /// Its headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
    /// Lowercase hex sha256 of the body, computed as it streamed in.
    pub sha256: String,
    /// The URL that gave this answer (after redirects).
    pub url: String,
}

impl Response {
    /// A header as text, if present and ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as (lossy) text, for error messages.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// An HTTP failure: the message names the method and URL.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URL does not parse or is not http(s).
    #[error("invalid URL {url:?}: {reason}")]
    Url { url: String, reason: String },
    /// TLS settings could not be loaded.
    #[error("TLS configuration: {0}")]
    Tls(String),
    /// Connecting or talking to the server failed (after retries).
    #[error("{method} {url}: {reason}")]
    Transport {
        method: Method,
        url: String,
        reason: String,
    },
    /// An attempt took longer than the timeout.
    #[error("{method} {url}: no complete answer within {secs}s")]
    Timeout { method: Method, url: String, secs: u64 },
    /// The body was larger than allowed.
    #[error("{method} {url}: response larger than the {limit} bytes allowed")]
    TooLarge { method: Method, url: String, limit: u64 },
    /// A redirect loop or chain too long, or a redirect without a usable `Location`.
    #[error("{method} {url}: {reason}")]
    Redirect {
        method: Method,
        url: String,
        reason: String,
    },
}

type Hyper = HyperClient<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// The HTTP client. Cheap to clone; share one per command.
#[derive(Clone)]
pub struct Client {
    inner: Hyper,
    opts: Arc<ClientOptions>,
    credentials: Arc<dyn Credentials>,
}

impl Client {
    /// A client with these options and no stored credentials.
    pub fn new(opts: ClientOptions) -> Result<Client, Error> {
        let tls = tls::client_config(&opts.tls)?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(opts.timeout.min(Duration::from_secs(30))));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let inner = HyperClient::builder(TokioExecutor::new()).build(connector);
        Ok(Client {
            inner,
            opts: Arc::new(opts),
            credentials: Arc::new(NoCredentials),
        })
    }

    /// The same client, asking `credentials` for requests that carry none.
    pub fn with_credentials(mut self, credentials: Arc<dyn Credentials>) -> Client {
        self.credentials = credentials;
        self
    }

    /// The credentials hook (registries use it to answer a token challenge).
    pub fn credentials(&self) -> &dyn Credentials {
        &*self.credentials
    }

    /// Sends `req`, following redirects and retrying as the module doc says, and reads the body.
    /// Any status is returned as a [`Response`]; only transport failures are errors.
    pub async fn send(&self, req: Request) -> Result<Response, Error> {
        let mut url = parse_url(&req.url)?;
        let first_origin = policy::origin(&url);
        let mut method = req.method.clone();
        let mut body = req.body.clone();
        let mut redirects = 0;
        let mut attempt = 0;
        loop {
            // Explicit credentials stay with their origin; elsewhere the hook decides per host.
            let auth = if policy::origin(&url) == first_origin && req.auth.is_some() {
                req.auth.clone()
            } else {
                self.credentials.lookup(&policy::host_key(&url))
            };
            let result = self
                .attempt(
                    &method,
                    &url,
                    &req.headers,
                    body.clone(),
                    auth.as_ref(),
                    req.limit,
                )
                .await;
            let resp = match result {
                Ok(r) => r,
                Err(e @ (Error::Transport { .. } | Error::Timeout { .. }))
                    if attempt < self.opts.max_retries
                        && (method == Method::GET || method == Method::HEAD) =>
                {
                    tracing::debug!(error = %e, attempt, "retrying");
                    tokio::time::sleep(policy::backoff(attempt)).await;
                    attempt += 1;
                    continue;
                }
                Err(e) => return Err(e),
            };
            if resp.status.is_redirection() && resp.status != StatusCode::NOT_MODIFIED {
                let location = resp.header("location").ok_or_else(|| Error::Redirect {
                    method: method.clone(),
                    url: url.to_string(),
                    reason: format!("{} without a Location header", resp.status),
                })?;
                redirects += 1;
                if redirects > self.opts.max_redirects {
                    return Err(Error::Redirect {
                        method,
                        url: req.url.clone(),
                        reason: format!("stopped after {} redirects", self.opts.max_redirects),
                    });
                }
                url = policy::resolve_location(&url, location).ok_or_else(|| Error::Redirect {
                    method: method.clone(),
                    url: url.to_string(),
                    reason: format!("unusable Location {location:?}"),
                })?;
                // As browsers and Go do: 303 (and 301/302 after a POST) turn into a bodiless GET.
                if resp.status == StatusCode::SEE_OTHER
                    || (method == Method::POST
                        && matches!(resp.status, StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND))
                {
                    method = Method::GET;
                    body = Bytes::new();
                }
                continue;
            }
            match policy::next(
                resp.status.as_u16(),
                method.as_str(),
                resp.header("retry-after"),
                attempt,
                self.opts.max_retries,
            ) {
                policy::Next::Done => return Ok(resp),
                policy::Next::Retry(wait) => {
                    tracing::debug!(status = %resp.status, ?wait, attempt, url = %url, "retrying");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
            }
        }
    }

    /// One attempt at one URL, under the timeout.
    async fn attempt(
        &self,
        method: &Method,
        url: &http::Uri,
        headers: &HeaderMap,
        body: Bytes,
        auth: Option<&Auth>,
        limit: u64,
    ) -> Result<Response, Error> {
        let mut builder = http::Request::builder()
            .method(method.clone())
            .uri(url.clone())
            .header(header::USER_AGENT, &self.opts.user_agent);
        for (k, v) in headers {
            builder = builder.header(k, v);
        }
        if let Some(a) = auth {
            builder = builder.header(header::AUTHORIZATION, a.header_value());
        }
        let request = builder.body(Full::new(body)).map_err(|e| Error::Url {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
        let work = async {
            let resp = self.inner.request(request).await.map_err(|e| Error::Transport {
                method: method.clone(),
                url: url.to_string(),
                reason: error_chain(&e),
            })?;
            let (parts, mut incoming) = resp.into_parts();
            if let Some(len) = parts
                .headers
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
            {
                if len > limit {
                    return Err(Error::TooLarge {
                        method: method.clone(),
                        url: url.to_string(),
                        limit,
                    });
                }
            }
            let mut hasher = Sha256::new();
            let mut buf = Vec::new();
            while let Some(frame) = incoming.frame().await {
                let frame = frame.map_err(|e| Error::Transport {
                    method: method.clone(),
                    url: url.to_string(),
                    reason: format!("reading the body: {}", error_chain(&e)),
                })?;
                if let Ok(data) = frame.into_data() {
                    if buf.len() as u64 + data.len() as u64 > limit {
                        return Err(Error::TooLarge {
                            method: method.clone(),
                            url: url.to_string(),
                            limit,
                        });
                    }
                    hasher.update(&data);
                    buf.extend_from_slice(&data);
                }
            }
            Ok(Response {
                status: parts.status,
                headers: parts.headers,
                body: Bytes::from(buf),
                sha256: hex(&hasher.finalize()),
                url: url.to_string(),
            })
        };
        tokio::time::timeout(self.opts.timeout, work)
            .await
            .map_err(|_| Error::Timeout {
                method: method.clone(),
                url: url.to_string(),
                secs: self.opts.timeout.as_secs(),
            })?
    }
}

fn parse_url(url: &str) -> Result<http::Uri, Error> {
    let uri: http::Uri = url.parse().map_err(|e: http::uri::InvalidUri| Error::Url {
        url: url.into(),
        reason: e.to_string(),
    })?;
    match uri.scheme_str() {
        Some("http") | Some("https") if uri.host().is_some() => Ok(uri),
        _ => Err(Error::Url {
            url: url.into(),
            reason: "expected an absolute http:// or https:// URL".into(),
        }),
    }
}

/// An error and its causes on one line (hyper's top error alone says little).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cur = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_header_and_debug() {
        let basic = Auth::Basic {
            username: "u".into(),
            password: "p".into(),
        };
        assert_eq!(basic.header_value(), "Basic dTpw");
        assert_eq!(
            format!("{basic:?}"),
            "Basic(u:***)",
            "the password is never printed"
        );
        assert_eq!(Auth::Bearer("t".into()).header_value(), "Bearer t");
    }

    #[test]
    fn url_table() {
        let cases = [
            ("https://h/x", true),
            ("http://h:5000/x", true),
            ("oci://h/x", false),
            ("/relative", false),
            ("https://", false),
        ];
        for (url, ok) in cases {
            assert_eq!(parse_url(url).is_ok(), ok, "{url}");
        }
    }

    #[test]
    fn sha256_of_empty() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
