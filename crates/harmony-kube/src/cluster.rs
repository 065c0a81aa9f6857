//! The API requests Harmony sends, each retried when transient and explained when it fails.

use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use serde_json::Value;

use crate::error::{ApiFailure, Attempt, FailureKind, explain};
use crate::kinds::{Kind, ObjectRef};
use crate::retry::with_retry;

/// The field manager of every write.
pub const FIELD_MANAGER: &str = "harmony";

/// A connected cluster: a kube client and the server URL (for messages; never credentials).
#[derive(Clone)]
pub struct Cluster {
    client: kube::Client,
    server: String,
}

impl Cluster {
    /// A cluster reached through `client`, whose API server is at `server`.
    pub fn new(client: kube::Client, server: String) -> Self {
        Self { client, server }
    }

    /// The API server URL.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The kube client, for requests this type has no method for.
    pub fn client(&self) -> &kube::Client {
        &self.client
    }

    fn api(&self, kind: Kind, namespace: &str) -> Api<DynamicObject> {
        let resource = kind.api_resource();
        if kind.namespaced() && !namespace.is_empty() {
            Api::namespaced_with(self.client.clone(), namespace, &resource)
        } else {
            Api::all_with(self.client.clone(), &resource)
        }
    }

    fn fail(&self, error: &kube::Error, attempt: &Attempt<'_>) -> ApiFailure {
        explain(error, attempt, &self.server)
    }

    /// The server's version, such as `v1.33.0`: proves the API answers and the credentials work.
    pub async fn version(&self) -> Result<String, ApiFailure> {
        let attempt = Attempt {
            verb: "get",
            resource: "/version".into(),
            namespace: "",
            name: "",
        };
        with_retry(|| self.client.apiserver_version())
            .await
            .map(|info| info.git_version)
            .map_err(|e| self.fail(&e, &attempt))
    }

    /// The names of the API groups the server serves.
    pub async fn api_groups(&self) -> Result<Vec<String>, ApiFailure> {
        let groups = self.discovery().await?;
        Ok(groups.into_iter().map(|g| g.name).collect())
    }

    /// Every `group/version` the API server serves outside the core group, such as
    /// `monitoring.coreos.com/v1beta1`.
    pub async fn api_group_versions(&self) -> Result<Vec<String>, ApiFailure> {
        let groups = self.discovery().await?;
        Ok(groups
            .into_iter()
            .flat_map(|g| g.versions.into_iter().map(|v| v.group_version))
            .collect())
    }

    async fn discovery(
        &self,
    ) -> Result<Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::APIGroup>, ApiFailure> {
        let attempt = Attempt {
            verb: "get",
            resource: "/apis".into(),
            namespace: "",
            name: "",
        };
        with_retry(|| self.client.list_api_groups())
            .await
            .map(|list| list.groups)
            .map_err(|e| self.fail(&e, &attempt))
    }

    /// Objects of `kind` matching `selector`, in `namespace` or (empty) all namespaces.
    pub async fn list(
        &self,
        kind: Kind,
        namespace: &str,
        selector: &str,
    ) -> Result<Vec<Value>, ApiFailure> {
        let api = self.api(kind, namespace);
        let params = ListParams::default().labels(selector);
        let attempt = Attempt {
            verb: "list",
            resource: kind.resource(),
            namespace,
            name: "",
        };
        let list = with_retry(|| api.list(&params))
            .await
            .map_err(|e| self.fail(&e, &attempt))?;
        Ok(list.items.into_iter().map(to_value).collect())
    }

    /// One object, or `None` when it does not exist.
    pub async fn get(
        &self,
        kind: Kind,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Value>, ApiFailure> {
        let api = self.api(kind, namespace);
        let attempt = Attempt {
            verb: "get",
            resource: kind.resource(),
            namespace,
            name,
        };
        match with_retry(|| api.get(name)).await {
            Ok(object) => Ok(Some(to_value(object))),
            Err(e) => match self.fail(&e, &attempt) {
                ApiFailure {
                    kind: FailureKind::NotFound,
                    ..
                } => Ok(None),
                failure => Err(failure),
            },
        }
    }

    /// Server-side applies `body` to `target` as [`FIELD_MANAGER`]; returns the object as the
    /// server stored it.
    pub async fn apply(
        &self,
        target: &ObjectRef,
        body: &Value,
        force: bool,
        dry_run: bool,
    ) -> Result<Value, ApiFailure> {
        let ObjectRef {
            kind,
            namespace,
            name,
        } = target;
        let api = self.api(*kind, namespace);
        let mut params = PatchParams::apply(FIELD_MANAGER);
        params.force = force;
        params.dry_run = dry_run;
        let attempt = Attempt {
            verb: "patch",
            resource: kind.resource(),
            namespace,
            name,
        };
        let patch = Patch::Apply(body);
        with_retry(|| api.patch(name, &params, &patch))
            .await
            .map(to_value)
            .map_err(|e| self.fail(&e, &attempt))
    }

    /// Server-side applies `body` to the status subresource of `target` as field manager
    /// `manager` (forced: the fields `body` holds are that manager's alone); returns the object as
    /// the server stored it.
    pub async fn apply_status(
        &self,
        target: &ObjectRef,
        body: &Value,
        manager: &str,
    ) -> Result<Value, ApiFailure> {
        let ObjectRef {
            kind,
            namespace,
            name,
        } = target;
        let api = self.api(*kind, namespace);
        let params = PatchParams::apply(manager).force();
        let resource = format!("{}/status", kind.resource());
        let attempt = Attempt {
            verb: "patch",
            resource,
            namespace,
            name,
        };
        let patch = Patch::Apply(body);
        with_retry(|| api.patch_status(name, &params, &patch))
            .await
            .map(to_value)
            .map_err(|e| self.fail(&e, &attempt))
    }

    /// Deletes one object; one already gone counts as deleted.
    pub async fn delete(
        &self,
        kind: Kind,
        namespace: &str,
        name: &str,
        dry_run: bool,
    ) -> Result<(), ApiFailure> {
        let api = self.api(kind, namespace);
        let params = DeleteParams {
            dry_run,
            ..DeleteParams::default()
        };
        let attempt = Attempt {
            verb: "delete",
            resource: kind.resource(),
            namespace,
            name,
        };
        match with_retry(|| api.delete(name, &params)).await {
            Ok(_) => Ok(()),
            Err(e) => match self.fail(&e, &attempt) {
                ApiFailure {
                    kind: FailureKind::NotFound,
                    ..
                } => Ok(()),
                failure => Err(failure),
            },
        }
    }
}

fn to_value(object: DynamicObject) -> Value {
    serde_json::to_value(object).expect("objects read from JSON serialize back")
}
