//! Declared cross-tenant connections on the real control plane: a one-sided declaration renders
//! nothing (and a hand-written path stays a leak for the audit); a two-sided one renders the
//! paired NetworkPolicies, network-config-analyzer shows exactly the declared pods and port open
//! between the tenants, and the audit passes, listing the path as a declared connection.

mod real;

use harmony_audit::netpol::Conn;
use harmony_audit::{AuditConfig, AuditReport, ClusterSnapshot, Status, audit};
use harmony_tenant::TenantScore;
use harmony_tenant::connections::{Connection, MatchedConnection, matched_connections};
use harmony_testkit::ControlPlane;
use real::{apply_tenants, live_snapshot, nca_pairs, topology, vanilla_facts};

/// A restricted-compliant pod `name` labelled `app: <name>` in `ns` (no kubelet runs it: its
/// labels are what NetworkPolicies select).
fn pod(ns: &str, name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {ns}, labels: {{app: {name}}}}}\n\
         spec:\n  securityContext: {{runAsNonRoot: true, runAsUser: 1000, seccompProfile: {{type: RuntimeDefault}}}}\n  \
         containers:\n  - name: main\n    image: registry.example/{name}:1\n    \
         securityContext: {{allowPrivilegeEscalation: false, capabilities: {{drop: [ALL]}}}}\n"
    )
}

fn kubectl_apply(plane: &ControlPlane, yaml: &str) {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), yaml).unwrap();
    plane
        .kubectl_run(&["apply", "-f", file.path().to_str().unwrap()])
        .unwrap();
}

fn policies(plane: &ControlPlane, ns: &str) -> String {
    plane
        .kubectl_run(&["get", "networkpolicies", "-n", ns, "-o", "name"])
        .unwrap()
}

/// The live snapshot (with the platform and placeholder pods) and its audit knowing
/// `connections`.
async fn live_audit(
    plane: &ControlPlane,
    connections: Vec<MatchedConnection>,
) -> (ClusterSnapshot, AuditReport) {
    let (snapshot, facts) = live_snapshot(plane, &vanilla_facts(plane)).await;
    let mut config = AuditConfig::new(facts);
    config.facts.connections = connections;
    let report = audit(&snapshot, &config);
    (snapshot, report)
}

fn net_002(report: &AuditReport, tenant: &str) -> (Status, Vec<String>, Vec<String>) {
    let t = report.tenants.iter().find(|t| t.tenant == tenant).unwrap();
    let c = t.checks.iter().find(|c| c.id == "HMT-NET-002").unwrap();
    (c.status, c.evidence.clone(), t.declared_connections.clone())
}

