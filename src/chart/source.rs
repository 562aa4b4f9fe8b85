//! Where a chart comes from, decided before anything is loaded: a chart argument as users type
//! it (Helm's `LocateChart` order) becomes a [`ChartRef`]. Fetching it is the action layer's job
//! (`action::locate_chart`); this part is pure.

use std::path::{Path, PathBuf};

/// A chart argument, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChartRef {
    /// A chart directory on disk.
    Dir(PathBuf),
    /// A packaged chart on disk.
    Archive(PathBuf),
    /// `oci://host[:port]/path/name[:tag][@digest]`.
    Oci(String),
    /// `http(s)://…/name-1.2.3.tgz`.
    Url(String),
    /// `repo/name` from a repository added with `repo add` (chart repositories: not handled
    /// here yet; the repository side resolves these to a [`ChartRef::Url`] or [`ChartRef::Oci`]).
    Repo { repo: String, name: String },
}

impl ChartRef {
    /// Classifies `arg` as Helm does: `oci://` first, then an existing path, then a URL, then
    /// `repo/name`. A path that does not exist and is not `repo/name`-shaped is an error that
    /// names it.
    pub fn parse(arg: &str) -> Result<ChartRef, String> {
        if arg.starts_with("oci://") {
            return Ok(ChartRef::Oci(arg.to_string()));
        }
        let path = Path::new(arg);
        if let Ok(meta) = std::fs::metadata(path) {
            return Ok(if meta.is_dir() {
                ChartRef::Dir(path.to_path_buf())
            } else {
                ChartRef::Archive(path.to_path_buf())
            });
        }
        if arg.starts_with("https://") || arg.starts_with("http://") {
            return Ok(ChartRef::Url(arg.to_string()));
        }
        if path.is_absolute() || arg.starts_with('.') || arg.ends_with(".tgz") || arg.ends_with(".tar.gz") {
            return Err(format!("path {arg:?} not found"));
        }
        match arg.split_once('/') {
            Some((repo, name)) if !repo.is_empty() && !name.is_empty() && !name.contains('/') => Ok(ChartRef::Repo {
                repo: repo.into(),
                name: name.into(),
            }),
            _ => Err(format!(
                "path {arg:?} not found (and not a chart reference: expected a directory, a .tgz, oci://…, an https:// URL or repo/name)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_table() {
        let dir = std::env::temp_dir().join(format!("kc-src-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let tgz = dir.join("c-1.0.0.tgz");
        std::fs::write(&tgz, b"x").unwrap();
        let d = dir.to_str().unwrap().to_string();
        let t = tgz.to_str().unwrap().to_string();
        let cases: Vec<(&str, &str, Result<ChartRef, ()>)> = vec![
            ("oci", "oci://h/c:1", Ok(ChartRef::Oci("oci://h/c:1".into()))),
            ("dir", &d, Ok(ChartRef::Dir(dir.clone()))),
            ("archive", &t, Ok(ChartRef::Archive(tgz.clone()))),
            (
                "url",
                "https://h/c-1.0.0.tgz",
                Ok(ChartRef::Url("https://h/c-1.0.0.tgz".into())),
            ),
            (
                "repo/name",
                "bitnami/nginx",
                Ok(ChartRef::Repo {
                    repo: "bitnami".into(),
                    name: "nginx".into(),
                }),
            ),
            ("missing relative dir", "./nope", Err(())),
            ("missing archive", "nope-1.0.0.tgz", Err(())),
            ("bare name", "nginx", Err(())),
            ("too deep", "a/b/c", Err(())),
        ];
        for (name, arg, want) in cases {
            assert_eq!(ChartRef::parse(arg).map_err(|_| ()), want, "{name}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
