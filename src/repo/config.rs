//! `repositories.yaml` (Helm's `repo.File`): the configured repositories, read and written in
//! Helm's own shape so `helm repo list` shows what we add and the other way round.
//!
//! Writers take Helm's lock first: an exclusive `flock` on the file beside it whose extension is
//! replaced by `.lock` (`repositories.lock`), as `helm repo add` does, so a helm and a
//! kubectl-chart adding repositories at once do not lose each other's entry.

use std::{
    fs,
    io::Write as _,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use serde_json::{json, Value as Json};

use super::Error;
use crate::chart::metadata::{field_bool, field_string, for_each_field};

/// One configured repository (Helm's `repo.Entry`; field names are its YAML keys).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub url: String,
    pub username: String,
    pub password: String,
    pub cert_file: String,
    pub key_file: String,
    pub ca_file: String,
    pub insecure_skip_tls_verify: bool,
    /// Send the credentials to every host (a chart URL on a CDN), not only the repository's.
    pub pass_credentials_all: bool,
}

/// The whole file. `api_version` and `generated` are kept as read, as Helm round-trips them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoFile {
    pub api_version: String,
    /// RFC 3339 text; Helm writes Go's zero time for a file it created with `repo add`.
    pub generated: String,
    pub repositories: Vec<Entry>,
}

impl Default for RepoFile {
    fn default() -> RepoFile {
        RepoFile {
            api_version: String::new(),
            generated: "0001-01-01T00:00:00Z".into(),
            repositories: Vec::new(),
        }
    }
}

/// `repositories.lock` beside `repositories.yaml` (the extension replaced, or `.lock` appended
/// when there is none), the path `helm repo add` locks.
pub fn lock_path(repo_file: &Path) -> PathBuf {
    // Go's filepath.Ext: from the last dot of the last element, so `/c/.yaml` has the
    // extension `.yaml` and locks `/c/.lock`, as helm does.
    let s = repo_file.to_string_lossy();
    let last = s.rfind('/').map_or(0, |i| i + 1);
    match s[last..].rfind('.') {
        Some(dot) if s.len() > s[last + dot..].len() => PathBuf::from(format!("{}.lock", &s[..last + dot])),
        _ => PathBuf::from(format!("{s}.lock")),
    }
}

impl RepoFile {
    /// Reads the file; a missing file is an empty one (Helm's `repo add` does the same).
    pub fn load(path: &Path) -> Result<RepoFile, Error> {
        match fs::read_to_string(path) {
            Ok(text) => RepoFile::parse(&text, &path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(RepoFile::default()),
            Err(e) => Err(Error::io(path, e)),
        }
    }

    /// Decodes the YAML as `sigs.k8s.io/yaml` does into `repo.File` (keys matched
    /// case-insensitively, unknown keys ignored).
    pub fn parse(text: &str, source: &str) -> Result<RepoFile, Error> {
        let docs =
            crate::yaml::parse_documents(text, source).map_err(|e| Error::invalid(source, e.to_string()))?;
        let mut f = RepoFile::default();
        let Some(doc) = docs.into_iter().next() else {
            return Ok(f);
        };
        let bad = |e: String| Error::invalid(source, e);
        for_each_field(&doc, |k, v| {
            match k {
                "apiversion" => f.api_version = field_string(v, "File.apiVersion")?,
                "generated" => f.generated = field_string(v, "File.generated")?,
                "repositories" => {
                    let Json::Array(items) = v else {
                        return Ok(());
                    };
                    for item in items {
                        f.repositories.push(entry_from_json(item)?);
                    }
                }
                _ => {}
            }
            Ok(())
        })
        .map_err(bad)?;
        Ok(f)
    }

    /// The entry named `name`.
    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.repositories.iter().find(|e| e.name == name)
    }

    /// Replaces the entry of the same name in place, or appends it (Helm's `File.Update`).
    pub fn update(&mut self, entry: Entry) {
        match self.repositories.iter_mut().find(|e| e.name == entry.name) {
            Some(slot) => *slot = entry,
            None => self.repositories.push(entry),
        }
    }

    /// Removes the entry named `name`; false if there was none.
    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.repositories.len();
        self.repositories.retain(|e| e.name != name);
        self.repositories.len() != before
    }

    /// The YAML Helm writes (`sigs.k8s.io/yaml.Marshal`: keys sorted, every field present).
    pub fn to_yaml(&self) -> String {
        let repos: Vec<Json> = self
            .repositories
            .iter()
            .map(|e| {
                json!({
                    "caFile": e.ca_file,
                    "certFile": e.cert_file,
                    "insecure_skip_tls_verify": e.insecure_skip_tls_verify,
                    "keyFile": e.key_file,
                    "name": e.name,
                    "pass_credentials_all": e.pass_credentials_all,
                    "password": e.password,
                    "url": e.url,
                    "username": e.username,
                })
            })
            .collect();
        let doc = json!({
            "apiVersion": self.api_version,
            "generated": self.generated,
            "repositories": repos,
        });
        let mut text = crate::yaml::json_to_yaml(&crate::output::sort_keys(&doc));
        text.push('\n');
        text
    }

    /// Writes the file with mode 0600 (it may hold passwords), through a temporary file in the
    /// same directory so a crash never leaves half a file.
    pub fn write(&self, path: &Path) -> Result<(), Error> {
        write_atomic(path, self.to_yaml().as_bytes(), 0o600)
    }
}

