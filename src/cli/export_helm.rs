//! `kubectl chart export-helm RELEASE`.

use std::io::Write;

use clap::Args;

use super::GlobalArgs;
use crate::action::{self, Context, ExportHelmOptions};

/// Write a release's history as Helm release Secrets, so helm carries on from our last revision.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  # Hand release web back to Helm; then helm history/upgrade/rollback work from our last revision
  kubectl chart export-helm web -n prod")]
pub struct ExportHelmArgs {
    /// Release name.
    #[arg(value_name = "RELEASE")]
    release: String,
}

/// Runs `export-helm`.
pub fn exec(global: &GlobalArgs, a: ExportHelmArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let opts = ExportHelmOptions { release: a.release };
    let got = super::runtime()?.block_on(async {
        let ctx = Context::connect(&global.connect_options()?).await?;
        action::export_helm(&ctx, &opts).await
    })?;
    writeln!(
        out,
        "Release {:?} exported for Helm: {} revisions; helm carries on from revision {} ({}).",
        opts.release,
        got.revisions.len(),
        got.last.0,
        got.last.1
    )?;
    Ok(())
}
