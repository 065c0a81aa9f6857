//! The token-Secret and ingress guardrails on a real control plane (`harmony_testkit::
//! ControlPlane`): kube-apiserver type-checks `harmony-tenant-secrets`, `harmony-tenant-services`
//! and `harmony-tenant-ingress` without a warning, and each refuses, for a tenant developer acting
//! through impersonation, what it must with Harmony's message while admitting the request next
//! to it. On an OKD-flavoured plane (OpenShift's Route CRD installed), `harmony-tenant-routes`
//! does the same for Routes.

use std::fmt::Debug;
use std::time::{Duration, Instant};

use harmony::{Maestro, Score};
use harmony_guardrails::{ClusterGuardrailsScore, GuardrailId, GuardrailsScore, Toggle};
use harmony_k8s::{ApplyOptions, FactsSource, K8sTopology, cluster_from_config};
use harmony_tenant::{MANAGED_BY_LABEL, Member, TenantRole, TenantScore};
use harmony_testkit::{ControlPlane, ControlPlaneOptions, Flavor};
use k8s_openapi::api::admissionregistration::v1::ValidatingAdmissionPolicy;
use k8s_openapi::api::core::v1::{Secret, Service};
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{Api, ApiResource, DynamicObject, ListParams, PostParams};
use kube::core::Status;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// How long a written object may take to be seen by the API server's admission.
const SETTLE: Duration = Duration::from_secs(60);

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

/// A tenant whose developers are the group `<name>-developers`, serving `<name>.example.com`
/// and its one-label subdomains.
fn tenant(name: &str) -> TenantScore {
    TenantScore::new(name)
        .ingress_hostname(format!("{name}.example.com"))
        .ingress_hostname(format!("*.{name}.example.com"))
        .member(Member::group(
            "developers",
            TenantRole::Developer,
            format!("{name}-developers"),
        ))
        .member(Member::service_account("robot", TenantRole::Admin))
}

/// A client acting as user `dana` of the developer group of the tenant in `namespace`.
async fn developer(plane: &ControlPlane, namespace: &str) -> kube::Client {
    let group = format!("{namespace}-developers");
    let config = plane
        .config_as("dana", &[group.as_str(), "system:authenticated"])
        .await;
    kube::Client::try_from(config).unwrap()
}

