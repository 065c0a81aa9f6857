//! Who is impersonated: one representative member per tenant role, from the tenant's live
//! member RoleBindings or from its tenant file.

use harmony_tenant::{Identity, MANAGED_BY_LABEL, MANAGED_BY_VALUE, TenantRole, TenantScore};
use k8s_openapi::api::rbac::v1::RoleBinding;
use serde::Serialize;

/// The group every authenticated identity is in.
const AUTHENTICATED: &str = "system:authenticated";

/// An identity to impersonate: a member of one role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProbeIdentity {
    /// The member's role.
    pub role: TenantRole,
    /// The member's name (its RoleBinding is `member-<name>`).
    pub member: String,
    /// The member's subject, such as `User alice@acme.com` or `Group acme-devs`.
    pub subject: String,
    /// The user name sent as `Impersonate-User`.
    pub user: String,
    /// The groups sent as `Impersonate-Group`.
    pub groups: Vec<String>,
}

impl ProbeIdentity {
    /// The identity of a member subject of `kind` (`User`, `Group`, `ServiceAccount`) named
    /// `name` (a ServiceAccount's in `namespace`); `None` for other kinds.
    ///
    /// A group gets a synthetic user named after it; every identity is in
    /// `system:authenticated` (`system:anonymous` in `system:unauthenticated` instead), a
    /// ServiceAccount also in its own groups.
    fn of(role: TenantRole, member: &str, kind: &str, name: &str, namespace: &str) -> Option<Self> {
        let (user, groups) = match kind {
            "User" if name == "system:anonymous" => {
                (name.to_string(), vec!["system:unauthenticated".to_string()])
            }
            "User" => (name.to_string(), vec![AUTHENTICATED.to_string()]),
            "Group" => (
                format!("harmony-probe:member-of:{name}"),
                vec![name.to_string(), AUTHENTICATED.to_string()],
            ),
            "ServiceAccount" => (
                format!("system:serviceaccount:{namespace}:{name}"),
                vec![
                    "system:serviceaccounts".to_string(),
                    format!("system:serviceaccounts:{namespace}"),
                    AUTHENTICATED.to_string(),
                ],
            ),
            _ => return None,
        };
        Some(Self {
            role,
            member: member.to_string(),
            subject: format!("{kind} {name}"),
            user,
            groups,
        })
    }
}

/// One identity per role: the first member of each role by name, roles in order.
fn representatives(mut all: Vec<ProbeIdentity>) -> Vec<ProbeIdentity> {
    all.sort_by(|a, b| (a.role, &a.member).cmp(&(b.role, &b.member)));
    all.dedup_by_key(|i| i.role);
    all
}

/// The identities of the member RoleBindings (`member-*`, managed by Harmony, bound to a tenant
/// Role) of a namespace, one per role.
pub fn from_bindings(namespace: &str, bindings: &[RoleBinding]) -> Vec<ProbeIdentity> {
    let all = bindings.iter().filter_map(|binding| {
        let name = binding.metadata.name.as_deref()?;
        let member = name.strip_prefix("member-")?;
        let managed = binding
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(MANAGED_BY_LABEL))
            .is_some_and(|v| v == MANAGED_BY_VALUE);
        let role = TenantRole::ALL
            .into_iter()
            .find(|r| binding.role_ref.kind == "Role" && binding.role_ref.name == r.role_name())?;
        let subject = binding.subjects.as_ref()?.first()?;
        let subject_namespace = subject.namespace.as_deref().unwrap_or(namespace);
        managed
            .then(|| {
                ProbeIdentity::of(
                    role,
                    member,
                    &subject.kind,
                    &subject.name,
                    subject_namespace,
                )
            })
            .flatten()
    });
    representatives(all.collect())
}

/// The identities of a tenant file's members, one per role.
pub fn from_score(score: &TenantScore) -> Vec<ProbeIdentity> {
    let all = score.rbac_config.members.iter().filter_map(|m| {
        let (kind, name) = match m.identity()? {
            Identity::User(user) => ("User", user),
            Identity::Group(group) => ("Group", group),
            Identity::ServiceAccount => ("ServiceAccount", m.name.as_str()),
            // Bound with the API server's prefixes, which the tenant file does not carry: the
            // cluster's bindings (`from_bindings`) name them.
            Identity::OidcUser(_) | Identity::OidcGroup(_) => return None,
        };
        ProbeIdentity::of(m.role, &m.name, kind, name, score.namespace())
    });
    representatives(all.collect())
}
