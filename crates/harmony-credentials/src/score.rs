//! `TenantCredentialScore`: a credential for one member of one tenant, and its interpret (issue,
//! log, write the kubeconfig). Revocation is logged the same way.

use std::path::PathBuf;

use harmony::{Interpret, InterpretError, Outcome, Score};
use harmony_tenant::{Identity, TenantScore};

use crate::{
    CredentialError, CredentialIssuer, CredentialLog, CredentialRequest, Endpoint, Holder,
    LogAction, LogEntry, Output, Revocation, RevokeRequest, Ttl,
};

/// How to issue: everything a credential score needs beyond the tenant and the member.
#[derive(Debug, Clone)]
pub struct IssueOptions {
    /// Requested lifetime.
    pub ttl: Ttl,
    /// The longest lifetime allowed.
    pub max_ttl: Ttl,
    /// The API endpoint the member reaches over the VPN.
    pub endpoint: Endpoint,
    /// Token audiences besides the API server's own (always included).
    pub audiences: Vec<String>,
    /// Where the kubeconfig goes.
    pub output: Output,
    /// The credential log.
    pub log: PathBuf,
    /// Who issues, for the log.
    pub by: String,
}

/// A kubeconfig for one member of one tenant, valid for `ttl`, scoped by the member's role.
#[derive(Debug, Clone)]
pub struct TenantCredentialScore {
    request: CredentialRequest,
    output: Output,
    log: PathBuf,
    by: String,
}

impl TenantCredentialScore {
    /// The score for `member` of `tenant`. Refused, before anything is contacted or written, when
    /// the member is unknown or a group, the lifetime is above the maximum or the output exists.
    pub fn new(
        tenant: &TenantScore,
        member: &str,
        options: IssueOptions,
    ) -> Result<Self, CredentialError> {
        let holder = member_holder(tenant, member)?;
        options.ttl.check_max(options.max_ttl, "--ttl")?;
        options.output.check()?;
        Ok(Self {
            request: CredentialRequest {
                tenant: tenant.name().to_string(),
                namespace: tenant.namespace().to_string(),
                member: member.to_string(),
                holder,
                ttl: options.ttl,
                endpoint: options.endpoint,
                audiences: options.audiences,
            },
            output: options.output,
            log: options.log,
            by: options.by,
        })
    }

    /// The credential asked for.
    pub fn request(&self) -> &CredentialRequest {
        &self.request
    }
}

/// Who `member` of `tenant` authenticates as; unknown and group members are refused.
pub fn member_holder(tenant: &TenantScore, member: &str) -> Result<Holder, CredentialError> {
    let members = &tenant.rbac_config.members;
    let Some(found) = members.iter().find(|m| m.name == member) else {
        let known: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
        return Err(CredentialError::invalid(
            "--member",
            format!(
                "`{member}` is not a member of tenant `{}`; its members: {}",
                tenant.name(),
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ),
        ));
    };
    match found.identity() {
        Some(Identity::ServiceAccount) => Ok(Holder::ServiceAccount(found.name.clone())),
        Some(Identity::User(user)) => Ok(Holder::User(user.to_string())),
        Some(Identity::Group(group)) => Err(CredentialError::invalid(
            "--member",
            format!(
                "`{member}` is the group `{group}`: group members authenticate through their \
                 identity provider, which issues their credentials; harmony issues none"
            ),
        )),
        Some(Identity::OidcUser(_) | Identity::OidcGroup(_)) => Err(CredentialError::invalid(
            "--member",
            format!(
                "`{member}` is an identity provider member: it logs in through the identity \
                 provider (kubelogin, or kubectl with an OIDC exec plugin); harmony issues no \
                 certificate for it"
            ),
        )),
        None => Err(CredentialError::invalid(
            "--member",
            format!(
                "`{member}` has no single identity: set exactly one of user, group, serviceAccount"
            ),
        )),
    }
}

impl RevokeRequest {
    /// The revocation of `member`'s credentials in `tenant` (group and unknown members refused).
    pub fn for_member(tenant: &TenantScore, member: &str) -> Result<Self, CredentialError> {
        Ok(Self {
            tenant: tenant.name().to_string(),
            namespace: tenant.namespace().to_string(),
            member: member.to_string(),
            holder: member_holder(tenant, member)?,
        })
    }

    /// Revokes through `issuer` and logs it (as `by`) in `log`.
    pub async fn run<T: CredentialIssuer>(
        &self,
        issuer: &T,
        log: &CredentialLog,
        by: &str,
    ) -> Result<Revocation, CredentialError> {
        let revocation = issuer.revoke(self).await?;
        log.append(&LogEntry {
            time: jiff::Timestamp::now(),
            by: by.to_string(),
            action: LogAction::Revoke,
            tenant: self.tenant.clone(),
            member: self.member.clone(),
            kind: revocation.kind,
            identity: revocation.identity.clone(),
            serial: None,
            request: None,
            expires: None,
        })?;
        Ok(revocation)
    }
}

impl<T: CredentialIssuer> Score<T> for TenantCredentialScore {
    fn name(&self) -> String {
        format!("credential {}/{}", self.request.tenant, self.request.member)
    }

    fn create_interpret(&self) -> Box<dyn Interpret<T>> {
        Box::new(IssueInterpret(self.clone()))
    }
}

/// Issues, logs, then writes the kubeconfig.
struct IssueInterpret(TenantCredentialScore);

#[async_trait::async_trait]
impl<T: CredentialIssuer> Interpret<T> for IssueInterpret {
    fn name(&self) -> String {
        format!(
            "credential {}/{}",
            self.0.request.tenant, self.0.request.member
        )
    }

    async fn execute(&self, topology: &T) -> Result<Outcome, InterpretError> {
        let score = &self.0;
        let request = &score.request;
        score.output.check()?;
        let issued = topology.issue(request).await?;
        CredentialLog::new(&score.log).append(&LogEntry {
            time: jiff::Timestamp::now(),
            by: score.by.clone(),
            action: LogAction::Issue,
            tenant: request.tenant.clone(),
            member: request.member.clone(),
            kind: issued.kind,
            identity: issued.identity.clone(),
            serial: issued.serial.clone(),
            request: issued.request.clone(),
            expires: Some(issued.expires),
        })?;
        score.output.write(&issued.kubeconfig)?;
        let mut details = vec![format!("identity: {}", issued.identity)];
        details.extend(issued.serial.map(|s| format!("certificate serial: {s}")));
        details.push(match &score.output {
            Output::File { path, .. } => format!("kubeconfig written to {} (0600)", path.display()),
            Output::Stdout => "kubeconfig printed to standard output".into(),
        });
        Ok(Outcome::changed(
            format!(
                "issued a {} for {}/{} (context {}), expires {}",
                issued.kind.as_str(),
                request.tenant,
                request.member,
                request.context_name(),
                issued.expires
            ),
            details,
        ))
    }
}
