//! `harmony cluster guardrails render`: what tenants cannot override (admission rules, network
//! tiers, OKD hardening), as manifests. `apply` waits for the live-cluster topology.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use harmony_guardrails::{
    ClusterGuardrailsScore, GUARDRAILS_KIND, GuardrailsPlan, Severity, compile_guardrails,
    encode_stream, manifest_files, write_folder,
};
use harmony_manifests::Format;
use harmony_tenant::{API_VERSION, ClusterFacts, ClusterFlavor, TenantScore};

use crate::input::{Problems, load_facts, load_tenants, read_documents};

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
}

#[derive(Subcommand)]
enum GuardrailsCommand {
    /// Compile the guardrails to Kubernetes manifests; findings go to standard error.
    Render {
        /// Tenant files or folders: each tenant gets its parameter ConfigMap and its
        /// AdminNetworkPolicy. Without them only the cluster-wide objects are rendered.
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
}

#[derive(Clone, Copy, ValueEnum)]
enum Flavor {
    Kubernetes,
    Okd,
}

#[derive(Clone, Copy, ValueEnum)]
enum Output {
    Yaml,
    Json,
}

/// Runs `harmony cluster ...`.
pub fn run(args: ClusterArgs) -> anyhow::Result<ExitCode> {
    match args.command {
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
            let flavor = match flavor {
                Flavor::Kubernetes => ClusterFlavor::Kubernetes,
                Flavor::Okd => ClusterFlavor::Okd,
            };
            if out.is_none() && output.is_none() {
                bail!(
                    "say where to render: --out DIR (a folder of manifests) or -o yaml|json (standard output)"
                );
            }
            let facts = load_facts(cluster.as_deref(), flavor)?;
            let score = load_guardrails(guardrails.as_deref(), &facts)?;
            let tenants: Vec<TenantScore> = if files.is_empty() {
                vec![]
            } else {
                load_tenants(&files, &facts)?
            };
            let plan = compile_guardrails(&score, &facts, &tenants);
            report_findings(&plan);
            match (out, output) {
                (Some(dir), _) => {
                    let outcome = write_folder(&dir, &manifest_files(&plan, &score.name))?;
                    println!("guardrails: {:?}: {}", outcome.status, outcome.message);
                    for detail in &outcome.details {
                        println!("  {detail}");
                    }
                }
                (None, Some(output)) => {
                    let format = match output {
                        Output::Yaml => Format::Yaml,
                        Output::Json => Format::Json,
                    };
                    std::io::stdout()
                        .lock()
                        .write_all(encode_stream(&plan, format).as_bytes())
                        .context("writing to standard output")?;
                }
                (None, None) => unreachable!("checked above"),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Findings on standard error, so that `-o yaml` output stays a clean stream.
fn report_findings(plan: &GuardrailsPlan) {
    for finding in &plan.findings {
        let severity = match finding.severity {
            Severity::Info => "note",
            Severity::Warning => "warning",
        };
        eprintln!("{severity}: {}: {}", finding.id, finding.message);
    }
}

/// The guardrails of a ClusterGuardrails file, checked against `facts`; the defaults without a
/// file. Every problem is reported with its line and column.
fn load_guardrails(
    path: Option<&Path>,
    facts: &ClusterFacts,
) -> anyhow::Result<ClusterGuardrailsScore> {
    let Some(path) = path else {
        return Ok(ClusterGuardrailsScore::default());
    };
    let documents = read_documents(&[path.to_path_buf()])?;
    let [doc] = documents.as_slice() else {
        bail!(
            "{}: holds {} documents: a guardrails file holds exactly one `kind: {GUARDRAILS_KIND}`",
            path.display(),
            documents.len()
        );
    };
    let mut problems = Vec::new();
    for (field, wanted) in [("apiVersion", API_VERSION), ("kind", GUARDRAILS_KIND)] {
        match doc.field(field) {
            Some(value) if value == wanted => {}
            Some(value) => problems.push(doc.diagnostic(
                field,
                format!("`{value}` is not supported: use `{field}: {wanted}`"),
            )),
            None => {
                problems.push(doc.diagnostic(field, format!("is missing: add `{field}: {wanted}`")))
            }
        }
    }
    if !problems.is_empty() {
        return Err(Problems(problems).into());
    }
    let parsed = doc.parse::<ClusterGuardrailsScore>();
    let mut problems = parsed.problems.clone();
    if let Some(score) = &parsed.value {
        problems.extend(
            score
                .validate(facts)
                .into_iter()
                .map(|p| parsed.diagnostic(&p.path, p.message)),
        );
    }
    problems.sort_by_key(|d| (d.line, d.column));
    match parsed.value {
        Some(score) if problems.is_empty() => Ok(score),
        _ => Err(Problems(problems).into()),
    }
}
