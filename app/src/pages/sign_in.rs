//! Sign-in: the configured providers, and the one-click demo users under `--demo`.

use crate::api::session::demo_users;
use crate::components::common::{ErrorPanel, Loading, PageHeader};
#[allow(unused_imports)]
use crate::components::sign_in::*;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn SignInPage() -> AnyView {
    let options = sign_in_options();
    let query = use_query_map();
    let problem = move || query.read().get("error");
    view! {
        <Title text="Sign in" />
        <div class="narrow">
            <PageHeader title="Sign in to Slipway" />
            {move || problem().map(|p| view! { <p class="form-error" role="alert">{sign_in_problem(&p)}</p> })}
            <div class="card">
                <SignInChoices options />
            </div>
        </div>
    }
    .into_any()
}

fn sign_in_problem(code: &str) -> &'static str {
    match code {
        "denied" => "The provider did not let you in. Try again, or choose another way to sign in.",
        "linked" => "That account is already linked to another Slipway user.",
        _ => "Sign-in did not complete. Please try again.",
    }
}

#[component]
pub fn DemoSignInPage() -> AnyView {
    let users = Resource::new(|| (), |_| demo_users());
    view! {
        <Title text="Demo sign-in" />
        <PageHeader
            title="Demo sign-in"
            subtitle="Seeded users, one for each role. Pick one to see Slipway through their eyes."
        />
        <Suspense fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match users.await {
                    Ok(users) => view! {
                        <div class="demo-grid">
                            {users
                                .into_iter()
                                .map(|user| {
                                    let action = format!("/auth/demo/{}", user.login);
                                    let label = format!("Sign in as {}", user.name);
                                    view! {
                                        <form method="post" action=action class="card demo-user">
                                            <div class="demo-head">
                                                <span class="avatar large" aria-hidden="true">
                                                    {user.name.chars().next().unwrap_or('?').to_string()}
                                                </span>
                                                <div>
                                                    <strong>{user.name.clone()}</strong>
                                                    <span class="muted">"@"{user.login.clone()}</span>
                                                </div>
                                            </div>
                                            <div class="demo-groups">
                                                {user.groups.into_iter().map(|g| view! { <span class="badge">{g}</span> }).collect_view()}
                                            </div>
                                            <ul class="grant-list small">
                                                {user.grants.into_iter().map(|g| view! { <li>{g}</li> }).collect_view()}
                                            </ul>
                                            <button type="submit" class="button primary" aria-label=label>
                                                "Sign in"
                                            </button>
                                        </form>
                                    }
                                })
                                .collect_view()}
                        </div>
                    }
                    .into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}
