//! `harmony identity plan|sync` against Keycloak: observe the realm, its `kubectl` client and
//! harmony's groups, plan the steps (the realm and client when missing or drifted, then the
//! directory [`Change`]s), and apply them one by one, each reported before the next.
//!
//! Only what harmony marked (attribute `harmony.nationtech.io/managed-by: harmony` on the realm,
//! client and groups) is changed; a realm, client or needed group that exists without the mark is
//! refused, naming the fix. Every step is idempotent and the plan is recomputed from what
//! Keycloak holds, so a sync interrupted halfway is finished by the next one, and a sync with
//! nothing to do only reads.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use harmony_identity::directory::{
    Change, Conflict, Desired, DesiredGroup, MANAGED_BY, MANAGED_BY_VALUE, Observed, ObservedGroup,
    Owner, TENANT, diff,
};
use harmony_identity::{IdentityProvider, KeycloakSpec};
use serde_json::{Value, json};

use crate::admin::{Admin, AdminCredentials};
use crate::client::{self, GROUPS_MAPPER};
use crate::{Body, Http, KeycloakError, Method};

/// Page size of list reads.
const PAGE: usize = 500;

/// Why a plan or sync was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// Keycloak could not be reached or answered unexpectedly.
    #[error(transparent)]
    Keycloak(#[from] KeycloakError),
    /// The IdentityProvider has no Keycloak settings.
    #[error(
        "the IdentityProvider `{0}` has no `spec.keycloak`: add `keycloak: {{adminUrl: ..., realm: ...}}` (Keycloak is the only adapter so far)"
    )]
    NoAdapter(String),
    /// The CA bundle cannot be read.
    #[error("cannot read the CA bundle {path} (the IdentityProvider's `spec.caFile`): {source}")]
    CaUnreadable {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The realm does not exist and harmony may not create it.
    #[error(
        "realm `{realm}` does not exist in Keycloak at {url}: create it, or set `spec.keycloak.ownRealm: true` to let harmony create and own it"
    )]
    RealmMissing {
        /// The realm.
        realm: String,
        /// Keycloak's URL.
        url: String,
    },
    /// The realm exists, `ownRealm` is set, and harmony did not create it.
    #[error(
        "realm `{realm}` exists and is not harmony's (no `{MANAGED_BY}` attribute), but `spec.keycloak.ownRealm` is true: set `ownRealm: false` to sync into it without owning it, or choose another realm"
    )]
    RealmNotOwned {
        /// The realm.
        realm: String,
    },
    /// A client with the login client's id exists and is not harmony's.
    #[error(
        "client `{client_id}` exists in realm `{realm}` and is not harmony's (no `{MANAGED_BY}` attribute): delete or rename it, or set the IdentityProvider's `spec.clientId` to another id"
    )]
    ClientNotOwned {
        /// The client id.
        client_id: String,
        /// The realm.
        realm: String,
    },
    /// Groups the tenants need exist and are not harmony's for them.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Conflicts(Vec<Conflict>),
    /// Reporting a step failed (the audit log), so the sync stopped there.
    #[error("stopped after {done} of {total} steps: {reason}; run the sync again to finish")]
    Stopped {
        /// Steps applied.
        done: usize,
        /// Steps planned.
        total: usize,
        /// Why.
        reason: String,
    },
}

/// One step of a sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Create the realm, marked as harmony's.
    CreateRealm(String),
    /// Create the login client (public, PKCE, device grant, groups claim), marked.
    CreateClient(String),
    /// Put the login client's settings or groups mapper back as harmony keeps them.
    UpdateClient(String),
    /// A change to the directory.
    Directory(Change),
}

impl Step {
    /// The action's name in plans and the audit log.
    pub fn action(&self) -> &'static str {
        match self {
            Self::CreateRealm(_) => "create-realm",
            Self::CreateClient(_) => "create-client",
            Self::UpdateClient(_) => "update-client",
            Self::Directory(change) => change.action(),
        }
    }

    /// What the step acts on: a realm, client, group or user; `user -> group` for memberships.
    pub fn target(&self) -> String {
        match self {
            Self::CreateRealm(name) | Self::CreateClient(name) | Self::UpdateClient(name) => {
                name.clone()
            }
            Self::Directory(change) => match change {
                Change::CreateGroup { group, .. } | Change::DeleteGroup { group } => group.clone(),
                Change::CreateUser { user } | Change::Logout { user } => user.clone(),
                Change::Join { user, group } | Change::Leave { user, group } => {
                    format!("{user} -> {group}")
                }
            },
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CreateRealm(realm) => write!(f, "+ realm {realm}"),
            Self::CreateClient(client) => write!(f, "+ client {client}"),
            Self::UpdateClient(client) => write!(f, "~ client {client}"),
            Self::Directory(change) => change.fmt(f),
        }
    }
}

