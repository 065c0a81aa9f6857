//! Documents: YAML or JSON text holding one or many documents, each deserialized with every
//! problem reported at once, located by file, line and column.

use std::collections::BTreeMap;

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};
use serde::de::DeserializeOwned;
use serde_json::{Map, Number, Value};

use crate::Problem;

/// How many problems one document may report before the rest are dropped.
const MAX_PROBLEMS_PER_DOCUMENT: usize = 50;

/// One document of a file, with the location of every field.
#[derive(Debug, Clone)]
pub struct Document {
    source: String,
    value: Value,
    /// Where each value starts. The root is the empty path.
    values: Locations,
    /// Where the key of each mapping entry starts.
    keys: Locations,
}

/// Splits `text` (YAML or JSON, one or more documents) into documents; empty documents are skipped.
///
/// `source` names the text in problems. Fails with one problem on a syntax error.
pub(crate) fn parse_documents(source: &str, text: &str) -> Result<Vec<Document>, Problem> {
    let nodes = MarkedYaml::load_from_str(text).map_err(|e| {
        let (line, column) = (e.marker().line(), e.marker().col() + 1);
        let message = match e.info() {
            DUPLICATED_KEY => match key_at(text, line, column) {
                Some(key) => format!(
                    "key `{key}` appears twice in the same mapping: keep one (YAML takes no \
                     repeated keys)"
                ),
                None => format!("{DUPLICATED_KEY}: keep one of the repeated keys"),
            },
            info => format!("not valid YAML: {info}"),
        };
        Problem {
            source: source.to_string(),
            line,
            column,
            path: String::new(),
            message,
        }
    })?;
    let mut documents = Vec::new();
    for node in &nodes {
        let (mut values, mut keys) = (Locations::new(), Locations::new());
        let value =
            convert(node, String::new(), &mut values, &mut keys).map_err(|(path, message)| {
                let (line, column) = values.get(&path).copied().unwrap_or((1, 1));
                Problem {
                    source: source.to_string(),
                    line,
                    column,
                    path,
                    message,
                }
            })?;
        if !value.is_null() {
            documents.push(Document {
                source: source.to_string(),
                value,
                values,
                keys,
            });
        }
    }
    Ok(documents)
}

/// The loader's message for a key repeated in one mapping; it points at the second occurrence.
const DUPLICATED_KEY: &str = "duplicated key in mapping";

/// The plain, single- or double-quoted scalar key starting at `line`:`column` (1-based) of `text`.
fn key_at(text: &str, line: usize, column: usize) -> Option<String> {
    let rest: String = text
        .lines()
        .nth(line.checked_sub(1)?)?
        .chars()
        .skip(column - 1)
        .collect();
    let key = match rest.chars().next()? {
        quote @ ('"' | '\'') => {
            let end = rest[1..].find(quote)?;
            rest[1..=end].to_string()
        }
        _ => {
            let end = rest
                .char_indices()
                .find(|&(i, c)| {
                    matches!(c, ',' | '}' | ']' | '#')
                        || (c == ':'
                            && rest[i + 1..].chars().next().is_none_or(char::is_whitespace))
                })
                .map_or(rest.len(), |(i, _)| i);
            rest[..end].trim_end().to_string()
        }
    };
    (!key.is_empty()).then_some(key)
}

fn location(node: &MarkedYaml<'_>) -> (usize, usize) {
    (node.span.start.line(), node.span.start.col() + 1)
}

/// Converts a marked YAML node to JSON, recording the location of every path.
fn convert(
    node: &MarkedYaml<'_>,
    path: String,
    values: &mut Locations,
    keys: &mut Locations,
) -> Result<Value, (String, String)> {
    values.insert(path.clone(), location(node));
    Ok(match &node.data {
        YamlData::Value(scalar) => scalar_value(scalar),
        YamlData::Representation(text, _, _) => Value::String(text.to_string()),
        YamlData::Sequence(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| convert(item, format!("{path}[{i}]"), values, keys))
                .collect::<Result<_, _>>()?,
        ),
        YamlData::Mapping(entries) => {
            let mut map = Map::new();
            for (key, value) in entries {
                let name = match &key.data {
                    YamlData::Value(Scalar::String(s)) => s.to_string(),
                    YamlData::Value(scalar) => match scalar_value(scalar) {
                        Value::String(s) => s,
                        other => other.to_string(),
                    },
                    _ => return Err((path, "mapping keys must be plain scalars".into())),
                };
                let child = join(&path, &name);
                keys.insert(child.clone(), location(key));
                let value = convert(value, child, values, keys)?;
                map.insert(name, value);
            }
            Value::Object(map)
        }
        YamlData::Tagged(_, inner) => convert(inner, path, values, keys)?,
        YamlData::Alias(_) | YamlData::BadValue => {
            return Err((
                path,
                "aliases and unresolvable values are not supported".into(),
            ));
        }
    })
}

