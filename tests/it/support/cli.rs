//! Running the built `kubectl-chart` against the kit as a user would: every call gets the test's
//! namespace and the kit's kubeconfig (and never the caller's `KUBECONFIG`), and a short release
//! lock TTL so a test that kills a run does not wait out the default.

use std::{
    path::Path,
    process::{Command, Output},
};

/// The binary, run from the crate root (fixtures are addressed relative to it).
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kubectl-chart"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

/// `kubectl-chart ARGS -n NS --kubeconfig KUBECONFIG` with the lock TTL set to `lock_ttl` seconds.
pub fn command(kubeconfig: &Path, ns: &str, lock_ttl: &str, args: &[&str]) -> Command {
    let mut c = bin();
    c.args(args)
        .arg("-n")
        .arg(ns)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .env_remove("KUBECONFIG")
        .env("KUBECTL_CHART_LOCK_TTL", lock_ttl);
    c
}

/// Runs `c` to completion.
pub fn run(mut c: Command) -> Output {
    c.output().expect("run kubectl-chart")
}

/// The standard output of a run that must have succeeded; otherwise fails the test with both
/// streams.
pub fn succeeded(args: &[&str], out: &Output) -> String {
    assert!(
        out.status.success(),
        "{args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One row of `history -o json` (ours or helm's: the same fields): revision, status, description.
pub type HistoryRow = (u64, String, String);

/// The rows of a `history -o json`, oldest first, as printed.
pub fn history_rows(json: &str) -> Vec<HistoryRow> {
    let v: serde_json::Value = serde_json::from_str(json).expect("history json");
    v.as_array()
        .expect("history is an array")
        .iter()
        .map(|r| {
            (
                r["revision"].as_u64().expect("revision"),
                r["status"].as_str().expect("status").to_string(),
                r["description"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}
