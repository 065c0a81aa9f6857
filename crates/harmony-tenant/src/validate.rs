//! Validation of tenant scores: every problem at once, each naming the field (as written in the
//! tenant file), the bad value and what is accepted.

use std::collections::BTreeMap;

use harmony::Problem;
use ipnet::IpNet;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use crate::facts::ClusterFacts;
use crate::names::{is_dns_label, is_dns_subdomain, reserved_namespace};
use crate::nonpublic::{non_public_overlapping, overlaps};
use crate::quantity::Amount;
use crate::score::{ComputeResources, ContainerResources, Identity, TenantRole, TenantScore};

/// The most members a tenant may list (the Tenant CRD's bound too: the API server's cost
/// estimate of the rules on each member needs one).
pub const MAX_MEMBERS: usize = 1000;
/// The most StorageClasses a tenant may list (see [`MAX_MEMBERS`]).
pub const MAX_STORAGE_CLASSES: usize = 100;

/// Longest tenant id (it prefixes other names).
pub const MAX_TENANT_NAME: usize = 40;

impl TenantScore {
    /// Every problem with this score on a cluster with `facts`; empty when it is valid.
    pub fn validate(&self, facts: &ClusterFacts) -> Vec<Problem> {
        let mut problems = Vec::new();
        identity(self, &mut problems);
        crate::namespaces::problems(self, facts, &mut problems);
        crate::self_service::problems(self, &mut problems);
        crate::adoption::problems(self, &mut problems);
        quotas(self, "spec.resourceQuotas", &mut problems);
        if let Some(list) = &self.tenant_config.namespaces {
            for (i, (ns, view)) in list.iter().zip(self.namespace_scores()).enumerate() {
                if ns.resource_quotas.is_some() {
                    quotas(
                        &view,
                        &format!("spec.namespaces[{i}].resourceQuotas"),
                        &mut problems,
                    );
                }
            }
        }
        network(self, facts, &mut problems);
        storage(self, &mut problems);
        crate::ingress::validate(self, &mut problems);
        crate::monitoring::validate(self, &mut problems);
        crate::backup::validate(self, &mut problems);
        crate::connections::validate(self, &mut problems);
        members(self, facts, &mut problems);
        crate::workloads::problems(self, &mut problems);
        crate::workloads::own_object_problems(self, facts, &mut problems);
        problems
    }
}

/// A problem that only shows across several tenants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrossTenantProblem {
    /// The index of the later tenant, where the problem is reported.
    pub tenant: usize,
    /// The problem, at a path of that tenant.
    pub problem: Problem,
    /// The earlier tenant's conflicting field, `(index, path)`, when there is one.
    pub other: Option<(usize, String)>,
}

/// Problems that only show across several tenants: [`cross_tenant_conflicts`], and a connection
/// to a tenant not given (both sides of a connection are read together).
pub fn cross_tenant_problems(scores: &[&TenantScore]) -> Vec<CrossTenantProblem> {
    let mut problems = cross_tenant_conflicts(scores);
    problems.extend(crate::connections::unknown_tenants(scores));
    problems
}

/// Conflicts between tenants: the same id or namespace twice, a user or group that is a member of
/// several tenants without `shared: true` on each of its members, and ingress hostnames of two
/// tenants that cover each other. Unlike [`cross_tenant_problems`], a connection to a tenant not
/// among `scores` is no problem: in a cluster, the other side may be created later (the operator).
pub fn cross_tenant_conflicts(scores: &[&TenantScore]) -> Vec<CrossTenantProblem> {
    let mut problems = Vec::new();
    let mut names = BTreeMap::new();
    let mut namespaces = BTreeMap::new();
    // (kind, name) -> (tenant index, member index, shared) of its first member.
    let mut identities = BTreeMap::new();
    for (i, score) in scores.iter().enumerate() {
        let problem = |problem, other| CrossTenantProblem {
            tenant: i,
            problem,
            other,
        };
        if let Some(first) = names.insert(score.name(), i) {
            names.insert(score.name(), first);
            problems.push(problem(
                Problem::new(
                    "metadata.name",
                    format!(
                        "tenant `{}` is defined twice: each tenant id must appear once",
                        score.name()
                    ),
                ),
                Some((first, "metadata.name".to_string())),
            ));
            continue;
        }
        for (n, namespace) in score.namespaces().into_iter().enumerate() {
            let Some(&(other, m)) = namespaces.get(namespace) else {
                namespaces.insert(namespace, (i, n));
                continue;
            };
            if other == i {
                continue; // listed twice in one tenant: reported by its own validation
            }
            problems.push(problem(
                Problem::new(
                    namespace_path(score, n),
                    format!(
                        "namespace `{namespace}` is already used by tenant `{}`: each \
                         namespace belongs to one tenant; choose another name",
                        scores[other].name()
                    ),
                ),
                Some((other, namespace_path(scores[other], m))),
            ));
        }
        for (m, member) in score.rbac_config.members.iter().enumerate() {
            let (kind, name) = match member.identity() {
                Some(Identity::User(name)) => ("user", name),
                Some(Identity::Group(name)) => ("group", name),
                Some(Identity::OidcUser(name)) => ("oidc.user", name),
                Some(Identity::OidcGroup(name)) => ("oidc.group", name),
                _ => continue,
            };
            let Some(&(j, n, shared)) = identities.get(&(kind, name)) else {
                identities.insert((kind, name), (i, m, member.shared));
                continue;
            };
            if j == i || (shared && member.shared) {
                continue;
            }
            let other = scores[j].name();
            let other_path = format!("spec.rbac.members[{n}].{kind}");
            let missing = match (shared, member.shared) {
                (false, false) => "on both members".to_string(),
                (false, true) => format!("on tenant `{other}`'s member too"),
                _ => "on this member too".to_string(),
            };
            problems.push(problem(
                Problem::new(
                    format!("spec.rbac.members[{m}].{kind}"),
                    format!(
                        "{kind} `{name}` is already a member of tenant `{other}` \
                         ({other_path}): a {kind} belongs to one tenant; if sharing it is \
                         intended, set `shared: true` {missing}, else remove one"
                    ),
                ),
                Some((j, other_path)),
            ));
        }
    }
    problems.extend(crate::ingress::overlaps(scores));
    problems
}

/// Where the tenant's `n`th namespace is written.
fn namespace_path(score: &TenantScore, n: usize) -> String {
    if score.lists_namespaces() {
        format!("spec.namespaces[{n}].name")
    } else if score.tenant_config.namespace.is_some() {
        "spec.namespace".into()
    } else {
        "metadata.name".into()
    }
}

