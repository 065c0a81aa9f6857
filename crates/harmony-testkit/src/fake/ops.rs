//! Resource operations: get, list, create, update, patch, apply, delete and the special subresources.

use harmony_kube::Kind;
use k8s_openapi::api::core::v1::{Namespace, ResourceQuota};
use serde_json::{Map, Value, json};

use super::managed::{self, Writer};
use super::registry::{Gvr, ResourceInfo};
use super::selector::{FieldSelector, LabelSelector};
use super::state::{NamespaceDeletion, State};
use super::status::ApiError;
use super::store::{ObjectKey, Stored};

/// Namespaces, which hold the others and which the fake's namespace controller finalizes.
const NAMESPACES: Kind = Kind::of::<Namespace>();

/// A parsed write or read against one resource.
#[derive(Debug)]
pub struct Op<'a> {
    /// The resource.
    pub info: &'a ResourceInfo,
    /// URL namespace.
    pub namespace: Option<&'a str>,
    /// URL name.
    pub name: Option<&'a str>,
    /// URL subresource.
    pub subresource: Option<&'a str>,
    /// Field manager of writes.
    pub manager: &'a str,
    /// `dryRun=All`.
    pub dry_run: bool,
    /// Current time, RFC 3339.
    pub now: &'a str,
}

/// A successful answer: HTTP code and body.
pub type Reply = (u16, Value);

impl Op<'_> {
    fn key(&self, name: &str) -> ObjectKey {
        ObjectKey {
            gvr: self.info.gvr.clone(),
            namespace: self
                .namespace
                .filter(|_| self.info.namespaced)
                .unwrap_or_default()
                .into(),
            name: name.into(),
        }
    }

    fn not_found(&self, name: &str) -> ApiError {
        ApiError::not_found(&self.info.gvr.group, &self.info.gvr.resource, name)
    }

    fn writer(&self) -> Writer<'_> {
        Writer {
            manager: self.manager,
            subresource: self.subresource,
            api_version: self.info.gvr.api_version(),
            now: self.now,
        }
    }

    fn live<'s>(&self, state: &'s State, name: &str) -> Result<&'s Stored, ApiError> {
        state
            .store
            .get(&self.key(name))
            .ok_or_else(|| self.not_found(name))
    }
}

/// `GET` of one object (or its `status` subresource, which is the whole object).
pub fn get(state: &State, op: &Op<'_>, name: &str) -> Result<Reply, ApiError> {
    Ok((200, op.live(state, name)?.render()))
}

/// `GET` of a collection, filtered by `labelSelector` and `fieldSelector`.
pub fn list(
    state: &State,
    op: &Op<'_>,
    labels: &LabelSelector,
    fields: &FieldSelector,
) -> Result<Reply, ApiError> {
    let items: Vec<Value> = state
        .store
        .list(&op.info.gvr, op.namespace)
        .map(|(_, s)| s.render())
        .filter(|o| labels.matches(o) && fields.matches(o))
        .collect();
    Ok((
        200,
        list_body(op.info, items, state.store.resource_version()),
    ))
}

fn list_body(info: &ResourceInfo, items: Vec<Value>, resource_version: String) -> Value {
    json!({
        "apiVersion": info.gvr.api_version(),
        "kind": format!("{}List", info.kind),
        "metadata": { "resourceVersion": resource_version },
        "items": items,
    })
}

/// `POST` to a collection.
pub fn create(state: &mut State, op: &Op<'_>, mut body: Value) -> Result<Reply, ApiError> {
    check_type(op.info, &body)?;
    let name = match (
        body["metadata"]["name"].as_str(),
        body["metadata"]["generateName"].as_str(),
    ) {
        (Some(name), _) if !name.is_empty() => name.to_string(),
        (_, Some(prefix)) => format!("{prefix}{}", state.generated_suffix()),
        _ => {
            return Err(ApiError::invalid(
                &op.info.gvr.group,
                &op.info.gvr.resource,
                "",
                "metadata.name: Required value: name or generateName is required",
            ));
        }
    };
    body["metadata"]["name"] = json!(name);
    check_namespace(state, op, &body)?;
    if state.store.get(&op.key(&name)).is_some() {
        return Err(ApiError::already_exists(
            &op.info.gvr.group,
            &op.info.gvr.resource,
            &name,
        ));
    }
    if op.info.has_status() {
        remove_key(&mut body, "status");
    }
    let managers = managed::update(None, &body, &[], &op.writer());
    apply_defaults(op.info, &mut body);
    let object = state.insert_new(
        op.info,
        op.key(&name),
        Stored {
            object: body,
            managers,
        },
        op.now,
        op.dry_run,
    );
    Ok((201, object))
}

