//! Registry logins in docker's `config.json` format: Helm's registry config
//! (`HELM_REGISTRY_CONFIG`) first, then docker's own (`~/.docker/config.json`), each with
//! `auths` entries, a `credsStore` for all hosts or `credHelpers` per host (run as
//! `docker-credential-<name> get`, the host on stdin, `{"Username","Secret"}` on stdout).
//!
//! `registry login` writes only Helm's file, keeping any other keys in it, so a login made with
//! helm works here and the other way round.

use std::{
    io::Write as _,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::net::{Auth, Credentials};

/// Credentials read from the config files, in lookup order.
#[derive(Debug, Clone, Default)]
pub struct Store {
    files: Vec<(PathBuf, Value)>,
}

/// A login that is present in a file (unreadable entries are reported, not skipped).
fn entry_auth(entry: &Value) -> Result<Option<Auth>, String> {
    if let Some(token) = entry
        .get("identitytoken")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    {
        return Ok(Some(Auth::Bearer(token.to_string())));
    }
    let Some(encoded) = entry
        .get("auth")
        .and_then(Value::as_str)
        .filter(|a| !a.is_empty())
    else {
        // Helm also accepts split fields.
        return Ok(
            match (
                entry.get("username").and_then(Value::as_str),
                entry.get("password").and_then(Value::as_str),
            ) {
                (Some(u), Some(p)) => Some(Auth::Basic {
                    username: u.into(),
                    password: p.into(),
                }),
                _ => None,
            },
        );
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|e| format!("auth is not base64: {e}"))?;
    let text = String::from_utf8(decoded).map_err(|_| "auth is not UTF-8".to_string())?;
    let (u, p) = text.split_once(':').ok_or("auth is not user:password")?;
    Ok(Some(Auth::Basic {
        username: u.into(),
        password: p.into(),
    }))
}

/// The host a config key names: `https://host/v1/` and `host` both mean `host`.
fn key_host(key: &str) -> String {
    let k = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    k.split('/').next().unwrap_or(k).to_ascii_lowercase()
}

impl Store {
    /// Reads the files that exist among `paths` (Helm's registry config, then docker's).
    pub fn load(paths: &[PathBuf]) -> Result<Store, String> {
        let mut files = Vec::new();
        for p in paths {
            match std::fs::read(p) {
                Ok(data) => {
                    let v: Value = serde_json::from_slice(&data)
                        .map_err(|e| format!("{}: not a valid config.json: {e}", p.display()))?;
                    files.push((p.clone(), v));
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(format!("{}: {e}", p.display())),
            }
        }
        Ok(Store { files })
    }

    /// The credentials for `host`, or an error naming the file whose entry is broken.
    pub fn find(&self, host: &str) -> Result<Option<Auth>, String> {
        let host = host.to_ascii_lowercase();
        for (path, v) in &self.files {
            let helper = v
                .get("credHelpers")
                .and_then(Value::as_object)
                .and_then(|m| m.iter().find(|(k, _)| key_host(k) == host))
                .and_then(|(_, h)| h.as_str());
            if let Some(h) = helper {
                return run_helper(h, &host).map_err(|e| format!("{}: credHelpers {h}: {e}", path.display()));
            }
            if let Some(auths) = v.get("auths").and_then(Value::as_object) {
                if let Some((_, entry)) = auths.iter().find(|(k, _)| key_host(k) == host) {
                    if let Some(a) =
                        entry_auth(entry).map_err(|e| format!("{}: auths {host}: {e}", path.display()))?
                    {
                        return Ok(Some(a));
                    }
                }
            }
            if let Some(store) = v
                .get("credsStore")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
            {
                if let Some(a) = run_helper(store, &host)
                    .map_err(|e| format!("{}: credsStore {store}: {e}", path.display()))?
                {
                    return Ok(Some(a));
                }
            }
        }
        Ok(None)
    }
}

impl Credentials for Store {
    fn lookup(&self, host: &str) -> Option<Auth> {
        match self.find(host) {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!("{e}");
                None
            }
        }
    }
}

/// `docker-credential-<name> get`; "credentials not found" is no login, not an error.
fn run_helper(name: &str, host: &str) -> Result<Option<Auth>, String> {
    let program = format!("docker-credential-{name}");
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("running {program}: {e}"))?;
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(host.as_bytes())
        .map_err(|e| format!("writing to {program}: {e}"))?;
    let out = child
        .wait_with_output()
        .map_err(|e| format!("running {program}: {e}"))?;
    if !out.status.success() {
        let text =
            String::from_utf8_lossy(&out.stdout).trim().to_string() + &String::from_utf8_lossy(&out.stderr);
        if text.contains("credentials not found") {
            return Ok(None);
        }
        return Err(format!("{program} get failed: {}", text.trim()));
    }
    #[derive(serde::Deserialize)]
    struct Answer {
        #[serde(rename = "Username", default)]
        username: String,
        #[serde(rename = "Secret", default)]
        secret: String,
    }
    let a: Answer =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("{program} answered no JSON: {e}"))?;
    Ok(Some(if a.username == "<token>" {
        Auth::Bearer(a.secret)
    } else {
        Auth::Basic {
            username: a.username,
            password: a.secret,
        }
    }))
}

