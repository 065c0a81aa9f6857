//! Runs the [`Figure`] queries for a set of tenants: one query per figure for all of them.

use harmony_tenant::TenantScore;
use jiff::{SignedDuration, Timestamp};

use crate::figures::{Measurements, TenantNamespace, UsageReport};
use crate::prometheus::{ClientError, Prometheus};
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
    let mut measurements = Measurements::default();
    for figure in Figure::ALL {
        let series = client.instant(&figure.promql(&names, USAGE_LOOKBACK), at)?;
        measurements.record(figure, series);
    }
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
    let mut measurements = Measurements::default();
    for figure in Figure::ALL {
        measurements.record(
            figure,
            client.range(&figure.promql(&names, window.step), window)?,
        );
    }
    Ok(measurements)
}

fn names(tenants: &[TenantNamespace]) -> Vec<&str> {
    tenants.iter().map(|t| t.namespace.as_str()).collect()
}
