//! `harmony tenant apply | plan | status | delete`: tenants on a live cluster.

mod output;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, ValueEnum};
use harmony::{Maestro, Score, Topology};
use harmony_k8s::{ApplyOptions, Backups, FactsSource, K8sTopology, Mode, TenantReport};
use harmony_kube::Access;
use harmony_tenant::backup::drill::Purpose;
use harmony_tenant::connections::matched_connections;
use harmony_tenant::{
    ClusterFlavor, DeleteError, DeleteOptions, DeleteReport, Hint, RevokeMode, TenantManager,
    TenantPlan, TenantRemover, compile,
};
use harmony_vpn::{MEMBER_REMOVED, TENANT_REMOVED};
use ipnet::IpNet;

use crate::input::{load_facts, load_identity_provider, load_tenants};
use crate::vpn::{TenantVpnArgs, print_revoked};

/// Which cluster, as whom, and what it cannot tell about itself.
#[derive(Args)]
pub struct ClusterArgs {
    /// The kubeconfig file (default: KUBECONFIG, ~/.kube/config, else the in-cluster account).
    #[arg(long, value_name = "FILE", global = true)]
    pub(crate) kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (default: its current context).
    #[arg(long, value_name = "NAME", global = true)]
    pub(crate) context: Option<String>,
    /// A ClusterProfile file for what a non-OKD cluster cannot tell (networks, DNS, ingress).
    #[arg(long, value_name = "PROFILE", global = true)]
    pub(crate) cluster: Option<PathBuf>,
    /// The pod network(s), when the cluster is not OKD and no profile gives them.
    #[arg(long = "pod-network", value_name = "CIDR", global = true)]
    pub(crate) pod_networks: Vec<IpNet>,
    /// The service network(s), when the cluster is not OKD and no profile gives them.
    #[arg(long = "service-network", value_name = "CIDR", global = true)]
    pub(crate) service_networks: Vec<IpNet>,
    /// The node network(s) (default: every private range).
    #[arg(long = "node-network", value_name = "CIDR", global = true)]
    pub(crate) node_networks: Vec<IpNet>,
}

/// Output format of apply, plan and status.
#[derive(Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table or text for people.
    #[default]
    Text,
    /// JSON.
    Json,
    /// YAML.
    Yaml,
}

/// `--dry-run` values.
#[derive(Clone, Copy, ValueEnum)]
pub enum DryRun {
    /// Send every write with dryRun=All: the cluster validates and admits, stores nothing.
    Server,
}

/// Arguments of `harmony tenant apply` and `plan`.
#[derive(Args)]
pub struct ApplyArgs {
    /// Tenant files or folders; `-` reads standard input.
    #[arg(short = 'f', long = "filename", value_name = "PATH", required = true, num_args = 1..)]
    files: Vec<PathBuf>,
    #[command(flatten)]
    cluster: ClusterArgs,
    /// How many tenants are applied at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..))]
    concurrency: u16,
    /// Take over fields another field manager owns (server-side apply `force`).
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    vpn: TenantVpnArgs,
    /// An IdentityProvider file: how the API server names identity provider (`oidc`) members.
    #[arg(long, value_name = "FILE")]
    idp: Option<PathBuf>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    output: Format,
}

/// Arguments of `harmony tenant status`.
#[derive(Args)]
pub struct StatusArgs {
    /// Tenants to show (default: every tenant Harmony manages in the cluster).
    names: Vec<String>,
    /// Tenant files: also show drift from these scores.
    #[arg(short = 'f', long = "filename", value_name = "PATH", num_args = 1..)]
    files: Vec<PathBuf>,
    #[command(flatten)]
    cluster: ClusterArgs,
    /// An IdentityProvider file: how the API server names identity provider (`oidc`) members.
    #[arg(long, value_name = "FILE", requires = "files")]
    idp: Option<PathBuf>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    output: Format,
}

/// Arguments of `harmony tenant delete`.
#[derive(Args)]
pub struct DeleteArgs {
    /// The tenant id.
    name: String,
    #[command(flatten)]
    cluster: ClusterArgs,
    /// Also delete the tenant's PersistentVolumeClaims, and so possibly its data.
    #[arg(long)]
    delete_data: bool,
    /// How long to wait for the namespace to finish terminating, such as `90s` or `5m`.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    timeout: Duration,
    /// With --delete-data: delete without taking a final backup first (what is lost is said).
    #[arg(long, requires = "delete_data")]
    skip_final_backup: bool,
    /// How long to wait for the final backup to complete, such as `90s` or `30m`.
    #[arg(long, default_value = "30m", value_parser = parse_duration)]
    backup_timeout: Duration,
    #[command(flatten)]
    vpn: TenantVpnArgs,
}

pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let value: u64 = number.parse().map_err(|_| {
        format!("`{text}` is not a duration: use seconds or minutes, such as 90s or 5m")
    })?;
    match unit {
        "" | "s" => Ok(Duration::from_secs(value)),
        "m" => Ok(Duration::from_secs(value * 60)),
        _ => Err(format!(
            "`{text}` is not a duration: use seconds or minutes, such as 90s or 5m"
        )),
    }
}

impl ClusterArgs {
    /// Which cluster, as whom.
    pub(crate) fn access(&self) -> Access {
        Access {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
        }
    }

    /// A topology for this cluster, not yet checked.
    pub(crate) async fn topology(&self, options: ApplyOptions) -> anyhow::Result<K8sTopology> {
        self.topology_with_idp(options, None).await
    }

    /// A topology for this cluster whose facts name the members of the identity provider of
    /// file `idp`, when given; not yet checked.
    pub(crate) async fn topology_with_idp(
        &self,
        options: ApplyOptions,
        idp: Option<&Path>,
    ) -> anyhow::Result<K8sTopology> {
        let mut source = self.facts_source()?;
        source.identity_provider = idp.map(load_identity_provider).transpose()?;
        Ok(K8sTopology::new(
            self.access().connect().await?,
            source,
            options,
        ))
    }

    /// Where cluster facts come from when discovery cannot tell: the profile and the flags.
    pub(crate) fn facts_source(&self) -> anyhow::Result<FactsSource> {
        let profile = match &self.cluster {
            Some(path) => Some(load_facts(Some(path), ClusterFlavor::Kubernetes)?),
            None => None,
        };
        Ok(FactsSource {
            profile,
            pod_networks: self.pod_networks.clone(),
            service_networks: self.service_networks.clone(),
            node_networks: self.node_networks.clone(),
            identity_provider: None,
        })
    }
}

/// The async runtime the live commands run on.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// `harmony tenant apply` (with `dry_run`, a server-side dry run) and `harmony tenant plan`.
pub fn apply(args: ApplyArgs, mode: Mode) -> anyhow::Result<ExitCode> {
    let options = ApplyOptions {
        mode,
        force: args.force,
    };
    runtime()?.block_on(async {
        let vpn = args.vpn.open(&args.cluster.access())?;
        let mut topology = args
            .cluster
            .topology_with_idp(options, args.idp.as_deref())
            .await?;
        topology.ensure_ready().await?;
        let facts = topology.cluster_facts().await?;
        let tenants = load_tenants(&args.files, &facts)?;
        topology.set_connections(matched_connections(&tenants));
        // Isolation first: removed members lose their VPN peers before their RoleBindings.
        let revoke = if mode == Mode::Apply {
            RevokeMode::Revoke
        } else {
            RevokeMode::DryRun
        };
        let revoked = match &vpn {
            Some(vpn) => {
                vpn.access()
                    .revoke_removed_members(&tenants, revoke)
                    .await?
            }
            None => Vec::new(),
        };
        print_revoked(vpn.as_ref(), &revoked, MEMBER_REMOVED, revoke);
        let mut maestro = Maestro::new(topology);
        maestro.observe(crate::progress::Bar::stderr());
        maestro.register(
            tenants
                .into_iter()
                .map(|t| Box::new(t) as Box<dyn Score<K8sTopology>>),
        );
        let report = maestro
            .run_concurrently(usize::from(args.concurrency))
            .await?;
        let reports: Vec<TenantReport> = report
            .results
            .iter()
            .filter_map(|r| r.report::<TenantReport>().cloned())
            .collect();
        let rows = output::rows(&report, &reports);
        if mode == Mode::Apply {
            output::print_table(&rows, &report.summary(), args.output)?;
            return Ok(if report.all_succeeded() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
        output::print_plan(&rows, &reports, args.output)?;
        Ok(if !report.all_succeeded() {
            ExitCode::FAILURE
        } else if reports.iter().any(|r| r.wrote()) {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        })
    })
}

/// `harmony tenant status`.
pub fn status(args: StatusArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let topology = args
            .cluster
            .topology_with_idp(ApplyOptions::default(), args.idp.as_deref())
            .await?;
        // Cluster facts (and so the network flags) are needed only to compile tenant files.
        let plans: Vec<TenantPlan> = if args.files.is_empty() {
            topology.cluster().version().await?;
            Vec::new()
        } else {
            topology.ensure_ready().await?;
            let mut facts = topology.cluster_facts().await?;
            let tenants = load_tenants(&args.files, &facts)?;
            facts.connections = matched_connections(&tenants);
            tenants.iter().map(|t| compile(t, &facts)).collect()
        };
        let statuses = topology.status(&args.names, &plans).await?;
        output::print_status(&statuses, args.output)?;
        Ok(ExitCode::SUCCESS)
    })
}

