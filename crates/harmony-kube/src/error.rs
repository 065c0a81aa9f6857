//! Failed API requests, explained so that an operator knows what to do.

use harmony::InterpretError;

use crate::retry::{connect_failed, connection_dropped};

/// What a request was doing, for messages: `patch` `networkpolicies.networking.k8s.io` `acme/deny`.
#[derive(Debug, Clone)]
pub struct Attempt<'a> {
    /// The Kubernetes verb (`get`, `list`, `patch`, `delete`).
    pub verb: &'a str,
    /// The resource as the API names it, such as `rolebindings.rbac.authorization.k8s.io`.
    pub resource: String,
    /// The namespace, empty for cluster scope or all namespaces.
    pub namespace: &'a str,
    /// The object's name, empty for a collection.
    pub name: &'a str,
}

impl std::fmt::Display for Attempt<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.verb, self.resource)?;
        match (self.namespace.is_empty(), self.name.is_empty()) {
            (true, true) => write!(f, " (all namespaces)"),
            (true, false) => write!(f, " {}", self.name),
            (false, true) => write!(f, " in namespace {}", self.namespace),
            (false, false) => write!(f, " {}/{}", self.namespace, self.name),
        }
    }
}

/// Why a request failed, coarsely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The API server could not be reached.
    Unreachable,
    /// 401: the credentials were refused.
    Unauthorized,
    /// 403: the credentials lack a permission.
    Forbidden,
    /// 404: the object or resource does not exist.
    NotFound,
    /// 409: another field manager owns fields Harmony sets, or the object changed meanwhile; or
    /// the object is another tenant's.
    Conflict,
    /// 400/422 or an admission webhook: the cluster rejected the object.
    Rejected,
    /// Anything else (server errors that outlived the retries, ...).
    Other,
}

/// A failed request with a message naming the object, the verb and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFailure {
    /// The coarse reason.
    pub kind: FailureKind,
    /// The message for people.
    pub message: String,
}

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiFailure {}

impl From<ApiFailure> for InterpretError {
    fn from(failure: ApiFailure) -> Self {
        match failure.kind {
            FailureKind::Unreachable | FailureKind::Unauthorized => {
                InterpretError::NotReady(failure.message)
            }
            _ => InterpretError::Topology(failure.message),
        }
    }
}

/// Explains `error`, raised while doing `attempt` against the API server at `server`.
///
/// Never includes credentials: only the server URL, the request and the server's own message.
pub fn explain(error: &kube::Error, attempt: &Attempt<'_>, server: &str) -> ApiFailure {
    let (kind, message) = match error {
        kube::Error::Api(status) => explain_status(status, attempt, server),
        _ if connect_failed(error) => (
            FailureKind::Unreachable,
            format!(
                "cannot reach the API server at {server}: is the VPN up? Check the address in the \
                 kubeconfig and that the cluster answers ({error})"
            ),
        ),
        _ if connection_dropped(error) => (
            FailureKind::Other,
            format!(
                "{attempt}: the API server at {server} kept dropping the connection; run again \
                 (it repairs an interrupted run)"
            ),
        ),
        kube::Error::Auth(auth) => (
            FailureKind::Unauthorized,
            format!(
                "{attempt}: the kubeconfig's credentials could not be used ({auth}): log in again \
                 or fix the user of the kubeconfig context"
            ),
        ),
        other => (FailureKind::Other, format!("{attempt}: {other}")),
    };
    ApiFailure { kind, message }
}

fn explain_status(
    status: &kube::core::Status,
    attempt: &Attempt<'_>,
    server: &str,
) -> (FailureKind, String) {
    let message = &status.message;
    match status.code {
        401 => (
            FailureKind::Unauthorized,
            format!(
                "the API server at {server} refused the kubeconfig's credentials (401 \
                 Unauthorized): the token or client certificate is missing, wrong or expired; log \
                 in again (for example `oc login`) or fix the user of the kubeconfig context"
            ),
        ),
        403 => (
            FailureKind::Forbidden,
            format!(
                "{attempt}: forbidden (403): the kubeconfig's user may not `{}` `{}`{}; ask a \
                 cluster admin to grant it, or use a context with more rights. The server said: \
                 {message}",
                attempt.verb,
                attempt.resource,
                in_namespace(attempt.namespace),
            ),
        ),
        404 => (
            FailureKind::NotFound,
            format!("{attempt}: not found: {message}"),
        ),
        409 => (FailureKind::Conflict, explain_conflict(status, attempt)),
        400 | 422 if message.contains("admission webhook") || message.contains("denied") => (
            FailureKind::Rejected,
            format!(
                "{attempt}: rejected by the cluster's admission control: {message}. Fix the tenant \
                 or the admission policy, then run again"
            ),
        ),
        400 | 422 => (
            FailureKind::Rejected,
            format!(
                "{attempt}: the API server rejected the object ({}): {message}",
                status.code
            ),
        ),
        500 if schema_mismatch(status) => (
            FailureKind::Rejected,
            format!(
                "{attempt}: the API server's schema for this kind lacks a field Harmony sets \
                 (500): {message}. The cluster serves an older version of the resource (a CRD \
                 older than Harmony expects?): upgrade it, or turn the feature that renders it off"
            ),
        ),
        code => (
            FailureKind::Other,
            format!(
                "{attempt}: the API server answered {code}{} after retries: {message}; run \
                 again later",
                if status.reason.is_empty() {
                    String::new()
                } else {
                    format!(" {}", status.reason)
                }
            ),
        ),
    }
}

