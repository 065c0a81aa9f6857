//! The Kubernetes client plumbing Harmony's adapters share.
//!
//! - [`Access`] connects from a kubeconfig and context (or `KUBECONFIG`, or in-cluster) to a
//!   [`Cluster`]: a kube client with the requests Harmony sends to any kind.
//! - [`with_retry`] retries a request while it fails for a transient reason (429 with
//!   `Retry-After`, 5xx, dropped connections).
//! - [`explain`] turns a failed request into an [`ApiFailure`] naming the object, the verb and
//!   the fix.
//! - [`kinds`] is the one kind table: each kind where the API serves it, from k8s-openapi's
//!   `Resource` constants.

mod cluster;
mod connect;
mod error;
pub mod kinds;
mod retry;

pub use cluster::{Cluster, FIELD_MANAGER};
pub use connect::{Access, cluster_from_config};
pub use error::{ApiFailure, Attempt, FailureKind, explain};
pub use kinds::{Kind, ObjectRef};
pub use retry::with_retry;
