//! Usage and cost reports as text (aligned columns), JSON and CSV. The text and CSV share their
//! rows: one per tenant and resource (`cpu`, `memory`, `storage/<class>`), plus a `total` row
//! per tenant in cost reports. Tenant, namespace and class names are DNS names, so no CSV field
//! needs quoting.

use std::fmt::Write;

use crate::cost::{CostReport, GIB};
use crate::figures::UsageReport;

/// How a report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Aligned columns and a summary line.
    Text,
    /// One JSON object.
    Json,
    /// A header and one row per tenant and resource.
    Csv,
}

/// `report` written as `format`.
pub fn usage(report: &UsageReport, format: Format) -> String {
    let header = [
        "tenant",
        "namespace",
        "resource",
        "unit",
        "reserved",
        "requested",
        "used",
    ];
    let mut rows = Vec::new();
    for t in &report.tenants {
        let row = |resource: &str, unit: &str, values: [Option<f64>; 3]| {
            let mut row = vec![
                t.tenant.clone(),
                t.namespace.clone(),
                resource.into(),
                unit.into(),
            ];
            row.extend(values.iter().map(|v| number(*v, 3)));
            row
        };
        let f = t.cpu;
        rows.push(row(
            "cpu",
            "cores",
            [Some(f.reserved), Some(f.requested), Some(f.used)],
        ));
        let f = t.memory;
        rows.push(row(
            "memory",
            "GiB",
            [
                Some(f.reserved / GIB),
                Some(f.requested / GIB),
                Some(f.used / GIB),
            ],
        ));
        for (class, s) in &t.storage {
            rows.push(row(
                &format!("storage/{class}"),
                "GiB",
                [
                    Some(s.reserved / GIB),
                    Some(s.requested / GIB),
                    Some(s.used / GIB),
                ],
            ));
        }
    }
    let title = format!(
        "Usage at {}: {} tenant{}",
        report.at,
        report.tenants.len(),
        plural(report.tenants.len())
    );
    write(format, report, &title, &header, &rows, "")
}

/// `report` written as `format`.
pub fn cost(report: &CostReport, format: Format) -> String {
    let currency = &report.currency;
    let (header, rows) = cost_table(report);
    let title = cost_title(report);
    let summary = format!(
        "Total: reserved {:.2} {currency}, allocated {:.2} {currency}\n",
        report.reserved_cost, report.allocated_cost
    );
    write(format, report, &title, &header, &rows, &summary)
}

/// The line that says what a cost report covers.
pub(crate) fn cost_title(report: &CostReport) -> String {
    format!(
        "Cost from {} to {} ({} h in steps of {} s), prices `{}` in {}: {} tenant{}",
        report.start,
        report.end,
        report.hours,
        report.step_seconds,
        report.price_sheet,
        report.currency,
        report.tenants.len(),
        plural(report.tenants.len())
    )
}

