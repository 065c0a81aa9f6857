//! `IdentityProvider`: the OpenID Connect issuer tenant members log in with, as the API server
//! and harmony's identity sync see it. Secrets (the admin's credentials) never live in this file:
//! they come from the environment or a 0600 file.

use std::path::{Path, PathBuf};

use harmony::{DocumentKind, Documents, Problem, Problems, identity_problems};
use harmony_tenant::{API_VERSION, ClusterFlavor, OidcFacts, is_dns_label};
use serde::Deserialize;

/// The `kind` of identity provider files.
pub const IDENTITY_PROVIDER_KIND: &str = "IdentityProvider";

/// An identity provider file: `kind: IdentityProvider`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IdentityProvider {
    api_version: String,
    kind: String,
    metadata: Metadata,
    /// What the provider is and how to reach it.
    pub spec: IdentityProviderSpec,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
struct Metadata {
    name: String,
}

/// The issuer, its CA, the client kubectl logs in with and the claims the API server maps.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IdentityProviderSpec {
    /// The issuer URL, exactly as the tokens' `iss` claim says it, such as
    /// `https://sso.example.com/realms/tenants`.
    pub issuer: String,
    /// A PEM bundle of the CAs that sign the issuer's (and the admin endpoint's) certificate;
    /// relative to this file's folder once loaded. The system's roots when absent.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// The public client kubectl logs in with; the API server's audience.
    #[serde(default = "default_client_id")]
    pub client_id: String,
    /// The claim that names the user, and the prefix the API server adds.
    #[serde(default = "default_username")]
    pub username: ClaimMapping,
    /// The claim that lists the user's groups, and the prefix the API server adds.
    #[serde(default = "default_groups")]
    pub groups: ClaimMapping,
    /// The Keycloak adapter: where its admin API is and which realm tenants live in.
    #[serde(default)]
    pub keycloak: Option<KeycloakSpec>,
}

/// A token claim and the prefix the API server puts before its value.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimMapping {
    /// The claim, such as `preferred_username` or `groups`.
    pub claim: String,
    /// The prefix, such as `oidc:`, so IdP names never collide with the cluster's own.
    pub prefix: String,
}

/// Keycloak's admin endpoint and the realm of the tenants.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeycloakSpec {
    /// The base URL of Keycloak, such as `https://sso.example.com` (the admin API is under
    /// `/admin/realms`).
    pub admin_url: String,
    /// The realm tenant members live in; the issuer is `.../realms/<realm>`.
    pub realm: String,
    /// Harmony creates the realm and owns it; otherwise the realm must exist and harmony only
    /// manages what it marked as its own inside it.
    #[serde(default)]
    pub own_realm: bool,
}

fn default_client_id() -> String {
    "kubectl".into()
}

fn default_username() -> ClaimMapping {
    ClaimMapping {
        claim: "preferred_username".into(),
        prefix: "oidc:".into(),
    }
}

fn default_groups() -> ClaimMapping {
    ClaimMapping {
        claim: "groups".into(),
        prefix: "oidc:".into(),
    }
}

impl IdentityProvider {
    /// The file's `metadata.name`.
    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    /// How the API server of a `flavor` cluster names this provider's users and groups, for the
    /// tenant compiler: Kubernetes' structured authentication adds the claim prefixes; OKD's
    /// OAuth server names users and groups by the claims alone.
    pub fn facts(&self, flavor: ClusterFlavor) -> OidcFacts {
        match flavor {
            ClusterFlavor::Kubernetes => OidcFacts {
                username_prefix: self.spec.username.prefix.clone(),
                groups_prefix: self.spec.groups.prefix.clone(),
            },
            ClusterFlavor::Okd => OidcFacts {
                username_prefix: String::new(),
                groups_prefix: String::new(),
            },
        }
    }
}

impl DocumentKind for IdentityProvider {
    const API_VERSION: &'static str = API_VERSION;
    const KIND: &'static str = IDENTITY_PROVIDER_KIND;
    type Context = ();

