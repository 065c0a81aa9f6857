//! Whole-plan properties and snapshots.

use super::{SAME_TENANT, compile};
use crate::facts::{ClusterFacts, ClusterFlavor};
use crate::plan::PlanObject;
use crate::plan::{TenantObject, TenantPlan, owned_labels};
use crate::score::{
    InternetEgress, Member, PodSecurityLevel, TenantNamespace, TenantRole, TenantScore,
};

fn minimal() -> TenantScore {
    TenantScore::new("acme")
}

/// Members of the three kinds, two storage classes, extra egress and self-service.
fn full() -> TenantScore {
    TenantScore::new("globex")
        .display_name("Globex Corporation")
        .in_namespace("globex-prod")
        .requests("8", "16Gi")
        .limits("16", "32Gi")
        .max_pods(100)
        .storage_class("fast", "100Gi")
        .storage_class("standard", "50Gi")
        .allow_egress_to("203.0.113.0/24")
        .allow_egress_to("2001:db8::/32")
        .member(Member::user(
            "hank",
            TenantRole::Admin,
            "hank@globex.example",
        ))
        .member(Member::group("devs", TenantRole::Developer, "globex-devs"))
        .member(Member::service_account("deployer", TenantRole::Developer))
        .self_service_role_bindings(true)
}

fn okd_facts() -> ClusterFacts {
    ClusterFacts {
        storage_classes: vec!["fast".into(), "slow".into(), "standard".into()],
        ..ClusterFacts::okd()
    }
}

fn yaml(plan: &TenantPlan) -> Vec<serde_json::Value> {
    plan.objects().iter().map(TenantObject::to_json).collect()
}

#[test]
fn every_object_is_owned_and_in_the_tenant_namespace() {
    for (score, facts) in [
        (minimal(), ClusterFacts::kubernetes()),
        (full(), okd_facts()),
    ] {
        let plan = compile(&score, &facts);
        assert_eq!(plan.tenant, score.name());
        assert_eq!(plan.namespace, score.namespace());
        for object in plan.objects() {
            let labels = object.metadata().labels.as_ref().unwrap();
            for (key, value) in owned_labels(score.name()) {
                assert_eq!(
                    labels.get(&key),
                    Some(&value),
                    "{} {}",
                    object.kind(),
                    object.name()
                );
            }
            let expected = match object {
                TenantObject::Namespace(_) => None,
                _ => Some(score.namespace()),
            };
            assert_eq!(object.namespace(), expected, "{}", object.name());
        }
    }
}

#[test]
fn plan_holds_one_namespace_first_and_bindings_last() {
    let plan = compile(&full(), &okd_facts());
    let objects = plan.objects();
    assert_eq!(objects[0].kind(), "Namespace");
    assert_eq!(
        objects.iter().filter(|o| o.kind() == "Namespace").count(),
        1
    );
    let first_binding = objects
        .iter()
        .position(|o| o.kind() == "RoleBinding")
        .unwrap();
    assert!(
        objects[first_binding..]
            .iter()
            .all(|o| o.kind() == "RoleBinding")
    );
    assert_eq!(objects.len() - first_binding, 3);
}

/// The quota admission writes the quota's status once per counted object created after the quota
/// controller has filled it: the Roles and ServiceAccounts it counts come before the quota, and
/// the quota (with the rest of its phase) before every grant.
#[test]
fn the_quota_comes_after_the_roles_and_accounts_it_counts_and_before_any_grant() {
    // Listed namespaces on OKD: a ClusterResourceQuota of the tenant's total too.
    let plan = compile(&three_namespaces(), &okd_facts());
    let phase = |kind: &str| {
        let phases: Vec<_> = plan
            .objects()
            .iter()
            .filter(|o| o.kind() == kind)
            .map(|o| o.phase())
            .collect();
        assert!(!phases.is_empty(), "the plan holds a {kind}");
        phases
    };
    let quota = phase("ResourceQuota")[0];
    for kind in ["Namespace", "NetworkPolicy", "Role", "ServiceAccount"] {
        assert!(phase(kind).iter().all(|p| *p < quota), "{kind}");
    }
    for kind in ["LimitRange", "ConfigMap", "ClusterResourceQuota"] {
        assert!(phase(kind).iter().all(|p| *p == quota), "{kind}");
    }
    assert!(
        phase("RoleBinding")
            .iter()
            .all(|p| *p > quota && p.grants_access())
    );
}
#[test]
fn compiling_twice_gives_identical_output() {
    for (score, facts) in [
        (minimal(), ClusterFacts::kubernetes()),
        (full(), okd_facts()),
    ] {
        let a = compile(&score, &facts);
        let b = compile(&score.clone(), &facts.clone());
        assert_eq!(a, b);
        assert_eq!(
            serde_json::to_string(&yaml(&a)).unwrap(),
            serde_json::to_string(&yaml(&b)).unwrap()
        );
    }
}

