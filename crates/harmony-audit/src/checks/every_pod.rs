//! The network checks judged for every pod the tenants could create ([`Check::every_pod`]):
//! tenant pods' labels, named ports and IPs are free ([`Symbolic`]), platform pods are taken as
//! they are. Namespace labels are constants when guardrail `harmony-namespace-labels` holds them,
//! free (but for `kubernetes.io/metadata.name`) when it is missing.
//!
//! Each counterexample is instantiated as concrete pods in a copy of the snapshot and confirmed
//! by `explain`, whose evidence it carries. A counterexample to an expected-open path closes
//! every port (its `port` is then 0); one to HMT-NET-001 is a pod no NetworkPolicy isolates; one
//! to HMT-NET-003 has the internet address as its destination's namespace.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use harmony_guardrails::GuardrailId;
use harmony_tenant::connections::MatchedConnection;
use harmony_tenant::{PlatformPeer, PlatformSource};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{
    Check, Context, Counterexample, EveryPod, Expectation, INTERNET_SAMPLES, PodTemplate,
    TenantReport, guardrails,
};
use crate::declared::{between, declared_ports};
use crate::labels::matches_platform_labels;
use crate::netpol::{Conn, Effect, Endpoint, Instance, Network, Party, Reach, Symbolic, Witness};
use crate::snapshot::{ClusterSnapshot, Pod, PodSpec};

/// What a counterexample shows.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// A path the check forbids is open.
    Open,
    /// A path the check requires is closed on every port.
    Closed,
    /// A pod no NetworkPolicy isolates for ingress (`true`) or egress.
    Unisolated(bool),
}

/// A counterexample before confirmation.
struct Finding<'a> {
    report: usize,
    check: &'static str,
    src: Party<'a>,
    dst: Party<'a>,
    witness: Witness,
    kind: Kind,
}

/// Fills `every_pod` of the network checks of `reports`.
pub(super) fn annotate<'c>(ctx: &'c Context<'_>, reports: &mut [TenantReport]) {
    let (labels_free, namespace_labels) = namespace_labels(ctx);
    let tenant_ns: Vec<&str> = ctx.tenants.iter().map(|t| t.namespace.as_str()).collect();
    let free: BTreeSet<&str> = if labels_free {
        tenant_ns.iter().copied().collect()
    } else {
        BTreeSet::new()
    };
    let sym = Symbolic::new(ctx.snapshot, &ctx.config.facts.pod_networks, free);
    let owner = ctx
        .tenants
        .iter()
        .map(|t| (t.namespace.as_str(), t.name.as_str()))
        .collect();
    let cross = CrossTenant::new(&sym, &tenant_ns, owner);
    let platform = PlatformPods::new(ctx);
    let default = Expectation::default();
    let mut findings = Vec::new();
    let mut judged: Vec<(usize, &'static str)> = Vec::new();
    for (r, report) in reports.iter().enumerate() {
        let ns = ctx
            .tenant_of(&report.namespace)
            .map(|t| t.namespace.as_str());
        let Some(ns) = ns else { continue };
        let expect = ctx
            .config
            .expectations
            .get(&report.tenant)
            .unwrap_or(&default);
        let mut add = |check: &'static str, f: Found<'c>| {
            judged.push((r, check));
            if let Some((src, dst, witness, kind)) = f {
                findings.push(Finding {
                    report: r,
                    check,
                    src,
                    dst,
                    witness,
                    kind,
                });
            }
        };
        let free = Party::Free(ns);
        add("HMT-NET-001", unisolated(&sym, ns));
        add(
            "HMT-NET-002",
            cross.find(&sym, ns, &ctx.config.facts.connections),
        );
        if let Some(open) = expect.internet_egress {
            let ips = INTERNET_SAMPLES.map(|ip| Party::Addr(ip.parse().expect("sample address")));
            add("HMT-NET-003", expected(&sym, free, &ips, open, true));
        }
        for (id, source) in [
            ("HMT-NET-005", PlatformSource::Ingress),
            ("HMT-NET-006", PlatformSource::Monitoring),
        ] {
            if let Some(open) = expect.allow_from.as_ref().map(|a| a.contains(&source)) {
                let sources = match source {
                    PlatformSource::Ingress => &platform.ingress,
                    PlatformSource::Monitoring => &platform.monitoring,
                };
                let sources: Vec<Party> = sources.iter().map(|p| Party::Pod(p)).collect();
                add(id, expected(&sym, free, &sources, open, false));
            }
        }
        add("HMT-NET-008", platform.egress(&sym, &cross, ns));
    }
    let confirmed = confirm(ctx.snapshot, &findings);
    for (r, check) in judged {
        let Some(c) = reports[r].checks.iter_mut().find(|c| c.id == check) else {
            continue;
        };
        let counterexample = findings
            .iter()
            .zip(&confirmed)
            .find(|(f, _)| f.report == r && f.check == check)
            .map(|(_, c)| Box::new(c.clone()));
        set(c, counterexample, &namespace_labels);
    }
}

