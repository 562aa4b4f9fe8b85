//! `kubectl chart push CHART.tgz oci://host/path` (`helm push`).

use std::{io::Write, path::PathBuf};

use clap::Args;

use super::args::print_notices;
use crate::action::{self, ChartSourceOptions, PushOptions};

/// Push a packaged chart to a registry, as `<remote>/<name>:<version>`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  kubectl chart push web-1.2.3.tgz oci://registry.example/charts")]
pub struct PushArgs {
    /// The packaged chart.
    #[arg(value_name = "CHART")]
    chart: PathBuf,
    /// oci://host/path.
    #[arg(value_name = "REMOTE")]
    remote: String,
    /// Use insecure HTTP connections for the chart upload.
    #[arg(long = "plain-http")]
    plain_http: bool,
    /// Verify certificates of HTTPS-enabled servers using this CA bundle.
    #[arg(long = "ca-file", value_name = "FILE")]
    ca_file: Option<PathBuf>,
    /// Identify registry client using this SSL certificate file.
    #[arg(long = "cert-file", value_name = "FILE")]
    cert_file: Option<PathBuf>,
    /// Identify registry client using this SSL key file.
    #[arg(long = "key-file", value_name = "FILE")]
    key_file: Option<PathBuf>,
    /// Skip tls certificate checks for the chart upload.
    #[arg(long = "insecure-skip-tls-verify")]
    insecure_skip_tls_verify: bool,
    /// Chart repository username where to locate the requested chart.
    #[arg(long, value_name = "USER")]
    username: Option<String>,
    /// Chart repository password where to locate the requested chart.
    #[arg(long, value_name = "PASSWORD")]
    password: Option<String>,
}

/// Runs `push`.
pub fn exec(a: PushArgs, _out: &mut dyn Write) -> anyhow::Result<()> {
    let lines = action::push(&PushOptions {
        chart: a.chart,
        remote: a.remote,
        source: ChartSourceOptions {
            plain_http: a.plain_http,
            tls: crate::net::TlsOptions {
                ca_file: a.ca_file,
                cert_file: a.cert_file,
                key_file: a.key_file,
                insecure_skip_tls_verify: a.insecure_skip_tls_verify,
            },
            username: a.username,
            password: a.password,
            ..Default::default()
        },
    })?;
    print_notices(&lines);
    Ok(())
}
