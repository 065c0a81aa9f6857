//! Tenant status: quota used against hard limits, members and their roles, policies present, and
//! drift from the score.

use std::collections::BTreeMap;

use harmony::InterpretError;
use harmony_tenant::{MANAGED_BY_LABEL, MANAGED_BY_VALUE, TENANT_LABEL, TenantPlan};
use serde::Serialize;
use serde_json::Value;

use harmony_kube::{Cluster, Kind};
use k8s_openapi::api::core::v1::{Namespace, ResourceQuota};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::rbac::v1::RoleBinding;

use crate::apply::{ApplyOptions, Mode, ObjectChange, TenantReport, apply_plan};
use crate::snapshot::Snapshot;

/// One quota line: a resource, what is used and the hard limit.
#[derive(Debug, Clone, Serialize)]
pub struct QuotaUse {
    /// The resource, such as `requests.cpu`.
    pub resource: String,
    /// Used, as the quota controller reports it.
    pub used: String,
    /// The hard limit.
    pub hard: String,
}

/// One RoleBinding: who is bound to which role.
#[derive(Debug, Clone, Serialize)]
pub struct MemberAccess {
    /// The RoleBinding's name.
    pub binding: String,
    /// The role bound (`Role tenant-admin`).
    pub role: String,
    /// The subjects (`User alice@acme.com`, `ServiceAccount acme/ci`).
    pub subjects: Vec<String>,
}

/// The state of one tenant in the cluster (of one of its namespaces, for a tenant with several).
#[derive(Debug, Clone, Serialize)]
pub struct TenantStatus {
    /// The tenant id.
    pub tenant: String,
    /// Its namespace.
    pub namespace: String,
    /// The namespace's phase (`Active`, `Terminating`).
    pub phase: String,
    /// Quota usage.
    pub quota: Vec<QuotaUse>,
    /// Members and their roles.
    pub members: Vec<MemberAccess>,
    /// NetworkPolicies present.
    pub policies: Vec<String>,
    /// What differs from the score, when the score was given (`None`: not compared, or not the
    /// tenant's default namespace: the drift of a tenant with several namespaces is on its
    /// default namespace's status).
    pub drift: Option<Vec<ObjectChange>>,
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The status of the tenants named in `tenants` (all managed tenants when empty). A tenant whose
/// plan is in `plans` also gets its drift from that plan.
pub async fn tenant_status(
    cluster: &Cluster,
    tenants: &[String],
    plans: &[TenantPlan],
) -> Result<Vec<TenantStatus>, InterpretError> {
    let selector = format!("{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}");
    let namespaces = cluster.list(Kind::of::<Namespace>(), "", &selector).await?;
    // A tenant with several namespaces has one status per namespace.
    let mut found: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for ns in &namespaces {
        if let Some(t) = ns["metadata"]["labels"][TENANT_LABEL].as_str() {
            found.entry(t.to_string()).or_default().push(ns);
        }
    }
    let missing: Vec<&String> = tenants.iter().filter(|t| !found.contains_key(*t)).collect();
    if !missing.is_empty() {
        return Err(InterpretError::Invalid(format!(
            "no tenant {} in the cluster (no namespace labelled {MANAGED_BY_LABEL}={MANAGED_BY_VALUE} \
             and {TENANT_LABEL}=<tenant>); `harmony tenant status` without names lists them all",
            missing
                .iter()
                .map(|t| format!("`{t}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let snapshot = Snapshot::new();
    let mut statuses = Vec::new();
    for (tenant, tenant_namespaces) in found {
        if !tenants.is_empty() && !tenants.contains(&tenant) {
            continue;
        }
        let plan = plans.iter().find(|p| p.tenant == tenant);
        let mut drift = match plan {
            Some(plan) => {
                let mut report = TenantReport::default();
                let options = ApplyOptions {
                    mode: Mode::Plan,
                    force: false,
                };
                apply_plan(cluster, &snapshot, plan, options, &mut report).await?;
                Some(report.changes)
            }
            None => None,
        };
        // The tenant-wide drift goes with its default namespace (the first it has in the cluster
        // when no plan says which).
        let default = plan.map_or_else(
            || text(&tenant_namespaces[0]["metadata"]["name"]),
            |p| p.namespace.clone(),
        );
        for namespace in tenant_namespaces {
            let ns = text(&namespace["metadata"]["name"]);
            statuses.push(TenantStatus {
                phase: text(&namespace["status"]["phase"]),
                quota: quota(cluster, &ns).await?,
                members: members(cluster, &ns).await?,
                policies: names(&cluster.list(Kind::of::<NetworkPolicy>(), &ns, "").await?),
                drift: if ns == default { drift.take() } else { None },
                tenant: tenant.clone(),
                namespace: ns,
            });
        }
    }
    Ok(statuses)
}

fn names(items: &[Value]) -> Vec<String> {
    items.iter().map(|i| text(&i["metadata"]["name"])).collect()
}

async fn quota(cluster: &Cluster, namespace: &str) -> Result<Vec<QuotaUse>, InterpretError> {
    let mut lines = Vec::new();
    for quota in cluster
        .list(Kind::of::<ResourceQuota>(), namespace, "")
        .await?
    {
        let hard = quota["status"]["hard"]
            .as_object()
            .or(quota["spec"]["hard"].as_object())
            .cloned()
            .unwrap_or_default();
        for (resource, limit) in hard {
            lines.push(QuotaUse {
                used: text(&quota["status"]["used"][resource.as_str()]),
                hard: text(&limit),
                resource,
            });
        }
    }
    Ok(lines)
}

async fn members(cluster: &Cluster, namespace: &str) -> Result<Vec<MemberAccess>, InterpretError> {
    Ok(cluster
        .list(Kind::of::<RoleBinding>(), namespace, "")
        .await?
        .iter()
        .map(MemberAccess::of)
        .collect())
}

impl MemberAccess {
    /// What the RoleBinding `binding` (as JSON) grants, and to whom.
    pub(crate) fn of(binding: &Value) -> Self {
        Self {
            binding: text(&binding["metadata"]["name"]),
            role: format!(
                "{} {}",
                text(&binding["roleRef"]["kind"]),
                text(&binding["roleRef"]["name"])
            ),
            subjects: binding["subjects"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|s| match s["namespace"].as_str() {
                    Some(ns) => format!("{} {ns}/{}", text(&s["kind"]), text(&s["name"])),
                    None => format!("{} {}", text(&s["kind"]), text(&s["name"])),
                })
                .collect(),
        }
    }
}
