//! `harmony tenant credentials issue|revoke|list`: member kubeconfigs (see the
//! harmony-credentials crate).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use harmony::{Score, Topology};
use harmony_credentials::oidc::Grant;
use harmony_credentials::{
    CredentialIssuer, CredentialLog, DEFAULT_MAX_TTL, DEFAULT_TTL, Endpoint, IssueOptions,
    KubeCredentialIssuer, LoginKubeconfig, Output, RevokeRequest, TenantCredentialScore, Ttl,
    api_server_from_gateway, connect, merge,
};
use harmony_identity::IdentityProvider;
use harmony_tenant::{ClusterFacts, ClusterFlavor, TenantScore};

/// Member credentials: short-lived kubeconfigs scoped to a tenant namespace.
#[derive(Args)]
pub struct CredentialsArgs {
    #[command(subcommand)]
    command: CredentialsCommand,
}

#[derive(Subcommand)]
enum CredentialsCommand {
    /// Issue a kubeconfig for a member: a bound token (serviceAccount members), a client
    /// certificate (user members), or with --idp a login at the identity provider (oidc members).
    Issue(IssueArgs),
    /// Revoke a member's credentials: recreate its ServiceAccount, or remove a user's RoleBinding.
    Revoke(RevokeArgs),
    /// List issued credentials with their expiry, from the log and the cluster.
    List(ListArgs),
}

/// How to reach the cluster as the operator, and where harmony keeps its credential state.
#[derive(Args)]
struct ClusterArgs {
    /// The operator's kubeconfig (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    /// The operator's context (default: the kubeconfig's current context).
    #[arg(long)]
    context: Option<String>,
    /// Credential state: `log.jsonl` (append-only, 0600) and `pending/` keys of unapproved requests.
    #[arg(long, default_value = ".harmony/credentials")]
    state: PathBuf,
}

#[derive(Args)]
struct MemberArgs {
    /// Tenant files or folders (the member must be in them).
    #[arg(short = 'f', long = "filename", required = true)]
    files: Vec<PathBuf>,
    /// The tenant.
    #[arg(long)]
    tenant: String,
    /// The member.
    #[arg(long)]
    member: String,
    /// Who acts, for the log (default: $USER, else $LOGNAME).
    #[arg(long, default_value_t = crate::operator::operator())]
    by: String,
}

#[derive(Args)]
struct IssueArgs {
    #[command(flatten)]
    member: MemberArgs,
    #[command(flatten)]
    cluster: ClusterArgs,
    /// Lifetime, such as `8h` or `30m` (at least 10m).
    #[arg(long, default_value_t = DEFAULT_TTL)]
    ttl: Ttl,
    /// The longest lifetime allowed.
    #[arg(long, default_value_t = DEFAULT_MAX_TTL)]
    max_ttl: Ttl,
    /// The kubeconfig file (created 0600; default `<tenant>-<member>.kubeconfig`); `-` for stdout.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace an existing --out file.
    #[arg(long)]
    force: bool,
    /// The API server URL members reach over the VPN (default: from --gateway).
    #[arg(long)]
    server: Option<String>,
    /// The VpnGateway file giving the API address (default: vpn-gateway.yaml when present).
    #[arg(long)]
    gateway: Option<PathBuf>,
    /// The cluster CA bundle (PEM) (default: the operator context's certificate authority).
    #[arg(long)]
    certificate_authority: Option<PathBuf>,
    /// An extra token audience (repeatable); the API server's own is always included.
    #[arg(long)]
    audience: Vec<String>,
    /// The IdentityProvider file: needed for identity provider members (`oidc: {user|group}`),
    /// whose kubeconfig runs `harmony auth oidc-token` to log in there.
    #[arg(long, value_name = "FILE")]
    idp: Option<PathBuf>,
    /// With --idp: how the member logs in.
    #[arg(long, value_enum, default_value_t = LoginGrant::DeviceCode, requires = "idp")]
    grant: LoginGrant,
}

/// How an identity provider member logs in.
#[derive(Clone, Copy, ValueEnum)]
enum LoginGrant {
    /// Device authorization grant: a URL and a code, a browser anywhere.
    DeviceCode,
    /// Authorization code with PKCE: a browser on the member's machine.
    Authcode,
}

#[derive(Args)]
struct RevokeArgs {
    #[command(flatten)]
    member: MemberArgs,
    #[command(flatten)]
    cluster: ClusterArgs,
}

#[derive(Args)]
struct ListArgs {
    #[command(flatten)]
    cluster: ClusterArgs,
    /// Only this tenant.
    #[arg(long)]
    tenant: Option<String>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Text)]
    output: Format,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

/// Runs `harmony tenant credentials ...`.
pub fn run(args: CredentialsArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        match args.command {
            CredentialsCommand::Issue(issue) => run_issue(issue).await,
            CredentialsCommand::Revoke(revoke) => run_revoke(revoke).await,
            CredentialsCommand::List(list) => run_list(list).await,
        }
    })
}

/// The tenant named `name` in `files`; `provider` names its identity provider members.
fn load_tenant(
    files: &[PathBuf],
    name: &str,
    provider: Option<&IdentityProvider>,
) -> anyhow::Result<TenantScore> {
    let mut facts = ClusterFacts::for_flavor(ClusterFlavor::default());
    facts.oidc = provider.map(|p| p.facts(facts.flavor));
    let tenants = crate::input::load_tenants(files, &facts)?;
    let known: Vec<&str> = tenants.iter().map(|t| t.name()).collect();
    match tenants.iter().find(|t| t.name() == name) {
        Some(tenant) => Ok(tenant.clone()),
        None => bail!(
            "--tenant: `{name}` is not in the tenant files; they hold: {}",
            known.join(", ")
        ),
    }
}

