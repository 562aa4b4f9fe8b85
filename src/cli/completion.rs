//! `kubectl chart completion SHELL`.

use std::io::Write;

use clap::{Args, CommandFactory, ValueEnum};
use clap_complete::Shell as ClapShell;

use super::Cli;

/// Shells we can complete for.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Shell {
    /// GNU bash
    Bash,
    /// Z shell
    Zsh,
    /// fish
    Fish,
    /// PowerShell
    Powershell,
}

/// Output shell completion code for the given shell.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  # bash: load completions for the current shell
  source <(kubectl-chart completion bash)

  # zsh: install for every session
  kubectl-chart completion zsh > \"${fpath[1]}/_kubectl-chart\"")]
pub struct CompletionArgs {
    /// The shell.
    #[arg(value_enum)]
    shell: Shell,
}

/// Runs `completion`. Completions are generated for the `kubectl-chart` binary name, which is what
/// shells see; kubectl forwards `kubectl chart` completion to plugins only through
/// `kubectl_complete-chart`, which this output does not install.
pub fn exec(a: CompletionArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let shell = match a.shell {
        Shell::Bash => ClapShell::Bash,
        Shell::Zsh => ClapShell::Zsh,
        Shell::Fish => ClapShell::Fish,
        Shell::Powershell => ClapShell::PowerShell,
    };
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "kubectl-chart", out);
    Ok(())
}
