//! Kubernetes name rules (DNS-1123) and the namespaces tenants may never use.

/// Whether `s` is a DNS-1123 label of at most `max` characters: lowercase letters, digits and
/// `-`, starting and ending with a letter or digit.
pub fn is_dns_label(s: &str, max: usize) -> bool {
    let bytes = s.as_bytes();
    let edge = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    !s.is_empty()
        && s.len() <= max
        && bytes.iter().all(|b| edge(b) || *b == b'-')
        && bytes.first().is_some_and(edge)
        && bytes.last().is_some_and(edge)
}

/// Whether `s` is a DNS-1123 subdomain (dot-separated labels, at most 253 characters).
pub fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(|label| is_dns_label(label, 63))
}

/// Why a namespace is reserved for the platform, or `None` when a tenant may use it.
pub fn reserved_namespace(ns: &str) -> Option<&'static str> {
    if ns == "default" {
        Some("`default` is shared by everyone")
    } else if ns.starts_with("kube-") {
        Some("`kube-*` namespaces belong to Kubernetes")
    } else if ns.starts_with("openshift") {
        Some("`openshift*` namespaces belong to OKD/OpenShift")
    } else if ns == "harmony-system" {
        Some("`harmony-system` belongs to Harmony")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        for ok in ["a", "acme", "a-1", "0a"] {
            assert!(is_dns_label(ok, 40), "{ok}");
        }
        for bad in ["", "Acme", "-a", "a-", "a_b", "a.b", &"a".repeat(41)] {
            assert!(!is_dns_label(bad, 40), "{bad}");
        }
        assert!(is_dns_label(&"a".repeat(63), 63));
    }

    #[test]
    fn subdomains() {
        assert!(is_dns_subdomain("fast-ssd.example.com"));
        assert!(!is_dns_subdomain("fast..ssd"));
        assert!(!is_dns_subdomain("Fast"));
    }

    #[test]
    fn reserved() {
        for ns in [
            "default",
            "kube-system",
            "kube-anything",
            "openshift",
            "openshift-dns",
            "harmony-system",
        ] {
            assert!(reserved_namespace(ns).is_some(), "{ns}");
        }
        for ns in ["acme", "kubernetes", "my-openshift"] {
            assert!(reserved_namespace(ns).is_none(), "{ns}");
        }
    }
}
