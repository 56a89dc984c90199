//! Writing and reading the audit log. `record` must be called inside the transaction that makes
//! the change, so the change and its event commit or roll back together.

use super::entities::{audit_events, audit_head};
use super::Actor;
use crate::domain::audit::{AuditRecord, ChainBreak, ChainHead, ChainVerifier, StoredEvent};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Set,
};
use serde::Serialize;

/// One change to record. `before` and `after` are the entity's state as JSON; either may be
/// absent (creation, deletion, or an event that changes no stored entity).
pub struct Change<'a> {
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl<'a> Change<'a> {
    pub fn new(action: &'a str, entity_type: &'a str, entity_id: impl ToString) -> Change<'a> {
        Change {
            action,
            entity_type,
            entity_id: entity_id.to_string(),
            before: None,
            after: None,
        }
    }

    pub fn before(mut self, value: &impl Serialize) -> Self {
        self.before = serde_json::to_value(value).ok();
        self
    }

    pub fn after(mut self, value: &impl Serialize) -> Self {
        self.after = serde_json::to_value(value).ok();
        self
    }
}

/// Runs `write` in one write transaction, records the change it returns in that same
/// transaction, and commits: the change and its audit event land together or not at all. A
/// refusal from `write` rolls back everything it did. `write` may answer `None` for a change
/// when it found nothing to do (revoking what is already revoked): nothing is recorded then.
pub async fn audited<T, C: Into<Option<Change<'static>>>>(
    db: &sea_orm::DatabaseConnection,
    actor: &Actor,
    write: impl AsyncFnOnce(&sea_orm::DatabaseTransaction) -> crate::error::AppResult<(T, C)>,
) -> crate::error::AppResult<T> {
    let txn = super::begin_write(db).await?;
    let (value, change) = write(&txn).await?;
    if let Some(change) = change.into() {
        record(&txn, actor, change).await?;
    }
    txn.commit().await?;
    Ok(value)
}

/// Records an event that changes nothing else (a refused sign-in, a push the forge took), in a
/// transaction of its own.
pub async fn event(
    db: &sea_orm::DatabaseConnection,
    actor: &Actor,
    change: Change<'static>,
) -> crate::error::AppResult<()> {
    audited(db, actor, async |_| Ok(((), Some(change)))).await
}

/// Appends one event to the chain. The head row is bumped first: on PostgreSQL that row lock
/// serialises concurrent writers, on SQLite the write lock does, so the chain never forks.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    change: Change<'_>,
) -> Result<i64, DbErr> {
    let head = audit_head::Entity::update_many()
        .col_expr(
            audit_head::Column::LastSeq,
            Expr::col(audit_head::Column::LastSeq).add(1),
        )
        .filter(audit_head::Column::Id.eq(1))
        .exec_with_returning(db)
        .await?
        .pop()
        .ok_or_else(|| DbErr::RecordNotFound("audit_head row 1".into()))?;
    let record = AuditRecord {
        seq: head.last_seq,
        occurred_at: chrono::Utc::now()
            .format("%Y-%m-%dT%H:%M:%S%.6fZ")
            .to_string(),
        actor_id: actor.user_id,
        actor: actor.label.clone(),
        action: change.action.to_string(),
        entity_type: change.entity_type.to_string(),
        entity_id: change.entity_id,
        before: change.before.map(|v| v.to_string()),
        after: change.after.map(|v| v.to_string()),
        prev_hash: head.last_hash.clone(),
    };
    let hash = record.compute_hash();
    audit_events::ActiveModel {
        seq: Set(record.seq),
        occurred_at: Set(record.occurred_at),
        actor_id: Set(record.actor_id),
        actor: Set(record.actor),
        action: Set(record.action),
        entity_type: Set(record.entity_type),
        entity_id: Set(record.entity_id),
        before: Set(record.before),
        after: Set(record.after),
        prev_hash: Set(record.prev_hash),
        hash: Set(hash.clone()),
    }
    .insert(db)
    .await?;
    audit_head::Entity::update_many()
        .col_expr(audit_head::Column::LastHash, Expr::value(hash))
        .filter(audit_head::Column::Id.eq(1))
        .exec(db)
        .await?;
    Ok(head.last_seq)
}

/// The outcome of `verify`: how many events were checked, or the first break.
pub async fn verify<C: ConnectionTrait>(db: &C) -> Result<Result<u64, ChainBreak>, DbErr> {
    let head = audit_head::Entity::find_by_id(1)
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("audit_head row 1".into()))?;
    // Paged so a long log never sits in memory at once; a break is reported as soon as found.
    let mut pages = audit_events::Entity::find()
        .order_by_asc(audit_events::Column::Seq)
        .paginate(db, 2000);
    let mut verifier = ChainVerifier::default();
    while let Some(page) = pages.fetch_and_next().await? {
        for model in page {
            if let Err(found) = verifier.push(&stored_event(model)) {
                return Ok(Err(found));
            }
        }
    }
    Ok(verifier.finish(&ChainHead {
        last_seq: head.last_seq,
        last_hash: head.last_hash,
    }))
}

fn stored_event(model: audit_events::Model) -> StoredEvent {
    StoredEvent {
        hash: model.hash,
        record: AuditRecord {
            seq: model.seq,
            occurred_at: model.occurred_at,
            actor_id: model.actor_id,
            actor: model.actor,
            action: model.action,
            entity_type: model.entity_type,
            entity_id: model.entity_id,
            before: model.before,
            after: model.after,
            prev_hash: model.prev_hash,
        },
    }
}

