//! The fake through the real kube-rs client: CRUD, selectors, patches, dry-run, namespaces,
//! subresources and `metav1.Status` errors.

use harmony_testkit::{FakeApiServer, FakeOptions, Flavor, Gvr, NamespaceDeletion};
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::authorization::v1::SelfSubjectAccessReview;
use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, ResourceQuota, ServiceAccount};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

fn server() -> FakeApiServer {
    FakeApiServer::start(FakeOptions::default()).expect("server starts")
}

fn from_json<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("valid object")
}

fn namespace(name: &str) -> Namespace {
    from_json(json!({ "metadata": { "name": name } }))
}

fn config_map(name: &str, labels: Value, data: Value) -> ConfigMap {
    from_json(json!({ "metadata": { "name": name, "labels": labels }, "data": data }))
}

/// The `(code, reason)` of a `kube::Error::Api`, panicking on any other result.
fn api_error<T: std::fmt::Debug>(result: kube::Result<T>) -> (u16, String) {
    match result {
        Err(kube::Error::Api(status)) => (status.code, status.reason.clone()),
        other => panic!("expected a metav1.Status error, got {other:?}"),
    }
}

#[tokio::test]
async fn create_get_list_replace_delete_with_status_errors() {
    let server = server();
    let client = server.client();
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &namespace("acme"))
        .await
        .unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "acme");
    let pp = PostParams::default();
    let created = cms
        .create(
            &pp,
            &config_map("a", json!({ "tier": "web" }), json!({ "k": "1" })),
        )
        .await
        .unwrap();
    cms.create(&pp, &config_map("b", json!({ "tier": "db" }), json!({})))
        .await
        .unwrap();
    cms.create(&pp, &config_map("c", json!({}), json!({})))
        .await
        .unwrap();
    assert!(created.metadata.uid.is_some() && created.metadata.creation_timestamp.is_some());

    assert_eq!(
        api_error(
            cms.create(&pp, &config_map("a", json!({}), json!({})))
                .await
        ),
        (409, "AlreadyExists".into())
    );
    assert_eq!(
        api_error(cms.get("missing").await),
        (404, "NotFound".into())
    );
    let nowhere: Api<ConfigMap> = Api::namespaced(client.clone(), "nowhere");
    assert_eq!(
        api_error(
            nowhere
                .create(&pp, &config_map("x", json!({}), json!({})))
                .await
        ),
        (404, "NotFound".into())
    );

    let names = |list: kube::core::ObjectList<ConfigMap>| {
        list.items
            .into_iter()
            .map(|c| c.metadata.name.unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(
            cms.list(&ListParams::default().labels("tier"))
                .await
                .unwrap()
        ),
        ["a", "b"]
    );
    assert_eq!(
        names(
            cms.list(&ListParams::default().labels("tier in (db,cache)"))
                .await
                .unwrap()
        ),
        ["b"]
    );
    assert_eq!(
        names(
            cms.list(&ListParams::default().labels("tier!=web"))
                .await
                .unwrap()
        ),
        ["b", "c"]
    );
    assert_eq!(
        names(
            cms.list(&ListParams::default().labels("!tier"))
                .await
                .unwrap()
        ),
        ["c"]
    );
    assert_eq!(
        names(
            cms.list(&ListParams::default().fields("metadata.name=b"))
                .await
                .unwrap()
        ),
        ["b"]
    );
    assert_eq!(
        api_error(cms.list(&ListParams::default().labels("tier in web")).await),
        (400, "BadRequest".into())
    );
    let everywhere: Api<ConfigMap> = Api::all(client.clone());
    assert_eq!(
        everywhere
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len(),
        3
    );

    let mut stale = created.clone();
    let mut fresh = cms.get("a").await.unwrap();
    fresh.data = Some([("k".to_string(), "2".to_string())].into());
    let replaced = cms.replace("a", &pp, &fresh).await.unwrap();
    assert_ne!(
        replaced.metadata.resource_version,
        created.metadata.resource_version
    );
    stale.data = Some([("k".to_string(), "3".to_string())].into());
    assert_eq!(
        api_error(cms.replace("a", &pp, &stale).await),
        (409, "Conflict".into())
    );

    cms.delete("a", &DeleteParams::default()).await.unwrap();
    assert_eq!(api_error(cms.get("a").await), (404, "NotFound".into()));
    assert_eq!(
        api_error(cms.delete("a", &DeleteParams::default()).await),
        (404, "NotFound".into())
    );
}

/// A JSON patch of configmap `default/p`, sent raw (kube's `Patch::Json` needs its `jsonpatch` feature).
async fn json_patch(client: &kube::Client, ops: Value) -> kube::Result<ConfigMap> {
    let request = http::Request::patch("/api/v1/namespaces/default/configmaps/p")
        .header(http::header::CONTENT_TYPE, "application/json-patch+json")
        .body(serde_json::to_vec(&ops).unwrap())
        .unwrap();
    client.request(request).await
}

