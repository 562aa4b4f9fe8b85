//! The command line: clap definitions and dispatch only. Each verb maps its flags to an
//! `action::XOptions`, calls the action, and writes the result; no logic lives here.

mod args;
mod completion;
mod template;
mod version;

use std::io::Write;

use clap::{Parser, Subcommand};

pub use args::{GlobalArgs, ValuesArgs};

/// kubectl chart: render, diff, apply and roll back Helm charts.
#[derive(Debug, Parser)]
#[command(
    name = "kubectl chart",
    bin_name = "kubectl chart",
    version,
    about = "Render, diff, apply and roll back Helm charts from kubectl.",
    long_about = "kubectl chart renders Helm charts exactly as Helm does, and (soon) diffs and applies them \
                  with release history kept in ConfigMaps.\n\n\
                  Find more information at: the project README.",
    propagate_version = true
)]
pub struct Cli {
    /// Global flags, accepted by every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render chart templates locally and print the result.
    Template(template::TemplateArgs),
    /// Print the version of kubectl-chart.
    Version(version::VersionArgs),
    /// Output shell completion code for bash, zsh, fish or powershell.
    Completion(completion::CompletionArgs),
}

/// Runs the parsed command, writing its output to `out`.
pub fn run(cli: Cli, out: &mut dyn Write) -> anyhow::Result<()> {
    match cli.command {
        Command::Template(a) => template::exec(&cli.global, a, out),
        Command::Version(a) => version::exec(a, out),
        Command::Completion(a) => completion::exec(a, out),
    }
}
