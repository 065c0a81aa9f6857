//! `Problem`: one thing wrong with an input, located by file, line and column once it is known.

use std::fmt;

use serde::Serialize;

/// One thing wrong with an input: where it is, which field, what is wrong and what is accepted.
///
/// Validation makes problems at a field path only ([`Problem::new`]); the loader locates them in
/// their file ([`crate::Document::problem`]). Shown as `file:line:column: path: message`, leaving
/// out what is unknown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The file name, `-` for standard input; empty when the problem is not from a file.
    pub source: String,
    /// 1-based line; 0 when the problem is about the whole file or not from a file.
    pub line: usize,
    /// 1-based column; 0 when the line is.
    pub column: usize,
    /// The field path, such as `spec.rbac.members[1].role`; empty for the whole document.
    pub path: String,
    /// What is wrong, with the bad value and what is accepted.
    pub message: String,
}

impl Problem {
    /// A problem with the field at `path`, not yet located in a file.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            source: String::new(),
            line: 0,
            column: 0,
            path: path.into(),
            message: message.into(),
        }
    }

    /// A problem with the whole of `source` (a file that cannot be read, say).
    pub fn in_source(source: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            source: source.into(),
            ..Self::new("", message)
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.source.as_str(), self.line) {
            ("", _) => {}
            (source, 0) => write!(f, "{source}: ")?,
            (source, line) => write!(f, "{source}:{line}:{}: ", self.column)?,
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

/// Every problem found in some inputs, in the order found; nothing should be done while there are
/// any. Shown one per line, then their count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for problem in &self.0 {
            writeln!(f, "{problem}")?;
        }
        let n = self.0.len();
        write!(f, "{n} problem{} found", if n == 1 { "" } else { "s" })
    }
}

impl std::error::Error for Problems {}

impl From<Problem> for Problems {
    fn from(problem: Problem) -> Self {
        Self(vec![problem])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_what_is_known_of_the_location() {
        let mut p = Problem::new("spec.x", "is wrong");
        assert_eq!(p.to_string(), "spec.x: is wrong");
        p.source = "t.yaml".into();
        assert_eq!(p.to_string(), "t.yaml: spec.x: is wrong");
        (p.line, p.column) = (3, 5);
        assert_eq!(p.to_string(), "t.yaml:3:5: spec.x: is wrong");
        assert_eq!(
            Problem::in_source("t.yaml", "cannot read").to_string(),
            "t.yaml: cannot read"
        );
    }

    #[test]
    fn problems_are_listed_then_counted() {
        let one = Problems::from(Problem::in_source("a", "x"));
        assert_eq!(one.to_string(), "a: x\n1 problem found");
        let two = Problems(vec![Problem::new("p", "x"), Problem::new("q", "y")]);
        assert_eq!(two.to_string(), "p: x\nq: y\n2 problems found");
    }
}
