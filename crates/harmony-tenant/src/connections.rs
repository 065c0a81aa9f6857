//! Declared cross-tenant connections (`spec.connections`): a tenant `calls` another tenant's
//! pods on given ports, the other `accepts` it there. Only a pair declared on both sides, with
//! the same pod selector and ports, is rendered; a one-sided declaration is not an error, the
//! plan says which side is missing.

use std::collections::{BTreeMap, BTreeSet};

use harmony::Problem;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::names::is_dns_label;
use crate::score::TenantScore;
use crate::validate::{CrossTenantProblem, MAX_TENANT_NAME};

/// The connections a tenant declares, each side of a pair in its own tenant's file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConnectionsConfig {
    /// Other tenants' pods this tenant's pods may call.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<Connection>,
    /// Other tenants whose pods may call this tenant's pods.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accepts: Vec<Connection>,
}

impl ConnectionsConfig {
    /// Whether no connection is declared.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty() && self.accepts.is_empty()
    }
}

/// One side of a connection: the other tenant, the callee's pods and the ports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Connection {
    /// The other tenant's id.
    pub tenant: String,
    /// The callee's pods (in `calls`, the other tenant's; in `accepts`, this tenant's).
    pub pod_selector: PodSelector,
    /// The ports called, at least one.
    pub ports: Vec<ConnectionPort>,
}

impl Connection {
    /// `tenant`'s side of a connection to the pods labelled `app: <app>`, on TCP `ports`.
    pub fn tcp(tenant: &str, app: &str, ports: &[u16]) -> Self {
        Self {
            tenant: tenant.into(),
            pod_selector: PodSelector {
                match_labels: BTreeMap::from([("app".into(), app.into())]),
            },
            ports: ports
                .iter()
                .map(|&port| ConnectionPort {
                    port,
                    protocol: Protocol::TCP,
                })
                .collect(),
        }
    }
}

impl TenantScore {
    /// This tenant with a `spec.connections.calls` entry.
    pub fn calls(mut self, connection: Connection) -> Self {
        self.connections.calls.push(connection);
        self
    }

    /// This tenant with a `spec.connections.accepts` entry.
    pub fn accepts(mut self, connection: Connection) -> Self {
        self.connections.accepts.push(connection);
        self
    }
}

/// Pods with all these labels.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PodSelector {
    /// Label name to value, such as `app: api`; at least one.
    pub match_labels: BTreeMap<String, String>,
}

/// A port and its protocol.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct ConnectionPort {
    /// The port number, 1–65535.
    pub port: u16,
    /// `TCP` (the default), `UDP` or `SCTP`.
    #[serde(default)]
    pub protocol: Protocol,
}

/// A transport protocol, as NetworkPolicies name it.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum Protocol {
    /// TCP.
    #[default]
    TCP,
    /// UDP.
    UDP,
    /// SCTP.
    SCTP,
}

impl Protocol {
    /// The name NetworkPolicies use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TCP => "TCP",
            Self::UDP => "UDP",
            Self::SCTP => "SCTP",
        }
    }
}

/// A connection declared on both sides: `caller`'s pods may reach `callee`'s pods that
/// `pod_selector` selects, on `ports` (sorted, without repeats).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MatchedConnection {
    /// The calling tenant.
    pub caller: String,
    /// The called tenant.
    pub callee: String,
    /// The callee's pods.
    pub pod_selector: PodSelector,
    /// The ports.
    pub ports: Vec<ConnectionPort>,
    /// The index of the caller's `spec.connections.calls` entry.
    pub call: usize,
    /// The index of the callee's `spec.connections.accepts` entry.
    pub accept: usize,
}

impl MatchedConnection {
    /// Whether a pod with `labels` is one of the called pods.
    pub fn selects(&self, labels: &BTreeMap<String, String>) -> bool {
        self.pod_selector
            .match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
    }

    /// Both declarations and what they open, such as `acme spec.connections.calls[0] and
    /// globex spec.connections.accepts[0]: pods app=api of globex on TCP 8080`.
    pub fn describe(&self) -> String {
        let pods: Vec<String> = self
            .pod_selector
            .match_labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let ports: Vec<String> = self
            .ports
            .iter()
            .map(|p| format!("{} {}", p.protocol.as_str(), p.port))
            .collect();
        format!(
            "declared by {} spec.connections.calls[{}] and {} spec.connections.accepts[{}]: \
             {} -> pods {} of {} on {}",
            self.caller,
            self.call,
            self.callee,
            self.accept,
            self.caller,
            pods.join(","),
            self.callee,
            ports.join(", ")
        )
    }

