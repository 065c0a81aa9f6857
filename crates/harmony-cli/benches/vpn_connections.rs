//! `harmony vpn connections` on a gateway with many peers, end to end as an operator runs it on the
//! gateway, against `wg show <interface> dump` alone (which it runs) in the same run.
//!
//! A userspace WireGuard interface (wireguard-go, in a network namespace the bench makes) is set
//! up with Harmony's server config for `BENCH_PEERS` peers (default 5,000) issued in a file
//! registry; then `wg show IF dump` and `harmony vpn connections -o json` take turns
//! `BENCH_RUNS` times (default 7) and the ratio of their median wall times is printed. Needs root,
//! wireguard-go, wireguard-tools and iproute2.
//!
//! `cargo bench -p harmony-cli --bench vpn_connections`

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[path = "../tests/common/mod.rs"]
mod common;

use common::gateway_file;
use harmony_vpn::{
    KnownMembers, PeerRequest, PresharedKeyChoice, VpnGateway, VpnGatewayConfig, WireGuardGateway,
};

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name}: not a number: {v}"))
        })
        .unwrap_or(default)
}

fn run(program: &str, args: &[&str]) {
    let out = Command::new(program).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The namespace and wireguard-go of the bench; removed on drop.
struct Lab {
    ns: String,
    wireguard: Option<Child>,
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(child) = &mut self.wireguard {
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            let _ = child.wait();
        }
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).status();
    }
}

/// Wall time of `program args` run in namespace `ns`, its output thrown away.
fn timed(ns: &str, program: &str, args: &[&str]) -> Duration {
    let started = Instant::now();
    let status = Command::new("ip")
        .args(["netns", "exec", ns, program])
        .args(args)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    let elapsed = started.elapsed();
    // `connections` exits 0 here: every key on the gateway is an active peer.
    assert!(status.success(), "{program} {args:?}: {status}");
    elapsed
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn main() {
    let peers = env_number("BENCH_PEERS", 5000);
    let runs = env_number("BENCH_RUNS", 7).max(1);
    let id = std::process::id() % 100_000;
    let interface = format!("hmb{id}");
    let mut lab = Lab {
        ns: format!("hmb{id}"),
        wireguard: None,
    };
    let tmp = tempfile::tempdir().unwrap();
    let gateway_file = gateway_file(
        tmp.path(),
        "192.0.2.1:51820",
        &interface,
        "10.96.0.0/16",
        "    - address: 192.0.2.10\n",
    );
    let state = tmp.path().join("state");
    let gateway = VpnGatewayConfig::parse(
        "gateway.yaml",
        &std::fs::read_to_string(&gateway_file).unwrap(),
    )
    .unwrap();
    let vpn = WireGuardGateway::open(gateway, &state).unwrap();
    let member = |i: usize| (format!("t{}", i % 50), format!("m{i}"));
    let known = KnownMembers::from_pairs((0..peers).map(member));
    let requests = (0..peers)
        .map(|i| {
            let (tenant, member) = member(i);
            PeerRequest {
                tenant,
                member,
                public_key: None,
                preshared_key: PresharedKeyChoice::None,
                by: "bench".into(),
            }
        })
        .collect();
    vpn.issue_peers(&known, requests).unwrap();
    let config = tmp.path().join("server.conf");
    std::fs::write(&config, vpn.server_config().unwrap().expose()).unwrap();
    let stripped = Command::new("wg-quick")
        .args(["strip", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(stripped.status.success(), "wg-quick strip: {stripped:?}");
    let stripped_file = tmp.path().join("server.stripped");
    std::fs::write(&stripped_file, &stripped.stdout).unwrap();

    run("ip", &["netns", "add", &lab.ns]);
    lab.wireguard = Some(
        Command::new("ip")
            .args(["netns", "exec", &lab.ns, "wireguard-go", "-f", &interface])
            .env("WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !Command::new("wg")
        .args(["show", &interface])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success()
    {
        assert!(Instant::now() < deadline, "wireguard-go did not come up");
        std::thread::sleep(Duration::from_millis(100));
    }
    run(
        "ip",
        &[
            "netns",
            "exec",
            &lab.ns,
            "wg",
            "setconf",
            &interface,
            stripped_file.to_str().unwrap(),
        ],
    );

    let harmony = env!("CARGO_BIN_EXE_harmony");
    let (gateway_arg, state_arg) = (gateway_file.to_str().unwrap(), state.to_str().unwrap());
    let harmony_args = [
        "vpn",
        "--gateway",
        gateway_arg,
        "--state",
        state_arg,
        "connections",
        "-o",
        "json",
    ];
    let (mut wg_runs, mut harmony_runs) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        wg_runs.push(timed(&lab.ns, "wg", &["show", &interface, "dump"]));
        harmony_runs.push(timed(&lab.ns, harmony, &harmony_args));
    }
    let (wg, ours) = (median(wg_runs), median(harmony_runs));
    println!(
        "{peers} peers, {runs} runs each, median wall: `wg show {interface} dump` {:.1} ms, `harmony vpn connections -o json` {:.1} ms: {:.2}x",
        wg.as_secs_f64() * 1000.0,
        ours.as_secs_f64() * 1000.0,
        ours.as_secs_f64() / wg.as_secs_f64()
    );
}
