//! Reading what the isolation audit needs from a live cluster, read-only.
//!
//! One cluster-wide `list` per kind ([`AUDIT_KINDS`]), paginated (`limit`/`continue`), each page
//! retried when transient. Optional kinds (AdminNetworkPolicies, ValidatingAdmissionPolicies) are
//! listed only when discovery shows the cluster serves them. Secrets are never read.
//!
//! A kind the credentials may not list does not make a partial audit (it could wrongly pass): the
//! read fails with every missing `list` permission at once, each with the checks that need it.

use std::future::Future;

use futures::future::join_all;
use k8s_openapi::api::admissionregistration::v1::{
    ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding,
};
use k8s_openapi::api::core::v1::{
    LimitRange, Namespace, Pod, ResourceQuota, Service, ServiceAccount,
};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta;
use kube::Resource;
use kube::api::{DynamicObject, ListParams};
use kube::core::Request;
use serde::Deserialize;
use serde_json::Value;

use harmony::InterpretError;
use harmony_audit::{ClusterSnapshot, LoadError};

use harmony_kube::kinds::{ADMIN_NETWORK_POLICY, BASELINE_ADMIN_NETWORK_POLICY};
use harmony_kube::{
    ApiFailure, Attempt, Cluster, FailureKind, Kind, cluster_from_config, explain, with_retry,
};

/// Objects per page of a list.
const PAGE_SIZE: u32 = 500;

/// A kind the audit reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditKind {
    /// The kind, and where the API serves it.
    pub kind: Kind,
    /// Whether the kind is listed only when the cluster serves it (not every cluster does).
    pub optional: bool,
    /// What the audit uses the kind for: the checks that cannot run without it.
    pub needed_by: &'static str,
}

/// Every kind the audit reads, in the order it reads them.
pub const AUDIT_KINDS: [AuditKind; 16] = [
    AuditKind {
        kind: Kind::of::<Namespace>(),
        optional: false,
        needed_by: "finding tenants; pod security (HMT-PSA-001); namespace selectors (HMT-NET-*)",
    },
    AuditKind {
        kind: Kind::of::<Pod>(),
        optional: false,
        needed_by: "reachability between real pods (HMT-NET-001..007)",
    },
    AuditKind {
        kind: Kind::of::<ServiceAccount>(),
        optional: false,
        needed_by: "ServiceAccount escalation (HMT-ESC-001..003)",
    },
    AuditKind {
        kind: Kind::of::<Role>(),
        optional: false,
        needed_by: "RBAC reach (HMT-RBAC-001..004, HMT-ESC-001..003)",
    },
    AuditKind {
        kind: Kind::of::<ClusterRole>(),
        optional: false,
        needed_by: "RBAC reach (HMT-RBAC-001..004, HMT-ESC-001..003)",
    },
    AuditKind {
        kind: Kind::of::<RoleBinding>(),
        optional: false,
        needed_by: "RBAC reach (HMT-RBAC-001..004, HMT-ESC-001..003)",
    },
    AuditKind {
        kind: Kind::of::<ClusterRoleBinding>(),
        optional: false,
        needed_by: "RBAC reach (HMT-RBAC-001..004, HMT-ESC-001..003)",
    },
    AuditKind {
        kind: Kind::of::<NetworkPolicy>(),
        optional: false,
        needed_by: "network isolation (HMT-NET-001..007)",
    },
    AuditKind {
        kind: Kind::of::<ResourceQuota>(),
        optional: false,
        needed_by: "quotas and storage (HMT-QUOTA-001/002, HMT-STOR-001)",
    },
    AuditKind {
        kind: Kind::of::<LimitRange>(),
        optional: false,
        needed_by: "container defaults (HMT-QUOTA-001)",
    },
    AuditKind {
        kind: Kind::of::<Service>(),
        optional: false,
        needed_by: "ExternalName Services behind the shared ingress controller (HMT-ING-001)",
    },
    AuditKind {
        kind: Kind::of::<Ingress>(),
        optional: false,
        needed_by: "Ingress hosts shared between tenants (HMT-ING-001)",
    },
    AuditKind {
        kind: ADMIN_NETWORK_POLICY,
        optional: true,
        needed_by: "cluster network tiers (HMT-NET-001..007)",
    },
    AuditKind {
        kind: BASELINE_ADMIN_NETWORK_POLICY,
        optional: true,
        needed_by: "cluster network tiers (HMT-NET-001..007)",
    },
    AuditKind {
        kind: Kind::of::<ValidatingAdmissionPolicy>(),
        optional: true,
        needed_by: "admission guardrails",
    },
    AuditKind {
        kind: Kind::of::<ValidatingAdmissionPolicyBinding>(),
        optional: true,
        needed_by: "admission guardrails",
    },
];

/// What was read from the cluster.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// Every object read, each with its `apiVersion` and `kind` set (list items lack them).
    pub objects: Vec<Value>,
    /// Optional kinds the cluster does not serve, such as
    /// `adminnetworkpolicies.policy.networking.k8s.io`: their checks run without them.
    pub not_served: Vec<String>,
}

