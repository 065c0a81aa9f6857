//! Shared helpers of the tests against the fake API server (the Maestro run also serves the
//! tests against a real control plane, through `real`).

#![allow(dead_code)] // each test file uses a different part

use harmony::{Maestro, Report, Score};
use harmony_k8s::{ApplyOptions, FactsSource, K8sTopology, TenantReport};
use harmony_kube::cluster_from_config;
use harmony_tenant::TenantScore;
use harmony_testkit::FakeApiServer;

/// Facts flags for a vanilla cluster (its networks cannot be discovered).
pub fn vanilla_flags() -> FactsSource {
    FactsSource {
        pod_networks: vec!["10.244.0.0/16".parse().unwrap()],
        service_networks: vec!["10.96.0.0/12".parse().unwrap()],
        ..FactsSource::default()
    }
}

/// A topology on the fake.
pub fn topology(server: &FakeApiServer, options: ApplyOptions) -> K8sTopology {
    let cluster = cluster_from_config(server.config()).unwrap();
    K8sTopology::new(cluster, vanilla_flags(), options)
}

/// Runs `tenants` through Maestro on a fresh topology (as one CLI run does), `concurrency` in
/// flight; returns Maestro's report and the per-tenant reports.
pub async fn run(
    server: &FakeApiServer,
    tenants: &[TenantScore],
    options: ApplyOptions,
    concurrency: usize,
) -> (Report, Vec<TenantReport>) {
    run_on(topology(server, options), tenants, concurrency).await
}

/// Runs `tenants` through Maestro on `topology`, `concurrency` in flight; returns Maestro's report
/// and the per-tenant reports (sorted by tenant).
pub async fn run_on(
    topology: K8sTopology,
    tenants: &[TenantScore],
    concurrency: usize,
) -> (Report, Vec<TenantReport>) {
    let mut maestro = Maestro::new(topology);
    maestro.register(
        tenants
            .iter()
            .cloned()
            .map(|t| Box::new(t) as Box<dyn Score<K8sTopology>>),
    );
    let report = maestro.run_concurrently(concurrency).await.unwrap();
    let mut tenants: Vec<TenantReport> = report
        .results
        .iter()
        .filter_map(|r| r.report::<TenantReport>().cloned())
        .collect();
    tenants.sort_by(|a, b| a.tenant.cmp(&b.tenant));
    (report, tenants)
}

/// `verb resource name` of every write the fake received, in order.
pub fn writes(server: &FakeApiServer) -> Vec<String> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.is_write())
        .map(|r| format!("{} {} {}", r.verb, r.resource, r.name.unwrap_or_default()))
        .collect()
}
