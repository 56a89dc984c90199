//! The home page: the signed-in user's access at a glance, or the way in for everyone else.

use crate::components::common::{ErrorPanel, Loading, PageHeader};
use crate::components::shell::use_user;
use crate::components::sign_in::{sign_in_options, SignInChoices, SignInOptionsResource};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn HomePage() -> AnyView {
    let user = use_user();
    let options = sign_in_options();
    view! {
        <Title text="" />
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(user)) => {
                        let grants = user.grants.clone();
                        let groups = user.groups.clone();
                        view! {
                            <PageHeader title="Welcome back" subtitle="Your access in Slipway, and where to go next." />
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
