//! The authorizer: bindings indexed by subject, roles resolved (ClusterRole aggregation included).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use k8s_openapi::api::rbac::v1::{ClusterRole, PolicyRule, RoleRef, Subject};
use serde::Serialize;

use super::builtin::{BUILT_IN_ROLES, built_in_rules};
use super::rule::{Request, rule_allows};
use super::subject::{SubjectRef, UserInfo};
use crate::labels::selects;
use crate::snapshot::ClusterSnapshot;

/// Where a grant applies.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Scope {
    /// Everywhere: a ClusterRoleBinding (all namespaces and cluster-scoped resources).
    Cluster,
    /// One namespace: a RoleBinding.
    Namespace(String),
}

/// One rule granted to a subject, and the objects that grant it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Grant {
    /// The binding, such as `RoleBinding team-a/developers`.
    pub binding: String,
    /// The role, such as `ClusterRole admin` (with the aggregated role it came from, if any).
    pub role: String,
    /// Index of the rule in that role.
    pub rule_index: usize,
    /// Where the binding applies.
    pub scope: Scope,
    /// The rule, as the role holds it.
    pub rule: PolicyRule,
}

impl std::fmt::Display for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} → {} rule #{}",
            self.binding, self.role, self.rule_index
        )
    }
}

/// The answer to "can S do this?", with the grants that allow it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// Whether some grant allows the request.
    pub allowed: bool,
    /// Every grant that allows it (empty when denied: RBAC only adds).
    pub evidence: Vec<Grant>,
}

/// A rule of a role, borrowed from the snapshot (or the built-in roles); the role's label is
/// shared by its rules.
struct RoleRule<'a> {
    role: Arc<str>,
    index: usize,
    rule: &'a PolicyRule,
}

struct Binding {
    label: String,
    scope: Scope,
    role_ref: RoleRef,
    subjects: Vec<SubjectRef>,
}

/// An RBAC authorizer over a snapshot, whose roles' rules it borrows.
pub struct Authorizer<'a> {
    bindings: Vec<Binding>,
    by_subject: HashMap<String, Vec<usize>>,
    /// Role rules by namespace and name.
    roles: HashMap<&'a str, HashMap<&'a str, Vec<RoleRule<'a>>>>,
    cluster_roles: HashMap<&'a str, Vec<RoleRule<'a>>>,
}

fn role_rules<'a>(label: &str, rules: &'a [PolicyRule]) -> Vec<RoleRule<'a>> {
    let role: Arc<str> = label.into();
    rules
        .iter()
        .enumerate()
        .map(|(index, rule)| RoleRule {
            role: role.clone(),
            index,
            rule,
        })
        .collect()
}

/// The bindings of one user (its name and its groups), found once: the checks ask each subject
/// dozens of questions.
pub struct Permissions<'s, 'a> {
    authz: &'s Authorizer<'a>,
    bindings: Vec<&'s Binding>,
}

impl Permissions<'_, '_> {
    /// Every rule granted, with where it applies.
    pub fn grants(&self) -> Vec<Grant> {
        self.bindings
            .iter()
            .flat_map(|b| self.authz.grants_of(b))
            .collect()
    }

    /// Whether `request` is allowed, with every grant that allows it.
    pub fn can(&self, request: &Request) -> Decision {
        let evidence: Vec<Grant> = self
            .bindings
            .iter()
            .filter(|b| applies(&b.scope, request))
            .flat_map(|b| {
                self.authz
                    .rules_of(b)
                    .iter()
                    .filter(|r| rule_allows(r.rule, request))
                    .map(|r| grant(b, r))
            })
            .collect();
        Decision {
            allowed: !evidence.is_empty(),
            evidence,
        }
    }

    /// Whether `request` is allowed: [`Self::can`] without gathering the evidence.
    pub fn allows(&self, request: &Request) -> bool {
        self.bindings.iter().any(|b| {
            applies(&b.scope, request)
                && self
                    .authz
                    .rules_of(b)
                    .iter()
                    .any(|r| rule_allows(r.rule, request))
        })
    }
}

