//! The directory tenants need in the identity provider, what it holds, and the changes between
//! them: pure, so the plan is the diff and every adapter applies the same changes.
//!
//! Each tenant with identity provider members gets one group per role,
//! `tenant-<tenant>-<role>s` ([`TenantRole::group_name`]), whose members are its `oidc.user`
//! members of that role. Harmony marks its groups (attributes [`MANAGED_BY`] and [`TENANT`]) and
//! touches no other group; users it only creates when missing, never deletes, and logs out when
//! they lose a group.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use harmony_tenant::{Identity, TenantRole, TenantScore};

/// The attribute (and value `harmony`) that marks what harmony created and keeps.
pub const MANAGED_BY: &str = "harmony.nationtech.io/managed-by";
/// The value of [`MANAGED_BY`].
pub const MANAGED_BY_VALUE: &str = "harmony";
/// The attribute naming the tenant of a group harmony keeps.
pub const TENANT: &str = "harmony.nationtech.io/tenant";

/// The groups (with their tenant and members) the tenants need.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Desired {
    /// By group name.
    pub groups: BTreeMap<String, DesiredGroup>,
}

/// One group harmony keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredGroup {
    /// The tenant it belongs to.
    pub tenant: String,
    /// Its members' user names.
    pub members: BTreeSet<String>,
}

impl Desired {
    /// The users of every group.
    pub fn users(&self) -> BTreeSet<&str> {
        self.groups
            .values()
            .flat_map(|g| g.members.iter().map(String::as_str))
            .collect()
    }
}

/// The groups `tenants` need: the three role groups of every tenant with an `oidc.user`
/// member, each holding its users of that role.
pub fn desired(tenants: &[TenantScore]) -> Desired {
    let mut groups = BTreeMap::new();
    for tenant in tenants {
        let users: Vec<(TenantRole, &str)> = tenant
            .rbac_config
            .members
            .iter()
            .filter_map(|m| match m.identity() {
                Some(Identity::OidcUser(user)) => Some((m.role, user)),
                _ => None,
            })
            .collect();
        if users.is_empty() {
            continue;
        }
        for role in TenantRole::ALL {
            let members = users
                .iter()
                .filter(|(r, _)| *r == role)
                .map(|(_, user)| user.to_string())
                .collect();
            groups.insert(
                role.group_name(tenant.name()),
                DesiredGroup {
                    tenant: tenant.name().to_string(),
                    members,
                },
            );
        }
    }
    Desired { groups }
}

/// Who a group in the identity provider belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// Harmony, for this tenant.
    Harmony(String),
    /// Someone else (no harmony mark).
    Other,
}

/// One group as the identity provider holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedGroup {
    /// Its owner, by its marks.
    pub owner: Owner,
    /// Its members' user names (read for harmony's groups only).
    pub members: BTreeSet<String>,
}

/// What the identity provider holds, as far as the diff needs: the groups named like a desired
/// group or marked as harmony's, and which of the desired users exist.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    /// By group name.
    pub groups: BTreeMap<String, ObservedGroup>,
    /// The user names that exist.
    pub users: BTreeSet<String>,
}

/// One change to the identity provider's directory, in the order [`diff`] gives them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    /// Create group `group` of `tenant`, marked as harmony's.
    CreateGroup {
        /// The group.
        group: String,
        /// Its tenant.
        tenant: String,
    },
    /// Create user `user` (enabled; the person completes the profile at first login).
    CreateUser {
        /// The user name.
        user: String,
    },
    /// Add `user` to `group`.
    Join {
        /// The user name.
        user: String,
        /// The group.
        group: String,
    },
    /// Remove `user` from `group`.
    Leave {
        /// The user name.
        user: String,
        /// The group.
        group: String,
    },
    /// Delete harmony's group `group` (its tenant has no identity provider member left).
    DeleteGroup {
        /// The group.
        group: String,
    },
    /// End every session of `user` (it lost a group: its refresh tokens must not outlive that).
    Logout {
        /// The user name.
        user: String,
    },
}