fn identity(score: &TenantScore, problems: &mut Vec<Problem>) {
    let name = score.name();
    if !is_dns_label(name, MAX_TENANT_NAME) {
        problems.push(Problem::new(
            "metadata.name",
            format!(
                "`{name}` is not a valid tenant id: use 1–{MAX_TENANT_NAME} lowercase letters, \
                 digits and `-`, starting and ending with a letter or digit (e.g. `acme`)"
            ),
        ));
    }
    let named = score.tenant_config.namespace.is_some() || score.lists_namespaces();
    for (n, namespace) in score.namespaces().into_iter().enumerate() {
        if named && !is_dns_label(namespace, 63) {
            problems.push(Problem::new(
                namespace_path(score, n),
                format!(
                    "`{namespace}` is not a valid namespace name: use 1–63 lowercase letters, \
                     digits and `-`, starting and ending with a letter or digit"
                ),
            ));
        }
        if let Some(why) = reserved_namespace(namespace) {
            problems.push(Problem::new(
                namespace_path(score, n),
                format!("namespace `{namespace}` is reserved ({why}): choose another namespace"),
            ));
        }
    }
    if score
        .tenant_config
        .display_name
        .as_deref()
        .is_some_and(|d| d.trim().is_empty())
    {
        problems.push(Problem::new(
            "spec.displayName",
            "is empty: give a name for people or leave the field out",
        ));
    }
}

/// Parses a quantity, reporting a problem when it is not one or is negative.
fn amount(path: &str, q: &Quantity, problems: &mut Vec<Problem>) -> Option<Amount> {
    match Amount::parse(&q.0) {
        Ok(a) if a.is_negative() => {
            problems.push(Problem::new(
                path,
                format!("`{}` is negative: quantities must be 0 or more", q.0),
            ));
            None
        }
        Ok(a) => Some(a),
        Err(e) => {
            problems.push(Problem::new(path, e.to_string()));
            None
        }
    }
}

fn compute_amounts(
    path: &str,
    c: &ComputeResources,
    problems: &mut Vec<Problem>,
) -> [Option<Amount>; 3] {
    let field = |name: &str, q: &Option<Quantity>, problems: &mut Vec<Problem>| {
        q.as_ref()
            .and_then(|q| amount(&format!("{path}.{name}"), q, problems))
    };
    [
        field("cpu", &c.cpu, problems),
        field("memory", &c.memory, problems),
        field("ephemeralStorage", &c.ephemeral_storage, problems),
    ]
}

fn container_amounts(
    path: &str,
    c: &ContainerResources,
    problems: &mut Vec<Problem>,
) -> [Option<Amount>; 3] {
    let field = |name: &str, q: &Option<Quantity>, problems: &mut Vec<Problem>| {
        q.as_ref()
            .and_then(|q| amount(&format!("{path}.{name}"), q, problems))
    };
    [
        field("cpu", &c.cpu, problems),
        field("memory", &c.memory, problems),
        field("ephemeralStorage", &c.ephemeral_storage, problems),
    ]
}

/// Reports `low` above `high` (each `(path, value)`, the value resolved to its default when unset).
fn not_above(low: (&str, Amount), high: (&str, Amount), problems: &mut Vec<Problem>) {
    if low.1 > high.1 {
        problems.push(Problem::new(
            low.0,
            format!(
                "{} is above {} ({}): lower it or raise {}",
                low.1, high.0, high.1, high.0
            ),
        ));
    }
}

/// The quota problems of `score`, reported under `base` (where its quota settings are written).
fn quotas(score: &TenantScore, base: &str, problems: &mut Vec<Problem>) {
    let config = &score.resource_quotas;
    let requests = compute_amounts(&format!("{base}.requests"), &config.requests, problems);
    let limits = compute_amounts(&format!("{base}.limits"), &config.limits, problems);
    let c = &config.container_defaults;
    let request = container_amounts(
        &format!("{base}.containerDefaults.request"),
        &c.request,
        problems,
    );
    let limit = container_amounts(
        &format!("{base}.containerDefaults.limit"),
        &c.limit,
        problems,
    );
    let max = container_amounts(&format!("{base}.containerDefaults.max"), &c.max, problems);

    let o = &config.objects;
    let counts = [
        ("pods", o.pods),
        ("services", o.services),
        ("secrets", o.secrets),
        ("configMaps", o.config_maps),
        ("persistentVolumeClaims", o.persistent_volume_claims),
        ("replicationControllers", o.replication_controllers),
        ("resourceQuotas", o.resource_quotas),
        ("nodePorts", o.node_ports),
        ("loadBalancers", o.load_balancers),
        ("deployments", o.deployments),
        ("statefulSets", o.stateful_sets),
        ("replicaSets", o.replica_sets),
        ("jobs", o.jobs),
        ("cronJobs", o.cron_jobs),
        ("ingresses", o.ingresses),
        ("podDisruptionBudgets", o.pod_disruption_budgets),
        ("serviceAccounts", o.service_accounts),
        ("roles", o.roles),
        ("roleBindings", o.role_bindings),
    ];
    for (name, count) in counts {
        if let Some(n) = count.filter(|n| *n < 0) {
            problems.push(Problem::new(
                format!("{base}.objects.{name}"),
                format!("`{n}` is negative: object counts must be 0 or more"),
            ));
        }
    }
    overridden_counts(score, base, problems);

    // Orderings, with unset values at their defaults; values that did not parse are skipped.
    let resolved = config.resolved();
    let effective = |given: Option<Amount>, set: bool, default: &Quantity| {
        if set {
            given
        } else {
            Amount::parse(&default.0).ok()
        }
    };
    let pairs = [
        (
            "cpu",
            0,
            &config.requests.cpu,
            &config.limits.cpu,
            &resolved.requests.cpu,
            &resolved.limits.cpu,
        ),
        (
            "memory",
            1,
            &config.requests.memory,
            &config.limits.memory,
            &resolved.requests.memory,
            &resolved.limits.memory,
        ),
        (
            "ephemeralStorage",
            2,
            &config.requests.ephemeral_storage,
            &config.limits.ephemeral_storage,
            &resolved.requests.ephemeral_storage,
            &resolved.limits.ephemeral_storage,
        ),
    ];
    for (name, i, req_set, lim_set, req_default, lim_default) in pairs {
        if let (Some(req), Some(lim)) = (
            effective(requests[i], req_set.is_some(), req_default),
            effective(limits[i], lim_set.is_some(), lim_default),
        ) {
            not_above(
                (&format!("{base}.requests.{name}"), req),
                (&format!("{base}.limits.{name}"), lim),
                problems,
            );
        }
    }
    let container = [
        (
            "cpu",
            0,
            &resolved.container_request.cpu,
            &resolved.container_limit.cpu,
            &resolved.container_max.cpu,
        ),
        (
            "memory",
            1,
            &resolved.container_request.memory,
            &resolved.container_limit.memory,
            &resolved.container_max.memory,
        ),
        (
            "ephemeralStorage",
            2,
            &resolved.container_request.ephemeral_storage,
            &resolved.container_limit.ephemeral_storage,
            &resolved.container_max.ephemeral_storage,
        ),
    ];
    let sets = [
        [
            c.request.cpu.is_some(),
            c.limit.cpu.is_some(),
            c.max.cpu.is_some(),
        ],
        [
            c.request.memory.is_some(),
            c.limit.memory.is_some(),
            c.max.memory.is_some(),
        ],
        [
            c.request.ephemeral_storage.is_some(),
            c.limit.ephemeral_storage.is_some(),
            c.max.ephemeral_storage.is_some(),
        ],
    ];
    for (name, i, req_default, lim_default, max_default) in container {
        let path = |which: &str| format!("{base}.containerDefaults.{which}.{name}");
        let req = effective(request[i], sets[i][0], req_default);
        let lim = effective(limit[i], sets[i][1], lim_default);
        let most = effective(max[i], sets[i][2], max_default);
        if let (Some(req), Some(lim)) = (req, lim) {
            not_above((&path("request"), req), (&path("limit"), lim), problems);
        }
        if let (Some(lim), Some(most)) = (lim, most) {
            not_above((&path("limit"), lim), (&path("max"), most), problems);
        }
        // One container's ephemeral storage must fit in the namespace's.
        if name == "ephemeralStorage" {
            let total = |i: usize, set: bool, default: &Quantity| {
                effective([requests, limits][i][2], set, default)
            };
            let total_requests = total(
                0,
                config.requests.ephemeral_storage.is_some(),
                &resolved.requests.ephemeral_storage,
            );
            let total_limits = total(
                1,
                config.limits.ephemeral_storage.is_some(),
                &resolved.limits.ephemeral_storage,
            );
            if let (Some(req), Some(total)) = (req, total_requests) {
                let quota = format!("{base}.requests.{name}");
                not_above((&path("request"), req), (&quota, total), problems);
            }
            if let (Some(most), Some(total)) = (most, total_limits) {
                let quota = format!("{base}.limits.{name}");
                not_above((&path("max"), most), (&quota, total), problems);
            }
        }
    }
}

