//! Deploying a signed-off stage (the job), then taking the release's next step as the domain's
//! state machine (`domain::releases::next_step`) names it: open the next stage, or tag production
//! and complete.

use super::{active_votes, enqueue_deploy, environments_of, sign_off_of};
use crate::domain::freezes::Target;
use crate::domain::releases::{
    deployment_config, deployment_path, next_step, opened, production_tag, ReleaseState,
    StageState, Step,
};
use crate::error::AppResult;
use crate::server::audit::{self, Change};
use crate::server::entities::{deployments, release_items, releases, stage_runs};
use crate::server::ports::ExternalError;
use crate::server::{begin_write, Actor, AppCtx};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};

type Say<'a> = &'a (dyn Fn(String) + Send + Sync);

/// Deploys a signed-off stage (the job): per environment one commit with every application's
/// DeploymentConfig, the deployments recorded; then the next stage opens, or, after the last,
/// the production tag is made and the release completes. Safe to run again after a crash: an
/// environment already deployed is skipped, and the stage moves to deployed once.
pub async fn deploy_stage(ctx: &AppCtx, stage_id: i64, say: Say<'_>) -> Result<(), ExternalError> {
    let stage = stage_runs::Entity::find_by_id(stage_id)
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ExternalError::permanent(format!("stage {stage_id} is gone")))?;
    if stage.state != StageState::Approved {
        say(format!(
            "stage {} is {}: nothing to deploy",
            stage.position + 1,
            stage.state.label().to_lowercase()
        ));
        return Ok(());
    }
    if let Some((end, soak)) = super::soaking(&ctx.db, &stage, chrono::Utc::now()).await? {
        return Err(ExternalError::waiting(soak, end));
    }
    let environments = environments_of(&stage);
    let targets: Vec<Target<'_>> = environments
        .iter()
        .map(|e| Target::Environment(e))
        .collect();
    crate::server::freezes::hold(&ctx.db, &targets, &format!("stage:{}", stage.id)).await?;
    let release = releases::Entity::find_by_id(stage.release_id)
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ExternalError::permanent("the release is gone"))?;
    let items = release_items::Entity::find()
        .filter(release_items::Column::ReleaseId.eq(release.id))
        .order_by_asc(release_items::Column::Application)
        .all(&ctx.db)
        .await?;
    let approvers: Vec<String> = active_votes(&ctx.db, stage.id)
        .await?
        .into_iter()
        .filter(|v| v.approve)
        .map(|v| format!("{} ({})", v.voter, v.group_name))
        .collect();
    let run = StageRun {
        release: &release,
        stage: &stage,
        items: &items,
        approvers: &approvers,
    };
    for environment in &environments {
        run.deploy_to(ctx, environment, say).await?;
    }
    let stages = stage_runs::Entity::find()
        .filter(stage_runs::Column::ReleaseId.eq(release.id))
        .order_by_asc(stage_runs::Column::Position)
        .all(&ctx.db)
        .await?;
    let states: Vec<StageState> = stages
        .iter()
        .map(|s| {
            if s.id == stage.id {
                StageState::Deployed
            } else {
                s.state
            }
        })
        .collect();
    let step = next_step(&states);
    let production = match step {
        Step::Complete => Some(run.production_tag(ctx).await?),
        _ => None,
    };
    run.record(ctx, &stages, step, production, say).await
}

/// Opens the stage `next` once the stage before it is through: awaiting its sign-off, or
/// approved with its deployment queued when it names none. Returns the line saying which.
pub(super) async fn open_stage<C: ConnectionTrait>(
    txn: &C,
    next: &stage_runs::Model,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<String> {
    let state = opened(&sign_off_of(next));
    let mut active: stage_runs::ActiveModel = next.clone().into();
    active.state = Set(state);
    active.updated_at = Set(now);
    active.update(txn).await?;
    Ok(if state == StageState::Approved {
        enqueue_deploy(txn, next.id, next.release_id).await?;
        format!(
            "stage {} names no sign-off: it deploys next",
            next.position + 1
        )
    } else {
        format!("stage {} awaits sign-off", next.position + 1)
    })
}

/// One stage of one release being deployed.
struct StageRun<'a> {
    release: &'a releases::Model,
    stage: &'a stage_runs::Model,
    items: &'a [release_items::Model],
    approvers: &'a [String],
}

