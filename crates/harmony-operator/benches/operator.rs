//! The operator against the CLI's apply, on real control planes (one fresh plane each):
//!
//! - **from empty**: N tenants applied by the CLI's apply path (`Maestro` over `K8sTopology`,
//!   concurrency 8, as `harmony tenant apply` runs it), against N `Tenant` resources created at
//!   once and reconciled by the operator, timed from the first create until every Tenant is Ready
//!   (and, separately, Isolated); the CLI runs before and after the operator, and the operator is
//!   compared with the mean of the two;
//! - **existing Tenants**: the same N Tenants created on a fresh plane first, then the operator
//!   started, timed from its process start until every Tenant is Ready (as when the operator is
//!   installed where GitOps already applied the Tenants); compared with the same CLI mean;
//! - **drift repair**: a tenant's `default-deny` NetworkPolicy deleted, timed until the operator
//!   has put a new one back; the median of the repeats;
//! - **idle**: the operator's resident memory and CPU once nothing changes, with N tenants.
//!
//! Beside the times: the API requests each plane served (its `apiserver_request_total`, the
//! controller manager's included on both) and the CPU its API server spent meanwhile
//! (`process_cpu_seconds_total`: work the server did, where request latencies would also count
//! waiting), and the operator's reconciles and audits.
//!
//! The operator runs as a child process (this bench executable, re-run in operator mode), so its
//! memory and CPU are its own. `BENCH_TENANTS` (default 500) and `BENCH_DRIFTS` (default 21)
//! resize it, `BENCH_CONCURRENCY` sets the operator's concurrency (default: the operator's own);
//! `HARMONY_CONTROLPLANE` locates the control plane binaries.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use harmony::{Maestro, Score};
use harmony_k8s::{ApplyOptions, FactsSource, K8sTopology};
use harmony_kube::cluster_from_config;
use harmony_operator::{ISOLATED, READY, Settings, Tenant, crd, namespace_request, run};
use harmony_tenant::{Member, TenantRole, TenantScore};
use harmony_testkit::ControlPlane;
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use kube::runtime::{WatchStreamExt, watcher};

const ROLE: &str = "HARMONY_BENCH_OPERATOR_KUBECONFIG";

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Tenants shaped like the examples: quotas, a member of each kind, every third denying egress.
fn tenants(n: usize) -> Vec<TenantScore> {
    (0..n)
        .map(|i| {
            let name = format!("bench-{i:04}");
            let mut score = TenantScore::new(&name)
                .requests("2", "4Gi")
                .limits("4", "8Gi")
                .member(Member::user(
                    "alice",
                    TenantRole::Admin,
                    format!("alice@{name}.example.com"),
                ))
                .member(Member::group(
                    "devs",
                    TenantRole::Developer,
                    format!("{name}-devs"),
                ))
                .member(Member::service_account("ci", TenantRole::Developer));
            if i % 3 == 0 {
                score = score.deny_internet_egress();
            }
            score
        })
        .collect()
}

fn facts(plane: &ControlPlane) -> FactsSource {
    FactsSource {
        pod_networks: vec![plane.pod_network()],
        service_networks: vec![plane.service_network()],
        ..FactsSource::default()
    }
}

/// Operator mode: run the controller on the kubeconfig given until killed.
fn operator_mode(kubeconfig: &str) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let file = kube::config::Kubeconfig::read_from(kubeconfig).unwrap();
        let config = kube::Config::from_custom_kubeconfig(file, &Default::default())
            .await
            .unwrap();
        let parse = |name: &str| std::env::var(name).unwrap().parse().unwrap();
        let mut settings = Settings {
            facts: FactsSource {
                pod_networks: vec![parse("BENCH_POD_NETWORK")],
                service_networks: vec![parse("BENCH_SERVICE_NETWORK")],
                ..FactsSource::default()
            },
            listen: Some(std::env::var("BENCH_LISTEN").unwrap().parse().unwrap()),
            ..Settings::default()
        };
        if let Ok(concurrency) = std::env::var("BENCH_CONCURRENCY") {
            settings.concurrency = concurrency.parse().unwrap();
        }
        run(config, settings, std::future::pending()).await.unwrap();
    });
}

