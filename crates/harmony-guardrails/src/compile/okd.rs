//! OKD hardening: project self-provisioning taken from every authenticated user (the documented
//! OpenShift procedure), and a report on `basic-user`, which is left as it is.

use harmony_tenant::MANAGED_BY_LABEL;
use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::admission::managed_labels;
use crate::guardrail::GuardrailId;
use crate::plan::{Finding, Severity};
use crate::score::ClusterGuardrailsScore;

/// Annotation that stops OKD from restoring a bootstrap binding's subjects at API server start.
pub const AUTOUPDATE_ANNOTATION: &str = "rbac.authorization.kubernetes.io/autoupdate";

/// The `self-provisioners` ClusterRoleBinding without `system:authenticated:oauth`: only the
/// configured groups may request projects, and `autoupdate: "false"` keeps OKD from restoring
/// the default subjects.
pub(super) fn self_provisioners(score: &ClusterGuardrailsScore) -> ClusterRoleBinding {
    ClusterRoleBinding {
        metadata: ObjectMeta {
            name: Some(GuardrailId::SelfProvisioning.object_name().into()),
            labels: Some(managed_labels()),
            annotations: Some([(AUTOUPDATE_ANNOTATION.to_string(), "false".to_string())].into()),
            ..ObjectMeta::default()
        },
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "ClusterRole".into(),
            name: "self-provisioner".into(),
        },
        subjects: Some(
            score
                .self_provisioner_groups
                .iter()
                .map(|group| Subject {
                    api_group: Some("rbac.authorization.k8s.io".into()),
                    kind: "Group".into(),
                    name: group.clone(),
                    namespace: None,
                })
                .collect(),
        ),
    }
}

/// What `basic-user` lets every authenticated user (every tenant) read, reported not changed.
pub(super) fn basic_user_finding() -> Finding {
    Finding {
        id: "okd-basic-user",
        severity: Severity::Info,
        message: format!(
            "OKD binds the ClusterRole `basic-user` to every authenticated user (ClusterRoleBinding `basic-users`, group system:authenticated): \
             every tenant can get and list ClusterRoles and StorageClasses, so tenants learn the names of the cluster's roles and storage classes, \
             not their data. Harmony leaves it as it is: OKD restores it (autoupdate) and `oc` and the console rely on it. \
             To remove it, annotate `basic-users` with {AUTOUPDATE_ANNOTATION}=\"false\" and bind `basic-user` to named groups only, knowing `oc` and the console degrade; \
             objects Harmony manages carry {MANAGED_BY_LABEL}, this binding does not."
        ),
    }
}
