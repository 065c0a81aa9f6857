//! `user:` members: an X.509 client certificate through a CertificateSigningRequest for signer
//! `kubernetes.io/kube-apiserver-client`. The private key is generated here and never sent; while
//! a request waits for someone else's approval its key waits, 0600, in the pending folder.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use k8s_openapi::ByteString;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::certificates::v1::{
    CertificateSigningRequest, CertificateSigningRequestCondition, CertificateSigningRequestSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, PostParams};
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, PublicKeyData};

use super::{CSR_SIGNER, KubeCredentialIssuer, MEMBER_LABEL, labels, owned_by};
use crate::kubeconfig::UserAuth;
use crate::{CredentialError, CredentialKind, CredentialRequest, IssuedCredential, Kubeconfig};

/// A signed certificate, checked against the request.
struct Signed {
    pem: String,
    serial: String,
    expires: jiff::Timestamp,
}

impl KubeCredentialIssuer {
    pub(super) async fn issue_certificate(
        &self,
        request: &CredentialRequest,
        user: &str,
    ) -> Result<IssuedCredential, CredentialError> {
        let api: Api<CertificateSigningRequest> = Api::all(self.client.clone());
        let key_path = self.pending_key(&request.tenant, &request.member);
        let (key, csr) = match self.resume(&api, &key_path).await? {
            Some(found) => found,
            None => self.submit(&api, request, user, &key_path).await?,
        };
        let name = csr.metadata.name.clone().unwrap_or_default();
        let problems = foreign(&csr, request, user, &key);
        if !problems.is_empty() {
            remove_key(&key_path)?;
            return Err(CredentialError::ForeignRequest {
                csr: name,
                member: format!("{}/{}", request.tenant, request.member),
                problems: problems.join("; "),
            });
        }
        if let Some(reason) = refusal(&csr) {
            remove_key(&key_path)?;
            return Err(CredentialError::Cluster(format!(
                "CertificateSigningRequest {name} was {reason}; re-run to submit a new request"
            )));
        }
        if certificate(&csr).is_none() && !is_approved(&csr) {
            if !self.may_approve(&name).await? {
                return Err(CredentialError::ApprovalRequired {
                    csr: name,
                    key: key_path,
                });
            }
            self.approve(&api, csr, request).await?;
        }
        let pem = self.wait_for_certificate(&api, &name, &key_path).await?;
        let signed = inspect(&pem, user, &key).map_err(|problem| {
            CredentialError::Cluster(format!("CertificateSigningRequest {name}: {problem}"))
        })?;
        let key_pem = key.serialize_pem();
        let kubeconfig = Kubeconfig::render(
            request,
            UserAuth::Certificate {
                certificate: &signed.pem,
                key: &key_pem,
            },
        )?;
        remove_key(&key_path)?;
        Ok(IssuedCredential {
            kubeconfig,
            kind: CredentialKind::Certificate,
            identity: user.to_string(),
            serial: Some(signed.serial),
            request: Some(name),
            expires: signed.expires,
        })
    }

    /// Where the key of a member's pending request waits.
    pub(super) fn pending_key(&self, tenant: &str, member: &str) -> PathBuf {
        self.pending.join(format!("{tenant}-{member}.key"))
    }

    /// The pending request of an earlier run, when its key and its CSR are both still there.
    async fn resume(
        &self,
        api: &Api<CertificateSigningRequest>,
        key_path: &Path,
    ) -> Result<Option<(KeyPair, CertificateSigningRequest)>, CredentialError> {
        let pem = match std::fs::read_to_string(key_path) {
            Ok(pem) => pem,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(CredentialError::io(key_path)(e)),
        };
        let key = KeyPair::from_pem(&pem).map_err(|e| {
            CredentialError::invalid(
                key_path.display().to_string(),
                format!("not a private key ({e}): delete it to start a new request"),
            )
        })?;
        let name = csr_name(key_path, &key);
        let found = api
            .get_opt(&name)
            .await
            .map_err(self.error(format!("reading CertificateSigningRequest {name}")))?;
        match found {
            Some(csr) => Ok(Some((key, csr))),
            None => {
                remove_key(key_path)?;
                Ok(None)
            }
        }
    }

