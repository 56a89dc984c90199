//! Governed repositories on GitHub: signed webhooks queue the Merge Authorized check, posted as a commit status.

use super::*;

/// The governed repository a GitHub repository is, if any: named alike, its manifests naming
/// the integration as their `github-connection`.
pub(crate) async fn governed_on_github<C: ConnectionTrait>(
    db: &C,
    integration: &str,
    repository: &str,
) -> AppResult<Option<Target>> {
    let Some((_, name)) = repository.split_once('/') else {
        return Ok(None);
    };
    let Ok(t) = target(db, name).await else {
        return Ok(None);
    };
    let connected =
        t.manifests.repository.metadata.github_connection.as_deref() == Some(integration);
    Ok(connected.then_some(t))
}

/// Merge Authorized over what GitHub reports of a pull request; a pull request with more
/// commits than GitHub lists fails, since the rest could not be checked.
fn verdict_of(strategy: Strategy, facts: &PullFacts) -> crate::domain::branching::Verdict {
    let mut verdict = authorize(
        strategy,
        &PullRequestFacts {
            source: facts.head_branch.clone(),
            target: facts.base_branch.clone(),
            title: facts.title.clone(),
            commits: facts.commits.clone(),
            author: facts.author.clone(),
            approvers: facts.approvers.clone(),
            method: None,
        },
    );
    if facts.truncated {
        verdict.checks.push(crate::domain::branching::Check {
            rule: crate::domain::branching::Rule::CommitMessages,
            passed: false,
            detail: "GitHub lists only 250 commits of a pull request: too many to check; split it"
                .into(),
        });
    }
    verdict
}

/// Evaluates Merge Authorized for a GitHub pull request with what GitHub reports (commits,
/// reviews) and posts the verdict as the pull request head's commit status. A repository Slipway
/// does not govern (or has not applied) gets nothing.
pub async fn check_github_pull(
    ctx: &AppCtx,
    event: &PullEvent,
    say: &(dyn Fn(String) + Send + Sync),
) -> Result<(), crate::server::ports::ExternalError> {
    use crate::server::ports::{CommitStatus, ExternalError};
    let internal = |e: AppError| ExternalError::transient(e.to_string());
    let Some(t) = governed_on_github(&ctx.db, &event.integration, &event.repository)
        .await
        .map_err(internal)?
    else {
        say(format!(
            "{} is not a governed repository: nothing to check",
            event.repository
        ));
        return Ok(());
    };
    // The applied revision's strategy is the one the rulesets enforce; before the first apply
    // the saved manifests decide.
    let strategy = strategy_in_force(&ctx.db, &t)
        .await
        .map_err(internal)?
        .unwrap_or(t.manifests.repository.strategy);
    let integration = t.github.as_ref().ok_or_else(|| {
        ExternalError::permanent(format!("the integration {} is gone", event.integration))
    })?;
    let repo =
        crate::server::workspaces::forge_repo(ctx, &ctx.db, integration.id, &event.repository)
            .await
            .map_err(internal)?;
    let facts = ctx.forge.pull_facts(&repo, event.number).await?;
    if facts.head_sha.len() != 40 || !facts.head_sha.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(ExternalError::permanent(format!(
            "GitHub gave {:?} as the head commit",
            facts.head_sha
        )));
    }
    let verdict = verdict_of(strategy, &facts);
    for check in &verdict.checks {
        say(format!(
            "{} {}: {}",
            if check.passed { "pass" } else { "FAIL" },
            check.rule.as_str(),
            check.detail
        ));
    }
    ctx.forge
        .post_status(
            &repo,
            &CommitStatus {
                sha: facts.head_sha.clone(),
                success: verdict.allowed(),
                context: crate::domain::branching::MERGE_AUTHORIZED.into(),
                description: verdict.summary(),
                target_url: format!(
                    "{}/repositories/{}",
                    ctx.portal.public_url.trim_end_matches('/'),
                    t.model.name
                ),
            },
        )
        .await?;
    say(format!(
        "posted {} on {} ({}#{})",
        if verdict.allowed() {
            "success"
        } else {
            "failure"
        },
        &facts.head_sha[..7],
        event.repository,
        event.number
    ));
    Ok(())
}

/// The GitHub integration whose webhook secret signed `body` (checked on the raw body, before
/// anything reads it), with the organization it is for: (slug, organization).
pub async fn webhook_integration(
    ctx: &AppCtx,
    body: &[u8],
    signature: &str,
) -> AppResult<Option<(String, String)>> {
    if !signature.starts_with("sha256=") {
        return Ok(None);
    }
    let candidates = crate::server::entities::integrations::Entity::find()
        .filter(
            crate::server::entities::integrations::Column::Provider.eq(Provider::Github.as_str()),
        )
        .all(&ctx.db)
        .await?;
    for candidate in candidates {
        let row = crate::server::integrations::row(&candidate)?;
        let organization = row
            .settings
            .get("organization")
            .cloned()
            .unwrap_or_default();
        let secrets =
            crate::server::integrations::open_secrets(&ctx.db, &ctx.secrets, candidate.id).await?;
        let Some(secret) = secrets.get("webhook_secret") else {
            continue;
        };
        if crate::server::secrets::signed_sha256(secret.as_bytes(), &[body], signature) {
            return Ok(Some((candidate.slug, organization)));
        }
    }
    Ok(None)
}

/// Queues the Merge Authorized check of a pull request a signed webhook delivery named (once per
/// delivery: a redelivery finds its job), with an audit event in the same transaction.
pub async fn queue_github_check(ctx: &AppCtx, event: &PullEvent, delivery: &str) -> AppResult<i64> {
    let txn = begin_write(&ctx.db).await?;
    let key = format!("merge_authorized:{}:{delivery}", event.integration);
    if let Some(existing) = crate::server::entities::jobs::Entity::find()
        .filter(crate::server::entities::jobs::Column::IdempotencyKey.eq(&key))
        .one(&txn)
        .await?
    {
        return Ok(existing.id);
    }
    let job = crate::server::jobs::enqueue_job::<MergeAuthorized, _>(
        &txn,
        event,
        Some(&key),
        Some(&format!(
            "merge_authorized:{}#{}",
            event.repository, event.number
        )),
        5,
    )
    .await?;
    audit::record(
        &txn,
        &Actor::system(&format!("github:{}", event.integration)),
        Change::new(
            "pull_request.check_requested",
            "repository",
            &event.repository,
        )
        .after(&serde_json::json!({ "number": event.number, "delivery": delivery, "job": job.id })),
    )
    .await?;
    txn.commit().await?;
    ctx.jobs_wake.notify_one();
    Ok(job.id)
}
