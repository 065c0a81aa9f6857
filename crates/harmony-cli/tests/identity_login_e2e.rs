//! OIDC single sign-on against real components: a Keycloak 26 (`harmony_testkit::Keycloak`) and
//! a real API server started with the AuthenticationConfiguration `harmony cluster identity
//! render` writes.
//!
//! - After `harmony identity sync`, a member's ID token authenticates as `oidc:<user>` with
//!   `oidc:tenant-<t>-<role>s`; the tenant's RoleBinding (`tenant render --idp`) lets it work in
//!   its namespace and nowhere else; a token of another issuer is refused. The full chain: a
//!   member removed from the files and synced cannot refresh, and its new token is refused.
//! - `harmony auth oidc-token` run by kubectl from the member's kubeconfig: the device
//!   authorization grant (approved through Keycloak's own login pages by a scripted browser),
//!   the 0600 cache, the refresh; the authorization code grant with PKCE on a loopback
//!   redirect; and its refusals (unreachable issuer, wrong CA, issuer mismatch).

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use common::{harmony, ok};
use harmony_keycloak::{Body, Method};
use harmony_testkit::browser::{Browser, forms};
use harmony_testkit::keycloak::jwt_claims as claims;
use harmony_testkit::{ControlPlane, ControlPlaneOptions, Keycloak};
use serde_json::{Value, json};

/// The realm of this test binary, owned by harmony.
const REALM: &str = "login";

/// The tenants: `(tenant, [(member, role)])`, every member an identity provider user.
const TENANTS: [(&str, &[(&str, &str)]); 3] = [
    ("acme", &[("alice", "developer"), ("erin", "developer")]),
    ("beta", &[("carol", "developer")]),
    ("gamma", &[("dave", "viewer")]),
];

/// After `harmony identity sync` of [`TENANTS`] into the shared Keycloak, an API server trusting
/// it (with the file `harmony cluster identity render` wrote) and the tenants applied to it.
struct Fixture {
    plane: ControlPlane,
    dir: tempfile::TempDir,
    /// The API server's CA, written once: tests run in parallel, and rewriting it while another
    /// test's kubectl reads it made that kubectl distrust the server.
    cluster_ca: PathBuf,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let keycloak = Keycloak::shared();
        let dir = tempfile::tempdir().unwrap();
        let idp = dir.path().join("idp.yaml");
        std::fs::write(
            &idp,
            format!(
                "apiVersion: harmony.nationtech.io/v1alpha1\nkind: IdentityProvider\n\
                 metadata: {{name: keycloak}}\nspec:\n  issuer: {}\n  caFile: {}\n  \
                 keycloak: {{adminUrl: '{}', realm: {REALM}, ownRealm: true}}\n",
                keycloak.issuer(REALM),
                keycloak.ca_file().display(),
                keycloak.url()
            ),
        )
        .unwrap();
        for (tenant, members) in TENANTS {
            tenant_file(dir.path(), tenant, members);
        }
        ok(&sync(dir.path()));
        for (_, members) in TENANTS {
            for (user, _) in members {
                log_in_ready(user);
            }
        }
        keycloak.create_test_client(REALM, "kubectl").unwrap();

        let authn = dir.path().join("authn.yaml");
        ok(&harmony(&[
            "cluster",
            "identity",
            "render",
            "--idp",
            &idp.to_string_lossy(),
            "--out",
            &authn.to_string_lossy(),
        ]));
        let plane = ControlPlane::start_with(ControlPlaneOptions {
            authentication_config: Some(std::fs::read_to_string(&authn).unwrap()),
            ..ControlPlaneOptions::default()
        })
        .unwrap_or_else(|e| panic!("control plane: {e}"));
        // The tenants as manifests (their RoleBindings bind the prefixed role groups), applied.
        let manifests = dir.path().join("tenants.yaml");
        let rendered = ok(&harmony(&[
            "tenant",
            "render",
            "-f",
            &dir.path().join("tenants").to_string_lossy(),
            "--idp",
            &idp.to_string_lossy(),
            "-o",
            "yaml",
        ]));
        std::fs::write(&manifests, rendered).unwrap();
        plane
            .kubectl_run(&["apply", "--server-side", "-f", &manifests.to_string_lossy()])
            .unwrap();
        let cluster_ca = dir.path().join("cluster-ca.crt");
        std::fs::write(&cluster_ca, &plane.ca().cert_pem).unwrap();
        Fixture {
            plane,
            dir,
            cluster_ca,
        }
    })
}

