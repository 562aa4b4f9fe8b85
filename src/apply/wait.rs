//! [`wait`]: poll objects until they are ready, by Helm 3's rules (`helm3:pkg/kube/ready.go`,
//! `wait.go`), bounded by a timeout.
//!
//! Readiness per kind:
//! - Pod: condition `Ready` is `True`.
//! - Job (only with `wait_for_jobs`): failed more than `backoffLimit` times is a failure that ends
//!   the wait at once; otherwise ready when `succeeded >= completions` (when completions is set).
//! - Deployment: not paused; observed generation current; its newest ReplicaSet (owned by it, with
//!   the Deployment's revision) observed too and has `readyReplicas >= replicas - maxUnavailable`.
//! - StatefulSet, DaemonSet: rollout complete (observed generation, updated and ready counts, and
//!   for StatefulSets `currentRevision == updateRevision` without a partition).
//! - ReplicaSet, ReplicationController: observed generation current and all their pods ready.
//! - PersistentVolumeClaim: `Bound`. Service: has a cluster IP; a LoadBalancer needs an ingress
//!   address unless it has external IPs; ExternalName is ready at once.
//! - CustomResourceDefinition: `Established` (or `NamesAccepted` false, which will never change).
//! - Everything else: ready as soon as it exists.
//!
//! Differences from Helm: all pending objects are checked in each round (concurrently) instead of
//! stopping at the first one not ready, an object that was ready once is not checked again (as
//! kstatus watchers do), and a failed Job ends the wait at once instead of being retried. Errors
//! the server may recover from (429, 5xx, lost connections) count as "not ready yet"; others
//! (403, 404) end the wait, as in Helm.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cluster::{self, Cluster, Gvk};
use crate::diff::{Action, ObjectRef, Plan};

use super::progress::{silent, Event, Progress};
use super::{describe_parts, run_bounded, Task};

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
}

impl WaitTarget {
    /// A target from parts.
    pub fn new(gvk: Gvk, namespace: Option<&str>, name: &str) -> Self {
        WaitTarget {
            gvk,
            namespace: namespace.filter(|n| !n.is_empty()).map(str::to_string),
            name: name.to_string(),
            deleted: false,
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

/// Options of [`wait`].
#[derive(Clone)]
pub struct WaitOptions {
    /// Give up after this long (Helm's `--timeout`, 5m0s by default).
    pub timeout: Duration,
    /// Also wait for Jobs to complete (Helm's `--wait-for-jobs`).
    pub wait_for_jobs: bool,
    /// Time between rounds (Helm polls every 2 s).
    pub poll_interval: Duration,
    /// Most objects checked at once.
    pub concurrency: usize,
    /// Where progress events go.
    pub progress: Arc<dyn Progress>,
}

impl Default for WaitOptions {
    fn default() -> Self {
        WaitOptions {
            timeout: Duration::from_secs(300),
            wait_for_jobs: false,
            poll_interval: Duration::from_secs(2),
            concurrency: 8,
            progress: silent(),
        }
    }
}

impl fmt::Debug for WaitOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitOptions")
            .field("timeout", &self.timeout)
            .field("wait_for_jobs", &self.wait_for_jobs)
            .field("poll_interval", &self.poll_interval)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

/// The state of one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// Ready.
    Ready,
    /// Not ready yet, and why.
    NotReady(String),
    /// Will never be ready (a failed Job), and why.
    Failed(String),
}

/// Why [`wait`] gave up.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WaitError {
    /// The timeout passed with objects still not ready.
    #[error(
        "timed out after {timeout:?} waiting for {} of {total} objects to be ready: {}",
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
    },
    /// An object can never become ready.
    #[error("{object} failed: {reason}")]
    Failed {
        /// The object, as `Kind ns/name`.
        object: String,
        /// Why.
        reason: String,
    },
    /// Reading an object failed with an error that retrying will not fix.
    #[error("checking {object}: {source}")]
    Cluster {
        /// The object, as `Kind ns/name`.
        object: String,
        /// The cluster's error.
        source: cluster::Error,
    },
}

