//! NetworkPolicy reachability with Kubernetes semantics, plus AdminNetworkPolicy and
//! BaselineAdminNetworkPolicy tiers when present.
//!
//! Pods are grouped into equivalence classes — same namespace, same values of the label keys some
//! selector looks at, same named ports — and every question is answered per class pair.
//! ipBlocks match only addresses outside the pod set (pods are matched by selectors), as
//! network-config-analyzer does.

mod classes;
mod compile;
mod conn;
mod eval;
mod ranges;

pub use classes::{Endpoint, PodClass};
pub use conn::{Conn, PROTOCOLS};
pub use eval::{Effect, Network, Step, Verdict};
pub use ranges::AddrRange;
