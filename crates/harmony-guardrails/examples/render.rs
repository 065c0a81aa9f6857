//! Renders cluster guardrails with the Rust API: `cargo run -p harmony-guardrails --example
//! render -- GUARDRAILS_FILE OUT_DIR [okd|kubernetes] TENANT_FILE...`.
//!
//! Writes OUT_DIR (one object per file, plus kustomization.yaml) and prints the findings.

use std::path::Path;
use std::process::ExitCode;

use harmony::Documents;
use harmony_guardrails::{ClusterGuardrailsScore, compile_guardrails, manifest_files};
use harmony_tenant::{ClusterFacts, ClusterFlavor, load_tenants};

fn run(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let [guardrails, out, flavor, tenant_files @ ..] = args else {
        return Err("usage: render GUARDRAILS_FILE OUT_DIR okd|kubernetes TENANT_FILE...".into());
    };
    let flavor = match flavor.as_str() {
        "okd" => ClusterFlavor::Okd,
        "kubernetes" => ClusterFlavor::Kubernetes,
        other => return Err(format!("`{other}` is not a flavor: use okd or kubernetes").into()),
    };
    let facts = ClusterFacts::for_flavor(flavor);
    let score = Documents::read(&[guardrails])?.load_one::<ClusterGuardrailsScore>(&facts)?;
    let tenants = match tenant_files {
        [] => vec![],
        files => load_tenants(&Documents::read(files)?, &facts)?,
    };
    let plan = compile_guardrails(&score, &facts, &tenants);
    let outcome =
        harmony_manifests::write_folder(Path::new(out), &manifest_files(&plan, &score.name))?;
    println!("{}", outcome.message);
    for finding in &plan.findings {
        println!("{:?} {}: {}", finding.severity, finding.id, finding.message);
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
