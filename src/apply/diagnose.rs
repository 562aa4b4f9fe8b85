//! Failure reports: when a wait fails or times out, say *why* each object is not ready, from what
//! the wait's watches already hold (the object, its Pods, the namespace's Events) plus the log
//! tail of failed containers ([`Cluster::pod_log`]). For each object: its pods with their phase,
//! why they cannot be scheduled, each container's state, restart count and last termination
//! (reason and exit code), the last Warning events of the object and of its pods (reason, message,
//! count), and the log tail. Logs are best effort: a cluster without kubelets (the test kit), or
//! a pod already gone, gives "logs unavailable" and the reason, never a failed report.
//!
//! [`Diagnosis`] displays as indented lines under the error's first line, and serialises to
//! JSON for `-o json`.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::cluster::{Cluster, Gvk};

use super::status::{condition, has_condition, int_at, selects, str_at};
use super::wait::{Scope, Store, WaitTarget};

/// Log lines shown per failed container unless `--logs` says otherwise.
pub const DEFAULT_LOG_LINES: u32 = 5;

/// Most pods shown per object (the not-ready ones first), so a 100-replica failure stays readable.
const MAX_PODS: usize = 3;

/// Most Warning events shown per object or pod (the latest).
const MAX_WARNINGS: usize = 3;

/// Why a wait failed, object by object.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Diagnosis {
    /// Every object not ready.
    pub objects: Vec<ObjectReport>,
}

/// One object not ready.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectReport {
    /// `Kind ns/name`.
    pub object: String,
    /// The readiness rule's verdict.
    pub reason: String,
    /// Its pods that are not ready.
    pub pods: Vec<PodReport>,
    /// Its own latest Warning events.
    pub warnings: Vec<Warning>,
}

/// One pod of an object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PodReport {
    /// Pod name.
    pub name: String,
    /// `status.phase`.
    pub phase: String,
    /// Why it is not scheduled or not running (a `PodScheduled` condition's message), if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// Its containers (init containers first).
    pub containers: Vec<ContainerReport>,
    /// Its latest Warning events.
    pub warnings: Vec<Warning>,
}

/// One container of a pod.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContainerReport {
    /// Container name.
    pub name: String,
    /// `waiting: CrashLoopBackOff`, `running`, `terminated: Error (exit code 1)`.
    pub state: String,
    /// Whether it is ready.
    pub ready: bool,
    /// `restartCount`.
    pub restarts: i64,
    /// The last termination: reason and exit code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_termination: Option<String>,
    /// Its log tail, for containers that failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<LogTail>,
}

/// The end of a container's log.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LogTail {
    /// The last lines.
    Lines(Vec<String>),
    /// The server could not give it, and why.
    Unavailable(String),
}

/// One Warning event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Warning {
    /// The object it is about, as `Kind/name`.
    pub object: String,
    /// Its involved object's kind.
    #[serde(skip)]
    pub kind: String,
    /// Its involved object's name.
    #[serde(skip)]
    pub involved: String,
    /// The event's own name.
    #[serde(skip)]
    pub name: String,
    /// `reason` (`BackOff`, `FailedScheduling`, `Failed`).
    pub reason: String,
    /// `message`.
    pub message: String,
    /// How many times it happened.
    pub count: i64,
    /// When it last happened (for ordering).
    #[serde(skip)]
    pub last: String,
}

impl Warning {
    /// Reads a core/v1 Event.
    pub fn of(event: &Value) -> Option<Warning> {
        let kind = str_at(event, "/involvedObject/kind")?.to_string();
        let involved = str_at(event, "/involvedObject/name")?.to_string();
        let last = ["/lastTimestamp", "/eventTime", "/metadata/creationTimestamp"]
            .iter()
            .find_map(|p| str_at(event, p))
            .unwrap_or("")
            .to_string();
        Some(Warning {
            object: format!("{kind}/{involved}"),
            kind,
            involved,
            name: str_at(event, "/metadata/name").unwrap_or("").to_string(),
            reason: str_at(event, "/reason").unwrap_or("").to_string(),
            message: str_at(event, "/message").unwrap_or("").trim().to_string(),
            count: int_at(event, "/count").unwrap_or(1).max(1),
            last,
        })
    }
}

