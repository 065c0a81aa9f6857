//! Renders cluster guardrails with the Rust API, as `harmony cluster guardrails render --out`
//! does: the guardrails Score on the manifest topology.
//!
//! Run: `cargo run -p harmony-manifests --example render_guardrails -- GUARDRAILS_FILE OUT_DIR
//! okd|kubernetes TENANT_FILE...`. Writes OUT_DIR (one object per file, plus
//! kustomization.yaml) and prints the outcome, findings included.

use std::process::ExitCode;

use harmony::{Documents, Maestro, Score};
use harmony_guardrails::{ClusterGuardrailsScore, GuardrailsScore};
use harmony_manifests::ManifestTopology;
use harmony_tenant::{ClusterFacts, ClusterFlavor, load_tenants};

async fn run(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let [guardrails, out, flavor, tenant_files @ ..] = args else {
        return Err(
            "usage: render_guardrails GUARDRAILS_FILE OUT_DIR okd|kubernetes TENANT_FILE...".into(),
        );
    };
    let flavor = match flavor.as_str() {
        "okd" => ClusterFlavor::Okd,
        "kubernetes" => ClusterFlavor::Kubernetes,
        other => return Err(format!("`{other}` is not a flavor: use okd or kubernetes").into()),
    };
    let facts = ClusterFacts::for_flavor(flavor);
    let guardrails = Documents::read(&[guardrails])?.load_one::<ClusterGuardrailsScore>(&facts)?;
    let tenants = match tenant_files {
        [] => vec![],
        files => load_tenants(&Documents::read(files)?, &facts)?,
    };
    let mut maestro = Maestro::new(ManifestTopology::new(out, facts));
    let score = GuardrailsScore {
        guardrails,
        tenants,
    };
    maestro.register([Box::new(score) as Box<dyn Score<ManifestTopology>>]);
    let outcome = maestro.run().await?.results.remove(0).result?;
    println!("{}", outcome.message);
    for detail in &outcome.details {
        println!("  {detail}");
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
