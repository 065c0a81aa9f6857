//! Connecting as the operator: a kube client from `--kubeconfig`/`--context`, and the cluster CA
//! of that context (to embed in member kubeconfigs).
//!
//! `harmony-k8s` will own connecting to a cluster; this is the small piece this crate needs until
//! it exposes one.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::CredentialError;

/// A client for the operator's cluster, with what member kubeconfigs reuse from it.
#[derive(Clone)]
pub struct Connection {
    /// The operator's client.
    pub client: kube::Client,
    /// The API server URL of the operator's context.
    pub server: String,
    /// The cluster CA (PEM) of the operator's context, if it names one.
    pub certificate_authority: Option<String>,
}

/// Connects with `kubeconfig` (default: `$KUBECONFIG`, then `~/.kube/config`) and `context`
/// (default: its current context). Nothing is sent to the server yet.
pub async fn connect(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
) -> Result<Connection, CredentialError> {
    let field = "--kubeconfig";
    let config = match kubeconfig {
        Some(path) => Kubeconfig::read_from(path).map_err(|e| {
            CredentialError::invalid(field, format!("cannot read {}: {e}", path.display()))
        })?,
        None => Kubeconfig::read().map_err(|e| {
            CredentialError::invalid(
                field,
                format!("no kubeconfig found ({e}): pass --kubeconfig FILE or set KUBECONFIG"),
            )
        })?,
    };
    let context_name = context
        .map(String::from)
        .or_else(|| config.current_context.clone())
        .ok_or_else(|| {
            CredentialError::invalid(
                "--context",
                "the kubeconfig has no current context: pass --context",
            )
        })?;
    let cluster_name = config
        .contexts
        .iter()
        .find(|c| c.name == context_name)
        .and_then(|c| c.context.as_ref())
        .map(|c| c.cluster.clone())
        .ok_or_else(|| {
            let known: Vec<&str> = config.contexts.iter().map(|c| c.name.as_str()).collect();
            CredentialError::invalid(
                "--context",
                format!(
                    "`{context_name}` is not in the kubeconfig; known: {}",
                    known.join(", ")
                ),
            )
        })?;
    let cluster = config
        .clusters
        .iter()
        .find(|c| c.name == cluster_name)
        .and_then(|c| c.cluster.clone())
        .unwrap_or_default();
    let certificate_authority = cluster_ca(&cluster)?;
    let options = KubeConfigOptions {
        context: Some(context_name.clone()),
        ..KubeConfigOptions::default()
    };
    let kube_config = kube::Config::from_custom_kubeconfig(config, &options)
        .await
        .map_err(|e| CredentialError::invalid(field, format!("context `{context_name}`: {e}")))?;
    let server = kube_config
        .cluster_url
        .to_string()
        .trim_end_matches('/')
        .to_string();
    let client = kube::Client::try_from(kube_config)
        .map_err(|e| CredentialError::invalid(field, format!("context `{context_name}`: {e}")))?;
    Ok(Connection {
        client,
        server,
        certificate_authority,
    })
}

/// The PEM text of a cluster entry's `certificate-authority-data` or `certificate-authority`.
fn cluster_ca(cluster: &kube::config::Cluster) -> Result<Option<String>, CredentialError> {
    let field = "certificate-authority-data";
    if let Some(data) = &cluster.certificate_authority_data {
        let bytes = STANDARD
            .decode(data.trim())
            .map_err(|e| CredentialError::invalid(field, format!("not base64: {e}")))?;
        return String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| CredentialError::invalid(field, "not PEM text"));
    }
    cluster
        .certificate_authority
        .as_ref()
        .map(|path| std::fs::read_to_string(path).map_err(CredentialError::io(Path::new(path))))
        .transpose()
}
