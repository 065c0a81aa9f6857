//! `harmony tenant usage` and `harmony tenant cost` against a real Prometheus (Debian's) loaded
//! with known series through `promtool tsdb create-blocks-from openmetrics`: the figures equal
//! hand-computed ones; the charts are well-formed SVG with one bar group per tenant; and every
//! refusal (bad URL, Prometheus down, 401, 403, a refused query, bad price sheet, unpriced
//! storage class, bad window) exits 2 naming the fix.

#[path = "common/prometheus.rs"]
mod prometheus;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use prometheus::{OpenMetrics, Prometheus};

/// 2026-11-01T00:00:00Z: the first sample.
const T0: i64 = 1_793_491_200;
/// One sample a minute for six hours.
const SAMPLES: usize = 6 * 60 + 1;
const GIB: f64 = 1_073_741_824.0;

/// Tenants acme (namespace acme), globex (namespace globex-prod) and initech (no series).
const TENANTS: &str = "apiVersion: harmony.nationtech.io/v1alpha1
kind: Tenant
metadata: {name: acme}
---
apiVersion: harmony.nationtech.io/v1alpha1
kind: Tenant
metadata: {name: globex}
spec: {namespace: globex-prod}
---
apiVersion: harmony.nationtech.io/v1alpha1
kind: Tenant
metadata: {name: initech}
";

const PRICES: &str = "apiVersion: harmony.nationtech.io/v1alpha1
kind: PriceSheet
metadata: {name: lab}
spec:
  currency: EUR
  cpuCoreHour: 0.05
  memoryGiBHour: 0.01
  storageGiBMonth: {fast: 0.73, standard: 0.365}
";

