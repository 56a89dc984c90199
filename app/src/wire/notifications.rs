//! The wire types of notifications: a person's choices and channels, their in-app list, and
//! the admins' view of deliveries.

use serde::{Deserialize, Serialize};

/// The account page's notification settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationSettings {
    /// One per channel, in the order of each row's boxes.
    pub channels: Vec<ChannelState>,
    pub rows: Vec<ChoiceRow>,
}

/// A channel and whether it can reach the person now (and why not).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelState {
    /// `in_app`, `email`, `slack`, `webhook`.
    pub channel: String,
    pub label: String,
    pub reachable: bool,
    /// "to ada@example.com", "this server sends no e-mail (SLIPWAY_SMTP_URL)", "hooks.slack.com".
    pub note: String,
    /// Takes a URL (Slack, webhook); its host if one is set.
    pub takes_url: bool,
    pub host: Option<String>,
}

/// One topic and, per channel, whether it tells the person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChoiceRow {
    pub topic: String,
    pub label: String,
    pub explained: String,
    pub on: Vec<bool>,
}

/// The person's in-app notifications, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inbox {
    pub items: Vec<InboxItem>,
    pub unread: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxItem {
    pub id: i64,
    pub topic: String,
    pub title: String,
    pub why: String,
    pub href: String,
    pub at: String,
    pub read: bool,
}

/// A person's or group's Slack or webhook, as shown (never the URL: it is a credential).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetView {
    pub channel: String,
    pub label: String,
    pub host: String,
    pub set_by: String,
    pub updated_at: String,
}

/// One delivery, for admins.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRow {
    pub id: i64,
    pub created_at: String,
    /// `quinn`, or `group qa`.
    pub recipient: String,
    pub channel: String,
    pub target: String,
    pub title: String,
    /// `sent`, `queued`, `retrying`, `failed`.
    pub state: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub sent_at: Option<String>,
    pub job_id: Option<i64>,
}

/// The admins' view: the latest deliveries, and how many are in each state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveriesView {
    pub rows: Vec<DeliveryRow>,
    pub sent: u64,
    pub pending: u64,
    pub failed: u64,
    /// Whether e-mail is configured on this server.
    pub email_configured: bool,
}
