//! Member credentials against a real control plane (etcd, kube-apiserver and
//! kube-controller-manager; `harmony_testkit::ControlPlane`): tenants applied by harmony-k8s,
//! TokenRequest tokens and certificates signed by the real controller manager, each kubeconfig
//! used as its member would use it (kube-rs and kubectl), held to its role by real RBAC, and
//! revoked. Each test applies its own two tenants on the one shared control plane.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{apply_tenant, plane_operator};
use harmony::{OutcomeStatus, Score};
use harmony_credentials::{
    CSR_SIGNER, ClusterCredentialState, Connection, CredentialIssuer, CredentialLog,
    DEFAULT_MAX_TTL, Endpoint, IssueOptions, KubeCredentialIssuer, MIN_TTL, Output, RevokeRequest,
    TenantCredentialScore, Ttl,
};
use harmony_tenant::{Member, TenantRole, TenantScore};
use harmony_testkit::ControlPlane;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::authentication::v1::{SelfSubjectReview, TokenRequest};
use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, ResourceQuota, Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, RoleBinding};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// The lifetime asked for.
const TTL_SECONDS: i64 = 3600;
/// How far a granted expiry may be from now + TTL.
const MARGIN: i64 = 60;
/// The bound of every wait for the cluster to settle (quota counts, RBAC, the token cache).
const SETTLE: Duration = Duration::from_secs(30);

/// Two tenants on the shared control plane, and an operator issuing as the admin.
struct Fixture {
    plane: &'static ControlPlane,
    /// Members: `dev` (ServiceAccount, developer), `alice` (user, admin), `vera` (user, viewer);
    /// admins may bind the tenant roles.
    home: TenantScore,
    /// Member `bob` (user, admin); no self-service.
    other: TenantScore,
    connection: Connection,
    issuer: KubeCredentialIssuer,
    dir: tempfile::TempDir,
}

impl Fixture {
    /// Applies both tenants and waits for their quotas to be counted (the quota admission
    /// refuses creations until then).
    async fn new(prefix: &str) -> Self {
        let plane = ControlPlane::shared();
        let home_name = ControlPlane::unique_name(prefix);
        let other_name = ControlPlane::unique_name(&format!("{prefix}-other"));
        let home = TenantScore::new(&home_name)
            .member(Member::service_account("dev", TenantRole::Developer))
            .member(Member::user(
                "alice",
                TenantRole::Admin,
                format!("alice@{home_name}.test"),
            ))
            .member(Member::user(
                "vera",
                TenantRole::Viewer,
                format!("vera@{home_name}.test"),
            ))
            .self_service_role_bindings(true);
        let other = TenantScore::new(&other_name).member(Member::user(
            "bob",
            TenantRole::Admin,
            format!("bob@{other_name}.test"),
        ));
        for tenant in [&home, &other] {
            apply_tenant(plane, tenant).await;
            wait_for_quota(plane, tenant.namespace()).await;
        }
        let dir = tempfile::tempdir().unwrap();
        let connection = plane_operator(plane).await;
        let issuer = KubeCredentialIssuer::new(&connection, dir.path().join("state/pending"))
            .with_signing_wait(Duration::from_secs(60), Duration::from_millis(200));
        Self {
            plane,
            home,
            other,
            connection,
            issuer,
            dir,
        }
    }

    /// Issues `member`'s kubeconfig as the CLI does (`--server` = the control plane URL, the CA
    /// from the operator's context) into a new 0600 file; returns its path.
    async fn issue(&self, tenant: &TenantScore, member: &str) -> PathBuf {
        self.issue_for(tenant, member, &[]).await
    }

    /// [`Fixture::issue`] of a token for `audiences` besides the API server's.
    async fn issue_for(&self, tenant: &TenantScore, member: &str, audiences: &[&str]) -> PathBuf {
        let out = self
            .issue_with(&self.issuer, tenant, member, audiences)
            .await
            .unwrap_or_else(|e| panic!("issuing for {}/{member}: {e}", tenant.name()));
        assert_eq!(mode(&out), 0o600, "the kubeconfig is private");
        out
    }

