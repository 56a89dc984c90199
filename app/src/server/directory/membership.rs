//! Groups and their members.

use super::*;

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

pub(crate) async fn find_group<C: ConnectionTrait>(db: &C, name: &str) -> AppResult<groups::Model> {
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
pub(crate) struct GroupAudit<'a> {
    pub(crate) name: &'a str,
    pub(crate) description: &'a str,
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
    audit::audited(db, actor, async |txn| {
        if groups::Entity::find()
            .filter(groups::Column::Name.eq(name))
            .count(txn)
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
        .insert(txn)
        .await?;
        let change = Change::new("group.create", "group", group.id).after(&GroupAudit {
            name: &group.name,
            description: &group.description,
        });
        let row = GroupRow {
            id: group.id,
            name: group.name,
            description: group.description,
            member_count: 0,
        };
        Ok((row, change))
    })
    .await
}

pub async fn delete_group(db: &DatabaseConnection, actor: &Actor, name: &str) -> AppResult<()> {
    audit::audited(db, actor, async |txn| {
        let group = find_group(txn, name).await?;
        group_members::Entity::delete_many()
            .filter(group_members::Column::GroupId.eq(group.id))
            .exec(txn)
            .await?;
        role_bindings::Entity::delete_many()
            .filter(role_bindings::Column::SubjectKind.eq(SUBJECT_GROUP))
            .filter(role_bindings::Column::SubjectId.eq(group.id))
            .exec(txn)
            .await?;
        groups::Entity::delete_by_id(group.id).exec(txn).await?;
        ensure_an_admin_remains(txn).await?;
        let change = Change::new("group.delete", "group", group.id).before(&GroupAudit {
            name: &group.name,
            description: &group.description,
        });
        Ok(((), change))
    })
    .await
}

#[derive(Serialize)]
pub(crate) struct MembershipAudit<'a> {
    pub(crate) group: &'a str,
    pub(crate) user: &'a str,
}

pub async fn add_group_member(
    db: &DatabaseConnection,
    actor: &Actor,
    group: &str,
    user: &str,
) -> AppResult<()> {
    audit::audited(db, actor, async |txn| {
        let group = find_group(txn, group).await?;
        let user = find_user_by_login_or_email(txn, user).await?;
        let exists = group_members::Entity::find_by_id((group.id, user.id))
            .one(txn)
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
        .insert(txn)
        .await?;
        let change = Change::new("group.add_member", "group", group.id).after(&MembershipAudit {
            group: &group.name,
            user: &user.login,
        });
        Ok(((), change))
    })
    .await
}

pub async fn remove_group_member(
    db: &DatabaseConnection,
    actor: &Actor,
    group: &str,
    user: &str,
) -> AppResult<()> {
    audit::audited(db, actor, async |txn| {
        let group = find_group(txn, group).await?;
        let user = find_user_by_login_or_email(txn, user).await?;
        let removed = group_members::Entity::delete_by_id((group.id, user.id))
            .exec(txn)
            .await?;
        if removed.rows_affected == 0 {
            return Err(AppError::invalid(
                "user",
                format!("{} is not a member of {}", user.login, group.name),
            ));
        }
        ensure_an_admin_remains(txn).await?;
        let change =
            Change::new("group.remove_member", "group", group.id).before(&MembershipAudit {
                group: &group.name,
                user: &user.login,
            });
        Ok(((), change))
    })
    .await
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
