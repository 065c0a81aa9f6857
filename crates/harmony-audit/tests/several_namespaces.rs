//! A tenant with several namespaces: its namespaces reach each other and share its members
//! without a finding; another tenant reaching any of them is still a leak.

mod common;

use harmony_audit::audit;
use harmony_tenant::{
    ClusterFacts, InternetEgress, Member, PodSecurityLevel, TenantNamespace, TenantRole,
    TenantScore,
};
use k8s_openapi::api::networking::v1::{
    NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer,
    NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

fn scores() -> Vec<TenantScore> {
    vec![
        TenantScore::new("initech")
            .member(Member::user("peter", TenantRole::Admin, "peter@initech"))
            .member(Member::service_account("ci", TenantRole::Developer))
            .with_namespaces([
                TenantNamespace::new("initech-dev")
                    .pod_security(PodSecurityLevel::Baseline)
                    .internet_egress(InternetEgress::Deny),
                TenantNamespace::new("initech-staging"),
                TenantNamespace::new("initech-prod"),
            ]),
        TenantScore::new("globex").member(Member::user("bob", TenantRole::Admin, "bob@globex")),
    ]
}

#[test]
fn a_tenants_namespaces_reach_each_other_and_pass_every_check() {
    for facts in [ClusterFacts::kubernetes(), ClusterFacts::okd()] {
        let (snapshot, config) = common::audited(&scores(), &facts);
        let report = audit(&snapshot, &config);
        let namespaces: Vec<(&str, &str)> = report
            .tenants
            .iter()
            .map(|t| (t.tenant.as_str(), t.namespace.as_str()))
            .collect();
        assert_eq!(
            namespaces,
            [
                ("globex", "globex"),
                ("initech", "initech-dev"),
                ("initech", "initech-prod"),
                ("initech", "initech-staging"),
            ]
        );
        assert_eq!(
            common::not_passing(&report),
            Vec::<String>::new(),
            "{:?}",
            facts.flavor
        );
        let reach = harmony_audit::matrix::reachability(&snapshot, &config, false);
        let open = |a: &str, b: &str| {
            reach
                .pairs
                .iter()
                .find(|p| p.source == a && p.destination == b)
                .is_some_and(|p| !p.connection.is_empty())
        };
        assert!(open("initech-dev", "initech-prod"));
        assert!(open("initech-prod", "initech-staging"));
        assert!(!open("initech-dev", "globex") && !open("globex", "initech-prod"));
    }
}

#[test]
fn another_tenant_reaching_one_of_the_namespaces_is_still_a_leak() {
    let facts = ClusterFacts::kubernetes();
    let (mut snapshot, config) = common::audited(&scores(), &facts);
    // initech-prod lets in every pod of globex, and globex lets its pods out to initech.
    snapshot
        .network_policies
        .push(policy("initech-prod", "allow-globex", "globex", true));
    snapshot
        .network_policies
        .push(policy("globex", "allow-initech", "initech", false));
    let report = audit(&snapshot, &config);
    let failing = common::not_passing(&report);
    assert!(
        failing
            .iter()
            .any(|f| f.starts_with("initech initech-prod HMT-NET-002")),
        "{failing:#?}"
    );
    assert!(
        failing
            .iter()
            .any(|f| f.starts_with("globex globex HMT-NET-002")),
        "{failing:#?}"
    );
    assert!(
        !failing
            .iter()
            .any(|f| f.starts_with("initech initech-dev HMT-NET-002")),
        "{failing:#?}"
    );
}

/// A policy of `namespace` letting in (`ingress`) or out every pod of tenant `tenant`.
fn policy(namespace: &str, name: &str, tenant: &str, ingress: bool) -> NetworkPolicy {
    let peer = NetworkPolicyPeer {
        namespace_selector: Some(LabelSelector {
            match_labels: Some([("harmony.nationtech.io/tenant".into(), tenant.into())].into()),
            ..LabelSelector::default()
        }),
        ..NetworkPolicyPeer::default()
    };
    NetworkPolicy {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some(namespace.into()),
            ..ObjectMeta::default()
        },
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector::default()),
            policy_types: Some(vec![if ingress { "Ingress" } else { "Egress" }.into()]),
            ingress: ingress.then(|| {
                vec![NetworkPolicyIngressRule {
                    from: Some(vec![peer.clone()]),
                    ports: None,
                }]
            }),
            egress: (!ingress).then(|| {
                vec![NetworkPolicyEgressRule {
                    to: Some(vec![peer.clone()]),
                    ports: None,
                }]
            }),
        }),
    }
}
