//! The source repositories' port: refresh, read a module, export its files, and test a connection
//! against each forge's "who am I" endpoint.

use super::*;

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
        let access = Credentials { settings, secrets };
        match provider {
            Provider::LocalGit => self.test_local(),
            Provider::Github => self.test_github(&access).await,
            Provider::Bitbucket => self.test_bitbucket(&access).await,
            Provider::AzureDevops => self.test_azure_devops(&access).await,
            other => Err(format!(
                "{} integrations have no connection test",
                other.label()
            )),
        }
    }
}

/// An integration's fields as a connection test reads them (a missing one reads empty).
struct Credentials<'a> {
    settings: &'a Fields,
    secrets: &'a Fields,
}

impl Credentials<'_> {
    fn setting(&self, key: &str) -> String {
        self.settings.get(key).cloned().unwrap_or_default()
    }

    fn secret(&self, key: &str) -> String {
        self.secrets.get(key).cloned().unwrap_or_default()
    }
}

/// GitHub's `GET /user`.
#[derive(serde::Deserialize)]
struct GithubUser {
    login: String,
}

/// Bitbucket Cloud's `GET /user`.
#[derive(serde::Deserialize)]
struct BitbucketUser {
    username: Option<String>,
    display_name: Option<String>,
}

/// Bitbucket Cloud's `GET /workspaces/{workspace}`, read only to see that it answers.
#[derive(serde::Deserialize)]
struct BitbucketWorkspace {}

/// Azure DevOps's `GET {organization}/_apis/projects/{project}`.
#[derive(serde::Deserialize)]
struct AzureProject {
    name: Option<String>,
}

impl GitSources {
    fn test_local(&self) -> Result<String, String> {
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

    /// Who the token signs in as, and that the organization (or user) it names is visible.
    async fn test_github(&self, access: &Credentials<'_>) -> Result<String, String> {
        let api = access.setting("api_url");
        let api = api.trim_end_matches('/');
        let token = access.secret("token");
        let github = |path: String| {
            self.http
                .get(format!("{api}{path}"))
                .bearer_auth(&token)
                .header("Accept", "application/vnd.github+json")
                .header("X-GitHub-Api-Version", "2022-11-28")
        };
        let user: GithubUser = json_of(self.http.send(github("/user".into())).await).await?;
        let login = user.login;
        let org = access.setting("organization");
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

    /// Who the app password signs in as, and that the workspace is visible to it.
    async fn test_bitbucket(&self, access: &Credentials<'_>) -> Result<String, String> {
        let api = access.setting("api_url");
        let api = api.trim_end_matches('/');
        let auth = |r: reqwest::RequestBuilder| {
            r.basic_auth(
                access.setting("username"),
                Some(access.secret("app_password")),
            )
            .header("Accept", "application/json")
        };
        let user: BitbucketUser = json_of(
            self.http
                .send(auth(self.http.get(format!("{api}/user"))))
                .await,
        )
        .await?;
        let name = user
            .username
            .or(user.display_name)
            .unwrap_or_else(|| "?".into());
        let workspace = access.setting("workspace");
        let _: BitbucketWorkspace = json_of(
            self.http
                .send(auth(self.http.get(format!("{api}/workspaces/{workspace}"))))
                .await,
        )
        .await
        .map_err(|e| format!("signed in as {name}, but the workspace {workspace:?}: {e}"))?;
        Ok(format!(
            "Connected to Bitbucket as {name}; workspace {workspace} is visible"
        ))
    }

    /// That the project answers to the token.
    async fn test_azure_devops(&self, access: &Credentials<'_>) -> Result<String, String> {
        let org = access.setting("organization_url");
        let org = org.trim_end_matches('/');
        let project = access.setting("project");
        let found: AzureProject = json_of(
            self.http
                .send(
                    self.http
                        .get(format!("{org}/_apis/projects/{project}"))
                        .query(&[("api-version", "7.1")])
                        .basic_auth("", Some(access.secret("token")))
                        .header("Accept", "application/json"),
                )
                .await,
        )
        .await?;
        Ok(format!(
            "Connected to Azure DevOps; project {} is visible",
            found.name.unwrap_or(project)
        ))
    }
}

pub(super) fn status_message(status: reqwest::StatusCode) -> String {
    match status.as_u16() {
        401 => "the credentials were refused (401 Unauthorized)".into(),
        403 => "the credentials lack permission, or the rate limit was hit (403 Forbidden)".into(),
        404 => "not found (404): check the URL and names".into(),
        429 => "rate limited (429 Too Many Requests); try again later".into(),
        code => format!("the server answered {code}"),
    }
}

pub(super) fn transport_message(error: &crate::adapters::egress::Unanswered) -> String {
    let error = match error {
        crate::adapters::egress::Unanswered::Refused(why) => return why.clone(),
        crate::adapters::egress::Unanswered::Failed(error) => error,
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
pub(super) async fn json_of<T: serde::de::DeserializeOwned>(
    response: Result<reqwest::Response, crate::adapters::egress::Unanswered>,
) -> Result<T, String> {
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
