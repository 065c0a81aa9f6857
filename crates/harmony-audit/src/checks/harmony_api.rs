//! HMT-RBAC-012: of Harmony's own API group, tenant subjects hold only the self-service rights on
//! NamespaceRequests, through the tenant Roles: admins create, read and delete them, developers
//! and viewers read them. Never an update or patch (the operator decides on the spec it saw),
//! never their status (the operator's), never Tenants, and nothing through any other role (the
//! tenant Roles of the tenant's other namespaces are its own roles too).

use harmony_tenant::{HARMONY_GROUP, NAMESPACE_REQUESTS, TenantRole, namespace_request_verbs};
use k8s_openapi::api::rbac::v1::PolicyRule;

use super::{Check, Context, Tenant};
use crate::rbac::{Scope, describe_rule};

/// Harmony's resources, which a rule of every API group (`*`) reaches too.
const HARMONY_RESOURCES: [&str; 2] = ["tenants", NAMESPACE_REQUESTS];

/// What `rule` grants on Harmony's API group beyond `role`'s NamespaceRequest rights (`None`:
/// no right at all), as `verb resource`; wildcards stay literal, so a wildcard is always beyond.
fn beyond(rule: &PolicyRule, role: Option<TenantRole>) -> Vec<String> {
    let groups: Vec<&str> = rule
        .api_groups
        .iter()
        .flatten()
        .map(String::as_str)
        .collect();
    let named = groups.contains(&HARMONY_GROUP);
    if !named && !groups.contains(&"*") {
        return Vec::new();
    }
    let contract = role.map(namespace_request_verbs).unwrap_or_default();
    let mut out = Vec::new();
    for resource in rule.resources.iter().flatten() {
        let base = resource.split('/').next().unwrap_or_default();
        if !(named || base == "*" || HARMONY_RESOURCES.contains(&base)) {
            continue;
        }
        for verb in &rule.verbs {
            if !(resource == NAMESPACE_REQUESTS && contract.contains(&verb.as_str())) {
                out.push(format!("{verb} {resource}"));
            }
        }
    }
    out
}

