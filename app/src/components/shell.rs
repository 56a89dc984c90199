//! The frame around every page: brand, main navigation, user menu, and the current user shared
//! with pages through context.

use crate::api::needs::{get_needs, NeedsView};
use crate::api::session::{get_current_user, CurrentUser};
use crate::error::AppError;
use leptos::prelude::*;
use leptos_router::components::A;

pub type UserResource = Resource<Result<Option<CurrentUser>, AppError>>;

/// The signed-in user (or none), fetched once per page load and shared with every page.
#[derive(Clone, Copy)]
pub struct UserContext(pub UserResource);

pub fn use_user() -> UserResource {
    expect_context::<UserContext>().0
}

/// What waits for the signed-in user ("Needs you"), read again whenever the server says
/// something it is made of changed; `None` for a visitor. Shared by the shell's count and the
/// home page's list, so both show the same.
#[derive(Clone, Copy)]
pub struct NeedsContext(pub Resource<Result<Option<NeedsView>, AppError>>);

pub fn use_needs() -> Resource<Result<Option<NeedsView>, AppError>> {
    expect_context::<NeedsContext>().0
}

#[component]
pub fn Shell(children: Children) -> AnyView {
    let user = Resource::new(|| (), |_| get_current_user());
    provide_context(UserContext(user));
    let changes = RwSignal::new(0usize);
    let needs = Resource::new(
        move || changes.get(),
        move |_| async move {
            match user.await {
                Ok(Some(_)) => get_needs().await.map(Some),
                _ => Ok(None),
            }
        },
    );
    provide_context(NeedsContext(needs));
    // Live: the topics the list is made of, as the server named those this user may follow.
    let topics = RwSignal::new(Vec::<String>::new());
    Effect::new(move |_| {
        if let Some(Ok(Some(view))) = needs.get() {
            if topics.with_untracked(|t| *t != view.topics) {
                topics.set(view.topics);
            }
        }
    });
    crate::components::live::follow(move || topics.get(), move || changes.update(|n| *n += 1));
    view! {
        <div class="app">
            <a class="skip-link" href="#main">"Skip to content"</a>
            <header class="topbar">
                <a class="brand" href="/">
                    <Logo />
                    <span>"Slipway"</span>
                </a>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        match user.await {
                            Ok(Some(current)) => view! { <MainNav user=current /> }.into_any(),
                            _ => view! {
                                <div class="nav-spacer"></div>
                                <a class="button primary" href="/auth/signin">"Sign in"</a>
                            }
                            .into_any(),
                        }
                    })}
                </Transition>
                // Its own boundary beside the others, not inside them: a boundary nested in
                // what a Suspend renders does not hydrate.
                <NeedsLink needs />
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        match user.await {
                            Ok(Some(current)) => view! { <UserMenu user=current /> }.into_any(),
                            _ => ().into_any(),
                        }
                    })}
                </Transition>
            </header>
            <main id="main" class="content">{children()}</main>
            <footer class="footer">
                <span>"Slipway — infrastructure workspaces and releases"</span>
            </footer>
        </div>
    }
    .into_any()
}

#[component]
fn Logo() -> AnyView {
    view! {
        <svg class="logo" viewBox="0 0 32 32" aria-hidden="true">
            <rect width="32" height="32" rx="8" fill="currentColor" />
            <path d="M7 21 L16 9 L25 21" fill="none" stroke="white" stroke-width="3" stroke-linecap="round" stroke-linejoin="round" />
            <path d="M6 25 H26" stroke="white" stroke-width="3" stroke-linecap="round" />
        </svg>
    }
    .into_any()
}

#[component]
fn MainNav(user: CurrentUser) -> AnyView {
    view! {
        <nav class="main-nav" aria-label="Main">
            <A href="/workspaces">"Workspaces"</A>
            <A href="/resources">"Resources"</A>
            <A href="/drift">"Drift"</A>
            <A href="/catalog">"Catalog"</A>
            <A href="/executors">"Executors"</A>
            <A href="/integrations">"Integrations"</A>
            <A href="/repositories">"Repositories"</A>
            <A href="/releases">"Releases"</A>
            {user.can_audit.then(|| view! { <A href="/audit">"Audit"</A> })}
            {user.can_admin.then(|| view! { <A href="/admin">"Admin"</A> })}
        </nav>
    }
    .into_any()
}

#[component]
fn UserMenu(user: CurrentUser) -> AnyView {
    let open = RwSignal::new(false);
    let initials = user.initials();
    let groups = if user.groups.is_empty() {
        "no groups".to_string()
    } else {
        user.groups.join(", ")
    };
    view! {
        <div
            class="user-menu"
            on:keydown=move |ev| {
                if ev.key() == "Escape" {
                    open.set(false);
                }
            }
        >
            <button
                class="user-button"
                type="button"
                aria-haspopup="true"
                aria-controls="user-menu-panel"
                aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|o| *o = !*o)
            >
                <span class="avatar" aria-hidden="true">{initials}</span>
                <span class="user-name">{user.name.clone()}</span>
                <span class="caret" aria-hidden="true">"▾"</span>
            </button>
            <div id="user-menu-panel" class="user-panel" class:open=move || open.get() hidden=move || !open.get()>
                <div class="user-panel-head">
                    <strong>{user.name.clone()}</strong>
                    <span class="muted">"@"{user.login.clone()}</span>
                    {user.email.clone().map(|e| view! { <span class="muted">{e}</span> })}
                </div>
                <div class="user-panel-groups">
                    <span class="label">"Groups"</span>
                    <span>{groups}</span>
                </div>
                <a href="/" class="menu-item">"Your access"</a>
                <a href="/account" class="menu-item">"Access tokens"</a>
                <form method="post" action="/auth/logout">
                    <button type="submit" class="menu-item danger">"Sign out"</button>
                </form>
            </div>
        </div>
    }
    .into_any()
}

/// The count of what waits for the user, linking to the list on the home page.
#[component]
fn NeedsLink(needs: Resource<Result<Option<NeedsView>, AppError>>) -> AnyView {
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let count = match needs.await {
                    Ok(Some(view)) => view.items.len(),
                    // A visitor: nothing to count.
                    _ => return ().into_any(),
                };
                let waiting = count != 0;
                let label = match count {
                    0 => "Nothing needs you now".to_string(),
                    1 => "1 thing needs you".to_string(),
                    n => format!("{n} things need you"),
                };
                view! {
                    <a href="/#needs" class="needs-link" class:waiting=waiting aria-label=label.clone() title=label data-count=count>
                        <span>"Needs you"</span>
                        <span class="needs-count" aria-hidden="true">{count}</span>
                    </a>
                }
                .into_any()
            })}
        </Transition>
    }
    .into_any()
}
