//! The four work areas' front pages. Their content arrives area by area; until an area holds
//! anything, its page says what will live there and how it gets there.

use crate::components::common::{EmptyState, ErrorPanel, Loading, PageHeader};
use crate::components::shell::use_user;
use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
fn AreaPage(
    title: &'static str,
    subtitle: &'static str,
    empty: &'static str,
    how: &'static str,
) -> impl IntoView {
    let user = use_user();
    view! {
        <Title text=title />
        <PageHeader title subtitle />
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(_)) => view! {
                        <EmptyState title=empty>
                            <p>{how}</p>
                        </EmptyState>
                    }
                    .into_any(),
                    Ok(None) => view! { <ErrorPanel error=AppError::Unauthorized /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
pub fn ReleasesPage() -> impl IntoView {
    view! {
        <AreaPage
            title="Releases"
            subtitle="Version-locked bundles promoted through environments with sign-off."
            empty="No releases yet"
            how="A release bundles the applications of an application set at exact image digests and promotes them stage by stage, each gate signed off by its stakeholder groups."
        />
    }
}
