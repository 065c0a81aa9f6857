//! A chart a client can be sent: per tenant, two stacked bars of cost (CPU, memory, storage), the
//! left one what the quota reserved, the right one what was allocated (max of requested and
//! used, storage included). As SVG, or as an HTML page with the chart and the report's table.

use std::fmt::Write;

use crate::cost::{CostReport, TenantCost};
use crate::render::{cost_table, cost_title};

const PLOT_HEIGHT: f64 = 300.0;
const TOP: f64 = 60.0;
const LEFT: f64 = 70.0;
/// Room under the plot for the rotated tenant names.
const BOTTOM: f64 = 110.0;
const BAR: f64 = 12.0;
const GROUP: f64 = 34.0;
/// The stacked parts, bottom up, and their colours.
const PARTS: [(&str, &str); 3] = [
    ("cpu", "#4e79a7"),
    ("memory", "#f28e2b"),
    ("storage", "#59a14f"),
];

/// The SVG chart of `report`: one `<g class="tenant">` per tenant.
pub fn svg(report: &CostReport) -> String {
    let n = report.tenants.len() as f64;
    let width = LEFT + n.max(1.0) * GROUP + 20.0;
    let height = TOP + PLOT_HEIGHT + BOTTOM;
    let top_cost = report
        .tenants
        .iter()
        .map(|t| t.reserved_cost.max(t.allocated_cost))
        .fold(0.0, f64::max);
    let scale = if top_cost > 0.0 {
        PLOT_HEIGHT / top_cost
    } else {
        0.0
    };
    let title = escape(&cost_title(report));
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" \
         viewBox=\"0 0 {width:.0} {height:.0}\" role=\"img\" aria-label=\"{title}\">\n\
         <title>{title}</title>\n<style>text{{font:11px sans-serif;fill:#333}}</style>\n"
    );
    // Legend.
    for (i, (part, colour)) in PARTS.iter().enumerate() {
        let x = LEFT + i as f64 * 90.0;
        let _ = writeln!(
            s,
            "<rect x=\"{x:.1}\" y=\"10\" width=\"10\" height=\"10\" fill=\"{colour}\"/>\
             <text x=\"{:.1}\" y=\"19\">{part}</text>",
            x + 14.0
        );
    }
    let _ = writeln!(
        s,
        "<text x=\"{LEFT:.1}\" y=\"38\">per tenant: left bar reserved (quota, pale), right bar \
         allocated (max of requested and used), in {}</text>",
        escape(&report.currency)
    );
    // Axis with five ticks.
    let base = TOP + PLOT_HEIGHT;
    let _ = writeln!(
        s,
        "<line x1=\"{LEFT:.1}\" y1=\"{TOP:.1}\" x2=\"{LEFT:.1}\" y2=\"{base:.1}\" stroke=\"#333\"/>\
         <line x1=\"{LEFT:.1}\" y1=\"{base:.1}\" x2=\"{:.1}\" y2=\"{base:.1}\" stroke=\"#333\"/>",
        width - 10.0
    );
    for i in 0..=4 {
        let value = top_cost * i as f64 / 4.0;
        let y = base - value * scale;
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{value:.2}</text>",
            LEFT - 6.0,
            y + 4.0
        );
    }
    for (i, tenant) in report.tenants.iter().enumerate() {
        group(&mut s, tenant, LEFT + 6.0 + i as f64 * GROUP, base, scale);
    }
    s.push_str("</svg>\n");
    s
}

/// One tenant's two stacked bars and its name.
fn group(s: &mut String, t: &TenantCost, x: f64, base: f64, scale: f64) {
    let name = escape(&t.tenant);
    let storage_reserved: f64 = t.storage.values().map(|l| l.reserved_cost).sum();
    let storage_allocated: f64 = t.storage.values().map(|l| l.allocated_cost).sum();
    let _ = writeln!(
        s,
        "<g class=\"tenant\" data-tenant=\"{name}\"><title>{name}: reserved {:.2}, allocated {:.2}</title>",
        t.reserved_cost, t.allocated_cost
    );
    for (bar, offset, opacity, costs) in [
        (
            "reserved",
            0.0,
            "0.45",
            [
                t.cpu.reserved_cost,
                t.memory.reserved_cost,
                storage_reserved,
            ],
        ),
        (
            "allocated",
            BAR + 2.0,
            "1",
            [
                t.cpu.allocated_cost,
                t.memory.allocated_cost,
                storage_allocated,
            ],
        ),
    ] {
        let mut y = base;
        for ((part, colour), cost) in PARTS.iter().zip(costs) {
            let h = cost * scale;
            y -= h;
            let _ = writeln!(
                s,
                "<rect class=\"{bar} {part}\" x=\"{:.1}\" y=\"{y:.2}\" width=\"{BAR:.1}\" \
                 height=\"{h:.2}\" fill=\"{colour}\" fill-opacity=\"{opacity}\"/>",
                x + offset
            );
        }
    }
    let label_x = x + BAR;
    let label_y = base + 12.0;
    let _ = writeln!(
        s,
        "<text x=\"{label_x:.1}\" y=\"{label_y:.1}\" text-anchor=\"end\" \
         transform=\"rotate(-60 {label_x:.1} {label_y:.1})\">{name}</text></g>"
    );
}

/// An HTML page with the chart and the report's table.
pub fn html(report: &CostReport) -> String {
    let title = escape(&cost_title(report));
    let (header, rows) = cost_table(report);
    let mut table = String::from("<table>\n<tr>");
    for h in header {
        let _ = write!(table, "<th>{}</th>", escape(h));
    }
    table.push_str("</tr>\n");
    for row in rows {
        table.push_str("<tr>");
        for cell in row {
            let _ = write!(table, "<td>{}</td>", escape(&cell));
        }
        table.push_str("</tr>\n");
    }
    table.push_str("</table>\n");
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>Tenant cost</title>\n<style>body{{font-family:sans-serif;margin:2em}}\
         .chart{{overflow-x:auto}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ccc;padding:2px 6px}}td{{text-align:right}}\
         td:nth-child(-n+4){{text-align:left}}</style>\n</head>\n<body>\n<h1>Tenant cost</h1>\n\
         <p>{title}</p>\n<p>Total: reserved {:.2} {currency}, allocated {:.2} {currency}</p>\n\
         <div class=\"chart\">\n{}</div>\n{table}</body>\n</html>\n",
        report.reserved_cost,
        report.allocated_cost,
        svg(report),
        currency = escape(&report.currency),
    )
}

/// `text` safe in XML and HTML text and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::tests::{acme, sheet};

    #[test]
    fn bars_are_stacked_to_the_tenant_cost() {
        let (m, tenants, window) = acme();
        let report = crate::cost::cost(&m, &tenants, &window, &sheet("{fast: 7.3}")).unwrap();
        let svg = svg(&report);
        assert_eq!(svg.matches("<g class=\"tenant\"").count(), 1);
        // The reserved bar (15.00) is the tallest: the full plot height, from 60 to 360.
        let heights: f64 = svg
            .lines()
            .filter(|l| l.starts_with("<rect class=\"reserved"))
            .map(|l| {
                let h = l.split("height=\"").nth(1).unwrap();
                h[..h.find('"').unwrap()].parse::<f64>().unwrap()
            })
            .sum();
        assert!((heights - PLOT_HEIGHT).abs() < 0.05, "{heights}");
        let page = html(&report);
        assert!(page.contains("<td>storage/fast</td>"), "{page}");
        assert!(page.contains(&svg));
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
    }
}
