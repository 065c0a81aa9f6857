//! `TenantScore`: what a tenant is. Its serde form is the tenant file (`kind: Tenant`).

use harmony::identity_problems;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::backup::BackupConfig;
use crate::connections::ConnectionsConfig;
use crate::ingress::IngressConfig;
use crate::monitoring::MonitoringConfig;
pub use crate::namespaces::TenantNamespace;
use crate::workloads::{ImagePolicy, SchedulingConfig};

/// Harmony's API group: Tenants and NamespaceRequests.
pub const HARMONY_GROUP: &str = "harmony.nationtech.io";
/// The `apiVersion` of tenant files and cluster profiles.
pub const API_VERSION: &str = "harmony.nationtech.io/v1alpha1";
/// The `kind` of tenant files.
pub const TENANT_KIND: &str = "Tenant";

/// Everything Harmony needs to know about one tenant, shaped like ADR 011's struct.
///
/// Unset optional fields take safe, documented defaults (see [`crate::defaults`]). A value of this
/// type may be invalid until [`TenantScore::validate`] says otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "TenantDocument", into = "TenantDocument")]
pub struct TenantScore {
    /// Identity, namespace and pod security.
    pub tenant_config: TenantConfig,
    /// Compute, object-count and container limits.
    pub resource_quotas: ResourceQuotaConfig,
    /// What may reach the tenant and what it may reach.
    pub network_isolation: NetworkIsolationPolicy,
    /// Which storage classes the tenant may claim from, and how much.
    pub storage_access: StorageAccessConfig,
    /// Which hosts and IngressClasses the tenant's Ingresses and Routes may use.
    pub ingress: IngressConfig,
    /// Who may do what in the tenant's namespace.
    pub rbac_config: RbacConfig,
    /// PriorityClasses and RuntimeClasses the tenant's pods may name.
    pub scheduling: SchedulingConfig,
    /// Image pull policy and registries of the tenant's containers.
    pub images: ImagePolicy,
    /// What deleting the tenant may destroy.
    pub deletion: DeletionPolicy,
    /// Monitoring roles, standard alerts and where alerts go.
    pub monitoring: MonitoringConfig,
    /// The Velero backup schedule, retention and volumes.
    pub backup: BackupConfig,
    /// Declared connections to and from other tenants.
    pub connections: ConnectionsConfig,
}

/// Identity, namespace and pod security of a tenant.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantConfig {
    /// Tenant id: a DNS-1123 label of 1–40 characters.
    pub name: String,
    /// A name for people; defaults to the tenant id.
    pub display_name: Option<String>,
    /// The tenant's namespace; defaults to the tenant id.
    pub namespace: Option<String>,
    /// The tenant's namespaces when it has several (first = default); excludes `namespace`.
    pub namespaces: Option<Vec<TenantNamespace>>,
    /// How many namespaces the tenant may have, self-service ones included; unset: only the
    /// listed ones (no self-service).
    pub max_namespaces: Option<u32>,
    /// Namespaces of the tenant that may exist already without Harmony's labels, and that Harmony
    /// may then take over (see [`crate::adoption`]); empty: none.
    pub adopt_namespaces: Vec<String>,
    /// The Pod Security Standard enforced in the namespace.
    pub pod_security: PodSecurityLevel,
}

/// Pod Security Standards level (the `restricted` default is the only one without escapes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PodSecurityLevel {
    /// Hardened: non-root, no privilege escalation, restricted volumes and capabilities.
    #[default]
    Restricted,
    /// Prevents known privilege escalations; allows some defaults `restricted` refuses.
    Baseline,
}

impl PodSecurityLevel {
    /// The value of the `pod-security.kubernetes.io/*` labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Restricted => "restricted",
            Self::Baseline => "baseline",
        }
    }
}

/// Quota, object counts and per-container defaults. Unset values take [`crate::defaults`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceQuotaConfig {
    /// Total requests of all pods.
    #[serde(default, skip_serializing_if = "ComputeResources::is_empty")]
    pub requests: ComputeResources,
    /// Total limits of all pods.
    #[serde(default, skip_serializing_if = "ComputeResources::is_empty")]
    pub limits: ComputeResources,
    /// Object counts.
    #[serde(default, skip_serializing_if = "ObjectCounts::is_empty")]
    pub objects: ObjectCounts,
    /// Per-container defaults and maximum (a LimitRange).
    #[serde(default, skip_serializing_if = "ContainerDefaults::is_empty")]
    pub container_defaults: ContainerDefaults,
}