/// The steps a sync would take, and the ids it read to take them.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// In order; empty when Keycloak already matches.
    pub steps: Vec<Step>,
    ids: Ids,
}

/// Keycloak ids by name.
#[derive(Debug, Clone, Default)]
struct Ids {
    client: Option<String>,
    groups: BTreeMap<String, String>,
    users: BTreeMap<String, String>,
}

/// A Keycloak realm as the identity provider of tenant members.
#[derive(Debug)]
pub struct KeycloakSync {
    admin: Admin,
    spec: KeycloakSpec,
    issuer: String,
    client_id: String,
    groups_claim: String,
}

impl KeycloakSync {
    /// Connects to the Keycloak of `provider` (trusting its `caFile` when set) as the admin of
    /// `credentials`; fails on an unreadable CA file, an unreachable or untrusted server and
    /// refused credentials.
    pub fn connect(
        provider: &IdentityProvider,
        credentials: AdminCredentials,
    ) -> Result<Self, SyncError> {
        let spec = provider
            .spec
            .keycloak
            .clone()
            .ok_or_else(|| SyncError::NoAdapter(provider.name().to_string()))?;
        let ca_pem = match &provider.spec.ca_file {
            Some(path) => Some(
                std::fs::read(path).map_err(|source| SyncError::CaUnreadable {
                    path: path.display().to_string(),
                    source,
                })?,
            ),
            None => None,
        };
        let http = Http::new(&spec.admin_url, ca_pem.as_deref(), Duration::from_secs(30))?;
        Ok(Self {
            admin: Admin::connect(http, credentials)?,
            spec,
            issuer: provider.spec.issuer.clone(),
            client_id: provider.spec.client_id.clone(),
            groups_claim: provider.spec.groups.claim.clone(),
        })
    }

    /// The HTTP client: its request counts by method.
    pub fn http(&self) -> &Http {
        self.admin.http()
    }

    /// The administrator's user name.
    pub fn admin_name(&self) -> &str {
        self.admin.username()
    }

    /// The issuer this sync keeps.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The steps that make Keycloak hold `desired`; reads only.
    pub fn plan(&self, desired: &Desired) -> Result<Plan, SyncError> {
        // Keycloak keeps user names in lower case.
        let desired = lower_case_users(desired);
        let mut plan = Plan::default();
        let realm = self.realm_path();
        let found = self
            .admin
            .call(Method::Get, &realm, Body::Empty, &[200, 404])?;
        if found.status == 404 {
            if !self.spec.own_realm {
                return Err(SyncError::RealmMissing {
                    realm: self.spec.realm.clone(),
                    url: self.admin.http().base().to_string(),
                });
            }
            plan.steps.push(Step::CreateRealm(self.spec.realm.clone()));
            plan.steps.push(Step::CreateClient(self.client_id.clone()));
            let changes = diff(&desired, &Observed::default()).map_err(SyncError::Conflicts)?;
            plan.steps.extend(changes.into_iter().map(Step::Directory));
            return Ok(plan);
        }
        let owned = found.json()["attributes"][MANAGED_BY] == MANAGED_BY_VALUE;
        if self.spec.own_realm && !owned {
            return Err(SyncError::RealmNotOwned {
                realm: self.spec.realm.clone(),
            });
        }
        self.plan_client(&mut plan)?;
        let observed = self.observe(&desired, &mut plan.ids)?;
        let changes = diff(&desired, &observed).map_err(SyncError::Conflicts)?;
        plan.steps.extend(changes.into_iter().map(Step::Directory));
        Ok(plan)
    }

    /// Applies `plan`'s steps in order, calling `done` after each; stops at the first failure
    /// (of a step, or of `done`), leaving the rest to the next sync.
    pub fn apply(
        &self,
        plan: Plan,
        done: &mut dyn FnMut(&Step) -> Result<(), String>,
    ) -> Result<(), SyncError> {
        let total = plan.steps.len();
        let mut ids = plan.ids;
        for (i, step) in plan.steps.iter().enumerate() {
            self.apply_step(step, &mut ids)?;
            done(step).map_err(|reason| SyncError::Stopped {
                done: i + 1,
                total,
                reason,
            })?;
        }
        Ok(())
    }

    fn realm_path(&self) -> String {
        format!("/admin/realms/{}", self.spec.realm)
    }

