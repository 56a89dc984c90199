//! The signed-in person's own page: who they are, their personal access tokens for the local
//! forge's git server (made here, shown once, revoked here), and what Slipway tells them on
//! which channel.

use crate::api::notifications::{
    get_notification_settings, SaveNotificationChoices, SetNotificationUrl,
};
use crate::api::tokens::{get_account, AccessTokenRow, CreateAccessToken, RevokeAccessToken};
use crate::components::common::{
    ConfirmSubmit, EmptyState, ErrorPanel, FormError, Loading, PageHeader,
};
use crate::components::notify::{UrlTarget, UrlTargetResult, UrlTargets};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AccountPage() -> AnyView {
    let create = ServerAction::<CreateAccessToken>::new();
    let revoke = ServerAction::<RevokeAccessToken>::new();
    let account = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| get_account(),
    );
    view! {
        <Title text="Your account" />
        <PageHeader title="Your account" subtitle="Personal access tokens let git clone from and push to the repositories of Slipway's local forge." />
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match account.await {
                    Ok(account) => {
                        view! {
                            <div class="grid two">
                                <section class="card">
                                    <h2>"Profile"</h2>
                                    <dl class="facts">
                                        <dt>"Name"</dt><dd>{account.name.clone()}</dd>
                                        <dt>"Login"</dt><dd><code>{account.login.clone()}</code></dd>
                                        <dt>"Email"</dt><dd>{account.email.clone().unwrap_or_else(|| "—".into())}</dd>
                                    </dl>
                                    <h3>"Using a token"</h3>
                                    <p class="muted">"Git asks for a user name and password: give your login and the token. Cloning needs read on the workspace; pushing needs the member role and a write token. Protected branches take no push at all: they move through reviewed pull requests."</p>
                                    {if account.repositories.is_empty() {
                                        view! { <p class="muted">"No local-forge workspace is open to you yet."</p> }.into_any()
                                    } else {
                                        view! {
                                            <ul class="clone-list">
                                                {account.repositories.iter().map(|(name, url)| view! {
                                                    <li><span>{name.clone()}</span><code>{format!("git clone {url}")}</code></li>
                                                }).collect_view()}
                                            </ul>
                                        }.into_any()
                                    }}
                                </section>
                                <NewTokenForm create />
                            </div>
                            <TokenTable tokens=account.tokens.clone() revoke />
                        }
                        .into_any()
                    }
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
        <NotificationsCard />
    }
    .into_any()
}

