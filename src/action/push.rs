//! `push CHART.tgz oci://host/path`: upload a packaged chart as Helm does.

use std::path::PathBuf;

use anyhow::Context as _;

use super::locate::{block_on, registry_client, ChartSourceOptions};
use crate::{registry, release::Clock as _};

/// What to push.
#[derive(Debug, Clone)]
pub struct PushOptions {
    /// The `.tgz`.
    pub chart: PathBuf,
    /// `oci://host/path`.
    pub remote: String,
    /// Connection flags.
    pub source: ChartSourceOptions,
}

/// Helm's output lines (it prints them on stderr).
pub fn push(opts: &PushOptions) -> anyhow::Result<Vec<String>> {
    let data = std::fs::read(&opts.chart).with_context(|| format!("reading {}", opts.chart.display()))?;
    if std::fs::metadata(&opts.chart)?.is_dir() || !crate::chart::archive::is_gzip(&data) {
        anyhow::bail!("{}: not a packaged chart (.tgz)", opts.chart.display());
    }
    let client = registry_client(&opts.source)?;
    let created = crate::output::time::rfc3339(crate::release::SystemClock.now());
    let pushed = block_on(registry::push(&client, &data, &opts.remote, &created))??;
    let mut lines = vec![
        format!("Pushed: {}", pushed.reference),
        format!("Digest: {}", pushed.manifest_digest),
    ];
    lines.extend(super::locate::underscore_notice(&pushed.reference));
    Ok(lines)
}
