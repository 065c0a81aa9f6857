//! Kubeconfigs for identity provider members (`oidc.user` / `oidc.group`): nothing is issued at
//! the cluster; the kubeconfig's user runs `harmony auth oidc-token` (see [`crate::oidc`]), so
//! the member logs in as themselves at the identity provider. It holds no secret; it is still
//! written 0600 and logged like every credential.

use harmony_identity::IdentityProvider;
use harmony_tenant::{ClusterFlavor, Identity, TenantScore};

use crate::oidc::{Grant, LoginCommand};
use crate::{
    CredentialError, CredentialKind, CredentialLog, Endpoint, Kubeconfig, LogAction, LogEntry,
    Output,
};

/// What a login kubeconfig is for.
#[derive(Debug, Clone)]
pub struct LoginKubeconfig {
    tenant: String,
    namespace: String,
    member: String,
    identity: String,
    command: LoginCommand,
}

impl LoginKubeconfig {
    /// The login kubeconfig of `member` of `tenant`, an identity provider member, for
    /// `provider` (whose CA file holds `ca_pem`) on a cluster of `flavor`. Refused when the
    /// member is unknown or not an identity provider member.
    pub fn new(
        tenant: &TenantScore,
        member: &str,
        provider: &IdentityProvider,
        ca_pem: Option<String>,
        flavor: ClusterFlavor,
        grant: Grant,
    ) -> Result<Self, CredentialError> {
        let found = tenant
            .rbac_config
            .members
            .iter()
            .find(|m| m.name == member)
            .ok_or_else(|| {
                CredentialError::invalid(
                    "--member",
                    format!("`{member}` is not a member of tenant `{}`", tenant.name()),
                )
            })?;
        let names = provider.facts(flavor);
        let identity = match found.identity() {
            Some(Identity::OidcUser(user)) => names.user(user),
            Some(Identity::OidcGroup(group)) => format!("a member of {}", names.group(group)),
            _ => {
                return Err(CredentialError::invalid(
                    "--idp",
                    format!(
                        "`{member}` is not an identity provider member (`oidc: {{user|group}}`): \
                         issue its credential without --idp"
                    ),
                ));
            }
        };
        Ok(Self {
            tenant: tenant.name().to_string(),
            namespace: tenant.namespace().to_string(),
            member: member.to_string(),
            identity,
            command: LoginCommand {
                command: "harmony".into(),
                issuer: provider.spec.issuer.clone(),
                client_id: provider.spec.client_id.clone(),
                certificate_authority: ca_pem,
                grant,
            },
        })
    }

    /// Writes the kubeconfig for `endpoint` to `output` and logs it (as `by`) in `log`; the
    /// line for people.
    pub fn issue(
        &self,
        endpoint: &Endpoint,
        output: &Output,
        log: &CredentialLog,
        by: &str,
    ) -> Result<String, CredentialError> {
        output.check()?;
        let context = format!("{}-{}", self.tenant, self.member);
        let config = Kubeconfig::for_login(&context, &self.namespace, endpoint, &self.command)?;
        log.append(&LogEntry {
            time: jiff::Timestamp::now(),
            by: by.to_string(),
            action: LogAction::Issue,
            tenant: self.tenant.clone(),
            member: self.member.clone(),
            kind: CredentialKind::Login,
            identity: self.identity.clone(),
            serial: None,
            request: None,
            expires: None,
        })?;
        output.write(&config)?;
        Ok(format!(
            "wrote a login kubeconfig for {}/{} (context {context}): kubectl runs `harmony auth \
             oidc-token`, which logs in at {} as {}",
            self.tenant, self.member, self.command.issuer, self.identity
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use harmony_tenant::{Member, TenantRole};

    fn provider() -> IdentityProvider {
        let text = "apiVersion: harmony.nationtech.io/v1alpha1\nkind: IdentityProvider\n\
                    metadata: {name: sso}\nspec:\n  issuer: https://sso.example.com/realms/t\n";
        harmony_identity::load_identity_provider(
            &harmony::Documents::parse("i.yaml", text).unwrap(),
        )
        .unwrap()
    }

    fn tenant() -> TenantScore {
        TenantScore::new("acme")
            .member(Member::oidc_user("alice", TenantRole::Developer, "alice"))
            .member(Member::service_account("ci", TenantRole::Developer))
    }

    #[test]
    fn writes_a_0600_kubeconfig_running_the_plugin_and_logs_it() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let login = LoginKubeconfig::new(
            &tenant(),
            "alice",
            &provider(),
            None,
            ClusterFlavor::Kubernetes,
            Grant::DeviceCode,
        )
        .unwrap();
        let endpoint = Endpoint::new("http://127.0.0.1:1", None).unwrap();
        let path = dir.path().join("alice.kubeconfig");
        let output = Output::from_flag(&path, false);
        let log = CredentialLog::new(dir.path().join("log.jsonl"));
        let said = login.issue(&endpoint, &output, &log, "operator").unwrap();
        assert!(said.contains("as oidc:alice"), "{said}");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("oidc-token"), "{text}");
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let entries = log.entries().unwrap();
        assert_eq!(entries[0].kind, CredentialKind::Login);
        assert_eq!(entries[0].identity, "oidc:alice");
        // An existing file is kept without --force, and nothing more is logged.
        assert!(login.issue(&endpoint, &output, &log, "operator").is_err());
        assert_eq!(log.entries().unwrap().len(), 1);
    }

    #[test]
    fn refuses_members_that_are_not_the_identity_providers() {
        for (member, fix) in [("ci", "without --idp"), ("nobody", "not a member")] {
            let error = LoginKubeconfig::new(
                &tenant(),
                member,
                &provider(),
                None,
                ClusterFlavor::Kubernetes,
                Grant::DeviceCode,
            )
            .unwrap_err()
            .to_string();
            assert!(error.contains(fix), "{error}");
        }
    }
}
