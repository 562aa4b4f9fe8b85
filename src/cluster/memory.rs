//! [`FakeCluster`]: an in-memory [`Cluster`] for fast unit tests of apply, release and action logic.
//!
//! It keeps objects in a map and mimics the API server where callers depend on it, with answers taken
//! from kube-apiserver v1.32: a resourceVersion counter, `AlreadyExists` on create, `NotFound`, 409
//! `Conflict` when a write carries a stale `metadata.resourceVersion`, 422 `Invalid` when a JSON-patch
//! `test` op fails, dry runs that store nothing. Server-side apply is approximated by a merge patch
//! (no field ownership, so no apply conflicts), and there is no defaulting, validation or garbage
//! collection: tests of those belong against the real control plane.
//!
//! Errors can be injected per method (helm's `FailingKubeClient`), and every call is logged.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use async_trait::async_trait;
use serde_json::{json, Value};

use super::discovery::{Discovered, ListInfo, ServerCapabilities};
use super::{
    name_of, ApiResourceInfo, Cluster, DeleteOptions, Error, Gvk, ObjectList, Observed, Patch, Result,
    WatchEvent, WatchStream, WriteOptions,
};

/// A [`Cluster`] method, for error injection and the call log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// [`Cluster::capabilities`] (logged with an empty kind).
    Capabilities,
    /// [`Cluster::resolve`].
    Resolve,
    /// [`Cluster::get`].
    Get,
    /// [`Cluster::list`].
    List,
    /// [`Cluster::create`].
    Create,
    /// [`Cluster::patch`].
    Patch,
    /// [`Cluster::delete`].
    Delete,
    /// [`Cluster::delete_collection`] (logged with the label selector as its name).
    DeleteCollection,
    /// [`Cluster::wait_for_change`] (logged once, when the wait starts).
    Watch,
    /// [`Cluster::watch`] of a kind (logged once per watch request).
    WatchList,
    /// [`Cluster::pod_log`] (logged with the pod's name).
    Log,
}

/// One logged call.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// Which method.
    pub method: Method,
    /// The kind it addressed.
    pub gvk: Gvk,
    /// The namespace it resolved to (`None` for cluster-scoped kinds and all-namespace lists).
    pub namespace: Option<String>,
    /// The object name (empty for list).
    pub name: String,
    /// Whether it was a server-side dry run.
    pub dry_run: bool,
}

type Key = (Gvk, Option<String>, String);

#[derive(Default)]
struct State {
    /// The `GET /version` answer; see [`FakeCluster::set_server_version`].
    version: Value,
    kinds: BTreeMap<Gvk, ApiResourceInfo>,
    objects: BTreeMap<Key, Value>,
    revision: u64,
    injected: VecDeque<(Method, Option<String>, Error)>,
    calls: Vec<Call>,
    uid: u64,
    /// Every stored write, in order, with the revision it made: what [`Cluster::watch`] replays.
    history: Vec<(u64, Key, WatchEvent)>,
    /// Pod logs by namespace, pod and container; see [`FakeCluster::set_pod_log`].
    logs: BTreeMap<(String, String, String), String>,
}

/// An in-memory cluster. Knows the common built-in kinds; add others with [`FakeCluster::add_kind`].
pub struct FakeCluster {
    namespace: String,
    state: Mutex<State>,
    /// Woken on every stored write, for [`Cluster::wait_for_change`].
    written: tokio::sync::Notify,
}

impl std::fmt::Debug for FakeCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeCluster")
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

impl Default for FakeCluster {
    fn default() -> Self {
        Self::new("default")
    }
}

impl FakeCluster {
    /// An empty cluster whose default namespace is `namespace`.
    pub fn new(namespace: &str) -> Self {
        let fake = FakeCluster {
            namespace: namespace.to_string(),
            state: Mutex::default(),
            written: tokio::sync::Notify::new(),
        };
        // The built-in kinds a real server serves, as the cluster layer maps them without asking.
        for info in super::discovery::builtin_resources() {
            fake.add_kind(
                &info.gvk.api_version(),
                &info.gvk.kind,
                &info.plural,
                info.namespaced,
            );
        }
        fake.set_server_version("v1.32.0", "1", "32");
        fake
    }

