//! Users, identities, groups and role bindings: sign-in, grants and the admin pages' changes.
//! Every change commits together with its audit event.

use super::access::{self, scope_columns, SUBJECT_GROUP, SUBJECT_USER};
use super::audit::{self, Change};
use super::entities::{group_members, groups, identities, role_bindings, users};
use super::Actor;
use crate::api::admin::{BindingRow, GroupDetail, GroupRow, NewBinding, UserRef, UserRow};
use crate::domain::names::{validate_slug, validate_text};
use crate::domain::rbac::{EntityType, Role, Scope};
use crate::error::{AppError, AppResult};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde::Serialize;
use std::collections::BTreeMap;

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

#[derive(Serialize)]
struct UserAudit<'a> {
    login: &'a str,
    email: Option<&'a str>,
    name: &'a str,
}

#[derive(Serialize)]
struct IdentityAudit<'a> {
    user_id: i64,
    provider: &'a str,
    subject: &'a str,
}

/// Signs a verified identity in: finds its user, links it (to `link_to`, the user already signed
/// in, or to the user with the same verified email), or creates a user. Returns the user.
pub async fn sign_in(
    db: &DatabaseConnection,
    claims: &VerifiedSignIn,
    link_to: Option<i64>,
    admins: &[String],
) -> AppResult<users::Model> {
    let txn = super::begin_write(db).await?;
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
async fn link_identity<C: ConnectionTrait>(
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

async fn create_user<C: ConnectionTrait>(
    db: &C,
    claims: &VerifiedSignIn,
    email: Option<String>,
    admins: &[String],
) -> AppResult<users::Model> {
    let login = unique_login(db, &claims.login_hint).await?;
    let name = if claims.name.trim().is_empty() {
        login.clone()
    } else {
        claims.name.trim().chars().take(200).collect()
    };
    let user = users::ActiveModel {
        login: Set(login),
        email: Set(email),
        name: Set(name),
        created_at: Set(chrono::Utc::now()),
        last_sign_in_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let actor = Actor::user(user.id, &user.login);
    audit::record(
        db,
        &actor,
        Change::new("user.create", "user", user.id).after(&UserAudit {
            login: &user.login,
            email: user.email.as_deref(),
            name: &user.name,
        }),
    )
    .await?;
    // SLIPWAY_ADMINS names people by an address their provider verified, or by their GitHub
    // login (GitHub's own name for the account). A login made from a name any OIDC user may
    // choose (preferred_username) names nobody.
    let listed = admins.iter().any(|entry| {
        let entry = entry.trim().to_lowercase();
        (claims.provider == "github" && entry == user.login.to_lowercase())
            || (claims.email_verified && Some(&entry) == user.email.as_ref())
    });
    if listed {
        insert_binding(
            db,
            &Actor::system("SLIPWAY_ADMINS"),
            SUBJECT_USER,
            user.id,
            &user.login,
            Role::Admin,
            &Scope::Global,
        )
        .await?;
    }
    Ok(user)
}

/// A login from the provider's hint: lowercase letters, digits, '-', '_' and '.', made unique
/// with a numeric suffix.
async fn unique_login<C: ConnectionTrait>(db: &C, hint: &str) -> AppResult<String> {
    let mut base: String = hint
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect::<String>()
        .trim_matches(|c: char| "-_.".contains(c))
        .chars()
        .take(60)
        .collect();
    if base.is_empty() {
        base = "user".into();
    }
    let mut candidate = base.clone();
    let mut n = 2;
    while users::Entity::find()
        .filter(users::Column::Login.eq(candidate.as_str()))
        .count(db)
        .await?
        > 0
    {
        candidate = format!("{base}-{n}");
        n += 1;
    }
    Ok(candidate)
}

pub async fn find_user_by_login_or_email<C: ConnectionTrait>(
    db: &C,
    login_or_email: &str,
) -> AppResult<users::Model> {
    let key = login_or_email.trim().to_lowercase();
    let column = if key.contains('@') {
        users::Column::Email
    } else {
        users::Column::Login
    };
    users::Entity::find()
        .filter(column.eq(key.as_str()))
        .one(db)
        .await?
        .ok_or_else(|| AppError::invalid("user", format!("no user has the login or email {key:?}")))
}

#[derive(Serialize)]
struct BindingAudit<'a> {
    subject_kind: &'a str,
    subject: &'a str,
    role: &'a str,
    scope: &'a Scope,
}

async fn insert_binding<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    subject_kind: &str,
    subject_id: i64,
    subject_name: &str,
    role: Role,
    scope: &Scope,
) -> AppResult<role_bindings::Model> {
    let (scope_kind, entity_type, entity_id) = scope_columns(scope);
    let binding = role_bindings::ActiveModel {
        subject_kind: Set(subject_kind.to_string()),
        subject_id: Set(subject_id),
        role: Set(role.to_string()),
        scope_kind: Set(scope_kind.to_string()),
        entity_type: Set(entity_type),
        entity_id: Set(entity_id),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    audit::record(
        db,
        actor,
        Change::new("role_binding.create", "role_binding", binding.id).after(&BindingAudit {
            subject_kind,
            subject: subject_name,
            role: role.as_str(),
            scope,
        }),
    )
    .await?;
    Ok(binding)
}

/// `slipway admin grant`: a global role for one user. Granting a role the user already holds
/// globally changes nothing and says so.
pub async fn grant_global_role(
    db: &DatabaseConnection,
    actor: &Actor,
    login_or_email: &str,
    role: Role,
) -> AppResult<(users::Model, bool)> {
    let txn = super::begin_write(db).await?;
    let user = find_user_by_login_or_email(&txn, login_or_email).await?;
    let exists = role_bindings::Entity::find()
        .filter(role_bindings::Column::SubjectKind.eq(SUBJECT_USER))
        .filter(role_bindings::Column::SubjectId.eq(user.id))
        .filter(role_bindings::Column::ScopeKind.eq("global"))
        .filter(role_bindings::Column::Role.eq(role.as_str()))
        .count(&txn)
        .await?
        > 0;
    if !exists {
        insert_binding(
            &txn,
            actor,
            SUBJECT_USER,
            user.id,
            &user.login,
            role,
            &Scope::Global,
        )
        .await?;
    }
    txn.commit().await?;
    Ok((user, !exists))
}

/// Refuses a change that would leave nobody with a global admin role (checked inside the
/// change's transaction, which is then dropped and rolls back).
async fn ensure_an_admin_remains<C: ConnectionTrait>(db: &C) -> AppResult<()> {
    let admin_bindings = role_bindings::Entity::find()
        .filter(role_bindings::Column::Role.eq(Role::Admin.as_str()))
        .filter(role_bindings::Column::ScopeKind.eq("global"))
        .all(db)
        .await?;
    if admin_bindings
        .iter()
        .any(|b| b.subject_kind == SUBJECT_USER)
    {
        return Ok(());
    }
    let admin_groups: Vec<i64> = admin_bindings.iter().map(|b| b.subject_id).collect();
    let members = group_members::Entity::find()
        .filter(group_members::Column::GroupId.is_in(admin_groups))
        .count(db)
        .await?;
    if members > 0 {
        return Ok(());
    }
    Err(AppError::Conflict(
        "This would leave Slipway without an administrator; grant someone else the admin role first.".into(),
    ))
}

pub async fn list_users(db: &DatabaseConnection) -> AppResult<Vec<UserRow>> {
    let users = users::Entity::find()
        .order_by_asc(users::Column::Login)
        .all(db)
        .await?;
    let identities = identities::Entity::find().all(db).await?;
    let memberships = group_members::Entity::find().all(db).await?;
    let group_names: BTreeMap<i64, String> = groups::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|g| (g.id, g.name))
        .collect();
    Ok(users
        .into_iter()
        .map(|user| {
            let mut providers: Vec<String> = identities
                .iter()
                .filter(|i| i.user_id == user.id)
                .map(|i| i.provider.clone())
                .collect();
            providers.sort();
            providers.dedup();
            let mut groups: Vec<String> = memberships
                .iter()
                .filter(|m| m.user_id == user.id)
                .filter_map(|m| group_names.get(&m.group_id).cloned())
                .collect();
            groups.sort();
            UserRow {
                id: user.id,
                login: user.login,
                name: user.name,
                email: user.email,
                providers,
                groups,
                last_sign_in_at: user
                    .last_sign_in_at
                    .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()),
            }
        })
        .collect())
}

