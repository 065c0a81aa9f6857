//! Declared cross-tenant connections: a path both tenants declare is listed as declared, not
//! failed; a one-sided declaration renders nothing, so a hand-written path is still a leak; a path
//! beyond the declaration still fails.

mod common;

use harmony_audit::matrix::reachability;
use harmony_audit::{AuditConfig, AuditReport, Check, ClusterSnapshot, Status, audit, explain};
use harmony_tenant::connections::{Connection, matched_connections};
use harmony_tenant::{ClusterFacts, TenantObject, TenantScore, compile};
use k8s_openapi::api::core::v1::{Pod, PodSpec};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

fn tenants(two_sided: bool) -> Vec<TenantScore> {
    let globex = TenantScore::new("globex");
    vec![
        TenantScore::new("acme").calls(Connection::tcp("globex", "api", &[8080])),
        if two_sided {
            globex.accepts(Connection::tcp("acme", "api", &[8080]))
        } else {
            globex
        },
    ]
}

fn pod(ns: &str, name: &str, app: &str) -> harmony_audit::snapshot::Pod {
    Pod {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some(ns.into()),
            labels: Some([("app".to_string(), app.to_string())].into()),
            ..Default::default()
        },
        spec: Some(PodSpec::default()),
        ..Default::default()
    }
    .into()
}

/// The audited snapshot of `scores` with a client in acme and an api and a db in globex.
fn audited(scores: &[TenantScore], facts: &ClusterFacts) -> (ClusterSnapshot, AuditReport) {
    let (mut snapshot, config) = common::audited(scores, facts);
    snapshot.pods.extend([
        pod("acme", "client", "client"),
        pod("globex", "api", "api"),
        pod("globex", "db", "db"),
    ]);
    let report = audit(&snapshot, &config);
    (snapshot, report)
}

fn check<'r>(report: &'r AuditReport, tenant: &str, id: &str) -> &'r Check {
    let t = report.tenants.iter().find(|t| t.tenant == tenant).unwrap();
    t.checks.iter().find(|c| c.id == id).unwrap()
}

fn declared(report: &AuditReport, tenant: &str) -> Vec<String> {
    let t = report.tenants.iter().find(|t| t.tenant == tenant).unwrap();
    t.declared_connections.clone()
}

