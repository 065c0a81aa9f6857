//! Pod equivalence classes by the labels policies select on.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use k8s_openapi::api::core::v1::Pod;

use crate::labels::Labels;
use crate::snapshot::ClusterSnapshot;

/// A named container port: name, protocol, number.
pub type NamedPort = (String, String, u16);

/// Pods no policy can tell apart.
#[derive(Debug, Clone, PartialEq)]
pub struct PodClass {
    /// The namespace.
    pub namespace: String,
    /// The namespace's labels.
    pub namespace_labels: Labels,
    /// The pods' labels, restricted to keys some selector uses.
    pub labels: Labels,
    /// Named container ports.
    pub named_ports: Vec<NamedPort>,
    /// Names of the pods in the class.
    pub pods: Vec<String>,
    /// The pods' IPs (`status.podIPs`, known on a live cluster) that some NetworkPolicy ipBlock
    /// covers: such pods are told apart by them, so an ipBlock can select them.
    pub ips: Vec<IpAddr>,
}

/// One end of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// A pod class (index into [`super::Network::classes`]).
    Class(usize),
    /// An address outside the pod network, such as an internet host.
    Ip(IpAddr),
}

/// The IPs of `pod`: `status.podIPs`, or `status.podIP` (sorted, without duplicates).
fn pod_ips(pod: &Pod) -> Vec<IpAddr> {
    let Some(status) = &pod.status else {
        return vec![];
    };
    let mut ips: Vec<IpAddr> = status
        .pod_ips
        .iter()
        .flatten()
        .map(|p| p.ip.as_str())
        .chain(status.pod_ip.as_deref())
        .filter_map(|ip| ip.parse::<IpAddr>().ok())
        .map(|ip| ip.to_canonical())
        .collect();
    ips.sort();
    ips.dedup();
    ips
}

/// The named container ports of `pod`, sorted.
pub(crate) fn named_ports(pod: &Pod) -> Vec<NamedPort> {
    let mut ports: Vec<NamedPort> = pod
        .spec
        .iter()
        .flat_map(|s| &s.containers)
        .flat_map(|c| c.ports.iter().flatten())
        .filter_map(|p| {
            let name = p.name.clone()?;
            let proto = p.protocol.clone().unwrap_or_else(|| "TCP".into());
            Some((name, proto, u16::try_from(p.container_port).ok()?))
        })
        .collect();
    ports.sort();
    ports
}

/// Groups the pods of `snapshot` into classes; `pod_keys` are the pod label keys selectors use.
/// Returns the classes and, per class, its representative pods' full labels (for admin subjects
/// the same keys are used, so one is enough).
pub(super) fn build(
    snapshot: &ClusterSnapshot,
    pod_keys: &BTreeSet<&str>,
    blocks: &[ipnet::IpNet],
) -> Vec<PodClass> {
    let ns_labels: HashMap<&str, &Labels> = snapshot
        .namespaces
        .iter()
        .filter_map(|n| Some((n.metadata.name.as_deref()?, n.metadata.labels.as_ref()?)))
        .collect();
    let mut classes: Vec<PodClass> = Vec::new();
    type Key = (String, Labels, Vec<NamedPort>, Vec<IpAddr>);
    let mut index: HashMap<Key, usize> = HashMap::new();
    for pod in &snapshot.pods {
        let namespace = pod.metadata.namespace.clone().unwrap_or_default();
        let labels: Labels = pod
            .metadata
            .labels
            .iter()
            .flatten()
            .filter(|(k, _)| pod_keys.contains(k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let ports = named_ports(pod);
        let ips: Vec<IpAddr> = pod_ips(pod)
            .into_iter()
            .filter(|ip| blocks.iter().any(|b| b.contains(&ip.to_canonical())))
            .collect();
        let key = (
            namespace.clone(),
            labels.clone(),
            ports.clone(),
            ips.clone(),
        );
        let i = *index.entry(key).or_insert_with(|| {
            classes.push(PodClass {
                namespace_labels: ns_labels
                    .get(namespace.as_str())
                    .map(|l| (*l).clone())
                    .unwrap_or_else(|| {
                        BTreeMap::from([(
                            crate::snapshot::NAMESPACE_NAME_LABEL.into(),
                            namespace.clone(),
                        )])
                    }),
                namespace,
                labels,
                named_ports: ports,
                pods: vec![],
                ips,
            });
            classes.len() - 1
        });
        classes[i]
            .pods
            .push(pod.metadata.name.clone().unwrap_or_default());
    }
    classes
}
