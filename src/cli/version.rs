//! `kubectl chart version`.

use std::io::Write;

use clap::Args;

/// Print the version of kubectl-chart.
#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Print only the version number.
    #[arg(long)]
    short: bool,
}

/// Runs `version`.
pub fn exec(a: VersionArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let v = env!("CARGO_PKG_VERSION");
    if a.short {
        writeln!(out, "v{v}")?;
    } else {
        writeln!(
            out,
            "kubectl-chart v{v} (renders like Helm {})",
            crate::render::HELM_COMPAT_VERSION
        )?;
    }
    Ok(())
}
