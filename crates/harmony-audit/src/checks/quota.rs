//! Resource governance: quota keys, NodePort/LoadBalancer, storage, pod security.

use std::collections::BTreeMap;

use harmony_tenant::STORAGE_CLASS_QUOTA_SUFFIX;
use k8s_openapi::api::core::v1::ResourceQuota;

use super::{Check, Context, Expectation, Status, Tenant};
use crate::rbac::{Request, UserInfo};

/// Why quota `q` constrains nothing: two of its scopes no pod can match together
/// (`Terminating` and `NotTerminating`, `BestEffort` and `NotBestEffort`, a scope and its
/// `DoesNotExist`).
fn void_scopes(q: &ResourceQuota) -> Option<String> {
    let spec = q.spec.as_ref()?;
    let listed = spec.scopes.iter().flatten().map(|s| (s.clone(), true));
    let selected = spec
        .scope_selector
        .iter()
        .flat_map(|s| s.match_expressions.iter().flatten())
        .filter_map(|e| match e.operator.as_str() {
            "Exists" => Some((e.scope_name.clone(), true)),
            "DoesNotExist" => Some((format!("{} DoesNotExist", e.scope_name), false)),
            _ => None,
        });
    // Each term as (its text, the pod property it is about, the value it requires).
    let terms: Vec<(String, &str, bool)> = listed
        .chain(selected)
        .filter_map(|(text, present)| {
            let (property, value) = match text.split(' ').next()? {
                "Terminating" => ("Terminating", true),
                "NotTerminating" => ("Terminating", false),
                "BestEffort" => ("BestEffort", true),
                "NotBestEffort" => ("BestEffort", false),
                _ => return None,
            };
            Some((text, property, value == present))
        })
        .collect();
    terms.iter().enumerate().find_map(|(i, (a, p, v))| {
        let (b, ..) = terms[i + 1..]
            .iter()
            .find(|(_, p2, v2)| p2 == p && v2 != v)?;
        Some(format!("scopes {a} and {b} exclude each other"))
    })
}

/// The ResourceQuotas of `ns` that constrain nothing, one line each.
fn void_quotas(ctx: &Context, ns: &str) -> Vec<String> {
    ctx.by_namespace
        .get(ns)
        .resource_quotas
        .iter()
        .filter_map(|q| {
            Some(format!(
                "ResourceQuota {ns}/{} constrains nothing ({}): not counted",
                q.metadata.name.as_deref().unwrap_or_default(),
                void_scopes(q)?
            ))
        })
        .collect()
}

/// Hard limits of every ResourceQuota in `ns` that constrains something, key → (value, quota
/// name); the lowest wins.
fn hard(ctx: &Context, ns: &str) -> BTreeMap<String, (String, String)> {
    let mut out = BTreeMap::new();
    for q in ctx
        .by_namespace
        .get(ns)
        .resource_quotas
        .iter()
        .filter(|q| void_scopes(q).is_none())
    {
        let name = q.metadata.name.clone().unwrap_or_default();
        for (k, v) in q.spec.iter().flat_map(|s| s.hard.iter().flatten()) {
            out.entry(k.clone()).or_insert((v.0.clone(), name.clone()));
        }
    }
    out
}

fn is_zero(v: &str) -> bool {
    v.trim_start_matches(['0', '.']).is_empty() || v.parse::<f64>().is_ok_and(|f| f == 0.0)
}

const LEVELS: [&str; 3] = ["privileged", "baseline", "restricted"];

