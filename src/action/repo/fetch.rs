//! Charts from chart repositories: `repo/name` (a repository added with `repo add`, its index
//! read from Helm's cache) and `name --repo URL` (the index fetched for this command only).
//!
//! Order, so that nothing is written before everything is verified: read the index and pick the
//! version (Helm's `IndexFile.Get`), resolve the entry's first URL against the repository URL,
//! then either hand an `oci://` URL to the registry client, or look the entry's `digest` up in
//! the content cache (a warm cache reads no network) and otherwise download the archive, check
//! it against the digest, and only then store it. Helm 3 does not check the index digest; a
//! mismatch here is an error that names both digests.
//!
//! Credentials go with the repository: they are sent to the chart URL only when it has the
//! repository's scheme, host and port, or with `--pass-credentials` (Helm's rule).

use anyhow::Context as _;

use super::{client_for, fetch_index, get};
use crate::{
    action::locate::{content_cache, locate_oci, ChartSourceOptions, LocatedChart},
    cache, net,
    release::ChartOrigin,
    repo::{self, select::FindError, Entry, HelmPaths, RepoFile, SelectError},
};

/// `repo/name`: the repository named `repo` in `repositories.yaml`, its cached index.
pub fn locate_in_repo(
    repo_name: &str,
    chart: &str,
    opts: &ChartSourceOptions,
) -> anyhow::Result<LocatedChart> {
    let paths = HelmPaths::from_env();
    let file = RepoFile::load(&paths.repository_config)?;
    let entry = file
        .get(repo_name)
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("repo {repo_name} not found"))?;
    let index_path = paths.index_file(repo_name);
    let data = std::fs::read(&index_path).map_err(|e| {
        anyhow::anyhow!(
            "no cached repo found. (try 'kubectl chart repo update'): {}: {e}",
            index_path.display()
        )
    })?;
    let version = repo::devel_constraint(&opts.version, opts.devel);
    let mut warnings = Vec::new();
    let cv = repo::find_version(&data, chart, &version, &index_path.display().to_string(), &mut warnings).map_err(|e| match e {
        FindError::Select(e) => anyhow::anyhow!(
            "chart {chart:?} matching {version} not found in {repo_name} index. (try 'kubectl chart repo update'): {e}"
        ),
        FindError::Index(e) => anyhow::Error::new(e).context(format!("error loading {}", index_path.display())),
    })?;
    download(&entry, cv, opts, warnings)
}

/// `name --repo URL`: the repository's index is fetched for this lookup only (nothing cached).
pub fn locate_in_repo_url(
    repo_url: &str,
    chart: &str,
    opts: &ChartSourceOptions,
) -> anyhow::Result<LocatedChart> {
    let entry = Entry {
        name: String::new(),
        url: repo_url.to_string(),
        username: opts.username.clone().unwrap_or_default(),
        password: opts.password.clone().unwrap_or_default(),
        cert_file: path_text(&opts.tls.cert_file),
        key_file: path_text(&opts.tls.key_file),
        ca_file: path_text(&opts.tls.ca_file),
        insecure_skip_tls_verify: opts.tls.insecure_skip_tls_verify,
        pass_credentials_all: opts.pass_credentials,
    };
    let client = client_for(&entry)?;
    let fetched = crate::action::locate::block_on(fetch_index(&client, &entry))?.map_err(|e| {
        anyhow::anyhow!("looks like {repo_url:?} is not a valid chart repository or cannot be reached: {e:#}")
    })?;
    let version = repo::devel_constraint(&opts.version, opts.devel);
    let not_found = || {
        let mut what = format!("chart {chart:?}");
        if !version.is_empty() {
            what.push_str(&format!(" version {version:?}"));
        }
        anyhow::anyhow!("{what} not found in {repo_url} repository")
    };
    let versions = fetched.index.entries.get(chart).ok_or_else(not_found)?;
    let keys: Vec<_> = versions
        .iter()
        .map(|v| (v.metadata.version.clone(), v.semver()))
        .collect();
    let refs: Vec<_> = keys.iter().map(|(s, v)| (s.as_str(), v.as_ref())).collect();
    let i = match repo::select(chart, &refs, &version) {
        Ok(i) => i,
        Err(SelectError::BadConstraint(e)) => anyhow::bail!(e),
        Err(_) => return Err(not_found()),
    };
    download(&entry, versions[i].clone(), opts, fetched.index.warnings.clone())
}

fn path_text(p: &Option<std::path::PathBuf>) -> String {
    p.as_ref().map(|p| p.display().to_string()).unwrap_or_default()
}

