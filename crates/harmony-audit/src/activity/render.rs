//! Rendering an [`ActivityReport`]: text for people, JSON and CSV for tools. Each tenant's
//! refused and cross-tenant requests come before its activity.

use std::fmt::Write;

use super::summary::{ActivityReport, Attention, TenantActivity};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Text for people.
    Text,
    /// JSON (the serde form of [`ActivityReport`]).
    Json,
    /// CSV: one row per attention entry, then one per action, per tenant.
    Csv,
}

/// Renders `report` in `format`.
pub fn render(report: &ActivityReport, format: Format) -> String {
    match format {
        Format::Text => text(report),
        Format::Json => {
            serde_json::to_string_pretty(report).expect("reports always serialize") + "\n"
        }
        Format::Csv => csv(report),
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// ` in NS (tenant T)`, or nothing for a request without namespace.
fn place(namespace: Option<&str>, owner: Option<&str>) -> String {
    match (namespace, owner) {
        (Some(ns), Some(owner)) => format!(" in {ns} (tenant {owner})"),
        (Some(ns), None) => format!(" in {ns}"),
        (None, _) => String::new(),
    }
}

fn who(user: &str, members: &[String]) -> String {
    if members.is_empty() {
        user.to_string()
    } else {
        format!("{user} (member {})", members.join(", "))
    }
}

fn attention_mark(a: &Attention) -> &'static str {
    match (a.cross_tenant, a.refused) {
        (true, true) => "CROSS-TENANT, REFUSED",
        (true, false) => "CROSS-TENANT, ALLOWED",
        _ => "REFUSED",
    }
}

fn text(report: &ActivityReport) -> String {
    let mut out = String::new();
    let c = &report.counts;
    let _ = write!(
        out,
        "{} read: {}, {} in the window",
        plural(report.files.len() as u64, "audit log", "audit logs"),
        plural(c.lines, "line", "lines"),
        plural(c.requests, "request", "requests"),
    );
    if let Some(since) = &report.since {
        let _ = write!(out, " (since {since}; {} before)", c.before_since);
    }
    let _ = writeln!(
        out,
        ", {} of the tenants below; {}",
        c.attributed,
        plural(
            c.malformed,
            "malformed line skipped",
            "malformed lines skipped"
        )
    );
    for t in &report.tenants {
        tenant_text(&mut out, t);
    }
    out
}

fn tenant_text(out: &mut String, t: &TenantActivity) {
    let _ = writeln!(
        out,
        "\ntenant {} (namespace {}): {}, {} refused, {} on other tenants' namespaces",
        t.tenant,
        t.namespace,
        plural(t.requests, "request", "requests"),
        t.refused,
        t.cross_tenant
    );
    if t.attention.is_empty() {
        let _ = writeln!(
            out,
            "  attention: none (no request refused, none on another tenant's namespace)"
        );
    } else {
        let _ = writeln!(out, "  attention:");
        for a in &t.attention {
            let code = match (a.code, &a.reason) {
                (Some(code), Some(reason)) => format!("{code} {reason}"),
                (Some(code), None) => code.to_string(),
                (None, _) => "no code".into(),
            };
            let _ = writeln!(
                out,
                "    {}: {}: {} {}{}: {code}, {}x, first {}, last {}",
                attention_mark(a),
                who(&a.user, &a.members),
                a.verb,
                a.resource,
                place(a.namespace.as_deref(), a.owner.as_deref()),
                a.count,
                a.first,
                a.last
            );
        }
    }
    if t.actors.is_empty() {
        let _ = writeln!(out, "  activity: none");
        return;
    }
    let _ = writeln!(out, "  activity:");
    for a in &t.actors {
        let impersonated = if a.impersonated_by.is_empty() {
            String::new()
        } else {
            format!(", impersonated by {}", a.impersonated_by.join(", "))
        };
        let _ = writeln!(
            out,
            "    {}{impersonated}: {}, {} refused, {} cross-tenant, {} to {}",
            who(&a.user, &a.members),
            plural(a.requests, "request", "requests"),
            a.refused,
            a.cross_tenant,
            a.first,
            a.last
        );
        for x in &a.actions {
            let refused = if x.refused > 0 {
                format!(" ({} refused)", x.refused)
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "      {} {}{}: {}{refused}",
                x.verb,
                x.resource,
                place(x.namespace.as_deref(), None),
                x.count
            );
        }
    }
}

/// A CSV field, quoted when it holds a comma, quote or line break.
fn field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

fn csv(report: &ActivityReport) -> String {
    let mut out = String::from(
        "tenant,kind,user,members,verb,resource,namespace,owner,code,reason,count,refused,first,last\n",
    );
    let mut row = |fields: [&str; 14]| {
        let line: Vec<String> = fields.iter().map(|f| field(f)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    };
    for t in &report.tenants {
        for a in &t.attention {
            let kind = if a.cross_tenant {
                "cross-tenant"
            } else {
                "refused"
            };
            let refused = if a.refused { a.count } else { 0 };
            row([
                &t.tenant,
                kind,
                &a.user,
                &a.members.join(" "),
                &a.verb,
                &a.resource,
                a.namespace.as_deref().unwrap_or(""),
                a.owner.as_deref().unwrap_or(""),
                &a.code.map_or(String::new(), |c| c.to_string()),
                a.reason.as_deref().unwrap_or(""),
                &a.count.to_string(),
                &refused.to_string(),
                &a.first,
                &a.last,
            ]);
        }
        for a in &t.actors {
            for x in &a.actions {
                row([
                    &t.tenant,
                    "action",
                    &a.user,
                    &a.members.join(" "),
                    &x.verb,
                    &x.resource,
                    x.namespace.as_deref().unwrap_or(""),
                    "",
                    "",
                    "",
                    &x.count.to_string(),
                    &x.refused.to_string(),
                    "",
                    "",
                ]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn csv_fields_are_quoted_when_they_must_be() {
        assert_eq!(field("alice@acme.com"), "alice@acme.com");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
