//! Rendering a [`ProbeReport`]: text for people, JSON and JUnit XML for CI (the formats of the
//! isolation audit's [`report`](crate::report)).

use std::fmt::Write;

use super::{Expect, Outcome, ProbeReport, ProbeResult, Verdict};
use crate::report::{Format, xml};

/// Renders `report` in `format`.
pub fn render(report: &ProbeReport, format: Format) -> String {
    match format {
        Format::Text => text(report),
        Format::Json => {
            serde_json::to_string_pretty(report).expect("reports always serialize") + "\n"
        }
        Format::Junit => junit(report),
    }
}

fn mark(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "PASS",
        Verdict::Error => "ERROR",
        Verdict::Fail => "FAIL",
    }
}

/// `blocked by RBAC` or `allowed`, and what was expected when it differs.
fn summary(r: &ProbeResult) -> String {
    let got = match &r.outcome {
        Outcome::Allowed => "allowed".to_string(),
        Outcome::Blocked(layer) => format!("blocked by {layer}"),
        Outcome::Error => "error".to_string(),
    };
    match (r.verdict, r.expect) {
        (Verdict::Pass, _) => got,
        (_, Expect::MustBlock) => format!("{got}, must be blocked"),
        (_, Expect::MustAllow) => format!("{got}, must be allowed"),
    }
}

fn text(report: &ProbeReport) -> String {
    let mut out = format!(
        "probes against {} (dry run: nothing is stored)\n",
        report.server
    );
    for t in &report.tenants {
        let _ = writeln!(
            out,
            "tenant {} (namespace {}; other tenant's namespace {}): {}",
            t.tenant,
            t.namespace,
            t.other_namespace,
            mark(t.verdict())
        );
        for i in &t.identities {
            let who = &i.identity;
            let _ = writeln!(
                out,
                "  {} {} ({}; as {}, groups {})",
                who.role.as_str(),
                who.member,
                who.subject,
                who.user,
                who.groups.join(", ")
            );
            for r in &i.results {
                let _ = writeln!(
                    out,
                    "    {} {} {}: {}",
                    mark(r.verdict),
                    r.id,
                    r.title,
                    summary(r)
                );
                if r.verdict != Verdict::Pass {
                    let _ = writeln!(out, "        {}", r.request);
                    let _ = writeln!(out, "        server: {}", r.answer);
                }
            }
        }
    }
    for n in &report.notes {
        let _ = writeln!(out, "note: {n}");
    }
    let results = || {
        report
            .tenants
            .iter()
            .flat_map(|t| &t.identities)
            .flat_map(|i| &i.results)
    };
    let count = |v| results().filter(|r| r.verdict == v).count();
    let _ = writeln!(
        out,
        "{} tenants, {} probes passed, {} failed, {} errors",
        report.tenants.len(),
        count(Verdict::Pass),
        count(Verdict::Fail),
        count(Verdict::Error)
    );
    out
}

/// A test suite per tenant, a test case per probe and role.
fn junit(report: &ProbeReport) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"harmony audit probe\">\n",
    );
    for t in &report.tenants {
        let results: Vec<(&str, &ProbeResult)> = t
            .identities
            .iter()
            .flat_map(|i| i.results.iter().map(|r| (i.identity.role.as_str(), r)))
            .collect();
        let count = |v| results.iter().filter(|(_, r)| r.verdict == v).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\">",
            xml(&t.tenant),
            results.len(),
            count(Verdict::Fail),
            count(Verdict::Error)
        );
        for (role, r) in results {
            let name = xml(&format!("{} {}: {}", r.id, role, r.title));
            let body = xml(&format!(
                "{}\n{}\nserver: {}",
                summary(r),
                r.request,
                r.answer
            ));
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{name}\">",
                xml(&t.tenant)
            );
            let _ = match r.verdict {
                Verdict::Pass => write!(out, "<system-out>{body}</system-out>"),
                Verdict::Fail => write!(out, "<failure message=\"{name}\">{body}</failure>"),
                Verdict::Error => write!(out, "<error message=\"{name}\">{body}</error>"),
            };
            out.push_str("</testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
