//! Ports: what the services need from the outside world, implemented by adapters in the server
//! crate (git2 for repositories, reqwest for provider APIs) and by fakes in tests.

use crate::domain::integrations::{Fields, Provider};
use crate::error::AppError;
pub use crate::wire::sources::RepoListing;

/// How to reach one repository: its URL and the git integration's credentials.
#[derive(Clone)]
pub struct RepoAccess {
    pub url: String,
    pub provider: Provider,
    pub settings: Fields,
    /// Opened secrets; never logged (the type has no Debug).
    pub secrets: Fields,
}

/// A module's `.tf` files as they are at one commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleSnapshot {
    pub commit: String,
    /// (path inside the repository, contents)
    pub files: Vec<(String, String)>,
}

#[async_trait::async_trait]
pub trait SourceRepos: Send + Sync {
    /// Fetches the repository into this replica's mirror and lists it.
    async fn refresh(&self, access: &RepoAccess) -> Result<RepoListing, AppError>;

    /// Reads the module folder at a tag or branch of the mirror (refreshed first). A ref or
    /// folder that does not exist is an `Invalid` error naming `git_ref` or `module_path`.
    async fn read_module(
        &self,
        access: &RepoAccess,
        git_ref: &str,
        module_path: &str,
    ) -> Result<ModuleSnapshot, AppError>;

    /// Writes the whole tree at a tag or branch into `dest` (an empty folder), so a module can
    /// use its repository's local child modules; returns the commit.
    async fn export(
        &self,
        access: &RepoAccess,
        git_ref: &str,
        dest: &std::path::Path,
    ) -> Result<String, AppError>;

    /// Checks that a git integration's credentials work; the text says as whom, or why not.
    async fn test_connection(
        &self,
        provider: Provider,
        settings: &Fields,
        secrets: &Fields,
    ) -> Result<String, String>;
}

/// A forge repository as Slipway reaches it: the integration that grants access and the
/// repository's name on the forge (`org/name`, or `org/project/name` on Azure DevOps).
#[derive(Clone)]
pub struct ForgeRepo {
    pub provider: Provider,
    pub repository: String,
    pub settings: Fields,
    /// Opened secrets; never logged (the type has no Debug).
    pub secrets: Fields,
}

/// Why a call outside the request failed — a forge, the registry, a git remote, or a job's step
/// that reaches them — and whether trying again later can help (network errors, 5xx, rate
/// limits, a database hiccup) or not (bad credentials, a missing repository). The message never
/// holds a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalError {
    pub message: String,
    pub retryable: bool,
    /// Seconds the forge asked us to wait (`Retry-After`).
    pub retry_after: Option<u64>,
    /// Not a failure: a freeze holds it until then (see `jobs::Outcome::Wait`).
    pub waiting_until: Option<chrono::DateTime<chrono::Utc>>,
}

impl ExternalError {
    pub fn permanent(message: impl Into<String>) -> ExternalError {
        ExternalError {
            message: message.into(),
            retryable: false,
            retry_after: None,
            waiting_until: None,
        }
    }

    pub fn transient(message: impl Into<String>) -> ExternalError {
        ExternalError {
            message: message.into(),
            retryable: true,
            retry_after: None,
            waiting_until: None,
        }
    }

    /// Not now: a freeze holds it until `until` ("frozen until … because …").
    pub fn waiting(
        message: impl Into<String>,
        until: chrono::DateTime<chrono::Utc>,
    ) -> ExternalError {
        ExternalError {
            message: message.into(),
            retryable: true,
            retry_after: None,
            waiting_until: Some(until),
        }
    }
}

impl std::fmt::Display for ExternalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// A request that needed the call answers 503 when trying again can help, else 502: the
/// failure is the far side's, not a conflict in the request.
impl From<ExternalError> for AppError {
    fn from(error: ExternalError) -> AppError {
        if error.retryable {
            AppError::Unavailable(error.message)
        } else {
            AppError::Upstream(error.message)
        }
    }
}

/// A job's step that failed on the database is worth another attempt.
impl From<sea_orm::DbErr> for ExternalError {
    fn from(error: sea_orm::DbErr) -> ExternalError {
        ExternalError::transient(error.to_string())
    }
}

