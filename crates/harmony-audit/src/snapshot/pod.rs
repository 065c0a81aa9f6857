//! [`Pod`]: what the audit reads of a Kubernetes Pod. A cluster holds thousands of pods and a
//! k8s-openapi `Pod` takes kilobytes before any of its text, so each one is cut down to these
//! fields as it is loaded.

use std::collections::BTreeMap;
use std::net::IpAddr;

use k8s_openapi::api::core::v1 as k8s;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::SYNTHESIZED_ANNOTATION;

/// A named container port: name, protocol, number.
pub type NamedPort = (String, String, u16);

/// A Pod as the audit reads it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pod {
    /// Name, namespace, labels, and the [`SYNTHESIZED_ANNOTATION`] (no other field).
    pub metadata: ObjectMeta,
    /// What the audit reads of `spec`; `None` for a pod without one.
    pub spec: Option<PodSpec>,
    /// `status.podIPs` and `status.podIP`, parsed (IPv4-mapped IPv6 as IPv4), sorted, without
    /// duplicates; unparsable entries are left out.
    pub ips: Vec<IpAddr>,
}

/// What the audit reads of a pod's `spec`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PodSpec {
    /// `serviceAccountName`, or the deprecated `serviceAccount`.
    pub service_account_name: Option<String>,
    /// `automountServiceAccountToken`.
    pub automount_service_account_token: Option<bool>,
    /// The containers' named ports with a number that fits a port (protocol `TCP` when not
    /// given), sorted.
    pub named_ports: Vec<NamedPort>,
}

impl Pod {
    /// The pod's named container ports, sorted.
    pub fn named_ports(&self) -> &[NamedPort] {
        self.spec.as_ref().map_or(&[], |s| &s.named_ports)
    }
}

impl From<k8s::Pod> for Pod {
    fn from(pod: k8s::Pod) -> Self {
        let k8s::Pod {
            mut metadata,
            spec,
            status,
        } = pod;
        let annotations: BTreeMap<String, String> = metadata
            .annotations
            .take()
            .into_iter()
            .flatten()
            .filter(|(k, _)| k == SYNTHESIZED_ANNOTATION)
            .collect();
        Self {
            metadata: ObjectMeta {
                annotations: (!annotations.is_empty()).then_some(annotations),
                ..super::trim::kept(metadata, true)
            },
            spec: spec.map(PodSpec::from),
            ips: status.map(ips).unwrap_or_default(),
        }
    }
}

impl From<k8s::PodSpec> for PodSpec {
    fn from(spec: k8s::PodSpec) -> Self {
        let mut named_ports: Vec<NamedPort> = spec
            .containers
            .into_iter()
            .flat_map(|c| c.ports.into_iter().flatten())
            .filter_map(|p| {
                let number = u16::try_from(p.container_port).ok()?;
                Some((p.name?, p.protocol.unwrap_or_else(|| "TCP".into()), number))
            })
            .collect();
        named_ports.sort();
        Self {
            service_account_name: spec.service_account_name.or(spec.service_account),
            automount_service_account_token: spec.automount_service_account_token,
            named_ports,
        }
    }
}

/// The IPs of a pod's status.
fn ips(status: k8s::PodStatus) -> Vec<IpAddr> {
    let listed = status.pod_ips.into_iter().flatten().map(|p| p.ip);
    let mut ips: Vec<IpAddr> = listed
        .chain(status.pod_ip)
        .filter_map(|ip| ip.parse::<IpAddr>().ok())
        .map(|ip| ip.to_canonical())
        .collect();
    ips.sort();
    ips.dedup();
    ips
}

impl From<&Pod> for k8s::Pod {
    /// The pod as a Kubernetes Pod: one container holding its named ports, its IPs in
    /// `status.podIPs` (for tools that read manifests, such as network-config-analyzer).
    fn from(pod: &Pod) -> Self {
        let ports: Vec<k8s::ContainerPort> = pod
            .named_ports()
            .iter()
            .map(|(name, protocol, number)| k8s::ContainerPort {
                name: Some(name.clone()),
                protocol: Some(protocol.clone()),
                container_port: i32::from(*number),
                ..Default::default()
            })
            .collect();
        let spec = pod.spec.as_ref().map(|s| k8s::PodSpec {
            service_account_name: s.service_account_name.clone(),
            automount_service_account_token: s.automount_service_account_token,
            containers: vec![k8s::Container {
                name: "main".into(),
                ports: (!ports.is_empty()).then_some(ports),
                ..Default::default()
            }],
            ..Default::default()
        });
        let status = (!pod.ips.is_empty()).then(|| k8s::PodStatus {
            pod_ips: Some(
                pod.ips
                    .iter()
                    .map(|ip| k8s::PodIP { ip: ip.to_string() })
                    .collect(),
            ),
            ..Default::default()
        });
        Self {
            metadata: pod.metadata.clone(),
            spec,
            status,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_what_the_audit_reads_and_drops_the_rest() {
        let pod: k8s::Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "namespace": "a", "labels": {"app": "web"},
                "annotations": {"note": "x", SYNTHESIZED_ANNOTATION: "true"}, "uid": "u"},
            "spec": {"serviceAccount": "old", "automountServiceAccountToken": false,
                "containers": [
                    {"name": "c", "image": "i", "ports": [
                        {"name": "web", "containerPort": 8080},
                        {"containerPort": 9090},
                        {"name": "big", "containerPort": 70000},
                        {"name": "dns", "containerPort": 53, "protocol": "UDP"}]},
                    {"name": "d", "ports": [{"name": "admin", "containerPort": 9000}]}]},
            "status": {"podIP": "::ffff:10.0.0.1", "podIPs": [{"ip": "10.0.0.1"}, {"ip": "x"}]}
        }))
        .unwrap();
        let pod = Pod::from(pod);
        assert_eq!(pod.metadata.uid, None);
        assert_eq!(
            pod.metadata
                .annotations
                .as_ref()
                .unwrap()
                .keys()
                .collect::<Vec<_>>(),
            [SYNTHESIZED_ANNOTATION]
        );
        assert_eq!(pod.metadata.labels.as_ref().unwrap()["app"], "web");
        let spec = pod.spec.as_ref().unwrap();
        assert_eq!(spec.service_account_name.as_deref(), Some("old"));
        assert_eq!(spec.automount_service_account_token, Some(false));
        assert_eq!(
            pod.named_ports(),
            [
                ("admin".into(), "TCP".into(), 9000),
                ("dns".into(), "UDP".into(), 53),
                ("web".into(), "TCP".into(), 8080)
            ]
        );
        assert_eq!(pod.ips, ["10.0.0.1".parse::<IpAddr>().unwrap()]);
        let back = Pod::from(k8s::Pod::from(&pod));
        assert_eq!(back, pod);
    }
}
