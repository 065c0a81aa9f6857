//! `harmony`: multi-tenancy for OKD and Kubernetes clusters, driven by tenant files.

mod audit;
mod audit_report;
mod auth;
mod cluster;
mod cluster_identity;
mod credentials;
mod export;
mod identity;
mod input;
mod live;
mod operator;
mod operator_cmd;
mod pretty_json;
mod progress;
mod tenant;
mod vpn;
mod vpn_sessions;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Multi-tenancy for OKD and Kubernetes clusters: one isolated namespace per tenant.
#[derive(Parser)]
#[command(name = "harmony", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Tenants: write, validate and render tenant files; apply, plan, status, delete; credentials.
    Tenant(tenant::TenantArgs),
    /// Prove isolation: who can do what (RBAC) and who can reach whom (NetworkPolicy).
    Audit(audit::AuditArgs),
    /// Cluster-wide guardrails tenants cannot override.
    Cluster(cluster::ClusterArgs),
    /// VPN peers for tenant members: issue, list, revoke, rotate; server config and firewall.
    Vpn(vpn::VpnArgs),
    /// Tenants as custom resources, reconciled continuously: install the operator, or run it.
    Operator(operator_cmd::OperatorArgs),
    /// Tenant members from an OIDC identity provider (Keycloak): plan and sync its groups.
    Identity(identity::IdentityArgs),
    /// Member login at the identity provider: the kubeconfig exec credential plugin.
    Auth(auth::AuthArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // `RUST_LOG=info` prints how long each phase took (list calls, loading, evaluation) on stderr.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let result = match cli.command {
        Command::Tenant(args) => tenant::run(args),
        Command::Audit(args) => audit::run(args),
        Command::Vpn(args) => vpn::run(args),
        Command::Cluster(args) => cluster::run(args),
        Command::Operator(args) => operator_cmd::run_command(args),
        Command::Identity(args) => identity::run(args),
        Command::Auth(args) => auth::run(args),
    };
    result.unwrap_or_else(|error| {
        eprintln!("error: {error:#}");
        ExitCode::FAILURE
    })
}