fn scalar_value(scalar: &Scalar<'_>) -> Value {
    match scalar {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(*b),
        Scalar::Integer(i) => Value::Number((*i).into()),
        Scalar::FloatingPoint(f) => Number::from_f64(f.into_inner())
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(f.to_string())),
        Scalar::String(s) => Value::String(s.to_string()),
    }
}

impl Document {
    /// The name of the text the document came from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The document as JSON.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The top-level string field `field`, such as `kind`.
    pub fn field(&self, field: &str) -> Option<&str> {
        self.value.get(field).and_then(Value::as_str)
    }

    /// `metadata.name`, when set.
    pub fn name(&self) -> Option<&str> {
        self.value
            .get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(Value::as_str)
    }

    /// A problem about the value at `path`, located at that value (or, when the field is
    /// absent, at its nearest present ancestor).
    pub fn problem(&self, path: &str, message: impl Into<String>) -> Problem {
        self.located(&self.values, path, message.into())
    }

    /// A problem about the key of the field at `path` (an unknown field, say).
    fn key_problem(&self, path: &str, message: String) -> Problem {
        if self.keys.contains_key(path) {
            self.located(&self.keys, path, message)
        } else {
            self.located(&self.values, path, message)
        }
    }

    fn located(&self, index: &Locations, path: &str, message: String) -> Problem {
        let mut probe = path;
        let (line, column) = loop {
            if let Some(found) = index.get(probe).or_else(|| self.values.get(probe)) {
                break *found;
            }
            match probe.rfind(['.', '[']) {
                Some(cut) => probe = &probe[..cut],
                None => break self.values.get("").copied().unwrap_or((1, 1)),
            }
        };
        Problem {
            source: self.source.clone(),
            line,
            column,
            path: path.to_string(),
            message,
        }
    }

    /// Deserializes the document, reporting every structural problem (unknown fields, wrong types,
    /// unknown values) at once rather than only the first.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, Vec<Problem>> {
        let parsed = self.parse::<T>();
        match parsed.value {
            Some(value) if parsed.problems.is_empty() => Ok(value),
            _ => Err(parsed.problems),
        }
    }

    /// Like [`Document::deserialize`], but also returns the value left once every bad field (or
    /// list item) was dropped, so that further checks can still run on it.
    ///
    /// After each problem the offending field is dropped and deserialization is retried;
    /// problems that only follow from an earlier drop (such as a now-missing field) are not
    /// reported.
    pub(crate) fn parse<T: DeserializeOwned>(&self) -> Parsed<'_, T> {
        let mut working = self.value.clone();
        let mut dropped = Dropped::default();
        let mut problems: Vec<Problem> = Vec::new();
        for _ in 0..MAX_ATTEMPTS {
            let error = match serde_path_to_error::deserialize::<_, T>(&working) {
                Ok(value) => {
                    return Parsed {
                        value: Some(value),
                        problems,
                        origin: Origin {
                            document: self,
                            dropped,
                        },
                    };
                }
                Err(error) => error,
            };
            let message = error.inner().to_string();
            let mut segments = segments(error.path());
            if let Some(field) = unknown_field(&message)
                && segments.last() != Some(&Segment::Key(field.to_string()))
            {
                segments.push(Segment::Key(field.to_string()));
            }
            let original = dropped.original_path(&segments);
            let follows_earlier = problems.iter().any(|p| is_prefix(&original, &p.path));
            if !follows_earlier {
                problems.push(if unknown_field(&message).is_some() {
                    self.key_problem(&original, message)
                } else {
                    self.problem(&original, message)
                });
            }
            if problems.len() >= MAX_PROBLEMS_PER_DOCUMENT
                || !dropped.drop_at(&mut working, &segments)
            {
                break;
            }
        }
        Parsed {
            value: None,
            problems,
            origin: Origin {
                document: self,
                dropped,
            },
        }
    }
}

