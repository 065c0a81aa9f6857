//! Self-service namespaces: `spec.maxNamespaces`, and the decision on tenant admins' requests
//! for more namespaces. The decision is pure: the operator gathers the requests and the names
//! taken in the cluster, and renders the tenant it returns with the same plan as the CLI.

use std::collections::BTreeMap;

use harmony::Problem;

use crate::facts::ClusterFacts;
use crate::names::{is_dns_label, reserved_namespace};
use crate::namespaces::TenantNamespace;
use crate::score::TenantScore;

/// A tenant admin's request for one more namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceAsk {
    /// The request's creation time (RFC 3339, as the API server writes it): earlier asks are
    /// decided first.
    pub created: String,
    /// The request's own id (`namespace/name`), which orders asks created in the same second.
    pub request: String,
    /// The wanted namespace.
    pub name: String,
    /// The listed namespace whose overrides the new namespace copies; the tenant's settings
    /// when unset.
    pub copy_from: Option<String>,
}

/// Why a request for a namespace is refused; [`Refusal::reason`] is its status condition reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The wanted name is not a DNS-1123 label or is reserved for the platform.
    #[error("`{name}` is not a namespace a tenant may have: {why}")]
    InvalidName {
        /// The wanted name.
        name: String,
        /// What is wrong with it.
        why: String,
    },
    /// The wanted namespace exists or is another tenant's (or already this tenant's).
    #[error("namespace `{name}` is already {owner}: choose another name")]
    NameTaken {
        /// The wanted name.
        name: String,
        /// Who has it, for people (`a namespace of tenant acme`, `a namespace of the cluster`).
        owner: String,
    },
    /// The tenant has `spec.maxNamespaces` namespaces already.
    #[error(
        "tenant `{tenant}` has {limit} namespaces, its limit (spec.maxNamespaces): delete a \
         request or ask the platform team to raise spec.maxNamespaces"
    )]
    OverLimit {
        /// The tenant.
        tenant: String,
        /// Its `spec.maxNamespaces` (the listed namespaces when unset).
        limit: usize,
    },
    /// `copyFrom` names no listed namespace of the tenant.
    #[error(
        "copyFrom `{from}` is not a listed namespace of tenant `{tenant}`: name one of {listed}"
    )]
    UnknownCopyFrom {
        /// The tenant.
        tenant: String,
        /// The named namespace.
        from: String,
        /// The listed namespaces, comma separated.
        listed: String,
    },
    /// The tenant with the new namespace would not be valid (on Kubernetes the namespaces' quotas
    /// must fit in the tenant's total).
    #[error("the tenant with namespace `{name}` would not be valid: {problem}")]
    Invalid {
        /// The wanted name.
        name: String,
        /// The first problem of the tenant with it.
        problem: String,
    },
    /// The request is in a namespace no tenant owns.
    #[error(
        "namespace `{namespace}` belongs to no tenant: create the request in one of your \
         tenant's namespaces"
    )]
    NotInTenantNamespace {
        /// The request's namespace.
        namespace: String,
    },
}

impl Refusal {
    /// The `Refused` condition's reason.
    pub fn reason(&self) -> &'static str {
        match self {
            Refusal::InvalidName { .. } => "InvalidName",
            Refusal::NameTaken { .. } => "NameTaken",
            Refusal::OverLimit { .. } => "OverMaxNamespaces",
            Refusal::UnknownCopyFrom { .. } => "UnknownCopyFrom",
            Refusal::Invalid { .. } => "InvalidTenant",
            Refusal::NotInTenantNamespace { .. } => "NotInTenantNamespace",
        }
    }
}

/// The decision on one ask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The ask.
    pub ask: NamespaceAsk,
    /// `Ok` when the namespace is the tenant's.
    pub outcome: Result<(), Refusal>,
}

/// A tenant with its granted self-service namespaces, and the decision on every ask.
#[derive(Debug, Clone)]
pub struct GrantedNamespaces {
    /// The tenant with its listed namespaces then the granted ones, in ask order: render it as
    /// any tenant.
    pub tenant: TenantScore,
    /// The decisions, earliest ask first.
    pub decisions: Vec<Decision>,
}

impl TenantScore {
    /// Sets `spec.maxNamespaces`.
    pub fn max_namespaces(mut self, limit: u32) -> Self {
        self.tenant_config.max_namespaces = Some(limit);
        self
    }

    /// How many namespaces the tenant may have: `spec.maxNamespaces`, or its listed ones.
    pub fn namespace_limit(&self) -> usize {
        match self.tenant_config.max_namespaces {
            Some(limit) => limit as usize,
            None => self.namespaces().len(),
        }
    }

    /// Whether the tenant's admins may ask for more namespaces: `spec.maxNamespaces` is above its
    /// listed namespaces. Its roles then reach its NamespaceRequests
    /// ([`crate::namespace_request_verbs`]).
    pub fn allows_self_service_namespaces(&self) -> bool {
        self.namespace_limit() > self.namespaces().len()
    }