pub(super) fn checks(ctx: &Context, t: &Tenant, expect: &Expectation) -> Vec<Check> {
    let ns = t.namespace.as_str();
    let hard = hard(ctx, ns);
    let key = |k: &str| {
        hard.get(k)
            .map(|(v, q)| format!("{k}={v} (ResourceQuota {ns}/{q})"))
    };
    let any = |keys: &[&str]| keys.iter().find_map(|k| key(k));

    let mut missing = Vec::new();
    let mut present = Vec::new();
    for (what, keys) in [
        ("CPU requests", &["requests.cpu", "cpu"][..]),
        ("memory requests", &["requests.memory", "memory"]),
        ("CPU limits", &["limits.cpu"]),
        ("memory limits", &["limits.memory"]),
        ("pod count", &["pods", "count/pods"]),
    ] {
        match any(keys) {
            Some(e) => present.push(e),
            None => missing.push(format!(
                "no quota on {what} (set one of {})",
                keys.join(", ")
            )),
        }
    }
    let objects = hard.keys().any(|k| {
        [
            "services",
            "secrets",
            "configmaps",
            "persistentvolumeclaims",
        ]
        .contains(&k.as_str())
            || (k.starts_with("count/") && k != "count/pods")
    });
    if !objects {
        missing.push("no object-count quota (services, secrets, configmaps, persistentvolumeclaims or count/*)".into());
    }
    let mut quota = Check::from_failures(
        "HMT-QUOTA-001",
        "Quota present with compute and object keys",
        missing,
        present,
    );
    let has_limit_range = !ctx.by_namespace.get(ns).limit_ranges.is_empty();
    if quota.status == Status::Pass && !has_limit_range {
        quota.status = Status::Warn;
        quota.evidence.push(format!(
            "no LimitRange in {ns}: containers without requests count against nothing"
        ));
    }
    let void = void_quotas(ctx, ns);
    if !void.is_empty() {
        quota.status = quota.status.max(Status::Warn);
        quota.evidence.extend(void);
    }
    if quota.status == Status::Pass {
        let unbounded = unbounded(ctx, ns, &hard);
        if !unbounded.is_empty() {
            quota.status = Status::Warn;
            quota.evidence.extend(unbounded);
        }
    }

    let mut blocked = Vec::new();
    let mut open = Vec::new();
    for k in ["services.nodeports", "services.loadbalancers"] {
        match hard.get(k) {
            Some((v, q)) if is_zero(v) => blocked.push(format!("{k}=0 (ResourceQuota {ns}/{q})")),
            Some((v, q)) => open.push(format!("{k}={v} in ResourceQuota {ns}/{q}: set it to 0")),
            None => open.push(format!("no `{k}` quota: add `{k}: \"0\"`")),
        }
    }

    vec![
        quota,
        Check::from_failures(
            "HMT-QUOTA-002",
            "NodePort and LoadBalancer services blocked",
            open,
            blocked,
        ),
        storage(ctx, t, &hard, expect),
        pod_security(ctx, t, expect),
    ]
}

/// The kinds a tenant creates in bulk, by quota key, and what Harmony's own quota sets.
const BULK_COUNTS: [(&str, i64); 10] = [
    (
        "count/deployments.apps",
        harmony_tenant::defaults::DEPLOYMENTS,
    ),
    (
        "count/statefulsets.apps",
        harmony_tenant::defaults::STATEFUL_SETS,
    ),
    (
        "count/replicasets.apps",
        harmony_tenant::defaults::REPLICA_SETS,
    ),
    ("count/jobs.batch", harmony_tenant::defaults::JOBS),
    ("count/cronjobs.batch", harmony_tenant::defaults::CRON_JOBS),
    (
        "count/ingresses.networking.k8s.io",
        harmony_tenant::defaults::INGRESSES,
    ),
    (
        "count/poddisruptionbudgets.policy",
        harmony_tenant::defaults::POD_DISRUPTION_BUDGETS,
    ),
    (
        "count/serviceaccounts",
        harmony_tenant::defaults::SERVICE_ACCOUNTS,
    ),
    (
        "count/roles.rbac.authorization.k8s.io",
        harmony_tenant::defaults::ROLES,
    ),
    (
        "count/rolebindings.rbac.authorization.k8s.io",
        harmony_tenant::defaults::ROLE_BINDINGS,
    ),
];

/// What a tenant of `ns` can grow without bound: the bulk kinds without a count quota, and
/// ephemeral storage when no LimitRange gives containers a default limit of it.
fn unbounded(ctx: &Context, ns: &str, hard: &BTreeMap<String, (String, String)>) -> Vec<String> {
    let mut found: Vec<String> = BULK_COUNTS
        .iter()
        .filter(|(key, _)| !hard.contains_key(*key))
        .map(|(key, default)| {
            format!("no `{key}` quota: the tenant can create them without bound (Harmony sets {default})")
        })
        .collect();
    let ephemeral_default = ctx
        .by_namespace
        .get(ns)
        .limit_ranges
        .iter()
        .flat_map(|l| l.spec.iter().flat_map(|s| &s.limits))
        .any(|item| {
            item.type_ == "Container"
                && item
                    .default
                    .as_ref()
                    .is_some_and(|d| d.contains_key("ephemeral-storage"))
        });
    if !ephemeral_default {
        found.push(format!(
            "no LimitRange in {ns} gives containers a default ephemeral-storage limit: a pod without one can fill its node's disk"
        ));
    }
    found
}

