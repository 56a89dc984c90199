//! Writing a workspace: a file replaced or removed in a tree, committed on a branch and pushed, the
//! branch made when missing.

use super::*;

/// `base` with the tree at `path` (slash-separated) replaced by `replacement`, or removed when
/// it is `None`; folders left empty by a removal are removed too.
pub(super) fn replace_path(
    git: &Repository,
    base: Option<&git2::Tree>,
    path: &[&str],
    replacement: Option<Oid>,
) -> Result<Option<Oid>, git2::Error> {
    let mut builder = git.treebuilder(base)?;
    let (name, rest) = path.split_first().expect("a folder path has parts");
    let new_entry = if rest.is_empty() {
        replacement
    } else {
        let child = base
            .and_then(|t| t.get_name(name))
            .filter(|e| e.kind() == Some(git2::ObjectType::Tree))
            .map(|e| git.find_tree(e.id()))
            .transpose()?;
        replace_path(git, child.as_ref(), rest, replacement)?
    };
    match new_entry {
        Some(id) => {
            builder.insert(name, id, FileMode::Tree.into())?;
        }
        None => {
            if builder.get(name)?.is_some() {
                builder.remove(name)?;
            }
        }
    }
    if builder.is_empty() {
        return Ok(None);
    }
    builder.write().map(Some)
}

/// A tree of the folder's files; names are single path components (the generator's flat files).
pub(super) fn tree_of(
    git: &Repository,
    files: &[(String, String)],
) -> Result<Option<Oid>, ExternalError> {
    if files.is_empty() {
        return Ok(None);
    }
    let mut builder = git.treebuilder(None).map_err(git_error)?;
    for (name, contents) in files {
        if name.is_empty() || name.contains(['/', '\\']) || name == "." || name == ".." {
            return Err(ExternalError::permanent(format!(
                "{name:?} cannot name a file in a resource folder"
            )));
        }
        let blob = git.blob(contents.as_bytes()).map_err(git_error)?;
        builder
            .insert(name, blob, FileMode::Blob.into())
            .map_err(git_error)?;
    }
    builder.write().map(Some).map_err(git_error)
}

/// The base's tree with the change's edit made.
pub(super) fn edited_tree(
    git: &Repository,
    base_tree: &git2::Tree,
    edit: &TreeEdit,
) -> Result<Oid, ExternalError> {
    match edit {
        TreeEdit::Folder { folder, files } => {
            let folder_tree = match files {
                Some(files) => tree_of(git, files)?,
                None => None,
            };
            let parts: Vec<&str> = folder.split('/').collect();
            match replace_path(git, Some(base_tree), &parts, folder_tree).map_err(git_error)? {
                Some(id) => Ok(id),
                // The folder was the repository's only content.
                None => git
                    .treebuilder(None)
                    .and_then(|b| b.write())
                    .map_err(git_error),
            }
        }
        TreeEdit::Files(files) => {
            let mut update = git2::build::TreeUpdateBuilder::new();
            for (path, contents) in files {
                check_file_path(path)?;
                let blob = git.blob(contents.as_bytes()).map_err(git_error)?;
                update.upsert(path.as_str(), blob, FileMode::Blob);
            }
            update.create_updated(git, base_tree).map_err(git_error)
        }
        TreeEdit::Nothing => Ok(base_tree.id()),
    }
}

