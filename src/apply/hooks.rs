//! [`run_hooks`]: Helm hooks of one event, one at a time, each waited for, as
//! `helm3:pkg/action/hooks.go` runs them.
//!
//! Order: hooks of the event sorted by weight, then by name (a stable sort over the kind order the
//! manifest stage gives them). For each hook: apply the `before-hook-creation` delete policy (the
//! default when the hook names no policy), create its object, and wait until it is done: Jobs until
//! their `Complete` condition (a `Failed` condition fails the hook), Pods until phase `Succeeded`
//! (`Failed` fails it), any other kind at once. A failed hook applies its `hook-failed` policy and
//! stops the run. When all hooks succeeded, `hook-succeeded` policies are applied in reverse order.
//! Every delete waits until the object is gone, so a re-created hook never meets its predecessor.
//! CRDs are never deleted by policy (their deletion cascades to every custom resource).
//!
//! Hook objects are not stamped with release ownership: Helm does not manage them as part of the
//! release either.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cluster::{self, Cluster, DeleteOptions, Gvk, Propagation, WriteOptions};
use crate::manifest::{Hook, HookEvent};

use super::executor::wait_for_crd_of;
use super::progress::{silent, Event, Progress};
use super::wait::{wait, WaitError, WaitOptions, WaitTarget};
use super::{describe_parts, Error, FIELD_MANAGER};

/// Helm's delete policies.
const BEFORE_CREATION: &str = "before-hook-creation";
const ON_SUCCESS: &str = "hook-succeeded";
const ON_FAILURE: &str = "hook-failed";

/// Options of [`run_hooks`].
#[derive(Clone, Debug)]
pub struct HookOptions {
    /// Bound on each hook's completion and on each policy delete (Helm passes `--timeout` to each).
    pub timeout: Duration,
    /// Time between checks of a running hook.
    pub poll_interval: Duration,
    /// Field manager of the creates.
    pub field_manager: String,
    /// Namespace for namespaced hook objects that name none (the release namespace); empty means
    /// the cluster's default namespace.
    pub namespace: String,
    /// Log lines of each failed container in a failure report (`--logs`).
    pub log_lines: u32,
    /// Where progress events go.
    pub progress: Arc<dyn Progress>,
}

impl Default for HookOptions {
    fn default() -> Self {
        HookOptions {
            timeout: Duration::from_secs(300),
            poll_interval: Duration::from_millis(500),
            field_manager: FIELD_MANAGER.to_string(),
            namespace: String::new(),
            log_lines: super::diagnose::DEFAULT_LOG_LINES,
            progress: silent(),
        }
    }
}

/// How a hook ended (Helm's `HookPhase`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookPhase {
    /// Its object was created and (for Jobs and Pods) completed.
    Succeeded,
    /// It could not be created, or its Job or Pod failed or timed out.
    Failed,
}

/// One hook that ran.
#[derive(Debug, Clone, PartialEq)]
pub struct HookRun {
    /// Template path of the hook.
    pub path: String,
    /// Kind of its object.
    pub kind: String,
    /// Name of its object.
    pub name: String,
    /// Its weight.
    pub weight: i64,
    /// How it ended.
    pub phase: HookPhase,
    /// From create to completion.
    pub duration: Duration,
    /// Whether a `hook-succeeded` policy deleted it afterwards.
    pub deleted: bool,
}

/// A parsed hook object with where it lives.
struct Target {
    gvk: Gvk,
    namespace: Option<String>,
    name: String,
    object: Value,
    shown: String,
}

