//! Azure DevOps' Git REST API 7.1 as a `Forge`: repository metadata and pull requests
//! (complete, abandon), with a personal access token over basic auth. Repositories are
//! `ORGANIZATION/PROJECT/REPOSITORY`; the integration's organization URL is the API's base.
//! Paths and bodies follow learn.microsoft.com/rest/api/azure/devops/git (api-version=7.1).

use super::forge_http::{base, existing_or, follow_merge, merged_or_refused, send, typed, Refusal};
use app::domain::workspaces::{strip_user_info, RepoConfig};
use app::server::ports::{
    approved_head, ExternalError, Forge, ForgePull, ForgeRepo, NewPull, PullState,
};
use reqwest::Method;
use serde_json::{json, Value};

const AZURE: &str = "Azure DevOps";
const API_VERSION: &str = "api-version=7.1";

pub struct AzureDevOpsForge {
    pub http: super::Http,
}

/// (organization, project, repository) of `ORGANIZATION/PROJECT/REPOSITORY`.
fn parts(repo: &ForgeRepo) -> Result<(&str, &str, &str), ExternalError> {
    let mut it = repo.repository.splitn(3, '/');
    match (it.next(), it.next(), it.next()) {
        (Some(o), Some(p), Some(r)) => Ok((o, p, r)),
        _ => Err(ExternalError::permanent(
            "an Azure DevOps repository is ORGANIZATION/PROJECT/REPOSITORY",
        )),
    }
}

impl AzureDevOpsForge {
    async fn call(
        &self,
        repo: &ForgeRepo,
        method: Method,
        path: &str,
        query: &str,
        body: Option<Value>,
    ) -> Result<Value, Refusal> {
        let organization_url = base(AZURE, &repo.settings, "organization_url")?;
        let (_, project, name) = parts(repo)?;
        let token = repo
            .secrets
            .get("token")
            .ok_or_else(|| ExternalError::permanent("the Azure DevOps integration has no token"))?;
        let separator = if query.is_empty() { "" } else { "&" };
        let mut request = self
            .http
            .request(
                method,
                format!("{organization_url}/{project}/_apis/git/repositories/{name}{path}?{query}{separator}{API_VERSION}"),
            )
            .header("Accept", "application/json")
            // A PAT travels as the password of basic auth with an empty user name.
            .basic_auth("", Some(token));
        if let Some(body) = body {
            request = request.json(&body);
        }
        send(&self.http, AZURE, request).await.map(|(_, v)| v)
    }
}

fn branch(reference: &str) -> String {
    reference
        .strip_prefix("refs/heads/")
        .unwrap_or(reference)
        .to_string()
}

