//! Namespaces Harmony's snapshot does not hold: absent, another tenant's, or made by someone else.
//! One made by someone else (no tenant label) is taken over only when the plan may adopt it
//! (`spec.adoptNamespaces`), and then the apply says which RoleBindings it found there.

use harmony_kube::{ApiFailure, Cluster, FailureKind, Kind, ObjectRef};
use harmony_tenant::{TENANT_LABEL, TenantPlan};
use k8s_openapi::api::rbac::v1::RoleBinding;
use serde::Serialize;
use serde_json::Value;

use crate::status::MemberAccess;

/// A namespace the apply took over, and the RoleBindings in it that Harmony did not make: they
/// keep their grants (Harmony prunes only what it labels). Shown as `Namespace acme: ...`, after
/// a verb.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Adoption {
    /// The namespace.
    pub namespace: String,
    /// Each such RoleBinding: `name (RoleKind role to Kind subject, ...)`.
    pub foreign_bindings: Vec<String>,
}

impl std::fmt::Display for Adoption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Namespace {}", self.namespace)?;
        match self.foreign_bindings.len() {
            0 => write!(f, ": no RoleBinding there but Harmony's"),
            1 => write!(
                f,
                ": 1 RoleBinding Harmony did not make keeps its grants: {}",
                self.foreign_bindings[0]
            ),
            n => write!(
                f,
                ": {n} RoleBindings Harmony did not make keep their grants: {}",
                self.foreign_bindings.join("; ")
            ),
        }
    }
}

/// The namespace `target` as it is when Harmony's snapshot does not hold it (the snapshot sees
/// only what Harmony labels), if it exists, and the adoption when it has no tenant label. Such a
/// namespace is refused unless the plan may adopt it, since it was made by someone else and may
/// hold their workloads, data and access.
pub(crate) async fn unlisted_namespace(
    cluster: &Cluster,
    target: &ObjectRef,
    plan: &TenantPlan,
) -> Result<(Option<Value>, Option<Adoption>), ApiFailure> {
    let Some(live) = cluster.get(target.kind, "", &target.name).await? else {
        return Ok((None, None));
    };
    if !live["metadata"]["labels"][TENANT_LABEL].is_null() {
        return Ok((Some(live), None));
    }
    if !plan.adopt_namespaces.contains(&target.name) {
        return Err(ApiFailure {
            kind: FailureKind::Conflict,
            message: format!(
                "{target} exists and Harmony does not manage it (no label {TENANT_LABEL}): it \
                 may hold someone else's workloads, data and RoleBindings, which tenant \
                 `{tenant}` would be given. To take it over for this tenant, list it in \
                 spec.adoptNamespaces; otherwise choose another namespace",
                tenant = plan.tenant
            ),
        });
    }
    let bindings = cluster
        .list(Kind::of::<RoleBinding>(), &target.name, "")
        .await?;
    let adoption = Adoption {
        namespace: target.name.clone(),
        foreign_bindings: bindings
            .iter()
            .filter(|b| b["metadata"]["labels"][TENANT_LABEL].is_null())
            .map(describe_binding)
            .collect(),
    };
    Ok((Some(live), Some(adoption)))
}

/// `name (RoleKind role to Kind subject, ...)` of a RoleBinding as JSON.
fn describe_binding(binding: &Value) -> String {
    let access = MemberAccess::of(binding);
    let subjects = if access.subjects.is_empty() {
        "nobody".to_string()
    } else {
        access.subjects.join(", ")
    };
    format!("{} ({} to {subjects})", access.binding, access.role)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_binding_is_described_by_role_and_subjects() {
        let binding = json!({
            "metadata": { "name": "ops-view" },
            "roleRef": { "kind": "ClusterRole", "name": "admin" },
            "subjects": [
                { "kind": "User", "name": "bob@payroll.example.com" },
                { "kind": "ServiceAccount", "name": "deployer", "namespace": "ci" },
            ],
        });
        assert_eq!(
            describe_binding(&binding),
            "ops-view (ClusterRole admin to User bob@payroll.example.com, ServiceAccount \
             ci/deployer)"
        );
        assert_eq!(
            describe_binding(&json!({ "metadata": { "name": "empty" },
                "roleRef": { "kind": "Role", "name": "r" } })),
            "empty (Role r to nobody)"
        );
    }

    #[test]
    fn an_adoption_says_what_access_stays() {
        let mut adoption = Adoption {
            namespace: "acme".into(),
            foreign_bindings: Vec::new(),
        };
        assert_eq!(
            adoption.to_string(),
            "Namespace acme: no RoleBinding there but Harmony's"
        );
        adoption.foreign_bindings = vec!["a (Role r to User u)".into()];
        assert_eq!(
            adoption.to_string(),
            "Namespace acme: 1 RoleBinding Harmony did not make keeps its grants: a (Role \
             r to User u)"
        );
        adoption
            .foreign_bindings
            .push("b (Role r to User v)".into());
        assert_eq!(
            adoption.to_string(),
            "Namespace acme: 2 RoleBindings Harmony did not make keep their grants: a \
             (Role r to User u); b (Role r to User v)"
        );
    }
}
