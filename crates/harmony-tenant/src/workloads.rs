//! What a tenant's workloads may ask of the cluster beyond quotas: the PriorityClasses and
//! RuntimeClasses they may name, the image pull policy and registries (`spec.scheduling`,
//! `spec.images`), as parameters of the cluster guardrails; and the object counts Harmony and
//! the platform need in every tenant namespace.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::facts::{ClusterFacts, ClusterFlavor};
use crate::names::is_dns_subdomain;
use crate::score::TenantScore;
use harmony::Problem;

/// Prefix of the parameter keys naming a PriorityClass the tenant's pods may name.
pub const PRIORITY_CLASS_KEY_PREFIX: &str = "priority-class.";
/// Prefix of the parameter keys naming a RuntimeClass the tenant's pods may name.
pub const RUNTIME_CLASS_KEY_PREFIX: &str = "runtime-class.";
/// The parameter key present (value `Always`) when every container must pull its image.
pub const PULL_POLICY_KEY: &str = "image-pull-policy";
/// Prefix of the parameter keys (`image-registry.<n>`) whose values are the allowed registries;
/// none means every registry.
pub const REGISTRY_KEY_PREFIX: &str = "image-registry.";

/// PriorityClasses and RuntimeClasses a tenant's pods may name; by default none (pods leave
/// `priorityClassName` and `runtimeClassName` unset and get the cluster's defaults).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SchedulingConfig {
    /// PriorityClasses the tenant's pods may name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub priority_classes: Vec<String>,
    /// RuntimeClasses the tenant's pods may name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runtime_classes: Vec<String>,
}

impl SchedulingConfig {
    pub(crate) fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// How the tenant's containers get their images.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImagePolicy {
    /// Every container pulls its image (`imagePullPolicy: Always`), so a private image cached on
    /// a node is never used without the tenant's pull credentials (MTB DI-1).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pull_policy_always: bool,
    /// The only registries (`host[:port]`, optionally with a path prefix) images may come from;
    /// unset means any. Images without a registry come from `docker.io`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registries: Option<Vec<String>>,
}

impl ImagePolicy {
    pub(crate) fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

impl TenantScore {
    /// Lets the tenant's pods name PriorityClass `class`.
    pub fn priority_class(mut self, class: impl Into<String>) -> Self {
        self.scheduling.priority_classes.push(class.into());
        self
    }

    /// Lets the tenant's pods name RuntimeClass `class`.
    pub fn runtime_class(mut self, class: impl Into<String>) -> Self {
        self.scheduling.runtime_classes.push(class.into());
        self
    }

    /// Makes every container of the tenant pull its image.
    pub fn pull_policy_always(mut self) -> Self {
        self.images.pull_policy_always = true;
        self
    }