impl Change {
    /// `create-group`, `join`, ...: the action's name in plans and the audit log.
    pub fn action(&self) -> &'static str {
        match self {
            Self::CreateGroup { .. } => "create-group",
            Self::CreateUser { .. } => "create-user",
            Self::Join { .. } => "join",
            Self::Leave { .. } => "leave",
            Self::DeleteGroup { .. } => "delete-group",
            Self::Logout { .. } => "logout",
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CreateGroup { group, tenant } => {
                write!(f, "+ group {group} (tenant {tenant})")
            }
            Self::CreateUser { user } => write!(f, "+ user {user}"),
            Self::Join { user, group } => write!(f, "+ {user} in {group}"),
            Self::Leave { user, group } => write!(f, "- {user} from {group}"),
            Self::DeleteGroup { group } => write!(f, "- group {group}"),
            Self::Logout { user } => write!(f, "~ sessions of {user} ended"),
        }
    }
}

/// A group harmony needs but may not take: it exists and is not harmony's for that tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The group.
    pub group: String,
    /// The tenant that needs it.
    pub tenant: String,
    /// Its current owner.
    pub owner: Owner,
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            group,
            tenant,
            owner,
        } = self;
        match owner {
            Owner::Other => write!(
                f,
                "group `{group}` exists in the identity provider and is not harmony's (no \
                 `{MANAGED_BY}` attribute), so tenant `{tenant}` cannot use it: rename or delete \
                 that group, or rename the tenant"
            ),
            Owner::Harmony(other) => write!(
                f,
                "group `{group}` is harmony's group of tenant `{other}`, not of tenant \
                 `{tenant}`: fix or delete its `{TENANT}` attribute"
            ),
        }
    }
}

