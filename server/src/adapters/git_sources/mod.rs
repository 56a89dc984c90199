//! Source repositories through git2: one bare mirror per repository URL under the data dir,
//! fetched (never cloned afresh) on each refresh; modules read straight from the mirror's trees.
//! Connection tests call each forge's "who am I" endpoint with reqwest.

use app::domain::integrations::{Fields, Provider};
use app::error::AppError;
use app::server::ports::{ModuleSnapshot, RepoAccess, RepoListing, SourceRepos};
use base64::Engine;
use git2::{
    AutotagOption, CredentialType, FetchOptions, ObjectType, RemoteCallbacks, Repository,
    TreeWalkMode, TreeWalkResult,
};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

mod credentials;
mod service;
pub(crate) use credentials::{callbacks, describe_git_error, untrusted_host};

/// The largest `.tf` file read from a module.
const MAX_MODULE_FILE: usize = 1024 * 1024;

/// Bare mirrors in one folder, one per repository URL, each behind its own lock so two tasks
/// never fetch into the same mirror at once.
pub(crate) struct Mirrors {
    dir: PathBuf,
    locks: Mutex<HashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>>,
}

impl Mirrors {
    pub(crate) fn new(dir: PathBuf) -> Mirrors {
        Mirrors {
            dir,
            locks: Mutex::new(HashMap::new()),
        }
    }

    /// The mirror of `url`, and its lock.
    pub(crate) fn of(&self, url: &str) -> (PathBuf, Arc<tokio::sync::Mutex<()>>) {
        let digest = hex::encode(Sha256::digest(url.as_bytes()));
        let path = self.dir.join(format!("{}.git", &digest[..32]));
        let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
        let lock = locks.entry(path.clone()).or_default().clone();
        (path, lock)
    }
}

pub struct GitSources {
    /// Where mirrors live: `<data>/mirrors`.
    mirrors: Mirrors,
    /// The local provider's repositories: `<data>/git`. `file://` URLs must point inside it.
    local_root: PathBuf,
    http: super::Http,
}

impl GitSources {
    pub fn new(data_dir: &Path, egress: &std::sync::Arc<super::egress::Egress>) -> GitSources {
        GitSources {
            mirrors: Mirrors::new(data_dir.join("mirrors")),
            local_root: data_dir.join("git"),
            http: super::Http::new(egress.clone()),
        }
    }

    /// Refuses URLs the integration may not reach: the local provider only reaches `file://`
    /// repositories inside the data dir's `git` folder, and no other provider reaches files.
    fn check_reach(&self, access: &RepoAccess) -> Result<(), AppError> {
        let is_file = access.url.starts_with("file://");
        match (access.provider, is_file) {
            (Provider::LocalGit, true) => {
                let path = Path::new(&access.url["file://".len()..]);
                let inside = path
                    .canonicalize()
                    .ok()
                    .zip(self.local_root.canonicalize().ok())
                    .is_some_and(|(p, root)| p.starts_with(root));
                if inside {
                    Ok(())
                } else {
                    Err(AppError::invalid(
                        "url",
                        format!(
                            "the local provider reaches only repositories under {}",
                            self.local_root.display()
                        ),
                    ))
                }
            }
            (Provider::LocalGit, false) => Err(AppError::invalid(
                "url",
                "the local provider reaches only file:// repositories on this server",
            )),
            (_, true) => Err(AppError::invalid(
                "url",
                "file:// repositories need the local Git integration",
            )),
            // The integration's credentials go with the fetch: only to its provider's hosts.
            (provider, false) => app::domain::integrations::check_credential_host(
                provider,
                &access.settings,
                &access.url,
            )
            .map_err(|why| AppError::invalid("url", why)),
        }
    }

