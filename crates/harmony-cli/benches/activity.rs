//! `harmony tenant activity` end to end over a large audit log: MB/s and peak RSS of the
//! process, against `wc -l` and `cat > /dev/null` on the same file, measured in the same run;
//! then the same log gzip'd (as `--audit-log-compress` rotates it), against `gzip -dc`.
//!
//! `cargo bench -p harmony-cli --bench activity`. `BENCH_MB` (default 1024) sizes the log,
//! `BENCH_TENANTS` (default 50) the tenants, `BENCH_RUNS` (default 3) the runs of each command,
//! taking turns; figures are medians. The log is written once into a temporary folder as
//! kube-apiserver writes it with the policy `harmony cluster audit-policy render` renders: tenant
//! members' reads and refused cross-tenant reads at Metadata (some impersonated), their
//! ServiceAccounts, Deployment writes with request and response bodies, the operator's and an
//! admin's requests, and a few `RequestReceived` events from an older policy. Exits non-zero
//! when a report's counts differ from what was written. MB/s are of the uncompressed log.
//!
//! Each command runs under a small wrapper (this binary, re-run with `--measure-child`) that
//! times it and reads its exact peak RSS with `getrusage(RUSAGE_CHILDREN)`, its standard output
//! going to /dev/null (the wrapper's few MiB are a floor of the figure, not added to it).

mod common;
use common::{env_usize, tenant_name, write_tenant_files};
#[path = "common/measure.rs"]
mod measure;
use measure::{Measurement, read_measurement, wrapper_mode};

use std::ffi::OsString;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::{ExitCode, Stdio};
use std::time::Instant;

/// Runs `program args` under the wrapper, its standard output to `out`.
fn measure(program: &str, args: &[&str], out: &Path, scratch: &Path) -> Measurement {
    let report = scratch.join("measurement.txt");
    let status = measure::wrapper(program, args, &report)
        .stdout(File::create(out).expect("the output file"))
        .stderr(Stdio::inherit())
        .status()
        .expect("the wrapper runs");
    assert!(status.success(), "the wrapper failed");
    let run = read_measurement(&report);
    assert_eq!(run.code, 0, "{program} {args:?} failed");
    run
}

/// What the generated log holds, to check the report against.
#[derive(Default)]
struct Written {
    bytes: u64,
    lines: u64,
    earlier_stages: u64,
    tenant_requests: u64,
    refused: u64,
}

/// A Deployment's body, as a request or response object records it.
fn deployment(ns: &str, name: &str, replicas: usize) -> String {
    format!(
        r#"{{"kind":"Deployment","apiVersion":"apps/v1","metadata":{{"name":"{name}","namespace":"{ns}","labels":{{"app":"{name}","tier":"web"}}}},"spec":{{"replicas":{replicas},"selector":{{"matchLabels":{{"app":"{name}"}}}},"template":{{"metadata":{{"labels":{{"app":"{name}","tier":"web"}}}},"spec":{{"securityContext":{{"runAsNonRoot":true,"runAsUser":10001,"seccompProfile":{{"type":"RuntimeDefault"}}}},"containers":[{{"name":"main","image":"registry.example.com/{name}:1.4.2","ports":[{{"name":"http","containerPort":8080,"protocol":"TCP"}}],"resources":{{"requests":{{"cpu":"100m","memory":"128Mi"}},"limits":{{"cpu":"500m","memory":"512Mi"}}}},"securityContext":{{"allowPrivilegeEscalation":false,"capabilities":{{"drop":["ALL"]}}}}}}]}}}},"strategy":{{"type":"RollingUpdate","rollingUpdate":{{"maxUnavailable":"25%","maxSurge":"25%"}}}}}}}}"#
    )
}