/// CPU, memory and ephemeral storage.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ComputeResources {
    /// CPU, such as `4` or `500m`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::quantity"
    )]
    #[schemars(schema_with = "lenient::quantity_schema")]
    pub cpu: Option<Quantity>,
    /// Memory, such as `8Gi`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::quantity"
    )]
    #[schemars(schema_with = "lenient::quantity_schema")]
    pub memory: Option<Quantity>,
    /// Ephemeral (node-local) storage, such as `10Gi`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::quantity"
    )]
    #[schemars(schema_with = "lenient::quantity_schema")]
    pub ephemeral_storage: Option<Quantity>,
}

impl ComputeResources {
    fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// Object counts. Signed so that a negative count in a file is reported, not a parse error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(missing_docs)] // each field is the object count of the same name
pub struct ObjectCounts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pods: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub services: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_maps: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistent_volume_claims: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replication_controllers: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_quotas: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_ports: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancers: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployments: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stateful_sets: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica_sets: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jobs: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron_jobs: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingresses: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_disruption_budgets: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_accounts: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_bindings: Option<i64>,
}

impl ObjectCounts {
    fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// Per-container request and limit defaults, and the maximum a container may ask for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContainerDefaults {
    /// Default request of a container that sets none.
    #[serde(default, skip_serializing_if = "ContainerResources::is_empty")]
    pub request: ContainerResources,
    /// Default limit of a container that sets none.
    #[serde(default, skip_serializing_if = "ContainerResources::is_empty")]
    pub limit: ContainerResources,
    /// The most one container may set as limit.
    #[serde(default, skip_serializing_if = "ContainerResources::is_empty")]
    pub max: ContainerResources,
}

impl ContainerDefaults {
    fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// CPU, memory and ephemeral storage of one container.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContainerResources {
    /// CPU, such as `100m`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::quantity"
    )]
    #[schemars(schema_with = "lenient::quantity_schema")]
    pub cpu: Option<Quantity>,
    /// Memory, such as `128Mi`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::quantity"
    )]
    #[schemars(schema_with = "lenient::quantity_schema")]
    pub memory: Option<Quantity>,
    /// Ephemeral (node-local) storage, such as `1Gi`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::quantity"
    )]
    #[schemars(schema_with = "lenient::quantity_schema")]
    pub ephemeral_storage: Option<Quantity>,
}

impl ContainerResources {
    fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// Network isolation. Whatever the settings, no other tenant can reach the tenant and the tenant
/// can reach no other namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NetworkIsolationPolicy {
    /// Whether pods may reach the public internet.
    #[serde(default)]
    pub internet_egress: InternetEgress,
    /// Platform namespaces whose pods may reach the tenant; unset means all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_from: Option<Vec<PlatformSource>>,
    /// Extra public CIDRs the tenant may reach (non-public ones go to `allow_private_egress_to`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_egress_to: Vec<String>,
    /// Non-public CIDRs (private, link-local...) the tenant may reach, each with its reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_private_egress_to: Vec<PrivateEgress>,
}

/// A non-public CIDR a tenant may reach: an explicit opt-in, reported by the audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PrivateEgress {
    /// The CIDR, such as `10.20.0.0/24`.
    pub cidr: String,
    /// Why the tenant needs it, such as `corporate backup server`.
    pub reason: String,
}

impl NetworkIsolationPolicy {
    /// The platform sources let in (all of them when unset).
    pub fn allowed_sources(&self) -> Vec<PlatformSource> {
        self.allow_from
            .clone()
            .unwrap_or_else(|| vec![PlatformSource::Ingress, PlatformSource::Monitoring])
    }
}

/// Internet egress.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum InternetEgress {
    /// Pods may reach any address outside the cluster's pod, service and node networks.
    #[default]
    Allow,
    /// Pods reach only DNS, their own namespace and `allowEgressTo`.
    Deny,
}

/// A platform namespace allowed to reach the tenant's pods.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum PlatformSource {
    /// The ingress controller (routers), so the tenant's Ingresses and Routes work.
    Ingress,
    /// The cluster monitoring stack, so it can scrape the tenant's metrics.
    Monitoring,
}

impl PlatformSource {
    /// The name used in files and object names.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ingress => "ingress",
            Self::Monitoring => "monitoring",
        }
    }
}

