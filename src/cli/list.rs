//! `kubectl chart list`.

use std::io::Write;

use clap::Args;

use super::GlobalArgs;
use crate::{
    action::{self, Context, ListOptions},
    output::{
        release::{write_list, ListStyle},
        OutputFormat,
    },
    release::Status,
};

/// List releases. By default only deployed and failed ones, sorted by name.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  # Releases in the current namespace
  kubectl chart list

  # Every release in every namespace, whatever its status
  kubectl chart list -A --all

  # Failed releases whose name starts with web, as JSON
  kubectl chart list --failed --filter '^web' -o json")]
pub struct ListArgs {
    /// List releases across all namespaces.
    #[arg(short = 'A', long = "all-namespaces")]
    all_namespaces: bool,
    /// A regular expression; only releases whose name matches are listed.
    #[arg(short = 'f', long, value_name = "REGEX")]
    filter: Option<String>,
    /// Show all releases without any status filter applied.
    #[arg(short = 'a', long)]
    all: bool,
    /// Show deployed releases (the default, with failed, when no status flag is given).
    #[arg(long)]
    deployed: bool,
    /// Show failed releases.
    #[arg(long)]
    failed: bool,
    /// Show pending releases.
    #[arg(long)]
    pending: bool,
    /// Show superseded releases.
    #[arg(long)]
    superseded: bool,
    /// Show uninstalled releases (if uninstall --keep-history was used).
    #[arg(long)]
    uninstalled: bool,
    /// Show releases that are currently being uninstalled.
    #[arg(long)]
    uninstalling: bool,
    /// Sort by release date.
    #[arg(short = 'd', long)]
    date: bool,
    /// Reverse the sort order.
    #[arg(short = 'r', long)]
    reverse: bool,
    /// Maximum number of releases to fetch (0: no limit).
    #[arg(short = 'm', long, value_name = "N", default_value_t = 256)]
    max: usize,
    /// Next release index in the list, used to offset from start value.
    #[arg(long, value_name = "N", default_value_t = 0)]
    offset: usize,
    /// Output short (quiet) listing format: names only.
    #[arg(short = 'q', long)]
    short: bool,
    /// Don't print headers when using the default output format.
    #[arg(long = "no-headers")]
    no_headers: bool,
    /// Prints the output in the specified format. Allowed values: table, json, yaml.
    #[arg(short = 'o', long = "output", value_name = "FORMAT", default_value = "table",
          value_parser = <OutputFormat as std::str::FromStr>::from_str)]
    output: OutputFormat,
}

impl ListArgs {
    /// The status flags as a set (Helm's `SetStateMask`); empty means the default.
    fn states(&self) -> Vec<Status> {
        if self.all {
            return Status::ALL.to_vec();
        }
        let flags = [
            (self.deployed, &[Status::Deployed][..]),
            (self.failed, &[Status::Failed]),
            (
                self.pending,
                &[
                    Status::PendingInstall,
                    Status::PendingUpgrade,
                    Status::PendingRollback,
                ],
            ),
            (self.superseded, &[Status::Superseded]),
            (self.uninstalled, &[Status::Uninstalled]),
            (self.uninstalling, &[Status::Uninstalling]),
        ];
        flags
            .iter()
            .filter(|(on, _)| *on)
            .flat_map(|(_, s)| s.iter().copied())
            .collect()
    }
}

/// Runs `list`.
pub fn exec(global: &GlobalArgs, a: ListArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let opts = ListOptions {
        all_namespaces: a.all_namespaces,
        filter: a.filter.clone(),
        states: a.states(),
        by_date: a.date,
        reverse: a.reverse,
        max: a.max,
        offset: a.offset,
    };
    let releases = super::runtime()?.block_on(async {
        let ctx = Context::connect(&global.connect_options()?).await?;
        action::list(&ctx, &opts).await
    })?;
    let rows: Vec<(&str, &crate::release::RecordMeta)> =
        releases.iter().map(|r| (r.namespace.as_str(), &r.meta)).collect();
    let style = ListStyle {
        short: a.short,
        no_headers: a.no_headers,
    };
    write_list(out, &rows, a.output, style)?;
    Ok(())
}
