//! Reading a workspace: a file at a ref, its tags, and the changes between two commits.

use super::*;

pub(super) fn read_blocking(
    mirror: &Path,
    url: &str,
    repo: &ForgeRepo,
    branch: &str,
    folder: &str,
) -> Result<Vec<(String, String)>, ExternalError> {
    let git = fetch(mirror, url, repo)?;
    // A commit id names exactly that commit (a plan reads the head it was made for).
    let pinned = (branch.len() == 40 && branch.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| git2::Oid::from_str(branch).ok())
        .flatten()
        .filter(|oid| git.find_commit(*oid).is_ok());
    let Some(head) = pinned.or_else(|| remote_head(&git, branch)) else {
        return Ok(Vec::new());
    };
    let tree = git
        .find_commit(head)
        .and_then(|c| c.tree())
        .map_err(git_error)?;
    let folder_tree = if folder.is_empty() {
        tree
    } else {
        let Ok(entry) = tree.get_path(Path::new(folder)) else {
            return Ok(Vec::new());
        };
        let Ok(folder_tree) = git.find_tree(entry.id()) else {
            return Ok(Vec::new());
        };
        folder_tree
    };
    let mut files = Vec::new();
    folder_tree
        .walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
            if entry.kind() == Some(git2::ObjectType::Blob) {
                if let Ok(blob) = git.find_blob(entry.id()) {
                    files.push((
                        format!("{dir}{}", entry.name().unwrap_or("")),
                        String::from_utf8_lossy(blob.content()).into_owned(),
                    ));
                }
            }
            git2::TreeWalkResult::Ok
        })
        .map_err(git_error)?;
    files.sort();
    Ok(files)
}

pub(super) fn tags_blocking(
    mirror: &Path,
    url: &str,
    repo: &ForgeRepo,
) -> Result<RepoTags, ExternalError> {
    let git = fetch_refs(mirror, url, repo, true)?;
    let index = TagIndex::read(&git).map_err(ExternalError::permanent)?;
    let mut branches = Vec::new();
    for reference in git
        .references_glob("refs/remotes/origin/*")
        .map_err(git_error)?
        .flatten()
    {
        let (Some(name), Ok(head)) = (
            reference
                .name()
                .and_then(|n| n.strip_prefix("refs/remotes/origin/")),
            reference.peel_to_commit(),
        ) else {
            continue;
        };
        branches.push(BranchTags {
            name: name.to_string(),
            head: head.id().to_string(),
            base: index
                .base(&git, head.id())
                .map_err(ExternalError::permanent)?
                .map(|v| v.tag()),
            head_tags: index.on(head.id()).iter().map(|v| v.tag()).collect(),
        });
    }
    branches.sort_by(|a, b| a.name.cmp(&b.name));
    let mut tags = Vec::new();
    for reference in git
        .references_glob("refs/tags/*")
        .map_err(git_error)?
        .flatten()
    {
        let Some(name) = reference.shorthand().map(str::to_string) else {
            continue;
        };
        if Version::parse_tag(&name).is_err() {
            continue;
        }
        let Ok(commit) = reference.peel_to_commit() else {
            continue;
        };
        let tag = reference.peel_to_tag().ok();
        let first_line =
            |text: Option<&str>| text.unwrap_or("").lines().next().unwrap_or("").to_string();
        tags.push(VersionTag {
            name,
            commit: commit.id().to_string(),
            at: tag
                .as_ref()
                .and_then(|t| t.tagger())
                .map_or(commit.time().seconds(), |s| s.when().seconds()),
            annotated: tag.is_some(),
            message: match &tag {
                Some(t) if !first_line(t.message()).is_empty() => first_line(t.message()),
                _ => first_line(commit.summary()),
            },
        });
    }
    Ok(RepoTags {
        branches,
        tags,
        ignored: index.ignored,
    })
}

/// The largest file shown in a diff; bigger ones are named but not shown.
pub(super) const MAX_DIFF_FILE: usize = 256 * 1024;

pub(super) fn changes_blocking(
    mirror: &Path,
    url: &str,
    repo: &ForgeRepo,
    commit: &str,
) -> Result<Vec<ChangedFile>, ExternalError> {
    let oid = Oid::from_str(commit)
        .map_err(|_| ExternalError::permanent(format!("{commit:?} is not a commit id")))?;
    let git = match Repository::open_bare(mirror) {
        Ok(git) if git.find_commit(oid).is_ok() => git,
        _ => fetch(mirror, url, repo)?,
    };
    let commit = git.find_commit(oid).map_err(|_| {
        ExternalError::permanent(format!("the repository no longer has commit {commit}"))
    })?;
    let after = commit.tree().map_err(git_error)?;
    let before = match commit.parent(0) {
        Ok(parent) => Some(parent.tree().map_err(git_error)?),
        Err(_) => None,
    };
    let diff = git
        .diff_tree_to_tree(before.as_ref(), Some(&after), None)
        .map_err(git_error)?;
    let text = |id: Oid| -> Option<String> {
        if id.is_zero() {
            return None;
        }
        git.find_blob(id).ok().map(|b| {
            if b.size() > MAX_DIFF_FILE {
                format!("({} bytes: too large to show)", b.size())
            } else {
                String::from_utf8_lossy(b.content()).into_owned()
            }
        })
    };
    let mut files: Vec<ChangedFile> = diff
        .deltas()
        .map(|delta| ChangedFile {
            path: delta
                .new_file()
                .path()
                .or(delta.old_file().path())
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            before: text(delta.old_file().id()),
            after: text(delta.new_file().id()),
        })
        .collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}