    /// What `GET /version` answers (default `v1.32.0`, major `1`, minor `32`).
    pub fn set_server_version(&self, git_version: &str, major: &str, minor: &str) {
        self.state().version = json!({"major": major, "minor": minor, "gitVersion": git_version});
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes a kind known to discovery (a CRD's kind, say).
    pub fn add_kind(&self, api_version: &str, kind: &str, plural: &str, namespaced: bool) {
        let gvk = Gvk::new(api_version, kind);
        let verbs = ["create", "delete", "get", "list", "patch", "update", "watch"]
            .map(String::from)
            .to_vec();
        let info = ApiResourceInfo {
            gvk: gvk.clone(),
            plural: plural.to_string(),
            namespaced,
            verbs,
        };
        self.state().kinds.insert(gvk, info);
    }

    /// Stores `object` as if it had been created or written by someone else (no call logged, no
    /// injection applied); an existing object of that name keeps its uid and is replaced whole,
    /// which watches see as a modification (a controller's status update, in tests).
    pub fn insert(&self, object: Value) -> Result<Value> {
        let mut st = self.state();
        let (key, _) = self.key_of(&st, &object)?;
        let uid = st
            .objects
            .get(&key)
            .and_then(|o| o.pointer("/metadata/uid").cloned());
        let stored = stamp(&mut st, object, uid);
        store(&mut st, key, stored.clone());
        self.written.notify_waiters();
        Ok(stored)
    }

    /// What [`Cluster::pod_log`] answers for this container (others fail as a kubelet-less
    /// server does).
    pub fn set_pod_log(&self, namespace: &str, pod: &str, container: &str, text: &str) {
        self.state().logs.insert(
            (namespace.to_string(), pod.to_string(), container.to_string()),
            text.to_string(),
        );
    }

    /// Makes the next call of `method` fail with `error`; with `name`, only a call for that object
    /// name. Injections are consumed in the order they were added.
    pub fn inject(&self, method: Method, name: Option<&str>, error: Error) {
        self.state()
            .injected
            .push_back((method, name.map(str::to_string), error));
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.state().calls.clone()
    }

    /// The versions that creates and updates of objects named `name` returned, oldest first
    /// (deletes left out): what a caller of the write saw as `metadata.resourceVersion`.
    pub fn write_versions(&self, name: &str) -> Vec<String> {
        self.state()
            .history
            .iter()
            .filter(|(_, key, ev)| key.2 == name && !matches!(ev, WatchEvent::Deleted(_)))
            .map(|(rev, _, _)| rev.to_string())
            .collect()
    }

    /// Every stored object, ordered by kind, namespace and name.
    pub fn objects(&self) -> Vec<Value> {
        self.state().objects.values().cloned().collect()
    }

    fn key_of(&self, st: &State, object: &Value) -> Result<(Key, bool)> {
        let gvk = Gvk::of(object)?;
        let info = kind_info(st, &gvk).ok_or_else(|| Error::UnknownKind(gvk.clone()))?;
        let (ns, name) = name_of(object)?;
        let ns = if info.namespaced {
            Some(ns.unwrap_or_else(|| self.namespace.clone()))
        } else {
            None
        };
        Ok(((gvk, ns, name), info.namespaced))
    }

    /// [`Cluster::list`], logged with `logged_name` as the call's name.
    fn list_logged_as(
        &self,
        gvk: &Gvk,
        namespace: Option<&str>,
        label_selector: Option<&str>,
        logged_name: &str,
    ) -> Result<ObjectList> {
        let mut st = self.state();
        let (_, ns) = self.enter(&mut st, Method::List, gvk, namespace, logged_name, false)?;
        let items = st
            .objects
            .iter()
            .filter(|((g, n, _), o)| {
                g == gvk
                    && (ns.is_none() || *n == ns)
                    && label_selector.is_none_or(|s| matches_selector(o, s))
            })
            .map(|(_, o)| o.clone())
            .collect();
        Ok(ObjectList {
            api_version: gvk.api_version(),
            kind: format!("{}List", gvk.kind),
            metadata: json!({"resourceVersion": st.revision.to_string()}),
            items,
        })
    }

    /// Logs the call, resolves the namespace, and fires an injected error if one matches.
    fn enter(
        &self,
        st: &mut State,
        method: Method,
        gvk: &Gvk,
        namespace: Option<&str>,
        name: &str,
        dry_run: bool,
    ) -> Result<(ApiResourceInfo, Option<String>)> {
        let info = kind_info(st, gvk);
        let ns = match &info {
            Some(i) if i.namespaced => match (namespace, method) {
                (None, Method::List | Method::WatchList) => None,
                (None, _) => Some(self.namespace.clone()),
                (Some(ns), _) => Some(ns.to_string()),
            },
            _ => None,
        };
        st.calls.push(Call {
            method,
            gvk: gvk.clone(),
            namespace: ns.clone(),
            name: name.to_string(),
            dry_run,
        });
        let hit = st
            .injected
            .iter()
            .position(|(m, n, _)| *m == method && n.as_deref().is_none_or(|n| n == name));
        if let Some(i) = hit {
            if let Some((_, _, e)) = st.injected.remove(i) {
                return Err(e);
            }
        }
        let info = info.ok_or_else(|| Error::UnknownKind(gvk.clone()))?;
        Ok((info, ns))
    }
}

/// What discovery serves for `gvk`: a kind added with [`FakeCluster::add_kind`], else the kind of a
/// stored CRD that is `Established` and serves that version, as the API server starts serving a
/// CRD's resource only once it is established.
fn kind_info(st: &State, gvk: &Gvk) -> Option<ApiResourceInfo> {
    if let Some(info) = st.kinds.get(gvk) {
        return Some(info.clone());
    }
    let crd_gvk = Gvk::new("apiextensions.k8s.io/v1", "CustomResourceDefinition");
    st.objects
        .iter()
        .filter(|((g, _, _), _)| *g == crd_gvk)
        .map(|(_, crd)| crd)
        .find(|crd| {
            let s = |p: &str| crd.pointer(p).and_then(Value::as_str);
            let serves_version = crd
                .pointer("/spec/versions")
                .and_then(Value::as_array)
                .is_none_or(|vs| {
                    vs.iter()
                        .any(|v| v.get("name").and_then(Value::as_str) == Some(&gvk.version))
                });
            s("/spec/group") == Some(&gvk.group)
                && s("/spec/names/kind") == Some(&gvk.kind)
                && serves_version
                && is_established(crd)
        })
        .map(|crd| ApiResourceInfo {
            gvk: gvk.clone(),
            plural: crd
                .pointer("/spec/names/plural")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            namespaced: crd.pointer("/spec/scope").and_then(Value::as_str) != Some("Cluster"),
            verbs: ["create", "delete", "get", "list", "patch", "update", "watch"]
                .map(String::from)
                .to_vec(),
        })
}

/// Whether a CRD has the `Established` condition (the server serves its kind from then on).
fn is_established(crd: &Value) -> bool {
    let conditions = crd.pointer("/status/conditions").and_then(Value::as_array);
    conditions.is_some_and(|cs| {
        cs.iter().any(|c| {
            c.get("type").and_then(Value::as_str) == Some("Established")
                && c.get("status").and_then(Value::as_str) == Some("True")
        })
    })
}

/// Discovery as the server would answer it: one `APIResourceList` per group-version, for the
/// kinds added with [`FakeCluster::add_kind`] and every served version of each established CRD.
fn discovered(st: &State) -> Discovered {
    let verbs = ["create", "delete", "get", "list", "patch", "update", "watch"];
    let mut kinds: Vec<(String, Value)> = st
        .kinds
        .values()
        .map(|i| {
            let entry =
                json!({"name": i.plural, "namespaced": i.namespaced, "kind": i.gvk.kind, "verbs": i.verbs});
            (i.gvk.api_version(), entry)
        })
        .collect();
    let crd_gvk = Gvk::new("apiextensions.k8s.io/v1", "CustomResourceDefinition");
    let crds = st.objects.iter().filter(|((g, _, _), _)| *g == crd_gvk);
    for (_, crd) in crds.filter(|(_, crd)| is_established(crd)) {
        let s = |p: &str| crd.pointer(p).and_then(Value::as_str).unwrap_or("");
        let versions = crd
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten();
        for v in versions.filter(|v| v.get("served").and_then(Value::as_bool) != Some(false)) {
            let version = v.get("name").and_then(Value::as_str).unwrap_or("");
            let entry = json!({"name": s("/spec/names/plural"), "namespaced": s("/spec/scope") != "Cluster",
                "kind": s("/spec/names/kind"), "verbs": verbs});
            kinds.push((format!("{}/{version}", s("/spec/group")), entry));
        }
    }
    let mut out = Discovered::default();
    for (gv, entry) in kinds {
        if !out.resources.contains_key(&gv) {
            out.group_versions.push(gv.clone());
        }
        let list = out.resources.entry(gv.clone()).or_insert_with(
            || json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": []}),
        );
        if let Some(resources) = list.get_mut("resources").and_then(Value::as_array_mut) {
            resources.push(entry);
        }
    }
    out
}

/// Sets resourceVersion (and uid/creationTimestamp-free identity) on a stored object.
fn stamp(st: &mut State, mut object: Value, uid: Option<Value>) -> Value {
    st.revision += 1;
    let rv = st.revision.to_string();
    let uid = uid.unwrap_or_else(|| {
        st.uid += 1;
        Value::String(format!("00000000-0000-0000-0000-{:012}", st.uid))
    });
    if let Some(obj) = object.as_object_mut() {
        let meta = obj.entry("metadata").or_insert_with(|| json!({}));
        if let Some(m) = meta.as_object_mut() {
            m.insert("resourceVersion".into(), Value::String(rv));
            m.insert("uid".into(), uid);
        }
    }
    object
}

/// Puts a stamped object in the store and its event in the watch history.
fn store(st: &mut State, key: Key, object: Value) {
    let rev = st.revision;
    let event = if st.objects.insert(key.clone(), object.clone()).is_some() {
        WatchEvent::Modified(object)
    } else {
        WatchEvent::Added(object)
    };
    st.history.push((rev, key, event));
}

fn api_error(code: u16, reason: &str, message: String) -> Error {
    Error::Api {
        code,
        reason: reason.to_string(),
        message,
        retry_after: None,
    }
}

fn not_found(info: &ApiResourceInfo, name: &str) -> Error {
    api_error(404, "NotFound", format!("{} \"{name}\" not found", info.plural))
}

fn conflict(info: &ApiResourceInfo, name: &str) -> Error {
    api_error(
        409,
        "Conflict",
        format!(
            "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
            info.plural
        ),
    )
}

fn rv_of(object: &Value) -> Option<&str> {
    object
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
}

/// Whether `labels` satisfies a selector of `k=v`, `k==v`, `k!=v`, `k` and `!k` terms.
fn matches_selector(object: &Value, selector: &str) -> bool {
    let labels = object.pointer("/metadata/labels");
    let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
    selector
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .all(|term| {
            if let Some((k, v)) = term.split_once("!=") {
                get(k.trim()) != Some(v.trim())
            } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
                get(k.trim()) == Some(v.trim())
            } else if let Some(k) = term.strip_prefix('!') {
                get(k.trim()).is_none()
            } else {
                get(term).is_some()
            }
        })
}

#[async_trait]
impl Cluster for FakeCluster {
    fn default_namespace(&self) -> &str {
        &self.namespace
    }

