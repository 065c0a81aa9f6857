//! A fast path for the plain manifests rendered folders hold. JSON values are built straight from
//! saphyr-parser's events, about 2.6 times faster than serde-saphyr builds them; scalars are
//! typed only where the result is certain to be serde-saphyr's. Anything else (anchors, aliases,
//! tags, merge keys, numbers other than plain decimal integers, complex, null or repeated keys, a
//! text the parser refuses) returns `None`, and the caller parses the whole text with
//! serde-saphyr, whose errors name the line and column.

use saphyr_parser::{Event, Parser, ScalarStyle, StrInput};
use serde_json::{Map, Number, Value};

/// Deeper nodes are left to serde-saphyr, whose budget guards against hostile nesting.
const MAX_DEPTH: usize = 64;

/// The documents of `text` as serde-saphyr would give them, or `None` to let it parse them.
pub(crate) fn parse(text: &str) -> Option<Vec<Value>> {
    // Anchors, aliases, tags and merge keys are left to serde-saphyr (comments with these
    // characters only cost the fast path).
    if text.contains(['&', '*', '!']) || text.contains("<<") {
        return None;
    }
    let mut events = Events(Parser::new_from_str(text));
    let mut documents = Vec::new();
    loop {
        match events.next()? {
            Event::StreamStart | Event::DocumentEnd => {}
            Event::StreamEnd => return Some(documents),
            Event::DocumentStart(_) => {
                let first = events.next()?;
                let document = events.node(first, 0)?;
                if !document.is_null() {
                    documents.push(document);
                }
            }
            _ => return None,
        }
    }
}

/// The parser's events; an error ends them.
struct Events<'a>(Parser<'a, StrInput<'a>>);

impl<'a> Events<'a> {
    fn next(&mut self) -> Option<Event<'a>> {
        self.0.next_event()?.ok().map(|(event, _)| event)
    }

    /// The node that starts with the event `first`, `depth` collections down, as a JSON value.
    fn node(&mut self, first: Event<'a>, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        match first {
            Event::Scalar(text, style, 0, None) => scalar(&text, style),
            Event::SequenceStart(0, None) => {
                let mut items = Vec::new();
                loop {
                    match self.next()? {
                        Event::SequenceEnd => return Some(Value::Array(items)),
                        first => items.push(self.node(first, depth + 1)?),
                    }
                }
            }
            Event::MappingStart(0, None) => {
                let mut map = Map::new();
                loop {
                    let key = match self.next()? {
                        Event::MappingEnd => return Some(Value::Object(map)),
                        Event::Scalar(key, _, 0, None) if !is_nullish(&key) => key.into_owned(),
                        _ => return None,
                    };
                    let first = self.next()?;
                    let value = self.node(first, depth + 1)?;
                    if map.insert(key, value).is_some() {
                        return None;
                    }
                }
            }
            _ => None,
        }
    }
}

fn is_nullish(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// A scalar as serde-saphyr types it into a JSON value: quoted and block scalars are strings;
/// a plain one is null, a YAML 1.1 boolean, a plain decimal integer or a string; any other
/// number-like text is left to serde-saphyr (`None`).
fn scalar(text: &str, style: ScalarStyle) -> Option<Value> {
    if style != ScalarStyle::Plain {
        return Some(Value::String(text.to_string()));
    }
    if is_nullish(text) {
        return Some(Value::Null);
    }
    let word = |words: [&str; 4]| words.iter().any(|w| text.eq_ignore_ascii_case(w));
    if word(["true", "yes", "y", "on"]) {
        return Some(Value::Bool(true));
    }
    if word(["false", "no", "n", "off"]) {
        return Some(Value::Bool(false));
    }
    if let Some(n) = decimal(text) {
        return Some(Value::Number(n));
    }
    // Text starting with a sign or a dot (`.inf`, `-.5`), or a digit and spelling only what a
    // YAML number form may hold (radix prefixes, hex digits, exponents, underscores,
    // sexagesimal colons), is left to serde-saphyr; a quantity such as `500m` or `1Gi` or a
    // CIDR is a string.
    let number_like = text.starts_with(['+', '-', '.'])
        || (text.starts_with(|c: char| c.is_ascii_digit())
            && text
                .chars()
                .all(|c| c.is_ascii_hexdigit() || "+-._xXoObB:".contains(c)));
    (!number_like && text.parse::<f64>().is_err()).then(|| Value::String(text.to_string()))
}

/// `0`, or a decimal integer without sign or leading zero, or a negative one, that fits 64 bits.
fn decimal(text: &str) -> Option<Number> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    if !canonical {
        return None;
    }
    if text.starts_with('-') {
        text.parse::<i64>().ok().map(Number::from)
    } else {
        text.parse::<u64>().ok().map(Number::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// serde-saphyr's reading of `text`.
    fn reference(text: &str) -> Vec<Value> {
        serde_saphyr::from_multiple(text).expect("valid YAML")
    }

    #[test]
    fn plain_manifests_read_as_serde_saphyr_reads_them() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: {app: web, tier: \"1\", on: y, cpu: 500m, mem: 1Gi, net: 10.0.0.0/8, v: v1.2}\n\
                    spec:\n  containers:\n  - name: c\n    ports: [{containerPort: 8080, name: http}]\n\
                    \x20   args: [\"--x\", 'y', -1, 0, 'no', ~, null, '', true, False, OFF]\n\
                    \x20   command:\n    - |\n      line one\n      line two\n    - >\n      folded\n      text\n\
                    ---\n---\napiVersion: v1\nkind: List\nitems: []\n";
        assert_eq!(parse(text), Some(reference(text)));
    }

    #[test]
    fn what_it_cannot_type_for_sure_is_left_to_serde_saphyr() {
        for text in [
            "a: 1.5\n",
            "a: 1.1.1.1\n",
            "a: 12:30\n",
            "a: 1_000\n",
            "a: 0x1F\n",
            "a: 0777\n",
            "a: 1e3\n",
            "a: .inf\n",
            "a: nan\n",
            "a: +1\n",
            "a: 99999999999999999999\n",
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "<<: {a: 1}\n",
            "a: 1\na: 2\n",
            format!("{}1\n", "- ".repeat(MAX_DEPTH + 2)).as_str(),
            "[1]: x\n",
            "a: [1\n",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
    }

    #[test]
    fn rendered_tenant_objects_read_alike() {
        use harmony_tenant::{ClusterFacts, Member, TenantRole, TenantScore, compile};
        let score = TenantScore::new("acme")
            .member(Member::user("alice", TenantRole::Admin, "alice@acme.com"))
            .member(Member::service_account("ci", TenantRole::Developer))
            .deny_internet_egress();
        for facts in [ClusterFacts::kubernetes(), ClusterFacts::okd()] {
            for object in compile(&score, &facts).objects() {
                let text = serde_saphyr::to_string(object).unwrap();
                assert_eq!(parse(&text), Some(reference(&text)), "{text}");
            }
        }
    }

    #[test]
    fn every_example_and_fixture_reads_alike() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut seen = 0;
        for dir in ["examples", "crates/harmony-audit/tests/fixtures"] {
            let mut stack = vec![root.join(dir)];
            while let Some(path) = stack.pop() {
                if path.is_dir() {
                    stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
                } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    if let Some(fast) = parse(&text) {
                        assert_eq!(fast, reference(&text), "{}", path.display());
                        seen += 1;
                    }
                }
            }
        }
        assert!(seen > 3, "only {seen} files took the fast path");
    }
}