/// The known series. acme: quota 4 cores, 8 GiB, 100 GiB `fast`; requests 0.5 + 1.5 cores and
/// 2 + 2 GiB; uses 1 core and 3 GiB; a 40 GiB `fast` PVC holding 30 GiB. globex-prod: quota 2
/// cores, 4 GiB, 50 GiB `standard`; requests 1 core, 1 GiB; uses 1.5 cores, 2 GiB (more than
/// requested); a 20 GiB `standard` PVC holding 32 GiB (more than requested). Traps that must not
/// count: the quota's `type="used"`, cgroup totals (`container=""`), namespace `other`, whose
/// series carry acme's tenant as a pod label, and acme's volume reported by the two kubelets
/// that mount it (counted once).
fn write_series(path: &Path) {
    let mut om = OpenMetrics::create(path);
    let mut s = |name: &str, labels: &str, value: &dyn Fn(usize) -> f64| {
        om.series(name, labels, T0, 60, SAMPLES, value)
    };
    let quota = "kube_resourcequota";
    s(
        quota,
        r#"namespace="acme",resource="requests.cpu",type="hard""#,
        &|_| 4.0,
    );
    s(
        quota,
        r#"namespace="acme",resource="requests.cpu",type="used""#,
        &|_| 2.0,
    );
    s(
        quota,
        r#"namespace="acme",resource="requests.memory",type="hard""#,
        &|_| 8.0 * GIB,
    );
    let fast = "fast.storageclass.storage.k8s.io/requests.storage";
    let standard = "standard.storageclass.storage.k8s.io/requests.storage";
    s(
        quota,
        &format!(r#"namespace="acme",resource="{fast}",type="hard""#),
        &|_| 100.0 * GIB,
    );
    s(
        quota,
        &format!(r#"namespace="acme",resource="{standard}",type="hard""#),
        &|_| 0.0,
    );
    s(
        quota,
        r#"namespace="globex-prod",resource="requests.cpu",type="hard""#,
        &|_| 2.0,
    );
    s(
        quota,
        r#"namespace="globex-prod",resource="requests.memory",type="hard""#,
        &|_| 4.0 * GIB,
    );
    s(
        quota,
        &format!(r#"namespace="globex-prod",resource="{standard}",type="hard""#),
        &|_| 50.0 * GIB,
    );
    s(
        quota,
        r#"namespace="other",resource="requests.cpu",type="hard""#,
        &|_| 64.0,
    );
    let requests = "kube_pod_container_resource_requests";
    s(
        requests,
        r#"namespace="acme",pod="web-1",container="app",resource="cpu",unit="core""#,
        &|_| 0.5,
    );
    s(
        requests,
        r#"namespace="acme",pod="web-1",container="sidecar",resource="cpu",unit="core""#,
        &|_| 1.5,
    );
    s(
        requests,
        r#"namespace="acme",pod="web-1",container="app",resource="memory",unit="byte""#,
        &|_| 2.0 * GIB,
    );
    s(
        requests,
        r#"namespace="acme",pod="web-1",container="sidecar",resource="memory",unit="byte""#,
        &|_| 2.0 * GIB,
    );
    s(
        requests,
        r#"namespace="globex-prod",pod="api-1",container="app",resource="cpu",unit="core""#,
        &|_| 1.0,
    );
    s(
        requests,
        r#"namespace="globex-prod",pod="api-1",container="app",resource="memory",unit="byte""#,
        &|_| GIB,
    );
    s(
        requests,
        r#"namespace="other",pod="x",container="app",resource="cpu",unit="core",label_tenant="acme""#,
        &|_| 10.0,
    );
    let cpu = "container_cpu_usage_seconds_total";
    s(
        cpu,
        r#"namespace="acme",pod="web-1",container="app""#,
        &|k| 60.0 * k as f64,
    );
    s(cpu, r#"namespace="acme",pod="web-1",container="""#, &|k| {
        300.0 * k as f64
    });
    s(
        cpu,
        r#"namespace="globex-prod",pod="api-1",container="app""#,
        &|k| 90.0 * k as f64,
    );
    s(
        cpu,
        r#"namespace="other",pod="x",container="app",label_tenant="acme""#,
        &|k| 600.0 * k as f64,
    );
    let memory = "container_memory_working_set_bytes";
    s(
        memory,
        r#"namespace="acme",pod="web-1",container="app""#,
        &|_| 3.0 * GIB,
    );
    s(
        memory,
        r#"namespace="acme",pod="web-1",container="""#,
        &|_| 10.0 * GIB,
    );
    s(
        memory,
        r#"namespace="globex-prod",pod="api-1",container="app""#,
        &|_| 2.0 * GIB,
    );
    let pvc = "kube_persistentvolumeclaim_resource_requests_storage_bytes";
    s(
        pvc,
        r#"namespace="acme",persistentvolumeclaim="data""#,
        &|_| 40.0 * GIB,
    );
    s(
        pvc,
        r#"namespace="globex-prod",persistentvolumeclaim="db""#,
        &|_| 20.0 * GIB,
    );
    let info = "kube_persistentvolumeclaim_info";
    s(
        info,
        r#"namespace="acme",persistentvolumeclaim="data",storageclass="fast",volumename="pv-1""#,
        &|_| 1.0,
    );
    s(
        info,
        r#"namespace="globex-prod",persistentvolumeclaim="db",storageclass="standard",volumename="pv-2""#,
        &|_| 1.0,
    );
    s(
        info,
        r#"namespace="other",persistentvolumeclaim="data",storageclass="fast",volumename="pv-3""#,
        &|_| 1.0,
    );
    let used = "kubelet_volume_stats_used_bytes";
    for node in ["node-a", "node-b"] {
        s(
            used,
            &format!(r#"namespace="acme",persistentvolumeclaim="data",node="{node}""#),
            &|_| 30.0 * GIB,
        );
    }
    s(
        used,
        r#"namespace="globex-prod",persistentvolumeclaim="db",node="node-a""#,
        &|_| 32.0 * GIB,
    );
    s(
        used,
        r#"namespace="other",persistentvolumeclaim="data",node="node-a""#,
        &|_| 500.0 * GIB,
    );
    om.finish();
}

/// A folder with the series' Prometheus running, `tenants.yaml` and `prices.yaml`.
struct Fixture {
    prometheus: Prometheus,
    dir: tempfile::TempDir,
}

impl Fixture {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let series = dir.path().join("series.om");
        write_series(&series);
        std::fs::write(dir.path().join("tenants.yaml"), TENANTS).unwrap();
        std::fs::write(dir.path().join("prices.yaml"), PRICES).unwrap();
        Self {
            prometheus: Prometheus::start(&series),
            dir,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `harmony tenant SUBCOMMAND -f tenants.yaml --prometheus URL`.
    fn harmony(&self, subcommand: &str) -> Command {
        harmony(subcommand, &self.path("tenants.yaml"), &self.prometheus.url)
    }

    /// `harmony tenant cost` over the six hours, in steps of an hour, with `prices.yaml`.
    fn cost(&self) -> Command {
        let mut cmd = self.harmony("cost");
        cmd.arg("--prices").arg(self.path("prices.yaml")).args([
            "--window",
            "6h",
            "--step",
            "1h",
            "--end",
            "2026-11-01T06:00:00Z",
        ]);
        cmd
    }
}

fn harmony(subcommand: &str, tenants: &Path, url: &str) -> Command {
    let mut cmd = Command::cargo_bin("harmony").unwrap();
    cmd.args(["tenant", subcommand, "-f"])
        .arg(tenants)
        .args(["--prometheus", url])
        .env_remove("HARMONY_PROMETHEUS_TOKEN");
    cmd
}

#[test]
fn usage_and_cost_equal_the_hand_computed_figures_and_chart_every_tenant() {
    let fixture = Fixture::start();

    // Usage at 03:00: averages over the 5 minutes before it; CPU used is a rate.
    fixture
        .harmony("usage")
        .args(["--at", "2026-11-01T03:00:00Z"])
        .assert()
        .success()
        .stdout(
            "Usage at 2026-11-01T03:00:00Z: 3 tenants
TENANT   NAMESPACE    RESOURCE          UNIT   RESERVED  REQUESTED    USED
acme     acme         cpu               cores     4.000      2.000   1.000
acme     acme         memory            GiB       8.000      4.000   3.000
acme     acme         storage/fast      GiB     100.000     40.000  30.000
globex   globex-prod  cpu               cores     2.000      1.000   1.500
globex   globex-prod  memory            GiB       4.000      1.000   2.000
globex   globex-prod  storage/standard  GiB      50.000     20.000  32.000
initech  initech      cpu               cores     0.000      0.000   0.000
initech  initech      memory            GiB       0.000      0.000   0.000
",
        );

    // Cost over 6 h at 0.05 EUR/core-h, 0.01 EUR/GiB-h, 0.73 (fast) and 0.365 (standard)
    // EUR/GiB-month of 730 h. acme: CPU reserved 4 x 6 = 24 core-h (1.20), allocated
    // max(2, 1) x 6 = 12 (0.60); memory 8 x 6 = 48 GiB-h (0.48), max(4, 3) x 6 = 24 (0.24);
    // fast 100 x 6 / 730 GiB-months (0.60), used 30 x 6 / 730, allocated max(40, 30) x 6 / 730
    // (0.24). globex: CPU 12 (0.60), max(1, 1.5) x 6 = 9 (0.45); memory 24 (0.24),
    // max(1, 2) x 6 = 12 (0.12); standard 50 x 6 / 730 (0.15), requested 20 x 6 / 730, used
    // and allocated max(20, 32) x 6 / 730 = 0.263 (0.096).
    let svg = fixture.path("cost.svg");
    fixture
        .cost()
        .args(["-o", "csv", "-v", "--chart"])
        .arg(&svg)
        .assert()
        .success()
        .stderr(predicate::str::starts_with("prometheus: 6 queries, "))
        .stdout(
            "tenant,namespace,resource,unit,reserved,requested,used,allocated,reserved_cost,allocated_cost
acme,acme,cpu,core-h,24.000,12.000,6.000,12.000,1.20,0.60
acme,acme,memory,GiB-h,48.000,24.000,18.000,24.000,0.48,0.24
acme,acme,storage/fast,GiB-month,0.822,0.329,0.247,0.329,0.60,0.24
acme,acme,total,EUR,,,,,2.28,1.08
globex,globex-prod,cpu,core-h,12.000,6.000,9.000,9.000,0.60,0.45
globex,globex-prod,memory,GiB-h,24.000,6.000,12.000,12.000,0.24,0.12
globex,globex-prod,storage/standard,GiB-month,0.411,0.164,0.263,0.263,0.15,0.10
globex,globex-prod,total,EUR,,,,,0.99,0.67
initech,initech,cpu,core-h,0.000,0.000,0.000,0.000,0.00,0.00
initech,initech,memory,GiB-h,0.000,0.000,0.000,0.000,0.00,0.00
initech,initech,total,EUR,,,,,0.00,0.00
",
        );
    assert_chart(&std::fs::read_to_string(&svg).unwrap());

    // JSON: the same figures, unrounded; the window as queried.
    let out = fixture.cost().args(["-o", "json"]).output().unwrap();
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["start"], "2026-11-01T00:00:00Z");
    assert_eq!(json["end"], "2026-11-01T06:00:00Z");
    let close = |v: &serde_json::Value, expected: f64| {
        assert!(
            (v.as_f64().unwrap() - expected).abs() < 1e-6,
            "{v} != {expected}"
        )
    };
    close(&json["tenants"][1]["cpu"]["allocated"], 9.0);
    close(
        &json["tenants"][0]["storage"]["fast"]["reserved"],
        600.0 / 730.0,
    );
    close(
        &json["tenants"][1]["storage"]["standard"]["allocated"],
        192.0 / 730.0,
    );
    close(
        &json["tenants"][0]["storage"]["fast"]["used"],
        180.0 / 730.0,
    );
    close(&json["reserved_cost"], 3.27);
    close(&json["allocated_cost"], 1.746);

    // The HTML page: the same chart and the table.
    let html = fixture.path("cost.html");
    fixture.cost().arg("--chart").arg(&html).assert().success();
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("<td>storage/standard</td>"));
    let (start, end) = (page.find("<svg").unwrap(), page.find("</svg>").unwrap());
    assert_chart(&page[start..end + "</svg>".len()]);
}

/// Well-formed SVG with one bar group per tenant, each with a reserved and an allocated bar of
/// three parts, the reserved bar of acme (the largest cost) the full plot height.
fn assert_chart(svg: &str) {
    let doc = roxmltree::Document::parse(svg).expect("well-formed SVG");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let groups: Vec<_> = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("tenant"))
        .collect();
    let names: Vec<_> = groups
        .iter()
        .map(|g| g.attribute("data-tenant").unwrap())
        .collect();
    assert_eq!(names, ["acme", "globex", "initech"]);
    for g in &groups {
        let bars: Vec<_> = g.children().filter(|n| n.has_tag_name("rect")).collect();
        assert_eq!(bars.len(), 6, "reserved and allocated, 3 parts each");
    }
    let height = |class: &str| -> f64 {
        groups[0]
            .children()
            .filter(|n| n.attribute("class").is_some_and(|c| c.starts_with(class)))
            .map(|n| n.attribute("height").unwrap().parse::<f64>().unwrap())
            .sum()
    };
    assert!((height("reserved") - 300.0).abs() < 0.05);
    // Allocated 1.08 of 2.28.
    assert!((height("allocated") - 300.0 * 1.08 / 2.28).abs() < 0.05);
}

#[test]
fn a_storage_class_without_a_price_is_refused_naming_it() {
    let fixture = Fixture::start();
    std::fs::write(
        fixture.path("prices.yaml"),
        PRICES.replace(", standard: 0.365", ""),
    )
    .unwrap();
    let chart = fixture.path("chart.svg");
    fixture
        .cost()
        .arg("--chart")
        .arg(&chart)
        .assert()
        .code(2)
        .stdout("")
        .stderr(
            "error: the price sheet `lab` has no price for the storage class `standard`: add \
             them under spec.storageGiBMonth, or a `default` price for every other class\n",
        );
    assert!(!chart.exists(), "no chart from a refused report");
}

#[test]
fn a_query_prometheus_refuses_is_named_with_its_message() {
    let fixture = Fixture::start();
    let client = harmony_showback::Prometheus::new(harmony_showback::Endpoint {
        url: fixture.prometheus.url.clone(),
        token: None,
        ca_pem: None,
        timeout: std::time::Duration::from_secs(10),
    })
    .unwrap();
    let error = client
        .instant("sum(", "2026-11-01T03:00:00Z".parse().unwrap())
        .unwrap_err()
        .to_string();
    let expected = format!(
        "Prometheus at {}/api/v1/query refused the query (bad_data: ",
        fixture.prometheus.url
    );
    assert!(error.starts_with(&expected), "{error}");
    assert!(error.ends_with("; query: sum("), "{error}");
    assert_eq!(client.stats().queries, 1);
}

#[test]
fn a_token_prometheus_does_not_accept_is_refused_with_401_and_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    let series = dir.path().join("series.om");
    write_series(&series);
    // Basic auth only: a bearer token gets 401.
    let server = Prometheus::start_with(
        &series,
        Some(
            "basic_auth_users:\n  admin: $2y$10$AAAAAAAAAAAAAAAAAAAAAOm5wPPg0M3qzpZ.6Gzn6rA1oIEvUB0Zy\n",
        ),
    );
    std::fs::write(dir.path().join("tenants.yaml"), TENANTS).unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "s3cret-token\n").unwrap();
    std::fs::set_permissions(&token, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let tenants = dir.path().join("tenants.yaml");
    let expected = format!(
        "error: Prometheus at {}/api/v1/query answered 401 Unauthorized: give a valid bearer \
         token with --token-file or HARMONY_PROMETHEUS_TOKEN\n",
        server.url
    );
    harmony("usage", &tenants, &server.url)
        .arg("--token-file")
        .arg(&token)
        .assert()
        .code(2)
        .stderr(expected.clone());
    harmony("usage", &tenants, &server.url)
        .env("HARMONY_PROMETHEUS_TOKEN", "s3cret-token")
        .assert()
        .code(2)
        .stderr(expected);
}

