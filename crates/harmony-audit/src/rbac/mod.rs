//! RBAC with the semantics of the Kubernetes RBAC authorizer
//! (`plugin/pkg/auth/authorizer/rbac`): "can S do V on R in N?", "who can V R in N?",
//! "what can S do?".

mod authorizer;
mod builtin;
mod rule;
mod subject;

pub use authorizer::{Authorizer, Decision, Grant, Permissions, Scope};
pub use builtin::BUILT_IN_ROLES;
pub use rule::{Request, describe_rule, rule_allows};
pub use subject::{SubjectRef, UserInfo};
