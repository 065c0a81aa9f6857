//! Tenant backups with a real Velero (`harmony_testkit::Velero`: `velero server` v1.18 built from
//! its module, the AWS plugin, moto's S3 on loopback) against the real control plane:
//! `harmony tenant apply` writes the tenant's Schedule, which Velero validates (`Enabled`);
//! `tenant backup now` completes; `restore-drill` restores into an isolated scratch namespace,
//! compares, records an Event (and, once the Tenant CRD and the tenant's Tenant exist, its
//! `status.restoreDrill`) and deletes the scratch namespace; a missing or broken location
//! and a final backup that cannot complete delete nothing; `tenant delete --delete-data` takes
//! the final backup, then deletes.

mod common;

use common::harmony_on as harmony;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use harmony_testkit::{ControlPlane, Velero, velero};
use serde_json::Value;

const TENANT: &str = "bk-acme";

/// The tenant file, with `location` as its backup storage location.
fn tenant_file(dir: &Path, location: &str) -> PathBuf {
    let text = format!(
        "apiVersion: harmony.nationtech.io/v1alpha1\nkind: Tenant\nmetadata:\n  name: {TENANT}\n\
         spec:\n  storageAccess:\n    storageClasses: [{{name: standard, requests: 5Gi}}]\n  \
         rbac:\n    members:\n      - {{ name: alice, role: admin, user: alice@acme.example }}\n  \
         backup:\n    schedule: '0 3 * * *'\n    retention: 7d\n    storageLocation: {location}\n"
    );
    let path = dir.join(format!("{TENANT}-{location}.yaml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// A tenant with two namespaces (their quotas add up to the total), backed up to Velero's
/// location.
fn multi_namespace_tenant(dir: &Path) -> PathBuf {
    let share = "{requests: {cpu: '1', memory: 2Gi, ephemeralStorage: 4Gi}, limits: {cpu: '2', \
                 memory: 4Gi, ephemeralStorage: 8Gi}, objects: {pods: 10}}";
    let text = format!(
        "apiVersion: harmony.nationtech.io/v1alpha1\nkind: Tenant\nmetadata:\n  name: bk-multi\n\
         spec:\n  resourceQuotas:\n    requests: {{cpu: '2', memory: 4Gi, ephemeralStorage: 8Gi}}\n    \
         limits: {{cpu: '4', memory: 8Gi, ephemeralStorage: 16Gi}}\n    objects: {{pods: 20}}\n  \
         storageAccess:\n    storageClasses: [{{name: standard, requests: 5Gi}}]\n  \
         namespaces:\n    - {{name: bk-multi-dev, resourceQuotas: {share}}}\n    \
         - {{name: bk-multi-prod, resourceQuotas: {share}}}\n  \
         backup:\n    schedule: '0 3 * * *'\n    retention: 7d\n    storageLocation: {}\n",
        velero::LOCATION
    );
    let path = dir.join("bk-multi.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

fn shown(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn ok(output: &Output) -> Value {
    assert!(output.status.success(), "{}", shown(output));
    serde_json::from_slice(&output.stdout).unwrap_or(Value::Null)
}

fn refused(output: &Output, why: &str) {
    assert_eq!(output.status.code(), Some(1), "{}", shown(output));
    assert!(shown(output).contains(why), "{}", shown(output));
}

fn json(plane: &ControlPlane, args: &[&str]) -> Value {
    serde_json::from_str(&plane.kubectl_run(args).unwrap()).unwrap()
}

fn exists(plane: &ControlPlane, args: &[&str]) -> bool {
    plane
        .kubectl()
        .args(args)
        .output()
        .unwrap()
        .status
        .success()
}

/// The tenant's namespace and Schedule are still there (nothing was deleted).
fn nothing_deleted(plane: &ControlPlane) {
    assert!(exists(plane, &["get", "namespace", TENANT]));
    assert!(exists(
        plane,
        &["get", "configmap", "app-config", "-n", TENANT]
    ));
    assert!(exists(
        plane,
        &[
            "get",
            "schedules.velero.io",
            &format!("tenant-{TENANT}"),
            "-n",
            velero::NAMESPACE
        ]
    ));
}

/// Applies the Tenant CRD of `harmony operator install --out` (nothing else of the install) and
/// waits until it is served.
fn install_tenant_crd(plane: &ControlPlane, dir: &Path) {
    let out = dir.join("operator");
    Command::cargo_bin("harmony")
        .unwrap()
        .args(["operator", "install", "--out"])
        .arg(&out)
        .args(["--image", "registry.example.com/harmony:test"])
        .assert()
        .success();
    let crd = out.join("00-customresourcedefinition-tenants.harmony.nationtech.io.yaml");
    plane
        .kubectl_run(&["apply", "--server-side", "-f", crd.to_str().unwrap()])
        .unwrap();
    plane.wait_crds(&["tenants.harmony.nationtech.io"]).unwrap();
}

#[test]
fn backups_drills_and_the_final_backup_with_a_real_velero() {
    let plane = ControlPlane::shared();
    let _logs = plane.failure_guard();
    let mut velero = Velero::start(plane).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = tenant_file(dir.path(), velero::LOCATION);
    let file = file.to_str().unwrap();

    // Before the tenant is applied it has no Schedule.
    let status = harmony(plane, &["tenant", "backup", "status", TENANT]);
    refused(
        &status,
        "tenant `bk-acme` has no backup Schedule (`tenant-bk-acme`",
    );

    // The Schedule: in Velero's namespace, the tenant namespace only, validated by Velero.
    let applied = harmony(plane, &["tenant", "apply", "-f", file]);
    ok(&applied);
    let schedule_name = format!("tenant-{TENANT}");
    let schedule = json(
        plane,
        &[
            "get",
            "schedules.velero.io",
            &schedule_name,
            "-n",
            "velero",
            "-o",
            "json",
        ],
    );
    assert_eq!(
        schedule["metadata"]["labels"]["harmony.nationtech.io/tenant"],
        TENANT
    );
    assert_eq!(
        schedule["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "harmony"
    );
    assert_eq!(
        schedule["spec"]["template"]["includedNamespaces"],
        serde_json::json!([TENANT])
    );
    assert_eq!(
        schedule["spec"]["template"]["includeClusterResources"],
        false
    );
    assert_eq!(schedule["spec"]["template"]["ttl"], "168h0m0s");
    let enabled = (0..60).any(|_| {
        let phase = plane
            .kubectl_run(&[
                "get",
                "schedules.velero.io",
                &schedule_name,
                "-n",
                "velero",
                "-o",
                "jsonpath={.status.phase}",
            ])
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(500));
        phase == "Enabled"
    });
    assert!(enabled, "Velero did not accept the Schedule");
    // Re-applying changes nothing.
    let plan = harmony(plane, &["tenant", "plan", "-f", file]);
    assert_eq!(plan.status.code(), Some(0), "{}", shown(&plan));

    // The tenant's data.
    let data = dir.path().join("data.yaml");
    std::fs::write(
        &data,
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app-config, namespace: {TENANT}}}\ndata: {{mode: prod}}\n---\n\
             apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app-flags, namespace: {TENANT}}}\ndata: {{beta: 'true'}}\n---\n\
             apiVersion: v1\nkind: Secret\nmetadata: {{name: app-secret, namespace: {TENANT}}}\nstringData: {{token: not-a-real-token}}\n---\n\
             apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {{name: data, namespace: {TENANT}}}\n\
             spec: {{storageClassName: standard, accessModes: [ReadWriteOnce], resources: {{requests: {{storage: 1Gi}}}}}}\n"
        ),
    )
    .unwrap();
    plane
        .kubectl_run(&["apply", "--server-side", "-f", data.to_str().unwrap()])
        .unwrap();

    // A location that does not exist: refused, nothing created.
    let missing = tenant_file(dir.path(), "nowhere");
    ok(&harmony(
        plane,
        &["tenant", "apply", "-f", missing.to_str().unwrap()],
    ));
    let now = harmony(
        plane,
        &["tenant", "backup", "now", TENANT, "--timeout", "60s"],
    );
    refused(
        &now,
        "backup location `nowhere` does not exist in namespace `velero`",
    );
    ok(&harmony(plane, &["tenant", "apply", "-f", file]));

    // No backup yet: no drill.
    let drill = harmony(plane, &["tenant", "restore-drill", TENANT, "-f", file]);
    refused(
        &drill,
        "tenant `bk-acme` has no completed backup to restore: take one with",
    );

    // Backup now.
    let backup = ok(&harmony(
        plane,
        &[
            "tenant",
            "backup",
            "now",
            TENANT,
            "--timeout",
            "120s",
            "-o",
            "json",
        ],
    ));
    assert_eq!(backup["phase"], "Completed", "{backup}");
    assert_eq!(backup["purpose"], "manual");
    assert!(backup["items"].as_u64().unwrap() >= 4, "{backup}");
    let name = backup["name"].as_str().unwrap().to_string();
    let list = ok(&harmony(
        plane,
        &["tenant", "backup", "list", TENANT, "-o", "json"],
    ));
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|b| b["name"] == name.as_str()),
        "{list}"
    );
    let status = ok(&harmony(
        plane,
        &["tenant", "backup", "status", TENANT, "-o", "json"],
    ));
    assert_eq!(status["phase"], "Enabled", "{status}");
    assert_eq!(status["latestCompleted"]["name"], name.as_str(), "{status}");

    // The same for people.
    let text = harmony(plane, &["tenant", "backup", "status", TENANT]);
    let text = shown(&text);
    eprintln!("$ harmony tenant backup status {TENANT}\n{text}");
    assert!(
        text.contains(&format!(
            "tenant {TENANT}: Schedule velero/tenant-{TENANT} `0 3 * * *` Enabled"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("latest completed: {name}")),
        "{text}"
    );
    let text = shown(&harmony(plane, &["tenant", "backup", "list", TENANT]));
    eprintln!("$ harmony tenant backup list {TENANT}\n{text}");
    assert!(text.contains(&name) && text.contains("manual"), "{text}");

    // The restore drill: passes, compares by kind, records an Event, removes the scratch namespace.
    let drill = harmony(
        plane,
        &[
            "tenant",
            "restore-drill",
            TENANT,
            "-f",
            file,
            "--timeout",
            "120s",
        ],
    );
    let text = shown(&drill);
    eprintln!("$ harmony tenant restore-drill {TENANT} -f {TENANT}.yaml\n{text}");
    assert!(drill.status.success(), "{text}");
    assert!(
        text.contains(&format!("restore drill of tenant {TENANT}: passed")),
        "{text}"
    );
    // No Tenant resource (the CRD is not installed): nothing recorded beyond the Event.
    assert!(!text.contains("recorded in Tenant"), "{text}");

    // With the Tenant CRD (as `harmony operator install` renders it) and the tenant file applied
    // as a Tenant, the drill also records its result in the Tenant's status.
    install_tenant_crd(plane, dir.path());
    plane
        .kubectl_run(&["apply", "--server-side", "-f", file])
        .unwrap();
    let drill = harmony(
        plane,
        &[
            "tenant",
            "restore-drill",
            TENANT,
            "-f",
            file,
            "--timeout",
            "120s",
            "-o",
            "json",
        ],
    );
    let report = ok(&drill);
    assert_eq!(report["passed"], true, "{report}");
    assert_eq!(report["backup"], name.as_str());
    assert_eq!(report["cleanedUp"], true, "{report}");
    let kinds = report["comparison"]["kinds"].as_array().unwrap();
    let count = |kind: &str| {
        let k = kinds
            .iter()
            .find(|k| k["kind"] == kind)
            .unwrap_or_else(|| panic!("{kind}: {report}"));
        (
            k["backedUp"].as_u64().unwrap(),
            k["restored"].as_u64().unwrap(),
        )
    };
    assert_eq!(count("ConfigMap"), (2, 2), "{report}");
    assert_eq!(count("Secret"), (1, 1), "{report}");
    assert_eq!(count("PersistentVolumeClaim"), (1, 1), "{report}");
    assert_eq!(report["statusRecorded"], true, "{report}");
    let tenant = json(
        plane,
        &["get", "tenants.harmony.nationtech.io", TENANT, "-o", "json"],
    );
    let recorded = &tenant["status"]["restoreDrill"];
    eprintln!(
        "$ kubectl get tenants.harmony.nationtech.io {TENANT} -o jsonpath='{{.status.restoreDrill}}'\n{recorded}"
    );
    assert_eq!(recorded["backup"], name.as_str(), "{tenant}");
    assert_eq!(recorded["passed"], true, "{tenant}");
    assert!(
        recorded["summary"]
            .as_str()
            .unwrap()
            .starts_with("Velero Completed, 4 objects back"),
        "{tenant}"
    );
    assert!(
        recorded["time"].as_str().unwrap().ends_with('Z'),
        "{tenant}"
    );
    let scratch = report["scratchNamespace"].as_str().unwrap();
    assert!(!exists(plane, &["get", "namespace", scratch]));
    let events = json(plane, &["get", "events", "-n", TENANT, "-o", "json"]);
    assert!(
        events["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["reason"] == "RestoreDrillPassed"),
        "{events}"
    );

    // A tenant with two namespaces: one Restore maps each into its own isolated scratch
    // namespace, and the comparison names the tenant's namespaces.
    let multi = multi_namespace_tenant(dir.path());
    let multi = multi.to_str().unwrap();
    ok(&harmony(plane, &["tenant", "apply", "-f", multi]));
    let data = dir.path().join("multi-data.yaml");
    std::fs::write(
        &data,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: bk-multi-dev}\ndata: {mode: dev}\n---\n\
         apiVersion: v1\nkind: Secret\nmetadata: {name: keys, namespace: bk-multi-prod}\nstringData: {token: not-a-real-token}\n",
    )
    .unwrap();
    plane
        .kubectl_run(&["apply", "--server-side", "-f", data.to_str().unwrap()])
        .unwrap();
    let backup = ok(&harmony(
        plane,
        &[
            "tenant",
            "backup",
            "now",
            "bk-multi",
            "--timeout",
            "120s",
            "-o",
            "json",
        ],
    ));
    assert_eq!(backup["phase"], "Completed", "{backup}");
    let drill = harmony(
        plane,
        &[
            "tenant",
            "restore-drill",
            "bk-multi",
            "-f",
            multi,
            "--timeout",
            "120s",
            "-o",
            "json",
        ],
    );
    let report = ok(&drill);
    eprintln!("$ harmony tenant restore-drill bk-multi -f multi.yaml -o json\n{report}");
    assert_eq!(report["passed"], true, "{report}");
    let scratch = report["scratchNamespaces"].as_array().unwrap();
    let sources: Vec<&str> = scratch
        .iter()
        .map(|n| n["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["bk-multi-dev", "bk-multi-prod"], "{report}");
    for n in scratch {
        let name = n["scratch"].as_str().unwrap();
        assert!(name.starts_with("bk-multi-drill-"), "{report}");
        assert!(
            !exists(plane, &["get", "namespace", name]),
            "{name} is gone"
        );
    }
    let kinds = report["comparison"]["kinds"].as_array().unwrap();
    let counted = |kind: &str| {
        kinds.iter().find(|k| k["kind"] == kind).map(|k| {
            (
                k["backedUp"].as_u64().unwrap(),
                k["restored"].as_u64().unwrap(),
            )
        })
    };
    assert_eq!(counted("ConfigMap"), Some((1, 1)), "{report}");
    assert_eq!(counted("Secret"), Some((1, 1)), "{report}");

    // A broken location: the drill fails (exit 1), a final backup is refused, nothing deleted.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_port = dead.local_addr().unwrap().port();
    drop(dead);
    velero.point_location_at(plane, dead_port).unwrap();
    velero.wait_location(plane, "Unavailable").unwrap();
    let drill = harmony(
        plane,
        &[
            "tenant",
            "restore-drill",
            TENANT,
            "-f",
            file,
            "--timeout",
            "60s",
        ],
    );
    refused(&drill, "is Unavailable");
    eprintln!(
        "$ harmony tenant restore-drill {TENANT} (broken location)\n{}",
        shown(&drill)
    );
    let delete = harmony(
        plane,
        &[
            "tenant",
            "delete",
            TENANT,
            "--delete-data",
            "--timeout",
            "60s",
        ],
    );
    refused(&delete, "nothing of tenant bk-acme was deleted");
    nothing_deleted(plane);
    velero.repair_location(plane).unwrap();
    velero.wait_location(plane, "Available").unwrap();

    // A final backup that never completes (no Velero server to take it): timeout, nothing deleted.
    velero.stop_server();
    let delete = harmony(
        plane,
        &[
            "tenant",
            "delete",
            TENANT,
            "--delete-data",
            "--backup-timeout",
            "3s",
        ],
    );
    eprintln!(
        "$ harmony tenant delete {TENANT} --delete-data --backup-timeout 3s\n{}",
        shown(&delete)
    );
    refused(&delete, "did not complete within 3s (still New)");
    nothing_deleted(plane);
    velero.start_server().unwrap();

    // Offboarding: the final backup completes first, then the tenant goes; the backups stay.
    let delete = harmony(
        plane,
        &[
            "tenant",
            "delete",
            TENANT,
            "--delete-data",
            "--backup-timeout",
            "120s",
            "--timeout",
            "120s",
        ],
    );
    let out = shown(&delete);
    eprintln!("$ harmony tenant delete {TENANT} --delete-data\n{out}");
    assert!(delete.status.success(), "{out}");
    let final_at = out.find("final backup velero/bk-acme-final-").expect(&out);
    let deleted_at = out.find("tenant bk-acme deleted").expect(&out);
    assert!(final_at < deleted_at, "{out}");
    assert!(!exists(plane, &["get", "namespace", TENANT]));
    assert!(!exists(
        plane,
        &["get", "schedules.velero.io", &schedule_name, "-n", "velero"]
    ));
    let backups = json(
        plane,
        &[
            "get",
            "backups.velero.io",
            "-n",
            "velero",
            "-l",
            &format!("harmony.nationtech.io/tenant={TENANT}"),
            "-o",
            "json",
        ],
    );
    let purposes: Vec<&str> = backups["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["status"]["phase"] == "Completed")
        .filter_map(|b| b["metadata"]["labels"]["harmony.nationtech.io/backup"].as_str())
        .collect();
    assert!(
        purposes.contains(&"final") && purposes.contains(&"manual"),
        "{purposes:?}"
    );
}
