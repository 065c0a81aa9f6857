//! No Secret of type `kubernetes.io/service-account-token` in tenant namespaces: the token
//! controller fills it with a token of the named ServiceAccount that never expires, bypassing
//! member credentials' lifetime, outliving the member's removal, and naming any ServiceAccount of
//! the namespace, including a more powerful one.
//!
//! Existing token Secrets may still be updated (the type of a Secret is immutable), and the
//! controllers of kube-controller-manager and OKD's `openshift-infra` are not matched.

use k8s_openapi::api::admissionregistration::v1::MatchCondition;

use super::{AdmissionRule, Draft, build, cel, resources, unless_trusted, validation};
use crate::guardrail::GuardrailId;
use crate::score::ClusterGuardrailsScore;

/// The Secret type that carries a never-expiring ServiceAccount token.
const TOKEN_TYPE: &str = "kubernetes.io/service-account-token";

/// Usernames and username prefixes of the controllers that manage token Secrets.
const CONTROLLERS: [&str; 3] = [
    "system:kube-controller-manager",
    "system:serviceaccount:kube-system:",
    "system:serviceaccount:openshift-infra:",
];

pub(super) fn rule(score: &ClusterGuardrailsScore) -> AdmissionRule {
    let token = cel::string(TOKEN_TYPE);
    let controllers = CONTROLLERS
        .iter()
        .map(|c| format!("request.userInfo.username.startsWith({})", cel::string(c)))
        .collect::<Vec<_>>()
        .join(" || ");
    build(Draft {
        id: GuardrailId::TenantSecrets,
        resources: vec![resources("", &["secrets"], &["CREATE", "UPDATE"])],
        tenant_namespaces_only: true,
        per_tenant_params: None,
        match_conditions: vec![
            unless_trusted(score),
            MatchCondition {
                name: "requester-is-not-a-token-controller".into(),
                expression: format!("!({controllers})"),
            },
        ],
        validations: vec![validation(
            format!(
                "!has(object.type) || object.type != {token} || (request.operation == 'UPDATE' && has(oldObject.type) && oldObject.type == {token})"
            ),
            format!(
                "type: Secrets of type {TOKEN_TYPE} are not allowed in tenant namespaces: their token never expires, outlives the member who made it and can name a more powerful ServiceAccount; use a short-lived token (`kubectl create token`, or member credentials from Harmony) or another Secret type"
            ),
        )],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::simulator::{Request, Verdict};
    use serde_json::{Value, json};

    fn secret(kind: Option<&str>) -> Value {
        let mut secret = json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "token", "namespace": "acme",
                         "annotations": {"kubernetes.io/service-account.name": "admin-robot"}}});
        if let Some(kind) = kind {
            secret["type"] = json!(kind);
        }
        secret
    }

    fn create(kind: Option<&str>, user: &str) -> Verdict {
        Request::create("", "secrets", secret(kind))
            .in_tenant_namespace("acme")
            .by(user)
            .admit(&rule(&ClusterGuardrailsScore::default()))
    }

    #[test]
    fn refuses_service_account_token_secrets() {
        let verdict = create(Some(TOKEN_TYPE), "alice@acme.com");
        assert!(
            verdict.refused_with(
                "type: Secrets of type kubernetes.io/service-account-token are not allowed in tenant namespaces"
            ),
            "{verdict:?}"
        );
    }

    #[test]
    fn admits_other_secret_types() {
        for kind in [None, Some("Opaque"), Some("kubernetes.io/tls")] {
            assert_eq!(create(kind, "alice@acme.com"), Verdict::Allowed, "{kind:?}");
        }
    }

    #[test]
    fn refuses_updating_a_secret_into_a_token_but_not_updating_a_token() {
        let update = |old: Option<&str>, new: Option<&str>| {
            Request::update("", "secrets", secret(old), secret(new))
                .in_tenant_namespace("acme")
                .by("alice@acme.com")
                .admit(&rule(&ClusterGuardrailsScore::default()))
        };
        assert!(update(Some("Opaque"), Some(TOKEN_TYPE)).refused_with(TOKEN_TYPE));
        assert!(update(None, Some(TOKEN_TYPE)).refused_with(TOKEN_TYPE));
        assert_eq!(update(Some(TOKEN_TYPE), Some(TOKEN_TYPE)), Verdict::Allowed);
    }

    #[test]
    fn leaves_token_controllers_harmony_and_other_namespaces_alone() {
        for user in [
            "system:kube-controller-manager",
            "system:serviceaccount:kube-system:tokens-controller",
            "system:serviceaccount:openshift-infra:serviceaccount-pull-secrets-controller",
            crate::DEFAULT_HARMONY_IDENTITY,
        ] {
            assert_eq!(
                create(Some(TOKEN_TYPE), user),
                Verdict::NotMatched,
                "{user}"
            );
        }
        let elsewhere = Request::create("", "secrets", secret(Some(TOKEN_TYPE)))
            .in_namespace("ci-system", json!({}))
            .by("alice@acme.com")
            .admit(&rule(&ClusterGuardrailsScore::default()));
        assert_eq!(elsewhere, Verdict::NotMatched);
    }
}
