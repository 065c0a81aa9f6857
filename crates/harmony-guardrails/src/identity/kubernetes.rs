//! Kubernetes: the structured `AuthenticationConfiguration` (`apiserver.config.k8s.io/v1`,
//! stable since 1.34) for `kube-apiserver --authentication-config`.
//!
//! One JWT authenticator: the issuer URL (equal to the tokens' `iss`) and its CA PEM inline,
//! the kubectl client id as the only audience (ID tokens carry it as `aud`), the username and
//! groups claims mapped with the prefixes tenant RoleBindings use, a claim validation rule
//! refusing a `system:` user name in the token and user validation rules refusing a `system:`
//! user or group after mapping (with an empty prefix, a token could otherwise claim a
//! platform identity).

use harmony_identity::{ClaimMapping, IdentityProvider};
use serde::Serialize;

/// `apiserver.config.k8s.io/v1` `AuthenticationConfiguration` (the fields Harmony sets).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationConfiguration {
    /// `apiserver.config.k8s.io/v1`.
    pub api_version: &'static str,
    /// `AuthenticationConfiguration`.
    pub kind: &'static str,
    /// The JWT authenticators, one per issuer.
    pub jwt: Vec<JwtAuthenticator>,
}

/// One issuer the API server trusts.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JwtAuthenticator {
    /// Where tokens come from.
    pub issuer: Issuer,
    /// Rules on the token's claims, before mapping.
    pub claim_validation_rules: Vec<ValidationRule>,
    /// How claims become the user.
    pub claim_mappings: ClaimMappings,
    /// Rules on the user, after mapping.
    pub user_validation_rules: Vec<ValidationRule>,
}

/// `jwt[].issuer`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Issuer {
    /// The issuer URL (`https://`), equal to the tokens' `iss`.
    pub url: String,
    /// Accepted `aud` values.
    pub audiences: Vec<String>,
    /// The PEM bundle that signed the issuer's serving certificate (content, not a path); the
    /// API server's system roots without it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_authority: Option<String>,
}

/// `jwt[].claimMappings`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimMappings {
    /// The user name.
    pub username: PrefixedClaim,
    /// The groups.
    pub groups: PrefixedClaim,
}

/// `claimMappings.username` / `.groups`: a claim and the prefix added to its values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrefixedClaim {
    /// The claim.
    pub claim: String,
    /// The prefix.
    pub prefix: String,
}

impl From<&ClaimMapping> for PrefixedClaim {
    fn from(mapping: &ClaimMapping) -> Self {
        Self {
            claim: mapping.claim.clone(),
            prefix: mapping.prefix.clone(),
        }
    }
}

/// A CEL rule and the message given when it is false.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidationRule {
    /// The CEL expression; the token is refused when it is false.
    pub expression: String,
    /// Why, for the API server's log.
    pub message: String,
}

/// The reserved prefix of the platform's own users and groups.
const SYSTEM: &str = "system:";

/// The `AuthenticationConfiguration` trusting `provider`, whose certificate `ca_pem` signed.
pub fn authentication_configuration(
    provider: &IdentityProvider,
    ca_pem: Option<&str>,
) -> AuthenticationConfiguration {
    let spec = &provider.spec;
    let claim = serde_json::to_string(&spec.username.claim).expect("strings serialize");
    AuthenticationConfiguration {
        api_version: "apiserver.config.k8s.io/v1",
        kind: "AuthenticationConfiguration",
        jwt: vec![JwtAuthenticator {
            issuer: Issuer {
                url: spec.issuer.clone(),
                audiences: vec![spec.client_id.clone()],
                certificate_authority: ca_pem.map(String::from),
            },
            claim_validation_rules: vec![ValidationRule {
                expression: format!("!claims[{claim}].startsWith('{SYSTEM}')"),
                message: format!("the {claim} claim may not name a {SYSTEM} user"),
            }],
            claim_mappings: ClaimMappings {
                username: (&spec.username).into(),
                groups: (&spec.groups).into(),
            },
            user_validation_rules: vec![
                ValidationRule {
                    expression: format!("!user.username.startsWith('{SYSTEM}')"),
                    message: format!("the user name may not use the reserved {SYSTEM} prefix"),
                },
                ValidationRule {
                    expression: format!("user.groups.all(g, !g.startsWith('{SYSTEM}'))"),
                    message: format!("a group may not use the reserved {SYSTEM} prefix"),
                },
            ],
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{CA, example};

    #[test]
    fn renders_the_issuer_audience_mappings_and_rules() {
        let config =
            serde_json::to_value(authentication_configuration(&example(), Some(CA))).unwrap();
        assert_eq!(
            config,
            serde_json::json!({
                "apiVersion": "apiserver.config.k8s.io/v1",
                "kind": "AuthenticationConfiguration",
                "jwt": [{
                    "issuer": {
                        "url": "https://sso.example.com/realms/tenants",
                        "audiences": ["kubectl"],
                        "certificateAuthority": CA,
                    },
                    "claimValidationRules": [{
                        "expression": "!claims[\"preferred_username\"].startsWith('system:')",
                        "message": "the \"preferred_username\" claim may not name a system: user",
                    }],
                    "claimMappings": {
                        "username": {"claim": "preferred_username", "prefix": "oidc:"},
                        "groups": {"claim": "groups", "prefix": "oidc:"},
                    },
                    "userValidationRules": [
                        {"expression": "!user.username.startsWith('system:')",
                         "message": "the user name may not use the reserved system: prefix"},
                        {"expression": "user.groups.all(g, !g.startsWith('system:'))",
                         "message": "a group may not use the reserved system: prefix"},
                    ],
                }],
            })
        );
    }

    #[test]
    fn without_a_ca_file_the_system_roots_are_trusted() {
        let config = serde_json::to_value(authentication_configuration(&example(), None)).unwrap();
        assert!(
            config["jwt"][0]["issuer"]
                .get("certificateAuthority")
                .is_none()
        );
    }

    #[test]
    fn the_rules_refuse_system_names_and_pass_members() {
        use cel_interpreter::{Context, Program, Value};
        let config = authentication_configuration(&example(), Some(CA));
        let jwt = &config.jwt[0];
        let eval = |expression: &str, variable: &str, value: serde_json::Value| {
            let program = Program::compile(expression).unwrap();
            let mut context = Context::default();
            context.add_variable(variable, value).unwrap();
            program.execute(&context).unwrap() == Value::Bool(true)
        };
        let claim = &jwt.claim_validation_rules[0].expression;
        let claims = |name: &str| serde_json::json!({"preferred_username": name});
        assert!(eval(claim, "claims", claims("alice")));
        assert!(!eval(claim, "claims", claims("system:admin")));
        let [username, groups] = [0, 1].map(|i| &jwt.user_validation_rules[i].expression);
        let user =
            |name: &str, groups: &[&str]| serde_json::json!({"username": name, "groups": groups});
        assert!(eval(username, "user", user("oidc:alice", &[])));
        assert!(!eval(username, "user", user("system:admin", &[])));
        assert!(eval(
            groups,
            "user",
            user("oidc:alice", &["oidc:tenant-acme-admins"])
        ));
        assert!(!eval(
            groups,
            "user",
            user("alice", &["oidc:a", "system:masters"])
        ));
    }
}
