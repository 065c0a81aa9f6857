//! `harmony audit`: prove who can do what and who can reach whom, over rendered manifests or
//! tenant files (compiled on the fly).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use harmony_audit::report::{Format, render};
use harmony_audit::{AuditConfig, ClusterSnapshot, Expectation, audit, explain};
use harmony_tenant::{ClusterFlavor, TenantPlan, compile};

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
    /// Tenant files or folders, compiled on the fly (their expectations are checked too).
    #[arg(long, value_name = "PATH", num_args = 1.., global = true)]
    tenants: Vec<PathBuf>,
    /// A ClusterProfile file (networks, DNS, ingress, monitoring, storage classes).
    #[arg(long, value_name = "PROFILE", global = true)]
    cluster: Option<PathBuf>,
    /// Without --cluster: the defaults of this kind of cluster.
    #[arg(long, value_enum, default_value_t = AuditFlavor::Kubernetes, conflicts_with = "cluster", global = true)]
    flavor: AuditFlavor,
    /// A live cluster (not supported yet: render it with `kubectl get -o yaml` and pass -f).
    #[arg(long, value_name = "KUBECONFIG", global = true)]
    kubeconfig: Option<PathBuf>,
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
    if args.kubeconfig.is_some() {
        bail!(
            "--kubeconfig: live-cluster audit is not available yet; export the objects (`kubectl get namespaces,pods,serviceaccounts,roles,clusterroles,rolebindings,clusterrolebindings,networkpolicies,resourcequotas,limitranges -A -o yaml > cluster.yaml`) and pass `-f cluster.yaml`"
        );
    }
    if args.files.is_empty() && args.tenants.is_empty() {
        bail!(
            "nothing to audit: give rendered manifests with -f PATH or tenant files with --tenants PATH"
        );
    }
    let flavor = match args.flavor {
        AuditFlavor::Kubernetes => ClusterFlavor::Kubernetes,
        AuditFlavor::Okd => ClusterFlavor::Okd,
    };
    let facts = load_facts(args.cluster.as_deref(), flavor)?;
    let mut config = AuditConfig::new(facts.clone());
    let mut snapshot = ClusterSnapshot::default();
    if !args.tenants.is_empty() {
        let scores = load_tenants(&args.tenants, &facts)?;
        let plans: Vec<TenantPlan> = scores.iter().map(|s| compile(s, &facts)).collect();
        snapshot = ClusterSnapshot::from_plans(&plans);
        config.expectations.extend(
            scores
                .iter()
                .map(|s| (s.name().to_string(), Expectation::of(s))),
        );
    }
    for path in &args.files {
        snapshot
            .load_path(path)
            .with_context(|| format!("loading `{}`", path.display()))?;
    }
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
