//! The `repo` verbs (`add`, `update`, `list`, `remove`, `index`) and what they share: a client
//! configured from a repository's entry, and fetching its `index.yaml` into Helm's cache.
//!
//! Nothing is written until the index has been downloaded completely and decoded: a repository
//! that cannot be reached, answers 404, sends half a file or an index Helm would reject leaves
//! `repositories.yaml` and the cache as they were.

mod add;
mod fetch;
mod index;
mod list;
mod remove;
mod update;

use std::sync::Arc;

use anyhow::{bail, Context as _};

pub use add::{repo_add, RepoAddOptions};
pub(crate) use fetch::download;
pub use fetch::{locate_in_repo, locate_in_repo_url};
pub use index::{repo_index, RepoIndexOptions};
pub use list::{repo_list, RepoListOptions};
pub use remove::{repo_remove, RemoveOutcome, RepoRemoveOptions};
pub use update::{repo_update, RepoUpdateOptions, UpdateOutcome};

use crate::{
    net::{self, Auth, ClientOptions, TlsOptions},
    repo::{self, index::MAX_INDEX_BYTES, Entry, HelmPaths, Index},
};

/// The basic credentials of an entry, if it has any.
pub(crate) fn entry_auth(entry: &Entry) -> Option<Auth> {
    (!entry.username.is_empty() || !entry.password.is_empty()).then(|| Auth::Basic {
        username: entry.username.clone(),
        password: entry.password.clone(),
    })
}

/// Every host gets the same credentials (`--pass-credentials`).
struct AllHosts(Auth);

impl net::Credentials for AllHosts {
    fn lookup(&self, _: &str) -> Option<Auth> {
        Some(self.0.clone())
    }
}

/// A client with the entry's TLS settings; its credentials go only to the repository's origin
/// (they are attached per request), or to every host with `pass_credentials_all`.
pub(crate) fn client_for(entry: &Entry) -> anyhow::Result<net::Client> {
    let some = |s: &str| (!s.is_empty()).then(|| s.into());
    let client = net::Client::new(ClientOptions {
        tls: TlsOptions {
            ca_file: some(&entry.ca_file),
            cert_file: some(&entry.cert_file),
            key_file: some(&entry.key_file),
            insecure_skip_tls_verify: entry.insecure_skip_tls_verify,
        },
        ..ClientOptions::default()
    })?;
    Ok(match entry_auth(entry) {
        Some(auth) if entry.pass_credentials_all => client.with_credentials(Arc::new(AllHosts(auth))),
        _ => client,
    })
}

/// GETs `url` with the entry's credentials (bound to the URL's origin) and fails on anything but
/// 200, with Helm's wording.
pub(crate) async fn get(
    client: &net::Client,
    entry: &Entry,
    url: &str,
    limit: u64,
) -> anyhow::Result<net::Response> {
    let resp = client
        .send(net::Request::get(url).auth(entry_auth(entry)).limit(limit))
        .await?;
    if resp.status != http::StatusCode::OK {
        bail!(
            "failed to fetch {url} : {} {}",
            resp.status.as_u16(),
            resp.status.canonical_reason().unwrap_or("")
        );
    }
    Ok(resp)
}

/// A downloaded and decoded index, not yet written anywhere.
pub struct FetchedIndex {
    /// The bytes as served (what Helm caches).
    pub data: bytes::Bytes,
    /// The decoded index (its `warnings` are Helm's skipped-entry lines).
    pub index: Index,
}

/// Downloads `<url>/index.yaml` and decodes it as Helm's `DownloadIndexFile` does (the whole
/// index: a bad one must be refused before it is cached).
pub async fn fetch_index(client: &net::Client, entry: &Entry) -> anyhow::Result<FetchedIndex> {
    let url = repo::resolve_url(&entry.url, "index.yaml");
    let resp = get(client, entry, &url, MAX_INDEX_BYTES as u64).await?;
    let index = Index::parse(&resp.body, &entry.url)?;
    Ok(FetchedIndex {
        data: resp.body,
        index,
    })
}

/// Writes `<name>-index.yaml` (the bytes as served) and `<name>-charts.txt` (one chart name a
/// line, sorted; Helm writes map order) into Helm's repository cache.
pub fn write_cache(paths: &HelmPaths, name: &str, fetched: &FetchedIndex) -> anyhow::Result<()> {
    let mut names = String::new();
    for chart in fetched.index.entries.keys() {
        names.push_str(chart);
        names.push('\n');
    }
    let charts = paths.charts_file(name);
    repo::write_atomic(&charts, names.as_bytes(), 0o644)
        .with_context(|| format!("writing {}", charts.display()))?;
    let index = paths.index_file(name);
    repo::write_atomic(&index, &fetched.data, 0o644)
        .with_context(|| format!("writing {}", index.display()))?;
    Ok(())
}
