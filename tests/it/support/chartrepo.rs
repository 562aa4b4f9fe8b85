//! A chart repository as the tests need one: a folder served over HTTP on loopback by a tiny
//! static file server (std threads, HTTP/1.0-style one request per connection). It counts the
//! requests per path, answers 404 for missing files, can cut a file's body short (the
//! `Content-Length` promises all of it, the connection closes halfway), and can require basic
//! credentials, so every failure a real server produces can be made on purpose.

use std::{
    collections::HashMap,
    io::{BufRead as _, BufReader, Read as _, Write as _},
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
};

/// What the server knows and records, shared with its thread.
#[derive(Default)]
struct State {
    hits: HashMap<String, usize>,
    truncate: Vec<String>,
    auth: Option<String>,
    seen_auth: Vec<(String, Option<String>)>,
}

/// A running server; stopped when dropped.
pub struct ChartRepo {
    /// The served directory.
    pub dir: PathBuf,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    port: u16,
}

impl ChartRepo {
    /// Serves `dir` on a free loopback port.
    pub fn serve(dir: &Path) -> ChartRepo {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (root, st, halt) = (dir.to_path_buf(), state.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if halt.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (root, st) = (root.clone(), st.clone());
                std::thread::spawn(move || {
                    let _ = handle(conn, &root, &st);
                });
            }
        });
        ChartRepo {
            dir: dir.to_path_buf(),
            url: format!("http://127.0.0.1:{port}"),
            state,
            stop,
            port,
        }
    }

    /// Requests made so far for `path` (e.g. `/index.yaml`).
    pub fn hits(&self, path: &str) -> usize {
        self.state.lock().unwrap().hits.get(path).copied().unwrap_or(0)
    }

    /// Every request so far, summed.
    pub fn total_hits(&self) -> usize {
        self.state.lock().unwrap().hits.values().sum()
    }

    /// From now on `path` is answered with half its body and a closed connection.
    pub fn truncate(&self, path: &str) {
        self.state.lock().unwrap().truncate.push(path.to_string());
    }

    /// From now on every request needs `Authorization: Basic base64(user:password)`.
    pub fn require_basic(&self, header_value: &str) {
        self.state.lock().unwrap().auth = Some(header_value.to_string());
    }

    /// The `Authorization` header each request carried, by path.
    pub fn seen_auth(&self) -> Vec<(String, Option<String>)> {
        self.state.lock().unwrap().seen_auth.clone()
    }
}

impl Drop for ChartRepo {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn handle(mut conn: TcpStream, root: &Path, state: &Mutex<State>) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut auth = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("authorization") {
                auth = Some(v.trim().to_string());
            }
        }
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let path = path.split('?').next().unwrap_or("/").to_string();
    let (truncate, required) = {
        let mut st = state.lock().unwrap();
        *st.hits.entry(path.clone()).or_default() += 1;
        st.seen_auth.push((path.clone(), auth.clone()));
        (st.truncate.contains(&path), st.auth.clone())
    };
    if required.is_some() && required != auth {
        return conn
            .write_all(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    }
    let file = root.join(path.trim_start_matches('/'));
    let body = match (file.is_file(), path.contains("..")) {
        (true, false) => {
            let mut b = Vec::new();
            std::fs::File::open(&file)?.read_to_end(&mut b)?;
            b
        }
        _ => {
            return conn.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found",
            )
        }
    };
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes())?;
    let send = if truncate {
        &body[..body.len() / 2]
    } else {
        &body[..]
    };
    conn.write_all(send)?;
    conn.flush()?;
    // Closing the socket now leaves a truncated body as a short read for the client.
    conn.shutdown(std::net::Shutdown::Both)
}