/// The `connection-*` NetworkPolicies of two-sided `scores`, as if written by hand.
fn connection_policies(facts: &ClusterFacts) -> Vec<NetworkPolicy> {
    let scores = tenants(true);
    let facts = ClusterFacts {
        connections: matched_connections(&scores),
        ..facts.clone()
    };
    scores
        .iter()
        .flat_map(|s| compile(s, &facts).objects().to_vec())
        .filter_map(|o| match o {
            TenantObject::NetworkPolicy(p)
                if p.metadata
                    .name
                    .as_deref()
                    .unwrap()
                    .starts_with("connection-") =>
            {
                Some(p)
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_two_sided_connection_is_listed_as_declared_and_the_audit_passes() {
    for facts in [ClusterFacts::kubernetes(), ClusterFacts::okd()] {
        let (snapshot, report) = audited(&tenants(true), &facts);
        for tenant in ["acme", "globex"] {
            let net = check(&report, tenant, "HMT-NET-002");
            assert_eq!(net.status, Status::Pass, "{tenant}: {net:?}");
            assert!(net.every_pod.as_ref().unwrap().holds, "{tenant}: {net:?}");
            let lines = declared(&report, tenant);
            assert_eq!(lines.len(), 1, "{tenant}: {lines:?}");
            assert!(
                lines[0].contains(" → globex/api: TCP 8080 (declared by acme spec.connections.calls[0] and globex spec.connections.accepts[0]"),
                "{lines:?}"
            );
        }
        let connections = matched_connections(&tenants(true));
        let api = explain(
            &snapshot,
            ("acme/client", "globex/api"),
            Some("8080"),
            &connections,
        )
        .unwrap();
        assert!(api.allowed());
        assert!(
            api.pairs[0]
                .declared
                .as_deref()
                .unwrap()
                .starts_with("declared by acme spec.connections.calls[0]"),
            "{api}"
        );
        assert!(api.to_string().contains("    connection declared by acme"));
        let db = explain(
            &snapshot,
            ("acme/client", "globex/db"),
            Some("8080"),
            &connections,
        )
        .unwrap();
        assert!(!db.allowed());
        assert_eq!(db.pairs[0].declared, None);
    }
}

#[test]
fn a_one_sided_connection_renders_nothing_and_a_hand_written_path_still_fails() {
    let facts = ClusterFacts::kubernetes();
    let (_, clean) = audited(&tenants(false), &facts);
    assert!(!clean.failed(), "{clean:?}");
    let (mut snapshot, config) = common::audited(&tenants(false), &facts);
    assert!(snapshot.network_policies.iter().all(|p| {
        !p.metadata
            .name
            .as_deref()
            .unwrap()
            .starts_with("connection-")
    }));
    snapshot
        .network_policies
        .extend(connection_policies(&facts));
    snapshot
        .pods
        .extend([pod("acme", "client", "client"), pod("globex", "api", "api")]);
    let report = audit(&snapshot, &config);
    for tenant in ["acme", "globex"] {
        let net = check(&report, tenant, "HMT-NET-002");
        assert_eq!(net.status, Status::Fail, "{tenant}: {net:?}");
        assert!(
            net.evidence[0].contains(" → globex/api: TCP 8080"),
            "{net:?}"
        );
        assert_eq!(declared(&report, tenant), Vec::<String>::new());
    }
}

/// Lets acme reach globex's db pods on 5432, which no one declared.
fn open_the_db_to_acme(snapshot: &mut ClusterSnapshot) {
    snapshot.network_policies.push(
        serde_saphyr::from_str(
            "metadata: {name: db-for-acme, namespace: globex}\n\
             spec:\n  podSelector: {matchLabels: {app: db}}\n  policyTypes: [Ingress]\n  \
             ingress: [{from: [{namespaceSelector: {matchLabels: {harmony.nationtech.io/tenant: acme}}}], ports: [{port: 5432}]}]\n",
        )
        .unwrap(),
    );
    snapshot.network_policies.push(
        serde_saphyr::from_str(
            "metadata: {name: to-globex-db, namespace: acme}\n\
             spec:\n  podSelector: {}\n  policyTypes: [Egress]\n  \
             egress: [{to: [{namespaceSelector: {matchLabels: {harmony.nationtech.io/tenant: globex}}}], ports: [{port: 5432}]}]\n",
        )
        .unwrap(),
    );
}

#[test]
fn a_path_beyond_the_declaration_still_fails() {
    let facts = ClusterFacts::kubernetes();
    let (mut snapshot, config) = common::audited(&tenants(true), &facts);
    open_the_db_to_acme(&mut snapshot);
    snapshot.pods.extend([
        pod("acme", "client", "client"),
        pod("globex", "api", "api"),
        pod("globex", "db", "db"),
    ]);
    let report = audit(&snapshot, &config);
    let net = check(&report, "globex", "HMT-NET-002");
    assert_eq!(net.status, Status::Fail, "{net:?}");
    assert_eq!(net.evidence.len(), 1, "{net:?}");
    assert!(
        net.evidence[0].contains(" → globex/db: TCP 5432"),
        "{net:?}"
    );
    assert_eq!(declared(&report, "globex").len(), 1);
}

/// The `declared` of the matrix pair `source` → `destination`.
fn matrix_declared(
    snapshot: &ClusterSnapshot,
    config: &AuditConfig,
    (source, destination): (&str, &str),
) -> Option<String> {
    let m = reachability(snapshot, config, false);
    let pair = m
        .pairs
        .iter()
        .find(|p| p.source == source && p.destination == destination)
        .unwrap();
    pair.declared.clone()
}

#[test]
fn the_matrix_marks_a_pair_declared_only_when_a_declaration_covers_all_of_it() {
    let facts = ClusterFacts::kubernetes();
    let pods = || [pod("acme", "client", "client"), pod("globex", "api", "api")];

    // Declared on both sides: the pair is marked, in JSON and in the text grid.
    let (mut snapshot, config) = common::audited(&tenants(true), &facts);
    snapshot.pods.extend(pods());
    let declared = matrix_declared(&snapshot, &config, ("acme", "globex")).unwrap();
    assert!(
        declared.starts_with("declared by acme spec.connections.calls[0] and globex"),
        "{declared}"
    );
    assert_eq!(
        matrix_declared(&snapshot, &config, ("globex", "acme")),
        None
    );
    let m = reachability(&snapshot, &config, false);
    let json = serde_json::to_value(&m).unwrap();
    let pair = json["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["source"] == "acme" && p["destination"] == "globex")
        .unwrap();
    assert_eq!(pair["connection"], "TCP 8080");
    assert_eq!(pair["declared"], declared.as_str());
    let text = m.to_string();
    assert!(
        text.contains(&format!("  acme → globex: TCP 8080 ({declared})")),
        "{text}"
    );
    let row = text.lines().find(|l| l.contains(" acme ")).unwrap();
    assert!(row.contains(" -  D "), "{text}");

    // One-sided, with the same policies written by hand: an open path, not a declared one.
    let (mut snapshot, config) = common::audited(&tenants(false), &facts);
    snapshot
        .network_policies
        .extend(connection_policies(&facts));
    snapshot.pods.extend(pods());
    let m = reachability(&snapshot, &config, false);
    let pair = m
        .pairs
        .iter()
        .find(|p| p.source == "acme" && p.destination == "globex")
        .unwrap();
    assert_eq!(
        (pair.connection.to_string(), pair.declared.clone()),
        ("TCP 8080".into(), None)
    );

    // Declared, and beyond it a path to the db no one declared: the pair is not marked.
    let (mut snapshot, config) = common::audited(&tenants(true), &facts);
    open_the_db_to_acme(&mut snapshot);
    snapshot.pods.extend(pods());
    snapshot.pods.push(pod("globex", "db", "db"));
    assert_eq!(
        matrix_declared(&snapshot, &config, ("acme", "globex")),
        None
    );
}
