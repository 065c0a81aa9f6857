//! End-to-end checks of the queries on small snapshots.

use super::points::in_block;
use super::{Party, Reach, Symbolic, Witness};
use crate::netpol::conn::Conn;
use crate::snapshot::ClusterSnapshot;

/// Namespaces `a` (`team: red`) and `b`, plus `docs` (YAML documents).
fn snapshot(docs: &str) -> ClusterSnapshot {
    let base = "apiVersion: v1
kind: Namespace
metadata: {name: a, labels: {kubernetes.io/metadata.name: a, team: red}}
---
apiVersion: v1
kind: Namespace
metadata: {name: b, labels: {kubernetes.io/metadata.name: b}}
";
    let mut s = ClusterSnapshot::default();
    s.load_text(&format!("{base}---\n{docs}"), "test").unwrap();
    s
}

fn sym<'a>(s: &'a ClusterSnapshot, free: &[&'a str]) -> Symbolic<'a> {
    let pods = ["10.244.0.0/16".parse().unwrap()];
    Symbolic::new(s, &pods, free.iter().copied().collect())
}

/// A NetworkPolicy in `ns` isolating `types` of the pods `selector` selects, with `spec`.
fn np(ns: &str, name: &str, selector: &str, types: &str, spec: &str) -> String {
    format!(
        "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: {name}, namespace: {ns}}}
spec:
  podSelector: {selector}
  policyTypes: [{types}]
{spec}---
"
    )
}

fn deny_all(ns: &str) -> String {
    np(ns, "deny", "{}", "Ingress, Egress", "")
}

fn free<'a>(ns: &'a str) -> Party<'a> {
    Party::Free(ns)
}

fn open<'a>(s: &Symbolic<'a>, a: &'a str, b: &'a str) -> Option<Witness> {
    s.open(free(a), free(b), &Conn::none())
}

#[test]
fn isolation_by_match_labels_leaves_other_labels_out() {
    let s = snapshot(&np("a", "web", "{matchLabels: {app: web}}", "Ingress", ""));
    let w = sym(&s, &[]).unisolated("a", true).unwrap();
    assert_ne!(
        w.dst
            .unwrap_or_default()
            .labels
            .get("app")
            .map(String::as_str),
        Some("web")
    );
    assert!(sym(&s, &[]).unisolated("a", false).is_some());
}

#[test]
fn in_several_values_and_not_in_cover_every_pod() {
    let docs = np(
        "a",
        "in",
        "{matchExpressions: [{key: app, operator: In, values: [x1, x2]}]}",
        "Egress",
        "",
    ) + &np(
        "a",
        "notin",
        "{matchExpressions: [{key: app, operator: NotIn, values: [x1, x2]}]}",
        "Egress",
        "",
    );
    let s = snapshot(&docs);
    assert_eq!(sym(&s, &[]).unisolated("a", false), None);
    // Without the NotIn policy a pod labelled neither x nor y escapes.
    let s = snapshot(&np(
        "a",
        "in",
        "{matchExpressions: [{key: app, operator: In, values: [x1, x2]}]}",
        "Egress",
        "",
    ));
    let w = sym(&s, &[]).unisolated("a", false).unwrap();
    let app = w.src.unwrap_or_default().labels.get("app").cloned();
    assert!(
        app.as_deref().is_none_or(|v| v != "x1" && v != "x2"),
        "{app:?}"
    );
}

#[test]
fn exists_and_does_not_exist_cover_every_pod() {
    let docs = np(
        "a",
        "e",
        "{matchExpressions: [{key: tier, operator: Exists}]}",
        "Ingress",
        "",
    ) + &np(
        "a",
        "d",
        "{matchExpressions: [{key: tier, operator: DoesNotExist}]}",
        "Ingress",
        "",
    );
    assert_eq!(sym(&snapshot(&docs), &[]).unisolated("a", true), None);
}

/// `a` may reach the pods of `b` that `selector` selects; `b` lets everyone in.
fn a_to_b(selector: &str, ports: &str) -> String {
    deny_all("a")
        + &np(
            "a",
            "out",
            "{}",
            "Egress",
            &format!(
                "  egress:\n  - to: [{{namespaceSelector: {{}}, podSelector: {selector}}}]\n{ports}"
            ),
        )
}

#[test]
fn conflicting_requirements_select_no_pod() {
    let s = snapshot(&a_to_b(
        "{matchLabels: {app: x}, matchExpressions: [{key: app, operator: NotIn, values: [x]}]}",
        "",
    ));
    assert_eq!(open(&sym(&s, &[]), "a", "b"), None);
    let s = snapshot(&a_to_b(
        "{matchLabels: {app: x}, matchExpressions: [{key: tier, operator: NotIn, values: [x]}]}",
        "",
    ));
    let w = open(&sym(&s, &[]), "a", "b").unwrap();
    let dst = w.dst.unwrap();
    assert_eq!(dst.labels.get("app").map(String::as_str), Some("x"));
    assert_ne!(dst.labels.get("tier").map(String::as_str), Some("x"));
}