/// What tells the person of what: a box per topic and channel (all ticked until they clear
/// one), what each channel reaches now, and their own Slack and webhook URLs.
#[component]
fn NotificationsCard() -> AnyView {
    let save = ServerAction::<SaveNotificationChoices>::new();
    let set_url = ServerAction::<SetNotificationUrl>::new();
    let settings = Resource::new(
        move || (save.version().get(), set_url.version().get()),
        |_| get_notification_settings(),
    );
    view! {
        <section class="card" id="notifications" aria-labelledby="notifications-heading">
            <h2 id="notifications-heading">"Notifications"</h2>
            <p class="muted">"Slipway tells you once when something starts waiting for you, and how what you asked for ended. Clear a box to stop a channel telling you of that topic."</p>
            <Transition fallback=|| view! { <Loading /> }>
                {move || Suspend::new(async move {
                    match settings.await {
                        Ok(settings) => {
                            let channels = settings.channels.clone();
                            let url_channels: Vec<UrlTarget> = channels
                                .iter()
                                .filter(|c| c.takes_url)
                                .map(|c| UrlTarget { channel: c.channel.clone(), label: c.label.clone(), host: c.host.clone() })
                                .collect();
                            let mut boxes = 0usize;
                            view! {
                                <ActionForm action=save attr:class="notify-choices-form">
                                    <table class="table notify-choices">
                                        <thead>
                                            <tr>
                                                <th scope="col">"When"</th>
                                                {channels.iter().map(|c| view! {
                                                    <th scope="col" class:unreachable=!c.reachable>
                                                        {c.label.clone()}
                                                        <span class="muted channel-note">{c.note.clone()}</span>
                                                    </th>
                                                }).collect_view()}
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {settings.rows.iter().map(|row| view! {
                                                <tr>
                                                    <th scope="row">{row.label.clone()}<span class="muted channel-note">{row.explained.clone()}</span></th>
                                                    {row.on.iter().zip(channels.iter()).map(|(on, c)| {
                                                        boxes += 1;
                                                        view! {
                                                            <td>
                                                                <input
                                                                    type="checkbox"
                                                                    name=format!("on[{}]", boxes - 1)
                                                                    value=format!("{}:{}", row.topic, c.channel)
                                                                    checked=*on
                                                                    aria-label=format!("{} by {}", row.label, c.label)
                                                                />
                                                            </td>
                                                        }
                                                    }).collect_view()}
                                                </tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                    <button type="submit" class="button primary">"Save choices"</button>
                                </ActionForm>
                                <FormError result=save.value().into() />
                                {move || save.value().get().and_then(|r| r.ok()).map(|_| view! {
                                    <p class="notice" role="status">"Saved: what starts waiting from now on goes where you chose."</p>
                                })}
                                <h3>"Your Slack and webhook"</h3>
                                <p class="muted">"A Slack incoming webhook posts to the channel or direct message it was made for. A webhook receives a JSON POST signed like Slipway's build hook (X-Slipway-Signature: sha256= HMAC of timestamp.body) with the secret shown once when you set it."</p>
                                <UrlTargets targets=url_channels group=None whose="your".to_string() set_url />
                            }.into_any()
                        }
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Transition>
            <UrlTargetResult set_url />
        </section>
    }
    .into_any()
}

/// Making a token: what it is for, what it may do, how long it lives; shown once when made.
#[component]
fn NewTokenForm(create: ServerAction<CreateAccessToken>) -> AnyView {
    view! {
        <section class="card">
            <h2>"New access token"</h2>
            <ActionForm action=create attr:class="stacked-form">
                <label><span>"What is it for?"</span><input type="text" name="name" required maxlength="100" placeholder="laptop git" /></label>
                <label><span>"It may"</span>
                    <select name="scope">
                        <option value="read" selected>"read: clone and fetch"</option>
                        <option value="write">"write: push branches as well"</option>
                    </select>
                </label>
                <label><span>"Expires in"</span>
                    <select name="days">
                        <option value="7">"7 days"</option>
                        <option value="30">"30 days"</option>
                        <option value="90" selected>"90 days"</option>
                        <option value="365">"a year"</option>
                    </select>
                </label>
                <button type="submit" class="button primary">"Create token"</button>
            </ActionForm>
            <FormError result=create.value().into() />
            {move || create.value().get().and_then(|r| r.ok()).map(|created| view! {
                <div class="notice token-once" role="status">
                    <p><strong>{format!("Token {:?} created.", created.row.name)}</strong>" Copy it now: Slipway keeps only its hash and cannot show it again."</p>
                    <input class="token-value" type="text" readonly value=created.token.clone() aria-label="The new token" />
                </div>
            })}
        </section>
    }
    .into_any()
}

/// The person's tokens, active or not, each active one with Revoke (which asks first).
#[component]
fn TokenTable(tokens: Vec<AccessTokenRow>, revoke: ServerAction<RevokeAccessToken>) -> AnyView {
    let active = tokens.iter().filter(|t| t.revoked_at.is_none()).count();
    view! {
    <section class="card">
        <h2>{format!("Access tokens · {active} active")}</h2>
        <FormError result=revoke.value().into() />
        {if tokens.is_empty() {
            view! { <EmptyState title="No tokens yet"><p>"Create one above to clone with git."</p></EmptyState> }.into_any()
        } else {
            view! {
                <table class="table tokens">
                    <thead><tr><th>"Name"</th><th>"Token"</th><th>"Scope"</th><th>"Created"</th><th>"Expires"</th><th>"Last used"</th><th>"State"</th><th></th></tr></thead>
                    <tbody>
                        {tokens.into_iter().map(|t| {
                            let revoked = t.revoked_at.clone();
                            view! {
                                <tr class:revoked=revoked.is_some()>
                                    <td>{t.name.clone()}</td>
                                    <td><code>{format!("{}…", t.prefix)}</code></td>
                                    <td>{t.scope.clone()}</td>
                                    <td>{t.created_at.clone()}</td>
                                    <td>{t.expires_at.clone().unwrap_or_else(|| "never".into())}</td>
                                    <td>{t.last_used_at.clone().unwrap_or_else(|| "never".into())}</td>
                                    <td>{match (&revoked, t.expired) {
                                        (Some(at), _) => view! { <span class="status status-error">{format!("revoked {at}")}</span> }.into_any(),
                                        (None, true) => view! { <span class="status status-error">"expired"</span> }.into_any(),
                                        (None, false) => view! { <span class="status status-done">"active"</span> }.into_any(),
                                    }}</td>
                                    <td>{revoked.is_none().then(|| view! {
                                        <ActionForm action=revoke>
                                            <input type="hidden" name="id" value=t.id />
                                            <ConfirmSubmit
                                        label="Revoke"
                                        class="button small danger"
                                        question=format!("Revoke the token {:?}? Anything that uses it stops working at once.", t.name)
                                    />
                                        </ActionForm>
                                    })}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
    </section>
    }
    .into_any()
}
