//! The `tenant-quota` ResourceQuota and the `tenant-limits` LimitRange.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    LimitRange, LimitRangeItem, LimitRangeSpec, ResourceQuota, ResourceQuotaSpec,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use super::namespaced;
use crate::cluster_quota::{
    ClusterResourceQuota, ClusterResourceQuotaSelector, ClusterResourceQuotaSpec,
};
use crate::facts::{ClusterFacts, ClusterFlavor};
use crate::plan::{TENANT_LABEL, TenantObject, owned_labels};
use crate::quantity::Amount;
use crate::resolved::{Compute, Container};
use crate::score::TenantScore;

/// Name of the tenant's ResourceQuota.
const QUOTA_NAME: &str = "tenant-quota";
/// Name of the tenant's LimitRange.
const LIMITS_NAME: &str = "tenant-limits";
/// The suffix of the quota key capping the storage claimed from one StorageClass
/// (`<class>.storageclass.storage.k8s.io/requests.storage`): the allowed classes' caps, 0 for the
/// cluster's other classes.
pub const STORAGE_CLASS_QUOTA_SUFFIX: &str = ".storageclass.storage.k8s.io/requests.storage";

/// The ResourceQuota and the LimitRange of `score`.
pub(super) fn objects(score: &TenantScore, facts: &ClusterFacts) -> [TenantObject; 2] {
    [
        TenantObject::ResourceQuota(ResourceQuota {
            metadata: namespaced(score, QUOTA_NAME),
            spec: Some(ResourceQuotaSpec {
                hard: Some(hard(score, facts)),
                ..ResourceQuotaSpec::default()
            }),
            ..ResourceQuota::default()
        }),
        TenantObject::LimitRange(LimitRange {
            metadata: namespaced(score, LIMITS_NAME),
            spec: Some(limit_range(score)),
        }),
    ]
}

/// On OKD, the ClusterResourceQuota `harmony-tenant-<tenant>` capping the tenant's namespaces
/// together at the tenant's totals of compute, pods and storage (object counts stay per
/// namespace: each namespace holds Harmony's own ConfigMap, Roles and RoleBindings). Kubernetes
/// has no such object: there the namespaces' quotas are validated to add up to the total.
pub(super) fn cluster_quota(score: &TenantScore, facts: &ClusterFacts) -> Option<TenantObject> {
    if facts.flavor != ClusterFlavor::Okd {
        return None;
    }
    let tenant_wide = |key: &str| {
        key.starts_with("requests.")
            || key.starts_with("limits.")
            || key == "pods"
            || key.ends_with(STORAGE_CLASS_QUOTA_SUFFIX)
    };
    let hard = hard(score, facts)
        .into_iter()
        .filter(|(key, _)| tenant_wide(key))
        .collect();
    Some(TenantObject::ClusterResourceQuota(ClusterResourceQuota {
        metadata: ObjectMeta {
            name: Some(cluster_quota_name(score.name())),
            labels: Some(owned_labels(score.name())),
            ..ObjectMeta::default()
        },
        spec: ClusterResourceQuotaSpec {
            selector: ClusterResourceQuotaSelector {
                labels: Some(LabelSelector {
                    match_labels: Some(BTreeMap::from([(
                        TENANT_LABEL.to_string(),
                        score.name().to_string(),
                    )])),
                    ..LabelSelector::default()
                }),
            },
            quota: ResourceQuotaSpec {
                hard: Some(hard),
                ..ResourceQuotaSpec::default()
            },
        },
    }))
}

/// The name of the ClusterResourceQuota of `tenant`.
pub fn cluster_quota_name(tenant: &str) -> String {
    format!("harmony-tenant-{tenant}")
}

