//! The Harmony operator: `Tenant` custom resources reconciled continuously through the same plan
//! and the same isolate-before-grant apply as `harmony tenant apply`, with each Tenant's isolation
//! proven in its status by the audit on the live state.
//!
//! - [`Tenant`] is the resource (`harmony.nationtech.io/v1alpha1`, cluster-scoped); its spec is
//!   a tenant file's spec. [`crd`] generates its CRD from the Rust types.
//! - [`run`] watches Tenants and the objects they own (by the managed-by and tenant labels) and
//!   reconciles each one ([`reconcile`]): validate, compile, apply phase by phase, write `Ready`,
//!   quota use and members; an auditor writes `Isolated`. A finalizer revokes access first on
//!   deletion and holds the Tenant while PersistentVolumeClaims hold data.
//! - With a [`lease::LeaseSettings`], only the replica holding the Lease reconciles; [`metrics`]
//!   serves Prometheus metrics and the liveness and readiness probes.
//! - [`namespace_request`] is the `NamespaceRequest` resource of self-service namespaces: a
//!   tenant admin's request, decided and rendered by the reconcile of the Tenant that owns its
//!   namespace (a request in no Tenant's namespace is refused).
//! - [`install`] renders what a cluster needs to run the operator.

mod auditor;
mod connections;
mod controller;
pub mod crd;
mod echoes;
mod events;
pub mod install;
pub mod lease;
mod memory;
pub mod metrics;
pub mod namespace_request;
mod owned;
mod quota_use;
pub mod reconcile;
mod repeats;
mod resource;
mod schedules;
mod self_service;
mod validated;
mod written;

pub use auditor::{AUDIT_MANAGER, AuditError};
pub use controller::{DEFAULT_CONCURRENCY, RunError, Settings, run};
pub use crd::crd;
pub use reconcile::{Error, STATUS_MANAGER};
pub use resource::{
    Condition, DELETING, FINALIZER, GROUP, ISOLATED, PLURAL, QuotaUsage, READY, Tenant,
    TenantStatus, VERSION,
};