    async fn capabilities(&self) -> Result<ServerCapabilities> {
        let mut st = self.state();
        let none = Gvk::new("", "");
        // Any injected error fails it; `enter` would also insist on a known kind.
        if let Err(e) = self.enter(&mut st, Method::Capabilities, &none, None, "", false) {
            if !matches!(e, Error::UnknownKind(_)) {
                return Err(e);
            }
        }
        Ok(ServerCapabilities::new(&st.version, &discovered(&st)))
    }

    async fn resolve(&self, gvk: &Gvk) -> Result<ApiResourceInfo> {
        let mut st = self.state();
        self.enter(&mut st, Method::Resolve, gvk, None, "", false)
            .map(|(info, _)| info)
    }

    async fn list_info(&self, _gvk: &Gvk) -> Result<Option<BTreeMap<String, ListInfo>>> {
        Ok(None)
    }

    async fn get(&self, gvk: &Gvk, namespace: Option<&str>, name: &str) -> Result<Value> {
        let mut st = self.state();
        let (info, ns) = self.enter(&mut st, Method::Get, gvk, namespace, name, false)?;
        st.objects
            .get(&(gvk.clone(), ns, name.to_string()))
            .cloned()
            .ok_or_else(|| not_found(&info, name))
    }

    async fn list(
        &self,
        gvk: &Gvk,
        namespace: Option<&str>,
        label_selector: Option<&str>,
    ) -> Result<ObjectList> {
        self.list_logged_as(gvk, namespace, label_selector, "")
    }

