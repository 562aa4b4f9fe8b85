//! The chart source step every verb that takes a chart runs first: a chart argument (directory,
//! `.tgz`, `oci://…`, `https://…/x.tgz`) becomes a local path, fetched and verified before
//! anything is loaded, rendered or written. Remote charts land in the content cache
//! ([`crate::cache`]) and are loaded from there.

use std::{path::PathBuf, sync::Arc};

use anyhow::Context as _;

use crate::{
    cache::{self, Cache},
    chart::ChartRef,
    helmpath, net,
    registry::{self, credentials},
    release::ChartOrigin,
};

/// Helm's chart-fetching flags (`ChartPathOptions`).
#[derive(Debug, Clone, Default)]
pub struct ChartSourceOptions {
    /// `--version`: an exact version or a constraint.
    pub version: String,
    /// `--devel`: admit prereleases when no version is given.
    pub devel: bool,
    /// `--plain-http`.
    pub plain_http: bool,
    /// `--ca-file`, `--cert-file`, `--key-file`, `--insecure-skip-tls-verify`.
    pub tls: net::TlsOptions,
    /// `--username`.
    pub username: Option<String>,
    /// `--password`.
    pub password: Option<String>,
    /// `--repo`: a chart repository URL the chart name is looked up in (no `repo add` needed).
    pub repo: Option<String>,
    /// `--pass-credentials`: send the credentials to every host, not only the repository's.
    pub pass_credentials: bool,
}

/// A chart ready to load.
#[derive(Debug, Clone)]
pub struct LocatedChart {
    /// A directory or archive on disk (remote charts: their cache entry).
    pub path: PathBuf,
    /// Where it came from, for the release record (`None` for a directory).
    pub origin: Option<ChartOrigin>,
    /// What Helm prints on stderr while fetching (`Pulled: …`, `Digest: …`).
    pub notices: Vec<String>,
    /// The archive bytes, for remote and packaged charts.
    pub archive: Option<Vec<u8>>,
    /// The name a downloaded file gets (`name-version.tgz`), for remote charts.
    pub file_name: Option<String>,
}

/// The environment the package-manager verbs read (Helm's variables).
pub fn env() -> impl Fn(&str) -> Option<String> {
    helmpath::process_env
}

/// The HTTP client for these options, with stored registry logins as its credentials.
pub fn http_client(opts: &ChartSourceOptions) -> anyhow::Result<net::Client> {
    let env = env();
    let store = credentials::Store::load(&[helmpath::registry_config(&env), helmpath::docker_config(&env)])
        .map_err(anyhow::Error::msg)?;
    let client = net::Client::new(net::ClientOptions {
        tls: opts.tls.clone(),
        ..Default::default()
    })?;
    Ok(client.with_credentials(Arc::new(store)))
}

/// The registry client for these options.
pub fn registry_client(opts: &ChartSourceOptions) -> anyhow::Result<registry::Client> {
    let explicit = match (&opts.username, &opts.password) {
        (Some(u), Some(p)) if !u.is_empty() && !p.is_empty() => Some(net::Auth::Basic {
            username: u.clone(),
            password: p.clone(),
        }),
        _ => None,
    };
    Ok(registry::Client::new(
        http_client(opts)?,
        opts.plain_http,
        explicit,
    ))
}

/// A runtime for the fetch alone: verbs call this before they start their own.
pub fn block_on<F: std::future::Future>(f: F) -> anyhow::Result<F::Output> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(f))
}

/// The content cache under `HELM_CACHE_HOME`.
pub fn content_cache() -> Cache {
    Cache::new(helmpath::content_cache(&env()))
}

