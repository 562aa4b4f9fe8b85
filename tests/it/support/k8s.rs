//! The real control plane from the shared kit (with its fake kubelet), started once per test
//! binary, and a namespace per test.
//!
//! The kit is `$KC_TEST_K8S`, else `../shared/k8s` next to the crate. It is started lazily by the
//! first test that needs it, into a fresh temp dir, with `--owner-pid` set to this test process so
//! the kit's watchdog stops it when the binary exits, however it exits (statics are never dropped,
//! so this is the only reliable stop). Without a kit, tests print `skipped: no Kubernetes kit at …`
//! and pass — unless `KC_REQUIRE_K8S=1` (CI), which makes that a failure.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use kubectl_chart::cluster::{
    Cluster, ConnectOptions, DeleteOptions, Gvk, KubeCluster, Propagation, WriteOptions,
};
use serde_json::{json, Value};

/// A running control plane.
#[derive(Debug)]
pub struct Kit {
    /// Where the kit keeps its state, certificates and logs.
    pub dir: PathBuf,
    /// The kit's own scripts (`start`, `stop`).
    pub kit_dir: PathBuf,
    /// The admin kubeconfig it printed.
    pub kubeconfig: PathBuf,
    /// `https://127.0.0.1:PORT`.
    pub server: String,
    /// CA, admin client certificate and key files (PEM).
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

static KIT: OnceLock<Result<Kit, String>> = OnceLock::new();

fn kit_location() -> PathBuf {
    match std::env::var_os("KC_TEST_K8S") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/k8s"),
    }
}

/// The shared control plane, or `None` (after printing why) when the kit is absent and not required.
pub fn kit() -> Option<&'static Kit> {
    let location = kit_location();
    let result = KIT.get_or_init(|| {
        if !location.join("start").is_file() {
            return Err(format!("skipped: no Kubernetes kit at {}", location.display()));
        }
        start(&location).map_err(|e| format!("starting the Kubernetes kit at {}: {e}", location.display()))
    });
    match result {
        Ok(kit) => Some(kit),
        Err(msg) if msg.starts_with("skipped:") && std::env::var("KC_REQUIRE_K8S").as_deref() != Ok("1") => {
            eprintln!("{msg}");
            None
        }
        Err(msg) => match msg.strip_prefix("skipped: ") {
            Some(why) => panic!("{why}, and KC_REQUIRE_K8S=1 forbids skipping"),
            None => panic!("{msg}"),
        },
    }
}

/// Removes the state of earlier test runs (`kc-test-k8s-PID-*` ~120 MB each, `kc-cluster-*-PID-*`)
/// whose process is gone: the kit's watchdog stops their clusters but leaves the directories.
fn sweep_stale_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if !(name.starts_with("kc-test-k8s-") || name.starts_with("kc-cluster-")) {
            continue;
        }
        let pid = name.rsplit('-').nth(1).and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid {
            let dead = !Path::new(&format!("/proc/{pid}")).exists();
            // A stopped kit leaves no process naming its directory; never touch a live one.
            let idle = || {
                Command::new("pgrep")
                    .arg("-f")
                    .arg(entry.path())
                    .output()
                    .map(|o| o.stdout.is_empty())
                    .unwrap_or(false)
            };
            if dead && idle() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
}

fn start(kit_dir: &Path) -> Result<Kit, String> {
    sweep_stale_dirs();
    let dir = std::env::temp_dir().join(format!(
        "kc-test-k8s-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    let out = Command::new(kit_dir.join("start"))
        .arg(&dir)
        // The fake kubelet: pods become Ready, Job pods succeed (apply, hook and wait tests need
        // it; the rest do not mind it).
        .arg("--kubelet")
        .arg("--owner-pid")
        .arg(std::process::id().to_string())
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "start exited with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let kubeconfig = PathBuf::from(stdout.lines().last().unwrap_or("").trim());
    let info: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("cluster.json")).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    let s = |k: &str| info.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    Ok(Kit {
        kit_dir: kit_dir.to_path_buf(),
        kubeconfig,
        server: s("server"),
        ca: PathBuf::from(s("ca")),
        cert: PathBuf::from(s("cert")),
        key: PathBuf::from(s("key")),
        dir,
    })
}

impl Kit {
    /// Connection options for the admin kubeconfig and nothing from the environment.
    pub fn options(&self) -> ConnectOptions {
        ConnectOptions {
            kubeconfig: Some(self.kubeconfig.clone()),
            ..ConnectOptions::default()
        }
    }

    /// An admin connection.
    pub async fn admin(&self) -> Arc<dyn Cluster> {
        Arc::new(
            KubeCluster::connect(&self.options())
                .await
                .expect("admin connection"),
        )
    }

    /// Command lines of the processes that still name this kit's directory.
    pub fn processes(&self) -> Vec<String> {
        let out = Command::new("pgrep")
            .arg("-af")
            .arg(self.dir.to_string_lossy().as_ref())
            .output();
        out.map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
    }

    /// Runs the kit's stop script (`--clean` kills at once and removes the directory).
    pub fn stop(&self, clean: bool) -> std::io::Result<std::process::ExitStatus> {
        let mut cmd = Command::new(self.kit_dir.join("stop"));
        cmd.arg(&self.dir);
        if clean {
            cmd.arg("--clean");
        }
        cmd.status()
    }
}

/// A namespace of its own for one test, deleted (in the background) when dropped.
pub struct TestNamespace {
    /// Its name: the test's prefix plus a random suffix.
    pub name: String,
    cluster: Arc<dyn Cluster>,
}

impl TestNamespace {
    /// Creates `PREFIX-xxxxxx`.
    pub async fn new(cluster: Arc<dyn Cluster>, prefix: &str) -> Self {
        let name = format!("{prefix}-{:06x}", rand::random::<u32>() & 0xff_ffff);
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
        cluster
            .create(&ns, &WriteOptions::default())
            .await
            .expect("create test namespace");
        TestNamespace { name, cluster }
    }
}

impl Drop for TestNamespace {
    fn drop(&mut self) {
        // Drop cannot await; namespace deletion is asynchronous on the server anyway (~5 s), so
        // send the request from a short-lived thread and let finalization finish on its own.
        let cluster = self.cluster.clone();
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
            if let Ok(rt) = rt {
                let opts = DeleteOptions {
                    propagation: Some(Propagation::Background),
                    ..DeleteOptions::default()
                };
                let _ = rt.block_on(cluster.delete(&Gvk::new("v1", "Namespace"), None, &name, &opts));
            }
        })
        .join();
    }
}

/// Returns early from a test when no kit is available (after the skip message).
#[macro_export]
macro_rules! require_kit {
    () => {
        match $crate::support::k8s::kit() {
            Some(kit) => kit,
            None => return,
        }
    };
}
