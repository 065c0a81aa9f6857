//! Per-tenant monitoring on a real control plane (`harmony_testkit::ControlPlane`) with the
//! prometheus-operator CRDs installed and the four monitoring ClusterRoles as `harmony cluster
//! monitoring` renders them (OKD's): `harmony tenant apply` creates each tenant's
//! monitoring RoleBindings, PrometheusRule and AlertmanagerConfig, valid against the CRD schemas
//! (strict field validation), a re-apply writes nothing, and tenant members, impersonated, get
//! exactly their monitoring rights: in their namespace only. A tenant that turns monitoring off
//! has its monitoring objects pruned.

mod common;

use common::on_plane as harmony;
use harmony_tenant::PlanObject;
use std::path::{Path, PathBuf};
use std::process::Output;

use harmony_guardrails::monitoring::roles::tenant_roles;
use harmony_tenant::{ClusterFacts, TenantObject, TenantScore, compile};
use harmony_testkit::ControlPlane;
use predicates::prelude::*;
use serde_json::Value;

/// A tenant with an admin, a developer and a viewer group; `monitoring` is its indented
/// `spec.monitoring`, if any.
fn tenant_file(dir: &Path, name: &str, monitoring: &str) -> PathBuf {
    let text = format!(
        "apiVersion: harmony.nationtech.io/v1alpha1\nkind: Tenant\nmetadata:\n  name: {name}\nspec:\n  rbac:\n    members:\n      - {{ name: alice, role: admin, user: alice@{name}.example }}\n      - {{ name: dev, role: developer, user: dev@{name}.example }}\n      - {{ name: view, role: viewer, group: {name}-viewers }}\n{monitoring}"
    );
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, text).unwrap();
    path
}

const RECEIVERS: &str = "  monitoring:\n    receivers:\n      - name: ops\n        email: {to: ops@acme.example, smarthost: 'smtp.acme.example:587', authUsername: alerts, authPassword: {name: smtp, key: password}}\n      - name: chat\n        webhook: {urlSecret: {name: chat-hook, key: url}}\n";

/// kubectl as `user` in `groups` (impersonated, as `kubectl --as`).
fn kubectl_as(plane: &ControlPlane, user: &str, groups: &[&str], args: &[&str]) -> Output {
    let mut cmd = plane.kubectl();
    cmd.args(["--as", user]);
    for group in groups {
        cmd.args(["--as-group", group]);
    }
    cmd.args(args).output().unwrap()
}

fn allowed(output: &Output) -> bool {
    output.status.success()
}

fn forbidden(output: &Output) -> bool {
    !output.status.success() && String::from_utf8_lossy(&output.stderr).contains("forbidden")
}

fn json(plane: &ControlPlane, args: &[&str]) -> Value {
    serde_json::from_str(&plane.kubectl_run(args).unwrap()).unwrap()
}

fn service_monitor(dir: &Path, namespace: &str) -> PathBuf {
    let path = dir.join(format!("servicemonitor-{namespace}.yaml"));
    std::fs::write(
        &path,
        format!(
            "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n  name: web\n  namespace: {namespace}\nspec:\n  selector: {{matchLabels: {{app: web}}}}\n  endpoints: [{{port: metrics, interval: 30s, path: /metrics}}]\n"
        ),
    )
    .unwrap();
    path
}

fn prometheus_rule(dir: &Path, namespace: &str) -> PathBuf {
    let path = dir.join(format!("rule-{namespace}.yaml"));
    std::fs::write(
        &path,
        format!(
            "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n  name: mine\n  namespace: {namespace}\nspec:\n  groups: [{{name: g, rules: [{{alert: A, expr: 'up == 0'}}]}}]\n"
        ),
    )
    .unwrap();
    path
}

