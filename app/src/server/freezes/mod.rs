//! Freeze windows at work. The windows are `FreezeWindow` manifests (kept, revised and owned
//! like the release manifests); this module says what holds a deployment or an apply now, lifts
//! a window early, makes the one-click emergency freeze, and keeps exceptions: one stage, plan
//! or build let through one freeze once enough distinct members of its group (never the one who
//! asked) approve.
//!
//! The jobs that deploy or apply ask [`hold`] first; while a freeze holds they wait (queued
//! again for the window's end, without using an attempt: `jobs::Outcome::Wait`) and carry on by
//! themselves when it ends. Lifting, editing a freeze and granting an exception make the
//! waiting jobs look again at once (`jobs::wake_frozen`).

pub mod schedule;

use super::audit::{self, Change};
use super::entities::{
    builds, freeze_exception_approvals as approvals, freeze_exceptions as exceptions,
    freeze_lifts as lifts, plans, releases, resources, stage_runs, workspace_resources, workspaces,
};
use super::release_manifests::Editor;
use super::{when, Actor, AppCtx};
use crate::domain::freezes::{FreezeWindow, Target, Window, FREEZE_OWNERS};
use crate::domain::manifests::Manifest;
use crate::error::{AppError, AppResult};
use crate::wire::freezes::{ExceptionView, FreezeRow, FreezeState, FrozenNote};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

/// The longest reason, comment or exception request, in characters.
const MAX_TEXT: usize = 2000;

/// Every saved freeze window, with its revision.
pub async fn windows<C: ConnectionTrait>(db: &C) -> AppResult<Vec<(FreezeWindow, i32)>> {
    Ok(super::release_manifests::all(db)
        .await?
        .into_iter()
        .filter_map(|(model, manifest)| match manifest {
            Manifest::FreezeWindow(freeze) => Some((freeze, model.revision)),
            _ => None,
        })
        .collect())
}

/// The lift of `freeze`'s `window` at `revision`, if it was lifted.
fn lift_of<'a>(
    all: &'a [lifts::Model],
    freeze: &str,
    revision: i32,
    window: &Window,
) -> Option<&'a lifts::Model> {
    all.iter().find(|l| {
        l.freeze == freeze
            && l.revision == revision
            && l.lifted_at >= window.start
            && l.window_end == window.end
    })
}