    /// Adds the client's step, if any; notes its id.
    fn plan_client(&self, plan: &mut Plan) -> Result<(), SyncError> {
        let Some(observed) = self.client()? else {
            plan.steps.push(Step::CreateClient(self.client_id.clone()));
            return Ok(());
        };
        if !client::is_harmonys(&observed) {
            return Err(SyncError::ClientNotOwned {
                client_id: self.client_id.clone(),
                realm: self.spec.realm.clone(),
            });
        }
        plan.ids.client = observed["id"].as_str().map(str::to_string);
        let mapper = client::groups_mapper(&self.groups_claim);
        let mapper_holds = observed["protocolMappers"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|m| m["name"] == GROUPS_MAPPER && client::holds(m, &mapper));
        if !client::holds(&observed, &client::desired(&self.client_id)) || !mapper_holds {
            plan.steps.push(Step::UpdateClient(self.client_id.clone()));
        }
        Ok(())
    }

    /// The login client as Keycloak holds it.
    fn client(&self) -> Result<Option<Value>, SyncError> {
        let path = format!(
            "{}/clients?clientId={}",
            self.realm_path(),
            encode(&self.client_id)
        );
        let found = self.admin.call(Method::Get, &path, Body::Empty, &[200])?;
        Ok(found.json().as_array().and_then(|a| a.first()).cloned())
    }

    /// The groups named like desired ones or marked as harmony's, the members of harmony's, and
    /// which desired users exist; notes their ids.
    fn observe(&self, desired: &Desired, ids: &mut Ids) -> Result<Observed, SyncError> {
        let mut observed = Observed::default();
        let groups = self.list(&format!(
            "{}/groups?briefRepresentation=false",
            self.realm_path()
        ))?;
        for group in groups {
            let (Some(name), Some(id)) = (group["name"].as_str(), group["id"].as_str()) else {
                continue;
            };
            let attributes = &group["attributes"];
            let owner = if attributes[MANAGED_BY][0] == MANAGED_BY_VALUE {
                Owner::Harmony(
                    attributes[TENANT][0]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                )
            } else if desired.groups.contains_key(name) {
                Owner::Other
            } else {
                continue;
            };
            let mut members = BTreeSet::new();
            if matches!(owner, Owner::Harmony(_)) {
                let path = format!(
                    "{}/groups/{id}/members?briefRepresentation=true",
                    self.realm_path()
                );
                for user in self.list(&path)? {
                    if let (Some(name), Some(uid)) =
                        (user["username"].as_str(), user["id"].as_str())
                    {
                        members.insert(name.to_string());
                        ids.users.insert(name.to_string(), uid.to_string());
                    }
                }
            }
            ids.groups.insert(name.to_string(), id.to_string());
            observed
                .groups
                .insert(name.to_string(), ObservedGroup { owner, members });
        }
        observed.users = ids.users.keys().cloned().collect();
        for user in desired.users() {
            if observed.users.contains(user) {
                continue;
            }
            if let Some(id) = self.user_id(user)? {
                ids.users.insert(user.to_string(), id);
                observed.users.insert(user.to_string());
            }
        }
        Ok(observed)
    }

    /// Every item of a paged list.
    fn list(&self, path: &str) -> Result<Vec<Value>, SyncError> {
        let mut all = Vec::new();
        loop {
            let page = format!("{path}&first={}&max={PAGE}", all.len());
            let found = self.admin.call(Method::Get, &page, Body::Empty, &[200])?;
            let items = match found.json() {
                Value::Array(items) => items,
                _ => Vec::new(),
            };
            let full = items.len() == PAGE;
            all.extend(items);
            if !full {
                return Ok(all);
            }
        }
    }

    /// The id of user `username`, if it exists.
    fn user_id(&self, username: &str) -> Result<Option<String>, SyncError> {
        let path = format!(
            "{}/users?username={}&exact=true&briefRepresentation=true",
            self.realm_path(),
            encode(username)
        );
        let found = self.admin.call(Method::Get, &path, Body::Empty, &[200])?;
        Ok(found.json()[0]["id"].as_str().map(str::to_string))
    }

    fn apply_step(&self, step: &Step, ids: &mut Ids) -> Result<(), SyncError> {
        let realm = self.realm_path();
        match step {
            Step::CreateRealm(name) => {
                let body = json!({"realm": name, "enabled": true,
                                  "attributes": {MANAGED_BY: MANAGED_BY_VALUE}});
                self.admin
                    .call(Method::Post, "/admin/realms", Body::Json(&body), &[201])?;
            }
            Step::CreateClient(_) => {
                let mut body = client::desired(&self.client_id);
                body["protocolMappers"] = json!([client::groups_mapper(&self.groups_claim)]);
                let path = format!("{realm}/clients");
                let created = self
                    .admin
                    .call(Method::Post, &path, Body::Json(&body), &[201])?;
                ids.client = created.created_id().map(str::to_string);
            }
            Step::UpdateClient(_) => self.update_client()?,
            Step::Directory(change) => self.apply_change(change, ids)?,
        }
        Ok(())
    }

