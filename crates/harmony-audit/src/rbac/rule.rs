//! One PolicyRule against one request, as `rbac.RuleAllows` does.

use k8s_openapi::api::rbac::v1::PolicyRule;

/// What is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// A resource request.
    Resource {
        /// `get`, `create`, `bind`, ...
        verb: String,
        /// API group (`""` for core).
        api_group: String,
        /// Resource, such as `pods`.
        resource: String,
        /// Subresource, such as `exec` (`""` for none).
        subresource: String,
        /// Object name (`""` for collections or any object).
        name: String,
        /// Namespace (`""` for cluster-scoped resources or all namespaces).
        namespace: String,
    },
    /// A non-resource URL, such as `/metrics`.
    NonResource {
        /// `get`, ...
        verb: String,
        /// The path.
        path: String,
    },
}

impl Request {
    /// A resource request; `resource` may be `pods/exec` for a subresource.
    pub fn resource(verb: &str, api_group: &str, resource: &str, namespace: &str) -> Self {
        let (resource, subresource) = resource.split_once('/').unwrap_or((resource, ""));
        Self::Resource {
            verb: verb.into(),
            api_group: api_group.into(),
            resource: resource.into(),
            subresource: subresource.into(),
            name: String::new(),
            namespace: namespace.into(),
        }
    }

    /// The same request for object `name`.
    pub fn named(mut self, object: &str) -> Self {
        if let Self::Resource { name, .. } = &mut self {
            *name = object.into();
        }
        self
    }

    /// The namespace of a resource request (`""` otherwise).
    pub fn namespace(&self) -> &str {
        match self {
            Self::Resource { namespace, .. } => namespace,
            Self::NonResource { .. } => "",
        }
    }
}

impl std::fmt::Display for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Resource {
                verb,
                api_group,
                resource,
                subresource,
                name,
                namespace,
            } => {
                write!(f, "{verb} {resource}")?;
                if !subresource.is_empty() {
                    write!(f, "/{subresource}")?;
                }
                if !api_group.is_empty() {
                    write!(f, ".{api_group}")?;
                }
                if !name.is_empty() {
                    write!(f, " `{name}`")?;
                }
                if namespace.is_empty() {
                    write!(f, " (cluster-wide)")
                } else {
                    write!(f, " in {namespace}")
                }
            }
            Self::NonResource { verb, path } => write!(f, "{verb} {path}"),
        }
    }
}

fn has(list: &[String], value: &str) -> bool {
    list.iter().any(|v| v == "*" || v == value)
}

fn resource_matches(rule: &PolicyRule, resource: &str, subresource: &str) -> bool {
    let combined = if subresource.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}/{subresource}")
    };
    rule.resources.iter().flatten().any(|r| {
        r == "*"
            || *r == combined
            || (!subresource.is_empty() && r.strip_prefix("*/") == Some(subresource))
    })
}

fn url_matches(rule: &PolicyRule, path: &str) -> bool {
    rule.non_resource_urls.iter().flatten().any(|u| {
        u == "*"
            || u == path
            || u.strip_suffix('*')
                .is_some_and(|prefix| path.starts_with(prefix))
    })
}

/// Whether `rule` allows `request` (scope is the binding's business, not the rule's).
pub fn rule_allows(rule: &PolicyRule, request: &Request) -> bool {
    match request {
        Request::Resource {
            verb,
            api_group,
            resource,
            subresource,
            name,
            ..
        } => {
            has(&rule.verbs, verb)
                && has(rule.api_groups.as_deref().unwrap_or_default(), api_group)
                && resource_matches(rule, resource, subresource)
                && rule
                    .resource_names
                    .as_deref()
                    .is_none_or(|names| names.is_empty() || names.iter().any(|n| n == name))
        }
        Request::NonResource { verb, path } => has(&rule.verbs, verb) && url_matches(rule, path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> PolicyRule {
        let v = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        PolicyRule {
            api_groups: Some(v(groups)),
            resources: Some(v(resources)),
            verbs: v(verbs),
            ..Default::default()
        }
    }

    #[test]
    fn docs_pod_reader_and_subresources() {
        // The docs' `pod-reader`: get/watch/list pods in the core group.
        let r = rule(&[""], &["pods"], &["get", "watch", "list"]);
        assert!(rule_allows(
            &r,
            &Request::resource("get", "", "pods", "default")
        ));
        assert!(!rule_allows(
            &r,
            &Request::resource("create", "", "pods", "default")
        ));
        assert!(!rule_allows(
            &r,
            &Request::resource("get", "apps", "pods", "default")
        ));
        // `pods` does not grant `pods/log`; the docs' `pods/log` rule does.
        assert!(!rule_allows(
            &r,
            &Request::resource("get", "", "pods/log", "default")
        ));
        let log = rule(&[""], &["pods", "pods/log"], &["get"]);
        assert!(rule_allows(
            &log,
            &Request::resource("get", "", "pods/log", "default")
        ));
        let any_exec = rule(&[""], &["*/exec"], &["create"]);
        assert!(rule_allows(
            &any_exec,
            &Request::resource("create", "", "pods/exec", "a")
        ));
        assert!(!rule_allows(
            &any_exec,
            &Request::resource("create", "", "pods", "a")
        ));
    }

    #[test]
    fn wildcards_and_resource_names() {
        let all = rule(&["*"], &["*"], &["*"]);
        assert!(rule_allows(
            &all,
            &Request::resource("escalate", "rbac.authorization.k8s.io", "roles", "")
        ));
        // The docs' `configmap-updater`: only the ConfigMap `my-configmap`.
        let mut named = rule(&[""], &["configmaps"], &["update", "get"]);
        named.resource_names = Some(vec!["my-configmap".into()]);
        assert!(rule_allows(
            &named,
            &Request::resource("get", "", "configmaps", "a").named("my-configmap")
        ));
        assert!(!rule_allows(
            &named,
            &Request::resource("get", "", "configmaps", "a").named("other")
        ));
        assert!(!rule_allows(
            &named,
            &Request::resource("get", "", "configmaps", "a")
        ));
    }

    #[test]
    fn non_resource_urls_with_prefix_star() {
        let r = PolicyRule {
            non_resource_urls: Some(vec!["/healthz".into(), "/healthz/*".into()]),
            verbs: vec!["get".into(), "post".into()],
            ..Default::default()
        };
        let req = |p: &str| Request::NonResource {
            verb: "get".into(),
            path: p.into(),
        };
        assert!(rule_allows(&r, &req("/healthz")));
        assert!(rule_allows(&r, &req("/healthz/etcd")));
        assert!(!rule_allows(&r, &req("/metrics")));
        assert!(!rule_allows(&r, &Request::resource("get", "", "pods", "")));
    }
}
