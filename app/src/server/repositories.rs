//! Governed repositories: manifests kept as one text per repository with every saved text a
//! numbered revision, each save audited in its own transaction.

use super::audit::{self, Change};
use super::entities::{repositories, repository_revisions};
use super::{when, Actor};
use crate::domain::repositories::{parse_source, RepositoryManifests};
use crate::error::{AppError, AppResult};
use crate::wire::repositories::{RepositoryDetail, RepositoryRow, RevisionRow};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};

fn parsed(model: &repositories::Model) -> AppResult<RepositoryManifests> {
    parse_source(&model.source).map_err(|errors| {
        AppError::internal(format!(
            "stored manifests of {} no longer load: {}",
            model.name,
            errors.first().map(|e| e.to_string()).unwrap_or_default()
        ))
    })
}

fn row(model: &repositories::Model, manifests: &RepositoryManifests) -> RepositoryRow {
    RepositoryRow {
        name: model.name.clone(),
        strategy: manifests.repository.strategy,
        builds: manifests
            .builds
            .iter()
            .map(|b| (b.metadata.name.clone(), b.build_type.as_str().to_string()))
            .collect(),
        revision: model.revision,
        applied_revision: model.applied_revision,
        updated_by: model.updated_by.clone(),
        updated_at: when(&model.updated_at),
    }
}

/// How many of the newest revisions come with their changes.
const DIFFED_REVISIONS: usize = 10;

/// A manifest's revisions (newest first, as (revision, author, when, text)) as the pages list
/// them, the newest [`DIFFED_REVISIONS`] with what each changed from the one before.
pub(crate) fn revision_rows<'a>(
    rows: impl Iterator<Item = (i32, &'a str, &'a chrono::DateTime<chrono::Utc>, &'a str)>,
) -> Vec<RevisionRow> {
    let rows: Vec<_> = rows.collect();
    rows.iter()
        .enumerate()
        .map(|(i, (revision, author, at, source))| RevisionRow {
            revision: *revision,
            author: author.to_string(),
            created_at: when(at),
            changes: match rows.get(i + 1) {
                Some((_, _, _, before)) if i < DIFFED_REVISIONS => {
                    super::diff::diff_lines(before, source)
                }
                _ => Vec::new(),
            },
        })
        .collect()
}

pub async fn list(db: &DatabaseConnection) -> AppResult<Vec<RepositoryRow>> {
    repositories::Entity::find()
        .order_by_asc(repositories::Column::Name)
        .all(db)
        .await?
        .iter()
        .map(|m| Ok(row(m, &parsed(m)?)))
        .collect()
}

async fn by_name<C: ConnectionTrait>(db: &C, name: &str) -> AppResult<repositories::Model> {
    repositories::Entity::find()
        .filter(repositories::Column::Name.eq(name))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found(format!("Repository {name}")))
}

/// The organisation a repository's teams and managed workflows belong to: the organization of
/// the GitHub integration its `github-connection` names, else the connection's name (the local
/// forge's organisation; `local` without one).
pub async fn organization<C: ConnectionTrait>(
    db: &C,
    manifests: &RepositoryManifests,
) -> AppResult<String> {
    if let Some(found) = github_connection(db, manifests).await? {
        if let Some(org) = super::integrations::row(&found)?
            .settings
            .get("organization")
        {
            return Ok(org.clone());
        }
    }
    Ok(manifests.org().to_string())
}

/// The GitHub integration the manifests' `github-connection` names, if it names one (else the
/// repository lives on the local forge).
pub async fn github_connection<C: ConnectionTrait>(
    db: &C,
    manifests: &RepositoryManifests,
) -> AppResult<Option<crate::server::entities::integrations::Model>> {
    use crate::domain::integrations::Provider;
    use crate::server::entities::integrations;
    let Some(connection) = &manifests.repository.metadata.github_connection else {
        return Ok(None);
    };
    Ok(integrations::Entity::find()
        .filter(integrations::Column::Slug.eq(connection))
        .filter(integrations::Column::Provider.eq(Provider::Github.as_str()))
        .one(db)
        .await?)
}

pub async fn detail(db: &DatabaseConnection, name: &str) -> AppResult<RepositoryDetail> {
    let model = by_name(db, name).await?;
    let manifests = parsed(&model)?;
    let rows = repository_revisions::Entity::find()
        .filter(repository_revisions::Column::RepositoryId.eq(model.id))
        .order_by_desc(repository_revisions::Column::Revision)
        .all(db)
        .await?;
    let revisions = revision_rows(rows.iter().map(|r| {
        (
            r.revision,
            r.author.as_str(),
            &r.created_at,
            r.source.as_str(),
        )
    }));
    let mut plan = manifests.plan_in(&organization(db, &manifests).await?);
    let (workflows, short): (Vec<_>, Vec<_>) = std::mem::take(&mut plan.files)
        .into_iter()
        .partition(|f| f.path.starts_with(".github/workflows/"));
    plan.files = short;
    Ok(RepositoryDetail {
        row: row(&model, &manifests),
        source: model.source.clone(),
        revisions,
        plan,
        workflows: workflows
            .into_iter()
            .map(|f| crate::wire::repositories::FileSummary {
                lines: f.contents.lines().count(),
                repository: f.repository,
                path: f.path,
            })
            .collect(),
        can_edit: false,
        has_build_secret: model.build_secret.is_some(),
    })
}

