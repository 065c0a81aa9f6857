//! Why a credential could not be issued, revoked or listed. Messages name the field or object,
//! the value and the fix; they never hold a token, a key or a kubeconfig.

use std::path::PathBuf;

use harmony::private_file::FileError;

/// A credential operation failed; nothing secret is in the message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    /// Bad input (flag, member, lifetime); nothing was contacted or written.
    #[error("{field}: {message}")]
    Invalid {
        /// The flag or field, such as `--ttl` or `--member`.
        field: String,
        /// What is wrong and what is accepted.
        message: String,
    },
    /// The API server could not be reached.
    #[error(
        "cannot reach the Kubernetes API at {server} ({reason}); the API is reachable only through \
         the VPN: check that your WireGuard tunnel is up (`harmony vpn peer add`, then `wg-quick up`) \
         and that --kubeconfig/--context point at the right cluster"
    )]
    Unreachable {
        /// The API server URL.
        server: String,
        /// The connection error.
        reason: String,
    },
    /// The cluster answered, but not as needed (missing object, forbidden, ...).
    #[error("{0}")]
    Cluster(String),
    /// A certificate signing request waits for someone allowed to approve it.
    #[error(
        "CertificateSigningRequest {csr} is pending: you may not approve requests for signer \
         kubernetes.io/kube-apiserver-client. A cluster admin (anyone allowed `approve` on \
         signers/kubernetes.io/kube-apiserver-client and `update` on \
         certificatesigningrequests/approval) must run `kubectl certificate approve {csr}`; then \
         re-run this command to fetch the certificate (the private key waits, 0600, in {key})"
    )]
    ApprovalRequired {
        /// The CSR name.
        csr: String,
        /// Where the pending private key is kept.
        key: PathBuf,
    },
    /// A CertificateSigningRequest under the member's request name is not the one harmony built;
    /// it is neither approved nor used.
    #[error(
        "CertificateSigningRequest {csr} is not the request harmony built for member {member}: \
         {problems}. Harmony does not approve or use it: find out who created it and delete it \
         (`kubectl delete csr {csr}`); the member's pending key was discarded, so a re-run \
         submits a new request"
    )]
    ForeignRequest {
        /// The CSR name.
        csr: String,
        /// `tenant/member`.
        member: String,
        /// What differs from harmony's request, such as `its subject is CN=system:admin`.
        problems: String,
    },
    /// Reading or writing a file failed.
    #[error(transparent)]
    Io(#[from] FileError),
}

impl CredentialError {
    /// An [`CredentialError::Invalid`] error.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// A closure mapping an I/O error on `path`.
    pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Self {
        let at = FileError::at(path);
        move |source| Self::Io(at(source))
    }
}

impl From<CredentialError> for harmony::InterpretError {
    fn from(error: CredentialError) -> Self {
        match error {
            CredentialError::Invalid { .. } => Self::Invalid(error.to_string()),
            CredentialError::Unreachable { .. } => Self::NotReady(error.to_string()),
            CredentialError::Io(FileError { path, source }) => Self::Io { path, source },
            CredentialError::ApprovalRequired { .. }
            | CredentialError::ForeignRequest { .. }
            | CredentialError::Cluster(_) => Self::Topology(error.to_string()),
        }
    }
}
