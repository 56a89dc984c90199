//! Git work on workspace repositories through git2: one bare mirror per repository under
//! `<data>/workspace-mirrors`, fetched (never cloned afresh) before each change. A change is a
//! single commit on top of its base branch's head, built straight from trees (no working
//! copy), and force-pushed to its branch — unless the remote branch already holds that very
//! tree on that very base, which is what makes a re-run after a crash push nothing. A change
//! onto the base branch itself (deployments) is pushed without force instead; one that lost a
//! race to another push is refused as worth retrying.

use super::git_sources::{callbacks, describe_git_error, untrusted_host, Mirrors};
use super::version_tags::TagIndex;
use app::domain::integrations::Provider;
use app::domain::semver::Version;
use app::server::ports::{
    check_file_path, BranchChange, BranchTags, ChangedFile, ExternalError, ForgeRepo, Pushed,
    RepoConfig, RepoTags, TreeEdit, VersionTag, WorkspaceGit,
};
use git2::{FetchOptions, FileMode, Oid, PushOptions, Repository, Signature};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

mod reading;
mod writing;
#[allow(unused_imports)]
use {reading::*, writing::*};

pub struct GitWorkspaces {
    mirrors: Mirrors,
    egress: Arc<super::egress::Egress>,
    /// The local forge's repositories: `<data>/git`.
    local_root: PathBuf,
}

impl GitWorkspaces {
    pub fn new(data_dir: &Path, egress: &Arc<super::egress::Egress>) -> GitWorkspaces {
        GitWorkspaces {
            mirrors: Mirrors::new(data_dir.join("workspace-mirrors")),
            egress: egress.clone(),
            local_root: data_dir.join("git"),
        }
    }

    /// Where the repository is fetched from and pushed to: the local forge's own folder, the
    /// SSH URL when the integration holds a key, else the HTTPS URL (token).
    fn remote_url(&self, repo: &ForgeRepo, config: &RepoConfig) -> Result<String, ExternalError> {
        match repo.provider {
            Provider::LocalGit => Ok(format!(
                "file://{}",
                super::local_forge::repository_path(&self.local_root, &repo.repository)?.display()
            )),
            _ if repo.secrets.contains_key("ssh_private_key") && !config.ssh_url.is_empty() => {
                Ok(config.ssh_url.clone())
            }
            _ if !config.https_url.is_empty() => Ok(config.https_url.clone()),
            _ => Err(ExternalError::permanent(
                "the workspace has no clone URL Slipway can use",
            )),
        }
    }

    /// Runs `work` on the repository's mirror (path, remote URL), holding the mirror's lock, on
    /// a blocking thread.
    async fn with_mirror<T: Send + 'static>(
        &self,
        repo: &ForgeRepo,
        config: &RepoConfig,
        work: impl FnOnce(&Path, &str) -> Result<T, ExternalError> + Send + 'static,
    ) -> Result<T, ExternalError> {
        let url = self.remote_url(repo, config)?;
        if !url.starts_with("file://") {
            self.egress
                .check_git_remote(&url)
                .await
                .map_err(ExternalError::permanent)?;
        }
        let (mirror, lock) = self.mirrors.of(&url);
        let _held = lock.lock().await;
        tokio::task::spawn_blocking(move || work(&mirror, &url))
            .await
            .map_err(|e| ExternalError::transient(format!("the git task stopped: {e}")))?
    }
}

fn git_error(error: git2::Error) -> ExternalError {
    use git2::ErrorClass;
    let retryable = matches!(
        error.class(),
        ErrorClass::Http | ErrorClass::Net | ErrorClass::Ssh | ErrorClass::Ssl | ErrorClass::Os
    ) && !error.message().contains("credentials")
        && !untrusted_host(&error);
    ExternalError {
        message: describe_git_error(&error),
        retryable,
        retry_after: None,
        waiting_until: None,
    }
}

/// Opens (or creates) the mirror and fetches every branch into `refs/remotes/origin/*`, pruning
/// branches deleted upstream.
fn fetch(mirror: &Path, url: &str, repo: &ForgeRepo) -> Result<Repository, ExternalError> {
    fetch_refs(mirror, url, repo, false)
}

