//! The sign-in choices, on the sign-in page and on the home page for visitors.

use crate::api::session::{get_sign_in_options, SignInOptions};
use crate::components::common::{ErrorPanel, Loading};
use crate::error::AppError;
use leptos::prelude::*;

pub type SignInOptionsResource = Resource<Result<SignInOptions, AppError>>;

/// The configured ways in, fetched by the page itself: a resource made by a component that a
/// `Suspend` renders is made twice on the server when the data it waits for is already there
/// (once to discover what it reads, once to render), so the browser, making it once, would read
/// another resource's data and hydrate against markup it did not render.
pub fn sign_in_options() -> SignInOptionsResource {
    Resource::new(|| (), |_| get_sign_in_options())
}

/// The buttons for every configured way in.
#[component]
pub fn SignInChoices(options: SignInOptionsResource) -> AnyView {
    view! {
        <Suspense fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match options.await {
                    Ok(options) => {
                        let none = options.methods.is_empty() && !options.demo;
                        view! {
                            <div class="sign-in-methods">
                                {options
                                    .methods
                                    .into_iter()
                                    .map(|m| {
                                        view! {
                                            <a class=format!("button provider {}", m.id) href=m.href rel="external">
                                                {format!("Continue with {}", m.label)}
                                            </a>
                                        }
                                    })
                                    .collect_view()}
                                {options.demo.then(|| view! {
                                    <a class="button provider demo" href="/auth/demo">"Try a demo user"</a>
                                })}
                                {none.then(|| view! {
                                    <p class="muted">
                                        "No sign-in method is configured. Set GitHub, Microsoft or OIDC settings, or start Slipway with --demo."
                                    </p>
                                })}
                            </div>
                        }
                        .into_any()
                    }
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}