    /// Runs the credential score through `issuer`; the kubeconfig's path, or the error.
    async fn issue_with(
        &self,
        issuer: &KubeCredentialIssuer,
        tenant: &TenantScore,
        member: &str,
        audiences: &[&str],
    ) -> Result<PathBuf, String> {
        let out =
            self.dir
                .path()
                .join(format!("{}-{member}-{}.kubeconfig", tenant.name(), stamp()));
        let options = IssueOptions {
            ttl: format!("{TTL_SECONDS}s").parse::<Ttl>().unwrap(),
            max_ttl: DEFAULT_MAX_TTL,
            endpoint: Endpoint::new(
                self.plane.url(),
                self.connection.certificate_authority.clone(),
            )
            .unwrap(),
            audiences: audiences.iter().map(|a| a.to_string()).collect(),
            output: Output::from_flag(&out, false),
            log: self.log_path(),
            by: "ops".into(),
        };
        let score = TenantCredentialScore::new(tenant, member, options).unwrap();
        let outcome = Score::<KubeCredentialIssuer>::create_interpret(&score)
            .execute(issuer)
            .await
            .map_err(|e| e.to_string())?;
        assert_eq!(outcome.status, OutcomeStatus::Changed, "{outcome:?}");
        Ok(out)
    }

    async fn revoke(&self, tenant: &TenantScore, member: &str) -> harmony_credentials::Revocation {
        RevokeRequest::for_member(tenant, member)
            .unwrap()
            .run(&self.issuer, &CredentialLog::new(self.log_path()), "ops")
            .await
            .unwrap_or_else(|e| panic!("revoking {}/{member}: {e}", tenant.name()))
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("state/log.jsonl")
    }

