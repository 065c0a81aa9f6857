//! The tenant Namespace, with Pod Security Admission labels (and OKD's extras).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::facts::{ClusterFacts, ClusterFlavor};
use crate::plan::{REQUEST_ANNOTATION, SELF_SERVICE_LABEL, TenantObject, owned_labels};
use crate::score::TenantScore;

/// The Pod Security Admission modes, each set to the tenant's level.
const PSA_MODES: [&str; 3] = ["enforce", "audit", "warn"];

/// The Namespace of `score`; one granted for the `NamespaceRequest` `request` is marked as
/// self-service.
pub(super) fn namespace(
    score: &TenantScore,
    facts: &ClusterFacts,
    request: Option<&str>,
) -> TenantObject {
    let name = score.namespace();
    let level = score.tenant_config.pod_security.as_str();
    let mut labels = owned_labels(score.name());
    labels.insert("kubernetes.io/metadata.name".into(), name.into());
    for mode in PSA_MODES {
        let key = format!("pod-security.kubernetes.io/{mode}");
        labels.insert(format!("{key}-version"), "latest".into());
        labels.insert(key, level.into());
    }
    let mut annotations = match facts.flavor {
        ClusterFlavor::Kubernetes => None,
        ClusterFlavor::Okd => {
            // OKD would otherwise rewrite the pod-security labels from SCC grants.
            labels.insert(
                "security.openshift.io/scc.podSecurityLabelSync".into(),
                "false".into(),
            );
            let display = score
                .tenant_config
                .display_name
                .as_deref()
                .unwrap_or(score.name());
            Some(BTreeMap::from([
                ("openshift.io/display-name".into(), display.into()),
                (
                    "openshift.io/description".into(),
                    format!("Harmony tenant {}", score.name()),
                ),
            ]))
        }
    };
    if let Some(request) = request {
        labels.insert(SELF_SERVICE_LABEL.into(), "true".into());
        annotations
            .get_or_insert_default()
            .insert(REQUEST_ANNOTATION.into(), request.into());
    }
    TenantObject::Namespace(Namespace {
        metadata: ObjectMeta {
            name: Some(name.into()),
            labels: Some(labels),
            annotations,
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::PodSecurityLevel;

    fn compiled(score: &TenantScore, facts: &ClusterFacts, request: Option<&str>) -> ObjectMeta {
        match namespace(score, facts, request) {
            TenantObject::Namespace(ns) => ns.metadata,
            other => panic!("expected a Namespace, got {}", other.kind()),
        }
    }

    #[test]
    fn carries_owned_name_and_pod_security_labels() {
        let score = TenantScore::new("acme").in_namespace("acme-prod");
        let meta = compiled(&score, &ClusterFacts::kubernetes(), None);
        let labels = meta.labels.unwrap();
        assert_eq!(meta.name.as_deref(), Some("acme-prod"));
        assert_eq!(meta.namespace, None);
        assert_eq!(labels["kubernetes.io/metadata.name"], "acme-prod");
        for (key, value) in owned_labels("acme") {
            assert_eq!(labels[&key], value);
        }
        for mode in PSA_MODES {
            assert_eq!(
                labels[&format!("pod-security.kubernetes.io/{mode}")],
                "restricted"
            );
            assert_eq!(
                labels[&format!("pod-security.kubernetes.io/{mode}-version")],
                "latest"
            );
        }
        assert!(meta.annotations.is_none());
        assert!(!labels.contains_key("security.openshift.io/scc.podSecurityLabelSync"));
    }

    #[test]
    fn a_self_service_namespace_is_labelled_and_names_its_request() {
        let score = TenantScore::new("acme").in_namespace("acme-dev");
        let meta = compiled(&score, &ClusterFacts::kubernetes(), Some("acme/dev"));
        assert_eq!(meta.labels.unwrap()[SELF_SERVICE_LABEL], "true");
        assert_eq!(meta.annotations.unwrap()[REQUEST_ANNOTATION], "acme/dev");
    }

    #[test]
    fn baseline_level_is_applied_to_every_mode() {
        let score = TenantScore::new("acme").pod_security(PodSecurityLevel::Baseline);
        let labels = compiled(&score, &ClusterFacts::kubernetes(), None)
            .labels
            .unwrap();
        for mode in PSA_MODES {
            assert_eq!(
                labels[&format!("pod-security.kubernetes.io/{mode}")],
                "baseline"
            );
        }
    }

    #[test]
    fn okd_stops_label_sync_and_annotates() {
        let facts = ClusterFacts::okd();
        let plain = compiled(&TenantScore::new("acme"), &facts, None);
        let labels = plain.labels.unwrap();
        let annotations = plain.annotations.unwrap();
        assert_eq!(
            labels["security.openshift.io/scc.podSecurityLabelSync"],
            "false"
        );
        assert_eq!(annotations["openshift.io/display-name"], "acme");
        assert!(annotations["openshift.io/description"].contains("acme"));

        let named = compiled(
            &TenantScore::new("acme").display_name("Acme Inc."),
            &facts,
            None,
        );
        assert_eq!(
            named.annotations.unwrap()["openshift.io/display-name"],
            "Acme Inc."
        );
    }
}
