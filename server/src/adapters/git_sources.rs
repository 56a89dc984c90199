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

/// Credentials for git over HTTPS (token) or SSH (key), per provider. Tried at most twice, so a
/// refused credential fails fast instead of looping.
pub(crate) fn callbacks(
    provider: Provider,
    settings: &Fields,
    secrets: &Fields,
) -> RemoteCallbacks<'static> {
    let known_hosts = settings.get("ssh_known_hosts").cloned();
    let settings = settings.clone();
    let secrets = secrets.clone();
    let mut attempts = 0;
    let mut callbacks = RemoteCallbacks::new();
    callbacks.credentials(move |_url, username_from_url, allowed| {
        attempts += 1;
        if attempts > 2 {
            return Err(git2::Error::from_str(
                "the integration's credentials were refused",
            ));
        }
        if allowed.contains(CredentialType::SSH_KEY) {
            if let Some(key) = secrets.get("ssh_private_key") {
                return git2::Cred::ssh_key_from_memory(
                    username_from_url.unwrap_or("git"),
                    None,
                    key,
                    None,
                );
            }
        }
        if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) {
            let pair = match provider {
                Provider::Github => secrets
                    .get("token")
                    .map(|t| ("x-access-token".to_string(), t)),
                Provider::Bitbucket => settings
                    .get("username")
                    .cloned()
                    .zip(secrets.get("app_password")),
                Provider::AzureDevops => secrets.get("token").map(|t| ("pat".to_string(), t)),
                _ => None,
            };
            if let Some((user, password)) = pair {
                return git2::Cred::userpass_plaintext(&user, password);
            }
        }
        Err(git2::Error::from_str(
            "the repository needs credentials the integration does not hold",
        ))
    });
    if let Some(known) = known_hosts.filter(|k| !k.trim().is_empty()) {
        callbacks.certificate_check(move |cert, host| {
            let Some(ssh) = cert.as_hostkey() else {
                // TLS: the system's certificate checks decide.
                return Ok(git2::CertificateCheckStatus::CertificatePassthrough);
            };
            let offered = ssh.hostkey().zip(ssh.hostkey_type()).map(|(key, kind)| {
                (
                    kind.name().to_string(),
                    base64::engine::general_purpose::STANDARD.encode(key),
                )
            });
            let listed = app::domain::integrations::known_host_keys(&known, host);
            match offered {
                Some(key) if listed.contains(&key) => Ok(git2::CertificateCheckStatus::CertificateOk),
                Some((kind, key)) => {
                    // libgit2 replaces this error's words with its own; the log keeps the key.
                    tracing::warn!(host, kind, key, "SSH host key not among the integration's known hosts");
                    Err(git2::Error::from_str(&format!(
                        "the SSH host key of {host} ({kind}) is not among the integration's known hosts"
                    )))
                }
                None => Err(git2::Error::from_str(&format!(
                    "the SSH host key of {host} cannot be checked"
                ))),
            }
        });
    }
    callbacks
}

/// The SSH host key was refused (by the integration's known hosts or libgit2's own check):
/// final, as trying again cannot change it.
pub(crate) fn untrusted_host(error: &git2::Error) -> bool {
    let message = error.message();
    message.contains("hostkey") || message.contains("host key")
}

/// A git error as a user can act on it; never includes credentials (git2 does not echo them).
pub(crate) fn describe_git_error(error: &git2::Error) -> String {
    use git2::ErrorClass;
    if untrusted_host(error) {
        // libgit2 reports every refused host key with its own words, whatever the check said.
        return "the repository's SSH host key is not trusted: it is not among the integration's \
                known hosts (or, when it lists none, in this server's ~/.ssh/known_hosts); add the \
                host's `ssh-keyscan` line to the integration"
            .into();
    }
    match error.class() {
        ErrorClass::Http | ErrorClass::Net | ErrorClass::Ssh | ErrorClass::Ssl => {
            format!("cannot reach the repository: {}", error.message())
        }
        _ => error.message().to_string(),
    }
}

