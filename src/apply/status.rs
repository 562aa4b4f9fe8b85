//! Readiness rules: whether one object is ready, as pure functions of the object and of the
//! ReplicaSets and Pods in its namespace (the waiter keeps those from its watches). Two rule sets,
//! Helm 4's `--wait` values:
//!
//! - [`Rules::Watcher`] (the default, and what a bare `--wait` means): kstatus's rules, as Helm 4's
//!   watcher applies them, for every kind. An object being deleted is not ready; a
//!   `status.observedGeneration` behind `metadata.generation` is not ready; a `Stalled` condition
//!   is a failure and a `Reconciling` one is progress. Workloads must have every replica updated,
//!   ready and available (a Deployment whose rollout passed its `progressDeadlineSeconds` has
//!   failed); Jobs (with `--wait-for-jobs`) must be `Complete`; Pods `Ready` or `Succeeded`; PVCs
//!   `Bound`; CRDs `Established`; LoadBalancer Services must have an address. Any other kind with a
//!   `Ready` (else `Available`) condition must have it `True` for its current generation (the
//!   condition's message is the reason when it is not); other kinds are ready once they exist.
//! - [`Rules::Legacy`] (`--wait=legacy`): Helm 3's `pkg/kube/ready.go`. Where they differ: a
//!   Deployment is ready when its newest ReplicaSet has `replicas - maxUnavailable` ready pods (so a
//!   rollout with one bad pod of four passes), a Job fails only past `backoffLimit`, and custom
//!   resources and objects being deleted count as ready at once.
//!
//! The watcher's rules are the default because they are the stricter ones that match what a user
//! means by "ready" (every replica of the new version serving), and they cover custom resources
//! (operators' databases, certificates) that Helm 3 lets through unchecked; legacy stays for charts
//! whose rollouts were tuned to Helm 3's looser rule.

use serde_json::Value;

/// Which readiness rules apply (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Rules {
    /// kstatus, as Helm 4's `--wait=watcher`.
    #[default]
    Watcher,
    /// Helm 3's `ready.go`, as Helm 4's `--wait=legacy`.
    Legacy,
}

/// The state of one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// Ready.
    Ready,
    /// Not ready yet, and why.
    NotReady(String),
    /// Will never be ready (a failed Job, a stalled rollout), and why.
    Failed(String),
}

/// What a rule may look at besides the object: the ReplicaSets and Pods of its namespace.
#[derive(Debug, Default, Clone)]
pub struct Related<'a> {
    /// ReplicaSets in the object's namespace (for a Deployment's newest one).
    pub replica_sets: Vec<&'a Value>,
    /// Pods in the object's namespace (for a ReplicaSet's pods).
    pub pods: Vec<&'a Value>,
}

/// Judges `obj` by `rules`. Jobs are judged only with `wait_for_jobs` (ready at once otherwise),
/// as both Helms do; hooks pass `true`.
pub fn judge(obj: &Value, related: &Related<'_>, rules: Rules, wait_for_jobs: bool) -> Readiness {
    let api_version = str_at(obj, "/apiVersion").unwrap_or("");
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    let kind = str_at(obj, "/kind").unwrap_or("");
    match rules {
        Rules::Legacy => legacy(obj, group, kind, related, wait_for_jobs),
        Rules::Watcher => watcher(obj, group, kind, related, wait_for_jobs),
    }
}

