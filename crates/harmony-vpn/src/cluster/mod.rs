//! The registry in a Kubernetes Secret, for live clusters: `harmony-vpn-registry` in namespace
//! `harmony-system` (both created on first write, labelled managed-by harmony).
//!
//! - Content: `registry.json` (the same document as the file registry: peers and preshared keys,
//!   never a private key) and `audit.log` (JSON lines).
//! - Crash safety: every change is one PUT (or the first one POST), atomic on the API server.
//! - Concurrency: optimistic. A write carries the `resourceVersion` it read; a 409 means another
//!   writer was first, so the registry is read again and the change redone (bounded attempts).
//! - Size: a Secret's data must stay under 1 MiB. When the audit log would push it over, its
//!   oldest lines move to immutable archive Secrets `harmony-vpn-registry-audit-N` (N from 1,
//!   counted in the annotation `harmony.nationtech.io/audit-archives`); a registry that alone
//!   outgrows the limit is refused.
//! - Corruption: a Secret that cannot be read back is refused, with recovery steps; nothing is
//!   written.

mod api;
mod audit;

use std::collections::BTreeMap;

use harmony_kube::Access;
use jiff::Timestamp;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;

use crate::VpnError;
use crate::pool::AddressPool;
use crate::registry::{AuditEvent, Registry, audit_lines};
use api::{Secrets, Written, managed_meta, on_private_runtime, with_client};

/// The namespace of the registry Secret.
pub const REGISTRY_NAMESPACE: &str = "harmony-system";
/// The registry Secret.
pub const REGISTRY_SECRET: &str = "harmony-vpn-registry";
/// The Secret key holding the registry document.
pub const REGISTRY_KEY: &str = "registry.json";
/// The Secret key holding the audit log (JSON lines).
pub const AUDIT_KEY: &str = "audit.log";
/// The annotation counting archive Secrets.
pub const ARCHIVES_ANNOTATION: &str = "harmony.nationtech.io/audit-archives";
/// The API server's limit on a Secret's data: 1 MiB.
pub const SECRET_SIZE_LIMIT: usize = 1024 * 1024;
/// How many times a change is tried when other writers keep winning.
const MAX_ATTEMPTS: u32 = 8;

/// The registry in a Secret of a live cluster.
#[derive(Clone)]
pub struct SecretStore {
    config: kube::Config,
    server: String,
    limit: usize,
}

impl std::fmt::Debug for SecretStore {
    // The kube config holds credentials: show only where the Secret is.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretStore")
            .field("secret", &self.describe())
            .field("limit", &self.limit)
            .finish()
    }
}

/// The registry read from the Secret, with what a write needs.
struct Live {
    registry: Registry,
    audit: Vec<u8>,
    archives: u64,
    secret: Option<Secret>,
}

impl SecretStore {
    /// The registry Secret of the cluster `config` reaches. Nothing is sent yet.
    pub fn new(config: kube::Config) -> Self {
        let server = config.cluster_url.to_string().trim_end_matches('/').into();
        Self {
            config,
            server,
            limit: SECRET_SIZE_LIMIT,
        }
    }

    /// The registry Secret of the cluster `access` names (`--kubeconfig`, `--context`).
    pub fn connect(access: &Access) -> Result<Self, VpnError> {
        let config = on_private_runtime(|| async {
            access.config().await.map_err(|e| VpnError::Cluster {
                message: e.to_string(),
            })
        })?;
        Ok(Self::new(config))
    }

    /// Lowers the size limit of the Secret's data (the API server's is [`SECRET_SIZE_LIMIT`]).
    pub fn with_size_limit(mut self, bytes: usize) -> Self {
        self.limit = bytes;
        self
    }

    /// `Secret harmony-system/harmony-vpn-registry on https://api...`, for messages.
    pub fn describe(&self) -> String {
        format!("Secret {} on {}", secret_path(REGISTRY_SECRET), self.server)
    }

    /// The name of archive Secret `index` (from 1).
    pub fn archive_name(index: u64) -> String {
        format!("{REGISTRY_SECRET}-audit-{index}")
    }

    /// Reads the registry (empty when the Secret does not exist yet); refuses a corrupted one.
    pub fn load(&self, pool: AddressPool) -> Result<Registry, VpnError> {
        with_client(&self.config, |client| async move {
            let secrets = Secrets::new(client, REGISTRY_NAMESPACE, &self.server);
            Ok(decode(secrets.get(REGISTRY_SECRET).await?, pool)?.registry)
        })
    }

    /// Runs `change` on the current registry. When it returns audit events, the registry and the
    /// audit log are written in one request guarded by the `resourceVersion` read; when another
    /// writer was first, the registry is read again and `change` run again. When `change` fails,
    /// nothing is written.
    pub fn update<R: Send>(
        &self,
        pool: AddressPool,
        mut change: impl FnMut(&mut Registry, Timestamp) -> Result<(R, Vec<AuditEvent>), VpnError>
        + Send,
    ) -> Result<R, VpnError> {
        with_client(&self.config, |client| async move {
            let secrets = Secrets::new(client, REGISTRY_NAMESPACE, &self.server);
            for _ in 0..MAX_ATTEMPTS {
                let mut live = decode(secrets.get(REGISTRY_SECRET).await?, pool)?;
                let (result, events) = change(&mut live.registry, Timestamp::now())?;
                if events.is_empty() {
                    return Ok(result);
                }
                if let Written::Stored = self.write(&secrets, live, &events).await? {
                    return Ok(result);
                }
            }
            Err(VpnError::Contended {
                store: self.describe(),
                attempts: MAX_ATTEMPTS,
            })
        })
    }

