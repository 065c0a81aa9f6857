//! Member kubeconfigs: one cluster, one user and one context named `<tenant>-<member>`, with the
//! tenant namespace as default. The text holds a secret; `Debug` never shows it.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;

use crate::{CredentialError, CredentialRequest};

/// How the member authenticates.
pub(crate) enum UserAuth<'a> {
    /// A bearer token.
    Token(&'a str),
    /// A client certificate and its private key, both PEM.
    Certificate {
        /// The signed certificate.
        certificate: &'a str,
        /// The private key.
        key: &'a str,
    },
}

/// A member's kubeconfig: YAML text holding a token or a private key.
pub struct Kubeconfig(String);

impl Kubeconfig {
    /// Renders the kubeconfig of `request` authenticating with `auth`.
    pub(crate) fn render(
        request: &CredentialRequest,
        auth: UserAuth<'_>,
    ) -> Result<Self, CredentialError> {
        let name = request.context_name();
        let user = match auth {
            UserAuth::Token(token) => User {
                token: Some(token),
                ..User::default()
            },
            UserAuth::Certificate { certificate, key } => User {
                client_certificate_data: Some(STANDARD.encode(certificate)),
                client_key_data: Some(STANDARD.encode(key)),
                ..User::default()
            },
        };
        let config = File {
            api_version: "v1",
            kind: "Config",
            clusters: vec![Named {
                name: &name,
                cluster: Cluster {
                    server: request.endpoint.server(),
                    certificate_authority_data: request
                        .endpoint
                        .certificate_authority()
                        .map(|pem| STANDARD.encode(pem)),
                },
            }],
            users: vec![NamedUser { name: &name, user }],
            contexts: vec![NamedContext {
                name: &name,
                context: Context {
                    cluster: &name,
                    user: &name,
                    namespace: &request.namespace,
                },
            }],
            current_context: &name,
        };
        serde_saphyr::to_string(&config)
            .map(Self)
            .map_err(|e| CredentialError::Cluster(format!("rendering the kubeconfig failed: {e}")))
    }

    /// The YAML text. It holds a secret: write it only to a 0600 file or to the member.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Kubeconfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Kubeconfig(<redacted>)")
    }
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct File<'a> {
    #[serde(rename = "apiVersion")]
    api_version: &'a str,
    kind: &'a str,
    clusters: Vec<Named<'a>>,
    users: Vec<NamedUser<'a>>,
    contexts: Vec<NamedContext<'a>>,
    current_context: &'a str,
}

#[derive(Serialize)]
struct Named<'a> {
    name: &'a str,
    cluster: Cluster<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Cluster<'a> {
    server: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    certificate_authority_data: Option<String>,
}

#[derive(Serialize)]
struct NamedUser<'a> {
    name: &'a str,
    user: User<'a>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "kebab-case")]
struct User<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_certificate_data: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_key_data: Option<String>,
}

#[derive(Serialize)]
struct NamedContext<'a> {
    name: &'a str,
    context: Context<'a>,
}

#[derive(Serialize)]
struct Context<'a> {
    cluster: &'a str,
    user: &'a str,
    namespace: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DEFAULT_TTL, Endpoint, Holder};

    fn request(server: &str, ca: Option<&str>) -> CredentialRequest {
        CredentialRequest {
            tenant: "acme".into(),
            namespace: "acme-prod".into(),
            member: "alice".into(),
            holder: Holder::User("alice@example.com".into()),
            ttl: DEFAULT_TTL,
            endpoint: Endpoint::new(server, ca.map(String::from)).unwrap(),
            audiences: vec![],
        }
    }

    #[test]
    fn parses_with_kube_and_names_the_context() {
        let ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        let auth = UserAuth::Certificate {
            certificate: "CERT",
            key: "KEY",
        };
        let config =
            Kubeconfig::render(&request("https://192.0.2.10:6443", Some(ca)), auth).unwrap();
        let parsed = kube::config::Kubeconfig::from_yaml(config.expose()).unwrap();
        assert_eq!(parsed.current_context.as_deref(), Some("acme-alice"));
        let context = parsed.contexts[0].context.as_ref().unwrap();
        assert_eq!(context.namespace.as_deref(), Some("acme-prod"));
        let cluster = parsed.clusters[0].cluster.as_ref().unwrap();
        assert_eq!(cluster.server.as_deref(), Some("https://192.0.2.10:6443"));
        let ca_data = cluster.certificate_authority_data.as_deref().unwrap();
        assert_eq!(STANDARD.decode(ca_data).unwrap(), ca.as_bytes());
        let user = parsed.auth_infos[0].auth_info.as_ref().unwrap();
        assert_eq!(user.client_certificate_data.as_deref(), Some("Q0VSVA=="));
        assert!(user.token.is_none());
        assert_eq!(format!("{config:?}"), "Kubeconfig(<redacted>)");
    }

    #[test]
    fn plain_http_has_no_ca() {
        let config =
            Kubeconfig::render(&request("http://127.0.0.1:1", None), UserAuth::Token("t")).unwrap();
        assert!(!config.expose().contains("certificate-authority"));
        assert!(config.expose().contains("token: t"));
    }
}
