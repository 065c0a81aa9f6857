//! `harmony tenant activity` and `harmony cluster audit-policy render` as processes, without a
//! cluster: every refusal with its exit code and message, malformed lines reported with file
//! and line while the rest is counted, gzip and rotated files, CSV; the policy files written;
//! identity provider members (`--idp`) named in the report and given bodies on OKD.

mod common;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

use common::harmony;
use serde_json::Value;

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// An audit event line of `user` doing `verb` on `resource` in `namespace`.
fn event(user: &str, verb: &str, resource: &str, namespace: &str, code: u16, time: &str) -> String {
    event_in(
        user,
        &["system:authenticated"],
        verb,
        resource,
        namespace,
        code,
        time,
    )
}

/// An audit event line of `user` in `groups` doing `verb` on `resource` in `namespace`.
fn event_in(
    user: &str,
    groups: &[&str],
    verb: &str,
    resource: &str,
    namespace: &str,
    code: u16,
    time: &str,
) -> String {
    serde_json::json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
        "auditID": "5d7b", "stage": "ResponseComplete", "verb": verb,
        "requestURI": format!("/api/v1/namespaces/{namespace}/{resource}"),
        "user": {"username": user, "groups": groups},
        "objectRef": {"resource": resource, "namespace": namespace, "apiVersion": "v1"},
        "responseStatus": {"metadata": {}, "code": code},
        "requestReceivedTimestamp": time, "stageTimestamp": time,
    })
    .to_string()
}

/// alice (acme's admin in examples/tenants) listing pods in acme at 12:00, allowed.
fn alice_lists_pods() -> String {
    event(
        "alice@acme.com",
        "list",
        "pods",
        "acme",
        200,
        "2026-12-03T12:00:00.000000Z",
    )
}

const EXAMPLES: &str = "../../examples/tenants";

fn log(dir: &Path, lines: &[String]) -> String {
    let path = dir.join("audit.log");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path.display().to_string()
}

#[test]
fn malformed_lines_are_named_by_file_and_line_and_the_report_is_made() {
    let dir = tempfile::tempdir().unwrap();
    let good = alice_lists_pods();
    let path = log(
        dir.path(),
        &[good.clone(), "{\"stage\":".into(), good, "[]".into()],
    );
    let out = harmony(&[
        "tenant",
        "activity",
        "acme",
        "--audit-log",
        &path,
        "-f",
        EXAMPLES,
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(&format!("{path}:2: truncated")), "{err}");
    assert!(
        err.contains(&format!("{path}:4: not an audit event")),
        "{err}"
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["counts"]["malformed"], 2);
    assert_eq!(report["tenants"][0]["actors"][0]["requests"], 2);
}

#[test]
fn rotated_gzip_and_plain_files_make_one_csv_report() {
    let dir = tempfile::tempdir().unwrap();
    let rotated = dir.path().join("audit-2026-12-03T11-00-00.000.log.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(
        (event(
            "alice@acme.com",
            "get",
            "secrets",
            "globex",
            403,
            "2026-12-03T11:00:00.000000Z",
        ) + "\n")
            .as_bytes(),
    )
    .unwrap();
    std::fs::write(&rotated, gz.finish().unwrap()).unwrap();
    let current = log(dir.path(), &[alice_lists_pods()]);
    let out = harmony(&[
        "tenant",
        "activity",
        "--audit-log",
        rotated.to_str().unwrap(),
        &current,
        "-f",
        EXAMPLES,
        "-o",
        "csv",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let csv = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(
        rows[1],
        "acme,cross-tenant,alice@acme.com,alice,get,secrets,globex,globex,403,,1,1,\
         2026-12-03T11:00:00.000000Z,2026-12-03T11:00:00.000000Z"
    );
    assert!(rows.contains(&"acme,action,alice@acme.com,alice,list,pods,acme,,,,1,0,,"));
    assert!(
        rows.iter().all(|r| !r.starts_with("globex,")),
        "globex did nothing: {csv}"
    );
}

/// `harmony tenant activity ARGS` must exit 2 with `message` on standard error.
fn refused(args: &[&str], message: &str) {
    let out = harmony(&[&["tenant", "activity"], args].concat());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    assert!(stderr(&out).contains(message), "{}", stderr(&out));
}

#[test]
fn a_tenant_not_in_the_files_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = log(dir.path(), &[]);
    refused(
        &["umbrella", "--audit-log", &path, "-f", EXAMPLES],
        "error: tenant `umbrella` is not in the tenant files (they hold: acme, globex, initech)",
    );
}

#[test]
fn a_since_that_is_no_duration_or_time_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = log(dir.path(), &[]);
    refused(
        &[
            "acme",
            "--audit-log",
            &path,
            "-f",
            EXAMPLES,
            "--since",
            "yesterday",
        ],
        "error: --since: `yesterday` is neither a duration (a number and a unit s, m, h or d, \
         such as 30m, 24h, 7d or 1h30m) nor an RFC 3339 time (such as 2026-12-03T12:00:00Z)",
    );
}

#[test]
fn a_missing_log_or_a_folder_is_refused_before_anything_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = log(dir.path(), &[]);
    let missing = dir.path().join("audit-missing.log");
    refused(
        &[
            "acme",
            "--audit-log",
            &path,
            missing.to_str().unwrap(),
            "-f",
            EXAMPLES,
        ],
        &format!("error: --audit-log: {}: No such file", missing.display()),
    );
    refused(
        &[
            "acme",
            "--audit-log",
            dir.path().to_str().unwrap(),
            "-f",
            EXAMPLES,
        ],
        "not a file: name the log files themselves",
    );
}

