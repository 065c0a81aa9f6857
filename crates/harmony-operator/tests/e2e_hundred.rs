//! Issue 13's proof at scale, on a real control plane: 100 Tenants created → all Ready and
//! Isolated; one edited → applied; a NetworkPolicy deleted → restored; a tenant with a PVC
//! deleted → held with its condition; and the operator's own account, as installed, passes the
//! audit. Its own test binary, so its control plane sees no other operator and no other tenants.

mod common;

use std::time::{Duration, Instant};

use common::{
    Running, deleted_policy_restored, deletion_held_by_a_claim, eventually_within, install, put,
    quota_cpu, ready_and_isolated, tenant,
};
use harmony_audit::{AuditConfig, Status, audit};
use harmony_k8s::InventoryReader;
use harmony_operator::{ISOLATED, READY, Tenant};
use harmony_tenant::ClusterFacts;
use harmony_testkit::ControlPlane;
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::Api;
use kube::api::ListParams;

/// How many Tenants.
const TENANTS: usize = 100;
/// How long 100 Tenants may take to become Ready and Isolated on a busy two-core machine.
const CONVERGE: Duration = Duration::from_secs(300);

/// The Tenants among `tenants` not yet `Ready` and `Isolated` for their generation, each with
/// the condition that does not hold.
fn not_converged(tenants: &[Tenant]) -> Vec<String> {
    tenants
        .iter()
        .filter_map(|t| {
            let generation = t.metadata.generation;
            [READY, ISOLATED]
                .into_iter()
                .find_map(|kind| match t.condition(kind) {
                    Some(c) if c.status == "True" && c.observed_generation == generation => None,
                    other => Some(format!("{} {kind}: {other:?}", t.name())),
                })
        })
        .collect()
}

#[tokio::test]
async fn a_hundred_tenants_converge_then_follow_an_edit_drift_and_a_held_deletion() {
    let plane = ControlPlane::shared();
    let _guard = plane.failure_guard();
    install(plane);
    let client = plane.client().await;
    let operator = Running::start(plane);
    let prefix = ControlPlane::unique_name("hundred");
    let names: Vec<String> = (0..TENANTS).map(|i| format!("{prefix}-{i:03}")).collect();

    let start = Instant::now();
    let client_ref = &client;
    futures::future::join_all(names.iter().map(|name| {
        let created = tenant(name, "2");
        async move { put(client_ref, &created).await }
    }))
    .await;
    let tenants: Api<Tenant> = Api::all(client.clone());
    let ours = |t: &Tenant| t.name().starts_with(&prefix);
    let converged = eventually_within("100 Tenants Ready and Isolated", CONVERGE, async || {
        let list = tenants
            .list(&ListParams::default())
            .await
            .map_err(|e| e.to_string())?;
        let listed: Vec<Tenant> = list.items.into_iter().filter(ours).collect();
        let waiting = not_converged(&listed);
        match (listed.len(), waiting.first()) {
            (TENANTS, None) => Ok(listed),
            (n, first) => Err(format!("{n} listed, {} waiting: {first:?}", waiting.len())),
        }
    })
    .await;
    eprintln!(
        "{TENANTS} Tenants Ready and Isolated in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    for t in &converged {
        let status = t.status.as_ref().unwrap();
        assert_eq!(status.namespace.as_deref(), Some(t.name()));
        assert_eq!(status.members, Some(2), "{}", t.name());
    }

    // One edited → applied: the quota the operator owns follows the spec.
    let edited = &names[7];
    put(&client, &tenant(edited, "3")).await;
    quota_cpu(&client, edited, "3").await;
    let after = ready_and_isolated(&client, edited).await;
    assert_eq!(after.metadata.generation, Some(2));

    // A NetworkPolicy deleted → restored.
    deleted_policy_restored(&client, &names[42]).await;
    ready_and_isolated(&client, &names[42]).await;

    // A tenant with a PVC deleted → held with its condition, its access untouched.
    let held = &names[99];
    let message = deletion_held_by_a_claim(&client, held).await;
    assert!(message.contains("spec.deletion.deleteData"), "{message}");
    let bindings: Api<RoleBinding> = Api::namespaced(client.clone(), held);
    assert!(bindings.get_opt("member-alice").await.unwrap().is_some());

    // The other tenants are as they were.
    let list = tenants.list(&ListParams::default()).await.unwrap();
    let others: Vec<Tenant> = list
        .items
        .into_iter()
        .filter(|t| ours(t) && t.name() != held)
        .collect();
    assert_eq!(others.len(), TENANTS - 1);
    assert_eq!(not_converged(&others), Vec::<String>::new());

    // The operator's own account, as the API server holds it (the bootstrap grants of its
    // groups included), passes the audit's check of it.
    let reader = InventoryReader::new(plane.config().await).unwrap();
    let snapshot = reader.read().await.unwrap().into_snapshot(plane.url());
    let config = AuditConfig::new(ClusterFacts::kubernetes());
    let report = audit(&snapshot.unwrap(), &config);
    let check = &report.platform[0];
    assert_eq!(
        (check.id, check.status),
        ("HMT-OPERATOR-001", Status::Pass),
        "{check:?}"
    );
    eprintln!("the whole proof in {:.1} s", start.elapsed().as_secs_f64());
    operator.stop();
}
