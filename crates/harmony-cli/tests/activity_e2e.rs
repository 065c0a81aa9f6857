//! On a real kube-apiserver (`harmony_testkit::ControlPlane`) started with the policy `harmony
//! cluster audit-policy render` writes: two tenants applied by `harmony tenant apply`; acme's
//! members act through impersonation (kubectl `--as`), one of them tries globex's Secrets and is
//! refused; `harmony tenant activity` names who did what, the cross-tenant refusal first, and
//! the raw log holds no Secret or ConfigMap value while a Deployment's body is recorded.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{harmony, ok};
use harmony_testkit::{ControlPlane, ControlPlaneOptions};
use serde_json::Value;

/// A value that must never reach the audit log.
const SECRET_VALUE: &str = "s3cr3t-never-logged-7f3a9c";
/// The same, base64-encoded as the Secret's `data` carries it.
const SECRET_BASE64: &str = "czNjcjN0LW5ldmVyLWxvZ2dlZC03ZjNhOWM=";
/// A ConfigMap value: ConfigMaps are recorded at metadata too.
const CONFIG_VALUE: &str = "config-never-logged-41b2";

fn tenant_files(dir: &Path) -> PathBuf {
    let tenants = dir.join("tenants");
    std::fs::create_dir(&tenants).unwrap();
    std::fs::write(
        tenants.join("acme.yaml"),
        "apiVersion: harmony.nationtech.io/v1alpha1\nkind: Tenant\nmetadata:\n  name: acme\nspec:\n  rbac:\n    members:\n      - { name: alice, role: admin, user: alice@acme.test }\n      - { name: devs, role: developer, group: acme-devs }\n",
    )
    .unwrap();
    std::fs::write(
        tenants.join("globex.yaml"),
        "apiVersion: harmony.nationtech.io/v1alpha1\nkind: Tenant\nmetadata:\n  name: globex\nspec:\n  rbac:\n    members:\n      - { name: hank, role: admin, user: hank@globex.test }\n",
    )
    .unwrap();
    tenants
}

