//! The lifecycle against a real control plane (etcd, kube-apiserver and kube-controller-manager
//! built from their Go modules; `harmony_testkit::ControlPlane`): apply, plan, dry run, re-apply,
//! prune, conflicts with another field manager, the PVC guard with real PVCs, and delete with real
//! namespace finalization. Each test uses its own tenant on the one shared control plane.

mod real;

use std::collections::BTreeMap;
use std::time::Duration;

use harmony::{Maestro, OutcomeStatus, Score, Topology};
use harmony_k8s::{Action, ApplyOptions, FactsSource, K8sTopology, Mode, TenantReport};
use harmony_tenant::{
    ClusterFlavor, DeleteError, DeleteOptions, Hint, Member, TenantManager, TenantRemover,
    TenantRole, TenantScore,
};
use harmony_testkit::{ControlPlane, ControlPlaneOptions, Flavor};
use k8s_openapi::api::core::v1::{Namespace, PersistentVolumeClaim, ResourceQuota};
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use real::{topology, topology_with, vanilla_facts};
use serde_json::json;

/// One `tenant apply` run: Maestro's outcome status (or error) and the tenant's report.
async fn apply(
    plane: &ControlPlane,
    score: &TenantScore,
    options: ApplyOptions,
) -> (Result<OutcomeStatus, String>, TenantReport) {
    let mut maestro = Maestro::new(topology_with(plane, vanilla_facts(plane), options).await);
    maestro.register([Box::new(score.clone()) as Box<dyn Score<K8sTopology>>]);
    let report = maestro.run_concurrently(1).await.unwrap();
    let status = match &report.results[0].result {
        Ok(outcome) => Ok(outcome.status),
        Err(e) => Err(e.to_string()),
    };
    let tenant = report.results[0].report::<TenantReport>().cloned();
    (status, tenant.expect("the tenant's report"))
}

fn mode(mode: Mode) -> ApplyOptions {
    ApplyOptions { mode, force: false }
}

/// `kind/name → resourceVersion` of every object carrying the tenant's label.
fn versions(plane: &ControlPlane, tenant: &str) -> BTreeMap<String, String> {
    let selector = format!("harmony.nationtech.io/tenant={tenant}");
    let out = plane
        .kubectl_run(&[
            "get",
            "namespaces,resourcequotas,limitranges,configmaps,networkpolicies,roles,serviceaccounts,rolebindings",
            "-A",
            "-l",
            &selector,
            "-o",
            "jsonpath={range .items[*]}{.kind}/{.metadata.name} {.metadata.resourceVersion}{\"\\n\"}{end}",
        ])
        .unwrap();
    out.lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The StorageClass the data test claims from. Every tenant quota names each class of the cluster,
/// so a test that re-applies creates it first too: a class appearing between two applies changes
/// the quota.
fn storage_class(plane: &ControlPlane) {
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/storageclass.yaml"
    );
    plane
        .kubectl_run(&["apply", "--server-side", "-f", fixture])
        .unwrap();
}

