//! Line diffs for pages that compare files (revisions, pull requests, plans): Myers' algorithm
//! in linear space (the `similar` crate), with a deadline — two large files that share nothing
//! cost a bounded time and give a correct, if not minimal, diff — and past `LIMIT` lines a side
//! the whole is shown as replaced.

use crate::domain::resources::DiffLine;
use std::time::{Duration, Instant};

const LIMIT: usize = 50_000;
const DEADLINE: Duration = Duration::from_millis(300);

pub fn diff_lines(old: &str, new: &str) -> Vec<DiffLine> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    fn lines<'a>(
        side: &'a [&str],
        make: fn(String) -> DiffLine,
    ) -> impl Iterator<Item = DiffLine> + 'a {
        side.iter().map(move |l| make(l.to_string()))
    }
    if a.len() > LIMIT || b.len() > LIMIT {
        return lines(&a, DiffLine::Removed)
            .chain(lines(&b, DiffLine::Added))
            .collect();
    }
    let ops = similar::capture_diff_slices_deadline(
        similar::Algorithm::Myers,
        &a,
        &b,
        Some(Instant::now() + DEADLINE),
    );
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    for op in ops {
        let (removed, added) = (op.old_range(), op.new_range());
        match op {
            similar::DiffOp::Equal { .. } => out.extend(lines(&a[removed], DiffLine::Same)),
            _ => {
                out.extend(lines(&a[removed], DiffLine::Removed));
                out.extend(lines(&b[added], DiffLine::Added));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_keeps_common_lines_and_marks_changes() {
        let diff = diff_lines("a\nb\nc\n", "a\nx\nc\nd\n");
        assert_eq!(
            diff,
            vec![
                DiffLine::Same("a".into()),
                DiffLine::Removed("b".into()),
                DiffLine::Added("x".into()),
                DiffLine::Same("c".into()),
                DiffLine::Added("d".into()),
            ]
        );
        assert!(diff_lines("same\n", "same\n")
            .iter()
            .all(|l| matches!(l, DiffLine::Same(_))));
    }

    #[test]
    fn large_diffs_take_linear_space_and_bounded_time() {
        let old: String = (0..20_000).map(|i| format!("line {i}\n")).collect();
        let new: String = (0..20_000).map(|i| format!("other {i}\n")).collect();
        let started = Instant::now();
        let diff = diff_lines(&old, &new);
        assert_eq!(diff.len(), 40_000);
        let mostly_same: String = (0..20_000)
            .map(|i| {
                if i % 1000 == 0 {
                    format!("changed {i}\n")
                } else {
                    format!("line {i}\n")
                }
            })
            .collect();
        let diff = diff_lines(&old, &mostly_same);
        assert_eq!(
            diff.iter()
                .filter(|l| matches!(l, DiffLine::Same(_)))
                .count(),
            19_980
        );
        // Loose enough for a slow machine, tight enough to catch a quadratic table.
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{:?}",
            started.elapsed()
        );
    }
}
