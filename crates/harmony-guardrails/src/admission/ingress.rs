//! Tenant Ingresses go through the shared ingress controller, which serves every tenant: each
//! rule needs a host of the tenant's `spec.ingress.hostnames` (read from its parameter
//! ConfigMap, as are TLS hosts), no default backend, an allowed IngressClass (listed in the
//! tenant file, or the cluster's default class when it lists none), and none of the
//! ingress-nginx annotations that inject configuration (`*-snippet`) or send requests to an
//! in-cluster address (`auth-url`, `auth-signin`, `mirror-target` must be https to a DNS name
//! outside the cluster).
//!
//! The parameters are read on every operation: a host may change on update. Deleting and the
//! controller's status updates (a subresource) are not matched, so a terminating namespace that
//! lost its parameters still empties.

use harmony_tenant::{
    ClusterFacts, INGRESS_CLASS_KEY_PREFIX, INGRESS_HOST_KEY_PREFIX, INGRESS_WILDCARD_KEY_PREFIX,
    PARAMS_NAME,
};

use super::{AdmissionRule, Draft, build, cel, resources, validation, with_params_always};
use crate::guardrail::GuardrailId;
use crate::score::ClusterGuardrailsScore;

/// The deprecated annotation that names an Ingress's class.
const CLASS_ANNOTATION: &str = "kubernetes.io/ingress.class";
/// Annotations whose value is a URL the controller requests or redirects to.
const URL_ANNOTATIONS: [&str; 3] = [
    "nginx.ingress.kubernetes.io/auth-url",
    "nginx.ingress.kubernetes.io/auth-signin",
    "nginx.ingress.kubernetes.io/mirror-target",
];
/// An https URL to a DNS name (the last label starts with a letter, so no IP literal), with no
/// whitespace or nginx syntax characters.
const PUBLIC_URL: &str = r#"^https://([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]([-a-z0-9]*[a-z0-9])?(:[0-9]{1,5})?([/?$][^\s;{}'"\\]*)?$"#;
/// A URL whose host has a `svc`, `local` or `localhost` label (`x.ns.svc`, `x.svc.cluster.local`).
const CLUSTER_URL: &str = r"^https://([^/:?$]*\.)?(svc|local|localhost)([.:/?$].*)?$";

/// Whether the host expression `host` is one of the tenant's hostnames (exact or wildcard).
pub(super) fn tenant_host(host: &str) -> String {
    format!(
        "(has(params.data) && (({} + {host}) in params.data || params.data.exists(k, k.startsWith({}) && {host}.matches(params.data[k]))))",
        cel::string(INGRESS_HOST_KEY_PREFIX),
        cel::string(INGRESS_WILDCARD_KEY_PREFIX)
    )
}

/// The message for a host outside the tenant's list, at `path`.
pub(super) fn foreign_host(path: &str) -> String {
    format!(
        "{path}: this host is not one of the tenant's hostnames (the `{INGRESS_HOST_KEY_PREFIX}` and `{INGRESS_WILDCARD_KEY_PREFIX}` keys of ConfigMap {PARAMS_NAME} in this namespace): use one of them, or ask the platform team to add it to spec.ingress.hostnames of the tenant file"
    )
}

