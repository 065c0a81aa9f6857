//! The reachability matrix: what each namespace (and, when the source has pods, each pod) may open
//! to every other, plus per tenant the internet egress, DNS, ingress-controller and monitoring
//! paths the network checks assess.

use std::collections::{BTreeSet, HashMap};
use std::fmt::{self, Write};

use harmony_tenant::PlatformSource;
use serde::{Serialize, Serializer};

use crate::checks::network::{Paths, dns_paths, internet_paths, platform_paths};
use crate::checks::{AuditConfig, Context};
use crate::netpol::{Conn, Endpoint};
use crate::snapshot::{ClusterSnapshot, is_synthesized};

/// `all`, `none`, or the ports per protocol, such as `TCP 80,443; UDP 53`.
pub(crate) fn conn_label(c: &Conn) -> String {
    if c.is_all() {
        "all".into()
    } else if c.is_empty() {
        "none".into()
    } else {
        c.to_string()
    }
}

fn serialize_conn<S: Serializer>(c: &Conn, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&conn_label(c))
}

/// What a source may open to a destination.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pair {
    /// A namespace, or a pod as `namespace/name`.
    pub source: String,
    /// A namespace, or a pod as `namespace/name`.
    pub destination: String,
    /// `all`, `none`, or the ports per protocol.
    #[serde(serialize_with = "serialize_conn")]
    pub connection: Conn,
}

/// Whether a kind of path is open for a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Reach {
    /// Open for every pod of the tenant.
    Allowed,
    /// Closed for every pod of the tenant.
    Blocked,
    /// Open for some pods only (the evidence says which).
    Partial,
}

/// One kind of path of one tenant, and the pod pairs behind the answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathReach {
    /// Open, closed, or open for some pods.
    pub status: Reach,
    /// One line per pod class pair: both ends and what is allowed.
    pub evidence: Vec<String>,
}

impl From<Paths> for PathReach {
    fn from(p: Paths) -> Self {
        let status = match (p.reached.is_empty(), p.blocked.is_empty()) {
            (false, true) => Reach::Allowed,
            (true, _) => Reach::Blocked,
            (false, false) => Reach::Partial,
        };
        Self {
            status,
            evidence: [p.reached, p.blocked].concat(),
        }
    }
}

/// The platform paths of one tenant.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantReach {
    /// The tenant.
    pub tenant: String,
    /// Its namespace.
    pub namespace: String,
    /// Tenant → internet (sample public addresses).
    pub internet_egress: PathReach,
    /// Tenant → cluster DNS on its UDP port.
    pub dns: PathReach,
    /// Ingress controller → tenant.
    pub ingress_controller: PathReach,
    /// Monitoring → tenant.
    pub monitoring: PathReach,
}

/// The reachability matrix of a snapshot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reachability {
    /// Every namespace, sorted.
    pub namespaces: Vec<String>,
    /// One entry per ordered pair of distinct namespaces (the union over their pods), sorted.
    pub pairs: Vec<Pair>,
    /// With pods asked for: one entry per ordered pair of distinct pods of the source (synthesized
    /// placeholders left out), sorted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pods: Option<Vec<Pair>>,
    /// The platform paths per tenant, by tenant name.
    pub tenants: Vec<TenantReach>,
    /// What the loader skipped or synthesized, and why pod rows may be missing.
    pub notes: Vec<String>,
}

