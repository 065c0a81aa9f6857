//! `harmony cluster monitoring apply` on a real kube-apiserver (`harmony_testkit::ControlPlane`)
//! with the prometheus-operator CRDs (no operator runs: objects are stored and validated).
//!
//! Vanilla: every object stored, the Prometheus and Alertmanager exactly as rendered (nothing
//! pruned by the CRD schemas), a re-apply writes nothing, `--dry-run server` stores nothing;
//! a user bound in namespace A to `monitoring-edit` creates a ServiceMonitor in A, not in B; the
//! read path's ServiceAccount sends the TokenReview and the SubjectAccessReview kube-rbac-proxy
//! sends (the rendered configuration, namespace A and B): a reader of A is allowed A, denied B.
//! Pruning (a plane of its own: a monitoring stack is cluster-wide): after `spec.namespace`
//! changes, the old namespace's objects and cluster roles are deleted (a dry run deletes none),
//! the Namespace, an object whose Harmony labels were removed by hand and objects Harmony did
//! not create are kept.
//! OKD: the ConfigMaps created, the admin's keys of an existing `config.yaml` kept, a re-apply
//! writes nothing; switching `okdAlertmanager` removes the keys Harmony set and no longer sets,
//! not the admin's; a `config.yaml` Harmony cannot read is refused with nothing written.

mod common;

use std::path::Path;
use std::process::Output;

use common::{harmony, ok};
use harmony_guardrails::monitoring::read_path::KubeRbacProxyConfig;
use harmony_guardrails::monitoring::vanilla::{QUERY, QUERY_CONFIG};
use harmony_testkit::{ControlPlane, ControlPlaneOptions, Flavor};
use serde_json::{Value, json};

/// `harmony cluster monitoring apply` on `plane`, with `more` arguments.
fn apply(plane: &ControlPlane, more: &[&str]) -> Output {
    let kubeconfig = plane.kubeconfig();
    let (pods, services) = (
        plane.pod_network().to_string(),
        plane.service_network().to_string(),
    );
    let mut args = vec![
        "cluster",
        "monitoring",
        "apply",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
    ];
    if plane.flavor() == Flavor::Vanilla {
        args.extend(["--pod-network", &pods, "--service-network", &services]);
    }
    args.extend(more);
    harmony(&args)
}

