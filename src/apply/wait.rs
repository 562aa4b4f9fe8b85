//! [`wait`]: watch objects until they are ready (by the [`Rules`] of `status.rs`), bounded by a
//! timeout.
//!
//! One list + watch per kind and namespace ([`Cluster::watch`], from the list's
//! resourceVersion; watched again from the last version seen when the server ends a watch, listed
//! again when that version is gone), never a GET per object: a wait for 300 objects of 5 kinds
//! costs 5 lists and a few long-lived watches, and an object is judged again as soon as an event
//! about it (or about its ReplicaSets and Pods, watched in the same namespaces) arrives. Every
//! namespace with targets also has its Events watched, so a failure report can say what
//! Kubernetes said ([`super::diagnose`]). A cluster that cannot watch is listed again every
//! [`WaitOptions::poll_interval`].
//!
//! Differences from Helm 3: an object that was ready once is not checked again (as kstatus
//! watchers do), a failed Job (or a Deployment past its progress deadline, with the watcher rules)
//! ends the wait at once, and an object not found is waited for rather than an error. Errors the
//! server may recover from (429, 5xx, lost connections) are retried; others (403) end the wait.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::cluster::{self, Cluster, Gvk, WatchEvent};
use crate::diff::{Action, ObjectRef, Plan};

use super::describe_parts;
use super::diagnose::{self, Diagnosis};
use super::progress::{silent, Event, Progress};
use super::status::{self, judge, Readiness, Related, Rules};

/// An object to wait for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WaitTarget {
    /// Its kind with version.
    pub gvk: Gvk,
    /// Its namespace (`None` for cluster-scoped kinds, or the cluster's default namespace).
    pub namespace: Option<String>,
    /// Its name.
    pub name: String,
    /// Wait until the object is gone (Helm's `uninstall --wait`) instead of ready.
    pub deleted: bool,
    /// Wait until a Job or Pod has run to completion (hooks) instead of ready.
    pub complete: bool,
}

impl WaitTarget {
    /// A target from parts.
    pub fn new(gvk: Gvk, namespace: Option<&str>, name: &str) -> Self {
        WaitTarget {
            gvk,
            namespace: namespace.filter(|n| !n.is_empty()).map(str::to_string),
            name: name.to_string(),
            deleted: false,
            complete: false,
        }
    }

    /// A target from a plan's object identity and the `apiVersion` to read it with.
    pub fn from_ref(id: &ObjectRef, api_version: &str) -> Self {
        WaitTarget::new(Gvk::new(api_version, &id.kind), Some(&id.namespace), &id.name)
    }

    /// Every object the release has once `plan` is applied (created, patched or unchanged), to
    /// wait until ready: Helm waits for the whole new revision, not only what changed.
    pub fn from_plan(plan: &Plan) -> Vec<WaitTarget> {
        plan.changes
            .iter()
            .filter(|c| matches!(c.action, Action::Create | Action::Patch(_) | Action::Noop))
            .map(|c| WaitTarget::from_ref(&c.id, &c.api_version))
            .collect()
    }

    /// Every object `plan` deletes, to wait until gone.
    pub fn deleted_in(plan: &Plan) -> Vec<WaitTarget> {
        plan.changes
            .iter()
            .filter(|c| c.action == Action::Delete)
            .map(|c| WaitTarget {
                deleted: true,
                ..WaitTarget::from_ref(&c.id, &c.api_version)
            })
            .collect()
    }
}

impl fmt::Display for WaitTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.namespace.as_deref().unwrap_or("");
        f.write_str(&describe_parts(&self.gvk.kind, ns, &self.name))
    }
}

/// How a verb waits, from `--wait=STRATEGY` and `--logs`: the part of [`WaitOptions`] a user picks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitStyle {
    /// Readiness rules.
    pub rules: Rules,
    /// Log lines of each failed container in a failure report.
    pub log_lines: u32,
}

impl Default for WaitStyle {
    fn default() -> Self {
        WaitStyle {
            rules: Rules::default(),
            log_lines: diagnose::DEFAULT_LOG_LINES,
        }
    }
}