/// PVC-only storage with a per-class allow-list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StorageAccessConfig {
    /// Classes the tenant may claim from, each with its cap; empty means no PVCs at all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub storage_classes: Vec<StorageClassAllowance>,
}

/// One allowed storage class and how much the tenant may request from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StorageClassAllowance {
    /// The StorageClass name.
    pub name: String,
    /// Total storage the tenant's PVCs may request from it.
    #[serde(deserialize_with = "lenient::required_quantity")]
    #[schemars(schema_with = "lenient::quantity_schema")]
    pub requests: Quantity,
}

/// Members and what admins may delegate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RbacConfig {
    /// People, groups and workloads with access to the namespace.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<Member>,
    /// What tenant admins may do themselves.
    #[serde(default)]
    pub self_service: SelfService,
}

/// Self-service rights of tenant admins.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SelfService {
    /// Admins may bind the tenant's own roles inside the namespace (off by default).
    #[serde(default)]
    pub role_bindings: bool,
}

/// One member: a user, a group, or a ServiceAccount Harmony creates.
///
/// Exactly one of `user`, `group` and `service_account` must be set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Member {
    /// Member id: a DNS-1123 label, unique in the tenant.
    pub name: String,
    /// What the member may do.
    pub role: TenantRole,
    /// A user name, as the API server authenticates it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// A group name, as the API server authenticates it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// A ServiceAccount named after the member, in the tenant namespace.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub service_account: bool,
    /// A user or group of the identity provider (the `IdentityProvider` file), bound as the API
    /// server names it (with its prefixes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc: Option<OidcMember>,
    /// The `user` or `group` is a member of other tenants on purpose; each of them must say so.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shared: bool,
}

/// An identity provider member: exactly one of `user` and `group`.
///
/// A user joins the tenant's group for its role (`tenant-<tenant>-<role>s`, which `harmony
/// identity sync` keeps in the identity provider) and is bound through that group; a group (one
/// the identity provider already has) is bound itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OidcMember {
    /// The user name, as the identity provider's username claim gives it (before the prefix).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The group name, as the identity provider's groups claim gives it (before the prefix).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

/// Who a member is, once validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity<'a> {
    /// A user name.
    User(&'a str),
    /// A group name.
    Group(&'a str),
    /// A ServiceAccount named after the member.
    ServiceAccount,
    /// An identity provider user, bound through the tenant's group for its role.
    OidcUser(&'a str),
    /// An identity provider group.
    OidcGroup(&'a str),
}

impl Member {
    /// A member authenticated as user `user`.
    pub fn user(name: impl Into<String>, role: TenantRole, user: impl Into<String>) -> Self {
        Self::with(name, role, Some(user.into()), None, false)
    }

    /// A member that is every user of group `group`.
    pub fn group(name: impl Into<String>, role: TenantRole, group: impl Into<String>) -> Self {
        Self::with(name, role, None, Some(group.into()), false)
    }

    /// A member that is a ServiceAccount named `name` in the tenant namespace.
    pub fn service_account(name: impl Into<String>, role: TenantRole) -> Self {
        Self::with(name, role, None, None, true)
    }

    /// A member that is identity provider user `user`.
    pub fn oidc_user(name: impl Into<String>, role: TenantRole, user: impl Into<String>) -> Self {
        Self {
            oidc: Some(OidcMember {
                user: Some(user.into()),
                group: None,
            }),
            ..Self::with(name, role, None, None, false)
        }
    }

    /// A member that is every user of identity provider group `group`.
    pub fn oidc_group(name: impl Into<String>, role: TenantRole, group: impl Into<String>) -> Self {
        Self {
            oidc: Some(OidcMember {
                user: None,
                group: Some(group.into()),
            }),
            ..Self::with(name, role, None, None, false)
        }
    }

    fn with(
        name: impl Into<String>,
        role: TenantRole,
        user: Option<String>,
        group: Option<String>,
        service_account: bool,
    ) -> Self {
        Self {
            name: name.into(),
            role,
            user,
            group,
            service_account,
            oidc: None,
            shared: false,
        }
    }

    /// Marks the member's `user` or `group` as shared with other tenants on purpose.
    pub fn shared(mut self) -> Self {
        self.shared = true;
        self
    }

    /// The member's identity, or `None` when zero or several identities are set.
    pub fn identity(&self) -> Option<Identity<'_>> {
        let oidc = self.oidc.as_ref().map(|o| (&o.user, &o.group));
        match (&self.user, &self.group, self.service_account, oidc) {
            (Some(user), None, false, None) => Some(Identity::User(user)),
            (None, Some(group), false, None) => Some(Identity::Group(group)),
            (None, None, true, None) => Some(Identity::ServiceAccount),
            (None, None, false, Some((Some(user), None))) => Some(Identity::OidcUser(user)),
            (None, None, false, Some((None, Some(group)))) => Some(Identity::OidcGroup(group)),
            _ => None,
        }
    }
}

/// The three tenant roles, from most to least powerful.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum TenantRole {
    /// Developer rights, plus RoleBindings (when self-service allows) and ServiceAccounts.
    Admin,
    /// Writes workloads, pods, services, config, secrets, PVCs, ingresses.
    Developer,
    /// Reads everything but secrets.
    Viewer,
}

impl TenantRole {
    /// All roles.
    pub const ALL: [TenantRole; 3] = [Self::Admin, Self::Developer, Self::Viewer];

    /// `admin`, `developer` or `viewer`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Developer => "developer",
            Self::Viewer => "viewer",
        }
    }

    /// The name of the namespaced Role, such as `tenant-admin`.
    pub fn role_name(self) -> String {
        format!("tenant-{}", self.as_str())
    }

    /// The identity provider group of `tenant`'s members with this role, such as
    /// `tenant-acme-developers` (flat, as the groups claim lists it).
    pub fn group_name(self, tenant: &str) -> String {
        format!("tenant-{tenant}-{}s", self.as_str())
    }
}

