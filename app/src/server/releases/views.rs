//! A release as the pages show it: the list, and one release with its stages, votes and timeline.

use super::{as_votes, environments_of, sign_off_of};
use crate::domain::releases::{gate, ReleaseState, StageState};
use crate::error::{AppError, AppResult};
use crate::server::entities::{release_items, releases, stage_runs, votes};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

fn release_row(r: &releases::Model) -> crate::wire::releases::ReleaseRow {
    crate::wire::releases::ReleaseRow {
        id: r.id,
        app_set: r.app_set.clone(),
        bundle: r.bundle.clone(),
        kind: r.kind.clone(),
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

pub async fn detail<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> AppResult<crate::wire::releases::ReleaseView> {
    use crate::wire::releases::{ReleaseView, StageView, VoteRow};
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
        let active: Vec<votes::Model> = all_votes
            .iter()
            .filter(|v| v.withdrawn_at.is_none())
            .cloned()
            .collect();
        let environments = environments_of(&stage).join(" + ");
        for v in &all_votes {
            let comment = if v.comment.is_empty() {
                String::new()
            } else {
                format!(": “{}”", v.comment)
            };
            events.push((
                v.created_at,
                format!(
                    "{} ({}) {} stage {} — {environments}{comment}",
                    v.voter,
                    v.group_name,
                    if v.approve { "approved" } else { "rejected" },
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
        let sign_off = sign_off_of(&stage);
        let state = stage.state;
        stages.push(StageView {
            position: stage.position,
            environments: environments_of(&stage),
            sign_off: sign_off
                .iter()
                .map(|s| (s.group.clone(), s.approvals))
                .collect(),
            state,
            gate: match state {
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
        });
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
        me: String::new(),
        my_groups: Vec::new(),
    })
}
