//! A repository's version tags read with git2, for `slipway version compute`: every tag whose
//! name is `v` + SemVer (lightweight or annotated, peeled to its commit; other tags ignored),
//! the ones on HEAD, and the base tag — the highest release tag reachable from HEAD.
//!
//! Reachability is asked of candidates in precedence order, highest first, and stops at the
//! first reachable one, so a repository of 100,000 commits is not walked when its highest
//! release is near HEAD (the usual case on a release branch or main).

use app::domain::conventional::Label;
use app::domain::semver::Version;
use app::domain::versioning::{compute, Computation, ReleaseType, TagSet};
use git2::{Oid, Repository};
use std::collections::HashMap;
use std::path::Path;

pub struct RepoVersions {
    pub tags: TagSet,
    /// The HEAD commit's id.
    pub head: String,
    /// Tags that are not `v` + SemVer, left out.
    pub ignored: usize,
}

fn describe(error: git2::Error) -> String {
    error.message().to_string()
}

/// Reads the tags of the repository at `path` (a work tree or a bare repository).
pub fn read(path: &Path) -> Result<RepoVersions, String> {
    let repo = Repository::open(path).map_err(|e| match e.code() {
        git2::ErrorCode::NotFound => format!("{} is not a Git repository", path.display()),
        _ => format!("{}: {}", path.display(), describe(e)),
    })?;
    let head = repo
        .head()
        .and_then(|h| h.peel_to_commit())
        .map_err(|e| match e.code() {
            git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound => {
                format!("{} has no commits yet", path.display())
            }
            _ => format!("{}: cannot read HEAD: {}", path.display(), describe(e)),
        })?
        .id();
    let mut by_commit: HashMap<Oid, Vec<Version>> = HashMap::new();
    let mut all = Vec::new();
    let mut ignored = 0;
    let references = repo.references_glob("refs/tags/*").map_err(describe)?;
    for reference in references {
        let reference = reference.map_err(describe)?;
        let Some(name) = reference.shorthand() else {
            ignored += 1;
            continue;
        };
        let Ok(version) = Version::parse_tag(name) else {
            ignored += 1;
            continue;
        };
        // Annotated tags peel through the tag object; a tag of a tree or blob is not a release.
        let Ok(commit) = reference.peel_to_commit() else {
            ignored += 1;
            continue;
        };
        by_commit
            .entry(commit.id())
            .or_default()
            .push(version.clone());
        all.push(version);
    }
    let head_tags = by_commit.get(&head).cloned().unwrap_or_default();
    // Release tags (no pre-release part), highest first; the first reachable one is the base.
    let mut candidates: Vec<(&Version, Oid)> = by_commit
        .iter()
        .flat_map(|(oid, versions)| versions.iter().map(move |v| (v, *oid)))
        .filter(|(v, _)| !v.is_prerelease())
        .collect();
    candidates.sort_by(|a, b| b.0.precedence(a.0));
    let mut reachable = Vec::new();
    for (version, oid) in candidates {
        let is_reachable = oid == head || repo.graph_descendant_of(head, oid).map_err(describe)?;
        if is_reachable {
            reachable.push(version.clone());
            break;
        }
    }
    Ok(RepoVersions {
        tags: TagSet {
            reachable,
            all,
            head: head_tags,
        },
        head: head.to_string(),
        ignored,
    })
}

/// The next version of the repository at `path` for a branch of `release` type.
pub fn compute_at(
    path: &Path,
    release: ReleaseType,
    label: Label,
) -> Result<(Computation, RepoVersions), String> {
    let versions = read(path)?;
    Ok((compute(release, &versions.tags, label), versions))
}