/// `fetch`, and with `tags` every tag into `refs/tags/*` as well (tags deleted or moved
/// upstream are deleted or moved here too).
fn fetch_refs(
    mirror: &Path,
    url: &str,
    repo: &ForgeRepo,
    tags: bool,
) -> Result<Repository, ExternalError> {
    let git = if mirror.join("HEAD").exists() {
        Repository::open_bare(mirror)
    } else {
        std::fs::create_dir_all(mirror)
            .map_err(|e| ExternalError::transient(format!("cannot create the mirror: {e}")))?;
        Repository::init_bare(mirror)
    }
    .map_err(git_error)?;
    // (remote namespace, local namespace)
    let mut namespaces = vec![("refs/heads/", "refs/remotes/origin/")];
    if tags {
        namespaces.push(("refs/tags/", "refs/tags/"));
    }
    let refspecs: Vec<String> = namespaces
        .iter()
        .map(|(remote, local)| format!("+{remote}*:{local}*"))
        .collect();
    let mut remote = git.remote_anonymous(url).map_err(git_error)?;
    let mut options = FetchOptions::new();
    options
        .remote_callbacks(callbacks(repo.provider, &repo.settings, &repo.secrets))
        .prune(git2::FetchPrune::On)
        .download_tags(git2::AutotagOption::None)
        .follow_redirects(git2::RemoteRedirect::None);
    remote
        .fetch(&refspecs, Some(&mut options), None)
        .map_err(git_error)?;
    // An anonymous remote does not prune: drop local refs the remote no longer has.
    let advertised: std::collections::HashSet<String> = remote
        .list()
        .map_err(git_error)?
        .iter()
        .map(|h| h.name().to_string())
        .collect();
    for (remote_ns, local_ns) in namespaces {
        let stale: Vec<String> = git
            .references_glob(&format!("{local_ns}*"))
            .map_err(git_error)?
            .flatten()
            .filter_map(|r| r.name().map(str::to_string))
            .filter(|n| {
                let upstream = format!("{remote_ns}{}", &n[local_ns.len()..]);
                !advertised.contains(&upstream)
            })
            .collect();
        for name in stale {
            if let Ok(mut reference) = git.find_reference(&name) {
                let _ = reference.delete();
            }
        }
    }
    drop(remote);
    Ok(git)
}

fn remote_head(git: &Repository, branch: &str) -> Option<Oid> {
    git.find_reference(&format!("refs/remotes/origin/{branch}"))
        .ok()
        .and_then(|r| r.target())
}

#[async_trait::async_trait]
impl WorkspaceGit for GitWorkspaces {
    async fn commit_changes(
        &self,
        repo: &ForgeRepo,
        config: &RepoConfig,
        commit: &str,
    ) -> Result<Vec<ChangedFile>, ExternalError> {
        let (forge_repo, commit) = (repo.clone(), commit.to_string());
        self.with_mirror(repo, config, move |mirror, url| {
            changes_blocking(mirror, url, &forge_repo, &commit)
        })
        .await
    }

    async fn push_change(
        &self,
        repo: &ForgeRepo,
        config: &RepoConfig,
        change: &BranchChange,
    ) -> Result<Pushed, ExternalError> {
        let (forge_repo, change) = (repo.clone(), change.clone());
        self.with_mirror(repo, config, move |mirror, url| {
            push_blocking(mirror, url, &forge_repo, &change)
        })
        .await
    }

    async fn ensure_branch(
        &self,
        repo: &ForgeRepo,
        config: &RepoConfig,
        branch: &str,
        from: &str,
    ) -> Result<bool, ExternalError> {
        super::local_forge::check_branch(branch)?;
        let (forge_repo, branch, from) = (repo.clone(), branch.to_string(), from.to_string());
        self.with_mirror(repo, config, move |mirror, url| {
            ensure_branch_blocking(mirror, url, &forge_repo, &branch, &from)
        })
        .await
    }

    async fn read_folder(
        &self,
        repo: &ForgeRepo,
        config: &RepoConfig,
        branch: &str,
        folder: &str,
    ) -> Result<Vec<(String, String)>, ExternalError> {
        let (forge_repo, branch, folder) = (repo.clone(), branch.to_string(), folder.to_string());
        self.with_mirror(repo, config, move |mirror, url| {
            read_blocking(mirror, url, &forge_repo, &branch, &folder)
        })
        .await
    }

    async fn tags(&self, repo: &ForgeRepo, config: &RepoConfig) -> Result<RepoTags, ExternalError> {
        let forge_repo = repo.clone();
        self.with_mirror(repo, config, move |mirror, url| {
            tags_blocking(mirror, url, &forge_repo)
        })
        .await
    }
}
