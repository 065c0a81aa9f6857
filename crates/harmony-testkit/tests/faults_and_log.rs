//! Seeded fault injection and the request log, seen through kube-rs and raw HTTP.

use std::time::Duration;

use harmony_testkit::{FakeApiServer, FakeOptions, Fault, FaultPlan, RecordedRequest};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn plan(seed: u64, rate: f64, kinds: Vec<Fault>) -> FaultPlan {
    FaultPlan {
        seed,
        rate,
        kinds,
        only_writes: true,
    }
}

/// A client that surfaces every fault (kube's default policy retries 429/503/504).
fn client_without_retry(server: &FakeApiServer) -> kube::Client {
    let mut config = server.config();
    config.default_retry = false;
    kube::Client::try_from(config).unwrap()
}

fn cm(name: &str) -> ConfigMap {
    serde_json::from_value(json!({ "metadata": { "name": name } })).unwrap()
}

/// Runs 30 creates and 30 gets, returning the faults the log recorded for them.
async fn faults_for(seed: u64) -> Vec<Option<Fault>> {
    let kinds = vec![
        Fault::Status500,
        Fault::Status503,
        Fault::TooManyRequests {
            retry_after_secs: 1,
        },
        Fault::DropConnection,
    ];
    let server = FakeApiServer::start(FakeOptions {
        faults: Some(plan(seed, 0.4, kinds)),
        ..Default::default()
    })
    .unwrap();
    let api: Api<ConfigMap> = Api::default_namespaced(client_without_retry(&server));
    for i in 0..30 {
        let _ = api
            .create(&PostParams::default(), &cm(&format!("c{i}")))
            .await;
        let _ = api.get(&format!("c{i}")).await;
    }
    let log = server.requests();
    assert!(
        log.iter()
            .filter(|r| r.verb == "get")
            .all(|r| r.fault.is_none()),
        "reads are spared with only_writes"
    );
    log.into_iter().map(|r| r.fault).collect()
}

#[tokio::test]
async fn same_seed_gives_the_same_faults() {
    let first = faults_for(42).await;
    assert_eq!(first, faults_for(42).await);
    assert_ne!(first, faults_for(43).await);
    assert!(first.iter().flatten().count() > 0);
}

#[tokio::test]
async fn kube_sees_injected_statuses_and_dropped_connections() {
    let server = FakeApiServer::start(FakeOptions::default()).unwrap();
    let api: Api<ConfigMap> = Api::default_namespaced(client_without_retry(&server));
    for (fault, code) in [
        (Fault::Status503, 503),
        (Fault::Status500, 500),
        (
            Fault::TooManyRequests {
                retry_after_secs: 3,
            },
            429,
        ),
    ] {
        server.set_faults(Some(plan(1, 1.0, vec![fault])));
        match api.create(&PostParams::default(), &cm("x")).await {
            Err(kube::Error::Api(status)) => assert_eq!(status.code, code),
            other => panic!("{fault:?}: expected status {code}, got {other:?}"),
        }
    }
    server.set_faults(Some(plan(1, 1.0, vec![Fault::DropConnection])));
    let dropped = api
        .create(&PostParams::default(), &cm("x"))
        .await
        .unwrap_err();
    assert!(
        !matches!(dropped, kube::Error::Api(_)),
        "a dropped connection is a transport error: {dropped:?}"
    );
    server.set_faults(None);
    api.get("x").await.unwrap_err();
    let statuses: Vec<Option<u16>> = server.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(503), Some(500), Some(429), None, Some(404)]);
    assert!(server.requests().iter().take(4).all(|r| r.fault.is_some()));
}

