//! `kubectl chart push CHART.tgz oci://host/path` (`helm push`).

use std::{io::Write, path::PathBuf};

use clap::Args;

use super::args::{print_notices, RemoteArgs};
use crate::action::{self, PushOptions};

/// Push a packaged chart to a registry, as `<remote>/<name>:<version>`.
#[derive(Debug, Args)]
// Helm's words for push, which uploads (the flags themselves are the shared ones).
#[command(
    after_help = "Examples:
  kubectl chart push web-1.2.3.tgz oci://registry.example/charts",
    mut_arg("plain_http", |a| a.help("Use insecure HTTP connections for the chart upload")),
    mut_arg("cert_file", |a| a.help("Identify registry client using this SSL certificate file")),
    mut_arg("key_file", |a| a.help("Identify registry client using this SSL key file")),
    mut_arg("insecure_skip_tls_verify", |a| a.help("Skip tls certificate checks for the chart upload")),
    mut_arg("username", |a| a.help("Chart repository username where to locate the requested chart")),
    mut_arg("password", |a| a.help("Chart repository password where to locate the requested chart"))
)]
pub struct PushArgs {
    /// The packaged chart.
    #[arg(value_name = "CHART")]
    chart: PathBuf,
    /// oci://host/path.
    #[arg(value_name = "REMOTE")]
    remote: String,
    #[command(flatten)]
    connection: RemoteArgs,
}

/// Runs `push`.
pub fn exec(a: PushArgs, _out: &mut dyn Write) -> anyhow::Result<()> {
    let lines = action::push(&PushOptions {
        chart: a.chart,
        remote: a.remote,
        source: a.connection.to_options(),
    })?;
    print_notices(&lines);
    Ok(())
}
