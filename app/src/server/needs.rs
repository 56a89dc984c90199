//! "Needs you": what waits for one person now — release stages their groups must sign off,
//! resource and governed-repository pull requests they may approve, policy denials they may
//! override, drift on what they own — each with why it is theirs, oldest first; and the recent
//! activity on what they own. The rules are `domain::needs`; this reads their rows.

use super::entities::{
    audit_events, drifts, local_pull_reviews, pull_requests, releases, resources, stage_runs,
    votes, workspaces as workspace_rows,
};
use super::{when, AppCtx};
use crate::domain::drift::DriftStatus;
use crate::domain::needs::{overrides_wanted, sign_off_wanted, NeedKind};
use crate::domain::plans::PlanStatus;
use crate::domain::rbac::{Action, EntityType, ResourceRef};
use crate::domain::releases::{ReleaseState, StageState, Vote};
use crate::domain::resources::ResourceStatus;
use crate::domain::workspaces::PullState;
use crate::error::AppResult;
use crate::wire::needs::{ActivityRow, Need};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::BTreeMap;

/// The most open resource pull requests looked at (newest first): past that the list would be
/// a queue, not a to-do list, and the resources page filters it.
const REVIEWS_LOOKED_AT: u64 = 200;
/// The most drifts and activity rows listed.
const DRIFTS_LISTED: u64 = 100;
const ACTIVITY_LISTED: u64 = 15;
/// Actions left out of the activity list.
const QUIET: [&str; 2] = ["resource.state_saved", "resource.drift_check"];

/// The person things wait for: their login, groups, and what their roles allow.
pub struct Person<'a> {
    pub login: &'a str,
    pub groups: &'a [String],
    pub may: &'a (dyn Fn(Action, &ResourceRef) -> bool + Sync),
}

impl Person<'_> {
    fn may_on(&self, action: Action, entity_type: EntityType, id: &str) -> bool {
        (self.may)(action, &ResourceRef::entity(entity_type, id.to_string()))
    }
}

/// What waits for `person`, oldest first.
pub async fn needs_of(ctx: &AppCtx, person: &Person<'_>) -> AppResult<Vec<Need>> {
    let mut found: Vec<(DateTime<Utc>, Need)> = Vec::new();
    if (person.may)(Action::Read, &ResourceRef::of_type(EntityType::Release)) {
        sign_offs(&ctx.db, person, &mut found).await?;
    }
    resource_reviews(ctx, person, &mut found).await?;
    repository_reviews(&ctx.db, person, &mut found).await?;
    owned_drift(&ctx.db, person, &mut found).await?;
    if (person.may)(Action::Read, &ResourceRef::of_type(EntityType::Release)) {
        for (rollback, sign_off, votes) in
            crate::server::deployments::awaiting_sign_off(&ctx.db).await?
        {
            let wanted = sign_off_wanted(
                &sign_off,
                &votes,
                &rollback.requested_by,
                person.login,
                person.groups,
            );
            if wanted.is_empty() {
                continue;
            }
            let why = wanted
                .iter()
                .map(|(group, have, needed)| {
                    format!(
                        "you are in {group}, which must sign it off ({have} of {})",
                        approvals(*needed)
                    )
                })
                .collect::<Vec<_>>()
                .join("; ");
            found.push(need(
                NeedKind::Rollback,
                format!("rollback:{}", rollback.id),
                wanted.iter().map(|(g, _, _)| g.clone()).collect(),
                format!(
                    "Roll {} back to {} in {}",
                    rollback.application, rollback.to_version, rollback.environment
                ),
                format!(
                    "{}: {} asked: “{}”",
                    capitalized(&why),
                    rollback.requested_by,
                    rollback.reason
                ),
                "/releases#rollbacks".to_string(),
                rollback.created_at,
            ));
        }
    }
    for (since, e) in
        crate::server::freezes::exceptions_awaiting(&ctx.db, person.login, person.groups).await?
    {
        found.push(need(
            NeedKind::FreezeException,
            format!("freeze_exception:{}", e.id),
            vec![e.group.clone()],
            format!("Let {} through {}", e.label, e.freeze),
            format!(
                "You are in {}, which approves exceptions to it: {} of {} so far; {} asked: “{}”",
                e.group,
                e.approved_by.len(),
                approvals(e.approvals),
                e.requested_by,
                e.reason
            ),
            if e.href.is_empty() {
                "/freezes".to_string()
            } else {
                e.href.clone()
            },
            since,
        ));
    }
    found.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.title.cmp(&b.1.title)));
    Ok(found.into_iter().map(|(_, need)| need).collect())
}

