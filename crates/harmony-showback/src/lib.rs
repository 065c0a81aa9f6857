//! Showback per tenant: CPU, memory and storage reserved (the quota), requested and used, read
//! from Prometheus (kube-state-metrics, cAdvisor and kubelet volume series) by namespace, never
//! by pod label, and their cost over a window from a [`PriceSheet`].
//!
//! Each figure is one query for all tenants at once ([`Figure`]), so a report makes six
//! queries whatever the number of tenants. The pure part ([`PriceSheet`], [`Window`],
//! [`Measurements`], [`cost()`], [`render`], [`chart`]) does no I/O; [`Prometheus`] is the HTTP
//! client and [`collect`] runs the queries with it.

pub mod chart;
pub mod collect;
mod cost;
mod figures;
mod prices;
mod prometheus;
mod queries;
pub mod render;
mod window;

pub use cost::{CostError, CostReport, GIB, HOURS_PER_MONTH, Line, StorageLine, TenantCost, cost};
pub use figures::{
    Figures, Measurements, StorageFigures, TenantNamespace, TenantSeries, TenantUsage, UsageReport,
};
pub use prices::{API_VERSION, DEFAULT_CLASS, PriceSheet, Prices};
pub use prometheus::{ClientError, Endpoint, Prometheus, Series, Stats, read_token_file};
pub use queries::Figure;
pub use window::{MAX_POINTS, Window, WindowError, parse_duration};