#[test]
fn member_order_does_not_change_the_plan() {
    let forward = full();
    let mut reversed = full();
    reversed.rbac_config.members.reverse();
    reversed.network_isolation.allow_egress_to.reverse();
    assert_eq!(
        compile(&forward, &okd_facts()),
        compile(&reversed, &okd_facts())
    );
}

#[test]
fn flavor_changes_only_what_it_should() {
    let vanilla = compile(&minimal(), &ClusterFacts::kubernetes());
    let okd = compile(&minimal(), &ClusterFacts::for_flavor(ClusterFlavor::Okd));
    let names = |plan: &TenantPlan| -> Vec<String> {
        plan.objects()
            .iter()
            .map(|o| format!("{}/{}", o.kind(), o.name()))
            .collect()
    };
    assert_eq!(names(&vanilla), names(&okd));
    let text = |plan: &TenantPlan| serde_json::to_string(&yaml(plan)).unwrap();
    assert!(!text(&vanilla).contains("openshift"));
    assert!(text(&okd).contains("route.openshift.io"));
    assert!(text(&okd).contains("security.openshift.io/scc.podSecurityLabelSync"));
}

#[test]
fn snapshot_minimal_tenant_on_vanilla() {
    insta::assert_yaml_snapshot!(yaml(&compile(&minimal(), &ClusterFacts::kubernetes())));
}

#[test]
fn snapshot_full_tenant_on_okd() {
    insta::assert_yaml_snapshot!(yaml(&compile(&full(), &okd_facts())));
}

/// Three namespaces: dev overrides its quota, pod security and internet egress.
fn three_namespaces() -> TenantScore {
    let mut dev_quota = crate::score::ResourceQuotaConfig::default();
    dev_quota.requests.cpu = Some(k8s_openapi::apimachinery::pkg::api::resource::Quantity(
        "1".into(),
    ));
    TenantScore::new("initech")
        .requests("6", "12Gi")
        .storage_class("fast", "30Gi")
        .member(Member::user(
            "peter",
            TenantRole::Admin,
            "peter@initech.example",
        ))
        .member(Member::service_account("ci", TenantRole::Developer))
        .with_namespaces([
            TenantNamespace::new("initech-dev")
                .quotas(dev_quota)
                .pod_security(PodSecurityLevel::Baseline)
                .internet_egress(InternetEgress::Deny),
            TenantNamespace::new("initech-staging"),
            TenantNamespace::new("initech-prod"),
        ])
}

#[test]
fn several_namespaces_each_get_the_isolation_and_access_objects() {
    let score = three_namespaces();
    let plan = compile(&score, &okd_facts());
    assert_eq!(plan.namespace, "initech-dev");
    assert_eq!(
        plan.namespaces,
        ["initech-dev", "initech-staging", "initech-prod"]
    );
    for (ns, view) in plan.namespaces.iter().zip(score.namespace_scores()) {
        let here: Vec<_> = plan
            .objects()
            .iter()
            .filter(|o| o.namespace() == Some(ns.as_str()) || o.name() == ns)
            .map(|o| (o.kind(), o.name()))
            .collect();
        assert!(here.contains(&("Namespace", ns.as_str())), "{ns}");
        assert!(here.contains(&("NetworkPolicy", SAME_TENANT)), "{ns}");
        assert!(here.contains(&("RoleBinding", "member-peter")), "{ns}");
        assert!(here.contains(&("ServiceAccount", "ci")), "{ns}");
        // The objects of the namespace as a one-namespace tenant, plus `allow-same-tenant`.
        let alone = compile(&view, &okd_facts()).objects().len();
        assert_eq!(here.len(), alone + 1, "{ns}: {here:?}");
    }
    let crq: Vec<_> = plan
        .objects()
        .iter()
        .filter(|o| o.kind() == "ClusterResourceQuota")
        .collect();
    let [crq] = crq.as_slice() else {
        panic!("one ClusterResourceQuota on OKD, got {crq:?}");
    };
    assert_eq!(crq.name(), "harmony-tenant-initech");
    assert_eq!(crq.namespace(), None);
    let json = crq.to_json();
    assert_eq!(json["apiVersion"], "quota.openshift.io/v1");
    assert_eq!(
        json["spec"]["selector"]["labels"]["matchLabels"]["harmony.nationtech.io/tenant"],
        "initech"
    );
    let hard = &json["spec"]["quota"]["hard"];
    assert_eq!(hard["requests.cpu"], "6");
    assert_eq!(hard["requests.storage"], "30Gi");
    assert_eq!(hard["pods"], crate::defaults::PODS.to_string());
    assert!(
        hard.get("configmaps").is_none(),
        "object counts stay per namespace"
    );
    let vanilla = compile(&score, &ClusterFacts::kubernetes());
    assert!(
        !vanilla
            .objects()
            .iter()
            .any(|o| o.kind() == "ClusterResourceQuota")
    );
}

