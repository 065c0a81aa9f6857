//! `harmony audit`: prove who can do what and who can reach whom, over rendered manifests, tenant
//! files (compiled on the fly) or a live cluster (read-only; tenant files then supply expectations);
//! `harmony audit probe` tries, as each tenant role, what isolation must refuse (dry runs).

use std::fmt::Display;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use harmony_audit::access::{can, what_can, who_can};
use harmony_audit::matrix::reachability;
use harmony_audit::probe::render as probe_render;
use harmony_audit::rbac::{Request, SubjectRef, UserInfo};
use harmony_audit::report::{Format, render};
use harmony_audit::{AuditConfig, ClusterSnapshot, Expectation, audit, explain};
use harmony_k8s::{InventoryReader, ProbeSelection, Prober, facts};
use harmony_tenant::connections::matched_connections;
use harmony_tenant::{ClusterFacts, ClusterFlavor, TenantPlan, TenantScore, compile};
use serde::Serialize;

use crate::input::{load_facts, load_tenants, with_identity_provider};

/// Audit tenant isolation: RBAC reach, network reachability, quotas and pod security.
#[derive(Args)]
pub struct AuditArgs {
    /// Answer one question instead of running the checks.
    #[command(subcommand)]
    command: Option<AuditCommand>,
    /// Rendered manifest files or folders (`*.yaml`, `*.yml`, `*.json`; kustomization.yaml skipped).
    #[arg(short = 'f', long = "filename", value_name = "PATH", num_args = 1.., global = true)]
    files: Vec<PathBuf>,
    /// Tenant files or folders: compiled on the fly when nothing else is given; with -f or a live
    /// cluster they only say what to expect (pod security level, internet egress, sources let in).
    #[arg(long, value_name = "PATH", num_args = 1.., global = true)]
    tenants: Vec<PathBuf>,
    /// Without --cluster: the defaults of this kind of cluster (a live cluster tells its own).
    #[arg(long, value_enum, default_value_t = AuditFlavor::Kubernetes, conflicts_with_all = ["cluster", "kubeconfig", "context"], global = true)]
    flavor: AuditFlavor,
    /// With --kubeconfig or --context, a live cluster is audited (read-only: lists, never
    /// Secrets); --cluster also describes rendered manifests and tenant files.
    #[command(flatten)]
    live: crate::live::ClusterArgs,
    /// An IdentityProvider file: how the API server names the --tenants files' identity
    /// provider (`oidc`) members, so their RoleBindings are expected.
    #[arg(long, value_name = "FILE", global = true)]
    idp: Option<PathBuf>,
    /// Audit only this tenant (the checks, and the per-tenant rows of `matrix`).
    #[arg(long, value_name = "NAME", global = true)]
    tenant: Option<String>,
    /// Report format; junit is for the checks only.
    #[arg(short = 'o', long, value_enum, default_value_t = AuditOutput::Text, global = true)]
    output: AuditOutput,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Which policies allow or block SRC → DST (each `ns`, `ns/pod`, `internet` or an IP).
    ///
    /// Every pair of pods is answered, two pods alike and a pod and itself (always allowed)
    /// included. Exit 0 when some pair is allowed (on PORT, when given), 1 when all are blocked.
    Explain {
        /// Source endpoint.
        src: String,
        /// Destination endpoint.
        dst: String,
        /// Port, such as `443` or `53/UDP`.
        port: Option<String>,
    },
    /// The reachability matrix between namespaces (`--pods`: also between pods), and per tenant
    /// its internet egress, DNS, ingress controller → tenant and monitoring → tenant paths.
    Matrix {
        /// Also one row per pair of pods the source holds (live clusters and Pod manifests).
        #[arg(long)]
        pods: bool,
    },
    /// Can USER do VERB on RESOURCE? Exit 0 for yes, 1 for no, with the grants that allow it; 2
    /// when the question cannot be answered (bad input, a resource of unknown group).
    ///
    /// Group membership: a user is in the --as-group groups and system:authenticated only (the
    /// audit cannot know what an identity provider adds); a ServiceAccount
    /// (system:serviceaccount:NS:NAME) is also in system:serviceaccounts and
    /// system:serviceaccounts:NS. Without -n the question is cluster-wide (all namespaces, or a
    /// cluster-scoped resource).
    Can {
        #[command(flatten)]
        question: Question,
        /// The user asking, or system:serviceaccount:NAMESPACE:NAME.
        #[arg(long = "as", value_name = "USER")]
        user: String,
        /// A group of the user (repeatable).
        #[arg(long = "as-group", value_name = "GROUP")]
        groups: Vec<String>,
    },
    /// Who can do VERB on RESOURCE: every subject of a binding that grants it, with the grants.
    ///
    /// Groups stay groups (their members are not known). Without -n the question is
    /// cluster-wide. Exit 0 when some subject can, 1 when nobody can, 2 when the question cannot
    /// be answered.
    WhoCan {
        #[command(flatten)]
        question: Question,
    },
    /// What can SUBJECT do: its grants, cluster-wide and per namespace.
    ///
    /// A User is taken to be in system:authenticated only, a Group stands for any member, a
    /// ServiceAccount is in its own groups too.
    WhatCan {
        /// User:NAME, Group:NAME, ServiceAccount:NAMESPACE/NAME or
        /// system:serviceaccount:NAMESPACE:NAME.
        subject: String,
        /// Only the grants that apply in this namespace (cluster-wide ones included).
        #[arg(short = 'n', long, value_name = "NAMESPACE")]
        namespace: Option<String>,
    },
    /// Probe a live cluster's behaviour: as each member role of each tenant (impersonated),
    /// try what the Multi-Tenancy Benchmarks try, with server-side dry runs (nothing is stored).
    ///
    /// Needs --kubeconfig (or --context) with credentials that may impersonate users, groups
    /// and ServiceAccounts. Tenants and members come from the cluster (namespaces labelled
    /// harmony.nationtech.io/tenant, their member-* RoleBindings), or from --tenants files. Exit
    /// 0 when every probe is as expected, 1 when a must-block probe was allowed, a must-allow
    /// probe refused or a probe got an unclassifiable answer, 2 when the probes could not run.
    Probe,
    /// One self-contained HTML page for people: what was audited, a summary, the namespace
    /// reachability grid and every tenant's checks with their evidence. Prints well to PDF.
    ///
    /// Takes the sources of the checks and exits as they do: 1 when a check fails.
    Report {
        /// The file to write (atomically; its directory must exist).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

/// `VERB RESOURCE[/SUBRESOURCE] [NAME] [-n NS]`, as `kubectl auth can-i` asks.
#[derive(Args)]
struct Question {
    /// A verb: get, list, watch, create, update, patch, delete, escalate, bind, impersonate, `*`.
    verb: String,
    /// RESOURCE[.GROUP][/SUBRESOURCE], such as pods, pods/exec, deployments.apps/scale (the group
    /// may be left out for built-in resources, named as kubectl names them: plural, singular,
    /// kind or short name, in any case: pods, pod, Pod, po), or a non-resource URL such as
    /// /metrics.
    resource: String,
    /// One object by name.
    name: Option<String>,
    /// The namespace asked about (one holding no objects is answered from cluster-wide
    /// bindings).
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    namespace: Option<String>,
}

impl Question {
    fn request(&self) -> anyhow::Result<Request> {
        Request::parse(
            &self.verb,
            &self.resource,
            self.name.as_deref(),
            self.namespace.as_deref(),
        )
        .map_err(anyhow::Error::msg)
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum AuditFlavor {
    Kubernetes,
    Okd,
}

#[derive(Clone, Copy, ValueEnum)]
enum AuditOutput {
    Text,
    Json,
    Junit,
}

/// Runs `harmony audit ...`: exit 1 when a check fails (or an explained path is blocked, or a
/// question is answered "no"). The questions (`explain`, `can`, `who-can`, `what-can`) and
/// `probe` exit 2 when they could not be answered, so 1 always means "no".
pub fn run(args: AuditArgs) -> anyhow::Result<ExitCode> {
    let unanswerable = |error: anyhow::Error| {
        eprintln!("error: {error:#}");
        ExitCode::from(2)
    };
    match args.command {
        Some(AuditCommand::Probe) => Ok(probe(&args).unwrap_or_else(unanswerable)),
        Some(AuditCommand::Report { ref out }) => {
            if !matches!(args.output, AuditOutput::Text) {
                bail!("-o: `harmony audit report` writes one HTML file (--out FILE); leave -o out");
            }
            crate::audit_report::check_out(out)?;
            run_audit(args)
        }
        Some(
            AuditCommand::Explain { .. }
            | AuditCommand::Can { .. }
            | AuditCommand::WhoCan { .. }
            | AuditCommand::WhatCan { .. },
        ) => Ok(run_audit(args).unwrap_or_else(unanswerable)),
        _ => run_audit(args),
    }
}

/// The checks, `matrix` and the questions.
fn run_audit(args: AuditArgs) -> anyhow::Result<ExitCode> {
    let (mut snapshot, facts, scores) =
        if args.live.kubeconfig.is_some() || args.live.context.is_some() {
            read_live(&args)?
        } else {
            read_offline(&args)?
        };
    let mut config = AuditConfig::new(facts.clone());
    // Paths between tenants that both declare them are reported as declared connections.
    config.facts.connections = matched_connections(&scores);
    config.expectations.extend(scores.iter().map(|s| {
        (
            s.name().to_string(),
            Expectation::of(s, facts.oidc.as_ref()),
        )
    }));
    snapshot.add_platform(&facts);
    snapshot.add_placeholder_pods();

    config.tenant = args.tenant.clone();
    let answer = match &args.command {
        None => None,
        Some(AuditCommand::Probe) => unreachable!("probes are run before any snapshot is read"),
        Some(AuditCommand::Explain { src, dst, port }) => {
            refuse_tenant(&args, "explain")?;
            let json = json_output(&args, "explain")?;
            let explanation = explain(
                &snapshot,
                (src, dst),
                port.as_deref(),
                &config.facts.connections,
            )
            .map_err(anyhow::Error::msg)?;
            print_answer(&explanation, json)?;
            Some(explanation.allowed())
        }
        Some(AuditCommand::Matrix { pods }) => {
            let json = json_output(&args, "matrix")?;
            let matrix = reachability(&snapshot, &config, *pods);
            check_tenant(&args, matrix.tenants.is_empty())?;
            print_answer(&matrix, json)?;
            Some(true)
        }
        Some(AuditCommand::Can {
            question,
            user,
            groups,
        }) => {
            refuse_tenant(&args, "can")?;
            let json = json_output(&args, "can")?;
            let user = UserInfo::impersonate(user, groups).map_err(anyhow::Error::msg)?;
            let answer = can(&snapshot, &user, &question.request()?).map_err(anyhow::Error::msg)?;
            print_answer(&answer, json)?;
            Some(answer.allowed)
        }
        Some(AuditCommand::WhoCan { question }) => {
            refuse_tenant(&args, "who-can")?;
            let json = json_output(&args, "who-can")?;
            let answer = who_can(&snapshot, &question.request()?).map_err(anyhow::Error::msg)?;
            print_answer(&answer, json)?;
            Some(!answer.subjects.is_empty())
        }
        Some(AuditCommand::Report { out }) => {
            let report = audit(&snapshot, &config);
            check_tenant(&args, report.tenants.is_empty())?;
            let sources = crate::audit_report::Sources {
                files: &args.files,
                tenants: &args.tenants,
                live: &args.live,
            };
            let (line, passed) =
                crate::audit_report::write(out, &report, &snapshot, &config, &sources)?;
            print!("{line}");
            Some(passed)
        }
        Some(AuditCommand::WhatCan { subject, namespace }) => {
            refuse_tenant(&args, "what-can")?;
            let json = json_output(&args, "what-can")?;
            let subject: SubjectRef = subject
                .parse()
                .map_err(|e| anyhow::anyhow!("SUBJECT: {e}"))?;
            let answer =
                what_can(&snapshot, &subject, namespace.as_deref()).map_err(anyhow::Error::msg)?;
            print_answer(&answer, json)?;
            Some(true)
        }
    };
    if let Some(yes) = answer {
        // As below: the process ends here, so the snapshot is not freed piece by piece.
        std::mem::forget(snapshot);
        return Ok(if yes {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }

    let report = audit(&snapshot, &config);
    check_tenant(&args, report.tenants.is_empty())?;
    let out = tracing::info_span!("render").in_scope(|| render(&report, format(args.output)));
    print!("{out}");
    let code = if report.failed() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    };
    // The process ends here: handing the memory back to the system at exit is instant, while
    // freeing the snapshot and report one allocation at a time takes a tenth of a second at
    // 5,000 pods.
    std::mem::forget((snapshot, report));
    Ok(code)
}

/// `harmony audit probe`: exit 1 when a probe is not as expected; errors mean exit 2.
fn probe(args: &AuditArgs) -> anyhow::Result<ExitCode> {
    if args.live.kubeconfig.is_none() && args.live.context.is_none() {
        bail!(
            "`harmony audit probe` probes a live cluster: give --kubeconfig FILE (and --context \
             NAME) with credentials that may impersonate users, groups and serviceaccounts"
        );
    }
    if let Some(path) = args.files.first() {
        bail!(
            "-f {}: probes act on a live cluster, not on rendered manifests; leave -f out",
            path.display()
        );
    }
    let scores = if args.tenants.is_empty() {
        Vec::new()
    } else {
        let mut facts = load_facts(args.live.cluster.as_deref(), ClusterFlavor::Kubernetes)?;
        with_identity_provider(&mut facts, args.idp.as_deref())?;
        load_tenants(&args.tenants, &facts)?
    };
    if let Some(name) = &args.tenant
        && !scores.is_empty()
        && !scores.iter().any(|s| s.name() == name)
    {
        bail!("--tenant {name}: not among the tenants of the --tenants files");
    }
    let selection = ProbeSelection {
        tenant: args.tenant.clone(),
        scores,
    };
    let access = args.live.access();
    let report = crate::live::runtime()?.block_on(async {
        let prober = Prober::new(access.config().await?)?;
        anyhow::Ok(prober.run(&selection).await?)
    })?;
    print!("{}", probe_render(&report, format(args.output)));
    Ok(if report.failed() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn format(output: AuditOutput) -> Format {
    match output {
        AuditOutput::Text => Format::Text,
        AuditOutput::Json => Format::Json,
        AuditOutput::Junit => Format::Junit,
    }
}

/// Whether `command` prints JSON; JUnit is refused (it reports checks).
fn json_output(args: &AuditArgs, command: &str) -> anyhow::Result<bool> {
    match args.output {
        AuditOutput::Text => Ok(false),
        AuditOutput::Json => Ok(true),
        AuditOutput::Junit => bail!(
            "-o junit: JUnit XML reports the checks only; `harmony audit {command}` prints -o \
             text or -o json"
        ),
    }
}

/// Refuses --tenant for the questions that do not go by tenant.
fn refuse_tenant(args: &AuditArgs, command: &str) -> anyhow::Result<()> {
    if let Some(name) = &args.tenant {
        bail!(
            "--tenant {name}: `harmony audit {command}` does not narrow by tenant; leave it out \
             (can, who-can and what-can take -n NAMESPACE)"
        );
    }
    Ok(())
}

/// Refuses a --tenant that matched no tenant namespace.
fn check_tenant(args: &AuditArgs, none_found: bool) -> anyhow::Result<()> {
    if let Some(name) = &args.tenant
        && none_found
    {
        bail!(
            "--tenant {name}: no namespace carries the label harmony.nationtech.io/tenant={name}"
        );
    }
    Ok(())
}

/// Writes `answer` to stdout as it is produced: as text, or as pretty JSON and a newline.
fn print_answer(answer: &(impl Display + Serialize), json: bool) -> anyhow::Result<()> {
    // A pipe that holds more wakes its reader less often (a pod matrix is tens of MB); where
    // stdout is no pipe, or the kernel refuses, nothing changes.
    let _ = nix::fcntl::fcntl(io::stdout(), nix::fcntl::FcntlArg::F_SETPIPE_SZ(1 << 20));
    let mut out = BufWriter::with_capacity(1 << 18, io::stdout().lock());
    if json {
        crate::pretty_json::to_writer(&mut out, answer)?;
        writeln!(out)?;
    } else {
        write!(out, "{answer}")?;
    }
    out.flush()?;
    Ok(())
}

/// The snapshot of rendered manifests and tenant files, and the tenants' scores.
fn read_offline(
    args: &AuditArgs,
) -> anyhow::Result<(ClusterSnapshot, ClusterFacts, Vec<TenantScore>)> {
    if !(args.live.pod_networks.is_empty()
        && args.live.service_networks.is_empty()
        && args.live.node_networks.is_empty())
    {
        bail!(
            "--pod-network, --service-network and --node-network describe a live cluster: give \
             --kubeconfig FILE (or --context NAME), or put the networks in a --cluster profile"
        );
    }
    if args.files.is_empty() && args.tenants.is_empty() {
        bail!(
            "nothing to audit: give rendered manifests with -f PATH, tenant files with --tenants \
             PATH, or a live cluster with --kubeconfig FILE"
        );
    }
    let flavor = match args.flavor {
        AuditFlavor::Kubernetes => ClusterFlavor::Kubernetes,
        AuditFlavor::Okd => ClusterFlavor::Okd,
    };
    let mut facts = load_facts(args.live.cluster.as_deref(), flavor)?;
    with_identity_provider(&mut facts, args.idp.as_deref())?;
    let scores = if args.tenants.is_empty() {
        Vec::new()
    } else {
        load_tenants(&args.tenants, &facts)?
    };
    // The compiled plans hold the connections' NetworkPolicies.
    facts.connections = matched_connections(&scores);
    if args.files.is_empty() {
        let plans: Vec<TenantPlan> = scores.iter().map(|s| compile(s, &facts)).collect();
        return Ok((ClusterSnapshot::from_plans(&plans), facts, scores));
    }
    // Rendered manifests are audited as they are; tenant files only say what to expect of them.
    let mut snapshot = ClusterSnapshot::default();
    for path in &args.files {
        snapshot
            .load_path(path)
            .with_context(|| format!("loading `{}`", path.display()))?;
    }
    let absent: Vec<&str> = scores
        .iter()
        .filter(|s| {
            s.namespaces()
                .into_iter()
                .any(|ns| snapshot.namespace_labels(ns).is_none())
        })
        .map(|s| s.name())
        .collect();
    if !absent.is_empty() {
        bail!(
            "--tenants: not in the manifests given with -f: {}; render them first (`harmony \
             tenant render --out DIR`) or leave them out of --tenants",
            absent.join(", ")
        );
    }
    Ok((snapshot, facts, scores))
}

/// The snapshot of a live cluster, its discovered facts, and the scores of `--tenants` (their
/// expectations only: the cluster's objects are audited, not the files').
fn read_live(
    args: &AuditArgs,
) -> anyhow::Result<(ClusterSnapshot, ClusterFacts, Vec<TenantScore>)> {
    if let Some(path) = args.files.first() {
        bail!(
            "-f {}: rendered manifests cannot be mixed with a live cluster (the audit would judge \
             objects the cluster does not hold); audit one or the other",
            path.display()
        );
    }
    let access = args.live.access();
    let source = args.live.facts_source()?;
    let (inventory, mut facts, server) = crate::live::runtime()?.block_on(async {
        let reader = InventoryReader::new(access.config().await?)?;
        let facts = facts::discover(reader.cluster(), &source).await?;
        let inventory = reader.read().await?;
        anyhow::Ok((inventory, facts, reader.cluster().server().to_string()))
    })?;
    let snapshot = inventory.into_snapshot(&server)?;
    with_identity_provider(&mut facts, args.idp.as_deref())?;
    let scores = if args.tenants.is_empty() {
        Vec::new()
    } else {
        load_tenants(&args.tenants, &facts)?
    };
    let absent: Vec<String> = scores
        .iter()
        .filter_map(|s| {
            let missing: Vec<&str> = s
                .namespaces()
                .into_iter()
                .filter(|ns| snapshot.namespace_labels(ns).is_none())
                .collect();
            (!missing.is_empty())
                .then(|| format!("{} (namespace {})", s.name(), missing.join(", ")))
        })
        .collect();
    if !absent.is_empty() {
        bail!(
            "--tenants: not in the cluster at {server}: {}; apply them first (`harmony tenant \
             apply`) or leave their files out",
            absent.join(", ")
        );
    }
    Ok((snapshot, facts, scores))
}
