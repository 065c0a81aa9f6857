//! `spec.backup` as a user writes it, without a cluster: refusals located at file:line:col, and
//! the rendered Schedule (in Velero's namespace) only where the cluster profile says Velero runs.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

const TENANT: &str =
    "apiVersion: harmony.nationtech.io/v1alpha1\nkind: Tenant\nmetadata:\n  name: acme\nspec:\n";

fn harmony() -> Command {
    Command::cargo_bin("harmony").unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn a_schedule_that_does_not_parse_or_a_bad_retention_is_refused_where_written() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(
        tmp.path(),
        "t.yaml",
        &format!("{TENANT}  backup:\n    schedule: '0 25 * * *'\n    retention: 30 days\n"),
    );
    harmony()
        .args(["tenant", "render", "-o", "yaml", "-f", &file])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains(format!(
            "{file}:7:15: spec.backup.schedule: `0 25 * * *` is not a schedule Velero accepts: \
             hour 25 is out of 0-23; write 5 fields"
        )))
        .stderr(predicate::str::contains(format!(
            "{file}:8:16: spec.backup.retention: `30 days` is not a retention: write days, hours \
             or minutes, such as `30d`"
        )))
        .stderr(predicate::str::contains(
            "2 problems found; nothing was written",
        ));
    let four_fields = write(
        tmp.path(),
        "u.yaml",
        &format!("{TENANT}  backup: {{schedule: '@every 30s'}}\n"),
    );
    harmony()
        .args(["tenant", "validate", "-f", &four_fields])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("`@every 30s` is under a minute"));
}

#[test]
fn the_schedule_is_rendered_only_where_velero_runs_and_the_output_says_why_not() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(
        tmp.path(),
        "t.yaml",
        &format!("{TENANT}  displayName: Acme\n"),
    );
    let profile = write(
        tmp.path(),
        "p.yaml",
        "apiVersion: harmony.nationtech.io/v1alpha1\nkind: ClusterProfile\nmetadata: { name: lab }\nspec:\n  veleroNamespace: velero\n",
    );
    let out = tmp.path().join("out");
    harmony()
        .args([
            "tenant",
            "render",
            "-f",
            &file,
            "--cluster",
            &profile,
            "--out",
        ])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "created 38-schedule-tenant-acme.yaml",
        ));
    let schedule = fs::read_to_string(out.join("acme/38-schedule-tenant-acme.yaml")).unwrap();
    for line in [
        "apiVersion: velero.io/v1",
        "kind: Schedule",
        "namespace: velero",
        "harmony.nationtech.io/tenant: acme",
        "schedule: 0 2 * * *",
        "includeClusterResources: false",
        "ttl: 720h0m0s",
    ] {
        assert!(schedule.contains(line), "{line} not in\n{schedule}");
    }
    let plain = tmp.path().join("plain");
    harmony()
        .args(["tenant", "render", "-f", &file, "--out"])
        .arg(&plain)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "backups off: Velero/OADP not found (the cluster does not serve velero.io",
        ));
    assert!(!plain.join("acme/38-schedule-tenant-acme.yaml").exists());
}

#[test]
fn a_profile_naming_no_namespace_for_velero_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "t.yaml", TENANT);
    let profile = write(
        tmp.path(),
        "p.yaml",
        "apiVersion: harmony.nationtech.io/v1alpha1\nkind: ClusterProfile\nmetadata: { name: lab }\nspec:\n  veleroNamespace: Velero NS\n",
    );
    harmony()
        .args([
            "tenant",
            "render",
            "-o",
            "yaml",
            "-f",
            &file,
            "--cluster",
            &profile,
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!(
            "{profile}:5:20: spec.veleroNamespace: is not a namespace name"
        )));
}