/// A document deserialized as far as it could be.
pub(crate) struct Parsed<'d, T> {
    /// The value without the fields that had problems (`None` when even that failed).
    pub value: Option<T>,
    /// The structural problems found.
    pub problems: Vec<Problem>,
    /// Where the value came from.
    pub origin: Origin<'d>,
}

/// The document a value was read from, and the list items dropped from it on the way.
#[derive(Debug, Clone)]
pub(crate) struct Origin<'d> {
    pub document: &'d Document,
    dropped: Dropped,
}

impl Origin<'_> {
    /// A problem about `path` in the value, located in the original document (list indices
    /// shifted by dropped items are mapped back).
    pub fn problem(&self, path: &str, message: impl Into<String>) -> Problem {
        let original = self.dropped.original_path(&parse_path(path));
        self.document.problem(&original, message)
    }
}

/// Splits `a.b[2].c` into segments.
fn parse_path(path: &str) -> Vec<Segment> {
    let mut segments = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, indices) = part.split_at(part.find('[').unwrap_or(part.len()));
        if !key.is_empty() {
            segments.push(Segment::Key(key.to_string()));
        }
        segments.extend(
            indices
                .split(['[', ']'])
                .filter_map(|i| i.parse().ok())
                .map(Segment::Index),
        );
    }
    segments
}

/// Field path -> (line, column), both 1-based.
type Locations = BTreeMap<String, (usize, usize)>;

/// How many times deserialization is retried after dropping a bad field.
const MAX_ATTEMPTS: usize = 4 * MAX_PROBLEMS_PER_DOCUMENT;

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

fn segments(path: &serde_path_to_error::Path) -> Vec<Segment> {
    use serde_path_to_error::Segment as S;
    path.iter()
        .map(|segment| match segment {
            S::Seq { index } => Segment::Index(*index),
            S::Map { key } => Segment::Key(key.clone()),
            S::Enum { variant } => Segment::Key(variant.clone()),
            S::Unknown => Segment::Key("?".into()),
        })
        .collect()
}

/// List items dropped so far, so that paths in the trimmed value map back to the original text.
#[derive(Debug, Clone, Default)]
struct Dropped {
    /// Original list path -> original indices dropped from it.
    items: BTreeMap<String, Vec<usize>>,
}

impl Dropped {
    /// The original path of a path in the trimmed value.
    fn original_path(&self, segments: &[Segment]) -> String {
        let mut path = String::new();
        for segment in segments {
            match segment {
                Segment::Key(key) => path = join(&path, key),
                Segment::Index(index) => {
                    let gone = self.items.get(&path).map(Vec::as_slice).unwrap_or_default();
                    let original = (0..)
                        .filter(|i| !gone.contains(i))
                        .nth(*index)
                        .unwrap_or(*index);
                    path.push_str(&format!("[{original}]"));
                }
            }
        }
        path
    }

