//! `K8sTopology`: tenants applied to a live Kubernetes or OKD cluster through kube-rs.
//!
//! - [`harmony_kube::Access`] connects from a kubeconfig and context (or `KUBECONFIG`, or
//!   in-cluster).
//! - [`K8sTopology::ensure_ready`](harmony::Topology::ensure_ready) checks the API answers and
//!   discovers [`ClusterFacts`](harmony_tenant::ClusterFacts) ([`facts`]).
//! - [`TenantManager::ensure_tenant`](harmony_tenant::TenantManager::ensure_tenant) applies a plan
//!   phase by phase with server-side apply, writing only what differs, then prunes ([`apply`]).
//! - [`TenantRemover::delete_tenant`](harmony_tenant::TenantRemover::delete_tenant) revokes access
//!   first, that held outside the cluster (such as VPN peers) before RoleBindings, and refuses to
//!   destroy data; [`K8sTopology::status`] reports quota, members, policies and drift ([`status`]).
//! - [`GuardrailsManager`](harmony_guardrails::GuardrailsManager) applies cluster guardrails the
//!   same way, rank by rank, and prunes those Harmony owns and no longer wants.
//! - [`Prober`] sends the behavioural probes of `harmony audit probe` as each tenant role,
//!   impersonated, with `dryRun=All`.
//! - [`InventoryReader`] lists, read-only and page by page, what the isolation audit needs from a
//!   live cluster (never Secrets).
//!
//! Every request is retried when transient (429 with `Retry-After`, 5xx, dropped connections) and
//! explained when it fails ([`harmony_kube::ApiFailure`]).

mod adopt;
pub mod apply;
pub mod backup;
mod cluster_report;
mod compare;
mod delete;
pub mod facts;
mod guardrails;
mod inventory;
mod monitoring;
mod probe;
mod snapshot;
pub mod status;
mod tenant_kinds;
mod topology;

pub use adopt::Adoption;
pub use apply::{Action, ApplyOptions, Mode, ObjectChange, TenantReport};
pub use backup::{BackupError, BackupInfo, BackupStatusReport, Backups, DrillReport};
pub use compare::FieldDiff;
pub use facts::FactsSource;
pub use inventory::{AUDIT_KINDS, AuditKind, Inventory, InventoryReader};
pub use probe::{ProbeError, ProbeSelection, Prober};
pub use snapshot::{Snapshot, WriteSink};
pub use status::{MemberAccess, QuotaUse, TenantStatus};
pub use topology::K8sTopology;
