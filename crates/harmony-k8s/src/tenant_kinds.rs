//! The kinds a tenant plan holds, from the one kind table.

use harmony_kube::kinds::Scope;
use harmony_kube::{Kind, ObjectRef};
use harmony_tenant::PlanObject;
use harmony_tenant::TenantObject;
use harmony_tenant::backup::crd::Schedule;
use harmony_tenant::cluster_quota::ClusterResourceQuota;
use harmony_tenant::monitoring::crd::{AlertmanagerConfig, PrometheusRule};
use k8s_openapi::Resource;
use k8s_openapi::api::core::v1::{ConfigMap, LimitRange, Namespace, ResourceQuota, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};

/// Every kind a tenant plan holds, in apply order.
pub(crate) const TENANT_KINDS: [Kind; 12] = [
    Kind::of::<Namespace>(),
    Kind::of::<ClusterResourceQuota>(),
    Kind::of::<ResourceQuota>(),
    Kind::of::<LimitRange>(),
    Kind::of::<ConfigMap>(),
    Kind::of::<NetworkPolicy>(),
    Kind::of::<PrometheusRule>(),
    Kind::of::<AlertmanagerConfig>(),
    Kind::of::<Schedule>(),
    Kind::of::<Role>(),
    Kind::of::<ServiceAccount>(),
    Kind::of::<RoleBinding>(),
];

/// The namespaced kinds that isolate a namespace: its NetworkPolicies, and the ResourceQuota,
/// LimitRange and guardrail parameters of the quotas phase. In a namespace the tenant left, which
/// still holds what ran there, they stay: only access and monitoring go.
pub(crate) const ISOLATING_KINDS: [Kind; 4] = [
    Kind::of::<NetworkPolicy>(),
    Kind::of::<ResourceQuota>(),
    Kind::of::<LimitRange>(),
    Kind::of::<ConfigMap>(),
];

/// Whether `kind` is served only by some clusters (the prometheus-operator API, OpenShift's
/// quota API, Velero's): a cluster that does not serve it holds no object of it.
pub(crate) fn optional(kind: Kind) -> bool {
    [
        PrometheusRule::GROUP,
        ClusterResourceQuota::GROUP,
        Schedule::GROUP,
    ]
    .contains(&kind.group())
}

/// The reference of a plan object.
pub(crate) fn object_ref(object: &TenantObject) -> ObjectRef {
    fn kind<K: Resource>(_: &K) -> Kind
    where
        K::Scope: Scope,
    {
        Kind::of::<K>()
    }
    let kind = match object {
        TenantObject::Namespace(o) => kind(o),
        TenantObject::ResourceQuota(o) => kind(o),
        TenantObject::LimitRange(o) => kind(o),
        TenantObject::ConfigMap(o) => kind(o),
        TenantObject::NetworkPolicy(o) => kind(o),
        TenantObject::Role(o) => kind(o),
        TenantObject::ServiceAccount(o) => kind(o),
        TenantObject::RoleBinding(o) => kind(o),
        TenantObject::PrometheusRule(o) => kind(o),
        TenantObject::AlertmanagerConfig(o) => kind(o),
        TenantObject::ClusterResourceQuota(o) => kind(o),
        TenantObject::Schedule(o) => kind(o),
    };
    ObjectRef {
        kind,
        namespace: object.namespace().unwrap_or_default().to_string(),
        name: object.name().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use harmony_tenant::monitoring::{AlertReceiver, WebhookReceiver};
    use harmony_tenant::{ClusterFacts, Member, TenantNamespace, TenantRole, TenantScore, compile};

    #[test]
    fn every_plan_object_is_of_a_tenant_kind_named_as_the_plan_names_it() {
        // Listed namespaces on OKD: the plan holds a ClusterResourceQuota too.
        let tenant = TenantScore::new("acme")
            .member(Member::user("alice", TenantRole::Admin, "alice@acme.com"))
            .member(Member::service_account("ci", TenantRole::Developer))
            .with_namespaces([TenantNamespace::new("acme")]);
        let mut tenant = tenant;
        tenant.monitoring.receivers.push(AlertReceiver {
            name: "hook".into(),
            email: None,
            webhook: Some(WebhookReceiver {
                url: Some("https://hooks.acme.example/alerts".into()),
                url_secret: None,
            }),
        });
        let facts = ClusterFacts {
            monitoring_api: true,
            velero_namespace: Some("velero".into()),
            ..ClusterFacts::okd()
        };
        let plan = compile(&tenant, &facts);
        let kinds: std::collections::BTreeSet<_> =
            plan.objects().iter().map(|o| object_ref(o).kind).collect();
        assert_eq!(kinds.len(), TENANT_KINDS.len(), "{kinds:?}");
        for object in plan.objects() {
            let target = object_ref(object);
            assert!(TENANT_KINDS.contains(&target.kind), "{target}");
            assert_eq!(target.kind.name(), object.kind());
            assert_eq!(target.kind.namespaced(), object.namespace().is_some());
        }
    }
}
