use std::path::PathBuf;

use crate::Outcome;

/// Why an interpret could not bring its topology to the desired state.
///
/// Every variant carries a message meant for the operator: what failed and, where known, what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InterpretError {
    /// The score is not valid; nothing was changed.
    #[error("invalid score: {0}")]
    Invalid(String),
    /// The interpret refused to act because acting would be unsafe (for example, destroy data).
    #[error("refused: {0}")]
    Refused(String),
    /// The topology is not usable (unreachable, unauthorised, missing a prerequisite).
    #[error("topology not ready: {0}")]
    NotReady(String),
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The topology rejected or failed an operation.
    #[error("{0}")]
    Topology(String),
    /// The interpret stopped partway: `error` says why, `done` what it did before.
    #[error("{error}")]
    Stopped {
        /// Why it stopped.
        error: Box<InterpretError>,
        /// What was done (or would have been) before it stopped.
        done: Box<Outcome>,
    },
}
