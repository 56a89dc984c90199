//! The embedded registry: release tags recorded in the database (the OCI registry adapter,
//! `SLIPWAY_REGISTRY=oci`, takes its place where images live in a real registry).

use super::entities::registry_tags;
use super::ports::{ExternalError, Registry};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};

pub struct DbRegistry {
    pub db: DatabaseConnection,
}

fn db_error(e: sea_orm::DbErr) -> ExternalError {
    ExternalError::transient(format!("the registry's database: {e}"))
}

#[async_trait::async_trait]
impl Registry for DbRegistry {
    async fn tag(&self, image: &str, digest: &str, tag: &str) -> Result<(), ExternalError> {
        let existing = registry_tags::Entity::find()
            .filter(registry_tags::Column::Image.eq(image))
            .filter(registry_tags::Column::Tag.eq(tag))
            .one(&self.db)
            .await
            .map_err(db_error)?;
        match existing {
            Some(t) if t.digest == digest => Ok(()),
            Some(t) => Err(ExternalError::permanent(format!(
                "{image}:{tag} already names {} (tags are never moved)",
                t.digest
            ))),
            None => {
                let inserted = registry_tags::ActiveModel {
                    image: Set(image.to_string()),
                    tag: Set(tag.to_string()),
                    digest: Set(digest.to_string()),
                    created_at: Set(chrono::Utc::now()),
                    ..Default::default()
                }
                .insert(&self.db)
                .await;
                match inserted {
                    Ok(_) => Ok(()),
                    // Tagged meanwhile (another replica): right if it names this digest.
                    Err(_) => Box::pin(self.tag(image, digest, tag)).await,
                }
            }
        }
    }

    async fn tags(&self, image: &str) -> Result<Vec<String>, ExternalError> {
        Ok(registry_tags::Entity::find()
            .filter(registry_tags::Column::Image.eq(image))
            .all(&self.db)
            .await
            .map_err(db_error)?
            .into_iter()
            .map(|t| t.tag)
            .collect())
    }
}
