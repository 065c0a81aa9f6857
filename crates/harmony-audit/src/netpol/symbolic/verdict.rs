//! Whether a path is open on a port: the admin tier's first matching rule, then the
//! NetworkPolicies or, for a pod none isolates, the baseline tier — in three-valued logic.

use k8s_openapi::api::networking::v1::{NetworkPolicyPeer, NetworkPolicyPort};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::Symbolic;
use super::ends::{End, EndPod};
use super::points::{Target, block_of, in_block, in_range, parse_net};
use super::policy::{Dir, Np};
use super::search::Eval;
use super::tri::{Tri, any};
use crate::snapshot::{AdminPeer, AdminPort, AdminRule, AdminSubject, RuleAction};

/// A direction of a path being judged.
struct Side<'s, 'a> {
    dir: Dir,
    subject: &'s End<'a>,
    peer: &'s End<'a>,
    dst: &'s End<'a>,
    t: Target,
}

impl<'a> Symbolic<'a> {
    /// Whether `src` may open a connection to `dst` on `t`: egress allowed and ingress allowed.
    pub(super) fn open_at(
        &self,
        ev: &Eval<'_, 'a>,
        src: &End<'a>,
        dst: &End<'a>,
        t: Target,
    ) -> Tri {
        let side = |dir, subject: &End<'a>, peer: &End<'a>| match subject.pod {
            EndPod::Addr(_) => Tri::T,
            _ => {
                let s = Side {
                    dir,
                    subject,
                    peer,
                    dst,
                    t,
                };
                let tier = self.admin_in(subject.ns);
                self.admin_chain(ev, &s, &tier, 0, 0)
            }
        };
        side(Dir::Egress, src, dst).and(|| side(Dir::Ingress, dst, src))
    }

    /// The admin tier from rule `r` of the `i`-th applicable policy on: its first matching rule
    /// decides; past the last, the NetworkPolicies.
    fn admin_chain(
        &self,
        ev: &Eval<'_, 'a>,
        s: &Side<'_, 'a>,
        tier: &[usize],
        i: usize,
        r: usize,
    ) -> Tri {
        let Some(&p) = tier.get(i) else {
            return self.np_tier(ev, s);
        };
        let policy = &self.admin[p].0;
        let Some(rule) = policy.rules(s.dir).get(r) else {
            return self.admin_chain(ev, s, tier, i + 1, 0);
        };
        let cond = self.rule_applies(ev, s, policy.subject, rule);
        cond.ite(
            || match rule.action {
                RuleAction::Allow => Tri::T,
                RuleAction::Deny => Tri::F,
                RuleAction::Pass => self.np_tier(ev, s),
            },
            || self.admin_chain(ev, s, tier, i, r + 1),
        )
    }

    fn rule_applies(
        &self,
        ev: &Eval<'_, 'a>,
        s: &Side<'_, 'a>,
        subject: &'a AdminSubject,
        rule: &'a AdminRule,
    ) -> Tri {
        let peers = if s.dir == Dir::Ingress {
            &rule.from
        } else {
            &rule.to
        };
        self.subject(ev, subject, s.subject)
            .and(|| any(peers.iter().flatten(), |p| self.admin_peer(ev, p, s.peer)))
            .and(|| self.admin_ports(ev, rule.ports.as_deref(), s.dst, s.t))
    }

    /// The NetworkPolicies isolating the subject decide; when none does, the baseline tier.
    fn np_tier(&self, ev: &Eval<'_, 'a>, s: &Side<'_, 'a>) -> Tri {
        let nps: Vec<&Np<'a>> = self
            .nps_in(s.subject.ns)
            .iter()
            .filter(|p| p.rules(s.dir).is_some())
            .collect();
        let isolated = any(&nps, |p| ev.pod_selector(p.selector, s.subject));
        isolated.ite(
            || {
                any(&nps, |p| {
                    ev.pod_selector(p.selector, s.subject).and(|| {
                        any(p.rules(s.dir).into_iter().flatten(), |&(peers, ports)| {
                            let peer = match peers.filter(|p| !p.is_empty()) {
                                None => Tri::T,
                                Some(ps) => any(ps, |p| self.np_peer(ev, p, s.subject.ns, s.peer)),
                            };
                            peer.and(|| self.np_ports(ev, ports, s.dst, s.t))
                        })
                    })
                })
            },
            || self.baseline_chain(ev, s, &self.baseline_in(s.subject.ns), 0, 0),
        )
    }

