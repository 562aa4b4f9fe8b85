//! Saved plans: what was reviewed is what gets applied.
//!
//! `diff RELEASE CHART --out PLAN` plans exactly as `apply` would (the same render, with `lookup`
//! and the chart's `crds/`, the same three-way plan) and writes it as a versioned JSON file:
//! where it was made (release, namespace, API server and context), the revision it builds on,
//! the chart (its path, name, version and digest), the user values, the manifest and hooks the
//! new revision will record, and per object the exact operation with the `resourceVersion` of the
//! live object it was computed against. The values may hold secrets: the file is written 0600.
//!
//! `apply RELEASE --plan PLAN` reads it ([`read`]), refuses a plan made for another release,
//! namespace or cluster ([`check_target`]), then runs the normal `apply` with the recorded chart
//! and values. After that run has rendered and planned, and before it writes anything,
//! [`verify`] compares its plan with the saved one and refuses, naming what changed, when the
//! release moved past the revision the plan builds on, when a live object's `resourceVersion`
//! moved (every such object is named), when the chart and values no longer render the same
//! manifest and hooks, or when any operation would differ. So what is applied is exactly what was
//! saved, through the same write path as `apply` (lock, hooks, waits, record).

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    diff::{Action, Change, ObjectRef, Plan},
    release::{self, BeginOptions, ChartOrigin},
};

/// The `apiVersion` of the file format this build writes and reads; a file with any other is
/// refused, so a future format is never half-read.
pub const API_VERSION: &str = "kubectl-chart/v1";

/// The `kind` of a saved plan file.
pub const KIND: &str = "SavedPlan";

/// A saved plan, as written to disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SavedPlan {
    /// [`API_VERSION`].
    pub api_version: String,
    /// [`KIND`].
    pub kind: String,
    /// Release name.
    pub release: String,
    /// Release namespace.
    pub namespace: String,
    /// Where it was made.
    pub cluster: ClusterId,
    /// The newest revision when the plan was made (`None`: the release did not exist).
    pub base_revision: Option<u32>,
    /// The revision applying it records.
    pub revision: u32,
    /// The chart it renders.
    pub chart: SavedChart,
    /// `--kube-version` the plan was rendered with, reused when it is checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kube_version: Option<String>,
    /// `--crds` the plan was made with (its CRD changes are part of the plan), reused when it is
    /// applied.
    #[serde(default)]
    pub crds: crate::apply::CrdPolicy,
    /// `sha256:<hex>` of [`SavedPlan::values`] with keys sorted: a file whose values were edited
    /// after it was written is refused.
    pub values_digest: String,
    /// The user values (files and `--set*` merged): the new revision records them, and the check
    /// renders with them.
    pub values: Value,
    /// The manifest the new revision records.
    pub manifest: String,
    /// The hooks the new revision records.
    pub hooks: Vec<release::Hook>,
    /// One operation per object, in plan order.
    pub objects: Vec<PlannedObject>,
}

/// The API server and kubeconfig context a plan was made against.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterId {
    /// `host:port` of the API server.
    pub server: String,
    /// The kubeconfig context.
    pub context: String,
}

/// The chart of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SavedChart {
    /// The chart directory or archive on disk (for a fetched chart, its cache entry).
    pub path: String,
    /// `Chart.yaml` name.
    pub name: String,
    /// `Chart.yaml` version.
    pub version: String,
    /// `sha256:<hex>` of the archive, or of every file of the directory with its path.
    pub digest: String,
    /// Where a fetched chart came from, recorded with the revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<ChartOrigin>,
}

/// What happens to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    /// Created ([`PlannedObject::object`]).
    Create,
    /// RFC 6902 patch ([`PlannedObject::patch`]), whose first operation tests the
    /// `resourceVersion`.
    Patch,
    /// Deleted (pruned).
    Delete,
    /// Left the chart but kept (`helm.sh/resource-policy: keep`).
    Keep,
    /// Already as planned.
    Noop,
}

/// One object of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlannedObject {
    /// `apiVersion`.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// Namespace; empty for cluster-scoped objects.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// What is done to it.
    pub operation: Operation,
    /// The live object's `resourceVersion` when the plan was made; `None`: it did not exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    /// The object to create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<Value>,
    /// The JSON patch to send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch: Option<Value>,
}