/// Writes (or replaces) the login for `host` in the config file at `path`, keeping its other keys.
pub fn save_login(path: &Path, host: &str, username: &str, password: &str) -> Result<(), String> {
    let mut v = read_object(path)?;
    let auths = v
        .entry("auths")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .ok_or_else(|| format!("{}: auths is not an object", path.display()))?;
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    auths.insert(host.to_string(), serde_json::json!({ "auth": encoded }));
    write_object(path, v)
}

/// Removes the login for `host`; an error if there was none.
pub fn remove_login(path: &Path, host: &str) -> Result<(), String> {
    let mut v = read_object(path)?;
    let removed = v
        .get_mut("auths")
        .and_then(Value::as_object_mut)
        .and_then(|a| {
            let key = a
                .keys()
                .find(|k| key_host(k) == host.to_ascii_lowercase())
                .cloned()?;
            a.remove(&key)
        })
        .is_some();
    if !removed {
        // Helm's (oras-go's) words.
        return Err("not logged in".into());
    }
    write_object(path, v)
}

fn read_object(path: &Path) -> Result<Map<String, Value>, String> {
    match std::fs::read(path) {
        Ok(d) => match serde_json::from_slice(&d) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(_) => Err(format!("{}: expected a JSON object", path.display())),
            Err(e) => Err(format!("{}: not a valid config.json: {e}", path.display())),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Map::new()),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// Writes as docker does (tab-indented, mode 0600), through a temporary file and a rename.
fn write_object(path: &Path, v: Map<String, Value>) -> Result<(), String> {
    use serde::Serialize as _;
    let err = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| err(&e))?;
    }
    let mut buf = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(
        &mut buf,
        serde_json::ser::PrettyFormatter::with_indent(b"\t"),
    );
    Value::Object(v).serialize(&mut ser).map_err(|e| err(&e))?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| err(&e))?;
        f.write_all(&buf).map_err(|e| err(&e))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| err(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("kc-cred-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn lookup_order_and_formats() {
        let d = tmp("order");
        let helm = d.join("helm.json");
        let docker = d.join("docker.json");
        std::fs::write(&helm, r#"{"auths":{"a.example:5000":{"auth":"dTE6cDE="}}}"#).unwrap();
        std::fs::write(
            &docker,
            r#"{"auths":{"https://a.example:5000/v1/":{"auth":"eDp5"},"b.example":{"auth":"dTI6cDI="},
                "c.example":{"identitytoken":"tok"},"bad.example":{"auth":"!!"}}}"#,
        )
        .unwrap();
        let store = Store::load(&[helm, docker, d.join("missing.json")]).unwrap();
        let basic = |u: &str, p: &str| {
            Some(Auth::Basic {
                username: u.into(),
                password: p.into(),
            })
        };
        let cases = [
            ("helm's file first", "a.example:5000", Ok(basic("u1", "p1"))),
            ("docker fallback", "B.example", Ok(basic("u2", "p2"))),
            (
                "identity token",
                "c.example",
                Ok(Some(Auth::Bearer("tok".into()))),
            ),
            ("unknown host", "z.example", Ok(None)),
            ("broken entry names the file", "bad.example", Err("docker.json")),
        ];
        for (name, host, want) in cases {
            match (store.find(host), want) {
                (Ok(got), Ok(w)) => assert_eq!(got, w, "{name}"),
                (Err(e), Err(w)) => assert!(e.contains(w), "{name}: {e}"),
                (got, w) => panic!("{name}: got {got:?}, want {w:?}"),
            }
        }
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn login_logout_keep_other_keys() {
        let d = tmp("login");
        let path = d.join("registry").join("config.json");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, r#"{"credsStore":"","auths":{"other:1":{"auth":"eDp5"}}}"#).unwrap();
        save_login(&path, "h:5000", "user", "pa:ss").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\t\"auths\""), "tab-indented like docker: {text}");
        let store = Store::load(std::slice::from_ref(&path)).unwrap();
        assert_eq!(
            store.find("h:5000").unwrap(),
            Some(Auth::Basic {
                username: "user".into(),
                password: "pa:ss".into()
            }),
            "a password may contain ':'"
        );
        remove_login(&path, "h:5000").unwrap();
        let store = Store::load(std::slice::from_ref(&path)).unwrap();
        assert_eq!(store.find("h:5000").unwrap(), None);
        assert!(store.find("other:1").unwrap().is_some(), "other logins kept");
        assert_eq!(
            remove_login(&path, "h:5000").unwrap_err(),
            "not logged in to h:5000"
        );
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let _ = std::fs::remove_dir_all(&d);
    }
}
