//! `kubectl chart history RELEASE`.

use std::io::Write;

use clap::Args;

use super::GlobalArgs;
use crate::{
    action::{self, Context, HistoryOptions, DEFAULT_HISTORY_LIST_MAX},
    output::{release::write_history, OutputFormat},
};

/// Fetch release history: one row per revision, oldest first.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  # The revisions of release web in namespace prod
  kubectl chart history web -n prod

  # The last three, as JSON (fields as helm history -o json)
  kubectl chart history web --max 3 -o json")]
pub struct HistoryArgs {
    /// Release name.
    #[arg(value_name = "RELEASE")]
    release: String,
    /// Maximum number of revisions to include in history (the newest ones).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_HISTORY_LIST_MAX)]
    max: usize,
    /// Prints the output in the specified format. Allowed values: table, json, yaml.
    #[arg(short = 'o', long = "output", value_name = "FORMAT", default_value = "table",
          value_parser = <OutputFormat as std::str::FromStr>::from_str)]
    output: OutputFormat,
}

/// Runs `history`.
pub fn exec(global: &GlobalArgs, a: HistoryArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let opts = HistoryOptions {
        release: a.release,
        max: a.max,
    };
    let revisions = super::runtime()?.block_on(async {
        let ctx = Context::connect(&global.connect_options()?).await?;
        action::history(&ctx, &opts).await
    })?;
    write_history(out, &revisions, a.output)?;
    Ok(())
}
