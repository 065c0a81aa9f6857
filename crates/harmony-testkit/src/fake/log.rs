//! The request log: every request the fake received, in arrival order.

use super::faults::Fault;

/// One request as the fake understood it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    /// Arrival order, from 0 (reset by `clear_requests`).
    pub seq: u64,
    /// HTTP method.
    pub method: String,
    /// URL path.
    pub path: String,
    /// Raw query string (empty if none).
    pub query: String,
    /// Kubernetes verb: `get`, `list`, `watch`, `create`, `update`, `patch`, `apply`, `delete`,
    /// `deletecollection`, or `discovery` for `/version`, `/api*` and `/openapi*` documents.
    pub verb: String,
    /// API group (empty for core).
    pub group: String,
    /// Plural resource, empty for discovery.
    pub resource: String,
    /// Subresource such as `status` or `token`.
    pub subresource: Option<String>,
    /// Namespace of the request URL.
    pub namespace: Option<String>,
    /// Object name of the request URL.
    pub name: Option<String>,
    /// `fieldManager` query parameter.
    pub field_manager: Option<String>,
    /// Whether `dryRun=All` was set.
    pub dry_run: bool,
    /// Whether `force=true` was set.
    pub force: bool,
    /// HTTP status answered; `None` when the connection was dropped.
    pub status: Option<u16>,
    /// Injected fault, if any.
    pub fault: Option<Fault>,
}

impl RecordedRequest {
    /// Whether the verb writes (create, update, patch, apply, delete, deletecollection).
    pub fn is_write(&self) -> bool {
        is_write_verb(&self.verb)
    }
}

/// Whether a verb writes.
pub fn is_write_verb(verb: &str) -> bool {
    matches!(
        verb,
        "create" | "update" | "patch" | "apply" | "delete" | "deletecollection"
    )
}