/// A CA (PEM) and a serving certificate and key it signed for 127.0.0.1.
fn certificates() -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::new(ca, &ca_key);
    let key = KeyPair::generate().unwrap();
    let serving = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    (ca_pem, serving.pem(), key.serialize_pem())
}

#[test]
fn tls_prometheus_is_trusted_with_its_certificate_authority_and_refused_without() {
    let dir = tempfile::tempdir().unwrap();
    let series = dir.path().join("series.om");
    write_series(&series);
    let (ca, cert, key) = certificates();
    let path = |name: &str| dir.path().join(name);
    std::fs::write(path("ca.pem"), ca).unwrap();
    std::fs::write(path("server.pem"), cert).unwrap();
    std::fs::write(path("server.key"), key).unwrap();
    std::fs::write(path("tenants.yaml"), TENANTS).unwrap();
    let server = Prometheus::start_with(
        &series,
        Some(&format!(
            "tls_server_config:\n  cert_file: {}\n  key_file: {}\n",
            path("server.pem").display(),
            path("server.key").display()
        )),
    );
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );
    let usage = |ca: Option<&str>| {
        let mut cmd = harmony("usage", &path("tenants.yaml"), &server.url);
        cmd.args(["--at", "2026-11-01T03:00:00Z", "-o", "csv"]);
        if let Some(ca) = ca {
            cmd.arg("--certificate-authority").arg(path(ca));
        }
        cmd.assert()
    };
    usage(Some("ca.pem"))
        .success()
        .stdout(predicate::str::contains(
            "globex,globex-prod,storage/standard,GiB,50.000,20.000,32.000\n",
        ));
    usage(None).code(2).stdout("").stderr(format!(
        "error: Prometheus at {}/api/v1/query presented a certificate not signed by an \
         authority harmony trusts: give the CA bundle that signed it with \
         --certificate-authority FILE\n",
        server.url
    ));
    // A CA that did not sign it is refused the same way.
    let (other, _, _) = certificates();
    std::fs::write(path("other.pem"), other).unwrap();
    usage(Some("other.pem"))
        .code(2)
        .stderr(predicate::str::contains(
            "presented a certificate not signed by an authority harmony trusts",
        ));
    // The certificate is for 127.0.0.1, not for `localhost`.
    let localhost = server.url.replace("127.0.0.1", "localhost");
    harmony("usage", &path("tenants.yaml"), &localhost)
        .arg("--certificate-authority")
        .arg(path("ca.pem"))
        .assert()
        .code(2)
        .stderr(
            predicate::str::starts_with(format!(
                "error: Prometheus at {localhost}/api/v1/query presented a certificate harmony \
                 refuses (certificate not valid for name \"localhost\""
            ))
            .and(predicate::str::ends_with(
                "use the host name the certificate is for in the URL, and check that it is \
                 valid now\n",
            )),
        );
}

