//! Kubernetes API activity of tenants, read from the API server's audit log: who did what
//! (verbs x resources, counts), which requests were refused (403) and which went to another
//! tenant's namespace.
//!
//! The log is streamed (JSON lines, one `audit.k8s.io/v1` Event each; plain or gzip files, told
//! apart by their first bytes), each line parsed for the few fields read, borrowed from the line:
//! memory holds the summaries, not the events. Only the final stage of a request counts
//! (`ResponseComplete`, or `Panic`), so a request logged at several stages counts once.
//!
//! An event belongs to a tenant when its user (the impersonated one, when the request
//! impersonates) is a member's `user`, is in a member's `group`, or is a ServiceAccount of the
//! tenant's namespace (`system:serviceaccount:<namespace>:<name>`; members with
//! `serviceAccount: true` are named). Identity provider members are named as the API server
//! records them ([`harmony_tenant::OidcFacts`]): an `oidc.user` is its prefixed user name (and
//! its role's group `tenant-<tenant>-<role>s` is the tenant's, naming no member), an
//! `oidc.group` its prefixed group. A user shared by several tenants is counted under the
//! tenant whose namespace the request names; elsewhere under each of them.

mod event;
mod read;
mod render;
mod since;
mod summary;

pub use read::{LineProblem, LogFile, open_log};
pub use render::{Format, render};
pub use since::{SinceError, parse_since};
pub use summary::{
    Action, ActivityReport, Actor, Analyzer, Attention, Counts, TenantActivity, UnknownTenant,
};
