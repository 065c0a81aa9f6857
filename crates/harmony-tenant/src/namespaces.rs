//! A tenant's several namespaces (`spec.namespaces`): each with its name and a few overrides of
//! the tenant's settings, and the one-namespace view of the tenant each namespace compiles from.
//!
//! Overridable per namespace: `podSecurity`, `resourceQuotas` (each value set replaces the
//! tenant's, the others are the tenant's) and `internetEgress`. Everything else (members, storage,
//! ingress, monitoring, workloads) is the tenant's, in every namespace.

use harmony::Problem;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::facts::{ClusterFacts, ClusterFlavor};
use crate::quantity::Amount;
use crate::resolved::ResolvedQuota;
use crate::score::{InternetEgress, PodSecurityLevel, ResourceQuotaConfig, TenantScore};

/// One namespace of a tenant with several, and what it overrides of the tenant's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TenantNamespace {
    /// The namespace name: a DNS-1123 label, unique in the cluster.
    pub name: String,
    /// The Pod Security Standard of this namespace (default: the tenant's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_security: Option<PodSecurityLevel>,
    /// Quota values of this namespace; each value set replaces the tenant's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_quotas: Option<ResourceQuotaConfig>,
    /// Internet egress of this namespace (default: the tenant's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internet_egress: Option<InternetEgress>,
    /// The `NamespaceRequest` (`namespace/name`) a self-service namespace was granted for; never
    /// in a tenant file.
    #[serde(skip)]
    pub request: Option<String>,
}

impl TenantNamespace {
    /// A namespace named `name` without overrides.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            pod_security: None,
            resource_quotas: None,
            internet_egress: None,
            request: None,
        }
    }

    /// Overrides the quota values set in `quotas`.
    pub fn quotas(mut self, quotas: ResourceQuotaConfig) -> Self {
        self.resource_quotas = Some(quotas);
        self
    }

    /// Overrides the Pod Security Standard level.
    pub fn pod_security(mut self, level: PodSecurityLevel) -> Self {
        self.pod_security = Some(level);
        self
    }

    /// Overrides internet egress.
    pub fn internet_egress(mut self, egress: InternetEgress) -> Self {
        self.internet_egress = Some(egress);
        self
    }
}

impl TenantScore {
    /// The tenant's namespaces, in the order of the tenant file; the first is the default one
    /// (member credentials, ServiceAccount subjects of the audit). One namespace, `spec.namespace`
    /// or the tenant id, unless `spec.namespaces` lists several.
    pub fn namespaces(&self) -> Vec<&str> {
        match &self.tenant_config.namespaces {
            Some(list) if !list.is_empty() => list.iter().map(|n| n.name.as_str()).collect(),
            _ => vec![
                self.tenant_config
                    .namespace
                    .as_deref()
                    .unwrap_or(&self.tenant_config.name),
            ],
        }
    }

    /// The `NamespaceRequest` namespace `name` of the tenant was granted for, if self-service.
    pub fn request_of(&self, name: &str) -> Option<&str> {
        self.tenant_config
            .namespaces
            .iter()
            .flatten()
            .find(|ns| ns.name == name)
            .and_then(|ns| ns.request.as_deref())
    }

    /// Whether the tenant file lists its namespaces (`spec.namespaces`).
    pub fn lists_namespaces(&self) -> bool {
        self.tenant_config.namespaces.is_some()
    }

    /// Lists the tenant's namespaces (`spec.namespaces`), replacing `spec.namespace`.
    pub fn with_namespaces(
        mut self,
        namespaces: impl IntoIterator<Item = TenantNamespace>,
    ) -> Self {
        self.tenant_config.namespace = None;
        self.tenant_config.namespaces = Some(namespaces.into_iter().collect());
        self
    }