/// What holds `targets` at `at`: the freeze windows holding that cover one of them, not lifted,
/// with no exception granted for `subject`; the one that ends last (until lifted is last).
pub async fn frozen<C: ConnectionTrait>(
    db: &C,
    targets: &[Target<'_>],
    subject: Option<&str>,
    at: DateTime<Utc>,
) -> AppResult<Option<FrozenNote>> {
    Ok(holding(db, targets, subject, None, at)
        .await?
        .map(|(note, _)| note))
}

/// [`frozen`], with the end of the window that holds (none: until lifted).
async fn holding<C: ConnectionTrait>(
    db: &C,
    targets: &[Target<'_>],
    subject: Option<&str>,
    except: Option<&str>,
    at: DateTime<Utc>,
) -> AppResult<Option<(FrozenNote, Option<DateTime<Utc>>)>> {
    let holding: Vec<(FreezeWindow, i32, Window)> = windows(db)
        .await?
        .into_iter()
        .filter(|(f, _)| Some(f.metadata.name.as_str()) != except)
        .filter(|(f, _)| targets.iter().any(|t| f.scope.covers(*t)))
        .filter_map(|(f, revision)| schedule::window_at(&f, at).map(|w| (f, revision, w)))
        .collect();
    if holding.is_empty() {
        return Ok(None);
    }
    let names: Vec<String> = holding
        .iter()
        .map(|(f, ..)| f.metadata.name.clone())
        .collect();
    let lifted = lifts::Entity::find()
        .filter(lifts::Column::Freeze.is_in(names.clone()))
        .all(db)
        .await?;
    let asked = match subject {
        Some(subject) => {
            exceptions::Entity::find()
                .filter(exceptions::Column::Subject.eq(subject))
                .filter(exceptions::Column::Freeze.is_in(names))
                .all(db)
                .await?
        }
        None => Vec::new(),
    };
    let mut found: Option<(FreezeWindow, Window)> = None;
    for (freeze, revision, window) in holding {
        if lift_of(&lifted, &freeze.metadata.name, revision, &window).is_some() {
            continue;
        }
        let excepted = asked
            .iter()
            .any(|e| e.freeze == freeze.metadata.name && e.granted_at.is_some());
        if excepted {
            continue;
        }
        let later = match &found {
            None => true,
            Some((_, best)) => match (best.end, window.end) {
                (Some(a), Some(b)) => b > a,
                (Some(_), None) => true,
                (None, _) => false,
            },
        };
        if later {
            found = Some((freeze, window));
        }
    }
    let Some((freeze, window)) = found else {
        return Ok(None);
    };
    let exception = match asked.iter().find(|e| e.freeze == freeze.metadata.name) {
        Some(e) => Some(exception_view(db, e, None).await?),
        None => None,
    };
    let until = window.end.map(|end| when(&end));
    let message = format!(
        "Frozen {} because {} (FreezeWindow {})",
        match &until {
            Some(until) => format!("until {until}"),
            None => "until lifted".to_string(),
        },
        freeze.reason.trim_end_matches('.'),
        freeze.metadata.name
    );
    let note = FrozenNote {
        freeze: freeze.metadata.name.clone(),
        reason: freeze.reason.clone(),
        until,
        message,
        subject: subject.unwrap_or_default().to_string(),
        exception,
    };
    Ok(Some((note, window.end)))
}

/// For a job about to deploy or apply: `Ok` when nothing holds `targets`, else the wait (the
/// job is queued again for the window's end, or sooner when the freeze changes).
pub async fn hold<C: ConnectionTrait>(
    db: &C,
    targets: &[Target<'_>],
    subject: &str,
) -> Result<(), super::ports::ExternalError> {
    hold_unless(db, targets, subject, None).await
}

/// [`hold`], but for the freeze `except` names: a change signed off by that freeze's exception
/// group (a rollback asked for under it) goes through it.
pub async fn hold_unless<C: ConnectionTrait>(
    db: &C,
    targets: &[Target<'_>],
    subject: &str,
    except: Option<&str>,
) -> Result<(), super::ports::ExternalError> {
    let now = Utc::now();
    match holding(db, targets, Some(subject), except, now).await? {
        None => Ok(()),
        Some((note, end)) => Err(super::ports::ExternalError::waiting(
            note.message,
            end.unwrap_or(now + chrono::Duration::hours(1)),
        )),
    }
}

/// Whether the editor may edit and lift freezes.
fn may_edit(editor: &Editor) -> bool {
    editor.owns(FREEZE_OWNERS)
}

fn checked_text(field: &str, value: &str, ask: &str) -> AppResult<String> {
    let value = value.trim().to_string();
    if value.is_empty() || value.chars().count() > MAX_TEXT {
        return Err(AppError::invalid(
            field,
            format!("{ask} (at most {MAX_TEXT} characters)"),
        ));
    }
    Ok(value)
}

/// Lifts the window of `name` holding now: by platform / SRE, with a reason; audited. The jobs
/// it held look again at once.
pub async fn lift(ctx: &AppCtx, editor: &Editor, name: &str, reason: &str) -> AppResult<()> {
    let reason = checked_text("reason", reason, "say why the freeze ends early")?;
    if !may_edit(editor) {
        return Err(AppError::Forbidden(format!(
            "freezes are lifted by the group {FREEZE_OWNERS}, and you are not in it"
        )));
    }
    audit::audited(&ctx.db, &editor.actor, async |txn| {
        let (freeze, revision) = windows(txn)
            .await?
            .into_iter()
            .find(|(f, _)| f.metadata.name == name)
            .ok_or_else(|| AppError::not_found(format_args!("FreezeWindow {name}")))?;
        let now = Utc::now();
        let Some(window) = schedule::window_at(&freeze, now) else {
            return Err(AppError::Conflict(format!(
                "FreezeWindow {name} does not hold now: there is nothing to lift"
            )));
        };
        let lifted = lifts::Entity::find()
            .filter(lifts::Column::Freeze.eq(name))
            .all(txn)
            .await?;
        if let Some(lift) = lift_of(&lifted, name, revision, &window) {
            return Err(AppError::Conflict(format!(
                "FreezeWindow {name} was lifted already, by {} at {}",
                lift.lifted_by,
                when(&lift.lifted_at)
            )));
        }
        lifts::ActiveModel {
            freeze: Set(name.to_string()),
            revision: Set(revision),
            window_start: Set(window.start),
            window_end: Set(window.end),
            lifted_by: Set(editor.actor.label.clone()),
            reason: Set(reason.clone()),
            lifted_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        super::jobs::wake_frozen(txn).await?;
        let change = Change::new("freeze.lift", "release", format!("FreezeWindow/{name}")).after(
            &serde_json::json!({
                "revision": revision,
                "window_start": when(&window.start),
                "window_end": window.end.map(|e| when(&e)),
                "reason": reason,
            }),
        );
        Ok(((), change))
    })
    .await?;
    ctx.jobs_wake.notify_one();
    Ok(())
}

/// The emergency button: a freeze of `environments` (every one when empty: everything) from now
/// until lifted, saved as a FreezeWindow `emergency-<time>` by platform / SRE. Returns its name.
pub async fn emergency(
    ctx: &AppCtx,
    editor: &Editor,
    reason: &str,
    environments: &[String],
) -> AppResult<String> {
    let reason = checked_text("reason", reason, "say why everything stops")?;
    if !may_edit(editor) {
        return Err(AppError::Forbidden(format!(
            "the emergency freeze is for the group {FREEZE_OWNERS}, and you are not in it"
        )));
    }
    for env in environments {
        crate::domain::manifests::check_name(env)
            .map_err(|why| AppError::invalid("environments", format!("{env:?} {why}")))?;
    }
    let now = Utc::now();
    let name = format!("emergency-{}", now.format("%Y%m%d-%H%M%S"));
    use crate::domain::yaml_out::Yaml;
    let scope = if environments.is_empty() {
        Yaml::str("everything")
    } else {
        Yaml::map()
            .with("environments", Yaml::seq(environments.iter().cloned()))
            .build()
    };
    let document = Yaml::map()
        .text("apiVersion", crate::domain::manifests::API_VERSION)
        .text("kind", "FreezeWindow")
        .with("metadata", Yaml::map().text("name", name.clone()).build())
        .with(
            "spec",
            Yaml::map()
                .text("reason", reason)
                .with("scope", scope)
                .with(
                    "period",
                    Yaml::map()
                        .text(
                            "start",
                            now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        )
                        .build(),
                )
                .build(),
        )
        .build();
    let source = crate::domain::yaml_out::print(&document);
    super::release_manifests::save(&ctx.db, editor, None, 0, &source).await?;
    Ok(name)
}

/// A subject of an exception, read: the targets a freeze may hold it at, how people read it,
/// and where it is.
struct Subject {
    environments: Vec<String>,
    workspace: Option<String>,
    label: String,
    href: String,
    /// The audit entity it changes (`release`/rc tag, `resource`/id), so its page follows.
    entity: (&'static str, String),
}

impl Subject {
    fn targets(&self) -> Vec<Target<'_>> {
        let mut targets: Vec<Target<'_>> = self
            .environments
            .iter()
            .map(|e| Target::Environment(e))
            .collect();
        if let Some(slug) = &self.workspace {
            targets.push(Target::Workspace(slug));
        }
        targets
    }
}

async fn subject_of<C: ConnectionTrait>(db: &C, subject: &str) -> AppResult<Subject> {
    let bad = || {
        AppError::invalid(
            "subject",
            format!("{subject:?} is not stage:<id>, plan:<id> or build:<id>"),
        )
    };
    let (kind, id) = subject.split_once(':').ok_or_else(bad)?;
    let id: i64 = id.parse().map_err(|_| bad())?;
    match kind {
        "stage" => {
            let stage = stage_runs::Entity::find_by_id(id)
                .one(db)
                .await?
                .ok_or_else(|| AppError::not_found(format_args!("Stage {id}")))?;
            let release = releases::Entity::find_by_id(stage.release_id)
                .one(db)
                .await?
                .ok_or_else(|| AppError::not_found("The stage's release"))?;
            Ok(Subject {
                environments: serde_json::from_str(&stage.environments).unwrap_or_default(),
                workspace: None,
                label: format!("{} stage {}", release.rc_tag, stage.position + 1),
                href: format!("/releases/{}", release.id),
                entity: ("release", release.rc_tag),
            })
        }
        "plan" => {
            let plan = plans::Entity::find_by_id(id)
                .one(db)
                .await?
                .ok_or_else(|| AppError::not_found(format_args!("Plan #{id}")))?;
            let resource = resources::Entity::find_by_id(plan.resource_id)
                .one(db)
                .await?
                .ok_or_else(|| AppError::not_found("The plan's resource"))?;
            Ok(Subject {
                environments: Vec::new(),
                workspace: workspace_slug(db, resource.id).await?,
                label: format!("plan #{id} of {}", resource.slug),
                href: format!("/resources/{}", resource.slug),
                entity: ("resource", resource.id.to_string()),
            })
        }
        "build" => {
            let build = builds::Entity::find_by_id(id)
                .one(db)
                .await?
                .ok_or_else(|| AppError::not_found(format_args!("Build {id}")))?;
            Ok(Subject {
                environments: super::deployments::prerelease_environments(db, &build.application)
                    .await?,
                workspace: None,
                label: format!("{} {} to pre-release", build.application, build.version),
                href: "/releases".to_string(),
                entity: ("release", format!("Application/{}", build.application)),
            })
        }
        _ => Err(bad()),
    }
}

/// What reading `subject` takes: a release stage or a build is the releases'; a plan is its
/// resource's.
pub async fn subject_access<C: ConnectionTrait>(
    db: &C,
    subject: &str,
) -> AppResult<crate::domain::rbac::ResourceRef> {
    use crate::domain::rbac::{EntityType, ResourceRef};
    let found = subject_of(db, subject).await?;
    Ok(match found.entity {
        ("resource", _) => ResourceRef::entity(
            EntityType::Resource,
            found.href.trim_start_matches("/resources/").to_string(),
        ),
        _ => ResourceRef::of_type(EntityType::Release),
    })
}

/// The slug of the workspace a resource is in, if it is in one.
pub async fn workspace_slug<C: ConnectionTrait>(
    db: &C,
    resource: i64,
) -> AppResult<Option<String>> {
    let Some(member) = workspace_resources::Entity::find_by_id(resource)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(workspaces::Entity::find_by_id(member.workspace_id)
        .one(db)
        .await?
        .map(|w| w.slug))
}

/// Asks for `subject` to go through the freeze that holds it now: recorded with the reason and
/// the freeze's group and count; audited on the subject. One request per subject and freeze.
pub async fn request_exception(
    ctx: &AppCtx,
    actor: &Actor,
    subject: &str,
    reason: &str,
) -> AppResult<i64> {
    let reason = checked_text("reason", reason, "say why it must go through the freeze")?;
    if actor.user_id.is_none() {
        return Err(AppError::Forbidden(
            "only a person asks for an exception".into(),
        ));
    }
    audit::audited(&ctx.db, actor, async |txn| {
        let found = subject_of(txn, subject).await?;
        let targets = found.targets();
        let Some(note) = frozen(txn, &targets, Some(subject), Utc::now()).await? else {
            return Err(AppError::Conflict(format!(
                "no freeze holds {} now: it needs no exception",
                found.label
            )));
        };
        if note.exception.is_some() {
            return Err(AppError::Conflict(format!(
                "an exception to FreezeWindow {} is asked for {} already",
                note.freeze, found.label
            )));
        }
        let (freeze, _) = windows(txn)
            .await?
            .into_iter()
            .find(|(f, _)| f.metadata.name == note.freeze)
            .ok_or_else(|| AppError::not_found(format_args!("FreezeWindow {}", note.freeze)))?;
        let row = exceptions::ActiveModel {
            freeze: Set(note.freeze.clone()),
            subject: Set(subject.to_string()),
            label: Set(found.label.clone()),
            requested_by: Set(actor.label.clone()),
            reason: Set(reason.clone()),
            group_name: Set(freeze.exception_group.clone()),
            approvals: Set(freeze.approvals as i32),
            created_at: Set(Utc::now()),
            granted_at: Set(None),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        let (entity_type, entity_id) = found.entity;
        let change = Change::new("freeze.exception_request", entity_type, entity_id).after(
            &serde_json::json!({
                "exception": row.id, "freeze": note.freeze, "subject": found.label,
                "reason": reason, "group": freeze.exception_group, "approvals": freeze.approvals,
            }),
        );
        Ok((row.id, change))
    })
    .await
}

/// Approves an exception: by a member of its group who did not ask for it, once each; the
/// approval that makes the count grants it, and what it held looks again at once. Returns
/// whether it is granted.
pub async fn approve_exception(
    ctx: &AppCtx,
    actor: &Actor,
    groups: &[String],
    id: i64,
    comment: &str,
) -> AppResult<bool> {
    let comment = comment.trim().to_string();
    if comment.chars().count() > MAX_TEXT {
        return Err(AppError::invalid(
            "comment",
            format!("at most {MAX_TEXT} characters"),
        ));
    }
    let granted = audit::audited(&ctx.db, actor, async |txn| {
        let row = exceptions::Entity::find_by_id(id)
            .one(txn)
            .await?
            .ok_or_else(|| AppError::not_found(format_args!("Exception {id}")))?;
        if row.granted_at.is_some() {
            return Err(AppError::Conflict(format!(
                "the exception for {} is granted already",
                row.label
            )));
        }
        if !groups.contains(&row.group_name) {
            return Err(AppError::Forbidden(format!(
                "exceptions to FreezeWindow {} are approved by members of {}, and you are not one",
                row.freeze, row.group_name
            )));
        }
        if row.requested_by == actor.label {
            return Err(AppError::Forbidden(format!(
                "you asked for the exception for {}: another member of {} must approve it",
                row.label, row.group_name
            )));
        }
        let given = approvals::Entity::find()
            .filter(approvals::Column::ExceptionId.eq(id))
            .all(txn)
            .await?;
        if given.iter().any(|a| a.approver == actor.label) {
            return Err(AppError::Conflict(format!(
                "you approved the exception for {} already: another member of {} must",
                row.label, row.group_name
            )));
        }
        let now = Utc::now();
        approvals::ActiveModel {
            exception_id: Set(id),
            approver: Set(actor.label.clone()),
            comment: Set(comment.clone()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        let count = given.len() + 1;
        let granted = count >= row.approvals.max(1) as usize;
        if granted {
            let mut active: exceptions::ActiveModel = row.clone().into();
            active.granted_at = Set(Some(now));
            active.update(txn).await?;
            super::jobs::wake_frozen(txn).await?;
        }
        let found = subject_of(txn, &row.subject).await?;
        let (entity_type, entity_id) = found.entity;
        let change = Change::new("freeze.exception_approve", entity_type, entity_id).after(
            &serde_json::json!({
                "exception": id, "freeze": row.freeze, "subject": row.label, "comment": comment,
                "approvals": count, "needed": row.approvals, "granted": granted,
            }),
        );
        Ok((granted, change))
    })
    .await?;
    if granted {
        ctx.jobs_wake.notify_one();
    }
    Ok(granted)
}

async fn exception_view<C: ConnectionTrait>(
    db: &C,
    row: &exceptions::Model,
    viewer: Option<(&str, &[String])>,
) -> AppResult<ExceptionView> {
    let approved_by: Vec<String> = approvals::Entity::find()
        .filter(approvals::Column::ExceptionId.eq(row.id))
        .order_by_asc(approvals::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|a| a.approver)
        .collect();
    let href = match subject_of(db, &row.subject).await {
        Ok(found) => found.href,
        Err(_) => String::new(),
    };
    let can_approve = viewer.is_some_and(|(me, groups)| {
        row.granted_at.is_none()
            && groups.contains(&row.group_name)
            && row.requested_by != me
            && !approved_by.iter().any(|a| a == me)
    });
    Ok(ExceptionView {
        id: row.id,
        freeze: row.freeze.clone(),
        subject: row.subject.clone(),
        label: row.label.clone(),
        href,
        requested_by: row.requested_by.clone(),
        reason: row.reason.clone(),
        group: row.group_name.clone(),
        approvals: row.approvals.max(0) as u32,
        approved_by,
        granted: row.granted_at.is_some(),
        can_approve,
        created_at: when(&row.created_at),
    })
}

/// A frozen note as `viewer` sees it (whether they may approve its exception).
pub async fn note_for<C: ConnectionTrait>(
    db: &C,
    targets: &[Target<'_>],
    subject: &str,
    viewer: (&str, &[String]),
) -> AppResult<Option<FrozenNote>> {
    let Some(mut note) = frozen(db, targets, Some(subject), Utc::now()).await? else {
        return Ok(None);
    };
    if let Some(exception) = &note.exception {
        if let Some(row) = exceptions::Entity::find_by_id(exception.id).one(db).await? {
            note.exception = Some(exception_view(db, &row, Some(viewer)).await?);
        }
    }
    Ok(Some(note))
}

/// Every freeze window as the freezes page shows it, the open exceptions (and those granted in
/// the last week), as `viewer` sees them.
pub async fn overview<C: ConnectionTrait>(
    db: &C,
    viewer: (&str, &[String]),
) -> AppResult<(Vec<FreezeRow>, Vec<ExceptionView>)> {
    let now = Utc::now();
    let all_lifts = lifts::Entity::find().all(db).await?;
    let mut rows = Vec::new();
    for (freeze, revision) in windows(db).await? {
        let current = schedule::window_at(&freeze, now);
        let lift = current.and_then(|w| lift_of(&all_lifts, &freeze.metadata.name, revision, &w));
        let next = schedule::next_window(&freeze, now);
        let state = match (current, lift, next) {
            (Some(_), Some(_), _) => FreezeState::Lifted,
            (Some(_), None, _) => FreezeState::Active,
            (None, _, Some(_)) => FreezeState::Upcoming,
            (None, _, None) => FreezeState::Over,
        };
        let schedule = match schedule::describe_schedule(&freeze) {
            Some(words) => match &freeze.when {
                crate::domain::freezes::When::Recurring {
                    minutes, time_zone, ..
                } => format!(
                    "{words} for {} ({time_zone})",
                    crate::domain::freezes::format_duration(*minutes)
                ),
                _ => words,
            },
            None => freeze.describe_when(),
        };
        let span = |w: &Window| {
            (
                Some(when(&w.start)),
                Some(w.end.map(|e| when(&e)).unwrap_or_else(|| "lifted".into())),
            )
        };
        let (since, until) = current.as_ref().map(span).unwrap_or((None, None));
        rows.push(FreezeRow {
            name: freeze.metadata.name.clone(),
            revision,
            reason: freeze.reason.clone(),
            scope: freeze.scope.describe(),
            schedule,
            state,
            since,
            until,
            next: match (state, next) {
                (FreezeState::Active, _) => None,
                (_, Some(w)) => Some(when(&w.start)),
                _ => None,
            },
            lifted: lift
                .map(|l| format!("by {} at {}: {}", l.lifted_by, when(&l.lifted_at), l.reason)),
            exception_group: freeze.exception_group.clone(),
            approvals: freeze.approvals,
        });
    }
    let order = |s: FreezeState| match s {
        FreezeState::Active => 0,
        FreezeState::Upcoming => 1,
        FreezeState::Lifted => 2,
        FreezeState::Over => 3,
    };
    rows.sort_by(|a, b| {
        order(a.state)
            .cmp(&order(b.state))
            .then(a.name.cmp(&b.name))
    });
    let week_ago = now - chrono::Duration::days(7);
    let open = exceptions::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(exceptions::Column::GrantedAt.is_null())
                .add(exceptions::Column::GrantedAt.gte(week_ago)),
        )
        .order_by_desc(exceptions::Column::Id)
        .all(db)
        .await?;
    let mut views = Vec::new();
    for row in &open {
        views.push(exception_view(db, row, Some(viewer)).await?);
    }
    Ok((rows, views))
}

/// The exceptions that wait for `me`, a member of `groups` (for "Needs you"), with when each was
/// asked for.
pub async fn exceptions_awaiting<C: ConnectionTrait>(
    db: &C,
    me: &str,
    groups: &[String],
) -> AppResult<Vec<(DateTime<Utc>, ExceptionView)>> {
    if groups.is_empty() {
        return Ok(Vec::new());
    }
    let open = exceptions::Entity::find()
        .filter(exceptions::Column::GrantedAt.is_null())
        .filter(exceptions::Column::GroupName.is_in(groups.to_vec()))
        .order_by_asc(exceptions::Column::Id)
        .all(db)
        .await?;
    let mut views = Vec::new();
    for row in &open {
        let view = exception_view(db, row, Some((me, groups))).await?;
        if view.can_approve {
            views.push((row.created_at, view));
        }
    }
    Ok(views)
}
