//! Renders generated tenants end to end (parse, validate, compile, encode, write a manifest
//! folder) at 100 and 1,000 tenants, and reports CPU time, peak memory and per-tenant ratios.
//!
//! Run: `cargo bench -p harmony-manifests --bench render`

use std::fs;
use std::time::Instant;

use harmony::{Documents, Topology};
use harmony_manifests::{ManifestTopology, manifest_files};
use harmony_tenant::{ClusterFacts, TenantManager, compile, load_tenants};

/// A multi-document tenant file of `n` tenants with members of every kind and some storage.
fn tenant_file(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "---\napiVersion: harmony.nationtech.io/v1alpha1\nkind: Tenant\nmetadata:\n  name: tenant-{i}\nspec:\n  \
                 resourceQuotas:\n    requests: {{ cpu: \"4\", memory: 8Gi }}\n    limits: {{ cpu: \"8\", memory: 16Gi }}\n  \
                 networkIsolation:\n    allowEgressTo: [\"203.0.{}.0/24\"]\n  storageAccess:\n    storageClasses:\n      \
                 - {{ name: standard, requests: {}Gi }}\n  rbac:\n    members:\n      \
                 - {{ name: admin, role: admin, user: admin@t{i}.example }}\n      \
                 - {{ name: devs, role: developer, group: t{i}-devs }}\n      \
                 - {{ name: ci, role: developer, serviceAccount: true }}\n    selfService: {{ roleBindings: {} }}\n",
                i % 250,
                10 + i % 90,
                i % 2 == 0
            )
        })
        .collect()
}

/// CPU time (user + system) of this process so far, in seconds.
fn cpu_seconds() -> f64 {
    let stat = fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0 // utime, stime; USER_HZ is 100 on Linux
}

/// Peak resident memory of this process so far, in MiB.
fn peak_mib() -> f64 {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

struct Run {
    wall: f64,
    cpu: f64,
    parse: f64,
    compile_encode: f64,
    write: f64,
    objects: usize,
}

fn run(n: usize, runtime: &tokio::runtime::Runtime) -> Run {
    let text = tenant_file(n);
    let facts = ClusterFacts::kubernetes();
    let out = tempfile::tempdir().expect("temp dir");
    let (cpu0, t0) = (cpu_seconds(), Instant::now());

    let documents = Documents::parse("bench.yaml", &text).expect("generated YAML parses");
    let scores = load_tenants(&documents, &facts).expect("generated tenants are valid");
    let t1 = Instant::now();

    let plans: Vec<_> = scores.iter().map(|s| compile(s, &facts)).collect();
    let files: usize = plans.iter().map(|p| manifest_files(p).len()).sum();
    let t2 = Instant::now();

    let topology = ManifestTopology::new(out.path(), facts);
    runtime.block_on(async {
        topology.ensure_ready().await.expect("out is writable");
        for plan in &plans {
            topology.ensure_tenant(plan).await.expect("written");
        }
    });
    let t3 = Instant::now();
    assert!(files > n * 15);
    Run {
        wall: (t3 - t0).as_secs_f64(),
        cpu: cpu_seconds() - cpu0,
        parse: (t1 - t0).as_secs_f64(),
        compile_encode: (t2 - t1).as_secs_f64(),
        write: (t3 - t2).as_secs_f64(),
        objects: plans.iter().map(|p| p.objects().len()).sum(),
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    run(10, &runtime); // warm-up
    let small = run(100, &runtime);
    let large = run(1000, &runtime);
    for (n, r) in [(100, &small), (1000, &large)] {
        println!(
            "{n:>5} tenants ({} objects): wall {:.3} s, CPU {:.2} s; parse+validate {:.3} s, \
             compile+encode {:.3} s, write {:.3} s; {:.2} ms per tenant",
            r.objects,
            r.wall,
            r.cpu,
            r.parse,
            r.compile_encode,
            r.write,
            r.wall * 1000.0 / n as f64
        );
    }
    println!(
        "scaling: 1,000 tenants took {:.1}x the time of 100 (10x = linear)",
        large.wall / small.wall
    );
    println!("peak memory (VmHWM): {:.1} MiB", peak_mib());
}
