//! `kubectl chart search repo [KEYWORD]`: search the configured repositories' cached indexes.

use std::io::Write;

use clap::{Args, Subcommand};

use crate::{
    action::{self, SearchRepoOptions},
    output::{repo::write_search, OutputFormat},
    repo::HelmPaths,
};

/// Search for a keyword in charts.
#[derive(Debug, Args)]
pub struct SearchArgs {
    #[command(subcommand)]
    command: SearchCommand,
}

#[derive(Debug, Subcommand)]
enum SearchCommand {
    /// Search repositories for a keyword in charts.
    Repo(RepoArgs),
}

// `--version` is the constraint here, as in Helm, not clap's version flag.
#[derive(Debug, Args)]
#[command(disable_version_flag = true)]
struct RepoArgs {
    /// Words to look for in chart names, descriptions and keywords (all charts when none).
    #[arg(value_name = "KEYWORD")]
    keyword: Vec<String>,
    /// Use regular expressions for searching repositories you have added.
    #[arg(short = 'r', long)]
    regexp: bool,
    /// Show the long listing, with each version of each chart on its own line.
    #[arg(short = 'l', long)]
    versions: bool,
    /// Use development versions (alpha, beta, and release candidate releases), too. Equivalent
    /// to version '>0.0.0-0'. If --version is set, this is ignored.
    #[arg(long)]
    devel: bool,
    /// Search using semantic versioning constraints on repositories you have added.
    #[arg(long, value_name = "CONSTRAINT", default_value = "")]
    version: String,
    /// Maximum column width for output table.
    #[arg(long = "max-col-width", default_value_t = 50)]
    max_col_width: usize,
    /// Search fails if no results are found.
    #[arg(long = "fail-on-no-result")]
    fail_on_no_result: bool,
    /// Prints the output in the specified format. Allowed values: table, json, yaml.
    #[arg(short = 'o', long, default_value = "table", value_name = "FORMAT",
          value_parser = <OutputFormat as std::str::FromStr>::from_str)]
    output: OutputFormat,
}

/// Runs `search repo`.
pub fn exec(a: SearchArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let SearchCommand::Repo(a) = a.command;
    let opts = SearchRepoOptions {
        keyword: a.keyword.join(" "),
        regexp: a.regexp,
        versions: a.versions,
        version: a.version,
        devel: a.devel,
    };
    let (hits, warnings) = action::search_repo(&HelmPaths::from_env(), &opts)?;
    super::repo::warn(&warnings);
    if hits.is_empty() && a.fail_on_no_result {
        anyhow::bail!("no results found");
    }
    write_search(out, &hits, a.output, a.max_col_width)?;
    Ok(())
}
