//! Cluster guardrails on a live cluster: the [`GuardrailsManager`] capability of [`K8sTopology`].
//!
//! The plan is applied with server-side apply (field manager `harmony`) rank by rank, each rank
//! accepted whole before the next starts: admission policies, their bindings, the baseline
//! network tier, tenant network tiers, OKD hardening. Only what differs is written (the
//! comparison of tenant apply). The tenant parameter ConfigMaps the bindings read are not
//! guardrail objects: each tenant's plan carries its own.
//!
//! `--force` takes over any field; without it, only `self-provisioners` is forced: OKD owns that
//! binding and OKD hardening takes its subjects over knowingly, which the outcome says.
//!
//! Pruned, bindings before policies: the admission policies, bindings and network tiers labelled
//! managed-by `harmony` that the plan no longer holds. A tenant's AdminNetworkPolicy is kept while
//! a namespace of that tenant exists (its isolation would rest on NetworkPolicies alone), with a
//! warning. Never pruned: `self-provisioners` (deleting it would not give project creation back,
//! and OKD would restore it with every user at restart).

use harmony_tenant::PlanObject;
use std::collections::{BTreeMap, BTreeSet};

use harmony::{InterpretError, Outcome};
use harmony_guardrails::{GuardrailObject, GuardrailsFacts, GuardrailsManager, GuardrailsPlan};
use harmony_kube::kinds::{ADMIN_NETWORK_POLICY, BASELINE_ADMIN_NETWORK_POLICY};
use harmony_kube::{ApiFailure, Cluster, FIELD_MANAGER, Kind, ObjectRef};
use harmony_tenant::{MANAGED_BY_LABEL, MANAGED_BY_VALUE, TENANT_LABEL, TenantManager};
use k8s_openapi::api::admissionregistration::v1::{
    ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding,
};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
use serde_json::Value;

use crate::apply::{Action, Mode, ObjectChange};
use crate::cluster_report::{Report, text};
use crate::compare::{creation, differences};
use crate::topology::K8sTopology;

/// The kinds of a guardrails plan, in apply order, and whether Harmony prunes them.
const KINDS: [(Kind, bool); 5] = [
    (Kind::of::<ValidatingAdmissionPolicy>(), true),
    (Kind::of::<ValidatingAdmissionPolicyBinding>(), true),
    (BASELINE_ADMIN_NETWORK_POLICY, true),
    (ADMIN_NETWORK_POLICY, true),
    (Kind::of::<ClusterRoleBinding>(), false),
];

/// Where a planned object lives.
fn key_of(object: &GuardrailObject) -> ObjectRef {
    let kind = KINDS
        .iter()
        .map(|(kind, _)| *kind)
        .find(|kind| kind.name() == object.kind())
        .expect("every guardrail kind is in KINDS");
    ObjectRef {
        kind,
        namespace: object.namespace().unwrap_or_default().into(),
        name: object.name().into(),
    }
}

/// What is live: the guardrail objects Harmony manages, and the tenants' namespaces.
struct Live {
    objects: BTreeMap<ObjectRef, Value>,
    /// Tenant namespace name → tenant.
    namespaces: BTreeMap<String, String>,
}

impl Live {
    async fn read(cluster: &Cluster) -> Result<Self, ApiFailure> {
        let selector = format!("{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}");
        let mut objects = BTreeMap::new();
        for (kind, _) in KINDS {
            for item in cluster.list(kind, "", &selector).await? {
                let meta = &item["metadata"];
                let key = ObjectRef {
                    kind,
                    namespace: text(&meta["namespace"]),
                    name: text(&meta["name"]),
                };
                objects.insert(key, item);
            }
        }
        let namespaces = cluster
            .list(Kind::of::<Namespace>(), "", TENANT_LABEL)
            .await?
            .iter()
            .map(|ns| {
                let meta = &ns["metadata"];
                (text(&meta["name"]), text(&meta["labels"][TENANT_LABEL]))
            })
            .collect();
        Ok(Self {
            objects,
            namespaces,
        })
    }

    /// The live object at `key`: from the managed list, else (cluster-scoped objects Harmony
    /// does not label yet, such as `self-provisioners`) read by name.
    async fn get(&self, cluster: &Cluster, key: &ObjectRef) -> Result<Option<Value>, ApiFailure> {
        match self.objects.get(key) {
            Some(live) => Ok(Some(live.clone())),
            None if key.namespace.is_empty() => cluster.get(key.kind, "", &key.name).await,
            None => Ok(None),
        }
    }
}

/// One decided write.
struct Write {
    key: ObjectRef,
    body: Value,
    force: bool,
    change: ObjectChange,
}

