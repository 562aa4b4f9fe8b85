//! The cluster edge: everything the engine asks of a Kubernetes API server, behind one narrow trait.
//!
//! The engine (`apply`, `release`, `action`) holds an `Arc<dyn Cluster>` and never sees `kube::`;
//! objects cross this boundary as plain `serde_json::Value`s, so the diff and the release store stay
//! pure data. Implementations:
//!
//! - [`KubeCluster`] (`kube.rs`): the real API server through `kube::Client`, connected from a kubeconfig
//!   exactly as kubectl does ([`ConnectOptions`]), with bounded concurrency, retries and timeouts.
//! - [`FakeCluster`] (`memory.rs`): an in-memory stand-in with injectable errors and a call log, for
//!   unit tests of apply/release logic (helm's `FailingKubeClient` plays the same role).
//! - [`ClusterLookup`] (`lookup.rs`): Helm's `lookup` template function on top of any `Cluster`.
//!
//! Start with [`Cluster`]; its doc comments state each method's contract. Only this module may
//! `use kube::` (CI greps for it).

mod client;
mod discovery;
mod kube;
mod kubeconfig;
mod lookup;
// The test double: built for unit tests, and for integration tests through the `testing`
// feature, never into the binary.
#[cfg(any(test, feature = "testing"))]
mod memory;

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use serde_json::Value;

pub use self::discovery::{
    builtin_resources, list_map_keys_from_openapi, Discovered, ListInfo, ServerCapabilities,
};
pub use self::kube::{ConnectOptions, KubeCluster, RetryPolicy};
pub use self::lookup::ClusterLookup;
#[cfg(any(test, feature = "testing"))]
pub use self::memory::{Call, FakeCluster, Method};

/// Group, version and kind of an object: what `apiVersion` + `kind` say.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Gvk {
    /// API group, empty for the core group (`v1`).
    pub group: String,
    /// API version inside the group, such as `v1`.
    pub version: String,
    /// Kind, such as `ConfigMap`.
    pub kind: String,
}

impl Gvk {
    /// Splits an `apiVersion` (`apps/v1`, or `v1` for the core group) and pairs it with `kind`.
    pub fn new(api_version: &str, kind: &str) -> Self {
        let (group, version) = match api_version.split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", api_version),
        };
        Gvk {
            group: group.to_string(),
            version: version.to_string(),
            kind: kind.to_string(),
        }
    }

    /// The `apiVersion` string: `group/version`, or just `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Reads `apiVersion` and `kind` from an object.
    pub fn of(object: &Value) -> Result<Self, Error> {
        let api_version = object.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
        if api_version.is_empty() || kind.is_empty() {
            return Err(Error::Invalid("object has no apiVersion or kind".to_string()));
        }
        Ok(Gvk::new(api_version, kind))
    }
}

impl fmt::Display for Gvk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // As Go's `schema.GroupVersionKind.String()` prints it: `/v1, Kind=ConfigMap` for the core group.
        write!(f, "{}/{}, Kind={}", self.group, self.version, self.kind)
    }
}

/// What discovery knows about a kind: the REST resource that serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiResourceInfo {
    /// The kind this resource serves.
    pub gvk: Gvk,
    /// Plural resource name used in URLs (`configmaps`).
    pub plural: String,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// Verbs the server allows (`get`, `list`, `create`, `patch`, `delete`, ...).
    pub verbs: Vec<String>,
}

/// A list answer: the list's own `apiVersion`/`kind`/`metadata` and its items, each carrying
/// `apiVersion` and `kind` (the server leaves them out of items; client-go fills them in, and so do we).
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectList {
    /// `apiVersion` of the list, such as `v1`.
    pub api_version: String,
    /// Kind of the list, such as `ConfigMapList`.
    pub kind: String,
    /// List metadata (`resourceVersion`).
    pub metadata: Value,
    /// The objects.
    pub items: Vec<Value>,
}

