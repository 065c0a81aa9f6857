//! `harmony identity sync` of 500 tenants × 5 identity provider members against a real Keycloak
//! 26 (the testkit's), end to end as a process: the first sync's time and requests, then a no-op
//! re-sync's, which must only read (its one POST is the admin token). The baseline, measured in
//! the same run against the same Keycloak: one admin read (`GET` of the realm), timed 200 times;
//! each sync is reported as its time over (its requests × that read's median).
//!
//! `cargo bench -p harmony-cli --bench identity_sync`. `BENCH_TENANTS` (default 500) and
//! `BENCH_MEMBERS` (default 5) resize it. Exits non-zero when the no-op re-sync writes anything
//! or the first sync's changes differ from what the tenants need.

#[allow(dead_code)] // the audit benches' tenant files are not used here
mod common;
use common::{env_usize, tenant_name};

use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use harmony_keycloak::{Body, Method};
use harmony_testkit::Keycloak;

/// The role of member `k` of a tenant: one admin, then developers and viewers in turn.
fn role(k: usize) -> &'static str {
    match k {
        0 => "admin",
        k if k % 2 == 1 => "developer",
        _ => "viewer",
    }
}

/// Writes `tenants` tenant files of `members` identity provider users each.
fn write_tenants(dir: &Path, tenants: usize, members: usize) {
    std::fs::create_dir_all(dir).expect("tenant folder");
    for i in 0..tenants {
        let name = tenant_name(i);
        let mut text = format!(
            "apiVersion: harmony.nationtech.io/v1alpha1\nkind: Tenant\nmetadata: {{name: {name}}}\n\
             spec:\n  rbac:\n    members:\n"
        );
        for k in 0..members {
            text.push_str(&format!(
                "    - {{name: m{k}, role: {}, oidc: {{user: {name}-m{k}}}}}\n",
                role(k)
            ));
        }
        std::fs::write(dir.join(format!("{name}.yaml")), text).expect("tenant file");
    }
}

/// One `harmony identity sync`: its time and its summary line.
fn sync(keycloak: &Keycloak, dir: &Path) -> (Duration, String) {
    let (user, password) = keycloak.admin_credentials();
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_harmony"))
        .env("HARMONY_IDP_ADMIN_USER", user)
        .env("HARMONY_IDP_ADMIN_PASSWORD", password)
        .args(["identity", "sync", "-f"])
        .arg(dir.join("tenants"))
        .arg("--idp")
        .arg(dir.join("idp.yaml"))
        .arg("--audit-log")
        .arg(dir.join("audit.jsonl"))
        .output()
        .expect("harmony runs");
    let took = start.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = stdout.lines().last().unwrap_or_default().to_string();
    (took, summary)
}

/// The count of `method` in a summary's `requests: GET n, POST m` part.
fn count(summary: &str, method: &str) -> usize {
    summary
        .split("requests: ")
        .nth(1)
        .into_iter()
        .flat_map(|r| r.split(", "))
        .find_map(|part| part.strip_prefix(&format!("{method} ")))
        .map_or(0, |n| n.parse().expect("a count"))
}

fn total(summary: &str) -> usize {
    ["GET", "POST", "PUT", "DELETE"]
        .iter()
        .map(|m| count(summary, m))
        .sum()
}

fn main() -> ExitCode {
    let tenants = env_usize("BENCH_TENANTS", 500);
    let members = env_usize("BENCH_MEMBERS", 5);
    let keycloak = Keycloak::shared();
    let dir = tempfile::tempdir().expect("temp dir");
    let realm = "bench";
    write_tenants(&dir.path().join("tenants"), tenants, members);
    std::fs::write(
        dir.path().join("idp.yaml"),
        format!(
            "apiVersion: harmony.nationtech.io/v1alpha1\nkind: IdentityProvider\nmetadata: {{name: bench}}\n\
             spec:\n  issuer: {}\n  caFile: {}\n  keycloak: {{adminUrl: '{}', realm: {realm}, ownRealm: true}}\n",
            keycloak.issuer(realm),
            keycloak.ca_file().display(),
            keycloak.url()
        ),
    )
    .expect("idp file");

    // Baseline: one admin read, timed 200 times (after the realm exists: the first sync).
    let (first, first_summary) = sync(keycloak, dir.path());
    let token = keycloak.admin_token().expect("admin token");
    let mut reads: Vec<Duration> = (0..200)
        .map(|_| {
            let start = Instant::now();
            let answer = keycloak
                .http()
                .send(
                    Method::Get,
                    &format!("/admin/realms/{realm}"),
                    Some(&token),
                    Body::Empty,
                )
                .expect("a read");
            assert_eq!(answer.status, 200);
            start.elapsed()
        })
        .collect();
    reads.sort();
    let read = reads[reads.len() / 2];
    let (noop, noop_summary) = sync(keycloak, dir.path());

    let groups = tenants * 3;
    let users = tenants * members;
    let expected = 2 + groups + 2 * users;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "identity sync: {tenants} tenants × {members} members ({groups} groups, {users} users) against Keycloak 26.7.3"
    );
    println!(
        "baseline: one admin GET (median of 200): {:.2} ms",
        ms(read)
    );
    for (name, took, summary) in [
        ("first sync", first, &first_summary),
        ("no-op re-sync", noop, &noop_summary),
    ] {
        let requests = total(summary);
        println!(
            "{name}: {:.1} s; {summary}; {:.2} ms a request = {:.2}× the baseline read",
            took.as_secs_f64(),
            ms(took) / requests as f64,
            ms(took) / requests as f64 / ms(read)
        );
    }
    println!(
        "no-op re-sync / first sync: {:.3} of the time, {:.3} of the requests",
        noop.as_secs_f64() / first.as_secs_f64(),
        total(&noop_summary) as f64 / total(&first_summary) as f64
    );
    let mut ok = true;
    if !first_summary.starts_with(&format!("{expected} changes made")) {
        eprintln!("the first sync made other changes than the {expected} needed: {first_summary}");
        ok = false;
    }
    if !noop_summary.starts_with("no change")
        || count(&noop_summary, "PUT") + count(&noop_summary, "DELETE") > 0
        || count(&noop_summary, "POST") != 1
    {
        eprintln!("the no-op re-sync wrote: {noop_summary}");
        ok = false;
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
