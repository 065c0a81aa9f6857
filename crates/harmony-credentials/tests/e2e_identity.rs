//! On a real control plane (`harmony_testkit::ControlPlane`), a CertificateSigningRequest that
//! someone else created under the name harmony uses for a member's request, asking for
//! `system:admin` or for a group, is neither approved nor used by `credentials issue`, although
//! its operator may approve requests (a `system:masters` request the API server refuses itself).

mod common;

use std::time::Duration;

use common::{apply_tenant, pending_request, plane_operator};
use harmony::Score;
use harmony_credentials::{
    DEFAULT_MAX_TTL, Endpoint, IssueOptions, KubeCredentialIssuer, Output, TenantCredentialScore,
    Ttl,
};
use harmony_tenant::{Member, TenantRole, TenantScore};
use harmony_testkit::ControlPlane;
use k8s_openapi::ByteString;
use k8s_openapi::api::certificates::v1::{
    CertificateSigningRequest, CertificateSigningRequestSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, PostParams};

/// A request for `cn` (and organization `o`) with its own key, labelled as harmony's.
fn forged(name: &str, tenant: &str, cn: &str, o: Option<&str>) -> CertificateSigningRequest {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, cn);
    if let Some(o) = o {
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, o);
    }
    let pem = params.serialize_request(&key).unwrap().pem().unwrap();
    CertificateSigningRequest {
        metadata: ObjectMeta {
            name: Some(name.into()),
            labels: Some(
                [
                    ("app.kubernetes.io/managed-by", "harmony"),
                    ("harmony.nationtech.io/tenant", tenant),
                    ("harmony.nationtech.io/member", "alice"),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ),
            ..ObjectMeta::default()
        },
        spec: CertificateSigningRequestSpec {
            request: ByteString(pem.into_bytes()),
            signer_name: "kubernetes.io/kube-apiserver-client".into(),
            expiration_seconds: Some(3600),
            usages: Some(vec!["client auth".into()]),
            ..CertificateSigningRequestSpec::default()
        },
        status: None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forged_request_under_harmonys_name_is_not_approved() {
    let plane = ControlPlane::shared();
    let _logs = plane.failure_guard();
    let name = ControlPlane::unique_name("forged-csr");
    let user = format!("alice@{name}.test");
    let tenant = TenantScore::new(&name).member(Member::user("alice", TenantRole::Admin, &user));
    apply_tenant(plane, &tenant).await;
    let dir = tempfile::tempdir().unwrap();
    let connection = plane_operator(plane).await;
    let issuer = KubeCredentialIssuer::new(&connection, dir.path().join("state/pending"))
        .with_signing_wait(Duration::from_secs(30), Duration::from_millis(200));
    let csrs: Api<CertificateSigningRequest> = Api::all(plane.client().await);

    // The API server itself refuses `system:masters` for this signer; other groups it takes.
    let masters = forged(
        "harmony-forged-masters",
        &name,
        &user,
        Some("system:masters"),
    );
    let refused = csrs
        .create(&PostParams::default(), &masters)
        .await
        .expect_err("no system:masters request for the client signer");
    assert!(
        refused
            .to_string()
            .contains("use of kubernetes.io/kube-apiserver-client signer with system:masters group is not allowed"),
        "{refused}"
    );

    for (cn, o, problem) in [
        (
            "system:admin",
            None,
            "its subject is `CN=system:admin`, not `CN={user}` alone",
        ),
        (
            user.as_str(),
            Some("other-tenant-admins"),
            "its subject is `CN={user}, O=other-tenant-admins`, not `CN={user}` alone (an \
             organization would be a group)",
        ),
    ] {
        let problem = problem.replace("{user}", &user);
        let key = dir.path().join(format!("state/pending/{name}-alice.key"));
        let csr = pending_request(&key, &name, "alice");
        csrs.create(&PostParams::default(), &forged(&csr, &name, cn, o))
            .await
            .expect("the admin creates the forged request");

        let out = dir.path().join("alice.kubeconfig");
        let options = IssueOptions {
            ttl: "3600s".parse::<Ttl>().unwrap(),
            max_ttl: DEFAULT_MAX_TTL,
            endpoint: Endpoint::new(plane.url(), connection.certificate_authority.clone()).unwrap(),
            audiences: vec![],
            output: Output::from_flag(&out, false),
            log: dir.path().join("state/log.jsonl"),
            by: "ops".into(),
        };
        let score = TenantCredentialScore::new(&tenant, "alice", options).unwrap();
        let error = Score::<KubeCredentialIssuer>::create_interpret(&score)
            .execute(&issuer)
            .await
            .expect_err("a forged request is refused")
            .to_string();
        assert!(
            error.contains(&format!(
                "CertificateSigningRequest {csr} is not the request harmony built for member \
                 {name}/alice: "
            )) && error.contains(&problem)
                && error.contains("its public key is not the member's pending key"),
            "{error}"
        );
        // The controller manager signs only approved requests: give it time to show none was.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let stored = csrs.get(&csr).await.unwrap();
        let status = stored.status.unwrap_or_default();
        assert!(
            status.conditions.is_none() && status.certificate.is_none(),
            "neither approved nor signed: {status:?}"
        );
        assert!(!out.exists() && !key.exists());
        csrs.delete(&csr, &Default::default()).await.unwrap();
    }
}
