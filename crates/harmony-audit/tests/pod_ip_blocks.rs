//! An ipBlock selects the pods whose known IPs (`status.podIPs`) it covers, as the NetworkPolicy
//! conformance tests expect.

use harmony_audit::{ClusterSnapshot, explain};

fn pod(name: &str, app: &str, ip: Option<&str>) -> String {
    let status = ip
        .map(|ip| format!("status: {{podIP: \"{ip}\", podIPs: [{{ip: \"{ip}\"}}]}}\n"))
        .unwrap_or_default();
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: shop, labels: {{app: {app}}}}}\n\
         spec: {{containers: [{{name: c, image: i}}]}}\n{status}---\n"
    )
}

fn shop(with_ips: bool, block: &str) -> ClusterSnapshot {
    let ip = |ip| with_ips.then_some(ip);
    let text = format!(
        "apiVersion: v1\nkind: Namespace\nmetadata: {{name: shop}}\n---\n{}{}{}\
         apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n\
         metadata: {{name: client-egress, namespace: shop}}\n\
         spec:\n  podSelector: {{matchLabels: {{app: client}}}}\n  policyTypes: [Egress]\n\
         \x20 egress: [{{to: [{{ipBlock: {block}}}]}}]\n",
        pod("client", "client", ip("10.0.0.9")),
        pod("db-1", "db", ip("10.0.0.1")),
        pod("db-2", "db", ip("10.0.0.2")),
    );
    let mut s = ClusterSnapshot::default();
    s.load_text(&text, "shop.yaml").unwrap();
    s
}

fn allowed(s: &ClusterSnapshot, dst: &str) -> bool {
    explain(s, ("shop/client", dst), Some("5432"), &[])
        .unwrap()
        .allowed()
}

#[test]
fn egress_to_one_pod_ip_reaches_that_pod_only() {
    let s = shop(true, "{cidr: 10.0.0.1/32}");
    assert!(allowed(&s, "shop/db-1"));
    assert!(!allowed(&s, "shop/db-2"));
    assert!(!allowed(&s, "8.8.8.8"));
    let e = explain(&s, ("shop/client", "shop/db-1"), None, &[]).unwrap();
    assert!(
        e.to_string()
            .contains("egress of shop/client allowed by NetworkPolicy shop/client-egress rule #0"),
        "{e}"
    );
    // db-1 and db-2 look alike to selectors but not to the ipBlock: two classes.
    let all = explain(&s, ("shop/client", "shop"), None, &[]).unwrap();
    let open: Vec<(&str, bool)> = all
        .pairs
        .iter()
        .map(|p| (p.dst.as_str(), p.allowed))
        .collect();
    assert!(open.contains(&("shop/db-1", true)), "{open:?}");
    assert!(open.contains(&("shop/db-2", false)), "{open:?}");
}

#[test]
fn except_carves_pods_out_and_unknown_ips_match_nothing() {
    let s = shop(true, "{cidr: 10.0.0.0/24, except: [10.0.0.2/32]}");
    assert!(allowed(&s, "shop/db-1"));
    assert!(!allowed(&s, "shop/db-2"));
    // Without status (rendered manifests), an ipBlock selects no pod.
    let s = shop(false, "{cidr: 10.0.0.1/32}");
    assert!(!allowed(&s, "shop/db-1"));
    assert!(!allowed(&s, "shop/db-2"));
}