#[tokio::test]
async fn too_many_requests_carries_retry_after_and_kube_retries_it() {
    let server = FakeApiServer::start(FakeOptions::default()).unwrap();
    server.set_faults(Some(plan(
        9,
        1.0,
        vec![Fault::TooManyRequests {
            retry_after_secs: 7,
        }],
    )));
    let raw = raw_http(
        &server,
        "DELETE /api/v1/namespaces/default/configmaps/x HTTP/1.1",
    )
    .await;
    assert!(raw.starts_with("HTTP/1.1 429"), "{raw}");
    assert!(raw.to_ascii_lowercase().contains("retry-after: 7"), "{raw}");

    // kube's default client retries 429/503: some attempts fail, the create lands once.
    server.set_faults(Some(plan(
        5,
        0.5,
        vec![
            Fault::Status503,
            Fault::TooManyRequests {
                retry_after_secs: 0,
            },
        ],
    )));
    server.clear_requests();
    let api: Api<ConfigMap> = Api::default_namespaced(server.client());
    for i in 0..5 {
        api.create(&PostParams::default(), &cm(&format!("r{i}")))
            .await
            .unwrap();
    }
    let log = server.requests();
    assert_eq!(log.iter().filter(|r| r.status == Some(201)).count(), 5);
    assert!(
        log.iter().any(|r| r.fault.is_some()),
        "seed 5 at rate 0.5 faults some of them: {log:?}"
    );
}

#[tokio::test]
async fn latency_delays_but_answers() {
    let server = FakeApiServer::start(FakeOptions::default()).unwrap();
    server.set_faults(Some(plan(
        3,
        1.0,
        vec![Fault::Latency(Duration::from_millis(20))],
    )));
    let api: Api<ConfigMap> = Api::default_namespaced(server.client());
    api.create(&PostParams::default(), &cm("slow"))
        .await
        .unwrap();
    let log = server.requests();
    assert_eq!(
        log[0].fault,
        Some(Fault::Latency(Duration::from_millis(20)))
    );
    assert_eq!(log[0].status, Some(201));
}

#[tokio::test]
async fn the_log_records_every_request_in_order() {
    let server = FakeApiServer::start(FakeOptions::default()).unwrap();
    let client = server.client();
    let apply = PatchParams::apply("harmony");
    let ns = json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": "t1" } });
    Api::<k8s_openapi::api::core::v1::Namespace>::all(client.clone())
        .patch("t1", &apply, &Patch::Apply(ns))
        .await
        .unwrap();
    let quota = json!({ "apiVersion": "v1", "kind": "ResourceQuota", "metadata": { "name": "q" }, "spec": { "hard": { "pods": "1" } } });
    Api::<k8s_openapi::api::core::v1::ResourceQuota>::namespaced(client.clone(), "t1")
        .patch("q", &apply, &Patch::Apply(quota))
        .await
        .unwrap();
    let binding = json!({ "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": { "name": "b" },
        "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view" }, "subjects": [] });
    Api::<k8s_openapi::api::rbac::v1::RoleBinding>::namespaced(client.clone(), "t1")
        .patch("b", &apply, &Patch::Apply(binding))
        .await
        .unwrap();

    let log = server.requests();
    let position = |resource: &str| log.iter().position(|r| r.resource == resource).unwrap();
    assert!(position("namespaces") < position("resourcequotas"));
    assert!(position("resourcequotas") < position("rolebindings"));
    let writes: Vec<&RecordedRequest> = log.iter().filter(|r| r.is_write()).collect();
    assert_eq!(writes.len(), 3);
    let binding = writes[2];
    assert_eq!(
        (binding.verb.as_str(), binding.group.as_str()),
        ("apply", "rbac.authorization.k8s.io")
    );
    assert_eq!(
        (binding.namespace.as_deref(), binding.name.as_deref()),
        (Some("t1"), Some("b"))
    );
    assert_eq!(binding.field_manager.as_deref(), Some("harmony"));
    assert_eq!(binding.status, Some(201));
    assert!(log.windows(2).all(|w| w[0].seq < w[1].seq));
    server.clear_requests();
    assert!(server.requests().is_empty());
}

/// Sends one bodiless HTTP/1.1 request line and returns the raw response head and body.
async fn raw_http(server: &FakeApiServer, request_line: &str) -> String {
    let addr = server.url().trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("{request_line}\r\nHost: fake\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}
