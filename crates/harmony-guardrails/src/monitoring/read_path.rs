//! The tenant read path on vanilla Kubernetes: kube-rbac-proxy → prom-label-proxy → Prometheus,
//! shaped as OKD's thanos-querier tenancy port (9092).
//!
//! kube-rbac-proxy authenticates the bearer token (TokenReview) and authorizes with a
//! SubjectAccessReview whose namespace is the request's `namespace` query parameter: `get`
//! (for a GET request) `pods` in `metrics.k8s.io` in that namespace, which Kubernetes' `view`,
//! `edit` and `admin` roles grant. A request without the parameter is refused. prom-label-proxy
//! then adds `namespace="<value>"` to every selector, so a tenant reads only its namespace.

use k8s_openapi::api::authorization::v1::ResourceAttributes;
use serde::{Deserialize, Serialize};

/// The query parameter naming the namespace read.
pub const NAMESPACE_PARAMETER: &str = "namespace";
/// The port tenants query (as OKD's thanos-querier tenancy port).
pub const TENANCY_PORT: i32 = 9092;
/// prom-label-proxy's port, on loopback inside the pod.
pub const LABEL_PROXY_PORT: i32 = 9095;
/// The Prometheus API paths tenants may call (as OKD's tenancy port).
pub const ALLOWED_PATHS: &str =
    "/api/v1/query,/api/v1/query_range,/api/v1/labels,/api/v1/label/*/values,/api/v1/series";
/// kube-rbac-proxy's placeholder for the rewritten value.
const VALUE_PLACEHOLDER: &str = "{{ .Value }}";

/// kube-rbac-proxy's `--config-file`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KubeRbacProxyConfig {
    /// How requests are authorized.
    pub authorization: Authorization,
}

/// `authorization` of a [`KubeRbacProxyConfig`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Authorization {
    /// Where the value substituted into the attributes comes from.
    pub rewrites: Rewrites,
    /// The SubjectAccessReview's resource attributes, `{{ .Value }}` standing for the value.
    pub resource_attributes: AttributesTemplate,
}

/// `authorization.rewrites`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rewrites {
    /// The query parameter whose value is substituted.
    pub by_query_parameter: QueryParameter,
}

/// `authorization.rewrites.byQueryParameter`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryParameter {
    /// Its name.
    pub name: String,
}

/// `authorization.resourceAttributes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttributesTemplate {
    /// The API group.
    pub api_group: String,
    /// The API version.
    pub api_version: String,
    /// The resource.
    pub resource: String,
    /// The namespace, `{{ .Value }}`.
    pub namespace: String,
}

impl KubeRbacProxyConfig {
    /// The configuration of the tenant read path.
    pub fn tenancy() -> Self {
        Self {
            authorization: Authorization {
                rewrites: Rewrites {
                    by_query_parameter: QueryParameter {
                        name: NAMESPACE_PARAMETER.into(),
                    },
                },
                resource_attributes: AttributesTemplate {
                    api_group: "metrics.k8s.io".into(),
                    api_version: "v1beta1".into(),
                    resource: "pods".into(),
                    namespace: VALUE_PLACEHOLDER.into(),
                },
            },
        }
    }

    /// The resource attributes of the SubjectAccessReview kube-rbac-proxy sends for a request
    /// whose query parameter is `value` and whose HTTP method maps to `verb` (GET: `get`).
    pub fn resource_attributes(&self, value: &str, verb: &str) -> ResourceAttributes {
        let template = &self.authorization.resource_attributes;
        let fill = |field: &str| field.replace(VALUE_PLACEHOLDER, value);
        ResourceAttributes {
            group: Some(fill(&template.api_group)),
            version: Some(fill(&template.api_version)),
            resource: Some(fill(&template.resource)),
            namespace: Some(fill(&template.namespace)),
            verb: Some(verb.into()),
            ..ResourceAttributes::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_namespace_comes_from_the_query_parameter() {
        let config = KubeRbacProxyConfig::tenancy();
        let attributes = config.resource_attributes("acme", "get");
        assert_eq!(
            serde_json::to_value(&attributes).unwrap(),
            serde_json::json!({"group": "metrics.k8s.io", "version": "v1beta1",
                "resource": "pods", "namespace": "acme", "verb": "get"})
        );
        let yaml = serde_saphyr::to_string(&config).unwrap();
        assert_eq!(
            yaml,
            "authorization:\n  rewrites:\n    byQueryParameter:\n      name: namespace\n  resourceAttributes:\n    apiGroup: metrics.k8s.io\n    apiVersion: v1beta1\n    resource: pods\n    namespace: \"{{ .Value }}\"\n"
        );
        let back: KubeRbacProxyConfig = serde_saphyr::from_str(&yaml).unwrap();
        assert_eq!(back, config);
    }
}
