//! Who may fetch from and push to a repository of the local forge over smart HTTP, and which of
//! its branches nobody pushes to (`domain::pushes`). Each repository belongs to something
//! Slipway guards, and its rights follow from that:
//!
//! | repository                   | fetch                  | push (other branches)        | guarded branches                   |
//! |------------------------------|------------------------|------------------------------|------------------------------------|
//! | a workspace's                | read on the workspace  | update on the workspace      | its default branch                 |
//! | a governed repository's      | read on the repository | update on the repository     | the default and strategy-protected |
//! | the managed workflows        | read on repositories   | administer on repositories   | main                               |
//! | the environments (releases)  | read on releases       | administer on releases       | main                               |
//! | not registered yet           | create on workspaces   | create on workspaces         | none                               |
//!
//! Tags are made once everywhere: never moved, never deleted.

use super::audit::{self, Change};
use super::entities::workspaces;
use super::Actor;
use crate::domain::pushes::{refusals, Guarded, RefUpdate};
use crate::domain::rbac::{authorize, Action, Decision, EntityType, ResourceRef};
use crate::domain::repositories::MANAGED_REPOSITORY;
use crate::error::{AppError, AppResult};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

/// What a local repository belongs to.
enum Owner {
    Workspace {
        slug: String,
        default_branch: String,
    },
    Governed(Guarded, String),
    Managed,
    Environments,
    Unregistered,
}

async fn owner(db: &DatabaseConnection, repository: &str) -> AppResult<Owner> {
    use crate::domain::integrations::Provider;
    if let Some(workspace) = workspaces::Entity::find()
        .filter(workspaces::Column::Provider.eq(Provider::LocalGit))
        .filter(workspaces::Column::Repository.eq(repository))
        .one(db)
        .await?
    {
        let config: crate::domain::workspaces::RepoConfig =
            serde_json::from_str(&workspace.configuration).map_err(AppError::internal)?;
        return Ok(Owner::Workspace {
            slug: workspace.slug,
            default_branch: config.default_branch,
        });
    }
    if repository == super::deployments::ENVIRONMENTS_REPOSITORY {
        return Ok(Owner::Environments);
    }
    if repository.rsplit('/').next() == Some(MANAGED_REPOSITORY) {
        return Ok(Owner::Managed);
    }
    if let Some((name, strategy)) = super::governance::local_governed(db, repository).await? {
        return Ok(Owner::Governed(
            Guarded::Strategy {
                strategy,
                default: "main".into(),
            },
            name,
        ));
    }
    Ok(Owner::Unregistered)
}

/// Whether `user_id` may fetch from `repository` (or push to it, when `push`): the branches a
/// push must leave alone, or the refusal saying which role is needed.
pub async fn authorize_git(
    db: &DatabaseConnection,
    user_id: i64,
    repository: &str,
    push: bool,
) -> AppResult<Guarded> {
    let subject = super::access::subject_for_user(db, user_id).await?;
    let main = || Guarded::Branches(vec!["main".into()]);
    let (action, target, guarded) = match owner(db, repository).await? {
        Owner::Workspace {
            slug,
            default_branch,
        } => (
            if push { Action::Update } else { Action::Read },
            ResourceRef::entity(EntityType::Workspace, slug),
            Guarded::Branches(vec![default_branch]),
        ),
        Owner::Governed(guarded, name) => (
            if push { Action::Update } else { Action::Read },
            ResourceRef::entity(EntityType::Repository, name),
            guarded,
        ),
        Owner::Managed => (
            if push {
                Action::Administer
            } else {
                Action::Read
            },
            ResourceRef::of_type(EntityType::Repository),
            main(),
        ),
        Owner::Environments => (
            if push {
                Action::Administer
            } else {
                Action::Read
            },
            ResourceRef::of_type(EntityType::Release),
            main(),
        ),
        Owner::Unregistered => (
            Action::Create,
            ResourceRef::of_type(EntityType::Workspace),
            Guarded::Branches(Vec::new()),
        ),
    };
    match authorize(&subject, action, &target) {
        Decision::Allow => Ok(guarded),
        Decision::Unauthenticated => Err(AppError::Unauthorized),
        Decision::Deny(reason) => Err(AppError::Forbidden(reason)),
    }
}

/// The refusals of a push (ref, reason); when there are any, the attempt is audited (its refs,
/// at most 20 named) and nothing of the push is applied.
pub async fn check_push(
    db: &DatabaseConnection,
    actor: &Actor,
    repository: &str,
    guarded: &Guarded,
    updates: &[RefUpdate],
) -> AppResult<Vec<(String, String)>> {
    let refused = refusals(guarded, updates);
    if !refused.is_empty() {
        let txn = super::begin_write(db).await?;
        let named: Vec<&str> = refused.iter().take(20).map(|(r, _)| r.as_str()).collect();
        audit::record(
            &txn,
            actor,
            Change::new("forge.push_refused", "repository", repository).after(
                &serde_json::json!({ "refs": named, "refused": refused.len(), "reason": refused[0].1 }),
            ),
        )
        .await?;
        txn.commit().await?;
    }
    Ok(refused)
}
