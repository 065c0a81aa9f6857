//! The shared ingress controller serves every tenant (CVE-2021-25740 class): an ExternalName
//! Service behind an Ingress sends it to any name, a rule without host or a default backend takes
//! every host, and an Ingress on a host another tenant's Ingress serves takes that tenant's
//! paths (HMT-ING-001).

use harmony_tenant::hostname_matches;
use k8s_openapi::api::networking::v1::Ingress;

use super::{Check, Context, Tenant};

/// `ingress`'s rule hosts; `None` for a rule without host.
fn hosts(ingress: &Ingress) -> Vec<Option<&str>> {
    ingress
        .spec
        .iter()
        .flat_map(|s| s.rules.iter().flatten())
        .map(|r| r.host.as_deref().filter(|h| !h.is_empty()))
        .collect()
}

fn name(metadata: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> String {
    format!(
        "{}/{}",
        metadata.namespace.as_deref().unwrap_or_default(),
        metadata.name.as_deref().unwrap_or_default()
    )
}

pub(super) fn checks(ctx: &Context, t: &Tenant) -> Vec<Check> {
    let ns = t.namespace.as_str();
    let objects = ctx.by_namespace.get(ns);
    let mut failures: Vec<String> = objects
        .services
        .iter()
        .filter_map(|s| {
            let spec = s.spec.as_ref()?;
            (spec.type_.as_deref() == Some("ExternalName")).then(|| {
                format!(
                    "Service {} is ExternalName to `{}`: an Ingress sends the shared ingress controller to that name, which may be another tenant's Service or the API server",
                    name(&s.metadata),
                    spec.external_name.as_deref().unwrap_or_default()
                )
            })
        })
        .collect();
    let others: Vec<(&Ingress, &Tenant)> = ctx
        .snapshot
        .ingresses
        .iter()
        .filter_map(|i| Some((i, ctx.tenant_of(i.metadata.namespace.as_deref()?)?)))
        .filter(|(_, other)| other.namespace != ns)
        .collect();
    for ingress in &objects.ingresses {
        let this = name(&ingress.metadata);
        if ingress
            .spec
            .as_ref()
            .is_some_and(|s| s.default_backend.is_some())
        {
            failures.push(format!(
                "Ingress {this} has a defaultBackend: it catches requests for every host of the shared ingress controller"
            ));
        }
        for host in hosts(ingress) {
            let Some(host) = host else {
                failures.push(format!(
                    "Ingress {this} has a rule without host: it serves every host of the shared ingress controller"
                ));
                continue;
            };
            for (other, tenant) in &others {
                let shared = hosts(other)
                    .into_iter()
                    .flatten()
                    .find(|h| hostname_matches(h, host) || hostname_matches(host, h));
                if let Some(theirs) = shared {
                    failures.push(format!(
                        "Ingress {this} serves host `{host}`, which Ingress {} of tenant {} serves as `{theirs}`: one tenant can take the other's paths",
                        name(&other.metadata),
                        tenant.name
                    ));
                }
            }
        }
    }
    vec![Check::from_failures(
        "HMT-ING-001",
        "No ExternalName Services and no Ingress on every host or another tenant's host",
        failures,
        vec![format!(
            "no ExternalName Service in {ns}; every Ingress rule of {ns} has a host no other tenant's Ingress serves"
        )],
    )]
}

#[cfg(test)]
mod tests {
    use harmony_tenant::{ClusterFacts, TenantScore, compile};
    use serde_json::{Value, json};

    use crate::{AuditConfig, Check, ClusterSnapshot, Status, audit};

    fn parse<T: serde::de::DeserializeOwned>(value: Value) -> T {
        serde_json::from_value(value).unwrap()
    }

    fn ingress(namespace: &str, name: &str, host: Option<&str>) -> Value {
        let mut rule = json!({"http": {"paths": [{"path": "/", "pathType": "Prefix",
            "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}});
        if let Some(host) = host {
            rule["host"] = json!(host);
        }
        json!({"metadata": {"name": name, "namespace": namespace}, "spec": {"rules": [rule]}})
    }

    /// HMT-ING-001 of acme and globex on a cluster holding `services` and `ingresses`.
    fn ing_001(services: Vec<Value>, ingresses: Vec<Value>) -> (Check, Check) {
        let facts = ClusterFacts::kubernetes();
        let plans = ["acme", "globex"].map(|t| compile(&TenantScore::new(t), &facts));
        let mut snapshot = ClusterSnapshot::from_plans(&plans);
        snapshot.services = services.into_iter().map(parse).collect();
        snapshot.ingresses = ingresses.into_iter().map(parse).collect();
        let report = audit(&snapshot, &AuditConfig::new(facts));
        let check = |tenant: &str| {
            report
                .tenants
                .iter()
                .find(|t| t.tenant == tenant)
                .and_then(|t| t.checks.iter().find(|c| c.id == "HMT-ING-001"))
                .unwrap()
                .clone()
        };
        (check("acme"), check("globex"))
    }

    #[test]
    fn own_hosts_and_cluster_ip_services_pass() {
        let web = json!({"metadata": {"name": "web", "namespace": "acme"},
                         "spec": {"type": "ClusterIP", "ports": [{"port": 80}]}});
        let (acme, globex) = ing_001(
            vec![web],
            vec![
                ingress("acme", "web", Some("www.acme.example.com")),
                ingress("globex", "web", Some("www.globex.example.com")),
            ],
        );
        assert_eq!(acme.status, Status::Pass, "{acme:?}");
        assert_eq!(globex.status, Status::Pass, "{globex:?}");
    }

    #[test]
    fn external_names_fail() {
        let external = json!({"metadata": {"name": "api", "namespace": "acme"},
                              "spec": {"type": "ExternalName", "externalName": "kubernetes.default.svc"}});
        let (acme, globex) = ing_001(vec![external], vec![]);
        assert_eq!(acme.status, Status::Fail);
        assert!(
            acme.evidence[0].starts_with(
                "Service acme/api is ExternalName to `kubernetes.default.svc`: an Ingress sends"
            ),
            "{acme:?}"
        );
        assert_eq!(globex.status, Status::Pass);
    }

    #[test]
    fn another_tenants_host_and_hostless_rules_fail() {
        let (acme, globex) = ing_001(
            vec![],
            vec![
                ingress("acme", "web", Some("www.acme.example.com")),
                ingress("globex", "steal", Some("*.acme.example.com")),
                ingress("globex", "all", None),
            ],
        );
        assert_eq!(globex.status, Status::Fail);
        assert_eq!(
            globex.evidence,
            [
                "Ingress globex/steal serves host `*.acme.example.com`, which Ingress acme/web of tenant acme serves as `www.acme.example.com`: one tenant can take the other's paths",
                "Ingress globex/all has a rule without host: it serves every host of the shared ingress controller",
            ]
        );
        assert_eq!(acme.status, Status::Fail);
        assert!(acme.evidence[0].contains("Ingress globex/steal of tenant globex"));
    }
}