/// Claims only (no PersistentVolumes), every storage class of the cluster capped, and none but
/// the tenant file's classes capped above 0.
fn storage(
    ctx: &Context,
    t: &Tenant,
    hard: &BTreeMap<String, (String, String)>,
    expect: &Expectation,
) -> Check {
    let ns = t.namespace.as_str();
    let mut failures = Vec::new();
    for s in &t.subjects {
        let user = UserInfo::from(s);
        for v in ["create", "update", "patch", "delete"] {
            let r = Request::resource(v, "", "persistentvolumes", "");
            failures.extend(
                ctx.authz
                    .can(&user, &r)
                    .evidence
                    .iter()
                    .map(|g| format!("{s} can {r}: {g}")),
            );
        }
    }
    let no_claims = hard
        .get("persistentvolumeclaims")
        .is_some_and(|(v, _)| is_zero(v));
    let mut evidence = Vec::new();
    for class in &ctx.config.facts.storage_classes {
        let k = format!("{class}{STORAGE_CLASS_QUOTA_SUFFIX}");
        match hard.get(&k) {
            Some((v, q)) => evidence.push(format!("{k}={v} (ResourceQuota {ns}/{q})")),
            None if no_claims => {
                evidence.push(format!("persistentvolumeclaims=0 covers class {class}"))
            }
            None => failures.push(format!(
                "storage class `{class}` is not capped: add `{k}` to the quota (0 if not allowed)"
            )),
        }
    }
    if let Some(allowed) = expect.storage_classes.as_ref().filter(|_| !no_claims) {
        failures.extend(outside_allow_list(ns, hard, allowed));
    }
    if evidence.is_empty() {
        evidence.push("no subject can write PersistentVolumes".into());
    }
    Check::from_failures(
        "HMT-STOR-001",
        "PVC-only storage, class allow-list enforced by quota",
        failures,
        evidence,
    )
}

/// The classes the quota of `ns` lets the tenant claim from though its file does not allow them.
fn outside_allow_list(
    ns: &str,
    hard: &BTreeMap<String, (String, String)>,
    allowed: &[String],
) -> Vec<String> {
    let listed = match allowed {
        [] => "none".to_string(),
        classes => classes.join(", "),
    };
    hard.iter()
        .filter_map(|(k, (v, q))| {
            let class = k.strip_suffix(STORAGE_CLASS_QUOTA_SUFFIX)?;
            (!is_zero(v) && !allowed.iter().any(|a| a == class)).then(|| {
                format!(
                    "storage class `{class}` is not in the tenant file's spec.storageAccess.storageClasses ({listed}), but {k}={v} (ResourceQuota {ns}/{q}) lets the tenant claim from it: set it to 0, or allow the class in the tenant file"
                )
            })
        })
        .collect()
}

fn pod_security(ctx: &Context, t: &Tenant, expect: &Expectation) -> Check {
    let ns = t.namespace.as_str();
    let label = "pod-security.kubernetes.io/enforce";
    let level = ctx
        .by_namespace
        .get(ns)
        .labels
        .and_then(|l| l.get(label))
        .cloned();
    let rank = |l: &str| LEVELS.iter().position(|x| *x == l);
    let failures = match (&level, rank(&expect.pod_security)) {
        (Some(l), Some(want)) if rank(l).is_some_and(|r| r >= want) => vec![],
        (Some(l), _) => vec![format!(
            "namespace {ns} has {label}={l}, below `{}`",
            expect.pod_security
        )],
        (None, _) => vec![format!(
            "namespace {ns} has no {label} label: set it to `{}`",
            expect.pod_security
        )],
    };
    Check::from_failures(
        "HMT-PSA-001",
        "Pod security enforced at the configured level",
        failures,
        vec![format!("{label}={}", level.unwrap_or_default())],
    )
}