/// What the API server of a plane has done since it started.
struct Served {
    /// Requests, by verb and resource.
    requests: BTreeMap<String, u64>,
    /// Its process's CPU time, in seconds.
    cpu: f64,
}

impl Served {
    fn total(&self) -> u64 {
        self.requests.values().sum()
    }

    fn quota_writes(&self) -> u64 {
        self.requests.get(QUOTA_WRITES).copied().unwrap_or(0)
    }

    /// What `self` served beyond `before`.
    fn since(self, before: &Served) -> Served {
        let requests = self
            .requests
            .into_iter()
            .map(|(key, n)| {
                let n = n - before.requests.get(&key).copied().unwrap_or(0);
                (key, n)
            })
            .filter(|(_, n)| *n > 0)
            .collect();
        Served {
            requests,
            cpu: self.cpu - before.cpu,
        }
    }
}

/// What the API server of `client` has served since it started.
async fn served(client: &kube::Client) -> Served {
    let request = http::Request::get("/metrics").body(Vec::new()).unwrap();
    let text = client.request_text(request).await.unwrap();
    // Labels come sorted: `verb`, `resource` and `subresource` are never first.
    let label = |line: &str, name: &str| {
        let start = line.find(&format!(",{name}=\""))? + name.len() + 3;
        Some(line[start..][..line[start..].find('"')?].to_string())
    };
    let cpu = text
        .lines()
        .find_map(|l| l.strip_prefix("process_cpu_seconds_total "))
        .and_then(|v| v.trim().parse().ok())
        .expect("the API server reports process_cpu_seconds_total");
    let mut requests = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| l.starts_with("apiserver_request_total{"))
    {
        let Some(count) = line
            .rsplit_once(' ')
            .and_then(|(_, v)| v.parse::<f64>().ok())
        else {
            continue;
        };
        let mut key = format!(
            "{} {}",
            label(line, "verb").unwrap_or_default(),
            label(line, "resource").unwrap_or_default()
        );
        if let Some(sub) = label(line, "subresource").filter(|s| !s.is_empty()) {
            key = format!("{key}/{sub}");
        }
        *requests.entry(key).or_insert(0) += count as u64;
    }
    Served { requests, cpu }
}

/// The CLI's apply path on a fresh plane: wall time and what the API server served meanwhile.
async fn cli_apply(scores: &[TenantScore]) -> (Duration, Served) {
    let plane = ControlPlane::start().unwrap();
    let client = plane.client().await;
    let cluster = cluster_from_config(plane.config().await).unwrap();
    let before = served(&client).await;
    let started = Instant::now();
    let mut maestro = Maestro::new(K8sTopology::new(
        cluster,
        facts(&plane),
        ApplyOptions::default(),
    ));
    maestro.register(
        scores
            .iter()
            .map(|s| Box::new(s.clone()) as Box<dyn Score<K8sTopology>>),
    );
    let report = maestro.run_concurrently(8).await.unwrap();
    let took = started.elapsed();
    assert!(report.all_succeeded(), "{}", report.summary());
    (took, served(&client).await.since(&before))
}

/// The requests whose count varies most between planes: ResourceQuota status writes, by the
/// quota admission of each create in a tenant namespace and by the quota controller.
const QUOTA_WRITES: &str = "PUT resourcequotas/status";

/// Prints a CLI apply's time and what the API server served.
fn print_cli(n: usize, took: Duration, served: &Served) {
    println!(
        "cli apply of {n} tenants from empty: {:.1} s, {} API requests ({:.1} per tenant, {:.1} of them {QUOTA_WRITES}), {:.1} s of the API server's CPU",
        took.as_secs_f64(),
        served.total(),
        served.total() as f64 / n as f64,
        served.quota_writes() as f64 / n as f64,
        served.cpu
    );
}

