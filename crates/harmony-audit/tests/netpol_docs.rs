//! The NetworkPolicy examples of the Kubernetes documentation ("Network Policies"), and an
//! AdminNetworkPolicy/BaselineAdminNetworkPolicy tiering example from network-policy-api.

use harmony_audit::ClusterSnapshot;
use harmony_audit::netpol::{Endpoint, Network};

const CLUSTER: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: default}
---
apiVersion: v1
kind: Namespace
metadata: {name: myproject, labels: {project: myproject}}
---
apiVersion: v1
kind: Namespace
metadata: {name: other}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: default, labels: {role: db}}
spec: {containers: [{name: redis, image: redis}]}
---
apiVersion: v1
kind: Pod
metadata: {name: frontend, namespace: default, labels: {role: frontend}}
spec: {containers: [{name: web, image: web}]}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: myproject}
spec: {containers: [{name: c, image: c}]}
---
apiVersion: v1
kind: Pod
metadata: {name: stranger, namespace: other, labels: {role: frontend}}
spec: {containers: [{name: c, image: c}]}
"#;

/// The docs' `test-network-policy`.
const TEST_NETWORK_POLICY: &str = r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: test-network-policy, namespace: default}
spec:
  podSelector: {matchLabels: {role: db}}
  policyTypes: [Ingress, Egress]
  ingress:
  - from:
    - ipBlock: {cidr: 172.17.0.0/16, except: [172.17.1.0/24]}
    - namespaceSelector: {matchLabels: {project: myproject}}
    - podSelector: {matchLabels: {role: frontend}}
    ports:
    - {protocol: TCP, port: 6379}
  egress:
  - to:
    - ipBlock: {cidr: 10.0.0.0/24}
    ports:
    - {protocol: TCP, port: 5978}
"#;

fn network(policies: &str) -> Network {
    let mut s = ClusterSnapshot::default();
    s.load_text(CLUSTER, "cluster").unwrap();
    s.load_text(policies, "policies").unwrap();
    Network::new(&s)
}

fn pod(net: &Network, ns: &str, name: &str) -> Endpoint {
    Endpoint::Class(net.class_of(ns, name).unwrap())
}

fn ip(s: &str) -> Endpoint {
    Endpoint::Ip(s.parse().unwrap())
}

#[test]
fn test_network_policy_ingress() {
    let net = network(TEST_NETWORK_POLICY);
    let db = pod(&net, "default", "db");
    // Same-namespace frontends and every pod of myproject reach 6379/TCP only.
    for src in [
        pod(&net, "default", "frontend"),
        pod(&net, "myproject", "client"),
    ] {
        let v = net.explain(src, db);
        assert_eq!(v.conn.to_string(), "TCP 6379", "{:?}", v.evidence);
    }
    // A `role: frontend` pod of another namespace does not match a bare podSelector.
    let v = net.explain(pod(&net, "other", "stranger"), db);
    assert!(v.conn.is_empty());
    assert!(
        v.evidence
            .iter()
            .any(|e| e.contains("isolated by NetworkPolicy default/test-network-policy")),
        "{:?}",
        v.evidence
    );
    // ipBlock with except.
    assert!(net.conn(ip("172.17.0.5"), db).allows("TCP", 6379));
    assert!(net.conn(ip("172.17.1.5"), db).is_empty());
}

#[test]
fn test_network_policy_egress_and_unselected_pods() {
    let net = network(TEST_NETWORK_POLICY);
    let db = pod(&net, "default", "db");
    assert_eq!(net.conn(db, ip("10.0.0.7")).to_string(), "TCP 5978");
    assert!(net.conn(db, ip("10.0.1.7")).is_empty());
    // db's egress is isolated: it cannot open connections to frontend.
    assert!(net.conn(db, pod(&net, "default", "frontend")).is_empty());
    // No policy selects frontend: everything in and out is allowed.
    assert!(
        net.conn(
            pod(&net, "other", "stranger"),
            pod(&net, "default", "frontend")
        )
        .is_all()
    );
}

#[test]
fn default_deny_ingress_and_allow_all_egress() {
    let net = network(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: default-deny-ingress, namespace: default}\nspec: {podSelector: {}, policyTypes: [Ingress]}\n---\n\
         apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: allow-all-egress, namespace: default}\nspec: {podSelector: {}, egress: [{}], policyTypes: [Egress]}\n",
    );
    let (db, fe) = (pod(&net, "default", "db"), pod(&net, "default", "frontend"));
    assert!(net.conn(fe, db).is_empty());
    assert!(net.conn(db, pod(&net, "other", "stranger")).is_all());
    assert!(net.conn(db, ip("8.8.8.8")).is_all());
}

#[test]
fn end_port_range_and_defaulted_policy_types() {
    // The docs' `multi-port-egress`: 32000-32768/TCP to 10.0.0.0/24; no policyTypes, so Ingress
    // is defaulted too (isolating ingress with no rules) and Egress because egress rules exist.
    let net = network(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: multi-port-egress, namespace: default}\n\
         spec:\n  podSelector: {matchLabels: {role: db}}\n  egress:\n  - to: [{ipBlock: {cidr: 10.0.0.0/24}}]\n    ports: [{protocol: TCP, port: 32000, endPort: 32768}]\n",
    );
    let db = pod(&net, "default", "db");
    let out = net.conn(db, ip("10.0.0.1"));
    assert!(out.allows("TCP", 32000) && out.allows("TCP", 32768) && !out.allows("TCP", 32769));
    assert!(net.conn(pod(&net, "default", "frontend"), db).is_empty());
}

#[test]
fn admin_tiers_deny_pass_and_baseline() {
    let net = network(
        r#"
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: cluster-control}
spec:
  priority: 20
  subject: {namespaces: {}}
  ingress:
  - name: pass-same-project
    action: Pass
    from: [{namespaces: {matchLabels: {project: myproject}}}]
  - name: deny-other
    action: Deny
    from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: other}}}]
    ports: [{portNumber: {protocol: TCP, port: 80}}]
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: {}}
  ingress:
  - name: baseline-deny-myproject
    action: Deny
    from: [{namespaces: {matchLabels: {project: myproject}}}]
"#,
    );
    let fe = pod(&net, "default", "frontend");
    // `other` is denied port 80 by the admin tier; other ports fall through and are allowed.
    let v = net.explain(pod(&net, "other", "stranger"), fe);
    assert!(
        !v.conn.allows("TCP", 80) && v.conn.allows("TCP", 81),
        "{:?}",
        v.evidence
    );
    assert!(
        v.evidence
            .iter()
            .any(|e| e.contains("Deny by AdminNetworkPolicy cluster-control rule `deny-other`"))
    );
    // myproject is passed to NetworkPolicies; none selects frontend, so the baseline denies.
    let v = net.explain(pod(&net, "myproject", "client"), fe);
    assert!(v.conn.is_empty(), "{:?}", v.evidence);
}
