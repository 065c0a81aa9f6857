//! A tenant's quota settings with every default filled in.

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use crate::defaults as d;
use crate::score::{ComputeResources, ContainerResources, ObjectCounts, ResourceQuotaConfig};

/// CPU, memory and ephemeral storage, all set.
#[derive(Debug, Clone, PartialEq)]
pub struct Compute {
    /// CPU.
    pub cpu: Quantity,
    /// Memory.
    pub memory: Quantity,
    /// Ephemeral storage.
    pub ephemeral_storage: Quantity,
}

/// CPU, memory and ephemeral storage of one container, all set.
#[derive(Debug, Clone, PartialEq)]
pub struct Container {
    /// CPU.
    pub cpu: Quantity,
    /// Memory.
    pub memory: Quantity,
    /// Ephemeral storage.
    pub ephemeral_storage: Quantity,
}

/// Object counts, all set.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)] // each field is the object count of the same name
pub struct Counts {
    pub pods: i64,
    pub services: i64,
    pub secrets: i64,
    pub config_maps: i64,
    pub persistent_volume_claims: i64,
    pub replication_controllers: i64,
    pub resource_quotas: i64,
    pub node_ports: i64,
    pub load_balancers: i64,
    pub deployments: i64,
    pub stateful_sets: i64,
    pub replica_sets: i64,
    pub jobs: i64,
    pub cron_jobs: i64,
    pub ingresses: i64,
    pub pod_disruption_budgets: i64,
    pub service_accounts: i64,
    pub roles: i64,
    pub role_bindings: i64,
}

/// [`ResourceQuotaConfig`] with defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedQuota {
    /// Total requests.
    pub requests: Compute,
    /// Total limits.
    pub limits: Compute,
    /// Object counts.
    pub objects: Counts,
    /// Default request per container.
    pub container_request: Container,
    /// Default limit per container.
    pub container_limit: Container,
    /// Maximum per container.
    pub container_max: Container,
}

fn or(value: &Option<Quantity>, default: &str) -> Quantity {
    value.clone().unwrap_or_else(|| Quantity(default.into()))
}

fn compute(c: &ComputeResources, cpu: &str, memory: &str, ephemeral: &str) -> Compute {
    Compute {
        cpu: or(&c.cpu, cpu),
        memory: or(&c.memory, memory),
        ephemeral_storage: or(&c.ephemeral_storage, ephemeral),
    }
}

fn container(c: &ContainerResources, [cpu, memory, ephemeral]: [&str; 3]) -> Container {
    Container {
        cpu: or(&c.cpu, cpu),
        memory: or(&c.memory, memory),
        ephemeral_storage: or(&c.ephemeral_storage, ephemeral),
    }
}

fn counts(o: &ObjectCounts) -> Counts {
    Counts {
        pods: o.pods.unwrap_or(d::PODS),
        services: o.services.unwrap_or(d::SERVICES),
        secrets: o.secrets.unwrap_or(d::SECRETS),
        config_maps: o.config_maps.unwrap_or(d::CONFIG_MAPS),
        persistent_volume_claims: o
            .persistent_volume_claims
            .unwrap_or(d::PERSISTENT_VOLUME_CLAIMS),
        replication_controllers: o
            .replication_controllers
            .unwrap_or(d::REPLICATION_CONTROLLERS),
        resource_quotas: o.resource_quotas.unwrap_or(d::RESOURCE_QUOTAS),
        node_ports: o.node_ports.unwrap_or(d::NODE_PORTS),
        load_balancers: o.load_balancers.unwrap_or(d::LOAD_BALANCERS),
        deployments: o.deployments.unwrap_or(d::DEPLOYMENTS),
        stateful_sets: o.stateful_sets.unwrap_or(d::STATEFUL_SETS),
        replica_sets: o.replica_sets.unwrap_or(d::REPLICA_SETS),
        jobs: o.jobs.unwrap_or(d::JOBS),
        cron_jobs: o.cron_jobs.unwrap_or(d::CRON_JOBS),
        ingresses: o.ingresses.unwrap_or(d::INGRESSES),
        pod_disruption_budgets: o
            .pod_disruption_budgets
            .unwrap_or(d::POD_DISRUPTION_BUDGETS),
        service_accounts: o.service_accounts.unwrap_or(d::SERVICE_ACCOUNTS),
        roles: o.roles.unwrap_or(d::ROLES),
        role_bindings: o.role_bindings.unwrap_or(d::ROLE_BINDINGS),
    }
}

impl ResourceQuotaConfig {
    /// These settings with every unset value at its documented default.
    pub fn resolved(&self) -> ResolvedQuota {
        let c = &self.container_defaults;
        ResolvedQuota {
            requests: compute(
                &self.requests,
                d::REQUESTS_CPU,
                d::REQUESTS_MEMORY,
                d::REQUESTS_EPHEMERAL_STORAGE,
            ),
            limits: compute(
                &self.limits,
                d::LIMITS_CPU,
                d::LIMITS_MEMORY,
                d::LIMITS_EPHEMERAL_STORAGE,
            ),
            objects: counts(&self.objects),
            container_request: container(
                &c.request,
                [
                    d::CONTAINER_REQUEST_CPU,
                    d::CONTAINER_REQUEST_MEMORY,
                    d::CONTAINER_REQUEST_EPHEMERAL_STORAGE,
                ],
            ),
            container_limit: container(
                &c.limit,
                [
                    d::CONTAINER_LIMIT_CPU,
                    d::CONTAINER_LIMIT_MEMORY,
                    d::CONTAINER_LIMIT_EPHEMERAL_STORAGE,
                ],
            ),
            container_max: container(
                &c.max,
                [
                    d::CONTAINER_MAX_CPU,
                    d::CONTAINER_MAX_MEMORY,
                    d::CONTAINER_MAX_EPHEMERAL_STORAGE,
                ],
            ),
        }
    }
}