/// The rules of ClusterRole `name`, as the aggregation controller leaves them: its own for a
/// role without `aggregationRule`; for an aggregated role exactly the union of the rules of every
/// ClusterRole its selectors pick (recursively), its hand-written `rules` being overwritten.
fn resolve_cluster_role<'a>(
    name: &str,
    all: &HashMap<&str, &'a ClusterRole>,
    seen: &mut BTreeSet<String>,
) -> Vec<RoleRule<'a>> {
    let Some(role) = all.get(name) else {
        return vec![];
    };
    if !seen.insert(name.to_string()) {
        return vec![];
    }
    let Some(aggregation) = &role.aggregation_rule else {
        return role_rules(&format!("ClusterRole {name}"), rules(role.rules.as_ref()));
    };
    let mut rules: Vec<RoleRule> = Vec::new();
    let selectors = aggregation.cluster_role_selectors.iter().flatten();
    let labels_of = |r: &ClusterRole| r.metadata.labels.clone().unwrap_or_default();
    let mut sources: Vec<&str> = all
        .iter()
        .filter(|(other, r)| {
            **other != name && selectors.clone().any(|s| selects(s, &labels_of(r)))
        })
        .map(|(other, _)| *other)
        .collect();
    sources.sort();
    for source in sources {
        for mut r in resolve_cluster_role(source, all, seen) {
            if !rules.iter().any(|own| own.rule == r.rule) {
                r.role = format!("ClusterRole {name} (aggregated from {})", r.role).into();
                rules.push(r);
            }
        }
    }
    rules
}

fn rules(list: Option<&Vec<PolicyRule>>) -> &[PolicyRule] {
    list.map_or(&[], Vec::as_slice)
}

fn subjects(list: Option<&Vec<Subject>>, namespace: &str) -> Vec<SubjectRef> {
    list.into_iter()
        .flatten()
        .filter_map(|s| SubjectRef::from_binding(s, namespace))
        .collect()
}

