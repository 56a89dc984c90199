//! Notifications: a person's choices and channels (their own), their in-app list (their own),
//! a group's Slack and webhook (admins), and the deliveries (admins).

use crate::error::AppError;
pub use crate::wire::notifications::*;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
mod guard {
    pub use crate::domain::notifications::{Channel, Choices};
    pub use crate::domain::rbac::{Action, EntityType, ResourceRef};
    pub use crate::server::notifications::{self as notifier, Recipient};
    pub use crate::server::request::{ctx, require, require_signed_in, respond};

    pub fn access() -> ResourceRef {
        ResourceRef::of_type(EntityType::Access)
    }

    pub fn channel_of(text: &str) -> Result<Channel, crate::error::AppError> {
        Channel::parse(text)
            .filter(|c| c.takes_url())
            .ok_or_else(|| {
                crate::error::AppError::invalid(
                    "channel",
                    format!("{text:?} is not slack or webhook"),
                )
            })
    }
}

#[server(endpoint = "get_notification_settings")]
pub async fn get_notification_settings() -> Result<NotificationSettings, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require_signed_in().await?;
            notifier::settings(&ctx()?, &caller.user).await
        }
        .await,
    )
}

/// Saves which channels tell the caller of each topic: `on` holds a `topic:channel` per box
/// left ticked; every other pair is off.
#[server(endpoint = "save_notification_choices")]
pub async fn save_notification_choices(#[server(default)] on: Vec<String>) -> Result<(), AppError> {
    use guard::*;
    respond(
        async {
            let caller = require_signed_in().await?;
            let choices = Choices::from_ticked(&on).map_err(|bad| {
                AppError::invalid_all(bad.into_iter().map(|b| ("on".to_string(), b)).collect())
                    .unwrap_or_else(|| AppError::invalid("on", "no choice"))
            })?;
            notifier::save_choices(&ctx()?, &caller.actor(), caller.user.id, &choices).await
        }
        .await,
    )
}

/// Sets (or, empty, removes) a Slack or webhook URL: the caller's own, or with `group` that
/// group's (admins). A webhook's new signing secret is returned once.
#[server(endpoint = "set_notification_url")]
pub async fn set_notification_url(
    channel: String,
    url: String,
    group: Option<String>,
) -> Result<Option<String>, AppError> {
    use guard::*;
    respond(
        async {
            let (caller, owner) = match group {
                Some(group) => {
                    let caller = require(Action::Administer, access()).await?;
                    crate::server::directory::group_detail(&ctx()?.db, &group).await?;
                    (caller, Recipient::Group(group))
                }
                None => {
                    let caller = require_signed_in().await?;
                    let me = Recipient::User(caller.user.login.clone());
                    (caller, me)
                }
            };
            let channel = channel_of(&channel)?;
            notifier::set_target(&ctx()?, &caller.actor(), &owner, channel, &url).await
        }
        .await,
    )
}

#[server(endpoint = "get_notifications")]
pub async fn get_notifications() -> Result<Inbox, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require_signed_in().await?;
            notifier::inbox(&ctx()?.db, &caller.user.login).await
        }
        .await,
    )
}

/// Marks the caller's unread notifications read: all, or the one `id`.
#[server(endpoint = "mark_notifications_read")]
pub async fn mark_notifications_read(id: Option<i64>) -> Result<u64, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require_signed_in().await?;
            notifier::mark_read(&ctx()?, &caller.actor(), id).await
        }
        .await,
    )
}

/// A group's Slack and webhook (hosts only): those who may read access.
#[server(endpoint = "get_group_notification_targets")]
pub async fn get_group_notification_targets(group: String) -> Result<Vec<TargetView>, AppError> {
    use guard::*;
    respond(
        async {
            require(Action::Read, access()).await?;
            let ctx = ctx()?;
            crate::server::directory::group_detail(&ctx.db, &group).await?;
            Ok(notifier::targets_of(&ctx.db, &Recipient::Group(group))
                .await?
                .into_iter()
                .map(|(channel, t)| TargetView {
                    channel: channel.as_str().to_string(),
                    label: channel.label().to_string(),
                    host: t.host,
                    set_by: t.set_by,
                    updated_at: crate::server::when(&t.updated_at),
                })
                .collect())
        }
        .await,
    )
}

/// The latest deliveries and how each stands: admins.
#[server(endpoint = "get_deliveries")]
pub async fn get_deliveries() -> Result<DeliveriesView, AppError> {
    use guard::*;
    respond(
        async {
            require(Action::Administer, access()).await?;
            notifier::deliveries(&ctx()?).await
        }
        .await,
    )
}

/// Sends a failed delivery again: admins.
#[server(endpoint = "retry_delivery")]
pub async fn retry_delivery(id: i64) -> Result<i64, AppError> {
    use guard::*;
    respond(
        async {
            let caller = require(Action::Administer, access()).await?;
            notifier::retry_delivery(&ctx()?, &caller.actor(), id).await
        }
        .await,
    )
}
