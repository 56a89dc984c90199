//! Role bindings: who holds which role on what.

use super::*;

#[derive(Serialize)]
pub(crate) struct BindingAudit<'a> {
    pub(crate) subject_kind: &'a str,
    pub(crate) subject: &'a str,
    pub(crate) role: &'a str,
    pub(crate) scope: &'a Scope,
}

pub(crate) async fn insert_binding<C: ConnectionTrait>(
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

pub async fn list_bindings(db: &DatabaseConnection) -> AppResult<Vec<BindingRow>> {
    list_bindings_where(db, None).await
}

pub(crate) async fn list_bindings_where(
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
    let txn = crate::server::begin_write(db).await?;
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
    audit::audited(db, actor, async |txn| {
        let binding = role_bindings::Entity::find_by_id(id)
            .one(txn)
            .await?
            .ok_or_else(|| AppError::not_found(format_args!("Role binding #{id}")))?;
        role_bindings::Entity::delete_by_id(id).exec(txn).await?;
        ensure_an_admin_remains(txn).await?;
        let change =
            Change::new("role_binding.delete", "role_binding", id).before(&serde_json::json!({
                "subject_kind": binding.subject_kind,
                "subject_id": binding.subject_id,
                "role": binding.role,
                "scope": access::scope_of(&binding),
            }));
        Ok(((), change))
    })
    .await
}
