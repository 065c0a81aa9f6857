use std::any::Any;
use std::fmt;
use std::sync::Arc;

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
    /// The adapter's typed report, if it attached one (see [`Outcome::report`]).
    #[serde(skip)]
    attached: Attached,
}

/// A typed report attached to an outcome, shared rather than copied when the outcome is cloned.
#[derive(Clone, Default)]
struct Attached(Option<Arc<dyn Any + Send + Sync>>);

impl fmt::Debug for Attached {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() { "Some(..)" } else { "None" })
    }
}

impl PartialEq for Attached {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Eq for Attached {}

impl Outcome {
    /// An outcome that changed the topology.
    pub fn changed(message: impl Into<String>, details: Vec<String>) -> Self {
        Self {
            status: OutcomeStatus::Changed,
            message: message.into(),
            details,
            attached: Attached::default(),
        }
    }

    /// An outcome that found the topology already right.
    pub fn unchanged(message: impl Into<String>, details: Vec<String>) -> Self {
        Self {
            status: OutcomeStatus::Unchanged,
            message: message.into(),
            details,
            attached: Attached::default(),
        }
    }

    /// This outcome with the adapter's typed `report` (such as a per-tenant report) attached.
    pub fn with_report<R: Any + Send + Sync>(mut self, report: R) -> Self {
        self.attached = Attached(Some(Arc::new(report)));
        self
    }

    /// The attached report, if there is one of type `R`.
    pub fn report<R: Any>(&self) -> Option<&R> {
        self.attached.0.as_deref()?.downcast_ref()
    }
}
