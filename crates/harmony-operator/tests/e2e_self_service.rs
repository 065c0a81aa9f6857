//! Self-service namespaces on the real control plane, with the operator running as its
//! ServiceAccount: a tenant admin (impersonated) asks for namespaces with `NamespaceRequest`s;
//! within `spec.maxNamespaces` each is created with the tenant's isolation and bindings and listed
//! in the Tenant's status, past it the request is refused with the reason; a request in a
//! namespace of no tenant cannot be created by the admin and, created by a cluster admin, is
//! refused; a deleted request releases its namespace (and lets a waiting request in), unless
//! PersistentVolumeClaims hold data there.

mod common;

use std::sync::OnceLock;

use common::{
    Running, claim_data, client_as, event_note, eventually, install, put, ready_and_isolated,
    wait_crd,
};
use harmony_operator::namespace_request::{ACCEPTED, NamespaceRequest, NamespaceRequestSpec};
use harmony_operator::{ISOLATED, READY, Tenant};
use harmony_testkit::ControlPlane;
use k8s_openapi::api::core::v1::{Namespace, PersistentVolumeClaim};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

/// The shared plane with the operator installed and running for the whole test binary.
fn plane() -> &'static ControlPlane {
    static OPERATOR: OnceLock<Running> = OnceLock::new();
    let plane = ControlPlane::shared();
    OPERATOR.get_or_init(|| {
        install(plane);
        wait_crd(plane, "namespacerequests.harmony.nationtech.io");
        Running::start(plane)
    });
    plane
}

/// One namespace's share of the tenant's total: three such namespaces add up to it.
fn share() -> Value {
    json!({
        "requests": {"cpu": "1", "memory": "2Gi", "ephemeralStorage": "4Gi"},
        "limits": {"cpu": "2", "memory": "4Gi", "ephemeralStorage": "8Gi"},
        "objects": {"pods": 20},
    })
}

/// A Tenant listing one namespace, `<name>-main`, allowed three, with an admin user.
fn self_service_tenant(name: &str) -> Value {
    json!({
        "apiVersion": "harmony.nationtech.io/v1alpha1",
        "kind": "Tenant",
        "metadata": {"name": name},
        "spec": {
            "resourceQuotas": {
                "requests": {"cpu": "3", "memory": "6Gi", "ephemeralStorage": "12Gi"},
                "limits": {"cpu": "6", "memory": "12Gi", "ephemeralStorage": "24Gi"},
                "objects": {"pods": 60},
            },
            "storageAccess": {"storageClasses": [{"name": "standard", "requests": "10Gi"}]},
            "namespaces": [{"name": format!("{name}-main"), "resourceQuotas": share()}],
            "maxNamespaces": 3,
            "rbac": {"members": [
                {"name": "alice", "role": "admin", "user": format!("alice@{name}.example.com")},
            ]},
        },
    })
}

fn request(name: &str, wanted: &str, copy_from: Option<&str>) -> NamespaceRequest {
    NamespaceRequest::new(
        name,
        NamespaceRequestSpec {
            name: wanted.into(),
            copy_from: copy_from.map(String::from),
        },
    )
}

/// The `Accepted` condition of request `name`, once the operator has written one with `status`.
async fn decided(api: &Api<NamespaceRequest>, name: &str, status: &str) -> (String, String) {
    eventually(&format!("request {name} Accepted={status}"), async || {
        let request = api.get(name).await.map_err(|e| e.to_string())?;
        let status_now = request.status.unwrap_or_default();
        match status_now.conditions.iter().find(|c| c.type_ == ACCEPTED) {
            Some(c) if c.status == status => Ok((c.reason.clone(), c.message.clone())),
            other => Err(format!("{other:?}")),
        }
    })
    .await
}

/// Waits until namespace `name` is gone.
async fn gone(client: &kube::Client, name: &str) {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    eventually(&format!("namespace {name} gone"), async || match namespaces
        .get_opt(name)
        .await
        .map_err(|e| e.to_string())?
    {
        None => Ok(()),
        Some(ns) => Err(format!("{:?}", ns.status)),
    })
    .await;
}

