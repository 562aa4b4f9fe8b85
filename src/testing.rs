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

/// The operation of the `i`-th run (from 0) in a history a test seeds: an install, then upgrades.
pub(crate) fn seeded_operation(i: usize) -> crate::release::Operation {
    use crate::release::Operation;
    if i == 0 {
        Operation::Install
    } else {
        Operation::Upgrade
    }
}
