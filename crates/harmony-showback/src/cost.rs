//! Cost over a window. Per resource and tenant: the cost of what the quota *reserved*, and the
//! cost of what was *allocated*, max(requested, used) at each step as OpenCost counts workloads
//! (storage: per class, max(what the PVCs requested, what they hold)). CPU in core-hours, memory
//! in GiB-hours, storage in GiB-months of 730 hours, each priced by the sheet.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use thiserror::Error;

use crate::figures::{Measurements, TenantNamespace};
use crate::prices::PriceSheet;
use crate::window::Window;

/// Bytes in a GiB.
pub const GIB: f64 = (1u64 << 30) as f64;
/// Hours in the month storage is priced by (as OpenCost: 8760 / 12).
pub const HOURS_PER_MONTH: f64 = 730.0;

/// Amounts of CPU (core-hours) or memory (GiB-hours) over the window, and their cost.
#[derive(Debug, Default, Clone, Copy, PartialEq, Serialize)]
pub struct Line {
    /// Reserved by the quota.
    pub reserved: f64,
    /// Requested by the containers.
    pub requested: f64,
    /// Used by the containers.
    pub used: f64,
    /// max(requested, used), step by step.
    pub allocated: f64,
    /// `reserved` x price.
    pub reserved_cost: f64,
    /// `allocated` x price.
    pub allocated_cost: f64,
}

/// GiB-months of one storage class over the window, and their cost.
#[derive(Debug, Default, Clone, Copy, PartialEq, Serialize)]
pub struct StorageLine {
    /// Reserved by the quota.
    pub reserved: f64,
    /// Requested by PVCs.
    pub requested: f64,
    /// Held by PVCs.
    pub used: f64,
    /// max(requested, used), step by step.
    pub allocated: f64,
    /// `reserved` x the class's price.
    pub reserved_cost: f64,
    /// `allocated` x the class's price.
    pub allocated_cost: f64,
}

/// One tenant's cost over the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TenantCost {
    /// The tenant id.
    pub tenant: String,
    /// Its namespace.
    pub namespace: String,
    /// CPU, core-hours.
    pub cpu: Line,
    /// Memory, GiB-hours.
    pub memory: Line,
    /// Storage by class, GiB-months.
    pub storage: BTreeMap<String, StorageLine>,
    /// The sum of the reserved costs.
    pub reserved_cost: f64,
    /// The sum of the allocated costs.
    pub allocated_cost: f64,
}

/// Every tenant's cost over one window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostReport {
    /// When the window starts (RFC 3339).
    pub start: String,
    /// When it ends.
    pub end: String,
    /// Seconds between points.
    pub step_seconds: i64,
    /// Hours in the window.
    pub hours: f64,
    /// The price sheet's name.
    pub price_sheet: String,
    /// Its currency.
    pub currency: String,
    /// By tenant, in the order of the tenant files.
    pub tenants: Vec<TenantCost>,
    /// The sum of the tenants' reserved costs.
    pub reserved_cost: f64,
    /// The sum of the tenants' allocated costs.
    pub allocated_cost: f64,
}

/// A cost that cannot be computed.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum CostError {
    /// Storage of classes the sheet has no price for.
    #[error("the price sheet `{sheet}` has no price for the storage class{} {}: add them under spec.storageGiBMonth, or a `default` price for every other class", if .classes.len() == 1 { "" } else { "es" }, .classes.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", "))]
    Unpriced {
        /// The sheet's name.
        sheet: String,
        /// The classes.
        classes: Vec<String>,
    },
}

