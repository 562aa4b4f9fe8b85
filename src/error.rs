//! Exit statuses decided in one place: 0 success, 1 error, 2 "there are changes" (for
//! `diff --detailed-exitcode`, as `terraform plan` and helm-diff do).

/// A non-error outcome that still needs a non-zero exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ExitStatus {
    /// `diff --detailed-exitcode` found changes.
    #[error("changes found")]
    Changes,
}

impl ExitStatus {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Changes => 2,
        }
    }
}