pub async fn list_groups(db: &DatabaseConnection) -> AppResult<Vec<GroupRow>> {
    let groups = groups::Entity::find()
        .order_by_asc(groups::Column::Name)
        .all(db)
        .await?;
    let memberships = group_members::Entity::find().all(db).await?;
    Ok(groups
        .into_iter()
        .map(|group| GroupRow {
            member_count: memberships
                .iter()
                .filter(|m| m.group_id == group.id)
                .count() as u64,
            id: group.id,
            name: group.name,
            description: group.description,
        })
        .collect())
}

async fn find_group<C: ConnectionTrait>(db: &C, name: &str) -> AppResult<groups::Model> {
    groups::Entity::find()
        .filter(groups::Column::Name.eq(name))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found(format_args!("The group {name:?}")))
}

pub async fn group_detail(db: &DatabaseConnection, name: &str) -> AppResult<GroupDetail> {
    let group = find_group(db, name).await?;
    let member_ids: Vec<i64> = group_members::Entity::find()
        .filter(group_members::Column::GroupId.eq(group.id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    let members = users::Entity::find()
        .filter(users::Column::Id.is_in(member_ids))
        .order_by_asc(users::Column::Login)
        .all(db)
        .await?
        .into_iter()
        .map(|u| UserRef {
            id: u.id,
            login: u.login,
            name: u.name,
        })
        .collect();
    let bindings = list_bindings_where(db, Some((SUBJECT_GROUP, group.id))).await?;
    Ok(GroupDetail {
        group: GroupRow {
            id: group.id,
            name: group.name,
            description: group.description,
            member_count: 0,
        },
        members,
        bindings,
    })
}

#[derive(Serialize)]
struct GroupAudit<'a> {
    name: &'a str,
    description: &'a str,
}

pub async fn create_group(
    db: &DatabaseConnection,
    actor: &Actor,
    name: &str,
    description: &str,
) -> AppResult<GroupRow> {
    let name = name.trim();
    let description = description.trim();
    validate_slug(name).map_err(|m| AppError::invalid("name", m))?;
    validate_text(description, 500).map_err(|m| AppError::invalid("description", m))?;
    let txn = super::begin_write(db).await?;
    if groups::Entity::find()
        .filter(groups::Column::Name.eq(name))
        .count(&txn)
        .await?
        > 0
    {
        return Err(AppError::invalid(
            "name",
            format!("a group named {name:?} already exists"),
        ));
    }
    let group = groups::ActiveModel {
        name: Set(name.to_string()),
        description: Set(description.to_string()),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor,
        Change::new("group.create", "group", group.id).after(&GroupAudit {
            name: &group.name,
            description: &group.description,
        }),
    )
    .await?;
    txn.commit().await?;
    Ok(GroupRow {
        id: group.id,
        name: group.name,
        description: group.description,
        member_count: 0,
    })
}

pub async fn delete_group(db: &DatabaseConnection, actor: &Actor, name: &str) -> AppResult<()> {
    let txn = super::begin_write(db).await?;
    let group = find_group(&txn, name).await?;
    group_members::Entity::delete_many()
        .filter(group_members::Column::GroupId.eq(group.id))
        .exec(&txn)
        .await?;
    role_bindings::Entity::delete_many()
        .filter(role_bindings::Column::SubjectKind.eq(SUBJECT_GROUP))
        .filter(role_bindings::Column::SubjectId.eq(group.id))
        .exec(&txn)
        .await?;
    groups::Entity::delete_by_id(group.id).exec(&txn).await?;
    audit::record(
        &txn,
        actor,
        Change::new("group.delete", "group", group.id).before(&GroupAudit {
            name: &group.name,
            description: &group.description,
        }),
    )
    .await?;
    ensure_an_admin_remains(&txn).await?;
    txn.commit().await?;
    Ok(())
}

#[derive(Serialize)]
struct MembershipAudit<'a> {
    group: &'a str,
    user: &'a str,
}