/// A server-side apply patch that does not fit the served schema: the API server answers 500, but
/// no retry can fix it.
pub(crate) fn schema_mismatch(status: &kube::core::Status) -> bool {
    status.code == 500
        && status
            .message
            .contains("failed to create typed patch object")
}

fn in_namespace(namespace: &str) -> String {
    if namespace.is_empty() {
        String::new()
    } else {
        format!(" in namespace `{namespace}`")
    }
}

/// A 409: either fields owned by another field manager, or a stale write.
fn explain_conflict(status: &kube::core::Status, attempt: &Attempt<'_>) -> String {
    let owners: Vec<String> = status
        .details
        .iter()
        .flat_map(|d| &d.causes)
        .filter(|c| c.reason == "FieldManagerConflict")
        .map(|c| {
            let manager = c
                .message
                .trim_start_matches("conflict with ")
                .trim_matches('"');
            format!("`{}` is owned by `{manager}`", c.field)
        })
        .collect();
    if owners.is_empty() {
        return format!("{attempt}: conflict (409): {}; run again", status.message);
    }
    format!(
        "{attempt}: conflict with another field manager: {}. Harmony does not take fields over \
         silently: change them back, or run again with --force to take them over",
        owners.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;
    use kube::core::response::{StatusCause, StatusDetails};

    fn attempt() -> Attempt<'static> {
        Attempt {
            verb: "patch",
            resource: "rolebindings.rbac.authorization.k8s.io".into(),
            namespace: "acme",
            name: "member-alice",
        }
    }

    fn explained(status: Status) -> ApiFailure {
        explain(
            &kube::Error::Api(Box::new(status)),
            &attempt(),
            "https://api.example:6443",
        )
    }

    #[test]
    fn unauthorized_says_to_log_in_again() {
        let failure = explained(Status::failure("Unauthorized", "Unauthorized").with_code(401));
        assert_eq!(failure.kind, FailureKind::Unauthorized);
        assert!(
            failure.message.contains("https://api.example:6443"),
            "{failure}"
        );
        assert!(failure.message.contains("log in again"), "{failure}");
    }

    #[test]
    fn forbidden_names_the_missing_permission() {
        let failure = explained(
            Status::failure(
                "rolebindings.rbac.authorization.k8s.io \"member-alice\" is forbidden: User \"bob\" cannot patch resource \"rolebindings\"",
                "Forbidden",
            )
            .with_code(403),
        );
        assert_eq!(failure.kind, FailureKind::Forbidden);
        assert!(
            failure.message.contains(
                "may not `patch` `rolebindings.rbac.authorization.k8s.io` in namespace `acme`"
            ),
            "{failure}"
        );
    }

    #[test]
    fn conflicts_name_field_and_manager_and_offer_force() {
        let mut status = Status::failure("Apply failed with 1 conflict", "Conflict").with_code(409);
        status.details = Some(StatusDetails {
            causes: vec![StatusCause {
                reason: "FieldManagerConflict".into(),
                message: "conflict with \"kubectl-edit\"".into(),
                field: ".spec.hard.cpu".into(),
            }],
            name: "member-alice".into(),
            group: String::new(),
            kind: "resourcequotas".into(),
            uid: String::new(),
            retry_after_seconds: 0,
        });
        let failure = explained(status);
        assert_eq!(failure.kind, FailureKind::Conflict);
        assert!(
            failure
                .message
                .contains("`.spec.hard.cpu` is owned by `kubectl-edit`"),
            "{failure}"
        );
        assert!(failure.message.contains("--force"), "{failure}");
    }

    #[test]
    fn webhook_rejections_are_reported_as_such() {
        let failure = explained(
            Status::failure(
                "admission webhook \"policy.example.com\" denied the request: no",
                "Invalid",
            )
            .with_code(400),
        );
        assert_eq!(failure.kind, FailureKind::Rejected);
        assert!(failure.message.contains("admission control"), "{failure}");
        assert!(failure.message.contains("policy.example.com"), "{failure}");
    }

    #[test]
    fn a_patch_the_schema_cannot_hold_is_a_rejection_not_a_retry() {
        let failure = explained(
            Status::failure(
                "failed to create typed patch object: .spec.x: field not declared in schema",
                "",
            )
            .with_code(500),
        );
        assert_eq!(failure.kind, FailureKind::Rejected);
        assert!(failure.message.contains("older version"), "{failure}");
        assert!(!failure.message.contains("later"), "{failure}");

        let other = explained(Status::failure("etcd timeout", "").with_code(500));
        assert_eq!(other.kind, FailureKind::Other);
        assert!(
            other.message.contains("answered 500 after retries"),
            "{other}"
        );
    }
}
