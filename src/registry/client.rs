//! The OCI distribution client: the registry's HTTP API (`/v2/…`) over [`crate::net::Client`],
//! with the token and basic authentication flows, paginated tag lists, verified manifest and
//! blob downloads, and Helm-compatible pushes.

use std::{collections::HashMap, sync::Mutex};

use http::{header, Method, StatusCode};

use super::{
    auth::{self, Challenge},
    manifest::{self, Descriptor, Manifest},
    Reference,
};
use crate::net::{self, Auth, Request};

/// The largest manifest accepted (distribution's own limit).
pub const MAX_MANIFEST: u64 = 4 << 20;
/// The largest chart archive downloaded: a chart may not expand past
/// [`crate::chart::limits::MAX_CHART_SIZE`], so a compressed archive larger than that can never
/// load (the same bound the loader puts on a local archive file).
pub const MAX_CHART_ARCHIVE: u64 = crate::chart::limits::MAX_CHART_SIZE;

/// A registry failure; each names the registry, reference or digest involved.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request could not be made or completed.
    #[error(transparent)]
    Http(#[from] net::Error),
    /// The registry refused our credentials, or we had none to give.
    #[error("{host}: authentication failed: {detail}")]
    Unauthorized { host: String, detail: String },
    /// The reference, tag or blob does not exist.
    #[error("{what}: not found")]
    NotFound { what: String },
    /// Any other unexpected answer.
    #[error("{method} {url}: unexpected status {status}: {body}")]
    Status {
        method: Method,
        url: String,
        status: StatusCode,
        body: String,
    },
    /// Content did not match its digest or announced size.
    #[error("{what}: digest mismatch: expected {expected}, got {actual}")]
    Digest {
        what: String,
        expected: String,
        actual: String,
    },
    /// The registry answered something that is not a Helm chart.
    #[error("{what}: {reason}")]
    Invalid { what: String, reason: String },
}

/// Talks to registries. One per command; tokens are cached per registry and scope.
pub struct Client {
    http: net::Client,
    plain_http: bool,
    /// `--username`/`--password`: used for every registry instead of stored logins.
    explicit: Option<Auth>,
    /// Bearer tokens by `host scope`, and `host basic` for registries that asked for basic auth.
    tokens: Mutex<HashMap<String, Auth>>,
    /// `?n=` for tag lists; `None` lets the registry choose its page size.
    tag_page_size: Option<u32>,
}

/// A manifest as fetched: parsed, its digest, and its bytes (kept for the cache).
#[derive(Debug, Clone)]
pub struct FetchedManifest {
    pub manifest: Manifest,
    pub digest: String,
    pub bytes: Vec<u8>,
}

impl Client {
    /// A client over `http`; `plain_http` talks `http://` to every registry.
    pub fn new(http: net::Client, plain_http: bool, explicit: Option<Auth>) -> Client {
        Client {
            http,
            plain_http,
            explicit,
            tokens: Mutex::new(HashMap::new()),
            tag_page_size: None,
        }
    }

    /// Asks for tag lists in pages of `n` (registries cap it; the rest comes through `Link`).
    pub fn with_tag_page_size(mut self, n: u32) -> Client {
        self.tag_page_size = Some(n);
        self
    }

    fn base(&self, host: &str) -> String {
        format!("{}://{host}", if self.plain_http { "http" } else { "https" })
    }

    /// The credentials we hold for `host`: the flags, else a stored login.
    fn credentials(&self, host: &str) -> Option<Auth> {
        self.explicit
            .clone()
            .or_else(|| self.http.credentials().lookup(host))
    }

