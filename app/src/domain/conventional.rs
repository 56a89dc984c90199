//! Conventional Commits 1.0.0 (https://www.conventionalcommits.org/en/v1.0.0/): a commit
//! message or pull request title parsed into type, scope, `!`, description, body and footers,
//! with errors that give the line and column; and the release label a title derives (the
//! seed's "Label Derivation" table).

use std::fmt;

/// The longest header accepted (GitHub's limit for a pull request title).
pub const MAX_HEADER: usize = 256;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Footer {
    /// `Reviewed-by`, `Refs`, `BREAKING CHANGE`, …
    pub token: String,
    /// `": "` (false) or `" #"` (true) between token and value.
    pub hash: bool,
    /// May span several lines.
    pub value: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commit {
    /// As written (`feat`, `Fix`); compare with `kind_is`.
    pub kind: String,
    pub scope: Option<String>,
    /// `!` before the colon.
    pub bang: bool,
    pub description: String,
    pub body: Option<String>,
    pub footers: Vec<Footer>,
}

/// Where a message breaks the specification: 1-based line and column (in characters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for CommitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for CommitError {}

fn at<T>(line: usize, column: usize, message: impl Into<String>) -> Result<T, CommitError> {
    Err(CommitError {
        line,
        column,
        message: message.into(),
    })
}

/// The release label a pull request title (or commit) derives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Label {
    /// No label: the default patch bump.
    None,
    Minor,
    Major,
}

