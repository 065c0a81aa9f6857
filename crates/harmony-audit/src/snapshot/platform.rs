//! Placeholders: a pod per pod-less namespace, and the platform namespaces (DNS, ingress,
//! monitoring) when the snapshot has none, so reachability has endpoints to reason about.

use std::collections::{BTreeMap, HashSet};

use harmony_tenant::{ClusterFacts, PlatformPeer};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{ClusterSnapshot, NAMESPACE_NAME_LABEL, NamedPort, Pod, PodSpec};
use crate::labels::matches_platform_labels;

/// Name of synthesized pods.
pub const PLACEHOLDER_POD: &str = "placeholder";

/// The annotation (value `"true"`) on every pod the audit synthesizes, so pod-level answers can
/// tell them from the source's pods.
pub const SYNTHESIZED_ANNOTATION: &str = "harmony.nationtech.io/synthesized";

/// Whether `pod` was synthesized by the audit rather than read from the source.
pub fn is_synthesized(pod: &Pod) -> bool {
    pod.metadata
        .annotations
        .as_ref()
        .is_some_and(|a| a.get(SYNTHESIZED_ANNOTATION).is_some_and(|v| v == "true"))
}

impl ClusterSnapshot {
    /// Adds a label-less placeholder pod to every namespace that has no pod.
    pub fn add_placeholder_pods(&mut self) {
        let with_pods: HashSet<&str> = self
            .pods
            .iter()
            .filter_map(|p| p.metadata.namespace.as_deref())
            .collect();
        let missing: Vec<String> = self
            .namespaces
            .iter()
            .filter_map(|ns| ns.metadata.name.clone())
            .filter(|ns| !with_pods.contains(ns.as_str()))
            .collect();
        for ns in missing {
            self.pods
                .push(pod(&ns, PLACEHOLDER_POD, BTreeMap::new(), vec![]));
        }
    }

    /// Adds a namespace and pod for each platform peer of `facts` (DNS, ingress, monitoring) that
    /// no namespace of the snapshot matches, with the labels the facts select on.
    pub fn add_platform(&mut self, facts: &ClusterFacts) {
        self.label_namespace_names();
        let dns_ports = facts
            .dns
            .ports
            .iter()
            .flat_map(|&p| {
                [("UDP", format!("dns-{p}")), ("TCP", format!("dns-tcp-{p}"))]
                    .map(|(proto, name)| port(proto, &name, p))
            })
            .collect();
        for (role, peer, ports) in [
            ("dns", &facts.dns.peer, dns_ports),
            ("ingress", &facts.ingress, vec![]),
            ("monitoring", &facts.monitoring, vec![]),
        ] {
            self.add_peer(role, peer, ports);
        }
    }

    fn add_peer(&mut self, role: &str, peer: &PlatformPeer, ports: Vec<NamedPort>) {
        let existing = self.namespaces.iter().find(|ns| {
            matches_platform_labels(&peer.namespace_selector, ns.metadata.labels.as_ref())
        });
        let ns_name = match existing {
            Some(ns) => ns.metadata.name.clone().unwrap_or_default(),
            None => {
                let name = peer
                    .namespace_selector
                    .get(NAMESPACE_NAME_LABEL)
                    .cloned()
                    .unwrap_or_else(|| format!("platform-{role}"));
                let mut labels = peer.namespace_selector.clone();
                labels.insert(NAMESPACE_NAME_LABEL.into(), name.clone());
                self.namespaces.push(Namespace {
                    metadata: ObjectMeta {
                        name: Some(name.clone()),
                        labels: Some(labels),
                        ..Default::default()
                    },
                    ..Default::default()
                });
                self.notes.push(format!(
                    "synthesized platform namespace `{name}` for {role} (none matched the cluster facts)"
                ));
                name
            }
        };
        let has_pod = self.pods.iter().any(|p| {
            p.metadata.namespace.as_deref() == Some(&ns_name)
                && matches_platform_labels(&peer.pod_selector, p.metadata.labels.as_ref())
        });
        if !has_pod {
            let name = format!("{role}-placeholder");
            self.pods
                .push(pod(&ns_name, &name, peer.pod_selector.clone(), ports));
            self.notes
                .push(format!("synthesized {role} pod `{ns_name}/{name}`"));
        }
    }
}

fn port(protocol: &str, name: &str, number: u16) -> NamedPort {
    (name.into(), protocol.into(), number)
}

fn pod(
    namespace: &str,
    name: &str,
    labels: BTreeMap<String, String>,
    mut named_ports: Vec<NamedPort>,
) -> Pod {
    named_ports.sort();
    Pod {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some(namespace.into()),
            labels: (!labels.is_empty()).then_some(labels),
            annotations: Some(BTreeMap::from([(
                SYNTHESIZED_ANNOTATION.into(),
                "true".into(),
            )])),
            ..Default::default()
        },
        spec: Some(PodSpec {
            named_ports,
            ..Default::default()
        }),
        ips: vec![],
    }
}
