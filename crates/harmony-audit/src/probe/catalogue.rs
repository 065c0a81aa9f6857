//! The probes: one request each, what it must get per role, and the benchmark check it follows.
//!
//! Every pod probe is the compliant pod ([`compliant_pod`]: restricted pod security, requests and
//! limits for every quota key) with exactly the probed aspect changed, so that a refusal is
//! attributable to that aspect.

use harmony_tenant::{PodSecurityLevel, TENANT_LABEL, TenantRole};
use serde_json::{Value, json};

use super::Expect;
use super::request::{
    CONFIG_MAP, NETWORK_POLICY, Name, POD, Probe, ProbeVerb, RBAC, ROLE_BINDING, ResourceKind,
    Scope, allow, allow_writers, block, core, grouped,
};

/// The name of every object a probe creates (dry run: none is stored).
const PROBE_NAME: &str = "harmony-probe";

fn object(kind: ResourceKind, rest: Value) -> Value {
    let mut body = json!({
        "apiVersion": kind.api_version(),
        "kind": kind.kind,
        "metadata": { "name": PROBE_NAME },
    });
    if let (Some(body), Value::Object(rest)) = (body.as_object_mut(), rest) {
        body.extend(rest);
    }
    body
}

/// A pod that restricted pod security, the tenant's quota and its limit range all admit.
pub fn compliant_pod() -> Value {
    let resources = json!({"cpu": "10m", "memory": "16Mi", "ephemeral-storage": "16Mi"});
    object(
        POD,
        json!({"spec": {
            "automountServiceAccountToken": false,
            "securityContext": {"runAsNonRoot": true, "runAsUser": 65534,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "probe",
                "image": "registry.k8s.io/pause:3.10",
                "resources": {"requests": resources, "limits": resources},
                "securityContext": {"allowPrivilegeEscalation": false,
                                    "capabilities": {"drop": ["ALL"]}},
            }],
        }}),
    )
}

/// The compliant pod with `change` applied to it.
fn pod_with(change: impl FnOnce(&mut Value)) -> ProbeVerb {
    let mut pod = compliant_pod();
    change(&mut pod);
    ProbeVerb::Create(pod)
}

fn container(pod: &mut Value) -> &mut Value {
    &mut pod["spec"]["containers"][0]
}

fn role_binding(role_kind: &str, role: &str) -> Value {
    object(
        ROLE_BINDING,
        json!({
            "roleRef": {"apiGroup": RBAC, "kind": role_kind, "name": role},
            "subjects": [{"apiGroup": RBAC, "kind": "User", "name": "harmony-probe"}],
        }),
    )
}

fn probe(
    id: &'static str,
    title: &'static str,
    mtb: &'static str,
    resource: ResourceKind,
    scope: Scope,
    verb: ProbeVerb,
    expectation: fn(TenantRole) -> Expect,
) -> Probe {
    Probe {
        id,
        title,
        mtb,
        resource,
        scope,
        verb,
        expectation,
        restricted_only: false,
    }
}

const CLUSTER_RESOURCES: &str = "MTB-PL1-CC-CPI-1 Block access to cluster resources";
const OTHER_TENANTS: &str = "MTB-PL1-CC-TI-2 Block access to other tenant resources";
const MULTITENANT: &str = "MTB-PL1-CC-TI-1 Block access to multitenant resources";
const ESCALATION: &str = "MTB-PL1-CC-CPI-1 Block access to cluster resources (RBAC escalation)";

/// The probes for a tenant whose pod security level is `level`: at `baseline`, not those only
/// `restricted` refuses (privilege escalation, running as root).
pub fn catalogue_for(level: PodSecurityLevel) -> Vec<Probe> {
    catalogue()
        .into_iter()
        .filter(|p| level == PodSecurityLevel::Restricted || !p.restricted_only)
        .collect()
}

