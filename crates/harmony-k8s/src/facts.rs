//! Discovering `ClusterFacts` from a live cluster.
//!
//! OKD is recognised by its `config.openshift.io` API group; its pod and service networks are read
//! from `networks.config.openshift.io/cluster`. Other clusters do not publish their networks, so
//! they come from a cluster profile or from flags; without either, discovery refuses and names the
//! flags. Network flags override whatever was discovered. StorageClasses are listed, and the
//! prometheus-operator API is looked up in discovery: `monitoring.coreos.com/v1` and `/v1beta1`,
//! the versions of the monitoring objects a tenant plan holds. Velero is found by `velero.io/v1`:
//! in `openshift-adp` when OADP's `oadp.openshift.io` is served too, otherwise in `velero`, unless
//! the cluster profile names its namespace (`veleroNamespace`).

use harmony::InterpretError;
use harmony_identity::IdentityProvider;
use harmony_tenant::backup::crd::Schedule;
use harmony_tenant::backup::{OADP_NAMESPACE, VELERO_NAMESPACE};
use harmony_tenant::monitoring::crd::{AlertmanagerConfig, PrometheusRule};
use harmony_tenant::{ClusterFacts, ClusterFlavor};
use ipnet::IpNet;
use k8s_openapi::Resource;

use harmony_kube::kinds::OKD_NETWORK;
use harmony_kube::{Cluster, FailureKind, Kind};
use k8s_openapi::api::storage::v1::StorageClass;

/// What the operator says about the cluster, beside what discovery finds.
#[derive(Debug, Clone, Default)]
pub struct FactsSource {
    /// Facts from a `ClusterProfile` file (`--cluster`).
    pub profile: Option<ClusterFacts>,
    /// `--pod-network` CIDRs.
    pub pod_networks: Vec<IpNet>,
    /// `--service-network` CIDRs.
    pub service_networks: Vec<IpNet>,
    /// `--node-network` CIDRs.
    pub node_networks: Vec<IpNet>,
    /// The identity provider (`--idp`): how the API server names its members, so tenants with
    /// `oidc` members can be compiled.
    pub identity_provider: Option<IdentityProvider>,
}

/// Discovers the facts of `cluster`, completed by `source`.
pub async fn discover(
    cluster: &Cluster,
    source: &FactsSource,
) -> Result<ClusterFacts, InterpretError> {
    let served = cluster.api_group_versions().await?;
    let group_served = |group: &str| {
        served
            .iter()
            .any(|gv| gv.split_once('/').is_some_and(|(g, _)| g == group))
    };
    let mut facts = if group_served(OKD_NETWORK.group()) {
        okd_facts(cluster, source).await?
    } else {
        vanilla_facts(source)?
    };
    override_networks(&mut facts, source);
    facts.oidc = source
        .identity_provider
        .as_ref()
        .map(|provider| provider.facts(facts.flavor));
    facts.monitoring_api = monitoring_served(&served);
    // A profile may name where Velero runs when it is not the usual namespace.
    let named = source
        .profile
        .as_ref()
        .and_then(|p| p.velero_namespace.clone());
    facts.velero_namespace = velero_namespace(&served).map(|found| named.unwrap_or(found));
    match cluster.list(Kind::of::<StorageClass>(), "", "").await {
        Ok(items) => {
            let mut names: Vec<String> = items
                .iter()
                .filter_map(|c| c["metadata"]["name"].as_str().map(String::from))
                .collect();
            names.sort();
            facts.storage_classes = names;
        }
        // Without the right to list StorageClasses, the profile's (or default) list stands.
        Err(failure) if failure.kind == FailureKind::Forbidden => {}
        Err(failure) => return Err(failure.into()),
    }
    Ok(facts)
}

/// Whether `served` (discovery's group versions) holds the prometheus-operator API a tenant plan
/// writes: both versions, as an older prometheus-operator serves AlertmanagerConfig as v1alpha1
/// only, and a plan it cannot take would stop at the monitoring phase.
pub fn monitoring_served(served: &[String]) -> bool {
    [PrometheusRule::API_VERSION, AlertmanagerConfig::API_VERSION]
        .iter()
        .all(|version| served.iter().any(|gv| gv == version))
}

/// Velero's namespace when `served` (discovery's group versions) holds `velero.io/v1`:
/// `openshift-adp` when OADP's API group is served too, `velero` otherwise.
pub fn velero_namespace(served: &[String]) -> Option<String> {
    let velero = served.iter().any(|gv| gv == Schedule::API_VERSION);
    velero.then(|| {
        if served.iter().any(|gv| gv.starts_with("oadp.openshift.io/")) {
            OADP_NAMESPACE.into()
        } else {
            VELERO_NAMESPACE.into()
        }
    })
}

async fn okd_facts(
    cluster: &Cluster,
    source: &FactsSource,
) -> Result<ClusterFacts, InterpretError> {
    let mut facts = source.profile.clone().unwrap_or_else(ClusterFacts::okd);
    facts.flavor = ClusterFlavor::Okd;
    let network = cluster.get(OKD_NETWORK, "", "cluster").await?;
    let read = |field: &str| -> Vec<IpNet> {
        let Some(network) = &network else {
            return Vec::new();
        };
        let from = |part: &str| -> Vec<IpNet> {
            network[part][field]
                .as_array()
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|i| i["cidr"].as_str().or(i.as_str()))
                        .filter_map(|c| c.parse().ok())
                        .collect()
                })
                .unwrap_or_default()
        };
        let status = from("status");
        if status.is_empty() {
            from("spec")
        } else {
            status
        }
    };
    let (pods, services) = (read("clusterNetwork"), read("serviceNetwork"));
    let flags_cover = !source.pod_networks.is_empty() && !source.service_networks.is_empty();
    if (pods.is_empty() || services.is_empty()) && !flags_cover {
        return Err(InterpretError::NotReady(
            "this is OKD, but networks.config.openshift.io/cluster gives no clusterNetwork or \
             serviceNetwork: give --pod-network CIDR and --service-network CIDR"
                .into(),
        ));
    }
    if !pods.is_empty() {
        facts.pod_networks = pods;
    }
    if !services.is_empty() {
        facts.service_networks = services;
    }
    Ok(facts)
}

fn vanilla_facts(source: &FactsSource) -> Result<ClusterFacts, InterpretError> {
    if let Some(profile) = &source.profile {
        return Ok(profile.clone());
    }
    if source.pod_networks.is_empty() || source.service_networks.is_empty() {
        return Err(InterpretError::NotReady(
            "this cluster is not OKD, so its pod and service networks cannot be discovered: give \
             --pod-network CIDR and --service-network CIDR (and --node-network CIDR if nodes are \
             outside the private ranges), or --cluster PROFILE"
                .into(),
        ));
    }
    Ok(ClusterFacts::kubernetes())
}

fn override_networks(facts: &mut ClusterFacts, source: &FactsSource) {
    let pairs = [
        (&mut facts.pod_networks, &source.pod_networks),
        (&mut facts.service_networks, &source.service_networks),
        (&mut facts.node_networks, &source.node_networks),
    ];
    for (fact, flag) in pairs {
        if !flag.is_empty() {
            fact.clone_from(flag);
        }
    }
}
