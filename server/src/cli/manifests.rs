//! `slipway manifests`: check, plan and diff a repository's manifests on the command line, with the
//! errors the portal shows.

use super::*;

/// Every manifest of `files` with its file name, or every error (as `file:line:column: …`).
pub(super) fn load_manifests(
    files: &[std::path::PathBuf],
) -> Result<Vec<(String, app::domain::manifests::Manifest)>, Vec<String>> {
    use app::domain::manifests::{check_links, load};
    let mut loaded = Vec::new();
    let mut errors = Vec::new();
    for path in files {
        let name = path.display().to_string();
        let text = match std::fs::read(path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(e) => {
                    errors.push(format!(
                        "{name}: not UTF-8 (byte {})",
                        e.utf8_error().valid_up_to()
                    ));
                    continue;
                }
            },
            Err(e) => {
                errors.push(format!("{name}: {e}"));
                continue;
            }
        };
        match load(&name, &text) {
            Ok(manifests) => loaded.extend(manifests.into_iter().map(|m| (name.clone(), m))),
            Err(found) => errors.extend(found.iter().map(|e| e.to_string())),
        }
    }
    if errors.is_empty() {
        errors.extend(check_links(&loaded).iter().map(|e| e.to_string()));
    }
    if errors.is_empty() {
        Ok(loaded)
    } else {
        Err(errors)
    }
}

pub(super) fn report_errors(errors: &[String]) -> ExitCode {
    for error in errors {
        eprintln!("{error}");
    }
    eprintln!(
        "{} error{}",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    );
    ExitCode::FAILURE
}

pub(super) fn manifests_command(command: ManifestsCommand) -> ExitCode {
    match command {
        ManifestsCommand::Validate { files } => match load_manifests(&files) {
            Err(errors) => report_errors(&errors),
            Ok(loaded) => {
                for (file, manifest) in &loaded {
                    println!("{file}: {} {}", manifest.kind(), manifest.metadata().name);
                }
                ExitCode::SUCCESS
            }
        },
        ManifestsCommand::Render {
            out,
            org,
            managed_repository,
            files,
        } => render(&out, org.as_deref(), &managed_repository, &files),
    }
}

/// `slipway manifests render`: every repository's generated files and rulesets, written under
/// `out/<repository>/` as provisioning would write them.
fn render(
    out: &std::path::Path,
    org: Option<&str>,
    managed_repository: &str,
    files: &[std::path::PathBuf],
) -> ExitCode {
    use app::domain::manifests::check_name;
    let mut errors = Vec::new();
    if let Some(org) = org {
        if let Err(why) = check_name(org) {
            errors.push(format!("--org {org:?}: {why}"));
        }
    }
    if let Err(why) = check_name(managed_repository) {
        errors.push(format!(
            "--managed-repository {managed_repository:?}: {why}"
        ));
    }
    if !errors.is_empty() {
        return report_errors(&errors);
    }
    let loaded = match load_manifests(&files) {
        Ok(loaded) => loaded,
        Err(errors) => return report_errors(&errors),
    };
    let manifests: Vec<_> = loaded.into_iter().map(|(_, m)| m).collect();
    let plans = match app::domain::repositories::compute_all(&manifests, org, managed_repository) {
        Ok(plans) => plans,
        Err(error) => return report_errors(&[error]),
    };
    if plans.is_empty() {
        return report_errors(&["no GithubRepository among the manifests".into()]);
    }
    let mut written = 0;
    let mut write = |path: std::path::PathBuf, contents: &str| -> Result<(), String> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&path, contents).map_err(|e| format!("{}: {e}", path.display()))?;
        written += 1;
        Ok(())
    };
    for plan in &plans {
        let result = plan
            .files
            .iter()
            .try_for_each(|f| write(out.join(&f.repository).join(&f.path), &f.contents))
            .and_then(|()| {
                plan.rulesets.iter().try_for_each(|r| {
                    write(
                        out.join(&plan.repository)
                            .join("rulesets")
                            .join(format!("{}.json", r.name)),
                        &r.json,
                    )
                })
            });
        if let Err(error) = result {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
        println!(
            "{}: {} ({}), {} file{}, {} ruleset{}",
            plan.repository,
            plan.strategy.as_str(),
            plan.org,
            plan.files.len(),
            if plan.files.len() == 1 { "" } else { "s" },
            plan.rulesets.len(),
            if plan.rulesets.len() == 1 { "" } else { "s" },
        );
    }
    println!("wrote {written} files under {}", out.display());
    ExitCode::SUCCESS
}
