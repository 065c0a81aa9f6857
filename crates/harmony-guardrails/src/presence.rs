//! Which guardrails a set of objects holds (a rendered plan, a folder, a live cluster's export):
//! for the isolation audit, so a check that relies on a guardrail can say which one is missing.

use k8s_openapi::Resource;
use k8s_openapi::api::admissionregistration::v1::{
    ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding,
};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
use serde_json::Value;

use crate::compile::AUTOUPDATE_ANNOTATION;
use crate::crd::{AdminNetworkPolicy, BASELINE_NAME, BaselineAdminNetworkPolicy};
use crate::guardrail::GuardrailId;

/// Groups whose presence in `self-provisioners` means every user may create projects.
const EVERYONE: [&str; 2] = ["system:authenticated", "system:authenticated:oauth"];

fn is(object: &Value, kind: &str, name: &str) -> bool {
    object["kind"] == kind && object["metadata"]["name"] == name
}

/// A policy in force: it exists and fails closed, and a binding puts it in force with `Deny`.
fn admission_rule_present(objects: &[Value], name: &str) -> bool {
    let policy = objects.iter().any(|o| {
        is(o, ValidatingAdmissionPolicy::KIND, name)
            && o["spec"]["failurePolicy"]
                .as_str()
                .is_none_or(|p| p == "Fail")
    });
    let binding = objects.iter().any(|o| {
        o["kind"] == ValidatingAdmissionPolicyBinding::KIND
            && o["spec"]["policyName"] == name
            && o["spec"]["validationActions"]
                .as_array()
                .is_some_and(|actions| actions.iter().any(|a| a == "Deny"))
    });
    policy && binding
}

/// `self-provisioners` exists, keeps its subjects (autoupdate off) and grants nobody by default.
fn self_provisioning_disabled(objects: &[Value]) -> bool {
    objects.iter().any(|o| {
        is(
            o,
            ClusterRoleBinding::KIND,
            GuardrailId::SelfProvisioning.object_name(),
        ) && o["metadata"]["annotations"][AUTOUPDATE_ANNOTATION] == "false"
            && !o["subjects"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|s| s["name"].as_str().is_some_and(|n| EVERYONE.contains(&n)))
    })
}

/// Whether tenant `tenant` has its AdminNetworkPolicy.
pub fn tenant_network_tier_present(objects: &[Value], tenant: &str) -> bool {
    let name = format!("{}{tenant}", GuardrailId::TenantNetworkTier.object_name());
    objects
        .iter()
        .any(|o| is(o, AdminNetworkPolicy::KIND, &name))
}

/// The tenants of the objects: the values of the tenant label on Namespaces.
fn tenants(objects: &[Value]) -> Vec<&str> {
    objects
        .iter()
        .filter(|o| o["kind"] == Namespace::KIND)
        .filter_map(|o| o["metadata"]["labels"][harmony_tenant::TENANT_LABEL].as_str())
        .collect()
}

/// Every guardrail of [`GuardrailId::ALL`] and whether `objects` hold it.
///
/// An admission rule is present when its policy fails closed and a binding enforces it with
/// `Deny`; the tenant network tier when every tenant Namespace among `objects` has its
/// AdminNetworkPolicy (see [`tenant_network_tier_present`] for one tenant); self-provisioning is
/// disabled when `self-provisioners` has autoupdate off and no everyone-group subject.
pub fn guardrails_present(objects: &[Value]) -> Vec<(GuardrailId, bool)> {
    GuardrailId::ALL
        .into_iter()
        .map(|id| {
            let present = match id {
                GuardrailId::BaselineNetworkTier => objects
                    .iter()
                    .any(|o| is(o, BaselineAdminNetworkPolicy::KIND, BASELINE_NAME)),
                GuardrailId::TenantNetworkTier => tenants(objects)
                    .iter()
                    .all(|t| tenant_network_tier_present(objects, t)),
                GuardrailId::SelfProvisioning => self_provisioning_disabled(objects),
                admission => admission_rule_present(objects, admission.object_name()),
            };
            (id, present)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ClusterGuardrailsScore, compile_guardrails};
    use harmony_tenant::PlanObject;
    use harmony_tenant::{ClusterFacts, TenantScore, compile};
    use serde_json::json;

    fn okd_objects() -> Vec<Value> {
        let tenants = [TenantScore::new("acme"), TenantScore::new("globex")];
        let facts = ClusterFacts::okd();
        let plan = compile_guardrails(&ClusterGuardrailsScore::default(), &facts, &tenants);
        let mut objects: Vec<Value> = plan.objects().iter().map(|o| o.to_json()).collect();
        for tenant in &tenants {
            objects.extend(
                compile(tenant, &facts)
                    .objects()
                    .iter()
                    .map(|o| o.to_json()),
            );
        }
        objects
    }

    fn missing(objects: &[Value]) -> Vec<GuardrailId> {
        guardrails_present(objects)
            .into_iter()
            .filter(|(_, present)| !present)
            .map(|(id, _)| id)
            .collect()
    }

    #[test]
    fn a_compiled_okd_plan_holds_every_guardrail() {
        assert_eq!(missing(&okd_objects()), vec![]);
    }

    #[test]
    fn says_which_guardrail_is_missing() {
        let objects = okd_objects();
        let without = |keep: &dyn Fn(&Value) -> bool| -> Vec<Value> {
            objects.iter().filter(|o| keep(o)).cloned().collect()
        };
        let no_binding =
            without(&|o| !is(o, "ValidatingAdmissionPolicyBinding", "harmony-tenant-pods"));
        assert_eq!(missing(&no_binding), [GuardrailId::TenantPods]);
        let no_anp = without(&|o| !is(o, "AdminNetworkPolicy", "harmony-tenant-globex"));
        assert_eq!(missing(&no_anp), [GuardrailId::TenantNetworkTier]);
        assert!(tenant_network_tier_present(&no_anp, "acme"));
        assert!(!tenant_network_tier_present(&no_anp, "globex"));
        let no_banp = without(&|o| o["kind"] != "BaselineAdminNetworkPolicy");
        assert_eq!(missing(&no_banp), [GuardrailId::BaselineNetworkTier]);
    }

    #[test]
    fn a_warn_only_or_fail_open_policy_does_not_count() {
        let mut objects = okd_objects();
        for o in &mut objects {
            if is(
                o,
                "ValidatingAdmissionPolicyBinding",
                "harmony-tenant-services",
            ) {
                o["spec"]["validationActions"] = json!(["Warn"]);
            }
            if is(o, "ValidatingAdmissionPolicy", "harmony-tenant-storage") {
                o["spec"]["failurePolicy"] = json!("Ignore");
            }
        }
        assert_eq!(
            missing(&objects),
            [GuardrailId::TenantServices, GuardrailId::TenantStorage]
        );
    }

    #[test]
    fn okd_default_self_provisioning_is_reported_missing() {
        let mut objects: Vec<Value> = okd_objects()
            .into_iter()
            .filter(|o| o["kind"] != "ClusterRoleBinding")
            .collect();
        assert_eq!(missing(&objects), [GuardrailId::SelfProvisioning]);
        objects.push(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": "self-provisioners",
                         "annotations": {AUTOUPDATE_ANNOTATION: "false"}},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "self-provisioner"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:authenticated:oauth"}],
        }));
        assert_eq!(missing(&objects), [GuardrailId::SelfProvisioning]);
    }
}