#[test]
fn invalid_tenant_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = log(dir.path(), &[]);
    let tenant = dir.path().join("bad.yaml");
    std::fs::write(
        &tenant,
        "apiVersion: harmony.nationtech.io/v1alpha1\nkind: Tenant\nmetadata:\n  name: Bad_Name\n",
    )
    .unwrap();
    refused(
        &["--audit-log", &path, "-f", tenant.to_str().unwrap()],
        "bad.yaml:4:",
    );
}

/// `harmony cluster audit-policy render ARGS`.
fn policy(args: &[&str]) -> Output {
    harmony(&[&["cluster", "audit-policy", "render"], args].concat())
}

#[test]
fn the_policy_is_written_private_or_printed_and_its_flags_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("policy.yaml");
    let written = policy(&["--out", out.to_str().unwrap()]);
    assert_eq!(written.status.code(), Some(0), "{}", stderr(&written));
    assert_eq!(
        std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let printed = policy(&["-o", "yaml"]);
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        String::from_utf8(printed.stdout).unwrap()
    );
    let json: Value = serde_json::from_slice(&policy(&["-o", "json"]).stdout).unwrap();
    assert_eq!(json["kind"], "Policy");
    assert_eq!(json["rules"][0]["level"], "Metadata");
    assert_eq!(json["rules"][0]["resources"][0]["resources"][0], "secrets");

    for (args, message) in [
        (
            &["-f", EXAMPLES, "-o", "yaml"][..],
            "error: -f: the Kubernetes audit policy names no tenant",
        ),
        (
            &["--flavor", "okd", "-o", "yaml"][..],
            "error: -f: the OKD audit policy gives each tenant's groups a custom rule",
        ),
        (
            &[][..],
            "error: say where to render: --out FILE or -o yaml|json",
        ),
    ] {
        let out = policy(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(stderr(&out).contains(message), "{}", stderr(&out));
    }
}

#[test]
fn okd_renders_the_apiserver_audit_profile_with_a_rule_per_tenant_group() {
    let out = policy(&["--flavor", "okd", "-f", EXAMPLES, "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let server: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(server["apiVersion"], "config.openshift.io/v1");
    assert_eq!(server["kind"], "APIServer");
    assert_eq!(server["metadata"]["name"], "cluster");
    let audit = &server["spec"]["audit"];
    assert_eq!(audit["profile"], "Default");
    let rules = audit["customRules"].as_array().unwrap();
    let groups: Vec<&str> = rules.iter().map(|r| r["group"].as_str().unwrap()).collect();
    assert_eq!(
        groups,
        [
            "acme-devs",
            "system:serviceaccounts:acme",
            "system:serviceaccounts:globex",
            "system:serviceaccounts:initech-prod"
        ]
    );
    assert!(rules.iter().all(|r| r["profile"] == "WriteRequestBodies"));
    assert!(
        stderr(&out).contains("note: acme: users alice@acme.com are recorded at profile Default"),
        "{}",
        stderr(&out)
    );
}

/// The tenant with identity provider members and its provider file.
const IDP_TENANTS: &str = "../../examples/identity/tenants";
const IDP: &str = "../../examples/identity/idp.yaml";

/// acme's identity provider members as the API server records them (`oidc:` prefixes): alice
/// (its admin) and anyone of `acme-sre`; then the same names from another issuer.
fn identity_provider_requests() -> Vec<String> {
    vec![
        event_in(
            "oidc:alice",
            &["oidc:tenant-acme-admins", "system:authenticated"],
            "create",
            "configmaps",
            "acme",
            201,
            "2026-12-03T12:00:00.000000Z",
        ),
        event_in(
            "oidc:sam",
            &["oidc:acme-sre", "system:authenticated"],
            "get",
            "secrets",
            "acme",
            403,
            "2026-12-03T12:00:01.000000Z",
        ),
        event_in(
            "sso2:alice",
            &["sso2:tenant-acme-admins", "sso2:acme-sre"],
            "list",
            "pods",
            "acme",
            200,
            "2026-12-03T12:00:02.000000Z",
        ),
    ]
}

#[test]
fn identity_provider_members_are_named_in_text_and_json_with_the_provider_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = log(dir.path(), &identity_provider_requests());
    let run = |format: &str| {
        harmony(&[
            "tenant",
            "activity",
            "--audit-log",
            &path,
            "-f",
            IDP_TENANTS,
            "--idp",
            IDP,
            "-o",
            format,
        ])
    };
    let text = run("text");
    assert_eq!(text.status.code(), Some(0), "{}", stderr(&text));
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains(
            "tenant acme (namespace acme): 2 requests, 1 refused, 0 on other tenants' namespaces"
        ),
        "{text}"
    );
    assert!(text.contains("    REFUSED: oidc:sam (member sre): get secrets in acme: 403"));
    assert!(text.contains("    oidc:alice (member alice): 1 request, 0 refused"));
    assert!(!text.contains("sso2:"), "another issuer's users: {text}");

    let json = run("json");
    assert_eq!(json.status.code(), Some(0), "{}", stderr(&json));
    let report: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["counts"]["requests"], 3);
    assert_eq!(report["counts"]["attributed"], 2);
    let actors: Vec<(&str, &Value)> = report["tenants"][0]["actors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["user"].as_str().unwrap(), &a["members"]))
        .collect();
    assert_eq!(
        actors,
        [
            ("oidc:alice", &serde_json::json!(["alice"])),
            ("oidc:sam", &serde_json::json!(["sre"])),
        ]
    );
}

