//! GitHub's REST API v3 (github.com, or GitHub Enterprise Server at `https://HOST/api/v3`) as a
//! `Forge`: repository metadata and the pull request flow. Paths, headers and bodies follow
//! docs.github.com/rest (API version 2022-11-28).

use super::forge_http::{base, existing_or, merged_or_refused, send, text, typed, Refusal};
use app::domain::workspaces::{strip_user_info, RepoConfig};
use app::server::ports::{
    approved_head, CommitStatus, ExternalError, Forge, ForgePull, ForgeRepo, ForgeRuleset, NewPull,
    PullFacts, PullState, Webhook,
};
use reqwest::Method;
use serde_json::{json, Value};

const GITHUB: &str = "GitHub";

pub struct GitHubForge {
    pub http: super::Http,
}

impl GitHubForge {
    async fn call(
        &self,
        repo: &ForgeRepo,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, Refusal> {
        let api = base(GITHUB, &repo.settings, "api_url")?;
        let token = repo
            .secrets
            .get("token")
            .ok_or_else(|| ExternalError::permanent("the GitHub integration has no token"))?;
        let mut request = self
            .http
            .request(method, format!("{api}/repos/{}{path}", repo.repository))
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28")
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        send(&self.http, GITHUB, request).await.map(|(_, v)| v)
    }
}

/// A pull request as GitHub's "Get a pull request" answers it (the fields Slipway reads).
#[derive(serde::Deserialize)]
struct Pull {
    number: i64,
    html_url: String,
    state: String,
    #[serde(default)]
    merged: Option<bool>,
    #[serde(default)]
    merged_at: Option<String>,
    head: Ref,
    base: Ref,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    merge_commit_sha: Option<String>,
}

#[derive(serde::Deserialize)]
struct Ref {
    #[serde(rename = "ref")]
    name: String,
    #[serde(default)]
    sha: Option<String>,
}

/// A repository as "Get a repository" answers it.
#[derive(serde::Deserialize)]
struct Repository {
    name: String,
    html_url: String,
    #[serde(default)]
    ssh_url: Option<String>,
    clone_url: String,
    default_branch: String,
    owner: Owner,
}

#[derive(serde::Deserialize)]
struct Owner {
    login: String,
}

fn pull_of(value: &Value) -> Result<ForgePull, ExternalError> {
    let pull: Pull = typed(GITHUB, "a pull request", value)?;
    let state = match (
        pull.state.as_str(),
        pull.merged_at.is_some() || pull.merged == Some(true),
    ) {
        (_, true) => PullState::Merged,
        ("open", _) => PullState::Open,
        _ => PullState::Closed,
    };
    Ok(ForgePull {
        number: pull.number,
        url: pull.html_url,
        state,
        head_branch: pull.head.name,
        head_commit: pull.head.sha,
        base_branch: pull.base.name,
        title: pull.title.unwrap_or_default(),
        merge_commit: pull.merge_commit_sha.filter(|_| state == PullState::Merged),
    })
}

#[async_trait::async_trait]
impl Forge for GitHubForge {
    async fn create_repository(
        &self,
        _repo: &ForgeRepo,
        _author: &str,
    ) -> Result<RepoConfig, ExternalError> {
        Err(ExternalError::permanent(
            "Slipway does not create repositories on GitHub: create it there, then register it",
        ))
    }

    async fn metadata(&self, repo: &ForgeRepo) -> Result<RepoConfig, ExternalError> {
        let value = self
            .call(repo, Method::GET, "", None)
            .await
            .map_err(|r| r.error)?;
        let repository: Repository = typed(GITHUB, "a repository", &value)?;
        Ok(RepoConfig {
            name: repository.name,
            url: repository.html_url,
            ssh_url: repository.ssh_url.unwrap_or_default(),
            https_url: strip_user_info(&repository.clone_url),
            default_branch: repository.default_branch,
            organization: repository.owner.login,
        })
    }

    async fn find_open_pull(
        &self,
        repo: &ForgeRepo,
        head_branch: &str,
    ) -> Result<Option<ForgePull>, ExternalError> {
        let owner = repo.repository.split('/').next().unwrap_or_default();
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("state", "open")
            .append_pair("head", &format!("{owner}:{head_branch}"))
            .finish();
        let value = self
            .call(repo, Method::GET, &format!("/pulls?{query}"), None)
            .await
            .map_err(|r| r.error)?;
        let pulls = value.as_array().cloned().unwrap_or_default();
        pulls
            .iter()
            .map(pull_of)
            .find(|p| p.as_ref().map_or(true, |p| p.head_branch == head_branch))
            .transpose()
    }

    async fn create_pull(
        &self,
        repo: &ForgeRepo,
        pull: &NewPull,
    ) -> Result<ForgePull, ExternalError> {
        let body = json!({
            "title": pull.title,
            "head": pull.head_branch,
            "base": pull.base_branch,
            "body": pull.body,
        });
        match self.call(repo, Method::POST, "/pulls", Some(body)).await {
            Ok(value) => pull_of(&value),
            // "A pull request already exists for OWNER:BRANCH.": a crash after creating it.
            Err(refusal) if refusal.status.as_u16() == 422 => {
                existing_or(self, repo, &pull.head_branch, refusal).await
            }
            Err(refusal) => Err(refusal.error),
        }
    }

