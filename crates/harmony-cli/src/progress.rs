//! The progress bar of Maestro runs, drawn on stderr only when it is a terminal.

use harmony::{Observer, ScoreResult};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A Maestro observer drawing one bar: scores done out of all, the last started, and each
/// failure as it happens.
pub struct Bar(ProgressBar);

impl Bar {
    /// A bar on stderr, hidden when stderr is not a terminal.
    pub fn stderr() -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {wide_msg}") {
            bar.set_style(style);
        }
        Self(bar)
    }
}

impl Observer for Bar {
    fn on_run(&self, total: usize) {
        self.0.set_length(total as u64);
    }

    fn on_start(&self, name: &str) {
        self.0.set_message(name.to_string());
    }

    fn on_finish(&self, result: &ScoreResult) {
        if let Err(error) = &result.result {
            self.0.println(format!("{}: {error}", result.score));
        }
        self.0.inc(1);
    }

    fn on_done(&self) {
        self.0.finish_and_clear();
    }
}
