//! Member kubeconfigs: one cluster, one user and one context named `<tenant>-<member>`, with the
//! tenant namespace as default. The text holds a secret; `Debug` never shows it.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;

use crate::oidc::LoginCommand;
use crate::{CredentialError, CredentialRequest, Endpoint};

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
        Self::render_user(
            &request.context_name(),
            &request.namespace,
            &request.endpoint,
            user,
        )
    }

    /// The kubeconfig of an identity provider member: context `name`, default namespace
    /// `namespace`, and a user that runs `login` (`harmony auth oidc-token`) as a client-go exec
    /// credential plugin. It holds no secret.
    pub fn for_login(
        name: &str,
        namespace: &str,
        endpoint: &Endpoint,
        login: &LoginCommand,
    ) -> Result<Self, CredentialError> {
        let user = User {
            exec: Some(Exec {
                api_version: "client.authentication.k8s.io/v1",
                command: &login.command,
                args: login.args(),
                interactive_mode: "IfAvailable",
                provide_cluster_info: false,
            }),
            ..User::default()
        };
        Self::render_user(name, namespace, endpoint, user)
    }

    fn render_user(
        name: &str,
        namespace: &str,
        endpoint: &Endpoint,
        user: User<'_>,
    ) -> Result<Self, CredentialError> {
        let config = File {
            api_version: "v1",
            kind: "Config",
            clusters: vec![Named {
                name,
                cluster: Cluster {
                    server: endpoint.server(),
                    certificate_authority_data: endpoint
                        .certificate_authority()
                        .map(|pem| STANDARD.encode(pem)),
                },
            }],
            users: vec![NamedUser { name, user }],
            contexts: vec![NamedContext {
                name,
                context: Context {
                    cluster: name,
                    user: name,
                    namespace,
                },
            }],
            current_context: name,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    exec: Option<Exec<'a>>,
}

/// A client-go exec credential plugin.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Exec<'a> {
    api_version: &'a str,
    command: &'a str,
    args: Vec<String>,
    interactive_mode: &'a str,
    provide_cluster_info: bool,
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
    fn an_identity_provider_member_runs_the_login_plugin() {
        let ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        let endpoint = Endpoint::new("https://192.0.2.10:6443", Some(ca.into())).unwrap();
        let login = LoginCommand {
            command: "harmony".into(),
            issuer: "https://sso.example.com/realms/tenants".into(),
            client_id: "kubectl".into(),
            certificate_authority: Some("IdP CA".into()),
            grant: crate::oidc::Grant::DeviceCode,
        };
        let config = Kubeconfig::for_login("acme-alice", "acme", &endpoint, &login).unwrap();
        let parsed = kube::config::Kubeconfig::from_yaml(config.expose()).unwrap();
        assert_eq!(parsed.current_context.as_deref(), Some("acme-alice"));
        let user = parsed.auth_infos[0].auth_info.as_ref().unwrap();
        assert!(user.token.is_none() && user.client_key_data.is_none());
        let exec = user.exec.as_ref().unwrap();
        assert_eq!(
            exec.api_version.as_deref(),
            Some("client.authentication.k8s.io/v1")
        );
        assert_eq!(exec.command.as_deref(), Some("harmony"));
        assert_eq!(
            exec.args.as_deref().unwrap(),
            [
                "auth",
                "oidc-token",
                "--issuer-url=https://sso.example.com/realms/tenants",
                "--client-id=kubectl",
                "--grant=device-code",
                &format!("--certificate-authority-data={}", STANDARD.encode("IdP CA")),
            ]
        );
        assert_eq!(
            exec.interactive_mode,
            Some(kube::config::ExecInteractiveMode::IfAvailable)
        );
        assert!(!exec.provide_cluster_info);
    }

    #[test]
    fn plain_http_has_no_ca() {
        let config =
            Kubeconfig::render(&request("http://127.0.0.1:1", None), UserAuth::Token("t")).unwrap();
        assert!(!config.expose().contains("certificate-authority"));
        assert!(config.expose().contains("token: t"));
    }
}
