//! The reachability matrix: what each namespace (and, when the source has pods, each pod) may open
//! to every other, plus per tenant the internet egress, DNS, ingress-controller and monitoring
//! paths the network checks assess.

use std::collections::{BTreeSet, HashMap};
use std::fmt::{self, Write};

use harmony_tenant::PlatformSource;
use serde::{Serialize, Serializer};

use crate::checks::network::{
    Paths, cross_tenant_paths, dns_paths, internet_paths, platform_paths,
};
use crate::checks::{AuditConfig, Context};
use crate::netpol::{Conn, Network};
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
    /// For two tenants' namespaces, the declaration (`spec.connections`, both sides) covering
    /// every path of the pair, when one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declared: Option<String>,
}

/// What each pod may open to every other: one row per ordered pair of distinct pods, sorted. Pods
/// alike share their class's connections, so the rows are not stored but read off the classes.
#[derive(Debug, Clone, PartialEq)]
pub struct PodMatrix {
    /// Every pod as `namespace/name`, sorted, with the index of its class.
    pods: Vec<(String, usize)>,
    /// How many classes there are.
    classes: usize,
    /// Per ordered pair of classes `(a, b)`, at `a * classes + b`: its connection in `conns`.
    by_pair: Vec<usize>,
    /// The distinct connections.
    conns: Vec<Conn>,
}

impl PodMatrix {
    /// The matrix of the pods `(namespace/name, class in net)`, in any order.
    fn new(net: &Network, mut pods: Vec<(String, usize)>) -> Self {
        pods.sort();
        let mut index: HashMap<usize, usize> = HashMap::new();
        let mut of_class = Vec::new();
        for (_, class) in &mut pods {
            *class = *index.entry(*class).or_insert_with(|| {
                of_class.push(*class);
                of_class.len() - 1
            });
        }
        let n = of_class.len();
        let mut conns = vec![Conn::none()];
        let mut interned = HashMap::from([(Conn::none(), 0)]);
        let mut by_pair = vec![0; n * n];
        for (a, &class) in of_class.iter().enumerate() {
            for (d, conn) in net.reachable_from(class) {
                if let Some(&b) = index.get(&d) {
                    by_pair[a * n + b] = *interned.entry(conn).or_insert_with_key(|conn| {
                        conns.push(conn.clone());
                        conns.len() - 1
                    });
                }
            }
        }
        Self {
            pods,
            classes: n,
            by_pair,
            conns,
        }
    }

    /// The rows `(source, destination, index in conns)`.
    fn indexed_rows(&self) -> impl Iterator<Item = (&str, &str, usize)> {
        self.pods.iter().flat_map(move |(a, ca)| {
            self.pods
                .iter()
                .filter(move |(b, _)| b != a)
                .map(move |(b, cb)| (a.as_str(), b.as_str(), self.by_pair[ca * self.classes + cb]))
        })
    }

    /// The rows `(source, destination, what the source may open to the destination)`.
    pub fn rows(&self) -> impl Iterator<Item = (&str, &str, &Conn)> {
        self.indexed_rows().map(|(a, b, c)| (a, b, &self.conns[c]))
    }
}

/// The rows as a list of [`Pair`]s.
impl Serialize for PodMatrix {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Row<'a> {
            source: &'a str,
            destination: &'a str,
            connection: &'a str,
        }
        let labels: Vec<String> = self.conns.iter().map(conn_label).collect();
        s.collect_seq(self.indexed_rows().map(|(source, destination, c)| Row {
            source,
            destination,
            connection: &labels[c],
        }))
    }
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
    /// With pods asked for: the pods of the source (synthesized placeholders left out), pair by
    /// pair.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pods: Option<PodMatrix>,
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
    let cross = (!config.facts.connections.is_empty()).then(|| cross_tenant_paths(&ctx));
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
                declared: cross
                    .as_ref()
                    .and_then(|c| c.declaration(a, b))
                    .map(str::to_string),
            });
        }
    }
    let mut notes = snapshot.notes.clone();
    let pods = pods.then(|| {
        let real: Vec<(String, usize)> = snapshot
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
        if real.is_empty() {
            notes.push(
                "no pod rows: the source holds no pods (tenant files and rendered tenants have \
                 none); audit a live cluster with --kubeconfig, or add Pod manifests with -f"
                    .into(),
            );
        }
        PodMatrix::new(net, real)
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
            grid[a][b] = if p.declared.is_some() {
                some_ports.push(p);
                'D'
            } else if p.connection.is_all() {
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
            "Legend: A all connections, P some ports, D declared connection (both listed \
             below), . none, - same namespace"
        )?;
        for p in some_ports {
            write!(f, "  {} → {}: {}", p.source, p.destination, p.connection)?;
            match &p.declared {
                Some(declaration) => writeln!(f, " ({declaration})")?,
                None => writeln!(f)?,
            }
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
            let open = || pods.rows().filter(|(_, _, c)| !c.is_empty());
            writeln!(
                f,
                "\nPod reachability: {} of {} pod pairs have a connection",
                open().count(),
                pods.rows().count()
            )?;
            for (a, b, c) in open() {
                writeln!(f, "  {a} → {b}: {}", conn_label(c))?;
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
        let pods: Vec<_> = m.pods.as_ref().unwrap().rows().collect();
        assert_eq!(pods.len(), 2, "only the source's pods: {pods:?}");
        assert_eq!(pods[0].0, "a/web");
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
    fn pod_rows_serialize_as_the_list_of_their_pairs() {
        let facts = ClusterFacts::kubernetes();
        let mut s = ClusterSnapshot::default();
        s.load_text(OBJECTS, "t.yaml").unwrap();
        s.load_text(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: api-2, namespace: b, labels: {app: api}}\n\
             spec: {containers: [{name: main, image: nginx}]}\n",
            "alike.yaml",
        )
        .unwrap();
        s.add_platform(&facts);
        s.add_placeholder_pods();
        let pods = reachability(&s, &AuditConfig::new(facts), true)
            .pods
            .unwrap();
        let pairs: Vec<Pair> = pods
            .rows()
            .map(|(source, destination, connection)| Pair {
                source: source.into(),
                destination: destination.into(),
                connection: connection.clone(),
                declared: None,
            })
            .collect();
        let rows: Vec<(&str, &str, String)> = pairs
            .iter()
            .map(|p| (&*p.source, &*p.destination, conn_label(&p.connection)))
            .collect();
        assert_eq!(
            rows,
            [
                ("a/web", "b/api", "TCP 8080".into()),
                ("a/web", "b/api-2", "TCP 8080".into()),
                ("b/api", "a/web", "all".into()),
                ("b/api", "b/api-2", "TCP 8080".into()),
                ("b/api-2", "a/web", "all".into()),
                ("b/api-2", "b/api", "TCP 8080".into()),
            ]
        );
        assert_eq!(
            serde_json::to_string_pretty(&pods).unwrap(),
            serde_json::to_string_pretty(&pairs).unwrap()
        );
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
        assert_eq!(m.pods.unwrap().rows().count(), 0);
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
