//! A live audit of a real control plane holding 500 tenants and 5,000 pods, end to end as an
//! operator runs it: where does `harmony audit --kubeconfig K` spend its time, in list calls or
//! in evaluation?
//!
//! `cargo bench -p harmony-cli --bench audit_live` (`LIVE_TENANTS`, default 500; `LIVE_PODS` per
//! tenant, default 10; `LIVE_RUNS`, default 3; `LIVE_CONCURRENCY`, pod creations in flight,
//! default 16). Needs the control plane binaries (`HARMONY_CONTROLPLANE`, or
//! `tools/controlplane/build` runs).
//!
//! The tenants are applied with `harmony tenant apply` (a process), the pods created through the
//! API (restricted Pod Security, within each tenant's LimitRange and quota; nothing schedules
//! them). The audit runs as a process with `RUST_LOG=info`: the CLI prints a line on stderr
//! when each tracing span closes (`list all`, one `list{kind=…}` per kind, `decode`, `audit`
//! with `index`, `checks` and `every pod`, `render`), with `time.busy` and `time.idle`; busy +
//! idle is a span's wall time (async spans are idle while they await the API server).

mod common;
use common::{env_usize, tenant_name, write_tenant_files};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use harmony_testkit::ControlPlane;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, PostParams};

/// Pod `p` of `ns`: restricted Pod Security (non-root, RuntimeDefault seccomp, no privilege
/// escalation, every capability dropped), requests and limits within the tenant's LimitRange,
/// labels `app` and `tier`, a named port `http` on two pods out of three.
fn pod(ns: &str, p: usize) -> Pod {
    let app = format!("app-{}", p % 3);
    let ports = if p % 3 == 2 {
        serde_json::json!([])
    } else {
        serde_json::json!([{"name": "http", "containerPort": 8080, "protocol": "TCP"}])
    };
    serde_json::from_value(serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": format!("{app}-{p}"),
            "namespace": ns,
            "labels": {"app": app, "tier": if p.is_multiple_of(2) { "web" } else { "db" }},
        },
        "spec": {
            "securityContext": {
                "runAsNonRoot": true,
                "runAsUser": 10001,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [{
                "name": "main",
                "image": format!("registry.example.com/{app}:1.0"),
                "ports": ports,
                "securityContext": {
                    "allowPrivilegeEscalation": false,
                    "capabilities": {"drop": ["ALL"]},
                },
                "resources": {
                    "requests": {"cpu": "100m", "memory": "128Mi"},
                    "limits": {"cpu": "500m", "memory": "512Mi"},
                },
            }],
        },
    }))
    .expect("a valid Pod")
}

/// Creates `pods` pods in each of the `tenants` namespaces, `concurrency` requests in flight.
/// Transient refusals (a quota whose status the controller has not computed yet, throttling,
/// server errors) are retried; a pod that already exists counts as created.
async fn create_pods(plane: &ControlPlane, tenants: usize, pods: usize, concurrency: usize) {
    let client = plane.client().await;
    let total = tenants * pods;
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let retries = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (client, next, done, retries) =
            (client.clone(), next.clone(), done.clone(), retries.clone());
        workers.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return;
                }
                let ns = tenant_name(i / pods);
                let api: Api<Pod> = Api::namespaced(client.clone(), &ns);
                let manifest = pod(&ns, i % pods);
                let mut attempt = 0;
                loop {
                    match api.create(&PostParams::default(), &manifest).await {
                        Ok(_) => break,
                        Err(kube::Error::Api(s)) if s.is_already_exists() => break,
                        Err(e) if attempt < 60 => {
                            attempt += 1;
                            retries.fetch_add(1, Ordering::Relaxed);
                            if attempt == 30 {
                                eprintln!("pod {ns}/{} still refused: {e}", i % pods);
                            }
                            tokio::time::sleep(Duration::from_millis(500)).await;
                        }
                        Err(e) => panic!("creating pod {i} in {ns}: {e}"),
                    }
                }
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                if n.is_multiple_of((total / 10).max(1)) || n == total {
                    println!(
                        "  pods created: {n}/{total} ({:.0}/s, {} retries)",
                        n as f64 / started.elapsed().as_secs_f64(),
                        retries.load(Ordering::Relaxed)
                    );
                }
            }
        });
    }
    while let Some(result) = workers.join_next().await {
        result.expect("a pod-creating task panicked");
    }
}

