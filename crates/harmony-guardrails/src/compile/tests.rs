use harmony_tenant::PlanObject;
use harmony_tenant::{ClusterFacts, MANAGED_BY_LABEL, TenantScore};

use super::*;
use crate::crd::RuleAction;
use crate::guardrail::GuardrailId;
use crate::score::Toggle;

fn tenants(n: usize) -> Vec<TenantScore> {
    (0..n)
        .map(|i| TenantScore::new(format!("t{i:03}")))
        .collect()
}

fn kinds(plan: &GuardrailsPlan) -> Vec<(&str, String)> {
    plan.objects()
        .iter()
        .map(|o| (o.kind(), o.name().to_string()))
        .collect()
}

fn anps(plan: &GuardrailsPlan) -> Vec<&crate::crd::AdminNetworkPolicy> {
    plan.objects()
        .iter()
        .filter_map(|o| match o {
            GuardrailObject::AdminNetworkPolicy(a) => Some(a),
            _ => None,
        })
        .collect()
}

#[test]
fn vanilla_plan_is_admission_rules_in_apply_order() {
    let plan = compile_guardrails(
        &ClusterGuardrailsScore::default(),
        &ClusterFacts::kubernetes(),
        &[TenantScore::new("acme")],
    );
    let kinds = kinds(&plan);
    // The policies, a binding each, and the update bindings of storage, placement and images;
    // the tenant parameters they read are in the tenant plans.
    assert_eq!(kinds.len(), 2 * GuardrailId::ADMISSION.len() + 3);
    for updates in [
        "harmony-tenant-volume-binding",
        "harmony-tenant-toleration-updates",
        "harmony-tenant-image-updates",
    ] {
        assert!(kinds.contains(&("ValidatingAdmissionPolicyBinding", updates.into())));
    }
    for id in GuardrailId::ADMISSION {
        assert!(kinds.contains(&("ValidatingAdmissionPolicy", id.object_name().into())));
        assert!(kinds.contains(&("ValidatingAdmissionPolicyBinding", id.object_name().into())));
    }
    let ordinals: Vec<u8> = plan
        .objects()
        .iter()
        .map(GuardrailObject::ordinal)
        .collect();
    assert!(ordinals.is_sorted(), "{ordinals:?}");
    assert_eq!(plan.findings.len(), 1);
    assert_eq!(plan.findings[0].id, "network-tiers-off");
    for object in plan.objects() {
        let labels = object.metadata().labels.as_ref().unwrap();
        assert_eq!(labels[MANAGED_BY_LABEL], "harmony", "{}", object.name());
    }
}

#[test]
fn every_rule_names_its_api_groups_and_versions_so_the_server_type_checks_it() {
    let plan = compile_guardrails(
        &ClusterGuardrailsScore::default(),
        &ClusterFacts::kubernetes(),
        &[],
    );
    for object in plan.objects() {
        let GuardrailObject::ValidatingAdmissionPolicy(policy) = object else {
            continue;
        };
        let constraints = policy.spec.as_ref().unwrap().match_constraints.as_ref();
        for rule in constraints.unwrap().resource_rules.iter().flatten() {
            for list in [&rule.api_groups, &rule.api_versions, &rule.resources] {
                let list = list.as_deref().unwrap_or_default();
                assert!(
                    !list.is_empty() && !list.iter().any(|s| s.contains('*')),
                    "{}: {rule:?}",
                    object.name()
                );
            }
        }
    }
}

#[test]
fn okd_plan_adds_network_tiers_self_provisioning_and_the_basic_user_report() {
    let plan = compile_guardrails(
        &ClusterGuardrailsScore::default(),
        &ClusterFacts::okd(),
        &[TenantScore::new("globex"), TenantScore::new("acme")],
    );
    let kinds = kinds(&plan);
    assert!(kinds.contains(&("BaselineAdminNetworkPolicy", "default".into())));
    assert!(kinds.contains(&("ClusterRoleBinding", "self-provisioners".into())));
    let anps = anps(&plan);
    let names: Vec<_> = anps
        .iter()
        .map(|a| a.metadata.name.clone().unwrap())
        .collect();
    assert_eq!(names, ["harmony-tenant-acme", "harmony-tenant-globex"]);
    assert_eq!(anps[0].spec.priority, 30);
    assert_eq!(anps[1].spec.priority, 31);
    let ids: Vec<_> = plan.findings.iter().map(|f| f.id).collect();
    assert_eq!(ids, ["okd-basic-user"]);
    assert!(plan.findings[0].message.contains("StorageClasses"));
    let crb = plan
        .objects()
        .iter()
        .find_map(|o| match o {
            GuardrailObject::ClusterRoleBinding(c) => Some(c),
            _ => None,
        })
        .unwrap();
    assert_eq!(crb.subjects.as_deref(), Some(&[][..]));
    assert_eq!(crb.role_ref.name, "self-provisioner");
    assert_eq!(
        crb.metadata.annotations.as_ref().unwrap()[AUTOUPDATE_ANNOTATION],
        "false"
    );
}

