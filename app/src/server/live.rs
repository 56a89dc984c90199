//! Changes as open pages follow them. Every state change writes an audit event in its own
//! transaction, so the audit log's tail is the change feed: one watcher per replica reads the
//! audit head twice a second (one primary-key read), and when it moved, the new events' entity
//! types and ids, and tells every page's event stream (`/api/events`) the topics that changed
//! — `release:v1.4.0-rc.1`, `repository:shop`. It sees the changes of every replica, since it
//! reads the shared database, and reads nothing while no page listens.

use super::entities::audit_events;
use crate::domain::rbac::{Action, EntityType, ResourceRef};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::broadcast;

/// How often the watcher reads the audit head.
pub const EVERY: Duration = Duration::from_millis(500);
/// The most events read in one turn; past that every topic is told (`*`): pages refetch.
const MOST_EVENTS: u64 = 2_000;
/// The most topics one stream follows.
pub const MOST_TOPICS: usize = 20;

/// A topic a page follows: an entity type (`release`), or one entity (`repository:shop`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topic {
    pub entity_type: EntityType,
    pub entity_id: Option<String>,
}

impl Topic {
    /// `type` or `type:id`, with a type the access rules know.
    pub fn parse(text: &str) -> Result<Topic, String> {
        let (kind, id) = match text.split_once(':') {
            Some((kind, id)) => (kind, Some(id)),
            None => (text, None),
        };
        let entity_type = EntityType::parse(kind)
            .filter(|t| !matches!(t, EntityType::Access | EntityType::Audit))
            .ok_or_else(|| format!("{text:?} is not a topic: one of workspace, template, integration, resource, repository or release, optionally with :name"))?;
        if id.is_some_and(|id| id.is_empty() || id.len() > 200) {
            return Err(format!("{text:?} names no entity"));
        }
        Ok(Topic {
            entity_type,
            entity_id: id.map(str::to_string),
        })
    }

    /// What reading it takes.
    pub fn resource(&self) -> ResourceRef {
        match &self.entity_id {
            Some(id) => ResourceRef::entity(self.entity_type, id.clone()),
            None => ResourceRef::of_type(self.entity_type),
        }
    }

    /// Whether the change `changed` (`type:id`, or `*` for everything) is one this topic follows.
    pub fn covers(&self, changed: &str) -> bool {
        if changed == "*" {
            return true;
        }
        let (kind, id) = changed.split_once(':').unwrap_or((changed, ""));
        kind == self.entity_type.as_str() && self.entity_id.as_deref().is_none_or(|mine| mine == id)
    }

    /// What the stream calls it.
    pub fn name(&self) -> String {
        match &self.entity_id {
            Some(id) => format!("{}:{id}", self.entity_type.as_str()),
            None => self.entity_type.as_str().to_string(),
        }
    }
}

/// The topics of a stream's `topics` parameter (comma-separated); every one readable by the
/// caller, or the refusal naming the first that is not.
pub fn topics_for(
    text: &str,
    may_read: impl Fn(Action, &ResourceRef) -> bool,
) -> Result<Vec<Topic>, crate::error::AppError> {
    use crate::error::AppError;
    let mut topics = Vec::new();
    let mut problems = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match Topic::parse(part) {
            Ok(topic) => topics.push(topic),
            Err(problem) => problems.push(problem),
        }
    }
    if !problems.is_empty() {
        return Err(AppError::invalid("topics", problems.join("; ")));
    }
    if topics.is_empty() || topics.len() > MOST_TOPICS {
        return Err(AppError::invalid(
            "topics",
            format!("follow 1 to {MOST_TOPICS} topics"),
        ));
    }
    if let Some(denied) = topics
        .iter()
        .find(|t| !may_read(Action::Read, &t.resource()))
    {
        return Err(AppError::Forbidden(format!(
            "reading {} is needed to follow it",
            denied.name()
        )));
    }
    Ok(topics)
}

/// The replica's change feed. Made with the context; the watcher starts with the first
/// listener.
#[derive(Default)]
pub struct Live {
    sender: OnceLock<broadcast::Sender<Arc<str>>>,
}

impl Live {
    /// Changes from now on, as `type:id` (or `*`).
    pub fn subscribe(&self, db: &DatabaseConnection) -> broadcast::Receiver<Arc<str>> {
        self.sender
            .get_or_init(|| {
                let (sender, _) = broadcast::channel(1_024);
                tokio::spawn(watch(db.clone(), sender.clone()));
                sender
            })
            .subscribe()
    }
}