/// The cost of every tenant of `tenants` over `window`, from `measurements`, priced by `sheet`.
pub fn cost(
    measurements: &Measurements,
    tenants: &[TenantNamespace],
    window: &Window,
    sheet: &PriceSheet,
) -> Result<CostReport, CostError> {
    let prices = &sheet.spec;
    let hours = window.step_hours();
    let mut unpriced = BTreeSet::new();
    let mut report = CostReport {
        start: window.start().to_string(),
        end: window.end.to_string(),
        step_seconds: window.step.as_secs(),
        hours: window.hours(),
        price_sheet: sheet.name().to_string(),
        currency: prices.currency.clone(),
        tenants: Vec::with_capacity(tenants.len()),
        reserved_cost: 0.0,
        allocated_cost: 0.0,
    };
    for tenant in tenants {
        let (mut cpu, mut memory) = (Line::default(), Line::default());
        let mut storage: BTreeMap<String, StorageLine> = BTreeMap::new();
        let series = measurements.of(&tenant.namespace);
        for t in window.points_ms() {
            accumulate(&mut cpu, series.cpu_at(t), hours);
            accumulate(&mut memory, series.memory_at(t), hours / GIB);
            for (class, figures) in series.storage_at(t) {
                if !storage.contains_key(class) {
                    storage.insert(class.to_string(), StorageLine::default());
                }
                let line = storage.get_mut(class).expect("inserted above");
                let months = hours / HOURS_PER_MONTH / GIB;
                line.reserved += figures.reserved * months;
                line.requested += figures.requested * months;
                line.used += figures.used * months;
                line.allocated += figures.requested.max(figures.used) * months;
            }
        }
        price(&mut cpu, prices.cpu_core_hour);
        price(&mut memory, prices.memory_gib_hour);
        for (class, line) in &mut storage {
            match prices.storage(class) {
                Some(p) => {
                    line.reserved_cost = line.reserved * p;
                    line.allocated_cost = line.allocated * p;
                }
                None => {
                    unpriced.insert(class.clone());
                }
            }
        }
        let reserved_cost = cpu.reserved_cost
            + memory.reserved_cost
            + storage.values().map(|l| l.reserved_cost).sum::<f64>();
        let allocated_cost = cpu.allocated_cost
            + memory.allocated_cost
            + storage.values().map(|l| l.allocated_cost).sum::<f64>();
        report.reserved_cost += reserved_cost;
        report.allocated_cost += allocated_cost;
        report.tenants.push(TenantCost {
            tenant: tenant.tenant.clone(),
            namespace: tenant.namespace.clone(),
            cpu,
            memory,
            storage,
            reserved_cost,
            allocated_cost,
        });
    }
    if !unpriced.is_empty() {
        return Err(CostError::Unpriced {
            sheet: sheet.name().to_string(),
            classes: unpriced.into_iter().collect(),
        });
    }
    Ok(report)
}

/// Adds one step of `figures`, each times `scale` (hours, or hours per byte-to-GiB).
fn accumulate(line: &mut Line, figures: crate::figures::Figures, scale: f64) {
    line.reserved += figures.reserved * scale;
    line.requested += figures.requested * scale;
    line.used += figures.used * scale;
    line.allocated += figures.requested.max(figures.used) * scale;
}

