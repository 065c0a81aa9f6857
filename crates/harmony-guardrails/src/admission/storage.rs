//! Tenant PVCs: only the tenant's StorageClasses (read from its parameter ConfigMap), and never
//! bound by `volumeName` or `selector` to an existing PersistentVolume, which may hold another
//! tenant's data.
//!
//! The class is checked on CREATE, after the DefaultStorageClass admission plugin has filled in
//! the default class (mutation runs before validation); the API server keeps it immutable
//! afterwards. `volumeName` may be set once on a pending claim: on UPDATE only the volume binder
//! of kube-controller-manager may do it.

use super::{AdmissionRule, Draft, build, cel, resources, validation};
use crate::guardrail::GuardrailId;
use crate::score::ClusterGuardrailsScore;
use harmony_tenant::{PARAMS_NAME, STORAGE_CLASS_KEY_PREFIX};

/// The binding that judges updates, which need no parameters (it binds the same policy).
pub(crate) const UPDATES_BINDING: &str = "harmony-tenant-volume-binding";

pub(super) fn rule(score: &ClusterGuardrailsScore) -> AdmissionRule {
    let binders = cel::list(score.volume_binders.iter().map(String::as_str));
    build(Draft {
        id: GuardrailId::TenantStorage,
        resources: vec![resources(
            "",
            &["persistentvolumeclaims"],
            &["CREATE", "UPDATE"],
        )],
        tenant_namespaces_only: true,
        per_tenant_params: Some(UPDATES_BINDING),
        match_conditions: vec![],
        validations: vec![
            validation(
                format!(
                    "request.operation != 'CREATE' || (has(object.spec.storageClassName) && has(params.data) && ({} + object.spec.storageClassName) in params.data)",
                    cel::string(STORAGE_CLASS_KEY_PREFIX)
                ),
                format!(
                    "spec.storageClassName: this StorageClass is not allowed to the tenant (allowed ones are the `{STORAGE_CLASS_KEY_PREFIX}<name>` keys of ConfigMap {PARAMS_NAME} in this namespace): name an allowed class, or ask the platform team to allow this one in the tenant file"
                ),
            ),
            validation(
                "request.operation != 'CREATE' || !has(object.spec.volumeName) || object.spec.volumeName == ''".into(),
                "spec.volumeName: tenants cannot claim an existing PersistentVolume by name: remove volumeName and let the StorageClass provision a volume",
            ),
            validation(
                "!has(object.spec.selector)".into(),
                "spec.selector: tenants cannot select existing PersistentVolumes by label: remove selector and let the StorageClass provision a volume",
            ),
            validation(
                format!(
                    "request.operation != 'UPDATE' || (has(oldObject.spec.volumeName) && oldObject.spec.volumeName != '') || !has(object.spec.volumeName) || object.spec.volumeName == '' || request.userInfo.username in {binders}"
                ),
                "spec.volumeName: only the PersistentVolume controller binds a pending claim to a volume: remove volumeName from the update",
            ),
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::simulator::{Request, Verdict};
    use harmony_tenant::TenantScore;
    use harmony_tenant::tenant_parameters;
    use serde_json::{Value, json};

    fn claim(spec: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
               "metadata": {"name": "data", "namespace": "acme"}, "spec": spec})
    }

    fn params() -> Value {
        let tenant = TenantScore::new("acme").storage_class("standard", "100Gi");
        serde_json::to_value(tenant_parameters(&tenant)).unwrap()
    }

    fn create(spec: Value) -> Verdict {
        Request::create("", "persistentvolumeclaims", claim(spec))
            .in_tenant_namespace("acme")
            .by("alice@acme.com")
            .with_params(params())
            .admit(&rule(&ClusterGuardrailsScore::default()))
    }

    fn sized(mut spec: Value) -> Value {
        spec["accessModes"] = json!(["ReadWriteOnce"]);
        spec["resources"] = json!({"requests": {"storage": "1Gi"}});
        spec
    }

    #[test]
    fn allows_claims_of_allowed_classes() {
        let verdict = create(sized(json!({"storageClassName": "standard"})));
        assert_eq!(verdict, Verdict::Allowed);
    }

    #[test]
    fn refuses_other_missing_and_empty_classes() {
        for spec in [
            json!({"storageClassName": "fast-ssd"}),
            json!({}),
            json!({"storageClassName": ""}),
        ] {
            let verdict = create(sized(spec));
            assert!(verdict.refused_with("spec.storageClassName"), "{verdict:?}");
        }
    }

    #[test]
    fn a_tenant_without_classes_gets_no_claims() {
        let none = serde_json::to_value(tenant_parameters(&TenantScore::new("acme"))).unwrap();
        let verdict = Request::create(
            "",
            "persistentvolumeclaims",
            claim(sized(json!({"storageClassName": "standard"}))),
        )
        .in_tenant_namespace("acme")
        .with_params(none)
        .admit(&rule(&ClusterGuardrailsScore::default()));
        assert!(verdict.refused_with("spec.storageClassName"), "{verdict:?}");
    }

    #[test]
    fn refuses_claims_when_the_parameters_are_missing() {
        let verdict = Request::create(
            "",
            "persistentvolumeclaims",
            claim(sized(json!({"storageClassName": "standard"}))),
        )
        .in_tenant_namespace("acme")
        .admit(&rule(&ClusterGuardrailsScore::default()));
        assert!(verdict.refused_with("no params found"), "{verdict:?}");
    }

    #[test]
    fn refuses_binding_an_existing_volume_by_name_or_selector() {
        let by_name = create(sized(
            json!({"storageClassName": "standard", "volumeName": "pv-of-globex"}),
        ));
        assert!(by_name.refused_with("spec.volumeName"), "{by_name:?}");
        let by_selector = create(sized(json!({"storageClassName": "standard",
                                              "selector": {"matchLabels": {"tenant": "globex"}}})));
        assert!(by_selector.refused_with("spec.selector"), "{by_selector:?}");
    }

    #[test]
    fn updates_do_not_need_the_parameters_a_terminating_namespace_has_lost() {
        let pending = claim(sized(json!({"storageClassName": "standard"})));
        let mut released = pending.clone();
        released["metadata"]["finalizers"] = json!([]);
        let update = |user: &str, new: &Value| {
            Request::update("", "persistentvolumeclaims", pending.clone(), new.clone())
                .in_tenant_namespace("acme")
                .namespace_terminating()
                .by(user)
                .admit(&rule(&ClusterGuardrailsScore::default()))
        };
        let protection = "system:serviceaccount:kube-system:pvc-protection-controller";
        assert_eq!(update(protection, &released), Verdict::Allowed);
        let mut bound = pending.clone();
        bound["spec"]["volumeName"] = json!("pv-of-globex");
        let verdict = update("alice@acme.com", &bound);
        assert!(
            verdict.refused_with("only the PersistentVolume controller"),
            "{verdict:?}"
        );
    }

    #[test]
    fn only_the_volume_binder_binds_a_pending_claim() {
        let pending = claim(sized(json!({"storageClassName": "standard"})));
        let bound = claim(sized(
            json!({"storageClassName": "standard", "volumeName": "pvc-123"}),
        ));
        let update = |user: &str, old: &Value, new: &Value| {
            Request::update("", "persistentvolumeclaims", old.clone(), new.clone())
                .in_tenant_namespace("acme")
                .by(user)
                .with_params(params())
                .admit(&rule(&ClusterGuardrailsScore::default()))
        };
        let by_tenant = update("alice@acme.com", &pending, &bound);
        assert!(
            by_tenant.refused_with("only the PersistentVolume controller"),
            "{by_tenant:?}"
        );
        let binder = "system:serviceaccount:kube-system:persistent-volume-binder";
        assert_eq!(update(binder, &pending, &bound), Verdict::Allowed);
        let mut resized = bound.clone();
        resized["spec"]["resources"]["requests"]["storage"] = json!("2Gi");
        assert_eq!(update("alice@acme.com", &bound, &resized), Verdict::Allowed);
    }
}
