//! The Slack and webhook URL forms of a person (their account page) or a group (its admin
//! page): set or replace a URL, remove it (asking first), and a webhook's signing secret shown
//! once.

use crate::api::notifications::SetNotificationUrl;
use crate::components::common::{ConfirmSubmit, SecretShownOnce};
use leptos::prelude::*;

/// One URL channel as the forms show it: `slack` or `webhook`, its label, the host it sends to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UrlTarget {
    pub channel: String,
    pub label: String,
    pub host: Option<String>,
}

/// The forms, one per channel. `group`: the group's (admins), else the caller's own.
#[component]
pub fn UrlTargets(
    targets: Vec<UrlTarget>,
    group: Option<String>,
    /// Whose, in the removal question ("your", "qa's").
    whose: String,
    set_url: ServerAction<SetNotificationUrl>,
) -> AnyView {
    targets
        .into_iter()
        .map(|t| {
            let button = if t.host.is_some() { "Replace" } else { "Set" };
            let url_label = format!("{} URL", t.label);
            let placeholder = if t.channel == "slack" {
                "https://hooks.slack.com/services/…"
            } else {
                "https://example.com/slipway-hook"
            };
            let removal = t.host.clone().map(|host| {
                (
                    format!("Sends to {host}"),
                    format!(
                        "Remove {whose} {} URL? Nothing more goes to {host}.",
                        t.label
                    ),
                )
            });
            let (channel, removing) = (t.channel.clone(), t.channel.clone());
            let (group, group_removing) = (group.clone(), group.clone());
            view! {
                <div class="url-target">
                    <ActionForm action=set_url attr:class="inline-form">
                        {group.map(|g| view! { <input type="hidden" name="group" value=g /> })}
                        <input type="hidden" name="channel" value=channel />
                        <label class="grow">
                            <span>{url_label}</span>
                            <input type="url" name="url" required placeholder=placeholder />
                        </label>
                        <button type="submit" class="button">{button}</button>
                    </ActionForm>
                    {removal.map(|(sends, question)| view! {
                        <ActionForm action=set_url attr:class="inline-form">
                            {group_removing.map(|g| view! { <input type="hidden" name="group" value=g /> })}
                            <input type="hidden" name="channel" value=removing />
                            <input type="hidden" name="url" value="" />
                            <span class="muted">{sends}</span>
                            <ConfirmSubmit label="Remove" class="button small danger" question />
                        </ActionForm>
                    })}
                </div>
            }
        })
        .collect_view()
        .into_any()
}

/// What setting a URL answered: its error, or a webhook's new secret, shown once.
#[component]
pub fn UrlTargetResult(set_url: ServerAction<SetNotificationUrl>) -> AnyView {
    let result = Signal::derive(move || match set_url.value().get() {
        Some(Ok(Some(secret))) => Some(Ok(secret)),
        Some(Err(error)) => Some(Err(error)),
        _ => None,
    });
    view! {
        <SecretShownOnce
            result
            after="It is the webhook's signing secret: receivers check X-Slipway-Signature (sha256= HMAC of timestamp.body) with it."
            has_secret=false
            set=""
            unset=""
        />
    }
    .into_any()
}