/// Options of [`wait`].
#[derive(Clone, Debug)]
pub struct WaitOptions {
    /// Give up after this long (Helm's `--timeout`, 5m0s by default).
    pub timeout: Duration,
    /// Also wait for Jobs to complete (Helm's `--wait-for-jobs`).
    pub wait_for_jobs: bool,
    /// Which readiness rules apply.
    pub rules: Rules,
    /// Only for a cluster that cannot watch: time between lists.
    pub poll_interval: Duration,
    /// Lines of each failed container's log in a failure report (`--logs`; 0: none).
    pub log_lines: u32,
    /// Where progress events go.
    pub progress: Arc<dyn Progress>,
}

impl Default for WaitOptions {
    fn default() -> Self {
        WaitOptions {
            timeout: Duration::from_secs(300),
            wait_for_jobs: false,
            rules: Rules::default(),
            poll_interval: Duration::from_secs(2),
            log_lines: diagnose::DEFAULT_LOG_LINES,
            progress: silent(),
        }
    }
}

impl WaitStyle {
    /// The wait of a verb's `--wait`: its `--timeout` and `--wait-for-jobs` with this style's
    /// rules and `--logs`; progress dropped (callers that show it set `progress`).
    pub fn options(self, timeout: Duration, wait_for_jobs: bool) -> WaitOptions {
        WaitOptions {
            timeout,
            wait_for_jobs,
            rules: self.rules,
            log_lines: self.log_lines,
            ..WaitOptions::default()
        }
    }
}

impl WaitOptions {
    /// A wait an apply step makes on its own (CRDs established, dependencies ready, hooks
    /// done), within the step's timeout and poll interval, reporting to the step's progress.
    pub(crate) fn within(
        timeout: Duration,
        poll_interval: Duration,
        progress: &Arc<dyn Progress>,
    ) -> WaitOptions {
        WaitOptions {
            timeout,
            poll_interval,
            progress: progress.clone(),
            ..WaitOptions::default()
        }
    }
}

/// Why [`wait`] gave up. The first line names every object not ready and why; the
/// [`Diagnosis`] (shown below it) says what their pods and Kubernetes' events said.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WaitError {
    /// The timeout passed with objects still not ready.
    #[error(
        "timed out after {timeout:?} waiting for {} of {total} objects to be ready: {}{diagnosis}",
        .pending.len(),
        .pending.iter().map(|(o, why)| format!("{o} ({why})")).collect::<Vec<_>>().join(", ")
    )]
    Timeout {
        /// The timeout.
        timeout: Duration,
        /// How many objects were waited for.
        total: usize,
        /// Each object still not ready (`Kind ns/name`) and the last reason.
        pending: Vec<(String, String)>,
        /// What the objects' pods and events say.
        diagnosis: Box<Diagnosis>,
    },
    /// An object can never become ready.
    #[error("{object} failed: {reason}{diagnosis}")]
    Failed {
        /// The object, as `Kind ns/name`.
        object: String,
        /// Why.
        reason: String,
        /// What the object's pods and events say.
        diagnosis: Box<Diagnosis>,
    },
    /// Reading objects failed with an error that retrying will not fix.
    #[error("watching {object}: {source}")]
    Cluster {
        /// What was read: `Kind ns/name`, or a kind and namespace (`Pods in ns`).
        object: String,
        /// The cluster's error.
        source: cluster::Error,
    },
}

impl WaitError {
    /// The failure report, when the wait got far enough to make one.
    pub fn diagnosis(&self) -> Option<&Diagnosis> {
        match self {
            WaitError::Timeout { diagnosis, .. } | WaitError::Failed { diagnosis, .. } => Some(diagnosis),
            WaitError::Cluster { .. } => None,
        }
    }
}

/// Helm's `isRetryableHTTPStatusCode`: 429 and 5xx other than 501, and anything without a status.
fn retryable(e: &cluster::Error) -> bool {
    match e {
        cluster::Error::Api { code, .. } => *code == 429 || (*code >= 500 && *code != 501),
        cluster::Error::Connect(_) | cluster::Error::Timeout(_) | cluster::Error::Decode(_) => true,
        _ => false,
    }
}

/// One kind in one namespace (`None`: cluster-scoped), listed and watched once.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Scope {
    pub(crate) gvk: Gvk,
    pub(crate) namespace: Option<String>,
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} in {ns}", self.gvk.kind),
            None => write!(f, "{}", self.gvk.kind),
        }
    }
}