#[test]
fn tenants_get_their_monitoring_objects_and_rights_in_their_namespace_only() {
    let plane = ControlPlane::shared();
    let _logs = plane.failure_guard();
    plane.install_monitoring_crds().unwrap();
    plane.apply(&tenant_roles()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (
        ControlPlane::unique_name("mon-a"),
        ControlPlane::unique_name("mon-b"),
    );
    let files = [
        tenant_file(dir.path(), &a, RECEIVERS),
        tenant_file(dir.path(), &b, ""),
    ];
    let files: Vec<&str> = files.iter().map(|f| f.to_str().unwrap()).collect();
    let mut apply = vec!["tenant", "apply", "-f"];
    apply.extend(&files);
    harmony(plane, &apply)
        .assert()
        .success()
        .stdout(predicate::str::is_match(format!(r"{a}\s+\d+\s+0\s+0\s+0\s+ok")).unwrap());

    // The objects exist, as planned.
    let bindings = json(plane, &["get", "rolebindings", "-n", &a, "-o", "json"]);
    let mut names: Vec<&str> = bindings["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["metadata"]["name"].as_str().unwrap())
        .filter(|n| !n.starts_with("member-"))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "alert-routing-edit",
            "monitoring-edit",
            "monitoring-rules-view"
        ]
    );
    let rule = json(
        plane,
        &[
            "get",
            "prometheusrule",
            "tenant-alerts",
            "-n",
            &a,
            "-o",
            "json",
        ],
    );
    let config = json(
        plane,
        &[
            "get",
            "alertmanagerconfig",
            "tenant-receivers",
            "-n",
            &a,
            "-o",
            "json",
        ],
    );
    assert_eq!(config["apiVersion"], "monitoring.coreos.com/v1beta1");
    let no_config = plane.kubectl_run(&["get", "alertmanagerconfigs", "-n", &b, "-o", "name"]);
    assert_eq!(
        no_config.unwrap().trim(),
        "",
        "no receivers, no AlertmanagerConfig"
    );

    // The stored specs are the rendered ones (nothing pruned by the CRD schemas), and the
    // rendered objects pass strict (unknown-field) validation against them.
    let facts = ClusterFacts {
        monitoring_api: true,
        ..ClusterFacts::kubernetes()
    };
    let score: TenantScore = harmony::Documents::read(&[Path::new(files[0])])
        .unwrap()
        .load::<TenantScore>(&facts)
        .unwrap()
        .remove(0);
    for object in compile(&score, &facts).objects() {
        let stored = match object {
            TenantObject::PrometheusRule(_) => &rule,
            TenantObject::AlertmanagerConfig(_) => &config,
            _ => continue,
        };
        let mut rendered = object.to_json();
        assert_eq!(stored["spec"], rendered["spec"], "{}", object.kind());
        // Under a free name, so the server-side dry run gets past its name check.
        rendered["metadata"]["name"] = "strict-check".into();
        let path = dir.path().join(format!("{}.json", object.kind()));
        std::fs::write(&path, rendered.to_string()).unwrap();
        plane
            .kubectl_run(&[
                "create",
                "--dry-run=server",
                "--validate=strict",
                "-f",
                path.to_str().unwrap(),
            ])
            .unwrap();
    }

    // Re-applying writes nothing.
    let mut again = apply.clone();
    again.extend(["-o", "json"]);
    let out = harmony(plane, &again)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report: Value = serde_json::from_slice(&out).unwrap();
    let tenants = report.as_array().unwrap();
    assert_eq!(tenants.len(), 2, "{report:#}");
    assert!(
        tenants
            .iter()
            .all(|t| t["created"] == 0 && t["changed"] == 0 && t["pruned"] == 0),
        "{report:#}"
    );

    // With the cluster guardrails, Harmony's rules and routing are Harmony's alone: a tenant admin
    // may not delete them (server-side dry runs, until the API server has loaded the policy).
    let guardrails = dir.path().join("guardrails.yaml");
    std::fs::write(
        &guardrails,
        "apiVersion: harmony.nationtech.io/v1alpha1\nkind: ClusterGuardrails\nmetadata:\n  name: cluster\nspec:\n  networkTiers: disabled\n",
    )
    .unwrap();
    let mut guard = vec!["cluster", "guardrails", "apply", "-f"];
    guard.extend(&files);
    guard.extend(["--guardrails", guardrails.to_str().unwrap()]);
    harmony(plane, &guard).assert().success();
    let admin = format!("alice@{a}.example");
    for (kind, name) in [
        ("prometheusrule", "tenant-alerts"),
        ("alertmanagerconfig", "tenant-receivers"),
    ] {
        let mut attempts = 0;
        let refused = loop {
            let out = kubectl_as(
                plane,
                &admin,
                &["system:authenticated"],
                &["delete", kind, name, "-n", &a, "--dry-run=server"],
            );
            attempts += 1;
            if !out.status.success() || attempts == 30 {
                break out;
            }
            std::thread::sleep(std::time::Duration::from_secs(1));
        };
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(stderr.contains("managed by Harmony"), "{kind}: {stderr}");
    }

    // Members, impersonated: their monitoring rights, in their namespace only.
    let developer = format!("dev@{a}.example");
    let viewers = format!("{a}-viewers");
    let auth = "system:authenticated";
    let monitor_a = service_monitor(dir.path(), &a);
    let monitor_a = monitor_a.to_str().unwrap();
    let monitor_b = service_monitor(dir.path(), &b);
    let rule_a = prometheus_rule(dir.path(), &a);
    let rule_a = rule_a.to_str().unwrap();
    let admin_creates = kubectl_as(plane, &admin, &[auth], &["create", "-f", monitor_a]);
    assert!(allowed(&admin_creates), "{admin_creates:?}");
    for resource in ["servicemonitors", "prometheusrules", "alertmanagerconfigs"] {
        for verb in ["get", "list"] {
            let args: Vec<&str> = match verb {
                "get" => vec!["get", resource, "web", "-n", &b],
                _ => vec!["get", resource, "-n", &b],
            };
            let denied = kubectl_as(plane, &admin, &[auth], &args);
            assert!(forbidden(&denied), "{verb} {resource} in {b}: {denied:?}");
        }
    }
    let admin_into_b = kubectl_as(
        plane,
        &admin,
        &[auth],
        &["create", "-f", monitor_b.to_str().unwrap()],
    );
    assert!(forbidden(&admin_into_b), "{admin_into_b:?}");
    let admin_routes = kubectl_as(
        plane,
        &admin,
        &[auth],
        &["get", "alertmanagerconfigs", "-n", &a],
    );
    assert!(allowed(&admin_routes), "{admin_routes:?}");

    let developer_rule = kubectl_as(plane, &developer, &[auth], &["create", "-f", rule_a]);
    assert!(allowed(&developer_rule), "{developer_rule:?}");
    let developer_routes = kubectl_as(
        plane,
        &developer,
        &[auth],
        &["get", "alertmanagerconfigs", "-n", &a],
    );
    assert!(forbidden(&developer_routes), "{developer_routes:?}");

    let viewer = "vic";
    let viewer_reads = kubectl_as(
        plane,
        viewer,
        &[auth, &viewers],
        &["get", "prometheusrules", "-n", &a],
    );
    assert!(allowed(&viewer_reads), "{viewer_reads:?}");
    let viewer_writes = kubectl_as(
        plane,
        viewer,
        &[auth, &viewers],
        &["delete", "prometheusrule", "mine", "-n", &a],
    );
    assert!(forbidden(&viewer_writes), "{viewer_writes:?}");
    let viewer_creates = kubectl_as(plane, viewer, &[auth, &viewers], &["create", "-f", rule_a]);
    assert!(forbidden(&viewer_creates), "{viewer_creates:?}");

    // Every member may read A's pod metrics, what the namespace-enforcing query endpoints check
    // (`?namespace=` of the request), and not B's.
    let can_read_metrics = |user: &str, groups: &[&str], namespace: &str| {
        let review = dir.path().join(format!("review-{namespace}.json"));
        let body = serde_json::json!({
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {
                "group": "metrics.k8s.io", "resource": "pods", "verb": "get", "namespace": namespace,
            }},
        });
        std::fs::write(&review, body.to_string()).unwrap();
        let out = kubectl_as(
            plane,
            user,
            groups,
            &[
                "create",
                "--validate=false",
                "-f",
                review.to_str().unwrap(),
                "-o",
                "json",
            ],
        );
        let answer: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        (answer["status"]["allowed"] == true, format!("{out:?}"))
    };
    for (user, groups) in [
        (admin.as_str(), vec![auth]),
        (developer.as_str(), vec![auth]),
        (viewer, vec![auth, viewers.as_str()]),
    ] {
        let (yes, shown) = can_read_metrics(user, &groups, &a);
        assert!(yes, "{user} in {a}: {shown}");
        let (yes, shown) = can_read_metrics(user, &groups, &b);
        assert!(!yes, "{user} in {b}: {shown}");
    }

    // Monitoring off for B: its monitoring objects are pruned, access first, and its three Roles
    // lose the pod metrics; A's stay.
    let off = tenant_file(dir.path(), &b, "  monitoring:\n    enabled: false\n");
    harmony(plane, &["tenant", "apply", "-f", off.to_str().unwrap()])
        .assert()
        .success()
        .stdout(predicate::str::is_match(format!(r"{b}\s+0\s+3\s+\d+\s+4\s+ok")).unwrap());
    let left = plane
        .kubectl_run(&[
            "get",
            "prometheusrules,rolebindings",
            "-n",
            &b,
            "-o",
            "name",
        ])
        .unwrap();
    assert!(
        !left.contains("tenant-alerts") && !left.contains("monitoring-"),
        "{left}"
    );
    assert!(
        plane
            .kubectl_run(&["get", "prometheusrule", "tenant-alerts", "-n", &a])
            .is_ok()
    );
}
