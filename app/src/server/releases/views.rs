//! A release as the pages show it: the list, and one release with its stages, votes and timeline.

use super::{as_votes, environments_of, sign_off_of};
use crate::domain::freezes::Target;
use crate::domain::releases::{gate, ReleaseState, StageState};
use crate::error::{AppError, AppResult};
use crate::server::entities::{release_items, releases, stage_runs, votes};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

fn release_row(r: &releases::Model) -> crate::wire::releases::ReleaseRow {
    crate::wire::releases::ReleaseRow {
        id: r.id,
        app_set: r.app_set.clone(),
        bundle: r.bundle.clone(),
        kind: r.kind,
        rc_tag: r.rc_tag.clone(),
        state: r.state,
        starter: r.starter.clone(),
        production_tag: r.production_tag.clone(),
        created_at: crate::server::when(&r.created_at),
    }
}

pub async fn list<C: ConnectionTrait>(db: &C) -> AppResult<Vec<crate::wire::releases::ReleaseRow>> {
    Ok(releases::Entity::find()
        .order_by_desc(releases::Column::Id)
        .all(db)
        .await?
        .iter()
        .map(release_row)
        .collect())
}

/// One release: its items, each stage with its gate and votes, and the timeline of what
/// happened, oldest first.
pub async fn detail<C: ConnectionTrait>(
    db: &C,
    id: i64,
    viewer: (&str, &[String]),
) -> AppResult<crate::wire::releases::ReleaseView> {
    use crate::wire::releases::ReleaseView;
    let release = releases::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found(format!("Release {id}")))?;
    let items = release_items::Entity::find()
        .filter(release_items::Column::ReleaseId.eq(id))
        .order_by_asc(release_items::Column::Application)
        .all(db)
        .await?
        .into_iter()
        .map(|i| (i.application, i.version, i.image))
        .collect();
    let mut stages = Vec::new();
    let mut events = vec![(
        release.created_at,
        format!("{} started {}", release.starter, release.rc_tag),
    )];
    for stage in stage_runs::Entity::find()
        .filter(stage_runs::Column::ReleaseId.eq(id))
        .order_by_asc(stage_runs::Column::Position)
        .all(db)
        .await?
    {
        let all_votes = votes::Entity::find()
            .filter(votes::Column::StageRunId.eq(stage.id))
            .order_by_asc(votes::Column::Id)
            .all(db)
            .await?;
        events.extend(vote_events(&stage, &all_votes));
        let mut view = stage_view(&stage, &all_votes);
        // A stage that would deploy now, or once signed off, says what holds it: its soak
        // time, a freeze.
        if matches!(
            stage.state,
            StageState::AwaitingSignOff | StageState::Approved
        ) {
            if let Some((_, soak)) = super::soaking(db, &stage, chrono::Utc::now()).await? {
                view.gate = soak.clone();
                view.soak = Some(soak);
            }
            let targets: Vec<Target<'_>> = view
                .environments
                .iter()
                .map(|e| Target::Environment(e))
                .collect();
            view.frozen = crate::server::freezes::note_for(
                db,
                &targets,
                &format!("stage:{}", stage.id),
                viewer,
            )
            .await?;
        }
        stages.push(view);
    }
    if let Some(at) = release.completed_at {
        events.push((
            at,
            match &release.production_tag {
                Some(tag) if release.state == ReleaseState::Completed => {
                    format!("completed: every image tagged {tag}")
                }
                _ => "stopped by the rejection".to_string(),
            },
        ));
    }
    events.sort_by_key(|(at, _)| *at);
    Ok(ReleaseView {
        row: release_row(&release),
        items,
        stages,
        timeline: events
            .into_iter()
            .map(|(at, what)| (crate::server::when(&at), what))
            .collect(),
        me: viewer.0.to_string(),
        my_groups: viewer.1.to_vec(),
    })
}

/// A stage as the release page shows it: where it deploys, who signs it off, where its gate
/// stands, and every vote (withdrawn ones marked).
fn stage_view(
    stage: &stage_runs::Model,
    all_votes: &[votes::Model],
) -> crate::wire::releases::StageView {
    use crate::wire::releases::{StageView, VoteRow};
    let active: Vec<votes::Model> = all_votes
        .iter()
        .filter(|v| v.withdrawn_at.is_none())
        .cloned()
        .collect();
    let sign_off = sign_off_of(stage);
    StageView {
        id: stage.id,
        frozen: None,
        soak: None,
        verification: stage.verify.then(|| match super::verify::kept(stage) {
            Some(k) => format!(
                "{} at {}{}{}",
                if k.passed { "Verified: passed" } else { "Verification failed" },
                k.at,
                if k.details.is_empty() { String::new() } else { format!(": {}", k.details) },
                if k.url.is_empty() { String::new() } else { format!(" ({})", k.url) },
            ),
            None if stage.state == StageState::Deployed => "Waits for its verification: the next stage opens when the environment's tests or monitoring report it passed".to_string(),
            None => "Verified after it deploys, before the next stage opens".to_string(),
        }),
        position: stage.position,
        environments: environments_of(stage),
        sign_off: sign_off
            .iter()
            .map(|s| (s.group.clone(), s.approvals))
            .collect(),
        state: stage.state,
        gate: match stage.state {
            StageState::Waiting => "Waits for the stage before it".into(),
            StageState::Deployed => "Signed off and deployed".into(),
            _ => gate(&sign_off, &as_votes(&active)).describe(),
        },
        votes: all_votes
            .iter()
            .map(|v| VoteRow {
                voter: v.voter.clone(),
                group: v.group_name.clone(),
                approve: v.approve,
                comment: v.comment.clone(),
                at: crate::server::when(&v.created_at),
                withdrawn_at: v.withdrawn_at.as_ref().map(crate::server::when),
            })
            .collect(),
    }
}

/// The timeline's lines of a stage's votes: each cast, and each withdrawn.
fn vote_events(
    stage: &stage_runs::Model,
    all_votes: &[votes::Model],
) -> Vec<(chrono::DateTime<chrono::Utc>, String)> {
    let environments = environments_of(stage).join(" + ");
    let mut events = Vec::new();
    for v in all_votes {
        let comment = if v.comment.is_empty() {
            String::new()
        } else {
            format!(": “{}”", v.comment)
        };
        let verb = if v.approve { "approved" } else { "rejected" };
        events.push((
            v.created_at,
            format!(
                "{} ({}) {verb} stage {} — {environments}{comment}",
                v.voter,
                v.group_name,
                stage.position + 1
            ),
        ));
        if let Some(at) = v.withdrawn_at {
            events.push((
                at,
                format!(
                    "{} withdrew their vote on stage {}",
                    v.voter,
                    stage.position + 1
                ),
            ));
        }
    }
    events
}
