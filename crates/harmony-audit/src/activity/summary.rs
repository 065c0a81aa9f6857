//! The [`Analyzer`]: attributes each final audit event to tenants and members and folds it into
//! per-tenant summaries; [`ActivityReport`] is what it found.

use std::borrow::Cow;
use std::collections::HashMap;

use harmony_tenant::{Identity, OidcFacts, TenantScore};
use jiff::Timestamp;
use serde::Serialize;

use super::event::{Event, describe};
use super::read::{LineProblem, LogFile};

/// A tenant named that the tenant files do not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("tenant `{name}` is not in the tenant files (they hold: {known})")]
pub struct UnknownTenant {
    /// The name asked for.
    pub name: String,
    /// The tenants the files hold, comma-separated.
    pub known: String,
}

/// What the logs held and what was counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    /// Non-empty lines read.
    pub lines: u64,
    /// Lines skipped as malformed (reported with their file and line).
    pub malformed: u64,
    /// Events of an earlier stage (`RequestReceived`, `ResponseStarted`): the same requests as
    /// their final events, not counted again.
    pub earlier_stages: u64,
    /// Requests received before `since`.
    pub before_since: u64,
    /// Requests in the window (final stage): every user's.
    pub requests: u64,
    /// Requests attributed to the tenants reported (a request of a user several tenants share,
    /// outside their namespaces, counts once for each of them).
    pub attributed: u64,
}

/// The activity of the tenants asked about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityReport {
    /// Requests received before this time were not counted (RFC 3339, UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// The audit log files read, in order.
    pub files: Vec<String>,
    /// What the logs held.
    pub counts: Counts,
    /// One entry per tenant, in name order.
    pub tenants: Vec<TenantActivity>,
}

/// One tenant's activity: what needs attention first, then who did what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantActivity {
    /// The tenant id.
    pub tenant: String,
    /// Its namespace.
    pub namespace: String,
    /// Requests by its members and ServiceAccounts.
    pub requests: u64,
    /// Of those, refused with 403.
    pub refused: u64,
    /// Of those, on another tenant's namespace.
    pub cross_tenant: u64,
    /// Refused requests and requests on other tenants' namespaces, cross-tenant ones first.
    pub attention: Vec<Attention>,
    /// Who did what, by user name.
    pub actors: Vec<Actor>,
}

/// Requests that were refused or went to another tenant's namespace, alike but for their
/// object names and times, counted together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attention {
    /// On another tenant's namespace.
    pub cross_tenant: bool,
    /// Refused (403).
    pub refused: bool,
    /// The user name the requests acted as.
    pub user: String,
    /// The tenant members that user is (member ids).
    pub members: Vec<String>,
    /// The verb.
    pub verb: String,
    /// `resource[.group][/subresource]`, or the path of a non-resource request.
    pub resource: String,
    /// The namespace, if the request named one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The tenant owning that namespace, when another one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The response code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
    /// The response's reason, such as `Forbidden`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// How many such requests.
    pub count: u64,
    /// When the first was received.
    pub first: String,
    /// When the last was received.
    pub last: String,
}

/// One user's requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    /// The user name the requests acted as.
    pub user: String,
    /// The tenant members that user is (member ids; none for a ServiceAccount of the namespace
    /// that is no member).
    pub members: Vec<String>,
    /// Users who impersonated it, if any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub impersonated_by: Vec<String>,
    /// Requests.
    pub requests: u64,
    /// Of those, refused with 403.
    pub refused: u64,
    /// Of those, on another tenant's namespace.
    pub cross_tenant: u64,
    /// When the first was received.
    pub first: String,
    /// When the last was received.
    pub last: String,
    /// Verbs x resources (x namespace), most frequent first.
    pub actions: Vec<Action>,
}

/// How often a user did one verb on one resource in one namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Action {
    /// The verb.
    pub verb: String,
    /// `resource[.group][/subresource]`, or the path of a non-resource request.
    pub resource: String,
    /// The namespace, if the requests named one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Requests.
    pub count: u64,
    /// Of those, refused with 403.
    pub refused: u64,
}

/// Prefix of a ServiceAccount's user name.
const SERVICE_ACCOUNT_PREFIX: &str = "system:serviceaccount:";