/// Every probe, in id order.
pub fn catalogue() -> Vec<Probe> {
    use Scope::*;
    let managed = Name::Managed;
    let mut probes = vec![
        probe(
            "HMT-PROBE-001",
            "create a Namespace",
            CLUSTER_RESOURCES,
            core("Namespace", "namespaces", false),
            Cluster,
            ProbeVerb::Create(object(core("Namespace", "namespaces", false), json!({}))),
            block,
        ),
        probe(
            "HMT-PROBE-002",
            "create a ClusterRole",
            CLUSTER_RESOURCES,
            grouped(RBAC, "ClusterRole", "clusterroles", false),
            Cluster,
            ProbeVerb::Create(object(
                grouped(RBAC, "ClusterRole", "clusterroles", false),
                json!({"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}),
            )),
            block,
        ),
        probe(
            "HMT-PROBE-003",
            "create a ClusterRoleBinding to cluster-admin",
            CLUSTER_RESOURCES,
            grouped(RBAC, "ClusterRoleBinding", "clusterrolebindings", false),
            Cluster,
            ProbeVerb::Create(object(
                grouped(RBAC, "ClusterRoleBinding", "clusterrolebindings", false),
                json!({"roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "cluster-admin"},
                       "subjects": [{"apiGroup": RBAC, "kind": "User", "name": "harmony-probe"}]}),
            )),
            block,
        ),
        probe(
            "HMT-PROBE-004",
            "create a PersistentVolume",
            CLUSTER_RESOURCES,
            core("PersistentVolume", "persistentvolumes", false),
            Cluster,
            ProbeVerb::Create(object(
                core("PersistentVolume", "persistentvolumes", false),
                json!({"spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                                "hostPath": {"path": "/var/lib/harmony-probe"}}}),
            )),
            block,
        ),
        probe(
            "HMT-PROBE-005",
            "create a StorageClass",
            CLUSTER_RESOURCES,
            grouped("storage.k8s.io", "StorageClass", "storageclasses", false),
            Cluster,
            ProbeVerb::Create(object(
                grouped("storage.k8s.io", "StorageClass", "storageclasses", false),
                json!({"provisioner": "example.com/harmony-probe"}),
            )),
            block,
        ),
        probe(
            "HMT-PROBE-006",
            "list pods in another tenant's namespace",
            OTHER_TENANTS,
            POD,
            Other,
            ProbeVerb::List,
            block,
        ),
        probe(
            "HMT-PROBE-007",
            "list secrets in another tenant's namespace",
            OTHER_TENANTS,
            core("Secret", "secrets", true),
            Other,
            ProbeVerb::List,
            block,
        ),
        probe(
            "HMT-PROBE-008",
            "get a ConfigMap in another tenant's namespace",
            OTHER_TENANTS,
            CONFIG_MAP,
            Other,
            ProbeVerb::Get(Name::Fixed("kube-root-ca.crt")),
            block,
        ),
        probe(
            "HMT-PROBE-009",
            "create a ConfigMap in another tenant's namespace",
            OTHER_TENANTS,
            CONFIG_MAP,
            Other,
            ProbeVerb::Create(object(CONFIG_MAP, json!({}))),
            block,
        ),
        probe(
            "HMT-PROBE-010",
            "raise the namespace's ResourceQuota",
            MULTITENANT,
            core("ResourceQuota", "resourcequotas", true),
            Own,
            ProbeVerb::Patch(managed, json!({"spec": {"hard": {"pods": "100000"}}})),
            block,
        ),
        probe(
            "HMT-PROBE-011",
            "delete the namespace's ResourceQuota",
            MULTITENANT,
            core("ResourceQuota", "resourcequotas", true),
            Own,
            ProbeVerb::Delete(managed),
            block,
        ),
        probe(
            "HMT-PROBE-012",
            "loosen the namespace's LimitRange",
            MULTITENANT,
            core("LimitRange", "limitranges", true),
            Own,
            ProbeVerb::Patch(
                managed,
                json!({"spec": {"limits": [{"type": "Container", "max": {"cpu": "1000"}}]}}),
            ),
            block,
        ),
        probe(
            "HMT-PROBE-013",
            "open a NetworkPolicy to all ingress",
            MULTITENANT,
            NETWORK_POLICY,
            Own,
            ProbeVerb::Patch(managed, json!({"spec": {"ingress": [{}]}})),
            block,
        ),
        probe(
            "HMT-PROBE-014",
            "delete a NetworkPolicy",
            MULTITENANT,
            NETWORK_POLICY,
            Own,
            ProbeVerb::Delete(managed),
            block,
        ),
        probe(
            "HMT-PROBE-015",
            "create a NetworkPolicy",
            MULTITENANT,
            NETWORK_POLICY,
            Own,
            ProbeVerb::Create(object(
                NETWORK_POLICY,
                json!({"spec": {"podSelector": {}, "ingress": [{}], "policyTypes": ["Ingress"]}}),
            )),
            block,
        ),
        probe(
            "HMT-PROBE-016",
            "remove the namespace's tenant label (to escape its policies)",
            MULTITENANT,
            core("Namespace", "namespaces", false),
            Cluster,
            ProbeVerb::Patch(
                Name::OwnNamespace,
                json!({"metadata": {"labels": {TENANT_LABEL: null}}}),
            ),
            block,
        ),
        probe(
            "HMT-PROBE-017",
            "run a privileged container",
            "MTB-PL1-BC-CPI-5 Block privileged containers",
            POD,
            Own,
            // The API refuses privileged with allowPrivilegeEscalation false as invalid.
            pod_with(|p| {
                let context = &mut container(p)["securityContext"];
                context["privileged"] = json!(true);
                context["allowPrivilegeEscalation"] = json!(true);
            }),
            block,
        ),
        probe(
            "HMT-PROBE-018",
            "allow privilege escalation",
            "MTB-PL1-BC-CPI-6 Block privilege escalation",
            POD,
            Own,
            pod_with(|p| container(p)["securityContext"]["allowPrivilegeEscalation"] = json!(true)),
            block,
        )
        .restricted_only(),
        probe(
            "HMT-PROBE-019",
            "share the node's network (hostNetwork)",
            "MTB-PL1-BC-HI-3 Block use of host networking and ports",
            POD,
            Own,
            pod_with(|p| p["spec"]["hostNetwork"] = json!(true)),
            block,
        ),
        probe(
            "HMT-PROBE-020",
            "share the node's processes (hostPID)",
            "MTB-PL1-BC-HI-4 Block use of host PID",
            POD,
            Own,
            pod_with(|p| p["spec"]["hostPID"] = json!(true)),
            block,
        ),
        probe(
            "HMT-PROBE-021",
            "share the node's IPC (hostIPC)",
            "MTB-PL1-BC-HI-5 Block use of host IPC",
            POD,
            Own,
            pod_with(|p| p["spec"]["hostIPC"] = json!(true)),
            block,
        ),
        probe(
            "HMT-PROBE-022",
            "mount a hostPath volume",
            "MTB-PL1-BC-HI-1 Block use of bind mounts",
            POD,
            Own,
            pod_with(|p| {
                p["spec"]["volumes"] = json!([{"name": "host", "hostPath": {"path": "/etc"}}])
            }),
            block,
        ),
        probe(
            "HMT-PROBE-023",
            "open a hostPort",
            "MTB-PL1-BC-HI-3 Block use of host networking and ports",
            POD,
            Own,
            pod_with(|p| {
                container(p)["ports"] = json!([{"containerPort": 8080, "hostPort": 8080}])
            }),
            block,
        ),
        probe(
            "HMT-PROBE-024",
            "add the NET_ADMIN capability",
            "MTB-PL1-BC-CPI-3 Block add capabilities",
            POD,
            Own,
            pod_with(|p| {
                container(p)["securityContext"]["capabilities"]["add"] = json!(["NET_ADMIN"])
            }),
            block,
        ),
        probe(
            "HMT-PROBE-025",
            "add the SYS_ADMIN capability",
            "MTB-PL1-BC-CPI-3 Block add capabilities",
            POD,
            Own,
            pod_with(|p| {
                container(p)["securityContext"]["capabilities"]["add"] = json!(["SYS_ADMIN"])
            }),
            block,
        ),
        probe(
            "HMT-PROBE-026",
            "run as root (runAsUser 0)",
            "MTB-PL1-BC-CPI-4 Require run as non-root user",
            POD,
            Own,
            pod_with(|p| container(p)["securityContext"]["runAsUser"] = json!(0)),
            block,
        )
        .restricted_only(),
        probe(
            "HMT-PROBE-027",
            "run without runAsNonRoot",
            "MTB-PL1-BC-CPI-4 Require run as non-root user",
            POD,
            Own,
            pod_with(|p| {
                let context = &mut p["spec"]["securityContext"];
                if let Some(context) = context.as_object_mut() {
                    context.remove("runAsNonRoot");
                    context.remove("runAsUser");
                }
            }),
            block,
        )
        .restricted_only(),
        probe(
            "HMT-PROBE-028",
            "create a NodePort Service",
            "MTB-PL1-BC-HI-1 Block use of NodePort services",
            core("Service", "services", true),
            Own,
            ProbeVerb::Create(object(
                core("Service", "services", true),
                json!({"spec": {"type": "NodePort", "selector": {"app": "probe"},
                                "ports": [{"port": 80}]}}),
            )),
            block,
        ),
        probe(
            "HMT-PROBE-029",
            "claim an existing PersistentVolume",
            "MTB-PL1-CC-DI-1 Block use of existing persistent volumes",
            core("PersistentVolumeClaim", "persistentvolumeclaims", true),
            Own,
            ProbeVerb::Create(object(
                core("PersistentVolumeClaim", "persistentvolumeclaims", true),
                json!({"spec": {"volumeName": "harmony-probe", "accessModes": ["ReadWriteOnce"],
                                "resources": {"requests": {"storage": "1Gi"}}}}),
            )),
            block,
        ),
        probe(
            "HMT-PROBE-030",
            "bind cluster-admin in the namespace",
            ESCALATION,
            ROLE_BINDING,
            Own,
            ProbeVerb::Create(role_binding("ClusterRole", "cluster-admin")),
            block,
        ),
        probe(
            "HMT-PROBE-031",
            "bind the ClusterRole admin, which no member holds",
            ESCALATION,
            ROLE_BINDING,
            Own,
            ProbeVerb::Create(role_binding("ClusterRole", "admin")),
            block,
        ),
        probe(
            "HMT-PROBE-032",
            "run a compliant pod (sanity)",
            "sanity: the pod probes are refused for their aspect only",
            POD,
            Own,
            ProbeVerb::Create(compliant_pod()),
            allow_writers,
        ),
        probe(
            "HMT-PROBE-033",
            "create a ConfigMap in the namespace (sanity)",
            "sanity: writers can work in their namespace",
            CONFIG_MAP,
            Own,
            ProbeVerb::Create(object(CONFIG_MAP, json!({"data": {"probe": "true"}}))),
            allow_writers,
        ),
        probe(
            "HMT-PROBE-034",
            "list pods in the namespace (sanity)",
            "sanity: every member can read its namespace",
            POD,
            Own,
            ProbeVerb::List,
            allow,
        ),
    ];
    probes.sort_by_key(|p| p.id);
    probes
}