pub(super) fn rule(score: &ClusterGuardrailsScore, facts: &ClusterFacts) -> AdmissionRule {
    let default_class = score.default_ingress_class(facts.flavor);
    let class_ok = |class: &str| {
        format!(
            "((has(params.data) && ({} + {class}) in params.data) || ({class} == {} && !(has(params.data) && params.data.exists(k, k.startsWith({})))))",
            cel::string(INGRESS_CLASS_KEY_PREFIX),
            cel::string(default_class),
            cel::string(INGRESS_CLASS_KEY_PREFIX),
        )
    };
    let annotations = "object.metadata.annotations";
    let class_annotation = cel::string(CLASS_ANNOTATION);
    let class_message = format!(
        "the tenant may use only the IngressClasses of spec.ingress.classes in its tenant file (the `{INGRESS_CLASS_KEY_PREFIX}` keys of ConfigMap {PARAMS_NAME} in this namespace), or `{default_class}` when it lists none: name an allowed class, or ask the platform team to allow this one"
    );
    let rule = build(Draft {
        id: GuardrailId::TenantIngress,
        resources: vec![resources(
            "networking.k8s.io",
            &["ingresses"],
            &["CREATE", "UPDATE"],
        )],
        tenant_namespaces_only: true,
        per_tenant_params: None,
        match_conditions: vec![],
        validations: vec![
            validation(
                "!has(object.spec.rules) || object.spec.rules.all(r, has(r.host) && r.host != '')"
                    .into(),
                "spec.rules[].host: a rule without host serves every host of the shared ingress controller, including other tenants': set host to one of the tenant's hostnames",
            ),
            validation(
                format!(
                    "!has(object.spec.rules) || object.spec.rules.all(r, !has(r.host) || r.host == '' || {})",
                    tenant_host("r.host")
                ),
                foreign_host("spec.rules[].host"),
            ),
            validation(
                format!(
                    "!has(object.spec.tls) || object.spec.tls.all(t, !has(t.hosts) || t.hosts.all(h, {}))",
                    tenant_host("h")
                ),
                foreign_host("spec.tls[].hosts[]"),
            ),
            validation(
                "!has(object.spec.defaultBackend)".into(),
                "spec.defaultBackend: a default backend catches requests for every host of the shared ingress controller: remove it and give each rule a host",
            ),
            validation(
                format!(
                    "!has(object.spec.ingressClassName) || {}",
                    class_ok("object.spec.ingressClassName")
                ),
                format!("spec.ingressClassName: {class_message}"),
            ),
            validation(
                format!(
                    "!has({annotations}) || !({class_annotation} in {annotations}) || {}",
                    class_ok(&format!("{annotations}[{class_annotation}]"))
                ),
                format!("metadata.annotations[{CLASS_ANNOTATION}]: {class_message}"),
            ),
            validation(
                format!(
                    "!has({annotations}) || !{annotations}.exists(k, (k.startsWith('nginx.ingress.kubernetes.io/') && k.endsWith('-snippet')) || (k.startsWith('nginx.org/') && k.endsWith('-snippets')))"
                ),
                "metadata.annotations: configuration snippets (nginx.ingress.kubernetes.io/*-snippet, such as configuration-snippet, server-snippet, auth-snippet) run as configuration of the shared ingress controller, which reads every tenant's Secrets: remove them, or ask the platform team for the setting you need",
            ),
            validation(
                format!(
                    "!has({annotations}) || {}.all(a, !(a in {annotations}) || ({annotations}[a].matches({}) && !{annotations}[a].matches({})))",
                    cel::list(URL_ANNOTATIONS),
                    cel::string(PUBLIC_URL),
                    cel::string(CLUSTER_URL)
                ),
                "metadata.annotations: nginx.ingress.kubernetes.io/auth-url, auth-signin and mirror-target must be https URLs to a DNS name outside the cluster (no IP address, no .svc, .local or cluster.local name), or the shared ingress controller sends requests into the cluster for the tenant: use a public https address",
            ),
        ],
    });
    with_params_always(rule)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::simulator::{Request, Verdict};
    use harmony_tenant::tenant_parameters;
    use harmony_tenant::{ClusterFlavor, TenantScore};
    use serde_json::{Value, json};

    fn acme() -> TenantScore {
        TenantScore::new("acme")
            .ingress_hostname("acme.example.com")
            .ingress_hostname("*.apps.acme.example.com")
    }

    fn ingress(spec: Value) -> Value {
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
               "metadata": {"name": "web", "namespace": "acme"}, "spec": spec})
    }

    fn rule_with(host: &str) -> Value {
        json!({"host": host, "http": {"paths": [{"path": "/", "pathType": "Prefix",
               "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}})
    }

    fn admit_as(tenant: &TenantScore, object: Value, flavor: ClusterFlavor) -> Verdict {
        let facts = match flavor {
            ClusterFlavor::Kubernetes => ClusterFacts::kubernetes(),
            ClusterFlavor::Okd => ClusterFacts::okd(),
        };
        Request::create("networking.k8s.io", "ingresses", object)
            .in_tenant_namespace("acme")
            .by("alice@acme.com")
            .with_params(serde_json::to_value(tenant_parameters(tenant)).unwrap())
            .admit(&rule(&ClusterGuardrailsScore::default(), &facts))
    }

    fn admit(object: Value) -> Verdict {
        admit_as(&acme(), object, ClusterFlavor::Kubernetes)
    }

    fn with_annotations(annotations: Value) -> Value {
        let mut object = ingress(json!({"rules": [rule_with("acme.example.com")]}));
        object["metadata"]["annotations"] = annotations;
        object
    }

    #[test]
    fn admits_the_tenants_exact_and_wildcard_hosts() {
        for host in [
            "acme.example.com",
            "shop.apps.acme.example.com",
            "*.apps.acme.example.com",
        ] {
            let object = ingress(json!({"rules": [rule_with(host)],
                                        "tls": [{"hosts": [host], "secretName": "tls"}]}));
            assert_eq!(admit(object), Verdict::Allowed, "{host}");
        }
    }

    #[test]
    fn refuses_hosts_of_others_and_lookalikes() {
        for host in [
            "globex.example.com",
            "a.b.apps.acme.example.com",
            "apps.acme.example.com",
            "shop.appsXacme.example.com",
            "acme.example.com.evil.example",
        ] {
            let verdict = admit(ingress(json!({"rules": [rule_with(host)]})));
            assert!(
                verdict.refused_with(
                    "spec.rules[].host: this host is not one of the tenant's hostnames"
                ),
                "{host}: {verdict:?}"
            );
        }
        let tls = admit(ingress(json!({"rules": [rule_with("acme.example.com")],
                                       "tls": [{"hosts": ["globex.example.com"]}]})));
        assert!(tls.refused_with("spec.tls[].hosts[]"), "{tls:?}");
    }

    #[test]
    fn a_tenant_without_hostnames_gets_no_ingress() {
        let verdict = admit_as(
            &TenantScore::new("acme"),
            ingress(json!({"rules": [rule_with("acme.example.com")]})),
            ClusterFlavor::Kubernetes,
        );
        assert!(
            verdict.refused_with("not one of the tenant's hostnames"),
            "{verdict:?}"
        );
    }

    #[test]
    fn refuses_rules_without_host_and_default_backends() {
        let hostless = json!({"http": {"paths": [{"path": "/", "pathType": "Prefix",
                              "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}});
        let verdict = admit(ingress(
            json!({"rules": [rule_with("acme.example.com"), hostless]}),
        ));
        assert!(
            verdict.refused_with("spec.rules[].host: a rule without host"),
            "{verdict:?}"
        );
        let verdict = admit(ingress(
            json!({"defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}}),
        ));
        assert!(verdict.refused_with("spec.defaultBackend"), "{verdict:?}");
    }

    #[test]
    fn classes_are_the_listed_ones_or_else_the_default() {
        let with_class = |class: &str| {
            ingress(json!({"ingressClassName": class, "rules": [rule_with("acme.example.com")]}))
        };
        assert_eq!(admit(with_class("nginx")), Verdict::Allowed);
        assert_eq!(
            admit_as(&acme(), with_class("openshift-default"), ClusterFlavor::Okd),
            Verdict::Allowed
        );
        let verdict = admit(with_class("internal"));
        assert!(verdict.refused_with("spec.ingressClassName"), "{verdict:?}");
        let listed = acme().ingress_class("internal");
        assert_eq!(
            admit_as(&listed, with_class("internal"), ClusterFlavor::Kubernetes),
            Verdict::Allowed
        );
        let verdict = admit_as(&listed, with_class("nginx"), ClusterFlavor::Kubernetes);
        assert!(verdict.refused_with("spec.ingressClassName"), "{verdict:?}");
        let verdict = admit(with_annotations(json!({CLASS_ANNOTATION: "internal"})));
        assert!(
            verdict.refused_with("metadata.annotations[kubernetes.io/ingress.class]"),
            "{verdict:?}"
        );
        assert_eq!(
            admit(with_annotations(json!({CLASS_ANNOTATION: "nginx"}))),
            Verdict::Allowed
        );
    }

    #[test]
    fn refuses_configuration_snippets() {
        for key in [
            "nginx.ingress.kubernetes.io/configuration-snippet",
            "nginx.ingress.kubernetes.io/server-snippet",
            "nginx.ingress.kubernetes.io/auth-snippet",
            "nginx.ingress.kubernetes.io/stream-snippet",
            "nginx.org/server-snippets",
        ] {
            let verdict = admit(with_annotations(json!({key: "return 200;"})));
            assert!(
                verdict.refused_with("configuration snippets"),
                "{key}: {verdict:?}"
            );
        }
        let neighbour = json!({"nginx.ingress.kubernetes.io/rewrite-target": "/"});
        assert_eq!(admit(with_annotations(neighbour)), Verdict::Allowed);
    }

    #[test]
    fn auth_urls_must_be_public_https_names() {
        let auth = |url: &str| {
            admit(with_annotations(
                json!({"nginx.ingress.kubernetes.io/auth-url": url}),
            ))
        };
        for url in [
            "https://auth.acme.example.com/oauth2/auth",
            "https://auth.acme.example.com:8443",
            "https://login.example.com/start?rd=$escaped_request_uri",
        ] {
            assert_eq!(auth(url), Verdict::Allowed, "{url}");
        }
        for url in [
            "http://auth.acme.example.com/",
            "https://10.96.0.1/",
            "https://169.254.169.254/latest/meta-data",
            "https://[fd00::1]/",
            "https://web.globex.svc/",
            "https://web.globex.svc.cluster.local/auth",
            "https://kubernetes.default.svc",
            "https://localhost/",
            "https://auth.local/",
            "https://user@10.0.0.1/",
            "https://auth.acme.example.com/;\nproxy_pass http://10.0.0.1",
            "https://auth",
        ] {
            assert!(auth(url).refused_with("must be https URLs"), "{url}");
        }
        let signin = admit(with_annotations(
            json!({"nginx.ingress.kubernetes.io/auth-signin": "https://web.globex.svc/start"}),
        ));
        assert!(signin.refused_with("auth-signin"), "{signin:?}");
    }

    #[test]
    fn reads_the_parameters_on_updates_too() {
        let old = ingress(json!({"rules": [rule_with("acme.example.com")]}));
        let new = ingress(json!({"rules": [rule_with("globex.example.com")]}));
        let rule = rule(
            &ClusterGuardrailsScore::default(),
            &ClusterFacts::kubernetes(),
        );
        let update = Request::update("networking.k8s.io", "ingresses", old, new)
            .in_tenant_namespace("acme")
            .by("alice@acme.com")
            .with_params(serde_json::to_value(tenant_parameters(&acme())).unwrap());
        assert!(
            update
                .admit(&rule)
                .refused_with("not one of the tenant's hostnames")
        );
        let missing = Request::create(
            "networking.k8s.io",
            "ingresses",
            ingress(json!({"rules": [rule_with("acme.example.com")]})),
        )
        .in_tenant_namespace("acme")
        .admit(&rule);
        assert!(missing.refused_with("no params found"), "{missing:?}");
    }
}