#[tokio::test(flavor = "multi_thread")]
async fn only_a_two_sided_connection_is_rendered_and_the_audit_calls_it_declared() {
    let plane = ControlPlane::shared();
    let _logs = plane.failure_guard();
    let (acme, globex) = (
        ControlPlane::unique_name("acme"),
        ControlPlane::unique_name("globex"),
    );
    let caller = TenantScore::new(&acme).calls(Connection::tcp(&globex, "api", &[8080]));
    let one_sided = [caller.clone(), TenantScore::new(&globex)];

    // One side only: nothing rendered on either side.
    let connections = matched_connections(&one_sided);
    assert_eq!(connections, vec![]);
    let mut one = topology(plane).await;
    one.set_connections(connections);
    apply_tenants(one, &one_sided, 2).await;
    for ns in [&acme, &globex] {
        assert!(!policies(plane, ns).contains("connection-"), "{ns}");
    }
    for (ns, name) in [(&acme, "client"), (&globex, "api"), (&globex, "db")] {
        kubectl_apply(plane, &pod(ns, name));
    }
    // A hand-written path, like the rendered one, is a leak without the declaration.
    let hand_written = format!(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: hand-to-globex, namespace: {acme}}}\n\
         spec:\n  podSelector: {{}}\n  policyTypes: [Egress]\n  egress: [{{to: [{{namespaceSelector: {{matchLabels: {{harmony.nationtech.io/tenant: {globex}}}}}, podSelector: {{matchLabels: {{app: api}}}}}}], ports: [{{port: 8080}}]}}]\n\
         ---\n\
         apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: hand-from-acme, namespace: {globex}}}\n\
         spec:\n  podSelector: {{matchLabels: {{app: api}}}}\n  policyTypes: [Ingress]\n  ingress: [{{from: [{{namespaceSelector: {{matchLabels: {{harmony.nationtech.io/tenant: {acme}}}}}}}], ports: [{{port: 8080}}]}}]\n"
    );
    kubectl_apply(plane, &hand_written);
    let (_, report) = live_audit(plane, matched_connections(&one_sided)).await;
    for tenant in [&acme, &globex] {
        let (status, evidence, declared) = net_002(&report, tenant);
        assert_eq!(status, Status::Fail, "{tenant}: {evidence:?}");
        assert!(
            evidence[0].contains(&format!("→ {globex}/api: TCP 8080")),
            "{evidence:?}"
        );
        assert_eq!(declared, Vec::<String>::new());
    }
    plane
        .kubectl_run(&["delete", "networkpolicy", "hand-to-globex", "-n", &acme])
        .unwrap();
    plane
        .kubectl_run(&["delete", "networkpolicy", "hand-from-acme", "-n", &globex])
        .unwrap();

    // Both sides: the paired policies, exactly the declared pods and port, declared in the audit.
    let two_sided = [
        caller,
        TenantScore::new(&globex).accepts(Connection::tcp(&acme, "api", &[8080])),
    ];
    let connections = matched_connections(&two_sided);
    assert_eq!(connections.len(), 1);
    let mut two = topology(plane).await;
    two.set_connections(connections.clone());
    apply_tenants(two, &two_sided, 2).await;
    assert!(
        policies(plane, &acme).contains(&format!(
            "networkpolicy.networking.k8s.io/connection-to-{globex}"
        )),
        "{}",
        policies(plane, &acme)
    );
    assert!(
        policies(plane, &globex).contains(&format!(
            "networkpolicy.networking.k8s.io/connection-from-{acme}"
        )),
        "{}",
        policies(plane, &globex)
    );
    let (snapshot, report) = live_audit(plane, connections).await;
    for tenant in [&acme, &globex] {
        let (status, evidence, declared) = net_002(&report, tenant);
        assert_eq!(status, Status::Pass, "{tenant}: {evidence:?}");
        assert_eq!(declared.len(), 1, "{tenant}: {declared:?}");
        assert!(
            declared[0].contains(&format!(
                "→ {globex}/api: TCP 8080 (declared by {acme} spec.connections.calls[0] and {globex} spec.connections.accepts[0]"
            )),
            "{declared:?}"
        );
    }
    let theirs = nca_pairs(&snapshot);
    let between: Vec<(&str, String)> = theirs
        .iter()
        .filter(|((s, d), c)| {
            s.starts_with(&format!("{acme}/"))
                && d.starts_with(&format!("{globex}/"))
                && !c.is_empty()
        })
        .map(|((_, d), c)| (d.as_str(), c.to_string()))
        .collect();
    let api = format!("{globex}/api");
    assert!(!between.is_empty(), "nca: acme reaches globex's api");
    for (dst, conn) in &between {
        assert_eq!(*dst, api, "nca: only the api pod is reachable");
        assert_eq!(
            conn,
            &Conn::ports("TCP", 8080, 8080).unwrap().to_string(),
            "nca: only TCP 8080"
        );
    }
    assert!(
        !theirs
            .iter()
            .any(|((s, d), c)| s.starts_with(&format!("{globex}/"))
                && d.starts_with(&format!("{acme}/"))
                && !c.is_empty()),
        "nca: globex does not reach acme"
    );
}