/// A service's refusal (not found, forbidden, invalid, conflict) will not change on a retry; a
/// server or transport failure may.
impl From<AppError> for ExternalError {
    fn from(error: AppError) -> ExternalError {
        match error {
            AppError::Internal(_) | AppError::Transport(_) | AppError::Unavailable(_) => {
                ExternalError::transient(error.to_string())
            }
            _ => ExternalError::permanent(error.to_string()),
        }
    }
}

pub use crate::domain::workspaces::RepoConfig;

pub use crate::domain::workspaces::PullState;

/// A pull request as the forge reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForgePull {
    pub number: i64,
    pub url: String,
    pub state: PullState,
    pub head_branch: String,
    pub base_branch: String,
    pub title: String,
    /// The commit the pull request would merge now (Bitbucket reports it abbreviated).
    pub head_commit: Option<String>,
    pub merge_commit: Option<String>,
}

/// Refuses to merge pull request `number` unless its head is the commit approved: an approval
/// covers what was reviewed, and a commit pushed after it needs a review of its own. A forge
/// that reports an abbreviated hash is compared on the length it gives (at least 7).
pub fn approved_head(number: i64, head: Option<&str>, approved: &str) -> Result<(), ExternalError> {
    let Some(head) = head else {
        return Err(ExternalError::permanent(format!(
            "the forge did not say which commit pull request #{number} would merge; not merging what nobody can say was reviewed"
        )));
    };
    let same = head.len() >= 7
        && approved.len() >= 7
        && (approved.starts_with(head) || head.starts_with(approved));
    if same {
        Ok(())
    } else {
        Err(ExternalError::permanent(format!(
            "pull request #{number} moved to {} after {} was approved; not merged: the new commits need a review of their own",
            &head[..12.min(head.len())],
            &approved[..12.min(approved.len())]
        )))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewPull {
    pub head_branch: String,
    pub base_branch: String,
    pub title: String,
    pub body: String,
    /// Who asked for it (the local forge records them as the author).
    pub author: String,
}

/// The forge's API: repository metadata and the pull request flow. One adapter per provider
/// (local, GitHub, Bitbucket Cloud, Azure DevOps); `Forges` picks by the integration.
#[async_trait::async_trait]
pub trait Forge: Send + Sync {
    /// Creates an empty repository with a first commit on `main`. Only the local forge does
    /// this: Slipway consumes repositories on other forges, it never creates them (seed 000).
    async fn create_repository(
        &self,
        repo: &ForgeRepo,
        author: &str,
    ) -> Result<RepoConfig, ExternalError>;
    async fn metadata(&self, repo: &ForgeRepo) -> Result<RepoConfig, ExternalError>;
    async fn find_open_pull(
        &self,
        repo: &ForgeRepo,
        head_branch: &str,
    ) -> Result<Option<ForgePull>, ExternalError>;
    async fn create_pull(
        &self,
        repo: &ForgeRepo,
        pull: &NewPull,
    ) -> Result<ForgePull, ExternalError>;
    async fn get_pull(&self, repo: &ForgeRepo, number: i64) -> Result<ForgePull, ExternalError>;
    /// Merges exactly `approved` (the head commit a person approved) into the base branch, or
    /// refuses when the head moved (see [`approved_head`]); merging a merged pull request
    /// returns it unchanged.
    async fn merge_pull(
        &self,
        repo: &ForgeRepo,
        number: i64,
        message: &str,
        approved: &str,
    ) -> Result<ForgePull, ExternalError>;
    /// Closes (declines, abandons) without merging; closing a closed one returns it unchanged.
    async fn close_pull(&self, repo: &ForgeRepo, number: i64) -> Result<ForgePull, ExternalError>;
    /// What the Merge Authorized gate needs of a pull request: its branches, title, author,
    /// head commit, the non-merge commits it brings and who approved it (their latest review).
    async fn pull_facts(&self, repo: &ForgeRepo, number: i64) -> Result<PullFacts, ExternalError> {
        let _ = (repo, number);
        Err(ExternalError::permanent(
            "this forge does not report pull request commits and reviews to Slipway yet",
        ))
    }
    /// Sets a commit status (`context`, success or failure, a description of at most 140
    /// characters, a link).
    async fn post_status(
        &self,
        repo: &ForgeRepo,
        status: &CommitStatus,
    ) -> Result<(), ExternalError> {
        let _ = (repo, status);
        Err(ExternalError::permanent(
            "this forge does not take commit statuses from Slipway yet",
        ))
    }
    /// The repository's own rulesets (not those it inherits), each with its full body.
    async fn rulesets(&self, repo: &ForgeRepo) -> Result<Vec<ForgeRuleset>, ExternalError> {
        let _ = repo;
        Err(ExternalError::permanent(
            "this forge does not take rulesets from Slipway yet",
        ))
    }
    /// Creates a ruleset (`id` None) or replaces ruleset `id` with `body`.
    async fn save_ruleset(
        &self,
        repo: &ForgeRepo,
        id: Option<i64>,
        body: &serde_json::Value,
    ) -> Result<(), ExternalError> {
        let _ = (repo, id, body);
        Err(ExternalError::permanent(
            "this forge does not take rulesets from Slipway yet",
        ))
    }
    async fn delete_ruleset(&self, repo: &ForgeRepo, id: i64) -> Result<(), ExternalError> {
        let _ = (repo, id);
        Err(ExternalError::permanent(
            "this forge does not take rulesets from Slipway yet",
        ))
    }
    /// Posts `body` on pull request `number` as Slipway's one comment of its kind: the comment
    /// that holds `marker` (a hidden line in `body`) is edited in place, or, when there is
    /// none, added. Never a second one.
    async fn upsert_comment(
        &self,
        repo: &ForgeRepo,
        number: i64,
        marker: &str,
        body: &str,
    ) -> Result<(), ExternalError> {
        let _ = (repo, number, marker, body);
        Err(ExternalError::permanent(
            "this forge does not take pull request comments from Slipway yet",
        ))
    }
    /// Makes sure the repository delivers `hook.events` to `hook.url`, signed with
    /// `hook.secret`: creates the webhook, or corrects one with that URL. True when it wrote.
    async fn ensure_webhook(
        &self,
        repo: &ForgeRepo,
        hook: &Webhook,
    ) -> Result<bool, ExternalError> {
        let _ = (repo, hook);
        Err(ExternalError::permanent(
            "this forge does not take webhooks from Slipway yet",
        ))
    }
}

/// A ruleset as the forge holds it.
#[derive(Clone, Debug, PartialEq)]
pub struct ForgeRuleset {
    pub id: i64,
    pub name: String,
    pub body: serde_json::Value,
}

/// A webhook Slipway needs on a repository. The secret is never logged (no Debug).
#[derive(Clone)]
pub struct Webhook {
    pub url: String,
    pub secret: String,
    pub events: Vec<String>,
}

/// A pull request as the forge reports it to the Merge Authorized gate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PullFacts {
    pub title: String,
    pub head_branch: String,
    pub base_branch: String,
    pub head_sha: String,
    pub author: String,
    /// Non-merge commits as (id, message), oldest first.
    pub commits: Vec<(String, String)>,
    pub approvers: Vec<String>,
    /// The forge lists no more than this many commits of a pull request (GitHub: 250).
    pub truncated: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitStatus {
    pub sha: String,
    pub success: bool,
    pub context: String,
    pub description: String,
    pub target_url: String,
}

/// One change, committed on a branch cut from `base`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BranchChange {
    /// The branch the change is cut from and reviewed into (the default branch, or a
    /// strategy's intake branch).
    pub base: String,
    pub branch: String,
    pub edit: TreeEdit,
    pub message: String,
    pub author_name: String,
    pub author_email: String,
}

/// Refuses a path a change cannot write: absolute, empty segments, `.`, `..` or `.git`.
pub fn check_file_path(path: &str) -> Result<(), ExternalError> {
    if path.is_empty()
        || path.starts_with('/')
        || path.contains('\\')
        || path
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == ".." || s.eq_ignore_ascii_case(".git"))
    {
        return Err(ExternalError::permanent(format!(
            "{path:?} is not a file path"
        )));
    }
    Ok(())
}

