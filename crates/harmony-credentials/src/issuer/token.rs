//! `serviceAccount: true` members: a bound, short-lived token from the TokenRequest API
//! (`serviceaccounts/<name>/token`). No long-lived Secret token is ever created.

use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::api::{Api, PostParams};

use super::{KubeCredentialIssuer, owned_by, timestamp};
use crate::kubeconfig::UserAuth;
use crate::{
    CredentialError, CredentialKind, CredentialRequest, IssuedCredential, Kubeconfig, MIN_TTL,
};

impl KubeCredentialIssuer {
    /// The member's harmony-managed ServiceAccount, or an error saying how to get it.
    pub(super) async fn managed_account(
        &self,
        tenant: &str,
        namespace: &str,
        account: &str,
    ) -> Result<ServiceAccount, CredentialError> {
        let api: Api<ServiceAccount> = Api::namespaced(self.client.clone(), namespace);
        let found = api
            .get_opt(account)
            .await
            .map_err(self.error(format!("reading ServiceAccount {namespace}/{account}")))?;
        let Some(found) = found else {
            return Err(CredentialError::Cluster(format!(
                "ServiceAccount {namespace}/{account} does not exist: apply the tenant first \
                 (`harmony tenant apply`), which creates it for `serviceAccount: true` members"
            )));
        };
        if !owned_by(found.metadata.labels.as_ref(), tenant) {
            return Err(CredentialError::Cluster(format!(
                "ServiceAccount {namespace}/{account} is not managed by harmony for tenant \
                 `{tenant}` (labels missing): harmony issues and revokes credentials only for \
                 accounts it owns"
            )));
        }
        Ok(found)
    }

    pub(super) async fn issue_token(
        &self,
        request: &CredentialRequest,
        account: &str,
    ) -> Result<IssuedCredential, CredentialError> {
        let namespace = &request.namespace;
        let found = self
            .managed_account(&request.tenant, namespace, account)
            .await?;
        let uid = found.metadata.uid.unwrap_or_default();
        let api: Api<ServiceAccount> = Api::namespaced(self.client.clone(), namespace);
        let audiences = self
            .audiences(&api, namespace, account, &request.audiences)
            .await?;
        let asked = TokenRequest {
            spec: TokenRequestSpec {
                audiences,
                expiration_seconds: Some(request.ttl.seconds()),
                bound_object_ref: None,
            },
            ..TokenRequest::default()
        };
        let answer = api
            .create_token_request(account, &PostParams::default(), &asked)
            .await
            .map_err(self.error(format!(
                "requesting a token for ServiceAccount {namespace}/{account}"
            )))?;
        let status = answer.status.ok_or_else(|| {
            CredentialError::Cluster(format!(
                "the TokenRequest for ServiceAccount {namespace}/{account} came back without a token"
            ))
        })?;
        Ok(IssuedCredential {
            kubeconfig: Kubeconfig::render(request, UserAuth::Token(&status.token))?,
            kind: CredentialKind::Token,
            identity: format!("system:serviceaccount:{namespace}:{account} uid={uid}"),
            serial: None,
            request: None,
            expires: timestamp(&status.expiration_timestamp),
        })
    }

    /// The audiences to ask for: none (the API server's own) without `extra`, else the API
    /// server's own and `extra`, since a token without the API server's audience is refused
    /// (401) by it and the kubeconfig would not work. A dry-run TokenRequest tells the API
    /// server's audiences; its token is dropped unused.
    async fn audiences(
        &self,
        api: &Api<ServiceAccount>,
        namespace: &str,
        account: &str,
        extra: &[String],
    ) -> Result<Vec<String>, CredentialError> {
        if extra.is_empty() {
            return Ok(Vec::new());
        }
        let probe = TokenRequest {
            spec: TokenRequestSpec {
                audiences: Vec::new(),
                expiration_seconds: Some(MIN_TTL.seconds()),
                bound_object_ref: None,
            },
            ..TokenRequest::default()
        };
        let dry_run = PostParams {
            dry_run: true,
            ..PostParams::default()
        };
        let mut audiences = api
            .create_token_request(account, &dry_run, &probe)
            .await
            .map_err(self.error(format!(
                "asking the API server's token audiences (ServiceAccount {namespace}/{account})"
            )))?
            .spec
            .audiences;
        for audience in extra {
            if !audiences.contains(audience) {
                audiences.push(audience.clone());
            }
        }
        Ok(audiences)
    }
}
