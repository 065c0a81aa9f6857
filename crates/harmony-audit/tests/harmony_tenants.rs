//! Harmony's own compiled tenants pass every check; weakened copies fail the right one.

mod common;

use harmony_audit::rbac::{Authorizer, Request, SubjectRef, UserInfo};
use harmony_audit::{AuditConfig, AuditReport, ClusterSnapshot, Status, audit};
use harmony_tenant::{ClusterFacts, Member, TenantRole, TenantScore};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

fn scores() -> Vec<TenantScore> {
    vec![
        TenantScore::new("acme")
            .member(Member::user("alice", TenantRole::Admin, "alice@acme"))
            .member(Member::group("devs", TenantRole::Developer, "acme-devs"))
            .member(Member::user("vic", TenantRole::Viewer, "vic@acme"))
            .member(Member::service_account("ci", TenantRole::Developer))
            .self_service_role_bindings(true)
            .storage_class("standard", "10Gi"),
        TenantScore::new("globex")
            .deny_internet_egress()
            .member(Member::user("bob", TenantRole::Admin, "bob@globex")),
    ]
}

fn setup(facts: &ClusterFacts) -> (ClusterSnapshot, AuditConfig) {
    common::audited(&scores(), facts)
}

#[test]
fn compiled_tenants_pass_every_check_on_both_flavors() {
    for facts in [ClusterFacts::kubernetes(), ClusterFacts::okd()] {
        let (snapshot, config) = setup(&facts);
        let report = audit(&snapshot, &config);
        assert_eq!(report.tenants.len(), 2);
        assert!(report.tenants[0].checks.len() >= 15);
        assert_eq!(
            common::not_passing(&report),
            Vec::<String>::new(),
            "{:?}",
            facts.flavor
        );
    }
}

#[test]
fn compiled_tenants_with_monitoring_pass_every_check_with_their_monitoring_bindings_known() {
    for facts in [ClusterFacts::kubernetes(), ClusterFacts::okd()] {
        let facts = ClusterFacts {
            monitoring_api: true,
            ..facts
        };
        let (snapshot, config) = setup(&facts);
        let monitoring = snapshot
            .role_bindings
            .iter()
            .filter(|b| b.role_ref.kind == "ClusterRole")
            .count();
        // acme: alert-routing-edit, monitoring-edit, monitoring-rules-view; globex: the first two.
        assert_eq!(monitoring, 5);
        let report = audit(&snapshot, &config);
        assert_eq!(
            common::not_passing(&report),
            Vec::<String>::new(),
            "{:?}",
            facts.flavor
        );
        let a = Authorizer::new(&snapshot);
        let vic = UserInfo::from(&SubjectRef::User {
            name: "vic@acme".into(),
        });
        let rules =
            |verb| Request::resource(verb, "monitoring.coreos.com", "prometheusrules", "acme");
        assert!(a.allows(&vic, &rules("list")));
        assert!(!a.allows(&vic, &rules("create")));
        let other = Request::resource("list", "monitoring.coreos.com", "prometheusrules", "globex");
        assert!(!a.allows(&vic, &other));
    }
}

#[test]
fn admin_may_bind_only_tenant_roles_and_developer_cannot_write_policies() {
    let facts = ClusterFacts::kubernetes();
    let (snapshot, _) = setup(&facts);
    let a = Authorizer::new(&snapshot);
    let alice = UserInfo::from(&SubjectRef::User {
        name: "alice@acme".into(),
    });
    let bind = Request::resource("bind", "rbac.authorization.k8s.io", "roles", "acme");
    assert!(
        a.can(&alice, &bind.clone().named("tenant-developer"))
            .allowed
    );
    assert!(!a.can(&alice, &bind.named("cluster-admin")).allowed);
    let dev = UserInfo {
        name: "carol".into(),
        groups: vec!["acme-devs".into()],
    };
    assert!(
        a.can(&dev, &Request::resource("create", "", "pods", "acme"))
            .allowed
    );
    assert!(
        !a.can(
            &dev,
            &Request::resource("create", "networking.k8s.io", "networkpolicies", "acme")
        )
        .allowed
    );
    assert!(
        !a.can(&dev, &Request::resource("get", "", "pods", "globex"))
            .allowed
    );
}

fn meta(ns: &str, name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: Some(ns.into()),
        ..Default::default()
    }
}

