//! `harmony vpn ...`: WireGuard peers for tenant members (see the harmony-vpn crate).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use harmony::private_file::{create_private, replace_private};
use harmony_kube::Access;
use harmony_tenant::{ClusterFacts, ClusterFlavor, ExternalAccess, RevokeMode, RevokedAccess};
use harmony_vpn::keys::PublicKey;
use harmony_vpn::{
    Gateway, KnownMembers, PeerRecord, PeerRequest, PeerRevoker, PresharedKeyChoice,
    RegistryBackend, RegistryStore, SecretStore, VpnError, VpnGateway, WireGuardGateway,
    terminal_qr,
};

use crate::vpn_sessions::{ConnectionsArgs, WatchArgs, connections_command, watch};

/// VPN access: the API server and console are reachable only through WireGuard.
#[derive(Args)]
pub struct VpnArgs {
    /// The VpnGateway file.
    #[arg(long, global = true, default_value = "vpn-gateway.yaml")]
    gateway: PathBuf,
    /// The state dir: the server key, and the file registry (peers, audit log).
    #[arg(long, global = true, default_value = ".harmony/vpn")]
    state: PathBuf,
    /// Where the peer registry lives: `file` (in --state) or `cluster` (the Secret
    /// harmony-vpn-registry in namespace harmony-system, through --kubeconfig/--context).
    #[arg(long, global = true, value_enum, default_value_t = RegistryKind::File)]
    registry: RegistryKind,
    /// With --registry cluster: the kubeconfig file (default: KUBECONFIG, ~/.kube/config, else
    /// the in-cluster account).
    #[arg(long, global = true, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
    /// With --registry cluster: the kubeconfig context (default: its current context).
    #[arg(long, global = true, value_name = "NAME")]
    context: Option<String>,
    #[command(subcommand)]
    command: VpnCommand,
}

/// Where the peer registry lives.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RegistryKind {
    /// `registry.json` and `audit.log` in the state dir, under a file lock.
    File,
    /// The Secret `harmony-vpn-registry` in `harmony-system` of a live cluster.
    Cluster,
}

/// Opens the gateway with its registry; the server key stays in `state` (never in the cluster).
fn open_gateway(
    gateway: &Path,
    state: &Path,
    registry: RegistryKind,
    access: &Access,
) -> anyhow::Result<WireGuardGateway> {
    let gateway = crate::input::load_gateway(gateway)?;
    let backend = registry_backend(registry, Some(state), access)?;
    Ok(WireGuardGateway::with_backend(gateway, backend, state)?)
}

/// The registry `registry` names: the file one in `state`, or the Secret of the cluster `access`
/// reaches (which needs no state dir).
fn registry_backend(
    registry: RegistryKind,
    state: Option<&Path>,
    access: &Access,
) -> anyhow::Result<RegistryBackend> {
    Ok(match (registry, state) {
        (RegistryKind::File, Some(state)) => RegistryBackend::File(RegistryStore::new(state)),
        (RegistryKind::File, None) => bail!(
            "--vpn-gateway: also give --vpn-state DIR (the VPN state dir holding the registry), \
             or --vpn-registry cluster; nothing was changed"
        ),
        (RegistryKind::Cluster, _) => {
            RegistryBackend::Cluster(Box::new(SecretStore::connect(access)?))
        }
    })
}

/// The `harmony vpn` flags that reach the same registry, for the commands we print.
fn registry_flags(gateway: &Path, state: &Path, registry: RegistryKind, access: &Access) -> String {
    let mut flags = format!(
        "--gateway {} --state {}",
        gateway.display(),
        state.display()
    );
    if registry == RegistryKind::Cluster {
        flags.push_str(" --registry cluster");
        if let Some(kubeconfig) = &access.kubeconfig {
            flags.push_str(&format!(" --kubeconfig {}", kubeconfig.display()));
        }
        if let Some(context) = &access.context {
            flags.push_str(&format!(" --context {context}"));
        }
    }
    flags
}