    async fn list_since(
        &self,
        gvk: &Gvk,
        namespace: Option<&str>,
        label_selector: Option<&str>,
        resource_version: &str,
        metadata_only: bool,
    ) -> Result<ObjectList> {
        // Always fresh here; logged by the version it may be as old as, so a test sees which
        // lists the real server may answer from its cache. Whole objects even for metadata, as
        // the default `list_metadata` here lists them too.
        let _ = metadata_only;
        self.list_logged_as(
            gvk,
            namespace,
            label_selector,
            &format!("since {resource_version}"),
        )
    }

    async fn create(&self, object: &Value, opts: &WriteOptions) -> Result<Value> {
        let gvk = Gvk::of(object)?;
        let (ns, name) = name_of(object)?;
        let mut st = self.state();
        let (info, ns) = self.enter(&mut st, Method::Create, &gvk, ns.as_deref(), &name, opts.dry_run)?;
        let key = (gvk, ns.clone(), name.clone());
        if st.objects.contains_key(&key) {
            return Err(api_error(
                409,
                "AlreadyExists",
                format!("{} \"{name}\" already exists", info.plural),
            ));
        }
        if rv_of(object).is_some_and(|rv| !rv.is_empty()) {
            return Err(api_error(
                500,
                "InternalError",
                "resourceVersion should not be set on objects to be created".to_string(),
            ));
        }
        let mut object = object.clone();
        if let (Some(ns), Some(m)) = (ns, object.get_mut("metadata").and_then(Value::as_object_mut)) {
            m.insert("namespace".into(), Value::String(ns));
        }
        if opts.dry_run {
            return Ok(object);
        }
        let stored = stamp(&mut st, object, None);
        store(&mut st, key, stored.clone());
        self.written.notify_waiters();
        Ok(stored)
    }

