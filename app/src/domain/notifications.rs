//! Notifications: who is told what, on which channel. A person chooses per topic (each kind of
//! "Needs you" item, and the outcome of what they asked for) which channels tell them; what they
//! did not choose is on. A channel only tells someone once it can reach them: e-mail needs an
//! address and the server's SMTP settings, Slack and webhooks a URL they (or their group) set.
//! The messages are written here, once, for every channel.

use super::needs::NeedKind;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// How someone is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The list on the home page.
    InApp,
    Email,
    /// A Slack incoming webhook.
    Slack,
    /// A signed JSON `POST` to a URL of their choosing.
    Webhook,
}

pub const CHANNELS: [Channel; 4] = [
    Channel::InApp,
    Channel::Email,
    Channel::Slack,
    Channel::Webhook,
];

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::InApp => "in_app",
            Channel::Email => "email",
            Channel::Slack => "slack",
            Channel::Webhook => "webhook",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Channel::InApp => "In Slipway",
            Channel::Email => "E-mail",
            Channel::Slack => "Slack",
            Channel::Webhook => "Webhook",
        }
    }

    pub fn parse(text: &str) -> Option<Channel> {
        CHANNELS.into_iter().find(|c| c.as_str() == text)
    }

    /// The channels a URL is set for (per person or per group); in-app and e-mail need none.
    pub fn takes_url(self) -> bool {
        matches!(self, Channel::Slack | Channel::Webhook)
    }
}

/// What a notification is about: each kind of thing that waits for people, and the outcome of
/// something the person asked for (signed off, rejected, applied …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    Need(NeedKind),
    Outcome,
}

pub const TOPICS: [Topic; 8] = [
    Topic::Need(NeedKind::SignOff),
    Topic::Need(NeedKind::Review),
    Topic::Need(NeedKind::RepositoryReview),
    Topic::Need(NeedKind::PolicyOverride),
    Topic::Need(NeedKind::Drift),
    Topic::Need(NeedKind::FreezeException),
    Topic::Need(NeedKind::Rollback),
    Topic::Outcome,
];

impl Topic {
    pub fn as_str(self) -> &'static str {
        match self {
            Topic::Need(kind) => kind.as_str(),
            Topic::Outcome => "outcome",
        }
    }

    pub fn parse(text: &str) -> Option<Topic> {
        TOPICS.into_iter().find(|t| t.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            Topic::Need(kind) => kind.label(),
            Topic::Outcome => "What you asked for",
        }
    }

    /// When it is sent, as the account page explains it.
    pub fn explained(self) -> &'static str {
        match self {
            Topic::Need(NeedKind::SignOff) => "A release stage waits for a group you are in",
            Topic::Need(NeedKind::Review) => "A resource change you may approve has its plan",
            Topic::Need(NeedKind::RepositoryReview) => {
                "A governed repository's pull request you may approve"
            }
            Topic::Need(NeedKind::PolicyOverride) => {
                "A policy denies a plan and your group may override it"
            }
            Topic::Need(NeedKind::Drift) => {
                "Drift on a resource you own, or accepting it proposed to you"
            }
            Topic::Need(NeedKind::FreezeException) => {
                "An exception to a freeze asks for your group's approval"
            }
            Topic::Need(NeedKind::Rollback) => "A rollback waits for a group you are in",
            Topic::Outcome => {
                "Your release is signed off or rejected, your change or pull request approved, rejected, merged or applied, your rollback or exception decided"
            }
        }
    }
}

impl From<NeedKind> for Topic {
    fn from(kind: NeedKind) -> Topic {
        Topic::Need(kind)
    }
}

/// A person's choices: the (topic, channel) pairs they turned off. Everything else is on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choices {
    pub off: BTreeSet<(Topic, Channel)>,
}

impl Choices {
    pub fn wants(&self, topic: Topic, channel: Channel) -> bool {
        !self.off.contains(&(topic, channel))
    }

    /// The choices a form sends: one `topic:channel` value per box left ticked. Every value
    /// that names no topic or channel is reported, and nothing is chosen then.
    pub fn from_ticked(ticked: &[String]) -> Result<Choices, Vec<String>> {
        let mut on = BTreeSet::new();
        let mut bad = Vec::new();
        for value in ticked {
            let parsed = value
                .split_once(':')
                .and_then(|(t, c)| Some((Topic::parse(t)?, Channel::parse(c)?)));
            match parsed {
                Some(pair) => {
                    on.insert(pair);
                }
                None => bad.push(format!(
                    "{value:?} is not a topic and channel (e.g. \"sign_off:email\")"
                )),
            }
        }
        if !bad.is_empty() {
            return Err(bad);
        }
        let off = TOPICS
            .iter()
            .flat_map(|t| CHANNELS.iter().map(move |c| (*t, *c)))
            .filter(|pair| !on.contains(pair))
            .collect();
        Ok(Choices { off })
    }
}

/// What one notification says: the same words on every channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub topic: Topic,
    pub title: String,
    pub why: String,
    /// A path in the portal (`/releases/3`).
    pub href: String,
}

