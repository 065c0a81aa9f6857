//! Cluster guardrails behind the checks: the checks whose result a tenant could undo, or that
//! hold only while tenants cannot change what Harmony manages, say which guardrail keeps them
//! true, present or missing (see `harmony_guardrails::guardrails_present`).
//!
//! A missing guardrail turns a passing check into a warning, not a failure: the check holds
//! today, but nothing in the cluster keeps it holding. Guardrails are assessed only when the
//! snapshot read the cluster's admission policies (not for tenant plans alone).

use harmony_guardrails::{GuardrailId, guardrails_present, tenant_network_tier_present};
use harmony_tenant::ClusterFlavor;
use serde::Serialize;
use serde_json::Value;

use super::{Check, Context, Status, Tenant};
use crate::snapshot::ClusterSnapshot;

/// The checks that rely on guardrails, and on which.
const DEPENDS: [(&str, &[GuardrailId]); 9] = [
    (
        "HMT-ING-001",
        &[GuardrailId::TenantServices, GuardrailId::TenantIngress],
    ),
    ("HMT-ESC-001", &[GuardrailId::TenantSecrets]),
    ("HMT-RBAC-001", &[GuardrailId::SelfProvisioning]),
    (
        "HMT-RBAC-003",
        &[GuardrailId::ManagedObjects, GuardrailId::NamespaceLabels],
    ),
    (
        "HMT-QUOTA-001",
        &[
            GuardrailId::TenantPlacement,
            GuardrailId::TenantDisruptionBudgets,
        ],
    ),
    ("HMT-QUOTA-002", &[GuardrailId::TenantServices]),
    (
        "HMT-STOR-001",
        &[GuardrailId::TenantStorage, GuardrailId::TenantPods],
    ),
    (
        "HMT-PSA-001",
        &[GuardrailId::NamespaceLabels, GuardrailId::TenantPods],
    ),
    (
        "HMT-NET-002",
        &[
            GuardrailId::TenantNetworkTier,
            GuardrailId::BaselineNetworkTier,
        ],
    ),
];

fn json<T: Serialize>(object: &T) -> Value {
    serde_json::to_value(object).expect("snapshot objects serialize")
}

/// The snapshot's guardrail objects as the API serves them (with `apiVersion` and `kind`), or
/// `None` when it cannot tell.
fn guardrail_objects(snapshot: &ClusterSnapshot) -> Option<Vec<Value>> {
    let admission = snapshot.admission_policies.as_ref()?;
    let mut objects: Vec<Value> = Vec::new();
    objects.extend(admission.policies.iter().map(json));
    objects.extend(admission.bindings.iter().map(json));
    objects.extend(snapshot.admin_network_policies.iter().map(json));
    objects.extend(snapshot.baseline_admin_network_policies.iter().map(json));
    objects.extend(snapshot.cluster_role_bindings.iter().map(json));
    Some(objects)
}

/// The cluster's guardrail objects and which guardrails they put in force, read once per audit.
pub(crate) struct Guardrails {
    objects: Vec<Value>,
    present: Vec<(GuardrailId, bool)>,
}

impl Guardrails {
    /// `None` when the snapshot did not read the cluster's admission policies.
    pub(crate) fn of(snapshot: &ClusterSnapshot) -> Option<Self> {
        let objects = guardrail_objects(snapshot)?;
        let present = guardrails_present(&objects);
        Some(Self { objects, present })
    }

    fn holds(&self, id: GuardrailId) -> bool {
        self.present.iter().any(|(p, on)| *p == id && *on)
    }
}

/// Whether admission guardrail `id` is present; `None` when the snapshot did not read the
/// cluster's admission policies.
pub(super) fn present(ctx: &Context, id: GuardrailId) -> Option<bool> {
    ctx.guardrails.as_ref().map(|g| g.holds(id))
}

