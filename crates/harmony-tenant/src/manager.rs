//! The `TenantManager` capability, and `TenantScore` as a Score over any topology that has it;
//! the `TenantRemover` capability.

use harmony::{Interpret, InterpretError, Outcome, Score, Topology};

use crate::{
    BackupStatus, ClusterFacts, DeleteError, DeleteOptions, DeleteReport, ExternalAccess,
    MonitoringStatus, TenantPlan, TenantScore, compile,
};

/// A topology that can hold tenants: a folder of manifests, a live cluster, ...
///
/// `TenantScore` is a `Score` only for topologies with this capability; on any other topology it
/// does not compile:
///
/// ```compile_fail,E0277
/// use harmony::{InterpretError, Score, Topology};
///
/// /// A topology without the TenantManager capability.
/// struct Printer;
///
/// #[harmony::async_trait]
/// impl Topology for Printer {
///     fn name(&self) -> String {
///         "printer".into()
///     }
///     async fn ensure_ready(&self) -> Result<(), InterpretError> {
///         Ok(())
///     }
/// }
///
/// let score: Box<dyn Score<Printer>> = Box::new(harmony_tenant::TenantScore::new("acme"));
/// ```
#[async_trait::async_trait]
pub trait TenantManager: Topology {
    /// The facts tenants are compiled against on this topology.
    async fn cluster_facts(&self) -> Result<ClusterFacts, InterpretError>;

    /// Makes the tenant's objects match `plan`, removing those it owned and no longer wants.
    async fn ensure_tenant(&self, plan: &TenantPlan) -> Result<Outcome, InterpretError>;
}

/// A topology tenants can be removed from, such as a live cluster.
#[async_trait::async_trait]
pub trait TenantRemover: Topology {
    /// Deletes tenant `tenant`, access first: refuses ([`DeleteError::DataHeld`]), changing
    /// nothing anywhere, while its namespace holds PersistentVolumeClaims and
    /// `options.delete_data` is not set; then revokes the access `outside` holds (such as VPN
    /// peers), RoleBindings, ServiceAccounts, checks the claims again (one made meanwhile stops
    /// it there, access revoked: [`DeleteError::Stopped`]), deletes the namespace and waits until
    /// it is gone. Deleting a tenant already gone still revokes `outside` and otherwise does nothing.
    async fn delete_tenant(
        &self,
        tenant: &str,
        options: DeleteOptions,
        outside: Option<&dyn ExternalAccess>,
    ) -> Result<DeleteReport, DeleteError>;
}

impl<T: TenantManager> Score<T> for TenantScore {
    fn name(&self) -> String {
        format!("tenant {}", self.name())
    }

    fn create_interpret(&self) -> Box<dyn Interpret<T>> {
        Box::new(TenantInterpret(self.clone()))
    }
}

/// Validates the score against the topology's facts, compiles it and ensures the plan.
struct TenantInterpret(TenantScore);

#[async_trait::async_trait]
impl<T: TenantManager> Interpret<T> for TenantInterpret {
    fn name(&self) -> String {
        format!("tenant {}", self.0.name())
    }

    async fn execute(&self, topology: &T) -> Result<Outcome, InterpretError> {
        let facts = topology.cluster_facts().await?;
        let problems = self.0.validate(&facts);
        if !problems.is_empty() {
            let shown: Vec<String> = problems
                .iter()
                .map(|p| format!("{}: {}", p.path, p.message))
                .collect();
            return Err(InterpretError::Invalid(shown.join("; ")));
        }
        let plan = compile(&self.0, &facts);
        let mut outcome = topology.ensure_tenant(&plan).await?;
        if plan.monitoring != MonitoringStatus::On {
            outcome
                .details
                .push(format!("monitoring {}", plan.monitoring.describe()));
        }
        if plan.backup != BackupStatus::On {
            outcome
                .details
                .push(format!("backups {}", plan.backup.describe()));
        }
        outcome
            .details
            .extend(plan.unmatched_connections.iter().cloned());
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Phase;
    use harmony::Maestro;
    use std::sync::Mutex;

    /// A topology that keeps the last plan of each tenant in memory.
    #[derive(Default)]
    struct Memory(Mutex<Vec<TenantPlan>>);

    #[async_trait::async_trait]
    impl Topology for Memory {
        fn name(&self) -> String {
            "memory".into()
        }
        async fn ensure_ready(&self) -> Result<(), InterpretError> {
            Ok(())
        }
    }

    #[async_trait::async_trait]
    impl TenantManager for Memory {
        async fn cluster_facts(&self) -> Result<ClusterFacts, InterpretError> {
            Ok(ClusterFacts::kubernetes())
        }
        async fn ensure_tenant(&self, plan: &TenantPlan) -> Result<Outcome, InterpretError> {
            let mut plans = self.0.lock().unwrap();
            if plans.contains(plan) {
                return Ok(Outcome::unchanged("in place", vec![]));
            }
            plans.push(plan.clone());
            Ok(Outcome::changed("stored", vec![]))
        }
    }

    #[tokio::test]
    async fn tenant_scores_run_through_maestro() {
        let mut maestro = Maestro::new(Memory::default());
        let scores: Vec<Box<dyn Score<Memory>>> = vec![
            Box::new(TenantScore::new("acme")),
            Box::new(TenantScore::new("Bad")),
            Box::new(TenantScore::new("acme")),
        ];
        maestro.register(scores);
        let report = maestro.run().await.unwrap();
        assert_eq!(report.summary(), "memory: 1 changed, 1 unchanged, 1 failed");
        let error = report.results[1].result.as_ref().unwrap_err().to_string();
        assert!(
            error.contains("metadata.name: `Bad` is not a valid tenant id"),
            "{error}"
        );
        let plans = maestro.topology().0.lock().unwrap();
        assert_eq!(plans[0].objects()[0].phase(), Phase::Namespace);
    }
}
