//! `diff`: what an upgrade (or a rollback, or a first install) would change, as a three-way diff
//! of the last applied revision, the live objects and the new render. Read-only, except that
//! [`diff_and_save`] writes the plan to a file for `apply --plan` (see [`super::saved_plan`]).

use std::path::PathBuf;

use anyhow::bail;

use super::{
    base::{Base, LiveReads, ParsedManifest},
    capabilities::PendingCapabilities,
    plan::plan_against_cluster,
    render::{render_release, RenderRequest},
    saved_plan::{self, ClusterId, PlanOrigin, SavedPlan, SavedPlanUse},
    upgrade::{Mode, UpgradeOptions},
    Context,
};
use crate::{
    diff::{self, Plan, ViewOptions},
    release::Status,
    render::ReleaseInfo,
    values::ValuesOptions,
};

/// What to compare.
#[derive(Clone)]
pub struct DiffOptions {
    /// Release name.
    pub release: String,
    /// Chart to render; `None` with `revision` compares against a stored revision (rollback).
    pub chart: Option<PathBuf>,
    /// Values flags.
    pub values: ValuesOptions,
    /// `--patch`, `--set-image`, `--post-renderer`: the diff shows the patched objects.
    pub patches: super::PatchOptions,
    /// `--revision N` / `diff rollback RELEASE N`: the stored revision to go back to.
    pub revision: Option<u32>,
    /// `--kube-version` override for `.Capabilities`.
    pub kube_version: Option<String>,
    /// `--crds`: which of the chart's `crds/` changes to show (what install/upgrade would send).
    pub crds: crate::apply::CrdPolicy,
    /// How to show it.
    pub view: ViewOptions,
}

/// `diff --out PLAN`: where to save the plan, and where the chart came from.
#[derive(Clone)]
pub struct SavePlanOptions {
    /// The plan file to write (0600).
    pub out: PathBuf,
    /// Where the chart was fetched from, recorded with the revision the plan makes.
    pub chart_origin: Option<crate::release::ChartOrigin>,
}

/// The plan and its rendering.
pub struct DiffResult {
    /// What would be done.
    pub plan: Plan,
    /// The text to print.
    pub text: String,
}

/// What the new side of the diff comes from.
enum Target<'a> {
    Chart(&'a PathBuf),
    Revision(u32),
}

/// The new side, once known: rendered text, or the stored revision still to be read.
enum NewSide {
    Rendered(String),
    Stored(u32),
}

/// Computes the diff; writes nothing.
pub async fn diff(ctx: &Context, opts: &DiffOptions) -> anyhow::Result<DiffResult> {
    // A usage error must come before the first request.
    let target = match (&opts.chart, opts.revision) {
        (Some(chart), None) => Target::Chart(chart),
        (None, Some(rev)) => Target::Revision(rev),
        (Some(_), Some(_)) => bail!("diff takes a CHART or --revision N, not both"),
        (None, None) => bail!("diff needs a CHART, or --revision N to compare with a stored revision"),
    };
    // `.Capabilities` from the server, read while the base is fetched and the chart loads (only
    // when there is a chart to render).
    let discovery = match target {
        Target::Chart(_) => Some(PendingCapabilities::start(ctx.cluster.clone()).await),
        Target::Revision(_) => None,
    };
    // Same base as `upgrade`: the last applied revision, deployed or failed; read (and its live
    // objects fetched) while the chart renders.
    let base = Base::start(ctx, &opts.release).await?;
    let last = base.meta().filter(|m| m.status != Status::Uninstalled).cloned();
    // What install or upgrade would do with `crds/` (never anything for a rollback).
    let mut crd_plan = crate::apply::CrdPlan::default();
    let new_side = match target {
        Target::Revision(rev) => NewSide::Stored(rev),
        Target::Chart(chart) => {
            let revision = last.as_ref().map_or(1, |r| i64::from(r.revision) + 1);
            let release = ReleaseInfo {
                name: opts.release.clone(),
                namespace: ctx.namespace.clone(),
                revision,
                is_upgrade: last.is_some(),
            };
            let mut req = RenderRequest::new(chart.clone(), opts.values.clone(), release);
            req.patches = opts.patches.clone();
            // The render an install or upgrade would make: on a first install the chart's
            // `crds/` kinds count as served, since install creates them before rendering.
            req.discovery = discovery.map(|d| {
                d.with_kube_version(opts.kube_version.clone())
                    .with_chart_crds(last.is_none())
            });
            let rendered = render_release(&req)?;
            let docs = super::capabilities::crd_docs(&rendered.chart)?;
            crd_plan = crate::apply::plan_crds(&*ctx.cluster, &docs, opts.crds, last.is_none()).await?;
            NewSide::Rendered(rendered.manifest_text())
        }
    };
    let (original, live) = match base.finish().await? {
        Some(loaded) => (Some(loaded.manifest), loaded.live),
        None => (None, LiveReads::none()),
    };
    let desired = match new_side {
        NewSide::Rendered(text) => ParsedManifest::parse(&text, "rendered manifest", original.as_ref())?,
        NewSide::Stored(rev) => {
            let target = match ctx.store(None).get(&opts.release, rev).await {
                Ok(t) => t,
                // A release Helm holds (not taken over yet): Helm's revision.
                Err(crate::release::Error::RevisionNotFound { .. }) => {
                    super::takeover::helm_history(ctx, &opts.release)
                        .await?
                        .into_iter()
                        .find(|r| r.revision == rev)
                        .ok_or_else(|| {
                            anyhow::anyhow!(
                                "release {} has no revision {rev} in namespace {}",
                                opts.release,
                                ctx.namespace
                            )
                        })?
                }
                Err(e) => return Err(e.into()),
            };
            ParsedManifest::parse(&target.manifest, "recorded manifest", original.as_ref())?
        }
    };
    let original = original.map(ParsedManifest::into_objects).unwrap_or_default();
    let desired = desired.into_objects();
    let live = live.wait().await?;
    let mut plan = plan_against_cluster(ctx, &opts.release, &ctx.namespace, desired, original, live).await?;
    // `crds/` go first, as they are (no release metadata), as install and upgrade send them.
    let mut first = crd_plan.update;
    for doc in crd_plan.create {
        first.push(diff::Change {
            id: diff::ObjectRef::of(&doc, None)?,
            api_version: doc
                .get("apiVersion")
                .and_then(serde_json::Value::as_str)
                .unwrap_or("")
                .to_string(),
            action: diff::Action::Create,
            live: None,
            predicted: Some(doc),
            drift: Vec::new(),
        });
    }
    plan.changes.splice(0..0, first);
    // The order install and upgrade would follow; an order they would refuse fails the diff too.
    let order = crate::apply::DeclaredOrder::of(&plan, &Default::default())?;
    let mut text = diff::render(&plan, &opts.view);
    if matches!(
        opts.view.output,
        diff::OutputKind::Diff | diff::OutputKind::Summary
    ) {
        text.push_str(&diff::render_order(&order_steps(&plan, &order)));
    }
    Ok(DiffResult { plan, text })
}

