//! Shared helpers of the tests against a real control plane (`harmony_testkit::ControlPlane`):
//! the bounded poller, the topology and the applies of tenants and guardrails, requesters acting
//! through impersonation, the checks that an admission rule refuses or admits a request, the live
//! snapshot the audit reads, and network-config-analyzer's verdict on it.

#![allow(dead_code)] // each test file uses a different part

#[path = "../common.rs"]
mod common;

use std::fmt::Debug;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use harmony::{Maestro, Outcome, Score};
use harmony_audit::ClusterSnapshot;
use harmony_audit::crosscheck::{
    PodPairs, disagreements, parse_nca, pod_connectivity, write_nca_input,
};
use harmony_guardrails::{ClusterGuardrailsScore, GuardrailId, GuardrailsScore, Toggle};
use harmony_k8s::{ApplyOptions, FactsSource, InventoryReader, K8sTopology};
use harmony_kube::cluster_from_config;
use harmony_tenant::{ClusterFacts, MANAGED_BY_LABEL, TenantScore};
use harmony_testkit::ControlPlane;
use k8s_openapi::api::admissionregistration::v1::ValidatingAdmissionPolicy;
use k8s_openapi::api::core::v1::{ResourceQuota, ServiceAccount};
use kube::api::{Api, ListParams, PostParams};
use kube::core::Status;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// How long a written object may take to be seen by the API server's admission or controllers.
pub const SETTLE: Duration = Duration::from_secs(60);