/// Waits until every target is ready (see the module docs for the rules), or fails naming the
/// objects still not ready and why.
pub async fn wait(
    cluster: &dyn Cluster,
    targets: &[WaitTarget],
    opts: &WaitOptions,
) -> Result<(), WaitError> {
    let start = Instant::now();
    let deadline = start + opts.timeout;
    let mut reasons: BTreeMap<usize, String> = (0..targets.len())
        .map(|i| (i, "not checked yet".to_string()))
        .collect();
    let timed_out = |reasons: &BTreeMap<usize, String>| WaitError::Timeout {
        timeout: opts.timeout,
        total: targets.len(),
        pending: reasons
            .iter()
            .map(|(i, why)| (targets[*i].to_string(), why.clone()))
            .collect(),
    };
    while !reasons.is_empty() {
        let pending: Vec<usize> = reasons.keys().copied().collect();
        let tasks: Vec<Task<'_, Result<Readiness, cluster::Error>>> = pending
            .iter()
            .map(|&i| Box::pin(readiness(cluster, &targets[i], opts.wait_for_jobs)) as Task<'_, _>)
            .collect();
        let remaining = deadline.saturating_duration_since(Instant::now());
        let Ok(results) = tokio::time::timeout(remaining, run_bounded(opts.concurrency, tasks)).await else {
            return Err(timed_out(&reasons));
        };
        for (i, result) in pending.into_iter().zip(results) {
            let object = targets[i].to_string();
            let why = match result {
                Ok(Readiness::Ready) => {
                    reasons.remove(&i);
                    opts.progress.event(&Event::Ready {
                        object,
                        after: start.elapsed(),
                    });
                    continue;
                }
                Ok(Readiness::NotReady(why)) => why,
                Ok(Readiness::Failed(reason)) => return Err(WaitError::Failed { object, reason }),
                Err(e) if retryable(&e) => e.to_string(),
                Err(source) => return Err(WaitError::Cluster { object, source }),
            };
            if reasons.get(&i) != Some(&why) {
                opts.progress.event(&Event::Waiting {
                    object,
                    reason: why.clone(),
                });
                reasons.insert(i, why);
            }
        }
        if reasons.is_empty() {
            break;
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(timed_out(&reasons));
        }
        tokio::time::sleep(opts.poll_interval.min(deadline - now)).await;
    }
    Ok(())
}

/// Helm's `isRetryableHTTPStatusCode`: 429 and 5xx other than 501, and anything without a status.
fn retryable(e: &cluster::Error) -> bool {
    match e {
        cluster::Error::Api { code, .. } => *code == 429 || (*code >= 500 && *code != 501),
        cluster::Error::Connect(_) | cluster::Error::Timeout(_) | cluster::Error::Decode(_) => true,
        _ => false,
    }
}

/// Reads `target` (and, for workloads, its ReplicaSets or Pods) and judges it by Helm's rules.
pub async fn readiness(
    cluster: &dyn Cluster,
    target: &WaitTarget,
    wait_for_jobs: bool,
) -> Result<Readiness, cluster::Error> {
    let kind = target.gvk.kind.as_str();
    let group = target.gvk.group.as_str();
    let ns = target.namespace.as_deref();
    if target.deleted {
        return match cluster.get(&target.gvk, ns, &target.name).await {
            Err(e) if e.is_not_found() => Ok(Readiness::Ready),
            Err(e) => Err(e),
            Ok(_) => Ok(Readiness::NotReady("still exists".into())),
        };
    }
    let known = |g: &[&str]| g.contains(&group);
    let checked = match kind {
        "Pod" if known(&[""]) => true,
        "Job" if known(&["batch"]) => wait_for_jobs,
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" if known(&["apps", "extensions"]) => true,
        "ReplicationController" | "PersistentVolumeClaim" | "Service" if known(&[""]) => true,
        "CustomResourceDefinition" if known(&["apiextensions.k8s.io"]) => true,
        _ => false,
    };
    if !checked {
        return Ok(Readiness::Ready);
    }
    let obj = cluster.get(&target.gvk, ns, &target.name).await?;
    let ns = obj
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .or(ns)
        .map(str::to_string);
    let ready = match kind {
        "Pod" => pod_ready(&obj),
        "Job" => job_ready(&obj),
        "Deployment" => {
            if obj.pointer("/spec/paused").and_then(Value::as_bool) == Some(true) {
                return Ok(Readiness::NotReady("deployment is paused".into()));
            }
            if let r @ Readiness::NotReady(_) = generation_observed(&obj) {
                return Ok(r);
            }
            let rs_gvk = Gvk::new("apps/v1", "ReplicaSet");
            let list = cluster
                .list(&rs_gvk, ns.as_deref(), selector_of(&obj).as_deref())
                .await?;
            match new_replica_set(&obj, &list.items) {
                Some(rs) => deployment_ready(&obj, rs),
                None => Readiness::NotReady("its new ReplicaSet does not exist yet".into()),
            }
        }
        "StatefulSet" => stateful_set_ready(&obj),
        "DaemonSet" => daemon_set_ready(&obj),
        "ReplicaSet" | "ReplicationController" => match generation_observed(&obj) {
            Readiness::Ready => {
                let pods = cluster
                    .list(
                        &Gvk::new("v1", "Pod"),
                        ns.as_deref(),
                        selector_of(&obj).as_deref(),
                    )
                    .await?;
                pods_ready(&obj, &pods.items)
            }
            other => other,
        },
        "PersistentVolumeClaim" => volume_ready(&obj),
        "Service" => service_ready(&obj),
        _ => crd_ready(&obj),
    };
    Ok(ready)
}

fn int_at(obj: &Value, pointer: &str) -> Option<i64> {
    obj.pointer(pointer).and_then(Value::as_i64)
}

fn str_at<'a>(obj: &'a Value, pointer: &str) -> Option<&'a str> {
    obj.pointer(pointer).and_then(Value::as_str)
}

