//! Prometheus metrics on `/metrics`, and the probes `/healthz` (the process answers) and `/readyz`
//! (a standby, or a leader whose caches are filled), served over HTTP/1.

use std::convert::Infallible;
use std::fmt::Write;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use kube::runtime::reflector::Store;
use tokio::net::TcpListener;

use crate::resource::{ISOLATED, READY, Tenant};

/// Upper bounds of the reconcile duration histogram, in seconds.
const BUCKETS: [f64; 10] = [0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// Counters and the state the probes report.
#[derive(Default)]
pub struct Metrics {
    reconciles: AtomicU64,
    errors: AtomicU64,
    audits: AtomicU64,
    /// Per bucket counts, then the sum of seconds and the count.
    durations: Mutex<([u64; BUCKETS.len()], f64, u64)>,
    leader: AtomicBool,
    ready: AtomicBool,
    tenants: Mutex<Option<Store<Tenant>>>,
}

impl Metrics {
    /// Records one reconcile that took `took` and failed or not.
    pub fn reconciled(&self, took: Duration, failed: bool) {
        self.reconciles.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        let seconds = took.as_secs_f64();
        let mut durations = self.durations.lock().unwrap_or_else(|e| e.into_inner());
        for (bound, count) in BUCKETS.iter().zip(durations.0.iter_mut()) {
            if seconds <= *bound {
                *count += 1;
            }
        }
        durations.1 += seconds;
        durations.2 += 1;
    }

    /// Records one audit run.
    pub fn audited(&self) {
        self.audits.fetch_add(1, Ordering::Relaxed);
    }

    /// Says whether this replica leads.
    pub fn set_leader(&self, leader: bool) {
        self.leader.store(leader, Ordering::Relaxed);
    }

    /// Says whether this replica is ready (a standby, or a leader with its caches filled).
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Relaxed);
    }

    /// The Tenants to count by condition.
    pub fn count_tenants(&self, store: Store<Tenant>) {
        *self.tenants.lock().unwrap_or_else(|e| e.into_inner()) = Some(store);
    }

    /// Whether `/readyz` answers 200.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }

    /// The metrics in Prometheus' text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let counter = |out: &mut String, name: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            );
        };
        counter(
            &mut out,
            "harmony_operator_reconciles_total",
            "Tenant reconciles run.",
            self.reconciles.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "harmony_operator_reconcile_errors_total",
            "Tenant reconciles that failed (retried).",
            self.errors.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "harmony_operator_audits_total",
            "Live audits run for the Isolated condition.",
            self.audits.load(Ordering::Relaxed),
        );
        let name = "harmony_operator_reconcile_duration_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} How long a Tenant reconcile took.\n# TYPE {name} histogram"
        );
        let (buckets, sum, count) = *self.durations.lock().unwrap_or_else(|e| e.into_inner());
        for (bound, n) in BUCKETS.iter().zip(buckets) {
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{le=\"+Inf\"}} {count}\n{name}_sum {sum}\n{name}_count {count}"
        );
        let name = "harmony_operator_leader";
        let _ = writeln!(
            out,
            "# HELP {name} 1 when this replica holds the lease.\n# TYPE {name} gauge\n{name} {}",
            u8::from(self.leader.load(Ordering::Relaxed))
        );
        let name = "harmony_operator_tenants";
        let _ = writeln!(
            out,
            "# HELP {name} Tenants by condition and status.\n# TYPE {name} gauge"
        );
        let store = self
            .tenants
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let tenants = store.map(|s| s.state()).unwrap_or_default();
        for condition in [READY, ISOLATED] {
            for status in ["True", "False", "Unknown"] {
                let n = tenants
                    .iter()
                    .filter(|t| {
                        t.condition(condition)
                            .map_or("Unknown", |c| c.status.as_str())
                            == status
                    })
                    .count();
                let _ = writeln!(
                    out,
                    "{name}{{condition=\"{condition}\",status=\"{status}\"}} {n}"
                );
            }
        }
        out
    }
}

fn answer(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
}

/// Serves `/metrics`, `/healthz` and `/readyz` on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, metrics: std::sync::Arc<Metrics>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let metrics = std::sync::Arc::clone(&metrics);
        tokio::spawn(async move {
            let service = service_fn(move |request: Request<Incoming>| {
                let metrics = std::sync::Arc::clone(&metrics);
                async move {
                    Ok::<_, Infallible>(match request.uri().path() {
                        "/metrics" => answer(StatusCode::OK, metrics.render()),
                        "/healthz" => answer(StatusCode::OK, "ok\n".into()),
                        "/readyz" if metrics.is_ready() => answer(StatusCode::OK, "ok\n".into()),
                        "/readyz" => answer(StatusCode::SERVICE_UNAVAILABLE, "not ready\n".into()),
                        _ => answer(StatusCode::NOT_FOUND, "not found\n".into()),
                    })
                }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Binds `address` for [`serve`].
pub async fn bind(address: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(address).await
}