#[derive(Subcommand)]
enum VpnCommand {
    /// Member peers: add, list, show, revoke, rotate, prune.
    #[command(subcommand)]
    Peer(PeerCommand),
    /// The server's wg-quick config (holds the server private key: written 0600).
    ServerConfig {
        /// Write the `wg syncconf` peer set instead of the wg-quick config.
        #[arg(long)]
        peer_set: bool,
        /// Output file (replaced atomically, 0600); `-` or unset for stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Who is connected: each key of the gateway's `wg show <interface> dump` with its tenant
    /// and member, handshake, endpoint and bytes (exit 1 when a key is not an active peer).
    Connections(ConnectionsArgs),
    /// Samples the gateway's peers and appends each session (connected at, from, until, bytes)
    /// to a log of JSON lines.
    Watch(WatchArgs),
    /// nftables rules letting each VPN address reach only the reachable addresses and ports.
    Nft {
        /// Output file; `-` or unset for stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum PeerCommand {
    /// Issues a peer for a member.
    Add(IssueArgs),
    /// Gives a member's peer a new key; the address is kept, the old key revoked.
    Rotate(IssueArgs),
    /// Lists peers.
    List {
        /// Only this tenant.
        #[arg(long)]
        tenant: Option<String>,
        /// Include revoked peers.
        #[arg(long)]
        all: bool,
        /// Output format.
        #[arg(short = 'o', long, value_enum, default_value_t = Format::Text)]
        output: Format,
    },
    /// Shows a member's peers (active and revoked).
    Show {
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// The member.
        #[arg(long)]
        member: String,
        /// Output format.
        #[arg(short = 'o', long, value_enum, default_value_t = Format::Text)]
        output: Format,
    },
    /// Revokes a member's active peer.
    Revoke {
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// The member.
        #[arg(long)]
        member: String,
        /// Who revokes (default: $USER, else $LOGNAME, else the uid).
        #[arg(long, default_value_t = crate::operator::operator())]
        by: String,
    },
    /// Revokes the peers of tenants and members no longer in the tenant files.
    Prune {
        /// Tenant files or folders.
        #[arg(short = 'f', long = "filename", required = true)]
        files: Vec<PathBuf>,
        /// Who revokes (default: $USER, else $LOGNAME, else the uid).
        #[arg(long, default_value_t = crate::operator::operator())]
        by: String,
    },
}

#[derive(Args)]
struct IssueArgs {
    /// Tenant files or folders (the member must be in them).
    #[arg(short = 'f', long = "filename", required = true)]
    files: Vec<PathBuf>,
    /// The tenant.
    #[arg(long)]
    tenant: String,
    /// The member.
    #[arg(long)]
    member: String,
    /// The member's own public key (preferred: their private key never leaves their machine).
    #[arg(long)]
    public_key: Option<String>,
    /// Add a generated preshared key.
    #[arg(long)]
    preshared_key: bool,
    /// Client config file (created 0600, never overwritten); `-` for stdout.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also print the client config as a QR code.
    #[arg(long)]
    qr: bool,
    /// Who issues (default: $USER, else $LOGNAME, else the uid).
    #[arg(long, default_value_t = crate::operator::operator())]
    by: String,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
    Yaml,
}

/// Runs `harmony vpn ...`.
pub fn run(args: VpnArgs) -> anyhow::Result<ExitCode> {
    let access = Access {
        kubeconfig: args.kubeconfig,
        context: args.context,
    };
    if args.registry == RegistryKind::File
        && (access.kubeconfig.is_some() || access.context.is_some())
    {
        bail!(
            "--kubeconfig/--context: only used with --registry cluster (the registry is the file \
             in {}); add --registry cluster, or drop them",
            args.state.display()
        );
    }
    let flags = registry_flags(&args.gateway, &args.state, args.registry, &access);
    let open = || open_gateway(&args.gateway, &args.state, args.registry, &access);
    match args.command {
        VpnCommand::Peer(command) => peer(&open()?, command, &flags),
        VpnCommand::ServerConfig { peer_set, out } => {
            let vpn = open()?;
            let config = if peer_set {
                vpn.peer_set()?
            } else {
                vpn.server_config()?
            };
            write_replacing(out.as_deref(), config.expose())
        }
        VpnCommand::Nft { out } => write_replacing(out.as_deref(), &open()?.nftables()?),
        VpnCommand::Connections(list) => Ok(
            match peers_registry(&args.gateway, &args.state, args.registry, &access) {
                Ok((gateway, backend)) => connections_command(list, &gateway, &backend, &flags),
                Err(error) => {
                    eprintln!("error: {error:#}");
                    ExitCode::from(2)
                }
            },
        ),
        VpnCommand::Watch(watching) => {
            let (gateway, backend) =
                peers_registry(&args.gateway, &args.state, args.registry, &access)?;
            watch(watching, &gateway, &backend)
        }
    }
}

/// Runs `harmony vpn peer ...` on the opened gateway.
fn peer(vpn: &WireGuardGateway, command: PeerCommand, flags: &str) -> anyhow::Result<ExitCode> {
    match command {
        PeerCommand::Add(issue) => issue_peer(vpn, issue, false, flags),
        PeerCommand::Rotate(issue) => issue_peer(vpn, issue, true, flags),
        PeerCommand::List {
            tenant,
            all,
            output,
        } => {
            let peers: Vec<PeerRecord> = vpn
                .peers()?
                .into_iter()
                .filter(|p| all || p.is_active())
                .filter(|p| tenant.as_ref().is_none_or(|t| &p.tenant == t))
                .collect();
            print_peers(&peers, output)
        }
        PeerCommand::Show {
            tenant,
            member,
            output,
        } => {
            let peers: Vec<PeerRecord> = vpn
                .peers()?
                .into_iter()
                .filter(|p| p.tenant == tenant && p.member == member)
                .collect();
            if peers.is_empty() {
                bail!("{tenant}/{member} has no peer; issue one with `harmony vpn peer add`");
            }
            print_peers(&peers, output)
        }
        PeerCommand::Revoke { tenant, member, by } => {
            let peer = vpn.revoke_peer(&tenant, &member, &by)?;
            println!(
                "revoked {tenant}/{member} ({}, {})",
                peer.address.ipv4, peer.public_key
            );
            print_apply_hint(&vpn.gateway().interface_name, flags);
            Ok(ExitCode::SUCCESS)
        }
        PeerCommand::Prune { files, by } => {
            let revoked = vpn.revoke_missing(&known_members(&files)?, &by)?;
            for peer in &revoked {
                println!(
                    "revoked {}/{} ({})",
                    peer.tenant, peer.member, peer.address.ipv4
                );
            }
            if revoked.is_empty() {
                println!(
                    "every active peer belongs to a member in the tenant files; nothing revoked"
                );
            } else {
                print_apply_hint(&vpn.gateway().interface_name, flags);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The gateway and its registry, for commands that only read who holds which key: no server key
/// is needed or made. A file registry must exist (an empty one would call every key unknown).
fn peers_registry(
    gateway: &Path,
    state: &Path,
    registry: RegistryKind,
    access: &Access,
) -> anyhow::Result<(Gateway, RegistryBackend)> {
    let gateway = crate::input::load_gateway(gateway)?;
    let backend = registry_backend(registry, Some(state), access)?;
    if let RegistryBackend::File(store) = &backend
        && !store.registry_path().exists()
    {
        bail!(
            "--state {}: no peer registry there ({} is missing); give the state dir peers were \
             issued in, or --registry cluster",
            state.display(),
            store.registry_path().display()
        );
    }
    Ok((gateway, backend))
}

/// `(tenant, member)` pairs of the tenant files.
fn known_members(files: &[PathBuf]) -> anyhow::Result<KnownMembers> {
    let facts = ClusterFacts::for_flavor(ClusterFlavor::default());
    Ok(KnownMembers::of(&crate::input::load_tenants(
        files, &facts,
    )?))
}

/// VPN flags of `harmony tenant apply | plan | delete` and `harmony operator run`: revoke peers
/// before access is removed.
#[derive(Args)]
pub struct TenantVpnArgs {
    /// The VpnGateway file: revoke the VPN peers of removed tenants and members first.
    #[arg(long = "vpn-gateway", value_name = "FILE")]
    vpn_gateway: Option<PathBuf>,
    /// The VPN state dir: the server key, and the file registry unless --vpn-registry cluster.
    #[arg(long = "vpn-state", value_name = "DIR")]
    vpn_state: Option<PathBuf>,
    /// Where the peer registry lives; `cluster`: the Secret harmony-system/harmony-vpn-registry
    /// of the cluster this command reaches.
    #[arg(long = "vpn-registry", value_enum, value_name = "KIND")]
    vpn_registry: Option<RegistryKind>,
}

impl TenantVpnArgs {
    /// The gateway file and registry the flags name, or `None` without VPN flags.
    fn named(&self) -> anyhow::Result<Option<(&Path, RegistryKind)>> {
        match &self.vpn_gateway {
            Some(gateway) => Ok(Some((
                gateway,
                self.vpn_registry.unwrap_or(RegistryKind::File),
            ))),
            None if self.vpn_state.is_some() || self.vpn_registry.is_some() => bail!(
                "--vpn-state/--vpn-registry: need --vpn-gateway FILE (the VpnGateway file) to \
                 revoke VPN peers; nothing was changed"
            ),
            None => Ok(None),
        }
    }

    /// For the tenant commands: the peers the flags name, or `None` without VPN flags. The state
    /// dir is needed even with the cluster registry, for the printed gateway sync command (the
    /// server key is there). Incomplete flags are refused before anything is written.
    pub fn open(&self, access: &Access) -> anyhow::Result<Option<TenantVpn>> {
        let Some((gateway, registry)) = self.named()? else {
            return Ok(None);
        };
        let Some(state) = &self.vpn_state else {
            bail!(
                "--vpn-gateway: also give --vpn-state DIR (the VPN state dir: server key{}); \
                 nothing was changed",
                if registry == RegistryKind::File {
                    " and registry"
                } else {
                    ""
                }
            );
        };
        let revoker = PeerRevoker::new(
            crate::input::load_gateway(gateway)?,
            registry_backend(registry, Some(state), access)?,
            &crate::operator::operator(),
        )?;
        Ok(Some(TenantVpn {
            revoker,
            flags: registry_flags(gateway, state, registry, access),
        }))
    }

    /// For `harmony operator run`: the peers the flags name, revoked as `by`, or `None` without
    /// VPN flags. Revoking needs no server key, so the cluster registry needs no state dir.
    pub fn revoker(&self, access: &Access, by: &str) -> anyhow::Result<Option<PeerRevoker>> {
        let Some((gateway, registry)) = self.named()? else {
            return Ok(None);
        };
        let revoker = PeerRevoker::new(
            crate::input::load_gateway(gateway)?,
            registry_backend(registry, self.vpn_state.as_deref(), access)?,
            by,
        )?;
        Ok(Some(revoker))
    }
}

/// The VPN peers of the tenant commands, with the `harmony vpn` flags reaching their registry.
pub struct TenantVpn {
    revoker: PeerRevoker,
    flags: String,
}

impl TenantVpn {
    /// The peers, as access held outside the cluster.
    pub fn access(&self) -> &dyn ExternalAccess {
        &self.revoker
    }
}

/// Says which VPN peers were revoked (or would be) and, after a revocation, how to sync the
/// gateway; without VPN flags, that peers were left alone.
pub fn print_revoked(
    vpn: Option<&TenantVpn>,
    revoked: &[RevokedAccess],
    reason: &str,
    mode: RevokeMode,
) {
    let Some(vpn) = vpn else {
        eprintln!(
            "VPN peers: unchanged (no --vpn-gateway); revoke them with `harmony vpn peer prune`"
        );
        return;
    };
    let verb = match mode {
        RevokeMode::Revoke => "revoked",
        RevokeMode::DryRun => "would revoke",
    };
    for access in revoked {
        eprintln!(
            "{} {verb}: {}/{} ({}) in {}",
            access.kind, access.tenant, access.member, access.detail, access.location
        );
    }
    if revoked.is_empty() {
        eprintln!("VPN peers: none to revoke ({reason})");
    } else if mode == RevokeMode::Revoke {
        print_apply_hint(&vpn.revoker.gateway().interface_name, &vpn.flags);
    }
}

fn issue_peer(
    vpn: &WireGuardGateway,
    args: IssueArgs,
    rotate: bool,
    flags: &str,
) -> anyhow::Result<ExitCode> {
    let public_key = args
        .public_key
        .as_deref()
        .map(|k| {
            k.parse::<PublicKey>()
                .map_err(|reason| VpnError::InvalidKey {
                    field: "--public-key".into(),
                    reason,
                })
        })
        .transpose()?;
    if public_key.is_none() && args.out.is_none() && !args.qr {
        bail!(
            "--out: required when harmony generates the key pair (the private key is shown once): \
             give --out FILE (written 0600), --out - for stdout, --qr, or the member's --public-key"
        );
    }
    let known = known_members(&args.files)?;
    // Create the output file before issuing, so that an unwritable path changes nothing.
    let out_file = match args.out.as_deref() {
        Some(path) if path != Path::new("-") => Some((path, create_private(path)?)),
        _ => None,
    };
    let request = PeerRequest {
        tenant: args.tenant,
        member: args.member,
        public_key,
        preshared_key: if args.preshared_key {
            PresharedKeyChoice::Generate
        } else {
            PresharedKeyChoice::None
        },
        by: args.by,
    };
    let result = if rotate {
        vpn.rotate_peer(&known, request)
    } else {
        vpn.issue_peer(&known, request)
    };
    let issued = match result {
        Ok(issued) => issued,
        Err(error) => {
            if let Some((path, _)) = &out_file {
                let _ = std::fs::remove_file(path);
            }
            return Err(error.into());
        }
    };
    let config = issued.client_config.expose();
    match out_file {
        Some((path, mut file)) => {
            file.write_all(config.as_bytes())
                .and_then(|()| file.sync_all())
                .with_context(|| format!("writing {}", path.display()))?;
            eprintln!("client config written to {} (0600)", path.display());
        }
        None if args.out.is_some() => print!("{config}"),
        None => {}
    }
    if args.qr {
        println!("{}", terminal_qr(&issued.client_config)?);
    }
    let r = &issued.record;
    eprintln!(
        "{} {}/{}: {} {}",
        if rotate { "rotated" } else { "issued" },
        r.tenant,
        r.member,
        r.address.ipv4,
        r.public_key
    );
    print_apply_hint(&vpn.gateway().interface_name, flags);
    Ok(ExitCode::SUCCESS)
}

fn print_apply_hint(interface: &str, flags: &str) {
    eprintln!(
        "apply on the gateway: harmony vpn {flags} server-config --peer-set --out peers.conf && wg syncconf {interface} peers.conf; harmony vpn {flags} nft --out vpn.nft && nft -f vpn.nft"
    );
}

fn print_peers(peers: &[PeerRecord], format: Format) -> anyhow::Result<ExitCode> {
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(peers)?),
        Format::Yaml => print!("{}", serde_saphyr::to_string(&peers)?),
        Format::Text => {
            println!("TENANT\tMEMBER\tADDRESS\tPUBLIC KEY\tSTATE\tISSUED\tBY");
            for p in peers {
                let state = match &p.revoked {
                    None => "active".to_string(),
                    Some(r) => format!("{} {} by {}", r.reason, r.at, r.by),
                };
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    p.tenant,
                    p.member,
                    p.address.ipv4,
                    p.public_key,
                    state,
                    p.issued_at,
                    p.issued_by
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes `text` to `out` (atomically, 0600) or to stdout.
fn write_replacing(out: Option<&Path>, text: &str) -> anyhow::Result<ExitCode> {
    match out {
        Some(path) if path != Path::new("-") => {
            replace_private(path, text.as_bytes(), None)?;
            eprintln!("written to {} (0600)", path.display());
        }
        _ => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}
