//! The isolation checks, derived from the Kubernetes Multi-Tenancy Benchmarks and ADR 011, and
//! [`audit`], which runs them per tenant.

mod escalation;
mod every_pod;
mod guardrails;
mod harmony_api;
mod ingress;
pub(crate) use network::INTERNET_SAMPLES;
pub(crate) mod network;
mod operator;
mod quota;
mod rbac;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use harmony_tenant::{
    ClusterFacts, Identity, InternetEgress, OidcFacts, PlatformSource, PodSecurityLevel,
    TENANT_LABEL, TenantRole, TenantScore,
};
use ipnet::IpNet;
use serde::Serialize;

pub use operator::{OPERATOR_ACCOUNT, OPERATOR_NAMESPACE};

use crate::netpol::Network;
use crate::rbac::{Authorizer, Scope, SubjectRef};
use crate::snapshot::{ByNamespace, ClusterSnapshot};

/// The outcome of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Holds.
    Pass,
    /// Holds, with a caveat worth reading.
    Warn,
    /// Does not hold.
    Fail,
}

/// One check of one tenant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// Stable id, such as `HMT-RBAC-001`.
    pub id: &'static str,
    /// What is checked.
    pub title: &'static str,
    /// The outcome.
    pub status: Status,
    /// Which rules or policies grant or block, one per line.
    pub evidence: Vec<String>,
    /// Network checks: whether the verdict holds for every pod the tenants could create, or
    /// only for today's pods.
    #[serde(rename = "everyPod", skip_serializing_if = "Option::is_none")]
    pub every_pod: Option<EveryPod>,
}

/// A network check judged for every pod the tenants could create: pod labels and named ports in
/// tenant namespaces are free, namespace labels are constants when the namespace-label guardrail
/// holds them (free otherwise).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EveryPod {
    /// `true`: holds for every pod; `false`: for today's pods only (see `counterexample`).
    pub holds: bool,
    /// Whether namespace labels were constants or free, and why.
    pub namespace_labels: String,
    /// Pods the tenants could create that break the check (boxed: most checks hold, and a
    /// report holds thousands of checks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counterexample: Option<Box<Counterexample>>,
}

/// Two pods (labels and named ports chosen by their tenants) and a port on which the first may
/// open a connection to the second that the check forbids (or may not, that it requires).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counterexample {
    /// The source pod.
    pub source: PodTemplate,
    /// The destination pod.
    pub destination: PodTemplate,
    /// `TCP`, `UDP` or `SCTP`.
    pub protocol: String,
    /// The destination port.
    pub port: u16,
    /// Which policy rules allow (or block) it, as `explain` prints them.
    pub evidence: Vec<String>,
}

/// A pod a tenant could create: where, its labels and its named container ports.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodTemplate {
    /// Its namespace.
    pub namespace: String,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// Named container ports: name, protocol, number.
    pub named_ports: Vec<(String, String, u16)>,
}

impl Check {
    /// A check that fails when `failures` is non-empty (they become its evidence), else passes
    /// with `pass_evidence`.
    pub(crate) fn from_failures(
        id: &'static str,
        title: &'static str,
        failures: Vec<String>,
        pass_evidence: Vec<String>,
    ) -> Self {
        let status = if failures.is_empty() {
            Status::Pass
        } else {
            Status::Fail
        };
        let evidence = if failures.is_empty() {
            pass_evidence
        } else {
            failures
        };
        Self {
            id,
            title,
            status,
            evidence,
            every_pod: None,
        }
    }
}

/// What a tenant is meant to have, when known (from its tenant file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    /// Minimum Pod Security Standard level.
    pub pod_security: String,
    /// Whether internet egress must be allowed (`Some(true)`) or denied; `None`: just report it.
    pub internet_egress: Option<bool>,
    /// Platform sources that must reach the tenant; others must not.
    pub allow_from: Option<Vec<PlatformSource>>,
    /// CIDRs the tenant may reach beyond the internet: `allowEgressTo`, and `allowPrivateEgressTo`
    /// with its reason.
    pub granted_egress: Vec<(IpNet, Option<String>)>,
    /// The members and their roles; `None`: the RoleBindings `member-*` tell them.
    pub members: Option<Vec<(SubjectRef, TenantRole)>>,
    /// The StorageClasses the tenant may claim from (`spec.storageAccess.storageClasses`);
    /// `None`: any class its quota caps above 0.
    pub storage_classes: Option<Vec<String>>,
}

impl Default for Expectation {
    fn default() -> Self {
        Self {
            pod_security: "restricted".into(),
            internet_egress: None,
            allow_from: None,
            granted_egress: Vec::new(),
            members: None,
            storage_classes: None,
        }
    }
}

