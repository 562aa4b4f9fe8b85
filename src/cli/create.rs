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
    /// The name (under $HELM_DATA_HOME/starters) or absolute path of a starter chart to copy.
    #[arg(short = 'p', long, value_name = "STARTER")]
    starter: Option<String>,
}

/// Runs `create`.
pub fn exec(a: CreateArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    match &a.starter {
        None => out.write_all(action::create(&a.name)?.as_bytes())?,
        Some(starter) => {
            // Helm prints the line before it loads the starter.
            writeln!(out, "Creating {}", a.name)?;
            out.flush()?;
            let data_home = crate::helmpath::data_home(&crate::helmpath::process_env);
            action::create_from_starter(&a.name, starter, &data_home)?;
        }
    }
    Ok(())
}
