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

/// CPU and memory of one container, both set.
#[derive(Debug, Clone, PartialEq)]
pub struct Container {
    /// CPU.
    pub cpu: Quantity,
    /// Memory.
    pub memory: Quantity,
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

fn container(c: &ContainerResources, cpu: &str, memory: &str) -> Container {
    Container {
        cpu: or(&c.cpu, cpu),
        memory: or(&c.memory, memory),
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
                d::CONTAINER_REQUEST_CPU,
                d::CONTAINER_REQUEST_MEMORY,
            ),
            container_limit: container(&c.limit, d::CONTAINER_LIMIT_CPU, d::CONTAINER_LIMIT_MEMORY),
            container_max: container(&c.max, d::CONTAINER_MAX_CPU, d::CONTAINER_MAX_MEMORY),
        }
    }
}
