//! [`KubeCluster`]: the [`Cluster`] trait on a real API server through `kube::Client`.
//!
//! Requests are built with kube-core's sans-IO builders over `DynamicObject`/`ApiResource` URLs and
//! sent raw (`Client::send`), so this layer sees status codes and `Retry-After` headers itself:
//! - at most `max_concurrency` requests in flight (a semaphore), so a 300-object apply cannot flood
//!   the server's priority-and-fairness queues;
//! - every request under a timeout (`--request-timeout`, else [`DEFAULT_REQUEST_TIMEOUT`]);
//! - 429 and 5xx answers and transport failures retried with exponential backoff (429 honours
//!   `Retry-After`), but only for GET, LIST and DELETE: a create or patch whose answer was lost may
//!   have been applied, so the caller decides (kube's own blanket retry layer is switched off).

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt as _;
use http_body_util::BodyExt;
use kube::api::{
    DeleteParams, GetParams, ListParams, LogParams, PatchParams, PostParams, Preconditions,
    PropagationPolicy, VersionMatch, WatchParams,
};
use kube::core::{ApiResource, DynamicObject, GroupVersionKind, Request, Resource};
use serde_json::Value;
use tokio::sync::Semaphore;
use tracing::Instrument as _;

use super::discovery::{self, Discovered, ListInfo, ServerCapabilities};
use super::{
    name_of, ApiResourceInfo, Cluster, DeleteOptions, Error, Gvk, ObjectList, Observed, Patch, Propagation,
    Result, WatchEvent, WatchStream, WriteOptions,
};

/// Used when no `--request-timeout` is given: long enough for a large LIST, short enough that a
/// hung connection does not hang the run.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Sent on every request, so audit logs tell our requests apart from kubectl's or helm's.
const USER_AGENT: &str = concat!("kubectl-chart/", env!("CARGO_PKG_VERSION"));

/// kubectl's connection flags, already parsed (the CLI maps its flags onto this).
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// `--kubeconfig`: this file only; `KUBECONFIG` is then ignored.
    pub kubeconfig: Option<PathBuf>,
    /// The value of `KUBECONFIG` to use; `None` reads the process environment. Tests set it.
    pub kubeconfig_env: Option<OsString>,
    /// `--context`.
    pub context: Option<String>,
    /// `--cluster`.
    pub cluster: Option<String>,
    /// `--user`.
    pub user: Option<String>,
    /// `--namespace`: overrides the context's namespace.
    pub namespace: Option<String>,
    /// `--as`.
    pub impersonate: Option<String>,
    /// `--as-group`, repeatable.
    pub impersonate_groups: Vec<String>,
    /// `--request-timeout`; `None` means [`DEFAULT_REQUEST_TIMEOUT`], zero means none (kubectl's `0`).
    pub request_timeout: Option<Duration>,
    /// Requests in flight at once.
    pub max_concurrency: usize,
    /// Retries of idempotent requests.
    pub retry: RetryPolicy,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            kubeconfig: None,
            kubeconfig_env: None,
            context: None,
            cluster: None,
            user: None,
            namespace: None,
            impersonate: None,
            impersonate_groups: Vec::new(),
            request_timeout: None,
            max_concurrency: 16,
            retry: RetryPolicy::default(),
        }
    }
}

/// Backoff for idempotent requests: `base * 2^attempt`, capped at `max_delay`; a server's
/// `Retry-After` replaces the computed delay (capped too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts after the first.
    pub max_retries: u32,
    /// First backoff.
    pub base_delay: Duration,
    /// Longest single wait.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    fn delay(&self, attempt: u32, retry_after: Option<u64>) -> Duration {
        let d = match retry_after {
            Some(s) => Duration::from_secs(s),
            None => self.base_delay.saturating_mul(1u32 << attempt.min(16)),
        };
        d.min(self.max_delay)
    }
}

/// A connection to a real API server. Cheap to share behind `Arc<dyn Cluster>`.
pub struct KubeCluster {
    client: kube::Client,
    namespace: String,
    /// `host:port` of the API server and the kubeconfig context, for connection errors.
    server: String,
    context: String,
    timeout: Option<Duration>,
    retry: RetryPolicy,
    permits: Semaphore,
    resources: Mutex<HashMap<String, Arc<Value>>>,
    openapi: Mutex<HashMap<String, Arc<Value>>>,
    /// Held (written) while [`Cluster::capabilities`] reads discovery, which fills `resources`:
    /// a `resolve` that misses the cache meanwhile waits for it instead of asking for the same
    /// group-version again. One for the core group (`GET /api`), one for the others
    /// (`GET /apis`), so core kinds (release records) go ahead as soon as theirs is in.
    discovering: [tokio::sync::RwLock<()>; 2],
}

impl std::fmt::Debug for KubeCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeCluster")
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

/// Whether a request may be sent again after a failure without the risk of applying it twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Idempotent {
    Yes,
    No,
}