fn pod_gvk() -> Gvk {
    Gvk::new("v1", "Pod")
}

fn replica_set_gvk() -> Gvk {
    Gvk::new("apps/v1", "ReplicaSet")
}

fn event_gvk() -> Gvk {
    Gvk::new("v1", "Event")
}

/// What the watches have seen: every object of every scope, by name.
#[derive(Debug, Default)]
pub(crate) struct Store {
    pub(crate) scopes: BTreeMap<Scope, BTreeMap<String, Value>>,
}

impl Store {
    /// The objects of `gvk` in `namespace`.
    pub(crate) fn of<'a>(&'a self, gvk: &Gvk, namespace: Option<&str>) -> impl Iterator<Item = &'a Value> {
        let scope = Scope {
            gvk: gvk.clone(),
            namespace: namespace.map(str::to_string),
        };
        self.scopes.get(&scope).into_iter().flat_map(|m| m.values())
    }

    pub(crate) fn get(&self, scope: &Scope, name: &str) -> Option<&Value> {
        self.scopes.get(scope).and_then(|m| m.get(name))
    }

    fn apply(&mut self, scope: &Scope, msg: Feed) {
        let objects = self.scopes.entry(scope.clone()).or_default();
        match msg {
            Feed::Listed(items) => {
                objects.clear();
                for item in items {
                    if let Some(name) = name_of(&item) {
                        objects.insert(name, item);
                    }
                }
            }
            Feed::Upsert(obj) => {
                if let Some(name) = name_of(&obj) {
                    objects.insert(name, obj);
                }
            }
            Feed::Deleted(obj) => {
                if let Some(name) = name_of(&obj) {
                    objects.remove(&name);
                }
            }
            Feed::Fatal(_) => {}
        }
    }
}

fn name_of(obj: &Value) -> Option<String> {
    obj.pointer("/metadata/name")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// What a feed (one scope's list + watch) tells the waiter.
enum Feed {
    Listed(Vec<Value>),
    Upsert(Value),
    Deleted(Value),
    Fatal(cluster::Error),
}

/// Lists `scope`, then watches it from the list's version until `deadline`, sending what it sees;
/// reconnects when a watch ends, lists again when its version is gone, retries transient errors.
async fn feed(
    cluster: &dyn Cluster,
    index: usize,
    scope: &Scope,
    deadline: Instant,
    poll: Duration,
    tx: mpsc::UnboundedSender<(usize, Feed)>,
) {
    let ns = scope.namespace.as_deref();
    let mut backoff = Duration::from_millis(100);
    let pause = |backoff: &mut Duration| {
        let d = *backoff;
        *backoff = (*backoff * 2).min(Duration::from_secs(2));
        d
    };
    'list: loop {
        if Instant::now() >= deadline {
            return;
        }
        let list = match cluster.list(&scope.gvk, ns, None).await {
            Ok(l) => l,
            Err(e) if retryable(&e) => {
                tokio::time::sleep(pause(&mut backoff)).await;
                continue;
            }
            Err(e) => {
                let _ = tx.send((index, Feed::Fatal(e)));
                return;
            }
        };
        let mut version = list
            .metadata
            .get("resourceVersion")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if tx.send((index, Feed::Listed(list.items))).is_err() {
            return;
        }
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            let mut stream = match cluster.watch(&scope.gvk, ns, &version, left).await {
                Ok(s) => s,
                // No watch here: list again a little later.
                Err(cluster::Error::Invalid(_)) => {
                    tokio::time::sleep(poll.min(left)).await;
                    continue 'list;
                }
                Err(e) if e.code() == Some(410) => continue 'list,
                Err(e) if retryable(&e) => {
                    tokio::time::sleep(pause(&mut backoff)).await;
                    continue;
                }
                Err(e) => {
                    let _ = tx.send((index, Feed::Fatal(e)));
                    return;
                }
            };
            while let Some(event) = stream.next().await {
                let msg = match event {
                    Ok(WatchEvent::Added(o) | WatchEvent::Modified(o)) => Feed::Upsert(o),
                    Ok(WatchEvent::Deleted(o)) => Feed::Deleted(o),
                    Ok(WatchEvent::Bookmark(v)) => {
                        version = v;
                        continue;
                    }
                    Ok(WatchEvent::Expired) => continue 'list,
                    // A cut connection: watch again from the last version seen.
                    Err(_) => {
                        tokio::time::sleep(pause(&mut backoff)).await;
                        break;
                    }
                };
                if let Feed::Upsert(o) | Feed::Deleted(o) = &msg {
                    if let Some(v) = o.pointer("/metadata/resourceVersion").and_then(Value::as_str) {
                        version = v.to_string();
                    }
                }
                backoff = Duration::from_millis(100);
                if tx.send((index, msg)).is_err() {
                    return;
                }
            }
        }
    }
}

