//! Behavioural probes: what a tenant member tries (as the Kubernetes Multi-Tenancy Benchmarks
//! do) and whether the API server blocked it.
//!
//! Pure: the [`catalogue`] says which requests to send and what to expect per role, [`classify`]
//! reads the server's answer, [`render`] prints the report. Sending the requests (impersonation,
//! `dryRun=All`) is an adapter's job (`harmony_k8s::Prober`).

mod catalogue;
mod identity;
mod render;
mod request;

use harmony_tenant::TenantRole;
use serde::Serialize;

pub use catalogue::{catalogue, catalogue_for};
pub use identity::{ProbeIdentity, from_bindings, from_score};
pub use render::render;
pub use request::{Name, Probe, ProbeVerb, ResourceKind, Scope};

/// What a probe must get from the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Expect {
    /// The request must be refused.
    MustBlock,
    /// The request must be admitted (a sanity probe: proves that not everything is refused).
    MustAllow,
}

/// Which layer refused a request, as its message tells.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "layer", content = "name")]
pub enum Layer {
    /// RBAC authorization: the identity lacks the verb on the resource.
    Rbac,
    /// RBAC escalation prevention: a binding or role granting more than the identity holds.
    RbacEscalation,
    /// A ValidatingAdmissionPolicy, by name.
    AdmissionPolicy(String),
    /// Pod Security admission.
    PodSecurity,
    /// A ResourceQuota.
    Quota,
    /// A LimitRange.
    LimitRange,
    /// Another admission refusal (403 the message does not attribute).
    Admission,
}

impl std::fmt::Display for Layer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Rbac => f.write_str("RBAC"),
            Self::RbacEscalation => f.write_str("RBAC escalation prevention"),
            Self::AdmissionPolicy(name) => write!(f, "ValidatingAdmissionPolicy {name}"),
            Self::PodSecurity => f.write_str("Pod Security admission"),
            Self::Quota => f.write_str("ResourceQuota"),
            Self::LimitRange => f.write_str("LimitRange"),
            Self::Admission => f.write_str("admission"),
        }
    }
}

/// What the server's answer means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "outcome", content = "by")]
pub enum Outcome {
    /// 2xx: the request was authorized and admitted (and, being a dry run, not stored).
    Allowed,
    /// Refused by this layer.
    Blocked(Layer),
    /// Anything else (not found, conflict, invalid, server error, not sent): proves nothing.
    Error,
}

/// The server's answer: HTTP status code, reason and message (the `Status` of a refusal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Answer {
    /// The HTTP status code; 0 when no request was sent.
    pub code: u16,
    /// The Status reason, such as `Forbidden`, or the success's reason phrase.
    pub reason: String,
    /// The Status message.
    pub message: String,
}

impl Answer {
    /// No request was sent, for `why`.
    pub fn not_sent(why: impl Into<String>) -> Self {
        Self {
            code: 0,
            reason: "NotSent".into(),
            message: why.into(),
        }
    }
}

impl std::fmt::Display for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.code == 0 {
            return write!(f, "not sent: {}", self.message);
        }
        write!(f, "{} {}", self.code, self.reason)?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

/// Classifies the server's answer to a dry-run request.
///
/// 2xx is allowed; 403 is blocked by the layer its message names (a policy, pod security, a
/// quota, a limit range, escalation prevention, else RBAC); 400/422 are blocked only when pod
/// security or an admission policy says so; everything else (404, 409, 401, 5xx, a refused
/// impersonation) is an error and never counts as blocked.
pub fn classify(answer: &Answer) -> Outcome {
    let message = answer.message.as_str();
    if (200..300).contains(&answer.code) {
        return Outcome::Allowed;
    }
    if message.contains("cannot impersonate") {
        return Outcome::Error;
    }
    let refused_by = if let Some(name) = admission_policy(message) {
        Some(Layer::AdmissionPolicy(name))
    } else if message.contains("violates PodSecurity") {
        Some(Layer::PodSecurity)
    } else {
        None
    };
    match (answer.code, refused_by) {
        (400 | 403 | 422, Some(layer)) => Outcome::Blocked(layer),
        (403, None) => Outcome::Blocked(forbidden_by(message)),
        _ => Outcome::Error,
    }
}

