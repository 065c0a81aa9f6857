//! The `NamespaceRequest` CRD on a real API server: it is accepted and established, a request
//! in a namespace is stored, one without the wanted name is refused (unknown fields pruned),
//! the status subresource holds the status written from a refusal, and `kubectl get nsreq`
//! shows it.

mod common;

use harmony_operator::namespace_request::{
    self, ACCEPTED, NamespaceRequest, NamespaceRequestSpec, NamespaceRequestStatus,
};
use harmony_tenant::Refusal;
use harmony_testkit::ControlPlane;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Api;
use kube::api::{ApiResource, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::json;

const NAMESPACE: &str = "nsreq-e2e";

/// The shared plane with the NamespaceRequest CRD established and the namespace `NAMESPACE`.
async fn requests() -> Api<NamespaceRequest> {
    let plane = ControlPlane::shared();
    let client = plane.client().await;
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.patch(
        "namespacerequests.harmony.nationtech.io",
        &PatchParams::apply("e2e-nsreq").force(),
        &Patch::Apply(namespace_request::crd()),
    )
    .await
    .expect("the API server accepts the CRD");
    common::wait_crd(plane, "namespacerequests.harmony.nationtech.io");
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .patch(
            NAMESPACE,
            &PatchParams::apply("e2e-nsreq").force(),
            &Patch::Apply(
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}),
            ),
        )
        .await
        .unwrap();
    Api::namespaced(client, NAMESPACE)
}

#[tokio::test]
async fn requests_are_stored_validated_and_hold_their_status() {
    let api = requests().await;
    let request = NamespaceRequest::new(
        "more",
        NamespaceRequestSpec {
            name: "nsreq-e2e-more".into(),
            copy_from: None,
        },
    );
    let _ = api.delete("more", &Default::default()).await;
    let created = api.create(&PostParams::default(), &request).await.unwrap();
    assert_eq!(created.spec, request.spec);
    assert!(created.metadata.creation_timestamp.is_some());
    let ask = created.ask();
    assert_eq!(ask.request, format!("{NAMESPACE}/more"));
    assert_eq!(ask.name, "nsreq-e2e-more");

    let refusal = Refusal::OverLimit {
        tenant: "nsreq".into(),
        limit: 1,
    };
    let status = NamespaceRequestStatus::of(&Err(refusal.clone()), &ask.name, 1);
    let mut condition = status.conditions[0].clone();
    condition.last_transition_time = "2026-12-03T19:00:00Z".into();
    let status = NamespaceRequestStatus {
        conditions: vec![condition],
        ..status
    };
    api.patch_status(
        "more",
        &PatchParams::apply("e2e-nsreq").force(),
        &Patch::Apply(json!({
            "apiVersion": "harmony.nationtech.io/v1alpha1",
            "kind": "NamespaceRequest",
            "status": status,
        })),
    )
    .await
    .unwrap();
    let read = api.get("more").await.unwrap();
    assert_eq!(read.status.as_ref(), Some(&status));
    assert_eq!(read.status.unwrap().conditions[0].type_, ACCEPTED);

    let shown = ControlPlane::shared()
        .kubectl_run(&["get", "nsreq", "-n", NAMESPACE, "more"])
        .unwrap();
    let row = shown.lines().nth(1).unwrap();
    assert!(
        row.starts_with("more") && row.contains("nsreq-e2e-more") && row.contains("False"),
        "{shown}"
    );
    assert!(row.contains("OverMaxNamespaces"), "{shown}");

    // The wanted namespace cannot change under a decision: the spec is immutable.
    let edit = json!({"spec": {"name": "nsreq-e2e-other"}});
    let refused = api
        .patch("more", &PatchParams::default(), &Patch::Merge(&edit))
        .await
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("spec is immutable: delete this request"),
        "{refused}"
    );
    api.delete("more", &Default::default()).await.unwrap();
}

#[tokio::test]
async fn a_request_without_a_name_is_refused_and_unknown_fields_are_pruned() {
    let api = requests().await;
    let raw: Api<DynamicObject> = Api::namespaced_with(
        api.clone().into_client(),
        NAMESPACE,
        &ApiResource::erase::<NamespaceRequest>(&()),
    );
    let dry = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    let object = |spec: serde_json::Value| -> DynamicObject {
        serde_json::from_value(json!({
            "apiVersion": "harmony.nationtech.io/v1alpha1",
            "kind": "NamespaceRequest",
            "metadata": {"name": "bad"},
            "spec": spec,
        }))
        .unwrap()
    };
    raw.create(&dry, &object(json!({"name": "ok"})))
        .await
        .expect("a request with a name is valid");
    let missing = raw.create(&dry, &object(json!({}))).await.unwrap_err();
    assert!(
        missing.to_string().contains("spec.name: Required value"),
        "{missing}"
    );
    let unknown = raw
        .create(&dry, &object(json!({"name": "ok", "size": 3})))
        .await;
    // Structural schemas prune unknown fields on create (the API server warns, it does not
    // refuse): the stored request has no `size`.
    let stored = unknown.expect("unknown fields are pruned");
    assert_eq!(stored.data["spec"], json!({"name": "ok"}));
}
