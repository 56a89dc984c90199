//! Writing YAML: a small ordered tree and a block-style printer for the files Slipway generates
//! (GitHub workflows). Scalars are quoted whenever a plain scalar could be read back as anything
//! else (a number, a boolean, null, a flow collection, a comment), so what is written is what is
//! read; the tests read every printed document back with the parser in `yaml.rs`.

#[derive(Clone, Debug, PartialEq)]
pub enum Yaml {
    /// A scalar, quoted when it needs to be.
    Str(String),
    /// A boolean or a number, printed as it is (`true`, `30`).
    Plain(String),
    /// A multi-line text, printed as a literal block (`|`).
    Block(String),
    /// A scalar followed by a comment on the same line (`uses: …@sha # v4.2.1`).
    Noted(String, String),
    Seq(Vec<Yaml>),
    Map(Vec<(String, Yaml)>),
}

impl Yaml {
    pub fn str(text: impl Into<String>) -> Yaml {
        Yaml::Str(text.into())
    }

    pub fn map() -> MapBuilder {
        MapBuilder(Vec::new())
    }

    pub fn seq<I: IntoIterator<Item = T>, T: Into<String>>(items: I) -> Yaml {
        Yaml::Seq(items.into_iter().map(|i| Yaml::Str(i.into())).collect())
    }
}

/// Builds a mapping in insertion order.
pub struct MapBuilder(Vec<(String, Yaml)>);

impl MapBuilder {
    pub fn with(mut self, key: &str, value: Yaml) -> MapBuilder {
        self.0.push((key.to_string(), value));
        self
    }

    pub fn text(self, key: &str, value: impl Into<String>) -> MapBuilder {
        self.with(key, Yaml::Str(value.into()))
    }

    pub fn push(&mut self, key: &str, value: Yaml) {
        self.0.push((key.to_string(), value));
    }

    pub fn build(self) -> Yaml {
        Yaml::Map(self.0)
    }
}

/// Whether a scalar must be quoted to be read back as the same text.
fn needs_quotes(text: &str) -> bool {
    const WORDS: [&str; 22] = [
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", ".nan", ".inf", "-.inf",
        "+.inf", "True", "False", "TRUE", "FALSE", "Null", "NULL", "Yes", "No",
    ];
    let Some(first) = text.chars().next() else {
        return true;
    };
    if WORDS.contains(&text) || WORDS.contains(&text.to_lowercase().as_str()) {
        return true;
    }
    // Anything a YAML 1.1 or 1.2 reader could take for a number.
    let numeric = text.trim_start_matches(['+', '-']).chars().all(|c| {
        c.is_ascii_hexdigit() || matches!(c, '.' | '_' | 'x' | 'o' | 'e' | 'E' | ':' | '+' | '-')
    });
    if numeric && text.chars().any(|c| c.is_ascii_digit()) {
        return true;
    }
    "-?:,[]{}#&*!|>'\"%@`".contains(first)
        || text != text.trim()
        || text.contains(": ")
        || text.contains(" #")
        || text.ends_with(':')
        || text.chars().any(|c| c.is_control())
}

fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn scalar(text: &str) -> String {
    if needs_quotes(text) {
        quoted(text)
    } else {
        text.to_string()
    }
}

/// Prints a document in block style, two spaces per level, ending with a newline.
pub fn print(value: &Yaml) -> String {
    let mut out = String::new();
    match value {
        Yaml::Map(entries) if !entries.is_empty() => map(&mut out, entries, 0),
        Yaml::Seq(items) if !items.is_empty() => seq(&mut out, items, 0),
        other => {
            out.push_str(&inline(other).unwrap_or_default());
            out.push('\n');
        }
    }
    out
}

/// The text of a value that fits after `key: ` on one line, if it does.
fn inline(value: &Yaml) -> Option<String> {
    match value {
        Yaml::Str(text) => Some(scalar(text)),
        Yaml::Plain(text) => Some(text.clone()),
        Yaml::Noted(text, note) => Some(format!("{} # {note}", scalar(text))),
        Yaml::Seq(items) if items.is_empty() => Some("[]".into()),
        Yaml::Map(entries) if entries.is_empty() => Some("{}".into()),
        Yaml::Block(text) if !text.contains('\n') => Some(scalar(text)),
        _ => None,
    }
}

fn block(out: &mut String, text: &str, indent: usize) {
    let chomp = if text.ends_with('\n') { "" } else { "-" };
    out.push_str(&format!("|{chomp}\n"));
    for line in text.strip_suffix('\n').unwrap_or(text).split('\n') {
        if line.is_empty() {
            out.push('\n');
        } else {
            out.push_str(&" ".repeat(indent));
            out.push_str(line);
            out.push('\n');
        }
    }
}