/// Writes `dir/tenants/<tenant>.yaml` with identity provider users `(member, role)`.
fn tenant_file(dir: &Path, tenant: &str, members: &[(&str, &str)]) {
    let mut text = format!(
        "apiVersion: harmony.nationtech.io/v1alpha1\nkind: Tenant\nmetadata: {{name: {tenant}}}\n\
         spec:\n  rbac:\n    members:\n"
    );
    for (user, role) in members {
        text.push_str(&format!(
            "    - {{name: {user}, role: {role}, oidc: {{user: {user}}}}}\n"
        ));
    }
    std::fs::create_dir_all(dir.join("tenants")).unwrap();
    std::fs::write(dir.join("tenants").join(format!("{tenant}.yaml")), text).unwrap();
}

/// `harmony identity sync` of `dir/tenants` as the Keycloak admin.
fn sync(dir: &Path) -> Output {
    let (user, password) = Keycloak::shared().admin_credentials();
    Command::new(assert_cmd::cargo::cargo_bin("harmony"))
        .env("HARMONY_IDP_ADMIN_USER", user)
        .env("HARMONY_IDP_ADMIN_PASSWORD", password)
        .args(["identity", "sync", "-f"])
        .arg(dir.join("tenants"))
        .arg("--idp")
        .arg(dir.join("idp.yaml"))
        .arg("--audit-log")
        .arg(dir.join("identity-audit.jsonl"))
        .output()
        .unwrap()
}

/// An admin API call on the shared Keycloak that must succeed.
fn admin(method: Method, path: &str, body: Value) -> Value {
    let body = match &body {
        Value::Null => Body::Empty,
        json => Body::Json(json),
    };
    Keycloak::shared()
        .admin_call(method, path, body, &[200, 201, 204])
        .unwrap()
}

/// What the person does at first login, done by the admin: the profile Keycloak requires
/// (e-mail, first and last name) and a password ([`password`]).
fn log_in_ready(user: &str) {
    let found = admin(
        Method::Get,
        &format!("/admin/realms/{REALM}/users?username={user}&exact=true"),
        Value::Null,
    );
    let id = found[0]["id"].as_str().unwrap();
    admin(
        Method::Put,
        &format!("/admin/realms/{REALM}/users/{id}"),
        json!({"email": format!("{user}@example.test"), "firstName": user, "lastName": "Test",
               "emailVerified": true}),
    );
    Keycloak::shared()
        .set_password(REALM, user, &password(user))
        .unwrap();
}

fn password(user: &str) -> String {
    format!("pw-{user}-{}", std::process::id())
}