/// Writes about `megabytes` MiB of audit events for `tenants` tenants to `path`.
fn write_log(path: &Path, megabytes: usize, tenants: usize) -> Written {
    const RESOURCES: [&str; 6] = [
        "pods",
        "configmaps",
        "services",
        "secrets",
        "persistentvolumeclaims",
        "events",
    ];
    let target = (megabytes as u64) << 20;
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path).expect("the log"));
    let mut written = Written::default();
    let mut i: u64 = 0;
    while written.bytes < target {
        i += 1;
        let t = (i as usize * 7) % tenants;
        let ns = tenant_name(t);
        let other = tenant_name((t + 1) % tenants);
        let micros = i * 1_700;
        let time = format!(
            "2026-12-03T{:02}:{:02}:{:02}.{:06}Z",
            (micros / 3_600_000_000) % 24,
            (micros / 60_000_000) % 60,
            (micros / 1_000_000) % 60,
            micros % 1_000_000
        );
        let id = format!("{:08x}-4b1c-4e0a-9f3d-{:012x}", i as u32, i);
        let resource = RESOURCES[i as usize % RESOURCES.len()];
        let common = |stage: &str, level: &str, verb: &str, uri: &str, user: &str| {
            format!(
                r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"{level}","auditID":"{id}","stage":"{stage}","requestURI":"{uri}","verb":"{verb}","user":{user},"sourceIPs":["10.20.0.{}"],"userAgent":"kubectl/v1.34.4 (linux/amd64) kubernetes/d2d4f7a""#,
                i % 250
            )
        };
        let member = format!(
            r#"{{"username":"owner@t{t}.example","groups":["system:authenticated"],"extra":{{"authentication.kubernetes.io/credential-id":["X509SHA256=7d3c{i:x}"]}}}}"#
        );
        let tail = |resource: &str, ns: &str, code: u16, name: &str| {
            let status = if code == 403 {
                format!(
                    r#"{{"metadata":{{}},"status":"Failure","message":"{resource} is forbidden: User \"owner@t{t}.example\" cannot list resource \"{resource}\" in API group \"\" in the namespace \"{ns}\"","reason":"Forbidden","details":{{"kind":"{resource}"}},"code":403}}"#
                )
            } else {
                format!(r#"{{"metadata":{{}},"code":{code}}}"#)
            };
            format!(
                r#","objectRef":{{"resource":"{resource}","namespace":"{ns}","name":"{name}","apiVersion":"v1"}},"responseStatus":{status},"requestReceivedTimestamp":"{time}","stageTimestamp":"{time}","annotations":{{"authorization.k8s.io/decision":"{}","authorization.k8s.io/reason":"RBAC: allowed by RoleBinding \"member-owner/{ns}\" of Role \"tenant-admin\" to User \"owner@t{t}.example\""}}}}"#,
                if code == 403 { "forbid" } else { "allow" }
            )
        };
        let line = match i % 20 {
            // A member's reads in its namespace.
            0..=8 => {
                written.tenant_requests += 1;
                common(
                    "ResponseComplete",
                    "Metadata",
                    "list",
                    &format!("/api/v1/namespaces/{ns}/{resource}?limit=500"),
                    &member,
                ) + &tail(resource, &ns, 200, "")
            }
            // The same, impersonated by an admin.
            9 => {
                written.tenant_requests += 1;
                common(
                    "ResponseComplete",
                    "Metadata",
                    "get",
                    &format!("/api/v1/namespaces/{ns}/{resource}/item-{i}"),
                    r#"{"username":"kubernetes-admin","groups":["system:masters","system:authenticated"]}"#,
                ) + &format!(r#","impersonatedUser":{member}"#)
                    + &tail(resource, &ns, 200, &format!("item-{i}"))
            }
            // Its ServiceAccount.
            10 | 11 => {
                written.tenant_requests += 1;
                common(
                    "ResponseComplete",
                    "Metadata",
                    "watch",
                    &format!("/api/v1/namespaces/{ns}/configmaps?watch=true"),
                    &format!(
                        r#"{{"username":"system:serviceaccount:{ns}:ci","uid":"{id}","groups":["system:serviceaccounts","system:serviceaccounts:{ns}","system:authenticated"]}}"#
                    ),
                ) + &tail("configmaps", &ns, 200, "")
            }
            // A Deployment patched: request and response bodies.
            12 | 13 => {
                written.tenant_requests += 1;
                let name = format!("web-{}", i % 40);
                let mut line = common(
                    "ResponseComplete",
                    "RequestResponse",
                    "patch",
                    &format!(
                        "/apis/apps/v1/namespaces/{ns}/deployments/{name}?fieldManager=kubectl"
                    ),
                    &format!(
                        r#"{{"username":"dev{}@t{t}.example","groups":["t{t}-devs","system:authenticated"]}}"#,
                        i % 5
                    ),
                );
                line += &format!(
                    r#","objectRef":{{"resource":"deployments","namespace":"{ns}","name":"{name}","apiGroup":"apps","apiVersion":"v1"}},"responseStatus":{{"metadata":{{}},"code":200}},"requestObject":{},"responseObject":{},"requestReceivedTimestamp":"{time}","stageTimestamp":"{time}"}}"#,
                    deployment(&ns, &name, 2),
                    deployment(&ns, &name, 3)
                );
                line
            }
            // A refused look at the next tenant's namespace.
            14 => {
                written.tenant_requests += 1;
                written.refused += 1;
                common(
                    "ResponseComplete",
                    "Metadata",
                    "list",
                    &format!("/api/v1/namespaces/{other}/secrets"),
                    &member,
                ) + &tail("secrets", &other, 403, "")
            }
            // The same request's first stage, from a policy that did not omit it.
            15 => {
                written.earlier_stages += 1;
                common(
                    "RequestReceived",
                    "Metadata",
                    "list",
                    &format!("/api/v1/namespaces/{ns}/pods"),
                    &member,
                ) + &format!(
                    r#","objectRef":{{"resource":"pods","namespace":"{ns}","apiVersion":"v1"}},"requestReceivedTimestamp":"{time}","stageTimestamp":"{time}"}}"#
                )
            }
            // The operator and an admin: no tenant's.
            _ => {
                common(
                    "ResponseComplete",
                    "Metadata",
                    "get",
                    &format!("/api/v1/namespaces/{ns}/resourcequotas/tenant-quota"),
                    r#"{"username":"system:serviceaccount:harmony-system:harmony-operator","groups":["system:serviceaccounts","system:serviceaccounts:harmony-system","system:authenticated"]}"#,
                ) + &tail("resourcequotas", &ns, 200, "tenant-quota")
            }
        };
        out.write_all(line.as_bytes()).expect("write the log");
        out.write_all(b"\n").expect("write the log");
        written.bytes += line.len() as u64 + 1;
        written.lines += 1;
    }
    out.flush().expect("write the log");
    written
}

/// Whether the report at `path` counts what was written; says what differs.
fn report_matches(path: &Path, written: &Written) -> bool {
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path).expect("the report")).expect("JSON");
    let counts = &json["counts"];
    let refused: u64 = json["tenants"]
        .as_array()
        .expect("tenants")
        .iter()
        .map(|t| t["refused"].as_u64().unwrap_or(0))
        .sum();
    let mut ok = true;
    for (key, found, value) in [
        ("lines", counts["lines"].as_u64(), written.lines),
        (
            "earlierStages",
            counts["earlierStages"].as_u64(),
            written.earlier_stages,
        ),
        (
            "attributed",
            counts["attributed"].as_u64(),
            written.tenant_requests,
        ),
        ("malformed", counts["malformed"].as_u64(), 0),
        ("refused", Some(refused), written.refused),
    ] {
        if found != Some(value) {
            eprintln!("{key}: {found:?} in the report, {value} written");
            ok = false;
        }
    }
    ok
}

