//! Paths an outside review found the audit blind to: each fails (or warns) on a weakened copy of
//! Harmony's tenant, naming the binding, role, rule, quota or policy, while Harmony's own passes.

mod common;

use std::collections::BTreeMap;

use harmony_audit::{AuditConfig, AuditReport, ClusterSnapshot, Status, audit};
use harmony_tenant::{ClusterFacts, Member, TenantRole, TenantScore};
use k8s_openapi::api::core::v1::{
    Pod, PodSpec, ResourceQuota, ScopeSelector, ScopedResourceSelectorRequirement,
};
use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyPeer, NetworkPolicySpec,
};
use k8s_openapi::api::rbac::v1::{
    ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

fn scores() -> Vec<TenantScore> {
    vec![
        TenantScore::new("acme")
            .member(Member::user("alice", TenantRole::Admin, "alice@acme"))
            .member(Member::group("devs", TenantRole::Developer, "acme-devs"))
            .member(Member::user("vic", TenantRole::Viewer, "vic@acme"))
            .member(Member::service_account("ci", TenantRole::Developer)),
        TenantScore::new("globex").member(Member::user("bob", TenantRole::Admin, "bob@globex")),
    ]
}

fn setup(facts: &ClusterFacts) -> (ClusterSnapshot, AuditConfig) {
    common::audited(&scores(), facts)
}

fn check(report: &AuditReport, tenant: &str, id: &str) -> (Status, Vec<String>) {
    let t = report.tenants.iter().find(|t| t.tenant == tenant).unwrap();
    let c = t.checks.iter().find(|c| c.id == id).unwrap();
    (c.status, c.evidence.clone())
}

/// Asserts check `id` of acme has `status` and some evidence line starting with `line`, and that
/// globex (untouched) passes it.
fn assert_check(report: &AuditReport, id: &str, status: Status, line: &str) {
    let (got, evidence) = check(report, "acme", id);
    assert_eq!(got, status, "{id}: {evidence:#?}");
    assert!(
        evidence.iter().any(|e| e.starts_with(line)),
        "{id}: `{line}` not in {evidence:#?}"
    );
    assert_eq!(check(report, "globex", id).0, Status::Pass, "{id} globex");
}

fn meta(name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: Some("acme".into()),
        ..Default::default()
    }
}

fn rule(group: &str, resources: &[&str], verbs: &[&str]) -> PolicyRule {
    PolicyRule {
        api_groups: Some(vec![group.into()]),
        resources: Some(resources.iter().map(|r| r.to_string()).collect()),
        verbs: verbs.iter().map(|v| v.to_string()).collect(),
        ..Default::default()
    }
}

/// Role `name` in acme with `rules`, bound (RoleBinding `name`) to `subject`.
fn grant(snapshot: &mut ClusterSnapshot, name: &str, subject: Subject, rules: Vec<PolicyRule>) {
    snapshot.roles.push(Role {
        metadata: meta(name),
        rules: Some(rules),
    });
    bind(snapshot, name, "Role", name, subject);
}

fn bind(snapshot: &mut ClusterSnapshot, name: &str, kind: &str, role: &str, subject: Subject) {
    snapshot.role_bindings.push(RoleBinding {
        metadata: meta(name),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: kind.into(),
            name: role.into(),
        },
        subjects: Some(vec![subject]),
    });
}

fn user(name: &str) -> Subject {
    Subject {
        kind: "User".into(),
        name: name.into(),
        api_group: Some("rbac.authorization.k8s.io".into()),
        ..Default::default()
    }
}

/// ServiceAccount acme/robot, which may create NetworkPolicies: stronger than any member.
fn robot(snapshot: &mut ClusterSnapshot) {
    let sa = Subject {
        kind: "ServiceAccount".into(),
        name: "robot".into(),
        ..Default::default()
    };
    let rules = vec![rule("networking.k8s.io", &["networkpolicies"], &["create"])];
    grant(snapshot, "robot", sa, rules);
}

