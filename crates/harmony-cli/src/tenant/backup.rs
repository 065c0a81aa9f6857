//! `harmony tenant backup now | list | status` and `harmony tenant restore-drill`: a tenant's
//! Velero backups on a live cluster (through [`harmony_k8s::Backups`]); progress goes to
//! standard error, the result to standard output.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use harmony::Topology;
use harmony_k8s::{ApplyOptions, BackupInfo, Backups};
use harmony_tenant::backup::drill::Purpose;
use harmony_tenant::{TenantManager, compile};

use crate::input::load_tenants;
use crate::live::{ClusterArgs, Format, parse_duration, runtime};

/// Arguments of `harmony tenant backup`.
#[derive(Args)]
pub struct BackupArgs {
    #[command(subcommand)]
    command: BackupCommand,
}

#[derive(Subcommand)]
enum BackupCommand {
    /// Back the tenant up now (as its Schedule does) and wait until Velero completes it.
    Now {
        #[command(flatten)]
        target: Target,
        /// How long to wait for Velero, such as `90s` or `10m`.
        #[arg(long, default_value = "10m", value_parser = parse_duration)]
        timeout: Duration,
    },
    /// List the tenant's backups, oldest first.
    List {
        #[command(flatten)]
        target: Target,
    },
    /// The tenant's Schedule and its latest backups.
    Status {
        #[command(flatten)]
        target: Target,
    },
}

/// Which tenant, on which cluster, printed how.
#[derive(Args)]
struct Target {
    /// The tenant id.
    name: String,
    #[command(flatten)]
    cluster: ClusterArgs,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    output: Format,
}

/// Arguments of `harmony tenant restore-drill`.
#[derive(Args)]
pub struct DrillArgs {
    /// The tenant id.
    name: String,
    /// The tenant files (the scratch namespace gets the tenant's labels, quota and policies).
    #[arg(short = 'f', long = "filename", value_name = "PATH", required = true, num_args = 1..)]
    files: Vec<PathBuf>,
    #[command(flatten)]
    cluster: ClusterArgs,
    /// How long to wait for the restore (and for the scratch namespace to go), such as `10m`.
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    timeout: Duration,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    output: Format,
}

fn progress(line: &str) {
    eprintln!("{line}");
}

fn print<T: serde::Serialize>(
    value: &T,
    output: Format,
    text: impl FnOnce(),
) -> anyhow::Result<()> {
    match output {
        Format::Text => text(),
        Format::Json => println!("{}", serde_json::to_string_pretty(value)?),
        Format::Yaml => print!("{}", serde_saphyr::to_string(value)?),
    }
    Ok(())
}

fn backup_line(b: &BackupInfo) -> String {
    format!(
        "{:<40} {:<9} {:<15} {:>6} items  started {}  expires {}",
        b.name,
        b.purpose,
        b.phase,
        b.items,
        if b.started.is_empty() {
            "-"
        } else {
            &b.started
        },
        if b.expires.is_empty() {
            "-"
        } else {
            &b.expires
        },
    )
}

/// Runs `harmony tenant backup ...`.
pub fn run(args: BackupArgs) -> anyhow::Result<ExitCode> {
    let target = match &args.command {
        BackupCommand::Now { target, .. }
        | BackupCommand::List { target }
        | BackupCommand::Status { target } => target,
    };
    runtime()?.block_on(async {
        let topology = target.cluster.topology(ApplyOptions::default()).await?;
        let backups = Backups::new(topology.cluster(), &progress);
        let name = target.name.as_str();
        match &args.command {
            BackupCommand::Now { timeout, .. } => {
                let done = backups.backup_now(name, Purpose::Manual, *timeout).await?;
                print(&done, target.output, || {
                    println!(
                        "backup {}/{} of tenant {name}: {}, {} items, kept until {}",
                        done.namespace, done.name, done.phase, done.items, done.expires
                    );
                })?;
            }
            BackupCommand::List { .. } => {
                let list = backups.list(name).await?;
                print(&list, target.output, || {
                    if list.is_empty() {
                        println!("tenant {name} has no backups yet");
                    }
                    for b in &list {
                        println!("{}", backup_line(b));
                    }
                })?;
            }
            BackupCommand::Status { .. } => {
                let status = backups.status(name).await?;
                print(&status, target.output, || {
                    println!(
                        "tenant {name}: Schedule {}/{} `{}` {}{}",
                        status.namespace,
                        status.schedule,
                        status.cron,
                        status.phase,
                        if status.validation_errors.is_empty() {
                            String::new()
                        } else {
                            format!(" ({})", status.validation_errors.join("; "))
                        }
                    );
                    println!(
                        "  last scheduled backup: {}",
                        if status.last_backup.is_empty() {
                            "none yet"
                        } else {
                            &status.last_backup
                        }
                    );
                    for (what, backup) in [
                        ("latest", &status.latest),
                        ("latest completed", &status.latest_completed),
                    ] {
                        match backup {
                            Some(b) => println!("  {what}: {}", backup_line(b)),
                            None => println!("  {what}: none"),
                        }
                    }
                })?;
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Runs `harmony tenant restore-drill`: exit 0 when the drill passed, 1 when it failed or could
/// not run.
pub fn drill(args: DrillArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let topology = args.cluster.topology(ApplyOptions::default()).await?;
        topology.ensure_ready().await?;
        let facts = topology.cluster_facts().await?;
        let tenant = load_tenants(&args.files, &facts)?
            .into_iter()
            .find(|t| t.name() == args.name)
            .with_context(|| format!("no tenant `{}` in the tenant files given", args.name))?;
        let plan = compile(&tenant, &facts);
        let backups = Backups::new(topology.cluster(), &progress);
        let report = backups.restore_drill(&plan, args.timeout).await?;
        print(&report, args.output, || {
            let verdict = if report.passed { "passed" } else { "FAILED" };
            let scratch: Vec<&str> =
                report.scratch_namespaces.iter().map(|n| n.scratch.as_str()).collect();
            let scratch = scratch.join(", ");
            println!(
                "restore drill of tenant {}: {verdict} (backup {} restored into {scratch}, Velero {}, {} warnings)",
                report.tenant, report.backup, report.phase, report.warnings
            );
            if let Some(comparison) = &report.comparison {
                for k in &comparison.kinds {
                    println!("  {:<24} backed up {:>4}  restored {:>4}", k.kind, k.backed_up, k.restored);
                }
            }
            for problem in &report.problems {
                println!("  problem: {problem}");
            }
            println!(
                "  scratch namespace{} {scratch}: {}",
                if report.scratch_namespaces.len() == 1 { "" } else { "s" },
                if report.cleaned_up { "deleted" } else { "NOT deleted yet: delete it by hand" }
            );
            if report.status_recorded {
                println!("  recorded in Tenant {}: status.restoreDrill", report.tenant);
            }
        })?;
        Ok(if report.passed {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        })
    })
}
