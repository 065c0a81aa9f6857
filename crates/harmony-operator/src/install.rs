//! What a cluster needs to run the operator: the CRD, the `harmony-system` namespace, a
//! ServiceAccount, a least-privilege ClusterRole and its binding, a Deployment of two replicas and
//! a PodDisruptionBudget. The same options always give the same objects, in apply order.

use harmony_k8s::AUDIT_KINDS;
use harmony_kube::Kind;
use harmony_tenant::TenantRole;
use ipnet::IpNet;
use k8s_openapi::api::core::v1::{
    ConfigMap, LimitRange, Namespace, PersistentVolumeClaim, ResourceQuota, ServiceAccount,
};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use k8s_openapi::api::storage::v1::StorageClass;
use serde_json::{Value, json};

use crate::resource::{GROUP, PLURAL};

/// The namespace the operator runs in (where `harmony audit` looks for its account).
pub const NAMESPACE: &str = harmony_audit::checks::OPERATOR_NAMESPACE;
/// The name of the operator's ServiceAccount, ClusterRole, binding, Deployment and PDB.
pub const NAME: &str = harmony_audit::checks::OPERATOR_ACCOUNT;

/// What the rendered Deployment runs.
#[derive(Debug, Clone)]
pub struct InstallOptions {
    /// The container image holding the `harmony` binary.
    pub image: String,
    /// `--pod-network` CIDRs passed to `harmony operator run` (clusters that do not publish them).
    pub pod_networks: Vec<IpNet>,
    /// `--service-network` CIDRs passed to `harmony operator run`.
    pub service_networks: Vec<IpNet>,
    /// `--node-network` CIDRs passed to `harmony operator run`.
    pub node_networks: Vec<IpNet>,
}

/// One object to install: its file name (names sort in apply order) and the object.
#[derive(Debug, Clone, PartialEq)]
pub struct InstallObject {
    /// Such as `00-customresourcedefinition-tenants.harmony.nationtech.io.yaml`.
    pub file_name: String,
    /// The object.
    pub object: Value,
}

fn object(order: u8, object: Value) -> InstallObject {
    let kind = object["kind"].as_str().unwrap_or_default().to_lowercase();
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    InstallObject {
        file_name: format!("{order:02}-{kind}-{name}.yaml"),
        object,
    }
}

fn labels() -> Value {
    json!({
        "app.kubernetes.io/name": NAME,
        "app.kubernetes.io/part-of": "harmony",
    })
}

/// A rule granting `verbs` on the kinds `kinds` (all of one API group each).
fn rule(kinds: &[Kind], verbs: &[&str]) -> Vec<Value> {
    let mut groups: Vec<&str> = kinds.iter().map(|k| k.group()).collect();
    groups.dedup();
    groups
        .into_iter()
        .map(|group| {
            let resources: Vec<&str> = kinds
                .iter()
                .filter(|k| k.group() == group)
                .map(|k| k.plural())
                .collect();
            json!({"apiGroups": [group], "resources": resources, "verbs": verbs})
        })
        .collect()
}

/// What the operator may do: write only the kinds of a tenant plan, bind and escalate only the
/// three tenant roles, read what the audit reads (never Secrets), delete nothing but what a
/// tenant owns, and write Tenants' finalizers and status.
fn cluster_role_rules() -> Vec<Value> {
    let written = [
        Kind::of::<Namespace>(),
        Kind::of::<ResourceQuota>(),
        Kind::of::<LimitRange>(),
        Kind::of::<ConfigMap>(),
        Kind::of::<ServiceAccount>(),
        Kind::of::<NetworkPolicy>(),
        Kind::of::<Role>(),
        Kind::of::<RoleBinding>(),
    ];
    let mut rules = rule(
        &written,
        &["get", "list", "watch", "create", "patch", "delete"],
    );
    let tenant_roles = TenantRole::ALL.map(TenantRole::role_name);
    rules.push(json!({
        "apiGroups": ["rbac.authorization.k8s.io"],
        "resources": ["roles"],
        "resourceNames": tenant_roles,
        "verbs": ["bind", "escalate"],
    }));
    let mut read: Vec<Kind> = AUDIT_KINDS
        .iter()
        .map(|k| k.kind)
        .filter(|k| !written.contains(k))
        .collect();
    read.push(Kind::of::<PersistentVolumeClaim>());
    read.push(Kind::of::<StorageClass>());
    read.sort();
    rules.extend(rule(&read, &["get", "list"]));
    rules.push(json!({
        "apiGroups": ["config.openshift.io"],
        "resources": ["networks"],
        "resourceNames": ["cluster"],
        "verbs": ["get"],
    }));
    rules.push(json!({
        "apiGroups": [GROUP],
        "resources": [PLURAL],
        "verbs": ["get", "list", "watch", "patch", "update"],
    }));
    rules.push(json!({
        "apiGroups": [GROUP],
        "resources": [format!("{PLURAL}/status")],
        "verbs": ["get", "patch", "update"],
    }));
    rules.push(json!({
        "apiGroups": ["events.k8s.io"],
        "resources": ["events"],
        "verbs": ["create", "patch"],
    }));
    rules
}

/// The port of `/metrics`, `/healthz` and `/readyz`.
const METRICS_PORT: u16 = 8080;

fn run_args(options: &InstallOptions) -> Vec<String> {
    let mut args = vec![
        "operator".to_string(),
        "run".to_string(),
        format!("--lease-namespace={NAMESPACE}"),
        format!("--metrics-address=0.0.0.0:{METRICS_PORT}"),
    ];
    for (flag, nets) in [
        ("--pod-network", &options.pod_networks),
        ("--service-network", &options.service_networks),
        ("--node-network", &options.node_networks),
    ] {
        for net in nets {
            args.push(format!("{flag}={net}"));
        }
    }
    args
}

