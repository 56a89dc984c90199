//! Personal access tokens. The token is `slw_` and 40 random base-62 characters; only its
//! SHA-256 is stored, with the first 8 characters to tell tokens apart. It is shown once.

use super::audit::{self, Change};
use super::entities::{access_tokens, users};
use super::Actor;
use crate::domain::names::validate_text;
use crate::error::{AppError, AppResult};
use crate::wire::tokens::{AccessTokenRow, CreatedToken};
use chrono::Utc;
use rand::Rng;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};
use sha2::{Digest, Sha256};

const TOKEN_PREFIX: &str = "slw_";
const SHOWN_PREFIX: usize = 8;
/// Tokens a person may hold at once (revoked ones excluded).
const MAX_ACTIVE: usize = 50;

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// What a token may do.
pub const SCOPES: [&str; 2] = ["read", "write"];
/// The lifetimes a token may be given, in days.
pub const LIFETIMES: [i64; 4] = [7, 30, 90, 365];

/// A token that authenticated: whose it is and whether it may push.
pub struct TokenUser {
    pub user: users::Model,
    pub may_write: bool,
}

fn row(model: &access_tokens::Model) -> AccessTokenRow {
    AccessTokenRow {
        scope: model.scope.clone(),
        expires_at: model.expires_at.as_ref().map(super::when),
        expired: model.expires_at.is_some_and(|at| at <= Utc::now()),
        id: model.id,
        name: model.name.clone(),
        prefix: model.prefix.clone(),
        created_at: super::when(&model.created_at),
        last_used_at: model.last_used_at.as_ref().map(super::when),
        revoked_at: model.revoked_at.as_ref().map(super::when),
    }
}

pub async fn list(db: &DatabaseConnection, user_id: i64) -> AppResult<Vec<AccessTokenRow>> {
    Ok(access_tokens::Entity::find()
        .filter(access_tokens::Column::UserId.eq(user_id))
        .order_by_desc(access_tokens::Column::Id)
        .all(db)
        .await?
        .iter()
        .map(row)
        .collect())
}

pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    name: &str,
    scope: &str,
    days: i64,
) -> AppResult<CreatedToken> {
    let scope = scope.trim();
    let mut errors = Vec::new();
    if !SCOPES.contains(&scope) {
        errors.push((
            "scope",
            "choose read (clone and fetch) or write (push too)".to_string(),
        ));
    }
    if !LIFETIMES.contains(&days) {
        errors.push(("days", "choose 7, 30, 90 or 365 days".to_string()));
    }
    if let Some((field, message)) = errors.into_iter().next() {
        return Err(AppError::invalid(field, message));
    }
    let user_id = actor
        .user_id
        .ok_or_else(|| AppError::internal("a token belongs to a person"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::invalid(
            "name",
            "is required: say what the token is for, e.g. \"laptop git\"",
        ));
    }
    validate_text(name, 100).map_err(|m| AppError::invalid("name", m))?;
    audit::audited(db, actor, async |txn| {
        let active = access_tokens::Entity::find()
            .filter(access_tokens::Column::UserId.eq(user_id))
            .filter(access_tokens::Column::RevokedAt.is_null())
            .all(txn)
            .await?;
        if active.iter().any(|t| t.name == name) {
            return Err(AppError::invalid(
                "name",
                format!("you already have a token named {name:?}"),
            ));
        }
        if active.len() >= MAX_ACTIVE {
            return Err(AppError::invalid(
                "name",
                format!("you already hold {MAX_ACTIVE} tokens; revoke one first"),
            ));
        }
        let token = generate();
        let model = access_tokens::ActiveModel {
            user_id: Set(user_id),
            name: Set(name.to_string()),
            prefix: Set(token[..SHOWN_PREFIX].to_string()),
            token_hash: Set(hash(&token)),
            scope: Set(scope.to_string()),
            expires_at: Set(Some(Utc::now() + chrono::Duration::days(days))),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        let created = row(&model);
        let change = Change::new("access_token.create", "user", &actor.label).after(&created);
        Ok((
            CreatedToken {
                row: created,
                token,
            },
            change,
        ))
    })
    .await
}

/// Revokes one of the actor's own tokens; someone else's is "not found", as if it did not exist.
pub async fn revoke(db: &DatabaseConnection, actor: &Actor, id: i64) -> AppResult<AccessTokenRow> {
    audit::audited(db, actor, async |txn| {
        let model = access_tokens::Entity::find_by_id(id)
            .filter(access_tokens::Column::UserId.eq(actor.user_id.unwrap_or(-1)))
            .one(txn)
            .await?
            .ok_or_else(|| AppError::not_found(format!("Access token {id}")))?;
        if model.revoked_at.is_some() {
            return Ok((row(&model), None));
        }
        let before = row(&model);
        let mut active = model.into_active_model();
        active.revoked_at = Set(Some(Utc::now()));
        let after = row(&active.update(txn).await?);
        let change = Change::new("access_token.revoke", "user", &actor.label)
            .before(&before)
            .after(&after);
        Ok((after, Some(change)))
    })
    .await
}

/// The person a token stands for, if it is one of ours, not revoked and not expired. Marks it
/// used (at most once a minute, so a busy clone does not write on every request).
pub async fn authenticate(db: &DatabaseConnection, token: &str) -> AppResult<Option<TokenUser>> {
    if !token.starts_with(TOKEN_PREFIX) || token.len() > 100 {
        return Ok(None);
    }
    let Some(model) = access_tokens::Entity::find()
        .filter(access_tokens::Column::TokenHash.eq(hash(token)))
        .filter(access_tokens::Column::RevokedAt.is_null())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let now = Utc::now();
    if model.expires_at.is_some_and(|at| at <= now) {
        return Ok(None);
    }
    if model
        .last_used_at
        .is_none_or(|t| now - t > chrono::Duration::minutes(1))
    {
        access_tokens::Entity::update_many()
            .col_expr(
                access_tokens::Column::LastUsedAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(access_tokens::Column::Id.eq(model.id))
            .exec(db)
            .await?;
    }
    Ok(users::Entity::find_by_id(model.user_id)
        .one(db)
        .await?
        .map(|user| TokenUser {
            user,
            may_write: model.scope == "write",
        }))
}

fn generate() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rngs::OsRng;
    let body: String = (0..40)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{TOKEN_PREFIX}{body}")
}
