//! The HTTP edge (`src/net`) and the registry's token flow against scripted loopback servers:
//! behaviour a real registry will not show on demand (redirects to another host, 429, 5xx,
//! oversized bodies, bearer-token challenges).

use std::{
    io::{BufRead, BufReader, Write},
    net::TcpListener,
    sync::{Arc, Mutex},
    time::Duration,
};

use kubectl_chart::{net, registry};

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    authorization: Option<String>,
}

/// A loopback HTTP/1.1 server answering each request with `handler(request, index)` and closing
/// the connection. Runs until the test binary exits.
fn serve(
    ip: &str,
    handler: impl Fn(&Seen, usize) -> String + Send + 'static,
) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind(format!("{ip}:0")).expect("bind");
    let addr = listener.local_addr().unwrap().to_string();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
            let mut authorization = None;
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
                    break;
                }
                if let Some((k, v)) = h.split_once(':') {
                    if k.eq_ignore_ascii_case("authorization") {
                        authorization = Some(v.trim().to_string());
                    }
                }
            }
            let req = Seen { path, authorization };
            let index = {
                let mut l = log.lock().unwrap();
                l.push(req.clone());
                l.len() - 1
            };
            let _ = stream.write_all(handler(&req, index).as_bytes());
        }
    });
    (addr, seen)
}

fn response(status: &str, headers: &[(&str, &str)], body: &str) -> String {
    let mut s = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        s.push_str(&format!("{k}: {v}\r\n"));
    }
    s.push_str("\r\n");
    s.push_str(body);
    s
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn client() -> net::Client {
    net::Client::new(net::ClientOptions {
        timeout: Duration::from_secs(10),
        ..Default::default()
    })
    .unwrap()
}

/// A redirect to another host (a registry sending a blob to object storage) keeps the request
/// but not its `Authorization` header.
#[test]
fn redirect_to_another_host_drops_credentials() {
    let (storage, storage_seen) = serve("127.0.0.3", |_, _| response("200 OK", &[], "blob"));
    let target = format!("http://{storage}/signed?x=1");
    let (origin, origin_seen) = serve("127.0.0.1", move |_, _| {
        response("307 Temporary Redirect", &[("Location", &target)], "")
    });
    let resp = block_on(
        client().send(
            net::Request::get(format!("http://{origin}/v2/r/blobs/sha256:00"))
                .auth(Some(net::Auth::Bearer("secret".into()))),
        ),
    )
    .expect("send");
    assert_eq!(resp.status, 200);
    assert_eq!(&resp.body[..], b"blob");
    assert_eq!(
        origin_seen.lock().unwrap()[0].authorization.as_deref(),
        Some("Bearer secret")
    );
    let s = storage_seen.lock().unwrap();
    assert_eq!(s[0].path, "/signed?x=1");
    assert_eq!(
        s[0].authorization, None,
        "credentials must not follow a redirect to another host"
    );
}

/// 429 is retried after its `Retry-After`, 503 with backoff, and a persistent 5xx is handed back
/// after the retries are spent.
#[test]
fn retries_429_and_5xx() {
    let (addr, seen) = serve("127.0.0.1", |req, i| match (req.path.as_str(), i) {
        ("/busy", 0) => response("429 Too Many Requests", &[("Retry-After", "0")], ""),
        ("/busy", _) => response("200 OK", &[], "ok"),
        _ => response("503 Service Unavailable", &[], "down"),
    });
    let c = client();
    let resp = block_on(c.send(net::Request::get(format!("http://{addr}/busy")))).unwrap();
    assert_eq!((resp.status.as_u16(), &resp.body[..]), (200, &b"ok"[..]));
    assert_eq!(seen.lock().unwrap().len(), 2, "one retry after the 429");
    let resp = block_on(c.send(net::Request::get(format!("http://{addr}/down")))).unwrap();
    assert_eq!(resp.status, 503);
    assert_eq!(
        seen.lock().unwrap().len(),
        2 + 4,
        "the first try and three retries"
    );
}

/// A body over the request's limit is an error, not a truncated answer.
#[test]
fn body_limit_is_enforced() {
    let (addr, _) = serve("127.0.0.1", |_, _| response("200 OK", &[], &"x".repeat(2000)));
    let err =
        block_on(client().send(net::Request::get(format!("http://{addr}/big")).limit(1000))).unwrap_err();
    assert!(
        err.to_string().contains("larger than the 1000 bytes allowed"),
        "{err}"
    );
}

/// Distribution's token flow: 401 with a Bearer challenge, a token fetched from the realm with
/// the basic credentials, the request retried with it, and the token reused for the same scope.
#[test]
fn bearer_token_flow() {
    let token_server: Arc<Mutex<String>> = Arc::new(Mutex::new(String::new()));
    let realm = token_server.clone();
    let (addr, seen) = serve("127.0.0.1", move |req, _| {
        if req.path.starts_with("/token") {
            return if req.authorization.as_deref() == Some("Basic dTpw") {
                response("200 OK", &[], r#"{"token":"tok-1"}"#)
            } else {
                response("401 Unauthorized", &[], "")
            };
        }
        if req.authorization.as_deref() == Some("Bearer tok-1") {
            return response("200 OK", &[], r#"{"name":"team/app","tags":["1.0.0","1.1.0"]}"#);
        }
        let challenge = format!(
            r#"Bearer realm="http://{}/token",service="fake",scope="repository:team/app:pull""#,
            realm.lock().unwrap()
        );
        response("401 Unauthorized", &[("WWW-Authenticate", &challenge)], "")
    });
    *token_server.lock().unwrap() = addr.clone();
    let creds = Some(net::Auth::Basic {
        username: "u".into(),
        password: "p".into(),
    });
    let c = registry::Client::new(client(), true, creds);
    let r = registry::Reference::parse(&format!("oci://{addr}/team/app")).unwrap();
    for _ in 0..2 {
        assert_eq!(block_on(c.tags(&r)).unwrap(), ["1.0.0", "1.1.0"]);
    }
    let paths: Vec<String> = seen.lock().unwrap().iter().map(|s| s.path.clone()).collect();
    assert_eq!(
        paths,
        [
            "/v2/team/app/tags/list",
            "/token?service=fake&scope=repository%3Ateam%2Fapp%3Apull",
            "/v2/team/app/tags/list",
            "/v2/team/app/tags/list",
        ],
        "one challenge, one token request, then the cached token"
    );
    // Without credentials the token server refuses: a clear authentication error.
    let anonymous = registry::Client::new(client(), true, None);
    let err = block_on(anonymous.tags(&r)).unwrap_err().to_string();
    assert!(
        err.contains("authentication failed") && err.contains("401"),
        "{err}"
    );
}
