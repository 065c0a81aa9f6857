//! The API server's audit policy, so that tenant activity is on record (`harmony tenant
//! activity` reads it back).
//!
//! - Kubernetes: an `audit.k8s.io/v1` Policy for `kube-apiserver --audit-policy-file`. Rules
//!   are matched in order, the first match wins: Secrets, ConfigMaps (which may hold secret-like
//!   data) and tokens first, at `Metadata` (never a body); the platform's own components and
//!   health checks are not recorded; writes to RBAC, network policies, quotas, limit ranges,
//!   namespaces and workloads are recorded with their request and response; everything else at
//!   `Metadata`. The rules name no tenant: the API server matches them against the
//!   authenticated user, before impersonation, and reads the file only when it starts, so a
//!   policy per tenant would miss impersonated requests and need a restart for each new tenant.
//! - OKD: the `config.openshift.io/v1` APIServer `cluster`'s `spec.audit`: profile `Default`
//!   (metadata for every request) and, per tenant, a custom rule giving its groups (its
//!   members' `group`s, the groups its identity provider members are bound through, and
//!   `system:serviceaccounts:<namespace>`) `WriteRequestBodies`. OKD's profiles are fixed;
//!   custom rules name groups only, so `user:` members get `Default`.

use harmony_tenant::{ClusterFacts, ClusterFlavor, Identity, OidcFacts, TenantScore};
use serde::Serialize;

/// What `harmony cluster audit-policy render` renders, with notes for people.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditPolicyPlan {
    /// The document.
    pub document: AuditPolicyDocument,
    /// What the document cannot do, for people (standard error).
    #[serde(skip)]
    pub notes: Vec<String>,
}

/// The audit policy of one flavor.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum AuditPolicyDocument {
    /// `audit.k8s.io/v1` Policy, for `--audit-policy-file`.
    Kubernetes(Policy),
    /// `config.openshift.io/v1` APIServer `cluster`, for `oc apply --server-side`.
    Okd(ApiServer),
}

/// An audit level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Level {
    /// Not recorded.
    None,
    /// Who, what, when and the answer; no body.
    Metadata,
    /// Metadata and the request and response bodies.
    RequestResponse,
}

/// `audit.k8s.io/v1` Policy (the fields Harmony sets).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    /// `audit.k8s.io/v1`.
    pub api_version: &'static str,
    /// `Policy`.
    pub kind: &'static str,
    /// Its name, for people.
    pub metadata: Metadata,
    /// Stages never recorded: `RequestReceived` (each request once, when complete).
    pub omit_stages: Vec<&'static str>,
    /// Bodies recorded without their managed fields.
    pub omit_managed_fields: bool,
    /// In order: the first that matches decides.
    pub rules: Vec<PolicyRule>,
}

/// Object metadata: a name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metadata {
    /// The name.
    pub name: &'static str,
}

/// One audit policy rule; empty lists match everything.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRule {
    /// The level of the requests it matches.
    pub level: Level,
    /// Authenticated user names.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<&'static str>,
    /// Groups of the authenticated user.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub user_groups: Vec<&'static str>,
    /// Verbs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub verbs: Vec<&'static str>,
    /// Resources by API group.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<GroupResources>,
    /// Non-resource paths (`*` only as the last character).
    #[serde(rename = "nonResourceURLs", skip_serializing_if = "Vec::is_empty")]
    pub non_resource_urls: Vec<&'static str>,
}

/// Resources of one API group (`""` is the core group).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupResources {
    /// The API group.
    pub group: &'static str,
    /// Resources, `resource/subresource` for a subresource.
    pub resources: Vec<&'static str>,
}

/// `config.openshift.io/v1` APIServer (its `spec.audit` only).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiServer {
    /// `config.openshift.io/v1`.
    pub api_version: &'static str,
    /// `APIServer`.
    pub kind: &'static str,
    /// `cluster`, the one OKD reads.
    pub metadata: Metadata,
    /// The audit configuration.
    pub spec: ApiServerSpec,
}

/// APIServer `spec`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiServerSpec {
    /// `spec.audit`.
    pub audit: Audit,
}

/// APIServer `spec.audit`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Audit {
    /// The profile of requests no custom rule matches.
    pub profile: OkdProfile,
    /// Profiles per group, the first match wins.
    pub custom_rules: Vec<CustomRule>,
}

/// One of OKD's audit profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum OkdProfile {
    /// Metadata for every request (events not at all; OAuth tokens at request level).
    Default,
    /// As `Default`, plus request and response bodies of writes; Secrets, Routes and
    /// OAuthClients stay at metadata.
    WriteRequestBodies,
}

/// A profile for the members of one group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomRule {
    /// The group.
    pub group: String,
    /// Its profile.
    pub profile: OkdProfile,
}

/// Writes: the verbs whose bodies are recorded.
const WRITES: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];

