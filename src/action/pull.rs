//! `pull`: download a chart (`oci://…` or an `https://` URL) into a directory, optionally
//! unpacked, as Helm does. The archive is written only after it was fetched and verified, through
//! a temporary name, so a failed pull leaves nothing behind.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::locate::{locate_chart, ChartSourceOptions, LocatedChart};
use crate::chart::{archive, loader};

/// What to pull and where.
#[derive(Debug, Clone)]
pub struct PullOptions {
    /// The chart reference.
    pub chart: String,
    /// Version and connection flags.
    pub source: ChartSourceOptions,
    /// `-d/--destination`.
    pub destination: PathBuf,
    /// `--untar`.
    pub untar: bool,
    /// `--untardir` (relative to the destination).
    pub untardir: PathBuf,
}

/// The outcome: Helm's stderr notices and what was written.
#[derive(Debug, Clone)]
pub struct PullResult {
    /// `Pulled: …`, `Digest: …`.
    pub notices: Vec<String>,
    /// The archive file, or the unpacked chart directory.
    pub written: PathBuf,
}

/// Pulls a chart.
pub fn pull(opts: &PullOptions) -> anyhow::Result<PullResult> {
    let located = locate_chart(&opts.chart, &opts.source)?;
    let LocatedChart {
        notices,
        archive: Some(data),
        file_name: Some(file_name),
        ..
    } = located
    else {
        anyhow::bail!(
            "{}: not a remote chart (pull takes oci://… or an https:// URL)",
            opts.chart
        );
    };
    if !opts.untar {
        let dest = opts.destination.join(&file_name);
        write_atomic(&dest, &data)?;
        return Ok(PullResult {
            notices,
            written: dest,
        });
    }
    let ud = if opts.untardir.is_absolute() {
        opts.untardir.clone()
    } else {
        opts.destination.join(&opts.untardir)
    };
    // `-d x --untardir .` is `x`: drop `.` components, which mkdir refuses.
    let ud: PathBuf = ud
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect();
    let ud = if ud.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        ud
    };
    let chart = loader::load_archive(&data).map_err(|e| anyhow::anyhow!("{}: {e}", opts.chart))?;
    let target = ud.join(&chart.metadata.name);
    if target.exists() {
        anyhow::bail!(
            "failed to untar: a file or directory with the name {} already exists",
            target.display()
        );
    }
    let files = archive::load_archive_files(&data).map_err(|e| anyhow::anyhow!("{}: {e}", opts.chart))?;
    std::fs::create_dir_all(&ud).with_context(|| format!("failed to untar (mkdir {})", ud.display()))?;
    // Unpack beside the target and rename, so a failure midway leaves no half chart.
    let staging = ud.join(format!(".{}.tmp-{}", chart.metadata.name, std::process::id()));
    let result = (|| -> anyhow::Result<()> {
        for f in &files {
            // Names were checked by load_archive_files: relative, no `..`, regular files only.
            let path = staging.join(&f.name);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            }
            std::fs::write(&path, &f.data).with_context(|| format!("writing {}", path.display()))?;
        }
        std::fs::rename(&staging, &target).with_context(|| format!("moving into {}", target.display()))
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    Ok(PullResult {
        notices,
        written: target,
    })
}

/// Writes a file through a temporary name in the same directory and a rename.
pub(crate) fn write_atomic(dest: &Path, data: &[u8]) -> anyhow::Result<()> {
    let dir = dest
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        dest.file_name().and_then(|n| n.to_str()).unwrap_or("chart"),
        std::process::id()
    ));
    std::fs::write(&tmp, data).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, dest).with_context(|| format!("writing {}", dest.display()))?;
    Ok(())
}