/// `harmony tenant delete`.
pub fn delete(args: DeleteArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let vpn = args.vpn.open(&args.cluster.access())?;
        // Deleting needs no facts: only check that the API answers.
        let topology = args.cluster.topology(ApplyOptions::default()).await?;
        topology.cluster().version().await?;
        let options = DeleteOptions {
            delete_data: args.delete_data,
            timeout: args.timeout,
        };
        if args.delete_data {
            final_backup(&topology, &args).await?;
        }
        // Isolation first: the tenant's VPN peers go before its RoleBindings, and only once the
        // data check has passed, so that a refused delete changes nothing.
        let report = match topology
            .delete_tenant(&args.name, options, vpn.as_ref().map(|v| v.access()))
            .await
        {
            Ok(report) => report,
            Err(error) => {
                if let Some(done) = error.done() {
                    print_done(vpn.as_ref(), done);
                }
                return Err(FlagAdvice(error).into());
            }
        };
        print_done(vpn.as_ref(), &report);
        let Some(namespace) = &report.namespace else {
            println!(
                "tenant {}: nothing to delete (no namespace is labelled with it)",
                args.name
            );
            return Ok(ExitCode::SUCCESS);
        };
        for claim in &report.data_deleted {
            println!("deleted PersistentVolumeClaim {claim}");
        }
        match report.namespaces.as_slice() {
            [_, _, ..] => println!(
                "tenant {} deleted (namespaces {} are gone)",
                args.name,
                report.namespaces.join(", ")
            ),
            _ => println!(
                "tenant {} deleted (namespace {namespace} is gone)",
                args.name
            ),
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// With --delete-data: the final backup, completed before anything is deleted, or (with
/// --skip-final-backup) what is lost without one.
async fn final_backup(topology: &K8sTopology, args: &DeleteArgs) -> anyhow::Result<()> {
    let name = &args.name;
    if args.skip_final_backup {
        eprintln!(
            "no final backup (--skip-final-backup): the PersistentVolumeClaims of tenant {name} and \
             everything in its namespace are deleted for good; only earlier backups (`harmony \
             tenant backup list {name}`) keep any of it"
        );
        return Ok(());
    }
    let progress = |line: &str| eprintln!("{line}");
    let backups = Backups::new(topology.cluster(), &progress);
    match backups
        .backup_now(name, Purpose::Final, args.backup_timeout)
        .await
    {
        Ok(done) => {
            println!(
                "final backup {}/{} completed ({} items, kept until {})",
                done.namespace, done.name, done.items, done.expires
            );
            Ok(())
        }
        Err(error) => Err(anyhow::anyhow!(
            "{error}\nnothing of tenant {name} was deleted; to delete it without a final backup, \
             run again with --skip-final-backup"
        )),
    }
}

/// Prints the access a delete revoked, outside the cluster and in it.
fn print_done(vpn: Option<&crate::vpn::TenantVpn>, done: &DeleteReport) {
    print_revoked(
        vpn,
        &done.revoked_elsewhere,
        TENANT_REMOVED,
        RevokeMode::Revoke,
    );
    for revoked in &done.revoked {
        println!("revoked {revoked}");
    }
}

/// A delete error, its hint worded as this command's flags.
#[derive(Debug)]
struct FlagAdvice(DeleteError);

impl std::fmt::Display for FlagAdvice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.explain(|hint| match hint {
            Hint::DeleteData => "run again with --delete-data",
            Hint::LongerTimeout => "run the delete again to keep waiting (or raise --timeout)",
        }))
    }
}

impl std::error::Error for FlagAdvice {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}