impl KubeCluster {
    /// Connects as kubectl would with these flags (see [`ConnectOptions`]). Runs an exec credential
    /// plugin once if the chosen user has one; sends no request to the server.
    pub async fn connect(opts: &ConnectOptions) -> Result<Self> {
        let (mut config, context) = super::kubeconfig::load_config(opts).await?;
        // A dead or unreachable server is reported within seconds, not after the OS's minutes of
        // SYN retries; a live one answers a TCP connect in milliseconds.
        config.connect_timeout = Some(CONNECT_TIMEOUT);
        let server = config
            .cluster_url
            .authority()
            .map_or_else(|| config.cluster_url.to_string(), |a| a.to_string());
        if let Some(ns) = &opts.namespace {
            config.default_namespace = ns.clone();
        }
        if let Some(user) = &opts.impersonate {
            config.auth_info.impersonate = Some(user.clone());
        }
        if !opts.impersonate_groups.is_empty() {
            config.auth_info.impersonate_groups = Some(opts.impersonate_groups.clone());
        }
        let timeout = Some(opts.request_timeout.unwrap_or(DEFAULT_REQUEST_TIMEOUT)).filter(|t| !t.is_zero());
        config.read_timeout = timeout;
        config.default_retry = false;
        let namespace = config.default_namespace.clone();
        let client = super::client::build(&config)?;
        Ok(KubeCluster {
            client,
            namespace,
            server,
            context,
            timeout,
            retry: opts.retry,
            permits: Semaphore::new(opts.max_concurrency.max(1)),
            resources: Mutex::default(),
            openapi: Mutex::default(),
            discovering: Default::default(),
        })
    }

