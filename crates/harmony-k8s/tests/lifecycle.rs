//! Apply, re-apply, shrink, delete, and the refusals, against the fake API server.

mod common;

use std::time::Duration;

use common::{run, topology, writes};
use harmony::{InterpretError, OutcomeStatus, Topology};
use harmony_k8s::{ApplyOptions, FactsSource, K8sTopology, Mode};
use harmony_kube::Kind;
use harmony_kube::cluster_from_config;
use harmony_tenant::{
    ClusterFlavor, DeleteError, DeleteOptions, Hint, Member, TenantManager, TenantRemover,
    TenantRole, TenantScore,
};
use harmony_testkit::{FakeApiServer, FakeOptions, Flavor, Gvr, NamespaceDeletion};
use k8s_openapi::api::core::v1::{ConfigMap, LimitRange, ResourceQuota, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use serde_json::json;

fn acme() -> TenantScore {
    TenantScore::new("acme")
        .member(Member::user("alice", TenantRole::Admin, "alice@acme.com"))
        .member(Member::service_account("ci", TenantRole::Developer))
}

/// The tenant namespace `name` is labelled for on `server`.
fn holder(server: &FakeApiServer, name: &str) -> Option<String> {
    let namespace = server.object(&Gvr::core("namespaces"), None, name)?;
    namespace["metadata"]["labels"]["harmony.nationtech.io/tenant"]
        .as_str()
        .map(String::from)
}

fn delete_options(delete_data: bool) -> DeleteOptions {
    DeleteOptions {
        delete_data,
        timeout: Duration::from_secs(2),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_reapply_shrink_delete() {
    let server = FakeApiServer::start(FakeOptions::default()).unwrap();

    let (report, tenants) = run(&server, &[acme()], ApplyOptions::default(), 4).await;
    assert!(report.all_succeeded(), "{:?}", report.results);
    let first = &tenants[0];
    assert!(first.created >= 10, "{first:?}");
    assert_eq!((first.changed, first.unchanged, first.pruned), (0, 0, 0));
    assert!(
        server
            .object(&Gvr::core("serviceaccounts"), Some("acme"), "ci")
            .is_some()
    );
    assert!(
        server
            .requests()
            .iter()
            .filter(|r| r.verb == "apply")
            .all(|r| r.field_manager.as_deref() == Some("harmony"))
    );

    server.clear_requests();
    let (report, tenants) = run(&server, &[acme()], ApplyOptions::default(), 4).await;
    let outcome = report.results[0].result.as_ref().unwrap();
    assert_eq!(outcome.status, OutcomeStatus::Unchanged, "{outcome:?}");
    assert_eq!(
        writes(&server),
        Vec::<String>::new(),
        "re-apply writes nothing"
    );
    assert_eq!(tenants[0].unchanged, first.created);

    let shrunk =
        TenantScore::new("acme").member(Member::user("alice", TenantRole::Admin, "alice@acme.com"));
    server.clear_requests();
    let (_, tenants) = run(&server, &[shrunk], ApplyOptions::default(), 4).await;
    let pruned: Vec<&str> = tenants[0]
        .changes
        .iter()
        .filter(|c| c.action == harmony_k8s::Action::Pruned)
        .map(|c| c.object.as_str())
        .collect();
    assert_eq!(
        pruned,
        ["RoleBinding acme/member-ci", "ServiceAccount acme/ci"]
    );
    assert!(
        server
            .object(&Gvr::core("serviceaccounts"), Some("acme"), "ci")
            .is_none()
    );
    assert_eq!(
        writes(&server),
        ["delete rolebindings member-ci", "delete serviceaccounts ci"],
        "access is revoked before the account goes"
    );

    server.clear_requests();
    let topology = topology(&server, ApplyOptions::default());
    let deleted = topology
        .delete_tenant("acme", delete_options(false), None)
        .await
        .unwrap();
    assert_eq!(deleted.namespace.as_deref(), Some("acme"));
    assert_eq!(
        writes(&server),
        [
            "delete rolebindings member-alice",
            "delete serviceaccounts default",
            "delete namespaces acme"
        ],
        "bindings, then accounts, then the namespace"
    );
    assert!(
        server
            .object(&Gvr::core("namespaces"), None, "acme")
            .is_none()
    );
    let again = topology
        .delete_tenant("acme", delete_options(false), None)
        .await
        .unwrap();
    assert_eq!(
        again.namespace, None,
        "deleting a deleted tenant does nothing"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_and_dry_run_write_nothing_and_show_the_diff() {
    let server = FakeApiServer::start(FakeOptions::default()).unwrap();
    let plan = ApplyOptions {
        mode: Mode::Plan,
        force: false,
    };
    let (report, tenants) = run(&server, &[acme()], plan, 2).await;
    assert_eq!(
        report.results[0].result.as_ref().unwrap().status,
        OutcomeStatus::Changed
    );
    assert!(
        tenants[0].changes[0]
            .diff
            .iter()
            .any(|d| d.to_string().starts_with("+ metadata.labels"))
    );
    assert!(writes(&server).is_empty());

    run(&server, &[acme()], ApplyOptions::default(), 2).await;
    let bigger = acme().member(Member::service_account("deploy", TenantRole::Developer));
    server.clear_requests();
    let dry = ApplyOptions {
        mode: Mode::DryRun,
        force: false,
    };
    let (_, tenants) = run(&server, &[bigger], dry, 2).await;
    assert_eq!(tenants[0].created, 2, "{:?}", tenants[0].changes);
    assert!(
        server
            .requests()
            .iter()
            .filter(|r| r.is_write())
            .all(|r| r.dry_run)
    );
    assert!(
        server
            .object(&Gvr::core("serviceaccounts"), Some("acme"), "deploy")
            .is_none()
    );
}

/// A tenant that moves to another namespace leaves its old one (and what runs there) in place,
/// still labelled for it: another tenant naming that namespace is refused before any write, even
/// with `--force`, instead of being granted access to what the first tenant left there.
#[tokio::test(flavor = "multi_thread")]
async fn a_namespace_another_tenant_holds_is_refused_before_any_write() {
    let server = FakeApiServer::start(FakeOptions::default()).unwrap();
    let (report, _) = run(&server, &[acme()], ApplyOptions::default(), 1).await;
    assert!(report.all_succeeded(), "{:?}", report.results);
    let moved = acme().in_namespace("acme-prod");
    let (report, _) = run(
        &server,
        std::slice::from_ref(&moved),
        ApplyOptions::default(),
        1,
    )
    .await;
    assert!(report.all_succeeded(), "{:?}", report.results);

    let globex = TenantScore::new("globex")
        .in_namespace("acme")
        .member(Member::user("eve", TenantRole::Admin, "eve@globex.com"));
    for force in [false, true] {
        server.clear_requests();
        let options = ApplyOptions {
            mode: Mode::Apply,
            force,
        };
        let (report, _) = run(&server, &[moved.clone(), globex.clone()], options, 2).await;
        assert!(report.results[0].result.is_ok(), "{:?}", report.results);
        let error = report.results[1].result.as_ref().unwrap_err().to_string();
        assert!(
            error.contains("Namespace acme belongs to tenant `acme`"),
            "{error}"
        );
        assert!(error.contains("no access was granted"), "{error}");
        assert_eq!(writes(&server), Vec::<String>::new(), "nothing written");
    }
    assert_eq!(holder(&server, "acme").as_deref(), Some("acme"));
}

/// A namespace made by someone else (no tenant label) is refused before any write, in every mode,
/// unless the tenant lists it in `spec.adoptNamespaces`; then it is labelled and isolated.
#[tokio::test(flavor = "multi_thread")]
async fn an_existing_namespace_harmony_does_not_manage_is_adopted_only_when_named() {
    let server = FakeApiServer::start(FakeOptions::default()).unwrap();
    server
        .insert(json!({ "apiVersion": "v1", "kind": "Namespace",
            "metadata": { "name": "acme", "labels": { "team": "payroll" } } }))
        .unwrap();
    for mode in [Mode::Plan, Mode::DryRun, Mode::Apply] {
        let options = ApplyOptions { mode, force: true };
        let (report, _) = run(&server, &[acme()], options, 1).await;
        let error = report.results[0].result.as_ref().unwrap_err().to_string();
        assert!(
            error.contains(
                "Namespace acme exists and Harmony does not manage it (no label \
                 harmony.nationtech.io/tenant)"
            ),
            "{mode:?}: {error}"
        );
        assert!(error.contains("list it in spec.adoptNamespaces"), "{error}");
        assert!(error.contains("no access was granted"), "{error}");
        assert_eq!(
            writes(&server),
            Vec::<String>::new(),
            "{mode:?}: nothing written"
        );
    }
    assert_eq!(holder(&server, "acme"), None);

    server
        .insert(json!({ "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": { "name": "payroll-admins", "namespace": "acme" },
            "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin" },
            "subjects": [{ "apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "bob" }] }))
        .unwrap();
    let adopting = acme().adopt_namespace("acme");
    let said = "Namespace acme: 1 RoleBinding Harmony did not make keeps its grants: \
                payroll-admins (ClusterRole admin to User bob)";
    server.clear_requests();
    let plan = ApplyOptions {
        mode: Mode::Plan,
        force: false,
    };
    let (report, _) = run(&server, std::slice::from_ref(&adopting), plan, 1).await;
    let details = &report.results[0].result.as_ref().unwrap().details;
    assert_eq!(details[0], format!("would adopt {said}"), "{details:?}");
    assert_eq!(
        writes(&server),
        Vec::<String>::new(),
        "a plan writes nothing"
    );
    let (report, tenants) = run(&server, &[adopting], ApplyOptions::default(), 1).await;
    assert!(report.all_succeeded(), "{:?}", report.results);
    assert_eq!(tenants[0].adopted[0].to_string(), said);
    let details = &report.results[0].result.as_ref().unwrap().details;
    assert_eq!(details[0], format!("adopted {said}"), "{details:?}");
    assert_eq!(holder(&server, "acme").as_deref(), Some("acme"));
    let namespace = server
        .object(&Gvr::core("namespaces"), None, "acme")
        .unwrap();
    assert_eq!(namespace["metadata"]["labels"]["team"], "payroll");
    let policies = server.objects(&Gvr::of(Kind::of::<NetworkPolicy>()), Some("acme"));
    assert!(
        policies
            .iter()
            .any(|p| p["metadata"]["name"] == "default-deny"),
        "{policies:?}"
    );
    // Once labelled it is the tenant's: the field is no longer needed, and nothing is adopted.
    let (report, tenants) = run(&server, &[acme()], ApplyOptions::default(), 1).await;
    assert!(report.all_succeeded(), "{:?}", report.results);
    assert_eq!(tenants[0].adopted, []);
}

/// A tenant moved to another namespace leaves the old one standing, with what ran there: the
/// access it had there goes (RoleBindings, Roles, ServiceAccounts), its isolation (NetworkPolicies,
/// quota, LimitRange, guardrail parameters) stays.
#[tokio::test(flavor = "multi_thread")]
async fn a_namespace_the_tenant_left_keeps_its_isolation_and_loses_its_access() {
    let server = FakeApiServer::start(FakeOptions::default()).unwrap();
    let (report, _) = run(&server, &[acme()], ApplyOptions::default(), 1).await;
    assert!(report.all_succeeded(), "{:?}", report.results);
    let names = |kind: Kind| -> Vec<String> {
        let mut names: Vec<String> = server
            .objects(&Gvr::of(kind), Some("acme"))
            .iter()
            .map(|o| o["metadata"]["name"].as_str().unwrap().to_string())
            .collect();
        names.sort();
        names
    };
    let isolation = [
        Kind::of::<NetworkPolicy>(),
        Kind::of::<ResourceQuota>(),
        Kind::of::<LimitRange>(),
        Kind::of::<ConfigMap>(),
    ];
    let before: Vec<Vec<String>> = isolation.iter().map(|k| names(*k)).collect();
    assert!(before.iter().all(|n| !n.is_empty()), "{before:?}");

    let moved = acme().in_namespace("acme-prod");
    let (report, _) = run(&server, &[moved], ApplyOptions::default(), 1).await;
    assert!(report.all_succeeded(), "{:?}", report.results);
    let after: Vec<Vec<String>> = isolation.iter().map(|k| names(*k)).collect();
    assert_eq!(after, before, "the isolation of the namespace left stays");
    for access in [
        Kind::of::<RoleBinding>(),
        Kind::of::<Role>(),
        Kind::of::<ServiceAccount>(),
    ] {
        assert_eq!(names(access), Vec::<String>::new(), "{access:?} pruned");
    }
    assert_eq!(holder(&server, "acme").as_deref(), Some("acme"));
}

#[tokio::test(flavor = "multi_thread")]
async fn conflicts_name_the_owner_and_force_takes_over() {
    let server = FakeApiServer::start(FakeOptions::default()).unwrap();
    run(&server, &[acme()], ApplyOptions::default(), 1).await;
    let quota = server
        .object(&Gvr::core("resourcequotas"), Some("acme"), "tenant-quota")
        .unwrap();
    let (field, value) = quota["spec"]["hard"]
        .as_object()
        .unwrap()
        .iter()
        .next()
        .unwrap();
    let patch = json!({ "apiVersion": "v1", "kind": "ResourceQuota",
        "metadata": { "name": "tenant-quota", "namespace": "acme" },
        "spec": { "hard": { field.clone(): format!("{}9", value.as_str().unwrap()) } } });
    let api: kube::Api<k8s_openapi::api::core::v1::ResourceQuota> =
        kube::Api::namespaced(server.client(), "acme");
    api.patch(
        "tenant-quota",
        &kube::api::PatchParams::apply("ops-team").force(),
        &kube::api::Patch::Apply(&patch),
    )
    .await
    .unwrap();

    let (report, _) = run(&server, &[acme()], ApplyOptions::default(), 1).await;
    let error = report.results[0].result.as_ref().unwrap_err().to_string();
    assert!(error.contains("owned by `ops-team`"), "{error}");
    assert!(error.contains(&format!(".spec.hard.{field}")), "{error}");
    assert!(error.contains("--force"), "{error}");
    assert!(error.contains("no access was granted"), "{error}");

    let force = ApplyOptions {
        mode: Mode::Apply,
        force: true,
    };
    let (report, _) = run(&server, &[acme()], force, 1).await;
    assert!(report.all_succeeded(), "{:?}", report.results);
    let (report, _) = run(&server, &[acme()], ApplyOptions::default(), 1).await;
    assert_eq!(
        report.results[0].result.as_ref().unwrap().status,
        OutcomeStatus::Unchanged
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_refuses_to_destroy_data_without_the_override() {
    let server = FakeApiServer::start(FakeOptions::default()).unwrap();
    run(&server, &[acme()], ApplyOptions::default(), 1).await;
    server
        .insert(json!({ "apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": { "name": "db-data", "namespace": "acme" } }))
        .unwrap();
    server.clear_requests();
    let topology = topology(&server, ApplyOptions::default());
    let error = topology
        .delete_tenant("acme", delete_options(false), None)
        .await
        .unwrap_err();
    assert!(matches!(error, DeleteError::DataHeld { .. }), "{error}");
    assert!(error.to_string().contains("db-data"), "{error}");
    assert_eq!(error.hint(), Some(Hint::DeleteData), "{error}");
    assert!(
        writes(&server).is_empty(),
        "nothing deleted: {:?}",
        writes(&server)
    );

    let report = topology
        .delete_tenant("acme", delete_options(true), None)
        .await
        .unwrap();
    assert_eq!(report.data_deleted, ["acme/db-data"]);
    assert!(
        server
            .object(&Gvr::core("namespaces"), None, "acme")
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_reports_the_finalizers_of_a_stuck_namespace() {
    let server = FakeApiServer::start(FakeOptions {
        namespace_deletion: NamespaceDeletion::Stuck,
        ..FakeOptions::default()
    })
    .unwrap();
    run(&server, &[acme()], ApplyOptions::default(), 1).await;
    let topology = topology(&server, ApplyOptions::default());
    let options = DeleteOptions {
        delete_data: false,
        timeout: Duration::from_millis(300),
    };
    let error = topology
        .delete_tenant("acme", options, None)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("still terminating"), "{error}");
    assert!(error.contains("Blocking finalizers: kubernetes"), "{error}");
    assert!(server.finalize_namespace("acme"));
    let report = topology.delete_tenant("acme", options, None).await.unwrap();
    assert_eq!(report.namespace, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn facts_are_discovered_on_okd_and_asked_for_elsewhere() {
    let okd = FakeApiServer::start(FakeOptions {
        flavor: Flavor::Okd,
        ..FakeOptions::default()
    })
    .unwrap();
    let cluster = cluster_from_config(okd.config()).unwrap();
    let topology = K8sTopology::new(cluster, FactsSource::default(), ApplyOptions::default());
    topology.ensure_ready().await.unwrap();
    let facts = topology.cluster_facts().await.unwrap();
    assert_eq!(facts.flavor, ClusterFlavor::Okd);
    assert_eq!(facts.pod_networks, ["10.128.0.0/14".parse().unwrap()]);
    assert_eq!(facts.service_networks, ["172.30.0.0/16".parse().unwrap()]);

    let vanilla = FakeApiServer::start(FakeOptions::default()).unwrap();
    vanilla
        .insert(json!({ "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": { "name": "fast" } }))
        .unwrap();
    let cluster = cluster_from_config(vanilla.config()).unwrap();
    let unknown = K8sTopology::new(
        cluster.clone(),
        FactsSource::default(),
        ApplyOptions::default(),
    );
    let error = unknown.ensure_ready().await.unwrap_err().to_string();
    assert!(
        error.contains("--pod-network CIDR and --service-network CIDR"),
        "{error}"
    );
    assert!(error.contains("--cluster PROFILE"), "{error}");
    let flagged = K8sTopology::new(cluster, common::vanilla_flags(), ApplyOptions::default());
    let facts = flagged.cluster_facts().await.unwrap();
    assert_eq!(facts.flavor, ClusterFlavor::Kubernetes);
    assert_eq!(facts.storage_classes, ["fast"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_api_server_asks_about_the_vpn() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = kube::Config::new(format!("http://127.0.0.1:{port}").parse().unwrap());
    let topology = K8sTopology::new(
        cluster_from_config(config).unwrap(),
        FactsSource::default(),
        ApplyOptions::default(),
    );
    let error = topology.ensure_ready().await.unwrap_err();
    assert!(matches!(error, InterpretError::NotReady(_)), "{error}");
    assert!(
        error.to_string().contains(&format!(
            "cannot reach the API server at http://127.0.0.1:{port}: is the VPN up?"
        )),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn status_reports_quota_members_policies_and_drift() {
    let server = FakeApiServer::start(FakeOptions::default()).unwrap();
    run(&server, &[acme()], ApplyOptions::default(), 1).await;
    let topology = topology(&server, ApplyOptions::default());
    let facts = topology.cluster_facts().await.unwrap();
    let plan = harmony_tenant::compile(&acme(), &facts);
    let statuses = topology
        .status(&[], std::slice::from_ref(&plan))
        .await
        .unwrap();
    assert_eq!(statuses.len(), 1);
    let acme_status = &statuses[0];
    assert_eq!(acme_status.phase, "Active");
    assert!(!acme_status.quota.is_empty());
    assert!(
        acme_status.quota.iter().all(|q| q.used == "0"),
        "{:?}",
        acme_status.quota
    );
    assert!(
        acme_status
            .members
            .iter()
            .any(|m| m.subjects == ["User alice@acme.com"]),
        "{:?}",
        acme_status.members
    );
    assert!(!acme_status.policies.is_empty());
    assert_eq!(acme_status.drift.as_ref().unwrap().len(), 0);

    server.clear_requests();
    let api: kube::Api<k8s_openapi::api::core::v1::ServiceAccount> =
        kube::Api::namespaced(server.client(), "acme");
    api.delete("ci", &Default::default()).await.unwrap();
    let statuses = topology.status(&["acme".into()], &[plan]).await.unwrap();
    let drift: Vec<String> = statuses[0]
        .drift
        .as_ref()
        .unwrap()
        .iter()
        .map(|c| c.object.clone())
        .collect();
    assert_eq!(drift, ["ServiceAccount acme/ci"]);
    let error = topology
        .status(&["nobody".into()], &[])
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("no tenant `nobody`"), "{error}");
}
