//! One HTTP request through the fake: classification for the log, fault decision, execution.

use http::Method;
use serde_json::{Value, json};

use super::faults::Fault;
use super::log::{RecordedRequest, is_write_verb};
use super::ops::{self, Op, Reply};
use super::route::{self, Route, Target};
use super::selector::{FieldSelector, LabelSelector};
use super::state::State;
use super::status::ApiError;
use super::table;

/// The Kubernetes version the fake reports on `/version`.
pub const KUBERNETES_VERSION: (&str, &str) = ("1", "33");

/// A request, read in full.
#[derive(Debug)]
pub struct Incoming {
    /// HTTP method.
    pub method: Method,
    /// URL path.
    pub path: String,
    /// Raw query string.
    pub query: String,
    /// `Content-Type` without parameters.
    pub content_type: String,
    /// `Accept` header.
    pub accept: String,
    /// `User-Agent` header.
    pub user_agent: String,
    /// The body.
    pub body: Vec<u8>,
}

/// An answer: HTTP status, JSON body and extra headers.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: Value,
    /// Extra headers, such as `Retry-After`.
    pub headers: Vec<(&'static str, String)>,
}

impl From<ApiError> for Answer {
    fn from(err: ApiError) -> Self {
        Self {
            status: err.code,
            body: err.to_status(),
            headers: Vec::new(),
        }
    }
}

impl From<Reply> for Answer {
    fn from((status, body): Reply) -> Self {
        Self {
            status,
            body,
            headers: Vec::new(),
        }
    }
}

/// The answer of an injected fault, or `None` for faults that do not answer (drop, latency).
pub fn fault_answer(fault: Fault) -> Option<Answer> {
    let err = match fault {
        Fault::Status500 => ApiError::internal("injected fault: internal error"),
        Fault::Status503 => ApiError::unavailable(),
        Fault::TooManyRequests { retry_after_secs } => {
            let mut answer = Answer::from(ApiError::too_many_requests(retry_after_secs));
            answer
                .headers
                .push(("Retry-After", retry_after_secs.to_string()));
            return Some(answer);
        }
        Fault::DropConnection | Fault::Latency(_) => return None,
    };
    Some(err.into())
}

impl Incoming {
    fn params(&self) -> std::collections::HashMap<String, String> {
        route::query_params(&self.query)
    }

    fn is_apply(&self) -> bool {
        self.content_type == "application/apply-patch+yaml"
    }

    /// The field manager: the `fieldManager` parameter, else the user agent's product name.
    fn field_manager(&self) -> String {
        self.params()
            .get("fieldManager")
            .cloned()
            .unwrap_or_else(|| {
                self.user_agent
                    .split('/')
                    .next()
                    .unwrap_or_default()
                    .to_string()
            })
    }
}