fn pod(name: &str, account: &str, automount: Option<bool>) -> Pod {
    Pod {
        metadata: meta(name),
        spec: Some(PodSpec {
            service_account_name: Some(account.into()),
            automount_service_account_token: automount,
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[test]
fn harmony_tenants_pass_the_new_checks_on_both_flavors() {
    for facts in [ClusterFacts::kubernetes(), ClusterFacts::okd()] {
        let (snapshot, config) = setup(&facts);
        let report = audit(&snapshot, &config);
        for tenant in ["acme", "globex"] {
            for id in [
                "HMT-ESC-001",
                "HMT-RBAC-006",
                "HMT-RBAC-007",
                "HMT-RBAC-008",
                "HMT-RBAC-009",
                "HMT-RBAC-013",
                "HMT-QUOTA-001",
                "HMT-NET-007",
                "HMT-NET-008",
            ] {
                let (status, evidence) = check(&report, tenant, id);
                assert_eq!(status, Status::Pass, "{tenant} {id}: {evidence:?}");
            }
        }
        let (_, evidence) = check(&report, "acme", "HMT-RBAC-008");
        assert_eq!(
            evidence,
            ["tenant-viewer, tenant-developer and 4 members hold only their role's rights"]
        );
    }
}

#[test]
fn changing_a_pod_template_runs_as_a_stronger_service_account() {
    let (mut snapshot, config) = setup(&ClusterFacts::kubernetes());
    robot(&mut snapshot);
    let rules = vec![rule("apps", &["deployments"], &["patch"])];
    grant(&mut snapshot, "patcher", user("pat"), rules);
    let report = audit(&snapshot, &config);
    assert_check(
        &report,
        "HMT-ESC-001",
        Status::Fail,
        "User pat can change a workload's pod template to run as ServiceAccount acme/robot \
         (RoleBinding acme/patcher → Role acme/patcher rule #0); ServiceAccount acme/robot can \
         also create networkpolicies.networking.k8s.io in acme",
    );
}

#[test]
fn exec_attach_or_ephemeral_containers_into_a_stronger_pod_escalate() {
    for (resource, verb) in [
        ("pods/exec", "create"),
        ("pods/attach", "get"),
        ("pods/ephemeralcontainers", "patch"),
    ] {
        let (mut snapshot, config) = setup(&ClusterFacts::kubernetes());
        robot(&mut snapshot);
        snapshot.pods.push(pod("robot-1", "robot", None).into());
        // A pod of robot without its token gives nothing.
        snapshot
            .pods
            .push(pod("robot-0", "robot", Some(false)).into());
        grant(
            &mut snapshot,
            "shell",
            user("eve"),
            vec![rule("", &[resource], &[verb])],
        );
        let report = audit(&snapshot, &config);
        assert_check(
            &report,
            "HMT-ESC-001",
            Status::Fail,
            "User eve can run commands in pod acme/robot-1, which runs as ServiceAccount \
             acme/robot (RoleBinding acme/shell → Role acme/shell rule #0); ServiceAccount \
             acme/robot can also create networkpolicies",
        );
        let (_, evidence) = check(&report, "acme", "HMT-ESC-001");
        assert!(
            evidence.iter().all(|e| !e.contains("robot-0")),
            "{evidence:#?}"
        );
    }
}

#[test]
fn built_in_cluster_roles_grant_their_upstream_rights() {
    let (mut snapshot, config) = setup(&ClusterFacts::kubernetes());
    assert!(
        snapshot
            .cluster_roles
            .iter()
            .all(|r| r.metadata.name.as_deref() != Some("edit"))
    );
    bind(
        &mut snapshot,
        "vic-edit",
        "ClusterRole",
        "edit",
        user("vic@acme"),
    );
    let report = audit(&snapshot, &config);
    let via = "RoleBinding acme/vic-edit → ClusterRole edit (built-in) rule #";
    assert_check(
        &report,
        "HMT-RBAC-008",
        Status::Fail,
        &format!("User vic@acme (member viewer) can write: {via}"),
    );
    assert_check(
        &report,
        "HMT-RBAC-007",
        Status::Fail,
        &format!("User vic@acme can get pods/proxy in acme: {via}"),
    );
    assert_check(
        &report,
        "HMT-RBAC-004",
        Status::Fail,
        &format!("User vic@acme can impersonate serviceaccounts in acme: {via}"),
    );
    assert_eq!(check(&report, "acme", "HMT-RBAC-009").0, Status::Pass);

    // `view` reads no Secrets; `admin` writes the namespace's RBAC.
    let (mut snapshot, config) = setup(&ClusterFacts::kubernetes());
    bind(
        &mut snapshot,
        "vic-view",
        "ClusterRole",
        "view",
        user("vic@acme"),
    );
    bind(
        &mut snapshot,
        "dev-admin",
        "ClusterRole",
        "admin",
        Subject {
            kind: "Group".into(),
            name: "acme-devs".into(),
            api_group: Some("rbac.authorization.k8s.io".into()),
            ..Default::default()
        },
    );
    let report = audit(&snapshot, &config);
    let (status, evidence) = check(&report, "acme", "HMT-RBAC-008");
    assert_eq!(status, Status::Fail);
    assert!(
        evidence.iter().all(|e| !e.contains("vic-view")),
        "{evidence:#?}"
    );
    assert!(
        evidence.iter().any(|e| e.starts_with(
            "Group acme-devs (member developer) can change roles or role bindings: \
             RoleBinding acme/dev-admin → ClusterRole admin (built-in) rule #1"
        )),
        "{evidence:#?}"
    );
}

#[test]
fn a_binding_to_an_unknown_role_warns() {
    let (mut snapshot, config) = setup(&ClusterFacts::kubernetes());
    bind(
        &mut snapshot,
        "mystery",
        "ClusterRole",
        "ops-power",
        user("vic@acme"),
    );
    bind(&mut snapshot, "gone", "Role", "deleted", user("vic@acme"));
    let report = audit(&snapshot, &config);
    let (status, evidence) = check(&report, "acme", "HMT-RBAC-009");
    assert_eq!(status, Status::Warn);
    assert_eq!(
        evidence,
        [
            "RoleBinding acme/mystery → ClusterRole ops-power: unknown role ClusterRole ops-power: not in the audited objects, counted as granting nothing",
            "RoleBinding acme/gone → Role deleted: unknown role Role deleted: not in the audited objects, counted as granting nothing",
        ]
    );
    let (status, evidence) = check(&report, "globex", "HMT-RBAC-009");
    assert_eq!(status, Status::Pass);
    assert_eq!(
        evidence,
        [
            "every role bound in globex is in the audited objects or built in (cluster-admin, admin, edit, view, monitoring-edit, monitoring-rules-edit, monitoring-rules-view, alert-routing-edit, cluster-monitoring-view)"
        ]
    );
}

/// A scope selector's terms: (scope, operator).
type Selector<'a> = &'a [(&'a str, &'a str)];

/// Acme's quota with `scopes` and a scope selector of `selector`.
fn scoped_quota(snapshot: &mut ClusterSnapshot, scopes: &[&str], selector: Selector) {
    let q: &mut ResourceQuota = snapshot
        .resource_quotas
        .iter_mut()
        .find(|q| q.metadata.namespace.as_deref() == Some("acme"))
        .unwrap();
    let spec = q.spec.as_mut().unwrap();
    spec.scopes = Some(scopes.iter().map(|s| s.to_string()).collect());
    spec.scope_selector = Some(ScopeSelector {
        match_expressions: Some(
            selector
                .iter()
                .map(|(scope, op)| ScopedResourceSelectorRequirement {
                    scope_name: scope.to_string(),
                    operator: op.to_string(),
                    values: None,
                })
                .collect(),
        ),
    });
}

#[test]
fn a_quota_whose_scopes_exclude_each_other_does_not_count() {
    let cases: [(&[&str], Selector, &str); 3] = [
        (
            &["Terminating", "NotTerminating"],
            &[],
            "scopes Terminating and NotTerminating",
        ),
        (
            &["BestEffort"],
            &[("NotBestEffort", "Exists")],
            "scopes BestEffort and NotBestEffort",
        ),
        (
            &[],
            &[("Terminating", "Exists"), ("Terminating", "DoesNotExist")],
            "scopes Terminating and Terminating DoesNotExist",
        ),
    ];
    for (scopes, selector, why) in cases {
        let (mut snapshot, config) = setup(&ClusterFacts::kubernetes());
        scoped_quota(&mut snapshot, scopes, selector);
        let name = snapshot.resource_quotas[0].metadata.name.clone().unwrap();
        let report = audit(&snapshot, &config);
        assert_check(
            &report,
            "HMT-QUOTA-001",
            Status::Fail,
            "no quota on CPU requests",
        );
        let (_, evidence) = check(&report, "acme", "HMT-QUOTA-001");
        let line = format!(
            "ResourceQuota acme/{name} constrains nothing ({why} exclude each other): not counted"
        );
        assert!(evidence.contains(&line), "{line} not in {evidence:#?}");
        assert_eq!(check(&report, "acme", "HMT-QUOTA-002").0, Status::Fail);
    }
    // Scopes that a pod can match together constrain those pods.
    let (mut snapshot, config) = setup(&ClusterFacts::kubernetes());
    scoped_quota(
        &mut snapshot,
        &["NotTerminating"],
        &[("NotBestEffort", "Exists")],
    );
    let report = audit(&snapshot, &config);
    assert_eq!(check(&report, "acme", "HMT-QUOTA-001").0, Status::Pass);
}

#[test]
fn endpoint_writes_and_api_proxies_fail() {
    let (mut snapshot, config) = setup(&ClusterFacts::kubernetes());
    let rules = vec![
        rule("discovery.k8s.io", &["endpointslices"], &["patch"]),
        rule("", &["services/proxy"], &["get"]),
    ];
    grant(&mut snapshot, "steer", user("vic@acme"), rules);
    let report = audit(&snapshot, &config);
    assert_check(
        &report,
        "HMT-RBAC-006",
        Status::Fail,
        "User vic@acme can patch endpointslices.discovery.k8s.io in acme: RoleBinding acme/steer → Role acme/steer rule #0",
    );
    assert_check(
        &report,
        "HMT-RBAC-007",
        Status::Fail,
        "User vic@acme can get services/proxy in acme: RoleBinding acme/steer → Role acme/steer rule #1",
    );
}

#[test]
fn weakened_tenant_roles_break_their_contract() {
    let (mut snapshot, config) = setup(&ClusterFacts::kubernetes());
    for r in snapshot
        .roles
        .iter_mut()
        .filter(|r| r.metadata.namespace.as_deref() == Some("acme"))
    {
        let rules = r.rules.as_mut().unwrap();
        match r.metadata.name.as_deref() {
            Some("tenant-viewer") => rules.push(rule("", &["configmaps"], &["create"])),
            Some("tenant-developer") => rules.push(rule(
                "rbac.authorization.k8s.io",
                &["rolebindings"],
                &["create"],
            )),
            _ => {}
        }
    }
    grant(
        &mut snapshot,
        "peek",
        user("vic@acme"),
        vec![rule("", &["secrets"], &["list"])],
    );
    let report = audit(&snapshot, &config);
    let (status, evidence) = check(&report, "acme", "HMT-RBAC-008");
    assert_eq!(status, Status::Fail);
    let viewer_rules = snapshot
        .roles
        .iter()
        .find(|r| r.metadata.name.as_deref() == Some("tenant-viewer"))
        .unwrap()
        .rules
        .as_ref()
        .unwrap()
        .len();
    for line in [
        format!(
            "Role acme/tenant-viewer rule #{} lets a viewer write: create configmaps (apiGroups \"\")",
            viewer_rules - 1
        ),
        "User vic@acme (member viewer) can read Secrets: RoleBinding acme/peek → Role acme/peek rule #0: list secrets (apiGroups \"\")".into(),
    ] {
        assert!(evidence.contains(&line), "{line} not in {evidence:#?}");
    }
    assert!(
        evidence
            .iter()
            .any(|e| e.starts_with("Role acme/tenant-developer rule #")
                && e.contains(
                    "lets a developer change roles or role bindings: create rolebindings"
                )),
        "{evidence:#?}"
    );
    assert_eq!(check(&report, "globex", "HMT-RBAC-008").0, Status::Pass);
}

/// An egress policy of acme to every pod of the namespaces `labels` selects, on every port.
fn to_namespaces(labels: BTreeMap<String, String>) -> NetworkPolicy {
    NetworkPolicy {
        metadata: meta("to-platform"),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector::default()),
            policy_types: Some(vec!["Egress".into()]),
            egress: Some(vec![NetworkPolicyEgressRule {
                to: Some(vec![NetworkPolicyPeer {
                    namespace_selector: Some(LabelSelector {
                        match_labels: Some(labels),
                        ..Default::default()
                    }),
                    ..Default::default()
                }]),
                ports: None,
            }]),
            ..Default::default()
        }),
    }
}

#[test]
fn egress_to_platform_namespaces_beyond_dns_fails() {
    for facts in [ClusterFacts::kubernetes(), ClusterFacts::okd()] {
        for peer in [&facts.dns.peer, &facts.monitoring] {
            let (mut snapshot, config) = setup(&facts);
            let labels = peer.namespace_selector.clone();
            snapshot.network_policies.push(to_namespaces(labels));
            let report = audit(&snapshot, &config);
            let (status, evidence) = check(&report, "acme", "HMT-NET-008");
            assert_eq!(status, Status::Fail, "{evidence:#?}");
            assert!(
                evidence.iter().all(|e| e.starts_with("acme/placeholder → ")
                    && e.contains(" beyond DNS (")
                    && e.contains("NetworkPolicy acme/to-platform rule #0")),
                "{evidence:#?}"
            );
            assert_eq!(check(&report, "globex", "HMT-NET-008").0, Status::Pass);
        }
    }
}

/// HMT-NET-007 covers ipBlocks that do not except the cluster networks, wherever they lie: here a
/// pod network in public space, which no non-public exception covers.
#[test]
fn an_ip_block_over_a_cluster_network_fails_hmt_net_007() {
    let facts = ClusterFacts {
        pod_networks: vec!["11.0.0.0/16".parse().unwrap()],
        ..ClusterFacts::kubernetes()
    };
    let (snapshot, config) = setup(&facts);
    assert_eq!(
        check(&audit(&snapshot, &config), "acme", "HMT-NET-007").0,
        Status::Pass
    );
    let (mut snapshot, config) = setup(&facts);
    let mut policy = to_namespaces(BTreeMap::new());
    policy.spec.as_mut().unwrap().egress.as_mut().unwrap()[0].to = Some(vec![NetworkPolicyPeer {
        ip_block: Some(IPBlock {
            cidr: "0.0.0.0/0".into(),
            except: Some(
                [
                    "10.0.0.0/8",
                    "172.16.0.0/12",
                    "192.168.0.0/16",
                    "100.64.0.0/10",
                ]
                .map(String::from)
                .to_vec(),
            ),
        }),
        ..Default::default()
    }]);
    snapshot.network_policies.push(policy);
    let report = audit(&snapshot, &config);
    assert_check(
        &report,
        "HMT-NET-007",
        Status::Fail,
        "acme/placeholder → 11.0.0.0/16 (pod network): all connections (egress of acme/placeholder allowed by NetworkPolicy acme/to-platform rule #0",
    );
}

/// With tenant files, a member's role is the file's: a viewer whose binding now names
/// tenant-developer breaks the viewer contract; without the files, the binding is believed.
#[test]
fn the_tenant_file_says_which_role_a_member_holds() {
    let (mut snapshot, config) = setup(&ClusterFacts::kubernetes());
    let b = snapshot
        .role_bindings
        .iter_mut()
        .find(|b| b.metadata.name.as_deref() == Some("member-vic"))
        .unwrap();
    b.role_ref.name = "tenant-developer".into();
    let report = audit(&snapshot, &config);
    assert_check(
        &report,
        "HMT-RBAC-008",
        Status::Fail,
        "User vic@acme (member viewer) can write: RoleBinding acme/member-vic → Role acme/tenant-developer rule #1: ",
    );
    let without_files = AuditConfig::new(ClusterFacts::kubernetes());
    let report = audit(&snapshot, &without_files);
    assert_eq!(check(&report, "acme", "HMT-RBAC-008").0, Status::Pass);
}

/// A user or group bound in the namespace who is not a member warns, naming the binding, with or
/// without the tenant files; members, the namespace's own ServiceAccounts and system identities
/// (HMT-RBAC-005's) do not.
#[test]
fn a_user_or_group_bound_in_the_namespace_who_is_not_a_member_warns() {
    let (mut snapshot, config) = setup(&ClusterFacts::kubernetes());
    let own_accounts = Subject {
        kind: "Group".into(),
        name: "system:serviceaccounts:acme".into(),
        api_group: Some("rbac.authorization.k8s.io".into()),
        ..Default::default()
    };
    bind(
        &mut snapshot,
        "image-pullers",
        "ClusterRole",
        "view",
        own_accounts,
    );
    bind(
        &mut snapshot,
        "alice-again",
        "ClusterRole",
        "view",
        user("alice@acme"),
    );
    let report = audit(&snapshot, &config);
    let (status, evidence) = check(&report, "acme", "HMT-RBAC-013");
    assert_eq!(status, Status::Pass, "{evidence:?}");
    assert_eq!(
        evidence,
        ["every user and group bound in acme is one of the 4 members of tenant acme"]
    );

    bind(
        &mut snapshot,
        "payroll-viewers",
        "ClusterRole",
        "view",
        user("carol@example.com"),
    );
    for config in [config, AuditConfig::new(ClusterFacts::kubernetes())] {
        let report = audit(&snapshot, &config);
        assert_check(
            &report,
            "HMT-RBAC-013",
            Status::Warn,
            "RoleBinding acme/payroll-viewers binds User carol@example.com to ClusterRole view: not a member of tenant acme",
        );
        let (_, evidence) = check(&report, "acme", "HMT-RBAC-013");
        assert_eq!(evidence.len(), 1, "{evidence:?}");
        assert_eq!(check(&report, "acme", "HMT-RBAC-005").0, Status::Pass);
    }
}

#[test]
fn a_cluster_wide_monitoring_role_fails_in_the_namespace_or_cluster_wide() {
    let (mut snapshot, config) = setup(&ClusterFacts::kubernetes());
    bind(
        &mut snapshot,
        "metrics",
        "ClusterRole",
        "cluster-monitoring-view",
        user("vic@acme"),
    );
    let report = audit(&snapshot, &config);
    assert_check(
        &report,
        "HMT-RBAC-010",
        Status::Fail,
        "RoleBinding acme/metrics binds ClusterRole cluster-monitoring-view, a cluster-wide monitoring role",
    );
    assert_eq!(check(&report, "acme", "HMT-RBAC-009").0, Status::Pass);

    let (mut snapshot, config) = setup(&ClusterFacts::kubernetes());
    bind(
        &mut snapshot,
        "vic",
        "Role",
        "tenant-viewer",
        user("vic@acme"),
    );
    snapshot.cluster_role_bindings.push(ClusterRoleBinding {
        metadata: ObjectMeta {
            name: Some("acme-rules".into()),
            ..Default::default()
        },
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "ClusterRole".into(),
            name: "monitoring-rules-view".into(),
        },
        subjects: Some(vec![user("vic@acme")]),
    });
    let report = audit(&snapshot, &config);
    assert_check(
        &report,
        "HMT-RBAC-010",
        Status::Fail,
        "ClusterRoleBinding acme-rules binds User vic@acme to ClusterRole monitoring-rules-view",
    );
    // Known, so also counted as the cluster-scoped read it is.
    let (status, evidence) = check(&report, "acme", "HMT-RBAC-001");
    assert_eq!(status, Status::Fail, "{evidence:#?}");
}

