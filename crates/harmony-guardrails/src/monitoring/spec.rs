//! `ClusterMonitoring`: the cluster side of per-tenant monitoring. Its serde form is the
//! monitoring file (`kind: ClusterMonitoring`); every field is optional.

use harmony::{DocumentKind, Problem, identity_problems};
use harmony_tenant::{API_VERSION, ClusterFacts, is_dns_label};
use serde::{Deserialize, Serialize};

/// The `kind` of monitoring files.
pub const MONITORING_KIND: &str = "ClusterMonitoring";
/// The namespace of the shared Prometheus, Alertmanager and query path on vanilla Kubernetes.
pub const DEFAULT_MONITORING_NAMESPACE: &str = "harmony-monitoring";
/// How long Prometheus keeps samples by default.
pub const DEFAULT_RETENTION: &str = "15d";
/// kube-rbac-proxy, pinned (the version OKD's cluster-monitoring-operator ships).
pub const DEFAULT_KUBE_RBAC_PROXY_IMAGE: &str = "quay.io/brancz/kube-rbac-proxy:v0.21.1";
/// prom-label-proxy, pinned (the version OKD's cluster-monitoring-operator ships).
pub const DEFAULT_PROM_LABEL_PROXY_IMAGE: &str =
    "quay.io/prometheuscommunity/prom-label-proxy:v0.14.0";

/// Which Alertmanager receives tenant alerts on OKD.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OkdAlertmanager {
    /// A separate user-workload Alertmanager, with AlertmanagerConfig enabled.
    #[default]
    UserWorkload,
    /// The platform Alertmanager (`alertmanagerMain.enableUserAlertmanagerConfig`).
    Platform,
}

/// The cluster's monitoring choices. Build one with [`ClusterMonitoring::default`] or read a
/// monitoring file; check it with [`ClusterMonitoring::validate`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "MonitoringDocument", into = "MonitoringDocument")]
pub struct ClusterMonitoring {
    /// `metadata.name`, for people.
    pub name: String,
    /// Vanilla Kubernetes: the namespace of the shared monitoring stack.
    pub namespace: String,
    /// How long Prometheus keeps samples (a Prometheus duration, such as `15d`).
    pub retention: String,
    /// Vanilla Kubernetes: the kube-rbac-proxy image of the query path.
    pub kube_rbac_proxy_image: String,
    /// Vanilla Kubernetes: the prom-label-proxy image of the query path.
    pub prom_label_proxy_image: String,
    /// OKD: which Alertmanager routes tenant alerts.
    pub okd_alertmanager: OkdAlertmanager,
}

impl Default for ClusterMonitoring {
    fn default() -> Self {
        Self {
            name: "cluster".into(),
            namespace: DEFAULT_MONITORING_NAMESPACE.into(),
            retention: DEFAULT_RETENTION.into(),
            kube_rbac_proxy_image: DEFAULT_KUBE_RBAC_PROXY_IMAGE.into(),
            prom_label_proxy_image: DEFAULT_PROM_LABEL_PROXY_IMAGE.into(),
            okd_alertmanager: OkdAlertmanager::default(),
        }
    }
}

/// Whether `s` is a Prometheus duration: units `y w d h m s ms`, largest first, such as `15d`
/// or `1w2d`.
fn is_prometheus_duration(s: &str) -> bool {
    const UNITS: [&str; 7] = ["y", "w", "d", "h", "m", "s", "ms"];
    let mut rest = s;
    let mut next_unit = 0;
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return false;
        }
        let after = &rest[digits..];
        let Some(i) = (next_unit..UNITS.len())
            .filter(|&i| after.starts_with(UNITS[i]))
            .max_by_key(|&i| UNITS[i].len())
        else {
            return false;
        };
        rest = &after[UNITS[i].len()..];
        next_unit = i + 1;
    }
    !s.is_empty() && s.chars().any(|c| c != '0' && c.is_ascii_digit())
}