fn monitoring_file(dir: &Path, namespace: &str) -> String {
    let path = dir.join(format!("{namespace}.yaml"));
    std::fs::write(
        &path,
        format!(
            "apiVersion: harmony.nationtech.io/v1alpha1\nkind: ClusterMonitoring\nmetadata:\n  name: e2e\nspec:\n  namespace: {namespace}\n  retention: 7d\n"
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

fn get(plane: &ControlPlane, args: &[&str]) -> Value {
    let out = plane
        .kubectl_run(&[args, &["-o", "json"]].concat())
        .unwrap();
    serde_json::from_str(&out).unwrap()
}

/// Every field of `desired` is in `live` with the same value (the server may add defaults,
/// also inside list items).
fn assert_subset(desired: &Value, live: &Value, path: &str) {
    match (desired, live) {
        (Value::Object(d), Value::Object(l)) => {
            for (key, value) in d {
                let at = format!("{path}.{key}");
                let live = l
                    .get(key)
                    .unwrap_or_else(|| panic!("{at} missing in {live}"));
                assert_subset(value, live, &at);
            }
        }
        (Value::Array(d), Value::Array(l)) if d.len() == l.len() => {
            for (i, (d, l)) in d.iter().zip(l).enumerate() {
                assert_subset(d, l, &format!("{path}[{i}]"));
            }
        }
        _ => assert_eq!(desired, live, "{path}"),
    }
}

/// Posts `body` (JSON) with kubectl `create`, as `user` when given; the stored or answered object.
fn create(
    plane: &ControlPlane,
    dir: &Path,
    user: Option<&str>,
    body: &Value,
) -> Result<Value, String> {
    let path = dir.join("body.json");
    std::fs::write(&path, body.to_string()).unwrap();
    let path = path.to_str().unwrap();
    let mut args = vec!["create", "-f", path, "-o", "json"];
    if let Some(user) = user {
        args.extend(["--as", user]);
    }
    // Reviews are not stored objects; kubectl's client-side check would list CRDs, which the
    // proxy's ServiceAccount may not.
    if body["kind"].as_str().is_some_and(|k| k.ends_with("Review")) {
        args.push("--validate=false");
    }
    plane
        .kubectl_run(&args)
        .map(|out| serde_json::from_str(&out).unwrap())
        .map_err(|e| e.to_string())
}

#[test]
fn vanilla_stack_is_accepted_reapplies_as_unchanged_and_its_rbac_holds() {
    let plane = ControlPlane::shared();
    let _logs = plane.failure_guard();
    plane.install_monitoring_crds().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ns = ControlPlane::unique_name("mon");
    let file = monitoring_file(dir.path(), &ns);

    // A dry run against the server stores nothing.
    let dry = ok(&apply(
        plane,
        &["--monitoring", &file, "--dry-run", "server"],
    ));
    assert!(dry.contains("would be 21 created"), "{dry}");
    assert!(
        dry.contains(&format!(
            "not validated by the server: 11 objects in namespace {ns}"
        )),
        "{dry}"
    );
    assert!(plane.kubectl_run(&["get", "namespace", &ns]).is_err());

    let first = ok(&apply(plane, &["--monitoring", &file]));
    assert!(
        first.contains("21 created, 0 changed, 0 unchanged"),
        "{first}"
    );
    let again = ok(&apply(plane, &["--monitoring", &file]));
    assert!(
        again.contains("0 created, 0 changed, 21 unchanged"),
        "{again}"
    );

    // The custom resources are stored as rendered: the CRD schemas pruned nothing.
    let rendered: Value = serde_json::from_str(&ok(&harmony(&[
        "cluster",
        "monitoring",
        "render",
        "--monitoring",
        &file,
        "-o",
        "json",
    ])))
    .unwrap();
    let items = rendered["items"].as_array().unwrap();
    for object in items {
        let kind = object["kind"].as_str().unwrap();
        let name = object["metadata"]["name"].as_str().unwrap();
        let mut args = vec!["get", kind, name];
        let namespace = object["metadata"]["namespace"].as_str();
        if let Some(namespace) = namespace {
            args.extend(["-n", namespace]);
        }
        let live = get(plane, &args);
        for (key, value) in object.as_object().unwrap() {
            if key != "metadata" {
                assert_subset(value, &live[key], &format!("{kind} {name}: {key}"));
            }
        }
        assert_eq!(
            live["metadata"]["labels"]["app.kubernetes.io/managed-by"],
            "harmony"
        );
    }
    let prometheus = get(plane, &["get", "prometheus", "harmony", "-n", &ns]);
    assert_eq!(prometheus["spec"]["enforcedNamespaceLabel"], "namespace");
    assert_eq!(prometheus["spec"]["retention"], "7d");

    // monitoring-edit bound in A lets a member create a ServiceMonitor in A, not in B.
    let (a, b) = (
        ControlPlane::unique_name("tenant-a"),
        ControlPlane::unique_name("tenant-b"),
    );
    for namespace in [&a, &b] {
        plane
            .kubectl_run(&["create", "namespace", namespace])
            .unwrap();
    }
    for role in ["monitoring-edit", "view"] {
        plane
            .kubectl_run(&[
                "create",
                "rolebinding",
                &format!("alice-{role}"),
                "-n",
                &a,
                "--clusterrole",
                role,
                "--user",
                "alice@a.test",
                "--serviceaccount",
                &format!("{a}:reader"),
            ])
            .unwrap();
    }
    let monitor = |namespace: &str| {
        json!({"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
            "metadata": {"name": "web", "namespace": namespace},
            "spec": {"selector": {"matchLabels": {"app": "web"}},
                     "endpoints": [{"port": "metrics", "interval": "30s"}]}})
    };
    create(plane, dir.path(), Some("alice@a.test"), &monitor(&a)).expect("alice creates in A");
    let refused = create(plane, dir.path(), Some("alice@a.test"), &monitor(&b)).unwrap_err();
    assert!(refused.contains("forbidden"), "{refused}");
    assert!(
        refused.contains("servicemonitors.monitoring.coreos.com"),
        "{refused}"
    );

    // kube-rbac-proxy's two calls, sent as the read path's ServiceAccount: the TokenReview of a
    // reader's token, then the SubjectAccessReview from the rendered configuration.
    let proxy = format!("system:serviceaccount:{ns}:{QUERY}");
    plane
        .kubectl_run(&["create", "serviceaccount", "reader", "-n", &a])
        .unwrap();
    let token = plane
        .kubectl_run(&["create", "token", "reader", "-n", &a])
        .unwrap();
    let review = create(
        plane,
        dir.path(),
        Some(&proxy),
        &json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
                "spec": {"token": token.trim()}}),
    )
    .expect("the read path's ServiceAccount may create TokenReviews");
    let user = &review["status"]["user"];
    assert_eq!(review["status"]["authenticated"], true, "{review}");
    assert_eq!(
        user["username"],
        format!("system:serviceaccount:{a}:reader")
    );
    let config_map = items
        .iter()
        .find(|o| o["kind"] == "ConfigMap" && o["metadata"]["name"] == QUERY_CONFIG)
        .unwrap();
    let config: KubeRbacProxyConfig =
        serde_saphyr::from_str(config_map["data"]["config.yaml"].as_str().unwrap()).unwrap();
    let allowed = |namespace: &str| {
        let attributes = config.resource_attributes(namespace, "get");
        let answer = create(
            plane,
            dir.path(),
            Some(&proxy),
            &json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
                    "spec": {"user": user["username"], "groups": user["groups"],
                             "uid": user["uid"], "resourceAttributes": attributes}}),
        )
        .expect("the read path's ServiceAccount may create SubjectAccessReviews");
        answer["status"]["allowed"] == true
    };
    // `view` holds pod metrics once the aggregation controller has copied Harmony's rule in.
    let started = std::time::Instant::now();
    while !allowed(&a) {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "the reader reads its own namespace"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(!allowed(&b), "the reader is refused another namespace");
    // Without the rule, a ServiceAccount cannot ask: the proxy's ClusterRole is what allows it.
    let stranger = format!("system:serviceaccount:{a}:reader");
    let refused = create(
        plane,
        dir.path(),
        Some(&stranger),
        &json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
                "spec": {"token": token.trim()}}),
    )
    .unwrap_err();
    assert!(refused.contains("forbidden"), "{refused}");
}