    /// Sends one request (with retries when idempotent) and returns the body of a 2xx answer.
    async fn call(&self, req: http::Request<Vec<u8>>, idem: Idempotent) -> Result<Vec<u8>> {
        let mut attempt = 0;
        loop {
            let result = self.call_once(clone_request(&req)).await;
            // 429 means the server turned the request away before acting on it (API priority
            // and fairness, or a webhook's rate limit), so even a create or patch is safe to
            // send again; 5xx and lost connections may come after the write happened, so only
            // idempotent requests retry those.
            let (retry_after, safe) = match &result {
                Ok(_) => return result,
                Err(Error::Api {
                    code: 429,
                    retry_after,
                    ..
                }) => (*retry_after, true),
                Err(Error::Api {
                    code, retry_after, ..
                }) if *code >= 500 => (*retry_after, false),
                // A server that took the whole connect timeout to not answer is not retried
                // (the user hears about it in seconds, not after every retry's timeout), nor a
                // certificate that will not verify the next time either.
                Err(Error::Connect(m)) if m.contains("i/o timeout") || m.contains("x509:") => return result,
                Err(Error::Connect(_) | Error::Timeout(_)) => (None, false),
                Err(_) => return result,
            };
            if (idem == Idempotent::No && !safe) || attempt >= self.retry.max_retries {
                return result;
            }
            let wait = self.retry.delay(attempt, retry_after);
            tracing::debug!(method = %req.method(), uri = %req.uri(), attempt, ?wait, "retrying");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// Sends one request as this tool (user agent), logged (see [`super::client`]), and returns
    /// the answer's head with its body unread.
    async fn send(&self, mut req: http::Request<Vec<u8>>) -> Result<http::Response<kube::client::Body>> {
        req.headers_mut().insert(
            http::header::USER_AGENT,
            http::HeaderValue::from_static(USER_AGENT),
        );
        let span = super::client::request_span(&req);
        async {
            tracing::debug!("requesting");
            let res = self
                .client
                .send(req.map(kube::client::Body::from))
                .await
                .map_err(|e| self.transport_error(e))?;
            tracing::debug!(http.status_code = res.status().as_u16(), "answered");
            Ok(res)
        }
        .instrument(span)
        .await
    }

    async fn call_once(&self, req: http::Request<Vec<u8>>) -> Result<Vec<u8>> {
        let _permit = self.permits.acquire().await.map_err(|e| self.lost(&e))?;
        let send = async {
            let res = self.send(req).await?;
            let status = res.status().as_u16();
            let retry_after = res
                .headers()
                .get(http::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            let body = res
                .into_body()
                .collect()
                .await
                .map_err(|e| self.lost(&e))?
                .to_bytes();
            if (200..300).contains(&status) {
                return Ok(body.to_vec());
            }
            let mut err = Error::from_status(status, &body);
            if let (
                Error::Api {
                    retry_after: ra @ None,
                    ..
                },
                Some(h),
            ) = (&mut err, retry_after)
            {
                *ra = Some(h);
            }
            Err(err)
        };
        match self.timeout {
            Some(t) => tokio::time::timeout(t, send)
                .await
                .map_err(|_| Error::Timeout(t))?,
            None => send.await,
        }
    }

    async fn call_json(&self, req: http::Request<Vec<u8>>, idem: Idempotent) -> Result<Value> {
        let body = self.call(req, idem).await?;
        serde_json::from_slice(&body).map_err(|e| Error::Decode(e.to_string()))
    }

    /// The `APIResourceList` of `gvk`'s group-version, cached; `refresh` refetches it.
    async fn resource_list(&self, gvk: &Gvk, refresh: bool) -> Result<Option<Arc<Value>>> {
        let path = discovery::group_version_path(gvk);
        if !refresh {
            if let Some(v) = lock(&self.resources).get(&path) {
                return Ok(Some(v.clone()));
            }
            // A full discovery under way is about to fill the cache.
            drop(self.discovering[usize::from(!gvk.group.is_empty())].read().await);
            if let Some(v) = lock(&self.resources).get(&path) {
                return Ok(Some(v.clone()));
            }
        }
        let req = get_request(&path)?;
        match self.call_json(req, Idempotent::Yes).await {
            Ok(v) => {
                let v = Arc::new(v);
                lock(&self.resources).insert(path, v.clone());
                Ok(Some(v))
            }
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `GET /version`.
    async fn version_doc(&self) -> Result<Value> {
        self.call_json(get_request("/version")?, Idempotent::Yes).await
    }

    /// All of discovery: aggregated (`GET /api` and `GET /apis`, two requests for everything)
    /// when the server offers it, else the legacy group lists and then every group-version's
    /// resource list, concurrently, a failure of one recorded rather than fatal (client-go's
    /// `ServerGroupsAndResources`).
    ///
    /// `held` are the write guards of `discovering`: each aggregated answer fills the cache and
    /// lets its waiters go as soon as it arrives; with legacy discovery they are held to the end.
    async fn discover(&self, held: [tokio::sync::RwLockWriteGuard<'_, ()>; 2]) -> Result<Discovered> {
        let aggregated = |path: &'static str, guard| async move {
            let req = http::Request::get(path)
                .header(http::header::ACCEPT, discovery::AGGREGATED_ACCEPT)
                .body(Vec::new())
                .map_err(|e| Error::Invalid(e.to_string()))?;
            let doc = self.call_json(req, Idempotent::Yes).await?;
            if !discovery::is_aggregated(&doc) {
                return Ok((doc, Some(guard)));
            }
            self.fill_cache(&discovery::from_aggregated(&[&doc]));
            Ok((doc, None))
        };
        let [core, groups] = held;
        let ((api, _core), (apis, _groups)) =
            tokio::try_join!(aggregated("/api", core), aggregated("/apis", groups))?;
        let (mut docs, mut legacy) = (Vec::new(), [Value::Null, Value::Null]);
        for (doc, slot) in [api, apis].into_iter().zip(&mut legacy) {
            if discovery::is_aggregated(&doc) {
                docs.push(doc);
            } else {
                *slot = doc;
            }
        }
        let mut found = discovery::from_aggregated(&docs.iter().collect::<Vec<_>>());
        let [api, apis] = &legacy;
        let legacy_gvs = discovery::legacy_group_versions(api, apis);
        let answers = futures::future::join_all(legacy_gvs.iter().map(|gv| async move {
            let path = discovery::gv_path(gv);
            self.call_json(get_request(&path)?, Idempotent::Yes).await
        }))
        .await;
        for (gv, answer) in legacy_gvs.into_iter().zip(answers) {
            match answer {
                Ok(list) => {
                    found.resources.insert(gv.clone(), list);
                }
                Err(e) => {
                    found.failed.insert(gv.clone(), e.to_string());
                }
            }
            found.group_versions.push(gv);
        }
        self.fill_cache(&found);
        Ok(found)
    }

    /// Puts discovered `APIResourceList`s where `resolve` looks first.
    fn fill_cache(&self, found: &Discovered) {
        let mut cache = lock(&self.resources);
        for (gv, list) in &found.resources {
            cache.insert(discovery::gv_path(gv), Arc::new(list.clone()));
        }
    }

    /// One LIST of `gvk`: whole objects, or only their metadata with `metadata_only` (the
    /// server's `PartialObjectMetadataList`, which callers see under the kind they listed).
    async fn list_as(
        &self,
        gvk: &Gvk,
        namespace: Option<&str>,
        label_selector: Option<&str>,
        metadata_only: bool,
        not_older_than: Option<&str>,
    ) -> Result<ObjectList> {
        let lp = list_params_at(label_selector, not_older_than);
        let request = self.request_for(gvk, namespace, true).await?;
        let req = if metadata_only {
            request.list_metadata(&lp)
        } else {
            request.list(&lp)
        }
        .map_err(build_error)?;
        let mut list = self.call_json(req, Idempotent::Yes).await?;
        if metadata_only {
            // The server names the list and its items `meta.k8s.io/v1`
            // `PartialObjectMetadata(List)`; callers see the kind they listed, as from `list`.
            if let Some(items) = list.get_mut("items").and_then(Value::as_array_mut) {
                for item in items.iter_mut().filter_map(Value::as_object_mut) {
                    item.insert("apiVersion".into(), Value::String(gvk.api_version()));
                    item.insert("kind".into(), Value::String(gvk.kind.clone()));
                }
            }
            if let Some(m) = list.as_object_mut() {
                m.insert("apiVersion".into(), Value::String(gvk.api_version()));
                m.insert("kind".into(), Value::String(format!("{}List", gvk.kind)));
            }
        }
        Ok(into_object_list(list, gvk))
    }

    async fn request_for(&self, gvk: &Gvk, namespace: Option<&str>, list: bool) -> Result<Request> {
        let info = self.resolve(gvk).await?;
        let kgvk = GroupVersionKind::gvk(&gvk.group, &gvk.version, &gvk.kind);
        let ar = ApiResource::from_gvk_with_plural(&kgvk, &info.plural);
        let ns = match (info.namespaced, namespace) {
            (false, _) => None,
            (true, Some(ns)) => Some(ns),
            (true, None) if list => None,
            (true, None) => Some(self.namespace.as_str()),
        };
        Ok(Request::new(DynamicObject::url_path(&ar, ns)))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned cache only means another task panicked mid-insert; the map is still usable.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn get_request(path: &str) -> Result<http::Request<Vec<u8>>> {
    http::Request::get(path)
        .body(Vec::new())
        .map_err(|e| Error::Invalid(e.to_string()))
}

fn clone_request(req: &http::Request<Vec<u8>>) -> http::Request<Vec<u8>> {
    let mut out = http::Request::new(req.body().clone());
    *out.method_mut() = req.method().clone();
    *out.uri_mut() = req.uri().clone();
    *out.headers_mut() = req.headers().clone();
    out
}

/// How long a TCP (and TLS) connect to the API server may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

impl KubeCluster {
    /// "to the server 127.0.0.1:6443 (context kit)": where a failed request went.
    fn at(&self) -> String {
        format!("the server {} (context {})", self.server, self.context)
    }

    /// A request that got no answer, in kubectl's words and on one line: which server, which
    /// context, and the cause itself rather than the layers of client wrappers above it
    /// ("ServiceError: client error (Connect): client error (Connect): tcp connect error").
    fn transport_error(&self, e: kube::Error) -> Error {
        let mut chain = vec![e.to_string()];
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            chain.push(s.to_string());
            src = s.source();
        }
        // kube's read timeout (our request timeout) fails inside the request, not while
        // connecting: it is the request timing out, retried like ours, never the "server did not
        // answer the connect" that the retry loop gives up on at once.
        let all = chain.join(": ").to_lowercase();
        let timed_out = all.contains("timed out") || all.contains("timeout") || all.contains("deadline");
        if timed_out && !all.contains("(connect)") {
            if let Some(t) = self.timeout {
                return Error::Timeout(t);
            }
        }
        Error::Connect(connect_message(&self.at(), &self.server, &chain))
    }

    /// A connection lost after the request went out.
    fn lost(&self, e: &dyn std::fmt::Display) -> Error {
        Error::Connect(format!("unable to connect to {}: {e}", self.at()))
    }
}

/// The one-line message for a transport failure, from the error's source chain (outermost
/// first): kubectl's texts for the causes users meet, else the innermost cause.
fn connect_message(at: &str, server: &str, chain: &[String]) -> String {
    let all = chain.join(": ").to_lowercase();
    let host = server.rsplit_once(':').map_or(server, |(h, _)| h);
    let cause = if all.contains("connection refused") {
        return format!("the connection to {at} was refused - did you specify the right host or port?");
    } else if all.contains("unknownissuer") || all.contains("unknown issuer") {
        "tls: failed to verify certificate: x509: certificate signed by unknown authority".to_string()
    } else if all.contains("expired") && all.contains("cert") {
        "tls: failed to verify certificate: x509: certificate has expired or is not yet valid".to_string()
    } else if all.contains("notvalidforname") || all.contains("not valid for name") {
        format!("tls: failed to verify certificate: x509: certificate is not valid for {host}")
    } else if all.contains("dns error") || all.contains("failed to lookup address") {
        format!("dial tcp: lookup {host}: no such host")
    } else if all.contains("timed out") || all.contains("timeout") || all.contains("deadline") {
        format!("dial tcp {server}: i/o timeout")
    } else {
        chain.last().cloned().unwrap_or_default()
    };
    format!("unable to connect to {at}: {cause}")
}

fn build_error(e: kube::core::request::Error) -> Error {
    Error::Invalid(format!("building request: {e}"))
}

/// List parameters: just the label selector, when there is one.
/// The body of a DELETE (one object or a collection; a collection's items all get the same
/// `resourceVersion` precondition, so callers deleting a collection give none).
fn delete_params(opts: &DeleteOptions) -> DeleteParams {
    DeleteParams {
        dry_run: opts.dry_run,
        propagation_policy: opts.propagation.map(|p| match p {
            Propagation::Background => PropagationPolicy::Background,
            Propagation::Foreground => PropagationPolicy::Foreground,
            Propagation::Orphan => PropagationPolicy::Orphan,
        }),
        preconditions: opts.resource_version.clone().map(|rv| Preconditions {
            resource_version: Some(rv),
            uid: None,
        }),
        ..DeleteParams::default()
    }
}

/// [`list_params`], of a state no older than `not_older_than` when given
/// (`resourceVersionMatch=NotOlderThan`: the API server answers from its watch cache as soon as
/// the cache holds that version, where a list without a version waits for the cache to catch
/// up with the newest write to etcd, of any kind).
fn list_params_at(label_selector: Option<&str>, not_older_than: Option<&str>) -> ListParams {
    let lp = list_params(label_selector);
    match not_older_than {
        Some(rv) => lp.at(rv).matching(VersionMatch::NotOlderThan),
        None => lp,
    }
}

fn list_params(label_selector: Option<&str>) -> ListParams {
    let lp = ListParams::default();
    match label_selector.filter(|s| !s.is_empty()) {
        Some(sel) => lp.labels(sel),
        None => lp,
    }
}

/// Fills in `apiVersion`/`kind` on list items, which the server leaves out (client-go does the same).
fn into_object_list(mut list: Value, gvk: &Gvk) -> ObjectList {
    let api_version = list
        .get("apiVersion")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| gvk.api_version());
    let kind = list
        .get("kind")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| format!("{}List", gvk.kind));
    let item_kind = kind.strip_suffix("List").unwrap_or(&gvk.kind).to_string();
    let metadata = list
        .get_mut("metadata")
        .map(Value::take)
        .unwrap_or_else(|| Value::Object(Default::default()));
    let items = match list.get_mut("items").map(Value::take) {
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|mut item| {
                if let Some(m) = item.as_object_mut() {
                    m.entry("apiVersion")
                        .or_insert_with(|| Value::String(api_version.clone()));
                    m.entry("kind")
                        .or_insert_with(|| Value::String(item_kind.clone()));
                }
                item
            })
            .collect(),
        _ => Vec::new(),
    };
    ObjectList {
        api_version,
        kind,
        metadata,
        items,
    }
}

#[async_trait]
impl Cluster for KubeCluster {
    fn default_namespace(&self) -> &str {
        &self.namespace
    }

    fn endpoint(&self) -> (String, String) {
        (self.server.clone(), self.context.clone())
    }

    async fn resolve(&self, gvk: &Gvk) -> Result<ApiResourceInfo> {
        // Built-in kinds need no discovery request (uninstall: two of its requests).
        if let Some(info) = discovery::builtin(gvk) {
            return Ok(info);
        }
        for refresh in [false, true] {
            if let Some(list) = self.resource_list(gvk, refresh).await? {
                if let Some(info) = discovery::find_resource(&list, gvk) {
                    return Ok(info);
                }
            }
        }
        Err(Error::UnknownKind(gvk.clone()))
    }

    async fn list_info(&self, gvk: &Gvk) -> Result<Option<BTreeMap<String, ListInfo>>> {
        let key = discovery::openapi_index_key(gvk);
        let cached = lock(&self.openapi).get(&key).cloned();
        let doc = match cached {
            Some(d) => d,
            None => {
                let index = self
                    .call_json(get_request("/openapi/v3")?, Idempotent::Yes)
                    .await?;
                let Some(url) = index
                    .pointer(&format!(
                        "/paths/{}/serverRelativeURL",
                        key.replace('~', "~0").replace('/', "~1")
                    ))
                    .and_then(Value::as_str)
                else {
                    return Ok(None);
                };
                let doc = Arc::new(self.call_json(get_request(url)?, Idempotent::Yes).await?);
                lock(&self.openapi).insert(key, doc.clone());
                doc
            }
        };
        Ok(discovery::list_map_keys_from_openapi(&doc, gvk))
    }

    async fn openapi_v3_documents(&self) -> Result<Vec<Value>> {
        // CRDs come and go between the index and the documents it lists (a document then answers
        // 404, or an empty body while it is being republished): one more read sees a settled index.
        match self.read_openapi_v3().await {
            Ok(docs) => Ok(docs),
            Err(e) => {
                tracing::debug!("reading the OpenAPI documents again: {e}");
                self.read_openapi_v3().await
            }
        }
    }

    async fn server_version(&self) -> Result<Option<String>> {
        let v = self.version_doc().await?;
        Ok(v.get("gitVersion").and_then(Value::as_str).map(str::to_string))
    }

    async fn capabilities(&self) -> Result<ServerCapabilities> {
        // Both taken before the first request goes out (the caller may poll this once and
        // expect discovery to count as under way from then on).
        let held = [
            self.discovering[0].write().await,
            self.discovering[1].write().await,
        ];
        let (version, found) = tokio::try_join!(self.version_doc(), self.discover(held))?;
        Ok(ServerCapabilities::new(&version, &found))
    }

    async fn get(&self, gvk: &Gvk, namespace: Option<&str>, name: &str) -> Result<Value> {
        let req = self
            .request_for(gvk, namespace, false)
            .await?
            .get(name, &GetParams::default())
            .map_err(build_error)?;
        self.call_json(req, Idempotent::Yes).await
    }

    async fn list(
        &self,
        gvk: &Gvk,
        namespace: Option<&str>,
        label_selector: Option<&str>,
    ) -> Result<ObjectList> {
        self.list_as(gvk, namespace, label_selector, false, None).await
    }

    async fn list_metadata(
        &self,
        gvk: &Gvk,
        namespace: Option<&str>,
        label_selector: Option<&str>,
    ) -> Result<ObjectList> {
        self.list_as(gvk, namespace, label_selector, true, None).await
    }

    async fn list_since(
        &self,
        gvk: &Gvk,
        namespace: Option<&str>,
        label_selector: Option<&str>,
        resource_version: &str,
        metadata_only: bool,
    ) -> Result<ObjectList> {
        self.list_as(
            gvk,
            namespace,
            label_selector,
            metadata_only,
            Some(resource_version),
        )
        .await
    }

    async fn create(&self, object: &Value, opts: &WriteOptions) -> Result<Value> {
        let gvk = Gvk::of(object)?;
        let (ns, _) = name_of(object)?;
        let pp = PostParams {
            dry_run: opts.dry_run,
            field_manager: opts.field_manager.clone(),
        };
        let body = serde_json::to_vec(object).map_err(|e| Error::Invalid(e.to_string()))?;
        let req = self
            .request_for(&gvk, ns.as_deref(), false)
            .await?
            .create(&pp, body)
            .map_err(build_error)?;
        self.call_json(req, Idempotent::No).await
    }

    async fn patch(
        &self,
        gvk: &Gvk,
        namespace: Option<&str>,
        name: &str,
        patch: &Patch,
        opts: &WriteOptions,
    ) -> Result<Value> {
        let pp = PatchParams {
            dry_run: opts.dry_run,
            force: opts.force && matches!(patch, Patch::Apply(_)),
            field_manager: opts.field_manager.clone(),
            field_validation: None,
        };
        let r = self.request_for(gvk, namespace, false).await?;
        let req = match patch {
            Patch::Json(ops) => {
                let ops: json_patch::Patch = serde_json::from_value(ops.clone())
                    .map_err(|e| Error::Invalid(format!("invalid JSON patch: {e}")))?;
                r.patch(name, &pp, &kube::api::Patch::<()>::Json(ops))
            }
            Patch::Merge(v) => r.patch(name, &pp, &kube::api::Patch::Merge(v)),
            Patch::Strategic(v) => r.patch(name, &pp, &kube::api::Patch::Strategic(v)),
            Patch::Apply(v) => r.patch(name, &pp, &kube::api::Patch::Apply(v)),
        }
        .map_err(build_error)?;
        self.call_json(req, Idempotent::No).await
    }

    async fn delete(
        &self,
        gvk: &Gvk,
        namespace: Option<&str>,
        name: &str,
        opts: &DeleteOptions,
    ) -> Result<Value> {
        let dp = delete_params(opts);
        let req = self
            .request_for(gvk, namespace, false)
            .await?
            .delete(name, &dp)
            .map_err(build_error)?;
        // A retried DELETE whose first attempt went through answers 404: the caller sees NotFound,
        // which delete callers already treat as done.
        self.call_json(req, Idempotent::Yes).await
    }

    async fn delete_collection(
        &self,
        gvk: &Gvk,
        namespace: &str,
        label_selector: &str,
        opts: &DeleteOptions,
    ) -> Result<()> {
        let req = self
            .request_for(gvk, Some(namespace), true)
            .await?
            .delete_collection(&delete_params(opts), &list_params(Some(label_selector)))
            .map_err(build_error)?;
        // Retrying is safe: a second attempt deletes what the first left, if anything.
        self.call_json(req, Idempotent::Yes).await?;
        Ok(())
    }

    /// A watch of the one object from `resource_version` (the server sends every later write
    /// as it happens); polling instead when the server cannot start there (410 Gone).
    async fn wait_for_change(
        &self,
        gvk: &Gvk,
        namespace: Option<&str>,
        name: &str,
        resource_version: &str,
        within: Duration,
    ) -> Result<Observed> {
        let started = tokio::time::Instant::now();
        // The server ends the watch itself a little after we stop listening, never before.
        let secs = (within.as_secs() + 2).min(290) as u32;
        let wp = WatchParams::default()
            .fields(&format!("metadata.name={name}"))
            .timeout(secs);
        let req = self
            .request_for(gvk, namespace, true)
            .await?
            .watch(&wp, resource_version)
            .map_err(build_error)?;
        let watched = match tokio::time::timeout(within, self.watch_one(req)).await {
            Err(_) => return Ok(Observed::Unchanged),
            Ok(w) => w?,
        };
        match watched {
            Some(seen) => Ok(seen),
            None => {
                let left = within.saturating_sub(started.elapsed());
                super::poll_for_change(self, gvk, namespace, name, resource_version, left).await
            }
        }
    }
    /// A watch of the kind from `resource_version`, with bookmarks, ended by the server: sooner
    /// than the request timeout, whose read deadline would otherwise cut a quiet watch, so the
    /// caller's reconnect is an ordinary end of stream.
    async fn watch<'a>(
        &'a self,
        gvk: &Gvk,
        namespace: Option<&str>,
        resource_version: &str,
        within: Duration,
    ) -> Result<WatchStream<'a>> {
        let cap = self
            .timeout
            .map_or(290, |t| t.as_secs().saturating_sub(5).clamp(1, 290));
        let secs = within.as_secs().clamp(1, cap) as u32;
        let wp = WatchParams::default().timeout(secs);
        let req = self
            .request_for(gvk, namespace, true)
            .await?
            .watch(&wp, resource_version)
            .map_err(build_error)?;
        self.open_watch(req).await
    }

    async fn pod_log(
        &self,
        namespace: &str,
        pod: &str,
        container: Option<&str>,
        tail_lines: Option<i64>,
    ) -> Result<String> {
        let lp = LogParams {
            container: container.map(str::to_string),
            tail_lines,
            ..LogParams::default()
        };
        let req = self
            .request_for(&Gvk::new("v1", "Pod"), Some(namespace), false)
            .await?
            .logs(pod, &lp)
            .map_err(build_error)?;
        let body = self.call(req, Idempotent::Yes).await?;
        Ok(String::from_utf8_lossy(&body).into_owned())
    }
}

/// One line of a watch stream; `None` for lines that carry nothing we use.
fn decode_watch_event(line: &[u8]) -> Option<WatchEvent> {
    let mut event: Value = serde_json::from_slice(line).ok()?;
    let object = event.get_mut("object").map(Value::take).unwrap_or(Value::Null);
    match event.get("type").and_then(Value::as_str)? {
        "ADDED" => Some(WatchEvent::Added(object)),
        "MODIFIED" => Some(WatchEvent::Modified(object)),
        "DELETED" => Some(WatchEvent::Deleted(object)),
        "BOOKMARK" => object
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .map(|rv| WatchEvent::Bookmark(rv.to_string())),
        // A Status inside the stream: 410 Gone (or "too old resource version") means list again;
        // anything else ends this watch the same way, which the caller's relist recovers from.
        _ => Some(WatchEvent::Expired),
    }
}

impl KubeCluster {
    /// One read of `/openapi/v3` and every group-version document it lists.
    async fn read_openapi_v3(&self) -> Result<Vec<Value>> {
        let index = self
            .call_json(get_request("/openapi/v3")?, Idempotent::Yes)
            .await?;
        let urls: Vec<String> = index
            .get("paths")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter(|(path, _)| path.starts_with("api/") || path.starts_with("apis/"))
            .filter_map(|(_, v)| {
                v.get("serverRelativeURL")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .collect();
        // A handful of requests at a time: a cluster with many CRDs lists a hundred group-versions.
        let mut docs = Vec::with_capacity(urls.len());
        for chunk in urls.chunks(8) {
            // A group-version whose CRD is deleted between the index and its fetch answers 404:
            // it is no longer served, so it has no schema to check against (not an error).
            let fetched = futures::future::try_join_all(chunk.iter().map(|u| async move {
                match self.call_json(get_request(u)?, Idempotent::Yes).await {
                    Err(e) if e.is_not_found() => Ok(None),
                    other => other.map(Some),
                }
            }))
            .await?;
            docs.extend(fetched.into_iter().flatten());
        }
        Ok(docs)
    }

    /// Sends a watch request and streams its events: a 410 Gone answer (the version asked is no
    /// longer kept) is an [`WatchEvent::Expired`] event, as it is inside the stream.
    async fn open_watch(&self, req: http::Request<Vec<u8>>) -> Result<WatchStream<'_>> {
        let res = self.send(req).await?;
        let status = res.status().as_u16();
        let body = res.into_body();
        if !(200..300).contains(&status) {
            let bytes = body.collect().await.map_err(|e| self.lost(&e))?.to_bytes();
            return match Error::from_status(status, &bytes) {
                Error::Api { code: 410, .. } => {
                    Ok(Box::pin(futures::stream::iter([Ok(WatchEvent::Expired)])))
                }
                e => Err(e),
            };
        }
        // (body, bytes not yet split into lines, events decoded but not yet yielded)
        let state = (
            body,
            Vec::<u8>::new(),
            std::collections::VecDeque::<WatchEvent>::new(),
        );
        Ok(Box::pin(futures::stream::unfold(
            Some(state),
            move |state| async move {
                let (mut body, mut buf, mut ready) = state?;
                loop {
                    if let Some(e) = ready.pop_front() {
                        return Some((Ok(e), Some((body, buf, ready))));
                    }
                    let frame = match body.frame().await {
                        None => return None,
                        Some(Err(e)) => return Some((Err(self.lost(&e)), None)),
                        Some(Ok(f)) => f,
                    };
                    let Ok(data) = frame.into_data() else {
                        continue;
                    };
                    buf.extend_from_slice(&data);
                    while let Some(end) = buf.iter().position(|b| *b == b'\n') {
                        let line: Vec<u8> = buf.drain(..=end).collect();
                        if let Some(e) = decode_watch_event(&line) {
                            ready.push_back(e);
                        }
                    }
                }
            },
        )))
    }

    /// Reads a watch stream until its first event: `Some` for a write or a delete, `None` when
    /// the stream cannot say (it ended, or the server could not start at the version asked).
    async fn watch_one(&self, req: http::Request<Vec<u8>>) -> Result<Option<Observed>> {
        let mut events = self.open_watch(req).await?;
        while let Some(event) = events.next().await {
            if let Some(seen) = first_change(&event?) {
                return Ok(seen);
            }
        }
        Ok(None)
    }
}

/// What one event of a one-object watch says: `Some(Some(_))` a write or a delete, `Some(None)`
/// that the watch cannot tell (410 Gone, or an error status: poll instead), `None` nothing yet
/// (a bookmark).
fn first_change(event: &WatchEvent) -> Option<Option<Observed>> {
    match event {
        WatchEvent::Added(_) | WatchEvent::Modified(_) => Some(Some(Observed::Changed)),
        WatchEvent::Deleted(_) => Some(Some(Observed::Deleted)),
        WatchEvent::Expired => Some(None),
        WatchEvent::Bookmark(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Source chains as kube, hyper and rustls produce them (outermost first), and the one line
    /// a user reads (issue 20: kubectl names the server; nested client wrappers say nothing).
    #[test]
    fn connection_errors_name_the_server_and_the_cause() {
        let at = "the server 127.0.0.1:9 (context kit)";
        let cases: [(&str, &[&str], &str); 5] = [
            (
                "refused",
                &["ServiceError: client error (Connect)", "client error (Connect)", "tcp connect error", "Connection refused (os error 111)"],
                "the connection to the server 127.0.0.1:9 (context kit) was refused - did you specify the right host or port?",
            ),
            (
                "unknown CA",
                &["ServiceError: client error (Connect)", "invalid peer certificate: UnknownIssuer"],
                "unable to connect to the server 127.0.0.1:9 (context kit): tls: failed to verify certificate: x509: certificate signed by unknown authority",
            ),
            (
                "expired certificate",
                &["ServiceError: client error (Connect)", "invalid peer certificate: Expired"],
                "unable to connect to the server 127.0.0.1:9 (context kit): tls: failed to verify certificate: x509: certificate has expired or is not yet valid",
            ),
            (
                "black hole",
                &["ServiceError: client error (Connect)", "operation timed out"],
                "unable to connect to the server 127.0.0.1:9 (context kit): dial tcp 127.0.0.1:9: i/o timeout",
            ),
            (
                "anything else: the innermost cause",
                &["ServiceError: client error (SendRequest)", "connection closed before message completed"],
                "unable to connect to the server 127.0.0.1:9 (context kit): connection closed before message completed",
            ),
        ];
        for (case, chain, want) in cases {
            let chain: Vec<String> = chain.iter().map(|s| s.to_string()).collect();
            assert_eq!(connect_message(at, "127.0.0.1:9", &chain), want, "{case}");
        }
    }

    /// A one-object watch ([`KubeCluster::wait_for_change`]) answers at its first write or
    /// delete, falls back to polling when the watch cannot tell, and reads on past bookmarks.
    #[test]
    fn first_change_of_a_watched_object() {
        let line = |json: &str| decode_watch_event(json.as_bytes()).expect("an event");
        let cases = [
            (r#"{"type":"ADDED","object":{}}"#, Some(Some(Observed::Changed))),
            (
                r#"{"type":"MODIFIED","object":{}}"#,
                Some(Some(Observed::Changed)),
            ),
            (r#"{"type":"DELETED","object":{}}"#, Some(Some(Observed::Deleted))),
            (
                r#"{"type":"ERROR","object":{"kind":"Status","code":410}}"#,
                Some(None),
            ),
            (
                r#"{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"7"}}}"#,
                None,
            ),
        ];
        for (json, want) in cases {
            assert_eq!(first_change(&line(json)), want, "{json}");
        }
    }

    #[test]
    fn backoff_doubles_caps_and_honours_retry_after() {
        let p = RetryPolicy {
            max_retries: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        };
        let cases = [
            ("first", 0, None, 100),
            ("third", 2, None, 400),
            ("capped", 6, None, 1000),
            ("retry-after", 0, Some(1), 1000),
            ("retry-after capped", 0, Some(30), 1000),
        ];
        for (name, attempt, ra, want_ms) in cases {
            assert_eq!(p.delay(attempt, ra), Duration::from_millis(want_ms), "{name}");
        }
    }

    /// A server without aggregated discovery (before Kubernetes 1.26, or with it switched off),
    /// over plain HTTP: answers `path → (status, body)`, one request per connection, and logs
    /// every path asked for.
    async fn legacy_server(answers: Vec<(&'static str, u16, Value)>) -> (String, Arc<Mutex<Vec<String>>>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let log = Arc::new(Mutex::new(Vec::new()));
        let seen = log.clone();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let (answers, seen) = (answers.clone(), seen.clone());
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match conn.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let text = String::from_utf8_lossy(&head);
                    let path = text.split(' ').nth(1).unwrap_or("").to_string();
                    lock(&seen).push(path.clone());
                    let (status, body) = answers
                        .iter()
                        .find(|(p, _, _)| *p == path)
                        .map(|(_, s, b)| (*s, b.to_string()))
                        .unwrap_or((404, r#"{"kind":"Status","reason":"NotFound","code":404}"#.into()));
                    let reply = format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = conn.write_all(reply.as_bytes()).await;
                });
            }
        });
        (url, log)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn legacy_discovery_tolerates_a_failing_group_version_and_fills_the_cache() {
        let resources = |gv: &str, kind: &str, plural: &str| {
            serde_json::json!({"kind": "APIResourceList", "groupVersion": gv, "resources": [
                {"name": plural, "namespaced": true, "kind": kind, "verbs": ["get", "list"]}]})
        };
        let (url, log) = legacy_server(vec![
            ("/version", 200, serde_json::json!({"major": "1", "minor": "25", "gitVersion": "v1.25.16"})),
            ("/api", 200, serde_json::json!({"kind": "APIVersions", "versions": ["v1"]})),
            ("/apis", 200, serde_json::json!({"kind": "APIGroupList", "groups": [
                {"name": "apps", "versions": [{"groupVersion": "apps/v1", "version": "v1"}]},
                {"name": "metrics.k8s.io", "versions": [{"groupVersion": "metrics.k8s.io/v1beta1", "version": "v1beta1"}]}]})),
            ("/api/v1", 200, resources("v1", "ConfigMap", "configmaps")),
            ("/apis/apps/v1", 200, resources("apps/v1", "Deployment", "deployments")),
            // An APIService whose backend is down.
            ("/apis/metrics.k8s.io/v1beta1", 503, serde_json::json!({"kind": "Status", "reason": "ServiceUnavailable", "code": 503})),
        ])
        .await;
        let dir = std::env::temp_dir().join(format!("kc-legacy-discovery-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let kubeconfig = dir.join("config");
        let config = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {url}\n\
             users:\n- name: u\n  user: {{}}\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\n\
             current-context: x\n"
        );
        std::fs::write(&kubeconfig, config).expect("kubeconfig");
        let cluster = KubeCluster::connect(&ConnectOptions {
            kubeconfig: Some(kubeconfig),
            retry: RetryPolicy {
                max_retries: 0,
                ..RetryPolicy::default()
            },
            ..ConnectOptions::default()
        })
        .await
        .expect("connect");
        let caps = cluster
            .capabilities()
            .await
            .expect("a failing group-version is no error");
        assert_eq!(
            (
                caps.git_version.as_str(),
                caps.major.as_str(),
                caps.minor.as_str()
            ),
            ("v1.25.16", "1", "25")
        );
        // Helm keeps the failing group-version itself (it is in the group list), not its kinds.
        assert_eq!(
            caps.api_versions,
            [
                "apps/v1",
                "apps/v1/Deployment",
                "metrics.k8s.io/v1beta1",
                "v1",
                "v1/ConfigMap"
            ]
        );
        assert_eq!(caps.failed.keys().collect::<Vec<_>>(), ["metrics.k8s.io/v1beta1"]);
        // Kinds resolve from what discovery read: no request more.
        let asked = lock(&log).len();
        let info = cluster
            .resolve(&Gvk::new("apps/v1", "Deployment"))
            .await
            .expect("resolve");
        assert_eq!(info.plural, "deployments");
        assert_eq!(lock(&log).len(), asked, "resolve asked again: {:?}", lock(&log));
        let mut paths = lock(&log).clone();
        paths.sort();
        assert_eq!(
            paths,
            [
                "/api",
                "/api/v1",
                "/apis",
                "/apis/apps/v1",
                "/apis/metrics.k8s.io/v1beta1",
                "/version"
            ]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn list_items_get_kind_and_api_version() {
        // `GET /api/v1/namespaces/x/configmaps` as kube-apiserver sends it: items without kind.
        let list = serde_json::json!({"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"7"},
            "items":[{"metadata":{"name":"a"}}]});
        let l = into_object_list(list, &Gvk::new("v1", "ConfigMap"));
        assert_eq!(l.kind, "ConfigMapList");
        assert_eq!(l.items[0]["kind"], "ConfigMap");
        assert_eq!(l.items[0]["apiVersion"], "v1");
        assert_eq!(l.metadata["resourceVersion"], "7");
    }
}
