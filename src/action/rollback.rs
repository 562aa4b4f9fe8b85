//! `rollback RELEASE [REVISION]`: re-apply a stored revision as a new revision.
//!
//! Only two records are decrypted, the current one (the base of the plan) and the target:
//! history is read as metadata, so memory does not grow with `--history-max`. A rollback whose
//! plan changes nothing and runs no hook is recorded in one write, as an unchanged upgrade is
//! ([`crate::release::Store::record_unchanged`]).

use std::time::Duration;

use anyhow::{bail, Context as _};

use super::{
    base::{ParsedManifest, Prefetched},
    plan::plan_with_intents,
    transaction::{recorded_hooks, Kind, Opened, PlanWork, Transaction},
    Context,
};
use crate::{
    apply::{self, ApplyOptions, Ownership},
    release::{BeginOptions, Operation, RecordMeta, Release, Status},
};

/// Inputs of `rollback`.
#[derive(Debug, Clone)]
pub struct RollbackOptions {
    /// Release name.
    pub release: String,
    /// Revision to go back to; default: the one before the current.
    pub revision: Option<u32>,
    /// `--wait`.
    pub wait: bool,
    /// `--wait=STRATEGY` rules and `--logs`.
    pub wait_style: apply::WaitStyle,
    /// `--wait-for-jobs`: with `--wait`, also wait for Jobs to complete.
    pub wait_for_jobs: bool,
    /// `--timeout`.
    pub timeout: Duration,
    /// `--force`.
    pub force: bool,
    /// `--no-hooks`.
    pub no_hooks: bool,
    /// `--description`.
    pub description: Option<String>,
    /// `--dry-run`: plan only.
    pub dry_run: bool,
}

/// Rolls back; returns the new revision.
pub async fn rollback(ctx: &Context, opts: &RollbackOptions) -> anyhow::Result<Release> {
    if !opts.dry_run {
        // A release Helm installed: its history becomes ours, so its revisions are targets.
        super::takeover::take_over(ctx, &opts.release, false).await?;
    }
    let store = ctx.store(None);
    // Before anything is read: see `upgrade`.
    store.await_lock(&opts.release).await?;
    let history = store.history_meta(&opts.release).await?;
    let Some(current) = history.last() else {
        bail!(
            "release {} not found in namespace {}",
            opts.release,
            ctx.namespace
        );
    };
    let target_rev = match opts.revision {
        Some(0) | None => {
            if current.revision <= 1 {
                bail!(
                    "release {} has no revision before {} to roll back to",
                    opts.release,
                    current.revision
                );
            }
            current.revision - 1
        }
        Some(r) => r,
    };
    let Some(target_meta) = history.iter().find(|r| r.revision == target_rev) else {
        bail!(
            "release {}: revision {target_rev} not found (history: {})",
            opts.release,
            revisions(&history)
        );
    };
    let current_rev = current.revision;
    // Statuses as the history read derived them: no second look at the deployed records.
    let target = store.get_listed(target_meta).await?;
    let desired = ParsedManifest::parse(&target.manifest, "recorded manifest", None)?;
    // The base is what was applied last (the current revision, whatever its status); the
    // documents both revisions share are parsed once.
    let original = if current.status == Status::Uninstalled {
        Vec::new()
    } else if current_rev == target_rev {
        desired.objects()
    } else {
        let cur = store.get_listed(current).await?;
        ParsedManifest::parse(&cur.manifest, "recorded manifest", Some(&desired))?.into_objects()
    };
    drop(history);
    let desired = desired.into_objects();
    let (plan, intents) = plan_with_intents(
        ctx,
        &opts.release,
        &ctx.namespace,
        desired,
        original,
        Prefetched::new(),
    )
    .await?;
    let hooks = recorded_hooks(&target.hooks);
    if opts.dry_run {
        let mut preview = target;
        preview.revision = current_rev + 1;
        preview.status = Status::PendingRollback;
        preview.description = format!("Dry run: rollback to {target_rev}");
        return Ok(preview);
    }
    let begin = BeginOptions {
        name: opts.release.clone(),
        operation: Operation::Rollback,
        chart: target.chart,
        values: target.values,
        computed_values: target.computed_values,
        manifest: target.manifest,
        hooks: target.hooks,
        notes: target.notes,
        description: String::new(),
    };
    let description = opts
        .description
        .clone()
        .unwrap_or_else(|| format!("Rollback to {target_rev}"));
    let txn = Transaction::new(ctx, Kind::Rollback { to: target_rev })
        .hooks(hooks, opts.no_hooks)
        .wait(opts.wait)
        .timeout(opts.timeout)
        .logs(opts.wait_style.log_lines)
        .description(description);
    let open = match txn.open(begin, &plan, Some(current_rev + 1)).await? {
        Opened::Recorded(release) => return Ok(release),
        Opened::Pending(open) => open,
    };
    let work = PlanWork {
        ctx,
        plan: &plan,
        apply: ApplyOptions {
            intents,
            force: opts.force,
            ownership: Some(Ownership {
                release: opts.release.clone(),
                namespace: ctx.namespace.clone(),
                adopt: apply::Adopt::Never,
            }),
            timeout: opts.timeout,
            ..Default::default()
        },
        // Helm waits for the whole revision rolled back to, not only what changed.
        wait_for: apply::WaitTarget::from_plan(&plan),
        wait: opts.wait_style.options(opts.timeout, opts.wait_for_jobs),
    };
    open.run(&work)
        .await?
        .context("the rollback recorded no revision")
}

