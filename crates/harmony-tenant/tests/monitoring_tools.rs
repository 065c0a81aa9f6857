//! The rendered monitoring objects against the real tools: every PrometheusRule's groups pass
//! `promtool check rules`, `promtool test rules` proves each standard alert fires on matching
//! series of the tenant's namespace and not for another namespace, and the Alertmanager
//! configuration the operator would build from the AlertmanagerConfig passes
//! `amtool check-config` and routes the tenant's alerts (and only them) to every receiver.
//!
//! `promtool` and `amtool` come from the Debian packages `prometheus` and
//! `prometheus-alertmanager` (`.ci/install`); a missing tool fails the test.

use harmony_tenant::PlanObject;
use std::path::Path;
use std::process::{Command, Output};

use harmony_tenant::monitoring::crd::{AlertReceiverConfig, AlertRoute, AlertmanagerConfig};
use harmony_tenant::monitoring::{AlertReceiver, EmailReceiver, SecretRef, WebhookReceiver};
use harmony_tenant::{ClusterFacts, Member, TenantObject, TenantRole, TenantScore, compile};
use serde_json::{Value, json};

const NAMESPACE: &str = "acme-prod";

fn tenant() -> TenantScore {
    let mut score = TenantScore::new("acme")
        .in_namespace(NAMESPACE)
        .member(Member::user(
            "alice",
            TenantRole::Admin,
            "alice@acme.example",
        ));
    score.monitoring.receivers = vec![
        AlertReceiver {
            name: "ops".into(),
            email: Some(EmailReceiver {
                to: "ops@acme.example".into(),
                from: Some("alerts@acme.example".into()),
                smarthost: Some("smtp.acme.example:587".into()),
                auth_username: Some("alerts".into()),
                auth_password: Some(SecretRef {
                    name: "smtp".into(),
                    key: "password".into(),
                }),
            }),
            webhook: None,
        },
        AlertReceiver {
            name: "chat".into(),
            email: None,
            webhook: Some(WebhookReceiver {
                url: None,
                url_secret: Some(SecretRef {
                    name: "chat-hook".into(),
                    key: "url".into(),
                }),
            }),
        },
        AlertReceiver {
            name: "pager".into(),
            email: None,
            webhook: Some(WebhookReceiver {
                url: Some("https://pager.acme.example/hook".into()),
                url_secret: None,
            }),
        },
    ];
    score
}

/// The tenant's rendered objects of `kind`, as JSON.
fn rendered(kind: &str) -> Vec<Value> {
    let facts = ClusterFacts {
        monitoring_api: true,
        ..ClusterFacts::kubernetes()
    };
    compile(&tenant(), &facts)
        .objects()
        .iter()
        .filter(|o| o.kind() == kind)
        .map(TenantObject::to_json)
        .collect()
}

/// Runs `tool` (which must be installed) with `args`.
fn run(tool: &str, args: &[&str]) -> Output {
    Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!("cannot run `{tool}` ({e}): install the Debian packages prometheus and prometheus-alertmanager (.ci/install)")
    })
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Writes `value` as a file (JSON is YAML, which both tools read).
fn write(dir: &Path, name: &str, value: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(value).unwrap()).unwrap();
    path.display().to_string()
}

#[test]
fn the_rendered_rules_pass_promtool_check_rules() {
    let rules = rendered("PrometheusRule");
    assert_eq!(rules.len(), 1);
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "rules.yaml", &rules[0]["spec"]);
    let output = run("promtool", &["check", "rules", &file]);
    let shown = text(&output);
    assert!(output.status.success(), "{shown}");
    assert!(shown.contains("SUCCESS: 3 rules found"), "{shown}");

    let mut broken = rules[0]["spec"].clone();
    broken["groups"][0]["rules"][0]["expr"] = json!("100 * kube_resourcequota{namespace=");
    let file = write(dir.path(), "broken.yaml", &broken);
    assert!(!run("promtool", &["check", "rules", &file]).status.success());
}

/// `name{labels}` for promtool's input series, in the tenant namespace or `other`.
fn series(name: &str, namespace: &str, labels: &str, values: &str) -> Value {
    json!({"series": format!("{name}{{namespace=\"{namespace}\", {labels}}}"), "values": values})
}

