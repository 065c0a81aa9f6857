//! Cross-checking our verdicts with network-config-analyzer (`nca`): write a snapshot as nca
//! input, parse `nca --connectivity -o txt_no_fw_rules`, and compare pod pair by pod pair.

use std::collections::BTreeMap;
use std::path::Path;

use k8s_openapi::api::core::v1::Pod;
use serde_json::json;

use crate::netpol::{Conn, Endpoint, Network};
use crate::snapshot::ClusterSnapshot;

/// Allowed connections per (source pod, destination pod), as `ns/pod`; absent pairs: none.
pub type PodPairs = BTreeMap<(String, String), Conn>;

/// Our verdict for every ordered pair of distinct pods.
pub fn pod_connectivity(snapshot: &ClusterSnapshot) -> PodPairs {
    let net = Network::new(snapshot);
    let pods: Vec<(String, usize)> = snapshot
        .pods
        .iter()
        .filter_map(|p| {
            let (ns, name) = (
                p.metadata.namespace.as_deref()?,
                p.metadata.name.as_deref()?,
            );
            Some((format!("{ns}/{name}"), net.class_of(ns, name)?))
        })
        .collect();
    let mut by_class: BTreeMap<(usize, usize), Conn> = BTreeMap::new();
    let mut out = PodPairs::new();
    for (a, ca) in &pods {
        for (b, cb) in pods.iter().filter(|(b, _)| b != a) {
            let conn = by_class
                .entry((*ca, *cb))
                .or_insert_with(|| net.conn(Endpoint::Class(*ca), Endpoint::Class(*cb)));
            if !conn.is_empty() {
                out.insert((a.clone(), b.clone()), conn.clone());
            }
        }
    }
    out
}

/// Writes `namespaces.yaml`, `pods.yaml` and `policies/policies.yaml` under `dir`, as nca reads
/// them (JSON documents, which are YAML).
pub fn write_nca_input(snapshot: &ClusterSnapshot, dir: &Path) -> std::io::Result<()> {
    let list = |kind: &str, items: serde_json::Value| {
        json!({"apiVersion": "v1", "kind": kind, "items": items}).to_string()
    };
    std::fs::create_dir_all(dir.join("policies"))?;
    std::fs::write(
        dir.join("namespaces.yaml"),
        list("NamespaceList", json!(snapshot.namespaces)),
    )?;
    let pods: Vec<Pod> = snapshot.pods.iter().map(Pod::from).collect();
    std::fs::write(dir.join("pods.yaml"), list("PodList", json!(pods)))?;
    let policies: Vec<String> = snapshot
        .network_policies
        .iter()
        .map(|p| json!(p).to_string())
        .collect();
    std::fs::write(
        dir.join("policies").join("policies.yaml"),
        policies.join("\n---\n"),
    )
}

fn parse_conn(text: &str) -> Result<Conn, String> {
    let text = text.trim();
    if text == "All connections" {
        return Ok(Conn::all());
    }
    let mut conn = Conn::none();
    for group in text.trim_matches(['{', '}']).split("},{") {
        let body = group
            .strip_prefix("protocols:")
            .ok_or_else(|| format!("unexpected nca connection `{text}`"))?;
        let (protocols, ports) = body.split_once(",dst_ports:").unwrap_or((body, "1-65535"));
        for proto in protocols.split(',').map(str::trim) {
            for range in ports.split(',') {
                let (a, b) = range.split_once('-').unwrap_or((range, range));
                let parse = |s: &str| {
                    s.trim()
                        .parse::<u16>()
                        .map_err(|_| format!("bad port `{s}` in `{text}`"))
                };
                let c = Conn::ports(proto, parse(a)?, parse(b)?)
                    .ok_or_else(|| format!("unknown protocol `{proto}` in `{text}`"))?;
                conn = conn.union(&c);
            }
        }
    }
    Ok(conn)
}

/// Parses the pod-to-pod lines of `nca --connectivity ... -o txt_no_fw_rules`.
pub fn parse_nca(output: &str) -> Result<PodPairs, String> {
    let mut out = PodPairs::new();
    for line in output.lines() {
        let Some((pair, conn)) = line.split_once(" : ") else {
            continue;
        };
        let Some((src, dst)) = pair.split_once(" => ") else {
            continue;
        };
        let (Some(src), Some(dst)) = (src.strip_suffix("[Pod]"), dst.strip_suffix("[Pod]")) else {
            continue;
        };
        let entry = out.entry((src.to_string(), dst.to_string())).or_default();
        *entry = entry.union(&parse_conn(conn)?);
    }
    Ok(out)
}

/// Every pair on which `ours` and `theirs` differ, described.
pub fn disagreements(ours: &PodPairs, theirs: &PodPairs) -> Vec<String> {
    let none = Conn::none();
    let keys: std::collections::BTreeSet<_> = ours.keys().chain(theirs.keys()).collect();
    keys.into_iter()
        .filter_map(|k| {
            let (a, b) = (ours.get(k).unwrap_or(&none), theirs.get(k).unwrap_or(&none));
            (a != b).then(|| format!("{} → {}: ours `{a}`, nca `{b}`", k.0, k.1))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nca_lines() {
        let out = "0.0.0.0-255.255.255.255 => b/p2[Pod] : All connections\n\
                   b/p2[Pod] => a/p1[Pod] : {protocols:TCP,dst_ports:8080}\n\
                   b/p2[Pod] => a/p1[Pod] : {protocols:UDP,SCTP,dst_ports:9000-9010,53}\n\
                   a/p1[Pod] => b/p2[Pod] : All connections\n";
        let p = parse_nca(out).unwrap();
        assert_eq!(p.len(), 2);
        assert!(p[&("a/p1".into(), "b/p2".into())].is_all());
        let c = &p[&("b/p2".into(), "a/p1".into())];
        assert_eq!(
            c.to_string(),
            "TCP 8080; UDP 53,9000-9010; SCTP 53,9000-9010"
        );
        assert!(parse_nca("a[Pod] => b[Pod] : {protocols:ICMP}").is_err());
    }
}
