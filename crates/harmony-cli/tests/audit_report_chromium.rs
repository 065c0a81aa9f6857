//! `harmony audit report` in a real headless Chromium (Debian's `chromium`, driven over the
//! DevTools protocol on loopback): the page loads without console or page errors and without
//! loading anything else, screenshots and prints to PDF, and its grid cells are the pairs of
//! `harmony audit matrix -o json` for the same source. Fails, never skips, without Chromium.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use headless_chrome::protocol::cdp::Log::LogEntryLevel;
use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::protocol::cdp::Runtime::ConsoleAPICalledEventTypeOption;
use headless_chrome::protocol::cdp::types::Event;
use headless_chrome::types::PrintToPdfOptions;
use headless_chrome::{Browser, LaunchOptions};

const CHROMIUM: &str = "/usr/bin/chromium";

/// `(source, destination, connection, declared)`, `declared` empty when the pair has none.
type Pair = (String, String, String, String);

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/tenants")
}

fn harmony<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(args: I) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harmony"))
        .args(args)
        .output()
        .expect("running harmony")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The pairs of `harmony audit matrix -o json` for `source`.
fn matrix(source: &[&OsStr]) -> Vec<Pair> {
    let out = harmony(
        [
            OsStr::new("audit"),
            OsStr::new("matrix"),
            OsStr::new("-o"),
            OsStr::new("json"),
        ]
        .iter()
        .chain(source),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let s = |k: &str| p[k].as_str().unwrap_or_default().to_string();
            (
                s("source"),
                s("destination"),
                s("connection"),
                s("declared"),
            )
        })
        .collect()
}

/// Writes the report of `source` to `out`; returns its exit code and standard output.
fn report(source: &[&OsStr], out: &Path) -> (i32, String) {
    let args = [
        OsStr::new("audit"),
        OsStr::new("report"),
        OsStr::new("--out"),
        out.as_os_str(),
    ];
    let result = harmony(args.iter().chain(source));
    assert!(out.is_file(), "{}", text(&result.stderr));
    (result.status.code().unwrap(), text(&result.stdout))
}

/// What Chromium made of a page.
struct Seen {
    /// Uncaught exceptions, console errors and error log entries (failed loads included).
    errors: Vec<String>,
    /// Every grid cell: `data-src`, `data-dst`, `data-conn`, `data-declared` (empty on the
    /// diagonal, the last one empty when absent) and its computed background colour.
    cells: Vec<(Pair, String)>,
    /// Resources the page loaded besides itself.
    resources: usize,
    png: Vec<u8>,
    pdf: Vec<u8>,
}

