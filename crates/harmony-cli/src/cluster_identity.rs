//! `harmony cluster identity render`: how the API server trusts the identity provider's tokens
//! (see `harmony_guardrails::identity`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use harmony::private_file::replace_private;
use harmony_guardrails::identity::{OkdClient, cluster_identity};
use harmony_manifests::stream;
use harmony_tenant::ClusterFlavor;

use crate::cluster::{Flavor, Output};
use crate::input::{identity_provider_ca, load_facts, load_identity_provider};

#[derive(Subcommand)]
pub(crate) enum IdentityCommand {
    /// Render the cluster's trust of the identity provider: for Kubernetes the
    /// AuthenticationConfiguration file for `kube-apiserver --authentication-config`; for OKD
    /// the CA ConfigMap and the OAuth `cluster` with an OpenID identity provider, for
    /// `oc apply --server-side`.
    Render(RenderArgs),
}

/// Arguments of `harmony cluster identity render`.
#[derive(Args)]
pub(crate) struct RenderArgs {
    /// The IdentityProvider file (issuer, CA file, client id, claims and prefixes).
    #[arg(long, value_name = "FILE")]
    idp: PathBuf,
    /// A ClusterProfile file describing the cluster (its flavor decides the documents).
    #[arg(long, value_name = "PROFILE")]
    cluster: Option<PathBuf>,
    /// Without --cluster: the kind of cluster.
    #[arg(long, value_enum, default_value_t = Flavor::Kubernetes, conflicts_with = "cluster")]
    flavor: Flavor,
    /// OKD: the confidential client OKD's OAuth server logs in with.
    #[arg(long, value_name = "ID", default_value = "okd")]
    okd_client_id: String,
    /// OKD: the Secret in openshift-config holding that client's secret under `clientSecret`
    /// (default: `<identity provider>-client-secret`); only its name is rendered.
    #[arg(long, value_name = "NAME")]
    okd_client_secret: Option<String>,
    /// Write the documents to FILE (atomically, mode 0600).
    #[arg(long, value_name = "FILE", conflicts_with = "output")]
    out: Option<PathBuf>,
    /// Print them to standard output instead, as YAML or JSON.
    #[arg(short = 'o', long, value_enum)]
    output: Option<Output>,
}

/// Runs `harmony cluster identity ...`.
pub(crate) fn run(command: IdentityCommand) -> anyhow::Result<ExitCode> {
    let IdentityCommand::Render(args) = command;
    if args.out.is_none() && args.output.is_none() {
        bail!("say where to render: --out FILE or -o yaml|json (standard output)");
    }
    let facts = load_facts(args.cluster.as_deref(), args.flavor.into())?;
    let provider = load_identity_provider(&args.idp)?;
    let ca = identity_provider_ca(&args.idp, &provider)?;
    let okd = OkdClient {
        client_id: args.okd_client_id,
        secret_name: args.okd_client_secret,
    };
    let plan = cluster_identity(&provider, ca.as_deref(), facts.flavor, &okd);
    for note in &plan.notes {
        eprintln!("note: {note}");
    }
    let mut text = match (facts.flavor, args.output.unwrap_or(Output::Yaml)) {
        // One document, as kube-apiserver reads it: no stream separator.
        (ClusterFlavor::Kubernetes, Output::Yaml) => serde_saphyr::to_string(&plan.documents[0])?,
        (ClusterFlavor::Kubernetes, Output::Json) => {
            serde_json::to_string_pretty(&plan.documents[0])? + "\n"
        }
        (ClusterFlavor::Okd, output) => stream(&plan.documents, output.into()),
    };
    if !text.ends_with('\n') {
        text.push('\n');
    }
    match args.out {
        Some(path) => {
            replace_private(&path, text.as_bytes(), None)?;
            let what = match facts.flavor {
                ClusterFlavor::Kubernetes => "AuthenticationConfiguration",
                ClusterFlavor::Okd => "CA ConfigMap and OAuth cluster",
            };
            println!("wrote {}: {what}", path.display());
        }
        None => std::io::stdout()
            .lock()
            .write_all(text.as_bytes())
            .context("writing to standard output")?,
    }
    Ok(ExitCode::SUCCESS)
}
