//! `harmony tenant init | validate | render`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use harmony::{Maestro, Score};
use harmony_identity::IdentityProvider;
use harmony_manifests::{Format, ManifestTopology, encode_stream};
use harmony_tenant::connections::matched_connections;
use harmony_tenant::{
    ClusterFacts, ClusterFlavor, MAX_TENANT_NAME, TenantScore, compile, is_dns_label,
};

use harmony_k8s::Mode;

use crate::input::{load_facts, load_tenants};
use crate::live;

mod activity;
mod backup;
mod showback;

/// Arguments of `harmony tenant`.
#[derive(Args)]
pub struct TenantArgs {
    #[command(subcommand)]
    command: TenantCommand,
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Print a commented tenant file to start from.
    Init {
        /// The tenant id (lowercase letters, digits and `-`).
        name: String,
        /// Comment the file for this kind of cluster.
        #[arg(long, value_enum, default_value_t = Flavor::Kubernetes)]
        flavor: Flavor,
    },
    /// Check tenant files; print every problem with its file, line and column.
    Validate {
        #[command(flatten)]
        inputs: Inputs,
    },
    /// Compile tenant files to Kubernetes manifests.
    Render {
        #[command(flatten)]
        inputs: Inputs,
        /// Write one folder per tenant (one object per file, plus kustomization.yaml) under DIR.
        #[arg(long, value_name = "DIR", conflicts_with = "output")]
        out: Option<PathBuf>,
        /// Print every object to standard output instead, as a YAML stream or a JSON List.
        #[arg(short = 'o', long, value_enum)]
        output: Option<Output>,
    },
    /// Print tenant files as Tenant resources for the operator (GitOps).
    Export(crate::export::ExportArgs),
    /// Apply tenant files to a live cluster (server-side apply), then prune what they dropped.
    Apply {
        #[command(flatten)]
        args: live::ApplyArgs,
        /// `server`: only validate every write on the cluster (exit 2 when something would change).
        #[arg(long, value_enum, value_name = "server")]
        dry_run: Option<live::DryRun>,
    },
    /// Show what applying would change, object by object; exit 0 if nothing, 2 if something.
    Plan {
        #[command(flatten)]
        args: live::ApplyArgs,
    },
    /// Show tenants on a live cluster: quota use, members, policies, drift from their files.
    Status {
        #[command(flatten)]
        args: live::StatusArgs,
    },
    /// Delete a tenant from a live cluster: access first; refuses to delete data without
    /// --delete-data, and with it takes a final backup first (unless --skip-final-backup).
    Delete {
        #[command(flatten)]
        args: live::DeleteArgs,
    },
    /// A tenant's Velero backups: take one now, list them, the Schedule's status.
    Backup(backup::BackupArgs),
    /// Restore the tenant's latest backup into an isolated scratch namespace, compare what came
    /// back with what was backed up, record the result (an Event, and the Tenant resource's
    /// status when there is one), delete the scratch namespace.
    /// Exit 1 when the drill fails.
    RestoreDrill(backup::DrillArgs),
    /// Member credentials: a kubeconfig per member, scoped to the tenant, short-lived, revocable.
    Credentials(crate::credentials::CredentialsArgs),
    /// Who of a tenant did what on the API, from the API server's audit log: refused requests
    /// and requests on other tenants' namespaces first, then verbs x resources per user.
    ///
    /// A request is a tenant's when its user (the impersonated one, if it impersonates) is a
    /// member's user, in a member's group, or a ServiceAccount of the tenant's namespace;
    /// identity provider (`oidc`) members need --idp and are named as the API server records
    /// them (prefixed user name, or the role's or member's prefixed group). Only
    /// each request's final event counts (ResponseComplete or Panic). Malformed lines are named
    /// on standard error (file:line) and skipped. Exit 0 with the report, 2 when none can be
    /// made (bad flags, tenant files or --since, an unknown tenant, a log that cannot be opened).
    Activity(activity::ActivityArgs),
    /// CPU, memory and storage per tenant from Prometheus: reserved (quota), requested, used.
    Usage(showback::UsageArgs),
    /// What each tenant cost over a window, from Prometheus and a PriceSheet: reserved and
    /// allocated (max of requested and used); text, JSON, CSV, and an SVG or HTML chart.
    Cost(showback::CostArgs),
}

