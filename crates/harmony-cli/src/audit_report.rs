//! `harmony audit report --out FILE`: the checks and the reachability matrix as one
//! self-contained HTML page, written atomically.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use harmony_audit::html::{Counts, Provenance, render};
use harmony_audit::matrix::reachability;
use harmony_audit::{AuditConfig, AuditReport, ClusterSnapshot};

use crate::live::ClusterArgs;

/// Where the sources of an audit came from, as the command line gave them.
pub(crate) struct Sources<'a> {
    /// `-f` paths.
    pub files: &'a [PathBuf],
    /// `--tenants` paths.
    pub tenants: &'a [PathBuf],
    /// The cluster, when live (or its profile).
    pub live: &'a ClusterArgs,
}

/// Refuses `out` before anything is read: its directory must exist and it must not be one.
pub(crate) fn check_out(out: &Path) -> anyhow::Result<()> {
    let dir = directory(out);
    if !dir.is_dir() {
        bail!(
            "--out {}: the directory {} does not exist; create it first",
            out.display(),
            dir.display()
        );
    }
    if out.is_dir() {
        bail!(
            "--out {}: is a directory; name the file to write, such as {}",
            out.display(),
            out.join("report.html").display()
        );
    }
    Ok(())
}

/// Writes the page of `report` (the checks of `snapshot`) to `out`; returns the line to print
/// and whether every check held (no failure).
pub(crate) fn write(
    out: &Path,
    report: &AuditReport,
    snapshot: &ClusterSnapshot,
    config: &AuditConfig,
    sources: &Sources,
) -> anyhow::Result<(String, bool)> {
    let matrix = reachability(snapshot, config, false);
    let provenance = Provenance {
        source: describe(sources, config.tenant.as_deref())?,
        facts: config.facts.clone(),
        time: jiff::Timestamp::now()
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string(),
        version: env!("CARGO_PKG_VERSION").into(),
    };
    write_atomically(out, &render(report, &matrix, &provenance))?;
    let counts = Counts::of(report);
    let line = format!(
        "wrote {}: {} tenants, {} passed, {} warned, {} failed\n",
        out.display(),
        report.tenants.len(),
        counts.passed,
        counts.warned,
        counts.failed
    );
    Ok((line, !report.failed()))
}

/// `folder out/`, `tenant files examples/tenants` or `cluster https://… (context C)`, then
/// what else shaped the audit.
fn describe(s: &Sources, tenant: Option<&str>) -> anyhow::Result<String> {
    let paths = |paths: &[PathBuf]| {
        let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        names.join(", ")
    };
    let mut text = if s.live.kubeconfig.is_some() || s.live.context.is_some() {
        let access = s.live.access();
        let config = crate::live::runtime()?.block_on(access.config())?;
        let mut text = format!("cluster {}", config.cluster_url);
        if let Some(context) = &s.live.context {
            text.push_str(&format!(" (context {context})"));
        }
        if let Some(file) = &s.live.kubeconfig {
            text.push_str(&format!(", kubeconfig {}", file.display()));
        }
        text
    } else if s.files.is_empty() {
        format!("tenant files {}", paths(s.tenants))
    } else {
        let kinds: Vec<String> = s
            .files
            .iter()
            .map(|p| {
                let kind = if p.is_dir() { "folder" } else { "file" };
                format!("{kind} {}", p.display())
            })
            .collect();
        kinds.join(", ")
    };
    if !s.tenants.is_empty() && !text.starts_with("tenant files") {
        text.push_str(&format!(
            "; expectations from tenant files {}",
            paths(s.tenants)
        ));
    }
    if let Some(profile) = &s.live.cluster {
        text.push_str(&format!("; cluster profile {}", profile.display()));
    }
    if let Some(name) = tenant {
        text.push_str(&format!("; tenant {name} only"));
    }
    Ok(text)
}

/// The directory `path` is in (`.` for a bare file name).
fn directory(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Writes a temporary file beside `path`, then renames it over `path`: readers see the old file
/// or the whole new one.
fn write_atomically(path: &Path, contents: &str) -> anyhow::Result<()> {
    check_out(path)?;
    let name = path
        .file_name()
        .with_context(|| format!("--out {}: name a file", path.display()))?;
    let temp = directory(path).join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let written = fs::File::create_new(&temp)
        .and_then(|mut f| {
            f.write_all(contents.as_bytes())?;
            f.sync_all()
        })
        .and_then(|()| fs::rename(&temp, path));
    if let Err(e) = written {
        let _ = fs::remove_file(&temp);
        return Err(e).with_context(|| format!("writing {}", path.display()));
    }
    Ok(())
}