/// The objects `order` places after others, by level, in plan order within a level.
fn order_steps(plan: &Plan, order: &crate::apply::DeclaredOrder) -> Vec<diff::OrderStep> {
    let describe = crate::apply::describe;
    let mut steps: Vec<diff::OrderStep> = plan
        .changes
        .iter()
        .filter_map(|c| {
            let after = order.depends_on.get(&c.id)?;
            Some(diff::OrderStep {
                level: order.level_of(&c.id),
                object: describe(&c.id),
                after: after.iter().map(describe).collect(),
            })
        })
        .collect();
    steps.sort_by_key(|s| s.level);
    steps
}

/// `diff --out`: plans exactly as `apply` would (the same render, with `lookup` and the chart's
/// `crds/` on a first install, and the same plan), shows that plan as [`diff`] does, and saves it.
/// The file is written last, once everything else has succeeded.
pub async fn diff_and_save(
    ctx: &Context,
    opts: &DiffOptions,
    save: &SavePlanOptions,
) -> anyhow::Result<DiffResult> {
    let Some(chart) = &opts.chart else {
        bail!("--out saves the plan of a CHART; it cannot be used with --revision");
    };
    if opts.revision.is_some() {
        bail!("diff takes a CHART or --revision N, not both");
    }
    if !opts.patches.is_empty() {
        // `apply --plan` checks a plan by rendering its chart and values again; patches and
        // post-renderers are not part of the plan file (yet), so that check could never pass.
        bail!("--out cannot be used with --patch, --set-image or --post-renderer (a saved plan does not record them yet)");
    }
    let upgrade_opts = UpgradeOptions {
        chart_origin: save.chart_origin.clone(),
        values: opts.values.clone(),
        kube_version: opts.kube_version.clone(),
        crds: opts.crds,
        patches: opts.patches.clone(),
        saved_plan: Some(SavedPlanUse::Write),
        ..UpgradeOptions::new(&opts.release, chart.clone(), Mode::Apply)
    };
    let result = super::upgrade::upgrade(ctx, &upgrade_opts).await?;
    let (server, context) = ctx.cluster.endpoint();
    let origin = PlanOrigin {
        namespace: ctx.namespace.clone(),
        cluster: ClusterId { server, context },
        // Absolute, so the plan can be applied from another directory.
        chart_path: std::path::absolute(chart).unwrap_or_else(|_| chart.clone()),
        kube_version: opts.kube_version.clone(),
        crds: opts.crds,
    };
    let saved = SavedPlan::new(origin, &result.release, &result.plan)?;
    let text = diff::render(&result.plan, &opts.view);
    saved_plan::write(&save.out, &saved)?;
    Ok(DiffResult {
        plan: result.plan,
        text,
    })
}
