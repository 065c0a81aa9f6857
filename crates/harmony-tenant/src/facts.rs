//! `ClusterFacts`: what the compiler must know about the cluster, and the `ClusterProfile` file
//! that supplies them offline.

use std::collections::BTreeMap;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use harmony::Problem;

use crate::connections::MatchedConnection;
use crate::score::{Identity, Member};

/// The `kind` of cluster profile files.
pub const CLUSTER_PROFILE_KIND: &str = "ClusterProfile";

/// The Kubernetes distribution.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClusterFlavor {
    /// Upstream Kubernetes.
    #[default]
    Kubernetes,
    /// OKD / OpenShift.
    Okd,
}

/// A set of pods in platform namespaces: which namespaces, which pods, which ports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlatformPeer {
    /// Labels selecting the namespaces (matchLabels; an empty value means "label present").
    pub namespace_selector: BTreeMap<String, String>,
    /// Labels selecting the pods in them; empty selects all pods.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pod_selector: BTreeMap<String, String>,
}

/// The cluster DNS service: where it runs and the ports pods use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DnsFacts {
    /// The DNS pods.
    #[serde(flatten)]
    pub peer: PlatformPeer,
    /// Destination ports, both UDP and TCP (the service port and the pods' target port).
    pub ports: Vec<u16>,
}

/// Facts about the cluster that shape a tenant's objects. Pure data: the compiler does no I/O.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterFacts {
    /// The distribution.
    pub flavor: ClusterFlavor,
    /// Pod networks (never part of "internet").
    pub pod_networks: Vec<IpNet>,
    /// Service networks (never part of "internet").
    pub service_networks: Vec<IpNet>,
    /// Node and infrastructure networks (never part of "internet").
    pub node_networks: Vec<IpNet>,
    /// StorageClasses that exist; every one not allowed to a tenant gets a zero quota.
    #[serde(default)]
    pub storage_classes: Vec<String>,
    /// Cluster DNS.
    pub dns: DnsFacts,
    /// The ingress controller's namespaces.
    pub ingress: PlatformPeer,
    /// The monitoring stack's namespaces.
    pub monitoring: PlatformPeer,
    /// Whether the cluster serves the prometheus-operator API (`monitoring.coreos.com`): only
    /// then do tenants get their monitoring objects.
    #[serde(default)]
    pub monitoring_api: bool,
    /// Velero's namespace when the cluster runs Velero (`velero.io` served): `velero`, or
    /// `openshift-adp` under OADP; unset: no Velero, so no tenant backups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub velero_namespace: Option<String>,
    /// How the API server names identity provider users and groups, when tenants have members
    /// from one (`oidc` members); from the `IdentityProvider` file, never guessed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc: Option<OidcFacts>,
    /// The connections declared on both sides, computed from all tenants
    /// ([`crate::connections::matched_connections`]), never read from a profile.
    #[serde(skip)]
    pub connections: Vec<MatchedConnection>,
}

/// The prefixes the API server puts before identity provider user and group names (its
/// `claimMappings`); OKD's OAuth server puts none before groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OidcFacts {
    /// Before user names, such as `oidc:`.
    pub username_prefix: String,
    /// Before group names, such as `oidc:`.
    pub groups_prefix: String,
}

impl OidcFacts {
    /// The user name the API server authenticates identity provider user `name` as.
    pub fn user(&self, name: &str) -> String {
        format!("{}{name}", self.username_prefix)
    }

    /// The group name the API server gives identity provider group `name`.
    pub fn group(&self, name: &str) -> String {
        format!("{}{name}", self.groups_prefix)
    }

    /// The group tenant `tenant`'s RoleBindings bind identity provider member `member` by: its
    /// own group, or for a user its role's group (`tenant-<t>-<role>s`); `None` for members not
    /// from the identity provider.
    pub fn bound_group(&self, tenant: &str, member: &Member) -> Option<String> {
        match member.identity()? {
            Identity::OidcGroup(group) => Some(self.group(group)),
            Identity::OidcUser(_) => Some(self.group(&member.role.group_name(tenant))),
            _ => None,
        }
    }
}

/// Private and shared address space, excluded from "internet" when the node networks are unknown.
const PRIVATE_NETWORKS: [&str; 4] = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
];

