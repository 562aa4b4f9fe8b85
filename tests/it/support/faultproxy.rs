//! A fault-injecting HTTP proxy in front of the real API server.
//!
//! Clients speak plain HTTP/1.1 to `127.0.0.1:PORT` (see [`FaultProxy::kubeconfig`]); the proxy
//! forwards each request over TLS to the API server, presenting the kit's admin client certificate,
//! and asks for `Connection: close` upstream so a response ends at EOF and needs no parsing beyond
//! its status line. Rules (method + path regex + which occurrences) inject latency, error answers
//! (500, 429 with `Retry-After`, 409), a connection dropped before forwarding, or one dropped after
//! the API server applied the request — the case that must never be retried blindly. Every request
//! is recorded (method, path, status) so tests can count attempts.
//!
//! The proxy runs on its own thread and runtime, so it works under any test runtime; it stops when
//! the [`FaultProxy`] is dropped.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use regex::Regex;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{rustls, TlsConnector};

use super::k8s::Kit;

/// What a rule does to a matching request.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Wait, then forward.
    Latency(Duration),
    /// Answer with this status and a `Status` body instead of forwarding (500, 503, 409, ...).
    Status(u16),
    /// Answer 429 Too Many Requests with `Retry-After: SECS`.
    TooManyRequests { retry_after_secs: u64 },
    /// Close the client connection without forwarding.
    DropBefore,
    /// Forward, let the server apply the request, then close the client connection unanswered.
    DropAfter,
}

/// When a fault fires: on requests matching `method` (any if `None`) and `path` (a regex on the
/// path with its query), at the listed 1-based occurrences of such requests (all if empty).
#[derive(Debug, Clone)]
pub struct Rule {
    pub method: Option<String>,
    pub path: Regex,
    pub occurrences: Vec<usize>,
    pub fault: Fault,
}

impl Rule {
    /// A rule for `method` (`"*"` for any) on paths matching `path`, firing on the given occurrences.
    pub fn new(method: &str, path: &str, occurrences: &[usize], fault: Fault) -> Self {
        Rule {
            method: (method != "*").then(|| method.to_string()),
            path: Regex::new(path).expect("rule path regex"),
            occurrences: occurrences.to_vec(),
            fault,
        }
    }
}

/// One request as the proxy saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub method: String,
    pub path: String,
    /// The status the client received; `None` when the connection was dropped.
    pub status: Option<u16>,
    /// The fault applied, if any.
    pub fault: Option<Fault>,
    /// The `User-Agent` header the client sent.
    pub user_agent: Option<String>,
}

#[derive(Default)]
struct Shared {
    rules: Vec<(Rule, usize)>,
    log: Vec<Record>,
}

/// A running proxy.
pub struct FaultProxy {
    /// The port on 127.0.0.1.
    pub port: u16,
    shared: Arc<Mutex<Shared>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

struct Upstream {
    host: String,
    port: u16,
    tls: TlsConnector,
}

impl FaultProxy {
    /// Starts a proxy to the kit's API server.
    pub fn start(kit: &Kit) -> Self {
        let upstream = Arc::new(upstream(kit));
        let shared = Arc::new(Mutex::new(Shared::default()));
        let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        let sh = shared.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("proxy runtime");
            rt.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
                let _ = port_tx.send(listener.local_addr().expect("proxy addr").port());
                loop {
                    tokio::select! {
                        _ = &mut rx => break,
                        acc = listener.accept() => {
                            let Ok((conn, _)) = acc else { continue };
                            tokio::spawn(serve(conn, upstream.clone(), sh.clone()));
                        }
                    }
                }
            });
        });
        let port = port_rx.recv().expect("proxy started");
        FaultProxy {
            port,
            shared,
            stop: Some(tx),
        }
    }

    /// Adds a rule; rules are tried in the order added, the first that fires wins.
    pub fn add_rule(&self, rule: Rule) {
        self.lock().rules.push((rule, 0));
    }

    /// Removes every rule.
    pub fn clear_rules(&self) {
        self.lock().rules.clear();
    }

    /// Every request seen so far.
    pub fn log(&self) -> Vec<Record> {
        self.lock().log.clone()
    }

    /// Requests seen whose method is `method` and whose path contains `fragment`.
    pub fn count(&self, method: &str, fragment: &str) -> usize {
        self.lock()
            .log
            .iter()
            .filter(|r| r.method == method && r.path.contains(fragment))
            .count()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes a kubeconfig for `http://127.0.0.1:PORT` (no credentials: the proxy has them) into
    /// `dir`, with `namespace` as the context's namespace.
    pub fn kubeconfig(&self, dir: &Path, namespace: &str) -> PathBuf {
        let path = dir.join(format!("proxy-{}.kubeconfig", self.port));
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: proxy\n  cluster:\n    server: http://127.0.0.1:{}\n\
             users:\n- name: proxy\n  user: {{}}\ncontexts:\n- name: proxy\n  context:\n    cluster: proxy\n    user: proxy\n    namespace: {}\n\
             current-context: proxy\n",
            self.port, namespace
        );
        std::fs::write(&path, text).expect("write proxy kubeconfig");
        path
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

fn upstream(kit: &Kit) -> Upstream {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(&kit.ca).expect("read kit CA") {
        roots.add(cert.expect("CA pem")).expect("add CA");
    }
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&kit.cert)
        .expect("read admin cert")
        .map(|c| c.expect("cert pem"))
        .collect();
    let key = PrivateKeyDer::from_pem_file(&kit.key).expect("read admin key");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("tls versions")
        .with_root_certificates(roots)
        .with_client_auth_cert(certs, key)
        .expect("client cert");
    let hostport = kit.server.trim_start_matches("https://").trim_end_matches('/');
    let (host, port) = hostport.rsplit_once(':').expect("server host:port");
    Upstream {
        host: host.to_string(),
        port: port.parse().expect("server port"),
        tls: TlsConnector::from(Arc::new(config)),
    }
}

