//! `kubectl chart create NAME` (`helm create`).

use std::io::Write;

use clap::Args;

use crate::action;

/// Create a new chart with the given name: the same starter files as `helm create`.
///
/// NAME is a path: its last element is the chart's name; the directories before it must exist.
/// Files already there are overwritten (with a warning), others are left alone.
#[derive(Debug, Args)]
#[command(
    disable_version_flag = true,
    after_help = "Examples:\n  kubectl chart create web\n  kubectl chart create charts/web"
)]
pub struct CreateArgs {
    /// The chart to create (a path; its last element is the chart's name).
    #[arg(value_name = "NAME")]
    name: String,
}

/// Runs `create`.
pub fn exec(a: CreateArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    out.write_all(action::create(&a.name)?.as_bytes())?;
    Ok(())
}
