//! The few API requests the Secret registry sends, each on a private runtime so that callers may
//! be synchronous or already inside an async runtime.

use std::collections::BTreeMap;
use std::future::Future;

use harmony_kube::{Attempt, FailureKind, Kind, with_retry};
use harmony_tenant::{MANAGED_BY_LABEL, MANAGED_BY_VALUE};
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{Api, ObjectMeta, PostParams};

use crate::VpnError;

/// Runs `work` on a private current-thread runtime, in its own thread: callers may be synchronous
/// or already inside an async runtime (where a nested `block_on` would panic).
pub(super) fn on_private_runtime<T, Fut>(work: impl FnOnce() -> Fut + Send) -> Result<T, VpnError>
where
    T: Send,
    Fut: Future<Output = Result<T, VpnError>>,
{
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| api_error(format!("cannot start an async runtime: {e}")))?
                    .block_on(work())
            })
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// Runs `work` with a fresh client for `config` (see [`on_private_runtime`]).
pub(super) fn with_client<T, Fut>(
    config: &kube::Config,
    work: impl FnOnce(kube::Client) -> Fut + Send,
) -> Result<T, VpnError>
where
    T: Send,
    Fut: Future<Output = Result<T, VpnError>>,
{
    on_private_runtime(|| async {
        let client = kube::Client::try_from(config.clone()).map_err(|e| {
            api_error(format!(
                "cannot build a client for {}: {e}",
                config.cluster_url
            ))
        })?;
        work(client).await
    })
}

pub(super) fn api_error(message: String) -> VpnError {
    VpnError::Cluster { message }
}

/// Outcome of a write guarded by `resourceVersion`.
pub(super) enum Written {
    /// The server stored it.
    Stored,
    /// 409: the object changed (or appeared) since it was read.
    Stale,
}

/// A namespace's Secrets, with what messages need: the server URL.
pub(super) struct Secrets {
    api: Api<Secret>,
    client: kube::Client,
    namespace: String,
    server: String,
}

impl Secrets {
    pub(super) fn new(client: kube::Client, namespace: &str, server: &str) -> Self {
        Self {
            api: Api::namespaced(client.clone(), namespace),
            client,
            namespace: namespace.into(),
            server: server.into(),
        }
    }

    /// The Secret, or `None` when it does not exist.
    pub(super) async fn get(&self, name: &str) -> Result<Option<Secret>, VpnError> {
        with_retry(|| self.api.get_opt(name))
            .await
            .map_err(|e| self.explain(&e, "get", name))
    }

    /// Creates the Secret (and, when missing, its namespace); [`Written::Stale`] when another
    /// writer created it first.
    pub(super) async fn create(&self, secret: &Secret) -> Result<Written, VpnError> {
        let name = secret.metadata.name.as_deref().unwrap_or_default();
        self.ensure_namespace().await?;
        let params = PostParams::default();
        match with_retry(|| self.api.create(&params, secret)).await {
            Ok(_) => Ok(Written::Stored),
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(Written::Stale),
            Err(e) => Err(self.explain(&e, "create", name)),
        }
    }

    /// Replaces the Secret if its `resourceVersion` is still the one in `secret`.
    pub(super) async fn replace(&self, secret: &Secret) -> Result<Written, VpnError> {
        let name = secret.metadata.name.as_deref().unwrap_or_default();
        let params = PostParams::default();
        match with_retry(|| self.api.replace(name, &params, secret)).await {
            Ok(_) => Ok(Written::Stored),
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(Written::Stale),
            Err(e) => Err(self.explain(&e, "update", name)),
        }
    }

    async fn ensure_namespace(&self) -> Result<(), VpnError> {
        let api: Api<Namespace> = Api::all(self.client.clone());
        let found = with_retry(|| api.get_opt(&self.namespace))
            .await
            .map_err(|e| self.explain_namespace(&e, "get"))?;
        if found.is_some() {
            return Ok(());
        }
        let namespace = Namespace {
            metadata: managed_meta(&self.namespace, None),
            ..Namespace::default()
        };
        let params = PostParams::default();
        match with_retry(|| api.create(&params, &namespace)).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(()),
            Err(e) => Err(self.explain_namespace(&e, "create")),
        }
    }

    fn explain_namespace(&self, error: &kube::Error, verb: &str) -> VpnError {
        explain(
            error,
            verb,
            Kind::of::<Namespace>(),
            ("", &self.namespace),
            &self.server,
        )
    }

    fn explain(&self, error: &kube::Error, verb: &str, name: &str) -> VpnError {
        explain(
            error,
            verb,
            Kind::of::<Secret>(),
            (&self.namespace, name),
            &self.server,
        )
    }
}

/// Metadata with the managed-by label (and a namespace for namespaced objects).
pub(super) fn managed_meta(name: &str, namespace: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: namespace.map(String::from),
        labels: Some(BTreeMap::from([(
            MANAGED_BY_LABEL.to_string(),
            MANAGED_BY_VALUE.to_string(),
        )])),
        ..ObjectMeta::default()
    }
}

/// A failed request explained by harmony-kube (what was attempted, on which server, the fix; never
/// credentials or the Secret's content), with the rights the VPN registry needs when refused.
fn explain(
    error: &kube::Error,
    verb: &str,
    kind: Kind,
    (namespace, name): (&str, &str),
    server: &str,
) -> VpnError {
    let attempt = Attempt {
        verb,
        resource: kind.resource(),
        namespace,
        name,
    };
    let failure = harmony_kube::explain(error, &attempt, server);
    let message = match failure.kind {
        FailureKind::Forbidden => format!(
            "{failure}. The VPN registry needs get, create and update on secrets in namespace \
             harmony-system (and get and create on namespaces the first time)"
        ),
        _ => failure.message,
    };
    api_error(message)
}