/// Whether `status.conditions` has `type` with `status`.
fn has_condition(obj: &Value, kind: &str, status: &str) -> bool {
    condition(obj, kind).is_some_and(|c| c.get("status").and_then(Value::as_str) == Some(status))
}

fn condition<'a>(obj: &'a Value, kind: &str) -> Option<&'a Value> {
    obj.pointer("/status/conditions")
        .and_then(Value::as_array)?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
}

/// A label selector string (`k=v,k2=v2`) from `spec.selector`: `matchLabels` of workloads, or the
/// plain map of ReplicationControllers and Services. `None` when it has `matchExpressions` (the
/// caller then filters by owner instead).
fn selector_of(obj: &Value) -> Option<String> {
    let sel = obj.pointer("/spec/selector")?;
    if sel
        .get("matchExpressions")
        .is_some_and(|m| m.as_array().is_some_and(|a| !a.is_empty()))
    {
        return None;
    }
    let labels = sel.get("matchLabels").unwrap_or(sel).as_object()?;
    let terms: Vec<String> = labels
        .iter()
        .filter_map(|(k, v)| v.as_str().map(|v| format!("{k}={v}")))
        .collect();
    (!terms.is_empty()).then(|| terms.join(","))
}

fn owned_by(obj: &Value, owner: &Value) -> bool {
    let Some(uid) = str_at(owner, "/metadata/uid") else {
        return false;
    };
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| {
            refs.iter()
                .any(|r| r.get("uid").and_then(Value::as_str) == Some(uid))
        })
}

fn generation_observed(obj: &Value) -> Readiness {
    let generation = int_at(obj, "/metadata/generation").unwrap_or(0);
    let observed = int_at(obj, "/status/observedGeneration").unwrap_or(0);
    if observed != generation {
        Readiness::NotReady(format!(
            "observedGeneration ({observed}) does not match spec generation ({generation})"
        ))
    } else {
        Readiness::Ready
    }
}

pub(crate) fn pod_ready(pod: &Value) -> Readiness {
    if has_condition(pod, "Ready", "True") {
        return Readiness::Ready;
    }
    let waiting = pod
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find_map(|c| str_at(c, "/state/waiting/reason"));
    match (waiting, str_at(pod, "/status/phase")) {
        (Some(reason), _) => Readiness::NotReady(format!("pod is not ready: {reason}")),
        (None, Some(phase)) => Readiness::NotReady(format!("pod is not ready: {phase}")),
        (None, None) => Readiness::NotReady("pod is not ready".into()),
    }
}

pub(crate) fn job_ready(job: &Value) -> Readiness {
    // The API server defaults backoffLimit to 6.
    let backoff = int_at(job, "/spec/backoffLimit").unwrap_or(6);
    let failed = int_at(job, "/status/failed").unwrap_or(0);
    if failed > backoff || has_condition(job, "Failed", "True") {
        let reason = condition(job, "Failed")
            .and_then(|c| c.get("reason").and_then(Value::as_str))
            .map(|r| format!(" ({r})"))
            .unwrap_or_default();
        return Readiness::Failed(format!("job is failed: {failed} failed pods{reason}"));
    }
    let succeeded = int_at(job, "/status/succeeded").unwrap_or(0);
    match int_at(job, "/spec/completions") {
        Some(want) if succeeded < want => {
            Readiness::NotReady(format!("job is not completed: {succeeded} of {want} succeeded"))
        }
        _ => Readiness::Ready,
    }
}

