//! Tenant pods stay off the node: only PVC, configMap, secret, emptyDir, projected and
//! downwardAPI volumes, no host namespaces, no host ports. This holds whatever pod-security
//! level the namespace has (baseline allows some of it to no one, but this rule does not depend
//! on labels a tenant might get changed).
//!
//! Only CREATE is matched: volumes, host namespaces and ports of a pod are immutable.

use super::{AdmissionRule, Draft, build, resources, validation};
use crate::guardrail::GuardrailId;

/// The volume sources tenant pods may use.
pub(crate) const ALLOWED_VOLUMES: [&str; 6] = [
    "persistentVolumeClaim",
    "configMap",
    "secret",
    "emptyDir",
    "projected",
    "downwardAPI",
];

/// No container of `field` (`containers`, `initContainers`) asks for a host port.
fn no_host_port(field: &str) -> String {
    format!(
        "(!has(object.spec.{field}) || object.spec.{field}.all(c, !has(c.ports) || c.ports.all(p, !has(p.hostPort) || p.hostPort == 0)))"
    )
}

pub(super) fn rule() -> AdmissionRule {
    let volume_ok = ALLOWED_VOLUMES
        .iter()
        .map(|source| format!("has(v.{source})"))
        .collect::<Vec<_>>()
        .join(" || ");
    let host_namespaces = ["hostNetwork", "hostPID", "hostIPC"]
        .iter()
        .map(|f| format!("!(has(object.spec.{f}) && object.spec.{f})"))
        .collect::<Vec<_>>()
        .join(" && ");
    build(Draft {
        id: GuardrailId::TenantPods,
        resources: vec![resources("", &["pods"], &["CREATE"])],
        tenant_namespaces_only: true,
        per_tenant_params: None,
        match_conditions: vec![],
        validations: vec![
            validation(
                format!("!has(object.spec.volumes) || object.spec.volumes.all(v, {volume_ok})"),
                format!(
                    "spec.volumes: tenant pods may only use {} volumes (no hostPath, inline csi, ephemeral or other node-level volumes): use a PersistentVolumeClaim instead",
                    ALLOWED_VOLUMES.join(", ")
                ),
            ),
            validation(
                host_namespaces,
                "spec.hostNetwork, hostPID, hostIPC: tenant pods cannot share the node's network, process or IPC namespaces: remove these fields",
            ),
            validation(
                format!(
                    "{} && {}",
                    no_host_port("containers"),
                    no_host_port("initContainers")
                ),
                "ports[].hostPort: tenant containers cannot open ports on the node: remove hostPort and expose the port through a Service",
            ),
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::simulator::{Request, Verdict};
    use serde_json::{Value, json};

    fn pod(spec: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": "app", "namespace": "acme"}, "spec": spec})
    }

    fn admit(spec: Value) -> Verdict {
        Request::create("", "pods", pod(spec))
            .in_tenant_namespace("acme")
            .by("system:serviceaccount:acme:ci")
            .admit(&rule())
    }

    #[test]
    fn allows_the_allowed_volumes_and_plain_containers() {
        let spec = json!({
            "containers": [{"name": "app", "image": "nginx", "ports": [{"containerPort": 80}]}],
            "initContainers": [{"name": "init", "image": "busybox"}],
            "volumes": [
                {"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
                {"name": "cfg", "configMap": {"name": "cfg"}},
                {"name": "sec", "secret": {"secretName": "sec"}},
                {"name": "tmp", "emptyDir": {}},
                {"name": "token", "projected": {"sources": []}},
                {"name": "info", "downwardAPI": {"items": []}},
            ],
            "hostNetwork": false,
        });
        assert_eq!(admit(spec), Verdict::Allowed);
        assert_eq!(
            admit(json!({"containers": [{"name": "a", "image": "x"}]})),
            Verdict::Allowed
        );
    }

    #[test]
    fn refuses_host_path_inline_csi_and_ephemeral_volumes() {
        for volume in [
            json!({"name": "root", "hostPath": {"path": "/"}}),
            json!({"name": "csi", "csi": {"driver": "secrets-store.csi.k8s.io"}}),
            json!({"name": "eph", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}}),
            json!({"name": "nfs", "nfs": {"server": "10.0.0.1", "path": "/"}}),
        ] {
            let spec = json!({"containers": [{"name": "a", "image": "x"}],
                              "volumes": [{"name": "tmp", "emptyDir": {}}, volume]});
            let verdict = admit(spec);
            assert!(verdict.refused_with("spec.volumes"), "{verdict:?}");
        }
    }

    #[test]
    fn refuses_host_namespaces() {
        for field in ["hostNetwork", "hostPID", "hostIPC"] {
            let mut spec = json!({"containers": [{"name": "a", "image": "x"}]});
            spec[field] = json!(true);
            assert!(admit(spec).refused_with("hostPID"), "{field}");
        }
    }

    #[test]
    fn refuses_host_ports_in_any_container() {
        let with_port = json!({"name": "a", "image": "x",
                               "ports": [{"containerPort": 80}, {"containerPort": 8080, "hostPort": 8080}]});
        let plain = json!({"name": "b", "image": "x"});
        for spec in [
            json!({"containers": [plain.clone(), with_port.clone()]}),
            json!({"containers": [plain], "initContainers": [with_port]}),
        ] {
            assert!(admit(spec).refused_with("hostPort"));
        }
    }

    #[test]
    fn does_not_apply_outside_tenant_namespaces_or_to_updates() {
        let host = pod(json!({"hostNetwork": true, "containers": []}));
        let platform = Request::create("", "pods", host.clone())
            .in_namespace(
                "openshift-dns",
                json!({"kubernetes.io/metadata.name": "openshift-dns"}),
            )
            .admit(&rule());
        assert_eq!(platform, Verdict::NotMatched);
        let update = Request::update("", "pods", host.clone(), host)
            .in_tenant_namespace("acme")
            .admit(&rule());
        assert_eq!(update, Verdict::NotMatched);
    }
}
