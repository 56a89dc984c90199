//! Durable jobs. A job is a row: enqueued in the transaction of the change that asks for it,
//! claimed by one worker at a time under a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the
//! write lock on SQLite), kept alive by heartbeats, retried with backoff when it fails with a
//! retryable error, and reclaimed by any worker when its lease runs out (its worker stopped).
//! Its output is kept line by line, so a page can stream it while it runs.

use super::entities::{job_logs, jobs};
use crate::domain::jobs::{backoff_seconds, JobStatus};
use crate::error::{AppError, AppResult};
pub use crate::wire::executors::LogLine;
use chrono::{Duration, Utc};
use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

/// A kind of durable job, as crates.io's `BackgroundJob`: its name in the queue and the payload
/// it carries, so that what is enqueued and what the worker reads are one type.
pub trait JobKind {
    /// The `jobs.kind` of its rows.
    const NAME: &'static str;
    type Payload: serde::Serialize + serde::de::DeserializeOwned + Send;
}

/// A job whose end is only its own: the worker runs it and records the outcome (a workspace
/// job, or an executor run, records its end with the resource or run it changes instead).
pub trait PlainJob: JobKind {
    fn run<'a>(
        ctx: &'a super::AppCtx,
        payload: Self::Payload,
        say: &'a (dyn Fn(String) + Send + Sync),
    ) -> impl std::future::Future<Output = Result<(), super::ports::ExternalError>> + Send + 'a;
}

/// Adds a job of kind `J` (see [`enqueue`]).
pub async fn enqueue_job<J: JobKind, C: ConnectionTrait>(
    db: &C,
    payload: &J::Payload,
    idempotency_key: Option<&str>,
    serial_key: Option<&str>,
    max_attempts: i32,
) -> AppResult<jobs::Model> {
    let payload = serde_json::to_value(payload).map_err(AppError::internal)?;
    enqueue(
        db,
        J::NAME,
        &payload,
        idempotency_key,
        serial_key,
        max_attempts,
    )
    .await
}

/// A claimed job's payload, as its kind reads it.
pub fn payload_of<J: JobKind>(job: &jobs::Model) -> Result<J::Payload, String> {
    serde_json::from_str(&job.payload).map_err(|e| format!("the job's payload does not read: {e}"))
}

