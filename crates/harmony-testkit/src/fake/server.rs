//! The HTTP server: hyper on `127.0.0.1`, on its own runtime thread.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use harmony_kube::Kind;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming as Body};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use k8s_openapi::api::core::v1::Namespace;
use serde_json::Value;
use tokio::sync::oneshot;

use super::faults::{Fault, FaultInjector, FaultPlan};
use super::handler::{Incoming, fault_answer};
use super::log::RecordedRequest;
use super::registry::Gvr;
use super::state::{FakeOptions, State};
use super::store::ObjectKey;

/// A running fake Kubernetes API server on `http://127.0.0.1:<port>`; stopped on drop.
#[derive(Debug)]
pub struct FakeApiServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// Why the fake closed a connection without answering.
#[derive(Debug, thiserror::Error)]
enum Unanswered {
    #[error("injected fault: connection dropped")]
    Dropped,
    #[error("reading the request body failed: {0}")]
    Body(#[from] hyper::Error),
}

impl FakeApiServer {
    /// Binds `127.0.0.1:0` and serves on a background thread with its own tokio runtime.
    pub fn start(options: FakeOptions) -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let state = Arc::new(Mutex::new(State::new(options)));
        let (shutdown, stop) = oneshot::channel();
        let served = Arc::clone(&state);
        let thread = std::thread::Builder::new()
            .name(format!("fake-apiserver-{}", addr.port()))
            .spawn(move || runtime.block_on(serve(listener, served, stop)))?;
        Ok(Self {
            addr,
            state,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A kube-rs configuration for this server: no TLS, no authentication. kube's default retry
    /// policy (429/503/504 retried, honouring `Retry-After`) stays on; set `default_retry = false`
    /// to see every injected fault.
    pub fn config(&self) -> kube::Config {
        let uri = self
            .url()
            .parse()
            .expect("a socket address forms a valid URI");
        kube::Config::new(uri)
    }

    /// A kube-rs client for this server. Call it inside a tokio runtime.
    pub fn client(&self) -> kube::Client {
        kube::Client::try_from(self.config()).expect("a plain-HTTP kube client always builds")
    }

    /// Writes a kubeconfig (context `fake`, no credentials) for `kubectl --kubeconfig`.
    pub fn write_kubeconfig(&self, path: &Path) -> std::io::Result<()> {
        let url = self.url();
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {url}\n\
             contexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\n    namespace: default\n\
             current-context: fake\nusers:\n- name: fake\n  user: {{}}\n"
        );
        std::fs::write(path, text)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every request received since start or the last [`clear_requests`](Self::clear_requests), in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state().log.clone()
    }

    /// Empties the request log (sequence numbers keep counting).
    pub fn clear_requests(&self) {
        self.state().log.clear();
    }

    /// Replaces the fault plan (`None` stops injecting); the generator restarts from the plan's seed.
    pub fn set_faults(&self, plan: Option<FaultPlan>) {
        self.state().faults = plan.map(FaultInjector::new);
    }

    /// A stored object as a client would read it. `namespace` is ignored for cluster-scoped resources.
    pub fn object(&self, gvr: &Gvr, namespace: Option<&str>, name: &str) -> Option<Value> {
        let state = self.state();
        let namespaced = state
            .registry
            .find(&gvr.group, &gvr.version, &gvr.resource)?
            .namespaced;
        let namespace = if namespaced {
            namespace.unwrap_or_default()
        } else {
            ""
        };
        let key = ObjectKey {
            gvr: gvr.clone(),
            namespace: namespace.into(),
            name: name.into(),
        };
        state.store.get(&key).map(|s| s.render())
    }

    /// Stored objects of a resource, in one namespace or all, ordered by namespace and name.
    pub fn objects(&self, gvr: &Gvr, namespace: Option<&str>) -> Vec<Value> {
        self.state()
            .store
            .list(gvr, namespace)
            .map(|(_, s)| s.render())
            .collect()
    }

    /// Stores an object directly (not logged, no field manager): fixtures such as pods or nodes.
    /// Returns the stored object, or `None` if its `apiVersion`/`kind` is not served or it has no name.
    pub fn insert(&self, object: Value) -> Option<Value> {
        self.state().seed(object)
    }

    /// Completes the deletion of a namespace held `Terminating` by [`NamespaceDeletion::Stuck`](super::state::NamespaceDeletion::Stuck).
    /// Returns whether a terminating namespace was removed.
    pub fn finalize_namespace(&self, name: &str) -> bool {
        let mut state = self.state();
        let key = ObjectKey {
            gvr: Gvr::of(Kind::of::<Namespace>()),
            namespace: String::new(),
            name: name.into(),
        };
        let terminating = state
            .store
            .get(&key)
            .is_some_and(|ns| !ns.object["metadata"]["deletionTimestamp"].is_null());
        terminating && state.store.remove(&key, false).is_some()
    }
}

impl Drop for FakeApiServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(
    listener: std::net::TcpListener,
    state: Arc<Mutex<State>>,
    mut stop: oneshot::Receiver<()>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    loop {
        let stream = tokio::select! {
            _ = &mut stop => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
        };
        let state = Arc::clone(&state);
        let host = listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        tokio::spawn(async move {
            let service = service_fn(move |req| answer(Arc::clone(&state), host.clone(), req));
            // A dropped connection (injected or by the client) ends here; nothing to report.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn answer(
    state: Arc<Mutex<State>>,
    host: String,
    req: Request<Body>,
) -> Result<Response<Full<Bytes>>, Unanswered> {
    let (parts, body) = req.into_parts();
    let header = |name: http::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let incoming = Incoming {
        method: parts.method.clone(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or_default().to_string(),
        content_type: header(http::header::CONTENT_TYPE)
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_string(),
        accept: header(http::header::ACCEPT),
        user_agent: header(http::header::USER_AGENT),
        body: body.collect().await?.to_bytes().to_vec(),
    };
    let (seq, fault) = lock(&state).admit(&incoming);
    let answer = match fault {
        Some(Fault::DropConnection) => return Err(Unanswered::Dropped),
        Some(Fault::Latency(delay)) => {
            tokio::time::sleep(delay).await;
            None
        }
        Some(fault) => fault_answer(fault),
        None => None,
    };
    let answer = {
        let mut state = lock(&state);
        let answer = answer.unwrap_or_else(|| state.execute(&incoming, &host));
        state.finish(seq, Some(answer.status));
        answer
    };
    let mut response = Response::builder()
        .status(answer.status)
        .header(http::header::CONTENT_TYPE, "application/json");
    for (name, value) in answer.headers {
        response = response.header(name, value);
    }
    let body = serde_json::to_vec(&answer.body).unwrap_or_default();
    Ok(response
        .body(Full::new(Bytes::from(body)))
        .expect("status codes and headers are valid"))
}
