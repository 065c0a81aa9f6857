//! `ClusterGuardrailsScore`: the guardrails of one cluster. Its serde form is the guardrails file
//! (`kind: ClusterGuardrails`).

use harmony::{DocumentKind, Problem, identity_problems};
use harmony_tenant::{API_VERSION, ClusterFacts, ClusterFlavor};
use serde::{Deserialize, Serialize};

/// The `kind` of guardrails files.
pub const GUARDRAILS_KIND: &str = "ClusterGuardrails";
/// The identity Harmony applies with by default: its ServiceAccount in `harmony-system`.
pub const DEFAULT_HARMONY_IDENTITY: &str = "system:serviceaccount:harmony-system:harmony";
/// The first AdminNetworkPolicy priority given to tenants by default, leaving 0–29 to the
/// platform team (OKD recommends a middle range so that rules can be inserted before and after).
pub const DEFAULT_FIRST_PRIORITY: i32 = 30;
/// The highest priority OVN-Kubernetes supports (it ignores AdminNetworkPolicies above it).
pub const OVN_MAX_PRIORITY: i32 = 99;

/// On, off, or decided by the cluster flavor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Toggle {
    /// On for OKD clusters (OVN-Kubernetes, project self-provisioning), off elsewhere.
    #[default]
    Auto,
    /// Always on.
    Enabled,
    /// Always off.
    Disabled,
}

impl Toggle {
    /// Whether the feature is on for a cluster of `flavor`.
    pub fn resolve(self, flavor: ClusterFlavor) -> bool {
        match self {
            Self::Auto => flavor == ClusterFlavor::Okd,
            Self::Enabled => true,
            Self::Disabled => false,
        }
    }
}

/// The guardrails of a cluster: who Harmony is, and which guardrail families are on.
///
/// The admission rules are always rendered; network tiers and OKD hardening follow their
/// [`Toggle`]. Build one with [`ClusterGuardrailsScore::default`] and the setters, or read a
/// guardrails file; check it with [`ClusterGuardrailsScore::validate`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "GuardrailsDocument", into = "GuardrailsDocument")]
pub struct ClusterGuardrailsScore {
    /// The name of this set of guardrails (`metadata.name`), for people.
    pub name: String,
    /// The username Harmony applies with: the only one, with `admin_users` and `admin_groups`,
    /// allowed to change protected namespace labels and Harmony-managed objects.
    pub harmony_identity: String,
    /// More usernames with Harmony's rights (break-glass administrators).
    pub admin_users: Vec<String>,
    /// Groups with Harmony's rights, such as `system:masters` (an operator's admin kubeconfig).
    pub admin_groups: Vec<String>,
    /// Usernames allowed to set `spec.volumeName` on a pending claim: the PersistentVolume
    /// binder of kube-controller-manager.
    pub volume_binders: Vec<String>,
    /// AdminNetworkPolicies per tenant and the BaselineAdminNetworkPolicy (OVN-Kubernetes).
    pub network_tiers: Toggle,
    /// The AdminNetworkPolicy priority of the first tenant (0–99); tenants take the following
    /// ones in name order.
    pub first_priority: i32,
    /// OKD hardening: no project self-provisioning for tenants.
    pub okd_hardening: Toggle,
    /// Groups that keep project self-provisioning when OKD hardening is on (none by default).
    pub self_provisioner_groups: Vec<String>,
    /// The IngressClass of tenants whose file lists no classes: the cluster's default class
    /// (unset: `nginx` on Kubernetes, `openshift-default` on OKD).
    pub default_ingress_class: Option<String>,
}

impl Default for ClusterGuardrailsScore {
    fn default() -> Self {
        Self {
            name: "cluster".into(),
            harmony_identity: DEFAULT_HARMONY_IDENTITY.into(),
            admin_users: vec![],
            admin_groups: vec!["system:masters".into()],
            volume_binders: vec![
                "system:serviceaccount:kube-system:persistent-volume-binder".into(),
                "system:kube-controller-manager".into(),
            ],
            network_tiers: Toggle::Auto,
            first_priority: DEFAULT_FIRST_PRIORITY,
            okd_hardening: Toggle::Auto,
            self_provisioner_groups: vec![],
            default_ingress_class: None,
        }
    }
}