#[test]
fn each_standard_alert_fires_for_the_tenant_namespace_only() {
    let rules = rendered("PrometheusRule");
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "rules.yaml", &rules[0]["spec"]);
    let quota = "kube_resourcequota";
    let waiting = "kube_pod_container_status_waiting_reason";
    let mut input = Vec::new();
    for namespace in [NAMESPACE, "globex"] {
        input.extend([
            // 90 % of the CPU quota used (fires), 50 % of the memory quota (does not).
            series(
                quota,
                namespace,
                r#"resourcequota="tenant-quota", resource="requests.cpu", type="used""#,
                "9x40",
            ),
            series(
                quota,
                namespace,
                r#"resourcequota="tenant-quota", resource="requests.cpu", type="hard""#,
                "10x40",
            ),
            series(
                quota,
                namespace,
                r#"resourcequota="tenant-quota", resource="requests.memory", type="used""#,
                "5x40",
            ),
            series(
                quota,
                namespace,
                r#"resourcequota="tenant-quota", resource="requests.memory", type="hard""#,
                "10x40",
            ),
            series(
                waiting,
                namespace,
                r#"pod="web-1", container="web", reason="CrashLoopBackOff""#,
                "1x40",
            ),
            series(
                waiting,
                namespace,
                r#"pod="web-2", container="web", reason="ContainerCreating""#,
                "1x40",
            ),
            // 5 % free (fires) and 50 % free (does not).
            series(
                "kubelet_volume_stats_available_bytes",
                namespace,
                r#"persistentvolumeclaim="data""#,
                "5x40",
            ),
            series(
                "kubelet_volume_stats_capacity_bytes",
                namespace,
                r#"persistentvolumeclaim="data""#,
                "100x40",
            ),
            series(
                "kubelet_volume_stats_available_bytes",
                namespace,
                r#"persistentvolumeclaim="logs""#,
                "50x40",
            ),
            series(
                "kubelet_volume_stats_capacity_bytes",
                namespace,
                r#"persistentvolumeclaim="logs""#,
                "100x40",
            ),
        ]);
    }
    let expected = |alert: &str, labels: Value, summary: &str, description: &str| {
        let mut labels = labels;
        labels["severity"] = json!("warning");
        labels["namespace"] = json!(NAMESPACE);
        json!({
            "eval_time": "30m",
            "alertname": alert,
            "exp_alerts": [{
                "exp_labels": labels,
                "exp_annotations": {"summary": summary, "description": description},
            }],
        })
    };
    let pending = |alert: &str| json!({"eval_time": "4m", "alertname": alert, "exp_alerts": []});
    let tests = json!({
        "rule_files": ["rules.yaml"],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": input,
            "alert_rule_test": [
                expected(
                    "TenantQuotaNearlyFull",
                    json!({"resourcequota": "tenant-quota", "resource": "requests.cpu"}),
                    "requests.cpu is above 80% of quota tenant-quota",
                    "requests.cpu uses 90% of its quota in namespace acme-prod: free some, or ask the platform team for a bigger quota.",
                ),
                expected(
                    "TenantPodCrashLooping",
                    json!({"pod": "web-1", "container": "web"}),
                    "web-1 (web) is crash-looping",
                    "Container web of pod web-1 in namespace acme-prod keeps restarting (CrashLoopBackOff): read its logs with `kubectl logs --previous`.",
                ),
                expected(
                    "TenantVolumeNearlyFull",
                    json!({"persistentvolumeclaim": "data"}),
                    "volume data has less than 10% free",
                    "PersistentVolumeClaim data in namespace acme-prod has 5% free space left: delete data or move to a bigger claim.",
                ),
                pending("TenantQuotaNearlyFull"),
                pending("TenantPodCrashLooping"),
                pending("TenantVolumeNearlyFull"),
            ],
        }],
    });
    let file = write(dir.path(), "tests.yaml", &tests);
    let output = run("promtool", &["test", "rules", &file]);
    assert!(output.status.success(), "{}", text(&output));

    // The same test fails when the other namespace's series are expected too: promtool compares
    // the firing alerts exactly, so the test above proves `globex` raises none.
    let mut leaky = tests.clone();
    let first = &mut leaky["tests"][0]["alert_rule_test"][0]["exp_alerts"];
    let mut other = first[0].clone();
    other["exp_labels"]["namespace"] = json!("globex");
    first.as_array_mut().unwrap().push(other);
    let file = write(dir.path(), "leaky.yaml", &leaky);
    let output = run("promtool", &["test", "rules", &file]);
    assert!(!output.status.success(), "{}", text(&output));
}

/// The Secret values the operator would read for the tenant's references.
fn secret_value(reference: &Value) -> Value {
    json!(format!(
        "test-{}-{}",
        reference["name"].as_str().unwrap(),
        reference["key"].as_str().unwrap()
    ))
}