/// Where the tenants come from and which cluster they are for.
#[derive(Args)]
pub(crate) struct Inputs {
    /// Tenant files or folders; `-` reads standard input. Files may hold many documents.
    #[arg(short = 'f', long = "filename", value_name = "PATH", required = true, num_args = 1..)]
    files: Vec<PathBuf>,
    /// A ClusterProfile file describing the cluster (networks, DNS, ingress, storage classes).
    #[arg(long, value_name = "PROFILE")]
    cluster: Option<PathBuf>,
    /// Without --cluster: the defaults of this kind of cluster.
    #[arg(long, value_enum, default_value_t = Flavor::Kubernetes, conflicts_with = "cluster")]
    flavor: Flavor,
    /// An IdentityProvider file: how the API server names identity provider (`oidc`) members.
    #[arg(long, value_name = "FILE")]
    pub(crate) idp: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Flavor {
    Kubernetes,
    Okd,
}

impl From<Flavor> for ClusterFlavor {
    fn from(flavor: Flavor) -> Self {
        match flavor {
            Flavor::Kubernetes => ClusterFlavor::Kubernetes,
            Flavor::Okd => ClusterFlavor::Okd,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Output {
    Yaml,
    Json,
}

impl Inputs {
    pub(crate) fn load(&self) -> anyhow::Result<(ClusterFacts, Vec<TenantScore>)> {
        let (facts, tenants, _) = self.load_with_idp()?;
        Ok((facts, tenants))
    }

    /// The facts (with the identity provider's names when `--idp` is given), the tenants, and
    /// the identity provider.
    pub(crate) fn load_with_idp(
        &self,
    ) -> anyhow::Result<(ClusterFacts, Vec<TenantScore>, Option<IdentityProvider>)> {
        let mut facts = load_facts(self.cluster.as_deref(), self.flavor.into())?;
        let provider = crate::input::with_identity_provider(&mut facts, self.idp.as_deref())?;
        let tenants = load_tenants(&self.files, &facts)?;
        facts.connections = matched_connections(&tenants);
        Ok((facts, tenants, provider))
    }
}

/// Runs `harmony tenant ...`.
pub fn run(args: TenantArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        TenantCommand::Init { name, flavor } => init(&name, flavor),
        TenantCommand::Validate { inputs } => {
            let (_, tenants) = inputs.load()?;
            println!("{} tenant{} valid", tenants.len(), plural(tenants.len()));
            Ok(ExitCode::SUCCESS)
        }
        TenantCommand::Render {
            inputs,
            out,
            output,
        } => render(&inputs, out, output),
        TenantCommand::Export(args) => crate::export::run(args),
        TenantCommand::Apply { args, dry_run } => {
            let mode = match dry_run {
                Some(live::DryRun::Server) => Mode::DryRun,
                None => Mode::Apply,
            };
            live::apply(args, mode)
        }
        TenantCommand::Plan { args } => live::apply(args, Mode::Plan),
        TenantCommand::Status { args } => live::status(args),
        TenantCommand::Delete { args } => live::delete(args),
        TenantCommand::Backup(args) => backup::run(args),
        TenantCommand::RestoreDrill(args) => backup::drill(args),
        TenantCommand::Credentials(args) => crate::credentials::run(args),
        TenantCommand::Activity(args) => activity::run(args),
        TenantCommand::Usage(args) => showback::run_usage(args),
        TenantCommand::Cost(args) => showback::run_cost(args),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn init(name: &str, flavor: Flavor) -> anyhow::Result<ExitCode> {
    if !is_dns_label(name, MAX_TENANT_NAME) {
        bail!(
            "`{name}` is not a valid tenant id: use 1–{MAX_TENANT_NAME} lowercase letters, digits \
             and `-`, starting and ending with a letter or digit (e.g. `acme`)"
        );
    }
    print!("{}", template(name, flavor));
    Ok(ExitCode::SUCCESS)
}

/// A commented tenant file with every field at its default or a typical value.
fn template(name: &str, flavor: Flavor) -> String {
    let (cluster, routes) = match flavor {
        Flavor::Kubernetes => ("Kubernetes", "ingresses"),
        Flavor::Okd => ("OKD", "routes and ingresses"),
    };
    format!(
        include_str!("tenant-template.yaml"),
        name = name,
        cluster = cluster,
        routes = routes,
    )
}

fn render(
    inputs: &Inputs,
    out: Option<PathBuf>,
    output: Option<Output>,
) -> anyhow::Result<ExitCode> {
    if out.is_none() && output.is_none() {
        bail!(
            "say where to render: --out DIR (one folder per tenant) or -o yaml|json (standard output)"
        );
    }
    let (facts, tenants) = inputs.load()?;
    if let Some(output) = output {
        let plans: Vec<_> = tenants.iter().map(|t| compile(t, &facts)).collect();
        let format = match output {
            Output::Yaml => Format::Yaml,
            Output::Json => Format::Json,
        };
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(encode_stream(&plans, format).as_bytes())
            .context("writing to standard output")?;
        return Ok(ExitCode::SUCCESS);
    }
    let out = out.expect("checked above");
    let mut maestro = Maestro::new(ManifestTopology::new(&out, facts));
    maestro.observe(crate::progress::Bar::stderr());
    maestro.register(
        tenants
            .into_iter()
            .map(|t| Box::new(t) as Box<dyn Score<ManifestTopology>>),
    );
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    let report = runtime.block_on(maestro.run())?;
    for result in &report.results {
        match &result.result {
            Ok(outcome) => {
                println!(
                    "{}: {:?}: {}",
                    result.score, outcome.status, outcome.message
                );
                for detail in &outcome.details {
                    println!("  {detail}");
                }
            }
            Err(error) => println!("{}: failed: {error}", result.score),
        }
    }
    println!("{}", report.summary());
    Ok(if report.all_succeeded() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use harmony::Documents;

    #[test]
    fn templates_are_valid_tenant_files() {
        for flavor in [Flavor::Kubernetes, Flavor::Okd] {
            let documents = Documents::parse("init", &template("acme", flavor)).unwrap();
            let facts = ClusterFacts::for_flavor(flavor.into());
            let [score] = &documents.load::<TenantScore>(&facts).unwrap()[..] else {
                panic!("one tenant");
            };
            assert_eq!(score.name(), "acme");
            assert_eq!(score.rbac_config.members.len(), 3);
        }
    }
}