    fn problems(&self, _: &()) -> Vec<Problem> {
        let mut problems = identity_problems::<Self>(Some(&self.api_version), Some(&self.kind));
        if !is_dns_label(&self.metadata.name, 63) {
            problems.push(Problem::new(
                "metadata.name",
                format!(
                    "`{}` is not a DNS label: use lower-case letters, digits and `-`, such as `keycloak`",
                    self.metadata.name
                ),
            ));
        }
        let spec = &self.spec;
        if let Some(why) = url_problem(&spec.issuer, true) {
            problems.push(Problem::new("spec.issuer", why));
        }
        if spec
            .ca_file
            .as_ref()
            .is_some_and(|f| f.as_os_str().is_empty())
        {
            problems.push(Problem::new(
                "spec.caFile",
                "is empty: give the PEM file of the CA that signs the issuer's certificate, or leave `caFile` out to trust the system's roots",
            ));
        }
        if spec.client_id.is_empty() || spec.client_id.chars().any(char::is_whitespace) {
            problems.push(Problem::new(
                "spec.clientId",
                format!(
                    "`{}` is not a client id: give the public client kubectl logs in with, such as `kubectl`",
                    spec.client_id
                ),
            ));
        }
        claim_problems(&mut problems, "spec.username", &spec.username);
        claim_problems(&mut problems, "spec.groups", &spec.groups);
        if let Some(keycloak) = &spec.keycloak {
            keycloak_problems(&mut problems, keycloak, &spec.issuer);
        }
        problems
    }
}

/// Why `url` cannot be an issuer (`issuer`: https only, compared exactly with the tokens' `iss`)
/// or an admin endpoint; `None` when it can.
fn url_problem(url: &str, issuer: bool) -> Option<String> {
    let (scheme_ok, rest) = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
        (Some(rest), _) => (true, rest),
        (None, Some(rest)) => (!issuer, rest),
        (None, None) => (false, ""),
    };
    let example = if issuer {
        "https://sso.example.com/realms/tenants"
    } else {
        "https://sso.example.com"
    };
    let host = rest.split('/').next().unwrap_or_default();
    if !scheme_ok {
        let why = if issuer {
            "the API server accepts https issuers only"
        } else {
            "write http(s)://HOST[:PORT][/PATH]"
        };
        Some(format!(
            "`{url}` is not an https URL ({why}): write it like `{example}`"
        ))
    } else if host.is_empty() {
        Some(format!("`{url}` has no host: write it like `{example}`"))
    } else if url.contains(['?', '#', ' ']) {
        Some(format!(
            "`{url}` has a query, fragment or space: write the bare URL, like `{example}`"
        ))
    } else if issuer && url.ends_with('/') {
        Some(format!(
            "`{url}` ends with `/`: the API server compares the issuer exactly with the tokens' `iss`, which has none; write `{}`",
            url.trim_end_matches('/')
        ))
    } else {
        None
    }
}

/// Problems with a claim mapping at `path`.
fn claim_problems(problems: &mut Vec<Problem>, path: &str, mapping: &ClaimMapping) {
    if mapping.claim.is_empty() || mapping.claim.chars().any(char::is_whitespace) {
        problems.push(Problem::new(
            format!("{path}.claim"),
            format!(
                "`{}` is not a claim name: give the token claim, such as `preferred_username` or `groups`",
                mapping.claim
            ),
        ));
    }
    if mapping.prefix.starts_with("system:") {
        problems.push(Problem::new(
            format!("{path}.prefix"),
            format!(
                "`{}` would make identity provider names `system:` names, which belong to Kubernetes: use a prefix of its own, such as `oidc:`",
                mapping.prefix
            ),
        ));
    } else if mapping.prefix.is_empty() {
        problems.push(Problem::new(
            format!("{path}.prefix"),
            "is empty: without a prefix an identity provider name could equal a cluster user or group; use one, such as `oidc:`",
        ));
    }
}

/// Problems with the Keycloak adapter's settings.
fn keycloak_problems(problems: &mut Vec<Problem>, keycloak: &KeycloakSpec, issuer: &str) {
    if let Some(why) = url_problem(&keycloak.admin_url, false) {
        problems.push(Problem::new("spec.keycloak.adminUrl", why));
    }
    if keycloak.realm == "master" {
        problems.push(Problem::new(
            "spec.keycloak.realm",
            "`master` is Keycloak's administration realm: put tenant members in a realm of their own, such as `tenants`",
        ));
    } else if keycloak.realm.is_empty() || keycloak.realm.contains(['/', '?', '#', ' ']) {
        problems.push(Problem::new(
            "spec.keycloak.realm",
            format!(
                "`{}` is not a realm name: give the realm of the tenants, such as `tenants`",
                keycloak.realm
            ),
        ));
    } else if !issuer
        .trim_end_matches('/')
        .ends_with(&format!("/realms/{}", keycloak.realm))
    {
        problems.push(Problem::new(
            "spec.keycloak.realm",
            format!(
                "`{}` is not the issuer's realm: Keycloak issues tokens of realm R as `<url>/realms/R`, and the issuer is `{issuer}`; make them agree",
                keycloak.realm
            ),
        ));
    }
}

