//! Writing HCL the way `terraform fmt` / `tofu fmt` lays it out: two-space indents, and the `=`
//! of consecutive one-line attributes aligned (a multi-line value, a blank line or a block ends
//! the run). Values come from JSON; strings are escaped so that no user text can become an
//! interpolation or directive.

use serde_json::Value;

/// One line-level item of a body.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// `key = expression`; the expression is HCL source and may span lines.
    Attribute(String, String),
    /// `header { … }`, e.g. `module "vpc"`.
    Block(String, Vec<Item>),
    Blank,
}

/// A literal as HCL source, nested bodies indented from `indent`.
pub fn literal(value: &Value, indent: usize) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => quote(s),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(|v| literal(v, indent)).collect();
            if parts.iter().any(|p| p.contains('\n')) {
                let parts: Vec<String> = items.iter().map(|v| literal(v, indent + 1)).collect();
                let pad = "  ".repeat(indent + 1);
                let inner: Vec<String> = parts.iter().map(|p| format!("{pad}{p},")).collect();
                format!("[\n{}\n{}]", inner.join("\n"), "  ".repeat(indent))
            } else {
                format!("[{}]", parts.join(", "))
            }
        }
        Value::Object(map) if map.is_empty() => "{}".into(),
        Value::Object(map) => {
            let items: Vec<Item> = map
                .iter()
                .map(|(k, v)| Item::Attribute(object_key(k), literal(v, indent + 1)))
                .collect();
            format!("{{\n{}{}}}", body(&items, indent + 1), "  ".repeat(indent))
        }
    }
}

/// A quoted HCL string: escapes quotes, backslashes and control characters, and doubles `${`
/// and `%{` so a value is never evaluated as a template.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An identifier as HCL accepts it bare, else quoted.
fn object_key(key: &str) -> String {
    if is_identifier(key) {
        key.to_string()
    } else {
        quote(key)
    }
}

pub fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Renders the items of a body at `indent` levels, one item per line, with fmt's alignment.
pub fn body(items: &[Item], indent: usize) -> String {
    let pad = "  ".repeat(indent);
    let mut out = String::new();
    let mut index = 0;
    while index < items.len() {
        match &items[index] {
            Item::Blank => {
                out.push('\n');
                index += 1;
            }
            Item::Block(header, inner) => {
                if inner.is_empty() {
                    out.push_str(&format!("{pad}{header} {{}}\n"));
                } else {
                    out.push_str(&format!(
                        "{pad}{header} {{\n{}{pad}}}\n",
                        body(inner, indent + 1)
                    ));
                }
                index += 1;
            }
            Item::Attribute(key, value) if value.contains('\n') => {
                out.push_str(&format!("{pad}{key} = {value}\n"));
                index += 1;
            }
            Item::Attribute(..) => {
                // A run of one-line attributes, aligned on the longest key.
                let run: Vec<(&String, &String)> = items[index..]
                    .iter()
                    .map_while(|item| match item {
                        Item::Attribute(k, v) if !v.contains('\n') => Some((k, v)),
                        _ => None,
                    })
                    .collect();
                let width = run
                    .iter()
                    .map(|(k, _)| k.chars().count())
                    .max()
                    .unwrap_or(0);
                for (key, value) in &run {
                    let spaces = " ".repeat(width - key.chars().count());
                    out.push_str(&format!("{pad}{key}{spaces} = {value}\n"));
                }
                index += run.len();
            }
        }
    }
    out
}

/// A whole file: top-level blocks separated by one blank line, ending in one newline.
pub fn file(blocks: &[Item]) -> String {
    let mut out = String::new();
    for (i, block) in blocks.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&body(std::slice::from_ref(block), 0));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn attributes_align_in_runs_that_multi_line_values_and_blanks_break() {
        let items = vec![Item::Block(
            "variable \"x\"".into(),
            vec![
                Item::Attribute("type".into(), "string".into()),
                Item::Attribute("default".into(), literal(&json!({"alpha": 1, "b": "x"}), 1)),
                Item::Attribute("nullable".into(), "false".into()),
                Item::Attribute("description".into(), quote("d")),
            ],
        )];
        assert_eq!(
            file(&items),
            "variable \"x\" {\n  type = string\n  default = {\n    alpha = 1\n    b     = \"x\"\n  }\n  nullable    = false\n  description = \"d\"\n}\n"
        );
    }

    #[test]
    fn strings_cannot_become_templates_or_break_out() {
        assert_eq!(
            quote("${file(\"/etc/passwd\")}"),
            "\"$${file(\\\"/etc/passwd\\\")}\""
        );
        assert_eq!(
            quote("%{ if true }x%{ endif }"),
            "\"%%{ if true }x%%{ endif }\""
        );
        assert_eq!(quote("a\nb\\c\t"), "\"a\\nb\\\\c\\t\"");
        assert_eq!(quote("cost $5, 100%"), "\"cost $5, 100%\"");
    }

    #[test]
    fn json_values_become_hcl_literals() {
        assert_eq!(literal(&json!(null), 0), "null");
        assert_eq!(literal(&json!([1, "a", true]), 0), "[1, \"a\", true]");
        assert_eq!(literal(&json!({}), 0), "{}");
        assert_eq!(literal(&json!({"a b": 1}), 0), "{\n  \"a b\" = 1\n}");
        assert_eq!(
            literal(&json!([{"k": 1}]), 1),
            "[\n    {\n      k = 1\n    },\n  ]"
        );
    }
}