fn nets(cidrs: &[&str]) -> Vec<IpNet> {
    cidrs
        .iter()
        .map(|c| c.parse().expect("built-in CIDRs are valid"))
        .collect()
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

impl ClusterFacts {
    /// Vanilla Kubernetes defaults: kubeadm's service network 10.96.0.0/12, pod network
    /// 10.244.0.0/16, CoreDNS in `kube-system` on 53, ingress-nginx in `ingress-nginx`, monitoring
    /// in `monitoring`, and every private range treated as node network.
    pub fn kubernetes() -> Self {
        Self {
            flavor: ClusterFlavor::Kubernetes,
            pod_networks: nets(&["10.244.0.0/16"]),
            service_networks: nets(&["10.96.0.0/12"]),
            node_networks: nets(&PRIVATE_NETWORKS),
            storage_classes: vec!["standard".into()],
            dns: DnsFacts {
                peer: PlatformPeer {
                    namespace_selector: labels(&[("kubernetes.io/metadata.name", "kube-system")]),
                    pod_selector: labels(&[("k8s-app", "kube-dns")]),
                },
                ports: vec![53],
            },
            ingress: PlatformPeer {
                namespace_selector: labels(&[("kubernetes.io/metadata.name", "ingress-nginx")]),
                pod_selector: BTreeMap::new(),
            },
            monitoring: PlatformPeer {
                namespace_selector: labels(&[("kubernetes.io/metadata.name", "monitoring")]),
                pod_selector: BTreeMap::new(),
            },
            monitoring_api: false,
            velero_namespace: None,
            oidc: None,
            connections: Vec::new(),
        }
    }

    /// OKD defaults: pod network 10.128.0.0/14, service network 172.30.0.0/16, `openshift-dns` on
    /// 5353 and 53, routers selected by `policy-group.network.openshift.io/ingress`, monitoring by
    /// `network.openshift.io/policy-group: monitoring`, every private range treated as node network.
    pub fn okd() -> Self {
        Self {
            flavor: ClusterFlavor::Okd,
            pod_networks: nets(&["10.128.0.0/14"]),
            service_networks: nets(&["172.30.0.0/16"]),
            node_networks: nets(&PRIVATE_NETWORKS),
            storage_classes: vec![],
            dns: DnsFacts {
                peer: PlatformPeer {
                    namespace_selector: labels(&[("kubernetes.io/metadata.name", "openshift-dns")]),
                    pod_selector: labels(&[("dns.operator.openshift.io/daemonset-dns", "default")]),
                },
                ports: vec![5353, 53],
            },
            ingress: PlatformPeer {
                namespace_selector: labels(&[("policy-group.network.openshift.io/ingress", "")]),
                pod_selector: BTreeMap::new(),
            },
            monitoring: PlatformPeer {
                namespace_selector: labels(&[("network.openshift.io/policy-group", "monitoring")]),
                pod_selector: BTreeMap::new(),
            },
            monitoring_api: false,
            velero_namespace: None,
            oidc: None,
            connections: Vec::new(),
        }
    }

    /// The defaults of `flavor`.
    pub fn for_flavor(flavor: ClusterFlavor) -> Self {
        match flavor {
            ClusterFlavor::Kubernetes => Self::kubernetes(),
            ClusterFlavor::Okd => Self::okd(),
        }
    }

    /// Every network that is not "internet": pod, service and node networks.
    pub fn cluster_networks(&self) -> impl Iterator<Item = &IpNet> {
        self.pod_networks
            .iter()
            .chain(&self.service_networks)
            .chain(&self.node_networks)
    }
}

/// The cluster profile file: `kind: ClusterProfile`, whose `spec` is [`ClusterFacts`].
///
/// Fields left out of `spec` take the defaults of its `flavor`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterProfile {
    /// Always [`crate::API_VERSION`].
    pub api_version: String,
    /// Always [`CLUSTER_PROFILE_KIND`].
    pub kind: String,
    /// The profile's name.
    pub metadata: ProfileMetadata,
    /// The facts; unset ones take the flavor's defaults.
    #[serde(default)]
    pub spec: ProfileSpec,
}

/// A profile's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileMetadata {
    /// The profile's name.
    pub name: String,
}

/// A profile's facts, each optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(missing_docs)] // each field overrides the ClusterFacts field of the same name
pub struct ProfileSpec {
    #[serde(default)]
    pub flavor: ClusterFlavor,
    pub pod_networks: Option<Vec<IpNet>>,
    pub service_networks: Option<Vec<IpNet>>,
    pub node_networks: Option<Vec<IpNet>>,
    pub storage_classes: Option<Vec<String>>,
    pub dns: Option<DnsFacts>,
    pub ingress: Option<PlatformPeer>,
    pub monitoring: Option<PlatformPeer>,
    #[serde(default)]
    pub monitoring_api: bool,
    pub velero_namespace: Option<String>,
}

