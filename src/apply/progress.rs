//! Progress reporting: the library never prints; it tells a [`Progress`] what happens, and the CLI
//! decides how (and whether) to show it. Events arrive from concurrent tasks, so implementations
//! must be `Send + Sync` and should not block.

use std::sync::Arc;
use std::time::Duration;

use crate::diff::ObjectRef;

use super::executor::Outcome;
use super::hooks::HookPhase;

/// Something that happened during apply, wait or hooks.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// A wave of objects of one kind starts (`deleting` for the prune waves).
    Wave {
        /// The kind in this wave.
        kind: String,
        /// How many objects it writes.
        objects: usize,
        /// Whether this is a delete (prune) wave.
        deleting: bool,
    },
    /// One object was written (or left alone).
    Object {
        /// Which object.
        id: ObjectRef,
        /// What was done.
        outcome: Outcome,
    },
    /// An update hit an immutable field; the object is being deleted and created again.
    Recreating {
        /// Which object.
        id: ObjectRef,
        /// The server's message.
        reason: String,
    },
    /// Objects that later ones declare a dependency on (`config.kubernetes.io/depends-on`) are
    /// being waited for.
    Dependencies {
        /// How many.
        objects: usize,
    },
    /// An object is not ready yet (sent when the reason or its pods' states change).
    Waiting {
        /// The object, as `Kind ns/name`.
        object: String,
        /// Why it is not ready.
        reason: String,
        /// For workloads, its pods by state (`1 CrashLoopBackOff, 2 Ready`); empty otherwise.
        pods: String,
    },
    /// An object became ready.
    Ready {
        /// The object, as `Kind ns/name`.
        object: String,
        /// Time since the wait began.
        after: Duration,
    },
    /// A Warning event about an object waited for (or one of its pods) arrived.
    Warning {
        /// What it is about, as `Kind/name`.
        object: String,
        /// Its reason (`BackOff`, `FailedScheduling`).
        reason: String,
        /// Its message.
        message: String,
        /// How many times it happened so far.
        count: i64,
    },
    /// A hook starts.
    HookStarted {
        /// The hook event (`pre-install`, ...).
        event: String,
        /// The hook object, as `Kind ns/name`.
        hook: String,
    },
    /// A hook finished.
    HookFinished {
        /// The hook event.
        event: String,
        /// The hook object, as `Kind ns/name`.
        hook: String,
        /// How it ended.
        phase: HookPhase,
    },
    /// A hook object was deleted because of a delete policy.
    HookDeleted {
        /// The hook object, as `Kind ns/name`.
        hook: String,
        /// The policy that deleted it (`before-hook-creation`, `hook-succeeded`, `hook-failed`).
        policy: String,
    },
}

/// Receives [`Event`]s. Closures `Fn(&Event) + Send + Sync` implement it.
pub trait Progress: Send + Sync {
    /// Called once per event, possibly from several tasks at once.
    fn event(&self, event: &Event);
}

/// Lets options structs that hold an `Arc<dyn Progress>` derive `Debug`: a sink has nothing
/// worth printing.
impl std::fmt::Debug for dyn Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
}

impl<F: Fn(&Event) + Send + Sync> Progress for F {
    fn event(&self, event: &Event) {
        self(event)
    }
}

/// A [`Progress`] that drops every event.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn event(&self, _event: &Event) {}
}

/// The default progress sink for options structs.
pub(crate) fn silent() -> Arc<dyn Progress> {
    Arc::new(NoProgress)
}
