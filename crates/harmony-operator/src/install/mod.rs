//! What a cluster needs to run the operator: the CRDs, the `harmony-system` namespace, a
//! ServiceAccount, a least-privilege ClusterRole and its binding, a Deployment of two replicas and
//! a PodDisruptionBudget; with a VPN gateway, also the gateway file as a ConfigMap and a Role that
//! lets the operator revoke peers (of deleted tenants and removed members) in the cluster
//! registry Secret; with an identity provider, its file as a ConfigMap (no right added). The same
//! options always give the same objects, in apply order.

use harmony_k8s::AUDIT_KINDS;
use harmony_kube::Kind;
use harmony_tenant::backup::crd::Schedule;
use harmony_tenant::cluster_quota::ClusterResourceQuota;
use harmony_tenant::monitoring::MONITORING_ROLES;
use harmony_tenant::monitoring::crd::{AlertmanagerConfig, PrometheusRule};
use harmony_tenant::{NAMESPACE_REQUESTS, TenantRole};
use ipnet::IpNet;
use k8s_openapi::api::core::v1::{
    ConfigMap, LimitRange, Namespace, PersistentVolumeClaim, ResourceQuota, ServiceAccount,
};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use k8s_openapi::api::storage::v1::StorageClass;
use serde_json::{Value, json};

use crate::resource::{GROUP, PLURAL};

mod mounted;

use mounted::Mounted;
pub use mounted::{
    IdentityProviderFile, IdentityProviderMount, InstallFiles, MountedFile, MountedKind,
    VpnGatewayFile, VpnGatewayMount,
};

/// The namespace the operator runs in (where `harmony audit` looks for its account).
pub const NAMESPACE: &str = harmony_audit::checks::OPERATOR_NAMESPACE;
/// The name of the operator's ServiceAccount, ClusterRole, binding, Deployment and PDB.
pub const NAME: &str = harmony_audit::checks::OPERATOR_ACCOUNT;

/// The Secret of harmony-vpn's cluster registry, in [`NAMESPACE`].
pub const VPN_REGISTRY_SECRET: &str = "harmony-vpn-registry";
/// The name of the VPN Role and its binding.
const VPN_ROLE: &str = "harmony-operator-vpn";

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
    /// Velero's namespace (`velero`, `openshift-adp` under OADP), where the operator may write
    /// tenants' Schedules and nothing else.
    pub velero_namespace: String,
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

/// The RoleBinding `role` in [`NAMESPACE`] of the Role `role` to the operator's ServiceAccount.
fn role_binding(order: u8, role: &str) -> InstallObject {
    object(
        order,
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": role, "namespace": NAMESPACE, "labels": labels()},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role},
            "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}],
        }),
    )
}

/// The name of the Role and RoleBinding in Velero's namespace.
pub const BACKUPS_ROLE: &str = "harmony-operator-backups";

/// A Role in Velero's namespace `velero` letting the operator write tenants' Schedules there (and
/// nothing else of Velero's: Backups and Restores hold tenants' Secrets), and its binding.
fn backup_objects(velero: &str) -> [InstallObject; 2] {
    let mut role = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": BACKUPS_ROLE, "namespace": velero, "labels": labels()},
        "rules": rule(
            &[Kind::of::<Schedule>()],
            &["get", "list", "watch", "create", "patch", "delete"],
        ),
    });
    let mut binding = role_binding(46, BACKUPS_ROLE).object;
    binding["metadata"]["namespace"] = json!(velero);
    role["metadata"]["namespace"] = json!(velero);
    [object(36, role), object(46, binding)]
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
/// three tenant roles (and bind the monitoring ClusterRoles a tenant plan binds), read what the
/// audit reads (never Secrets), delete nothing but what a tenant owns, write Tenants'
/// finalizers and status, and read NamespaceRequests and patch their status (never write them).
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
        Kind::of::<PrometheusRule>(),
        Kind::of::<AlertmanagerConfig>(),
        // OKD's tenant-wide quota of a tenant with several namespaces.
        Kind::of::<ClusterResourceQuota>(),
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
    rules.push(json!({
        "apiGroups": ["rbac.authorization.k8s.io"],
        "resources": ["clusterroles"],
        "resourceNames": MONITORING_ROLES.map(|(role, _)| role),
        "verbs": ["bind"],
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
        "apiGroups": [GROUP],
        "resources": [NAMESPACE_REQUESTS],
        "verbs": ["get", "list", "watch"],
    }));
    rules.push(json!({
        "apiGroups": [GROUP],
        "resources": [format!("{NAMESPACE_REQUESTS}/status")],
        "verbs": ["get", "patch"],
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

fn run_args(options: &InstallOptions, files: &InstallFiles) -> Vec<String> {
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
    for file in files.mounted() {
        args.push(format!("{}={}", file.flag, file.path()));
    }
    if files.vpn_gateway.is_some() {
        args.push("--vpn-registry=cluster".into());
    }
    args
}

/// A Role and its binding letting the operator read and rewrite the registry Secret and create
/// the archive Secrets `harmony-vpn-registry-audit-N` its audit log moves to when it outgrows the
/// Secret (RBAC cannot restrict `create` by name: it is granted in [`NAMESPACE`] only, and lets
/// the operator read no Secret).
fn vpn_objects() -> [InstallObject; 2] {
    [
        object(
            36,
            json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "Role",
                "metadata": {"name": VPN_ROLE, "namespace": NAMESPACE, "labels": labels()},
                "rules": [
                    {
                        "apiGroups": [""],
                        "resources": ["secrets"],
                        "resourceNames": [VPN_REGISTRY_SECRET],
                        "verbs": ["get", "update"],
                    },
                    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]},
                ],
            }),
        ),
        role_binding(46, VPN_ROLE),
    ]
}

