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
/// Deployments.
pub const DEPLOYMENTS: i64 = 20;
/// StatefulSets.
pub const STATEFUL_SETS: i64 = 10;
/// ReplicaSets: each Deployment keeps up to 10 old ones (`revisionHistoryLimit`) and a new one.
pub const REPLICA_SETS: i64 = 250;
/// Jobs (a CronJob keeps 3 finished and 1 failed by default).
pub const JOBS: i64 = 50;
/// CronJobs.
pub const CRON_JOBS: i64 = 10;
/// Ingresses.
pub const INGRESSES: i64 = 10;
/// PodDisruptionBudgets.
pub const POD_DISRUPTION_BUDGETS: i64 = 10;
/// ServiceAccounts (with `default` and the members', and OKD's `builder` and `deployer`).
pub const SERVICE_ACCOUNTS: i64 = 20;
/// Roles (Harmony's three; tenants create none).
pub const ROLES: i64 = 10;
/// RoleBindings (one per member, and OKD's three `system:` bindings).
pub const ROLE_BINDINGS: i64 = 20;

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
/// Default ephemeral-storage request of a container.
pub const CONTAINER_REQUEST_EPHEMERAL_STORAGE: &str = "128Mi";
/// Default ephemeral-storage limit of a container (its logs, writable layer and emptyDirs).
pub const CONTAINER_LIMIT_EPHEMERAL_STORAGE: &str = "1Gi";
/// Most ephemeral storage one container may set as limit.
pub const CONTAINER_MAX_EPHEMERAL_STORAGE: &str = "4Gi";