#[tokio::test]
async fn merge_json_and_strategic_patches_and_dry_run() {
    let server = server();
    let cms: Api<ConfigMap> = Api::default_namespaced(server.client());
    cms.create(
        &PostParams::default(),
        &config_map("p", json!({}), json!({ "a": "1", "b": "2" })),
    )
    .await
    .unwrap();

    let merged = cms
        .patch(
            "p",
            &PatchParams::default(),
            &Patch::Merge(json!({ "data": { "a": null, "c": "3" } })),
        )
        .await
        .unwrap();
    assert_eq!(
        merged.data.unwrap().keys().cloned().collect::<Vec<_>>(),
        ["b", "c"]
    );
    let client = server.client();
    let patched: ConfigMap = json_patch(
        &client,
        json!([{ "op": "replace", "path": "/data/b", "value": "20" }]),
    )
    .await
    .unwrap();
    assert_eq!(patched.data.as_ref().unwrap()["b"], "20");
    let strategic = cms
        .patch(
            "p",
            &PatchParams::default(),
            &Patch::Strategic(json!({ "metadata": { "labels": { "x": "y" } } })),
        )
        .await
        .unwrap();
    assert_eq!(strategic.metadata.labels.unwrap()["x"], "y");
    assert_eq!(
        api_error(json_patch(&client, json!([{ "op": "remove", "path": "/data/nope" }])).await).0,
        422
    );

    let before = cms.get("p").await.unwrap();
    let dry = PatchParams::default().dry_run();
    let would = cms
        .patch("p", &dry, &Patch::Merge(json!({ "data": { "b": "dry" } })))
        .await
        .unwrap();
    assert_eq!(would.data.unwrap()["b"], "dry");
    let dry_post = PostParams {
        dry_run: true,
        ..Default::default()
    };
    cms.create(&dry_post, &config_map("ghost", json!({}), json!({})))
        .await
        .unwrap();
    cms.patch(
        "ghost",
        &PatchParams::apply("harmony").dry_run(),
        &Patch::Apply(
            json!({ "apiVersion": "v1", "kind": "ConfigMap", "metadata": { "name": "ghost" } }),
        ),
    )
    .await
    .unwrap();
    cms.delete(
        "p",
        &DeleteParams {
            dry_run: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        cms.get("p").await.unwrap(),
        before,
        "dry runs change nothing"
    );
    assert_eq!(api_error(cms.get("ghost").await).0, 404);
    let dry_runs = server.requests().iter().filter(|r| r.dry_run).count();
    assert_eq!(dry_runs, 4);
}

#[tokio::test]
async fn namespace_deletion_removes_contents() {
    let server = server();
    let client = server.client();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns = namespaces
        .create(&PostParams::default(), &namespace("gone"))
        .await
        .unwrap();
    assert_eq!(
        ns.metadata.labels.unwrap()["kubernetes.io/metadata.name"],
        "gone"
    );
    assert_eq!(ns.status.unwrap().phase.as_deref(), Some("Active"));
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "gone");
    cms.create(
        &PostParams::default(),
        &config_map("a", json!({}), json!({})),
    )
    .await
    .unwrap();

    let sa = Gvr::core("serviceaccounts");
    assert!(
        server.object(&sa, Some("gone"), "default").is_some(),
        "new namespaces get a default ServiceAccount"
    );
    namespaces
        .delete("gone", &DeleteParams::default())
        .await
        .unwrap();
    assert_eq!(server.object(&sa, Some("gone"), "default"), None);
    assert_eq!(api_error(namespaces.get("gone").await).0, 404);
    assert_eq!(
        server.object(&Gvr::core("configmaps"), Some("gone"), "a"),
        None
    );
    assert!(server.objects(&Gvr::core("configmaps"), None).is_empty());
}

#[tokio::test]
async fn stuck_namespace_stays_terminating_until_finalized() {
    let server = FakeApiServer::start(FakeOptions {
        namespace_deletion: NamespaceDeletion::Stuck,
        ..Default::default()
    })
    .unwrap();
    let client = server.client();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .create(&PostParams::default(), &namespace("slow"))
        .await
        .unwrap();
    namespaces
        .delete("slow", &DeleteParams::default())
        .await
        .unwrap();
    let terminating = namespaces.get("slow").await.unwrap();
    assert!(terminating.metadata.deletion_timestamp.is_some());
    assert_eq!(
        terminating.status.unwrap().phase.as_deref(),
        Some("Terminating")
    );
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "slow");
    assert_eq!(
        api_error(
            cms.create(
                &PostParams::default(),
                &config_map("a", json!({}), json!({}))
            )
            .await
        ),
        (403, "Forbidden".into())
    );

    // The real protocol: PUT /finalize with empty spec.finalizers releases it.
    let mut released = namespaces.get("slow").await.unwrap();
    released.spec.as_mut().unwrap().finalizers = Some(vec![]);
    namespaces
        .replace_subresource("finalize", "slow", &PostParams::default(), &released)
        .await
        .unwrap();
    assert_eq!(api_error(namespaces.get("slow").await).0, 404);

    namespaces
        .create(&PostParams::default(), &namespace("slow2"))
        .await
        .unwrap();
    namespaces
        .delete("slow2", &DeleteParams::default())
        .await
        .unwrap();
    assert!(server.finalize_namespace("slow2"));
    assert_eq!(api_error(namespaces.get("slow2").await).0, 404);
}

