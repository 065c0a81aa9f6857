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

/// API groups of built-in resources, for resource names given without `.GROUP` (kubectl resolves
/// them by discovery; an audit of files has none).
const BUILTIN_GROUPS: &[(&str, &str)] = &[
    ("bindings", ""),
    ("componentstatuses", ""),
    ("configmaps", ""),
    ("endpoints", ""),
    ("events", ""),
    ("groups", ""),
    ("limitranges", ""),
    ("namespaces", ""),
    ("nodes", ""),
    ("persistentvolumeclaims", ""),
    ("persistentvolumes", ""),
    ("pods", ""),
    ("podtemplates", ""),
    ("replicationcontrollers", ""),
    ("resourcequotas", ""),
    ("secrets", ""),
    ("serviceaccounts", ""),
    ("services", ""),
    ("users", ""),
    ("controllerrevisions", "apps"),
    ("daemonsets", "apps"),
    ("deployments", "apps"),
    ("replicasets", "apps"),
    ("statefulsets", "apps"),
    ("cronjobs", "batch"),
    ("jobs", "batch"),
    ("horizontalpodautoscalers", "autoscaling"),
    ("poddisruptionbudgets", "policy"),
    ("ingressclasses", "networking.k8s.io"),
    ("ingresses", "networking.k8s.io"),
    ("networkpolicies", "networking.k8s.io"),
    ("adminnetworkpolicies", "policy.networking.k8s.io"),
    ("baselineadminnetworkpolicies", "policy.networking.k8s.io"),
    ("clusterrolebindings", "rbac.authorization.k8s.io"),
    ("clusterroles", "rbac.authorization.k8s.io"),
    ("rolebindings", "rbac.authorization.k8s.io"),
    ("roles", "rbac.authorization.k8s.io"),
    ("csidrivers", "storage.k8s.io"),
    ("csinodes", "storage.k8s.io"),
    ("storageclasses", "storage.k8s.io"),
    ("volumeattachments", "storage.k8s.io"),
    (
        "mutatingwebhookconfigurations",
        "admissionregistration.k8s.io",
    ),
    (
        "validatingadmissionpolicies",
        "admissionregistration.k8s.io",
    ),
    (
        "validatingadmissionpolicybindings",
        "admissionregistration.k8s.io",
    ),
    (
        "validatingwebhookconfigurations",
        "admissionregistration.k8s.io",
    ),
    ("customresourcedefinitions", "apiextensions.k8s.io"),
    ("certificatesigningrequests", "certificates.k8s.io"),
    ("leases", "coordination.k8s.io"),
    ("endpointslices", "discovery.k8s.io"),
    ("priorityclasses", "scheduling.k8s.io"),
    ("tokenreviews", "authentication.k8s.io"),
    ("subjectaccessreviews", "authorization.k8s.io"),
];

/// Kind names and short names of the built-in resources, as kubectl's discovery knows them:
/// `(plural, Kind, short names)`.
const BUILTIN_NAMES: &[(&str, &str, &[&str])] = &[
    ("bindings", "Binding", &[]),
    ("componentstatuses", "ComponentStatus", &["cs"]),
    ("configmaps", "ConfigMap", &["cm"]),
    ("endpoints", "Endpoints", &["ep"]),
    ("events", "Event", &["ev"]),
    ("groups", "Group", &[]),
    ("limitranges", "LimitRange", &["limits"]),
    ("namespaces", "Namespace", &["ns"]),
    ("nodes", "Node", &["no"]),
    ("persistentvolumeclaims", "PersistentVolumeClaim", &["pvc"]),
    ("persistentvolumes", "PersistentVolume", &["pv"]),
    ("pods", "Pod", &["po"]),
    ("podtemplates", "PodTemplate", &[]),
    ("replicationcontrollers", "ReplicationController", &["rc"]),
    ("resourcequotas", "ResourceQuota", &["quota"]),
    ("secrets", "Secret", &[]),
    ("serviceaccounts", "ServiceAccount", &["sa"]),
    ("services", "Service", &["svc"]),
    ("users", "User", &[]),
    ("controllerrevisions", "ControllerRevision", &[]),
    ("daemonsets", "DaemonSet", &["ds"]),
    ("deployments", "Deployment", &["deploy"]),
    ("replicasets", "ReplicaSet", &["rs"]),
    ("statefulsets", "StatefulSet", &["sts"]),
    ("cronjobs", "CronJob", &["cj"]),
    ("jobs", "Job", &[]),
    (
        "horizontalpodautoscalers",
        "HorizontalPodAutoscaler",
        &["hpa"],
    ),
    ("poddisruptionbudgets", "PodDisruptionBudget", &["pdb"]),
    ("ingressclasses", "IngressClass", &[]),
    ("ingresses", "Ingress", &["ing"]),
    ("networkpolicies", "NetworkPolicy", &["netpol"]),
    ("adminnetworkpolicies", "AdminNetworkPolicy", &["anp"]),
    (
        "baselineadminnetworkpolicies",
        "BaselineAdminNetworkPolicy",
        &["banp"],
    ),
    ("clusterrolebindings", "ClusterRoleBinding", &[]),
    ("clusterroles", "ClusterRole", &[]),
    ("rolebindings", "RoleBinding", &[]),
    ("roles", "Role", &[]),
    ("csidrivers", "CSIDriver", &[]),
    ("csinodes", "CSINode", &[]),
    ("storageclasses", "StorageClass", &["sc"]),
    ("volumeattachments", "VolumeAttachment", &[]),
    (
        "mutatingwebhookconfigurations",
        "MutatingWebhookConfiguration",
        &[],
    ),
    (
        "validatingadmissionpolicies",
        "ValidatingAdmissionPolicy",
        &[],
    ),
    (
        "validatingadmissionpolicybindings",
        "ValidatingAdmissionPolicyBinding",
        &[],
    ),
    (
        "validatingwebhookconfigurations",
        "ValidatingWebhookConfiguration",
        &[],
    ),
    (
        "customresourcedefinitions",
        "CustomResourceDefinition",
        &["crd", "crds"],
    ),
    (
        "certificatesigningrequests",
        "CertificateSigningRequest",
        &["csr"],
    ),
    ("leases", "Lease", &[]),
    ("endpointslices", "EndpointSlice", &[]),
    ("priorityclasses", "PriorityClass", &["pc"]),
    ("tokenreviews", "TokenReview", &[]),
    ("subjectaccessreviews", "SubjectAccessReview", &[]),
];