#[test]
fn identity_provider_members_without_the_provider_file_are_refused_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let path = log(dir.path(), &identity_provider_requests());
    refused(
        &["--audit-log", &path, "-f", IDP_TENANTS],
        "acme.yaml:8:43: spec.rbac.members[0].oidc: is an identity provider member, but harmony \
         was not given the IdentityProvider file that says how the API server names it: pass \
         --idp FILE",
    );
}

#[test]
fn tenant_files_without_identity_provider_members_report_the_same_with_the_provider_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = log(
        dir.path(),
        &[
            alice_lists_pods(),
            event(
                "alice@acme.com",
                "get",
                "secrets",
                "globex",
                403,
                "2026-12-03T12:00:04.000000Z",
            ),
        ],
    );
    let run = |extra: &[&str], format: &str| {
        let out = harmony(
            &[
                &["tenant", "activity", "--audit-log", &path, "-f", EXAMPLES][..],
                extra,
                &["-o", format],
            ]
            .concat(),
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    for format in ["text", "json", "csv"] {
        assert_eq!(run(&[], format), run(&["--idp", IDP], format), "{format}");
    }
    let acme = run(&[], "text");
    assert!(
        acme.contains(
            "  attention:\n    CROSS-TENANT, REFUSED: alice@acme.com (member alice): get secrets \
             in globex (tenant globex): 403, 1x, first 2026-12-03T12:00:04.000000Z, last \
             2026-12-03T12:00:04.000000Z\n"
        ),
        "{acme}"
    );
}

#[test]
fn okd_gives_the_groups_of_identity_provider_members_write_bodies() {
    let out = policy(&[
        "--flavor",
        "okd",
        "-f",
        IDP_TENANTS,
        "--idp",
        IDP,
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        out.stderr.is_empty(),
        "no user left at Default: {}",
        stderr(&out)
    );
    let server: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules = server["spec"]["audit"]["customRules"].as_array().unwrap();
    let groups: Vec<&str> = rules.iter().map(|r| r["group"].as_str().unwrap()).collect();
    assert_eq!(
        groups,
        [
            "tenant-acme-admins",
            "tenant-acme-developers",
            "acme-sre",
            "system:serviceaccounts:acme"
        ]
    );
    assert!(rules.iter().all(|r| r["profile"] == "WriteRequestBodies"));

    for (args, message) in [
        (
            &["--flavor", "okd", "-f", IDP_TENANTS, "-o", "yaml"][..],
            "spec.rbac.members[0].oidc: is an identity provider member, but harmony was not \
             given the IdentityProvider file that says how the API server names it: pass --idp \
             FILE",
        ),
        (
            &["--idp", IDP, "-o", "yaml"][..],
            "error: --idp: the Kubernetes audit policy names no tenant and so no identity \
             provider member",
        ),
    ] {
        let out = policy(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(out.stdout.is_empty());
        assert!(stderr(&out).contains(message), "{}", stderr(&out));
    }
}
