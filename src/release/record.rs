//! The release record: what one revision of a release remembers, and the clock that dates it.
//!
//! This is Helm's `pkg/release` `Release` + `Info` + `Hook`, trimmed to what kubectl-chart needs to
//! diff, upgrade and roll back: the rendered manifest, the user-supplied and computed values, the
//! hooks and notes, and the chart's identity. Unlike Helm we do not embed the chart's templates and
//! files (that is what pushes Helm records past the 1 MiB object limit, helm/helm#7126), and we
//! record which run wrote the revision so an interrupted one can be named in its failure message.

use std::sync::atomic::{AtomicI64, Ordering};

use serde::{Deserialize, Serialize};

/// The state of one revision. The strings are Helm's (`pkg/release/status.go`), so `history`
/// output and label selectors read the same as Helm's. Helm's `unknown` is left out: nothing here
/// ever writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// An install is underway.
    PendingInstall,
    /// An upgrade is underway.
    PendingUpgrade,
    /// A rollback is underway.
    PendingRollback,
    /// The revision is what runs in the cluster.
    Deployed,
    /// A later revision replaced this one.
    Superseded,
    /// The operation that wrote this revision failed (or was interrupted).
    Failed,
    /// An uninstall is underway.
    Uninstalling,
    /// The release was uninstalled and its history kept.
    Uninstalled,
}

impl Status {
    /// Every status, for parsing and tests.
    pub const ALL: [Status; 8] = [
        Status::PendingInstall,
        Status::PendingUpgrade,
        Status::PendingRollback,
        Status::Deployed,
        Status::Superseded,
        Status::Failed,
        Status::Uninstalling,
        Status::Uninstalled,
    ];

    /// Helm's spelling, also the value of the `status` label.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::PendingInstall => "pending-install",
            Status::PendingUpgrade => "pending-upgrade",
            Status::PendingRollback => "pending-rollback",
            Status::Deployed => "deployed",
            Status::Superseded => "superseded",
            Status::Failed => "failed",
            Status::Uninstalling => "uninstalling",
            Status::Uninstalled => "uninstalled",
        }
    }

    /// The status for a label value, `None` for anything else.
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// A transition rather than a state: some run is (or was) in the middle of an operation.
    /// `uninstalling` counts too, which Helm's `IsPending` forgets.
    pub fn is_pending(self) -> bool {
        matches!(
            self,
            Status::PendingInstall | Status::PendingUpgrade | Status::PendingRollback | Status::Uninstalling
        )
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The operation a run performs; it decides the pending status of the revision it opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Operation {
    /// First revision of a release (or a re-install over an uninstalled one).
    Install,
    /// A new revision from a new chart or new values.
    Upgrade,
    /// A new revision that restores an older one's contents.
    Rollback,
    /// Removing the release.
    Uninstall,
}

impl Operation {
    /// The status the record carries while this operation runs.
    pub fn pending_status(self) -> Status {
        match self {
            Operation::Install => Status::PendingInstall,
            Operation::Upgrade => Status::PendingUpgrade,
            Operation::Rollback => Status::PendingRollback,
            Operation::Uninstall => Status::Uninstalling,
        }
    }

    /// Lowercase verb for messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Install => "install",
            Operation::Upgrade => "upgrade",
            Operation::Rollback => "rollback",
            Operation::Uninstall => "uninstall",
        }
    }
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Seconds since the Unix epoch, UTC. Whole seconds are enough: Helm's own `createdAt` and
/// `modifiedAt` labels are whole seconds, and lease TTLs are tens of seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The instant `secs` seconds later.
    pub fn plus_secs(self, secs: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(secs))
    }

    /// `2006-01-02T15:04:05Z`, for messages of this layer (output has Helm's other layouts).
    pub fn utc(self) -> String {
        let (days, secs) = (self.0.div_euclid(86_400), self.0.rem_euclid(86_400));
        let (year, month, day) = gotemplate::civil::civil_from_days(days);
        format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Where "now" comes from. Injected so tests (and Helm-style golden output) use a fixed instant,
/// as Helm swaps `action.Timestamper` in its tests.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Timestamp(secs)
    }
}