#[test]
fn reading_or_creating_velero_backups_fails() {
    let (mut snapshot, config) = setup(&ClusterFacts::kubernetes());
    let report = audit(&snapshot, &config);
    assert_eq!(check(&report, "acme", "HMT-RBAC-011").0, Status::Pass);
    let in_velero = ObjectMeta {
        name: Some("backup-reader".into()),
        namespace: Some("velero".into()),
        ..Default::default()
    };
    snapshot.roles.push(Role {
        metadata: in_velero.clone(),
        rules: Some(vec![rule("velero.io", &["backups"], &["get", "list"])]),
    });
    snapshot.role_bindings.push(RoleBinding {
        metadata: in_velero,
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "Role".into(),
            name: "backup-reader".into(),
        },
        subjects: Some(vec![user("alice@acme")]),
    });
    let report = audit(&snapshot, &config);
    assert_check(
        &report,
        "HMT-RBAC-011",
        Status::Fail,
        "User alice@acme can get backups.velero.io in velero: RoleBinding velero/backup-reader",
    );
}

/// acme with room for two more namespaces: its roles reach its NamespaceRequests.
fn self_service() -> (ClusterSnapshot, AuditConfig) {
    let mut scores = scores();
    scores[0] = scores[0].clone().max_namespaces(3);
    common::audited(&scores, &ClusterFacts::kubernetes())
}

