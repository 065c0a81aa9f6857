//! `harmony audit -f DIR` end to end, as a user runs it: folders of rendered tenants plus Pod
//! manifests, audited by the `harmony` process (folder loading included), and the same objects
//! through network-config-analyzer (`nca`), whose pod-pair verdicts must equal ours.
//!
//! `cargo bench -p harmony-cli --bench audit_scale`. `BENCH_SIZES` (default `500x10,5000x10`:
//! tenants x pods per tenant), `BENCH_RUNS` (default 3, or 2 for folders of more than 10,000
//! pods; the median of an even count is the slower middle run), `NCA_SIZE` (default `100x5`),
//! `NCA` (default `.venv-nca/bin/nca` in the workspace, installed by `.ci/install`; a missing nca
//! fails the bench), `NCA_RUNS` (default 3: harmony's audit, its matrix and nca take turns, and
//! the ratios are of their medians). Exits non-zero when nca's verdicts differ from ours on any
//! pod pair.
//!
//! Each folder is made as a user would: tenant files rendered by `harmony tenant render --out
//! DIR` (a process), then one Pod manifest per file in each tenant's folder. Every measured
//! process is started by a small wrapper (this binary, re-run with `--measure-child`) that times
//! it from spawn to exit and reads its exact peak RSS with `getrusage(RUSAGE_CHILDREN)` (the
//! kernel's high-water mark of its only child, no sampling; `unsafe` is denied in this
//! workspace, so no `wait4` by hand). The child is spawned from the wrapper's few MiB, which
//! are therefore a floor of the figure, not added to it.

mod common;
use common::{env_usize, tenant_name, write_tenant_files};
#[path = "common/measure.rs"]
mod measure;
use measure::{Measurement, read_measurement, wrapper_mode};

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use harmony_audit::ClusterSnapshot;
use harmony_audit::crosscheck::{
    PodPairs, disagreements, parse_nca, pod_connectivity, write_nca_input,
};
use harmony_audit::netpol::Conn;
use harmony_audit::snapshot::is_synthesized;
use harmony_tenant::{ClusterFacts, ClusterFlavor};

