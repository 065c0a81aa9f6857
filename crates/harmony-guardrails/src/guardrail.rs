//! The guardrails by name, so that reports and the isolation audit can say which one is missing.

use serde::Serialize;

/// One guardrail of the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GuardrailId {
    /// No NodePort, LoadBalancer or ExternalName Service and no `externalIPs` in tenant
    /// namespaces.
    TenantServices,
    /// Tenant pods use only PVC, configMap, secret, emptyDir, projected and downwardAPI volumes,
    /// and no host namespaces or host ports.
    TenantPods,
    /// Tenant PVCs use allowed StorageClasses and never name or select an existing volume.
    TenantStorage,
    /// Tenant namespace labels (tenant, managed-by, pod security) change only through Harmony.
    NamespaceLabels,
    /// Harmony-managed objects in tenant namespaces change only through Harmony.
    ManagedObjects,
    /// No ServiceAccount token Secrets (tokens that never expire) in tenant namespaces.
    TenantSecrets,
    /// Tenant Ingresses serve only the tenant's hosts and classes, without configuration
    /// snippets or in-cluster auth URLs.
    TenantIngress,
    /// Tenant Routes (OKD) serve only the tenant's hosts.
    TenantRoutes,
    /// Tenant pods choose no node, tolerate no control-plane or infra taint and name only the
    /// tenant's PriorityClasses and RuntimeClasses.
    TenantPlacement,
    /// Tenant images follow the tenant's pull policy and registries.
    TenantImages,
    /// Tenant PodDisruptionBudgets cannot forbid every eviction.
    TenantDisruptionBudgets,
    /// The BaselineAdminNetworkPolicy `default`: tenants unreachable when no NetworkPolicy decides.
    BaselineNetworkTier,
    /// One AdminNetworkPolicy per tenant: other tenants denied, whatever NetworkPolicies say.
    TenantNetworkTier,
    /// OKD project self-provisioning taken from every authenticated user.
    SelfProvisioning,
}

impl GuardrailId {
    /// Every guardrail, in apply order.
    pub const ALL: [GuardrailId; 14] = [
        Self::TenantServices,
        Self::TenantPods,
        Self::TenantStorage,
        Self::NamespaceLabels,
        Self::ManagedObjects,
        Self::TenantSecrets,
        Self::TenantIngress,
        Self::TenantRoutes,
        Self::TenantPlacement,
        Self::TenantImages,
        Self::TenantDisruptionBudgets,
        Self::BaselineNetworkTier,
        Self::TenantNetworkTier,
        Self::SelfProvisioning,
    ];

    /// The admission rules (ValidatingAdmissionPolicy and binding of the same name).
    pub const ADMISSION: [GuardrailId; 11] = [
        Self::TenantServices,
        Self::TenantPods,
        Self::TenantStorage,
        Self::NamespaceLabels,
        Self::ManagedObjects,
        Self::TenantSecrets,
        Self::TenantIngress,
        Self::TenantRoutes,
        Self::TenantPlacement,
        Self::TenantImages,
        Self::TenantDisruptionBudgets,
    ];

    /// The name of the object that implements the guardrail; for
    /// [`GuardrailId::TenantNetworkTier`], the prefix of each tenant's AdminNetworkPolicy.
    pub fn object_name(self) -> &'static str {
        match self {
            Self::TenantServices => "harmony-tenant-services",
            Self::TenantPods => "harmony-tenant-pods",
            Self::TenantStorage => "harmony-tenant-storage",
            Self::NamespaceLabels => "harmony-namespace-labels",
            Self::ManagedObjects => "harmony-managed-objects",
            Self::TenantSecrets => "harmony-tenant-secrets",
            Self::TenantIngress => "harmony-tenant-ingress",
            Self::TenantRoutes => "harmony-tenant-routes",
            Self::TenantPlacement => "harmony-tenant-placement",
            Self::TenantImages => "harmony-tenant-images",
            Self::TenantDisruptionBudgets => "harmony-tenant-disruption-budgets",
            Self::BaselineNetworkTier => crate::crd::BASELINE_NAME,
            Self::TenantNetworkTier => "harmony-tenant-",
            Self::SelfProvisioning => "self-provisioners",
        }
    }

    /// What the guardrail prevents, for people.
    pub fn describe(self) -> &'static str {
        match self {
            Self::TenantServices => {
                "tenants cannot expose NodePort or LoadBalancer Services, set externalIPs or point ExternalName Services elsewhere"
            }
            Self::TenantPods => {
                "tenant pods cannot mount hostPath, inline CSI or other node-level volumes, nor use host namespaces or host ports"
            }
            Self::TenantStorage => {
                "tenant PVCs use only the tenant's StorageClasses and cannot bind another tenant's PersistentVolume"
            }
            Self::NamespaceLabels => {
                "tenants cannot remove or change the tenant, managed-by and pod-security labels of their namespace"
            }
            Self::ManagedObjects => {
                "tenants cannot change or delete the quotas, limit ranges, network policies, roles, bindings and parameters Harmony manages in their namespace"
            }
            Self::TenantSecrets => {
                "tenants cannot create ServiceAccount token Secrets, whose tokens never expire"
            }
            Self::TenantIngress => {
                "tenant Ingresses serve only the tenant's hosts and IngressClasses, with no default backend, configuration snippet or in-cluster auth URL"
            }
            Self::TenantRoutes => "tenant Routes serve only the tenant's hosts",
            Self::TenantPlacement => {
                "tenant pods cannot choose their node, tolerate control-plane or infra taints, or name PriorityClasses and RuntimeClasses the tenant is not given"
            }
            Self::TenantImages => {
                "tenant containers pull their images always and only from the tenant's registries, when its file says so"
            }
            Self::TenantDisruptionBudgets => {
                "tenant PodDisruptionBudgets cannot forbid every eviction and so block node drains"
            }
            Self::BaselineNetworkTier => {
                "tenant pods that no NetworkPolicy selects are unreachable from other tenants"
            }
            Self::TenantNetworkTier => {
                "other tenants are denied by an AdminNetworkPolicy, whatever the tenant's own NetworkPolicies allow"
            }
            Self::SelfProvisioning => "tenants cannot create projects (namespaces) themselves",
        }
    }
}

impl std::fmt::Display for GuardrailId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::TenantNetworkTier => "harmony-tenant-<tenant> (AdminNetworkPolicy)",
            other => other.object_name(),
        })
    }
}
