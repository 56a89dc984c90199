//! The pull request comment: a plan's summary as Markdown that GitHub, Bitbucket and Azure
//! DevOps render alike, never longer than a comment may be.

use super::{OutputChange, PlanSummary, ResourceChange, Shown, MAX_COMMENT_CHARS};

impl PlanSummary {
    /// The pull request comment body: Markdown that GitHub, Bitbucket and Azure DevOps render
    /// alike, cut at `MAX_COMMENT_CHARS` with a last line saying what was left out.
    pub fn markdown(&self, title: &str) -> String {
        let title: String = title
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(200)
            .collect();
        let mut comment = Comment::new(MAX_COMMENT_CHARS);
        comment.push(&format!("### {title}\n\n"));
        if self.is_empty() {
            comment.push("**No changes.** The infrastructure matches the code.\n");
        } else {
            comment.push(&format!(
                "**Plan:** {} to add, {} to change, {} to destroy (`{}`)\n",
                self.counts.add,
                self.counts.change,
                self.counts.destroy,
                self.counts.label()
            ));
        }
        comment.sections(&self.sections());
        comment.finish()
    }

    fn sections(&self) -> Vec<Section<'_>> {
        let mut sections: Vec<Section> = self.changes.iter().map(Section::Resource).collect();
        if !self.outputs.is_empty() {
            sections.push(Section::Outputs(&self.outputs));
        }
        sections
    }
}

/// `+ path = after`, `- path = before` or `~ path = before -> after`.
fn diff_line(path: &str, before: &Shown, after: &Shown, forces_replacement: bool) -> String {
    let mut line = match (before, after) {
        (Shown::Absent, after) => format!("+ {path} = {after}"),
        (before, Shown::Absent) => format!("- {path} = {before}"),
        (before, after) => format!("~ {path} = {before} -> {after}"),
    };
    if forces_replacement {
        line.push_str(" # forces replacement");
    }
    line
}

/// Inline code that holds any text: a fence longer than any run of backticks in it.
fn inline_code(text: &str) -> String {
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    if longest == 0 {
        format!("{fence}{text}{fence}")
    } else {
        format!("{fence} {text} {fence}")
    }
}

/// A resource change or the outputs: a heading line and a `diff` block, whose lines are made
/// only when they are shown.
enum Section<'a> {
    Resource(&'a ResourceChange),
    Outputs(&'a [OutputChange]),
}

impl Section<'_> {
    fn heading(&self) -> String {
        match self {
            Section::Resource(change) => format!(
                "{} **{}** {}",
                inline_code(change.action.symbol()),
                change.action.label(),
                inline_code(&change.address)
            ),
            Section::Outputs(_) => "**Outputs**".into(),
        }
    }

    fn line_count(&self) -> usize {
        match self {
            Section::Resource(change) => {
                change.attributes.len() + usize::from(change.more_attributes > 0)
            }
            Section::Outputs(outputs) => outputs.len(),
        }
    }

    fn line(&self, index: usize) -> String {
        match self {
            Section::Resource(change) => match change.attributes.get(index) {
                Some(a) => diff_line(&a.path, &a.before, &a.after, a.forces_replacement),
                None => format!("  … and {} more changed attributes", change.more_attributes),
            },
            Section::Outputs(outputs) => {
                let output = &outputs[index];
                diff_line(&output.name, &output.before, &output.after, false)
            }
        }
    }
}

/// A comment body that never passes its limit: whole lines only, every fence closed, room kept
/// for the closing note.
struct Comment {
    text: String,
    chars: usize,
    limit: usize,
}

/// Room kept for the closing fence and the note on what was left out.
const NOTE_ROOM: usize = 300;

impl Comment {
    fn new(limit: usize) -> Self {
        Comment {
            text: String::new(),
            chars: 0,
            limit,
        }
    }

    fn push(&mut self, text: &str) {
        self.text.push_str(text);
        self.chars += text.chars().count();
    }

    fn fits(&self, text: &str) -> bool {
        self.chars + text.chars().count() + NOTE_ROOM <= self.limit
    }

    fn sections(&mut self, sections: &[Section]) {
        for (index, section) in sections.iter().enumerate() {
            let heading = format!("\n{}\n", section.heading());
            if !self.fits(&heading) {
                return self.note(&sections[index..], 0);
            }
            self.push(&heading);
            if section.line_count() == 0 {
                continue;
            }
            self.push("```diff\n");
            for shown in 0..section.line_count() {
                let line = format!("{}\n", section.line(shown));
                if !self.fits(&line) {
                    self.push("```\n");
                    return self.note(&sections[index..], shown);
                }
                self.push(&line);
            }
            self.push("```\n");
        }
    }

    /// The last line: what of `left` (whose first section showed `shown` lines) is not here.
    fn note(&mut self, left: &[Section], shown: usize) {
        let remaining = |(index, section): (usize, &Section)| {
            section.line_count() - if index == 0 { shown } else { 0 }
        };
        let is_outputs = |s: &Section| matches!(s, Section::Outputs(_));
        let resources = left.iter().filter(|s| !is_outputs(s)).count();
        let outputs: usize = left
            .iter()
            .enumerate()
            .filter(|(_, s)| is_outputs(s))
            .map(remaining)
            .sum();
        let lines: usize = left.iter().enumerate().map(remaining).sum();
        self.push(&format!(
            "\n_Left out: {resources} resource changes (in whole or in part) and {outputs} outputs, \
             {lines} diff lines in all: a comment holds at most {MAX_COMMENT_CHARS} characters; \
             the run's log has the whole plan._\n"
        ));
    }

    fn finish(self) -> String {
        self.text
    }
}
