//! The operator's own account: the ServiceAccount `harmony operator install` renders may do what
//! reconciling tenants needs and nothing that reaches beyond it: no wildcard, no Secret read, no
//! impersonation (nor ServiceAccount tokens, which amount to it), and `bind` or `escalate` only on
//! the tenant roles a tenant plan binds.

use k8s_openapi::api::rbac::v1::PolicyRule;

use super::rbac::TENANT_ROLES;
use super::{Check, Context};
use crate::rbac::{Grant, Request, SubjectRef, describe_rule, rule_allows};

/// The namespace of the operator's ServiceAccount.
pub const OPERATOR_NAMESPACE: &str = "harmony-system";
/// The operator's ServiceAccount (and the name of its ClusterRole and binding).
pub const OPERATOR_ACCOUNT: &str = "harmony-operator";

const RBAC: &str = "rbac.authorization.k8s.io";

/// The objects of `resource` (of `group`) that `rule` lets one `verb`: the names it lists, or
/// `""` for every object when it lists none.
fn allowed<'r>(rule: &'r PolicyRule, verb: &str, group: &str, resource: &str) -> Vec<&'r str> {
    let names: Vec<&str> = match rule.resource_names.as_deref() {
        Some(names) if !names.is_empty() => names.iter().map(String::as_str).collect(),
        _ => vec![""],
    };
    names
        .into_iter()
        .filter(|name| {
            rule_allows(
                rule,
                &Request::resource(verb, group, resource, "").named(name),
            )
        })
        .collect()
}

fn allows_any(rule: &PolicyRule, verbs: &[&str], targets: &[(&str, &str)]) -> bool {
    verbs.iter().any(|verb| {
        targets
            .iter()
            .any(|(group, resource)| !allowed(rule, verb, group, resource).is_empty())
    })
}

fn wildcard(rule: &PolicyRule) -> bool {
    let star = |list: Option<&Vec<String>>| list.into_iter().flatten().any(|v| v == "*");
    star(Some(&rule.verbs))
        || star(rule.api_groups.as_ref())
        || star(rule.non_resource_urls.as_ref())
        || rule
            .resources
            .iter()
            .flatten()
            .any(|r| r == "*" || r.starts_with("*/"))
}

/// Whether `rule` lets one bind or escalate a ClusterRole, or a Role other than a tenant role.
fn beyond_tenant_roles(rule: &PolicyRule) -> bool {
    ["bind", "escalate"].iter().any(|verb| {
        !allowed(rule, verb, RBAC, "clusterroles").is_empty()
            || allowed(rule, verb, RBAC, "roles")
                .iter()
                .any(|name| !TENANT_ROLES.contains(name))
    })
}

/// Why `rule` reaches beyond what the operator needs, one reason each.
fn reasons(rule: &PolicyRule) -> Vec<&'static str> {
    let impersonated = [
        ("", "users"),
        ("", "groups"),
        ("", "serviceaccounts"),
        ("authentication.k8s.io", "userextras"),
        ("authentication.k8s.io", "uids"),
    ];
    [
        (wildcard(rule), "holds a wildcard"),
        (
            allows_any(rule, &["get", "list", "watch"], &[("", "secrets")]),
            "reads Secrets",
        ),
        (
            allows_any(rule, &["impersonate"], &impersonated),
            "impersonates",
        ),
        (
            allows_any(rule, &["create"], &[("", "serviceaccounts/token")]),
            "mints ServiceAccount tokens",
        ),
        (
            beyond_tenant_roles(rule),
            "binds or escalates roles other than the tenant roles",
        ),
    ]
    .into_iter()
    .filter_map(|(reaches, why)| reaches.then_some(why))
    .collect()
}

fn line(g: &Grant) -> String {
    format!("{g}: {}", describe_rule(&g.rule))
}