/// What a change does to the base's files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TreeEdit {
    /// Replaces a resource folder (`<template_key>/<slug>`, validated by
    /// `domain::workspaces::resource_folder`) with these flat files; `None` removes it.
    Folder {
        folder: String,
        files: Option<Vec<(String, String)>>,
    },
    /// Writes these files (relative paths) and keeps every other file as it is.
    Files(Vec<(String, String)>),
    /// Changes no file: an empty commit, so that the code as it is goes through review and
    /// apply again (a drift's reconcile).
    Nothing,
}

/// One file a commit changed: its contents before and after (`None`: absent on that side).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangedFile {
    pub path: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// What a sync did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pushed {
    /// The branch's head commit.
    pub commit: String,
    /// False when the branch already held exactly this change (a re-run after a crash): nothing
    /// was committed or pushed.
    pub pushed: bool,
    /// False when the default branch already has the folder exactly so: there is nothing to
    /// review.
    pub differs: bool,
}

/// A branch as versioning sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BranchTags {
    pub name: String,
    /// The head commit's id.
    pub head: String,
    /// The base tag seen from the head: the highest release tag reachable from it.
    pub base: Option<String>,
    /// The version tags on the head commit.
    pub head_tags: Vec<String>,
}

/// A version tag (`v` + SemVer) of a repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionTag {
    pub name: String,
    /// The commit it points at (annotated tags peeled).
    pub commit: String,
    /// When it was made: the tagger's time for an annotated tag, else the commit's; seconds
    /// since the epoch.
    pub at: i64,
    pub annotated: bool,
    /// The tag message's first line, or the commit's summary.
    pub message: String,
}