/// Pushes `local_ref` to the same name on the remote (`force`: even when it does not descend
/// from the remote's), failing with the forge's reason when it refuses.
pub(super) fn push_ref(
    git: &Repository,
    url: &str,
    repo: &ForgeRepo,
    local_ref: &str,
    force: bool,
) -> Result<(), ExternalError> {
    let mut remote = git.remote_anonymous(url).map_err(git_error)?;
    let rejected: Arc<Mutex<Option<String>>> = Arc::default();
    let mut callbacks = callbacks(repo.provider, &repo.settings, &repo.secrets);
    {
        let rejected = rejected.clone();
        callbacks.push_update_reference(move |_name, status| {
            if let Some(status) = status {
                *rejected.lock().unwrap_or_else(|e| e.into_inner()) = Some(status.to_string());
            }
            Ok(())
        });
    }
    let mut options = PushOptions::new();
    options
        .remote_callbacks(callbacks)
        .follow_redirects(git2::RemoteRedirect::None);
    let plus = if force { "+" } else { "" };
    let branch = local_ref.trim_start_matches("refs/heads/");
    // A branch that moved since the fetch (only an unforced push meets one) is a lost race:
    // worth trying again from the new head, unlike any other refusal.
    let moved = |reason: &str| {
        ExternalError::transient(format!(
            "{branch} moved since it was fetched ({reason}); trying again on its new head"
        ))
    };
    remote
        .push(
            &[format!("{plus}{local_ref}:{local_ref}")],
            Some(&mut options),
        )
        .map_err(|e| match e.code() {
            git2::ErrorCode::NotFastForward => moved(e.message()),
            _ => git_error(e),
        })?;
    if let Some(reason) = rejected.lock().unwrap_or_else(|e| e.into_inner()).take() {
        let lowered = reason.to_lowercase();
        if ["non-fast-forward", "fetch first", "stale info"]
            .iter()
            .any(|m| lowered.contains(m))
        {
            return Err(moved(&reason));
        }
        return Err(ExternalError::permanent(format!(
            "the forge refused the push of {branch}: {reason}"
        )));
    }
    Ok(())
}

pub(super) fn push_blocking(
    mirror: &Path,
    url: &str,
    repo: &ForgeRepo,
    change: &BranchChange,
) -> Result<Pushed, ExternalError> {
    let git = fetch(mirror, url, repo)?;
    let base_id = remote_head(&git, &change.base).ok_or_else(|| {
        ExternalError::permanent(format!(
            "the repository has no branch {:?}; push a first commit to it",
            change.base
        ))
    })?;
    let base = git.find_commit(base_id).map_err(git_error)?;
    let base_tree = base.tree().map_err(git_error)?;
    let new_tree_id = edited_tree(&git, &base_tree, &change.edit)?;
    if new_tree_id == base_tree.id() && !matches!(change.edit, TreeEdit::Nothing) {
        return Ok(Pushed {
            commit: base_id.to_string(),
            pushed: false,
            differs: false,
        });
    }
    // A change onto the base itself (the environment configuration repository's default
    // branch) is one commit on its head, pushed without force: when someone pushed meanwhile the
    // forge refuses it and the caller tries again from the new head; nothing is ever dropped.
    let direct = change.branch == change.base;
    if let Some(existing) = remote_head(&git, &change.branch).filter(|_| !direct) {
        let commit = git.find_commit(existing).map_err(git_error)?;
        if commit.tree_id() == new_tree_id && commit.parent_ids().eq([base_id]) {
            return Ok(Pushed {
                commit: existing.to_string(),
                pushed: false,
                differs: true,
            });
        }
    }
    let signature = Signature::now(&change.author_name, &change.author_email).map_err(git_error)?;
    let tree = git.find_tree(new_tree_id).map_err(git_error)?;
    let commit = git
        .commit(
            None,
            &signature,
            &signature,
            &change.message,
            &tree,
            &[&base],
        )
        .map_err(git_error)?;
    let local_ref = format!("refs/heads/{}", change.branch);
    git.reference(&local_ref, commit, true, "slipway sync")
        .map_err(git_error)?;
    push_ref(&git, url, repo, &local_ref, !direct)?;
    git.reference(
        &format!("refs/remotes/origin/{}", change.branch),
        commit,
        true,
        "slipway sync",
    )
    .map_err(git_error)?;
    Ok(Pushed {
        commit: commit.to_string(),
        pushed: true,
        differs: true,
    })
}

pub(super) fn ensure_branch_blocking(
    mirror: &Path,
    url: &str,
    repo: &ForgeRepo,
    branch: &str,
    from: &str,
) -> Result<bool, ExternalError> {
    let git = fetch(mirror, url, repo)?;
    if remote_head(&git, branch).is_some() {
        return Ok(false);
    }
    let head = remote_head(&git, from).ok_or_else(|| {
        ExternalError::permanent(format!("the repository has no branch {from:?}"))
    })?;
    let local_ref = format!("refs/heads/{branch}");
    git.reference(&local_ref, head, true, "slipway branch")
        .map_err(git_error)?;
    // Not forced: a branch someone pushed meanwhile stays as it is (the push is refused).
    push_ref(&git, url, repo, &local_ref, false)?;
    git.reference(
        &format!("refs/remotes/origin/{branch}"),
        head,
        true,
        "slipway branch",
    )
    .map_err(git_error)?;
    Ok(true)
}