fn set(check: &mut Check, counterexample: Option<Box<Counterexample>>, namespace_labels: &str) {
    check.every_pod = Some(EveryPod {
        holds: counterexample.is_none(),
        namespace_labels: namespace_labels.into(),
        counterexample,
    });
}

/// Whether tenant namespaces' labels are free, and the sentence saying why.
fn namespace_labels(ctx: &Context) -> (bool, String) {
    let id = GuardrailId::NamespaceLabels;
    match guardrails::present(ctx, id) {
        Some(true) => (
            false,
            format!(
                "constants: guardrail {id} keeps tenants from changing their namespaces' labels"
            ),
        ),
        Some(false) => (
            true,
            format!(
                "free: guardrail {id} is missing, so tenants may relabel their namespaces (all but kubernetes.io/metadata.name)"
            ),
        ),
        None => (
            false,
            format!(
                "constants as given: the source holds no admission policies telling whether guardrail {id} is present"
            ),
        ),
    }
}

type Found<'a> = Option<(Party<'a>, Party<'a>, Witness, Kind)>;

/// HMT-NET-001: a pod of `ns` no NetworkPolicy isolates, ingress first.
fn unisolated<'a>(sym: &Symbolic<'a>, ns: &'a str) -> Found<'a> {
    let free = Party::Free(ns);
    [true, false].into_iter().find_map(|ingress| {
        let w = sym.unisolated(ns, ingress)?;
        Some((free, free, w, Kind::Unisolated(ingress)))
    })
}

/// A path between the tenant's pods and each of `peers` (as destinations when `outgoing`) that
/// is open though expected closed, or closed on every port though expected open.
fn expected<'a>(
    sym: &Symbolic<'a>,
    tenant: Party<'a>,
    peers: &[Party<'a>],
    open: bool,
    outgoing: bool,
) -> Found<'a> {
    peers.iter().find_map(|&peer| {
        let (src, dst) = if outgoing {
            (tenant, peer)
        } else {
            (peer, tenant)
        };
        if open {
            Some((src, dst, sym.closed(src, dst)?, Kind::Closed))
        } else {
            Some((src, dst, sym.open(src, dst, &Conn::none())?, Kind::Open))
        }
    })
}

/// Which tenants' pods each tenant's pods could reach and be reached by, indexed both ways so
/// that only candidate pairs are judged.
struct CrossTenant<'a> {
    /// The tenant of each tenant namespace: a tenant's namespaces may reach each other.
    owner: HashMap<&'a str, &'a str>,
    out: HashMap<&'a str, Reach>,
    into: HashMap<&'a str, Reach>,
    /// Tenants reachable from everywhere, and per namespace the tenants it may reach.
    open_in: (Vec<&'a str>, HashMap<String, Vec<&'a str>>),
    /// Tenants that may reach everywhere, and per namespace the tenants that may reach it.
    open_out: (Vec<&'a str>, HashMap<String, Vec<&'a str>>),
}

