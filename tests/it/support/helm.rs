//! Helm as the oracle in tests: finding the reference binary, a test's own Helm homes shared by
//! helm and by us (so what one writes, a login or a repository, the other sees), and checking
//! how a run of either ended.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

/// The crate root: fixtures, and the shared tool script one level up, are found from it.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// helm `major` (3 is what we match): `$KC_HELM<major>` when set, else what the shared tool
/// script downloads, else `None` after saying why; `KC_REQUIRE_HELM=1` turns that into a failure
/// so that CI cannot pass by skipping the comparison.
pub fn find(major: u8) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(format!("KC_HELM{major}")) {
        return Some(PathBuf::from(p));
    }
    let script = root().join("../shared/tools/get-helm");
    let why = match Command::new(&script)
        .args([&major.to_string(), "target/reference"])
        .current_dir(root())
        .output()
    {
        Ok(o) if o.status.success() => {
            let p = root().join(
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .last()
                    .unwrap_or("")
                    .trim(),
            );
            if p.is_file() {
                return Some(p);
            }
            format!("no helm binary at {}", p.display())
        }
        Ok(o) => format!("get-helm failed: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => format!("running {}: {e}", script.display()),
    };
    if std::env::var("KC_REQUIRE_HELM").as_deref() == Ok("1") {
        panic!("{why}, and KC_REQUIRE_HELM=1 forbids skipping");
    }
    eprintln!("skipped the helm comparison: {why}");
    None
}

/// A test's own Helm homes (config, cache, data, docker config) under a fresh temporary
/// directory, removed on drop. Every variable that could point helm or us at the caller's own
/// homes is cleared, so neither reads the developer's logins or repositories.
pub struct Homes {
    pub dir: PathBuf,
}

impl Homes {
    /// `kind` and `name` make the directory unique per test binary area and per test.
    pub fn new(kind: &str, name: &str) -> Homes {
        let dir = std::env::temp_dir().join(format!("kc-{kind}-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("work")).expect("mkdir");
        Homes { dir }
    }

    /// The working directory every command runs in.
    pub fn work(&self) -> PathBuf {
        self.dir.join("work")
    }

    pub fn cache(&self) -> PathBuf {
        self.dir.join("cache")
    }

    pub fn command(&self, program: &Path, args: &[&str]) -> Command {
        let mut c = Command::new(program);
        c.args(args)
            .current_dir(self.work())
            .env("HOME", &self.dir)
            .env("HELM_CONFIG_HOME", self.dir.join("config"))
            .env("HELM_CACHE_HOME", self.cache())
            .env("HELM_DATA_HOME", self.dir.join("data"))
            .env("DOCKER_CONFIG", self.dir.join("docker"))
            .env_remove("HELM_REGISTRY_CONFIG")
            .env_remove("HELM_REPOSITORY_CONFIG")
            .env_remove("HELM_REPOSITORY_CACHE")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("XDG_CACHE_HOME");
        c
    }

    /// Runs the built `kubectl-chart` with `args` in these homes.
    pub fn kc(&self, args: &[&str]) -> Output {
        self.command(Path::new(env!("CARGO_BIN_EXE_kubectl-chart")), args)
            .output()
            .expect("run kubectl-chart")
    }

    /// Runs `helm` with `args` in these homes.
    pub fn helm(&self, helm: &Path, args: &[&str]) -> Output {
        self.command(helm, args).output().expect("run helm")
    }
}

impl Drop for Homes {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Every file under `dir`, sorted (empty when `dir` does not exist): what a failed command must
/// not have left behind.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The standard output of a run that must have succeeded; otherwise fails with both streams.
pub fn ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The standard error of a run that must have failed; otherwise fails with both streams.
pub fn failed(out: &Output, what: &str) -> String {
    assert!(
        !out.status.success(),
        "{what} should have failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}
