//! OKD: the built-in OAuth server's OpenID identity provider.
//!
//! - `openshift-config/<name>-ca` ConfigMap: the issuer's CA bundle under `ca.crt`;
//! - `config.openshift.io/v1` `OAuth` `cluster`: one `OpenID` identity provider, `mappingMethod:
//!   claim`, the confidential client OKD's OAuth server logs in with, its secret by reference
//!   only (`openshift-config/<secret>`, key `clientSecret`, made by the operator), the claims
//!   for the user name, display name, email and groups.
//!
//! OKD makes `Group` objects from the groups claim at each login, named as the IdP names them
//! (no prefix), so tenant RoleBindings on OKD bind the unprefixed group names.

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

use harmony_identity::IdentityProvider;
use harmony_tenant::{MANAGED_BY_LABEL, MANAGED_BY_VALUE};

use super::{IdentityDocument, IdentityPlan};

/// Where OKD keeps the objects the OAuth configuration references.
pub const OPENSHIFT_CONFIG: &str = "openshift-config";
/// The key of the CA bundle in its ConfigMap.
pub const CA_KEY: &str = "ca.crt";
/// The key of the client secret in its Secret.
pub const CLIENT_SECRET_KEY: &str = "clientSecret";

/// OKD's OAuth server's own client at the identity provider: a confidential client whose
/// redirect URI is `https://oauth-openshift.apps.<cluster domain>/oauth2callback/<name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OkdClient {
    /// Its client id.
    pub client_id: String,
    /// The Secret in `openshift-config` holding its secret under `clientSecret`; `None`: named
    /// `<identity provider>-client-secret`.
    pub secret_name: Option<String>,
}

impl Default for OkdClient {
    fn default() -> Self {
        Self {
            client_id: "okd".into(),
            secret_name: None,
        }
    }
}

/// `config.openshift.io/v1` `OAuth` (the fields Harmony sets).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuth {
    /// `config.openshift.io/v1`.
    pub api_version: &'static str,
    /// `OAuth`.
    pub kind: &'static str,
    /// `cluster`, the one OKD reads.
    pub metadata: ObjectMeta,
    /// The identity providers.
    pub spec: OAuthSpec,
}

/// `OAuth` `spec`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuthSpec {
    /// The providers people log in with.
    pub identity_providers: Vec<OAuthIdentityProvider>,
}

/// One `spec.identityProviders[]` entry of type `OpenID`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuthIdentityProvider {
    /// Shown on the login page, and the callback path's last segment.
    pub name: String,
    /// `claim`: the user is named by the claim; a name taken by another provider is refused.
    pub mapping_method: &'static str,
    /// `OpenID`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The OpenID settings.
    #[serde(rename = "openID")]
    pub open_id: OpenId,
}

/// `identityProviders[].openID`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenId {
    /// The OAuth server's client id.
    #[serde(rename = "clientID")]
    pub client_id: String,
    /// The Secret holding its secret (`clientSecret` key), by name.
    pub client_secret: NameRef,
    /// The ConfigMap holding the issuer's CA bundle (`ca.crt` key), by name; the system roots
    /// without it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca: Option<NameRef>,
    /// The issuer URL.
    pub issuer: String,
    /// Scopes asked for beyond `openid`.
    pub extra_scopes: Vec<&'static str>,
    /// Which claims name the user.
    pub claims: OpenIdClaims,
}

/// A reference to an object in `openshift-config`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NameRef {
    /// Its name.
    pub name: String,
}

/// `openID.claims`: each a list of claims, the first present wins.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenIdClaims {
    /// The user name.
    pub preferred_username: Vec<String>,
    /// The display name.
    pub name: Vec<&'static str>,
    /// The email address.
    pub email: Vec<&'static str>,
    /// The groups, made into OKD `Group`s at login.
    pub groups: Vec<String>,
}

