//! Helpers that the unit tests of several modules share; compiled only for tests.

use std::path::PathBuf;

/// The charts of the real-world corpus (`$KUBECTL_CHART_CORPUS/charts`, by default the shared
/// corpus), sorted by path; `None`, after saying why, where it is missing, so that the tests
/// reading it skip on a machine without it.
pub(crate) fn corpus_charts() -> Option<Vec<PathBuf>> {
    let root =
        std::env::var_os("KUBECTL_CHART_CORPUS").map_or_else(|| "/work/shared/corpus".into(), PathBuf::from);
    let dir = root.join("charts");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("skipping: {} is missing", dir.display());
        return None;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    Some(paths)
}