fn status_of(report: &AuditReport, tenant: &str, id: &str) -> (Status, Vec<String>) {
    let t = report.tenants.iter().find(|t| t.tenant == tenant).unwrap();
    let c = t.checks.iter().find(|c| c.id == id).unwrap();
    (c.status, c.evidence.clone())
}

#[test]
fn more_powerful_service_account_is_an_escalation_path() {
    let facts = ClusterFacts::kubernetes();
    let (mut snapshot, config) = setup(&facts);
    // A ServiceAccount of globex that may write NetworkPolicies: globex's admin bob can run pods
    // as it, which is more than bob may do himself.
    snapshot.roles.push(Role {
        metadata: meta("globex", "netpol-writer"),
        rules: Some(vec![PolicyRule {
            api_groups: Some(vec!["networking.k8s.io".into()]),
            resources: Some(vec!["networkpolicies".into()]),
            verbs: vec!["create".into()],
            ..Default::default()
        }]),
    });
    snapshot.role_bindings.push(RoleBinding {
        metadata: meta("globex", "robot"),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "Role".into(),
            name: "netpol-writer".into(),
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".into(),
            name: "robot".into(),
            ..Default::default()
        }]),
    });
    let report = audit(&snapshot, &config);
    let (status, evidence) = status_of(&report, "globex", "HMT-ESC-001");
    assert_eq!(status, Status::Fail);
    assert!(
        evidence
            .iter()
            .any(|e| e.contains("User bob@globex can run pods as ServiceAccount globex/robot")),
        "{evidence:?}"
    );
    assert_eq!(status_of(&report, "globex", "HMT-RBAC-003").0, Status::Fail);
    assert!(report.failed());
    assert_eq!(status_of(&report, "acme", "HMT-ESC-001").0, Status::Pass);
}

#[test]
fn cross_tenant_grant_and_missing_policies_fail() {
    let facts = ClusterFacts::kubernetes();
    let (mut snapshot, config) = setup(&facts);
    snapshot.role_bindings.push(RoleBinding {
        metadata: meta("globex", "leak"),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "ClusterRole".into(),
            name: "view".into(),
        },
        subjects: Some(vec![Subject {
            kind: "User".into(),
            name: "alice@acme".into(),
            ..Default::default()
        }]),
    });
    snapshot
        .network_policies
        .retain(|p| p.metadata.namespace.as_deref() != Some("globex"));
    snapshot
        .cluster_roles
        .push(k8s_openapi::api::rbac::v1::ClusterRole {
            metadata: ObjectMeta {
                name: Some("view".into()),
                ..Default::default()
            },
            rules: Some(vec![PolicyRule {
                api_groups: Some(vec!["".into()]),
                resources: Some(vec!["pods".into()]),
                verbs: vec!["get".into()],
                ..Default::default()
            }]),
            ..Default::default()
        });
    let report = audit(&snapshot, &config);
    // alice (acme's admin) reads globex's pods: acme's subject reaches another namespace, and
    // globex's subjects now include a stranger holding acme's rights.
    let (status, evidence) = status_of(&report, "acme", "HMT-RBAC-002");
    assert_eq!(status, Status::Fail, "{evidence:?}");
    assert_eq!(
        evidence,
        ["User alice@acme: RoleBinding globex/leak → ClusterRole view rule #0"]
    );
    assert_eq!(status_of(&report, "globex", "HMT-RBAC-002").0, Status::Fail);
    assert_eq!(status_of(&report, "globex", "HMT-NET-001").0, Status::Fail);
    // acme still denies egress to globex, but globex now accepts ingress from everyone: the
    // path acme → globex stays blocked by acme's egress policies; globex → acme is blocked by
    // acme's ingress policies.
    assert_eq!(status_of(&report, "globex", "HMT-NET-002").0, Status::Pass);
    // globex now reaches the internet it should not.
    assert_eq!(status_of(&report, "globex", "HMT-NET-003").0, Status::Fail);
}