impl PlannedObject {
    /// The object's saved form.
    pub fn of(change: &Change) -> anyhow::Result<PlannedObject> {
        let (operation, object, patch) = match &change.action {
            Action::Create => (Operation::Create, change.predicted.clone(), None),
            Action::Patch(p) => (
                Operation::Patch,
                None,
                Some(serde_json::to_value(p).context("encoding a patch")?),
            ),
            Action::Delete => (Operation::Delete, None, None),
            Action::Keep => (Operation::Keep, None, None),
            Action::Noop => (Operation::Noop, None, None),
        };
        Ok(PlannedObject {
            api_version: change.api_version.clone(),
            kind: change.id.kind.clone(),
            namespace: change.id.namespace.clone(),
            name: change.id.name.clone(),
            operation,
            resource_version: resource_version(change.live.as_ref()),
            object,
            patch,
        })
    }

    fn id(&self) -> ObjectRef {
        let group = self.api_version.rsplit_once('/').map_or("", |(g, _)| g);
        ObjectRef::new(group, &self.kind, &self.namespace, &self.name)
    }
}

fn resource_version(live: Option<&Value>) -> Option<String> {
    live.map(|l| {
        l.pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    })
}

/// What `diff --out` asks of the `apply` run it makes, and what `apply --plan` hands it.
#[derive(Clone)]
pub enum SavedPlanUse {
    /// Render and plan exactly as a real run, then stop before the first write: the result is
    /// saved.
    Write,
    /// Render with these values and refuse, before the first write, a plan that differs.
    Verify(Arc<SavedPlan>),
}

impl SavedPlanUse {
    /// Whether the run stops after planning.
    pub(crate) fn stops_after_plan(use_: Option<&SavedPlanUse>) -> bool {
        matches!(use_, Some(SavedPlanUse::Write))
    }

    /// The user values the run renders with, instead of values flags.
    pub(crate) fn values(use_: Option<&SavedPlanUse>) -> Option<Value> {
        match use_ {
            Some(SavedPlanUse::Verify(saved)) => Some(saved.values.clone()),
            _ => None,
        }
    }
}

/// Why a saved plan is not applied. Every variant names what changed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Refusal {
    /// The plan was made for another release, namespace or cluster.
    #[error("the plan was made for {planned}, not {here}")]
    OtherTarget {
        /// Where the plan was made.
        planned: String,
        /// Where it was asked to run.
        here: String,
    },
    /// The release has a newer revision than the one the plan builds on.
    #[error("release {release} is at {now} now, but the plan builds on {planned}: make a new plan")]
    BaseMoved {
        /// Release name.
        release: String,
        /// What the plan builds on.
        planned: String,
        /// What the release has now.
        now: String,
    },
    /// Live objects changed since the plan was made.
    #[error("live objects changed since the plan was made: {}; make a new plan", .0.join("; "))]
    ObjectsChanged(Vec<String>),
    /// The chart and values no longer render what was planned.
    #[error("the chart and values no longer produce the planned release: {}; make a new plan", .0.join("; "))]
    RenderChanged(Vec<String>),
    /// The operations on some objects would differ.
    #[error("the plan would now differ for {}; make a new plan", .0.join("; "))]
    PlanChanged(Vec<String>),
}

/// `sha256:<hex>` of `values` with every map's keys sorted, so the digest does not depend on the
/// order values files were written in.
pub fn values_digest(values: &Value) -> String {
    let bytes = serde_json::to_vec(&crate::output::sort_keys(values)).unwrap_or_default();
    format!("sha256:{}", crate::net::sha256_hex(&bytes))
}