/// The matrix of `snapshot` (with its platform peers and placeholders added, as for
/// [`crate::audit`]); pod rows when `pods`; tenant rows narrowed to `config.tenant` when set.
pub fn reachability(snapshot: &ClusterSnapshot, config: &AuditConfig, pods: bool) -> Reachability {
    let ctx = Context::new(snapshot, config);
    let net = &ctx.net;
    let namespaces: Vec<String> = snapshot
        .namespaces
        .iter()
        .filter_map(|n| n.metadata.name.clone())
        .chain(net.classes().iter().map(|c| c.namespace.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let matrix = net.namespace_matrix();
    let mut pairs = Vec::new();
    for a in &namespaces {
        for b in namespaces.iter().filter(|b| *b != a) {
            pairs.push(Pair {
                source: a.clone(),
                destination: b.clone(),
                connection: matrix
                    .get(&(a.clone(), b.clone()))
                    .cloned()
                    .unwrap_or_default(),
            });
        }
    }
    let mut notes = snapshot.notes.clone();
    let pods = pods.then(|| {
        let mut real: Vec<(String, usize)> = snapshot
            .pods
            .iter()
            .filter(|p| !is_synthesized(p))
            .filter_map(|p| {
                let (ns, name) = (
                    p.metadata.namespace.as_deref()?,
                    p.metadata.name.as_deref()?,
                );
                Some((format!("{ns}/{name}"), net.class_of(ns, name)?))
            })
            .collect();
        real.sort();
        if real.is_empty() {
            notes.push(
                "no pod rows: the source holds no pods (tenant files and rendered tenants have \
                 none); audit a live cluster with --kubeconfig, or add Pod manifests with -f"
                    .into(),
            );
        }
        let mut cache: HashMap<(usize, usize), Conn> = HashMap::new();
        let mut rows = Vec::new();
        for (a, ca) in &real {
            for (b, cb) in real.iter().filter(|(b, _)| b != a) {
                let connection = cache
                    .entry((*ca, *cb))
                    .or_insert_with(|| net.conn(Endpoint::Class(*ca), Endpoint::Class(*cb)))
                    .clone();
                rows.push(Pair {
                    source: a.clone(),
                    destination: b.clone(),
                    connection,
                });
            }
        }
        rows
    });
    let tenants = ctx
        .tenants
        .iter()
        .filter(|t| config.tenant.as_ref().is_none_or(|n| *n == t.name))
        .map(|t| {
            let own: Vec<usize> = net.classes_in(&t.namespace).collect();
            TenantReach {
                tenant: t.name.clone(),
                namespace: t.namespace.clone(),
                internet_egress: internet_paths(net, &own).into(),
                dns: dns_paths(&ctx, &own).into(),
                ingress_controller: platform_paths(&ctx, &own, PlatformSource::Ingress).into(),
                monitoring: platform_paths(&ctx, &own, PlatformSource::Monitoring).into(),
            }
        })
        .collect();
    Reachability {
        namespaces,
        pairs,
        pods,
        tenants,
        notes,
    }
}

fn reach(r: &PathReach) -> &'static str {
    match r.status {
        Reach::Allowed => "allowed",
        Reach::Blocked => "blocked",
        Reach::Partial => "partial",
    }
}

/// Left-aligned columns, two spaces apart.
fn table(rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(out, "  {}", cells.join("  ").trim_end());
    }
    out
}