impl ObjectList {
    /// The list as the JSON object the server sent (what Helm's `lookup` returns for an empty name).
    pub fn to_value(&self) -> Value {
        serde_json::json!({
            "apiVersion": self.api_version,
            "kind": self.kind,
            "metadata": self.metadata,
            "items": self.items,
        })
    }
}

/// The body of a PATCH request; each variant is one content type.
#[derive(Debug, Clone, PartialEq)]
pub enum Patch {
    /// RFC 6902 JSON patch: an array of operations (`test` ops make it a compare-and-swap).
    Json(Value),
    /// RFC 7386 JSON merge patch.
    Merge(Value),
    /// Kubernetes strategic merge patch (built-in types only).
    Strategic(Value),
    /// Server-side apply of a full intent object; needs [`WriteOptions::field_manager`].
    Apply(Value),
}

/// Options shared by create and patch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteOptions {
    /// Field manager recorded in `managedFields` (required for server-side apply).
    pub field_manager: Option<String>,
    /// Server-side apply only: take ownership of conflicting fields.
    pub force: bool,
    /// Server-side dry run: validate and default, persist nothing.
    pub dry_run: bool,
}

/// How dependents are deleted (`propagationPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    /// Delete the object now, dependents in the background (the server default for most kinds).
    Background,
    /// Delete dependents first, then the object.
    Foreground,
    /// Leave dependents behind.
    Orphan,
}

/// Options for delete.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteOptions {
    /// Propagation policy; `None` leaves it to the server.
    pub propagation: Option<Propagation>,
    /// Server-side dry run.
    pub dry_run: bool,
    /// Only delete if the object still has this resourceVersion (409 Conflict otherwise).
    pub resource_version: Option<String>,
}

/// A failed cluster operation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The server answered with a failure `Status`; displays as kubectl prints it.
    #[error("{}", api_display(reason, message))]
    Api {
        /// HTTP status code (404, 409, ...).
        code: u16,
        /// The Status `reason` (`NotFound`, `Conflict`, `AlreadyExists`, ...), may be empty.
        reason: String,
        /// The Status `message`.
        message: String,
        /// Seconds the server asked us to wait (`Retry-After` or `details.retryAfterSeconds`).
        retry_after: Option<u64>,
    },
    /// Discovery found no resource serving this kind.
    #[error("no matches for kind \"{}\" in version \"{}\"", .0.kind, .0.api_version())]
    UnknownKind(Gvk),
    /// The request never got an answer (connection refused or dropped, TLS, DNS): one line
    /// naming the server and the kubeconfig context, as kubectl's (see `KubeCluster`).
    #[error("{0}")]
    Connect(String),
    /// No answer within the request timeout.
    #[error("the request timed out after {0:?}")]
    Timeout(std::time::Duration),
    /// The kubeconfig or in-cluster configuration could not be loaded.
    #[error("{0}")]
    Config(String),
    /// The caller passed something the API cannot take (no name, bad patch body).
    #[error("{0}")]
    Invalid(String),
    /// The server's answer could not be decoded.
    #[error("decoding the server's answer: {0}")]
    Decode(String),
}

fn api_display(reason: &str, message: &str) -> String {
    // kubectl's words for rejected credentials (an expired or revoked token, a client
    // certificate the server does not trust); the server's own message says only "Unauthorized".
    if reason == "Unauthorized" {
        return "you must be logged in to the server (Unauthorized): the server rejected the \
                credentials (an expired or invalid token or client certificate)"
            .to_string();
    }
    if reason.is_empty() || reason == "Unknown" {
        format!("Error from server: {message}")
    } else {
        format!("Error from server ({reason}): {message}")
    }
}

