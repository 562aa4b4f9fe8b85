//! `kubectl chart test RELEASE`.

use std::io::Write;

use clap::{ArgAction, Args};

use super::{args::parse_duration, GlobalArgs};
use crate::{
    action::{self, Context, TestOptions},
    output::{release::write_status, OutputFormat},
};

/// Run the tests of a release: its `helm.sh/hook: test` hooks, as `helm test` does.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  # Run every test of web, printing each test pod's log
  kubectl chart test web -n prod --logs

  # Run only the test named web-smoke
  kubectl chart test web --filter name=web-smoke")]
pub struct TestArgs {
    /// Release name.
    #[arg(value_name = "RELEASE")]
    release: String,
    /// Specify tests by attribute (currently "name") using attribute=value syntax or
    /// '!attribute=value' to exclude a test (can specify multiple or separate values with commas).
    #[arg(long, value_name = "FILTER", action = ArgAction::Append, value_delimiter = ',')]
    filter: Vec<String>,
    /// Dump the logs from test pods (after all tests ran and their delete policies applied).
    #[arg(long)]
    logs: bool,
    /// Time to wait for any single test.
    #[arg(long, default_value = "5m", value_name = "DURATION")]
    timeout: String,
    /// Do not print the chart's NOTES.txt.
    #[arg(long = "hide-notes")]
    hide_notes: bool,
}

/// Runs `test`: prints the release status with each test's phase (Helm's layout), the logs with
/// `--logs`, and fails (exit 1) when a test failed.
pub fn exec(global: &GlobalArgs, a: TestArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let opts = TestOptions {
        release: a.release,
        filters: a.filter,
        timeout: parse_duration(&a.timeout)?,
        logs: a.logs,
        progress: super::deploy::progress(true),
    };
    let connect = global.connect_options()?;
    let mut result = super::runtime()?.block_on(async {
        let ctx = Context::connect(&connect).await?;
        action::test(&ctx, &opts).await
    })?;
    if a.hide_notes {
        result.release.notes.clear();
    }
    write_status(out, &result.release, OutputFormat::Table, Default::default())?;
    if a.logs {
        writeln!(out)?;
        for l in &result.logs {
            writeln!(out, "POD LOGS: {}", l.pod)?;
            match &l.log {
                Ok(text) => writeln!(out, "{text}")?,
                // Helm stops here with an error; the tests' outcome is what the command reports.
                Err(why) => writeln!(out, "(logs unavailable: {why})\n")?,
            }
        }
    }
    out.flush()?;
    match result.failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