    /// The NetworkPolicy in the caller's namespaces.
    pub fn egress_policy_name(&self) -> String {
        format!("connection-to-{}", self.callee)
    }

    /// The NetworkPolicy in the callee's namespaces.
    pub fn ingress_policy_name(&self) -> String {
        format!("connection-from-{}", self.caller)
    }
}

/// Both directions: the field name and the role this tenant plays.
const SIDES: [(&str, Side); 2] = [("calls", Side::Caller), ("accepts", Side::Callee)];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Caller,
    Callee,
}

fn entries(score: &TenantScore, side: Side) -> &[Connection] {
    match side {
        Side::Caller => &score.connections.calls,
        Side::Callee => &score.connections.accepts,
    }
}

/// The ports of `connection`, sorted, without repeats: the form both sides are compared in.
fn port_set(connection: &Connection) -> Vec<ConnectionPort> {
    let ports: BTreeSet<ConnectionPort> = connection.ports.iter().copied().collect();
    ports.into_iter().collect()
}

/// The problems of one tenant's connections: names, selectors, ports, itself, repeats.
pub(crate) fn validate(score: &TenantScore, problems: &mut Vec<Problem>) {
    for (field, side) in SIDES {
        let mut seen = BTreeSet::new();
        for (i, connection) in entries(score, side).iter().enumerate() {
            let path = format!("spec.connections.{field}[{i}]");
            let tenant = &connection.tenant;
            if !is_dns_label(tenant, MAX_TENANT_NAME) {
                problems.push(Problem::new(
                    format!("{path}.tenant"),
                    format!(
                        "`{tenant}` is not a tenant id: write the other tenant's metadata.name"
                    ),
                ));
            } else if tenant == score.name() {
                problems.push(Problem::new(
                    format!("{path}.tenant"),
                    format!(
                        "tenant `{tenant}` declares a connection to itself: its namespaces \
                         already reach each other; remove this entry"
                    ),
                ));
            } else if !seen.insert(tenant) {
                problems.push(Problem::new(
                    format!("{path}.tenant"),
                    format!(
                        "tenant `{tenant}` is listed twice in spec.connections.{field}: one \
                         entry per tenant; merge the two"
                    ),
                ));
            }
            if connection.pod_selector.match_labels.is_empty() {
                problems.push(Problem::new(
                    format!("{path}.podSelector.matchLabels"),
                    "no label given: name the called pods with at least one label, such as \
                     `app: api`",
                ));
            }
            for (key, value) in &connection.pod_selector.match_labels {
                if !label_key(key) || !label_value(value) {
                    problems.push(Problem::new(
                        format!("{path}.podSelector.matchLabels"),
                        format!(
                            "`{key}: {value}` is not a label: a key is an optional DNS \
                             subdomain and `/` then 1–63 letters, digits, `-`, `_`, `.`; a value \
                             is at most 63 of those"
                        ),
                    ));
                }
            }
            if connection.ports.is_empty() {
                problems.push(Problem::new(
                    format!("{path}.ports"),
                    "no port given: list at least one, such as `{port: 8080, protocol: TCP}`",
                ));
            }
            for (p, port) in connection.ports.iter().enumerate() {
                if port.port == 0 {
                    problems.push(Problem::new(
                        format!("{path}.ports[{p}].port"),
                        "port 0 is not a port: use 1–65535",
                    ));
                }
            }
        }
    }
}

/// A label name part or value character run: 1–63 (0–63 for a value) alphanumerics, `-`, `_`,
/// `.`, starting and ending with an alphanumeric.
fn label_value(s: &str) -> bool {
    let edge = |c: char| c.is_ascii_alphanumeric();
    s.is_empty()
        || (s.len() <= 63
            && s.chars().all(|c| edge(c) || "-_.".contains(c))
            && s.starts_with(edge)
            && s.ends_with(edge))
}