/// The layer behind a 403 that is neither an admission policy nor pod security.
fn forbidden_by(message: &str) -> Layer {
    if message.contains("exceeded quota") || message.contains("failed quota") {
        Layer::Quota
    } else if ["per Container", "per Pod", "per PersistentVolumeClaim"]
        .iter()
        .any(|scope| message.contains(scope))
    {
        Layer::LimitRange
    } else if message.contains("attempting to grant RBAC permissions not currently held")
        || message.contains("cannot bind")
        || message.contains("cannot escalate")
    {
        Layer::RbacEscalation
    } else if message.contains(" cannot ") {
        Layer::Rbac
    } else {
        Layer::Admission
    }
}

/// The policy named in `ValidatingAdmissionPolicy 'NAME' with binding 'B' denied request: ...`.
fn admission_policy(message: &str) -> Option<String> {
    let rest = message.split("ValidatingAdmissionPolicy '").nth(1)?;
    Some(rest.split('\'').next()?.to_string())
}

/// Whether a probe's outcome is what its expectation asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// As expected.
    Pass,
    /// The server could not tell (see the answer): the behaviour is not proven.
    Error,
    /// A must-block request was allowed, or a must-allow request was refused.
    Fail,
}

/// One probe as one identity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeResult {
    /// Stable id, such as `HMT-PROBE-001`.
    pub id: &'static str,
    /// What was tried.
    pub title: &'static str,
    /// The Multi-Tenancy Benchmark check it follows.
    pub mtb: &'static str,
    /// The request sent, such as `create pods in acme (dry run)`.
    pub request: String,
    /// What it must get.
    pub expect: Expect,
    /// What the answer means.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Whether that is as expected.
    pub verdict: Verdict,
    /// The server's answer.
    pub answer: Answer,
}

impl ProbeResult {
    /// The result of `probe`, sent as `request` by an identity of `role`, answered `answer`.
    pub fn new(probe: &Probe, role: TenantRole, request: String, answer: Answer) -> Self {
        let expect = probe.expect(role);
        let outcome = classify(&answer);
        let verdict = match (expect, &outcome) {
            (_, Outcome::Error) => Verdict::Error,
            (Expect::MustBlock, Outcome::Blocked(_)) | (Expect::MustAllow, Outcome::Allowed) => {
                Verdict::Pass
            }
            _ => Verdict::Fail,
        };
        Self {
            id: probe.id,
            title: probe.title,
            mtb: probe.mtb,
            request,
            expect,
            outcome,
            verdict,
            answer,
        }
    }
}

/// The probes of one identity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IdentityProbes {
    /// Who was impersonated.
    pub identity: ProbeIdentity,
    /// One result per probe, in id order.
    pub results: Vec<ProbeResult>,
}

/// The probes of one tenant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TenantProbes {
    /// The tenant.
    pub tenant: String,
    /// Its namespace.
    pub namespace: String,
    /// The namespace its cross-tenant probes target.
    pub other_namespace: String,
    /// One entry per role, the roles in order admin, developer, viewer.
    pub identities: Vec<IdentityProbes>,
}

impl TenantProbes {
    /// The worst verdict of its probes (pass when it has none).
    pub fn verdict(&self) -> Verdict {
        self.identities
            .iter()
            .flat_map(|i| &i.results)
            .map(|r| r.verdict)
            .max()
            .unwrap_or(Verdict::Pass)
    }
}

/// Every tenant's probes against one API server.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProbeReport {
    /// The API server probed.
    pub server: String,
    /// One entry per tenant, by name.
    pub tenants: Vec<TenantProbes>,
    /// What could not be probed, and why.
    pub notes: Vec<String>,
}

impl ProbeReport {
    /// Whether some probe failed or could not tell.
    pub fn failed(&self) -> bool {
        self.tenants.iter().any(|t| t.verdict() != Verdict::Pass)
    }
}

#[cfg(test)]
mod tests;