/// The audit policy for the cluster `facts` describe, holding `tenants` (validated against
/// `facts`). Only OKD's reads them, and `facts.oidc` for the groups identity provider members
/// are bound through; the Kubernetes policy names no tenant.
pub fn audit_policy(facts: &ClusterFacts, tenants: &[TenantScore]) -> AuditPolicyPlan {
    match facts.flavor {
        ClusterFlavor::Kubernetes => AuditPolicyPlan {
            document: AuditPolicyDocument::Kubernetes(kubernetes_policy()),
            notes: Vec::new(),
        },
        ClusterFlavor::Okd => okd(tenants, facts.oidc.as_ref()),
    }
}

fn rule(level: Level) -> PolicyRule {
    PolicyRule {
        level,
        users: Vec::new(),
        user_groups: Vec::new(),
        verbs: Vec::new(),
        resources: Vec::new(),
        non_resource_urls: Vec::new(),
    }
}

fn group(group: &'static str, resources: &[&'static str]) -> GroupResources {
    GroupResources {
        group,
        resources: resources.to_vec(),
    }
}

fn kubernetes_policy() -> Policy {
    Policy {
        api_version: "audit.k8s.io/v1",
        kind: "Policy",
        metadata: Metadata {
            name: "harmony-tenant-activity",
        },
        omit_stages: vec!["RequestReceived"],
        omit_managed_fields: true,
        rules: vec![
            // First: whatever else matches later, these are never recorded with a body.
            PolicyRule {
                resources: vec![
                    group("", &["secrets", "configmaps", "serviceaccounts/token"]),
                    group("authentication.k8s.io", &["tokenreviews"]),
                ],
                ..rule(Level::Metadata)
            },
            // The platform's own components (kube-controller-manager's controllers run as
            // kube-system ServiceAccounts) and health checks: not tenant activity.
            PolicyRule {
                users: vec![
                    "system:apiserver",
                    "system:kube-controller-manager",
                    "system:kube-scheduler",
                    "system:kube-proxy",
                ],
                ..rule(Level::None)
            },
            PolicyRule {
                user_groups: vec!["system:nodes", "system:serviceaccounts:kube-system"],
                ..rule(Level::None)
            },
            PolicyRule {
                non_resource_urls: vec!["/healthz*", "/livez*", "/readyz*"],
                ..rule(Level::None)
            },
            PolicyRule {
                verbs: WRITES.to_vec(),
                resources: vec![
                    group(
                        "rbac.authorization.k8s.io",
                        &[
                            "roles",
                            "rolebindings",
                            "clusterroles",
                            "clusterrolebindings",
                        ],
                    ),
                    group("networking.k8s.io", &["networkpolicies"]),
                    group(
                        "policy.networking.k8s.io",
                        &["adminnetworkpolicies", "baselineadminnetworkpolicies"],
                    ),
                    group(
                        "",
                        &[
                            "resourcequotas",
                            "limitranges",
                            "namespaces",
                            "pods",
                            "pods/ephemeralcontainers",
                            "replicationcontrollers",
                            "replicationcontrollers/scale",
                        ],
                    ),
                    group(
                        "apps",
                        &[
                            "deployments",
                            "deployments/scale",
                            "statefulsets",
                            "statefulsets/scale",
                            "daemonsets",
                            "replicasets",
                            "replicasets/scale",
                        ],
                    ),
                    group("batch", &["jobs", "cronjobs"]),
                ],
                ..rule(Level::RequestResponse)
            },
            rule(Level::Metadata),
        ],
    }
}