/// One line per command: wall, MB/s of the uncompressed `mb`, peak RSS.
fn print_runs(mb: f64, runs: &[(&str, &Measurement)]) {
    for (name, run) in runs {
        println!(
            "  {name:<34} {:>6.2} s  {:>7.0} MB/s  peak RSS {:>6.1} MiB",
            run.wall.as_secs_f64(),
            mb / run.wall.as_secs_f64(),
            run.peak_rss_kib as f64 / 1024.0
        );
    }
}

fn median(runs: &mut [Measurement]) -> &Measurement {
    runs.sort_by_key(|r| r.wall);
    &runs[runs.len() / 2]
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    if let Some(code) = wrapper_mode(&args) {
        return code;
    }
    let megabytes = env_usize("BENCH_MB", 1024);
    let tenants = env_usize("BENCH_TENANTS", 50);
    let runs = env_usize("BENCH_RUNS", 3).max(1);
    let harmony = env!("CARGO_BIN_EXE_harmony");
    let scratch = tempfile::tempdir().expect("scratch folder");
    let tenant_dir = write_tenant_files(&scratch.path().join("tenants"), tenants);
    let log = scratch.path().join("audit.log");
    let started = Instant::now();
    let written = write_log(&log, megabytes, tenants);
    let mb = written.bytes as f64 / 1e6;
    println!(
        "audit log: {mb:.0} MB, {} lines, {} tenants, written in {:.1} s",
        written.lines,
        tenants,
        started.elapsed().as_secs_f64()
    );
    let (log_arg, tenant_arg) = (log.to_str().unwrap(), tenant_dir.to_str().unwrap());
    let report = scratch.path().join("report.json");
    let null = Path::new("/dev/null");
    let activity = [
        "tenant",
        "activity",
        "--audit-log",
        log_arg,
        "-f",
        tenant_arg,
        "-o",
        "json",
    ];
    let (mut ours, mut wc, mut cat) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        wc.push(measure("wc", &["-l", log_arg], null, scratch.path()));
        cat.push(measure("cat", &[log_arg], null, scratch.path()));
        ours.push(measure(harmony, &activity, &report, scratch.path()));
    }
    let mut ok = report_matches(&report, &written);
    let (ours, wc, cat) = (median(&mut ours), median(&mut wc), median(&mut cat));
    println!("plain, median of {runs} runs each, taking turns:");
    print_runs(
        mb,
        &[
            ("harmony tenant activity -o json", ours),
            ("wc -l", wc),
            ("cat > /dev/null", cat),
        ],
    );
    println!(
        "  harmony / wc -l: {:.2}x the time; harmony / cat: {:.2}x",
        ours.wall.as_secs_f64() / wc.wall.as_secs_f64(),
        ours.wall.as_secs_f64() / cat.wall.as_secs_f64()
    );

    let gz = scratch.path().join("audit-2026-12-03T00-00-00.000.log.gz");
    let started = Instant::now();
    let mut encoder = flate2::write::GzEncoder::new(
        BufWriter::with_capacity(1 << 20, File::create(&gz).expect("the gzip log")),
        flate2::Compression::fast(),
    );
    std::io::copy(&mut File::open(&log).expect("the log"), &mut encoder).expect("gzip");
    encoder.finish().expect("gzip").flush().expect("gzip");
    std::fs::remove_file(&log).expect("remove the plain log");
    let gz_mb = std::fs::metadata(&gz).expect("the gzip log").len() as f64 / 1e6;
    println!(
        "gzip'd: {gz_mb:.0} MB, in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let gz_arg = gz.to_str().unwrap();
    let activity_gz = [
        "tenant",
        "activity",
        "--audit-log",
        gz_arg,
        "-f",
        tenant_arg,
        "-o",
        "json",
    ];
    let (mut ours, mut gunzip) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        gunzip.push(measure("gzip", &["-dc", gz_arg], null, scratch.path()));
        ours.push(measure(harmony, &activity_gz, &report, scratch.path()));
    }
    ok &= report_matches(&report, &written);
    let (ours, gunzip) = (median(&mut ours), median(&mut gunzip));
    println!("gzip, median of {runs} runs each, taking turns:");
    print_runs(
        mb,
        &[
            ("harmony tenant activity -o json", ours),
            ("gzip -dc > /dev/null", gunzip),
        ],
    );
    println!(
        "  harmony / gzip -dc: {:.2}x the time",
        ours.wall.as_secs_f64() / gunzip.wall.as_secs_f64()
    );
    if ok {
        ExitCode::SUCCESS
    } else {
        eprintln!("the report's counts differ from the log written");
        ExitCode::FAILURE
    }
}
