//! Revocation: a ServiceAccount is deleted and recreated (its tokens are bound to the old uid and
//! stop authenticating); a certificate user loses its RoleBinding (Kubernetes cannot revoke a
//! client certificate) and its requests.

use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::api::rbac::v1::RoleBinding;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, ListParams, PostParams, Preconditions};

use super::certificate::remove_key;
use super::{KubeCredentialIssuer, owned_by, selector};
use crate::{CredentialError, CredentialKind, Revocation, RevokeRequest};

impl KubeCredentialIssuer {
    /// Recreates the member's ServiceAccount `account` in `namespace`.
    pub(super) async fn recreate_account(
        &self,
        request: &RevokeRequest,
        namespace: &str,
        account: &str,
    ) -> Result<Revocation, CredentialError> {
        let old = self
            .managed_account(&request.tenant, namespace, account)
            .await?;
        let old_uid = old.metadata.uid.clone().unwrap_or_default();
        let api: Api<ServiceAccount> = Api::namespaced(self.client.clone(), namespace);
        let what = format!("ServiceAccount {namespace}/{account}");
        let delete = DeleteParams {
            preconditions: Some(Preconditions {
                uid: Some(old_uid.clone()),
                resource_version: None,
            }),
            ..DeleteParams::default()
        };
        api.delete(account, &delete)
            .await
            .map_err(self.error(format!("deleting {what}")))?;
        self.wait_until_gone(&api, account, &old_uid).await?;
        let fresh = ServiceAccount {
            metadata: ObjectMeta {
                name: Some(account.into()),
                namespace: Some(namespace.into()),
                labels: old.metadata.labels,
                annotations: old.metadata.annotations,
                ..ObjectMeta::default()
            },
            automount_service_account_token: old.automount_service_account_token,
            image_pull_secrets: old.image_pull_secrets,
            secrets: None,
        };
        let created = api
            .create(&PostParams::default(), &fresh)
            .await
            .map_err(self.error(format!("recreating {what}")))?;
        let new_uid = created.metadata.uid.unwrap_or_default();
        Ok(Revocation {
            kind: CredentialKind::Token,
            identity: format!("system:serviceaccount:{namespace}:{account} uid={new_uid}"),
            actions: vec![
                format!(
                    "deleted {what} (uid {old_uid}): every token issued for it stopped working"
                ),
                format!("recreated {what} (uid {new_uid}); its RoleBinding applies unchanged"),
            ],
            caveats: vec![
                "an API server caches successful token authentications (10 s by default): a \
                 token it accepted just before the revocation may work a few seconds more"
                    .into(),
            ],
        })
    }

    /// Polls until the ServiceAccount with `uid` is gone.
    async fn wait_until_gone(
        &self,
        api: &Api<ServiceAccount>,
        name: &str,
        uid: &str,
    ) -> Result<(), CredentialError> {
        let deadline = tokio::time::Instant::now() + self.approval_timeout;
        loop {
            let found = api
                .get_opt(name)
                .await
                .map_err(self.error(format!("reading ServiceAccount {name}")))?;
            if found.is_none_or(|sa| sa.metadata.uid.as_deref() != Some(uid)) {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(CredentialError::Cluster(format!(
                    "ServiceAccount {name} (uid {uid}) is still there {}s after its deletion: \
                     check its finalizers, then re-run the revocation",
                    self.approval_timeout.as_secs()
                )));
            }
            tokio::time::sleep(self.poll_interval).await;
        }
    }

    pub(super) async fn unbind_user(
        &self,
        request: &RevokeRequest,
        user: &str,
    ) -> Result<Revocation, CredentialError> {
        let (tenant, member) = (&request.tenant, &request.member);
        let binding = format!("member-{member}");
        let mut actions = Vec::new();
        for namespace in &request.namespaces {
            let what = format!("RoleBinding {namespace}/{binding}");
            let bindings: Api<RoleBinding> = Api::namespaced(self.client.clone(), namespace);
            match bindings
                .get_opt(&binding)
                .await
                .map_err(self.error(format!("reading {what}")))?
            {
                Some(found) if !owned_by(found.metadata.labels.as_ref(), tenant) => {
                    return Err(CredentialError::Cluster(format!(
                        "{what} is not managed by harmony for tenant `{tenant}`: remove it yourself"
                    )));
                }
                Some(_) => {
                    bindings
                        .delete(&binding, &DeleteParams::default())
                        .await
                        .map_err(self.error(format!("deleting {what}")))?;
                    actions.push(format!(
                        "deleted {what}: `{user}` has no role in {namespace} any more"
                    ));
                }
                None => actions.push(format!("{what} was already absent")),
            }
        }
        let namespaces = request.namespaces.join(", ");
        let csrs: Api<CertificateSigningRequest> = Api::all(self.client.clone());
        let selector = ListParams::default().labels(&selector(Some(tenant), Some(member)));
        let found = csrs.list(&selector).await.map_err(self.error(format!(
            "listing the CertificateSigningRequests of {member}"
        )))?;
        for csr in found {
            let name = csr.metadata.name.unwrap_or_default();
            csrs.delete(&name, &DeleteParams::default())
                .await
                .map_err(self.error(format!("deleting CertificateSigningRequest {name}")))?;
            actions.push(format!("deleted CertificateSigningRequest {name}"));
        }
        remove_key(&self.pending_key(tenant, member))?;
        Ok(Revocation {
            kind: CredentialKind::Certificate,
            identity: user.to_string(),
            actions,
            caveats: vec![
                format!(
                    "Kubernetes cannot revoke client certificates: those issued to `{user}` stay \
                     valid until they expire (see `harmony tenant credentials list`), but without \
                     the RoleBinding they grant nothing in {namespaces}"
                ),
                format!(
                    "`harmony tenant apply` recreates RoleBinding {binding} while member \
                     `{member}` is in the tenant file: remove the member (or change its user) \
                     before the next apply"
                ),
            ],
        })
    }
}
