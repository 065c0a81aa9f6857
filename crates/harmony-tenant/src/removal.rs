//! Removing tenants: what a removal takes and reports, access held outside the cluster
//! ([`ExternalAccess`], revoked before any RoleBinding goes), and typed refusals whose [`Hint`]
//! each front end words in its own terms (a flag, a resource field).

use std::error::Error;
use std::fmt;
use std::time::Duration;

use harmony::InterpretError;
use serde::Serialize;

use crate::TenantScore;

/// How to delete a tenant.
#[derive(Debug, Clone, Copy)]
pub struct DeleteOptions {
    /// Also delete PersistentVolumeClaims (and so, possibly, their volumes and data).
    pub delete_data: bool,
    /// How long to wait for the namespace to finish terminating.
    pub timeout: Duration,
}

/// What deleting a tenant did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DeleteReport {
    /// The tenant id.
    pub tenant: String,
    /// The tenant's namespace (the first by name, for a tenant with several), if it still existed.
    pub namespace: Option<String>,
    /// Every namespace of the tenant deleted, by name.
    pub namespaces: Vec<String>,
    /// Access held outside the cluster, revoked first.
    pub revoked_elsewhere: Vec<RevokedAccess>,
    /// Access revoked in the cluster: RoleBindings, then ServiceAccounts.
    pub revoked: Vec<String>,
    /// PersistentVolumeClaims deleted with the namespace (only with `delete_data`).
    pub data_deleted: Vec<String>,
}

/// One grant held outside the cluster, revoked (or, in a dry run, that would be).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RevokedAccess {
    /// The kind of access, such as `VPN peer`.
    pub kind: String,
    /// The tenant.
    pub tenant: String,
    /// The member.
    pub member: String,
    /// Which grant, such as its address and public key.
    pub detail: String,
    /// Where the grant is recorded, such as a registry file or Secret.
    pub location: String,
}

/// Whether revoking writes, or only says what it would revoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeMode {
    /// Revoke.
    Revoke,
    /// Change nothing; return what would be revoked.
    DryRun,
}

/// Access to tenants held outside the cluster, such as VPN peers. It is revoked before the
/// RoleBindings it goes with, so that nobody keeps a way in the cluster no longer accounts for.
#[async_trait::async_trait]
pub trait ExternalAccess: Send + Sync + fmt::Debug {
    /// Revokes every grant of `tenant` (before the tenant is deleted).
    async fn revoke_tenant(&self, tenant: &str) -> Result<Vec<RevokedAccess>, RevokeError>;

    /// Revokes the grants of members no longer in their tenant's spec, for the tenants in
    /// `tenants` only (before their RoleBindings are pruned); a dry run only says which.
    async fn revoke_removed_members(
        &self,
        tenants: &[TenantScore],
        mode: RevokeMode,
    ) -> Result<Vec<RevokedAccess>, RevokeError>;
}

/// Why revoking access held outside the cluster failed (the source says what and how to fix it).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct RevokeError(Box<dyn Error + Send + Sync>);

impl RevokeError {
    /// Wraps the implementation's error.
    pub fn new(source: impl Error + Send + Sync + 'static) -> Self {
        Self(Box::new(source))
    }
}

/// What the caller can change to get past a delete error; each front end words it in its own
/// terms (the CLI as a flag, the operator as a Tenant field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    /// Allow deleting the tenant's data ([`DeleteOptions::delete_data`]).
    DeleteData,
    /// Wait longer for the namespace to terminate ([`DeleteOptions::timeout`]).
    LongerTimeout,
}

impl Hint {
    /// The advice in the library's own terms, for callers that word none.
    pub fn in_options_terms(self) -> &'static str {
        match self {
            Self::DeleteData => "delete again with `DeleteOptions::delete_data` set",
            Self::LongerTimeout => {
                "delete again to keep waiting (or with a longer `DeleteOptions::timeout`)"
            }
        }
    }
}

/// Why deleting a tenant failed or was refused.
#[derive(Debug)]
#[non_exhaustive]
pub enum DeleteError {
    /// A namespace of the tenant holds PersistentVolumeClaims and deleting data was not allowed;
    /// nothing was changed anywhere.
    DataHeld {
        /// The tenant id.
        tenant: String,
        /// The namespace holding the claims.
        namespace: String,
        /// The claims' names.
        claims: Vec<String>,
    },
    /// The namespace was still terminating when the timeout ran out.
    StillTerminating {
        /// The namespace.
        namespace: String,
        /// How long the delete waited.
        waited: Duration,
        /// Finalizers holding it.
        finalizers: Vec<String>,
        /// Its true conditions, as `type: message`.
        conditions: Vec<String>,
    },
    /// Revoking access held outside the cluster failed; nothing in the cluster was changed.
    Revoke(RevokeError),
    /// The topology failed a request.
    Topology(InterpretError),
    /// The delete stopped partway: `error` says why, `done` what it did before.
    Stopped {
        /// Why it stopped.
        error: Box<DeleteError>,
        /// What was done before it stopped.
        done: Box<DeleteReport>,
    },
}

impl DeleteError {
    /// What the caller can change to get past this error, if anything.
    pub fn hint(&self) -> Option<Hint> {
        match self {
            Self::DataHeld { .. } => Some(Hint::DeleteData),
            Self::StillTerminating { .. } => Some(Hint::LongerTimeout),
            Self::Stopped { error, .. } => error.hint(),
            Self::Revoke(_) | Self::Topology(_) => None,
        }
    }

