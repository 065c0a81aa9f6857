//! How apply, plan and status results are shown: tables and diffs for people, JSON or YAML.

use std::io::Write;

use anyhow::Context;
use harmony::Report;
use harmony_k8s::{Action, TenantReport, TenantStatus};
use serde::Serialize;

use super::Format;

/// One tenant's line of the apply table.
#[derive(Serialize)]
pub struct Row {
    tenant: String,
    created: usize,
    changed: usize,
    unchanged: usize,
    pruned: usize,
    /// `ok` or `failed`.
    result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// The namespaces taken over, with the RoleBindings Harmony did not make found there.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    adopted: Vec<String>,
}

/// The table rows, in the order the tenants were given.
pub fn rows(report: &Report, reports: &[TenantReport]) -> Vec<Row> {
    report
        .results
        .iter()
        .map(|result| {
            let tenant = result.score.trim_start_matches("tenant ").to_string();
            let counts = reports.iter().find(|r| r.tenant == tenant);
            let count = |f: fn(&TenantReport) -> usize| counts.map(f).unwrap_or_default();
            Row {
                created: count(|r| r.created),
                changed: count(|r| r.changed),
                unchanged: count(|r| r.unchanged),
                pruned: count(|r| r.pruned),
                result: if result.result.is_ok() {
                    "ok"
                } else {
                    "failed"
                },
                error: result.result.as_ref().err().map(ToString::to_string),
                adopted: counts
                    .map(|r| r.adopted.iter().map(ToString::to_string).collect())
                    .unwrap_or_default(),
                tenant,
            }
        })
        .collect()
}

fn emit(text: &str) -> anyhow::Result<()> {
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .context("writing to standard output")
}

/// Prints `value` as JSON or YAML; `false` when the format is text.
fn structured<T: Serialize>(value: &T, format: Format) -> anyhow::Result<bool> {
    match format {
        Format::Text => Ok(false),
        Format::Json => emit(&format!("{}\n", serde_json::to_string_pretty(value)?)).map(|_| true),
        Format::Yaml => emit(&serde_saphyr::to_string(value)?).map(|_| true),
    }
}

/// The per-tenant table of `apply`, then the failures and the summary.
pub fn print_table(rows: &[Row], summary: &str, format: Format) -> anyhow::Result<()> {
    if structured(&rows, format)? {
        return Ok(());
    }
    let width = rows
        .iter()
        .map(|r| r.tenant.len())
        .max()
        .unwrap_or(0)
        .max(6);
    let mut text = format!(
        "{:width$}  CREATED  CHANGED  UNCHANGED  PRUNED  RESULT\n",
        "TENANT"
    );
    for r in rows {
        text.push_str(&format!(
            "{:width$}  {:>7}  {:>7}  {:>9}  {:>6}  {}\n",
            r.tenant, r.created, r.changed, r.unchanged, r.pruned, r.result
        ));
    }
    for r in rows {
        for adopted in &r.adopted {
            text.push_str(&format!("{}: adopted {adopted}\n", r.tenant));
        }
        if let Some(error) = &r.error {
            text.push_str(&format!("{}: {error}\n", r.tenant));
        }
    }
    text.push_str(summary);
    text.push('\n');
    emit(&text)
}

/// What `plan` (or `apply --dry-run=server`) found, object by object, as a diff.
pub fn print_plan(rows: &[Row], reports: &[TenantReport], format: Format) -> anyhow::Result<()> {
    if structured(&reports, format)? {
        return Ok(());
    }
    let mut text = String::new();
    let (mut create, mut change, mut prune) = (0, 0, 0);
    for row in rows {
        let Some(report) = reports.iter().find(|r| r.tenant == row.tenant) else {
            continue;
        };
        if let Some(error) = &row.error {
            text.push_str(&format!("tenant {}: failed: {error}\n", row.tenant));
            continue;
        }
        if !report.wrote() {
            continue;
        }
        text.push_str(&format!("tenant {}:\n", row.tenant));
        for adoption in &report.adopted {
            text.push_str(&format!("  ! adopt {adoption}\n"));
        }
        for change_ in &report.changes {
            let (mark, what) = match change_.action {
                Action::Created => ("+", "create"),
                Action::Changed => ("~", "change"),
                Action::Pruned => ("-", "prune"),
            };
            text.push_str(&format!("  {mark} {} ({what})\n", change_.object));
            for diff in &change_.diff {
                text.push_str(&format!("      {diff}\n"));
            }
        }
        create += report.created;
        change += report.changed;
        prune += report.pruned;
    }
    let unchanged = reports
        .iter()
        .filter(|r| !r.wrote() && r.error.is_none())
        .count();
    text.push_str(&format!(
        "Plan: {create} to create, {change} to change, {prune} to prune; {unchanged} tenant{} unchanged\n",
        if unchanged == 1 { "" } else { "s" }
    ));
    emit(&text)
}

/// `status`: quota used against hard, members, policies and drift, per tenant.
pub fn print_status(statuses: &[TenantStatus], format: Format) -> anyhow::Result<()> {
    if structured(&statuses, format)? {
        return Ok(());
    }
    let mut text = String::new();
    for status in statuses {
        text.push_str(&format!(
            "tenant {} (namespace {}, {})\n  quota:\n",
            status.tenant, status.namespace, status.phase
        ));
        for q in &status.quota {
            text.push_str(&format!("    {:32} {} / {}\n", q.resource, q.used, q.hard));
        }
        text.push_str("  members:\n");
        for m in &status.members {
            text.push_str(&format!(
                "    {}: {} -> {}\n",
                m.binding,
                m.subjects.join(", "),
                m.role
            ));
        }
        text.push_str(&format!("  policies: {}\n", status.policies.join(", ")));
        match &status.drift {
            None => text.push_str("  drift: not compared (give -f with the tenant files)\n"),
            Some(drift) if drift.is_empty() => text.push_str("  drift: none\n"),
            Some(drift) => {
                text.push_str("  drift:\n");
                for change in drift {
                    text.push_str(&format!("    {:?} {}\n", change.action, change.object));
                    for diff in &change.diff {
                        text.push_str(&format!("        {diff}\n"));
                    }
                }
            }
        }
    }
    if statuses.is_empty() {
        text.push_str("no tenant managed by Harmony in this cluster\n");
    }
    emit(&text)
}