fn entry_from_json(v: &Json) -> Result<Entry, String> {
    let mut e = Entry::default();
    for_each_field(v, |k, v| {
        match k {
            "name" => e.name = field_string(v, "Entry.name")?,
            "url" => e.url = field_string(v, "Entry.url")?,
            "username" => e.username = field_string(v, "Entry.username")?,
            "password" => e.password = field_string(v, "Entry.password")?,
            "certfile" => e.cert_file = field_string(v, "Entry.certFile")?,
            "keyfile" => e.key_file = field_string(v, "Entry.keyFile")?,
            "cafile" => e.ca_file = field_string(v, "Entry.caFile")?,
            "insecure_skip_tls_verify" => {
                e.insecure_skip_tls_verify = field_bool(v, "Entry.insecure_skip_tls_verify")?
            }
            "pass_credentials_all" => e.pass_credentials_all = field_bool(v, "Entry.pass_credentials_all")?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(e)
}

/// Writes `data` to `path` through a temporary sibling and a rename, creating the directory.
pub fn write_atomic(path: &Path, data: &[u8], mode: u32) -> Result<(), Error> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            f.set_permissions(fs::Permissions::from_mode(mode))?;
        }
        #[cfg(not(unix))]
        let _ = mode;
        f.write_all(data)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    Ok(())
}

/// Holds Helm's lock on `repositories.yaml` until dropped.
#[derive(Debug)]
pub struct RepoLock {
    file: fs::File,
}

impl Drop for RepoLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

impl RepoFile {
    /// Takes the exclusive lock on `path`'s lock file, waiting up to 30 s as Helm does.
    pub fn lock(path: &Path) -> Result<RepoLock, Error> {
        let lock = lock_path(path);
        if let Some(dir) = lock.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock)
            .map_err(|e| Error::io(&lock, e))?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(RepoLock { file }),
                Err(fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100))
                }
                Err(fs::TryLockError::WouldBlock) => {
                    return Err(Error::invalid(
                        lock.display(),
                        "timed out after 30s waiting for the lock held by another helm or kubectl chart",
                    ))
                }
                Err(fs::TryLockError::Error(e)) => return Err(Error::io(&lock, e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `helm repo add r1 http://127.0.0.1:18777/` writes into an empty config home.
    const HELM_WRITTEN: &str = r#"apiVersion: ""
generated: "0001-01-01T00:00:00Z"
repositories:
- caFile: ""
  certFile: ""
  insecure_skip_tls_verify: false
  keyFile: ""
  name: r1
  pass_credentials_all: false
  password: ""
  url: http://127.0.0.1:18777/
  username: ""
"#;

    #[test]
    fn round_trips_helms_file_byte_for_byte() {
        let f = RepoFile::parse(HELM_WRITTEN, "repositories.yaml").unwrap();
        assert_eq!(f.repositories.len(), 1);
        assert_eq!(f.repositories[0].url, "http://127.0.0.1:18777/");
        assert_eq!(f.to_yaml(), HELM_WRITTEN);
    }

    #[test]
    fn reads_helm_variants() {
        // (case, text, names, first entry's pass_credentials_all)
        let cases: &[(&str, &str, &[&str], bool)] = &[
            ("empty file", "", &[], false),
            ("no repositories", "apiVersion: v1\n", &[], false),
            (
                "older helm, camel-cased key and extra fields",
                "apiVersion: v1\nrepositories:\n- name: a\n  url: https://a\n  cache: /x\n  Pass_Credentials_All: true\n- name: b\n  url: https://b\n",
                &["a", "b"],
                true,
            ),
        ];
        for (name, text, names, pass) in cases {
            let f = RepoFile::parse(text, "r.yaml").unwrap_or_else(|e| panic!("{name}: {e}"));
            let got: Vec<&str> = f.repositories.iter().map(|e| e.name.as_str()).collect();
            assert_eq!(&got, names, "{name}");
            if let Some(e) = f.repositories.first() {
                assert_eq!(e.pass_credentials_all, *pass, "{name}");
            }
        }
        let err = RepoFile::parse("repositories:\n- name: [1]\n", "r.yaml").unwrap_err();
        assert!(err.to_string().starts_with("r.yaml: "), "{err}");
    }

    #[test]
    fn update_replaces_in_place_and_remove_reports() {
        let mut f = RepoFile::default();
        for (n, u) in [("a", "1"), ("b", "2"), ("a", "3")] {
            f.update(Entry {
                name: n.into(),
                url: u.into(),
                ..Entry::default()
            });
        }
        let got: Vec<(&str, &str)> = f.repositories.iter().map(|e| (&*e.name, &*e.url)).collect();
        assert_eq!(got, [("a", "3"), ("b", "2")]);
        assert!(f.remove("a"));
        assert!(!f.remove("a"));
    }

    #[test]
    fn lock_path_as_helm() {
        for (file, lock) in [
            ("/c/repositories.yaml", "/c/repositories.lock"),
            ("/c/repos", "/c/repos.lock"),
            ("/c/.yaml", "/c/.lock"),
        ] {
            assert_eq!(lock_path(Path::new(file)), Path::new(lock), "{file}");
        }
    }

    #[test]
    fn lock_excludes_a_second_holder_until_dropped() {
        let dir = std::env::temp_dir().join(format!("repo-lock-{}", std::process::id()));
        let path = dir.join("repositories.yaml");
        let held = RepoFile::lock(&path).unwrap();
        let other = fs::OpenOptions::new().write(true).open(lock_path(&path)).unwrap();
        assert!(matches!(other.try_lock(), Err(fs::TryLockError::WouldBlock)));
        drop(held);
        assert!(other.try_lock().is_ok());
        let _ = fs::remove_dir_all(&dir);
    }
}
