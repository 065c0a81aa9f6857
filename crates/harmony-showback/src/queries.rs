//! The PromQL of each figure: one query for all tenants at once (their namespaces in one
//! `namespace=~` matcher), always `sum by (namespace)`, never by a pod label (tenants set those).

use harmony_tenant::STORAGE_CLASS_QUOTA_SUFFIX;
use jiff::SignedDuration;

/// What a query measures, and the label (besides `namespace`) its series are keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Figure {
    /// `kube_resourcequota{type="hard"}` by `resource`: what the quota reserves.
    Quota,
    /// `kube_pod_container_resource_requests` by `resource` (cpu, memory): what pods request.
    Requests,
    /// `container_cpu_usage_seconds_total`, as a rate: cores used.
    CpuUsed,
    /// `container_memory_working_set_bytes`: memory used.
    MemoryUsed,
    /// PVC requests joined with `kube_persistentvolumeclaim_info` by `storageclass`.
    Storage,
    /// The kubelets' `kubelet_volume_stats_used_bytes` per PVC, joined the same way.
    StorageUsed,
}

impl Figure {
    /// Every figure, in query order.
    pub const ALL: [Figure; 6] = [
        Figure::Quota,
        Figure::Requests,
        Figure::CpuUsed,
        Figure::MemoryUsed,
        Figure::Storage,
        Figure::StorageUsed,
    ];

    /// The label the series of this figure are keyed by besides `namespace`, if any.
    pub fn key_label(self) -> Option<&'static str> {
        match self {
            Figure::Quota | Figure::Requests => Some("resource"),
            Figure::Storage | Figure::StorageUsed => Some("storageclass"),
            Figure::CpuUsed | Figure::MemoryUsed => None,
        }
    }

    /// The query for the namespaces `namespaces`, each value the average over the `lookback`
    /// before the evaluation time (a rate for the CPU counter).
    pub fn promql(self, namespaces: &[&str], lookback: SignedDuration) -> String {
        // Namespace names are DNS labels: nothing in them needs escaping in a regex.
        let ns = format!("namespace=~\"{}\"", namespaces.join("|"));
        let l = format!("{}s", lookback.as_secs());
        // A PVC's storage class, to join per-PVC series with.
        let class = format!(
            "* on (namespace, persistentvolumeclaim) group_left (storageclass) \
             max by (namespace, persistentvolumeclaim, storageclass) (last_over_time(kube_persistentvolumeclaim_info{{{ns}}}[{l}]))"
        );
        match self {
            Figure::Quota => {
                // Only the quota resources a figure reads (a quota has a dozen more).
                let classes = STORAGE_CLASS_QUOTA_SUFFIX.replace('.', r"\.");
                format!(
                    "sum by (namespace, resource) (avg_over_time(kube_resourcequota{{type=\"hard\",\
                     resource=~`requests\\.cpu|cpu|requests\\.memory|memory|.+{classes}`,{ns}}}[{l}]))"
                )
            }
            Figure::Requests => format!(
                "sum by (namespace, resource) (avg_over_time(kube_pod_container_resource_requests{{resource=~\"cpu|memory\",{ns}}}[{l}]))"
            ),
            Figure::CpuUsed => format!(
                "sum by (namespace) (rate(container_cpu_usage_seconds_total{{container!=\"\",{ns}}}[{l}]))"
            ),
            Figure::MemoryUsed => format!(
                "sum by (namespace) (avg_over_time(container_memory_working_set_bytes{{container!=\"\",{ns}}}[{l}]))"
            ),
            Figure::Storage => format!(
                "sum by (namespace, storageclass) (avg_over_time(kube_persistentvolumeclaim_resource_requests_storage_bytes{{{ns}}}[{l}]) {class})"
            ),
            // Every kubelet that mounts a volume reports it (ReadWriteMany: several nodes), so
            // one PVC's series are taken once (max), not added up.
            Figure::StorageUsed => format!(
                "sum by (namespace, storageclass) (max by (namespace, persistentvolumeclaim) \
                 (avg_over_time(kubelet_volume_stats_used_bytes{{{ns}}}[{l}])) {class})"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_query_covers_all_namespaces_at_once_and_sums_by_namespace() {
        for figure in Figure::ALL {
            let q = figure.promql(&["acme", "globex"], SignedDuration::from_hours(1));
            assert!(q.starts_with("sum by (namespace"), "{q}");
            assert!(q.contains("namespace=~\"acme|globex\""), "{q}");
            assert!(q.contains("[3600s]"), "{q}");
        }
    }
}
