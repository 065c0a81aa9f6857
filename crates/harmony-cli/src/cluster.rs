//! `harmony cluster guardrails render | apply`: what tenants cannot override (admission rules,
//! network tiers, OKD hardening), as manifests or on a live cluster; `harmony cluster
//! audit-policy render`: the API server's audit policy that records tenant activity; `harmony
//! cluster monitoring render | apply`: the cluster side of per-tenant monitoring; `harmony cluster
//! identity render`: the API server's trust of the identity provider (`cluster_identity.rs`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use harmony::private_file::replace_private;
use harmony::{Maestro, Score, Topology};
use harmony_guardrails::audit_policy::audit_policy;
use harmony_guardrails::monitoring::{ClusterMonitoring, MonitoringScore, compile_monitoring};
use harmony_guardrails::{Finding, GuardrailsScore, compile_guardrails};
use harmony_k8s::{ApplyOptions, K8sTopology, Mode};
use harmony_manifests::{Format, ManifestTopology, stream};
use harmony_tenant::{ClusterFlavor, TenantManager, TenantScore};

use crate::input::{
    load_facts, load_guardrails, load_monitoring, load_tenants, with_identity_provider,
};
use crate::live::{DryRun, Format as LiveFormat};

/// Arguments of `harmony cluster`.
#[derive(Args)]
pub struct ClusterArgs {
    #[command(subcommand)]
    command: ClusterCommand,
}

#[derive(Subcommand)]
enum ClusterCommand {
    /// Guardrails tenants cannot override: admission rules, network tiers, OKD hardening.
    Guardrails {
        #[command(subcommand)]
        command: GuardrailsCommand,
    },
    /// The API server's audit policy that records tenant activity (read back by `harmony tenant
    /// activity`).
    AuditPolicy {
        #[command(subcommand)]
        command: AuditPolicyCommand,
    },
    /// The cluster side of per-tenant monitoring: OKD user-workload monitoring, or on vanilla
    /// prometheus-operator a shared namespace-enforcing Prometheus, Alertmanager, the tenant
    /// read path and the tenant monitoring ClusterRoles.
    Monitoring {
        #[command(subcommand)]
        command: MonitoringCommand,
    },
    /// OIDC single sign-on: how the API server trusts the identity provider's tokens.
    Identity {
        #[command(subcommand)]
        command: crate::cluster_identity::IdentityCommand,
    },
}

#[derive(Subcommand)]
enum MonitoringCommand {
    /// Render the objects: for OKD the two monitoring ConfigMaps, for Kubernetes the shared
    /// stack in its namespace.
    Render {
        /// A ClusterMonitoring file (see examples/monitoring.yaml); defaults without it.
        #[arg(long, value_name = "FILE")]
        monitoring: Option<PathBuf>,
        /// A ClusterProfile file describing the cluster.
        #[arg(long, value_name = "PROFILE")]
        cluster: Option<PathBuf>,
        /// Without --cluster: the kind of cluster.
        #[arg(long, value_enum, default_value_t = Flavor::Kubernetes, conflicts_with = "cluster")]
        flavor: Flavor,
        /// Make folder DIR hold the objects (one per file, plus kustomization.yaml).
        #[arg(long, value_name = "DIR", conflicts_with = "output")]
        out: Option<PathBuf>,
        /// Print every object to standard output instead, as a YAML stream or a JSON List.
        #[arg(short = 'o', long, value_enum)]
        output: Option<Output>,
    },
    /// Apply the objects to a live cluster (its flavor discovered) with server-side apply
    /// (field manager `harmony`), and remove those Harmony applied and no longer renders (never
    /// a Namespace); OKD's monitoring ConfigMaps are merged, not replaced, and lose only the keys
    /// Harmony set and no longer sets.
    Apply(MonitoringApplyArgs),
}

/// Arguments of `harmony cluster monitoring apply`.
#[derive(Args)]
struct MonitoringApplyArgs {
    /// A ClusterMonitoring file (see examples/monitoring.yaml); defaults without it.
    #[arg(long, value_name = "FILE")]
    monitoring: Option<PathBuf>,
    #[command(flatten)]
    cluster: crate::live::ClusterArgs,
    /// `server`: send every write with dryRun=All; the cluster validates, stores nothing.
    #[arg(long, value_enum, value_name = "server")]
    dry_run: Option<DryRun>,
    /// Take over fields another field manager owns (server-side apply `force`).
    #[arg(long)]
    force: bool,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    output: LiveFormat,
}

#[derive(Subcommand)]
enum AuditPolicyCommand {
    /// Render the audit policy: for Kubernetes an audit.k8s.io/v1 Policy for
    /// `kube-apiserver --audit-policy-file` (the same for every tenant set); for OKD the
    /// APIServer `cluster` with spec.audit (profile Default, WriteRequestBodies for each
    /// tenant's groups), for `oc apply --server-side`.
    Render(PolicyArgs),
}

