//! `harmony tenant cost` over 500 tenants and 30 days, end to end as a process, against a real
//! Prometheus (Debian's) loaded with hourly kube-state-metrics, cAdvisor and kubelet volume series
//! of every tenant (`promtool tsdb create-blocks-from openmetrics`). Two baselines in the same run,
//! taking turns: the same six range queries fetched raw with `curl` (what Prometheus alone takes), and the
//! naive way, one range query per tenant per figure, made with the same client in this process.
//!
//! `cargo bench -p harmony-cli --bench showback`. `BENCH_TENANTS` (default 500), `BENCH_DAYS`
//! (default 30) and `BENCH_RUNS` (default 3) resize it; figures are medians. The number of
//! queries harmony made is read from its `-v` line. Exits non-zero when the report's figures
//! differ from the series written.

mod common;
use common::{env_usize, tenant_name, write_tenant_files};
#[path = "common/measure.rs"]
mod measure;
#[path = "../tests/common/prometheus.rs"]
mod prometheus;

use std::ffi::OsString;
use std::fs::File;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use harmony_showback::{Endpoint, Figure, Prometheus as Client, Window};
use measure::{Measurement, read_measurement, wrapper_mode};
use prometheus::{OpenMetrics, Prometheus};

/// The end of the window: 2026-11-01T00:00:00Z.
const END: i64 = 1_793_491_200;
const END_TEXT: &str = "2026-11-01T00:00:00Z";
const GIB: f64 = 1_073_741_824.0;

/// Cores tenant `i` uses: 1, 1.5 or 2 (requests are 2).
fn cores_used(i: usize) -> f64 {
    1.0 + (i % 3) as f64 * 0.5
}

/// GiB tenant `i`'s PVC holds: 30 or 50 (it requests 40).
fn storage_used_gib(i: usize) -> f64 {
    if i.is_multiple_of(2) { 30.0 } else { 50.0 }
}

/// The value of a series of tenant `i` at its `k`-th sample.
type Value = dyn Fn(usize, usize) -> f64;

/// Series written per tenant.
const FAMILIES: usize = 10;

