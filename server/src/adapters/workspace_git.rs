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
    check_file_path, BranchChange, BranchTags, ChangedFile, ForgeError, ForgeRepo, Pushed,
    RepoConfig, RepoTags, TreeEdit, VersionTag, WorkspaceGit,
};
use git2::{FetchOptions, FileMode, Oid, PushOptions, Repository, Signature};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

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
    fn remote_url(&self, repo: &ForgeRepo, config: &RepoConfig) -> Result<String, ForgeError> {
        match repo.provider {
            Provider::LocalGit => Ok(format!(
                "file://{}",
                super::local_forge::repository_path(&self.local_root, &repo.repository)?.display()
            )),
            _ if repo.secrets.contains_key("ssh_private_key") && !config.ssh_url.is_empty() => {
                Ok(config.ssh_url.clone())
            }
            _ if !config.https_url.is_empty() => Ok(config.https_url.clone()),
            _ => Err(ForgeError::permanent(
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
        work: impl FnOnce(&Path, &str) -> Result<T, ForgeError> + Send + 'static,
    ) -> Result<T, ForgeError> {
        let url = self.remote_url(repo, config)?;
        if !url.starts_with("file://") {
            self.egress
                .check_git_remote(&url)
                .await
                .map_err(ForgeError::permanent)?;
        }
        let (mirror, lock) = self.mirrors.of(&url);
        let _held = lock.lock().await;
        tokio::task::spawn_blocking(move || work(&mirror, &url))
            .await
            .map_err(|e| ForgeError::transient(format!("the git task stopped: {e}")))?
    }
}

fn git_error(error: git2::Error) -> ForgeError {
    use git2::ErrorClass;
    let retryable = matches!(
        error.class(),
        ErrorClass::Http | ErrorClass::Net | ErrorClass::Ssh | ErrorClass::Ssl | ErrorClass::Os
    ) && !error.message().contains("credentials")
        && !untrusted_host(&error);
    ForgeError {
        message: describe_git_error(&error),
        retryable,
        retry_after: None,
    }
}

/// Opens (or creates) the mirror and fetches every branch into `refs/remotes/origin/*`, pruning
/// branches deleted upstream.
fn fetch(mirror: &Path, url: &str, repo: &ForgeRepo) -> Result<Repository, ForgeError> {
    fetch_refs(mirror, url, repo, false)
}

/// `fetch`, and with `tags` every tag into `refs/tags/*` as well (tags deleted or moved
/// upstream are deleted or moved here too).
fn fetch_refs(
    mirror: &Path,
    url: &str,
    repo: &ForgeRepo,
    tags: bool,
) -> Result<Repository, ForgeError> {
    let git = if mirror.join("HEAD").exists() {
        Repository::open_bare(mirror)
    } else {
        std::fs::create_dir_all(mirror)
            .map_err(|e| ForgeError::transient(format!("cannot create the mirror: {e}")))?;
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

/// `base` with the tree at `path` (slash-separated) replaced by `replacement`, or removed when
/// it is `None`; folders left empty by a removal are removed too.
fn replace_path(
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
fn tree_of(git: &Repository, files: &[(String, String)]) -> Result<Option<Oid>, ForgeError> {
    if files.is_empty() {
        return Ok(None);
    }
    let mut builder = git.treebuilder(None).map_err(git_error)?;
    for (name, contents) in files {
        if name.is_empty() || name.contains(['/', '\\']) || name == "." || name == ".." {
            return Err(ForgeError::permanent(format!(
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
fn edited_tree(
    git: &Repository,
    base_tree: &git2::Tree,
    edit: &TreeEdit,
) -> Result<Oid, ForgeError> {
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
    }
}

/// Pushes `local_ref` to the same name on the remote (`force`: even when it does not descend
/// from the remote's), failing with the forge's reason when it refuses.
fn push_ref(
    git: &Repository,
    url: &str,
    repo: &ForgeRepo,
    local_ref: &str,
    force: bool,
) -> Result<(), ForgeError> {
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
        ForgeError::transient(format!(
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
        return Err(ForgeError::permanent(format!(
            "the forge refused the push of {branch}: {reason}"
        )));
    }
    Ok(())
}

fn push_blocking(
    mirror: &Path,
    url: &str,
    repo: &ForgeRepo,
    change: &BranchChange,
) -> Result<Pushed, ForgeError> {
    let git = fetch(mirror, url, repo)?;
    let base_id = remote_head(&git, &change.base).ok_or_else(|| {
        ForgeError::permanent(format!(
            "the repository has no branch {:?}; push a first commit to it",
            change.base
        ))
    })?;
    let base = git.find_commit(base_id).map_err(git_error)?;
    let base_tree = base.tree().map_err(git_error)?;
    let new_tree_id = edited_tree(&git, &base_tree, &change.edit)?;
    if new_tree_id == base_tree.id() {
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

fn ensure_branch_blocking(
    mirror: &Path,
    url: &str,
    repo: &ForgeRepo,
    branch: &str,
    from: &str,
) -> Result<bool, ForgeError> {
    let git = fetch(mirror, url, repo)?;
    if remote_head(&git, branch).is_some() {
        return Ok(false);
    }
    let head = remote_head(&git, from)
        .ok_or_else(|| ForgeError::permanent(format!("the repository has no branch {from:?}")))?;
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

fn read_blocking(
    mirror: &Path,
    url: &str,
    repo: &ForgeRepo,
    branch: &str,
    folder: &str,
) -> Result<Vec<(String, String)>, ForgeError> {
    let git = fetch(mirror, url, repo)?;
    let Some(head) = remote_head(&git, branch) else {
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

fn tags_blocking(mirror: &Path, url: &str, repo: &ForgeRepo) -> Result<RepoTags, ForgeError> {
    let git = fetch_refs(mirror, url, repo, true)?;
    let index = TagIndex::read(&git).map_err(ForgeError::permanent)?;
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
                .map_err(ForgeError::permanent)?
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
const MAX_DIFF_FILE: usize = 256 * 1024;

fn changes_blocking(
    mirror: &Path,
    url: &str,
    repo: &ForgeRepo,
    commit: &str,
) -> Result<Vec<ChangedFile>, ForgeError> {
    let oid = Oid::from_str(commit)
        .map_err(|_| ForgeError::permanent(format!("{commit:?} is not a commit id")))?;
    let git = match Repository::open_bare(mirror) {
        Ok(git) if git.find_commit(oid).is_ok() => git,
        _ => fetch(mirror, url, repo)?,
    };
    let commit = git.find_commit(oid).map_err(|_| {
        ForgeError::permanent(format!("the repository no longer has commit {commit}"))
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

#[async_trait::async_trait]
impl WorkspaceGit for GitWorkspaces {
    async fn commit_changes(
        &self,
        repo: &ForgeRepo,
        config: &RepoConfig,
        commit: &str,
    ) -> Result<Vec<ChangedFile>, ForgeError> {
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
    ) -> Result<Pushed, ForgeError> {
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
    ) -> Result<bool, ForgeError> {
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
    ) -> Result<Vec<(String, String)>, ForgeError> {
        let (forge_repo, branch, folder) = (repo.clone(), branch.to_string(), folder.to_string());
        self.with_mirror(repo, config, move |mirror, url| {
            read_blocking(mirror, url, &forge_repo, &branch, &folder)
        })
        .await
    }

    async fn tags(&self, repo: &ForgeRepo, config: &RepoConfig) -> Result<RepoTags, ForgeError> {
        let forge_repo = repo.clone();
        self.with_mirror(repo, config, move |mirror, url| {
            tags_blocking(mirror, url, &forge_repo)
        })
        .await
    }
}