fn legacy(obj: &Value, group: &str, kind: &str, related: &Related<'_>, wait_for_jobs: bool) -> Readiness {
    let apps = matches!(group, "apps" | "extensions");
    match (group, kind) {
        ("", "Pod") => pod_ready(obj),
        ("batch", "Job") if wait_for_jobs => job_ready(obj),
        (_, "Deployment") if apps => {
            if obj.pointer("/spec/paused").and_then(Value::as_bool) == Some(true) {
                return Readiness::NotReady("deployment is paused".into());
            }
            if let r @ Readiness::NotReady(_) = generation_observed(obj) {
                return r;
            }
            match new_replica_set(obj, &related.replica_sets) {
                Some(rs) => deployment_ready(obj, rs),
                None => Readiness::NotReady("its new ReplicaSet does not exist yet".into()),
            }
        }
        (_, "StatefulSet") if apps => stateful_set_ready(obj),
        (_, "DaemonSet") if apps => daemon_set_ready(obj),
        (_, "ReplicaSet") if apps => replicas_ready(obj, related),
        ("", "ReplicationController") => replicas_ready(obj, related),
        ("", "PersistentVolumeClaim") => volume_ready(obj),
        ("", "Service") => service_ready(obj),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => crd_ready(obj),
        _ => Readiness::Ready,
    }
}

fn replicas_ready(obj: &Value, related: &Related<'_>) -> Readiness {
    match generation_observed(obj) {
        Readiness::Ready => {
            let pods: Vec<&Value> = related.pods.iter().copied().filter(|p| selects(obj, p)).collect();
            pods_ready(&pods)
        }
        other => other,
    }
}

fn watcher(obj: &Value, group: &str, kind: &str, related: &Related<'_>, wait_for_jobs: bool) -> Readiness {
    if obj
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|t| !t.is_null())
    {
        return Readiness::NotReady("being deleted".into());
    }
    if let Some(observed) = int_at(obj, "/status/observedGeneration") {
        let generation = int_at(obj, "/metadata/generation").unwrap_or(0);
        if observed != generation {
            return Readiness::NotReady(format!(
                "observedGeneration ({observed}) does not match generation ({generation})"
            ));
        }
    }
    if let Some(c) = true_condition(obj, "Stalled") {
        return Readiness::Failed(format!("stalled: {}", condition_text(c)));
    }
    if let Some(c) = true_condition(obj, "Reconciling") {
        return Readiness::NotReady(format!("reconciling: {}", condition_text(c)));
    }
    let apps = matches!(group, "apps" | "extensions");
    match (group, kind) {
        ("", "Pod") => kstatus_pod(obj),
        ("batch", "Job") if !wait_for_jobs => Readiness::Ready,
        ("batch", "Job") => kstatus_job(obj),
        (_, "Deployment") if apps => kstatus_deployment(obj),
        (_, "StatefulSet") if apps => kstatus_stateful_set(obj),
        (_, "DaemonSet") if apps => kstatus_daemon_set(obj),
        (_, "ReplicaSet") if apps => kstatus_replicas(obj, "/status/readyReplicas", "ready")
            .and_then(|| kstatus_replicas(obj, "/status/availableReplicas", "available")),
        ("", "ReplicationController") => kstatus_replicas(obj, "/status/readyReplicas", "ready"),
        ("", "PersistentVolumeClaim") => volume_ready(obj),
        ("", "Service") => service_ready(obj),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => match condition(obj, "NamesAccepted") {
            Some(c) if c.get("status").and_then(Value::as_str) == Some("False") => {
                Readiness::Failed(format!("names not accepted: {}", condition_text(c)))
            }
            _ => crd_ready(obj),
        },
        _ => {
            let _ = related;
            custom_ready(obj)
        }
    }
}

impl Readiness {
    /// `self` when not ready, else what `next` says.
    fn and_then(self, next: impl FnOnce() -> Readiness) -> Readiness {
        match self {
            Readiness::Ready => next(),
            other => other,
        }
    }
}

fn true_condition<'a>(obj: &'a Value, kind: &str) -> Option<&'a Value> {
    condition(obj, kind).filter(|c| c.get("status").and_then(Value::as_str) == Some("True"))
}

/// `reason: message` of a condition, either part left out when empty.
fn condition_text(c: &Value) -> String {
    let parts: Vec<&str> = ["reason", "message"]
        .iter()
        .filter_map(|k| c.get(*k).and_then(Value::as_str))
        .filter(|s| !s.is_empty())
        .collect();
    if parts.is_empty() {
        "no reason given".into()
    } else {
        parts.join(": ")
    }
}