/// Explicit object counts the compiler would not honour.
fn overridden_counts(score: &TenantScore, base: &str, problems: &mut Vec<Problem>) {
    let o = &score.resource_quotas.objects;
    if let Some(n) = o.persistent_volume_claims.filter(|n| *n > 0)
        && score.storage_access.storage_classes.is_empty()
    {
        problems.push(Problem::new(
            format!("{base}.objects.persistentVolumeClaims"),
            format!(
                "`{n}` PVCs, but no storage class is allowed, so the quota holds 0: allow a class \
                 in spec.storageAccess.storageClasses (e.g. `- {{ name: standard, requests: \
                 10Gi }}`) or remove the count"
            ),
        ));
    }
}

fn network(score: &TenantScore, facts: &ClusterFacts, problems: &mut Vec<Problem>) {
    let policy = &score.network_isolation;
    if let Some(sources) = &policy.allow_from {
        for (i, source) in sources.iter().enumerate() {
            if sources[..i].contains(source) {
                problems.push(Problem::new(
                    format!("spec.networkIsolation.allowFrom[{i}]"),
                    format!(
                        "`{}` is listed twice: list each source once",
                        source.as_str()
                    ),
                ));
            }
        }
    }
    for (i, cidr) in policy.allow_egress_to.iter().enumerate() {
        let path = format!("spec.networkIsolation.allowEgressTo[{i}]");
        let Some(net) = egress_cidr(&path, cidr, problems) else {
            continue;
        };
        let refused = non_public_overlapping(&net);
        if let Some(first) = refused.iter().find(|n| !n.is_documentation()) {
            problems.push(Problem::new(
                path,
                format!(
                    "`{cidr}` overlaps {}, {}, which is not internet: if the tenant must reach \
                     it, list it under `allowPrivateEgressTo` as `{{cidr: {cidr}, reason: ...}}`",
                    first.net, first.name
                ),
            ));
        } else {
            outside_cluster(&path, &net, facts, problems);
        }
    }
    for (i, entry) in policy.allow_private_egress_to.iter().enumerate() {
        let path = format!("spec.networkIsolation.allowPrivateEgressTo[{i}]");
        if entry.reason.trim().is_empty() {
            problems.push(Problem::new(
                format!("{path}.reason"),
                "is empty: say why the tenant must reach a non-public address, such as \
                 `corporate backup server`",
            ));
        }
        let cidr = &entry.cidr;
        let path = format!("{path}.cidr");
        let Some(net) = egress_cidr(&path, cidr, problems) else {
            continue;
        };
        if non_public_overlapping(&net).is_empty() {
            problems.push(Problem::new(
                path,
                format!("`{cidr}` is public: move it to `allowEgressTo`"),
            ));
        } else {
            outside_cluster(&path, &net, facts, problems);
        }
    }
}

/// Parses an egress CIDR at `path`; reports a problem and returns `None` when it is not a
/// canonical CIDR or is everywhere.
fn egress_cidr(path: &str, cidr: &str, problems: &mut Vec<Problem>) -> Option<IpNet> {
    let message = match cidr.parse::<IpNet>() {
        Err(_) => format!(
            "`{cidr}` is not a CIDR: write an address and a prefix length, such as \
             `203.0.113.0/24`"
        ),
        Ok(net) if net != net.trunc() => {
            format!(
                "`{cidr}` has host bits set: did you mean `{}`?",
                net.trunc()
            )
        }
        Ok(net) if net.prefix_len() == 0 => {
            format!("`{cidr}` is the whole internet: use `internetEgress: allow` instead")
        }
        Ok(net) => return Some(net),
    };
    problems.push(Problem::new(path, message));
    None
}

/// Reports `net` at `path` when it overlaps a cluster network.
fn outside_cluster(path: &str, net: &IpNet, facts: &ClusterFacts, problems: &mut Vec<Problem>) {
    let Some((kind, cluster)) = overlap(facts, net) else {
        return;
    };
    let hint = if kind == "node" {
        format!(
            " (if {cluster} is wider than your nodes, narrow `nodeNetworks` in the cluster profile)"
        )
    } else {
        String::new()
    };
    problems.push(Problem::new(
        path,
        format!(
            "`{net}` overlaps the cluster's {kind} network {cluster}: list only addresses \
             outside the cluster{hint}"
        ),
    ));
}

/// The first cluster network overlapping `net`, with its kind (`pod`, `service` or `node`).
fn overlap<'f>(facts: &'f ClusterFacts, net: &IpNet) -> Option<(&'static str, &'f IpNet)> {
    [
        ("pod", &facts.pod_networks),
        ("service", &facts.service_networks),
        ("node", &facts.node_networks),
    ]
    .into_iter()
    .flat_map(|(kind, nets)| nets.iter().map(move |n| (kind, n)))
    .find(|(_, n)| overlaps(n, net))
}

