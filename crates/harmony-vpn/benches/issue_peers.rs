//! Issuing peers and rendering the server config at two sizes. Prints time per peer at each size
//! (their ratio shows whether the cost is quadratic) and peak memory (VmHWM).
//!
//! `cargo bench -p harmony-vpn --bench issue_peers`

use std::hint::black_box;
use std::time::{Duration, Instant};

use harmony_vpn::{
    KnownMembers, PeerRequest, PresharedKeyChoice, VpnGateway, VpnGatewayConfig, WireGuardGateway,
};

const GATEWAY: &str = "\
apiVersion: harmony.nationtech.io/v1alpha1
kind: VpnGateway
metadata:
  name: bench
spec:
  endpoint: vpn.example.com:51820
  addressPool:
    ipv4: 10.96.0.0/16
    ipv6: fd96::/64
  reachable:
    - address: 192.0.2.10
";

fn requests(n: usize) -> (KnownMembers, Vec<PeerRequest>) {
    let known = KnownMembers::from_pairs((0..n).map(|i| (format!("t{}", i % 50), format!("m{i}"))));
    let requests = (0..n)
        .map(|i| PeerRequest {
            tenant: format!("t{}", i % 50),
            member: format!("m{i}"),
            public_key: None,
            preshared_key: PresharedKeyChoice::None,
            by: "bench".into(),
        })
        .collect();
    (known, requests)
}

/// (issue, render) durations for `n` peers issued in one batch in a fresh state dir.
fn run(n: usize) -> (Duration, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let gateway = VpnGatewayConfig::parse("bench", GATEWAY).unwrap();
    let vpn = WireGuardGateway::open(gateway, dir.path()).unwrap();
    let (known, requests) = requests(n);
    let started = Instant::now();
    black_box(vpn.issue_peers(&known, requests).unwrap());
    let issued = started.elapsed();
    let started = Instant::now();
    black_box(vpn.server_config().unwrap());
    (issued, started.elapsed())
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// The best of three runs, to damp noise from other processes on the machine.
fn best(n: usize) -> (Duration, Duration) {
    (0..3).map(|_| run(n)).min().unwrap()
}

fn main() {
    let baseline_kib = peak_rss_kib();
    let (small, large) = (1_000, 5_000);
    let (issue_s, render_s) = best(small);
    let (issue_l, render_l) = best(large);
    let per = |d: Duration, n: usize| d.as_secs_f64() * 1e6 / n as f64;
    println!(
        "issue {small:>5} peers: {:>8.2?} ({:.1} µs/peer); render server config: {render_s:.2?}",
        issue_s,
        per(issue_s, small)
    );
    println!(
        "issue {large:>5} peers: {:>8.2?} ({:.1} µs/peer); render server config: {render_l:.2?}",
        issue_l,
        per(issue_l, large)
    );
    println!(
        "per-peer cost ratio {large}/{small}: issue {:.2}, render {:.2} (1.0 = linear, {:.1} = quadratic)",
        per(issue_l, large) / per(issue_s, small),
        per(render_l, large) / per(render_s, small),
        large as f64 / small as f64,
    );
    println!(
        "peak memory (VmHWM): {} KiB, {} KiB above the {} KiB before the runs",
        peak_rss_kib(),
        peak_rss_kib().saturating_sub(baseline_kib),
        baseline_kib
    );
}