/// Opens `page` in headless Chromium (as root: no sandbox; a fresh profile; no network use
/// beyond the DevTools socket on loopback).
fn open(page: &Path) -> Seen {
    assert!(
        Path::new(CHROMIUM).is_file(),
        "{CHROMIUM} is missing: install Debian's chromium (bash .ci/install)"
    );
    let profile = tempfile::tempdir().unwrap();
    let options = LaunchOptions::default_builder()
        .path(Some(CHROMIUM.into()))
        .headless(true)
        .sandbox(false)
        .user_data_dir(Some(profile.path().to_path_buf()))
        .window_size(Some((1280, 1024)))
        .args(vec![
            OsStr::new("--no-proxy-server"),
            OsStr::new("--disable-gpu"),
        ])
        .idle_browser_timeout(Duration::from_secs(300))
        .build()
        .unwrap();
    let browser = Browser::new(options).expect("launching chromium");
    let tab = browser.new_tab().unwrap();
    tab.set_default_timeout(Duration::from_secs(120));
    let errors = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&errors);
    tab.add_event_listener(Arc::new(move |event: &Event| {
        let error = match event {
            Event::RuntimeExceptionThrown(e) => Some(format!(
                "page error: {}",
                e.params
                    .exception_details
                    .exception
                    .as_ref()
                    .and_then(|x| x.description.clone())
                    .unwrap_or_else(|| e.params.exception_details.text.clone())
            )),
            Event::RuntimeConsoleAPICalled(e)
                if matches!(
                    e.params.Type,
                    ConsoleAPICalledEventTypeOption::Error
                        | ConsoleAPICalledEventTypeOption::Assert
                ) =>
            {
                let args: Vec<String> = e
                    .params
                    .args
                    .iter()
                    .map(|a| format!("{}", a.value.clone().unwrap_or_default()))
                    .collect();
                Some(format!("console error: {}", args.join(" ")))
            }
            Event::LogEntryAdded(e) if e.params.entry.level == LogEntryLevel::Error => {
                Some(format!("log error: {}", e.params.entry.text))
            }
            _ => None,
        };
        if let Some(error) = error {
            sink.lock().unwrap().push(error);
        }
    }))
    .unwrap();
    tab.enable_log().unwrap().enable_runtime().unwrap();
    tab.navigate_to(&format!(
        "file://{}",
        page.canonicalize().unwrap().display()
    ))
    .unwrap()
    .wait_until_navigated()
    .unwrap();
    let eval = |js: &str| -> serde_json::Value {
        let value = tab.evaluate(js, false).unwrap().value.expect("a value");
        serde_json::from_str(value.as_str().expect("a JSON string")).unwrap()
    };
    assert_eq!(eval("JSON.stringify(document.readyState)"), "complete");
    let cells = eval(
        "JSON.stringify([...document.querySelectorAll('#grid td')].map(td => \
         [td.dataset.src ?? '', td.dataset.dst ?? '', td.dataset.conn ?? '', \
         td.dataset.declared ?? '', getComputedStyle(td).backgroundColor]))",
    );
    let cells = cells
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let s = |i: usize| c[i].as_str().unwrap().to_string();
            ((s(0), s(1), s(2), s(3)), s(4))
        })
        .collect();
    let resources = eval("JSON.stringify(performance.getEntriesByType('resource').length)")
        .as_u64()
        .unwrap() as usize;
    let png = tab
        .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
        .unwrap();
    let pdf = tab
        .print_to_pdf(Some(PrintToPdfOptions {
            print_background: Some(true),
            ..PrintToPdfOptions::default()
        }))
        .unwrap();
    let errors = errors.lock().unwrap().clone();
    Seen {
        errors,
        cells,
        resources,
        png,
        pdf,
    }
}

/// The page loaded cleanly and standalone, its screenshot and PDF are real, and its grid is
/// `pairs`, each kind of cell in its own colour.
fn assert_page(seen: &Seen, pairs: &[Pair]) {
    assert!(seen.errors.is_empty(), "{:?}", seen.errors);
    assert_eq!(seen.resources, 0, "the page loads nothing else");
    assert!(seen.png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    let dimension = |at: usize| u32::from_be_bytes(seen.png[at..at + 4].try_into().unwrap());
    assert_eq!(&seen.png[12..16], b"IHDR");
    assert!(
        dimension(16) >= 800 && dimension(20) >= 600,
        "{}x{}",
        dimension(16),
        dimension(20)
    );
    assert!(
        seen.png.len() > 20_000,
        "a screenshot of a page with content: {} bytes",
        seen.png.len()
    );
    assert!(seen.pdf.starts_with(b"%PDF-"), "a PDF");
    assert!(text(&seen.pdf).trim_end().ends_with("%%EOF"));
    let cells: Vec<Pair> = seen
        .cells
        .iter()
        .filter(|((_, _, conn, _), _)| !conn.is_empty())
        .map(|(pair, _)| pair.clone())
        .collect();
    assert_eq!(
        cells, pairs,
        "the grid cells are the matrix pairs, in order"
    );
    let n = (1..).find(|n| n * (n - 1) >= pairs.len()).unwrap();
    assert_eq!(seen.cells.len(), n * n, "a full grid, diagonal included");
    let mut colours: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for ((_, _, conn, declared), colour) in &seen.cells {
        let kind = match conn.as_str() {
            "" => "same",
            _ if !declared.is_empty() => "declared",
            "all" | "none" => conn,
            _ => "ports",
        };
        colours.entry(kind).or_default().insert(colour);
    }
    let all: BTreeSet<&str> = colours.values().flatten().copied().collect();
    assert!(colours.values().all(|c| c.len() == 1), "{colours:?}");
    assert_eq!(all.len(), colours.len(), "one colour per kind: {colours:?}");
}

#[test]
fn the_example_tenants_report_loads_cleanly_and_its_grid_is_the_matrix() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.html");
    let tenants = examples();
    let source = [OsStr::new("--tenants"), tenants.as_os_str()];
    let (code, stdout) = report(&source, &out);
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(
        stdout,
        format!(
            "wrote {}: 3 tenants, 87 passed, 0 warned, 0 failed\n",
            out.display()
        )
    );
    let html = std::fs::read_to_string(&out).unwrap();
    for external in ["<script", "<link", "<img", " src=", "url(", "@import"] {
        assert!(!html.contains(external), "{external}");
    }
    assert!(html.contains("tenant files"), "the source is named");
    assert!(html.contains("Holds for every pod the tenants could create"));
    assert!(html.contains(&format!(
        "<th>Harmony</th><td>{}</td>",
        env!("CARGO_PKG_VERSION")
    )));
    let seen = open(&out);
    assert_page(&seen, &matrix(&source));
}

