//! Stage 8, RECORD: what was released, when, by which run, and with what result.
//!
//! One revision of a release is one [`Release`] record, stored as one ConfigMap
//! `kubectl-chart.<release>.v<N>` in the release's namespace, Helm-style (labels `owner`, `name`,
//! `version`, `status` for server-side filtering; gzip'd JSON in `data.release`) but with the
//! whole body encrypted under a per-namespace key ([`codec`]) and a lease lock so a killed run
//! never leaves the release stuck in `pending-*` ([`lock`]). A body over the 1 MiB object limit
//! is split into `kubectl-chart.<release>.v<N>.part<K>` objects, written before the record and
//! checksummed (see [`Store`]).
//!
//! Entry point: [`Store`] (`begin` → work, `renew` → `mark_deployed`/`mark_failed`), over a
//! [`driver::Driver`]: [`driver::ConfigMapDriver`] on a cluster through [`driver::ConfigMapApi`]
//! (no `kube::` here), or `driver::MemoryDriver` in tests. What this stage does not do: talk
//! to Kubernetes itself, decide whether an install may replace a name (the action's call), or
//! run hooks.

pub mod codec;
pub mod driver;
pub mod helm;
pub mod lock;
mod parts;
mod record;
mod store;

pub use record::{
    record_key, validate_name, ChartOrigin, ChartRef, Clock, Hook, HookRun, ManualClock, Operation,
    RecordMeta, Release, Status, SystemClock, Timestamp, OWNER,
};
pub use store::{
    BeginOptions, DeadLeases, Error, Pending, Result, Store, Unchanged, DEFAULT_HISTORY_MAX, MAX_BODY_BYTES,
    MAX_SLICES,
};
