//! No NodePort or LoadBalancer Service, no `externalIPs`, in tenant namespaces: they would
//! expose tenant pods on every node or on addresses the tenant does not own. No ExternalName
//! Service either: behind an Ingress, the shared ingress controller would proxy to any name it
//! points at, such as another tenant's Service or the API server (CVE-2021-25740).

use super::{AdmissionRule, Draft, build, resources, validation};
use crate::guardrail::GuardrailId;

pub(super) fn rule() -> AdmissionRule {
    build(Draft {
        id: GuardrailId::TenantServices,
        resources: vec![resources("", &["services"], &["CREATE", "UPDATE"])],
        tenant_namespaces_only: true,
        per_tenant_params: None,
        match_conditions: vec![],
        validations: vec![
            validation(
                "!has(object.spec.type) || (object.spec.type != 'NodePort' && object.spec.type != 'LoadBalancer')".into(),
                "spec.type: NodePort and LoadBalancer Services are not allowed in tenant namespaces: use type ClusterIP and expose it through an Ingress or Route",
            ),
            validation(
                "!has(object.spec.type) || object.spec.type != 'ExternalName'".into(),
                "spec.type: ExternalName Services are not allowed in tenant namespaces: the shared ingress controller would proxy to whatever name they point at, such as another tenant's Service or the API server; select your own pods with a ClusterIP Service",
            ),
            validation(
                "!has(object.spec.externalIPs) || size(object.spec.externalIPs) == 0".into(),
                "spec.externalIPs: external IPs are not allowed in tenant namespaces: remove the field and expose the Service through an Ingress or Route",
            ),
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::simulator::{Request, Verdict};
    use serde_json::json;

    fn service(spec: serde_json::Value) -> serde_json::Value {
        json!({"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "web", "namespace": "acme"}, "spec": spec})
    }

    fn create(spec: serde_json::Value) -> Verdict {
        Request::create("", "services", service(spec))
            .in_tenant_namespace("acme")
            .by("alice@acme.com")
            .admit(&rule())
    }

    #[test]
    fn allows_cluster_ip_and_headless_services() {
        assert_eq!(create(json!({"ports": [{"port": 80}]})), Verdict::Allowed);
        assert_eq!(
            create(json!({"type": "ClusterIP", "clusterIP": "None"})),
            Verdict::Allowed
        );
        assert_eq!(
            create(json!({"type": "ClusterIP", "externalIPs": []})),
            Verdict::Allowed
        );
    }

    #[test]
    fn refuses_node_ports_and_load_balancers() {
        for kind in ["NodePort", "LoadBalancer"] {
            let verdict = create(json!({"type": kind, "ports": [{"port": 80}]}));
            assert!(
                verdict.refused_with("NodePort and LoadBalancer"),
                "{verdict:?}"
            );
        }
    }

    #[test]
    fn refuses_external_ips_also_on_update() {
        let verdict = create(json!({"externalIPs": ["203.0.113.7"]}));
        assert!(verdict.refused_with("spec.externalIPs"), "{verdict:?}");
        let update = Request::update(
            "",
            "services",
            service(json!({"type": "ClusterIP"})),
            service(json!({"type": "NodePort"})),
        )
        .in_tenant_namespace("acme")
        .by("alice@acme.com")
        .admit(&rule());
        assert!(update.refused_with("NodePort"), "{update:?}");
    }

    #[test]
    fn refuses_external_name_services() {
        let verdict = create(json!({"type": "ExternalName",
                                    "externalName": "web.globex.svc.cluster.local"}));
        assert!(
            verdict.refused_with("spec.type: ExternalName Services are not allowed"),
            "{verdict:?}"
        );
        let update = Request::update(
            "",
            "services",
            service(json!({"type": "ClusterIP"})),
            service(json!({"type": "ExternalName", "externalName": "kubernetes.default"})),
        )
        .in_tenant_namespace("acme")
        .by("alice@acme.com")
        .admit(&rule());
        assert!(update.refused_with("ExternalName"), "{update:?}");
    }

    #[test]
    fn leaves_other_namespaces_alone() {
        let verdict = Request::create("", "services", service(json!({"type": "LoadBalancer"})))
            .in_namespace("openshift-ingress", json!({}))
            .by("system:admin")
            .admit(&rule());
        assert_eq!(verdict, Verdict::NotMatched);
    }
}
