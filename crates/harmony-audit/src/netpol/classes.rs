//! Pod equivalence classes by the labels policies select on.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::Arc;

use crate::labels::Labels;
use crate::snapshot::{ClusterSnapshot, NamedPort};

/// Pods no policy can tell apart.
#[derive(Debug, Clone, PartialEq)]
pub struct PodClass {
    /// The namespace.
    pub namespace: String,
    /// The namespace's labels (shared by its classes).
    pub namespace_labels: Arc<Labels>,
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

/// Groups the pods of `snapshot` into classes; `pod_keys` are the pod label keys selectors use.
/// Returns the classes and, per class, its representative pods' full labels (for admin subjects
/// the same keys are used, so one is enough).
pub(super) fn build(
    snapshot: &ClusterSnapshot,
    pod_keys: &BTreeSet<&str>,
    blocks: &[ipnet::IpNet],
) -> Vec<PodClass> {
    // One copy of each namespace's labels, shared by its classes.
    let mut ns_labels: HashMap<&str, Arc<Labels>> = snapshot
        .namespaces
        .iter()
        .filter_map(|n| {
            let labels = n.metadata.labels.as_ref()?;
            Some((n.metadata.name.as_deref()?, Arc::new(labels.clone())))
        })
        .collect();
    let mut classes: Vec<PodClass> = Vec::new();
    type Key<'s> = (&'s str, Labels, &'s [NamedPort], Vec<IpAddr>);
    let mut index: HashMap<Key, usize> = HashMap::new();
    for pod in &snapshot.pods {
        let namespace = pod.metadata.namespace.as_deref().unwrap_or_default();
        let labels: Labels = pod
            .metadata
            .labels
            .iter()
            .flatten()
            .filter(|(k, _)| pod_keys.contains(k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let ports = pod.named_ports();
        let ips: Vec<IpAddr> = pod
            .ips
            .iter()
            .copied()
            .filter(|ip| blocks.iter().any(|b| b.contains(ip)))
            .collect();
        let key = (namespace, labels.clone(), ports, ips.clone());
        let i = *index.entry(key).or_insert_with(|| {
            let namespace_labels = ns_labels.entry(namespace).or_insert_with(|| {
                Arc::new(BTreeMap::from([(
                    crate::snapshot::NAMESPACE_NAME_LABEL.into(),
                    namespace.into(),
                )]))
            });
            classes.push(PodClass {
                namespace: namespace.into(),
                namespace_labels: namespace_labels.clone(),
                labels,
                named_ports: ports.to_vec(),
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
