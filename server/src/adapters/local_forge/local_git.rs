//! Reading and writing the local forge's bare repositories for the services: heads, files, commits
//! and the changes between two commits.

use super::*;

/// [`LocalGit`] on the local forge's bare repositories.
pub struct LocalGitRepos {
    root: PathBuf,
}

impl LocalGitRepos {
    pub fn new(data_dir: &Path) -> LocalGitRepos {
        LocalGitRepos {
            root: data_dir.join("git"),
        }
    }

    async fn blocking<T: Send + 'static>(
        &self,
        repository: &str,
        work: impl FnOnce(Repository) -> Result<T, ExternalError> + Send + 'static,
    ) -> Result<T, ExternalError> {
        let git = open_bare(&self.root, repository)?;
        tokio::task::spawn_blocking(move || work(git))
            .await
            .map_err(|e| ExternalError::transient(format!("the git task stopped: {e}")))?
    }
}

/// A branch, or a full commit id of the repository.
pub(super) fn revision(git: &Repository, rev: &str) -> Result<git2::Oid, ExternalError> {
    if rev.len() == 40 && rev.bytes().all(|b| b.is_ascii_hexdigit()) {
        let id = git2::Oid::from_str(rev).map_err(git_error)?;
        git.find_commit(id)
            .map_err(|_| ExternalError::permanent(format!("there is no commit {rev}")))?;
        return Ok(id);
    }
    check_branch(rev)?;
    head_of(git, rev)
}

/// The files of `diff` as a reviewer reads them, within the page's limits.
pub(super) fn file_changes(
    diff: &git2::Diff,
) -> Result<app::domain::resources::FileChanges, ExternalError> {
    use app::domain::resources::{ChangedFile, DiffLine, FileChanges, Hunk};
    use app::server::ports::{MAX_CHANGED_FILES, MAX_DIFF_LINES, MAX_FILE_DIFF_LINES};
    let mut changes = FileChanges::default();
    let mut budget = MAX_DIFF_LINES;
    for index in 0..diff.deltas().len() {
        if changes.files.len() >= MAX_CHANGED_FILES {
            changes.omitted += 1;
            continue;
        }
        let Some(delta) = diff.get_delta(index) else {
            continue;
        };
        let path_of = |f: git2::DiffFile| f.path().map(|p| p.to_string_lossy().into_owned());
        let path = path_of(delta.new_file())
            .or_else(|| path_of(delta.old_file()))
            .unwrap_or_default();
        let change = match delta.status() {
            git2::Delta::Added => "added",
            git2::Delta::Deleted => "deleted",
            git2::Delta::Renamed => "renamed",
            _ => "modified",
        };
        let mut file = ChangedFile {
            old_path: (delta.status() == git2::Delta::Renamed)
                .then(|| path_of(delta.old_file()))
                .flatten(),
            path,
            change: change.into(),
            added: 0,
            removed: 0,
            hunks: Vec::new(),
            folded: None,
        };
        // None: a binary file, or one whose content did not change (a rename).
        match git2::Patch::from_diff(diff, index).map_err(git_error)? {
            Some(patch) if patch.delta().flags().is_binary() => {
                file.folded = Some("a binary file".into())
            }
            None if delta.flags().is_binary() => file.folded = Some("a binary file".into()),
            None => {}
            Some(patch) => {
                let (_, added, removed) = patch.line_stats().map_err(git_error)?;
                (file.added, file.removed) = (added, removed);
                let changed = added + removed;
                if changed > MAX_FILE_DIFF_LINES || changed > budget {
                    file.folded = Some(format!("too large to show here: {changed} lines changed"));
                } else {
                    budget -= changed;
                    for h in 0..patch.num_hunks() {
                        let (hunk, count) = patch.hunk(h).map_err(git_error)?;
                        let mut lines = Vec::with_capacity(count);
                        for l in 0..count {
                            let line = patch.line_in_hunk(h, l).map_err(git_error)?;
                            let text = String::from_utf8_lossy(line.content())
                                .trim_end_matches(['\n', '\r'])
                                .to_string();
                            match line.origin() {
                                ' ' => lines.push(DiffLine::Same(text)),
                                '+' => lines.push(DiffLine::Added(text)),
                                '-' => lines.push(DiffLine::Removed(text)),
                                // "\ No newline at end of file" and the like.
                                _ => {}
                            }
                        }
                        file.hunks.push(Hunk {
                            old_start: hunk.old_start(),
                            new_start: hunk.new_start(),
                            lines,
                        });
                    }
                }
            }
        }
        changes.files.push(file);
    }
    Ok(changes)
}

