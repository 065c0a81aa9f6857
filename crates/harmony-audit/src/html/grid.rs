//! The namespace reachability grid (colours and letters come from the stylesheet, by each cell's
//! `data-conn` and `data-declared`, so a cell is only its attributes) and the per-tenant platform
//! paths.

use std::collections::HashMap;
use std::fmt::Write;

use super::{Attr, Esc, reach};
use crate::matrix::{PathReach, Reachability, TenantReach, conn_label};

/// Above this many namespaces the grid is drawn as small squares without letters.
const BIG: usize = 60;

/// A tenant's four platform paths, named.
pub(super) fn paths(t: &TenantReach) -> [(&'static str, &PathReach); 4] {
    [
        ("Internet egress", &t.internet_egress),
        ("DNS", &t.dns),
        ("Ingress controller → tenant", &t.ingress_controller),
        ("Monitoring → tenant", &t.monitoring),
    ]
}

/// The `#matrix` section: legend, grid, the pairs open on some ports only, platform paths.
pub(super) fn render(out: &mut String, m: &Reachability) {
    out.push_str(
        "<section id=\"matrix\">\n<h2>Namespace reachability</h2>\n<p>Rows are source \
         namespaces, columns destination namespaces (numbered as the rows): what pods of the row \
         may open to pods of the column.</p>\n<ul class=\"legend\"><li><i class=\"la\"></i>A \
         all connections</li><li><i class=\"lp\"></i>P some ports (listed below)</li>\
         <li><i class=\"ld\"></i>D declared connection (listed below)</li>\
         <li><i class=\"ln\"></i>none</li><li><i class=\"ls\"></i>same namespace</li></ul>\n",
    );
    let labels: HashMap<(&str, &str), (String, Option<&str>)> = m
        .pairs
        .iter()
        .map(|p| {
            let key = (p.source.as_str(), p.destination.as_str());
            (key, (conn_label(&p.connection), p.declared.as_deref()))
        })
        .collect();
    let big = if m.namespaces.len() > BIG { " big" } else { "" };
    let _ = write!(
        out,
        "<div class=\"gw\"><table class=\"g{big}\" id=\"grid\">\n<thead><tr><th></th>"
    );
    for (i, ns) in m.namespaces.iter().enumerate() {
        let _ = write!(out, "<th title=\"{}\">{}</th>", Esc(ns), i + 1);
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for (i, src) in m.namespaces.iter().enumerate() {
        let _ = write!(out, "<tr><th>{} {}</th>", i + 1, Esc(src));
        for dst in &m.namespaces {
            if src == dst {
                out.push_str("<td class=\"s\">");
                continue;
            }
            let (conn, declared) = labels
                .get(&(src.as_str(), dst.as_str()))
                .map_or(("none", None), |(c, d)| (c.as_str(), *d));
            let _ = write!(
                out,
                "<td data-src={} data-dst={} data-conn={}",
                Attr(src),
                Attr(dst),
                Attr(conn)
            );
            match declared {
                Some(declaration) => {
                    let _ = write!(out, " data-declared={}>", Attr(declaration));
                }
                None => out.push('>'),
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table></div>\n");
    let ports: Vec<_> = m
        .pairs
        .iter()
        .filter(|p| !p.connection.is_all() && !p.connection.is_empty())
        .collect();
    if !ports.is_empty() {
        out.push_str("<h3>Open on some ports only</h3>\n<ul class=\"ports\">\n");
        for p in ports {
            let _ = write!(
                out,
                "<li>{} → {}: {}",
                Esc(&p.source),
                Esc(&p.destination),
                Esc(&p.connection.to_string())
            );
            if let Some(declaration) = &p.declared {
                let _ = write!(out, " ({})", Esc(declaration));
            }
            out.push_str("</li>\n");
        }
        out.push_str("</ul>\n");
    }
    if !m.tenants.is_empty() {
        out.push_str(
            "<h3>Platform paths per tenant</h3>\n<table class=\"list\">\n<thead><tr>\
             <th>Tenant</th><th>Namespace</th>",
        );
        for (name, _) in paths(&m.tenants[0]) {
            let _ = write!(out, "<th>{name}</th>");
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        for t in &m.tenants {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td>",
                Esc(&t.tenant),
                Esc(&t.namespace)
            );
            for (_, r) in paths(t) {
                let (class, text) = reach(r);
                let _ = write!(out, "<td class=\"{class}\">{text}</td>");
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody>\n</table>\n");
    }
    out.push_str("</section>\n");
}