#[test]
fn one_namespace_listed_is_the_one_namespace_tenant_plus_its_cluster_quota_on_okd() {
    let listed = TenantScore::new("acme").with_namespaces([TenantNamespace::new("acme")]);
    let vanilla = ClusterFacts::kubernetes();
    assert_eq!(compile(&listed, &vanilla), compile(&minimal(), &vanilla));
    let okd = compile(&listed, &okd_facts());
    assert_eq!(
        okd.objects().len(),
        compile(&minimal(), &okd_facts()).objects().len() + 1
    );
    assert!(
        !okd.objects().iter().any(|o| o.name() == SAME_TENANT),
        "one namespace needs no same-tenant policy"
    );
}

#[test]
fn snapshot_three_namespaces_on_okd() {
    insta::assert_yaml_snapshot!(yaml(&compile(&three_namespaces(), &okd_facts())));
}

mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::score::PlatformSource;

    fn role() -> impl Strategy<Value = TenantRole> {
        prop::sample::select(TenantRole::ALL.to_vec())
    }

    /// A member named `name` (unique in the generated map) of a random kind.
    fn member(name: String, role: TenantRole, kind: u8) -> Member {
        match kind {
            0 => Member::user(name.clone(), role, format!("{name}@example.com")),
            1 => Member::group(name.clone(), role, format!("group-{name}")),
            _ => Member::service_account(name, role),
        }
    }

    fn score() -> impl Strategy<Value = TenantScore> {
        (
            prop::collection::btree_map("[a-z][a-z0-9]{0,6}", (role(), 0..3_u8), 0..5),
            prop::collection::btree_set(("[a-z]{1,5}", 1..500_u32), 0..3),
            prop::collection::btree_set((1..=223_u8, 8..=32_u8), 0..3),
            any::<(bool, bool)>(),
            prop::sample::subsequence(
                vec![PlatformSource::Ingress, PlatformSource::Monitoring],
                0..=2,
            ),
        )
            .prop_map(|(members, classes, cidrs, (deny, self_service), sources)| {
                let mut score = TenantScore::new("acme")
                    .self_service_role_bindings(self_service)
                    .allow_from(sources);
                for (name, (role, kind)) in members {
                    score = score.member(member(name, role, kind));
                }
                for (class, gib) in classes {
                    score = score.storage_class(class, &format!("{gib}Gi"));
                }
                for (octet, prefix) in cidrs {
                    let net = format!("{octet}.0.0.0/{prefix}")
                        .parse::<ipnet::IpNet>()
                        .unwrap();
                    score = score.allow_egress_to(net.trunc().to_string());
                }
                if deny {
                    score = score.deny_internet_egress();
                }
                score
            })
    }

    proptest! {
        #[test]
        fn every_plan_is_owned_isolated_and_wildcard_free(score in score(), okd in any::<bool>()) {
            let facts = if okd { ClusterFacts::okd() } else { ClusterFacts::kubernetes() };
            let plan = compile(&score, &facts);
            prop_assert_eq!(&plan, &compile(&score, &facts));
            let owned = owned_labels("acme");
            let mut names = std::collections::BTreeSet::new();
            for object in plan.objects() {
                let labels = object.metadata().labels.clone().unwrap_or_default();
                prop_assert!(owned.iter().all(|(k, v)| labels.get(k) == Some(v)));
                prop_assert!(names.insert((object.kind(), object.name().to_string())));
                if let TenantObject::Role(role) = object {
                    for rule in role.rules.iter().flatten() {
                        prop_assert!(!rule.verbs.iter().any(|v| v == "*" || v == "escalate" || v == "impersonate"));
                        prop_assert!(!rule.resources.iter().flatten().any(|r| r.contains('*')));
                        let binds = rule.verbs.iter().any(|v| v == "bind");
                        prop_assert!(!binds || (score.rbac_config.self_service.role_bindings && rule.resource_names.is_some()));
                    }
                }
            }
            prop_assert!(names.contains(&("NetworkPolicy", "default-deny".to_string())));
            let members = score.rbac_config.members.len();
            prop_assert_eq!(plan.objects().iter().filter(|o| o.kind() == "RoleBinding").count(), members);
        }
    }
}

