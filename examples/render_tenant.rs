//! Builds a tenant with the Rust API and renders it, as `harmony tenant render` does.
//!
//! Run: `cargo run -p harmony-manifests --example render_tenant -- OUT_DIR`
//! (without OUT_DIR, the manifests are printed as a YAML stream).

use harmony::{Maestro, Score};
use harmony_manifests::{Format, ManifestTopology, encode_stream};
use harmony_tenant::{ClusterFacts, Member, PlatformSource, TenantRole, TenantScore, compile};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The same tenant a `kind: Tenant` file describes; unset fields take safe defaults.
    let acme = TenantScore::new("acme")
        .display_name("ACME Corp")
        .requests("4", "8Gi")
        .limits("8", "16Gi")
        .allow_from([PlatformSource::Ingress])
        .allow_egress_to("203.0.113.0/24")
        .storage_class("standard", "100Gi")
        .member(Member::user("alice", TenantRole::Admin, "alice@acme.com"))
        .member(Member::group("devs", TenantRole::Developer, "acme-devs"))
        .member(Member::service_account("ci", TenantRole::Developer));

    let facts = ClusterFacts::kubernetes();
    let problems = acme.validate(&facts);
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("{}: {}", p.path, p.message);
        }
        return Err("invalid tenant".into());
    }

    match std::env::args().nth(1) {
        // A folder for GitOps, through the Score / Interpret / Topology pattern.
        Some(out) => {
            let mut maestro = Maestro::new(ManifestTopology::new(out, facts));
            let scores: Vec<Box<dyn Score<ManifestTopology>>> = vec![Box::new(acme)];
            maestro.register(scores);
            let report = maestro.run().await?;
            println!("{}", report.summary());
        }
        // Or the plan itself, printed as YAML.
        None => print!("{}", encode_stream(&[compile(&acme, &facts)], Format::Yaml)),
    }
    Ok(())
}