/// A target with the scope it lives in (its namespace resolved).
struct Placed<'a> {
    target: &'a WaitTarget,
    scope: Scope,
}

/// Waits until every target is ready (see the module docs), or fails naming the objects still
/// not ready and why, with a [`Diagnosis`] of each.
pub async fn wait(
    cluster: &dyn Cluster,
    targets: &[WaitTarget],
    opts: &WaitOptions,
) -> Result<(), WaitError> {
    if targets.is_empty() {
        return Ok(());
    }
    let start = Instant::now();
    let deadline = start + opts.timeout;
    let placed = place(cluster, targets).await?;
    let scopes = scopes_of(&placed);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let feeds = futures::future::join_all(
        scopes
            .iter()
            .enumerate()
            .map(|(i, s)| feed(cluster, i, s, deadline, opts.poll_interval, tx.clone())),
    );
    drop(tx);
    tokio::pin!(feeds);
    let mut feeds_done = false;
    let mut store = Store::default();
    let mut listed = vec![false; scopes.len()];
    // Each target not ready yet: the reason, and its pods by state (what the live view shows).
    let mut pending: BTreeMap<usize, (String, String)> = (0..placed.len())
        .map(|i| (i, ("not listed yet".to_string(), String::new())))
        .collect();
    let mut reported = Reported::default();
    loop {
        tokio::select! {
            biased;
            msg = rx.recv(), if !feeds_done || !rx.is_empty() => {
                let Some(first) = msg else { feeds_done = true; continue };
                let mut batch = vec![first];
                while let Ok(m) = rx.try_recv() {
                    batch.push(m);
                }
                for (i, m) in batch {
                    if let Feed::Fatal(source) = m {
                        return Err(WaitError::Cluster { object: scopes[i].to_string(), source });
                    }
                    if matches!(m, Feed::Listed(_)) {
                        listed[i] = true;
                    }
                    store.apply(&scopes[i], m);
                }
                if listed.iter().all(|l| *l) {
                    reported.events(&store, &placed, opts);
                    let failed = judge_all(&store, &placed, &mut pending, opts, start);
                    if let Some((i, reason)) = failed {
                        let object = placed[i].target.to_string();
                        let diagnosis = diagnose::diagnose(cluster, &store, &[(placed[i].target, &placed[i].scope, reason.clone())], opts.log_lines).await;
                        return Err(WaitError::Failed { object, reason, diagnosis: Box::new(diagnosis) });
                    }
                    if pending.is_empty() {
                        return Ok(());
                    }
                }
            }
            _ = &mut feeds, if !feeds_done => { feeds_done = true; }
            _ = tokio::time::sleep_until(deadline) => {
                let stuck: Vec<(&WaitTarget, &Scope, String)> = pending
                    .iter()
                    .map(|(i, (why, _))| (placed[*i].target, &placed[*i].scope, why.clone()))
                    .collect();
                let diagnosis = diagnose::diagnose(cluster, &store, &stuck, opts.log_lines).await;
                return Err(WaitError::Timeout {
                    timeout: opts.timeout,
                    total: targets.len(),
                    pending: stuck.iter().map(|(t, _, why)| (t.to_string(), why.clone())).collect(),
                    diagnosis: Box::new(diagnosis),
                });
            }
        }
    }
}

