use crate::{InterpretError, Outcome, Topology};

/// How a score is brought about on a topology of type `T`.
#[async_trait::async_trait]
pub trait Interpret<T: Topology>: Send + Sync {
    /// A short name for progress and reports, such as `tenant acme`.
    fn name(&self) -> String;

    /// Makes the topology match the score, or says why it could not.
    async fn execute(&self, topology: &T) -> Result<Outcome, InterpretError>;
}
