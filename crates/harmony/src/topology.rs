use crate::InterpretError;

/// Where scores are applied: a live cluster, a folder of manifests, ...
///
/// A topology exposes capabilities by implementing further traits (named after infrastructure
/// concepts, not tools); scores name the capabilities they need as trait bounds.
#[async_trait::async_trait]
pub trait Topology: Send + Sync {
    /// A short name for people, such as `manifests (out/)` or `cluster (admin@prod)`.
    fn name(&self) -> String;

    /// Checks the topology can be used (reachable, writable, ...) before any score runs.
    async fn ensure_ready(&self) -> Result<(), InterpretError>;
}
