//! `harmony tenant export`: tenant files as `Tenant` resources, for GitOps with the operator.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use harmony_manifests::{Format, stream};
use harmony_operator::Tenant;

use crate::tenant::{Inputs, Output};

/// Tenant files to turn into `Tenant` resources.
#[derive(Args)]
pub struct ExportArgs {
    #[command(flatten)]
    inputs: Inputs,
    /// A YAML stream, or a JSON `v1` List.
    #[arg(short = 'o', long, value_enum, default_value = "yaml")]
    output: Output,
}

/// Validates the tenant files as `tenant validate` does, then prints their Tenant resources.
pub fn run(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let (_, tenants) = args.inputs.load()?;
    let resources: Vec<Tenant> = tenants.iter().map(Tenant::from_score).collect();
    let format = match args.output {
        Output::Yaml => Format::Yaml,
        Output::Json => Format::Json,
    };
    std::io::stdout()
        .lock()
        .write_all(stream(&resources, format).as_bytes())
        .context("writing to standard output")?;
    Ok(ExitCode::SUCCESS)
}