#[cfg(test)]
mod tests {
    use harmony_tenant::{ClusterFacts, TenantPlan, TenantScore, compile};
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

    use crate::{AuditConfig, ClusterSnapshot, Expectation, Status, audit};

    fn snapshot(facts: &ClusterFacts) -> ClusterSnapshot {
        let plans: Vec<TenantPlan> = [TenantScore::new("acme")]
            .iter()
            .map(|t| compile(t, facts))
            .collect();
        let mut snapshot = ClusterSnapshot::from_plans(&plans);
        snapshot.add_platform(facts);
        snapshot.add_placeholder_pods();
        snapshot
    }

    fn quota_check(snapshot: &ClusterSnapshot, facts: ClusterFacts) -> crate::Check {
        let report = audit(snapshot, &AuditConfig::new(facts));
        report.tenants[0]
            .checks
            .iter()
            .find(|c| c.id == "HMT-QUOTA-001")
            .unwrap()
            .clone()
    }

    /// A quota that caps a class above 0 though the tenant file does not list it: the tenant
    /// can claim from it, which only the tenant file's allow-list reveals.
    #[test]
    fn a_class_outside_the_tenant_file_s_allow_list_fails_storage() {
        let mut facts = ClusterFacts::kubernetes();
        facts.storage_classes.push("fast".into());
        let tenant = TenantScore::new("acme").storage_class("standard", "10Gi");
        let mut snapshot = ClusterSnapshot::from_plans(&[compile(&tenant, &facts)]);
        snapshot.add_platform(&facts);
        let mut expected = AuditConfig::new(facts.clone());
        expected
            .expectations
            .insert("acme".into(), Expectation::of(&tenant, None));
        let storage = |snapshot: &ClusterSnapshot, config: &AuditConfig| {
            let report = audit(snapshot, config);
            let check = report.tenants[0]
                .checks
                .iter()
                .find(|c| c.id == "HMT-STOR-001");
            check.unwrap().clone()
        };
        assert_eq!(storage(&snapshot, &expected).status, Status::Pass);

        let hard = snapshot.resource_quotas[0]
            .spec
            .as_mut()
            .and_then(|s| s.hard.as_mut())
            .unwrap();
        let fast = "fast.storageclass.storage.k8s.io/requests.storage";
        hard.insert(fast.into(), Quantity("50Gi".into()));
        let unknown = storage(&snapshot, &AuditConfig::new(facts));
        assert_eq!(
            unknown.status,
            Status::Pass,
            "capped, as far as the quota tells"
        );
        let check = storage(&snapshot, &expected);
        assert_eq!(check.status, Status::Fail, "{check:?}");
        assert_eq!(
            check.evidence,
            [format!(
                "storage class `fast` is not in the tenant file's spec.storageAccess.storageClasses (standard), but {fast}=50Gi (ResourceQuota acme/tenant-quota) lets the tenant claim from it: set it to 0, or allow the class in the tenant file"
            )]
        );
    }

    #[test]
    fn harmony_s_quota_bounds_every_bulk_kind_and_ephemeral_storage() {
        let facts = ClusterFacts::kubernetes();
        let check = quota_check(&snapshot(&facts), facts);
        assert_eq!(check.status, Status::Pass, "{check:?}");
    }

    #[test]
    fn a_missing_count_or_ephemeral_default_warns_and_names_it() {
        let facts = ClusterFacts::kubernetes();
        let mut snapshot = snapshot(&facts);
        let hard = snapshot.resource_quotas[0]
            .spec
            .as_mut()
            .and_then(|s| s.hard.as_mut())
            .unwrap();
        hard.remove("count/deployments.apps");
        let items = &mut snapshot.limit_ranges[0].spec.as_mut().unwrap().limits;
        items[0]
            .default
            .as_mut()
            .unwrap()
            .remove("ephemeral-storage");
        let check = quota_check(&snapshot, facts);
        assert_eq!(check.status, Status::Warn, "{check:?}");
        for needle in [
            "no `count/deployments.apps` quota: the tenant can create them without bound (Harmony sets 20)",
            "no LimitRange in acme gives containers a default ephemeral-storage limit",
        ] {
            assert!(
                check
                    .evidence
                    .iter()
                    .any(|e| e == needle || e.starts_with(needle)),
                "{needle}: {check:?}"
            );
        }
    }
}
