//! The `GuardrailsManager` capability ("ensure cluster guardrails"), and [`GuardrailsScore`], the
//! Score that compiles guardrails for the tenants they cover and ensures them on any topology with
//! that capability.

use harmony::{Interpret, InterpretError, Outcome, Problem, Score, Topology};
use harmony_tenant::{ClusterFacts, TenantScore};
use k8s_openapi::Resource;

use crate::compile::compile_guardrails;
use crate::crd::AdminNetworkPolicy;
use crate::plan::{Finding, GuardrailsPlan};
use crate::score::{ClusterGuardrailsScore, Toggle};

/// What guardrails are compiled against on a topology.
#[derive(Debug, Clone, PartialEq)]
pub struct GuardrailsFacts {
    /// The cluster's facts (flavor, networks, storage classes).
    pub cluster: ClusterFacts,
    /// Whether the cluster serves AdminNetworkPolicies (the API group of
    /// [`AdminNetworkPolicy`](crate::crd::AdminNetworkPolicy)); `None` when no cluster was
    /// asked, and `networkTiers: auto` then follows the flavor.
    pub admin_network_policies: Option<bool>,
}

/// A topology that can hold cluster guardrails: a live cluster, ...
#[async_trait::async_trait]
pub trait GuardrailsManager: Topology {
    /// The facts guardrails are compiled against on this topology.
    async fn guardrails_facts(&self) -> Result<GuardrailsFacts, InterpretError>;

    /// Makes the cluster hold the objects of `plan`, in its order, and removes the guardrail
    /// objects Harmony owns that the plan no longer holds.
    async fn ensure_guardrails(&self, plan: &GuardrailsPlan) -> Result<Outcome, InterpretError>;
}

/// The guardrails of a cluster and the tenants they cover (each tenant's parameters and network
/// tier): what `harmony cluster guardrails apply` ensures.
///
/// The tenants are every tenant of the cluster: a tenant left out loses its AdminNetworkPolicy.
#[derive(Debug, Clone, PartialEq)]
pub struct GuardrailsScore {
    /// The guardrails (a `ClusterGuardrails` file).
    pub guardrails: ClusterGuardrailsScore,
    /// The tenants they cover (tenant files).
    pub tenants: Vec<TenantScore>,
}

impl<T: GuardrailsManager> Score<T> for GuardrailsScore {
    fn name(&self) -> String {
        format!("guardrails {}", self.guardrails.name)
    }

    fn create_interpret(&self) -> Box<dyn Interpret<T>> {
        Box::new(GuardrailsInterpret(self.clone()))
    }
}

/// Whether network tiers are on: `auto` follows discovery when the cluster was asked (it serves
/// AdminNetworkPolicies), else the flavor; `enabled` on a cluster known not to serve them is a
/// problem, since every AdminNetworkPolicy would be refused.
pub fn network_tiers_on(
    score: &ClusterGuardrailsScore,
    facts: &GuardrailsFacts,
) -> Result<bool, Problem> {
    match (score.network_tiers, facts.admin_network_policies) {
        (Toggle::Enabled, Some(false)) => Err(Problem::new(
            "spec.networkTiers",
            format!(
                "`enabled`, but the cluster does not serve the {} API group (AdminNetworkPolicy): use `auto` or `disabled`, or run OVN-Kubernetes with its AdminNetworkPolicy support",
                <AdminNetworkPolicy as Resource>::GROUP
            ),
        )),
        (Toggle::Auto, Some(served)) => Ok(served),
        (toggle, _) => Ok(toggle.resolve(facts.cluster.flavor)),
    }
}

/// Validates the guardrails and tenants against the topology's facts, resolves the network
/// tiers, compiles and ensures the plan. Findings are added to the outcome's details, after the
/// topology's, and attached as its report (`Vec<Finding>`).
struct GuardrailsInterpret(GuardrailsScore);

impl GuardrailsInterpret {
    fn plan(&self, facts: &GuardrailsFacts) -> Result<GuardrailsPlan, InterpretError> {
        let score = &self.0;
        let mut problems: Vec<String> = score
            .guardrails
            .validate(&facts.cluster)
            .into_iter()
            .map(|p| {
                format!(
                    "guardrails {}: {}: {}",
                    score.guardrails.name, p.path, p.message
                )
            })
            .collect();
        for tenant in &score.tenants {
            problems.extend(
                tenant
                    .validate(&facts.cluster)
                    .into_iter()
                    .map(|p| format!("tenant {}: {}: {}", tenant.name(), p.path, p.message)),
            );
        }
        let tiers = network_tiers_on(&score.guardrails, facts).map_err(|p| {
            format!(
                "guardrails {}: {}: {}",
                score.guardrails.name, p.path, p.message
            )
        });
        match tiers {
            Ok(on) if problems.is_empty() => {
                let resolved = score.guardrails.clone().network_tiers(if on {
                    Toggle::Enabled
                } else {
                    Toggle::Disabled
                });
                Ok(compile_guardrails(
                    &resolved,
                    &facts.cluster,
                    &score.tenants,
                ))
            }
            tiers => {
                problems.extend(tiers.err());
                Err(InterpretError::Invalid(problems.join("; ")))
            }
        }
    }
}

