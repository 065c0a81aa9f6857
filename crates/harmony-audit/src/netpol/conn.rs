//! `Conn`: a set of connections — port ranges per protocol, plus "every other protocol".

use std::fmt;

use serde::Serialize;

/// Inclusive port ranges, sorted and merged.
type Ranges = Vec<(u16, u16)>;

/// The three protocols NetworkPolicies name.
pub const PROTOCOLS: [&str; 3] = ["TCP", "UDP", "SCTP"];

/// A set of allowed connections.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Conn {
    ports: [Ranges; 3],
    /// Protocols other than TCP/UDP/SCTP (ICMP...): allowed only by a rule without `ports`.
    other: bool,
}

fn normalize(mut r: Ranges) -> Ranges {
    r.sort_unstable();
    let mut out: Ranges = Vec::with_capacity(r.len());
    for (a, b) in r {
        match out.last_mut() {
            Some(last) if u32::from(a) <= u32::from(last.1) + 1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

fn intersect(x: &Ranges, y: &Ranges) -> Ranges {
    let mut out = Vec::new();
    for &(a, b) in x {
        for &(c, d) in y {
            let (lo, hi) = (a.max(c), b.min(d));
            if lo <= hi {
                out.push((lo, hi));
            }
        }
    }
    normalize(out)
}

fn subtract(x: &Ranges, y: &Ranges) -> Ranges {
    let mut out = x.clone();
    for &(c, d) in y {
        out = out
            .into_iter()
            .flat_map(|(a, b)| {
                let mut parts = Vec::new();
                if a < c {
                    parts.push((a, b.min(c - 1)));
                }
                if b > d {
                    parts.push((a.max(d + 1), b));
                }
                if b < c || a > d { vec![(a, b)] } else { parts }
            })
            .collect();
    }
    normalize(out)
}

fn protocol_index(protocol: &str) -> Option<usize> {
    PROTOCOLS.iter().position(|p| *p == protocol)
}

impl Conn {
    /// No connection.
    pub fn none() -> Self {
        Self::default()
    }

    /// Every connection.
    pub fn all() -> Self {
        Self {
            ports: std::array::from_fn(|_| vec![(1, 65535)]),
            other: true,
        }
    }

    /// Ports `first..=last` of `protocol` (`TCP`, `UDP` or `SCTP`; `None` for another).
    pub fn ports(protocol: &str, first: u16, last: u16) -> Option<Self> {
        let i = protocol_index(protocol)?;
        let mut c = Self::none();
        if first <= last {
            c.ports[i] = vec![(first.max(1), last)];
        }
        Some(c)
    }

    /// Whether nothing is allowed.
    pub fn is_empty(&self) -> bool {
        !self.other && self.ports.iter().all(Vec::is_empty)
    }

    /// Whether everything is allowed.
    pub fn is_all(&self) -> bool {
        *self == Self::all()
    }

    /// Whether port `port` of `protocol` is allowed.
    pub fn allows(&self, protocol: &str, port: u16) -> bool {
        protocol_index(protocol)
            .is_some_and(|i| self.ports[i].iter().any(|&(a, b)| a <= port && port <= b))
    }

    /// The union.
    pub fn union(&self, o: &Self) -> Self {
        Self {
            ports: std::array::from_fn(|i| {
                normalize([self.ports[i].clone(), o.ports[i].clone()].concat())
            }),
            other: self.other || o.other,
        }
    }

    /// The intersection.
    pub fn intersect(&self, o: &Self) -> Self {
        Self {
            ports: std::array::from_fn(|i| intersect(&self.ports[i], &o.ports[i])),
            other: self.other && o.other,
        }
    }

    /// What `self` allows and `o` does not.
    pub fn subtract(&self, o: &Self) -> Self {
        Self {
            ports: std::array::from_fn(|i| subtract(&self.ports[i], &o.ports[i])),
            other: self.other && !o.other,
        }
    }

    /// Port ranges per protocol, for serialization and comparison.
    pub fn by_protocol(&self) -> impl Iterator<Item = (&'static str, &[(u16, u16)])> {
        PROTOCOLS
            .iter()
            .zip(&self.ports)
            .map(|(p, r)| (*p, r.as_slice()))
    }
}

impl fmt::Display for Conn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_all() {
            return f.write_str("all connections");
        }
        if self.is_empty() {
            return f.write_str("no connection");
        }
        let mut parts: Vec<String> = self
            .by_protocol()
            .filter(|(_, r)| !r.is_empty())
            .map(|(p, r)| {
                let ports: Vec<String> = r
                    .iter()
                    .map(|&(a, b)| match (a, b) {
                        (1, 65535) => "all ports".into(),
                        (a, b) if a == b => a.to_string(),
                        (a, b) => format!("{a}-{b}"),
                    })
                    .collect();
                format!("{p} {}", ports.join(","))
            })
            .collect();
        if self.other {
            parts.push("other protocols".into());
        }
        f.write_str(&parts.join("; "))
    }
}

impl Serialize for Conn {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(a: u16, b: u16) -> Conn {
        Conn::ports("TCP", a, b).unwrap()
    }

    #[test]
    fn set_algebra() {
        let x = tcp(80, 90).union(&tcp(85, 100)).union(&tcp(101, 101));
        assert_eq!(x, tcp(80, 101));
        assert_eq!(x.intersect(&tcp(95, 200)), tcp(95, 101));
        assert_eq!(x.subtract(&tcp(85, 90)).to_string(), "TCP 80-84,91-101");
        assert!(Conn::all().subtract(&Conn::all()).is_empty());
        assert!(Conn::all().intersect(&tcp(1, 65535)).allows("TCP", 22));
        assert!(!Conn::all().intersect(&tcp(1, 65535)).is_all());
        assert!(Conn::ports("ICMP", 1, 1).is_none());
    }
}