fn index<'a>(
    reach: &HashMap<&'a str, Reach>,
    tenants: &[&'a str],
) -> (Vec<&'a str>, HashMap<String, Vec<&'a str>>) {
    let mut all = Vec::new();
    let mut by_ns: HashMap<String, Vec<&str>> = HashMap::new();
    for &t in tenants {
        match &reach[t] {
            Reach::All => all.push(t),
            Reach::Some(set) => {
                for ns in set {
                    by_ns.entry(ns.clone()).or_default().push(t);
                }
            }
        }
    }
    (all, by_ns)
}

impl<'a> CrossTenant<'a> {
    fn new(sym: &Symbolic<'a>, tenants: &[&'a str], owner: HashMap<&'a str, &'a str>) -> Self {
        let out: HashMap<&str, Reach> = tenants.iter().map(|&t| (t, sym.reach(t, false))).collect();
        let into: HashMap<&str, Reach> = tenants.iter().map(|&t| (t, sym.reach(t, true))).collect();
        Self {
            owner,
            open_in: index(&into, tenants),
            open_out: index(&out, tenants),
            out,
            into,
        }
    }

    /// The tenants `ns` may reach (`outgoing`) or be reached by, whose own reach agrees.
    fn candidates(&self, ns: &str, outgoing: bool) -> Vec<&'a str> {
        let (mine, theirs, (all, by_ns)) = if outgoing {
            (&self.out, &self.into, &self.open_in)
        } else {
            (&self.into, &self.out, &self.open_out)
        };
        let mut out: Vec<&str> = match &mine[ns] {
            Reach::All => all
                .iter()
                .chain(by_ns.get(ns).into_iter().flatten())
                .copied()
                .collect(),
            Reach::Some(set) => set
                .iter()
                .filter_map(|n| theirs.get_key_value(n.as_str()))
                .filter(|(_, r)| r.contains(ns))
                .map(|(n, _)| *n)
                .collect(),
        };
        out.retain(|n| self.owner.get(n) != self.owner.get(ns));
        out.sort_unstable();
        out.dedup();
        out
    }

    /// HMT-NET-002: a path from or to another tenant's pods, beyond the ports of a connection
    /// both tenants declare (which of the callee's pods those ports reach is judged on today's
    /// pods, by [`super::network`]).
    fn find(
        &self,
        sym: &Symbolic<'a>,
        ns: &'a str,
        connections: &[MatchedConnection],
    ) -> Found<'a> {
        for outgoing in [true, false] {
            for other in self.candidates(ns, outgoing) {
                let (src, dst) = if outgoing { (ns, other) } else { (other, ns) };
                let declared = match (self.owner.get(src), self.owner.get(dst)) {
                    (Some(caller), Some(callee)) => between(connections, caller, callee),
                    _ => None,
                };
                let skip = declared.map_or_else(Conn::none, declared_ports);
                let (src, dst) = (Party::Free(src), Party::Free(dst));
                if let Some(w) = sym.open(src, dst, &skip) {
                    return Some((src, dst, w, Kind::Open));
                }
            }
        }
        None
    }
}

/// Platform pods (one per equivalence class): DNS, the ingress controller, monitoring and every
/// pod of the platform's namespaces.
struct PlatformPods<'s> {
    dns: Vec<&'s Pod>,
    ingress: Vec<&'s Pod>,
    monitoring: Vec<&'s Pod>,
    platform: Vec<&'s Pod>,
    dns_ports: Conn,
}

impl<'s> PlatformPods<'s> {
    fn new(ctx: &Context<'s>) -> Self {
        let facts = &ctx.config.facts;
        let s = ctx.snapshot;
        let platform_ns: BTreeSet<&str> =
            ctx.platform.namespaces.iter().map(String::as_str).collect();
        let dns_ports = super::network::dns_ports(facts);
        Self {
            dns: peer_pods(s, &ctx.net, &facts.dns.peer),
            ingress: peer_pods(s, &ctx.net, &facts.ingress),
            monitoring: peer_pods(s, &ctx.net, &facts.monitoring),
            platform: distinct(
                &ctx.net,
                s.pods.iter().filter(|p| {
                    platform_ns.contains(p.metadata.namespace.as_deref().unwrap_or_default())
                }),
            ),
            dns_ports,
        }
    }