/// Resolves each target's namespace: a namespaced kind with none is in the default namespace.
async fn place<'a>(cluster: &dyn Cluster, targets: &'a [WaitTarget]) -> Result<Vec<Placed<'a>>, WaitError> {
    let mut namespaced: BTreeMap<Gvk, bool> = BTreeMap::new();
    let mut out = Vec::with_capacity(targets.len());
    for t in targets {
        let is_namespaced = match namespaced.get(&t.gvk) {
            Some(n) => *n,
            None => {
                let n = match cluster.resolve(&t.gvk).await {
                    Ok(info) => info.namespaced,
                    // A kind nobody serves has no objects: gone already, or never coming.
                    Err(cluster::Error::UnknownKind(_)) if t.deleted => continue,
                    Err(source) => {
                        return Err(WaitError::Cluster {
                            object: t.to_string(),
                            source,
                        })
                    }
                };
                namespaced.insert(t.gvk.clone(), n);
                n
            }
        };
        let namespace = is_namespaced.then(|| {
            t.namespace
                .clone()
                .unwrap_or_else(|| cluster.default_namespace().to_string())
        });
        out.push(Placed {
            target: t,
            scope: Scope {
                gvk: t.gvk.clone(),
                namespace,
            },
        });
    }
    Ok(out)
}