#[test]
fn tenant_policies_pass_their_own_tenant_before_denying_the_others() {
    let plan = compile_guardrails(
        &ClusterGuardrailsScore::default(),
        &ClusterFacts::okd(),
        &[TenantScore::new("acme")],
    );
    let anp = anps(&plan)[0];
    let subject = anp.spec.subject.namespaces.as_ref().unwrap();
    let own = subject.match_labels.as_ref().unwrap();
    assert_eq!(own[harmony_tenant::TENANT_LABEL], "acme");
    for (actions, first_peer) in [
        (
            anp.spec
                .ingress
                .iter()
                .map(|r| r.action)
                .collect::<Vec<_>>(),
            &anp.spec.ingress[0].from.as_ref().unwrap()[0].namespaces,
        ),
        (
            anp.spec.egress.iter().map(|r| r.action).collect::<Vec<_>>(),
            &anp.spec.egress[0].to.as_ref().unwrap()[0].namespaces,
        ),
    ] {
        assert_eq!(actions, [RuleAction::Pass, RuleAction::Deny]);
        assert_eq!(first_peer, &anp.spec.subject.namespaces);
    }
}

#[test]
fn a_two_sided_connection_passes_the_other_tenant_one_way_before_the_deny() {
    use harmony_tenant::connections::Connection;
    let rules = |tenants: &[TenantScore]| -> Vec<(Vec<String>, Vec<String>)> {
        let plan = compile_guardrails(
            &ClusterGuardrailsScore::default(),
            &ClusterFacts::okd(),
            tenants,
        );
        anps(&plan)
            .iter()
            .map(|anp| {
                let names = |rules: &[crate::crd::AdminRule]| {
                    rules
                        .iter()
                        .map(|r| format!("{}:{:?}", r.name, r.action))
                        .collect()
                };
                (names(&anp.spec.ingress), names(&anp.spec.egress))
            })
            .collect()
    };
    let acme = TenantScore::new("acme").calls(Connection::tcp("globex", "api", &[8080]));
    let accepting = TenantScore::new("globex").accepts(Connection::tcp("acme", "api", &[8080]));
    let plain = ["pass-same-tenant:Pass", "deny-other-tenants:Deny"];
    // One-sided: the policies are those of tenants without connections.
    let one_sided = rules(&[acme.clone(), TenantScore::new("globex")]);
    assert_eq!(
        one_sided,
        rules(&[TenantScore::new("acme"), TenantScore::new("globex")])
    );
    let two_sided = rules(&[acme, accepting]);
    assert_eq!(two_sided[0].0, plain);
    assert_eq!(
        two_sided[0].1,
        [
            "pass-same-tenant:Pass",
            "pass-connection-to-globex:Pass",
            "deny-other-tenants:Deny"
        ]
    );
    assert_eq!(
        two_sided[1].0,
        [
            "pass-same-tenant:Pass",
            "pass-connection-from-acme:Pass",
            "deny-other-tenants:Deny"
        ]
    );
    assert_eq!(two_sided[1].1, plain);
}

#[test]
fn tenants_beyond_priority_99_get_a_warning_not_a_policy() {
    let score = ClusterGuardrailsScore::default().first_priority(95);
    let plan = compile_guardrails(&score, &ClusterFacts::okd(), &tenants(7));
    let priorities: Vec<i32> = anps(&plan).iter().map(|a| a.spec.priority).collect();
    assert_eq!(priorities, [95, 96, 97, 98, 99]);
    let warning = plan
        .findings
        .iter()
        .find(|f| f.id == "anp-capacity")
        .unwrap();
    assert_eq!(warning.severity, Severity::Warning);
    assert!(
        warning
            .message
            .starts_with("2 tenant(s) get no AdminNetworkPolicy: t005, t006."),
        "{}",
        warning.message
    );
    let full = compile_guardrails(
        &ClusterGuardrailsScore::default().first_priority(0),
        &ClusterFacts::okd(),
        &tenants(100),
    );
    assert_eq!(anps(&full).len(), 100);
    assert!(full.findings.iter().all(|f| f.id != "anp-capacity"));
}

#[test]
fn toggles_override_the_flavor() {
    let off = ClusterGuardrailsScore::default()
        .network_tiers(Toggle::Disabled)
        .okd_hardening(Toggle::Disabled);
    let plan = compile_guardrails(&off, &ClusterFacts::okd(), &tenants(1));
    assert!(anps(&plan).is_empty());
    assert!(
        !kinds(&plan)
            .iter()
            .any(|(k, _)| *k == "ClusterRoleBinding" || *k == "BaselineAdminNetworkPolicy")
    );
    let on = ClusterGuardrailsScore::default().network_tiers(Toggle::Enabled);
    assert_eq!(
        anps(&compile_guardrails(
            &on,
            &ClusterFacts::kubernetes(),
            &tenants(1)
        ))
        .len(),
        1
    );
}

#[test]
fn output_is_deterministic_whatever_the_tenant_order() {
    let mut forward = tenants(5);
    let a = compile_guardrails(
        &ClusterGuardrailsScore::default(),
        &ClusterFacts::okd(),
        &forward,
    );
    forward.reverse();
    let b = compile_guardrails(
        &ClusterGuardrailsScore::default(),
        &ClusterFacts::okd(),
        &forward,
    );
    assert_eq!(a, b);
}