/// Every object to install, in apply order.
pub fn manifests(options: &InstallOptions) -> Vec<InstallObject> {
    let selector = json!({"app.kubernetes.io/name": NAME});
    let restricted = json!({
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
    });
    let mut namespace_labels = labels();
    namespace_labels
        .as_object_mut()
        .expect("labels are an object")
        .extend(restricted.as_object().cloned().unwrap_or_default());
    vec![
        object(
            0,
            serde_json::to_value(crate::crd()).expect("the CRD serializes"),
        ),
        object(
            10,
            json!({
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": NAMESPACE, "labels": namespace_labels},
            }),
        ),
        object(
            20,
            json!({
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": labels()},
            }),
        ),
        object(
            30,
            json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRole",
                "metadata": {"name": NAME, "labels": labels()},
                "rules": cluster_role_rules(),
            }),
        ),
        object(
            35,
            json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "Role",
                "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": labels()},
                "rules": [
                    {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
                    {
                        "apiGroups": ["coordination.k8s.io"],
                        "resources": ["leases"],
                        "resourceNames": [NAME],
                        "verbs": ["get", "update"],
                    },
                ],
            }),
        ),
        object(
            40,
            json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding",
                "metadata": {"name": NAME, "labels": labels()},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": NAME},
                "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}],
            }),
        ),
        object(
            45,
            json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": labels()},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": NAME},
                "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}],
            }),
        ),
        object(
            50,
            json!({
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": labels()},
                "spec": {
                    "replicas": 2,
                    "selector": {"matchLabels": selector},
                    "template": {
                        "metadata": {"labels": labels()},
                        "spec": {
                            "serviceAccountName": NAME,
                            "terminationGracePeriodSeconds": 30,
                            "securityContext": {
                                "runAsNonRoot": true,
                                "seccompProfile": {"type": "RuntimeDefault"},
                            },
                            "containers": [{
                                "name": "operator",
                                "image": options.image,
                                "args": run_args(options),
                                "env": [
                                    {
                                        "name": "POD_NAME",
                                        "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}},
                                    },
                                    {"name": "RUST_LOG", "value": "info"},
                                ],
                                "ports": [{"name": "metrics", "containerPort": METRICS_PORT}],
                                "livenessProbe": {
                                    "httpGet": {"path": "/healthz", "port": "metrics"},
                                    "periodSeconds": 10,
                                },
                                "readinessProbe": {
                                    "httpGet": {"path": "/readyz", "port": "metrics"},
                                    "periodSeconds": 5,
                                },
                                "resources": {
                                    "requests": {"cpu": "100m", "memory": "128Mi"},
                                    "limits": {"cpu": "1", "memory": "512Mi"},
                                },
                                "securityContext": {
                                    "allowPrivilegeEscalation": false,
                                    "readOnlyRootFilesystem": true,
                                    "capabilities": {"drop": ["ALL"]},
                                },
                            }],
                        },
                    },
                },
            }),
        ),
        object(
            60,
            json!({
                "apiVersion": "policy/v1",
                "kind": "PodDisruptionBudget",
                "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": labels()},
                "spec": {"minAvailable": 1, "selector": {"matchLabels": selector}},
            }),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> InstallOptions {
        InstallOptions {
            image: "registry.example.com/harmony:0.1.0".into(),
            pod_networks: vec!["10.244.0.0/16".parse().unwrap()],
            service_networks: vec!["10.96.0.0/12".parse().unwrap()],
            node_networks: Vec::new(),
        }
    }

    #[test]
    fn install_is_deterministic_and_in_apply_order() {
        let a = manifests(&options());
        assert_eq!(a, manifests(&options()));
        let names: Vec<&str> = a.iter().map(|o| o.file_name.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        assert_eq!(
            names[0],
            "00-customresourcedefinition-tenants.harmony.nationtech.io.yaml"
        );
        let deployment = &a[7].object;
        assert_eq!(deployment["spec"]["replicas"], 2);
        assert_eq!(
            deployment["spec"]["template"]["spec"]["containers"][0]["args"],
            json!([
                "operator",
                "run",
                "--lease-namespace=harmony-system",
                "--metrics-address=0.0.0.0:8080",
                "--pod-network=10.244.0.0/16",
                "--service-network=10.96.0.0/12"
            ])
        );
    }

    /// The audit's check of the operator's account on the rendered objects.
    fn audited(objects: &[InstallObject]) -> harmony_audit::Check {
        let mut snapshot = harmony_audit::ClusterSnapshot::default();
        let values = objects.iter().map(|o| o.object.clone()).collect();
        snapshot.add_objects(values, "install").unwrap();
        let config = harmony_audit::AuditConfig::new(harmony_tenant::ClusterFacts::kubernetes());
        let report = harmony_audit::audit(&snapshot, &config);
        report
            .platform
            .into_iter()
            .next()
            .expect("the operator's check")
    }

    #[test]
    fn the_audit_passes_the_operator_role_and_fails_it_widened() {
        let mut objects = manifests(&options());
        let check = audited(&objects);
        assert_eq!(check.id, "HMT-OPERATOR-001");
        assert_eq!(check.status, harmony_audit::Status::Pass, "{check:?}");
        let role = objects
            .iter_mut()
            .find(|o| o.object["kind"] == "ClusterRole")
            .unwrap();
        role.object["rules"]
            .as_array_mut()
            .unwrap()
            .push(json!({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}));
        let check = audited(&objects);
        assert_eq!(check.status, harmony_audit::Status::Fail);
        assert!(
            check.evidence[0].contains("reads Secrets: ClusterRoleBinding harmony-operator"),
            "{check:?}"
        );
    }
}
