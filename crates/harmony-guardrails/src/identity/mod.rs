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

use harmony_identity::IdentityProvider;
use harmony_tenant::ClusterFlavor;
use serde::Serialize;

pub use kubernetes::AuthenticationConfiguration;
pub use okd::{OAuth, OkdClient};

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

/// The cluster's trust of `provider` on a cluster of `flavor`. `ca_pem` is the content of its
/// `caFile` (`None`: the issuer's certificate is signed by a system root); `okd` names OKD's
/// confidential client, which Kubernetes does not read.
pub fn cluster_identity(
    provider: &IdentityProvider,
    ca_pem: Option<&str>,
    flavor: ClusterFlavor,
    okd: &OkdClient,
) -> IdentityPlan {
    match flavor {
        ClusterFlavor::Kubernetes => IdentityPlan {
            documents: vec![IdentityDocument::Authentication(Box::new(
                kubernetes::authentication_configuration(provider, ca_pem),
            ))],
            notes: vec![
                "give the file to kube-apiserver with --authentication-config FILE (without any \
                 --oidc-* flag); it re-reads the file when it changes"
                    .into(),
            ],
        },
        ClusterFlavor::Okd => okd::okd_plan(provider, ca_pem, okd),
    }
}

/// A test CA bundle.
#[cfg(test)]
pub(crate) const CA: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

/// The identity provider of the tests.
#[cfg(test)]
pub(crate) fn example() -> IdentityProvider {
    let text = "apiVersion: harmony.nationtech.io/v1alpha1\nkind: IdentityProvider\n\
                metadata: {name: keycloak}\nspec:\n  issuer: https://sso.example.com/realms/tenants\n";
    let documents = harmony::Documents::parse("idp.yaml", text).unwrap();
    harmony_identity::load_identity_provider(&documents).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(flavor: ClusterFlavor) -> String {
        let plan = cluster_identity(&example(), Some(CA), flavor, &OkdClient::default());
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