impl TenantScore {
    /// A tenant with every optional field at its default.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            tenant_config: TenantConfig {
                name: name.into(),
                display_name: None,
                namespace: None,
                namespaces: None,
                max_namespaces: None,
                adopt_namespaces: Vec::new(),
                pod_security: PodSecurityLevel::default(),
            },
            resource_quotas: ResourceQuotaConfig::default(),
            network_isolation: NetworkIsolationPolicy::default(),
            storage_access: StorageAccessConfig::default(),
            ingress: IngressConfig::default(),
            rbac_config: RbacConfig::default(),
            scheduling: SchedulingConfig::default(),
            images: ImagePolicy::default(),
            deletion: DeletionPolicy::default(),
            monitoring: MonitoringConfig::default(),
            backup: BackupConfig::default(),
            connections: ConnectionsConfig::default(),
        }
    }

    /// The tenant id.
    pub fn name(&self) -> &str {
        &self.tenant_config.name
    }

    /// The tenant's default namespace: the first of [`TenantScore::namespaces`].
    pub fn namespace(&self) -> &str {
        self.namespaces()[0]
    }

    /// Sets the name for people.
    pub fn display_name(mut self, display_name: impl Into<String>) -> Self {
        self.tenant_config.display_name = Some(display_name.into());
        self
    }

    /// Sets the namespace (default: the tenant id).
    pub fn in_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.tenant_config.namespace = Some(namespace.into());
        self
    }

    /// Sets the Pod Security Standard level.
    pub fn pod_security(mut self, level: PodSecurityLevel) -> Self {
        self.tenant_config.pod_security = level;
        self
    }

    /// Sets the total CPU and memory requests.
    pub fn requests(mut self, cpu: &str, memory: &str) -> Self {
        self.resource_quotas.requests.cpu = Some(Quantity(cpu.into()));
        self.resource_quotas.requests.memory = Some(Quantity(memory.into()));
        self
    }

    /// Sets the total CPU and memory limits.
    pub fn limits(mut self, cpu: &str, memory: &str) -> Self {
        self.resource_quotas.limits.cpu = Some(Quantity(cpu.into()));
        self.resource_quotas.limits.memory = Some(Quantity(memory.into()));
        self
    }

    /// Sets the most pods the tenant may run.
    pub fn max_pods(mut self, pods: i64) -> Self {
        self.resource_quotas.objects.pods = Some(pods);
        self
    }

    /// Denies internet egress.
    pub fn deny_internet_egress(mut self) -> Self {
        self.network_isolation.internet_egress = InternetEgress::Deny;
        self
    }

    /// Lets the tenant reach an extra CIDR.
    pub fn allow_egress_to(mut self, cidr: impl Into<String>) -> Self {
        self.network_isolation.allow_egress_to.push(cidr.into());
        self
    }

    /// Lets the tenant reach a non-public CIDR, for `reason`.
    pub fn allow_private_egress_to(
        mut self,
        cidr: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        self.network_isolation
            .allow_private_egress_to
            .push(PrivateEgress {
                cidr: cidr.into(),
                reason: reason.into(),
            });
        self
    }

    /// Sets which platform namespaces may reach the tenant.
    pub fn allow_from(mut self, sources: impl IntoIterator<Item = PlatformSource>) -> Self {
        self.network_isolation.allow_from = Some(sources.into_iter().collect());
        self
    }

    /// Allows PVCs of `class`, up to `requests` in total.
    pub fn storage_class(mut self, class: impl Into<String>, requests: &str) -> Self {
        self.storage_access
            .storage_classes
            .push(StorageClassAllowance {
                name: class.into(),
                requests: Quantity(requests.into()),
            });
        self
    }

    /// Lets the tenant's Ingresses and Routes serve `hostname` (exact or `*.domain`).
    pub fn ingress_hostname(mut self, hostname: impl Into<String>) -> Self {
        self.ingress.hostnames.push(hostname.into());
        self
    }

    /// Lets the tenant's Ingresses name IngressClass `class`.
    pub fn ingress_class(mut self, class: impl Into<String>) -> Self {
        self.ingress.classes.push(class.into());
        self
    }

    /// Adds a member.
    pub fn member(mut self, member: Member) -> Self {
        self.rbac_config.members.push(member);
        self
    }

    /// Lets tenant admins bind the tenant's roles.
    pub fn self_service_role_bindings(mut self, allowed: bool) -> Self {
        self.rbac_config.self_service.role_bindings = allowed;
        self
    }
}

