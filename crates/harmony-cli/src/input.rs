//! Reading score files: `-f` takes files, folders (their `*.yaml`, `*.yml` and `*.json` files,
//! recursively, in name order) and `-` (standard input); each file may hold many documents.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use harmony::{Diagnostic, Document, parse_documents};
use harmony_tenant::{
    API_VERSION, CLUSTER_PROFILE_KIND, ClusterFacts, ClusterFlavor, ClusterProfile, TENANT_KIND,
    TenantScore, cross_tenant_problems,
};
use serde_json::Value;

/// Problems found in the inputs; nothing is done while there are any.
#[derive(Debug)]
pub struct Problems(pub Vec<Diagnostic>);

impl std::fmt::Display for Problems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for d in &self.0 {
            writeln!(f, "{d}")?;
        }
        let n = self.0.len();
        write!(
            f,
            "{n} problem{} found; nothing was written",
            if n == 1 { "" } else { "s" }
        )
    }
}

impl std::error::Error for Problems {}

/// Reads every document of `paths`, in order.
pub fn read_documents(paths: &[PathBuf]) -> Result<Vec<Document>, Problems> {
    let mut documents = Vec::new();
    let mut problems = Vec::new();
    for (name, text) in read_sources(paths).map_err(|d| Problems(vec![d]))? {
        match parse_documents(&name, &text) {
            Ok(docs) => documents.extend(docs),
            Err(d) => problems.push(d),
        }
    }
    if problems.is_empty() {
        Ok(documents)
    } else {
        Err(Problems(problems))
    }
}

fn unreadable(path: &Path, error: impl std::fmt::Display) -> Diagnostic {
    Diagnostic {
        source: path.display().to_string(),
        line: 0,
        column: 0,
        path: String::new(),
        message: format!("cannot read: {error}"),
    }
}

/// `(name, text)` of every input file.
fn read_sources(paths: &[PathBuf]) -> Result<Vec<(String, String)>, Diagnostic> {
    let mut sources = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| unreadable(path, e))?;
            sources.push(("-".to_string(), text));
        } else if path.is_dir() {
            let mut files = Vec::new();
            collect_files(path, &mut files).map_err(|e| unreadable(path, e))?;
            if files.is_empty() {
                return Err(unreadable(
                    path,
                    "no *.yaml, *.yml or *.json file in this folder",
                ));
            }
            for file in files {
                let text = fs::read_to_string(&file).map_err(|e| unreadable(&file, e))?;
                sources.push((file.display().to_string(), text));
            }
        } else {
            let text = fs::read_to_string(path).map_err(|e| unreadable(path, e))?;
            sources.push((path.display().to_string(), text));
        }
    }
    Ok(sources)
}

fn collect_files(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect_files(&path, files)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
        {
            files.push(path);
        }
    }
    Ok(())
}

/// Checks a document's `apiVersion` and `kind`; `None` when they are right.
fn identity_problems(doc: &Document, kind: &str) -> Vec<Diagnostic> {
    let found = match doc.value() {
        Value::Object(_) => None,
        Value::Array(_) => Some("a list"),
        Value::String(_) => Some("a string"),
        Value::Number(_) => Some("a number"),
        Value::Bool(_) | Value::Null => Some("a scalar"),
    };
    if let Some(found) = found {
        return vec![doc.diagnostic(
            "",
            format!(
                "expected one {kind} mapping, found {found}: write the fields (apiVersion, kind, \
                 metadata, spec) at the top level, and put several {kind}s in documents \
                 separated by `---`"
            ),
        )];
    }
    let mut problems = Vec::new();
    match doc.field("apiVersion") {
        Some(API_VERSION) => {}
        Some(other) => problems.push(doc.diagnostic(
            "apiVersion",
            format!("`{other}` is not supported: use `{API_VERSION}`"),
        )),
        None => problems.push(doc.diagnostic(
            "apiVersion",
            format!("is missing: add `apiVersion: {API_VERSION}`"),
        )),
    }
    match doc.field("kind") {
        Some(k) if k == kind => {}
        Some(other) => problems.push(doc.diagnostic(
            "kind",
            format!("`{other}` is not a {kind} file: expected `kind: {kind}`"),
        )),
        None => problems.push(doc.diagnostic("kind", format!("is missing: add `kind: {kind}`"))),
    }
    problems
}

/// The cluster facts: from a `ClusterProfile` file when given, else the flavor's defaults.
pub fn load_facts(profile: Option<&Path>, flavor: ClusterFlavor) -> Result<ClusterFacts, Problems> {
    let Some(path) = profile else {
        return Ok(ClusterFacts::for_flavor(flavor));
    };
    let documents = read_documents(&[path.to_path_buf()])?;
    let [doc] = documents.as_slice() else {
        return Err(Problems(vec![unreadable(
            path,
            format!(
                "holds {} documents: a cluster profile file holds exactly one",
                documents.len()
            ),
        )]));
    };
    let problems = identity_problems(doc, CLUSTER_PROFILE_KIND);
    if !problems.is_empty() {
        return Err(Problems(problems));
    }
    let profile = doc.deserialize::<ClusterProfile>().map_err(Problems)?;
    let mut problems: Vec<Diagnostic> = profile
        .validate()
        .into_iter()
        .map(|p| doc.diagnostic(&p.path, p.message))
        .collect();
    problems.sort_by_key(|d| (d.line, d.column));
    if problems.is_empty() {
        Ok(profile.facts())
    } else {
        Err(Problems(problems))
    }
}

/// Reads, parses and validates the tenant files of `paths` against `facts`: every problem of
/// every file is reported at once.
pub fn load_tenants(paths: &[PathBuf], facts: &ClusterFacts) -> Result<Vec<TenantScore>, Problems> {
    let documents = read_documents(paths)?;
    if documents.is_empty() {
        return Err(Problems(vec![Diagnostic {
            source: paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            line: 0,
            column: 0,
            path: String::new(),
            message: "no tenant document found".into(),
        }]));
    }
    let mut problems = Vec::new();
    let mut tenants: Vec<(TenantScore, &Document)> = Vec::new();
    for doc in &documents {
        let identity = identity_problems(doc, TENANT_KIND);
        if !identity.is_empty() {
            problems.extend(identity);
            continue;
        }
        let parsed = doc.parse::<TenantScore>();
        let mut found = parsed.problems.clone();
        if let Some(score) = &parsed.value {
            found.extend(
                score
                    .validate(facts)
                    .into_iter()
                    .map(|p| parsed.diagnostic(&p.path, p.message)),
            );
        }
        found.sort_by_key(|d| (d.line, d.column));
        problems.extend(found);
        if let Some(score) = parsed.value {
            tenants.push((score, doc));
        }
    }
    let scores: Vec<&TenantScore> = tenants.iter().map(|(s, _)| s).collect();
    for found in cross_tenant_problems(&scores) {
        let mut message = found.problem.message;
        if let Some((other, path)) = &found.other {
            let at = tenants[*other].1.diagnostic(path, "");
            message.push_str(&format!(" (see {}:{}:{})", at.source, at.line, at.column));
        }
        problems.push(
            tenants[found.tenant]
                .1
                .diagnostic(&found.problem.path, message),
        );
    }
    if problems.is_empty() {
        Ok(tenants.into_iter().map(|(s, _)| s).collect())
    } else {
        Err(Problems(problems))
    }
}