#[test]
fn a_403_names_the_permission_to_ask_for() {
    // A loopback server that answers every request 403, as an RBAC proxy does.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            let mut request = [0u8; 65536];
            let _ = std::io::Read::read(&mut stream, &mut request);
            let _ = std::io::Write::write_all(
                &mut stream,
                b"HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\nConnection: close\r\n\r\nForbidden",
            );
        }
    });
    let dir = files();
    harmony("usage", &dir.path().join("tenants.yaml"), &url)
        .assert()
        .code(2)
        .stderr(format!(
            "error: Prometheus at {url}/api/v1/query answered 403 Forbidden: the token may not \
             query all namespaces; on OKD use the thanos-querier :9091 port with a token bound \
             to `cluster-monitoring-view`\n"
        ));
}

/// A folder with the tenant and price files but no Prometheus.
fn files() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tenants.yaml"), TENANTS).unwrap();
    std::fs::write(dir.path().join("prices.yaml"), PRICES).unwrap();
    dir
}

fn cost_without_server(dir: &Path, url: &str) -> Command {
    let mut cmd = harmony("cost", &dir.join("tenants.yaml"), url);
    cmd.arg("--prices").arg(dir.join("prices.yaml"));
    cmd
}

#[test]
fn refuses_a_url_that_is_not_http() {
    let dir = files();
    cost_without_server(dir.path(), "prometheus:9090")
        .assert()
        .code(2)
        .stderr(
            "error: `prometheus:9090` is not a Prometheus URL: write http(s)://HOST[:PORT][/PATH], \
             such as http://127.0.0.1:9090\n",
        );
}

