//! `harmony tenant usage` and `harmony tenant cost`: per tenant, CPU, memory and storage
//! reserved (quota), requested and used, read from Prometheus by namespace; and their cost over a
//! window from a price sheet. Exit 0 with the report, 2 when none can be made.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, anyhow, bail};
use clap::{Args, ValueEnum};
use harmony::Documents;
use harmony_showback::{
    Endpoint, PriceSheet, Prometheus, TenantNamespace, Window, chart, collect, cost,
    parse_duration, read_token_file, render,
};
use jiff::Timestamp;

use super::Inputs;
use crate::input::Refused;

/// The environment variable a token can be passed in instead of --token-file.
const TOKEN_ENV: &str = "HARMONY_PROMETHEUS_TOKEN";

/// Where the figures are read.
#[derive(Args)]
pub struct Source {
    /// The Prometheus API's base URL (Prometheus, or OKD's thanos-querier :9091 with a token
    /// bound to cluster-monitoring-view), such as http://127.0.0.1:9090.
    #[arg(long, value_name = "URL")]
    prometheus: String,
    /// A file holding the bearer token, readable by its owner only (chmod 600); without it, the
    /// token in HARMONY_PROMETHEUS_TOKEN, if set.
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// PEM certificates to trust for an https URL, instead of the built-in roots.
    #[arg(long, value_name = "FILE")]
    certificate_authority: Option<PathBuf>,
    /// Give up on a query after this long (30s, 2m, ...).
    #[arg(long, value_name = "DURATION", default_value = "60s")]
    timeout: String,
    /// Print on standard error how many queries were made, the bytes read and the time taken.
    #[arg(short, long)]
    verbose: bool,
}

/// Arguments of `harmony tenant usage`.
#[derive(Args)]
pub struct UsageArgs {
    #[command(flatten)]
    inputs: Inputs,
    #[command(flatten)]
    source: Source,
    /// The time of the figures (RFC 3339, such as 2026-12-03T12:00:00Z); now without it.
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    /// Report format.
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    output: Output,
}

/// Arguments of `harmony tenant cost`.
#[derive(Args)]
pub struct CostArgs {
    #[command(flatten)]
    inputs: Inputs,
    #[command(flatten)]
    source: Source,
    /// The PriceSheet file.
    #[arg(long, value_name = "FILE")]
    prices: PathBuf,
    /// How far back from --end: 30d, 7d, 12h, ...
    #[arg(long, value_name = "DURATION", default_value = "30d")]
    window: String,
    /// The end of the window (RFC 3339), rounded down to a whole --step; now without it.
    #[arg(long, value_name = "TIME")]
    end: Option<String>,
    /// Figures are averaged over each step and costed step by step.
    #[arg(long, value_name = "DURATION", default_value = "1h")]
    step: String,
    /// Report format.
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    output: Output,
    /// Also write a chart a client can be sent: FILE.svg, or FILE.html (chart and table).
    #[arg(long, value_name = "FILE")]
    chart: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Output {
    Text,
    Json,
    Csv,
}

impl From<Output> for render::Format {
    fn from(output: Output) -> Self {
        match output {
            Output::Text => render::Format::Text,
            Output::Json => render::Format::Json,
            Output::Csv => render::Format::Csv,
        }
    }
}

/// Runs `harmony tenant usage`: exit 0 with a report, 2 when none could be made.
pub fn run_usage(args: UsageArgs) -> anyhow::Result<ExitCode> {
    Ok(exit(usage(args)))
}

/// Runs `harmony tenant cost`: exit 0 with a report, 2 when none could be made.
pub fn run_cost(args: CostArgs) -> anyhow::Result<ExitCode> {
    Ok(exit(cost_report(args)))
}

fn exit(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn usage(args: UsageArgs) -> anyhow::Result<()> {
    let at = time("--at", args.at.as_deref())?;
    let tenants = tenants(&args.inputs)?;
    let client = args.source.client()?;
    let started = Instant::now();
    let report = collect::usage(&client, &tenants, at)?;
    args.source.report_stats(&client, started);
    print(&render::usage(&report, args.output.into()))
}

fn cost_report(args: CostArgs) -> anyhow::Result<()> {
    let end = time("--end", args.end.as_deref())?;
    let window =
        Window::new(&args.window, &args.step, end).map_err(|e| anyhow!("--window/--step: {e}"))?;
    let chart = args.chart.as_deref().map(chart_kind).transpose()?;
    let sheet = Documents::read(&[&args.prices])
        .and_then(|d| d.load_one::<PriceSheet>(&()))
        .map_err(Refused::from)?;
    let tenants = tenants(&args.inputs)?;
    let client = args.source.client()?;
    let started = Instant::now();
    let measurements = collect::over_window(&client, &tenants, &window)?;
    args.source.report_stats(&client, started);
    let report = cost(&measurements, &tenants, &window, &sheet)?;
    if let (Some(path), Some(kind)) = (&args.chart, chart) {
        let page = match kind {
            Chart::Svg => chart::svg(&report),
            Chart::Html => chart::html(&report),
        };
        std::fs::write(path, page).with_context(|| format!("writing {}", path.display()))?;
    }
    print(&render::cost(&report, args.output.into()))
}

#[derive(Clone, Copy)]
enum Chart {
    Svg,
    Html,
}

/// The kind of chart `path` asks for, by its extension.
fn chart_kind(path: &Path) -> anyhow::Result<Chart> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("svg") => Ok(Chart::Svg),
        Some("html") => Ok(Chart::Html),
        _ => bail!(
            "--chart {}: name a .svg file (the chart) or a .html file (chart and table)",
            path.display()
        ),
    }
}

/// The time `text` of `flag` (RFC 3339), now without it.
fn time(flag: &str, text: Option<&str>) -> anyhow::Result<Timestamp> {
    text.map_or_else(
        || Ok(Timestamp::now()),
        |t| {
            t.parse().map_err(|_| {
                anyhow!(
                    "{flag} `{t}` is not a time: write it in RFC 3339, such as 2026-12-03T12:00:00Z"
                )
            })
        },
    )
}

/// The tenants of the files and their namespaces.
fn tenants(inputs: &Inputs) -> anyhow::Result<Vec<TenantNamespace>> {
    let (_, scores) = inputs.load()?;
    Ok(collect::namespaces(&scores))
}

impl Source {
    fn client(&self) -> anyhow::Result<Prometheus> {
        let timeout = parse_duration(&self.timeout)
            .map_err(|e| anyhow!("--timeout: {e}"))?
            .unsigned_abs();
        let token = match &self.token_file {
            Some(path) => Some(read_token_file(path)?),
            None => std::env::var(TOKEN_ENV)
                .ok()
                .filter(|t| !t.trim().is_empty()),
        };
        let ca_pem = self
            .certificate_authority
            .as_ref()
            .map(|path| {
                std::fs::read(path)
                    .with_context(|| format!("--certificate-authority {}", path.display()))
            })
            .transpose()?;
        Ok(Prometheus::new(Endpoint {
            url: self.prometheus.clone(),
            token,
            ca_pem,
            timeout,
        })?)
    }

    fn report_stats(&self, client: &Prometheus, started: Instant) {
        if self.verbose {
            let stats = client.stats();
            eprintln!(
                "prometheus: {} queries, {} bytes in {:.3} s",
                stats.queries,
                stats.bytes,
                started.elapsed().as_secs_f64()
            );
        }
    }
}

fn print(text: &str) -> anyhow::Result<()> {
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .context("writing to standard output")
}
