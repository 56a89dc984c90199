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

/// Every version tag of a repository, by the commit it points at.
pub struct TagIndex {
    by_commit: HashMap<Oid, Vec<Version>>,
    /// Release tags (no pre-release part), highest first, with their commits.
    releases: Vec<(Version, Oid)>,
    pub all: Vec<Version>,
    /// Tags that are not `v` + SemVer, left out.
    pub ignored: usize,
}

impl TagIndex {
    /// Reads `refs/tags/*`: lightweight and annotated tags peeled to their commits; names that
    /// are not `v` + SemVer and tags of trees or blobs are counted in `ignored`.
    pub fn read(repo: &Repository) -> Result<TagIndex, String> {
        let mut by_commit: HashMap<Oid, Vec<Version>> = HashMap::new();
        let mut all = Vec::new();
        let mut ignored = 0;
        let references = repo.references_glob("refs/tags/*").map_err(describe)?;
        for reference in references {
            let reference = reference.map_err(describe)?;
            let Some(version) = reference
                .shorthand()
                .and_then(|name| Version::parse_tag(name).ok())
            else {
                ignored += 1;
                continue;
            };
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
        let mut releases: Vec<(Version, Oid)> = by_commit
            .iter()
            .flat_map(|(oid, versions)| versions.iter().map(move |v| (v.clone(), *oid)))
            .filter(|(v, _)| !v.is_prerelease())
            .collect();
        releases.sort_by(|a, b| b.0.precedence(&a.0));
        Ok(TagIndex {
            by_commit,
            releases,
            all,
            ignored,
        })
    }

    /// The version tags on `commit` itself.
    pub fn on(&self, commit: Oid) -> &[Version] {
        self.by_commit.get(&commit).map_or(&[], Vec::as_slice)
    }

    /// The base tag seen from `head`: release tags are asked highest first and the first
    /// reachable one is the answer, so the history is walked only as far as that takes.
    pub fn base(&self, repo: &Repository, head: Oid) -> Result<Option<Version>, String> {
        for (version, oid) in &self.releases {
            if *oid == head || repo.graph_descendant_of(head, *oid).map_err(describe)? {
                return Ok(Some(version.clone()));
            }
        }
        Ok(None)
    }

    /// What `versioning::compute` needs to know about `head`.
    pub fn tag_set(&self, repo: &Repository, head: Oid) -> Result<TagSet, String> {
        Ok(TagSet {
            reachable: self.base(repo, head)?.into_iter().collect(),
            all: self.all.clone(),
            head: self.on(head).to_vec(),
        })
    }
}

/// Reads the tags of the repository at `path` (a work tree or a bare repository), seen from
/// its HEAD.
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
    let index = TagIndex::read(&repo)?;
    Ok(RepoVersions {
        tags: index.tag_set(&repo, head)?,
        head: head.to_string(),
        ignored: index.ignored,
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