impl Label {
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Major => "release/major",
            Label::Minor => "release/minor",
            Label::None => "none",
        }
    }

    /// `release/major`, `release/minor` (or `none` / empty for no label).
    pub fn parse(text: &str) -> Option<Label> {
        match text.trim() {
            "release/major" => Some(Label::Major),
            "release/minor" => Some(Label::Minor),
            "" | "none" => Some(Label::None),
            _ => None,
        }
    }

    /// The strongest release label among a pull request's labels (others are ignored).
    pub fn from_labels<'a>(labels: impl IntoIterator<Item = &'a str>) -> Label {
        labels
            .into_iter()
            .filter_map(|l| match l.trim() {
                "release/major" => Some(Label::Major),
                "release/minor" => Some(Label::Minor),
                _ => None,
            })
            .max()
            .unwrap_or(Label::None)
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A footer token at the start of `line`: `Token: value`, `Token #value`, or the two breaking
/// change tokens. Returns (token, hash, value).
fn footer_start(line: &str) -> Option<(&str, bool, &str)> {
    for breaking in ["BREAKING CHANGE", "BREAKING-CHANGE"] {
        if let Some(value) = line
            .strip_prefix(breaking)
            .and_then(|r| r.strip_prefix(": "))
        {
            return Some((breaking, false, value));
        }
    }
    let end = line
        .find(|c: char| !(c.is_alphanumeric() || c == '-'))
        .unwrap_or(line.len());
    let token = &line[..end];
    if token.is_empty() || token.starts_with('-') {
        return None;
    }
    let rest = &line[end..];
    if let Some(value) = rest.strip_prefix(": ") {
        Some((token, false, value))
    } else {
        rest.strip_prefix(" #").map(|value| (token, true, value))
    }
}

fn columns(text: &str) -> usize {
    text.chars().count()
}

impl Commit {
    /// Parses a whole commit message (a pull request title is a message of one line).
    /// Trailing whitespace and a final newline are ignored; `\r\n` is read as `\n`. Control
    /// characters other than newline and tab (a NUL, a lone carriage return) are refused: git
    /// would cut the message at a NUL, and a message holding them would not print back as itself.
    pub fn parse(message: &str) -> Result<Commit, CommitError> {
        let message = message.replace("\r\n", "\n");
        let message = message.trim_end();
        if message.trim().is_empty() {
            return at(1, 1, "the message is empty");
        }
        let lines: Vec<&str> = message.split('\n').collect();
        // (The header has its own, stricter check.)
        for (n, line) in lines.iter().enumerate().skip(1) {
            if let Some((column, c)) = line
                .chars()
                .enumerate()
                .find(|(_, c)| c.is_control() && *c != '\t')
            {
                return at(
                    n + 1,
                    column + 1,
                    format!("control character U+{:04X} is not allowed", c as u32),
                );
            }
        }
        let header = lines[0];
        let mut commit = parse_header(header)?;
        if lines.len() == 1 {
            return Ok(commit);
        }
        if !lines[1].trim().is_empty() {
            return at(2, 1, "a blank line must separate the header from the body");
        }
        // Paragraphs after the header; the footers begin with the first paragraph whose first
        // line is a footer, and run to the end.
        let rest = &lines[2..];
        let mut footer_from = None;
        let mut paragraph_start = true;
        for (i, line) in rest.iter().enumerate() {
            if line.trim().is_empty() {
                paragraph_start = true;
                continue;
            }
            if paragraph_start && footer_start(line).is_some() {
                footer_from = Some(i);
                break;
            }
            paragraph_start = false;
        }
        let body_lines = &rest[..footer_from.unwrap_or(rest.len())];
        let body = body_lines.join("\n");
        let body = body.trim_matches('\n');
        if !body.trim().is_empty() {
            commit.body = Some(body.to_string());
        }
        if let Some(from) = footer_from {
            for (i, line) in rest[from..].iter().enumerate() {
                let number = from + i + 3;
                if let Some((token, hash, value)) = footer_start(line) {
                    commit.footers.push(Footer {
                        token: token.to_string(),
                        hash,
                        value: value.to_string(),
                    });
                } else if let Some(last) = commit.footers.last_mut() {
                    last.value.push('\n');
                    last.value.push_str(line);
                } else {
                    return at(number, 1, "expected a footer");
                }
            }
            for (i, footer) in commit.footers.iter_mut().enumerate() {
                let trimmed = footer.value.trim_end_matches('\n').to_string();
                if trimmed.trim().is_empty() {
                    return at(
                        lines.len(),
                        1,
                        format!("footer {} ({}) has no value", i + 1, footer.token),
                    );
                }
                footer.value = trimmed;
            }
        }
        Ok(commit)
    }

    /// Bytes as read from a file or argv: invalid UTF-8 is an error at its position.
    pub fn parse_bytes(bytes: &[u8]) -> Result<Commit, CommitError> {
        match std::str::from_utf8(bytes) {
            Ok(text) => Commit::parse(text),
            Err(error) => {
                let good = &bytes[..error.valid_up_to()];
                let good = std::str::from_utf8(good).unwrap_or_default();
                let line = good.matches('\n').count() + 1;
                let column = columns(good.rsplit('\n').next().unwrap_or("")) + 1;
                at(line, column, "the message is not valid UTF-8")
            }
        }
    }

    /// Types compare case-insensitively (specification rule 15).
    pub fn kind_is(&self, kind: &str) -> bool {
        self.kind.eq_ignore_ascii_case(kind)
    }

    /// `!` in the header, or a `BREAKING CHANGE` / `BREAKING-CHANGE` footer.
    pub fn breaking(&self) -> bool {
        self.bang
            || self
                .footers
                .iter()
                .any(|f| f.token == "BREAKING CHANGE" || f.token == "BREAKING-CHANGE")
    }

    /// The seed's "Label Derivation": breaking → release/major, feat → release/minor, anything
    /// else → no label (the default patch bump).
    pub fn label(&self) -> Label {
        if self.breaking() {
            Label::Major
        } else if self.kind_is("feat") {
            Label::Minor
        } else {
            Label::None
        }
    }

    pub fn header(&self) -> String {
        let mut header = self.kind.clone();
        if let Some(scope) = &self.scope {
            header.push('(');
            header.push_str(scope);
            header.push(')');
        }
        if self.bang {
            header.push('!');
        }
        header.push_str(": ");
        header.push_str(&self.description);
        header
    }
}

fn parse_header(header: &str) -> Result<Commit, CommitError> {
    let length = columns(header);
    if length > MAX_HEADER {
        return at(
            1,
            MAX_HEADER + 1,
            format!("the header is {length} characters long; at most {MAX_HEADER} are allowed"),
        );
    }
    if let Some((i, c)) = header.char_indices().find(|(_, c)| c.is_control()) {
        return at(
            1,
            columns(&header[..i]) + 1,
            format!("{c:?} cannot appear in the header"),
        );
    }
    let kind_end = header
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(header.len());
    let kind = &header[..kind_end];
    if kind.is_empty() {
        return at(1, 1, "expected a type such as feat or fix at the start");
    }
    let mut rest = &header[kind_end..];
    let mut column = columns(kind) + 1;
    let mut scope = None;
    if let Some(inner) = rest.strip_prefix('(') {
        let Some(close) = inner.find(')') else {
            return at(1, column, "the scope's parenthesis is never closed");
        };
        let text = &inner[..close];
        if let Some(bad) = text.find(['(', '\n']) {
            return at(
                1,
                column + 1 + columns(&text[..bad]),
                "a scope cannot hold a parenthesis",
            );
        }
        if text.trim().is_empty() {
            return at(1, column, "the scope is empty; leave out the parentheses");
        }
        if text.trim() != text {
            return at(
                1,
                column + 1,
                "the scope must not start or end with a space",
            );
        }
        scope = Some(text.to_string());
        column += columns(text) + 2;
        rest = &inner[close + 1..];
    }
    let bang = rest.starts_with('!');
    if bang {
        rest = &rest[1..];
        column += 1;
    }
    let Some(after_colon) = rest.strip_prefix(':') else {
        return at(
            1,
            column,
            format!(
                "expected ':' after {:?}",
                &header[..header.len() - rest.len()]
            ),
        );
    };
    column += 1;
    let Some(description) = after_colon.strip_prefix(' ') else {
        return at(1, column, "expected a space after ':'");
    };
    column += 1;
    if description.trim().is_empty() {
        return at(1, column, "the description is empty");
    }
    if description.starts_with(' ') {
        return at(1, column, "one space after ':', not more");
    }
    Ok(Commit {
        kind: kind.to_string(),
        scope,
        bang,
        description: description.trim_end().to_string(),
        body: None,
        footers: Vec::new(),
    })
}

impl fmt::Display for Commit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.header())?;
        if let Some(body) = &self.body {
            write!(f, "\n\n{body}")?;
        }
        for (i, footer) in self.footers.iter().enumerate() {
            f.write_str(if i == 0 { "\n\n" } else { "\n" })?;
            let separator = if footer.hash { " #" } else { ": " };
            write!(f, "{}{separator}{}", footer.token, footer.value)?;
        }
        Ok(())
    }
}

