//! `apply RELEASE --plan PLAN`: applies a plan saved by `diff --out`, exactly, or refuses.
//!
//! The checks that need no request come first (the file's format, its release, namespace and API
//! server, the chart still on disk); then the normal `apply` runs with the recorded chart and
//! values, and [`super::saved_plan::verify`] stops it after planning and before its first write
//! unless its plan is the saved one. Writing thus goes through the one path every `apply` takes:
//! the release lock, hooks, waits, and the record of the new revision.

use std::{path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context as _;

use super::{
    saved_plan::{self, ClusterId, SavedPlanUse},
    upgrade::{upgrade, Mode, UpgradeOptions, UpgradeResult},
    Context,
};
use crate::{apply, values::ValuesOptions};

/// Inputs of `apply --plan`: the plan, and the flags that change how it is carried out, never
/// what it does.
#[derive(Clone)]
pub struct ApplyPlanOptions {
    /// Release name, as given on the command line: it must be the plan's.
    pub release: String,
    /// The plan file.
    pub plan: PathBuf,
    /// `--wait`.
    pub wait: bool,
    /// `--wait-for-jobs`.
    pub wait_for_jobs: bool,
    /// `--timeout`.
    pub timeout: Duration,
    /// `--atomic`.
    pub atomic: bool,
    /// `--create-namespace`.
    pub create_namespace: bool,
    /// `--description`.
    pub description: Option<String>,
    /// `--no-hooks`.
    pub no_hooks: bool,
    /// `--force-unlock`.
    pub force_unlock: bool,
    /// Where progress goes.
    pub progress: Arc<dyn apply::Progress>,
}

/// Applies the saved plan, or refuses before writing anything.
pub async fn apply_saved_plan(ctx: &Context, opts: &ApplyPlanOptions) -> anyhow::Result<UpgradeResult> {
    let saved = saved_plan::read(&opts.plan)?;
    let (server, context) = ctx.cluster.endpoint();
    saved_plan::check_target(
        &saved,
        &opts.release,
        &ctx.namespace,
        &ClusterId { server, context },
    )
    .with_context(|| format!("refusing saved plan {}", opts.plan.display()))?;
    let chart = PathBuf::from(&saved.chart.path);
    let digest = saved_plan::chart_digest(&chart).with_context(|| {
        format!(
            "refusing saved plan {}: its chart {} cannot be read (the plan is checked by rendering it again)",
            opts.plan.display(),
            chart.display()
        )
    })?;
    let upgrade_opts = UpgradeOptions {
        release: opts.release.clone(),
        chart,
        chart_origin: saved.chart.origin.clone(),
        values: ValuesOptions::default(),
        mode: Mode::Apply,
        dry_run: None,
        wait: opts.wait,
        wait_for_jobs: opts.wait_for_jobs,
        timeout: opts.timeout,
        atomic: opts.atomic,
        create_namespace: opts.create_namespace,
        description: opts.description.clone(),
        reuse_values: false,
        reset_then_reuse_values: false,
        force: false,
        server_side: false,
        adopt: false,
        no_hooks: opts.no_hooks,
        kube_version: saved.kube_version.clone(),
        progress: opts.progress.clone(),
        force_unlock: opts.force_unlock,
        saved_plan: None,
    };
    let chart_changed = (digest != saved.chart.digest).then(|| {
        format!(
            "chart {} changed since the plan was made ({} then, {} now)",
            saved.chart.path, saved.chart.digest, digest
        )
    });
    let upgrade_opts = UpgradeOptions {
        saved_plan: Some(SavedPlanUse::Verify(Arc::new(saved))),
        ..upgrade_opts
    };
    upgrade(ctx, &upgrade_opts).await.map_err(|e| {
        let Some(refusal) = e.downcast_ref::<saved_plan::Refusal>() else {
            // Not a refusal: a failure of the apply itself, reported as any apply reports it.
            return e;
        };
        // A refused render is easier to act on when the chart's own change is named too.
        let render = matches!(refusal, saved_plan::Refusal::RenderChanged(_));
        let e = match chart_changed {
            Some(why) if render => e.context(why),
            _ => e,
        };
        e.context(format!("refusing saved plan {}", opts.plan.display()))
    })
}