#[test]
fn a_cross_tenant_hole_fails_the_report_and_shows_in_the_grid() {
    let dir = tempfile::tempdir().unwrap();
    let rendered = dir.path().join("out");
    let render = harmony([
        OsStr::new("tenant"),
        OsStr::new("render"),
        OsStr::new("-f"),
        examples().as_os_str(),
        OsStr::new("--out"),
        rendered.as_os_str(),
    ]);
    assert!(render.status.success(), "{}", text(&render.stderr));
    std::fs::write(
        rendered.join("hole.yaml"),
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n\
         metadata: {name: to-globex, namespace: acme}\n\
         spec:\n  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n\
         \x20 - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: globex}}}]\n\
         ---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n\
         metadata: {name: from-acme, namespace: globex}\n\
         spec:\n  podSelector: {}\n  policyTypes: [Ingress]\n  ingress:\n\
         \x20 - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: acme}}}]\n",
    )
    .unwrap();
    let out = dir.path().join("hole.html");
    let source = [OsStr::new("-f"), rendered.as_os_str()];
    let (code, stdout) = report(&source, &out);
    assert_eq!(code, 1, "a failed check fails the command: {stdout}");
    assert!(
        stdout.starts_with(&format!("wrote {}: 3 tenants, ", out.display())),
        "{stdout}"
    );
    assert!(!stdout.ends_with(" 0 failed\n"), "{stdout}");
    let pairs = matrix(&source);
    let hole = ("acme".into(), "globex".into(), "all".into(), String::new());
    assert!(pairs.contains(&hole), "{pairs:?}");
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.contains(&format!("folder {}", rendered.display())));
    assert!(html.contains("Fails for today's pods and for pods the tenants could create"));
    assert!(html.contains("<th>Counterexample</th>"));
    let summary = &html[html.find("id=\"summary\"").unwrap()..html.find("id=\"matrix\"").unwrap()];
    assert!(
        summary.find("FAIL").unwrap() < summary.find("PASS").unwrap_or(usize::MAX),
        "failed tenants first"
    );
    let seen = open(&out);
    assert_page(&seen, &pairs);
}