/// `ESC[...m` colour sequences removed.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters final-byte (a letter).
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `4.43ms`, `4.57µs`, `420ns`, `1.02s` as tracing-subscriber prints them.
fn parse_duration(text: &str) -> Option<Duration> {
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let seconds = match unit {
        "s" => number,
        "ms" => number / 1e3,
        "µs" | "us" => number / 1e6,
        "ns" => number / 1e9,
        _ => return None,
    };
    Some(Duration::from_secs_f64(seconds))
}

/// One span-close line: the span's path (names without fields, root first), the leaf's fields,
/// and its busy and idle times.
#[derive(Debug)]
struct Close {
    path: Vec<String>,
    fields: String,
    wall: Duration,
}

/// Parses `TIMESTAMP LEVEL a:b{fields}: target: close time.busy=X time.idle=Y`.
fn parse_close(line: &str) -> Option<Close> {
    let (head, times) = line.split_once(": close time.busy=")?;
    let (busy, idle) = times.split_once(" time.idle=")?;
    let wall = parse_duration(busy.trim())? + parse_duration(idle.trim())?;
    let (spans, _target) = head.rsplit_once(": ")?;
    // Skip the timestamp and the level.
    let spans = spans.trim_start();
    let spans = spans.split_once(char::is_whitespace)?.1.trim_start();
    let spans = spans.split_once(char::is_whitespace)?.1.trim_start();
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (i, c) in spans.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ':' if depth == 0 => {
                parts.push(&spans[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&spans[start..]);
    let leaf = parts.last()?;
    let fields = leaf
        .split_once('{')
        .map(|(_, f)| f.trim_end_matches('}').to_string())
        .unwrap_or_default();
    let path = parts
        .iter()
        .map(|p| p.split_once('{').map_or(*p, |(n, _)| n).to_string())
        .collect();
    Some(Close { path, fields, wall })
}

/// One audit run's figures.
#[derive(Debug, Default)]
struct Figures {
    total: Duration,
    spans: BTreeMap<String, Duration>,
    kinds: Vec<(String, Duration)>,
    code: i32,
    summary: String,
}

const PHASES: [&str; 8] = [
    "list all",
    "decode",
    "audit",
    "audit:index",
    "audit:checks",
    "audit:every pod",
    "render",
    "other",
];

/// `--kubeconfig`, `--pod-network` and `--service-network` of `plane`.
fn cluster_args(plane: &ControlPlane) -> [String; 6] {
    [
        "--kubeconfig".into(),
        plane.kubeconfig().display().to_string(),
        "--pod-network".into(),
        plane.pod_network().to_string(),
        "--service-network".into(),
        plane.service_network().to_string(),
    ]
}

fn run_audit(harmony: &Path, plane: &ControlPlane) -> Figures {
    let started = Instant::now();
    let output = Command::new(harmony)
        .arg("audit")
        .args(cluster_args(plane))
        .env("RUST_LOG", "info")
        .output()
        .expect("harmony audit runs");
    let total = started.elapsed();
    let code = output.status.code().unwrap_or(-1);
    let stderr = strip_ansi(&String::from_utf8_lossy(&output.stderr));
    assert!(
        code == 0 || code == 1,
        "harmony audit exited {code}: {stderr}"
    );
    let mut figures = Figures {
        total,
        code,
        summary: String::from_utf8_lossy(&output.stdout)
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("(no output)")
            .to_string(),
        ..Figures::default()
    };
    for close in stderr.lines().filter_map(parse_close) {
        let name = close.path.join(":");
        if close.path.last().is_some_and(|n| n == "list") && close.path.len() > 1 {
            figures.kinds.push((close.fields.clone(), close.wall));
        }
        *figures.spans.entry(name).or_default() += close.wall;
    }
    for needed in ["list all", "decode", "audit", "render"] {
        assert!(
            figures.spans.contains_key(needed),
            "no `{needed}` span closed; the spans seen: {:?}\n{stderr}",
            figures.spans.keys().collect::<Vec<_>>()
        );
    }
    let accounted: Duration = ["list all", "decode", "audit", "render"]
        .iter()
        .map(|s| figures.spans[*s])
        .sum();
    figures
        .spans
        .insert("other".into(), total.saturating_sub(accounted));
    figures.kinds.sort_by_key(|k| std::cmp::Reverse(k.1));
    figures
}

fn seconds(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn median_share(shares: impl Iterator<Item = f64>) -> f64 {
    let mut shares: Vec<f64> = shares.collect();
    shares.sort_by(f64::total_cmp);
    shares[shares.len() / 2]
}

fn main() {
    let tenants = env_usize("LIVE_TENANTS", 500);
    let pods = env_usize("LIVE_PODS", 10);
    let runs = env_usize("LIVE_RUNS", 3).max(1);
    let concurrency = env_usize("LIVE_CONCURRENCY", 16).max(1);
    let harmony = Path::new(env!("CARGO_BIN_EXE_harmony"));
    let dir = tempfile::tempdir().expect("temp dir");
    let files: PathBuf = write_tenant_files(&dir.path().join("tenants"), tenants);

    let plane = ControlPlane::start().unwrap_or_else(|e| panic!("control plane: {e}"));
    let _guard = plane.failure_guard();
    let started = Instant::now();
    let apply = Command::new(harmony)
        .args(["tenant", "apply", "-f"])
        .arg(&files)
        .args(cluster_args(&plane))
        .output()
        .expect("harmony tenant apply runs");
    assert!(
        apply.status.success(),
        "harmony tenant apply failed: {}{}",
        String::from_utf8_lossy(&apply.stdout),
        String::from_utf8_lossy(&apply.stderr)
    );
    println!(
        "{tenants} tenants applied with harmony tenant apply in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    println!(
        "creating {} pods ({pods} per tenant namespace, {concurrency} in flight)",
        tenants * pods
    );
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(create_pods(&plane, tenants, pods, concurrency));
    println!(
        "{} pods created in {:.1} s",
        tenants * pods,
        started.elapsed().as_secs_f64()
    );

    let mut all = Vec::new();
    for run in 1..=runs {
        let f = run_audit(harmony, &plane);
        let list_share = f.spans["list all"].as_secs_f64() / f.total.as_secs_f64();
        let slowest: Vec<String> = f
            .kinds
            .iter()
            .take(4)
            .map(|(k, d)| format!("{k} {}", seconds(*d)))
            .collect();
        println!(
            "run {run}: total {}; list all {} ({:.0}% of the wall); decode {}; audit {} (index {}, \
             checks {}, every pod {}); render {}; other {}; exit {}; {}",
            seconds(f.total),
            seconds(f.spans["list all"]),
            100.0 * list_share,
            seconds(f.spans["decode"]),
            seconds(f.spans["audit"]),
            seconds(f.spans.get("audit:index").copied().unwrap_or_default()),
            seconds(f.spans.get("audit:checks").copied().unwrap_or_default()),
            seconds(f.spans.get("audit:every pod").copied().unwrap_or_default()),
            seconds(f.spans["render"]),
            seconds(f.spans["other"]),
            f.code,
            f.summary,
        );
        println!(
            "  {} list calls; slowest: {}",
            f.kinds.len(),
            slowest.join(", ")
        );
        all.push(f);
    }

    let total = median(all.iter().map(|f| f.total).collect());
    println!();
    println!(
        "Live audit, {tenants} tenants, {} pods, median of {runs} runs:",
        tenants * pods
    );
    println!();
    println!("| phase | median wall | median share of a run's wall |");
    println!("|---|---|---|");
    println!("| `harmony audit` process | {} | 100% |", seconds(total));
    for phase in PHASES {
        let wall = |f: &Figures| f.spans.get(phase).copied().unwrap_or_default();
        let m = median(all.iter().map(wall).collect());
        // Shares are taken run by run: a stall of the machine in one run moves one phase of one
        // run, not the whole table.
        let share = median_share(
            all.iter()
                .map(|f| wall(f).as_secs_f64() / f.total.as_secs_f64()),
        );
        let label = match phase {
            "list all" => "list calls (`list all`, every kind concurrently)".to_string(),
            "other" => "other (start-up, kubeconfig, discovery, exit)".to_string(),
            p => format!("`{p}`"),
        };
        println!("| {label} | {} | {:.1}% |", seconds(m), 100.0 * share);
    }
}