    async fn patch(
        &self,
        gvk: &Gvk,
        namespace: Option<&str>,
        name: &str,
        patch: &Patch,
        opts: &WriteOptions,
    ) -> Result<Value> {
        let mut st = self.state();
        let (info, ns) = self.enter(&mut st, Method::Patch, gvk, namespace, name, opts.dry_run)?;
        let key = (gvk.clone(), ns.clone(), name.to_string());
        let current = match (st.objects.get(&key), patch) {
            (Some(c), _) => c.clone(),
            // Server-side apply creates what is missing.
            (None, Patch::Apply(_)) => json!({}),
            (None, _) => return Err(not_found(&info, name)),
        };
        let mut next = current.clone();
        match patch {
            Patch::Json(ops) => {
                let ops: json_patch::Patch = serde_json::from_value(ops.clone())
                    .map_err(|e| api_error(400, "BadRequest", format!("invalid JSON patch: {e}")))?;
                json_patch::patch(&mut next, &ops).map_err(|_| {
                    api_error(
                        422,
                        "Invalid",
                        "the server rejected our request due to an error in our request".into(),
                    )
                })?;
            }
            Patch::Merge(v) | Patch::Strategic(v) | Patch::Apply(v) => json_patch::merge(&mut next, v),
        }
        // The server compares a resourceVersion left in the patched object with the stored one.
        if rv_of(&current).is_some() && rv_of(&next).is_some_and(|rv| Some(rv) != rv_of(&current)) {
            return Err(conflict(&info, name));
        }
        if let (Some(ns), Some(m)) = (ns, next.get_mut("metadata").and_then(Value::as_object_mut)) {
            m.insert("namespace".into(), Value::String(ns));
        }
        if opts.dry_run {
            return Ok(next);
        }
        let uid = current.pointer("/metadata/uid").cloned();
        let stored = stamp(&mut st, next, uid);
        store(&mut st, key, stored.clone());
        self.written.notify_waiters();
        Ok(stored)
    }

