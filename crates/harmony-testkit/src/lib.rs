//! Dev-only test kit: a stateful fake Kubernetes API server and fixtures. Never a product target.
//!
//! ```no_run
//! use harmony_testkit::{FakeApiServer, FakeOptions};
//! # async fn demo() {
//! let server = FakeApiServer::start(FakeOptions::default()).unwrap();
//! let client = server.client(); // a real kube::Client over http://127.0.0.1:<port>
//! # let _ = client;
//! let writes = server.requests().iter().filter(|r| r.is_write()).count();
//! # let _ = writes;
//! # }
//! ```

mod fake;

pub use fake::faults::{Fault, FaultPlan};
pub use fake::log::RecordedRequest;
pub use fake::registry::{Flavor, Gvr};
pub use fake::server::FakeApiServer;
pub use fake::state::{FakeOptions, NamespaceDeletion};
