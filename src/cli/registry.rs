//! `kubectl chart registry login|logout HOST` (`helm registry`).

use std::{
    io::{Read as _, Write},
    path::PathBuf,
};

use clap::{Args, Subcommand};

use super::args::print_notices;
use crate::action::{self, ChartSourceOptions, LoginOptions};

/// Login to or logout from a registry.
#[derive(Debug, Args)]
pub struct RegistryArgs {
    #[command(subcommand)]
    command: RegistryCommand,
}

/// `registry` subcommands.
#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Login to a registry.
    Login(LoginArgs),
    /// Logout from a registry.
    Logout(LogoutArgs),
}

/// `registry login` flags (Helm's).
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// host[:port] of the registry.
    #[arg(value_name = "HOST")]
    host: String,
    /// Registry username.
    #[arg(short = 'u', long, value_name = "USER", default_value = "")]
    username: String,
    /// Registry password or identity token.
    #[arg(short = 'p', long, value_name = "PASSWORD", default_value = "")]
    password: String,
    /// Read password or identity token from stdin.
    #[arg(long = "password-stdin")]
    password_stdin: bool,
    /// Allow connections to TLS registry without certs.
    #[arg(long)]
    insecure: bool,
    /// Use insecure HTTP connections for the login check.
    #[arg(long = "plain-http")]
    plain_http: bool,
    /// Identify registry client using this SSL certificate file.
    #[arg(long = "cert-file", value_name = "FILE")]
    cert_file: Option<PathBuf>,
    /// Identify registry client using this SSL key file.
    #[arg(long = "key-file", value_name = "FILE")]
    key_file: Option<PathBuf>,
    /// Verify certificates of HTTPS-enabled servers using this CA bundle.
    #[arg(long = "ca-file", value_name = "FILE")]
    ca_file: Option<PathBuf>,
}

/// `registry logout` flags.
#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// host[:port] of the registry.
    #[arg(value_name = "HOST")]
    host: String,
}

/// Runs `registry`.
pub fn exec(a: RegistryArgs, _out: &mut dyn Write) -> anyhow::Result<()> {
    match a.command {
        RegistryCommand::Login(l) => {
            let mut password = l.password;
            if !password.is_empty() {
                print_notices(&[
                    "WARNING: Using --password via the CLI is insecure. Use --password-stdin.".into(),
                ]);
            }
            if l.password_stdin {
                if !password.is_empty() {
                    anyhow::bail!("--password and --password-stdin are mutually exclusive");
                }
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s)?;
                password = s.trim_end_matches(['\n', '\r']).to_string();
            }
            let msg = action::login(&LoginOptions {
                host: l.host,
                username: l.username,
                password,
                source: ChartSourceOptions {
                    plain_http: l.plain_http,
                    tls: crate::net::TlsOptions {
                        ca_file: l.ca_file,
                        cert_file: l.cert_file,
                        key_file: l.key_file,
                        insecure_skip_tls_verify: l.insecure,
                    },
                    ..Default::default()
                },
            })?;
            print_notices(&[msg]);
        }
        RegistryCommand::Logout(l) => {
            let msg = action::logout(&l.host)?;
            print_notices(&[msg]);
        }
    }
    Ok(())
}