    /// Generates a key, keeps it pending and submits its request.
    async fn submit(
        &self,
        api: &Api<CertificateSigningRequest>,
        request: &CredentialRequest,
        user: &str,
        key_path: &Path,
    ) -> Result<(KeyPair, CertificateSigningRequest), CredentialError> {
        let failed = |e: rcgen::Error| CredentialError::Cluster(format!("key generation: {e}"));
        let key = KeyPair::generate().map_err(failed)?;
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, user);
        let pem = params.serialize_request(&key).map_err(failed)?;
        let pem = pem.pem().map_err(failed)?;
        let name = csr_name(key_path, &key);
        let csr = CertificateSigningRequest {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                labels: Some(labels(&request.tenant, &request.member)),
                ..ObjectMeta::default()
            },
            spec: CertificateSigningRequestSpec {
                request: ByteString(pem.into_bytes()),
                signer_name: CSR_SIGNER.into(),
                expiration_seconds: Some(i32::try_from(request.ttl.seconds()).unwrap_or(i32::MAX)),
                usages: Some(vec!["client auth".into()]),
                ..CertificateSigningRequestSpec::default()
            },
            status: None,
        };
        save_key(key_path, &key)?;
        match api.create(&PostParams::default(), &csr).await {
            Ok(created) => Ok((key, created)),
            Err(error) => {
                remove_key(key_path)?;
                Err(self
                    .error(format!("creating CertificateSigningRequest {name}"))(
                    error,
                ))
            }
        }
    }

    /// Whether the operator may approve requests for [`CSR_SIGNER`] (SelfSubjectAccessReview).
    async fn may_approve(&self, csr: &str) -> Result<bool, CredentialError> {
        let checks = [
            ("signers", None, "approve", CSR_SIGNER),
            (
                "certificatesigningrequests",
                Some("approval"),
                "update",
                csr,
            ),
        ];
        let api: Api<SelfSubjectAccessReview> = Api::all(self.client.clone());
        for (resource, subresource, verb, name) in checks {
            let review = SelfSubjectAccessReview {
                spec: SelfSubjectAccessReviewSpec {
                    resource_attributes: Some(ResourceAttributes {
                        group: Some("certificates.k8s.io".into()),
                        resource: Some(resource.into()),
                        subresource: subresource.map(String::from),
                        verb: Some(verb.into()),
                        name: Some(name.into()),
                        ..ResourceAttributes::default()
                    }),
                    ..SelfSubjectAccessReviewSpec::default()
                },
                ..SelfSubjectAccessReview::default()
            };
            let answer = api
                .create(&PostParams::default(), &review)
                .await
                .map_err(self.error(format!("asking whether you may {verb} {resource}")))?;
            if !answer.status.is_some_and(|s| s.allowed) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    async fn approve(
        &self,
        api: &Api<CertificateSigningRequest>,
        mut csr: CertificateSigningRequest,
        request: &CredentialRequest,
    ) -> Result<(), CredentialError> {
        let name = csr.metadata.name.clone().unwrap_or_default();
        let status = csr.status.get_or_insert_with(Default::default);
        status
            .conditions
            .get_or_insert_with(Vec::new)
            .push(CertificateSigningRequestCondition {
                type_: "Approved".into(),
                status: "True".into(),
                reason: Some("HarmonyApproved".into()),
                message: Some(format!(
                    "approved by harmony for member {} of tenant {}",
                    request.member, request.tenant
                )),
                ..CertificateSigningRequestCondition::default()
            });
        api.replace_subresource("approval", &name, &PostParams::default(), &csr)
            .await
            .map(drop)
            .map_err(self.error(format!("approving CertificateSigningRequest {name}")))
    }

    /// Polls until the signer writes `status.certificate`.
    async fn wait_for_certificate(
        &self,
        api: &Api<CertificateSigningRequest>,
        name: &str,
        key_path: &Path,
    ) -> Result<String, CredentialError> {
        let deadline = tokio::time::Instant::now() + self.approval_timeout;
        loop {
            let csr = api
                .get(name)
                .await
                .map_err(self.error(format!("reading CertificateSigningRequest {name}")))?;
            if let Some(pem) = certificate(&csr) {
                return Ok(pem);
            }
            if let Some(reason) = refusal(&csr) {
                remove_key(key_path)?;
                return Err(CredentialError::Cluster(format!(
                    "CertificateSigningRequest {name} was {reason}"
                )));
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(CredentialError::Cluster(format!(
                    "CertificateSigningRequest {name} is approved but no certificate arrived within \
                     {}s: is the cluster's signer for {CSR_SIGNER} running (kube-controller-manager \
                     --cluster-signing-* flags)? Re-run this command to pick the certificate up \
                     (the key waits, 0600, in {})",
                    self.approval_timeout.as_secs(),
                    key_path.display()
                )));
            }
            tokio::time::sleep(self.poll_interval).await;
        }
    }
}

/// `harmony-<tenant>-<member>-<8 hex of the public key's SHA-256>`, from the pending key's file
/// name (`<tenant>-<member>.key`).
fn csr_name(key_path: &Path, key: &KeyPair) -> String {
    let stem = key_path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let digest = ring::digest::digest(&ring::digest::SHA256, key.der_bytes());
    let short: String = digest.as_ref()[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("harmony-{stem}-{short}")
}

/// How `csr` differs from the request harmony builds for `user` with `key` (empty when it is that
/// request): the signer, the usages, the lifetime, the labels, and in the PKCS#10 request the
/// subject (the user as its only attribute: no organization, so no group), the public key and no
/// requested attributes or extensions.
fn foreign(
    csr: &CertificateSigningRequest,
    request: &CredentialRequest,
    user: &str,
    key: &KeyPair,
) -> Vec<String> {
    use x509_parser::certification_request::X509CertificationRequest;
    use x509_parser::prelude::FromDer;

    let mut problems = Vec::new();
    let spec = &csr.spec;
    if spec.signer_name != CSR_SIGNER {
        problems.push(format!(
            "its signer is `{}`, not `{CSR_SIGNER}`",
            spec.signer_name
        ));
    }
    if spec.usages.as_deref() != Some(&["client auth".to_string()][..]) {
        problems.push(format!(
            "its usages are {:?}, not [\"client auth\"]",
            spec.usages.as_deref().unwrap_or_default()
        ));
    }
    match spec.expiration_seconds {
        Some(s) if i64::from(s) <= request.ttl.seconds() => {}
        other => problems.push(format!(
            "its lifetime is {}, longer than the {}s asked for",
            other.map_or("unbounded".into(), |s| format!("{s}s")),
            request.ttl.seconds()
        )),
    }
    let labels = csr.metadata.labels.as_ref();
    if !owned_by(labels, &request.tenant)
        || labels.and_then(|l| l.get(MEMBER_LABEL)) != Some(&request.member)
    {
        problems.push("its labels do not name the member".into());
    }
    let der = x509_parser::pem::parse_x509_pem(&spec.request.0)
        .map_err(|e| e.to_string())
        .map(|(_, pem)| pem.contents);
    let parsed = der.as_ref().map_err(Clone::clone).and_then(|der| {
        X509CertificationRequest::from_der(der)
            .map(|(_, csr)| csr)
            .map_err(|e| e.to_string())
    });
    let info = match &parsed {
        Ok(csr) => &csr.certification_request_info,
        Err(e) => {
            problems.push(format!("its request is not a PEM PKCS#10 request ({e})"));
            return problems;
        }
    };
    let subject = info.subject.to_string();
    let only_cn = info.subject.iter_attributes().count() == 1
        && info
            .subject
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            == Some(user);
    if !only_cn {
        problems.push(format!(
            "its subject is `{subject}`, not `CN={user}` alone (an organization would be a group)"
        ));
    }
    if info.subject_pki.subject_public_key.data.as_ref() != key.der_bytes() {
        problems.push("its public key is not the member's pending key".into());
    }
    if !info.attributes().is_empty() {
        problems.push("it requests attributes or extensions".into());
    }
    problems
}

/// The signed certificate (PEM), once there.
pub(super) fn certificate(csr: &CertificateSigningRequest) -> Option<String> {
    csr.status
        .as_ref()
        .and_then(|s| s.certificate.as_ref())
        .filter(|c| !c.0.is_empty())
        .map(|c| String::from_utf8_lossy(&c.0).into_owned())
}

fn condition<'a>(
    csr: &'a CertificateSigningRequest,
    kind: &str,
) -> Option<&'a CertificateSigningRequestCondition> {
    csr.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == kind && c.status == "True"))
}