pub async fn add_group_member(
    db: &DatabaseConnection,
    actor: &Actor,
    group: &str,
    user: &str,
) -> AppResult<()> {
    let txn = super::begin_write(db).await?;
    let group = find_group(&txn, group).await?;
    let user = find_user_by_login_or_email(&txn, user).await?;
    let exists = group_members::Entity::find_by_id((group.id, user.id))
        .one(&txn)
        .await?
        .is_some();
    if exists {
        return Err(AppError::invalid(
            "user",
            format!("{} is already a member of {}", user.login, group.name),
        ));
    }
    group_members::ActiveModel {
        group_id: Set(group.id),
        user_id: Set(user.id),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor,
        Change::new("group.add_member", "group", group.id).after(&MembershipAudit {
            group: &group.name,
            user: &user.login,
        }),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

pub async fn remove_group_member(
    db: &DatabaseConnection,
    actor: &Actor,
    group: &str,
    user: &str,
) -> AppResult<()> {
    let txn = super::begin_write(db).await?;
    let group = find_group(&txn, group).await?;
    let user = find_user_by_login_or_email(&txn, user).await?;
    let removed = group_members::Entity::delete_by_id((group.id, user.id))
        .exec(&txn)
        .await?;
    if removed.rows_affected == 0 {
        return Err(AppError::invalid(
            "user",
            format!("{} is not a member of {}", user.login, group.name),
        ));
    }
    audit::record(
        &txn,
        actor,
        Change::new("group.remove_member", "group", group.id).before(&MembershipAudit {
            group: &group.name,
            user: &user.login,
        }),
    )
    .await?;
    ensure_an_admin_remains(&txn).await?;
    txn.commit().await?;
    Ok(())
}

pub async fn list_bindings(db: &DatabaseConnection) -> AppResult<Vec<BindingRow>> {
    list_bindings_where(db, None).await
}

async fn list_bindings_where(
    db: &DatabaseConnection,
    subject: Option<(&str, i64)>,
) -> AppResult<Vec<BindingRow>> {
    let mut query = role_bindings::Entity::find().order_by_asc(role_bindings::Column::Id);
    if let Some((kind, id)) = subject {
        query = query
            .filter(role_bindings::Column::SubjectKind.eq(kind))
            .filter(role_bindings::Column::SubjectId.eq(id));
    }
    let bindings = query.all(db).await?;
    let user_names: BTreeMap<i64, String> = users::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.login))
        .collect();
    let group_names: BTreeMap<i64, String> = groups::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|g| (g.id, g.name))
        .collect();
    Ok(bindings
        .into_iter()
        .filter_map(|binding| {
            let scope = access::scope_of(&binding)?;
            let names = if binding.subject_kind == SUBJECT_GROUP {
                &group_names
            } else {
                &user_names
            };
            Some(BindingRow {
                id: binding.id,
                subject_kind: binding.subject_kind.clone(),
                subject: names
                    .get(&binding.subject_id)
                    .cloned()
                    .unwrap_or_else(|| format!("#{}", binding.subject_id)),
                role: binding.role.clone(),
                scope: scope.describe(),
            })
        })
        .collect())
}

