//! 100 tenants through a fake that faults 10% of requests: the run (or a second one) ends in
//! exactly the desired state, access is never granted before isolation, data is never deleted.

mod common;

use harmony_tenant::PlanObject;
use std::collections::BTreeMap;
use std::time::Duration;

use common::{run, topology};
use harmony::OutcomeStatus;
use harmony_k8s::ApplyOptions;
use harmony_tenant::{
    ClusterFacts, DeleteOptions, Member, TenantRemover, TenantRole, TenantScore, compile,
};
use harmony_testkit::{FakeApiServer, FakeOptions, Fault, FaultPlan, RecordedRequest};
use serde_json::json;

fn tenant(i: usize, with_ci: bool) -> TenantScore {
    let score = TenantScore::new(format!("t{i:03}")).member(Member::user(
        "owner",
        TenantRole::Admin,
        format!("owner@t{i}.example"),
    ));
    if with_ci {
        score.member(Member::service_account("ci", TenantRole::Developer))
    } else {
        score
    }
}

fn faults() -> FaultPlan {
    FaultPlan {
        seed: 11,
        rate: 0.1,
        kinds: vec![
            Fault::Status500,
            Fault::Status503,
            Fault::TooManyRequests {
                retry_after_secs: 1,
            },
            Fault::DropConnection,
        ],
        only_writes: false,
    }
}

/// Per namespace, no RoleBinding write was sent before every NetworkPolicy and ResourceQuota of
/// that namespace had been accepted (2xx) or was already in place before the log started.
fn assert_isolated_before_granted(
    log: &[RecordedRequest],
    planned: &BTreeMap<String, Vec<(String, String)>>,
) {
    for (namespace, isolation) in planned {
        let in_ns = |r: &&RecordedRequest| r.namespace.as_deref() == Some(namespace.as_str());
        let Some(first_grant) = log
            .iter()
            .filter(in_ns)
            .find(|r| r.resource == "rolebindings" && r.is_write())
        else {
            continue;
        };
        for (resource, name) in isolation {
            let accepted = log.iter().filter(in_ns).any(|r| {
                r.seq < first_grant.seq
                    && r.resource == *resource
                    && r.name.as_deref() == Some(name)
                    && r.verb == "apply"
                    && r.status.is_some_and(|s| (200..300).contains(&s))
            });
            assert!(
                accepted,
                "{namespace}: RoleBinding written (seq {}) before {resource}/{name} was accepted",
                first_grant.seq
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_tenants_under_faults_converge_safely() {
    let server = FakeApiServer::start(FakeOptions::default()).unwrap();
    let tenants: Vec<TenantScore> = (0..100).map(|i| tenant(i, true)).collect();
    let facts = ClusterFacts::kubernetes();
    let planned: BTreeMap<String, Vec<(String, String)>> = tenants
        .iter()
        .map(|t| {
            let plan = compile(t, &facts);
            let isolation = plan
                .objects()
                .iter()
                .filter(|o| matches!(o.kind(), "NetworkPolicy" | "ResourceQuota"))
                .map(|o| {
                    (
                        format!("{}s", o.kind().to_lowercase()).replace("policys", "policies"),
                        o.name().to_string(),
                    )
                })
                .collect();
            (plan.namespace.clone(), isolation)
        })
        .collect();

    server.set_faults(Some(faults()));
    let (first, _) = run(&server, &tenants, ApplyOptions::default(), 16).await;
    let mut log = server.requests();
    assert!(
        log.iter().any(|r| r.fault.is_some()),
        "faults were injected"
    );
    if !first.all_succeeded() {
        let (second, _) = run(&server, &tenants, ApplyOptions::default(), 16).await;
        assert!(
            second.all_succeeded(),
            "a second run repairs: {}",
            second.summary()
        );
        log = server.requests();
    }
    assert_isolated_before_granted(&log, &planned);

    // Exactly the desired state: a clean run finds nothing to write.
    server.set_faults(None);
    server.clear_requests();
    let (clean, reports) = run(&server, &tenants, ApplyOptions::default(), 16).await;
    assert!(
        clean.results.iter().all(|r| r
            .result
            .as_ref()
            .is_ok_and(|o| o.status == OutcomeStatus::Unchanged)),
        "{}",
        clean.summary()
    );
    assert!(reports.iter().all(|r| !r.wrote()));
    assert!(server.requests().iter().all(|r| !r.is_write()));

    // Data: PVCs in a few namespaces survive a faulted shrink and a delete without --delete-data.
    for i in 0..5 {
        server
            .insert(json!({ "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": { "name": "data", "namespace": format!("t{i:03}"),
                    "labels": { "app.kubernetes.io/managed-by": "harmony", "harmony.nationtech.io/tenant": format!("t{i:03}") } } }))
            .unwrap();
    }
    let shrunk: Vec<TenantScore> = (0..100).map(|i| tenant(i, i % 2 == 0)).collect();
    server.set_faults(Some(FaultPlan {
        seed: 12,
        ..faults()
    }));
    let (shrink, _) = run(&server, &shrunk, ApplyOptions::default(), 16).await;
    if !shrink.all_succeeded() {
        let (again, _) = run(&server, &shrunk, ApplyOptions::default(), 16).await;
        assert!(again.all_succeeded(), "{}", again.summary());
    }
    let topology = topology(&server, ApplyOptions::default());
    let options = DeleteOptions {
        delete_data: false,
        timeout: Duration::from_secs(5),
    };
    for i in 0..5 {
        let error = topology
            .delete_tenant(&format!("t{i:03}"), options, None)
            .await
            .unwrap_err();
        assert!(error.to_string().contains("data"), "{error}");
    }
    let log = server.requests();
    assert!(
        !log.iter()
            .any(|r| r.resource == "persistentvolumeclaims" && r.is_write()),
        "no PVC write"
    );
    for i in 0..5 {
        let ns = format!("t{i:03}");
        assert!(!log.iter().any(|r| r.resource == "namespaces"
            && r.verb == "delete"
            && r.name.as_deref() == Some(ns.as_str())));
    }
    let pruned_ci = log
        .iter()
        .filter(|r| r.verb == "delete" && r.resource == "serviceaccounts" && r.status == Some(200))
        .count();
    assert!(
        pruned_ci >= 50,
        "the odd tenants lost their ci account ({pruned_ci})"
    );
}