#[async_trait::async_trait]
impl<T: GuardrailsManager> Interpret<T> for GuardrailsInterpret {
    fn name(&self) -> String {
        format!("guardrails {}", self.0.guardrails.name)
    }

    async fn execute(&self, topology: &T) -> Result<Outcome, InterpretError> {
        let facts = topology.guardrails_facts().await?;
        let plan = self.plan(&facts)?;
        let mut outcome = topology.ensure_guardrails(&plan).await?;
        outcome
            .details
            .extend(plan.findings.iter().map(Finding::to_string));
        Ok(outcome.with_report(plan.findings))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::GuardrailObject;
    use harmony::{Maestro, OutcomeStatus};
    use std::sync::Mutex;

    /// A topology that keeps the last plan in memory and says what discovery found.
    struct Memory {
        facts: GuardrailsFacts,
        plan: Mutex<Option<GuardrailsPlan>>,
    }

    impl Memory {
        fn new(cluster: ClusterFacts, admin_network_policies: Option<bool>) -> Self {
            Self {
                facts: GuardrailsFacts {
                    cluster,
                    admin_network_policies,
                },
                plan: Mutex::new(None),
            }
        }

        fn anps(&self) -> usize {
            let plan = self.plan.lock().unwrap();
            plan.iter()
                .flat_map(|p| p.objects())
                .filter(|o| matches!(o, GuardrailObject::AdminNetworkPolicy(_)))
                .count()
        }
    }

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
    impl GuardrailsManager for Memory {
        async fn guardrails_facts(&self) -> Result<GuardrailsFacts, InterpretError> {
            Ok(self.facts.clone())
        }
        async fn ensure_guardrails(
            &self,
            plan: &GuardrailsPlan,
        ) -> Result<Outcome, InterpretError> {
            let mut stored = self.plan.lock().unwrap();
            if stored.as_ref() == Some(plan) {
                return Ok(Outcome::unchanged("in place", vec![]));
            }
            *stored = Some(plan.clone());
            Ok(Outcome::changed("stored", vec![]))
        }
    }

    fn score(network_tiers: Toggle, tenants: &[&str]) -> GuardrailsScore {
        GuardrailsScore {
            guardrails: ClusterGuardrailsScore::default().network_tiers(network_tiers),
            tenants: tenants.iter().map(|t| TenantScore::new(*t)).collect(),
        }
    }

    async fn run(topology: Memory, score: GuardrailsScore) -> (Maestro<Memory>, harmony::Report) {
        let mut maestro = Maestro::new(topology);
        maestro.register([Box::new(score) as Box<dyn Score<Memory>>]);
        let report = maestro.run().await.unwrap();
        (maestro, report)
    }

    #[tokio::test]
    async fn auto_network_tiers_follow_discovery_not_the_flavor() {
        let vanilla_with_anp = Memory::new(ClusterFacts::kubernetes(), Some(true));
        let (maestro, report) = run(vanilla_with_anp, score(Toggle::Auto, &["acme"])).await;
        assert_eq!(maestro.topology().anps(), 1);
        let outcome = report.results[0].result.as_ref().unwrap();
        assert_eq!(outcome.status, OutcomeStatus::Changed);
        let okd_without_anp = Memory::new(ClusterFacts::okd(), Some(false));
        let (maestro, report) = run(okd_without_anp, score(Toggle::Auto, &["acme"])).await;
        assert_eq!(maestro.topology().anps(), 0);
        let details = &report.results[0].result.as_ref().unwrap().details;
        assert!(
            details
                .iter()
                .any(|d| d.starts_with("note: network-tiers-off")),
            "{details:?}"
        );
        let offline_okd = Memory::new(ClusterFacts::okd(), None);
        let (maestro, _) = run(offline_okd, score(Toggle::Auto, &["acme"])).await;
        assert_eq!(maestro.topology().anps(), 1);
    }

    #[tokio::test]
    async fn refuses_enabled_tiers_without_the_api_and_invalid_tenants_before_writing() {
        let topology = Memory::new(ClusterFacts::kubernetes(), Some(false));
        let (maestro, report) = run(topology, score(Toggle::Enabled, &["acme", "Bad"])).await;
        let error = report.results[0].result.as_ref().unwrap_err().to_string();
        assert!(error.contains("tenant Bad: metadata.name"), "{error}");
        assert!(
            error.contains("spec.networkTiers: `enabled`, but the cluster does not serve the policy.networking.k8s.io API group"),
            "{error}"
        );
        assert!(maestro.topology().plan.lock().unwrap().is_none());
    }
}
