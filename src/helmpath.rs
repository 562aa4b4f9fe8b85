//! Helm's directories and files (Go `helmpath` on Linux), so logins and repositories made with
//! helm work with us and the other way round: `HELM_CONFIG_HOME`, `HELM_CACHE_HOME`,
//! `HELM_DATA_HOME`, else the XDG variables, else `~/.config/helm`, `~/.cache/helm`,
//! `~/.local/share/helm`; `HELM_REGISTRY_CONFIG`, `HELM_REPOSITORY_CONFIG` and
//! `HELM_REPOSITORY_CACHE` override single files.
//!
//! Everything takes the environment as a lookup function, so tests never touch the process's.

use std::path::PathBuf;

/// The environment, as a lookup (`std::env::var` in production).
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment (empty values count as unset, as Go's helmpath treats them).
pub fn process_env(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

fn home(env: Env) -> PathBuf {
    env("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/"))
}

fn base(env: Env, helm_var: &str, xdg_var: &str, fallback: &[&str]) -> PathBuf {
    if let Some(p) = env(helm_var) {
        return PathBuf::from(p);
    }
    if let Some(p) = env(xdg_var) {
        return PathBuf::from(p).join("helm");
    }
    let mut p = home(env);
    for part in fallback {
        p.push(part);
    }
    p.join("helm")
}

/// `$HELM_CONFIG_HOME`.
pub fn config_home(env: Env) -> PathBuf {
    base(env, "HELM_CONFIG_HOME", "XDG_CONFIG_HOME", &[".config"])
}

/// `$HELM_CACHE_HOME`.
pub fn cache_home(env: Env) -> PathBuf {
    base(env, "HELM_CACHE_HOME", "XDG_CACHE_HOME", &[".cache"])
}

/// `$HELM_DATA_HOME`.
pub fn data_home(env: Env) -> PathBuf {
    base(env, "HELM_DATA_HOME", "XDG_DATA_HOME", &[".local", "share"])
}

/// Helm's registry login file (`HELM_REGISTRY_CONFIG`, docker config.json format).
pub fn registry_config(env: Env) -> PathBuf {
    env("HELM_REGISTRY_CONFIG")
        .map(PathBuf::from)
        .unwrap_or_else(|| config_home(env).join("registry").join("config.json"))
}

/// Helm's repository list (`HELM_REPOSITORY_CONFIG`).
pub fn repository_config(env: Env) -> PathBuf {
    env("HELM_REPOSITORY_CONFIG")
        .map(PathBuf::from)
        .unwrap_or_else(|| config_home(env).join("repositories.yaml"))
}

/// Helm's repository index cache (`HELM_REPOSITORY_CACHE`).
pub fn repository_cache(env: Env) -> PathBuf {
    env("HELM_REPOSITORY_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| cache_home(env).join("repository"))
}

/// Docker's own config (`DOCKER_CONFIG`/config.json, else `~/.docker/config.json`), read as a
/// fallback for registry credentials as Helm does.
pub fn docker_config(env: Env) -> PathBuf {
    env("DOCKER_CONFIG")
        .map(|d| PathBuf::from(d).join("config.json"))
        .unwrap_or_else(|| home(env).join(".docker").join("config.json"))
}

/// Our content-addressed download cache (sha256-named blobs), beside Helm's caches.
pub fn content_cache(env: Env) -> PathBuf {
    cache_home(env).join("kubectl-chart").join("content")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_table() {
        type Case = (
            &'static str,
            &'static [(&'static str, &'static str)],
            fn(Env) -> PathBuf,
            &'static str,
        );
        let cases: &[Case] = &[
            (
                "config default",
                &[("HOME", "/h")],
                config_home,
                "/h/.config/helm",
            ),
            (
                "config xdg",
                &[("HOME", "/h"), ("XDG_CONFIG_HOME", "/x")],
                config_home,
                "/x/helm",
            ),
            (
                "config helm wins",
                &[("XDG_CONFIG_HOME", "/x"), ("HELM_CONFIG_HOME", "/c")],
                config_home,
                "/c",
            ),
            ("cache default", &[("HOME", "/h")], cache_home, "/h/.cache/helm"),
            (
                "data default",
                &[("HOME", "/h")],
                data_home,
                "/h/.local/share/helm",
            ),
            (
                "registry default",
                &[("HELM_CONFIG_HOME", "/c")],
                registry_config,
                "/c/registry/config.json",
            ),
            (
                "registry override",
                &[("HELM_REGISTRY_CONFIG", "/r.json")],
                registry_config,
                "/r.json",
            ),
            (
                "repos default",
                &[("HELM_CONFIG_HOME", "/c")],
                repository_config,
                "/c/repositories.yaml",
            ),
            (
                "repo cache",
                &[("HELM_CACHE_HOME", "/k")],
                repository_cache,
                "/k/repository",
            ),
            (
                "docker",
                &[("HOME", "/h")],
                docker_config,
                "/h/.docker/config.json",
            ),
            (
                "docker env",
                &[("DOCKER_CONFIG", "/d")],
                docker_config,
                "/d/config.json",
            ),
        ];
        for (name, vars, f, want) in cases {
            let env = |k: &str| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string());
            assert_eq!(f(&env), PathBuf::from(want), "{name}");
        }
    }
}