/// One page of events matching the filter, newest first.

/// The name an event's own record gives its entity: `slug`, `key`, `login`, `name` or
/// `repository`, from after the change, else from before it.
fn entity_name(after: Option<&str>, before: Option<&str>) -> Option<String> {
    [after, before].into_iter().flatten().find_map(|json| {
        let value: serde_json::Value = serde_json::from_str(json).ok()?;
        ["slug", "key", "login", "name", "repository"]
            .iter()
            .find_map(|k| value.get(*k)?.as_str().map(str::to_string))
            .filter(|name| !name.is_empty())
    })
}

pub async fn list<C: ConnectionTrait>(
    db: &C,
    filter: &crate::wire::audit::AuditFilter,
) -> Result<crate::wire::audit::AuditPage, crate::error::AppError> {
    use crate::wire::audit::{AuditEventRow, AuditPage, AUDIT_PAGE_SIZE};
    let paginator = filtered(filter)?.paginate(db, AUDIT_PAGE_SIZE);
    let counts = paginator.num_items_and_pages().await?;
    let page = Ord::max(filter.page, 1);
    let events = paginator
        .fetch_page(page - 1)
        .await?
        .into_iter()
        .map(|e| AuditEventRow {
            entity_name: entity_name(e.after.as_deref(), e.before.as_deref())
                .unwrap_or_else(|| e.entity_id.clone()),
            seq: e.seq,
            occurred_at: e.occurred_at,
            actor: e.actor,
            action: e.action,
            entity_type: e.entity_type,
            entity_id: e.entity_id,
            before: e.before,
            after: e.after,
            hash: e.hash,
        })
        .collect();
    Ok(AuditPage {
        events,
        page,
        pages: Ord::max(counts.number_of_pages, 1),
        total: counts.number_of_items,
    })
}

/// The filter's first and last day, both refused together when they are not dates.
fn days(
    filter: &crate::wire::audit::AuditFilter,
) -> Result<(Option<chrono::NaiveDate>, Option<chrono::NaiveDate>), crate::error::AppError> {
    let day = |field: &str, text: &str| -> Result<Option<chrono::NaiveDate>, (String, String)> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                (
                    field.to_string(),
                    format!("{text:?} is not a date (YYYY-MM-DD)"),
                )
            })
    };
    match (day("from", &filter.from), day("to", &filter.to)) {
        (Ok(from), Ok(to)) => Ok((from, to)),
        (from, to) => {
            let problems = [from.err(), to.err()].into_iter().flatten().collect();
            Err(crate::error::AppError::invalid_all(problems)
                .unwrap_or_else(|| crate::error::AppError::internal("no problem")))
        }
    }
}

/// The events the filter asks for, newest first: by actor, entity (`type` or `type:id`), days
/// (`from`, `to`, inclusive), words anywhere in the event, and action (`workspace.` for a
/// prefix). Bad dates are refused together.
fn filtered(
    filter: &crate::wire::audit::AuditFilter,
) -> Result<sea_orm::Select<audit_events::Entity>, crate::error::AppError> {
    let mut query = audit_events::Entity::find().order_by_desc(audit_events::Column::Seq);
    let actor = filter.actor.trim();
    if !actor.is_empty() {
        query = query.filter(audit_events::Column::Actor.eq(actor));
    }
    let entity = filter.entity.trim();
    if !entity.is_empty() {
        let (entity_type, entity_id) = match entity.split_once(':') {
            Some((t, id)) => (t, Some(id)),
            None => (entity, None),
        };
        query = query.filter(audit_events::Column::EntityType.eq(entity_type));
        if let Some(id) = entity_id {
            query = query.filter(audit_events::Column::EntityId.eq(id));
        }
    }
    // Days are compared as the stored RFC 3339 text sorts: from the day's start, to before the
    // next day's.
    let (from, to) = days(filter)?;
    if let Some(from) = from {
        query =
            query.filter(audit_events::Column::OccurredAt.gte(from.format("%Y-%m-%d").to_string()));
    }
    if let Some(to) = to {
        let next = to.succ_opt().unwrap_or(to);
        query =
            query.filter(audit_events::Column::OccurredAt.lt(next.format("%Y-%m-%d").to_string()));
    }
    // Every word must appear somewhere in the event, in any case (lowered on both sides, as
    // PostgreSQL's LIKE minds case and SQLite's does not).
    for word in filter.text.split_whitespace().take(8) {
        let pattern = format!(
            "%{}%",
            word.to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let like = |column: audit_events::Column| {
            use sea_orm::sea_query::{Expr, Func, LikeExpr};
            Expr::expr(Func::lower(Expr::col(column)))
                .like(LikeExpr::new(pattern.clone()).escape('\\'))
        };
        query = query.filter(
            sea_orm::Condition::any()
                .add(like(audit_events::Column::Actor))
                .add(like(audit_events::Column::Action))
                .add(like(audit_events::Column::EntityType))
                .add(like(audit_events::Column::EntityId))
                .add(like(audit_events::Column::Before))
                .add(like(audit_events::Column::After)),
        );
    }
    let action = filter.action.trim();
    if !action.is_empty() {
        query = if action.ends_with('.') {
            query.filter(audit_events::Column::Action.starts_with(action))
        } else {
            query.filter(audit_events::Column::Action.eq(action))
        };
    }
    Ok(query)
}
