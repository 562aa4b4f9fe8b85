//! `kubectl chart show chart|values|readme|crds|all CHART` (`helm show`).

use std::io::Write;

use clap::{Args, Subcommand};

use super::args::{print_notices, ChartArgs};
use crate::action::{self, ShowOptions, ShowPart};

/// Show information of a chart.
#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(subcommand)]
    part: ShowCommand,
}

/// The chart and the flags, shared by every `show` subcommand.
#[derive(Debug, Args)]
#[command(disable_version_flag = true)]
pub struct ShowChartArgs {
    /// A directory, a .tgz, oci://host/path/name[:tag] or an https:// URL.
    #[arg(value_name = "CHART")]
    chart: String,
    #[command(flatten)]
    chart_args: ChartArgs,
}

/// `show` subcommands.
#[derive(Debug, Subcommand)]
pub enum ShowCommand {
    /// Show all information of the chart.
    All(ShowChartArgs),
    /// Show the chart's definition.
    Chart(ShowChartArgs),
    /// Show the chart's values.
    Values(ShowChartArgs),
    /// Show the chart's README.
    Readme(ShowChartArgs),
    /// Show the chart's CRDs.
    Crds(ShowChartArgs),
}

/// Runs `show`.
pub fn exec(a: ShowArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let (part, args) = match a.part {
        ShowCommand::All(x) => (ShowPart::All, x),
        ShowCommand::Chart(x) => (ShowPart::Chart, x),
        ShowCommand::Values(x) => (ShowPart::Values, x),
        ShowCommand::Readme(x) => (ShowPart::Readme, x),
        ShowCommand::Crds(x) => (ShowPart::Crds, x),
    };
    let (notices, text) = action::show(&ShowOptions {
        chart: args.chart,
        part,
        source: args.chart_args.to_options(),
    })?;
    print_notices(&notices);
    out.write_all(text.as_bytes())?;
    Ok(())
}
