//! The tenant domain of Harmony: [`TenantScore`] (what a tenant is), its validation, and the pure
//! compiler from a score and [`ClusterFacts`] to a [`TenantPlan`] of Kubernetes objects.
//!
//! Tenant files and [`ClusterProfile`]s are [`harmony::DocumentKind`]s; [`load_tenants`] reads
//! tenants and checks them against each other. How members reach the cluster, the VPN gateway
//! file, is modelled in [`vpn`].
//!
//! Nothing here does I/O or talks to a cluster.

mod adoption;
pub mod backup;
pub mod cluster_quota;
mod compile;
pub mod connections;
pub mod defaults;
mod facts;
mod ingress;
mod load;
mod manager;
pub mod monitoring;
mod names;
mod namespaces;
mod nonpublic;
mod plan;
pub mod quantity;
mod removal;
mod resolved;
pub mod resource;
mod score;
mod self_service;
mod validate;
pub mod vpn;
mod workloads;

pub use compile::{
    ALERTS_NAME, DEFAULT_DENY_POLICY, NAMESPACE_REQUESTS, PARAMS_NAME, RECEIVERS_NAME, SAME_TENANT,
    STORAGE_CLASS_KEY_PREFIX, STORAGE_CLASS_QUOTA_SUFFIX, backup_spec, cluster_quota_name, compile,
    namespace_request_verbs, tenant_parameters,
};
pub use facts::{
    CLUSTER_PROFILE_KIND, ClusterFacts, ClusterFlavor, ClusterProfile, DnsFacts, OidcFacts,
    PlatformPeer, ProfileMetadata, ProfileSpec,
};
pub use ingress::{
    INGRESS_CLASS_KEY_PREFIX, INGRESS_HOST_KEY_PREFIX, INGRESS_WILDCARD_KEY_PREFIX, IngressConfig,
    MAX_HOSTNAME, hostname_matches,
};
pub use load::load_tenants;
pub use manager::{TenantManager, TenantRemover};
pub use names::{is_dns_label, is_dns_subdomain, reserved_namespace};
pub use nonpublic::{
    NonPublicNetwork, is_ipv4_mapped, non_public_networks, non_public_overlapping,
};
pub use plan::{
    BackupStatus, MANAGED_BY_LABEL, MANAGED_BY_VALUE, MonitoringStatus, Phase, PlanObject,
    REQUEST_ANNOTATION, SELF_SERVICE_LABEL, TENANT_LABEL, TenantObject, TenantPlan, owned_labels,
};
pub use removal::{
    DeleteError, DeleteOptions, DeleteReport, ExternalAccess, Hint, RevokeError, RevokeMode,
    RevokedAccess,
};
pub use resolved::{Compute, Container, Counts, ResolvedQuota};
pub use score::{
    API_VERSION, ComputeResources, ContainerDefaults, ContainerResources, DeletionPolicy,
    HARMONY_GROUP, Identity, InternetEgress, Member, NetworkIsolationPolicy, ObjectCounts,
    OidcMember, PlatformSource, PodSecurityLevel, PrivateEgress, RbacConfig, ResourceQuotaConfig,
    SelfService, StorageAccessConfig, StorageClassAllowance, TENANT_KIND, TenantConfig,
    TenantNamespace, TenantRole, TenantScore, TenantSpec,
};
pub use self_service::{Decision, GrantedNamespaces, NamespaceAsk, Refusal};
pub use validate::{
    CrossTenantProblem, MAX_MEMBERS, MAX_STORAGE_CLASSES, MAX_TENANT_NAME, cross_tenant_conflicts,
    cross_tenant_problems,
};
pub use workloads::{
    ImagePolicy, PRIORITY_CLASS_KEY_PREFIX, PULL_POLICY_KEY, REGISTRY_KEY_PREFIX,
    RUNTIME_CLASS_KEY_PREFIX, SchedulingConfig,
};
