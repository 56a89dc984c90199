//! Users: creating them with unique logins, finding them, and the global admin role.

use super::*;

#[derive(Serialize)]
pub(crate) struct UserAudit<'a> {
    pub(crate) login: &'a str,
    pub(crate) email: Option<&'a str>,
    pub(crate) name: &'a str,
}

#[derive(Serialize)]
pub(crate) struct IdentityAudit<'a> {
    pub(crate) user_id: i64,
    pub(crate) provider: &'a str,
    pub(crate) subject: &'a str,
}

pub(crate) async fn create_user<C: ConnectionTrait>(
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
pub(crate) async fn unique_login<C: ConnectionTrait>(db: &C, hint: &str) -> AppResult<String> {
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

/// `slipway admin grant`: a global role for one user. Granting a role the user already holds
/// globally changes nothing and says so.
pub async fn grant_global_role(
    db: &DatabaseConnection,
    actor: &Actor,
    login_or_email: &str,
    role: Role,
) -> AppResult<(users::Model, bool)> {
    let txn = crate::server::begin_write(db).await?;
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
pub(crate) async fn ensure_an_admin_remains<C: ConnectionTrait>(db: &C) -> AppResult<()> {
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
