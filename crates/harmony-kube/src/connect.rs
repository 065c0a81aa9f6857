//! Connecting to a cluster: `--kubeconfig` and `--context`, else `KUBECONFIG` or
//! `~/.kube/config`, else the in-cluster service account.

use std::path::PathBuf;

use harmony::InterpretError;
use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::cluster::Cluster;

/// Which cluster to reach, and as whom.
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// A kubeconfig file; `None` uses `KUBECONFIG`, `~/.kube/config` or the in-cluster account.
    pub kubeconfig: Option<PathBuf>,
    /// A context of the kubeconfig; `None` uses its current context.
    pub context: Option<String>,
}

impl Access {
    /// The kube configuration this access describes. Errors name the file or context, never a
    /// credential.
    pub async fn config(&self) -> Result<kube::Config, InterpretError> {
        let options = KubeConfigOptions {
            context: self.context.clone(),
            ..KubeConfigOptions::default()
        };
        let not_ready = |what: String| InterpretError::NotReady(what);
        match (&self.kubeconfig, &self.context) {
            (Some(path), _) => {
                let file = Kubeconfig::read_from(path).map_err(|e| {
                    not_ready(format!(
                        "cannot read the kubeconfig {}: {e}: give --kubeconfig a readable kubeconfig file",
                        path.display()
                    ))
                })?;
                kube::Config::from_custom_kubeconfig(file, &options)
                    .await
                    .map_err(|e| {
                        not_ready(format!(
                            "cannot use the kubeconfig {}{}: {e}",
                            path.display(),
                            self.context_hint()
                        ))
                    })
            }
            (None, Some(_)) => kube::Config::from_kubeconfig(&options).await.map_err(|e| {
                not_ready(format!(
                    "cannot use the kubeconfig from KUBECONFIG or ~/.kube/config{}: {e}",
                    self.context_hint()
                ))
            }),
            (None, None) => kube::Config::infer().await.map_err(|e| {
                not_ready(format!(
                    "no cluster to talk to: {e}; give --kubeconfig FILE (and --context NAME), \
                     set KUBECONFIG, or run inside a cluster"
                ))
            }),
        }
    }

    fn context_hint(&self) -> String {
        self.context
            .as_ref()
            .map(|c| {
                format!(" (context `{c}`: check it exists with `kubectl config get-contexts`)")
            })
            .unwrap_or_default()
    }

    /// Connects: a client for this access (no request is sent yet).
    pub async fn connect(&self) -> Result<Cluster, InterpretError> {
        let config = self.config().await?;
        cluster_from_config(config)
    }
}

/// A cluster from a ready kube configuration.
pub fn cluster_from_config(config: kube::Config) -> Result<Cluster, InterpretError> {
    let server = config.cluster_url.to_string();
    let server = server.trim_end_matches('/').to_string();
    let client = kube::Client::try_from(config).map_err(|e| {
        InterpretError::NotReady(format!("cannot build a client for {server}: {e}"))
    })?;
    Ok(Cluster::new(client, server))
}