    /// What was done before the delete stopped, when it stopped partway.
    pub fn done(&self) -> Option<&DeleteReport> {
        match self {
            Self::Stopped { done, .. } => Some(done),
            _ => None,
        }
    }

    /// The message, its hint worded by `advice` (flags for a CLI, fields for a resource).
    pub fn explain(&self, advice: fn(Hint) -> &'static str) -> String {
        match self {
            Self::DataHeld {
                tenant,
                namespace,
                claims,
            } => format!(
                "tenant `{tenant}`: namespace `{namespace}` holds PersistentVolumeClaims {}; \
                 deleting the namespace would delete them and possibly their volumes' data. \
                 Nothing was deleted. Back the data up, then {}",
                claims.join(", "),
                advice(Hint::DeleteData)
            ),
            Self::StillTerminating {
                namespace,
                waited,
                finalizers,
                conditions,
            } => format!(
                "namespace `{namespace}` is still terminating after {}s; its access is already \
                 revoked. Blocking finalizers: {}{}. They are removed by the controllers that set \
                 them; check those controllers, then {}",
                waited.as_secs(),
                if finalizers.is_empty() {
                    "none listed".to_string()
                } else {
                    finalizers.join(", ")
                },
                if conditions.is_empty() {
                    String::new()
                } else {
                    format!("; conditions: {}", conditions.join("; "))
                },
                advice(Hint::LongerTimeout)
            ),
            Self::Revoke(error) => error.to_string(),
            Self::Topology(error) => error.to_string(),
            Self::Stopped { error, .. } => error.explain(advice),
        }
    }
}

impl fmt::Display for DeleteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.explain(Hint::in_options_terms))
    }
}

impl Error for DeleteError {
    // The message already holds the wrapped error's; its own source comes next.
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::Revoke(error) => error.source(),
            Self::Topology(error) => error.source(),
            Self::Stopped { error, .. } => error.source(),
            Self::DataHeld { .. } | Self::StillTerminating { .. } => None,
        }
    }
}

impl From<InterpretError> for DeleteError {
    fn from(error: InterpretError) -> Self {
        Self::Topology(error)
    }
}

impl From<RevokeError> for DeleteError {
    fn from(error: RevokeError) -> Self {
        Self::Revoke(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held() -> DeleteError {
        DeleteError::DataHeld {
            tenant: "acme".into(),
            namespace: "acme".into(),
            claims: vec!["db".into(), "cache".into()],
        }
    }

    fn stuck() -> DeleteError {
        DeleteError::StillTerminating {
            namespace: "acme".into(),
            waited: Duration::from_secs(90),
            finalizers: vec!["kubernetes".into()],
            conditions: vec!["NamespaceContentRemaining: pods remain".into()],
        }
    }

    fn flags(hint: Hint) -> &'static str {
        match hint {
            Hint::DeleteData => "run again with --delete-data",
            Hint::LongerTimeout => "raise --timeout",
        }
    }

    #[test]
    fn a_refusal_names_the_claims_and_words_its_hint_as_the_caller_asks() {
        let error = held();
        assert_eq!(error.hint(), Some(Hint::DeleteData));
        let plain = error.to_string();
        assert!(
            plain.contains("namespace `acme` holds PersistentVolumeClaims db, cache"),
            "{plain}"
        );
        assert!(
            plain.ends_with(
                "Back the data up, then delete again with `DeleteOptions::delete_data` set"
            ),
            "{plain}"
        );
        assert!(
            !plain.contains("--"),
            "no CLI flag in the library's words: {plain}"
        );
        assert!(
            error
                .explain(flags)
                .ends_with("Back the data up, then run again with --delete-data")
        );
    }

    #[test]
    fn a_stuck_namespace_names_what_holds_it_and_hints_at_a_longer_wait() {
        let error = stuck();
        assert_eq!(error.hint(), Some(Hint::LongerTimeout));
        let message = error.explain(flags);
        assert!(message.contains("still terminating after 90s"), "{message}");
        assert!(
            message.contains("Blocking finalizers: kubernetes;"),
            "{message}"
        );
        assert!(
            message.contains("conditions: NamespaceContentRemaining"),
            "{message}"
        );
        assert!(message.ends_with("then raise --timeout"), "{message}");
    }

    #[test]
    fn a_stopped_delete_keeps_what_it_did_and_its_cause_hint() {
        let done = DeleteReport {
            tenant: "acme".into(),
            revoked: vec!["RoleBinding acme/member-alice".into()],
            ..DeleteReport::default()
        };
        let error = DeleteError::Stopped {
            error: Box::new(stuck()),
            done: Box::new(done),
        };
        assert_eq!(error.hint(), Some(Hint::LongerTimeout));
        assert_eq!(error.done().unwrap().revoked.len(), 1);
        assert_eq!(error.to_string(), stuck().to_string());
        assert!(held().done().is_none());
    }

    #[test]
    fn wrapped_errors_show_their_own_message_without_a_hint() {
        let error = DeleteError::from(InterpretError::Topology("list namespaces: 503".into()));
        assert_eq!(error.hint(), None);
        assert_eq!(error.explain(flags), "list namespaces: 503");
        let io = std::io::Error::other("registry locked");
        let error = DeleteError::from(RevokeError::new(io));
        assert_eq!(error.to_string(), "registry locked");
    }
}