#[test]
fn role_bindings_to_everyone_or_to_other_namespaces_fail() {
    let facts = ClusterFacts::kubernetes();
    let (mut snapshot, config) = setup(&facts);
    let subject = |kind: &str, name: &str, namespace: Option<&str>| Subject {
        kind: kind.into(),
        name: name.into(),
        namespace: namespace.map(Into::into),
        api_group: (kind != "ServiceAccount").then(|| "rbac.authorization.k8s.io".into()),
    };
    snapshot.role_bindings.push(RoleBinding {
        metadata: meta("acme", "open"),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "Role".into(),
            name: "tenant-viewer".into(),
        },
        subjects: Some(vec![
            subject("Group", "system:authenticated", None),
            subject("Group", "system:unauthenticated", None),
            subject("Group", "system:serviceaccounts", None),
            subject("Group", "system:serviceaccounts:globex", None),
            subject("Group", "system:serviceaccounts:acme", None),
            subject("User", "system:anonymous", None),
            subject("User", "system:serviceaccount:globex:default", None),
            subject("User", "system:kube-controller-manager", None),
            subject("Group", "system:masters", None),
            subject("ServiceAccount", "default", Some("globex")),
            subject("ServiceAccount", "ci", None),
            subject("User", "alice@acme", None),
        ]),
    });
    let report = audit(&snapshot, &config);
    let (status, evidence) = status_of(&report, "acme", "HMT-RBAC-005");
    assert_eq!(status, Status::Fail);
    let open = "RoleBinding acme/open binds";
    assert_eq!(
        evidence,
        [
            format!(
                "{open} Group system:authenticated (every authenticated user, other tenants included) to Role tenant-viewer"
            ),
            format!(
                "{open} Group system:unauthenticated (every unauthenticated request) to Role tenant-viewer"
            ),
            format!(
                "{open} Group system:serviceaccounts (every ServiceAccount of the cluster) to Role tenant-viewer"
            ),
            format!(
                "{open} Group system:serviceaccounts:globex (every ServiceAccount of namespace globex) to Role tenant-viewer"
            ),
            format!(
                "{open} User system:anonymous (unauthenticated requests) to Role tenant-viewer"
            ),
            format!(
                "{open} User system:serviceaccount:globex:default (a ServiceAccount of namespace globex) to Role tenant-viewer"
            ),
            format!(
                "{open} User system:kube-controller-manager (a Kubernetes system identity, never a tenant member) to Role tenant-viewer"
            ),
            format!(
                "{open} Group system:masters (a Kubernetes system group, never a tenant's) to Role tenant-viewer"
            ),
            format!(
                "{open} ServiceAccount globex/default (a ServiceAccount of namespace globex) to Role tenant-viewer"
            ),
        ]
    );
    let (status, evidence) = status_of(&report, "globex", "HMT-RBAC-005");
    assert_eq!(status, Status::Pass);
    assert_eq!(
        evidence,
        [
            "1 RoleBindings in globex name no system-wide group, system identity, anonymous user or other namespace's ServiceAccount"
        ]
    );
}

/// Every real cluster binds `system:serviceaccounts` to the bootstrap
/// `system:service-account-issuer-discovery` role (URLs with and without a trailing `/`, as
/// kube-apiserver 1.34 creates it): public discovery makes no ServiceAccount cluster-scoped or
/// stronger than the members who may run pods as it.
#[test]
fn bootstrap_issuer_discovery_is_neither_cluster_access_nor_escalation() {
    use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
    let facts = ClusterFacts::kubernetes();
    let (mut snapshot, config) = setup(&facts);
    let name = "system:service-account-issuer-discovery";
    let urls = [
        "/.well-known/openid-configuration",
        "/.well-known/openid-configuration/",
        "/openid/v1/jwks",
        "/openid/v1/jwks/",
    ];
    snapshot.cluster_roles.push(ClusterRole {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        rules: Some(vec![PolicyRule {
            non_resource_urls: Some(urls.map(String::from).to_vec()),
            verbs: vec!["get".into()],
            ..Default::default()
        }]),
        ..Default::default()
    });
    snapshot.cluster_role_bindings.push(ClusterRoleBinding {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "ClusterRole".into(),
            name: name.into(),
        },
        subjects: Some(vec![Subject {
            kind: "Group".into(),
            name: "system:serviceaccounts".into(),
            api_group: Some("rbac.authorization.k8s.io".into()),
            ..Default::default()
        }]),
    });
    let report = audit(&snapshot, &config);
    for id in ["HMT-RBAC-001", "HMT-ESC-001"] {
        let (status, evidence) = status_of(&report, "acme", id);
        assert_eq!(status, Status::Pass, "{id}: {evidence:?}");
    }

    // The same URLs with a write verb are not discovery.
    snapshot
        .cluster_roles
        .last_mut()
        .unwrap()
        .rules
        .as_mut()
        .unwrap()[0]
        .verbs = vec!["get".into(), "post".into()];
    let report = audit(&snapshot, &config);
    assert_eq!(status_of(&report, "acme", "HMT-RBAC-001").0, Status::Fail);
}