/// Runs the hooks of `event` (see the module docs). Returns one [`HookRun`] per hook that ran;
/// the first failure ends the run with [`Error::Hook`].
pub async fn run_hooks(
    cluster: &dyn Cluster,
    hooks: &[Hook],
    event: HookEvent,
    opts: &HookOptions,
) -> Result<Vec<HookRun>, Error> {
    let mut selected: Vec<&Hook> = hooks.iter().filter(|h| event.selects(h)).collect();
    selected.sort_by(|a, b| {
        a.weight
            .cmp(&b.weight)
            .then_with(|| a.manifest.head.name.cmp(&b.manifest.head.name))
    });
    let mut runs = Vec::with_capacity(selected.len());
    let mut done: Vec<(Vec<Target>, &Hook)> = Vec::new();
    for hook in selected {
        let targets = parse(cluster, hook, event, opts).await?;
        let shown = targets
            .iter()
            .map(|t| t.shown.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let fail = |message: String| Error::Hook {
            event: event.to_string(),
            hook: shown.clone(),
            path: hook.manifest.path.clone(),
            message,
        };
        delete_by_policy(cluster, hook, &targets, BEFORE_CREATION, opts)
            .await
            .map_err(&fail)?;
        opts.progress.event(&Event::HookStarted {
            event: event.to_string(),
            hook: shown.clone(),
        });
        let started = Instant::now();
        let mut outcome = Ok(());
        for t in &targets {
            let wopts = WriteOptions {
                field_manager: Some(opts.field_manager.clone()),
                ..WriteOptions::default()
            };
            let mut created = cluster.create(&t.object, &wopts).await;
            if matches!(created, Err(cluster::Error::UnknownKind(_))) {
                match kind_defined(cluster, &t.gvk, opts).await {
                    Ok(true) => created = cluster.create(&t.object, &wopts).await,
                    Ok(false) => {}
                    Err(message) => {
                        outcome = Err(message);
                        break;
                    }
                }
            }
            if let Err(e) = created {
                outcome = Err(format!("creating {}: {e}", t.shown));
                break;
            }
        }
        if outcome.is_ok() {
            for t in &targets {
                outcome = wait_done(cluster, t, opts).await;
                if outcome.is_err() {
                    break;
                }
            }
        }
        let phase = if outcome.is_ok() {
            HookPhase::Succeeded
        } else {
            HookPhase::Failed
        };
        opts.progress.event(&Event::HookFinished {
            event: event.to_string(),
            hook: shown.clone(),
            phase,
        });
        if let Err(message) = outcome {
            delete_by_policy(cluster, hook, &targets, ON_FAILURE, opts)
                .await
                .map_err(&fail)?;
            return Err(fail(message));
        }
        runs.push(HookRun {
            path: hook.manifest.path.clone(),
            kind: hook.manifest.head.kind.clone(),
            name: hook.manifest.head.name.clone(),
            weight: hook.weight,
            phase,
            duration: started.elapsed(),
            deleted: false,
        });
        done.push((targets, hook));
    }
    for (i, (targets, hook)) in done.iter().enumerate().rev() {
        let deleted = delete_by_policy(cluster, hook, targets, ON_SUCCESS, opts)
            .await
            .map_err(|message| Error::Hook {
                event: event.to_string(),
                hook: targets
                    .iter()
                    .map(|t| t.shown.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                path: hook.manifest.path.clone(),
                message,
            })?;
        runs[i].deleted = deleted;
    }
    Ok(runs)
}

async fn parse(
    cluster: &dyn Cluster,
    hook: &Hook,
    event: HookEvent,
    opts: &HookOptions,
) -> Result<Vec<Target>, Error> {
    let default_ns = opts.namespace.as_str();
    let path = &hook.manifest.path;
    let docs =
        crate::yaml::parse_documents(&hook.manifest.content, path).map_err(|e| Error::HookManifest {
            path: path.clone(),
            message: e.to_string(),
        })?;
    let bad = |message: String| Error::HookManifest {
        path: path.clone(),
        message,
    };
    let mut targets = Vec::new();
    for mut object in docs.into_iter().filter(|d| !d.is_null()) {
        let gvk = Gvk::of(&object).map_err(|e| bad(e.to_string()))?;
        let has_ns = object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .is_some_and(|n| !n.is_empty());
        // Only namespaced kinds get one; a kind discovery does not know keeps what it has.
        if !has_ns && !default_ns.is_empty() {
            let mut resolved = cluster.resolve(&gvk).await;
            if matches!(resolved, Err(cluster::Error::UnknownKind(_))) {
                match kind_defined(cluster, &gvk, opts).await {
                    Ok(true) => resolved = cluster.resolve(&gvk).await,
                    Ok(false) => {}
                    Err(message) => {
                        return Err(Error::Hook {
                            event: event.to_string(),
                            hook: format!("{} {}", hook.manifest.head.kind, hook.manifest.head.name),
                            path: path.clone(),
                            message,
                        })
                    }
                }
            }
            if resolved.is_ok_and(|r| r.namespaced) {
                if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                    meta.insert("namespace".into(), Value::String(default_ns.to_string()));
                }
            }
        }
        let name = object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| bad("object has no metadata.name".to_string()))?
            .to_string();
        let namespace = object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .map(str::to_string);
        let shown = describe_parts(
            &gvk.kind,
            namespace.as_deref().unwrap_or(cluster.default_namespace()),
            &name,
        );
        targets.push(Target {
            gvk,
            namespace,
            name,
            object,
            shown,
        });
    }
    Ok(targets)
}