#[derive(Subcommand)]
enum GuardrailsCommand {
    /// Compile the guardrails to Kubernetes manifests; findings go to standard error.
    Render {
        /// Tenant files or folders: each tenant gets its AdminNetworkPolicy (its parameter
        /// ConfigMap is in its tenant plan). Without them only the cluster-wide objects are
        /// rendered.
        #[arg(short = 'f', long = "filename", value_name = "PATH", num_args = 1..)]
        files: Vec<PathBuf>,
        /// A ClusterGuardrails file (see examples/guardrails.yaml); defaults without it.
        #[arg(long, value_name = "FILE")]
        guardrails: Option<PathBuf>,
        /// A ClusterProfile file describing the cluster.
        #[arg(long, value_name = "PROFILE")]
        cluster: Option<PathBuf>,
        /// Without --cluster: the defaults of this kind of cluster.
        #[arg(long, value_enum, default_value_t = Flavor::Kubernetes, conflicts_with = "cluster")]
        flavor: Flavor,
        /// Make folder DIR hold the guardrails (one object per file, plus kustomization.yaml).
        #[arg(long, value_name = "DIR", conflicts_with = "output")]
        out: Option<PathBuf>,
        /// Print every object to standard output instead, as a YAML stream or a JSON List.
        #[arg(short = 'o', long, value_enum)]
        output: Option<Output>,
    },
    /// Apply the guardrails to a live cluster with server-side apply (field manager `harmony`),
    /// and remove those Harmony applied and no longer wants.
    Apply(ApplyArgs),
}

/// Arguments of `harmony cluster guardrails apply`: those of `harmony tenant apply`.
#[derive(Args)]
struct ApplyArgs {
    /// Every tenant of the cluster (files or folders; `-` reads standard input): a tenant left
    /// out loses its AdminNetworkPolicy once its namespace is gone.
    #[arg(short = 'f', long = "filename", value_name = "PATH", required = true, num_args = 1..)]
    files: Vec<PathBuf>,
    /// A ClusterGuardrails file (see examples/guardrails.yaml); defaults without it.
    #[arg(long, value_name = "FILE")]
    guardrails: Option<PathBuf>,
    #[command(flatten)]
    cluster: crate::live::ClusterArgs,
    /// `server`: send every write with dryRun=All; the cluster validates, stores nothing.
    #[arg(long, value_enum, value_name = "server")]
    dry_run: Option<DryRun>,
    /// Take over fields another field manager owns (server-side apply `force`). Without it only
    /// `self-provisioners` is forced, and the output says so.
    #[arg(long)]
    force: bool,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    output: LiveFormat,
}