/// A pull request title checked: its parse and the label it derives.
pub fn check_title(title: &str) -> Result<(Commit, Label), CommitError> {
    if title.contains('\n') {
        let line = title.trim_end().lines().count();
        if line > 1 {
            return at(2, 1, "a pull request title is one line");
        }
    }
    let commit = Commit::parse(title)?;
    let label = commit.label();
    Ok((commit, label))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(message: &str) -> Commit {
        Commit::parse(message).unwrap_or_else(|e| panic!("{message:?}: {e}"))
    }

    fn err(message: &str) -> String {
        Commit::parse(message).unwrap_err().to_string()
    }

    #[test]
    fn the_seeds_label_derivation_table() {
        for (title, breaking, label) in [
            ("feat(auth): add OAuth2 support", false, Label::Minor),
            ("fix(api): correct status code", false, Label::None),
            ("feat(db)!: redesign schema", true, Label::Major),
            ("refactor: clean up imports", false, Label::None),
        ] {
            let (commit, derived) = check_title(title).unwrap();
            assert_eq!((commit.breaking(), derived), (breaking, label), "{title}");
        }
        assert_eq!(Label::Minor.as_str(), "release/minor");
        assert_eq!(
            Label::from_labels(["bug", "release/minor", "release/major"]),
            Label::Major
        );
        assert_eq!(Label::from_labels(["bug"]), Label::None);
    }

    #[test]
    fn the_specifications_examples() {
        // Commit message with description and breaking change footer.
        let c = ok("feat: allow provided config object to extend other configs\n\nBREAKING CHANGE: `extends` key in config file is now used for extending other config files");
        assert!(c.breaking() && !c.bang && c.body.is_none());
        assert_eq!(c.footers[0].token, "BREAKING CHANGE");
        assert_eq!(c.label(), Label::Major);
        // With ! to draw attention to a breaking change.
        let c = ok("feat!: send an email to the customer when a product is shipped");
        assert!(c.bang && c.breaking());
        // With scope and !.
        let c = ok("feat(api)!: send an email to the customer when a product is shipped");
        assert_eq!(c.scope.as_deref(), Some("api"));
        // With both ! and BREAKING CHANGE footer.
        let c = ok("chore!: drop support for Node 6\n\nBREAKING CHANGE: use JavaScript features not available in Node 6.");
        assert!(c.bang && c.footers.len() == 1 && c.label() == Label::Major);
        // With no body.
        let c = ok("docs: correct spelling of CHANGELOG");
        assert_eq!((c.kind.as_str(), c.label()), ("docs", Label::None));
        // With scope.
        assert_eq!(
            ok("feat(lang): add Polish language").scope.as_deref(),
            Some("lang")
        );
        // With multi-paragraph body and multiple footers.
        let c = ok("fix: prevent racing of requests\n\nIntroduce a request id and a reference to latest request. Dismiss\nincoming responses other than from latest request.\n\nRemove timeouts which were used to mitigate the racing issue but are\nobsolete now.\n\nReviewed-by: Z\nRefs: #123");
        assert_eq!(c.body.as_deref(), Some("Introduce a request id and a reference to latest request. Dismiss\nincoming responses other than from latest request.\n\nRemove timeouts which were used to mitigate the racing issue but are\nobsolete now."));
        assert_eq!(
            c.footers,
            vec![
                Footer {
                    token: "Reviewed-by".into(),
                    hash: false,
                    value: "Z".into()
                },
                Footer {
                    token: "Refs".into(),
                    hash: false,
                    value: "#123".into()
                },
            ]
        );
        // Revert with a "#" footer; BREAKING-CHANGE is a synonym; types are case-insensitive.
        let c = ok("revert: let us never again speak of the noodle incident\n\nRefs: 676104e, a215868\nCloses #42");
        assert_eq!(
            c.footers[1],
            Footer {
                token: "Closes".into(),
                hash: true,
                value: "42".into()
            }
        );
        assert!(ok("fix: x\n\nBREAKING-CHANGE: y").breaking());
        assert_eq!(ok("FEAT: shout").label(), Label::Minor);
        // A footer value that spans lines.
        let c = ok("fix: x\n\nBREAKING CHANGE: first line\n  second line\nRefs: #1");
        assert_eq!(c.footers[0].value, "first line\n  second line");
        // Lowercase "breaking change" is body text, not a footer.
        let c = ok("fix: x\n\nbreaking change: not a footer");
        assert!(!c.breaking() && c.footers.is_empty());
    }

    #[test]
    fn invalid_messages_name_line_and_column() {
        for (message, expected) in [
            ("", "1:1: the message is empty"),
            ("   \n\n", "1:1: the message is empty"),
            ("add a feature", "1:4: expected ':' after \"add\""),
            ("feat add", "1:5: expected ':' after \"feat\""),
            (
                ": nothing",
                "1:1: expected a type such as feat or fix at the start",
            ),
            ("feat:no space", "1:6: expected a space after ':'"),
            ("feat: ", "1:6: expected a space after ':'"),
            ("feat:  two spaces", "1:7: one space after ':', not more"),
            (
                "feat(): empty scope",
                "1:5: the scope is empty; leave out the parentheses",
            ),
            (
                "feat(api: unclosed",
                "1:5: the scope's parenthesis is never closed",
            ),
            (
                "feat(a(b)): nested",
                "1:7: a scope cannot hold a parenthesis",
            ),
            (
                "feat( api): spaced",
                "1:6: the scope must not start or end with a space",
            ),
            (
                "feat(api)! broken",
                "1:11: expected ':' after \"feat(api)!\"",
            ),
            (
                "feat: header\nbody without a blank line",
                "2:1: a blank line must separate the header from the body",
            ),
            (
                "feat: tab\tinside",
                "1:10: '\\t' cannot appear in the header",
            ),
            // Found by cargo fuzz: a lone carriage return at a line's end lost one `\r` on
            // each print and parse, and a NUL (which git cuts a message at) was taken.
            (
                "t(api)!: drop v1\n\nBo\0xt.\n\nfs #1 v1\n\0\0\r\r\r\n\r\nfs #12\n",
                "3:3: control character U+0000 is not allowed",
            ),
            (
                "fix: x\n\nbody\r\rmore",
                "3:5: control character U+000D is not allowed",
            ),
        ] {
            assert_eq!(err(message), expected, "{message:?}");
        }
        let crlf = Commit::parse("fix: x\r\n\r\nbody\r\n\r\nRefs: #1\r\n").unwrap();
        assert_eq!(Commit::parse(&crlf.to_string()), Ok(crlf));
        let long = format!("feat: {}", "x".repeat(10_000));
        assert_eq!(
            err(&long),
            "1:257: the header is 10006 characters long; at most 256 are allowed"
        );
        assert_eq!(
            Commit::parse_bytes(b"feat: ok\n\nbody \xff here")
                .unwrap_err()
                .to_string(),
            "3:6: the message is not valid UTF-8"
        );
        assert_eq!(
            check_title("feat: a\nfeat: b").unwrap_err().to_string(),
            "2:1: a pull request title is one line"
        );
    }

    #[test]
    fn printing_gives_back_the_message() {
        for message in [
            "feat(api)!: x",
            "fix: y\n\nbody\n\nmore body",
            "chore: z\n\nReviewed-by: A\nCloses #1",
            "docs(readme): w\n\nText.\n\nBREAKING CHANGE: multi\nline",
        ] {
            assert_eq!(ok(message).to_string(), message);
        }
    }
}
