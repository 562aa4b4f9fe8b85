//! `kubectl chart diff RELEASE CHART` and `kubectl chart diff --revision N RELEASE`.

use std::io::Write;

use clap::Args;

use super::{GlobalArgs, ValuesArgs};
use crate::{
    action::{self, Context, DiffOptions},
    diff::{Color, OutputKind, ViewOptions},
};

/// Show what an upgrade (or install, or rollback) would change: a three-way diff of the last
/// applied revision, the live objects and the new render. Secrets are masked.
#[derive(Debug, Args)]
#[command(
    disable_version_flag = true,
    after_help = "Examples:
  # What would upgrading web with new values change?
  kubectl chart diff web ./chart -n prod -f prod.yaml

  # What would rolling web back to revision 3 change?
  kubectl chart diff web --revision 3 -n prod

  # Machine-readable, and exit 2 when anything would change
  kubectl chart diff web ./chart -o json --detailed-exitcode

Exit codes: 0 no changes (or changes without --detailed-exitcode), 1 error, 2 changes with --detailed-exitcode."
)]
pub struct DiffArgs {
    /// Release name.
    #[arg(value_name = "RELEASE")]
    release: String,
    /// Chart directory or packaged chart (.tgz); omit with --revision.
    #[arg(
        value_name = "CHART",
        required_unless_present = "revision",
        conflicts_with = "revision"
    )]
    chart: Option<String>,
    #[command(flatten)]
    values: ValuesArgs,
    #[command(flatten)]
    chart_args: super::args::ChartArgs,
    /// Compare with stored revision N instead of a chart (what `rollback RELEASE N` would do).
    #[arg(long, value_name = "N")]
    revision: Option<u32>,
    /// Output: diff, summary, json or json-patch.
    #[arg(short = 'o', long = "output", default_value = "diff", value_name = "FORMAT")]
    output: OutputKind,
    /// Lines of context around changes (default: whole objects). Not `--context`, which is
    /// kubectl's kubeconfig context.
    #[arg(short = 'U', long = "unified", value_name = "N")]
    unified: Option<usize>,
    /// Colour: auto, always or never (NO_COLOR is honoured by auto).
    #[arg(long, default_value = "auto", value_name = "WHEN")]
    color: Color,
    /// Show Secret values instead of masking them.
    #[arg(long = "show-secrets")]
    show_secrets: bool,
    /// Exit with 2 when there are changes.
    #[arg(long = "detailed-exitcode")]
    detailed_exitcode: bool,
    /// Kubernetes version for Capabilities.KubeVersion, instead of the cluster's (its API versions
    /// are kept).
    #[arg(long = "kube-version", value_name = "VERSION")]
    kube_version: Option<String>,
}

/// Runs `diff`.
pub fn exec(global: &GlobalArgs, a: DiffArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    use std::io::IsTerminal as _;
    let terminal = crate::output::color_enabled(std::io::stdout().is_terminal());
    let chart = match &a.chart {
        Some(c) => Some(super::args::locate(c, &a.chart_args)?.path),
        None => None,
    };
    let opts = DiffOptions {
        release: a.release,
        chart,
        values: a.values.to_options(),
        revision: a.revision,
        kube_version: a.kube_version,
        view: ViewOptions {
            output: a.output,
            context: a.unified,
            color: a.color.enabled(terminal),
            show_secrets: a.show_secrets,
        },
    };
    let connect = global.connect_options()?;
    let result = super::runtime()?.block_on(async {
        let ctx = Context::connect(&connect).await?;
        action::diff(&ctx, &opts).await
    })?;
    out.write_all(result.text.as_bytes())?;
    if a.detailed_exitcode && result.plan.has_changes() {
        out.flush()?;
        return Err(crate::error::ExitStatus::Changes.into());
    }
    Ok(())
}
