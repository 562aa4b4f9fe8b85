//! `kubectl chart status RELEASE`.

use std::io::Write;

use clap::Args;

use super::GlobalArgs;
use crate::{
    action::{self, Context, StatusOptions},
    output::{
        release::{write_status, StatusView},
        OutputFormat,
    },
};

/// Display the status of the named release.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  # Status of the newest revision
  kubectl chart status web -n prod

  # Revision 2, with its description, as YAML
  kubectl chart status web --revision 2 --show-desc -o yaml")]
pub struct StatusArgs {
    /// Release name.
    #[arg(value_name = "RELEASE")]
    release: String,
    /// If set, display the status of the named release with revision.
    #[arg(long, value_name = "N")]
    revision: Option<u32>,
    /// If set, display the description message of the named release.
    #[arg(long = "show-desc")]
    show_desc: bool,
    /// Prints the output in the specified format. Allowed values: table, json, yaml.
    #[arg(short = 'o', long = "output", value_name = "FORMAT", default_value = "table",
          value_parser = <OutputFormat as std::str::FromStr>::from_str)]
    output: OutputFormat,
}

/// Runs `status`.
pub fn exec(global: &GlobalArgs, a: StatusArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let opts = StatusOptions {
        release: a.release,
        revision: a.revision,
    };
    let rel = super::runtime()?.block_on(async {
        let ctx = Context::connect(&global.connect_options()?).await?;
        action::status(&ctx, &opts).await
    })?;
    let view = StatusView {
        show_description: a.show_desc,
    };
    write_status(out, &rel, a.output, view)?;
    Ok(())
}