/// Who is who, from the tenant files: indices into `tenants` and each tenant's `members`.
struct Directory {
    /// Tenant id and namespace, in name order.
    tenants: Vec<(String, String)>,
    /// Member ids per tenant.
    members: Vec<Vec<String>>,
    /// User names (members' `user`, and `serviceAccount: true` members' ServiceAccounts) and
    /// the (tenant, member) they are.
    users: HashMap<String, Vec<(usize, usize)>>,
    /// Group names and the (tenant, member) they are.
    groups: HashMap<String, Vec<(usize, usize)>>,
    /// The role groups identity provider users are bound through
    /// (`tenant-<tenant>-<role>s`, prefixed as the API server names them) and their tenant:
    /// shared by the role's users, so they name no member.
    role_groups: HashMap<String, Vec<usize>>,
    /// Tenant namespaces and their tenant.
    namespaces: HashMap<String, usize>,
}

impl Directory {
    /// Who is who in `scores`; `oidc` names identity provider members as the API server does
    /// (without it, such members are not attributed: the tenant files are validated against it).
    fn new(scores: &[TenantScore], oidc: Option<&OidcFacts>) -> Self {
        let mut sorted: Vec<&TenantScore> = scores.iter().collect();
        sorted.sort_by(|a, b| a.name().cmp(b.name()));
        let mut directory = Self {
            tenants: Vec::new(),
            members: Vec::new(),
            users: HashMap::new(),
            groups: HashMap::new(),
            role_groups: HashMap::new(),
            namespaces: HashMap::new(),
        };
        for (t, score) in sorted.into_iter().enumerate() {
            let namespace = score.namespace().to_string();
            let mut members = Vec::new();
            for (m, member) in score.rbac_config.members.iter().enumerate() {
                members.push(member.name.clone());
                let (map, name) = match member.identity() {
                    Some(Identity::User(user)) => (&mut directory.users, user.to_string()),
                    Some(Identity::Group(group)) => (&mut directory.groups, group.to_string()),
                    Some(Identity::ServiceAccount) => (
                        &mut directory.users,
                        format!("{SERVICE_ACCOUNT_PREFIX}{namespace}:{}", member.name),
                    ),
                    Some(Identity::OidcUser(user)) => {
                        let Some(oidc) = oidc else { continue };
                        if let Some(group) = oidc.bound_group(score.name(), member) {
                            let tenants = directory.role_groups.entry(group).or_default();
                            if !tenants.contains(&t) {
                                tenants.push(t);
                            }
                        }
                        (&mut directory.users, oidc.user(user))
                    }
                    Some(Identity::OidcGroup(_)) => {
                        match oidc.and_then(|oidc| oidc.bound_group(score.name(), member)) {
                            Some(group) => (&mut directory.groups, group),
                            None => continue,
                        }
                    }
                    None => continue,
                };
                map.entry(name).or_default().push((t, m));
            }
            directory.namespaces.insert(namespace.clone(), t);
            directory
                .tenants
                .push((score.name().to_string(), namespace));
            directory.members.push(members);
        }
        directory
    }

    /// The (tenant, member) pairs `user` with `groups` is; a ServiceAccount of a tenant
    /// namespace that is no member is that tenant's with no member.
    fn candidates<'g>(
        &self,
        user: &str,
        groups: impl Iterator<Item = &'g str>,
        out: &mut Vec<(usize, Option<usize>)>,
    ) {
        out.clear();
        for &(t, m) in self.users.get(user).into_iter().flatten() {
            out.push((t, Some(m)));
        }
        if out.is_empty()
            && let Some((namespace, _)) = user
                .strip_prefix(SERVICE_ACCOUNT_PREFIX)
                .and_then(|rest| rest.split_once(':'))
            && let Some(&t) = self.namespaces.get(namespace)
        {
            out.push((t, None));
        }
        for group in groups {
            for &(t, m) in self.groups.get(group).into_iter().flatten() {
                if !out.contains(&(t, Some(m))) {
                    out.push((t, Some(m)));
                }
            }
            for &t in self.role_groups.get(group).into_iter().flatten() {
                if !out.contains(&(t, None)) {
                    out.push((t, None));
                }
            }
        }
    }
}

