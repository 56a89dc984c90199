//! The demo users (`--demo`).

use super::*;

/// The identity provider name of seeded demo users.
pub const DEMO_PROVIDER: &str = "demo";

/// The users that hold a demo identity, with their groups and grants, for the demo sign-in page.
pub async fn demo_users(db: &DatabaseConnection) -> AppResult<Vec<crate::wire::session::DemoUser>> {
    let demo_ids: Vec<i64> = identities::Entity::find()
        .filter(identities::Column::Provider.eq(DEMO_PROVIDER))
        .order_by_asc(identities::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|i| i.user_id)
        .collect();
    let mut result = Vec::new();
    for user_id in demo_ids {
        let Some(user) = users::Entity::find_by_id(user_id).one(db).await? else {
            continue;
        };
        let subject = access::subject_for_user(db, user.id).await?;
        result.push(crate::wire::session::DemoUser {
            groups: groups_of(db, user.id).await?,
            grants: subject
                .grants
                .iter()
                .map(|g| format!("{} on {}", g.role, g.scope.describe()))
                .collect(),
            login: user.login,
            name: user.name,
        });
    }
    Ok(result)
}

/// A seeded demo user by login; only users holding a demo identity qualify.
pub async fn find_demo_user(
    db: &DatabaseConnection,
    login: &str,
) -> AppResult<Option<users::Model>> {
    let Some(identity) = identities::Entity::find()
        .filter(identities::Column::Provider.eq(DEMO_PROVIDER))
        .filter(identities::Column::Subject.eq(login))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(users::Entity::find_by_id(identity.user_id).one(db).await?)
}

/// Creates a user with one identity without signing them in (demo seeding, provisioning).
pub async fn create_demo_identity(
    db: &DatabaseConnection,
    claims: &VerifiedSignIn,
) -> AppResult<users::Model> {
    let txn = crate::server::begin_write(db).await?;
    let email = claims.email.as_ref().map(|e| e.trim().to_lowercase());
    let user = create_user(&txn, claims, email.clone(), &[]).await?;
    link_identity(&txn, &Actor::system("demo-seed"), &user, claims, email).await?;
    txn.commit().await?;
    Ok(user)
}