/// A clock that only moves when told to, for tests of leases and timestamps.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock stopped at `at`.
    pub fn new(at: Timestamp) -> ManualClock {
        ManualClock(AtomicI64::new(at.0))
    }

    /// Move the clock forward by `secs`.
    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

/// The chart a revision was made from. Only its identity: the templates are not stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartRef {
    /// `Chart.yaml` `name`.
    pub name: String,
    /// `Chart.yaml` `version`.
    pub version: String,
    /// `Chart.yaml` `appVersion`, empty when the chart has none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub app_version: String,
    /// Where the chart was fetched from (absent for a chart directory, and in records written
    /// before charts could be fetched).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<ChartOrigin>,
}

/// Where a chart came from: the reference or path it was given as, and the archive's digest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartOrigin {
    /// `oci://host/repo/name:tag`, an `https://` URL, or an archive path.
    pub source: String,
    /// `sha256:<hex>` of the chart archive.
    pub digest: String,
}

/// The last execution of a hook (Helm's `HookExecution`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookRun {
    /// When the hook was created.
    pub started_at: Timestamp,
    /// When it finished, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<Timestamp>,
    /// Helm's phase string: `Unknown`, `Running`, `Succeeded` or `Failed`.
    pub phase: String,
}

/// A hook document of the release (Helm's `release.Hook`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hook {
    /// `metadata.name`.
    pub name: String,
    /// `kind`.
    pub kind: String,
    /// Template path it came from.
    pub path: String,
    /// The rendered document.
    pub manifest: String,
    /// Hook events (`pre-install`, ...).
    pub events: Vec<String>,
    /// `helm.sh/hook-weight`.
    #[serde(default)]
    pub weight: i64,
    /// `helm.sh/hook-delete-policy` entries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub delete_policies: Vec<String>,
    /// The last execution, if the hook ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<HookRun>,
}

impl From<&crate::manifest::Hook> for Hook {
    fn from(h: &crate::manifest::Hook) -> Hook {
        Hook {
            name: h.manifest.head.name.clone(),
            kind: h.manifest.head.kind.clone(),
            path: h.manifest.path.clone(),
            manifest: h.manifest.content.clone(),
            events: h.events.clone(),
            weight: h.weight,
            delete_policies: h.delete_policies.clone(),
            last_run: None,
        }
    }
}

/// One revision of a release, as stored (encrypted) in its record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Release {
    /// Release name.
    pub name: String,
    /// Namespace of the release and of its records.
    pub namespace: String,
    /// Revision number, from 1.
    pub revision: u32,
    /// State of this revision.
    pub status: Status,
    /// The chart it was made from.
    pub chart: ChartRef,
    /// Only the user-supplied values (`-f`, `--set`...), as Helm's `config`.
    pub values: serde_json::Value,
    /// The values templates saw (chart defaults coalesced with `values`), which Helm recomputes
    /// from the stored chart; we store them because we do not store the chart.
    pub computed_values: serde_json::Value,
    /// The rendered non-hook documents, as Helm's `manifest`.
    pub manifest: String,
    /// The hook documents.
    #[serde(default)]
    pub hooks: Vec<Hook>,
    /// Rendered `NOTES.txt`.
    #[serde(default)]
    pub notes: String,
    /// Human log entry ("Upgrade complete", the failure message...).
    #[serde(default)]
    pub description: String,
    /// When revision 1 was written.
    pub first_deployed: Timestamp,
    /// When this revision was written or last changed state.
    pub last_deployed: Timestamp,
    /// When the release was uninstalled (with history kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<Timestamp>,
    /// The run that wrote this revision (see [`crate::release::lock`]).
    pub owner: String,
}

impl Release {
    /// The record's object name: `kubectl-chart.<name>.v<revision>` (Helm's `makeKey` with our
    /// prefix, which keeps release names from clashing with the user's own objects, helm/helm#6435).
    pub fn key(&self) -> String {
        record_key(&self.name, self.revision)
    }