fn revisions(history: &[RecordMeta]) -> String {
    history
        .iter()
        .map(|r| r.revision.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::cluster::{FakeCluster, Method};

    fn manifest(value: &str) -> String {
        ["a", "b"]
            .iter()
            .map(|n| {
                format!(
                    "---\n# Source: c/templates/{n}.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  \
                     name: {n}\ndata:\n  v: {value:?}\n"
                )
            })
            .collect()
    }

    /// A rollback reads the history's metadata, the two records it decrypts, and its objects
    /// with one LIST: no LIST of every deployed record (bodies included) per record read, no
    /// GET per object, no look in Helm's storage. Fails if those requests come back.
    #[tokio::test]
    async fn request_pattern_of_a_rollback() {
        let fake = Arc::new(FakeCluster::new("prod"));
        let ctx = Context::with_cluster(fake.clone(), None);
        let store = ctx.store(None);
        for (i, value) in ["one", "two"].into_iter().enumerate() {
            let p = store
                .begin(BeginOptions {
                    manifest: manifest(value),
                    ..BeginOptions::new("web", crate::testing::seeded_operation(i))
                })
                .await
                .expect("begin");
            store.mark_deployed(p, "done").await.expect("deployed");
        }
        for n in ["a", "b"] {
            fake.insert(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
                "name": n, "namespace": "prod",
                "labels": {"app.kubernetes.io/managed-by": "Helm"},
                "annotations": {"meta.helm.sh/release-name": "web", "meta.helm.sh/release-namespace": "prod"}},
                "data": {"v": "two"}}))
            .expect("live object");
        }
        let before = fake.calls().len();
        let opts = RollbackOptions {
            release: "web".into(),
            revision: None,
            wait: false,
            wait_style: Default::default(),
            wait_for_jobs: false,
            timeout: Duration::from_secs(5),
            force: false,
            no_hooks: true,
            description: None,
            dry_run: false,
        };
        let rel = rollback(&ctx, &opts).await.expect("rollback");
        assert_eq!((rel.revision, rel.status), (3, Status::Deployed));
        let calls = &fake.calls()[before..];
        let count = |m: Method, kind: &str| {
            calls
                .iter()
                .filter(|c| c.method == m && c.gvk.kind == kind)
                .count()
        };
        let gets: Vec<&str> = calls
            .iter()
            .filter(|c| c.method == Method::Get)
            .map(|c| c.name.as_str())
            .collect();
        // The lock looked at while waiting for it, the two records decrypted, and the data key
        // read afresh after the new record's create (it must still be the namespace's key).
        assert_eq!(
            gets,
            [
                "kubectl-chart.web.lock",
                "kubectl-chart.web.v1",
                "kubectl-chart.web.v2",
                "kubectl-chart-key"
            ]
        );
        assert_eq!(count(Method::List, "Secret"), 0, "no look in Helm's storage");
        // History metadata twice (take-over check, then under the lock), the objects once, the
        // history again when the revision is recorded.
        assert_eq!(count(Method::List, "ConfigMap"), 4, "{calls:#?}");
    }
}
