//! `MonitoringPlan`: the objects the cluster side of monitoring compiles to, in apply order.

use k8s_openapi::Resource;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

use harmony_tenant::{MANAGED_BY_LABEL, MANAGED_BY_VALUE, PlanObject};

use super::crd::{Alertmanager, Prometheus};

/// One object of a monitoring plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
#[allow(missing_docs)] // each variant is the Kubernetes kind of the same name (large ones boxed)
pub enum MonitoringObject {
    Namespace(Namespace),
    ServiceAccount(ServiceAccount),
    ClusterRole(ClusterRole),
    ClusterRoleBinding(ClusterRoleBinding),
    NetworkPolicy(NetworkPolicy),
    ConfigMap(ConfigMap),
    Secret(Secret),
    Prometheus(Box<Prometheus>),
    Alertmanager(Box<Alertmanager>),
    Deployment(Box<Deployment>),
    Service(Box<Service>),
}

/// `$e` with `$o` bound to the object inside any variant.
macro_rules! each {
    ($self:expr, $o:ident => $e:expr) => {
        match $self {
            MonitoringObject::Namespace($o) => $e,
            MonitoringObject::ServiceAccount($o) => $e,
            MonitoringObject::ClusterRole($o) => $e,
            MonitoringObject::ClusterRoleBinding($o) => $e,
            MonitoringObject::NetworkPolicy($o) => $e,
            MonitoringObject::ConfigMap($o) => $e,
            MonitoringObject::Secret($o) => $e,
            MonitoringObject::Prometheus($o) => $e,
            MonitoringObject::Alertmanager($o) => $e,
            MonitoringObject::Deployment($o) => $e,
            MonitoringObject::Service($o) => $e,
        }
    };
}

impl PlanObject for MonitoringObject {
    fn metadata(&self) -> &ObjectMeta {
        each!(self, o => &o.metadata)
    }
}

impl MonitoringObject {
    /// The Kubernetes kind, such as `Prometheus`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Namespace(_) => Namespace::KIND,
            Self::ServiceAccount(_) => ServiceAccount::KIND,
            Self::ClusterRole(_) => ClusterRole::KIND,
            Self::ClusterRoleBinding(_) => ClusterRoleBinding::KIND,
            Self::NetworkPolicy(_) => NetworkPolicy::KIND,
            Self::ConfigMap(_) => ConfigMap::KIND,
            Self::Secret(_) => Secret::KIND,
            Self::Prometheus(_) => Prometheus::KIND,
            Self::Alertmanager(_) => Alertmanager::KIND,
            Self::Deployment(_) => Deployment::KIND,
            Self::Service(_) => Service::KIND,
        }
    }

    /// Two-digit apply rank, also the prefix of manifest file names: the namespace, accounts
    /// and roles before what runs as them, configuration before what reads it.
    pub fn ordinal(&self) -> u8 {
        match self {
            Self::Namespace(_) => 10,
            Self::ServiceAccount(_) => 20,
            Self::ClusterRole(_) => 30,
            Self::ClusterRoleBinding(_) => 31,
            Self::NetworkPolicy(_) => 40,
            Self::ConfigMap(_) => 50,
            Self::Secret(_) => 51,
            Self::Prometheus(_) => 60,
            Self::Alertmanager(_) => 61,
            Self::Deployment(_) => 70,
            Self::Service(_) => 71,
        }
    }

    fn sort_key(&self) -> (u8, &str, &str) {
        (
            self.ordinal(),
            self.namespace().unwrap_or_default(),
            self.name(),
        )
    }
}

/// Every object the cluster side of monitoring compiles to, sorted in apply order.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitoringPlan {
    /// The monitoring file it was compiled from (its `metadata.name`), named in rendered files.
    pub name: String,
    objects: Vec<MonitoringObject>,
}

impl MonitoringPlan {
    /// The plan `name` of `objects`, sorted into apply order.
    pub fn new(name: impl Into<String>, mut objects: Vec<MonitoringObject>) -> Self {
        objects.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        Self {
            name: name.into(),
            objects,
        }
    }

    /// All objects in apply order.
    pub fn objects(&self) -> &[MonitoringObject] {
        &self.objects
    }
}

/// The label naming what an object is part of.
pub const PART_OF_LABEL: &str = "app.kubernetes.io/part-of";
/// [`PART_OF_LABEL`] of every monitoring object: with managed-by `harmony`, what a live apply
/// prunes by.
pub const PART_OF: &str = "harmony-monitoring";

/// The metadata of a Harmony monitoring object: its name, namespace and Harmony's labels.
pub(super) fn harmony_meta(name: &str, namespace: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: namespace.map(Into::into),
        labels: Some(
            [
                (MANAGED_BY_LABEL, MANAGED_BY_VALUE),
                (PART_OF_LABEL, PART_OF),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ),
        ..ObjectMeta::default()
    }
}
