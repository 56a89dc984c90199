//! The home page: what needs the signed-in user now and the latest on what they own, then
//! their access at a glance; or the way in for everyone else.

use crate::api::needs::{get_my_activity, Need};
use crate::api::notifications::{get_notifications, MarkNotificationsRead};
use crate::components::common::{ErrorPanel, Loading, PageHeader};
use crate::components::shell::{use_needs, use_user};
use crate::components::sign_in::{sign_in_options, SignInChoices, SignInOptionsResource};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn HomePage() -> AnyView {
    let user = use_user();
    let options = sign_in_options();
    // Made here, not in what the Suspend below renders (see `WorkspacePanel`): a resource made
    // there is made twice on the server, and the browser would hydrate against the wrong one.
    let activity = Resource::new(
        || (),
        move |_| async move {
            match user.await {
                Ok(Some(_)) => get_my_activity().await,
                _ => Ok(Vec::new()),
            }
        },
    );
    let mark = ServerAction::<MarkNotificationsRead>::new();
    let inbox = Resource::new(
        move || mark.version().get(),
        move |_| async move {
            match user.await {
                Ok(Some(_)) => get_notifications().await.map(Some),
                _ => Ok(None),
            }
        },
    );
    view! {
        <Title text="" />
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(user)) => {
                        let grants = user.grants.clone();
                        let groups = user.groups.clone();
                        view! {
                            <PageHeader title="Welcome back" subtitle="What needs you, the latest on what you own, and your access." />
                            <NeedsSection />
                            <InboxSection inbox mark />
                            <ActivitySection activity />
                            <div class="grid two">
                                <section class="card">
                                    <h2>"Signed in as"</h2>
                                    <dl class="facts">
                                        <dt>"Name"</dt><dd>{user.name.clone()}</dd>
                                        <dt>"Login"</dt><dd><code>{user.login.clone()}</code></dd>
                                        <dt>"Email"</dt><dd>{user.email.clone().unwrap_or_else(|| "—".into())}</dd>
                                        <dt>"Groups"</dt>
                                        <dd>
                                            {if groups.is_empty() {
                                                view! { <span class="muted">"none"</span> }.into_any()
                                            } else {
                                                groups.into_iter().map(|g| view! { <span class="badge">{g}</span> }).collect_view().into_any()
                                            }}
                                        </dd>
                                    </dl>
                                    <form method="post" action="/auth/logout">
                                        <button type="submit" class="button">"Sign out"</button>
                                    </form>
                                </section>
                                <section class="card">
                                    <h2>"Your roles"</h2>
                                    {if grants.is_empty() {
                                        view! {
                                            <p class="muted">"You hold no role yet. An administrator can grant you one, or add you to a group that has one."</p>
                                        }.into_any()
                                    } else {
                                        view! {
                                            <ul class="grant-list">
                                                {grants.into_iter().map(|g| view! { <li>{g}</li> }).collect_view()}
                                            </ul>
                                        }.into_any()
                                    }}
                                </section>
                            </div>
                            <section class="areas">
                                <AreaCard href="/workspaces" title="Workspaces" text="Git repositories holding your infrastructure code, changed through reviewed pull requests." />
                                <AreaCard href="/catalog" title="Catalog" text="Templates backed by OpenTofu modules at pinned versions, ready to instantiate." />
                                <AreaCard href="/repositories" title="Repositories" text="Branching strategies compiled into branch rules, CODEOWNERS and CI workflows." />
                                <AreaCard href="/releases" title="Releases" text="Version-locked bundles promoted through environments with sign-off." />
                            </section>
                        }
                        .into_any()
                    }
                    Ok(None) => view! { <Landing options /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

/// Everything waiting for the user, oldest first, each saying why it is theirs; live (the
/// shell follows the changes that can alter it).
#[component]
fn NeedsSection() -> AnyView {
    let needs = use_needs();
    view! {
        <section class="card needs" id="needs" aria-labelledby="needs-heading">
            <h2 id="needs-heading">"Needs you"</h2>
            <Transition fallback=|| view! { <Loading /> }>
                {move || Suspend::new(async move {
                    match needs.await {
                        Ok(Some(view)) if view.items.is_empty() => view! {
                            <p class="muted needs-empty">"Nothing waits for you now: no sign-off, review, override or drift of yours. New ones appear here, and as a count beside the menu, as they arrive."</p>
                        }.into_any(),
                        Ok(Some(view)) => view! {
                            <ul class="needs-list">
                                {view.items.into_iter().map(|need| view! { <NeedItem need /> }).collect_view()}
                            </ul>
                        }.into_any(),
                        Ok(None) => ().into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
    .into_any()
}

#[component]
fn NeedItem(need: Need) -> AnyView {
    view! {
        <li class=format!("need need-{}", need.kind.as_str()) data-kind=need.kind.as_str()>
            <span class="badge">{need.kind.label()}</span>
            <div class="need-body">
                <a href=need.href.clone()>{need.title.clone()}</a>
                <p class="muted">{need.why.clone()}</p>
            </div>
            <span class="muted need-since">{format!("since {}", need.since)}</span>
        </li>
    }
    .into_any()
}

type InboxResource =
    Resource<Result<Option<crate::api::notifications::Inbox>, crate::error::AppError>>;

/// What Slipway told the user in the app (their choices on the account page say which topics
/// come here): newest first, unread ones marked, read with one button.
#[component]
fn InboxSection(inbox: InboxResource, mark: ServerAction<MarkNotificationsRead>) -> AnyView {
    view! {
        <section class="card inbox" id="notifications" aria-labelledby="inbox-heading">
            <Transition fallback=|| view! { <h2 id="inbox-heading">"Notifications"</h2><Loading /> }>
                {move || Suspend::new(async move {
                    match inbox.await {
                        Ok(Some(inbox)) => {
                            let unread = inbox.unread;
                            view! {
                                <div class="card-head">
                                    <h2 id="inbox-heading">
                                        "Notifications"
                                        {(unread > 0).then(|| view! { <span class="count" aria-label=format!("{unread} unread")>{unread}</span> })}
                                    </h2>
                                    {(unread > 0).then(|| view! {
                                        <ActionForm action=mark>
                                            <button type="submit" class="button small">"Mark all read"</button>
                                        </ActionForm>
                                    })}
                                    <a class="muted" href="/account#notifications">"Choose what tells you"</a>
                                </div>
                                {if inbox.items.is_empty() {
                                    view! { <p class="muted">"Nothing yet: when something starts waiting for you, or what you asked for is decided, Slipway tells you here (and by e-mail, Slack or webhook, as you choose)."</p> }.into_any()
                                } else {
                                    view! {
                                        <ul class="inbox-list">
                                            {inbox.items.into_iter().map(|item| view! {
                                                <li class:unread=!item.read>
                                                    <span class="badge">{item.topic.clone()}</span>
                                                    <div class="need-body">
                                                        <a href=item.href.clone()>{item.title.clone()}</a>
                                                        <p class="muted">{item.why.clone()}</p>
                                                    </div>
                                                    <span class="muted need-since">{item.at.clone()}</span>
                                                </li>
                                            }).collect_view()}
                                        </ul>
                                    }.into_any()
                                }}
                            }.into_any()
                        }
                        Ok(None) => ().into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
    .into_any()
}

/// The latest changes to the resources the user created and the releases they started.
#[component]
fn ActivitySection(
    activity: Resource<Result<Vec<crate::api::needs::ActivityRow>, crate::error::AppError>>,
) -> AnyView {
    view! {
        <section class="card">
            <h2>"Recent activity on what you own"</h2>
            <Transition fallback=|| view! { <Loading /> }>
                {move || Suspend::new(async move {
                    match activity.await {
                        Ok(rows) if rows.is_empty() => view! {
                            <p class="muted">"Nothing yet: the resources you create and the releases you start show their changes here."</p>
                        }.into_any(),
                        Ok(rows) => view! {
                            <table class="activity">
                                <thead><tr><th scope="col">"When"</th><th scope="col">"What"</th><th scope="col">"Change"</th><th scope="col">"By"</th></tr></thead>
                                <tbody>
                                    {rows.into_iter().map(|row| view! {
                                        <tr>
                                            <td class="muted">{row.at}</td>
                                            <td><a href=row.href>{row.what}</a></td>
                                            <td><code>{row.action}</code></td>
                                            <td>{row.actor}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
    .into_any()
}

#[component]
fn AreaCard(href: &'static str, title: &'static str, text: &'static str) -> AnyView {
    view! {
        <a class="area-card" href=href>
            <h3>{title}</h3>
            <p>{text}</p>
        </a>
    }
    .into_any()
}

#[component]
fn Landing(options: SignInOptionsResource) -> AnyView {
    view! {
        <section class="landing">
            <div class="landing-copy">
                <h1>"Ship infrastructure and releases from one place."</h1>
                <p class="lead">
                    "Slipway turns templates into reviewed infrastructure code and turns commits into "
                    "versioned, signed-off releases."
                </p>
            </div>
            <div class="card sign-in-card">
                <h2>"Sign in"</h2>
                <SignInChoices options />
            </div>
        </section>
    }
    .into_any()
}