fn need(
    kind: NeedKind,
    key: String,
    groups: Vec<String>,
    title: String,
    why: String,
    href: String,
    since: DateTime<Utc>,
) -> (DateTime<Utc>, Need) {
    (
        since,
        Need {
            kind,
            key,
            groups,
            title,
            why,
            href,
            since: when(&since),
        },
    )
}

fn approvals(n: u32) -> String {
    crate::domain::names::counted(n as u64, "approval", "approvals")
}

async fn sign_offs<C: ConnectionTrait>(
    db: &C,
    person: &Person<'_>,
    found: &mut Vec<(DateTime<Utc>, Need)>,
) -> AppResult<()> {
    let stages = stage_runs::Entity::find()
        .filter(stage_runs::Column::State.eq(StageState::AwaitingSignOff))
        .all(db)
        .await?;
    if stages.is_empty() {
        return Ok(());
    }
    let release_rows: BTreeMap<i64, releases::Model> = releases::Entity::find()
        .filter(releases::Column::Id.is_in(stages.iter().map(|s| s.release_id)))
        .filter(releases::Column::State.eq(ReleaseState::Running))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let mut cast: BTreeMap<i64, Vec<Vote>> = BTreeMap::new();
    for v in votes::Entity::find()
        .filter(votes::Column::StageRunId.is_in(stages.iter().map(|s| s.id)))
        .filter(votes::Column::WithdrawnAt.is_null())
        .order_by_asc(votes::Column::Id)
        .all(db)
        .await?
    {
        cast.entry(v.stage_run_id).or_default().push(Vote {
            user: v.voter,
            group: v.group_name,
            approve: v.approve,
            comment: v.comment,
        });
    }
    for stage in stages {
        let Some(release) = release_rows.get(&stage.release_id) else {
            continue;
        };
        let sign_off = super::releases::sign_off_of(&stage);
        let votes = cast.remove(&stage.id).unwrap_or_default();
        let wanted = sign_off_wanted(
            &sign_off,
            &votes,
            &release.starter,
            person.login,
            person.groups,
        );
        if wanted.is_empty() {
            continue;
        }
        let environments: Vec<String> =
            serde_json::from_str(&stage.environments).unwrap_or_default();
        let why = wanted
            .iter()
            .map(|(group, have, needed)| {
                format!(
                    "you are in {group}, which must sign off ({have} of {})",
                    approvals(*needed)
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        found.push(need(
            NeedKind::SignOff,
            format!("sign_off:stage:{}", stage.id),
            wanted.iter().map(|(g, _, _)| g.clone()).collect(),
            format!(
                "Sign off {} of {}",
                environments.join(" and "),
                release.rc_tag
            ),
            capitalized(&why),
            format!("/releases/{}", release.id),
            stage.updated_at,
        ));
    }
    Ok(())
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Resources whose pull request waits for review: approvals the person may give, and policy
/// denials on their plans the person may override. Read from the open pull requests (newest
/// first, bounded) and each one's newest plan.
async fn resource_reviews(
    ctx: &AppCtx,
    person: &Person<'_>,
    found: &mut Vec<(DateTime<Utc>, Need)>,
) -> AppResult<()> {
    let db = &ctx.db;
    let open = pull_requests::Entity::find()
        .filter(pull_requests::Column::State.eq(PullState::Open))
        .filter(pull_requests::Column::ResourceId.is_not_null())
        .order_by_desc(pull_requests::Column::Id)
        .limit(REVIEWS_LOOKED_AT)
        .all(db)
        .await?;
    if open.is_empty() {
        return Ok(());
    }
    let owned: BTreeMap<i64, resources::Model> = resources::Entity::find()
        .filter(resources::Column::Id.is_in(open.iter().filter_map(|p| p.resource_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let workspace_slugs: BTreeMap<i64, String> = workspace_rows::Entity::find()
        .filter(workspace_rows::Column::Id.is_in(open.iter().map(|p| p.workspace_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|w| (w.id, w.slug))
        .collect();
    for pull in open {
        let Some(resource) = pull.resource_id.and_then(|id| owned.get(&id)) else {
            continue;
        };
        let Some(workspace) = workspace_slugs.get(&pull.workspace_id) else {
            continue;
        };
        // A change whose last job failed (its merge conflicts, say) waits for its author to
        // fix it, not for a reviewer; and what the person may not read is not theirs.
        if resource.status == ResourceStatus::Error
            || !person.may_on(Action::Read, EntityType::Resource, &resource.slug)
        {
            continue;
        }
        let row = super::workspaces::pull_row(&pull, Some(resource.slug.clone()));
        let head = row.head_commit.clone().unwrap_or_default();
        let Some(plan) = super::plans::latest_plan(db, resource.id)
            .await?
            .filter(|p| p.commit == head && p.status == PlanStatus::Ready)
        else {
            continue;
        };
        let since = pull.updated_at;
        let href = format!("/resources/{}", resource.slug);
        let author = row.authors.iter().any(|a| a == person.login);
        let blocked = plan.policies.iter().any(|r| r.blocks());
        if !blocked
            && !author
            && person.may_on(Action::Approve, EntityType::Resource, &resource.slug)
            && person.may_on(Action::Approve, EntityType::Workspace, workspace)
        {
            found.push(need(
                NeedKind::Review,
                format!("review:pull:{}", pull.id),
                Vec::new(),
                format!("Review {} of {}", row.title, resource.slug),
                format!(
                    "You may approve changes to {} in {workspace}; plan #{} ({}) is ready and {} made the change",
                    resource.slug,
                    plan.id,
                    plan.counts.clone().unwrap_or_default(),
                    row.authors.join(" and ")
                ),
                href.clone(),
                since,
            ));
        }
        for result in overrides_wanted(&plan.policies, person.login, person.groups, &row.authors) {
            found.push(need(
                NeedKind::PolicyOverride,
                format!("policy_override:pull:{}:{}", pull.id, result.policy),
                result.override_group.iter().cloned().collect(),
                format!(
                    "Policy {} denies plan #{} of {}",
                    result.policy, plan.id, resource.slug
                ),
                format!(
                    "You are in {}, which may override it ({} of {} so far): {}",
                    result.override_group.clone().unwrap_or_default(),
                    result.overrides.len(),
                    approvals(result.approvals),
                    result.denials.join("; ")
                ),
                href.clone(),
                since,
            ));
        }
    }
    Ok(())
}

async fn repository_reviews<C: ConnectionTrait>(
    db: &C,
    person: &Person<'_>,
    found: &mut Vec<(DateTime<Utc>, Need)>,
) -> AppResult<()> {
    for (name, managed, pull) in super::governance::open_local_pulls(db).await? {
        let (action, target) = super::governance::reviewer_needs(&name, managed);
        if pull.author == person.login || !(person.may)(action, &target) {
            continue;
        }
        let head = pull.head_commit.clone().unwrap_or_default();
        let approved = local_pull_reviews::Entity::find()
            .filter(local_pull_reviews::Column::Repository.eq(pull.repository.clone()))
            .filter(local_pull_reviews::Column::Number.eq(pull.number))
            .filter(local_pull_reviews::Column::Commit.eq(head))
            .filter(local_pull_reviews::Column::Reviewer.eq(person.login))
            .one(db)
            .await?
            .is_some();
        if approved {
            continue;
        }
        found.push(need(
            NeedKind::RepositoryReview,
            format!("repository_review:{}#{}", pull.repository, pull.number),
            Vec::new(),
            format!("Review #{} {} in {}", pull.number, pull.title, pull.repository),
            if managed {
                format!("You administer repositories: the managed workflows every governed repository runs change here; {} opened it", pull.author)
            } else {
                format!("You may approve changes to {name}; {} opened it", pull.author)
            },
            format!(
                "/repositories/{name}/pulls/{}{}",
                pull.number,
                if managed { "?managed=true" } else { "" }
            ),
            pull.created_at,
        ));
    }
    Ok(())
}

/// Drift on resources the person created, and accepting drift proposed by someone else on
/// resources they may approve.
async fn owned_drift<C: ConnectionTrait>(
    db: &C,
    person: &Person<'_>,
    found: &mut Vec<(DateTime<Utc>, Need)>,
) -> AppResult<()> {
    let current = drifts::Entity::find()
        .filter(drifts::Column::Status.ne(DriftStatus::Resolved))
        .order_by_asc(drifts::Column::DetectedAt)
        .limit(DRIFTS_LISTED * 5)
        .all(db)
        .await?;
    if current.is_empty() {
        return Ok(());
    }
    let owners: BTreeMap<i64, resources::Model> = resources::Entity::find()
        .filter(resources::Column::Id.is_in(current.iter().map(|d| d.resource_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let mut listed = 0;
    for drift in current {
        let Some(resource) = owners.get(&drift.resource_id) else {
            continue;
        };
        if !person.may_on(Action::Read, EntityType::Resource, &resource.slug) {
            continue;
        }
        let href = format!("/resources/{}?tab=drift", resource.slug);
        let objects =
            crate::domain::names::counted(drift.objects.max(0) as u64, "object", "objects");
        match &drift.accept_by {
            Some(proposer)
                if proposer != person.login
                    && person.may_on(Action::Approve, EntityType::Resource, &resource.slug) =>
            {
                found.push(need(
                    NeedKind::Drift,
                    format!("drift_accept:{}", drift.id),
                    Vec::new(),
                    format!("Accept the drift of {} as it is", resource.slug),
                    format!("{proposer} proposed keeping what changed outside the code ({objects}); you may approve changes to {}", resource.slug),
                    href,
                    drift.accept_at.unwrap_or(drift.detected_at),
                ));
                listed += 1;
            }
            None if drift.status == DriftStatus::Open && resource.created_by == person.login => {
                found.push(need(
                    NeedKind::Drift,
                    format!("drift:{}", drift.id),
                    Vec::new(),
                    format!("Drift on {}: {objects} changed outside the code", resource.slug),
                    format!("You own {} (you created it): reconcile it, accept it, or acknowledge why it stays", resource.slug),
                    href,
                    drift.detected_at,
                ));
                listed += 1;
            }
            _ => {}
        }
        if listed >= DRIFTS_LISTED {
            break;
        }
    }
    Ok(())
}

/// The latest changes to what `login` owns: the resources they created and the releases they
/// started, newest first.
pub async fn activity<C: ConnectionTrait>(db: &C, login: &str) -> AppResult<Vec<ActivityRow>> {
    let mine: BTreeMap<String, String> = resources::Entity::find()
        .filter(resources::Column::CreatedBy.eq(login))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id.to_string(), r.slug))
        .collect();
    let started: BTreeMap<String, i64> = releases::Entity::find()
        .filter(releases::Column::Starter.eq(login))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.rc_tag, r.id))
        .collect();
    if mine.is_empty() && started.is_empty() {
        return Ok(Vec::new());
    }
    let events = audit_events::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(
                    sea_orm::Condition::all()
                        .add(audit_events::Column::EntityType.eq("resource"))
                        .add(audit_events::Column::EntityId.is_in(mine.keys().cloned())),
                )
                .add(
                    sea_orm::Condition::all()
                        .add(audit_events::Column::EntityType.eq("release"))
                        .add(audit_events::Column::EntityId.is_in(started.keys().cloned())),
                ),
        )
        // Routine bookkeeping (each state write, each check asked for) would drown the rest.
        .filter(audit_events::Column::Action.is_not_in(QUIET))
        .order_by_desc(audit_events::Column::Seq)
        .limit(ACTIVITY_LISTED)
        .all(db)
        .await?;
    Ok(events
        .into_iter()
        .map(|e| {
            let (what, href) = if e.entity_type == "resource" {
                let slug = mine.get(&e.entity_id).cloned().unwrap_or_default();
                (slug.clone(), format!("/resources/{slug}"))
            } else {
                let id = started.get(&e.entity_id).copied().unwrap_or_default();
                (e.entity_id.clone(), format!("/releases/{id}"))
            };
            ActivityRow {
                at: e
                    .occurred_at
                    .chars()
                    .take(16)
                    .collect::<String>()
                    .replace('T', " "),
                actor: e.actor,
                action: e.action,
                what,
                href,
            }
        })
        .collect())
}
