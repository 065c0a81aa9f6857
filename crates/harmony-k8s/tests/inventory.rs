//! Reading the audit's inventory from a live cluster: the fake API server, and a tiny server that
//! refuses some kinds with 403 (the fake has no RBAC).

mod common;

use common::run;
use harmony_k8s::{AUDIT_KINDS, ApplyOptions, InventoryReader};
use harmony_kube::FailureKind;
use harmony_tenant::{Member, TenantRole, TenantScore};
use harmony_testkit::{FakeApiServer, FakeOptions};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn kinds_read(objects: &[Value], kind: &str) -> Vec<String> {
    objects
        .iter()
        .filter(|o| o["kind"] == kind)
        .map(|o| {
            let meta = &o["metadata"];
            match meta["namespace"].as_str() {
                Some(ns) => format!("{ns}/{}", meta["name"].as_str().unwrap()),
                None => meta["name"].as_str().unwrap().to_string(),
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn reads_every_audited_kind_cluster_wide_and_only_reads() {
    let server = FakeApiServer::start(FakeOptions::default()).unwrap();
    let acme = TenantScore::new("acme")
        .member(Member::user("alice", TenantRole::Admin, "alice@acme.com"))
        .member(Member::service_account("ci", TenantRole::Developer));
    let (report, _) = run(&server, &[acme], ApplyOptions::default(), 1).await;
    assert!(report.all_succeeded());
    server
        .insert(json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web", "namespace": "acme", "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx"}]}}))
        .unwrap();
    server
        .insert(json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "db", "namespace": "acme"}, "data": {"password": "c2VjcmV0"}}))
        .unwrap();
    server
        .insert(
            json!({"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "AdminNetworkPolicy",
            "metadata": {"name": "tiers"},
            "spec": {"priority": 10, "subject": {"namespaces": {}}, "ingress": []}}),
        )
        .unwrap();
    server.clear_requests();

    let reader = InventoryReader::new(server.config()).unwrap();
    let inventory = reader.read().await.unwrap();

    assert!(
        inventory.not_served.is_empty(),
        "{:?}",
        inventory.not_served
    );
    let objects = &inventory.objects;
    assert!(kinds_read(objects, "Namespace").contains(&"acme".to_string()));
    assert_eq!(kinds_read(objects, "Pod"), ["acme/web"]);
    assert!(kinds_read(objects, "ServiceAccount").contains(&"acme/ci".to_string()));
    assert!(kinds_read(objects, "Role").contains(&"acme/tenant-admin".to_string()));
    assert!(kinds_read(objects, "RoleBinding").contains(&"acme/member-alice".to_string()));
    assert!(kinds_read(objects, "NetworkPolicy").contains(&"acme/default-deny".to_string()));
    assert_eq!(kinds_read(objects, "ResourceQuota"), ["acme/tenant-quota"]);
    assert_eq!(kinds_read(objects, "LimitRange"), ["acme/tenant-limits"]);
    assert_eq!(kinds_read(objects, "AdminNetworkPolicy"), ["tiers"]);
    let web = objects.iter().find(|o| o["kind"] == "Pod").unwrap();
    assert_eq!(web["apiVersion"], "v1");
    assert_eq!(web["metadata"]["labels"]["app"], "web");
    assert!(objects.iter().all(|o| o["kind"] != "Secret"));

    let requests = server.requests();
    for request in &requests {
        assert!(
            matches!(request.verb.as_str(), "list" | "discovery"),
            "not a read: {request:?}"
        );
        assert_ne!(request.resource, "secrets", "read a Secret: {request:?}");
        assert_eq!(request.namespace, None, "not cluster-wide: {request:?}");
    }
    let lists: Vec<&str> = requests
        .iter()
        .filter(|r| r.verb == "list")
        .map(|r| r.resource.as_str())
        .collect();
    assert_eq!(lists.len(), AUDIT_KINDS.len(), "{lists:?}");
    assert!(
        requests
            .iter()
            .filter(|r| r.verb == "list")
            .all(|r| r.query.contains("limit=500")),
        "every list is paginated"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_server_is_explained() {
    let config = kube::Config::new("http://127.0.0.1:9".parse().unwrap());
    let failure = InventoryReader::new(config)
        .unwrap()
        .read()
        .await
        .unwrap_err();
    assert_eq!(failure.kind, FailureKind::Unreachable, "{failure}");
    assert!(
        failure
            .message
            .contains("cannot reach the API server at http://127.0.0.1:9"),
        "{failure}"
    );
}

/// A server serving no optional group, with no objects, refusing `list` on the resources whose
/// paths end with one of `forbid`.
async fn forbidding_server(forbid: &'static [&'static str]) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let mut buffer = vec![0; 8192];
                let read = socket.read(&mut buffer).await.unwrap();
                let request = String::from_utf8_lossy(&buffer[..read]).to_string();
                let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
                let forbidden = forbid
                    .iter()
                    .any(|p| path.split('?').next().unwrap().ends_with(p));
                let (code, body) = if path.starts_with("/apis/policy.networking.k8s.io")
                    || path.starts_with("/apis/admissionregistration.k8s.io")
                {
                    (
                        404,
                        json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                        "message": "the server could not find the requested resource",
                        "reason": "NotFound", "code": 404}),
                    )
                } else if forbidden {
                    (
                        403,
                        json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                        "message": format!("User \"auditor\" cannot list resource at {path}"),
                        "reason": "Forbidden", "code": 403}),
                    )
                } else {
                    (
                        200,
                        json!({"kind": "List", "apiVersion": "v1", "metadata": {}, "items": []}),
                    )
                };
                let body = body.to_string();
                let answer = format!(
                    "HTTP/1.1 {code} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                socket.write_all(answer.as_bytes()).await.unwrap();
            });
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_list_permissions_fail_the_read_naming_each_and_its_checks() {
    let url =
        forbidding_server(&["/rolebindings", "/clusterrolebindings", "/networkpolicies"]).await;
    let config = kube::Config::new(url.parse().unwrap());
    let failure = InventoryReader::new(config)
        .unwrap()
        .read()
        .await
        .unwrap_err();
    assert_eq!(failure.kind, FailureKind::Forbidden, "{failure}");
    let text = failure.message;
    assert!(text.contains("lacks 3 `list` permission(s)"), "{text}");
    for resource in [
        "rolebindings.rbac.authorization.k8s.io",
        "clusterrolebindings.rbac.authorization.k8s.io",
        "networkpolicies.networking.k8s.io",
    ] {
        assert!(
            text.contains(&format!("list {resource} (all namespaces), needed for")),
            "{text}"
        );
    }
    assert!(
        text.contains("a partial audit could wrongly pass"),
        "{text}"
    );
    assert!(!text.contains("list pods"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn kinds_the_cluster_does_not_serve_are_skipped_and_said() {
    let url = forbidding_server(&[]).await;
    let config = kube::Config::new(url.parse().unwrap());
    let inventory = InventoryReader::new(config).unwrap().read().await.unwrap();
    assert!(inventory.objects.is_empty());
    assert_eq!(
        inventory.not_served,
        [
            "adminnetworkpolicies.policy.networking.k8s.io",
            "baselineadminnetworkpolicies.policy.networking.k8s.io",
            "validatingadmissionpolicies.admissionregistration.k8s.io",
            "validatingadmissionpolicybindings.admissionregistration.k8s.io",
        ]
    );
}