/// Adds to each dependent check of `tenant` whether its guardrails are present; a passing check
/// whose guardrail is missing becomes a warning.
pub(super) fn annotate(ctx: &Context, tenant: &Tenant, checks: &mut [Check]) {
    let Some(guardrails) = &ctx.guardrails else {
        return;
    };
    let okd = ctx.config.facts.flavor == ClusterFlavor::Okd;
    for check in checks.iter_mut() {
        let Some((_, needed)) = DEPENDS.iter().find(|(id, _)| *id == check.id) else {
            continue;
        };
        for id in needed.iter().copied() {
            if id == GuardrailId::SelfProvisioning && !okd {
                continue;
            }
            let holds = if id == GuardrailId::TenantNetworkTier {
                tenant_network_tier_present(&guardrails.objects, &tenant.name)
            } else {
                guardrails.holds(id)
            };
            let shown = if id == GuardrailId::TenantNetworkTier {
                format!("{}{}", id.object_name(), tenant.name)
            } else {
                id.to_string()
            };
            if holds {
                check
                    .evidence
                    .push(format!("guardrail {shown} present: {}", id.describe()));
            } else {
                check.evidence.push(format!(
                    "guardrail {shown} missing: nothing in the cluster ensures that {}; apply it with `harmony cluster guardrails apply`",
                    id.describe()
                ));
                if check.status == Status::Pass {
                    check.status = Status::Warn;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use harmony_guardrails::{ClusterGuardrailsScore, GuardrailObject, compile_guardrails};
    use harmony_tenant::{ClusterFacts, TenantPlan, TenantScore, compile};

    use crate::snapshot::AdmissionPolicies;
    use crate::{AuditConfig, AuditReport, ClusterSnapshot, Status, audit};

    fn snapshot(facts: &ClusterFacts, with_guardrails: bool) -> ClusterSnapshot {
        let tenants = [TenantScore::new("acme"), TenantScore::new("globex")];
        let plans: Vec<TenantPlan> = tenants.iter().map(|t| compile(t, facts)).collect();
        let mut snapshot = ClusterSnapshot::from_plans(&plans);
        snapshot.add_platform(facts);
        snapshot.add_placeholder_pods();
        let mut admission = AdmissionPolicies::default();
        if with_guardrails {
            let plan = compile_guardrails(&ClusterGuardrailsScore::default(), facts, &tenants);
            for object in plan.objects() {
                match object {
                    GuardrailObject::ValidatingAdmissionPolicy(o) => {
                        admission.policies.push(o.clone())
                    }
                    GuardrailObject::ValidatingAdmissionPolicyBinding(o) => {
                        admission.bindings.push(o.clone())
                    }
                    GuardrailObject::AdminNetworkPolicy(o) => {
                        snapshot.admin_network_policies.push(o.clone())
                    }
                    GuardrailObject::BaselineAdminNetworkPolicy(o) => {
                        snapshot.baseline_admin_network_policies.push(o.clone())
                    }
                    GuardrailObject::ClusterRoleBinding(o) => {
                        snapshot.cluster_role_bindings.push(o.clone())
                    }
                }
            }
        }
        snapshot.admission_policies = Some(admission);
        snapshot
    }

    fn check<'a>(report: &'a AuditReport, tenant: &str, id: &str) -> &'a crate::Check {
        report
            .tenants
            .iter()
            .find(|t| t.tenant == tenant)
            .and_then(|t| t.checks.iter().find(|c| c.id == id))
            .unwrap()
    }

    #[test]
    fn with_guardrails_the_dependent_checks_say_they_are_present() {
        let facts = ClusterFacts::okd();
        let report = audit(&snapshot(&facts, true), &AuditConfig::new(facts));
        let net = check(&report, "acme", "HMT-NET-002");
        assert_eq!(net.status, Status::Pass, "{net:?}");
        assert!(
            net.evidence
                .contains(&"guardrail harmony-tenant-acme present: other tenants are denied by an AdminNetworkPolicy, whatever the tenant's own NetworkPolicies allow".to_string()),
            "{net:?}"
        );
        let rbac = check(&report, "globex", "HMT-RBAC-001");
        assert!(
            rbac.evidence
                .iter()
                .any(|e| e.starts_with("guardrail self-provisioners present")),
            "{rbac:?}"
        );
        assert!(!report.failed());
        assert!(
            report
                .tenants
                .iter()
                .flat_map(|t| &t.checks)
                .all(|c| c.status == Status::Pass),
            "{report:?}"
        );
    }

    #[test]
    fn without_guardrails_the_dependent_checks_warn_and_name_the_missing_one() {
        let facts = ClusterFacts::kubernetes();
        let report = audit(&snapshot(&facts, false), &AuditConfig::new(facts));
        let services = check(&report, "acme", "HMT-QUOTA-002");
        assert_eq!(services.status, Status::Warn);
        assert!(
            services
                .evidence
                .iter()
                .any(|e| e.starts_with("guardrail harmony-tenant-services missing: nothing in the cluster ensures that tenants cannot expose NodePort")),
            "{services:?}"
        );
        let placement = check(&report, "acme", "HMT-QUOTA-001");
        assert_eq!(placement.status, Status::Warn, "{placement:?}");
        for missing in [
            "guardrail harmony-tenant-placement missing: nothing in the cluster ensures that tenant pods cannot choose their node",
            "guardrail harmony-tenant-disruption-budgets missing",
        ] {
            assert!(
                placement.evidence.iter().any(|e| e.starts_with(missing)),
                "{missing}: {placement:?}"
            );
        }
        let labels = check(&report, "acme", "HMT-PSA-001");
        assert!(
            labels
                .evidence
                .iter()
                .any(|e| e.starts_with("guardrail harmony-namespace-labels missing")),
            "{labels:?}"
        );
        assert_eq!(check(&report, "globex", "HMT-NET-002").status, Status::Warn);
        // Not OKD: self-provisioning is not a guardrail there.
        let rbac = check(&report, "acme", "HMT-RBAC-001");
        assert_eq!(rbac.status, Status::Pass, "{rbac:?}");
        // A warning, not a failure; checks that need no guardrail are untouched.
        assert!(!report.failed());
        assert_eq!(check(&report, "acme", "HMT-NET-004").status, Status::Pass);
    }

    #[test]
    fn tenant_plans_alone_leave_guardrails_out() {
        let facts = ClusterFacts::kubernetes();
        let mut snapshot = snapshot(&facts, false);
        snapshot.admission_policies = None;
        let report = audit(&snapshot, &AuditConfig::new(facts));
        let services = check(&report, "acme", "HMT-QUOTA-002");
        assert_eq!(services.status, Status::Pass);
        assert!(!services.evidence.iter().any(|e| e.contains("guardrail")));
    }
}