/// Whether a workload of this kind runs pods worth watching and reporting.
pub(crate) fn has_pods(gvk: &Gvk) -> bool {
    matches!(
        (gvk.group.as_str(), gvk.kind.as_str()),
        (
            "apps" | "extensions",
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet"
        ) | ("batch", "Job")
            | ("", "Pod" | "ReplicationController")
    )
}

/// Whether a Warning is about `target` or one of its pods. Pods are matched by the name their
/// controllers give them (`<name>-…`), which needs no lookup and is right for every built-in
/// workload.
pub(crate) fn concerns(w: &Warning, target: &WaitTarget) -> bool {
    if w.kind == target.gvk.kind && w.involved == target.name {
        return true;
    }
    w.kind == "Pod" && has_pods(&target.gvk) && w.involved.starts_with(&format!("{}-", target.name))
}

/// The report for `stuck` (each target, its scope and the reason it is not ready), from `store`,
/// reading only the log tails (`log_lines` per failed container; none with 0).
pub(crate) async fn diagnose(
    cluster: &dyn Cluster,
    store: &Store,
    stuck: &[(&WaitTarget, &Scope, String)],
    log_lines: u32,
) -> Diagnosis {
    let mut objects = Vec::with_capacity(stuck.len());
    for (target, scope, reason) in stuck {
        let ns = scope.namespace.as_deref();
        let events: Vec<Warning> = ns
            .map(|ns| {
                store
                    .of(&Gvk::new("v1", "Event"), Some(ns))
                    .filter(|e| e.get("type").and_then(Value::as_str) == Some("Warning"))
                    .filter_map(Warning::of)
                    .collect()
            })
            .unwrap_or_default();
        let about =
            |kind: &str, name: &str| latest(events.iter().filter(|w| w.kind == kind && w.involved == name));
        let mut pods = Vec::new();
        if let (Some(obj), Some(ns)) = (store.get(scope, &target.name), ns) {
            for pod in pods_of(store, &target.gvk, obj, ns) {
                let name = str_at(pod, "/metadata/name").unwrap_or("").to_string();
                let mut report = pod_report(pod);
                report.warnings = about("Pod", &name);
                if log_lines > 0 {
                    for c in &mut report.containers {
                        if failed(c) {
                            c.log = Some(log_tail(cluster, ns, &name, &c.name, log_lines).await);
                        }
                    }
                }
                pods.push(report);
            }
        }
        objects.push(ObjectReport {
            object: target.to_string(),
            reason: reason.clone(),
            pods,
            warnings: about(&target.gvk.kind, &target.name),
        });
    }
    Diagnosis { objects }
}

/// The last [`MAX_WARNINGS`] by time, oldest first.
fn latest<'a>(ws: impl Iterator<Item = &'a Warning>) -> Vec<Warning> {
    let mut all: Vec<Warning> = ws.cloned().collect();
    all.sort_by(|a, b| a.last.cmp(&b.last));
    let skip = all.len().saturating_sub(MAX_WARNINGS);
    all.into_iter().skip(skip).collect()
}