/// Every object labelled as Harmony's monitoring, as `Kind namespace/name`.
fn labelled(plane: &ControlPlane) -> Vec<String> {
    let list = get(
        plane,
        &[
            "get",
            "namespaces,serviceaccounts,clusterroles,clusterrolebindings,networkpolicies,configmaps,secrets,prometheuses,alertmanagers,deployments,services",
            "-A",
            "-l",
            "app.kubernetes.io/managed-by=harmony,app.kubernetes.io/part-of=harmony-monitoring",
        ],
    );
    let mut found: Vec<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let meta = &o["metadata"];
            format!(
                "{} {}/{}",
                o["kind"].as_str().unwrap(),
                meta["namespace"].as_str().unwrap_or_default(),
                meta["name"].as_str().unwrap()
            )
        })
        .collect();
    found.sort();
    found
}

#[test]
fn objects_no_longer_rendered_are_pruned_and_nothing_else() {
    let plane = ControlPlane::start().unwrap();
    let _logs = plane.failure_guard();
    plane.install_monitoring_crds().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = ("mon-old", "mon-new");
    let first = ok(&apply(
        &plane,
        &["--monitoring", &monitoring_file(dir.path(), old)],
    ));
    assert!(
        first.contains("21 created, 0 changed, 0 unchanged, 0 pruned"),
        "{first}"
    );
    assert_eq!(labelled(&plane).len(), 21);

    // Not Harmony's to prune: its labels removed by hand, a user's object in the old namespace,
    // and another Harmony object (managed-by harmony, not part of monitoring).
    plane
        .kubectl_run(&[
            "label",
            "service",
            "harmony-query",
            "-n",
            old,
            "app.kubernetes.io/managed-by-",
        ])
        .unwrap();
    plane
        .kubectl_run(&["create", "configmap", "users", "-n", old])
        .unwrap();
    plane
        .kubectl_run(&["create", "configmap", "tenant-params", "-n", "default"])
        .unwrap();
    plane
        .kubectl_run(&[
            "label",
            "configmap",
            "tenant-params",
            "-n",
            "default",
            "app.kubernetes.io/managed-by=harmony",
        ])
        .unwrap();

    let before = labelled(&plane);
    assert_eq!(before.len(), 20, "{before:?}");

    // Harmony renders the stack in another namespace now.
    let file = monitoring_file(dir.path(), new);
    let dry = ok(&apply(
        &plane,
        &["--monitoring", &file, "--dry-run", "server"],
    ));
    assert!(
        dry.contains("would be 17 created, 0 changed, 4 unchanged, 15 pruned"),
        "{dry}"
    );
    assert_eq!(labelled(&plane), before, "a dry run deletes nothing");

    let second = ok(&apply(&plane, &["--monitoring", &file]));
    assert!(
        second.contains("17 created, 0 changed, 4 unchanged, 15 pruned"),
        "{second}"
    );
    for pruned in [
        format!("pruned Prometheus {old}/harmony"),
        format!("pruned ClusterRoleBinding {old}-query"),
        format!("pruned ClusterRole {old}-metrics-reader"),
        format!("pruned Secret {old}/harmony-alertmanager-config"),
    ] {
        assert!(second.contains(&pruned), "{pruned}: {second}");
    }
    assert!(
        second.contains(&format!(
            "warning: kept Namespace {old}: Harmony no longer uses it"
        )),
        "{second}"
    );
    // Left with Harmony's labels: the new stack, the tenant roles, and the old Namespace.
    let after = labelled(&plane);
    assert_eq!(after.len(), 22, "{after:?}");
    assert!(after.contains(&format!("Namespace /{old}")), "{after:?}");
    assert!(
        after
            .iter()
            .all(|o| !o.contains(&format!("{old}/")) && !o.contains(&format!(" /{old}-"))),
        "{after:?}"
    );
    let rendered: Value = serde_json::from_str(&ok(&harmony(&[
        "cluster",
        "monitoring",
        "render",
        "--monitoring",
        &file,
        "-o",
        "json",
    ])))
    .unwrap();
    for object in rendered["items"].as_array().unwrap() {
        let meta = &object["metadata"];
        let key = format!(
            "{} {}/{}",
            object["kind"].as_str().unwrap(),
            meta["namespace"].as_str().unwrap_or_default(),
            meta["name"].as_str().unwrap()
        );
        assert!(after.contains(&key), "{key} applied: {after:?}");
    }
    // What Harmony did not create is untouched.
    for (kind, namespace, name) in [
        ("service", old, "harmony-query"),
        ("configmap", old, "users"),
        ("configmap", "default", "tenant-params"),
        ("namespace", "", old),
    ] {
        let mut args = vec!["get", kind, name];
        if !namespace.is_empty() {
            args.extend(["-n", namespace]);
        }
        plane
            .kubectl_run(&args)
            .unwrap_or_else(|e| panic!("{kind} {namespace}/{name} kept: {e}"));
    }

    let again = ok(&apply(&plane, &["--monitoring", &file]));
    assert!(
        again.contains("0 created, 0 changed, 21 unchanged, 0 pruned"),
        "{again}"
    );
}

