//! Audit of 500 tenants × 10 pods with Harmony's standard policies; with `NCA=path/to/nca`, also
//! 100 tenants through network-config-analyzer and through us, comparing verdicts and time.
//!
//! Also the every-pod symbolic evaluation alone, on 5,000 tenants (`SYMBOLIC_TENANTS`).
//!
//! `cargo bench -p harmony-audit --bench audit` (set `TENANTS`, `PODS`, `NCA_TENANTS` to resize).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use harmony_audit::crosscheck::{disagreements, parse_nca, pod_connectivity, write_nca_input};
use harmony_audit::netpol::{Conn, Party, Symbolic};
use harmony_audit::snapshot::{Pod, PodSpec};
use harmony_audit::{AuditConfig, ClusterSnapshot, audit};
use harmony_tenant::{ClusterFacts, Member, TenantPlan, TenantRole, TenantScore, compile};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn snapshot(tenants: usize, pods: usize, facts: &ClusterFacts) -> ClusterSnapshot {
    let plans: Vec<TenantPlan> = (0..tenants)
        .map(|i| {
            let mut score = TenantScore::new(format!("tenant-{i}"))
                .member(Member::user(
                    "admin",
                    TenantRole::Admin,
                    format!("admin@t{i}"),
                ))
                .member(Member::group(
                    "devs",
                    TenantRole::Developer,
                    format!("devs-t{i}"),
                ))
                .member(Member::service_account("ci", TenantRole::Developer))
                .self_service_role_bindings(i % 2 == 0);
            if i % 3 == 0 {
                score = score.deny_internet_egress();
            }
            compile(&score, facts)
        })
        .collect();
    let mut s = ClusterSnapshot::from_plans(&plans);
    for i in 0..tenants {
        for p in 0..pods {
            let labels = BTreeMap::from([("app".to_string(), format!("app-{}", p % 3))]);
            s.pods.push(Pod {
                metadata: ObjectMeta {
                    name: Some(format!("pod-{p}")),
                    namespace: Some(format!("tenant-{i}")),
                    labels: Some(labels),
                    ..Default::default()
                },
                spec: Some(PodSpec::default()),
                ..Default::default()
            });
        }
    }
    s.add_platform(facts);
    s.add_placeholder_pods();
    s
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

/// The every-pod questions the audit asks per tenant (isolation, reach, other tenants, the
/// internet, the platform's pods both ways), on the symbolic evaluator alone.
fn symbolic(facts: &ClusterFacts) {
    let n = env("SYMBOLIC_TENANTS", 5000);
    let s = snapshot(n, 10, facts);
    let tenants: Vec<String> = (0..n).map(|i| format!("tenant-{i}")).collect();
    let platform: Vec<&Pod> = s
        .pods
        .iter()
        .filter(|p| {
            !p.metadata
                .namespace
                .as_deref()
                .unwrap_or_default()
                .starts_with("tenant-")
        })
        .collect();
    let t = Instant::now();
    let sym = Symbolic::new(&s, &facts.pod_networks, Default::default());
    let mut open = 0;
    for ns in &tenants {
        let out = sym.reach(ns, false);
        let _ = sym.reach(ns, true);
        open += usize::from(sym.unisolated(ns, true).is_some());
        open += usize::from(sym.unisolated(ns, false).is_some());
        let internet = Party::Addr("1.1.1.1".parse().expect("address"));
        open += usize::from(sym.closed(Party::Free(ns), internet).is_some());
        for p in &platform {
            if out.contains(p.metadata.namespace.as_deref().unwrap_or_default()) {
                let found = sym.open(Party::Free(ns), Party::Pod(p), &Conn::none());
                open += usize::from(found.is_some());
            }
            open += usize::from(sym.closed(Party::Pod(p), Party::Free(ns)).is_some());
        }
    }
    println!(
        "every-pod symbolic evaluation: {n} tenants, {} platform pods: {:.3} s ({open} open questions)",
        platform.len(),
        t.elapsed().as_secs_f64()
    );
}

fn main() {
    let facts = ClusterFacts::kubernetes();
    symbolic(&facts);
    let (tenants, pods) = (env("TENANTS", 500), env("PODS", 10));
    let s = snapshot(tenants, pods, &facts);
    let config = AuditConfig::new(facts.clone());
    let mut runs = Vec::new();
    let mut report = None;
    for _ in 0..3 {
        let t = Instant::now();
        report = Some(audit(&s, &config));
        runs.push(t.elapsed());
    }
    let report = report.expect("three runs");
    let audit_time = median(runs);
    println!(
        "audit: {tenants} tenants × {pods} pods ({} pods, {} policies): median of 3 = {:.3} s, {} failed tenants, peak RSS {} MiB",
        s.pods.len(),
        s.network_policies.len(),
        audit_time.as_secs_f64(),
        report
            .tenants
            .iter()
            .filter(|t| t.status() == harmony_audit::Status::Fail)
            .count(),
        peak_rss_kib() / 1024
    );

    let Ok(nca) = std::env::var("NCA") else {
        println!("nca: skipped (set NCA=path/to/nca to compare)");
        return;
    };
    let n = env("NCA_TENANTS", 100);
    let small = snapshot(n, env("NCA_PODS", 2), &facts);
    let dir = tempfile::tempdir().expect("temp dir");
    write_nca_input(&small, dir.path()).expect("write nca input");
    let out = dir.path().join("nca.txt");
    let t = Instant::now();
    let status = std::process::Command::new(&nca)
        .arg("--connectivity")
        .arg(dir.path().join("policies"))
        .arg("-n")
        .arg(dir.path().join("namespaces.yaml"))
        .arg("-p")
        .arg(dir.path().join("pods.yaml"))
        .args(["-o", "txt_no_fw_rules", "-f"])
        .arg(&out)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run NCA={nca:?} ({e}): give an absolute path, such as $PWD/.venv-nca/bin/nca")
        });
    let nca_time = t.elapsed();
    assert!(
        status.status.success(),
        "nca failed: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    let t = Instant::now();
    let ours = pod_connectivity(&small);
    let our_time = t.elapsed();
    let theirs = parse_nca(&std::fs::read_to_string(&out).expect("nca output")).expect("parse nca");
    let diff = disagreements(&ours, &theirs);
    println!(
        "nca: {} namespaces, {} pods, {} allowed pod pairs: nca {:.2} s, ours {:.4} s → {:.0}× faster; verdicts {}",
        small.namespaces.len(),
        small.pods.len(),
        ours.len(),
        nca_time.as_secs_f64(),
        our_time.as_secs_f64(),
        nca_time.as_secs_f64() / our_time.as_secs_f64(),
        if diff.is_empty() {
            "identical".to_string()
        } else {
            format!(
                "DIFFER on {} pairs: {:?}",
                diff.len(),
                &diff[..diff.len().min(5)]
            )
        }
    );
}
