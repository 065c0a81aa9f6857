//! Issuing, revoking and listing member credentials against the fake API server.

mod common;

use std::path::Path;
use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::*;
use harmony_credentials::{
    CredentialIssuer, CredentialLog, CredentialState, Endpoint, Output, RevokeRequest, Ttl, merge,
};
use harmony_kube::Kind;
use harmony_testkit::{FakeOptions, Gvr};
use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::api::{Api, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};

/// A kube client from a member kubeconfig file.
async fn member_client(path: &Path) -> (kube::Client, Kubeconfig) {
    let config = Kubeconfig::read_from(path).unwrap();
    let kube_config =
        kube::Config::from_custom_kubeconfig(config.clone(), &KubeConfigOptions::default())
            .await
            .unwrap();
    assert_eq!(kube_config.default_namespace, "acme");
    (kube::Client::try_from(kube_config).unwrap(), config)
}

#[tokio::test]
async fn token_flow_gives_a_working_0600_kubeconfig_and_logs_no_secret() {
    let server = cluster(FakeOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let connection = operator(&server, dir.path()).await;
    let issuer = issuer(&connection, dir.path());
    let out = dir.path().join("ci.kubeconfig");
    let outcome = issue(&issuer, "ci", options(&connection, dir.path(), &out))
        .await
        .unwrap();
    assert!(
        outcome
            .message
            .starts_with("issued a token for acme/ci (context acme-ci)"),
        "{}",
        outcome.message
    );
    assert_eq!(mode(&out), 0o600);

    let (client, config) = member_client(&out).await;
    assert_eq!(config.current_context.as_deref(), Some("acme-ci"));
    let token = user_field(&out, "token");
    assert!(
        token.starts_with("fake-token.system:serviceaccount:acme:ci."),
        "{token}"
    );
    let maps: Api<ConfigMap> = Api::default_namespaced(client);
    let names: Vec<String> = maps
        .list(&ListParams::default())
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.metadata.name.unwrap())
        .collect();
    assert_eq!(names, vec!["settings".to_string()]);
    let token_requests: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.subresource.as_deref() == Some("token"))
        .collect();
    assert_eq!(token_requests.len(), 1);
    assert_eq!(token_requests[0].namespace.as_deref(), Some("acme"));
    assert!(
        server
            .objects(&Gvr::core("secrets"), Some("acme"))
            .is_empty(),
        "no long-lived Secret token"
    );

    let log = CredentialLog::new(log_path(dir.path()));
    let entries = log.entries().unwrap();
    assert_eq!(entries.len(), 1);
    let uid = server
        .object(&Gvr::core("serviceaccounts"), Some("acme"), "ci")
        .unwrap()["metadata"]["uid"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        entries[0].identity,
        format!("system:serviceaccount:acme:ci uid={uid}")
    );
    let expires = entries[0].expires.unwrap();
    let hours = (expires.as_second() - jiff::Timestamp::now().as_second()) as f64 / 3600.0;
    assert!((7.9..=8.0).contains(&hours), "{hours}");
    assert_eq!(mode(log.path()), 0o600);
    let log_text = std::fs::read_to_string(log.path()).unwrap();
    assert!(!log_text.contains(&token), "the token leaked into the log");
    assert!(
        !format!("{outcome:?}").contains(&token),
        "the token leaked into the outcome"
    );

    kubectl_view(&out);
}

/// A field of the kubeconfig's user entry, read as plain YAML.
fn user_field(path: &Path, field: &str) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let value: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
    value["users"][0]["user"][field]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// `kubectl config view` (the kubectl built with the control plane) parses the file.
fn kubectl_view(path: &Path) {
    let output = Command::new(harmony_testkit::Binaries::locate().unwrap().kubectl())
        .args(["config", "view", "--raw", "-o", "json", "--kubeconfig"])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let view: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(view["current-context"], "acme-ci");
    assert_eq!(view["contexts"][0]["context"]["namespace"], "acme");
}