/// `pointer` must be at least `spec.replicas` (default 1).
fn kstatus_replicas(obj: &Value, pointer: &str, what: &str) -> Readiness {
    let want = int_at(obj, "/spec/replicas").unwrap_or(1);
    let have = int_at(obj, pointer).unwrap_or(0);
    if have < want {
        Readiness::NotReady(format!("{have} of {want} replicas {what}"))
    } else {
        Readiness::Ready
    }
}

fn kstatus_deployment(dep: &Value) -> Readiness {
    if let Some(c) = condition(dep, "Progressing") {
        if c.get("reason").and_then(Value::as_str) == Some("ProgressDeadlineExceeded") {
            return Readiness::Failed(format!("rollout failed: {}", condition_text(c)));
        }
    }
    if dep.pointer("/spec/paused").and_then(Value::as_bool) == Some(true) {
        return Readiness::NotReady("deployment is paused".into());
    }
    let replicas = int_at(dep, "/spec/replicas").unwrap_or(1);
    let updated = int_at(dep, "/status/updatedReplicas").unwrap_or(0);
    let total = int_at(dep, "/status/replicas").unwrap_or(0);
    if updated < replicas {
        return Readiness::NotReady(format!("{updated} of {replicas} replicas updated"));
    }
    if total > updated {
        return Readiness::NotReady(format!("{} old replicas pending termination", total - updated));
    }
    kstatus_replicas(dep, "/status/readyReplicas", "ready")
        .and_then(|| kstatus_replicas(dep, "/status/availableReplicas", "available"))
}

fn kstatus_stateful_set(sts: &Value) -> Readiness {
    if str_at(sts, "/spec/updateStrategy/type").unwrap_or("RollingUpdate") == "OnDelete" {
        return kstatus_replicas(sts, "/status/readyReplicas", "ready");
    }
    let replicas = int_at(sts, "/spec/replicas").unwrap_or(1);
    let partition = int_at(sts, "/spec/updateStrategy/rollingUpdate/partition").unwrap_or(0);
    if partition > 0 {
        let want = (replicas - partition).max(0);
        let updated = int_at(sts, "/status/updatedReplicas").unwrap_or(0);
        if updated < want {
            return Readiness::NotReady(format!("{updated} of {want} partitioned replicas updated"));
        }
        return kstatus_replicas(sts, "/status/readyReplicas", "ready");
    }
    kstatus_replicas(sts, "/status/readyReplicas", "ready")
        .and_then(|| kstatus_replicas(sts, "/status/currentReplicas", "current"))
        .and_then(|| {
            let current = str_at(sts, "/status/currentRevision").unwrap_or("");
            let update = str_at(sts, "/status/updateRevision").unwrap_or("");
            if current != update {
                Readiness::NotReady(format!("revision {update} is rolling out (current {current})"))
            } else {
                Readiness::Ready
            }
        })
}

fn kstatus_daemon_set(ds: &Value) -> Readiness {
    let Some(desired) = int_at(ds, "/status/desiredNumberScheduled") else {
        return Readiness::NotReady("no pods scheduled yet".into());
    };
    for (pointer, what) in [
        ("/status/updatedNumberScheduled", "updated"),
        ("/status/numberAvailable", "available"),
        ("/status/numberReady", "ready"),
    ] {
        let have = int_at(ds, pointer).unwrap_or(0);
        if have < desired {
            return Readiness::NotReady(format!("{have} of {desired} pods {what}"));
        }
    }
    Readiness::Ready
}

fn kstatus_pod(pod: &Value) -> Readiness {
    match str_at(pod, "/status/phase") {
        Some("Succeeded") => Readiness::Ready,
        Some("Failed") => {
            let why = str_at(pod, "/status/reason")
                .map(str::to_string)
                .or_else(|| terminated_reason(pod))
                .unwrap_or_else(|| "its containers failed".into());
            Readiness::Failed(format!("pod failed: {why}"))
        }
        _ => pod_ready(pod),
    }
}