fn acme(name: &str) -> TenantScore {
    TenantScore::new(name)
        .member(Member::user("alice", TenantRole::Admin, "alice@acme.com"))
        .member(Member::service_account("ci", TenantRole::Developer))
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_plan_reapply_prune_delete() {
    let plane = ControlPlane::shared();
    let _logs = plane.failure_guard();
    let name = ControlPlane::unique_name("lifecycle");
    storage_class(plane);
    let tenant = acme(&name);

    let (status, planned) = apply(plane, &tenant, mode(Mode::Plan)).await;
    assert_eq!(status, Ok(OutcomeStatus::Changed));
    assert!(planned.created >= 10, "{planned:?}");
    assert!(versions(plane, &name).is_empty(), "plan persists nothing");

    let (status, first) = apply(plane, &tenant, ApplyOptions::default()).await;
    assert_eq!(status, Ok(OutcomeStatus::Changed), "{first:?}");
    assert_eq!(first.created, planned.created, "plan predicted the apply");
    let stored = versions(plane, &name);
    assert_eq!(stored.len(), first.created, "{stored:?}");

    let (status, again) = apply(plane, &tenant, ApplyOptions::default()).await;
    assert_eq!(status, Ok(OutcomeStatus::Unchanged), "{again:?}");
    assert_eq!(again.unchanged, first.created);
    assert_eq!(versions(plane, &name), stored, "re-apply writes nothing");

    let bigger = tenant
        .clone()
        .member(Member::service_account("deploy", TenantRole::Developer));
    let (status, dry) = apply(plane, &bigger, mode(Mode::DryRun)).await;
    assert_eq!(status, Ok(OutcomeStatus::Changed));
    assert_eq!(dry.created, 2, "{:?}", dry.changes);
    assert_eq!(
        versions(plane, &name),
        stored,
        "a server dry run stores nothing"
    );

    let shrunk =
        TenantScore::new(&name).member(Member::user("alice", TenantRole::Admin, "alice@acme.com"));
    let (status, shrink) = apply(plane, &shrunk, ApplyOptions::default()).await;
    assert_eq!(status, Ok(OutcomeStatus::Changed));
    let pruned: Vec<&str> = shrink
        .changes
        .iter()
        .filter(|c| c.action == Action::Pruned)
        .map(|c| c.object.as_str())
        .collect();
    assert_eq!(
        pruned,
        [
            format!("RoleBinding {name}/member-ci"),
            format!("ServiceAccount {name}/ci")
        ],
        "access is revoked before the account goes"
    );

    let topology = topology(plane).await;
    let options = DeleteOptions {
        delete_data: false,
        timeout: Duration::from_secs(120),
    };
    let report = topology.delete_tenant(&name, options, None).await.unwrap();
    assert_eq!(report.namespace.as_deref(), Some(name.as_str()));
    let namespaces: Api<Namespace> = Api::all(plane.client().await);
    assert!(
        namespaces.get_opt(&name).await.unwrap().is_none(),
        "the namespace controller finalized and removed the namespace"
    );
    let again = topology.delete_tenant(&name, options, None).await.unwrap();
    assert_eq!(
        again.namespace, None,
        "deleting a deleted tenant does nothing"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn conflicts_with_another_field_manager_name_it_and_force_takes_over() {
    let plane = ControlPlane::shared();
    let _logs = plane.failure_guard();
    let name = ControlPlane::unique_name("conflict");
    let tenant = acme(&name);
    let (status, _) = apply(plane, &tenant, ApplyOptions::default()).await;
    assert_eq!(status, Ok(OutcomeStatus::Changed));

    let quotas: Api<ResourceQuota> = Api::namespaced(plane.client().await, &name);
    let patch = json!({ "apiVersion": "v1", "kind": "ResourceQuota",
        "metadata": { "name": "tenant-quota", "namespace": name },
        "spec": { "hard": { "pods": "99" } } });
    quotas
        .patch(
            "tenant-quota",
            &PatchParams::apply("ops-team").force(),
            &Patch::Apply(&patch),
        )
        .await
        .unwrap();

    let (status, _) = apply(plane, &tenant, ApplyOptions::default()).await;
    let error = status.unwrap_err();
    assert!(error.contains("owned by `ops-team`"), "{error}");
    assert!(error.contains(".spec.hard.pods"), "{error}");
    assert!(error.contains("--force"), "{error}");
    assert!(error.contains("no access was granted"), "{error}");

    let force = ApplyOptions {
        mode: Mode::Apply,
        force: true,
    };
    let (status, _) = apply(plane, &tenant, force).await;
    assert_eq!(status, Ok(OutcomeStatus::Changed));
    let quota = quotas.get("tenant-quota").await.unwrap();
    assert_ne!(
        quota.spec.unwrap().hard.unwrap()["pods"].0,
        "99",
        "harmony's value is back"
    );
    let (status, _) = apply(plane, &tenant, ApplyOptions::default()).await;
    assert_eq!(status, Ok(OutcomeStatus::Unchanged));
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_refuses_while_real_pvcs_hold_data() {
    let plane = ControlPlane::shared();
    let _logs = plane.failure_guard();
    let name = ControlPlane::unique_name("data");
    storage_class(plane);
    let tenant = acme(&name).storage_class("e2e-standard", "1Gi");
    let (status, report) = apply(plane, &tenant, ApplyOptions::default()).await;
    assert_eq!(status, Ok(OutcomeStatus::Changed), "{report:?}");

    let claims: Api<PersistentVolumeClaim> = Api::namespaced(plane.client().await, &name);
    let claim: PersistentVolumeClaim = serde_json::from_value(json!({
        "metadata": { "name": "db-data" },
        "spec": { "accessModes": ["ReadWriteOnce"], "storageClassName": "e2e-standard",
                  "resources": { "requests": { "storage": "500Mi" } } }
    }))
    .unwrap();
    claims.create(&PostParams::default(), &claim).await.unwrap();

    let topology = topology(plane).await;
    let options = |delete_data| DeleteOptions {
        delete_data,
        timeout: Duration::from_secs(120),
    };
    let error = topology
        .delete_tenant(&name, options(false), None)
        .await
        .unwrap_err();
    assert!(matches!(error, DeleteError::DataHeld { .. }), "{error}");
    assert!(error.to_string().contains("db-data"), "{error}");
    assert_eq!(error.hint(), Some(Hint::DeleteData), "{error}");
    assert_eq!(
        claims
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len(),
        1,
        "the claim is still there"
    );
    assert!(
        versions(plane, &name).contains_key("RoleBinding/member-alice"),
        "a refused delete revokes nothing"
    );

    let report = topology
        .delete_tenant(&name, options(true), None)
        .await
        .unwrap();
    assert_eq!(report.data_deleted, [format!("{name}/db-data")]);
    let namespaces: Api<Namespace> = Api::all(plane.client().await);
    assert!(namespaces.get_opt(&name).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn facts_are_discovered_on_okd_and_asked_for_on_kubernetes() {
    let vanilla = ControlPlane::shared();
    let unknown = topology_with(vanilla, FactsSource::default(), ApplyOptions::default()).await;
    let error = unknown.ensure_ready().await.unwrap_err().to_string();
    assert!(
        error.contains("--pod-network CIDR and --service-network CIDR"),
        "{error}"
    );

    let okd = ControlPlane::start_with(ControlPlaneOptions {
        flavor: Flavor::Okd,
        ..ControlPlaneOptions::default()
    })
    .unwrap();
    let _logs = okd.failure_guard();
    let topology = topology_with(&okd, FactsSource::default(), ApplyOptions::default()).await;
    topology.ensure_ready().await.unwrap();
    let facts = topology.cluster_facts().await.unwrap();
    assert_eq!(facts.flavor, ClusterFlavor::Okd);
    assert_eq!(facts.pod_networks, [okd.pod_network()]);
    assert_eq!(facts.service_networks, [okd.service_network()]);
}