/// The text of the file at `path` that the plan of `name` writes into `repository`.
pub async fn generated_file(
    db: &DatabaseConnection,
    name: &str,
    repository: &str,
    path: &str,
) -> AppResult<String> {
    let model = by_name(db, name).await?;
    let manifests = parsed(&model)?;
    manifests
        .plan_in(&organization(db, &manifests).await?)
        .files
        .into_iter()
        .find(|f| f.repository == repository && f.path == path)
        .map(|f| f.contents)
        .ok_or_else(|| AppError::not_found(format!("{path} in the plan of {repository}")))
}

/// Saves `source` as the next revision of `name` (or creates the repository it names when
/// `name` is None). Refused with every error as `manifests.yaml:line:column: …` when the text
/// does not load; 409 when `base_revision` is not the current one or the name is taken.
/// Saving the text unchanged writes nothing.
pub async fn save(
    db: &DatabaseConnection,
    actor: &Actor,
    name: Option<&str>,
    base_revision: i32,
    source: &str,
) -> AppResult<RepositoryRow> {
    let manifests = parse_source(source).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        AppError::invalid("source", lines.join("\n"))
    })?;
    let named = manifests.repository.metadata.name.clone();
    let strategy = manifests.repository.strategy.as_str().to_string();
    audit::audited(db, actor, async |txn| {
        let model = match name {
            None => create(txn, actor, &named, &strategy, source).await?,
            Some(name) => {
                let current = by_name(txn, name).await?;
                if named != current.name {
                    return Err(AppError::invalid(
                        "source",
                        format!(
                            "metadata.name of the GithubRepository is {named}, but this is repository {}: a repository keeps its name",
                            current.name
                        ),
                    ));
                }
                let save = crate::server::RevisionedSave {
                    what: format!("Repository {name}"),
                    current: current.revision,
                    base: base_revision,
                };
                save.check()?;
                if current.source == source {
                    return Ok((row(&current, &manifests), None));
                }
                save.advance::<repositories::Entity, _>(
                    txn,
                    repositories::Column::Id,
                    current.id,
                    repositories::Column::Revision,
                )
                .await?;
                let mut active: repositories::ActiveModel = current.clone().into();
                active.strategy = Set(strategy.clone());
                active.source = Set(source.to_string());
                active.revision = Set(current.revision + 1);
                active.updated_by = Set(actor.label.clone());
                active.updated_at = Set(chrono::Utc::now());
                active.update(txn).await?
            }
        };
        repository_revisions::ActiveModel {
            repository_id: Set(model.id),
            revision: Set(model.revision),
            source: Set(source.to_string()),
            author: Set(actor.label.clone()),
            created_at: Set(model.updated_at),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        let summary = serde_json::json!({
            "revision": model.revision,
            "strategy": strategy,
            "builds": manifests.builds.iter().map(|b| &b.metadata.name).collect::<Vec<_>>(),
        });
        let change = if model.revision == 1 {
            Change::new("repository.create", "repository", &named)
        } else {
            Change::new("repository.update", "repository", &named)
                .before(&serde_json::json!({ "revision": model.revision - 1 }))
        };
        let change = change.after(&summary);
        Ok((row(&model, &manifests), Some(change)))
    })
    .await
}

/// A new repository at revision 1; refused when the name is taken.
async fn create<C: ConnectionTrait>(
    txn: &C,
    actor: &Actor,
    named: &str,
    strategy: &str,
    source: &str,
) -> AppResult<repositories::Model> {
    let taken = repositories::Entity::find()
        .filter(repositories::Column::Name.eq(named))
        .one(txn)
        .await?
        .is_some();
    if taken {
        return Err(AppError::Conflict(format!(
            "Repository {named} already exists: edit it instead."
        )));
    }
    let now = chrono::Utc::now();
    Ok(repositories::ActiveModel {
        name: Set(named.to_string()),
        strategy: Set(strategy.to_string()),
        source: Set(source.to_string()),
        revision: Set(1),
        created_by: Set(actor.label.clone()),
        created_at: Set(now),
        updated_by: Set(actor.label.clone()),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?)
}