fn policies(hook: &Hook) -> Vec<&str> {
    if hook.delete_policies.is_empty() {
        vec![BEFORE_CREATION]
    } else {
        hook.delete_policies.iter().map(String::as_str).collect()
    }
}

/// Deletes the hook's objects when it has `policy`, then waits until they are gone. Returns
/// whether it deleted anything.
async fn delete_by_policy(
    cluster: &dyn Cluster,
    hook: &Hook,
    targets: &[Target],
    policy: &str,
    opts: &HookOptions,
) -> Result<bool, String> {
    if hook.manifest.head.kind == "CustomResourceDefinition" || !policies(hook).contains(&policy) {
        return Ok(false);
    }
    let dopts = DeleteOptions {
        propagation: Some(Propagation::Background),
        ..DeleteOptions::default()
    };
    for t in targets {
        match cluster
            .delete(&t.gvk, t.namespace.as_deref(), &t.name, &dopts)
            .await
        {
            Ok(_) => {}
            // A kind discovery does not serve has no objects: the CRD of a custom resource hook
            // created by this very run, not established yet.
            Err(e) if e.is_not_found() || matches!(e, cluster::Error::UnknownKind(_)) => continue,
            Err(e) => return Err(format!("deleting {} ({policy}): {e}", t.shown)),
        }
        let deadline = Instant::now() + opts.timeout;
        loop {
            match cluster.get(&t.gvk, t.namespace.as_deref(), &t.name).await {
                Err(e) if e.is_not_found() => break,
                Err(e) => return Err(format!("waiting for {} to be deleted: {e}", t.shown)),
                Ok(_) if Instant::now() >= deadline => {
                    return Err(format!(
                        "{} still exists {:?} after deleting it ({policy})",
                        t.shown, opts.timeout
                    ));
                }
                Ok(_) => tokio::time::sleep(opts.poll_interval).await,
            }
        }
        opts.progress.event(&Event::HookDeleted {
            hook: t.shown.clone(),
            policy: policy.to_string(),
        });
    }
    Ok(true)
}

/// For a hook whose kind discovery does not serve: a custom resource of a CRD this run created but
/// did not wait for, since nothing in the plan used it. Waits until that CRD is established and
/// says whether there was one.
async fn kind_defined(cluster: &dyn Cluster, gvk: &Gvk, opts: &HookOptions) -> Result<bool, String> {
    let wait_opts = WaitOptions::within(opts.timeout, opts.poll_interval, &opts.progress);
    wait_for_crd_of(cluster, gvk, &wait_opts)
        .await
        .map_err(|e| format!("waiting for the CustomResourceDefinition of {}: {e}", gvk.kind))
}

