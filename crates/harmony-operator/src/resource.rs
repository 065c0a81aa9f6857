//! The `Tenant` custom resource: a tenant file's `spec` as is, and the status the operator writes.

use std::borrow::Cow;

use harmony_tenant::backup::drill::DrillRecord;
use harmony_tenant::{API_VERSION, TENANT_KIND, TenantScore, TenantSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The API group of the `Tenant` resource.
pub const GROUP: &str = "harmony.nationtech.io";
/// The served version of the `Tenant` resource.
pub const VERSION: &str = "v1alpha1";
/// The resource's plural name.
pub const PLURAL: &str = "tenants";

/// The condition that says whether the tenant's plan is applied.
pub const READY: &str = "Ready";
/// The condition that says whether the audit's checks hold for the tenant on the live state.
pub const ISOLATED: &str = "Isolated";
/// The condition that says why a deleted tenant is still there.
pub const DELETING: &str = "Deleting";
/// The finalizer that holds a deleted Tenant until its access is revoked and its namespace gone.
pub const FINALIZER: &str = "harmony.nationtech.io/tenant";

/// A tenant as a cluster-scoped custom resource (`harmony.nationtech.io/v1alpha1`, kind `Tenant`).
///
/// Its `metadata.name` is the tenant id and its `spec` is exactly the `spec` of a tenant file.
#[derive(Debug, Clone, PartialEq)]
pub struct Tenant {
    /// The object's metadata; `name` is the tenant id.
    pub metadata: ObjectMeta,
    /// The tenant file's `spec`.
    pub spec: TenantSpec,
    /// What the operator observed, written by it.
    pub status: Option<TenantStatus>,
}

impl Tenant {
    /// The resource holding `score`: its id as name, its spec as spec, no status, and the
    /// operator's [`FINALIZER`], so the Tenant is held from its creation and the operator need
    /// not write it again to add it (it adds it to Tenants created without).
    pub fn from_score(score: &TenantScore) -> Self {
        Self {
            metadata: ObjectMeta {
                name: Some(score.name().to_string()),
                finalizers: Some(vec![FINALIZER.into()]),
                ..ObjectMeta::default()
            },
            spec: score.spec(),
            status: None,
        }
    }

    /// The tenant id (`metadata.name`).
    pub fn name(&self) -> &str {
        self.metadata.name.as_deref().unwrap_or_default()
    }

    /// The score this resource describes (not yet validated).
    pub fn score(&self) -> TenantScore {
        TenantScore::from_spec(self.name(), self.spec.clone())
    }

    /// The condition of type `kind`, if the status has one.
    pub fn condition(&self, kind: &str) -> Option<&Condition> {
        self.status
            .as_ref()?
            .conditions
            .iter()
            .find(|c| c.type_ == kind)
    }
}

/// What the operator observed of a tenant.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TenantStatus {
    /// The `metadata.generation` the `Ready` condition and the fields below describe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The tenant's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Every namespace of the tenant, listed then self-service, when it may have more than one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
    /// How many namespaces the tenant may have (`spec.maxNamespaces`), when its admins may ask
    /// for more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_limit: Option<i64>,
    /// How many members hold a RoleBinding in the namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members: Option<i64>,
    /// The quota's use: each resource with what is used and the hard limit.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quota: Vec<QuotaUsage>,
    /// `Ready`, `Isolated` and, while a deletion is held, `Deleting`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,
    /// The last restore drill, written by `harmony tenant restore-drill` (its own field manager;
    /// the operator never writes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_drill: Option<DrillRecord>,
}

/// One resource of the tenant's quota.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuotaUsage {
    /// The resource, such as `requests.cpu`.
    pub resource: String,
    /// What the tenant's objects use, as the quota controller counts it.
    pub used: String,
    /// The hard limit.
    pub hard: String,
}

/// A condition, as Kubernetes writes them (`metav1.Condition`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// `Ready`, `Isolated` or `Deleting`.
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    /// Why, in one PascalCase word, such as `Applied` or `ChecksFailed`.
    pub reason: String,
    /// Why, for people: the failing checks, the invalid fields, what holds a deletion.
    pub message: String,
    /// The `metadata.generation` this condition describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// When `status` last changed (RFC 3339).
    pub last_transition_time: String,
}

impl Condition {
    /// Whether the condition says the same as `other`, whenever each was written.
    pub fn same_as(&self, other: &Condition) -> bool {
        (
            &self.type_,
            &self.status,
            &self.reason,
            &self.message,
            self.observed_generation,
        ) == (
            &other.type_,
            &other.status,
            &other.reason,
            &other.message,
            other.observed_generation,
        )
    }
}

/// The wire form: `apiVersion` and `kind` first, as the API server and `kubectl` expect.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireOut<'a> {
    api_version: &'a str,
    kind: &'a str,
    metadata: &'a ObjectMeta,
    spec: &'a TenantSpec,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'a TenantStatus>,
}

#[derive(Deserialize)]
struct WireIn {
    #[serde(default)]
    metadata: ObjectMeta,
    #[serde(default)]
    spec: TenantSpec,
    #[serde(default)]
    status: Option<TenantStatus>,
}

impl Serialize for Tenant {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        WireOut {
            api_version: API_VERSION,
            kind: TENANT_KIND,
            metadata: &self.metadata,
            spec: &self.spec,
            status: self.status.as_ref(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Tenant {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = WireIn::deserialize(deserializer)?;
        Ok(Self {
            metadata: wire.metadata,
            spec: wire.spec,
            status: wire.status,
        })
    }
}

impl kube::Resource for Tenant {
    type DynamicType = ();
    type Scope = k8s_openapi::ClusterResourceScope;

    fn kind(_: &()) -> Cow<'_, str> {
        TENANT_KIND.into()
    }

    fn group(_: &()) -> Cow<'_, str> {
        GROUP.into()
    }

    fn version(_: &()) -> Cow<'_, str> {
        VERSION.into()
    }

    fn plural(_: &()) -> Cow<'_, str> {
        PLURAL.into()
    }

    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use harmony_tenant::{Member, TenantRole};
    use kube::Resource;

    #[test]
    fn a_tenant_file_and_its_resource_hold_the_same_spec() {
        let score = TenantScore::new("acme")
            .requests("4", "8Gi")
            .member(Member::user("alice", TenantRole::Admin, "alice@acme.com"));
        let resource = Tenant::from_score(&score);
        let file = serde_json::to_value(&score).unwrap();
        let mut wire = serde_json::to_value(&resource).unwrap();
        assert_eq!(
            wire["metadata"]["finalizers"].take(),
            serde_json::json!([FINALIZER])
        );
        wire["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("finalizers");
        assert_eq!(wire, file);
        let back: Tenant = serde_json::from_value(wire).unwrap();
        assert_eq!(back.score(), score);
        assert_eq!(Tenant::api_version(&()), API_VERSION);
        assert_eq!(
            Tenant::url_path(&(), None),
            "/apis/harmony.nationtech.io/v1alpha1/tenants"
        );
    }

    #[test]
    fn the_kind_table_names_the_tenant_resource_as_its_model_does() {
        let kind = harmony_kube::kinds::TENANT;
        assert_eq!(kind.api_version(), Tenant::api_version(&()));
        assert_eq!(kind.name(), Tenant::kind(&()));
        assert_eq!(kind.plural(), Tenant::plural(&()));
        assert!(!kind.namespaced());
    }
}