/// `PUT` of an object or a subresource (`status`, `approval`, `finalize`).
pub fn update(state: &mut State, op: &Op<'_>, name: &str, body: Value) -> Result<Reply, ApiError> {
    check_type(op.info, &body)?;
    if body["metadata"]["name"].as_str().is_some_and(|n| n != name) {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            body["metadata"]["name"].as_str().unwrap_or_default()
        )));
    }
    let live = op.live(state, name)?;
    check_resource_version(op, live, &body, name)?;
    let new = scope_write(op, &live.object, body);
    commit(state, op, name, new)
}

/// `PATCH` with a JSON patch, a merge patch or a strategic merge patch (treated as a merge patch).
pub fn patch(
    state: &mut State,
    op: &Op<'_>,
    name: &str,
    content_type: &str,
    body: &[u8],
) -> Result<Reply, ApiError> {
    let live = op.live(state, name)?;
    let mut patched = live.object.clone();
    match content_type {
        "application/json-patch+json" => {
            let ops: json_patch::Patch = serde_json::from_slice(body)
                .map_err(|e| ApiError::bad_request(format!("invalid JSON patch: {e}")))?;
            json_patch::patch(&mut patched, &ops).map_err(|e| {
                ApiError::invalid(
                    &op.info.gvr.group,
                    &op.info.gvr.resource,
                    name,
                    format!("the JSON patch could not be applied: {e}"),
                )
            })?;
        }
        "application/merge-patch+json" | "application/strategic-merge-patch+json" => {
            let merge: Value = serde_json::from_slice(body)
                .map_err(|e| ApiError::bad_request(format!("invalid merge patch: {e}")))?;
            json_patch::merge(&mut patched, &merge);
        }
        other => return Err(ApiError::unsupported_media_type(other)),
    }
    check_resource_version(op, live, &patched, name)?;
    let new = scope_write(op, &live.object, patched);
    commit(state, op, name, new)
}

/// Server-side apply (`PATCH` with `application/apply-patch+yaml`): creates, merges, removes fields
/// the manager stopped applying, and refuses other managers' fields unless `force`.
pub fn apply(
    state: &mut State,
    op: &Op<'_>,
    name: &str,
    body: &[u8],
    force: bool,
) -> Result<Reply, ApiError> {
    let mut applied = parse_apply_body(body)?;
    if op.manager.is_empty() {
        return Err(ApiError::bad_request(
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
        ));
    }
    if applied["apiVersion"].as_str().is_none() || applied["kind"].as_str().is_none() {
        return Err(ApiError::bad_request(
            "apiVersion and kind must be set in an apply patch",
        ));
    }
    check_type(op.info, &applied)?;
    match applied["metadata"]["name"].as_str() {
        Some(n) if n == name => {}
        _ => {
            return Err(ApiError::bad_request(format!(
                "metadata.name must be {name:?} in an apply patch"
            )));
        }
    }
    match (op.subresource, op.info.has_status()) {
        (Some(_), _) => {
            let status = applied.get("status").cloned().unwrap_or_else(|| json!({}));
            applied = json!({ "apiVersion": applied["apiVersion"], "kind": applied["kind"], "metadata": { "name": name }, "status": status });
        }
        (None, true) => remove_key(&mut applied, "status"),
        (None, false) => {}
    }
    let (group, plural) = (&op.info.gvr.group, &op.info.gvr.resource);
    match state.store.get(&op.key(name)) {
        None => {
            check_namespace(state, op, &applied)?;
            let (mut object, managers) = managed::apply(None, &applied, &op.writer(), force)
                .map_err(|c| ApiError::apply_conflict(group, plural, name, &c))?;
            apply_defaults(op.info, &mut object);
            let object = state.insert_new(
                op.info,
                op.key(name),
                Stored { object, managers },
                op.now,
                op.dry_run,
            );
            Ok((201, object))
        }
        Some(live) => {
            check_resource_version(op, live, &applied, name)?;
            let (mut object, managers) = managed::apply(
                Some((&live.object, &live.managers)),
                &applied,
                &op.writer(),
                force,
            )
            .map_err(|c| ApiError::apply_conflict(group, plural, name, &c))?;
            apply_defaults(op.info, &mut object);
            Ok((
                200,
                state
                    .store
                    .replace(&op.key(name), Stored { object, managers }, op.dry_run),
            ))
        }
    }
}

/// Parses an apply body: JSON (kube-rs, kubectl) or YAML.
fn parse_apply_body(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).or_else(|_| {
        let text = std::str::from_utf8(body)
            .map_err(|_| ApiError::bad_request("apply body is not UTF-8"))?;
        serde_saphyr::from_str(text)
            .map_err(|e| ApiError::bad_request(format!("apply body is neither JSON nor YAML: {e}")))
    })
}

