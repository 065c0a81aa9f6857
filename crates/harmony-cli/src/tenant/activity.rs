//! `harmony tenant activity [TENANT] --audit-log FILE... -f TENANTS [--idp FILE] [--since WHEN]
//! [-o FORMAT]`: who of a tenant did what on the API, read from the API server's audit log
//! (identity provider members named as the API server records them, from `--idp`). Exit 0 with the
//! report (whatever it finds; malformed lines are reported on standard error and skipped), 2
//! when no report can be made.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, anyhow};
use clap::{Args, ValueEnum};
use harmony_audit::activity::{Analyzer, Format, open_log, parse_since, render};
use jiff::Timestamp;

use super::Inputs;

/// Malformed lines shown on standard error; the rest are counted.
const SHOWN_PROBLEMS: u64 = 100;

/// Arguments of `harmony tenant activity`.
#[derive(Args)]
pub struct ActivityArgs {
    /// The tenant; without it, every tenant of the files.
    tenant: Option<String>,
    /// The API server's audit log files (JSON lines, one audit.k8s.io/v1 Event each): the
    /// current one and rotated ones, plain or gzip (told by their content), in any order.
    #[arg(long = "audit-log", value_name = "FILE", required = true, num_args = 1..)]
    audit_logs: Vec<PathBuf>,
    /// Only requests received since WHEN: a duration back from now (30m, 24h, 7d, 1h30m) or an
    /// RFC 3339 time (2026-12-03T12:00:00Z).
    #[arg(long, value_name = "WHEN")]
    since: Option<String>,
    #[command(flatten)]
    inputs: Inputs,
    /// Report format.
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    output: Output,
}

#[derive(Clone, Copy, ValueEnum)]
enum Output {
    Text,
    Json,
    Csv,
}

/// Runs `harmony tenant activity`: exit 0 with a report, 2 when none could be made.
pub fn run(args: ActivityArgs) -> anyhow::Result<ExitCode> {
    Ok(report(args).unwrap_or_else(|error| {
        eprintln!("error: {error:#}");
        ExitCode::from(2)
    }))
}

fn report(args: ActivityArgs) -> anyhow::Result<ExitCode> {
    let since = args
        .since
        .as_deref()
        .map(|text| parse_since(text, Timestamp::now()))
        .transpose()
        .map_err(|e| anyhow!("--since: {e}"))?;
    let (facts, tenants) = args.inputs.load()?;
    let mut analyzer = Analyzer::new(&tenants, facts.oidc.as_ref(), args.tenant.as_deref(), since)?;
    // Every file must open before any is read: a typo is refused, not half a report.
    for path in &args.audit_logs {
        open_log(path).map_err(|e| anyhow!("--audit-log: {e}"))?;
    }
    let mut problems = 0;
    for path in &args.audit_logs {
        let log = open_log(path).map_err(|e| anyhow!("--audit-log: {e}"))?;
        analyzer.read(log, |problem| {
            problems += 1;
            if problems <= SHOWN_PROBLEMS {
                eprintln!("{problem}");
            }
        });
    }
    if problems > SHOWN_PROBLEMS {
        eprintln!(
            "{} more malformed lines not shown",
            problems - SHOWN_PROBLEMS
        );
    }
    let format = match args.output {
        Output::Text => Format::Text,
        Output::Json => Format::Json,
        Output::Csv => Format::Csv,
    };
    std::io::stdout()
        .lock()
        .write_all(render(&analyzer.finish(), format).as_bytes())
        .context("writing to standard output")?;
    Ok(ExitCode::SUCCESS)
}
