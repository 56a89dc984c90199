//! Notifications: telling people, once, that something waits for them, and telling whoever
//! asked for something how it ended.
//!
//! Who must act is not decided here: a sweep asks `needs::needs_of` — the rules behind "Needs
//! you" — for every person, and what it finds that they were not told yet becomes a
//! notification, keyed by the need's key. Outcomes come from the audit log, the durable record
//! of every decision, read from a cursor. Each notification is one row, unique per recipient
//! and key, so a second sweep (another replica, or the same one after a restart) adds nothing.
//! Each channel it goes out on is one delivery row and one durable job (retried with backoff);
//! a delivery records when it was sent and is never sent again after that.

use super::entities::{
    audit_events, freeze_exceptions, notification_deliveries as deliveries,
    notification_opt_outs as opt_outs, notification_targets as targets, notifications,
    notifier_cursor, pull_requests, releases, resources, rollbacks, users,
};
use super::jobs::{self, JobKind, PlainJob};
use super::ports::{Email, ExternalError};
use super::AppCtx;
use crate::domain::notifications::{outcome, Channel, Choices, Message, Topic, OUTCOME_ACTIONS};
use crate::error::{AppError, AppResult};
use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

pub const DELIVER_JOB: &str = "notification.deliver";
/// Attempts per delivery: backing off 5 s, 10 s … about 10 minutes in all before it fails.
const ATTEMPTS: i32 = 8;
/// The most audit events one sweep reads for outcomes (the next sweep reads on).
const OUTCOMES_PER_SWEEP: u64 = 500;

pub const USER: &str = "user";
pub const GROUP: &str = "group";

pub struct Deliver;

#[derive(Debug, Serialize, Deserialize)]
pub struct DeliverPayload {
    pub delivery: i64,
}

impl JobKind for Deliver {
    const NAME: &'static str = DELIVER_JOB;
    type Payload = DeliverPayload;
}

impl PlainJob for Deliver {
    fn run<'a>(
        ctx: &'a AppCtx,
        payload: DeliverPayload,
        say: &'a (dyn Fn(String) + Send + Sync),
    ) -> impl std::future::Future<Output = Result<(), ExternalError>> + Send + 'a {
        async move { deliver(ctx, payload.delivery, say).await }
    }
}

/// Who a notification is for.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Recipient {
    User(String),
    Group(String),
}

impl Recipient {
    fn kind(&self) -> &'static str {
        match self {
            Recipient::User(_) => USER,
            Recipient::Group(_) => GROUP,
        }
    }

    fn name(&self) -> &str {
        match self {
            Recipient::User(name) | Recipient::Group(name) => name,
        }
    }
}

/// What one sweep did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    /// Notifications made (people and groups told of something new).
    pub notified: usize,
    /// Deliveries queued for them (e-mail, Slack, webhooks).
    pub queued: usize,
}

/// Tells everyone what is new for them: outcomes since the cursor, then every person's needs.
pub async fn sweep(ctx: &AppCtx) -> AppResult<Swept> {
    let mut swept = Swept::default();
    outcomes(ctx, &mut swept).await?;
    let people = users::Entity::find()
        .order_by_asc(users::Column::Id)
        .all(&ctx.db)
        .await?;
    let group_targets = group_targets(&ctx.db).await?;
    for user in people {
        let subject = super::access::subject_for_user(&ctx.db, user.id).await?;
        let groups = super::directory::groups_of(&ctx.db, user.id).await?;
        let may = |action, on: &crate::domain::rbac::ResourceRef| {
            crate::domain::rbac::authorize(&subject, action, on).is_allowed()
        };
        let person = super::needs::Person {
            login: &user.login,
            groups: &groups,
            may: &may,
        };
        for need in super::needs::needs_of(ctx, &person).await? {
            let message = Message {
                topic: need.kind.into(),
                title: need.title.clone(),
                why: need.why.clone(),
                href: need.href.clone(),
            };
            notify(
                ctx,
                &Recipient::User(user.login.clone()),
                &need.key,
                &message,
                &mut swept,
            )
            .await?;
            for group in need.groups.iter().filter(|g| group_targets.contains(*g)) {
                // Said to the group, not to one member ("you are in …").
                let message = Message {
                    why: format!("Waiting for {group}: one of you acts on it in Slipway."),
                    ..message.clone()
                };
                notify(
                    ctx,
                    &Recipient::Group(group.clone()),
                    &need.key,
                    &message,
                    &mut swept,
                )
                .await?;
            }
        }
    }
    if swept.queued > 0 {
        ctx.jobs_wake.notify_one();
    }
    Ok(swept)
}

