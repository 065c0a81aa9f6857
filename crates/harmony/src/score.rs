use crate::{Interpret, Topology};

/// What should exist: a validated, idempotent description of desired state.
///
/// Concrete scores also implement `serde::Serialize` and `Deserialize`; the trait does not require
/// it so that scores of different types can share one [`crate::Maestro`] run.
pub trait Score<T: Topology>: Send + Sync {
    /// A short name for progress and reports, such as `tenant acme`.
    fn name(&self) -> String;

    /// Creates the interpret that brings this score about on `T`.
    fn create_interpret(&self) -> Box<dyn Interpret<T>>;
}