/// Polls `ready` until it gives a value or [`SETTLE`] has passed; then the last `Err` is the
/// failure message.
pub async fn eventually<T>(what: &str, ready: impl AsyncFn() -> Result<T, String>) -> T {
    let deadline = Instant::now() + SETTLE;
    loop {
        match ready().await {
            Ok(value) => return value,
            Err(last) if Instant::now() > deadline => {
                panic!("{what}: not within {SETTLE:?}; last: {last}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

/// Facts flags for the vanilla plane, whose networks cannot be discovered.
pub fn vanilla_facts(plane: &ControlPlane) -> FactsSource {
    FactsSource {
        pod_networks: vec![plane.pod_network()],
        service_networks: vec![plane.service_network()],
        ..FactsSource::default()
    }
}

/// A topology on `plane`, as its admin, with `facts` and `options`.
pub async fn topology_with(
    plane: &ControlPlane,
    facts: FactsSource,
    options: ApplyOptions,
) -> K8sTopology {
    let cluster = cluster_from_config(plane.config().await).unwrap();
    K8sTopology::new(cluster, facts, options)
}

/// A topology on the vanilla `plane`, as its admin, applying for real.
pub async fn topology(plane: &ControlPlane) -> K8sTopology {
    topology_with(plane, vanilla_facts(plane), ApplyOptions::default()).await
}

/// `harmony tenant apply` of `tenants`, `concurrency` in flight, which must all succeed.
pub async fn apply_tenants(topology: K8sTopology, tenants: &[TenantScore], concurrency: usize) {
    let (report, _) = common::run_on(topology, tenants, concurrency).await;
    assert!(report.all_succeeded(), "{:?}", report.results);
}

/// The admission rules only: the network tiers need OVN-Kubernetes (or the OKD test's CRDs).
pub fn admission_rules() -> ClusterGuardrailsScore {
    ClusterGuardrailsScore::default().network_tiers(Toggle::Disabled)
}

/// `harmony cluster guardrails apply` of `guardrails` for `tenants`, which must succeed.
pub async fn apply_guardrails(
    topology: K8sTopology,
    guardrails: &ClusterGuardrailsScore,
    tenants: &[TenantScore],
) -> Outcome {
    let mut maestro = Maestro::new(topology);
    let score = GuardrailsScore {
        guardrails: guardrails.clone(),
        tenants: tenants.to_vec(),
    };
    maestro.register([Box::new(score) as Box<dyn Score<K8sTopology>>]);
    let mut report = maestro.run().await.unwrap();
    report
        .results
        .remove(0)
        .result
        .unwrap_or_else(|e| panic!("guardrails apply: {e}"))
}

/// Harmony's admission policies on the server once every one is type-checked (its status
/// observed at its generation); each of `ids` is among them without a warning.
pub async fn policies_type_check(
    plane: &ControlPlane,
    ids: &[GuardrailId],
) -> Vec<ValidatingAdmissionPolicy> {
    let policies: Api<ValidatingAdmissionPolicy> = Api::all(plane.client().await);
    let selector = format!("{MANAGED_BY_LABEL}=harmony");
    let checked = eventually("every policy type-checked", async || {
        let list = policies
            .list(&ListParams::default().labels(&selector))
            .await
            .map_err(|e| e.to_string())?;
        let pending: Vec<String> = list
            .items
            .iter()
            .filter(|p| {
                let observed = p.status.as_ref().and_then(|s| s.observed_generation);
                observed.is_none() || observed != p.metadata.generation
            })
            .map(|p| p.metadata.name.clone().unwrap_or_default())
            .collect();
        if pending.is_empty() {
            Ok(list.items)
        } else {
            Err(format!("not yet checked: {pending:?}"))
        }
    })
    .await;
    for id in ids {
        let policy = checked
            .iter()
            .find(|p| p.metadata.name.as_deref() == Some(id.object_name()))
            .unwrap_or_else(|| panic!("{id} is on the server"));
        let warnings: Vec<String> = policy
            .status
            .as_ref()
            .and_then(|s| s.type_checking.as_ref())
            .and_then(|t| t.expression_warnings.clone())
            .unwrap_or_default()
            .into_iter()
            .map(|w| format!("{}: {}", w.field_ref, w.warning))
            .collect();
        assert!(
            warnings.is_empty(),
            "kube-apiserver type-checks policy {id} with warnings:\n{}",
            warnings.join("\n")
        );
    }
    checked
}

/// Waits until the namespace has its `default` ServiceAccount (pods need it) and its quota has
/// been counted (until then the quota refuses everything it constrains).
pub async fn namespace_ready(plane: &ControlPlane, namespace: &str) {
    let client = plane.client().await;
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), namespace);
    let quotas: Api<ResourceQuota> = Api::namespaced(client, namespace);
    eventually(&format!("{namespace} ready for pods"), async || {
        let account = accounts
            .get_opt("default")
            .await
            .map_err(|e| e.to_string())?;
        let quota = quotas
            .get("tenant-quota")
            .await
            .map_err(|e| e.to_string())?;
        let counted = quota.status.as_ref().is_some_and(|s| s.hard.is_some());
        match (account, counted) {
            (Some(_), true) => Ok(()),
            (account, counted) => Err(format!(
                "default ServiceAccount: {}, quota counted: {counted}",
                account.is_some()
            )),
        }
    })
    .await;
}

/// The group of the developers of `tenant`.
pub fn developer_group(tenant: &str) -> String {
    format!("{tenant}-developers")
}

/// A requester: a username and its groups, impersonated by the admin.
pub struct Actor {
    pub user: String,
    pub groups: Vec<String>,
}

impl Actor {
    /// A user (every authenticated user is in `system:authenticated`).
    pub fn user(user: &str) -> Self {
        Self::with(user, &[])
    }

    /// Any user of `group`.
    pub fn in_group(user: &str, group: &str) -> Self {
        Self::with(user, &[group])
    }

    /// User `dana` of the developer group of `tenant` ([`developer_group`]).
    pub fn developer(tenant: &str) -> Self {
        Self::in_group("dana", &developer_group(tenant))
    }

    /// ServiceAccount `name` of namespace `namespace`.
    pub fn service_account(namespace: &str, name: &str) -> Self {
        Self::with(
            &format!("system:serviceaccount:{namespace}:{name}"),
            &[
                "system:serviceaccounts",
                &format!("system:serviceaccounts:{namespace}"),
            ],
        )
    }

    fn with(user: &str, groups: &[&str]) -> Self {
        let mut groups: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
        groups.push("system:authenticated".into());
        Self {
            user: user.into(),
            groups,
        }
    }

    pub async fn client(&self, plane: &ControlPlane) -> kube::Client {
        let groups: Vec<&str> = self.groups.iter().map(String::as_str).collect();
        kube::Client::try_from(plane.config_as(&self.user, &groups).await).unwrap()
    }

    pub async fn api<K>(&self, plane: &ControlPlane, namespace: &str) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        K::DynamicType: Default,
    {
        Api::namespaced(self.client(plane).await, namespace)
    }
}

pub fn parse<K: DeserializeOwned>(value: Value) -> K {
    serde_json::from_value(value).unwrap()
}

pub fn post(dry_run: bool) -> PostParams {
    PostParams {
        dry_run,
        ..PostParams::default()
    }
}

/// The API's refusal in `result`, if it is one.
pub fn refusal<T>(result: &kube::Result<T>) -> Option<&Status> {
    match result {
        Err(kube::Error::Api(status)) => Some(status),
        _ => None,
    }
}

/// Whether `status` is the refusal of `policy`, through any of its bindings.
pub fn refused_by_policy(status: &Status, policy: &str) -> bool {
    status.message.contains(&format!(
        "ValidatingAdmissionPolicy '{policy}' with binding '"
    )) && status.message.contains("' denied request: ")
}

/// `request` is refused by the admission rule `rule` with Harmony's `message`.
///
/// A policy takes effect when the API server's admission has seen it: the server dry run of the
/// request is repeated (bounded) until the rule refuses it; then the real request must be
/// refused the same way.
pub async fn refused<T: Debug>(
    rule: GuardrailId,
    message: &str,
    request: impl AsyncFn(bool) -> kube::Result<T>,
) {
    let policy = rule.object_name();
    eventually(&format!("{policy} in force"), async || {
        let result = request(true).await;
        match refusal(&result) {
            Some(status) if refused_by_policy(status, policy) => Ok(()),
            _ => Err(format!("{result:?}")),
        }
    })
    .await;
    let result = request(false).await;
    let status = refusal(&result)
        .unwrap_or_else(|| panic!("{policy} should refuse ({message}); got {result:?}"));
    assert!(
        refused_by_policy(status, policy)
            && status.message.contains(message)
            && (status.code, status.reason.as_str()) == (403, "Forbidden"),
        "{policy} should refuse with `{message}` (403 Forbidden, the reason Harmony's rules give); got {status:?}"
    );
}

/// `result` is an admission; its object.
pub fn admitted<T>(what: &str, result: kube::Result<T>) -> T {
    result.unwrap_or_else(|e| panic!("{what} should be admitted: {e}"))
}

/// The live snapshot of `plane` (with the platform and placeholder pods) and its facts,
/// discovered with `source`.
pub async fn live_snapshot(
    plane: &ControlPlane,
    source: &FactsSource,
) -> (ClusterSnapshot, ClusterFacts) {
    let reader = InventoryReader::new(plane.config().await).unwrap();
    let facts = harmony_k8s::facts::discover(reader.cluster(), source)
        .await
        .unwrap();
    let inventory = reader.read().await.unwrap();
    let mut snapshot = ClusterSnapshot::default();
    snapshot
        .add_objects(inventory.objects, reader.cluster().server())
        .unwrap();
    snapshot.add_platform(&facts);
    snapshot.add_placeholder_pods();
    (snapshot, facts)
}

/// network-config-analyzer (installed by `.ci/install` in the repository's `.venv-nca`).
fn nca() -> PathBuf {
    let nca = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../.venv-nca/bin/nca"
    ));
    assert!(
        nca.exists(),
        "{} is missing: run .ci/install (it installs network-config-analyzer)",
        nca.display()
    );
    nca
}

/// network-config-analyzer's verdict for every pod pair of `snapshot`, checked equal to the
/// audit's.
pub fn nca_pairs(snapshot: &ClusterSnapshot) -> PodPairs {
    let dir = tempfile::tempdir().unwrap();
    write_nca_input(snapshot, dir.path()).unwrap();
    let out = dir.path().join("nca.txt");
    let status = std::process::Command::new(nca())
        .args([
            "--connectivity",
            "policies",
            "-n",
            "namespaces.yaml",
            "-p",
            "pods.yaml",
            "-o",
            "txt_no_fw_rules",
            "-f",
        ])
        .arg(&out)
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(status.success(), "nca failed");
    let theirs = parse_nca(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(
        disagreements(&pod_connectivity(snapshot), &theirs),
        Vec::<String>::new()
    );
    theirs
}