    async fn get_pull(&self, repo: &ForgeRepo, number: i64) -> Result<ForgePull, ExternalError> {
        let value = self
            .call(repo, Method::GET, &format!("/pulls/{number}"), None)
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
        if let Some(merged) = merged_or_refused(GITHUB, pull, "closed")? {
            return Ok(merged);
        }
        approved_head(number, head.as_deref(), approved)?;
        let (title, body) = message.split_once("\n\n").unwrap_or((message, ""));
        // `sha`: GitHub itself refuses (409) if the head moves between the check and the merge.
        let request = json!({
            "commit_title": title,
            "commit_message": body,
            "merge_method": "merge",
            "sha": approved,
        });
        self.call(
            repo,
            Method::PUT,
            &format!("/pulls/{number}/merge"),
            Some(request),
        )
        .await
        .map_err(|r| r.error)?;
        self.get_pull(repo, number).await
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
                &format!("/pulls/{number}"),
                Some(json!({ "state": "closed" })),
            )
            .await
            .map_err(|r| r.error)?;
        pull_of(&value)
    }

    async fn pull_facts(&self, repo: &ForgeRepo, number: i64) -> Result<PullFacts, ExternalError> {
        let pull = self
            .call(repo, Method::GET, &format!("/pulls/{number}"), None)
            .await
            .map_err(|r| r.error)?;
        // GitHub lists at most 250 commits of a pull request, 100 a page.
        let mut commits = Vec::new();
        let mut listed = 0;
        for page in 1..=3 {
            let value = self
                .call(
                    repo,
                    Method::GET,
                    &format!("/pulls/{number}/commits?per_page=100&page={page}"),
                    None,
                )
                .await
                .map_err(|r| r.error)?;
            let items = value.as_array().cloned().unwrap_or_default();
            listed += items.len();
            for item in &items {
                let parents = item
                    .get("parents")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                if parents <= 1 {
                    commits.push((
                        text(GITHUB, item, "/sha")?,
                        text(GITHUB, item, "/commit/message")?,
                    ));
                }
            }
            if items.len() < 100 {
                break;
            }
        }
        // Reviews in order: each reviewer's latest approving or changes-requesting review counts.
        let mut latest: Vec<(String, String)> = Vec::new();
        for page in 1..=10 {
            let value = self
                .call(
                    repo,
                    Method::GET,
                    &format!("/pulls/{number}/reviews?per_page=100&page={page}"),
                    None,
                )
                .await
                .map_err(|r| r.error)?;
            let items = value.as_array().cloned().unwrap_or_default();
            for review in &items {
                let (Ok(login), Ok(state)) = (
                    text(GITHUB, review, "/user/login"),
                    text(GITHUB, review, "/state"),
                ) else {
                    continue;
                };
                if !matches!(
                    state.as_str(),
                    "APPROVED" | "CHANGES_REQUESTED" | "DISMISSED"
                ) {
                    continue;
                }
                match latest.iter_mut().find(|(l, _)| *l == login) {
                    Some(entry) => entry.1 = state,
                    None => latest.push((login, state)),
                }
            }
            if items.len() < 100 {
                break;
            }
        }
        Ok(PullFacts {
            title: text(GITHUB, &pull, "/title")?,
            head_branch: text(GITHUB, &pull, "/head/ref")?,
            base_branch: text(GITHUB, &pull, "/base/ref")?,
            head_sha: text(GITHUB, &pull, "/head/sha")?,
            author: text(GITHUB, &pull, "/user/login")?,
            commits,
            approvers: latest
                .into_iter()
                .filter(|(_, state)| state == "APPROVED")
                .map(|(login, _)| login)
                .collect(),
            truncated: listed >= 250,
        })
    }

    async fn post_status(
        &self,
        repo: &ForgeRepo,
        status: &CommitStatus,
    ) -> Result<(), ExternalError> {
        let description: String = status.description.chars().take(140).collect();
        self.call(
            repo,
            Method::POST,
            &format!("/statuses/{}", status.sha),
            Some(json!({
                "state": if status.success { "success" } else { "failure" },
                "target_url": status.target_url,
                "description": description,
                "context": status.context,
            })),
        )
        .await
        .map(|_| ())
        .map_err(|r| r.error)
    }

