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

/// The tags as `(name without refs/tags/, target, peeled commit when packed-refs knows it)`.
///
/// Read straight from the ref store: `packed-refs` (with the peeled values `git pack-refs` and
/// `git clone` record, so annotated tags need no object read) and the loose files under
/// `refs/tags`, which win over packed entries. This is a third of the system calls libgit2's
/// reference iterator makes per ref, which is what a repository of 10,000 tags spends its time
/// on. A symbolic ref under refs/tags is resolved through libgit2.
fn tag_refs(repo: &Repository) -> Result<Vec<(String, Oid, Option<Oid>)>, String> {
    let common = repo.commondir();
    let mut tags: HashMap<String, (Oid, Option<Oid>)> = HashMap::new();
    match std::fs::read_to_string(common.join("packed-refs")) {
        Ok(text) => {
            let mut last: Option<String> = None;
            for line in text.lines() {
                if let Some(peeled) = line.strip_prefix('^') {
                    if let (Some(name), Ok(oid)) = (&last, Oid::from_str(peeled.trim())) {
                        if let Some(entry) = tags.get_mut(name) {
                            entry.1 = Some(oid);
                        }
                    }
                    continue;
                }
                last = None;
                let Some((oid, name)) = line.split_once(' ') else {
                    continue;
                };
                let (Ok(oid), Some(short)) = (Oid::from_str(oid), name.strip_prefix("refs/tags/"))
                else {
                    continue;
                };
                tags.insert(short.to_string(), (oid, None));
                last = Some(short.to_string());
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot read packed-refs: {e}")),
    }
    let root = common.join("refs/tags");
    let mut folders = vec![root.clone()];
    while let Some(folder) = folders.pop() {
        let entries = match std::fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(format!("cannot read {}: {e}", folder.display())),
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let kind = entry.file_type().map_err(|e| e.to_string())?;
            if kind.is_dir() {
                folders.push(path);
                continue;
            }
            let Some(short) = path
                .strip_prefix(&root)
                .ok()
                .and_then(|p| p.to_str())
                .map(str::to_string)
            else {
                continue;
            };
            // A ref being written right now (`*.lock`) is not a ref yet.
            if short.ends_with(".lock") {
                continue;
            }
            let Ok(content) = std::fs::read_to_string(&path) else {
                continue;
            };
            let content = content.trim();
            let target = if content.starts_with("ref: ") {
                repo.refname_to_id(&format!("refs/tags/{short}")).ok()
            } else {
                Oid::from_str(content).ok()
            };
            if let Some(target) = target {
                tags.insert(short, (target, None));
            }
        }
    }
    Ok(tags
        .into_iter()
        .map(|(name, (target, peeled))| (name, target, peeled))
        .collect())
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
    ///
    /// Names are parsed before any object is read, and a lightweight tag's commit is known from
    /// the object's header alone: only annotated tags that packed-refs has not peeled are read
    /// whole.
    pub fn read(repo: &Repository) -> Result<TagIndex, String> {
        let odb = repo.odb().map_err(describe)?;
        let mut by_commit: HashMap<Oid, Vec<Version>> = HashMap::new();
        let mut all = Vec::new();
        let mut ignored = 0;
        for (name, target, peeled) in tag_refs(repo)? {
            let Ok(version) = Version::parse_tag(&name) else {
                ignored += 1;
                continue;
            };
            let commit = match peeled {
                Some(peeled) => {
                    matches!(odb.read_header(peeled), Ok((_, git2::ObjectType::Commit)))
                        .then_some(peeled)
                }
                None => match odb.read_header(target) {
                    Ok((_, git2::ObjectType::Commit)) => Some(target),
                    Ok((_, git2::ObjectType::Tag)) => repo
                        .find_object(target, None)
                        .and_then(|o| o.peel_to_commit())
                        .ok()
                        .map(|c| c.id()),
                    _ => None,
                },
            };
            let Some(commit) = commit else {
                ignored += 1;
                continue;
            };
            by_commit.entry(commit).or_default().push(version.clone());
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
    pub fn into_tag_set(self, repo: &Repository, head: Oid) -> Result<TagSet, String> {
        Ok(TagSet {
            reachable: self.base(repo, head)?.into_iter().collect(),
            head: self.on(head).to_vec(),
            all: self.all,
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
    let ignored = index.ignored;
    Ok(RepoVersions {
        tags: index.into_tag_set(&repo, head)?,
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