fn is_approved(csr: &CertificateSigningRequest) -> bool {
    condition(csr, "Approved").is_some()
}

/// `denied (reason)` or `failed (reason)` when the request will never be signed.
pub(super) fn refusal(csr: &CertificateSigningRequest) -> Option<String> {
    ["Denied", "Failed"].into_iter().find_map(|kind| {
        condition(csr, kind).map(|c| {
            let why = c
                .message
                .as_deref()
                .or(c.reason.as_deref())
                .unwrap_or("no reason given");
            format!("{} ({why})", kind.to_lowercase())
        })
    })
}

/// What harmony reads from a signed certificate.
pub(super) struct CertificateInfo {
    /// The subject's common name (the user name).
    pub subject: String,
    /// The serial number, hex.
    pub serial: String,
    /// `notAfter`.
    pub expires: jiff::Timestamp,
    /// The raw public key.
    pub public_key: Vec<u8>,
    /// How many organizations (groups) the subject names.
    pub organizations: usize,
}

/// Reads the first certificate of `pem`.
pub(super) fn read_certificate(pem: &str) -> Result<CertificateInfo, String> {
    let (_, block) = x509_parser::pem::parse_x509_pem(pem.as_bytes())
        .map_err(|e| format!("status.certificate is not PEM: {e}"))?;
    let cert = block
        .parse_x509()
        .map_err(|e| format!("status.certificate is not an X.509 certificate: {e}"))?;
    let subject = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .unwrap_or_default()
        .to_string();
    let serial = cert
        .raw_serial()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let expires = jiff::Timestamp::from_second(cert.validity().not_after.timestamp())
        .map_err(|e| format!("certificate expiry out of range: {e}"))?;
    Ok(CertificateInfo {
        subject,
        serial,
        expires,
        public_key: cert.public_key().subject_public_key.data.to_vec(),
        organizations: cert.subject().iter_organization().count(),
    })
}

/// Checks the certificate is for `user` and `key`.
fn inspect(pem: &str, user: &str, key: &KeyPair) -> Result<Signed, String> {
    let info = read_certificate(pem)?;
    if info.subject != user {
        return Err(format!(
            "the certificate is for `{}`, not `{user}`: it cannot be used",
            info.subject
        ));
    }
    if info.organizations > 0 {
        return Err("the certificate carries an organization (a group): it cannot be used".into());
    }
    if info.public_key != key.der_bytes() {
        return Err("the certificate is for another key: it cannot be used".into());
    }
    Ok(Signed {
        pem: pem.to_string(),
        serial: info.serial,
        expires: info.expires,
    })
}

fn save_key(path: &Path, key: &KeyPair) -> Result<(), CredentialError> {
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(CredentialError::io(dir))?;
    }
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(CredentialError::io(path))?;
    file.write_all(key.serialize_pem().as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(CredentialError::io(path))
}

/// Removes a pending key (already gone is fine).
pub(super) fn remove_key(path: &Path) -> Result<(), CredentialError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(CredentialError::io(path)(e)),
        _ => Ok(()),
    }
}
