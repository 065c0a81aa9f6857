//! The namespaced objects of a snapshot, by namespace: a per-tenant check looks up its own
//! namespace's objects instead of scanning the whole cluster's, so an audit grows with the
//! tenants, not with their square.

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::api::core::v1::{LimitRange, ResourceQuota, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::api::rbac::v1::RoleBinding;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{ClusterSnapshot, Pod};

/// The objects of one namespace, in snapshot order.
#[derive(Debug, Default)]
#[allow(missing_docs)] // each field holds the Kubernetes kind of the same name
pub struct Namespaced<'a> {
    /// The namespace's labels (`None`: no such Namespace object).
    pub labels: Option<&'a BTreeMap<String, String>>,
    pub pods: Vec<&'a Pod>,
    pub service_accounts: Vec<&'a ServiceAccount>,
    pub role_bindings: Vec<&'a RoleBinding>,
    pub resource_quotas: Vec<&'a ResourceQuota>,
    pub limit_ranges: Vec<&'a LimitRange>,
    pub services: Vec<&'a Service>,
    pub ingresses: Vec<&'a Ingress>,
}

static EMPTY: Namespaced<'static> = Namespaced {
    labels: None,
    pods: Vec::new(),
    service_accounts: Vec::new(),
    role_bindings: Vec::new(),
    resource_quotas: Vec::new(),
    limit_ranges: Vec::new(),
    services: Vec::new(),
    ingresses: Vec::new(),
};

/// [`Namespaced`] objects for every namespace of a snapshot.
#[derive(Debug, Default)]
pub struct ByNamespace<'a>(HashMap<&'a str, Namespaced<'a>>);

impl<'a> ByNamespace<'a> {
    /// Indexes `s`.
    pub fn new(s: &'a ClusterSnapshot) -> Self {
        let mut by: HashMap<&'a str, Namespaced<'a>> = HashMap::new();
        let ns = |meta: &'a ObjectMeta| meta.namespace.as_deref().unwrap_or_default();
        macro_rules! index {
            ($($kind:ident),*) => {
                $(for o in &s.$kind {
                    by.entry(ns(&o.metadata)).or_default().$kind.push(o);
                })*
            };
        }
        index!(
            pods,
            service_accounts,
            role_bindings,
            resource_quotas,
            limit_ranges,
            services,
            ingresses
        );
        for ns in &s.namespaces {
            if let Some(name) = ns.metadata.name.as_deref() {
                by.entry(name).or_default().labels = ns.metadata.labels.as_ref();
            }
        }
        Self(by)
    }

    /// The objects of namespace `ns` (none when it holds none).
    pub fn get(&self, ns: &str) -> &Namespaced<'a> {
        self.0.get(ns).unwrap_or(&EMPTY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_land_in_their_namespace() {
        let mut s = ClusterSnapshot::default();
        s.load_text(
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: a, labels: {tier: web}}\n---\n\
             apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: s, namespace: a}\n---\n\
             apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: t, namespace: b}\n",
            "t.yaml",
        )
        .unwrap();
        let by = ByNamespace::new(&s);
        assert_eq!(by.get("a").service_accounts.len(), 1);
        assert_eq!(by.get("a").labels.unwrap()["tier"], "web");
        assert_eq!(by.get("b").service_accounts.len(), 1);
        assert!(by.get("b").labels.is_none() && by.get("c").pods.is_empty());
    }
}
