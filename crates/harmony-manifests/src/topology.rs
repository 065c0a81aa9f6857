//! The topology: a folder with one sub-folder per tenant, or the folder of the cluster
//! guardrails (see [`crate::guardrails`]).

use std::fs;
use std::path::PathBuf;

use harmony::{InterpretError, Outcome, Topology};
use harmony_tenant::{ClusterFacts, TenantManager, TenantPlan};

use crate::{manifest_files, write_folder};

/// Writes tenants as manifests under `out/<tenant>/`, or cluster guardrails as folder `out`
/// itself, for GitOps.
///
/// A tenant's folder is replaced as a whole (written beside it, then renamed into place), so it
/// is never left half-written, and files the tenant no longer needs disappear with it.
pub struct ManifestTopology {
    pub(crate) out: PathBuf,
    pub(crate) facts: ClusterFacts,
}

impl ManifestTopology {
    /// A topology writing under `out`, compiling tenants and guardrails against `facts`.
    pub fn new(out: impl Into<PathBuf>, facts: ClusterFacts) -> Self {
        Self {
            out: out.into(),
            facts,
        }
    }
}

#[async_trait::async_trait]
impl Topology for ManifestTopology {
    fn name(&self) -> String {
        format!("manifests ({})", self.out.display())
    }

    async fn ensure_ready(&self) -> Result<(), InterpretError> {
        if self.out.exists() && !self.out.is_dir() {
            return Err(InterpretError::NotReady(format!(
                "{} exists and is not a folder: give --out a folder",
                self.out.display()
            )));
        }
        fs::create_dir_all(&self.out).map_err(|source| InterpretError::Io {
            path: self.out.clone(),
            source,
        })
    }
}

#[async_trait::async_trait]
impl TenantManager for ManifestTopology {
    async fn cluster_facts(&self) -> Result<ClusterFacts, InterpretError> {
        Ok(self.facts.clone())
    }

    async fn ensure_tenant(&self, plan: &TenantPlan) -> Result<Outcome, InterpretError> {
        write_folder(&self.out.join(&plan.tenant), &manifest_files(plan))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use harmony::OutcomeStatus;
    use harmony_tenant::{Member, TenantRole, TenantScore, compile};

    fn plan(score: &TenantScore) -> TenantPlan {
        compile(score, &ClusterFacts::kubernetes())
    }

    #[tokio::test]
    async fn writes_then_reports_unchanged_then_prunes() {
        let tmp = tempfile::tempdir().unwrap();
        let topology = ManifestTopology::new(tmp.path().join("out"), ClusterFacts::kubernetes());
        topology.ensure_ready().await.unwrap();
        let with_ci =
            TenantScore::new("acme").member(Member::service_account("ci", TenantRole::Developer));

        let first = topology.ensure_tenant(&plan(&with_ci)).await.unwrap();
        assert_eq!(first.status, OutcomeStatus::Changed);
        let dir = tmp.path().join("out/acme");
        let mut names: Vec<String> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names.first().map(String::as_str),
            Some("10-namespace-acme.yaml")
        );
        assert!(
            names.contains(&"50-serviceaccount-ci.yaml".to_string()),
            "{names:?}"
        );
        assert!(names.contains(&"kustomization.yaml".to_string()));

        let again = topology.ensure_tenant(&plan(&with_ci)).await.unwrap();
        assert_eq!(again.status, OutcomeStatus::Unchanged);

        let without = topology
            .ensure_tenant(&plan(&TenantScore::new("acme")))
            .await
            .unwrap();
        assert!(
            without
                .details
                .contains(&"removed 50-serviceaccount-ci.yaml".to_string()),
            "{without:?}"
        );
        assert!(!dir.join("50-serviceaccount-ci.yaml").exists());
        let leftovers: Vec<_> = fs::read_dir(tmp.path().join("out"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, ["acme"]);
    }

    #[tokio::test]
    async fn refuses_a_file_as_output_folder() {
        let tmp = tempfile::NamedTempFile::new().unwrap();
        let topology = ManifestTopology::new(tmp.path(), ClusterFacts::kubernetes());
        let error = topology.ensure_ready().await.unwrap_err();
        assert!(error.to_string().contains("is not a folder"), "{error}");
    }

    #[test]
    fn output_is_byte_identical_for_identical_input() {
        let score = TenantScore::new("acme").member(Member::user(
            "alice",
            TenantRole::Admin,
            "alice@acme.com",
        ));
        assert_eq!(manifest_files(&plan(&score)), manifest_files(&plan(&score)));
        let stream = crate::encode_stream(&[plan(&score)], crate::Format::Yaml);
        assert_eq!(
            stream,
            crate::encode_stream(&[plan(&score)], crate::Format::Yaml)
        );
        assert!(
            stream.starts_with("---\napiVersion: v1\nkind: Namespace\n"),
            "{stream}"
        );
    }
}
