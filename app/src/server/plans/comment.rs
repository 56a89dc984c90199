//! A plan as one pull request comment on GitHub, Bitbucket Cloud and Azure DevOps: posted when
//! the plan ends, edited in place when the pull request is planned again (never a second
//! comment). The local forge shows the plan on its own page and takes none.

use super::*;
use crate::domain::integrations::Provider;
use crate::server::entities::workspaces;
use crate::server::ports::ExternalError;

pub const COMMENT_JOB: &str = "resource.plan_comment";

/// The hidden line that marks Slipway's plan comment on a pull request.
pub const COMMENT_MARKER: &str = "<!-- slipway:plan -->";

/// Posts (or edits) a plan's comment on its pull request.
pub struct CommentJob;

impl JobKind for CommentJob {
    const NAME: &'static str = COMMENT_JOB;
    type Payload = RunPayload;
}

impl crate::server::jobs::PlainJob for CommentJob {
    fn run<'a>(
        ctx: &'a AppCtx,
        payload: RunPayload,
        say: &'a (dyn Fn(String) + Send + Sync),
    ) -> impl std::future::Future<Output = Result<(), ExternalError>> + Send + 'a {
        async move { post(ctx, payload.plan_id, say).await }
    }
}

/// Queues the comment of a plan that ended, when its pull request is on a forge that takes
/// comments (within the caller's transaction).
pub(crate) async fn enqueue_comment<C: ConnectionTrait>(
    db: &C,
    plan: &plans::Model,
) -> AppResult<()> {
    let Some(pull_id) = plan.pull_request_id else {
        return Ok(());
    };
    let Some(pull) = pull_requests::Entity::find_by_id(pull_id).one(db).await? else {
        return Ok(());
    };
    let Some(workspace) = workspaces::Entity::find_by_id(pull.workspace_id)
        .one(db)
        .await?
    else {
        return Ok(());
    };
    if !matches!(
        workspace.provider,
        Provider::Github | Provider::Bitbucket | Provider::AzureDevops
    ) {
        return Ok(());
    }
    jobs::enqueue_job::<CommentJob, _>(
        db,
        &RunPayload { plan_id: plan.id },
        Some(&format!("plan-comment:{}", plan.id)),
        // In order per pull request: a later plan's edit lands after an earlier one's post.
        Some(&format!("comments:{pull_id}")),
        ATTEMPTS + 2,
    )
    .await?;
    Ok(())
}

/// The comment's text: the plan as Markdown, or a failed plan's error lines.
pub(crate) fn comment_body(plan: &plans::Model, resource_slug: &str) -> String {
    let view = plan_view(plan, None);
    let title = format!(
        "Slipway plan #{} of `{resource_slug}` at {}",
        plan.id,
        crate::server::workspaces::short(&plan.commit)
    );
    let mut body = match &view.summary {
        Some(summary) => summary.markdown(&title),
        None => {
            let mut text = format!("### {title}\n\n**The plan failed.**\n\n```\n");
            for line in view.error.iter().take(40) {
                text.push_str(line);
                text.push('\n');
            }
            text.push_str("```\n");
            text
        }
    };
    body.push_str(
        "\nApprove or reject in Slipway: an approval covers exactly this plan, for this commit.\n",
    );
    body.push_str(COMMENT_MARKER);
    body.push('\n');
    body
}

async fn post(
    ctx: &AppCtx,
    plan_id: i64,
    say: &(dyn Fn(String) + Send + Sync),
) -> Result<(), ExternalError> {
    let db = &ctx.db;
    let plan = plan_by_id(db, plan_id).await?;
    let newer = plans::Entity::find()
        .filter(plans::Column::ResourceId.eq(plan.resource_id))
        .filter(plans::Column::Id.gt(plan.id))
        .filter(plans::Column::PullRequestId.eq(plan.pull_request_id))
        .one(db)
        .await
        .map_err(AppError::from)?;
    if let Some(newer) = newer {
        say(format!(
            "plan #{} is newer; its comment replaces this one's",
            newer.id
        ));
        return Ok(());
    }
    let pull_id = plan
        .pull_request_id
        .ok_or_else(|| ExternalError::permanent("the plan has no pull request"))?;
    let pull = pull_requests::Entity::find_by_id(pull_id)
        .one(db)
        .await
        .map_err(AppError::from)?
        .ok_or_else(|| ExternalError::permanent("the pull request record no longer exists"))?;
    let workspace = workspaces::Entity::find_by_id(pull.workspace_id)
        .one(db)
        .await
        .map_err(AppError::from)?
        .ok_or_else(|| ExternalError::permanent("the workspace no longer exists"))?;
    let resource = resources::Entity::find_by_id(plan.resource_id)
        .one(db)
        .await
        .map_err(AppError::from)?
        .ok_or_else(|| ExternalError::permanent("the resource no longer exists"))?;
    let (_, repo) = crate::server::workspaces::reach(ctx, db, &workspace).await?;
    say(format!(
        "commenting plan #{} on pull request #{} of {}",
        plan.id, pull.number, workspace.repository
    ));
    ctx.forge
        .upsert_comment(
            &repo,
            pull.number,
            COMMENT_MARKER,
            &comment_body(&plan, &resource.slug),
        )
        .await?;
    say("the pull request's plan comment is up to date".into());
    Ok(())
}