impl Message {
    /// The portal link, absolute: `public_url` is where people reach Slipway.
    pub fn link(&self, public_url: &str) -> String {
        format!("{}{}", public_url.trim_end_matches('/'), self.href)
    }

    pub fn email_subject(&self) -> String {
        format!("[Slipway] {}", one_line(&self.title))
    }

    /// The plain-text e-mail body.
    pub fn email_text(&self, public_url: &str, login: &str) -> String {
        format!(
            "{}\n\n{}\n\nOpen it: {}\n\n-- \nSlipway told you because of your choices for “{}” on your account page ({login}): {}\n",
            self.title,
            self.why,
            self.link(public_url),
            self.topic.label(),
            format_args!("{}/account", public_url.trim_end_matches('/')),
        )
    }

    /// A Slack incoming webhook's payload: `text` (the fallback every client shows) and the
    /// same as one section block with the link.
    pub fn slack_payload(&self, public_url: &str) -> serde_json::Value {
        let text = format!(
            "*{}*\n{}\n<{}|Open in Slipway>",
            slack_escape(&self.title),
            slack_escape(&self.why),
            self.link(public_url)
        );
        serde_json::json!({
            "text": text,
            "blocks": [{ "type": "section", "text": { "type": "mrkdwn", "text": text } }],
        })
    }

    /// The generic webhook's JSON body. `delivery` names this delivery (receivers drop a
    /// repeated one), `recipient` the person or group it is for.
    pub fn webhook_payload(
        &self,
        public_url: &str,
        delivery: i64,
        event: &str,
        recipient: &str,
        at: &str,
    ) -> serde_json::Value {
        serde_json::json!({
            "delivery": delivery,
            "event": event,
            "topic": self.topic.as_str(),
            "recipient": recipient,
            "title": self.title,
            "why": self.why,
            "url": self.link(public_url),
            "created_at": at,
        })
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Slack's three control characters, escaped as its message formatting reference asks.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// One audit event as an outcome for the person who asked: `what` names the entity as people
/// read it (the release's tag, the resource's slug), `href` where it is. `None` for actions
/// that are no one's outcome.
pub fn outcome(
    action: &str,
    actor: &str,
    what: &str,
    href: &str,
    after: &serde_json::Value,
) -> Option<Message> {
    let text = |key: &str| after.get(key).and_then(|v| v.as_str()).unwrap_or_default();
    let comment = match text("comment") {
        "" => String::new(),
        said => format!(": “{said}”"),
    };
    let (title, why) = match action {
        "release.approve" => (
            format!(
                "{actor} signed off stage {} of {what}",
                after.get("stage").and_then(|v| v.as_i64()).unwrap_or(0)
            ),
            format!("For {}{comment}. {}", text("group"), text("gate")),
        ),
        "release.reject" => (
            format!(
                "{actor} rejected stage {} of {what}",
                after.get("stage").and_then(|v| v.as_i64()).unwrap_or(0)
            ),
            format!("For {}{comment}. The release stops here.", text("group")),
        ),
        "release.complete" => (
            format!("{what} is released"),
            format!("Production runs it, tagged {}.", text("production_tag")),
        ),
        "resource.approve" => (
            format!("{actor} approved your change to {what}"),
            "Its pull request is merged and its plan applied next.".to_string(),
        ),
        "resource.reject" => (
            format!("{actor} rejected your change to {what}"),
            format!("Its pull request is closed{comment}."),
        ),
        "resource.applied" => (
            format!("Your change to {what} is applied"),
            format!("{what} is {} now.", text("state")),
        ),
        "resource.apply_failed" => (
            format!("Applying your change to {what} failed"),
            format!("{} — its page has the log and a Retry.", text("error")),
        ),
        "pull_request.approve" => (
            format!("{actor} approved your pull request {what}"),
            format!(
                "At {}; it merges once Merge Authorized passes.",
                short(text("commit"))
            ),
        ),
        "pull_request.merge" => (
            format!("{actor} merged your pull request {what}"),
            format!(
                "Merged ({}) as {}.",
                text("method"),
                short(text("merge_commit"))
            ),
        ),
        "rollback.approve" => (
            format!("{actor} approved your rollback of {what}"),
            format!("For {}{comment}. {}", text("group"), text("gate")),
        ),
        "rollback.reject" => (
            format!("{actor} rejected your rollback of {what}"),
            format!("For {}{comment}.", text("group")),
        ),
        "freeze.exception_approve" => {
            let granted = after
                .get("granted")
                .and_then(|v| v.as_bool())
                .unwrap_or(false);
            (
                format!(
                    "{actor} approved your exception for {} through {}",
                    text("subject"),
                    text("freeze")
                ),
                if granted {
                    format!("Granted{comment}: it goes through the freeze now.")
                } else {
                    format!(
                        "{} of {} approvals{comment}.",
                        after.get("approvals").and_then(|v| v.as_i64()).unwrap_or(0),
                        after.get("needed").and_then(|v| v.as_i64()).unwrap_or(0)
                    )
                },
            )
        }
        _ => return None,
    };
    Some(Message {
        topic: Topic::Outcome,
        title,
        why,
        href: href.to_string(),
    })
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// The actions [`outcome`] turns into a message (the notifier reads only these).
pub const OUTCOME_ACTIONS: [&str; 12] = [
    "release.approve",
    "release.reject",
    "release.complete",
    "resource.approve",
    "resource.reject",
    "resource.applied",
    "resource.apply_failed",
    "pull_request.approve",
    "pull_request.merge",
    "rollback.approve",
    "rollback.reject",
    "freeze.exception_approve",
];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn everything_is_on_until_a_box_is_cleared() {
        let none = Choices::default();
        assert!(TOPICS
            .iter()
            .all(|t| CHANNELS.iter().all(|c| none.wants(*t, *c))));
        let ticked = vec!["sign_off:email".to_string(), "outcome:in_app".to_string()];
        let chosen = Choices::from_ticked(&ticked).unwrap();
        assert!(chosen.wants(Topic::Need(NeedKind::SignOff), Channel::Email));
        assert!(chosen.wants(Topic::Outcome, Channel::InApp));
        assert!(!chosen.wants(Topic::Outcome, Channel::Email));
        assert!(!chosen.wants(Topic::Need(NeedKind::Drift), Channel::InApp));
        assert_eq!(chosen.off.len(), TOPICS.len() * CHANNELS.len() - 2);
    }

    #[test]
    fn every_bad_choice_is_named_at_once() {
        let ticked = vec![
            "sign_off:pager".to_string(),
            "holiday:email".to_string(),
            "email".to_string(),
            "drift:slack".to_string(),
        ];
        let errors = Choices::from_ticked(&ticked).unwrap_err();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].contains("\"sign_off:pager\""), "{errors:?}");
    }