#[tokio::test]
async fn tenant_admins_get_isolated_namespaces_within_the_limit_and_reasons_past_it() {
    let plane = plane();
    let _guard = plane.failure_guard();
    let client = plane.client().await;
    let name = ControlPlane::unique_name("op-self");
    let main = format!("{name}-main");
    put(&client, &self_service_tenant(&name)).await;
    let before = ready_and_isolated(&client, &name).await;
    let one_namespace = before.condition(ISOLATED).unwrap().message.clone();

    let alice = client_as(plane, &format!("alice@{name}.example.com")).await;
    let as_alice: Api<NamespaceRequest> = Api::namespaced(alice.clone(), &main);
    let dev = format!("{name}-dev");
    as_alice
        .create(&PostParams::default(), &request("dev", &dev, Some(&main)))
        .await
        .expect("a tenant admin may ask for a namespace in its namespace");
    let (reason, _) = decided(&as_alice, "dev", "True").await;
    assert_eq!(reason, "Granted");

    // The new namespace carries the tenant's isolation and its members' bindings.
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let created = namespaces.get(&dev).await.unwrap();
    let labels = created.metadata.labels.unwrap();
    assert_eq!(labels["harmony.nationtech.io/tenant"], name);
    assert_eq!(labels["harmony.nationtech.io/self-service"], "true");
    assert_eq!(
        created.metadata.annotations.unwrap()["harmony.nationtech.io/namespace-request"],
        format!("{main}/dev")
    );
    let policies: Api<NetworkPolicy> = Api::namespaced(client.clone(), &dev);
    for policy in ["default-deny", "allow-same-tenant"] {
        policies.get(policy).await.unwrap();
    }
    common::quota_cpu(&client, &dev, "1").await;
    let bindings: Api<RoleBinding> = Api::namespaced(client.clone(), &dev);
    bindings.get("member-alice").await.unwrap();
    let tenant = ready_and_isolated(&client, &name).await;
    let status = tenant.status.unwrap();
    // The audit judges the new namespace too: more checks, all holding.
    let tenants: Api<Tenant> = Api::all(client.clone());
    eventually("Isolated judging both namespaces", async || {
        let t = tenants.get(&name).await.map_err(|e| e.to_string())?;
        match t.condition(ISOLATED) {
            Some(c) if c.status == "True" && c.message != one_namespace => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    assert_eq!(status.namespaces, [main.clone(), dev.clone()]);
    assert_eq!(status.namespace_limit, Some(3));

    // The third namespace is the last one; the fourth is refused with the reason.
    let prod = format!("{name}-prod");
    as_alice
        .create(&PostParams::default(), &request("prod", &prod, Some(&main)))
        .await
        .unwrap();
    decided(&as_alice, "prod", "True").await;
    let extra = format!("{name}-extra");
    as_alice
        .create(
            &PostParams::default(),
            &request("extra", &extra, Some(&main)),
        )
        .await
        .unwrap();
    let (reason, message) = decided(&as_alice, "extra", "False").await;
    assert_eq!(reason, "OverMaxNamespaces");
    assert_eq!(
        message,
        format!(
            "tenant `{name}` has 3 namespaces, its limit (spec.maxNamespaces): delete a request \
             or ask the platform team to raise spec.maxNamespaces"
        )
    );
    assert!(namespaces.get_opt(&extra).await.unwrap().is_none());

    // A deleted request releases its namespace, and the waiting request gets its place.
    as_alice
        .delete("prod", &DeleteParams::default())
        .await
        .expect("a tenant admin may delete its requests");
    gone(&client, &prod).await;
    let note = event_note(&client, &name, "Released").await;
    assert!(
        note.contains(&format!("namespace {prod} released")),
        "{note}"
    );
    decided(&as_alice, "extra", "True").await;
    namespaces.get(&extra).await.unwrap();

    // A namespace whose claims hold data stays, held, until they are gone.
    claim_data(&client, &dev).await;
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &dev);
    as_alice
        .delete("dev", &DeleteParams::default())
        .await
        .unwrap();
    let tenants: Api<Tenant> = Api::all(client.clone());
    eventually(
        "the Ready message saying the namespace is held",
        async || {
            let t = tenants.get(&name).await.map_err(|e| e.to_string())?;
            match t.condition(READY) {
                Some(c) if c.message.contains(&format!("namespace {dev} held")) => Ok(()),
                other => Err(format!("{other:?}")),
            }
        },
    )
    .await;
    assert!(namespaces.get_opt(&dev).await.unwrap().is_some());
    policies.get("default-deny").await.unwrap();
    claims
        .delete("data", &DeleteParams::default())
        .await
        .unwrap();
    // Claims are no trigger: the next reconcile of the Tenant (an edit, here) releases it.
    let mut edited = self_service_tenant(&name);
    edited["spec"]["displayName"] = json!("Self service");
    put(&client, &edited).await;
    gone(&client, &dev).await;
}

#[tokio::test]
async fn requests_outside_a_tenant_namespace_are_forbidden_or_refused() {
    let plane = plane();
    let _guard = plane.failure_guard();
    let client = plane.client().await;
    let name = ControlPlane::unique_name("op-stray");
    put(&client, &self_service_tenant(&name)).await;
    ready_and_isolated(&client, &name).await;
    let alice = client_as(plane, &format!("alice@{name}.example.com")).await;
    let in_default: Api<NamespaceRequest> = Api::namespaced(alice, "default");
    let refused = in_default
        .create(
            &PostParams::default(),
            &request("more", &format!("{name}-more"), None),
        )
        .await
        .expect_err("a tenant admin has no rights outside its tenant");
    assert!(
        matches!(&refused, kube::Error::Api(s) if s.code == 403),
        "{refused:?}"
    );

    let stray = format!("{name}-plain");
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .patch(
            &stray,
            &PatchParams::apply("e2e").force(),
            &Patch::Apply(
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": stray}}),
            ),
        )
        .await
        .unwrap();
    let as_admin: Api<NamespaceRequest> = Api::namespaced(client.clone(), &stray);
    as_admin
        .create(
            &PostParams::default(),
            &request("more", &format!("{name}-more"), None),
        )
        .await
        .unwrap();
    let (reason, message) = decided(&as_admin, "more", "False").await;
    assert_eq!(reason, "NotInTenantNamespace");
    assert_eq!(
        message,
        format!(
            "namespace `{stray}` belongs to no tenant: create the request in one of your \
             tenant's namespaces"
        )
    );
}