    /// The metadata that stays readable next to the encrypted body.
    pub fn meta(&self) -> RecordMeta {
        RecordMeta {
            name: self.name.clone(),
            revision: self.revision,
            status: self.status,
            chart: self.chart.clone(),
            first_deployed: self.first_deployed,
            last_deployed: self.last_deployed,
            owner: self.owner.clone(),
            // Set by the store when it writes the record: it depends on the status replaced.
            supersedes: false,
        }
    }
}

/// The prefix of every object kubectl-chart stores, and the value of the `owner` label.
pub const OWNER: &str = "kubectl-chart";

/// `kubectl-chart.<name>.v<revision>`.
pub fn record_key(name: &str, revision: u32) -> String {
    format!("{OWNER}.{name}.v{revision}")
}

/// The parts of a record anyone with ConfigMap read access may see: labels and annotations.
/// Everything else (values, manifest, hooks, notes, description) is in the encrypted body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordMeta {
    /// Release name.
    pub name: String,
    /// Revision number.
    pub revision: u32,
    /// Status.
    pub status: Status,
    /// Chart identity.
    pub chart: ChartRef,
    /// When revision 1 was written.
    pub first_deployed: Timestamp,
    /// When this revision was written or last changed state.
    pub last_deployed: Timestamp,
    /// The run that wrote it.
    pub owner: String,
    /// An `uninstalling` or `uninstalled` record whose revision was `deployed` when the
    /// uninstall began: it supersedes older records as a deployed one does (see
    /// [`crate::release::Store`]), so uninstall rewrites none of them. `false` for any other.
    pub supersedes: bool,
}

/// Check a release name the way Helm does (`chartutil.ValidateReleaseName`): at most 53
/// characters of lowercase DNS-1123 subdomain. The names of our objects and the `name` label
/// (at most 63 characters) are built from it, so a bad name must stop here.
pub fn validate_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("no name provided".to_string());
    }
    let label_ok = |l: &str| {
        let b = l.as_bytes();
        !b.is_empty()
            && b.iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
            && b[0] != b'-'
            && b[b.len() - 1] != b'-'
    };
    if name.len() > 53 || !name.split('.').all(label_ok) {
        return Err(format!(
            "invalid release name {name:?}, must match regex \
             ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$ and the length \
             must not be longer than 53"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_strings_are_helms() {
        // pkg/release/status.go
        let cases = [
            ("pending-install", Status::PendingInstall, true),
            ("pending-upgrade", Status::PendingUpgrade, true),
            ("pending-rollback", Status::PendingRollback, true),
            ("deployed", Status::Deployed, false),
            ("superseded", Status::Superseded, false),
            ("failed", Status::Failed, false),
            ("uninstalling", Status::Uninstalling, true),
            ("uninstalled", Status::Uninstalled, false),
        ];
        for (s, st, pending) in cases {
            assert_eq!(st.as_str(), s, "{s}");
            assert_eq!(Status::parse(s), Some(st), "{s}");
            assert_eq!(st.is_pending(), pending, "{s}");
            assert_eq!(serde_json::to_string(&st).unwrap(), format!("\"{s}\""), "{s}");
        }
        assert_eq!(Status::parse("unknown"), None);
    }

    #[test]
    fn release_names() {
        // chartutil/validate_name_test.go cases
        let cases = [
            ("simple", "a", true),
            ("dotted", "good.name", true),
            ("dashes", "a-b-c", true),
            ("empty", "", false),
            ("uppercase", "Bad", false),
            ("underscore", "bad_name", false),
            ("leading dash", "-bad", false),
            ("trailing dash", "bad-", false),
            ("double dot", "a..b", false),
        ];
        let long53 = "a".repeat(53);
        let long54 = "a".repeat(54);
        let cases = cases.into_iter().chain([
            ("53 chars", long53.as_str(), true),
            ("54 chars", long54.as_str(), false),
        ]);
        for (case, name, ok) in cases {
            assert_eq!(
                validate_name(name).is_ok(),
                ok,
                "{case}: {name:?} ({} chars)",
                name.len()
            );
        }
    }

    #[test]
    fn record_key_format() {
        assert_eq!(record_key("web", 7), "kubectl-chart.web.v7");
    }
}
