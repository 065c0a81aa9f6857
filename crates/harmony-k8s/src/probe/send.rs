//! One probe request, sent as an impersonated identity with `dryRun=All`, answered with the
//! server's own status code, reason and message.

use harmony_audit::probe::{Answer, ProbeVerb, ResourceKind};
use kube::Resource as _;
use kube::api::{
    DeleteParams, DynamicObject, GetParams, ListParams, Patch, PatchParams, PostParams,
};
use kube::client::Body;
use kube::core::{ApiResource, Request, Status};
use serde_json::Value;

/// Where a request goes: the namespace (for namespaced resources), the object's name, and the
/// object a create sends.
pub(super) struct Target<'a> {
    pub namespace: Option<&'a str>,
    pub name: Option<&'a str>,
    pub body: Option<Value>,
}

fn api_resource(kind: &ResourceKind) -> ApiResource {
    ApiResource {
        group: kind.group.into(),
        version: kind.version.into(),
        api_version: kind.api_version(),
        kind: kind.kind.into(),
        plural: kind.plural.into(),
    }
}

/// Sends `verb` on `kind` at `target` through `client`; never stores anything.
pub(super) async fn send(
    client: &kube::Client,
    kind: &ResourceKind,
    verb: &ProbeVerb,
    target: Target<'_>,
) -> Answer {
    let path = DynamicObject::url_path(&api_resource(kind), target.namespace);
    let request = Request::new(path);
    let name = target.name.unwrap_or_default();
    let built = match verb {
        ProbeVerb::Get(_) => request.get(name, &GetParams::default()),
        ProbeVerb::List => request.list(&ListParams::default().limit(1)),
        ProbeVerb::Create(_) => {
            let mut body = target.body.unwrap_or_default();
            if let Some(namespace) = target.namespace {
                body["metadata"]["namespace"] = Value::from(namespace);
            }
            let params = PostParams {
                dry_run: true,
                ..PostParams::default()
            };
            request.create(
                &params,
                serde_json::to_vec(&body).expect("JSON values serialize"),
            )
        }
        ProbeVerb::Patch(_, patch) => {
            let params = PatchParams {
                dry_run: true,
                ..PatchParams::default()
            };
            request.patch(name, &params, &Patch::Merge(patch))
        }
        ProbeVerb::Delete(_) => {
            let params = DeleteParams {
                dry_run: true,
                ..DeleteParams::default()
            };
            request.delete(name, &params)
        }
    };
    let request = match built {
        Ok(request) => request.map(Body::from),
        Err(e) => return Answer::not_sent(format!("the request could not be built: {e}")),
    };
    let response = match client.send(request).await {
        Ok(response) => response,
        Err(e) => return Answer::not_sent(format!("the request failed: {e}")),
    };
    let status = response.status();
    let code = status.as_u16();
    let reason = status.canonical_reason().unwrap_or_default().to_string();
    let body = match response.into_body().collect_bytes().await {
        Ok(body) => body,
        Err(e) => {
            return Answer {
                code,
                reason,
                message: format!("the answer could not be read: {e}"),
            };
        }
    };
    if status.is_success() {
        return Answer {
            code,
            reason,
            message: String::new(),
        };
    }
    match serde_json::from_slice::<Status>(&body) {
        Ok(refusal) => Answer {
            code,
            reason: if refusal.reason.is_empty() {
                reason
            } else {
                refusal.reason
            },
            message: refusal.message,
        },
        Err(_) => Answer {
            code,
            reason,
            message: String::from_utf8_lossy(&body).chars().take(500).collect(),
        },
    }
}