/// Refuses a list longer than `max`, at its first item beyond it.
fn bounded(path: &str, len: usize, max: usize, what: &str, problems: &mut Vec<Problem>) {
    if len > max {
        problems.push(Problem::new(
            format!("{path}[{max}]"),
            format!(
                "{len} {what} listed; a tenant lists at most {max}: split it into several tenants"
            ),
        ));
    }
}

fn storage(score: &TenantScore, problems: &mut Vec<Problem>) {
    let classes = &score.storage_access.storage_classes;
    bounded(
        "spec.storageAccess.storageClasses",
        classes.len(),
        MAX_STORAGE_CLASSES,
        "StorageClasses",
        problems,
    );
    for (i, class) in classes.iter().enumerate() {
        let path = format!("spec.storageAccess.storageClasses[{i}]");
        if !is_dns_subdomain(&class.name) {
            problems.push(Problem::new(
                format!("{path}.name"),
                format!(
                    "`{}` is not a valid StorageClass name: use lowercase letters, digits, `-` and `.`",
                    class.name
                ),
            ));
        } else if classes[..i].iter().any(|c| c.name == class.name) {
            problems.push(Problem::new(
                format!("{path}.name"),
                format!("`{}` is listed twice: list each class once", class.name),
            ));
        }
        amount(&format!("{path}.requests"), &class.requests, problems);
    }
}

fn members(score: &TenantScore, facts: &ClusterFacts, problems: &mut Vec<Problem>) {
    let members = &score.rbac_config.members;
    bounded(
        "spec.rbac.members",
        members.len(),
        MAX_MEMBERS,
        "members",
        problems,
    );
    for (i, member) in members.iter().enumerate() {
        let path = format!("spec.rbac.members[{i}]");
        if !is_dns_label(&member.name, 63) {
            problems.push(Problem::new(
                format!("{path}.name"),
                format!(
                    "`{}` is not a valid member id: use lowercase letters, digits and `-`, \
                     starting and ending with a letter or digit (e.g. `alice`)",
                    member.name
                ),
            ));
        } else if members[..i].iter().any(|m| m.name == member.name) {
            problems.push(Problem::new(
                format!("{path}.name"),
                format!(
                    "member `{}` is listed twice: member ids must be unique in a tenant",
                    member.name
                ),
            ));
        }
        match member.identity() {
            None => {
                let oidc = member.oidc.as_ref();
                let set: Vec<&str> = [
                    member.user.as_ref().map(|_| "user"),
                    member.group.as_ref().map(|_| "group"),
                    member.service_account.then_some("serviceAccount"),
                    oidc.and_then(|o| o.user.as_ref()).map(|_| "oidc.user"),
                    oidc.and_then(|o| o.group.as_ref()).map(|_| "oidc.group"),
                ]
                .into_iter()
                .flatten()
                .collect();
                let message = if set.is_empty() {
                    "has no identity: set exactly one of `user`, `group`, `serviceAccount: true`, \
                     `oidc.user` or `oidc.group`"
                        .to_string()
                } else {
                    format!(
                        "has {} identities ({}): set exactly one of `user`, `group`, \
                         `serviceAccount: true`, `oidc.user` or `oidc.group`",
                        set.len(),
                        set.join(", ")
                    )
                };
                problems.push(Problem::new(path, message));
            }
            Some(Identity::User(name)) | Some(Identity::Group(name)) if name.trim().is_empty() => {
                let field = if member.user.is_some() {
                    "user"
                } else {
                    "group"
                };
                problems.push(Problem::new(
                    format!("{path}.{field}"),
                    format!("is empty: give the {field} name the API server authenticates"),
                ));
            }
            Some(Identity::User(name)) => {
                if let Some(why) = user_problem(name) {
                    problems.push(Problem::new(format!("{path}.user"), why));
                }
            }
            Some(Identity::Group(name)) => {
                if let Some(why) = group_problem(name) {
                    problems.push(Problem::new(format!("{path}.group"), why));
                }
            }
            Some(Identity::OidcUser(name) | Identity::OidcGroup(name)) => {
                let field = if matches!(member.identity(), Some(Identity::OidcUser(_))) {
                    "oidc.user"
                } else {
                    "oidc.group"
                };
                if name.trim().is_empty() {
                    problems.push(Problem::new(
                        format!("{path}.{field}"),
                        "is empty: give the name the identity provider's claim gives",
                    ));
                } else if let Some(why) = malformed(name) {
                    problems.push(Problem::new(format!("{path}.{field}"), why));
                } else if field == "oidc.group" && role_group(name) {
                    problems.push(Problem::new(
                        format!("{path}.{field}"),
                        format!(
                            "`{name}` is a group harmony keeps for a tenant role (tenant-<tenant>-\
                             <role>s): list the people as `oidc.user` members instead, or use a \
                             group of your own"
                        ),
                    ));
                }
                if facts.oidc.is_none() {
                    problems.push(Problem::new(
                        format!("{path}.oidc"),
                        "is an identity provider member, but harmony was not given the \
                         IdentityProvider file that says how the API server names it: pass \
                         --idp FILE",
                    ));
                }
            }
            Some(Identity::ServiceAccount) if member.shared => {
                problems.push(Problem::new(
                    format!("{path}.shared"),
                    "applies to `user` and `group` members only: a ServiceAccount belongs to its \
                     tenant's namespace; remove `shared`",
                ));
            }
            Some(Identity::ServiceAccount) if member.name == "default" => {
                problems.push(Problem::new(
                    format!("{path}.name"),
                    "`default` is the namespace's default ServiceAccount, which Harmony keeps \
                     without a token: name the member's ServiceAccount otherwise",
                ));
            }
            Some(_) => {}
        }
    }
}

/// Whether `group` is named like a tenant role's group (`tenant-<tenant>-<role>s`).
fn role_group(group: &str) -> bool {
    group.strip_prefix("tenant-").is_some_and(|rest| {
        TenantRole::ALL.iter().any(|role| {
            rest.strip_suffix(&format!("-{}s", role.as_str()))
                .is_some_and(|tenant| !tenant.is_empty())
        })
    })
}

/// Why a name cannot be an identity at all (blank, padded, control characters), with the fix.
fn malformed(name: &str) -> Option<String> {
    if name.trim() != name {
        Some(format!(
            "`{name}` has leading or trailing whitespace: the API server compares names exactly; \
             write `{}`",
            name.trim()
        ))
    } else if name.chars().any(char::is_control) {
        Some(format!(
            "`{}` contains a control character: write the name as the API server authenticates it",
            name.escape_default()
        ))
    } else {
        None
    }
}