fn map(out: &mut String, entries: &[(String, Yaml)], indent: usize) {
    for (i, (key, value)) in entries.iter().enumerate() {
        // A mapping inside a sequence item starts on the item's own line.
        if !(i == 0 && out.ends_with("- ")) {
            out.push_str(&" ".repeat(indent));
        }
        out.push_str(&scalar(key));
        out.push(':');
        match inline(value) {
            Some(text) => {
                out.push(' ');
                out.push_str(&text);
                out.push('\n');
            }
            None => match value {
                Yaml::Block(text) => {
                    out.push(' ');
                    block(out, text, indent + 2);
                }
                Yaml::Map(inner) => {
                    out.push('\n');
                    map(out, inner, indent + 2);
                }
                Yaml::Seq(items) => {
                    out.push('\n');
                    seq(out, items, indent + 2);
                }
                _ => unreachable!("scalars are inline"),
            },
        }
    }
}

fn seq(out: &mut String, items: &[Yaml], indent: usize) {
    for item in items {
        out.push_str(&" ".repeat(indent));
        out.push_str("- ");
        match inline(item) {
            Some(text) => {
                out.push_str(&text);
                out.push('\n');
            }
            None => match item {
                Yaml::Block(text) => block(out, text, indent + 2),
                Yaml::Map(entries) => map(out, entries, indent + 2),
                Yaml::Seq(inner) => {
                    out.push('\n');
                    seq(out, inner, indent + 2);
                }
                _ => unreachable!("scalars are inline"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::yaml::{documents, Node, Value};

    fn read_back(node: &Node) -> Yaml {
        match &node.value {
            Value::Scalar { text, .. } => Yaml::Str(text.clone()),
            Value::Sequence(items) => Yaml::Seq(items.iter().map(read_back).collect()),
            Value::Mapping(entries) => Yaml::Map(
                entries
                    .iter()
                    .map(|(k, v)| (k.as_str().unwrap().to_string(), read_back(v)))
                    .collect(),
            ),
        }
    }

    fn plain(value: &Yaml) -> Yaml {
        match value {
            Yaml::Str(t) | Yaml::Plain(t) | Yaml::Block(t) | Yaml::Noted(t, _) => {
                Yaml::Str(t.clone())
            }
            Yaml::Seq(items) => Yaml::Seq(items.iter().map(plain).collect()),
            Yaml::Map(entries) => {
                Yaml::Map(entries.iter().map(|(k, v)| (k.clone(), plain(v))).collect())
            }
        }
    }

    #[test]
    fn what_is_printed_reads_back_the_same() {
        let tricky = [
            "",
            "true",
            "on",
            "No",
            "null",
            "~",
            "1.22",
            "21",
            "0x1F",
            "1e3",
            "-",
            "- a",
            "a: b",
            "a #b",
            "#c",
            "[x]",
            "{y}",
            "*z",
            "&a",
            "!t",
            "|",
            ">",
            "'q'",
            "\"d\"",
            "%p",
            "@u",
            "`b`",
            " lead",
            "trail ",
            "end:",
            "tab\there",
            "ctl\u{1}",
            "é ü",
            "${{ vars.X }}",
            "refs/heads/release/**",
            "plain text",
            "a:b",
            "x#y",
        ];
        let doc = Yaml::map()
            .with("scalars", Yaml::seq(tricky))
            .with(
                "nested",
                Yaml::Seq(vec![
                    Yaml::map()
                        .text("name", "one")
                        .with("with", Yaml::map().text("k", "v").build())
                        .with("list", Yaml::seq(["a", "b"]))
                        .build(),
                    Yaml::Seq(vec![Yaml::str("inner")]),
                    Yaml::Block("line one\n\n  indented: yes\n# not a comment\n".into()),
                    Yaml::Block("no newline at end\nsecond".into()),
                ]),
            )
            .with("empty_map", Yaml::map().build())
            .with("empty_seq", Yaml::Seq(vec![]))
            .with("plain", Yaml::Plain("30".into()))
            .with(
                "noted",
                Yaml::Noted("owner/repo@abc".into(), "v1.2.3".into()),
            )
            .with("run", Yaml::Block("echo \"$X\"\nexit 0\n".into()))
            .build();
        let text = print(&doc);
        let parsed = documents(&text).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
        assert_eq!(parsed.len(), 1);
        let back = read_back(&parsed[0]);
        // Empty collections read back as empty collections.
        assert_eq!(back, plain(&doc), "{text}");
        assert!(text.contains("noted: owner/repo@abc # v1.2.3\n"), "{text}");
        assert!(text.contains("plain: 30\n"), "{text}");
    }
}
