//! `harmony tenant activity` and `harmony cluster audit-policy render` as processes, without a
//! cluster: every refusal with its exit code and message, malformed lines reported with file
//! and line while the rest is counted, gzip and rotated files, CSV; the policy files written.

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
    serde_json::json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
        "auditID": "5d7b", "stage": "ResponseComplete", "verb": verb,
        "requestURI": format!("/api/v1/namespaces/{namespace}/{resource}"),
        "user": {"username": user, "groups": ["system:authenticated"]},
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