/// A fresh ID token of `user` (a direct grant through the test-only client).
fn id_token(user: &str) -> String {
    Keycloak::shared()
        .password_tokens(REALM, user, &password(user))
        .unwrap()
        .id_token
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// kubectl against the API server with a bearer token only.
fn kubectl_with_token(token: &str, args: &[&str]) -> Output {
    let plane = &fixture().plane;
    let ca = &fixture().cluster_ca;
    Command::new(plane.binaries().kubectl())
        .env_remove("KUBECONFIG")
        .args(["--kubeconfig", "/dev/null", "--server", plane.url()])
        .arg(format!("--certificate-authority={}", ca.display()))
        .arg(format!("--token={token}"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn a_keycloak_token_is_the_prefixed_member_and_rbac_keeps_it_in_its_namespace() {
    let fixture = fixture();
    let _logs = fixture.plane.failure_guard();
    let id = id_token("alice");

    let whoami: Value = serde_json::from_str(&ok(&kubectl_with_token(
        &id,
        &["auth", "whoami", "-o", "json"],
    )))
    .unwrap();
    assert_eq!(whoami["status"]["userInfo"]["username"], "oidc:alice");
    let groups = &whoami["status"]["userInfo"]["groups"];
    assert_eq!(
        groups,
        &json!(["oidc:tenant-acme-developers", "system:authenticated"])
    );

    ok(&kubectl_with_token(
        &id,
        &["create", "configmap", "by-alice", "-n", "acme"],
    ));
    let refused = kubectl_with_token(&id, &["create", "configmap", "by-alice", "-n", "default"]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains(
            "User \"oidc:alice\" cannot create resource \"configmaps\" in API group \"\" in the namespace \"default\""
        ),
        "{}",
        text(&refused.stderr)
    );

    // A user of the realm outside the tenants authenticates, and may do nothing there.
    admin(
        Method::Post,
        &format!("/admin/realms/{REALM}/users"),
        json!({"username": "mallory", "enabled": true}),
    );
    log_in_ready("mallory");
    let denied = kubectl_with_token(&id_token("mallory"), &["get", "configmaps", "-n", "acme"]);
    assert!(
        text(&denied.stderr).contains("User \"oidc:mallory\" cannot list resource \"configmaps\""),
        "{}",
        text(&denied.stderr)
    );

    // A token of another issuer (Keycloak's master realm) is not accepted at all.
    let master = Keycloak::shared().admin_token().unwrap();
    let unknown = kubectl_with_token(&master, &["get", "configmaps", "-n", "acme"]);
    assert!(
        text(&unknown.stderr).contains("Unauthorized"),
        "{}",
        text(&unknown.stderr)
    );
    assert_eq!(claims(&id)["iss"], Keycloak::shared().issuer(REALM));
}

/// Lines of a child's standard error, as they come.
fn stderr_lines(child: &mut Child) -> Receiver<String> {
    let stderr = child.stderr.take().unwrap();
    let (send, receive) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    receive
}

/// The first `https://` or `http://` URL the plugin asks to open.
fn login_url(lines: &Receiver<String>, seen: &mut Vec<String>) -> String {
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("no login URL; stderr so far: {seen:#?}"));
        seen.push(line.clone());
        if let Some(at) = line.find("http") {
            return line[at..].split_whitespace().next().unwrap().to_string();
        }
    }
}

/// Logs `user` in on Keycloak's pages from `url`, approving a consent or device page if one
/// comes; returns the last page.
fn browser_login(url: &str, user: &str, password: &str) -> harmony_testkit::browser::Page {
    let mut browser = Browser::new(&Keycloak::shared().ca().cert_pem);
    let mut page = browser.get(url).unwrap();
    page = browser
        .submit(
            &page,
            "username",
            &[("username", user), ("password", password)],
        )
        .unwrap();
    while forms(&page.html)
        .iter()
        .any(|f| f.fields.contains_key("accept"))
    {
        page = browser.submit(&page, "accept", &[]).unwrap();
    }
    page
}

/// kubectl with the member's kubeconfig, `harmony` on its PATH and `cache` as the cache home.
fn member_kubectl(kubeconfig: &Path, cache: &Path, args: &[&str]) -> Command {
    let bin = assert_cmd::cargo::cargo_bin("harmony");
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut command = Command::new(fixture().plane.binaries().kubectl());
    command
        .env_remove("KUBECONFIG")
        .env("PATH", path)
        .env("XDG_CACHE_HOME", cache)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args);
    command
}

/// The one cache file under `cache`.
fn cache_file(cache: &Path) -> PathBuf {
    let dir = cache.join("harmony/oidc");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files.remove(0)
}

/// The kubeconfig `harmony tenant credentials issue --idp` writes for `oidc.user` member
/// `member` of `tenant`, checking it is private and logged.
fn member_kubeconfig(tenant: &str, member: &str) -> PathBuf {
    let fixture = fixture();
    let dir = fixture.dir.path();
    let file = dir.join("tenants").join(format!("{tenant}.yaml"));
    let cluster_ca = &fixture.cluster_ca;
    let out = dir.join(format!("{tenant}-{member}.kubeconfig"));
    let state = dir.join("credentials");
    let issued = harmony(&[
        "tenant",
        "credentials",
        "issue",
        "-f",
        &file.to_string_lossy(),
        "--tenant",
        tenant,
        "--member",
        member,
        "--idp",
        &dir.join("idp.yaml").to_string_lossy(),
        "--kubeconfig",
        &fixture.plane.kubeconfig().to_string_lossy(),
        "--server",
        fixture.plane.url(),
        "--certificate-authority",
        &cluster_ca.to_string_lossy(),
        "--state",
        &state.to_string_lossy(),
        "--out",
        &out.to_string_lossy(),
    ]);
    ok(&issued);
    assert!(
        text(&issued.stderr).contains(&format!("as oidc:{member}")),
        "{}",
        text(&issued.stderr)
    );
    assert_eq!(
        std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let log = std::fs::read_to_string(state.join("log.jsonl")).unwrap();
    assert!(
        log.contains(&format!(
            "\"kind\":\"login\",\"identity\":\"oidc:{member}\""
        )),
        "{log}"
    );
    out
}

#[test]
fn kubectl_runs_the_plugin_device_grant_then_cache_then_refresh() {
    let fixture = fixture();
    let _logs = fixture.plane.failure_guard();
    let kubeconfig = member_kubeconfig("beta", "carol");
    let cache = tempfile::tempdir().unwrap();

    // First use: no token yet, so the plugin starts a device login and shows where.
    let mut kubectl = member_kubectl(&kubeconfig, cache.path(), &["auth", "whoami", "-o", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = stderr_lines(&mut kubectl);
    let mut seen = Vec::new();
    let url = login_url(&lines, &mut seen);
    assert!(url.contains("/realms/login/device"), "{seen:#?}");
    let last = browser_login(&url, "carol", &password("carol"));
    assert_eq!(last.status, 200, "{}", last.html);
    let out = kubectl.wait_with_output().unwrap();
    seen.extend(lines.try_iter());
    assert!(out.status.success(), "{seen:#?}");
    let whoami: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(whoami["status"]["userInfo"]["username"], "oidc:carol");
    assert_eq!(
        whoami["status"]["userInfo"]["groups"][0],
        "oidc:tenant-beta-developers"
    );

    // The cache is private and holds the tokens; nothing printed shows them.
    let file = cache_file(cache.path());
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let cached: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let first = cached["idToken"].as_str().unwrap().to_string();
    assert!(cached["refreshToken"].is_string());
    assert!(!seen.concat().contains(&first));
    assert_eq!(claims(&first)["preferred_username"], "carol");

    // Second use: the cached token, no login.
    let again = member_kubectl(
        &kubeconfig,
        cache.path(),
        &["get", "configmaps", "-n", "beta"],
    )
    .output()
    .unwrap();
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(
        !text(&again.stderr).contains("log in"),
        "{}",
        text(&again.stderr)
    );
    let refused = member_kubectl(
        &kubeconfig,
        cache.path(),
        &["get", "configmaps", "-n", "acme"],
    )
    .output()
    .unwrap();
    assert!(
        text(&refused.stderr).contains("User \"oidc:carol\" cannot list resource \"configmaps\""),
        "{}",
        text(&refused.stderr)
    );

    // An expired ID token is refreshed with the refresh token, without a login.
    let mut stale = cached.clone();
    stale["expiry"] = json!("2000-01-01T00:00:00Z");
    std::fs::write(&file, stale.to_string()).unwrap();
    let refreshed = member_kubectl(
        &kubeconfig,
        cache.path(),
        &["get", "configmaps", "-n", "beta"],
    )
    .output()
    .unwrap();
    assert!(refreshed.status.success(), "{}", text(&refreshed.stderr));
    assert!(!text(&refreshed.stderr).contains("log in"));
    let renewed: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let second = renewed["idToken"].as_str().unwrap();
    assert_ne!(second, first);
    assert_eq!(claims(second)["preferred_username"], "carol");
    assert!(renewed["expiry"].as_str().unwrap() > "2020");
}

#[test]
fn the_plugin_logs_in_by_authorization_code_with_pkce_on_a_loopback_redirect() {
    let _fixture = fixture();
    let cache = tempfile::tempdir().unwrap();
    let keycloak = Keycloak::shared();
    let mut plugin = Command::new(assert_cmd::cargo::cargo_bin("harmony"))
        .args([
            "auth",
            "oidc-token",
            "--grant",
            "authcode",
            "--redirect-port",
            "18000",
        ])
        .arg(format!("--issuer-url={}", keycloak.issuer(REALM)))
        .arg(format!(
            "--certificate-authority={}",
            keycloak.ca_file().display()
        ))
        .arg(format!("--cache-dir={}", cache.path().display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = stderr_lines(&mut plugin);
    let mut seen = Vec::new();
    let url = login_url(&lines, &mut seen);
    assert!(url.contains("code_challenge_method=S256"), "{url}");
    assert!(
        url.contains("redirect_uri=http%3A%2F%2Flocalhost%3A18000"),
        "{url}"
    );
    let last = browser_login(&url, "dave", &password("dave"));
    assert!(
        last.url.starts_with("http://localhost:18000?"),
        "{}",
        last.url
    );
    assert!(last.html.contains("Logged in"), "{}", last.html);
    let out = plugin.wait_with_output().unwrap();
    assert!(out.status.success(), "{seen:#?}");
    let credential: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(credential["apiVersion"], "client.authentication.k8s.io/v1");
    assert_eq!(credential["kind"], "ExecCredential");
    let token = credential["status"]["token"].as_str().unwrap();
    assert_eq!(claims(token)["preferred_username"], "dave");
    assert_eq!(claims(token)["groups"], json!(["tenant-gamma-viewers"]));
    assert_eq!(
        credential["status"]["expirationTimestamp"],
        json!(
            jiff::Timestamp::from_second(claims(token)["exp"].as_i64().unwrap())
                .unwrap()
                .to_string()
        )
    );
}

#[test]
fn the_plugin_refuses_an_unreachable_issuer_a_wrong_ca_and_another_issuer_name() {
    let fixture = fixture();
    let keycloak = Keycloak::shared();
    let cache = tempfile::tempdir().unwrap();
    let run = |issuer: &str, ca: &Path| {
        let out = Command::new(assert_cmd::cargo::cargo_bin("harmony"))
            .args(["auth", "oidc-token"])
            .arg(format!("--issuer-url={issuer}"))
            .arg(format!("--certificate-authority={}", ca.display()))
            .arg(format!("--cache-dir={}", cache.path().display()))
            .output()
            .unwrap();
        assert!(!out.status.success());
        text(&out.stderr)
    };
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let error = run(
        &format!("https://127.0.0.1:{port}/realms/{REALM}"),
        &keycloak.ca_file(),
    );
    assert!(
        error.contains("cannot reach the identity provider") && error.contains("--issuer-url"),
        "{error}"
    );

    let cluster_ca = fixture.dir.path().join("wrong-ca.crt");
    std::fs::write(&cluster_ca, &fixture.plane.ca().cert_pem).unwrap();
    let error = run(&keycloak.issuer(REALM), &cluster_ca);
    assert!(
        error.contains("not signed by an authority harmony trusts")
            && error.contains("--certificate-authority"),
        "{error}"
    );

    let renamed = keycloak.issuer(REALM).replace("127.0.0.1", "localhost");
    let error = run(&renamed, &keycloak.ca_file());
    assert!(
        error.contains(&format!(
            "announces issuer {}, not {renamed}",
            keycloak.issuer(REALM)
        )),
        "{error}"
    );
    assert!(
        std::fs::read_dir(cache.path()).unwrap().next().is_none(),
        "a refusal caches nothing"
    );
}

#[test]
fn full_chain_after_sync_the_api_server_accepts_and_after_removal_refuses() {
    let fixture = fixture();
    let _logs = fixture.plane.failure_guard();
    // Synced: erin's token is `oidc:erin` in `oidc:tenant-acme-developers`, allowed in acme.
    let before = Keycloak::shared()
        .password_tokens(REALM, "erin", &password("erin"))
        .unwrap();
    let id = before.id_token.clone().unwrap();
    assert_eq!(claims(&id)["groups"], json!(["tenant-acme-developers"]));
    ok(&kubectl_with_token(
        &id,
        &["create", "configmap", "by-erin", "-n", "acme"],
    ));

    // erin leaves acme's file; a sync takes her out of the group and ends her sessions.
    tenant_file(fixture.dir.path(), "acme", &[("alice", "developer")]);
    let shown = ok(&sync(fixture.dir.path()));
    assert!(
        shown.contains("- erin from tenant-acme-developers"),
        "{shown}"
    );
    let audit = std::fs::read_to_string(fixture.dir.path().join("identity-audit.jsonl")).unwrap();
    assert!(audit.contains("\"leave\""), "{audit}");

    // Her old session cannot be refreshed, and a new token has no tenant group: refused.
    let refreshed = Keycloak::shared()
        .http()
        .send(
            Method::Post,
            &format!("/realms/{REALM}/protocol/openid-connect/token"),
            None,
            Body::Form(&[
                ("grant_type", "refresh_token"),
                ("client_id", harmony_testkit::keycloak::TEST_CLIENT),
                ("refresh_token", before.refresh_token.as_deref().unwrap()),
            ]),
        )
        .unwrap();
    assert_eq!(refreshed.status, 400, "the old session is over");
    let after = id_token("erin");
    assert!(
        claims(&after).get("groups").is_none_or(|g| g == &json!([])),
        "{}",
        claims(&after)
    );
    let whoami: Value = serde_json::from_str(&ok(&kubectl_with_token(
        &after,
        &["auth", "whoami", "-o", "json"],
    )))
    .unwrap();
    assert_eq!(
        whoami["status"]["userInfo"]["groups"],
        json!(["system:authenticated"])
    );
    let refused = kubectl_with_token(&after, &["create", "configmap", "again", "-n", "acme"]);
    assert!(
        text(&refused.stderr).contains("User \"oidc:erin\" cannot create resource \"configmaps\""),
        "{}",
        text(&refused.stderr)
    );
    // alice, still a member, keeps her access.
    ok(&kubectl_with_token(
        &id_token("alice"),
        &["get", "configmaps", "-n", "acme"],
    ));
}