impl State {
    /// Records a request and decides whether to inject a fault. Returns its sequence number.
    pub fn admit(&mut self, req: &Incoming) -> (u64, Option<Fault>) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let params = req.params();
        let mut record = RecordedRequest {
            seq,
            method: req.method.to_string(),
            path: req.path.clone(),
            query: req.query.clone(),
            verb: "discovery".into(),
            group: String::new(),
            resource: String::new(),
            subresource: None,
            namespace: None,
            name: None,
            field_manager: params.get("fieldManager").cloned(),
            dry_run: is_dry_run(req, &params),
            force: params.get("force").is_some_and(|v| v == "true"),
            status: None,
            fault: None,
        };
        if let Ok(Some(Route::Resource(target))) = route::parse(&self.registry, &req.path) {
            record.verb = verb(req, &target, &params).into();
            record.group = target.info.gvr.group.clone();
            record.resource = target.info.gvr.resource.clone();
            record.subresource = target.subresource;
            record.namespace = target.namespace;
            record.name = target.name;
            let is_write = is_write_verb(&record.verb);
            record.fault = self.faults.as_mut().and_then(|f| f.decide(is_write));
        }
        let fault = record.fault;
        self.log.push(record);
        (seq, fault)
    }

    /// Records the HTTP status answered to request `seq` (`None`: connection dropped).
    pub fn finish(&mut self, seq: u64, status: Option<u16>) {
        if let Some(record) = self.log.iter_mut().rev().find(|r| r.seq == seq) {
            record.status = status;
        }
    }

    /// Executes a request against the store.
    pub fn execute(&mut self, req: &Incoming, host: &str) -> Answer {
        let route = match route::parse(&self.registry, &req.path) {
            Ok(Some(route)) => route,
            Ok(None) => return ApiError::no_route(&req.path).into(),
            Err(err) => return err.into(),
        };
        let found = |doc: Option<Value>| {
            doc.map(|d| Answer::from((200, d)))
                .unwrap_or_else(|| ApiError::no_route(&req.path).into())
        };
        match route {
            Route::Version => Answer::from((200, version())),
            Route::CoreVersions => Answer::from((
                200,
                json!({
                    "kind": "APIVersions",
                    "versions": ["v1"],
                    "serverAddressByClientCIDRs": [{ "clientCIDR": "0.0.0.0/0", "serverAddress": host }],
                }),
            )),
            Route::Groups => Answer::from((200, self.registry.group_list())),
            Route::Group(group) => found(self.registry.group(&group)),
            Route::Resources(group, version) => {
                found(self.registry.resource_list(&group, &version))
            }
            Route::Resource(target) => {
                let info = target.info.clone();
                let target = Target {
                    info: &info,
                    ..target
                };
                match self.resource(req, &target) {
                    Ok(reply) if req.accept.contains("as=Table") && reply.0 < 300 => {
                        Answer::from((reply.0, table::table(&info, &reply.1)))
                    }
                    Ok(reply) => reply.into(),
                    Err(err) => err.into(),
                }
            }
        }
    }

    fn resource(&mut self, req: &Incoming, target: &Target<'_>) -> Result<Reply, ApiError> {
        let params = req.params();
        let manager = req.field_manager();
        let now = ops::rfc3339(jiff::Timestamp::now());
        let info = target.info;
        if info.namespaced
            && target.namespace.is_none()
            && (target.name.is_some() || req.method != Method::GET)
        {
            return Err(ApiError::method_not_allowed(format!(
                "{} is namespaced: use /namespaces/{{namespace}}/{}",
                info.gvr.resource, info.gvr.resource
            )));
        }
        let op = Op {
            info,
            namespace: target.namespace.as_deref(),
            name: target.name.as_deref(),
            subresource: target.subresource.as_deref(),
            manager: &manager,
            dry_run: is_dry_run(req, &params),
            now: &now,
        };
        let selectors = || -> Result<(LabelSelector, FieldSelector), ApiError> {
            let labels = LabelSelector::parse(
                params
                    .get("labelSelector")
                    .map(String::as_str)
                    .unwrap_or_default(),
            )?;
            let fields = FieldSelector::parse(
                params
                    .get("fieldSelector")
                    .map(String::as_str)
                    .unwrap_or_default(),
            )?;
            Ok((labels, fields))
        };
        let verb = verb(req, target, &params);
        match (verb, op.name, op.subresource) {
            ("watch", _, _) => Err(ApiError::method_not_allowed(
                "the fake API server does not support watch",
            )),
            ("list", _, _) => {
                let (labels, fields) = selectors()?;
                ops::list(self, &op, &labels, &fields)
            }
            ("get", Some(name), None | Some("status" | "approval")) => ops::get(self, &op, name),
            ("create", None, None) if info.create_only => ops::review(self, json_body(req)?),
            ("create", None, None) => ops::create(self, &op, json_body(req)?),
            ("create", Some(name), Some("token")) => {
                let body = if req.body.is_empty() {
                    Value::Null
                } else {
                    json_body(req)?
                };
                ops::token(self, &op, name, &body)
            }
            ("update", Some(name), _) => ops::update(self, &op, name, json_body(req)?),
            ("apply", Some(name), _) => ops::apply(
                self,
                &op,
                name,
                &req.body,
                params.get("force").is_some_and(|v| v == "true"),
            ),
            ("patch", Some(name), _) => ops::patch(self, &op, name, &req.content_type, &req.body),
            ("delete", Some(name), None) => {
                let options = if req.body.is_empty() {
                    Value::Null
                } else {
                    json_body(req)?
                };
                ops::delete(self, &op, name, &options)
            }
            ("deletecollection", None, None) => {
                let (labels, fields) = selectors()?;
                ops::delete_collection(self, &op, &labels, &fields)
            }
            _ => Err(ApiError::method_not_allowed(format!(
                "{} is not supported on {}",
                req.method, req.path
            ))),
        }
    }
}

/// The Kubernetes verb of a resource request.
fn verb(
    req: &Incoming,
    target: &Target<'_>,
    params: &std::collections::HashMap<String, String>,
) -> &'static str {
    let collection = target.name.is_none();
    match req.method {
        Method::GET
            if collection && params.get("watch").is_some_and(|w| w == "true" || w == "1") =>
        {
            "watch"
        }
        Method::GET if collection => "list",
        Method::GET => "get",
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH if req.is_apply() => "apply",
        Method::PATCH => "patch",
        Method::DELETE if collection => "deletecollection",
        Method::DELETE => "delete",
        _ => "unknown",
    }
}

/// `dryRun=All` in the query, or `dryRun: ["All"]` in a DELETE body (where kube-rs puts it).
fn is_dry_run(req: &Incoming, params: &std::collections::HashMap<String, String>) -> bool {
    let in_body = || {
        req.method == Method::DELETE
            && serde_json::from_slice::<Value>(&req.body).is_ok_and(|o| {
                o["dryRun"]
                    .as_array()
                    .is_some_and(|d| d.contains(&json!("All")))
            })
    };
    params.get("dryRun").is_some_and(|v| v == "All") || in_body()
}

fn json_body(req: &Incoming) -> Result<Value, ApiError> {
    if req.content_type.contains("protobuf") {
        return Err(ApiError::unsupported_body(&req.content_type));
    }
    serde_json::from_slice(&req.body)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))
}

fn version() -> Value {
    let (major, minor) = KUBERNETES_VERSION;
    json!({
        "major": major,
        "minor": minor,
        "gitVersion": format!("v{major}.{minor}.0"),
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-04-23T00:00:00Z",
        "goVersion": "go1.24.2",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}
