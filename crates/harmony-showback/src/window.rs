//! The time a cost report covers: `--window 30d` back from `--end`, evaluated every `--step`.

use jiff::{SignedDuration, Span, SpanRelativeTo, Timestamp};
use thiserror::Error;

/// Prometheus refuses range queries of more points per series than this.
pub const MAX_POINTS: i64 = 11_000;

/// A window refused, with the fix.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum WindowError {
    /// Not a duration.
    #[error(
        "`{0}` is not a duration: write a number and a unit (s, m, h, d, w), such as 30d, 12h or 1h30m"
    )]
    Duration(String),
    /// Zero, negative or with a fraction of a second.
    #[error("`{0}` must be a whole number of seconds, at least 1s")]
    NotPositive(String),
    /// Not a whole number of steps.
    #[error(
        "the window {window} is not a whole number of steps of {step}: choose a step that divides it, such as 1h"
    )]
    NotMultiple {
        /// The window as given.
        window: String,
        /// The step as given.
        step: String,
    },
    /// More points than Prometheus returns.
    #[error(
        "the window {window} in steps of {step} makes {points} points, more than Prometheus's {MAX_POINTS} per series: use a longer step"
    )]
    TooManyPoints {
        /// The window as given.
        window: String,
        /// The step as given.
        step: String,
        /// The points it would make.
        points: i64,
    },
}

/// A duration such as `30d`, `12h` or `1h30m` (days of 24 hours).
pub fn parse_duration(text: &str) -> Result<SignedDuration, WindowError> {
    let refuse = || WindowError::Duration(text.to_string());
    let span: Span = text.trim().parse().map_err(|_| refuse())?;
    let duration = span
        .to_duration(SpanRelativeTo::days_are_24_hours())
        .map_err(|_| refuse())?;
    if duration.as_secs() < 1 || duration.subsec_nanos() != 0 {
        return Err(WindowError::NotPositive(text.to_string()));
    }
    Ok(duration)
}

/// Points `step` apart, the last at `end`; each stands for the step that ends at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The last point: the requested end, rounded down to a whole number of steps since the
    /// Unix epoch, so that reports for the same day are the same.
    pub end: Timestamp,
    /// Between points.
    pub step: SignedDuration,
    /// How many points (window / step).
    pub points: i64,
}

impl Window {
    /// The window of length `window` in steps of `step`, ending at `end` (rounded down).
    pub fn new(window: &str, step: &str, end: Timestamp) -> Result<Self, WindowError> {
        let length = parse_duration(window)?;
        let step_duration = parse_duration(step)?;
        let (length_s, step_s) = (length.as_secs(), step_duration.as_secs());
        if length_s % step_s != 0 {
            return Err(WindowError::NotMultiple {
                window: window.into(),
                step: step.into(),
            });
        }
        let points = length_s / step_s;
        if points > MAX_POINTS {
            return Err(WindowError::TooManyPoints {
                window: window.into(),
                step: step.into(),
                points,
            });
        }
        let end_s = end.as_second() - end.as_second().rem_euclid(step_s);
        let end = Timestamp::from_second(end_s).expect("rounded down from a valid time");
        Ok(Self {
            end,
            step: step_duration,
            points,
        })
    }

    /// The first point.
    pub fn first(&self) -> Timestamp {
        self.end - self.step * (self.points - 1) as i32
    }

    /// When the window starts: one step before its first point.
    pub fn start(&self) -> Timestamp {
        self.end - self.step * self.points as i32
    }

    /// Every point, in milliseconds since the epoch, oldest first.
    pub fn points_ms(&self) -> impl Iterator<Item = i64> + '_ {
        let step = self.step.as_millis() as i64;
        let first = self.first().as_millisecond();
        (0..self.points).map(move |i| first + i * step)
    }

    /// Hours per step.
    pub fn step_hours(&self) -> f64 {
        self.step.as_secs_f64() / 3600.0
    }

    /// Hours in the window.
    pub fn hours(&self) -> f64 {
        self.step_hours() * self.points as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn a_window_ends_at_a_whole_step_and_counts_its_points() {
        let window = Window::new("30d", "1h", at("2026-11-30T12:34:56Z")).unwrap();
        assert_eq!(window.end, at("2026-11-30T12:00:00Z"));
        assert_eq!(window.points, 720);
        assert_eq!(window.first(), at("2026-10-31T13:00:00Z"));
        assert_eq!(window.start(), at("2026-10-31T12:00:00Z"));
        assert_eq!(window.hours(), 720.0);
        assert_eq!(window.points_ms().count(), 720);
    }

    #[test]
    fn refuses_bad_windows_and_steps_with_the_fix() {
        let end = at("2026-11-30T12:00:00Z");
        let error = |w, s| Window::new(w, s, end).unwrap_err().to_string();
        assert_eq!(
            error("thirty days", "1h"),
            "`thirty days` is not a duration: write a number and a unit (s, m, h, d, w), such as 30d, 12h or 1h30m"
        );
        assert_eq!(
            error("0d", "1h"),
            "`0d` must be a whole number of seconds, at least 1s"
        );
        assert_eq!(
            error("30d", "7h"),
            "the window 30d is not a whole number of steps of 7h: choose a step that divides it, such as 1h"
        );
        assert_eq!(
            error("30d", "1m"),
            "the window 30d in steps of 1m makes 43200 points, more than Prometheus's 11000 per series: use a longer step"
        );
    }
}