/// The first terminated container's reason and exit code (`Error, exit code 1`).
fn terminated_reason(pod: &Value) -> Option<String> {
    pod.pointer("/status/containerStatuses")
        .and_then(Value::as_array)?
        .iter()
        .find_map(|c| c.pointer("/state/terminated"))
        .map(|t| {
            format!(
                "{}, exit code {}",
                str_at(t, "/reason").unwrap_or("Terminated"),
                int_at(t, "/exitCode").unwrap_or(0)
            )
        })
}

fn kstatus_job(job: &Value) -> Readiness {
    if let Some(c) = true_condition(job, "Complete") {
        let _ = c;
        return Readiness::Ready;
    }
    if let Some(c) = true_condition(job, "Failed") {
        return Readiness::Failed(format!("job failed: {}", condition_text(c)));
    }
    let succeeded = int_at(job, "/status/succeeded").unwrap_or(0);
    let want = int_at(job, "/spec/completions").unwrap_or(1);
    let failed = int_at(job, "/status/failed").unwrap_or(0);
    Readiness::NotReady(format!(
        "{succeeded} of {want} completions, {} active, {failed} failed",
        int_at(job, "/status/active").unwrap_or(0)
    ))
}

/// Custom resources: a `Ready` condition (else `Available`) must be `True` and written for the
/// current generation when it says which one it saw; without either, ready once it exists.
fn custom_ready(obj: &Value) -> Readiness {
    let Some((name, c)) = ["Ready", "Available"]
        .iter()
        .find_map(|k| condition(obj, k).map(|c| (*k, c)))
    else {
        return Readiness::Ready;
    };
    let generation = int_at(obj, "/metadata/generation").unwrap_or(0);
    if let Some(seen) = c.get("observedGeneration").and_then(Value::as_i64) {
        if seen < generation {
            return Readiness::NotReady(format!(
                "{name} condition is for generation {seen}, not {generation}"
            ));
        }
    }
    match c.get("status").and_then(Value::as_str) {
        Some("True") => Readiness::Ready,
        status => Readiness::NotReady(format!(
            "{name} is {}: {}",
            status.unwrap_or("Unknown"),
            condition_text(c)
        )),
    }
}

/// Whether a hook's Job or Pod has run to completion: a Job `Complete` (a `Failed` condition is a
/// failure), a Pod `Succeeded` (`Failed` is a failure); other kinds are done once they exist.
pub fn completion(obj: &Value) -> Readiness {
    match (
        str_at(obj, "/apiVersion").unwrap_or(""),
        str_at(obj, "/kind").unwrap_or(""),
    ) {
        ("batch/v1", "Job") => kstatus_job(obj),
        ("v1", "Pod") => match str_at(obj, "/status/phase") {
            Some("Succeeded") => Readiness::Ready,
            Some("Failed") => kstatus_pod(obj),
            phase => Readiness::NotReady(format!("pod {}", phase.unwrap_or("Pending").to_lowercase())),
        },
        _ => Readiness::Ready,
    }
}

/// Whether `owner`'s `spec.selector` picks `pod`: its `matchLabels` (or the plain map of a
/// ReplicationController) are all on the pod; with `matchExpressions`, ownership decides.
pub(crate) fn selects(owner: &Value, pod: &Value) -> bool {
    let Some(sel) = owner.pointer("/spec/selector") else {
        return false;
    };
    if sel
        .get("matchExpressions")
        .is_some_and(|m| m.as_array().is_some_and(|a| !a.is_empty()))
    {
        return owned_by(pod, owner);
    }
    let Some(labels) = sel.get("matchLabels").unwrap_or(sel).as_object() else {
        return false;
    };
    !labels.is_empty()
        && labels
            .iter()
            .all(|(k, v)| pod.pointer("/metadata/labels").and_then(|l| l.get(k)) == Some(v))
}

pub(crate) fn int_at(obj: &Value, pointer: &str) -> Option<i64> {
    obj.pointer(pointer).and_then(Value::as_i64)
}

