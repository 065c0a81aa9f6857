//! Declared cross-tenant connections: a path between two tenants' pods that a two-sided
//! declaration covers (its tenants, its pods, within its ports) is reported as declared, not as a
//! leak.

use harmony_tenant::TENANT_LABEL;
use harmony_tenant::connections::MatchedConnection;

use crate::netpol::{Conn, Network};

/// The ports `connection` opens.
pub(crate) fn declared_ports(connection: &MatchedConnection) -> Conn {
    connection.ports.iter().fold(Conn::none(), |all, p| {
        let one = Conn::ports(p.protocol.as_str(), p.port, p.port)
            .expect("connection protocols are NetworkPolicy protocols");
        all.union(&one)
    })
}

/// The connection of `connections` from `caller`'s pods to `callee`'s, if one is declared.
pub(crate) fn between<'c>(
    connections: &'c [MatchedConnection],
    caller: &str,
    callee: &str,
) -> Option<&'c MatchedConnection> {
    connections
        .iter()
        .find(|m| m.caller == caller && m.callee == callee)
}

/// The declaration covering the path from pod class `src` to pod class `dst` that carries
/// `conn`: the classes' namespaces are the caller's and the callee's, `dst`'s pods are the
/// selected ones and every connection of `conn` is on a declared port.
pub(crate) fn covering<'c>(
    connections: &'c [MatchedConnection],
    net: &Network,
    (src, dst): (usize, usize),
    conn: &Conn,
) -> Option<&'c MatchedConnection> {
    let classes = net.classes();
    let tenant = |c: usize| classes[c].namespace_labels.get(TENANT_LABEL);
    let found = between(connections, tenant(src)?, tenant(dst)?)?;
    (found.selects(&classes[dst].labels) && conn.subtract(&declared_ports(found)).is_empty())
        .then_some(found)
}
