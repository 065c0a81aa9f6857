//! Renders cluster guardrails with the Rust API: `cargo run -p harmony-guardrails --example
//! render -- GUARDRAILS_FILE OUT_DIR [okd|kubernetes] TENANT_FILE...`.
//!
//! Writes OUT_DIR (one object per file, plus kustomization.yaml) and prints the findings.

use std::path::Path;
use std::process::ExitCode;

use harmony::parse_documents;
use harmony_guardrails::{ClusterGuardrailsScore, compile_guardrails, manifest_files};
use harmony_tenant::{ClusterFacts, ClusterFlavor, TenantScore};

fn documents<T: serde::de::DeserializeOwned>(path: &str) -> Result<Vec<T>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let docs = parse_documents(path, &text).map_err(|d| d.to_string())?;
    docs.iter()
        .map(|d| d.deserialize::<T>().map_err(|ds| format!("{}", ds[0])))
        .collect()
}

fn run(args: &[String]) -> Result<(), String> {
    let [guardrails, out, flavor, tenant_files @ ..] = args else {
        return Err("usage: render GUARDRAILS_FILE OUT_DIR okd|kubernetes TENANT_FILE...".into());
    };
    let flavor = match flavor.as_str() {
        "okd" => ClusterFlavor::Okd,
        "kubernetes" => ClusterFlavor::Kubernetes,
        other => return Err(format!("`{other}` is not a flavor: use okd or kubernetes")),
    };
    let facts = ClusterFacts::for_flavor(flavor);
    let [score] = documents::<ClusterGuardrailsScore>(guardrails)?
        .try_into()
        .map_err(|_| format!("{guardrails}: holds one ClusterGuardrails document"))?;
    let problems = score.validate(&facts);
    if let Some(p) = problems.first() {
        return Err(format!("{guardrails}: {}: {}", p.path, p.message));
    }
    let mut tenants = Vec::new();
    for file in tenant_files {
        tenants.extend(documents::<TenantScore>(file)?);
    }
    let plan = compile_guardrails(&score, &facts, &tenants);
    let outcome =
        harmony_manifests::write_folder(Path::new(out), &manifest_files(&plan, &score.name))
            .map_err(|e| e.to_string())?;
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