/// The header and rows of a cost report: one per tenant and resource, and a `total` row.
pub(crate) fn cost_table(report: &CostReport) -> ([&'static str; 10], Vec<Vec<String>>) {
    let currency = &report.currency;
    let header = [
        "tenant",
        "namespace",
        "resource",
        "unit",
        "reserved",
        "requested",
        "used",
        "allocated",
        "reserved_cost",
        "allocated_cost",
    ];
    let mut rows = Vec::new();
    for t in &report.tenants {
        let row = |resource: &str, unit: &str, amounts: [Option<f64>; 4], costs: [f64; 2]| {
            let mut row = vec![
                t.tenant.clone(),
                t.namespace.clone(),
                resource.into(),
                unit.into(),
            ];
            row.extend(amounts.iter().map(|v| number(*v, 3)));
            row.extend(costs.iter().map(|v| number(Some(*v), 2)));
            row
        };
        for (resource, unit, l) in [("cpu", "core-h", t.cpu), ("memory", "GiB-h", t.memory)] {
            rows.push(row(
                resource,
                unit,
                [
                    Some(l.reserved),
                    Some(l.requested),
                    Some(l.used),
                    Some(l.allocated),
                ],
                [l.reserved_cost, l.allocated_cost],
            ));
        }
        for (class, s) in &t.storage {
            rows.push(row(
                &format!("storage/{class}"),
                "GiB-month",
                [
                    Some(s.reserved),
                    Some(s.requested),
                    Some(s.used),
                    Some(s.allocated),
                ],
                [s.reserved_cost, s.allocated_cost],
            ));
        }
        rows.push(row(
            "total",
            currency,
            [None; 4],
            [t.reserved_cost, t.allocated_cost],
        ));
    }
    (header, rows)
}

/// `value` with `decimals`, or empty when there is none.
fn number(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(String::new, |v| format!("{v:.decimals$}"))
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The report as `format`: the JSON of `report`, or `rows` under `header` (text: after `title`,
/// aligned, then `summary`).
fn write<R: serde::Serialize>(
    format: Format,
    report: &R,
    title: &str,
    header: &[&str],
    rows: &[Vec<String>],
    summary: &str,
) -> String {
    match format {
        Format::Json => {
            let mut json = serde_json::to_string_pretty(report).expect("reports serialize");
            json.push('\n');
            json
        }
        Format::Csv => {
            let mut out = header.join(",");
            out.push('\n');
            for row in rows {
                out.push_str(&row.join(","));
                out.push('\n');
            }
            out
        }
        Format::Text => {
            let upper: Vec<String> = header.iter().map(|h| h.to_uppercase()).collect();
            let mut widths: Vec<usize> = upper.iter().map(String::len).collect();
            for row in rows {
                for (w, cell) in widths.iter_mut().zip(row) {
                    *w = (*w).max(cell.len());
                }
            }
            let mut out = format!("{title}\n");
            for row in std::iter::once(&upper).chain(rows) {
                let mut line = String::new();
                for (i, (cell, w)) in row.iter().zip(&widths).enumerate() {
                    // Names left, figures right.
                    let _ = if i < 4 {
                        write!(line, "{cell:<w$}  ")
                    } else {
                        write!(line, "{cell:>w$}  ")
                    };
                }
                out.push_str(line.trim_end());
                out.push('\n');
            }
            out.push_str(summary);
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::tests::{acme, sheet};

    #[test]
    fn cost_rows_are_the_same_in_text_and_csv() {
        let (m, tenants, window) = acme();
        let report = crate::cost::cost(&m, &tenants, &window, &sheet("{fast: 7.3}")).unwrap();
        assert_eq!(
            cost(&report, Format::Csv),
            "tenant,namespace,resource,unit,reserved,requested,used,allocated,reserved_cost,allocated_cost
acme,acme,cpu,core-h,12.000,6.000,6.000,7.000,6.00,3.50
acme,acme,memory,GiB-h,24.000,12.000,12.000,14.000,6.00,3.50
acme,acme,storage/fast,GiB-month,0.411,0.300,0.350,0.400,3.00,2.92
acme,acme,total,EUR,,,,,15.00,9.92
"
        );
        assert_eq!(
            cost(&report, Format::Text),
            "Cost from 2026-11-30T00:00:00Z to 2026-11-30T03:00:00Z (3 h in steps of 3600 s), prices `lab` in EUR: 1 tenant
TENANT  NAMESPACE  RESOURCE      UNIT       RESERVED  REQUESTED    USED  ALLOCATED  RESERVED_COST  ALLOCATED_COST
acme    acme       cpu           core-h       12.000      6.000   6.000      7.000           6.00            3.50
acme    acme       memory        GiB-h        24.000     12.000  12.000     14.000           6.00            3.50
acme    acme       storage/fast  GiB-month     0.411      0.300   0.350      0.400           3.00            2.92
acme    acme       total         EUR                                                        15.00            9.92
Total: reserved 15.00 EUR, allocated 9.92 EUR
"
        );
        let json: serde_json::Value = serde_json::from_str(&cost(&report, Format::Json)).unwrap();
        assert_eq!(json["tenants"][0]["cpu"]["allocated"], 7.0);
        assert_eq!(json["currency"], "EUR");
    }
}
