//! The lifecycle against a real cluster: runs only when `HARMONY_E2E_KUBECONFIG` names a
//! kubeconfig (optionally `HARMONY_E2E_CONTEXT` a context); otherwise says it is skipped.
//!
//! The cluster must not be OKD-less without networks: set `HARMONY_E2E_POD_NETWORK` and
//! `HARMONY_E2E_SERVICE_NETWORK` on vanilla clusters.

use std::time::Duration;

use harmony::{Maestro, OutcomeStatus, Score};
use harmony_k8s::{Access, ApplyOptions, DeleteOptions, FactsSource, K8sTopology};
use harmony_tenant::{Member, TenantRole, TenantScore};

fn networks(var: &str) -> Vec<ipnet::IpNet> {
    std::env::var(var)
        .ok()
        .map(|v| {
            v.split(',')
                .map(|c| c.trim().parse().expect("a CIDR"))
                .collect()
        })
        .unwrap_or_default()
}

async fn apply(access: &Access, score: &TenantScore) -> OutcomeStatus {
    let source = FactsSource {
        pod_networks: networks("HARMONY_E2E_POD_NETWORK"),
        service_networks: networks("HARMONY_E2E_SERVICE_NETWORK"),
        ..FactsSource::default()
    };
    let topology = K8sTopology::new(
        access.connect().await.unwrap(),
        source,
        ApplyOptions::default(),
    );
    let mut maestro = Maestro::new(topology);
    maestro.register([Box::new(score.clone()) as Box<dyn Score<K8sTopology>>]);
    let report = maestro.run_concurrently(1).await.unwrap();
    report.results[0]
        .result
        .as_ref()
        .expect("tenant applied")
        .status
}

#[tokio::test(flavor = "multi_thread")]
async fn lifecycle_on_a_real_cluster() {
    let Ok(kubeconfig) = std::env::var("HARMONY_E2E_KUBECONFIG") else {
        println!("skipped: set HARMONY_E2E_KUBECONFIG to run against a real cluster");
        return;
    };
    let access = Access {
        kubeconfig: Some(kubeconfig.into()),
        context: std::env::var("HARMONY_E2E_CONTEXT").ok(),
    };
    let name = format!("e2e-{}", std::process::id());
    let full =
        TenantScore::new(name.clone()).member(Member::service_account("ci", TenantRole::Developer));
    assert_eq!(apply(&access, &full).await, OutcomeStatus::Changed);
    assert_eq!(
        apply(&access, &full).await,
        OutcomeStatus::Unchanged,
        "re-apply writes nothing"
    );
    assert_eq!(
        apply(&access, &TenantScore::new(name.clone())).await,
        OutcomeStatus::Changed,
        "shrink prunes"
    );
    let topology = K8sTopology::new(
        access.connect().await.unwrap(),
        FactsSource::default(),
        ApplyOptions::default(),
    );
    let options = DeleteOptions {
        delete_data: false,
        timeout: Duration::from_secs(180),
    };
    let report = topology.delete_tenant(&name, options).await.unwrap();
    assert_eq!(report.namespace.as_deref(), Some(name.as_str()));
}
