//! What the cluster holds: harmony's member ServiceAccounts and certificate requests.

use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::api::{Api, ListParams};

use super::certificate::{certificate, read_certificate, refusal};
use super::{KubeCredentialIssuer, MEMBER_LABEL, selector};
use crate::{ClusterCredential, ClusterCredentialState, CredentialError, CredentialKind};
use harmony_tenant::TENANT_LABEL;

impl KubeCredentialIssuer {
    pub(super) async fn list(
        &self,
        tenant: Option<&str>,
    ) -> Result<Vec<ClusterCredential>, CredentialError> {
        let params = ListParams::default().labels(&selector(tenant, None));
        let accounts: Api<ServiceAccount> = Api::all(self.client.clone());
        let mut found = Vec::new();
        for sa in accounts
            .list(&params)
            .await
            .map_err(self.error("listing harmony's ServiceAccounts".into()))?
        {
            let meta = sa.metadata;
            let (namespace, name) = (
                meta.namespace.unwrap_or_default(),
                meta.name.unwrap_or_default(),
            );
            found.push(ClusterCredential {
                tenant: label(meta.labels.as_ref(), TENANT_LABEL),
                member: name.clone(),
                kind: CredentialKind::Token,
                object: format!("ServiceAccount {namespace}/{name}"),
                identity: format!(
                    "system:serviceaccount:{namespace}:{name} uid={}",
                    meta.uid.unwrap_or_default()
                ),
                serial: None,
                expires: None,
                state: ClusterCredentialState::Account,
            });
        }
        let csrs: Api<CertificateSigningRequest> = Api::all(self.client.clone());
        for csr in csrs
            .list(&params)
            .await
            .map_err(self.error("listing harmony's CertificateSigningRequests".into()))?
        {
            let signed = certificate(&csr).and_then(|pem| read_certificate(&pem).ok());
            let state = match (&signed, refusal(&csr)) {
                (_, Some(_)) => ClusterCredentialState::Refused,
                (Some(_), None) => ClusterCredentialState::Issued,
                (None, None) => ClusterCredentialState::Pending,
            };
            let labels = csr.metadata.labels.as_ref();
            found.push(ClusterCredential {
                tenant: label(labels, TENANT_LABEL),
                member: label(labels, MEMBER_LABEL),
                kind: CredentialKind::Certificate,
                object: format!(
                    "CertificateSigningRequest {}",
                    csr.metadata.name.clone().unwrap_or_default()
                ),
                identity: signed
                    .as_ref()
                    .map(|s| s.subject.clone())
                    .unwrap_or_default(),
                serial: signed.as_ref().map(|s| s.serial.clone()),
                expires: signed.map(|s| s.expires),
                state,
            });
        }
        Ok(found)
    }
}

fn label(labels: Option<&std::collections::BTreeMap<String, String>>, key: &str) -> String {
    labels.and_then(|l| l.get(key)).cloned().unwrap_or_default()
}