#[tokio::test]
async fn service_account_token_and_access_review() {
    let server = server();
    let client = server.client();
    let sas: Api<ServiceAccount> = Api::default_namespaced(client.clone());
    sas.create(
        &PostParams::default(),
        &from_json(json!({ "metadata": { "name": "robot" } })),
    )
    .await
    .unwrap();
    let request = TokenRequest {
        spec: TokenRequestSpec {
            audiences: vec!["harmony".into()],
            expiration_seconds: Some(600),
            ..Default::default()
        },
        ..Default::default()
    };
    let issued: TokenRequest = sas
        .create_subresource("token", "robot", &PostParams::default(), &request)
        .await
        .unwrap();
    let status = issued.status.expect("token status");
    assert!(
        status.token.contains("system:serviceaccount:default:robot"),
        "{}",
        status.token
    );
    assert_eq!(issued.spec.audiences, ["harmony"]);
    let missing: kube::Result<TokenRequest> = sas
        .create_subresource("token", "nobody", &PostParams::default(), &request)
        .await;
    assert_eq!(api_error(missing).0, 404);

    let reviews: Api<SelfSubjectAccessReview> = Api::all(client);
    let review: SelfSubjectAccessReview = from_json(
        json!({ "spec": { "resourceAttributes": { "verb": "create", "resource": "rolebindings" } } }),
    );
    assert!(
        reviews
            .create(&PostParams::default(), &review)
            .await
            .unwrap()
            .status
            .unwrap()
            .allowed
    );
}

#[tokio::test]
async fn csr_approval_and_quota_status_subresources() {
    let server = server();
    let client = server.client();
    let csrs: Api<CertificateSigningRequest> = Api::all(client.clone());
    let csr: CertificateSigningRequest = from_json(json!({
        "metadata": { "name": "alice" },
        "spec": { "request": "cmVxdWVzdA==", "signerName": "kubernetes.io/kube-apiserver-client", "usages": ["client auth"] },
        "status": { "certificate": "bm8=" },
    }));
    let created = csrs.create(&PostParams::default(), &csr).await.unwrap();
    assert!(created.status.is_none(), "status is dropped on create");
    let mut approved = created.clone();
    approved.status = Some(from_json(
        json!({ "conditions": [{ "type": "Approved", "status": "True", "reason": "Harmony" }] }),
    ));
    csrs.replace_subresource("approval", "alice", &PostParams::default(), &approved)
        .await
        .unwrap();
    let read = csrs.get("alice").await.unwrap();
    assert_eq!(
        read.status.unwrap().conditions.unwrap()[0].type_,
        "Approved"
    );

    let quotas: Api<ResourceQuota> = Api::default_namespaced(client);
    let quota: ResourceQuota =
        from_json(json!({ "metadata": { "name": "q" }, "spec": { "hard": { "pods": "10" } } }));
    quotas.create(&PostParams::default(), &quota).await.unwrap();
    let status = quotas.get_status("q").await.unwrap().status.unwrap();
    assert_eq!(status.hard.unwrap()["pods"].0, "10");
    assert_eq!(status.used.unwrap()["pods"].0, "0");
}

#[tokio::test]
async fn discovery_lists_groups_and_okd_adds_its_own() {
    let vanilla = server();
    let discovery = kube::Discovery::new(vanilla.client()).run().await.unwrap();
    let groups: Vec<String> = discovery.groups().map(|g| g.name().to_string()).collect();
    for expected in [
        "",
        "apps",
        "rbac.authorization.k8s.io",
        "networking.k8s.io",
        "certificates.k8s.io",
        "admissionregistration.k8s.io",
    ] {
        assert!(
            groups.iter().any(|g| g == expected),
            "{expected} missing from {groups:?}"
        );
    }
    assert!(!groups.iter().any(|g| g.ends_with("openshift.io")));
    assert!(vanilla.client().apiserver_version().await.unwrap().minor == "33");

    let okd = FakeApiServer::start(FakeOptions {
        flavor: Flavor::Okd,
        ..Default::default()
    })
    .unwrap();
    let discovery = kube::Discovery::new(okd.client()).run().await.unwrap();
    for group in [
        "route.openshift.io",
        "config.openshift.io",
        "project.openshift.io",
        "security.openshift.io",
    ] {
        assert!(discovery.has_group(group), "{group}");
    }
    let network = okd
        .object(
            &Gvr::new("config.openshift.io", "v1", "networks"),
            None,
            "cluster",
        )
        .unwrap();
    assert_eq!(
        network["status"]["serviceNetwork"],
        json!(["172.30.0.0/16"])
    );
}