impl Inventory {
    /// The audit's snapshot of what was read from `server`: a cluster serving admission policies
    /// is assessed for guardrails even when it has none, and each kind not served is noted.
    pub fn into_snapshot(self, server: &str) -> Result<ClusterSnapshot, LoadError> {
        let mut snapshot = ClusterSnapshot::default();
        tracing::info_span!("decode", objects = self.objects.len())
            .in_scope(|| snapshot.add_objects(self.objects, server))?;
        if !self
            .not_served
            .iter()
            .any(|kind| kind.starts_with("validatingadmissionpolicies."))
        {
            snapshot.admission_policies.get_or_insert_default();
        }
        snapshot.notes.extend(
            self.not_served
                .iter()
                .map(|kind| format!("{server}: does not serve {kind}; audited without it")),
        );
        Ok(snapshot)
    }
}

/// Reads a live cluster for the audit.
#[derive(Clone)]
pub struct InventoryReader {
    cluster: Cluster,
}

impl InventoryReader {
    /// A reader for the cluster `config` describes (no request is sent yet).
    pub fn new(config: kube::Config) -> Result<Self, InterpretError> {
        Ok(Self {
            cluster: cluster_from_config(config)?,
        })
    }

    /// The cluster, for facts discovery ([`crate::facts::discover`]).
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    /// Lists every kind of [`AUDIT_KINDS`] the cluster serves, across all namespaces.
    ///
    /// Fails on the first unreachable or unexplained error; a 403 on any kind fails only after
    /// every kind was tried, naming every missing permission.
    #[tracing::instrument(name = "list all", skip_all)]
    pub async fn read(&self) -> Result<Inventory, ApiFailure> {
        let mut inventory = Inventory::default();
        let mut wanted = Vec::new();
        for kind in &AUDIT_KINDS {
            if !kind.optional || self.serves(kind).await? {
                wanted.push(kind);
            } else {
                inventory.not_served.push(kind.kind.resource());
            }
        }
        let lists = join_all(wanted.iter().map(|kind| self.list(kind))).await;
        let mut forbidden = Vec::new();
        for (kind, result) in wanted.iter().zip(lists) {
            match result {
                Ok(objects) => inventory.objects.extend(objects),
                Err(failure) if failure.kind == FailureKind::Forbidden => {
                    forbidden.push((*kind, failure));
                }
                Err(failure) => return Err(failure),
            }
        }
        if forbidden.is_empty() {
            Ok(inventory)
        } else {
            Err(missing_permissions(self.cluster.server(), &forbidden))
        }
    }

    /// Whether discovery lists `kind` in its group version (a 404 means the version is not served).
    async fn serves(&self, kind: &AuditKind) -> Result<bool, ApiFailure> {
        let api_version = kind.kind.api_version();
        let attempt = Attempt {
            verb: "get",
            resource: format!("/apis/{api_version}"),
            namespace: "",
            name: "",
        };
        match with_retry(|| self.cluster.client().list_api_group_resources(&api_version)).await {
            Ok(list) => Ok(list.resources.iter().any(|r| r.name == kind.kind.plural())),
            Err(e) => match explain(&e, &attempt, self.cluster.server()) {
                ApiFailure {
                    kind: FailureKind::NotFound,
                    ..
                } => Ok(false),
                failure => Err(failure),
            },
        }
    }

    /// Every object of `kind` in the cluster, page by page, each as [`item`] leaves it.
    #[tracing::instrument(name = "list", skip_all, fields(kind = %kind.kind.resource(), items))]
    async fn list(&self, kind: &AuditKind) -> Result<Vec<Value>, ApiFailure> {
        let request = Request::new(DynamicObject::url_path(&kind.kind.api_resource(), None));
        let attempt = Attempt {
            verb: "list",
            resource: kind.kind.resource(),
            namespace: "",
            name: "",
        };
        let client = self.cluster.client();
        let items = paginate(|token| {
            let mut params = ListParams::default().limit(PAGE_SIZE);
            params.continue_token = token;
            let request = &request;
            async move {
                with_retry(|| async {
                    let page = request.list(&params).map_err(kube::Error::BuildRequest)?;
                    client.request::<Page>(page).await
                })
                .await
            }
        })
        .await
        .map_err(|e| explain(&e, &attempt, self.cluster.server()))?;
        tracing::Span::current().record("items", items.len());
        Ok(items.into_iter().map(|object| item(object, kind)).collect())
    }
}

/// One page of a list, its items kept as JSON: they are decoded once, by the audit's snapshot.
#[derive(Debug, Deserialize)]
struct Page {
    #[serde(default)]
    metadata: ListMeta,
    #[serde(default)]
    items: Vec<Value>,
}

/// Follows `continue` tokens until the last page; `page(None)` is the first.
async fn paginate<F, Fut>(mut page: F) -> Result<Vec<Value>, kube::Error>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<Page, kube::Error>>,
{
    let mut items = Vec::new();
    let mut token = None;
    loop {
        let page = page(token).await?;
        items.extend(page.items);
        match page.metadata.continue_ {
            Some(next) if !next.is_empty() => token = Some(next),
            _ => return Ok(items),
        }
    }
}