    /// Writes the changed registry and the audit log with `events` appended, archiving old audit
    /// lines first when the Secret would outgrow the limit.
    async fn write(
        &self,
        secrets: &Secrets,
        live: Live,
        events: &[AuditEvent],
    ) -> Result<Written, VpnError> {
        let registry = live.registry.to_json();
        let mut audit = live.audit;
        audit.extend(audit_lines(events));
        let mut archived = 0;
        let mut archives = live.archives;
        loop {
            let rest = &audit[archived..];
            let bounded = audit::bound(registry.len(), rest, self.limit).ok_or(
                VpnError::RegistryTooLarge {
                    store: self.describe(),
                    bytes: registry.len(),
                    limit: self.limit,
                },
            )?;
            let Some(chunk) = bounded.archived.first() else {
                break;
            };
            archives += 1;
            match self.archive(secrets, archives, chunk, rest).await? {
                Some(len) => archived += len,
                None => return Ok(Written::Stale),
            }
        }
        let mut secret = live.secret.unwrap_or_else(|| Secret {
            metadata: managed_meta(REGISTRY_SECRET, Some(REGISTRY_NAMESPACE)),
            type_: Some("Opaque".into()),
            ..Secret::default()
        });
        secret
            .metadata
            .annotations
            .get_or_insert_default()
            .insert(ARCHIVES_ANNOTATION.into(), archives.to_string());
        secret.data = Some(BTreeMap::from([
            (REGISTRY_KEY.to_string(), ByteString(registry)),
            (
                AUDIT_KEY.to_string(),
                ByteString(audit[archived..].to_vec()),
            ),
        ]));
        if secret.metadata.resource_version.is_some() {
            secrets.replace(&secret).await
        } else {
            secrets.create(&secret).await
        }
    }

    /// Creates archive `index` holding `chunk`, the oldest lines of `rest`. Archives are never
    /// changed: when one already exists (left by a writer that lost a race or crashed before
    /// updating the registry Secret), it is used when it holds the oldest lines of `rest`. Returns
    /// how many bytes of `rest` are archived, or `None` when the registry changed meanwhile.
    async fn archive(
        &self,
        secrets: &Secrets,
        index: u64,
        chunk: &[u8],
        rest: &[u8],
    ) -> Result<Option<usize>, VpnError> {
        let name = Self::archive_name(index);
        let secret = Secret {
            metadata: managed_meta(&name, Some(REGISTRY_NAMESPACE)),
            type_: Some("Opaque".into()),
            immutable: Some(true),
            data: Some(BTreeMap::from([(
                AUDIT_KEY.to_string(),
                ByteString(chunk.to_vec()),
            )])),
            ..Secret::default()
        };
        if let Written::Stored = secrets.create(&secret).await? {
            return Ok(Some(chunk.len()));
        }
        let existing = secrets
            .get(&name)
            .await?
            .and_then(|s| s.data)
            .and_then(|mut d| d.remove(AUDIT_KEY))
            .map(|b| b.0)
            .unwrap_or_default();
        Ok((!existing.is_empty() && rest.starts_with(&existing)).then_some(existing.len()))
    }
}

fn secret_path(name: &str) -> String {
    format!("{REGISTRY_NAMESPACE}/{name}")
}

/// Reads the registry Secret (`None`: not created yet); refuses what cannot be trusted.
fn decode(secret: Option<Secret>, pool: AddressPool) -> Result<Live, VpnError> {
    let Some(secret) = secret else {
        return Ok(Live {
            registry: Registry::empty(pool),
            audit: Vec::new(),
            archives: 0,
            secret: None,
        });
    };
    let corrupted = |detail: String| VpnError::CorruptedSecret {
        secret: secret_path(REGISTRY_SECRET),
        detail,
    };
    let data = secret.data.clone().unwrap_or_default();
    let registry = data
        .get(REGISTRY_KEY)
        .ok_or_else(|| corrupted(format!("it has no `{REGISTRY_KEY}` key")))?;
    let registry = Registry::parse(&registry.0, pool)
        .map_err(|detail| corrupted(format!("`{REGISTRY_KEY}`: {detail}")))?;
    let archives = match secret
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(ARCHIVES_ANNOTATION))
    {
        None => 0,
        Some(count) => count.parse().map_err(|_| {
            corrupted(format!(
                "annotation {ARCHIVES_ANNOTATION}: {count:?} is not a count"
            ))
        })?,
    };
    Ok(Live {
        registry,
        audit: data.get(AUDIT_KEY).map(|b| b.0.clone()).unwrap_or_default(),
        archives,
        secret: Some(secret),
    })
}
