//! Fixtures: a fake API server holding tenant `acme` as `harmony tenant apply` leaves it, an
//! operator connection, and a test CA that plays the cluster's signer; for the tests on a real
//! control plane, `tenant apply` through harmony-k8s; for both, a pending key as a run waiting
//! for approval leaves it.

#![allow(dead_code)] // each test file uses part of the fixtures

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use harmony::{Maestro, Score};
use harmony_credentials::{
    Connection, CredentialError, DEFAULT_MAX_TTL, DEFAULT_TTL, Endpoint, IssueOptions,
    KubeCredentialIssuer, Output, TenantCredentialScore, connect,
};
use harmony_k8s::{ApplyOptions, FactsSource, K8sTopology};
use harmony_kube::cluster_from_config;
use harmony_tenant::{Member, TenantRole, TenantScore};
use harmony_testkit::{ControlPlane, FakeApiServer, FakeOptions};
use k8s_openapi::ByteString;
use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use kube::api::{Api, ListParams, PostParams};
use serde_json::json;

/// The tenant: a ServiceAccount member, a user member and a group member.
pub fn tenant() -> TenantScore {
    let mut score = TenantScore::new("acme");
    score.rbac_config.members = vec![
        Member::service_account("ci", TenantRole::Developer),
        Member::user("alice", TenantRole::Admin, "alice@example.com"),
        Member::group("devs", TenantRole::Viewer, "acme-devs"),
    ];
    score
}

fn labels() -> serde_json::Value {
    json!({ "app.kubernetes.io/managed-by": "harmony", "harmony.nationtech.io/tenant": "acme" })
}

/// A fake API server with the applied tenant's namespace, ServiceAccount and RoleBinding.
pub fn cluster(options: FakeOptions) -> FakeApiServer {
    let server = FakeApiServer::start(options).unwrap();
    server.insert(json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": "acme", "labels": labels() } }));
    server.insert(json!({
        "apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": { "name": "ci", "namespace": "acme", "labels": labels() },
        "automountServiceAccountToken": false,
    }));
    server.insert(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": { "name": "member-alice", "namespace": "acme", "labels": labels() },
        "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "tenant-admin" },
        "subjects": [{ "apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice@example.com" }],
    }));
    server.insert(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": { "name": "settings", "namespace": "acme" }, "data": { "k": "v" },
    }));
    server
}

/// The operator's connection through a kubeconfig written for the fake.
pub async fn operator(server: &FakeApiServer, dir: &Path) -> Connection {
    let path = dir.join("admin.kubeconfig");
    server.write_kubeconfig(&path).unwrap();
    connect(&harmony_kube::Access {
        kubeconfig: Some(path),
        context: None,
    })
    .await
    .unwrap()
}

/// An issuer that waits briefly for the signer.
pub fn issuer(connection: &Connection, dir: &Path) -> KubeCredentialIssuer {
    KubeCredentialIssuer::new(connection, dir.join("state/pending"))
        .with_signing_wait(Duration::from_secs(10), Duration::from_millis(50))
}

/// Issue options writing to `out`, logging in `dir/state/log.jsonl`.
pub fn options(connection: &Connection, dir: &Path, out: &Path) -> IssueOptions {
    IssueOptions {
        ttl: DEFAULT_TTL,
        max_ttl: DEFAULT_MAX_TTL,
        endpoint: Endpoint::new(&connection.server, None).unwrap(),
        audiences: vec![],
        output: Output::from_flag(out, false),
        log: log_path(dir),
        by: "ops".into(),
    }
}

pub fn log_path(dir: &Path) -> PathBuf {
    dir.join("state/log.jsonl")
}

/// Builds and runs the score for `member`.
pub async fn issue(
    issuer: &KubeCredentialIssuer,
    member: &str,
    options: IssueOptions,
) -> Result<harmony::Outcome, String> {
    let score = TenantCredentialScore::new(&tenant(), member, options)
        .map_err(|e: CredentialError| e.to_string())?;
    let interpret = Score::<KubeCredentialIssuer>::create_interpret(&score);
    interpret.execute(issuer).await.map_err(|e| e.to_string())
}

/// The cluster's signer, played by a test CA: signs every approved, unsigned harmony CSR.
pub struct Signer {
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

impl Signer {
    pub fn new() -> Self {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::default();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        Self {
            issuer: rcgen::Issuer::new(params, key),
        }
    }

    /// Signs what is approved now; returns how many were signed.
    pub async fn sign_approved(&self, client: &kube::Client) -> usize {
        let api: Api<CertificateSigningRequest> = Api::all(client.clone());
        let mut signed = 0;
        for mut csr in api.list(&ListParams::default()).await.unwrap() {
            let status = csr.status.clone().unwrap_or_default();
            let approved = status
                .conditions
                .iter()
                .flatten()
                .any(|c| c.type_ == "Approved" && c.status == "True");
            if !approved || status.certificate.is_some() {
                continue;
            }
            let request = String::from_utf8(csr.spec.request.0.clone()).unwrap();
            let params = rcgen::CertificateSigningRequestParams::from_pem(&request).unwrap();
            let cert = params.signed_by(&self.issuer).unwrap();
            csr.status.get_or_insert_with(Default::default).certificate =
                Some(ByteString(cert.pem().into_bytes()));
            let name = csr.metadata.name.clone().unwrap();
            api.replace_status(&name, &PostParams::default(), &csr)
                .await
                .unwrap();
            signed += 1;
        }
        signed
    }

    /// Signs approved requests every 50 ms for up to 10 s, until one is signed.
    pub async fn run(&self, client: &kube::Client) {
        for _ in 0..200 {
            if self.sign_approved(client).await > 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The text of every file under `dir`, for leak checks.
pub fn all_text(dir: &Path) -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            text.push_str(&all_text(&path));
        } else {
            text.push_str(&String::from_utf8_lossy(&std::fs::read(&path).unwrap()));
        }
    }
    text
}

pub fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// `tenant apply` of `tenant` on the real `plane` through harmony-k8s, as the admin.
pub async fn apply_tenant(plane: &ControlPlane, tenant: &TenantScore) {
    let cluster = cluster_from_config(plane.config().await).unwrap();
    let facts = FactsSource {
        pod_networks: vec![plane.pod_network()],
        service_networks: vec![plane.service_network()],
        ..FactsSource::default()
    };
    let mut maestro = Maestro::new(K8sTopology::new(cluster, facts, ApplyOptions::default()));
    maestro.register([Box::new(tenant.clone()) as Box<dyn Score<K8sTopology>>]);
    let report = maestro.run_concurrently(1).await.unwrap();
    if let Err(e) = &report.results[0].result {
        panic!("applying tenant {}: {e}", tenant.name());
    }
}

/// The operator's connection to the real `plane`, as its admin.
pub async fn plane_operator(plane: &ControlPlane) -> Connection {
    connect(&harmony_kube::Access {
        kubeconfig: Some(plane.kubeconfig()),
        context: None,
    })
    .await
    .unwrap()
}

/// Leaves a pending key at `path`, as a run waiting for approval does; returns the name harmony
/// gives its request (`harmony-<tenant>-<member>-<8 hex of the public key's SHA-256>`).
pub fn pending_request(path: &Path, tenant: &str, member: &str) -> String {
    let key = rcgen::KeyPair::generate().unwrap();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, key.serialize_pem()).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let digest = ring::digest::digest(&ring::digest::SHA256, rcgen::PublicKeyData::der_bytes(&key));
    let short: String = digest.as_ref()[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("harmony-{tenant}-{member}-{short}")
}
