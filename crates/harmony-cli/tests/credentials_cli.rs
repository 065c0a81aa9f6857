//! `harmony tenant credentials` as an operator runs it against the fake API server: a token
//! kubeconfig printed or written 0600, listed, revoked; refusals write nothing and leak nothing.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use assert_cmd::Command;
use harmony_testkit::{FakeApiServer, FakeOptions};
use predicates::prelude::*;
use serde_json::json;

const TENANT: &str = "apiVersion: harmony.nationtech.io/v1alpha1
kind: Tenant
metadata:
  name: acme
spec:
  rbac:
    members:
      - { name: ci, role: developer, serviceAccount: true }
      - { name: devs, role: viewer, group: acme-devs }
";

/// The fake, holding tenant `acme` as applied, and a folder with the tenant file and kubeconfig.
fn setup() -> (FakeApiServer, tempfile::TempDir) {
    let server = FakeApiServer::start(FakeOptions::default()).unwrap();
    let labels = json!({ "app.kubernetes.io/managed-by": "harmony", "harmony.nationtech.io/tenant": "acme" });
    server.insert(json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": "acme", "labels": labels } }));
    server.insert(json!({ "apiVersion": "v1", "kind": "ServiceAccount", "metadata": { "name": "ci", "namespace": "acme", "labels": labels } }));
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("acme.yaml"), TENANT).unwrap();
    server
        .write_kubeconfig(&dir.path().join("admin.kubeconfig"))
        .unwrap();
    (server, dir)
}

fn credentials(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::cargo_bin("harmony").unwrap();
    cmd.current_dir(dir)
        .env("USER", "operator")
        .args(["tenant", "credentials"])
        .args(args)
        .args(["--kubeconfig", "admin.kubeconfig", "--state", "state"]);
    cmd
}

fn member(args: &[&str]) -> Vec<String> {
    let mut all: Vec<String> = ["-f", "acme.yaml", "--tenant", "acme"]
        .map(String::from)
        .to_vec();
    all.extend(args.iter().map(|a| a.to_string()));
    all
}

fn run(dir: &Path, sub: &str, args: &[&str]) -> Command {
    let mut full = vec![sub.to_string()];
    full.extend(member(args));
    let refs: Vec<&str> = full.iter().map(String::as_str).collect();
    credentials(dir, &refs)
}

#[test]
fn issue_list_revoke_a_token() {
    let (_server, dir) = setup();
    let out = run(dir.path(), "issue", &["--member", "ci", "--out", "-"])
        .assert()
        .success();
    let output = out.get_output();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stdout.contains("current-context: acme-ci"), "{stdout}");
    let token = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("token: "))
        .unwrap()
        .to_string();
    assert!(stderr.contains("issued a token for acme/ci"), "{stderr}");
    assert!(!stderr.contains(&token), "the token leaked to stderr");

    run(
        dir.path(),
        "issue",
        &["--member", "ci", "--out", "ci.kubeconfig", "--ttl", "1h"],
    )
    .assert()
    .success();
    let file = dir.path().join("ci.kubeconfig");
    assert_eq!(
        fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let log = fs::read_to_string(dir.path().join("state/log.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 2);
    assert!(!log.contains(&token));

    credentials(dir.path(), &["list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("acme\tci\ttoken\tactive"));
    run(dir.path(), "revoke", &["--member", "ci"])
        .assert()
        .success()
        .stdout(predicate::str::contains("stopped working"));
    credentials(dir.path(), &["list", "-o", "json"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("\"revoked\"")
                .and(predicate::str::contains("\"active\"").not()),
        );
}

#[test]
fn refusals_write_nothing() {
    let (server, dir) = setup();
    server.clear_requests();
    for (args, expected) in [
        (
            vec!["--member", "bob"],
            "--member: `bob` is not a member of tenant `acme`",
        ),
        (
            vec!["--member", "devs"],
            "group members authenticate through their identity provider",
        ),
        (vec!["--member", "ci", "--ttl", "2d"], "--ttl"),
        (
            vec!["--member", "ci", "--ttl", "30h"],
            "above the maximum lifetime `24h`",
        ),
    ] {
        let mut all = args.clone();
        all.extend(["--out", "k"]);
        run(dir.path(), "issue", &all)
            .assert()
            .failure()
            .stderr(predicate::str::contains(expected));
    }
    assert!(!dir.path().join("k").exists());
    assert!(!dir.path().join("state").exists());
    assert!(server.requests().is_empty());
}

#[test]
fn login_kubeconfigs_are_for_identity_provider_members_only() {
    let (_server, dir) = setup();
    fs::write(
        dir.path().join("idp.yaml"),
        "apiVersion: harmony.nationtech.io/v1alpha1\nkind: IdentityProvider\nmetadata: {name: sso}\n\
         spec:\n  issuer: https://sso.example.com/realms/tenants\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("oidc.yaml"),
        "apiVersion: harmony.nationtech.io/v1alpha1\nkind: Tenant\nmetadata: {name: acme}\n\
         spec:\n  rbac:\n    members:\n      - { name: alice, role: developer, oidc: {user: alice} }\n      \
         - { name: ci, role: developer, serviceAccount: true }\n",
    )
    .unwrap();
    let issue = |member: &str, idp: bool| {
        let mut args = vec![
            "issue",
            "-f",
            "oidc.yaml",
            "--tenant",
            "acme",
            "--member",
            member,
        ];
        if idp {
            args.extend(["--idp", "idp.yaml"]);
        }
        args.extend(["--out", "k.kubeconfig"]);
        credentials(dir.path(), &args).assert().failure()
    };
    issue("ci", true).stderr(predicate::str::contains(
        "`ci` is not an identity provider member (`oidc: {user|group}`): issue its credential without --idp",
    ));
    issue("alice", false).stderr(predicate::str::contains("pass --idp FILE"));
    assert!(
        !dir.path().join("k.kubeconfig").exists(),
        "refusals write nothing"
    );
    assert!(
        !dir.path().join("state/log.jsonl").exists(),
        "and log nothing"
    );
}
