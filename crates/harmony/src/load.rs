//! The loader: files, folders and standard input read into [`Documents`], and documents read as a
//! [`DocumentKind`] with every problem of every document reported at once, located.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::document::{Origin, parse_documents};
use crate::kind::document_identity_problems;
use crate::{Document, DocumentKind, Problem, Problems};

/// The path that stands for standard input.
pub const STDIN: &str = "-";

/// The documents of some sources (files, folders, standard input or text), in order.
#[derive(Debug, Clone, Default)]
pub struct Documents {
    /// The names of the texts read, for problems about all of them.
    sources: Vec<String>,
    documents: Vec<Document>,
}

impl Documents {
    /// Reads every document of `paths`: files; folders, whose `*.yaml`, `*.yml` and `*.json`
    /// files are read recursively, in name order; and [`STDIN`]. Each file may hold many
    /// documents, separated by `---`; empty ones are skipped.
    ///
    /// Fails with every unreadable path and every syntax error.
    pub fn read<P: AsRef<Path>>(paths: &[P]) -> Result<Self, Problems> {
        let mut documents = Self::default();
        let mut problems = Vec::new();
        for path in paths.iter().map(AsRef::as_ref) {
            let files = if path.as_os_str() == STDIN || !path.is_dir() {
                Ok(vec![path.to_path_buf()])
            } else {
                folder_files(path)
            };
            let files = match files {
                Ok(files) => files,
                Err(problem) => {
                    problems.push(problem);
                    continue;
                }
            };
            for file in files {
                match read_text(&file) {
                    Ok(text) => documents.add(&file.display().to_string(), &text, &mut problems),
                    Err(problem) => problems.push(problem),
                }
            }
        }
        if problems.is_empty() {
            Ok(documents)
        } else {
            Err(Problems(problems))
        }
    }

    /// The documents of `text` (YAML or JSON, one or many documents), named `source` in problems.
    pub fn parse(source: &str, text: &str) -> Result<Self, Problems> {
        let mut documents = Self::default();
        let mut problems = Vec::new();
        documents.add(source, text, &mut problems);
        match problems.is_empty() {
            true => Ok(documents),
            false => Err(Problems(problems)),
        }
    }

    fn add(&mut self, source: &str, text: &str, problems: &mut Vec<Problem>) {
        self.sources.push(source.to_string());
        match parse_documents(source, text) {
            Ok(documents) => self.documents.extend(documents),
            Err(problem) => problems.push(problem),
        }
    }

    /// Reads every document as a `K`, as far as it can be read, and checks it against
    /// `context`: returns the values read (fields and list items with a problem dropped) and
    /// every problem, located and in file order within each document.
    ///
    /// A document of another `apiVersion` or `kind`, or none at all, is a problem.
    pub fn parse_as<K: DocumentKind>(
        &self,
        context: &K::Context,
    ) -> (Vec<Loaded<'_, K>>, Vec<Problem>) {
        let mut loaded = Vec::new();
        let mut problems = Vec::new();
        if self.documents.is_empty() {
            problems.push(Problem::in_source(
                self.sources.join(", "),
                format!(
                    "holds no {kind} document: write one with `apiVersion: {}` and `kind: {kind}`",
                    K::API_VERSION,
                    kind = K::KIND
                ),
            ));
        }
        for document in &self.documents {
            let identity = document_identity_problems::<K>(document);
            if !identity.is_empty() {
                problems.extend(identity);
                continue;
            }
            let parsed = document.parse::<K>();
            let mut found = parsed.problems;
            if let Some(value) = parsed.value {
                found.extend(
                    value
                        .problems(context)
                        .into_iter()
                        .map(|p| parsed.origin.problem(&p.path, p.message)),
                );
                loaded.push(Loaded {
                    value,
                    origin: parsed.origin,
                });
            }
            found.sort_by_key(|p| (p.line, p.column));
            problems.extend(found);
        }
        (loaded, problems)
    }

    /// Every document as a valid `K`; fails with every problem of every document (see
    /// [`Documents::parse_as`]).
    pub fn load<K: DocumentKind>(&self, context: &K::Context) -> Result<Vec<K>, Problems> {
        let (loaded, problems) = self.parse_as::<K>(context);
        if problems.is_empty() {
            Ok(loaded.into_iter().map(|l| l.value).collect())
        } else {
            Err(Problems(problems))
        }
    }

    /// The one document, as a valid `K`: for files that hold exactly one document.
    pub fn load_one<K: DocumentKind>(&self, context: &K::Context) -> Result<K, Problems> {
        if self.documents.len() > 1 {
            return Err(Problem::in_source(
                self.sources.join(", "),
                format!(
                    "holds {} documents: a {kind} file holds exactly one `kind: {kind}`",
                    self.documents.len(),
                    kind = K::KIND
                ),
            )
            .into());
        }
        let mut values = self.load::<K>(context)?;
        Ok(values.remove(0))
    }
}

