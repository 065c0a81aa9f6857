//! HMT-NET-007: Harmony's tenants reach no non-public or cluster address beyond their grants,
//! whatever the profile's node networks; a hand-written policy that does fails, naming the range
//! and the policy; an opt-in warns.

mod common;

use harmony_audit::report::{Format, render};
use harmony_audit::{AuditConfig, AuditReport, ClusterSnapshot, Status, audit};
use harmony_tenant::{ClusterFacts, TenantScore};
use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyPeer, NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

const ID: &str = "HMT-NET-007";

fn scores() -> Vec<TenantScore> {
    vec![
        TenantScore::new("acme").allow_egress_to("203.0.113.0/24"),
        TenantScore::new("globex").deny_internet_egress(),
    ]
}

/// A profile that knows its nodes: before, internet egress then opened the rest of private space.
fn narrow() -> ClusterFacts {
    ClusterFacts {
        node_networks: vec!["192.168.10.0/24".parse().unwrap()],
        ..ClusterFacts::kubernetes()
    }
}

fn setup(scores: &[TenantScore], facts: &ClusterFacts) -> (ClusterSnapshot, AuditConfig) {
    for s in scores {
        assert_eq!(s.validate(facts), [], "{}", s.name());
    }
    common::audited(scores, facts)
}

fn check(report: &AuditReport, tenant: &str) -> (Status, Vec<String>) {
    let t = report.tenants.iter().find(|t| t.tenant == tenant).unwrap();
    let c = t.checks.iter().find(|c| c.id == ID).unwrap();
    (c.status, c.evidence.clone())
}

/// A hand-written egress policy of `namespace` to `cidr` except `except`.
fn leak(namespace: &str, cidr: &str, except: &[&str]) -> NetworkPolicy {
    NetworkPolicy {
        metadata: ObjectMeta {
            name: Some("leak".into()),
            namespace: Some(namespace.into()),
            ..Default::default()
        },
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector::default()),
            policy_types: Some(vec!["Egress".into()]),
            egress: Some(vec![NetworkPolicyEgressRule {
                to: Some(vec![NetworkPolicyPeer {
                    ip_block: Some(IPBlock {
                        cidr: cidr.into(),
                        except: (!except.is_empty())
                            .then(|| except.iter().map(|e| e.to_string()).collect()),
                    }),
                    ..Default::default()
                }]),
                ports: None,
            }]),
            ..Default::default()
        }),
    }
}

#[test]
fn harmony_tenants_pass_on_every_profile() {
    for facts in [ClusterFacts::kubernetes(), ClusterFacts::okd(), narrow()] {
        let (snapshot, config) = setup(&scores(), &facts);
        let report = audit(&snapshot, &config);
        for tenant in ["acme", "globex"] {
            let (status, evidence) = check(&report, tenant);
            assert_eq!(status, Status::Pass, "{tenant} on {facts:?}: {evidence:?}");
            assert!(evidence[0].contains("beyond its grants"), "{evidence:?}");
        }
    }
}

#[test]
fn a_leak_fails_naming_the_reachable_ranges_and_the_policy() {
    let cases: [(&str, &[&str], &str); 6] = [
        (
            "10.0.0.0/8",
            &[],
            "acme/placeholder → 10.0.0.0/8 (node network; pod network; private (RFC 1918); \
             service network, API server included): all connections (egress of acme/placeholder allowed \
             by NetworkPolicy acme/leak rule #0: all connections)",
        ),
        (
            "169.254.169.254/32",
            &[],
            "→ 169.254.169.254/32 (link-local, cloud metadata 169.254.169.254 (RFC 3927)): all connections",
        ),
        (
            "fd00:ec2::254/128",
            &[],
            "→ fd00:ec2::254/128 (unique local, cloud metadata fd00:ec2::254 (RFC 4193)): all connections",
        ),
        // An IPv4-mapped CIDR is IPv4 to Kubernetes.
        ("::ffff:a00:0/104", &[], "→ 10.0.0.0/8 (node network;"),
        // The except list of old: cluster networks only.
        (
            "0.0.0.0/0",
            &[
                "10.0.0.0/8",
                "169.254.0.0/16",
                "172.16.0.0/12",
                "192.168.0.0/16",
            ],
            "→ 100.64.0.0/10 (node network; shared address space, CGNAT (RFC 6598)): all connections",
        ),
        ("::/0", &["fe80::/10"], "→ fc00::/7 (unique local"),
    ];
    for (cidr, except, expected) in cases {
        let (mut snapshot, config) = setup(&scores(), &ClusterFacts::kubernetes());
        snapshot.network_policies.push(leak("acme", cidr, except));
        let report = audit(&snapshot, &config);
        let (status, evidence) = check(&report, "acme");
        assert_eq!(status, Status::Fail, "{cidr}: {evidence:?}");
        assert!(
            evidence.iter().any(|e| e.contains(expected)),
            "{cidr}: {expected} not in {evidence:#?}"
        );
        assert!(evidence.iter().all(|e| e.contains("NetworkPolicy acme/leak")
            && e.ends_with("not granted by the tenant file: remove the policy or grant it with `allowPrivateEgressTo`")));
        assert_eq!(check(&report, "globex").0, Status::Pass);
        assert!(report.failed());
    }
}

