//! Placement, image and disruption-budget guardrails, the ephemeral-storage LimitRange and the
//! object-count quota on a real control plane (`harmony_testkit::ControlPlane`), for a tenant
//! developer acting through impersonation: each rule refuses with Harmony's message and admits
//! the request next to it. Pods stay Pending (no node runs); admission is what is tested.

mod real;

use harmony_guardrails::GuardrailId;
use harmony_tenant::{Member, TenantRole, TenantScore};
use harmony_testkit::ControlPlane;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::node::v1::RuntimeClass;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::scheduling::v1::PriorityClass;
use kube::api::{Api, DeleteParams};
use real::{
    Actor, admission_rules, admitted, apply_guardrails, apply_tenants, developer_group, eventually,
    namespace_ready, parse, policies_type_check, post, refusal, refused, topology,
};
use serde_json::{Value, json};

/// The registry the tenant's images come from.
const REGISTRY: &str = "registry.example";

/// A tenant whose developers are the group `<name>-developers`: pods name PriorityClass
/// `tenant-batch` and RuntimeClass `gvisor` at most, pull always from [`REGISTRY`], and have at
/// most two Deployments.
fn tenant(name: &str) -> TenantScore {
    let mut tenant = TenantScore::new(name)
        .member(Member::group(
            "developers",
            TenantRole::Developer,
            developer_group(name),
        ))
        .priority_class("tenant-batch")
        .runtime_class("gvisor")
        .pull_policy_always()
        .image_registry(REGISTRY);
    tenant.resource_quotas.objects.deployments = Some(2);
    tenant
}

/// `harmony tenant apply`, which must succeed.
async fn apply_tenant(plane: &ControlPlane, tenant: &TenantScore) {
    apply_tenants(topology(plane).await, std::slice::from_ref(tenant), 1).await;
}

/// A pod Pod Security `restricted` and the tenant's rules admit, with `change` merged into its
/// spec (and `container` into its container).
fn pod(name: &str, change: Value, container: Value) -> Pod {
    let mut app = json!({
        "name": "app", "image": format!("{REGISTRY}/app:1"), "imagePullPolicy": "Always",
        "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}},
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                      "limits": {"cpu": "200m", "memory": "256Mi"}},
    });
    merge(&mut app, container);
    let mut spec = json!({
        "securityContext": {"runAsNonRoot": true, "runAsUser": 1000,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [app],
    });
    merge(&mut spec, change);
    parse(json!({"metadata": {"name": name}, "spec": spec}))
}

fn merge(target: &mut Value, change: Value) {
    for (key, value) in change.as_object().unwrap() {
        target[key] = value.clone();
    }
}

/// Cluster-wide classes: listed and unlisted PriorityClasses and RuntimeClasses.
async fn classes(plane: &ControlPlane) {
    let client = plane.client().await;
    let priorities: Api<PriorityClass> = Api::all(client.clone());
    for (name, value) in [("tenant-batch", 100), ("platform-high", 1_000_000)] {
        let class = parse(json!({"metadata": {"name": name}, "value": value}));
        admitted(
            "a PriorityClass",
            priorities.create(&post(false), &class).await,
        );
    }
    let runtimes: Api<RuntimeClass> = Api::all(client);
    for name in ["gvisor", "kata"] {
        let class = parse(json!({"metadata": {"name": name}, "handler": name}));
        admitted(
            "a RuntimeClass",
            runtimes.create(&post(false), &class).await,
        );
    }
}

