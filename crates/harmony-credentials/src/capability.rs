//! The `CredentialIssuer` capability: issue, revoke and list member credentials.
//!
//! It speaks of concepts (a member, a lifetime, a credential with an expiry), not of tokens or
//! CSRs, so that another issuer (an identity provider, say) can stand behind the same score. It
//! lives beside its score rather than in the domain crate (`harmony-tenant`): what it returns, a
//! kubeconfig for an endpoint, is this crate's vocabulary, and the tenant domain does not need it.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::{CredentialError, Endpoint, Kubeconfig, Ttl};

/// Who a credential authenticates as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Holder {
    /// A workload identity in the tenant namespace, named after the member.
    ServiceAccount(String),
    /// A person, by the user name the API server authenticates.
    User(String),
}

impl Holder {
    /// The kind of credential this holder gets.
    pub fn kind(&self) -> CredentialKind {
        match self {
            Self::ServiceAccount(_) => CredentialKind::Token,
            Self::User(_) => CredentialKind::Certificate,
        }
    }
}

/// What a credential is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CredentialKind {
    /// A bearer token, bounded in time.
    Token,
    /// An X.509 client certificate.
    Certificate,
    /// A login at the identity provider: the kubeconfig runs `harmony auth oidc-token`.
    Login,
}

impl CredentialKind {
    /// `token` or `certificate`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Token => "token",
            Self::Certificate => "certificate",
            Self::Login => "login",
        }
    }
}

/// A credential to issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRequest {
    /// The tenant id.
    pub tenant: String,
    /// The tenant namespace (the kubeconfig's default namespace).
    pub namespace: String,
    /// The member id.
    pub member: String,
    /// Who the credential authenticates as.
    pub holder: Holder,
    /// Requested lifetime; the issuer may grant less (see [`IssuedCredential::expires`]).
    pub ttl: Ttl,
    /// The API endpoint the member uses.
    pub endpoint: Endpoint,
    /// Token audiences besides the API server's own, which tokens always carry (the kubeconfig
    /// needs them).
    pub audiences: Vec<String>,
}

impl CredentialRequest {
    /// The kubeconfig's context name: `<tenant>-<member>`.
    pub fn context_name(&self) -> String {
        format!("{}-{}", self.tenant, self.member)
    }
}

/// A credential just issued.
#[derive(Debug)]
pub struct IssuedCredential {
    /// The member's kubeconfig (a secret).
    pub kubeconfig: Kubeconfig,
    /// What was issued.
    pub kind: CredentialKind,
    /// Who it authenticates as, with the ServiceAccount uid for tokens.
    pub identity: String,
    /// The certificate serial (hex), for certificates.
    pub serial: Option<String>,
    /// The CertificateSigningRequest, for certificates.
    pub request: Option<String>,
    /// When it stops working, as granted (it may be earlier than asked).
    pub expires: Timestamp,
}

/// A member whose credentials to revoke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokeRequest {
    /// The tenant id.
    pub tenant: String,
    /// Every namespace of the tenant (the member is bound, and its ServiceAccount is, in each).
    pub namespaces: Vec<String>,
    /// The member id.
    pub member: String,
    /// Who the member authenticates as.
    pub holder: Holder,
}

/// What a revocation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    /// What was revoked.
    pub kind: CredentialKind,
    /// The identity after revocation (the new ServiceAccount uid), or the user name.
    pub identity: String,
    /// One line per action taken.
    pub actions: Vec<String>,
    /// What revocation could not do, for the operator to know.
    pub caveats: Vec<String>,
}

/// A credential as the cluster knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterCredential {
    /// The tenant id.
    pub tenant: String,
    /// The member id.
    pub member: String,
    /// What it is.
    pub kind: CredentialKind,
    /// The object holding it: `ServiceAccount ns/name` or `CertificateSigningRequest name`.
    pub object: String,
    /// ServiceAccount uid or certificate user name.
    pub identity: String,
    /// Certificate serial, when signed.
    pub serial: Option<String>,
    /// Certificate expiry, when signed.
    pub expires: Option<Timestamp>,
    /// Where it stands.
    pub state: ClusterCredentialState,
}

/// Where a credential object stands in the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClusterCredentialState {
    /// The ServiceAccount exists: tokens issued for this uid work until they expire.
    Account,
    /// The CSR waits for approval or signing.
    Pending,
    /// The CSR holds a signed certificate.
    Issued,
    /// The CSR was denied or failed.
    Refused,
}

/// A topology that can give tenant members credentials.
#[async_trait::async_trait]
pub trait CredentialIssuer: harmony::Topology {
    /// Issues a credential for `request`'s member.
    async fn issue(&self, request: &CredentialRequest)
    -> Result<IssuedCredential, CredentialError>;

    /// Revokes what can be revoked of the member's credentials.
    async fn revoke(&self, request: &RevokeRequest) -> Result<Revocation, CredentialError>;

    /// The credentials the topology holds, for one tenant or all.
    async fn credentials(
        &self,
        tenant: Option<&str>,
    ) -> Result<Vec<ClusterCredential>, CredentialError>;
}
