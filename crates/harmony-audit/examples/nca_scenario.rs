//! Seeded NetworkPolicy scenarios for the network-config-analyzer cross-check.
//!
//! `nca_scenario generate SEED NAMESPACES DIR`: writes nca input under DIR. Every namespace is a
//! tenant; the every-pod verdicts of HMT-NET-002 are computed, each counterexample is added as
//! two concrete pods and each tenant for which it holds gets sampled pods (labels drawn from the
//! selectors' values plus a fresh one, random named ports); `DIR.every-pod.json` lists them.
//! `nca_scenario compare DIR NCA_OUTPUT`: compares our verdicts with nca's
//! (`nca --connectivity DIR/policies -n DIR/namespaces.yaml -p DIR/pods.yaml -o txt_no_fw_rules`)
//! and requires nca to find each counterexample's path and no path from or to a tenant for which
//! the verdict holds; exits 1 and prints every disagreement.

use std::path::Path;
use std::process::ExitCode;

use harmony_audit::crosscheck::{
    PodPairs, disagreements, parse_nca, pod_connectivity, write_nca_input,
};
use harmony_audit::{AuditConfig, ClusterSnapshot, audit};
use harmony_tenant::{ClusterFacts, TENANT_LABEL};
use serde_json::{Value, json};

/// xorshift64*: small, seeded, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

const TIERS: [&str; 3] = ["web", "db", "ops"];
const ENVS: [&str; 2] = ["prod", "dev"];
const APPS: [&str; 3] = ["api", "worker", "cache"];

fn ns_selector(r: &mut Rng) -> Value {
    match r.below(3) {
        0 => json!({"matchLabels": {"env": r.pick(&ENVS)}}),
        1 => {
            json!({"matchExpressions": [{"key": "tier", "operator": "In", "values": [r.pick(&TIERS), r.pick(&TIERS)]}]})
        }
        _ => {
            json!({"matchExpressions": [{"key": "env", "operator": "NotIn", "values": [r.pick(&ENVS)]}, {"key": "tier", "operator": "Exists"}]})
        }
    }
}

fn pod_selector(r: &mut Rng) -> Value {
    match r.below(3) {
        0 => json!({"matchLabels": {"app": r.pick(&APPS)}}),
        1 => {
            json!({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": [r.pick(&APPS)]}]})
        }
        _ => json!({}),
    }
}

fn peer(r: &mut Rng) -> Value {
    match r.below(4) {
        0 => json!({"namespaceSelector": ns_selector(r)}),
        1 => json!({"podSelector": pod_selector(r)}),
        2 => json!({"namespaceSelector": ns_selector(r), "podSelector": pod_selector(r)}),
        _ => json!({"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}),
    }
}

fn ports(r: &mut Rng) -> Value {
    let one = |r: &mut Rng| match r.below(5) {
        0 => json!({"port": 8080}),
        1 => json!({"port": "http"}),
        2 => json!({"protocol": "UDP", "port": 53}),
        3 => json!({"port": 9000, "endPort": 9000 + r.below(200)}),
        _ => {
            json!({"protocol": "SCTP", "port": r.pick(&["metrics", "7000"]).parse::<u16>().map_or(json!("metrics"), |n| json!(n))})
        }
    };
    let n = r.below(3);
    Value::Array((0..n).map(|_| one(r)).collect())
}

fn rule(r: &mut Rng, key: &str) -> Value {
    let mut rule = json!({});
    if !r.chance(15) {
        let n = 1 + r.below(2);
        rule[key] = Value::Array((0..n).map(|_| peer(r)).collect());
    }
    let p = ports(r);
    if p.as_array().is_some_and(|a| !a.is_empty()) {
        rule["ports"] = p;
    }
    rule
}

fn scenario(seed: u64, namespaces: usize) -> Vec<Value> {
    let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut docs = Vec::new();
    for i in 0..namespaces {
        let ns = format!("ns-{i}");
        docs.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns,
            "labels": {"kubernetes.io/metadata.name": ns, TENANT_LABEL: ns, "tier": r.pick(&TIERS), "env": r.pick(&ENVS)}}}));
        for p in 0..1 + r.below(3) {
            let mut container_ports = vec![
                json!({"name": "http", "containerPort": 8000 + r.below(3) * 40, "protocol": "TCP"}),
            ];
            if r.chance(50) {
                container_ports
                    .push(json!({"name": "metrics", "containerPort": 7000, "protocol": "SCTP"}));
            }
            docs.push(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": format!("pod-{p}"), "namespace": ns,
                "labels": {"app": r.pick(&APPS)}},
                "spec": {"containers": [{"name": "main", "image": "x", "ports": container_ports}]}}));
        }
        // Half the namespaces deny by default, so that some tenants hold for every pod.
        if r.chance(50) {
            docs.push(
                json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": {"name": "default-deny", "namespace": ns},
                "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}),
            );
        }
        for k in 0..r.below(4) {
            let mut spec = json!({"podSelector": pod_selector(&mut r)});
            let types = r.below(4);
            if types < 3 {
                spec["policyTypes"] = json!(
                    [
                        json!(["Ingress"]),
                        json!(["Egress"]),
                        json!(["Ingress", "Egress"])
                    ][types]
                );
            }
            // nca refuses rules of a direction missing from explicit policyTypes.
            for (dir, key, allowed) in [
                ("ingress", "from", types != 1),
                ("egress", "to", types != 0),
            ] {
                if allowed && r.chance(70) {
                    let n = r.below(3);
                    // Without policyTypes the API server defaults Egress only for a non-empty
                    // `egress`; nca also counts `egress: []`. Keep out of that disagreement.
                    if n == 0 && types == 3 && dir == "egress" {
                        continue;
                    }
                    spec[dir] = Value::Array((0..n).map(|_| rule(&mut r, key)).collect());
                }
            }
            docs.push(
                json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": {"name": format!("np-{k}"), "namespace": ns}, "spec": spec}),
            );
        }
    }
    docs
}