#[test]
fn the_except_list_is_judged_exactly() {
    let (mut snapshot, config) = setup(&scores(), &ClusterFacts::kubernetes());
    // All of 10/8 excepted but its last two addresses: no sample would find them.
    snapshot.network_policies.push(leak(
        "globex",
        "10.0.0.0/8",
        &[
            "10.0.0.0/9",
            "10.128.0.0/10",
            "10.192.0.0/11",
            "10.224.0.0/12",
            "10.240.0.0/13",
            "10.248.0.0/14",
            "10.252.0.0/15",
            "10.254.0.0/16",
            "10.255.0.0/17",
            "10.255.128.0/18",
            "10.255.192.0/19",
            "10.255.224.0/20",
            "10.255.240.0/21",
            "10.255.248.0/22",
            "10.255.252.0/23",
            "10.255.254.0/24",
            "10.255.255.0/25",
            "10.255.255.128/26",
            "10.255.255.192/27",
            "10.255.255.224/28",
            "10.255.255.240/29",
            "10.255.255.248/30",
            "10.255.255.252/31",
        ],
    ));
    let report = audit(&snapshot, &config);
    let (status, evidence) = check(&report, "globex");
    assert_eq!(status, Status::Fail);
    assert_eq!(evidence.len(), 1, "{evidence:#?}");
    assert!(
        evidence[0].starts_with("globex/placeholder → 10.255.255.254/31 (node network; private"),
        "{evidence:#?}"
    );
}

#[test]
fn an_opt_in_warns_and_without_the_tenant_file_fails() {
    let backup =
        TenantScore::new("acme").allow_private_egress_to("10.20.0.0/24", "corporate backup server");
    let (snapshot, mut config) = setup(&[backup], &narrow());
    let report = audit(&snapshot, &config);
    let (status, evidence) = check(&report, "acme");
    assert_eq!(status, Status::Warn, "{evidence:?}");
    assert_eq!(
        evidence[0],
        "tenant acme opts in to non-public 10.20.0.0/24 (private (RFC 1918)): corporate backup \
         server"
    );
    assert!(!report.failed());

    config.expectations.clear();
    let report = audit(&snapshot, &config);
    let (status, evidence) = check(&report, "acme");
    assert_eq!(status, Status::Fail);
    assert_eq!(evidence.len(), 1, "{evidence:#?}");
    assert!(
        evidence[0].contains(
            "→ 10.20.0.0/24 (private (RFC 1918)): all connections (egress of acme/placeholder allowed by \
             NetworkPolicy acme/allow-egress-extra rule #0: all connections)"
        ),
        "{evidence:#?}"
    );
}

#[test]
fn the_check_appears_in_every_output_format() {
    let (mut snapshot, config) = setup(&scores(), &ClusterFacts::kubernetes());
    snapshot
        .network_policies
        .push(leak("acme", "169.254.169.254/32", &[]));
    let report = audit(&snapshot, &config);
    let text = render(&report, Format::Text);
    assert!(
        text.contains(
            "  FAIL HMT-NET-007 No egress to non-public addresses\n      acme/placeholder"
        ),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_str(&render(&report, Format::Json)).unwrap();
    let checks = json["tenants"][0]["checks"].as_array().unwrap();
    let net = checks.iter().find(|c| c["id"] == ID).unwrap();
    assert_eq!(net["status"], "fail");
    let junit = render(&report, Format::Junit);
    assert!(
        junit.contains(
            "name=\"HMT-NET-007 No egress to non-public addresses\"><failure message=\"HMT-NET-007"
        ),
        "{junit}"
    );
}