fn price(line: &mut Line, unit_price: f64) {
    line.reserved_cost = line.reserved * unit_price;
    line.allocated_cost = line.allocated * unit_price;
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::prometheus::Series;
    use crate::queries::Figure;
    use harmony::Documents;

    pub(crate) fn sheet(storage: &str) -> PriceSheet {
        let text = format!(
            "apiVersion: harmony.nationtech.io/v1alpha1\nkind: PriceSheet\nmetadata: {{name: lab}}\n\
             spec: {{currency: EUR, cpuCoreHour: 0.5, memoryGiBHour: 0.25, storageGiBMonth: {storage}}}\n"
        );
        Documents::parse("p.yaml", &text)
            .unwrap()
            .load_one(&())
            .unwrap()
    }

    fn series(ns: &str, key: Option<(&str, &str)>, values: &[f64], first: i64) -> Series {
        let mut labels = BTreeMap::from([("namespace".to_string(), ns.to_string())]);
        if let Some((k, v)) = key {
            labels.insert(k.into(), v.into());
        }
        Series {
            labels,
            samples: values
                .iter()
                .enumerate()
                .map(|(i, v)| (first + i as i64 * 3_600_000, *v))
                .collect(),
        }
    }

    /// Tenant acme over 3 hourly points: quota 4 cores, 8 GiB, 100 GiB `fast`; requests 2, 2, 2
    /// cores and 4 GiB; used 1, 3, 2 cores and 2, 6, 4 GiB; PVCs of 73 GiB of `fast` holding
    /// 36.5, 73, 146 GiB (a volume may hold more than its claim asked).
    pub(crate) fn acme() -> (Measurements, Vec<TenantNamespace>, Window) {
        let window = Window::new("3h", "1h", "2026-11-30T03:00:00Z".parse().unwrap()).unwrap();
        let first = window.first().as_millisecond();
        let g = GIB;
        let mut m = Measurements::default();
        m.record(
            Figure::Quota,
            vec![
                series("acme", Some(("resource", "requests.cpu")), &[4.0; 3], first),
                series(
                    "acme",
                    Some(("resource", "requests.memory")),
                    &[8.0 * g; 3],
                    first,
                ),
                series(
                    "acme",
                    Some((
                        "resource",
                        "fast.storageclass.storage.k8s.io/requests.storage",
                    )),
                    &[100.0 * g; 3],
                    first,
                ),
            ],
        );
        m.record(
            Figure::Requests,
            vec![
                series("acme", Some(("resource", "cpu")), &[2.0; 3], first),
                series("acme", Some(("resource", "memory")), &[4.0 * g; 3], first),
            ],
        );
        m.record(
            Figure::CpuUsed,
            vec![series("acme", None, &[1.0, 3.0, 2.0], first)],
        );
        m.record(
            Figure::MemoryUsed,
            vec![series("acme", None, &[2.0 * g, 6.0 * g, 4.0 * g], first)],
        );
        m.record(
            Figure::Storage,
            vec![series(
                "acme",
                Some(("storageclass", "fast")),
                &[73.0 * g; 3],
                first,
            )],
        );
        m.record(
            Figure::StorageUsed,
            vec![series(
                "acme",
                Some(("storageclass", "fast")),
                &[36.5 * g, 73.0 * g, 146.0 * g],
                first,
            )],
        );
        let tenants = vec![TenantNamespace {
            tenant: "acme".into(),
            namespace: "acme".into(),
        }];
        (m, tenants, window)
    }

    #[test]
    fn costs_reserved_and_allocated_by_hand() {
        let (m, tenants, window) = acme();
        let report = cost(&m, &tenants, &window, &sheet("{fast: 7.3}")).unwrap();
        let acme = &report.tenants[0];
        // CPU: reserved 4 x 3 h = 12 core-h; requested 6; used 1+3+2 = 6;
        // allocated max(2,1)+max(2,3)+max(2,2) = 7; at 0.5 EUR: 6 and 3.5.
        assert_eq!(
            acme.cpu,
            Line {
                reserved: 12.0,
                requested: 6.0,
                used: 6.0,
                allocated: 7.0,
                reserved_cost: 6.0,
                allocated_cost: 3.5
            }
        );
        // Memory: reserved 24 GiB-h, requested 12, used 12, allocated 4+6+4 = 14; at 0.25: 6, 3.5.
        assert_eq!(
            (acme.memory.allocated, acme.memory.reserved_cost),
            (14.0, 6.0)
        );
        assert_eq!(acme.memory.allocated_cost, 3.5);
        // Storage fast: 100 GiB x 3 h / 730 = 0.410958... GiB-months; x 7.3 = 3.0 EUR;
        // requested 73 GiB x 3 / 730 = 0.3 GiB-months; used (36.5 + 73 + 146) / 730 = 0.35;
        // allocated max(73, 36.5) + max(73, 73) + max(73, 146) = 292 GiB-h / 730 = 0.4,
        // x 7.3 = 2.92.
        let fast = acme.storage["fast"];
        assert!((fast.reserved_cost - 3.0).abs() < 1e-9, "{fast:?}");
        assert!((fast.requested - 0.3).abs() < 1e-12, "{fast:?}");
        assert!((fast.used - 0.35).abs() < 1e-12, "{fast:?}");
        assert!((fast.allocated - 0.4).abs() < 1e-12, "{fast:?}");
        assert!((fast.allocated_cost - 2.92).abs() < 1e-9, "{fast:?}");
        assert!((acme.reserved_cost - 15.0).abs() < 1e-9);
        assert!((report.allocated_cost - 9.92).abs() < 1e-9);
        assert_eq!((report.hours, report.step_seconds), (3.0, 3600));
        assert_eq!(report.start, "2026-11-30T00:00:00Z");
    }

    #[test]
    fn a_class_without_a_price_is_refused_naming_it() {
        let (m, tenants, window) = acme();
        let error = cost(&m, &tenants, &window, &sheet("{slow: 1}")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the price sheet `lab` has no price for the storage class `fast`: add them under \
             spec.storageGiBMonth, or a `default` price for every other class"
        );
        assert!(cost(&m, &tenants, &window, &sheet("{default: 1}")).is_ok());
    }
}
