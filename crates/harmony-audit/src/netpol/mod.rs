//! NetworkPolicy reachability with Kubernetes semantics, plus AdminNetworkPolicy and
//! BaselineAdminNetworkPolicy tiers when present.
//!
//! Pods are grouped into equivalence classes — same namespace, same values of the label keys some
//! selector looks at, same named ports — and every question is answered per class pair.
//! A NetworkPolicy ipBlock matches the addresses it covers and, when pod IPs are known (a live
//! cluster's `status.podIPs`), the pods whose IPs it covers, as the conformance tests expect; pods
//! an ipBlock covers are told apart by their IPs. Without known IPs (rendered manifests) an
//! ipBlock selects no pod. AdminNetworkPolicy `networks` select no pod.

mod classes;
mod compile;
mod conn;
mod eval;
mod ranges;
mod set;
mod symbolic;

pub use classes::{Endpoint, PodClass};
pub use conn::{Conn, PROTOCOLS};
pub use eval::{Effect, Network, Step, Verdict};
pub use ranges::AddrRange;
pub use symbolic::{Instance, Party, Reach, Symbolic, Witness};
