//! Privilege escalation paths: running pods as (creating them, changing a workload's pod
//! template, or running commands in a pod of it), reading the token of, creating a token Secret
//! for, or binding a role more powerful than oneself.
//!
//! A Secret of type `kubernetes.io/service-account-token` naming a ServiceAccount gets a token of
//! it that never expires: creating Secrets is such a path unless the `harmony-tenant-secrets`
//! guardrail is known to be present.

use harmony_guardrails::GuardrailId;

use super::rbac::TENANT_ROLES;
use super::{Check, Context, Status, Tenant, guardrails};
use crate::rbac::{Grant, Permissions, Request, Scope, SubjectRef, UserInfo};
use crate::snapshot::is_synthesized;

/// Every concrete request a grant allows (wildcards kept literal, so only a wildcard covers one).
fn requests_of(g: &Grant) -> Vec<Request> {
    let ns = match &g.scope {
        Scope::Cluster => "",
        Scope::Namespace(ns) => ns.as_str(),
    };
    let r = &g.rule;
    let names: Vec<&str> = match r.resource_names.as_deref() {
        Some(n) if !n.is_empty() => n.iter().map(String::as_str).collect(),
        _ => vec![""],
    };
    let mut out = Vec::new();
    for verb in &r.verbs {
        for group in r.api_groups.iter().flatten() {
            for resource in r.resources.iter().flatten() {
                out.extend(
                    names
                        .iter()
                        .map(|n| Request::resource(verb, group, resource, ns).named(n)),
                );
            }
        }
        out.extend(
            r.non_resource_urls
                .iter()
                .flatten()
                .map(|p| Request::NonResource {
                    verb: verb.clone(),
                    path: p.clone(),
                }),
        );
    }
    out
}

/// What `grants` allow that `user` may not do (at most three, for evidence).
fn beyond(user: &Permissions, grants: &[Grant]) -> Vec<String> {
    grants
        .iter()
        .filter(|g| !(matches!(g.scope, Scope::Cluster) && super::rbac::harmless(&g.rule)))
        .flat_map(|g| requests_of(g).into_iter().map(move |r| (g, r)))
        .filter(|(_, r)| !user.allows(r))
        .take(3)
        .map(|(g, r)| format!("{r} (via {g})"))
        .collect()
}

/// The controllers whose pod template names the ServiceAccount their pods run as.
const WORKLOADS: [(&str, &str); 7] = [
    ("apps", "deployments"),
    ("apps", "statefulsets"),
    ("apps", "daemonsets"),
    ("apps", "replicasets"),
    ("batch", "jobs"),
    ("batch", "cronjobs"),
    ("", "replicationcontrollers"),
];

/// A pod of `ns` running as ServiceAccount `account` with its token mounted that `user` may run
/// commands in (exec, attach, an ephemeral container, or a new image), and the grant.
fn enterable_pod(
    ctx: &Context,
    user: &Permissions,
    ns: &str,
    account: &str,
) -> Option<(String, Grant)> {
    let objects = ctx.by_namespace.get(ns);
    let automount = objects
        .service_accounts
        .iter()
        .find(|sa| sa.metadata.name.as_deref() == Some(account))
        .and_then(|sa| sa.automount_service_account_token)
        .unwrap_or(true);
    objects
        .pods
        .iter()
        .filter(|p| !is_synthesized(p))
        .find_map(|p| {
            let spec = p.spec.as_ref()?;
            let runs_as = spec.service_account_name.as_deref().unwrap_or("default");
            if runs_as != account || !spec.automount_service_account_token.unwrap_or(automount) {
                return None;
            }
            let name = p.metadata.name.clone()?;
            let requests = [
                ("create", "pods/exec"),
                ("get", "pods/exec"),
                ("create", "pods/attach"),
                ("get", "pods/attach"),
                ("update", "pods/ephemeralcontainers"),
                ("patch", "pods/ephemeralcontainers"),
                ("update", "pods"),
                ("patch", "pods"),
            ]
            .map(|(v, r)| Request::resource(v, "", r, ns).named(&name));
            Some((name.clone(), first(user, &requests)?))
        })
}

fn first(user: &Permissions, requests: &[Request]) -> Option<Grant> {
    let allowed = requests.iter().find(|r| user.allows(r))?;
    user.can(allowed).evidence.into_iter().next()
}