/// Reads audit events and folds them into per-tenant summaries, in memory bounded by the
/// distinct users, verbs, resources and namespaces seen (not by the events).
pub struct Analyzer {
    directory: Directory,
    /// The tenant asked about, or every tenant.
    selected: Option<usize>,
    /// `since`, as the log writes times (microseconds, UTC), compared as text.
    cutoff: Option<String>,
    files: Vec<String>,
    counts: Counts,
    tenants: Vec<TenantSummary>,
    /// Reused buffers: no allocation per event.
    candidates: Vec<(usize, Option<usize>)>,
    resource: String,
    key: String,
}

#[derive(Default)]
struct TenantSummary {
    requests: u64,
    refused: u64,
    cross_tenant: u64,
    actors: HashMap<Box<str>, ActorSummary>,
    attention: HashMap<Box<str>, AttentionSummary>,
}

#[derive(Default)]
struct ActorSummary {
    members: Vec<usize>,
    impersonators: Vec<Box<str>>,
    requests: u64,
    refused: u64,
    cross_tenant: u64,
    window: Window,
    actions: HashMap<Box<str>, ActionSummary>,
}

struct ActionSummary {
    verb: Box<str>,
    resource: Box<str>,
    namespace: Option<Box<str>>,
    count: u64,
    refused: u64,
}

struct AttentionSummary {
    cross_tenant: bool,
    refused: bool,
    user: Box<str>,
    verb: Box<str>,
    resource: Box<str>,
    namespace: Option<Box<str>>,
    owner: Option<usize>,
    code: Option<u16>,
    reason: Option<Box<str>>,
    count: u64,
    window: Window,
}

/// First and last times, kept in buffers that are rewritten, not reallocated.
#[derive(Default)]
struct Window {
    first: String,
    last: String,
}

impl Window {
    fn add(&mut self, time: &str) {
        if self.first.is_empty() || time < self.first.as_str() {
            self.first.clear();
            self.first.push_str(time);
        }
        if time > self.last.as_str() {
            self.last.clear();
            self.last.push_str(time);
        }
    }
}

/// The shape of the times kube-apiserver writes: `2026-12-03T12:00:00.123456Z`.
fn is_canonical(time: &str) -> bool {
    let b = time.as_bytes();
    b.len() == 27 && b[10] == b'T' && b[19] == b'.' && b[26] == b'Z'
}