/// A label key: `[prefix/]name`, the prefix a DNS subdomain.
fn label_key(s: &str) -> bool {
    let (prefix, name) = s.rsplit_once('/').map_or((None, s), |(p, n)| (Some(p), n));
    !name.is_empty() && label_value(name) && prefix.is_none_or(crate::names::is_dns_subdomain)
}

/// A connection naming a tenant that is not among `scores`: refused where it is written.
pub(crate) fn unknown_tenants(scores: &[&TenantScore]) -> Vec<CrossTenantProblem> {
    let known: BTreeSet<&str> = scores.iter().map(|s| s.name()).collect();
    let mut problems = Vec::new();
    for (i, score) in scores.iter().enumerate() {
        for (field, side) in SIDES {
            for (n, connection) in entries(score, side).iter().enumerate() {
                let tenant = connection.tenant.as_str();
                if known.contains(tenant)
                    || tenant == score.name()
                    || !is_dns_label(tenant, MAX_TENANT_NAME)
                {
                    continue;
                }
                problems.push(CrossTenantProblem {
                    tenant: i,
                    problem: Problem::new(
                        format!("spec.connections.{field}[{n}].tenant"),
                        format!(
                            "tenant `{tenant}` is not among the tenants given: pass its tenant \
                             file too (both sides of a connection are read together), or \
                             correct the id"
                        ),
                    ),
                    other: None,
                });
            }
        }
    }
    problems
}

/// Every connection both sides declare alike, sorted: the callers' `calls` entries matched by
/// the callees' `accepts` entries (same tenants, pod selector and ports).
pub fn matched_connections<'a>(
    scores: impl IntoIterator<Item = &'a TenantScore> + Clone,
) -> Vec<MatchedConnection> {
    type Key = (String, String, PodSelector, Vec<ConnectionPort>);
    let key = |caller: &str, callee: &str, c: &Connection| -> Key {
        (
            caller.into(),
            callee.into(),
            c.pod_selector.clone(),
            port_set(c),
        )
    };
    let mut accepted: BTreeMap<Key, usize> = BTreeMap::new();
    for callee in scores.clone() {
        for (i, c) in callee.connections.accepts.iter().enumerate() {
            accepted.insert(key(&c.tenant, callee.name(), c), i);
        }
    }
    let mut matched = Vec::new();
    for caller in scores {
        for (call, c) in caller.connections.calls.iter().enumerate() {
            let found = key(caller.name(), &c.tenant, c);
            let Some(&accept) = accepted.get(&found) else {
                continue;
            };
            let (caller, callee, pod_selector, ports) = found;
            matched.push(MatchedConnection {
                caller,
                callee,
                pod_selector,
                ports,
                call,
                accept,
            });
        }
    }
    matched.sort();
    matched.dedup();
    matched
}