/// `DELETE` of one object. Deleting a namespace deletes everything in it; with
/// [`NamespaceDeletion::Stuck`] the namespace itself stays `Terminating` until finalized.
pub fn delete(
    state: &mut State,
    op: &Op<'_>,
    name: &str,
    options: &Value,
) -> Result<Reply, ApiError> {
    let live = op.live(state, name)?;
    let precondition = &options["preconditions"]["resourceVersion"];
    if precondition.is_string() && *precondition != live.object["metadata"]["resourceVersion"] {
        return Err(ApiError::stale(
            &op.info.gvr.group,
            &op.info.gvr.resource,
            name,
        ));
    }
    if op.info.gvr.is(NAMESPACES) {
        return delete_namespace(state, op, name);
    }
    let removed = state
        .store
        .remove(&op.key(name), op.dry_run)
        .ok_or_else(|| op.not_found(name))?;
    Ok((200, removed.render()))
}

fn delete_namespace(state: &mut State, op: &Op<'_>, name: &str) -> Result<Reply, ApiError> {
    let key = op.key(name);
    let rendered = state
        .store
        .terminate_namespace(&key, op.now, op.dry_run)
        .ok_or_else(|| op.not_found(name))?;
    if op.dry_run {
        return Ok((200, rendered));
    }
    for content in state.store.keys_in_namespace(name) {
        state.store.remove(&content, false);
    }
    if state.options.namespace_deletion == NamespaceDeletion::Immediate {
        state.store.remove(&key, false);
    }
    Ok((200, rendered))
}

/// Removes a terminating namespace whose `spec.finalizers` are empty.
fn finish_namespace(state: &mut State, key: &ObjectKey) {
    let done = state.store.get(key).is_some_and(|ns| {
        !ns.object["metadata"]["deletionTimestamp"].is_null()
            && ns.object["spec"]["finalizers"]
                .as_array()
                .is_none_or(Vec::is_empty)
    });
    if done {
        state.store.remove(key, false);
    }
}

/// `DELETE` of a collection: every object matching the selectors.
pub fn delete_collection(
    state: &mut State,
    op: &Op<'_>,
    labels: &LabelSelector,
    fields: &FieldSelector,
) -> Result<Reply, ApiError> {
    let doomed: Vec<String> = state
        .store
        .list(&op.info.gvr, op.namespace)
        .filter(|(_, s)| labels.matches(&s.object) && fields.matches(&s.object))
        .map(|(k, _)| k.name.clone())
        .collect();
    let mut items = Vec::new();
    for name in doomed {
        items.push(delete(state, op, &name, &Value::Null)?.1);
    }
    Ok((
        200,
        list_body(op.info, items, state.store.resource_version()),
    ))
}

/// `POST serviceaccounts/{name}/token`: a `TokenRequest` with a fake token naming the account.
pub fn token(state: &mut State, op: &Op<'_>, name: &str, body: &Value) -> Result<Reply, ApiError> {
    op.live(state, name)?;
    let namespace = op.namespace.unwrap_or_default();
    let expiration = body["spec"]["expirationSeconds"].as_i64().unwrap_or(3600);
    let audiences = match &body["spec"]["audiences"] {
        Value::Array(a) if !a.is_empty() => Value::Array(a.clone()),
        _ => json!(["https://kubernetes.default.svc"]),
    };
    let expires = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_secs(expiration))
        .map(rfc3339)
        .map_err(|e| ApiError::bad_request(format!("spec.expirationSeconds: {e}")))?;
    let serial = state.next_token();
    let token = format!("fake-token.system:serviceaccount:{namespace}:{name}.{serial}");
    Ok((
        201,
        json!({
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "metadata": { "name": name, "namespace": namespace, "creationTimestamp": op.now },
            "spec": { "audiences": audiences, "expirationSeconds": expiration, "boundObjectRef": body["spec"]["boundObjectRef"] },
            "status": { "token": token, "expirationTimestamp": expires },
        }),
    ))
}

/// `POST` of a review (`selfsubjectaccessreviews`): answered, never stored.
pub fn review(state: &State, body: Value) -> Result<Reply, ApiError> {
    let mut review = body;
    let allowed = !state.options.deny_access_reviews;
    review["status"] = if allowed {
        json!({ "allowed": true })
    } else {
        json!({ "allowed": false, "denied": true, "reason": "denied by the fake API server's options" })
    };
    Ok((201, review))
}

/// Stores the result of an update or patch, tracking ownership; completes namespace finalization.
fn commit(state: &mut State, op: &Op<'_>, name: &str, mut new: Value) -> Result<Reply, ApiError> {
    let live = op.live(state, name)?;
    let managers = managed::update(Some(&live.object), &new, &live.managers, &op.writer());
    apply_defaults(op.info, &mut new);
    let key = op.key(name);
    let object = state.store.replace(
        &key,
        Stored {
            object: new,
            managers,
        },
        op.dry_run,
    );
    if op.subresource == Some("finalize") && !op.dry_run {
        finish_namespace(state, &key);
    }
    Ok((200, object))
}

