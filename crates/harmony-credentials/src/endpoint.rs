//! The API endpoint written into member kubeconfigs: the address reachable over the VPN, and the
//! cluster CA that proves it.

use harmony_tenant::vpn::Gateway;
use ipnet::IpNet;

use crate::CredentialError;

/// The port the Kubernetes API listens on behind the VPN.
const API_PORT: u16 = 6443;

/// Where members reach the API server, and how they trust it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    server: String,
    certificate_authority: Option<String>,
}

impl Endpoint {
    /// `server` (`https://host:port`, or `http://` for a test server) with the cluster CA (PEM).
    ///
    /// An `https://` server needs the CA: without it the member's client could not trust the API
    /// server's certificate. An `http://` server has no TLS, so no CA is written.
    pub fn new(
        server: &str,
        certificate_authority: Option<String>,
    ) -> Result<Self, CredentialError> {
        let uri: http::Uri = server.parse().map_err(|e| {
            CredentialError::invalid(
                "--server",
                format!("`{server}` is not a URL ({e}): write it like `https://192.0.2.10:6443`"),
            )
        })?;
        let scheme = uri.scheme_str().unwrap_or_default();
        if uri.host().is_none() || !matches!(scheme, "https" | "http") {
            return Err(CredentialError::invalid(
                "--server",
                format!(
                    "`{server}` is not an http(s) URL: write it like `https://192.0.2.10:6443`"
                ),
            ));
        }
        let certificate_authority = match (scheme, certificate_authority) {
            ("http", _) => None,
            (_, Some(pem)) if pem.contains("-----BEGIN CERTIFICATE-----") => Some(pem),
            (_, Some(_)) => {
                return Err(CredentialError::invalid(
                    "--certificate-authority",
                    "holds no PEM certificate (`-----BEGIN CERTIFICATE-----`): give the cluster CA bundle",
                ));
            }
            (_, None) => {
                return Err(CredentialError::invalid(
                    "--certificate-authority",
                    format!(
                        "no cluster CA for {server}: your kubeconfig's cluster entry has no \
                         certificate-authority(-data); pass --certificate-authority FILE (the CA \
                         bundle of the API server) so the member's kubeconfig can trust it"
                    ),
                ));
            }
        };
        Ok(Self {
            server: server.trim_end_matches('/').to_string(),
            certificate_authority,
        })
    }

    /// The API server URL.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The cluster CA (PEM), `None` for a plain-HTTP server.
    pub fn certificate_authority(&self) -> Option<&str> {
        self.certificate_authority.as_deref()
    }
}

/// The API server URL behind a VPN gateway: its first reachable single address that opens port
/// 6443, as `https://ADDRESS:6443`.
pub fn api_server_from_gateway(gateway: &Gateway) -> Result<String, CredentialError> {
    gateway
        .reachable
        .iter()
        .find(|r| r.net.prefix_len() == r.net.max_prefix_len() && r.ports.contains(&API_PORT))
        .map(|r| match r.net {
            IpNet::V4(net) => format!("https://{}:{API_PORT}", net.addr()),
            IpNet::V6(net) => format!("https://[{}]:{API_PORT}", net.addr()),
        })
        .ok_or_else(|| {
            CredentialError::invalid(
                "spec.reachable",
                format!(
                    "VPN gateway `{}` lists no single address with port {API_PORT} (the API \
                     server VIP): add it to spec.reachable, or pass --server",
                    gateway.name
                ),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CA: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

    fn gateway(reachable: &str) -> Gateway {
        let yaml = format!(
            "apiVersion: harmony.nationtech.io/v1alpha1\nkind: VpnGateway\nmetadata: {{name: prod}}\n\
             spec:\n  endpoint: vpn.example.com:51820\n  addressPool: {{ipv4: 10.99.0.0/24}}\n  reachable:\n{reachable}"
        );
        harmony_tenant::vpn::VpnGatewayConfig::parse("gw.yaml", &yaml).unwrap()
    }

    #[test]
    fn gateway_gives_the_api_vip() {
        let g = gateway("    - {address: 192.0.2.20, ports: [443]}\n    - {address: 192.0.2.10}\n");
        assert_eq!(
            api_server_from_gateway(&g).unwrap(),
            "https://192.0.2.10:6443"
        );
        let g = gateway("    - {address: 2001:db8::10, ports: [6443]}\n");
        assert_eq!(
            api_server_from_gateway(&g).unwrap(),
            "https://[2001:db8::10]:6443"
        );
    }

    #[test]
    fn gateway_without_api_port_is_refused() {
        let g =
            gateway("    - {address: 192.0.2.20, ports: [443]}\n    - {address: 192.0.2.8/29}\n");
        let e = api_server_from_gateway(&g).unwrap_err().to_string();
        assert!(e.starts_with("spec.reachable: VPN gateway `prod`"), "{e}");
        assert!(e.contains("--server"), "{e}");
    }

    #[test]
    fn https_needs_a_ca_and_http_drops_it() {
        let e = Endpoint::new("https://192.0.2.10:6443", None)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("--certificate-authority: no cluster CA"),
            "{e}"
        );
        let e = Endpoint::new("https://x:6443", Some("junk".into()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("no PEM certificate"), "{e}");
        let ok = Endpoint::new("https://192.0.2.10:6443/", Some(CA.into())).unwrap();
        assert_eq!(ok.server(), "https://192.0.2.10:6443");
        assert_eq!(ok.certificate_authority(), Some(CA));
        let plain = Endpoint::new("http://127.0.0.1:8080", Some(CA.into())).unwrap();
        assert_eq!(plain.certificate_authority(), None);
        let e = Endpoint::new("ftp://x", None).unwrap_err().to_string();
        assert!(
            e.starts_with("--server: `ftp://x` is not an http(s) URL"),
            "{e}"
        );
    }
}
