//! Resolving a user's grants (their own bindings and their groups') for the policy in
//! `domain::rbac`.

use super::entities::{group_members, role_bindings};
use crate::domain::rbac::{EntityType, Grant, Role, Scope, Subject};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
};

pub const SUBJECT_USER: &str = "user";
pub const SUBJECT_GROUP: &str = "group";

pub async fn subject_for_user<C: ConnectionTrait>(db: &C, user_id: i64) -> Result<Subject, DbErr> {
    let group_ids: Vec<i64> = group_members::Entity::find()
        .select_only()
        .column(group_members::Column::GroupId)
        .filter(group_members::Column::UserId.eq(user_id))
        .into_tuple()
        .all(db)
        .await?;
    let bindings = role_bindings::Entity::find()
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(role_bindings::Column::SubjectKind.eq(SUBJECT_USER))
                        .add(role_bindings::Column::SubjectId.eq(user_id)),
                )
                .add(
                    Condition::all()
                        .add(role_bindings::Column::SubjectKind.eq(SUBJECT_GROUP))
                        .add(role_bindings::Column::SubjectId.is_in(group_ids)),
                ),
        )
        .all(db)
        .await?;
    Ok(Subject {
        user_id: Some(user_id),
        grants: bindings.iter().filter_map(grant_of).collect(),
    })
}

/// The grant a stored binding stands for; rows the policy cannot read are ignored (and cannot be
/// written: the services validate before inserting).
pub fn grant_of(binding: &role_bindings::Model) -> Option<Grant> {
    Some(Grant {
        role: Role::parse(&binding.role)?,
        scope: scope_of(binding)?,
    })
}

pub fn scope_of(binding: &role_bindings::Model) -> Option<Scope> {
    match binding.scope_kind.as_str() {
        "global" => Some(Scope::Global),
        "entity_type" => Some(Scope::EntityType {
            entity_type: EntityType::parse(binding.entity_type.as_deref()?)?,
        }),
        "entity" => Some(Scope::Entity {
            entity_type: EntityType::parse(binding.entity_type.as_deref()?)?,
            entity_id: binding.entity_id.clone()?,
        }),
        _ => None,
    }
}

/// The stored form of a scope: (scope_kind, entity_type, entity_id).
pub fn scope_columns(scope: &Scope) -> (&'static str, Option<String>, Option<String>) {
    match scope {
        Scope::Global => ("global", None, None),
        Scope::EntityType { entity_type } => ("entity_type", Some(entity_type.to_string()), None),
        Scope::Entity {
            entity_type,
            entity_id,
        } => (
            "entity",
            Some(entity_type.to_string()),
            Some(entity_id.clone()),
        ),
    }
}