/// What a write may change: the main resource keeps the live `status` (if it has a status
/// subresource); `status`/`approval` change only `status`; `finalize` changes only `spec.finalizers`.
fn scope_write(op: &Op<'_>, live: &Value, body: Value) -> Value {
    let mut new = match op.subresource {
        None => body,
        Some("finalize") => {
            let mut new = live.clone();
            new["spec"]["finalizers"] = body["spec"]["finalizers"].clone();
            return new;
        }
        Some(_) => {
            let mut new = live.clone();
            new["status"] = body.get("status").cloned().unwrap_or(Value::Null);
            if new["status"].is_null() {
                remove_key(&mut new, "status");
            }
            return new;
        }
    };
    if op.info.has_status() {
        match live.get("status") {
            Some(status) => new["status"] = status.clone(),
            None => remove_key(&mut new, "status"),
        }
    }
    new
}

/// Server-side defaulting and the controllers the fake stands in for.
pub fn apply_defaults(info: &ResourceInfo, object: &mut Value) {
    if info.gvr.is(NAMESPACES) {
        let name = object["metadata"]["name"].clone();
        object["metadata"]["labels"]["kubernetes.io/metadata.name"] = name;
        if object["spec"]["finalizers"].is_null() {
            object["spec"]["finalizers"] = json!(["kubernetes"]);
        }
        if object["status"]["phase"].is_null() {
            object["status"] = json!({ "phase": "Active" });
        }
    } else if info.gvr.is(Kind::of::<ResourceQuota>()) {
        let hard = object["spec"]["hard"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let used_before = object["status"]["used"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let used: Map<String, Value> = hard
            .keys()
            .map(|k| {
                (
                    k.clone(),
                    used_before.get(k).cloned().unwrap_or_else(|| json!("0")),
                )
            })
            .collect();
        object["status"] = json!({ "hard": hard, "used": used });
    }
}

/// Refuses a body whose `apiVersion`/`kind` name another resource.
fn check_type(info: &ResourceInfo, body: &Value) -> Result<(), ApiError> {
    if !body.is_object() {
        return Err(ApiError::bad_request(
            "the request body must be a JSON object",
        ));
    }
    let api_version = body["apiVersion"]
        .as_str()
        .unwrap_or(&info.gvr.api_version())
        .to_string();
    let kind = body["kind"].as_str().unwrap_or(info.kind);
    if api_version != info.gvr.api_version() || kind != info.kind {
        return Err(ApiError::bad_request(format!(
            "the body is a {api_version}, Kind={kind}, but the URL serves {}, Kind={}",
            info.gvr.api_version(),
            info.kind
        )));
    }
    Ok(())
}

/// Namespaced writes need an existing, non-terminating namespace matching the body's.
fn check_namespace(state: &State, op: &Op<'_>, body: &Value) -> Result<(), ApiError> {
    if !op.info.namespaced {
        return Ok(());
    }
    let namespace = op.namespace.unwrap_or_default();
    if body["metadata"]["namespace"]
        .as_str()
        .is_some_and(|ns| ns != namespace)
    {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    let key = ObjectKey {
        gvr: Gvr::of(NAMESPACES),
        namespace: String::new(),
        name: namespace.into(),
    };
    match state.store.get(&key) {
        None => Err(ApiError::not_found(
            NAMESPACES.group(),
            NAMESPACES.plural(),
            namespace,
        )),
        Some(ns) if !ns.object["metadata"]["deletionTimestamp"].is_null() => {
            Err(ApiError::forbidden(format!(
                "{} \"{}\" is forbidden: unable to create new content in namespace {namespace} because it is being terminated",
                op.info.gvr.resource,
                body["metadata"]["name"].as_str().unwrap_or_default()
            )))
        }
        Some(_) => Ok(()),
    }
}

/// A `metadata.resourceVersion` in the request must equal the live one.
fn check_resource_version(
    op: &Op<'_>,
    live: &Stored,
    body: &Value,
    name: &str,
) -> Result<(), ApiError> {
    match body["metadata"]["resourceVersion"].as_str() {
        Some(rv)
            if !rv.is_empty()
                && Some(rv) != live.object["metadata"]["resourceVersion"].as_str() =>
        {
            Err(ApiError::stale(
                &op.info.gvr.group,
                &op.info.gvr.resource,
                name,
            ))
        }
        _ => Ok(()),
    }
}

fn remove_key(object: &mut Value, key: &str) {
    if let Some(map) = object.as_object_mut() {
        map.remove(key);
    }
}

/// `2025-01-01T00:00:00Z`: the second-precision UTC form Kubernetes uses.
pub fn rfc3339(time: jiff::Timestamp) -> String {
    time.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}