/// The Deployment's newest ReplicaSet: owned by it and carrying its revision annotation.
fn new_replica_set<'a>(dep: &Value, sets: &'a [Value]) -> Option<&'a Value> {
    const REVISION: &str = "/metadata/annotations/deployment.kubernetes.io~1revision";
    let revision = str_at(dep, REVISION)?;
    sets.iter()
        .find(|rs| owned_by(rs, dep) && str_at(rs, REVISION) == Some(revision))
}

/// An `IntOrString` (`3` or `"25%"`) scaled against `total`, rounding up or down as Kubernetes'
/// `GetScaledValueFromIntOrPercent` does; `None` when malformed.
fn scaled(v: Option<&Value>, total: i64, round_up: bool) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => {
            let pct: i64 = s.strip_suffix('%')?.parse().ok()?;
            let x = pct * total;
            Some(if round_up {
                (x + 99).div_euclid(100)
            } else {
                x.div_euclid(100)
            })
        }
        _ => None,
    }
}

/// Kubernetes' `deploymentutil.MaxUnavailable`.
fn max_unavailable(dep: &Value) -> i64 {
    let replicas = int_at(dep, "/spec/replicas").unwrap_or(1);
    let rolling = str_at(dep, "/spec/strategy/type").unwrap_or("RollingUpdate") == "RollingUpdate";
    if !rolling || replicas == 0 {
        return 0;
    }
    let ru = dep.pointer("/spec/strategy/rollingUpdate");
    let surge = scaled(ru.and_then(|r| r.get("maxSurge")), replicas, true).unwrap_or(0);
    let mut unavailable = scaled(ru.and_then(|r| r.get("maxUnavailable")), replicas, false).unwrap_or(0);
    if surge == 0 && unavailable == 0 {
        // Both rounding to zero would stall a rollout; Kubernetes allows one unavailable.
        unavailable = 1;
    }
    unavailable.min(replicas)
}

pub(crate) fn deployment_ready(dep: &Value, rs: &Value) -> Readiness {
    if let r @ Readiness::NotReady(_) = generation_observed(rs) {
        return r;
    }
    if let Readiness::NotReady(why) = generation_observed(dep) {
        return Readiness::NotReady(why);
    }
    let replicas = int_at(dep, "/spec/replicas").unwrap_or(1);
    let expected = replicas - max_unavailable(dep);
    let ready = int_at(rs, "/status/readyReplicas").unwrap_or(0);
    if ready < expected {
        return Readiness::NotReady(format!("{ready} out of {expected} expected pods are ready"));
    }
    Readiness::Ready
}

pub(crate) fn daemon_set_ready(ds: &Value) -> Readiness {
    if let r @ Readiness::NotReady(_) = generation_observed(ds) {
        return r;
    }
    if str_at(ds, "/spec/updateStrategy/type").unwrap_or("RollingUpdate") != "RollingUpdate" {
        return Readiness::Ready;
    }
    let desired = int_at(ds, "/status/desiredNumberScheduled").unwrap_or(0);
    let updated = int_at(ds, "/status/updatedNumberScheduled").unwrap_or(0);
    if updated != desired {
        return Readiness::NotReady(format!(
            "{updated} out of {desired} expected pods have been scheduled"
        ));
    }
    let max_unavailable = scaled(
        ds.pointer("/spec/updateStrategy/rollingUpdate/maxUnavailable"),
        desired,
        true,
    )
    .unwrap_or(desired);
    let expected = desired - max_unavailable;
    let ready = int_at(ds, "/status/numberReady").unwrap_or(0);
    if ready < expected {
        return Readiness::NotReady(format!("{ready} out of {expected} expected pods are ready"));
    }
    Readiness::Ready
}

