//! Where Helm keeps the repository files (`pkg/helmpath`), resolved once: the homes and
//! variables come from [`crate::helmpath`], this adds the per-repository cache file names.

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

    /// From a lookup function (tests pass a table instead of the environment); the rules are
    /// [`crate::helmpath`]'s, shared with the registry side.
    pub fn resolve(env: impl Fn(&str) -> Option<String>) -> HelmPaths {
        let env: crate::helmpath::Env = &env;
        HelmPaths {
            config_home: crate::helmpath::config_home(env),
            cache_home: crate::helmpath::cache_home(env),
            data_home: crate::helmpath::data_home(env),
            repository_config: crate::helmpath::repository_config(env),
            repository_cache: crate::helmpath::repository_cache(env),
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
        type Case = (
            &'static str,
            &'static [(&'static str, &'static str)],
            &'static str,
            &'static str,
            &'static str,
        );
        let cases: &[Case] = &[
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