/// `harmony-tenant-placement` and `harmony-tenant-images`: each refusal, and the compliant pod
/// (listed classes, a worker toleration) admitted with the LimitRange's ephemeral storage.
async fn pod_rules(pods: &Api<Pod>) {
    let placement = GuardrailId::TenantPlacement;
    let refusals = [
        (
            placement,
            json!({"nodeName": "master-0"}),
            json!({}),
            "spec.nodeName: tenant pods cannot choose their node",
        ),
        (
            placement,
            json!({"tolerations": [{"key": "node-role.kubernetes.io/control-plane",
                                    "operator": "Exists", "effect": "NoSchedule"}]}),
            json!({}),
            "spec.tolerations: tenant pods cannot tolerate the node-role.kubernetes.io/control-plane",
        ),
        (
            placement,
            json!({"tolerations": [{"operator": "Exists"}]}),
            json!({}),
            "nor every taint (operator Exists without a key)",
        ),
        (
            placement,
            json!({"priorityClassName": "platform-high"}),
            json!({}),
            "spec.priorityClassName: this PriorityClass is not allowed to the tenant",
        ),
        (
            placement,
            json!({"priorityClassName": "system-node-critical"}),
            json!({}),
            "spec.priorityClassName: this PriorityClass is not allowed to the tenant",
        ),
        (
            placement,
            json!({"runtimeClassName": "kata"}),
            json!({}),
            "spec.runtimeClassName: this RuntimeClass is not allowed to the tenant",
        ),
        (
            GuardrailId::TenantImages,
            json!({}),
            json!({"imagePullPolicy": "IfNotPresent"}),
            "imagePullPolicy: this tenant's containers must pull their images",
        ),
        (
            GuardrailId::TenantImages,
            json!({}),
            json!({"image": "quay.io/evil/app:1"}),
            "image: this registry is not allowed to the tenant",
        ),
        (
            GuardrailId::TenantImages,
            json!({}),
            json!({"image": "nginx"}),
            "image: this registry is not allowed to the tenant",
        ),
    ];
    for (rule, change, container, message) in refusals {
        let refused_pod = pod("refused", change, container);
        refused(rule, message, async |dry| {
            pods.create(&post(dry), &refused_pod).await
        })
        .await;
    }
    let neighbour = pod(
        "compliant",
        json!({"priorityClassName": "tenant-batch", "runtimeClassName": "gvisor",
               "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "acme",
                                "effect": "NoSchedule"}]}),
        json!({}),
    );
    let created = admitted(
        "the compliant pod",
        pods.create(&post(false), &neighbour).await,
    );
    let spec = created.spec.unwrap();
    // What the Priority plugin filled in before validation.
    assert_eq!(spec.priority, Some(100));
    let resources = spec.containers[0].resources.clone().unwrap();
    assert_eq!(
        resources.requests.unwrap()["ephemeral-storage"].0,
        harmony_tenant::defaults::CONTAINER_REQUEST_EPHEMERAL_STORAGE,
        "the LimitRange's default ephemeral-storage request"
    );
    assert_eq!(
        resources.limits.unwrap()["ephemeral-storage"].0,
        harmony_tenant::defaults::CONTAINER_LIMIT_EPHEMERAL_STORAGE,
        "the LimitRange's default ephemeral-storage limit"
    );
    let greedy = pod(
        "greedy",
        json!({}),
        json!({"resources": {"limits": {"cpu": "200m", "memory": "256Mi", "ephemeral-storage": "5Gi"}}}),
    );
    let result = pods.create(&post(false), &greedy).await;
    let status = refusal(&result).unwrap_or_else(|| panic!("greedy pod: {result:?}"));
    assert!(
        status
            .message
            .contains("maximum ephemeral-storage usage per Container is 4Gi"),
        "the LimitRange should cap ephemeral storage: {status:?}"
    );
}

/// `harmony-tenant-disruption-budgets`: budgets forbidding every eviction are refused.
async fn disruption_rule(namespace: &str, developer: &kube::Client) {
    let budgets: Api<PodDisruptionBudget> = Api::namespaced(developer.clone(), namespace);
    let budget = |name: &str, spec: Value| -> PodDisruptionBudget {
        let mut spec = spec;
        spec["selector"] = json!({"matchLabels": {"app": "web"}});
        parse(json!({"metadata": {"name": name}, "spec": spec}))
    };
    for (spec, message) in [
        (
            json!({"maxUnavailable": 0}),
            "spec.maxUnavailable: 0 forbids every eviction",
        ),
        (
            json!({"maxUnavailable": "0%"}),
            "spec.maxUnavailable: 0 forbids every eviction",
        ),
        (
            json!({"minAvailable": "100%"}),
            "spec.minAvailable: 100% forbids every eviction",
        ),
        (
            json!({"minAvailable": 1}),
            "spec.minAvailable: an integer forbids every eviction",
        ),
    ] {
        let refused_budget = budget("blocking", spec);
        refused(GuardrailId::TenantDisruptionBudgets, message, async |dry| {
            budgets.create(&post(dry), &refused_budget).await
        })
        .await;
    }
    for (name, spec) in [
        ("one-at-a-time", json!({"maxUnavailable": 1})),
        ("half", json!({"minAvailable": "50%"})),
    ] {
        admitted(
            "a PDB",
            budgets.create(&post(false), &budget(name, spec)).await,
        );
    }
}

