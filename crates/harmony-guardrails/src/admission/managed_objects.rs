//! What Harmony manages in a tenant namespace (quotas, limit ranges, network policies, roles,
//! role bindings, the guardrail parameters, the monitoring rules and alert routing) is created,
//! changed and deleted only by Harmony.
//!
//! An object is Harmony's when it carries `app.kubernetes.io/managed-by: harmony`, before or
//! after the change, so the label can neither be removed (to take an object over) nor added (to
//! forge one, such as the parameter ConfigMap before Harmony writes it). Once the namespace
//! itself is being deleted, its content may go: the namespace controller empties it.
//!
//! ServiceAccounts are left out: OKD's controllers update them (image pull secrets).

use harmony_tenant::monitoring::crd::{AlertmanagerConfig, PrometheusRule};
use harmony_tenant::{MANAGED_BY_LABEL, MANAGED_BY_VALUE};
use k8s_openapi::Resource;
use k8s_openapi::api::core::v1::{ConfigMap, LimitRange, ResourceQuota};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};

use super::{AdmissionRule, Draft, build, cel, unless_trusted, validation, versioned};
use crate::guardrail::GuardrailId;
use crate::score::ClusterGuardrailsScore;

/// `(API group, version, resource)` of the k8s-openapi type `K`, as admission rules name it.
const fn served<K: Resource>() -> (&'static str, &'static str, &'static str) {
    (K::GROUP, K::VERSION, K::URL_PATH_SEGMENT)
}

/// The objects this rule protects, those of one API group next to each other.
const PROTECTED: [(&str, &str, &str); 8] = [
    served::<ResourceQuota>(),
    served::<LimitRange>(),
    served::<ConfigMap>(),
    served::<NetworkPolicy>(),
    served::<Role>(),
    served::<RoleBinding>(),
    served::<PrometheusRule>(),
    served::<AlertmanagerConfig>(),
];