impl fmt::Display for Reachability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Namespace reachability: source (row) → destination (column)"
        )?;
        let index = |ns: &str| self.namespaces.iter().position(|n| n == ns);
        let name_width = self.namespaces.iter().map(String::len).max().unwrap_or(0);
        let cell = (self.namespaces.len().to_string().len() + 1).max(3);
        let number_width = self.namespaces.len().to_string().len();
        let mut header = format!("  {:number_width$} {:name_width$}", "", "");
        for i in 1..=self.namespaces.len() {
            let _ = write!(header, "{i:>cell$}");
        }
        writeln!(f, "{}", header.trim_end())?;
        let mut grid = vec![vec!['-'; self.namespaces.len()]; self.namespaces.len()];
        let mut some_ports = Vec::new();
        for p in &self.pairs {
            let (Some(a), Some(b)) = (index(&p.source), index(&p.destination)) else {
                continue;
            };
            grid[a][b] = if p.connection.is_all() {
                'A'
            } else if p.connection.is_empty() {
                '.'
            } else {
                some_ports.push(p);
                'P'
            };
        }
        for (i, (ns, row)) in self.namespaces.iter().zip(&grid).enumerate() {
            let mut line = format!("  {:>number_width$} {ns:name_width$}", i + 1);
            for c in row {
                let _ = write!(line, "{c:>cell$}");
            }
            writeln!(f, "{line}")?;
        }
        writeln!(
            f,
            "Legend: A all connections, P some ports (listed below), . none, - same namespace"
        )?;
        for p in some_ports {
            writeln!(f, "  {} → {}: {}", p.source, p.destination, p.connection)?;
        }
        if !self.tenants.is_empty() {
            writeln!(f, "\nPer tenant:")?;
            let mut rows = vec![
                [
                    "TENANT",
                    "NAMESPACE",
                    "INTERNET EGRESS",
                    "DNS",
                    "INGRESS CONTROLLER → TENANT",
                    "MONITORING → TENANT",
                ]
                .map(String::from)
                .to_vec(),
            ];
            rows.extend(self.tenants.iter().map(|t| {
                vec![
                    t.tenant.clone(),
                    t.namespace.clone(),
                    reach(&t.internet_egress).into(),
                    reach(&t.dns).into(),
                    reach(&t.ingress_controller).into(),
                    reach(&t.monitoring).into(),
                ]
            }));
            f.write_str(&table(&rows))?;
        }
        if let Some(pods) = &self.pods {
            let open: Vec<&Pair> = pods.iter().filter(|p| !p.connection.is_empty()).collect();
            writeln!(
                f,
                "\nPod reachability: {} of {} pod pairs have a connection",
                open.len(),
                pods.len()
            )?;
            for p in open {
                writeln!(
                    f,
                    "  {} → {}: {}",
                    p.source,
                    p.destination,
                    conn_label(&p.connection)
                )?;
            }
        }
        for n in &self.notes {
            writeln!(f, "note: {n}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use harmony_tenant::ClusterFacts;

    const OBJECTS: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: a, labels: {harmony.nationtech.io/tenant: a}}
---
apiVersion: v1
kind: Namespace
metadata: {name: b}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: a, labels: {app: web}}
spec: {containers: [{name: main, image: nginx}]}
---
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: b, labels: {app: api}}
spec: {containers: [{name: main, image: nginx}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: only-8080, namespace: b}
spec:
  podSelector: {}
  policyTypes: [Ingress]
  ingress: [{ports: [{port: 8080}]}]
"#;

    fn snapshot(facts: &ClusterFacts) -> ClusterSnapshot {
        let mut s = ClusterSnapshot::default();
        s.load_text(OBJECTS, "t.yaml").unwrap();
        s.add_platform(facts);
        s.add_placeholder_pods();
        s
    }

    #[test]
    fn namespaces_and_pods_pair_up_with_their_connections_and_tenants_get_their_paths() {
        let facts = ClusterFacts::kubernetes();
        let config = AuditConfig::new(facts.clone());
        let m = reachability(&snapshot(&facts), &config, true);
        let pair = |src: &str, dst: &str| {
            m.pairs
                .iter()
                .find(|p| p.source == src && p.destination == dst)
                .map(|p| conn_label(&p.connection))
        };
        assert_eq!(pair("a", "b").as_deref(), Some("TCP 8080"));
        assert_eq!(pair("b", "a").as_deref(), Some("all"));
        let n = m.namespaces.len();
        assert_eq!(
            m.pairs.len(),
            n * (n - 1),
            "every ordered pair, none left out"
        );
        let pods = m.pods.as_ref().unwrap();
        assert_eq!(pods.len(), 2, "only the source's pods: {pods:?}");
        assert_eq!(pods[0].source, "a/web");
        assert_eq!(m.tenants.len(), 1);
        assert_eq!(m.tenants[0].internet_egress.status, Reach::Allowed);
        let text = m.to_string();
        assert!(text.contains("  a → b: TCP 8080"), "{text}");
        assert!(text.contains("Legend: A all connections"), "{text}");
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json["pairs"][0]["connection"], "TCP 8080");
        assert_eq!(json["tenants"][0]["internetEgress"]["status"], "allowed");
    }

    #[test]
    fn without_pods_in_the_source_pod_rows_are_empty_and_a_note_says_why() {
        let facts = ClusterFacts::kubernetes();
        let mut s = ClusterSnapshot::default();
        s.load_text(
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n",
            "t",
        )
        .unwrap();
        s.add_platform(&facts);
        s.add_placeholder_pods();
        let m = reachability(&s, &AuditConfig::new(facts), true);
        assert_eq!(m.pods, Some(vec![]));
        assert!(
            m.notes.iter().any(|n| n.contains("no pod rows")),
            "{:?}",
            m.notes
        );
        assert!(
            reachability(&s, &AuditConfig::new(ClusterFacts::kubernetes()), false)
                .pods
                .is_none()
        );
    }
}
