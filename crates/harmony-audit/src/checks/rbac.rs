//! RBAC reach of tenant subjects: cluster scope, other namespaces, protected objects, and the
//! escalate/impersonate/bind verbs.

use std::collections::BTreeSet;

use harmony_tenant::TenantRole;
use harmony_tenant::backup::crd::Schedule;
use harmony_tenant::backup::{OADP_NAMESPACE, VELERO_NAMESPACE};
use harmony_tenant::monitoring::MONITORING_ROLES;
use k8s_openapi::api::rbac::v1::PolicyRule;

use super::{Check, Context, Status, Tenant};
use crate::rbac::{
    BUILT_IN_ROLES, Grant, Request, Scope, SubjectRef, UserInfo, describe_rule, rule_allows,
};

/// Velero's API group.
pub(super) const VELERO_GROUP: &str = <Schedule as k8s_openapi::Resource>::GROUP;

/// Role names a tenant admin may bind inside its own namespace.
pub(crate) const TENANT_ROLES: [&str; 3] = ["tenant-admin", "tenant-developer", "tenant-viewer"];

/// Cluster-wide grants every authenticated user holds for discovery and self-review.
const HARMLESS_RESOURCES: [&str; 3] = [
    "selfsubjectaccessreviews",
    "selfsubjectrulesreviews",
    "selfsubjectreviews",
];
/// Public discovery and health endpoints (Kubernetes' bootstrap `system:discovery`,
/// `system:public-info-viewer` and `system:service-account-issuer-discovery` roles), each also
/// with a trailing `/`.
const HARMLESS_URLS: [&str; 12] = [
    "/api",
    "/api/*",
    "/apis",
    "/apis/*",
    "/version",
    "/healthz",
    "/livez",
    "/readyz",
    "/openapi",
    "/openapi/*",
    "/.well-known/openid-configuration",
    "/openid/v1/jwks",
];

/// A cluster-wide rule every cluster grants for discovery, health and self-review: no tenant data.
pub(super) fn harmless(rule: &PolicyRule) -> bool {
    let resources_ok = rule
        .resources
        .iter()
        .flatten()
        .all(|r| HARMLESS_RESOURCES.contains(&r.as_str()));
    let urls_ok = rule
        .non_resource_urls
        .iter()
        .flatten()
        .all(|u| HARMLESS_URLS.contains(&u.strip_suffix('/').unwrap_or(u)));
    let verbs_ok = rule
        .verbs
        .iter()
        .all(|v| ["get", "create"].contains(&v.as_str()));
    resources_ok && urls_ok && verbs_ok
}

pub(super) fn line(s: &SubjectRef, g: &Grant) -> String {
    format!("{s}: {g}")
}

pub(super) fn checks(ctx: &Context, t: &Tenant) -> Vec<Check> {
    let mut cluster = Vec::new();
    let mut elsewhere = Vec::new();
    for s in &t.subjects {
        for g in ctx.authz.what_can(s) {
            match &g.scope {
                Scope::Cluster if !harmless(&g.rule) => cluster.push(line(s, &g)),
                Scope::Namespace(ns) if !ctx.same_tenant(t, ns) => elsewhere.push(line(s, &g)),
                _ => {}
            }
        }
    }
    vec![
        Check::from_failures(
            "HMT-RBAC-001",
            "No cluster-scoped access for tenant subjects",
            cluster,
            vec![format!(
                "{} subjects hold no cluster-wide grant beyond discovery",
                t.subjects.len()
            )],
        ),
        Check::from_failures(
            "HMT-RBAC-002",
            "No access to other namespaces",
            elsewhere,
            vec![
                "every RoleBinding naming a tenant subject is in a namespace of the tenant".into(),
            ],
        ),
        protected_writes(ctx, t),
        escalation_verbs(ctx, t),
        foreign_subjects(ctx, t),
        non_members(ctx, t),
        traffic_steering(ctx, t),
        api_proxy(ctx, t),
        role_contracts(ctx, t),
        unknown_roles(ctx, t),
        cluster_monitoring(ctx, t),
        velero_objects(ctx, t),
        super::harmony_api::check(ctx, t),
    ]
}

/// Velero's resources: a Backup holds every object of every namespace it covers (Secrets
/// included), a Restore writes them anywhere, a location holds the store's credentials.
pub(super) const VELERO_RESOURCES: [&str; 8] = [
    "backups",
    "restores",
    "schedules",
    "backupstoragelocations",
    "downloadrequests",
    "deletebackuprequests",
    "podvolumebackups",
    "podvolumerestores",
];