/// A repository's branches and version tags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepoTags {
    pub branches: Vec<BranchTags>,
    pub tags: Vec<VersionTag>,
    /// Tags that are not `v` + SemVer.
    pub ignored: usize,
}

/// Git work on workspace repositories: a mirror per workspace in the data dir, fetched rather
/// than cloned for every sync; pushes over HTTPS (token) or SSH (key) by the integration.
#[async_trait::async_trait]
pub trait WorkspaceGit: Send + Sync {
    /// Commits the change on a fresh branch from the base's head and force-pushes it, unless
    /// the remote branch already holds the same tree on the same base.
    async fn push_change(
        &self,
        repo: &ForgeRepo,
        config: &RepoConfig,
        change: &BranchChange,
    ) -> Result<Pushed, ExternalError>;

    /// Creates `branch` at `from`'s head unless it exists (never moves an existing branch).
    /// True when it was created.
    async fn ensure_branch(
        &self,
        repo: &ForgeRepo,
        config: &RepoConfig,
        branch: &str,
        from: &str,
    ) -> Result<bool, ExternalError>;

    /// What `commit` changed against its first parent (a synced commit sits on the default
    /// branch's head, so this is exactly its pull request's change).
    async fn commit_changes(
        &self,
        repo: &ForgeRepo,
        config: &RepoConfig,
        commit: &str,
    ) -> Result<Vec<ChangedFile>, ExternalError>;

    /// The files of `folder` on `branch` (freshly fetched), or of the whole branch when
    /// `folder` is empty; empty when it does not exist. `branch` may be a full commit id: the
    /// folder at exactly that commit.
    async fn read_folder(
        &self,
        repo: &ForgeRepo,
        config: &RepoConfig,
        branch: &str,
        folder: &str,
    ) -> Result<Vec<(String, String)>, ExternalError>;

    /// The branches and version tags (both freshly fetched), each branch with its base tag.
    async fn tags(&self, repo: &ForgeRepo, config: &RepoConfig) -> Result<RepoTags, ExternalError>;
}