    /// Allows images from `registry` (and, once called, from no registry not listed).
    pub fn image_registry(mut self, registry: impl Into<String>) -> Self {
        self.images
            .registries
            .get_or_insert_with(Vec::new)
            .push(registry.into());
        self
    }
}

/// The guardrail parameters of `tenant`'s workloads: one key per allowed PriorityClass and
/// RuntimeClass, the pull-policy key when set, one key per allowed registry.
pub(crate) fn parameters(tenant: &TenantScore) -> BTreeMap<String, String> {
    let allowed = |prefix: &str, names: &[String]| -> Vec<(String, String)> {
        names
            .iter()
            .map(|name| (format!("{prefix}{name}"), "allowed".to_string()))
            .collect()
    };
    let scheduling = &tenant.scheduling;
    let mut data: BTreeMap<String, String> =
        allowed(PRIORITY_CLASS_KEY_PREFIX, &scheduling.priority_classes)
            .into_iter()
            .chain(allowed(
                RUNTIME_CLASS_KEY_PREFIX,
                &scheduling.runtime_classes,
            ))
            .collect();
    if tenant.images.pull_policy_always {
        data.insert(PULL_POLICY_KEY.into(), "Always".into());
    }
    for (i, registry) in tenant.images.registries.iter().flatten().enumerate() {
        data.insert(format!("{REGISTRY_KEY_PREFIX}{i}"), registry.clone());
    }
    data
}

/// Problems with `spec.scheduling` and `spec.images`.
pub(crate) fn problems(score: &TenantScore, problems: &mut Vec<Problem>) {
    let scheduling = &score.scheduling;
    for (field, names) in [
        ("priorityClasses", &scheduling.priority_classes),
        ("runtimeClasses", &scheduling.runtime_classes),
    ] {
        for (i, name) in names.iter().enumerate() {
            let path = format!("spec.scheduling.{field}[{i}]");
            if !is_dns_subdomain(name) {
                problems.push(Problem::new(
                    path,
                    format!(
                        "`{name}` is not a class name: lowercase letters, digits, `-` and `.`, such as `batch-low`"
                    ),
                ));
            } else if field == "priorityClasses" && name.starts_with("system-") {
                problems.push(Problem::new(
                    path,
                    format!(
                        "`{name}` is reserved for the platform's own pods (tenant pods with it would preempt them): name a class made for tenants"
                    ),
                ));
            } else if names[..i].contains(name) {
                problems.push(Problem::new(
                    path,
                    format!("`{name}` is listed twice: remove one"),
                ));
            }
        }
    }
    let Some(registries) = &score.images.registries else {
        return;
    };
    if registries.is_empty() {
        problems.push(Problem::new(
            "spec.images.registries",
            "is empty, which would refuse every image: list the registries images may come from, such as `[registry.example.com]`, or leave the field out to allow any",
        ));
    }
    for (i, registry) in registries.iter().enumerate() {
        let path = format!("spec.images.registries[{i}]");
        if let Some(message) = registry_problem(registry) {
            problems.push(Problem::new(path, message));
        } else if registries[..i].contains(registry) {
            problems.push(Problem::new(
                path,
                format!("`{registry}` is listed twice: remove one"),
            ));
        }
    }
}

/// Why `registry` is not a registry host (with an optional port and path prefix).
fn registry_problem(registry: &str) -> Option<String> {
    if let Some((scheme, rest)) = registry.split_once("://") {
        return Some(format!(
            "`{registry}` has a scheme: write the host alone, such as `{rest}` (not `{scheme}://`)"
        ));
    }
    if registry.contains(['@', ' ']) || registry.ends_with('/') || registry.contains("//") {
        return Some(format!(
            "`{registry}` is not a registry: write `host[:port]` with an optional path prefix, such as `registry.example.com` or `ghcr.io/acme`, without tag, digest or trailing `/`"
        ));
    }
    let (host, path) = registry.split_once('/').unwrap_or((registry, ""));
    let (name, port) = host.split_once(':').unwrap_or((host, ""));
    if !port.is_empty() && port.parse::<u16>().is_err() || host.ends_with(':') {
        return Some(format!(
            "`{registry}` has port `{port}`, which is not a port number: write `host:5000`"
        ));
    }
    if name != "localhost" && !name.contains('.') && port.is_empty() {
        return Some(format!(
            "`{registry}` is not a registry host (a host has a `.` or a port, or is `localhost`): for Docker Hub images of `{registry}` write `docker.io/{registry}`"
        ));
    }
    if !is_dns_subdomain(name) {
        return Some(format!(
            "`{registry}` has host `{name}`, which is not a lowercase DNS name"
        ));
    }
    let path_ok = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
    };
    if !path.is_empty() && !path.split('/').all(path_ok) {
        return Some(format!(
            "`{registry}` has path `{path}`: repository paths are lowercase letters, digits, `.`, `_` and `-` separated by `/`"
        ));
    }
    None
}

