//! `harmony audit report`: one self-contained HTML page (inline CSS, no scripts, no external
//! assets) with what was audited, a summary, the namespace reachability grid and every tenant's
//! checks with their evidence. It prints well to PDF.

mod grid;
#[cfg(test)]
mod tests;

use std::fmt::{self, Display, Write};

use harmony_tenant::{ClusterFacts, ClusterFlavor, PlatformPeer};
use ipnet::IpNet;

use crate::checks::{AuditReport, Check, EveryPod, PodTemplate, Status, TenantReport};
use crate::matrix::{PathReach, Reach, Reachability, TenantReach};

/// What was audited, when, and by which Harmony.
#[derive(Debug, Clone)]
pub struct Provenance {
    /// The source, such as `folder out/`, `tenant files examples/tenants` or
    /// `cluster https://api.example:6443 (context admin)`.
    pub source: String,
    /// The cluster facts the audit assumed or discovered.
    pub facts: ClusterFacts,
    /// When, as RFC 3339 UTC.
    pub time: String,
    /// The Harmony version.
    pub version: String,
}

/// How many checks passed, warned and failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Checks that hold.
    pub passed: usize,
    /// Checks that hold with a caveat.
    pub warned: usize,
    /// Checks that do not hold.
    pub failed: usize,
}

impl Counts {
    /// The counts of every check of `report`.
    pub fn of(report: &AuditReport) -> Self {
        let mut counts = Self::default();
        let tenants = report.tenants.iter().flat_map(|t| &t.checks);
        for c in tenants.chain(&report.platform) {
            *match c.status {
                Status::Pass => &mut counts.passed,
                Status::Warn => &mut counts.warned,
                Status::Fail => &mut counts.failed,
            } += 1;
        }
        counts
    }
}

/// `s` with `&`, `<`, `>`, `"` and `'` as character references: safe as text and as a quoted
/// attribute value.
pub(crate) struct Esc<'a>(pub &'a str);

impl Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..i])?;
            f.write_str(match rest.as_bytes()[i] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[i + 1..];
        }
        f.write_str(rest)
    }
}

/// An attribute value: bare when HTML allows it (names and `all`/`none`, which saves bytes in
/// big grids), else quoted and escaped.
pub(crate) struct Attr<'a>(pub &'a str);

impl Display for Attr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bare = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | ':');
        if !self.0.is_empty() && self.0.chars().all(bare) {
            f.write_str(self.0)
        } else {
            write!(f, "\"{}\"", Esc(self.0))
        }
    }
}

const STYLE: &str = include_str!("html/report.css");

/// The report page of `report` and `matrix` (the same source), audited as `provenance` says.
/// Deterministic: only `provenance` varies between runs on the same source.
pub fn render(report: &AuditReport, matrix: &Reachability, provenance: &Provenance) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let counts = Counts::of(report);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Tenant isolation audit, {}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n\
         <header>\n<h1>Tenant isolation audit</h1>\n",
        Esc(&provenance.time)
    );
    header(&mut out, provenance);
    out.push_str("</header>\n");
    let tenants = by_status(report);
    summary(&mut out, report, &tenants, counts);
    grid::render(&mut out, matrix);
    out.push_str("<section id=\"tenants\">\n<h2>Tenants</h2>\n");
    for (i, t) in &tenants {
        let paths = matrix.tenants.iter().find(|r| r.tenant == t.tenant);
        tenant(&mut out, *i, t, paths);
    }
    out.push_str("</section>\n");
    if !report.platform.is_empty() {
        out.push_str(
            "<section id=\"platform\">\n<h2>Platform</h2>\n<table class=\"list checks\">\n\
             <thead><tr><th>Status</th><th>Check</th><th>Evidence</th></tr></thead>\n<tbody>\n",
        );
        for c in &report.platform {
            check(&mut out, c);
        }
        out.push_str("</tbody>\n</table>\n</section>\n");
    }
    if !report.notes.is_empty() {
        out.push_str("<section id=\"notes\">\n<h2>Notes</h2>\n<ul>\n");
        for n in &report.notes {
            let _ = writeln!(out, "<li>{}</li>", Esc(n));
        }
        out.push_str("</ul>\n</section>\n");
    }
    let _ = write!(
        out,
        "<footer>Harmony {} · {}</footer>\n</body>\n</html>\n",
        Esc(&provenance.version),
        Esc(&provenance.time)
    );
    out
}