#[test]
fn a_declared_connection_is_its_own_kind_of_cell_and_names_its_declaration() {
    let dir = tempfile::tempdir().unwrap();
    let tenants = dir.path().join("tenants");
    std::fs::create_dir(&tenants).unwrap();
    let side = |name: &str, key: &str, other: &str| {
        format!(
            "apiVersion: harmony.nationtech.io/v1alpha1\nkind: Tenant\nmetadata: {{name: {name}}}\n\
             spec:\n  connections:\n    {key}:\n      - tenant: {other}\n        \
             podSelector: {{matchLabels: {{app: api}}}}\n        ports: [{{port: 8080}}]\n"
        )
    };
    std::fs::write(tenants.join("acme.yaml"), side("acme", "calls", "globex")).unwrap();
    std::fs::write(
        tenants.join("globex.yaml"),
        side("globex", "accepts", "acme"),
    )
    .unwrap();
    let rendered = dir.path().join("out");
    let render = harmony([
        OsStr::new("tenant"),
        OsStr::new("render"),
        OsStr::new("-f"),
        tenants.as_os_str(),
        OsStr::new("--out"),
        rendered.as_os_str(),
    ]);
    assert!(render.status.success(), "{}", text(&render.stderr));
    let pods = dir.path().join("pods.yaml");
    let pod = |ns: &str, app: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {app}, namespace: {ns}, labels: \
             {{app: {app}}}}}\nspec: {{containers: [{{name: main, image: nginx}}]}}\n"
        )
    };
    std::fs::write(
        &pods,
        [pod("acme", "client"), pod("globex", "api")].join("---\n"),
    )
    .unwrap();
    let source = [
        OsStr::new("-f"),
        rendered.as_os_str(),
        OsStr::new("-f"),
        pods.as_os_str(),
        OsStr::new("--tenants"),
        tenants.as_os_str(),
    ];
    let out = dir.path().join("declared.html");
    let (code, stdout) = report(&source, &out);
    assert_eq!(code, 0, "a declared connection fails nothing: {stdout}");
    let pairs = matrix(&source);
    let declared: Vec<&Pair> = pairs.iter().filter(|p| !p.3.is_empty()).collect();
    assert_eq!(declared.len(), 1, "{pairs:?}");
    let (source_ns, destination, conn, declaration) = declared[0];
    assert_eq!(
        (&**source_ns, &**destination, &**conn),
        ("acme", "globex", "TCP 8080")
    );
    assert!(
        declaration.starts_with("declared by acme spec.connections.calls[0] and globex"),
        "{declaration}"
    );
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(
        html.contains("<li>acme → globex: TCP 8080 (declared by acme spec.connections.calls[0]"),
        "{html}"
    );
    assert_page(&open(&out), &pairs);
}

#[test]
fn a_grid_of_more_than_sixty_namespaces_is_still_whole() {
    let dir = tempfile::tempdir().unwrap();
    let tenants = dir.path().join("tenants");
    std::fs::create_dir(&tenants).unwrap();
    let acme = std::fs::read_to_string(examples().join("acme.yaml")).unwrap();
    for i in 0..64 {
        let name = format!("t{i:02}");
        std::fs::write(
            tenants.join(format!("{name}.yaml")),
            acme.replace("acme", &name),
        )
        .unwrap();
    }
    let out = dir.path().join("big.html");
    let source = [OsStr::new("--tenants"), tenants.as_os_str()];
    let (code, stdout) = report(&source, &out);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .contains("class=\"g big\"")
    );
    let pairs = matrix(&source);
    assert!(pairs.len() > 60 * 59);
    assert_page(&open(&out), &pairs);
}

#[test]
fn script_errors_and_console_errors_are_caught() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("broken.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><body><p>broken</p><script>console.error('deliberate');\
         notDefinedAnywhere();</script></body></html>",
    )
    .unwrap();
    let seen = open(&page);
    assert!(
        seen.errors.iter().any(|e| e.contains("deliberate")),
        "{:?}",
        seen.errors
    );
    assert!(
        seen.errors.iter().any(|e| e.contains("notDefinedAnywhere")),
        "{:?}",
        seen.errors
    );
}

#[test]
fn a_missing_directory_or_another_format_is_refused_before_auditing() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let out = harmony([
        OsStr::new("audit"),
        OsStr::new("report"),
        OsStr::new("--out"),
        missing.join("report.html").as_os_str(),
        OsStr::new("--tenants"),
        examples().as_os_str(),
    ]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "the directory {} does not exist",
            missing.display()
        )),
        "{stderr}"
    );
    let out = harmony([
        OsStr::new("audit"),
        OsStr::new("report"),
        OsStr::new("--out"),
        dir.path().join("r.html").as_os_str(),
        OsStr::new("-o"),
        OsStr::new("json"),
        OsStr::new("--tenants"),
        examples().as_os_str(),
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("leave -o out"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
}