impl ClusterGuardrailsScore {
    /// Sets the username Harmony applies with.
    pub fn harmony_identity(mut self, username: impl Into<String>) -> Self {
        self.harmony_identity = username.into();
        self
    }

    /// Sets the groups with Harmony's rights.
    pub fn admin_groups(mut self, groups: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.admin_groups = groups.into_iter().map(Into::into).collect();
        self
    }

    /// Sets whether network tiers are rendered.
    pub fn network_tiers(mut self, toggle: Toggle) -> Self {
        self.network_tiers = toggle;
        self
    }

    /// Sets the AdminNetworkPolicy priority of the first tenant.
    pub fn first_priority(mut self, priority: i32) -> Self {
        self.first_priority = priority;
        self
    }

    /// Sets whether OKD hardening is rendered.
    pub fn okd_hardening(mut self, toggle: Toggle) -> Self {
        self.okd_hardening = toggle;
        self
    }

    /// The IngressClass of tenants that list none, on a cluster of `flavor`.
    pub fn default_ingress_class(&self, flavor: ClusterFlavor) -> &str {
        self.default_ingress_class
            .as_deref()
            .unwrap_or(match flavor {
                ClusterFlavor::Kubernetes => "nginx",
                ClusterFlavor::Okd => "openshift-default",
            })
    }

    /// Every username with Harmony's rights: its identity, then the admin users.
    pub fn trusted_users(&self) -> Vec<&str> {
        std::iter::once(self.harmony_identity.as_str())
            .chain(self.admin_users.iter().map(String::as_str))
            .collect()
    }

    /// Every problem with this score on a cluster with `facts`; empty when it is valid.
    pub fn validate(&self, facts: &ClusterFacts) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut problem =
            |path: String, message: String| problems.push(Problem::new(path, message));
        if self.harmony_identity.trim().is_empty() {
            problem(
                "spec.harmonyIdentity".into(),
                format!(
                    "is empty: give the username Harmony applies with, such as `{DEFAULT_HARMONY_IDENTITY}`"
                ),
            );
        }
        let lists = [
            ("adminUsers", &self.admin_users),
            ("adminGroups", &self.admin_groups),
            ("volumeBinders", &self.volume_binders),
            ("selfProvisionerGroups", &self.self_provisioner_groups),
        ];
        for (field, values) in lists {
            for (i, value) in values.iter().enumerate() {
                if value.trim().is_empty() {
                    problem(
                        format!("spec.{field}[{i}]"),
                        "is empty: give a name or remove the entry".into(),
                    );
                } else if values[..i].contains(value) {
                    problem(
                        format!("spec.{field}[{i}]"),
                        format!("`{value}` is listed twice: list each name once"),
                    );
                }
            }
        }
        if !(0..=OVN_MAX_PRIORITY).contains(&self.first_priority) {
            problem(
                "spec.firstPriority".into(),
                format!(
                    "{} is outside 0–{OVN_MAX_PRIORITY}, the AdminNetworkPolicy priorities OVN-Kubernetes supports: use a value such as {DEFAULT_FIRST_PRIORITY}",
                    self.first_priority
                ),
            );
        }
        if let Some(class) = &self.default_ingress_class
            && !harmony_tenant::is_dns_subdomain(class)
        {
            problem(
                "spec.defaultIngressClass".into(),
                format!(
                    "`{class}` is not a valid IngressClass name: use lowercase letters, digits, `-` and `.`, such as `nginx`"
                ),
            );
        }
        if self.okd_hardening == Toggle::Enabled && facts.flavor != ClusterFlavor::Okd {
            problem(
                "spec.okdHardening".into(),
                "`enabled` needs an OKD cluster (project self-provisioning exists only there): use `auto` or `disabled`, or describe the cluster with `flavor: okd`".into(),
            );
        }
        problems
    }
}

/// A guardrails file is one document of this kind.
impl DocumentKind for ClusterGuardrailsScore {
    const API_VERSION: &'static str = API_VERSION;
    const KIND: &'static str = GUARDRAILS_KIND;
    type Context = ClusterFacts;

    fn problems(&self, facts: &ClusterFacts) -> Vec<Problem> {
        self.validate(facts)
    }
}