/// Whether `image` names a pinned version: a tag other than `latest`, or a digest.
fn is_pinned(image: &str) -> bool {
    if image.is_empty() || image.chars().any(char::is_whitespace) {
        return false;
    }
    if image.contains('@') {
        return true;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    matches!(last.split_once(':'), Some((_, tag)) if !tag.is_empty() && tag != "latest")
}

impl ClusterMonitoring {
    /// Every problem with these choices; empty when they are valid.
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if !is_dns_label(&self.namespace, 63) {
            problems.push(Problem::new(
                "spec.namespace",
                format!(
                    "`{}` is not a namespace name: use lowercase letters, digits and `-`, such as `{DEFAULT_MONITORING_NAMESPACE}`",
                    self.namespace
                ),
            ));
        } else if self.namespace.starts_with("kube-")
            || self.namespace.starts_with("openshift")
            || self.namespace == "default"
        {
            problems.push(Problem::new(
                "spec.namespace",
                format!(
                    "`{}` belongs to the platform: use a namespace of its own, such as `{DEFAULT_MONITORING_NAMESPACE}`",
                    self.namespace
                ),
            ));
        }
        if !is_prometheus_duration(&self.retention) {
            problems.push(Problem::new(
                "spec.retention",
                format!(
                    "`{}` is not a Prometheus duration: use a number and a unit (y, w, d, h, m, s, ms), such as `{DEFAULT_RETENTION}`",
                    self.retention
                ),
            ));
        }
        let images = [
            (
                "spec.images.kubeRbacProxy",
                &self.kube_rbac_proxy_image,
                DEFAULT_KUBE_RBAC_PROXY_IMAGE,
            ),
            (
                "spec.images.promLabelProxy",
                &self.prom_label_proxy_image,
                DEFAULT_PROM_LABEL_PROXY_IMAGE,
            ),
        ];
        for (path, image, default) in images {
            if !is_pinned(image) {
                problems.push(Problem::new(
                    path,
                    format!(
                        "`{image}` is not a pinned image: give a version tag other than `latest`, or a digest, such as `{default}`"
                    ),
                ));
            }
        }
        problems
    }
}

/// A monitoring file is one document of this kind.
impl DocumentKind for ClusterMonitoring {
    const API_VERSION: &'static str = API_VERSION;
    const KIND: &'static str = MONITORING_KIND;
    type Context = ClusterFacts;

    fn problems(&self, _facts: &ClusterFacts) -> Vec<Problem> {
        self.validate()
    }
}

/// The monitoring file as written: `apiVersion`, `kind`, `metadata`, `spec`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct MonitoringDocument {
    api_version: String,
    kind: String,
    metadata: MonitoringMetadata,
    #[serde(default)]
    spec: MonitoringSpec,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MonitoringMetadata {
    name: String,
}

/// Every field optional; unset ones take [`ClusterMonitoring::default`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct MonitoringSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retention: Option<String>,
    #[serde(default)]
    images: Images,
    #[serde(default)]
    okd_alertmanager: OkdAlertmanager,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Images {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kube_rbac_proxy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prom_label_proxy: Option<String>,
}

impl TryFrom<MonitoringDocument> for ClusterMonitoring {
    type Error = String;

    fn try_from(doc: MonitoringDocument) -> Result<Self, String> {
        let identity = identity_problems::<Self>(Some(&doc.api_version), Some(&doc.kind));
        if let Some(problem) = identity.first() {
            return Err(problem.to_string());
        }
        let d = Self::default();
        let s = doc.spec;
        Ok(Self {
            name: doc.metadata.name,
            namespace: s.namespace.unwrap_or(d.namespace),
            retention: s.retention.unwrap_or(d.retention),
            kube_rbac_proxy_image: s.images.kube_rbac_proxy.unwrap_or(d.kube_rbac_proxy_image),
            prom_label_proxy_image: s
                .images
                .prom_label_proxy
                .unwrap_or(d.prom_label_proxy_image),
            okd_alertmanager: s.okd_alertmanager,
        })
    }
}