/// Why each of `score`'s declarations is not rendered: those `matched` lacks, naming the side
/// that is missing.
pub fn unmatched(score: &TenantScore, matched: &[MatchedConnection]) -> Vec<String> {
    let mut notes = Vec::new();
    for (field, side) in SIDES {
        for (i, c) in entries(score, side).iter().enumerate() {
            let (caller, callee, missing) = match side {
                Side::Caller => (score.name(), c.tenant.as_str(), "accepts"),
                Side::Callee => (c.tenant.as_str(), score.name(), "calls"),
            };
            let found = matched.iter().any(|m| {
                m.caller == caller
                    && m.callee == callee
                    && m.pod_selector == c.pod_selector
                    && m.ports == port_set(c)
            });
            if !found {
                notes.push(format!(
                    "connection spec.connections.{field}[{i}] ({caller} -> {callee}) not \
                     rendered: tenant `{}` declares no `{missing}` entry for `{}` with the \
                     same podSelector and ports",
                    c.tenant,
                    score.name()
                ));
            }
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::{cross_tenant_conflicts, cross_tenant_problems};

    fn connection(tenant: &str, port: u16) -> Connection {
        Connection::tcp(tenant, "api", &[port])
    }

    fn calling(name: &str, callee: &str, port: u16) -> TenantScore {
        TenantScore::new(name).calls(connection(callee, port))
    }

    fn accepting(name: &str, caller: &str, port: u16) -> TenantScore {
        TenantScore::new(name).accepts(connection(caller, port))
    }

    fn problems(score: &TenantScore) -> Vec<String> {
        let mut found = Vec::new();
        validate(score, &mut found);
        found
            .iter()
            .map(|p| format!("{}: {}", p.path, p.message))
            .collect()
    }

    #[test]
    fn two_sided_declarations_match_and_one_sided_ones_are_noted() {
        let acme = calling("acme", "globex", 8080);
        let globex = accepting("globex", "acme", 8080);
        let matched = matched_connections([&acme, &globex]);
        assert_eq!(matched.len(), 1);
        assert_eq!(matched[0].egress_policy_name(), "connection-to-globex");
        assert_eq!(matched[0].ingress_policy_name(), "connection-from-acme");
        assert_eq!(unmatched(&acme, &matched), Vec::<String>::new());
        assert_eq!(
            matched[0].describe(),
            "declared by acme spec.connections.calls[0] and globex \
             spec.connections.accepts[0]: acme -> pods app=api of globex on TCP 8080"
        );
        assert!(matched[0].selects(&BTreeMap::from([
            ("app".into(), "api".into()),
            ("tier".into(), "web".into())
        ])));
        assert!(!matched[0].selects(&BTreeMap::from([("app".into(), "web".into())])));

        let other_port = accepting("globex", "acme", 9090);
        let none = matched_connections([&acme, &other_port]);
        assert_eq!(none, vec![]);
        assert_eq!(
            unmatched(&acme, &none),
            [
                "connection spec.connections.calls[0] (acme -> globex) not rendered: tenant \
              `globex` declares no `accepts` entry for `acme` with the same podSelector and \
              ports"
            ]
        );
        assert!(unmatched(&other_port, &none)[0].contains("tenant `acme` declares no `calls`"));
    }

    #[test]
    fn bad_entries_are_refused_with_the_fix() {
        let mut score = calling("acme", "acme", 0);
        score.connections.calls.push(connection("Globex!", 80));
        score.connections.accepts.push(Connection {
            tenant: "globex".into(),
            pod_selector: PodSelector {
                match_labels: BTreeMap::new(),
            },
            ports: vec![],
        });
        score.connections.accepts.push(connection("globex", 80));
        score.connections.accepts[1]
            .pod_selector
            .match_labels
            .insert("bad key!".into(), "x".into());
        assert_eq!(
            problems(&score),
            [
                "spec.connections.calls[0].tenant: tenant `acme` declares a connection to \
                 itself: its namespaces already reach each other; remove this entry",
                "spec.connections.calls[0].ports[0].port: port 0 is not a port: use 1–65535",
                "spec.connections.calls[1].tenant: `Globex!` is not a tenant id: write the \
                 other tenant's metadata.name",
                "spec.connections.accepts[0].podSelector.matchLabels: no label given: name the \
                 called pods with at least one label, such as `app: api`",
                "spec.connections.accepts[0].ports: no port given: list at least one, such as \
                 `{port: 8080, protocol: TCP}`",
                "spec.connections.accepts[1].tenant: tenant `globex` is listed twice in \
                 spec.connections.accepts: one entry per tenant; merge the two",
                "spec.connections.accepts[1].podSelector.matchLabels: `bad key!: x` is not a \
                 label: a key is an optional DNS subdomain and `/` then 1–63 letters, digits, \
                 `-`, `_`, `.`; a value is at most 63 of those",
            ]
        );
        assert_eq!(
            problems(&calling("acme", "globex", 443)),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_connection_to_an_unknown_tenant_is_refused_across_tenants() {
        let acme = calling("acme", "initech", 8080);
        let globex = accepting("globex", "acme", 8080);
        let found = cross_tenant_problems(&[&acme, &globex]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].tenant, 0);
        assert_eq!(found[0].problem.path, "spec.connections.calls[0].tenant");
        assert!(
            found[0]
                .problem
                .message
                .starts_with("tenant `initech` is not among the tenants given: pass its")
        );
        let known = calling("acme", "globex", 8080);
        assert_eq!(cross_tenant_problems(&[&known, &globex]), vec![]);
        // In a cluster the other side may come later: only the conflicts are problems there.
        assert_eq!(cross_tenant_conflicts(&[&acme, &globex]), vec![]);
        let twin = accepting("acme", "globex", 8080);
        assert_eq!(cross_tenant_conflicts(&[&acme, &twin]).len(), 1);
    }
}
