//! `harmony identity plan|sync`: make the identity provider hold the groups and memberships the
//! tenants' `oidc` members need (the Keycloak adapter), logging every change.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use harmony_identity::desired;
use harmony_keycloak::audit_log::{Entry, now};
use harmony_keycloak::{AdminCredentials, AuditLog, KeycloakSync, Method};

use crate::tenant::Inputs;

/// Arguments of `harmony identity`.
#[derive(Args)]
pub struct IdentityArgs {
    #[command(subcommand)]
    command: IdentityCommand,
}

#[derive(Subcommand)]
enum IdentityCommand {
    /// Show what `sync` would change in the identity provider; reads only. Exit 2 when
    /// something would change, 0 when it matches.
    Plan(SyncArgs),
    /// Make the identity provider match the tenants: the realm (when harmony owns it), the
    /// kubectl client, one group per tenant role, memberships; removed members leave and are
    /// logged out. Every change is appended to the audit log.
    Sync(SyncArgs),
}

#[derive(Args)]
struct SyncArgs {
    #[command(flatten)]
    inputs: Inputs,
    /// The identity provider admin's credentials: a 0600 file with the user name on the first
    /// line and the password on the second. Default: HARMONY_IDP_ADMIN_USER and
    /// HARMONY_IDP_ADMIN_PASSWORD.
    #[arg(long, value_name = "FILE")]
    admin_credentials: Option<PathBuf>,
    /// The audit log of identity changes (JSON lines, appended, created 0600).
    #[arg(
        long,
        value_name = "FILE",
        default_value = "harmony-identity-audit.jsonl"
    )]
    audit_log: PathBuf,
}

/// Runs `harmony identity ...`.
pub fn run(args: IdentityArgs) -> anyhow::Result<ExitCode> {
    let (args, apply) = match args.command {
        IdentityCommand::Plan(args) => (args, false),
        IdentityCommand::Sync(args) => (args, true),
    };
    let (_, tenants, provider) = args.inputs.load_with_idp()?;
    let provider = provider.context(
        "harmony identity needs the identity provider: pass --idp FILE (a kind: IdentityProvider file)",
    )?;
    let credentials = AdminCredentials::load(args.admin_credentials.as_deref())?;
    let sync = KeycloakSync::connect(&provider, credentials)?;
    let plan = sync.plan(&desired(&tenants))?;
    let count = plan.steps.len();
    if !apply {
        for step in &plan.steps {
            println!("{step}");
        }
        println!("{}; {}", summary(count, "to make"), requests(&sync));
        return Ok(if count == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(2)
        });
    }
    let mut log = AuditLog::open(&args.audit_log)?;
    let operator = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    sync.apply(plan, &mut |step| {
        println!("{step}");
        log.append(&Entry {
            time: now(),
            admin: sync.admin_name(),
            operator: &operator,
            issuer: sync.issuer(),
            action: step.action(),
            target: step.target(),
        })
        .map_err(|e| e.to_string())
    })?;
    println!("{}; {}", summary(count, "made"), requests(&sync));
    Ok(ExitCode::SUCCESS)
}

/// `no change: ...` or `N changes made`.
fn summary(count: usize, verb: &str) -> String {
    match count {
        0 => "no change: the identity provider matches the tenants".to_string(),
        1 => format!("1 change {verb}"),
        n => format!("{n} changes {verb}"),
    }
}

/// `requests: GET 12, POST 3` (token requests included).
fn requests(sync: &KeycloakSync) -> String {
    let counts = sync.http().counts();
    let shown: Vec<String> = [Method::Get, Method::Post, Method::Put, Method::Delete]
        .iter()
        .filter_map(|m| counts.get(m).map(|n| format!("{} {n}", m.as_str())))
        .collect();
    format!("requests: {}", shown.join(", "))
}
