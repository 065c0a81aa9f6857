//! A real WireGuard tunnel in network namespaces made for the test (client, gateway, and a
//! "cluster" holding the VIPs), with wireguard-go running Harmony's server and client configs and
//! `harmony vpn nft` loaded on the gateway: the member connects, `vpn connections` and `vpn watch`
//! (run on the gateway) name it, only the VIPs' ports answer even when the client widens its own
//! AllowedIPs, and after `peer revoke` and `wg syncconf` the member is cut off and no longer
//! listed. Needs root, wireguard-go, wireguard-tools, nftables and iproute2 (`.ci/install`).
//! Nothing runs in the host's own network namespace.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{gateway_file, root};

/// Answers "ok" on every `address:port` given, until killed.
const LISTENER: &str = r#"
import socket, sys, threading
def serve(host, port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen()
    while True:
        c, _ = s.accept()
        c.sendall(b"ok")
        c.close()
for target in sys.argv[1:]:
    host, port = target.rsplit(":", 1)
    threading.Thread(target=serve, args=(host, int(port)), daemon=True).start()
print("listening", flush=True)
threading.Event().wait()
"#;

/// Exits 0 when `host port` answers "ok" within two seconds.
const PROBE: &str = r#"
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
    sys.exit(0 if c.recv(2) == b"ok" else 1)
except OSError:
    sys.exit(1)
"#;

/// Runs a command to success and returns its stdout.
fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The namespaces and processes of one test; all removed on drop.
struct Lab {
    id: String,
    children: Vec<Child>,
}

impl Lab {
    fn new() -> Self {
        let id = format!("{}", std::process::id() % 100_000);
        let lab = Self {
            id,
            children: Vec::new(),
        };
        for ns in ["c", "g", "k"] {
            run("ip", &["netns", "add", &lab.ns(ns)]);
            lab.ip(ns, &["link", "set", "lo", "up"]);
        }
        lab
    }

    /// The name of namespace `c` (client), `g` (gateway) or `k` (cluster).
    fn ns(&self, which: &str) -> String {
        format!("hm{}{which}", self.id)
    }

    fn ip(&self, ns: &str, args: &[&str]) -> String {
        let mut all = vec!["-n".to_string(), self.ns(ns)];
        all.extend(args.iter().map(|a| a.to_string()));
        run("ip", &all.iter().map(String::as_str).collect::<Vec<_>>())
    }

    /// `ip netns exec NS program args...`
    fn exec(&self, ns: &str, program: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.ns(ns), program])
            .args(args);
        cmd
    }

    fn spawn(&mut self, mut cmd: Command) -> &mut Child {
        let child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        self.children.push(child);
        self.children.last_mut().unwrap()
    }

    /// Starts wireguard-go for `interface` in `ns` and waits for its control socket.
    fn wireguard(&mut self, ns: &str, interface: &str) {
        let mut cmd = self.exec(ns, "wireguard-go", &["-f", interface]);
        cmd.env("WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD", "1");
        self.spawn(cmd);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self
            .exec(ns, "wg", &["show", interface])
            .output()
            .unwrap()
            .status
            .success()
        {
            assert!(
                Instant::now() < deadline,
                "wireguard-go did not bring up {interface}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Whether the client reaches `host:port` through whatever routes it has.
    fn reaches(&self, host: &str, port: u16) -> bool {
        self.exec("c", "python3", &["-c", PROBE, host, &port.to_string()])
            .status()
            .unwrap()
            .success()
    }

    /// `harmony vpn --gateway G --state S ARGS...` run in the gateway's namespace.
    fn harmony(&self, gateway: &Path, state: &Path, args: &[&str]) -> std::process::Output {
        let harmony = assert_cmd::cargo::cargo_bin("harmony");
        self.exec("g", harmony.to_str().unwrap(), &["vpn", "--gateway"])
            .arg(gateway)
            .arg("--state")
            .arg(state)
            .args(args)
            .env("USER", "operator")
            .output()
            .unwrap()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        // SIGTERM first, so that wireguard-go removes its control socket.
        for child in &mut self.children {
            let _ = Command::new("kill").arg(child.id().to_string()).status();
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        for child in &mut self.children {
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        for ns in ["c", "g", "k"] {
            let _ = Command::new("ip")
                .args(["netns", "del", &self.ns(ns)])
                .status();
        }
    }
}

fn ok(out: &std::process::Output) -> String {
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_member_connects_reaches_only_the_vips_and_is_cut_off_when_revoked() {
    let tmp = tempfile::tempdir().unwrap();
    let mut lab = Lab::new();
    let (gw_if, client_if) = (format!("hmg{}", lab.id), format!("hmc{}", lab.id));

    // Links: client 172.31.1.1 <-> 172.31.1.2 gateway 172.31.2.1 <-> 172.31.2.2 cluster, whose
    // loopback holds the VIPs 192.0.2.10 and .20 and a non-VIP, 192.0.2.99.
    let (c, g, k) = (lab.ns("c"), lab.ns("g"), lab.ns("k"));
    run(
        "ip",
        &[
            "-n", &c, "link", "add", "v", "type", "veth", "peer", "name", "vc", "netns", &g,
        ],
    );
    run(
        "ip",
        &[
            "-n", &g, "link", "add", "vk", "type", "veth", "peer", "name", "v", "netns", &k,
        ],
    );
    for (ns, dev, address) in [
        ("c", "v", "172.31.1.1/30"),
        ("g", "vc", "172.31.1.2/30"),
        ("g", "vk", "172.31.2.1/24"),
        ("k", "v", "172.31.2.2/24"),
    ] {
        lab.ip(ns, &["addr", "add", address, "dev", dev]);
        lab.ip(ns, &["link", "set", dev, "up"]);
    }
    for vip in ["192.0.2.10/32", "192.0.2.20/32", "192.0.2.99/32"] {
        lab.ip("k", &["addr", "add", vip, "dev", "lo"]);
    }
    lab.ip("g", &["route", "add", "192.0.2.0/24", "via", "172.31.2.2"]);
    lab.ip("k", &["route", "add", "10.99.0.0/24", "via", "172.31.2.1"]);
    ok(&lab
        .exec("g", "sysctl", &["-qw", "net.ipv4.ip_forward=1"])
        .output()
        .unwrap());
    let mut listener = lab.exec(
        "k",
        "python3",
        &[
            "-c",
            LISTENER,
            "192.0.2.10:6443",
            "192.0.2.10:443",
            "192.0.2.10:22",
            "192.0.2.20:443",
            "192.0.2.20:6443",
            "192.0.2.99:443",
        ],
    );
    listener.stdin(Stdio::null());
    let child = lab.spawn(listener);
    let mut ready = [0u8; 9];
    std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut ready).unwrap();
    assert_eq!(&ready, b"listening");

    // Harmony's gateway, registry and configs.
    let gateway = gateway_file(
        tmp.path(),
        "172.31.1.2:51820",
        &gw_if,
        "10.99.0.0/24",
        "    - address: 192.0.2.10\n    - address: 192.0.2.20\n      ports: [443]\n",
    );
    let state = tmp.path().join("state");
    let client_conf = tmp.path().join("alice.conf");
    let tenants = root().join("examples/tenants");
    ok(&lab.harmony(
        &gateway,
        &state,
        &[
            "peer",
            "add",
            "--tenant",
            "acme",
            "--member",
            "alice",
            "-f",
            tenants.to_str().unwrap(),
            "--out",
            client_conf.to_str().unwrap(),
        ],
    ));
    let server_conf = tmp.path().join("server.conf");
    ok(&lab.harmony(
        &gateway,
        &state,
        &["server-config", "--out", server_conf.to_str().unwrap()],
    ));
    let stripped = |path: &Path| {
        let file = tmp.path().join(format!(
            "{}.stripped",
            path.file_name().unwrap().to_string_lossy()
        ));
        std::fs::write(&file, run("wg-quick", &["strip", path.to_str().unwrap()])).unwrap();
        file
    };

    // The gateway: wireguard-go with the server config, its tunnel address, no nftables yet.
    lab.wireguard("g", &gw_if);
    ok(&lab
        .exec(
            "g",
            "wg",
            &["setconf", &gw_if, stripped(&server_conf).to_str().unwrap()],
        )
        .output()
        .unwrap());
    lab.ip("g", &["addr", "add", "10.99.0.1/24", "dev", &gw_if]);
    lab.ip("g", &["link", "set", &gw_if, "mtu", "1420", "up"]);

    // The client: wireguard-go with the member's config, routes to its AllowedIPs as wg-quick sets.
    lab.wireguard("c", &client_if);
    ok(&lab
        .exec(
            "c",
            "wg",
            &[
                "setconf",
                &client_if,
                stripped(&client_conf).to_str().unwrap(),
            ],
        )
        .output()
        .unwrap());
    lab.ip("c", &["addr", "add", "10.99.0.2/32", "dev", &client_if]);
    lab.ip("c", &["link", "set", &client_if, "mtu", "1420", "up"]);
    let allowed = ok(&lab
        .exec("c", "wg", &["show", &client_if, "allowed-ips"])
        .output()
        .unwrap());
    let (server_key, nets) = allowed.trim().split_once('\t').unwrap();
    assert_eq!(
        nets, "192.0.2.10/32 192.0.2.20/32",
        "the client routes only the VIPs"
    );
    for net in nets.split(' ') {
        lab.ip("c", &["route", "add", net, "dev", &client_if]);
    }
    assert!(
        lab.reaches("192.0.2.10", 6443),
        "the API VIP through the tunnel"
    );

    // The client widens its own AllowedIPs and routes: without nftables the gateway forwards it.
    ok(&lab
        .exec(
            "c",
            "wg",
            &[
                "set",
                &client_if,
                "peer",
                server_key,
                "allowed-ips",
                "0.0.0.0/0",
            ],
        )
        .output()
        .unwrap());
    lab.ip("c", &["route", "add", "192.0.2.99/32", "dev", &client_if]);
    assert!(
        lab.reaches("192.0.2.99", 443),
        "control: no nftables, the gateway forwards anything"
    );

    // With `harmony vpn nft` loaded only the VIPs' ports answer.
    let rules = tmp.path().join("vpn.nft");
    ok(&lab.harmony(&gateway, &state, &["nft", "--out", rules.to_str().unwrap()]));
    ok(&lab
        .exec("g", "nft", &["-f", rules.to_str().unwrap()])
        .output()
        .unwrap());
    assert!(lab.reaches("192.0.2.10", 6443));
    assert!(lab.reaches("192.0.2.10", 443));
    assert!(lab.reaches("192.0.2.20", 443));
    assert!(!lab.reaches("192.0.2.10", 22), "a VIP's other port");
    assert!(
        !lab.reaches("192.0.2.20", 6443),
        "the console VIP's API port"
    );
    assert!(
        !lab.reaches("192.0.2.99", 443),
        "a cluster address that is no VIP"
    );

    // On the gateway, `vpn connections` names the member with a recent handshake, and `vpn
    // watch` logs the session.
    let out = lab.harmony(&gateway, &state, &["connections", "-o", "json"]);
    let rows: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    let alice = &rows.as_array().unwrap()[0];
    assert_eq!(
        (alice["tenant"].as_str(), alice["member"].as_str()),
        (Some("acme"), Some("alice"))
    );
    assert_eq!(alice["connected"], true, "{rows}");
    assert!(
        alice["endpoint"]
            .as_str()
            .unwrap()
            .starts_with("172.31.1.1:"),
        "{rows}"
    );
    assert!(alice["rxBytes"].as_u64().unwrap() > 0);
    let log = tmp.path().join("sessions.jsonl");
    let out = lab.harmony(
        &gateway,
        &state,
        &["watch", "--count", "1", "--log", log.to_str().unwrap()],
    );
    ok(&out);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains(r#""event":"connected","tenant":"acme","member":"alice""#),
        "{logged}"
    );

    // Revoked and synced: the member is cut off and no longer listed.
    ok(&lab.harmony(
        &gateway,
        &state,
        &["peer", "revoke", "--tenant", "acme", "--member", "alice"],
    ));
    let peers = tmp.path().join("peers.conf");
    ok(&lab.harmony(
        &gateway,
        &state,
        &[
            "server-config",
            "--peer-set",
            "--out",
            peers.to_str().unwrap(),
        ],
    ));
    ok(&lab
        .exec("g", "wg", &["syncconf", &gw_if, peers.to_str().unwrap()])
        .output()
        .unwrap());
    ok(&lab.harmony(&gateway, &state, &["nft", "--out", rules.to_str().unwrap()]));
    ok(&lab
        .exec("g", "nft", &["-f", rules.to_str().unwrap()])
        .output()
        .unwrap());
    assert!(!lab.reaches("192.0.2.10", 6443), "revoked: cut off");
    let out = lab.harmony(&gateway, &state, &["connections", "-o", "json"]);
    let rows: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(rows, serde_json::json!([]), "no longer listed");
}
