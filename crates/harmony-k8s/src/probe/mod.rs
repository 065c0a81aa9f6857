//! Behavioural probes on a live cluster: each tenant's member roles, impersonated, try what the
//! Multi-Tenancy Benchmarks try (the [`catalogue`]) with `dryRun=All`, so nothing is stored.
//!
//! The admin credentials list tenant namespaces, member RoleBindings and the objects Harmony
//! manages (to name the quota, limit range and policy to tamper with); every probe itself is sent
//! as the member, through `Impersonate-User` and `Impersonate-Group`.

mod send;

use std::collections::BTreeMap;

use futures::future::join_all;
use harmony_audit::probe::{
    Answer, IdentityProbes, Name, Probe, ProbeIdentity, ProbeReport, ProbeResult, ProbeVerb, Scope,
    TenantProbes, catalogue, catalogue_for, from_bindings, from_score,
};
use harmony_tenant::{
    MANAGED_BY_LABEL, MANAGED_BY_VALUE, PodSecurityLevel, STORAGE_CLASS_QUOTA_SUFFIX, TENANT_LABEL,
    TenantScore,
};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::{LimitRange, Namespace, ResourceQuota};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::api::{Api, PostParams};
use serde_json::Value;

use harmony_kube::{ApiFailure, Attempt, Cluster, Kind, explain};
use send::{Target, send};

/// Why the probes could not run.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The API server could not be reached, refused the credentials, or a listing failed.
    #[error(transparent)]
    Api(#[from] ApiFailure),
    /// The credentials may not impersonate members.
    #[error(
        "the kubeconfig's user may not impersonate {missing} at {server}: probes act as each \
         member through impersonation; use cluster-admin credentials or grant `impersonate` on \
         users, groups and serviceaccounts"
    )]
    CannotImpersonate {
        /// The API server.
        server: String,
        /// The resources it may not impersonate, such as `users, groups`.
        missing: String,
    },
    /// No client could be built for an identity.
    #[error("cannot build a client impersonating {user}: {source}")]
    Client {
        /// The impersonated user.
        user: String,
        /// Why.
        #[source]
        source: kube::Error,
    },
    /// A tenant asked for is not in the cluster.
    #[error(
        "tenant {tenant}: no namespace at {server} carries the label {TENANT_LABEL}={tenant}; \
         apply it first (`harmony tenant apply`) or leave it out"
    )]
    UnknownTenant {
        /// The tenant.
        tenant: String,
        /// The API server.
        server: String,
    },
}

/// Which tenants to probe.
#[derive(Debug, Clone, Default)]
pub struct ProbeSelection {
    /// Only this tenant.
    pub tenant: Option<String>,
    /// Tenant files: these tenants, with the members the files name; empty: every tenant of the
    /// cluster, with the members its RoleBindings name.
    pub scores: Vec<TenantScore>,
}

/// Sends the probes as members, through an admin configuration that may impersonate them.
pub struct Prober {
    config: kube::Config,
    cluster: Cluster,
}

/// What the probes of one tenant target.
struct TenantContext<'a> {
    namespace: &'a str,
    other: &'a str,
    /// Plural → the name of an object of that kind Harmony manages in the namespace.
    managed: BTreeMap<&'static str, String>,
    /// A StorageClass the tenant may use.
    storage_class: Option<String>,
}

/// A tenant namespace to probe, the identities to probe it as, and its pod security level
/// (its tenant file's, else `restricted`).
struct Subject {
    tenant: String,
    namespace: String,
    identities: Vec<ProbeIdentity>,
    level: PodSecurityLevel,
}

impl Prober {
    /// A prober with the admin configuration `config` (no request is sent yet).
    pub fn new(config: kube::Config) -> Result<Self, ProbeError> {
        let server = config.cluster_url.to_string();
        let client = client(config.clone(), "the kubeconfig's user")?;
        Ok(Self {
            config,
            cluster: Cluster::new(client, server.trim_end_matches('/').to_string()),
        })
    }