/// The deepest nesting of brackets, blocks and template interpolations a module's HCL may have:
/// real modules use a handful, and the parser would take its stack down 100,000 levels.
pub const MAX_NESTING: usize = 64;

/// Where `text` (HCL) first nests deeper than [`MAX_NESTING`], as 1-based (line, column), found
/// by a scan that knows strings, templates, comments and heredocs; `None` when it does not.
// Long: one scanner over the characters; every branch moves the same position, line, column, bracket stack and heredoc state
pub fn too_deep(text: &str) -> Option<(usize, usize)> {
    #[derive(Clone, Copy, PartialEq)]
    enum Frame {
        Bracket,
        /// `${` or `%{` inside a string: code until its `}`.
        Interpolation,
        Str,
    }
    let chars: Vec<char> = text.chars().collect();
    let mut stack: Vec<Frame> = Vec::new();
    let (mut line, mut column) = (1, 0);
    let mut heredoc: Option<String> = None;
    let mut at = 0;
    while at < chars.len() {
        let c = chars[at];
        column += 1;
        if c == '\n' {
            line += 1;
            column = 0;
            // A heredoc runs until a line that is its marker alone.
            if let Some(marker) = &heredoc {
                let rest: String = chars[at + 1..].iter().take_while(|c| **c != '\n').collect();
                if rest.trim() == marker {
                    heredoc = None;
                }
            }
            at += 1;
            continue;
        }
        if heredoc.is_some() {
            at += 1;
            continue;
        }
        let next = chars.get(at + 1).copied();
        let depth = stack.iter().filter(|f| **f != Frame::Str).count();
        match stack.last() {
            Some(Frame::Str) => match (c, next) {
                ('\\', _) => {
                    at += 1;
                    column += 1;
                }
                ('"', _) => {
                    stack.pop();
                }
                ('$' | '%', Some('{')) => {
                    if depth + 1 > MAX_NESTING {
                        return Some((line, column));
                    }
                    stack.push(Frame::Interpolation);
                    at += 1;
                    column += 1;
                }
                _ => {}
            },
            _ => match (c, next) {
                ('#', _) | ('/', Some('/')) => {
                    while at + 1 < chars.len() && chars[at + 1] != '\n' {
                        at += 1;
                    }
                }
                ('/', Some('*')) => {
                    at += 2;
                    while at + 1 < chars.len() && !(chars[at] == '*' && chars[at + 1] == '/') {
                        if chars[at] == '\n' {
                            line += 1;
                            column = 0;
                        }
                        at += 1;
                    }
                    at += 1;
                }
                ('<', Some('<')) => {
                    let marker: String = chars[at + 2..]
                        .iter()
                        .skip_while(|c| **c == '-')
                        .take_while(|c| c.is_alphanumeric() || **c == '_')
                        .collect();
                    if !marker.is_empty() {
                        heredoc = Some(marker);
                    }
                }
                ('"', _) => stack.push(Frame::Str),
                ('(' | '[' | '{', _) => {
                    if depth + 1 > MAX_NESTING {
                        return Some((line, column));
                    }
                    stack.push(Frame::Bracket);
                }
                (')' | ']' | '}', _) => {
                    stack.pop();
                }
                _ => {}
            },
        }
        at += 1;
    }
    None
}

#[cfg(test)]
mod nesting_tests {
    use super::*;

    #[test]
    fn a_hundred_thousand_levels_are_found_where_the_limit_is_passed() {
        let brackets = format!(
            "locals {{\n  x = {}1{}\n}}\n",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert_eq!(too_deep(&brackets), Some((2, 6 + MAX_NESTING)));
        let templates = format!("locals {{\n  x = {}\n}}\n", "\"${".repeat(100_000));
        assert!(too_deep(&templates).is_some_and(|(line, _)| line == 2));
        let blocks: String = (0..100_000).map(|_| "a {\n").collect();
        assert_eq!(
            too_deep(&blocks).map(|(line, _)| line),
            Some(MAX_NESTING + 1)
        );
        // Strings, comments and heredocs hold brackets that nest nothing.
        let quiet = format!(
            "# {open}\n/* {open} */\nvariable \"x\" {{\n  default = \"{open}\"\n  description = <<EOT\n{open}\nEOT\n}}\n",
            open = "[".repeat(1000)
        );
        assert_eq!(too_deep(&quiet), None);
        let fine = format!(
            "locals {{\n  x = {}1{}\n}}\n",
            "[".repeat(MAX_NESTING - 1),
            "]".repeat(MAX_NESTING - 1)
        );
        assert_eq!(too_deep(&fine), None);
    }
}
