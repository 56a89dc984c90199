//! Release manifests (Application, ApplicationSet, ReleaseTrack): one document each, every saved
//! text a numbered revision with an audit event in the same transaction. Only the owning group
//! edits each: an Application's team, the release managers for ApplicationSets, platform / SRE
//! for ReleaseTracks (and whoever may administer access, who could join the group anyway).

use super::audit::{self, Change};
use super::entities::{release_manifest_revisions as revisions, release_manifests as manifests};
use super::{when, Actor};
use crate::domain::manifests::Manifest;
use crate::domain::release_manifests::{owner, parse_release_source, unknown_links};
use crate::error::{AppError, AppResult};
use crate::wire::releases::{ReleaseManifestDetail, ReleaseManifestRow};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};

/// Who is editing, as ownership sees them.
pub struct Editor {
    pub actor: Actor,
    pub groups: Vec<String>,
    /// May administer access (and so join any group).
    pub administers: bool,
}

impl Editor {
    pub fn owns(&self, group: &str) -> bool {
        self.administers || self.groups.iter().any(|g| g == group)
    }
}

fn summary(manifest: &Manifest) -> String {
    match manifest {
        Manifest::Application(app) => format!("{} · team {}", app.image, app.team),
        Manifest::ApplicationSet(set) => format!(
            "{} application{} · track {}",
            set.applications.len(),
            if set.applications.len() == 1 { "" } else { "s" },
            set.release_track
        ),
        Manifest::ReleaseTrack(track) => {
            let line = |stages: &[crate::domain::release_manifests::TrackStage]| {
                stages
                    .iter()
                    .map(|s| s.environments.join(" + "))
                    .collect::<Vec<_>>()
                    .join(" → ")
            };
            let mut parts = Vec::new();
            if !track.pre_release.is_empty() {
                parts.push(format!("pre-release {}", line(&track.pre_release)));
            }
            parts.push(format!("release {}", line(&track.release)));
            if !track.hotfix.is_empty() {
                parts.push(format!("hotfix {}", line(&track.hotfix)));
            }
            parts.join(" · ")
        }
        Manifest::Policy(policy) => {
            let scope = if policy.templates.is_empty() {
                "every template".to_string()
            } else {
                policy.templates.join(", ")
            };
            let overridden = match &policy.override_group {
                Some(group) => format!("{} of {group} may override", policy.approvals),
                None => "no override".to_string(),
            };
            format!("{} · {scope} · {overridden}", policy.description)
        }
        Manifest::FreezeWindow(freeze) => format!(
            "{} · {} · {}",
            freeze.reason,
            freeze.scope.describe(),
            freeze.describe_when()
        ),
        _ => String::new(),
    }
}

fn parsed(model: &manifests::Model) -> AppResult<Manifest> {
    parse_release_source(&model.source).map_err(|_| {
        AppError::internal(format!(
            "the stored {} {} no longer loads",
            model.kind, model.name
        ))
    })
}

fn row(model: &manifests::Model, manifest: &Manifest) -> ReleaseManifestRow {
    ReleaseManifestRow {
        kind: model.kind.clone(),
        name: model.name.clone(),
        owner: model.owner.clone(),
        revision: model.revision,
        summary: summary(manifest),
        updated_by: model.updated_by.clone(),
        updated_at: when(&model.updated_at),
    }
}

pub async fn all<C: ConnectionTrait>(db: &C) -> AppResult<Vec<(manifests::Model, Manifest)>> {
    let models = manifests::Entity::find()
        .order_by_asc(manifests::Column::Kind)
        .order_by_asc(manifests::Column::Name)
        .all(db)
        .await?;
    models
        .into_iter()
        .map(|m| {
            let manifest = parsed(&m)?;
            Ok((m, manifest))
        })
        .collect()
}

pub async fn list(db: &DatabaseConnection) -> AppResult<Vec<ReleaseManifestRow>> {
    Ok(all(db)
        .await?
        .iter()
        .map(|(m, manifest)| row(m, manifest))
        .collect())
}