/// HMT-RBAC-011: no tenant subject can get, list, watch or create `velero.io` objects, in
/// Velero's namespace (`velero`, or `openshift-adp` under OADP) or cluster-wide: the tenant's
/// backups are Harmony's (OADP's NonAdminBackup in its own namespace is the self-service way).
fn velero_objects(ctx: &Context, t: &Tenant) -> Check {
    let requests: Vec<Request> = [VELERO_NAMESPACE, OADP_NAMESPACE, ""]
        .iter()
        .flat_map(|ns| {
            VELERO_RESOURCES.iter().flat_map(move |r| {
                ["get", "list", "watch", "create"]
                    .map(|v| Request::resource(v, VELERO_GROUP, r, ns))
            })
        })
        .collect();
    forbidden(
        ctx,
        t,
        "HMT-RBAC-011",
        "No access to Velero's backups, restores, schedules or locations",
        &requests,
    )
}

/// ClusterRoles that read or configure the monitoring of the whole cluster; never a tenant's.
const CLUSTER_MONITORING_ROLES: [&str; 3] = [
    "cluster-monitoring-view",
    "cluster-monitoring-metrics-api",
    "user-workload-monitoring-config-edit",
];

/// HMT-RBAC-010: no tenant subject is bound to a cluster-wide monitoring role (OKD's
/// `cluster-monitoring-view` reads every namespace's metrics), in its namespace or cluster-wide,
/// nor holds a tenant monitoring role cluster-wide (a ClusterRoleBinding): a tenant reads its
/// metrics only through the namespace-enforcing endpoint.
fn cluster_monitoring(ctx: &Context, t: &Tenant) -> Check {
    let tenant_roles = MONITORING_ROLES.map(|(role, _)| role);
    let mut failures = Vec::new();
    for b in &ctx.snapshot.cluster_role_bindings {
        let role = b.role_ref.name.as_str();
        if !(CLUSTER_MONITORING_ROLES.contains(&role) || tenant_roles.contains(&role)) {
            continue;
        }
        for subject in b.subjects.iter().flatten() {
            if let Some(s) = SubjectRef::from_binding(subject, "")
                && t.subjects.contains(&s)
            {
                failures.push(format!(
                    "ClusterRoleBinding {} binds {s} to ClusterRole {role}: monitoring of every \
                     namespace",
                    b.metadata.name.as_deref().unwrap_or_default()
                ));
            }
        }
    }
    let ns = t.namespace.as_str();
    for b in &ctx.by_namespace.get(ns).role_bindings {
        let role = b.role_ref.name.as_str();
        if b.role_ref.kind == "ClusterRole" && CLUSTER_MONITORING_ROLES.contains(&role) {
            failures.push(format!(
                "RoleBinding {ns}/{} binds ClusterRole {role}, a cluster-wide monitoring role",
                b.metadata.name.as_deref().unwrap_or_default()
            ));
        }
    }
    Check::from_failures(
        "HMT-RBAC-010",
        "No cluster-wide monitoring role",
        failures,
        vec![format!(
            "no tenant subject holds {} or a monitoring role cluster-wide; {} are bound in {ns} only",
            CLUSTER_MONITORING_ROLES.join(", "),
            tenant_roles.join(", ")
        )],
    )
}

/// Who `s`, bound in `namespace`, lets in from outside the tenant; `None` for a tenant identity.
fn outsider(s: &SubjectRef, namespace: &str) -> Option<String> {
    let other = |ns: &str, what: String| (ns != namespace).then_some(what);
    match s {
        SubjectRef::Group { name } => match name.as_str() {
            "system:authenticated" => {
                Some("every authenticated user, other tenants included".into())
            }
            "system:unauthenticated" => Some("every unauthenticated request".into()),
            "system:serviceaccounts" => Some("every ServiceAccount of the cluster".into()),
            g => match g.strip_prefix("system:serviceaccounts:") {
                Some(ns) => other(ns, format!("every ServiceAccount of namespace {ns}")),
                None => g
                    .starts_with("system:")
                    .then(|| "a Kubernetes system group, never a tenant's".into()),
            },
        },
        SubjectRef::User { name } if name == "system:anonymous" => {
            Some("unauthenticated requests".into())
        }
        SubjectRef::User { name } => match name.strip_prefix("system:serviceaccount:") {
            Some(rest) => rest
                .split_once(':')
                .and_then(|(ns, _)| other(ns, format!("a ServiceAccount of namespace {ns}"))),
            None => (name.starts_with("system:") || name == "kube:admin")
                .then(|| "a Kubernetes system identity, never a tenant member".into()),
        },
        SubjectRef::ServiceAccount { namespace: ns, .. } => {
            other(ns, format!("a ServiceAccount of namespace {ns}"))
        }
    }
}