fn pod(ns: &str, name: &str, labels: &Value, ports: &[(String, String, u16)]) -> Value {
    let ports: Vec<Value> = ports
        .iter()
        .map(|(n, proto, num)| json!({"name": n, "protocol": proto, "containerPort": num}))
        .collect();
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {"containers": [{"name": "main", "image": "x", "ports": ports}]}})
}

/// Adds to `s` every HMT-NET-002 counterexample as two pods and, for each tenant for which it
/// holds, three sampled pods; returns what nca must confirm.
fn every_pod(s: &mut ClusterSnapshot, r: &mut Rng) -> Result<Value, String> {
    let report = audit(s, &AuditConfig::new(ClusterFacts::kubernetes()));
    let mut docs = Vec::new();
    let (mut paths, mut holds) = (Vec::new(), Vec::new());
    for (k, t) in report.tenants.iter().enumerate() {
        let check = t.checks.iter().find(|c| c.id == "HMT-NET-002");
        let every = check
            .and_then(|c| c.every_pod.as_ref())
            .ok_or("no every-pod verdict")?;
        match &every.counterexample {
            Some(ce) => {
                let (a, b) = (format!("ce-{k}-src"), format!("ce-{k}-dst"));
                let (src, dst) = (&ce.source, &ce.destination);
                docs.push(pod(
                    &src.namespace,
                    &a,
                    &json!(src.labels),
                    &src.named_ports,
                ));
                docs.push(pod(
                    &dst.namespace,
                    &b,
                    &json!(dst.labels),
                    &dst.named_ports,
                ));
                paths.push(json!({"src": format!("{}/{a}", src.namespace), "dst": format!("{}/{b}", dst.namespace),
                    "protocol": ce.protocol, "port": ce.port}));
            }
            None => {
                holds.push(t.namespace.clone());
                for p in 0..3 {
                    let app = r.pick(&[APPS.as_slice(), &["fresh", ""]].concat());
                    let labels = if app.is_empty() {
                        json!({})
                    } else {
                        json!({"app": app})
                    };
                    let mut ports = Vec::new();
                    if r.chance(70) {
                        ports.push(("http".into(), "TCP".into(), 8000 + r.below(200) as u16));
                    }
                    if r.chance(50) {
                        let proto = r.pick(&["SCTP", "TCP", "UDP"]);
                        ports.push(("metrics".into(), proto.into(), 7000 + r.below(3) as u16));
                    }
                    docs.push(pod(&t.namespace, &format!("sample-{p}"), &labels, &ports));
                }
            }
        }
    }
    let text = docs
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join("\n---\n");
    if !text.is_empty() {
        s.load_text(&text, "every-pod").map_err(|e| e.to_string())?;
    }
    Ok(json!({"paths": paths, "holds": holds}))
}