/// The Role `name` of acme, for widening.
fn acme_role<'s>(snapshot: &'s mut ClusterSnapshot, name: &str) -> &'s mut Vec<PolicyRule> {
    let role = snapshot
        .roles
        .iter_mut()
        .find(|r| r.metadata.name.as_deref() == Some(name))
        .unwrap();
    role.rules.as_mut().unwrap()
}

const HARMONY: &str = "harmony.nationtech.io";

#[test]
fn a_self_service_tenant_passes_with_its_namespace_request_rights() {
    let (snapshot, config) = self_service();
    let admin = snapshot
        .roles
        .iter()
        .find(|r| r.metadata.name.as_deref() == Some("tenant-admin"))
        .unwrap();
    assert!(
        admin.rules.iter().flatten().any(|r| *r
            == rule(
                HARMONY,
                &["namespacerequests"],
                &["get", "list", "watch", "create", "delete"]
            )),
        "{admin:?}"
    );
    let report = audit(&snapshot, &config);
    assert_eq!(common::not_passing(&report), Vec::<String>::new());
    let (_, evidence) = check(&report, "acme", "HMT-RBAC-012");
    assert_eq!(
        evidence,
        [
            "of harmony.nationtech.io, tenant-admin holds at most get,list,watch,create,delete \
          namespacerequests, tenant-developer and tenant-viewer get,list,watch, and 5 subjects \
          nothing else"
        ]
    );
}