impl<'a> Authorizer<'a> {
    /// Indexes the RBAC objects of `snapshot`.
    pub fn new(snapshot: &'a ClusterSnapshot) -> Self {
        let by_name: HashMap<&str, &ClusterRole> = snapshot
            .cluster_roles
            .iter()
            .filter_map(|r| Some((r.metadata.name.as_deref()?, r)))
            .collect();
        let mut cluster_roles: HashMap<&str, Vec<RoleRule>> = by_name
            .keys()
            .map(|&name| {
                let rules = resolve_cluster_role(name, &by_name, &mut BTreeSet::new());
                (name, rules)
            })
            .collect();
        for name in BUILT_IN_ROLES {
            if !by_name.contains_key(name) {
                let rules = built_in_rules(name).unwrap_or_default();
                let label = format!("ClusterRole {name} (built-in)");
                cluster_roles.insert(name, role_rules(&label, rules));
            }
        }
        let mut roles: HashMap<&str, HashMap<&str, Vec<RoleRule>>> = HashMap::new();
        for r in &snapshot.roles {
            let ns = r.metadata.namespace.as_deref().unwrap_or_default();
            let name = r.metadata.name.as_deref().unwrap_or_default();
            let rules = role_rules(&format!("Role {ns}/{name}"), rules(r.rules.as_ref()));
            roles.entry(ns).or_default().insert(name, rules);
        }
        let mut bindings: Vec<Binding> = snapshot
            .cluster_role_bindings
            .iter()
            .map(|b| Binding {
                label: format!(
                    "ClusterRoleBinding {}",
                    b.metadata.name.as_deref().unwrap_or_default()
                ),
                scope: Scope::Cluster,
                role_ref: b.role_ref.clone(),
                subjects: subjects(b.subjects.as_ref(), ""),
            })
            .collect();
        bindings.extend(snapshot.role_bindings.iter().map(|b| {
            let ns = b.metadata.namespace.clone().unwrap_or_default();
            Binding {
                label: format!(
                    "RoleBinding {ns}/{}",
                    b.metadata.name.as_deref().unwrap_or_default()
                ),
                subjects: subjects(b.subjects.as_ref(), &ns),
                scope: Scope::Namespace(ns),
                role_ref: b.role_ref.clone(),
            }
        }));
        let mut by_subject: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, b) in bindings.iter().enumerate() {
            for s in &b.subjects {
                by_subject.entry(s.index_key()).or_default().push(i);
            }
        }
        Self {
            bindings,
            by_subject,
            roles,
            cluster_roles,
        }
    }

    /// The rules of the role `binding` refers to; `None` when the role is unknown.
    fn role_of(&self, binding: &Binding) -> Option<&Vec<RoleRule<'a>>> {
        let name = binding.role_ref.name.as_str();
        match (binding.role_ref.kind.as_str(), &binding.scope) {
            ("ClusterRole", _) => self.cluster_roles.get(name),
            ("Role", Scope::Namespace(ns)) => self.roles.get(ns.as_str())?.get(name),
            _ => None,
        }
    }

    fn rules_of(&self, binding: &Binding) -> &[RoleRule<'a>] {
        self.role_of(binding).map(Vec::as_slice).unwrap_or_default()
    }

    fn grants_of<'s>(&'s self, binding: &'s Binding) -> impl Iterator<Item = Grant> + 's {
        self.rules_of(binding).iter().map(|r| grant(binding, r))
    }

    /// The bindings that name `user` or one of its groups.
    fn bindings_of(&self, user: &UserInfo) -> Vec<&Binding> {
        let mut ids: Vec<usize> = user
            .index_keys()
            .filter_map(|k| self.by_subject.get(&k))
            .flatten()
            .copied()
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter().map(|i| &self.bindings[i]).collect()
    }

    /// What `user` is bound to, looked up once, to ask many questions of.
    pub fn permissions<'s>(&'s self, user: &UserInfo) -> Permissions<'s, 'a> {
        Permissions {
            authz: self,
            bindings: self.bindings_of(user),
        }
    }

    /// Every rule granted to `user`, with where it applies ("what can S do?").
    pub fn grants(&self, user: &UserInfo) -> Vec<Grant> {
        self.permissions(user).grants()
    }

    /// "What can S do?": every rule granted to `subject`.
    pub fn what_can(&self, subject: &SubjectRef) -> Vec<Grant> {
        self.grants(&UserInfo::from(subject))
    }

    /// "Can S do this?", with every grant that allows it.
    pub fn can(&self, user: &UserInfo, request: &Request) -> Decision {
        self.permissions(user).can(request)
    }

    /// Whether `user` may do `request`: [`Self::can`] without gathering the evidence.
    pub fn allows(&self, user: &UserInfo, request: &Request) -> bool {
        self.permissions(user).allows(request)
    }

    /// "Who can do this?": every binding subject allowed, with the grant (groups stay groups).
    pub fn who_can(&self, request: &Request) -> Vec<(SubjectRef, Grant)> {
        let mut out = Vec::new();
        for b in self.bindings.iter().filter(|b| applies(&b.scope, request)) {
            for g in self.grants_of(b).filter(|g| rule_allows(&g.rule, request)) {
                out.extend(b.subjects.iter().map(|s| (s.clone(), g.clone())));
            }
        }
        out
    }

    /// The bindings of `scope` whose role is neither in the snapshot nor built in: their label
    /// and role, such as `ClusterRole foo`.
    pub fn unknown_roles(&self, scope: &Scope) -> Vec<(String, String)> {
        self.bindings
            .iter()
            .filter(|b| b.scope == *scope && self.role_of(b).is_none())
            .map(|b| {
                let role = format!("{} {}", b.role_ref.kind, b.role_ref.name);
                (b.label.clone(), role)
            })
            .collect()
    }

    /// Every subject some binding names, with the bindings' scopes.
    pub fn subjects(&self) -> BTreeSet<(SubjectRef, Scope)> {
        self.bindings
            .iter()
            .flat_map(|b| b.subjects.iter().map(|s| (s.clone(), b.scope.clone())))
            .collect()
    }
}

fn grant(binding: &Binding, r: &RoleRule) -> Grant {
    Grant {
        binding: binding.label.clone(),
        role: r.role.to_string(),
        rule_index: r.index,
        scope: binding.scope.clone(),
        rule: r.rule.clone(),
    }
}

/// Whether a binding of `scope` can allow `request`: RoleBindings only in their namespace, and
/// never for cluster-scoped resources or non-resource URLs.
fn applies(scope: &Scope, request: &Request) -> bool {
    match scope {
        Scope::Cluster => true,
        Scope::Namespace(ns) => {
            matches!(request, Request::Resource { .. }) && request.namespace() == ns
        }
    }
}

impl Authorizer<'_> {
    /// The rules of the role a binding of `kind` (`Role` or `ClusterRole`) and `name` in
    /// `namespace` would grant, as grants scoped to that namespace.
    pub fn role_grants(&self, kind: &str, name: &str, namespace: &str) -> Vec<Grant> {
        let binding = Binding {
            label: format!("(a RoleBinding in {namespace})"),
            scope: Scope::Namespace(namespace.into()),
            role_ref: RoleRef {
                api_group: "rbac.authorization.k8s.io".into(),
                kind: kind.into(),
                name: name.into(),
            },
            subjects: vec![],
        };
        self.grants_of(&binding).collect()
    }
}