    async fn delete(
        &self,
        gvk: &Gvk,
        namespace: Option<&str>,
        name: &str,
        opts: &DeleteOptions,
    ) -> Result<Value> {
        let mut st = self.state();
        let (info, ns) = self.enter(&mut st, Method::Delete, gvk, namespace, name, opts.dry_run)?;
        let key = (gvk.clone(), ns, name.to_string());
        let current = st
            .objects
            .get(&key)
            .cloned()
            .ok_or_else(|| not_found(&info, name))?;
        if let Some(want) = &opts.resource_version {
            if rv_of(&current) != Some(want.as_str()) {
                return Err(conflict(&info, name));
            }
        }
        if !opts.dry_run {
            st.objects.remove(&key);
            st.revision += 1;
            let rev = st.revision;
            let mut last = current.clone();
            if let Some(m) = last.get_mut("metadata").and_then(Value::as_object_mut) {
                m.insert("resourceVersion".into(), Value::String(rev.to_string()));
            }
            st.history.push((rev, key, WatchEvent::Deleted(last)));
            self.written.notify_waiters();
        }
        Ok(current)
    }

    async fn delete_collection(
        &self,
        gvk: &Gvk,
        namespace: &str,
        label_selector: &str,
        opts: &DeleteOptions,
    ) -> Result<()> {
        let mut st = self.state();
        let (_, ns) = self.enter(
            &mut st,
            Method::DeleteCollection,
            gvk,
            Some(namespace),
            label_selector,
            opts.dry_run,
        )?;
        if opts.dry_run {
            return Ok(());
        }
        let doomed: Vec<_> = st
            .objects
            .iter()
            .filter(|((g, n, _), o)| g == gvk && *n == ns && matches_selector(o, label_selector))
            .map(|(k, _)| k.clone())
            .collect();
        for key in doomed {
            let Some(mut last) = st.objects.remove(&key) else {
                continue;
            };
            st.revision += 1;
            let rev = st.revision;
            if let Some(m) = last.get_mut("metadata").and_then(Value::as_object_mut) {
                m.insert("resourceVersion".into(), Value::String(rev.to_string()));
            }
            st.history.push((rev, key, WatchEvent::Deleted(last)));
        }
        self.written.notify_waiters();
        Ok(())
    }

    /// Woken by every write, so a test that injects a write (a lock renewal) is seen at once,
    /// and one that injects none sees `within` pass on tokio's clock (paused in tests).
    async fn wait_for_change(
        &self,
        gvk: &Gvk,
        namespace: Option<&str>,
        name: &str,
        resource_version: &str,
        within: std::time::Duration,
    ) -> Result<Observed> {
        let deadline = tokio::time::Instant::now() + within;
        let key = {
            let mut st = self.state();
            let (_, ns) = self.enter(&mut st, Method::Watch, gvk, namespace, name, false)?;
            (gvk.clone(), ns, name.to_string())
        };
        loop {
            // Registered before the state is read, so a write in between still wakes it.
            let woken = self.written.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            match self.state().objects.get(&key) {
                None => return Ok(Observed::Deleted),
                Some(o) if rv_of(o) != Some(resource_version) => return Ok(Observed::Changed),
                Some(_) => {}
            }
            tokio::select! {
                _ = woken => {}
                _ = tokio::time::sleep_until(deadline) => return Ok(Observed::Unchanged),
            }
        }
    }

