//! A client of the Prometheus HTTP API (`/api/v1/query`, `/api/v1/query_range`), as Prometheus,
//! Thanos Querier (OKD's `thanos-querier` :9091 with `cluster-monitoring-view`) or a proxy in
//! front of them serve it: bearer token, own CA bundle, timeout, and errors that name the URL and
//! the fix. It counts the queries it makes and the bytes it reads.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use harmony_http::Transport;
use jiff::Timestamp;
use serde::Deserialize;
use thiserror::Error;
use ureq::Agent;

use crate::window::Window;

/// How to reach a Prometheus.
#[derive(Clone)]
pub struct Endpoint {
    /// Its base URL, such as `https://thanos-querier.openshift-monitoring.svc:9091`.
    pub url: String,
    /// A bearer token sent on every request; never logged.
    pub token: Option<String>,
    /// PEM certificates to trust instead of the built-in roots (`--certificate-authority`).
    pub ca_pem: Option<Vec<u8>>,
    /// Per request, connecting included.
    pub timeout: Duration,
}

/// Why a query got no answer, naming the URL and the fix.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The URL is not `http(s)://host...`.
    #[error(
        "`{0}` is not a Prometheus URL: write http(s)://HOST[:PORT][/PATH], such as http://127.0.0.1:9090"
    )]
    BadUrl(String),
    /// The CA bundle holds no certificate.
    #[error(
        "the certificate authority bundle holds no PEM certificate: give a file with `-----BEGIN CERTIFICATE-----` blocks"
    )]
    BadCa,
    /// Nothing answered.
    #[error(
        "cannot reach Prometheus at {url}: {reason}; check the URL and that Prometheus listens there (or port-forward to it)"
    )]
    Unreachable {
        /// The request URL.
        url: String,
        /// What the transport said.
        reason: String,
    },
    /// The server's certificate is not signed by a trusted authority.
    #[error(
        "Prometheus at {url} presented a certificate not signed by an authority harmony trusts: give the CA bundle that signed it with --certificate-authority FILE"
    )]
    Untrusted {
        /// The request URL.
        url: String,
    },
    /// The server's certificate is refused for another reason (name, dates, purpose).
    #[error(
        "Prometheus at {url} presented a certificate harmony refuses ({reason}): use the host name the certificate is for in the URL, and check that it is valid now"
    )]
    BadCertificate {
        /// The request URL.
        url: String,
        /// What rustls said.
        reason: String,
    },
    /// The token was refused.
    #[error(
        "Prometheus at {url} answered 401 Unauthorized: give a valid bearer token with --token-file or HARMONY_PROMETHEUS_TOKEN"
    )]
    Unauthorized {
        /// The request URL.
        url: String,
    },
    /// The token may not read these series.
    #[error(
        "Prometheus at {url} answered 403 Forbidden: the token may not query all namespaces; on OKD use the thanos-querier :9091 port with a token bound to `cluster-monitoring-view`"
    )]
    Forbidden {
        /// The request URL.
        url: String,
    },
    /// Prometheus refused the query.
    #[error("Prometheus at {url} refused the query ({kind}: {message}); query: {query}")]
    BadQuery {
        /// The request URL.
        url: String,
        /// `errorType` of the answer.
        kind: String,
        /// `error` of the answer.
        message: String,
        /// The PromQL sent.
        query: String,
    },
    /// The token file cannot be used.
    #[error("--token-file {path}: {reason}")]
    TokenFile {
        /// The file.
        path: String,
        /// What is wrong and the fix.
        reason: String,
    },
    /// Any other answer that is not a Prometheus API success.
    #[error(
        "Prometheus at {url} answered {status}: {body}; is this the Prometheus API (its base URL, without /api/v1)?"
    )]
    Unexpected {
        /// The request URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The start of the body.
        body: String,
    },
}

/// The bearer token in the file at `path` (surrounding whitespace trimmed); refused when the
/// file is empty or others than its owner may read it.
pub fn read_token_file(path: &Path) -> Result<String, ClientError> {
    let refuse = |reason: String| ClientError::TokenFile {
        path: path.display().to_string(),
        reason,
    };
    let mode = std::fs::metadata(path)
        .map_err(|e| refuse(format!("cannot be read: {e}")))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(refuse(format!(
            "others than its owner may read it (mode {:04o}): run `chmod 600 {}`, or pass the token in HARMONY_PROMETHEUS_TOKEN",
            mode & 0o7777,
            path.display()
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| refuse(format!("cannot be read: {e}")))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(refuse("is empty: write the bearer token in it".into()));
    }
    Ok(token.to_string())
}

/// One series of an answer: its labels and its samples (milliseconds since the epoch, value).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The labels.
    pub labels: BTreeMap<String, String>,
    /// The samples, oldest first; NaN and infinite values are left out.
    pub samples: Vec<(i64, f64)>,
}

/// What a client has done so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// HTTP requests made.
    pub queries: u64,
    /// Response bytes read.
    pub bytes: u64,
}

/// A Prometheus HTTP API client.
pub struct Prometheus {
    base: String,
    token: Option<String>,
    agent: Agent,
    queries: AtomicU64,
    bytes: AtomicU64,
}

impl Prometheus {
    /// A client of `endpoint`; refuses a URL that is not http(s) or a CA bundle without
    /// certificates. Connects only when queried.
    pub fn new(endpoint: Endpoint) -> Result<Self, ClientError> {
        let base = endpoint.url.trim_end_matches('/').to_string();
        let host = base
            .strip_prefix("http://")
            .or_else(|| base.strip_prefix("https://"));
        if !host.is_some_and(|h| !h.is_empty() && !h.starts_with('/')) {
            return Err(ClientError::BadUrl(endpoint.url));
        }
        let agent = harmony_http::agent(endpoint.ca_pem.as_deref(), endpoint.timeout)
            .map_err(|_| ClientError::BadCa)?;
        Ok(Self {
            base,
            token: endpoint.token,
            agent,
            queries: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
        })
    }