/// Kills the operator process however the bench ends.
struct Operator(Child);

impl Drop for Operator {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Memory of `pid` in MiB, by its `/proc/PID/status` line `field` (`VmRSS`: resident now,
/// `VmHWM`: the peak).
fn memory_mib(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kib / 1024.0
}

/// CPU time (user + system) `pid` has used, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

/// The operator's answer to `GET path` on `address`, if it answered.
fn get(address: std::net::SocketAddr, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    let mut response = String::new();
    stream.write_all(request.as_bytes()).ok()?;
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

/// Whether the operator's `/readyz` on `address` answers 200.
fn ready_probe(address: std::net::SocketAddr) -> bool {
    get(address, "/readyz").is_some_and(|r| r.starts_with("HTTP/1.1 200"))
}

/// The operator's counter `name` from its `/metrics` on `address`.
fn counter(address: std::net::SocketAddr, name: &str) -> u64 {
    let metrics = get(address, "/metrics").unwrap();
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap()
}

/// Waits until every Tenant named in `names` has the condition `kind` True for its generation.
async fn all_hold(api: &Api<Tenant>, names: &BTreeSet<String>, kind: &str) {
    let stream = watcher(api.clone(), watcher::Config::default())
        .default_backoff()
        .applied_objects();
    futures::pin_mut!(stream);
    let mut holding = BTreeSet::new();
    while let Some(tenant) = stream.try_next().await.unwrap() {
        let name = tenant.metadata.name.clone().unwrap_or_default();
        let holds = tenant.condition(kind).is_some_and(|c| {
            c.status == "True" && c.observed_generation == tenant.metadata.generation
        });
        if holds && names.contains(&name) {
            holding.insert(name);
        }
        if holding.len() == names.len() {
            return;
        }
    }
}

/// A fresh plane serving both CRDs of `harmony operator install` (the operator watches
/// NamespaceRequests too).
async fn plane_with_crds() -> ControlPlane {
    let plane = ControlPlane::start().unwrap();
    let client = plane.client().await;
    let crds: Api<CustomResourceDefinition> = Api::all(client);
    let both = [crd(), namespace_request::crd()];
    for definition in &both {
        let name = definition.metadata.name.clone().unwrap();
        crds.patch(
            &name,
            &PatchParams::apply("bench"),
            &Patch::Apply(definition),
        )
        .await
        .unwrap();
    }
    plane
        .wait_crds(&[
            "tenants.harmony.nationtech.io",
            "namespacerequests.harmony.nationtech.io",
        ])
        .unwrap();
    plane
}

/// The operator as a child process on `plane`, and the address of its probes and metrics.
fn spawn_operator(plane: &ControlPlane) -> (Operator, std::net::SocketAddr) {
    let listen = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let operator = Operator(
        Command::new(std::env::current_exe().unwrap())
            .env(ROLE, plane.kubeconfig())
            .env("BENCH_POD_NETWORK", plane.pod_network().to_string())
            .env("BENCH_SERVICE_NETWORK", plane.service_network().to_string())
            .env("BENCH_LISTEN", listen.to_string())
            .spawn()
            .unwrap(),
    );
    (operator, listen)
}

/// The operator started on `plane`, once it is ready (caches filled).
async fn start_operator(plane: &ControlPlane) -> (Operator, std::net::SocketAddr) {
    let (operator, listen) = spawn_operator(plane);
    while !ready_probe(listen) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (operator, listen)
}

/// Creates a Tenant per score, as `kubectl apply --server-side` of `harmony tenant export`
/// would (16 at a time).
async fn create_tenants(tenants: &Api<Tenant>, scores: &[TenantScore]) {
    futures::stream::iter(scores.iter().map(Tenant::from_score))
        .map(|tenant| {
            let api = tenants.clone();
            async move {
                let name = tenant.metadata.name.clone().unwrap();
                api.patch(&name, &PatchParams::apply("bench"), &Patch::Apply(&tenant))
                    .await
                    .unwrap();
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<()>>()
        .await;
}

async fn bench() {
    let n = env_number("BENCH_TENANTS", 500);
    let drifts = env_number("BENCH_DRIFTS", 21);
    let scores = tenants(n);

    let (cli_before, cli_served) = cli_apply(&scores).await;
    print_cli(n, cli_before, &cli_served);

    let plane = plane_with_crds().await;
    let client = plane.client().await;
    // The timer starts once the operator is up (caches filled), as a running operator would be.
    let (operator, listen) = start_operator(&plane).await;
    let pid = operator.0.id();

    let tenants: Api<Tenant> = Api::all(client.clone());
    let names: BTreeSet<String> = scores.iter().map(|s| s.name().to_string()).collect();
    let before = served(&client).await;
    let (started, cpu_before) = (Instant::now(), cpu_seconds(pid));
    let ready = tokio::spawn({
        let (tenants, names) = (tenants.clone(), names.clone());
        async move {
            all_hold(&tenants, &names, READY).await;
            let ready = started.elapsed();
            let counts = (
                served(&tenants.clone().into_client()).await,
                (
                    counter(listen, "harmony_operator_reconciles_total"),
                    counter(listen, "harmony_operator_reconcile_errors_total"),
                ),
                cpu_seconds(pid) - cpu_before,
            );
            all_hold(&tenants, &names, ISOLATED).await;
            (ready, counts, started.elapsed())
        }
    });
    create_tenants(&tenants, &scores).await;
    let created = started.elapsed();
    let (ready, (after, (reconciles, errors), cpu), isolated) = ready.await.unwrap();
    // The audit counts itself once its conditions are written: wait for that count.
    while counter(listen, "harmony_operator_audits_total") == 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let operator_served = after.since(&before);
    let beyond: Vec<String> = operator_served
        .requests
        .iter()
        .filter_map(|(key, &count)| {
            let cli = cli_served.requests.get(key).copied().unwrap_or(0);
            let more = (count as f64 - cli as f64) / n as f64;
            (more.abs() >= 0.1).then(|| format!("{key} {more:+.1}"))
        })
        .collect();
    println!(
        "operator: {n} Tenants from empty to all Ready: {:.1} s (all created at {:.1} s), {} API requests ({:.1} per tenant, the Tenants' creation included; {:.1} of them {QUOTA_WRITES}), {:.1} s of the API server's CPU, {reconciles} reconciles ({errors} failed), {cpu:.1} s of the operator's CPU; all Isolated: {:.1} s, {} audits",
        ready.as_secs_f64(),
        created.as_secs_f64(),
        operator_served.total(),
        operator_served.total() as f64 / n as f64,
        operator_served.quota_writes() as f64 / n as f64,
        operator_served.cpu,
        isolated.as_secs_f64(),
        counter(listen, "harmony_operator_audits_total")
    );
    println!(
        "operator requests per tenant beyond the CLI's, by verb and resource: {}",
        beyond.join(", ")
    );

    let mut repairs = Vec::new();
    for i in 0..drifts {
        let namespace = format!("bench-{:04}", (i * 37) % n);
        let policies: Api<NetworkPolicy> = Api::namespaced(client.clone(), &namespace);
        let before = policies.get("default-deny").await.unwrap().metadata.uid;
        let deleted = Instant::now();
        policies
            .delete("default-deny", &DeleteParams::default())
            .await
            .unwrap();
        loop {
            if let Some(policy) = policies.get_opt("default-deny").await.unwrap()
                && policy.metadata.uid != before
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        repairs.push(deleted.elapsed());
    }
    repairs.sort();
    let median = repairs[repairs.len() / 2];
    println!(
        "drift repair (a deleted NetworkPolicy back), {drifts} times: median {:.0} ms, min {:.0} ms, max {:.0} ms",
        median.as_secs_f64() * 1e3,
        repairs[0].as_secs_f64() * 1e3,
        repairs[repairs.len() - 1].as_secs_f64() * 1e3
    );

    // Idle: let the last audit and status writes settle (the quota use the bulk creation left
    // behind is written by the operator's sweep every 30 s), then watch for 30 s.
    tokio::time::sleep(Duration::from_secs(50)).await;
    let (cpu0, t0) = (cpu_seconds(pid), Instant::now());
    tokio::time::sleep(Duration::from_secs(30)).await;
    let cpu = (cpu_seconds(pid) - cpu0) / t0.elapsed().as_secs_f64();
    println!(
        "idle with {n} tenants: {:.0} MiB resident (peak {:.0} MiB), CPU {:.2}% of one core",
        memory_mib(pid, "VmRSS"),
        memory_mib(pid, "VmHWM"),
        cpu * 100.0
    );
    drop(operator);
    drop(plane);

    let existing = existing_tenants(&scores, &names).await;

    // The machine's pace drifts: the operator is compared with the mean of a CLI apply before it
    // and one after it, each on its own fresh plane.
    let (cli_after, cli_after_served) = cli_apply(&scores).await;
    print_cli(n, cli_after, &cli_after_served);
    let cli = (cli_before + cli_after) / 2;
    let cli_cpu = (cli_served.cpu + cli_after_served.cpu) / 2.0;
    println!(
        "from empty: the operator {:.1} s against the CLI's {:.1} s and {:.1} s: {:.2}x their mean; started on existing Tenants {:.1} s: {:.2}x; the API server's CPU from empty {:.1} s against the CLI's {:.1} s and {:.1} s: {:.2}x their mean",
        ready.as_secs_f64(),
        cli_before.as_secs_f64(),
        cli_after.as_secs_f64(),
        ready.as_secs_f64() / cli.as_secs_f64(),
        existing.as_secs_f64(),
        existing.as_secs_f64() / cli.as_secs_f64(),
        operator_served.cpu,
        cli_served.cpu,
        cli_after_served.cpu,
        operator_served.cpu / cli_cpu
    );
}

/// The operator started on a fresh plane where the Tenants already exist (applied by GitOps, or
/// from `harmony tenant export`, before the operator is installed): timed from its process start
/// until every Tenant is Ready, its own startup (discovery, caches) included.
async fn existing_tenants(scores: &[TenantScore], names: &BTreeSet<String>) -> Duration {
    let plane = plane_with_crds().await;
    let client = plane.client().await;
    let tenants: Api<Tenant> = Api::all(client.clone());
    create_tenants(&tenants, scores).await;
    let before = served(&client).await;
    let started = Instant::now();
    let (operator, listen) = spawn_operator(&plane);
    all_hold(&tenants, names, READY).await;
    let took = started.elapsed();
    let served = served(&client).await.since(&before);
    let n = scores.len();
    println!(
        "operator started on {n} existing Tenants: all Ready {:.1} s after its start, {} API requests ({:.1} per tenant, {:.1} of them {QUOTA_WRITES}), {:.1} s of the API server's CPU, {} reconciles ({} failed), {:.1} s of the operator's CPU",
        took.as_secs_f64(),
        served.total(),
        served.total() as f64 / n as f64,
        served.quota_writes() as f64 / n as f64,
        served.cpu,
        counter(listen, "harmony_operator_reconciles_total"),
        counter(listen, "harmony_operator_reconcile_errors_total"),
        cpu_seconds(operator.0.id()),
    );
    took
}

fn main() {
    if let Ok(kubeconfig) = std::env::var(ROLE) {
        return operator_mode(&kubeconfig);
    }
    // `cargo bench` passes `--bench`; anything else (such as `cargo test --benches`) only builds.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(bench());
}
