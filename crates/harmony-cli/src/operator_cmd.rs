//! `harmony operator`: render what a cluster needs to run the operator, or run it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Subcommand};
use harmony_manifests::{GENERATED, Manifest, folder_files, write_folder};
use harmony_operator::install::{
    IdentityProviderFile, InstallFiles, InstallObject, InstallOptions, VpnGatewayFile,
    manifests_with,
};
use harmony_operator::lease::LeaseSettings;
use harmony_operator::{Settings, run};
use harmony_tenant::ExternalAccess;
use ipnet::IpNet;
use serde::{Serialize, Serializer};

use crate::input::{Refused, load_identity_provider};
use crate::live::{ClusterArgs, runtime};
use crate::vpn::TenantVpnArgs;

/// Who revokes VPN peers, in the registry and its audit log.
const OPERATOR: &str = "harmony-operator";

/// Tenants as custom resources, reconciled continuously.
#[derive(Args)]
pub struct OperatorArgs {
    #[command(subcommand)]
    command: OperatorCommand,
}

#[derive(Subcommand)]
enum OperatorCommand {
    /// Write the CRD, the harmony-system namespace, the operator's ServiceAccount, ClusterRole and
    /// binding, a Deployment of two replicas and a PodDisruptionBudget to DIR (with
    /// --vpn-gateway, also the gateway's ConfigMap and a Role on the VPN registry Secret; with
    /// --idp, the identity provider's ConfigMap).
    Install {
        /// The folder to write (a kustomization); it may hold only what harmony wrote.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// The container image holding the `harmony` binary.
        #[arg(long, value_name = "IMAGE")]
        image: String,
        /// The pod network(s) `operator run` is given, when the cluster is not OKD.
        #[arg(long = "pod-network", value_name = "CIDR")]
        pod_networks: Vec<IpNet>,
        /// The service network(s) `operator run` is given, when the cluster is not OKD.
        #[arg(long = "service-network", value_name = "CIDR")]
        service_networks: Vec<IpNet>,
        /// The node network(s) `operator run` is given (default: every private range).
        #[arg(long = "node-network", value_name = "CIDR")]
        node_networks: Vec<IpNet>,
        /// Velero's namespace (`openshift-adp` under OADP): the operator gets a Role there to
        /// write tenants' backup Schedules, and no other right on Velero's objects.
        #[arg(
            long = "velero-namespace",
            value_name = "NAMESPACE",
            default_value = "velero"
        )]
        velero_namespace: String,
        /// The VpnGateway file: the operator revokes the VPN peers of deleted Tenants and of
        /// members removed from a Tenant in the cluster registry (the Secret harmony-system/harmony-vpn-registry, which it may then read and
        /// update; it may also create Secrets in harmony-system, for the registry's audit archives).
        #[arg(long = "vpn-gateway", value_name = "FILE")]
        vpn_gateway: Option<PathBuf>,
        /// The IdentityProvider file of the Tenants' `oidc` members: rendered as the ConfigMap
        /// harmony-system/harmony-identity-provider, mounted, and given to `operator run --idp`.
        #[arg(long, value_name = "FILE")]
        idp: Option<PathBuf>,
    },
    /// Run the controller until SIGINT or SIGTERM (`RUST_LOG=info` logs each reconcile).
    Run {
        #[command(flatten)]
        cluster: ClusterArgs,
        /// At most this many Tenants reconciled at once.
        #[arg(long, default_value_t = harmony_operator::DEFAULT_CONCURRENCY, value_parser = clap::value_parser!(u16).range(1..))]
        concurrency: u16,
        /// Reconcile only while holding the Lease `harmony-operator` in this namespace (several
        /// replicas, one active; the identity is POD_NAME, else the host name and process id).
        #[arg(long, value_name = "NAMESPACE")]
        lease_namespace: Option<String>,
        /// Serve `/metrics`, `/healthz` and `/readyz` on this address, such as `127.0.0.1:8080`.
        #[arg(long, value_name = "ADDRESS")]
        metrics_address: Option<SocketAddr>,
        /// VPN peers of deleted Tenants and of removed members are revoked before their
        /// RoleBindings (with
        /// `--vpn-registry cluster`, the operator needs no --vpn-state: revoking needs no server
        /// key).
        #[command(flatten)]
        vpn: TenantVpnArgs,
        /// The IdentityProvider file: how the API server names `oidc` members, so Tenants with
        /// them are applied as `tenant apply --idp` applies them (without it they are refused).
        #[arg(long, value_name = "FILE")]
        idp: Option<PathBuf>,
    },
}

/// One installed object as a file of the folder.
struct File(InstallObject);

impl Serialize for File {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.object.serialize(serializer)
    }
}

impl Manifest for File {
    fn file_name(&self) -> String {
        self.0.file_name.clone()
    }
}

/// Runs `harmony operator ...`.
pub fn run_command(args: OperatorArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        OperatorCommand::Install {
            out,
            image,
            pod_networks,
            service_networks,
            node_networks,
            velero_namespace,
            vpn_gateway,
            idp,
        } => {
            let options = InstallOptions {
                image,
                pod_networks,
                service_networks,
                node_networks,
                velero_namespace,
            };
            let files = InstallFiles {
                vpn_gateway: vpn_gateway
                    .as_deref()
                    .map(VpnGatewayFile::read)
                    .transpose()
                    .map_err(Refused::from)?,
                identity_provider: idp
                    .as_deref()
                    .map(IdentityProviderFile::read)
                    .transpose()
                    .map_err(Refused::from)?,
            };
            let objects = manifests_with(&options, &files);
            let files: Vec<File> = objects.into_iter().map(File).collect();
            let header =
                format!("{GENERATED} operator install; render again rather than edit this file.\n");
            let outcome = write_folder(&out, &folder_files(&header, &files))?;
            println!("{}", outcome.message);
            Ok(ExitCode::SUCCESS)
        }
        OperatorCommand::Run {
            cluster,
            concurrency,
            lease_namespace,
            metrics_address,
            vpn,
            idp,
        } => {
            let instance = std::env::var("POD_NAME").ok();
            let identity = instance.clone().unwrap_or_else(|| {
                let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
                format!("{}-{}", host.trim(), std::process::id())
            });
            let outside = vpn.revoker(&cluster.access(), OPERATOR)?;
            let mut facts = cluster.facts_source()?;
            facts.identity_provider = idp.as_deref().map(load_identity_provider).transpose()?;
            let settings = Settings {
                outside: outside.map(|r| Arc::new(r) as Arc<dyn ExternalAccess>),
                facts,
                concurrency,
                instance,
                lease: lease_namespace.map(|namespace| LeaseSettings::new(namespace, identity)),
                listen: metrics_address,
            };
            runtime()?.block_on(async {
                let config = cluster.access().config().await?;
                run(config, settings, shutdown()).await?;
                anyhow::Ok(())
            })?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Completes on SIGINT or SIGTERM.
pub(crate) async fn shutdown() {
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async {
            match terminate.as_mut() {
                Some(signal) => { signal.recv().await; }
                None => std::future::pending::<()>().await,
            }
        } => {}
    }
}