impl Expectation {
    /// What `score` (a validated one) asks for; `oidc` names its identity provider members as
    /// the API server sees them (their RoleBindings' groups).
    pub fn of(score: &TenantScore, oidc: Option<&OidcFacts>) -> Self {
        let isolation = &score.network_isolation;
        let public = isolation.allow_egress_to.iter().map(|c| (c, None));
        let private = isolation
            .allow_private_egress_to
            .iter()
            .map(|p| (&p.cidr, Some(p.reason.clone())));
        // Per-namespace overrides (a tenant with several namespaces): the weakest pod security
        // level is expected, and internet egress only when every namespace agrees.
        let views = score.namespace_scores();
        let mut seen = BTreeSet::new();
        let weakest = views
            .iter()
            .map(|v| v.tenant_config.pod_security)
            .find(|l| *l == PodSecurityLevel::Baseline)
            .unwrap_or(score.tenant_config.pod_security);
        let egress: BTreeSet<bool> = views
            .iter()
            .map(|v| v.network_isolation.internet_egress == InternetEgress::Allow)
            .collect();
        Self {
            pod_security: weakest.as_str().into(),
            internet_egress: (egress.len() == 1).then(|| egress.contains(&true)),
            allow_from: Some(isolation.allowed_sources()),
            granted_egress: public
                .chain(private)
                .filter_map(|(cidr, reason)| Some((cidr.parse().ok()?, reason)))
                .collect(),
            members: Some(
                score
                    .rbac_config
                    .members
                    .iter()
                    .flat_map(|m| {
                        let subjects = match m.identity() {
                            Some(Identity::User(name)) => {
                                vec![SubjectRef::User { name: name.into() }]
                            }
                            Some(Identity::Group(name)) => {
                                vec![SubjectRef::Group { name: name.into() }]
                            }
                            // One ServiceAccount per namespace of the tenant.
                            Some(Identity::ServiceAccount) => score
                                .namespaces()
                                .into_iter()
                                .map(|ns| SubjectRef::ServiceAccount {
                                    namespace: ns.into(),
                                    name: m.name.clone(),
                                })
                                .collect(),
                            Some(Identity::OidcUser(_) | Identity::OidcGroup(_)) => oidc
                                .and_then(|oidc| oidc.bound_group(score.name(), m))
                                .map(|name| SubjectRef::Group { name })
                                .into_iter()
                                .collect(),
                            None => Vec::new(),
                        };
                        subjects.into_iter().map(|s| (s, m.role))
                    })
                    // Identity provider users of one role share their role's group.
                    .filter(|member| seen.insert(member.clone()))
                    .collect(),
            ),
            storage_classes: Some(
                score
                    .storage_access
                    .storage_classes
                    .iter()
                    .map(|class| class.name.clone())
                    .collect(),
            ),
        }
    }
}

/// Audit settings.
#[derive(Debug, Clone)]
pub struct AuditConfig {
    /// Where DNS, ingress and monitoring run, and the cluster's storage classes.
    pub facts: ClusterFacts,
    /// Audit only this tenant.
    pub tenant: Option<String>,
    /// Per-tenant expectations; tenants not listed get [`Expectation::default`].
    pub expectations: BTreeMap<String, Expectation>,
}

impl AuditConfig {
    /// Default expectations for every tenant.
    pub fn new(facts: ClusterFacts) -> Self {
        Self {
            facts,
            tenant: None,
            expectations: BTreeMap::new(),
        }
    }
}

/// The checks of one tenant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TenantReport {
    /// The tenant (value of its namespace's tenant label).
    pub tenant: String,
    /// Its namespace.
    pub namespace: String,
    /// The checks, in id order.
    pub checks: Vec<Check>,
    /// Paths to or from another tenant that a connection both tenants declare covers.
    #[serde(rename = "declaredConnections", skip_serializing_if = "Vec::is_empty")]
    pub declared_connections: Vec<String>,
}

impl TenantReport {
    /// The worst status of its checks.
    pub fn status(&self) -> Status {
        self.checks
            .iter()
            .map(|c| c.status)
            .max()
            .unwrap_or(Status::Pass)
    }
}

/// A whole audit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditReport {
    /// One report per tenant, by tenant name.
    pub tenants: Vec<TenantReport>,
    /// Checks of the platform's own accounts (the operator's, when the audited objects hold
    /// it); none when the audit is narrowed to one tenant.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub platform: Vec<Check>,
    /// What the loader skipped or synthesized.
    pub notes: Vec<String>,
}

impl AuditReport {
    /// Whether some check failed.
    pub fn failed(&self) -> bool {
        self.tenants.iter().any(|t| t.status() == Status::Fail)
            || self.platform.iter().any(|c| c.status == Status::Fail)
    }
}

/// A tenant namespace and its subjects.
pub(crate) struct Tenant {
    pub name: String,
    pub namespace: String,
    pub subjects: BTreeSet<SubjectRef>,
}

/// Everything the checks share.
pub(crate) struct Context<'a> {
    pub snapshot: &'a ClusterSnapshot,
    pub config: &'a AuditConfig,
    pub authz: Authorizer<'a>,
    pub net: Network,
    pub tenants: Vec<Tenant>,
    /// Tenant index by namespace.
    tenant_index: HashMap<String, usize>,
    /// The namespaced objects, by namespace.
    pub by_namespace: ByNamespace<'a>,
    /// The guardrails in force, when the source read admission policies.
    guardrails: Option<guardrails::Guardrails>,
    /// Pod classes of cluster DNS, the ingress controller and monitoring.
    pub platform: network::Platform,
}

