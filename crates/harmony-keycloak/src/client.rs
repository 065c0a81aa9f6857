//! The public `kubectl` client harmony keeps in the realm: authorization code with PKCE (S256) on
//! loopback redirects, the device authorization grant, no password grant, and a flat `groups`
//! claim in ID and access tokens.

use harmony_identity::directory::{MANAGED_BY, MANAGED_BY_VALUE};
use serde_json::{Value, json};

/// The loopback redirect URIs of kubectl login helpers (kubelogin's defaults, and 127.0.0.1).
const REDIRECT_URIS: [&str; 4] = [
    "http://localhost:8000",
    "http://localhost:18000",
    "http://127.0.0.1:8000",
    "http://127.0.0.1:18000",
];

/// The name of the groups claim's protocol mapper.
pub const GROUPS_MAPPER: &str = "groups";

/// The client's settings harmony keeps (without its protocol mappers).
pub fn desired(client_id: &str) -> Value {
    json!({
        "clientId": client_id,
        "name": "kubectl (harmony)",
        "protocol": "openid-connect",
        "enabled": true,
        "publicClient": true,
        "standardFlowEnabled": true,
        "implicitFlowEnabled": false,
        "directAccessGrantsEnabled": false,
        "serviceAccountsEnabled": false,
        "redirectUris": REDIRECT_URIS,
        "attributes": {
            "pkce.code.challenge.method": "S256",
            "oauth2.device.authorization.grant.enabled": "true",
            MANAGED_BY: MANAGED_BY_VALUE,
        },
    })
}

/// The protocol mapper that puts the user's groups, by flat name, in the `claim` claim.
pub fn groups_mapper(claim: &str) -> Value {
    json!({
        "name": GROUPS_MAPPER,
        "protocol": "openid-connect",
        "protocolMapper": "oidc-group-membership-mapper",
        "config": {
            "claim.name": claim,
            "full.path": "false",
            "id.token.claim": "true",
            "access.token.claim": "true",
            "userinfo.token.claim": "true",
        },
    })
}

/// Whether `observed` holds every field of `desired` (objects compared key by key, lists as
/// sets): what Keycloak adds or defaults is not drift.
pub fn holds(observed: &Value, desired: &Value) -> bool {
    match (observed, desired) {
        (Value::Object(have), Value::Object(want)) => want
            .iter()
            .all(|(key, want)| have.get(key).is_some_and(|have| holds(have, want))),
        (Value::Array(have), Value::Array(want)) => {
            have.len() == want.len() && want.iter().all(|w| have.contains(w))
        }
        (have, want) => have == want,
    }
}

/// Whether the client `observed` is harmony's (its attribute says so).
pub fn is_harmonys(observed: &Value) -> bool {
    observed["attributes"][MANAGED_BY] == MANAGED_BY_VALUE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_fields_and_list_order_are_not_drift_but_changed_values_are() {
        let desired = desired("kubectl");
        let mut observed = desired.clone();
        observed["id"] = json!("0b6a");
        observed["attributes"]["post.logout.redirect.uris"] = json!("+");
        observed["redirectUris"] = json!([
            "http://127.0.0.1:18000",
            "http://127.0.0.1:8000",
            "http://localhost:18000",
            "http://localhost:8000"
        ]);
        assert!(holds(&observed, &desired));
        assert!(is_harmonys(&observed));
        observed["directAccessGrantsEnabled"] = json!(true);
        assert!(!holds(&observed, &desired));
        observed["directAccessGrantsEnabled"] = json!(false);
        observed["attributes"]["pkce.code.challenge.method"] = json!("plain");
        assert!(!holds(&observed, &desired));
        assert!(!is_harmonys(&json!({"attributes": {}})));
    }
}