/// Validates a binding typed into the admin form; every field is named in its error.
pub fn parse_binding(input: &NewBinding) -> AppResult<(Role, Scope)> {
    if input.subject_kind != SUBJECT_USER && input.subject_kind != SUBJECT_GROUP {
        return Err(AppError::invalid("subject_kind", "must be user or group"));
    }
    let role = Role::parse(&input.role)
        .ok_or_else(|| AppError::invalid("role", "must be viewer, member or admin"))?;
    let entity_type = || {
        EntityType::parse(input.entity_type.trim()).ok_or_else(|| {
            AppError::invalid(
                "entity_type",
                format!("unknown entity type {:?}", input.entity_type.trim()),
            )
        })
    };
    let scope = match input.scope_kind.as_str() {
        "global" => Scope::Global,
        "entity_type" => Scope::EntityType {
            entity_type: entity_type()?,
        },
        "entity" => {
            let entity_id = input.entity_id.trim();
            if entity_id.is_empty() {
                return Err(AppError::invalid(
                    "entity_id",
                    "name the entity the role applies to",
                ));
            }
            validate_text(entity_id, 200).map_err(|m| AppError::invalid("entity_id", m))?;
            Scope::Entity {
                entity_type: entity_type()?,
                entity_id: entity_id.to_string(),
            }
        }
        _ => {
            return Err(AppError::invalid(
                "scope_kind",
                "must be global, entity_type or entity",
            ))
        }
    };
    Ok((role, scope))
}