#[test]
fn okd_config_maps_are_merged_with_the_admins_and_unreadable_ones_refused() {
    let plane = ControlPlane::start_with(ControlPlaneOptions {
        flavor: Flavor::Okd,
        ..ControlPlaneOptions::default()
    })
    .unwrap();
    let _logs = plane.failure_guard();
    for namespace in ["openshift-monitoring", "openshift-user-workload-monitoring"] {
        plane
            .kubectl_run(&["create", "namespace", namespace])
            .unwrap();
    }
    plane
        .kubectl_run(&[
            "create",
            "configmap",
            "cluster-monitoring-config",
            "-n",
            "openshift-monitoring",
            "--from-literal=config.yaml=prometheusK8s:\n  retention: 30d\n",
        ])
        .unwrap();
    let config = |namespace: &str, name: &str| {
        let out = plane.kubectl_run(&["get", "configmap", name, "-n", namespace, "-o", "json"]);
        let object: Value = serde_json::from_str(&out.ok()?).unwrap();
        object["data"]["config.yaml"].as_str().map(String::from)
    };

    let first = ok(&apply(&plane, &[]));
    assert!(
        first.contains("1 created, 1 changed, 0 unchanged"),
        "{first}"
    );
    assert!(
        first.contains("merged ConfigMap openshift-monitoring/cluster-monitoring-config"),
        "{first}"
    );
    assert_eq!(
        config("openshift-monitoring", "cluster-monitoring-config").unwrap(),
        "enableUserWorkload: true\nprometheusK8s:\n  retention: 30d\n"
    );
    assert_eq!(
        config(
            "openshift-user-workload-monitoring",
            "user-workload-monitoring-config"
        )
        .unwrap(),
        "alertmanager:\n  enableAlertmanagerConfig: true\n  enabled: true\nprometheus:\n  retention: 15d\n"
    );
    let again = ok(&apply(&plane, &[]));
    assert!(
        again.contains("0 created, 0 changed, 2 unchanged, 0 pruned"),
        "{again}"
    );

    // Tenant alerts go to the platform Alertmanager now: the user-workload Alertmanager keys
    // Harmony set go, the one the admin added beside them stays; nothing is deleted.
    plane
        .kubectl_run(&[
            "patch",
            "configmap",
            "user-workload-monitoring-config",
            "-n",
            "openshift-user-workload-monitoring",
            "--type",
            "merge",
            "-p",
            r#"{"data":{"config.yaml":"alertmanager:\n  enableAlertmanagerConfig: true\n  enabled: true\n  logLevel: debug\nprometheus:\n  retention: 15d\n"}}"#,
        ])
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let okd_file = |alertmanager: &str| {
        let path = dir.path().join(format!("{alertmanager}.yaml"));
        std::fs::write(
            &path,
            format!("apiVersion: harmony.nationtech.io/v1alpha1\nkind: ClusterMonitoring\nmetadata:\n  name: e2e\nspec:\n  okdAlertmanager: {alertmanager}\n"),
        )
        .unwrap();
        path.to_str().unwrap().to_string()
    };
    let platform = ok(&apply(&plane, &["--monitoring", &okd_file("platform")]));
    assert!(
        platform.contains("0 created, 2 changed, 0 unchanged, 0 pruned"),
        "{platform}"
    );
    assert!(
        platform.contains("removed from ConfigMap openshift-user-workload-monitoring/user-workload-monitoring-config config.yaml: alertmanager.enableAlertmanagerConfig, alertmanager.enabled"),
        "{platform}"
    );
    assert_eq!(
        config(
            "openshift-user-workload-monitoring",
            "user-workload-monitoring-config"
        )
        .unwrap(),
        "alertmanager:\n  logLevel: debug\nprometheus:\n  retention: 15d\n"
    );
    assert_eq!(
        config("openshift-monitoring", "cluster-monitoring-config").unwrap(),
        "alertmanagerMain:\n  enableUserAlertmanagerConfig: true\nenableUserWorkload: true\nprometheusK8s:\n  retention: 30d\n"
    );
    // And back: Harmony's alertmanagerMain key goes, the mapping it leaves empty with it.
    let back = ok(&apply(&plane, &["--monitoring", &okd_file("userWorkload")]));
    assert!(
        back.contains("removed from ConfigMap openshift-monitoring/cluster-monitoring-config config.yaml: alertmanagerMain.enableUserAlertmanagerConfig"),
        "{back}"
    );
    assert_eq!(
        config("openshift-monitoring", "cluster-monitoring-config").unwrap(),
        "enableUserWorkload: true\nprometheusK8s:\n  retention: 30d\n"
    );
    assert_eq!(
        config(
            "openshift-user-workload-monitoring",
            "user-workload-monitoring-config"
        )
        .unwrap(),
        "alertmanager:\n  enableAlertmanagerConfig: true\n  enabled: true\n  logLevel: debug\nprometheus:\n  retention: 15d\n"
    );

    // A document Harmony cannot read is refused before anything is written.
    plane
        .kubectl_run(&[
            "delete",
            "configmap",
            "user-workload-monitoring-config",
            "-n",
            "openshift-user-workload-monitoring",
        ])
        .unwrap();
    plane
        .kubectl_run(&[
            "patch",
            "configmap",
            "cluster-monitoring-config",
            "-n",
            "openshift-monitoring",
            "--type",
            "merge",
            "-p",
            r#"{"data":{"config.yaml":"- enableUserWorkload\n"}}"#,
        ])
        .unwrap();
    let refused = apply(&plane, &[]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("ConfigMap openshift-monitoring/cluster-monitoring-config: its config.yaml is not a YAML mapping"),
        "{stderr}"
    );
    assert_eq!(
        config(
            "openshift-user-workload-monitoring",
            "user-workload-monitoring-config"
        ),
        None
    );
}