pub(super) fn git_error(e: git2::Error) -> ExternalError {
    ExternalError::permanent(e.message().to_string())
}

pub(super) fn head_of(git: &Repository, branch: &str) -> Result<git2::Oid, ExternalError> {
    branch_head(git, branch)
        .ok_or_else(|| ExternalError::permanent(format!("there is no branch {branch}")))
}

/// `branch` names a ref inside `refs/heads/` and nothing else.
/// A name git takes for a branch, which cannot pass for an option.
pub(crate) fn check_branch(branch: &str) -> Result<(), ExternalError> {
    let ok = !branch.is_empty()
        && branch.len() <= 200
        && git2::Reference::is_valid_name(&format!("refs/heads/{branch}"))
        && !branch.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(ExternalError::permanent(format!(
            "{branch:?} is not a branch name"
        )))
    }
}

#[async_trait::async_trait]
impl app::server::ports::LocalGit for LocalGitRepos {
    async fn head(&self, repository: &str, branch: &str) -> Result<Option<String>, ExternalError> {
        check_branch(branch)?;
        let path = repository_path(&self.root, repository)?;
        if !path.join("HEAD").exists() {
            return Ok(None);
        }
        let branch = branch.to_string();
        self.blocking(repository, move |git| {
            Ok(branch_head(&git, &branch).map(|o| o.to_string()))
        })
        .await
    }

    async fn ensure(
        &self,
        repository: &str,
        branches: &[String],
        author: &str,
    ) -> Result<String, ExternalError> {
        for branch in branches {
            check_branch(branch)?;
        }
        let path = repository_path(&self.root, repository)?;
        if !path.join("HEAD").exists() {
            let (root, repository, author) = (
                self.root.clone(),
                repository.to_string(),
                author.to_string(),
            );
            match tokio::task::spawn_blocking(move || {
                create_repository(&root, &repository, &author)
            })
            .await
            .map_err(|e| ExternalError::transient(format!("the git task stopped: {e}")))?
            {
                Ok(_) => {}
                // Another replica made it meanwhile.
                Err(_) if path.join("HEAD").exists() => {}
                Err(e) => return Err(e),
            }
        }
        let branches = branches.to_vec();
        self.blocking(repository, move |git| {
            let default = git
                .find_reference("HEAD")
                .ok()
                .and_then(|r| r.symbolic_target().map(str::to_string))
                .and_then(|t| t.strip_prefix("refs/heads/").map(str::to_string))
                .unwrap_or_else(|| "main".into());
            let head = head_of(&git, &default)?;
            for branch in branches {
                if branch_head(&git, &branch).is_none() {
                    // Not forced: a branch someone pushed meanwhile stays as it is.
                    let _ = git.reference(&format!("refs/heads/{branch}"), head, false, "slipway");
                }
            }
            Ok(default)
        })
        .await
    }

    async fn read(
        &self,
        repository: &str,
        branch: &str,
        paths: &[String],
    ) -> Result<Vec<Option<String>>, ExternalError> {
        if !repository_path(&self.root, repository)?
            .join("HEAD")
            .exists()
        {
            return Ok(vec![None; paths.len()]);
        }
        let (branch, paths) = (branch.to_string(), paths.to_vec());
        self.blocking(repository, move |git| {
            let Some(head) = branch_head(&git, &branch) else {
                return Ok(vec![None; paths.len()]);
            };
            let tree = git
                .find_commit(head)
                .and_then(|c| c.tree())
                .map_err(git_error)?;
            Ok(paths
                .iter()
                .map(|p| {
                    tree.get_path(Path::new(p))
                        .ok()
                        .and_then(|e| git.find_blob(e.id()).ok())
                        .and_then(|b| String::from_utf8(b.content().to_vec()).ok())
                })
                .collect())
        })
        .await
    }