    /// Sends `req` to `host`, answering an authentication challenge once (token or basic).
    async fn send(&self, host: &str, scope: &str, req: Request) -> Result<net::Response, Error> {
        let key = format!("{host} {scope}");
        let cached = {
            let t = self.tokens.lock().expect("token cache poisoned");
            t.get(&key).or_else(|| t.get(&format!("{host} basic"))).cloned()
        };
        let resp = self.http.send(req.clone().auth(cached.clone())).await?;
        if resp.status != StatusCode::UNAUTHORIZED {
            return Ok(resp);
        }
        let header = resp.header("www-authenticate").unwrap_or_default().to_string();
        let challenge = auth::parse_challenge(&header).map_err(|detail| Error::Unauthorized {
            host: host.into(),
            detail,
        })?;
        let creds = self.credentials(host);
        let auth = match challenge {
            Challenge::Basic => {
                let creds = creds.ok_or_else(|| Error::Unauthorized {
                    host: host.into(),
                    detail: "the registry requires credentials: run `kubectl chart registry login` or pass --username/--password".into(),
                })?;
                self.tokens
                    .lock()
                    .expect("token cache poisoned")
                    .insert(format!("{host} basic"), creds.clone());
                creds
            }
            Challenge::Bearer {
                realm,
                service,
                scope: offered,
            } => {
                let want = if scope.is_empty() {
                    offered
                } else {
                    Some(scope.to_string())
                };
                let url = auth::token_url(&realm, service.as_deref(), want.as_deref());
                // An identity token is exchanged as a refresh token would be; basic credentials
                // go along with the GET as distribution's token servers expect.
                let token_req = Request::get(url.clone()).limit(1 << 20).auth(creds.clone());
                let answer = self.http.send(token_req).await?;
                if !answer.status.is_success() {
                    return Err(Error::Unauthorized {
                        host: host.into(),
                        detail: format!("token request to {realm} answered {}", answer.status),
                    });
                }
                let token = auth::parse_token(&answer.body).map_err(|detail| Error::Unauthorized {
                    host: host.into(),
                    detail: format!("{realm}: {detail}"),
                })?;
                let a = Auth::Bearer(token);
                self.tokens
                    .lock()
                    .expect("token cache poisoned")
                    .insert(key, a.clone());
                a
            }
        };
        let resp = self.http.send(req.auth(Some(auth))).await?;
        if resp.status == StatusCode::UNAUTHORIZED {
            return Err(Error::Unauthorized {
                host: host.into(),
                detail: "the registry refused the credentials (401 Unauthorized)".into(),
            });
        }
        Ok(resp)
    }

    /// `GET /v2/`: checks that `host` is a registry and accepts our credentials (`registry login`).
    pub async fn ping(&self, host: &str) -> Result<(), Error> {
        let url = format!("{}/v2/", self.base(host));
        let resp = self.send(host, "", Request::get(&url).limit(1 << 20)).await?;
        expect_success(&Method::GET, &url, resp).map(|_| ())
    }

