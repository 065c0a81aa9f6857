//! Errors of this crate. Each says what was wrong and how to fix it; none contains a secret.

use std::path::PathBuf;

use harmony::private_file::FileError;

use crate::keys::{KeyError, PublicKey};

/// Why a VPN operation was refused or failed. A refusal changes nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VpnError {
    /// A key given on the command line or in a file is not a WireGuard key.
    #[error(
        "{field}: the key {reason}; generate one with `wg genkey | wg pubkey` (or `wg genpsk`)"
    )]
    InvalidKey {
        /// Where the key came from, such as `--public-key`.
        field: String,
        /// What is wrong with it.
        reason: KeyError,
    },
    /// A request field is invalid.
    #[error("{field}: {value:?} {fix}")]
    InvalidField {
        /// The field or flag.
        field: String,
        /// The value given.
        value: String,
        /// What is wrong and how to fix it.
        fix: String,
    },
    /// The tenant is in no tenant file.
    #[error(
        "--tenant: tenant {tenant:?} is not in the tenant files (known: {known}); check the name or pass its file with -f"
    )]
    UnknownTenant {
        /// The tenant asked for.
        tenant: String,
        /// Known tenants, comma-separated.
        known: String,
    },
    /// The member is not in its tenant's file.
    #[error(
        "--member: {member:?} is not a member of tenant {tenant:?} (members: {known}); add it to the tenant file first"
    )]
    UnknownMember {
        /// The tenant.
        tenant: String,
        /// The member asked for.
        member: String,
        /// The tenant's members, comma-separated.
        known: String,
    },
    /// The member already has an active peer.
    #[error(
        "{tenant}/{member} already has an active peer ({public_key}); use `harmony vpn peer rotate` for a new key, or revoke it first"
    )]
    AlreadyIssued {
        /// The tenant.
        tenant: String,
        /// The member.
        member: String,
        /// The active peer's key.
        public_key: PublicKey,
    },
    /// The member has no active peer.
    #[error("{tenant}/{member} has no active peer; issue one with `harmony vpn peer add`")]
    NoActivePeer {
        /// The tenant.
        tenant: String,
        /// The member.
        member: String,
    },
    /// The public key is already registered (keys are never reused, even after revocation).
    #[error(
        "--public-key: {public_key} is already registered for {owner}; every peer needs its own key pair: generate a new one with `wg genkey | wg pubkey`"
    )]
    DuplicatePublicKey {
        /// The key.
        public_key: PublicKey,
        /// `tenant/member` holding it, with `(revoked)` when revoked.
        owner: String,
    },
    /// Every address of the pool is held by an active peer.
    #[error(
        "spec.addressPool.ipv4: all {capacity} addresses of {pool} are held by active peers; revoke unused peers or widen the pool"
    )]
    PoolExhausted {
        /// The pool.
        pool: String,
        /// Its capacity.
        capacity: u32,
    },
    /// The registry file cannot be trusted; nothing was changed.
    #[error("{} is corrupted ({detail}); harmony refuses to use it so that no issued peer is lost, and changed nothing. To recover: compare it with {} (the previous version) and copy that over it if it is sound, then re-apply the entries of audit.log written after it; or restore the file from backup", path.display(), path.with_extension("json.bak").display())]
    Corrupted {
        /// The registry file.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
    },
    /// The registry Secret cannot be trusted; nothing was changed.
    #[error(
        "Secret {secret} is corrupted ({detail}); harmony refuses to use it so that no issued peer is lost, and changed nothing. To recover: save it first (`kubectl get secret -n harmony-system harmony-vpn-registry -o yaml > vpn-registry-backup.yaml`); then restore the Secret from a backup of the cluster, or decode registry.json (`kubectl get secret -n harmony-system harmony-vpn-registry -o jsonpath='{{.data.registry\\.json}}' | base64 -d > registry.json`), repair it with the audit log (key audit.log, then the Secrets harmony-vpn-registry-audit-N, newest N first), encode it back into the saved YAML and `kubectl replace -f` it"
    )]
    CorruptedSecret {
        /// `namespace/name` of the Secret.
        secret: String,
        /// What is wrong with it.
        detail: String,
    },
    /// The registry alone would outgrow the Secret size limit; nothing was changed.
    #[error(
        "{store}: the registry would take {bytes} bytes, over the {limit}-byte limit of a Secret's data; nothing was changed. Move it to the file registry: `kubectl get secret -n harmony-system harmony-vpn-registry -o jsonpath='{{.data.registry\\.json}}' | base64 -d > DIR/registry.json` (mode 0600), then use `--registry file --state DIR`"
    )]
    RegistryTooLarge {
        /// The Secret, as `Secret ns/name on server`.
        store: String,
        /// The registry's size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// Other writers changed the registry at every attempt; nothing was changed.
    #[error(
        "{store}: other writers changed the registry at each of {attempts} attempts (409 Conflict), so nothing was changed; run again"
    )]
    Contended {
        /// The Secret, as `Secret ns/name on server`.
        store: String,
        /// Attempts made.
        attempts: u32,
    },
    /// A request to the cluster holding the registry failed (the message names the request, the
    /// server and the fix).
    #[error("{message}")]
    Cluster {
        /// The explanation.
        message: String,
    },
    /// The gateway file's server key does not match the key in the state dir.
    #[error("spec.serverPublicKey: {in_file} does not match the key harmony generated in {} ({generated}); remove the field, or move that file away if the key in the gateway file is the one in use", state_key.display())]
    ServerKeyMismatch {
        /// The key in the gateway file.
        in_file: PublicKey,
        /// The key in the state dir.
        generated: PublicKey,
        /// The server key file.
        state_key: PathBuf,
    },
    /// Reading or writing a file failed.
    #[error(transparent)]
    Io(#[from] FileError),
}
