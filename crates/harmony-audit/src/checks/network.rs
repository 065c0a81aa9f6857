//! Network isolation: default deny, no cross-tenant path, reachability of the internet, DNS, the
//! ingress controller and monitoring, and no egress to non-public addresses.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use harmony_tenant::{
    ClusterFacts, PlatformPeer, PlatformSource, TENANT_LABEL, is_ipv4_mapped, non_public_networks,
};
use ipnet::IpNet;

use super::{Check, Context, Expectation, Status, Tenant};
use crate::declared::covering;
use crate::labels::matches_platform_labels;
use crate::netpol::{AddrRange, Conn, Endpoint, Network};
use crate::snapshot::ClusterSnapshot;

/// Public addresses standing for "the internet" (no cluster network contains them).
pub(crate) const INTERNET_SAMPLES: [&str; 3] = ["1.1.1.1", "8.8.8.8", "151.101.1.140"];

/// Paths between pods of different tenants, by (source namespace, destination namespace): the
/// first class pair found and its connections. Paths between the namespaces of one tenant (a
/// tenant with several) are not among them.
pub(crate) type TenantPaths = BTreeMap<(String, String), (usize, usize, Conn)>;

/// The paths between tenants: those no declaration covers, and those declared connections
/// cover (with the declaration's description).
#[derive(Default)]
pub(crate) struct CrossPaths {
    pub leaks: TenantPaths,
    pub declared: BTreeMap<(String, String), (usize, usize, Conn, String)>,
}

impl CrossPaths {
    /// The declaration covering every path from namespace `source` to `destination`: none when
    /// one of them is a leak, or no path is declared.
    pub(crate) fn declaration(&self, source: &str, destination: &str) -> Option<&str> {
        let key = (source.to_string(), destination.to_string());
        if self.leaks.contains_key(&key) {
            return None;
        }
        self.declared.get(&key).map(|(.., d)| d.as_str())
    }
}

pub(crate) fn cross_tenant_paths(ctx: &Context) -> CrossPaths {
    let classes = ctx.net.classes();
    let tenant = |c: usize| ctx.tenant_of(&classes[c].namespace).map(|t| &t.name);
    let mut out = CrossPaths::default();
    for a in (0..classes.len()).filter(|&a| tenant(a).is_some()) {
        for (b, c) in ctx.net.reachable_from(a) {
            let (na, nb) = (&classes[a].namespace, &classes[b].namespace);
            if tenant(b).is_none_or(|other| Some(other) == tenant(a)) {
                continue;
            }
            let key = (na.clone(), nb.clone());
            match covering(&ctx.config.facts.connections, &ctx.net, (a, b), &c) {
                Some(found) => {
                    out.declared
                        .entry(key)
                        .or_insert((a, b, c, found.describe()));
                }
                None => {
                    out.leaks.entry(key).or_insert((a, b, c));
                }
            }
        }
    }
    out
}

/// The declared connections of namespace `ns`, one line each: both ends, what is open, and the
/// declaration.
pub(crate) fn declared_lines(ctx: &Context, ns: &str, cross: &CrossPaths) -> Vec<String> {
    cross
        .declared
        .iter()
        .filter(|((a, b), _)| a == ns || b == ns)
        .map(|(_, (a, b, conn, declaration))| {
            format!(
                "{} → {}: {conn} ({declaration})",
                ctx.net.describe(Endpoint::Class(*a)),
                ctx.net.describe(Endpoint::Class(*b)),
            )
        })
        .collect()
}

/// The pod classes of the platform peers of the cluster facts.
pub(crate) struct Platform {
    dns: Vec<usize>,
    ingress: Vec<usize>,
    monitoring: Vec<usize>,
    /// The platform's namespaces that are not tenants': `kube-*`, `openshift-*`, and those of
    /// DNS, the ingress controller and monitoring.
    pub(crate) namespaces: Vec<String>,
    /// The pod classes of those namespaces.
    classes: Vec<usize>,
}

