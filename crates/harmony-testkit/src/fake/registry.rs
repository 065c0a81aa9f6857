//! The resource registry: which kinds of Harmony's kind table the fake serves.

use harmony_kube::Kind;
use harmony_kube::kinds::{
    ADMIN_NETWORK_POLICY, BASELINE_ADMIN_NETWORK_POLICY, OKD_NETWORK, OKD_PROJECT, OKD_ROUTE,
    OKD_SECURITY_CONTEXT_CONSTRAINTS,
};
use k8s_openapi::Resource;
use k8s_openapi::api::admissionregistration::v1::{
    ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding,
};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::authentication::v1::TokenRequest;
use k8s_openapi::api::authorization::v1::SelfSubjectAccessReview;
use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use k8s_openapi::api::core::v1::{
    ConfigMap, Event, LimitRange, Namespace, Node, PersistentVolume, PersistentVolumeClaim, Pod,
    ResourceQuota, Secret, Service, ServiceAccount,
};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use k8s_openapi::api::storage::v1::StorageClass;
use serde_json::{Value, json};

/// Which distribution the fake pretends to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Flavor {
    /// Upstream Kubernetes.
    #[default]
    Vanilla,
    /// OKD/OpenShift: also serves `route.openshift.io`, `config.openshift.io`, `project.openshift.io`
    /// and `security.openshift.io`, and seeds the `networks/cluster` config object.
    Okd,
}

/// Group, version and plural resource name, such as `("apps", "v1", "deployments")`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gvr {
    /// API group; empty for the core group.
    pub group: String,
    /// API version, such as `v1`.
    pub version: String,
    /// Plural resource name, such as `configmaps`.
    pub resource: String,
}

impl Gvr {
    /// A resource of any group.
    pub fn new(group: &str, version: &str, resource: &str) -> Self {
        Self {
            group: group.into(),
            version: version.into(),
            resource: resource.into(),
        }
    }

    /// A resource of the core group (`v1`).
    pub fn core(resource: &str) -> Self {
        Self::new("", "v1", resource)
    }

    /// Where `kind` is served.
    pub fn of(kind: Kind) -> Self {
        Self::new(kind.group(), kind.version(), kind.plural())
    }

    /// Whether this is where `kind` is served.
    pub fn is(&self, kind: Kind) -> bool {
        self.group == kind.group()
            && self.version == kind.version()
            && self.resource == kind.plural()
    }

    /// `v1` or `apps/v1`, as in an object's `apiVersion`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// One served resource.
#[derive(Debug, Clone)]
pub struct ResourceInfo {
    /// Where it is served.
    pub gvr: Gvr,
    /// Its kind, such as `ConfigMap`.
    pub kind: &'static str,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// Discovery short names, such as `cm`.
    pub short_names: &'static [&'static str],
    /// Subresources: `status`, `token`, `approval`.
    pub subresources: &'static [&'static str],
    /// Create-only virtual resources (reviews) that are answered, never stored.
    pub create_only: bool,
}

const CRUD: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

impl ResourceInfo {
    /// Discovery verbs.
    pub fn verbs(&self) -> &'static [&'static str] {
        if self.create_only { &["create"] } else { CRUD }
    }

    /// Whether this resource has a `status` subresource (main-resource writes then keep the live status).
    pub fn has_status(&self) -> bool {
        self.subresources.contains(&"status")
    }

    /// The discovery `APIResource` entries of this resource and its subresources.
    fn discovery_entries(&self) -> Vec<Value> {
        let mut entries = vec![json!({
            "name": self.gvr.resource,
            "singularName": self.kind.to_lowercase(),
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": self.verbs(),
            "shortNames": self.short_names,
        })];
        for sub in self.subresources {
            let (kind, group, version, verbs): (&str, Option<&str>, Option<&str>, &[&str]) =
                match *sub {
                    "token" => (
                        TokenRequest::KIND,
                        Some(TokenRequest::GROUP),
                        Some(TokenRequest::VERSION),
                        &["create"],
                    ),
                    _ => (self.kind, None, None, &["get", "patch", "update"]),
                };
            let mut entry = json!({
                "name": format!("{}/{sub}", self.gvr.resource),
                "singularName": "",
                "namespaced": self.namespaced,
                "kind": kind,
                "verbs": verbs,
            });
            if let (Some(g), Some(v)) = (group, version) {
                entry["group"] = json!(g);
                entry["version"] = json!(v);
            }
            entries.push(entry);
        }
        entries
    }
}

/// Every resource the fake serves for a flavor.
#[derive(Debug, Clone)]
pub struct Registry {
    resources: Vec<ResourceInfo>,
}

/// A served kind, its discovery short names and its subresources.
type Row = (Kind, &'static [&'static str], &'static [&'static str]);