/// The changes that make `observed` hold `desired`: groups and users created first, then
/// joins, leaves, deletions of harmony's groups no tenant needs, and a logout of every user that
/// lost a group. Empty when nothing differs. Refused with every conflict when a needed group
/// exists and is not harmony's for its tenant: then nothing may change.
pub fn diff(desired: &Desired, observed: &Observed) -> Result<Vec<Change>, Vec<Conflict>> {
    let conflicts: Vec<Conflict> = desired
        .groups
        .iter()
        .filter_map(|(name, want)| {
            let have = observed.groups.get(name)?;
            (have.owner != Owner::Harmony(want.tenant.clone())).then(|| Conflict {
                group: name.clone(),
                tenant: want.tenant.clone(),
                owner: have.owner.clone(),
            })
        })
        .collect();
    if !conflicts.is_empty() {
        return Err(conflicts);
    }
    let empty = BTreeSet::new();
    let mut changes = Vec::new();
    let mut logouts = BTreeSet::new();
    for (name, want) in &desired.groups {
        if !observed.groups.contains_key(name) {
            changes.push(Change::CreateGroup {
                group: name.clone(),
                tenant: want.tenant.clone(),
            });
        }
    }
    for user in desired.users() {
        if !observed.users.contains(user) {
            changes.push(Change::CreateUser {
                user: user.to_string(),
            });
        }
    }
    for (name, want) in &desired.groups {
        let have = observed.groups.get(name).map_or(&empty, |g| &g.members);
        for user in want.members.difference(have) {
            changes.push(Change::Join {
                user: user.clone(),
                group: name.clone(),
            });
        }
    }
    for (name, have) in &observed.groups {
        if !matches!(have.owner, Owner::Harmony(_)) {
            continue;
        }
        match desired.groups.get(name) {
            Some(want) => {
                for user in have.members.difference(&want.members) {
                    changes.push(Change::Leave {
                        user: user.clone(),
                        group: name.clone(),
                    });
                    logouts.insert(user.clone());
                }
            }
            None => {
                changes.push(Change::DeleteGroup {
                    group: name.clone(),
                });
                logouts.extend(have.members.iter().cloned());
            }
        }
    }
    changes.extend(logouts.into_iter().map(|user| Change::Logout { user }));
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use harmony_tenant::Member;

    fn tenants() -> Vec<TenantScore> {
        vec![
            TenantScore::new("acme")
                .member(Member::oidc_user("alice", TenantRole::Developer, "alice"))
                .member(Member::oidc_user("bob", TenantRole::Admin, "bob"))
                .member(Member::user("carol", TenantRole::Viewer, "carol@acme.com"))
                .member(Member::oidc_group("ops", TenantRole::Admin, "acme-ops")),
            TenantScore::new("plain").member(Member::user("dan", TenantRole::Admin, "dan")),
        ]
    }

    fn owned(tenant: &str, members: &[&str]) -> ObservedGroup {
        ObservedGroup {
            owner: Owner::Harmony(tenant.into()),
            members: members.iter().map(|m| m.to_string()).collect(),
        }
    }

    fn shown(changes: &[Change]) -> Vec<String> {
        changes.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn tenants_with_identity_provider_users_get_a_group_per_role() {
        let desired = desired(&tenants());
        let groups: Vec<(&str, Vec<&str>)> = desired
            .groups
            .iter()
            .map(|(name, g)| {
                (
                    name.as_str(),
                    g.members.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            groups,
            [
                ("tenant-acme-admins", vec!["bob"]),
                ("tenant-acme-developers", vec!["alice"]),
                ("tenant-acme-viewers", vec![]),
            ]
        );
        assert_eq!(desired.users(), BTreeSet::from(["alice", "bob"]));
    }

    #[test]
    fn an_empty_directory_gets_groups_users_and_memberships_in_order() {
        let changes = diff(&desired(&tenants()), &Observed::default()).unwrap();
        assert_eq!(
            shown(&changes),
            [
                "+ group tenant-acme-admins (tenant acme)",
                "+ group tenant-acme-developers (tenant acme)",
                "+ group tenant-acme-viewers (tenant acme)",
                "+ user alice",
                "+ user bob",
                "+ bob in tenant-acme-admins",
                "+ alice in tenant-acme-developers",
            ]
        );
    }

    #[test]
    fn a_directory_that_matches_needs_no_change() {
        let observed = Observed {
            groups: BTreeMap::from([
                ("tenant-acme-admins".into(), owned("acme", &["bob"])),
                ("tenant-acme-developers".into(), owned("acme", &["alice"])),
                ("tenant-acme-viewers".into(), owned("acme", &[])),
            ]),
            users: ["alice", "bob", "zed"].map(String::from).into(),
        };
        assert_eq!(diff(&desired(&tenants()), &observed).unwrap(), []);
    }

    #[test]
    fn removed_members_leave_and_are_logged_out_and_unneeded_groups_go() {
        let observed = Observed {
            groups: BTreeMap::from([
                ("tenant-acme-admins".into(), owned("acme", &["bob", "eve"])),
                ("tenant-acme-developers".into(), owned("acme", &[])),
                ("tenant-acme-viewers".into(), owned("acme", &[])),
                ("tenant-gone-admins".into(), owned("gone", &["fay"])),
                (
                    "someone-elses".into(),
                    ObservedGroup {
                        owner: Owner::Other,
                        members: ["gus".to_string()].into(),
                    },
                ),
            ]),
            users: ["alice", "bob"].map(String::from).into(),
        };
        let changes = diff(&desired(&tenants()), &observed).unwrap();
        assert_eq!(
            shown(&changes),
            [
                "+ alice in tenant-acme-developers",
                "- eve from tenant-acme-admins",
                "- group tenant-gone-admins",
                "~ sessions of eve ended",
                "~ sessions of fay ended",
            ]
        );
    }

    #[test]
    fn a_needed_group_that_is_not_harmonys_for_the_tenant_refuses_every_change() {
        let observed = Observed {
            groups: BTreeMap::from([
                (
                    "tenant-acme-admins".into(),
                    ObservedGroup {
                        owner: Owner::Other,
                        members: BTreeSet::new(),
                    },
                ),
                ("tenant-acme-viewers".into(), owned("globex", &[])),
            ]),
            users: BTreeSet::new(),
        };
        let conflicts = diff(&desired(&tenants()), &observed).unwrap_err();
        let shown: Vec<String> = conflicts.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "group `tenant-acme-admins` exists in the identity provider and is not harmony's \
                 (no `harmony.nationtech.io/managed-by` attribute), so tenant `acme` cannot use \
                 it: rename or delete that group, or rename the tenant",
                "group `tenant-acme-viewers` is harmony's group of tenant `globex`, not of tenant \
                 `acme`: fix or delete its `harmony.nationtech.io/tenant` attribute",
            ]
        );
    }
}