impl<'a> Context<'a> {
    /// Indexes `snapshot` for the checks and the reachability matrix.
    pub fn new(snapshot: &'a ClusterSnapshot, config: &'a AuditConfig) -> Self {
        let authz = Authorizer::new(snapshot);
        let net = Network::new(snapshot);
        let by_namespace = ByNamespace::new(snapshot);
        let tenants = tenants(snapshot, &authz, &by_namespace);
        let platform = network::Platform::new(snapshot, &net, &config.facts);
        let tenant_index = tenants
            .iter()
            .enumerate()
            .map(|(i, t)| (t.namespace.clone(), i))
            .collect();
        Self {
            snapshot,
            config,
            authz,
            net,
            tenants,
            tenant_index,
            by_namespace,
            guardrails: guardrails::Guardrails::of(snapshot),
            platform,
        }
    }

    pub fn tenant_of(&self, namespace: &str) -> Option<&Tenant> {
        self.tenant_index.get(namespace).map(|&i| &self.tenants[i])
    }

    /// Whether `namespace` is one of the namespaces of `t`'s tenant (a tenant may have several).
    pub fn same_tenant(&self, t: &Tenant, namespace: &str) -> bool {
        self.tenant_of(namespace).is_some_and(|o| o.name == t.name)
    }
}

/// Tenant namespaces (labelled [`TENANT_LABEL`]) and their subjects: those of RoleBindings in the
/// namespace, and its ServiceAccounts (`default` included).
fn tenants(snapshot: &ClusterSnapshot, authz: &Authorizer, by_ns: &ByNamespace) -> Vec<Tenant> {
    let mut bound: HashMap<String, Vec<SubjectRef>> = HashMap::new();
    for (subject, scope) in authz.subjects() {
        if let Scope::Namespace(ns) = scope {
            bound.entry(ns).or_default().push(subject);
        }
    }
    let mut tenants: Vec<Tenant> = snapshot
        .namespaces
        .iter()
        .filter_map(|ns| {
            let name = ns.metadata.labels.as_ref()?.get(TENANT_LABEL)?.clone();
            let namespace = ns.metadata.name.clone()?;
            let mut subjects: BTreeSet<SubjectRef> = bound
                .get(&namespace)
                .into_iter()
                .flatten()
                .cloned()
                .collect();
            let accounts = by_ns
                .get(&namespace)
                .service_accounts
                .iter()
                .filter_map(|sa| sa.metadata.name.clone())
                .chain(["default".to_string()]);
            subjects.extend(accounts.map(|name| SubjectRef::ServiceAccount {
                namespace: namespace.clone(),
                name,
            }));
            Some(Tenant {
                name,
                namespace,
                subjects,
            })
        })
        .collect();
    tenants.sort_by(|a, b| a.name.cmp(&b.name));
    tenants
}

/// The checks of tenant `t`.
fn tenant_report(ctx: &Context, t: &Tenant, cross: &network::CrossPaths) -> TenantReport {
    let default = Expectation::default();
    let expect = ctx.config.expectations.get(&t.name).unwrap_or(&default);
    let mut checks = rbac::checks(ctx, t);
    checks.extend(escalation::checks(ctx, t));
    checks.extend(ingress::checks(ctx, t));
    checks.extend(quota::checks(ctx, t, expect));
    checks.extend(network::checks(ctx, t, expect, cross));
    guardrails::annotate(ctx, t, &mut checks);
    checks.sort_by_key(|c| c.id);
    checks.shrink_to_fit();
    TenantReport {
        tenant: t.name.clone(),
        namespace: t.namespace.clone(),
        checks,
        declared_connections: network::declared_lines(ctx, &t.namespace, cross),
    }
}

/// `f` of every item, computed on every core, in the items' order.
fn on_every_core<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = items.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(|| part.iter().map(&f).collect::<Vec<R>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("an audit thread panicked"))
            .collect()
    })
}

/// Runs every check on every tenant of `snapshot` (or the one `config.tenant` names).
/// Tenants are checked on every core; the report keeps their order.
#[tracing::instrument(name = "audit", skip_all)]
pub fn audit(snapshot: &ClusterSnapshot, config: &AuditConfig) -> AuditReport {
    let (ctx, cross) = tracing::info_span!("index").in_scope(|| {
        let ctx = Context::new(snapshot, config);
        let cross = network::cross_tenant_paths(&ctx);
        (ctx, cross)
    });
    let chosen: Vec<&Tenant> = ctx
        .tenants
        .iter()
        .filter(|t| config.tenant.as_ref().is_none_or(|n| *n == t.name))
        .collect();
    let mut reports = tracing::info_span!("checks", tenants = chosen.len())
        .in_scope(|| on_every_core(&chosen, |t| tenant_report(&ctx, t, &cross)));
    tracing::info_span!("every pod").in_scope(|| every_pod::annotate(&ctx, &mut reports));
    let platform = match config.tenant {
        None => operator::checks(&ctx),
        Some(_) => Vec::new(),
    };
    AuditReport {
        tenants: reports,
        platform,
        notes: snapshot.notes.clone(),
    }
}