impl Error {
    /// Builds an API error from a `Status` body (or any body) and the HTTP status code.
    pub fn from_status(code: u16, body: &[u8]) -> Self {
        let status: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let text = |k: &str| status.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let mut reason = text("reason");
        let mut message = text("message");
        if status.get("kind").and_then(Value::as_str) != Some("Status") {
            // Not a Status (a proxy or a dying server): client-go's generic server response messages.
            let raw = String::from_utf8_lossy(body).trim().to_string();
            reason = String::new();
            message = match code {
                500 => format!("an error on the server ({raw:?}) has prevented the request from succeeding"),
                429 => "the server has received too many requests and has asked us to try again later".into(),
                503 => "the server is currently unable to handle the request".into(),
                404 => "the server could not find the requested resource".into(),
                409 => "the server reported a conflict".into(),
                _ => String::new(),
            };
        }
        if reason.is_empty() {
            reason = default_reason(code).to_string();
        }
        if message.is_empty() {
            message = format!(
                "the server responded with the status code {code} but did not return more information"
            );
        }
        let retry_after = status
            .pointer("/details/retryAfterSeconds")
            .and_then(Value::as_u64);
        Error::Api {
            code,
            reason,
            message,
            retry_after,
        }
    }

    /// The HTTP status code of an API error.
    pub fn code(&self) -> Option<u16> {
        match self {
            Error::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    fn reason_is(&self, want: &str, want_code: u16) -> bool {
        match self {
            Error::Api { code, reason, .. } => reason == want || (reason.is_empty() && *code == want_code),
            _ => false,
        }
    }

    /// 404 NotFound.
    pub fn is_not_found(&self) -> bool {
        self.reason_is("NotFound", 404)
    }

    /// 409 Conflict (a stale resourceVersion or an apply conflict).
    pub fn is_conflict(&self) -> bool {
        self.reason_is("Conflict", 409)
    }

    /// 409 AlreadyExists (create of an existing name).
    pub fn is_already_exists(&self) -> bool {
        matches!(self, Error::Api { reason, .. } if reason == "AlreadyExists")
    }
}

/// Reasons the API machinery uses when a Status carries none (`k8s.io/apimachinery` `errors.go`).
fn default_reason(code: u16) -> &'static str {
    match code {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        406 => "NotAcceptable",
        409 => "Conflict",
        410 => "Expired",
        413 => "RequestEntityTooLarge",
        415 => "UnsupportedMediaType",
        422 => "Invalid",
        429 => "TooManyRequests",
        500 => "InternalError",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "",
    }
}

/// Short name for results of cluster operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What [`Cluster::wait_for_change`] saw happen to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observed {
    /// It was written: its `resourceVersion` moved on.
    Changed,
    /// It was deleted (or was already gone).
    Deleted,
    /// Nothing happened to it in the time given.
    Unchanged,
}

/// One event of a [`Cluster::watch`] stream (the server's `WatchEvent`, decoded).
#[derive(Debug, Clone, PartialEq)]
pub enum WatchEvent {
    /// An object was created (or was there when the watch started from no version).
    Added(Value),
    /// An object was written.
    Modified(Value),
    /// An object was deleted; the value is its last state.
    Deleted(Value),
    /// The server has sent everything up to this resourceVersion (`BOOKMARK`): a watch restarted
    /// from here misses nothing.
    Bookmark(String),
    /// The server no longer keeps the version the watch started from (410 Gone): list again.
    Expired,
}

/// What [`Cluster::watch`] returns: events in the server's order, ending when the server closes
/// the watch (its timeout); an `Err` item ends it too.
pub type WatchStream<'a> = std::pin::Pin<Box<dyn futures::Stream<Item = Result<WatchEvent>> + Send + 'a>>;