    #[test]
    fn topics_and_channels_read_back_what_they_write() {
        for topic in TOPICS {
            assert_eq!(Topic::parse(topic.as_str()), Some(topic));
        }
        for channel in CHANNELS {
            assert_eq!(Channel::parse(channel.as_str()), Some(channel));
        }
    }

    #[test]
    fn a_message_reads_the_same_on_every_channel() {
        let message = Message {
            topic: Topic::Need(NeedKind::SignOff),
            title: "Sign off staging of web-1.0-rc.0".into(),
            why: "You are in qa, which must sign off (0 of 1 approval) <now>".into(),
            href: "/releases/3".into(),
        };
        let public = "https://slipway.example.com/";
        assert_eq!(
            message.email_subject(),
            "[Slipway] Sign off staging of web-1.0-rc.0"
        );
        let body = message.email_text(public, "quinn");
        assert!(
            body.contains("Open it: https://slipway.example.com/releases/3"),
            "{body}"
        );
        assert!(
            body.contains("https://slipway.example.com/account"),
            "{body}"
        );
        let slack = message.slack_payload(public);
        let text = slack["text"].as_str().unwrap();
        assert!(
            text.starts_with("*Sign off staging of web-1.0-rc.0*\n"),
            "{text}"
        );
        assert!(text.contains("&lt;now&gt;"), "{text}");
        assert!(text.ends_with("<https://slipway.example.com/releases/3|Open in Slipway>"));
        let hook = message.webhook_payload(
            public,
            7,
            "sign_off:stage:4",
            "quinn",
            "2026-12-07T10:00:00Z",
        );
        assert_eq!(hook["delivery"], 7);
        assert_eq!(hook["url"], "https://slipway.example.com/releases/3");
        assert_eq!(hook["topic"], "sign_off");
    }

    #[test]
    fn outcomes_say_who_decided_and_what_follows() {
        let signed = outcome(
            "release.approve",
            "quinn",
            "web-1.0-rc.0",
            "/releases/3",
            &json!({ "stage": 1, "group": "qa", "comment": "", "gate": "open" }),
        )
        .unwrap();
        assert_eq!(signed.title, "quinn signed off stage 1 of web-1.0-rc.0");
        assert_eq!(signed.why, "For qa. open");
        let rejected = outcome(
            "resource.reject",
            "ada",
            "core-net",
            "/resources/core-net",
            &json!({ "comment": "too wide" }),
        )
        .unwrap();
        assert_eq!(rejected.why, "Its pull request is closed: “too wide”.");
        let partial = outcome(
            "freeze.exception_approve",
            "riley",
            "",
            "/freezes",
            &json!({ "subject": "stage 2 of web", "freeze": "holidays", "approvals": 1, "needed": 2, "granted": false }),
        )
        .unwrap();
        assert_eq!(partial.why, "1 of 2 approvals.");
        assert_eq!(
            outcome("resource.create", "dev", "x", "/", &json!({})),
            None
        );
        for action in OUTCOME_ACTIONS {
            assert!(
                outcome(action, "a", "b", "/", &json!({})).is_some(),
                "{action}"
            );
        }
    }
}
