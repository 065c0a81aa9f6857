//! The fake Kubernetes API server: discovery, a JSON object store with server-side apply, faults and
//! a request log, served over real HTTP.

pub mod faults;
pub mod fields;
pub mod handler;
pub mod log;
pub mod managed;
pub mod ops;
pub mod registry;
pub mod route;
pub mod selector;
pub mod server;
pub mod state;
pub mod status;
pub mod store;
pub mod table;