/// The built-in resource `name` names, as kubectl resolves it (case-insensitive): its plural,
/// singular (the kind in lower case), kind or a short name; with its API group.
fn builtin(name: &str) -> Option<(&'static str, &'static str)> {
    let name = name.to_ascii_lowercase();
    let plural = BUILTIN_NAMES
        .iter()
        .find(|(plural, kind, short)| {
            *plural == name || kind.eq_ignore_ascii_case(&name) || short.contains(&name.as_str())
        })
        .map(|(plural, _, _)| *plural)?;
    BUILTIN_GROUPS.iter().find(|(r, _)| *r == plural).copied()
}

impl Request {
    /// Parses a question as `kubectl auth can-i VERB RESOURCE [NAME] [-n NS]` asks it:
    /// `resource` is `RESOURCE[.GROUP][/SUBRESOURCE]` (the group may be left out for built-in
    /// resources; `*` means every group and resource) or a non-resource URL starting with `/`.
    /// Without `namespace` the request is cluster-wide (all namespaces, or a cluster-scoped
    /// resource), which only ClusterRoleBindings can allow.
    pub fn parse(
        verb: &str,
        resource: &str,
        name: Option<&str>,
        namespace: Option<&str>,
    ) -> Result<Self, String> {
        if verb.is_empty() {
            return Err("VERB: give a verb such as get, list, create or `*`".into());
        }
        if resource.starts_with('/') {
            if let Some(extra) = name
                .map(|n| format!("NAME `{n}`"))
                .or(namespace.map(|n| format!("-n {n}")))
            {
                return Err(format!(
                    "{extra}: the non-resource URL `{resource}` has no name or namespace; leave it out"
                ));
            }
            return Ok(Self::NonResource {
                verb: verb.into(),
                path: resource.into(),
            });
        }
        let (kind, subresource) = resource.split_once('/').unwrap_or((resource, ""));
        if kind.is_empty() || subresource.contains('/') {
            return Err(format!(
                "RESOURCE `{resource}`: write RESOURCE[.GROUP][/SUBRESOURCE], such as pods, \
                 pods/exec or deployments.apps/scale"
            ));
        }
        // Resource names are lower case; a built-in one may also be named by its singular, kind
        // or short name (with or without its group), as kubectl resolves them.
        let subresource = subresource.to_ascii_lowercase();
        let (plural, group) = match kind.split_once('.') {
            Some((name, group)) if name.is_empty() || group.split('.').any(str::is_empty) => {
                return Err(format!(
                    "RESOURCE `{resource}`: write RESOURCE[.GROUP][/SUBRESOURCE], such as pods, \
                     pods/exec or deployments.apps/scale"
                ));
            }
            Some((name, group)) => match builtin(name) {
                Some((plural, builtin_group)) if builtin_group == group => {
                    (plural.to_string(), group)
                }
                _ => (name.to_ascii_lowercase(), group),
            },
            None if kind == "*" => ("*".to_string(), "*"),
            None => {
                let (plural, group) = builtin(kind).ok_or_else(|| {
                    format!(
                        "RESOURCE `{resource}` is not a built-in resource: name its API group \
                         as RESOURCE.GROUP, such as routes.route.openshift.io"
                    )
                })?;
                (plural.to_string(), group)
            }
        };

        // `Self::resource` reads `pods/` as `pods` without a subresource.
        let request = Self::resource(
            verb,
            group,
            &format!("{plural}/{subresource}"),
            namespace.unwrap_or_default(),
        );
        Ok(request.named(name.unwrap_or_default()))
    }
}

