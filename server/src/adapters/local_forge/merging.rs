//! Merging a pull request on the local forge: rebase-and-merge and merge commits, with git2.

use super::*;

/// Rebases `head_branch` onto `base_branch` and moves the base to the result, as a forge's
/// "rebase and merge" does: each commit the head brings, oldest first, replayed on the base's
/// head with its author and message kept (Slipway as committer); one already in the base
/// (nothing left to change) is dropped. A branch with merge commits, or a commit that conflicts,
/// is refused with the reason and nothing moves. Returns (base before, head, new base).
pub fn rebase_branches(
    git: &Repository,
    base_branch: &str,
    head_branch: &str,
    approved: Option<(i64, &str)>,
) -> Result<(git2::Oid, git2::Oid, git2::Oid), ExternalError> {
    let describe = |e: git2::Error| ExternalError::permanent(e.message().to_string());
    let base = branch_head(git, base_branch).ok_or_else(|| {
        ExternalError::permanent(format!("the base branch {base_branch} is gone"))
    })?;
    let head = branch_head(git, head_branch)
        .ok_or_else(|| ExternalError::permanent(format!("the branch {head_branch} is gone")))?;
    if let Some((number, approved)) = approved {
        app::server::ports::approved_head(number, Some(&head.to_string()), approved)?;
    }
    if base == head || git.graph_descendant_of(base, head).map_err(describe)? {
        return Ok((base, head, base));
    }
    let mut walk = git.revwalk().map_err(describe)?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)
        .map_err(describe)?;
    walk.push(head).map_err(describe)?;
    walk.hide(base).map_err(describe)?;
    let commits: Vec<git2::Oid> = walk.collect::<Result<_, _>>().map_err(describe)?;
    let committer = Signature::now("Slipway", "slipway@localhost").map_err(describe)?;
    let mut tip = git.find_commit(base).map_err(describe)?;
    for id in commits {
        let commit = git.find_commit(id).map_err(describe)?;
        let short = &id.to_string()[..7];
        if commit.parent_count() > 1 {
            return Err(ExternalError::permanent(format!(
                "{head_branch} has a merge commit ({short}): a rebase needs a linear branch; merge or squash it instead"
            )));
        }
        let mut index = git
            .cherrypick_commit(&commit, &tip, 0, None)
            .map_err(describe)?;
        if index.has_conflicts() {
            let files: Vec<String> = index
                .conflicts()
                .map_err(describe)?
                .flatten()
                .filter_map(|c| c.our.or(c.their))
                .map(|e| String::from_utf8_lossy(&e.path).into_owned())
                .collect();
            return Err(ExternalError::permanent(format!(
                "{short} ({}) conflicts with {base_branch} in {} when rebased; merge instead, or rebase it yourself",
                commit.summary().unwrap_or_default(),
                files.join(", ")
            )));
        }
        let tree_id = index.write_tree_to(git).map_err(describe)?;
        if tree_id == tip.tree_id() {
            continue;
        }
        let tree = git.find_tree(tree_id).map_err(describe)?;
        let message = commit
            .message_raw()
            .map(str::to_string)
            .unwrap_or_else(|| String::from_utf8_lossy(commit.message_raw_bytes()).into_owned());
        let replayed = git
            .commit(None, &commit.author(), &committer, &message, &tree, &[&tip])
            .map_err(describe)?;
        tip = git.find_commit(replayed).map_err(describe)?;
    }
    // Compare-and-swap, as for a merge: a push that moved the base meanwhile fails this.
    git.reference_matching(
        &format!("refs/heads/{base_branch}"),
        tip.id(),
        true,
        base,
        "slipway rebase",
    )
    .map_err(|e| {
        ExternalError::transient(format!(
            "{base_branch} moved while rebasing; trying again ({})",
            e.message()
        ))
    })?;
    Ok((base, head, tip.id()))
}

/// Merges `head` into `base`: a merge commit, or with `squash` one commit whose only parent is
/// `base`'s head; either moved in with a compare-and-swap. If `head` is already contained in
/// `base` (a merge that happened before a crash), returns `base`'s head unchanged. With
/// `approved` (pull request number, commit), the head must be that commit: the commit read is
/// the commit merged, so a push after the check cannot slip in.
pub fn merge_branches(
    git: &Repository,
    base_branch: &str,
    head_branch: &str,
    message: &str,
    squash: bool,
    approved: Option<(i64, &str)>,
) -> Result<(git2::Oid, git2::Oid, git2::Oid), ExternalError> {
    let describe = |e: git2::Error| ExternalError::permanent(e.message().to_string());
    let base = branch_head(git, base_branch).ok_or_else(|| {
        ExternalError::permanent(format!("the base branch {base_branch} is gone"))
    })?;
    let head = branch_head(git, head_branch)
        .ok_or_else(|| ExternalError::permanent(format!("the branch {head_branch} is gone")))?;
    if let Some((number, approved)) = approved {
        app::server::ports::approved_head(number, Some(&head.to_string()), approved)?;
    }
    if base == head || git.graph_descendant_of(base, head).map_err(describe)? {
        return Ok((base, head, base));
    }
    let base_commit = git.find_commit(base).map_err(describe)?;
    let head_commit = git.find_commit(head).map_err(describe)?;
    let mut index = git
        .merge_commits(&base_commit, &head_commit, None)
        .map_err(describe)?;
    if index.has_conflicts() {
        let files: Vec<String> = index
            .conflicts()
            .map_err(describe)?
            .flatten()
            .filter_map(|c| c.our.or(c.their))
            .map(|e| String::from_utf8_lossy(&e.path).into_owned())
            .collect();
        return Err(ExternalError::permanent(format!(
            "{head_branch} conflicts with {base_branch} in {}",
            files.join(", ")
        )));
    }
    let tree_id = index.write_tree_to(git).map_err(describe)?;
    let tree = git.find_tree(tree_id).map_err(describe)?;
    let signature = Signature::now("Slipway", "slipway@localhost").map_err(describe)?;
    let parents: &[&git2::Commit] = if squash {
        &[&base_commit]
    } else {
        &[&base_commit, &head_commit]
    };
    let merge = git
        .commit(None, &signature, &signature, message, &tree, parents)
        .map_err(describe)?;
    // Compare-and-swap: a push that moved the base meanwhile makes this fail, not vanish.
    git.reference_matching(
        &format!("refs/heads/{base_branch}"),
        merge,
        true,
        base,
        "slipway merge",
    )
    .map_err(|e| {
        ExternalError::transient(format!(
            "{base_branch} moved while merging; trying again ({})",
            e.message()
        ))
    })?;
    Ok((base, head, merge))
}