#[rustfmt::skip]
const VANILLA: &[Row] = &[
    (Kind::of::<Namespace>(), &["ns"], &["status", "finalize"]),
    (Kind::of::<Pod>(), &["po"], &["status"]),
    (Kind::of::<Service>(), &["svc"], &["status"]),
    (Kind::of::<ConfigMap>(), &["cm"], &[]),
    (Kind::of::<Secret>(), &[], &[]),
    (Kind::of::<ServiceAccount>(), &["sa"], &["token"]),
    (Kind::of::<PersistentVolumeClaim>(), &["pvc"], &["status"]),
    (Kind::of::<PersistentVolume>(), &["pv"], &["status"]),
    (Kind::of::<ResourceQuota>(), &["quota"], &["status"]),
    (Kind::of::<LimitRange>(), &["limits"], &[]),
    (Kind::of::<Event>(), &["ev"], &[]),
    (Kind::of::<Node>(), &["no"], &["status"]),
    (Kind::of::<Deployment>(), &["deploy"], &["status"]),
    (Kind::of::<NetworkPolicy>(), &["netpol"], &[]),
    (Kind::of::<Ingress>(), &["ing"], &["status"]),
    (Kind::of::<Role>(), &[], &[]),
    (Kind::of::<RoleBinding>(), &[], &[]),
    (Kind::of::<ClusterRole>(), &[], &[]),
    (Kind::of::<ClusterRoleBinding>(), &[], &[]),
    (Kind::of::<StorageClass>(), &["sc"], &[]),
    (Kind::of::<CertificateSigningRequest>(), &["csr"], &["approval", "status"]),
    (Kind::of::<ValidatingAdmissionPolicy>(), &[], &["status"]),
    (Kind::of::<ValidatingAdmissionPolicyBinding>(), &[], &[]),
    (ADMIN_NETWORK_POLICY, &["anp"], &["status"]),
    (BASELINE_ADMIN_NETWORK_POLICY, &["banp"], &["status"]),
    (Kind::of::<SelfSubjectAccessReview>(), &[], &[]),
];

#[rustfmt::skip]
const OKD: &[Row] = &[
    (OKD_ROUTE, &[], &["status"]),
    (OKD_NETWORK, &[], &["status"]),
    (OKD_PROJECT, &[], &[]),
    (OKD_SECURITY_CONTEXT_CONSTRAINTS, &["scc"], &[]),
];

impl Registry {
    /// The resources of a flavor.
    pub fn for_flavor(flavor: Flavor) -> Self {
        let extra: &[_] = if flavor == Flavor::Okd { OKD } else { &[] };
        let resources = VANILLA
            .iter()
            .chain(extra)
            .map(|&(kind, short_names, subresources)| ResourceInfo {
                gvr: Gvr::of(kind),
                kind: kind.name(),
                namespaced: kind.namespaced(),
                short_names,
                subresources,
                create_only: kind.plural().ends_with("accessreviews"),
            })
            .collect();
        Self { resources }
    }

    /// The resource served at `group/version/plural`.
    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<&ResourceInfo> {
        self.resources
            .iter()
            .find(|r| r.gvr.group == group && r.gvr.version == version && r.gvr.resource == plural)
    }

    /// Where `kind` is served, if the fake serves it.
    pub fn served(&self, kind: Kind) -> Option<&ResourceInfo> {
        self.find(kind.group(), kind.version(), kind.plural())
    }

    /// The resource of an `apiVersion` and `kind`.
    pub fn find_kind(&self, api_version: &str, kind: &str) -> Option<&ResourceInfo> {
        self.resources
            .iter()
            .find(|r| r.gvr.api_version() == api_version && r.kind == kind)
    }

    /// Served non-core groups with their versions, in registry order.
    fn groups(&self) -> Vec<(&str, Vec<&str>)> {
        let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
        for r in self.resources.iter().filter(|r| !r.gvr.group.is_empty()) {
            match groups.iter_mut().find(|(g, _)| *g == r.gvr.group) {
                Some((_, versions)) if !versions.contains(&r.gvr.version.as_str()) => {
                    versions.push(&r.gvr.version)
                }
                Some(_) => {}
                None => groups.push((&r.gvr.group, vec![&r.gvr.version])),
            }
        }
        groups
    }

    /// `GET /apis`: the `APIGroupList`.
    pub fn group_list(&self) -> Value {
        let groups: Vec<Value> = self
            .groups()
            .into_iter()
            .map(|(g, vs)| group_json(g, &vs))
            .collect();
        json!({ "kind": "APIGroupList", "apiVersion": "v1", "groups": groups })
    }

    /// `GET /apis/{group}`: the `APIGroup`, if served.
    pub fn group(&self, group: &str) -> Option<Value> {
        self.groups()
            .into_iter()
            .find(|(g, _)| *g == group)
            .map(|(g, vs)| {
                let mut v = group_json(g, &vs);
                v["kind"] = json!("APIGroup");
                v["apiVersion"] = json!("v1");
                v
            })
    }

    /// `GET /api/v1` or `GET /apis/{group}/{version}`: the `APIResourceList`, if served.
    pub fn resource_list(&self, group: &str, version: &str) -> Option<Value> {
        let entries: Vec<Value> = self
            .resources
            .iter()
            .filter(|r| r.gvr.group == group && r.gvr.version == version)
            .flat_map(ResourceInfo::discovery_entries)
            .collect();
        if entries.is_empty() {
            return None;
        }
        let group_version = Gvr::new(group, version, "").api_version();
        Some(
            json!({ "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": entries }),
        )
    }
}

fn group_json(group: &str, versions: &[&str]) -> Value {
    let versions: Vec<Value> = versions
        .iter()
        .map(|v| json!({ "groupVersion": format!("{group}/{v}"), "version": v }))
        .collect();
    json!({ "name": group, "versions": versions, "preferredVersion": versions[0] })
}
