//! The figures of each tenant: CPU, memory and storage reserved (quota), requested and used, read
//! from the answers of the [`Figure`] queries and mapped from namespace to tenant.

use std::collections::BTreeMap;

use harmony_tenant::STORAGE_CLASS_QUOTA_SUFFIX;
use serde::Serialize;

use crate::prometheus::Series;
use crate::queries::Figure;

/// A tenant and the namespace its figures are read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantNamespace {
    /// The tenant id.
    pub tenant: String,
    /// Its namespace.
    pub namespace: String,
}

/// Values of one figure: namespace -> key label value (`""` when none) -> time (ms) -> value.
type Table = BTreeMap<String, BTreeMap<String, BTreeMap<i64, f64>>>;

/// The answers of every [`Figure`] query, by namespace.
#[derive(Debug, Default, Clone)]
pub struct Measurements {
    tables: BTreeMap<Figure, Table>,
}

/// Reserved, requested and used amounts of CPU (cores) or memory (bytes).
#[derive(Debug, Default, Clone, Copy, PartialEq, Serialize)]
pub struct Figures {
    /// The quota's hard `requests.*` (or plain `cpu` / `memory`).
    pub reserved: f64,
    /// The sum of the containers' requests.
    pub requested: f64,
    /// What the containers used.
    pub used: f64,
}

/// Reserved and requested storage of one class, in bytes.
#[derive(Debug, Default, Clone, Copy, PartialEq, Serialize)]
pub struct StorageFigures {
    /// The quota's `<class>.storageclass.storage.k8s.io/requests.storage`.
    pub reserved: f64,
    /// The sum of the class's PVC requests.
    pub requested: f64,
}

/// One tenant's figures at one time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TenantUsage {
    /// The tenant id.
    pub tenant: String,
    /// Its namespace.
    pub namespace: String,
    /// CPU, in cores.
    pub cpu: Figures,
    /// Memory, in bytes.
    pub memory: Figures,
    /// Storage by class, in bytes; classes with nothing reserved or requested left out.
    pub storage: BTreeMap<String, StorageFigures>,
}

/// Every tenant's figures at one time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsageReport {
    /// When (RFC 3339).
    pub at: String,
    /// By tenant, in the order of the tenant files.
    pub tenants: Vec<TenantUsage>,
}

impl Measurements {
    /// Records the answer of `figure`'s query.
    pub fn record(&mut self, figure: Figure, series: Vec<Series>) {
        let table = self.tables.entry(figure).or_default();
        for s in series {
            let Some(namespace) = s.labels.get("namespace") else {
                continue;
            };
            let key = figure
                .key_label()
                .and_then(|l| s.labels.get(l))
                .cloned()
                .unwrap_or_default();
            let values = table
                .entry(namespace.clone())
                .or_default()
                .entry(key)
                .or_default();
            for (t, v) in s.samples {
                *values.entry(t).or_default() += v;
            }
        }
    }

    /// The figures of `tenant` at `t` (ms); absent series count as 0.
    pub fn usage_at(&self, tenant: &TenantNamespace, t: i64) -> TenantUsage {
        let keys = |figure| {
            self.tables
                .get(&figure)
                .and_then(|table| table.get(&tenant.namespace))
        };
        let value = |figure, key: &str| {
            keys(figure)
                .and_then(|k| k.get(key))
                .and_then(|values| values.get(&t))
                .copied()
        };
        let reserved = |specific: &str, plain: &str| {
            value(Figure::Quota, specific)
                .or_else(|| value(Figure::Quota, plain))
                .unwrap_or(0.0)
        };
        let cpu = Figures {
            reserved: reserved("requests.cpu", "cpu"),
            requested: value(Figure::Requests, "cpu").unwrap_or(0.0),
            used: value(Figure::CpuUsed, "").unwrap_or(0.0),
        };
        let memory = Figures {
            reserved: reserved("requests.memory", "memory"),
            requested: value(Figure::Requests, "memory").unwrap_or(0.0),
            used: value(Figure::MemoryUsed, "").unwrap_or(0.0),
        };
        let mut storage: BTreeMap<String, StorageFigures> = BTreeMap::new();
        for (resource, values) in keys(Figure::Quota).into_iter().flatten() {
            if let (Some(class), Some(&v)) = (
                resource.strip_suffix(STORAGE_CLASS_QUOTA_SUFFIX),
                values.get(&t),
            ) && v > 0.0
            {
                storage.entry(class.to_string()).or_default().reserved = v;
            }
        }
        for (class, values) in keys(Figure::Storage).into_iter().flatten() {
            if let Some(&v) = values.get(&t)
                && v > 0.0
            {
                storage.entry(class.clone()).or_default().requested = v;
            }
        }
        TenantUsage {
            tenant: tenant.tenant.clone(),
            namespace: tenant.namespace.clone(),
            cpu,
            memory,
            storage,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(labels: &[(&str, &str)], samples: &[(i64, f64)]) -> Series {
        Series {
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            samples: samples.to_vec(),
        }
    }

    #[test]
    fn figures_are_read_by_namespace_with_the_specific_quota_first() {
        let mut m = Measurements::default();
        m.record(
            Figure::Quota,
            vec![
                series(&[("namespace", "a"), ("resource", "cpu")], &[(1, 9.0)]),
                series(
                    &[("namespace", "a"), ("resource", "requests.cpu")],
                    &[(1, 4.0)],
                ),
                series(&[("namespace", "a"), ("resource", "memory")], &[(1, 8.0)]),
                series(
                    &[
                        ("namespace", "a"),
                        (
                            "resource",
                            "fast.storageclass.storage.k8s.io/requests.storage",
                        ),
                    ],
                    &[(1, 100.0)],
                ),
                series(
                    &[
                        ("namespace", "a"),
                        (
                            "resource",
                            "slow.storageclass.storage.k8s.io/requests.storage",
                        ),
                    ],
                    &[(1, 0.0)],
                ),
                series(
                    &[("namespace", "b"), ("resource", "requests.cpu")],
                    &[(1, 99.0)],
                ),
            ],
        );
        m.record(
            Figure::Requests,
            vec![series(
                &[("namespace", "a"), ("resource", "cpu")],
                &[(1, 2.0)],
            )],
        );
        m.record(
            Figure::CpuUsed,
            vec![series(&[("namespace", "a")], &[(1, 3.0)])],
        );
        m.record(
            Figure::Storage,
            vec![series(
                &[("namespace", "a"), ("storageclass", "fast")],
                &[(1, 40.0)],
            )],
        );
        let tenant = TenantNamespace {
            tenant: "acme".into(),
            namespace: "a".into(),
        };
        let usage = m.usage_at(&tenant, 1);
        assert_eq!(
            usage.cpu,
            Figures {
                reserved: 4.0,
                requested: 2.0,
                used: 3.0
            }
        );
        assert_eq!(usage.memory.reserved, 8.0);
        assert_eq!(
            usage.storage,
            BTreeMap::from([(
                "fast".to_string(),
                StorageFigures {
                    reserved: 100.0,
                    requested: 40.0
                }
            )])
        );
        assert_eq!(m.usage_at(&tenant, 2).cpu, Figures::default());
    }
}