/// A rule in one line: `get,list pods,pods/log (apiGroups "") named a,b`, and its URLs.
pub fn describe_rule(rule: &PolicyRule) -> String {
    let verbs = rule.verbs.join(",");
    let mut parts = Vec::new();
    if let Some(resources) = rule.resources.as_ref().filter(|r| !r.is_empty()) {
        let groups: Vec<String> = rule
            .api_groups
            .iter()
            .flatten()
            .map(|g| format!("\"{g}\""))
            .collect();
        let mut part = format!(
            "{verbs} {} (apiGroups {})",
            resources.join(","),
            groups.join(",")
        );
        if let Some(names) = rule.resource_names.as_ref().filter(|n| !n.is_empty()) {
            part.push_str(&format!(" named {}", names.join(",")));
        }
        parts.push(part);
    }
    if let Some(urls) = rule.non_resource_urls.as_ref().filter(|u| !u.is_empty()) {
        parts.push(format!("{verbs} {}", urls.join(",")));
    }
    if parts.is_empty() {
        parts.push(format!("{verbs} (no resource or URL)"));
    }
    parts.join("; ")
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

    #[test]
    fn resources_are_named_as_kubectl_names_them() {
        let pods = Request::resource("get", "", "pods", "acme");
        for name in ["pods", "Pods", "pod", "Pod", "po", "PODS"] {
            assert_eq!(
                Request::parse("get", name, None, Some("acme")),
                Ok(pods.clone()),
                "{name}"
            );
        }
        let scale = Request::resource("update", "apps", "deployments/scale", "");
        for name in [
            "deployments/scale",
            "Deployment/scale",
            "deploy/scale",
            "deployment.apps/Scale",
        ] {
            assert_eq!(
                Request::parse("update", name, None, None),
                Ok(scale.clone()),
                "{name}"
            );
        }
        assert_eq!(
            Request::parse("get", "NetworkPolicy", None, None),
            Ok(Request::resource(
                "get",
                "networking.k8s.io",
                "networkpolicies",
                ""
            ))
        );
        // A resource of another group is taken as given.
        assert_eq!(
            Request::parse("list", "widgets.example.com", None, Some("acme")),
            Ok(Request::resource("list", "example.com", "widgets", "acme"))
        );
        for bad in ["widgets", "widget", "pods.", ".apps", "a..b"] {
            assert!(Request::parse("get", bad, None, None).is_err(), "{bad}");
        }
    }

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

    #[test]
    fn questions_parse_as_kubectl_asks_them() {
        assert_eq!(
            Request::parse("create", "pods/exec", None, Some("acme")),
            Ok(Request::resource("create", "", "pods/exec", "acme"))
        );
        assert_eq!(
            Request::parse("get", "deployments.apps/scale", Some("web"), Some("a")),
            Ok(Request::resource("get", "apps", "deployments/scale", "a").named("web"))
        );
        assert_eq!(
            Request::parse("list", "deployments", None, None),
            Ok(Request::resource("list", "apps", "deployments", ""))
        );
        assert_eq!(
            Request::parse("*", "*", None, None),
            Ok(Request::resource("*", "*", "*", ""))
        );
        assert_eq!(
            Request::parse("get", "/healthz", None, None),
            Ok(Request::NonResource {
                verb: "get".into(),
                path: "/healthz".into()
            })
        );
        for (verb, resource, name, ns, says) in [
            ("get", "widgets", None, None, "name its API group"),
            (
                "get",
                "pods/log/x",
                None,
                None,
                "RESOURCE[.GROUP][/SUBRESOURCE]",
            ),
            (
                "get",
                "/metrics",
                None,
                Some("a"),
                "-n a: the non-resource URL",
            ),
            ("", "pods", None, None, "VERB"),
        ] {
            let err = Request::parse(verb, resource, name, ns).unwrap_err();
            assert!(err.contains(says), "{resource}: {err}");
        }
    }

    #[test]
    fn rules_read_in_one_line() {
        let mut r = rule(&["", "apps"], &["pods", "deployments"], &["get", "list"]);
        r.resource_names = Some(vec!["web".into()]);
        assert_eq!(
            describe_rule(&r),
            "get,list pods,deployments (apiGroups \"\",\"apps\") named web"
        );
    }
}