fn okd(tenants: &[TenantScore], oidc: Option<&OidcFacts>) -> AuditPolicyPlan {
    let mut sorted: Vec<&TenantScore> = tenants.iter().collect();
    sorted.sort_by(|a, b| a.name().cmp(b.name()));
    let mut custom_rules: Vec<CustomRule> = Vec::new();
    let mut notes = Vec::new();
    for tenant in sorted {
        let mut users = Vec::new();
        let groups = tenant
            .rbac_config
            .members
            .iter()
            .filter_map(|m| match m.identity() {
                Some(Identity::Group(group)) => Some(group.to_string()),
                Some(Identity::User(user)) => {
                    users.push(user);
                    None
                }
                Some(Identity::OidcUser(_) | Identity::OidcGroup(_)) => {
                    oidc.and_then(|oidc| oidc.bound_group(tenant.name(), m))
                }
                Some(Identity::ServiceAccount) | None => None,
            })
            .chain([format!("system:serviceaccounts:{}", tenant.namespace())]);
        for group in groups {
            if !custom_rules.iter().any(|r| r.group == group) {
                custom_rules.push(CustomRule {
                    group,
                    profile: OkdProfile::WriteRequestBodies,
                });
            }
        }
        if !users.is_empty() {
            notes.push(format!(
                "{}: users {} are recorded at profile Default (metadata, no bodies): OKD's \
                 custom rules name groups only; make them members through a group to record \
                 their writes' bodies",
                tenant.name(),
                users.join(", ")
            ));
        }
    }
    AuditPolicyPlan {
        document: AuditPolicyDocument::Okd(ApiServer {
            api_version: "config.openshift.io/v1",
            kind: "APIServer",
            metadata: Metadata { name: "cluster" },
            spec: ApiServerSpec {
                audit: Audit {
                    profile: OkdProfile::Default,
                    custom_rules,
                },
            },
        }),
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use harmony_tenant::{Member, TenantRole};
    use serde_json::json;

    #[test]
    fn secrets_and_tokens_come_first_at_metadata_and_nothing_else_matches_them_before() {
        let AuditPolicyDocument::Kubernetes(policy) =
            audit_policy(&ClusterFacts::kubernetes(), &[]).document
        else {
            panic!("a Kubernetes policy")
        };
        let first = &policy.rules[0];
        assert_eq!(first.level, Level::Metadata);
        assert!(first.users.is_empty() && first.user_groups.is_empty() && first.verbs.is_empty());
        let json = serde_json::to_value(first).unwrap();
        assert_eq!(
            json,
            json!({"level": "Metadata", "resources": [
                {"group": "", "resources": ["secrets", "configmaps", "serviceaccounts/token"]},
                {"group": "authentication.k8s.io", "resources": ["tokenreviews"]},
            ]})
        );
        // Only one rule records bodies, and it names none of those resources.
        let bodies: Vec<&PolicyRule> = policy
            .rules
            .iter()
            .filter(|r| r.level == Level::RequestResponse)
            .collect();
        let [writes] = &bodies[..] else {
            panic!("one rule with bodies")
        };
        assert_eq!(writes.verbs, WRITES);
        for g in &writes.resources {
            for r in &g.resources {
                assert!(
                    ![
                        "secrets",
                        "configmaps",
                        "serviceaccounts/token",
                        "tokenreviews",
                        "*"
                    ]
                    .contains(r),
                    "{r}"
                );
            }
        }
        assert_eq!(policy.rules.last().unwrap(), &rule(Level::Metadata));
        assert_eq!(policy.omit_stages, ["RequestReceived"]);
    }

    #[test]
    fn okd_gives_each_tenant_group_write_bodies_and_names_the_users_it_cannot() {
        let tenants = [
            TenantScore::new("globex")
                .member(Member::group("devs", TenantRole::Developer, "globex-devs"))
                .member(Member::group("ops", TenantRole::Viewer, "ops").shared()),
            TenantScore::new("acme")
                .in_namespace("acme-prod")
                .member(Member::user("alice", TenantRole::Admin, "alice@acme.com"))
                .member(Member::group("devs", TenantRole::Developer, "acme-devs"))
                .member(Member::group("ops", TenantRole::Viewer, "ops").shared())
                .member(Member::service_account("ci", TenantRole::Developer)),
        ];
        let plan = audit_policy(&ClusterFacts::okd(), &tenants);
        assert_eq!(
            serde_json::to_value(&plan.document).unwrap(),
            json!({
                "apiVersion": "config.openshift.io/v1",
                "kind": "APIServer",
                "metadata": {"name": "cluster"},
                "spec": {"audit": {"profile": "Default", "customRules": [
                    {"group": "acme-devs", "profile": "WriteRequestBodies"},
                    {"group": "ops", "profile": "WriteRequestBodies"},
                    {"group": "system:serviceaccounts:acme-prod", "profile": "WriteRequestBodies"},
                    {"group": "globex-devs", "profile": "WriteRequestBodies"},
                    {"group": "system:serviceaccounts:globex", "profile": "WriteRequestBodies"},
                ]}}
            })
        );
        let [note] = &plan.notes[..] else {
            panic!("one note: {:?}", plan.notes)
        };
        assert!(
            note.starts_with("acme: users alice@acme.com are recorded at profile Default"),
            "{note}"
        );
    }

    #[test]
    fn okd_gives_the_groups_identity_provider_members_are_bound_through_write_bodies() {
        let tenants = [TenantScore::new("acme")
            .member(Member::oidc_user("alice", TenantRole::Developer, "alice"))
            .member(Member::oidc_user("bob", TenantRole::Developer, "bob"))
            .member(Member::oidc_user("carol", TenantRole::Admin, "carol"))
            .member(Member::oidc_group("sre", TenantRole::Viewer, "acme-sre"))];
        // As the identity provider file gives them: OKD's OAuth server adds no prefix.
        let mut facts = ClusterFacts::okd();
        facts.oidc = Some(OidcFacts {
            username_prefix: String::new(),
            groups_prefix: String::new(),
        });
        let plan = audit_policy(&facts, &tenants);
        let AuditPolicyDocument::Okd(server) = &plan.document else {
            panic!("an APIServer")
        };
        let groups: Vec<&str> = server
            .spec
            .audit
            .custom_rules
            .iter()
            .map(|r| r.group.as_str())
            .collect();
        assert_eq!(
            groups,
            [
                "tenant-acme-developers",
                "tenant-acme-admins",
                "acme-sre",
                "system:serviceaccounts:acme",
            ]
        );
        assert!(
            server
                .spec
                .audit
                .custom_rules
                .iter()
                .all(|r| r.profile == OkdProfile::WriteRequestBodies)
        );
        assert!(plan.notes.is_empty(), "{:?}", plan.notes);
    }
}