pub(super) fn checks(ctx: &Context, t: &Tenant) -> Vec<Check> {
    let ns = t.namespace.as_str();
    let accounts: Vec<&SubjectRef> = t
        .subjects
        .iter()
        .filter(|s| matches!(s, SubjectRef::ServiceAccount { namespace, .. } if namespace == ns))
        .collect();
    let run_pods: Vec<Request> = [("", "pods")]
        .iter()
        .chain(&WORKLOADS)
        .map(|(g, r)| Request::resource("create", g, r, ns))
        .collect();
    let change_templates: Vec<Request> = WORKLOADS
        .iter()
        .flat_map(|(g, r)| ["update", "patch"].map(|v| Request::resource(v, g, r, ns)))
        .collect();
    let read_secrets = [
        Request::resource("get", "", "secrets", ns),
        Request::resource("list", "", "secrets", ns),
    ];
    let token_secrets_refused = guardrails::present(ctx, GuardrailId::TenantSecrets) == Some(true);
    let create_secrets = [Request::resource("create", "", "secrets", ns)];
    let account_grants: Vec<(&SubjectRef, Vec<Grant>)> = accounts
        .iter()
        .map(|sa| (*sa, ctx.authz.what_can(sa)))
        .collect();
    let (mut pods, mut tokens, mut secrets, mut binds) = (vec![], vec![], vec![], vec![]);
    for s in &t.subjects {
        let user = ctx.authz.permissions(&UserInfo::from(s));
        let via_pods = first(&user, &run_pods);
        let via_templates = first(&user, &change_templates);
        let via_secrets = first(&user, &read_secrets);
        let via_token_secret = if token_secrets_refused {
            None
        } else {
            first(&user, &create_secrets)
        };
        for (sa, sa_grants) in account_grants.iter().filter(|(sa, _)| *sa != s) {
            let SubjectRef::ServiceAccount { name, .. } = sa else {
                continue;
            };
            let token = first(
                &user,
                &[Request::resource("create", "", "serviceaccounts/token", ns).named(name)],
            );
            let entered = enterable_pod(ctx, &user, ns, name);
            if via_pods.is_none()
                && via_templates.is_none()
                && entered.is_none()
                && via_secrets.is_none()
                && token.is_none()
                && via_token_secret.is_none()
            {
                continue;
            }
            let more = beyond(&user, sa_grants);
            if more.is_empty() {
                continue;
            }
            let gain = format!("{sa} can also {}", more.join("; "));
            if let Some(g) = &via_pods {
                pods.push(format!("{s} can run pods as {sa} ({g}); {gain}"));
            }
            if let Some(g) = &via_templates {
                pods.push(format!(
                    "{s} can change a workload's pod template to run as {sa} ({g}); {gain}"
                ));
            }
            if let Some((pod, g)) = &entered {
                pods.push(format!(
                    "{s} can run commands in pod {ns}/{pod}, which runs as {sa} ({g}); {gain}"
                ));
            }
            if let Some(g) = &token {
                tokens.push(format!("{s} can mint tokens of {sa} ({g}); {gain}"));
            }
            if let Some(g) = &via_token_secret {
                tokens.push(format!(
                    "{s} can create a kubernetes.io/service-account-token Secret for {sa}, a token that never expires ({g}); {gain}"
                ));
            }
            if let Some(g) = &via_secrets {
                secrets.push(format!(
                    "{s} can read Secrets in {ns} ({g}), where a token of {sa} would leak; {gain}"
                ));
            }
        }
        for g in user
            .can(&Request::resource(
                "bind",
                "rbac.authorization.k8s.io",
                "roles",
                ns,
            ))
            .evidence
        {
            for role in g.rule.resource_names.iter().flatten() {
                let more = beyond(&user, &ctx.authz.role_grants("Role", role, ns));
                if !more.is_empty() {
                    binds.push(format!(
                        "{s} can bind Role {ns}/{role} ({g}) granting more: {}",
                        more.join("; ")
                    ));
                }
            }
        }
    }
    pods.extend(tokens);
    let mut secret_check = Check::from_failures(
        "HMT-ESC-002",
        "No readable Secrets of a more powerful ServiceAccount",
        secrets,
        vec!["no subject reading Secrets is weaker than a ServiceAccount of the namespace".into()],
    );
    if secret_check.status == Status::Fail {
        secret_check.status = Status::Warn;
    }
    vec![
        Check::from_failures(
            "HMT-ESC-001",
            "No pods or tokens running as a more powerful ServiceAccount",
            pods,
            vec![format!(
                "every ServiceAccount of {ns} is at most as powerful as whoever can run pods or mint tokens for it"
            )],
        ),
        secret_check,
        Check::from_failures(
            "HMT-ESC-003",
            "No binding of roles one does not hold",
            binds,
            vec![format!(
                "bindable roles are within the binder's own rights ({} at most)",
                TENANT_ROLES.join(", ")
            )],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use harmony_guardrails::{ClusterGuardrailsScore, GuardrailObject, compile_guardrails};
    use harmony_tenant::{ClusterFacts, Member, TenantRole, TenantScore, compile};
    use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    use crate::snapshot::AdmissionPolicies;
    use crate::{AuditConfig, Check, ClusterSnapshot, Status, audit};

    /// Tenant acme with an admin ServiceAccount `robot`, and user `sam` who may only create
    /// Secrets (a Role Harmony did not build); with or without the guardrails.
    fn esc_001(guardrails: bool) -> Check {
        let facts = ClusterFacts::kubernetes();
        let tenant =
            TenantScore::new("acme").member(Member::service_account("robot", TenantRole::Admin));
        let mut snapshot = ClusterSnapshot::from_plans(&[compile(&tenant, &facts)]);
        let meta = |name: &str| ObjectMeta {
            name: Some(name.into()),
            namespace: Some("acme".into()),
            ..ObjectMeta::default()
        };
        snapshot.roles.push(Role {
            metadata: meta("secret-writer"),
            rules: Some(vec![PolicyRule {
                api_groups: Some(vec!["".into()]),
                resources: Some(vec!["secrets".into()]),
                verbs: vec!["create".into()],
                ..PolicyRule::default()
            }]),
        });
        snapshot.role_bindings.push(RoleBinding {
            metadata: meta("sam"),
            role_ref: RoleRef {
                api_group: "rbac.authorization.k8s.io".into(),
                kind: "Role".into(),
                name: "secret-writer".into(),
            },
            subjects: Some(vec![Subject {
                kind: "User".into(),
                name: "sam".into(),
                api_group: Some("rbac.authorization.k8s.io".into()),
                ..Subject::default()
            }]),
        });
        let mut admission = AdmissionPolicies::default();
        if guardrails {
            let plan = compile_guardrails(&ClusterGuardrailsScore::default(), &facts, &[tenant]);
            for object in plan.objects() {
                match object {
                    GuardrailObject::ValidatingAdmissionPolicy(o) => {
                        admission.policies.push(o.clone())
                    }
                    GuardrailObject::ValidatingAdmissionPolicyBinding(o) => {
                        admission.bindings.push(o.clone())
                    }
                    _ => {}
                }
            }
        }
        snapshot.admission_policies = Some(admission);
        let report = audit(&snapshot, &AuditConfig::new(facts));
        report.tenants[0]
            .checks
            .iter()
            .find(|c| c.id == "HMT-ESC-001")
            .unwrap()
            .clone()
    }

    #[test]
    fn creating_secrets_without_the_guardrail_mints_a_stronger_token() {
        let check = esc_001(false);
        assert_eq!(check.status, Status::Fail, "{check:?}");
        assert!(
            check.evidence.iter().any(|e| e.starts_with(
                "User sam can create a kubernetes.io/service-account-token Secret for ServiceAccount acme/robot, a token that never expires (RoleBinding acme/sam → Role acme/secret-writer rule #0); ServiceAccount acme/robot can also "
            )),
            "{check:?}"
        );
        assert!(
            check
                .evidence
                .iter()
                .any(|e| e.starts_with("guardrail harmony-tenant-secrets missing")),
            "{check:?}"
        );
    }

    #[test]
    fn the_secrets_guardrail_closes_the_path() {
        let check = esc_001(true);
        assert_eq!(check.status, Status::Pass, "{check:?}");
        assert!(
            check
                .evidence
                .iter()
                .any(|e| e.starts_with("guardrail harmony-tenant-secrets present")),
            "{check:?}"
        );
    }
}
