//! One ureq agent for one Keycloak: its base URL, the CA it trusts, JSON and form bodies, bearer
//! tokens, and a count of the requests made by method (the benchmark's read/write proof).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use harmony_http::Transport;
use ureq::Agent;

use crate::KeycloakError;

/// An HTTP method the adapter uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Method {
    /// A read.
    Get,
    /// A create (or a token request).
    Post,
    /// An update or a join.
    Put,
    /// A removal.
    Delete,
}

impl Method {
    /// `GET`, `POST`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Delete => "DELETE",
        }
    }
}

/// A request body.
#[derive(Debug, Clone, Copy)]
pub enum Body<'a> {
    /// No body.
    Empty,
    /// A JSON document.
    Json(&'a serde_json::Value),
    /// `application/x-www-form-urlencoded` fields.
    Form(&'a [(&'a str, &'a str)]),
}

/// An answer: status, body and the `Location` header of a create.
#[derive(Debug, Clone)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
    /// The `Location` header, if any.
    pub location: Option<String>,
}

impl Response {
    /// The body as JSON (`null` when empty or not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_default()
    }

    /// The last path segment of `Location`: the id of what a POST created.
    pub fn created_id(&self) -> Option<&str> {
        self.location.as_deref()?.rsplit('/').next()
    }
}

/// A client of one Keycloak server.
#[derive(Debug, Clone)]
pub struct Http {
    base: String,
    agent: Agent,
    counts: Arc<Mutex<BTreeMap<Method, u64>>>,
}

impl Http {
    /// A client of `base_url` (`https://host:port`, no trailing path needed) trusting `ca_pem`
    /// (PEM certificates) instead of the built-in roots when given. Connects only when used.
    pub fn new(
        base_url: &str,
        ca_pem: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<Self, KeycloakError> {
        let base = base_url.trim_end_matches('/').to_string();
        let host = base
            .strip_prefix("https://")
            .or_else(|| base.strip_prefix("http://"));
        if !host.is_some_and(|h| !h.is_empty() && !h.starts_with('/')) {
            return Err(KeycloakError::BadUrl(base_url.to_string()));
        }
        let agent = harmony_http::agent(ca_pem, timeout).map_err(|_| KeycloakError::BadCa)?;
        Ok(Self {
            base,
            agent,
            counts: Arc::default(),
        })
    }

    /// The base URL, without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Sends `method path` (a path under the base URL, such as `/admin/realms`) with `body`,
    /// authenticated by `bearer` when given. Any status is an answer; only transport fails.
    pub fn send(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Body<'_>,
    ) -> Result<Response, KeycloakError> {
        let url = format!("{}{path}", self.base);
        let mut request = ureq::http::Request::builder()
            .method(method.as_str())
            .uri(&url)
            .header("Accept", "application/json");
        if let Some(token) = bearer {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        *self
            .counts
            .lock()
            .expect("counts")
            .entry(method)
            .or_default() += 1;
        let build = |request: ureq::http::request::Builder, bytes: Vec<u8>| {
            request
                .body(bytes)
                .map_err(|_| KeycloakError::BadUrl(url.clone()))
        };
        let sent = match body {
            Body::Empty if matches!(method, Method::Get | Method::Delete) => self.agent.run(
                request
                    .body(())
                    .map_err(|_| KeycloakError::BadUrl(url.clone()))?,
            ),
            Body::Empty => self.agent.run(build(request, Vec::new())?),
            Body::Json(value) => self.agent.run(build(
                request.header("Content-Type", "application/json"),
                value.to_string().into_bytes(),
            )?),
            Body::Form(fields) => {
                let form = form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(fields.iter().copied())
                    .finish();
                self.agent.run(build(
                    request.header("Content-Type", "application/x-www-form-urlencoded"),
                    form.into_bytes(),
                )?)
            }
        };
        let response = sent.map_err(|e| transport_error(&url, e))?;
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("Location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = response
            .into_body()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_vec()
            .map_err(|e| transport_error(&url, e))?;
        Ok(Response {
            status,
            body,
            location,
        })
    }

    /// The requests sent so far, by method.
    pub fn counts(&self) -> BTreeMap<Method, u64> {
        self.counts.lock().expect("counts").clone()
    }

    /// An [`KeycloakError::Unexpected`] for `response` to `method path`.
    pub fn unexpected(&self, method: Method, path: &str, response: &Response) -> KeycloakError {
        let body = String::from_utf8_lossy(&response.body);
        KeycloakError::Unexpected {
            method: method.as_str(),
            url: format!("{}{path}", self.base),
            status: response.status,
            body: body.chars().take(300).collect(),
        }
    }
}

/// Why a request to `url` failed in transport: an untrusted or refused certificate, or
/// unreachable.
fn transport_error(url: &str, error: ureq::Error) -> KeycloakError {
    let url = url.to_string();
    match harmony_http::transport(&error) {
        Transport::Untrusted => KeycloakError::Untrusted { url },
        Transport::BadCertificate(reason) => KeycloakError::BadCertificate { url, reason },
        Transport::Unreachable(reason) => KeycloakError::Unreachable { url, reason },
    }
}