async fn find<C: ConnectionTrait>(db: &C, kind: &str, name: &str) -> AppResult<manifests::Model> {
    manifests::Entity::find()
        .filter(manifests::Column::Kind.eq(kind))
        .filter(manifests::Column::Name.eq(name))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found(format!("{kind} {name}")))
}

pub async fn detail(
    db: &DatabaseConnection,
    kind: &str,
    name: &str,
) -> AppResult<ReleaseManifestDetail> {
    let model = find(db, kind, name).await?;
    let manifest = parsed(&model)?;
    let rows = revisions::Entity::find()
        .filter(revisions::Column::ManifestId.eq(model.id))
        .order_by_desc(revisions::Column::Revision)
        .all(db)
        .await?;
    let revisions = super::repositories::revision_rows(rows.iter().map(|r| {
        (
            r.revision,
            r.author.as_str(),
            &r.created_at,
            r.source.as_str(),
        )
    }));
    let deployments = match manifest {
        Manifest::Application(_) => super::deployments::history(db, &model.name)
            .await?
            .into_iter()
            .map(super::deployments::deployed_row)
            .collect(),
        _ => Vec::new(),
    };
    Ok(ReleaseManifestDetail {
        row: row(&model, &manifest),
        source: model.source.clone(),
        revisions,
        can_edit: false,
        deployments,
        has_verify_secret: model.verify_secret.is_some(),
    })
}

/// Saves `source` as the next revision of the manifest `existing` names (`(kind, name)`), or
/// creates the one it names. Refused with every error (422) when it does not load or names what
/// is not there, 403 when the editor is not in the owning group, 409 on a stale base revision
/// or a taken name. An unchanged text writes nothing.
pub async fn save(
    db: &DatabaseConnection,
    editor: &Editor,
    existing: Option<(&str, &str)>,
    base_revision: i32,
    source: &str,
) -> AppResult<ReleaseManifestRow> {
    let manifest = parse_release_source(source).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        AppError::invalid("source", lines.join("\n"))
    })?;
    if let Manifest::Policy(policy) = &manifest {
        let errors = super::policies::rego_errors(policy);
        if !errors.is_empty() {
            return Err(AppError::invalid("source", errors.join("\n")));
        }
    }
    if let Manifest::FreezeWindow(freeze) = &manifest {
        let file = crate::domain::release_manifests::RELEASE_SOURCE_FILE;
        let errors: Vec<String> = super::freezes::schedule::schedule_errors(freeze)
            .into_iter()
            .map(|(pos, message)| format!("{file}:{pos}: {message}"))
            .collect();
        if !errors.is_empty() {
            return Err(AppError::invalid("source", errors.join("\n")));
        }
    }
    audit::audited(db, &editor.actor, async |txn| {
        let known: Vec<(String, String)> = manifests::Entity::find()
            .all(txn)
            .await?
            .into_iter()
            .map(|m| (m.kind, m.name))
            .collect();
        check_links(&manifest, &known)?;
        let (model, before) = match existing {
            None => (create(txn, editor, &manifest, source, &known).await?, None),
            Some(current) => {
                match update(txn, editor, current, base_revision, &manifest, source).await? {
                    Updated::Unchanged(model) => return Ok((row(&model, &manifest), None)),
                    Updated::To(model, before) => (model, Some(before)),
                }
            }
        };
        revisions::ActiveModel {
            manifest_id: Set(model.id),
            revision: Set(model.revision),
            source: Set(source.to_string()),
            author: Set(editor.actor.label.clone()),
            created_at: Set(model.updated_at),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        let entity = format!("{}/{}", model.kind, model.name);
        let after = serde_json::json!({ "revision": model.revision, "owner": model.owner, "summary": summary(&manifest) });
        let change = match before {
            None => Change::new("release_manifest.create", "release", &entity),
            Some(before) => Change::new("release_manifest.update", "release", &entity).before(&before),
        };
        let change = change.after(&after);
        if matches!(manifest, Manifest::FreezeWindow(_)) {
            // A freeze edited may hold less now: what waits for it looks again.
            super::jobs::wake_frozen(txn).await?;
        }
        Ok((row(&model, &manifest), Some(change)))
    })
    .await
}