impl Platform {
    pub(crate) fn new(snapshot: &ClusterSnapshot, net: &Network, facts: &ClusterFacts) -> Self {
        let peers = [&facts.dns.peer, &facts.ingress, &facts.monitoring];
        let namespaces: Vec<String> = snapshot
            .namespaces
            .iter()
            .filter(|n| {
                let labels = n.metadata.labels.as_ref();
                let name = n.metadata.name.as_deref().unwrap_or_default();
                let tenant = labels.is_some_and(|l| l.contains_key(TENANT_LABEL));
                !tenant
                    && (["kube-", "openshift-"].iter().any(|p| name.starts_with(p))
                        || peers
                            .iter()
                            .any(|p| matches_platform_labels(&p.namespace_selector, labels)))
            })
            .filter_map(|n| n.metadata.name.clone())
            .collect();
        let classes = namespaces.iter().flat_map(|n| net.classes_in(n)).collect();
        Self {
            dns: platform_classes(snapshot, net, &facts.dns.peer),
            ingress: platform_classes(snapshot, net, &facts.ingress),
            monitoring: platform_classes(snapshot, net, &facts.monitoring),
            namespaces,
            classes,
        }
    }
}

/// The classes of pods that `peer` selects.
fn platform_classes(snapshot: &ClusterSnapshot, net: &Network, peer: &PlatformPeer) -> Vec<usize> {
    let namespaces: Vec<&str> = snapshot
        .namespaces
        .iter()
        .filter(|n| matches_platform_labels(&peer.namespace_selector, n.metadata.labels.as_ref()))
        .filter_map(|n| n.metadata.name.as_deref())
        .collect();
    let mut out: Vec<usize> = snapshot
        .pods
        .iter()
        .filter(|p| {
            namespaces.contains(&p.metadata.namespace.as_deref().unwrap_or_default())
                && matches_platform_labels(&peer.pod_selector, p.metadata.labels.as_ref())
        })
        .filter_map(|p| {
            net.class_of(
                p.metadata.namespace.as_deref()?,
                p.metadata.name.as_deref()?,
            )
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

pub(super) fn checks(
    ctx: &Context,
    t: &Tenant,
    expect: &Expectation,
    cross: &CrossPaths,
) -> Vec<Check> {
    let own: Vec<usize> = ctx.net.classes_in(&t.namespace).collect();
    vec![
        default_deny(ctx, &own),
        cross_tenant(ctx, t, cross),
        internet_paths(&ctx.net, &own).check(
            "HMT-NET-003",
            "Internet egress as configured",
            expect.internet_egress,
        ),
        dns(ctx, &own),
        platform_source(ctx, &own, expect, PlatformSource::Ingress),
        platform_source(ctx, &own, expect, PlatformSource::Monitoring),
        non_public(ctx, t, &own, expect),
        platform_egress(ctx, &own),
    ]
}

/// The cluster DNS ports, over UDP and TCP.
pub(crate) fn dns_ports(facts: &ClusterFacts) -> Conn {
    facts
        .dns
        .ports
        .iter()
        .flat_map(|&p| ["UDP", "TCP"].map(|proto| Conn::ports(proto, p, p)))
        .flatten()
        .fold(Conn::none(), |all, c| all.union(&c))
}

/// HMT-NET-008: tenant pods reach the platform's namespaces (`kube-*`, `openshift-*`, and those
/// of DNS, the ingress controller and monitoring) only on the DNS ports of the DNS pods.
fn platform_egress(ctx: &Context, own: &[usize]) -> Check {
    let facts = &ctx.config.facts;
    let dns_ports = dns_ports(facts);
    let mut failures = Vec::new();
    for &c in own {
        for &d in &ctx.platform.classes {
            let (src, dst) = (Endpoint::Class(c), Endpoint::Class(d));
            let mut conn = ctx.net.conn(src, dst);
            if ctx.platform.dns.contains(&d) {
                conn = conn.subtract(&dns_ports);
            }
            if !conn.is_empty() {
                failures.push(format!(
                    "{} → {}: {conn} beyond DNS ({})",
                    ctx.net.describe(src),
                    ctx.net.describe(dst),
                    ctx.net.explain(src, dst).evidence.join("; ")
                ));
            }
        }
    }
    let mut names: Vec<&str> = ctx.platform.namespaces.iter().map(String::as_str).collect();
    names.sort_unstable();
    Check::from_failures(
        "HMT-NET-008",
        "No egress to platform namespaces beyond DNS",
        failures,
        vec![format!(
            "no tenant pod reaches the pods of {} beyond DNS on {:?}",
            names.join(", "),
            facts.dns.ports
        )],
    )
}

/// The networks pods must not reach unless the tenant file grants them: every non-public block but
/// the documentation ones (they route nowhere) and the cluster's pod, service (the API server's
/// `kubernetes` service among them) and node networks, each with its name.
fn guarded_networks(facts: &ClusterFacts) -> Vec<(IpNet, String)> {
    let non_public = non_public_networks()
        .into_iter()
        .filter(|n| !n.is_documentation() && !is_ipv4_mapped(&n.net))
        .map(|n| (n.net, n.name.to_string()));
    let cluster = [
        ("pod network", &facts.pod_networks),
        (
            "service network, API server included",
            &facts.service_networks,
        ),
        ("node network", &facts.node_networks),
    ]
    .into_iter()
    .flat_map(|(name, nets)| nets.iter().map(move |n| (n.trunc(), name.to_string())));
    non_public.chain(cluster).collect()
}

/// HMT-NET-007: no egress to non-public or cluster addresses beyond what the tenant file grants,
/// judged exactly on the policies' ipBlocks; opt-ins (`allowPrivateEgressTo`) warn.
fn non_public(ctx: &Context, t: &Tenant, own: &[usize], expect: &Expectation) -> Check {
    let guarded = guarded_networks(&ctx.config.facts);
    let nets: Vec<IpNet> = guarded.iter().map(|(n, _)| *n).collect();
    let granted: Vec<IpNet> = expect.granted_egress.iter().map(|(n, _)| *n).collect();
    let names = |range: &AddrRange| {
        let names: BTreeSet<&str> = guarded
            .iter()
            .filter(|(n, _)| AddrRange::of(n).overlaps(range))
            .map(|(_, name)| name.as_str())
            .collect();
        names.into_iter().collect::<Vec<_>>().join("; ")
    };
    let mut failures = Vec::new();
    for &c in own {
        for (range, v) in ctx.net.reachable_addresses(c, &nets, &granted) {
            failures.push(format!(
                "{} → {range} ({}): {} ({}); not granted by the tenant file: remove the policy \
                 or grant it with `allowPrivateEgressTo`",
                ctx.net.describe(Endpoint::Class(c)),
                names(&range),
                v.conn,
                v.evidence.join("; ")
            ));
        }
    }
    let opt_ins: Vec<String> = expect
        .granted_egress
        .iter()
        .filter_map(|(net, reason)| {
            Some(format!(
                "tenant {} opts in to non-public {net} ({}): {}",
                t.name,
                names(&AddrRange::of(net)),
                reason.as_ref()?
            ))
        })
        .collect();
    let checked = format!(
        "no pod of {} reaches any of {} non-public or cluster networks beyond its grants",
        t.namespace,
        nets.len()
    );
    let mut check = Check::from_failures(
        "HMT-NET-007",
        "No egress to non-public addresses",
        failures,
        [opt_ins.clone(), vec![checked]].concat(),
    );
    if check.status == Status::Pass && !opt_ins.is_empty() {
        check.status = Status::Warn;
    }
    check
}

fn default_deny(ctx: &Context, own: &[usize]) -> Check {
    let mut failures = Vec::new();
    let mut evidence = Vec::new();
    for &c in own {
        for (ingress, dir) in [(true, "ingress"), (false, "egress")] {
            let by = ctx.net.isolating(c, ingress);
            let who = ctx.net.describe(Endpoint::Class(c));
            if by.is_empty() {
                failures.push(format!("{who}: no NetworkPolicy isolates its {dir}: add a policy with `podSelector: {{}}` and policyTypes [{}]", if ingress { "Ingress" } else { "Egress" }));
            } else {
                evidence.push(format!("{who}: {dir} isolated by {}", by.join(", ")));
            }
        }
    }
    Check::from_failures(
        "HMT-NET-001",
        "Default deny in both directions",
        failures,
        evidence,
    )
}

fn cross_tenant(ctx: &Context, t: &Tenant, cross: &CrossPaths) -> Check {
    let failures = cross
        .leaks
        .iter()
        .filter(|((a, b), _)| *a == t.namespace || *b == t.namespace)
        .map(|(_, (a, b, _))| {
            let v = ctx.net.explain(Endpoint::Class(*a), Endpoint::Class(*b));
            format!(
                "{} → {}: {} ({})",
                ctx.net.describe(Endpoint::Class(*a)),
                ctx.net.describe(Endpoint::Class(*b)),
                v.conn,
                v.evidence.join("; ")
            )
        })
        .collect();
    let others = ctx
        .tenants
        .iter()
        .map(|o| &o.name)
        .collect::<BTreeSet<_>>()
        .len()
        .saturating_sub(1);
    Check::from_failures(
        "HMT-NET-002",
        "No network path to or from another tenant",
        failures,
        [
            vec![format!(
                "no pod of {} reaches or is reached by the pods of {others} other tenants \
                 beyond its declared connections",
                t.namespace
            )],
            declared_lines(ctx, &t.namespace, cross)
                .into_iter()
                .map(|line| format!("declared connection {line}"))
                .collect(),
        ]
        .concat(),
    )
}

/// Paths of one kind between a tenant's pods and a peer, split by whether they carry some
/// connection; each line names both ends and what is allowed.
#[derive(Debug, Default)]
pub(crate) struct Paths {
    pub reached: Vec<String>,
    pub blocked: Vec<String>,
}

impl Paths {
    fn push(&mut self, open: bool, line: String) {
        if open {
            self.reached.push(line)
        } else {
            self.blocked.push(line)
        }
    }

    /// A check that the paths are open (`Some(true)`), closed (`Some(false)`) or, with no
    /// expectation, that passes and lists them.
    fn check(self, id: &'static str, title: &'static str, expect_open: Option<bool>) -> Check {
        match expect_open {
            Some(true) => Check::from_failures(id, title, self.blocked, self.reached),
            Some(false) => Check::from_failures(id, title, self.reached, self.blocked),
            None => Check {
                id,
                title,
                status: Status::Pass,
                evidence: [self.reached, self.blocked].concat(),
                every_pod: None,
            },
        }
    }
}

/// Egress from the classes `own` to the internet sample addresses, with the policies deciding.
pub(crate) fn internet_paths(net: &Network, own: &[usize]) -> Paths {
    let mut paths = Paths::default();
    for &c in own {
        for ip in INTERNET_SAMPLES {
            let addr: IpAddr = ip.parse().expect("valid sample address");
            let v = net.explain(Endpoint::Class(c), Endpoint::Ip(addr));
            let line = format!(
                "{} → {ip}: {} ({})",
                net.describe(Endpoint::Class(c)),
                v.conn,
                v.evidence.join("; ")
            );
            paths.push(!v.conn.is_empty(), line);
        }
    }
    paths
}

/// Whether each of the classes `own` reaches some cluster DNS pod on a DNS port over UDP.
pub(crate) fn dns_paths(ctx: &Context, own: &[usize]) -> Paths {
    let ports = &ctx.config.facts.dns.ports;
    let mut paths = Paths::default();
    for &c in own {
        let who = ctx.net.describe(Endpoint::Class(c));
        let ok = ctx.platform.dns.iter().find(|&&d| {
            let conn = ctx.net.conn(Endpoint::Class(c), Endpoint::Class(d));
            ports.iter().any(|&p| conn.allows("UDP", p))
        });
        match ok {
            Some(&d) => paths.reached.push(format!(
                "{who} → {}: {}",
                ctx.net.describe(Endpoint::Class(d)),
                ctx.net.conn(Endpoint::Class(c), Endpoint::Class(d))
            )),
            None => paths
                .blocked
                .push(format!("{who} cannot reach cluster DNS on UDP {ports:?}")),
        }
    }
    paths
}

fn dns(ctx: &Context, own: &[usize]) -> Check {
    let mut check = dns_paths(ctx, own).check("HMT-NET-004", "Cluster DNS reachable", Some(true));
    if check.status == Status::Fail {
        check.status = Status::Warn;
    }
    check
}

/// Ingress from the pods of `source` (the ingress controller or monitoring) to the classes `own`.
pub(crate) fn platform_paths(ctx: &Context, own: &[usize], source: PlatformSource) -> Paths {
    let sources = match source {
        PlatformSource::Ingress => &ctx.platform.ingress,
        PlatformSource::Monitoring => &ctx.platform.monitoring,
    };
    let mut paths = Paths::default();
    for &c in own {
        for &s in sources {
            let conn = ctx.net.conn(Endpoint::Class(s), Endpoint::Class(c));
            let line = format!(
                "{} → {}: {conn}",
                ctx.net.describe(Endpoint::Class(s)),
                ctx.net.describe(Endpoint::Class(c))
            );
            paths.push(!conn.is_empty(), line);
        }
    }
    paths
}

fn platform_source(
    ctx: &Context,
    own: &[usize],
    expect: &Expectation,
    source: PlatformSource,
) -> Check {
    let (id, title) = match source {
        PlatformSource::Ingress => (
            "HMT-NET-005",
            "Ingress controller reachability as configured",
        ),
        PlatformSource::Monitoring => ("HMT-NET-006", "Monitoring reachability as configured"),
    };
    let expect_open = expect.allow_from.as_ref().map(|a| a.contains(&source));
    platform_paths(ctx, own, source).check(id, title, expect_open)
}
