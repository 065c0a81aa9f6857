//! The operator's own account: the ServiceAccount `harmony operator install` renders may do what
//! reconciling tenants needs and nothing that reaches beyond it: no wildcard, no Secret read (but
//! the VPN peer registry's, in its own namespace, when it revokes peers), no impersonation (nor
//! ServiceAccount tokens, which amount to it), and `bind` or `escalate` only on the tenant roles a
//! tenant plan binds (and `bind` on the monitoring ClusterRoles it binds); of Velero's objects,
//! only the Schedules of Velero's namespace (a Backup holds every object of the namespaces it
//! covers, Secrets included); of NamespaceRequests, only reading them and patching their status
//! (tenant admins create and delete them).

use harmony_tenant::backup::{OADP_NAMESPACE, VELERO_NAMESPACE};
use harmony_tenant::monitoring::MONITORING_ROLES;
use harmony_tenant::{HARMONY_GROUP, NAMESPACE_REQUESTS};
use k8s_openapi::api::rbac::v1::PolicyRule;

use super::rbac::{TENANT_ROLES, VELERO_GROUP, VELERO_RESOURCES};
use super::{Check, Context};
use crate::rbac::{Grant, Request, Scope, SubjectRef, describe_rule, rule_allows};

/// The namespace of the operator's ServiceAccount.
pub const OPERATOR_NAMESPACE: &str = "harmony-system";
/// The operator's ServiceAccount (and the name of its ClusterRole and binding).
pub const OPERATOR_ACCOUNT: &str = "harmony-operator";

/// The Secret of harmony-vpn's cluster registry (in [`OPERATOR_NAMESPACE`]): the one Secret the
/// operator may read, to revoke a deleted tenant's VPN peers.
const VPN_REGISTRY_SECRET: &str = "harmony-vpn-registry";

const RBAC: &str = "rbac.authorization.k8s.io";
const READ: [&str; 3] = ["get", "list", "watch"];
/// Every verb of a resource.
const ANY: [&str; 8] = [
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
];

/// Every verb that changes an object.
const WRITE: [&str; 5] = ["create", "update", "patch", "delete", "deletecollection"];

/// Whether `rule` lets one write NamespaceRequests, or their status otherwise than `patch`.
fn writes_namespace_requests(rule: &PolicyRule) -> bool {
    let status = format!("{NAMESPACE_REQUESTS}/status");
    allows_any(rule, &WRITE, &[(HARMONY_GROUP, NAMESPACE_REQUESTS)])
        || WRITE
            .iter()
            .any(|verb| *verb != "patch" && !allowed(rule, verb, HARMONY_GROUP, &status).is_empty())
}

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

/// Whether `rule` lets one bind or escalate a Role other than a tenant role, escalate a
/// ClusterRole, or bind a ClusterRole other than the monitoring roles a tenant plan binds.
fn beyond_tenant_roles(rule: &PolicyRule) -> bool {
    let monitoring = MONITORING_ROLES.map(|(role, _)| role);
    ["bind", "escalate"].iter().any(|verb| {
        allowed(rule, verb, RBAC, "clusterroles")
            .iter()
            .any(|name| *verb == "escalate" || !monitoring.contains(name))
            || allowed(rule, verb, RBAC, "roles")
                .iter()
                .any(|name| !TENANT_ROLES.contains(name))
    })
}

/// The Secrets `g` lets one read: `(namespace, name)`, `""` standing for every one.
fn secrets_read(g: &Grant) -> Vec<(&str, &str)> {
    let namespace = match &g.scope {
        Scope::Namespace(namespace) => namespace.as_str(),
        Scope::Cluster => "",
    };
    READ.iter()
        .flat_map(|verb| allowed(&g.rule, verb, "", "secrets"))
        .map(|name| (namespace, name))
        .collect()
}

/// Whether `g` lets one read the VPN registry Secret and no other.
fn reads_only_the_vpn_registry(g: &Grant) -> bool {
    let read = secrets_read(g);
    !read.is_empty()
        && read
            .iter()
            .all(|s| *s == (OPERATOR_NAMESPACE, VPN_REGISTRY_SECRET))
}

/// Whether `g` is held in one of Velero's namespaces `velero`.
fn in_velero(g: &Grant, velero: &[&str]) -> bool {
    matches!(&g.scope, Scope::Namespace(ns) if velero.contains(&ns.as_str()))
}

/// Whether `g` reaches Velero's objects other than Schedules, or Schedules elsewhere than in
/// Velero's namespaces `velero`.
fn beyond_schedules(g: &Grant, velero: &[&str]) -> bool {
    VELERO_RESOURCES.iter().any(|resource| {
        (*resource != "schedules" || !in_velero(g, velero))
            && allows_any(&g.rule, &ANY, &[(VELERO_GROUP, resource)])
    })
}

