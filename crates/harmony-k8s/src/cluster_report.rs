//! What ensuring a cluster-wide plan (guardrails, monitoring) did, as an [`Outcome`].

use harmony::Outcome;
use serde_json::Value;

use crate::apply::{Action, Mode, ObjectChange};

/// A JSON string's text; empty for anything else.
pub(crate) fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

/// What ensuring a cluster-wide plan did: the writes, what was already in place, and notes.
#[derive(Default)]
pub(crate) struct Report {
    /// The objects written (or that would be).
    pub(crate) changes: Vec<ObjectChange>,
    /// How many objects already held the plan.
    pub(crate) unchanged: usize,
    /// Notes for people, after the changes.
    pub(crate) notes: Vec<String>,
}

impl Report {
    fn count(&self, action: Action) -> usize {
        self.changes.iter().filter(|c| c.action == action).count()
    }

    /// `N created, N changed, N unchanged, N pruned` (`would be ...` in a dry run), each change
    /// with its differences, then the notes.
    pub(crate) fn outcome(self, mode: Mode) -> Outcome {
        let counts = format!(
            "{} created, {} changed, {} unchanged, {} pruned",
            self.count(Action::Created),
            self.count(Action::Changed),
            self.unchanged,
            self.count(Action::Pruned)
        );
        let mut details = Vec::new();
        for change in &self.changes {
            let action = serde_json::to_value(change.action).unwrap_or_default();
            details.push(format!("{} {}", text(&action), change.object));
            details.extend(change.diff.iter().map(|d| format!("  {d}")));
        }
        details.extend(self.notes);
        if self.changes.is_empty() {
            Outcome::unchanged(counts, details)
        } else if mode == Mode::Apply {
            Outcome::changed(counts, details)
        } else {
            Outcome::changed(format!("would be {counts}"), details)
        }
    }
}