/// Adds a job. With an idempotency key, enqueuing again returns the job already there. Jobs with
/// the same serial key run one at a time, in the order they were enqueued (a workspace's jobs).
pub async fn enqueue<C: ConnectionTrait>(
    db: &C,
    kind: &str,
    payload: &serde_json::Value,
    idempotency_key: Option<&str>,
    serial_key: Option<&str>,
    max_attempts: i32,
) -> AppResult<jobs::Model> {
    // Jobs of one serial key run in id order, so ids must follow commit order: on PostgreSQL
    // ids come from a sequence, and two transactions enqueuing for the same key could commit
    // in the other order, letting the later job run first. A transaction-scoped lock per key
    // makes the second enqueuer wait for the first to commit. (SQLite writes one at a time.)
    if let (Some(key), DatabaseBackend::Postgres) = (serial_key, db.get_database_backend()) {
        db.execute_raw(sea_orm::Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_advisory_xact_lock(hashtext($1))",
            [key.into()],
        ))
        .await?;
    }
    if let Some(key) = idempotency_key {
        if let Some(existing) = jobs::Entity::find()
            .filter(jobs::Column::IdempotencyKey.eq(key))
            .one(db)
            .await?
        {
            return Ok(existing);
        }
    }
    let now = Utc::now();
    Ok(jobs::ActiveModel {
        kind: Set(kind.to_string()),
        payload: Set(payload.to_string()),
        status: Set(JobStatus::Queued),
        attempts: Set(0),
        max_attempts: Set(max_attempts.max(1)),
        run_at: Set(now),
        locked_by: Set(None),
        locked_until: Set(None),
        last_error: Set(None),
        idempotency_key: Set(idempotency_key.map(str::to_string)),
        created_at: Set(now),
        updated_at: Set(now),
        finished_at: Set(None),
        serial_key: Set(serial_key.map(str::to_string)),
        waiting_on: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// Claims the next due job for `worker` under a lease: a queued job whose time has come, or a
/// running one whose lease ran out. A stale job that has used all its attempts is failed
/// instead of run again.
pub async fn claim(
    db: &sea_orm::DatabaseConnection,
    worker: &str,
    lease: std::time::Duration,
) -> AppResult<Option<jobs::Model>> {
    loop {
        let now = Utc::now();
        let txn = super::begin_write(db).await?;
        let due = Condition::any()
            .add(
                Condition::all()
                    .add(jobs::Column::Status.eq(JobStatus::Queued))
                    .add(jobs::Column::RunAt.lte(now)),
            )
            .add(
                Condition::all()
                    .add(jobs::Column::Status.eq(JobStatus::Running))
                    .add(jobs::Column::LockedUntil.lt(now)),
            );
        let mut query = jobs::Entity::find()
            .filter(due)
            // Strict order per serial key: nothing runs while an earlier job of its key is
            // unfinished (queued for a retry, or running).
            .filter(Expr::cust(format!(
                "NOT EXISTS (SELECT 1 FROM jobs AS earlier \
                 WHERE earlier.serial_key = jobs.serial_key AND earlier.id < jobs.id \
                 AND earlier.status IN ('{}', '{}'))",
                JobStatus::Queued,
                JobStatus::Running
            )))
            .order_by_asc(jobs::Column::RunAt)
            .order_by_asc(jobs::Column::Id)
            .limit(1);
        if db.get_database_backend() == DatabaseBackend::Postgres {
            query = query.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let Some(job) = query.one(&txn).await? else {
            txn.commit().await?;
            return Ok(None);
        };
        let mut active: jobs::ActiveModel = job.clone().into();
        if job.status == JobStatus::Running && job.attempts >= job.max_attempts {
            active.status = Set(JobStatus::Failed);
            active.locked_by = Set(None);
            active.locked_until = Set(None);
            active.last_error = Set(Some(format!(
                "the worker running attempt {} stopped, and no attempts are left",
                job.attempts
            )));
            active.finished_at = Set(Some(now));
            active.updated_at = Set(now);
            active.update(&txn).await?;
            txn.commit().await?;
            continue;
        }
        active.status = Set(JobStatus::Running);
        active.attempts = Set(job.attempts + 1);
        active.waiting_on = Set(None);
        active.locked_by = Set(Some(worker.to_string()));
        active.locked_until = Set(Some(now + lease_of(lease)));
        active.updated_at = Set(now);
        let claimed = active.update(&txn).await?;
        txn.commit().await?;
        return Ok(Some(claimed));
    }
}

fn lease_of(lease: std::time::Duration) -> Duration {
    Duration::from_std(lease).unwrap_or_else(|_| Duration::seconds(60))
}

/// Extends the lease; false when the job is no longer this worker's (it was reclaimed).
pub async fn heartbeat(
    db: &sea_orm::DatabaseConnection,
    job_id: i64,
    worker: &str,
    lease: std::time::Duration,
) -> AppResult<bool> {
    let result = jobs::Entity::update_many()
        .col_expr(
            jobs::Column::LockedUntil,
            sea_orm::sea_query::Expr::value(Utc::now() + lease_of(lease)),
        )
        .filter(jobs::Column::Id.eq(job_id))
        .filter(jobs::Column::Status.eq(JobStatus::Running))
        .filter(jobs::Column::LockedBy.eq(worker))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// How an attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    /// Worth another attempt (a network error, a lock held elsewhere).
    Retry(String),
    /// Worth another attempt no sooner than this many seconds (a rate limit's `Retry-After`).
    RetryAfter(String, u64),
    /// Another attempt would fail the same way (bad input, a missing program).
    Fail(String),
    /// Not now: a freeze holds what it would change. Queued again for `until` (sooner if the
    /// freeze is lifted or edited, or an exception is granted), without using an attempt.
    Wait(String, chrono::DateTime<Utc>),
}

impl Outcome {
    /// How an attempt that failed with `error` ends: retried (after the wait the far side
    /// asked for, if it did) or failed for good.
    pub fn of_error(error: &super::ports::ExternalError) -> Outcome {
        if let Some(until) = error.waiting_until {
            return Outcome::Wait(error.message.clone(), until);
        }
        match (error.retryable, error.retry_after) {
            (true, Some(seconds)) => Outcome::RetryAfter(error.message.clone(), seconds),
            (true, None) => Outcome::Retry(error.message.clone()),
            (false, _) => Outcome::Fail(error.message.clone()),
        }
    }

    /// Why the attempt failed, if it did.
    pub fn error(&self) -> Option<&str> {
        match self {
            Outcome::Succeeded => None,
            Outcome::Retry(e) | Outcome::RetryAfter(e, _) | Outcome::Fail(e) => Some(e),
            Outcome::Wait(..) => None,
        }
    }
}

/// Records the end of an attempt, within `db` (the caller's transaction, so the job and what it
/// changed commit together). Returns the job's new status.
pub async fn finish<C: ConnectionTrait>(
    db: &C,
    job_id: i64,
    worker: &str,
    outcome: &Outcome,
) -> AppResult<JobStatus> {
    let job = jobs::Entity::find_by_id(job_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found(format_args!("The job #{job_id}")))?;
    if job.status != JobStatus::Running || job.locked_by.as_deref() != Some(worker) {
        return Err(AppError::Conflict(format!(
            "job #{job_id} is no longer held by {worker}"
        )));
    }
    let now = Utc::now();
    let mut active: jobs::ActiveModel = job.clone().into();
    active.locked_by = Set(None);
    active.locked_until = Set(None);
    active.updated_at = Set(now);
    let status = match outcome {
        Outcome::Succeeded => {
            active.last_error = Set(None);
            active.finished_at = Set(Some(now));
            JobStatus::Succeeded
        }
        Outcome::Wait(why, until) => {
            // Checked again at least hourly, whatever the freeze says: an edit could shorten it.
            active.attempts = Set((job.attempts - 1).max(0));
            active.last_error = Set(Some(why.clone()));
            active.run_at = Set((*until).min(now + Duration::hours(1)).max(now));
            active.waiting_on = Set(Some(WAITING_ON_FREEZE.to_string()));
            JobStatus::Queued
        }
        Outcome::Retry(error) | Outcome::RetryAfter(error, _)
            if job.attempts < job.max_attempts =>
        {
            let asked = match outcome {
                Outcome::RetryAfter(_, seconds) => (*seconds).min(3600) as i64,
                _ => 0,
            };
            active.last_error = Set(Some(error.clone()));
            active.run_at = Set(now + Duration::seconds(backoff_seconds(job.attempts).max(asked)));
            JobStatus::Queued
        }
        Outcome::Retry(error) | Outcome::RetryAfter(error, _) | Outcome::Fail(error) => {
            active.last_error = Set(Some(error.clone()));
            active.finished_at = Set(Some(now));
            JobStatus::Failed
        }
    };
    active.status = Set(status);
    active.update(db).await?;
    Ok(status)
}

/// What a job waiting for a freeze notes in `jobs.waiting_on`.
pub const WAITING_ON_FREEZE: &str = "freeze";

/// Makes every job that waits for a freeze due now, to look again (a freeze was lifted or
/// edited, or an exception granted); within the caller's transaction.
pub async fn wake_frozen<C: ConnectionTrait>(db: &C) -> AppResult<u64> {
    let result = jobs::Entity::update_many()
        .col_expr(jobs::Column::RunAt, Expr::value(Utc::now()))
        .filter(jobs::Column::Status.eq(JobStatus::Queued))
        .filter(jobs::Column::WaitingOn.eq(WAITING_ON_FREEZE))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// The next sequence number for a job's log.
pub async fn next_seq<C: ConnectionTrait>(db: &C, job_id: i64) -> AppResult<i32> {
    Ok(job_logs::Entity::find()
        .filter(job_logs::Column::JobId.eq(job_id))
        .order_by_desc(job_logs::Column::Seq)
        .one(db)
        .await?
        .map(|l| l.seq + 1)
        .unwrap_or(1))
}

/// Appends lines (already numbered by the caller from `next_seq`).
pub async fn append_log<C: ConnectionTrait>(
    db: &C,
    job_id: i64,
    lines: &[LogLine],
) -> AppResult<()> {
    if lines.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    job_logs::Entity::insert_many(lines.iter().map(|l| job_logs::ActiveModel {
        job_id: Set(job_id),
        seq: Set(l.seq),
        attempt: Set(l.attempt),
        stream: Set(l.stream.clone()),
        line: Set(l.line.clone()),
        at: Set(now),
        ..Default::default()
    }))
    .exec(db)
    .await?;
    Ok(())
}

/// Lines after `after` (0 for all), at most `limit`.
pub async fn log_after<C: ConnectionTrait>(
    db: &C,
    job_id: i64,
    after: i32,
    limit: u64,
) -> AppResult<Vec<LogLine>> {
    Ok(job_logs::Entity::find()
        .filter(job_logs::Column::JobId.eq(job_id))
        .filter(job_logs::Column::Seq.gt(after))
        .order_by_asc(job_logs::Column::Seq)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|l| LogLine {
            seq: l.seq,
            attempt: l.attempt,
            stream: l.stream,
            line: l.line,
        })
        .collect())
}
