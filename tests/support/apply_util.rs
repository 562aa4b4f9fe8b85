//! A control plane with the kit's fake kubelet (`start DIR --kubelet`), for tests that need pods to
//! run: Deployments becoming available, hook Jobs completing. `support::k8s::kit()` starts the kit
//! without a node, so this starts its own, once per test binary, the same way (temp dir,
//! `--owner-pid` so the kit's watchdog stops it when the binary exits).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

use crate::support::k8s::Kit;

static KIT: OnceLock<Result<Kit, String>> = OnceLock::new();

/// The shared control plane with a node, or `None` (after printing why) when the kit is absent
/// and `KC_REQUIRE_K8S=1` is not set.
pub fn kit_with_kubelet() -> Option<&'static Kit> {
    let location = match std::env::var_os("KC_TEST_K8S") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/k8s"),
    };
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
        Err(msg) => panic!("{msg}"),
    }
}

fn start(kit_dir: &Path) -> Result<Kit, String> {
    let dir = std::env::temp_dir().join(format!(
        "kc-test-k8s-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    let out = Command::new(kit_dir.join("start"))
        .arg(&dir)
        .arg("--kubelet")
        // Every request's metadata in DIR/audit.log: tests assert the order the server got writes in.
        .arg("--audit")
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

/// Returns early from a test when no kit is available (after the skip message).
#[macro_export]
macro_rules! require_kubelet_kit {
    () => {
        match $crate::apply_util::kit_with_kubelet() {
            Some(kit) => kit,
            None => return,
        }
    };
}