/// The quota's `hard` limits: compute, object counts and storage.
fn hard(score: &TenantScore, facts: &ClusterFacts) -> BTreeMap<String, Quantity> {
    let quota = score.resource_quotas.resolved();
    let mut hard = BTreeMap::new();
    insert_compute(&mut hard, "requests", &quota.requests);
    insert_compute(&mut hard, "limits", &quota.limits);
    let o = &quota.objects;
    let allowed = &score.storage_access.storage_classes;
    let pvcs = if allowed.is_empty() {
        0
    } else {
        o.persistent_volume_claims
    };
    for (key, count) in [
        ("pods", o.pods),
        ("services", o.services),
        ("secrets", o.secrets),
        ("configmaps", o.config_maps),
        ("persistentvolumeclaims", pvcs),
        ("replicationcontrollers", o.replication_controllers),
        ("resourcequotas", o.resource_quotas),
        ("services.nodeports", o.node_ports),
        ("services.loadbalancers", o.load_balancers),
        ("count/deployments.apps", o.deployments),
        ("count/statefulsets.apps", o.stateful_sets),
        ("count/replicasets.apps", o.replica_sets),
        ("count/jobs.batch", o.jobs),
        ("count/cronjobs.batch", o.cron_jobs),
        ("count/ingresses.networking.k8s.io", o.ingresses),
        (
            "count/poddisruptionbudgets.policy",
            o.pod_disruption_budgets,
        ),
        ("count/serviceaccounts", o.service_accounts),
        ("count/roles.rbac.authorization.k8s.io", o.roles),
        (
            "count/rolebindings.rbac.authorization.k8s.io",
            o.role_bindings,
        ),
    ] {
        hard.insert(key.into(), Quantity(count.to_string()));
    }
    for class in &facts.storage_classes {
        hard.insert(class_key(class), Quantity("0".into()));
    }
    let mut total = Amount::default();
    for class in allowed {
        total = total
            + Amount::parse(&class.requests.0)
                .expect("a validated score has quantity storage caps");
        hard.insert(class_key(&class.name), class.requests.clone());
    }
    hard.insert("requests.storage".into(), total.to_quantity());
    hard
}

/// The quota key capping storage requested from `class`.
fn class_key(class: &str) -> String {
    format!("{class}{STORAGE_CLASS_QUOTA_SUFFIX}")
}

/// Inserts `<prefix>.cpu`, `<prefix>.memory` and `<prefix>.ephemeral-storage`.
fn insert_compute(hard: &mut BTreeMap<String, Quantity>, prefix: &str, c: &Compute) {
    hard.insert(format!("{prefix}.cpu"), c.cpu.clone());
    hard.insert(format!("{prefix}.memory"), c.memory.clone());
    hard.insert(
        format!("{prefix}.ephemeral-storage"),
        c.ephemeral_storage.clone(),
    );
}

/// One `Container` item: default limit, default request and maximum.
fn limit_range(score: &TenantScore) -> LimitRangeSpec {
    let quota = score.resource_quotas.resolved();
    LimitRangeSpec {
        limits: vec![LimitRangeItem {
            type_: "Container".into(),
            default: Some(container(&quota.container_limit)),
            default_request: Some(container(&quota.container_request)),
            max: Some(container(&quota.container_max)),
            ..LimitRangeItem::default()
        }],
    }
}

