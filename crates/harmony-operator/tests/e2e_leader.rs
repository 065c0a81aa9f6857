//! Two replicas and one Lease: only the holder reconciles; when its process dies the other takes
//! over; a replica stopped gracefully gives the lease back. Metrics and probes are read over HTTP
//! on loopback.

mod common;

use std::time::Duration;

use common::{
    Running, admin_tenant, eventually, get, install, loopback, put, ready_and_isolated, settings,
};
use harmony_operator::lease::LeaseSettings;
use harmony_testkit::ControlPlane;
use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;

fn metric(body: &str, name: &str) -> f64 {
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("{name} not in {body}"))
}

#[tokio::test]
async fn one_replica_leads_and_the_other_takes_over_when_it_dies() {
    let plane = ControlPlane::shared();
    let _guard = plane.failure_guard();
    install(plane);
    let client = plane.client().await;
    let replica = |identity: &str, address| {
        let mut settings = settings(plane);
        let mut lease = LeaseSettings::new("harmony-system", identity);
        lease.duration = Duration::from_secs(4);
        lease.retry = Duration::from_millis(500);
        settings.lease = Some(lease);
        settings.listen = Some(address);
        Running::start_with(plane, settings)
    };
    let leases: Api<Lease> = Api::namespaced(client.clone(), "harmony-system");
    let holder = async |who: &str| {
        eventually(&format!("{who} holding the lease"), async || {
            let lease = leases
                .get_opt("harmony-operator")
                .await
                .map_err(|e| e.to_string())?;
            let holder = lease.and_then(|l| l.spec?.holder_identity);
            (holder.as_deref() == Some(who))
                .then_some(())
                .ok_or(format!("{holder:?}"))
        })
        .await
    };

    let (at_a, at_b) = (loopback(), loopback());
    let a = replica("replica-a", at_a);
    holder("replica-a").await;
    let b = replica("replica-b", at_b);
    let first = ControlPlane::unique_name("op-lead");
    put(&client, &admin_tenant(&first)).await;
    ready_and_isolated(&client, &first).await;

    let (code, body) = get(at_a, "/metrics");
    assert_eq!(code, 200);
    assert_eq!(metric(&body, "harmony_operator_leader"), 1.0);
    assert!(metric(&body, "harmony_operator_reconciles_total") >= 1.0);
    assert!(body.contains("harmony_operator_tenants{condition=\"Ready\",status=\"True\"}"));
    let (code, body) = get(at_b, "/metrics");
    assert_eq!(code, 200);
    assert_eq!(metric(&body, "harmony_operator_leader"), 0.0);
    assert_eq!(metric(&body, "harmony_operator_reconciles_total"), 0.0);
    assert_eq!(get(at_b, "/readyz").0, 200, "a standby is ready");
    assert_eq!(get(at_a, "/healthz").0, 200);
    eventually("the leader ready", async || match get(at_a, "/readyz").0 {
        200 => Ok(()),
        code => Err(code.to_string()),
    })
    .await;

    // The leader's process dies without a word: the standby takes over once the lease expires.
    a.kill();
    holder("replica-b").await;
    let second = ControlPlane::unique_name("op-lead");
    put(&client, &admin_tenant(&second)).await;
    ready_and_isolated(&client, &second).await;
    assert_eq!(
        metric(&get(at_b, "/metrics").1, "harmony_operator_leader"),
        1.0
    );

    // Stopped gracefully, it gives the lease back.
    b.stop();
    let lease = leases.get("harmony-operator").await.unwrap();
    assert_eq!(lease.spec.unwrap().holder_identity, None);
}