/// How many objects of each counted kind Harmony and the platform keep in the tenant namespace:
/// `(field in spec.resourceQuotas.objects, the resolved count, what needs it, how many)`.
fn own_objects(score: &TenantScore, facts: &ClusterFacts) -> [(&'static str, i64, String, i64); 5] {
    let okd = facts.flavor == ClusterFlavor::Okd;
    let members = &score.rbac_config.members;
    let accounts: BTreeSet<&str> = members
        .iter()
        .filter(|m| m.service_account)
        .map(|m| m.name.as_str())
        .chain(["default"])
        .collect();
    let counts = score.resource_quotas.resolved().objects;
    let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    let monitoring = crate::compile::role_binding_count(score, facts);
    let monitoring_bindings = if monitoring > 0 {
        format!(", the monitoring RoleBindings ({monitoring})")
    } else {
        String::new()
    };
    let (okd_bindings, okd_accounts, okd_maps) = if okd {
        (
            ", and OKD's system:image-pullers, system:image-builders and system:deployers",
            ", and OKD's builder and deployer",
            ", and OKD's openshift-service-ca.crt",
        )
    } else {
        ("", "", "")
    };
    [
        (
            "roles",
            counts.roles,
            "Harmony's tenant-admin, tenant-developer and tenant-viewer".into(),
            3,
        ),
        (
            "roleBindings",
            counts.role_bindings,
            format!(
                "one member-<name> per member ({}){monitoring_bindings}{okd_bindings}",
                members.len()
            ),
            count(members.len() + monitoring) + if okd { 3 } else { 0 },
        ),
        (
            "serviceAccounts",
            counts.service_accounts,
            format!(
                "`default` and one per serviceAccount member ({}){okd_accounts}",
                accounts.len() - 1
            ),
            count(accounts.len()) + if okd { 2 } else { 0 },
        ),
        (
            "configMaps",
            counts.config_maps,
            format!("Harmony's harmony-guardrails, and kube-root-ca.crt{okd_maps}"),
            if okd { 3 } else { 2 },
        ),
        (
            "resourceQuotas",
            counts.resource_quotas,
            "Harmony's tenant-quota".into(),
            1,
        ),
    ]
}

/// Object counts (set, or left at their defaults) too small for what Harmony and the platform
/// create in the namespace.
pub(crate) fn own_object_problems(
    score: &TenantScore,
    facts: &ClusterFacts,
    problems: &mut Vec<Problem>,
) {
    let o = &score.resource_quotas.objects;
    let set = |field: &str| match field {
        "roles" => o.roles,
        "roleBindings" => o.role_bindings,
        "serviceAccounts" => o.service_accounts,
        "configMaps" => o.config_maps,
        _ => o.resource_quotas,
    };
    for (field, count, who, needed) in own_objects(score, facts) {
        if count >= needed || count < 0 {
            continue;
        }
        let path = format!("spec.resourceQuotas.objects.{field}");
        let what = match set(field) {
            Some(n) => format!("`{n}`"),
            None => format!("the default {count}"),
        };
        problems.push(Problem::new(
            path.clone(),
            format!(
                "{what} is below the {needed} the namespace needs for {who}: set {path} to at least {needed}"
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::{Member, TenantRole};

    fn messages(score: &TenantScore, facts: &ClusterFacts) -> Vec<String> {
        score
            .validate(facts)
            .into_iter()
            .map(|p| format!("{}: {}", p.path, p.message))
            .collect()
    }

    fn one(score: TenantScore, path: &str, needle: &str) {
        let found = messages(&score, &ClusterFacts::kubernetes());
        assert!(
            found.len() == 1 && found[0].starts_with(path) && found[0].contains(needle),
            "expected one problem at {path} with {needle:?}, got {found:#?}"
        );
    }

    #[test]
    fn listed_classes_and_registries_are_valid_and_become_parameters() {
        let score = TenantScore::new("acme")
            .priority_class("batch-low")
            .runtime_class("gvisor")
            .pull_policy_always()
            .image_registry("registry.example.com")
            .image_registry("localhost:5000")
            .image_registry("ghcr.io/acme")
            .image_registry("docker.io");
        assert_eq!(
            messages(&score, &ClusterFacts::kubernetes()),
            Vec::<String>::new()
        );
        let data = parameters(&score);
        let entries: Vec<(&str, &str)> =
            data.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            entries,
            [
                ("image-pull-policy", "Always"),
                ("image-registry.0", "registry.example.com"),
                ("image-registry.1", "localhost:5000"),
                ("image-registry.2", "ghcr.io/acme"),
                ("image-registry.3", "docker.io"),
                ("priority-class.batch-low", "allowed"),
                ("runtime-class.gvisor", "allowed"),
            ]
        );
        assert!(parameters(&TenantScore::new("acme")).is_empty());
    }

    #[test]
    fn bad_class_names_are_refused() {
        one(
            TenantScore::new("a").priority_class("Batch"),
            "spec.scheduling.priorityClasses[0]",
            "`Batch` is not a class name",
        );
        one(
            TenantScore::new("a").runtime_class("run_c"),
            "spec.scheduling.runtimeClasses[0]",
            "`run_c` is not a class name",
        );
        one(
            TenantScore::new("a").priority_class("system-cluster-critical"),
            "spec.scheduling.priorityClasses[0]",
            "reserved for the platform's own pods",
        );
        one(
            TenantScore::new("a")
                .runtime_class("kata")
                .runtime_class("kata"),
            "spec.scheduling.runtimeClasses[1]",
            "`kata` is listed twice",
        );
    }

    #[test]
    fn bad_registries_are_refused() {
        let mut empty = TenantScore::new("a");
        empty.images.registries = Some(vec![]);
        one(
            empty,
            "spec.images.registries",
            "leave the field out to allow any",
        );
        for (registry, needle) in [
            (
                "https://ghcr.io",
                "has a scheme: write the host alone, such as `ghcr.io`",
            ),
            ("ghcr.io/", "without tag, digest or trailing `/`"),
            ("ghcr.io/x@sha256", "without tag, digest"),
            (
                "localhost:port",
                "has port `port`, which is not a port number",
            ),
            ("localhost:", "which is not a port number"),
            (
                "acme",
                "for Docker Hub images of `acme` write `docker.io/acme`",
            ),
            ("Registry.Example.com", "not a lowercase DNS name"),
            ("ghcr.io/Acme", "has path `Acme`"),
        ] {
            one(
                TenantScore::new("a").image_registry(registry),
                "spec.images.registries[0]",
                needle,
            );
        }
        one(
            TenantScore::new("a")
                .image_registry("ghcr.io")
                .image_registry("ghcr.io"),
            "spec.images.registries[1]",
            "`ghcr.io` is listed twice",
        );
    }

    #[test]
    fn counts_too_small_for_harmony_s_own_objects_are_refused() {
        let mut roles = TenantScore::new("a");
        roles.resource_quotas.objects.roles = Some(2);
        one(
            roles,
            "spec.resourceQuotas.objects.roles",
            "`2` is below the 3 the namespace needs for Harmony's tenant-admin",
        );
        let mut accounts = TenantScore::new("a")
            .member(Member::service_account("ci", TenantRole::Developer))
            .member(Member::service_account("deploy", TenantRole::Developer));
        accounts.resource_quotas.objects.service_accounts = Some(2);
        one(
            accounts,
            "spec.resourceQuotas.objects.serviceAccounts",
            "`2` is below the 3 the namespace needs for `default` and one per serviceAccount member (2): set spec.resourceQuotas.objects.serviceAccounts to at least 3",
        );
        let mut maps = TenantScore::new("a");
        maps.resource_quotas.objects.config_maps = Some(1);
        one(
            maps,
            "spec.resourceQuotas.objects.configMaps",
            "harmony-guardrails, and kube-root-ca.crt",
        );
        let mut quotas = TenantScore::new("a");
        quotas.resource_quotas.objects.resource_quotas = Some(0);
        one(
            quotas,
            "spec.resourceQuotas.objects.resourceQuotas",
            "Harmony's tenant-quota",
        );
    }

    #[test]
    fn the_defaults_too_must_hold_every_member_and_okd_s_own_objects() {
        let mut many = TenantScore::new("a");
        for i in 0..21 {
            many = many.member(Member::user(
                format!("u{i}"),
                TenantRole::Viewer,
                format!("u{i}@acme.com"),
            ));
        }
        one(
            many,
            "spec.resourceQuotas.objects.roleBindings",
            "the default 20 is below the 21 the namespace needs for one member-<name> per member (21): set spec.resourceQuotas.objects.roleBindings to at least 21",
        );
        let mut monitored = TenantScore::new("a")
            .member(Member::user("alice", TenantRole::Admin, "alice@acme.com"))
            .member(Member::user("vic", TenantRole::Viewer, "vic@acme.com"));
        monitored.resource_quotas.objects.role_bindings = Some(4);
        let served = ClusterFacts {
            monitoring_api: true,
            ..ClusterFacts::kubernetes()
        };
        let found = messages(&monitored, &served);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0].contains("`4` is below the 5")
                && found[0].contains("the monitoring RoleBindings (3)"),
            "{found:#?}"
        );
        assert!(messages(&monitored, &ClusterFacts::kubernetes()).is_empty());
        let mut okd = TenantScore::new("a").member(Member::user(
            "alice",
            TenantRole::Admin,
            "alice@acme.com",
        ));
        okd.resource_quotas.objects.role_bindings = Some(3);
        okd.resource_quotas.objects.service_accounts = Some(2);
        let found = messages(&okd, &ClusterFacts::okd());
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(
            found[0].contains("below the 4") && found[0].contains("system:deployers"),
            "{found:#?}"
        );
        assert!(
            found[1].contains("below the 3") && found[1].contains("builder and deployer"),
            "{found:#?}"
        );
        assert_eq!(
            messages(&okd, &ClusterFacts::kubernetes()),
            Vec::<String>::new()
        );
    }

    #[test]
    fn container_ephemeral_storage_is_ordered_and_fits_the_quota() {
        use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
        let q = |s: &str| Some(Quantity(s.into()));
        let mut above_limit = TenantScore::new("a");
        above_limit
            .resource_quotas
            .container_defaults
            .request
            .ephemeral_storage = q("2Gi");
        one(
            above_limit,
            "spec.resourceQuotas.containerDefaults.request.ephemeralStorage",
            "is above spec.resourceQuotas.containerDefaults.limit.ephemeralStorage (1Gi)",
        );
        let mut above_max = TenantScore::new("a");
        above_max
            .resource_quotas
            .container_defaults
            .limit
            .ephemeral_storage = q("8Gi");
        one(
            above_max,
            "spec.resourceQuotas.containerDefaults.limit.ephemeralStorage",
            "is above spec.resourceQuotas.containerDefaults.max.ephemeralStorage (4Gi)",
        );
        let mut max_above_quota = TenantScore::new("a");
        max_above_quota.resource_quotas.limits.ephemeral_storage = q("2Gi");
        max_above_quota.resource_quotas.requests.ephemeral_storage = q("1Gi");
        one(
            max_above_quota,
            "spec.resourceQuotas.containerDefaults.max.ephemeralStorage",
            "is above spec.resourceQuotas.limits.ephemeralStorage (2Gi)",
        );
        let mut request_above_quota = TenantScore::new("a");
        request_above_quota
            .resource_quotas
            .requests
            .ephemeral_storage = q("100Mi");
        one(
            request_above_quota,
            "spec.resourceQuotas.containerDefaults.request.ephemeralStorage",
            "is above spec.resourceQuotas.requests.ephemeralStorage (100Mi)",
        );
        let mut bad = TenantScore::new("a");
        bad.resource_quotas.container_defaults.max.ephemeral_storage = q("lots");
        one(
            bad,
            "spec.resourceQuotas.containerDefaults.max.ephemeralStorage",
            "lots",
        );
        let mut fits = TenantScore::new("a");
        fits.resource_quotas
            .container_defaults
            .limit
            .ephemeral_storage = q("4Gi");
        assert_eq!(
            messages(&fits, &ClusterFacts::kubernetes()),
            Vec::<String>::new()
        );
    }

    #[test]
    fn the_file_s_camel_case_fields_are_read() {
        let file = "apiVersion: harmony.nationtech.io/v1alpha1\nkind: Tenant\nmetadata: {name: acme}\nspec:\n  scheduling: {priorityClasses: [batch-low], runtimeClasses: [gvisor]}\n  images: {pullPolicyAlways: true, registries: [ghcr.io]}\n  resourceQuotas:\n    objects: {deployments: 3, statefulSets: 1, replicaSets: 30, jobs: 4, cronJobs: 2, ingresses: 5, podDisruptionBudgets: 6, serviceAccounts: 7, roles: 8, roleBindings: 9}\n    containerDefaults: {max: {ephemeralStorage: 2Gi}}\n";
        let score: TenantScore = serde_saphyr::from_str(file).unwrap();
        let expected = TenantScore::new("acme")
            .priority_class("batch-low")
            .runtime_class("gvisor")
            .pull_policy_always()
            .image_registry("ghcr.io");
        assert_eq!(score.scheduling, expected.scheduling);
        assert_eq!(score.images, expected.images);
        let counts = score.resource_quotas.resolved().objects;
        assert_eq!(
            [
                counts.deployments,
                counts.stateful_sets,
                counts.replica_sets,
                counts.jobs,
                counts.cron_jobs
            ],
            [3, 1, 30, 4, 2]
        );
        assert_eq!(
            [
                counts.ingresses,
                counts.pod_disruption_budgets,
                counts.service_accounts,
                counts.roles,
                counts.role_bindings
            ],
            [5, 6, 7, 8, 9]
        );
        assert_eq!(
            score
                .resource_quotas
                .resolved()
                .container_max
                .ephemeral_storage
                .0,
            "2Gi"
        );
        let unknown = file.replace("pullPolicyAlways", "pullAlways");
        let error = serde_saphyr::from_str::<TenantScore>(&unknown)
            .unwrap_err()
            .to_string();
        assert!(error.contains("pullAlways"), "{error}");
    }

    #[test]
    fn negative_new_counts_are_refused_once() {
        let mut score = TenantScore::new("a");
        score.resource_quotas.objects.deployments = Some(-1);
        score.resource_quotas.objects.role_bindings = Some(-2);
        let found = messages(&score, &ClusterFacts::kubernetes());
        assert_eq!(
            found,
            [
                "spec.resourceQuotas.objects.deployments: `-1` is negative: object counts must be 0 or more",
                "spec.resourceQuotas.objects.roleBindings: `-2` is negative: object counts must be 0 or more",
            ]
        );
    }
}