/// `HMT-OPERATOR-001` for the operator's ServiceAccount, when the audited objects hold it or a
/// binding names it; nothing otherwise.
pub(super) fn checks(ctx: &Context) -> Vec<Check> {
    let account = SubjectRef::ServiceAccount {
        namespace: OPERATOR_NAMESPACE.into(),
        name: OPERATOR_ACCOUNT.into(),
    };
    let listed = ctx.snapshot.service_accounts.iter().any(|sa| {
        sa.metadata.namespace.as_deref() == Some(OPERATOR_NAMESPACE)
            && sa.metadata.name.as_deref() == Some(OPERATOR_ACCOUNT)
    });
    let bound = ctx.authz.subjects().iter().any(|(s, _)| *s == account);
    if !listed && !bound {
        return Vec::new();
    }
    let grants = ctx.authz.what_can(&account);
    let mut failures = Vec::new();
    for g in &grants {
        for why in reasons(&g.rule) {
            failures.push(format!("{account} {why}: {}", line(g)));
        }
    }
    let mut held = vec![format!(
        "{account} holds {} rules: none a wildcard, reads Secrets or impersonates; bind and \
         escalate only on {}",
        grants.len(),
        TENANT_ROLES.join(", ")
    )];
    held.extend(grants.iter().map(line));
    vec![Check::from_failures(
        "HMT-OPERATOR-001",
        "The operator's account holds no wildcard, reads no Secret, impersonates no one, and \
         binds only tenant roles",
        failures,
        held,
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AuditConfig, ClusterSnapshot, Status, audit};
    use harmony_tenant::ClusterFacts;

    /// The operator's account bound to a ClusterRole of `rules` (YAML flow sequences).
    fn snapshot(rules: &str) -> ClusterSnapshot {
        let mut snapshot = ClusterSnapshot::default();
        let text = format!(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: harmony-operator, namespace: harmony-system}}\n---\n\
             apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {{name: harmony-operator}}\nrules: {rules}\n---\n\
             apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: harmony-operator}}\n\
             roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: harmony-operator}}\n\
             subjects: [{{kind: ServiceAccount, name: harmony-operator, namespace: harmony-system}}]\n"
        );
        snapshot.load_text(&text, "operator.yaml").unwrap();
        snapshot
    }

    fn check(rules: &str) -> Check {
        let report = audit(
            &snapshot(rules),
            &AuditConfig::new(ClusterFacts::kubernetes()),
        );
        assert_eq!(report.platform.len(), 1, "{report:?}");
        report.platform[0].clone()
    }

    const NEEDED: &str = "[\
        {apiGroups: [''], resources: [namespaces, configmaps], verbs: [get, list, watch, create, patch, delete]},\
        {apiGroups: [rbac.authorization.k8s.io], resources: [roles, rolebindings], verbs: [get, list, watch, create, patch, delete]},\
        {apiGroups: [rbac.authorization.k8s.io], resources: [roles], resourceNames: [tenant-admin, tenant-developer, tenant-viewer], verbs: [bind, escalate]}]";

    #[test]
    fn what_the_operator_needs_passes_with_its_grants_as_evidence() {
        let c = check(NEEDED);
        assert_eq!(c.status, Status::Pass, "{c:?}");
        assert!(c.evidence[0].contains("holds 3 rules"), "{:?}", c.evidence);
        assert!(
            c.evidence[3].ends_with(
                "rule #2: bind,escalate roles (apiGroups \"rbac.authorization.k8s.io\") named \
                 tenant-admin,tenant-developer,tenant-viewer"
            ),
            "{:?}",
            c.evidence
        );
    }

    #[test]
    fn each_reach_beyond_fails_naming_the_rule() {
        let widened = |rule: &str| NEEDED.replace("}]", &format!("}},{rule}]"));
        for (rule, why) in [
            (
                "{apiGroups: ['*'], resources: ['*'], verbs: ['*']}",
                "holds a wildcard",
            ),
            (
                "{apiGroups: [apps], resources: [deployments], verbs: ['*']}",
                "holds a wildcard",
            ),
            ("{nonResourceURLs: ['*'], verbs: [get]}", "holds a wildcard"),
            (
                "{apiGroups: [''], resources: [secrets], verbs: [list]}",
                "reads Secrets",
            ),
            (
                "{apiGroups: [''], resources: [secrets], resourceNames: [db], verbs: [get]}",
                "reads Secrets",
            ),
            (
                "{apiGroups: [''], resources: [users], verbs: [impersonate]}",
                "impersonates",
            ),
            (
                "{apiGroups: [''], resources: [serviceaccounts/token], verbs: [create]}",
                "mints ServiceAccount tokens",
            ),
            (
                "{apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], resourceNames: [tenant-admin], verbs: [bind]}",
                "binds or escalates roles other than the tenant roles",
            ),
            (
                "{apiGroups: [rbac.authorization.k8s.io], resources: [roles], verbs: [escalate]}",
                "binds or escalates roles other than the tenant roles",
            ),
            (
                "{apiGroups: [rbac.authorization.k8s.io], resources: [roles], resourceNames: [admin], verbs: [bind]}",
                "binds or escalates roles other than the tenant roles",
            ),
        ] {
            let c = check(&widened(rule));
            assert_eq!(c.status, Status::Fail, "{rule}: {c:?}");
            let expected = format!(
                "ServiceAccount harmony-system/harmony-operator {why}: ClusterRoleBinding \
                 harmony-operator → ClusterRole harmony-operator rule #3: "
            );
            assert!(
                c.evidence.iter().any(|e| e.starts_with(&expected)),
                "{rule}: {:?}",
                c.evidence
            );
        }
    }

    #[test]
    fn without_the_operator_account_there_is_no_check() {
        let report = audit(
            &ClusterSnapshot::default(),
            &AuditConfig::new(ClusterFacts::kubernetes()),
        );
        assert!(report.platform.is_empty());
    }
}