#[test]
fn a_named_port_is_any_port_the_destination_declares() {
    let s = snapshot(&a_to_b(
        "{}",
        "    ports: [{port: metrics, protocol: UDP}]\n",
    ));
    let w = open(&sym(&s, &[]), "a", "b").unwrap();
    let (proto, port) = w.port.unwrap();
    assert_eq!(proto, "UDP");
    assert_eq!(
        w.dst.unwrap().named_ports,
        vec![("metrics".into(), "UDP".into(), port)]
    );
    // A pod of today without that named port is not reachable.
    let pod = "apiVersion: v1
kind: Pod
metadata: {name: p, namespace: b}
spec: {containers: [{name: c, ports: [{name: metrics, containerPort: 9000}]}]}
";
    let s = snapshot(&(a_to_b("{}", "    ports: [{port: metrics, protocol: UDP}]\n") + pod));
    assert_eq!(
        sym(&s, &[]).open(free("a"), Party::Pod(&s.pods[0]), &Conn::none()),
        None
    );
}

fn anp(name: &str, priority: i32, action: &str, ports: &str) -> String {
    format!(
        "apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {{name: {name}}}
spec:
  priority: {priority}
  subject: {{namespaces: {{matchLabels: {{team: red}}}}}}
  egress:
  - {{name: r, action: {action}, to: [{{namespaces: {{}}}}]{ports}}}
---
"
    )
}

#[test]
fn admin_tiers_deny_pass_and_allow() {
    let allow_all = np("a", "all", "{}", "Egress", "  egress: [{}]\n");
    let s = snapshot(&(anp("deny", 1, "Deny", "") + &anp("allow", 2, "Allow", "") + &allow_all));
    assert_eq!(open(&sym(&s, &[]), "a", "b"), None);
    // Deny only TCP 80: every other port passes on to the NetworkPolicies.
    let tcp80 = ", ports: [{portNumber: {protocol: TCP, port: 80}}]";
    let s = snapshot(&(anp("deny", 1, "Deny", tcp80) + &allow_all));
    assert!(open(&sym(&s, &[]), "a", "b").unwrap().port != Some(("TCP", 80)));
    // Pass leaves it to the NetworkPolicies, which isolate `a`.
    let s =
        snapshot(&(anp("pass", 1, "Pass", "") + &anp("allow", 2, "Allow", "") + &deny_all("a")));
    assert_eq!(open(&sym(&s, &[]), "a", "b"), None);
    // Allow wins over the NetworkPolicies.
    let s = snapshot(&(anp("allow", 1, "Allow", "") + &deny_all("a")));
    assert!(open(&sym(&s, &[]), "a", "b").is_some());
}

#[test]
fn namespace_labels_are_constants_or_free() {
    let docs = deny_all("b")
        + &np(
            "b",
            "from-blue",
            "{}",
            "Ingress",
            "  ingress: [{from: [{namespaceSelector: {matchLabels: {team: blue}}}]}]\n",
        );
    let s = snapshot(&docs);
    assert_eq!(open(&sym(&s, &[]), "a", "b"), None);
    let w = open(&sym(&s, &["a", "b"]), "a", "b").unwrap();
    assert_eq!(
        w.namespaces["a"].get("team").map(String::as_str),
        Some("blue")
    );
    assert_eq!(w.namespaces["a"]["kubernetes.io/metadata.name"], "a");
    // The name label is fixed, free or not.
    let by_name = deny_all("b")
        + &np(
            "b",
            "from-c",
            "{}",
            "Ingress",
            "  ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: c}}}]}]\n",
        );
    assert_eq!(open(&sym(&snapshot(&by_name), &["a", "b"]), "a", "b"), None);
}

#[test]
fn an_ip_block_over_the_pod_network_may_select_a_pod() {
    let to_block = deny_all("a")
        + &np(
            "a",
            "block",
            "{}",
            "Egress",
            "  egress: [{to: [{ipBlock: {cidr: 10.244.1.0/24, except: [10.244.1.128/25]}}]}]\n",
        );
    let w = open(&sym(&snapshot(&to_block), &[]), "a", "b").unwrap();
    let ip = w.dst.unwrap().ip.unwrap();
    assert!(in_block(&"10.244.1.0/25".parse().unwrap(), &[], ip), "{ip}");
    assert_eq!(sym(&snapshot(&to_block), &[]).reach("a", false), Reach::All);
}

#[test]
fn reach_lists_the_namespaces_rules_may_select() {
    let docs = a_to_b("{}", "").replace(
        "namespaceSelector: {}",
        "namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: b}}",
    );
    let s = snapshot(&docs);
    assert_eq!(
        sym(&s, &[]).reach("a", false),
        Reach::Some(["b".to_string()].into())
    );
    assert_eq!(sym(&s, &[]).reach("b", true), Reach::All);
}
