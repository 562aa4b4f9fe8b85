//! Chart repositories, on Helm's own files: `repositories.yaml`, the index cache
//! (`<name>-index.yaml`, `<name>-charts.txt`) and the `index.yaml` format itself.
//!
//! What it does: where Helm keeps things ([`HelmPaths`], the `HELM_*` variables), reading and
//! writing `repositories.yaml` under Helm's lock ([`RepoFile`]), finding one chart's versions in
//! an index without parsing the whole file ([`index::find_chart`]), Helm's version choice
//! ([`select()`]), generating an index from a directory of archives ([`index_directory`]), and
//! `search repo`'s matching ([`search()`]).
//!
//! What it does not do: any network. Downloads go through the `net` module in `action`; this
//! module only ever sees bytes and paths, so every rule here is unit-tested without a server.
//!
//! Start with [`find_version`] (built on [`index::find_chart`] and [`select()`]): Helm's
//! `IndexFile.Get` for `repo/name` references, decoding only the chosen entry.

mod config;
mod generate;
pub mod index;
mod paths;
mod search;
pub mod select;

pub use config::{lock_path, write_atomic, Entry, RepoFile, RepoLock};
pub use generate::{archives, index_directory, merge, write_index, DirEntry};
pub use index::{ChartVersion, Index};
pub use paths::HelmPaths;
pub use search::{search, SearchHit, SEARCH_MAX_SCORE};
pub use select::{devel_constraint, find_version, resolve_url, select, FindError, SelectError};

/// A repository error naming the file (or URL) and what was wrong with it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A file's contents are not what Helm writes.
    #[error("{path}: {message}")]
    Invalid {
        /// The file (or URL) it came from.
        path: String,
        /// What is wrong, with the line where known.
        message: String,
    },
}

impl Error {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.display().to_string(),
            source,
        }
    }
    pub(crate) fn invalid(path: impl std::fmt::Display, message: impl Into<String>) -> Error {
        Error::Invalid {
            path: path.to_string(),
            message: message.into(),
        }
    }
}
