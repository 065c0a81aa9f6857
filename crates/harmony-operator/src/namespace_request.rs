//! The `NamespaceRequest` custom resource: a tenant admin's request, in one of the tenant's
//! namespaces, for one more namespace of the tenant; and the status written from the library's
//! decision ([`harmony_tenant::TenantScore::with_self_service`]).

use harmony_tenant::{NamespaceAsk, Refusal};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::{CustomResource, CustomResourceExt, ResourceExt};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::reconcile::condition;
use crate::resource::Condition;

/// The condition that says whether the namespace is the tenant's (`True`) or why not (`False`).
pub const ACCEPTED: &str = "Accepted";

/// The wanted namespace.
#[derive(CustomResource, Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "harmony.nationtech.io",
    version = "v1alpha1",
    kind = "NamespaceRequest",
    namespaced,
    status = "NamespaceRequestStatus",
    shortname = "nsreq",
    category = "harmony",
    printcolumn = r#"{"name":"Wanted","type":"string","jsonPath":".spec.name"}"#,
    printcolumn = r#"{"name":"Accepted","type":"string","jsonPath":".status.conditions[?(@.type==\"Accepted\")].status"}"#,
    printcolumn = r#"{"name":"Reason","type":"string","jsonPath":".status.conditions[?(@.type==\"Accepted\")].reason"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(extend("x-kubernetes-validations" = [{
    "rule": "self == oldSelf",
    "message": "spec is immutable: delete this request (which releases its namespace) and create another",
}]))]
pub struct NamespaceRequestSpec {
    /// The wanted namespace: a DNS-1123 label of at most 63 characters, unused in the cluster.
    pub name: String,
    /// A listed namespace of the tenant whose overrides (pod security, quotas, internet egress)
    /// the new namespace copies; the tenant's settings when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy_from: Option<String>,
}

/// What the operator decided.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceRequestStatus {
    /// The created namespace, once accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `Accepted`: `True` with reason `Granted`, or `False` with the refusal's reason
    /// (`OverMaxNamespaces`, `NameTaken`, `InvalidName`, `UnknownCopyFrom`, `InvalidTenant`,
    /// `NotInTenantNamespace`) and its message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,
}

impl NamespaceRequest {
    /// The request as the library decides it: creation time, `namespace/name`, the spec (not yet
    /// granted).
    pub fn ask(&self) -> NamespaceAsk {
        NamespaceAsk {
            created: self
                .metadata
                .creation_timestamp
                .as_ref()
                .map(|t| t.0.to_string())
                .unwrap_or_default(),
            request: format!(
                "{}/{}",
                self.namespace().unwrap_or_default(),
                self.name_any()
            ),
            name: self.spec.name.clone(),
            copy_from: self.spec.copy_from.clone(),
            granted: false,
        }
    }
}

impl NamespaceRequestStatus {
    /// The status of a request of `generation` with the decision `outcome`.
    pub fn of(outcome: &Result<(), Refusal>, name: &str, generation: i64) -> Self {
        match outcome {
            Ok(()) => Self {
                namespace: Some(name.into()),
                conditions: vec![condition(
                    ACCEPTED,
                    true,
                    "Granted",
                    format!("namespace `{name}` is the tenant's, isolated before any binding"),
                    generation,
                )],
            },
            Err(refusal) => Self {
                namespace: None,
                conditions: vec![condition(
                    ACCEPTED,
                    false,
                    refusal.reason(),
                    refusal.to_string(),
                    generation,
                )],
            },
        }
    }
}

/// The `namespacerequests.harmony.nationtech.io` CRD.
pub fn crd() -> CustomResourceDefinition {
    NamespaceRequest::crd()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::{GROUP, VERSION};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use kube::Resource;

    fn request(name: &str, wanted: &str, second: u8) -> NamespaceRequest {
        let mut request = NamespaceRequest::new(
            name,
            NamespaceRequestSpec {
                name: wanted.into(),
                copy_from: None,
            },
        );
        request.metadata.namespace = Some("acme".into());
        request.metadata.creation_timestamp = Some(Time(
            format!("2026-12-03T19:00:{second:02}Z").parse().unwrap(),
        ));
        request
    }

    #[test]
    fn the_crd_is_namespaced_in_the_tenant_group_with_a_status() {
        let crd = serde_json::to_value(crd()).unwrap();
        assert_eq!(
            crd["metadata"]["name"],
            "namespacerequests.harmony.nationtech.io"
        );
        assert_eq!(crd["spec"]["group"], GROUP);
        assert_eq!(crd["spec"]["scope"], "Namespaced");
        let version = &crd["spec"]["versions"][0];
        assert_eq!(version["name"], VERSION);
        assert_eq!(version["subresources"]["status"], serde_json::json!({}));
        let schema = &version["schema"]["openAPIV3Schema"]["properties"];
        assert_eq!(schema["spec"]["required"], serde_json::json!(["name"]));
        assert!(schema["spec"]["properties"]["copyFrom"].is_object());
        assert_eq!(
            schema["spec"]["x-kubernetes-validations"][0]["rule"],
            "self == oldSelf"
        );
        assert_eq!(
            schema["status"]["properties"]["conditions"]["x-kubernetes-list-type"],
            "map"
        );
        assert_eq!(
            NamespaceRequest::api_version(&()),
            "harmony.nationtech.io/v1alpha1"
        );
        assert_eq!(
            serde_json::to_string(&crd).unwrap(),
            serde_json::to_string(&super::crd()).unwrap()
        );
    }

    #[test]
    fn asks_order_by_creation_then_request_id() {
        let late = request("b", "acme-b", 2).ask();
        let early = request("a", "acme-a", 1).ask();
        assert_eq!(early.created, "2026-12-03T19:00:01Z");
        assert_eq!(early.request, "acme/a");
        assert!((&early.created, &early.request) < (&late.created, &late.request));
    }

    #[test]
    fn the_status_says_granted_or_the_refusal_reason_and_message() {
        let granted = NamespaceRequestStatus::of(&Ok(()), "acme-dev", 1);
        assert_eq!(granted.namespace.as_deref(), Some("acme-dev"));
        let [ok] = granted.conditions.as_slice() else {
            panic!("{granted:?}")
        };
        assert_eq!((ok.type_.as_str(), ok.status.as_str()), (ACCEPTED, "True"));
        let over = Refusal::OverLimit {
            tenant: "acme".into(),
            limit: 2,
        };
        let refused = NamespaceRequestStatus::of(&Err(over.clone()), "acme-dev", 3);
        assert_eq!(refused.namespace, None);
        let [no] = refused.conditions.as_slice() else {
            panic!("{refused:?}")
        };
        assert_eq!(
            (no.status.as_str(), no.reason.as_str()),
            ("False", "OverMaxNamespaces")
        );
        assert_eq!(no.message, over.to_string());
        assert_eq!(no.observed_generation, Some(3));
    }
}
