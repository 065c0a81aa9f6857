//! Network checks judged for every pod a tenant could create, not just today's.

mod common;

use harmony_audit::netpol::{Endpoint, Network};
use harmony_audit::{AuditReport, Check, ClusterSnapshot, audit};
use harmony_tenant::{ClusterFacts, Member, TenantRole, TenantScore};
use k8s_openapi::api::core::v1::{Container, ContainerPort, Pod, PodSpec};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

fn scores() -> Vec<TenantScore> {
    vec![
        TenantScore::new("acme").member(Member::user("alice", TenantRole::Admin, "alice@acme")),
        TenantScore::new("globex")
            .deny_internet_egress()
            .member(Member::user("bob", TenantRole::Admin, "bob@globex")),
    ]
}

fn check<'r>(report: &'r AuditReport, tenant: &str, id: &str) -> &'r Check {
    let t = report.tenants.iter().find(|t| t.tenant == tenant).unwrap();
    t.checks.iter().find(|c| c.id == id).unwrap()
}

const JUDGED: [&str; 6] = [
    "HMT-NET-001",
    "HMT-NET-002",
    "HMT-NET-003",
    "HMT-NET-005",
    "HMT-NET-006",
    "HMT-NET-008",
];

#[test]
fn standard_tenants_hold_for_every_pod() {
    for facts in [ClusterFacts::kubernetes(), ClusterFacts::okd()] {
        let (snapshot, config) = common::audited(&scores(), &facts);
        let report = audit(&snapshot, &config);
        for t in ["acme", "globex"] {
            for id in JUDGED {
                let every = check(&report, t, id).every_pod.as_ref().unwrap();
                assert!(every.holds, "{t} {id} {:?}: {every:?}", facts.flavor);
                assert!(every.namespace_labels.starts_with("constants"));
            }
        }
    }
}

fn policy(yaml: &str) -> NetworkPolicy {
    serde_saphyr::from_str(yaml).unwrap()
}

fn pod(ns: &str, name: &str, app: &str, port: Option<(&str, i32)>) -> Pod {
    Pod {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some(ns.into()),
            labels: Some([("app".to_string(), app.to_string())].into()),
            ..Default::default()
        },
        spec: Some(PodSpec {
            containers: vec![Container {
                name: "main".into(),
                ports: port.map(|(n, p)| {
                    vec![ContainerPort {
                        name: Some(n.into()),
                        container_port: p,
                        ..Default::default()
                    }]
                }),
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// acme lets its pods reach globex's `app: frontend` pods on port `web`; globex lets in acme.
fn frontend(snapshot: &mut ClusterSnapshot) {
    snapshot.network_policies.push(policy(
        "metadata: {name: to-frontend, namespace: acme}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: globex}}
      podSelector: {matchLabels: {app: frontend}}
    ports: [{port: web}]",
    ));
    snapshot.network_policies.push(policy(
        "metadata: {name: from-acme, namespace: globex}
spec:
  podSelector: {matchExpressions: [{key: app, operator: NotIn, values: [db]}]}
  policyTypes: [Ingress]
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {harmony.nationtech.io/tenant: acme}}",
    ));
    snapshot
        .pods
        .push(pod("globex", "api", "backend", Some(("web", 8080))).into());
}

#[test]
fn an_allow_rule_to_unlabelled_pods_holds_today_only() {
    let facts = ClusterFacts::kubernetes();
    let (mut snapshot, config) = common::audited(&scores(), &facts);
    frontend(&mut snapshot);
    let report = audit(&snapshot, &config);
    for t in ["acme", "globex"] {
        let c = check(&report, t, "HMT-NET-002");
        assert_eq!(
            c.status,
            harmony_audit::Status::Pass,
            "{t}: {:?}",
            c.evidence
        );
        let every = c.every_pod.as_ref().unwrap();
        assert!(!every.holds, "{t}");
        let ce = every.counterexample.as_ref().unwrap();
        assert_eq!(ce.source.namespace, "acme");
        assert_eq!(ce.destination.namespace, "globex");
        assert_eq!(ce.destination.labels["app"], "frontend");
        let (name, proto, number) = &ce.destination.named_ports[0];
        assert_eq!((name.as_str(), proto.as_str()), ("web", "TCP"));
        assert_eq!((ce.protocol.as_str(), ce.port), ("TCP", *number));
        assert!(
            ce.evidence.iter().any(|e| e.contains("to-frontend")),
            "{ce:?}"
        );
    }
    // The counterexample, created for real, is a path `explain` finds.
    let ce = check(&report, "acme", "HMT-NET-002")
        .every_pod
        .clone()
        .unwrap()
        .counterexample
        .unwrap();
    snapshot.pods.push(pod("acme", "client", "x", None).into());
    let number = i32::from(ce.port);
    snapshot
        .pods
        .push(pod("globex", "web", "frontend", Some(("web", number))).into());
    let net = Network::new(&snapshot);
    let (a, b) = (
        net.class_of("acme", "client").unwrap(),
        net.class_of("globex", "web").unwrap(),
    );
    let v = net.explain(Endpoint::Class(a), Endpoint::Class(b));
    assert!(v.conn.allows("TCP", ce.port), "{v:?}");
    // And the audit now fails for today's pods too.
    let report = audit(&snapshot, &config);
    assert_eq!(
        check(&report, "acme", "HMT-NET-002").status,
        harmony_audit::Status::Fail
    );
}

#[test]
fn a_failing_check_never_holds_for_every_pod() {
    let facts = ClusterFacts::kubernetes();
    let (mut snapshot, config) = common::audited(&scores(), &facts);
    frontend(&mut snapshot);
    snapshot
        .pods
        .push(pod("globex", "web", "frontend", Some(("web", 80))).into());
    let report = audit(&snapshot, &config);
    for t in &report.tenants {
        for c in t
            .checks
            .iter()
            .filter(|c| c.status == harmony_audit::Status::Fail)
        {
            if let Some(every) = &c.every_pod {
                assert!(!every.holds, "{} {}", t.tenant, c.id);
            }
        }
    }
}