#[async_trait::async_trait]
impl SourceRepos for GitSources {
    async fn refresh(&self, access: &RepoAccess) -> Result<RepoListing, AppError> {
        let (mirror, default_branch) = self.refreshed(access).await?;
        tokio::task::spawn_blocking(move || {
            let repo = Repository::open_bare(&mirror).map_err(AppError::internal)?;
            Self::listing(&repo, default_branch).map_err(AppError::internal)
        })
        .await
        .map_err(AppError::internal)?
    }

    async fn read_module(
        &self,
        access: &RepoAccess,
        git_ref: &str,
        module_path: &str,
    ) -> Result<ModuleSnapshot, AppError> {
        let (mirror, _) = self.refreshed(access).await?;
        let git_ref = git_ref.to_string();
        let module_path = module_path.to_string();
        tokio::task::spawn_blocking(move || {
            let repo = Repository::open_bare(&mirror).map_err(AppError::internal)?;
            Self::read_blocking(&repo, &git_ref, &module_path)
        })
        .await
        .map_err(AppError::internal)?
    }

    async fn export(
        &self,
        access: &RepoAccess,
        git_ref: &str,
        dest: &Path,
    ) -> Result<String, AppError> {
        let (mirror, _) = self.refreshed(access).await?;
        let git_ref = git_ref.to_string();
        let dest = dest.to_path_buf();
        tokio::task::spawn_blocking(move || {
            let repo = Repository::open_bare(&mirror).map_err(AppError::internal)?;
            let commit = resolve(&repo, &git_ref)?;
            let tree = commit.tree().map_err(AppError::internal)?;
            std::fs::create_dir_all(&dest).map_err(AppError::internal)?;
            let mut failure = None;
            tree.walk(TreeWalkMode::PreOrder, |folder, entry| {
                let Some(name) = entry.name() else {
                    return TreeWalkResult::Skip;
                };
                // Tree entries never hold '/' or '..' (git refuses them), so paths stay in dest.
                if name == ".." || name == "." || name.contains('/') {
                    return TreeWalkResult::Skip;
                }
                let path = dest.join(folder).join(name);
                let written = match entry.kind() {
                    Some(ObjectType::Tree) => {
                        std::fs::create_dir_all(&path).map_err(|e| e.to_string())
                    }
                    Some(ObjectType::Blob) => entry
                        .to_object(&repo)
                        .and_then(|o| o.peel_to_blob())
                        .map_err(|e| e.message().to_string())
                        .and_then(|blob| {
                            std::fs::write(&path, blob.content()).map_err(|e| e.to_string())
                        }),
                    _ => Ok(()),
                };
                match written {
                    Ok(()) => TreeWalkResult::Ok,
                    Err(e) => {
                        failure = Some(format!("{}: {e}", path.display()));
                        TreeWalkResult::Abort
                    }
                }
            })
            .ok();
            match failure {
                Some(e) => Err(AppError::internal(e)),
                None => Ok(commit.id().to_string()),
            }
        })
        .await
        .map_err(AppError::internal)?
    }