/// `sha256:<hex>` of a chart: of the archive's bytes, or of every file under the directory (its
/// relative path, then its bytes, in path order), so any change to the chart changes it.
pub fn chart_digest(path: &Path) -> std::io::Result<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            // Followed like the chart loader follows them: a symlinked file counts as its target.
            if std::fs::metadata(&path)?.is_dir() {
                walk(root, &path, out)?;
            } else {
                out.push(path.strip_prefix(root).unwrap_or(&path).to_path_buf());
            }
        }
        Ok(())
    }
    if !std::fs::metadata(path)?.is_dir() {
        return Ok(format!(
            "sha256:{}",
            crate::net::sha256_hex(&std::fs::read(path)?)
        ));
    }
    let mut files = Vec::new();
    walk(path, path, &mut files)?;
    files.sort();
    let mut all = Vec::new();
    for f in files {
        let bytes = std::fs::read(path.join(&f))?;
        all.extend_from_slice(f.to_string_lossy().as_bytes());
        all.push(0);
        all.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        all.extend_from_slice(&bytes);
    }
    Ok(format!("sha256:{}", crate::net::sha256_hex(&all)))
}

/// Where and from what a plan is made, besides the run's result.
pub struct PlanOrigin {
    /// Release namespace.
    pub namespace: String,
    /// API server and context.
    pub cluster: ClusterId,
    /// The chart on disk.
    pub chart_path: PathBuf,
    /// `--kube-version`.
    pub kube_version: Option<String>,
    /// `--crds`.
    pub crds: crate::apply::CrdPolicy,
}

impl SavedPlan {
    /// The saved form of a planned run: `release` is the revision it would record (a preview, with
    /// the manifest, hooks and values), `plan` its operations.
    pub fn new(origin: PlanOrigin, release: &release::Release, plan: &Plan) -> anyhow::Result<SavedPlan> {
        let digest = chart_digest(&origin.chart_path)
            .with_context(|| format!("reading chart {}", origin.chart_path.display()))?;
        Ok(SavedPlan {
            api_version: API_VERSION.to_string(),
            kind: KIND.to_string(),
            release: release.name.clone(),
            namespace: origin.namespace,
            cluster: origin.cluster,
            // Revision 1 is recorded only when there is no record at all.
            base_revision: (release.revision > 1).then(|| release.revision - 1),
            revision: release.revision,
            chart: SavedChart {
                path: origin.chart_path.to_string_lossy().into_owned(),
                name: release.chart.name.clone(),
                version: release.chart.version.clone(),
                digest,
                origin: release.chart.origin.clone(),
            },
            kube_version: origin.kube_version,
            crds: origin.crds,
            values_digest: values_digest(&release.values),
            values: release.values.clone(),
            manifest: release.manifest.clone(),
            hooks: release
                .hooks
                .iter()
                .map(|h| release::Hook {
                    last_run: None,
                    ..h.clone()
                })
                .collect(),
            objects: plan
                .changes
                .iter()
                .map(PlannedObject::of)
                .collect::<anyhow::Result<_>>()?,
        })
    }

    /// The file's text: pretty JSON, one trailing newline.
    pub fn to_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a saved plan always encodes");
        text.push('\n');
        text
    }

    /// Reads a plan from its text; `path` names it in errors. Refuses another `kind`, another
    /// format version, and values that no longer match their digest.
    pub fn parse(text: &str, path: &Path) -> anyhow::Result<SavedPlan> {
        let shown = path.display();
        let head: Value = serde_json::from_str(text)
            .with_context(|| format!("{shown}: not a saved plan (invalid JSON)"))?;
        let field = |k: &str| head.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        if field("kind") != KIND {
            anyhow::bail!(
                "{shown}: not a saved plan: field kind is {:?}, want {KIND:?} (write one with `diff --out`)",
                field("kind")
            );
        }
        if field("apiVersion") != API_VERSION {
            anyhow::bail!(
                "{shown}: field apiVersion: saved plan format {:?} is not supported by this version \
                 of kubectl-chart, which reads {API_VERSION:?}",
                field("apiVersion")
            );
        }
        // Parsed again from the text, so a bad field is reported with its line; the pretty JSON
        // we write has one key per line, so that line also names the field.
        let plan: SavedPlan = serde_json::from_str(text).map_err(|e| {
            let field = text
                .lines()
                .nth(e.line().saturating_sub(1))
                .and_then(|l| l.trim_start().strip_prefix('"'))
                .and_then(|l| l.split_once("\":"))
                .map_or(String::new(), |(k, _)| format!(" field {k}:"));
            anyhow::anyhow!("{shown}: line {}:{field} {e}", e.line())
        })?;
        let digest = values_digest(&plan.values);
        if digest != plan.values_digest {
            anyhow::bail!(
                "{shown}: field values: does not match valuesDigest {} (now {digest}): the file was edited",
                plan.values_digest
            );
        }
        Ok(plan)
    }
}