/// Every scope to watch: the targets' own, and in each of their namespaces the Pods and Events
/// (and ReplicaSets where a Deployment is waited for) that readiness and reports read.
fn scopes_of(placed: &[Placed<'_>]) -> Vec<Scope> {
    let mut scopes: BTreeSet<Scope> = BTreeSet::new();
    for p in placed {
        scopes.insert(p.scope.clone());
        if p.target.deleted {
            continue;
        }
        let Some(ns) = &p.scope.namespace else {
            continue;
        };
        let mut extra = vec![event_gvk()];
        if diagnose::has_pods(&p.target.gvk) {
            extra.push(pod_gvk());
        }
        if p.target.gvk.kind == "Deployment" {
            extra.push(replica_set_gvk());
        }
        for gvk in extra {
            scopes.insert(Scope {
                gvk,
                namespace: Some(ns.clone()),
            });
        }
    }
    scopes.into_iter().collect()
}

/// Judges every pending target against the store, reports changes, and returns the first
/// that failed for good.
fn judge_all(
    store: &Store,
    placed: &[Placed<'_>],
    pending: &mut BTreeMap<usize, (String, String)>,
    opts: &WaitOptions,
    start: Instant,
) -> Option<(usize, String)> {
    let indexes: Vec<usize> = pending.keys().copied().collect();
    for i in indexes {
        let p = &placed[i];
        let object = p.target.to_string();
        let state = readiness_in(store, p.target, &p.scope, opts);
        let why = match state {
            Readiness::Ready => {
                pending.remove(&i);
                opts.progress.event(&Event::Ready {
                    object,
                    after: start.elapsed(),
                });
                continue;
            }
            Readiness::Failed(reason) => return Some((i, reason)),
            Readiness::NotReady(why) => why,
        };
        let pods = match (store.get(&p.scope, &p.target.name), p.scope.namespace.as_deref()) {
            (Some(obj), Some(ns)) => diagnose::pod_summary(store, &p.target.gvk, obj, ns),
            _ => String::new(),
        };
        let now = (why, pods);
        if pending.get(&i) != Some(&now) {
            opts.progress.event(&Event::Waiting {
                object,
                reason: now.0.clone(),
                pods: now.1.clone(),
            });
            pending.insert(i, now);
        }
    }
    None
}

/// The state of one target in `store`.
pub(crate) fn readiness_in(
    store: &Store,
    target: &WaitTarget,
    scope: &Scope,
    opts: &WaitOptions,
) -> Readiness {
    let obj = store.get(scope, &target.name);
    // A hook deleted under us has ended (Helm's watch takes a deletion as the end of the hook).
    if target.complete && obj.is_none() {
        return Readiness::Ready;
    }
    if target.deleted {
        return match obj {
            None => Readiness::Ready,
            Some(_) => Readiness::NotReady("still exists".into()),
        };
    }
    let Some(obj) = obj else {
        return Readiness::NotReady("not found".into());
    };
    let ns = scope.namespace.as_deref();
    if target.complete {
        return status::completion(obj);
    }
    // Only workloads are judged by their ReplicaSets and pods: the namespace's are not gathered
    // for every ConfigMap and Service on every batch of events.
    let related = if diagnose::has_pods(&target.gvk) {
        Related {
            replica_sets: store.of(&replica_set_gvk(), ns).collect(),
            pods: store.of(&pod_gvk(), ns).collect(),
        }
    } else {
        Related::default()
    };
    judge(obj, &related, opts.rules, opts.wait_for_jobs)
}

/// Warning events already passed to progress, so each is told once.
#[derive(Default)]
struct Reported {
    seen: BTreeSet<(String, String, i64)>,
}

impl Reported {
    /// Sends every new Warning event about a target or a pod in a target's namespace.
    fn events(&mut self, store: &Store, placed: &[Placed<'_>], opts: &WaitOptions) {
        let namespaces: BTreeSet<&str> = placed
            .iter()
            .filter_map(|p| p.scope.namespace.as_deref())
            .collect();
        for ns in namespaces {
            for ev in store.of(&event_gvk(), Some(ns)) {
                if ev.get("type").and_then(Value::as_str) != Some("Warning") {
                    continue;
                }
                let Some(w) = diagnose::Warning::of(ev) else {
                    continue;
                };
                let relevant = placed.iter().any(|p| diagnose::concerns(&w, p.target));
                let key = (ns.to_string(), w.name.clone(), w.count);
                if relevant && self.seen.insert(key) {
                    opts.progress.event(&Event::Warning {
                        object: w.object.clone(),
                        reason: w.reason.clone(),
                        message: w.message.clone(),
                        count: w.count,
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::{FakeCluster, Method};
    use serde_json::json;

    fn block<F: std::future::Future>(f: F) -> F::Output {
        // Paused time: the deadline passes as soon as nothing else can happen, so the timeouts
        // below cost nothing and no assertion depends on the machine's speed.
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("runtime")
            .block_on(f)
    }

    /// A verb's wait takes the user's style, timeout and `--wait-for-jobs`; a step's own wait
    /// takes the step's bounds and progress; both keep the defaults for the rest.
    #[test]
    fn wait_options_from_a_style_and_from_a_step() {
        let style = WaitStyle {
            rules: Rules::Legacy,
            log_lines: 7,
        };
        let o = style.options(Duration::from_secs(42), true);
        let d = WaitOptions::default();
        assert_eq!(
            (o.timeout, o.wait_for_jobs, o.rules, o.log_lines),
            (Duration::from_secs(42), true, Rules::Legacy, 7)
        );
        assert_eq!(o.poll_interval, d.poll_interval);
        let progress: Arc<dyn Progress> = Arc::new(super::super::NoProgress);
        let o = WaitOptions::within(Duration::from_secs(9), Duration::from_millis(10), &progress);
        assert_eq!(
            (o.timeout, o.poll_interval),
            (Duration::from_secs(9), Duration::from_millis(10))
        );
        assert_eq!(
            (o.wait_for_jobs, o.rules, o.log_lines),
            (d.wait_for_jobs, d.rules, d.log_lines)
        );
        assert!(
            Arc::ptr_eq(&o.progress, &progress),
            "the step's progress, not a silent one"
        );
    }

    fn opts(timeout_secs: u64) -> WaitOptions {
        WaitOptions {
            timeout: Duration::from_secs(timeout_secs),
            ..WaitOptions::default()
        }
    }

    fn pvc(name: &str, phase: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
               "metadata": {"name": name, "namespace": "ns"}, "status": {"phase": phase}})
    }

    fn target(api_version: &str, kind: &str, name: &str) -> WaitTarget {
        WaitTarget::new(Gvk::new(api_version, kind), Some("ns"), name)
    }

    /// A Deployment of one replica whose only pod crash-loops, with the events a kubelet sends.
    fn crashing(c: &FakeCluster) {
        c.insert(json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "ns", "generation": 2},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}}},
            "status": {"observedGeneration": 2, "replicas": 1, "updatedReplicas": 1}}))
            .expect("deployment");
        c.insert(json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web-5d9c-abcde", "namespace": "ns", "labels": {"app": "web"}},
            "status": {"phase": "Running",
                "conditions": [{"type": "Ready", "status": "False"}],
                "containerStatuses": [{"name": "app", "ready": false, "restartCount": 4,
                    "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s restarting failed container"}},
                    "lastState": {"terminated": {"reason": "Error", "exitCode": 3}}}]}}))
            .expect("pod");
        c.insert(json!({"apiVersion": "v1", "kind": "Event", "type": "Warning",
            "metadata": {"name": "web-5d9c-abcde.1", "namespace": "ns"},
            "involvedObject": {"kind": "Pod", "name": "web-5d9c-abcde"},
            "reason": "BackOff", "message": "Back-off restarting failed container app", "count": 7}))
            .expect("event");
        // Another pod's event is not about this release.
        c.insert(json!({"apiVersion": "v1", "kind": "Event", "type": "Warning",
            "metadata": {"name": "other.1", "namespace": "ns"},
            "involvedObject": {"kind": "Pod", "name": "other-1"},
            "reason": "BackOff", "message": "not ours", "count": 1}))
            .expect("event");
    }

    #[test]
    fn outcomes_and_reports() {
        // Each case: what is in the cluster, what is waited for, with which rules, and what the
        // error must contain (`None`: the wait succeeds).
        type Setup = fn(&FakeCluster);
        type Case = (
            &'static str,
            Setup,
            Vec<WaitTarget>,
            Rules,
            Option<Vec<&'static str>>,
        );
        let cases: Vec<Case> = vec![
            ("bound claim", |c| drop(c.insert(pvc("data", "Bound"))), vec![target("v1", "PersistentVolumeClaim", "data")], Rules::Watcher, None),
            (
                "pending claim times out",
                |c| drop(c.insert(pvc("data", "Pending"))),
                vec![target("v1", "PersistentVolumeClaim", "data")],
                Rules::Watcher,
                Some(vec!["timed out after 5s waiting for 1 of 1 objects to be ready: PersistentVolumeClaim ns/data (claim is not bound (phase Pending))"]),
            ),
            (
                "missing object is waited for",
                |_| {},
                vec![target("v1", "PersistentVolumeClaim", "nope")],
                Rules::Watcher,
                Some(vec!["PersistentVolumeClaim ns/nope (not found)"]),
            ),
            ("gone is deleted", |_| {}, vec![WaitTarget { deleted: true, ..target("v1", "PersistentVolumeClaim", "x") }], Rules::Watcher, None),
            (
                "crash loop names pod, container, reason, restarts, exit code, event and log",
                crashing,
                vec![target("apps/v1", "Deployment", "web")],
                Rules::Watcher,
                Some(vec![
                    "Deployment ns/web (0 of 1 replicas ready)",
                    "Pod web-5d9c-abcde: Running",
                    "container app: waiting: CrashLoopBackOff: back-off 40s restarting failed container, not ready, restarts 4, last terminated Error (exit code 3)",
                    "| panic: config missing",
                    "Warning BackOff (x7): Back-off restarting failed container app",
                ]),
            ),
            (
                "failed job ends the wait at once",
                |c| drop(c.insert(json!({"apiVersion": "batch/v1", "kind": "Job",
                    "metadata": {"name": "migrate", "namespace": "ns"},
                    "status": {"failed": 1, "conditions": [{"type": "Failed", "status": "True",
                        "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}]}}))),
                vec![WaitTarget { complete: true, ..target("batch/v1", "Job", "migrate") }],
                Rules::Watcher,
                Some(vec!["Job ns/migrate failed: job failed: BackoffLimitExceeded: Job has reached the specified backoff limit"]),
            ),
            (
                "custom resource reports its Ready message",
                |c| {
                    c.add_kind("example.com/v1", "Database", "databases", true);
                    drop(c.insert(json!({"apiVersion": "example.com/v1", "kind": "Database",
                        "metadata": {"name": "db", "namespace": "ns", "generation": 1},
                        "status": {"conditions": [{"type": "Ready", "status": "False", "reason": "DiskFull",
                            "message": "volume pvc-1 is full", "observedGeneration": 1}]}})));
                },
                vec![target("example.com/v1", "Database", "db")],
                Rules::Watcher,
                Some(vec!["Database ns/db (Ready is False: DiskFull: volume pvc-1 is full)"]),
            ),
            (
                "legacy rules let a custom resource pass",
                |c| {
                    c.add_kind("example.com/v1", "Database", "databases", true);
                    drop(c.insert(json!({"apiVersion": "example.com/v1", "kind": "Database",
                        "metadata": {"name": "db", "namespace": "ns"},
                        "status": {"conditions": [{"type": "Ready", "status": "False"}]}})));
                },
                vec![target("example.com/v1", "Database", "db")],
                Rules::Legacy,
                None,
            ),
        ];
        for (name, setup, targets, rules, want) in cases {
            let c = FakeCluster::new("ns");
            setup(&c);
            c.set_pod_log("ns", "web-5d9c-abcde", "app", "starting\npanic: config missing");
            let o = WaitOptions { rules, ..opts(5) };
            let got = block(wait(&c, &targets, &o));
            match (got, want) {
                (Ok(()), None) => {}
                (Err(e), Some(parts)) => {
                    let text = e.to_string();
                    for p in parts {
                        assert!(text.contains(p), "{name}: {p:?} not in\n{text}");
                    }
                    assert!(
                        !text.contains("not ours"),
                        "{name}: an unrelated event was reported:\n{text}"
                    );
                }
                (got, want) => panic!("{name}: got {got:?}, want {want:?}"),
            }
            // Waiting is lists and watches, never a GET per object.
            assert!(
                !c.calls().iter().any(|k| k.method == Method::Get),
                "{name}: {:?}",
                c.calls()
            );
        }
    }

    #[test]
    fn a_write_during_the_wait_ends_it_and_events_are_reported_once() {
        let c = FakeCluster::new("ns");
        c.insert(pvc("data", "Pending")).expect("pvc");
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = seen.clone();
        let o = WaitOptions {
            progress: Arc::new(move |e: &Event| sink.lock().expect("lock").push(e.clone())),
            ..opts(300)
        };
        let targets = [target("v1", "PersistentVolumeClaim", "data")];
        let writer = async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let warning = json!({"apiVersion": "v1", "kind": "Event", "type": "Warning",
                "metadata": {"name": "data.1", "namespace": "ns"},
                "involvedObject": {"kind": "PersistentVolumeClaim", "name": "data"},
                "reason": "ProvisioningFailed", "message": "no storage class", "count": 1});
            c.insert(warning.clone()).expect("event");
            // The same event written again with the same count is not news.
            c.insert(warning).expect("event");
            tokio::time::sleep(Duration::from_secs(1)).await;
            c.insert(pvc("data", "Bound")).expect("bound");
        };
        let (got, ()) = block(async { tokio::join!(wait(&c, &targets, &o), writer) });
        got.expect("ready once bound");
        let events = seen.lock().expect("lock").clone();
        let warnings: Vec<&Event> = events
            .iter()
            .filter(|e| matches!(e, Event::Warning { .. }))
            .collect();
        assert_eq!(
            warnings,
            [&Event::Warning {
                object: "PersistentVolumeClaim/data".into(),
                reason: "ProvisioningFailed".into(),
                message: "no storage class".into(),
                count: 1
            }]
        );
        assert!(
            matches!(events.last(), Some(Event::Ready { object, .. }) if object == "PersistentVolumeClaim ns/data")
        );
        // One list of each kind; the write was seen on the watch, not by listing again.
        let lists = c.calls().iter().filter(|k| k.method == Method::List).count();
        assert_eq!(lists, 2, "{:?}", c.calls());
    }

    #[test]
    fn transient_errors_are_retried_and_others_end_the_wait() {
        let unavailable = crate::cluster::Error::Api {
            code: 503,
            reason: "ServiceUnavailable".into(),
            message: "try later".into(),
            retry_after: None,
        };
        let forbidden = crate::cluster::Error::Api {
            code: 403,
            reason: "Forbidden".into(),
            message: "persistentvolumeclaims is forbidden".into(),
            retry_after: None,
        };
        let cases = [
            ("503 on list", Method::List, unavailable.clone(), Ok(())),
            ("503 on watch", Method::WatchList, unavailable, Ok(())),
            (
                "403 on list",
                Method::List,
                forbidden,
                Err("watching Event in ns: Error from server (Forbidden): persistentvolumeclaims is forbidden".to_string()),
            ),
        ];
        for (name, method, error, want) in cases {
            let c = FakeCluster::new("ns");
            c.insert(pvc("data", "Bound")).expect("pvc");
            c.inject(method, None, error);
            let got = block(wait(
                &c,
                &[target("v1", "PersistentVolumeClaim", "data")],
                &opts(30),
            ));
            assert_eq!(got.map_err(|e| e.to_string()), want, "{name}");
        }
    }
}