/// The tenants with their index in `report` (their anchor), failed first, then warned, then
/// passed; by name within each.
fn by_status(report: &AuditReport) -> Vec<(usize, &TenantReport)> {
    let mut tenants: Vec<(usize, &TenantReport)> = report.tenants.iter().enumerate().collect();
    tenants.sort_by(|(_, a), (_, b)| {
        b.status()
            .cmp(&a.status())
            .then_with(|| a.tenant.cmp(&b.tenant))
    });
    tenants
}

fn header(out: &mut String, p: &Provenance) {
    out.push_str("<table class=\"kv\" id=\"provenance\">\n");
    let mut row = |key: &str, value: &dyn Display| {
        let _ = writeln!(out, "<tr><th>{key}</th><td>{value}</td></tr>");
    };
    row("Source", &Esc(&p.source));
    row("Audited at", &Esc(&p.time));
    row("Harmony", &Esc(&p.version));
    for (key, value) in facts_summary(&p.facts) {
        row(key, &Esc(&value));
    }
    out.push_str("</table>\n");
}

/// The cluster facts, one line each.
fn facts_summary(facts: &ClusterFacts) -> Vec<(&'static str, String)> {
    let nets = |n: &[IpNet], unknown: &str| {
        if n.is_empty() {
            unknown.to_string()
        } else {
            n.iter()
                .map(IpNet::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let flavor = match facts.flavor {
        ClusterFlavor::Kubernetes => "Kubernetes",
        ClusterFlavor::Okd => "OKD",
    };
    vec![
        ("Cluster", flavor.to_string()),
        ("Pod networks", nets(&facts.pod_networks, "not known")),
        (
            "Service networks",
            nets(&facts.service_networks, "not known"),
        ),
        (
            "Node networks",
            nets(&facts.node_networks, "not known: every private range"),
        ),
        (
            "Cluster DNS",
            format!(
                "{}, ports {}",
                peer(&facts.dns.peer),
                facts
                    .dns
                    .ports
                    .iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        ("Ingress controller", peer(&facts.ingress)),
        ("Monitoring", peer(&facts.monitoring)),
        (
            "Storage classes",
            if facts.storage_classes.is_empty() {
                "none listed".into()
            } else {
                facts.storage_classes.join(", ")
            },
        ),
    ]
}

/// `namespaces k=v, pods k=v` (an empty value: the label is present).
fn peer(p: &PlatformPeer) -> String {
    let selector = |labels: &std::collections::BTreeMap<String, String>| {
        labels
            .iter()
            .map(|(k, v)| {
                if v.is_empty() {
                    k.clone()
                } else {
                    format!("{k}={v}")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut text = format!("namespaces {}", selector(&p.namespace_selector));
    if !p.pod_selector.is_empty() {
        let _ = write!(text, ", pods {}", selector(&p.pod_selector));
    }
    text
}

fn mark(s: Status) -> (&'static str, &'static str) {
    match s {
        Status::Pass => ("pass", "PASS"),
        Status::Warn => ("warn", "WARN"),
        Status::Fail => ("fail", "FAIL"),
    }
}

fn badge(s: Status) -> String {
    let (class, text) = mark(s);
    format!("<span class=\"b {class}\">{text}</span>")
}

fn summary(
    out: &mut String,
    report: &AuditReport,
    tenants: &[(usize, &TenantReport)],
    counts: Counts,
) {
    let failing = tenants
        .iter()
        .filter(|(_, t)| t.status() == Status::Fail)
        .count();
    let _ = write!(
        out,
        "<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"counts\">\
         <div><strong>{}</strong>tenants ({failing} failing)</div>\
         <div class=\"pass\"><strong>{}</strong>checks passed</div>\
         <div class=\"warn\"><strong>{}</strong>warned</div>\
         <div class=\"fail\"><strong>{}</strong>failed</div></div>\n",
        report.tenants.len(),
        counts.passed,
        counts.warned,
        counts.failed
    );
    if tenants.is_empty() {
        out.push_str("<p>No tenant namespace found.</p>\n</section>\n");
        return;
    }
    out.push_str(
        "<table class=\"list\">\n<thead><tr><th>Status</th><th>Tenant</th><th>Namespace</th>\
         <th>Checks not passed</th></tr></thead>\n<tbody>\n",
    );
    for (i, t) in tenants {
        let open: Vec<String> = t
            .checks
            .iter()
            .filter(|c| c.status != Status::Pass)
            .map(|c| format!("{} {}", mark(c.status).1, c.id))
            .collect();
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td><a href=\"#t{i}\">{}</a></td><td>{}</td><td>{}</td></tr>",
            badge(t.status()),
            Esc(&t.tenant),
            Esc(&t.namespace),
            if open.is_empty() {
                "none".into()
            } else {
                Esc(&open.join(", ")).to_string()
            }
        );
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

fn tenant(out: &mut String, index: usize, t: &TenantReport, paths: Option<&TenantReach>) {
    let _ = write!(
        out,
        "<section class=\"t\" id=\"t{index}\">\n<h3>{} {} <small>namespace {}</small></h3>\n",
        badge(t.status()),
        Esc(&t.tenant),
        Esc(&t.namespace)
    );
    out.push_str(
        "<table class=\"list checks\">\n<thead><tr><th>Status</th><th>Check</th>\
         <th>Evidence</th></tr></thead>\n<tbody>\n",
    );
    for c in &t.checks {
        check(out, c);
    }
    out.push_str("</tbody>\n</table>\n");
    if let Some(p) = paths {
        platform_paths(out, p);
    }
    out.push_str("</section>\n");
}

fn check(out: &mut String, c: &Check) {
    let _ = write!(
        out,
        "<tr class=\"{}\"><td>{}</td><td><b>{}</b><br>{}</td><td>",
        mark(c.status).0,
        badge(c.status),
        Esc(c.id),
        Esc(c.title)
    );
    lines(out, &c.evidence);
    if let Some(e) = &c.every_pod {
        every_pod(out, c.status, e);
    }
    out.push_str("</td></tr>\n");
}

fn lines(out: &mut String, lines: &[String]) {
    if lines.is_empty() {
        return;
    }
    out.push_str("<ul class=\"ev\">");
    for l in lines {
        let _ = write!(out, "<li>{}</li>", Esc(l));
    }
    out.push_str("</ul>");
}

/// The verdict for every pod the tenants could create, and its counterexample.
fn every_pod(out: &mut String, status: Status, e: &EveryPod) {
    let (class, verdict) = match (e.holds, status) {
        (true, _) => ("ok", "Holds for every pod the tenants could create"),
        (false, Status::Fail) => (
            "no",
            "Fails for today's pods and for pods the tenants could create",
        ),
        (false, _) => (
            "no",
            "Holds for today's pods only: pods the tenants could create break it",
        ),
    };
    let _ = write!(
        out,
        "<div class=\"ep {class}\"><b>{verdict}</b><br>Namespace labels: {}",
        Esc(&e.namespace_labels)
    );
    if let Some(x) = &e.counterexample {
        let _ = write!(
            out,
            "<table class=\"kv cx\"><tr><th>Counterexample</th><td>{} {}</td></tr>\
             <tr><th>From pod</th><td>{}</td></tr><tr><th>To pod</th><td>{}</td></tr></table>",
            Esc(&x.protocol),
            x.port,
            Esc(&pod(&x.source)),
            Esc(&pod(&x.destination))
        );
        lines(out, &x.evidence);
    }
    out.push_str("</div>");
}

/// `in NS, labels k=v, named ports NAME PROTOCOL/PORT`.
fn pod(p: &PodTemplate) -> String {
    let mut text = format!("in {}, ", p.namespace);
    if p.labels.is_empty() {
        text.push_str("no labels");
    } else {
        let labels: Vec<String> = p.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = write!(text, "labels {}", labels.join(", "));
    }
    if !p.named_ports.is_empty() {
        let ports: Vec<String> = p
            .named_ports
            .iter()
            .map(|(name, protocol, port)| format!("{name} {protocol}/{port}"))
            .collect();
        let _ = write!(text, ", named ports {}", ports.join(", "));
    }
    text
}

fn reach(r: &PathReach) -> (&'static str, &'static str) {
    match r.status {
        Reach::Allowed => ("ra", "allowed"),
        Reach::Blocked => ("rb", "blocked"),
        Reach::Partial => ("rp", "partial"),
    }
}

fn platform_paths(out: &mut String, p: &TenantReach) {
    out.push_str(
        "<h4>Platform paths</h4>\n<table class=\"list paths\">\n<thead><tr><th>Path</th>\
         <th>Open</th><th>Pods</th></tr></thead>\n<tbody>\n",
    );
    for (name, r) in grid::paths(p) {
        let (class, text) = reach(r);
        let _ = write!(
            out,
            "<tr><td>{name}</td><td class=\"{class}\">{text}</td><td>"
        );
        lines(out, &r.evidence);
        out.push_str("</td></tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
}
