//! The tenant Roles (explicit rules, no wildcards), the ServiceAccounts and the members'
//! RoleBindings.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};

use super::namespaced;
use crate::facts::{ClusterFacts, ClusterFlavor};
use crate::plan::TenantObject;
use crate::score::{HARMONY_GROUP, Identity, Member, TenantRole, TenantScore};

/// The API group of Roles and RoleBindings, and of User and Group subjects.
pub(super) const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// A verb a tenant role may hold; the order is the order rules list them in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Verb {
    Get,
    List,
    Watch,
    Create,
    Update,
    Patch,
    Delete,
    Bind,
}

impl Verb {
    fn as_str(self) -> &'static str {
        match self {
            Self::Get => "get",
            Self::List => "list",
            Self::Watch => "watch",
            Self::Create => "create",
            Self::Update => "update",
            Self::Patch => "patch",
            Self::Delete => "delete",
            Self::Bind => "bind",
        }
    }
}

use Verb::*;

const READ: &[Verb] = &[Get, List, Watch];
const WRITE: &[Verb] = &[Create, Update, Patch, Delete];
const SCALE: &[Verb] = &[Get, Update, Patch];
const CONNECT: &[Verb] = &[Create, Get];

/// An API group and a (namespaced) resource in it.
type Resource = (&'static str, &'static str);

/// What every role reads: all of the namespace but secrets (and its own RBAC).
const VIEWER_READS: &[Resource] = &[
    ("", "configmaps"),
    ("", "endpoints"),
    ("", "events"),
    ("", "limitranges"),
    ("", "persistentvolumeclaims"),
    ("", "pods"),
    ("", "pods/log"),
    ("", "replicationcontrollers"),
    ("", "resourcequotas"),
    ("", "serviceaccounts"),
    ("", "services"),
    ("apps", "daemonsets"),
    ("apps", "deployments"),
    ("apps", "replicasets"),
    ("apps", "statefulsets"),
    ("autoscaling", "horizontalpodautoscalers"),
    ("batch", "cronjobs"),
    ("batch", "jobs"),
    ("discovery.k8s.io", "endpointslices"),
    ("events.k8s.io", "events"),
    ("networking.k8s.io", "ingresses"),
    ("networking.k8s.io", "networkpolicies"),
    ("policy", "poddisruptionbudgets"),
];
/// OKD Routes.
const ROUTES: &[Resource] = &[("route.openshift.io", "routes")];
/// Secrets, readable from developer up.
const SECRETS: &[Resource] = &[("", "secrets")];
/// What developers create, update, patch and delete.
const DEVELOPER_WRITES: &[Resource] = &[
    ("", "configmaps"),
    ("", "persistentvolumeclaims"),
    ("", "pods"),
    ("", "secrets"),
    ("", "services"),
    ("apps", "deployments"),
    ("apps", "replicasets"),
    ("apps", "statefulsets"),
    ("autoscaling", "horizontalpodautoscalers"),
    ("batch", "cronjobs"),
    ("batch", "jobs"),
    ("networking.k8s.io", "ingresses"),
    ("policy", "poddisruptionbudgets"),
];
/// Scale subresources.
const SCALES: &[Resource] = &[
    ("apps", "deployments/scale"),
    ("apps", "statefulsets/scale"),
];
/// Interactive pod subresources.
const POD_CONNECT: &[Resource] = &[
    ("", "pods/attach"),
    ("", "pods/exec"),
    ("", "pods/portforward"),
];
/// The pods' resource metrics: what the namespace-enforcing metrics endpoints (OKD's
/// thanos-querier tenancy port, the kube-rbac-proxy of Harmony's cluster monitoring) check before
/// answering a query for the namespace. Every role reads them when the tenant has monitoring.
const POD_METRICS: &[Resource] = &[("metrics.k8s.io", "pods")];
/// OADP's self-service backups of the namespace (OADP 1.5+, once the DataProtectionApplication
/// sets `spec.nonAdmin.enable: true`): a NonAdminBackup backs up its own namespace only, a
/// NonAdminRestore restores one of them. Admins write them, everyone reads them, with OADP only.
const OADP_SELF_SERVICE: &[Resource] = &[
    ("oadp.openshift.io", "nonadminbackups"),
    ("oadp.openshift.io", "nonadminrestores"),
];
/// The plural of NamespaceRequests, a tenant admin's asks for one more namespace.
pub const NAMESPACE_REQUESTS: &str = "namespacerequests";
/// NamespaceRequests, readable by every role of a tenant that may ask for namespaces.
const NAMESPACE_REQUEST_RESOURCES: &[Resource] = &[(HARMONY_GROUP, NAMESPACE_REQUESTS)];
/// What admins add on NamespaceRequests: ask for a namespace, withdraw the ask. Never update or
/// patch (the operator decides on the spec it saw), never the status (the operator's).
const ASK: &[Verb] = &[Create, Delete];
/// The namespace's RBAC objects, readable by admins.
const RBAC_OBJECTS: &[Resource] = &[(RBAC_GROUP, "rolebindings"), (RBAC_GROUP, "roles")];