/// `time` in the shape kube-apiserver writes, so that times compare as text.
fn canonical(time: Timestamp) -> String {
    time.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

impl Analyzer {
    /// An analyzer for `tenant` (or every tenant) of `scores`, counting requests received at
    /// or after `since`. `oidc` (`ClusterFacts::oidc`, from the IdentityProvider file) names
    /// identity provider members as the API server records them: an `oidc.user` as its
    /// prefixed user name or through its role's group, an `oidc.group` as its prefixed group.
    pub fn new(
        scores: &[TenantScore],
        oidc: Option<&OidcFacts>,
        tenant: Option<&str>,
        since: Option<Timestamp>,
    ) -> Result<Self, UnknownTenant> {
        let directory = Directory::new(scores, oidc);
        let selected = match tenant {
            None => None,
            Some(name) => Some(
                directory
                    .tenants
                    .iter()
                    .position(|(t, _)| t == name)
                    .ok_or_else(|| UnknownTenant {
                        name: name.to_string(),
                        known: directory
                            .tenants
                            .iter()
                            .map(|(t, _)| t.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    })?,
            ),
        };
        let tenants = directory
            .tenants
            .iter()
            .map(|_| TenantSummary::default())
            .collect();
        Ok(Self {
            directory,
            selected,
            cutoff: since.map(canonical),
            files: Vec::new(),
            counts: Counts::default(),
            tenants,
            candidates: Vec::new(),
            resource: String::new(),
            key: String::new(),
        })
    }

    /// Reads every line of `log`; lines that are not audit events go to `problem` and are
    /// skipped.
    pub fn read(&mut self, log: LogFile, mut problem: impl FnMut(LineProblem)) {
        self.files.push(log.path().display().to_string());
        let mut malformed = 0;
        log.for_each_line(
            |line| {
                self.counts.lines += 1;
                self.line(line)
            },
            |p| {
                malformed += 1;
                problem(p);
            },
        );
        self.counts.malformed += malformed;
    }

    /// Folds one line in; why it is not an audit event otherwise.
    fn line(&mut self, line: &[u8]) -> Result<(), String> {
        let event: Event = serde_json::from_slice(line).map_err(|e| describe(&e))?;
        if !event.is_final() {
            self.counts.earlier_stages += 1;
            return Ok(());
        }
        let received = event
            .request_received_timestamp
            .as_deref()
            .ok_or("not an audit event: no requestReceivedTimestamp")?;
        let time = if is_canonical(received) {
            Cow::Borrowed(received)
        } else {
            let parsed: Timestamp = received.parse().map_err(|_| {
                "not an audit event: requestReceivedTimestamp is not an RFC 3339 time".to_string()
            })?;
            Cow::Owned(canonical(parsed))
        };
        if self.cutoff.as_deref().is_some_and(|c| *time < *c) {
            self.counts.before_since += 1;
            return Ok(());
        }
        self.counts.requests += 1;
        let actor = event.actor();
        let mut candidates = std::mem::take(&mut self.candidates);
        self.directory.candidates(
            &actor.username,
            actor.groups.iter().map(|g| &*g.0),
            &mut candidates,
        );
        if !candidates.is_empty() {
            self.attribute(&event, &time, &candidates);
        }
        self.candidates = candidates;
        Ok(())
    }

    /// Counts `event` under the tenants it belongs to: the namespace's tenant when the actor is
    /// one of its own, else every tenant the actor is of (a request on another tenant's
    /// namespace is then cross-tenant).
    fn attribute(&mut self, event: &Event, time: &str, candidates: &[(usize, Option<usize>)]) {
        let namespace = event.namespace();
        let owner = namespace.and_then(|ns| self.directory.namespaces.get(ns).copied());
        let home = owner.filter(|o| candidates.iter().any(|(t, _)| t == o));
        let cross_tenant = owner.is_some() && home.is_none();
        let code = event.code();
        let refused = code == Some(403);
        self.resource.clear();
        event.write_resource(&mut self.resource);
        let actor = event.actor();
        let impersonator = event
            .impersonated_user
            .as_ref()
            .map(|_| &*event.user.username);
        for (i, &(t, _)) in candidates.iter().enumerate() {
            if home.is_some_and(|h| h != t)
                || self.selected.is_some_and(|s| s != t)
                || candidates[..i].iter().any(|&(seen, _)| seen == t)
            {
                continue;
            }
            self.counts.attributed += 1;
            let summary = &mut self.tenants[t];
            summary.requests += 1;
            summary.refused += u64::from(refused);
            summary.cross_tenant += u64::from(cross_tenant);

            let actor_summary = match summary.actors.get_mut(&*actor.username) {
                Some(a) => a,
                None => summary
                    .actors
                    .entry(actor.username.as_ref().into())
                    .or_default(),
            };
            for &(ct, m) in candidates {
                if let (true, Some(m)) = (ct == t, m)
                    && !actor_summary.members.contains(&m)
                {
                    actor_summary.members.push(m);
                }
            }
            if let Some(by) = impersonator
                && !actor_summary.impersonators.iter().any(|i| &**i == by)
            {
                actor_summary.impersonators.push(by.into());
            }
            actor_summary.requests += 1;
            actor_summary.refused += u64::from(refused);
            actor_summary.cross_tenant += u64::from(cross_tenant);
            actor_summary.window.add(time);

            self.key.clear();
            for part in [&*event.verb, &self.resource, namespace.unwrap_or("")] {
                self.key.push_str(part);
                self.key.push('\0');
            }
            let action = match actor_summary.actions.get_mut(self.key.as_str()) {
                Some(a) => a,
                None => actor_summary
                    .actions
                    .entry(self.key.as_str().into())
                    .or_insert(ActionSummary {
                        verb: event.verb.as_ref().into(),
                        resource: self.resource.as_str().into(),
                        namespace: namespace.map(Into::into),
                        count: 0,
                        refused: 0,
                    }),
            };
            action.count += 1;
            action.refused += u64::from(refused);

            if refused || cross_tenant {
                let reason = event
                    .response_status
                    .as_ref()
                    .map(|s| &*s.reason)
                    .filter(|r| !r.is_empty());
                self.key.push_str(&actor.username);
                self.key.push('\0');
                self.key
                    .push_str(&code.map_or(String::new(), |c| c.to_string()));
                let attention = match summary.attention.get_mut(self.key.as_str()) {
                    Some(a) => a,
                    None => summary.attention.entry(self.key.as_str().into()).or_insert(
                        AttentionSummary {
                            cross_tenant,
                            refused,
                            user: actor.username.as_ref().into(),
                            verb: event.verb.as_ref().into(),
                            resource: self.resource.as_str().into(),
                            namespace: namespace.map(Into::into),
                            owner: owner.filter(|_| cross_tenant),
                            code,
                            reason: reason.map(Into::into),
                            count: 0,
                            window: Window::default(),
                        },
                    ),
                };
                attention.count += 1;
                attention.window.add(time);
            }
        }
    }

    /// The report: the tenant asked about, or every tenant in name order.
    pub fn finish(self) -> ActivityReport {
        let Self {
            directory,
            selected,
            cutoff,
            files,
            counts,
            tenants,
            ..
        } = self;
        let tenants = tenants
            .into_iter()
            .enumerate()
            .filter(|(t, _)| selected.is_none_or(|s| s == *t))
            .map(|(t, summary)| tenant_activity(&directory, t, summary))
            .collect();
        ActivityReport {
            since: cutoff,
            files,
            counts,
            tenants,
        }
    }
}

fn tenant_activity(directory: &Directory, t: usize, summary: TenantSummary) -> TenantActivity {
    let member_ids = |members: &[usize]| -> Vec<String> {
        let mut ids: Vec<String> = members
            .iter()
            .map(|&m| directory.members[t][m].clone())
            .collect();
        ids.sort();
        ids
    };
    let mut attention: Vec<Attention> = summary
        .attention
        .into_values()
        .map(|a| Attention {
            cross_tenant: a.cross_tenant,
            refused: a.refused,
            members: summary
                .actors
                .get(&a.user)
                .map_or_else(Vec::new, |actor| member_ids(&actor.members)),
            user: a.user.into(),
            verb: a.verb.into(),
            resource: a.resource.into(),
            namespace: a.namespace.map(Into::into),
            owner: a.owner.map(|o| directory.tenants[o].0.clone()),
            code: a.code,
            reason: a.reason.map(Into::into),
            count: a.count,
            first: a.window.first,
            last: a.window.last,
        })
        .collect();
    attention.sort_by(|a, b| {
        (
            !a.cross_tenant,
            !a.refused,
            &a.first,
            &a.user,
            &a.verb,
            &a.resource,
        )
            .cmp(&(
                !b.cross_tenant,
                !b.refused,
                &b.first,
                &b.user,
                &b.verb,
                &b.resource,
            ))
    });
    let mut actors: Vec<Actor> = summary
        .actors
        .into_iter()
        .map(|(user, a)| {
            let mut actions: Vec<Action> = a
                .actions
                .into_values()
                .map(|x| Action {
                    verb: x.verb.into(),
                    resource: x.resource.into(),
                    namespace: x.namespace.map(Into::into),
                    count: x.count,
                    refused: x.refused,
                })
                .collect();
            actions.sort_by(|x, y| {
                (y.count, &x.verb, &x.resource, &x.namespace).cmp(&(
                    x.count,
                    &y.verb,
                    &y.resource,
                    &y.namespace,
                ))
            });
            let mut impersonated_by: Vec<String> =
                a.impersonators.into_iter().map(Into::into).collect();
            impersonated_by.sort();
            Actor {
                user: user.into(),
                members: member_ids(&a.members),
                impersonated_by,
                requests: a.requests,
                refused: a.refused,
                cross_tenant: a.cross_tenant,
                first: a.window.first,
                last: a.window.last,
                actions,
            }
        })
        .collect();
    actors.sort_by(|a, b| a.user.cmp(&b.user));
    let (tenant, namespace) = directory.tenants[t].clone();
    TenantActivity {
        tenant,
        namespace,
        requests: summary.requests,
        refused: summary.refused,
        cross_tenant: summary.cross_tenant,
        attention,
        actors,
    }
}