/// A list item with the `apiVersion` and `kind` list items lack, and without its
/// `managedFields`, which the audit never reads (they are most of a small object's bytes).
fn item(mut object: Value, kind: &AuditKind) -> Value {
    if let Value::Object(fields) = &mut object {
        fields.insert("apiVersion".into(), kind.kind.api_version().into());
        fields.insert("kind".into(), kind.kind.name().into());
        if let Some(Value::Object(metadata)) = fields.get_mut("metadata") {
            metadata.remove("managedFields");
        }
    }
    object
}

/// One failure naming every `list` permission the audit lacks and what each is for.
fn missing_permissions(server: &str, forbidden: &[(&AuditKind, ApiFailure)]) -> ApiFailure {
    let lines: Vec<String> = forbidden
        .iter()
        .map(|(kind, failure)| {
            format!(
                "  - list {} (all namespaces), needed for {}: {}",
                kind.kind.resource(),
                kind.needed_by,
                failure.message
            )
        })
        .collect();
    ApiFailure {
        kind: FailureKind::Forbidden,
        message: format!(
            "the audit cannot read the cluster at {server}: the kubeconfig's user lacks {} `list` \
             permission(s), and a partial audit could wrongly pass; grant `list` on these \
             resources cluster-wide (a ClusterRole bound with a ClusterRoleBinding) or use a \
             context with more rights:\n{}",
            forbidden.len(),
            lines.join("\n")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;
    use std::sync::Mutex;

    fn page(names: &[&str], next: Option<&str>) -> Page {
        let items: Vec<Value> = names
            .iter()
            .map(|n| serde_json::json!({"metadata": {"name": n}}))
            .collect();
        serde_json::from_value(serde_json::json!({
            "apiVersion": "v1",
            "kind": "List",
            "metadata": {"continue": next},
            "items": items,
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn follows_continue_tokens_to_the_last_page() {
        let asked = Mutex::new(Vec::new());
        let items = paginate(|token: Option<String>| {
            asked.lock().unwrap().push(token.clone());
            let answer = match token.as_deref() {
                None => page(&["a", "b"], Some("t1")),
                Some("t1") => page(&["c"], Some("t2")),
                Some("t2") => page(&["d"], Some("")),
                Some(other) => panic!("unexpected token {other}"),
            };
            async move { Ok(answer) }
        })
        .await
        .unwrap();
        let names: Vec<_> = items
            .iter()
            .filter_map(|o| o["metadata"]["name"].as_str())
            .collect();
        assert_eq!(names, ["a", "b", "c", "d"]);
        assert_eq!(
            *asked.lock().unwrap(),
            [None, Some("t1".into()), Some("t2".into())]
        );
    }

    #[tokio::test]
    async fn a_failed_page_fails_the_list() {
        let result = paginate(|token: Option<String>| async move {
            match token {
                None => Ok(page(&["a"], Some("t1"))),
                Some(_) => Err(kube::Error::Api(Box::new(
                    Status::failure("continue token expired", "Expired").with_code(410),
                ))),
            }
        })
        .await;
        assert!(result.is_err());
    }

    #[test]
    fn list_items_get_their_kind_and_api_version_and_lose_their_managed_fields() {
        let object = serde_json::json!({"metadata": {
            "name": "r", "namespace": "a",
            "managedFields": [{"manager": "kubectl", "operation": "Apply"}],
        }});
        let rb = AUDIT_KINDS
            .iter()
            .find(|k| k.kind == Kind::of::<RoleBinding>())
            .unwrap();
        let value = item(object, rb);
        assert_eq!(value["apiVersion"], "rbac.authorization.k8s.io/v1");
        assert_eq!(value["kind"], "RoleBinding");
        assert_eq!(
            value["metadata"],
            serde_json::json!({"name": "r", "namespace": "a"})
        );
    }

    #[test]
    fn missing_permissions_name_every_resource_and_its_checks() {
        let forbidden: Vec<(&AuditKind, ApiFailure)> = ["clusterrolebindings", "networkpolicies"]
            .iter()
            .map(|plural| {
                let kind = AUDIT_KINDS
                    .iter()
                    .find(|k| k.kind.plural() == *plural)
                    .unwrap();
                let failure = ApiFailure {
                    kind: FailureKind::Forbidden,
                    message: format!("forbidden {plural}"),
                };
                (kind, failure)
            })
            .collect();
        let failure = missing_permissions("https://api.example:6443", &forbidden);
        assert_eq!(failure.kind, FailureKind::Forbidden);
        let text = failure.message;
        assert!(text.contains("lacks 2 `list` permission(s)"), "{text}");
        assert!(
            text.contains("list clusterrolebindings.rbac.authorization.k8s.io (all namespaces), needed for RBAC reach"),
            "{text}"
        );
        assert!(
            text.contains("list networkpolicies.networking.k8s.io (all namespaces), needed for network isolation"),
            "{text}"
        );
    }

    #[test]
    fn never_reads_secrets() {
        let secrets = Kind::of::<k8s_openapi::api::core::v1::Secret>();
        assert!(AUDIT_KINDS.iter().all(|k| k.kind != secrets));
    }
}
