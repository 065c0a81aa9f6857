use std::collections::BTreeMap;

use harmony_tenant::ClusterFacts;

use super::*;
use crate::checks::{AuditConfig, Counterexample, audit};
use crate::matrix::reachability;
use crate::snapshot::ClusterSnapshot;

const OBJECTS: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: a, labels: {harmony.nationtech.io/tenant: a}}
---
apiVersion: v1
kind: Namespace
metadata: {name: b, labels: {harmony.nationtech.io/tenant: b}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: only-8080, namespace: b}
spec:
  podSelector: {}
  policyTypes: [Ingress]
  ingress: [{ports: [{port: 8080}]}]
"#;

fn fixture(objects: &str) -> (AuditReport, Reachability, Provenance) {
    let facts = ClusterFacts::kubernetes();
    let mut s = ClusterSnapshot::default();
    s.load_text(objects, "t.yaml").unwrap();
    s.add_platform(&facts);
    s.add_placeholder_pods();
    let config = AuditConfig::new(facts.clone());
    let provenance = Provenance {
        source: "folder out/".into(),
        facts,
        time: "2025-01-02T03:04:05Z".into(),
        version: "9.9.9".into(),
    };
    (
        audit(&s, &config),
        reachability(&s, &config, false),
        provenance,
    )
}

/// The attributes of every grid cell, by name, unescaped; values quoted or bare.
fn cells(html: &str) -> Vec<BTreeMap<String, String>> {
    let unescape = |s: &str| {
        s.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&")
    };
    html.split("<td ")
        .skip(1)
        .filter(|rest| rest.starts_with("data-src="))
        .map(|mut rest| {
            let mut attributes = BTreeMap::new();
            while let Some((name, value)) = rest.split_once('=') {
                let end = match value.strip_prefix('"') {
                    Some(quoted) => quoted.find('"').unwrap() + 2,
                    None => value.find([' ', '>']).unwrap(),
                };
                let unquoted = unescape(value[..end].trim_matches('"'));
                attributes.insert(name.to_string(), unquoted);
                match value[end..].strip_prefix(' ') {
                    Some(next) => rest = next,
                    None => break,
                }
            }
            attributes
        })
        .collect()
}

/// The `(data-src, data-dst, data-conn)` of every grid cell.
fn conns(html: &str) -> Vec<(String, String, String)> {
    cells(html)
        .into_iter()
        .map(|c| {
            (
                c["data-src"].clone(),
                c["data-dst"].clone(),
                c["data-conn"].clone(),
            )
        })
        .collect()
}

#[test]
fn escaping_covers_text_and_attributes() {
    assert_eq!(
        Esc("<script>alert('x') & \"y\"</script>").to_string(),
        "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
    );
    assert_eq!(Esc("plain").to_string(), "plain");
    assert_eq!(Attr("kube-system").to_string(), "kube-system");
    assert_eq!(Attr("TCP 53; UDP 53").to_string(), "\"TCP 53; UDP 53\"");
    assert_eq!(Attr("a\"b").to_string(), "\"a&quot;b\"");
    assert_eq!(Attr("").to_string(), "\"\"");
    let (mut report, matrix, provenance) = fixture(OBJECTS);
    report.tenants[0].tenant = "<script>alert(1)</script>".into();
    report.notes.push("a \"note\" <b>".into());
    let html = render(&report, &matrix, &provenance);
    assert!(!html.contains("<script"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("a &quot;note&quot; &lt;b&gt;"));
}

#[test]
fn grid_cells_carry_the_json_pairs() {
    let (report, matrix, provenance) = fixture(OBJECTS);
    let html = render(&report, &matrix, &provenance);
    let json = serde_json::to_value(&matrix).unwrap();
    let pairs: Vec<(String, String, String)> = json["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let s = |k: &str| p[k].as_str().unwrap().to_string();
            (s("source"), s("destination"), s("connection"))
        })
        .collect();
    assert_eq!(conns(&html), pairs);
    assert!(pairs.contains(&("a".into(), "b".into(), "TCP 8080".into())));
    let n = matrix.namespaces.len();
    assert_eq!(html.matches("<td class=\"s\">").count(), n, "one per row");
    assert!(html.contains("<li>a → b: TCP 8080</li>"), "{html}");
    assert!(html.contains("class=\"g\" id=\"grid\""));
}