    /// Drops the field or list item at `segments` from `value`; false when there is nothing to drop.
    fn drop_at(&mut self, value: &mut Value, segments: &[Segment]) -> bool {
        let Some((last, parents)) = segments.split_last() else {
            return false;
        };
        let mut current = &mut *value;
        for segment in parents {
            let next = match segment {
                Segment::Key(key) => current.get_mut(key.as_str()),
                Segment::Index(index) => current.get_mut(*index),
            };
            let Some(next) = next else { return false };
            current = next;
        }
        match (last, current) {
            (Segment::Key(key), Value::Object(map)) => map.remove(key).is_some(),
            (Segment::Index(index), Value::Array(items)) if *index < items.len() => {
                let list = self.original_path(parents);
                let original = {
                    let gone = self.items.get(&list).map(Vec::as_slice).unwrap_or_default();
                    (0..)
                        .filter(|i| !gone.contains(i))
                        .nth(*index)
                        .unwrap_or(*index)
                };
                items.remove(*index);
                self.items.entry(list).or_default().push(original);
                true
            }
            _ => false,
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// The field named by serde's "unknown field `x`" message.
fn unknown_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("unknown field `")?;
    rest.split('`').next()
}

/// Whether `prefix` is `path` or one of its ancestors.
fn is_prefix(prefix: &str, path: &str) -> bool {
    prefix.is_empty()
        || path == prefix
        || (path.starts_with(prefix) && path[prefix.len()..].starts_with(['.', '[']))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Doc {
        name: String,
        #[serde(default)]
        items: Vec<Item>,
        #[serde(default)]
        count: u32,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields, rename_all = "lowercase")]
    struct Item {
        role: Role,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum Role {
        Admin,
        Viewer,
    }

    fn one(text: &str) -> Document {
        let mut docs = parse_documents("t.yaml", text).unwrap();
        assert_eq!(docs.len(), 1);
        docs.remove(0)
    }

    #[test]
    fn splits_documents_and_skips_empty_ones() {
        let docs = parse_documents("t.yaml", "name: a\n---\n---\nname: b\n...\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].field("name"), Some("b"));
        assert_eq!(docs[1].problem("name", "x").line, 4);
    }

    #[test]
    fn a_repeated_key_is_named_where_it_repeats() {
        for (text, key, at) in [
            ("name: a\nmeta:\n  x: 1\n  x: 2\n", "x", (4, 3)),
            ("name: a\nname: b\n", "name", (2, 1)),
            ("m: {a: 1, 'a': 2}\n", "a", (1, 11)),
            ("{\"name\": \"a\", \"name\": \"b\"}", "name", (1, 15)),
            ("m:\n  a b: 1\n  a b: 2\n", "a b", (3, 3)),
        ] {
            let error = parse_documents("t.yaml", text).unwrap_err();
            assert_eq!(
                error.to_string(),
                format!(
                    "t.yaml:{}:{}: key `{key}` appears twice in the same mapping: keep one (YAML \
                     takes no repeated keys)",
                    at.0, at.1
                ),
                "{text:?}"
            );
        }
    }

    #[test]
    fn json_is_accepted() {
        let doc = one(r#"{"name": "a", "items": [{"role": "admin"}]}"#);
        let parsed: Doc = doc.deserialize().unwrap();
        assert_eq!(parsed.items, vec![Item { role: Role::Admin }]);
    }

    #[test]
    fn syntax_errors_are_located() {
        let error = parse_documents("t.yaml", "name: a\nitems: [\n").unwrap_err();
        assert_eq!(error.source, "t.yaml");
        assert!(error.message.starts_with("not valid YAML"), "{error}");
        assert!(error.line >= 2, "{error}");
    }

    #[test]
    fn reports_every_structural_problem_with_its_location() {
        let doc = one(
            "name: a\ncolour: red\nitems:\n  - role: admn\n  - role: viewer\n    extra: 1\ncount: -3\n",
        );
        let problems = doc.deserialize::<Doc>().unwrap_err();
        let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(problems.len(), 4, "{shown:#?}");
        assert!(
            shown[0].starts_with("t.yaml:2:1: colour: unknown field `colour`"),
            "{shown:#?}"
        );
        assert!(
            shown
                .iter()
                .any(|s| s.starts_with("t.yaml:4:11: items[0].role: unknown variant `admn`")),
            "{shown:#?}"
        );
        // items[0] was dropped after its problem: items[1] keeps its original index.
        assert!(
            shown
                .iter()
                .any(|s| s.starts_with("t.yaml:6:5: items[1].extra: unknown field `extra`")),
            "{shown:#?}"
        );
        assert!(
            shown
                .iter()
                .any(|s| s.starts_with("t.yaml:7:8: count: invalid value: integer `-3`")),
            "{shown:#?}"
        );
    }

    #[test]
    fn the_value_left_after_dropping_bad_items_keeps_original_locations() {
        let doc = one("name: a\nitems:\n  - role: admn\n  - role: viewer\n");
        let parsed = doc.parse::<Doc>();
        assert_eq!(parsed.problems.len(), 1);
        let value = parsed.value.as_ref().unwrap();
        assert_eq!(value.items, vec![Item { role: Role::Viewer }]);
        // items[0] of the value is items[1] of the file.
        let d = parsed.origin.problem("items[0].role", "checked later");
        assert_eq!((d.path.as_str(), d.line), ("items[1].role", 4));
    }

    #[test]
    fn a_missing_field_is_reported_once() {
        let doc = one("items: []\n");
        let problems = doc.deserialize::<Doc>().unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].message, "missing field `name`");
        assert_eq!((problems[0].line, problems[0].column), (1, 1));
    }

    #[test]
    fn problems_fall_back_to_the_nearest_ancestor() {
        let doc = one("name: a\nitems:\n  - role: admin\n");
        let d = doc.problem("items[0].user", "needs a user");
        assert_eq!((d.line, d.column), (3, 5));
        assert_eq!(d.to_string(), "t.yaml:3:5: items[0].user: needs a user");
    }
}