/// The tenant file as written: `apiVersion`, `kind`, `metadata`, `spec`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TenantDocument {
    api_version: String,
    kind: String,
    metadata: TenantMetadata,
    #[serde(default)]
    spec: TenantSpec,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TenantMetadata {
    name: String,
}

/// The `spec` of a tenant file (and of a `Tenant` resource): everything but the tenant id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TenantSpec {
    /// A name for people; defaults to the tenant id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The tenant's namespace; defaults to the tenant id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The tenant's namespaces, when it has several (the first is the default one); set either
    /// this or `namespace`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespaces: Option<Vec<TenantNamespace>>,
    /// How many namespaces the tenant may have, self-service ones (`NamespaceRequest`) included;
    /// unset: the listed namespaces only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_namespaces: Option<u32>,
    /// Namespaces of the tenant that may already exist without Harmony's labels (created before
    /// Harmony, by hand or by another tool): Harmony takes them over, with whatever runs in them.
    /// A namespace that exists without those labels and is not listed here is refused.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adopt_namespaces: Vec<String>,
    /// The Pod Security Standard enforced in the namespace.
    #[serde(default)]
    pub pod_security: PodSecurityLevel,
    /// Compute, object-count and container limits.
    #[serde(default)]
    pub resource_quotas: ResourceQuotaConfig,
    /// What may reach the tenant and what it may reach.
    #[serde(default)]
    pub network_isolation: NetworkIsolationPolicy,
    /// Which storage classes the tenant may claim from, and how much.
    #[serde(default)]
    pub storage_access: StorageAccessConfig,
    /// Which hosts and IngressClasses the tenant's Ingresses and Routes may use.
    #[serde(default, skip_serializing_if = "IngressConfig::is_empty")]
    pub ingress: IngressConfig,
    /// Who may do what in the tenant's namespace.
    #[serde(default)]
    pub rbac: RbacConfig,
    /// PriorityClasses and RuntimeClasses the tenant's pods may name.
    #[serde(default, skip_serializing_if = "SchedulingConfig::is_empty")]
    pub scheduling: SchedulingConfig,
    /// Image pull policy and registries of the tenant's containers.
    #[serde(default, skip_serializing_if = "ImagePolicy::is_empty")]
    pub images: ImagePolicy,
    /// What deleting the tenant may destroy.
    #[serde(default, skip_serializing_if = "DeletionPolicy::is_default")]
    pub deletion: DeletionPolicy,
    /// Monitoring roles, standard alerts and where alerts go (on by default).
    #[serde(default, skip_serializing_if = "MonitoringConfig::is_default")]
    pub monitoring: MonitoringConfig,
    /// Velero backups of the namespace (on by default where the cluster runs Velero or OADP).
    #[serde(default, skip_serializing_if = "BackupConfig::is_default")]
    pub backup: BackupConfig,
    /// Connections to and from other tenants' pods, rendered only when both tenants declare them.
    #[serde(default, skip_serializing_if = "ConnectionsConfig::is_empty")]
    pub connections: ConnectionsConfig,
}

