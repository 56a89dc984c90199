//! The local forge: bare repositories under `<data>/git/<org>/<name>.git`, pull requests kept in
//! Slipway's own database (`local_pulls`), merged by Slipway with git2 as a merge commit on the
//! base branch. The embedded default: a team can run Slipway with no Git host at all.

use app::domain::workspaces::RepoConfig;
use app::server::entities::local_pulls;
use app::server::ports::{
    check_file_path, ExternalError, Forge, ForgePull, ForgeRepo, NewPull, PullState,
};
use git2::{Repository, Signature};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
};
use std::path::{Path, PathBuf};

mod local_git;
mod merging;
pub use local_git::*;
pub use merging::*;
#[allow(unused_imports)]
use {local_git::*, merging::*};

/// `org/name` → `<root>/org/name.git`, refusing anything that could leave the root: each part
/// 1–100 of letters, digits, `-`, `_`, `.`, not starting with `.`.
pub fn repository_path(root: &Path, repository: &str) -> Result<PathBuf, ExternalError> {
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
                return Err(ExternalError::permanent(format!(
                    "{repository:?} is not a repository name (ORG/NAME)"
                )));
            }
            Ok(root.join(org).join(format!("{name}.git")))
        }
        _ => Err(ExternalError::permanent(format!(
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
) -> Result<PathBuf, ExternalError> {
    let path = repository_path(root, repository)?;
    if path.exists() {
        return Err(ExternalError::permanent(format!(
            "the local forge already has {repository}"
        )));
    }
    std::fs::create_dir_all(&path)
        .map_err(|e| ExternalError::permanent(format!("cannot create {}: {e}", path.display())))?;
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
        return Err(ExternalError::permanent(format!(
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

    fn open(&self, repository: &str) -> Result<Repository, ExternalError> {
        open_bare(&self.root, repository)
    }

    fn pull_of(&self, row: &local_pulls::Model) -> ForgePull {
        ForgePull {
            number: row.number,
            url: format!(
                "{}/forge/{}/pulls/{}",
                self.public_url, row.repository, row.number
            ),
            state: row.state,
            head_branch: row.head_branch.clone(),
            base_branch: row.base_branch.clone(),
            title: row.title.clone(),
            head_commit: match row.state {
                PullState::Open => self
                    .open(&row.repository)
                    .ok()
                    .and_then(|git| branch_head(&git, &row.head_branch))
                    .map(|oid| oid.to_string()),
                _ => row.head_commit.clone(),
            },
            merge_commit: row.merge_commit.clone(),
        }
    }

    async fn row(
        &self,
        repository: &str,
        number: i64,
    ) -> Result<local_pulls::Model, ExternalError> {
        local_pulls::Entity::find()
            .filter(local_pulls::Column::Repository.eq(repository))
            .filter(local_pulls::Column::Number.eq(number))
            .one(&self.db)
            .await
            .map_err(db_error)?
            .ok_or_else(|| {
                ExternalError::permanent(format!("{repository} has no pull request #{number}"))
            })
    }
}

/// Opens `ORG/NAME` under `root`, saying how to create it when it is not there.
fn open_bare(root: &Path, repository: &str) -> Result<Repository, ExternalError> {
    let path = repository_path(root, repository)?;
    if !path.join("HEAD").exists() {
        return Err(ExternalError::permanent(format!(
            "the local forge has no repository {repository}; create it first \
             (Workspaces → New repository, or `slipway forge create-repo {repository}`)"
        )));
    }
    Repository::open_bare(&path).map_err(|e| ExternalError::permanent(e.message().to_string()))
}

fn db_error(error: sea_orm::DbErr) -> ExternalError {
    tracing::error!("local forge: {error}");
    ExternalError::transient("the local forge's database is unavailable")
}

fn branch_head(git: &Repository, branch: &str) -> Option<git2::Oid> {
    git.find_reference(&format!("refs/heads/{branch}"))
        .ok()
        .and_then(|r| r.target())
}

#[async_trait::async_trait]
impl Forge for LocalForge {
    async fn create_repository(
        &self,
        repo: &ForgeRepo,
        author: &str,
    ) -> Result<RepoConfig, ExternalError> {
        let (root, repository, author) = (
            self.root.clone(),
            repo.repository.clone(),
            author.to_string(),
        );
        tokio::task::spawn_blocking(move || create_repository(&root, &repository, &author))
            .await
            .map_err(|e| ExternalError::transient(format!("the git task stopped: {e}")))??;
        self.metadata(repo).await
    }

    async fn metadata(&self, repo: &ForgeRepo) -> Result<RepoConfig, ExternalError> {
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
    ) -> Result<Option<ForgePull>, ExternalError> {
        Ok(local_pulls::Entity::find()
            .filter(local_pulls::Column::Repository.eq(repo.repository.as_str()))
            .filter(local_pulls::Column::HeadBranch.eq(head_branch))
            .filter(local_pulls::Column::State.eq(PullState::Open))
            .one(&self.db)
            .await
            .map_err(db_error)?
            .map(|row| self.pull_of(&row)))
    }

    async fn create_pull(
        &self,
        repo: &ForgeRepo,
        pull: &NewPull,
    ) -> Result<ForgePull, ExternalError> {
        let git = self.open(&repo.repository)?;
        if branch_head(&git, &pull.head_branch).is_none() {
            return Err(ExternalError::permanent(format!(
                "there is no branch {} to open a pull request from",
                pull.head_branch
            )));
        }
        if let Some(open) = self.find_open_pull(repo, &pull.head_branch).await? {
            return Err(ExternalError::permanent(format!(
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
            state: Set(PullState::Open),
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
        .map_err(|e| {
            ExternalError::transient(format!("another pull request took the number: {e}"))
        })?;
        Ok(self.pull_of(&row))
    }

    async fn get_pull(&self, repo: &ForgeRepo, number: i64) -> Result<ForgePull, ExternalError> {
        Ok(self.pull_of(&self.row(&repo.repository, number).await?))
    }

    async fn merge_pull(
        &self,
        repo: &ForgeRepo,
        number: i64,
        message: &str,
        approved: &str,
    ) -> Result<ForgePull, ExternalError> {
        let row = self.row(&repo.repository, number).await?;
        match row.state {
            PullState::Merged => return Ok(self.pull_of(&row)),
            PullState::Closed => {
                return Err(ExternalError::permanent(format!(
                    "pull request #{number} is closed; it cannot be merged"
                )))
            }
            PullState::Open => {}
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
                .map_err(|e| ExternalError::permanent(e.message().to_string()))?;
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
        .map_err(|e| ExternalError::transient(format!("the merge task stopped: {e}")))??;
        let mut active: local_pulls::ActiveModel = row.into();
        active.state = Set(PullState::Merged);
        active.base_commit = Set(Some(base.to_string()));
        active.head_commit = Set(Some(head.to_string()));
        active.merge_commit = Set(Some(merge.to_string()));
        active.updated_at = Set(chrono::Utc::now());
        let row = active.update(&self.db).await.map_err(db_error)?;
        Ok(self.pull_of(&row))
    }

    async fn close_pull(&self, repo: &ForgeRepo, number: i64) -> Result<ForgePull, ExternalError> {
        let row = self.row(&repo.repository, number).await?;
        match row.state {
            PullState::Closed => return Ok(self.pull_of(&row)),
            PullState::Merged => {
                return Err(ExternalError::permanent(format!(
                    "pull request #{number} is already merged"
                )))
            }
            PullState::Open => {}
        }
        let git = self.open(&repo.repository)?;
        let mut active: local_pulls::ActiveModel = row.clone().into();
        active.state = Set(PullState::Closed);
        active.head_commit = Set(branch_head(&git, &row.head_branch).map(|o| o.to_string()));
        active.base_commit = Set(branch_head(&git, &row.base_branch).map(|o| o.to_string()));
        active.updated_at = Set(chrono::Utc::now());
        let row = active.update(&self.db).await.map_err(db_error)?;
        Ok(self.pull_of(&row))
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
