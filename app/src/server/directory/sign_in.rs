//! Signing in: a provider's verified identity to a user, linked or created; refusals and sign-outs audited.

use super::*;

/// What a sign-in provider vouched for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedSignIn {
    /// `github`, `microsoft`, `oidc` or `demo`.
    pub provider: String,
    /// The provider's stable id for the account (GitHub's numeric id, OIDC `sub`/`oid`).
    pub subject: String,
    pub login_hint: String,
    pub email: Option<String>,
    /// Only a verified email may join this identity to an existing user.
    pub email_verified: bool,
    pub name: String,
}

/// Signs a verified identity in: finds its user, links it (to `link_to`, the user already signed
/// in, or to the user with the same verified email), or creates a user. Returns the user.
pub async fn sign_in(
    db: &DatabaseConnection,
    claims: &VerifiedSignIn,
    link_to: Option<i64>,
    admins: &[String],
) -> AppResult<users::Model> {
    let txn = crate::server::begin_write(db).await?;
    let now = chrono::Utc::now();
    let email = claims.email.as_ref().map(|e| e.trim().to_lowercase());
    let existing = identities::Entity::find()
        .filter(identities::Column::Provider.eq(&claims.provider))
        .filter(identities::Column::Subject.eq(&claims.subject))
        .one(&txn)
        .await?;
    let user = match existing {
        Some(identity) => {
            if let Some(other) = link_to.filter(|other| *other != identity.user_id) {
                let _ = other;
                return Err(AppError::Conflict(format!(
                    "This {} account is already linked to another Slipway user.",
                    claims.provider
                )));
            }
            users::Entity::find_by_id(identity.user_id)
                .one(&txn)
                .await?
                .ok_or_else(|| AppError::internal("identity without user"))?
        }
        None => {
            let linked = match link_to {
                Some(user_id) => users::Entity::find_by_id(user_id).one(&txn).await?,
                None => match (&email, claims.email_verified) {
                    (Some(email), true) => {
                        users::Entity::find()
                            .filter(users::Column::Email.eq(email.as_str()))
                            .one(&txn)
                            .await?
                    }
                    _ => None,
                },
            };
            let user = match linked {
                Some(user) => user,
                // A user's address is one a provider vouched for: an unverified one is not
                // kept, so it can neither link nor name anyone later.
                None => {
                    let verified = email.clone().filter(|_| claims.email_verified);
                    create_user(&txn, claims, verified, admins).await?
                }
            };
            link_identity(
                &txn,
                &Actor::user(user.id, &user.login),
                &user,
                claims,
                email,
            )
            .await?;
            user
        }
    };
    let mut active: users::ActiveModel = user.into();
    active.last_sign_in_at = Set(Some(now));
    let user = active.update(&txn).await?;
    audit::record(
        &txn,
        &Actor::user(user.id, &user.login),
        Change::new("session.sign_in", "user", user.id)
            .after(&serde_json::json!({ "provider": claims.provider })),
    )
    .await?;
    txn.commit().await?;
    Ok(user)
}

/// Records that `claims`' account signs in as `user`.
pub(crate) async fn link_identity<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    user: &users::Model,
    claims: &VerifiedSignIn,
    email: Option<String>,
) -> AppResult<()> {
    let identity = identities::ActiveModel {
        user_id: Set(user.id),
        provider: Set(claims.provider.clone()),
        subject: Set(claims.subject.clone()),
        email: Set(email),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    audit::record(
        db,
        actor,
        Change::new("identity.link", "identity", identity.id).after(&IdentityAudit {
            user_id: user.id,
            provider: &identity.provider,
            subject: &identity.subject,
        }),
    )
    .await?;
    Ok(())
}

/// A sign-in that Slipway refused (bad state, bad token): audited with no actor.
pub async fn record_refused_sign_in(
    db: &DatabaseConnection,
    provider: &str,
    reason: &str,
) -> AppResult<()> {
    audit::event(
        db,
        &Actor::system("anonymous"),
        Change::new("session.sign_in_refused", "sign_in", provider)
            .after(&serde_json::json!({ "provider": provider, "reason": reason })),
    )
    .await
}

pub async fn record_sign_out(db: &DatabaseConnection, user_id: i64) -> AppResult<()> {
    if let Some(user) = users::Entity::find_by_id(user_id).one(db).await? {
        let change = Change::new("session.sign_out", "user", user.id);
        audit::event(db, &Actor::user(user.id, &user.login), change).await?;
    }
    Ok(())
}