/// Arguments of `harmony cluster audit-policy render`.
#[derive(Args)]
struct PolicyArgs {
    /// Tenant files or folders: OKD only (each tenant's groups get a custom rule); the
    /// Kubernetes policy names no tenant and takes none.
    #[arg(short = 'f', long = "filename", value_name = "PATH", num_args = 1..)]
    files: Vec<PathBuf>,
    /// A ClusterProfile file describing the cluster (its flavor decides the document).
    #[arg(long, value_name = "PROFILE")]
    cluster: Option<PathBuf>,
    /// Without --cluster: the kind of cluster.
    #[arg(long, value_enum, default_value_t = Flavor::Kubernetes, conflicts_with = "cluster")]
    flavor: Flavor,
    /// OKD only: an IdentityProvider file, for tenants with identity provider (`oidc`)
    /// members (the groups they are bound through get a custom rule).
    #[arg(long, value_name = "FILE")]
    idp: Option<PathBuf>,
    /// Write the policy to FILE (atomically, mode 0600).
    #[arg(long, value_name = "FILE", conflicts_with = "output")]
    out: Option<PathBuf>,
    /// Print it to standard output instead, as YAML or JSON.
    #[arg(short = 'o', long, value_enum)]
    output: Option<Output>,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Flavor {
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

impl From<Output> for Format {
    fn from(output: Output) -> Self {
        match output {
            Output::Yaml => Format::Yaml,
            Output::Json => Format::Json,
        }
    }
}

/// Runs `harmony cluster ...`.
pub fn run(args: ClusterArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        ClusterCommand::Identity { command } => crate::cluster_identity::run(command),
        ClusterCommand::AuditPolicy {
            command: AuditPolicyCommand::Render(args),
        } => render_policy(args),
        ClusterCommand::Guardrails {
            command: GuardrailsCommand::Apply(args),
        } => apply(args),
        ClusterCommand::Monitoring {
            command: MonitoringCommand::Apply(args),
        } => apply_monitoring(args),
        ClusterCommand::Monitoring {
            command:
                MonitoringCommand::Render {
                    monitoring,
                    cluster,
                    flavor,
                    out,
                    output,
                },
        } => render_monitoring(monitoring, cluster, flavor.into(), out, output),
        ClusterCommand::Guardrails {
            command:
                GuardrailsCommand::Render {
                    files,
                    guardrails,
                    cluster,
                    flavor,
                    out,
                    output,
                },
        } => {
            let flavor = flavor.into();
            if out.is_none() && output.is_none() {
                bail!(
                    "say where to render: --out DIR (a folder of manifests) or -o yaml|json (standard output)"
                );
            }
            let facts = load_facts(cluster.as_deref(), flavor)?;
            let guardrails = load_guardrails(guardrails.as_deref(), &facts)?;
            let tenants: Vec<TenantScore> = if files.is_empty() {
                vec![]
            } else {
                load_tenants(&files, &facts)?
            };
            match (out, output) {
                (Some(dir), _) => render_folder(dir, facts, guardrails, tenants)?,
                (None, Some(output)) => {
                    let plan = compile_guardrails(&guardrails, &facts, &tenants);
                    report_findings(&plan.findings);
                    std::io::stdout()
                        .lock()
                        .write_all(stream(plan.objects(), output.into()).as_bytes())
                        .context("writing to standard output")?;
                }
                (None, None) => unreachable!("checked above"),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `harmony cluster audit-policy render`: notes on standard error, the policy to `--out` or
/// standard output.
fn render_policy(args: PolicyArgs) -> anyhow::Result<ExitCode> {
    let flavor = args.flavor.into();
    if args.out.is_none() && args.output.is_none() {
        bail!("say where to render: --out FILE or -o yaml|json (standard output)");
    }
    let mut facts = load_facts(args.cluster.as_deref(), flavor)?;
    match (facts.flavor, args.files.is_empty()) {
        (ClusterFlavor::Kubernetes, _) if args.idp.is_some() => bail!(
            "--idp: the Kubernetes audit policy names no tenant and so no identity provider \
             member (their requests are recorded like everyone's): leave --idp out, or render \
             for OKD with --flavor okd"
        ),
        (ClusterFlavor::Kubernetes, false) => bail!(
            "-f: the Kubernetes audit policy names no tenant (the API server matches its rules \
             before impersonation and reads the file only when it starts), so it takes no tenant \
             files: leave -f out, or render for OKD with --flavor okd"
        ),
        (ClusterFlavor::Okd, true) => bail!(
            "-f: the OKD audit policy gives each tenant's groups a custom rule: name the tenant \
             files or folders with -f"
        ),
        _ => {}
    }
    with_identity_provider(&mut facts, args.idp.as_deref())?;
    let tenants = if args.files.is_empty() {
        vec![]
    } else {
        load_tenants(&args.files, &facts)?
    };
    let plan = audit_policy(&facts, &tenants);
    for note in &plan.notes {
        eprintln!("note: {note}");
    }
    let text = match args.output.unwrap_or(Output::Yaml) {
        Output::Yaml => serde_saphyr::to_string(&plan.document)?,
        Output::Json => serde_json::to_string_pretty(&plan.document)? + "\n",
    };
    match args.out {
        Some(path) => {
            replace_private(&path, text.as_bytes(), None)?;
            let (what, how) = match facts.flavor {
                ClusterFlavor::Kubernetes => (
                    "audit policy",
                    "give it to kube-apiserver with --audit-policy-file",
                ),
                ClusterFlavor::Okd => ("APIServer cluster", "apply it with oc apply --server-side"),
            };
            println!("wrote {}: {what}; {how}", path.display());
        }
        None => std::io::stdout()
            .lock()
            .write_all(text.as_bytes())
            .context("writing to standard output")?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `harmony cluster guardrails apply`: connect, discover, load and check the files, then ensure.
fn apply(args: ApplyArgs) -> anyhow::Result<ExitCode> {
    let mode = match args.dry_run {
        Some(DryRun::Server) => Mode::DryRun,
        None => Mode::Apply,
    };
    let options = ApplyOptions {
        mode,
        force: args.force,
    };
    crate::live::runtime()?.block_on(async {
        let topology = args.cluster.topology(options).await?;
        topology.ensure_ready().await?;
        let facts = topology.cluster_facts().await?;
        let guardrails = load_guardrails(args.guardrails.as_deref(), &facts)?;
        let tenants = load_tenants(&args.files, &facts)?;
        let mut maestro = Maestro::new(topology);
        maestro.observe(crate::progress::Bar::stderr());
        let score = GuardrailsScore {
            guardrails,
            tenants,
        };
        maestro.register([Box::new(score) as Box<dyn Score<K8sTopology>>]);
        print_result(&maestro.run().await?, args.output)
    })
}

/// The one Score's outcome of a live run, in `format`; its failure as the error.
fn print_result(report: &harmony::Report, format: LiveFormat) -> anyhow::Result<ExitCode> {
    let result = &report.results[0];
    let outcome = result.result.as_ref().map_err(|e| anyhow::anyhow!("{e}"))?;
    match format {
        LiveFormat::Text => {
            println!("{}: {}", result.score, outcome.message);
            for detail in &outcome.details {
                println!("  {detail}");
            }
        }
        LiveFormat::Json => println!("{}", serde_json::to_string_pretty(outcome)?),
        LiveFormat::Yaml => print!("{}", serde_saphyr::to_string(outcome)?),
    }
    Ok(ExitCode::SUCCESS)
}

/// `harmony cluster monitoring render`: to `--out DIR` through the manifest topology, or to
/// standard output.
fn render_monitoring(
    file: Option<PathBuf>,
    cluster: Option<PathBuf>,
    flavor: ClusterFlavor,
    out: Option<PathBuf>,
    output: Option<Output>,
) -> anyhow::Result<ExitCode> {
    if out.is_none() && output.is_none() {
        bail!(
            "say where to render: --out DIR (a folder of manifests) or -o yaml|json (standard output)"
        );
    }
    let facts = load_facts(cluster.as_deref(), flavor)?;
    let monitoring = load_monitoring(file.as_deref(), &facts)?;
    match (out, output) {
        (Some(dir), _) => {
            let name = monitoring.name.clone();
            let mut maestro = Maestro::new(ManifestTopology::new(dir, facts));
            maestro.register([
                Box::new(MonitoringScore(monitoring)) as Box<dyn Score<ManifestTopology>>
            ]);
            let runtime = tokio::runtime::Builder::new_current_thread().build()?;
            let outcome = runtime.block_on(maestro.run())?.results.remove(0).result?;
            println!(
                "monitoring {name}: {:?}: {}",
                outcome.status, outcome.message
            );
            for detail in &outcome.details {
                println!("  {detail}");
            }
        }
        (None, Some(output)) => {
            let plan = compile_monitoring(&monitoring, facts.flavor);
            std::io::stdout()
                .lock()
                .write_all(stream(plan.objects(), output.into()).as_bytes())
                .context("writing to standard output")?;
        }
        (None, None) => unreachable!("checked above"),
    }
    Ok(ExitCode::SUCCESS)
}

/// `harmony cluster monitoring apply`: connect, discover the flavor, load the file, ensure.
fn apply_monitoring(args: MonitoringApplyArgs) -> anyhow::Result<ExitCode> {
    let options = ApplyOptions {
        mode: match args.dry_run {
            Some(DryRun::Server) => Mode::DryRun,
            None => Mode::Apply,
        },
        force: args.force,
    };
    crate::live::runtime()?.block_on(async {
        let topology = args.cluster.topology(options).await?;
        topology.ensure_ready().await?;
        let facts = topology.cluster_facts().await?;
        let monitoring: ClusterMonitoring = load_monitoring(args.monitoring.as_deref(), &facts)?;
        let mut maestro = Maestro::new(topology);
        maestro.register([Box::new(MonitoringScore(monitoring)) as Box<dyn Score<K8sTopology>>]);
        print_result(&maestro.run().await?, args.output)
    })
}

/// `render --out DIR`: the guardrails Score on the manifest topology, as tenants are rendered;
/// findings on standard error, the files written on standard output.
fn render_folder(
    dir: PathBuf,
    facts: harmony_tenant::ClusterFacts,
    guardrails: harmony_guardrails::ClusterGuardrailsScore,
    tenants: Vec<TenantScore>,
) -> anyhow::Result<()> {
    let mut maestro = Maestro::new(ManifestTopology::new(dir, facts));
    let score = GuardrailsScore {
        guardrails,
        tenants,
    };
    maestro.register([Box::new(score) as Box<dyn Score<ManifestTopology>>]);
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    let outcome = runtime.block_on(maestro.run())?.results.remove(0).result?;
    let findings = outcome
        .report::<Vec<Finding>>()
        .map_or(&[][..], Vec::as_slice);
    report_findings(findings);
    println!("guardrails: {:?}: {}", outcome.status, outcome.message);
    let shown: Vec<String> = findings.iter().map(Finding::to_string).collect();
    for detail in outcome.details.iter().filter(|d| !shown.contains(d)) {
        println!("  {detail}");
    }
    Ok(())
}

/// Findings on standard error, so that `-o yaml` output stays a clean stream.
fn report_findings(findings: &[Finding]) {
    for finding in findings {
        eprintln!("{finding}");
    }
}