/// How often [`poll_for_change`] reads the object again.
const POLL_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// [`Cluster::wait_for_change`] by reading the object every [`POLL_EVERY`]: for implementations
/// without a watch, and for a watch the server cannot start at that version.
pub(crate) async fn poll_for_change<C: Cluster + ?Sized>(
    cluster: &C,
    gvk: &Gvk,
    namespace: Option<&str>,
    name: &str,
    resource_version: &str,
    within: std::time::Duration,
) -> Result<Observed> {
    poll_observed(resource_version, within, POLL_EVERY, || async {
        match cluster.get(gvk, namespace, name).await {
            Ok(o) => Ok(Some(
                o.pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            )),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    })
    .await
}

/// The one polling loop behind every "wait for this object to change" without a watch: `read`
/// gives the object's version now (`None`: it is gone) every `every`, until it differs from
/// `version` ([`Observed::Changed`]), the object is gone ([`Observed::Deleted`]) or `within`
/// passed ([`Observed::Unchanged`]).
pub(crate) async fn poll_observed<E, F, Fut>(
    version: &str,
    within: std::time::Duration,
    every: std::time::Duration,
    mut read: F,
) -> std::result::Result<Observed, E>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = std::result::Result<Option<String>, E>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match read().await? {
            None => return Ok(Observed::Deleted),
            Some(now) if now != version => return Ok(Observed::Changed),
            Some(_) => {}
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Ok(Observed::Unchanged);
        }
        tokio::time::sleep(every.min(deadline - now)).await;
    }
}

/// The operations the engine needs from a cluster. Object-safe: hold it as `Arc<dyn Cluster>`.
///
/// Namespaces: for namespaced kinds, `get`/`patch`/`delete` with `namespace: None`, and `create` of
/// an object without `metadata.namespace`, use [`Cluster::default_namespace`] (as kubectl does);
/// `list` with `None` lists across all namespaces (as Helm's `lookup` does). For cluster-scoped
/// kinds the namespace is ignored.
#[async_trait]
pub trait Cluster: Send + Sync {
    /// The namespace from `--namespace`, else the kubeconfig context, else `default`.
    fn default_namespace(&self) -> &str;

    /// The API server (`host:port`) and the kubeconfig context this connection was made with, so
    /// a saved plan can name where it was made and refuse to run anywhere else; empty strings for
    /// implementations that know no server.
    fn endpoint(&self) -> (String, String) {
        (String::new(), String::new())
    }

    /// The server's version (`GET /version` `gitVersion`, e.g. `v1.32.13`), for
    /// `.Capabilities.KubeVersion`. Implementations without a server answer `None`.
    async fn server_version(&self) -> Result<Option<String>> {
        Ok(None)
    }

    /// Everything the server serves and its version, for `.Capabilities` (Helm's
    /// `getCapabilities`): read fresh from the server, once per call. Group-versions whose
    /// discovery fails are tolerated and listed in [`ServerCapabilities::failed`]; failing to
    /// read the version or the group list is an error. Implementations that keep a discovery
    /// cache fill it from this answer, so [`Cluster::resolve`] asks nothing more. The default
    /// knows no server and fails.
    async fn capabilities(&self) -> Result<ServerCapabilities> {
        Err(Error::Invalid("this cluster has no discovery".to_string()))
    }

    /// Discovery: the resource serving `gvk`. Cached for the life of the value; a kind that is not
    /// found triggers one refresh of its group-version (for CRDs created during the run), then
    /// [`Error::UnknownKind`].
    async fn resolve(&self, gvk: &Gvk) -> Result<ApiResourceInfo>;

    /// The server's whole OpenAPI v3 schema: every group-version document its `/openapi/v3`
    /// index lists (built-in kinds and CRDs), for `lint --validate`. The default knows no server.
    async fn openapi_v3_documents(&self) -> Result<Vec<Value>> {
        Err(Error::Invalid(
            "this cluster serves no OpenAPI schema".to_string(),
        ))
    }

    /// List-type annotations of `gvk`'s schema from the server's OpenAPI v3 document, keyed by
    /// field path (see [`ListInfo`]); `Ok(None)` when the server publishes no schema for it.
    async fn list_info(&self, gvk: &Gvk) -> Result<Option<BTreeMap<String, ListInfo>>>;

    /// One object. Not found is `Err` with [`Error::is_not_found`].
    async fn get(&self, gvk: &Gvk, namespace: Option<&str>, name: &str) -> Result<Value>;

    /// Objects of a kind, optionally filtered by a label selector (`app=web,tier!=db`).
    async fn list(
        &self,
        gvk: &Gvk,
        namespace: Option<&str>,
        label_selector: Option<&str>,
    ) -> Result<ObjectList>;

