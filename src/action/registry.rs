//! `registry login HOST` and `registry logout HOST`: check the credentials against the registry,
//! then record them in Helm's registry config (docker `config.json` format).

use super::locate::{block_on, registry_client, ChartSourceOptions};
use crate::{helmpath, registry::credentials};

/// `registry login`.
#[derive(Debug, Clone)]
pub struct LoginOptions {
    /// `host[:port]` (a scheme or path is dropped, as Helm takes a domain only).
    pub host: String,
    /// `-u`.
    pub username: String,
    /// `-p` or `--password-stdin`.
    pub password: String,
    /// `--insecure`, TLS files.
    pub source: ChartSourceOptions,
}

fn bare_host(host: &str) -> String {
    let h = host.strip_prefix("oci://").unwrap_or(host);
    let h = h
        .strip_prefix("https://")
        .or_else(|| h.strip_prefix("http://"))
        .unwrap_or(h);
    h.split('/').next().unwrap_or(h).to_string()
}

/// Logs in: nothing is written unless the registry accepted the credentials.
pub fn login(opts: &LoginOptions) -> anyhow::Result<String> {
    let host = bare_host(&opts.host);
    if opts.username.is_empty() || opts.password.is_empty() {
        anyhow::bail!("username and password are required");
    }
    let mut source = opts.source.clone();
    source.username = Some(opts.username.clone());
    source.password = Some(opts.password.clone());
    let client = registry_client(&source)?;
    block_on(client.ping(&host))??;
    let path = helmpath::registry_config(&super::locate::env());
    credentials::save_login(&path, &host, &opts.username, &opts.password).map_err(anyhow::Error::msg)?;
    Ok("Login Succeeded".into())
}

/// Logs out.
pub fn logout(host: &str) -> anyhow::Result<String> {
    let host = bare_host(host);
    let path = helmpath::registry_config(&super::locate::env());
    credentials::remove_login(&path, &host).map_err(anyhow::Error::msg)?;
    Ok(format!("Removing login credentials for {host}"))
}
