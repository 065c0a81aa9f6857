//! AdminNetworkPolicy and BaselineAdminNetworkPolicy (`policy.networking.k8s.io/v1alpha1`, CRDs
//! installed by OVN-Kubernetes): the fields Harmony uses, as in the upstream API since
//! `sigs.k8s.io/network-policy-api` v0.1.5, the release OVN-Kubernetes vendors (peers select
//! `namespaces` with a label selector; v0.1.1 nested it under `namespaceSelector`).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde::{Deserialize, Serialize};

/// The API group of both kinds: a cluster that serves it supports network tiers.
pub const NETWORK_POLICY_GROUP: &str = "policy.networking.k8s.io";
/// The API version of both kinds.
pub const NETWORK_POLICY_API_VERSION: &str = "policy.networking.k8s.io/v1alpha1";
/// The only name a BaselineAdminNetworkPolicy may have (it is a cluster singleton).
pub const BASELINE_NAME: &str = "default";

/// A cluster-wide network policy evaluated before every NetworkPolicy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminNetworkPolicy {
    /// Always [`NETWORK_POLICY_API_VERSION`].
    pub api_version: String,
    /// Always `AdminNetworkPolicy`.
    pub kind: String,
    /// Name and labels.
    pub metadata: ObjectMeta,
    /// What it selects and its rules.
    pub spec: AdminNetworkPolicySpec,
}

/// An AdminNetworkPolicy's priority, subject and rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminNetworkPolicySpec {
    /// Lower values are evaluated first; OVN-Kubernetes supports 0–99.
    pub priority: i32,
    /// The pods the rules apply to.
    pub subject: Subject,
    /// Rules for traffic into the subject, first match wins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ingress: Vec<IngressRule<Action>>,
    /// Rules for traffic out of the subject, first match wins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub egress: Vec<EgressRule<Action>>,
}

/// The cluster's default network policy, evaluated after every NetworkPolicy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BaselineAdminNetworkPolicy {
    /// Always [`NETWORK_POLICY_API_VERSION`].
    pub api_version: String,
    /// Always `BaselineAdminNetworkPolicy`.
    pub kind: String,
    /// Name ([`BASELINE_NAME`]) and labels.
    pub metadata: ObjectMeta,
    /// What it selects and its rules.
    pub spec: BaselineAdminNetworkPolicySpec,
}

/// A BaselineAdminNetworkPolicy's subject and rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BaselineAdminNetworkPolicySpec {
    /// The pods the rules apply to.
    pub subject: Subject,
    /// Rules for traffic into the subject, first match wins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ingress: Vec<IngressRule<BaselineAction>>,
    /// Rules for traffic out of the subject, first match wins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub egress: Vec<EgressRule<BaselineAction>>,
}

/// The pods a policy applies to: every pod of the selected namespaces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subject {
    /// The namespaces.
    pub namespaces: LabelSelector,
}

/// Peers: every pod of the selected namespaces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Peer {
    /// The namespaces.
    pub namespaces: LabelSelector,
}

/// A rule for traffic into the subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IngressRule<A> {
    /// Unique in the policy, at most 100 characters.
    pub name: String,
    /// What happens to matching traffic.
    pub action: A,
    /// Where the traffic comes from.
    pub from: Vec<Peer>,
}

/// A rule for traffic out of the subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EgressRule<A> {
    /// Unique in the policy, at most 100 characters.
    pub name: String,
    /// What happens to matching traffic.
    pub action: A,
    /// Where the traffic goes.
    pub to: Vec<Peer>,
}

/// What an AdminNetworkPolicy rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    /// Allowed, whatever NetworkPolicies say.
    Allow,
    /// Dropped, whatever NetworkPolicies say.
    Deny,
    /// Skips the remaining AdminNetworkPolicies: NetworkPolicies decide.
    Pass,
}

/// What a BaselineAdminNetworkPolicy rule does (only where no NetworkPolicy decides).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BaselineAction {
    /// Allowed.
    Allow,
    /// Dropped.
    Deny,
}
