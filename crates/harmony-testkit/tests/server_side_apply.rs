//! Server-side apply semantics through kube-rs: field ownership, removal, conflicts, force, no-op.

use harmony_testkit::{FakeApiServer, FakeOptions};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams};
use serde_json::{Value, json};

/// An applied ConfigMap `cfg`; empty `labels` are left out (an empty map would be an owned field).
fn cm(labels: Value, data: Value) -> Value {
    let mut body = json!({ "apiVersion": "v1", "kind": "ConfigMap", "metadata": { "name": "cfg" }, "data": data });
    if labels.as_object().is_some_and(|l| !l.is_empty()) {
        body["metadata"]["labels"] = labels;
    }
    body
}

async fn apply(
    api: &Api<ConfigMap>,
    manager: &str,
    force: bool,
    body: Value,
) -> kube::Result<ConfigMap> {
    let mut params = PatchParams::apply(manager);
    if force {
        params = params.force();
    }
    api.patch("cfg", &params, &Patch::Apply(body)).await
}

fn managers(cm: &ConfigMap) -> Vec<(String, String)> {
    cm.metadata
        .managed_fields
        .iter()
        .flatten()
        .map(|m| (m.manager.clone().unwrap(), m.operation.clone().unwrap()))
        .collect()
}

#[tokio::test]
async fn apply_creates_then_removes_fields_the_manager_stops_applying() {
    let server = FakeApiServer::start(FakeOptions::default()).unwrap();
    let api: Api<ConfigMap> = Api::default_namespaced(server.client());
    let created = apply(
        &api,
        "harmony",
        false,
        cm(json!({ "a": "1", "b": "1" }), json!({ "x": "1", "y": "1" })),
    )
    .await
    .unwrap();
    assert_eq!(managers(&created), [("harmony".into(), "Apply".into())]);
    let fields = created.metadata.managed_fields.as_ref().unwrap()[0]
        .fields_v1
        .as_ref()
        .unwrap()
        .0
        .clone();
    assert_eq!(
        fields,
        json!({ "f:data": { "f:x": {}, "f:y": {} }, "f:metadata": { "f:labels": { "f:a": {}, "f:b": {} } } })
    );

    let shrunk = apply(
        &api,
        "harmony",
        false,
        cm(json!({ "a": "1" }), json!({ "x": "1" })),
    )
    .await
    .unwrap();
    assert_eq!(
        shrunk.metadata.labels.unwrap().keys().collect::<Vec<_>>(),
        ["a"]
    );
    assert_eq!(shrunk.data.unwrap().keys().collect::<Vec<_>>(), ["x"]);
}

#[tokio::test]
async fn other_managers_conflict_unless_forced_and_shared_fields_survive() {
    let server = FakeApiServer::start(FakeOptions::default()).unwrap();
    let api: Api<ConfigMap> = Api::default_namespaced(server.client());
    apply(
        &api,
        "harmony",
        false,
        cm(json!({}), json!({ "x": "1", "y": "1" })),
    )
    .await
    .unwrap();

    let err = apply(
        &api,
        "intruder",
        false,
        cm(json!({}), json!({ "x": "2", "y": "2" })),
    )
    .await
    .unwrap_err();
    let kube::Error::Api(status) = err else {
        panic!("expected a Status, got {err:?}")
    };
    assert_eq!((status.code, status.reason.as_str()), (409, "Conflict"));
    assert!(
        status
            .message
            .starts_with("Apply failed with 2 conflicts: conflict with \"harmony\": .data.x"),
        "{}",
        status.message
    );
    let causes: Vec<String> = status
        .details
        .unwrap()
        .causes
        .into_iter()
        .map(|c| c.field)
        .collect();
    assert_eq!(causes, [".data.x", ".data.y"]);

    // Same value: no conflict, shared ownership; the field survives when harmony drops it.
    apply(&api, "auditor", false, cm(json!({}), json!({ "y": "1" })))
        .await
        .unwrap();
    let after = apply(&api, "harmony", false, cm(json!({}), json!({ "x": "1" })))
        .await
        .unwrap();
    assert_eq!(after.data.unwrap()["y"], "1");

    let forced = apply(&api, "intruder", true, cm(json!({}), json!({ "x": "2" })))
        .await
        .unwrap();
    assert_eq!(forced.data.as_ref().unwrap()["x"], "2");
    let owners = managers(&forced);
    assert!(
        !owners.iter().any(|(m, _)| m == "harmony"),
        "harmony lost its only field: {owners:?}"
    );
    // Harmony re-applying without force now conflicts with the new owner.
    let err = apply(&api, "harmony", false, cm(json!({}), json!({ "x": "1" })))
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(s) if s.message.contains("conflict with \"intruder\": .data.x"))
    );
}

#[tokio::test]
async fn noop_apply_keeps_resource_version_and_timestamps() {
    let server = FakeApiServer::start(FakeOptions::default()).unwrap();
    let api: Api<ConfigMap> = Api::default_namespaced(server.client());
    let body = cm(json!({ "app": "web" }), json!({ "x": "1" }));
    let first = apply(&api, "harmony", false, body.clone()).await.unwrap();
    let again = apply(&api, "harmony", false, body.clone()).await.unwrap();
    assert_eq!(
        again.metadata.resource_version,
        first.metadata.resource_version
    );
    assert_eq!(again.metadata.managed_fields, first.metadata.managed_fields);
    let changed = apply(
        &api,
        "harmony",
        false,
        cm(json!({ "app": "web" }), json!({ "x": "2" })),
    )
    .await
    .unwrap();
    assert_ne!(
        changed.metadata.resource_version,
        first.metadata.resource_version
    );
}

#[tokio::test]
async fn updates_record_update_managers_and_take_fields() {
    let server = FakeApiServer::start(FakeOptions::default()).unwrap();
    let api: Api<ConfigMap> = Api::default_namespaced(server.client());
    apply(
        &api,
        "harmony",
        false,
        cm(json!({}), json!({ "x": "1", "y": "1" })),
    )
    .await
    .unwrap();
    let params = PatchParams {
        field_manager: Some("editor".into()),
        ..Default::default()
    };
    let edited = api
        .patch(
            "cfg",
            &params,
            &Patch::Merge(json!({ "data": { "x": "9" } })),
        )
        .await
        .unwrap();
    assert_eq!(
        managers(&edited),
        [
            ("harmony".into(), "Apply".into()),
            ("editor".into(), "Update".into())
        ]
    );
    // The editor took .data.x: an Update manager's fields conflict with appliers like any other's.
    let err = apply(
        &api,
        "harmony",
        false,
        cm(json!({}), json!({ "x": "1", "y": "1" })),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(s) if s.message.contains("conflict with \"editor\": .data.x"))
    );
}

#[tokio::test]
async fn apply_accepts_yaml_bodies_and_requires_a_field_manager() {
    let server = FakeApiServer::start(FakeOptions::default()).unwrap();
    let client = server.client();
    let send = |query: &str, body: &str| {
        http::Request::patch(format!("/api/v1/namespaces/default/configmaps/cfg?{query}"))
            .header(http::header::CONTENT_TYPE, "application/apply-patch+yaml")
            .body(body.as_bytes().to_vec())
            .unwrap()
    };
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  color: blue\n";
    let created: ConfigMap = client
        .request(send("fieldManager=yaml", yaml))
        .await
        .unwrap();
    assert_eq!(created.data.unwrap()["color"], "blue");
    let missing = client
        .request::<ConfigMap>(send("", yaml))
        .await
        .unwrap_err();
    assert!(matches!(missing, kube::Error::Api(s) if s.code == 400));
}