    async fn write(
        &self,
        repository: &str,
        base: &str,
        branch: &str,
        files: &[(String, String)],
        message: &str,
        author: &str,
    ) -> Result<Option<String>, ExternalError> {
        check_branch(branch)?;
        for (path, _) in files {
            check_file_path(path)?;
        }
        let (base, branch, files, message, author) = (
            base.to_string(),
            branch.to_string(),
            files.to_vec(),
            message.to_string(),
            author.to_string(),
        );
        self.blocking(repository, move |git| {
            let base_id = head_of(&git, &base)?;
            let base_commit = git.find_commit(base_id).map_err(git_error)?;
            let base_tree = base_commit.tree().map_err(git_error)?;
            let mut update = git2::build::TreeUpdateBuilder::new();
            for (path, contents) in &files {
                let blob = git.blob(contents.as_bytes()).map_err(git_error)?;
                update.upsert(path.as_str(), blob, git2::FileMode::Blob);
            }
            let tree_id = update.create_updated(&git, &base_tree).map_err(git_error)?;
            if tree_id == base_tree.id() {
                return Ok(None);
            }
            if let Some(existing) = branch_head(&git, &branch) {
                let commit = git.find_commit(existing).map_err(git_error)?;
                if commit.tree_id() == tree_id && commit.parent_id(0).ok() == Some(base_id) {
                    return Ok(Some(existing.to_string()));
                }
            }
            let tree = git.find_tree(tree_id).map_err(git_error)?;
            let signature = Signature::now(&author, "slipway@localhost").map_err(git_error)?;
            let commit = git
                .commit(
                    None,
                    &signature,
                    &signature,
                    &message,
                    &tree,
                    &[&base_commit],
                )
                .map_err(git_error)?;
            let name = format!("refs/heads/{branch}");
            if branch == base {
                // A commit straight onto the base: moved in only if nobody moved it meanwhile
                // (another replica's commit is kept; this one is retried on top of it).
                git.reference_matching(&name, commit, true, base_id, "slipway commit")
                    .map_err(|e| {
                        ExternalError::transient(format!(
                            "{branch} moved while committing: {}",
                            e.message()
                        ))
                    })?;
            } else {
                git.reference(&name, commit, true, "slipway provision")
                    .map_err(git_error)?;
            }
            Ok(Some(commit.to_string()))
        })
        .await
    }

    async fn commits(
        &self,
        repository: &str,
        base: &str,
        head: &str,
    ) -> Result<Vec<(String, String)>, ExternalError> {
        let (base, head) = (base.to_string(), head.to_string());
        self.blocking(repository, move |git| {
            let mut walk = git.revwalk().map_err(git_error)?;
            walk.push(revision(&git, &head)?).map_err(git_error)?;
            walk.hide(revision(&git, &base)?).map_err(git_error)?;
            walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)
                .map_err(git_error)?;
            let mut found = Vec::new();
            for id in walk {
                let commit = git.find_commit(id.map_err(git_error)?).map_err(git_error)?;
                if commit.parent_count() <= 1 {
                    found.push((
                        commit.id().to_string(),
                        String::from_utf8_lossy(commit.message_bytes()).into_owned(),
                    ));
                }
                // One past the most the gate checks, so that it can say there are too many.
                if found.len() > app::server::ports::MAX_PULL_COMMITS {
                    break;
                }
            }
            Ok(found)
        })
        .await
    }

    async fn changes(
        &self,
        repository: &str,
        base: &str,
        head: &str,
    ) -> Result<app::domain::resources::FileChanges, ExternalError> {
        let (base, head) = (base.to_string(), head.to_string());
        self.blocking(repository, move |git| {
            let head = revision(&git, &head)?;
            let fork = git
                .merge_base(revision(&git, &base)?, head)
                .map_err(git_error)?;
            let tree = |id| {
                git.find_commit(id)
                    .and_then(|c| c.tree())
                    .map_err(git_error)
            };
            let mut options = git2::DiffOptions::new();
            options.context_lines(3);
            let mut diff = git
                .diff_tree_to_tree(Some(&tree(fork)?), Some(&tree(head)?), Some(&mut options))
                .map_err(git_error)?;
            diff.find_similar(Some(git2::DiffFindOptions::new().renames(true)))
                .map_err(git_error)?;
            file_changes(&diff)
        })
        .await
    }

    async fn merge(
        &self,
        repository: &str,
        base: &str,
        head: &str,
        method: app::domain::branching::MergeMethod,
        message: &str,
        approved: (i64, &str),
    ) -> Result<(String, String, String), ExternalError> {
        use app::domain::branching::MergeMethod;
        let (base, head, message) = (base.to_string(), head.to_string(), message.to_string());
        let (number, approved) = (approved.0, approved.1.to_string());
        self.blocking(repository, move |git| {
            let approved = Some((number, approved.as_str()));
            let (before, head_id, merged) = match method {
                MergeMethod::Merge => {
                    merge_branches(&git, &base, &head, &message, false, approved)?
                }
                MergeMethod::Squash => {
                    merge_branches(&git, &base, &head, &message, true, approved)?
                }
                MergeMethod::Rebase => rebase_branches(&git, &base, &head, approved)?,
            };
            Ok((before.to_string(), head_id.to_string(), merged.to_string()))
        })
        .await
    }
}