/// Field managers other than Harmony that own fields of `live`.
fn other_managers(live: &Value) -> Vec<String> {
    let mut managers: Vec<String> = live["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["manager"].as_str())
        .filter(|m| *m != FIELD_MANAGER)
        .map(String::from)
        .collect();
    managers.sort();
    managers.dedup();
    managers
}

/// Decides the write of `object`, or `None` when the live object already holds it.
async fn decide(
    cluster: &Cluster,
    live: &Live,
    object: &GuardrailObject,
    force: bool,
    report: &mut Report,
) -> Result<Option<Write>, ApiFailure> {
    let key = key_of(object);
    let body = object.to_json();
    let current = live.get(cluster, &key).await?;
    let (action, diff) = match &current {
        None => (Action::Created, creation(&body)),
        Some(current) => match differences(&body, current) {
            diff if diff.is_empty() => {
                report.unchanged += 1;
                return Ok(None);
            }
            diff => (Action::Changed, diff),
        },
    };
    let takes_over = matches!(object, GuardrailObject::ClusterRoleBinding(_));
    if takes_over && let Some(current) = &current {
        let owners = other_managers(current);
        report.notes.push(format!(
            "forced {}: OKD hardening takes its subjects over{} (server-side apply with force); autoupdate=false keeps OKD from restoring them",
            key,
            if owners.is_empty() {
                String::new()
            } else {
                format!(" from {}", owners.join(", "))
            }
        ));
    }
    let change = ObjectChange {
        action,
        object: key.to_string(),
        diff,
    };
    Ok(Some(Write {
        key,
        body,
        force: force || takes_over,
        change,
    }))
}

/// Applies `plan` rank by rank, then prunes.
async fn ensure(
    cluster: &Cluster,
    plan: &GuardrailsPlan,
    mode: Mode,
    force: bool,
) -> Result<Report, ApiFailure> {
    let live = Live::read(cluster).await?;
    let mut report = Report::default();
    let mut ranks: BTreeMap<u8, Vec<&GuardrailObject>> = BTreeMap::new();
    for object in plan.objects() {
        ranks.entry(object.ordinal()).or_default().push(object);
    }
    for objects in ranks.values() {
        let mut writes = Vec::new();
        for object in objects {
            writes.extend(decide(cluster, &live, object, force, &mut report).await?);
        }
        if mode == Mode::Plan {
            report.changes.extend(writes.into_iter().map(|w| w.change));
            continue;
        }
        let dry_run = mode == Mode::DryRun;
        let results = futures::future::join_all(
            writes
                .iter()
                .map(|w| cluster.apply(&w.key, &w.body, w.force, dry_run)),
        )
        .await;
        let mut failure = None;
        for (write, result) in writes.into_iter().zip(results) {
            match result {
                Ok(_) => report.changes.push(write.change),
                Err(e) => {
                    failure.get_or_insert(e);
                }
            }
        }
        if let Some(failure) = failure {
            return Err(ApiFailure {
                kind: failure.kind,
                message: format!(
                    "{} (guardrails stopped there: the objects after it in apply order were not applied and nothing was pruned; run again once fixed)",
                    failure.message
                ),
            });
        }
    }
    prune(cluster, &live, plan, mode, &mut report).await?;
    Ok(report)
}

/// Deletes, network tiers then bindings then policies, the prunable guardrail objects Harmony
/// manages that `plan` no longer holds; keeps the network tier of a tenant that still has a
/// namespace.
async fn prune(
    cluster: &Cluster,
    live: &Live,
    plan: &GuardrailsPlan,
    mode: Mode,
    report: &mut Report,
) -> Result<(), ApiFailure> {
    let planned: BTreeSet<ObjectRef> = plan.objects().iter().map(key_of).collect();
    let tenants: BTreeSet<&String> = live.namespaces.values().collect();
    for (kind, prunable) in KINDS.iter().rev() {
        if !prunable {
            continue;
        }
        for (key, object) in live.objects.iter().filter(|(k, _)| k.kind == *kind) {
            if planned.contains(key) {
                continue;
            }
            let tenant = text(&object["metadata"]["labels"][TENANT_LABEL]);
            if *kind == ADMIN_NETWORK_POLICY && tenants.contains(&tenant) {
                report.notes.push(format!(
                    "warning: kept {}: tenant {tenant} still has a namespace; pass every tenant's file to `harmony cluster guardrails apply` (or delete the tenant first)",
                    key
                ));
                continue;
            }
            if mode != Mode::Plan {
                cluster
                    .delete(*kind, &key.namespace, &key.name, mode == Mode::DryRun)
                    .await?;
            }
            report.changes.push(ObjectChange {
                action: Action::Pruned,
                object: key.to_string(),
                diff: Vec::new(),
            });
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl GuardrailsManager for K8sTopology {
    /// The discovered cluster facts, and whether the cluster serves the AdminNetworkPolicy API
    /// group (the fact `networkTiers: auto` follows).
    async fn guardrails_facts(&self) -> Result<GuardrailsFacts, InterpretError> {
        let cluster = self.cluster_facts().await?;
        let groups = self.cluster().api_groups().await?;
        Ok(GuardrailsFacts {
            cluster,
            admin_network_policies: Some(groups.iter().any(|g| g == ADMIN_NETWORK_POLICY.group())),
        })
    }

    async fn ensure_guardrails(&self, plan: &GuardrailsPlan) -> Result<Outcome, InterpretError> {
        let options = self.options;
        let report = ensure(self.cluster(), plan, options.mode, options.force).await?;
        Ok(report.outcome(options.mode))
    }
}