    /// One one-namespace tenant per namespace, with that namespace's overrides applied; the tenant
    /// itself when it does not list namespaces. Each compiles to that namespace's objects.
    pub fn namespace_scores(&self) -> Vec<TenantScore> {
        let list = match &self.tenant_config.namespaces {
            Some(list) if !list.is_empty() => list,
            _ => return vec![self.clone()],
        };
        list.iter()
            .map(|ns| {
                let mut view = self.clone();
                view.tenant_config.namespace = Some(ns.name.clone());
                view.tenant_config.namespaces = None;
                if let Some(level) = ns.pod_security {
                    view.tenant_config.pod_security = level;
                }
                if let Some(egress) = ns.internet_egress {
                    view.network_isolation.internet_egress = egress;
                }
                if let Some(quotas) = &ns.resource_quotas {
                    view.resource_quotas = self.quotas_with(quotas);
                }
                view
            })
            .collect()
    }

    /// The tenant's quota settings with the values of `overrides` replacing theirs.
    fn quotas_with(&self, overrides: &ResourceQuotaConfig) -> ResourceQuotaConfig {
        let json = |q| serde_json::to_value(q).expect("quota settings always serialize");
        let mut merged = json(&self.resource_quotas);
        overlay(&mut merged, &json(overrides));
        serde_json::from_value(merged).expect("two quota settings overlay into one")
    }
}

