//! The tenant's guardrail parameters: the ConfigMap `harmony-guardrails` the cluster guardrails'
//! admission rules read in the namespace of each request (`paramRef` without a namespace).
//!
//! It is part of the tenant's plan (Quotas phase), so a tenant's PersistentVolumeClaims are never
//! refused for lack of it (`parameterNotFoundAction: Deny`), and it counts against the tenant's
//! `configmaps` quota.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;

use super::namespaced;
use crate::score::TenantScore;

/// The name of the parameter ConfigMap in every tenant namespace.
pub const PARAMS_NAME: &str = "harmony-guardrails";
/// Prefix of the data keys naming an allowed StorageClass (`storage-class.<name>: allowed`).
///
/// One key per class lets the policy test membership with `in`, exactly, without splitting a
/// list (StorageClass names are DNS subdomains, which are valid ConfigMap keys).
pub const STORAGE_CLASS_KEY_PREFIX: &str = "storage-class.";

/// The parameter ConfigMap of `tenant`: one `storage-class.<name>: allowed` key per allowed
/// StorageClass and the workload keys of [`crate::workloads`]; no data when there is none.
///
/// It carries the tenant's owned labels, so the guardrails' managed-objects rule keeps tenants
/// from editing it. Ingress hostnames and classes add their keys (see
/// [`crate::INGRESS_HOST_KEY_PREFIX`] and its neighbours).
pub fn tenant_parameters(tenant: &TenantScore) -> ConfigMap {
    let data: BTreeMap<String, String> = tenant
        .storage_access
        .storage_classes
        .iter()
        .map(|class| {
            (
                format!("{STORAGE_CLASS_KEY_PREFIX}{}", class.name),
                "allowed".to_string(),
            )
        })
        .chain(crate::workloads::parameters(tenant))
        .chain(crate::ingress::parameters(&tenant.ingress))
        .collect();
    ConfigMap {
        metadata: namespaced(tenant, PARAMS_NAME),
        data: (!data.is_empty()).then_some(data),
        ..ConfigMap::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MANAGED_BY_LABEL, TENANT_LABEL};

    #[test]
    fn one_key_per_allowed_class_in_the_tenant_namespace() {
        let tenant = TenantScore::new("acme")
            .in_namespace("acme-prod")
            .storage_class("fast-ssd", "10Gi")
            .storage_class("standard", "100Gi");
        let cm = tenant_parameters(&tenant);
        assert_eq!(cm.metadata.namespace.as_deref(), Some("acme-prod"));
        assert_eq!(cm.metadata.name.as_deref(), Some(PARAMS_NAME));
        let labels = cm.metadata.labels.unwrap();
        assert_eq!(labels[TENANT_LABEL], "acme");
        assert_eq!(labels[MANAGED_BY_LABEL], "harmony");
        let keys: Vec<_> = cm.data.unwrap().into_keys().collect();
        assert_eq!(keys, ["storage-class.fast-ssd", "storage-class.standard"]);
    }

    #[test]
    fn no_classes_means_no_data() {
        assert_eq!(tenant_parameters(&TenantScore::new("acme")).data, None);
    }
}