/// A workload's pods counted by state, for the live view: `2 Ready, 1 CrashLoopBackOff`. A pod's
/// state is its first container's waiting reason (`ContainerCreating`, `ImagePullBackOff`), else
/// `Ready`, else its phase (with `Unschedulable` for a pod the scheduler cannot place).
pub(crate) fn pod_summary(store: &Store, gvk: &Gvk, obj: &Value, ns: &str) -> String {
    if !has_pods(gvk) || gvk.kind == "Pod" {
        return String::new();
    }
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for pod in store
        .of(&Gvk::new("v1", "Pod"), Some(ns))
        .filter(|p| selects(obj, p))
    {
        *counts.entry(pod_state(pod)).or_default() += 1;
    }
    counts
        .iter()
        .map(|(state, n)| format!("{n} {state}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn pod_state(pod: &Value) -> String {
    let waiting = ["/status/initContainerStatuses", "/status/containerStatuses"]
        .iter()
        .filter_map(|p| pod.pointer(p).and_then(Value::as_array))
        .flatten()
        .find_map(|c| str_at(c, "/state/waiting/reason"));
    if let Some(reason) = waiting {
        return reason.to_string();
    }
    if has_condition(pod, "Ready", "True") {
        return "Ready".into();
    }
    if has_condition(pod, "PodScheduled", "False") {
        return "Unschedulable".into();
    }
    str_at(pod, "/status/phase").unwrap_or("Pending").to_string()
}

/// The pods of a workload (itself for a Pod) that are not ready, at most [`MAX_PODS`].
fn pods_of<'a>(store: &'a Store, gvk: &Gvk, obj: &'a Value, ns: &str) -> Vec<&'a Value> {
    if !has_pods(gvk) {
        return Vec::new();
    }
    if gvk.kind == "Pod" {
        return vec![obj];
    }
    let mut pods: Vec<&Value> = store
        .of(&Gvk::new("v1", "Pod"), Some(ns))
        .filter(|p| selects(obj, p))
        .collect();
    // Ready pods say nothing about the failure (the old ReplicaSet's, during a rollout).
    pods.retain(|p| !has_condition(p, "Ready", "True"));
    pods.truncate(MAX_PODS);
    pods
}

fn pod_report(pod: &Value) -> PodReport {
    let problem = condition(pod, "PodScheduled")
        .filter(|c| str_at(c, "/status") == Some("False"))
        .map(|c| {
            format!(
                "{}: {}",
                str_at(c, "/reason").unwrap_or("Unschedulable"),
                str_at(c, "/message").unwrap_or("")
            )
        });
    let statuses = ["/status/initContainerStatuses", "/status/containerStatuses"]
        .iter()
        .filter_map(|p| pod.pointer(p).and_then(Value::as_array))
        .flatten();
    PodReport {
        name: str_at(pod, "/metadata/name").unwrap_or("").to_string(),
        phase: str_at(pod, "/status/phase").unwrap_or("Pending").to_string(),
        problem,
        containers: statuses.map(container_report).collect(),
        warnings: Vec::new(),
    }
}

fn terminated(t: &Value) -> String {
    format!(
        "{} (exit code {})",
        str_at(t, "/reason").unwrap_or("Terminated"),
        int_at(t, "/exitCode").unwrap_or(0)
    )
}

fn container_report(c: &Value) -> ContainerReport {
    let state = if let Some(w) = c.pointer("/state/waiting") {
        let reason = str_at(w, "/reason").unwrap_or("Waiting");
        match str_at(w, "/message").filter(|m| !m.is_empty()) {
            Some(m) => format!("waiting: {reason}: {m}"),
            None => format!("waiting: {reason}"),
        }
    } else if let Some(t) = c.pointer("/state/terminated") {
        format!("terminated: {}", terminated(t))
    } else if c.pointer("/state/running").is_some() {
        "running".to_string()
    } else {
        "unknown".to_string()
    };
    ContainerReport {
        name: str_at(c, "/name").unwrap_or("").to_string(),
        state,
        ready: c.get("ready").and_then(Value::as_bool).unwrap_or(false),
        restarts: int_at(c, "/restartCount").unwrap_or(0),
        last_termination: c.pointer("/lastState/terminated").map(terminated),
        log: None,
    }
}

/// Whether a container's log is worth showing: it crashed or exited with an error.
fn failed(c: &ContainerReport) -> bool {
    c.restarts > 0
        || c.last_termination.is_some()
        || (c.state.starts_with("terminated") && !c.state.contains("exit code 0"))
}

async fn log_tail(cluster: &dyn Cluster, ns: &str, pod: &str, container: &str, lines: u32) -> LogTail {
    match cluster
        .pod_log(ns, pod, Some(container), Some(i64::from(lines)))
        .await
    {
        Ok(text) => LogTail::Lines(text.lines().map(str::to_string).collect()),
        Err(e) => LogTail::Unavailable(e.to_string()),
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Warning {}", self.reason)?;
        if self.count > 1 {
            write!(f, " (x{})", self.count)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Starts with a newline (it follows the error's first line), one indented line per fact.
impl fmt::Display for Diagnosis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The error's first line already gives each object's reason: only facts follow.
        for o in self
            .objects
            .iter()
            .filter(|o| !o.pods.is_empty() || !o.warnings.is_empty())
        {
            write!(f, "\n  {}:", o.object)?;
            for w in &o.warnings {
                write!(f, "\n    {w}")?;
            }
            for p in &o.pods {
                write!(f, "\n    Pod {}: {}", p.name, p.phase)?;
                if let Some(problem) = &p.problem {
                    write!(f, " ({problem})")?;
                }
                for c in &p.containers {
                    write!(f, "\n      container {}: {}", c.name, c.state)?;
                    if !c.ready {
                        write!(f, ", not ready")?;
                    }
                    write!(f, ", restarts {}", c.restarts)?;
                    if let Some(t) = &c.last_termination {
                        write!(f, ", last terminated {t}")?;
                    }
                    match &c.log {
                        Some(LogTail::Lines(lines)) if lines.is_empty() => {
                            write!(f, "\n        (log is empty)")?
                        }
                        Some(LogTail::Lines(lines)) => {
                            for l in lines {
                                write!(f, "\n        | {l}")?;
                            }
                        }
                        Some(LogTail::Unavailable(why)) => write!(f, "\n        (logs unavailable: {why})")?,
                        None => {}
                    }
                }
                for w in &p.warnings {
                    write!(f, "\n      {w}")?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pod(conditions: Value, waiting: Option<&str>, phase: Option<&str>) -> Value {
        let mut p = json!({"metadata": {"name": "web-1"}, "status": {"conditions": conditions}});
        if let Some(reason) = waiting {
            p["status"]["containerStatuses"] =
                json!([{"name": "c", "state": {"waiting": {"reason": reason}}}]);
        }
        if let Some(phase) = phase {
            p["status"]["phase"] = json!(phase);
        }
        p
    }

    /// The one-word state a pod is summed up by: a waiting container's reason first, then
    /// readiness, then scheduling, then its phase.
    #[test]
    fn pod_states() {
        let ready = json!([{"type": "Ready", "status": "True"}]);
        let unready = json!([{"type": "Ready", "status": "False"}]);
        let unschedulable = json!([{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                                    "message": "0/1 nodes are available"}]);
        let cases = [
            (
                "waiting wins",
                pod(ready.clone(), Some("CrashLoopBackOff"), Some("Running")),
                "CrashLoopBackOff",
            ),
            ("ready", pod(ready, None, Some("Running")), "Ready"),
            (
                "unschedulable",
                pod(unschedulable.clone(), None, Some("Pending")),
                "Unschedulable",
            ),
            (
                "not ready: its phase",
                pod(unready, None, Some("Running")),
                "Running",
            ),
            ("no status: pending", pod(json!([]), None, None), "Pending"),
        ];
        for (name, p, want) in cases {
            assert_eq!(pod_state(&p), want, "{name}");
        }
        let report = pod_report(&pod(unschedulable, None, Some("Pending")));
        assert_eq!(
            report.problem.as_deref(),
            Some("Unschedulable: 0/1 nodes are available")
        );
        let scheduled = json!([{"type": "PodScheduled", "status": "True"}]);
        assert_eq!(pod_report(&pod(scheduled, None, None)).problem, None);
    }
}
