//! OpenShift's `quota.openshift.io/v1` ClusterResourceQuota as a serde type (k8s-openapi does not
//! ship it): one quota over every namespace its selector picks. Only the fields Harmony writes are
//! modelled.

use k8s_openapi::api::core::v1::ResourceQuotaSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde::{Deserialize, Serialize};

/// A quota shared by the namespaces its selector picks (cluster-scoped).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ClusterResourceQuota {
    /// Name and labels.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The namespaces and their shared quota.
    pub spec: ClusterResourceQuotaSpec,
}

/// The spec of a [`ClusterResourceQuota`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterResourceQuotaSpec {
    /// Which namespaces share the quota.
    pub selector: ClusterResourceQuotaSelector,
    /// The quota, as a ResourceQuota's spec.
    pub quota: ResourceQuotaSpec,
}

/// The namespaces a [`ClusterResourceQuota`] covers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterResourceQuotaSelector {
    /// Namespaces by label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<LabelSelector>,
}

crate::api_resources!(ClusterResourceScope, "quota.openshift.io" / "v1":
    ClusterResourceQuota "clusterresourcequotas");