    /// Every tag of the repository, following `Link: <…>; rel="next"` pages.
    pub async fn tags(&self, r: &Reference) -> Result<Vec<String>, Error> {
        #[derive(serde::Deserialize)]
        struct Page {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let scope = auth::scope(&r.repository, false);
        let mut url = format!("{}/v2/{}/tags/list", self.base(&r.registry), r.repository);
        if let Some(n) = self.tag_page_size {
            url.push_str(&format!("?n={n}"));
        }
        let mut out = Vec::new();
        // A registry that hands back the same page forever must not loop us forever.
        for _ in 0..10_000 {
            let resp = self
                .send(&r.registry, &scope, Request::get(&url).limit(16 << 20))
                .await?;
            if resp.status == StatusCode::NOT_FOUND {
                return Err(Error::NotFound { what: r.locator() });
            }
            let next = resp.header("link").and_then(next_link).map(str::to_string);
            let body = expect_success(&Method::GET, &url, resp)?;
            let page: Page = serde_json::from_slice(&body.body).map_err(|e| Error::Invalid {
                what: url.clone(),
                reason: format!("tag list is not JSON: {e}"),
            })?;
            out.extend(page.tags.unwrap_or_default());
            match next {
                Some(n) => {
                    let resolved = net::policy::resolve_location(&url.parse().expect("our URLs parse"), &n)
                        .ok_or_else(|| Error::Invalid {
                        what: url.clone(),
                        reason: format!("unusable Link header {n:?}"),
                    })?;
                    url = resolved.to_string();
                }
                None => return Ok(out),
            }
        }
        Err(Error::Invalid {
            what: r.locator(),
            reason: "tag list has more than 10000 pages".into(),
        })
    }

    /// The manifest for a tag or digest. A digest reference is verified against the bytes; a
    /// tag's answer against the `Docker-Content-Digest` header when the registry sends one.
    pub async fn manifest(&self, r: &Reference, reference: &str) -> Result<FetchedManifest, Error> {
        let url = format!(
            "{}/v2/{}/manifests/{reference}",
            self.base(&r.registry),
            r.repository
        );
        let req = Request::get(&url)
            .header(header::ACCEPT, manifest::MANIFEST_MEDIA_TYPE)
            .limit(MAX_MANIFEST);
        let resp = self
            .send(&r.registry, &auth::scope(&r.repository, false), req)
            .await?;
        let what = format!("{}:{reference}", r.locator()).replace(":sha256:", "@sha256:");
        if resp.status == StatusCode::NOT_FOUND {
            return Err(Error::NotFound { what });
        }
        let header_digest = resp.header("docker-content-digest").map(str::to_string);
        let resp = expect_success(&Method::GET, &url, resp)?;
        let digest = format!("sha256:{}", resp.sha256);
        let expected = if reference.starts_with("sha256:") {
            Some(reference.to_string())
        } else {
            header_digest
        };
        if let Some(e) = expected.filter(|e| *e != digest) {
            return Err(Error::Digest {
                what: format!("manifest {what}"),
                expected: e,
                actual: digest,
            });
        }
        let manifest = parse_manifest(&what, &resp.body)?;
        Ok(FetchedManifest {
            manifest,
            digest,
            bytes: resp.body.to_vec(),
        })
    }

    /// A blob, checked against its descriptor's size and digest.
    pub async fn blob(&self, r: &Reference, d: &Descriptor, limit: u64) -> Result<Vec<u8>, Error> {
        let what = format!("blob {} of {}", d.digest, r.locator());
        if d.size > limit {
            return Err(Error::Invalid {
                what,
                reason: format!("{} bytes is more than the {limit} allowed", d.size),
            });
        }
        let url = format!(
            "{}/v2/{}/blobs/{}",
            self.base(&r.registry),
            r.repository,
            d.digest
        );
        let resp = self
            .send(
                &r.registry,
                &auth::scope(&r.repository, false),
                Request::get(&url).limit(d.size),
            )
            .await?;
        if resp.status == StatusCode::NOT_FOUND {
            return Err(Error::NotFound { what });
        }
        let resp = expect_success(&Method::GET, &url, resp)?;
        let actual = format!("sha256:{}", resp.sha256);
        if actual != d.digest {
            return Err(Error::Digest {
                what,
                expected: d.digest.clone(),
                actual,
            });
        }
        if resp.body.len() as u64 != d.size {
            return Err(Error::Invalid {
                what,
                reason: format!("{} bytes where the manifest says {}", resp.body.len(), d.size),
            });
        }
        Ok(resp.body.to_vec())
    }

    /// Uploads a blob unless the registry has it (`HEAD`, then `POST` + monolithic `PUT`).
    pub async fn push_blob(&self, r: &Reference, data: &[u8], digest: &str) -> Result<(), Error> {
        let scope = auth::scope(&r.repository, true);
        let base = self.base(&r.registry);
        let head_url = format!("{base}/v2/{}/blobs/{digest}", r.repository);
        let head = self
            .send(
                &r.registry,
                &scope,
                Request::get(&head_url).with_method(Method::HEAD),
            )
            .await?;
        if head.status.is_success() {
            return Ok(());
        }
        let start_url = format!("{base}/v2/{}/blobs/uploads/", r.repository);
        let start = self
            .send(
                &r.registry,
                &scope,
                Request::get(&start_url).with_method(Method::POST),
            )
            .await?;
        if start.status != StatusCode::ACCEPTED {
            return Err(status_error(&Method::POST, &start_url, start));
        }
        let location = start.header("location").ok_or_else(|| Error::Invalid {
            what: start_url.clone(),
            reason: "upload started without a Location".into(),
        })?;
        let upload = net::policy::resolve_location(&start_url.parse().expect("our URLs parse"), location)
            .ok_or_else(|| Error::Invalid {
                what: start_url.clone(),
                reason: format!("unusable upload Location {location:?}"),
            })?
            .to_string();
        let sep = if upload.contains('?') { '&' } else { '?' };
        let put_url = format!("{upload}{sep}digest={}", digest.replace(':', "%3A"));
        let put = Request::get(&put_url)
            .with_method(Method::PUT)
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .body(data.to_vec());
        let resp = self.send(&r.registry, &scope, put).await?;
        if resp.status != StatusCode::CREATED {
            return Err(status_error(&Method::PUT, &put_url, resp));
        }
        Ok(())
    }

    /// Puts a manifest under `tag`; returns its digest.
    pub async fn push_manifest(&self, r: &Reference, tag: &str, bytes: &[u8]) -> Result<String, Error> {
        let url = format!("{}/v2/{}/manifests/{tag}", self.base(&r.registry), r.repository);
        let req = Request::get(&url)
            .with_method(Method::PUT)
            .header(header::CONTENT_TYPE, manifest::MANIFEST_MEDIA_TYPE)
            .body(bytes.to_vec());
        let resp = self
            .send(&r.registry, &auth::scope(&r.repository, true), req)
            .await?;
        if resp.status != StatusCode::CREATED {
            return Err(status_error(&Method::PUT, &url, resp));
        }
        Ok(crate::cache::digest_of(bytes))
    }
}

/// Parses a manifest, naming the reference when it is not one.
pub fn parse_manifest(what: &str, bytes: &[u8]) -> Result<Manifest, Error> {
    serde_json::from_slice(bytes).map_err(|e| Error::Invalid {
        what: what.to_string(),
        reason: format!("not an OCI image manifest: {e}"),
    })
}

fn expect_success(method: &Method, url: &str, resp: net::Response) -> Result<net::Response, Error> {
    if resp.status.is_success() {
        Ok(resp)
    } else {
        Err(status_error(method, url, resp))
    }
}

fn status_error(method: &Method, url: &str, resp: net::Response) -> Error {
    let mut body = resp.text();
    body.truncate(300);
    Error::Status {
        method: method.clone(),
        url: url.to_string(),
        status: resp.status,
        body: body.trim().to_string(),
    }
}

/// The `rel="next"` target of a `Link` header.
pub fn next_link(header: &str) -> Option<&str> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params.split(';').any(|p| {
            p.trim().replace(' ', "").eq_ignore_ascii_case("rel=\"next\"")
                || p.trim().eq_ignore_ascii_case("rel=next")
        });
        let t = target.trim();
        (is_next && t.starts_with('<') && t.ends_with('>')).then(|| &t[1..t.len() - 1])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_table() {
        let cases = [
            (
                r#"</v2/a/tags/list?last=b&n=2>; rel="next""#,
                Some("/v2/a/tags/list?last=b&n=2"),
            ),
            (r#"<https://h/x>; rel=next"#, Some("https://h/x")),
            (
                r#"<https://h/p>; rel="prev", <https://h/n>; rel="next""#,
                Some("https://h/n"),
            ),
            (r#"<https://h/p>; rel="prev""#, None),
            ("garbage", None),
        ];
        for (h, want) in cases {
            assert_eq!(next_link(h), want, "{h}");
        }
    }
}