    /// Decides `asks` (earliest first) against the namespaces `taken` in the cluster (name →
    /// owning tenant, `None` for the cluster's own; this tenant's entries are ignored), the limit
    /// and validity on a cluster with `facts`.
    pub fn with_self_service(
        &self,
        asks: &[NamespaceAsk],
        taken: &BTreeMap<String, Option<String>>,
        facts: &ClusterFacts,
    ) -> GrantedNamespaces {
        let listed: Vec<TenantNamespace> = match &self.tenant_config.namespaces {
            Some(list) if !list.is_empty() => list.clone(),
            _ => vec![TenantNamespace::new(self.namespace())],
        };
        let mut ordered = asks.to_vec();
        ordered.sort_by(|a, b| (&a.created, &a.request).cmp(&(&b.created, &b.request)));
        let mut tenant = self.clone();
        let mut decisions = Vec::new();
        for ask in ordered {
            let outcome = self
                .admit(&ask, &tenant, &listed, taken, facts)
                .map(|grown| tenant = grown);
            decisions.push(Decision { ask, outcome });
        }
        GrantedNamespaces { tenant, decisions }
    }

    /// `current` with `ask`'s namespace, or why not.
    fn admit(
        &self,
        ask: &NamespaceAsk,
        current: &TenantScore,
        listed: &[TenantNamespace],
        taken: &BTreeMap<String, Option<String>>,
        facts: &ClusterFacts,
    ) -> Result<TenantScore, Refusal> {
        let name = &ask.name;
        let invalid = |why: &str| Refusal::InvalidName {
            name: name.clone(),
            why: why.into(),
        };
        if !is_dns_label(name, 63) {
            return Err(invalid(
                "use 1–63 lowercase letters, digits and `-`, starting and ending with a letter \
                 or digit",
            ));
        }
        if let Some(why) = reserved_namespace(name) {
            return Err(invalid(why));
        }
        let owner = match taken.get(name) {
            _ if current.namespaces().contains(&name.as_str()) => {
                Some(format!("a namespace of tenant {}", self.name()))
            }
            Some(Some(tenant)) if tenant != self.name() => {
                Some(format!("a namespace of tenant {tenant}"))
            }
            Some(None) => Some("a namespace of the cluster".into()),
            _ => None,
        };
        if let Some(owner) = owner {
            return Err(Refusal::NameTaken {
                name: name.clone(),
                owner,
            });
        }
        let limit = self.namespace_limit();
        if current.namespaces().len() >= limit {
            return Err(Refusal::OverLimit {
                tenant: self.name().into(),
                limit,
            });
        }
        let template = match &ask.copy_from {
            None => TenantNamespace::new(name.clone()),
            Some(from) => match listed.iter().find(|ns| &ns.name == from) {
                Some(ns) => TenantNamespace {
                    name: name.clone(),
                    ..ns.clone()
                },
                None => {
                    return Err(Refusal::UnknownCopyFrom {
                        tenant: self.name().into(),
                        from: from.clone(),
                        listed: listed
                            .iter()
                            .map(|ns| ns.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    });
                }
            },
        };
        let mut namespaces: Vec<TenantNamespace> = match &current.tenant_config.namespaces {
            Some(list) if !list.is_empty() => list.clone(),
            _ => listed.to_vec(),
        };
        namespaces.push(template);
        let grown = current.clone().with_namespaces(namespaces);
        match grown.validate(facts).into_iter().next() {
            Some(problem) => Err(Refusal::Invalid {
                name: name.clone(),
                problem: problem.to_string(),
            }),
            None => Ok(grown),
        }
    }
}

/// The problem of `spec.maxNamespaces`: below the number of listed namespaces.
pub(crate) fn problems(score: &TenantScore, problems: &mut Vec<Problem>) {
    let Some(limit) = score.tenant_config.max_namespaces else {
        return;
    };
    let listed = score.namespaces().len();
    if (limit as usize) < listed {
        problems.push(Problem::new(
            "spec.maxNamespaces",
            format!(
                "is {limit}, below the tenant's {listed} listed namespace{}: set it to at least \
                 {listed}, or leave it out to allow the listed namespaces only",
                if listed == 1 { "" } else { "s" }
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(second: u32, name: &str) -> NamespaceAsk {
        NamespaceAsk {
            created: format!("2026-12-03T19:00:{second:02}Z"),
            request: format!("acme/{name}"),
            name: name.into(),
            copy_from: None,
        }
    }

    fn decide(score: &TenantScore, asks: &[NamespaceAsk]) -> GrantedNamespaces {
        let taken = BTreeMap::from([
            ("globex".to_string(), Some("globex".to_string())),
            ("monitoring".to_string(), None),
            ("acme-old".to_string(), Some("acme".to_string())),
        ]);
        score.with_self_service(asks, &taken, &ClusterFacts::okd())
    }

    fn reasons(out: &GrantedNamespaces) -> Vec<(&str, &str)> {
        out.decisions
            .iter()
            .map(|d| {
                let reason = d.outcome.as_ref().err().map_or("Accepted", Refusal::reason);
                (d.ask.name.as_str(), reason)
            })
            .collect()
    }

    #[test]
    fn limit_is_the_listed_namespaces_unless_set_and_below_them_is_refused() {
        assert_eq!(TenantScore::new("acme").namespace_limit(), 1);
        assert_eq!(
            TenantScore::new("acme").max_namespaces(3).namespace_limit(),
            3
        );
        let two = TenantScore::new("acme").with_namespaces([
            TenantNamespace::new("acme-dev"),
            TenantNamespace::new("acme-prod"),
        ]);
        let mut found = Vec::new();
        problems(&two.clone().max_namespaces(2), &mut found);
        assert_eq!(found, []);
        problems(&two.max_namespaces(1), &mut found);
        let [p] = found.try_into().unwrap();
        assert_eq!(p.path, "spec.maxNamespaces");
        assert_eq!(
            p.message,
            "is 1, below the tenant's 2 listed namespaces: set it to at least 2, or leave it out \
             to allow the listed namespaces only"
        );
    }

    #[test]
    fn without_max_namespaces_every_ask_is_over_the_limit() {
        let out = decide(&TenantScore::new("acme"), &[ask(1, "acme-dev")]);
        assert_eq!(reasons(&out), [("acme-dev", "OverMaxNamespaces")]);
        assert_eq!(out.tenant.namespaces(), ["acme"]);
    }

    #[test]
    fn earliest_asks_are_granted_up_to_the_limit_whatever_their_order() {
        let score = TenantScore::new("acme").max_namespaces(3);
        let asks = [ask(3, "acme-c"), ask(1, "acme-a"), ask(2, "acme-b")];
        let out = decide(&score, &asks);
        assert_eq!(
            reasons(&out),
            [
                ("acme-a", "Accepted"),
                ("acme-b", "Accepted"),
                ("acme-c", "OverMaxNamespaces")
            ]
        );
        assert_eq!(out.tenant.namespaces(), ["acme", "acme-a", "acme-b"]);
        let again = decide(&score, &[asks[2].clone(), asks[0].clone(), asks[1].clone()]);
        assert_eq!(again.tenant, out.tenant);
        let Err(over) = &out.decisions[2].outcome else {
            panic!("{out:?}")
        };
        assert_eq!(
            over.to_string(),
            "tenant `acme` has 3 namespaces, its limit (spec.maxNamespaces): delete a request or \
             ask the platform team to raise spec.maxNamespaces"
        );
    }

    #[test]
    fn bad_taken_and_repeated_names_are_refused_and_do_not_count() {
        let score = TenantScore::new("acme").max_namespaces(2);
        let asks = [
            ask(1, "Acme_Dev"),
            ask(2, "kube-acme"),
            ask(3, "globex"),
            ask(4, "monitoring"),
            ask(5, "acme"),
            ask(6, "acme-old"),
            ask(7, "acme-old"),
        ];
        let out = decide(&score, &asks);
        assert_eq!(
            reasons(&out),
            [
                ("Acme_Dev", "InvalidName"),
                ("kube-acme", "InvalidName"),
                ("globex", "NameTaken"),
                ("monitoring", "NameTaken"),
                ("acme", "NameTaken"),
                ("acme-old", "Accepted"),
                ("acme-old", "NameTaken"),
            ]
        );
        let messages: Vec<String> = out
            .decisions
            .iter()
            .filter_map(|d| d.outcome.as_ref().err().map(ToString::to_string))
            .collect();
        assert_eq!(
            messages[2],
            "namespace `globex` is already a namespace of tenant globex: choose another name"
        );
        assert_eq!(
            messages[3],
            "namespace `monitoring` is already a namespace of the cluster: choose another name"
        );
    }

    #[test]
    fn copy_from_takes_a_listed_namespace_overrides() {
        use crate::score::PodSecurityLevel;
        let score = TenantScore::new("acme")
            .with_namespaces([
                TenantNamespace::new("acme-dev").pod_security(PodSecurityLevel::Baseline)
            ])
            .max_namespaces(3);
        let mut copy = ask(1, "acme-dev2");
        copy.copy_from = Some("acme-dev".into());
        let mut unknown = ask(2, "acme-x");
        unknown.copy_from = Some("acme-prod".into());
        let out = decide(&score, &[copy, unknown]);
        assert_eq!(
            reasons(&out),
            [("acme-dev2", "Accepted"), ("acme-x", "UnknownCopyFrom")]
        );
        let views = out.tenant.namespace_scores();
        assert_eq!(views[1].namespace(), "acme-dev2");
        assert_eq!(
            views[1].tenant_config.pod_security,
            PodSecurityLevel::Baseline
        );
    }

    #[test]
    fn on_kubernetes_a_namespace_past_the_shared_quota_is_refused() {
        let score = TenantScore::new("acme").max_namespaces(2);
        let out = score.with_self_service(
            &[ask(1, "acme-dev")],
            &BTreeMap::new(),
            &ClusterFacts::kubernetes(),
        );
        let [
            Decision {
                outcome: Err(refusal),
                ..
            },
        ] = out.decisions.as_slice()
        else {
            panic!("{out:?}")
        };
        assert_eq!(refusal.reason(), "InvalidTenant");
        assert!(refusal.to_string().contains("add up to"), "{refusal}");
    }
}