/// The audit log's final-stage events, once `count` of them match `matches`.
fn wait_for_events(log: &Path, count: usize, matches: impl Fn(&Value) -> bool) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let events: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("kube-apiserver writes JSON lines"))
            .collect();
        if events.iter().filter(|e| matches(e)).count() >= count {
            return events;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "fewer than {count} matching events in {}",
            log.display()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_members_actions_and_cross_tenant_refusal_are_reported_and_no_secret_is_logged() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("audit-policy.yaml");
    let rendered = ok(&harmony(&[
        "cluster",
        "audit-policy",
        "render",
        "--out",
        policy.to_str().unwrap(),
    ]));
    assert!(rendered.starts_with("wrote "), "{rendered}");
    let log = dir.path().join("audit.log");
    let plane = ControlPlane::start_with(ControlPlaneOptions::audited(&policy, &log))
        .expect("kube-apiserver accepts the rendered policy");
    let _logs = plane.failure_guard();
    let tenants = tenant_files(dir.path());
    let tenants = tenants.to_str().unwrap();
    let kubeconfig = plane.kubeconfig();
    ok(&harmony(&[
        "tenant",
        "apply",
        "-f",
        tenants,
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--pod-network",
        &plane.pod_network().to_string(),
        "--service-network",
        &plane.service_network().to_string(),
    ]));

    let alice = ["--as", "alice@acme.test"];
    let run = |args: &[&str]| plane.kubectl_run(args);
    run(&[&alice[..], &["get", "pods", "-n", "acme"]].concat()).expect("alice lists pods");
    run(&[
        &alice[..],
        &[
            "create",
            "configmap",
            "settings",
            "-n",
            "acme",
            &format!("--from-literal=mode={CONFIG_VALUE}"),
        ],
    ]
    .concat())
    .expect("alice creates a ConfigMap");
    run(&[
        &alice[..],
        &[
            "create",
            "secret",
            "generic",
            "db",
            "-n",
            "acme",
            &format!("--from-literal=password={SECRET_VALUE}"),
        ],
    ]
    .concat())
    .expect("alice creates a Secret");
    run(&[
        &alice[..],
        &[
            "create",
            "deployment",
            "web",
            "-n",
            "acme",
            "--image=registry.example.com/web:1.0",
        ],
    ]
    .concat())
    .expect("alice creates a Deployment");
    let refused = run(&[&alice[..], &["get", "secrets", "-n", "globex"]].concat())
        .expect_err("alice may not list globex's Secrets");
    assert!(refused.to_string().contains("forbidden"), "{refused}");
    run(&[
        "--as",
        "bob@acme.test",
        "--as-group",
        "acme-devs",
        "get",
        "configmaps",
        "-n",
        "acme",
    ])
    .expect("a member through its group lists ConfigMaps");

    let is_alice = |e: &Value| e["impersonatedUser"]["username"] == "alice@acme.test";
    let events = wait_for_events(&log, 5, |e| {
        is_alice(e) || e["impersonatedUser"]["username"] == "bob@acme.test"
    });

    // The raw log: no Secret or ConfigMap value anywhere, Secrets at metadata, the
    // Deployment's body recorded, and each request once (no RequestReceived stage).
    let raw = std::fs::read_to_string(&log).unwrap();
    assert!(
        !raw.contains(SECRET_VALUE) && !raw.contains(SECRET_BASE64),
        "the Secret's value is in the audit log"
    );
    assert!(
        !raw.contains(CONFIG_VALUE),
        "the ConfigMap's value is in the audit log"
    );
    let alice_event = |resource: &str, verb: &str| {
        events
            .iter()
            .find(|e| is_alice(e) && e["objectRef"]["resource"] == resource && e["verb"] == verb)
            .unwrap_or_else(|| panic!("no {verb} {resource} by alice"))
    };
    let secret = alice_event("secrets", "create");
    assert_eq!(secret["level"], "Metadata");
    assert!(secret.get("requestObject").is_none());
    let deployment = alice_event("deployments", "create");
    assert_eq!(deployment["level"], "RequestResponse");
    assert_eq!(deployment["requestObject"]["metadata"]["name"], "web");
    assert!(events.iter().all(|e| e["stage"] != "RequestReceived"));

    // `harmony tenant activity acme` over the log, with `more` arguments.
    let activity = |more: &[&str]| {
        let log = log.to_str().unwrap();
        let args = [
            "tenant",
            "activity",
            "acme",
            "--audit-log",
            log,
            "-f",
            tenants,
        ];
        ok(&harmony(&[&args[..], more].concat()))
    };
    let out = activity(&["-o", "json"]);
    let report: Value = serde_json::from_str(&out).unwrap();
    let acme = &report["tenants"][0];
    assert_eq!(report["tenants"].as_array().unwrap().len(), 1);
    assert_eq!(acme["tenant"], "acme");
    let first = &acme["attention"][0];
    assert_eq!(first["crossTenant"], true, "{acme:#}");
    assert_eq!(first["refused"], true);
    assert_eq!(first["user"], "alice@acme.test");
    assert_eq!(first["members"], serde_json::json!(["alice"]));
    assert_eq!(first["verb"], "list");
    assert_eq!(first["resource"], "secrets");
    assert_eq!(first["namespace"], "globex");
    assert_eq!(first["owner"], "globex");
    assert_eq!(first["code"], 403);

    let actor = |user: &str| {
        acme["actors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["user"] == user)
            .unwrap_or_else(|| panic!("no {user} in {acme:#}"))
            .clone()
    };
    let alice = actor("alice@acme.test");
    assert_eq!(alice["members"], serde_json::json!(["alice"]));
    assert_eq!(alice["impersonatedBy"][0], "harmony-test-admin");
    assert_eq!(alice["refused"], 1);
    assert_eq!(alice["crossTenant"], 1);
    let did =
        |verb: &str, resource: &str, namespace: &str| {
            alice["actions"].as_array().unwrap().iter().any(|a| {
                a["verb"] == verb && a["resource"] == resource && a["namespace"] == namespace
            })
        };
    assert!(did("list", "pods", "acme"), "{alice:#}");
    assert!(did("create", "configmaps", "acme"), "{alice:#}");
    assert!(did("create", "secrets", "acme"), "{alice:#}");
    assert!(did("create", "deployments.apps", "acme"), "{alice:#}");
    assert!(did("list", "secrets", "globex"), "{alice:#}");
    let bob = actor("bob@acme.test");
    assert_eq!(bob["members"], serde_json::json!(["devs"]));

    // The text report says the same, the refusal before the activity.
    let text = activity(&["--since", "1h"]);
    let refusal = text
        .find("CROSS-TENANT, REFUSED: alice@acme.test (member alice): list secrets in globex (tenant globex): 403 Forbidden")
        .unwrap_or_else(|| panic!("{text}"));
    assert!(refusal < text.find("  activity:").unwrap(), "{text}");
    assert!(!text.contains(SECRET_VALUE));
}

/// OpenShift's own APIServer CRD (`github.com/openshift/api`, the version
/// `tools/controlplane/build` pins), from Go's module cache (`go mod download`).
fn apiserver_crd() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let build = std::fs::read_to_string(workspace.join("tools/controlplane/build")).unwrap();
    let module = build
        .lines()
        .find_map(|l| l.strip_prefix("openshift_api="))
        .and_then(|v| v.split_whitespace().next())
        .expect("tools/controlplane/build pins openshift_api");
    let go = ["go", "/usr/local/go/bin/go"]
        .into_iter()
        .find(|go| {
            std::process::Command::new(go)
                .arg("version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .expect("Go (tools/controlplane/build needs it too)");
    let scratch = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(go)
        .args(["mod", "download", "-json", module])
        .current_dir(scratch.path())
        .output()
        .unwrap();
    let info: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let dir = info["Dir"].as_str().unwrap_or_else(|| panic!("{info}"));
    Path::new(dir)
        .join("config/v1/zz_generated.crd-manifests/0000_10_config-operator_01_apiservers-Default.crd.yaml")
}

#[test]
fn the_okd_rendering_is_accepted_by_openshifts_apiserver_crd_as_rendered() {
    let plane = ControlPlane::start().unwrap();
    let _logs = plane.failure_guard();
    let crd = apiserver_crd();
    plane
        .kubectl_run(&["apply", "--server-side", "-f", crd.to_str().unwrap()])
        .unwrap();
    plane
        .wait_crds(&["apiservers.config.openshift.io"])
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let tenants = tenant_files(dir.path());
    let rendered = dir.path().join("apiserver.yaml");
    ok(&harmony(&[
        "cluster",
        "audit-policy",
        "render",
        "--flavor",
        "okd",
        "-f",
        tenants.to_str().unwrap(),
        "--out",
        rendered.to_str().unwrap(),
    ]));
    plane
        .kubectl_run(&["apply", "--server-side", "-f", rendered.to_str().unwrap()])
        .expect("the CRD's schema accepts the rendered APIServer");
    let stored: Value = serde_json::from_str(
        &plane
            .kubectl_run(&["get", "apiserver", "cluster", "-o", "json"])
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        stored["spec"]["audit"],
        serde_json::json!({"profile": "Default", "customRules": [
            {"group": "acme-devs", "profile": "WriteRequestBodies"},
            {"group": "system:serviceaccounts:acme", "profile": "WriteRequestBodies"},
            {"group": "system:serviceaccounts:globex", "profile": "WriteRequestBodies"},
        ]})
    );
    // The schema is enforced: a profile OKD does not know is refused.
    let wrong = std::fs::read_to_string(&rendered).unwrap().replacen(
        "WriteRequestBodies",
        "WriteBodies",
        1,
    );
    std::fs::write(&rendered, wrong).unwrap();
    let refused = plane
        .kubectl_run(&["apply", "--server-side", "-f", rendered.to_str().unwrap()])
        .expect_err("an unknown profile is refused");
    assert!(
        refused.to_string().contains("Unsupported value"),
        "{refused}"
    );
}