impl StageRun<'_> {
    /// One commit of every application's DeploymentConfig to `environment`, and its deployments
    /// recorded; nothing when they are recorded already.
    async fn deploy_to(
        &self,
        ctx: &AppCtx,
        environment: &str,
        say: Say<'_>,
    ) -> Result<(), ExternalError> {
        let (release, items) = (self.release, self.items);
        let done = deployments::Entity::find()
            .filter(deployments::Column::ReleaseId.eq(release.id))
            .filter(deployments::Column::Environment.eq(environment))
            .count(&ctx.db)
            .await?;
        if done as usize == items.len() {
            say(format!("{environment}: already deployed"));
            return Ok(());
        }
        let files: Vec<(String, String)> = items
            .iter()
            .map(|i| {
                let config = deployment_config(
                    &i.application,
                    environment,
                    &i.version,
                    &i.image,
                    Some(&release.rc_tag),
                );
                (deployment_path(environment, &i.application), config)
            })
            .collect();
        let commit =
            crate::server::deployments::commit_deployment(ctx, &files, &self.message(environment))
                .await?;
        let txn = begin_write(&ctx.db).await?;
        for item in items {
            deployments::ActiveModel {
                environment: Set(environment.to_string()),
                application: Set(item.application.clone()),
                version: Set(item.version.clone()),
                image: Set(item.image.clone()),
                kind: Set(release.kind),
                build_id: Set(None),
                release_id: Set(Some(release.id)),
                config_commit: Set(commit.clone()),
                deployed_by: Set(format!(
                    "{} (started by {})",
                    release.rc_tag, release.starter
                )),
                deployed_at: Set(chrono::Utc::now()),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
        audit::record(
            &txn,
            &Actor::system("release"),
            Change::new("deployment.create", "release", &format!("{environment}/{}", release.rc_tag)).after(
                &serde_json::json!({ "release": release.rc_tag, "stage": self.stage.position + 1, "commit": commit, "approvers": self.approvers }),
            ),
        )
        .await?;
        txn.commit().await?;
        say(format!(
            "{environment}: {} deployed ({})",
            release.rc_tag,
            &commit[..commit.len().min(7)]
        ));
        Ok(())
    }

    /// The configuration commit's message: what goes where, and who approved it.
    fn message(&self, environment: &str) -> String {
        let what: Vec<String> = self
            .items
            .iter()
            .map(|i| format!("{} {}", i.application, i.version))
            .collect();
        let approvers = if self.approvers.is_empty() {
            "no one (no sign-off required)".to_string()
        } else {
            self.approvers.join(", ")
        };
        format!(
            "release({environment}): {} stage {}\n\nDeploys {} to {environment}.\nApproved by {approvers}.\n",
            self.release.rc_tag,
            self.stage.position + 1,
            what.join(", "),
        )
    }

    /// The production tag, named once and kept on the release, then put on every image.
    async fn production_tag(&self, ctx: &AppCtx) -> Result<String, ExternalError> {
        let tag = match &self.release.production_tag {
            Some(tag) => tag.clone(),
            None => {
                let mut existing = Vec::new();
                for item in self.items {
                    let repository = item.image.split('@').next().unwrap_or_default();
                    existing.extend(ctx.registry.tags(repository).await?);
                }
                let tag = production_tag(&self.release.app_set, &self.release.bundle, &existing);
                let mut active: releases::ActiveModel = self.release.clone().into();
                active.production_tag = Set(Some(tag.clone()));
                active.update(&ctx.db).await?;
                tag
            }
        };
        for item in self.items {
            if let Some((repository, digest)) = item.image.split_once('@') {
                ctx.registry.tag(repository, digest, &tag).await?;
            }
        }
        Ok(tag)
    }

    /// Records the stage deployed and takes the release's next step, in one transaction; once,
    /// however often the job runs (the stage moves from approved to deployed only once).
    async fn record(
        &self,
        ctx: &AppCtx,
        stages: &[stage_runs::Model],
        step: Step,
        production: Option<String>,
        say: Say<'_>,
    ) -> Result<(), ExternalError> {
        let txn = begin_write(&ctx.db).await?;
        let now = chrono::Utc::now();
        let moved = stage_runs::Entity::update_many()
            .col_expr(
                stage_runs::Column::State,
                sea_orm::sea_query::Expr::value(StageState::Deployed),
            )
            .col_expr(
                stage_runs::Column::UpdatedAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(stage_runs::Column::Id.eq(self.stage.id))
            .filter(stage_runs::Column::State.eq(StageState::Approved))
            .exec(&txn)
            .await?;
        if moved.rows_affected == 0 {
            say("the stage was already recorded as deployed".into());
            return Ok(());
        }
        match (step, production) {
            (Step::Open(_), _) if self.stage.verify => {
                say(format!(
                    "stage {} waits for its verification: the next stage opens when the environment's tests or monitoring report it passed",
                    self.stage.position + 1
                ));
            }
            (Step::Open(next), _) => say(open_stage(&txn, &stages[next], now).await?),
            (Step::Complete, Some(tag)) => {
                self.complete(&txn, &tag, now).await?;
                say(format!("complete: tagged {tag}"));
            }
            (step, _) => {
                return Err(ExternalError::permanent(format!(
                    "{} cannot go on after stage {}: {step:?}",
                    self.release.rc_tag,
                    self.stage.position + 1
                )))
            }
        }
        txn.commit().await?;
        if matches!(step, Step::Open(_)) {
            ctx.jobs_wake.notify_one();
        }
        Ok(())
    }

    async fn complete<C: ConnectionTrait>(
        &self,
        txn: &C,
        tag: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), ExternalError> {
        let mut active: releases::ActiveModel = self.release.clone().into();
        active.state = Set(ReleaseState::Completed);
        active.production_tag = Set(Some(tag.to_string()));
        active.completed_at = Set(Some(now));
        active.update(txn).await?;
        audit::record(
            txn,
            &Actor::system("release"),
            Change::new("release.complete", "release", &self.release.rc_tag)
                .after(&serde_json::json!({ "production_tag": tag })),
        )
        .await?;
        Ok(())
    }
}
