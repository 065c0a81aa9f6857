//! Isolation audit: who can do what (RBAC) and who can reach whom (NetworkPolicy).
//!
//! Pure library: a [`ClusterSnapshot`] of typed objects in (from manifests, tenant plans, or the
//! objects `harmony_k8s::InventoryReader` lists from a live cluster), answers and checks out. No
//! Kubernetes client.

pub mod access;
pub mod activity;
mod fast_yaml;
pub mod labels;
mod load;
pub mod matrix;
pub mod netpol;
pub mod probe;
pub mod rbac;
pub mod snapshot;

pub use explain::{Explanation, PathVerdict, Port, explain};
pub use load::LoadError;
pub use snapshot::ClusterSnapshot;
pub mod checks;
pub mod crosscheck;
mod declared;
mod explain;
pub mod html;
pub mod report;

pub use checks::{
    AuditConfig, AuditReport, Check, Counterexample, EveryPod, Expectation, PodTemplate, Status,
    TenantReport, audit,
};