/// The guardrails file as written: `apiVersion`, `kind`, `metadata`, `spec`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct GuardrailsDocument {
    api_version: String,
    kind: String,
    metadata: GuardrailsMetadata,
    #[serde(default)]
    spec: GuardrailsSpec,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct GuardrailsMetadata {
    name: String,
}

/// Every field optional; unset ones take [`ClusterGuardrailsScore::default`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct GuardrailsSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    harmony_identity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    admin_users: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    admin_groups: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    volume_binders: Option<Vec<String>>,
    #[serde(default)]
    network_tiers: Toggle,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    first_priority: Option<i32>,
    #[serde(default)]
    okd_hardening: Toggle,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    self_provisioner_groups: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    default_ingress_class: Option<String>,
}

impl TryFrom<GuardrailsDocument> for ClusterGuardrailsScore {
    type Error = String;

    fn try_from(doc: GuardrailsDocument) -> Result<Self, String> {
        let identity = identity_problems::<Self>(Some(&doc.api_version), Some(&doc.kind));
        if let Some(problem) = identity.first() {
            return Err(problem.to_string());
        }
        let d = Self::default();
        let s = doc.spec;
        Ok(Self {
            name: doc.metadata.name,
            harmony_identity: s.harmony_identity.unwrap_or(d.harmony_identity),
            admin_users: s.admin_users.unwrap_or(d.admin_users),
            admin_groups: s.admin_groups.unwrap_or(d.admin_groups),
            volume_binders: s.volume_binders.unwrap_or(d.volume_binders),
            network_tiers: s.network_tiers,
            first_priority: s.first_priority.unwrap_or(d.first_priority),
            okd_hardening: s.okd_hardening,
            self_provisioner_groups: s
                .self_provisioner_groups
                .unwrap_or(d.self_provisioner_groups),
            default_ingress_class: s.default_ingress_class,
        })
    }
}

