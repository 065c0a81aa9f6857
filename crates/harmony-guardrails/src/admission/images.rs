//! Tenant images, when the tenant file asks for it: every container, init container and
//! ephemeral container pulls its image (`imagePullPolicy: Always`, MTB DI-1), and images come
//! only from the listed registries.
//!
//! The registry of an image is its first path component when that has a `.` or a `:` or is
//! `localhost`, else `docker.io` (`nginx`, `library/nginx`). A listed registry, possibly with a
//! path prefix (`ghcr.io/acme`), allows the images under it. The API server defaults
//! `imagePullPolicy` before admission. On UPDATE (an image change, an added ephemeral container)
//! only new images and new containers are judged; the parameters are read then too, and a
//! namespace that has lost them (it is terminating) lets updates through.

use harmony_tenant::{PULL_POLICY_KEY, REGISTRY_KEY_PREFIX};
use k8s_openapi::api::admissionregistration::v1::ParamRef;

use super::{AdmissionRule, Draft, build, cel, resources, validation};
use crate::guardrail::GuardrailId;
use harmony_tenant::PARAMS_NAME;

/// The binding that judges updates (parameters optional).
pub(crate) const UPDATES_BINDING: &str = "harmony-tenant-image-updates";

/// The pod fields holding containers.
const CONTAINER_FIELDS: [&str; 3] = ["containers", "initContainers", "ephemeralContainers"];

/// Images whose first path component names a registry host.
const HAS_REGISTRY: &str = "^([^/]*[.:][^/]*|localhost)/";

/// Whether every container of every field passes `check` (over `c`), or was already in the old
/// pod as `kept` (over `o` and `c`) says.
fn every_container(check: &str, kept: &str) -> String {
    CONTAINER_FIELDS
        .iter()
        .map(|f| {
            format!(
                "(!has(object.spec.{f}) || object.spec.{f}.all(c, {check} || (request.operation == 'UPDATE' && has(oldObject.spec.{f}) && oldObject.spec.{f}.exists(o, {kept}))))"
            )
        })
        .collect::<Vec<_>>()
        .join(" && ")
}