/// No RoleBinding in the tenant namespace lets in everyone, every ServiceAccount, a Kubernetes
/// system identity (`system:` users and groups, OKD's `kube:admin`), or another namespace's
/// ServiceAccounts.
fn foreign_subjects(ctx: &Context, t: &Tenant) -> Check {
    let ns = t.namespace.as_str();
    let bindings = &ctx.by_namespace.get(ns).role_bindings;
    let mut failures = Vec::new();
    for b in bindings {
        let name = b.metadata.name.as_deref().unwrap_or_default();
        for subject in b.subjects.iter().flatten() {
            let Some(s) = SubjectRef::from_binding(subject, ns) else {
                continue;
            };
            if let Some(who) = outsider(&s, ns) {
                failures.push(format!(
                    "RoleBinding {ns}/{name} binds {s} ({who}) to {} {}",
                    b.role_ref.kind, b.role_ref.name
                ));
            }
        }
    }
    Check::from_failures(
        "HMT-RBAC-005",
        "Role bindings let in only the tenant's own identities",
        failures,
        vec![format!(
            "{} RoleBindings in {ns} name no system-wide group, system identity, anonymous user or \
             other namespace's ServiceAccount",
            bindings.len()
        )],
    )
}

/// HMT-RBAC-013 (a warning at most): every user and group a RoleBinding in the namespace names is
/// one of the tenant's [`members`]. A tenant admin may bind the tenant roles to anyone, and a
/// namespace adopted keeps its RoleBindings, so this is access the tenant file does not list
/// rather than a path between tenants. ServiceAccounts and system identities are HMT-RBAC-005's.
fn non_members(ctx: &Context, t: &Tenant) -> Check {
    let ns = t.namespace.as_str();
    let members: BTreeSet<SubjectRef> = members(ctx, t).into_iter().map(|(s, _)| s).collect();
    let mut outside = Vec::new();
    for b in &ctx.by_namespace.get(ns).role_bindings {
        let name = b.metadata.name.as_deref().unwrap_or_default();
        for subject in b.subjects.iter().flatten() {
            let Some(s) = SubjectRef::from_binding(subject, ns) else {
                continue;
            };
            let person = match &s {
                SubjectRef::User { name } | SubjectRef::Group { name } => {
                    !name.starts_with("system:") && outsider(&s, ns).is_none()
                }
                SubjectRef::ServiceAccount { .. } => false,
            };
            if person && !members.contains(&s) {
                outside.push(format!(
                    "RoleBinding {ns}/{name} binds {s} to {} {}: not a member of tenant {}",
                    b.role_ref.kind, b.role_ref.name, t.name
                ));
            }
        }
    }
    let mut check = Check::from_failures(
        "HMT-RBAC-013",
        "Users and groups bound in the namespace are members",
        outside,
        vec![format!(
            "every user and group bound in {ns} is one of the {} members of tenant {}",
            members.len(),
            t.name
        )],
    );
    if check.status == Status::Fail {
        check.status = Status::Warn;
    }
    check
}

/// A check that fails, naming subject, request and grant, for every request of `requests` some
/// subject of `t` may make.
fn forbidden(
    ctx: &Context,
    t: &Tenant,
    id: &'static str,
    title: &'static str,
    requests: &[Request],
) -> Check {
    let mut failures = Vec::new();
    for s in &t.subjects {
        let permissions = ctx.authz.permissions(&UserInfo::from(s));
        for r in requests {
            failures.extend(
                permissions
                    .can(r)
                    .evidence
                    .iter()
                    .map(|g| format!("{s} can {r}: {g}")),
            );
        }
    }
    Check::from_failures(
        id,
        title,
        failures,
        vec![format!("checked {} requests per subject", requests.len())],
    )
}

