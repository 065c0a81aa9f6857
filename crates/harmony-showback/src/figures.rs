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

/// Samples of one series, sorted by time (ms since the epoch).
type Samples = Vec<(i64, f64)>;

/// One figure's series of a namespace, if it has one.
type Slice<'m> = Option<&'m [(i64, f64)]>;

/// Values of one figure: namespace -> key label value (`""` when none) -> samples.
type Table = BTreeMap<String, BTreeMap<String, Samples>>;

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

/// Reserved, requested and used storage of one class, in bytes.
#[derive(Debug, Default, Clone, Copy, PartialEq, Serialize)]
pub struct StorageFigures {
    /// The quota's `<class>.storageclass.storage.k8s.io/requests.storage`.
    pub reserved: f64,
    /// The sum of the class's PVC requests.
    pub requested: f64,
    /// The sum of what the class's PVCs hold (as their kubelets report it).
    pub used: f64,
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
    /// Storage by class, in bytes; classes with nothing reserved, requested or used left out.
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
            if values.is_empty() {
                *values = s.samples;
            } else {
                // The same key twice (not from a `sum by`): add them up, time by time.
                values.extend(s.samples);
                values.sort_by_key(|&(t, _)| t);
                values.dedup_by(|later, kept| {
                    let same = later.0 == kept.0;
                    if same {
                        kept.1 += later.1;
                    }
                    same
                });
            }
        }
    }

    /// The series of `namespace`'s figures.
    pub fn of(&self, namespace: &str) -> TenantSeries<'_> {
        let keys = |figure| {
            self.tables
                .get(&figure)
                .and_then(|table| table.get(namespace))
        };
        let series = |figure, key: &str| keys(figure).and_then(|k| k.get(key)).map(Vec::as_slice);
        let mut storage: BTreeMap<&str, [Slice<'_>; 3]> = BTreeMap::new();
        for (resource, values) in keys(Figure::Quota).into_iter().flatten() {
            if let Some(class) = resource.strip_suffix(STORAGE_CLASS_QUOTA_SUFFIX) {
                storage.entry(class).or_default()[0] = Some(values);
            }
        }
        for (i, figure) in [(1, Figure::Storage), (2, Figure::StorageUsed)] {
            for (class, values) in keys(figure).into_iter().flatten() {
                storage.entry(class).or_default()[i] = Some(values);
            }
        }
        TenantSeries {
            cpu: [
                series(Figure::Quota, "requests.cpu"),
                series(Figure::Quota, "cpu"),
                series(Figure::Requests, "cpu"),
                series(Figure::CpuUsed, ""),
            ],
            memory: [
                series(Figure::Quota, "requests.memory"),
                series(Figure::Quota, "memory"),
                series(Figure::Requests, "memory"),
                series(Figure::MemoryUsed, ""),
            ],
            storage: storage.into_iter().collect(),
        }
    }

    /// The figures of `tenant` at `t` (ms); absent samples count as 0.
    pub fn usage_at(&self, tenant: &TenantNamespace, t: i64) -> TenantUsage {
        let series = self.of(&tenant.namespace);
        TenantUsage {
            tenant: tenant.tenant.clone(),
            namespace: tenant.namespace.clone(),
            cpu: series.cpu_at(t),
            memory: series.memory_at(t),
            storage: series
                .storage_at(t)
                .map(|(class, figures)| (class.to_string(), figures))
                .collect(),
        }
    }
}

/// The series of one namespace's figures, borrowed from [`Measurements`].
pub struct TenantSeries<'m> {
    /// Quota `requests.cpu`, quota `cpu`, requests, used.
    cpu: [Slice<'m>; 4],
    /// The same for memory.
    memory: [Slice<'m>; 4],
    /// By class: the quota, the PVC requests, the PVCs' use.
    storage: Vec<(&'m str, [Slice<'m>; 3])>,
}

/// The value of `series` at `t`, if it has one.
fn at(series: Slice<'_>, t: i64) -> Option<f64> {
    let series = series?;
    series
        .binary_search_by_key(&t, |&(time, _)| time)
        .ok()
        .map(|i| series[i].1)
}

/// The figures of `[specific quota, plain quota, requests, used]` at `t`.
fn figures_at(series: &[Slice<'_>; 4], t: i64) -> Figures {
    Figures {
        reserved: at(series[0], t).or_else(|| at(series[1], t)).unwrap_or(0.0),
        requested: at(series[2], t).unwrap_or(0.0),
        used: at(series[3], t).unwrap_or(0.0),
    }
}

impl TenantSeries<'_> {
    /// CPU at `t`, in cores.
    pub fn cpu_at(&self, t: i64) -> Figures {
        figures_at(&self.cpu, t)
    }

    /// Memory at `t`, in bytes.
    pub fn memory_at(&self, t: i64) -> Figures {
        figures_at(&self.memory, t)
    }

    /// Storage at `t` by class, in bytes: the classes with something reserved, requested or
    /// used.
    pub fn storage_at(&self, t: i64) -> impl Iterator<Item = (&str, StorageFigures)> + '_ {
        self.storage
            .iter()
            .filter_map(move |(class, [quota, pvcs, used])| {
                let figures = StorageFigures {
                    reserved: at(*quota, t).unwrap_or(0.0),
                    requested: at(*pvcs, t).unwrap_or(0.0),
                    used: at(*used, t).unwrap_or(0.0),
                };
                (figures.reserved > 0.0 || figures.requested > 0.0 || figures.used > 0.0)
                    .then_some((*class, figures))
            })
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
        m.record(
            Figure::StorageUsed,
            vec![
                series(
                    &[("namespace", "a"), ("storageclass", "fast")],
                    &[(1, 25.0)],
                ),
                // Used without a request or quota: still reported.
                series(&[("namespace", "a"), ("storageclass", "slow")], &[(1, 5.0)]),
            ],
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
            BTreeMap::from([
                (
                    "fast".to_string(),
                    StorageFigures {
                        reserved: 100.0,
                        requested: 40.0,
                        used: 25.0
                    }
                ),
                (
                    "slow".to_string(),
                    StorageFigures {
                        reserved: 0.0,
                        requested: 0.0,
                        used: 5.0
                    }
                )
            ])
        );
        assert_eq!(m.usage_at(&tenant, 2).cpu, Figures::default());
    }

    #[test]
    fn series_with_the_same_key_are_added_time_by_time() {
        let mut m = Measurements::default();
        m.record(
            Figure::CpuUsed,
            vec![
                series(&[("namespace", "a"), ("pod", "x")], &[(1, 1.0), (3, 1.0)]),
                series(&[("namespace", "a"), ("pod", "y")], &[(1, 2.0), (2, 5.0)]),
            ],
        );
        let tenant = TenantNamespace {
            tenant: "acme".into(),
            namespace: "a".into(),
        };
        let used = |t| m.usage_at(&tenant, t).cpu.used;
        assert_eq!([used(1), used(2), used(3), used(4)], [3.0, 5.0, 1.0, 0.0]);
    }
}
