//! `spec.ingress`: the hosts and IngressClasses a tenant's Ingresses (and OKD Routes) may use,
//! their validation, the overlap check between tenants, and the guardrail parameters.
//!
//! A hostname is exact (`app.acme.example.com`) or a wildcard of one label (`*.acme.example.com`
//! matches `www.acme.example.com`, not `acme.example.com` nor `a.b.acme.example.com`), as the
//! Ingress API defines wildcards.

use harmony::Problem;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::names::is_dns_subdomain;
use crate::score::TenantScore;
use crate::validate::CrossTenantProblem;

/// Longest hostname: its parameter key (`ingress-host.<name>`) must fit a ConfigMap key (253).
pub const MAX_HOSTNAME: usize = 240;
/// Prefix of the parameter keys naming an exact hostname (`ingress-host.<name>: allowed`).
pub const INGRESS_HOST_KEY_PREFIX: &str = "ingress-host.";
/// Prefix of the parameter keys naming a wildcard's domain; the value is the regular expression
/// (RE2) a host of the wildcard matches (`ingress-wildcard.acme.example.com:
/// ^[^.]+\.acme\.example\.com$`).
pub const INGRESS_WILDCARD_KEY_PREFIX: &str = "ingress-wildcard.";
/// Prefix of the parameter keys naming an allowed IngressClass (`ingress-class.<name>: allowed`).
pub const INGRESS_CLASS_KEY_PREFIX: &str = "ingress-class.";

/// Which hosts and IngressClasses the tenant's Ingresses and Routes may use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IngressConfig {
    /// Hosts the tenant may serve: exact names or one-label wildcards such as
    /// `*.acme.example.com`; empty (the default) means no Ingress or Route at all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hostnames: Vec<String>,
    /// IngressClasses the tenant may name; empty (the default) means the cluster's default class
    /// only (`defaultIngressClass` of the cluster guardrails).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<String>,
}