/// The receiver as prometheus-operator writes it into alertmanager.yaml: named
/// `<namespace>/<config>/<receiver>`, Secret references resolved.
fn receiver(prefix: &str, r: &AlertReceiverConfig) -> Value {
    let r = serde_json::to_value(r).unwrap();
    let emails: Vec<Value> = r["emailConfigs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let mut out = json!({"to": e["to"], "send_resolved": e["sendResolved"]});
            for (from, to) in [
                ("from", "from"),
                ("smarthost", "smarthost"),
                ("authUsername", "auth_username"),
            ] {
                if !e[from].is_null() {
                    out[to] = e[from].clone();
                }
            }
            if !e["authPassword"].is_null() {
                out["auth_password"] = secret_value(&e["authPassword"]);
            }
            out
        })
        .collect();
    let webhooks: Vec<Value> = r["webhookConfigs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|w| {
            let url = if w["urlSecret"].is_null() {
                w["url"].clone()
            } else {
                json!(format!(
                    "https://hooks.acme.example/{}",
                    secret_value(&w["urlSecret"]).as_str().unwrap()
                ))
            };
            json!({"url": url, "send_resolved": w["sendResolved"]})
        })
        .collect();
    let mut out = json!({"name": format!("{prefix}/{}", r["name"].as_str().unwrap())});
    if !emails.is_empty() {
        out["email_configs"] = json!(emails);
    }
    if !webhooks.is_empty() {
        out["webhook_configs"] = json!(webhooks);
    }
    out
}

fn route(prefix: &str, r: &AlertRoute) -> Value {
    let mut out = json!({"receiver": format!("{prefix}/{}", r.receiver)});
    if !r.group_by.is_empty() {
        out["group_by"] = json!(r.group_by);
    }
    if r.continue_ {
        out["continue"] = json!(true);
    }
    if !r.routes.is_empty() {
        out["routes"] = json!(
            r.routes
                .iter()
                .map(|c| route(prefix, c))
                .collect::<Vec<_>>()
        );
    }
    out
}

/// alertmanager.yaml as prometheus-operator generates it from `config` with the
/// `OnNamespace` matcher strategy: a route per AlertmanagerConfig under the root, matching its
/// namespace, and a root receiver that drops everything else.
fn alertmanager_yaml(config: &AlertmanagerConfig) -> Value {
    let namespace = config.metadata.namespace.as_deref().unwrap();
    let prefix = format!("{namespace}/{}", config.metadata.name.as_deref().unwrap());
    let mut tenant_route = route(&prefix, config.spec.route.as_ref().unwrap());
    tenant_route["matchers"] = json!([format!("namespace=\"{namespace}\"")]);
    tenant_route["continue"] = json!(true);
    let mut receivers = vec![json!({"name": "null"})];
    receivers.extend(config.spec.receivers.iter().map(|r| receiver(&prefix, r)));
    json!({
        "route": {"receiver": "null", "routes": [tenant_route]},
        "receivers": receivers,
    })
}

#[test]
fn the_alertmanager_configuration_passes_amtool_and_routes_tenant_alerts_to_every_receiver() {
    let configs = rendered("AlertmanagerConfig");
    assert_eq!(configs.len(), 1);
    let config: AlertmanagerConfig = serde_json::from_value(configs[0].clone()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "alertmanager.yaml", &alertmanager_yaml(&config));
    let output = run("amtool", &["check-config", &file]);
    let shown = text(&output);
    assert!(output.status.success(), "{shown}");
    assert!(shown.contains(" - 4 receivers"), "{shown}");

    let routed = |labels: &[&str]| {
        let mut args = vec!["config", "routes", "test", "--config.file", &file];
        args.extend(labels);
        let output = run("amtool", &args);
        assert!(output.status.success(), "{}", text(&output));
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    };
    let every = "acme-prod/tenant-receivers/ops,acme-prod/tenant-receivers/chat,acme-prod/tenant-receivers/pager";
    assert_eq!(
        routed(&["namespace=acme-prod", "alertname=TenantPodCrashLooping"]),
        every
    );
    assert_eq!(
        routed(&["namespace=globex", "alertname=TenantPodCrashLooping"]),
        "null"
    );

    // A receiver the route names but the configuration lacks is refused by amtool.
    let mut broken = alertmanager_yaml(&config);
    broken["receivers"].as_array_mut().unwrap().pop();
    let file = write(dir.path(), "broken.yaml", &broken);
    assert!(!run("amtool", &["check-config", &file]).status.success());
}