    /// HMT-NET-008: a path from the tenant's pods to a platform pod beyond DNS.
    fn egress<'a>(&self, sym: &Symbolic<'a>, cross: &CrossTenant<'a>, ns: &'a str) -> Found<'a>
    where
        's: 'a,
    {
        let reach = &cross.out[ns];
        self.platform
            .iter()
            .filter(|p| reach.contains(p.metadata.namespace.as_deref().unwrap_or_default()))
            .find_map(|&pod| {
                let skip = if self.dns.iter().any(|d| std::ptr::eq(*d, pod)) {
                    self.dns_ports.clone()
                } else {
                    Conn::none()
                };
                let (src, dst) = (Party::Free(ns), Party::Pod(pod));
                Some((src, dst, sym.open(src, dst, &skip)?, Kind::Open))
            })
    }
}

/// One pod per equivalence class among `pods`.
fn distinct<'s>(net: &Network, pods: impl Iterator<Item = &'s Pod>) -> Vec<&'s Pod> {
    let mut seen = BTreeSet::new();
    pods.filter(|p| {
        let (ns, name) = (
            p.metadata.namespace.as_deref().unwrap_or_default(),
            p.metadata.name.as_deref().unwrap_or_default(),
        );
        net.class_of(ns, name).is_some_and(|c| seen.insert(c))
    })
    .collect()
}

/// The pods `peer` selects, one per class.
fn peer_pods<'s>(s: &'s ClusterSnapshot, net: &Network, peer: &PlatformPeer) -> Vec<&'s Pod> {
    let namespaces: BTreeSet<&str> = s
        .namespaces
        .iter()
        .filter(|n| matches_platform_labels(&peer.namespace_selector, n.metadata.labels.as_ref()))
        .filter_map(|n| n.metadata.name.as_deref())
        .collect();
    distinct(
        net,
        s.pods.iter().filter(|p| {
            namespaces.contains(p.metadata.namespace.as_deref().unwrap_or_default())
                && matches_platform_labels(&peer.pod_selector, p.metadata.labels.as_ref())
        }),
    )
}

/// A concrete pod for a free end.
fn pod(ns: &str, name: &str, inst: &Instance) -> Pod {
    let mut named_ports = inst.named_ports.clone();
    named_ports.sort();
    Pod {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some(ns.into()),
            labels: Some(inst.labels.clone()),
            ..Default::default()
        },
        spec: Some(PodSpec {
            named_ports,
            ..Default::default()
        }),
        ips: inst.ip.map(|ip| ip.to_canonical()).into_iter().collect(),
    }
}

/// The pod template and, for a free end, the pod instantiating it.
fn template(party: Party, inst: Option<&Instance>, name: &str) -> (PodTemplate, Option<Pod>) {
    match party {
        Party::Free(ns) => {
            let inst = inst.cloned().unwrap_or_default();
            let t = PodTemplate {
                namespace: ns.into(),
                labels: inst.labels.clone(),
                named_ports: inst.named_ports.clone(),
            };
            (t, Some(pod(ns, name, &inst)))
        }
        Party::Pod(p) => {
            let t = PodTemplate {
                namespace: p.metadata.namespace.clone().unwrap_or_default(),
                labels: p.metadata.labels.clone().unwrap_or_default(),
                named_ports: p.named_ports().to_vec(),
            };
            (t, None)
        }
        Party::Addr(ip) => (
            PodTemplate {
                namespace: ip.to_string(),
                labels: BTreeMap::new(),
                named_ports: vec![],
            },
            None,
        ),
    }
}

/// An endpoint of `net` for a party: the instantiated pod `name` for a free end.
fn endpoint(net: &Network, party: Party, name: &str) -> Option<Endpoint> {
    match party {
        Party::Free(ns) => net.class_of(ns, name).map(Endpoint::Class),
        Party::Pod(p) => net
            .class_of(
                p.metadata.namespace.as_deref()?,
                p.metadata.name.as_deref()?,
            )
            .map(Endpoint::Class),
        Party::Addr(ip) => Some(Endpoint::Ip(ip)),
    }
}

/// An address outside every network, to judge a lone pod's isolation.
const OUTSIDE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));