/// The `connection-*` NetworkPolicies of `plan`, as JSON.
fn connection_policies(plan: &TenantPlan) -> Vec<serde_json::Value> {
    plan.objects()
        .iter()
        .filter(|o| o.kind() == "NetworkPolicy" && o.name().starts_with("connection-"))
        .map(TenantObject::to_json)
        .collect()
}

#[test]
fn a_two_sided_connection_renders_paired_policies_and_a_one_sided_one_a_note() {
    use crate::connections::{Connection, matched_connections};
    let acme = TenantScore::new("acme").calls(Connection::tcp("globex", "api", &[8080, 443]));
    let globex = TenantScore::new("globex")
        .with_namespaces([
            TenantNamespace::new("globex-prod"),
            TenantNamespace::new("globex-dev"),
        ])
        .accepts(Connection::tcp("acme", "api", &[443, 8080]));
    let facts = ClusterFacts {
        connections: matched_connections([&acme, &globex]),
        ..ClusterFacts::kubernetes()
    };
    let caller = compile(&acme, &facts);
    assert_eq!(caller.unmatched_connections, Vec::<String>::new());
    let ports = serde_json::json!([
        {"port": 443, "protocol": "TCP"},
        {"port": 8080, "protocol": "TCP"},
    ]);
    let labels = serde_json::json!({
        "app.kubernetes.io/managed-by": "harmony",
        "harmony.nationtech.io/tenant": "acme",
    });
    assert_eq!(
        connection_policies(&caller),
        [serde_json::json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "connection-to-globex", "namespace": "acme", "labels": labels},
            "spec": {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [{
                    "to": [{
                        "namespaceSelector": {"matchLabels": {"harmony.nationtech.io/tenant": "globex"}},
                        "podSelector": {"matchLabels": {"app": "api"}},
                    }],
                    "ports": ports,
                }],
            },
        })]
    );
    let callee = connection_policies(&compile(&globex, &facts));
    let namespaces: Vec<&serde_json::Value> =
        callee.iter().map(|p| &p["metadata"]["namespace"]).collect();
    assert_eq!(namespaces, ["globex-dev", "globex-prod"]);
    for policy in &callee {
        assert_eq!(policy["metadata"]["name"], "connection-from-acme");
        assert_eq!(
            policy["spec"],
            serde_json::json!({
                "podSelector": {"matchLabels": {"app": "api"}},
                "policyTypes": ["Ingress"],
                "ingress": [{
                    "from": [{"namespaceSelector": {"matchLabels": {"harmony.nationtech.io/tenant": "acme"}}}],
                    "ports": ports,
                }],
            })
        );
    }

    // Without globex's side, nothing is rendered and the plan names the missing side.
    let one_sided = ClusterFacts {
        connections: matched_connections([&acme, &TenantScore::new("globex")]),
        ..ClusterFacts::kubernetes()
    };
    let plan = compile(&acme, &one_sided);
    assert_eq!(connection_policies(&plan), Vec::<serde_json::Value>::new());
    assert_eq!(
        plan.objects(),
        compile(&TenantScore::new("acme"), &ClusterFacts::kubernetes()).objects()
    );
    assert_eq!(plan.unmatched_connections.len(), 1);
    assert!(plan.unmatched_connections[0].contains("tenant `globex` declares no `accepts` entry"));
}
