//! Runs the [`Figure`] queries for a set of tenants: one query per figure for all of them.

use harmony_tenant::TenantScore;
use jiff::{SignedDuration, Timestamp};

use crate::figures::{Measurements, TenantNamespace, UsageReport};
use crate::prometheus::{ClientError, Prometheus, Series};
use crate::queries::Figure;
use crate::window::Window;

/// What an instant (`usage`) figure averages over: a few scrapes at the usual 30 s interval.
pub const USAGE_LOOKBACK: SignedDuration = SignedDuration::from_mins(5);

/// Each tenant of `tenants` and its namespace, in order.
pub fn namespaces(tenants: &[TenantScore]) -> Vec<TenantNamespace> {
    tenants
        .iter()
        .map(|t| TenantNamespace {
            tenant: t.name().to_string(),
            namespace: t.namespace().to_string(),
        })
        .collect()
}

/// Every tenant's figures at `at` (to the second), averaged over [`USAGE_LOOKBACK`].
pub fn usage(
    client: &Prometheus,
    tenants: &[TenantNamespace],
    at: Timestamp,
) -> Result<UsageReport, ClientError> {
    let at = Timestamp::from_second(at.as_second()).expect("a valid time, to the second");
    let names = names(tenants);
    let measurements =
        measure_all(|figure| client.instant(&figure.promql(&names, USAGE_LOOKBACK), at))?;
    let t = at.as_millisecond();
    Ok(UsageReport {
        at: at.to_string(),
        tenants: tenants
            .iter()
            .map(|x| measurements.usage_at(x, t))
            .collect(),
    })
}

/// Every figure at every point of `window`, each averaged over its step: one range query per
/// figure.
pub fn over_window(
    client: &Prometheus,
    tenants: &[TenantNamespace],
    window: &Window,
) -> Result<Measurements, ClientError> {
    let names = names(tenants);
    measure_all(|figure| client.range(&figure.promql(&names, window.step), window))
}

/// The answers of `query` for every figure, asked at the same time (Prometheus evaluates each
/// query on one core); the first error in figure order, if any.
fn measure_all(
    query: impl Fn(Figure) -> Result<Vec<Series>, ClientError> + Sync,
) -> Result<Measurements, ClientError> {
    let answers: Vec<_> = std::thread::scope(|scope| {
        let query = &query;
        let asked = Figure::ALL.map(|figure| scope.spawn(move || (figure, query(figure))));
        asked
            .into_iter()
            .map(|a| a.join().expect("a query thread does not panic"))
            .collect()
    });
    let mut measurements = Measurements::default();
    for (figure, answer) in answers {
        measurements.record(figure, answer?);
    }
    Ok(measurements)
}

fn names(tenants: &[TenantNamespace]) -> Vec<&str> {
    tenants.iter().map(|t| t.namespace.as_str()).collect()
}