    fn refresh_blocking(
        mirror: &Path,
        access: &RepoAccess,
    ) -> Result<(Repository, Option<String>), String> {
        let repo = if mirror.join("HEAD").exists() {
            Repository::open_bare(mirror)
        } else {
            std::fs::create_dir_all(mirror)
                .map_err(|e| format!("cannot create the mirror: {e}"))?;
            Repository::init_bare(mirror)
        }
        .map_err(|e| format!("cannot open the mirror: {}", e.message()))?;
        let mut remote = repo
            .remote_anonymous(&access.url)
            .map_err(|e| e.message().to_string())?;
        // One connection, redirects refused: an answer cannot send the fetch (and the
        // integration's credentials) to another host.
        let mut options = FetchOptions::new();
        options
            .remote_callbacks(callbacks(
                access.provider,
                &access.settings,
                &access.secrets,
            ))
            .download_tags(AutotagOption::None)
            .follow_redirects(git2::RemoteRedirect::None);
        remote
            .fetch(
                &["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"],
                Some(&mut options),
                None,
            )
            .map_err(|e| describe_git_error(&e))?;
        // What the remote advertised stays listed after the fetch disconnects.
        let default_branch = remote
            .default_branch()
            .ok()
            .and_then(|b| b.as_str().map(str::to_string))
            .and_then(|b| b.strip_prefix("refs/heads/").map(str::to_string));
        let heads: BTreeSet<String> = remote
            .list()
            .map_err(|e| describe_git_error(&e))?
            .iter()
            .map(|h| h.name().to_string())
            .filter(|n| n.starts_with("refs/heads/") || n.starts_with("refs/tags/"))
            .map(|n| n.trim_end_matches("^{}").to_string())
            .collect();
        drop(remote);
        // Prune: branches and tags deleted upstream leave the mirror too.
        let stale: Vec<String> = repo
            .references()
            .map_err(|e| e.message().to_string())?
            .flatten()
            .filter_map(|r| r.name().map(str::to_string))
            .filter(|n| {
                (n.starts_with("refs/heads/") || n.starts_with("refs/tags/")) && !heads.contains(n)
            })
            .collect();
        for name in stale {
            if let Ok(mut reference) = repo.find_reference(&name) {
                let _ = reference.delete();
            }
        }
        Ok((repo, default_branch))
    }

    fn listing(repo: &Repository, default_branch: Option<String>) -> Result<RepoListing, String> {
        let mut branches: Vec<String> = repo
            .references_glob("refs/heads/*")
            .map_err(|e| e.message().to_string())?
            .flatten()
            .filter_map(|r| {
                r.name()
                    .and_then(|n| n.strip_prefix("refs/heads/"))
                    .map(str::to_string)
            })
            .collect();
        branches.sort();
        let mut tags: Vec<String> = repo
            .tag_names(None)
            .map_err(|e| e.message().to_string())?
            .iter()
            .flatten()
            .map(str::to_string)
            .collect();
        tags.sort_by(|a, b| version_key(b).cmp(&version_key(a)).then(a.cmp(b)));
        let default_branch = default_branch
            .filter(|b| branches.contains(b))
            .or_else(|| {
                ["main", "master"]
                    .iter()
                    .map(|b| b.to_string())
                    .find(|b| branches.contains(b))
            })
            .or_else(|| branches.first().cloned());
        let mut modules = BTreeSet::new();
        if let Some(branch) = &default_branch {
            let tree = repo
                .revparse_single(&format!("refs/heads/{branch}"))
                .and_then(|o| o.peel_to_tree())
                .map_err(|e| e.message().to_string())?;
            tree.walk(TreeWalkMode::PreOrder, |folder, entry| {
                if entry.kind() == Some(ObjectType::Blob)
                    && entry.name().is_some_and(|n| n.ends_with(".tf"))
                {
                    modules.insert(folder.trim_end_matches('/').to_string());
                }
                TreeWalkResult::Ok
            })
            .map_err(|e| e.message().to_string())?;
        }
        Ok(RepoListing {
            default_branch,
            branches,
            tags,
            modules: modules.into_iter().collect(),
        })
    }

