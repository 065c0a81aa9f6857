//! The token-Secret and ingress guardrails on a real control plane (`harmony_testkit::
//! ControlPlane`): kube-apiserver type-checks `harmony-tenant-secrets`, `harmony-tenant-services`
//! and `harmony-tenant-ingress` without a warning, and each refuses, for a tenant developer acting
//! through impersonation, what it must with Harmony's message while admitting the request next
//! to it. On an OKD-flavoured plane (OpenShift's Route CRD installed), `harmony-tenant-routes`
//! does the same for Routes.

mod real;

use harmony_guardrails::GuardrailId;
use harmony_tenant::{Member, TenantRole, TenantScore};
use harmony_testkit::{ControlPlane, ControlPlaneOptions, Flavor};
use k8s_openapi::api::core::v1::{Secret, Service};
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{Api, DynamicObject};
use real::{
    Actor, admission_rules, admitted, apply_guardrails, apply_tenants, developer_group, parse,
    policies_type_check, post, refused, topology,
};
use serde_json::{Value, json};

/// The rules of this file (each type-checked without a warning).
const RULES: &[GuardrailId] = &[
    GuardrailId::TenantSecrets,
    GuardrailId::TenantServices,
    GuardrailId::TenantIngress,
    GuardrailId::TenantRoutes,
];

/// A tenant whose developers are the group `<name>-developers`, serving `<name>.example.com`
/// and its one-label subdomains.
fn tenant(name: &str) -> TenantScore {
    TenantScore::new(name)
        .ingress_hostname(format!("{name}.example.com"))
        .ingress_hostname(format!("*.{name}.example.com"))
        .member(Member::group(
            "developers",
            TenantRole::Developer,
            developer_group(name),
        ))
        .member(Member::service_account("robot", TenantRole::Admin))
}

/// `harmony tenant apply` of `tenants`, then `harmony cluster guardrails apply` (admission rules
/// only: the network tiers need OVN-Kubernetes).
async fn apply(plane: &ControlPlane, tenants: &[TenantScore]) {
    apply_tenants(topology(plane).await, tenants, 1).await;
    apply_guardrails(topology(plane).await, &admission_rules(), tenants).await;
}

/// A token Secret for the tenant's admin ServiceAccount is refused; an Opaque Secret is not.
async fn secrets_rule(plane: &ControlPlane, namespace: &str) {
    let secrets: Api<Secret> = Actor::developer(namespace).api(plane, namespace).await;
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
    let services: Api<Service> = Actor::developer(namespace).api(plane, namespace).await;
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
    let ingresses: Api<Ingress> = Actor::developer(namespace).api(plane, namespace).await;
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
    policies_type_check(plane, RULES).await;

    secrets_rule(plane, &acme).await;
    external_name_rule(plane, &acme, &globex).await;
    ingress_rule(plane, &acme, &globex).await;
}

/// OKD Routes on the tenant's hosts are admitted; on another tenant's host, without host or with
/// a `Subdomain` wildcard policy they are refused.
async fn routes_rule(plane: &ControlPlane, namespace: &str, other: &str) {
    let resource = harmony_kube::kinds::OKD_ROUTE.api_resource();
    let routes: Api<DynamicObject> = Api::namespaced_with(
        Actor::developer(namespace).client(plane).await,
        namespace,
        &resource,
    );
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
    policies_type_check(&plane, RULES).await;
    routes_rule(&plane, &acme, &globex).await;
}
