//! `harmony audit`: prove who can do what and who can reach whom, over rendered manifests, tenant
//! files (compiled on the fly) or a live cluster (read-only; tenant files then supply expectations).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use harmony_audit::report::{Format, render};
use harmony_audit::{AuditConfig, ClusterSnapshot, Expectation, audit, explain};
use harmony_k8s::{InventoryReader, facts};
use harmony_tenant::{ClusterFacts, ClusterFlavor, TenantPlan, TenantScore, compile};

use crate::input::{load_facts, load_tenants};

/// Audit tenant isolation: RBAC reach, network reachability, quotas and pod security.
#[derive(Args)]
pub struct AuditArgs {
    /// Explain one path instead of running the checks.
    #[command(subcommand)]
    command: Option<AuditCommand>,
    /// Rendered manifest files or folders (`*.yaml`, `*.yml`, `*.json`; kustomization.yaml skipped).
    #[arg(short = 'f', long = "filename", value_name = "PATH", num_args = 1.., global = true)]
    files: Vec<PathBuf>,
    /// Tenant files or folders: compiled on the fly when nothing else is given; with -f or a live
    /// cluster they only say what to expect (pod security level, internet egress, sources let in).
    #[arg(long, value_name = "PATH", num_args = 1.., global = true)]
    tenants: Vec<PathBuf>,
    /// Without --cluster: the defaults of this kind of cluster (a live cluster tells its own).
    #[arg(long, value_enum, default_value_t = AuditFlavor::Kubernetes, conflicts_with_all = ["cluster", "kubeconfig", "context"], global = true)]
    flavor: AuditFlavor,
    /// With --kubeconfig or --context, a live cluster is audited (read-only: lists, never
    /// Secrets); --cluster also describes rendered manifests and tenant files.
    #[command(flatten)]
    live: crate::live::ClusterArgs,
    /// Audit only this tenant.
    #[arg(long, value_name = "NAME")]
    tenant: Option<String>,
    /// Report format.
    #[arg(short = 'o', long, value_enum, default_value_t = AuditOutput::Text)]
    output: AuditOutput,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Which policies allow or block SRC → DST (each `ns`, `ns/pod`, `internet` or an IP).
    Explain {
        /// Source endpoint.
        src: String,
        /// Destination endpoint.
        dst: String,
        /// Port, such as `443` or `53/UDP`.
        port: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum AuditFlavor {
    Kubernetes,
    Okd,
}

#[derive(Clone, Copy, ValueEnum)]
enum AuditOutput {
    Text,
    Json,
    Junit,
}

/// Runs `harmony audit ...`: exit 1 when a check fails (or an explained path is blocked).
pub fn run(args: AuditArgs) -> anyhow::Result<ExitCode> {
    let (mut snapshot, facts, scores) =
        if args.live.kubeconfig.is_some() || args.live.context.is_some() {
            read_live(&args)?
        } else {
            read_offline(&args)?
        };
    let mut config = AuditConfig::new(facts.clone());
    config.expectations.extend(
        scores
            .iter()
            .map(|s| (s.name().to_string(), Expectation::of(s))),
    );
    snapshot.add_platform(&facts);
    snapshot.add_placeholder_pods();

    if let Some(AuditCommand::Explain { src, dst, port }) = &args.command {
        let explanation =
            explain(&snapshot, src, dst, port.as_deref()).map_err(anyhow::Error::msg)?;
        print!("{explanation}");
        return Ok(if explanation.allowed() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }

    config.tenant = args.tenant.clone();
    let report = audit(&snapshot, &config);
    if let Some(name) = &args.tenant
        && report.tenants.is_empty()
    {
        bail!(
            "--tenant {name}: no namespace carries the label harmony.nationtech.io/tenant={name}"
        );
    }
    let format = match args.output {
        AuditOutput::Text => Format::Text,
        AuditOutput::Json => Format::Json,
        AuditOutput::Junit => Format::Junit,
    };
    print!("{}", render(&report, format));
    Ok(if report.failed() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The snapshot of rendered manifests and tenant files, and the tenants' scores.
fn read_offline(
    args: &AuditArgs,
) -> anyhow::Result<(ClusterSnapshot, ClusterFacts, Vec<TenantScore>)> {
    if !(args.live.pod_networks.is_empty()
        && args.live.service_networks.is_empty()
        && args.live.node_networks.is_empty())
    {
        bail!(
            "--pod-network, --service-network and --node-network describe a live cluster: give \
             --kubeconfig FILE (or --context NAME), or put the networks in a --cluster profile"
        );
    }
    if args.files.is_empty() && args.tenants.is_empty() {
        bail!(
            "nothing to audit: give rendered manifests with -f PATH, tenant files with --tenants \
             PATH, or a live cluster with --kubeconfig FILE"
        );
    }
    let flavor = match args.flavor {
        AuditFlavor::Kubernetes => ClusterFlavor::Kubernetes,
        AuditFlavor::Okd => ClusterFlavor::Okd,
    };
    let facts = load_facts(args.live.cluster.as_deref(), flavor)?;
    let scores = if args.tenants.is_empty() {
        Vec::new()
    } else {
        load_tenants(&args.tenants, &facts)?
    };
    if args.files.is_empty() {
        let plans: Vec<TenantPlan> = scores.iter().map(|s| compile(s, &facts)).collect();
        return Ok((ClusterSnapshot::from_plans(&plans), facts, scores));
    }
    // Rendered manifests are audited as they are; tenant files only say what to expect of them.
    let mut snapshot = ClusterSnapshot::default();
    for path in &args.files {
        snapshot
            .load_path(path)
            .with_context(|| format!("loading `{}`", path.display()))?;
    }
    let absent: Vec<&str> = scores
        .iter()
        .filter(|s| snapshot.namespace_labels(s.namespace()).is_none())
        .map(|s| s.name())
        .collect();
    if !absent.is_empty() {
        bail!(
            "--tenants: not in the manifests given with -f: {}; render them first (`harmony \
             tenant render --out DIR`) or leave them out of --tenants",
            absent.join(", ")
        );
    }
    Ok((snapshot, facts, scores))
}

/// The snapshot of a live cluster, its discovered facts, and the scores of `--tenants` (their
/// expectations only: the cluster's objects are audited, not the files').
fn read_live(
    args: &AuditArgs,
) -> anyhow::Result<(ClusterSnapshot, ClusterFacts, Vec<TenantScore>)> {
    if let Some(path) = args.files.first() {
        bail!(
            "-f {}: rendered manifests cannot be mixed with a live cluster (the audit would judge \
             objects the cluster does not hold); audit one or the other",
            path.display()
        );
    }
    let access = args.live.access();
    let source = args.live.facts_source()?;
    let (inventory, facts, server) = crate::live::runtime()?.block_on(async {
        let reader = InventoryReader::new(access.config().await?)?;
        let facts = facts::discover(reader.cluster(), &source).await?;
        let inventory = reader.read().await?;
        anyhow::Ok((inventory, facts, reader.cluster().server().to_string()))
    })?;
    let mut snapshot = ClusterSnapshot::default();
    snapshot.add_objects(inventory.objects, &server)?;
    // A cluster serving admission policies is assessed for guardrails even when it has none.
    if !inventory
        .not_served
        .iter()
        .any(|kind| kind.starts_with("validatingadmissionpolicies."))
    {
        snapshot.admission_policies.get_or_insert_default();
    }
    snapshot.notes.extend(
        inventory
            .not_served
            .iter()
            .map(|kind| format!("{server}: does not serve {kind}; audited without it")),
    );
    let scores = if args.tenants.is_empty() {
        Vec::new()
    } else {
        load_tenants(&args.tenants, &facts)?
    };
    let absent: Vec<String> = scores
        .iter()
        .filter(|s| snapshot.namespace_labels(s.namespace()).is_none())
        .map(|s| format!("{} (namespace {})", s.name(), s.namespace()))
        .collect();
    if !absent.is_empty() {
        bail!(
            "--tenants: not in the cluster at {server}: {}; apply them first (`harmony tenant \
             apply`) or leave their files out",
            absent.join(", ")
        );
    }
    Ok((snapshot, facts, scores))
}