/// An API of `namespace` as user `dana` of the tenant's developer group.
async fn as_developer<K>(plane: &ControlPlane, namespace: &str) -> Api<K>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    K::DynamicType: Default,
{
    Api::namespaced(developer(plane, namespace).await, namespace)
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

/// `harmony tenant apply` of `tenants`, then `harmony cluster guardrails apply` (admission rules
/// only: the network tiers need OVN-Kubernetes).
async fn apply(plane: &ControlPlane, tenants: &[TenantScore]) {
    let mut maestro = Maestro::new(topology(plane).await);
    maestro.register(
        tenants
            .iter()
            .cloned()
            .map(|t| Box::new(t) as Box<dyn Score<K8sTopology>>),
    );
    let report = maestro.run().await.unwrap();
    assert!(report.all_succeeded(), "{:?}", report.results);
    let mut maestro = Maestro::new(topology(plane).await);
    let guardrails = GuardrailsScore {
        guardrails: ClusterGuardrailsScore::default().network_tiers(Toggle::Disabled),
        tenants: tenants.to_vec(),
    };
    maestro.register([Box::new(guardrails) as Box<dyn Score<K8sTopology>>]);
    let report = maestro.run().await.unwrap();
    assert!(report.all_succeeded(), "{:?}", report.results);
}

/// This test's rules are on the server and type-checked without a warning.
async fn policies_type_check(plane: &ControlPlane) {
    let policies: Api<ValidatingAdmissionPolicy> = Api::all(plane.client().await);
    let selector = format!("{MANAGED_BY_LABEL}=harmony");
    let checked = eventually("every policy type-checked", async || {
        let list = policies
            .list(&ListParams::default().labels(&selector))
            .await
            .map_err(|e| e.to_string())?;
        let pending: Vec<String> = list
            .items
            .iter()
            .filter(|p| {
                let observed = p.status.as_ref().and_then(|s| s.observed_generation);
                observed.is_none() || observed != p.metadata.generation
            })
            .map(|p| p.metadata.name.clone().unwrap_or_default())
            .collect();
        if pending.is_empty() {
            Ok(list.items)
        } else {
            Err(format!("not yet checked: {pending:?}"))
        }
    })
    .await;
    for id in [
        GuardrailId::TenantSecrets,
        GuardrailId::TenantServices,
        GuardrailId::TenantIngress,
        GuardrailId::TenantRoutes,
    ] {
        let policy = checked
            .iter()
            .find(|p| p.metadata.name.as_deref() == Some(id.object_name()))
            .unwrap_or_else(|| panic!("{id} is on the server"));
        let warnings = policy
            .status
            .as_ref()
            .and_then(|s| s.type_checking.as_ref())
            .and_then(|t| t.expression_warnings.clone())
            .unwrap_or_default();
        assert!(
            warnings.is_empty(),
            "kube-apiserver type-checks {id} with warnings: {warnings:?}"
        );
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

fn refusal<T>(result: &kube::Result<T>) -> Option<&Status> {
    match result {
        Err(kube::Error::Api(status)) => Some(status),
        _ => None,
    }
}

fn refused_by_policy(status: &Status, policy: &str) -> bool {
    status.message.contains(&format!(
        "ValidatingAdmissionPolicy '{policy}' with binding '"
    )) && status.message.contains("' denied request: ")
}

/// `request` is refused by `rule` with Harmony's `message` (403 Forbidden), once the rule is in
/// force (the server dry run is repeated until it refuses).
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

/// A token Secret for the tenant's admin ServiceAccount is refused; an Opaque Secret is not.
async fn secrets_rule(plane: &ControlPlane, namespace: &str) {
    let secrets: Api<Secret> = as_developer(plane, namespace).await;
    let token: Secret = parse(json!({
        "metadata": {"name": "robot-token",
                     "annotations": {"kubernetes.io/service-account.name": "robot"}},
        "type": "kubernetes.io/service-account-token",
    }));
    refused(
        GuardrailId::TenantSecrets,
        "type: Secrets of type kubernetes.io/service-account-token are not allowed in tenant namespaces",
        async |dry| secrets.create(&post(dry), &token).await,
    )
    .await;
    let opaque: Secret = parse(json!({"metadata": {"name": "settings"}, "type": "Opaque",
                                      "stringData": {"key": "value"}}));
    admitted(
        "an Opaque Secret",
        secrets.create(&post(false), &opaque).await,
    );
}

/// An ExternalName Service is refused; a ClusterIP Service is not.
async fn external_name_rule(plane: &ControlPlane, namespace: &str, other: &str) {
    let services: Api<Service> = as_developer(plane, namespace).await;
    let external: Service = parse(json!({
        "metadata": {"name": "other-tenant"},
        "spec": {"type": "ExternalName", "externalName": format!("web.{other}.svc.cluster.local")},
    }));
    refused(
        GuardrailId::TenantServices,
        "spec.type: ExternalName Services are not allowed in tenant namespaces",
        async |dry| services.create(&post(dry), &external).await,
    )
    .await;
    let web: Service = parse(json!({
        "metadata": {"name": "web"},
        "spec": {"type": "ClusterIP", "selector": {"app": "web"}, "ports": [{"port": 80}]},
    }));
    admitted(
        "a ClusterIP Service",
        services.create(&post(false), &web).await,
    );
}

fn ingress(name: &str, host: Option<&str>, annotations: Value) -> Ingress {
    let mut rule = json!({"http": {"paths": [{"path": "/", "pathType": "Prefix",
        "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}});
    if let Some(host) = host {
        rule["host"] = json!(host);
    }
    parse(
        json!({"metadata": {"name": name, "annotations": annotations},
                 "spec": {"rules": [rule]}}),
    )
}

/// Ingresses on the tenant's hosts are admitted; on another tenant's host, without host or with
/// a configuration snippet they are refused.
async fn ingress_rule(plane: &ControlPlane, namespace: &str, other: &str) {
    let ingresses: Api<Ingress> = as_developer(plane, namespace).await;
    let foreign = ingress(
        "foreign",
        Some(&format!("www.{other}.example.com")),
        json!({}),
    );
    refused(
        GuardrailId::TenantIngress,
        "spec.rules[].host: this host is not one of the tenant's hostnames",
        async |dry| ingresses.create(&post(dry), &foreign).await,
    )
    .await;
    let hostless = ingress("hostless", None, json!({}));
    refused(
        GuardrailId::TenantIngress,
        "spec.rules[].host: a rule without host serves every host",
        async |dry| ingresses.create(&post(dry), &hostless).await,
    )
    .await;
    let own = format!("www.{namespace}.example.com");
    let snippet = ingress(
        "snippet",
        Some(&own),
        json!({"nginx.ingress.kubernetes.io/configuration-snippet": "proxy_pass http://10.0.0.1;"}),
    );
    refused(
        GuardrailId::TenantIngress,
        "metadata.annotations: configuration snippets",
        async |dry| ingresses.create(&post(dry), &snippet).await,
    )
    .await;
    for (name, host) in [
        ("apex", format!("{namespace}.example.com")),
        ("www", own.clone()),
    ] {
        let web = ingress(name, Some(&host), json!({}));
        admitted(
            &format!("an Ingress on {host}"),
            ingresses.create(&post(false), &web).await,
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn token_secrets_external_names_and_foreign_hosts_are_refused_by_kube_apiserver() {
    let plane = ControlPlane::shared();
    let _logs = plane.failure_guard();
    let acme = ControlPlane::unique_name("acme");
    let globex = ControlPlane::unique_name("globex");
    apply(plane, &[tenant(&acme), tenant(&globex)]).await;
    policies_type_check(plane).await;

    secrets_rule(plane, &acme).await;
    external_name_rule(plane, &acme, &globex).await;
    ingress_rule(plane, &acme, &globex).await;
}

/// OKD Routes on the tenant's hosts are admitted; on another tenant's host, without host or with
/// a `Subdomain` wildcard policy they are refused.
async fn routes_rule(plane: &ControlPlane, namespace: &str, other: &str) {
    let resource = ApiResource {
        group: "route.openshift.io".into(),
        version: "v1".into(),
        api_version: "route.openshift.io/v1".into(),
        kind: "Route".into(),
        plural: "routes".into(),
    };
    let routes: Api<DynamicObject> =
        Api::namespaced_with(developer(plane, namespace).await, namespace, &resource);
    let route = |name: &str, spec: Value| -> DynamicObject {
        parse(
            json!({"apiVersion": "route.openshift.io/v1", "kind": "Route",
                     "metadata": {"name": name}, "spec": spec}),
        )
    };
    let to = json!({"kind": "Service", "name": "web"});
    let foreign = route(
        "foreign",
        json!({"host": format!("www.{other}.example.com"), "to": to}),
    );
    refused(
        GuardrailId::TenantRoutes,
        "spec.host: this host is not one of the tenant's hostnames",
        async |dry| routes.create(&post(dry), &foreign).await,
    )
    .await;
    let hostless = route("hostless", json!({"to": to}));
    refused(
        GuardrailId::TenantRoutes,
        "a Route without host gets a generated one",
        async |dry| routes.create(&post(dry), &hostless).await,
    )
    .await;
    let wildcard = route(
        "wildcard",
        json!({"host": format!("www.{namespace}.example.com"), "wildcardPolicy": "Subdomain", "to": to}),
    );
    refused(
        GuardrailId::TenantRoutes,
        "spec.wildcardPolicy: a Subdomain Route claims every host of its domain",
        async |dry| routes.create(&post(dry), &wildcard).await,
    )
    .await;
    let own = route(
        "www",
        json!({"host": format!("www.{namespace}.example.com"), "to": to}),
    );
    admitted(
        "a Route on the tenant's host",
        routes.create(&post(false), &own).await,
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn routes_on_foreign_hosts_are_refused_by_kube_apiserver_on_okd() {
    let plane = ControlPlane::start_with(ControlPlaneOptions {
        flavor: Flavor::Okd,
        ..ControlPlaneOptions::default()
    })
    .unwrap();
    let _logs = plane.failure_guard();
    let acme = ControlPlane::unique_name("acme");
    let globex = ControlPlane::unique_name("globex");
    apply(&plane, &[tenant(&acme), tenant(&globex)]).await;
    policies_type_check(&plane).await;
    routes_rule(&plane, &acme, &globex).await;
}
