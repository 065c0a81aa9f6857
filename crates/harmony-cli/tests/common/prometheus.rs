//! A real Prometheus (Debian's `prometheus`) on loopback, serving series written as OpenMetrics
//! and turned into TSDB blocks by `promtool tsdb create-blocks-from openmetrics`. Used by the
//! showback tests and bench (`#[path = "common/prometheus.rs"] mod prometheus;`).
#![allow(dead_code)] // each test binary uses part of it

use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Writes series as OpenMetrics text: every series of a metric family must be written together.
pub struct OpenMetrics(BufWriter<File>);

impl OpenMetrics {
    /// A new file at `path`.
    pub fn create(path: &Path) -> Self {
        Self(BufWriter::new(
            File::create(path).expect("the OpenMetrics file"),
        ))
    }

    /// The series `name{labels}`: `count` samples `step` seconds apart from `first` (seconds
    /// since the epoch), the k-th of value `value(k)`.
    pub fn series(
        &mut self,
        name: &str,
        labels: &str,
        first: i64,
        step: i64,
        count: usize,
        value: impl Fn(usize) -> f64,
    ) {
        for k in 0..count {
            writeln!(
                self.0,
                "{name}{{{labels}}} {} {}",
                value(k),
                first + k as i64 * step
            )
            .expect("write a sample");
        }
    }

    /// Ends the file (`# EOF`).
    pub fn finish(mut self) {
        self.0.write_all(b"# EOF\n").expect("write # EOF");
        self.0.flush().expect("flush the OpenMetrics file");
    }
}

/// A Prometheus serving the TSDB built from an OpenMetrics file; killed when dropped.
pub struct Prometheus {
    child: Child,
    /// `http://127.0.0.1:PORT` (`https://` when its web configuration has `tls_server_config`).
    pub url: String,
    _dir: tempfile::TempDir,
}

/// What Prometheus logs once its storage is open and it answers queries.
const READY: &str = "Server is ready to receive web requests.";

impl Prometheus {
    /// Builds a TSDB from `openmetrics` with promtool and starts Prometheus on it: no scrape
    /// targets, a retention long enough for past samples, a free loopback port.
    pub fn start(openmetrics: &Path) -> Self {
        Self::start_with(openmetrics, None)
    }

    /// [`Prometheus::start`], with the web configuration `web_config` (`--web.config.file`)
    /// when given, such as `basic_auth_users` or `tls_server_config` (then served over https).
    pub fn start_with(openmetrics: &Path, web_config: Option<&str>) -> Self {
        let dir = tempfile::tempdir().expect("a folder for the TSDB");
        let data = dir.path().join("data");
        let built = Command::new("promtool")
            .args(["tsdb", "create-blocks-from", "openmetrics", "--quiet"])
            // One block for up to 31 days of samples instead of one per 2 hours.
            .arg("--max-block-duration=744h")
            .arg(openmetrics)
            .arg(&data)
            .output()
            .expect("promtool runs (Debian package `prometheus`)");
        assert!(
            built.status.success(),
            "promtool create-blocks-from openmetrics failed: {}",
            String::from_utf8_lossy(&built.stderr)
        );
        let config = dir.path().join("prometheus.yml");
        std::fs::write(&config, "global:\n  scrape_interval: 1m\n").expect("the config");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = File::create(dir.path().join("prometheus.log")).expect("the log");
        let scheme = match web_config {
            Some(c) if c.contains("tls_server_config") => "https",
            _ => "http",
        };
        let mut command = Command::new("prometheus");
        if let Some(web_config) = web_config {
            let path = dir.path().join("web.yml");
            std::fs::write(&path, web_config).expect("the web config");
            command.arg(format!("--web.config.file={}", path.display()));
        }
        let child = command
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg("--storage.tsdb.retention.time=100y")
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("prometheus runs (Debian package `prometheus`)");
        let mut server = Self {
            child,
            url: format!("{scheme}://127.0.0.1:{port}"),
            _dir: dir,
        };
        server.wait_ready(port);
        server
    }

    /// Waits until Prometheus logs that it is ready and its port accepts connections (whatever
    /// its web configuration: basic auth, TLS).
    fn wait_ready(&mut self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let log = std::fs::read_to_string(self._dir.path().join("prometheus.log"))
                .unwrap_or_default();
            if let Some(status) = self.child.try_wait().expect("prometheus status") {
                panic!("prometheus exited ({status}):\n{log}");
            }
            if log.contains(READY) && TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return;
            }
            assert!(Instant::now() < deadline, "prometheus not ready in 60 s");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
