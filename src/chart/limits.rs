//! The limits that keep a hostile or broken chart harmless: how many bytes and files a chart may
//! hold once unpacked, and how big one file may be.
//!
//! Helm 3.17.3 began refusing archives over 100 MiB unpacked or holding a file over 5 MiB
//! (CVE-2025-32386), and directories holding a file over 5 MiB. We take its numbers so that a
//! chart either tool accepts loads in both, and go further where Helm still lets bad input
//! through: the budget covers the whole chart tree, so subchart archives nested in subchart
//! archives cannot multiply it, and it covers directories too, so a chart that loads from a
//! directory still loads once packaged. Names count as bytes, since a tar header's name can be
//! any length and names compress as well as contents do. A file count bounds trees of links
//! and archives of empty files.

use super::Error;

/// The most a chart, its subcharts included, may hold once unpacked: file contents and names.
pub const MAX_CHART_SIZE: u64 = 100 << 20;
/// The most one file of a chart may hold once unpacked.
pub const MAX_FILE_SIZE: u64 = 5 << 20;
/// The most files a chart, its subcharts included, may hold. Real charts hold tens to a few
/// thousand; this leaves room for the deepest legitimate trees while bounding a tree of
/// symlinked directories that doubles at each level.
pub const MAX_FILES: usize = 20_000;

/// What is left of the limits while one chart tree loads.
#[derive(Debug)]
pub(crate) struct Budget {
    bytes: u64,
    files: usize,
}

/// Where the files being counted come from, for the wording of the errors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Source {
    Archive,
    Directory,
}

impl Budget {
    pub(crate) fn new() -> Budget {
        Budget {
            bytes: MAX_CHART_SIZE,
            files: MAX_FILES,
        }
    }

    /// Counts one more file.
    pub(crate) fn take_file(&mut self) -> Result<(), Error> {
        if self.files == 0 {
            return Err(Error::new(format!(
                "chart has more than the maximum of {MAX_FILES} files"
            )));
        }
        self.files -= 1;
        Ok(())
    }

    /// Checks `size` bytes of the file `name` (as the archive or directory names it) against the
    /// per-file limit, without taking them yet.
    pub(crate) fn check_file_size(name: &str, size: u64, source: Source) -> Result<(), Error> {
        if size <= MAX_FILE_SIZE {
            return Ok(());
        }
        let quoted = gotemplate::gofmt::quote(name);
        Err(Error::new(match source {
            // Helm 3.17.3's wording for each.
            Source::Archive => {
                format!(
                    "decompressed chart file {quoted} is larger than the maximum file size {MAX_FILE_SIZE}"
                )
            }
            Source::Directory => {
                format!("chart file {quoted} is larger than the maximum file size {MAX_FILE_SIZE}")
            }
        }))
    }

    /// Takes `size` bytes from what the chart may still hold.
    pub(crate) fn take_bytes(&mut self, size: u64) -> Result<(), Error> {
        if size > self.bytes {
            return Err(chart_too_big());
        }
        self.bytes -= size;
        Ok(())
    }

    /// The bytes the chart may still hold.
    pub(crate) fn bytes_left(&self) -> u64 {
        self.bytes
    }
}

/// The error for a chart over [`MAX_CHART_SIZE`], in Helm 3.17.3's words.
pub(crate) fn chart_too_big() -> Error {
    Error::new(format!(
        "decompressed chart is larger than the maximum size {MAX_CHART_SIZE}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_table() {
        type Step = fn(&mut Budget) -> Result<(), Error>;
        let cases: &[(&str, Step, Result<(), &str>)] = &[
            ("everything at once", |b| b.take_bytes(MAX_CHART_SIZE), Ok(())),
            (
                "one byte over",
                |b| b.take_bytes(MAX_CHART_SIZE + 1),
                Err("decompressed chart is larger than the maximum size 104857600"),
            ),
            (
                "in two takes",
                |b| {
                    b.take_bytes(MAX_CHART_SIZE - 1)?;
                    b.take_bytes(2)
                },
                Err("decompressed chart is larger than the maximum size 104857600"),
            ),
            (
                "every file",
                |b| (0..MAX_FILES).try_for_each(|_| b.take_file()),
                Ok(()),
            ),
            (
                "one file too many",
                |b| (0..=MAX_FILES).try_for_each(|_| b.take_file()),
                Err("chart has more than the maximum of 20000 files"),
            ),
            (
                "largest file",
                |_| Budget::check_file_size("a", MAX_FILE_SIZE, Source::Archive),
                Ok(()),
            ),
            (
                "file too big in an archive",
                |_| Budget::check_file_size("c/\x1b[31m.txt", MAX_FILE_SIZE + 1, Source::Archive),
                Err("decompressed chart file \"c/\\x1b[31m.txt\" is larger than the maximum file size 5242880"),
            ),
            (
                "file too big in a directory",
                |_| Budget::check_file_size("files/a.bin", MAX_FILE_SIZE + 1, Source::Directory),
                Err("chart file \"files/a.bin\" is larger than the maximum file size 5242880"),
            ),
        ];
        for (name, step, want) in cases {
            let got = step(&mut Budget::new()).map_err(|e| e.message);
            assert_eq!(got, want.map_err(String::from), "{name}");
        }
    }
}
