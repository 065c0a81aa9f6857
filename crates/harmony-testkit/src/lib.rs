//! Dev-only test kit: a real Kubernetes control plane harness, a real Keycloak harness, a
//! stateful fake Kubernetes API server and fixtures. Never a product target.
//!
//! [`Keycloak`] starts the Keycloak `tools/keycloak/install` caches, with HTTPS from a fresh CA,
//! on loopback: the identity provider of the identity tests.
//!
//! [`ControlPlane`] starts etcd, kube-apiserver and kube-controller-manager built from their Go
//! modules (`tools/controlplane/build`): the test target for everything live. The fake stays for
//! fault injection and fast tests; where the two disagree, the real one is right.
//!
//! [`browser::Browser`] is a scripted browser for identity provider login pages (cookies,
//! redirects, forms).
//!
//! [`FakeApiServer`] serves real HTTP on `127.0.0.1:<port>` from its own thread and runtime, so the
//! kube-rs client and `kubectl` both work against it:
//!
//! ```no_run
//! use harmony_testkit::{FakeApiServer, FakeOptions, Fault, FaultPlan, Flavor, Gvr};
//! # async fn demo() {
//! let server = FakeApiServer::start(FakeOptions { flavor: Flavor::Okd, ..Default::default() }).unwrap();
//! let client = server.client(); // kube::Client; build it inside a tokio runtime
//! server.set_faults(Some(FaultPlan {
//!     seed: 7,
//!     rate: 0.1,
//!     kinds: vec![Fault::Status503, Fault::TooManyRequests { retry_after_secs: 1 }],
//!     only_writes: true,
//! }));
//! // ... run the code under test with `client` ...
//! # let _ = client;
//! let bindings = server.requests().into_iter().filter(|r| r.is_write() && r.resource == "rolebindings");
//! # let _ = bindings.count();
//! let quota = server.object(&Gvr::core("resourcequotas"), Some("tenant-a"), "quota");
//! # let _ = quota;
//! # }
//! ```
//!
//! Served: `/version` (v1.33.0), legacy discovery (`/api`, `/apis`, group and resource lists),
//! get/list (label selectors `= == != in notin key !key`; field selectors on `metadata.name` and
//! `metadata.namespace`), create, replace (stale `resourceVersion` → 409), delete, deletecollection,
//! merge/JSON/strategic-merge (as merge) patches, server-side apply with field ownership, `dryRun=All`,
//! `metav1.Status` errors, the `status`, `approval` (CSR), `finalize` (namespace) and
//! `serviceaccounts/token` subresources, `SelfSubjectAccessReview`, and `Table` answers for `kubectl get`.
//!
//! Fidelity limits: no watch (405); no OpenAPI (`kubectl` needs `--validate=false`); JSON bodies only
//! (imperative `kubectl create` sends protobuf → 415); lists are atomic in field ownership (no
//! associative lists by key); client-sent `managedFields` are ignored; no admission (policies are
//! stored, not enforced), no RBAC (every request is allowed), no validation of object schemas;
//! deleting an object with finalizers other than a namespace is immediate; no pagination (`limit`
//! and `continue` are ignored); `generation` bumps on any change outside `metadata` and `status`.

pub mod browser;
mod controlplane;
mod fake;
pub mod keycloak;
pub mod velero;

pub use controlplane::{
    Binaries, ControlPlane, ControlPlaneError, ControlPlaneOptions, FailureGuard, Identity,
};

pub use keycloak::{Keycloak, KeycloakHarnessError};

pub use fake::faults::{Fault, FaultPlan};
pub use fake::log::RecordedRequest;
pub use fake::registry::{Flavor, Gvr};
pub use fake::server::FakeApiServer;
pub use fake::state::{FakeOptions, NamespaceDeletion};
pub use velero::Velero;
