//! 500 tenants against the fake API server on loopback: Harmony's first apply and no-op re-apply
//! against `kubectl apply --server-side` of the same rendered manifests, measured in one run.
//!
//! `cargo bench -p harmony-k8s --bench apply` prints request counts (from the fake's log) and wall
//! times, and the ratios between them. kubectl is the one built with the control plane.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use harmony::{Maestro, Score};
use harmony_k8s::{ApplyOptions, FactsSource, K8sTopology};
use harmony_kube::cluster_from_config;
use harmony_manifests::{Format, encode_stream};
use harmony_tenant::{ClusterFacts, Member, TenantRole, TenantScore, compile};
use harmony_testkit::{Binaries, FakeApiServer, FakeOptions, RecordedRequest};

const TENANTS: usize = 500;
const CONCURRENCY: usize = 16;

fn tenants() -> Vec<TenantScore> {
    (0..TENANTS)
        .map(|i| {
            TenantScore::new(format!("t{i:03}"))
                .member(Member::user(
                    "owner",
                    TenantRole::Admin,
                    format!("owner@t{i}.example"),
                ))
                .member(Member::service_account("ci", TenantRole::Developer))
        })
        .collect()
}

/// Requests per `verb resource`, and in all.
fn census(log: &[RecordedRequest]) -> (usize, BTreeMap<String, usize>) {
    let mut by_kind = BTreeMap::new();
    for r in log {
        *by_kind
            .entry(format!("{} {}", r.verb, r.resource))
            .or_insert(0) += 1;
    }
    (log.len(), by_kind)
}

fn harmony_run(
    runtime: &tokio::runtime::Runtime,
    server: &FakeApiServer,
    scores: &[TenantScore],
) -> (Duration, usize, BTreeMap<String, usize>) {
    server.clear_requests();
    let started = Instant::now();
    let report = runtime.block_on(async {
        let source = FactsSource {
            profile: Some(ClusterFacts::kubernetes()),
            ..FactsSource::default()
        };
        let cluster = cluster_from_config(server.config()).expect("client");
        let mut maestro = Maestro::new(K8sTopology::new(cluster, source, ApplyOptions::default()));
        maestro.register(
            scores
                .iter()
                .cloned()
                .map(|t| Box::new(t) as Box<dyn Score<K8sTopology>>),
        );
        maestro
            .run_concurrently(CONCURRENCY)
            .await
            .expect("cluster ready")
    });
    let elapsed = started.elapsed();
    assert!(report.all_succeeded(), "{}", report.summary());
    let (total, by_kind) = census(&server.requests());
    (elapsed, total, by_kind)
}

fn kubectl_run(
    server: &FakeApiServer,
    dir: &std::path::Path,
) -> (Duration, usize, BTreeMap<String, usize>) {
    server.clear_requests();
    let started = Instant::now();
    let output = Command::new(Binaries::locate().expect("kubectl is built").kubectl())
        .args(["apply", "--server-side", "--validate=false", "-f"])
        .arg(dir.join("tenants.yaml"))
        .arg("--kubeconfig")
        .arg(dir.join("kubeconfig"))
        .output()
        .expect("kubectl runs");
    let elapsed = started.elapsed();
    assert!(
        output.status.success(),
        "kubectl failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (total, by_kind) = census(&server.requests());
    (elapsed, total, by_kind)
}

fn show(label: &str, (elapsed, total, by_kind): &(Duration, usize, BTreeMap<String, usize>)) {
    println!(
        "{label:28} {:>8.2}s {total:>7} requests  {by_kind:?}",
        elapsed.as_secs_f64()
    );
}

fn main() {
    let scores = tenants();
    let facts = ClusterFacts::kubernetes();
    let plans: Vec<_> = scores.iter().map(|t| compile(t, &facts)).collect();
    let objects: usize = plans.iter().map(|p| p.objects().len()).sum();
    println!("{TENANTS} tenants, {objects} objects, Harmony concurrency {CONCURRENCY}");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let ours = FakeApiServer::start(FakeOptions::default()).expect("fake");
    let first = harmony_run(&runtime, &ours, &scores);
    show("harmony first apply", &first);
    let again = harmony_run(&runtime, &ours, &scores);
    show("harmony no-op re-apply", &again);
    println!(
        "first apply: {} requests for {objects} objects (+{})",
        first.1,
        first.1 as i64 - objects as i64
    );

    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("tenants.yaml"),
        encode_stream(&plans, Format::Yaml),
    )
    .expect("manifests");
    let theirs = FakeApiServer::start(FakeOptions::default()).expect("fake");
    theirs
        .write_kubeconfig(&dir.path().join("kubeconfig"))
        .expect("kubeconfig");
    let kubectl_first = kubectl_run(&theirs, dir.path());
    show("kubectl first apply", &kubectl_first);
    let kubectl_again = kubectl_run(&theirs, dir.path());
    show("kubectl no-op re-apply", &kubectl_again);
    println!(
        "ratios harmony/kubectl: first apply wall {:.2}x, requests {:.2}x; re-apply wall {:.3}x, requests {:.4}x ({:.0}x fewer)",
        first.0.as_secs_f64() / kubectl_first.0.as_secs_f64(),
        first.1 as f64 / kubectl_first.1 as f64,
        again.0.as_secs_f64() / kubectl_again.0.as_secs_f64(),
        again.1 as f64 / kubectl_again.1 as f64,
        kubectl_again.1 as f64 / again.1 as f64,
    );
}
