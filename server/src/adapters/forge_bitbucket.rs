//! Bitbucket Cloud's REST API 2.0 as a `Forge`: repository metadata and pull requests (merge,
//! decline), with an app password over basic auth. Paths and bodies follow
//! developer.atlassian.com/cloud/bitbucket/rest.

use super::forge_http::{base, existing_or, follow_merge, merged_or_refused, send, typed, Refusal};
use app::domain::workspaces::{strip_user_info, RepoConfig};
use app::server::ports::{
    approved_head, ExternalError, Forge, ForgePull, ForgeRepo, NewPull, PullState,
};
use reqwest::Method;
use serde_json::{json, Value};

const BITBUCKET: &str = "Bitbucket";

pub struct BitbucketForge {
    pub http: super::Http,
}

impl BitbucketForge {
    async fn call(
        &self,
        repo: &ForgeRepo,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value), Refusal> {
        let api = base(BITBUCKET, &repo.settings, "api_url")?;
        let user = repo
            .settings
            .get("username")
            .ok_or_else(|| ExternalError::permanent("the Bitbucket integration has no username"))?;
        let password = repo.secrets.get("app_password").ok_or_else(|| {
            ExternalError::permanent("the Bitbucket integration has no app password")
        })?;
        let mut request = self
            .http
            .request(
                method,
                format!("{api}/repositories/{}{path}", repo.repository),
            )
            .header("Accept", "application/json")
            .basic_auth(user, Some(password));
        if let Some(body) = body {
            request = request.json(&body);
        }
        send(&self.http, BITBUCKET, request)
            .await
            .map(|(s, v)| (s.as_u16(), v))
    }
}

/// A pull request as Bitbucket Cloud's API 2.0 answers it (the fields Slipway reads).
#[derive(serde::Deserialize)]
struct Pull {
    id: i64,
    state: String,
    links: Links,
    source: End,
    destination: End,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    merge_commit: Option<Commit>,
}

#[derive(serde::Deserialize)]
struct Links {
    html: Link,
    #[serde(default)]
    clone: Vec<NamedLink>,
}

#[derive(serde::Deserialize)]
struct Link {
    href: String,
}

#[derive(serde::Deserialize)]
struct NamedLink {
    name: String,
    href: String,
}

/// A pull request's source or destination: a branch, and (for the source) its commit.
#[derive(serde::Deserialize)]
struct End {
    branch: Named,
    #[serde(default)]
    commit: Option<Commit>,
}

#[derive(serde::Deserialize)]
struct Named {
    name: String,
}

#[derive(serde::Deserialize)]
struct Commit {
    hash: String,
}

/// A repository as `GET /repositories/{workspace}/{repo_slug}` answers it.
#[derive(serde::Deserialize)]
struct Repository {
    name: String,
    links: Links,
    mainbranch: Named,
    workspace: Workspace,
}

#[derive(serde::Deserialize)]
struct Workspace {
    slug: String,
}

fn pull_of(value: &Value) -> Result<ForgePull, ExternalError> {
    let pull: Pull = typed(BITBUCKET, "a pull request", value)?;
    let state = match pull.state.as_str() {
        "OPEN" => PullState::Open,
        "MERGED" => PullState::Merged,
        // DECLINED, SUPERSEDED
        _ => PullState::Closed,
    };
    Ok(ForgePull {
        number: pull.id,
        url: pull.links.html.href,
        state,
        head_branch: pull.source.branch.name,
        head_commit: pull.source.commit.map(|c| c.hash),
        base_branch: pull.destination.branch.name,
        title: pull.title.unwrap_or_default(),
        merge_commit: pull.merge_commit.map(|c| c.hash),
    })
}

#[async_trait::async_trait]
impl Forge for BitbucketForge {
    async fn create_repository(
        &self,
        _repo: &ForgeRepo,
        _author: &str,
    ) -> Result<RepoConfig, ExternalError> {
        Err(ExternalError::permanent(
            "Slipway does not create repositories on Bitbucket: create it there, then register it",
        ))
    }

    async fn metadata(&self, repo: &ForgeRepo) -> Result<RepoConfig, ExternalError> {
        let (_, value) = self
            .call(repo, Method::GET, "", None)
            .await
            .map_err(|r| r.error)?;
        let repository: Repository = typed(BITBUCKET, "a repository", &value)?;
        let clone = |kind: &str| {
            repository
                .links
                .clone
                .iter()
                .find(|l| l.name == kind)
                .map(|l| l.href.clone())
        };
        Ok(RepoConfig {
            ssh_url: clone("ssh").unwrap_or_default(),
            https_url: strip_user_info(&clone("https").ok_or_else(|| {
                ExternalError::permanent("Bitbucket answered without an HTTPS clone link")
            })?),
            name: repository.name,
            url: repository.links.html.href,
            default_branch: repository.mainbranch.name,
            organization: repository.workspace.slug,
        })
    }

