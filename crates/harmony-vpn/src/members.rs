//! The tenants and members that exist (from the tenant files), as plain data.

use std::collections::{BTreeMap, BTreeSet};

use harmony_tenant::TenantScore;

use crate::VpnError;

/// Tenant → member names known to exist. Built by the caller from the tenant files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownMembers(BTreeMap<String, BTreeSet<String>>);

impl KnownMembers {
    /// From `(tenant, member)` pairs; a tenant with no members is added with [`Self::add_tenant`].
    pub fn from_pairs<T: Into<String>, M: Into<String>>(
        pairs: impl IntoIterator<Item = (T, M)>,
    ) -> Self {
        let mut known = Self::default();
        for (tenant, member) in pairs {
            known
                .0
                .entry(tenant.into())
                .or_default()
                .insert(member.into());
        }
        known
    }

    /// The tenants of `tenants` and their members.
    pub fn of(tenants: &[TenantScore]) -> Self {
        let mut known = Self::default();
        for tenant in tenants {
            known.add_tenant(tenant.name());
            for member in &tenant.rbac_config.members {
                known.add_member(tenant.name(), &member.name);
            }
        }
        known
    }

    /// Whether `tenant` is known.
    pub fn has_tenant(&self, tenant: &str) -> bool {
        self.0.contains_key(tenant)
    }

    /// Records a tenant (even without members).
    pub fn add_tenant(&mut self, tenant: impl Into<String>) {
        self.0.entry(tenant.into()).or_default();
    }

    /// Records a member of a tenant.
    pub fn add_member(&mut self, tenant: impl Into<String>, member: impl Into<String>) {
        self.0
            .entry(tenant.into())
            .or_default()
            .insert(member.into());
    }

    /// True when the member exists.
    pub fn contains(&self, tenant: &str, member: &str) -> bool {
        self.0.get(tenant).is_some_and(|m| m.contains(member))
    }

    /// Ok when the member exists; otherwise says whether the tenant or the member is unknown.
    pub fn check(&self, tenant: &str, member: &str) -> Result<(), VpnError> {
        let members = self.0.get(tenant).ok_or_else(|| VpnError::UnknownTenant {
            tenant: tenant.into(),
            known: list(self.0.keys()),
        })?;
        if members.contains(member) {
            Ok(())
        } else {
            Err(VpnError::UnknownMember {
                tenant: tenant.into(),
                member: member.into(),
                known: list(members),
            })
        }
    }
}

fn list<'a>(names: impl IntoIterator<Item = &'a String>) -> String {
    let names: Vec<&str> = names.into_iter().map(String::as_str).collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}