impl IngressConfig {
    pub(crate) fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// Whether tenant hostname `pattern` (exact or `*.domain`) covers `host`, an Ingress or Route
/// host (itself exact or a wildcard).
pub fn hostname_matches(pattern: &str, host: &str) -> bool {
    pattern == host
        || pattern.strip_prefix("*.").is_some_and(|domain| {
            host.split_once('.')
                .is_some_and(|(label, rest)| !label.is_empty() && rest == domain)
        })
}

/// Why `hostname` cannot be a tenant hostname, with the fix; `None` when it can.
fn hostname_problem(hostname: &str) -> Option<String> {
    let example = "such as `app.acme.example.com` or `*.acme.example.com`";
    let (name, wildcard) = match hostname.strip_prefix("*.") {
        Some(domain) => (domain, true),
        None => (hostname, false),
    };
    if hostname.len() > MAX_HOSTNAME {
        Some(format!(
            "`{hostname}` is longer than {MAX_HOSTNAME} characters: use a shorter name"
        ))
    } else if name.contains('*') {
        Some(format!(
            "`{hostname}` has a `*` that is not its whole first label: write a wildcard as `*.` followed by a domain, {example}"
        ))
    } else if !is_dns_subdomain(name) {
        Some(format!(
            "`{hostname}` is not a DNS name: use lowercase letters, digits, `-` and `.`, {example}"
        ))
    } else if name
        .rsplit('.')
        .next()
        .is_some_and(|label| label.bytes().all(|b| b.is_ascii_digit()))
    {
        Some(format!(
            "`{hostname}` is an IP address: Ingresses and Routes serve DNS names, {example}"
        ))
    } else if wildcard && !name.contains('.') {
        Some(format!(
            "`{hostname}` covers a whole top-level domain: a wildcard needs at least two labels after `*.`, {example}"
        ))
    } else {
        None
    }
}

/// Problems with `score.ingress`.
pub(crate) fn validate(score: &TenantScore, problems: &mut Vec<Problem>) {
    let ingress = &score.ingress;
    for (i, hostname) in ingress.hostnames.iter().enumerate() {
        let path = format!("spec.ingress.hostnames[{i}]");
        if let Some(message) = hostname_problem(hostname) {
            problems.push(Problem::new(path, message));
        } else if ingress.hostnames[..i].contains(hostname) {
            problems.push(Problem::new(
                path,
                format!("`{hostname}` is listed twice: list each hostname once"),
            ));
        }
    }
    for (i, class) in ingress.classes.iter().enumerate() {
        let path = format!("spec.ingress.classes[{i}]");
        if !is_dns_subdomain(class) {
            problems.push(Problem::new(
                path,
                format!(
                    "`{class}` is not a valid IngressClass name: use lowercase letters, digits, `-` and `.`, such as `nginx`"
                ),
            ));
        } else if ingress.classes[..i].contains(class) {
            problems.push(Problem::new(
                path,
                format!("`{class}` is listed twice: list each class once"),
            ));
        }
    }
}

/// Hostnames of a tenant that cover, or are covered by, a hostname of an earlier tenant: a host
/// belongs to one tenant, or the shared ingress controller serves one tenant's paths on
/// another's host.
pub(crate) fn overlaps(scores: &[&TenantScore]) -> Vec<CrossTenantProblem> {
    let mut problems = Vec::new();
    for (i, score) in scores.iter().enumerate() {
        for (k, host) in score.ingress.hostnames.iter().enumerate() {
            let earlier = scores[..i]
                .iter()
                .enumerate()
                .filter(|(_, other)| other.name() != score.name())
                .flat_map(|(j, other)| {
                    other
                        .ingress
                        .hostnames
                        .iter()
                        .enumerate()
                        .map(move |(l, h)| (j, l, h))
                })
                .find(|(_, _, other)| {
                    hostname_matches(other, host) || hostname_matches(host, other)
                });
            let Some((j, l, other)) = earlier else {
                continue;
            };
            let other_path = format!("spec.ingress.hostnames[{l}]");
            problems.push(CrossTenantProblem {
                tenant: i,
                problem: Problem::new(
                    format!("spec.ingress.hostnames[{k}]"),
                    format!(
                        "`{host}` of tenant `{}` overlaps `{other}` of tenant `{}` ({other_path}): a host belongs to one tenant; remove it from one of them or use names that do not cover each other",
                        score.name(),
                        scores[j].name()
                    ),
                ),
                other: Some((j, other_path)),
            });
        }
    }
    problems
}

/// The guardrail parameters of `ingress` (see the key prefixes).
pub(crate) fn parameters(ingress: &IngressConfig) -> impl Iterator<Item = (String, String)> + '_ {
    let hosts = ingress
        .hostnames
        .iter()
        .map(|h| match h.strip_prefix("*.") {
            Some(domain) => (
                format!("{INGRESS_WILDCARD_KEY_PREFIX}{domain}"),
                format!("^[^.]+\\.{}$", domain.replace('.', "\\.")),
            ),
            None => (format!("{INGRESS_HOST_KEY_PREFIX}{h}"), "allowed".into()),
        });
    let classes = ingress
        .classes
        .iter()
        .map(|c| (format!("{INGRESS_CLASS_KEY_PREFIX}{c}"), "allowed".into()));
    hosts.chain(classes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ClusterFacts;
    use crate::validate::cross_tenant_problems;

    fn problems(score: &TenantScore) -> Vec<String> {
        score
            .validate(&ClusterFacts::kubernetes())
            .into_iter()
            .map(|p| format!("{}: {}", p.path, p.message))
            .collect()
    }

    #[test]
    fn wildcards_cover_one_label() {
        let pattern = "*.acme.example.com";
        for host in [
            "www.acme.example.com",
            "*.acme.example.com",
            "x-1.acme.example.com",
        ] {
            assert!(hostname_matches(pattern, host), "{host}");
        }
        for host in [
            "acme.example.com",
            "a.b.acme.example.com",
            "www.acme.example.org",
            "wwwacme.example.com",
            ".acme.example.com",
        ] {
            assert!(!hostname_matches(pattern, host), "{host}");
        }
        assert!(hostname_matches(
            "app.acme.example.com",
            "app.acme.example.com"
        ));
        assert!(!hostname_matches(
            "app.acme.example.com",
            "*.acme.example.com"
        ));
    }

    #[test]
    fn valid_hostnames_and_classes_pass() {
        let score = TenantScore::new("acme")
            .ingress_hostname("acme.example.com")
            .ingress_hostname("*.acme.example.com")
            .ingress_class("nginx");
        assert_eq!(problems(&score), Vec::<String>::new());
    }

    #[test]
    fn bad_hostnames_are_refused() {
        let long = format!("{}.example.com", "a.".repeat(120));
        for (host, needle) in [
            ("App.example.com", "`App.example.com` is not a DNS name"),
            ("app_1.example.com", "is not a DNS name"),
            ("", "is not a DNS name"),
            (
                "a.*.example.com",
                "has a `*` that is not its whole first label",
            ),
            (
                "*example.com",
                "has a `*` that is not its whole first label",
            ),
            ("10.0.0.1", "`10.0.0.1` is an IP address"),
            ("*.com", "covers a whole top-level domain"),
            (long.as_str(), "is longer than 240 characters"),
        ] {
            let found = problems(&TenantScore::new("acme").ingress_hostname(host));
            assert!(
                found.len() == 1
                    && found[0].starts_with("spec.ingress.hostnames[0]: ")
                    && found[0].contains(needle),
                "{host}: {found:#?}"
            );
        }
    }

    #[test]
    fn repeated_hostnames_and_classes_and_bad_classes_are_refused() {
        let score = TenantScore::new("acme")
            .ingress_hostname("a.example.com")
            .ingress_hostname("a.example.com")
            .ingress_class("nginx")
            .ingress_class("nginx")
            .ingress_class("Internal_Class");
        assert_eq!(
            problems(&score),
            [
                "spec.ingress.hostnames[1]: `a.example.com` is listed twice: list each hostname once",
                "spec.ingress.classes[1]: `nginx` is listed twice: list each class once",
                "spec.ingress.classes[2]: `Internal_Class` is not a valid IngressClass name: use lowercase letters, digits, `-` and `.`, such as `nginx`",
            ]
        );
    }

    #[test]
    fn hostnames_of_two_tenants_must_not_cover_each_other() {
        let acme = TenantScore::new("acme").ingress_hostname("*.shared.example.com");
        for (host, other) in [
            ("www.shared.example.com", "*.shared.example.com"),
            ("*.shared.example.com", "*.shared.example.com"),
        ] {
            let globex = TenantScore::new("globex")
                .ingress_hostname("globex.example.com")
                .ingress_hostname(host);
            let found = cross_tenant_problems(&[&acme, &globex]);
            assert_eq!(found.len(), 1, "{found:#?}");
            assert_eq!(found[0].tenant, 1);
            assert_eq!(found[0].problem.path, "spec.ingress.hostnames[1]");
            assert_eq!(
                found[0].problem.message,
                format!(
                    "`{host}` of tenant `globex` overlaps `{other}` of tenant `acme` (spec.ingress.hostnames[0]): a host belongs to one tenant; remove it from one of them or use names that do not cover each other"
                )
            );
            assert_eq!(
                found[0].other,
                Some((0, "spec.ingress.hostnames[0]".into()))
            );
        }
        // The later tenant's wildcard covering the earlier tenant's host is reported too.
        let exact = TenantScore::new("acme").ingress_hostname("app.example.com");
        let wildcard = TenantScore::new("globex").ingress_hostname("*.example.com");
        let found = cross_tenant_problems(&[&exact, &wildcard]);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].problem.message.contains("tenant `acme`"));
    }

    #[test]
    fn neighbouring_hostnames_do_not_overlap() {
        let acme = TenantScore::new("acme").ingress_hostname("*.example.com");
        let globex = TenantScore::new("globex")
            .ingress_hostname("example.com")
            .ingress_hostname("a.b.example.com")
            .ingress_hostname("*.globex.example.com");
        assert_eq!(cross_tenant_problems(&[&acme, &globex]), vec![]);
    }

    #[test]
    fn parameters_name_hosts_wildcards_and_classes() {
        let ingress = TenantScore::new("acme")
            .ingress_hostname("acme.example.com")
            .ingress_hostname("*.acme.example.com")
            .ingress_class("nginx")
            .ingress;
        let params: Vec<_> = parameters(&ingress).collect();
        assert_eq!(
            params,
            [
                ("ingress-host.acme.example.com".into(), "allowed".into()),
                (
                    "ingress-wildcard.acme.example.com".into(),
                    r"^[^.]+\.acme\.example\.com$".into()
                ),
                ("ingress-class.nginx".into(), "allowed".into()),
            ]
        );
    }
}
