//! Shared setup of the audit's integration tests.
#![allow(dead_code)] // each test binary uses part of it

use harmony_audit::{AuditConfig, AuditReport, ClusterSnapshot, Expectation, Status};
use harmony_tenant::connections::matched_connections;
use harmony_tenant::{ClusterFacts, TenantPlan, TenantScore, compile};

/// The snapshot of `scores` compiled for `facts`, with the platform and placeholder pods, and the
/// audit configuration expecting what each tenant file says and knowing the connections both
/// sides declare.
pub fn audited(scores: &[TenantScore], facts: &ClusterFacts) -> (ClusterSnapshot, AuditConfig) {
    let facts = &ClusterFacts {
        connections: matched_connections(scores),
        ..facts.clone()
    };
    let plans: Vec<TenantPlan> = scores.iter().map(|s| compile(s, facts)).collect();
    let mut snapshot = ClusterSnapshot::from_plans(&plans);
    snapshot.add_platform(facts);
    snapshot.add_placeholder_pods();
    let mut config = AuditConfig::new(facts.clone());
    for s in scores {
        config
            .expectations
            .insert(s.name().into(), Expectation::of(s, None));
    }
    (snapshot, config)
}

/// Every check of `report` that did not pass: `tenant namespace check status: evidence`.
pub fn not_passing(report: &AuditReport) -> Vec<String> {
    report
        .tenants
        .iter()
        .flat_map(|t| {
            t.checks
                .iter()
                .filter(|c| c.status != Status::Pass)
                .map(move |c| {
                    format!(
                        "{} {} {} {:?}: {:?}",
                        t.tenant, t.namespace, c.id, c.status, c.evidence
                    )
                })
        })
        .collect()
}
