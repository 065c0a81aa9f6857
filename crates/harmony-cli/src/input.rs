//! The files named by flags, loaded by the libraries: `-f` takes files, folders (their `*.yaml`,
//! `*.yml` and `*.json` files, recursively, in name order) and `-` (standard input); each file
//! may hold many documents. Every problem of every file is refused at once.

use std::fmt;
use std::path::{Path, PathBuf};

use harmony::{DocumentKind, Documents, Problems};
use harmony_guardrails::ClusterGuardrailsScore;
use harmony_guardrails::monitoring::ClusterMonitoring;
use harmony_tenant::vpn::Gateway;
use harmony_tenant::{ClusterFacts, ClusterFlavor, ClusterProfile, TenantScore};

/// Problems found in the inputs; nothing is done while there are any.
#[derive(Debug)]
pub struct Refused(Problems);

impl From<Problems> for Refused {
    fn from(problems: Problems) -> Self {
        Self(problems)
    }
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}; nothing was written", self.0)
    }
}

impl std::error::Error for Refused {}

/// The one document of the file at `path`, as a valid `K`.
fn load_one<K: DocumentKind>(path: &Path, context: &K::Context) -> Result<K, Refused> {
    Ok(Documents::read(&[path])?.load_one::<K>(context)?)
}

/// The cluster facts: from a `ClusterProfile` file when given, else the flavor's defaults.
pub fn load_facts(profile: Option<&Path>, flavor: ClusterFlavor) -> Result<ClusterFacts, Refused> {
    match profile {
        Some(path) => Ok(load_one::<ClusterProfile>(path, &())?.facts()),
        None => Ok(ClusterFacts::for_flavor(flavor)),
    }
}

/// The tenants of `paths`, valid on a cluster with `facts` and together.
pub fn load_tenants(paths: &[PathBuf], facts: &ClusterFacts) -> Result<Vec<TenantScore>, Refused> {
    Ok(harmony_tenant::load_tenants(
        &Documents::read(paths)?,
        facts,
    )?)
}

/// The guardrails of a `ClusterGuardrails` file, valid on a cluster with `facts`; the defaults
/// without a file.
pub fn load_guardrails(
    path: Option<&Path>,
    facts: &ClusterFacts,
) -> Result<ClusterGuardrailsScore, Refused> {
    match path {
        Some(path) => load_one::<ClusterGuardrailsScore>(path, facts),
        None => Ok(ClusterGuardrailsScore::default()),
    }
}

/// The monitoring choices of a `ClusterMonitoring` file, valid; the defaults without a file.
pub fn load_monitoring(
    path: Option<&Path>,
    facts: &ClusterFacts,
) -> Result<ClusterMonitoring, Refused> {
    match path {
        Some(path) => load_one::<ClusterMonitoring>(path, facts),
        None => Ok(ClusterMonitoring::default()),
    }
}

/// The identity provider of an `IdentityProvider` file, validated, its `caFile` resolved
/// against the file's folder.
pub fn load_identity_provider(path: &Path) -> Result<harmony_identity::IdentityProvider, Refused> {
    let documents = Documents::read(&[path])?;
    Ok(harmony_identity::load_identity_provider(&documents)?)
}

/// The identity provider of the `IdentityProvider` file `idp`, when given, with `facts` naming its
/// members as the API server sees them (`facts.oidc`).
pub fn with_identity_provider(
    facts: &mut ClusterFacts,
    idp: Option<&Path>,
) -> Result<Option<harmony_identity::IdentityProvider>, Refused> {
    let provider = idp.map(load_identity_provider).transpose()?;
    facts.oidc = provider.as_ref().map(|p| p.facts(facts.flavor));
    Ok(provider)
}

/// The VPN gateway of a `VpnGateway` file, validated.
pub fn load_gateway(path: &Path) -> Result<Gateway, Refused> {
    let documents = Documents::read(&[path])?;
    Ok(harmony_tenant::vpn::load_gateway(&documents)?)
}

/// The content of the `caFile` of the identity provider read from `path` (a PEM bundle; `None`
/// without one).
pub fn identity_provider_ca(
    path: &Path,
    provider: &harmony_identity::IdentityProvider,
) -> anyhow::Result<Option<String>> {
    let Some(file) = &provider.spec.ca_file else {
        return Ok(None);
    };
    let pem = std::fs::read_to_string(file).map_err(|e| {
        anyhow::anyhow!(
            "{}: spec.caFile: cannot read {} ({e}): give the PEM file of the CA that signs the \
             issuer's certificate (relative to the identity provider file)",
            path.display(),
            file.display()
        )
    })?;
    if !pem.contains("-----BEGIN CERTIFICATE-----") {
        anyhow::bail!(
            "{}: spec.caFile: {} holds no PEM certificate (`-----BEGIN CERTIFICATE-----`): give \
             the CA bundle that signs the issuer's certificate",
            path.display(),
            file.display()
        );
    }
    Ok(Some(pem))
}