/// Whether `g` lets one write Schedules in Velero's namespace (and, by [`beyond_schedules`],
/// nothing else of Velero's).
fn writes_schedules(g: &Grant, velero: &[&str]) -> bool {
    in_velero(g, velero) && allows_any(&g.rule, &ANY, &[(VELERO_GROUP, "schedules")])
}

/// Why `g` reaches beyond what the operator needs, one reason each; `velero` names Velero's
/// namespaces.
fn reasons(g: &Grant, velero: &[&str]) -> Vec<&'static str> {
    let rule = &g.rule;
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
            !secrets_read(g).is_empty() && !reads_only_the_vpn_registry(g),
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
        (
            beyond_schedules(g, velero),
            "reaches Velero objects other than the Schedules of Velero's namespace",
        ),
        (
            writes_namespace_requests(rule),
            "writes NamespaceRequests beyond patching their status",
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
    // Where Velero runs: as discovered, else either usual namespace (rendered files).
    let velero: Vec<&str> = match ctx.config.facts.velero_namespace.as_deref() {
        Some(namespace) => vec![namespace],
        None => vec![VELERO_NAMESPACE, OADP_NAMESPACE],
    };
    let mut failures = Vec::new();
    for g in &grants {
        for why in reasons(g, &velero) {
            failures.push(format!("{account} {why}: {}", line(g)));
        }
    }
    let mut held = vec![format!(
        "{account} holds {} rules: none a wildcard, reads Secrets or impersonates; bind and \
         escalate only on {}",
        grants.len(),
        TENANT_ROLES.join(", ")
    )];
    held.extend(
        grants
            .iter()
            .filter(|g| reads_only_the_vpn_registry(g))
            .map(|g| {
                format!(
                    "{account} reads one Secret, the VPN peer registry \
                     {OPERATOR_NAMESPACE}/{VPN_REGISTRY_SECRET}, to revoke deleted tenants' \
                     peers: {}",
                    line(g)
                )
            }),
    );
    held.extend(
        grants
            .iter()
            .filter(|g| writes_schedules(g, &velero) && !beyond_schedules(g, &velero))
            .map(|g| {
                format!(
                    "{account} writes tenants' backup Schedules in Velero's namespace, and no \
                     other Velero object: {}",
                    line(g)
                )
            }),
    );
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
    fn reading_namespace_requests_and_patching_their_status_passes() {
        let c = check(&NEEDED.replace(
            "}]",
            "},{apiGroups: [harmony.nationtech.io], resources: [namespacerequests], verbs: [get, list, watch]},\
             {apiGroups: [harmony.nationtech.io], resources: [namespacerequests/status], verbs: [get, patch]}]",
        ));
        assert_eq!(c.status, Status::Pass, "{c:?}");
        assert!(c.evidence[0].contains("holds 5 rules"), "{:?}", c.evidence);
    }

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
            (
                "{apiGroups: [harmony.nationtech.io], resources: [namespacerequests], verbs: [create]}",
                "writes NamespaceRequests beyond patching their status",
            ),
            (
                "{apiGroups: [harmony.nationtech.io], resources: [namespacerequests], verbs: [delete]}",
                "writes NamespaceRequests beyond patching their status",
            ),
            (
                "{apiGroups: [harmony.nationtech.io], resources: [namespacerequests], verbs: [update, patch]}",
                "writes NamespaceRequests beyond patching their status",
            ),
            (
                "{apiGroups: [harmony.nationtech.io], resources: [namespacerequests/status], verbs: [update]}",
                "writes NamespaceRequests beyond patching their status",
            ),
            (
                "{apiGroups: [harmony.nationtech.io], resources: [namespacerequests], verbs: ['*']}",
                "writes NamespaceRequests beyond patching their status",
            ),
            (
                "{apiGroups: [harmony.nationtech.io], resources: ['*'], verbs: [get]}",
                "holds a wildcard",
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

    /// [`NEEDED`] and a Role of `rules` in `namespace`, bound to the operator's account there.
    fn check_with_role(namespace: &str, rules: &str) -> Check {
        let mut snapshot = snapshot(NEEDED);
        let text = format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\n\
             metadata: {{name: harmony-operator-vpn, namespace: {namespace}}}\nrules: {rules}\n---\n\
             apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\n\
             metadata: {{name: harmony-operator-vpn, namespace: {namespace}}}\n\
             roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: harmony-operator-vpn}}\n\
             subjects: [{{kind: ServiceAccount, name: harmony-operator, namespace: harmony-system}}]\n"
        );
        snapshot.load_text(&text, "vpn.yaml").unwrap();
        let report = audit(&snapshot, &AuditConfig::new(ClusterFacts::kubernetes()));
        report.platform[0].clone()
    }

    const REGISTRY: &str = "[\
        {apiGroups: [''], resources: [secrets], resourceNames: [harmony-vpn-registry], verbs: [get, update]},\
        {apiGroups: [''], resources: [secrets], verbs: [create]}]";

    #[test]
    fn the_vpn_registry_secret_alone_in_harmony_system_passes_naming_it() {
        let c = check_with_role("harmony-system", REGISTRY);
        assert_eq!(c.status, Status::Pass, "{c:?}");
        assert!(c.evidence[0].contains("holds 5 rules"), "{:?}", c.evidence);
        assert_eq!(
            c.evidence[1],
            "ServiceAccount harmony-system/harmony-operator reads one Secret, the VPN peer \
             registry harmony-system/harmony-vpn-registry, to revoke deleted tenants' peers: \
             RoleBinding harmony-system/harmony-operator-vpn → Role \
             harmony-system/harmony-operator-vpn rule #0: get,update secrets (apiGroups \"\") \
             named harmony-vpn-registry",
        );
    }

    #[test]
    fn any_other_secret_read_still_fails_naming_the_rule() {
        let named = |names: &str| {
            format!(
                "[{{apiGroups: [''], resources: [secrets], resourceNames: [{names}], verbs: [get]}}]"
            )
        };
        for (namespace, rules) in [
            ("harmony-system", named("db")),
            ("harmony-system", named("harmony-vpn-registry, db")),
            ("harmony-system", named("harmony-vpn-registry-audit-1")),
            ("team-a", named("harmony-vpn-registry")),
            (
                "harmony-system",
                "[{apiGroups: [''], resources: [secrets], verbs: [get]}]".into(),
            ),
            (
                "harmony-system",
                "[{apiGroups: [''], resources: [secrets], verbs: [list]}]".into(),
            ),
        ] {
            let c = check_with_role(namespace, &rules);
            assert_eq!(c.status, Status::Fail, "{namespace} {rules}: {c:?}");
            let expected = format!(
                "ServiceAccount harmony-system/harmony-operator reads Secrets: RoleBinding \
                 {namespace}/harmony-operator-vpn → Role {namespace}/harmony-operator-vpn rule #0: "
            );
            assert!(
                c.evidence.iter().any(|e| e.starts_with(&expected)),
                "{namespace} {rules}: {:?}",
                c.evidence
            );
        }
        // Cluster-wide, even the registry's name is every namespace's Secret of that name.
        let c = check(&NEEDED.replace(
            "}]",
            "},{apiGroups: [''], resources: [secrets], resourceNames: [harmony-vpn-registry], verbs: [get]}]",
        ));
        assert_eq!(c.status, Status::Fail, "{c:?}");
        assert!(
            c.evidence[0].starts_with(
                "ServiceAccount harmony-system/harmony-operator reads Secrets: ClusterRoleBinding \
                 harmony-operator → ClusterRole harmony-operator rule #3: get secrets"
            ),
            "{:?}",
            c.evidence
        );
    }

    #[test]
    fn without_the_operator_account_there_is_no_check() {
        let report = audit(
            &ClusterSnapshot::default(),
            &AuditConfig::new(ClusterFacts::kubernetes()),
        );
        assert!(report.platform.is_empty());
    }

    const SCHEDULES: &str = "[\
        {apiGroups: [velero.io], resources: [schedules], verbs: [get, list, watch, create, patch, delete]}]";

    #[test]
    fn schedules_in_velero_s_namespace_pass_naming_the_rule() {
        for namespace in ["velero", "openshift-adp"] {
            let c = check_with_role(namespace, SCHEDULES);
            assert_eq!(c.status, Status::Pass, "{namespace}: {c:?}");
            assert!(
                c.evidence.iter().any(|e| e.starts_with(
                    "ServiceAccount harmony-system/harmony-operator writes tenants' backup \
                     Schedules in Velero's namespace, and no other Velero object: RoleBinding \
                     "
                )),
                "{:?}",
                c.evidence
            );
        }
    }

    #[test]
    fn any_other_velero_right_fails_naming_the_rule() {
        let why = "reaches Velero objects other than the Schedules of Velero's namespace";
        for (namespace, rules) in [
            (
                "velero",
                "[{apiGroups: [velero.io], resources: [backups], verbs: [get]}]",
            ),
            (
                "velero",
                "[{apiGroups: [velero.io], resources: [restores], verbs: [create]}]",
            ),
            (
                "velero",
                "[{apiGroups: [velero.io], resources: [schedules, backupstoragelocations], verbs: [list]}]",
            ),
            ("acme", SCHEDULES),
        ] {
            let c = check_with_role(namespace, rules);
            assert_eq!(c.status, Status::Fail, "{namespace} {rules}: {c:?}");
            assert!(
                c.evidence.iter().any(|e| e.contains(why)),
                "{namespace} {rules}: {:?}",
                c.evidence
            );
        }
        // Cluster-wide, even Schedules alone.
        let c = check(&NEEDED.replace(
            "}]",
            "},{apiGroups: [velero.io], resources: [schedules], verbs: [get, list, watch]}]",
        ));
        assert_eq!(c.status, Status::Fail, "{c:?}");
        assert!(
            c.evidence.iter().any(|e| e.contains(why)),
            "{:?}",
            c.evidence
        );
    }
}