/// What deleting a tenant may destroy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeletionPolicy {
    /// Delete the namespace's PersistentVolumeClaims, and so possibly their volumes' data, with
    /// the tenant. Off by default: a deletion that would destroy data is refused.
    #[serde(default)]
    pub delete_data: bool,
}

impl DeletionPolicy {
    fn is_default(&self) -> bool {
        self == &Self::default()
    }
}

impl TenantScore {
    /// The tenant `name` described by `spec`, as a `Tenant` resource holds them.
    pub fn from_spec(name: impl Into<String>, spec: TenantSpec) -> Self {
        Self {
            tenant_config: TenantConfig {
                name: name.into(),
                display_name: spec.display_name,
                namespace: spec.namespace,
                namespaces: spec.namespaces,
                max_namespaces: spec.max_namespaces,
                adopt_namespaces: spec.adopt_namespaces,
                pod_security: spec.pod_security,
            },
            resource_quotas: spec.resource_quotas,
            network_isolation: spec.network_isolation,
            storage_access: spec.storage_access,
            ingress: spec.ingress,
            rbac_config: spec.rbac,
            scheduling: spec.scheduling,
            images: spec.images,
            deletion: spec.deletion,
            monitoring: spec.monitoring,
            backup: spec.backup,
            connections: spec.connections,
        }
    }

    /// The tenant's spec: its tenant file without `apiVersion`, `kind` and `metadata`.
    pub fn spec(&self) -> TenantSpec {
        let score = self.clone();
        TenantSpec {
            display_name: score.tenant_config.display_name,
            namespace: score.tenant_config.namespace,
            namespaces: score.tenant_config.namespaces,
            max_namespaces: score.tenant_config.max_namespaces,
            adopt_namespaces: score.tenant_config.adopt_namespaces,
            pod_security: score.tenant_config.pod_security,
            resource_quotas: score.resource_quotas,
            network_isolation: score.network_isolation,
            storage_access: score.storage_access,
            ingress: score.ingress,
            rbac: score.rbac_config,
            scheduling: score.scheduling,
            images: score.images,
            deletion: score.deletion,
            monitoring: score.monitoring,
            backup: score.backup,
            connections: score.connections,
        }
    }
}

impl TryFrom<TenantDocument> for TenantScore {
    type Error = String;

    fn try_from(doc: TenantDocument) -> Result<Self, String> {
        let identity = identity_problems::<Self>(Some(&doc.api_version), Some(&doc.kind));
        if let Some(problem) = identity.first() {
            return Err(problem.to_string());
        }
        Ok(Self::from_spec(doc.metadata.name, doc.spec))
    }
}

impl From<TenantScore> for TenantDocument {
    fn from(score: TenantScore) -> Self {
        Self {
            api_version: API_VERSION.into(),
            kind: TENANT_KIND.into(),
            spec: score.spec(),
            metadata: TenantMetadata {
                name: score.tenant_config.name,
            },
        }
    }
}

/// Quantities written as YAML numbers (`cpu: 4`) are accepted as their text, as kubectl does.
mod lenient {
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
    use serde::Deserializer;
    use serde::de::{Error, Visitor};
    use std::fmt;

    struct QuantityText;

    impl Visitor<'_> for QuantityText {
        type Value = Quantity;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a quantity such as 500m, 2, 4Gi")
        }
        fn visit_str<E: Error>(self, v: &str) -> Result<Quantity, E> {
            Ok(Quantity(v.to_string()))
        }
        fn visit_i64<E: Error>(self, v: i64) -> Result<Quantity, E> {
            Ok(Quantity(v.to_string()))
        }
        fn visit_u64<E: Error>(self, v: u64) -> Result<Quantity, E> {
            Ok(Quantity(v.to_string()))
        }
        fn visit_f64<E: Error>(self, v: f64) -> Result<Quantity, E> {
            Ok(Quantity(v.to_string()))
        }
    }

    pub fn required_quantity<'de, D: Deserializer<'de>>(d: D) -> Result<Quantity, D::Error> {
        d.deserialize_any(QuantityText)
    }

    pub fn quantity<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Quantity>, D::Error> {
        required_quantity(d).map(Some)
    }

    /// A quantity's schema: a string or a number, as Kubernetes quantities are.
    pub fn quantity_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A quantity, such as 500m, 2 or 4Gi.",
            "x-kubernetes-int-or-string": true,
        })
    }
}
