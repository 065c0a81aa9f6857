//! `harmony identity plan|sync` against a real Keycloak 26 (the testkit's, HTTPS from its own
//! CA): the realm, client, role groups and memberships appear; a member gets an ID token with its
//! tenant's group; a no-op re-sync only reads; a removed member leaves the group, loses its
//! sessions and its new token lacks the group. Refusals: bad admin credentials, a wrong CA, an
//! unreachable Keycloak, a realm harmony does not own, a group that is not harmony's; a sync
//! stopped halfway is finished by the next.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use harmony_identity::desired;
use harmony_keycloak::{AdminCredentials, Body, KeycloakSync, Method};
use harmony_testkit::Keycloak;
use harmony_testkit::keycloak::{TEST_CLIENT, jwt_claims};
use serde_json::json;

/// An IdentityProvider file for `realm` of the shared Keycloak in `dir`.
fn idp_file(dir: &Path, keycloak: &Keycloak, realm: &str, own: bool) -> PathBuf {
    let path = dir.join("idp.yaml");
    let text = format!(
        "apiVersion: harmony.nationtech.io/v1alpha1\nkind: IdentityProvider\nmetadata: {{name: keycloak}}\n\
         spec:\n  issuer: {issuer}\n  caFile: {ca}\n  clientId: kubectl\n  \
         keycloak: {{adminUrl: '{url}', realm: {realm}, ownRealm: {own}}}\n",
        issuer = keycloak.issuer(realm),
        ca = keycloak.ca_file().display(),
        url = keycloak.url(),
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// A tenant file for `tenant` with identity provider users `(member, role)`.
fn tenant_file(dir: &Path, tenant: &str, users: &[(&str, &str)]) {
    let mut text = format!(
        "apiVersion: harmony.nationtech.io/v1alpha1\nkind: Tenant\nmetadata: {{name: {tenant}}}\n\
         spec:\n  rbac:\n    members:\n"
    );
    for (user, role) in users {
        text.push_str(&format!(
            "    - {{name: {user}, role: {role}, oidc: {{user: {user}}}}}\n"
        ));
    }
    std::fs::create_dir_all(dir.join("tenants")).unwrap();
    std::fs::write(dir.join("tenants").join(format!("{tenant}.yaml")), text).unwrap();
}

/// `harmony identity VERB -f DIR/tenants --idp IDP --audit-log DIR/audit.jsonl` as the
/// Keycloak's admin (from the environment).
fn identity(verb: &str, dir: &Path, idp: &Path, admin: (&str, &str)) -> Output {
    Command::cargo_bin("harmony")
        .unwrap()
        .env("HARMONY_IDP_ADMIN_USER", admin.0)
        .env("HARMONY_IDP_ADMIN_PASSWORD", admin.1)
        .env("USER", "e2e")
        .args(["identity", verb, "-f"])
        .arg(dir.join("tenants"))
        .arg("--idp")
        .arg(idp)
        .arg("--audit-log")
        .arg(dir.join("audit.jsonl"))
        .output()
        .unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The `groups` claim of a fresh ID token of `user` through the test client.
fn token_groups(keycloak: &Keycloak, realm: &str, user: &str) -> serde_json::Value {
    let tokens = keycloak
        .password_tokens(realm, user, &format!("pw-{user}"))
        .unwrap();
    let claims = jwt_claims(tokens.id_token.as_deref().unwrap());
    assert_eq!(claims["iss"], keycloak.issuer(realm));
    assert!(
        claims["aud"]
            .as_array()
            .unwrap()
            .contains(&json!("kubectl")),
        "{claims}"
    );
    claims["groups"].clone()
}

#[test]
fn sync_makes_keycloak_match_the_tenants_and_removal_takes_the_group_away() {
    let keycloak = Keycloak::shared();
    let admin = keycloak.admin_credentials();
    let dir = tempfile::tempdir().unwrap();
    let realm = "tenants-e2e";
    let idp = idp_file(dir.path(), keycloak, realm, true);
    tenant_file(
        dir.path(),
        "acme",
        &[("alice", "developer"), ("bob", "viewer")],
    );
    tenant_file(dir.path(), "globex", &[("carol", "admin")]);

    let plan = identity("plan", dir.path(), &idp, admin);
    assert_eq!(plan.status.code(), Some(2), "{}", text(&plan));
    let shown = text(&plan);
    for line in [
        "+ realm tenants-e2e",
        "+ client kubectl",
        "+ group tenant-acme-developers (tenant acme)",
        "+ user alice",
        "+ alice in tenant-acme-developers",
        "+ carol in tenant-globex-admins",
        "14 changes to make",
    ] {
        assert!(shown.contains(line), "{line:?} missing from:\n{shown}");
    }

    let sync = identity("sync", dir.path(), &idp, admin);
    let shown = common::ok(&sync);
    assert!(shown.contains("14 changes made"), "{shown}");
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    let entries: Vec<serde_json::Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(entries.len(), 14);
    assert_eq!(entries[0]["action"], "create-realm");
    assert_eq!(entries[0]["admin"], admin.0);
    assert_eq!(entries[0]["operator"], "e2e");
    assert!(!audit.contains(admin.1), "the audit log holds no secret");
    let mode = std::fs::metadata(dir.path().join("audit.jsonl"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    // The kubectl client is public, PKCE S256, device grant on, no password grant.
    let clients = keycloak
        .admin_call(
            Method::Get,
            &format!("/admin/realms/{realm}/clients?clientId=kubectl"),
            Body::Empty,
            &[200],
        )
        .unwrap();
    let client = &clients[0];
    assert_eq!(client["publicClient"], true);
    assert_eq!(client["directAccessGrantsEnabled"], false);
    assert_eq!(client["attributes"]["pkce.code.challenge.method"], "S256");
    assert_eq!(
        client["attributes"]["oauth2.device.authorization.grant.enabled"],
        "true"
    );

    // A re-sync with nothing to do only reads (one POST: the admin token).
    let noop = identity("plan", dir.path(), &idp, admin);
    assert_eq!(noop.status.code(), Some(0), "{}", text(&noop));
    let shown = text(&noop);
    assert!(
        shown.contains("no change: the identity provider matches the tenants"),
        "{shown}"
    );
    assert!(
        shown.contains("POST 1") && !shown.contains("PUT") && !shown.contains("DELETE"),
        "{shown}"
    );
    let resync = common::ok(&identity("sync", dir.path(), &idp, admin));
    assert!(resync.contains("no change"), "{resync}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap(),
        audit,
        "a no-op sync logs nothing"
    );

    // The members log in (a direct grant through the test-only client) with their groups.
    keycloak.create_test_client(realm, "kubectl").unwrap();
    for user in ["alice", "bob"] {
        keycloak
            .set_password(realm, user, &format!("pw-{user}"))
            .unwrap();
    }
    assert_eq!(
        token_groups(keycloak, realm, "alice"),
        json!(["tenant-acme-developers"])
    );
    assert_eq!(
        token_groups(keycloak, realm, "bob"),
        json!(["tenant-acme-viewers"])
    );
    let before = keycloak
        .password_tokens(realm, "alice", "pw-alice")
        .unwrap();

    // alice leaves acme: she leaves the group, her sessions end, her next token lacks it.
    tenant_file(dir.path(), "acme", &[("bob", "viewer")]);
    let shown = common::ok(&identity("sync", dir.path(), &idp, admin));
    assert!(
        shown.contains("- alice from tenant-acme-developers"),
        "{shown}"
    );
    assert!(shown.contains("~ sessions of alice ended"), "{shown}");
    assert!(shown.contains("2 changes made"), "{shown}");
    let refresh = keycloak
        .http()
        .send(
            Method::Post,
            &format!("/realms/{realm}/protocol/openid-connect/token"),
            None,
            Body::Form(&[
                ("grant_type", "refresh_token"),
                ("client_id", TEST_CLIENT),
                ("refresh_token", before.refresh_token.as_deref().unwrap()),
            ]),
        )
        .unwrap();
    assert_eq!(
        refresh.status, 400,
        "the old session's refresh token is dead"
    );
    assert!(
        token_groups(keycloak, realm, "alice")
            .as_array()
            .is_none_or(|g| g.is_empty())
    );
    assert_eq!(
        token_groups(keycloak, realm, "bob"),
        json!(["tenant-acme-viewers"])
    );
}

#[test]
fn refusals_name_the_fix_and_change_nothing() {
    let keycloak = Keycloak::shared();
    let admin = keycloak.admin_credentials();
    let dir = tempfile::tempdir().unwrap();
    tenant_file(dir.path(), "zeta", &[("zoe", "admin")]);

    // Bad admin credentials.
    let idp = idp_file(dir.path(), keycloak, "tenants-refusals", true);
    let out = identity("sync", dir.path(), &idp, (admin.0, "wrong"));
    assert_eq!(out.status.code(), Some(1));
    let shown = text(&out);
    assert!(
        shown.contains("Keycloak refused the credentials"),
        "{shown}"
    );
    assert!(shown.contains("HARMONY_IDP_ADMIN_PASSWORD"), "{shown}");
    assert!(
        !shown.contains(admin.1) && !shown.contains("wrong"),
        "no secret: {shown}"
    );

    // No credentials at all.
    let out = Command::cargo_bin("harmony")
        .unwrap()
        .env_remove("HARMONY_IDP_ADMIN_USER")
        .env_remove("HARMONY_IDP_ADMIN_PASSWORD")
        .args(["identity", "plan", "-f"])
        .arg(dir.path().join("tenants"))
        .arg("--idp")
        .arg(&idp)
        .output()
        .unwrap();
    assert!(text(&out).contains("set HARMONY_IDP_ADMIN_USER and HARMONY_IDP_ADMIN_PASSWORD"));

    // A CA that did not sign Keycloak's certificate.
    let other_ca = dir.path().join("other-ca.pem");
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    std::fs::write(&other_ca, params.self_signed(&key).unwrap().pem()).unwrap();
    let text_of = |path: &Path| std::fs::read_to_string(path).unwrap();
    std::fs::write(
        &idp,
        text_of(&idp).replace(
            &keycloak.ca_file().display().to_string(),
            &other_ca.display().to_string(),
        ),
    )
    .unwrap();
    let shown = text(&identity("plan", dir.path(), &idp, admin));
    assert!(
        shown.contains("set the IdentityProvider's `spec.caFile`"),
        "{shown}"
    );

    // Nothing listens.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    std::fs::write(
        &idp,
        text_of(&idp).replace(keycloak.url(), &format!("https://127.0.0.1:{port}")),
    )
    .unwrap();
    let shown = text(&identity("plan", dir.path(), &idp, admin));
    assert!(
        shown.contains("cannot reach Keycloak at https://127.0.0.1:"),
        "{shown}"
    );

    // A realm harmony did not create, with ownRealm: true.
    keycloak
        .admin_call(
            Method::Post,
            "/admin/realms",
            Body::Json(&json!({"realm": "hand-made", "enabled": true})),
            &[201, 409],
        )
        .unwrap();
    let idp = idp_file(dir.path(), keycloak, "hand-made", true);
    let shown = text(&identity("sync", dir.path(), &idp, admin));
    assert!(
        shown.contains("realm `hand-made` exists and is not harmony's"),
        "{shown}"
    );
    assert!(shown.contains("set `ownRealm: false`"), "{shown}");

    // A missing realm harmony may not create.
    let idp = idp_file(dir.path(), keycloak, "nowhere", false);
    let shown = text(&identity("sync", dir.path(), &idp, admin));
    assert!(shown.contains("realm `nowhere` does not exist"), "{shown}");

    // A group the tenant needs that is someone else's: every change refused.
    keycloak
        .admin_call(
            Method::Post,
            "/admin/realms/hand-made/groups",
            Body::Json(&json!({"name": "tenant-zeta-admins"})),
            &[201, 409],
        )
        .unwrap();
    let idp = idp_file(dir.path(), keycloak, "hand-made", false);
    let out = identity("sync", dir.path(), &idp, admin);
    assert_eq!(out.status.code(), Some(1));
    let shown = text(&out);
    assert!(
        shown.contains(
            "group `tenant-zeta-admins` exists in the identity provider and is not harmony's"
        ),
        "{shown}"
    );
    let clients = keycloak
        .admin_call(
            Method::Get,
            "/admin/realms/hand-made/clients?clientId=kubectl",
            Body::Empty,
            &[200],
        )
        .unwrap();
    assert_eq!(clients, json!([]), "a refused sync changes nothing");
    assert!(
        !dir.path().join("audit.jsonl").exists()
            || text_of(&dir.path().join("audit.jsonl")).is_empty()
    );
}

#[test]
fn a_sync_stopped_halfway_is_finished_by_the_next() {
    let keycloak = Keycloak::shared();
    let (user, password) = keycloak.admin_credentials();
    let dir = tempfile::tempdir().unwrap();
    let realm = "tenants-resume";
    let idp = idp_file(dir.path(), keycloak, realm, true);
    tenant_file(
        dir.path(),
        "acme",
        &[("ann", "admin"), ("ben", "developer")],
    );
    let provider =
        harmony_identity::load_identity_provider(&harmony::Documents::read(&[&idp]).unwrap())
            .unwrap();
    let mut facts = harmony_tenant::ClusterFacts::kubernetes();
    facts.oidc = Some(provider.facts(facts.flavor));
    let tenants = harmony_tenant::load_tenants(
        &harmony::Documents::read(&[dir.path().join("tenants")]).unwrap(),
        &facts,
    )
    .unwrap();
    let want = desired(&tenants);
    let sync = KeycloakSync::connect(&provider, AdminCredentials::new(user, password)).unwrap();
    let plan = sync.plan(&want).unwrap();
    assert_eq!(plan.steps.len(), 9, "{:#?}", plan.steps);
    let mut done = 0;
    let stopped = sync
        .apply(plan, &mut |_| {
            done += 1;
            if done == 4 {
                Err("interrupted".into())
            } else {
                Ok(())
            }
        })
        .unwrap_err();
    assert!(
        stopped
            .to_string()
            .contains("stopped after 4 of 9 steps: interrupted; run the sync again"),
        "{stopped}"
    );

    let rest = sync.plan(&want).unwrap();
    let shown: Vec<String> = rest.steps.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "+ group tenant-acme-viewers (tenant acme)",
            "+ user ann",
            "+ user ben",
            "+ ann in tenant-acme-admins",
            "+ ben in tenant-acme-developers",
        ]
    );
    let shown = common::ok(&identity("sync", dir.path(), &idp, (user, password)));
    assert!(shown.contains("5 changes made"), "{shown}");
    assert!(sync.plan(&want).unwrap().steps.is_empty());
}