/// Git on the local forge's repositories for governed repositories: the files provisioning
/// writes, the commits a pull request brings, and merges by the method a strategy allows.
#[async_trait::async_trait]
pub trait LocalGit: Send + Sync {
    /// Creates `repository` (a first commit on `main`) unless it exists, and each of
    /// `branches` it lacks from the default branch's head; returns the default branch.
    async fn ensure(
        &self,
        repository: &str,
        branches: &[String],
        author: &str,
    ) -> Result<String, ExternalError>;
    /// The contents of `paths` on `branch` (`None`: absent, not UTF-8, or no such repository
    /// or branch yet).
    async fn read(
        &self,
        repository: &str,
        branch: &str,
        paths: &[String],
    ) -> Result<Vec<Option<String>>, ExternalError>;
    /// Writes `files` in one commit on `branch`, cut from `base`'s head (`branch` == `base`:
    /// a commit straight onto it, refused as transient if it moved meanwhile). Returns None when
    /// `base` already holds them all (nothing to review); the existing head, without a new
    /// commit, when `branch` already holds exactly that change on that base.
    async fn write(
        &self,
        repository: &str,
        base: &str,
        branch: &str,
        files: &[(String, String)],
        message: &str,
        author: &str,
    ) -> Result<Option<String>, ExternalError>;
    /// The head commit of `branch` (`None`: no such repository or branch).
    async fn head(&self, repository: &str, branch: &str) -> Result<Option<String>, ExternalError>;
    /// The commits `head` brings over `base` that are not merges, as (id, message), oldest
    /// first; at most [`MAX_PULL_COMMITS`] + 1. Each of `base` and `head` is a branch or a
    /// full commit id (after a merge the branches have moved on; the commits stay).
    async fn commits(
        &self,
        repository: &str,
        base: &str,
        head: &str,
    ) -> Result<Vec<(String, String)>, ExternalError>;
    /// The files `head` changes since it forked from `base` (their merge base), each with
    /// its hunks (three lines of context); as [`commits`](LocalGit::commits), each of `base`
    /// and `head` is a branch or a full commit id. At most [`MAX_CHANGED_FILES`] files, and
    /// the lines of at most [`MAX_FILE_DIFF_LINES`] changed lines a file and
    /// [`MAX_DIFF_LINES`] in all; past that a file is listed folded with its counts.
    async fn changes(
        &self,
        repository: &str,
        base: &str,
        head: &str,
    ) -> Result<crate::domain::resources::FileChanges, ExternalError>;
    /// Merges `head` into `base`: a merge commit, or (squash) one commit with `message` whose
    /// only parent is `base`'s head; only if `head` is still `approved` (pull request number,
    /// commit). Returns (base before, head, result).
    async fn merge(
        &self,
        repository: &str,
        base: &str,
        head: &str,
        method: crate::domain::branching::MergeMethod,
        message: &str,
        approved: (i64, &str),
    ) -> Result<(String, String, String), ExternalError>;
}

/// The most commits the Merge Authorized gate checks in one pull request; a pull request that
/// brings more is refused (split it), never checked in part.
pub const MAX_PULL_COMMITS: usize = 10_000;

/// The most files a pull request page lists (the rest are counted).
pub const MAX_CHANGED_FILES: usize = 500;
/// The most changed lines of one file a pull request page shows; a larger file is folded.
pub const MAX_FILE_DIFF_LINES: usize = 2_000;
/// The most changed lines a pull request page shows in all.
pub const MAX_DIFF_LINES: usize = 20_000;

/// A container registry, for release tags. Tags are immutable: a tag already naming another
/// digest is refused, one naming this digest is left as it is.
#[async_trait::async_trait]
pub trait Registry: Send + Sync {
    /// Tags `digest` (`sha256:…`) of `image` (`registry/path/name`) as `tag`.
    async fn tag(&self, image: &str, digest: &str, tag: &str) -> Result<(), ExternalError>;
    /// The tags of `image`.
    async fn tags(&self, image: &str) -> Result<Vec<String>, ExternalError>;
}

/// One e-mail: plain text, to one address. `message_id` is the same on every attempt, so a
/// mail client shows a message sent twice (a crash between sending and recording) once.
pub struct Email<'a> {
    pub to: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub message_id: &'a str,
}

/// How notifications leave the server: e-mail over SMTP (`SLIPWAY_SMTP_URL`), and JSON posts
/// to Slack's incoming webhooks and people's own webhooks (through the egress policy, no
/// redirects followed).
#[async_trait::async_trait]
pub trait Messenger: Send + Sync {
    /// Whether e-mail can go out at all (SMTP is configured).
    fn email_configured(&self) -> bool;
    async fn send_email(&self, email: Email<'_>) -> Result<(), ExternalError>;
    /// `POST`s `body` (JSON) with `headers`; a 2xx answer is delivered.
    async fn post_json(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: &str,
    ) -> Result<(), ExternalError>;
    /// Why a URL may not be used (not http(s), or an address the egress policy refuses), or
    /// `Ok` — checked when someone sets it, and again by every delivery.
    async fn check_url(&self, url: &str) -> Result<(), String>;
}