pub(crate) fn stateful_set_ready(sts: &Value) -> Readiness {
    if let r @ Readiness::NotReady(_) = generation_observed(sts) {
        return r;
    }
    if str_at(sts, "/spec/updateStrategy/type").unwrap_or("RollingUpdate") != "RollingUpdate" {
        return Readiness::Ready;
    }
    let partition = int_at(sts, "/spec/updateStrategy/rollingUpdate/partition").unwrap_or(0);
    let replicas = int_at(sts, "/spec/replicas").unwrap_or(1);
    let expected = replicas - partition;
    let updated = int_at(sts, "/status/updatedReplicas").unwrap_or(0);
    if updated < expected {
        return Readiness::NotReady(format!(
            "{updated} out of {expected} expected pods have been scheduled"
        ));
    }
    let ready = int_at(sts, "/status/readyReplicas").unwrap_or(0);
    if ready != replicas {
        return Readiness::NotReady(format!("{ready} out of {replicas} expected pods are ready"));
    }
    let current = str_at(sts, "/status/currentRevision").unwrap_or("");
    let update = str_at(sts, "/status/updateRevision").unwrap_or("");
    if partition == 0 && current != update {
        return Readiness::NotReady(format!(
            "currentRevision {current} does not yet match updateRevision {update}"
        ));
    }
    Readiness::Ready
}

fn pods_ready(owner: &Value, pods: &[Value]) -> Readiness {
    let by_selector = selector_of(owner).is_some();
    for pod in pods.iter().filter(|p| by_selector || owned_by(p, owner)) {
        if let Readiness::NotReady(why) = pod_ready(pod) {
            let name = str_at(pod, "/metadata/name").unwrap_or("");
            return Readiness::NotReady(format!("{name}: {why}"));
        }
    }
    Readiness::Ready
}

pub(crate) fn volume_ready(pvc: &Value) -> Readiness {
    match str_at(pvc, "/status/phase") {
        Some("Bound") => Readiness::Ready,
        phase => Readiness::NotReady(format!(
            "claim is not bound (phase {})",
            phase.unwrap_or("unknown")
        )),
    }
}

pub(crate) fn service_ready(svc: &Value) -> Readiness {
    let kind = str_at(svc, "/spec/type").unwrap_or("ClusterIP");
    if kind == "ExternalName" {
        return Readiness::Ready;
    }
    if str_at(svc, "/spec/clusterIP").unwrap_or("").is_empty() {
        return Readiness::NotReady("service has no cluster IP address".into());
    }
    if kind == "LoadBalancer" {
        let has = |p: &str| {
            svc.pointer(p)
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty())
        };
        if !has("/spec/externalIPs") && !has("/status/loadBalancer/ingress") {
            return Readiness::NotReady("load balancer has no ingress address".into());
        }
    }
    Readiness::Ready
}