    async fn find_open_pull(
        &self,
        repo: &ForgeRepo,
        head_branch: &str,
    ) -> Result<Option<ForgePull>, ExternalError> {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("state", "OPEN")
            .append_pair("q", &format!("source.branch.name = \"{head_branch}\""))
            .finish();
        let (_, value) = self
            .call(repo, Method::GET, &format!("/pullrequests?{query}"), None)
            .await
            .map_err(|r| r.error)?;
        let values = value
            .get("values")
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
            "title": pull.title,
            "description": pull.body,
            "source": { "branch": { "name": pull.head_branch } },
            "destination": { "branch": { "name": pull.base_branch } },
            "close_source_branch": true,
        });
        match self
            .call(repo, Method::POST, "/pullrequests", Some(body))
            .await
        {
            Ok((_, value)) => pull_of(&value),
            // Bitbucket refuses a second open pull request for a branch pair (400/409).
            Err(refusal) if matches!(refusal.status.as_u16(), 400 | 409) => {
                existing_or(self, repo, &pull.head_branch, refusal).await
            }
            Err(refusal) => Err(refusal.error),
        }
    }

    async fn get_pull(&self, repo: &ForgeRepo, number: i64) -> Result<ForgePull, ExternalError> {
        let (_, value) = self
            .call(repo, Method::GET, &format!("/pullrequests/{number}"), None)
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
        let pull = self.get_pull(repo, number).await?;
        let head = pull.head_commit.clone();
        if let Some(merged) = merged_or_refused(BITBUCKET, pull, "declined")? {
            return Ok(merged);
        }
        // Bitbucket's merge takes no expected head: checked just before (a push in between is
        // the window Bitbucket leaves; its branch restrictions should forbid pushes by people).
        approved_head(number, head.as_deref(), approved)?;
        let body = json!({
            "type": "pullrequest",
            "message": message,
            "merge_strategy": "merge_commit",
            "close_source_branch": true,
        });
        let (status, value) = self
            .call(
                repo,
                Method::POST,
                &format!("/pullrequests/{number}/merge"),
                Some(body),
            )
            .await
            .map_err(|r| r.error)?;
        if status != 202 {
            return pull_of(&value);
        }
        // 202: Bitbucket merges in the background; follow the pull request until it is done.
        follow_merge(self, BITBUCKET, repo, number).await
    }

    async fn close_pull(&self, repo: &ForgeRepo, number: i64) -> Result<ForgePull, ExternalError> {
        let pull = self.get_pull(repo, number).await?;
        if pull.state != PullState::Open {
            return Ok(pull);
        }
        let (_, value) = self
            .call(
                repo,
                Method::POST,
                &format!("/pullrequests/{number}/decline"),
                None,
            )
            .await
            .map_err(|r| r.error)?;
        pull_of(&value)
    }

    /// Pull request comments (`content.raw` is Markdown): listed a page of 100 at a time, the
    /// one holding `marker` updated, or one added.
    async fn upsert_comment(
        &self,
        repo: &ForgeRepo,
        number: i64,
        marker: &str,
        body: &str,
    ) -> Result<(), ExternalError> {
        let content = json!({ "content": { "raw": body } });
        for page in 1..=50 {
            let (_, listed) = self
                .call(
                    repo,
                    Method::GET,
                    &format!("/pullrequests/{number}/comments?pagelen=100&page={page}"),
                    None,
                )
                .await
                .map_err(|r| r.error)?;
            let comments = listed["values"].as_array().cloned().unwrap_or_default();
            if let Some(id) = comments
                .iter()
                .find(|c| {
                    c.pointer("/content/raw")
                        .and_then(Value::as_str)
                        .is_some_and(|b| b.contains(marker))
                })
                .and_then(|c| c["id"].as_i64())
            {
                self.call(
                    repo,
                    Method::PUT,
                    &format!("/pullrequests/{number}/comments/{id}"),
                    Some(content),
                )
                .await
                .map_err(|r| r.error)?;
                return Ok(());
            }
            if listed["next"].is_null() {
                break;
            }
        }
        self.call(
            repo,
            Method::POST,
            &format!("/pullrequests/{number}/comments"),
            Some(content),
        )
        .await
        .map_err(|r| r.error)?;
        Ok(())
    }
}