    /// [`Cluster::list`] of the objects' metadata only (a `PartialObjectMetadataList`): for callers
    /// that read labels and annotations, so large bodies (release records) stay on the server.
    /// Items carry `apiVersion` and `kind` of `gvk`, and `metadata`. The default lists whole
    /// objects and drops the rest.
    async fn list_metadata(
        &self,
        gvk: &Gvk,
        namespace: Option<&str>,
        label_selector: Option<&str>,
    ) -> Result<ObjectList> {
        let mut list = self.list(gvk, namespace, label_selector).await?;
        for item in &mut list.items {
            if let Some(m) = item.as_object_mut() {
                m.retain(|k, _| matches!(k.as_str(), "apiVersion" | "kind" | "metadata"));
            }
        }
        Ok(list)
    }

    /// [`Cluster::list`] (with `metadata_only`, [`Cluster::list_metadata`]) of a state no older
    /// than `resource_version` (one this run's own write returned), where a consistent list is
    /// not needed: the API server answers it from its cache as soon as the cache holds that
    /// write, where a plain list waits for the cache to catch up with the newest write to any
    /// kind (up to ~100 ms while controllers write, as after an uninstall's deletes). The
    /// default is the plain list, never older.
    async fn list_since(
        &self,
        gvk: &Gvk,
        namespace: Option<&str>,
        label_selector: Option<&str>,
        resource_version: &str,
        metadata_only: bool,
    ) -> Result<ObjectList> {
        let _ = resource_version;
        match metadata_only {
            true => self.list_metadata(gvk, namespace, label_selector).await,
            false => self.list(gvk, namespace, label_selector).await,
        }
    }

    /// Creates `object` (kind, name and namespace from the object itself); returns what the server
    /// stored (or would store, with `dry_run`). Never retried: a lost answer may hide a success.
    async fn create(&self, object: &Value, opts: &WriteOptions) -> Result<Value>;

    /// Patches one object; returns the result. Never retried blindly, for the same reason as create.
    async fn patch(
        &self,
        gvk: &Gvk,
        namespace: Option<&str>,
        name: &str,
        patch: &Patch,
        opts: &WriteOptions,
    ) -> Result<Value>;

    /// Deletes one object. Returns the object as the server answered (still present while
    /// finalizers or foreground deletion run) or a Status; not found is an error.
    async fn delete(
        &self,
        gvk: &Gvk,
        namespace: Option<&str>,
        name: &str,
        opts: &DeleteOptions,
    ) -> Result<Value>;