pub(super) fn rule() -> AdmissionRule {
    let set = |key: &str| format!("(has(params.data) && {} in params.data)", cel::string(key));
    let is_registry = |k: &str| format!("{k}.startsWith({})", cel::string(REGISTRY_KEY_PREFIX));
    let restricted = format!(
        "(has(params.data) && params.data.exists(k, {}))",
        is_registry("k")
    );
    let allowed = format!(
        "params.data.exists(k, {} && (c.image.startsWith(params.data[k] + '/') || (params.data[k] == 'docker.io' && !c.image.matches({}))))",
        is_registry("k"),
        cel::string(HAS_REGISTRY)
    );
    let mut rule = build(Draft {
        id: GuardrailId::TenantImages,
        resources: vec![
            resources("", &["pods"], &["CREATE", "UPDATE"]),
            resources("", &["pods/ephemeralcontainers"], &["UPDATE"]),
        ],
        tenant_namespaces_only: true,
        per_tenant_params: Some(UPDATES_BINDING),
        match_conditions: vec![],
        validations: vec![
            validation(
                format!(
                    "!{} || ({})",
                    set(PULL_POLICY_KEY),
                    every_container(
                        "(has(c.imagePullPolicy) && c.imagePullPolicy == 'Always')",
                        "o.name == c.name"
                    )
                ),
                format!(
                    "imagePullPolicy: this tenant's containers must pull their images (key {PULL_POLICY_KEY} of ConfigMap {PARAMS_NAME}), so no image cached on a node is used without the tenant's credentials: set imagePullPolicy: Always on every container, init container and ephemeral container"
                ),
            ),
            validation(
                format!(
                    "!{restricted} || ({})",
                    every_container(&allowed, "o.name == c.name && o.image == c.image")
                ),
                format!(
                    "image: this registry is not allowed to the tenant (allowed ones are the values of the `{REGISTRY_KEY_PREFIX}<n>` keys of ConfigMap {PARAMS_NAME}; an image without a registry host comes from docker.io): use an image from an allowed registry, or ask the platform team to list the registry in spec.images.registries of the tenant file"
                ),
            ),
        ],
    });
    // Updates read the parameters too, but a namespace that lost them lets updates through.
    let params = rule.bindings[0]
        .spec
        .as_ref()
        .and_then(|s| s.param_ref.clone());
    let updates = rule.bindings[1]
        .spec
        .as_mut()
        .expect("bindings have a spec");
    updates.param_ref = params.map(|params| ParamRef {
        parameter_not_found_action: Some("Allow".into()),
        ..params
    });
    rule
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::simulator::{Request, Verdict};
    use harmony_tenant::TenantScore;
    use harmony_tenant::tenant_parameters;
    use serde_json::{Value, json};

    fn pod(containers: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": "app", "namespace": "acme"},
               "spec": {"containers": containers}})
    }

    fn container(image: &str, policy: &str) -> Value {
        json!({"name": "app", "image": image, "imagePullPolicy": policy})
    }

    fn params(tenant: TenantScore) -> Value {
        serde_json::to_value(tenant_parameters(&tenant)).unwrap()
    }

    fn create(tenant: TenantScore, containers: Value) -> Verdict {
        Request::create("", "pods", pod(containers))
            .in_tenant_namespace("acme")
            .by("system:serviceaccount:kube-system:replicaset-controller")
            .with_params(params(tenant))
            .admit(&rule())
    }

    #[test]
    fn a_tenant_without_image_settings_runs_any_image_with_any_policy() {
        let verdict = create(
            TenantScore::new("acme"),
            json!([
                container("quay.io/x/y:1", "IfNotPresent"),
                container("nginx", "Never")
            ]),
        );
        assert_eq!(verdict, Verdict::Allowed);
    }

    #[test]
    fn pull_policy_always_refuses_any_other_policy_in_any_container_field() {
        let tenant = || TenantScore::new("acme").pull_policy_always();
        assert_eq!(
            create(tenant(), json!([container("nginx", "Always")])),
            Verdict::Allowed
        );
        for policy in ["IfNotPresent", "Never"] {
            let verdict = create(tenant(), json!([container("nginx", policy)]));
            assert!(
                verdict.refused_with("imagePullPolicy: Always"),
                "{verdict:?}"
            );
        }
        let mut init = pod(json!([container("nginx", "Always")]));
        init["spec"]["initContainers"] = json!([container("busybox", "IfNotPresent")]);
        let verdict = Request::create("", "pods", init)
            .in_tenant_namespace("acme")
            .with_params(params(tenant()))
            .admit(&rule());
        assert!(verdict.refused_with("imagePullPolicy"), "{verdict:?}");
    }

    #[test]
    fn registries_are_read_from_the_image_reference() {
        let tenant = || {
            TenantScore::new("acme")
                .image_registry("registry.example.com")
                .image_registry("localhost:5000")
                .image_registry("ghcr.io/acme")
        };
        for image in [
            "registry.example.com/team/app:1.2",
            "registry.example.com/app@sha256:0123456789abcdef",
            "localhost:5000/app",
            "ghcr.io/acme/app:latest",
        ] {
            assert_eq!(
                create(tenant(), json!([container(image, "Always")])),
                Verdict::Allowed,
                "{image}"
            );
        }
        for image in [
            "nginx",
            "library/nginx:1.27",
            "docker.io/library/nginx",
            "registry.example.com.evil.io/app",
            "localhost/app",
            "localhost:5001/app",
            "ghcr.io/other/app",
            "ghcr.io/acme",
            "evil.io/registry.example.com/app",
        ] {
            let verdict = create(tenant(), json!([container(image, "Always")]));
            assert!(
                verdict.refused_with("image: this registry is not allowed"),
                "{image}: {verdict:?}"
            );
        }
    }

    #[test]
    fn docker_io_covers_images_without_a_registry_host() {
        let tenant = || TenantScore::new("acme").image_registry("docker.io");
        for image in [
            "nginx",
            "nginx:1.27",
            "library/nginx",
            "docker.io/library/nginx@sha256:ab",
        ] {
            assert_eq!(
                create(tenant(), json!([container(image, "Always")])),
                Verdict::Allowed,
                "{image}"
            );
        }
        for image in [
            "ghcr.io/x/y",
            "localhost/app",
            "localhost:5000/app",
            "my.registry/nginx",
        ] {
            let verdict = create(tenant(), json!([container(image, "Always")]));
            assert!(verdict.refused_with("image:"), "{image}: {verdict:?}");
        }
    }

    #[test]
    fn updates_judge_new_images_and_new_ephemeral_containers() {
        let tenant = || {
            TenantScore::new("acme")
                .pull_policy_always()
                .image_registry("ghcr.io")
        };
        let old = pod(json!([container("quay.io/legacy/app:1", "IfNotPresent")]));
        let update = |resource: &str, new: Value| {
            Request::update("", resource, old.clone(), new)
                .in_tenant_namespace("acme")
                .by("alice@acme.com")
                .with_params(params(tenant()))
                .admit(&rule())
        };
        let mut relabelled = old.clone();
        relabelled["metadata"]["labels"] = json!({"tier": "web"});
        assert_eq!(update("pods", relabelled), Verdict::Allowed);
        let mut retagged = old.clone();
        retagged["spec"]["containers"][0]["image"] = json!("quay.io/legacy/app:2");
        assert!(update("pods", retagged).refused_with("image:"));
        let mut moved = old.clone();
        moved["spec"]["containers"][0]["image"] = json!("ghcr.io/acme/app:2");
        assert_eq!(update("pods", moved), Verdict::Allowed);
        let debug = |image: &str, policy: &str| {
            let mut new = old.clone();
            new["spec"]["ephemeralContainers"] =
                json!([{"name": "debug", "image": image, "imagePullPolicy": policy}]);
            update("pods/ephemeralcontainers", new)
        };
        assert_eq!(debug("ghcr.io/tools/debug", "Always"), Verdict::Allowed);
        assert!(debug("busybox", "Always").refused_with("image:"));
        assert!(debug("ghcr.io/tools/debug", "IfNotPresent").refused_with("imagePullPolicy"));
    }

    #[test]
    fn creates_need_the_parameters_updates_do_not() {
        let create = Request::create("", "pods", pod(json!([container("nginx", "Always")])))
            .in_tenant_namespace("acme")
            .admit(&rule());
        assert!(create.refused_with("no params found"), "{create:?}");
        let old = pod(json!([container("quay.io/x", "IfNotPresent")]));
        let mut new = old.clone();
        new["metadata"]["finalizers"] = json!([]);
        let update = Request::update("", "pods", old, new)
            .in_tenant_namespace("acme")
            .namespace_terminating()
            .by("system:serviceaccount:kube-system:job-controller")
            .admit(&rule());
        assert_eq!(update, Verdict::Allowed);
    }
}
