//! Stage 7, apply: run a [`Plan`](crate::diff::Plan) against a [`Cluster`](crate::cluster::Cluster)
//! in Helm's order, wait for what was applied to become ready, and run hooks.
//!
//! - [`execute`] writes the plan: CRDs first (then waits for them to be `Established`), then every
//!   other create and patch in waves by kind ([`INSTALL_ORDER`](crate::manifest::INSTALL_ORDER),
//!   unknown kinds last), then the prunes in [`UNINSTALL_ORDER`](crate::manifest::UNINSTALL_ORDER).
//!   Objects of one wave go out concurrently (bounded by [`ApplyOptions::concurrency`]); waves are
//!   strictly sequential, as Helm's `batchPerform` runs one kind at a time. Noop and keep changes send
//!   no request at all. Objects annotated `config.kubernetes.io/depends-on` ([`DeclaredOrder`]) go
//!   in later levels, each sent only once what it depends on is ready.
//! - [`wait`] watches objects (one list + watch per kind and namespace) until they are ready by
//!   Helm 4's kstatus rules or Helm 3's ([`Rules`], `status.rs`), and explains a failure
//!   ([`Diagnosis`], `diagnose.rs`).
//! - [`run_hooks`] runs the hooks of one event one at a time, as `helm3:pkg/action/hooks.go` does.
//! - [`stamp_ownership`] and [`check_ownership`] carry Helm's release ownership metadata.
//!
//! Nothing here prints: progress goes to a [`Progress`] the caller supplies. Nothing here imports
//! `kube::`; everything goes through `&dyn Cluster`. Start with [`execute`].

mod crds;
mod diagnose;
mod executor;
mod hooks;
mod order;
mod ownership;
mod progress;
mod status;
mod wait;

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

pub use crate::manifest::HookEvent;
pub use crds::{classify as classify_crd, plan_crds, CrdError, CrdPlan, CrdPolicy, CrdUpdate};
pub use diagnose::{
    ContainerReport, Diagnosis, LogTail, ObjectReport, PodReport, Warning, DEFAULT_LOG_LINES,
};
pub use executor::{
    check_plan_ownership, execute, Adopt, ApplyOptions, ApplyReport, ObjectFailure, ObjectResult, Outcome,
    Ownership,
};
pub use hooks::{run_hooks, HookOptions, HookPhase, HookRun};
pub use order::DeclaredOrder;
pub use ownership::{
    check_ownership, stamp_ownership, takeovers, OwnershipError, MANAGED_BY_HELM, MANAGED_BY_LABEL,
    RELEASE_NAMESPACE_ANNOTATION, RELEASE_NAME_ANNOTATION,
};
pub use progress::{Event, NoProgress, Progress};
pub use status::{judge, Readiness, Related, Rules};
pub use wait::{wait, WaitError, WaitOptions, WaitStyle, WaitTarget};

use crate::diff::ObjectRef;

/// The field manager recorded for our writes (`managedFields`), like Helm's `helm`.
pub const FIELD_MANAGER: &str = "kubectl-chart";

/// Errors of the apply stage.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Objects in the plan exist and belong to someone else; nothing was written.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Ownership(Vec<OwnershipError>),
    /// Writes in one wave failed; later waves were not started. `report` holds what was done,
    /// including the successes of the failing wave (so a caller can clean up what it created).
    #[error("{}", .failures.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Apply {
        /// Every failed object of the wave, in plan order.
        failures: Vec<ObjectFailure>,
        /// What was done before the failure.
        report: ApplyReport,
    },
    /// CRDs of the plan did not become established, so their custom resources were not sent.
    #[error("waiting for CustomResourceDefinitions: {source}")]
    CrdNotEstablished {
        /// Why the wait ended.
        source: Box<WaitError>,
        /// What was done before.
        report: ApplyReport,
    },
    /// The `config.kubernetes.io/depends-on` annotations cannot be followed; nothing was written.
    #[error(transparent)]
    Order(#[from] crate::manifest::DependsError),
    /// Objects others declare a dependency on did not become ready, so their dependents were not sent.
    #[error("waiting for dependencies (config.kubernetes.io/depends-on): {source}")]
    DependencyNotReady {
        /// Why the wait ended.
        source: Box<WaitError>,
        /// What was done before.
        report: ApplyReport,
    },
    /// Readiness wait failed.
    #[error(transparent)]
    Wait(#[from] WaitError),
    /// A hook's manifest could not be parsed.
    #[error("parsing hook {path}: {message}")]
    HookManifest {
        /// Template path of the hook.
        path: String,
        /// The parser's message.
        message: String,
    },
    /// A hook failed: its object could not be written or deleted, or its Job/Pod failed or timed out.
    #[error("{event} hook {hook} ({path}) failed: {message}")]
    Hook {
        /// The hook event (`pre-install`, ...).
        event: String,
        /// The hook object, as `Kind ns/name`.
        hook: String,
        /// Template path of the hook.
        path: String,
        /// What went wrong.
        message: String,
    },
}

/// `Kind ns/name`, or `Kind name` for cluster-scoped objects: how messages name an object.
pub(crate) fn describe(id: &ObjectRef) -> String {
    describe_parts(&id.kind, &id.namespace, &id.name)
}

pub(crate) fn describe_parts(kind: &str, namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        format!("{kind} {name}")
    } else {
        format!("{kind} {namespace}/{name}")
    }
}

/// A boxed future borrowed from the caller, for [`run_bounded`].
pub(crate) type Task<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Runs `tasks` with at most `limit` in flight, all inside the calling task (so they may borrow
/// `&dyn Cluster`), and returns their outputs in input order.
pub(crate) async fn run_bounded<T>(limit: usize, tasks: Vec<Task<'_, T>>) -> Vec<T> {
    let limit = limit.max(1);
    let mut results: Vec<Option<T>> = tasks.iter().map(|_| None).collect();
    let mut queue = tasks.into_iter().enumerate();
    let mut running: Vec<(usize, Task<'_, T>)> = Vec::with_capacity(limit);
    std::future::poll_fn(|cx| loop {
        while running.len() < limit {
            match queue.next() {
                Some(t) => running.push(t),
                None => break,
            }
        }
        if running.is_empty() {
            return Poll::Ready(());
        }
        let mut finished = false;
        let mut i = 0;
        while i < running.len() {
            if let Poll::Ready(v) = running[i].1.as_mut().poll(cx) {
                let (index, _) = running.swap_remove(i);
                results[index] = Some(v);
                finished = true;
            } else {
                i += 1;
            }
        }
        // Slots were freed: start the next tasks now, or they would wait for an unrelated wake-up.
        if !finished {
            return Poll::Pending;
        }
    })
    .await;
    results.into_iter().flatten().collect()
}
