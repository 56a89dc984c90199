//! `slipway commit` and `slipway version`: commit messages checked and versions computed as the
//! generated workflows run them.

use super::*;

pub(super) fn commit_command(command: CommitCommand) -> ExitCode {
    use app::domain::conventional::Commit;
    use std::io::Read;
    let CommitCommand::Check { message, file } = command;
    let from_file = file.is_some();
    let bytes = match (message, file) {
        (Some(message), None) if message != "-" => message.into_bytes(),
        (_, Some(path)) => match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) => {
                eprintln!("error: {}: {error}", path.display());
                return ExitCode::from(2);
            }
        },
        _ => {
            let mut bytes = Vec::new();
            if let Err(error) = std::io::stdin().read_to_end(&mut bytes) {
                eprintln!("error: standard input: {error}");
                return ExitCode::from(2);
            }
            bytes
        }
    };
    // A commit-msg hook's file holds git's comment lines, which git strips from the message.
    let bytes = match std::str::from_utf8(&bytes) {
        Ok(text) if from_file => text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n")
            .into_bytes(),
        _ => bytes,
    };
    match Commit::parse_bytes(&bytes) {
        Ok(commit) => {
            println!("{}", commit.label());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            if let Some(line) = String::from_utf8_lossy(&bytes).lines().nth(error.line - 1) {
                let shown: String = line.chars().take(120).collect();
                if error.column <= 121 {
                    eprintln!("  {shown}");
                    eprintln!("  {}^", " ".repeat(error.column - 1));
                }
            }
            ExitCode::FAILURE
        }
    }
}

pub(super) fn version_command(command: VersionCommand) -> ExitCode {
    use app::domain::conventional::Label;
    use app::domain::versioning::{Outcome, ReleaseType, Strategy};
    let VersionCommand::Compute {
        repo,
        release_type,
        branch,
        strategy,
        label,
        json,
    } = command;
    let usage = |message: String| {
        eprintln!("error: {message}");
        ExitCode::from(2)
    };
    let release = match (release_type, &branch, strategy) {
        (Some(text), _, _) => match ReleaseType::parse(&text) {
            Some(release) => release,
            None => {
                return usage(format!(
                    "--release-type {text:?}: must be LATEST, ALPHA, BETA, HOTFIX or NONE"
                ))
            }
        },
        (None, Some(branch), Some(text)) => match Strategy::parse(&text) {
            Some(strategy) => strategy.release_type(branch),
            None => {
                return usage(format!(
                    "--strategy {text:?}: must be GITHUB_FLOW, GIT_FLOW or TRUNK_BASED"
                ))
            }
        },
        _ => return usage("give --release-type, or --branch with --strategy".into()),
    };
    let label = match label.as_deref().map(Label::parse) {
        None => Label::None,
        Some(Some(label)) => label,
        Some(None) => {
            return usage(format!(
                "--label {:?}: must be release/major or release/minor",
                label.unwrap_or_default()
            ))
        }
    };
    let (computation, versions) =
        match crate::adapters::version_tags::compute_at(&repo, release, label) {
            Ok(result) => result,
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::FAILURE;
            }
        };
    let (outcome, version) = match &computation.outcome {
        Outcome::Version(v) => ("version", Some(v.tag())),
        Outcome::Skip(v) => ("skip", Some(v.tag())),
        Outcome::None => ("none", None),
    };
    if json {
        let value = serde_json::json!({
            "outcome": outcome,
            "version": version,
            "skip": outcome == "skip",
            "release_type": release.as_str(),
            "branch": branch,
            "label": label.as_str(),
            "base_tag": computation.base_found.then(|| computation.base.tag()),
            "bump": computation.bump.map(|b| b.as_str()),
            "reason": computation.reason,
            "commit": versions.head,
            "ignored_tags": versions.ignored,
        });
        println!("{value:#}");
    } else {
        match &computation.outcome {
            Outcome::Version(v) => println!("{}", v.tag()),
            Outcome::Skip(_) => println!("skip"),
            Outcome::None => println!("none"),
        }
    }
    ExitCode::SUCCESS
}