#[test]
fn a_big_grid_is_still_emitted_compactly() {
    let objects: String = (0..70)
        .map(|i| format!("---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: ns{i:02}}}\n"))
        .collect();
    let (report, matrix, provenance) = fixture(&objects);
    let n = matrix.namespaces.len();
    assert!(n > 70);
    let html = render(&report, &matrix, &provenance);
    assert!(html.contains("class=\"g big\""));
    assert_eq!(cells(&html).len(), n * (n - 1));
    assert!(!html.contains("style=\""), "no inline styles");
    let per_cell = html.len() / (n * n);
    assert!(per_cell < 60, "{per_cell} bytes per cell");
}

#[test]
fn every_pod_verdicts_and_counterexamples_are_shown() {
    let (mut report, matrix, provenance) = fixture(OBJECTS);
    let pod = |ns: &str, app: &str| PodTemplate {
        namespace: ns.into(),
        labels: BTreeMap::from([("app".to_string(), app.to_string())]),
        named_ports: vec![("http".into(), "TCP".into(), 8080)],
    };
    let checks = &mut report.tenants[0].checks;
    checks[0].status = Status::Pass;
    checks[0].every_pod = Some(EveryPod {
        holds: true,
        namespace_labels: "constants: held by the namespace-label guardrail".into(),
        counterexample: None,
    });
    checks[1].status = Status::Pass;
    checks[1].every_pod = Some(EveryPod {
        holds: false,
        namespace_labels: "free: no namespace-label guardrail".into(),
        counterexample: Some(Box::new(Counterexample {
            source: pod("a", "x<y"),
            destination: pod("b", "db"),
            protocol: "TCP".into(),
            port: 5432,
            evidence: vec!["ingress of b/db allowed by NetworkPolicy b/open rule #0".into()],
        })),
    });
    let html = render(&report, &matrix, &provenance);
    assert!(html.contains("Holds for every pod the tenants could create"));
    assert!(html.contains("constants: held by the namespace-label guardrail"));
    assert!(html.contains("Holds for today's pods only"));
    assert!(html.contains("TCP 5432"));
    assert!(html.contains("in a, labels app=x&lt;y, named ports http TCP/8080"));
    assert!(html.contains("in b, labels app=db"));
    assert!(html.contains("NetworkPolicy b/open rule #0"));
}

#[test]
fn provenance_summary_and_order_are_shown_and_output_is_deterministic() {
    let (mut report, matrix, provenance) = fixture(OBJECTS);
    let html = render(&report, &matrix, &provenance);
    assert_eq!(html, render(&report, &matrix, &provenance));
    for text in [
        "<th>Source</th><td>folder out/</td>",
        "<th>Audited at</th><td>2025-01-02T03:04:05Z</td>",
        "<th>Harmony</th><td>9.9.9</td>",
        "<th>Cluster</th><td>Kubernetes</td>",
        "<th>Cluster DNS</th>",
    ] {
        assert!(html.contains(text), "{text}");
    }
    for c in report.tenants.iter_mut().flat_map(|t| &mut t.checks) {
        c.status = Status::Pass;
    }
    report.tenants[1].checks[0].status = Status::Fail;
    let counts = Counts::of(&report);
    assert_eq!(counts.failed, 1);
    let html = render(&report, &matrix, &provenance);
    let summary = &html[html.find("id=\"summary\"").unwrap()..html.find("id=\"matrix\"").unwrap()];
    assert!(summary.find("#t1").unwrap() < summary.find("#t0").unwrap());
    assert!(summary.contains(&format!("<strong>{}</strong>failed", counts.failed)));
    let tenants = &html[html.find("id=\"tenants\"").unwrap()..];
    assert!(tenants.find("id=\"t1\"").unwrap() < tenants.find("id=\"t0\"").unwrap());
}