    /// Puts the client's settings and groups mapper back as harmony keeps them, keeping what
    /// else Keycloak holds.
    fn update_client(&self) -> Result<(), SyncError> {
        let mut observed = self.client()?.ok_or_else(|| SyncError::ClientNotOwned {
            client_id: self.client_id.clone(),
            realm: self.spec.realm.clone(),
        })?;
        let id = observed["id"].as_str().unwrap_or_default().to_string();
        let Value::Object(desired) = client::desired(&self.client_id) else {
            unreachable!("the desired client is an object")
        };
        for (key, value) in desired {
            match (&mut observed[&key], value) {
                (Value::Object(have), Value::Object(want)) => have.extend(want),
                (slot, value) => *slot = value,
            }
        }
        let mappers = observed
            .as_object_mut()
            .and_then(|o| o.remove("protocolMappers"))
            .unwrap_or_default();
        let path = format!("{}/clients/{id}", self.realm_path());
        self.admin
            .call(Method::Put, &path, Body::Json(&observed), &[204])?;
        let mut mapper = client::groups_mapper(&self.groups_claim);
        let existing = mappers
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| m["name"] == GROUPS_MAPPER);
        let models = format!("{path}/protocol-mappers/models");
        match existing.and_then(|m| m["id"].as_str()) {
            Some(mapper_id) => {
                mapper["id"] = json!(mapper_id);
                let path = format!("{models}/{mapper_id}");
                self.admin
                    .call(Method::Put, &path, Body::Json(&mapper), &[204])?;
            }
            None => {
                self.admin
                    .call(Method::Post, &models, Body::Json(&mapper), &[201])?;
            }
        }
        Ok(())
    }

    fn apply_change(&self, change: &Change, ids: &mut Ids) -> Result<(), SyncError> {
        let realm = self.realm_path();
        let id = |map: &BTreeMap<String, String>, name: &str| {
            map.get(name).cloned().ok_or_else(|| {
                SyncError::Keycloak(KeycloakError::Unexpected {
                    method: "GET",
                    url: format!("{}{realm}", self.admin.http().base()),
                    status: 404,
                    body: format!("`{name}` vanished during the sync; run it again"),
                })
            })
        };
        match change {
            Change::CreateGroup { group, tenant } => {
                let body = json!({"name": group, "attributes": {
                    MANAGED_BY: [MANAGED_BY_VALUE], TENANT: [tenant]}});
                let path = format!("{realm}/groups");
                let created = self
                    .admin
                    .call(Method::Post, &path, Body::Json(&body), &[201])?;
                if let Some(new) = created.created_id() {
                    ids.groups.insert(group.clone(), new.to_string());
                }
            }
            Change::CreateUser { user } => {
                let body = json!({"username": user, "enabled": true});
                let path = format!("{realm}/users");
                let created =
                    self.admin
                        .call(Method::Post, &path, Body::Json(&body), &[201, 409])?;
                let new = match created.created_id() {
                    Some(new) if created.status == 201 => Some(new.to_string()),
                    _ => self.user_id(user)?,
                };
                if let Some(new) = new {
                    ids.users.insert(user.clone(), new);
                }
            }
            Change::Join { user, group } => {
                let path = format!(
                    "{realm}/users/{}/groups/{}",
                    id(&ids.users, user)?,
                    id(&ids.groups, group)?
                );
                self.admin.call(Method::Put, &path, Body::Empty, &[204])?;
            }
            Change::Leave { user, group } => {
                let path = format!(
                    "{realm}/users/{}/groups/{}",
                    id(&ids.users, user)?,
                    id(&ids.groups, group)?
                );
                self.admin
                    .call(Method::Delete, &path, Body::Empty, &[204, 404])?;
            }
            Change::DeleteGroup { group } => {
                let path = format!("{realm}/groups/{}", id(&ids.groups, group)?);
                self.admin
                    .call(Method::Delete, &path, Body::Empty, &[204, 404])?;
            }
            Change::Logout { user } => {
                let path = format!("{realm}/users/{}/logout", id(&ids.users, user)?);
                self.admin
                    .call(Method::Post, &path, Body::Empty, &[204, 404])?;
            }
        }
        Ok(())
    }
}

/// `desired` with its user names in lower case, as Keycloak stores them.
fn lower_case_users(desired: &Desired) -> Desired {
    Desired {
        groups: desired
            .groups
            .iter()
            .map(|(name, group)| {
                let members = group.members.iter().map(|m| m.to_lowercase()).collect();
                let group = DesiredGroup {
                    tenant: group.tenant.clone(),
                    members,
                };
                (name.clone(), group)
            })
            .collect(),
    }
}

/// `value` encoded for a URL query.
fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