/// Resolves `arg` to a local chart, downloading (and caching) it when remote.
pub fn locate_chart(arg: &str, opts: &ChartSourceOptions) -> anyhow::Result<LocatedChart> {
    // `--repo URL`: the argument is a chart name in that repository (a local path still wins,
    // as in Helm's LocateChart).
    if let Some(repo_url) = opts.repo.as_deref().filter(|u| !u.is_empty()) {
        if !std::path::Path::new(arg).exists() {
            return super::repo::locate_in_repo_url(repo_url, arg, opts);
        }
    }
    let chart_ref = ChartRef::parse(arg).map_err(anyhow::Error::msg)?;
    match chart_ref {
        ChartRef::Dir(path) => Ok(LocatedChart {
            path,
            origin: None,
            notices: Vec::new(),
            archive: None,
            file_name: None,
        }),
        ChartRef::Archive(path) => {
            let data = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            Ok(LocatedChart {
                origin: Some(ChartOrigin {
                    source: path.display().to_string(),
                    digest: cache::digest_of(&data),
                }),
                path,
                notices: Vec::new(),
                archive: Some(data),
                file_name: None,
            })
        }
        ChartRef::Oci(raw) => locate_oci(&raw, opts),
        ChartRef::Url(url) => {
            let client = http_client(opts)?;
            let auth = match (&opts.username, &opts.password) {
                (Some(u), Some(p)) => Some(net::Auth::Basic {
                    username: u.clone(),
                    password: p.clone(),
                }),
                _ => None,
            };
            let req = net::Request::get(&url)
                .header(http::header::ACCEPT, "application/gzip,application/octet-stream")
                .limit(registry::MAX_CHART_ARCHIVE)
                .auth(auth);
            let resp = block_on(client.send(req))??;
            if !resp.status.is_success() {
                anyhow::bail!("failed to fetch {url} : {}", resp.status);
            }
            let digest = format!("sha256:{}", resp.sha256);
            let cache = content_cache();
            let path = cache.put(&digest, &resp.body)?;
            let file_name = url
                .split(['?', '#'])
                .next()
                .and_then(|u| u.rsplit('/').next())
                .filter(|n| !n.is_empty())
                .unwrap_or("chart.tgz")
                .to_string();
            Ok(LocatedChart {
                path,
                origin: Some(ChartOrigin { source: url, digest }),
                notices: Vec::new(),
                archive: Some(resp.body.to_vec()),
                file_name: Some(file_name),
            })
        }
        ChartRef::Repo { repo, name } => super::repo::locate_in_repo(&repo, &name, opts),
    }
}

/// Pulls `raw` (`oci://…`) from its registry through the content cache.
pub(crate) fn locate_oci(raw: &str, opts: &ChartSourceOptions) -> anyhow::Result<LocatedChart> {
    let client = registry_client(opts)?;
    let cache = content_cache();
    let pulled = block_on(registry::pull(
        &client,
        Some(&cache),
        raw,
        &opts.version,
        opts.devel,
    ))??;
    let mut notices = Vec::new();
    if pulled.legacy_media_type {
        notices.push(format!(
            "Warning: chart media type {} is deprecated",
            registry::manifest::LEGACY_CHART_LAYER_MEDIA_TYPE
        ));
    }
    notices.push(format!("Pulled: {}", pulled.reference));
    notices.push(format!("Digest: {}", pulled.manifest_digest));
    notices.extend(underscore_notice(&pulled.reference));
    let r = &pulled.reference;
    let file_name = match (&r.tag, &r.digest) {
        (Some(t), _) => format!("{}-{}.tgz", r.name(), t.replace('_', "+")),
        (None, Some(d)) => format!("{}@{}.tgz", r.name(), d.replace(':', "-")),
        (None, None) => format!("{}.tgz", r.name()),
    };
    Ok(LocatedChart {
        path: cache.path(&pulled.chart_digest)?,
        origin: Some(ChartOrigin {
            source: format!("oci://{}", pulled.reference),
            digest: pulled.chart_digest.clone(),
        }),
        notices,
        archive: Some(pulled.chart),
        file_name: Some(file_name),
    })
}

/// Helm's explanation, printed after a pull or push whose tag holds a `_` (a `+` in the version).
pub(crate) fn underscore_notice(r: &registry::Reference) -> Vec<String> {
    if !r.tag.as_deref().is_some_and(|t| t.contains('_')) {
        return Vec::new();
    }
    vec![
        format!("{r} contains an underscore."),
        "OCI artifact references (e.g. tags) do not support the plus sign (+). To support\n\
         storing semantic versions, Helm adopts the convention of changing plus (+) to\n\
         an underscore (_) in chart version tags when pushing to a registry and back to\n\
         a plus (+) when pulling from a registry."
            .into(),
    ]
}