/// The object-count quota refuses the third Deployment (the test tenant allows two).
async fn deployments_quota(developer: &kube::Client, namespace: &str) {
    let deployments: Api<Deployment> = Api::namespaced(developer.clone(), namespace);
    let deployment = |name: &str| -> Deployment {
        parse(json!({
            "metadata": {"name": name},
            "spec": {"replicas": 0, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "app",
                                                           "image": format!("{REGISTRY}/app:1")}]}}},
        }))
    };
    for name in ["web-1", "web-2"] {
        admitted(
            "a Deployment within the quota",
            deployments.create(&post(false), &deployment(name)).await,
        );
    }
    let result = deployments.create(&post(false), &deployment("web-3")).await;
    let status = refusal(&result).unwrap_or_else(|| panic!("third Deployment: {result:?}"));
    assert!(
        status.code == 403
            && status.message.contains("exceeded quota: tenant-quota")
            && status.message.contains("limited: count/deployments.apps=2"),
        "the quota should refuse the third Deployment: {status:?}"
    );
}

/// A `globalDefault` PriorityClass is filled into pods that name none before validation, so
/// the tenant must list it; once listed, a plain pod is admitted and carries it.
async fn global_default_priority(plane: &ControlPlane, tenant: &TenantScore, pods: &Api<Pod>) {
    let priorities: Api<PriorityClass> = Api::all(plane.client().await);
    let class = parse(json!({"metadata": {"name": "cluster-default"}, "value": 10,
                             "globalDefault": true}));
    admitted(
        "a globalDefault class",
        priorities.create(&post(false), &class).await,
    );
    let plain = pod("plain", json!({}), json!({}));
    refused(
        GuardrailId::TenantPlacement,
        "list that class too",
        async |dry| pods.create(&post(dry), &plain).await,
    )
    .await;
    let listed = tenant.clone().priority_class("cluster-default");
    apply_tenant(plane, &listed).await;
    let created = eventually("the plain pod admitted", async || {
        pods.create(&post(false), &plain)
            .await
            .map_err(|e| e.to_string())
    })
    .await;
    assert_eq!(
        created.spec.unwrap().priority_class_name.as_deref(),
        Some("cluster-default")
    );
    priorities
        .delete("cluster-default", &DeleteParams::default())
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn placement_images_budgets_and_counts_hold_on_kube_apiserver() {
    let plane = ControlPlane::shared();
    let _logs = plane.failure_guard();
    let name = ControlPlane::unique_name("acme");
    let acme = tenant(&name);
    classes(plane).await;
    apply_tenant(plane, &acme).await;
    namespace_ready(plane, &name).await;
    apply_guardrails(
        topology(plane).await,
        &admission_rules(),
        std::slice::from_ref(&acme),
    )
    .await;
    let ours = [
        GuardrailId::TenantPlacement,
        GuardrailId::TenantImages,
        GuardrailId::TenantDisruptionBudgets,
    ];
    let all = policies_type_check(plane, &ours).await;
    assert_eq!(all.len(), GuardrailId::ADMISSION.len());

    let developer = Actor::developer(&name).client(plane).await;
    let pods: Api<Pod> = Api::namespaced(developer.clone(), &name);
    pod_rules(&pods).await;
    disruption_rule(&name, &developer).await;
    deployments_quota(&developer, &name).await;
    global_default_priority(plane, &acme, &pods).await;
}
