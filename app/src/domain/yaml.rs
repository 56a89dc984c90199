//! YAML documents as trees that remember where every node starts, so that what is built from
//! them (manifests) can name `line:column` in each error. Several documents per text (`---`).
//!
//! Deliberately narrower than YAML: anchors and aliases are refused (a manifest gains nothing
//! from them, and expanding them is how a small file becomes a huge one), as are tags and
//! duplicate keys (the second would silently win).

use std::fmt;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// 1-based line and column (in characters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// A scalar as written; `quoted` tells `"null"` from `null`.
    Scalar {
        text: String,
        quoted: bool,
    },
    Sequence(Vec<Node>),
    /// Keys in the order written (keys are scalars).
    Mapping(Vec<(Node, Node)>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub pos: Pos,
    pub value: Value,
}

impl Node {
    /// The text of a scalar that is not null.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } if !self.is_null() => Some(text),
            _ => None,
        }
    }

    /// An unquoted `null`, `~` or nothing at all.
    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar { text, quoted: false } if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// What kind of node this is, for errors ("expected a list, found a mapping").
    pub fn kind(&self) -> &'static str {
        match &self.value {
            _ if self.is_null() => "nothing",
            Value::Scalar { .. } => "a scalar",
            Value::Sequence(_) => "a list",
            Value::Mapping(_) => "a mapping",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YamlError {
    pub pos: Pos,
    pub message: String,
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.pos, self.message)
    }
}

impl std::error::Error for YamlError {}

fn pos(mark: Marker) -> Pos {
    Pos {
        line: mark.line(),
        column: mark.col() + 1,
    }
}

/// The deepest nesting of lists and mappings taken: manifests need a handful of levels, and a
/// tree of 100,000 would take the stack of whatever walks it.
pub const MAX_DEPTH: usize = 64;

enum Open {
    Sequence(Pos, Vec<Node>),
    /// Entries so far, and a key waiting for its value.
    Mapping(Pos, Vec<(Node, Node)>, Option<Node>),
}

#[derive(Default)]
struct Builder {
    open: Vec<Open>,
    documents: Vec<Node>,
    error: Option<YamlError>,
}

impl Builder {
    fn fail(&mut self, at: Pos, message: impl Into<String>) {
        if self.error.is_none() {
            self.error = Some(YamlError {
                pos: at,
                message: message.into(),
            });
        }
    }