/// Writes every value of `over` into `base`, object fields recursively.
fn overlay(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(base), Value::Object(over)) => {
            for (key, value) in over {
                overlay(base.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
        (base, over) => *base = over.clone(),
    }
}

/// The problems of `spec.namespaces`: both forms set, an empty list, a repeated name and, on Kubernetes (no ClusterResourceQuota), namespace quotas
/// adding up to more than the tenant's total. Each namespace's own settings are checked by
/// [`TenantScore::validate`] on its [`TenantScore::namespace_scores`].
pub(crate) fn problems(score: &TenantScore, facts: &ClusterFacts, problems: &mut Vec<Problem>) {
    let Some(list) = &score.tenant_config.namespaces else {
        return;
    };
    if let Some(one) = &score.tenant_config.namespace {
        problems.push(Problem::new(
            "spec.namespaces",
            format!(
                "is set together with spec.namespace (`{one}`): set one of them; to give the \
                 tenant several namespaces, list `{one}` under spec.namespaces and remove \
                 spec.namespace"
            ),
        ));
    }
    if list.is_empty() {
        problems.push(Problem::new(
            "spec.namespaces",
            "is empty: list at least one namespace (`- name: <tenant>-dev`), or leave the field \
             out for one namespace named after the tenant",
        ));
        return;
    }
    for (i, ns) in list.iter().enumerate() {
        if let Some(first) = list[..i].iter().position(|o| o.name == ns.name) {
            problems.push(Problem::new(
                format!("spec.namespaces[{i}].name"),
                format!(
                    "`{}` is listed twice (also spec.namespaces[{first}]): list each namespace once",
                    ns.name
                ),
            ));
        }
    }
    if facts.flavor == ClusterFlavor::Kubernetes {
        shared_total(score, problems);
    }
}

/// A quota key the namespaces of a tenant share on Kubernetes, with its value in a resolved quota.
type Shared = (&'static str, fn(&ResolvedQuota) -> String);

/// The keys whose namespace values must add up to at most the tenant's total on Kubernetes.
const SHARED: [Shared; 7] = [
    ("requests.cpu", |q| q.requests.cpu.0.clone()),
    ("requests.memory", |q| q.requests.memory.0.clone()),
    ("requests.ephemeralStorage", |q| {
        q.requests.ephemeral_storage.0.clone()
    }),
    ("limits.cpu", |q| q.limits.cpu.0.clone()),
    ("limits.memory", |q| q.limits.memory.0.clone()),
    ("limits.ephemeralStorage", |q| {
        q.limits.ephemeral_storage.0.clone()
    }),
    ("objects.pods", |q| q.objects.pods.to_string()),
];

/// On Kubernetes each namespace has its own ResourceQuota and nothing caps the tenant as a whole:
/// the namespaces' values must add up to at most the tenant's (`spec.resourceQuotas`).
fn shared_total(score: &TenantScore, problems: &mut Vec<Problem>) {
    let total = score.resource_quotas.resolved();
    let views = score.namespace_scores();
    let quotas: Vec<(String, ResolvedQuota)> = views
        .iter()
        .map(|v| (v.namespace().to_string(), v.resource_quotas.resolved()))
        .collect();
    for (key, value) in SHARED {
        let Ok(limit) = Amount::parse(&value(&total)) else {
            continue;
        };
        let parts: Option<Vec<(String, Amount)>> = quotas
            .iter()
            .map(|(ns, q)| Amount::parse(&value(q)).ok().map(|a| (ns.clone(), a)))
            .collect();
        let Some(parts) = parts else {
            continue;
        };
        let sum: Amount = parts.iter().map(|(_, a)| *a).sum();
        if sum > limit {
            let terms: Vec<String> = parts.iter().map(|(ns, a)| format!("{ns} {a}")).collect();
            problems.push(Problem::new(
                "spec.namespaces",
                format!(
                    "the namespaces' {key} add up to {sum} ({}), above the tenant total \
                     spec.resourceQuotas.{key} ({limit}): on Kubernetes the namespaces share \
                     the total, so set spec.namespaces[*].resourceQuotas.{key} to add up to at \
                     most {limit}, or raise spec.resourceQuotas.{key}",
                    terms.join(" + ")
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::ComputeResources;
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

    fn cpu(requests: &str) -> ResourceQuotaConfig {
        ResourceQuotaConfig {
            requests: ComputeResources {
                cpu: Some(Quantity(requests.into())),
                ..ComputeResources::default()
            },
            ..ResourceQuotaConfig::default()
        }
    }

    #[test]
    fn one_namespace_tenants_are_their_own_view() {
        let score = TenantScore::new("acme").in_namespace("acme-prod");
        assert_eq!(score.namespaces(), ["acme-prod"]);
        assert_eq!(score.namespace_scores(), std::slice::from_ref(&score));
        assert!(!score.lists_namespaces());
        assert_eq!(TenantScore::new("acme").namespaces(), ["acme"]);
    }

    #[test]
    fn views_apply_each_namespace_override_and_keep_the_rest() {
        let score = TenantScore::new("acme")
            .requests("6", "12Gi")
            .with_namespaces([
                TenantNamespace::new("acme-dev")
                    .pod_security(PodSecurityLevel::Baseline)
                    .internet_egress(InternetEgress::Deny)
                    .quotas(cpu("1")),
                TenantNamespace::new("acme-prod"),
            ]);
        assert_eq!(score.namespaces(), ["acme-dev", "acme-prod"]);
        assert_eq!(score.namespace(), "acme-dev");
        let [dev, prod] = score.namespace_scores().try_into().unwrap();
        assert_eq!(dev.namespace(), "acme-dev");
        assert_eq!(dev.tenant_config.pod_security, PodSecurityLevel::Baseline);
        assert_eq!(dev.network_isolation.internet_egress, InternetEgress::Deny);
        assert_eq!(dev.resource_quotas.requests.cpu, Some(Quantity("1".into())));
        assert_eq!(
            dev.resource_quotas.requests.memory,
            Some(Quantity("12Gi".into()))
        );
        assert_eq!(prod.namespace(), "acme-prod");
        assert_eq!(prod.resource_quotas, score.resource_quotas);
        assert_eq!(
            prod.tenant_config.pod_security,
            PodSecurityLevel::Restricted
        );
        assert!(!dev.lists_namespaces() && !prod.lists_namespaces());
    }

    fn found(score: &TenantScore, facts: &ClusterFacts) -> Vec<Problem> {
        let mut out = Vec::new();
        problems(score, facts, &mut out);
        out
    }

    #[test]
    fn refuses_both_forms_an_empty_list_and_a_repeated_name() {
        let mut both = TenantScore::new("acme").with_namespaces([TenantNamespace::new("a")]);
        both.tenant_config.namespace = Some("acme-prod".into());
        let [p] = found(&both, &ClusterFacts::okd()).try_into().unwrap();
        assert_eq!(p.path, "spec.namespaces");
        assert!(p.message.contains("spec.namespace (`acme-prod`)"), "{p}");
        assert!(p.message.contains("remove spec.namespace"), "{p}");

        let empty = TenantScore::new("acme").with_namespaces([]);
        let [p] = found(&empty, &ClusterFacts::okd()).try_into().unwrap();
        assert!(p.message.starts_with("is empty"), "{p}");

        let twice = TenantScore::new("acme")
            .with_namespaces([TenantNamespace::new("a"), TenantNamespace::new("a")]);
        let [p] = found(&twice, &ClusterFacts::okd()).try_into().unwrap();
        assert_eq!(p.path, "spec.namespaces[1].name");
        assert!(p.message.contains("listed twice"), "{p}");
    }

    #[test]
    fn kubernetes_quotas_must_add_up_to_the_total_and_okd_has_a_cluster_quota() {
        let tenant = |a: &str, b: &str| {
            TenantScore::new("acme")
                .requests("4", "8Gi")
                .limits("8", "16Gi")
                .max_pods(20)
                .with_namespaces([
                    TenantNamespace::new("acme-dev").quotas(ResourceQuotaConfig {
                        limits: cpu_limits("4"),
                        objects: pods(10),
                        requests: mem(a, "4Gi"),
                        ..ResourceQuotaConfig::default()
                    }),
                    TenantNamespace::new("acme-prod").quotas(ResourceQuotaConfig {
                        limits: cpu_limits("4"),
                        objects: pods(10),
                        requests: mem(b, "4Gi"),
                        ..ResourceQuotaConfig::default()
                    }),
                ])
        };
        let limits_default = |mut score: TenantScore| {
            // Ephemeral storage and memory limits at their defaults in every namespace add up to
            // twice the default total: set them at the tenant level so that only cpu is checked.
            score.resource_quotas.limits.memory = Some(Quantity("32Gi".into()));
            score.resource_quotas.limits.ephemeral_storage = Some(Quantity("40Gi".into()));
            score.resource_quotas.requests.ephemeral_storage = Some(Quantity("20Gi".into()));
            for ns in score.tenant_config.namespaces.iter_mut().flatten() {
                let q = ns.resource_quotas.as_mut().unwrap();
                q.limits.memory = Some(Quantity("16Gi".into()));
                q.limits.ephemeral_storage = Some(Quantity("20Gi".into()));
                q.requests.ephemeral_storage = Some(Quantity("10Gi".into()));
            }
            score
        };
        let fits = limits_default(tenant("1", "3"));
        assert_eq!(found(&fits, &ClusterFacts::kubernetes()), []);
        let over = limits_default(tenant("1", "3500m"));
        let [p] = found(&over, &ClusterFacts::kubernetes())
            .try_into()
            .unwrap();
        assert_eq!(p.path, "spec.namespaces");
        assert!(
            p.message.contains(
                "requests.cpu add up to 4500m (acme-dev 1 + acme-prod 3500m), above the tenant \
                 total spec.resourceQuotas.requests.cpu (4)"
            ),
            "{p}"
        );
        assert!(
            p.message
                .contains("set spec.namespaces[*].resourceQuotas.requests.cpu"),
            "{p}"
        );
        assert_eq!(found(&over, &ClusterFacts::okd()), []);
    }

    fn cpu_limits(cpu: &str) -> ComputeResources {
        ComputeResources {
            cpu: Some(Quantity(cpu.into())),
            ..ComputeResources::default()
        }
    }

    fn mem(cpu: &str, memory: &str) -> ComputeResources {
        ComputeResources {
            cpu: Some(Quantity(cpu.into())),
            memory: Some(Quantity(memory.into())),
            ..ComputeResources::default()
        }
    }

    fn pods(pods: i64) -> crate::score::ObjectCounts {
        crate::score::ObjectCounts {
            pods: Some(pods),
            ..Default::default()
        }
    }
}
