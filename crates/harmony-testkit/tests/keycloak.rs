//! The Keycloak harness: a real Keycloak 26 answers over HTTPS signed by the harness's CA, its
//! bootstrap admin gets tokens, and the test-only client hands out ID tokens by password grant
//! with the `groups` claim and the real client's audience.

use std::time::Duration;

use harmony_keycloak::{Body, Http, KeycloakError, Method, oidc};
use harmony_testkit::Keycloak;
use harmony_testkit::keycloak::{TEST_CLIENT, jwt_claims as claims};
use serde_json::json;

#[test]
fn keycloak_serves_https_and_its_admin_gets_a_token() {
    let keycloak = Keycloak::shared();
    let token = keycloak.admin_token().unwrap();
    let claims = claims(&token);
    assert_eq!(claims["iss"], keycloak.issuer("master"));
    assert_eq!(claims["azp"], "admin-cli");

    let version = keycloak
        .admin_call(Method::Get, "/admin/serverinfo", Body::Empty, &[200])
        .unwrap();
    assert_eq!(version["systemInfo"]["version"], "26.7.3");

    // A wrong admin password is refused with a message naming the fix.
    let (user, _) = keycloak.admin_credentials();
    let error =
        oidc::password_grant(keycloak.http(), "master", "admin-cli", user, "wrong").unwrap_err();
    assert!(
        matches!(error, KeycloakError::BadCredentials { .. }),
        "{error}"
    );
    assert!(
        error.to_string().contains("HARMONY_IDP_ADMIN_PASSWORD"),
        "{error}"
    );

    // Without the harness's CA, the server certificate is untrusted.
    let stranger = Http::new(keycloak.url(), None, Duration::from_secs(5)).unwrap();
    let error = oidc::password_grant(&stranger, "master", "admin-cli", user, "any").unwrap_err();
    assert!(matches!(error, KeycloakError::Untrusted { .. }), "{error}");
    assert!(
        error
            .to_string()
            .contains("set the IdentityProvider's `spec.caFile`"),
        "{error}"
    );
}

#[test]
fn the_test_client_gives_id_tokens_with_groups_and_the_real_audience() {
    let keycloak = Keycloak::shared();
    let realm = "harness";
    let call = |method, path: &str, body: serde_json::Value, ok: &[u16]| {
        keycloak
            .admin_call(method, path, Body::Json(&body), ok)
            .unwrap()
    };
    call(
        Method::Post,
        "/admin/realms",
        json!({"realm": realm, "enabled": true}),
        &[201, 409],
    );
    keycloak.create_test_client(realm, "kubectl").unwrap();
    call(
        Method::Post,
        &format!("/admin/realms/{realm}/groups"),
        json!({"name": "tenant-acme-developers"}),
        &[201, 409],
    );
    call(
        Method::Post,
        &format!("/admin/realms/{realm}/users"),
        json!({"username": "alice", "email": "alice@acme.test", "firstName": "Alice",
               "lastName": "A", "enabled": true, "emailVerified": true,
               "groups": ["/tenant-acme-developers"]}),
        &[201, 409],
    );
    keycloak
        .set_password(realm, "alice", "s3cret-alice")
        .unwrap();

    let tokens = keycloak
        .password_tokens(realm, "alice", "s3cret-alice")
        .unwrap();
    let id = claims(tokens.id_token.as_deref().expect("an ID token"));
    assert_eq!(id["iss"], keycloak.issuer(realm));
    assert_eq!(id["preferred_username"], "alice");
    assert_eq!(id["groups"], json!(["tenant-acme-developers"]));
    let audiences = id["aud"].as_array().expect("aud lists both clients");
    assert!(audiences.contains(&json!("kubectl")), "{id}");
    assert!(audiences.contains(&json!(TEST_CLIENT)), "{id}");
    assert!(
        !format!("{tokens:?}").contains(&tokens.access_token),
        "Debug hides tokens"
    );

    let error = keycloak
        .password_tokens(realm, "alice", "wrong")
        .unwrap_err();
    assert!(
        error.to_string().contains("Invalid user credentials"),
        "{error}"
    );
}
