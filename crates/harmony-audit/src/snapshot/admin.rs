//! AdminNetworkPolicy and BaselineAdminNetworkPolicy (`policy.networking.k8s.io/v1alpha1`), as
//! serde structs: k8s-openapi does not ship them.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde::{Deserialize, Serialize};

/// A cluster-scoped policy evaluated before NetworkPolicies, by ascending `priority`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AdminNetworkPolicy {
    /// Name (cluster-scoped).
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The policy.
    pub spec: AdminNetworkPolicySpec,
}

/// The spec of an [`AdminNetworkPolicy`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminNetworkPolicySpec {
    /// Lower numbers win (0–1000).
    pub priority: i32,
    /// The pods the policy applies to.
    pub subject: AdminSubject,
    /// Ingress rules, in order; the first that matches decides.
    #[serde(default)]
    pub ingress: Vec<AdminRule>,
    /// Egress rules, in order; the first that matches decides.
    #[serde(default)]
    pub egress: Vec<AdminRule>,
}

/// The cluster's single baseline policy (named `default`), evaluated after NetworkPolicies.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BaselineAdminNetworkPolicy {
    /// Name (always `default`).
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The policy.
    pub spec: BaselineAdminNetworkPolicySpec,
}

/// The spec of a [`BaselineAdminNetworkPolicy`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BaselineAdminNetworkPolicySpec {
    /// The pods the policy applies to.
    pub subject: AdminSubject,
    /// Ingress rules (Allow or Deny), in order.
    #[serde(default)]
    pub ingress: Vec<AdminRule>,
    /// Egress rules (Allow or Deny), in order.
    #[serde(default)]
    pub egress: Vec<AdminRule>,
}

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
    /// Allow, skipping lower tiers.
    Allow,
    /// Deny, skipping lower tiers.
    Deny,
    /// Leave the decision to NetworkPolicies (AdminNetworkPolicy only).
    Pass,
}

/// One ingress or egress rule of an admin policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminRule {
    /// Rule name, for evidence.
    #[serde(default)]
    pub name: String,
    /// The action.
    pub action: RuleAction,
    /// Ingress peers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Vec<AdminPeer>>,
    /// Egress peers.
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