async fn group_targets<C: ConnectionTrait>(db: &C) -> AppResult<BTreeSet<String>> {
    Ok(targets::Entity::find()
        .filter(targets::Column::OwnerKind.eq(GROUP))
        .all(db)
        .await?
        .into_iter()
        .map(|t| t.owner)
        .collect())
}

/// Outcomes from the audit events after the cursor, each for the person who asked (never for
/// the one who decided it themselves).
async fn outcomes(ctx: &AppCtx, swept: &mut Swept) -> AppResult<()> {
    let db = &ctx.db;
    let Some(cursor) = notifier_cursor::Entity::find_by_id(1).one(db).await? else {
        return Ok(());
    };
    // Events are numbered under the audit head's lock and commit in that order: everything up
    // to the head read now is there to read.
    let head = super::cache::version(db).await?;
    let events = audit_events::Entity::find()
        .filter(audit_events::Column::Seq.gt(cursor.audit_seq))
        .filter(audit_events::Column::Seq.lte(head))
        .filter(audit_events::Column::Action.is_in(OUTCOME_ACTIONS))
        .order_by_asc(audit_events::Column::Seq)
        .limit(OUTCOMES_PER_SWEEP)
        .all(db)
        .await?;
    let read_to = if events.len() as u64 == OUTCOMES_PER_SWEEP {
        events.last().map(|e| e.seq).unwrap_or(head)
    } else {
        head
    };
    for event in events {
        let Some((requester, what, href)) = asked_by(db, &event).await? else {
            continue;
        };
        if requester == event.actor {
            continue;
        }
        let after: serde_json::Value = event
            .after
            .as_deref()
            .and_then(|a| serde_json::from_str(a).ok())
            .unwrap_or_default();
        let Some(message) = outcome(&event.action, &event.actor, &what, &href, &after) else {
            continue;
        };
        notify(
            ctx,
            &Recipient::User(requester),
            &format!("outcome:{}", event.seq),
            &message,
            swept,
        )
        .await?;
    }
    // Another replica may have moved it meanwhile: it only ever moves forward.
    notifier_cursor::Entity::update_many()
        .col_expr(
            notifier_cursor::Column::AuditSeq,
            sea_orm::sea_query::Expr::value(read_to),
        )
        .col_expr(
            notifier_cursor::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(notifier_cursor::Column::Id.eq(1))
        .filter(notifier_cursor::Column::AuditSeq.lt(read_to))
        .exec(db)
        .await?;
    Ok(())
}

/// Who asked for what an outcome event decides, what it is called and where it is.
async fn asked_by<C: ConnectionTrait>(
    db: &C,
    event: &audit_events::Model,
) -> AppResult<Option<(String, String, String)>> {
    let after: serde_json::Value = event
        .after
        .as_deref()
        .and_then(|a| serde_json::from_str(a).ok())
        .unwrap_or_default();
    let id_in = |key: &str| after.get(key).and_then(|v| v.as_i64());
    Ok(match event.action.split('.').next().unwrap_or_default() {
        "release" => releases::Entity::find()
            .filter(releases::Column::RcTag.eq(event.entity_id.clone()))
            .one(db)
            .await?
            .map(|r| (r.starter, r.rc_tag, format!("/releases/{}", r.id))),
        "resource" => {
            let Ok(id) = event.entity_id.parse::<i64>() else {
                return Ok(None);
            };
            let Some(resource) = resources::Entity::find_by_id(id).one(db).await? else {
                return Ok(None);
            };
            // The pull request decided (approve, reject), or the one whose plan was applied;
            // a plan no pull request asked for (accepting drift) is nobody's outcome.
            let pull = match (id_in("pull_request"), id_in("plan")) {
                (Some(number), _) => {
                    pull_requests::Entity::find()
                        .filter(pull_requests::Column::ResourceId.eq(id))
                        .filter(pull_requests::Column::Number.eq(number))
                        .one(db)
                        .await?
                }
                (None, Some(plan)) => match super::entities::plans::Entity::find_by_id(plan)
                    .one(db)
                    .await?
                    .and_then(|p| p.pull_request_id)
                {
                    Some(pull) => pull_requests::Entity::find_by_id(pull).one(db).await?,
                    None => None,
                },
                (None, None) => None,
            };
            let Some(requester) = pull.map(|p| p.created_by) else {
                return Ok(None);
            };
            Some((
                requester,
                resource.slug.clone(),
                format!("/resources/{}", resource.slug),
            ))
        }
        "pull_request" => match id_in("number") {
            Some(number) => {
                let repository = after
                    .get("repository")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default();
                super::entities::local_pulls::Entity::find()
                    .filter(super::entities::local_pulls::Column::Repository.eq(repository))
                    .filter(super::entities::local_pulls::Column::Number.eq(number))
                    .one(db)
                    .await?
                    .map(|p| {
                        (
                            p.author,
                            format!("#{number} in {repository}"),
                            format!("/repositories/{}/pulls/{number}", event.entity_id),
                        )
                    })
            }
            None => None,
        },
        "rollback" => match id_in("rollback") {
            Some(id) => rollbacks::Entity::find_by_id(id).one(db).await?.map(|r| {
                (
                    r.requested_by,
                    format!("{} in {}", r.application, r.environment),
                    "/releases#rollbacks".to_string(),
                )
            }),
            None => None,
        },
        "freeze" => match id_in("exception") {
            Some(id) => freeze_exceptions::Entity::find_by_id(id)
                .one(db)
                .await?
                .map(|e| (e.requested_by, e.label, "/freezes".to_string())),
            None => None,
        },
        _ => None,
    })
}

/// Makes the notification of `key` for `recipient`, unless they were told already, and queues
/// its deliveries on the channels they chose that can reach them — in one transaction.
async fn notify(
    ctx: &AppCtx,
    recipient: &Recipient,
    key: &str,
    message: &Message,
    swept: &mut Swept,
) -> AppResult<()> {
    let told = notifications::Entity::find()
        .filter(notifications::Column::RecipientKind.eq(recipient.kind()))
        .filter(notifications::Column::Recipient.eq(recipient.name()))
        .filter(notifications::Column::EventKey.eq(key))
        .one(&ctx.db)
        .await?;
    if told.is_some() {
        return Ok(());
    }
    let (choices, email) = match recipient {
        Recipient::User(login) => {
            let Some(user) = users::Entity::find()
                .filter(users::Column::Login.eq(login.as_str()))
                .one(&ctx.db)
                .await?
            else {
                return Ok(());
            };
            (choices_of(&ctx.db, user.id).await?, user.email)
        }
        Recipient::Group(_) => (Choices::default(), None),
    };
    let mut channels: Vec<(Channel, String)> = Vec::new();
    if let (Some(address), true) = (email, ctx.messenger.email_configured()) {
        if choices.wants(message.topic, Channel::Email) && matches!(recipient, Recipient::User(_)) {
            channels.push((Channel::Email, address));
        }
    }
    for target in targets::Entity::find()
        .filter(targets::Column::OwnerKind.eq(recipient.kind()))
        .filter(targets::Column::Owner.eq(recipient.name()))
        .all(&ctx.db)
        .await?
    {
        if let Some(channel) = Channel::parse(&target.channel) {
            if choices.wants(message.topic, channel) {
                channels.push((channel, target.host));
            }
        }
    }
    let shown =
        matches!(recipient, Recipient::User(_)) && choices.wants(message.topic, Channel::InApp);
    let txn = super::begin_write(&ctx.db).await?;
    let now = Utc::now();
    let inserted = notifications::Entity::insert(notifications::ActiveModel {
        recipient_kind: Set(recipient.kind().to_string()),
        recipient: Set(recipient.name().to_string()),
        event_key: Set(key.to_string()),
        topic: Set(message.topic.as_str().to_string()),
        title: Set(message.title.clone()),
        why: Set(message.why.clone()),
        href: Set(message.href.clone()),
        shown: Set(shown),
        created_at: Set(now),
        read_at: Set(None),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            notifications::Column::RecipientKind,
            notifications::Column::Recipient,
            notifications::Column::EventKey,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    if inserted == 0 {
        // Another replica told them between the look and the write.
        return Ok(());
    }
    let notification = notifications::Entity::find()
        .filter(notifications::Column::RecipientKind.eq(recipient.kind()))
        .filter(notifications::Column::Recipient.eq(recipient.name()))
        .filter(notifications::Column::EventKey.eq(key))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::internal("the notification just written is not there"))?;
    for (channel, target) in &channels {
        let delivery = deliveries::ActiveModel {
            notification_id: Set(notification.id),
            channel: Set(channel.as_str().to_string()),
            target: Set(target.clone()),
            job_id: Set(None),
            attempts: Set(0),
            last_error: Set(None),
            sent_at: Set(None),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        queue(&txn, delivery.id, true).await?;
        swept.queued += 1;
    }
    txn.commit().await?;
    swept.notified += 1;
    Ok(())
}

/// Queues the job sending a delivery and records it on the delivery. `first`: the delivery's
/// own job (one per delivery, whoever queues it); otherwise a retry's new one.
async fn queue<C: ConnectionTrait>(db: &C, delivery: i64, first: bool) -> AppResult<i64> {
    let key = format!("notification-delivery:{delivery}");
    let job = jobs::enqueue_job::<Deliver, _>(
        db,
        &DeliverPayload { delivery },
        first.then_some(key.as_str()),
        None,
        ATTEMPTS,
    )
    .await?;
    deliveries::Entity::update_many()
        .col_expr(
            deliveries::Column::JobId,
            sea_orm::sea_query::Expr::value(job.id),
        )
        .filter(deliveries::Column::Id.eq(delivery))
        .exec(db)
        .await?;
    Ok(job.id)
}

/// A person's choices (what they turned off).
pub async fn choices_of<C: ConnectionTrait>(db: &C, user_id: i64) -> AppResult<Choices> {
    let off = opt_outs::Entity::find()
        .filter(opt_outs::Column::UserId.eq(user_id))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|o| Some((Topic::parse(&o.topic)?, Channel::parse(&o.channel)?)))
        .collect();
    Ok(Choices { off })
}

/// Sends one delivery. Sent already: nothing (a job re-run after a crash before its end was
/// recorded). Each attempt is counted and its error kept for the admins' view.
async fn deliver(
    ctx: &AppCtx,
    id: i64,
    say: &(dyn Fn(String) + Send + Sync),
) -> Result<(), ExternalError> {
    let Some(delivery) = deliveries::Entity::find_by_id(id).one(&ctx.db).await? else {
        say(format!(
            "delivery #{id} is gone (its notification was removed)"
        ));
        return Ok(());
    };
    if delivery.sent_at.is_some() {
        say(format!("delivery #{id} was sent already"));
        return Ok(());
    }
    let notification = notifications::Entity::find_by_id(delivery.notification_id)
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ExternalError::permanent("the notification is gone"))?;
    deliveries::Entity::update_many()
        .col_expr(
            deliveries::Column::Attempts,
            sea_orm::sea_query::ExprTrait::add(
                sea_orm::sea_query::Expr::col(deliveries::Column::Attempts),
                1,
            ),
        )
        .filter(deliveries::Column::Id.eq(id))
        .exec(&ctx.db)
        .await?;
    let sent = send(ctx, &delivery, &notification).await;
    let now = Utc::now();
    let (sent_at, last_error) = match &sent {
        Ok(()) => (Some(now), None),
        Err(e) => (None, Some(e.message.clone())),
    };
    deliveries::Entity::update_many()
        .col_expr(
            deliveries::Column::SentAt,
            sea_orm::sea_query::Expr::value(sent_at),
        )
        .col_expr(
            deliveries::Column::LastError,
            sea_orm::sea_query::Expr::value(last_error),
        )
        .filter(deliveries::Column::Id.eq(id))
        .exec(&ctx.db)
        .await?;
    match &sent {
        Ok(()) => say(format!(
            "sent by {} to {}",
            delivery.channel, delivery.target
        )),
        Err(e) => say(format!("not sent: {}", e.message)),
    }
    sent
}

async fn send(
    ctx: &AppCtx,
    delivery: &deliveries::Model,
    notification: &notifications::Model,
) -> Result<(), ExternalError> {
    let message = Message {
        topic: Topic::parse(&notification.topic).unwrap_or(Topic::Outcome),
        title: notification.title.clone(),
        why: notification.why.clone(),
        href: notification.href.clone(),
    };
    let public_url = ctx.portal.public_url.as_str();
    let channel = Channel::parse(&delivery.channel)
        .ok_or_else(|| ExternalError::permanent(format!("no channel {:?}", delivery.channel)))?;
    if channel == Channel::Email {
        return ctx
            .messenger
            .send_email(Email {
                to: &delivery.target,
                subject: &message.email_subject(),
                text: &message.email_text(public_url, &notification.recipient),
                message_id: &format!("<notification-{}@slipway>", delivery.id),
            })
            .await;
    }
    let target = targets::Entity::find()
        .filter(targets::Column::OwnerKind.eq(notification.recipient_kind.as_str()))
        .filter(targets::Column::Owner.eq(notification.recipient.as_str()))
        .filter(targets::Column::Channel.eq(channel.as_str()))
        .one(&ctx.db)
        .await?
        .ok_or_else(|| {
            ExternalError::permanent(format!(
                "{}'s {} was removed before it could be sent",
                notification.recipient,
                channel.label()
            ))
        })?;
    let url = ctx
        .secrets
        .open(TARGET_PURPOSE, &target.url_sealed)
        .map_err(|e| ExternalError::permanent(format!("the URL does not open: {e}")))?;
    ctx.messenger
        .check_url(&url)
        .await
        .map_err(ExternalError::permanent)?;
    match channel {
        Channel::Slack => {
            let body = message.slack_payload(public_url).to_string();
            ctx.messenger.post_json(&url, &[], &body).await
        }
        Channel::Webhook => {
            let secret = target
                .secret_sealed
                .as_deref()
                .map(|s| ctx.secrets.open(TARGET_PURPOSE, s))
                .transpose()
                .map_err(|e| ExternalError::permanent(format!("the secret does not open: {e}")))?
                .unwrap_or_default();
            let body = message
                .webhook_payload(
                    public_url,
                    delivery.id,
                    &notification.event_key,
                    &notification.recipient,
                    &notification.created_at.to_rfc3339(),
                )
                .to_string();
            let timestamp = Utc::now().timestamp().to_string();
            let signature = super::secrets::sign_sha256(
                secret.as_bytes(),
                &[timestamp.as_bytes(), b".", body.as_bytes()],
            );
            ctx.messenger
                .post_json(
                    &url,
                    &[
                        ("X-Slipway-Event", "notification".to_string()),
                        ("X-Slipway-Delivery", delivery.id.to_string()),
                        ("X-Slipway-Timestamp", timestamp),
                        ("X-Slipway-Signature", signature),
                    ],
                    &body,
                )
                .await
        }
        Channel::InApp | Channel::Email => Ok(()),
    }
}

/// The sealing purpose of notification URLs and secrets.
pub const TARGET_PURPOSE: &str = "notification-target";

/// Saves a person's choices: the (topic, channel) pairs they turned off replace the ones before.
pub async fn save_choices(
    ctx: &AppCtx,
    actor: &super::Actor,
    user_id: i64,
    choices: &Choices,
) -> AppResult<()> {
    super::audit::audited(&ctx.db, actor, async |txn| {
        opt_outs::Entity::delete_many()
            .filter(opt_outs::Column::UserId.eq(user_id))
            .exec(txn)
            .await?;
        for (topic, channel) in &choices.off {
            opt_outs::ActiveModel {
                user_id: Set(user_id),
                topic: Set(topic.as_str().to_string()),
                channel: Set(channel.as_str().to_string()),
                ..Default::default()
            }
            .insert(txn)
            .await?;
        }
        let off: Vec<String> = choices
            .off
            .iter()
            .map(|(t, c)| format!("{}:{}", t.as_str(), c.as_str()))
            .collect();
        Ok((
            (),
            super::audit::Change::new("account.notifications", "user", &actor.label)
                .after(&serde_json::json!({ "off": off })),
        ))
    })
    .await
}

/// Sets (or with an empty URL removes) the Slack or webhook URL of a person or group. A webhook
/// gets a new signing secret, returned once.
pub async fn set_target(
    ctx: &AppCtx,
    actor: &super::Actor,
    owner: &Recipient,
    channel: Channel,
    url: &str,
) -> AppResult<Option<String>> {
    if !channel.takes_url() {
        return Err(AppError::invalid(
            "channel",
            format!("{} takes no URL", channel.label()),
        ));
    }
    let url = url.trim();
    let existing = targets::Entity::find()
        .filter(targets::Column::OwnerKind.eq(owner.kind()))
        .filter(targets::Column::Owner.eq(owner.name()))
        .filter(targets::Column::Channel.eq(channel.as_str()))
        .one(&ctx.db)
        .await?;
    let entity = format!("{}:{}", owner.kind(), owner.name());
    if url.is_empty() {
        let Some(existing) = existing else {
            return Err(AppError::Conflict(format!(
                "{} has no {} to remove",
                owner.name(),
                channel.label()
            )));
        };
        return super::audit::audited(&ctx.db, actor, async |txn| {
            targets::Entity::delete_by_id(existing.id).exec(txn).await?;
            Ok((
                None,
                super::audit::Change::new(
                    "notification.target_remove",
                    "notification_target",
                    &entity,
                )
                .after(&serde_json::json!({ "channel": channel.as_str() })),
            ))
        })
        .await;
    }
    let parsed = url::Url::parse(url)
        .map_err(|e| AppError::invalid("url", format!("{url:?} is not a URL: {e}")))?;
    if channel == Channel::Slack
        && parsed.scheme() == "https"
        && parsed.host_str() != Some("hooks.slack.com")
        && !parsed.host_str().is_some_and(|h| h.ends_with(".slack.com"))
    {
        return Err(AppError::invalid(
            "url",
            "a Slack incoming webhook's URL is on hooks.slack.com (https://hooks.slack.com/services/…)",
        ));
    }
    ctx.messenger
        .check_url(url)
        .await
        .map_err(|why| AppError::invalid("url", why))?;
    let host = match parsed.port() {
        Some(port) => format!("{}:{port}", parsed.host_str().unwrap_or_default()),
        None => parsed.host_str().unwrap_or_default().to_string(),
    };
    let secret = (channel == Channel::Webhook).then(|| {
        use rand::RngCore;
        let mut bytes = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        format!("slw_{}", hex::encode(bytes))
    });
    let sealed_url = ctx.secrets.seal(TARGET_PURPOSE, url);
    let sealed_secret = secret
        .as_deref()
        .map(|s| ctx.secrets.seal(TARGET_PURPOSE, s));
    super::audit::audited(&ctx.db, actor, async |txn| {
        let now = Utc::now();
        match existing {
            Some(row) => {
                let mut active: targets::ActiveModel = row.into();
                active.url_sealed = Set(sealed_url.clone());
                active.secret_sealed = Set(sealed_secret.clone());
                active.host = Set(host.clone());
                active.set_by = Set(actor.label.clone());
                active.updated_at = Set(now);
                active.update(txn).await?;
            }
            None => {
                targets::ActiveModel {
                    owner_kind: Set(owner.kind().to_string()),
                    owner: Set(owner.name().to_string()),
                    channel: Set(channel.as_str().to_string()),
                    url_sealed: Set(sealed_url.clone()),
                    secret_sealed: Set(sealed_secret.clone()),
                    host: Set(host.clone()),
                    set_by: Set(actor.label.clone()),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(txn)
                .await?;
            }
        }
        Ok((
            secret.clone(),
            super::audit::Change::new("notification.target_set", "notification_target", &entity)
                .after(&serde_json::json!({ "channel": channel.as_str(), "host": host })),
        ))
    })
    .await
}

/// The Slack and webhook targets of a person or group: (channel, host, set by, when).
pub async fn targets_of<C: ConnectionTrait>(
    db: &C,
    owner: &Recipient,
) -> AppResult<BTreeMap<Channel, targets::Model>> {
    Ok(targets::Entity::find()
        .filter(targets::Column::OwnerKind.eq(owner.kind()))
        .filter(targets::Column::Owner.eq(owner.name()))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|t| Some((Channel::parse(&t.channel)?, t)))
        .collect())
}

/// How many in-app notifications the home page lists, and deliveries the admins' view.
const INBOX_LISTED: u64 = 20;
const DELIVERIES_LISTED: u64 = 200;

/// The account page's settings: per channel whether it reaches `user`, per topic the choices.
pub async fn settings(
    ctx: &AppCtx,
    user: &users::Model,
) -> AppResult<crate::wire::notifications::NotificationSettings> {
    use crate::domain::notifications::{CHANNELS, TOPICS};
    use crate::wire::notifications::{ChannelState, ChoiceRow, NotificationSettings};
    let choices = choices_of(&ctx.db, user.id).await?;
    let targets = targets_of(&ctx.db, &Recipient::User(user.login.clone())).await?;
    let channels = CHANNELS
        .iter()
        .map(|channel| {
            let host = targets.get(channel).map(|t| t.host.clone());
            let (reachable, note) = match channel {
                Channel::InApp => (true, "the list on your home page".to_string()),
                Channel::Email => match (&user.email, ctx.messenger.email_configured()) {
                    (Some(address), true) => (true, format!("to {address}")),
                    (None, _) => (false, "your account has no e-mail address".to_string()),
                    (Some(_), false) => (
                        false,
                        "this server sends no e-mail (an admin sets SLIPWAY_SMTP_URL)".to_string(),
                    ),
                },
                Channel::Slack | Channel::Webhook => match &host {
                    Some(host) => (true, format!("to {host}")),
                    None => (false, "set a URL below".to_string()),
                },
            };
            ChannelState {
                channel: channel.as_str().to_string(),
                label: channel.label().to_string(),
                reachable,
                note,
                takes_url: channel.takes_url(),
                host,
            }
        })
        .collect();
    let rows = TOPICS
        .iter()
        .map(|topic| ChoiceRow {
            topic: topic.as_str().to_string(),
            label: topic.label().to_string(),
            explained: topic.explained().to_string(),
            on: CHANNELS.iter().map(|c| choices.wants(*topic, *c)).collect(),
        })
        .collect();
    Ok(NotificationSettings { channels, rows })
}

/// The in-app notifications of `login`, newest first, and how many are unread.
pub async fn inbox<C: ConnectionTrait>(
    db: &C,
    login: &str,
) -> AppResult<crate::wire::notifications::Inbox> {
    use crate::wire::notifications::{Inbox, InboxItem};
    use sea_orm::PaginatorTrait;
    let mine = || {
        notifications::Entity::find()
            .filter(notifications::Column::RecipientKind.eq(USER))
            .filter(notifications::Column::Recipient.eq(login))
            .filter(notifications::Column::Shown.eq(true))
    };
    let unread = mine()
        .filter(notifications::Column::ReadAt.is_null())
        .count(db)
        .await?;
    let items = mine()
        .order_by_desc(notifications::Column::Id)
        .limit(INBOX_LISTED)
        .all(db)
        .await?
        .into_iter()
        .map(|n| InboxItem {
            id: n.id,
            topic: Topic::parse(&n.topic)
                .map(|t| t.label().to_string())
                .unwrap_or(n.topic),
            title: n.title,
            why: n.why,
            href: n.href,
            at: super::when(&n.created_at),
            read: n.read_at.is_some(),
        })
        .collect();
    Ok(Inbox { items, unread })
}

/// Marks `login`'s unread in-app notifications read (all of them, or the one `id`).
pub async fn mark_read(ctx: &AppCtx, actor: &super::Actor, id: Option<i64>) -> AppResult<u64> {
    super::audit::audited(&ctx.db, actor, async |txn| {
        let mut unread = notifications::Entity::update_many()
            .col_expr(
                notifications::Column::ReadAt,
                sea_orm::sea_query::Expr::value(Some(Utc::now())),
            )
            .filter(notifications::Column::RecipientKind.eq(USER))
            .filter(notifications::Column::Recipient.eq(actor.label.as_str()))
            .filter(notifications::Column::ReadAt.is_null());
        if let Some(id) = id {
            unread = unread.filter(notifications::Column::Id.eq(id));
        }
        let marked = unread.exec(txn).await?.rows_affected;
        let change = (marked > 0).then(|| {
            super::audit::Change::new("notification.read", "user", &actor.label)
                .after(&serde_json::json!({ "marked": marked, "id": id }))
        });
        Ok((marked, change))
    })
    .await
}

/// The latest deliveries with how each stands, for admins.
pub async fn deliveries(ctx: &AppCtx) -> AppResult<crate::wire::notifications::DeliveriesView> {
    use super::entities::jobs as job_rows;
    use crate::domain::jobs::JobStatus;
    use crate::wire::notifications::{DeliveriesView, DeliveryRow};
    use sea_orm::PaginatorTrait;
    let db = &ctx.db;
    let rows = deliveries::Entity::find()
        .order_by_desc(deliveries::Column::Id)
        .limit(DELIVERIES_LISTED)
        .all(db)
        .await?;
    let told: BTreeMap<i64, notifications::Model> = notifications::Entity::find()
        .filter(notifications::Column::Id.is_in(rows.iter().map(|d| d.notification_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|n| (n.id, n))
        .collect();
    let job_status: BTreeMap<i64, JobStatus> = job_rows::Entity::find()
        .filter(job_rows::Column::Id.is_in(rows.iter().filter_map(|d| d.job_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|j| (j.id, j.status))
        .collect();
    let rows = rows
        .into_iter()
        .map(|d| {
            let note = told.get(&d.notification_id);
            let state = match (&d.sent_at, d.job_id.and_then(|j| job_status.get(&j))) {
                (Some(_), _) => "sent",
                (None, Some(JobStatus::Failed)) => "failed",
                (None, _) if d.attempts > 0 => "retrying",
                (None, _) => "queued",
            };
            DeliveryRow {
                id: d.id,
                created_at: super::when(&d.created_at),
                recipient: match note {
                    Some(n) if n.recipient_kind == GROUP => format!("group {}", n.recipient),
                    Some(n) => n.recipient.clone(),
                    None => String::new(),
                },
                channel: Channel::parse(&d.channel)
                    .map(|c| c.label().to_string())
                    .unwrap_or(d.channel),
                target: d.target,
                title: note.map(|n| n.title.clone()).unwrap_or_default(),
                state: state.to_string(),
                attempts: d.attempts,
                last_error: d.last_error,
                sent_at: d.sent_at.as_ref().map(super::when),
                job_id: d.job_id,
            }
        })
        .collect();
    let sent = deliveries::Entity::find()
        .filter(deliveries::Column::SentAt.is_not_null())
        .count(db)
        .await?;
    let unsent_failed = deliveries::Entity::find()
        .filter(deliveries::Column::SentAt.is_null())
        .filter(
            deliveries::Column::JobId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(job_rows::Column::Id)
                    .from(job_rows::Entity)
                    .and_where(job_rows::Column::Status.eq(JobStatus::Failed))
                    .to_owned(),
            ),
        )
        .count(db)
        .await?;
    let all = deliveries::Entity::find().count(db).await?;
    Ok(DeliveriesView {
        rows,
        sent,
        failed: unsent_failed,
        pending: all.saturating_sub(sent + unsent_failed),
        email_configured: ctx.messenger.email_configured(),
    })
}

/// Sends a failed delivery again: a new job with its attempts afresh (admins).
pub async fn retry_delivery(ctx: &AppCtx, actor: &super::Actor, id: i64) -> AppResult<i64> {
    use super::entities::jobs as job_rows;
    use crate::domain::jobs::JobStatus;
    let job = super::audit::audited(&ctx.db, actor, async |txn| {
        let delivery = deliveries::Entity::find_by_id(id)
            .one(txn)
            .await?
            .ok_or_else(|| AppError::not_found(format_args!("Delivery #{id}")))?;
        let failed = match delivery.job_id {
            Some(job) => job_rows::Entity::find_by_id(job)
                .one(txn)
                .await?
                .is_some_and(|j| j.status == JobStatus::Failed),
            None => true,
        };
        if delivery.sent_at.is_some() || !failed {
            return Err(AppError::Conflict(format!(
                "delivery #{id} did not fail: there is nothing to retry"
            )));
        }
        let job = queue(txn, id, false).await?;
        Ok((
            job,
            super::audit::Change::new("notification.retry", "notification_delivery", id)
                .after(&serde_json::json!({ "failed_job": delivery.job_id, "job": job })),
        ))
    })
    .await?;
    ctx.jobs_wake.notify_one();
    Ok(job)
}
