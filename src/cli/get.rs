//! `kubectl chart get manifest|values|notes|hooks|all RELEASE`.

use std::io::Write;

use clap::{Args, Subcommand};

use super::GlobalArgs;
use crate::{
    action::{self, Context, GetOptions, GetValuesOptions},
    output::{release, OutputFormat},
    release::Release,
};

/// Download extended information of a named release.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  # The manifest of the newest revision
  kubectl chart get manifest web -n prod

  # All values (chart defaults included) of revision 3, as JSON
  kubectl chart get values web --revision 3 --all -o json")]
pub struct GetArgs {
    #[command(subcommand)]
    what: GetCommand,
}

#[derive(Debug, Subcommand)]
enum GetCommand {
    /// Download the manifest for a named release.
    Manifest(RevisionArgs),
    /// Download the values file for a named release.
    Values(GetValuesArgs),
    /// Download the notes for a named release.
    Notes(RevisionArgs),
    /// Download all hooks for a named release.
    Hooks(RevisionArgs),
    /// Download all information for a named release.
    All(RevisionArgs),
}

#[derive(Debug, Args)]
struct RevisionArgs {
    /// Release name.
    #[arg(value_name = "RELEASE")]
    release: String,
    /// Get the named release with revision.
    #[arg(long, value_name = "N")]
    revision: Option<u32>,
}

impl RevisionArgs {
    fn options(&self) -> GetOptions {
        GetOptions {
            release: self.release.clone(),
            revision: self.revision,
        }
    }
}

#[derive(Debug, Args)]
struct GetValuesArgs {
    #[command(flatten)]
    target: RevisionArgs,
    /// Dump all (computed) values.
    #[arg(short = 'a', long)]
    all: bool,
    /// Prints the output in the specified format. Allowed values: table, json, yaml.
    #[arg(short = 'o', long = "output", value_name = "FORMAT", default_value = "table",
          value_parser = <OutputFormat as std::str::FromStr>::from_str)]
    output: OutputFormat,
}

/// Runs `get`.
pub fn exec(global: &GlobalArgs, a: GetArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let rt = super::runtime()?;
    let connect = || async { Context::connect(&global.connect_options()?).await };
    let fetch = |opts: GetOptions| -> anyhow::Result<Release> {
        rt.block_on(async { action::get(&connect().await?, &opts).await })
    };
    match a.what {
        GetCommand::Manifest(t) => release::write_manifest(out, &fetch(t.options())?)?,
        GetCommand::Notes(t) => release::write_notes(out, &fetch(t.options())?)?,
        GetCommand::Hooks(t) => release::write_hooks(out, &fetch(t.options())?.hooks)?,
        GetCommand::All(t) => release::write_all(out, &fetch(t.options())?)?,
        GetCommand::Values(v) => {
            let opts = GetValuesOptions {
                get: v.target.options(),
                all: v.all,
            };
            let values = rt.block_on(async { action::get_values(&connect().await?, &opts).await })?;
            release::write_values(out, &values, v.all, v.output)?;
        }
    }
    Ok(())
}