pub(crate) fn str_at<'a>(obj: &'a Value, pointer: &str) -> Option<&'a str> {
    obj.pointer(pointer).and_then(Value::as_str)
}

/// Whether `status.conditions` has `type` with `status`.
pub(crate) fn has_condition(obj: &Value, kind: &str, status: &str) -> bool {
    condition(obj, kind).is_some_and(|c| c.get("status").and_then(Value::as_str) == Some(status))
}

/// The first condition of `type` in `status.conditions` (the server keeps one per type).
pub(crate) fn condition<'a>(obj: &'a Value, kind: &str) -> Option<&'a Value> {
    obj.pointer("/status/conditions")
        .and_then(Value::as_array)?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
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
fn new_replica_set<'a>(dep: &Value, sets: &[&'a Value]) -> Option<&'a Value> {
    const REVISION: &str = "/metadata/annotations/deployment.kubernetes.io~1revision";
    let revision = str_at(dep, REVISION)?;
    sets.iter()
        .copied()
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

fn pods_ready(pods: &[&Value]) -> Readiness {
    for pod in pods {
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
            let sets = [&r];
            let found = new_replica_set(&d, &sets).expect(name);
            assert_eq!(ready(deployment_ready(&d, found)), want, "{name}");
        }
        let other = json!({"metadata": {"ownerReferences": [{"uid": "d1"}],
                     "annotations": {"deployment.kubernetes.io/revision": "2"}}});
        assert!(
            new_replica_set(&dep(1, json!({})), &[&other]).is_none(),
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
    fn watcher_rules() {
        let w = |obj: Value| judge(&obj, &Related::default(), Rules::Watcher, true);
        let dep = |status: Value| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"generation": 3},
                   "spec": {"replicas": 2}, "status": status})
        };
        let cases: Vec<(&str, Readiness, Result<(), String>)> = vec![
            (
                "deployment rolled out",
                w(dep(json!({"observedGeneration": 3, "replicas": 2, "updatedReplicas": 2,
                    "readyReplicas": 2, "availableReplicas": 2}))),
                Ok(()),
            ),
            (
                "deployment generation not observed",
                w(dep(json!({"observedGeneration": 2}))),
                Err("not ready: observedGeneration (2) does not match generation (3)".into()),
            ),
            (
                "deployment old pods terminating",
                w(dep(json!({"observedGeneration": 3, "replicas": 3, "updatedReplicas": 2,
                    "readyReplicas": 2, "availableReplicas": 2}))),
                Err("not ready: 1 old replicas pending termination".into()),
            ),
            // Helm 3 lets this through with maxUnavailable 25% of 4; kstatus wants every replica.
            (
                "deployment one not available",
                w(dep(json!({"observedGeneration": 3, "replicas": 2, "updatedReplicas": 2,
                    "readyReplicas": 2, "availableReplicas": 1}))),
                Err("not ready: 1 of 2 replicas available".into()),
            ),
            (
                "deployment past its progress deadline",
                w(dep(json!({"observedGeneration": 3, "conditions": [{"type": "Progressing", "status": "False",
                    "reason": "ProgressDeadlineExceeded", "message": "ReplicaSet \"web-1\" has timed out progressing."}]}))),
                Err("failed: rollout failed: ProgressDeadlineExceeded: ReplicaSet \"web-1\" has timed out progressing.".into()),
            ),
            (
                "being deleted",
                w(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"deletionTimestamp": "2026-01-01T00:00:00Z"}})),
                Err("not ready: being deleted".into()),
            ),
            (
                "stalled custom resource",
                w(json!({"apiVersion": "example.com/v1", "kind": "Cert", "status": {"conditions": [
                    {"type": "Stalled", "status": "True", "reason": "BadIssuer", "message": "issuer x not found"}]}})),
                Err("failed: stalled: BadIssuer: issuer x not found".into()),
            ),
            (
                "custom resource ready",
                w(json!({"apiVersion": "example.com/v1", "kind": "Cert", "metadata": {"generation": 2},
                    "status": {"conditions": [{"type": "Ready", "status": "True", "observedGeneration": 2}]}})),
                Ok(()),
            ),
            (
                "custom resource ready for an older generation",
                w(json!({"apiVersion": "example.com/v1", "kind": "Cert", "metadata": {"generation": 2},
                    "status": {"conditions": [{"type": "Ready", "status": "True", "observedGeneration": 1}]}})),
                Err("not ready: Ready condition is for generation 1, not 2".into()),
            ),
            (
                "custom resource available false",
                w(json!({"apiVersion": "example.com/v1", "kind": "Queue",
                    "status": {"conditions": [{"type": "Available", "status": "False", "message": "0 brokers"}]}})),
                Err("not ready: Available is False: 0 brokers".into()),
            ),
            (
                "custom resource without conditions",
                w(json!({"apiVersion": "example.com/v1", "kind": "Queue"})),
                Ok(()),
            ),
            (
                "job failed",
                w(json!({"apiVersion": "batch/v1", "kind": "Job", "status": {"conditions": [
                    {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]}})),
                Err("failed: job failed: BackoffLimitExceeded".into()),
            ),
            (
                "job ignored without wait-for-jobs",
                judge(&json!({"apiVersion": "batch/v1", "kind": "Job"}), &Related::default(), Rules::Watcher, false),
                Ok(()),
            ),
            (
                "pod failed",
                w(json!({"apiVersion": "v1", "kind": "Pod", "status": {"phase": "Failed",
                    "containerStatuses": [{"state": {"terminated": {"reason": "Error", "exitCode": 2}}}]}})),
                Err("failed: pod failed: Error, exit code 2".into()),
            ),
            (
                "pod succeeded",
                w(json!({"apiVersion": "v1", "kind": "Pod", "status": {"phase": "Succeeded"}})),
                Ok(()),
            ),
            (
                "statefulset revision rolling",
                w(json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "spec": {"replicas": 1},
                    "status": {"readyReplicas": 1, "currentReplicas": 1, "currentRevision": "a", "updateRevision": "b"}})),
                Err("not ready: revision b is rolling out (current a)".into()),
            ),
            (
                "daemonset not available",
                w(json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "status": {"desiredNumberScheduled": 2,
                    "updatedNumberScheduled": 2, "numberAvailable": 1, "numberReady": 2}})),
                Err("not ready: 1 of 2 pods available".into()),
            ),
            (
                "crd name conflict fails",
                w(json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                    "status": {"conditions": [{"type": "NamesAccepted", "status": "False", "reason": "NameConflict"}]}})),
                Err("failed: names not accepted: NameConflict".into()),
            ),
            (
                "hook pod running is not complete",
                completion(&json!({"apiVersion": "v1", "kind": "Pod", "status": {"phase": "Running"}})),
                Err("not ready: pod running".into()),
            ),
        ];
        for (name, got, want) in cases {
            assert_eq!(ready(got), want, "{name}");
        }
    }

    #[test]
    fn selectors() {
        let pod =
            json!({"metadata": {"labels": {"app": "web", "tier": "fe"}, "ownerReferences": [{"uid": "o1"}]}});
        let cases = [
            (
                "match labels",
                json!({"spec": {"selector": {"matchLabels": {"app": "web"}}}}),
                true,
            ),
            (
                "other labels",
                json!({"spec": {"selector": {"matchLabels": {"app": "db"}}}}),
                false,
            ),
            ("plain map", json!({"spec": {"selector": {"tier": "fe"}}}), true),
            ("empty selects nothing", json!({"spec": {"selector": {}}}), false),
            (
                "expressions fall back to owners",
                json!({"metadata": {"uid": "o1"}, "spec": {"selector": {"matchExpressions": [{"key": "a", "operator": "Exists"}]}}}),
                true,
            ),
        ];
        for (name, owner, want) in cases {
            assert_eq!(selects(&owner, &pod), want, "{name}");
        }
    }
}