    fn baseline_chain(
        &self,
        ev: &Eval<'_, 'a>,
        s: &Side<'_, 'a>,
        tier: &[usize],
        i: usize,
        r: usize,
    ) -> Tri {
        let Some(&p) = tier.get(i) else {
            return Tri::T;
        };
        let policy = &self.baseline[p];
        let Some(rule) = policy.rules(s.dir).get(r) else {
            return self.baseline_chain(ev, s, tier, i + 1, 0);
        };
        self.rule_applies(ev, s, policy.subject, rule).ite(
            || Tri::of(rule.action != RuleAction::Deny),
            || self.baseline_chain(ev, s, tier, i, r + 1),
        )
    }

    /// Whether admin subject `s` holds `e`.
    fn subject(&self, ev: &Eval<'_, 'a>, s: &'a AdminSubject, e: &End<'a>) -> Tri {
        match (&s.namespaces, &s.pods) {
            (Some(sel), _) => ev.ns_selector(sel, e),
            (None, Some(p)) => ev
                .ns_selector(&p.namespace_selector, e)
                .and(|| ev.pod_selector(&p.pod_selector, e)),
            (None, None) => Tri::F,
        }
    }

    /// Whether admin peer `p` holds `e`.
    fn admin_peer(&self, ev: &Eval<'_, 'a>, p: &'a AdminPeer, e: &End<'a>) -> Tri {
        let pods = match (&p.namespaces, &p.pods) {
            (Some(sel), _) => ev.ns_selector(sel, e),
            (None, Some(pp)) => ev
                .ns_selector(&pp.namespace_selector, e)
                .and(|| ev.pod_selector(&pp.pod_selector, e)),
            (None, None) => Tri::F,
        };
        pods.or(|| match e.pod {
            // Admin networks stand for entities outside the cluster: they select no pod.
            EndPod::Addr(ip) => Tri::of(
                p.networks
                    .iter()
                    .flatten()
                    .filter_map(|n| parse_net(n))
                    .any(|n| in_block(&n, &[], ip)),
            ),
            _ => Tri::F,
        })
    }

    /// Whether admin ports `ports` (`None`: all) hold `t` on `dst`.
    fn admin_ports(
        &self,
        ev: &Eval<'_, 'a>,
        ports: Option<&'a [AdminPort]>,
        dst: &End<'a>,
        t: Target,
    ) -> Tri {
        let Some(ports) = ports else {
            return Tri::T;
        };
        let proto = |p: &Option<String>| p.clone().unwrap_or_else(|| "TCP".into());
        any(ports, |p| {
            match (&p.port_number, &p.named_port, &p.port_range) {
                (Some(n), _, _) => Tri::of(in_range(t, &proto(&n.protocol), n.port, n.port)),
                (_, Some(name), _) => ev.named(name, "TCP", dst, t),
                (_, _, Some(r)) => Tri::of(in_range(t, &proto(&r.protocol), r.start, r.end)),
                _ => Tri::F,
            }
        })
    }

    /// Whether peer `p` of a NetworkPolicy of namespace `pns` holds `e`.
    fn np_peer(&self, ev: &Eval<'_, 'a>, p: &'a NetworkPolicyPeer, pns: &str, e: &End<'a>) -> Tri {
        if p.ip_block.is_some() {
            return match block_of(p) {
                Some((cidr, except)) => ev.block(&cidr, &except, e),
                None => Tri::F,
            };
        }
        if matches!(e.pod, EndPod::Addr(_))
            || (p.namespace_selector.is_none() && p.pod_selector.is_none())
        {
            return Tri::F;
        }
        let ns = match &p.namespace_selector {
            Some(sel) => ev.ns_selector(sel, e),
            None => Tri::of(e.ns == pns),
        };
        ns.and(|| match &p.pod_selector {
            Some(sel) => ev.pod_selector(sel, e),
            None => Tri::T,
        })
    }

    /// Whether NetworkPolicy ports `ports` (`None` or empty: all) hold `t` on `dst`.
    fn np_ports(
        &self,
        ev: &Eval<'_, 'a>,
        ports: Option<&'a [NetworkPolicyPort]>,
        dst: &End<'a>,
        t: Target,
    ) -> Tri {
        let Some(ports) = ports.filter(|p| !p.is_empty()) else {
            return Tri::T;
        };
        any(ports, |p| {
            let proto = p.protocol.as_deref().unwrap_or("TCP");
            match &p.port {
                None => Tri::of(proto == t.0),
                Some(IntOrString::Int(n)) => {
                    Tri::of(in_range(t, proto, *n, p.end_port.unwrap_or(*n)))
                }
                Some(IntOrString::String(name)) => ev.named(name, proto, dst, t),
            }
        })
    }
}
