//! Rendering an [`AuditReport`]: text for people, JSON and JUnit XML for CI.

use std::fmt::Write;

use crate::checks::{AuditReport, Check, EveryPod, PodTemplate, Status};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Text for people.
    Text,
    /// JSON (the serde form of [`AuditReport`]).
    Json,
    /// JUnit XML: a test suite per tenant, a test case per check.
    Junit,
}

/// Renders `report` in `format`.
pub fn render(report: &AuditReport, format: Format) -> String {
    match format {
        Format::Text => text(report),
        Format::Json => {
            serde_json::to_string_pretty(report).expect("reports always serialize") + "\n"
        }
        Format::Junit => junit(report),
    }
}

fn mark(s: Status) -> &'static str {
    match s {
        Status::Pass => "PASS",
        Status::Warn => "WARN",
        Status::Fail => "FAIL",
    }
}

fn text(report: &AuditReport) -> String {
    let mut out = String::new();
    for t in &report.tenants {
        let _ = writeln!(
            out,
            "tenant {} (namespace {}): {}",
            t.tenant,
            t.namespace,
            mark(t.status())
        );
        checks(&mut out, &t.checks);
        for line in &t.declared_connections {
            let _ = writeln!(out, "  declared connection {line}");
        }
    }
    if let Some(worst) = report.platform.iter().map(|c| c.status).max() {
        let _ = writeln!(out, "platform: {}", mark(worst));
        checks(&mut out, &report.platform);
    }
    for n in &report.notes {
        let _ = writeln!(out, "note: {n}");
    }
    let count = |s| {
        report
            .tenants
            .iter()
            .flat_map(|t| &t.checks)
            .chain(&report.platform)
            .filter(|c| c.status == s)
            .count()
    };
    let _ = writeln!(
        out,
        "{} tenants, {} checks passed, {} warned, {} failed",
        report.tenants.len(),
        count(Status::Pass),
        count(Status::Warn),
        count(Status::Fail)
    );
    out
}

/// One line per check, its every-pod verdict, and the evidence of those that do not pass.
fn checks(out: &mut String, checks: &[Check]) {
    for c in checks {
        let _ = writeln!(out, "  {} {} {}", mark(c.status), c.id, c.title);
        if let Some(every) = &c.every_pod {
            let _ = writeln!(out, "      {}", every_pod(every));
        }
        if c.status != Status::Pass {
            for e in &c.evidence {
                let _ = writeln!(out, "      {e}");
            }
        }
    }
}

/// `acme{app=web}` (`:web=TCP/8080` per named port).
fn pod(p: &PodTemplate) -> String {
    let labels: Vec<String> = p.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let ports: String = p
        .named_ports
        .iter()
        .map(|(n, proto, num)| format!(" :{n}={proto}/{num}"))
        .collect();
    format!("{}{{{}}}{ports}", p.namespace, labels.join(","))
}

/// The every-pod verdict of a check, on one line.
fn every_pod(e: &EveryPod) -> String {
    let Some(c) = &e.counterexample else {
        return "holds for every pod".into();
    };
    let on = if c.port == 0 {
        "on no port".to_string()
    } else {
        format!("on {} {}", c.protocol, c.port)
    };
    let why = c.evidence.first().map(String::as_str).unwrap_or_default();
    format!(
        "holds for today's pods only: e.g. {} → {} {on} ({why})",
        pod(&c.source),
        pod(&c.destination)
    )
}

/// `s` escaped for XML text and attribute values.
pub(crate) fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A JUnit test suite `name`, a test case per check.
fn suite(out: &mut String, name: &str, checks: &[Check]) {
    let failures = checks.iter().filter(|c| c.status == Status::Fail).count();
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\">",
        xml(name),
        checks.len()
    );
    for c in checks {
        let name_attr = xml(&format!("{} {}", c.id, c.title));
        let body = xml(&c.evidence.join("\n"));
        let _ = write!(
            out,
            "    <testcase classname=\"{}\" name=\"{name_attr}\">",
            xml(name)
        );
        match c.status {
            Status::Fail => {
                let _ = write!(out, "<failure message=\"{name_attr}\">{body}</failure>");
            }
            Status::Warn | Status::Pass => {
                let _ = write!(
                    out,
                    "<system-out>{}{body}</system-out>",
                    if c.status == Status::Warn {
                        "WARN\n"
                    } else {
                        ""
                    }
                );
            }
        }
        out.push_str("</testcase>\n");
    }
    out.push_str("  </testsuite>\n");
}

fn junit(report: &AuditReport) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"harmony audit\">\n",
    );
    for t in &report.tenants {
        suite(&mut out, &t.tenant, &t.checks);
    }
    if !report.platform.is_empty() {
        suite(&mut out, "platform", &report.platform);
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::{Check, Counterexample, TenantReport};

    #[test]
    fn text_gives_the_every_pod_verdict_after_the_check() {
        let template = |ns: &str, app: &str| PodTemplate {
            namespace: ns.into(),
            labels: [("app".to_string(), app.to_string())].into(),
            named_ports: vec![],
        };
        let check = |every_pod| Check {
            id: "HMT-NET-002",
            title: "No network path to or from another tenant",
            status: Status::Pass,
            evidence: vec![],
            every_pod: Some(every_pod),
        };
        let holds = EveryPod {
            holds: true,
            namespace_labels: "constants".into(),
            counterexample: None,
        };
        let today = EveryPod {
            holds: false,
            namespace_labels: "constants".into(),
            counterexample: Some(Box::new(Counterexample {
                source: template("acme", "x"),
                destination: template("globex", "frontend"),
                protocol: "TCP".into(),
                port: 8080,
                evidence: vec!["egress allowed by NetworkPolicy acme/to-frontend".into()],
            })),
        };
        let report = AuditReport {
            tenants: vec![TenantReport {
                tenant: "acme".into(),
                namespace: "acme".into(),
                checks: vec![check(holds), check(today)],
                declared_connections: vec![],
            }],
            platform: vec![],
            notes: vec![],
        };
        let text = render(&report, Format::Text);
        assert!(text.contains("      holds for every pod\n"), "{text}");
        assert!(
            text.contains("holds for today's pods only: e.g. acme{app=x} → globex{app=frontend} on TCP 8080 (egress allowed by NetworkPolicy acme/to-frontend)"),
            "{text}"
        );
    }
}
