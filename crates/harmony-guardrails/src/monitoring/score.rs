//! The `MonitoringManager` capability ("ensure the cluster side of monitoring"), and
//! [`MonitoringScore`], which compiles and ensures it on any topology with that capability.

use harmony::{Interpret, InterpretError, Outcome, Score, Topology};
use harmony_tenant::ClusterFlavor;

use super::{ClusterMonitoring, MonitoringPlan, compile_monitoring};

/// A topology that can hold the cluster side of monitoring: a live cluster, a folder.
#[async_trait::async_trait]
pub trait MonitoringManager: Topology {
    /// The flavor of the cluster the plan is compiled for.
    async fn monitoring_flavor(&self) -> Result<ClusterFlavor, InterpretError>;

    /// Makes the topology hold the objects of `plan`, in its order.
    async fn ensure_monitoring(&self, plan: &MonitoringPlan) -> Result<Outcome, InterpretError>;
}

/// The monitoring choices of a cluster: what `harmony cluster monitoring apply` ensures.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitoringScore(pub ClusterMonitoring);

impl<T: MonitoringManager> Score<T> for MonitoringScore {
    fn name(&self) -> String {
        format!("monitoring {}", self.0.name)
    }

    fn create_interpret(&self) -> Box<dyn Interpret<T>> {
        Box::new(MonitoringInterpret(self.0.clone()))
    }
}

/// Validates, compiles for the topology's flavor and ensures.
struct MonitoringInterpret(ClusterMonitoring);

#[async_trait::async_trait]
impl<T: MonitoringManager> Interpret<T> for MonitoringInterpret {
    fn name(&self) -> String {
        format!("monitoring {}", self.0.name)
    }

    async fn execute(&self, topology: &T) -> Result<Outcome, InterpretError> {
        let problems: Vec<String> = self
            .0
            .validate()
            .into_iter()
            .map(|p| format!("monitoring {}: {}: {}", self.0.name, p.path, p.message))
            .collect();
        if !problems.is_empty() {
            return Err(InterpretError::Invalid(problems.join("; ")));
        }
        let flavor = topology.monitoring_flavor().await?;
        topology
            .ensure_monitoring(&compile_monitoring(&self.0, flavor))
            .await
    }
}