    /// Replays the write history after `resource_version`, then follows new writes until
    /// `within` passes on tokio's clock; a version older than the history (none is) cannot occur.
    async fn watch<'a>(
        &'a self,
        gvk: &Gvk,
        namespace: Option<&str>,
        resource_version: &str,
        within: std::time::Duration,
    ) -> Result<WatchStream<'a>> {
        let ns = {
            let mut st = self.state();
            self.enter(&mut st, Method::WatchList, gvk, namespace, "", false)?
                .1
        };
        let from: u64 = resource_version.parse().map_err(|_| {
            api_error(
                400,
                "BadRequest",
                format!("invalid resourceVersion {resource_version:?}"),
            )
        })?;
        let deadline = tokio::time::Instant::now() + within;
        let gvk = gvk.clone();
        Ok(Box::pin(futures::stream::unfold(from, move |seen| {
            let (gvk, ns) = (gvk.clone(), ns.clone());
            async move {
                loop {
                    let woken = self.written.notified();
                    tokio::pin!(woken);
                    woken.as_mut().enable();
                    let next = self
                        .state()
                        .history
                        .iter()
                        .find(|(rev, (g, n, _), _)| *rev > seen && *g == gvk && (ns.is_none() || *n == ns))
                        .map(|(rev, _, e)| (*rev, e.clone()));
                    if let Some((rev, event)) = next {
                        return Some((Ok(event), rev));
                    }
                    tokio::select! {
                        _ = woken => {}
                        _ = tokio::time::sleep_until(deadline) => return None,
                    }
                }
            }
        })))
    }

    async fn pod_log(
        &self,
        namespace: &str,
        pod: &str,
        container: Option<&str>,
        tail_lines: Option<i64>,
    ) -> Result<String> {
        let mut st = self.state();
        self.enter(
            &mut st,
            Method::Log,
            &Gvk::new("v1", "Pod"),
            Some(namespace),
            pod,
            false,
        )?;
        let text = st
            .logs
            .iter()
            .find(|((n, p, c), _)| n == namespace && p == pod && container.is_none_or(|want| want == c))
            .map(|(_, t)| t.clone())
            .ok_or_else(|| {
                // What a server without kubelets answers for `pods/log`.
                api_error(
                    500,
                    "InternalError",
                    format!("no kubelet serves the logs of pod {namespace}/{pod}"),
                )
            })?;
        let lines: Vec<&str> = text.lines().collect();
        let keep = tail_lines.map_or(lines.len(), |n| (n.max(0) as usize).min(lines.len()));
        Ok(lines[lines.len() - keep..].join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cm(name: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"a": "1"}})
    }

    /// `wait_for_change` answers at the first write or delete after the version it was given,
    /// and only then; on tokio's paused clock the waits pass in virtual time.
    #[tokio::test(start_paused = true)]
    async fn wait_for_change_sees_writes_and_deletes() {
        use std::time::Duration;
        // (case, what another task does after 3 s, want, virtual seconds until the answer)
        let cases: [(&str, Option<&str>, Observed, u64); 3] = [
            ("nothing happens", None, Observed::Unchanged, 10),
            ("written", Some("patch"), Observed::Changed, 3),
            ("deleted", Some("delete"), Observed::Deleted, 3),
        ];
        let gvk = Gvk::new("v1", "ConfigMap");
        for (case, action, want, secs) in cases {
            let c = std::sync::Arc::new(FakeCluster::default());
            let stored = c.create(&cm("lock"), &WriteOptions::default()).await.unwrap();
            let rv = rv_of(&stored).unwrap().to_string();
            let other = c.clone();
            let task = tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(3)).await;
                let g = Gvk::new("v1", "ConfigMap");
                match action {
                    Some("patch") => {
                        let p = Patch::Merge(json!({"data": {"renewed": "1"}}));
                        other
                            .patch(&g, None, "lock", &p, &WriteOptions::default())
                            .await
                            .unwrap();
                    }
                    Some("delete") => {
                        other
                            .delete(&g, None, "lock", &DeleteOptions::default())
                            .await
                            .unwrap();
                    }
                    _ => {}
                }
            });
            let started = tokio::time::Instant::now();
            let got = c
                .wait_for_change(&gvk, None, "lock", &rv, Duration::from_secs(10))
                .await
                .unwrap();
            assert_eq!(got, want, "{case}");
            assert_eq!(started.elapsed(), Duration::from_secs(secs), "{case}");
            task.await.unwrap();
            // An object already past the version answers at once.
            if action == Some("patch") {
                let got = c
                    .wait_for_change(&gvk, None, "lock", &rv, Duration::from_secs(10))
                    .await;
                assert_eq!(got.unwrap(), Observed::Changed, "{case}: stale version");
            }
        }
    }

    fn block<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    #[test]
    fn capabilities_list_builtins_and_established_crds() {
        block(async {
            let c = FakeCluster::new("ns1");
            c.set_server_version("v1.32.13", "1", "32");
            let crd = |established: &str| {
                json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                    "metadata": {"name": "widgets.example.com"},
                    "spec": {"group": "example.com", "scope": "Namespaced",
                        "names": {"plural": "widgets", "kind": "Widget"},
                        "versions": [{"name": "v1", "served": true}, {"name": "v1alpha1", "served": false}]},
                    "status": {"conditions": [{"type": "Established", "status": established}]}})
            };
            let has = |caps: &ServerCapabilities, v: &str| caps.api_versions.iter().any(|x| x == v);
            c.insert(crd("False")).expect("insert");
            let caps = c.capabilities().await.expect("capabilities");
            assert_eq!(
                (caps.git_version.as_str(), caps.minor.as_str()),
                ("v1.32.13", "32")
            );
            for v in ["v1", "v1/ConfigMap", "apps/v1", "apps/v1/Deployment"] {
                assert!(has(&caps, v), "{v} in {:?}", caps.api_versions);
            }
            assert!(!has(&caps, "example.com/v1"), "not served before Established");
            c.insert(crd("True")).expect("replace");
            let caps = c.capabilities().await.expect("capabilities");
            let cases = [
                ("served version", "example.com/v1", true),
                ("served kind", "example.com/v1/Widget", true),
                ("unserved version", "example.com/v1alpha1", false),
            ];
            for (name, v, want) in cases {
                assert_eq!(has(&caps, v), want, "{name}");
            }
            c.inject(
                Method::Capabilities,
                None,
                Error::Connect("unable to connect to the server: refused".into()),
            );
            let err = c.capabilities().await.expect_err("injected");
            assert_eq!(err.to_string(), "unable to connect to the server: refused");
        });
    }

    #[test]
    fn create_get_conflict_delete() {
        block(async {
            let c = FakeCluster::new("ns1");
            let w = WriteOptions::default();
            let gvk = Gvk::new("v1", "ConfigMap");
            let made = c.create(&cm("x"), &w).await.expect("create");
            assert_eq!(made["metadata"]["namespace"], "ns1");
            let e = c.create(&cm("x"), &w).await.expect_err("second create");
            assert_eq!(
                e.to_string(),
                r#"Error from server (AlreadyExists): configmaps "x" already exists"#
            );
            let got = c.get(&gvk, None, "x").await.expect("get");
            let rv = got["metadata"]["resourceVersion"]
                .as_str()
                .expect("rv")
                .to_string();

            // Cases mirror what kube-apiserver v1.32 answered on the kit for the same requests.
            let stale = Patch::Merge(json!({"metadata": {"resourceVersion": "0"}, "data": {"a": "2"}}));
            assert!(c
                .patch(&gvk, None, "x", &stale, &w)
                .await
                .expect_err("stale rv")
                .is_conflict());
            let failed_test = Patch::Json(json!([{"op": "test", "path": "/data/a", "value": "9"}]));
            let e = c
                .patch(&gvk, None, "x", &failed_test, &w)
                .await
                .expect_err("test op");
            assert_eq!(e.code(), Some(422));
            let fresh = Patch::Json(json!([
                {"op": "test", "path": "/metadata/resourceVersion", "value": rv},
                {"op": "replace", "path": "/data/a", "value": "3"}
            ]));
            let patched = c.patch(&gvk, None, "x", &fresh, &w).await.expect("fresh patch");
            assert_eq!(patched["data"]["a"], "3");

            let dry = DeleteOptions {
                dry_run: true,
                ..DeleteOptions::default()
            };
            c.delete(&gvk, None, "x", &dry).await.expect("dry delete");
            assert_eq!(c.objects().len(), 1, "dry run keeps the object");
            c.delete(&gvk, None, "x", &DeleteOptions::default())
                .await
                .expect("delete");
            assert!(c.get(&gvk, None, "x").await.expect_err("gone").is_not_found());
        });
    }

    #[test]
    fn injected_errors_and_call_log() {
        block(async {
            let c = FakeCluster::default();
            c.inject(Method::Create, Some("b"), Error::Connect("dropped".into()));
            let w = WriteOptions::default();
            c.create(&cm("a"), &w).await.expect("a is not targeted");
            assert!(matches!(c.create(&cm("b"), &w).await, Err(Error::Connect(_))));
            c.create(&cm("b"), &w).await.expect("injection is used once");
            let log: Vec<(Method, String)> = c.calls().into_iter().map(|k| (k.method, k.name)).collect();
            assert_eq!(
                log,
                [
                    (Method::Create, "a".into()),
                    (Method::Create, "b".into()),
                    (Method::Create, "b".into())
                ]
            );
        });
    }

    #[test]
    fn label_selectors() {
        let o = json!({"metadata": {"labels": {"app": "web", "tier": "fe"}}});
        let cases = [
            ("equal", "app=web", true),
            ("double equal", "app==web", true),
            ("not equal", "tier!=fe", false),
            ("exists", "app", true),
            ("not exists", "!db", true),
            ("and", "app=web,tier=be", false),
        ];
        for (name, sel, want) in cases {
            assert_eq!(matches_selector(&o, sel), want, "{name}");
        }
    }
}
