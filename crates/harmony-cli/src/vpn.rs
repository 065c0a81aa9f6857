//! `harmony vpn ...`: WireGuard peers for tenant members (see the harmony-vpn crate).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use harmony_tenant::{ClusterFacts, ClusterFlavor};
use harmony_vpn::files::{create_private, replace_private};
use harmony_vpn::keys::PublicKey;
use harmony_vpn::{
    KnownMembers, PeerRecord, PeerRequest, PresharedKeyChoice, VpnError, VpnGateway,
    VpnGatewayConfig, WireGuardGateway, terminal_qr,
};

/// VPN access: the API server and console are reachable only through WireGuard.
#[derive(Args)]
pub struct VpnArgs {
    /// The VpnGateway file.
    #[arg(long, global = true, default_value = "vpn-gateway.yaml")]
    gateway: PathBuf,
    /// The registry dir (peers, audit log, server key).
    #[arg(long, global = true, default_value = ".harmony/vpn")]
    state: PathBuf,
    #[command(subcommand)]
    command: VpnCommand,
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
    let gateway = VpnGatewayConfig::load(&args.gateway)?;
    let vpn = WireGuardGateway::open(gateway, &args.state)?;
    match args.command {
        VpnCommand::Peer(PeerCommand::Add(issue)) => issue_peer(&vpn, issue, false),
        VpnCommand::Peer(PeerCommand::Rotate(issue)) => issue_peer(&vpn, issue, true),
        VpnCommand::Peer(PeerCommand::List {
            tenant,
            all,
            output,
        }) => {
            let peers: Vec<PeerRecord> = vpn
                .peers()?
                .into_iter()
                .filter(|p| all || p.is_active())
                .filter(|p| tenant.as_ref().is_none_or(|t| &p.tenant == t))
                .collect();
            print_peers(&peers, output)
        }
        VpnCommand::Peer(PeerCommand::Show {
            tenant,
            member,
            output,
        }) => {
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
        VpnCommand::Peer(PeerCommand::Revoke { tenant, member, by }) => {
            let peer = vpn.revoke_peer(&tenant, &member, &by)?;
            println!(
                "revoked {tenant}/{member} ({}, {})",
                peer.address.ipv4, peer.public_key
            );
            print_apply_hint(&vpn);
            Ok(ExitCode::SUCCESS)
        }
        VpnCommand::Peer(PeerCommand::Prune { files, by }) => {
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
                print_apply_hint(&vpn);
            }
            Ok(ExitCode::SUCCESS)
        }
        VpnCommand::ServerConfig { peer_set, out } => {
            let config = if peer_set {
                vpn.peer_set()?
            } else {
                vpn.server_config()?
            };
            write_replacing(out.as_deref(), config.expose())
        }
        VpnCommand::Nft { out } => write_replacing(out.as_deref(), &vpn.nftables()?),
    }
}

/// `(tenant, member)` pairs of the tenant files.
fn known_members(files: &[PathBuf]) -> anyhow::Result<KnownMembers> {
    let facts = ClusterFacts::for_flavor(ClusterFlavor::default());
    let tenants = crate::input::load_tenants(files, &facts)?;
    let mut known = KnownMembers::default();
    for tenant in &tenants {
        known.add_tenant(&tenant.tenant_config.name);
        for member in &tenant.rbac_config.members {
            known.add_member(&tenant.tenant_config.name, &member.name);
        }
    }
    Ok(known)
}

fn issue_peer(vpn: &WireGuardGateway, args: IssueArgs, rotate: bool) -> anyhow::Result<ExitCode> {
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
    print_apply_hint(vpn);
    Ok(ExitCode::SUCCESS)
}

fn print_apply_hint(vpn: &WireGuardGateway) {
    eprintln!(
        "apply on the gateway: harmony vpn server-config --peer-set --out peers.conf && wg syncconf {0} peers.conf; harmony vpn nft --out vpn.nft && nft -f vpn.nft",
        vpn.gateway().interface_name
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