    /// `kubectl --kubeconfig FILE auth can-i ARGS`: the server's answer.
    fn can_i(&self, kubeconfig: &Path, args: &[&str]) -> bool {
        let out = self.member_kubectl(kubeconfig, &[&["auth", "can-i"], args].concat());
        match String::from_utf8_lossy(&out.stdout).trim() {
            "yes" => true,
            "no" => false,
            other => panic!(
                "kubectl auth can-i {args:?}: `{other}`, {}",
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    }

    /// Runs kubectl with a member's kubeconfig only.
    fn member_kubectl(&self, kubeconfig: &Path, args: &[&str]) -> std::process::Output {
        Command::new(self.plane.binaries().kubectl())
            .env_remove("KUBECONFIG")
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .args(args)
            .output()
            .unwrap()
    }

    /// `kubectl get configmaps` with a member's kubeconfig (its default namespace): the names.
    fn kubectl_get_configmaps(&self, kubeconfig: &Path) -> String {
        let out = self.member_kubectl(kubeconfig, &["get", "configmaps", "-o", "name"]);
        assert!(
            out.status.success(),
            "kubectl get configmaps: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// Distinguishes the files of repeated issues.
fn stamp() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// Polls (bounded) until the quota controller has counted `namespace`'s quota.
async fn wait_for_quota(plane: &ControlPlane, namespace: &str) {
    let quotas: Api<ResourceQuota> = Api::namespaced(plane.client().await, namespace);
    let deadline = Instant::now() + SETTLE;
    loop {
        let quota = quotas.get("tenant-quota").await.unwrap();
        if quota
            .status
            .and_then(|s| s.used)
            .is_some_and(|u| !u.is_empty())
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the quota of {namespace} was not counted within {SETTLE:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// A kubeconfig as a member's tools read it.
struct MemberConfig {
    client: kube::Client,
    /// The kubeconfig as YAML values.
    yaml: Value,
}

impl MemberConfig {
    async fn load(path: &Path) -> Self {
        let parsed = Kubeconfig::read_from(path).expect("kube-rs reads the member kubeconfig");
        let config = kube::Config::from_custom_kubeconfig(parsed, &KubeConfigOptions::default())
            .await
            .expect("kube-rs accepts the member kubeconfig");
        let text = std::fs::read_to_string(path).unwrap();
        Self {
            client: kube::Client::try_from(config).unwrap(),
            yaml: serde_saphyr::from_str(&text).unwrap(),
        }
    }

    /// A field of the only user entry.
    fn user_field(&self, field: &str) -> &str {
        self.yaml["users"][0]["user"][field]
            .as_str()
            .unwrap_or_else(|| panic!("the kubeconfig's user has no {field}"))
    }

    /// The user name and groups the API server authenticates (SelfSubjectReview).
    async fn whoami(&self) -> Result<(String, Vec<String>), u16> {
        let api: Api<SelfSubjectReview> = Api::all(self.client.clone());
        let review = answer(api.create(&PostParams::default(), &SelfSubjectReview::default()))
            .await?
            .status
            .and_then(|s| s.user_info)
            .expect("a SelfSubjectReview answers with the user");
        Ok((
            review.username.unwrap_or_default(),
            review.groups.unwrap_or_default(),
        ))
    }
}

/// `Ok` when the server did it, else its HTTP status code.
async fn answer<T>(call: impl Future<Output = kube::Result<T>>) -> Result<T, u16> {
    match call.await {
        Ok(value) => Ok(value),
        Err(kube::Error::Api(status)) => Err(status.code),
        Err(other) => panic!("not an answer from the API server: {other}"),
    }
}

/// `Ok(())` when the server did it, else its HTTP status code.
async fn done<T>(call: impl Future<Output = kube::Result<T>>) -> Result<(), u16> {
    answer(call).await.map(drop)
}

/// A typed object from JSON.
fn object<T: DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).unwrap()
}

/// Creates `value` as a `K` in `namespace`.
async fn create<K>(client: &kube::Client, namespace: &str, value: Value) -> Result<(), u16>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + serde::Serialize
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    done(api.create(&PostParams::default(), &object(value))).await
}

/// Lists the `K`s of `namespace`.
async fn list<K>(client: &kube::Client, namespace: &str) -> Result<(), u16>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    done(api.list(&ListParams::default())).await
}

fn config_map(name: &str) -> Value {
    json!({ "metadata": { "name": name }, "data": { "k": "v" } })
}

fn deployment(name: &str) -> Value {
    json!({ "metadata": { "name": name }, "spec": {
        "selector": { "matchLabels": { "app": name } },
        "template": { "metadata": { "labels": { "app": name } },
            "spec": { "containers": [{ "name": "app", "image": "registry.example/app:1" }] } } } })
}

/// A RoleBinding of `role` (`Role` or `ClusterRole`) to a made-up user.
fn role_binding(name: &str, kind: &str, role: &str) -> Value {
    json!({ "metadata": { "name": name },
        "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role },
        "subjects": [{ "apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "newcomer@example.test" }] })
}

/// Raising the tenant's pod quota.
async fn raise_quota(client: &kube::Client, namespace: &str) -> Result<(), u16> {
    let api: Api<ResourceQuota> = Api::namespaced(client.clone(), namespace);
    let patch = json!({ "spec": { "hard": { "pods": "1000" } } });
    done(api.patch(
        "tenant-quota",
        &PatchParams::default(),
        &Patch::Merge(&patch),
    ))
    .await
}

/// What no member may do: anything outside its namespace.
async fn assert_confined(who: &str, client: &kube::Client, other_namespace: &str) {
    assert_eq!(
        list::<ConfigMap>(client, other_namespace).await,
        Err(403),
        "{who} lists ConfigMaps in another tenant's namespace"
    );
    assert_eq!(
        create::<ConfigMap>(client, other_namespace, config_map("intruder")).await,
        Err(403),
        "{who} creates a ConfigMap in another tenant's namespace"
    );
    let namespaces: Api<Namespace> = Api::all(client.clone());
    assert_eq!(
        done(namespaces.list(&ListParams::default())).await,
        Err(403),
        "{who} lists namespaces"
    );
    let roles: Api<ClusterRole> = Api::all(client.clone());
    let role = object(json!({ "metadata": { "name": format!("grab-{}", stamp()) },
        "rules": [{ "apiGroups": ["*"], "resources": ["*"], "verbs": ["*"] }] }));
    assert_eq!(
        done(roles.create(&PostParams::default(), &role)).await,
        Err(403),
        "{who} creates a ClusterRole"
    );
}

/// The payload of a JWT (never printed).
fn jwt_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT has three parts");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

#[tokio::test(flavor = "multi_thread")]
async fn service_account_token_is_bounded_scoped_and_dies_on_revoke() {
    let _logs = ControlPlane::shared().failure_guard();
    let fx = Fixture::new("token").await;
    let (home, other) = (fx.home.namespace(), fx.other.namespace());
    let accounts: Api<ServiceAccount> = Api::namespaced(fx.plane.client().await, home);
    let old_uid = accounts.get("dev").await.unwrap().metadata.uid.unwrap();

    let path = fx.issue(&fx.home, "dev").await;
    let member = MemberConfig::load(&path).await;
    assert_eq!(
        member.yaml["current-context"],
        format!("{}-dev", fx.home.name()),
        "the context is <tenant>-<member>"
    );
    assert_eq!(member.yaml["contexts"][0]["context"]["namespace"], home);
    assert_eq!(
        member.yaml["clusters"][0]["cluster"]["server"],
        fx.plane.url()
    );

    let claims = jwt_claims(member.user_field("token"));
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap(),
        claims["exp"].as_i64().unwrap(),
    );
    assert_eq!(exp - iat, TTL_SECONDS, "the token lives exactly the TTL");
    assert!(
        (exp - (now() + TTL_SECONDS)).abs() <= MARGIN,
        "exp {exp} is not now + {TTL_SECONDS}s"
    );
    assert_eq!(
        claims["sub"],
        format!("system:serviceaccount:{home}:dev"),
        "the token's subject"
    );
    assert_eq!(
        claims["kubernetes.io"]["serviceaccount"]["uid"], old_uid,
        "the token is bound to the ServiceAccount's uid"
    );

    let (user, groups) = member.whoami().await.expect("the token authenticates");
    assert_eq!(user, format!("system:serviceaccount:{home}:dev"));
    for group in [
        "system:serviceaccounts".to_string(),
        format!("system:serviceaccounts:{home}"),
        "system:authenticated".to_string(),
    ] {
        assert!(groups.contains(&group), "{group} missing from {groups:?}");
    }

    let client = &member.client;
    assert_eq!(
        create::<ConfigMap>(client, home, config_map("dev-settings")).await,
        Ok(()),
        "a developer creates ConfigMaps"
    );
    assert_eq!(
        create::<Deployment>(client, home, deployment("web")).await,
        Ok(()),
        "a developer creates Deployments"
    );
    assert_eq!(
        list::<Secret>(client, home).await,
        Ok(()),
        "a developer reads Secrets"
    );
    assert_eq!(
        create::<RoleBinding>(
            client,
            home,
            role_binding("dev-grant", "Role", "tenant-viewer")
        )
        .await,
        Err(403),
        "a developer creates a RoleBinding"
    );
    assert_eq!(
        raise_quota(client, home).await,
        Err(403),
        "a developer edits the quota"
    );
    assert_confined("the developer", client, other).await;

    assert!(fx.can_i(&path, &["create", "deployments.apps"]));
    assert!(fx.can_i(&path, &["create", "configmaps"]));
    assert!(!fx.can_i(&path, &["create", "rolebindings.rbac.authorization.k8s.io"]));
    assert!(!fx.can_i(&path, &["update", "resourcequotas"]));
    assert!(!fx.can_i(&path, &["list", "configmaps", "-n", other]));
    assert!(!fx.can_i(&path, &["list", "namespaces"]));
    assert!(
        fx.kubectl_get_configmaps(&path)
            .contains("configmap/dev-settings")
    );

    let revocation = fx.revoke(&fx.home, "dev").await;
    let new_uid = accounts.get("dev").await.unwrap().metadata.uid.unwrap();
    assert_ne!(new_uid, old_uid, "the ServiceAccount was recreated");
    assert!(revocation.identity.ends_with(&new_uid), "{revocation:?}");
    assert!(
        revocation.caveats[0].contains("caches successful token authentications"),
        "the revocation says old tokens may work a few seconds more: {revocation:?}"
    );

    let start = Instant::now();
    loop {
        match list::<ConfigMap>(client, home).await {
            Err(401) => break,
            Ok(()) => assert!(
                start.elapsed() < SETTLE,
                "the revoked token still works after {SETTLE:?}"
            ),
            Err(code) => panic!("the revoked token got {code}, not 401"),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    eprintln!("the revoked token was refused after {:?}", start.elapsed());
    assert_eq!(
        member.whoami().await,
        Err(401),
        "the revoked token is unknown"
    );

    apply_tenant(fx.plane, &fx.home).await; // the recreated ServiceAccount is harmony's to apply again
    let again = MemberConfig::load(&fx.issue(&fx.home, "dev").await).await;
    assert_eq!(
        jwt_claims(again.user_field("token"))["kubernetes.io"]["serviceaccount"]["uid"],
        new_uid
    );
    assert_eq!(
        create::<ConfigMap>(&again.client, home, config_map("after-revoke")).await,
        Ok(()),
        "a new token works for the recreated ServiceAccount, through the same RoleBinding"
    );

    let vault = MemberConfig::load(&fx.issue_for(&fx.home, "dev", &["vault.example"]).await).await;
    let mut expected = claims["aud"].as_array().unwrap().clone();
    expected.push(json!("vault.example"));
    assert_eq!(
        jwt_claims(vault.user_field("token"))["aud"],
        Value::Array(expected),
        "an extra audience comes on top of the API server's own"
    );
    assert!(
        vault.whoami().await.is_ok(),
        "a token with an extra audience still works against the API server"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_minimum_lifetime_is_the_api_servers() {
    let plane = ControlPlane::shared();
    let _logs = plane.failure_guard();
    let client = plane.client().await;
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), "default");
    let csrs: Api<CertificateSigningRequest> = Api::all(client);
    let key = rcgen::KeyPair::generate().unwrap();
    let request = rcgen::CertificateParams::default()
        .serialize_request(&key)
        .unwrap()
        .pem()
        .unwrap();
    for (seconds, expected) in [
        (MIN_TTL.seconds() - 1, Err(422)),
        (MIN_TTL.seconds(), Ok(())),
    ] {
        let token: TokenRequest = object(json!({ "spec": { "expirationSeconds": seconds } }));
        let answer =
            done(accounts.create_token_request("default", &PostParams::default(), &token)).await;
        assert_eq!(answer, expected, "a {seconds} s token (422: invalid)");
        let name = ControlPlane::unique_name("min-ttl");
        let csr: CertificateSigningRequest = object(json!({
            "metadata": { "name": name },
            "spec": { "request": base64::engine::general_purpose::STANDARD.encode(&request),
                "signerName": CSR_SIGNER, "usages": ["client auth"], "expirationSeconds": seconds } }));
        let answer = done(csrs.create(&PostParams::default(), &csr)).await;
        assert_eq!(answer, expected, "a {seconds} s certificate (422: invalid)");
    }
}

/// The certificate of a member kubeconfig, checked: subject CN `user`, for client auth, signed by
/// the control plane CA, expiring about the TTL from now. Returns its PEM.
fn check_certificate(plane: &ControlPlane, member: &MemberConfig, user: &str) -> String {
    use x509_parser::oid_registry::OID_SIG_ECDSA_WITH_SHA256;
    let pem = base64::engine::general_purpose::STANDARD
        .decode(member.user_field("client-certificate-data"))
        .unwrap();
    let (_, block) = x509_parser::pem::parse_x509_pem(&pem).unwrap();
    let cert = block.parse_x509().unwrap();
    let cn: Vec<&str> = cert
        .subject()
        .iter_common_name()
        .map(|cn| cn.as_str().unwrap())
        .collect();
    assert_eq!(
        cn,
        [user],
        "the certificate's subject CN is the member's user"
    );
    assert_eq!(
        cert.subject().iter_organization().count(),
        0,
        "no organization: the certificate carries no group"
    );
    let usage = cert
        .extended_key_usage()
        .unwrap()
        .expect("an extended key usage");
    assert!(
        usage.value.client_auth && !usage.value.server_auth,
        "client auth only"
    );
    let expires = cert.validity().not_after.timestamp();
    assert!(
        (expires - (now() + TTL_SECONDS)).abs() <= MARGIN,
        "notAfter {expires} is not now + {TTL_SECONDS}s"
    );

    let (_, ca_block) = x509_parser::pem::parse_x509_pem(plane.ca().cert_pem.as_bytes()).unwrap();
    let ca = ca_block.parse_x509().unwrap();
    assert_eq!(
        cert.issuer(),
        ca.subject(),
        "issued by the control plane CA"
    );
    assert_eq!(
        cert.signature_algorithm.algorithm, OID_SIG_ECDSA_WITH_SHA256,
        "the CA's key is ECDSA P-256"
    );
    ring::signature::UnparsedPublicKey::new(
        &ring::signature::ECDSA_P256_SHA256_ASN1,
        &ca.public_key().subject_public_key.data,
    )
    .verify(cert.tbs_certificate.as_ref(), &cert.signature_value.data)
    .expect("the certificate's signature verifies with the control plane CA's key");
    String::from_utf8(pem).unwrap()
}

/// The member's CertificateSigningRequests, as the admin sees them.
async fn requests(
    plane: &ControlPlane,
    tenant: &str,
    member: &str,
) -> Vec<CertificateSigningRequest> {
    let api: Api<CertificateSigningRequest> = Api::all(plane.client().await);
    let selector =
        format!("harmony.nationtech.io/tenant={tenant},harmony.nationtech.io/member={member}");
    api.list(&ListParams::default().labels(&selector))
        .await
        .unwrap()
        .items
}

/// Checks the one request of `member`: its signer, lifetime, usages, harmony's approval and the
/// certificate the controller manager signed (`pem`). Returns its name.
async fn check_request(plane: &ControlPlane, tenant: &str, member: &str, pem: &str) -> String {
    let found = requests(plane, tenant, member).await;
    assert_eq!(found.len(), 1, "one request for {tenant}/{member}");
    let csr = &found[0];
    assert_eq!(csr.spec.signer_name, CSR_SIGNER);
    assert_eq!(csr.spec.expiration_seconds, Some(TTL_SECONDS as i32));
    let status = csr.status.as_ref().unwrap();
    let approved = status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "Approved")
        .expect("the request is approved");
    assert_eq!(
        (approved.status.as_str(), approved.reason.as_deref()),
        ("True", Some("HarmonyApproved"))
    );
    assert_eq!(
        status.certificate.as_ref().map(|c| c.0.as_slice()),
        Some(pem.as_bytes()),
        "the kubeconfig holds the certificate the controller manager wrote"
    );
    csr.metadata.name.clone().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn user_certificates_are_signed_by_the_controller_manager_and_held_to_their_roles() {
    let _logs = ControlPlane::shared().failure_guard();
    let fx = Fixture::new("cert").await;
    let (home, other) = (fx.home.namespace(), fx.other.namespace());
    let plane = fx.plane;

    let alice_path = fx.issue(&fx.home, "alice").await;
    let vera_path = fx.issue(&fx.home, "vera").await;
    let bob_path = fx.issue(&fx.other, "bob").await;
    let (alice, vera, bob) = (
        MemberConfig::load(&alice_path).await,
        MemberConfig::load(&vera_path).await,
        MemberConfig::load(&bob_path).await,
    );
    for (member, name, tenant, config) in [
        ("alice", format!("alice@{home}.test"), &fx.home, &alice),
        ("vera", format!("vera@{home}.test"), &fx.home, &vera),
        ("bob", format!("bob@{other}.test"), &fx.other, &bob),
    ] {
        let pem = check_certificate(plane, config, &name);
        check_request(plane, tenant.name(), member, &pem).await;
        assert_eq!(
            config.whoami().await,
            Ok((name, vec!["system:authenticated".to_string()])),
            "the server sees {member}'s user name and no group of harmony's making"
        );
        let namespace = tenant.namespace();
        let elsewhere = if namespace == home { other } else { home };
        assert_confined(member, &config.client, elsewhere).await;
    }
    assert_eq!(
        std::fs::read_dir(fx.dir.path().join("state/pending"))
            .unwrap()
            .count(),
        0,
        "no private key is left pending"
    );

    // The admin, with self-service: binds the tenant roles, nothing more.
    let client = &alice.client;
    assert_eq!(
        create::<RoleBinding>(
            client,
            home,
            role_binding("viewers", "Role", "tenant-viewer")
        )
        .await,
        Ok(()),
        "a self-service admin binds a tenant role"
    );
    for (kind, role) in [("ClusterRole", "admin"), ("ClusterRole", "cluster-admin")] {
        assert_eq!(
            create::<RoleBinding>(client, home, role_binding("grab", kind, role)).await,
            Err(403),
            "an admin binds {kind} {role}"
        );
    }
    assert_eq!(
        create::<ServiceAccount>(client, home, json!({ "metadata": { "name": "robot" } })).await,
        Ok(()),
        "an admin creates ServiceAccounts"
    );
    assert_eq!(
        raise_quota(client, home).await,
        Err(403),
        "an admin edits the quota"
    );
    assert!(fx.can_i(
        &alice_path,
        &["create", "rolebindings.rbac.authorization.k8s.io"]
    ));
    assert!(fx.can_i(
        &alice_path,
        &["bind", "roles.rbac.authorization.k8s.io/tenant-admin"]
    ));
    assert!(!fx.can_i(
        &alice_path,
        &["bind", "clusterroles.rbac.authorization.k8s.io/admin"]
    ));
    assert!(!fx.can_i(&alice_path, &["patch", "resourcequotas/tenant-quota"]));
    assert!(!fx.can_i(&alice_path, &["delete", &format!("namespaces/{home}")]));

    // An admin without self-service binds nothing.
    assert_eq!(
        create::<RoleBinding>(
            &bob.client,
            other,
            role_binding("viewers", "Role", "tenant-viewer")
        )
        .await,
        Err(403),
        "an admin without self-service binds a role"
    );
    assert!(!fx.can_i(
        &bob_path,
        &["create", "rolebindings.rbac.authorization.k8s.io"]
    ));
    assert!(fx.can_i(&bob_path, &["create", "deployments.apps"]));

    // The viewer reads, but not Secrets, and writes nothing.
    let client = &vera.client;
    assert_eq!(
        list::<ConfigMap>(client, home).await,
        Ok(()),
        "a viewer lists ConfigMaps"
    );
    assert_eq!(
        list::<Secret>(client, home).await,
        Err(403),
        "a viewer lists Secrets"
    );
    assert_eq!(
        create::<ConfigMap>(client, home, config_map("viewer-note")).await,
        Err(403),
        "a viewer creates a ConfigMap"
    );
    assert!(fx.can_i(&vera_path, &["list", "pods"]));
    assert!(!fx.can_i(&vera_path, &["create", "pods"]));
    assert!(!fx.can_i(&vera_path, &["get", "secrets"]));
    assert!(
        fx.kubectl_get_configmaps(&vera_path)
            .contains("configmap/harmony-guardrails")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn revoking_a_user_takes_its_role_but_cannot_revoke_its_certificate() {
    let _logs = ControlPlane::shared().failure_guard();
    let fx = Fixture::new("unbind").await;
    let home = fx.home.namespace();
    let plane = fx.plane;
    let user = format!("vera@{home}.test");

    let path = fx.issue(&fx.home, "vera").await;
    let vera = MemberConfig::load(&path).await;
    let first = check_request(
        plane,
        fx.home.name(),
        "vera",
        &check_certificate(plane, &vera, &user),
    )
    .await;
    assert_eq!(list::<ConfigMap>(&vera.client, home).await, Ok(()));

    let revocation = fx.revoke(&fx.home, "vera").await;
    assert!(
        revocation
            .caveats
            .iter()
            .any(|c| c.contains("cannot revoke client certificates")),
        "{revocation:?}"
    );
    let bindings: Api<RoleBinding> = Api::namespaced(plane.client().await, home);
    assert!(
        bindings.get_opt("member-vera").await.unwrap().is_none(),
        "the member's RoleBinding is gone"
    );
    assert!(
        requests(plane, fx.home.name(), "vera").await.is_empty(),
        "the member's requests are gone"
    );
    let start = Instant::now();
    while list::<ConfigMap>(&vera.client, home).await != Err(403) {
        assert!(
            start.elapsed() < SETTLE,
            "the unbound user still lists ConfigMaps"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(
        vera.whoami().await,
        Ok((user.clone(), vec!["system:authenticated".to_string()])),
        "the certificate still authenticates: x509 certificates cannot be revoked"
    );
    assert!(!fx.can_i(&path, &["list", "configmaps"]));

    // Applying the tenant again grants the role back; a new issue is a new request.
    apply_tenant(plane, &fx.home).await;
    let again = MemberConfig::load(&fx.issue(&fx.home, "vera").await).await;
    let second = check_request(
        plane,
        fx.home.name(),
        "vera",
        &check_certificate(plane, &again, &user),
    )
    .await;
    assert_ne!(second, first, "a new key makes a new request");
    assert_eq!(list::<ConfigMap>(&again.client, home).await, Ok(()));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_operator_who_may_not_approve_is_told_who_must_and_a_rerun_finishes() {
    let _logs = ControlPlane::shared().failure_guard();
    let fx = Fixture::new("approve").await;
    let plane = fx.plane;
    let requester = format!("requester@{}.test", fx.home.name());
    let role = format!("harmony-test-{}-csr-requester", fx.home.name());
    plane
        .kubectl_run(&[
            "create",
            "clusterrole",
            &role,
            "--verb=create,get,list",
            "--resource=certificatesigningrequests.certificates.k8s.io",
        ])
        .unwrap();
    plane
        .kubectl_run(&[
            "create",
            "clusterrolebinding",
            &role,
            &format!("--clusterrole={role}"),
            &format!("--user={requester}"),
        ])
        .unwrap();
    let connection = Connection {
        client: kube::Client::try_from(plane.config_as(&requester, &[]).await).unwrap(),
        ..fx.connection.clone()
    };
    let issuer = KubeCredentialIssuer::new(&connection, fx.dir.path().join("state/pending"))
        .with_signing_wait(Duration::from_secs(60), Duration::from_millis(200));
    let issue = || fx.issue_with(&issuer, &fx.home, "alice", &[]);

    let refused = issue().await.expect_err("the requester may not approve");
    let pending = requests(plane, fx.home.name(), "alice").await;
    assert_eq!(pending.len(), 1, "the request was submitted");
    let name = pending[0].metadata.name.clone().unwrap();
    assert!(
        refused.contains(&format!("kubectl certificate approve {name}")),
        "{refused}"
    );
    assert!(
        pending[0]
            .status
            .as_ref()
            .is_none_or(|s| s.conditions.is_none()),
        "harmony did not try to approve: {:?}",
        pending[0].status
    );
    let listed = fx.issuer.credentials(Some(fx.home.name())).await.unwrap();
    assert!(
        listed
            .iter()
            .any(|c| c.member == "alice" && c.state == ClusterCredentialState::Pending),
        "{listed:?}"
    );

    plane
        .kubectl_run(&["certificate", "approve", &name])
        .unwrap();
    let path = issue().await.expect("the re-run picks the certificate up");
    let alice = MemberConfig::load(&path).await;
    let user = format!("alice@{}.test", fx.home.name());
    let pem = check_certificate(plane, &alice, &user);
    let status = requests(plane, fx.home.name(), "alice").await[0]
        .status
        .clone()
        .unwrap();
    assert_eq!(
        status.certificate.map(|c| c.0),
        Some(pem.into_bytes()),
        "the re-run used the same request"
    );
    assert_eq!(alice.whoami().await.map(|(u, _)| u), Ok(user));
    let listed = fx.issuer.credentials(Some(fx.home.name())).await.unwrap();
    assert!(
        listed.iter().any(|c| c.member == "alice"
            && c.state == ClusterCredentialState::Issued
            && c.expires.is_some()),
        "{listed:?}"
    );
}

/// Half of every default total that the namespaces of a two-namespace tenant share on Kubernetes.
fn half_of_the_defaults() -> harmony_tenant::ResourceQuotaConfig {
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
    let q = |v: &str| Some(Quantity(v.into()));
    let mut quota = harmony_tenant::ResourceQuotaConfig::default();
    (quota.requests.cpu, quota.requests.memory) = (q("1"), q("2Gi"));
    quota.requests.ephemeral_storage = q("5Gi");
    (quota.limits.cpu, quota.limits.memory) = (q("2"), q("4Gi"));
    quota.limits.ephemeral_storage = q("10Gi");
    quota.objects.pods = Some(25);
    quota
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tenant_with_two_namespaces_issues_for_the_first_and_revokes_in_both() {
    let _logs = ControlPlane::shared().failure_guard();
    let fx = Fixture::new("twons").await;
    let plane = fx.plane;
    let name = ControlPlane::unique_name("twons-multi");
    let (first, second) = (format!("{name}-a"), format!("{name}-b"));
    let tenant = TenantScore::new(&name)
        .member(Member::user(
            "pat",
            TenantRole::Developer,
            format!("pat@{name}.test"),
        ))
        .member(Member::service_account("bot", TenantRole::Developer))
        .with_namespaces([
            harmony_tenant::TenantNamespace::new(&first).quotas(half_of_the_defaults()),
            harmony_tenant::TenantNamespace::new(&second).quotas(half_of_the_defaults()),
        ]);
    apply_tenant(plane, &tenant).await;
    for ns in [&first, &second] {
        wait_for_quota(plane, ns).await;
    }

    let path = fx.issue(&tenant, "pat").await;
    let pat = MemberConfig::load(&path).await;
    let pem = check_certificate(plane, &pat, &format!("pat@{name}.test"));
    check_request(plane, &name, "pat", &pem).await;
    let config = std::fs::read_to_string(&path).unwrap();
    assert!(
        config.contains(&format!("namespace: {first}")),
        "the kubeconfig defaults to the first namespace: {config}"
    );
    for ns in [&first, &second] {
        assert_eq!(list::<ConfigMap>(&pat.client, ns).await, Ok(()), "{ns}");
    }
    let token = fx.issue(&tenant, "bot").await;
    assert!(fx.can_i(&token, &["list", "configmaps", "-n", &first]));

    let revocation = fx.revoke(&tenant, "pat").await;
    for ns in [&first, &second] {
        assert!(
            revocation
                .actions
                .iter()
                .any(|a| a.contains(&format!("RoleBinding {ns}/member-pat"))),
            "{revocation:?}"
        );
        let start = Instant::now();
        while list::<ConfigMap>(&pat.client, ns).await != Err(403) {
            assert!(
                start.elapsed() < SETTLE,
                "pat still lists ConfigMaps in {ns}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    let recreated = fx.revoke(&tenant, "bot").await;
    for ns in [&first, &second] {
        assert!(
            recreated
                .identity
                .contains(&format!("system:serviceaccount:{ns}:bot")),
            "{recreated:?}"
        );
    }
}