pub(crate) fn crd_ready(crd: &Value) -> Readiness {
    // A naming conflict (NamesAccepted false) will never resolve by waiting; Helm lets it pass.
    if has_condition(crd, "Established", "True") || has_condition(crd, "NamesAccepted", "False") {
        Readiness::Ready
    } else {
        Readiness::NotReady("not established yet".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ready(r: Readiness) -> Result<(), String> {
        match r {
            Readiness::Ready => Ok(()),
            Readiness::NotReady(w) => Err(format!("not ready: {w}")),
            Readiness::Failed(w) => Err(format!("failed: {w}")),
        }
    }

    #[test]
    fn deployment_rules() {
        // Expected counts follow Kubernetes' MaxUnavailable/ResolveFenceposts as Helm vendors them.
        let dep = |replicas: i64, strategy: Value| {
            json!({"metadata": {"generation": 2, "uid": "d1",
                     "annotations": {"deployment.kubernetes.io/revision": "3"}},
                   "spec": {"replicas": replicas, "strategy": strategy},
                   "status": {"observedGeneration": 2}})
        };
        let rs = |ready: i64, gen: i64| {
            json!({"metadata": {"generation": 1, "ownerReferences": [{"uid": "d1"}],
                     "annotations": {"deployment.kubernetes.io/revision": "3"}},
                   "status": {"observedGeneration": gen, "readyReplicas": ready}})
        };
        let rolling = |s: Value, u: Value| json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": s, "maxUnavailable": u}});
        let cases: Vec<(&str, Value, Value, Result<(), String>)> = vec![
            (
                "25% of 4 allows 1 unavailable",
                dep(4, rolling(json!("25%"), json!("25%"))),
                rs(3, 1),
                Ok(()),
            ),
            (
                "25% of 4 needs 3",
                dep(4, rolling(json!("25%"), json!("25%"))),
                rs(2, 1),
                Err("not ready: 2 out of 3 expected pods are ready".into()),
            ),
            // 25% of 1 rounds down to 0 unavailable, surge rounds up to 1: all must be ready.
            (
                "one replica",
                dep(1, rolling(json!("25%"), json!("25%"))),
                rs(0, 1),
                Err("not ready: 0 out of 1 expected pods are ready".into()),
            ),
            // Surge 0 and unavailable rounding to 0: Kubernetes allows 1 unavailable.
            (
                "both zero",
                dep(2, rolling(json!(0), json!("10%"))),
                rs(1, 1),
                Ok(()),
            ),
            (
                "recreate waits for all",
                dep(2, json!({"type": "Recreate"})),
                rs(1, 1),
                Err("not ready: 1 out of 2 expected pods are ready".into()),
            ),
            (
                "replica set generation stale",
                dep(1, rolling(json!(1), json!(0))),
                rs(1, 0),
                Err("not ready: observedGeneration (0) does not match spec generation (1)".into()),
            ),
        ];
        for (name, d, r, want) in cases {
            let sets = [r];
            let found = new_replica_set(&d, &sets).expect(name);
            assert_eq!(ready(deployment_ready(&d, found)), want, "{name}");
        }
        let other = json!({"metadata": {"ownerReferences": [{"uid": "d1"}],
                     "annotations": {"deployment.kubernetes.io/revision": "2"}}});
        assert!(
            new_replica_set(&dep(1, json!({})), &[other]).is_none(),
            "old revision is not new"
        );
    }

    #[test]
    fn other_kinds() {
        let cases: Vec<(&str, Readiness, Result<(), String>)> = vec![
            (
                "pod ready",
                pod_ready(&json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}})),
                Ok(()),
            ),
            (
                "pod crash looping",
                pod_ready(
                    &json!({"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}],
                    "containerStatuses": [{"state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}}),
                ),
                Err("not ready: pod is not ready: CrashLoopBackOff".into()),
            ),
            (
                "job complete",
                job_ready(
                    &json!({"spec": {"completions": 1, "backoffLimit": 0}, "status": {"succeeded": 1}}),
                ),
                Ok(()),
            ),
            (
                "job running",
                job_ready(&json!({"spec": {"completions": 2}, "status": {"succeeded": 1}})),
                Err("not ready: job is not completed: 1 of 2 succeeded".into()),
            ),
            (
                "job over backoff limit",
                job_ready(&json!({"spec": {"completions": 1, "backoffLimit": 0}, "status": {"failed": 1}})),
                Err("failed: job is failed: 1 failed pods".into()),
            ),
            (
                "pvc bound",
                volume_ready(&json!({"status": {"phase": "Bound"}})),
                Ok(()),
            ),
            (
                "pvc pending",
                volume_ready(&json!({"status": {"phase": "Pending"}})),
                Err("not ready: claim is not bound (phase Pending)".into()),
            ),
            (
                "cluster ip service",
                service_ready(&json!({"spec": {"clusterIP": "10.0.0.1"}})),
                Ok(()),
            ),
            (
                "external name",
                service_ready(&json!({"spec": {"type": "ExternalName"}})),
                Ok(()),
            ),
            (
                "load balancer without ingress",
                service_ready(&json!({"spec": {"type": "LoadBalancer", "clusterIP": "10.0.0.1"}})),
                Err("not ready: load balancer has no ingress address".into()),
            ),
            (
                "load balancer with external ip",
                service_ready(
                    &json!({"spec": {"type": "LoadBalancer", "clusterIP": "10.0.0.1", "externalIPs": ["1.2.3.4"]}}),
                ),
                Ok(()),
            ),
            (
                "load balancer with ingress",
                service_ready(&json!({"spec": {"type": "LoadBalancer", "clusterIP": "10.0.0.1"},
                    "status": {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}}})),
                Ok(()),
            ),
            (
                "crd established",
                crd_ready(&json!({"status": {"conditions": [{"type": "Established", "status": "True"}]}})),
                Ok(()),
            ),
            (
                "crd name conflict passes",
                crd_ready(&json!({"status": {"conditions": [{"type": "NamesAccepted", "status": "False"}]}})),
                Ok(()),
            ),
            (
                "crd new",
                crd_ready(&json!({})),
                Err("not ready: not established yet".into()),
            ),
            (
                "statefulset partitioned",
                stateful_set_ready(&json!({"metadata": {"generation": 1},
                    "spec": {"replicas": 3, "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}},
                    "status": {"observedGeneration": 1, "updatedReplicas": 1, "readyReplicas": 3,
                               "currentRevision": "a", "updateRevision": "b"}})),
                Ok(()),
            ),
            (
                "statefulset revision pending",
                stateful_set_ready(&json!({"metadata": {"generation": 1}, "spec": {"replicas": 1},
                    "status": {"observedGeneration": 1, "updatedReplicas": 1, "readyReplicas": 1,
                               "currentRevision": "a", "updateRevision": "b"}})),
                Err("not ready: currentRevision a does not yet match updateRevision b".into()),
            ),
            (
                "daemonset one unavailable allowed",
                daemon_set_ready(&json!({"metadata": {"generation": 1},
                    "spec": {"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}}},
                    "status": {"observedGeneration": 1, "desiredNumberScheduled": 3, "updatedNumberScheduled": 3, "numberReady": 2}})),
                Ok(()),
            ),
            (
                "daemonset not scheduled",
                daemon_set_ready(&json!({"metadata": {"generation": 1},
                    "spec": {"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}}},
                    "status": {"observedGeneration": 1, "desiredNumberScheduled": 3, "updatedNumberScheduled": 2, "numberReady": 2}})),
                Err("not ready: 2 out of 3 expected pods have been scheduled".into()),
            ),
        ];
        for (name, got, want) in cases {
            assert_eq!(ready(got), want, "{name}");
        }
    }

    #[test]
    fn wait_loop_reports_what_is_pending() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let c = crate::cluster::FakeCluster::new("ns");
            for (name, phase) in [("bound", "Bound"), ("pending", "Pending")] {
                c.insert(json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                    "metadata": {"name": name, "namespace": "ns"}, "status": {"phase": phase}}))
                    .expect("insert");
            }
            let pvc = |name: &str| WaitTarget::new(Gvk::new("v1", "PersistentVolumeClaim"), Some("ns"), name);
            let opts = WaitOptions {
                timeout: Duration::from_millis(60),
                poll_interval: Duration::from_millis(10),
                ..WaitOptions::default()
            };
            let cases: Vec<(&str, Vec<WaitTarget>, Result<(), String>)> = vec![
                ("all ready", vec![pvc("bound")], Ok(())),
                (
                    "one pending",
                    vec![pvc("bound"), pvc("pending")],
                    Err("timed out after 60ms waiting for 1 of 2 objects to be ready: \
                         PersistentVolumeClaim ns/pending (claim is not bound (phase Pending))"
                        .into()),
                ),
                (
                    "missing is an error at once",
                    vec![pvc("nope")],
                    Err(r#"checking PersistentVolumeClaim ns/nope: Error from server (NotFound): persistentvolumeclaims "nope" not found"#.into()),
                ),
                (
                    "deleted target that is gone",
                    vec![WaitTarget { deleted: true, ..pvc("nope") }],
                    Ok(()),
                ),
                (
                    "deleted target still there",
                    vec![WaitTarget { deleted: true, ..pvc("bound") }],
                    Err("timed out after 60ms waiting for 1 of 1 objects to be ready: \
                         PersistentVolumeClaim ns/bound (still exists)"
                        .into()),
                ),
            ];
            for (name, targets, want) in cases {
                let got = wait(&c, &targets, &opts).await.map_err(|e| e.to_string());
                assert_eq!(got, want, "{name}");
            }
        });
    }

    #[test]
    fn selectors() {
        let cases = [
            (
                "match labels",
                json!({"spec": {"selector": {"matchLabels": {"a": "1", "b": "2"}}}}),
                Some("a=1,b=2"),
            ),
            (
                "plain map",
                json!({"spec": {"selector": {"app": "web"}}}),
                Some("app=web"),
            ),
            (
                "expressions fall back to owners",
                json!({"spec": {"selector": {"matchExpressions": [{"key": "a", "operator": "Exists"}]}}}),
                None,
            ),
        ];
        for (name, obj, want) in cases {
            assert_eq!(selector_of(&obj).as_deref(), want, "{name}");
        }
    }
}
