//! Placement, image and disruption-budget guardrails, the ephemeral-storage LimitRange and the
//! object-count quota on a real control plane (`harmony_testkit::ControlPlane`), for a tenant
//! developer acting through impersonation: each rule refuses with Harmony's message and admits
//! the request next to it. Pods stay Pending (no node runs); admission is what is tested.

use std::fmt::Debug;
use std::time::{Duration, Instant};

use harmony::{Maestro, Score};
use harmony_guardrails::{ClusterGuardrailsScore, GuardrailId, GuardrailsScore, Toggle};
use harmony_k8s::{ApplyOptions, FactsSource, K8sTopology, cluster_from_config};
use harmony_tenant::{MANAGED_BY_LABEL, Member, TenantRole, TenantScore};
use harmony_testkit::ControlPlane;
use k8s_openapi::api::admissionregistration::v1::ValidatingAdmissionPolicy;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Pod, ResourceQuota, ServiceAccount};
use k8s_openapi::api::node::v1::RuntimeClass;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::scheduling::v1::PriorityClass;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::core::Status;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// How long a written object may take to be seen by the API server's admission or controllers.
const SETTLE: Duration = Duration::from_secs(60);

/// The registry the tenant's images come from.
const REGISTRY: &str = "registry.example";

/// Polls `ready` until it gives a value or [`SETTLE`] has passed.
async fn eventually<T>(what: &str, ready: impl AsyncFn() -> Result<T, String>) -> T {
    let deadline = Instant::now() + SETTLE;
    loop {
        match ready().await {
            Ok(value) => return value,
            Err(last) if Instant::now() > deadline => {
                panic!("{what}: not within {SETTLE:?}; last: {last}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

fn parse<K: DeserializeOwned>(value: Value) -> K {
    serde_json::from_value(value).unwrap()
}

fn post(dry_run: bool) -> PostParams {
    PostParams {
        dry_run,
        ..PostParams::default()
    }
}

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

fn developer_group(tenant: &str) -> String {
    format!("{tenant}-developers")
}

async fn topology(plane: &ControlPlane) -> K8sTopology {
    let cluster = cluster_from_config(plane.config().await).unwrap();
    let facts = FactsSource {
        pod_networks: vec![plane.pod_network()],
        service_networks: vec![plane.service_network()],
        ..FactsSource::default()
    };
    K8sTopology::new(cluster, facts, ApplyOptions::default())
}

/// `harmony tenant apply`, which must succeed.
async fn apply_tenant(plane: &ControlPlane, tenant: &TenantScore) {
    let mut maestro = Maestro::new(topology(plane).await);
    maestro.register([Box::new(tenant.clone()) as Box<dyn Score<K8sTopology>>]);
    let report = maestro.run().await.unwrap();
    assert!(report.all_succeeded(), "{:?}", report.results);
}

/// `harmony cluster guardrails apply` (admission rules only), which must succeed.
async fn apply_guardrails(plane: &ControlPlane, tenants: &[TenantScore]) {
    let mut maestro = Maestro::new(topology(plane).await);
    let score = GuardrailsScore {
        guardrails: ClusterGuardrailsScore::default().network_tiers(Toggle::Disabled),
        tenants: tenants.to_vec(),
    };
    maestro.register([Box::new(score) as Box<dyn Score<K8sTopology>>]);
    let mut report = maestro.run().await.unwrap();
    report
        .results
        .remove(0)
        .result
        .unwrap_or_else(|e| panic!("guardrails apply: {e}"));
}

/// The three policies of this file are on the server, type-checked without a warning.
async fn policies_type_check(plane: &ControlPlane) {
    let policies: Api<ValidatingAdmissionPolicy> = Api::all(plane.client().await);
    let ours = [
        GuardrailId::TenantPlacement,
        GuardrailId::TenantImages,
        GuardrailId::TenantDisruptionBudgets,
    ];
    for id in ours {
        let name = id.object_name();
        let policy = eventually(&format!("{name} type-checked"), async || {
            let policy = policies.get(name).await.map_err(|e| e.to_string())?;
            let observed = policy.status.as_ref().and_then(|s| s.observed_generation);
            if observed.is_some() && observed == policy.metadata.generation {
                Ok(policy)
            } else {
                Err(format!("{:?}", policy.status))
            }
        })
        .await;
        let warnings = policy
            .status
            .and_then(|s| s.type_checking)
            .and_then(|t| t.expression_warnings)
            .unwrap_or_default();
        assert!(
            warnings.is_empty(),
            "kube-apiserver type-checks {name} with warnings: {warnings:?}"
        );
    }
    let selector = format!("{MANAGED_BY_LABEL}=harmony");
    let all = policies
        .list(&ListParams::default().labels(&selector))
        .await
        .unwrap();
    assert_eq!(all.items.len(), GuardrailId::ADMISSION.len());
}

/// Waits until the namespace has its `default` ServiceAccount and its quota is counted.
async fn namespace_ready(plane: &ControlPlane, namespace: &str) {
    let client = plane.client().await;
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), namespace);
    let quotas: Api<ResourceQuota> = Api::namespaced(client, namespace);
    eventually(&format!("{namespace} ready for pods"), async || {
        let account = accounts
            .get_opt("default")
            .await
            .map_err(|e| e.to_string())?;
        let quota = quotas
            .get("tenant-quota")
            .await
            .map_err(|e| e.to_string())?;
        let counted = quota.status.as_ref().is_some_and(|s| s.hard.is_some());
        match (account, counted) {
            (Some(_), true) => Ok(()),
            (account, counted) => Err(format!(
                "default ServiceAccount: {}, quota counted: {counted}",
                account.is_some()
            )),
        }
    })
    .await;
}

fn refusal<T>(result: &kube::Result<T>) -> Option<&Status> {
    match result {
        Err(kube::Error::Api(status)) => Some(status),
        _ => None,
    }
}

/// Whether `status` is the refusal of `policy`, through any of its bindings.
fn refused_by_policy(status: &Status, policy: &str) -> bool {
    status.message.contains(&format!(
        "ValidatingAdmissionPolicy '{policy}' with binding '"
    )) && status.message.contains("' denied request: ")
}

/// `request` is refused by `rule` with Harmony's `message` (403 Forbidden); the server dry run is
/// repeated until the rule is in force, then the real request must be refused the same way.
async fn refused<T: Debug>(
    rule: GuardrailId,
    message: &str,
    request: impl AsyncFn(bool) -> kube::Result<T>,
) {
    let policy = rule.object_name();
    eventually(&format!("{policy} in force"), async || {
        let result = request(true).await;
        match refusal(&result) {
            Some(status) if refused_by_policy(status, policy) => Ok(()),
            _ => Err(format!("{result:?}")),
        }
    })
    .await;
    let result = request(false).await;
    let status = refusal(&result)
        .unwrap_or_else(|| panic!("{policy} should refuse ({message}); got {result:?}"));
    assert!(
        refused_by_policy(status, policy)
            && status.message.contains(message)
            && (status.code, status.reason.as_str()) == (403, "Forbidden"),
        "{policy} should refuse with `{message}`; got {status:?}"
    );
}

fn admitted<T>(what: &str, result: kube::Result<T>) -> T {
    result.unwrap_or_else(|e| panic!("{what} should be admitted: {e}"))
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
    apply_guardrails(plane, std::slice::from_ref(&acme)).await;
    policies_type_check(plane).await;

    let groups = [developer_group(&name)];
    let groups: Vec<&str> = groups
        .iter()
        .map(String::as_str)
        .chain(["system:authenticated"])
        .collect();
    let developer = kube::Client::try_from(plane.config_as("dana", &groups).await).unwrap();
    let pods: Api<Pod> = Api::namespaced(developer.clone(), &name);
    pod_rules(&pods).await;
    disruption_rule(&name, &developer).await;
    deployments_quota(&developer, &name).await;
    global_default_priority(plane, &acme, &pods).await;
}