#[tokio::test]
async fn certificate_flow_approves_waits_for_the_signer_and_keeps_the_key_local() {
    let server = cluster(FakeOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let connection = operator(&server, dir.path()).await;
    let issuer = issuer(&connection, dir.path());
    let out = dir.path().join("alice.kubeconfig");
    let signer = Signer::new();
    let (outcome, ()) = tokio::join!(
        issue(&issuer, "alice", options(&connection, dir.path(), &out)),
        signer.run(&connection.client)
    );
    let outcome = outcome.unwrap();
    assert!(
        outcome
            .message
            .starts_with("issued a certificate for acme/alice"),
        "{}",
        outcome.message
    );
    assert_eq!(mode(&out), 0o600);

    let csrs = server.objects(&Gvr::of(Kind::of::<CertificateSigningRequest>()), None);
    assert_eq!(csrs.len(), 1);
    let csr = &csrs[0];
    assert!(
        csr["metadata"]["name"]
            .as_str()
            .unwrap()
            .starts_with("harmony-acme-alice-")
    );
    assert_eq!(
        csr["spec"]["signerName"],
        "kubernetes.io/kube-apiserver-client"
    );
    assert_eq!(csr["spec"]["expirationSeconds"], 8 * 3600);
    assert_eq!(csr["spec"]["usages"], serde_json::json!(["client auth"]));
    assert_eq!(
        csr["metadata"]["labels"]["harmony.nationtech.io/member"],
        "alice"
    );
    assert_eq!(csr["status"]["conditions"][0]["type"], "Approved");
    let request = String::from_utf8(
        STANDARD
            .decode(csr["spec"]["request"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert!(request.contains("BEGIN CERTIFICATE REQUEST") && !request.contains("PRIVATE KEY"));
    assert_eq!(
        request_subject(&request),
        "CN=alice@example.com",
        "the member's user as CN, no organization (no group)"
    );
    let reviews: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.resource == "selfsubjectaccessreviews")
        .collect();
    assert_eq!(reviews.len(), 2, "approve on signers, update on approval");

    let key = String::from_utf8(
        STANDARD
            .decode(user_field(&out, "client-key-data"))
            .unwrap(),
    )
    .unwrap();
    assert!(key.contains("PRIVATE KEY"));
    let (client, _) = member_client(&out).await;
    let maps: Api<ConfigMap> = Api::default_namespaced(client);
    assert_eq!(
        maps.list(&ListParams::default()).await.unwrap().items.len(),
        1
    );

    let entries = CredentialLog::new(log_path(dir.path())).entries().unwrap();
    assert_eq!(entries[0].identity, "alice@example.com");
    assert!(entries[0].serial.as_deref().is_some_and(|s| !s.is_empty()));
    let log_text = std::fs::read_to_string(log_path(dir.path())).unwrap();
    let key_body = key.lines().nth(1).unwrap();
    assert!(!log_text.contains(key_body), "the key leaked into the log");
    assert!(
        !dir.path().join("state/pending/acme-alice.key").exists(),
        "the pending key is removed once used"
    );
}

#[tokio::test]
async fn certificate_waits_for_an_admin_when_the_caller_may_not_approve() {
    let server = cluster(FakeOptions {
        deny_access_reviews: true,
        ..FakeOptions::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let connection = operator(&server, dir.path()).await;
    let issuer = issuer(&connection, dir.path());
    let out = dir.path().join("alice.kubeconfig");
    let error = issue(&issuer, "alice", options(&connection, dir.path(), &out))
        .await
        .unwrap_err();
    assert!(error.contains("you may not approve"), "{error}");
    assert!(
        error.contains("kubectl certificate approve harmony-acme-alice-"),
        "{error}"
    );
    assert!(!out.exists(), "no kubeconfig without a certificate");
    assert!(
        !log_path(dir.path()).exists(),
        "nothing issued, nothing logged"
    );
    let key = dir.path().join("state/pending/acme-alice.key");
    assert_eq!(mode(&key), 0o600);
    assert!(
        !error.contains(
            std::fs::read_to_string(&key)
                .unwrap()
                .lines()
                .nth(1)
                .unwrap()
        )
    );
    let csrs = Gvr::of(Kind::of::<CertificateSigningRequest>());
    let pending = server.objects(&csrs, None);
    assert_eq!(pending.len(), 1);
    assert!(pending[0]["status"]["conditions"].is_null(), "left pending");

    // An admin approves (kubectl certificate approve), the signer signs; the re-run completes.
    let name = pending[0]["metadata"]["name"].as_str().unwrap().to_string();
    let api: Api<k8s_openapi::api::certificates::v1::CertificateSigningRequest> =
        Api::all(connection.client.clone());
    let mut csr = api.get(&name).await.unwrap();
    csr.status = Some(serde_json::from_value(serde_json::json!({ "conditions": [{ "type": "Approved", "status": "True", "reason": "Admin" }] })).unwrap());
    api.replace_subresource("approval", &name, &Default::default(), &csr)
        .await
        .unwrap();
    assert_eq!(Signer::new().sign_approved(&connection.client).await, 1);
    issue(&issuer, "alice", options(&connection, dir.path(), &out))
        .await
        .unwrap();
    assert!(!key.exists());
    assert_eq!(
        server.objects(&csrs, None).len(),
        1,
        "the same request was resumed"
    );
    assert_eq!(
        CredentialLog::new(log_path(dir.path()))
            .entries()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn revoke_then_issue_gives_a_new_identity() {
    let server = cluster(FakeOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let connection = operator(&server, dir.path()).await;
    let issuer = issuer(&connection, dir.path());
    issue(
        &issuer,
        "ci",
        options(&connection, dir.path(), &dir.path().join("one")),
    )
    .await
    .unwrap();
    let log = CredentialLog::new(log_path(dir.path()));
    let revocation = RevokeRequest::for_member(&tenant(), "ci")
        .unwrap()
        .run(&issuer, &log, "ops")
        .await
        .unwrap();
    assert!(
        revocation.actions[0].contains("stopped working"),
        "{:?}",
        revocation.actions
    );
    let sa = server
        .object(&Gvr::core("serviceaccounts"), Some("acme"), "ci")
        .unwrap();
    assert_eq!(
        sa["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "harmony"
    );
    assert_eq!(sa["automountServiceAccountToken"], false);
    issue(
        &issuer,
        "ci",
        options(&connection, dir.path(), &dir.path().join("two")),
    )
    .await
    .unwrap();
    let entries = log.entries().unwrap();
    assert_eq!(entries.len(), 3);
    assert_ne!(
        entries[0].identity, entries[2].identity,
        "a new ServiceAccount uid"
    );
    assert_eq!(entries[2].identity, revocation.identity);

    let cluster_view = issuer.credentials(Some("acme")).await.unwrap();
    let states: Vec<CredentialState> = merge(&entries, &cluster_view, jiff::Timestamp::now())
        .iter()
        .map(|r| r.state)
        .collect();
    assert_eq!(
        states,
        vec![CredentialState::Revoked, CredentialState::Active]
    );
}

#[tokio::test]
async fn revoking_a_user_removes_its_binding_and_says_certificates_live_on() {
    let server = cluster(FakeOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let connection = operator(&server, dir.path()).await;
    let issuer = issuer(&connection, dir.path());
    let log = CredentialLog::new(log_path(dir.path()));
    let revocation = RevokeRequest::for_member(&tenant(), "alice")
        .unwrap()
        .run(&issuer, &log, "ops")
        .await
        .unwrap();
    assert!(
        server
            .object(
                &Gvr::of(Kind::of::<RoleBinding>()),
                Some("acme"),
                "member-alice"
            )
            .is_none()
    );
    assert!(
        revocation.caveats[0].contains("cannot revoke client certificates"),
        "{:?}",
        revocation.caveats
    );
    assert_eq!(log.entries().unwrap()[0].identity, "alice@example.com");
}

#[tokio::test]
async fn bad_input_is_refused_before_anything_is_written() {
    let server = cluster(FakeOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let connection = operator(&server, dir.path()).await;
    let issuer = issuer(&connection, dir.path());
    let out = dir.path().join("out");
    server.clear_requests();
    let cases = [
        (
            "bob",
            None,
            "--member: `bob` is not a member of tenant `acme`; its members: ci, alice, devs",
        ),
        (
            "devs",
            None,
            "--member: `devs` is the group `acme-devs`: group members authenticate through their identity provider",
        ),
        (
            "ci",
            Some("48h"),
            "--ttl: `48h` is above the maximum lifetime `24h`",
        ),
    ];
    for (member, ttl, expected) in cases {
        let mut opts = options(&connection, dir.path(), &out);
        if let Some(ttl) = ttl {
            opts.ttl = ttl.parse::<Ttl>().unwrap();
        }
        let error = issue(&issuer, member, opts).await.unwrap_err();
        assert!(error.starts_with(expected), "{error}");
    }
    std::fs::write(&out, "keep").unwrap();
    let error = issue(&issuer, "ci", options(&connection, dir.path(), &out))
        .await
        .unwrap_err();
    assert!(error.contains("--force"), "{error}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "keep");
    assert!(
        server.requests().is_empty(),
        "nothing was sent to the cluster"
    );
    assert!(!dir.path().join("state").exists(), "nothing was logged");
}

#[tokio::test]
async fn an_unreachable_server_points_at_the_vpn_and_writes_nothing() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("admin.kubeconfig");
    std::fs::write(&kubeconfig, format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:{port}\n\
         contexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\nusers:\n- name: u\n  user: {{}}\n"
    )).unwrap();
    let connection = harmony_credentials::connect(&harmony_kube::Access {
        kubeconfig: Some(kubeconfig.clone()),
        context: None,
    })
    .await
    .unwrap();
    let issuer = issuer(&connection, dir.path());
    let out = dir.path().join("ci.kubeconfig");
    let mut opts = options(&connection, dir.path(), &out);
    opts.endpoint = Endpoint::new(
        "https://192.0.2.10:6443",
        Some("-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n".into()),
    )
    .unwrap();
    opts.output = Output::from_flag(&out, false);
    let error = issue(&issuer, "ci", opts).await.unwrap_err();
    assert!(
        error.contains(&format!(
            "cannot reach the Kubernetes API at http://127.0.0.1:{port}"
        )),
        "{error}"
    );
    assert!(error.contains("VPN"), "{error}");
    assert!(!out.exists() && !dir.path().join("state").exists());
    let ready = harmony::Topology::ensure_ready(&issuer)
        .await
        .unwrap_err()
        .to_string();
    assert!(ready.contains("WireGuard"), "{ready}");
}

/// The subject of a PEM certificate request, as `CN=...[, O=...]`.
fn request_subject(pem: &str) -> String {
    use x509_parser::certification_request::X509CertificationRequest;
    use x509_parser::prelude::FromDer;
    let (_, block) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).unwrap();
    let (_, csr) = X509CertificationRequest::from_der(&block.contents).unwrap();
    csr.certification_request_info.subject.to_string()
}

/// A request as someone other than harmony could create it under the member's request name.
struct Forged {
    cn: &'static str,
    organization: Option<&'static str>,
    /// Signed with the member's pending key (else with another one).
    own_key: bool,
    signer: &'static str,
    usages: &'static [&'static str],
}

const HONEST: Forged = Forged {
    cn: "alice@example.com",
    organization: None,
    own_key: true,
    signer: "kubernetes.io/kube-apiserver-client",
    usages: &["client auth"],
};

#[tokio::test]
async fn a_request_harmony_did_not_build_is_neither_approved_nor_used() {
    for (forged, problem) in [
        (
            Forged {
                cn: "system:admin",
                ..HONEST
            },
            "its subject is `CN=system:admin`, not `CN=alice@example.com` alone",
        ),
        (
            Forged {
                organization: Some("system:masters"),
                ..HONEST
            },
            "its subject is `CN=alice@example.com, O=system:masters`, not `CN=alice@example.com` \
             alone (an organization would be a group)",
        ),
        (
            Forged {
                own_key: false,
                ..HONEST
            },
            "its public key is not the member's pending key",
        ),
        (
            Forged {
                signer: "kubernetes.io/kube-apiserver-client-kubelet",
                ..HONEST
            },
            "its signer is `kubernetes.io/kube-apiserver-client-kubelet`",
        ),
        (
            Forged {
                usages: &["client auth", "server auth"],
                ..HONEST
            },
            "its usages are [\"client auth\", \"server auth\"]",
        ),
    ] {
        let server = cluster(FakeOptions::default());
        let dir = tempfile::tempdir().unwrap();
        let connection = operator(&server, dir.path()).await;
        let issuer = issuer(&connection, dir.path());
        let key_path = dir.path().join("state/pending/acme-alice.key");
        let name = pending_request(&key_path, "acme", "alice");
        server.insert(forge(&name, &forged, &key_path)).unwrap();

        let out = dir.path().join("alice.kubeconfig");
        let error = issue(&issuer, "alice", options(&connection, dir.path(), &out))
            .await
            .unwrap_err();
        assert!(
            error.contains(&format!(
                "CertificateSigningRequest {name} is not the request harmony built for member \
                 acme/alice: "
            )) && error.contains(problem)
                && error.contains(&format!("`kubectl delete csr {name}`")),
            "{error}"
        );
        let csr = server
            .object(
                &Gvr::of(Kind::of::<CertificateSigningRequest>()),
                None,
                &name,
            )
            .unwrap();
        assert!(csr["status"]["conditions"].is_null(), "not approved: {csr}");
        assert!(
            !server
                .requests()
                .iter()
                .any(|r| r.subresource.as_deref() == Some("approval"))
        );
        assert!(!out.exists() && !log_path(dir.path()).exists());
        assert!(!key_path.exists(), "the pending key was discarded");
    }
}

/// The forged request `name`, labelled as harmony labels the member's.
fn forge(name: &str, forged: &Forged, key_path: &Path) -> serde_json::Value {
    let key = if forged.own_key {
        rcgen::KeyPair::from_pem(&std::fs::read_to_string(key_path).unwrap()).unwrap()
    } else {
        rcgen::KeyPair::generate().unwrap()
    };
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, forged.cn);
    if let Some(o) = forged.organization {
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, o);
    }
    let pem = params.serialize_request(&key).unwrap().pem().unwrap();
    serde_json::json!({
        "apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
        "metadata": { "name": name, "labels": {
            "app.kubernetes.io/managed-by": "harmony", "harmony.nationtech.io/tenant": "acme",
            "harmony.nationtech.io/member": "alice" } },
        "spec": { "request": STANDARD.encode(pem), "signerName": forged.signer,
            "expirationSeconds": 3600, "usages": forged.usages },
    })
}
