//! `KubeCredentialIssuer`: the [`CredentialIssuer`] capability on a live cluster through kube-rs.

mod certificate;
mod list;
mod revoke;
mod token;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use harmony::{InterpretError, Topology};
use harmony_tenant::{MANAGED_BY_LABEL, MANAGED_BY_VALUE, TENANT_LABEL};

use crate::{
    ClusterCredential, Connection, CredentialError, CredentialIssuer, CredentialRequest, Holder,
    IssuedCredential, Revocation, RevokeRequest,
};

/// Label naming the member a credential object (CSR) belongs to.
pub const MEMBER_LABEL: &str = "harmony.nationtech.io/member";
/// The signer of member client certificates.
pub const CSR_SIGNER: &str = "kubernetes.io/kube-apiserver-client";

/// Issues member credentials on a live cluster, as the operator's kube client.
pub struct KubeCredentialIssuer {
    client: kube::Client,
    server: String,
    pending: PathBuf,
    approval_timeout: Duration,
    poll_interval: Duration,
}

impl KubeCredentialIssuer {
    /// An issuer acting through `connection`; private keys of CSRs waiting for approval are kept
    /// (0600) in `pending_dir`.
    pub fn new(connection: &Connection, pending_dir: impl Into<PathBuf>) -> Self {
        Self {
            client: connection.client.clone(),
            server: connection.server.clone(),
            pending: pending_dir.into(),
            approval_timeout: Duration::from_secs(60),
            poll_interval: Duration::from_secs(1),
        }
    }

    /// How long to wait for the signer once a CSR is approved, and how often to look.
    pub fn with_signing_wait(mut self, timeout: Duration, interval: Duration) -> Self {
        self.approval_timeout = timeout;
        self.poll_interval = interval;
        self
    }

    /// Maps a kube error about `what` to a message for the operator.
    fn error(&self, what: String) -> impl FnOnce(kube::Error) -> CredentialError + '_ {
        move |error| match error {
            kube::Error::Api(status) => {
                let hint = if status.code == 403 {
                    ": your --context may not do this; use an operator (cluster-admin) context"
                } else {
                    ""
                };
                CredentialError::Cluster(format!(
                    "{what}: the API server answered {} {}{hint}",
                    status.code, status.message
                ))
            }
            other => CredentialError::Unreachable {
                server: self.server.clone(),
                reason: other.to_string(),
            },
        }
    }
}

/// The labels of credential objects harmony creates for `tenant`'s `member`.
fn labels(tenant: &str, member: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (MANAGED_BY_LABEL.to_string(), MANAGED_BY_VALUE.to_string()),
        (TENANT_LABEL.to_string(), tenant.to_string()),
        (MEMBER_LABEL.to_string(), member.to_string()),
    ])
}

/// A label selector for harmony's credential objects, of one tenant and member when given.
fn selector(tenant: Option<&str>, member: Option<&str>) -> String {
    let mut parts = vec![format!("{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}")];
    parts.extend(tenant.map(|t| format!("{TENANT_LABEL}={t}")));
    parts.extend(member.map(|m| format!("{MEMBER_LABEL}={m}")));
    parts.join(",")
}

/// Whether `labels` say harmony manages the object for `tenant`.
fn owned_by(labels: Option<&BTreeMap<String, String>>, tenant: &str) -> bool {
    labels.is_some_and(|l| {
        l.get(MANAGED_BY_LABEL).map(String::as_str) == Some(MANAGED_BY_VALUE)
            && l.get(TENANT_LABEL).map(String::as_str) == Some(tenant)
    })
}

/// A timestamp of the API's jiff version as ours.
fn timestamp(time: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Time) -> jiff::Timestamp {
    jiff::Timestamp::from_second(time.0.as_second()).unwrap_or(jiff::Timestamp::MAX)
}

#[async_trait::async_trait]
impl Topology for KubeCredentialIssuer {
    fn name(&self) -> String {
        format!("cluster ({})", self.server)
    }

    async fn ensure_ready(&self) -> Result<(), InterpretError> {
        self.client
            .apiserver_version()
            .await
            .map(drop)
            .map_err(self.error("reading the API server version".into()))
            .map_err(InterpretError::from)
    }
}

#[async_trait::async_trait]
impl CredentialIssuer for KubeCredentialIssuer {
    async fn issue(
        &self,
        request: &CredentialRequest,
    ) -> Result<IssuedCredential, CredentialError> {
        match &request.holder {
            Holder::ServiceAccount(account) => self.issue_token(request, account).await,
            Holder::User(user) => self.issue_certificate(request, user).await,
        }
    }

    async fn revoke(&self, request: &RevokeRequest) -> Result<Revocation, CredentialError> {
        match &request.holder {
            Holder::ServiceAccount(account) => {
                // One ServiceAccount per namespace of the tenant: each is recreated.
                let mut done: Option<Revocation> = None;
                for namespace in &request.namespaces {
                    let next = self.recreate_account(request, namespace, account).await?;
                    done = Some(match done {
                        None => next,
                        Some(mut all) => {
                            all.identity = format!("{}, {}", all.identity, next.identity);
                            all.actions.extend(next.actions);
                            all
                        }
                    });
                }
                done.ok_or_else(|| {
                    CredentialError::Cluster(format!(
                        "tenant `{}` has no namespace",
                        request.tenant
                    ))
                })
            }
            Holder::User(user) => self.unbind_user(request, user).await,
        }
    }

    async fn credentials(
        &self,
        tenant: Option<&str>,
    ) -> Result<Vec<ClusterCredential>, CredentialError> {
        self.list(tenant).await
    }
}