    fn read_blocking(
        repo: &Repository,
        git_ref: &str,
        module_path: &str,
    ) -> Result<ModuleSnapshot, AppError> {
        let object = [
            format!("refs/tags/{git_ref}"),
            format!("refs/heads/{git_ref}"),
        ]
        .iter()
        .find_map(|name| repo.revparse_single(name).ok())
        .ok_or_else(|| {
            AppError::invalid(
                "git_ref",
                format!("the repository has no tag or branch {git_ref:?}"),
            )
        })?;
        let commit = object.peel_to_commit().map_err(|e| {
            AppError::invalid(
                "git_ref",
                format!("{git_ref:?} is not a commit: {}", e.message()),
            )
        })?;
        let root = commit.tree().map_err(AppError::internal)?;
        let tree = if module_path.is_empty() {
            root
        } else {
            let entry = root.get_path(Path::new(module_path)).map_err(|_| {
                AppError::invalid(
                    "module_path",
                    format!("{git_ref} has no folder {module_path:?}"),
                )
            })?;
            entry
                .to_object(repo)
                .and_then(|o| o.peel_to_tree())
                .map_err(|_| {
                    AppError::invalid(
                        "module_path",
                        format!("{module_path:?} at {git_ref} is a file, not a folder"),
                    )
                })?
        };
        let mut files = Vec::new();
        for entry in tree.iter() {
            let Some(name) = entry.name() else { continue };
            if entry.kind() != Some(ObjectType::Blob) || !name.ends_with(".tf") {
                continue;
            }
            let path = if module_path.is_empty() {
                name.to_string()
            } else {
                format!("{module_path}/{name}")
            };
            let blob = entry
                .to_object(repo)
                .and_then(|o| o.peel_to_blob())
                .map_err(AppError::internal)?;
            if blob.size() > MAX_MODULE_FILE {
                return Err(AppError::invalid(
                    "module_path",
                    format!("{path} is larger than 1 MiB"),
                ));
            }
            let text = String::from_utf8(blob.content().to_vec()).map_err(|_| {
                AppError::invalid("module_path", format!("{path} is not UTF-8 text"))
            })?;
            files.push((path, text));
        }
        if files.is_empty() {
            return Err(AppError::invalid(
                "module_path",
                format!(
                    "{} at {git_ref} holds no .tf files",
                    if module_path.is_empty() {
                        "the repository root"
                    } else {
                        module_path
                    }
                ),
            ));
        }
        files.sort();
        Ok(ModuleSnapshot {
            commit: commit.id().to_string(),
            files,
        })
    }

    async fn refreshed(&self, access: &RepoAccess) -> Result<(PathBuf, Option<String>), AppError> {
        self.check_reach(access)?;
        if !access.url.starts_with("file://") {
            self.http
                .egress()
                .check_git_remote(&access.url)
                .await
                .map_err(|why| AppError::invalid("url", why))?;
        }
        let (mirror, lock) = self.mirrors.of(&access.url);
        let _guard = lock.lock().await;
        let access = access.clone();
        let path = mirror.clone();
        let default_branch = tokio::task::spawn_blocking(move || {
            Self::refresh_blocking(&path, &access).map(|(_, default)| default)
        })
        .await
        .map_err(AppError::internal)?
        .map_err(|message| AppError::invalid("url", message))?;
        Ok((mirror, default_branch))
    }
}

/// The commit a tag or branch names in the mirror.
fn resolve<'r>(repo: &'r Repository, git_ref: &str) -> Result<git2::Commit<'r>, AppError> {
    let object = [
        format!("refs/tags/{git_ref}"),
        format!("refs/heads/{git_ref}"),
    ]
    .iter()
    .find_map(|name| repo.revparse_single(name).ok())
    .ok_or_else(|| {
        AppError::invalid(
            "git_ref",
            format!("the repository has no tag or branch {git_ref:?}"),
        )
    })?;
    object.peel_to_commit().map_err(|e| {
        AppError::invalid(
            "git_ref",
            format!("{git_ref:?} is not a commit: {}", e.message()),
        )
    })
}

/// Sort key that puts versions (v1.2.3, 1.2) in numeric order; other names sort below them.
fn version_key(tag: &str) -> (bool, Vec<u64>) {
    let core = tag.strip_prefix('v').unwrap_or(tag);
    let core = core.split(['-', '+']).next().unwrap_or("");
    let parts: Option<Vec<u64>> = core.split('.').map(|p| p.parse().ok()).collect();
    match parts {
        Some(numbers) if !numbers.is_empty() => (true, numbers),
        _ => (false, vec![]),
    }
}