/// Refuses a manifest that names manifests not saved yet (every one at once, each at the
/// manifest's position).
fn check_links(manifest: &Manifest, known: &[(String, String)]) -> AppResult<()> {
    let known: Vec<(&str, &str)> = known
        .iter()
        .map(|(k, n)| (k.as_str(), n.as_str()))
        .collect();
    let missing = unknown_links(manifest, &known);
    if missing.is_empty() {
        return Ok(());
    }
    let at = manifest.metadata().pos;
    let file = crate::domain::release_manifests::RELEASE_SOURCE_FILE;
    let lines: Vec<String> = missing
        .iter()
        .map(|m| format!("{file}:{at}: {m}: save it first"))
        .collect();
    Err(AppError::invalid("source", lines.join("\n")))
}

/// A new manifest at revision 1, made by a member of the group it names as its owner.
async fn create<C: ConnectionTrait>(
    txn: &C,
    editor: &Editor,
    manifest: &Manifest,
    source: &str,
    known: &[(String, String)],
) -> AppResult<manifests::Model> {
    let (kind, name) = (manifest.kind(), manifest.metadata().name.clone());
    let new_owner = owner(manifest).unwrap_or_default().to_string();
    if !editor.owns(&new_owner) {
        return Err(AppError::Forbidden(format!(
            "{kind}s are edited by the group {new_owner}, and you are not in it"
        )));
    }
    if known.iter().any(|(k, n)| k == kind && *n == name) {
        return Err(AppError::Conflict(format!(
            "{kind} {name} already exists: edit it instead."
        )));
    }
    let now = chrono::Utc::now();
    Ok(manifests::ActiveModel {
        kind: Set(kind.to_string()),
        name: Set(name),
        owner: Set(new_owner),
        source: Set(source.to_string()),
        revision: Set(1),
        created_by: Set(editor.actor.label.clone()),
        created_at: Set(now),
        updated_by: Set(editor.actor.label.clone()),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?)
}

/// What an edit did: nothing (the same text), or the row at its next revision with what it
/// was before (for the audit event).
enum Updated {
    Unchanged(manifests::Model),
    To(manifests::Model, serde_json::Value),
}

/// The next revision of `(kind, name)`: by a member of the group that owns it now (which may
/// hand it to another group), keeping its kind and name, from the revision the editor read.
async fn update<C: ConnectionTrait>(
    txn: &C,
    editor: &Editor,
    (current_kind, current_name): (&str, &str),
    base_revision: i32,
    manifest: &Manifest,
    source: &str,
) -> AppResult<Updated> {
    let (kind, name) = (manifest.kind(), manifest.metadata().name.clone());
    let current = find(txn, current_kind, current_name).await?;
    if !editor.owns(&current.owner) {
        return Err(AppError::Forbidden(format!(
            "{current_kind} {current_name} is edited by the group {}, and you are not in it",
            current.owner
        )));
    }
    if (kind, name.as_str()) != (current_kind, current_name) {
        return Err(AppError::invalid(
            "source",
            format!("this is {current_kind} {current_name}: a manifest keeps its kind and name (it says {kind} {name})"),
        ));
    }
    let save = crate::server::RevisionedSave {
        what: format!("{kind} {name}"),
        current: current.revision,
        base: base_revision,
    };
    save.check()?;
    if current.source == source {
        return Ok(Updated::Unchanged(current));
    }
    save.advance::<manifests::Entity, _>(
        txn,
        manifests::Column::Id,
        current.id,
        manifests::Column::Revision,
    )
    .await?;
    let before = serde_json::json!({ "revision": current.revision, "owner": current.owner });
    let mut active: manifests::ActiveModel = current.clone().into();
    active.owner = Set(owner(manifest).unwrap_or_default().to_string());
    active.source = Set(source.to_string());
    active.revision = Set(current.revision + 1);
    active.updated_by = Set(editor.actor.label.clone());
    active.updated_at = Set(chrono::Utc::now());
    Ok(Updated::To(active.update(txn).await?, before))
}