/// A document read as a `K` as far as it could be (see [`Documents::parse_as`]).
#[derive(Debug, Clone)]
pub struct Loaded<'d, K> {
    /// The value, without the fields and list items that had a problem.
    pub value: K,
    origin: Origin<'d>,
}

impl<K> Loaded<'_, K> {
    /// The document the value was read from.
    pub fn document(&self) -> &Document {
        self.origin.document
    }

    /// A problem about the field at `path` of the value, located in its document (list indices
    /// shifted by dropped items are mapped back).
    pub fn problem(&self, path: &str, message: impl Into<String>) -> Problem {
        self.origin.problem(path, message)
    }
}

/// The text of `path`, or of standard input for [`STDIN`].
fn read_text(path: &Path) -> Result<String, Problem> {
    let text = if path.as_os_str() == STDIN {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map(|_| text)
    } else {
        fs::read_to_string(path)
    };
    text.map_err(|e| unreadable(path, e))
}

/// The `*.yaml`, `*.yml` and `*.json` files under `folder`, recursively, in name order.
fn folder_files(folder: &Path) -> Result<Vec<PathBuf>, Problem> {
    let mut files = Vec::new();
    collect_files(folder, &mut files).map_err(|e| unreadable(folder, e))?;
    if files.is_empty() {
        return Err(unreadable(
            folder,
            "no *.yaml, *.yml or *.json file in this folder",
        ));
    }
    Ok(files)
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

fn unreadable(path: &Path, error: impl std::fmt::Display) -> Problem {
    Problem::in_source(path.display().to_string(), format!("cannot read: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    /// A kind whose `spec.size` must be below the context.
    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Parcel {
        api_version: String,
        kind: String,
        metadata: Metadata,
        spec: Spec,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Metadata {
        name: String,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Spec {
        size: u32,
        #[serde(default)]
        colours: Vec<String>,
    }

    impl DocumentKind for Parcel {
        const API_VERSION: &'static str = "test.example/v1";
        const KIND: &'static str = "Parcel";
        type Context = u32;

        fn problems(&self, limit: &u32) -> Vec<Problem> {
            let mut problems = Vec::new();
            if self.spec.size >= *limit {
                problems.push(Problem::new(
                    "spec.size",
                    format!("{} is too big: use less than {limit}", self.spec.size),
                ));
            }
            for (i, colour) in self.spec.colours.iter().enumerate() {
                if colour.is_empty() {
                    problems.push(Problem::new(format!("spec.colours[{i}]"), "is empty"));
                }
            }
            problems
        }
    }

    const HEAD: &str = "apiVersion: test.example/v1\nkind: Parcel\n";

    fn shown(problems: &Problems) -> Vec<String> {
        problems.0.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn loads_every_document_of_its_kind() {
        let text = format!(
            "{HEAD}metadata: {{name: a}}\nspec: {{size: 1}}\n---\n{HEAD}metadata: {{name: b}}\nspec: {{size: 2}}\n"
        );
        let boxes = Documents::parse("t.yaml", &text)
            .unwrap()
            .load::<Parcel>(&10)
            .unwrap();
        let names: Vec<&str> = boxes.iter().map(|b| b.metadata.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(boxes[0].api_version, "test.example/v1");
        assert_eq!(boxes[0].kind, "Parcel");
    }

    #[test]
    fn refuses_another_api_version_or_kind_naming_the_value_and_what_is_accepted() {
        let text =
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\nmetadata: {name: b}\n";
        let problems = Documents::parse("t.yaml", text)
            .unwrap()
            .load::<Parcel>(&10)
            .unwrap_err();
        assert_eq!(
            shown(&problems),
            [
                "t.yaml:1:13: apiVersion: `v1` is not supported: use `test.example/v1`",
                "t.yaml:2:7: kind: `Namespace` is not a Parcel file: expected `kind: Parcel`",
                "t.yaml:5:1: apiVersion: is missing: add `apiVersion: test.example/v1`",
                "t.yaml:5:1: kind: is missing: add `kind: Parcel`",
            ]
        );
    }

    #[test]
    fn refuses_a_document_that_is_not_a_mapping() {
        let problems = Documents::parse("t.yaml", "- a\n- b\n")
            .unwrap()
            .load::<Parcel>(&10)
            .unwrap_err();
        assert_eq!(
            shown(&problems),
            [
                "t.yaml:1:1: expected one Parcel mapping, found a list: write the fields (apiVersion, \
                 kind, metadata, spec) at the top level, and put several Parcels in documents \
                 separated by `---`"
            ]
        );
    }

    #[test]
    fn reports_bad_fields_and_failed_checks_together_in_file_order() {
        let text = format!(
            "{HEAD}metadata: {{name: a}}\nspec:\n  colours: [red, 7, \"\"]\n  size: 12\n  shape: round\n"
        );
        let problems = Documents::parse("t.yaml", &text)
            .unwrap()
            .load::<Parcel>(&10)
            .unwrap_err();
        let shown = shown(&problems);
        assert_eq!(shown.len(), 4, "{shown:#?}");
        assert!(
            shown[0].starts_with("t.yaml:5:18: spec.colours[1]: invalid type: integer `7`"),
            "{shown:#?}"
        );
        // The check ran on the value without colours[1]: its colours[1] is the file's colours[2].
        assert_eq!(shown[1], "t.yaml:5:21: spec.colours[2]: is empty");
        assert_eq!(
            shown[2],
            "t.yaml:6:9: spec.size: 12 is too big: use less than 10"
        );
        assert!(
            shown[3].starts_with("t.yaml:7:3: spec.shape: unknown field `shape`"),
            "{shown:#?}"
        );
    }

    #[test]
    fn refuses_no_document_and_more_than_one_where_one_is_expected() {
        let none = Documents::parse("t.yaml", "# nothing\n").unwrap();
        assert_eq!(
            shown(&none.load::<Parcel>(&10).unwrap_err()),
            [
                "t.yaml: holds no Parcel document: write one with `apiVersion: test.example/v1` and \
              `kind: Parcel`"
            ]
        );
        let text = format!("{HEAD}metadata: {{name: a}}\nspec: {{size: 1}}\n---\n{HEAD}\n");
        let two = Documents::parse("t.yaml", &text).unwrap();
        assert_eq!(
            shown(&two.load_one::<Parcel>(&10).unwrap_err()),
            ["t.yaml: holds 2 documents: a Parcel file holds exactly one `kind: Parcel`"]
        );
    }

    #[test]
    fn reads_files_and_folders_in_name_order_and_reports_every_unreadable_path() {
        let tmp = tempfile::tempdir().unwrap();
        let sub = tmp.path().join("sub");
        fs::create_dir(&sub).unwrap();
        let boxed = |name: &str| format!("{HEAD}metadata: {{name: {name}}}\nspec: {{size: 1}}\n");
        fs::write(tmp.path().join("b.yaml"), boxed("b")).unwrap();
        fs::write(tmp.path().join("a.json"), r#"{"apiVersion": "test.example/v1", "kind": "Parcel", "metadata": {"name": "a"}, "spec": {"size": 1}}"#).unwrap();
        fs::write(sub.join("c.yml"), boxed("c")).unwrap();
        fs::write(tmp.path().join("notes.txt"), "not read").unwrap();
        let boxes = Documents::read(&[tmp.path()])
            .unwrap()
            .load::<Parcel>(&10)
            .unwrap();
        let names: Vec<&str> = boxes.iter().map(|b| b.metadata.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);

        let empty = tmp.path().join("empty");
        fs::create_dir(&empty).unwrap();
        let missing = tmp.path().join("missing.yaml");
        let problems = Documents::read(&[&missing, &empty]).unwrap_err();
        let shown = shown(&problems);
        assert_eq!(shown.len(), 2, "{shown:#?}");
        assert!(
            shown[0].starts_with(&format!("{}: cannot read: ", missing.display())),
            "{shown:#?}"
        );
        assert_eq!(
            shown[1],
            format!(
                "{}: cannot read: no *.yaml, *.yml or *.json file in this folder",
                empty.display()
            )
        );
    }

    #[test]
    fn a_syntax_error_is_located() {
        let problems = Documents::parse("t.yaml", "a: [\n").unwrap_err();
        assert_eq!(problems.0.len(), 1);
        assert!(problems.0[0].message.starts_with("not valid YAML"));
        assert_eq!(problems.0[0].source, "t.yaml");
    }

    #[test]
    fn a_value_read_with_problems_maps_its_paths_back_to_the_file() {
        let text = format!("{HEAD}metadata: {{name: a}}\nspec:\n  size: 1\n  colours: [1, red]\n");
        let documents = Documents::parse("t.yaml", &text).unwrap();
        let (loaded, problems) = documents.parse_as::<Parcel>(&10);
        assert_eq!(problems.len(), 1);
        assert_eq!(loaded[0].value.spec.colours, ["red"]);
        let p = loaded[0].problem("spec.colours[0]", "x");
        assert_eq!(
            (p.path.as_str(), p.line, p.column),
            ("spec.colours[1]", 6, 16)
        );
        assert_eq!(loaded[0].document().name(), Some("a"));
    }
}