pub(super) fn rule(score: &ClusterGuardrailsScore) -> AdmissionRule {
    let operations = ["CREATE", "UPDATE", "DELETE"];
    let managed = |var| cel::label_is(var, MANAGED_BY_LABEL, MANAGED_BY_VALUE);
    build(Draft {
        id: GuardrailId::ManagedObjects,
        resources: PROTECTED
            .chunk_by(|a, b| a.0 == b.0)
            .map(|group| {
                let plurals: Vec<&str> = group.iter().map(|(_, _, plural)| *plural).collect();
                let mut versions: Vec<&str> =
                    group.iter().map(|(_, version, _)| *version).collect();
                versions.dedup();
                versioned(group[0].0, &versions, &plurals, &operations)
            })
            .collect(),
        tenant_namespaces_only: true,
        per_tenant_params: None,
        match_conditions: vec![unless_trusted(score)],
        validations: vec![validation(
            format!(
                "has(namespaceObject.metadata.deletionTimestamp) || !(request.operation == 'DELETE' ? {old} : ({new} || (request.operation == 'UPDATE' && {old})))",
                old = managed("oldObject"),
                new = managed("object"),
            ),
            format!(
                "this object is managed by Harmony (label {MANAGED_BY_LABEL}={MANAGED_BY_VALUE}): only Harmony creates, changes or deletes it; ask the platform team to change the tenant file"
            ),
        )],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::simulator::{Request, Verdict};
    use harmony_tenant::PlanObject;
    use harmony_tenant::{ClusterFacts, TenantObject, TenantScore, compile};
    use serde_json::{Value, json};

    fn score() -> ClusterGuardrailsScore {
        ClusterGuardrailsScore::default()
    }

    /// `(API group, resource)` of `object`'s k8s-openapi type.
    fn served_as<K: Resource>(_: &K) -> (&'static str, &'static str) {
        (K::GROUP, K::URL_PATH_SEGMENT)
    }

    /// Every object Harmony puts in a tenant namespace, with its API group and resource.
    fn managed_objects() -> Vec<(&'static str, &'static str, Value)> {
        let tenant = TenantScore::new("acme").member(harmony_tenant::Member::user(
            "alice",
            harmony_tenant::TenantRole::Admin,
            "alice@acme.com",
        ));
        let mut tenant = tenant;
        tenant
            .monitoring
            .receivers
            .push(harmony_tenant::monitoring::AlertReceiver {
                name: "chat".into(),
                email: None,
                webhook: Some(harmony_tenant::monitoring::WebhookReceiver {
                    url: Some("https://hooks.acme.example/alerts".into()),
                    url_secret: None,
                }),
            });
        let facts = ClusterFacts {
            monitoring_api: true,
            ..ClusterFacts::kubernetes()
        };
        let plan = compile(&tenant, &facts);
        let objects: Vec<_> = plan
            .objects()
            .iter()
            .filter_map(|o| {
                let (group, resource) = match o {
                    TenantObject::ResourceQuota(o) => served_as(o),
                    TenantObject::LimitRange(o) => served_as(o),
                    TenantObject::ConfigMap(o) => served_as(o),
                    TenantObject::NetworkPolicy(o) => served_as(o),
                    TenantObject::Role(o) => served_as(o),
                    TenantObject::RoleBinding(o) => served_as(o),
                    TenantObject::PrometheusRule(o) => served_as(o),
                    TenantObject::AlertmanagerConfig(o) => served_as(o),
                    // Cluster-scoped (tenants cannot write it), in Velero's namespace (never a
                    // tenant's), or not guarded by this rule.
                    TenantObject::Namespace(_)
                    | TenantObject::ServiceAccount(_)
                    | TenantObject::ClusterResourceQuota(_)
                    | TenantObject::Schedule(_) => return None,
                };
                Some((group, resource, o.to_json()))
            })
            .collect();
        assert!(
            objects
                .iter()
                .any(|(_, resource, _)| *resource == ConfigMap::URL_PATH_SEGMENT)
        );
        objects
    }

    fn tenant_admin(request: Request) -> Verdict {
        request
            .in_tenant_namespace("acme")
            .by("alice@acme.com")
            .in_groups(&["system:authenticated"])
            .admit(&rule(&score()))
    }

    #[test]
    fn tenants_cannot_change_or_delete_what_harmony_manages() {
        let objects = managed_objects();
        assert!(objects.len() >= 8, "{objects:?}");
        for kind in ["PrometheusRule", "AlertmanagerConfig"] {
            assert!(objects.iter().any(|(_, _, o)| o["kind"] == kind), "{kind}");
        }
        for (group, resource, object) in objects {
            let mut changed = object.clone();
            changed["metadata"]["annotations"] = json!({"edited": "yes"});
            let update = tenant_admin(Request::update(group, resource, object.clone(), changed));
            assert!(
                update.refused_with("managed by Harmony"),
                "{resource}: {update:?}"
            );
            let delete = tenant_admin(Request::delete(group, resource, object.clone()));
            assert!(
                delete.refused_with("managed by Harmony"),
                "{resource}: {delete:?}"
            );
            let mut unlabelled = object.clone();
            unlabelled["metadata"]["labels"]
                .as_object_mut()
                .unwrap()
                .remove(MANAGED_BY_LABEL);
            let takeover = tenant_admin(Request::update(group, resource, object, unlabelled));
            assert!(
                takeover.refused_with("managed by Harmony"),
                "{resource}: {takeover:?}"
            );
        }
    }

    #[test]
    fn tenants_cannot_forge_a_managed_object() {
        let forged = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "harmony-guardrails", "namespace": "acme",
                         "labels": {MANAGED_BY_LABEL: "harmony"}},
            "data": {"storage-class.premium": "allowed"}});
        let (group, _, resource) = served::<ConfigMap>();
        let verdict = tenant_admin(Request::create(group, resource, forged));
        assert!(verdict.refused_with("managed by Harmony"), "{verdict:?}");
    }

    #[test]
    fn tenants_keep_their_own_objects() {
        let own = json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "allow-web", "namespace": "acme", "labels": {"app": "web"}},
            "spec": {"podSelector": {}}});
        let mut changed = own.clone();
        changed["spec"]["policyTypes"] = json!(["Ingress"]);
        let (group, _, resource) = served::<NetworkPolicy>();
        for request in [
            Request::create(group, resource, own.clone()),
            Request::update(group, resource, own.clone(), changed),
            Request::delete(group, resource, own),
        ] {
            assert_eq!(tenant_admin(request), Verdict::Allowed);
        }
    }

    #[test]
    fn harmony_changes_them_and_namespace_deletion_empties_them() {
        for (group, resource, object) in managed_objects() {
            let by_harmony = Request::delete(group, resource, object.clone())
                .in_tenant_namespace("acme")
                .by(crate::score::DEFAULT_HARMONY_IDENTITY)
                .admit(&rule(&score()));
            assert_eq!(by_harmony, Verdict::NotMatched, "{resource}");
            let by_namespace_controller = Request::delete(group, resource, object)
                .in_tenant_namespace("acme")
                .namespace_terminating()
                .by("system:serviceaccount:kube-system:namespace-controller")
                .admit(&rule(&score()));
            assert_eq!(by_namespace_controller, Verdict::Allowed, "{resource}");
        }
    }
}