async fn watch(db: DatabaseConnection, sender: broadcast::Sender<Arc<str>>) {
    let mut seen: Option<i64> = None;
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if sender.receiver_count() == 0 {
            // Nobody listens: read nothing, and start from the head when someone does.
            seen = None;
            continue;
        }
        match changes_since(&db, seen).await {
            Ok((head, changed)) => {
                seen = Some(head);
                for topic in changed {
                    let _ = sender.send(topic);
                }
            }
            Err(error) => tracing::warn!("reading the audit log's tail failed: {error}"),
        }
    }
}

/// The audit head, and the entities changed after `seen` up to it (none on the first turn).
pub async fn changes_since(
    db: &DatabaseConnection,
    seen: Option<i64>,
) -> Result<(i64, Vec<Arc<str>>), sea_orm::DbErr> {
    let head = super::cache::version(db).await?;
    let Some(seen) = seen.filter(|seen| *seen < head) else {
        return Ok((head, Vec::new()));
    };
    if (head - seen) as u64 > MOST_EVENTS {
        return Ok((head, vec![Arc::from("*")]));
    }
    let rows: Vec<(String, String, Option<String>)> = audit_events::Entity::find()
        .select_only()
        .column(audit_events::Column::EntityType)
        .column(audit_events::Column::EntityId)
        .column(audit_events::Column::After)
        .filter(audit_events::Column::Seq.gt(seen))
        .filter(audit_events::Column::Seq.lte(head))
        .order_by_asc(audit_events::Column::Seq)
        .into_tuple()
        .all(db)
        .await?;
    // Resources are recorded by id, and named (and authorized) by slug.
    let resource_ids: Vec<i64> = rows
        .iter()
        .filter(|(kind, _, _)| kind == "resource")
        .filter_map(|(_, id, _)| id.parse().ok())
        .collect();
    let slugs: std::collections::HashMap<i64, String> = if resource_ids.is_empty() {
        Default::default()
    } else {
        super::entities::resources::Entity::find()
            .select_only()
            .column(super::entities::resources::Column::Id)
            .column(super::entities::resources::Column::Slug)
            .filter(super::entities::resources::Column::Id.is_in(resource_ids))
            .into_tuple::<(i64, String)>()
            .all(db)
            .await?
            .into_iter()
            .collect()
    };
    let mut changed: Vec<Arc<str>> = Vec::new();
    for (kind, id, after) in rows {
        // A deleted resource is gone from the table: its event names it.
        let recorded = || {
            let after: serde_json::Value = serde_json::from_str(after.as_deref()?).ok()?;
            after.get("slug")?.as_str().map(str::to_string)
        };
        let id = match id.parse::<i64>().ok().and_then(|n| slugs.get(&n)) {
            Some(slug) if kind == "resource" => slug.clone(),
            None if kind == "resource" => recorded().unwrap_or(id),
            _ => id,
        };
        let topic = format!("{kind}:{id}");
        if !changed.iter().any(|c| **c == *topic) {
            changed.push(Arc::from(topic));
        }
    }
    Ok((head, changed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_parse_cover_and_are_authorized() {
        let release = Topic::parse("release").unwrap();
        assert!(release.covers("release:v1.0.0-rc.1"));
        assert!(release.covers("*"));
        assert!(!release.covers("repository:shop"));
        let shop = Topic::parse("repository:shop").unwrap();
        assert!(shop.covers("repository:shop"));
        assert!(!shop.covers("repository:shopping"));
        assert!(!shop.covers("resource:shop"));
        for bad in ["audit", "access:1", "nothing", "release:", ""] {
            assert!(Topic::parse(bad).is_err(), "{bad}");
        }
        let all = |_: Action, _: &ResourceRef| true;
        assert_eq!(
            topics_for("release, repository:shop", all).unwrap().len(),
            2
        );
        let errors = topics_for("nothing,audit", all).unwrap_err().to_string();
        assert!(
            errors.contains("\"nothing\"") && errors.contains("\"audit\""),
            "{errors}"
        );
        assert!(topics_for("", all).is_err());
        let many = vec!["release"; MOST_TOPICS + 1].join(",");
        assert!(topics_for(&many, all).is_err());
        // Someone who may read the shop repository only may not follow every repository.
        let shop_only = |_: Action, r: &ResourceRef| r.entity_id.as_deref() == Some("shop");
        assert!(topics_for("repository:shop", shop_only).is_ok());
        assert!(matches!(
            topics_for("repository:shop,repository", shop_only),
            Err(crate::error::AppError::Forbidden(_))
        ));
    }
}
