//! `DocumentKind`: a kind of document (a tenant, a cluster profile, ...), known by its
//! `apiVersion` and `kind`, with its own checks.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{Document, Problem};

/// A kind of document: a serde type whose file form carries `apiVersion: API_VERSION` and
/// `kind: KIND`, with the checks serde cannot make. [`crate::Documents::load`] reads it.
pub trait DocumentKind: DeserializeOwned {
    /// The `apiVersion` documents of this kind carry.
    const API_VERSION: &'static str;
    /// The `kind` documents of this kind carry.
    const KIND: &'static str;
    /// What the checks need besides the value, such as the cluster's facts; `()` when nothing.
    type Context: ?Sized;

    /// Every problem with the value (deserialized as far as it could be), each at a field path as
    /// written in the document; empty when the value is valid.
    fn problems(&self, context: &Self::Context) -> Vec<Problem>;
}

/// Problems with the identity of a `K` document: its `apiVersion` and `kind` (`None` when the
/// field is absent), at the paths `apiVersion` and `kind`.
pub fn identity_problems<K: DocumentKind>(
    api_version: Option<&str>,
    kind: Option<&str>,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    match api_version {
        Some(found) if found == K::API_VERSION => {}
        Some(found) => problems.push(Problem::new(
            "apiVersion",
            format!("`{found}` is not supported: use `{}`", K::API_VERSION),
        )),
        None => problems.push(Problem::new(
            "apiVersion",
            format!("is missing: add `apiVersion: {}`", K::API_VERSION),
        )),
    }
    match kind {
        Some(found) if found == K::KIND => {}
        Some(found) => problems.push(Problem::new(
            "kind",
            format!(
                "`{found}` is not {article} {kind} file: expected `kind: {kind}`",
                article = if K::KIND.starts_with(['A', 'E', 'I', 'O', 'U']) {
                    "an"
                } else {
                    "a"
                },
                kind = K::KIND
            ),
        )),
        None => problems.push(Problem::new(
            "kind",
            format!("is missing: add `kind: {}`", K::KIND),
        )),
    }
    problems
}

/// Problems with `document` as a `K` before its fields are read: not a mapping, or not this
/// `apiVersion` and `kind`. Located.
pub(crate) fn document_identity_problems<K: DocumentKind>(document: &Document) -> Vec<Problem> {
    let found = match document.value() {
        Value::Object(_) => None,
        Value::Array(_) => Some("a list"),
        Value::String(_) => Some("a string"),
        Value::Number(_) => Some("a number"),
        Value::Bool(_) | Value::Null => Some("a scalar"),
    };
    if let Some(found) = found {
        return vec![document.problem(
            "",
            format!(
                "expected one {kind} mapping, found {found}: write the fields (apiVersion, kind, \
                 metadata, spec) at the top level, and put several {kind}s in documents \
                 separated by `---`",
                kind = K::KIND
            ),
        )];
    }
    identity_problems::<K>(document.field("apiVersion"), document.field("kind"))
        .into_iter()
        .map(|p| document.problem(&p.path, p.message))
        .collect()
}
