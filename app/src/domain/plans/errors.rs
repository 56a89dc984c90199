//! The error blocks of Terraform's human output, for a failed run's page and comment.

/// The most lines `error_lines` returns.
const MAX_ERROR_LINES: usize = 40;
/// Lines returned when the output has no error block.
const TAIL_LINES: usize = 20;

/// The error blocks of Terraform's human output (boxed `│ Error: …` or plain `Error: …`), box
/// characters and colours stripped, blocks separated by a blank line, at most 40 lines; or the
/// last 20 non-empty lines when no error block is found.
pub fn error_lines(output: &str) -> Vec<String> {
    let lines: Vec<OutputLine> = output.lines().map(OutputLine::read).collect();
    let mut blocks: Vec<Vec<String>> = Vec::new();
    let mut current: Option<(Vec<String>, bool)> = None;
    let mut after_blank = false;
    for line in &lines {
        let (text, boxed) = match line {
            OutputLine::BoxEdge => {
                end_block(&mut current, &mut blocks);
                after_blank = false;
                continue;
            }
            OutputLine::Boxed(text) => (text.as_str(), true),
            OutputLine::Plain(text) => (text.as_str(), false),
        };
        if text.contains("Error: ") {
            end_block(&mut current, &mut blocks);
            current = Some((vec![text.trim_start().to_string()], boxed));
        } else if let Some((block, block_boxed)) = current.as_mut() {
            let ends = if *block_boxed {
                !boxed
            } else {
                boxed || (after_blank && ends_plain_block(text))
            };
            if ends {
                end_block(&mut current, &mut blocks);
            } else {
                block.push(text.to_string());
            }
        }
        after_blank = text.trim().is_empty();
    }
    end_block(&mut current, &mut blocks);
    if blocks.is_empty() {
        let mut tail: Vec<String> = lines
            .iter()
            .rev()
            .filter_map(OutputLine::text)
            .filter(|t| !t.trim().is_empty())
            .take(TAIL_LINES)
            .map(str::to_string)
            .collect();
        tail.reverse();
        return tail;
    }
    let mut out = Vec::new();
    for block in blocks {
        if !out.is_empty() {
            out.push(String::new());
        }
        out.extend(block);
    }
    out.truncate(MAX_ERROR_LINES);
    out
}

fn end_block(current: &mut Option<(Vec<String>, bool)>, blocks: &mut Vec<Vec<String>>) {
    if let Some((mut block, _)) = current.take() {
        while block.last().is_some_and(|l| l.trim().is_empty()) {
            block.pop();
        }
        blocks.push(block);
    }
}

/// Whether an unindented line after a blank one, in a plain (unboxed) error block, starts
/// something else: a warning, or Terraform's progress and closing lines.
fn ends_plain_block(text: &str) -> bool {
    // Not "Terraform …": an error's own paragraphs often start so.
    const OTHER_STARTS: [&str; 3] = ["Warning: ", "Planning failed", "Releasing state lock"];
    const PROGRESS: [&str; 10] = [
        ": Refreshing state",
        ": Reading...",
        ": Read complete",
        ": Creating...",
        ": Creation complete",
        ": Modifying...",
        ": Modifications complete",
        ": Destroying...",
        ": Destruction complete",
        ": Still ",
    ];
    !text.starts_with([' ', '\t'])
        && (OTHER_STARTS.iter().any(|s| text.starts_with(s))
            || PROGRESS.iter().any(|p| text.contains(p)))
}

/// A line of Terraform's output, colours removed and trailing spaces trimmed.
enum OutputLine {
    /// `╷` or `╵`: a box opens or closes.
    BoxEdge,
    /// Inside a box, without its `│ `.
    Boxed(String),
    Plain(String),
}

impl OutputLine {
    fn read(line: &str) -> OutputLine {
        let line = strip_ansi(line);
        let line = line.trim_end();
        if line == "╷" || line == "╵" {
            return OutputLine::BoxEdge;
        }
        match line.strip_prefix('│') {
            Some(rest) => OutputLine::Boxed(rest.strip_prefix(' ').unwrap_or(rest).to_string()),
            None => OutputLine::Plain(line.to_string()),
        }
    }

    fn text(&self) -> Option<&str> {
        match self {
            OutputLine::BoxEdge => None,
            OutputLine::Boxed(text) | OutputLine::Plain(text) => Some(text),
        }
    }
}

/// The line without ANSI escape sequences (colours, when `-no-color` was not given).
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'[') {
            chars.next();
            // Parameters and intermediates, then one final byte in '@'..='~'.
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        }
    }
    out
}
