//! `serviceAccount: true` members: a bound, short-lived token from the TokenRequest API
//! (`serviceaccounts/<name>/token`). No long-lived Secret token is ever created.

use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::api::{Api, PostParams};

use super::{KubeCredentialIssuer, owned_by, timestamp};
use crate::kubeconfig::UserAuth;
use crate::{CredentialError, CredentialKind, CredentialRequest, IssuedCredential, Kubeconfig};

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
        let asked = TokenRequest {
            spec: TokenRequestSpec {
                audiences: request.audiences.clone(),
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
}