/// Every object to install, in apply order.
pub fn manifests(options: &InstallOptions) -> Vec<InstallObject> {
    manifests_with(options, &InstallFiles::default())
}

/// Every object to install for an operator that revokes VPN peers of `gateway` (deleted tenants',
/// removed members)
/// in the cluster registry (`operator run --vpn-gateway ... --vpn-registry cluster`), in apply
/// order.
pub fn manifests_with_vpn(
    options: &InstallOptions,
    gateway: &VpnGatewayFile,
) -> Vec<InstallObject> {
    let files = InstallFiles {
        vpn_gateway: Some(gateway.clone()),
        identity_provider: None,
    };
    manifests_with(options, &files)
}

/// Every object to install for an operator given `files` (each a ConfigMap mounted into its
/// pods, with its flag of `operator run`; a VPN gateway also adds the registry Role), in apply
/// order.
pub fn manifests_with(options: &InstallOptions, files: &InstallFiles) -> Vec<InstallObject> {
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
    let mut container = json!({
        "name": "operator",
        "image": options.image,
        "args": run_args(options, files),
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
    });
    let mut pod = json!({
        "serviceAccountName": NAME,
        "terminationGracePeriodSeconds": 30,
        "securityContext": {
            "runAsNonRoot": true,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    });
    let mounted = files.mounted();
    if !mounted.is_empty() {
        let mounts: Vec<Value> = mounted
            .iter()
            .map(|m| json!({"name": m.volume, "mountPath": m.dir, "readOnly": true}))
            .collect();
        let volumes: Vec<Value> = mounted
            .iter()
            .map(|m| json!({"name": m.volume, "configMap": {"name": m.config_map}}))
            .collect();
        container["volumeMounts"] = json!(mounts);
        pod["volumes"] = json!(volumes);
    }
    pod["containers"] = json!([container]);
    let mut objects = vec![
        object(
            0,
            serde_json::to_value(crate::crd()).expect("the CRD serializes"),
        ),
        object(
            0,
            serde_json::to_value(crate::namespace_request::crd()).expect("the CRD serializes"),
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
        role_binding(45, NAME),
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
                        "spec": pod,
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
    ];
    objects.extend(backup_objects(&options.velero_namespace));
    objects.extend(mounted.iter().map(Mounted::config_map));
    if files.vpn_gateway.is_some() {
        objects.extend(vpn_objects());
    }
    objects.sort_by(|a, b| a.file_name.cmp(&b.file_name));
    objects
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
            velero_namespace: "velero".into(),
        }
    }

    /// The index of the Deployment among `objects`.
    fn deployment(objects: &[InstallObject]) -> usize {
        objects
            .iter()
            .position(|o| o.object["kind"] == "Deployment")
            .unwrap()
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
            names[..2],
            [
                "00-customresourcedefinition-namespacerequests.harmony.nationtech.io.yaml",
                "00-customresourcedefinition-tenants.harmony.nationtech.io.yaml"
            ]
        );
        assert_eq!(
            a[0].object,
            serde_json::to_value(crate::namespace_request::crd()).unwrap()
        );
        assert_eq!(
            a[0].object["spec"]["names"]["plural"],
            harmony_tenant::NAMESPACE_REQUESTS
        );
        let deployment = &a[deployment(&a)].object;
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

    /// The example file `file` of `examples/`, validated as a `K`.
    fn example<K: MountedKind>(file: &str) -> MountedFile<K> {
        let path = format!("{}/../../examples/{file}", env!("CARGO_MANIFEST_DIR"));
        MountedFile::parse(&path, &std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    fn gateway() -> VpnGatewayFile {
        example("vpn-gateway.yaml")
    }

    #[test]
    fn the_gateway_adds_three_objects_and_changes_only_the_deployments_vpn_fields() {
        let plain = manifests(&options());
        let mut with_vpn = manifests_with_vpn(&options(), &gateway());
        with_vpn.retain(|o| !o.file_name.contains("vpn"));
        let at = deployment(&with_vpn);
        let deployment = &mut with_vpn[at].object["spec"]["template"]["spec"];
        deployment.as_object_mut().unwrap().remove("volumes");
        let container = &mut deployment["containers"][0];
        container.as_object_mut().unwrap().remove("volumeMounts");
        let args = container["args"].as_array_mut().unwrap();
        args.retain(|a| !a.as_str().unwrap().starts_with("--vpn-"));
        assert_eq!(plain, with_vpn);
    }

    #[test]
    fn a_gateway_adds_its_configmap_mounted_the_run_flags_and_the_registry_role() {
        let gateway = gateway();
        let objects = manifests_with_vpn(&options(), &gateway);
        assert_eq!(objects, manifests_with_vpn(&options(), &gateway));
        let names: Vec<&str> = objects.iter().map(|o| o.file_name.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        for name in [
            "25-configmap-harmony-vpn-gateway.yaml",
            "36-role-harmony-operator-vpn.yaml",
            "46-rolebinding-harmony-operator-vpn.yaml",
        ] {
            assert!(names.contains(&name), "{name} in {names:?}");
        }
        let find = |kind: &str, name: &str| {
            &objects
                .iter()
                .find(|o| o.object["kind"] == kind && o.object["metadata"]["name"] == name)
                .unwrap()
                .object
        };
        let config_map = find("ConfigMap", "harmony-vpn-gateway");
        assert_eq!(config_map["metadata"]["namespace"], NAMESPACE);
        assert_eq!(config_map["data"]["vpn-gateway.yaml"], gateway.text());

        let role = find("Role", "harmony-operator-vpn");
        assert_eq!(role["metadata"]["namespace"], NAMESPACE);
        assert_eq!(
            role["rules"],
            json!([
                {"apiGroups": [""], "resources": ["secrets"],
                 "resourceNames": ["harmony-vpn-registry"], "verbs": ["get", "update"]},
                {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]},
            ])
        );
        let binding = find("RoleBinding", "harmony-operator-vpn");
        assert_eq!(binding["roleRef"]["name"], "harmony-operator-vpn");
        assert_eq!(
            binding["subjects"],
            json!([{"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}])
        );

        let pod = &find("Deployment", NAME)["spec"]["template"]["spec"];
        let container = &pod["containers"][0];
        let args = container["args"].as_array().unwrap();
        assert_eq!(
            args[args.len() - 2..],
            [
                json!("--vpn-gateway=/etc/harmony/vpn/vpn-gateway.yaml"),
                json!("--vpn-registry=cluster")
            ]
        );
        assert_eq!(
            container["volumeMounts"],
            json!([{"name": "vpn-gateway", "mountPath": "/etc/harmony/vpn", "readOnly": true}])
        );
        assert_eq!(
            pod["volumes"],
            json!([{"name": "vpn-gateway", "configMap": {"name": "harmony-vpn-gateway"}}])
        );
    }

    fn identity_provider() -> IdentityProviderFile {
        example("identity/idp.yaml")
    }

    #[test]
    fn an_identity_provider_adds_its_configmap_mounted_and_the_run_flag_and_nothing_else() {
        let idp = identity_provider();
        let files = InstallFiles {
            vpn_gateway: None,
            identity_provider: Some(idp.clone()),
        };
        let objects = manifests_with(&options(), &files);
        assert_eq!(objects, manifests_with(&options(), &files));
        let config_map = objects
            .iter()
            .find(|o| o.file_name == "25-configmap-harmony-identity-provider.yaml")
            .unwrap();
        assert_eq!(config_map.object["metadata"]["namespace"], NAMESPACE);
        assert_eq!(config_map.object["data"], json!({"idp.yaml": idp.text()}));
        let pod = &objects[deployment(&objects)].object["spec"]["template"]["spec"];
        let container = &pod["containers"][0];
        let args = container["args"].as_array().unwrap();
        assert_eq!(args.last(), Some(&json!("--idp=/etc/harmony/idp/idp.yaml")));
        assert_eq!(
            container["volumeMounts"],
            json!([{"name": "identity-provider", "mountPath": "/etc/harmony/idp", "readOnly": true}])
        );
        assert_eq!(
            pod["volumes"],
            json!([{"name": "identity-provider", "configMap": {"name": "harmony-identity-provider"}}])
        );
        // Nothing else changes: no right is added, the operator only reads its mounted file.
        let mut without = objects.clone();
        without.retain(|o| o.file_name != config_map.file_name);
        let at = deployment(&without);
        let spec = &mut without[at].object["spec"]["template"]["spec"];
        spec.as_object_mut().unwrap().remove("volumes");
        let container = &mut spec["containers"][0];
        container.as_object_mut().unwrap().remove("volumeMounts");
        container["args"].as_array_mut().unwrap().pop();
        assert_eq!(without, manifests(&options()));

        // With a VPN gateway too: both files mounted, each with its flag.
        let both = InstallFiles {
            vpn_gateway: Some(gateway()),
            identity_provider: Some(idp),
        };
        let objects = manifests_with(&options(), &both);
        let pod = &objects[deployment(&objects)].object["spec"]["template"]["spec"];
        let volumes: Vec<&str> = pod["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["name"].as_str().unwrap())
            .collect();
        assert_eq!(volumes, ["vpn-gateway", "identity-provider"]);
        let args = pod["containers"][0]["args"].as_array().unwrap();
        for flag in [
            "--vpn-gateway=/etc/harmony/vpn/vpn-gateway.yaml",
            "--idp=/etc/harmony/idp/idp.yaml",
            "--vpn-registry=cluster",
        ] {
            assert!(args.contains(&json!(flag)), "{flag} in {args:?}");
        }
    }

    #[test]
    fn the_registry_secret_is_harmony_vpns() {
        assert_eq!(VPN_REGISTRY_SECRET, harmony_vpn::cluster::REGISTRY_SECRET);
        assert_eq!(NAMESPACE, harmony_vpn::cluster::REGISTRY_NAMESPACE);
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

    #[test]
    fn the_operator_binds_only_the_monitoring_cluster_roles_a_tenant_plan_binds() {
        let mut objects = manifests(&options());
        let role = objects
            .iter_mut()
            .find(|o| o.object["kind"] == "ClusterRole")
            .unwrap();
        let rules = role.object["rules"].as_array_mut().unwrap();
        let writes = rules
            .iter()
            .find(|r| r["apiGroups"] == json!(["monitoring.coreos.com"]))
            .unwrap();
        assert_eq!(
            writes["resources"],
            json!(["prometheusrules", "alertmanagerconfigs"])
        );
        let bind = rules
            .iter_mut()
            .find(|r| r["resources"] == json!(["clusterroles"]))
            .unwrap();
        assert_eq!(
            bind["resourceNames"],
            json!([
                "alert-routing-edit",
                "monitoring-edit",
                "monitoring-rules-view"
            ])
        );
        assert_eq!(bind["verbs"], json!(["bind"]));
        bind["resourceNames"] = json!(["monitoring-edit", "cluster-monitoring-view"]);
        let check = audited(&objects);
        assert_eq!(check.status, harmony_audit::Status::Fail, "{check:?}");
        assert!(
            check.evidence.iter().any(|e| e.contains("clusterroles")),
            "{check:?}"
        );
    }

    #[test]
    fn the_audit_passes_the_vpn_role_naming_the_registry_and_fails_it_widened() {
        let mut objects = manifests_with_vpn(&options(), &gateway());
        let check = audited(&objects);
        assert_eq!(check.status, harmony_audit::Status::Pass, "{check:?}");
        assert!(
            check.evidence[1].starts_with(
                "ServiceAccount harmony-system/harmony-operator reads one Secret, the VPN peer \
                 registry harmony-system/harmony-vpn-registry"
            ),
            "{check:?}"
        );
        let role = objects
            .iter_mut()
            .find(|o| o.object["metadata"]["name"] == "harmony-operator-vpn")
            .unwrap();
        role.object["rules"][0]["resourceNames"] = json!(["harmony-vpn-registry", "other"]);
        let check = audited(&objects);
        assert_eq!(check.status, harmony_audit::Status::Fail);
        assert!(
            check.evidence[0].contains(
                "reads Secrets: RoleBinding harmony-system/harmony-operator-vpn → Role \
                 harmony-system/harmony-operator-vpn rule #0"
            ),
            "{check:?}"
        );
    }

    #[test]
    fn the_operator_may_write_schedules_in_velero_s_namespace_and_nothing_else_of_velero() {
        let objects = manifests(&InstallOptions {
            velero_namespace: "openshift-adp".into(),
            ..options()
        });
        let velero: Vec<&Value> = objects
            .iter()
            .map(|o| &o.object)
            .filter(|o| {
                o.to_string().contains("velero.io") || o["metadata"]["namespace"] == "openshift-adp"
            })
            .collect();
        assert_eq!(velero.len(), 2, "{velero:?}");
        let (role, binding) = (velero[0], velero[1]);
        assert_eq!(role["kind"], "Role");
        assert_eq!(role["metadata"]["namespace"], "openshift-adp");
        assert_eq!(
            role["rules"],
            json!([{
                "apiGroups": ["velero.io"],
                "resources": ["schedules"],
                "verbs": ["get", "list", "watch", "create", "patch", "delete"],
            }])
        );
        assert_eq!(binding["kind"], "RoleBinding");
        assert_eq!(binding["metadata"]["namespace"], "openshift-adp");
        assert_eq!(binding["roleRef"]["name"], BACKUPS_ROLE);
        assert_eq!(binding["subjects"][0]["namespace"], NAMESPACE);
        let cluster_role = objects
            .iter()
            .find(|o| o.object["kind"] == "ClusterRole")
            .unwrap();
        assert!(!cluster_role.object.to_string().contains("velero.io"));
    }

    #[test]
    fn the_operator_reads_namespace_requests_and_patches_only_their_status() {
        let objects = manifests(&options());
        let role = objects
            .iter()
            .find(|o| o.object["kind"] == "ClusterRole")
            .unwrap();
        let rules = role.object["rules"].as_array().unwrap();
        let on_requests: Vec<&Value> = rules
            .iter()
            .filter(|r| r.to_string().contains("namespacerequests"))
            .collect();
        assert_eq!(
            on_requests,
            [
                &json!({"apiGroups": [GROUP], "resources": ["namespacerequests"], "verbs": ["get", "list", "watch"]}),
                &json!({"apiGroups": [GROUP], "resources": ["namespacerequests/status"], "verbs": ["get", "patch"]}),
            ]
        );
        let check = audited(&objects);
        assert_eq!(check.status, harmony_audit::Status::Pass, "{check:?}");
        let index = rules.len();
        for (resource, verbs) in [
            ("namespacerequests", json!(["create"])),
            ("namespacerequests", json!(["delete"])),
            ("namespacerequests", json!(["update"])),
            ("namespacerequests/status", json!(["update"])),
            ("namespacerequests", json!(["*"])),
        ] {
            let mut objects = objects.clone();
            let role = objects
                .iter_mut()
                .find(|o| o.object["kind"] == "ClusterRole")
                .unwrap();
            role.object["rules"]
                .as_array_mut()
                .unwrap()
                .push(json!({"apiGroups": [GROUP], "resources": [resource], "verbs": verbs}));
            let check = audited(&objects);
            assert_eq!(
                check.status,
                harmony_audit::Status::Fail,
                "{resource} {verbs}"
            );
            let expected = format!(
                "ServiceAccount harmony-system/harmony-operator writes NamespaceRequests beyond \
                 patching their status: ClusterRoleBinding harmony-operator → ClusterRole \
                 harmony-operator rule #{index}: "
            );
            assert!(
                check.evidence.iter().any(|e| e.starts_with(&expected)),
                "{resource} {verbs}: {:?}",
                check.evidence
            );
        }
    }
}