/// One measured process.
struct Run {
    wall: Duration,
    peak_rss_kib: u64,
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `program args` under the wrapper and returns what it measured.
fn measure(program: &Path, args: &[&OsStr], scratch: &Path) -> Run {
    let report = scratch.join("measurement.txt");
    let _ = std::fs::remove_file(&report);
    let output = measure::wrapper(program, args, &report)
        .output()
        .expect("the wrapper runs");
    assert!(
        output.status.success(),
        "the wrapper failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let Measurement {
        wall,
        peak_rss_kib,
        code,
    } = read_measurement(&report);
    Run {
        wall,
        peak_rss_kib,
        code,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Pod `p` of namespace `ns`: restricted-PSA compliant, labels `app` and `tier`, a named port
/// `http` on two pods out of three.
fn pod_manifest(ns: &str, p: usize) -> String {
    let app = format!("app-{}", p % 3);
    let tier = if p.is_multiple_of(2) { "web" } else { "db" };
    let ports = if p % 3 == 2 {
        String::new()
    } else {
        "\n      ports:\n        - { name: http, containerPort: 8080, protocol: TCP }".into()
    };
    format!(
        "apiVersion: v1
kind: Pod
metadata:
  name: {app}-{p}
  namespace: {ns}
  labels: {{ app: {app}, tier: {tier} }}
spec:
  securityContext:
    runAsNonRoot: true
    runAsUser: 10001
    seccompProfile: {{ type: RuntimeDefault }}
  containers:
    - name: main
      image: registry.example.com/{app}:1.0{ports}
      securityContext:
        allowPrivilegeEscalation: false
        capabilities: {{ drop: [ALL] }}
      resources:
        requests: {{ cpu: 100m, memory: 128Mi }}
        limits: {{ cpu: 500m, memory: 512Mi }}
"
    )
}

/// A rendered folder of `tenants` tenants with `pods` pods each, under `root/out`; its number of
/// manifest files (as the audit counts them: kustomization.yaml skipped) and the render's wall.
fn make_folder(
    harmony: &Path,
    root: &Path,
    tenants: usize,
    pods: usize,
) -> (PathBuf, usize, Duration) {
    let files = write_tenant_files(&root.join("tenants"), tenants);
    let out = root.join("out");
    let started = Instant::now();
    let render = Command::new(harmony)
        .args(["tenant", "render", "-f"])
        .arg(&files)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("harmony tenant render runs");
    let render_wall = started.elapsed();
    assert!(
        render.status.success(),
        "harmony tenant render failed: {}",
        String::from_utf8_lossy(&render.stderr)
    );
    for i in 0..tenants {
        let ns = tenant_name(i);
        let folder = out.join(&ns);
        assert!(
            folder.is_dir(),
            "render wrote no folder {}",
            folder.display()
        );
        for p in 0..pods {
            std::fs::write(
                folder.join(format!("70-pod-app-{}-{p}.yaml", p % 3)),
                pod_manifest(&ns, p),
            )
            .expect("pod manifest");
        }
    }
    (out.clone(), count_manifests(&out), render_wall)
}

fn count_manifests(dir: &Path) -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir(dir).expect("read folder") {
        let path = entry.expect("folder entry").path();
        if path.is_dir() {
            n += count_manifests(&path);
        } else if path.file_name() != Some(OsStr::new("kustomization.yaml"))
            && path
                .extension()
                .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        {
            n += 1;
        }
    }
    n
}

/// The last line of the audit's text report: `N tenants, X checks passed, Y warned, Z failed`.
fn summary_line(stdout: &str) -> String {
    stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("(no output)")
        .to_string()
}

/// What one command did over several runs.
struct Measured {
    label: String,
    size: String,
    files: String,
    runs: Vec<Run>,
    result: String,
    target: String,
}

impl Measured {
    fn median(&self) -> Duration {
        let mut walls: Vec<Duration> = self.runs.iter().map(|r| r.wall).collect();
        walls.sort();
        walls[walls.len() / 2]
    }

    fn peak_rss_mib(&self) -> f64 {
        self.runs.iter().map(|r| r.peak_rss_kib).max().unwrap_or(0) as f64 / 1024.0
    }

    fn codes(&self) -> String {
        let mut codes: Vec<i32> = self.runs.iter().map(|r| r.code).collect();
        codes.dedup();
        codes
            .iter()
            .map(i32::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }

    fn print(&self) {
        let walls: Vec<String> = self
            .runs
            .iter()
            .map(|r| format!("{:.3}", r.wall.as_secs_f64()))
            .collect();
        println!(
            "{} [{}]: {}; runs {} s; median {:.3} s; peak RSS {:.1} MiB; exit {}; {}",
            self.label,
            self.size,
            self.files,
            walls.join(", "),
            self.median().as_secs_f64(),
            self.peak_rss_mib(),
            self.codes(),
            self.result
        );
    }
}

/// Runs `harmony ARGS` `runs` times; exit codes other than 0 and 1 (an error) fail the bench.
fn harmony_runs(harmony: &Path, args: &[&OsStr], runs: usize, scratch: &Path) -> Vec<Run> {
    (0..runs)
        .map(|_| {
            let run = measure(harmony, args, scratch);
            assert!(
                run.code == 0 || run.code == 1,
                "harmony {args:?} exited {}: {}",
                run.code,
                run.stderr
            );
            run
        })
        .collect()
}

/// `500x10` → (500, 10).
fn parse_size(text: &str) -> (usize, usize) {
    let (t, p) = text
        .trim()
        .split_once('x')
        .unwrap_or_else(|| panic!("size `{text}` is not TENANTSxPODS"));
    let number = |s: &str| {
        s.parse::<usize>()
            .unwrap_or_else(|_| panic!("size `{text}` is not TENANTSxPODS"))
    };
    (number(t), number(p))
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What `harmony audit matrix --pods -o json` labels a connection.
fn matrix_label(conn: &Conn) -> String {
    if conn.is_all() {
        "all".into()
    } else if conn.is_empty() {
        "none".into()
    } else {
        conn.to_string()
    }
}

/// Pairs of the matrix's JSON `pods` (open connections only) against nca's on the same pods.
fn matrix_disagreements(
    matrix_json: &str,
    theirs: &PodPairs,
    real: &[String],
) -> (usize, Vec<String>) {
    let json: serde_json::Value = serde_json::from_str(matrix_json).expect("matrix JSON");
    let ours: BTreeMap<(String, String), String> = json["pods"]
        .as_array()
        .expect("the matrix's `pods`")
        .iter()
        .filter(|p| p["connection"] != "none")
        .map(|p| {
            let s = |k: &str| p[k].as_str().expect("a pod").to_string();
            ((s("source"), s("destination")), s("connection"))
        })
        .collect();
    let real: std::collections::BTreeSet<&str> = real.iter().map(String::as_str).collect();
    let nca: BTreeMap<(String, String), String> = theirs
        .iter()
        .filter(|((a, b), c)| {
            real.contains(a.as_str()) && real.contains(b.as_str()) && !c.is_empty()
        })
        .map(|(k, c)| (k.clone(), matrix_label(c)))
        .collect();
    let keys: std::collections::BTreeSet<_> = ours.keys().chain(nca.keys()).collect();
    let none = "none".to_string();
    let diff = keys
        .into_iter()
        .filter_map(|k| {
            let (a, b) = (ours.get(k).unwrap_or(&none), nca.get(k).unwrap_or(&none));
            (a != b).then(|| format!("{} → {}: matrix `{a}`, nca `{b}`", k.0, k.1))
        })
        .collect();
    (ours.len(), diff)
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    if let Some(code) = wrapper_mode(&args) {
        return code;
    }
    let harmony = Path::new(env!("CARGO_BIN_EXE_harmony"));
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let nca =
        std::env::var_os("NCA").map_or_else(|| workspace.join(".venv-nca/bin/nca"), PathBuf::from);
    assert!(
        nca.is_file(),
        "network-config-analyzer not found at {}: run `bash .ci/install` (it installs nca in \
         .venv-nca), or set NCA=/path/to/nca",
        nca.display()
    );
    let sizes: Vec<(usize, usize)> = std::env::var("BENCH_SIZES")
        .unwrap_or_else(|_| "500x10,5000x10".into())
        .split(',')
        .map(parse_size)
        .collect();
    let dir = tempfile::tempdir().expect("temp dir");
    let scratch = dir.path();
    let mut rows: Vec<Measured> = Vec::new();
    println!(
        "{} cores; harmony {}",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        harmony.display()
    );

    for &(tenants, pods) in &sizes {
        let root = scratch.join(format!("{tenants}x{pods}"));
        let (out, files, render) = make_folder(harmony, &root, tenants, pods);
        println!(
            "{tenants} tenants x {pods} pods: {} manifest files (harmony tenant render: {:.2} s)",
            thousands(files),
            render.as_secs_f64()
        );
        let runs = env_usize("BENCH_RUNS", if tenants * pods > 10_000 { 2 } else { 3 });
        let audit = harmony_runs(
            harmony,
            &[OsStr::new("audit"), OsStr::new("-f"), out.as_os_str()],
            runs,
            scratch,
        );
        let result = summary_line(&audit[0].stdout);
        let mut measured = Measured {
            label: "harmony audit -f DIR".into(),
            size: format!("{tenants}x{pods}"),
            files: format!("{} files", thousands(files)),
            runs: audit,
            result,
            target: String::new(),
        };
        // Issue 12 §3's targets, for the sizes it names.
        let met = |ok: bool| if ok { "met" } else { "NOT met" };
        let (wall, mib) = (measured.median().as_secs_f64(), measured.peak_rss_mib());
        measured.target = match (tenants, pods) {
            (500, 10) => format!("< 1 s: {}", met(wall < 1.0)),
            (5000, 10) => format!("< 10 s, < 500 MiB: {}", met(wall < 10.0 && mib < 500.0)),
            _ => "-".into(),
        };
        measured.print();
        rows.push(measured);
        std::fs::remove_dir_all(&root).expect("remove the folder");
    }

    // network-config-analyzer on the same objects.
    let (tenants, pods) = parse_size(&std::env::var("NCA_SIZE").unwrap_or_else(|_| "100x5".into()));
    let root = scratch.join("nca");
    let (out, files, _) = make_folder(harmony, &root, tenants, pods);
    let size = format!("{tenants}x{pods}");
    // The objects the CLI audits: the folder, the platform's peers and placeholder pods.
    let facts = ClusterFacts::for_flavor(ClusterFlavor::Kubernetes);
    let mut snapshot = ClusterSnapshot::default();
    snapshot.load_path(&out).expect("load the folder");
    snapshot.add_platform(&facts);
    snapshot.add_placeholder_pods();
    let input = root.join("nca-input");
    write_nca_input(&snapshot, &input).expect("write nca input");
    let nca_out = root.join("nca.txt");
    let (policies, namespaces, pod_file) = (
        input.join("policies"),
        input.join("namespaces.yaml"),
        input.join("pods.yaml"),
    );
    let nca_args = [
        OsStr::new("--connectivity"),
        policies.as_os_str(),
        OsStr::new("-n"),
        namespaces.as_os_str(),
        OsStr::new("-p"),
        pod_file.as_os_str(),
        OsStr::new("-o"),
        OsStr::new("txt_no_fw_rules"),
        OsStr::new("-f"),
        nca_out.as_os_str(),
    ];
    let audit_args = [OsStr::new("audit"), OsStr::new("-f"), out.as_os_str()];
    let matrix_args = [
        OsStr::new("audit"),
        OsStr::new("matrix"),
        OsStr::new("--pods"),
        OsStr::new("-o"),
        OsStr::new("json"),
        OsStr::new("-f"),
        out.as_os_str(),
    ];
    // The three commands take turns, so the machine's pace drifts alike for all of them.
    let (mut audit, mut matrix, mut nca_runs) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..env_usize("NCA_RUNS", 3) {
        audit.extend(harmony_runs(harmony, &audit_args, 1, scratch));
        matrix.extend(harmony_runs(harmony, &matrix_args, 1, scratch));
        // nca appends to its output file.
        let _ = std::fs::remove_file(&nca_out);
        let nca_run = measure(&nca, &nca_args, scratch);
        assert_eq!(
            nca_run.code, 0,
            "nca failed: {}{}",
            nca_run.stdout, nca_run.stderr
        );
        nca_runs.push(nca_run);
    }
    let theirs = parse_nca(&std::fs::read_to_string(&nca_out).expect("nca output"))
        .expect("parse nca's output");
    let ours = pod_connectivity(&snapshot);
    let diff = disagreements(&ours, &theirs);
    let real: Vec<String> = snapshot
        .pods
        .iter()
        .filter(|p| !is_synthesized(p))
        .map(|p| {
            format!(
                "{}/{}",
                p.metadata.namespace.as_deref().unwrap_or_default(),
                p.metadata.name.as_deref().unwrap_or_default()
            )
        })
        .collect();
    let (matrix_open, matrix_diff) =
        matrix_disagreements(&matrix[matrix.len() - 1].stdout, &theirs, &real);
    let pods_all = snapshot.pods.len();
    let pairs = pods_all * (pods_all - 1);
    let verdict = if diff.is_empty() {
        format!(
            "identical verdicts on all {} ordered pod pairs ({} allowed)",
            thousands(pairs),
            thousands(ours.len())
        )
    } else {
        format!("DIFFERENT verdicts on {} pod pairs", diff.len())
    };
    let matrix_verdict = if matrix_diff.is_empty() {
        format!(
            "identical to nca on all {} ordered pairs of the {} Pod manifests ({} open)",
            thousands(real.len() * (real.len() - 1)),
            thousands(real.len()),
            thousands(matrix_open)
        )
    } else {
        format!("DIFFERENT from nca on {} pod pairs", matrix_diff.len())
    };
    let audit_row = Measured {
        label: "harmony audit -f DIR".into(),
        size: size.clone(),
        files: format!("{} files", thousands(files)),
        result: summary_line(&audit[0].stdout),
        runs: audit,
        target: "-".into(),
    };
    let matrix_row = Measured {
        label: "harmony audit matrix --pods -o json -f DIR".into(),
        size: size.clone(),
        files: format!("{} files", thousands(files)),
        result: matrix_verdict,
        runs: matrix,
        target: "-".into(),
    };
    let mut nca_row = Measured {
        label: "nca --connectivity".into(),
        size,
        files: format!(
            "{} namespaces, {} pods, {} policies",
            snapshot.namespaces.len(),
            pods_all,
            snapshot.network_policies.len()
        ),
        runs: nca_runs,
        result: verdict,
        target: String::new(),
    };
    let nca_wall = nca_row.median().as_secs_f64();
    let ratio_audit = nca_wall / audit_row.median().as_secs_f64();
    let ratio_matrix = nca_wall / matrix_row.median().as_secs_f64();
    nca_row.target = format!(
        "harmony >= 100x faster: audit {ratio_audit:.0}x, matrix {ratio_matrix:.0}x: {}",
        if ratio_audit >= 100.0 && ratio_matrix >= 100.0 && diff.is_empty() {
            "met"
        } else {
            "NOT met"
        }
    );
    for row in [&audit_row, &matrix_row, &nca_row] {
        row.print();
    }
    println!(
        "nca / harmony audit: {ratio_audit:.0}x; nca / harmony audit matrix --pods: {ratio_matrix:.0}x"
    );
    rows.extend([audit_row, matrix_row, nca_row]);

    println!();
    println!(
        "| command | tenants x pods | files | runs | median wall | peak RSS | exit | result | target |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for row in &rows {
        println!(
            "| `{}` | {} | {} | {} | {:.3} s | {:.0} MiB | {} | {} | {} |",
            row.label,
            row.size,
            row.files,
            row.runs.len(),
            row.median().as_secs_f64(),
            row.peak_rss_mib(),
            row.codes(),
            row.result,
            row.target
        );
    }

    let mut failed = false;
    for (what, diff) in [("audit", &diff), ("matrix", &matrix_diff)] {
        if !diff.is_empty() {
            failed = true;
            eprintln!("{what} and nca disagree on {} pod pairs:", diff.len());
            for d in diff.iter().take(20) {
                eprintln!("  {d}");
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