impl From<ClusterMonitoring> for MonitoringDocument {
    fn from(m: ClusterMonitoring) -> Self {
        Self {
            api_version: API_VERSION.into(),
            kind: MONITORING_KIND.into(),
            metadata: MonitoringMetadata { name: m.name },
            spec: MonitoringSpec {
                namespace: Some(m.namespace),
                retention: Some(m.retention),
                images: Images {
                    kube_rbac_proxy: Some(m.kube_rbac_proxy_image),
                    prom_label_proxy: Some(m.prom_label_proxy_image),
                },
                okd_alertmanager: m.okd_alertmanager,
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
    fn defaults_are_valid() {
        assert_eq!(ClusterMonitoring::default().validate(), vec![]);
    }

    #[test]
    fn durations_follow_prometheus() {
        for good in ["15d", "1w2d", "90m", "1y", "500ms", "2h30m"] {
            assert!(is_prometheus_duration(good), "{good}");
        }
        for bad in ["", "15", "d", "15 d", "2d1w", "1.5d", "0d", "15D", "1dd"] {
            assert!(!is_prometheus_duration(bad), "{bad}");
        }
    }

    #[test]
    fn refuses_bad_namespaces_durations_and_unpinned_images() {
        let monitoring = ClusterMonitoring {
            namespace: "Monitoring".into(),
            retention: "two weeks".into(),
            kube_rbac_proxy_image: "quay.io/brancz/kube-rbac-proxy".into(),
            prom_label_proxy_image: "registry:5000/prom-label-proxy:latest".into(),
            ..ClusterMonitoring::default()
        };
        let problems = monitoring.validate();
        assert_eq!(
            paths(&problems),
            [
                "spec.namespace",
                "spec.retention",
                "spec.images.kubeRbacProxy",
                "spec.images.promLabelProxy"
            ]
        );
        assert!(problems[3].message.contains("not a pinned image"));
        let platform = ClusterMonitoring {
            namespace: "kube-system".into(),
            ..ClusterMonitoring::default()
        };
        assert!(
            platform.validate()[0]
                .message
                .contains("belongs to the platform")
        );
        let digest = ClusterMonitoring {
            prom_label_proxy_image: "registry:5000/plp@sha256:0123".into(),
            ..ClusterMonitoring::default()
        };
        assert_eq!(digest.validate(), vec![]);
    }

    #[test]
    fn a_monitoring_file_is_loaded_with_every_problem_located() {
        let text = "apiVersion: harmony.nationtech.io/v1alpha1\nkind: ClusterMonitoring\n\
                    metadata: {name: prod}\nspec:\n  retention: 2 weeks\n  image: {}\n";
        let problems = harmony::Documents::parse("m.yaml", text)
            .unwrap()
            .load_one::<ClusterMonitoring>(&ClusterFacts::kubernetes())
            .unwrap_err();
        let shown: Vec<String> = problems.0.iter().map(ToString::to_string).collect();
        assert_eq!(shown.len(), 2, "{shown:#?}");
        assert!(
            shown[0]
                .starts_with("m.yaml:5:14: spec.retention: `2 weeks` is not a Prometheus duration"),
            "{shown:#?}"
        );
        assert!(
            shown[1].starts_with("m.yaml:6:3: spec.image: unknown field `image`"),
            "{shown:#?}"
        );
        let good = text
            .replace("2 weeks", "30d")
            .replace("image: {}", "okdAlertmanager: platform");
        let monitoring = harmony::Documents::parse("m.yaml", &good)
            .unwrap()
            .load_one::<ClusterMonitoring>(&ClusterFacts::okd())
            .unwrap();
        assert_eq!(monitoring.retention, "30d");
        assert_eq!(monitoring.okd_alertmanager, OkdAlertmanager::Platform);
        assert_eq!(monitoring.namespace, DEFAULT_MONITORING_NAMESPACE);
        let back: ClusterMonitoring =
            serde_json::from_value(serde_json::to_value(&monitoring).unwrap()).unwrap();
        assert_eq!(back, monitoring);
    }

    #[test]
    fn refuses_another_kind() {
        let wrong = serde_json::json!({
            "apiVersion": API_VERSION, "kind": "ClusterGuardrails", "metadata": {"name": "x"},
        });
        let error = serde_json::from_value::<ClusterMonitoring>(wrong).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("kind: `ClusterGuardrails` is not a ClusterMonitoring file"),
            "{error}"
        );
    }
}