/// An API group and the resource names a grant is limited to (none: every object).
type Scope = (&'static str, Vec<String>);

/// Verbs per resource, per scope.
#[derive(Default)]
struct Grants(BTreeMap<Scope, BTreeMap<&'static str, BTreeSet<Verb>>>);

impl Grants {
    /// Grants `verbs` on every object of `resources`.
    fn allow(&mut self, resources: &[Resource], verbs: &[Verb]) {
        self.allow_named(resources, verbs, &[]);
    }

    /// Grants `verbs` on the objects of `resources` named `names` (all objects when empty).
    fn allow_named(&mut self, resources: &[Resource], verbs: &[Verb], names: &[String]) {
        for (group, resource) in resources {
            self.0
                .entry((group, names.to_vec()))
                .or_default()
                .entry(resource)
                .or_default()
                .extend(verbs);
        }
    }

    /// The rules: one per API group, resource names and verb set, listing its resources.
    fn rules(self) -> Vec<PolicyRule> {
        let mut rules = Vec::new();
        for ((group, names), resources) in self.0 {
            let mut by_verbs: BTreeMap<BTreeSet<Verb>, Vec<String>> = BTreeMap::new();
            for (resource, verbs) in resources {
                by_verbs.entry(verbs).or_default().push(resource.into());
            }
            for (verbs, resources) in by_verbs {
                rules.push(PolicyRule {
                    api_groups: Some(vec![group.into()]),
                    resources: Some(resources),
                    resource_names: (!names.is_empty()).then(|| names.clone()),
                    verbs: verbs.iter().map(|v| v.as_str().into()).collect(),
                    non_resource_urls: None,
                });
            }
        }
        rules
    }
}

/// What `role` may do in the namespace.
fn grants(role: TenantRole, okd: bool, self_service: bool) -> Grants {
    let mut g = Grants::default();
    let routes: &[Resource] = if okd { ROUTES } else { &[] };
    g.allow(VIEWER_READS, READ);
    g.allow(routes, READ);
    if role == TenantRole::Viewer {
        return g;
    }
    g.allow(SECRETS, READ);
    g.allow(DEVELOPER_WRITES, WRITE);
    g.allow(routes, WRITE);
    g.allow(SCALES, SCALE);
    g.allow(POD_CONNECT, CONNECT);
    if role == TenantRole::Developer {
        return g;
    }
    g.allow(&[("", "serviceaccounts")], WRITE);
    g.allow(RBAC_OBJECTS, READ);
    if self_service {
        g.allow(&[(RBAC_GROUP, "rolebindings")], WRITE);
        let own_roles = TenantRole::ALL.map(TenantRole::role_name);
        g.allow_named(&[(RBAC_GROUP, "roles")], &[Bind], &own_roles);
    }
    g
}

/// The verbs of `role` on NamespaceRequests (`namespacerequests` of [`HARMONY_GROUP`]) in a
/// tenant that may ask for namespaces: admins `create, get, list, watch, delete`, the others
/// `get, list, watch`; nothing on their status or on Tenants.
pub fn namespace_request_verbs(role: TenantRole) -> Vec<&'static str> {
    namespace_request_grants(role)
        .iter()
        .map(|v| v.as_str())
        .collect()
}

/// The verbs of `role` on NamespaceRequests, in rule order.
fn namespace_request_grants(role: TenantRole) -> Vec<Verb> {
    let asks: &[Verb] = if role == TenantRole::Admin { ASK } else { &[] };
    [READ, asks].concat()
}

/// The Roles, ServiceAccounts and RoleBindings of `score`; the Roles reach NamespaceRequests
/// when `asks_namespaces`.
pub(super) fn objects(
    score: &TenantScore,
    facts: &ClusterFacts,
    asks_namespaces: bool,
) -> Vec<TenantObject> {
    let okd = facts.flavor == ClusterFlavor::Okd;
    let self_service = score.rbac_config.self_service.role_bindings;
    let metrics = super::monitoring::applies(score, facts);
    let oadp = super::backup::oadp_self_service(score, facts);
    let members = &score.rbac_config.members;
    let roles = TenantRole::ALL.map(|role| {
        let mut grants = grants(role, okd, self_service);
        if metrics {
            grants.allow(POD_METRICS, READ);
        }
        if oadp {
            grants.allow(OADP_SELF_SERVICE, READ);
            if role == TenantRole::Admin {
                grants.allow(OADP_SELF_SERVICE, WRITE);
            }
        }
        if asks_namespaces {
            grants.allow(NAMESPACE_REQUEST_RESOURCES, &namespace_request_grants(role));
        }
        TenantObject::Role(Role {
            metadata: namespaced(score, &role.role_name()),
            rules: Some(grants.rules()),
        })
    });
    let accounts: BTreeSet<&str> = members
        .iter()
        .filter(|m| m.service_account)
        .map(|m| m.name.as_str())
        .chain(["default"])
        .collect();
    let accounts = accounts.into_iter().map(|name| {
        TenantObject::ServiceAccount(ServiceAccount {
            metadata: namespaced(score, name),
            // Pods get no API token unless they ask for a ServiceAccount (CKV_K8S_41).
            automount_service_account_token: (name == "default").then_some(false),
            ..ServiceAccount::default()
        })
    });
    let bindings = members.iter().map(|m| binding(score, m, facts));
    roles.into_iter().chain(accounts).chain(bindings).collect()
}

/// The RoleBinding `member-<name>` giving `member` its role.
fn binding(score: &TenantScore, member: &Member, facts: &ClusterFacts) -> TenantObject {
    TenantObject::RoleBinding(RoleBinding {
        metadata: namespaced(score, &format!("member-{}", member.name)),
        role_ref: RoleRef {
            api_group: RBAC_GROUP.into(),
            kind: "Role".into(),
            name: member.role.role_name(),
        },
        subjects: Some(vec![subject(score, member, facts)]),
    })
}

/// The RoleBinding subject of `member`, as its `member-<name>` binding names it: identity
/// provider members with the API server's prefixes, a user through its role's group.
pub(super) fn subject(score: &TenantScore, member: &Member, facts: &ClusterFacts) -> Subject {
    let named = |kind: &str, name: &str| Subject {
        api_group: Some(RBAC_GROUP.into()),
        kind: kind.into(),
        name: name.into(),
        namespace: None,
    };
    match member
        .identity()
        .expect("a validated member has exactly one identity")
    {
        Identity::User(user) => named("User", user),
        Identity::Group(group) => named("Group", group),
        Identity::OidcUser(_) | Identity::OidcGroup(_) => {
            let oidc = facts
                .oidc
                .as_ref()
                .expect("a validated identity provider member comes with its facts");
            named(
                "Group",
                &oidc
                    .bound_group(score.name(), member)
                    .expect("an identity provider member"),
            )
        }
        Identity::ServiceAccount => Subject {
            api_group: None,
            kind: "ServiceAccount".into(),
            name: member.name.clone(),
            namespace: Some(score.namespace().into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::PlanObject;

    /// Every (group, resource, verb, names) a role holds.
    type Triple = (String, String, String, Vec<String>);

    fn holds(role: TenantRole, okd: bool, self_service: bool) -> BTreeSet<Triple> {
        let mut all = BTreeSet::new();
        for rule in grants(role, okd, self_service).rules() {
            assert!(rule.non_resource_urls.is_none());
            let names = rule.resource_names.clone().unwrap_or_default();
            for group in rule.api_groups.as_ref().unwrap() {
                for resource in rule.resources.as_ref().unwrap() {
                    for verb in &rule.verbs {
                        all.insert((group.clone(), resource.clone(), verb.clone(), names.clone()));
                    }
                }
            }
        }
        all
    }

    /// Every role in every configuration.
    fn every_role() -> Vec<(TenantRole, bool, bool, BTreeSet<Triple>)> {
        let mut all = Vec::new();
        for role in TenantRole::ALL {
            for okd in [false, true] {
                for self_service in [false, true] {
                    all.push((role, okd, self_service, holds(role, okd, self_service)));
                }
            }
        }
        all
    }

    #[test]
    fn no_wildcards_anywhere() {
        for role in TenantRole::ALL {
            for rule in grants(role, true, true).rules() {
                let strings = rule
                    .api_groups
                    .iter()
                    .chain(&rule.resources)
                    .chain(&rule.resource_names)
                    .flatten()
                    .chain(&rule.verbs);
                for s in strings {
                    assert!(!s.contains('*'), "{role:?}: {rule:?}");
                }
            }
        }
    }

    #[test]
    fn no_role_writes_isolation_objects_or_escalates() {
        let guarded = [
            "resourcequotas",
            "limitranges",
            "networkpolicies",
            "namespaces",
        ];
        let cluster_scoped = [
            "namespaces",
            "nodes",
            "persistentvolumes",
            "storageclasses",
            "clusterroles",
            "clusterrolebindings",
            "customresourcedefinitions",
            "securitycontextconstraints",
        ];
        for (role, okd, ss, held) in every_role() {
            for (_, resource, verb, _) in &held {
                let read = ["get", "list", "watch"].contains(&verb.as_str());
                assert!(
                    read || !guarded.contains(&resource.as_str()),
                    "{role:?} okd={okd} ss={ss} may {verb} {resource}"
                );
                assert!(!["escalate", "impersonate"].contains(&verb.as_str()));
                assert!(!cluster_scoped.contains(&resource.as_str()), "{resource}");
            }
        }
    }

    #[test]
    fn bind_only_for_admins_with_self_service_on_own_roles() {
        for (role, _, ss, held) in every_role() {
            let binds: Vec<&Triple> = held.iter().filter(|t| t.2 == "bind").collect();
            if role == TenantRole::Admin && ss {
                assert_eq!(binds.len(), 1, "{binds:?}");
                let (group, resource, _, names) = binds[0];
                assert_eq!((group.as_str(), resource.as_str()), (RBAC_GROUP, "roles"));
                assert_eq!(
                    names,
                    &["tenant-admin", "tenant-developer", "tenant-viewer"]
                );
            } else {
                assert!(binds.is_empty(), "{role:?} ss={ss}: {binds:?}");
            }
            let writes_bindings = held
                .iter()
                .any(|(_, r, v, _)| r == "rolebindings" && v == "create");
            assert_eq!(writes_bindings, role == TenantRole::Admin && ss);
        }
    }

    #[test]
    fn viewer_never_sees_secrets_and_developer_does() {
        for okd in [false, true] {
            let viewer = holds(TenantRole::Viewer, okd, true);
            assert!(!viewer.iter().any(|(_, r, _, _)| r.starts_with("secrets")));
            assert!(
                viewer
                    .iter()
                    .all(|(_, _, v, _)| ["get", "list", "watch"].contains(&v.as_str()))
            );
            let developer = holds(TenantRole::Developer, okd, true);
            assert!(developer.contains(&("".into(), "secrets".into(), "get".into(), vec![])));
            assert!(developer.contains(&("".into(), "secrets".into(), "create".into(), vec![])));
        }
    }

    #[test]
    fn each_role_contains_the_one_below() {
        for okd in [false, true] {
            for ss in [false, true] {
                let viewer = holds(TenantRole::Viewer, okd, ss);
                let developer = holds(TenantRole::Developer, okd, ss);
                let admin = holds(TenantRole::Admin, okd, ss);
                assert!(viewer.is_subset(&developer) && developer.is_subset(&admin));
                assert!(developer.len() > viewer.len() && admin.len() > developer.len());
            }
        }
    }

    #[test]
    fn routes_only_on_okd() {
        for (role, okd, _, held) in every_role() {
            let routes = held.iter().any(|(g, _, _, _)| g == "route.openshift.io");
            assert_eq!(routes, okd, "{role:?}");
        }
        let developer = holds(TenantRole::Developer, true, false);
        assert!(developer.contains(&(
            "route.openshift.io".into(),
            "routes".into(),
            "patch".into(),
            vec![]
        )));
    }

    #[test]
    fn rules_group_resources_by_verbs() {
        let rules = grants(TenantRole::Viewer, false, false).rules();
        let groups: Vec<&str> = rules
            .iter()
            .map(|r| r.api_groups.as_ref().unwrap()[0].as_str())
            .collect();
        assert_eq!(
            groups,
            [
                "",
                "apps",
                "autoscaling",
                "batch",
                "discovery.k8s.io",
                "events.k8s.io",
                "networking.k8s.io",
                "policy"
            ]
        );
        assert_eq!(rules[0].verbs, ["get", "list", "watch"]);
    }

    #[test]
    fn developer_connects_and_scales() {
        let developer = holds(TenantRole::Developer, false, false);
        for sub in ["pods/exec", "pods/attach", "pods/portforward"] {
            for verb in ["create", "get"] {
                assert!(
                    developer.contains(&("".into(), sub.into(), verb.into(), vec![])),
                    "{sub} {verb}"
                );
            }
        }
        assert!(developer.contains(&(
            "apps".into(),
            "deployments/scale".into(),
            "patch".into(),
            vec![]
        )));
        assert!(
            !holds(TenantRole::Viewer, false, false)
                .iter()
                .any(|t| t.1 == "pods/exec")
        );
    }

    #[test]
    fn service_accounts_and_bindings_per_member() {
        let score = TenantScore::new("acme")
            .in_namespace("acme-ns")
            .member(Member::user(
                "alice",
                TenantRole::Admin,
                "alice@example.com",
            ))
            .member(Member::group("devs", TenantRole::Developer, "acme-devs"))
            .member(Member::service_account("ci", TenantRole::Viewer));
        let objects = objects(&score, &ClusterFacts::kubernetes(), false);
        let accounts: Vec<(&str, Option<bool>)> = objects
            .iter()
            .filter_map(|o| match o {
                TenantObject::ServiceAccount(sa) => Some((
                    sa.metadata.name.as_deref().unwrap(),
                    sa.automount_service_account_token,
                )),
                _ => None,
            })
            .collect();
        assert_eq!(accounts, [("ci", None), ("default", Some(false))]);
        let bindings: BTreeMap<&str, &RoleBinding> = objects
            .iter()
            .filter_map(|o| match o {
                TenantObject::RoleBinding(b) => Some((b.metadata.name.as_deref().unwrap(), b)),
                _ => None,
            })
            .collect();
        let subject = |name: &str| bindings[name].subjects.as_ref().unwrap()[0].clone();
        assert_eq!(bindings["member-alice"].role_ref.name, "tenant-admin");
        assert_eq!(bindings["member-alice"].role_ref.kind, "Role");
        assert_eq!(subject("member-alice").kind, "User");
        assert_eq!(subject("member-alice").name, "alice@example.com");
        assert_eq!(
            subject("member-alice").api_group.as_deref(),
            Some(RBAC_GROUP)
        );
        assert_eq!(subject("member-devs").kind, "Group");
        assert_eq!(bindings["member-devs"].role_ref.name, "tenant-developer");
        let ci = subject("member-ci");
        assert_eq!(
            (ci.kind.as_str(), ci.name.as_str()),
            ("ServiceAccount", "ci")
        );
        assert_eq!(ci.namespace.as_deref(), Some("acme-ns"));
        assert_eq!(bindings["member-ci"].role_ref.name, "tenant-viewer");
    }

    #[test]
    fn identity_provider_members_are_bound_by_the_prefixed_names_the_api_server_sees() {
        let score = TenantScore::new("acme")
            .member(Member::oidc_user("alice", TenantRole::Developer, "alice"))
            .member(Member::oidc_user("bob", TenantRole::Developer, "bob"))
            .member(Member::oidc_group("ops", TenantRole::Admin, "acme-ops"));
        let facts = ClusterFacts {
            oidc: Some(crate::OidcFacts {
                username_prefix: "oidc:".into(),
                groups_prefix: "sso:".into(),
            }),
            monitoring_api: true,
            ..ClusterFacts::kubernetes()
        };
        let subjects: BTreeMap<String, Vec<(String, String)>> =
            super::super::compile(&score, &facts)
                .objects()
                .iter()
                .filter_map(|o| match o {
                    TenantObject::RoleBinding(b) => Some((
                        b.metadata.name.clone().unwrap(),
                        b.subjects
                            .iter()
                            .flatten()
                            .map(|s| (s.kind.clone(), s.name.clone()))
                            .collect(),
                    )),
                    _ => None,
                })
                .collect();
        let group = |name: &str| vec![("Group".to_string(), name.to_string())];
        assert_eq!(
            subjects["member-alice"],
            group("sso:tenant-acme-developers")
        );
        assert_eq!(subjects["member-bob"], group("sso:tenant-acme-developers"));
        assert_eq!(subjects["member-ops"], group("sso:acme-ops"));
        // The monitoring bindings name each subject once, though two users share a group.
        let view = subjects
            .values()
            .find(|s| s.len() == 2)
            .expect("a monitoring binding for admins and developers");
        assert_eq!(
            view,
            &[group("sso:tenant-acme-developers"), group("sso:acme-ops")].concat()
        );
    }

    #[test]
    fn every_role_reads_pod_metrics_only_with_monitoring() {
        let served = ClusterFacts {
            monitoring_api: true,
            ..ClusterFacts::kubernetes()
        };
        let metrics = |score: &TenantScore, facts: &ClusterFacts| -> Vec<bool> {
            objects(score, facts, false)
                .iter()
                .filter_map(|o| match o {
                    TenantObject::Role(r) => Some(r.rules.iter().flatten().any(|rule| {
                        rule.api_groups == Some(vec!["metrics.k8s.io".into()])
                            && rule.resources == Some(vec!["pods".into()])
                            && rule.verbs == ["get", "list", "watch"]
                    })),
                    _ => None,
                })
                .collect()
        };
        let score = TenantScore::new("acme");
        assert_eq!(metrics(&score, &served), [true; 3]);
        assert_eq!(metrics(&score, &ClusterFacts::kubernetes()), [false; 3]);
        let mut off = score.clone();
        off.monitoring.enabled = false;
        assert_eq!(metrics(&off, &served), [false; 3]);
    }

    #[test]
    fn under_oadp_admins_write_self_service_backups_and_the_others_read_them() {
        let oadp = ClusterFacts {
            velero_namespace: Some(crate::backup::OADP_NAMESPACE.into()),
            ..ClusterFacts::okd()
        };
        let verbs = |score: &TenantScore, facts: &ClusterFacts| -> Vec<Vec<String>> {
            objects(score, facts, false)
                .iter()
                .filter_map(|o| match o {
                    TenantObject::Role(r) => Some(
                        r.rules
                            .iter()
                            .flatten()
                            .filter(|rule| {
                                rule.api_groups == Some(vec!["oadp.openshift.io".into()])
                            })
                            .flat_map(|rule| rule.verbs.clone())
                            .collect(),
                    ),
                    _ => None,
                })
                .collect()
        };
        let score = TenantScore::new("acme");
        let found = verbs(&score, &oadp);
        assert!(found[0].contains(&"create".to_string()), "{found:?}");
        assert_eq!(found[1], ["get", "list", "watch"]);
        assert_eq!(found[2], ["get", "list", "watch"]);
        let plain_velero = ClusterFacts {
            velero_namespace: Some(crate::backup::VELERO_NAMESPACE.into()),
            ..ClusterFacts::okd()
        };
        assert!(verbs(&score, &plain_velero).iter().all(Vec::is_empty));
        let mut off = score.clone();
        off.backup.enabled = false;
        assert!(verbs(&off, &oadp).iter().all(Vec::is_empty));
    }

    /// Per Role of the plan (namespace, role), its rules on Harmony's API group.
    fn harmony_rules(score: &TenantScore) -> Vec<(String, String, Vec<PolicyRule>)> {
        super::super::compile(score, &ClusterFacts::kubernetes())
            .objects()
            .iter()
            .filter_map(|o| match o {
                TenantObject::Role(r) => Some((
                    r.metadata.namespace.clone().unwrap(),
                    r.metadata.name.clone().unwrap(),
                    r.rules
                        .iter()
                        .flatten()
                        .filter(|rule| rule.api_groups.iter().flatten().any(|g| g == HARMONY_GROUP))
                        .cloned()
                        .collect(),
                )),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn with_room_for_more_namespaces_admins_ask_and_withdraw_and_everyone_reads_the_asks() {
        let score = TenantScore::new("acme").max_namespaces(3);
        let roles = harmony_rules(&score);
        let rule = |verbs: &[&str]| PolicyRule {
            api_groups: Some(vec![HARMONY_GROUP.into()]),
            resources: Some(vec![NAMESPACE_REQUESTS.into()]),
            verbs: verbs.iter().map(|v| v.to_string()).collect(),
            ..PolicyRule::default()
        };
        let read = ["get", "list", "watch"];
        assert_eq!(
            roles,
            [
                (
                    "acme".into(),
                    "tenant-admin".into(),
                    vec![rule(&["get", "list", "watch", "create", "delete"])]
                ),
                ("acme".into(), "tenant-developer".into(), vec![rule(&read)]),
                ("acme".into(), "tenant-viewer".into(), vec![rule(&read)]),
            ]
        );
        assert_eq!(
            namespace_request_verbs(TenantRole::Admin),
            ["get", "list", "watch", "create", "delete"]
        );
        assert_eq!(namespace_request_verbs(TenantRole::Viewer), read);
    }

    #[test]
    fn every_namespace_of_a_listed_tenant_with_room_gets_the_rules_and_a_full_one_none() {
        let listed = |max: u32| {
            TenantScore::new("acme")
                .with_namespaces(vec![
                    crate::TenantNamespace::new("acme-a"),
                    crate::TenantNamespace::new("acme-b"),
                ])
                .max_namespaces(max)
        };
        let roles = harmony_rules(&listed(3));
        assert_eq!(roles.len(), 6);
        assert!(
            roles.iter().all(|(_, _, rules)| rules.len() == 1),
            "{roles:?}"
        );
        assert!(
            harmony_rules(&listed(2))
                .iter()
                .all(|(_, _, rules)| rules.is_empty())
        );
        assert!(
            harmony_rules(&TenantScore::new("acme"))
                .iter()
                .all(|(_, _, rules)| rules.is_empty())
        );
    }

    #[test]
    fn three_roles_even_without_members() {
        let objects = objects(
            &TenantScore::new("acme"),
            &ClusterFacts::kubernetes(),
            false,
        );
        let names: Vec<&str> = objects.iter().map(TenantObject::name).collect();
        assert_eq!(
            names,
            [
                "tenant-admin",
                "tenant-developer",
                "tenant-viewer",
                "default"
            ]
        );
    }
}
