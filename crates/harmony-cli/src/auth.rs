//! `harmony auth oidc-token`: the client-go exec credential plugin of members who log in at the
//! identity provider (see `harmony_credentials::oidc`). kubectl runs it; it prints an
//! `ExecCredential` on standard output and its login instructions on standard error.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use base64::Engine;
use clap::{Args, Subcommand, ValueEnum};
use harmony_credentials::oidc::{DEFAULT_REDIRECT_PORTS, Grant, OidcLogin, default_cache_dir};

/// Arguments of `harmony auth`.
#[derive(Args)]
pub struct AuthArgs {
    #[command(subcommand)]
    command: AuthCommand,
}

#[derive(Subcommand)]
enum AuthCommand {
    /// Print an ExecCredential holding an ID token from the identity provider (a kubeconfig's
    /// `exec` user runs this): the cached token, else a refreshed one, else a new login.
    OidcToken(OidcTokenArgs),
}

/// Arguments of `harmony auth oidc-token`.
#[derive(Args)]
struct OidcTokenArgs {
    /// The issuer URL, exactly as the API server trusts it (Keycloak:
    /// https://HOST/realms/REALM).
    #[arg(long, value_name = "URL")]
    issuer_url: String,
    /// The public client kubectl logs in with.
    #[arg(long, value_name = "ID", default_value = "kubectl")]
    client_id: String,
    /// The identity provider's CA bundle (PEM file); the system roots without it.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "certificate_authority_data"
    )]
    certificate_authority: Option<PathBuf>,
    /// The identity provider's CA bundle, base64-encoded PEM (what issued kubeconfigs carry).
    #[arg(long, value_name = "BASE64")]
    certificate_authority_data: Option<String>,
    /// How to log in when no cached or refreshed token is at hand.
    #[arg(long, value_enum, default_value_t = GrantArg::DeviceCode)]
    grant: GrantArg,
    /// authcode: the loopback port of the redirect (repeatable, tried in order; the client's
    /// redirect URIs must allow http://localhost:PORT).
    #[arg(long = "redirect-port", value_name = "PORT", default_values_t = DEFAULT_REDIRECT_PORTS)]
    redirect_ports: Vec<u16>,
    /// The token cache folder (default: $XDG_CACHE_HOME/harmony/oidc, else
    /// ~/.cache/harmony/oidc).
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum GrantArg {
    /// Device authorization grant: open the URL shown, anywhere, and log in.
    DeviceCode,
    /// Authorization code with PKCE: a browser on this machine, redirected to a loopback port.
    Authcode,
}

/// Runs `harmony auth ...`.
pub fn run(args: AuthArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        AuthCommand::OidcToken(args) => oidc_token(args),
    }
}

fn oidc_token(args: OidcTokenArgs) -> anyhow::Result<ExitCode> {
    let certificate_authority = match (
        &args.certificate_authority,
        &args.certificate_authority_data,
    ) {
        (Some(path), _) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("--certificate-authority {}", path.display()))?,
        ),
        (None, Some(data)) => {
            let pem = base64::engine::general_purpose::STANDARD
                .decode(data.trim())
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok());
            match pem {
                Some(pem) => Some(pem),
                None => bail!(
                    "--certificate-authority-data: not base64 of a PEM bundle: give `base64 -w0 ca.crt`"
                ),
            }
        }
        (None, None) => None,
    };
    let Some(cache_dir) = args.cache_dir.or_else(default_cache_dir) else {
        bail!("--cache-dir: neither $XDG_CACHE_HOME nor $HOME is set: name the token cache folder");
    };
    let login = OidcLogin {
        issuer: args.issuer_url,
        client_id: args.client_id,
        certificate_authority,
        grant: match args.grant {
            GrantArg::DeviceCode => Grant::DeviceCode,
            GrantArg::Authcode => Grant::AuthCode,
        },
        redirect_ports: args.redirect_ports,
        cache_dir,
    };
    let (credential, source) = login.token(&mut std::io::stderr())?;
    tracing::info!(?source, expires = %credential.status.expiration_timestamp, "ID token");
    println!("{}", credential.to_json());
    Ok(ExitCode::SUCCESS)
}