/// HMT-RBAC-012: the tenant Roles of the namespace hold, of Harmony's API group, at most their
/// NamespaceRequest rights; every other grant of a tenant subject holds none of it.
pub(super) fn check(ctx: &Context, t: &Tenant) -> Check {
    let ns = t.namespace.as_str();
    let mut failures = Vec::new();
    for role in TenantRole::ALL {
        let name = role.role_name();
        let bound_by: Vec<String> = ctx
            .by_namespace
            .get(ns)
            .role_bindings
            .iter()
            .filter(|b| b.role_ref.kind == "Role" && b.role_ref.name == name)
            .filter_map(|b| b.metadata.name.as_deref())
            .map(|b| format!("{ns}/{b}"))
            .collect();
        let bound_by = match bound_by.as_slice() {
            [] => "bound by no RoleBinding".to_string(),
            names => format!("bound by RoleBinding {}", names.join(", ")),
        };
        for g in ctx.authz.role_grants("Role", &name, ns) {
            for what in beyond(&g.rule, Some(role)) {
                failures.push(format!(
                    "{} rule #{} ({bound_by}) lets its members {what}: {}",
                    g.role,
                    g.rule_index,
                    describe_rule(&g.rule)
                ));
            }
        }
    }
    for s in &t.subjects {
        for g in ctx.authz.what_can(s) {
            // The tenant Roles of the tenant's namespaces (this one or its others) are held to
            // their contract above, by each namespace's own check.
            let tenant_role = match &g.scope {
                Scope::Namespace(other) if ctx.same_tenant(t, other) => TenantRole::ALL
                    .iter()
                    .any(|r| g.role == format!("Role {other}/{}", r.role_name())),
                _ => false,
            };
            if tenant_role {
                continue;
            }
            for what in beyond(&g.rule, None) {
                failures.push(format!("{s} can {what}: {g}: {}", describe_rule(&g.rule)));
            }
        }
    }
    let rights = |role: TenantRole| namespace_request_verbs(role).join(",");
    Check::from_failures(
        "HMT-RBAC-012",
        "Of Harmony's API group, tenant roles only read (admins also create and delete) \
         NamespaceRequests",
        failures,
        vec![format!(
            "of {HARMONY_GROUP}, tenant-admin holds at most {} {NAMESPACE_REQUESTS}, \
             tenant-developer and tenant-viewer {}, and {} subjects nothing else",
            rights(TenantRole::Admin),
            rights(TenantRole::Viewer),
            t.subjects.len()
        )],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(group: &str, resources: &[&str], verbs: &[&str]) -> PolicyRule {
        PolicyRule {
            api_groups: Some(vec![group.into()]),
            resources: Some(resources.iter().map(|r| r.to_string()).collect()),
            verbs: verbs.iter().map(|v| v.to_string()).collect(),
            ..PolicyRule::default()
        }
    }

    const ADMIN: &[&str] = &["create", "get", "list", "watch", "delete"];
    const READ: &[&str] = &["get", "list", "watch"];

    #[test]
    fn the_self_service_rights_are_within_each_role_s_contract() {
        let asks = rule(HARMONY_GROUP, &[NAMESPACE_REQUESTS], ADMIN);
        assert!(beyond(&asks, Some(TenantRole::Admin)).is_empty());
        let reads = rule(HARMONY_GROUP, &[NAMESPACE_REQUESTS], READ);
        for role in TenantRole::ALL {
            assert!(beyond(&reads, Some(role)).is_empty(), "{role:?}");
        }
        // Rules of other groups are none of this check's business.
        let pods = rule("", &["pods", "tenants"], &["*"]);
        assert!(beyond(&pods, None).is_empty());
        let everywhere = rule("*", &["pods", "deployments"], &["get"]);
        assert!(beyond(&everywhere, None).is_empty());
    }

    #[test]
    fn every_other_right_on_harmony_s_group_is_beyond() {
        for (role, rule, expected) in [
            (
                TenantRole::Developer,
                rule(HARMONY_GROUP, &[NAMESPACE_REQUESTS], &["create", "delete"]),
                vec!["create namespacerequests", "delete namespacerequests"],
            ),
            (
                TenantRole::Admin,
                rule(HARMONY_GROUP, &[NAMESPACE_REQUESTS], &["update", "patch"]),
                vec!["update namespacerequests", "patch namespacerequests"],
            ),
            (
                TenantRole::Admin,
                rule(HARMONY_GROUP, &[NAMESPACE_REQUESTS], &["deletecollection"]),
                vec!["deletecollection namespacerequests"],
            ),
            (
                TenantRole::Admin,
                rule(
                    HARMONY_GROUP,
                    &["namespacerequests/status"],
                    &["get", "patch"],
                ),
                vec![
                    "get namespacerequests/status",
                    "patch namespacerequests/status",
                ],
            ),
            (
                TenantRole::Admin,
                rule(HARMONY_GROUP, &["tenants"], &["get"]),
                vec!["get tenants"],
            ),
            (
                TenantRole::Admin,
                rule(HARMONY_GROUP, &["*"], &["get"]),
                vec!["get *"],
            ),
            (
                TenantRole::Admin,
                rule(HARMONY_GROUP, &[NAMESPACE_REQUESTS], &["*"]),
                vec!["* namespacerequests"],
            ),
            (
                TenantRole::Viewer,
                rule("*", &["namespacerequests"], &["create"]),
                vec!["create namespacerequests"],
            ),
            (
                TenantRole::Viewer,
                rule("*", &["*"], &["list"]),
                vec!["list *"],
            ),
        ] {
            assert_eq!(beyond(&rule, Some(role)), expected, "{role:?} {rule:?}");
        }
        // Through any other role, even reading is beyond.
        let reads = rule(HARMONY_GROUP, &[NAMESPACE_REQUESTS], &["get"]);
        assert_eq!(beyond(&reads, None), ["get namespacerequests"]);
    }
}