/// Hourly series of `tenants` tenants over `days` days: quota 4 cores, 8 GiB, 100 GiB `fast`;
/// requests 2 cores, 4 GiB; [`cores_used`] and 3 GiB used; a 40 GiB `fast` PVC holding
/// [`storage_used_gib`].
fn write_series(path: &Path, tenants: usize, days: usize) {
    let mut om = OpenMetrics::create(path);
    let count = days * 24 + 1;
    let first = END - (count as i64 - 1) * 3600;
    let fast = "fast.storageclass.storage.k8s.io/requests.storage";
    let families: [(&str, String, &Value); FAMILIES] = [
        (
            "kube_resourcequota",
            r#"resource="requests.cpu",type="hard""#.into(),
            &|_, _| 4.0,
        ),
        (
            "kube_resourcequota",
            r#"resource="requests.memory",type="hard""#.into(),
            &|_, _| 8.0 * GIB,
        ),
        (
            "kube_resourcequota",
            format!(r#"resource="{fast}",type="hard""#),
            &|_, _| 100.0 * GIB,
        ),
        (
            "kube_pod_container_resource_requests",
            r#"pod="web-0",container="app",resource="cpu",unit="core""#.into(),
            &|_, _| 2.0,
        ),
        (
            "kube_pod_container_resource_requests",
            r#"pod="web-0",container="app",resource="memory",unit="byte""#.into(),
            &|_, _| 4.0 * GIB,
        ),
        (
            "container_cpu_usage_seconds_total",
            r#"pod="web-0",container="app""#.into(),
            &|i, k| 3600.0 * cores_used(i) * k as f64,
        ),
        (
            "container_memory_working_set_bytes",
            r#"pod="web-0",container="app""#.into(),
            &|_, _| 3.0 * GIB,
        ),
        (
            "kube_persistentvolumeclaim_resource_requests_storage_bytes",
            r#"persistentvolumeclaim="data""#.into(),
            &|_, _| 40.0 * GIB,
        ),
        (
            "kube_persistentvolumeclaim_info",
            r#"persistentvolumeclaim="data",storageclass="fast""#.into(),
            &|_, _| 1.0,
        ),
        (
            "kubelet_volume_stats_used_bytes",
            r#"persistentvolumeclaim="data",node="node-0""#.into(),
            &|i, _| storage_used_gib(i) * GIB,
        ),
    ];
    // A metric family's series must be written together.
    for (name, labels, value) in &families {
        for i in 0..tenants {
            let labels = format!(r#"namespace="{}",{labels}"#, tenant_name(i));
            om.series(name, &labels, first, 3600, count, |k| value(i, k));
        }
    }
    om.finish();
}

/// Runs `program args` under the measuring wrapper, standard output to `out`, standard error
/// to `err`.
fn measure(program: &str, args: &[&str], out: &Path, err: &Path, scratch: &Path) -> Measurement {
    let report = scratch.join("measurement.txt");
    let status = measure::wrapper(program, args, &report)
        .stdout(File::create(out).expect("the output file"))
        .stderr(File::create(err).expect("the error file"))
        .status()
        .expect("the wrapper runs");
    assert!(status.success(), "the wrapper failed");
    let run = read_measurement(&report);
    assert_eq!(
        run.code,
        0,
        "{program} failed: {}",
        std::fs::read_to_string(err).unwrap_or_default()
    );
    run
}

/// The six range queries fetched with curl, one after the other, bodies to /dev/null.
fn curl_all(url: &str, queries: &[String], window: &Window) -> Duration {
    let started = Instant::now();
    for query in queries {
        let status = Command::new("curl")
            .args(["-sf", "-o", "/dev/null", "--data-urlencode"])
            .arg(format!("query={query}"))
            .arg("-d")
            .arg(format!("start={}", window.first().as_second()))
            .arg("-d")
            .arg(format!("end={}", window.end.as_second()))
            .arg("-d")
            .arg(format!("step={}", window.step.as_secs()))
            .arg(format!("{url}/api/v1/query_range"))
            .stdout(Stdio::null())
            .status()
            .expect("curl runs");
        assert!(status.success(), "curl failed");
    }
    started.elapsed()
}

/// One range query per tenant per figure with the library's client; the queries made.
fn naive(url: &str, tenants: usize, window: &Window) -> (Duration, u64) {
    let client = Client::new(Endpoint {
        url: url.into(),
        token: None,
        ca_pem: None,
        timeout: Duration::from_secs(600),
    })
    .expect("a client");
    let started = Instant::now();
    for i in 0..tenants {
        let namespace = tenant_name(i);
        for figure in Figure::ALL {
            client
                .range(&figure.promql(&[&namespace], window.step), window)
                .expect("a naive query");
        }
    }
    (started.elapsed(), client.stats().queries)
}

fn median(values: &mut [Duration]) -> Duration {
    values.sort();
    values[values.len() / 2]
}

/// Whether the report's figures are those written: per tenant over `hours`, CPU reserved
/// 4 x hours, used cores_used x hours, allocated max(2, used) x hours, fast storage reserved
/// 100 GiB x hours / 730 GiB-months, used storage_used_gib x hours / 730, allocated
/// max(40, used) x hours / 730.
fn report_matches(report: &Path, tenants: usize, hours: f64) -> bool {
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report).expect("the report")).expect("JSON");
    let rows = json["tenants"].as_array().expect("tenants");
    let close = |v: &serde_json::Value, expected: f64| {
        (v.as_f64().unwrap_or(f64::NAN) - expected).abs() < 1e-6 * expected.max(1.0)
    };
    rows.len() == tenants
        && rows.iter().enumerate().all(|(i, t)| {
            t["tenant"] == tenant_name(i)
                && close(&t["cpu"]["reserved"], 4.0 * hours)
                && close(&t["cpu"]["used"], cores_used(i) * hours)
                && close(&t["cpu"]["allocated"], cores_used(i).max(2.0) * hours)
                && close(&t["memory"]["allocated"], 4.0 * hours)
                && close(&t["storage"]["fast"]["reserved"], 100.0 * hours / 730.0)
                && close(
                    &t["storage"]["fast"]["used"],
                    storage_used_gib(i) * hours / 730.0,
                )
                && close(
                    &t["storage"]["fast"]["allocated"],
                    storage_used_gib(i).max(40.0) * hours / 730.0,
                )
        })
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    if let Some(code) = wrapper_mode(&args) {
        return code;
    }
    let tenants = env_usize("BENCH_TENANTS", 500);
    let days = env_usize("BENCH_DAYS", 30);
    let runs = env_usize("BENCH_RUNS", 3).max(1);
    let harmony = env!("CARGO_BIN_EXE_harmony");
    let scratch = tempfile::tempdir().expect("scratch folder");
    let tenant_dir = write_tenant_files(&scratch.path().join("tenants"), tenants);
    let prices = scratch.path().join("prices.yaml");
    std::fs::write(
        &prices,
        "apiVersion: harmony.nationtech.io/v1alpha1\nkind: PriceSheet\nmetadata: {name: bench}\n\
         spec: {currency: EUR, cpuCoreHour: 0.03, memoryGiBHour: 0.004, storageGiBMonth: {fast: 0.1}}\n",
    )
    .expect("the price sheet");
    let series = scratch.path().join("series.om");
    let started = Instant::now();
    write_series(&series, tenants, days);
    let size = std::fs::metadata(&series).expect("the series").len();
    let server = Prometheus::start(&series);
    std::fs::remove_file(&series).expect("remove the OpenMetrics file");
    println!(
        "{tenants} tenants x {days} days: {} series of {} hourly samples ({:.0} MB of OpenMetrics) \
         loaded into Prometheus in {:.1} s",
        tenants * FAMILIES,
        days * 24 + 1,
        size as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );

    let window_text = format!("{days}d");
    let window =
        Window::new(&window_text, "1h", END_TEXT.parse().expect("the end")).expect("the window");
    let names: Vec<String> = (0..tenants).map(tenant_name).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let queries: Vec<String> = Figure::ALL
        .iter()
        .map(|f| f.promql(&names, window.step))
        .collect();
    let report = scratch.path().join("report.json");
    let err = scratch.path().join("stderr.txt");
    let cost = [
        "tenant",
        "cost",
        "-f",
        tenant_dir.to_str().unwrap(),
        "--prometheus",
        &server.url,
        "--prices",
        prices.to_str().unwrap(),
        "--window",
        &window_text,
        "--end",
        END_TEXT,
        "-o",
        "json",
        "-v",
    ];
    let (mut ours, mut curl, mut naive_runs) = (Vec::new(), Vec::new(), Vec::new());
    let (mut rss, mut queries_made, mut naive_queries) = (0, String::new(), 0);
    for _ in 0..runs {
        let run = measure(harmony, &cost, &report, &err, scratch.path());
        ours.push(run.wall);
        rss = rss.max(run.peak_rss_kib);
        // `prometheus: 6 queries, BYTES bytes in SECONDS s`: the counts, not this run's time.
        let line = std::fs::read_to_string(&err).expect("harmony's -v line");
        queries_made = line.split(" in ").next().unwrap_or_default().to_string();
        curl.push(curl_all(&server.url, &queries, &window));
        let (wall, made) = naive(&server.url, tenants, &window);
        naive_runs.push(wall);
        naive_queries = made;
    }
    let ok = report_matches(&report, tenants, window.hours());
    let (ours, curl, naive) = (
        median(&mut ours),
        median(&mut curl),
        median(&mut naive_runs),
    );
    println!("median of {runs} runs each, taking turns:");
    println!(
        "  harmony tenant cost -o json  {:>8.2} s  peak RSS {:.0} MiB  {}",
        ours.as_secs_f64(),
        rss as f64 / 1024.0,
        queries_made.trim()
    );
    println!(
        "  curl, the same {} range queries  {:>8.2} s",
        queries.len(),
        curl.as_secs_f64()
    );
    println!(
        "  naive: one range query per tenant per figure ({naive_queries} queries)  {:>8.2} s",
        naive.as_secs_f64()
    );
    println!(
        "  harmony / curl: {:.2}x the time; naive / harmony: {:.2}x",
        ours.as_secs_f64() / curl.as_secs_f64(),
        naive.as_secs_f64() / ours.as_secs_f64()
    );
    if ok {
        ExitCode::SUCCESS
    } else {
        eprintln!("the report's figures differ from the series written");
        ExitCode::FAILURE
    }
}