    async fn rulesets(&self, repo: &ForgeRepo) -> Result<Vec<ForgeRuleset>, ExternalError> {
        let mut found = Vec::new();
        for page in 1..=10 {
            let value = self
                .call(
                    repo,
                    Method::GET,
                    &format!("/rulesets?includes_parents=false&per_page=100&page={page}"),
                    None,
                )
                .await
                .map_err(|r| r.error)?;
            let items = value.as_array().cloned().unwrap_or_default();
            for item in &items {
                // The list leaves out conditions and rules: each is read whole.
                let id = item.get("id").and_then(Value::as_i64).ok_or_else(|| {
                    ExternalError::permanent("GitHub listed a ruleset without an id")
                })?;
                let body = self
                    .call(repo, Method::GET, &format!("/rulesets/{id}"), None)
                    .await
                    .map_err(|r| r.error)?;
                found.push(ForgeRuleset {
                    id,
                    name: text(GITHUB, &body, "/name")?,
                    body,
                });
            }
            if items.len() < 100 {
                break;
            }
        }
        Ok(found)
    }

    async fn save_ruleset(
        &self,
        repo: &ForgeRepo,
        id: Option<i64>,
        body: &Value,
    ) -> Result<(), ExternalError> {
        let (method, path) = match id {
            None => (Method::POST, "/rulesets".to_string()),
            Some(id) => (Method::PUT, format!("/rulesets/{id}")),
        };
        self.call(repo, method, &path, Some(body.clone()))
            .await
            .map(|_| ())
            .map_err(|r| r.error)
    }

    async fn delete_ruleset(&self, repo: &ForgeRepo, id: i64) -> Result<(), ExternalError> {
        match self
            .call(repo, Method::DELETE, &format!("/rulesets/{id}"), None)
            .await
        {
            // Already gone: a retry after a crash.
            Err(refusal) if refusal.status.as_u16() == 404 => Ok(()),
            other => other.map(|_| ()).map_err(|r| r.error),
        }
    }

    async fn ensure_webhook(
        &self,
        repo: &ForgeRepo,
        hook: &Webhook,
    ) -> Result<bool, ExternalError> {
        let value = self
            .call(repo, Method::GET, "/hooks?per_page=100", None)
            .await
            .map_err(|r| r.error)?;
        let config = json!({
            "url": hook.url,
            "content_type": "json",
            "insecure_ssl": "0",
            "secret": hook.secret,
        });
        // Slipway's hook is the one at its address, whatever the query (the secret's
        // fingerprint) it was written with.
        let address = |url: &str| url.split('?').next().unwrap_or_default().to_string();
        let existing = value.as_array().into_iter().flatten().find(|h| {
            h.pointer("/config/url")
                .and_then(Value::as_str)
                .is_some_and(|url| address(url) == address(&hook.url))
        });
        let Some(existing) = existing else {
            self.call(
                repo,
                Method::POST,
                "/hooks",
                Some(json!({
                    "name": "web",
                    "active": true,
                    "events": hook.events,
                    "config": config,
                })),
            )
            .await
            .map_err(|r| r.error)?;
            return Ok(true);
        };
        // GitHub never shows a secret back: the address carries the secret's fingerprint, so a
        // hook with the very address, the events, JSON and verified TLS has the current secret.
        let events: Vec<&str> = existing
            .get("events")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let in_place = existing.get("active").and_then(Value::as_bool) == Some(true)
            && existing.pointer("/config/url").and_then(Value::as_str) == Some(hook.url.as_str())
            && hook.events.iter().all(|e| events.contains(&e.as_str()))
            && existing
                .pointer("/config/content_type")
                .and_then(Value::as_str)
                == Some("json")
            && existing
                .pointer("/config/insecure_ssl")
                .and_then(Value::as_str)
                == Some("0");
        if in_place {
            return Ok(false);
        }
        let id = existing
            .get("id")
            .and_then(Value::as_i64)
            .ok_or_else(|| ExternalError::permanent("GitHub listed a webhook without an id"))?;
        self.call(
            repo,
            Method::PATCH,
            &format!("/hooks/{id}"),
            Some(json!({ "active": true, "events": hook.events, "config": config })),
        )
        .await
        .map_err(|r| r.error)?;
        Ok(true)
    }

    /// Issue comments (a pull request is an issue): listed a page of 100 at a time, the one
    /// holding `marker` edited, or one added.
    async fn upsert_comment(
        &self,
        repo: &ForgeRepo,
        number: i64,
        marker: &str,
        body: &str,
    ) -> Result<(), ExternalError> {
        for page in 1..=50 {
            let listed = self
                .call(
                    repo,
                    Method::GET,
                    &format!("/issues/{number}/comments?per_page=100&page={page}"),
                    None,
                )
                .await
                .map_err(|r| r.error)?;
            let comments = listed.as_array().cloned().unwrap_or_default();
            if let Some(id) = comments
                .iter()
                .find(|c| c["body"].as_str().is_some_and(|b| b.contains(marker)))
                .and_then(|c| c["id"].as_i64())
            {
                self.call(
                    repo,
                    Method::PATCH,
                    &format!("/issues/comments/{id}"),
                    Some(json!({ "body": body })),
                )
                .await
                .map_err(|r| r.error)?;
                return Ok(());
            }
            if comments.len() < 100 {
                break;
            }
        }
        self.call(
            repo,
            Method::POST,
            &format!("/issues/{number}/comments"),
            Some(json!({ "body": body })),
        )
        .await
        .map_err(|r| r.error)?;
        Ok(())
    }
}