/// Quotas, limit ranges, network policies and the namespace itself are the platform's.
fn protected_writes(ctx: &Context, t: &Tenant) -> Check {
    let ns = t.namespace.as_str();
    let mut requests: Vec<Request> = [
        ("", "resourcequotas"),
        ("", "limitranges"),
        ("networking.k8s.io", "networkpolicies"),
    ]
    .iter()
    .flat_map(|(g, r)| {
        ["create", "update", "patch", "delete", "deletecollection"]
            .map(|v| Request::resource(v, g, r, ns))
    })
    .collect();
    requests.extend(
        ["update", "patch", "delete"].map(|v| Request::resource(v, "", "namespaces", "").named(ns)),
    );
    forbidden(
        ctx,
        t,
        "HMT-RBAC-003",
        "No write to quotas, limit ranges, network policies or the namespace",
        &requests,
    )
}

/// Writing Endpoints or EndpointSlices points a Service at any address: another tenant's pods or
/// the platform's.
fn traffic_steering(ctx: &Context, t: &Tenant) -> Check {
    let ns = t.namespace.as_str();
    let requests: Vec<Request> = [("", "endpoints"), ("discovery.k8s.io", "endpointslices")]
        .iter()
        .flat_map(|(g, r)| ["create", "update", "patch"].map(|v| Request::resource(v, g, r, ns)))
        .collect();
    forbidden(
        ctx,
        t,
        "HMT-RBAC-006",
        "No write to Endpoints or EndpointSlices",
        &requests,
    )
}

/// The proxy subresources reach pods, services and nodes through the API server, past every
/// NetworkPolicy.
fn api_proxy(ctx: &Context, t: &Tenant) -> Check {
    let ns = t.namespace.as_str();
    let requests: Vec<Request> = [
        ("pods/proxy", ns),
        ("services/proxy", ns),
        ("nodes/proxy", ""),
    ]
    .iter()
    .flat_map(|(r, ns)| {
        ["get", "create", "update", "patch", "delete"].map(|v| Request::resource(v, "", r, ns))
    })
    .collect();
    forbidden(
        ctx,
        t,
        "HMT-RBAC-007",
        "No API server proxy to pods, services or nodes",
        &requests,
    )
}

/// What a grant of `rule` lets a member of `role` do beyond its contract: a viewer only reads,
/// and not Secrets; a developer does not change the namespace's RBAC.
fn breach(role: TenantRole, rule: &PolicyRule, ns: &str) -> Option<&'static str> {
    let allows = |verbs: &[&str], group: &str, resources: &[&str]| {
        verbs.iter().any(|v| {
            resources
                .iter()
                .any(|r| rule_allows(rule, &Request::resource(v, group, r, ns)))
        })
    };
    match role {
        TenantRole::Viewer
            if rule
                .verbs
                .iter()
                .any(|v| !["get", "list", "watch"].contains(&v.as_str())) =>
        {
            Some("write")
        }
        TenantRole::Viewer if allows(&["get", "list", "watch"], "", &["secrets"]) => {
            Some("read Secrets")
        }
        TenantRole::Developer
            if allows(
                &[
                    "create",
                    "update",
                    "patch",
                    "delete",
                    "deletecollection",
                    "bind",
                    "escalate",
                ],
                "rbac.authorization.k8s.io",
                &["roles", "rolebindings"],
            ) =>
        {
            Some("change roles or role bindings")
        }
        _ => None,
    }
}

/// The tenant's members by role: from its tenant file, else the subjects of its RoleBindings
/// `member-*` to a Role `tenant-<role>`.
fn members(ctx: &Context, t: &Tenant) -> Vec<(SubjectRef, TenantRole)> {
    let expected = ctx.config.expectations.get(&t.name);
    if let Some(members) = expected.and_then(|e| e.members.clone()) {
        return members;
    }
    let ns = t.namespace.as_str();
    let mut out = Vec::new();
    for b in ctx.by_namespace.get(ns).role_bindings.iter().filter(|b| {
        b.metadata
            .name
            .as_deref()
            .is_some_and(|n| n.starts_with("member-"))
            && b.role_ref.kind == "Role"
    }) {
        let Some(role) = TenantRole::ALL
            .into_iter()
            .find(|r| r.role_name() == b.role_ref.name)
        else {
            continue;
        };
        out.extend(
            b.subjects
                .iter()
                .flatten()
                .filter_map(|s| SubjectRef::from_binding(s, ns))
                .map(|s| (s, role)),
        );
    }
    out
}