async fn issuer(
    cluster: &ClusterArgs,
) -> anyhow::Result<(KubeCredentialIssuer, harmony_credentials::Connection)> {
    let access = harmony_kube::Access {
        kubeconfig: cluster.kubeconfig.clone(),
        context: cluster.context.clone(),
    };
    let connection = connect(&access).await?;
    let issuer = KubeCredentialIssuer::new(&connection, cluster.state.join("pending"));
    Ok((issuer, connection))
}

/// The member's API endpoint: --server, else the VPN gateway's API address, else the operator's.
fn endpoint(
    args: &IssueArgs,
    operator_server: &str,
    operator_ca: Option<String>,
) -> anyhow::Result<Endpoint> {
    let default_gateway = Path::new("vpn-gateway.yaml");
    let gateway = args
        .gateway
        .as_deref()
        .or_else(|| default_gateway.exists().then_some(default_gateway));
    let server = match (&args.server, gateway) {
        (Some(server), _) => server.clone(),
        (None, Some(path)) => api_server_from_gateway(&crate::input::load_gateway(path)?)
            .with_context(|| format!("reading the API address from {}", path.display()))?,
        (None, None) => {
            eprintln!(
                "note: no --server and no VPN gateway file: the kubeconfig uses your context's server {operator_server}"
            );
            operator_server.to_string()
        }
    };
    let ca = match &args.certificate_authority {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("--certificate-authority {}", path.display()))?,
        ),
        None => operator_ca,
    };
    if server.starts_with("http://") {
        eprintln!("note: {server} is plain HTTP: no cluster CA is written");
    }
    Ok(Endpoint::new(&server, ca)?)
}

async fn run_issue(args: IssueArgs) -> anyhow::Result<ExitCode> {
    let provider = args
        .idp
        .as_deref()
        .map(crate::input::load_identity_provider)
        .transpose()?;
    let tenant = load_tenant(&args.member.files, &args.member.tenant, provider.as_ref())?;
    let (issuer, connection) = issuer(&args.cluster).await?;
    let endpoint = endpoint(
        &args,
        &connection.server,
        connection.certificate_authority.clone(),
    )?;
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from(format!(
            "{}-{}.kubeconfig",
            args.member.tenant, args.member.member
        ))
    });
    if let (Some(provider), Some(path)) = (&provider, &args.idp) {
        let login = LoginKubeconfig::new(
            &tenant,
            &args.member.member,
            provider,
            crate::input::identity_provider_ca(path, provider)?,
            ClusterFlavor::default(),
            match args.grant {
                LoginGrant::DeviceCode => Grant::DeviceCode,
                LoginGrant::Authcode => Grant::AuthCode,
            },
        )?;
        let log = CredentialLog::new(args.cluster.state.join("log.jsonl"));
        let output = Output::from_flag(&out, args.force);
        eprintln!(
            "{}",
            login.issue(&endpoint, &output, &log, &args.member.by)?
        );
        return Ok(ExitCode::SUCCESS);
    }
    let options = IssueOptions {
        ttl: args.ttl,
        max_ttl: args.max_ttl,
        endpoint,
        audiences: args.audience.clone(),
        output: Output::from_flag(&out, args.force),
        log: args.cluster.state.join("log.jsonl"),
        by: args.member.by.clone(),
    };
    let score = TenantCredentialScore::new(&tenant, &args.member.member, options)?;
    issuer.ensure_ready().await?;
    let outcome = Score::<KubeCredentialIssuer>::create_interpret(&score)
        .execute(&issuer)
        .await?;
    eprintln!("{}", outcome.message);
    for detail in &outcome.details {
        eprintln!("  {detail}");
    }
    Ok(ExitCode::SUCCESS)
}

async fn run_revoke(args: RevokeArgs) -> anyhow::Result<ExitCode> {
    let tenant = load_tenant(&args.member.files, &args.member.tenant, None)?;
    let request = RevokeRequest::for_member(&tenant, &args.member.member)?;
    let (issuer, _) = issuer(&args.cluster).await?;
    issuer.ensure_ready().await?;
    let log = CredentialLog::new(args.cluster.state.join("log.jsonl"));
    let revocation = request.run(&issuer, &log, &args.member.by).await?;
    println!(
        "revoked the {} credentials of {}/{}",
        revocation.kind.as_str(),
        request.tenant,
        request.member
    );
    for action in &revocation.actions {
        println!("  {action}");
    }
    for caveat in &revocation.caveats {
        eprintln!("note: {caveat}");
    }
    Ok(ExitCode::SUCCESS)
}

async fn run_list(args: ListArgs) -> anyhow::Result<ExitCode> {
    let (issuer, _) = issuer(&args.cluster).await?;
    issuer.ensure_ready().await?;
    let tenant = args.tenant.as_deref();
    let cluster = issuer.credentials(tenant).await?;
    let entries: Vec<_> = CredentialLog::new(args.cluster.state.join("log.jsonl"))
        .entries()?
        .into_iter()
        .filter(|e| tenant.is_none_or(|t| e.tenant == t))
        .collect();
    let rows = merge(&entries, &cluster, jiff::Timestamp::now());
    match args.output {
        Format::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
        Format::Text => {
            println!("TENANT\tMEMBER\tKIND\tSTATE\tEXPIRES\tIDENTITY\tBY");
            for r in &rows {
                let state = serde_json::to_value(r.state)?;
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    r.tenant,
                    r.member,
                    r.kind.as_str(),
                    state.as_str().unwrap_or_default(),
                    r.expires
                        .map(|e| e.to_string())
                        .unwrap_or_else(|| "-".into()),
                    r.identity,
                    r.by.as_deref().unwrap_or("(not in this log)")
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
