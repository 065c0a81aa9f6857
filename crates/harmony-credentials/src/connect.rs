//! Connecting as the operator through `harmony_kube::Access`, and keeping what member kubeconfigs
//! reuse from the operator's context: the API server URL and the cluster CA.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use harmony_kube::Access;

use crate::CredentialError;

/// A client for the operator's cluster, with what member kubeconfigs reuse from it.
#[derive(Clone)]
pub struct Connection {
    /// The operator's client.
    pub client: kube::Client,
    /// The API server URL of the operator's context.
    pub server: String,
    /// The cluster CA (PEM) of the operator's context, if it names one.
    pub certificate_authority: Option<String>,
}

/// Connects as `access` says (its kubeconfig and context, else `KUBECONFIG`, `~/.kube/config`
/// or in-cluster). Nothing is sent to the server yet.
pub async fn connect(access: &Access) -> Result<Connection, CredentialError> {
    let config = access
        .config()
        .await
        .map_err(|e| CredentialError::invalid("--kubeconfig", e.to_string()))?;
    let server = config
        .cluster_url
        .to_string()
        .trim_end_matches('/')
        .to_string();
    let certificate_authority = config
        .root_cert
        .as_ref()
        .map(|certs| certs.iter().map(|der| pem_certificate(der)).collect());
    let client = kube::Client::try_from(config)
        .map_err(|e| CredentialError::invalid("--kubeconfig", e.to_string()))?;
    Ok(Connection {
        client,
        server,
        certificate_authority,
    })
}

/// A DER certificate as PEM text.
fn pem_certificate(der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|chunk| std::str::from_utf8(chunk).expect("base64 is ASCII"))
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_wraps_base64_at_64_columns() {
        let pem = pem_certificate(&[7u8; 100]);
        let lines: Vec<&str> = pem.lines().collect();
        assert_eq!(lines[0], "-----BEGIN CERTIFICATE-----");
        assert_eq!(lines[1].len(), 64);
        assert_eq!(lines.last(), Some(&"-----END CERTIFICATE-----"));
        let body: String = lines[1..lines.len() - 1].concat();
        assert_eq!(STANDARD.decode(body).unwrap(), vec![7u8; 100]);
    }
}
