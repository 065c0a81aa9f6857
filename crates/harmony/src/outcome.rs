use serde::{Deserialize, Serialize};

/// Whether an interpret changed anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutcomeStatus {
    /// The topology was changed to match the score.
    Changed,
    /// The topology already matched the score; nothing was written.
    Unchanged,
}

/// The result of a successful interpret: what changed, what was already right, with details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// Whether anything changed.
    pub status: OutcomeStatus,
    /// One line for people.
    pub message: String,
    /// One entry per object or step, for people and machines.
    pub details: Vec<String>,
}

impl Outcome {
    /// An outcome that changed the topology.
    pub fn changed(message: impl Into<String>, details: Vec<String>) -> Self {
        Self {
            status: OutcomeStatus::Changed,
            message: message.into(),
            details,
        }
    }

    /// An outcome that found the topology already right.
    pub fn unchanged(message: impl Into<String>, details: Vec<String>) -> Self {
        Self {
            status: OutcomeStatus::Unchanged,
            message: message.into(),
            details,
        }
    }
}
