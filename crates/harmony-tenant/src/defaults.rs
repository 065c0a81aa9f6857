//! The documented defaults of every optional tenant field.
//!
//! A tenant file with only `metadata.name` gets all of these: a bounded quota, NodePorts and
//! LoadBalancers at zero, a LimitRange, full network isolation and restricted pod security.

/// Total CPU requests.
pub const REQUESTS_CPU: &str = "2";
/// Total memory requests.
pub const REQUESTS_MEMORY: &str = "4Gi";
/// Total ephemeral-storage requests.
pub const REQUESTS_EPHEMERAL_STORAGE: &str = "10Gi";
/// Total CPU limits.
pub const LIMITS_CPU: &str = "4";
/// Total memory limits.
pub const LIMITS_MEMORY: &str = "8Gi";
/// Total ephemeral-storage limits.
pub const LIMITS_EPHEMERAL_STORAGE: &str = "20Gi";

/// Pods.
pub const PODS: i64 = 50;
/// Services.
pub const SERVICES: i64 = 10;
/// Secrets.
pub const SECRETS: i64 = 50;
/// ConfigMaps.
pub const CONFIG_MAPS: i64 = 50;
/// PersistentVolumeClaims (forced to 0 when no storage class is allowed).
pub const PERSISTENT_VOLUME_CLAIMS: i64 = 10;
/// ReplicationControllers (legacy; use Deployments).
pub const REPLICATION_CONTROLLERS: i64 = 0;
/// ResourceQuotas (Harmony's own).
pub const RESOURCE_QUOTAS: i64 = 1;
/// Services of type NodePort.
pub const NODE_PORTS: i64 = 0;
/// Services of type LoadBalancer.
pub const LOAD_BALANCERS: i64 = 0;

/// Default CPU request of a container.
pub const CONTAINER_REQUEST_CPU: &str = "100m";
/// Default memory request of a container.
pub const CONTAINER_REQUEST_MEMORY: &str = "128Mi";
/// Default CPU limit of a container.
pub const CONTAINER_LIMIT_CPU: &str = "500m";
/// Default memory limit of a container.
pub const CONTAINER_LIMIT_MEMORY: &str = "512Mi";
/// Most CPU one container may set as limit.
pub const CONTAINER_MAX_CPU: &str = "2";
/// Most memory one container may set as limit.
pub const CONTAINER_MAX_MEMORY: &str = "4Gi";
