//! `kubectl chart pull CHART`: download a chart from a registry or URL (`helm pull`).

use std::{io::Write, path::PathBuf};

use clap::Args;

use super::args::{print_notices, ChartArgs};
use crate::action::{self, PullOptions};

/// Download a chart from a registry or URL and (optionally) unpack it in a local directory.
#[derive(Debug, Args)]
#[command(
    disable_version_flag = true,
    after_help = "Examples:
  kubectl chart pull oci://registry.example/charts/web --version ^1.2
  kubectl chart pull oci://registry.example/charts/web:1.2.3 --untar -d ./vendor"
)]
pub struct PullArgs {
    /// oci://host/path/name[:tag|@digest] or an https:// URL of a .tgz.
    #[arg(value_name = "CHART")]
    chart: String,
    #[command(flatten)]
    chart_args: ChartArgs,
    /// Location to write the chart. If this and untardir are specified, untardir is appended to this.
    #[arg(short = 'd', long = "destination", default_value = ".", value_name = "DIR")]
    destination: PathBuf,
    /// If set to true, will untar the chart after downloading it.
    #[arg(long)]
    untar: bool,
    /// If untar is specified, this flag specifies the name of the directory into which the chart is expanded.
    #[arg(long, default_value = ".", value_name = "DIR")]
    untardir: PathBuf,
}

/// Runs `pull`.
pub fn exec(a: PullArgs, _out: &mut dyn Write) -> anyhow::Result<()> {
    let result = action::pull(&PullOptions {
        chart: a.chart,
        source: a.chart_args.to_options(),
        destination: a.destination,
        untar: a.untar,
        untardir: a.untardir,
    })?;
    print_notices(&result.notices);
    Ok(())
}