/// Waits until a Job or Pod hook completes (through the same watch-based waiter as `--wait`, so a
/// failure names the pod, its containers and events); other kinds are done once created.
async fn wait_done(cluster: &dyn Cluster, t: &Target, opts: &HookOptions) -> Result<(), String> {
    match (t.gvk.group.as_str(), t.gvk.kind.as_str()) {
        ("batch", "Job") | ("", "Pod") => {}
        _ => return Ok(()),
    }
    let target = WaitTarget {
        complete: true,
        ..WaitTarget::new(t.gvk.clone(), t.namespace.as_deref(), &t.name)
    };
    let wait_opts = WaitOptions {
        wait_for_jobs: true,
        log_lines: opts.log_lines,
        ..WaitOptions::within(opts.timeout, opts.poll_interval, &opts.progress)
    };
    wait(cluster, &[target], &wait_opts).await.map_err(|e| match e {
        WaitError::Failed {
            reason, diagnosis, ..
        } => format!("{reason}{diagnosis}"),
        WaitError::Timeout {
            pending, diagnosis, ..
        } => {
            let why = pending.first().map_or("", |(_, why)| why.as_str());
            format!(
                "timed out after {:?} waiting for {} to complete ({why}){diagnosis}",
                opts.timeout, t.shown
            )
        }
        e => e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::{FakeCluster, Method};
    use crate::manifest::{Head, Manifest};
    use serde_json::json;

    fn block<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    fn hook(kind: &str, name: &str, event: &str, weight: i64, policies: &[&str], extra: &str) -> Hook {
        let api_version = if kind == "Job" { "batch/v1" } else { "v1" };
        let content = format!("apiVersion: {api_version}\nkind: {kind}\nmetadata:\n  name: {name}\n{extra}");
        Hook {
            manifest: Manifest {
                path: format!("chart/templates/{name}.yaml"),
                content,
                head: Head {
                    api_version: api_version.to_string(),
                    kind: kind.to_string(),
                    name: name.to_string(),
                    annotations: Default::default(),
                },
            },
            events: vec![event.to_string()],
            weight,
            delete_policies: policies.iter().map(|p| p.to_string()).collect(),
        }
    }

    // The fake has no Job controller: the created Job carries its final status.
    const COMPLETE: &str = "status:\n  conditions:\n  - type: Complete\n    status: \"True\"\n";
    const FAILED: &str = "status:\n  conditions:\n  - type: Failed\n    status: \"True\"\n    reason: BackoffLimitExceeded\n    message: Job has reached the specified backoff limit\n";

    fn opts() -> HookOptions {
        HookOptions {
            poll_interval: Duration::from_millis(1),
            ..HookOptions::default()
        }
    }

    #[test]
    fn order_and_delete_policies_follow_helm() {
        block(async {
            let c = FakeCluster::new("default");
            c.insert(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b", "namespace": "default"}}))
                .expect("left over from an earlier run");
            // Sorted by weight, then name (helm3:pkg/action/hooks.go hookByWeight); succeeded
            // deletions run in reverse order after all hooks.
            let hooks = [
                hook("ConfigMap", "b", "pre-install", 0, &[], ""),
                hook("Job", "a", "pre-install", 0, &["hook-succeeded"], COMPLETE),
                hook(
                    "ConfigMap",
                    "c",
                    "pre-install",
                    -1,
                    &["before-hook-creation", "hook-succeeded"],
                    "",
                ),
                hook("ConfigMap", "d", "post-install", -5, &[], ""),
            ];
            let runs = run_hooks(&c, &hooks, HookEvent::PreInstall, &opts())
                .await
                .expect("hooks");
            let got: Vec<(&str, bool, HookPhase)> = runs
                .iter()
                .map(|r| (r.name.as_str(), r.deleted, r.phase))
                .collect();
            assert_eq!(
                got,
                [
                    ("c", true, HookPhase::Succeeded),
                    ("a", true, HookPhase::Succeeded),
                    ("b", false, HookPhase::Succeeded)
                ]
            );
            let calls: Vec<(Method, String)> = c.calls().into_iter().map(|k| (k.method, k.name)).collect();
            let want = [
                (Method::Delete, "c"),
                (Method::Create, "c"),
                (Method::Create, "a"),
                // The Job's wait: its kind resolved, then one list + watch each of Events, Pods
                // and Jobs in the namespace (no GET per object).
                (Method::Resolve, ""),
                (Method::List, ""),
                (Method::WatchList, ""),
                (Method::List, ""),
                (Method::WatchList, ""),
                (Method::List, ""),
                (Method::WatchList, ""),
                (Method::Delete, "b"),
                (Method::Get, "b"),
                (Method::Create, "b"),
                (Method::Delete, "a"),
                (Method::Get, "a"),
                (Method::Delete, "c"),
                (Method::Get, "c"),
            ]
            .map(|(m, n)| (m, n.to_string()));
            assert_eq!(calls, want);
            let names: Vec<String> = c
                .objects()
                .iter()
                .map(|o| o["metadata"]["name"].as_str().unwrap_or("").to_string())
                .collect();
            assert_eq!(names, ["b"], "only the hook without hook-succeeded stays");
        });
    }

    #[test]
    fn failed_job_fails_the_hook() {
        let cases: &[(&str, &[&str], usize)] = &[
            ("kept for debugging", &[], 1),
            ("hook-failed deletes it", &["hook-failed"], 0),
        ];
        for (name, policies, left) in cases {
            block(async {
                let c = FakeCluster::new("default");
                let hooks = [
                    hook("Job", "migrate", "pre-upgrade", 0, policies, FAILED),
                    hook("ConfigMap", "later", "pre-upgrade", 1, &[], ""),
                ];
                let err = run_hooks(&c, &hooks, HookEvent::PreUpgrade, &opts())
                    .await
                    .expect_err(name);
                assert_eq!(
                    err.to_string(),
                    "pre-upgrade hook Job default/migrate (chart/templates/migrate.yaml) failed: job failed: BackoffLimitExceeded: Job has reached the specified backoff limit",
                    "{name}"
                );
                assert_eq!(c.objects().len(), *left, "{name}");
                assert!(
                    c.calls().iter().all(|k| k.name != "later"),
                    "{name}: later hooks do not run"
                );
            });
        }
    }

    /// Issue 10: a CRD in `templates/` is no longer waited for unless the plan uses its kind, so
    /// a post-install hook that is one of its resources waits for it itself.
    #[test]
    fn hook_of_a_new_crd_waits_until_it_is_established() {
        for explicit_ns in [false, true] {
            block(async {
                let c = std::sync::Arc::new(FakeCluster::new("default"));
                let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                    "metadata": {"name": "widgets.example.com"},
                    "spec": {"group": "example.com", "scope": "Namespaced",
                             "names": {"kind": "Widget", "plural": "widgets"},
                             "versions": [{"name": "v1", "served": true, "storage": true}]}});
                c.insert(crd).expect("created by the plan, not established yet");
                // The API server's CRD controller, a little later.
                let controller = c.clone();
                let crd_gvk = Gvk::new("apiextensions.k8s.io/v1", "CustomResourceDefinition");
                let established = tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(30)).await;
                    let status =
                        json!({"status": {"conditions": [{"type": "Established", "status": "True"}]}});
                    controller
                        .patch(
                            &crd_gvk,
                            None,
                            "widgets.example.com",
                            &cluster::Patch::Merge(status),
                            &WriteOptions::default(),
                        )
                        .await
                        .expect("establish");
                });
                let ns = if explicit_ns { "  namespace: other\n" } else { "" };
                let mut h = hook("ConfigMap", "w", "post-install", 0, &[], "");
                h.manifest.content =
                    format!("apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n{ns}");
                h.manifest.head.api_version = "example.com/v1".into();
                h.manifest.head.kind = "Widget".into();
                let o = HookOptions {
                    namespace: "rel-ns".into(),
                    ..opts()
                };
                run_hooks(&*c, &[h], HookEvent::PostInstall, &o)
                    .await
                    .unwrap_or_else(|e| panic!("explicit namespace {explicit_ns}: {e}"));
                established.await.expect("controller");
                let widget = c
                    .objects()
                    .into_iter()
                    .find(|o| o["kind"] == "Widget")
                    .expect("widget created");
                let want = if explicit_ns { "other" } else { "rel-ns" };
                assert_eq!(widget["metadata"]["namespace"], want);
            });
        }
    }

    #[test]
    fn release_namespace_for_namespaced_hooks() {
        block(async {
            let c = FakeCluster::new("default");
            let hooks = [hook("ConfigMap", "x", "test", 0, &["hook-succeeded"], "")];
            let o = HookOptions {
                namespace: "rel-ns".into(),
                ..opts()
            };
            run_hooks(&c, &hooks, HookEvent::Test, &o).await.expect("hook");
            let created: Vec<Option<String>> = c
                .calls()
                .into_iter()
                .filter(|k| k.method == Method::Create)
                .map(|k| k.namespace)
                .collect();
            assert_eq!(created, [Some("rel-ns".to_string())]);
        });
    }

    /// Helm 2's test event name selects a hook for the test event (how names read is
    /// `manifest::HookEvent`'s own test).
    #[test]
    fn hook_events_select_as_helm_reads_them() {
        let legacy = hook("Pod", "t", "test-success", 0, &[], "");
        assert!(HookEvent::Test.selects(&legacy), "a Helm 2 test runs as a test");
        assert!(!HookEvent::PreInstall.selects(&legacy));
    }
}