    /// Places a finished node in whatever is open, or ends a document with it.
    fn place(&mut self, node: Node) {
        match self.open.last_mut() {
            None => self.documents.push(node),
            Some(Open::Sequence(_, items)) => items.push(node),
            Some(Open::Mapping(_, entries, key)) => match key.take() {
                None => {
                    if !matches!(node.value, Value::Scalar { .. }) {
                        let at = node.pos;
                        self.fail(at, "a key must be a plain value, not a list or a mapping");
                        return;
                    }
                    let text = node.as_str().unwrap_or_default();
                    if let Some((first, _)) = entries.iter().find(|(k, _)| k.as_str() == Some(text))
                    {
                        let (at, line) = (node.pos, first.pos.line);
                        let message = format!("duplicate key {text:?} (first on line {line})");
                        self.fail(at, message);
                        return;
                    }
                    *key = Some(node);
                }
                Some(k) => entries.push((k, node)),
            },
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        let at = pos(mark);
        match event {
            Event::Alias(_) => self.fail(at, "aliases (*name) are not supported"),
            Event::Scalar(_, _, anchor, _)
            | Event::SequenceStart(anchor, _)
            | Event::MappingStart(anchor, _)
                if anchor > 0 =>
            {
                self.fail(at, "anchors (&name) are not supported")
            }
            Event::Scalar(_, _, _, Some(tag))
            | Event::SequenceStart(_, Some(tag))
            | Event::MappingStart(_, Some(tag)) => self.fail(
                at,
                format!("tags ({}{}) are not supported", tag.handle, tag.suffix),
            ),
            Event::Scalar(text, style, _, None) => self.place(Node {
                pos: at,
                value: Value::Scalar {
                    text,
                    quoted: !matches!(style, TScalarStyle::Plain),
                },
            }),
            Event::SequenceStart(..) | Event::MappingStart(..) if self.open.len() >= MAX_DEPTH => {
                self.fail(
                    at,
                    format!("nested deeper than {MAX_DEPTH} levels of lists and mappings"),
                )
            }
            Event::SequenceStart(..) => self.open.push(Open::Sequence(at, Vec::new())),
            Event::MappingStart(..) => self.open.push(Open::Mapping(at, Vec::new(), None)),
            // A block collection is reported where the parser recognised it (after its first
            // key), so it starts at its first entry when that is earlier.
            Event::SequenceEnd | Event::MappingEnd => match self.open.pop() {
                Some(Open::Sequence(start, items)) => self.place(Node {
                    pos: items.first().map_or(start, |i| i.pos.min(start)),
                    value: Value::Sequence(items),
                }),
                Some(Open::Mapping(start, entries, _)) => self.place(Node {
                    pos: entries.first().map_or(start, |(k, _)| k.pos.min(start)),
                    value: Value::Mapping(entries),
                }),
                None => {}
            },
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart
            | Event::DocumentEnd => {}
        }
    }
}

/// Every document of `text`, in order; an empty document (`---` with nothing after it) is left
/// out.
pub fn documents(text: &str) -> Result<Vec<Node>, YamlError> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    if let Err(e) = parser.load(&mut builder, true) {
        return Err(YamlError {
            pos: pos(*e.marker()),
            message: e.info().to_string(),
        });
    }
    if let Some(error) = builder.error {
        return Err(error);
    }
    Ok(builder
        .documents
        .into_iter()
        .filter(|d| !d.is_null())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(node: &Node) -> (&str, Pos) {
        (node.as_str().unwrap(), node.pos)
    }

    fn at(line: usize, column: usize) -> Pos {
        Pos { line, column }
    }

    #[test]
    fn a_hundred_thousand_levels_are_refused_where_the_limit_is_passed() {
        let flow = format!("a: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        let error = documents(&flow).unwrap_err();
        // The scanner stops flow nesting itself (at 256); either way the error says where.
        assert_eq!(error.pos.line, 1);
        assert!(error.pos.column <= 260, "{error}");
        assert!(
            error.message.contains("nested deeper than 64 levels")
                || error.message.contains("recursion limit"),
            "{error}"
        );
        let mut block = String::new();
        for level in 0..100 {
            block.push_str(&format!("{}k{level}:\n", " ".repeat(level)));
        }
        let error = documents(&block).unwrap_err();
        assert!(
            (MAX_DEPTH..MAX_DEPTH + 3).contains(&error.pos.line),
            "{error}"
        );
        let fine = format!(
            "a: {}1{}\n",
            "[".repeat(MAX_DEPTH - 1),
            "]".repeat(MAX_DEPTH - 1)
        );
        assert!(documents(&fine).is_ok());
    }

    #[test]
    fn nodes_know_where_they_start() {
        let docs = documents(
            "apiVersion: lowops.manifests.v1\nkind: GithubRepository\nmetadata:\n  name: my-service\nspec:\n  stages:\n    - analysis\n    - \"test\"\n  versions: [stable, \"1.22\"]\n---\n---\nkind: BuildDefinition\n",
        )
        .unwrap();
        assert_eq!(docs.len(), 2, "the empty document is left out");
        let Value::Mapping(entries) = &docs[0].value else {
            panic!()
        };
        assert_eq!(docs[0].pos, at(1, 1));
        assert_eq!(scalar(&entries[0].0), ("apiVersion", at(1, 1)));
        assert_eq!(scalar(&entries[0].1), ("lowops.manifests.v1", at(1, 13)));
        let Value::Mapping(metadata) = &entries[2].1.value else {
            panic!()
        };
        assert_eq!(scalar(&metadata[0].1), ("my-service", at(4, 9)));
        let Value::Mapping(spec) = &entries[3].1.value else {
            panic!()
        };
        let Value::Sequence(stages) = &spec[0].1.value else {
            panic!()
        };
        assert_eq!(scalar(&stages[0]), ("analysis", at(7, 7)));
        assert_eq!(
            stages[1].value,
            Value::Scalar {
                text: "test".into(),
                quoted: true
            }
        );
        let Value::Sequence(versions) = &spec[1].1.value else {
            panic!()
        };
        assert_eq!(scalar(&versions[1]), ("1.22", at(9, 22)));
        let Value::Mapping(second) = &docs[1].value else {
            panic!()
        };
        assert_eq!(scalar(&second[0].1), ("BuildDefinition", at(12, 7)));
    }

    #[test]
    fn nulls_and_kinds() {
        let docs = documents("a:\nb: ~\nc: null\nd: \"null\"\ne: [x]\n").unwrap();
        let Value::Mapping(entries) = &docs[0].value else {
            panic!()
        };
        let kinds: Vec<&str> = entries.iter().map(|(_, v)| v.kind()).collect();
        assert_eq!(
            kinds,
            ["nothing", "nothing", "nothing", "a scalar", "a list"]
        );
        assert_eq!(entries[3].1.as_str(), Some("null"));
        assert_eq!(entries[0].1.as_str(), None);
    }

    #[test]
    fn what_is_refused_is_named_where_it_is() {
        for (text, expected) in [
            (
                "a: 1\nb: 2\na: 3\n",
                "3:1: duplicate key \"a\" (first on line 1)",
            ),
            (
                "base: &b 1\nother: *b\n",
                "1:10: anchors (&name) are not supported",
            ),
            (
                "other: *b\n",
                "1:8: while parsing node, found unknown anchor",
            ),
            ("a: !secret x\n", "1:12: tags (!secret) are not supported"),
            (
                "? [a, b]\n: c\n",
                "1:3: a key must be a plain value, not a list or a mapping",
            ),
            (
                "a: [1, 2\nb: 3\n",
                "2:2: illegal placement of ':' indicator",
            ),
            (
                "a:\n  - x\n   y: z\n",
                "3:5: mapping values are not allowed in this context",
            ),
        ] {
            assert_eq!(
                documents(text).unwrap_err().to_string(),
                expected,
                "{text:?}"
            );
        }
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        for text in [
            "",
            "\0",
            "\u{feff}",
            "'",
            "[",
            "{a: ",
            "- - - -",
            "a: |\n b\nc",
            "%YAML 9.9\n---\n",
        ] {
            let _ = documents(text);
        }
        let deep = "[".repeat(10_000);
        assert!(documents(&deep).is_err());
        assert_eq!(documents("").unwrap(), Vec::new());
    }
}