/// Whether two URLs share scheme, host and port (unparsable URLs share nothing).
fn same_origin(a: &str, b: &str) -> bool {
    match (a.parse::<http::Uri>(), b.parse::<http::Uri>()) {
        (Ok(a), Ok(b)) => net::policy::origin(&a) == net::policy::origin(&b),
        _ => false,
    }
}

/// Fetches the chosen entry's archive (or hands an `oci://` URL to the registry client).
/// `warnings` (skipped index entries) become the result's notices, printed as Helm logs them.
pub(crate) fn download(
    entry: &Entry,
    cv: repo::ChartVersion,
    opts: &ChartSourceOptions,
    warnings: Vec<String>,
) -> anyhow::Result<LocatedChart> {
    let notices: Vec<String> = warnings.iter().map(|w| format!("WARNING: {w}")).collect();
    let name = cv.metadata.name.clone();
    let version = cv.metadata.version.clone();
    let first = cv
        .urls
        .first()
        .ok_or_else(|| anyhow::anyhow!("chart {name:?} version {version:?} has no downloadable URLs"))?;
    let url = repo::resolve_url(&entry.url, first);
    if url.starts_with("oci://") {
        let mut located = locate_oci(
            &oci_ref(&url, &version),
            &ChartSourceOptions {
                version: String::new(),
                devel: false,
                ..opts.clone()
            },
        )?;
        located.notices.splice(0..0, notices);
        return Ok(located);
    }
    let file_name = format!("{name}-{version}.tgz");
    let cache = content_cache();
    let expected = if cv.digest.is_empty() {
        None
    } else {
        let d = format!("sha256:{}", cv.digest.to_ascii_lowercase());
        cache::digest_hex(&d)
            .with_context(|| format!("index entry {name} {version}: digest {:?}", cv.digest))?;
        Some(d)
    };
    // Warm path: the index names the archive's digest and the cache holds those exact bytes.
    if let Some(d) = &expected {
        if let Some(data) = cache.get(d)? {
            return Ok(located(cache.path(d)?, url, d.clone(), data, file_name, notices));
        }
    }
    let client = client_for(entry)?;
    // Helm: credentials follow the chart only to the repository's own scheme and host.
    let send_auth = entry.pass_credentials_all || same_origin(&entry.url, &url);
    let auth_entry = if send_auth {
        entry.clone()
    } else {
        Entry {
            username: String::new(),
            password: String::new(),
            ..entry.clone()
        }
    };
    let resp = crate::action::locate::block_on(get(
        &client,
        &auth_entry,
        &url,
        crate::registry::MAX_CHART_ARCHIVE,
    ))??;
    let actual = format!("sha256:{}", resp.sha256);
    if let Some(d) = &expected {
        if *d != actual {
            anyhow::bail!(
                "digest mismatch for {url}: the repository index says {d}, the downloaded archive is {actual}; nothing was written"
            );
        }
    }
    let path = cache.put(&actual, &resp.body)?;
    Ok(located(path, url, actual, resp.body.to_vec(), file_name, notices))
}

fn located(
    path: std::path::PathBuf,
    url: String,
    digest: String,
    data: Vec<u8>,
    file_name: String,
    notices: Vec<String>,
) -> LocatedChart {
    LocatedChart {
        path,
        origin: Some(ChartOrigin { source: url, digest }),
        notices,
        archive: Some(data),
        file_name: Some(file_name),
    }
}

/// An index's `oci://` URL as a pullable reference: the entry's version becomes the tag when the
/// URL has none (`+` stored as `_`, as registries require).
fn oci_ref(url: &str, version: &str) -> String {
    let last = url.rsplit('/').next().unwrap_or("");
    if last.contains(':') || last.contains('@') {
        url.to_string()
    } else {
        format!("{url}:{}", version.replace('+', "_"))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn oci_ref_adds_the_version_as_tag() {
        let cases = [
            ("oci://r:5000/charts/pg", "1.2.3", "oci://r:5000/charts/pg:1.2.3"),
            ("oci://r/charts/pg", "1.2.3+b1", "oci://r/charts/pg:1.2.3_b1"),
            ("oci://r/charts/pg:9.9.9", "1.2.3", "oci://r/charts/pg:9.9.9"),
            (
                "oci://r/charts/pg@sha256:ab",
                "1.2.3",
                "oci://r/charts/pg@sha256:ab",
            ),
        ];
        for (url, v, want) in cases {
            assert_eq!(super::oci_ref(url, v), want, "{url}");
        }
    }
}