/// Reads the plan at `path`.
pub fn read(path: &Path) -> anyhow::Result<SavedPlan> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading saved plan {}", path.display()))?;
    SavedPlan::parse(&text, path)
}

/// Writes `plan` to `path`, readable by its owner only (the values may hold secrets): through a
/// temporary file in the same directory, renamed into place, so a reader never sees half a plan
/// and an older file's permissions never carry over.
pub fn write(path: &Path, plan: &SavedPlan) -> anyhow::Result<()> {
    use std::io::Write as _;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .with_context(|| format!("--out {}: not a file name", path.display()))?;
    let tmp = dir.join(format!(".{}.{}.tmp", name.to_string_lossy(), std::process::id()));
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    let result = (|| {
        let mut f = open.open(&tmp)?;
        f.write_all(plan.to_text().as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("writing saved plan {}", path.display()))
}

/// Refuses a plan made for another release, namespace or API server. The context is only
/// reported: two kubeconfigs may name the same server differently.
pub fn check_target(
    plan: &SavedPlan,
    release: &str,
    namespace: &str,
    cluster: &ClusterId,
) -> Result<(), Refusal> {
    let at = |r: &str, ns: &str, c: &ClusterId| {
        let mut s = format!("release {r} in namespace {ns}");
        if !c.server.is_empty() {
            s.push_str(&format!(" on server {} (context {})", c.server, c.context));
        }
        s
    };
    if plan.release != release || plan.namespace != namespace || plan.cluster.server != cluster.server {
        return Err(Refusal::OtherTarget {
            planned: at(&plan.release, &plan.namespace, &plan.cluster),
            here: at(release, namespace, cluster),
        });
    }
    Ok(())
}

/// Compares a fresh run's plan with the saved one; see the module docs. `base` is the release's
/// newest revision now, `begin` what the run would record, `plan` its operations.
pub fn verify(
    saved: &SavedPlan,
    base: Option<u32>,
    begin: &BeginOptions,
    plan: &Plan,
) -> Result<(), Refusal> {
    if base != saved.base_revision {
        let show = |r: Option<u32>| r.map_or("no revision".to_string(), |r| format!("revision {r}"));
        return Err(Refusal::BaseMoved {
            release: saved.release.clone(),
            planned: show(saved.base_revision),
            now: show(base),
        });
    }
    let now: BTreeMap<ObjectRef, &Change> = plan.changes.iter().map(|c| (c.id.clone(), c)).collect();
    // Objects first: a concurrent edit is the likeliest cause, and it also changes the patches.
    let mut moved = Vec::new();
    for o in &saved.objects {
        let id = o.id();
        let Some(change) = now.get(&id) else { continue };
        let live = resource_version(change.live.as_ref());
        if live != o.resource_version {
            let show = |rv: &Option<String>| match rv {
                Some(rv) => format!("resourceVersion {rv}"),
                None => "absent".to_string(),
            };
            moved.push(format!(
                "{} ({} when planned, {} now)",
                crate::apply::describe(&id),
                show(&o.resource_version),
                show(&live)
            ));
        }
    }
    if !moved.is_empty() {
        return Err(Refusal::ObjectsChanged(moved));
    }
    let mut rendered = Vec::new();
    if begin.chart.name != saved.chart.name || begin.chart.version != saved.chart.version {
        rendered.push(format!(
            "chart {} {} is now {} {}",
            saved.chart.name, saved.chart.version, begin.chart.name, begin.chart.version
        ));
    }
    rendered.extend(documents_changed("manifest", &saved.manifest, &begin.manifest));
    let hooks = |hs: &[release::Hook]| -> BTreeMap<(String, String), (String, Vec<String>, i64)> {
        hs.iter()
            .map(|h| {
                (
                    (h.path.clone(), h.name.clone()),
                    (h.manifest.clone(), h.events.clone(), h.weight),
                )
            })
            .collect()
    };
    let (was, is) = (hooks(&saved.hooks), hooks(&begin.hooks));
    for key in was.keys().chain(is.keys()).collect::<BTreeSet<_>>() {
        let what = match (was.get(key), is.get(key)) {
            (Some(a), Some(b)) if a != b => "changed",
            (Some(_), None) => "is gone",
            (None, Some(_)) => "is new",
            _ => continue,
        };
        rendered.push(format!("hook {} ({}) {what}", key.1, key.0));
    }
    if values_digest(&begin.values) != saved.values_digest {
        rendered.push("the user values differ".to_string());
    }
    if !rendered.is_empty() {
        return Err(Refusal::RenderChanged(rendered));
    }
    // Same base, same live objects, same render: the operations can only differ when what the
    // server tells the planner did (merge keys from a changed CRD schema, a kind now served).
    let mut differ = Vec::new();
    let saved_ids: BTreeSet<ObjectRef> = saved.objects.iter().map(PlannedObject::id).collect();
    for o in &saved.objects {
        let id = o.id();
        match now.get(&id).map(|c| PlannedObject::of(c)) {
            Some(Ok(fresh)) if fresh == *o => {}
            Some(Ok(fresh)) => differ.push(format!(
                "{} (planned {:?}, now {:?} with other contents)",
                crate::apply::describe(&id),
                o.operation,
                fresh.operation
            )),
            Some(Err(e)) => differ.push(format!("{}: {e:#}", crate::apply::describe(&id))),
            None => differ.push(format!(
                "{} (planned, now not in the plan)",
                crate::apply::describe(&id)
            )),
        }
    }
    for c in &plan.changes {
        if !saved_ids.contains(&c.id) {
            differ.push(format!(
                "{} (not planned, now {})",
                crate::apply::describe(&c.id),
                c.action.name()
            ));
        }
    }
    if !differ.is_empty() {
        return Err(Refusal::PlanChanged(differ));
    }
    Ok(())
}

/// Documents of two manifests that differ, by their `# Source:` template.
fn documents_changed(what: &str, was: &str, is: &str) -> Vec<String> {
    fn by_source(text: &str) -> BTreeMap<String, Vec<&str>> {
        let mut out: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for doc in crate::manifest::split_documents(text) {
            let source = doc
                .lines()
                .find_map(|l| l.strip_prefix("# Source: "))
                .unwrap_or("(no source)");
            out.entry(source.to_string()).or_default().push(doc);
        }
        out
    }
    let (a, b) = (by_source(was), by_source(is));
    let mut out = Vec::new();
    for source in a.keys().chain(b.keys()).collect::<BTreeSet<_>>() {
        match (a.get(source), b.get(source)) {
            (Some(x), Some(y)) if x != y => out.push(format!("{what} {source} changed")),
            (Some(_), None) => out.push(format!("{what} {source} is no longer rendered")),
            (None, Some(_)) => out.push(format!("{what} {source} is newly rendered")),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        diff::{Inputs, MergeKeys},
        release::{ChartRef, Operation as RecordOp, Status, Timestamp},
    };
    use serde_json::json;

    /// A scratch directory of this test process, removed at the end of the test.
    struct Scratch(PathBuf);
    impl Scratch {
        fn new(name: &str) -> Scratch {
            let dir = std::env::temp_dir().join(format!("kc-saved-plan-{}-{name}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Scratch(dir)
        }
    }
    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn cm(name: &str, data: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "prod"}, "data": {"k": data}})
    }

    fn live(mut obj: Value, rv: &str) -> Value {
        obj["metadata"]["resourceVersion"] = json!(rv);
        obj
    }

    /// A plan over three objects: `a` patched (live at version 7), `b` created, `c` pruned.
    fn sample_plan() -> Plan {
        let mut inputs = Inputs::new();
        let id = |n: &str| ObjectRef::new("", "ConfigMap", "prod", n);
        inputs.desired(id("a"), cm("a", "2")).unwrap();
        inputs.desired(id("b"), cm("b", "1")).unwrap();
        inputs.original(id("a"), cm("a", "1")).unwrap();
        inputs.original(id("c"), cm("c", "1")).unwrap();
        inputs.live(id("a"), live(cm("a", "1"), "7")).unwrap();
        inputs.live(id("c"), live(cm("c", "1"), "8")).unwrap();
        crate::diff::plan(inputs, &MergeKeys::builtin()).unwrap()
    }

    const MANIFEST: &str = "---\n# Source: c/templates/a.yaml\nkind: ConfigMap\n---\n# Source: c/templates/b.yaml\nkind: ConfigMap\n";

    fn sample_release() -> release::Release {
        release::Release {
            name: "web".into(),
            namespace: "prod".into(),
            revision: 4,
            status: Status::PendingUpgrade,
            chart: ChartRef {
                name: "c".into(),
                version: "1.0.0".into(),
                app_version: String::new(),
                origin: None,
            },
            values: json!({"b": {"y": 1, "x": "secret"}, "a": [1, 2]}),
            computed_values: json!({}),
            manifest: MANIFEST.into(),
            hooks: vec![release::Hook {
                name: "migrate".into(),
                kind: "Job".into(),
                path: "c/templates/job.yaml".into(),
                manifest: "kind: Job".into(),
                events: vec!["pre-upgrade".into()],
                ..Default::default()
            }],
            notes: String::new(),
            description: String::new(),
            first_deployed: Timestamp(0),
            last_deployed: Timestamp(0),
            deleted: None,
            owner: String::new(),
        }
    }

    fn sample(dir: &Path) -> SavedPlan {
        std::fs::write(dir.join("Chart.yaml"), "name: c\nversion: 1.0.0\n").unwrap();
        let origin = PlanOrigin {
            namespace: "prod".into(),
            cluster: ClusterId {
                server: "10.0.0.1:6443".into(),
                context: "kit".into(),
            },
            chart_path: dir.to_path_buf(),
            kube_version: None,
            crds: Default::default(),
        };
        SavedPlan::new(origin, &sample_release(), &sample_plan()).unwrap()
    }

    /// What the apply run would record, as the sample was made from.
    fn begin_of(rel: &release::Release) -> BeginOptions {
        BeginOptions {
            name: rel.name.clone(),
            operation: RecordOp::Upgrade,
            chart: rel.chart.clone(),
            values: rel.values.clone(),
            computed_values: rel.computed_values.clone(),
            manifest: rel.manifest.clone(),
            hooks: rel.hooks.clone(),
            notes: String::new(),
            description: String::new(),
        }
    }

    #[test]
    fn the_file_holds_each_operation_and_reads_back_unchanged() {
        let dir = Scratch::new("roundtrip");
        let plan = sample(&dir.0);
        assert_eq!(plan.base_revision, Some(3), "revision 4 builds on 3");
        let ops: Vec<(&str, Operation, Option<&str>)> = plan
            .objects
            .iter()
            .map(|o| (o.name.as_str(), o.operation, o.resource_version.as_deref()))
            .collect();
        assert_eq!(
            ops,
            vec![
                ("a", Operation::Patch, Some("7")),
                ("b", Operation::Create, None),
                ("c", Operation::Delete, Some("8")),
            ]
        );
        // The patch keeps the resourceVersion test the executor sends.
        assert_eq!(
            plan.objects[0].patch.as_ref().unwrap()[0],
            json!({"op": "test", "path": "/metadata/resourceVersion", "value": "7"})
        );
        assert_eq!(plan.objects[1].object.as_ref().unwrap()["data"]["k"], "1");
        let text = plan.to_text();
        assert!(text.starts_with("{\n  \"apiVersion\": \"kubectl-chart/v1\",\n  \"kind\": \"SavedPlan\","));
        let back = SavedPlan::parse(&text, Path::new("p.json")).unwrap();
        assert_eq!(back, plan);
    }

    #[test]
    fn bad_files_are_refused_naming_the_file_and_field() {
        let dir = Scratch::new("bad");
        let good: Value = serde_json::from_str(&sample(&dir.0).to_text()).unwrap();
        let with = |f: &dyn Fn(&mut Value)| {
            let mut v = good.clone();
            f(&mut v);
            serde_json::to_string_pretty(&v).unwrap()
        };
        let cases: Vec<(&str, String, &str)> = vec![
            (
                "not json",
                "kind: SavedPlan".into(),
                "plan.json: not a saved plan (invalid JSON)",
            ),
            (
                "another kind",
                with(&|v| v["kind"] = json!("Release")),
                "plan.json: not a saved plan: field kind is \"Release\"",
            ),
            (
                "a future format",
                with(&|v| v["apiVersion"] = json!("kubectl-chart/v2")),
                "plan.json: field apiVersion: saved plan format \"kubectl-chart/v2\" is not supported",
            ),
            (
                "a missing field",
                with(&|v| {
                    v.as_object_mut().unwrap().remove("release");
                }),
                "missing field `release`",
            ),
            (
                "an unknown field",
                with(&|v| v["objects"][0]["extra"] = json!(1)),
                "unknown field `extra`",
            ),
            (
                "values edited after writing",
                with(&|v| v["values"]["b"]["x"] = json!("other")),
                "plan.json: field values: does not match valuesDigest",
            ),
        ];
        for (name, text, want) in cases {
            let err = format!(
                "{:#}",
                SavedPlan::parse(&text, Path::new("plan.json")).unwrap_err()
            );
            assert!(err.contains(want), "{name}: {err}");
        }
        // serde's errors carry the line of the bad field.
        let err = format!(
            "{:#}",
            SavedPlan::parse(&with(&|v| v["revision"] = json!("four")), Path::new("plan.json")).unwrap_err()
        );
        assert!(
            err.starts_with("plan.json: line 11: field revision: invalid type"),
            "{err}"
        );
    }

    #[test]
    fn values_digest_ignores_key_order_only() {
        let a = json!({"a": 1, "b": {"c": [1, {"d": 2, "e": 3}]}});
        let b: Value = serde_json::from_str(r#"{"b": {"c": [1, {"e": 3, "d": 2}]}, "a": 1}"#).unwrap();
        assert_eq!(values_digest(&a), values_digest(&b));
        assert_ne!(
            values_digest(&a),
            values_digest(&json!({"a": 2, "b": {"c": [1, {"d": 2, "e": 3}]}}))
        );
        assert_ne!(
            values_digest(&a),
            values_digest(&json!({"a": 1, "b": {"c": [{"d": 2, "e": 3}, 1]}}))
        );
    }

    #[test]
    fn chart_digest_follows_every_file() {
        let dir = Scratch::new("digest");
        std::fs::create_dir_all(dir.0.join("templates")).unwrap();
        std::fs::write(dir.0.join("Chart.yaml"), "name: c\n").unwrap();
        std::fs::write(dir.0.join("templates/a.yaml"), "a").unwrap();
        let first = chart_digest(&dir.0).unwrap();
        assert_eq!(first, chart_digest(&dir.0).unwrap(), "stable");
        std::fs::write(dir.0.join("templates/a.yaml"), "b").unwrap();
        let edited = chart_digest(&dir.0).unwrap();
        assert_ne!(first, edited, "a file's content");
        std::fs::rename(dir.0.join("templates/a.yaml"), dir.0.join("templates/b.yaml")).unwrap();
        assert_ne!(edited, chart_digest(&dir.0).unwrap(), "a file's name");
        let archive = dir.0.join("c.tgz");
        std::fs::write(&archive, b"bytes").unwrap();
        assert_eq!(
            chart_digest(&archive).unwrap(),
            format!("sha256:{}", crate::net::sha256_hex(b"bytes"))
        );
        assert!(chart_digest(&dir.0.join("gone")).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_written_for_its_owner_only() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = Scratch::new("mode");
        let plan = sample(&dir.0);
        let path = dir.0.join("web.plan");
        // An older, world-readable file is replaced, not rewritten in place.
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write(&path, &plan).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(read(&path).unwrap(), plan);
        let left: Vec<_> = std::fs::read_dir(&dir.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(left.is_empty(), "no temporary file left: {left:?}");
    }

    #[test]
    fn a_plan_runs_only_where_it_was_made() {
        let dir = Scratch::new("target");
        let plan = sample(&dir.0);
        let kit = |server: &str, context: &str| ClusterId {
            server: server.into(),
            context: context.into(),
        };
        let cases = [
            ("same place", "web", "prod", kit("10.0.0.1:6443", "kit"), None),
            ("another context name for the server", "web", "prod", kit("10.0.0.1:6443", "other"), None),
            ("another release", "api", "prod", kit("10.0.0.1:6443", "kit"), Some("not release api in namespace prod")),
            ("another namespace", "web", "dev", kit("10.0.0.1:6443", "kit"), Some("not release web in namespace dev")),
            (
                "another server",
                "web",
                "prod",
                kit("10.9.9.9:6443", "kit"),
                Some("made for release web in namespace prod on server 10.0.0.1:6443 (context kit), not release web in namespace prod on server 10.9.9.9:6443"),
            ),
        ];
        for (name, release, ns, cluster, want) in cases {
            let got = check_target(&plan, release, ns, &cluster)
                .err()
                .map(|e| e.to_string());
            match (got, want) {
                (None, None) => {}
                (Some(err), Some(want)) => assert!(err.contains(want), "{name}: {err}"),
                (got, want) => panic!("{name}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn verify_refuses_each_change_and_names_it() {
        let dir = Scratch::new("verify");
        let saved = sample(&dir.0);
        let rel = sample_release();
        // The same plan computed again: accepted.
        verify(&saved, Some(3), &begin_of(&rel), &sample_plan()).unwrap();

        let moved = {
            // Both a and c were written by someone else since: both are named.
            let mut p = sample_plan();
            p.changes[0].live.as_mut().unwrap()["metadata"]["resourceVersion"] = json!("9");
            p.changes[2].live.as_mut().unwrap()["metadata"]["resourceVersion"] = json!("10");
            p
        };
        let created = {
            let mut p = sample_plan();
            p.changes[1].live = Some(live(cm("b", "1"), "11"));
            p
        };
        let other_ops = {
            let mut p = sample_plan();
            p.changes[2].action = Action::Keep;
            p
        };
        let extra = {
            let mut p = sample_plan();
            p.changes.push(Change {
                id: ObjectRef::new("", "Secret", "prod", "s"),
                api_version: "v1".into(),
                action: Action::Create,
                live: None,
                predicted: Some(json!({})),
                drift: Vec::new(),
            });
            p
        };
        let mut new_doc = rel.clone();
        new_doc.manifest = MANIFEST.replace("kind: ConfigMap\n---", "kind: Secret\n---");
        let mut new_hook = rel.clone();
        new_hook.hooks[0].manifest = "kind: Job\nspec: {}".into();
        let mut new_values = rel.clone();
        new_values.values = json!({"a": [1]});
        let mut new_chart = rel.clone();
        new_chart.chart.version = "1.1.0".into();

        let cases: Vec<(&str, Option<u32>, &release::Release, Plan, &str)> = vec![
            (
                "a new revision since",
                Some(4),
                &rel,
                sample_plan(),
                "release web is at revision 4 now, but the plan builds on revision 3",
            ),
            ("release uninstalled and purged", None, &rel, sample_plan(), "is at no revision now"),
            (
                "live objects edited",
                Some(3),
                &rel,
                moved,
                "live objects changed since the plan was made: ConfigMap prod/a (resourceVersion 7 when planned, resourceVersion 9 now); ConfigMap prod/c (resourceVersion 8 when planned, resourceVersion 10 now)",
            ),
            (
                "an object created since",
                Some(3),
                &rel,
                created,
                "ConfigMap prod/b (absent when planned, resourceVersion 11 now)",
            ),
            ("a template renders otherwise", Some(3), &new_doc, sample_plan(), "manifest c/templates/a.yaml changed"),
            ("a hook renders otherwise", Some(3), &new_hook, sample_plan(), "hook migrate (c/templates/job.yaml) changed"),
            ("other values", Some(3), &new_values, sample_plan(), "the user values differ"),
            ("another chart version", Some(3), &new_chart, sample_plan(), "chart c 1.0.0 is now c 1.1.0"),
            ("another operation", Some(3), &rel, other_ops, "the plan would now differ for ConfigMap prod/c (planned Delete, now Keep"),
            ("an object not planned", Some(3), &rel, extra, "Secret prod/s (not planned, now create)"),
        ];
        for (name, base, release, plan, want) in cases {
            let err = verify(&saved, base, &begin_of(release), &plan)
                .expect_err(name)
                .to_string();
            assert!(err.contains(want), "{name}: {err}");
        }
    }
}