impl From<ClusterGuardrailsScore> for GuardrailsDocument {
    fn from(score: ClusterGuardrailsScore) -> Self {
        Self {
            api_version: API_VERSION.into(),
            kind: GUARDRAILS_KIND.into(),
            metadata: GuardrailsMetadata { name: score.name },
            spec: GuardrailsSpec {
                harmony_identity: Some(score.harmony_identity),
                admin_users: Some(score.admin_users),
                admin_groups: Some(score.admin_groups),
                volume_binders: Some(score.volume_binders),
                network_tiers: score.network_tiers,
                first_priority: Some(score.first_priority),
                okd_hardening: score.okd_hardening,
                self_provisioner_groups: Some(score.self_provisioner_groups),
                default_ingress_class: score.default_ingress_class,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(problems: &[Problem]) -> Vec<&str> {
        problems.iter().map(|p| p.path.as_str()).collect()
    }

    #[test]
    fn defaults_are_valid_everywhere() {
        let score = ClusterGuardrailsScore::default();
        assert_eq!(score.validate(&ClusterFacts::kubernetes()), vec![]);
        assert_eq!(score.validate(&ClusterFacts::okd()), vec![]);
    }

    #[test]
    fn toggles_follow_the_flavor_when_auto() {
        assert!(Toggle::Auto.resolve(ClusterFlavor::Okd));
        assert!(!Toggle::Auto.resolve(ClusterFlavor::Kubernetes));
        assert!(Toggle::Enabled.resolve(ClusterFlavor::Kubernetes));
        assert!(!Toggle::Disabled.resolve(ClusterFlavor::Okd));
    }

    #[test]
    fn refuses_an_empty_identity_and_empty_or_repeated_names() {
        let mut score = ClusterGuardrailsScore::default().harmony_identity(" ");
        score.admin_users = vec!["alice".into(), "".into(), "alice".into()];
        let problems = score.validate(&ClusterFacts::kubernetes());
        assert_eq!(
            paths(&problems),
            [
                "spec.harmonyIdentity",
                "spec.adminUsers[1]",
                "spec.adminUsers[2]"
            ]
        );
        assert!(problems[0].message.contains(DEFAULT_HARMONY_IDENTITY));
        assert!(problems[2].message.contains("`alice` is listed twice"));
    }

    #[test]
    fn refuses_a_priority_ovn_kubernetes_ignores() {
        for bad in [-1, 100] {
            let problems = ClusterGuardrailsScore::default()
                .first_priority(bad)
                .validate(&ClusterFacts::okd());
            assert_eq!(paths(&problems), ["spec.firstPriority"]);
            assert!(
                problems[0]
                    .message
                    .contains(&format!("{bad} is outside 0–99"))
            );
        }
    }

    #[test]
    fn refuses_okd_hardening_on_vanilla_kubernetes() {
        let problems = ClusterGuardrailsScore::default()
            .okd_hardening(Toggle::Enabled)
            .validate(&ClusterFacts::kubernetes());
        assert_eq!(paths(&problems), ["spec.okdHardening"]);
        assert!(problems[0].message.contains("needs an OKD cluster"));
    }

    #[test]
    fn the_default_ingress_class_follows_the_flavor_and_must_be_a_class_name() {
        let mut score = ClusterGuardrailsScore::default();
        assert_eq!(
            score.default_ingress_class(ClusterFlavor::Kubernetes),
            "nginx"
        );
        assert_eq!(
            score.default_ingress_class(ClusterFlavor::Okd),
            "openshift-default"
        );
        score.default_ingress_class = Some("Public_Nginx".into());
        let problems = score.validate(&ClusterFacts::kubernetes());
        assert_eq!(paths(&problems), ["spec.defaultIngressClass"]);
        assert_eq!(
            problems[0].message,
            "`Public_Nginx` is not a valid IngressClass name: use lowercase letters, digits, `-` and `.`, such as `nginx`"
        );
    }

    #[test]
    fn file_form_round_trips_and_fills_defaults() {
        let doc: ClusterGuardrailsScore = serde_json::from_value(serde_json::json!({
            "apiVersion": API_VERSION,
            "kind": GUARDRAILS_KIND,
            "metadata": {"name": "prod"},
            "spec": {"networkTiers": "enabled", "adminGroups": []},
        }))
        .unwrap();
        assert_eq!(doc.name, "prod");
        assert_eq!(doc.network_tiers, Toggle::Enabled);
        assert!(doc.admin_groups.is_empty());
        assert_eq!(doc.harmony_identity, DEFAULT_HARMONY_IDENTITY);
        let back: ClusterGuardrailsScore =
            serde_json::from_value(serde_json::to_value(&doc).unwrap()).unwrap();
        assert_eq!(back, doc);
    }

    #[test]
    fn a_guardrails_file_is_loaded_with_every_problem_located() {
        let text = "apiVersion: harmony.nationtech.io/v1alpha1\nkind: ClusterGuardrails\n\
                    metadata: {name: prod}\nspec:\n  firstPriority: 120\n  networkTier: enabled\n";
        let problems = harmony::Documents::parse("g.yaml", text)
            .unwrap()
            .load_one::<ClusterGuardrailsScore>(&ClusterFacts::okd())
            .unwrap_err();
        let shown: Vec<String> = problems.0.iter().map(ToString::to_string).collect();
        assert_eq!(shown.len(), 2, "{shown:#?}");
        assert!(shown[0].starts_with("g.yaml:5:18: spec.firstPriority: 120 is outside 0–99"));
        assert!(shown[1].starts_with("g.yaml:6:3: spec.networkTier: unknown field `networkTier`"));
        let score = harmony::Documents::parse(
            "g.yaml",
            &text
                .replace("120", "40")
                .replace("networkTier", "networkTiers"),
        )
        .unwrap()
        .load_one::<ClusterGuardrailsScore>(&ClusterFacts::okd())
        .unwrap();
        assert_eq!(
            (score.first_priority, score.network_tiers),
            (40, Toggle::Enabled)
        );
    }

    #[test]
    fn file_form_refuses_wrong_identity_fields() {
        let wrong_kind = serde_json::json!({
            "apiVersion": API_VERSION, "kind": "Tenant", "metadata": {"name": "x"},
        });
        let error = serde_json::from_value::<ClusterGuardrailsScore>(wrong_kind).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("kind: `Tenant` is not a ClusterGuardrails file")
        );
        let unknown = serde_json::json!({
            "apiVersion": API_VERSION, "kind": GUARDRAILS_KIND, "metadata": {"name": "x"},
            "spec": {"networkTier": "enabled"},
        });
        let error = serde_json::from_value::<ClusterGuardrailsScore>(unknown).unwrap_err();
        assert!(error.to_string().contains("networkTier"), "{error}");
    }
}
