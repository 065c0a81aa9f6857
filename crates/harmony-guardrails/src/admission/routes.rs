//! OKD Routes (`route.openshift.io/v1`) of tenants serve only the tenant's hostnames, as its
//! Ingresses do: `spec.host` must be one of them, so a Route without host is refused (the host
//! OKD generates, `<name>-<namespace>.<apps domain>`, is in no tenant's list), and a
//! `Subdomain` wildcard policy, which claims every host of a domain, is refused.
//!
//! On clusters that do not serve Routes the policy matches nothing.

use super::ingress::{foreign_host, tenant_host};
use super::{AdmissionRule, Draft, build, resources, validation, with_params_always};
use crate::guardrail::GuardrailId;

pub(super) fn rule() -> AdmissionRule {
    with_params_always(build(Draft {
        id: GuardrailId::TenantRoutes,
        resources: vec![resources(
            "route.openshift.io",
            &["routes"],
            &["CREATE", "UPDATE"],
        )],
        tenant_namespaces_only: true,
        per_tenant_params: None,
        match_conditions: vec![],
        validations: vec![
            validation(
                format!(
                    "has(object.spec.host) && object.spec.host != '' && {}",
                    tenant_host("object.spec.host")
                ),
                format!(
                    "{} (a Route without host gets a generated one, which is in no tenant's list)",
                    foreign_host("spec.host")
                ),
            ),
            validation(
                "!has(object.spec.wildcardPolicy) || object.spec.wildcardPolicy == 'None'".into(),
                "spec.wildcardPolicy: a Subdomain Route claims every host of its domain on the shared router: use None and one Route per host",
            ),
        ],
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::simulator::{Request, Verdict};
    use harmony_tenant::TenantScore;
    use harmony_tenant::tenant_parameters;
    use serde_json::{Value, json};

    fn admit(spec: Value) -> Verdict {
        let tenant = TenantScore::new("acme")
            .ingress_hostname("acme.example.com")
            .ingress_hostname("*.apps.acme.example.com");
        let route = json!({"apiVersion": "route.openshift.io/v1", "kind": "Route",
                           "metadata": {"name": "web", "namespace": "acme"}, "spec": spec});
        Request::create("route.openshift.io", "routes", route)
            .in_tenant_namespace("acme")
            .by("alice@acme.com")
            .with_params(serde_json::to_value(tenant_parameters(&tenant)).unwrap())
            .admit(&rule())
    }

    #[test]
    fn admits_routes_on_the_tenants_hosts() {
        for host in ["acme.example.com", "shop.apps.acme.example.com"] {
            let spec = json!({"host": host, "to": {"kind": "Service", "name": "web"}});
            assert_eq!(admit(spec), Verdict::Allowed, "{host}");
        }
        let explicit_none = json!({"host": "acme.example.com", "wildcardPolicy": "None",
                                   "to": {"kind": "Service", "name": "web"}});
        assert_eq!(admit(explicit_none), Verdict::Allowed);
    }

    #[test]
    fn refuses_other_hosts_and_routes_without_host() {
        for spec in [
            json!({"host": "globex.example.com", "to": {"kind": "Service", "name": "web"}}),
            json!({"to": {"kind": "Service", "name": "web"}}),
            json!({"host": "", "subdomain": "web", "to": {"kind": "Service", "name": "web"}}),
        ] {
            let verdict = admit(spec.clone());
            assert!(
                verdict.refused_with("spec.host: this host is not one of the tenant's hostnames"),
                "{spec}: {verdict:?}"
            );
        }
    }

    #[test]
    fn refuses_subdomain_wildcards() {
        let verdict = admit(json!({"host": "shop.apps.acme.example.com",
                                   "wildcardPolicy": "Subdomain",
                                   "to": {"kind": "Service", "name": "web"}}));
        assert!(verdict.refused_with("spec.wildcardPolicy"), "{verdict:?}");
    }
}