/// A pull request as Azure DevOps' Git REST API 7.1 answers it (the fields Slipway reads).
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Pull {
    pull_request_id: i64,
    status: String,
    repository: PullRepository,
    source_ref_name: String,
    target_ref_name: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    last_merge_source_commit: Option<Commit>,
    #[serde(default)]
    last_merge_commit: Option<Commit>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct PullRepository {
    web_url: String,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Commit {
    commit_id: String,
}

/// A repository as `GET …/_apis/git/repositories/{repositoryId}` answers it.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Repository {
    name: String,
    web_url: String,
    #[serde(default)]
    ssh_url: Option<String>,
    remote_url: String,
    default_branch: String,
}

fn pull_of(value: &Value) -> Result<ForgePull, ExternalError> {
    let pull: Pull = typed(AZURE, "a pull request", value)?;
    let state = match pull.status.as_str() {
        "active" => PullState::Open,
        "completed" => PullState::Merged,
        _ => PullState::Closed,
    };
    Ok(ForgePull {
        number: pull.pull_request_id,
        url: format!(
            "{}/pullrequest/{}",
            pull.repository.web_url, pull.pull_request_id
        ),
        state,
        head_branch: branch(&pull.source_ref_name),
        head_commit: pull.last_merge_source_commit.map(|c| c.commit_id),
        base_branch: branch(&pull.target_ref_name),
        title: pull.title.unwrap_or_default(),
        merge_commit: pull
            .last_merge_commit
            .map(|c| c.commit_id)
            .filter(|_| state == PullState::Merged),
    })
}

#[async_trait::async_trait]
impl Forge for AzureDevOpsForge {
    async fn create_repository(
        &self,
        _repo: &ForgeRepo,
        _author: &str,
    ) -> Result<RepoConfig, ExternalError> {
        Err(ExternalError::permanent(
            "Slipway does not create repositories on Azure DevOps: create it there, then register it",
        ))
    }

    async fn metadata(&self, repo: &ForgeRepo) -> Result<RepoConfig, ExternalError> {
        let value = self
            .call(repo, Method::GET, "", "", None)
            .await
            .map_err(|r| r.error)?;
        let (organization, _, _) = parts(repo)?;
        let repository: Repository = typed(AZURE, "a repository", &value)?;
        Ok(RepoConfig {
            name: repository.name,
            url: repository.web_url,
            ssh_url: repository.ssh_url.unwrap_or_default(),
            https_url: strip_user_info(&repository.remote_url),
            default_branch: branch(&repository.default_branch),
            organization: organization.to_string(),
        })
    }

    async fn find_open_pull(
        &self,
        repo: &ForgeRepo,
        head_branch: &str,
    ) -> Result<Option<ForgePull>, ExternalError> {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair(
                "searchCriteria.sourceRefName",
                &format!("refs/heads/{head_branch}"),
            )
            .append_pair("searchCriteria.status", "active")
            .finish();
        let value = self
            .call(repo, Method::GET, "/pullrequests", &query, None)
            .await
            .map_err(|r| r.error)?;
        let values = value
            .get("value")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        values
            .iter()
            .map(pull_of)
            .find(|p| {
                p.as_ref().map_or(true, |p| {
                    p.head_branch == head_branch && p.state == PullState::Open
                })
            })
            .transpose()
    }

    async fn create_pull(
        &self,
        repo: &ForgeRepo,
        pull: &NewPull,
    ) -> Result<ForgePull, ExternalError> {
        let body = json!({
            "sourceRefName": format!("refs/heads/{}", pull.head_branch),
            "targetRefName": format!("refs/heads/{}", pull.base_branch),
            "title": pull.title,
            // Azure DevOps keeps at most 4,000 characters of a description.
            "description": pull.body.chars().take(4000).collect::<String>(),
        });
        match self
            .call(repo, Method::POST, "/pullrequests", "", Some(body))
            .await
        {
            Ok(value) => pull_of(&value),
            // TF401179: an active pull request for the source and target branch already exists.
            Err(refusal) if refusal.status.as_u16() == 409 => {
                existing_or(self, repo, &pull.head_branch, refusal).await
            }
            Err(refusal) => Err(refusal.error),
        }
    }

    async fn get_pull(&self, repo: &ForgeRepo, number: i64) -> Result<ForgePull, ExternalError> {
        let value = self
            .call(
                repo,
                Method::GET,
                &format!("/pullrequests/{number}"),
                "",
                None,
            )
            .await
            .map_err(|r| r.error)?;
        pull_of(&value)
    }

    async fn merge_pull(
        &self,
        repo: &ForgeRepo,
        number: i64,
        message: &str,
        approved: &str,
    ) -> Result<ForgePull, ExternalError> {
        let current = self
            .call(
                repo,
                Method::GET,
                &format!("/pullrequests/{number}"),
                "",
                None,
            )
            .await
            .map_err(|r| r.error)?;
        let pull = pull_of(&current)?;
        let pull_head = pull.head_commit.clone();
        if let Some(merged) = merged_or_refused(AZURE, pull, "abandoned")? {
            return Ok(merged);
        }
        approved_head(number, pull_head.as_deref(), approved)?;
        // Azure DevOps completes only if the source is still this commit.
        let body = json!({
            "status": "completed",
            "lastMergeSourceCommit": { "commitId": approved },
            "completionOptions": {
                "mergeStrategy": "noFastForward",
                "mergeCommitMessage": message,
                "deleteSourceBranch": false,
            },
        });
        let value = self
            .call(
                repo,
                Method::PATCH,
                &format!("/pullrequests/{number}"),
                "",
                Some(body),
            )
            .await
            .map_err(|r| r.error)?;
        let pull = pull_of(&value)?;
        if pull.state != PullState::Open {
            return Ok(pull);
        }
        // Completion runs in the background; follow the pull request until it is done.
        follow_merge(self, AZURE, repo, number).await
    }

    async fn close_pull(&self, repo: &ForgeRepo, number: i64) -> Result<ForgePull, ExternalError> {
        let pull = self.get_pull(repo, number).await?;
        if pull.state != PullState::Open {
            return Ok(pull);
        }
        let value = self
            .call(
                repo,
                Method::PATCH,
                &format!("/pullrequests/{number}"),
                "",
                Some(json!({ "status": "abandoned" })),
            )
            .await
            .map_err(|r| r.error)?;
        pull_of(&value)
    }

    /// Pull request threads: the thread whose comment holds `marker` has that comment
    /// updated, or a new active thread is started with it.
    async fn upsert_comment(
        &self,
        repo: &ForgeRepo,
        number: i64,
        marker: &str,
        body: &str,
    ) -> Result<(), ExternalError> {
        let listed = self
            .call(
                repo,
                Method::GET,
                &format!("/pullRequests/{number}/threads"),
                "",
                None,
            )
            .await
            .map_err(|r| r.error)?;
        let threads = listed["value"].as_array().cloned().unwrap_or_default();
        let found = threads.iter().find_map(|thread| {
            let comment = thread["comments"]
                .as_array()?
                .iter()
                .find(|c| c["content"].as_str().is_some_and(|b| b.contains(marker)))?;
            Some((thread["id"].as_i64()?, comment["id"].as_i64()?))
        });
        match found {
            Some((thread, comment)) => self
                .call(
                    repo,
                    Method::PATCH,
                    &format!("/pullRequests/{number}/threads/{thread}/comments/{comment}"),
                    "",
                    Some(json!({ "content": body })),
                )
                .await
                .map(|_| ())
                .map_err(|r| r.error),
            None => self
                .call(
                    repo,
                    Method::POST,
                    &format!("/pullRequests/{number}/threads"),
                    "",
                    Some(json!({
                        "comments": [{ "parentCommentId": 0, "content": body, "commentType": 1 }],
                        "status": 1,
                    })),
                )
                .await
                .map(|_| ())
                .map_err(|r| r.error),
        }
    }
}