impl ClusterProfile {
    /// The facts this profile describes, unset ones at the flavor's defaults.
    pub fn facts(&self) -> ClusterFacts {
        let s = self.spec.clone();
        let d = ClusterFacts::for_flavor(s.flavor);
        ClusterFacts {
            flavor: s.flavor,
            pod_networks: s.pod_networks.unwrap_or(d.pod_networks),
            service_networks: s.service_networks.unwrap_or(d.service_networks),
            node_networks: s.node_networks.unwrap_or(d.node_networks),
            storage_classes: s.storage_classes.unwrap_or(d.storage_classes),
            dns: s.dns.unwrap_or(d.dns),
            ingress: s.ingress.unwrap_or(d.ingress),
            monitoring: s.monitoring.unwrap_or(d.monitoring),
            monitoring_api: s.monitoring_api,
            velero_namespace: s.velero_namespace,
            oidc: None,
            connections: Vec::new(),
        }
    }

    /// Every problem with the profile's facts; empty when they are usable.
    ///
    /// Refused: empty pod or service networks (their addresses would count as internet), no DNS
    /// port, and empty namespace selectors (`{}` would let every namespace in, other tenants too).
    pub fn validate(&self) -> Vec<Problem> {
        let s = &self.spec;
        let mut problems = Vec::new();
        let mut need = |path: &str, empty: bool, message: &str| {
            if empty {
                problems.push(Problem::new(path, message));
            }
        };
        need(
            "spec.podNetworks",
            s.pod_networks.as_ref().is_some_and(Vec::is_empty),
            "is empty: list the pod CIDRs, or leave the field out for the flavor's default",
        );
        need(
            "spec.serviceNetworks",
            s.service_networks.as_ref().is_some_and(Vec::is_empty),
            "is empty: list the service CIDRs, or leave the field out for the flavor's default",
        );
        if let Some(dns) = &s.dns {
            need(
                "spec.dns.ports",
                dns.ports.is_empty() || dns.ports.contains(&0),
                "must list the DNS ports (1-65535), such as [53]",
            );
            need(
                "spec.dns.namespaceSelector",
                dns.peer.namespace_selector.is_empty(),
                EMPTY_SELECTOR,
            );
        }
        if let Some(namespace) = &s.velero_namespace {
            need(
                "spec.veleroNamespace",
                !crate::names::is_dns_label(namespace, 63),
                "is not a namespace name: give Velero's namespace, such as `velero` (or \
                 `openshift-adp` under OADP), or leave the field out when the cluster has no Velero",
            );
        }
        for (path, peer) in [
            ("spec.ingress", &s.ingress),
            ("spec.monitoring", &s.monitoring),
        ] {
            need(
                &format!("{path}.namespaceSelector"),
                peer.as_ref()
                    .is_some_and(|p| p.namespace_selector.is_empty()),
                EMPTY_SELECTOR,
            );
        }
        problems
    }
}

const EMPTY_SELECTOR: &str = "is empty, which would select every namespace (other tenants too): \
                              give the labels of the platform namespace, such as \
                              `kubernetes.io/metadata.name: ingress-nginx`";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::API_VERSION;

    fn profile(spec: &str) -> ClusterProfile {
        serde_json::from_str(&format!(
            r#"{{"apiVersion": "{API_VERSION}", "kind": "ClusterProfile", "metadata": {{"name": "p"}}, "spec": {spec}}}"#
        ))
        .unwrap()
    }

    #[test]
    fn unset_fields_take_the_flavor_defaults() {
        let facts = profile(r#"{"flavor": "okd", "nodeNetworks": ["192.168.10.0/24"]}"#).facts();
        assert_eq!(facts.pod_networks, ClusterFacts::okd().pod_networks);
        assert_eq!(
            facts.node_networks,
            vec!["192.168.10.0/24".parse::<IpNet>().unwrap()]
        );
        assert!(profile("{}").validate().is_empty());
    }

    #[test]
    fn unsafe_profiles_are_refused() {
        let p = profile(
            r#"{"podNetworks": [], "dns": {"namespaceSelector": {}, "ports": []},
                "ingress": {"namespaceSelector": {}}}"#,
        );
        let paths: Vec<String> = p.validate().into_iter().map(|p| p.path).collect();
        assert_eq!(
            paths,
            [
                "spec.podNetworks",
                "spec.dns.ports",
                "spec.dns.namespaceSelector",
                "spec.ingress.namespaceSelector"
            ]
        );
    }
}