/// `cpu`, `memory` and `ephemeral-storage` of one container.
fn container(c: &Container) -> BTreeMap<String, Quantity> {
    BTreeMap::from([
        ("cpu".into(), c.cpu.clone()),
        ("memory".into(), c.memory.clone()),
        ("ephemeral-storage".into(), c.ephemeral_storage.clone()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defaults;

    fn quota(score: &TenantScore, facts: &ClusterFacts) -> BTreeMap<String, String> {
        hard(score, facts)
            .into_iter()
            .map(|(k, v)| (k, v.0))
            .collect()
    }

    fn facts_with_classes(classes: &[&str]) -> ClusterFacts {
        ClusterFacts {
            storage_classes: classes.iter().map(|c| c.to_string()).collect(),
            ..ClusterFacts::kubernetes()
        }
    }

    #[test]
    fn defaults_cover_every_key_with_nodeports_and_loadbalancers_at_zero() {
        let hard = quota(&TenantScore::new("acme"), &ClusterFacts::kubernetes());
        for key in [
            "requests.cpu",
            "requests.memory",
            "requests.ephemeral-storage",
            "limits.cpu",
            "limits.memory",
            "limits.ephemeral-storage",
            "pods",
            "services",
            "secrets",
            "configmaps",
            "persistentvolumeclaims",
            "replicationcontrollers",
            "resourcequotas",
            "services.nodeports",
            "services.loadbalancers",
            "requests.storage",
            "count/deployments.apps",
            "count/statefulsets.apps",
            "count/replicasets.apps",
            "count/jobs.batch",
            "count/cronjobs.batch",
            "count/ingresses.networking.k8s.io",
            "count/poddisruptionbudgets.policy",
            "count/serviceaccounts",
            "count/roles.rbac.authorization.k8s.io",
            "count/rolebindings.rbac.authorization.k8s.io",
        ] {
            assert!(hard.contains_key(key), "missing {key}");
        }
        assert_eq!(hard["services.nodeports"], "0");
        assert_eq!(hard["services.loadbalancers"], "0");
        assert_eq!(hard["requests.cpu"], defaults::REQUESTS_CPU);
        assert_eq!(hard["pods"], defaults::PODS.to_string());
        assert_eq!(
            hard["count/deployments.apps"],
            defaults::DEPLOYMENTS.to_string()
        );
        assert_eq!(
            hard["count/rolebindings.rbac.authorization.k8s.io"],
            defaults::ROLE_BINDINGS.to_string()
        );
    }

    #[test]
    fn object_counts_in_the_file_override_their_defaults() {
        let mut score = TenantScore::new("acme");
        score.resource_quotas.objects.deployments = Some(3);
        score.resource_quotas.objects.replica_sets = Some(40);
        let hard = quota(&score, &ClusterFacts::kubernetes());
        assert_eq!(hard["count/deployments.apps"], "3");
        assert_eq!(hard["count/replicasets.apps"], "40");
        assert_eq!(hard["count/jobs.batch"], defaults::JOBS.to_string());
    }

    #[test]
    fn score_values_override_defaults() {
        let score = TenantScore::new("acme")
            .requests("8", "16Gi")
            .limits("16", "32Gi")
            .max_pods(7);
        let hard = quota(&score, &ClusterFacts::kubernetes());
        assert_eq!(hard["requests.cpu"], "8");
        assert_eq!(hard["limits.memory"], "32Gi");
        assert_eq!(hard["pods"], "7");
    }

    #[test]
    fn no_allowed_class_means_no_pvcs_and_no_storage() {
        let hard = quota(
            &TenantScore::new("acme"),
            &facts_with_classes(&["fast", "slow"]),
        );
        assert_eq!(hard["persistentvolumeclaims"], "0");
        assert_eq!(hard["requests.storage"], "0");
        assert_eq!(hard[&class_key("fast")], "0");
        assert_eq!(hard[&class_key("slow")], "0");
    }

    #[test]
    fn allowed_classes_get_their_cap_and_the_others_zero() {
        let score = TenantScore::new("acme")
            .storage_class("fast", "100Gi")
            .storage_class("archive", "50Gi");
        let hard = quota(&score, &facts_with_classes(&["fast", "slow"]));
        assert_eq!(hard[&class_key("fast")], "100Gi");
        assert_eq!(hard[&class_key("archive")], "50Gi");
        assert_eq!(hard[&class_key("slow")], "0");
        assert_eq!(hard["requests.storage"], "150Gi");
        assert_eq!(
            hard["persistentvolumeclaims"],
            defaults::PERSISTENT_VOLUME_CLAIMS.to_string()
        );
    }

    #[test]
    fn limit_range_has_one_container_item() {
        let spec = limit_range(&TenantScore::new("acme"));
        let [item] = spec.limits.as_slice() else {
            panic!("expected one item, got {:?}", spec.limits);
        };
        assert_eq!(item.type_, "Container");
        let get =
            |m: &Option<BTreeMap<String, Quantity>>, k: &str| m.as_ref().unwrap()[k].0.clone();
        assert_eq!(get(&item.default, "cpu"), defaults::CONTAINER_LIMIT_CPU);
        assert_eq!(
            get(&item.default_request, "memory"),
            defaults::CONTAINER_REQUEST_MEMORY
        );
        assert_eq!(get(&item.max, "cpu"), defaults::CONTAINER_MAX_CPU);
        assert_eq!(
            get(&item.default_request, "ephemeral-storage"),
            defaults::CONTAINER_REQUEST_EPHEMERAL_STORAGE
        );
        assert_eq!(
            get(&item.default, "ephemeral-storage"),
            defaults::CONTAINER_LIMIT_EPHEMERAL_STORAGE
        );
        assert_eq!(
            get(&item.max, "ephemeral-storage"),
            defaults::CONTAINER_MAX_EPHEMERAL_STORAGE
        );
        assert!(item.min.is_none());
    }
}
