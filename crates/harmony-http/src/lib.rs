//! The HTTP agent of harmony's HTTP adapters (Prometheus for showback, Keycloak's admin API, an
//! OIDC issuer): [`ureq`] over rustls, trusting a given CA bundle instead of the built-in roots,
//! answering every status (callers judge them), and [`transport`] saying why a request never got
//! an answer.

use std::sync::Arc;
use std::time::Duration;

use ureq::Agent;
use ureq::tls::{PemItem, RootCerts, TlsConfig};

/// A CA bundle without a single PEM certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoCertificate;

/// TLS trusting the PEM certificates of `ca_pem`, or the built-in roots without it.
pub fn tls(ca_pem: Option<&[u8]>) -> Result<TlsConfig, NoCertificate> {
    let mut tls = TlsConfig::builder();
    if let Some(pem) = ca_pem {
        let certs: Vec<_> = ureq::tls::parse_pem(pem)
            .filter_map(|item| match item {
                Ok(PemItem::Certificate(cert)) => Some(cert),
                _ => None,
            })
            .collect();
        if certs.is_empty() {
            return Err(NoCertificate);
        }
        tls = tls.root_certs(RootCerts::Specific(Arc::new(certs)));
    }
    Ok(tls.build())
}

/// An agent trusting `ca_pem` (see [`tls`]) whose requests end within `timeout`, and that
/// returns every HTTP status as an answer rather than an error.
pub fn agent(ca_pem: Option<&[u8]>, timeout: Duration) -> Result<Agent, NoCertificate> {
    Ok(Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .tls_config(tls(ca_pem)?)
        .build()
        .new_agent())
}

/// Why a request got no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// The server's certificate is not signed by a trusted CA.
    Untrusted,
    /// The server's certificate is refused for another reason (expired, wrong name, ...).
    BadCertificate(String),
    /// The server could not be reached (refused, timed out, DNS, ...).
    Unreachable(String),
}

/// Why `error` (of a request) got no answer.
pub fn transport(error: &ureq::Error) -> Transport {
    use rustls::{CertificateError, Error as Tls};
    let tls = match error {
        ureq::Error::Rustls(e) => Some(e),
        ureq::Error::Io(e) => e.get_ref().and_then(|e| e.downcast_ref::<Tls>()),
        _ => None,
    };
    match tls {
        Some(Tls::InvalidCertificate(
            CertificateError::UnknownIssuer | CertificateError::BadSignature,
        )) => Transport::Untrusted,
        Some(Tls::InvalidCertificate(reason)) => Transport::BadCertificate(reason.to_string()),
        _ => Transport::Unreachable(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_without_certificates_is_refused() {
        assert_eq!(tls(Some(b"not a pem")).err(), Some(NoCertificate));
        assert!(tls(None).is_ok());
    }

    #[test]
    fn a_refused_connection_is_unreachable() {
        let agent = agent(None, Duration::from_secs(5)).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let error = agent
            .get(&format!("http://127.0.0.1:{port}/"))
            .call()
            .unwrap_err();
        assert!(
            matches!(transport(&error), Transport::Unreachable(reason) if !reason.is_empty()),
            "{error}"
        );
    }
}
