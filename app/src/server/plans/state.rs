//! The state a resource's runs read and write: Slipway as the runtime's HTTP state backend.
//! Every version is kept, sealed; a lock per resource lives in the database, so a second run
//! (on any replica) waits for it or fails naming who holds it.

use super::*;
use sha2::Digest;

/// The newest state of a resource, opened (`None`: no state yet).
pub async fn current_state(ctx: &AppCtx, resource_id: i64) -> AppResult<Option<String>> {
    let Some(id) = latest_state_id(&ctx.db, resource_id).await? else {
        return Ok(None);
    };
    let version = state_versions::Entity::find_by_id(id)
        .one(&ctx.db)
        .await?
        .ok_or_else(|| AppError::not_found("The state version"))?;
    ctx.secrets
        .open(&state_purpose(resource_id), &version.state)
        .map(Some)
        .map_err(|e| AppError::internal(format!("state version #{id}: {e}")))
}

/// Why a state write or lock was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum StateRefusal {
    /// Locked by another run: its lock info as the runtime sent it.
    Locked(String),
    Invalid(String),
}

/// The largest state accepted (a real estate's state is a few MiB; this leaves room).
pub const MAX_STATE_BYTES: usize = 64 << 20;

/// Keeps a new version of the resource's state, as a run wrote it (`lock_id`: the lock the run
/// holds, as the runtime names it). Refused while another run holds the lock.
pub async fn save_state(
    ctx: &AppCtx,
    resource_id: i64,
    plan_id: Option<i64>,
    lock_id: Option<&str>,
    body: &str,
    actor: &Actor,
) -> AppResult<Result<i64, StateRefusal>> {
    if body.len() > MAX_STATE_BYTES {
        return Ok(Err(StateRefusal::Invalid(format!(
            "the state is larger than {} MiB",
            MAX_STATE_BYTES >> 20
        ))));
    }
    let parsed: serde_json::Value = match serde_json::from_str(body) {
        Ok(parsed) => parsed,
        Err(e) => {
            return Ok(Err(StateRefusal::Invalid(format!(
                "the state is not JSON: {e}"
            ))))
        }
    };
    let (Some(serial), Some(lineage)) = (parsed["serial"].as_i64(), parsed["lineage"].as_str())
    else {
        return Ok(Err(StateRefusal::Invalid(
            "the state names no serial and lineage".into(),
        )));
    };
    let lineage = lineage.chars().take(64).collect::<String>();
    let sealed = ctx.secrets.seal(&state_purpose(resource_id), body);
    let sha = hex::encode(sha2::Sha256::digest(body.as_bytes()));
    audit::audited(&ctx.db, actor, async |txn| {
        if let Some(lock) = state_locks::Entity::find_by_id(resource_id).one(txn).await? {
            if Some(lock.lock_id.as_str()) != lock_id {
                return Ok((Err(StateRefusal::Locked(lock.info)), None));
            }
        }
        let version = state_versions::ActiveModel {
            resource_id: Set(resource_id),
            serial: Set(serial),
            lineage: Set(lineage.clone()),
            state: Set(sealed.clone()),
            size: Set(body.len() as i64),
            sha256: Set(sha.clone()),
            plan_id: Set(plan_id),
            created_by: Set(actor.label.clone()),
            created_at: Set(chrono::Utc::now()),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        let change = Change::new("resource.state_saved", "resource", resource_id).after(
            &serde_json::json!({ "version": version.id, "serial": serial, "lineage": lineage, "sha256": sha, "plan": plan_id }),
        );
        Ok((Ok(version.id), Some(change)))
    })
    .await
}

/// Takes the resource's state lock for a run; refused (with the holder's info) while another
/// run holds it.
pub async fn lock_state(
    ctx: &AppCtx,
    resource_id: i64,
    info: &str,
    holder: &str,
) -> AppResult<Result<(), StateRefusal>> {
    let parsed: serde_json::Value = serde_json::from_str(info)
        .map_err(|e| AppError::invalid("lock", format!("the lock info is not JSON: {e}")))?;
    let Some(lock_id) = parsed["ID"].as_str().map(str::to_string) else {
        return Ok(Err(StateRefusal::Invalid(
            "the lock info names no ID".into(),
        )));
    };
    let txn = crate::server::begin_write(&ctx.db).await?;
    if let Some(lock) = state_locks::Entity::find_by_id(resource_id)
        .one(&txn)
        .await?
    {
        return Ok(Err(StateRefusal::Locked(lock.info)));
    }
    let mut info: serde_json::Value = parsed;
    // Who holds it, as a person reads it: the run, not the sandbox's user name.
    info["Who"] = serde_json::Value::String(holder.to_string());
    let inserted = state_locks::ActiveModel {
        resource_id: Set(resource_id),
        lock_id: Set(lock_id),
        info: Set(info.to_string()),
        holder: Set(holder.to_string()),
        locked_at: Set(chrono::Utc::now()),
    }
    .insert(&txn)
    .await;
    match inserted {
        Ok(_) => {
            txn.commit().await?;
            Ok(Ok(()))
        }
        // Two runs at once on PostgreSQL: the other insert won.
        Err(_) => {
            drop(txn);
            let held = state_locks::Entity::find_by_id(resource_id)
                .one(&ctx.db)
                .await?
                .map(|l| l.info)
                .unwrap_or_default();
            Ok(Err(StateRefusal::Locked(held)))
        }
    }
}

/// Releases the lock `lock_id` holds; false when the lock is not that one.
pub async fn unlock_state(ctx: &AppCtx, resource_id: i64, lock_id: &str) -> AppResult<bool> {
    let deleted = state_locks::Entity::delete_many()
        .filter(state_locks::Column::ResourceId.eq(resource_id))
        .filter(state_locks::Column::LockId.eq(lock_id))
        .exec(&ctx.db)
        .await?;
    Ok(deleted.rows_affected > 0)
}