    /// Deletes, in one request, every object of a kind in `namespace` whose labels match
    /// `label_selector` (`k=v`, `k!=v`, `k`, `!k` terms). The server deletes them one at a time,
    /// in an order the API does not promise; objects of other namespaces are never touched. The
    /// default lists them and deletes each (one is already gone: not an error).
    async fn delete_collection(
        &self,
        gvk: &Gvk,
        namespace: &str,
        label_selector: &str,
        opts: &DeleteOptions,
    ) -> Result<()> {
        let list = self
            .list_metadata(gvk, Some(namespace), Some(label_selector))
            .await?;
        for item in &list.items {
            let name = item
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            match self.delete(gvk, Some(namespace), name, opts).await {
                Ok(_) => {}
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Watches one object, last seen at `resource_version`, for at most `within`: answers as
    /// soon as it is written ([`Observed::Changed`]) or deleted, else [`Observed::Unchanged`]
    /// once `within` has passed. Time is measured by this process alone, so what it reports
    /// does not depend on any clock agreeing with another machine's (the release lock decides
    /// whether its holder is alive from this). The default polls [`Cluster::get`].
    async fn wait_for_change(
        &self,
        gvk: &Gvk,
        namespace: Option<&str>,
        name: &str,
        resource_version: &str,
        within: std::time::Duration,
    ) -> Result<Observed> {
        poll_for_change(self, gvk, namespace, name, resource_version, within).await
    }

    /// Watches every object of `gvk` in `namespace` (all namespaces with `None`, as
    /// [`Cluster::list`]) from `resource_version`, which is a list's `metadata.resourceVersion`
    /// or the last event's: the server sends each later write as it happens, and ends the
    /// stream after about `within` (callers watch again from the last version they saw). The
    /// default has no watch and fails with [`Error::Invalid`]; callers then poll with `list`.
    async fn watch<'a>(
        &'a self,
        gvk: &Gvk,
        namespace: Option<&str>,
        resource_version: &str,
        within: std::time::Duration,
    ) -> Result<WatchStream<'a>> {
        let _ = (gvk, namespace, resource_version, within);
        Err(Error::Invalid("this cluster cannot watch".to_string()))
    }

    /// The log of one container of a pod (`kubectl logs --tail`): its last `tail_lines` lines
    /// (all with `None`), as text. `container` may be `None` for a pod with one container.
    /// Clusters without kubelets answer with an error, which callers report as "logs
    /// unavailable".
    async fn pod_log(
        &self,
        namespace: &str,
        pod: &str,
        container: Option<&str>,
        tail_lines: Option<i64>,
    ) -> Result<String> {
        let _ = (namespace, pod, container, tail_lines);
        Err(Error::Invalid("this cluster has no pod logs".to_string()))
    }
}

/// The namespace and name of `object`, failing with a message when there is no name.
pub(crate) fn name_of(object: &Value) -> Result<(Option<String>, String)> {
    let meta = object.get("metadata");
    let name = meta
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("");
    if name.is_empty() {
        return Err(Error::Invalid("object has no metadata.name".to_string()));
    }
    let ns = meta
        .and_then(|m| m.get("namespace"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    Ok((ns.map(str::to_string), name.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gvk_from_api_version() {
        let cases = [
            ("core", "v1", "ConfigMap", "", "v1"),
            ("grouped", "apps/v1", "Deployment", "apps", "v1"),
            ("crd", "example.com/v1alpha1", "Widget", "example.com", "v1alpha1"),
        ];
        for (name, av, kind, group, version) in cases {
            let g = Gvk::new(av, kind);
            assert_eq!((g.group.as_str(), g.version.as_str()), (group, version), "{name}");
            assert_eq!(g.api_version(), av, "{name}");
        }
    }

    #[test]
    fn api_errors_display_like_kubectl() {
        // Bodies and messages as kube-apiserver v1.32 sends them (seen on the kit's server).
        let cases = [
            (
                "not found",
                404,
                r#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"configmaps \"x\" not found","reason":"NotFound","details":{"name":"x","kind":"configmaps"},"code":404}"#,
                r#"Error from server (NotFound): configmaps "x" not found"#,
            ),
            (
                "already exists",
                409,
                r#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"configmaps \"x\" already exists","reason":"AlreadyExists","code":409}"#,
                r#"Error from server (AlreadyExists): configmaps "x" already exists"#,
            ),
            (
                "plain body",
                500,
                "boom",
                r#"Error from server (InternalError): an error on the server ("boom") has prevented the request from succeeding"#,
            ),
        ];
        for (name, code, body, want) in cases {
            let e = Error::from_status(code, body.as_bytes());
            assert_eq!(e.to_string(), want, "{name}");
        }
        assert!(Error::from_status(404, b"").is_not_found());
        let exists = Error::from_status(409, br#"{"kind":"Status","reason":"AlreadyExists"}"#);
        assert!(exists.is_already_exists() && !exists.is_conflict());
        assert!(Error::from_status(409, br#"{"kind":"Status","reason":"Conflict"}"#).is_conflict());
    }

    #[test]
    fn retry_after_from_status_details() {
        let e = Error::from_status(
            429,
            br#"{"kind":"Status","reason":"TooManyRequests","details":{"retryAfterSeconds":2}}"#,
        );
        assert!(matches!(
            e,
            Error::Api {
                retry_after: Some(2),
                ..
            }
        ));
    }
}