    /// The API server.
    pub fn server(&self) -> &str {
        self.cluster.server()
    }

    /// Runs every probe of the [`catalogue`] as one member per role of each selected tenant.
    pub async fn run(&self, selection: &ProbeSelection) -> Result<ProbeReport, ProbeError> {
        self.cluster.version().await?;
        self.check_impersonation().await?;
        let namespaces = self.tenant_namespaces().await?;
        let subjects = self.subjects(&namespaces, selection).await?;
        let mut report = ProbeReport {
            server: self.server().to_string(),
            ..ProbeReport::default()
        };
        let all: Vec<&str> = namespaces.keys().map(String::as_str).collect();
        for subject in subjects {
            let other = other_namespace(&all, &subject.namespace);
            if other == "default" {
                report.notes.push(format!(
                    "tenant {}: no other tenant namespace; its cross-tenant probes target `default`",
                    subject.tenant
                ));
            }
            if subject.identities.is_empty() {
                report.notes.push(format!(
                    "tenant {}: no member to probe as (no member-* RoleBinding, or none in its file)",
                    subject.tenant
                ));
            }
            let tenant = self.context(&subject.namespace, other).await?;
            let probes = catalogue_for(subject.level);
            if probes.len() < catalogue().len() {
                let skipped: Vec<&str> = catalogue()
                    .iter()
                    .map(|p| p.id)
                    .filter(|id| !probes.iter().any(|p| p.id == *id))
                    .collect();
                report.notes.push(format!(
                    "tenant {}: pod security {} (its tenant file): {} not probed ({1} allows them)",
                    subject.tenant,
                    subject.level.as_str(),
                    skipped.join(", ")
                ));
            }
            let runs = subject
                .identities
                .iter()
                .map(|identity| self.probe_as(identity, &probes, &tenant));
            let identities = join_all(runs)
                .await
                .into_iter()
                .collect::<Result<Vec<_>, _>>()?;
            report.tenants.push(TenantProbes {
                tenant: subject.tenant,
                namespace: subject.namespace,
                other_namespace: other.to_string(),
                identities,
            });
        }
        Ok(report)
    }

    /// Tenant namespaces (labelled with [`TENANT_LABEL`]) → tenant, by namespace.
    async fn tenant_namespaces(&self) -> Result<BTreeMap<String, String>, ApiFailure> {
        let listed = self
            .cluster
            .list(Kind::of::<Namespace>(), "", TENANT_LABEL)
            .await?;
        Ok(listed
            .iter()
            .filter_map(|ns| {
                let name = ns["metadata"]["name"].as_str()?;
                let tenant = ns["metadata"]["labels"][TENANT_LABEL].as_str()?;
                Some((name.to_string(), tenant.to_string()))
            })
            .collect())
    }

    /// The selected tenants, by name, with the identities to probe them as.
    async fn subjects(
        &self,
        namespaces: &BTreeMap<String, String>,
        selection: &ProbeSelection,
    ) -> Result<Vec<Subject>, ProbeError> {
        let unknown = |tenant: &str| ProbeError::UnknownTenant {
            tenant: tenant.into(),
            server: self.server().into(),
        };
        let namespace_of = |tenant: &str| {
            namespaces
                .iter()
                .find(|(_, t)| t.as_str() == tenant)
                .map(|(ns, _)| ns.clone())
        };
        let mut subjects = Vec::new();
        if selection.scores.is_empty() {
            for (namespace, tenant) in namespaces {
                if selection.tenant.as_ref().is_some_and(|t| t != tenant) {
                    continue;
                }
                let identities = from_bindings(namespace, &self.member_bindings(namespace).await?);
                subjects.push(Subject {
                    tenant: tenant.clone(),
                    namespace: namespace.clone(),
                    identities,
                    level: PodSecurityLevel::Restricted,
                });
            }
        } else {
            for score in &selection.scores {
                if selection.tenant.as_ref().is_some_and(|t| t != score.name()) {
                    continue;
                }
                let namespace = namespace_of(score.name()).ok_or_else(|| unknown(score.name()))?;
                subjects.push(Subject {
                    tenant: score.name().to_string(),
                    namespace,
                    identities: from_score(score),
                    level: score.tenant_config.pod_security,
                });
            }
        }
        if let Some(tenant) = &selection.tenant
            && subjects.is_empty()
        {
            return Err(unknown(tenant));
        }
        subjects.sort_by(|a, b| a.tenant.cmp(&b.tenant));
        Ok(subjects)
    }

