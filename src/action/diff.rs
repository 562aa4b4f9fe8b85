//! `diff`: what an upgrade (or a rollback, or a first install) would change, as a three-way diff
//! of the last applied revision, the live objects and the new render. Read-only.

use std::path::PathBuf;

use anyhow::bail;

use super::{
    base::{Base, LiveReads, ParsedManifest},
    capabilities::PendingCapabilities,
    plan::plan_against_cluster,
    render::{render_release, RenderRequest},
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
    /// How to show it.
    pub view: ViewOptions,
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
            NewSide::Rendered(render_release(&req)?.manifest_text())
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
    let plan = plan_against_cluster(ctx, &opts.release, &ctx.namespace, desired, original, live).await?;
    let text = diff::render(&plan, &opts.view);
    Ok(DiffResult { plan, text })
}