/// What nca contradicts in the every-pod verdicts `expect`.
fn every_pod_disagreements(expect: &Value, theirs: &PodPairs) -> Vec<String> {
    let mut out = Vec::new();
    for p in expect["paths"].as_array().into_iter().flatten() {
        let (src, dst) = (
            p["src"].as_str().unwrap_or_default(),
            p["dst"].as_str().unwrap_or_default(),
        );
        let proto = p["protocol"].as_str().unwrap_or_default();
        let port = p["port"].as_u64().unwrap_or_default() as u16;
        let open = theirs
            .get(&(src.to_string(), dst.to_string()))
            .is_some_and(|c| c.allows(proto, port));
        if !open {
            out.push(format!(
                "counterexample {src} → {dst} on {proto} {port}: nca finds no such path"
            ));
        }
    }
    let holds: Vec<&str> = expect["holds"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let ns = |pod: &str| pod.split('/').next().unwrap_or_default().to_string();
    for ((a, b), c) in theirs {
        let (na, nb) = (ns(a), ns(b));
        if na != nb && (holds.contains(&na.as_str()) || holds.contains(&nb.as_str())) {
            out.push(format!("holds for every pod, yet nca finds {a} → {b}: {c}"));
        }
    }
    out
}

fn run(args: &[String]) -> Result<ExitCode, String> {
    match args {
        [cmd, seed, n, dir] if cmd == "generate" => {
            let seed: u64 = seed
                .parse()
                .map_err(|_| format!("SEED `{seed}` is not a number"))?;
            let n: usize = n
                .parse()
                .map_err(|_| format!("NAMESPACES `{n}` is not a number"))?;
            let text = scenario(seed, n)
                .iter()
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .join("\n---\n");
            let mut s = ClusterSnapshot::default();
            s.load_text(&text, "generated").map_err(|e| e.to_string())?;
            let expect = every_pod(&mut s, &mut Rng(seed | 1))?;
            write_nca_input(&s, Path::new(dir)).map_err(|e| format!("writing {dir}: {e}"))?;
            std::fs::write(format!("{dir}.every-pod.json"), expect.to_string())
                .map_err(|e| format!("writing {dir}.every-pod.json: {e}"))?;
            Ok(ExitCode::SUCCESS)
        }
        [cmd, dir, nca] if cmd == "compare" => {
            let mut s = ClusterSnapshot::default();
            s.load_path(Path::new(dir)).map_err(|e| e.to_string())?;
            let theirs = std::fs::read_to_string(nca).map_err(|e| format!("reading {nca}: {e}"))?;
            let theirs = parse_nca(&theirs)?;
            let expect: Value = std::fs::read_to_string(format!("{dir}.every-pod.json"))
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
                .ok_or_else(|| format!("reading {dir}.every-pod.json"))?;
            let mut diff = disagreements(&pod_connectivity(&s), &theirs);
            diff.extend(every_pod_disagreements(&expect, &theirs));
            for d in &diff {
                println!("DISAGREE {d}");
            }
            println!(
                "{dir}: {} pods, {} every-pod counterexamples, {} tenants holding for every pod, {} disagreements",
                s.pods.len(),
                expect["paths"].as_array().map_or(0, Vec::len),
                expect["holds"].as_array().map_or(0, Vec::len),
                diff.len()
            );
            Ok(if diff.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        _ => {
            Err("usage: nca_scenario generate SEED NAMESPACES DIR | compare DIR NCA_OUTPUT".into())
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    run(&args).unwrap_or_else(|e| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    })
}
