//! The cluster side of OIDC single sign-on (`harmony cluster identity render`): how the API
//! server learns to trust the identity provider's tokens.
//!
//! - Kubernetes ([`kubernetes`]): a structured `AuthenticationConfiguration`
//!   (`apiserver.config.k8s.io/v1`) for `kube-apiserver --authentication-config`: the issuer
//!   and its CA (PEM inline), the kubectl client as audience, the username and groups claims
//!   with the prefixes tenant RoleBindings use, and rules refusing `system:` names.
//! - OKD ([`okd`]): the OAuth server's `OAuth` `cluster` with an OpenID identity provider, the
//!   CA ConfigMap it references in `openshift-config`, and a reference to the client secret,
//!   whose value is never rendered.

pub mod kubernetes;
pub mod okd;

use harmony_tenant::ClusterFlavor;
use serde::Serialize;

pub use kubernetes::AuthenticationConfiguration;
pub use okd::{OAuth, OkdClient};

/// What the API server needs to know of an OIDC issuer (the identity provider file's issuer
/// part, with its CA bundle read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcIssuer {
    /// The identity provider's name (`metadata.name`), which names OKD's provider and objects.
    pub name: String,
    /// The issuer URL, equal to the tokens' `iss`.
    pub url: String,
    /// The PEM bundle that signed the issuer's serving certificate.
    pub certificate_authority: String,
    /// The kubectl client id: the ID tokens' audience.
    pub client_id: String,
    /// The claim holding the user name, and the prefix the API server adds to it.
    pub username: ClaimMapping,
    /// The claim holding the groups, and the prefix the API server adds to each.
    pub groups: ClaimMapping,
}

/// A token claim and the prefix added to its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClaimMapping {
    /// The claim name, such as `preferred_username`.
    pub claim: String,
    /// The prefix, such as `oidc:`.
    pub prefix: String,
}

/// What `harmony cluster identity render` renders, with notes for people.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentityPlan {
    /// The documents, in apply order.
    pub documents: Vec<IdentityDocument>,
    /// What the operator still has to do, for people (standard error).
    pub notes: Vec<String>,
}

/// One rendered document.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum IdentityDocument {
    /// Kubernetes: the file for `--authentication-config`.
    Authentication(Box<AuthenticationConfiguration>),
    /// OKD: the issuer's CA bundle in `openshift-config`.
    ConfigMap(Box<k8s_openapi::api::core::v1::ConfigMap>),
    /// OKD: the OAuth server's configuration.
    OAuth(Box<OAuth>),
}

/// The cluster's trust of `issuer` on a cluster of `flavor` (`okd` names OKD's confidential
/// client; Kubernetes does not read it).
pub fn cluster_identity(
    issuer: &OidcIssuer,
    flavor: ClusterFlavor,
    okd: &OkdClient,
) -> IdentityPlan {
    match flavor {
        ClusterFlavor::Kubernetes => IdentityPlan {
            documents: vec![IdentityDocument::Authentication(Box::new(
                kubernetes::authentication_configuration(issuer),
            ))],
            notes: vec![
                "give the file to kube-apiserver with --authentication-config FILE (without any \
                 --oidc-* flag); it re-reads the file when it changes"
                    .into(),
            ],
        },
        ClusterFlavor::Okd => okd::okd_plan(issuer, okd),
    }
}

#[cfg(test)]
pub(crate) fn example() -> OidcIssuer {
    OidcIssuer {
        name: "keycloak".into(),
        url: "https://sso.example.com/realms/tenants".into(),
        certificate_authority: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
            .into(),
        client_id: "kubectl".into(),
        username: ClaimMapping {
            claim: "preferred_username".into(),
            prefix: "oidc:".into(),
        },
        groups: ClaimMapping {
            claim: "groups".into(),
            prefix: "oidc:".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(flavor: ClusterFlavor) -> String {
        let plan = cluster_identity(&example(), flavor, &OkdClient::default());
        plan.documents
            .iter()
            .map(|d| serde_saphyr::to_string(d).unwrap())
            .collect()
    }

    #[test]
    fn the_same_input_gives_the_same_bytes() {
        for flavor in [ClusterFlavor::Kubernetes, ClusterFlavor::Okd] {
            assert_eq!(render(flavor), render(flavor));
        }
    }

    #[test]
    fn no_flavor_renders_a_secret_value() {
        for flavor in [ClusterFlavor::Kubernetes, ClusterFlavor::Okd] {
            let text = render(flavor);
            assert!(!text.contains("kind: Secret"), "{text}");
        }
    }
}