/// A parsed request: head lines and body.
struct Request {
    method: String,
    path: String,
    version: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Reads one request from a keep-alive connection; `None` at EOF or on garbage.
async fn read_request(conn: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Request> {
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let mut chunk = [0u8; 8192];
        let n = conn.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, path, version) = (
        first.next()?.to_string(),
        first.next()?.to_string(),
        first.next()?.to_string(),
    );
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| {
            l.split_once(':')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        })
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    buf.drain(..head_end + 4);
    while buf.len() < len {
        let mut chunk = [0u8; 8192];
        let n = conn.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body: Vec<u8> = buf.drain(..len).collect();
    Some(Request {
        method,
        path,
        version,
        headers,
        body,
    })
}

fn pick_fault(shared: &Mutex<Shared>, req: &Request) -> Option<Fault> {
    let mut sh = shared.lock().unwrap_or_else(|p| p.into_inner());
    for (rule, seen) in sh.rules.iter_mut() {
        if rule.method.as_deref().is_some_and(|m| m != req.method) || !rule.path.is_match(&req.path) {
            continue;
        }
        *seen += 1;
        if rule.occurrences.is_empty() || rule.occurrences.contains(seen) {
            return Some(rule.fault.clone());
        }
    }
    None
}

fn status_response(code: u16, extra_headers: &str) -> Vec<u8> {
    let (reason, message) = match code {
        409 => ("Conflict", "Operation cannot be fulfilled: injected conflict"),
        429 => (
            "TooManyRequests",
            "injected: too many requests, please try again later",
        ),
        503 => (
            "ServiceUnavailable",
            "injected: the server is currently unable to handle the request",
        ),
        _ => ("InternalError", "injected: internal error"),
    };
    let body = serde_json::json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code,
    })
    .to_string();
    format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{extra_headers}\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Sends `req` upstream over a fresh TLS connection and returns the whole raw response.
async fn forward(up: &Upstream, req: &Request) -> std::io::Result<Vec<u8>> {
    let tcp = TcpStream::connect((up.host.as_str(), up.port)).await?;
    let name = ServerName::try_from(up.host.clone()).map_err(std::io::Error::other)?;
    let mut tls = up.tls.connect(name, tcp).await?;
    let mut head = format!("{} {} {}\r\n", req.method, req.path, req.version);
    for (k, v) in &req.headers {
        if !k.eq_ignore_ascii_case("connection") {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    head.push_str("Connection: close\r\n\r\n");
    tls.write_all(head.as_bytes()).await?;
    tls.write_all(&req.body).await?;
    tls.flush().await?;
    let mut out = Vec::new();
    // Go's TLS server may end with a close_notify or just close; both end the response.
    match tls.read_to_end(&mut out).await {
        Ok(_) => Ok(out),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !out.is_empty() => Ok(out),
        Err(e) => Err(e),
    }
}

fn status_of(raw: &[u8]) -> Option<u16> {
    let line = raw.split(|b| *b == b'\n').next()?;
    std::str::from_utf8(line).ok()?.split(' ').nth(1)?.parse().ok()
}

async fn serve(mut conn: TcpStream, up: Arc<Upstream>, shared: Arc<Mutex<Shared>>) {
    let mut buf = Vec::new();
    while let Some(req) = read_request(&mut conn, &mut buf).await {
        let fault = pick_fault(&shared, &req);
        let record = |status: Option<u16>| {
            let mut sh = shared.lock().unwrap_or_else(|p| p.into_inner());
            let user_agent = req
                .headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("user-agent"))
                .map(|(_, v)| v.clone());
            sh.log.push(Record {
                method: req.method.clone(),
                path: req.path.clone(),
                status,
                fault: fault.clone(),
                user_agent,
            });
        };
        let answer = match &fault {
            Some(Fault::DropBefore) => {
                record(None);
                return;
            }
            Some(Fault::Status(code)) => status_response(*code, ""),
            Some(Fault::TooManyRequests { retry_after_secs }) => {
                status_response(429, &format!("Retry-After: {retry_after_secs}\r\n"))
            }
            Some(Fault::Latency(d)) => {
                tokio::time::sleep(*d).await;
                forward(&up, &req)
                    .await
                    .unwrap_or_else(|_| status_response(502, ""))
            }
            Some(Fault::DropAfter) | None => match forward(&up, &req).await {
                Ok(raw) => raw,
                Err(_) => status_response(502, ""),
            },
        };
        if fault == Some(Fault::DropAfter) {
            record(None);
            return;
        }
        record(status_of(&answer));
        if conn.write_all(&answer).await.is_err() {
            return;
        }
        // Upstream answered with `Connection: close` framing in mind; keep the client side simple too.
        if answer
            .windows(17)
            .any(|w| w.eq_ignore_ascii_case(b"connection: close"))
        {
            return;
        }
    }
}
