//! AdminNetworkPolicy and BaselineAdminNetworkPolicy (`policy.networking.k8s.io/v1alpha1`, CRDs
//! installed by OVN-Kubernetes), as serde types: k8s-openapi does not ship them. The one model
//! of both kinds: the guardrails render it, the audit reads it.
//!
//! Fields as in the upstream API since `sigs.k8s.io/network-policy-api` v0.1.5, the release
//! OVN-Kubernetes vendors (peers select `namespaces` with a label selector; v0.1.1 nested it
//! under `namespaceSelector`). Both kinds implement k8s-openapi's `Resource`
//! ([`harmony_tenant::api_resources!`]), so their group, version, kind and plural are written
//! once, below, and serialized objects carry `apiVersion` and `kind` as k8s-openapi's do.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde::{Deserialize, Serialize};

/// The only name a BaselineAdminNetworkPolicy may have (it is a cluster singleton).
pub const BASELINE_NAME: &str = "default";

/// A cluster-scoped policy evaluated before NetworkPolicies, by ascending `priority`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct AdminNetworkPolicy {
    /// Name and labels (cluster-scoped).
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// What it selects and its rules.
    pub spec: AdminNetworkPolicySpec,
}

/// The spec of an [`AdminNetworkPolicy`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminNetworkPolicySpec {
    /// Lower numbers are evaluated first; OVN-Kubernetes supports 0–99.
    pub priority: i32,
    /// The pods the policy applies to.
    pub subject: AdminSubject,
    /// Rules for traffic into the subject, in order; the first that matches decides.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ingress: Vec<AdminRule>,
    /// Rules for traffic out of the subject, in order; the first that matches decides.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub egress: Vec<AdminRule>,
}

/// The cluster's single baseline policy (named [`BASELINE_NAME`]), evaluated after every
/// NetworkPolicy.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct BaselineAdminNetworkPolicy {
    /// Name and labels.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// What it selects and its rules.
    pub spec: BaselineAdminNetworkPolicySpec,
}

/// The spec of a [`BaselineAdminNetworkPolicy`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BaselineAdminNetworkPolicySpec {
    /// The pods the policy applies to.
    pub subject: AdminSubject,
    /// Rules (Allow or Deny) for traffic into the subject, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ingress: Vec<AdminRule>,
    /// Rules (Allow or Deny) for traffic out of the subject, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub egress: Vec<AdminRule>,
}

harmony_tenant::api_resources!(ClusterResourceScope, "policy.networking.k8s.io" / "v1alpha1":
    AdminNetworkPolicy "adminnetworkpolicies",
    BaselineAdminNetworkPolicy "baselineadminnetworkpolicies");

/// Which pods a policy applies to: whole namespaces, or pods in namespaces.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminSubject {
    /// All pods of the namespaces this selects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespaces: Option<LabelSelector>,
    /// Pods selected by both selectors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pods: Option<PodPeer>,
}

/// Pods matching `pod_selector` in namespaces matching `namespace_selector`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodPeer {
    /// The namespaces.
    #[serde(default)]
    pub namespace_selector: LabelSelector,
    /// The pods in them.
    #[serde(default)]
    pub pod_selector: LabelSelector,
}

/// What a matching rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RuleAction {
    /// Allowed, whatever NetworkPolicies say.
    Allow,
    /// Dropped, whatever NetworkPolicies say.
    Deny,
    /// Skips the remaining AdminNetworkPolicies: NetworkPolicies decide (AdminNetworkPolicy
    /// only).
    Pass,
}

/// One ingress or egress rule of an admin policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminRule {
    /// Unique in the policy, at most 100 characters.
    #[serde(default)]
    pub name: String,
    /// What happens to matching traffic.
    pub action: RuleAction,
    /// Where ingress traffic comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Vec<AdminPeer>>,
    /// Where egress traffic goes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Vec<AdminPeer>>,
    /// Ports; unset means all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<Vec<AdminPort>>,
}

/// A peer of an admin rule.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminPeer {
    /// All pods of the namespaces this selects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespaces: Option<LabelSelector>,
    /// Pods in namespaces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pods: Option<PodPeer>,
    /// CIDRs (egress only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub networks: Option<Vec<String>>,
}

/// One port clause of an admin rule; exactly one field is set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminPort {
    /// A single port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_number: Option<PortNumber>,
    /// A named container port of the destination pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub named_port: Option<String>,
    /// A range of ports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_range: Option<PortRange>,
}

/// A protocol and port.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortNumber {
    /// TCP, UDP or SCTP (default TCP).
    #[serde(default)]
    pub protocol: Option<String>,
    /// The port.
    pub port: i32,
}

/// A protocol and an inclusive port range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortRange {
    /// TCP, UDP or SCTP (default TCP).
    #[serde(default)]
    pub protocol: Option<String>,
    /// First port.
    pub start: i32,
    /// Last port.
    pub end: i32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::Resource;

    #[test]
    fn objects_carry_their_api_version_and_kind_both_ways() {
        let policy = BaselineAdminNetworkPolicy {
            metadata: ObjectMeta {
                name: Some(BASELINE_NAME.into()),
                ..ObjectMeta::default()
            },
            spec: BaselineAdminNetworkPolicySpec {
                egress: vec![AdminRule {
                    name: "deny-to-tenants".into(),
                    action: RuleAction::Deny,
                    from: None,
                    to: Some(vec![AdminPeer::default()]),
                    ports: None,
                }],
                ..BaselineAdminNetworkPolicySpec::default()
            },
        };
        let json = serde_json::to_value(&policy).unwrap();
        assert_eq!(json["apiVersion"], "policy.networking.k8s.io/v1alpha1");
        assert_eq!(json["kind"], "BaselineAdminNetworkPolicy");
        assert_eq!(
            json["spec"]["egress"][0],
            serde_json::json!({"name": "deny-to-tenants", "action": "Deny", "to": [{}]})
        );
        assert!(json["spec"].get("ingress").is_none());
        assert_eq!(
            serde_json::from_value::<BaselineAdminNetworkPolicy>(json).unwrap(),
            policy
        );
        assert_eq!(AdminNetworkPolicy::URL_PATH_SEGMENT, "adminnetworkpolicies");
        assert_eq!(AdminNetworkPolicy::GROUP, BaselineAdminNetworkPolicy::GROUP);
    }
}