/// HMT-RBAC-008: the roles `tenant-viewer` and `tenant-developer`, and every grant in the
/// namespace of a member of those roles, keep the role's contract.
fn role_contracts(ctx: &Context, t: &Tenant) -> Check {
    let ns = t.namespace.as_str();
    let mut failures = Vec::new();
    for role in [TenantRole::Viewer, TenantRole::Developer] {
        let name = role.role_name();
        for g in ctx.authz.role_grants("Role", &name, ns) {
            if let Some(what) = breach(role, &g.rule, ns) {
                failures.push(format!(
                    "{} rule #{} lets a {} {what}: {}",
                    g.role,
                    g.rule_index,
                    role.as_str(),
                    describe_rule(&g.rule)
                ));
            }
        }
    }
    let members = members(ctx, t);
    for (s, role) in &members {
        let own = format!("Role {ns}/{}", role.role_name());
        for g in ctx.authz.what_can(s) {
            if g.scope != Scope::Namespace(ns.into()) || g.role == own {
                continue;
            }
            if let Some(what) = breach(*role, &g.rule, ns) {
                failures.push(format!(
                    "{s} (member {}) can {what}: {g}: {}",
                    role.as_str(),
                    describe_rule(&g.rule)
                ));
            }
        }
    }
    Check::from_failures(
        "HMT-RBAC-008",
        "Viewers only read (no Secrets), developers do not change RBAC",
        failures,
        vec![format!(
            "tenant-viewer, tenant-developer and {} members hold only their role's rights",
            members.len()
        )],
    )
}

/// HMT-RBAC-009: every role bound in the namespace is in the audited objects or built in; an
/// unknown one would be counted as granting nothing.
fn unknown_roles(ctx: &Context, t: &Tenant) -> Check {
    let ns = t.namespace.as_str();
    let unknown: Vec<String> = ctx
        .authz
        .unknown_roles(&Scope::Namespace(ns.into()))
        .into_iter()
        .map(|(binding, role)| {
            format!("{binding} → {role}: unknown role {role}: not in the audited objects, counted as granting nothing")
        })
        .collect();
    let mut check = Check::from_failures(
        "HMT-RBAC-009",
        "Every bound role is known",
        unknown,
        vec![format!(
            "every role bound in {ns} is in the audited objects or built in ({})",
            BUILT_IN_ROLES.join(", ")
        )],
    );
    if check.status == Status::Fail {
        check.status = Status::Warn;
    }
    check
}

/// No `escalate`, no `impersonate`, and `bind` only on the tenant's own roles in its namespace.
fn escalation_verbs(ctx: &Context, t: &Tenant) -> Check {
    let rbac = "rbac.authorization.k8s.io";
    let mut failures = Vec::new();
    let mut notes = Vec::new();
    for s in &t.subjects {
        let user = UserInfo::from(s);
        let forbidden = [
            Request::resource("escalate", rbac, "roles", &t.namespace),
            Request::resource("escalate", rbac, "clusterroles", ""),
            Request::resource("impersonate", "", "users", ""),
            Request::resource("impersonate", "", "groups", ""),
            Request::resource("impersonate", "", "serviceaccounts", &t.namespace),
            Request::resource("impersonate", "authentication.k8s.io", "userextras", ""),
        ];
        for r in &forbidden {
            failures.extend(
                ctx.authz
                    .can(&user, r)
                    .evidence
                    .iter()
                    .map(|g| format!("{s} can {r}: {g}")),
            );
        }
        for resource in ["roles", "clusterroles"] {
            for g in ctx
                .authz
                .can(
                    &user,
                    &Request::resource("bind", rbac, resource, &t.namespace),
                )
                .evidence
            {
                let names = g.rule.resource_names.clone().unwrap_or_default();
                let within = resource == "roles"
                    && !names.is_empty()
                    && names.iter().all(|n| TENANT_ROLES.contains(&n.as_str()));
                if within {
                    notes.push(format!(
                        "{s} may bind {} (tenant roles): {g}",
                        names.join(", ")
                    ));
                } else {
                    let what = if names.is_empty() {
                        "any".into()
                    } else {
                        names.join(", ")
                    };
                    failures.push(format!("{s} can bind {what} {resource}: {g}"));
                }
            }
        }
    }
    if notes.is_empty() {
        notes.push("no subject holds escalate, impersonate or bind".into());
    }
    Check::from_failures(
        "HMT-RBAC-004",
        "No escalate, impersonate, or bind beyond tenant roles",
        failures,
        notes,
    )
}