/// Why `user` cannot be a tenant member, with the fix; `None` when it can.
fn user_problem(user: &str) -> Option<String> {
    if let Some(why) = malformed(user) {
        return Some(why);
    }
    let fix = "use the person's user name as your identity provider authenticates it (e.g. \
               `alice@acme.com`), or `serviceAccount: true` for a workload";
    if let Some(account) = user.strip_prefix("system:serviceaccount:") {
        let (namespace, name) = account.split_once(':').unwrap_or((account, ""));
        return Some(format!(
            "`{user}` is ServiceAccount `{name}` of namespace `{namespace}`: a member may not be \
             a ServiceAccount of another namespace; use `serviceAccount: true` for one of the \
             tenant's own"
        ));
    }
    let what = match user {
        "system:anonymous" => {
            "the identity of unauthenticated requests (anyone who reaches the API)"
        }
        "kube:admin" => "OpenShift's bootstrap cluster admin",
        u if u.starts_with("system:node:") => "a node's kubelet",
        u if u.starts_with("system:") => {
            "reserved: `system:` names belong to Kubernetes and its components"
        }
        _ => return None,
    };
    Some(format!("`{user}` is {what}: {fix}"))
}

/// Why `group` cannot be a tenant member, with the fix; `None` when it can.
fn group_problem(group: &str) -> Option<String> {
    if let Some(why) = malformed(group) {
        return Some(why);
    }
    let what: String = match group {
        "system:authenticated" => {
            "every authenticated user of the cluster, other tenants included".into()
        }
        "system:unauthenticated" => {
            "every unauthenticated request (anyone who reaches the API)".into()
        }
        "system:masters" => "the cluster-admin group, which bypasses RBAC".into(),
        "system:nodes" => "the cluster's kubelets".into(),
        "system:serviceaccounts" => "every ServiceAccount of the cluster".into(),
        g => match g.strip_prefix("system:serviceaccounts:") {
            Some(namespace) => format!("every ServiceAccount of namespace `{namespace}`"),
            None if g.starts_with("system:") => {
                "reserved: `system:` groups belong to Kubernetes and its components".into()
            }
            None => return None,
        },
    };
    Some(format!(
        "`{group}` is {what}: name a group of your identity provider (e.g. `acme-devs`), or use \
         `serviceAccount: true` members for workloads"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::{Member, TenantRole};

    fn problems(score: &TenantScore) -> Vec<String> {
        score
            .validate(&ClusterFacts::kubernetes())
            .into_iter()
            .map(|p| format!("{}: {}", p.path, p.message))
            .collect()
    }

    fn one(score: TenantScore, path: &str, needle: &str) {
        let found = problems(&score);
        assert!(
            found.len() == 1 && found[0].starts_with(path) && found[0].contains(needle),
            "expected one problem at {path} containing {needle:?}, got {found:#?}"
        );
    }

    #[test]
    fn identity_provider_members_need_the_provider_one_name_and_not_a_role_group() {
        let oidc = ClusterFacts {
            oidc: Some(crate::OidcFacts {
                username_prefix: "oidc:".into(),
                groups_prefix: "oidc:".into(),
            }),
            ..ClusterFacts::kubernetes()
        };
        let shown = |score: &TenantScore, facts: &ClusterFacts| -> Vec<String> {
            score
                .validate(facts)
                .into_iter()
                .map(|p| format!("{}: {}", p.path, p.message))
                .collect()
        };
        let good = TenantScore::new("acme")
            .member(Member::oidc_user("alice", TenantRole::Developer, "alice"))
            .member(Member::oidc_group("ops", TenantRole::Admin, "acme-ops"));
        assert!(shown(&good, &oidc).is_empty());
        assert_eq!(
            shown(&good, &ClusterFacts::kubernetes()),
            [0, 1].map(|i| format!(
                "spec.rbac.members[{i}].oidc: is an identity provider member, but harmony was not \
                 given the IdentityProvider file that says how the API server names it: pass \
                 --idp FILE"
            ))
        );
        let mut both = Member::oidc_user("carol", TenantRole::Viewer, "carol");
        both.oidc.as_mut().unwrap().group = Some("x".into());
        let bad = TenantScore::new("acme")
            .member(both)
            .member(Member::oidc_user("dan", TenantRole::Viewer, " dan"))
            .member(Member::oidc_group(
                "other",
                TenantRole::Admin,
                "tenant-globex-admins",
            ))
            .member(Member::oidc_user("empty", TenantRole::Viewer, ""));
        assert_eq!(
            shown(&bad, &oidc),
            [
                "spec.rbac.members[0]: has 2 identities (oidc.user, oidc.group): set exactly one \
                 of `user`, `group`, `serviceAccount: true`, `oidc.user` or `oidc.group`",
                "spec.rbac.members[1].oidc.user: ` dan` has leading or trailing whitespace: the \
                 API server compares names exactly; write `dan`",
                "spec.rbac.members[2].oidc.group: `tenant-globex-admins` is a group harmony keeps \
                 for a tenant role (tenant-<tenant>-<role>s): list the people as `oidc.user` \
                 members instead, or use a group of your own",
                "spec.rbac.members[3].oidc.user: is empty: give the name the identity provider's \
                 claim gives",
            ]
        );
    }

    #[test]
    fn an_identity_provider_user_of_two_tenants_must_be_shared_on_both() {
        let acme = TenantScore::new("acme").member(Member::oidc_user(
            "alice",
            TenantRole::Developer,
            "alice",
        ));
        let globex = TenantScore::new("globex").member(Member::oidc_user(
            "alice",
            TenantRole::Viewer,
            "alice",
        ));
        let found = cross_tenant_problems(&[&acme, &globex]);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].problem.path, "spec.rbac.members[0].oidc.user");
        assert!(
            found[0]
                .problem
                .message
                .starts_with("oidc.user `alice` is already a member of tenant `acme`"),
            "{found:#?}"
        );
    }

    #[test]
    fn a_bare_tenant_and_a_full_one_are_valid() {
        assert!(problems(&TenantScore::new("acme")).is_empty());
        let full = TenantScore::new("acme")
            .display_name("ACME Corp")
            .in_namespace("acme-prod")
            .requests("4", "8Gi")
            .limits("8", "16Gi")
            .allow_egress_to("203.0.113.0/24")
            .storage_class("standard", "100Gi")
            .member(Member::user("alice", TenantRole::Admin, "alice@acme.com"))
            .member(Member::group("devs", TenantRole::Developer, "acme-devs"))
            .member(Member::service_account("ci", TenantRole::Developer));
        assert!(problems(&full).is_empty(), "{:#?}", problems(&full));
    }

    #[test]
    fn bad_names_are_refused() {
        one(
            TenantScore::new("Acme"),
            "metadata.name",
            "`Acme` is not a valid tenant id",
        );
        one(TenantScore::new("a".repeat(41)), "metadata.name", "1–40");
        one(
            TenantScore::new("acme").in_namespace("acme_prod"),
            "spec.namespace",
            "not a valid namespace",
        );
        one(
            TenantScore::new("acme").display_name(" "),
            "spec.displayName",
            "empty",
        );
    }

    #[test]
    fn reserved_namespaces_are_refused() {
        one(TenantScore::new("default"), "metadata.name", "reserved");
        one(
            TenantScore::new("acme").in_namespace("kube-system"),
            "spec.namespace",
            "reserved",
        );
        one(
            TenantScore::new("acme").in_namespace("openshift-monitoring"),
            "spec.namespace",
            "reserved",
        );
    }

    #[test]
    fn bad_quantities_and_negative_counts_are_refused() {
        let mut s = TenantScore::new("acme");
        s.resource_quotas.requests.cpu = Some(Quantity("four".into()));
        one(s, "spec.resourceQuotas.requests.cpu", "`four` is");
        let mut s = TenantScore::new("acme");
        s.resource_quotas.container_defaults.max.memory = Some(Quantity("-1Gi".into()));
        assert!(
            problems(&s)
                .iter()
                .any(|p| p.contains("containerDefaults.max.memory: `-1Gi` is negative"))
        );
        one(
            TenantScore::new("acme").max_pods(-1),
            "spec.resourceQuotas.objects.pods",
            "`-1` is negative",
        );
        one(
            TenantScore::new("acme").storage_class("standard", "lots"),
            "spec.storageAccess.storageClasses[0].requests",
            "`lots`",
        );
    }

    #[test]
    fn requests_above_limits_are_refused_including_defaults() {
        one(
            TenantScore::new("acme")
                .requests("8", "1Gi")
                .limits("4", "1Gi"),
            "spec.resourceQuotas.requests.cpu",
            "above spec.resourceQuotas.limits.cpu (4)",
        );
        // limits.cpu defaults to 4: a request of 6 is above it.
        let mut s = TenantScore::new("acme");
        s.resource_quotas.requests.cpu = Some(Quantity("6".into()));
        one(s, "spec.resourceQuotas.requests.cpu", "above");
        let mut s = TenantScore::new("acme");
        s.resource_quotas.container_defaults.limit.cpu = Some(Quantity("3".into()));
        one(
            s,
            "spec.resourceQuotas.containerDefaults.limit.cpu",
            "above spec.resourceQuotas.containerDefaults.max.cpu",
        );
    }

    #[test]
    fn bad_cidrs_are_refused() {
        one(
            TenantScore::new("acme").allow_egress_to("203.0.113.0"),
            "spec.networkIsolation.allowEgressTo[0]",
            "not a CIDR",
        );
        one(
            TenantScore::new("acme").allow_egress_to("203.0.113.7/24"),
            "spec.networkIsolation.allowEgressTo[0]",
            "did you mean `203.0.113.0/24`",
        );
        one(
            TenantScore::new("acme").allow_egress_to("0.0.0.0/0"),
            "spec.networkIsolation.allowEgressTo[0]",
            "internetEgress",
        );
        one(
            TenantScore::new("acme").allow_private_egress_to("10.244.3.0/24", "backups"),
            "spec.networkIsolation.allowPrivateEgressTo[0].cidr",
            "`10.244.3.0/24` overlaps the cluster's pod network 10.244.0.0/16: list only \
             addresses outside the cluster",
        );
        one(
            TenantScore::new("acme").allow_private_egress_to("192.168.7.0/24", "backups"),
            "spec.networkIsolation.allowPrivateEgressTo[0].cidr",
            "overlaps the cluster's node network 192.168.0.0/16: list only addresses outside \
             the cluster (if 192.168.0.0/16 is wider than your nodes, narrow `nodeNetworks`",
        );
        use crate::score::PlatformSource::Ingress;
        one(
            TenantScore::new("acme").allow_from([Ingress, Ingress]),
            "spec.networkIsolation.allowFrom[1]",
            "twice",
        );
    }

    /// Facts whose node network is narrow, so that private space outside it may be opted in.
    fn narrow() -> ClusterFacts {
        ClusterFacts {
            node_networks: vec!["192.168.10.0/24".parse().unwrap()],
            ..ClusterFacts::kubernetes()
        }
    }

    fn problems_on(score: &TenantScore, facts: &ClusterFacts) -> Vec<String> {
        score
            .validate(facts)
            .into_iter()
            .map(|p| format!("{}: {}", p.path, p.message))
            .collect()
    }

    #[test]
    fn non_public_egress_is_refused_whatever_the_node_networks() {
        let cases = [
            ("10.20.0.0/24", "10.0.0.0/8, private (RFC 1918)"),
            ("172.31.0.0/16", "172.16.0.0/12, private (RFC 1918)"),
            (
                "100.64.0.0/16",
                "100.64.0.0/10, shared address space, CGNAT (RFC 6598)",
            ),
            ("127.0.0.1/32", "127.0.0.0/8, loopback (RFC 1122)"),
            (
                "169.254.169.254/32",
                "169.254.0.0/16, link-local, cloud metadata 169.254.169.254 (RFC 3927)",
            ),
            ("224.0.0.0/24", "224.0.0.0/4, multicast (RFC 5771)"),
            (
                "255.255.255.255/32",
                "240.0.0.0/4, reserved, limited broadcast (RFC 1112, RFC 919)",
            ),
            (
                "192.0.0.0/8",
                "192.0.0.0/24, IETF protocol assignments (RFC 6890)",
            ),
            (
                "fd00:ec2::254/128",
                "fc00::/7, unique local, cloud metadata fd00:ec2::254 (RFC 4193)",
            ),
            ("fe80::/64", "fe80::/10, link-local (RFC 4291)"),
            (
                "::ffff:0:0/96",
                "::ffff:0.0.0.0/96, IPv4-mapped, write IPv4 addresses as IPv4 (RFC 4291)",
            ),
        ];
        for facts in [ClusterFacts::kubernetes(), narrow()] {
            for (cidr, overlapped) in cases {
                let found = problems_on(&TenantScore::new("acme").allow_egress_to(cidr), &facts);
                assert_eq!(
                    found,
                    [format!(
                        "spec.networkIsolation.allowEgressTo[0]: `{cidr}` overlaps {overlapped}, \
                         which is not internet: if the tenant must reach it, list it under \
                         `allowPrivateEgressTo` as `{{cidr: {cidr}, reason: ...}}`"
                    )],
                    "{:?}",
                    facts.node_networks
                );
            }
        }
    }

    #[test]
    fn documentation_blocks_route_nowhere_and_may_be_named() {
        for cidr in [
            "203.0.113.0/24",
            "198.51.100.0/24",
            "2001:db8::/32",
            "3fff::/24",
        ] {
            assert_eq!(
                problems(&TenantScore::new("acme").allow_egress_to(cidr)),
                Vec::<String>::new()
            );
        }
        one(
            TenantScore::new("acme").allow_egress_to("198.0.0.0/8"),
            "spec.networkIsolation.allowEgressTo[0]",
            "`198.0.0.0/8` overlaps 198.18.0.0/15, benchmarking (RFC 2544), which is not internet",
        );
    }

    #[test]
    fn private_egress_opts_in_by_name_with_a_reason() {
        let backup = TenantScore::new("acme")
            .allow_egress_to("198.41.0.0/24")
            .allow_private_egress_to("10.20.0.0/24", "corporate backup server")
            .allow_private_egress_to("fd12:3456::/48", "on-premises registry");
        assert_eq!(problems_on(&backup, &narrow()), Vec::<String>::new());
        // With unknown node networks, every private range may hold nodes.
        let found = problems_on(&backup, &ClusterFacts::kubernetes());
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].starts_with(
            "spec.networkIsolation.allowPrivateEgressTo[0].cidr: `10.20.0.0/24` overlaps the \
             cluster's node network 10.0.0.0/8"
        ));
    }

    #[test]
    fn bad_private_egress_is_refused() {
        let refused = |cidr: &str, reason: &str| {
            problems_on(
                &TenantScore::new("acme").allow_private_egress_to(cidr, reason),
                &narrow(),
            )
        };
        let path = "spec.networkIsolation.allowPrivateEgressTo[0]";
        assert_eq!(
            refused("10.20.0.0/24", " "),
            [format!(
                "{path}.reason: is empty: say why the tenant must reach a non-public address, \
                 such as `corporate backup server`"
            )]
        );
        assert_eq!(
            refused("198.41.0.0/24", "root server"),
            [format!(
                "{path}.cidr: `198.41.0.0/24` is public: move it to `allowEgressTo`"
            )]
        );
        assert_eq!(
            refused("10.20.0.1/24", "backups"),
            [format!(
                "{path}.cidr: `10.20.0.1/24` has host bits set: did you mean `10.20.0.0/24`?"
            )]
        );
        assert_eq!(
            refused("10.20.0.0", "backups"),
            [format!(
                "{path}.cidr: `10.20.0.0` is not a CIDR: write an address and a prefix length, \
                 such as `203.0.113.0/24`"
            )]
        );
        assert_eq!(
            refused("::/0", "everything"),
            [format!(
                "{path}.cidr: `::/0` is the whole internet: use `internetEgress: allow` instead"
            )]
        );
        assert_eq!(
            refused("10.96.0.0/16", "the API server"),
            [format!(
                "{path}.cidr: `10.96.0.0/16` overlaps the cluster's service network \
                 10.96.0.0/12: list only addresses outside the cluster"
            )]
        );
    }

    #[test]
    fn too_many_members_or_storage_classes_are_refused() {
        let mut many = TenantScore::new("acme");
        for i in 0..=MAX_MEMBERS {
            many = many.member(Member::user(
                format!("m{i}"),
                TenantRole::Viewer,
                format!("u{i}"),
            ));
        }
        // The role binding quota is refused too; the bound is what matters here.
        assert!(
            problems(&many).iter().any(|p| p
                == "spec.rbac.members[1000]: 1001 members listed; a tenant lists at most 1000: \
                    split it into several tenants"),
            "{:#?}",
            problems(&many)
        );
        let mut classes = TenantScore::new("acme");
        for i in 0..=MAX_STORAGE_CLASSES {
            classes = classes.storage_class(format!("c{i}"), "1Gi");
        }
        one(
            classes,
            "spec.storageAccess.storageClasses[100]",
            "101 StorageClasses listed; a tenant lists at most 100",
        );
        let mut at_bound = TenantScore::new("acme");
        for i in 0..MAX_STORAGE_CLASSES {
            at_bound = at_bound.storage_class(format!("c{i}"), "1Gi");
        }
        assert!(problems(&at_bound).is_empty());
    }

    #[test]
    fn bad_members_are_refused() {
        one(
            TenantScore::new("acme").member(Member::user("Alice", TenantRole::Admin, "a")),
            "spec.rbac.members[0].name",
            "not a valid member id",
        );
        let twice = TenantScore::new("acme")
            .member(Member::user("alice", TenantRole::Admin, "a"))
            .member(Member::group("alice", TenantRole::Viewer, "g"));
        one(twice, "spec.rbac.members[1].name", "listed twice");
        let mut none = Member::user("bob", TenantRole::Viewer, "b");
        none.user = None;
        one(
            TenantScore::new("acme").member(none),
            "spec.rbac.members[0]",
            "has no identity",
        );
        let mut two = Member::user("bob", TenantRole::Viewer, "b");
        two.service_account = true;
        one(
            TenantScore::new("acme").member(two),
            "spec.rbac.members[0]",
            "2 identities (user, serviceAccount)",
        );
        one(
            TenantScore::new("acme").member(Member::user("bob", TenantRole::Viewer, "")),
            "spec.rbac.members[0].user",
            "empty",
        );
        one(
            TenantScore::new("acme").member(Member::service_account("default", TenantRole::Viewer)),
            "spec.rbac.members[0].name",
            "default",
        );
        one(
            TenantScore::new("acme").storage_class("Fast", "1Gi"),
            "spec.storageAccess.storageClasses[0].name",
            "not a valid StorageClass",
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let s = TenantScore::new("Acme")
            .max_pods(-2)
            .allow_egress_to("nope");
        assert_eq!(problems(&s).len(), 3, "{:#?}", problems(&s));
    }

    #[test]
    fn duplicate_tenants_and_namespaces_are_refused() {
        let a = TenantScore::new("acme");
        let b = TenantScore::new("globex").in_namespace("acme");
        let c = TenantScore::new("acme");
        let found = cross_tenant_problems(&[&a, &b, &c]);
        assert_eq!(found.len(), 2, "{found:#?}");
        assert_eq!(found[0].tenant, 1);
        assert!(
            found[0]
                .problem
                .message
                .contains("already used by tenant `acme`")
        );
        assert_eq!(found[0].other, Some((0, "metadata.name".into())));
        assert_eq!(found[1].tenant, 2);
        assert!(found[1].problem.message.contains("defined twice"));
    }

    #[test]
    fn a_namespace_of_two_tenants_is_refused_at_both_entries() {
        use crate::score::TenantNamespace;
        let acme = TenantScore::new("acme").with_namespaces([
            TenantNamespace::new("acme-dev"),
            TenantNamespace::new("shared"),
        ]);
        let globex = TenantScore::new("globex").with_namespaces([
            TenantNamespace::new("globex-dev"),
            TenantNamespace::new("shared"),
        ]);
        let initech = TenantScore::new("initech").in_namespace("acme-dev");
        let found = cross_tenant_problems(&[&acme, &globex, &initech]);
        assert_eq!(found.len(), 2, "{found:#?}");
        assert_eq!(found[0].tenant, 1);
        assert_eq!(found[0].problem.path, "spec.namespaces[1].name");
        assert!(
            found[0].problem.message.contains(
                "namespace `shared` is already used by tenant `acme`: each namespace belongs to \
                 one tenant; choose another name"
            ),
            "{found:#?}"
        );
        assert_eq!(found[0].other, Some((0, "spec.namespaces[1].name".into())));
        assert_eq!(found[1].problem.path, "spec.namespace");
        assert_eq!(found[1].other, Some((0, "spec.namespaces[0].name".into())));
    }

    #[test]
    fn every_listed_namespace_is_checked_and_its_quota_override_too() {
        use crate::score::TenantNamespace;
        let mut bad = crate::score::ResourceQuotaConfig::default();
        bad.requests.cpu = Some(Quantity("lots".into()));
        let score = TenantScore::new("acme").with_namespaces([
            TenantNamespace::new("acme-dev").quotas(bad),
            TenantNamespace::new("Acme_Prod"),
            TenantNamespace::new("kube-system"),
        ]);
        let found = score.validate(&ClusterFacts::okd());
        let paths: Vec<&str> = found.iter().map(|p| p.path.as_str()).collect();
        assert!(
            paths.contains(&"spec.namespaces[0].resourceQuotas.requests.cpu"),
            "{found:#?}"
        );
        assert!(paths.contains(&"spec.namespaces[1].name"), "{found:#?}");
        assert!(paths.contains(&"spec.namespaces[2].name"), "{found:#?}");
        assert!(
            !paths.iter().any(|p| p.starts_with("spec.resourceQuotas")),
            "{found:#?}"
        );
    }

    #[test]
    fn reserved_users_are_refused() {
        for (user, needle) in [
            ("system:admin", "reserved: `system:` names"),
            ("system:kube-controller-manager", "reserved"),
            ("system:anonymous", "unauthenticated requests"),
            ("system:node:worker-1", "a node's kubelet"),
            ("kube:admin", "bootstrap cluster admin"),
            (
                "system:serviceaccount:kube-system:replicaset-controller",
                "ServiceAccount `replicaset-controller` of namespace `kube-system`",
            ),
            (
                "system:serviceaccount:globex:ci",
                "use `serviceAccount: true`",
            ),
            (
                " alice",
                "leading or trailing whitespace: the API server compares names exactly; write `alice`",
            ),
            ("alice\n", "whitespace"),
            ("al\u{7}ice", "control character"),
        ] {
            one(
                TenantScore::new("acme").member(Member::user("x", TenantRole::Viewer, user)),
                "spec.rbac.members[0].user",
                needle,
            );
        }
        assert!(
            user_problem("system:admin")
                .unwrap()
                .contains("alice@acme.com"),
            "the fix is named"
        );
        one(
            TenantScore::new("acme").member(Member::user("x", TenantRole::Viewer, "  ")),
            "spec.rbac.members[0].user",
            "empty",
        );
    }

    #[test]
    fn reserved_groups_are_refused() {
        for (group, needle) in [
            ("system:masters", "bypasses RBAC"),
            ("system:nodes", "kubelets"),
            ("system:authenticated", "every authenticated user"),
            ("system:unauthenticated", "every unauthenticated request"),
            (
                "system:serviceaccounts",
                "every ServiceAccount of the cluster",
            ),
            (
                "system:serviceaccounts:globex",
                "every ServiceAccount of namespace `globex`",
            ),
            ("system:monitoring", "reserved: `system:` groups"),
            ("devs ", "whitespace"),
        ] {
            one(
                TenantScore::new("acme").member(Member::group("x", TenantRole::Viewer, group)),
                "spec.rbac.members[0].group",
                needle,
            );
        }
        assert!(
            group_problem("system:masters")
                .unwrap()
                .contains("acme-devs")
        );
        assert_eq!(group_problem("acme-devs"), None);
        assert_eq!(user_problem("oidc:alice@acme.com"), None);
    }

    #[test]
    fn shared_applies_to_users_and_groups_only() {
        one(
            TenantScore::new("acme")
                .member(Member::service_account("ci", TenantRole::Viewer).shared()),
            "spec.rbac.members[0].shared",
            "remove `shared`",
        );
        let fine = TenantScore::new("acme")
            .member(Member::user("a", TenantRole::Viewer, "ops@example.com").shared());
        assert!(problems(&fine).is_empty());
    }

    #[test]
    fn pvcs_without_a_storage_class_are_refused() {
        let mut s = TenantScore::new("acme");
        s.resource_quotas.objects.persistent_volume_claims = Some(4);
        one(
            s.clone(),
            "spec.resourceQuotas.objects.persistentVolumeClaims",
            "`4` PVCs, but no storage class is allowed, so the quota holds 0: allow a class",
        );
        s.resource_quotas.objects.persistent_volume_claims = Some(0);
        assert!(problems(&s).is_empty(), "0 is what the compiler sets");
        let s = s.storage_class("standard", "10Gi");
        let mut s = s;
        s.resource_quotas.objects.persistent_volume_claims = Some(4);
        assert!(problems(&s).is_empty(), "{:#?}", problems(&s));
    }

    #[test]
    fn a_user_or_group_in_two_tenants_must_be_shared_by_both() {
        let acme = |shared: bool| {
            let m = Member::user("ops", TenantRole::Viewer, "ops@example.com");
            TenantScore::new("acme")
                .member(Member::group("devs", TenantRole::Viewer, "devs"))
                .member(if shared { m.shared() } else { m })
        };
        let globex = |shared: bool| {
            let m = Member::user("oncall", TenantRole::Admin, "ops@example.com");
            TenantScore::new("globex").member(if shared { m.shared() } else { m })
        };
        for (a, g, needle) in [
            (false, false, "set `shared: true` on both members"),
            (true, false, "set `shared: true` on this member too"),
            (
                false,
                true,
                "set `shared: true` on tenant `acme`'s member too",
            ),
        ] {
            let found = cross_tenant_problems(&[&acme(a), &globex(g)]);
            assert_eq!(found.len(), 1, "{found:#?}");
            let p = &found[0];
            assert_eq!(
                (p.tenant, p.problem.path.as_str()),
                (1, "spec.rbac.members[0].user")
            );
            assert_eq!(p.other, Some((0, "spec.rbac.members[1].user".into())));
            assert!(
                p.problem.message.starts_with(
                    "user `ops@example.com` is already a member of tenant `acme` \
                     (spec.rbac.members[1].user): a user belongs to one tenant"
                ) && p.problem.message.contains(needle),
                "{}",
                p.problem.message
            );
        }
        assert!(cross_tenant_problems(&[&acme(true), &globex(true)]).is_empty());

        // A group too; the same name as a user is another identity.
        let other = TenantScore::new("globex")
            .member(Member::group("devs", TenantRole::Viewer, "devs"))
            .member(Member::group("ops", TenantRole::Viewer, "ops@example.com"));
        let found = cross_tenant_problems(&[&acme(false), &other]);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].problem.path, "spec.rbac.members[0].group");
        assert!(found[0].problem.message.starts_with("group `devs`"));
    }
}
