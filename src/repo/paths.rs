//! Where Helm keeps its files (`pkg/helmpath`): the config, cache and data homes and the
//! repository files inside them, with the same environment variables and XDG fallbacks, so a
//! setup made with `helm` is the one we read and the other way round.

use std::path::{Path, PathBuf};

/// Helm's directories, resolved once from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelmPaths {
    /// `HELM_CONFIG_HOME`.
    pub config_home: PathBuf,
    /// `HELM_CACHE_HOME`.
    pub cache_home: PathBuf,
    /// `HELM_DATA_HOME`.
    pub data_home: PathBuf,
    /// `HELM_REPOSITORY_CONFIG`: `repositories.yaml`.
    pub repository_config: PathBuf,
    /// `HELM_REPOSITORY_CACHE`: the directory of `<name>-index.yaml` files.
    pub repository_cache: PathBuf,
}

impl HelmPaths {
    /// From the process environment.
    pub fn from_env() -> HelmPaths {
        HelmPaths::resolve(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }

    /// From a lookup function (tests pass a table instead of the environment). Unset and empty
    /// variables are the same, as Go's `os.Getenv` makes them.
    pub fn resolve(env: impl Fn(&str) -> Option<String>) -> HelmPaths {
        let home = env("HOME").map(PathBuf::from).unwrap_or_default();
        // helmpath/lazypath: HELM_*_HOME wins, then $XDG_*_HOME/helm, then the platform default.
        let base = |helm: &str, xdg: &str, default: &[&str]| -> PathBuf {
            if let Some(p) = env(helm) {
                return PathBuf::from(p);
            }
            let root = env(xdg)
                .map(PathBuf::from)
                .unwrap_or_else(|| default.iter().fold(home.clone(), |p, part| p.join(part)));
            root.join("helm")
        };
        let (config_default, cache_default, data_default): (&[&str], &[&str], &[&str]) =
            if cfg!(target_os = "macos") {
                (&["Library", "Preferences"], &["Library", "Caches"], &["Library"])
            } else {
                (&[".config"], &[".cache"], &[".local", "share"])
            };
        let config_home = base("HELM_CONFIG_HOME", "XDG_CONFIG_HOME", config_default);
        let cache_home = base("HELM_CACHE_HOME", "XDG_CACHE_HOME", cache_default);
        let data_home = base("HELM_DATA_HOME", "XDG_DATA_HOME", data_default);
        let repository_config = env("HELM_REPOSITORY_CONFIG")
            .map(PathBuf::from)
            .unwrap_or_else(|| config_home.join("repositories.yaml"));
        let repository_cache = env("HELM_REPOSITORY_CACHE")
            .map(PathBuf::from)
            .unwrap_or_else(|| cache_home.join("repository"));
        HelmPaths {
            config_home,
            cache_home,
            data_home,
            repository_config,
            repository_cache,
        }
    }

    /// `<cache>/<name>-index.yaml` (helmpath `CacheIndexFile`).
    pub fn index_file(&self, repo: &str) -> PathBuf {
        cache_file(&self.repository_cache, repo, "-index.yaml")
    }

    /// `<cache>/<name>-charts.txt` (helmpath `CacheChartsFile`): chart names, one a line.
    pub fn charts_file(&self, repo: &str) -> PathBuf {
        cache_file(&self.repository_cache, repo, "-charts.txt")
    }
}

fn cache_file(dir: &Path, repo: &str, suffix: &str) -> PathBuf {
    dir.join(format!("{repo}{suffix}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_precedence_matches_helmpath() {
        // (name, environment, config home, repository config, repository cache)
        let cases: &[(&str, &[(&str, &str)], &str, &str, &str)] = &[
            (
                "defaults under HOME",
                &[("HOME", "/h")],
                "/h/.config/helm",
                "/h/.config/helm/repositories.yaml",
                "/h/.cache/helm/repository",
            ),
            (
                "XDG homes",
                &[
                    ("HOME", "/h"),
                    ("XDG_CONFIG_HOME", "/x/c"),
                    ("XDG_CACHE_HOME", "/x/k"),
                ],
                "/x/c/helm",
                "/x/c/helm/repositories.yaml",
                "/x/k/helm/repository",
            ),
            (
                "HELM homes beat XDG",
                &[
                    ("XDG_CONFIG_HOME", "/x/c"),
                    ("HELM_CONFIG_HOME", "/c"),
                    ("HELM_CACHE_HOME", "/k"),
                ],
                "/c",
                "/c/repositories.yaml",
                "/k/repository",
            ),
            (
                "explicit files beat homes",
                &[
                    ("HELM_CONFIG_HOME", "/c"),
                    ("HELM_REPOSITORY_CONFIG", "/r.yaml"),
                    ("HELM_REPOSITORY_CACHE", "/rc"),
                ],
                "/c",
                "/r.yaml",
                "/rc",
            ),
            (
                "empty variables count as unset",
                &[("HOME", "/h"), ("HELM_CONFIG_HOME", "")],
                "/h/.config/helm",
                "/h/.config/helm/repositories.yaml",
                "/h/.cache/helm/repository",
            ),
        ];
        if cfg!(target_os = "macos") {
            return;
        }
        for (name, env, config, repo_config, repo_cache) in cases {
            let p = HelmPaths::resolve(|k| {
                env.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
                    .filter(|v| !v.is_empty())
            });
            assert_eq!(p.config_home, Path::new(config), "{name}");
            assert_eq!(p.repository_config, Path::new(repo_config), "{name}");
            assert_eq!(p.repository_cache, Path::new(repo_cache), "{name}");
        }
        let p = HelmPaths::resolve(|k| (k == "HELM_REPOSITORY_CACHE").then(|| "/rc".to_string()));
        assert_eq!(p.index_file("stable"), Path::new("/rc/stable-index.yaml"));
        assert_eq!(p.charts_file("stable"), Path::new("/rc/stable-charts.txt"));
    }
}
