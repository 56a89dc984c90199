//! The local forge: bare repositories under `<data>/git/<org>/<name>.git`, pull requests kept in
//! Slipway's own database (`local_pulls`), merged by Slipway with git2 as a merge commit on the
//! base branch. The embedded default: a team can run Slipway with no Git host at all.

use app::domain::workspaces::RepoConfig;
use app::server::entities::local_pulls;
use app::server::ports::{
    check_file_path, Forge, ForgeError, ForgePull, ForgeRepo, NewPull, PullState,
};
use git2::{Repository, Signature};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
};
use std::path::{Path, PathBuf};

/// `org/name` → `<root>/org/name.git`, refusing anything that could leave the root: each part
/// 1–100 of letters, digits, `-`, `_`, `.`, not starting with `.`.
pub fn repository_path(root: &Path, repository: &str) -> Result<PathBuf, ForgeError> {
    let parts: Vec<&str> = repository.split('/').collect();
    let valid = |p: &str| {
        !p.is_empty()
            && p.len() <= 100
            && !p.starts_with('.')
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    match parts.as_slice() {
        [org, name] if valid(org) && valid(name) => {
            let name = name.strip_suffix(".git").unwrap_or(name);
            if !valid(name) {
                return Err(ForgeError::permanent(format!(
                    "{repository:?} is not a repository name (ORG/NAME)"
                )));
            }
            Ok(root.join(org).join(format!("{name}.git")))
        }
        _ => Err(ForgeError::permanent(format!(
            "{repository:?} is not a repository name: use ORG/NAME, letters, digits, '-', '_' and '.'"
        ))),
    }
}

/// Creates a bare repository with one commit (a README) on `main`, so it has a default branch
/// to cut pull requests from. Refuses an existing one.
pub fn create_repository(
    root: &Path,
    repository: &str,
    author: &str,
) -> Result<PathBuf, ForgeError> {
    let path = repository_path(root, repository)?;
    if path.exists() {
        return Err(ForgeError::permanent(format!(
            "the local forge already has {repository}"
        )));
    }
    std::fs::create_dir_all(&path)
        .map_err(|e| ForgeError::permanent(format!("cannot create {}: {e}", path.display())))?;
    let made = (|| -> Result<(), git2::Error> {
        let git = Repository::init_bare(&path)?;
        git.set_head("refs/heads/main")?;
        let readme = git.blob(
            format!("# {repository}\n\nInfrastructure code managed through Slipway.\n").as_bytes(),
        )?;
        let mut tree = git.treebuilder(None)?;
        tree.insert("README.md", readme, git2::FileMode::Blob.into())?;
        let tree = git.find_tree(tree.write()?)?;
        let signature = Signature::now(author, "slipway@localhost")?;
        git.commit(
            Some("refs/heads/main"),
            &signature,
            &signature,
            "Initial commit",
            &tree,
            &[],
        )?;
        // Smart HTTP serves it (`git http-backend` needs this flag or a daemon-export file).
        git.config()?.set_bool("http.receivepack", true)?;
        Ok(())
    })();
    if let Err(error) = made {
        let _ = std::fs::remove_dir_all(&path);
        return Err(ForgeError::permanent(format!(
            "cannot create {repository}: {}",
            error.message()
        )));
    }
    Ok(path)
}

pub struct LocalForge {
    db: DatabaseConnection,
    root: PathBuf,
    public_url: String,
}

impl LocalForge {
    pub fn new(db: DatabaseConnection, data_dir: &Path, public_url: &str) -> LocalForge {
        LocalForge {
            db,
            root: data_dir.join("git"),
            public_url: public_url.trim_end_matches('/').to_string(),
        }
    }

    fn open(&self, repository: &str) -> Result<Repository, ForgeError> {
        open_bare(&self.root, repository)
    }

    fn pull_of(&self, row: &local_pulls::Model) -> ForgePull {
        ForgePull {
            number: row.number,
            url: format!(
                "{}/forge/{}/pulls/{}",
                self.public_url, row.repository, row.number
            ),
            state: PullState::parse(&row.state).unwrap_or(PullState::Open),
            head_branch: row.head_branch.clone(),
            base_branch: row.base_branch.clone(),
            title: row.title.clone(),
            head_commit: match PullState::parse(&row.state) {
                Some(PullState::Open) => self
                    .open(&row.repository)
                    .ok()
                    .and_then(|git| branch_head(&git, &row.head_branch))
                    .map(|oid| oid.to_string()),
                _ => row.head_commit.clone(),
            },
            merge_commit: row.merge_commit.clone(),
        }
    }

    async fn row(&self, repository: &str, number: i64) -> Result<local_pulls::Model, ForgeError> {
        local_pulls::Entity::find()
            .filter(local_pulls::Column::Repository.eq(repository))
            .filter(local_pulls::Column::Number.eq(number))
            .one(&self.db)
            .await
            .map_err(db_error)?
            .ok_or_else(|| {
                ForgeError::permanent(format!("{repository} has no pull request #{number}"))
            })
    }
}

/// Opens `ORG/NAME` under `root`, saying how to create it when it is not there.
fn open_bare(root: &Path, repository: &str) -> Result<Repository, ForgeError> {
    let path = repository_path(root, repository)?;
    if !path.join("HEAD").exists() {
        return Err(ForgeError::permanent(format!(
            "the local forge has no repository {repository}; create it first \
             (Workspaces → New repository, or `slipway forge create-repo {repository}`)"
        )));
    }
    Repository::open_bare(&path).map_err(|e| ForgeError::permanent(e.message().to_string()))
}

fn db_error(error: sea_orm::DbErr) -> ForgeError {
    tracing::error!("local forge: {error}");
    ForgeError::transient("the local forge's database is unavailable")
}

fn branch_head(git: &Repository, branch: &str) -> Option<git2::Oid> {
    git.find_reference(&format!("refs/heads/{branch}"))
        .ok()
        .and_then(|r| r.target())
}

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
) -> Result<(git2::Oid, git2::Oid, git2::Oid), ForgeError> {
    let describe = |e: git2::Error| ForgeError::permanent(e.message().to_string());
    let base = branch_head(git, base_branch)
        .ok_or_else(|| ForgeError::permanent(format!("the base branch {base_branch} is gone")))?;
    let head = branch_head(git, head_branch)
        .ok_or_else(|| ForgeError::permanent(format!("the branch {head_branch} is gone")))?;
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
            return Err(ForgeError::permanent(format!(
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
            return Err(ForgeError::permanent(format!(
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
        ForgeError::transient(format!(
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
) -> Result<(git2::Oid, git2::Oid, git2::Oid), ForgeError> {
    let describe = |e: git2::Error| ForgeError::permanent(e.message().to_string());
    let base = branch_head(git, base_branch)
        .ok_or_else(|| ForgeError::permanent(format!("the base branch {base_branch} is gone")))?;
    let head = branch_head(git, head_branch)
        .ok_or_else(|| ForgeError::permanent(format!("the branch {head_branch} is gone")))?;
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
        return Err(ForgeError::permanent(format!(
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
        ForgeError::transient(format!(
            "{base_branch} moved while merging; trying again ({})",
            e.message()
        ))
    })?;
    Ok((base, head, merge))
}

#[async_trait::async_trait]
impl Forge for LocalForge {
    async fn create_repository(
        &self,
        repo: &ForgeRepo,
        author: &str,
    ) -> Result<RepoConfig, ForgeError> {
        let (root, repository, author) = (
            self.root.clone(),
            repo.repository.clone(),
            author.to_string(),
        );
        tokio::task::spawn_blocking(move || create_repository(&root, &repository, &author))
            .await
            .map_err(|e| ForgeError::transient(format!("the git task stopped: {e}")))??;
        self.metadata(repo).await
    }

    async fn metadata(&self, repo: &ForgeRepo) -> Result<RepoConfig, ForgeError> {
        let git = self.open(&repo.repository)?;
        let default_branch = git
            .find_reference("HEAD")
            .ok()
            .and_then(|r| r.symbolic_target().map(str::to_string))
            .and_then(|t| t.strip_prefix("refs/heads/").map(str::to_string))
            .unwrap_or_else(|| "main".into());
        let (organization, name) = repo
            .repository
            .split_once('/')
            .expect("validated as ORG/NAME");
        let name = name.strip_suffix(".git").unwrap_or(name);
        Ok(RepoConfig {
            name: name.to_string(),
            url: format!("{}/forge/{organization}/{name}", self.public_url),
            ssh_url: String::new(),
            https_url: format!("{}/git/{organization}/{name}.git", self.public_url),
            default_branch,
            organization: organization.to_string(),
        })
    }

    async fn find_open_pull(
        &self,
        repo: &ForgeRepo,
        head_branch: &str,
    ) -> Result<Option<ForgePull>, ForgeError> {
        Ok(local_pulls::Entity::find()
            .filter(local_pulls::Column::Repository.eq(repo.repository.as_str()))
            .filter(local_pulls::Column::HeadBranch.eq(head_branch))
            .filter(local_pulls::Column::State.eq(PullState::Open.as_str()))
            .one(&self.db)
            .await
            .map_err(db_error)?
            .map(|row| self.pull_of(&row)))
    }

    async fn create_pull(&self, repo: &ForgeRepo, pull: &NewPull) -> Result<ForgePull, ForgeError> {
        let git = self.open(&repo.repository)?;
        if branch_head(&git, &pull.head_branch).is_none() {
            return Err(ForgeError::permanent(format!(
                "there is no branch {} to open a pull request from",
                pull.head_branch
            )));
        }
        if let Some(open) = self.find_open_pull(repo, &pull.head_branch).await? {
            return Err(ForgeError::permanent(format!(
                "pull request #{} is already open for {}",
                open.number, pull.head_branch
            )));
        }
        // Numbers count up per repository; the unique index settles a race (retried).
        let last = local_pulls::Entity::find()
            .filter(local_pulls::Column::Repository.eq(repo.repository.as_str()))
            .order_by_desc(local_pulls::Column::Number)
            .one(&self.db)
            .await
            .map_err(db_error)?
            .map_or(0, |r| r.number);
        let now = chrono::Utc::now();
        let row = local_pulls::ActiveModel {
            repository: Set(repo.repository.clone()),
            number: Set(last + 1),
            head_branch: Set(pull.head_branch.clone()),
            base_branch: Set(pull.base_branch.clone()),
            title: Set(pull.title.clone()),
            body: Set(pull.body.clone()),
            state: Set(PullState::Open.as_str().into()),
            head_commit: Set(None),
            base_commit: Set(None),
            merge_commit: Set(None),
            author: Set(pull.author.clone()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(|e| ForgeError::transient(format!("another pull request took the number: {e}")))?;
        Ok(self.pull_of(&row))
    }

    async fn get_pull(&self, repo: &ForgeRepo, number: i64) -> Result<ForgePull, ForgeError> {
        Ok(self.pull_of(&self.row(&repo.repository, number).await?))
    }

    async fn merge_pull(
        &self,
        repo: &ForgeRepo,
        number: i64,
        message: &str,
        approved: &str,
    ) -> Result<ForgePull, ForgeError> {
        let row = self.row(&repo.repository, number).await?;
        match PullState::parse(&row.state) {
            Some(PullState::Merged) => return Ok(self.pull_of(&row)),
            Some(PullState::Closed) => {
                return Err(ForgeError::permanent(format!(
                    "pull request #{number} is closed; it cannot be merged"
                )))
            }
            _ => {}
        }
        let path = repository_path(&self.root, &repo.repository)?;
        let (base_branch, head_branch, message, approved) = (
            row.base_branch.clone(),
            row.head_branch.clone(),
            message.to_string(),
            approved.to_string(),
        );
        let (base, head, merge) = tokio::task::spawn_blocking(move || {
            let git = Repository::open_bare(&path)
                .map_err(|e| ForgeError::permanent(e.message().to_string()))?;
            merge_branches(
                &git,
                &base_branch,
                &head_branch,
                &message,
                false,
                Some((number, &approved)),
            )
        })
        .await
        .map_err(|e| ForgeError::transient(format!("the merge task stopped: {e}")))??;
        let mut active: local_pulls::ActiveModel = row.into();
        active.state = Set(PullState::Merged.as_str().into());
        active.base_commit = Set(Some(base.to_string()));
        active.head_commit = Set(Some(head.to_string()));
        active.merge_commit = Set(Some(merge.to_string()));
        active.updated_at = Set(chrono::Utc::now());
        let row = active.update(&self.db).await.map_err(db_error)?;
        Ok(self.pull_of(&row))
    }

    async fn close_pull(&self, repo: &ForgeRepo, number: i64) -> Result<ForgePull, ForgeError> {
        let row = self.row(&repo.repository, number).await?;
        match PullState::parse(&row.state) {
            Some(PullState::Closed) => return Ok(self.pull_of(&row)),
            Some(PullState::Merged) => {
                return Err(ForgeError::permanent(format!(
                    "pull request #{number} is already merged"
                )))
            }
            _ => {}
        }
        let git = self.open(&repo.repository)?;
        let mut active: local_pulls::ActiveModel = row.clone().into();
        active.state = Set(PullState::Closed.as_str().into());
        active.head_commit = Set(branch_head(&git, &row.head_branch).map(|o| o.to_string()));
        active.base_commit = Set(branch_head(&git, &row.base_branch).map(|o| o.to_string()));
        active.updated_at = Set(chrono::Utc::now());
        let row = active.update(&self.db).await.map_err(db_error)?;
        Ok(self.pull_of(&row))
    }
}

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
        work: impl FnOnce(Repository) -> Result<T, ForgeError> + Send + 'static,
    ) -> Result<T, ForgeError> {
        let git = open_bare(&self.root, repository)?;
        tokio::task::spawn_blocking(move || work(git))
            .await
            .map_err(|e| ForgeError::transient(format!("the git task stopped: {e}")))?
    }
}

/// A branch, or a full commit id of the repository.
fn revision(git: &Repository, rev: &str) -> Result<git2::Oid, ForgeError> {
    if rev.len() == 40 && rev.bytes().all(|b| b.is_ascii_hexdigit()) {
        let id = git2::Oid::from_str(rev).map_err(git_error)?;
        git.find_commit(id)
            .map_err(|_| ForgeError::permanent(format!("there is no commit {rev}")))?;
        return Ok(id);
    }
    check_branch(rev)?;
    head_of(git, rev)
}

/// The files of `diff` as a reviewer reads them, within the page's limits.
fn file_changes(diff: &git2::Diff) -> Result<app::domain::resources::FileChanges, ForgeError> {
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

fn git_error(e: git2::Error) -> ForgeError {
    ForgeError::permanent(e.message().to_string())
}

fn head_of(git: &Repository, branch: &str) -> Result<git2::Oid, ForgeError> {
    branch_head(git, branch)
        .ok_or_else(|| ForgeError::permanent(format!("there is no branch {branch}")))
}

/// `branch` names a ref inside `refs/heads/` and nothing else.
/// A name git takes for a branch, which cannot pass for an option.
pub(crate) fn check_branch(branch: &str) -> Result<(), ForgeError> {
    let ok = !branch.is_empty()
        && branch.len() <= 200
        && git2::Reference::is_valid_name(&format!("refs/heads/{branch}"))
        && !branch.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(ForgeError::permanent(format!(
            "{branch:?} is not a branch name"
        )))
    }
}

#[async_trait::async_trait]
impl app::server::ports::LocalGit for LocalGitRepos {
    async fn head(&self, repository: &str, branch: &str) -> Result<Option<String>, ForgeError> {
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
    ) -> Result<String, ForgeError> {
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
            .map_err(|e| ForgeError::transient(format!("the git task stopped: {e}")))?
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
    ) -> Result<Vec<Option<String>>, ForgeError> {
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
    ) -> Result<Option<String>, ForgeError> {
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
                        ForgeError::transient(format!(
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
    ) -> Result<Vec<(String, String)>, ForgeError> {
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
    ) -> Result<app::domain::resources::FileChanges, ForgeError> {
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
    ) -> Result<(String, String, String), ForgeError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::resources::DiffLine;
    use app::server::ports::LocalGit;

    /// A commit on `main` of a bare repository with `files` (path, bytes) over its parent's tree.
    fn commit(git: &Repository, files: &[(&str, Option<&[u8]>)], message: &str) -> git2::Oid {
        let parent = branch_head(git, "main").map(|id| git.find_commit(id).unwrap());
        let mut builder = git
            .treebuilder(parent.as_ref().map(|p| p.tree().unwrap()).as_ref())
            .unwrap();
        for (path, content) in files {
            match content {
                Some(bytes) => {
                    let blob = git.blob(bytes).unwrap();
                    builder.insert(path, blob, 0o100644).unwrap();
                }
                None => {
                    builder.remove(path).unwrap();
                }
            }
        }
        let tree = git.find_tree(builder.write().unwrap()).unwrap();
        let who = Signature::now("t", "t@example.com").unwrap();
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        git.commit(
            Some("refs/heads/main"),
            &who,
            &who,
            message,
            &tree,
            &parents,
        )
        .unwrap()
    }

    fn numbered(n: usize, changed: &[usize]) -> String {
        (1..=n)
            .map(|i| {
                if changed.contains(&i) {
                    format!("line {i} changed\n")
                } else {
                    format!("line {i}\n")
                }
            })
            .collect()
    }

    #[tokio::test]
    async fn a_pull_requests_files_come_with_hunks_gaps_and_folds() {
        let data =
            std::env::temp_dir().join(format!("slipway-changes-{:016x}", rand::random::<u64>()));
        let path = data.join("git/local/app.git");
        let git = Repository::init_bare(&path).unwrap();
        let big = numbered(3_000, &[]);
        let base = commit(
            &git,
            &[
                ("long.txt", Some(numbered(1_000, &[]).as_bytes())),
                ("old-name.txt", Some(b"kept as it is\n")),
                ("gone.txt", Some(b"bye\n")),
                ("big.txt", Some(big.as_bytes())),
            ],
            "base",
        );
        let head = commit(
            &git,
            &[
                ("long.txt", Some(numbered(1_000, &[10, 900]).as_bytes())),
                ("old-name.txt", None),
                ("new-name.txt", Some(b"kept as it is\n")),
                ("gone.txt", None),
                (
                    "logo.png",
                    Some(&[0x89, b'P', b'N', b'G', 0, 0, 0, 1, 2, 3]),
                ),
                (
                    "big.txt",
                    Some(numbered(3_000, &(1..=1_500).collect::<Vec<_>>()).as_bytes()),
                ),
            ],
            "change",
        );
        let repos = LocalGitRepos::new(&data);
        let changes = repos
            .changes("local/app", &base.to_string(), &head.to_string())
            .await
            .unwrap();
        let by_path = |p: &str| {
            changes
                .files
                .iter()
                .find(|f| f.path == p)
                .unwrap_or_else(|| panic!("{p}: {changes:?}"))
        };

        // Two changes far apart: two hunks, three lines of context each, the rest left out.
        let long = by_path("long.txt");
        assert_eq!(
            (long.change.as_str(), long.added, long.removed),
            ("modified", 2, 2)
        );
        assert_eq!(long.hunks.len(), 2);
        assert_eq!((long.hunks[0].new_start, long.hunks[1].new_start), (7, 897));
        assert_eq!(long.hunks[0].lines.len(), 3 + 2 + 3);
        assert!(long.hunks[0]
            .lines
            .contains(&DiffLine::Removed("line 10".into())));
        assert!(long.hunks[0]
            .lines
            .contains(&DiffLine::Added("line 10 changed".into())));
        assert!(!long.is_large());

        let renamed = by_path("new-name.txt");
        assert_eq!(
            (renamed.change.as_str(), renamed.old_path.as_deref()),
            ("renamed", Some("old-name.txt"))
        );
        assert_eq!(by_path("gone.txt").change, "deleted");
        assert_eq!(
            by_path("gone.txt").hunks[0].lines,
            [DiffLine::Removed("bye".into())]
        );
        let logo = by_path("logo.png");
        assert_eq!(
            (logo.change.as_str(), logo.folded.as_deref()),
            ("added", Some("a binary file"))
        );
        // 3,000 changed lines: counted, not shown.
        let big = by_path("big.txt");
        assert_eq!((big.added, big.removed), (1_500, 1_500));
        assert!(big.hunks.is_empty());
        assert_eq!(
            big.folded.as_deref(),
            Some("too large to show here: 3000 lines changed")
        );
        assert!(big.is_large());
        assert_eq!(changes.omitted, 0);

        // Revisions are branches or full commit ids; anything else is refused.
        let by_branch = repos
            .changes("local/app", &base.to_string(), "main")
            .await
            .unwrap();
        assert_eq!(by_branch, changes);
        assert!(repos
            .changes("local/app", "--output=x", "main")
            .await
            .is_err());
        assert!(repos
            .changes("local/app", &"0".repeat(40), "main")
            .await
            .is_err());
        let _ = std::fs::remove_dir_all(&data);
    }
}