#[test]
fn refuses_when_prometheus_is_down_naming_the_url() {
    let dir = files();
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    harmony("usage", &dir.path().join("tenants.yaml"), &url)
        .assert()
        .code(2)
        .stdout("")
        .stderr(
            predicate::str::starts_with(format!(
                "error: cannot reach Prometheus at {url}/api/v1/query: "
            ))
            .and(predicate::str::ends_with(
                "check the URL and that Prometheus listens there (or port-forward to it)\n",
            )),
        );
}

#[test]
fn refuses_a_bad_price_sheet_located() {
    let dir = files();
    std::fs::write(
        dir.path().join("prices.yaml"),
        PRICES.replace("cpuCoreHour: 0.05", "cpuCoreHour: -0.05"),
    )
    .unwrap();
    cost_without_server(dir.path(), "http://127.0.0.1:9")
        .assert()
        .code(2)
        .stderr(format!(
            "error: {}:6:16: spec.cpuCoreHour: `-0.05` is not a price: write a number ≥ 0 in EUR \
             per core-hour, such as 0.0316\n1 problem found; nothing was written\n",
            dir.path().join("prices.yaml").display()
        ));
}

#[test]
fn refuses_bad_windows_steps_and_times() {
    let dir = files();
    let refused = |args: &[&str], message: &str| {
        cost_without_server(dir.path(), "http://127.0.0.1:9")
            .args(args)
            .assert()
            .code(2)
            .stderr(format!("error: {message}\n"));
    };
    refused(
        &["--window", "a month"],
        "--window/--step: `a month` is not a duration: write a number and a unit (s, m, h, d, w), \
         such as 30d, 12h or 1h30m",
    );
    refused(
        &["--window", "30d", "--step", "1m"],
        "--window/--step: the window 30d in steps of 1m makes 43200 points, more than \
         Prometheus's 11000 per series: use a longer step",
    );
    refused(
        &["--end", "yesterday"],
        "--end `yesterday` is not a time: write it in RFC 3339, such as 2026-12-03T12:00:00Z",
    );
    refused(
        &["--chart", "cost.png"],
        "--chart cost.png: name a .svg file (the chart) or a .html file (chart and table)",
    );
}
