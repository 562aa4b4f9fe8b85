//! Real OCI registries for the package-manager tests: Debian's `docker-registry` (the CNCF
//! distribution registry), started on loopback once per test binary, stopped when the binary
//! exits (a shell watchdog polls the test process and kills the registry after it is gone, since
//! statics are never dropped).
//!
//! - [`plain`]: plain HTTP, no authentication, on 127.0.0.1.
//! - [`secure`]: TLS with a CA made here (openssl CLI) and htpasswd basic auth, on 127.0.0.2,
//!   since Helm treats `localhost` as plain HTTP.
//!
//! Without `docker-registry` installed the tests print `skipped: …` and pass, unless
//! `KC_REQUIRE_REGISTRY=1` (CI), which makes that a failure.

use std::{
    net::{SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::OnceLock,
    time::{Duration, Instant},
};

/// A running registry.
#[derive(Debug)]
pub struct Registry {
    /// `ip:port`.
    pub host: String,
    /// Its storage root (blobs under `docker/registry/v2/blobs/sha256/xx/<hex>/data`).
    pub storage: PathBuf,
    /// The CA that signed its certificate (TLS only).
    pub ca: Option<PathBuf>,
    /// Basic-auth user and password (auth only).
    pub credentials: Option<(String, String)>,
}

impl Registry {
    /// Where the registry keeps a blob's bytes.
    pub fn blob_path(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").expect("sha256 digest");
        self.storage
            .join("docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }
}

static PLAIN: OnceLock<Result<Registry, String>> = OnceLock::new();
static SECURE: OnceLock<Result<Registry, String>> = OnceLock::new();

/// The plain-HTTP registry, or `None` (after saying why) when it cannot run here.
pub fn plain() -> Option<&'static Registry> {
    available(PLAIN.get_or_init(|| start("127.0.0.1", false)))
}

/// The TLS + basic-auth registry, or `None` (after saying why).
pub fn secure() -> Option<&'static Registry> {
    available(SECURE.get_or_init(|| start("127.0.0.2", true)))
}

fn available(r: &'static Result<Registry, String>) -> Option<&'static Registry> {
    match r {
        Ok(r) => Some(r),
        Err(why) if std::env::var("KC_REQUIRE_REGISTRY").as_deref() == Ok("1") => {
            panic!("{why}, and KC_REQUIRE_REGISTRY=1 forbids skipping")
        }
        Err(why) => {
            eprintln!("skipped: {why}");
            None
        }
    }
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("running {cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

fn free_port(ip: &str) -> Result<u16, String> {
    let l = TcpListener::bind(format!("{ip}:0")).map_err(|e| format!("binding {ip}:0: {e}"))?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

/// A CA and a server certificate for `ip`, made with the openssl CLI.
fn make_certs(dir: &Path, ip: &str) -> Result<(), String> {
    let o = |args: &[&str]| run(Command::new("openssl").args(args).current_dir(dir));
    o(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=kubectl-chart test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ])?;
    o(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        &format!("/CN={ip}"),
    ])?;
    std::fs::write(
        dir.join("ext.cnf"),
        format!("subjectAltName=IP:{ip}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"),
    )
    .map_err(|e| e.to_string())?;
    o(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ])
}

fn start(ip: &str, secure: bool) -> Result<Registry, String> {
    let bin = "docker-registry";
    if Command::new("sh")
        .args(["-c", &format!("command -v {bin}")])
        .stdout(Stdio::null())
        .status()
        .map(|s| !s.success())
        .unwrap_or(true)
    {
        return Err(format!(
            "no {bin} on PATH (apt-get install docker-registry apache2-utils)"
        ));
    }
    let dir = std::env::temp_dir().join(format!(
        "kc-registry-{}-{}",
        std::process::id(),
        if secure { "tls" } else { "plain" }
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let storage = dir.join("storage");
    let port = free_port(ip)?;
    let host = format!("{ip}:{port}");
    let mut config = format!(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n",
        storage.display()
    );
    let mut ca = None;
    let mut credentials = None;
    if secure {
        make_certs(&dir, ip)?;
        config.push_str(&format!(
            "  tls:\n    certificate: {}\n    key: {}\n",
            dir.join("server.crt").display(),
            dir.join("server.key").display()
        ));
        let (user, pass) = ("kc-user".to_string(), "s3cret-pass".to_string());
        let out = Command::new("htpasswd")
            .args(["-Bbn", &user, &pass])
            .output()
            .map_err(|e| format!("running htpasswd: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "htpasswd failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        std::fs::write(dir.join("htpasswd"), &out.stdout).map_err(|e| e.to_string())?;
        config.push_str(&format!(
            "auth:\n  htpasswd:\n    realm: kubectl-chart-test\n    path: {}\n",
            dir.join("htpasswd").display()
        ));
        ca = Some(dir.join("ca.crt"));
        credentials = Some((user, pass));
    }
    std::fs::write(dir.join("config.yml"), config).map_err(|e| e.to_string())?;
    // The watchdog: the registry lives while this test process does.
    let script = format!(
        "{bin} serve {cfg} >{log} 2>&1 & r=$!; while kill -0 {owner} 2>/dev/null && kill -0 $r 2>/dev/null; do sleep 1; done; kill $r 2>/dev/null",
        cfg = dir.join("config.yml").display(),
        log = dir.join("registry.log").display(),
        owner = std::process::id()
    );
    Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting {bin}: {e}"))?;
    let addr: SocketAddr = host.parse().expect("ip:port");
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(dir.join("registry.log")).unwrap_or_default();
            return Err(format!("{bin} did not listen on {host} within 20s: {log}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(Registry {
        host,
        storage,
        ca,
        credentials,
    })
}