    /// The value of `promql` at `at` (`/api/v1/query`), one sample per series.
    pub fn instant(&self, promql: &str, at: Timestamp) -> Result<Vec<Series>, ClientError> {
        let time = at.as_second().to_string();
        self.post("query", promql, &[("query", promql), ("time", &time)])
    }

    /// The values of `promql` at every point of `window` (`/api/v1/query_range`).
    pub fn range(&self, promql: &str, window: &Window) -> Result<Vec<Series>, ClientError> {
        let start = window.first().as_second().to_string();
        let end = window.end.as_second().to_string();
        let step = window.step.as_secs().to_string();
        self.post(
            "query_range",
            promql,
            &[
                ("query", promql),
                ("start", &start),
                ("end", &end),
                ("step", &step),
            ],
        )
    }

    /// What this client has done so far.
    pub fn stats(&self) -> Stats {
        Stats {
            queries: self.queries.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
        }
    }

    fn post(
        &self,
        api: &str,
        promql: &str,
        form: &[(&str, &str)],
    ) -> Result<Vec<Series>, ClientError> {
        let url = format!("{}/api/v1/{api}", self.base);
        let mut request = self.agent.post(&url);
        if let Some(token) = &self.token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        self.queries.fetch_add(1, Ordering::Relaxed);
        let unreachable = |e: ureq::Error| transport_error(&url, e);
        let response = request
            .send_form(form.iter().copied())
            .map_err(unreachable)?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        response
            .into_body()
            .into_reader()
            .read_to_end(&mut body)
            .map_err(|e| unreachable(ureq::Error::Io(e)))?;
        self.bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
        match status {
            401 => return Err(ClientError::Unauthorized { url }),
            403 => return Err(ClientError::Forbidden { url }),
            _ => {}
        }
        let unexpected = || ClientError::Unexpected {
            url: url.clone(),
            status,
            body: String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
        };
        let answer: Answer = serde_json::from_slice(&body).map_err(|_| unexpected())?;
        match (answer.status.as_str(), answer.data) {
            ("success", Some(data)) => Ok(data.result.into_iter().map(Series::from).collect()),
            ("error", _) => Err(ClientError::BadQuery {
                url,
                kind: answer.error_type.unwrap_or_default(),
                message: answer.error.unwrap_or_default(),
                query: promql.to_string(),
            }),
            _ => Err(unexpected()),
        }
    }
}

/// Why a request to `url` failed in transport: an untrusted or refused certificate, or
/// unreachable.
fn transport_error(url: &str, error: ureq::Error) -> ClientError {
    let url = url.to_string();
    match harmony_http::transport(&error) {
        Transport::Untrusted => ClientError::Untrusted { url },
        Transport::BadCertificate(reason) => ClientError::BadCertificate { url, reason },
        Transport::Unreachable(reason) => ClientError::Unreachable { url, reason },
    }
}

/// The envelope of every Prometheus API answer.
#[derive(Deserialize)]
struct Answer<'a> {
    status: String,
    #[serde(borrow)]
    data: Option<Data<'a>>,
    #[serde(rename = "errorType")]
    error_type: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct Data<'a> {
    #[serde(borrow)]
    result: Vec<RawSeries<'a>>,
}

/// A vector element (`value`) or a matrix row (`values`); values are strings, borrowed from the
/// body (numbers need no unescaping).
#[derive(Deserialize)]
struct RawSeries<'a> {
    metric: BTreeMap<String, String>,
    #[serde(borrow)]
    value: Option<(f64, &'a str)>,
    #[serde(borrow, default)]
    values: Vec<(f64, &'a str)>,
}

impl From<RawSeries<'_>> for Series {
    fn from(raw: RawSeries<'_>) -> Self {
        let samples = raw
            .value
            .into_iter()
            .chain(raw.values)
            .filter_map(|(t, v)| {
                let v: f64 = v.parse().ok()?;
                v.is_finite().then_some(((t * 1000.0).round() as i64, v))
            })
            .collect();
        Self {
            labels: raw.metric,
            samples,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_file_others_may_read_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "s3cret\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let error = read_token_file(&path).unwrap_err().to_string();
        assert!(error.contains("(mode 0644): run `chmod 600"), "{error}");
        assert!(!error.contains("s3cret"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_token_file(&path).unwrap(), "s3cret");
        std::fs::write(&path, " \n").unwrap();
        assert!(
            read_token_file(&path)
                .unwrap_err()
                .to_string()
                .ends_with("is empty: write the bearer token in it")
        );
    }

    #[test]
    fn refuses_a_url_that_is_not_http() {
        let endpoint = |url: &str| Endpoint {
            url: url.into(),
            token: None,
            ca_pem: None,
            timeout: Duration::from_secs(1),
        };
        for url in ["prometheus:9090", "ftp://x", "http://", "http:///api"] {
            assert!(
                matches!(Prometheus::new(endpoint(url)), Err(ClientError::BadUrl(_))),
                "{url}"
            );
        }
        let mut with_bad_ca = endpoint("https://x");
        with_bad_ca.ca_pem = Some(b"not a certificate".to_vec());
        assert!(matches!(
            Prometheus::new(with_bad_ca),
            Err(ClientError::BadCa)
        ));
    }
}