#[test]
fn a_self_service_tenant_with_several_namespaces_passes_in_each() {
    let mut scores = scores();
    scores[0] = scores[0]
        .clone()
        .with_namespaces([
            harmony_tenant::TenantNamespace::new("acme-dev"),
            harmony_tenant::TenantNamespace::new("acme-prod"),
        ])
        .max_namespaces(3);
    let (snapshot, config) = common::audited(&scores, &ClusterFacts::okd());
    let report = audit(&snapshot, &config);
    let rows: Vec<(&str, Status)> = report
        .tenants
        .iter()
        .filter(|t| t.tenant == "acme")
        .flat_map(|t| {
            t.checks
                .iter()
                .filter(|c| c.id == "HMT-RBAC-012")
                .map(|c| (t.namespace.as_str(), c.status))
        })
        .collect();
    assert_eq!(
        rows,
        [("acme-dev", Status::Pass), ("acme-prod", Status::Pass)],
        "a member's tenant Roles in the tenant's other namespace are its own"
    );
}

#[test]
fn a_wider_namespace_request_right_of_a_tenant_role_fails_naming_role_binding_and_rule() {
    for (role, widened, what) in [
        (
            "tenant-admin",
            rule(HARMONY, &["namespacerequests"], &["update", "patch"]),
            "update namespacerequests",
        ),
        (
            "tenant-admin",
            rule(HARMONY, &["namespacerequests/status"], &["patch"]),
            "patch namespacerequests/status",
        ),
        (
            "tenant-admin",
            rule(HARMONY, &["tenants"], &["get"]),
            "get tenants",
        ),
        (
            "tenant-developer",
            rule(HARMONY, &["namespacerequests"], &["create"]),
            "create namespacerequests",
        ),
        (
            "tenant-viewer",
            rule(HARMONY, &["namespacerequests"], &["delete"]),
            "delete namespacerequests",
        ),
    ] {
        let (mut snapshot, config) = self_service();
        let rules = acme_role(&mut snapshot, role);
        rules.push(widened);
        let index = rules.len() - 1;
        let report = audit(&snapshot, &config);
        let bound_by = match role {
            "tenant-admin" => "acme/member-alice",
            "tenant-developer" => "acme/member-ci, acme/member-devs",
            _ => "acme/member-vic",
        };
        assert_check(
            &report,
            "HMT-RBAC-012",
            Status::Fail,
            &format!(
                "Role acme/{role} rule #{index} (bound by RoleBinding {bound_by}) lets its members {what}: "
            ),
        );
    }
}

#[test]
fn any_harmony_right_through_another_role_fails_naming_the_binding() {
    for (rules, what) in [
        (
            vec![rule(HARMONY, &["namespacerequests"], &["get"])],
            "get namespacerequests",
        ),
        (
            vec![rule(HARMONY, &["namespacerequests/status"], &["patch"])],
            "patch namespacerequests/status",
        ),
        (vec![rule("*", &["tenants"], &["list"])], "list tenants"),
    ] {
        let (mut snapshot, config) = self_service();
        grant(&mut snapshot, "extra", user("alice@acme"), rules);
        let report = audit(&snapshot, &config);
        assert_check(
            &report,
            "HMT-RBAC-012",
            Status::Fail,
            &format!(
                "User alice@acme can {what}: RoleBinding acme/extra → Role acme/extra rule #0: "
            ),
        );
    }
}
