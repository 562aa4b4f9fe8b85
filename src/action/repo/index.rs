//! `repo index DIR [--url URL] [--merge FILE] [--json]`: write `DIR/index.yaml` for the chart
//! archives in `DIR`, as `helm repo index` does.

use std::path::PathBuf;

use anyhow::Context as _;

use crate::repo::{self, Index};

/// Options of `repo index`.
#[derive(Debug, Clone, Default)]
pub struct RepoIndexOptions {
    /// The directory of archives; `index.yaml` is written into it.
    pub dir: PathBuf,
    /// The repository's URL, prefixed to each archive's path.
    pub url: String,
    /// An existing index whose versions are kept where the directory has none of the same.
    pub merge: Option<PathBuf>,
    /// Write JSON instead of YAML.
    pub json: bool,
    /// The time stamped as `generated` and on each new entry (RFC 3339).
    pub now: String,
}

/// Builds and writes the index; returns its path and warnings from the merged index.
pub fn repo_index(opts: &RepoIndexOptions) -> anyhow::Result<(PathBuf, Vec<String>)> {
    let dir = std::path::absolute(&opts.dir).with_context(|| format!("{}", opts.dir.display()))?;
    let mut index = repo::index_directory(&dir, &opts.url, &opts.now)?;
    let mut warnings = Vec::new();
    if let Some(merge) = &opts.merge {
        let other = match std::fs::read(merge) {
            Ok(data) => Index::parse(&data, &merge.display().to_string()).context("merge failed")?,
            // Helm writes an empty index at the merge path when there is none.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut empty = Index {
                    api_version: "v1".into(),
                    generated: opts.now.clone(),
                    ..Index::default()
                };
                repo::write_atomic(merge, repo::write_index(&mut empty, opts.json).as_bytes(), 0o644)?;
                empty
            }
            Err(e) => return Err(e).with_context(|| format!("merge failed: {}", merge.display())),
        };
        warnings = other.warnings.clone();
        repo::merge(&mut index, other);
    }
    let out = dir.join("index.yaml");
    repo::write_atomic(&out, repo::write_index(&mut index, opts.json).as_bytes(), 0o644)?;
    Ok((out, warnings))
}