    /// The RoleBindings Harmony manages in `namespace`.
    async fn member_bindings(&self, namespace: &str) -> Result<Vec<RoleBinding>, ApiFailure> {
        let selector = format!("{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}");
        let listed = self
            .cluster
            .list(Kind::of::<RoleBinding>(), namespace, &selector)
            .await?;
        Ok(listed
            .into_iter()
            .filter_map(|b| serde_json::from_value(b).ok())
            .collect())
    }

    /// What the probes of the tenant in `namespace` need to know: the first (by name) object of
    /// each kind Harmony manages there, for the probes that tamper with one, and a StorageClass
    /// the tenant may use (its quota gives allowed classes a non-zero cap).
    async fn context<'a>(
        &self,
        namespace: &'a str,
        other: &'a str,
    ) -> Result<TenantContext<'a>, ApiFailure> {
        let selector = format!("{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}");
        let mut context = TenantContext {
            namespace,
            other,
            managed: BTreeMap::new(),
            storage_class: None,
        };
        let quotas = Kind::of::<ResourceQuota>();
        for kind in [
            quotas,
            Kind::of::<LimitRange>(),
            Kind::of::<NetworkPolicy>(),
        ] {
            let mut listed = self.cluster.list(kind, namespace, &selector).await?;
            listed.sort_by(|a, b| {
                a["metadata"]["name"]
                    .as_str()
                    .cmp(&b["metadata"]["name"].as_str())
            });
            let Some(first) = listed.first() else {
                continue;
            };
            if let Some(name) = first["metadata"]["name"].as_str() {
                context.managed.insert(kind.plural(), name.to_string());
            }
            if kind == quotas {
                context.storage_class = allowed_class(&first["spec"]["hard"]);
            }
        }
        Ok(context)
    }

    /// Refuses, naming what is missing, unless the credentials may impersonate users, groups and
    /// ServiceAccounts (members are any of them).
    async fn check_impersonation(&self) -> Result<(), ProbeError> {
        let api: Api<SelfSubjectAccessReview> = Api::all(self.cluster.client().clone());
        let mut missing = Vec::new();
        for resource in ["users", "groups", "serviceaccounts"] {
            let review = SelfSubjectAccessReview {
                spec: SelfSubjectAccessReviewSpec {
                    resource_attributes: Some(ResourceAttributes {
                        resource: Some(resource.into()),
                        verb: Some("impersonate".into()),
                        ..ResourceAttributes::default()
                    }),
                    ..SelfSubjectAccessReviewSpec::default()
                },
                ..SelfSubjectAccessReview::default()
            };
            let attempt = Attempt {
                verb: "create",
                resource: Kind::of::<SelfSubjectAccessReview>().resource(),
                namespace: "",
                name: "",
            };
            let answer = api
                .create(&PostParams::default(), &review)
                .await
                .map_err(|e| explain(&e, &attempt, self.server()))?;
            if !answer.status.is_some_and(|s| s.allowed) {
                missing.push(resource);
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        Err(ProbeError::CannotImpersonate {
            server: self.server().to_string(),
            missing: missing.join(", "),
        })
    }

    /// Every probe as `identity`, in catalogue order.
    async fn probe_as(
        &self,
        identity: &ProbeIdentity,
        probes: &[Probe],
        tenant: &TenantContext<'_>,
    ) -> Result<IdentityProbes, ProbeError> {
        let (namespace, other) = (tenant.namespace, tenant.other);
        let mut config = self.config.clone();
        config.auth_info.impersonate = Some(identity.user.clone());
        config.auth_info.impersonate_groups = Some(identity.groups.clone());
        let client = client(config, &identity.user)?;
        let mut results = Vec::new();
        for probe in probes {
            let target_namespace = match probe.scope {
                Scope::Cluster => None,
                Scope::Own => Some(namespace),
                Scope::Other => Some(other),
            };
            let name = match object_name(&probe.verb) {
                None => None,
                Some(Name::Fixed(name)) => Some(name),
                Some(Name::OwnNamespace) => Some(namespace),
                Some(Name::Managed) => tenant
                    .managed
                    .get(probe.resource.plural)
                    .map(String::as_str),
            };
            let request = probe.describe(namespace, other, name);
            let answer = if name.is_none() && object_name(&probe.verb).is_some() {
                Answer::not_sent(format!(
                    "no {} managed by Harmony in {namespace} to probe (deleted?)",
                    probe.resource.kind
                ))
            } else {
                let target = Target {
                    namespace: target_namespace,
                    name,
                    body: probe.body(tenant.storage_class.as_deref()),
                };
                send(&client, &probe.resource, &probe.verb, target).await
            };
            results.push(ProbeResult::new(probe, identity.role, request, answer));
        }
        Ok(IdentityProbes {
            identity: identity.clone(),
            results,
        })
    }
}

/// A StorageClass the quota `hard` gives a non-zero cap (`<class>.storageclass.storage.k8s.io/
/// requests.storage`), the first by name.
fn allowed_class(hard: &Value) -> Option<String> {
    let hard = hard.as_object()?;
    hard.iter()
        .filter(|(_, cap)| cap.as_str().is_some_and(|c| c != "0"))
        .find_map(|(key, _)| key.strip_suffix(STORAGE_CLASS_QUOTA_SUFFIX))
        .map(String::from)
}

/// The object a verb names, if any.
fn object_name(verb: &ProbeVerb) -> Option<Name> {
    match verb {
        ProbeVerb::Get(name) | ProbeVerb::Patch(name, _) | ProbeVerb::Delete(name) => Some(*name),
        ProbeVerb::List | ProbeVerb::Create(_) => None,
    }
}

/// The next tenant namespace after `own` (wrapping), or `default` when it is the only one.
fn other_namespace<'a>(all: &[&'a str], own: &str) -> &'a str {
    let at = all.iter().position(|ns| *ns == own).unwrap_or(0);
    all.iter()
        .cycle()
        .skip(at + 1)
        .take(all.len())
        .find(|ns| **ns != own)
        .copied()
        .unwrap_or("default")
}

fn client(config: kube::Config, user: &str) -> Result<kube::Client, ProbeError> {
    kube::Client::try_from(config).map_err(|source| ProbeError::Client {
        user: user.to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_allowed_class_is_one_the_quota_caps_above_zero() {
        let hard = serde_json::json!({
            "pods": "20",
            "fast.storageclass.storage.k8s.io/requests.storage": "0",
            "standard.storageclass.storage.k8s.io/requests.storage": "100Gi",
        });
        assert_eq!(allowed_class(&hard).as_deref(), Some("standard"));
        assert_eq!(allowed_class(&serde_json::json!({"pods": "20"})), None);
    }

    #[test]
    fn the_other_namespace_is_the_next_tenant_or_default() {
        let all = ["acme", "globex", "initech"];
        assert_eq!(other_namespace(&all, "acme"), "globex");
        assert_eq!(other_namespace(&all, "initech"), "acme");
        assert_eq!(other_namespace(&["acme"], "acme"), "default");
    }
}