/// Instantiates every finding as concrete pods in a copy of `snapshot` (one copy per finding
/// that relabels namespaces, one for the rest) and confirms it with `explain`.
fn confirm(snapshot: &ClusterSnapshot, findings: &[Finding]) -> Vec<Counterexample> {
    let mut out: Vec<Option<Counterexample>> = vec![None; findings.len()];
    let (relabel, plain): (Vec<usize>, Vec<usize>) =
        (0..findings.len()).partition(|&i| !findings[i].witness.namespaces.is_empty());
    let groups = relabel
        .into_iter()
        .map(|i| vec![i])
        .chain((!plain.is_empty()).then_some(plain));
    for group in groups {
        let mut copy = snapshot.clone();
        let mut made = Vec::new();
        for &i in &group {
            let f = &findings[i];
            for (ns, labels) in &f.witness.namespaces {
                if let Some(n) = copy
                    .namespaces
                    .iter_mut()
                    .find(|n| n.metadata.name.as_deref() == Some(ns))
                {
                    n.metadata.labels = Some(labels.clone());
                }
            }
            let names = [format!("every-pod-{i}-src"), format!("every-pod-{i}-dst")];
            let (src, src_pod) = template(f.src, f.witness.src.as_ref(), &names[0]);
            let dst_inst = match f.kind {
                Kind::Unisolated(_) => f.witness.src.as_ref().or(f.witness.dst.as_ref()),
                _ => f.witness.dst.as_ref(),
            };
            let (dst, dst_pod) = template(f.dst, dst_inst, &names[1]);
            copy.pods.extend(src_pod.into_iter().chain(dst_pod));
            made.push((i, src, dst, names));
        }
        let net = Network::new(&copy);
        for (i, src, dst, names) in made {
            out[i] = Some(confirmed(&net, &findings[i], src, dst, &names));
        }
    }
    out.into_iter()
        .map(|c| c.expect("every finding confirmed"))
        .collect()
}

fn confirmed(
    net: &Network,
    f: &Finding,
    source: PodTemplate,
    destination: PodTemplate,
    names: &[String; 2],
) -> Counterexample {
    let (mut src, mut dst) = (
        endpoint(net, f.src, &names[0]),
        endpoint(net, f.dst, &names[1]),
    );
    if let Kind::Unisolated(ingress) = f.kind {
        (src, dst) = if ingress {
            (Some(Endpoint::Ip(OUTSIDE)), dst)
        } else {
            (endpoint(net, f.src, &names[0]), Some(Endpoint::Ip(OUTSIDE)))
        };
    }
    let (protocol, port) = f.witness.port.unwrap_or(("TCP", 0));
    let mut evidence: Vec<String> = f
        .witness
        .namespaces
        .iter()
        .map(|(ns, l)| format!("namespace {ns} relabelled {l:?}"))
        .collect();
    for (who, inst) in [("source", &f.witness.src), ("destination", &f.witness.dst)] {
        if let Some(ip) = inst.as_ref().and_then(|i| i.ip) {
            evidence.push(format!(
                "the {who} pod's IP {ip} is free within the pod network, where an ipBlock may select it"
            ));
        }
    }
    let (ok, lines) = match (src, dst) {
        (Some(s), Some(d)) => {
            let v = net.explain(s, d);
            let ok = match f.kind {
                Kind::Open => v.conn.allows(protocol, port),
                Kind::Closed => v.conn.by_protocol().all(|(_, r)| r.is_empty()),
                Kind::Unisolated(ingress) => v.steps.iter().any(|s| {
                    s.effect == Effect::NotIsolated
                        && s.direction == if ingress { "ingress" } else { "egress" }
                }),
            };
            (ok, v.evidence)
        }
        _ => (false, vec![]),
    };
    debug_assert!(
        ok,
        "explain disagrees with the every-pod counterexample of {}: {lines:?}",
        f.check
    );
    if !ok {
        evidence
            .push("explain does not confirm this counterexample (a bug: please report it)".into());
    }
    evidence.extend(lines);
    Counterexample {
        source,
        destination,
        protocol: protocol.into(),
        port,
        evidence,
    }
}
