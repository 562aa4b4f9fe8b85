//! `diff`: what an upgrade (or a rollback, or a first install) would change, as a three-way diff
//! of the last applied revision, the live objects and the new render. Read-only.

use std::path::PathBuf;

use anyhow::bail;

use super::{
    plan::{parse_manifest_docs, plan_against_cluster},
    render::{render_release, RenderRequest},
    Context,
};
use crate::{
    diff::{self, Plan, ViewOptions},
    render::{Capabilities, ReleaseInfo},
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

/// Computes the diff; writes nothing.
pub async fn diff(ctx: &Context, opts: &DiffOptions) -> anyhow::Result<DiffResult> {
    let store = ctx.store(None);
    // Same base as `upgrade`: the last applied revision, deployed or failed.
    let last = store
        .last(&opts.release)
        .await?
        .filter(|r| r.status != crate::release::Status::Uninstalled);
    let original = match &last {
        Some(rel) => parse_manifest_docs(&rel.manifest, "recorded manifest")?,
        None => Vec::new(),
    };
    let desired = match (&opts.chart, opts.revision) {
        (_, Some(rev)) => {
            let target = store.get(&opts.release, rev).await?;
            parse_manifest_docs(&target.manifest, "recorded manifest")?
        }
        (Some(chart), None) => {
            let revision = last.as_ref().map_or(1, |r| i64::from(r.revision) + 1);
            let release = ReleaseInfo {
                name: opts.release.clone(),
                namespace: ctx.namespace.clone(),
                revision,
                is_upgrade: last.is_some(),
            };
            let mut req = RenderRequest::new(chart.clone(), opts.values.clone(), release);
            if let Some(v) = &opts.kube_version {
                req.capabilities = Capabilities::default()
                    .with_kube_version(v)
                    .map_err(anyhow::Error::msg)?;
            }
            let rendered = render_release(&req)?;
            parse_manifest_docs(&rendered.manifest_text(), "rendered manifest")?
        }
        (None, None) => bail!("diff needs a CHART, or --revision N to compare with a stored revision"),
    };
    let plan = plan_against_cluster(ctx, &opts.release, &ctx.namespace, desired, original).await?;
    let text = diff::render(&plan, &opts.view);
    Ok(DiffResult { plan, text })
}