pub async fn create_binding(
    db: &DatabaseConnection,
    actor: &Actor,
    input: &NewBinding,
) -> AppResult<()> {
    let (role, scope) = parse_binding(input)?;
    let txn = super::begin_write(db).await?;
    let (subject_id, subject_name) = if input.subject_kind == SUBJECT_GROUP {
        let group = groups::Entity::find()
            .filter(groups::Column::Name.eq(input.subject.trim()))
            .one(&txn)
            .await?
            .ok_or_else(|| {
                AppError::invalid(
                    "subject",
                    format!("no group is named {:?}", input.subject.trim()),
                )
            })?;
        (group.id, group.name)
    } else {
        let user = find_user_by_login_or_email(&txn, &input.subject)
            .await
            .map_err(|e| match e {
                AppError::Invalid { message, .. } => AppError::invalid("subject", message),
                other => other,
            })?;
        (user.id, user.login)
    };
    let (scope_kind, entity_type, entity_id) = scope_columns(&scope);
    let duplicate = role_bindings::Entity::find()
        .filter(role_bindings::Column::SubjectKind.eq(input.subject_kind.as_str()))
        .filter(role_bindings::Column::SubjectId.eq(subject_id))
        .filter(role_bindings::Column::Role.eq(role.as_str()))
        .filter(role_bindings::Column::ScopeKind.eq(scope_kind))
        .filter(role_bindings::Column::EntityType.eq(entity_type))
        .filter(role_bindings::Column::EntityId.eq(entity_id))
        .count(&txn)
        .await?
        > 0;
    if duplicate {
        return Err(AppError::invalid(
            "role",
            format!(
                "{subject_name} already holds {role} on {}",
                scope.describe()
            ),
        ));
    }
    insert_binding(
        &txn,
        actor,
        &input.subject_kind,
        subject_id,
        &subject_name,
        role,
        &scope,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

pub async fn delete_binding(db: &DatabaseConnection, actor: &Actor, id: i64) -> AppResult<()> {
    let txn = super::begin_write(db).await?;
    let binding = role_bindings::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found(format_args!("Role binding #{id}")))?;
    role_bindings::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        actor,
        Change::new("role_binding.delete", "role_binding", id).before(&serde_json::json!({
            "subject_kind": binding.subject_kind,
            "subject_id": binding.subject_id,
            "role": binding.role,
            "scope": access::scope_of(&binding),
        })),
    )
    .await?;
    ensure_an_admin_remains(&txn).await?;
    txn.commit().await?;
    Ok(())
}

pub async fn groups_of(db: &DatabaseConnection, user_id: i64) -> AppResult<Vec<String>> {
    let ids: Vec<i64> = group_members::Entity::find()
        .filter(group_members::Column::UserId.eq(user_id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.group_id)
        .collect();
    Ok(groups::Entity::find()
        .filter(groups::Column::Id.is_in(ids))
        .order_by_asc(groups::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(|g| g.name)
        .collect())
}

/// The identity provider name of seeded demo users.
pub const DEMO_PROVIDER: &str = "demo";

/// The users that hold a demo identity, with their groups and grants, for the demo sign-in page.
pub async fn demo_users(db: &DatabaseConnection) -> AppResult<Vec<crate::api::session::DemoUser>> {
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
        result.push(crate::api::session::DemoUser {
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

/// A sign-in that Slipway refused (bad state, bad token): audited with no actor.
pub async fn record_refused_sign_in(
    db: &DatabaseConnection,
    provider: &str,
    reason: &str,
) -> AppResult<()> {
    let txn = super::begin_write(db).await?;
    audit::record(
        &txn,
        &Actor::system("anonymous"),
        Change::new("session.sign_in_refused", "sign_in", provider)
            .after(&serde_json::json!({ "provider": provider, "reason": reason })),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

pub async fn record_sign_out(db: &DatabaseConnection, user_id: i64) -> AppResult<()> {
    let txn = super::begin_write(db).await?;
    if let Some(user) = users::Entity::find_by_id(user_id).one(&txn).await? {
        audit::record(
            &txn,
            &Actor::user(user.id, &user.login),
            Change::new("session.sign_out", "user", user.id),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
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
    let txn = super::begin_write(db).await?;
    let email = claims.email.as_ref().map(|e| e.trim().to_lowercase());
    let user = create_user(&txn, claims, email.clone(), &[]).await?;
    link_identity(&txn, &Actor::system("demo-seed"), &user, claims, email).await?;
    txn.commit().await?;
    Ok(user)
}