/// The one `IdentityProvider` of `documents`, valid, with its `caFile` resolved against the
/// folder of the file it was read from. Fails with every problem, located.
pub fn load_identity_provider(documents: &Documents) -> Result<IdentityProvider, Problems> {
    let (mut loaded, problems) = documents.parse_as::<IdentityProvider>(&());
    if !problems.is_empty() || loaded.len() != 1 {
        return Err(documents
            .load_one::<IdentityProvider>(&())
            .expect_err("load_one fails where parse_as found problems or not one document"));
    }
    let one = loaded.remove(0);
    let folder = Path::new(one.document().source())
        .parent()
        .unwrap_or(Path::new(""))
        .to_path_buf();
    let mut provider = one.value;
    if let Some(file) = &provider.spec.ca_file {
        provider.spec.ca_file = Some(folder.join(file));
    }
    Ok(provider)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "apiVersion: harmony.nationtech.io/v1alpha1
kind: IdentityProvider
metadata: {name: keycloak}
spec:
  issuer: https://sso.example.com/realms/tenants
  caFile: sso-ca.pem
  keycloak: {adminUrl: https://sso.example.com, realm: tenants, ownRealm: true}
";

    fn load(text: &str) -> Result<IdentityProvider, Vec<String>> {
        Documents::parse("idp/provider.yaml", text)
            .map_err(|p| p.0.iter().map(ToString::to_string).collect::<Vec<_>>())
            .and_then(|d| {
                load_identity_provider(&d)
                    .map_err(|p| p.0.iter().map(ToString::to_string).collect())
            })
    }

    #[test]
    fn loads_a_provider_with_defaults_and_resolves_the_ca_file_against_its_folder() {
        let provider = load(GOOD).unwrap();
        assert_eq!(provider.name(), "keycloak");
        let spec = &provider.spec;
        assert_eq!(spec.ca_file.as_deref(), Some(Path::new("idp/sso-ca.pem")));
        assert_eq!(spec.client_id, "kubectl");
        assert_eq!(spec.username, default_username());
        assert_eq!(
            (spec.groups.claim.as_str(), spec.groups.prefix.as_str()),
            ("groups", "oidc:")
        );
        let keycloak = spec.keycloak.as_ref().unwrap();
        assert_eq!(
            (
                keycloak.admin_url.as_str(),
                keycloak.realm.as_str(),
                keycloak.own_realm
            ),
            ("https://sso.example.com", "tenants", true)
        );
    }

    #[test]
    fn the_api_server_prefixes_on_kubernetes_and_none_on_okd() {
        let text = GOOD.replace(
            "caFile: sso-ca.pem",
            "caFile: sso-ca.pem\n  groups: {claim: groups, prefix: 'sso:'}",
        );
        let provider = load(&text).unwrap();
        let kubernetes = provider.facts(ClusterFlavor::Kubernetes);
        assert_eq!(kubernetes.user("alice"), "oidc:alice");
        assert_eq!(
            kubernetes.group("tenant-acme-admins"),
            "sso:tenant-acme-admins"
        );
        let okd = provider.facts(ClusterFlavor::Okd);
        assert_eq!(okd.user("alice"), "alice");
        assert_eq!(okd.group("tenant-acme-admins"), "tenant-acme-admins");
    }

    #[test]
    fn the_example_loads() {
        let example =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/identity/idp.yaml");
        let provider = load_identity_provider(&Documents::read(&[&example]).unwrap()).unwrap();
        assert_eq!(
            provider.spec.issuer,
            "https://sso.example.com/realms/tenants"
        );
        assert!(
            provider
                .spec
                .ca_file
                .unwrap()
                .ends_with("examples/identity/sso-ca.pem")
        );
    }

    #[test]
    fn an_absolute_ca_file_stays_as_written() {
        let text = GOOD.replace("caFile: sso-ca.pem", "caFile: /etc/sso/ca.pem");
        let provider = load(&text).unwrap();
        assert_eq!(
            provider.spec.ca_file.as_deref(),
            Some(Path::new("/etc/sso/ca.pem"))
        );
    }

    #[test]
    fn refuses_bad_urls_claims_prefixes_and_realms_naming_field_value_and_fix() {
        let text = "apiVersion: harmony.nationtech.io/v1alpha1
kind: IdentityProvider
metadata: {name: Key_Cloak}
spec:
  issuer: http://sso.example.com/realms/tenants/
  caFile: ''
  clientId: 'kube ctl'
  username: {claim: '', prefix: 'system:'}
  groups: {claim: groups, prefix: ''}
  keycloak: {adminUrl: 'sso.example.com', realm: master}
";
        assert_eq!(
            load(text).unwrap_err(),
            [
                "idp/provider.yaml:3:18: metadata.name: `Key_Cloak` is not a DNS label: use lower-case letters, digits and `-`, such as `keycloak`",
                "idp/provider.yaml:5:11: spec.issuer: `http://sso.example.com/realms/tenants/` is not an https URL (the API server accepts https issuers only): write it like `https://sso.example.com/realms/tenants`",
                "idp/provider.yaml:6:11: spec.caFile: is empty: give the PEM file of the CA that signs the issuer's certificate, or leave `caFile` out to trust the system's roots",
                "idp/provider.yaml:7:13: spec.clientId: `kube ctl` is not a client id: give the public client kubectl logs in with, such as `kubectl`",
                "idp/provider.yaml:8:21: spec.username.claim: `` is not a claim name: give the token claim, such as `preferred_username` or `groups`",
                "idp/provider.yaml:8:33: spec.username.prefix: `system:` would make identity provider names `system:` names, which belong to Kubernetes: use a prefix of its own, such as `oidc:`",
                "idp/provider.yaml:9:35: spec.groups.prefix: is empty: without a prefix an identity provider name could equal a cluster user or group; use one, such as `oidc:`",
                "idp/provider.yaml:10:24: spec.keycloak.adminUrl: `sso.example.com` is not an https URL (write http(s)://HOST[:PORT][/PATH]): write it like `https://sso.example.com`",
                "idp/provider.yaml:10:50: spec.keycloak.realm: `master` is Keycloak's administration realm: put tenant members in a realm of their own, such as `tenants`",
            ]
        );
    }

    #[test]
    fn refuses_an_issuer_with_a_trailing_slash_or_of_another_realm() {
        let text = GOOD.replace("/realms/tenants\n", "/realms/tenants/\n");
        assert_eq!(
            load(&text).unwrap_err(),
            [
                "idp/provider.yaml:5:11: spec.issuer: `https://sso.example.com/realms/tenants/` ends with `/`: the API server compares the issuer exactly with the tokens' `iss`, which has none; write `https://sso.example.com/realms/tenants`"
            ]
        );
        let text = GOOD.replace("realm: tenants", "realm: people");
        assert_eq!(
            load(&text).unwrap_err(),
            [
                "idp/provider.yaml:7:56: spec.keycloak.realm: `people` is not the issuer's realm: Keycloak issues tokens of realm R as `<url>/realms/R`, and the issuer is `https://sso.example.com/realms/tenants`; make them agree"
            ]
        );
    }

    #[test]
    fn refuses_a_secret_in_the_file() {
        let text = GOOD.replace("ownRealm: true}", "ownRealm: true, adminPassword: hunter2}");
        let problems = load(&text).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:#?}");
        assert!(
            problems[0].starts_with(
                "idp/provider.yaml:7:81: spec.keycloak.adminPassword: unknown field `adminPassword`"
            ),
            "{problems:#?}"
        );
    }

    #[test]
    fn refuses_two_providers_in_one_file_and_another_kind() {
        let two = format!("{GOOD}---\n{GOOD}");
        assert_eq!(
            load(&two).unwrap_err(),
            [
                "idp/provider.yaml: holds 2 documents: a IdentityProvider file holds exactly one `kind: IdentityProvider`"
            ]
        );
        let tenant =
            "apiVersion: harmony.nationtech.io/v1alpha1\nkind: Tenant\nmetadata: {name: acme}\n";
        assert_eq!(
            load(tenant).unwrap_err(),
            [
                "idp/provider.yaml:2:7: kind: `Tenant` is not an IdentityProvider file: expected `kind: IdentityProvider`"
            ]
        );
    }
}