/// The CA ConfigMap (when `ca_pem` is given) and the OAuth `cluster` for `provider`.
pub(super) fn okd_plan(
    provider: &IdentityProvider,
    ca_pem: Option<&str>,
    client: &OkdClient,
) -> IdentityPlan {
    let name = provider.name();
    let spec = &provider.spec;
    let ca_name = format!("{name}-ca");
    let secret_name = client
        .secret_name
        .clone()
        .unwrap_or_else(|| format!("{name}-client-secret"));
    let ca = ca_pem.map(|pem| ConfigMap {
        metadata: ObjectMeta {
            name: Some(ca_name.clone()),
            namespace: Some(OPENSHIFT_CONFIG.into()),
            labels: Some([(MANAGED_BY_LABEL.into(), MANAGED_BY_VALUE.into())].into()),
            ..ObjectMeta::default()
        },
        data: Some([(CA_KEY.into(), pem.to_string())].into()),
        ..ConfigMap::default()
    });
    let oauth = OAuth {
        api_version: "config.openshift.io/v1",
        kind: "OAuth",
        metadata: ObjectMeta {
            name: Some("cluster".into()),
            ..ObjectMeta::default()
        },
        spec: OAuthSpec {
            identity_providers: vec![OAuthIdentityProvider {
                name: name.to_string(),
                mapping_method: "claim",
                kind: "OpenID",
                open_id: OpenId {
                    client_id: client.client_id.clone(),
                    client_secret: NameRef {
                        name: secret_name.clone(),
                    },
                    ca: ca.as_ref().map(|_| NameRef { name: ca_name }),
                    issuer: spec.issuer.clone(),
                    extra_scopes: vec!["email", "profile"],
                    claims: OpenIdClaims {
                        preferred_username: vec![spec.username.claim.clone()],
                        name: vec!["name"],
                        email: vec!["email"],
                        groups: vec![spec.groups.claim.clone()],
                    },
                },
            }],
        },
    };
    IdentityPlan {
        documents: ca
            .map(|ca| IdentityDocument::ConfigMap(Box::new(ca)))
            .into_iter()
            .chain([IdentityDocument::OAuth(Box::new(oauth))])
            .collect(),
        notes: vec![
            format!(
                "create the client secret first (never rendered): oc create secret generic \
                 {secret_name} -n {OPENSHIFT_CONFIG} --from-file={CLIENT_SECRET_KEY}=FILE"
            ),
            format!(
                "the identity provider needs a confidential client `{}` with the redirect URI \
                 https://oauth-openshift.apps.<cluster domain>/oauth2callback/{}",
                client.client_id, name
            ),
            "spec.identityProviders is replaced as a whole: list any other provider of the \
             cluster in the OAuth object before applying it with oc apply --server-side"
                .into(),
            format!(
                "OKD names groups as the identity provider does (no `{}` prefix): tenant \
                 RoleBindings on OKD bind the unprefixed group names",
                spec.groups.prefix
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{CA, cluster_identity, example};
    use harmony_tenant::ClusterFlavor;

    #[test]
    fn renders_the_ca_config_map_then_the_oauth_provider() {
        let client = OkdClient {
            client_id: "openshift".into(),
            secret_name: Some("sso-secret".into()),
        };
        let plan = cluster_identity(&example(), Some(CA), ClusterFlavor::Okd, &client);
        let [ca, oauth] = [0, 1].map(|i| serde_json::to_value(&plan.documents[i]).unwrap());
        assert_eq!(ca["metadata"]["namespace"], "openshift-config");
        assert_eq!(ca["metadata"]["name"], "keycloak-ca");
        assert_eq!(ca["metadata"]["labels"][MANAGED_BY_LABEL], MANAGED_BY_VALUE);
        assert_eq!(ca["data"]["ca.crt"], CA);
        assert_eq!(
            oauth,
            serde_json::json!({
                "apiVersion": "config.openshift.io/v1",
                "kind": "OAuth",
                "metadata": {"name": "cluster"},
                "spec": {"identityProviders": [{
                    "name": "keycloak",
                    "mappingMethod": "claim",
                    "type": "OpenID",
                    "openID": {
                        "clientID": "openshift",
                        "clientSecret": {"name": "sso-secret"},
                        "ca": {"name": "keycloak-ca"},
                        "issuer": "https://sso.example.com/realms/tenants",
                        "extraScopes": ["email", "profile"],
                        "claims": {
                            "preferredUsername": ["preferred_username"],
                            "name": ["name"],
                            "email": ["email"],
                            "groups": ["groups"],
                        },
                    },
                }]},
            })
        );
        assert!(plan.notes[0].contains("oc create secret generic sso-secret -n openshift-config"));
    }

    #[test]
    fn the_secret_is_named_after_the_provider_by_default() {
        let plan = cluster_identity(&example(), None, ClusterFlavor::Okd, &OkdClient::default());
        assert_eq!(plan.documents.len(), 1, "no CA ConfigMap without a CA file");
        let oauth = serde_json::to_value(&plan.documents[0]).unwrap();
        let open_id = &oauth["spec"]["identityProviders"][0]["openID"];
        assert_eq!(
            open_id["clientSecret"],
            serde_json::json!({"name": "keycloak-client-secret"})
        );
        assert_eq!(open_id["clientID"], "okd");
        assert!(open_id.get("ca").is_none());
    }
}