    async fn test_connection(
        &self,
        provider: Provider,
        settings: &Fields,
        secrets: &Fields,
    ) -> Result<String, String> {
        let get = |key: &str| settings.get(key).cloned().unwrap_or_default();
        let secret = |key: &str| secrets.get(key).cloned().unwrap_or_default();
        match provider {
            Provider::LocalGit => {
                std::fs::create_dir_all(&self.local_root)
                    .map_err(|e| format!("cannot create {}: {e}", self.local_root.display()))?;
                let count = std::fs::read_dir(&self.local_root)
                    .map_err(|e| format!("cannot read {}: {e}", self.local_root.display()))?
                    .count();
                Ok(format!(
                    "Local repositories under {} ({count} organisation folders)",
                    self.local_root.display()
                ))
            }
            Provider::Github => {
                let api = get("api_url");
                let api = api.trim_end_matches('/');
                let token = secret("token");
                let github = |path: String| {
                    self.http
                        .get(format!("{api}{path}"))
                        .bearer_auth(&token)
                        .header("Accept", "application/vnd.github+json")
                        .header("X-GitHub-Api-Version", "2022-11-28")
                };
                let user: serde_json::Value =
                    json_of(self.http.send(github("/user".into())).await).await?;
                let login = user["login"].as_str().unwrap_or("?").to_string();
                let org = get("organization");
                let org_response = self.http.send(github(format!("/orgs/{org}"))).await;
                let owner_found = match org_response {
                    Ok(r) if r.status().is_success() => true,
                    Ok(r) if r.status() == reqwest::StatusCode::NOT_FOUND => {
                        matches!(self.http.send(github(format!("/users/{org}"))).await, Ok(r) if r.status().is_success())
                    }
                    Ok(r) => return Err(status_message(r.status())),
                    Err(e) => return Err(transport_message(&e)),
                };
                if !owner_found {
                    return Err(format!(
                        "signed in as {login}, but no organization or user {org:?} is visible to the token"
                    ));
                }
                Ok(format!("Connected to GitHub as {login}; {org} is visible"))
            }
            Provider::Bitbucket => {
                let api = get("api_url");
                let api = api.trim_end_matches('/');
                let auth = |r: reqwest::RequestBuilder| {
                    r.basic_auth(get("username"), Some(secret("app_password")))
                        .header("Accept", "application/json")
                };
                let user: serde_json::Value = json_of(
                    self.http
                        .send(auth(self.http.get(format!("{api}/user"))))
                        .await,
                )
                .await?;
                let name = user["username"]
                    .as_str()
                    .or(user["display_name"].as_str())
                    .unwrap_or("?")
                    .to_string();
                let workspace = get("workspace");
                let _: serde_json::Value = json_of(
                    self.http
                        .send(auth(self.http.get(format!("{api}/workspaces/{workspace}"))))
                        .await,
                )
                .await
                .map_err(|e| {
                    format!("signed in as {name}, but the workspace {workspace:?}: {e}")
                })?;
                Ok(format!(
                    "Connected to Bitbucket as {name}; workspace {workspace} is visible"
                ))
            }
            Provider::AzureDevops => {
                let org = get("organization_url");
                let org = org.trim_end_matches('/');
                let project = get("project");
                let found: serde_json::Value = json_of(
                    self.http
                        .send(
                            self.http
                                .get(format!("{org}/_apis/projects/{project}"))
                                .query(&[("api-version", "7.1")])
                                .basic_auth("", Some(secret("token")))
                                .header("Accept", "application/json"),
                        )
                        .await,
                )
                .await?;
                Ok(format!(
                    "Connected to Azure DevOps; project {} is visible",
                    found["name"].as_str().unwrap_or(&project)
                ))
            }
            other => Err(format!(
                "{} integrations have no connection test",
                other.label()
            )),
        }
    }
}

fn status_message(status: reqwest::StatusCode) -> String {
    match status.as_u16() {
        401 => "the credentials were refused (401 Unauthorized)".into(),
        403 => "the credentials lack permission, or the rate limit was hit (403 Forbidden)".into(),
        404 => "not found (404): check the URL and names".into(),
        429 => "rate limited (429 Too Many Requests); try again later".into(),
        code => format!("the server answered {code}"),
    }
}

fn transport_message(error: &super::egress::Unanswered) -> String {
    let error = match error {
        super::egress::Unanswered::Refused(why) => return why.clone(),
        super::egress::Unanswered::Failed(error) => error,
    };
    if error.is_timeout() {
        "the server did not answer in time".into()
    } else if error.is_connect() {
        "cannot connect to the server".into()
    } else {
        "the request failed before an answer came".into()
    }
}

/// The JSON body of a successful answer; anything else (an error status, a redirect to a sign-in
/// page, HTML) is a message that names what happened.
async fn json_of(
    response: Result<reqwest::Response, super::egress::Unanswered>,
) -> Result<serde_json::Value, String> {
    let response = response.map_err(|e| transport_message(&e))?;
    let status = response.status();
    if status.is_redirection() || status.as_u16() == 203 {
        return Err("the credentials were refused (redirected to a sign-in page)".into());
    }
    if !status.is_success() {
        return Err(status_message(status));
    }
    response
        .json()
        .await
        .map_err(|_| "the server's answer was not JSON".to_string())
}
